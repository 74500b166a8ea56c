"""`lxcdn publish` end to end: real small builds go from an incoming directory to a signed,
verified generation on a target, served by a real `lxcdn origin` whose root is <target>/current,
and checked with the stock `lxc` CLI and `gpg --verify`. Expected hashes and fingerprints are
computed here from the files on disk."""
import hashlib
import json
import subprocess

import pytest

from conftest import serving
from lxcdn_testlib import DemoImage, lxc, lxc_export_and_verify, lxc_image_fingerprint, lxc_remote_conf
from publish_lib import GpgKey, Publisher, check_generation, sha256_file, summary_counts

REMOTE = "pub"
POLICY = """aliases:
  release_aliases: ["debian/bookworm=12"]
requirements:
  - match: debian/bookworm/cloud
    set: ["secureboot=false"]
"""


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    k = GpgKey(tmp_path_factory.mktemp("gnupg"))
    yield k
    k.close()


@pytest.fixture(scope="module")
def published(key, tmp_path_factory):
    """Three builds (busybox inside) published to one target; returns the Publisher and the
    first run's stdout."""
    pub = Publisher(tmp_path_factory.mktemp("publish"), key, extra=POLICY)
    pub.build("20240101_05:24", busybox=True)
    pub.build("20240101_05:24", variant="cloud", busybox=True)
    pub.build("20240101_05:24", arch="arm64", busybox=True)
    p = pub.publish()
    pub.first_stdout = p.stdout
    return pub


@pytest.fixture(scope="module")
def origin(published, certs, tmp_path_factory):
    o = serving(tmp_path_factory.mktemp("origin"), published.targets[0] / "current", certs)
    yield o
    o.stop()


@pytest.fixture(scope="module")
def conf(origin, tmp_path_factory):
    return lxc_remote_conf(tmp_path_factory.mktemp("lxc-conf"), REMOTE, origin.https, origin.ca)


def images_on(root):
    return sorted((DemoImage(p.parent) for p in root.glob("images/*/*/*/*/*/incus.tar.xz")),
                  key=lambda i: i.alias)


def test_first_run_adds_every_build_and_empties_incoming(published):
    counts = summary_counts(published.first_stdout)
    assert counts == {"added": 3, "retired": 0, "deleted": 0, "skipped": 0, "hashed": 3, "reused": 0}
    assert "target  " + str(published.targets[0]) + ": switched to 00000001" in published.first_stdout
    assert list(published.incoming.iterdir()) == []
    assert published.generation(published.targets[0]) == "00000001"


def test_layout_and_sha256sums(published):
    root = published.current(published.targets[0])
    dirs = sorted(p.relative_to(root).as_posix() for p in root.glob("images/*/*/*/*/*"))
    assert dirs == ["images/debian/bookworm/amd64/cloud/20240101_05:24",
                    "images/debian/bookworm/amd64/default/20240101_05:24",
                    "images/debian/bookworm/arm64/default/20240101_05:24"]
    for d in dirs:
        sums = (root / d / "SHA256SUMS").read_text().splitlines()
        expected = [f"{sha256_file(root / d / n)}  {n}" for n in ("incus.tar.xz", "rootfs.squashfs")]
        assert sums == expected
        assert sorted(p.name for p in (root / d).iterdir()) == ["SHA256SUMS", "incus.tar.xz", "rootfs.squashfs"]
    assert not (root / "images/debian/bookworm/amd64/default/20240101_05:24/.complete").exists()


def test_index_has_lxd_and_incus_items_for_the_same_file(published):
    root = published.current(published.targets[0])
    images = check_generation(root)
    product = images["products"]["debian:bookworm:amd64:default"]
    items = product["versions"]["20240101_05:24"]["items"]
    lxd, incus = items["lxd.tar.xz"], items["incus.tar.xz"]
    assert lxd["ftype"] == "lxd.tar.xz" and incus["ftype"] == "incus.tar.xz"
    assert {k: v for k, v in lxd.items() if k != "ftype"} == {k: v for k, v in incus.items() if k != "ftype"}
    meta = (root / incus["path"]).read_bytes()
    rootfs = (root / items["root.squashfs"]["path"]).read_bytes()
    assert incus["combined_squashfs_sha256"] == hashlib.sha256(meta + rootfs).hexdigest()


def test_aliases_and_requirements_follow_the_policy(published):
    images = check_generation(published.current(published.targets[0]))["products"]
    assert images["debian:bookworm:amd64:default"]["aliases"] == \
        "debian/bookworm/default,debian/bookworm,debian/12/default,debian/12"
    assert images["debian:bookworm:amd64:cloud"]["aliases"] == "debian/bookworm/cloud,debian/12/cloud"
    assert images["debian:bookworm:amd64:cloud"]["requirements"] == {"secureboot": "false"}
    assert images["debian:bookworm:amd64:default"]["requirements"] == {}


