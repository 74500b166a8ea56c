"""`lxcdn mirror` against upstreams that fail: one that closes in the middle of a body, an origin
whose files no longer match its index, and ones that stall before answering. A client of the
mirror must never receive a complete-looking wrong file, nothing wrong may be cached, and a
stalled upstream must cost the client a prompt 504, not a hang.

(kill -9 of the mirror itself is in test_mirror_nginx.py, where a slow upstream keeps fills open.)
"""
import time

import pytest

from lxcdn_testlib import (FakeUpstream, Mirror, access_log_targets, indexed_tree, mirror_yaml,
                           read_body, start_origin, wait_until)

MiB = 1 << 20
IMAGE = "/images/broken/1/amd64/default/20240101/rootfs.squashfs"


def start_mirror(tmp_path, upstream_url, certs, **kw):
    ca, chain, key = certs
    cache_dir = tmp_path / "cache"
    text = mirror_yaml(cache_dir, upstream_url, ca_file=ca, **kw)
    return Mirror(tmp_path / "mirror", text, cache_dir=cache_dir).start()


class Transfer:
    """What a client received for one GET: status, headers, the body bytes that arrived, and
    whether the body was complete (Content-Length bytes, then the response ended)."""

    def __init__(self, head, body, complete):
        self.status, self.head, self.body, self.complete = head.status, head, body, complete

    def __repr__(self):
        return f"<Transfer {self.status} {len(self.body)} bytes complete={self.complete}>"


def get_transfer(mirror, path):
    with mirror.connection(timeout=30) as c:
        c.get(path)
        head = c.read_response(head_only=True)
        if head.header("Content-Length") is None:
            return Transfer(head, b"", True)
        body, complete = read_body(c, head)
        return Transfer(head, body, complete)


# --- (a) the upstream closes in the middle of the body

