"""The stock `lxc` CLI (Debian's lxd-client, LXD 5.0) against `lxcdn origin`, no daemon involved.

The origin serves a tree built and indexed by `lxcdn demo --prepare-only` with the config the demo
wrote (ports set to 0 here). Expected fingerprints are computed in this file with hashlib over the
files on disk, never read from lxcdn's index. The remote URL has a port other than 443, so the
CLI's plain-HTTP first attempt for image files lands on the TLS port (served there as plain HTTP).
"""
import json

import pytest

from lxcdn_testlib import Origin, lxc, lxc_export_and_verify, lxc_image_fingerprint, lxc_remote_conf

REMOTE = "demo"
KERNEL_ARCH = {"amd64": "x86_64", "arm64": "aarch64"}


@pytest.fixture(scope="module")
def demo_origin(demo_tree, tmp_path_factory):
    """`lxcdn origin` running the demo's own origin.yaml (absolute paths), on ports 0."""
    config = demo_tree.config.read_text()
    assert config.count("port: 0") == 2, config  # --https-port 0 --http-port 0 reached the config
    with Origin(tmp_path_factory.mktemp("origin"), config) as o:
        yield o


@pytest.fixture(scope="module")
def conf(demo_tree, demo_origin, tmp_path_factory):
    """An LXD_CONF with remote REMOTE -> the origin's https URL, trusted through the per-remote
    certificate pin servercerts/REMOTE.crt (the way `lxcdn demo` tells users to)."""
    return lxc_remote_conf(tmp_path_factory.mktemp("lxc-conf"), REMOTE, demo_origin.https, demo_tree.ca)


def image_by(demo_tree, arch, variant):
    (image,) = [i for i in demo_tree.images if i.arch == arch and i.variant == variant]
    return image


def test_demo_tree_holds_two_architectures_and_two_variants(demo_tree):
    products = sorted((i.os, i.release, i.arch, i.variant) for i in demo_tree.images)
    assert products == [("busybox", "1.35", "amd64", "default"), ("busybox", "1.35", "amd64", "tiny"),
                        ("busybox", "1.35", "arm64", "default")]
    assert all(":" in i.serial and i.serial[:8].isdigit() for i in demo_tree.images)
    assert len({i.fingerprint for i in demo_tree.images}) == len(demo_tree.images)


def test_image_list_shows_exactly_the_demo_fingerprints(demo_tree, conf):
    listed = json.loads(lxc(["image", "list", f"{REMOTE}:", "--format", "json"], conf).stdout)
    assert sorted(i["fingerprint"] for i in listed) == sorted(i.fingerprint for i in demo_tree.images)
    by_fp = {i.fingerprint: i for i in demo_tree.images}
    for entry in listed:
        image = by_fp[entry["fingerprint"]]
        assert entry["architecture"] == KERNEL_ARCH[image.arch]
        assert entry["size"] == image.size
        assert entry["type"] == "container"
        assert entry["properties"]["serial"] == image.serial
        assert entry["properties"]["variant"] == image.variant
        assert entry["properties"]["release"] == image.release


def test_image_list_table_names_every_image(demo_tree, conf):
    table = lxc(["image", "list", f"{REMOTE}:"], conf).stdout
    for image in demo_tree.images:
        assert image.fingerprint[:12] in table


@pytest.mark.parametrize("alias, arch, variant", [
    ("busybox/1.35", "amd64", "default"),          # the CLI picks its own architecture (x86_64)
    ("busybox/1.35/default", "amd64", "default"),
    ("busybox/1.35/arm64", "arm64", "default"),    # <alias>/<arch>, synthesised by the client
    ("busybox/1.35/tiny", "amd64", "tiny"),
    ("busybox/1.35/tiny/amd64", "amd64", "tiny"),
])
def test_image_info_resolves_aliases(demo_tree, conf, alias, arch, variant):
    info = lxc(["image", "info", f"{REMOTE}:{alias}"], conf).stdout
    assert lxc_image_fingerprint(info) == image_by(demo_tree, arch, variant).fingerprint
    assert f"Architecture: {KERNEL_ARCH[arch]}" in info


def test_image_info_resolves_a_fingerprint_prefix(demo_tree, conf):
    for image in demo_tree.images:
        info = lxc(["image", "info", f"{REMOTE}:{image.fingerprint[:12]}"], conf).stdout
        assert lxc_image_fingerprint(info) == image.fingerprint


def test_image_info_of_an_unknown_alias_fails(conf):
    p = lxc(["image", "info", f"{REMOTE}:busybox/9.99"], conf, check=False)
    assert p.returncode != 0
    assert "couldn't be found" in p.stderr


def test_image_export_downloads_files_matching_the_fingerprint(demo_tree, conf, tmp_path):
    for image in demo_tree.images:
        lxc_export_and_verify(conf, REMOTE, image, tmp_path / image.alias.replace("/", "_"))


def test_ssl_cert_file_trusts_the_ca_without_a_pin(demo_tree, demo_origin, tmp_path):
    """The other way to trust the demo CA for the CLI: SSL_CERT_FILE (Go's system pool). Without it
    or a pin the CLI refuses the certificate, so the trust above is not an accident."""
    conf = tmp_path / "conf"
    conf.mkdir()
    lxc(["remote", "add", "plain", demo_origin.https, "--protocol=simplestreams"], conf)

    refused = lxc(["image", "list", "plain:", "--format", "json"], conf, check=False)
    assert refused.returncode != 0
    assert "certificate signed by unknown authority" in refused.stderr

    listed = json.loads(lxc(["image", "list", "plain:", "--format", "json"], conf,
                            ssl_cert_file=demo_tree.ca).stdout)
    assert sorted(i["fingerprint"] for i in listed) == sorted(i.fingerprint for i in demo_tree.images)
