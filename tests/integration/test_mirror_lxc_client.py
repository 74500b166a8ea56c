"""The stock `lxc` CLI (Debian's lxd-client) downloading through origin -> mirror.

Two origins serve the same `lxcdn demo` tree, as origin nodes do: the front one, the client's
remote, redirects image requests to the mirror (its only mirror; loopback clients are placed in
its country by `geoip.overrides`, and it must pass the front's health checks first); the mirror
fills from the other one over verified TLS 1.3 with `X-LXC-No-GeoIP: on`. (The mirror needs its
upstream's port and the front origin the mirror's, so with port 0 everywhere they cannot be one
process.) Expected hashes are computed here from the files on disk, never read from lxcdn.
"""
import json

import pytest

from geo_helpers import demo_cert_and_key
from lxcdn_testlib import (Mirror, Origin, access_log_targets, http_request,
                           lxc_export_and_verify, lxc_remote_conf, mirror_yaml, parse_metrics,
                           split_url, wait_until)

REMOTE = "demo"


@pytest.fixture(scope="module")
def chain(demo_tree, tmp_path_factory):
    """(front origin, mirror, upstream origin), all on 127.0.0.1, access logs on."""
    config = demo_tree.config.read_text()
    cert, key = demo_cert_and_key(config)
    upstream = Origin(tmp_path_factory.mktemp("upstream"), config + "access_log: true\n").start()
    cache_dir = tmp_path_factory.mktemp("mirror") / "cache"
    # One TLS listener: like the origin's, it serves plain HTTP too, so the 302's scheme (the
    # client's) works either way.
    text = mirror_yaml(cache_dir, upstream.https, ca_file=demo_tree.ca, cert=cert, key=key, plain=False)
    mirror = Mirror(cache_dir.parent / "run", text, cache_dir=cache_dir).start()
    _, host, port = split_url(mirror.https)
    front = Origin(tmp_path_factory.mktemp("front"), config + f"""access_log: true
geoip:
  overrides:
    - network: 127.0.0.0/8
      country: DE
mirrors:
  - name: m
    http: http://{host}:{port}
    https: https://{host}:{port}
    country: DE
health:
  interval: 1h
  ca_file: {demo_tree.ca}
  recover_after: 1
  slow_start: 0s
""").start()
    # One probe (at start; the next is an hour away, so it cannot move the counters below): the
    # mirror's status and the canary, the smallest file of the index, fetched through it.
    wait_until(lambda: b'"health":"up"' in http_request(
        "127.0.0.1", front.http_port, "/.lxcdn/mirrors.json").body, 20, what="the mirror up")
    yield front, mirror, upstream
    for p in (front, mirror, upstream):
        p.stop()


@pytest.fixture(scope="module")
def conf(demo_tree, chain, tmp_path_factory):
    return lxc_remote_conf(tmp_path_factory.mktemp("lxc-conf"), REMOTE, chain[0].https, demo_tree.ca)


def image_paths(image, www):
    return {"/" + str(p.relative_to(www)) for p in (image.meta, image.root)}


def canary_path(www):
    """The origin's health canary: the smallest file the index lists (ties: the first path), as
    src/origin/canary.cpp picks it; computed here from the index, not asked of lxcdn."""
    doc = json.loads((www / "streams/v1/images.json").read_text())
    items = [(item["size"], "/" + item["path"])
             for product in doc["products"].values()
             for version in product["versions"].values()
             for item in version["items"].values() if item.get("size")]
    return min(items)[1]


def test_lxc_image_export_goes_origin_to_mirror_and_verifies(demo_tree, chain, conf, tmp_path):
    front, mirror, upstream = chain
    image = demo_tree.images[0]
    paths = image_paths(image, demo_tree.www)
    # The front's one health probe filled the canary through the mirror already.
    filled = sorted(paths | {canary_path(demo_tree.www)})

    lxc_export_and_verify(conf, REMOTE, image, tmp_path / "first")
    metrics = mirror.metrics()
    assert metrics["lxcdn_mirror_misses_total"] == len(filled)  # metadata, rootfs (+ canary)
    assert metrics["lxcdn_mirror_fills_committed_total"] == len(filled)
    # The front origin served the index but no image file: those were redirected.
    front_gets = access_log_targets(front.stderr_text())
    assert any(t.startswith("/streams/v1/") and s == 200 for t, s in front_gets), front_gets
    assert not [t for t, s in front_gets if t.startswith("/images/")], front_gets
    # The upstream origin served each file once, to the mirror, which said X-LXC-No-GeoIP: on.
    upstream_images = sorted(t for t, s in access_log_targets(upstream.stderr_text())
                             if t.startswith("/images/") and s == 200)
    assert upstream_images == filled
    served = parse_metrics(http_request("127.0.0.1", upstream.http_port,
                                        "/.lxcdn/metrics").body.decode())
    assert served['lxcdn_origin_served_total{reason="no_geoip"}'] == len(filled)
    redirected = parse_metrics(http_request("127.0.0.1", front.http_port,
                                            "/.lxcdn/metrics").body.decode())
    assert redirected['lxcdn_origin_redirects_total{mirror="m",country="DE",reason="nearest"}'] == 2

    hits = mirror.metric("lxcdn_mirror_hits_total")
    lxc_export_and_verify(conf, REMOTE, image, tmp_path / "second")
    assert mirror.metric("lxcdn_mirror_hits_total") == hits + 2
    assert sorted(t for t, s in access_log_targets(upstream.stderr_text())
                  if t.startswith("/images/")) == filled
