"""Idle keep-alive connections are parked: after idling through two of the server's sweeps
(idle_timeout / 8 apart, here 250 ms) a plain-HTTP connection keeps only its socket, a TLS one its
socket and its OpenSSL state. For a client
nothing changes: its next request is served as before, idle_timeout still closes it, a SIGTERM
still closes it at once, and it still counts towards max_connections. The origin reports the
parked ones on /.lxcdn/metrics (lxcdn_origin_connections_parked), which is how these tests know
the connections really were parked.
"""
import random
import signal
import ssl
import threading
import time

import pytest

from conftest import SERIAL_DIR, build_tree, keep_alive_connections, serving
from lxcdn_testlib import RawConnection, client_tls_context, parse_metrics, wait_until

IDLE = "limits:\n  idle_timeout: 2s\n"
LARGE = f"{SERIAL_DIR}/rootfs.squashfs"


@pytest.fixture(scope="module")
def origin(tree, certs, tmp_path_factory):
    o = serving(tmp_path_factory.mktemp("park"), tree.root, certs, IDLE)
    yield o
    o.stop()


def gauges(o):
    with RawConnection("127.0.0.1", o.http_port, timeout=10) as c:
        c.get("/.lxcdn/metrics")
        m = parse_metrics(c.read_response().body.decode())
    # The asking connection is open too, in its loop.
    return m["lxcdn_origin_connections"], m["lxcdn_origin_connections_parked"]


def test_parked_connections_serve_their_next_request(origin, tree):
    conns = keep_alive_connections(origin.http_port, 40)
    try:
        wait_until(lambda: gauges(origin)[1] >= 40, 5, what="40 connections parked")
        for round_ in range(2):
            for c in conns:
                c.get("/hello.txt")
            for c in conns:
                r = c.read_response()
                assert r.status == 200 and r.body == tree.files["hello.txt"]
            wait_until(lambda: gauges(origin)[1] >= 40, 5, what="parked again")
    finally:
        for c in conns:
            c.close()
    wait_until(lambda: gauges(origin) == (1, 0), 5, what="closed connections to leave their slots")


def test_a_parked_connection_is_closed_at_idle_timeout(origin, tree):
    with RawConnection("127.0.0.1", origin.http_port) as c:
        c.get("/hello.txt")
        assert c.read_response().status == 200
        start = time.monotonic()
        wait_until(lambda: gauges(origin)[1] == 1, 3, what="the connection to be parked")
        closed, extra = c.wait_closed(timeout=6)
        elapsed = time.monotonic() - start
    assert closed and extra == b""
    assert 1.5 <= elapsed <= 3.5, elapsed  # idle_timeout 2s, give or take a sweep


def test_requests_racing_the_park_are_all_served(origin, tree):
    """Requests sent at random moments around the park: whichever wins, the client sees one
    right answer per request, on the same connection."""
    rng = random.Random(7)
    errors = []

    def client(seed):
        r = random.Random(seed)
        try:
            with RawConnection("127.0.0.1", origin.http_port, timeout=10) as c:
                for _ in range(12):
                    c.get("/hello.txt")
                    resp = c.read_response()
                    if resp.status != 200 or resp.body != tree.files["hello.txt"]:
                        errors.append(resp.status)
                    time.sleep(r.uniform(0.2, 0.6))
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(rng.random(),)) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []


def test_parked_connections_count_towards_max_connections(tree, certs, tmp_path):
    o = serving(tmp_path / "capped", tree.root, certs, IDLE + "  max_connections: 3\n")
    try:
        conns = keep_alive_connections(o.http_port, 3)
        # Parked, they still hold their places: a fourth connection is closed at once.
        time.sleep(1.0)
        extra = RawConnection("127.0.0.1", o.http_port, timeout=5)
        closed, _ = extra.wait_closed(timeout=3)
        extra.close()
        assert closed
        conns[0].close()
        time.sleep(0.3)
        with RawConnection("127.0.0.1", o.http_port) as c:
            c.get("/hello.txt")
            assert c.read_response().status == 200
        for c in conns[1:]:
            c.get("/hello.txt")
            assert c.read_response().status == 200
            c.close()
    finally:
        o.stop()


def tls_keep_alive_connections(o, n, **ctx_args):
    ctx = client_tls_context(o.ca, **ctx_args)
    conns = []
    for _ in range(n):
        c = RawConnection("127.0.0.1", o.https_port, tls=ctx, server_hostname="localhost")
        conns.append(c)
        c.get("/hello.txt")
        assert c.read_response().status == 200
    return conns


@pytest.fixture(scope="module")
def tls_origin(certs, tmp_path_factory):
    """An origin whose idle connections park after 1.25 to 2.5 s and close after 10 s, over a
    tree whose large file is 2 MiB (128 TLS records): long enough for several full responses
    while the other connections stay parked."""
    base = tmp_path_factory.mktemp("park-tls")
    (base / "tree").mkdir()
    small = build_tree(base / "tree", large_size=2 << 20)
    o = serving(base / "origin", small.root, certs, "limits:\n  idle_timeout: 10s\n")
    o.tree = small
    yield o
    o.stop()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2],
                         ids=["tls1.3", "tls1.2"])
