"""Helpers of the hostile-input tests (test_hostile_*.py, test_mirror_open_proxy.py,
test_tls_surface.py): an origin and a mirror in front of it, both with short header and handshake
deadlines, a secret just outside every served directory, raw exchanges that report what the
server did (answered, closed, stalled), and the check every one of those tests ends with: the
process is alive, its stderr holds no sanitizer report, and a normal client is still served."""
import os
import re
import socket
import ssl
import time
from pathlib import Path

import pytest

from lxcdn_testlib import (Mirror, Origin, client_tls_context, indexed_tree, mirror_yaml, origin_yaml,
                           run)

BUILD = "images/debian/12/amd64/default/20240101_05:24"
IMAGE = f"/{BUILD}/incus.tar.xz"  # listed in the index: what a normal mirror client fetches
HELLO = "/hello.txt"  # what a normal origin client fetches
SMUGGLED = "/streams/v1/smuggled.json"  # only ever asked for inside a request body

# Short deadlines so that a stalled hostile client costs a test seconds, not minutes.
LIMITS = "limits:\n  header_timeout: 2s\n  tls_handshake_timeout: 2s\n  idle_timeout: 5s\n"
SANITIZER_RE = re.compile(r"(?i)(AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|"
                          r"ThreadSanitizer|runtime error:|==\d+==ERROR)")


class Site:
    """A published tree for hostile tests: `root` (www/), `secret` and `secret_bytes` (a file
    beside the root and beside the mirror's cache directory, which no response may contain),
    `files` (path below root -> bytes) and escaping symlinks inside the root
    (`symlink_targets`, request paths that lead out of it)."""

    def __init__(self, base):
        self.base = Path(base)
        self.root = self.base / "www"
        self.secret_bytes = b"LXCDN-SECRET-" + os.urandom(12).hex().encode() + b"-DO-NOT-SERVE"
        self.secret = self.base / "secret.txt"
        self.secret.write_bytes(self.secret_bytes)
        outside = self.base / "outside"
        outside.mkdir()
        (outside / "secret2.txt").write_bytes(self.secret_bytes)
        self.files = indexed_tree(self.root, [(BUILD, 2048, 8192)], extra_files={
            "hello.txt": b"hello from the origin\n",
            SMUGGLED[1:]: b"SMUGGLED-" + os.urandom(8).hex().encode(),
            "images/.git/config": self.secret_bytes,
            "images/debian/.hidden": self.secret_bytes,
        })
        self.smuggled_bytes = self.files[SMUGGLED[1:]]
        # Symlinks made after indexing (the index only lists build files anyway).
        img = self.root / "images"
        os.symlink("../../secret.txt", img / "link-out")
        os.symlink(str(self.secret), img / "abs-link")
        os.symlink(str(outside), img / "dir-out")
        os.symlink("dir-out", img / "link-dir-chain")
        os.symlink("/etc/passwd", img / "passwd-link")
        os.symlink("..", img / "up")
        os.symlink("loop-b", img / "loop-a")
        os.symlink("loop-a", img / "loop-b")
        os.symlink("../../../secret.txt", self.root / BUILD / "rootfs.link")
        assert (img / "link-out").read_bytes() == self.secret_bytes  # the links really escape
        self.symlink_targets = [
            b"/images/link-out", b"/images/abs-link", b"/images/dir-out/secret2.txt",
            b"/images/link-dir-chain/secret2.txt", b"/images/passwd-link", b"/images/up/secret.txt",
            b"/images/up/up/secret.txt", b"/images/loop-a", b"/images/dir-out/../secret.txt",
            f"/{BUILD}/rootfs.link".encode(), b"/images/dir-out%2fsecret2.txt",
        ]
        # images/up -> .. stays inside the root: a symlink within the root is followed.
        self.inside_symlink = b"/images/up/hello.txt"


def start_pair(base, site, certs, origin_extra="", mirror_extra=""):
    """An origin serving `site` (plain and TLS, access log on) and a mirror of it (plain and TLS,
    access log on, cache in base/cache beside the secret). Returns (origin, mirror), started;
    the caller stops them. Attributes added: host, ca, and for the mirror cache_dir."""
    ca, chain, key = certs
    o = Origin(Path(base) / "origin", origin_yaml(site.root, chain, key,
                                                  extra="access_log: true\n" + LIMITS + origin_extra))
    o.start()
    cache = site.base / "cache"
    m = Mirror(Path(base) / "mirror", mirror_yaml(cache, o.https, ca_file=ca, cert=chain, key=key,
                                                  extra="access_log: true\n" + LIMITS + mirror_extra),
               cache_dir=cache)
    try:
        m.start()
        m.wait_index_loaded()
    except BaseException:
        o.stop()
        raise
    for s in (o, m):
        s.host, s.ca = "127.0.0.1", ca
    return o, m


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A Site for the module (import it into a test module to use it)."""
    return Site(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def pair(site, certs, tmp_path_factory):
    """(origin, mirror) of start_pair for the module, with the session's test CA (`certs`)."""
    o, m = start_pair(tmp_path_factory.mktemp("servers"), site, certs)
    yield o, m
    m.stop()
    o.stop()


