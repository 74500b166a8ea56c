"""`lxcdn mirror` filling from Debian's nginx (TLS 1.3, test CA) used as a slow, rate-limited
upstream: one streaming fill per object however many clients ask, Range from a fill in progress,
a fill that outlives its client, cached redirects, and kill -9 in the middle of eight fills.

nginx counts upstream requests in its access log (one worker, so lines are in completion order).
"""
import socket
import threading
import time

import pytest

from conftest import ipv6_loopback_available
from lxcdn_testlib import (Mirror, Nginx, RawConnection, TestClock, client_tls_context, indexed_tree,
                           mirror_yaml, sha256_hex, small_window_connection, split_url, wait_until)

MiB = 1 << 20
RATE = "4m"  # nginx limit_rate under /images/rated/: 4 MiB/s per connection
SLOW_RATE = "1m"  # under /images/slow/

COALESCE = "/images/rated/1/amd64/default/20240101/rootfs.squashfs"  # 8 MiB, about 2 s
RANGED = "/images/rated/2/amd64/default/20240101/rootfs.squashfs"  # 8 MiB
LEFT = "/images/rated/3/amd64/default/20240101/rootfs.squashfs"  # 4 MiB
SLOW = [f"/images/slow/{n}/amd64/default/20240101/rootfs.squashfs" for n in range(1, 9)]  # 2 MiB
FAST = ["/images/fast/1/amd64/default/20240101/rootfs.squashfs",
        "/images/fast/1/amd64/default/20240101/incus.tar.xz"]
MOVED = "/images/moved/1/amd64/default/20240101/rootfs.squashfs"
MOVED_TO = "https://elsewhere.example/images/moved/rootfs.squashfs"
SENTINEL = "/sentinel.txt"

LOCATIONS = f"""\
        location /images/rated/ {{ limit_rate {RATE}; }}
        location /images/slow/ {{ limit_rate {SLOW_RATE}; }}
        location = {MOVED} {{ return 302 {MOVED_TO}; }}
"""


def build(p):
    return p.rsplit("/", 1)[0][1:]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    builds = [(build(COALESCE), 1024, 8 * MiB), (build(RANGED), 1024, 8 * MiB),
              (build(LEFT), 1024, 4 * MiB), (build(FAST[0]), 1024, 256 << 10)]
    builds += [(build(p), 1024, 2 * MiB) for p in SLOW]
    files = indexed_tree(root, builds, extra_files={SENTINEL[1:]: b"sentinel\n"})
    return root, {"/" + k: v for k, v in files.items()}


@pytest.fixture(scope="module")
def nginx(published, certs, tmp_path_factory):
    ca, chain, key = certs
    with Nginx(tmp_path_factory.mktemp("nginx"), published[0], chain, key, LOCATIONS) as n:
        n.ca = ca
        yield n


@pytest.fixture
def files(published):
    return published[1]


def upstream_gets(nginx, uri):
    """nginx's GETs of `uri`, complete up to now: a request for a sentinel file is made and its log
    line awaited first, and nginx (one worker) logs requests in the order they finish."""
    _, host, port = split_url(nginx.url)
    tls = client_tls_context(nginx.ca)
    before = len(nginx.requests(SENTINEL))
    with RawConnection(host, port, tls=tls, server_hostname="localhost") as c:
        c.get(SENTINEL)
        assert c.read_response().status == 200
    wait_until(lambda: len(nginx.requests(SENTINEL)) > before, 10, what="nginx's sentinel line")
    return [r for r in nginx.requests(uri) if r[0] == "GET"]


@pytest.fixture
def mirror_factory(tmp_path, nginx, certs):
    started = []

    def make(clock=None, **kw):
        ca, chain, key = certs
        cache_dir = tmp_path / "cache"
        text = mirror_yaml(cache_dir, nginx.url, ca_file=ca, cert=chain, key=key, **kw)
        m = Mirror(tmp_path / "mirror", text, cache_dir=cache_dir, clock=clock).start()
        started.append(m)
        return m

    yield make
    for m in started:
        m.stop()


def timed_get(mirror, path, headers=(), results=None, barrier=None):
    """GETs `path` on a fresh connection; returns (seconds to the end of the response head,
    RawResponse). With `results`, appends the pair (or the exception) there instead."""
    try:
        _, host, port = split_url(mirror.http)
        with RawConnection(host, port, timeout=60) as c:
            if barrier:
                barrier.wait()
            start = time.monotonic()
            c.get(path, headers=headers)
            while b"\r\n\r\n" not in c.buf:
                assert c._fill(), "connection closed before the response head"
            t_head = time.monotonic() - start
            out = (t_head, c.read_response())
    except Exception as e:  # reported by the caller
        if results is None:
            raise
        out = e
    if results is not None:
        results.append(out)
    return out


