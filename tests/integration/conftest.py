"""Fixtures for the origin integration tests: a published tree with a secret just outside it,
a test CA, and a running origin (plain and TLS listeners on 127.0.0.1, port 0)."""
import gzip
import hashlib
import json
import os
import shutil
import socket
from pathlib import Path

import pytest

from lxcdn_testlib import Origin, RawConnection, demo_prepare, make_ca_and_cert, origin_yaml

# Every module fails on a sanitizer report in any server's stderr (see sanitizer_check.py).
pytest_plugins = ["sanitizer_check"]

SERIAL_DIR = "images/debian/12/amd64/default/20240101_05:24"


class PublishedTree:
    """A published tree on disk: `root`, `files` (path below root -> bytes served), `secret`
    (a file just outside the root) and `secret_bytes` (bytes no response may ever contain)."""

    def __init__(self, base):
        self.base = Path(base)
        self.root = self.base / "www"
        self.files = {}
        self.secret_bytes = b"LXCDN-SECRET-" + os.urandom(12).hex().encode() + b"-DO-NOT-SERVE"
        self.secret = self.base / "secret.txt"
        self.secret.write_bytes(self.secret_bytes)

    def add(self, rel, data, mtime=None):
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        if mtime is not None:
            os.utime(p, (mtime, mtime))
        self.files[rel] = data
        return p

    def add_json_with_gzip(self, rel, obj, gz_age=0):
        """Writes REL (JSON) and REL.gz beside it; gz_age > 0 makes the .gz that much older."""
        text = json.dumps(obj, indent=2, sort_keys=True).encode()
        p = self.add(rel, text)
        gz = self.add(rel + ".gz", gzip.compress(text, mtime=0))
        if gz_age:
            st = p.stat()
            os.utime(gz, (st.st_mtime - gz_age, st.st_mtime - gz_age))
        return text

    def sha256(self, rel):
        return hashlib.sha256(self.files[rel]).hexdigest()


def sample_products(n):
    """A products document of roughly n versions: compressible, realistic field names."""
    versions = {
        f"202401{d:02d}_05:24": {"items": {
            "incus.tar.xz": {"ftype": "incus.tar.xz", "size": 1024 + d, "path": f"{SERIAL_DIR}/incus.tar.xz",
                             "sha256": hashlib.sha256(str(d).encode()).hexdigest()}}}
        for d in range(1, n + 1)}
    return {"content_id": "images", "datatype": "image-downloads", "format": "products:1.0",
            "products": {"debian:12:amd64:default": {"arch": "amd64", "os": "Debian", "release": "12",
                                                     "release_title": "bookworm", "aliases": "debian/12",
                                                     "versions": versions}}}


def build_tree(base, large_size=16 << 20):
    t = PublishedTree(base)
    t.index_text = t.add_json_with_gzip("streams/v1/index.json", {
        "format": "index:1.0", "index": {"images": {"datatype": "image-downloads",
                                                    "path": "streams/v1/images.json",
                                                    "products": ["debian:12:amd64:default"]}}})
    t.images_text = t.add_json_with_gzip("streams/v1/images.json", sample_products(28))
    t.add_json_with_gzip("streams/v1/stale.json", sample_products(5), gz_age=3600)
    t.add("streams/v1/nogz.json", json.dumps(sample_products(4)).encode())
    t.add("streams/v1/.images.json.tmp.1", t.secret_bytes)
    t.add(f"{SERIAL_DIR}/incus.tar.xz", os.urandom(4096))
    t.add(f"{SERIAL_DIR}/rootfs.squashfs", os.urandom(large_size))
    t.add(f"{SERIAL_DIR}/SHA256SUMS", b"0" * 64 + b"  rootfs.squashfs\n")
    t.add("images/.git/config", t.secret_bytes)
    t.add("images/debian/.hidden", t.secret_bytes)
    t.add(".htpasswd", t.secret_bytes)
    t.add("hello.txt", b"hello from the origin\n")
    t.add("empty.json", b"")
    return t


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    """(ca_cert, server_chain, server_key) of a test CA and a server certificate for
    127.0.0.1, ::1 and localhost."""
    return make_ca_and_cert(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return build_tree(tmp_path_factory.mktemp("tree"))


def serving(workdir, root, certs, extra=""):
    """Starts an origin serving `root` on 127.0.0.1 (plain and TLS) with `extra` YAML appended.
    Attributes as in Origin plus host and ca. The caller stops it."""
    ca, chain, key = certs
    o = Origin(workdir, origin_yaml(root, chain, key, extra=extra)).start()
    o.host, o.ca = "127.0.0.1", ca
    return o


@pytest.fixture(scope="module")
def origin(tree, certs, tmp_path_factory):
    """An origin serving `tree` with default limits."""
    o = serving(tmp_path_factory.mktemp("origin"), tree.root, certs)
    yield o
    o.stop()


@pytest.fixture(scope="module")
def demo_tree(tmp_path_factory):
    """A tree built and indexed by `lxcdn demo --prepare-only` (DemoTree), for the real-client
    tests (which need the `lxc` CLI)."""
    assert shutil.which("lxc"), "the lxc CLI is missing: scripts/install-deps installs lxd-client"
    return demo_prepare(tmp_path_factory.mktemp("demo"))


def keep_alive_connections(port, n, path="/hello.txt"):
    """Opens n connections to 127.0.0.1:port and completes one request on each, leaving them idle
    in keep-alive. Returns the RawConnections; the caller closes them."""
    conns = []
    for _ in range(n):
        c = RawConnection("127.0.0.1", port)
        conns.append(c)
        c.get(path)
        assert c.read_response().status == 200
    return conns


def ipv6_loopback_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False