def test_an_upstream_closing_mid_body_aborts_the_client_and_caches_nothing(tmp_path, certs):
    ca, chain, key = certs
    with FakeUpstream(tmp_path / "fake", "truncate", chain, key, body_size=MiB) as fake:
        m = start_mirror(tmp_path, fake.url, certs)
        try:
            with m.connection(timeout=30) as c:
                c.get(IMAGE)
                head = c.read_response(head_only=True)
                assert head.status == 200 and head.header("Content-Length") == str(MiB)
                half, _ = read_body(c, head, limit=MiB // 2)
                assert half == fake.body()[:MiB // 2]  # the bytes that did arrive are right
                fake.release()
                rest, complete = read_body(c, head)
                assert not complete, "a short upstream body reached the client complete-looking"
                assert c.eof and len(half) + len(rest) < MiB
            m.wait_metric("lxcdn_mirror_fills_failed_total", lambda v: v == 1)
            assert m.metric("lxcdn_mirror_cache_entries") == 0
            assert not m.object_path(IMAGE).exists()
            assert m.temp_files() == []

            # Nothing was committed: the next request goes upstream again (and fails again).
            t = get_transfer(m, IMAGE)
            assert not (t.status == 200 and t.complete), t
            assert [r for r in fake.requests() if r.startswith("/images/")] == [IMAGE, IMAGE]
            m.wait_metric("lxcdn_mirror_fills_failed_total", lambda v: v == 2)
            assert m.metric("lxcdn_mirror_fills_committed_total") == 0
            assert not m.object_path(IMAGE).exists()
        finally:
            m.stop()


# --- (b) the upstream's bytes do not match its index

@pytest.fixture(scope="module")
def tampered(tmp_path_factory, certs):
    """An origin whose index lists IMAGE with the sha256 of bytes X, but serves X with one byte
    changed (same size), and lists SHORTER with a size its file no longer has."""
    root = tmp_path_factory.mktemp("www")
    shorter = "/images/broken/2/amd64/default/20240101/rootfs.squashfs"
    files = indexed_tree(root, [(IMAGE.rsplit("/", 1)[0][1:], 1024, MiB),
                                (shorter.rsplit("/", 1)[0][1:], 1024, MiB)])
    with open(root / IMAGE[1:], "r+b") as f:
        f.seek(MiB // 3)
        f.write(b"\x00" if files[IMAGE[1:]][MiB // 3] != 0 else b"\x01")
    (root / shorter[1:]).write_bytes(files[shorter[1:]][:-1000])
    o = start_origin(tmp_path_factory.mktemp("origin"), root, certs, access_log=True)
    o.listed, o.shorter = files[IMAGE[1:]], shorter
    yield o
    o.stop()


def origin_gets(origin, path):
    return [t for t, status in access_log_targets(origin.stderr_text()) if t == path]


def test_bytes_that_do_not_match_the_index_never_reach_a_client_complete(tmp_path, certs, tampered):
    m = start_mirror(tmp_path, tampered.https, certs)
    try:
        m.wait_index_loaded()
        for attempt in (1, 2):
            t = get_transfer(m, IMAGE)
            assert not t.complete, t
            if t.status == 200:
                # Streamed up to the held-back tail, then aborted once the sha256 was known.
                assert len(t.body) <= MiB - 64 * 1024
            else:
                assert t.status == 502, t
            m.wait_metric("lxcdn_mirror_integrity_failures_total", lambda v: v == attempt)
            assert m.metric("lxcdn_mirror_cache_entries") == 0
            assert not m.object_path(IMAGE).exists()
            # Never cached, so the second attempt went to the origin again.
            wait_until(lambda: len(origin_gets(tampered, IMAGE)) == attempt, 10,
                       what=f"{attempt} origin GETs")
        assert m.status()["integrity_failures"] == 2
        assert "differs from the index" in m.stderr_text()
    finally:
        m.stop()


def test_a_size_that_differs_from_the_index_is_a_502(tmp_path, certs, tampered):
    m = start_mirror(tmp_path, tampered.https, certs)
    try:
        m.wait_index_loaded()
        t = get_transfer(m, tampered.shorter)
        assert t.status == 502, t
        assert m.metric("lxcdn_mirror_integrity_failures_total") == 1
        assert m.metric("lxcdn_mirror_cache_entries") == 0
        assert m.temp_files() == []
    finally:
        m.stop()


# --- (c) the upstream stalls before its response head

@pytest.mark.parametrize("mode, setting", [("stall-headers", "header_timeout"),
                                           ("stall-handshake", "connect_timeout")])
def test_a_stalled_upstream_gets_the_client_a_prompt_504(tmp_path, certs, mode, setting):
    ca, chain, key = certs
    with FakeUpstream(tmp_path / "fake", mode, chain, key) as fake:
        m = start_mirror(tmp_path, fake.url, certs, upstream={setting: "1s"})
        try:
            start = time.monotonic()
            t = get_transfer(m, IMAGE)
            elapsed = time.monotonic() - start
            assert t.status == 504, t
            assert t.complete  # a proper answer, not a dropped connection
            assert 0.9 < elapsed < 5, elapsed
            assert m.metric("lxcdn_mirror_cache_entries") == 0
            # The fill is over: the next request asks the upstream again rather than waiting on it.
            m.wait_metric("lxcdn_mirror_fills_in_progress", lambda v: v == 0)
        finally:
            m.stop()


def test_sigterm_while_the_index_is_being_fetched_still_stops_the_mirror(tmp_path, certs):
    """Regression: a stop that arrived while the index refresh waited on the upstream left the
    refresh loop to start a fresh index_refresh wait (1 h here) afterwards, and the process with
    it."""
    ca, chain, key = certs
    with FakeUpstream(tmp_path / "fake", "stall-headers", chain, key) as fake:
        m = start_mirror(tmp_path, fake.url, certs,
                         upstream={"header_timeout": "1s", "index_refresh": "1h"})
        wait_until(lambda: "/streams/v1/index.json" in fake.requests(), 10,
                   what="the mirror's index request")
        m.proc.terminate()
        try:
            assert m.proc.wait(timeout=10) == 0
        finally:
            m.stop()


# --- (d) the upstream refuses a file: its answer is the client's

@pytest.mark.parametrize("status, expected", [(403, 403), (410, 410), (307, 307), (500, 502),
                                              (503, 502)])
def test_an_upstream_refusal_is_passed_on_uncached_and_a_server_error_is_a_502(
        tmp_path, certs, status, expected):
    """nginx's proxy_pass gives the client the origin's 403 or 410; a mirror that turned them
    into 502 would tell the user (and the origin's health checks) that the mirror is broken when
    the origin refused. 5xx stay 502: the upstream failed. None of them is cached."""
    ca, chain, key = certs
    with FakeUpstream(tmp_path / "fake", "status", chain, key, status=status) as fake:
        m = start_mirror(tmp_path, fake.url, certs)
        try:
            for attempt in (1, 2):
                t = get_transfer(m, IMAGE)
                assert t.status == expected, t
                assert t.complete
                if 300 <= expected < 400:
                    assert t.head.header("Location") == "/elsewhere"
                m.wait_metric("lxcdn_mirror_fills_in_progress", lambda v: v == 0)
            # Not cached: each request went to the upstream.
            assert [r for r in fake.requests() if r.startswith("/images/")] == [IMAGE, IMAGE]
            assert m.metric("lxcdn_mirror_cache_entries") == 0
            errors = m.metric("lxcdn_mirror_upstream_errors_total")
            assert errors == (2 if expected == 502 else 0), errors
        finally:
            m.stop()


# --- (e) SIGTERM while fills are running

@pytest.mark.parametrize("client_stays", [False, True])
def test_sigterm_ends_running_fills_after_the_grace_and_keeps_nothing_unfinished(
        tmp_path, certs, client_stays):
    """A fill goes on when its client leaves, and an upstream may be slow or stalled for its whole
    read_timeout (1 h here). A stop must not wait for either: once the clients are served or
    shutdown_grace is over, running fills are abandoned, their temp files removed, and the
    process exits. After a restart the file is a miss again, never a half-filled hit."""
    ca, chain, key = certs
    with FakeUpstream(tmp_path / "fake", "truncate", chain, key, body_size=4 * MiB) as fake:
        m = start_mirror(tmp_path, fake.url, certs, upstream={"read_timeout": "1h"},
                         extra="limits:\n  shutdown_grace: 2s\n")
        try:
            c = m.connection(timeout=30)
            c.get(IMAGE)
            head = c.read_response(head_only=True)
            assert head.status == 200
            half, _ = read_body(c, head, limit=2 * MiB)
            assert half == fake.body()[:2 * MiB]
            if not client_stays:
                c.close()
            m.wait_metric("lxcdn_mirror_fills_in_progress", lambda v: v == 1)
            assert len(m.temp_files()) == 1
            start = time.monotonic()
            m.proc.terminate()
            assert m.proc.wait(timeout=20) == 0
            elapsed = time.monotonic() - start
            # A connection waiting on its fill is busy until the grace (2 s) is over, whether or
            # not its client is still there (it has nothing to write to find out); then the
            # fill is cut, instead of going on for up to read_timeout.
            assert elapsed < 5, elapsed
            if client_stays:
                rest, complete = read_body(c, head)
                assert not complete, "an unfinished fill reached the client complete-looking"
                c.close()
            assert m.temp_files() == []
            assert not m.object_path(IMAGE).exists()
            assert "abandoning 1 fills in progress" in m.log.read_text()

            fake.release()  # from now on the fake cuts its bodies short instead of stalling
            m.start()  # restart: a miss, asked upstream again
            t = get_transfer(m, IMAGE)
            assert not (t.status == 200 and t.complete), t
            assert [r for r in fake.requests() if r.startswith("/images/")] == [IMAGE, IMAGE]
        finally:
            m.stop()
