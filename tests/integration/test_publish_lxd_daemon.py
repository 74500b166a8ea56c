"""Debian's LXD 5.0 daemon imports what `lxcdn publish` published, served by a running
`lxcdn origin` whose root is <target>/current; after the next publication a fresh daemon gets the
new serial under the same alias, from the same origin process (no restart). The daemon helper
(private LXD_DIR, traffic pinned to loopback, trust through the CLI's certificate pin) is the one
of test_lxd_daemon.py."""
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import serving
from lxcdn_testlib import DemoImage, lxc_remote_conf
from publish_lib import GpgKey, Publisher
from test_lxd_daemon import LxdDaemon, assert_daemon_stored

REMOTE = "pub"


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    k = GpgKey(tmp_path_factory.mktemp("gnupg"))
    yield k
    k.close()


def fresh_daemon():
    assert shutil.which("lxd") and shutil.which("lxc"), \
        "lxd or lxc missing: scripts/install-deps installs the lxd and lxd-client packages"
    assert os.geteuid() == 0, "the LXD daemon test needs root"
    return LxdDaemon(Path(tempfile.mkdtemp(prefix="lxcdn-lxd-pub-", dir="/tmp")))


def copy_alias(origin, alias):
    """A fresh daemon copies REMOTE:alias to local:; returns its image fingerprints."""
    d = fresh_daemon()
    try:
        d.start()
        lxc_remote_conf(d.conf, REMOTE, origin.https, origin.ca)
        d.lxc("image", "copy", f"{REMOTE}:{alias}", "local:", timeout=180)
        return d, sorted(p.name for p in (d.dir / "images").iterdir() if "." not in p.name)
    except BaseException:
        d.destroy()
        raise


def newest_image(root, serial):
    return DemoImage(Path(root) / "images/debian/bookworm/amd64/default" / serial)


def test_daemon_imports_the_published_image_then_the_next_serial(key, certs, tmp_path):
    pub = Publisher(tmp_path / "pub", key, extra="aliases:\n  release_aliases: [\"debian/bookworm=12\"]\n")
    pub.build("20240101_05:24", busybox=True)
    pub.publish()
    origin = serving(tmp_path / "origin", pub.targets[0] / "current", certs)
    seen = []
    try:
        for serial in ("20240101_05:24", "20240102_05:24"):
            if seen:  # the next publication, same origin process
                pub.build(serial, busybox=True)
                pub.publish()
            image = newest_image(pub.targets[0] / "current", serial)
            d, stored = copy_alias(origin, "debian/12")
            try:
                assert stored == [image.fingerprint]
                assert_daemon_stored(d, image)
            finally:
                d.destroy()
            seen.append(image.fingerprint)
    finally:
        origin.stop()
    assert seen[0] != seen[1]