def concurrent_gets(mirror, paths):
    """One thread per path, all released at once; returns [(t_head, RawResponse)] in path order."""
    results = [[] for _ in paths]
    barrier = threading.Barrier(len(paths))
    threads = [threading.Thread(target=timed_get, args=(mirror, p, (), results[i], barrier))
               for i, p in enumerate(paths)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    out = []
    for r in results:
        assert len(r) == 1, "a client thread did not finish"
        if isinstance(r[0], Exception):
            raise r[0]
        out.append(r[0])
    return out


def test_nginx_is_a_rate_limited_tls13_upstream(nginx, files):
    """The premise of the tests below: nginx answers over TLS 1.3 and sends /images/rated/ at
    about RATE, so an 8 MiB fill takes seconds."""
    _, host, port = split_url(nginx.url)
    tls = client_tls_context(nginx.ca)
    start = time.monotonic()
    with RawConnection(host, port, tls=tls, server_hostname="localhost", timeout=60) as c:
        assert c.sock.version() == "TLSv1.3"
        c.get(LEFT)
        r = c.read_response()
    assert r.status == 200 and sha256_hex(r.body) == sha256_hex(files[LEFT])
    assert time.monotonic() - start > 0.5


def test_eight_concurrent_misses_make_one_upstream_request(mirror_factory, nginx, files):
    m = mirror_factory()
    m.wait_index_loaded()
    results = concurrent_gets(m, [COALESCE] * 8)
    expected = sha256_hex(files[COALESCE])
    for t_head, r in results:
        assert r.status == 200, r
        assert r.header("X-Cache") == "MISS"
        assert sha256_hex(r.body) == expected
        assert t_head < 1.0, [round(t, 3) for t, _ in results]
    gets = upstream_gets(nginx, COALESCE)
    assert len(gets) == 1, gets
    assert gets[0][2] == 200 and gets[0][3] == 8 * MiB and gets[0][4] == "on"
    assert gets[0][5] == f"127.0.0.1:{nginx.port}"
    metrics = m.metrics()
    assert metrics["lxcdn_mirror_misses_total"] == 1
    assert metrics["lxcdn_mirror_coalesced_total"] == 7
    assert metrics["lxcdn_mirror_fills_committed_total"] == 1
    assert metrics["lxcdn_mirror_fill_bytes_total"] == 8 * MiB
    t_head, r = timed_get(m, COALESCE)
    assert r.header("X-Cache") == "HIT" and sha256_hex(r.body) == expected


def test_range_is_served_from_a_fill_in_progress(mirror_factory, nginx, files):
    m = mirror_factory()
    m.wait_index_loaded()
    body = files[RANGED]
    results = []
    full = threading.Thread(target=timed_get, args=(m, RANGED, (), results))
    full.start()
    try:
        m.wait_metric("lxcdn_mirror_fill_bytes_total", lambda v: v >= 1 * MiB)
        t_head, r = timed_get(m, RANGED, headers=["Range: bytes=1000-200999"])
        assert r.status == 206, r
        assert r.header("X-Cache") == "MISS"
        assert r.header("Content-Range") == f"bytes 1000-200999/{8 * MiB}"
        assert r.body == body[1000:201000]
        assert m.metric("lxcdn_mirror_fills_in_progress") == 1  # served before the fill ended
        # The last bytes arrive once the whole object is verified.
        t_head, r = timed_get(m, RANGED, headers=["Range: bytes=-100"])
        assert r.status == 206 and r.body == body[-100:]
    finally:
        full.join(60)
    assert sha256_hex(results[0][1].body) == sha256_hex(body)
    assert len(upstream_gets(nginx, RANGED)) == 1


def test_a_fill_continues_when_its_client_leaves(mirror_factory, nginx, files):
    """The only client reads what has arrived and closes while the mirror waits for upstream
    bytes (a FIN; the mirror's next bytes then draw an RST). The fill goes on to a committed entry
    and the mirror lives on (regression: its next sendfile(2) on that socket raised SIGPIPE, and
    the default action killed the process)."""
    m = mirror_factory()
    m.wait_index_loaded()
    before = len(upstream_gets(nginx, LEFT))
    with RawConnection(*split_url(m.http)[1:]) as c:
        c.get(LEFT)
        while b"\r\n\r\n" not in c.buf:
            assert c._fill()
        c.sock.setblocking(False)
        try:  # an empty receive queue, so close() sends a FIN, not an RST
            while c.sock.recv(1 << 20):
                pass
        except BlockingIOError:
            pass
    m.wait_metric("lxcdn_mirror_fills_committed_total", lambda v: v == 1, timeout=30)
    assert m.proc.poll() is None, f"the mirror died: exit status {m.proc.returncode}"
    _, r = timed_get(m, LEFT)
    assert r.header("X-Cache") == "HIT"
    assert sha256_hex(r.body) == sha256_hex(files[LEFT])
    assert len(upstream_gets(nginx, LEFT)) == before + 1


def test_a_client_that_does_not_read_cannot_stall_a_fill_for_others(mirror_factory, nginx, files):
    """A client asks for an 8 MiB file being filled and then reads nothing (a small receive
    window, so the mirror is blocked sending to it after a few dozen KiB). A second client of the
    same file gets it at the upstream's pace, and the fill commits, while the first still sits
    there: readers never hold the fill back."""
    m = mirror_factory()
    m.wait_index_loaded()
    stalled = small_window_connection(*split_url(m.http)[1:], rcvbuf=4096, timeout=60)
    try:
        stalled.get(RANGED)
        while b"\r\n\r\n" not in stalled.buf:
            assert stalled._fill()
        start = time.monotonic()
        t_head, r = timed_get(m, RANGED)
        took = time.monotonic() - start
        assert r.status == 200 and sha256_hex(r.body) == sha256_hex(files[RANGED])
        # 8 MiB at nginx's 4 MiB/s is about 2 s; well under the 60 s the stalled reader could hold.
        assert took < 10, took
        m.wait_metric("lxcdn_mirror_fills_committed_total", lambda v: v == 1, timeout=10)
        assert len(upstream_gets(nginx, RANGED)) >= 1
        # The stalled client is still connected and can read the rest, exact.
        rest = stalled.read_response()
        assert rest.status == 200 and sha256_hex(rest.body) == sha256_hex(files[RANGED])
    finally:
        stalled.close()


def test_upstream_connections_are_reused(mirror_factory, nginx, files):
    """Sequential fills go over one kept-alive TLS connection (the index refresh's included),
    not a handshake each."""
    m = mirror_factory()
    m.wait_index_loaded()
    for p in FAST:
        _, r = timed_get(m, p)
        assert r.status == 200 and r.body == files[p]
        m.wait_metric("lxcdn_mirror_fills_in_progress", lambda v: v == 0)
    meta, root = upstream_gets(nginx, FAST[1])[-1], upstream_gets(nginx, FAST[0])[-1]
    index = [r for r in nginx.requests() if r[1] == "/streams/v1/index.json"][-1]
    assert root[6] == meta[6] == index[6]  # one connection
    assert root[7] > 2 and meta[7] > 2  # after index.json and images.json on it


def test_a_302_is_cached_for_one_minute(mirror_factory, nginx, tmp_path):
    clock = TestClock(tmp_path / "clock", start=1_700_000_000)
    m = mirror_factory(clock=clock)
    before = len(upstream_gets(nginx, MOVED))
    r = m.request(MOVED)
    assert r.status == 302 and r.header("Location") == MOVED_TO
    assert r.header("X-Cache") != "HIT"
    clock.advance(59)
    r = m.request(MOVED)
    assert r.status == 302 and r.header("Location") == MOVED_TO
    assert r.header("X-Cache") == "HIT"
    assert len(upstream_gets(nginx, MOVED)) == before + 1
    clock.advance(1)
    r = m.request(MOVED)
    assert r.status == 302 and r.header("X-Cache") != "HIT"
    assert len(upstream_gets(nginx, MOVED)) == before + 2


def test_kill_9_during_eight_fills_loses_only_the_unfinished_ones(mirror_factory, nginx, files):
    m = mirror_factory()
    m.wait_index_loaded()
    for p in FAST:
        _, r = timed_get(m, p)
        assert r.status == 200
    m.wait_metric("lxcdn_mirror_fills_committed_total", lambda v: v == 2)

    clients = [RawConnection(*split_url(m.http)[1:], timeout=60) for _ in SLOW]
    try:
        for c, p in zip(clients, SLOW):
            c.get(p)
        m.wait_metric("lxcdn_mirror_fills_in_progress", lambda v: v == 8)
        wait_until(lambda: len(m.temp_files()) == 8 and all(
            f.stat().st_size > 4096 + 64 * 1024 for f in m.temp_files()), 15,
            what="eight temp files with bytes in them")
        m.kill()
    finally:
        for c in clients:
            c.close()
    assert len(m.temp_files()) == 8
    assert not any(m.object_path(p).exists() for p in SLOW)

    m.start()
    assert m.temp_files() == []  # removed before the listeners opened
    for p in FAST:
        _, r = timed_get(m, p)
        assert r.header("X-Cache") == "HIT" and r.body == files[p]
    m.wait_index_loaded()
    for p, (t_head, r) in zip(SLOW, concurrent_gets(m, SLOW)):
        assert r.status == 200 and r.header("X-Cache") == "MISS"
        assert sha256_hex(r.body) == sha256_hex(files[p])
    for p in SLOW:
        assert len(upstream_gets(nginx, p)) == 2


def test_an_ipv6_upstream_is_asked_with_a_bracketed_host(published, certs, tmp_path, files):
    """https://[::1]:PORT as upstream.url: connect, verify the certificate's IP name, and send
    `Host: [::1]:PORT` (RFC 9110 §7.2); nginx answers 400 to an unbracketed `::1:PORT`."""
    ca, chain, key = certs
    with Nginx(tmp_path / "nginx6", published[0], chain, key, host="::1") as n6:
        text = mirror_yaml(tmp_path / "cache", n6.url, ca_file=ca)
        with Mirror(tmp_path / "mirror", text, cache_dir=tmp_path / "cache") as m:
            r = m.request(FAST[1])
            assert r.status == 200, (r, n6.requests())
            assert r.body == files[FAST[1]]
        (get,) = [r for r in n6.requests(FAST[1])]
        assert get[5] == f"[::1]:{n6.port}"
