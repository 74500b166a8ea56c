"""The stock `lxc` CLI downloading the same image from two source addresses that the origin's
GeoIP overrides place in different regions: each run goes to its region's mirror, and the files
match the hashes computed here from the demo's tree. `lxc` runs in a network namespace relayed to
the real loopback from 127.0.0.2 or 127.0.0.3 (source_address.py). The origin learns its
mirrors by a SIGHUP reload once they listen (each side needs the other's port)."""
import hashlib
import os
import signal
import subprocess

import pytest

from geo_helpers import LOOPBACK_REGIONS, demo_cert_and_key
from lxcdn_testlib import (LXC_TIMEOUT, Mirror, Origin, http_request, lxc_remote_conf,
                           mirror_yaml, parse_metrics, split_url, wait_for_line, wait_until)
from source_address import Relay

REMOTE = "geo"


@pytest.fixture(scope="module")
def regions(demo_tree, tmp_path_factory):
    config = demo_tree.config.read_text()
    cert, key = demo_cert_and_key(config)
    # `health:` is read at start (a reload applies geoip, mirrors and selection): one probe
    # round when the mirrors arrive, the next an hour later, so probes cannot move the counters.
    health = f"""health:
  interval: 1h
  ca_file: {demo_tree.ca}
  recover_after: 1
  slow_start: 0s
"""
    origin = Origin(tmp_path_factory.mktemp("origin"), config + health).start()
    mirrors = {}
    try:
        for name in ("de", "jp"):
            cache = tmp_path_factory.mktemp(name) / "cache"
            mirrors[name] = Mirror(cache.parent / "run", mirror_yaml(
                cache, origin.https, ca_file=demo_tree.ca, cert=cert, key=key, plain=False),
                cache_dir=cache).start()
        entries = "".join(f"""  - name: {name}
    http: http://127.0.0.1:{split_url(m.https)[2]}
    https: https://127.0.0.1:{split_url(m.https)[2]}
    country: {name.upper()}
""" for name, m in mirrors.items())
        origin.config.write_text(config + LOOPBACK_REGIONS + f"""mirrors:
{entries}{health}""")
        origin.signal(signal.SIGHUP)
        wait_for_line(origin.log, r"SIGHUP: configuration reloaded .*: 2 mirrors")
        wait_until(lambda: http_request("127.0.0.1", origin.http_port, "/.lxcdn/mirrors.json")
                   .body.count(b'"health":"up"') == 2, 20, what="both mirrors up")
        yield origin, mirrors
    finally:
        for m in mirrors.values():
            m.stop()
        origin.stop()


def served(mirror):
    m = mirror.metrics()
    return m["lxcdn_mirror_hits_total"] + m["lxcdn_mirror_misses_total"]


def export_from(source, conf, relay_dir, ports, image, out):
    """`lxc image export` run from `source`; returns {file name: bytes} written."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR", "LXD_DIR", "LXD_CONF")}
    env["LXD_CONF"], env["LXD_DIR"] = str(conf), str(conf / "no-daemon")
    out.mkdir()
    with Relay(relay_dir, ports, source) as relay:
        p = subprocess.run(relay.command(["lxc", "image", "export", f"{REMOTE}:{image.alias}",
                                          f"{out}/"]),
                           env=env, capture_output=True, text=True, timeout=LXC_TIMEOUT)
    assert p.returncode == 0, f"{p.stdout}\n{p.stderr}"
    return {f.name: f.read_bytes() for f in out.iterdir()}


@pytest.mark.parametrize("source,region,other", [("127.0.0.2", "de", "jp"),
                                                  ("127.0.0.3", "jp", "de")])
def test_lxc_export_goes_through_the_mirror_of_its_region(demo_tree, regions, source, region,
                                                          other, tmp_path):
    origin, mirrors = regions
    image = demo_tree.images[0]
    conf = lxc_remote_conf(tmp_path / "conf", REMOTE, origin.https, demo_tree.ca)
    ports = [origin.https_port] + [split_url(m.https)[2] for m in mirrors.values()]
    before = {name: served(m) for name, m in mirrors.items()}
    files = export_from(source, conf, tmp_path / "relay", ports, image, tmp_path / "out")

    assert sorted(files) == ["incus.tar.xz", "rootfs.squashfs"]
    meta, root = files["incus.tar.xz"], files["rootfs.squashfs"]
    assert hashlib.sha256(meta).hexdigest() == image.meta_sha256
    assert hashlib.sha256(root).hexdigest() == image.root_sha256
    assert hashlib.sha256(meta + root).hexdigest() == image.fingerprint
    # Both files came from this region's mirror, none from the other.
    assert served(mirrors[region]) - before[region] == 2
    assert served(mirrors[other]) == before[other]
    m = parse_metrics(http_request("127.0.0.1", origin.http_port, "/.lxcdn/metrics").body.decode())
    assert m[f'lxcdn_origin_redirects_total{{mirror="{region}",country="{region.upper()}",'
             f'reason="nearest"}}'] == 2