def test_parked_tls_connections_serve_their_next_requests(tls_origin, version):
    """A parked TLS connection resumes with its session intact: the same TLS connection (the
    client's socket object is the same, no new handshake) gets right answers, small and large,
    and is parked again after each round."""
    o, tree = tls_origin, tls_origin.tree
    conns = tls_keep_alive_connections(o, 20, minimum=version, maximum=version)
    try:
        wait_until(lambda: gauges(o)[1] >= 20, 8, what="20 TLS connections parked")
        for path, some in [("hello.txt", conns), (LARGE, conns[:4])]:
            for c in some:
                c.get("/" + path)
            for c in some:
                r = c.read_response()
                assert r.status == 200 and r.body == tree.files[path]
            wait_until(lambda: gauges(o)[1] >= 20, 8, what="parked again")
        # A request sent in two pieces, the second after a park: the head waits in the server's
        # TLS state and on the socket, and is answered once complete.
        c = conns[0]
        c.send(b"GET /hello.txt HTTP/1.1\r\n")
        time.sleep(0.5)
        wait_until(lambda: gauges(o)[1] >= 19, 8, what="the others parked")
        c.send(b"Host: t\r\n\r\n")
        r = c.read_response()
        assert r.status == 200 and r.body == tree.files["hello.txt"]
    finally:
        for c in conns:
            c.close()
    wait_until(lambda: gauges(o) == (1, 0), 5, what="closed connections to leave their slots")


def test_a_parked_tls_connection_is_closed_at_idle_timeout(origin):
    (c,) = tls_keep_alive_connections(origin, 1)
    with c:
        start = time.monotonic()
        wait_until(lambda: gauges(origin)[1] == 1, 3, what="the TLS connection to be parked")
        closed, extra = c.wait_closed(timeout=6)
        elapsed = time.monotonic() - start
    assert closed and extra == b""
    assert 1.5 <= elapsed <= 3.5, elapsed


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_sigterm_closes_parked_connections_at_once(tree, certs, tmp_path, tls):
    o = serving(tmp_path / "stop", tree.root, certs, IDLE)
    conns = tls_keep_alive_connections(o, 10) if tls else keep_alive_connections(o.http_port, 20)
    try:
        wait_until(lambda: gauges(o)[1] >= len(conns), 5, what="the connections parked")
        start = time.monotonic()
        o.signal(signal.SIGTERM)
        assert o.proc.wait(timeout=10) == 0
        assert time.monotonic() - start < 3
        for c in conns:
            closed, extra = c.wait_closed(timeout=3)
            # A parked TLS connection is closed without a close_notify: no bytes either way.
            assert closed and extra == b""
    finally:
        for c in conns:
            c.close()
        o.stop()


def test_a_crowded_thread_parks_connections_right_after_their_response(tree, certs, tmp_path):
    """With more connections on an I/O thread than an eighth of its share of max_connections (here
    2000 / 2 / 8 = 125; 352 per thread), a keep-alive connection whose next request
    is not already there parks as soon as its response is out, instead of idling in its loop
    through two sweeps (here 2 s apart, so a sweep cannot be what parked it). Below that it stays
    in its loop. Either way the client sees the same answers."""
    o = serving(tmp_path / "crowded", tree.root, certs,
                "threads: 2\nlimits:\n  idle_timeout: 60s\n  max_connections: 2000\n")
    few = keep_alive_connections(o.http_port, 4)
    try:
        few[0].get("/hello.txt")
        assert few[0].read_response().status == 200
        assert gauges(o)[1] == 0  # few connections: nobody parked this soon
        crowd = keep_alive_connections(o.http_port, 700)
        try:
            for c in few + crowd:
                c.get("/hello.txt")
            for c in few + crowd:
                r = c.read_response()
                assert r.status == 200 and r.body == tree.files["hello.txt"]
            # The last connection to answer was busy a moment ago: only an eager park explains
            # it being parked within a second (its thread parks it just after the response,
            # which may be after the client has read it).
            last = crowd[-1]
            last.get("/hello.txt")
            assert last.read_response().body == tree.files["hello.txt"]
            wait_until(lambda: gauges(o)[1] == len(few) + len(crowd), 1.0,
                       what="every connection parked")
        finally:
            for c in crowd:
                c.close()
        wait_until(lambda: gauges(o)[0] == len(few) + 1, 10, what="the crowd's slots to go")
        # Few again: a connection that answers now waits in its loop; the other three stay
        # parked, as they were left.
        few[1].get("/hello.txt")
        assert few[1].read_response().status == 200
        assert gauges(o)[1] == len(few) - 1
    finally:
        for c in few:
            c.close()
        o.stop()


def test_a_thread_below_its_share_keeps_busy_connections_in_their_loops(tree, certs, tmp_path):
    """A few hundred busy keep-alive clients on one thread are not a crowd when max_connections
    allows thousands (here 10,000 / 1 / 8 = 1,250): each keeps its request loop between requests
    instead of leaving it after every response (which costs a new loop and a wake-up per request).
    They are still parked once quiet through two sweeps."""
    o = serving(tmp_path / "busy", tree.root, certs,
                "threads: 1\nlimits:\n  idle_timeout: 8s\n  max_connections: 10000\n")
    conns = keep_alive_connections(o.http_port, 200)
    try:
        for _ in range(3):
            for c in conns:
                c.get("/hello.txt")
            for c in conns:
                r = c.read_response()
                assert r.status == 200 and r.body == tree.files["hello.txt"]
        # Sweeps are idle_timeout / 8 = 1 s apart and park at the second: within half a second of
        # the last response, nobody may be parked yet.
        open_, parked = gauges(o)
        assert (open_, parked) == (len(conns) + 1, 0)
        wait_until(lambda: gauges(o)[1] == len(conns), 10, what="the quiet connections parked")
        for c in conns[:5]:
            c.get("/hello.txt")
            assert c.read_response().body == tree.files["hello.txt"]
    finally:
        for c in conns:
            c.close()
        o.stop()
