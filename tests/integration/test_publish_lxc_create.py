"""LXC's `lxc-create -t download` (Debian's lxc 5.0.2) creates a container root filesystem from
the legacy index `lxcdn publish` wrote, served by `lxcdn origin` over HTTPS: the template fetches
/meta/1.0/index-system.7 (404, its compat level), then index-system, then `//images/...//
rootfs.tar.xz` and `meta.tar.xz` with wget, which trusts the test CA through a WGETRC file. This
version checks no hash and no signature, so the bytes it unpacks are compared with the build here."""
import os
import shutil
import subprocess

import pytest

from conftest import serving
from publish_lib import GpgKey, Publisher


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    k = GpgKey(tmp_path_factory.mktemp("gnupg"))
    yield k
    k.close()


def test_lxc_create_download_builds_a_rootfs_from_the_legacy_index(key, certs, tmp_path):
    assert shutil.which("lxc-create"), "lxc-create missing: scripts/install-deps installs lxc"
    assert os.geteuid() == 0, "lxc-create as used here needs root"
    pub = Publisher(tmp_path / "pub", key)
    pub.build("20240101_05:24", lxc=True, busybox=True)
    pub.build("20240102_05:24", lxc=True, busybox=True)
    pub.publish()
    root = pub.targets[0] / "current"
    origin = serving(tmp_path / "origin", root, certs, extra="access_log: true\n")
    try:
        wgetrc = tmp_path / "wgetrc"
        wgetrc.write_text(f"ca_certificate = {origin.ca}\n")
        env = dict(os.environ, WGETRC=str(wgetrc), LXC_CACHE_PATH=str(tmp_path / "cache"))
        lxcpath = tmp_path / "lxc"
        lxcpath.mkdir()
        p = subprocess.run(["lxc-create", "-P", str(lxcpath), "-n", "c1", "-t", "download", "--",
                            "--server", f"127.0.0.1:{origin.https_port}", "-d", "debian",
                            "-r", "bookworm", "-a", "amd64", "--flush-cache"],
                           env=env, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, f"{p.stdout}\n{p.stderr}\n{origin.stderr_text()[-3000:]}"
        rootfs = lxcpath / "c1/rootfs"
        # The newest build's files, unpacked: its own /etc/build and the busybox binary.
        assert (rootfs / "etc/build").read_text() == "debian bookworm amd64 default 20240102_05:24\n"
        assert (rootfs / "bin/busybox").read_bytes() == open(shutil.which("busybox"), "rb").read()
        config = (lxcpath / "c1/config").read_text()
        assert "lxc.arch = x86_64" in config and "lxc.uts.name = c1" in config
        log = origin.stderr_text()
        assert "GET //meta/1.0/index-system.7 404" in log  # its compat level: none published
        assert "GET //meta/1.0/index-system 200" in log
        assert "GET //images/debian/bookworm/amd64/default/20240102_05:24//rootfs.tar.xz 200" in log
    finally:
        origin.stop()
