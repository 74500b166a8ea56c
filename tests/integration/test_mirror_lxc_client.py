"""The stock `lxc` CLI (Debian's lxd-client) downloading through origin -> mirror.

Two origins serve the same `lxcdn demo` tree, as origin nodes do: the front one, the client's
remote, answers image requests with a static 302 to the mirror (`redirect_images_to`); the mirror
fills from the other one over verified TLS 1.3 with `X-LXC-No-GeoIP: on`. (The mirror needs its
upstream's port and the front origin the mirror's, so with port 0 everywhere they cannot be one
process.) Expected hashes are computed here from the files on disk, never read from lxcdn.
"""
import re

import pytest

from lxcdn_testlib import (Mirror, Origin, access_log_targets, lxc_export_and_verify,
                           lxc_remote_conf, mirror_yaml, split_url)

REMOTE = "demo"


@pytest.fixture(scope="module")
def chain(demo_tree, tmp_path_factory):
    """(front origin, mirror, upstream origin), all on 127.0.0.1, access logs on."""
    config = demo_tree.config.read_text()
    cert = re.search(r'certificate: "([^"]+)"', config).group(1)
    key = re.search(r'key: "([^"]+)"', config).group(1)
    # The upstream redirects image requests too, except those with X-LXC-No-GeoIP: on, so a 200
    # in its access log shows the mirror sent the header (without it the fill would meet a 302).
    upstream = Origin(tmp_path_factory.mktemp("upstream"),
                      config + "access_log: true\nredirect_images_to: \"mirror.invalid:1\"\n").start()
    cache_dir = tmp_path_factory.mktemp("mirror") / "cache"
    # One TLS listener: like the origin's, it serves plain HTTP too, so the 302's scheme (the
    # client's) works either way.
    text = mirror_yaml(cache_dir, upstream.https, ca_file=demo_tree.ca, cert=cert, key=key, plain=False)
    mirror = Mirror(cache_dir.parent / "run", text, cache_dir=cache_dir).start()
    _, host, port = split_url(mirror.https)
    front = Origin(tmp_path_factory.mktemp("front"),
                   config + f"access_log: true\nredirect_images_to: \"{host}:{port}\"\n").start()
    yield front, mirror, upstream
    for p in (front, mirror, upstream):
        p.stop()


@pytest.fixture(scope="module")
def conf(demo_tree, chain, tmp_path_factory):
    return lxc_remote_conf(tmp_path_factory.mktemp("lxc-conf"), REMOTE, chain[0].https, demo_tree.ca)


def image_paths(image, www):
    return {"/" + str(p.relative_to(www)) for p in (image.meta, image.root)}


def test_lxc_image_export_goes_origin_to_mirror_and_verifies(demo_tree, chain, conf, tmp_path):
    front, mirror, upstream = chain
    image = demo_tree.images[0]
    paths = image_paths(image, demo_tree.www)

    lxc_export_and_verify(conf, REMOTE, image, tmp_path / "first")
    metrics = mirror.metrics()
    assert metrics["lxcdn_mirror_misses_total"] == 2  # metadata and rootfs, filled by the mirror
    assert metrics["lxcdn_mirror_fills_committed_total"] == 2
    # The front origin served the index but no image file: those were redirected.
    front_gets = access_log_targets(front.stderr_text())
    assert any(t.startswith("/streams/v1/") and s == 200 for t, s in front_gets), front_gets
    assert not [t for t, s in front_gets if t.startswith("/images/")], front_gets
    # The upstream origin served each file once, to the mirror: with X-LXC-No-GeoIP: on, or its
    # own redirect rule would have answered 302 (not logged) instead.
    upstream_images = sorted(t for t, s in access_log_targets(upstream.stderr_text())
                             if t.startswith("/images/") and s == 200)
    assert upstream_images == sorted(paths)

    lxc_export_and_verify(conf, REMOTE, image, tmp_path / "second")
    assert mirror.metric("lxcdn_mirror_hits_total") == 2
    assert sorted(t for t, s in access_log_targets(upstream.stderr_text())
                  if t.startswith("/images/")) == sorted(paths)
