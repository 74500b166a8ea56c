"""The origin's certificate changes under a running mirror to one the mirror must not trust: from
another CA, or for another host name. Fills over such a connection must fail (the client gets a
502, nothing is cached, the index refresh reports the failure) while what is already cached keeps
being served; once the origin has a good certificate again, the mirror recovers by itself.
"""
import shutil
import signal

import pytest

from lxcdn_testlib import (Mirror, Origin, indexed_tree, make_ca_and_cert, mirror_yaml, origin_yaml,
                           wait_for_line, wait_until)

KiB = 1 << 10
A = "/images/tls/1/amd64/default/20240101/rootfs.squashfs"
B = "/images/tls/2/amd64/default/20240101/rootfs.squashfs"


@pytest.fixture(params=["other-ca", "other-name"])
def bad_pair(request, tmp_path, certs):
    """(chain, key) of a certificate the mirror must refuse."""
    if request.param == "other-ca":
        _, chain, key = make_ca_and_cert(tmp_path / "other-ca")
        return chain, key
    # Same CA as the good one, but for a name that is not the upstream's.
    ca_dir = tmp_path / "same-ca"
    ca_dir.mkdir()
    good_ca = certs[0]
    shutil.copy(good_ca, ca_dir / "ca.crt")
    shutil.copy(good_ca.with_name("ca.key"), ca_dir / "ca.key")
    _, chain, key = make_ca_and_cert(ca_dir, name="wrong", hosts=("wrong.example",))
    return chain, key


def use_pair(origin, tls_dir, chain, key):
    """Installs chain/key as the origin's certificate files and makes it reload them."""
    shutil.copy(chain, tls_dir / "cert.pem")
    shutil.copy(key, tls_dir / "key.pem")
    before = origin.stderr_text().count("TLS certificate reloaded")
    origin.signal(signal.SIGHUP)
    wait_until(lambda: origin.stderr_text().count("TLS certificate reloaded") > before, 10,
               what="the origin to reload its certificate")


def test_an_untrusted_upstream_certificate_is_refused_and_the_mirror_recovers(tmp_path, certs,
                                                                               bad_pair):
    ca, chain, key = certs
    root = tmp_path / "www"
    files = indexed_tree(root, [(A.rsplit("/", 1)[0][1:], KiB, 256 * KiB),
                                (B.rsplit("/", 1)[0][1:], KiB, 256 * KiB)])
    tls_dir = tmp_path / "origin-tls"
    tls_dir.mkdir()
    shutil.copy(chain, tls_dir / "cert.pem")
    shutil.copy(key, tls_dir / "key.pem")
    origin = Origin(tmp_path / "origin", origin_yaml(root, tls_dir / "cert.pem", tls_dir / "key.pem"))
    origin.start()
    # No kept-alive upstream connections: every fill and refresh opens (and verifies) a new one.
    m = Mirror(tmp_path / "mirror",
               mirror_yaml(tmp_path / "cache", origin.https, ca_file=ca,
                           upstream={"max_idle_connections": 0, "index_refresh": "1s"}),
               cache_dir=tmp_path / "cache")
    m.start()
    try:
        m.wait_index_loaded()
        r = m.request(A)
        assert r.status == 200 and r.body == files[A[1:]]
        m.wait_metric("lxcdn_mirror_fills_committed_total", lambda v: v == 1)

        use_pair(origin, tls_dir, *bad_pair)
        r = m.request(B)
        assert r.status == 502, r
        assert not m.object_path(B).exists()
        assert m.metric("lxcdn_mirror_fills_committed_total") == 1
        wait_until(lambda: not m.status()["upstream"]["reachable"], 10,
                   what="the index refresh to fail on the untrusted certificate")
        assert "certificate verify failed" in m.status()["upstream"]["last_error"]
        r = m.request(A)  # the cache still serves what it verified before
        assert r.status == 200 and r.body == files[A[1:]] and r.header("X-Cache") == "HIT"
        assert m.proc.poll() is None

        use_pair(origin, tls_dir, chain, key)
        m.wait_index_loaded()
        r = m.request(B)
        assert r.status == 200 and r.body == files[B[1:]]
        m.wait_metric("lxcdn_mirror_fills_committed_total", lambda v: v == 2)
    finally:
        m.stop()
        origin.stop()