class Exchange:
    """What the server did with some bytes: `data` (every byte it sent), `closed` (it closed
    the connection; a reset counts), `elapsed` (seconds until it closed, or the timeout),
    `status` (of the first response, or None) and `statuses` (of every status line seen)."""

    def __init__(self, data, closed, elapsed):
        self.data, self.closed, self.elapsed = data, closed, elapsed
        self.statuses = [int(s) for s in re.findall(rb"(?:^|\r\n)HTTP/1\.[01] (\d{3}) ", data)]
        self.status = self.statuses[0] if self.statuses else None

    def __repr__(self):
        return (f"<Exchange status={self.status} statuses={self.statuses} closed={self.closed} "
                f"after {self.elapsed:.2f}s: {self.data[:300]!r}>")


def exchange(port, raw, tls=None, timeout=6, half_close=False, host="127.0.0.1"):
    """Connects to host:port (over TLS if `tls` is an SSLContext), sends `raw` (bytes, or a list
    of bytes sent one after the other), optionally shuts down the write side, and reads until the
    server closes or `timeout` seconds pass. Never raises on what the server does."""
    s = socket.create_connection((host, port), timeout=timeout)
    start = time.monotonic()
    data, closed = b"", False
    try:
        if tls is not None:
            s = tls.wrap_socket(s, server_hostname="localhost")
        for part in raw if isinstance(raw, list) else [raw]:
            try:
                s.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break
        if half_close:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        while True:
            left = timeout - (time.monotonic() - start)
            if left <= 0:
                break
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                closed = True
                break
            except (socket.timeout, TimeoutError):
                break
            except ssl.SSLError as e:
                if "EOF" in str(e) or "UNEXPECTED_EOF" in str(e) or "RECORD" in str(e):
                    closed = True
                    break
                raise
            if not chunk:
                closed = True
                break
            data += chunk
    finally:
        s.close()
    return Exchange(data, closed, time.monotonic() - start)


def get(port, path, tls=None, timeout=10, headers=()):
    """A normal client's request on a fresh connection (Connection: close): (status, headers
    text, body)."""
    head = f"GET {path} HTTP/1.1\r\nHost: lxcdn.test\r\nConnection: close\r\n"
    head += "".join(h + "\r\n" for h in headers) + "\r\n"
    x = exchange(port, head.encode(), tls=tls, timeout=timeout)
    assert x.closed, f"a Connection: close request was not closed: {x}"
    h, sep, body = x.data.partition(b"\r\n\r\n")
    assert sep, f"no response head: {x}"
    return x.status, h.decode("latin-1"), body


def stderr_of(server):
    """The server's stderr as text; bytes that are not UTF-8 (which the access log no longer
    writes, see test_raw_bytes_of_a_target_are_escaped_in_the_access_log) are replaced."""
    return server.log.read_bytes().decode("utf-8", errors="replace")


def assert_healthy(server, site):
    """The check every hostile test ends with: the process runs, its stderr has no sanitizer
    report, and a normal client still gets exact bytes over plain HTTP and TLS."""
    assert server.proc.poll() is None, \
        f"{server.role} exited with {server.proc.returncode}; stderr:\n{stderr_of(server)[-3000:]}"
    text = stderr_of(server)
    report = SANITIZER_RE.search(text)
    assert report is None, f"sanitizer report in the {server.role}'s stderr:\n" \
                           f"{text[max(0, report.start() - 200):][:3000]}"
    path = HELLO if server.role == "origin" else IMAGE
    want = site.files[path[1:]]
    for tls in (None, client_tls_context(server.ca)):
        port = server.https_port if tls else server.http_port
        status, _, body = get(port, path, tls=tls)
        assert (status, body) == (200, want), (server.role, "tls" if tls else "plain", status, body[:200])


def response_statuses(data):
    return [int(s) for s in re.findall(rb"(?:^|\r\n)HTTP/1\.[01] (\d{3}) ", data)]


def access_log_targets(server):
    """Request targets in the access log of an origin or a mirror (`access_log: true`)."""
    out = []
    for line in stderr_of(server).splitlines():
        m = re.search(r"\] \S+ [A-Z]+ (\S+) ", line)
        if m:
            out.append(m.group(1))
    return out


class Trap:
    """A listening socket that only counts the connections it receives: a place a request may
    name (Host, absolute-form authority, CONNECT) that nothing may ever connect to. Use as a
    context manager."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.authority = f"127.0.0.1:{self.port}"

    def connections(self):
        n = 0
        while True:
            try:
                c, _ = self.sock.accept()
            except BlockingIOError:
                return n
            c.close()
            n += 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()


def make_rsa_cert(directory, hosts=("127.0.0.1", "localhost")):
    """A self-signed CA and an RSA-2048 server certificate signed by it (so that RSA key
    exchange and RSA-authenticated suites are possible at all). Returns (ca, chain, key)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    ca_key, ca = d / "ca.key", d / "ca.crt"
    run(["openssl", "req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key),
         "-out", str(ca), "-days", "30", "-subj", "/CN=lxcdn RSA test CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"])
    key, csr, crt, ext = d / "server.key", d / "server.csr", d / "server.crt", d / "server.ext"
    sans = ",".join(("IP:" if re.match(r"^[0-9.:]+$", h) else "DNS:") + h for h in hosts)
    ext.write_text(f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\n"
                   "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
         "-subj", f"/CN={hosts[0]}"])
    run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
         "-CAcreateserial", "-out", str(crt), "-days", "30", "-extfile", str(ext)])
    chain = d / "server.chain.crt"
    chain.write_text(crt.read_text() + ca.read_text())
    return ca, chain, key
