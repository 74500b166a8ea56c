"""Idle keep-alive connections are parked: after idling through two of the server's sweeps
(idle_timeout / 8 apart, here 250 ms) a plain-HTTP connection keeps only its socket. For a client
nothing changes: its next request is served as before, idle_timeout still closes it, a SIGTERM
still closes it at once, and it still counts towards max_connections. The origin reports the
parked ones on /.lxcdn/metrics (lxcdn_origin_connections_parked), which is how these tests know
the connections really were parked.
"""
import random
import signal
import threading
import time

import pytest

from conftest import keep_alive_connections, serving
from lxcdn_testlib import RawConnection, parse_metrics, wait_until

IDLE = "limits:\n  idle_timeout: 2s\n"


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


def test_sigterm_closes_parked_connections_at_once(tree, certs, tmp_path):
    o = serving(tmp_path / "stop", tree.root, certs, IDLE)
    conns = keep_alive_connections(o.http_port, 20)
    try:
        wait_until(lambda: gauges(o)[1] >= 20, 5, what="20 connections parked")
        start = time.monotonic()
        o.signal(signal.SIGTERM)
        assert o.proc.wait(timeout=10) == 0
        assert time.monotonic() - start < 3
        for c in conns:
            closed, extra = c.wait_closed(timeout=3)
            assert closed and extra == b""
    finally:
        for c in conns:
            c.close()
        o.stop()