def test_gpg_verify_accepts_every_signature(published, key):
    streams = published.current(published.targets[0]) / "streams/v1"
    for name in ("index", "images"):
        clear = key.verify(streams / f"{name}.sjson")
        assert clear.returncode == 0, clear.stderr
        assert f"VALIDSIG {key.fingerprint}" in clear.stdout
        detached = key.verify(streams / f"{name}.json.gpg", streams / f"{name}.json")
        assert detached.returncode == 0, detached.stderr
        assert f"VALIDSIG {key.fingerprint}" in detached.stdout
    # The clearsigned index points at the clearsigned products file (simplestreams' convention).
    body = subprocess.run(["gpg", "--batch", "--decrypt", str(streams / "index.sjson")], env=key.env,
                          capture_output=True, text=True, check=True).stdout
    assert json.loads(body)["index"]["images"]["path"] == "streams/v1/images.sjson"
    # A changed byte fails the detached signature.
    tampered = streams.parent.parent.parent / "tampered.json"
    tampered.write_bytes((streams / "images.json").read_bytes().replace(b"Debian", b"Devian"))
    assert key.verify(streams / "images.json.gpg", tampered).returncode != 0


def test_lxc_lists_the_published_fingerprints(published, conf):
    expected = images_on(published.current(published.targets[0]))
    listed = json.loads(lxc(["image", "list", f"{REMOTE}:", "--format", "json"], conf).stdout)
    assert sorted(i["fingerprint"] for i in listed) == sorted(i.fingerprint for i in expected)
    for entry in listed:
        assert entry["properties"]["serial"] == "20240101_05:24"


@pytest.mark.parametrize("alias, arch, variant", [
    ("debian/12", "amd64", "default"),
    ("debian/bookworm", "amd64", "default"),
    ("debian/12/cloud", "amd64", "cloud"),
    ("debian/bookworm/arm64", "arm64", "default"),
])
def test_lxc_resolves_the_configured_aliases(published, conf, alias, arch, variant):
    (image,) = [i for i in images_on(published.current(published.targets[0]))
                if i.arch == arch and i.variant == variant]
    info = lxc(["image", "info", f"{REMOTE}:{alias}"], conf).stdout
    assert lxc_image_fingerprint(info) == image.fingerprint


def test_lxc_export_downloads_files_matching_the_fingerprint(published, conf, tmp_path):
    for image in images_on(published.current(published.targets[0])):
        lxc_export_and_verify(conf, REMOTE, image, tmp_path / image.alias.replace("/", "_"))


def test_the_origin_follows_the_switch_without_a_restart(published, origin, conf, tmp_path):
    """A second publication adds a newer serial; the running origin serves it at once and the
    CLI resolves the alias to it (a fresh LXD_CONF: the CLI caches the index for an hour)."""
    published.build("20240102_05:24", busybox=True)
    p = published.publish()
    assert summary_counts(p.stdout)["added"] == 1
    new = [i for i in images_on(published.current(published.targets[0]))
           if i.serial == "20240102_05:24"]
    assert len(new) == 1
    fresh = lxc_remote_conf(tmp_path / "conf2", REMOTE, origin.https, origin.ca)
    info = lxc(["image", "info", f"{REMOTE}:debian/12"], fresh).stdout
    assert lxc_image_fingerprint(info) == new[0].fingerprint
    lxc_export_and_verify(fresh, REMOTE, new[0], tmp_path / "export")


def test_a_squashfs_delta_is_published_against_the_previous_serial(published, tmp_path):
    root = published.current(published.targets[0])
    images = check_generation(root)
    items = images["products"]["debian:bookworm:amd64:default"]["versions"]["20240102_05:24"]["items"]
    delta = items["delta-20240101_05:24.vcdiff"]
    assert delta["ftype"] == "squashfs.vcdiff" and delta["delta_base"] == "20240101_05:24"
    old = root / "images/debian/bookworm/amd64/default/20240101_05:24/rootfs.squashfs"
    out = tmp_path / "rebuilt.squashfs"
    subprocess.run(["xdelta3", "-d", "-s", str(old), str(root / delta["path"]), str(out)], check=True)
    assert sha256_file(out) == items["root.squashfs"]["sha256"]
    sums = (root / "images/debian/bookworm/amd64/default/20240102_05:24/SHA256SUMS").read_text()
    assert f"{delta['sha256']}  delta-20240101_05:24.vcdiff" in sums
