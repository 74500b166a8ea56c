"""`lxcdn mirror` in front of `lxcdn origin` (TLS 1.3, test CA): what a client of the mirror sees
on hits and misses, how the cache is keyed, bounded, expired and kept honest, and the redirects
of everything that is not an image file.

Each test runs its own mirror with a fresh cache dir; the origin and its tree are shared by the
module, so upstream requests are counted as a difference in the origin's access log. Time moves
through the mirror's --test-clock file, never by sleeping.
"""
import pytest

from lxcdn_testlib import (CACHE_HEADER_SIZE, LXCDN_BIN, Mirror, TestClock, access_log_targets,
                           client_tls_context, indexed_tree, mirror_yaml, run, sha256_hex,
                           split_url, start_origin, wait_until)

BUILD = "images/debian/12/amd64/default/20240101_05:24"
ROOTFS = f"/{BUILD}/rootfs.squashfs"  # listed in the index, 1 MiB
META = f"/{BUILD}/incus.tar.xz"  # listed, 2 KiB
GONE_BUILD = "images/debian/13/amd64/default/20240102"
GONE = f"/{GONE_BUILD}/rootfs.squashfs"  # listed in the index, missing on disk
UNLISTED = f"/{BUILD}/SHA256SUMS"  # served by the origin, not in the index
LRU = {name: f"/images/test/lru/{name}.bin" for name in "abcd"}  # not listed
MiB = 1 << 20


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    files = indexed_tree(root, [(BUILD, 2048, MiB), (GONE_BUILD, 1024, 4096)], extra_files={
        UNLISTED[1:]: b"0" * 64 + b"  rootfs.squashfs\n",
        LRU["a"][1:]: b"a" * MiB, LRU["b"][1:]: b"b" * MiB, LRU["c"][1:]: b"c" * MiB,
        LRU["d"][1:]: b"d" * (MiB + MiB // 2),
    })
    (root / GONE[1:]).unlink()  # the index now names a file the origin answers 404 for
    return root, {"/" + k: v for k, v in files.items()}


@pytest.fixture(scope="module")
def origin(published, certs, tmp_path_factory):
    o = start_origin(tmp_path_factory.mktemp("origin"), published[0], certs, access_log=True)
    yield o
    o.stop()


@pytest.fixture
def files(published):
    return published[1]


class Upstream:
    """Counts the origin's GETs of a path (its access log), for before/after comparisons."""

    def __init__(self, origin):
        self.origin = origin

    def gets(self, path):
        return [t for t, _ in access_log_targets(self.origin.stderr_text()) if t.split("?")[0] == path]

    def wait_gets(self, path, n):
        """Waits until the origin has logged n GETs of `path` (its log line follows the response)
        and returns them."""
        wait_until(lambda: len(self.gets(path)) >= n, 10, what=f"{n} origin GETs of {path}")
        return self.gets(path)


@pytest.fixture
def upstream(origin):
    return Upstream(origin)


def start_mirror(tmp_path, origin, certs, clock=None, **kw):
    ca, chain, key = certs
    cache_dir = tmp_path / "cache"
    text = mirror_yaml(cache_dir, origin.https, ca_file=ca, cert=chain, key=key, **kw)
    return Mirror(tmp_path / "mirror", text, cache_dir=cache_dir, clock=clock).start()


@pytest.fixture
def clock(tmp_path):
    return TestClock(tmp_path / "clock", start=1_700_000_000)


@pytest.fixture
def mirror(tmp_path, origin, certs):
    m = start_mirror(tmp_path, origin, certs)
    yield m
    m.stop()


def get_ok(mirror, path, cache, **kw):
    """GETs `path` from the mirror, asserting a 200 with X-Cache `cache`; returns the body."""
    r = mirror.request(path, **kw)
    assert r.status == 200, r
    assert r.header("X-Cache") == cache, r
    return r.body


def test_miss_streams_from_the_origin_then_hits_from_disk(mirror, files, upstream):
    before = len(upstream.gets(ROOTFS))
    first = mirror.request(ROOTFS)
    assert first.status == 200
    assert first.header("X-Cache") == "MISS"
    assert first.header("Content-Length") == str(MiB)
    assert sha256_hex(first.body) == sha256_hex(files[ROOTFS])
    mirror.wait_metric("lxcdn_mirror_fills_committed_total", lambda v: v == 1)

    for _ in range(3):
        assert sha256_hex(get_ok(mirror, ROOTFS, "HIT")) == sha256_hex(files[ROOTFS])
    assert len(upstream.wait_gets(ROOTFS, before + 1)) == before + 1
    m = mirror.metrics()
    assert m["lxcdn_mirror_misses_total"] == 1
    assert m["lxcdn_mirror_hits_total"] == 3
    assert m["lxcdn_mirror_fill_bytes_total"] == MiB
    assert m["lxcdn_mirror_cache_entries"] == 1
    assert m["lxcdn_mirror_cache_bytes"] == MiB + CACHE_HEADER_SIZE
    assert mirror.object_path(ROOTFS).stat().st_size == MiB + CACHE_HEADER_SIZE


def test_the_scheme_is_not_part_of_the_cache_key(mirror, files, certs):
    tls = client_tls_context(certs[0])
    assert get_ok(mirror, META, "MISS", tls=tls) == files[META]
    assert get_ok(mirror, META, "HIT") == files[META]
    assert get_ok(mirror, META, "HIT", tls=tls) == files[META]


def test_query_strings_never_create_cache_entries(mirror, files, upstream):
    before = len(upstream.gets(META))
    assert get_ok(mirror, META + "?x=0", "MISS") == files[META]
    for n in range(1, 40):
        assert get_ok(mirror, f"{META}?x={n}&cachebust={n * 7}", "HIT") == files[META]
    assert mirror.metric("lxcdn_mirror_cache_entries") == 1
    assert [p.name for p in (mirror.cache_dir / "objects").rglob("*") if p.is_file()] == \
        [mirror.object_path(META).name]
    # The one upstream request asked for the path alone.
    assert upstream.wait_gets(META, before + 1)[before:] == [META]


def test_the_cache_key_is_the_normalised_path(mirror, files, upstream):
    before = len(upstream.gets(META))
    assert get_ok(mirror, META, "MISS") == files[META]
    wait_until(lambda: mirror.object_path(META).exists(), what="the entry on disk")
    for variant in (META.replace(":", "%3A"), META.replace("/images/", "/images//"),
                    META.replace("/12/", "/12/./"), f"http://mirror.example{META}"):
        assert get_ok(mirror, variant, "HIT") == files[META], variant
    assert mirror.metric("lxcdn_mirror_cache_entries") == 1
    assert len(upstream.wait_gets(META, before + 1)) == before + 1


def test_an_encoded_question_mark_is_part_of_the_path_not_a_query(mirror, upstream):
    """%3F is a '?' inside a path segment (RFC 3986 §2.2), not the start of a query: the mirror
    must ask its upstream for that same path, re-encoded. Were it sent raw, the origin would read
    a query, serve the image, and the mirror would store a full copy under each new key: a flood
    of `%3Fx=N` would fill the disk with refetched images."""
    for n in range(3):
        r = mirror.request(f"{ROOTFS}%3Fx={n}")
        assert r.status == 404, r
        assert upstream.wait_gets(f"{ROOTFS}%3Fx={n}", 1)
    assert mirror.metric("lxcdn_mirror_fill_bytes_total") == 0
    assert mirror.metric("lxcdn_mirror_cache_bytes") < MiB


def test_head_on_a_miss_and_on_a_hit_sends_headers_only(mirror, files):
    with mirror.connection() as c:
        for expected_cache in ("MISS", "HIT"):
            if expected_cache == "HIT":
                wait_until(lambda: mirror.object_path(ROOTFS).exists(), what="the entry on disk")
            c.get(ROOTFS, method="HEAD")
            head = c.read_response(head_only=True)
            assert head.status == 200
            assert head.header("Content-Length") == str(MiB)
            assert head.header("X-Cache") == expected_cache
            # A GET on the same connection parses cleanly: no body followed the HEAD answer.
            c.get(META)
            r = c.read_response()
            assert r.status == 200 and r.body == files[META]


def test_range_from_the_cache(mirror, files):
    body = files[ROOTFS]
    get_ok(mirror, ROOTFS, "MISS")
    mirror.wait_metric("lxcdn_mirror_fills_committed_total", lambda v: v == 1)

    r = mirror.request(ROOTFS, headers=["Range: bytes=1000-1999"])
    assert r.status == 206, r
    assert r.header("X-Cache") == "HIT"
    assert r.header("Content-Range") == f"bytes 1000-1999/{MiB}"
    assert r.body == body[1000:2000]

    r = mirror.request(ROOTFS, headers=["Range: bytes=-100"])
    assert r.status == 206 and r.body == body[-100:]
    assert r.header("Content-Range") == f"bytes {MiB - 100}-{MiB - 1}/{MiB}"

    r = mirror.request(ROOTFS, headers=[f"Range: bytes={MiB}-"])
    assert r.status == 416, r
    assert r.header("Content-Range") == f"bytes */{MiB}"


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("target", ["/streams/v1/index.json", "/streams/v1/images.json?x=1&y=%2F",
                                    "/", "/meta/1.0/index-system"])
def test_non_image_paths_redirect_to_the_origin(mirror, origin, certs, scheme, target):
    tls = client_tls_context(certs[0]) if scheme == "https" else None
    r = mirror.request(target, tls=tls)
    assert r.status == 302, r
    _, host, port = split_url(origin.https)
    assert r.header("Location") == f"{scheme}://{host}:{port}{target}"
    assert r.header("X-Cache") is None


def test_404_is_cached_for_valid_404(tmp_path, origin, certs, clock, upstream):
    m = start_mirror(tmp_path, origin, certs, clock=clock, cache={"valid": {"404": "5m"}})
    try:
        path = "/images/debian/12/amd64/default/20240101_05:24/no-such-file"
        before = len(upstream.gets(path))
        r = m.request(path)
        assert r.status == 404 and r.header("X-Cache") != "HIT"
        upstream.wait_gets(path, before + 1)
        clock.advance(299)
        r = m.request(path)
        assert r.status == 404 and r.header("X-Cache") == "HIT", r
        assert len(upstream.gets(path)) == before + 1
        clock.advance(2)  # 301 s after the fill: past valid.404
        r = m.request(path)
        assert r.status == 404 and r.header("X-Cache") != "HIT"
        assert len(upstream.wait_gets(path, before + 2)) == before + 2
    finally:
        m.stop()


def test_404_for_a_path_the_index_lists_is_not_cached(mirror, upstream):
    """The publisher may still be copying a file the index already names: asking again must reach
    the origin, not a negative cache entry."""
    mirror.wait_index_loaded()
    before = len(upstream.gets(GONE))
    for n in range(1, 4):
        r = mirror.request(GONE)
        assert r.status == 404, r
        assert r.header("X-Cache") != "HIT"
        upstream.wait_gets(GONE, before + n)
    assert mirror.metric("lxcdn_mirror_cache_entries") == 0
    assert not mirror.object_path(GONE).exists()


def test_an_entry_past_valid_200_is_refetched(tmp_path, origin, certs, clock, files, upstream):
    m = start_mirror(tmp_path, origin, certs, clock=clock, cache={"valid": {"200": "1h"}})
    try:
        before = len(upstream.gets(META))
        assert get_ok(m, META, "MISS") == files[META]
        m.wait_metric("lxcdn_mirror_fills_committed_total", lambda v: v == 1)
        clock.advance(3599)
        assert get_ok(m, META, "HIT") == files[META]
        clock.advance(1)
        assert get_ok(m, META, "MISS") == files[META]
        assert len(upstream.wait_gets(META, before + 2)) == before + 2
        m.wait_metric("lxcdn_mirror_fills_committed_total", lambda v: v == 2)
        assert get_ok(m, META, "HIT") == files[META]
    finally:
        m.stop()


def test_entries_unused_for_inactive_are_removed(tmp_path, origin, certs, clock, files):
    """inactive 10s: the sweeper runs every second (clamp(inactive/10, 1s, 1min)) and compares
    last use with the injected clock, so moving the clock is enough."""
    m = start_mirror(tmp_path, origin, certs, clock=clock, cache={"inactive": "10s"})
    try:
        get_ok(m, META, "MISS")
        get_ok(m, ROOTFS, "MISS")
        m.wait_metric("lxcdn_mirror_fills_committed_total", lambda v: v == 2)
        clock.advance(5)
        get_ok(m, ROOTFS, "HIT")  # used at t+5: stays until t+15
        clock.advance(6)  # t+11: META unused for 11 s
        m.wait_metric("lxcdn_mirror_evictions_total", lambda v: v == 1)
        assert not m.object_path(META).exists()
        assert m.object_path(ROOTFS).exists()
        assert m.metric("lxcdn_mirror_cache_entries") == 1
        clock.advance(4)  # t+15: ROOTFS unused for 10 s
        m.wait_metric("lxcdn_mirror_evictions_total", lambda v: v == 2)
        assert not m.object_path(ROOTFS).exists()
        assert get_ok(m, META, "MISS") == files[META]
    finally:
        m.stop()


def test_eviction_past_max_size_removes_least_recently_used_bytes(tmp_path, origin, certs, files):
    """max_size 3.5 MiB; a, b, c (1 MiB each) fill it; a is used again; d (1.5 MiB) pushes it
    over by more than one entry's worth, so b and then c go (least recently used first) until
    the cache fits again; a and d stay."""
    m = start_mirror(tmp_path, origin, certs, cache={"max_size": 3 * MiB + MiB // 2})
    try:
        for n, name in enumerate("abc", start=1):
            get_ok(m, LRU[name], "MISS")
            m.wait_metric("lxcdn_mirror_fills_committed_total", lambda v, n=n: v == n)
        get_ok(m, LRU["a"], "HIT")
        assert m.metric("lxcdn_mirror_evictions_total") == 0
        get_ok(m, LRU["d"], "MISS")
        m.wait_metric("lxcdn_mirror_fills_committed_total", lambda v: v == 4)
        metrics = m.metrics()
        assert metrics["lxcdn_mirror_evictions_total"] == 2
        assert metrics["lxcdn_mirror_cache_entries"] == 2
        assert metrics["lxcdn_mirror_cache_bytes"] == MiB + (MiB + MiB // 2) + 2 * CACHE_HEADER_SIZE
        assert {name: m.object_path(p).exists() for name, p in LRU.items()} == \
            {"a": True, "b": False, "c": False, "d": True}
        assert get_ok(m, LRU["a"], "HIT") == files[LRU["a"]]
        assert get_ok(m, LRU["d"], "HIT") == files[LRU["d"]]
        assert get_ok(m, LRU["b"], "MISS") == files[LRU["b"]]
    finally:
        m.stop()


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


def test_a_corrupted_entry_is_refetched_after_a_restart(tmp_path, origin, certs, files, upstream):
    m = start_mirror(tmp_path, origin, certs)
    try:
        before = len(upstream.gets(ROOTFS))
        get_ok(m, ROOTFS, "MISS")
        m.wait_metric("lxcdn_mirror_fills_committed_total", lambda v: v == 1)
        m.stop()
        flip_byte(m.object_path(ROOTFS), CACHE_HEADER_SIZE + 12345)
        m.start()
        body = get_ok(m, ROOTFS, "MISS")
        assert sha256_hex(body) == sha256_hex(files[ROOTFS])
        assert m.metric("lxcdn_mirror_integrity_failures_total") == 1
        assert len(upstream.wait_gets(ROOTFS, before + 2)) == before + 2
        m.wait_metric("lxcdn_mirror_fills_committed_total", lambda v: v == 1)
        assert sha256_hex(get_ok(m, ROOTFS, "HIT")) == sha256_hex(files[ROOTFS])
    finally:
        m.stop()


def test_an_entry_changed_on_disk_while_running_is_refetched(mirror, files):
    """Bodies are verified once per process and again when the file's ctime changes."""
    get_ok(mirror, ROOTFS, "MISS")
    mirror.wait_metric("lxcdn_mirror_fills_committed_total", lambda v: v == 1)
    get_ok(mirror, ROOTFS, "HIT")
    flip_byte(mirror.object_path(ROOTFS), CACHE_HEADER_SIZE + MiB - 1)
    body = get_ok(mirror, ROOTFS, "MISS")
    assert sha256_hex(body) == sha256_hex(files[ROOTFS])
    assert mirror.metric("lxcdn_mirror_integrity_failures_total") == 1


def test_purge_removes_an_entry(mirror, files):
    get_ok(mirror, META, "MISS")
    mirror.wait_metric("lxcdn_mirror_fills_committed_total", lambda v: v == 1)
    get_ok(mirror, META, "HIT")

    p = run([LXCDN_BIN, "mirror", "--config", str(mirror.config), "purge", META + "?q=1"])
    assert p.stdout == f"purged {META}\n"
    assert not mirror.object_path(META).exists()
    assert get_ok(mirror, META, "MISS") == files[META]

    p = run([LXCDN_BIN, "mirror", "--config", str(mirror.config), "purge", ROOTFS], check=False)
    assert p.returncode == 1
    assert f"{ROOTFS}: not in the cache" in p.stderr


def test_status_reports_the_upstream_and_the_cache(mirror, origin):
    mirror.wait_index_loaded()
    get_ok(mirror, META, "MISS")
    mirror.wait_metric("lxcdn_mirror_fills_committed_total", lambda v: v == 1)
    s = mirror.status()
    assert s["upstream"]["url"] == origin.https
    assert s["upstream"]["reachable"] is True
    assert s["upstream"]["last_index_refresh"] > 0
    assert s["last_successful_fill"] > 0
    assert s["cache"]["entries"] == 1
    assert s["cache"]["bytes"] == 2048 + CACHE_HEADER_SIZE
    assert s["cache"]["scan_complete"] is True
    assert s["fills_in_progress"] == 0
    assert s["integrity_failures"] == 0
    assert isinstance(s["certificate_days_left"], int) and 0 < s["certificate_days_left"] <= 30
