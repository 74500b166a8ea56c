"""The origin's HTTP/1.1 core over real sockets: keep-alive, HEAD, conditional requests, ranges,
methods, malformed and oversized requests. Requests are raw bytes so that what is tested is what
the server does, not what a client library tidies up."""
import hashlib
import os

import pytest

from conftest import SERIAL_DIR
from lxcdn_testlib import RawConnection, http_date, http_date_epoch

SMALL = f"/{SERIAL_DIR}/incus.tar.xz"
LARGE = f"/{SERIAL_DIR}/rootfs.squashfs"


def conn(origin, **kw):
    return RawConnection(origin.host, origin.http_port, **kw)


def get_one(origin, path, headers=(), method="GET"):
    with conn(origin) as c:
        c.get(path, headers, method=method)
        return c.read_response(head_only=(method == "HEAD"))


def assert_still_usable_or_closed(c, tree):
    """After an error response the connection must be closed cleanly or still serve requests;
    never hang, never a half response."""
    try:
        c.get("/hello.txt")
        r = c.read_response()
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return "closed"
    assert r.status == 200 and r.body == tree.files["hello.txt"], r
    return "open"


def test_keep_alive_serves_several_requests_on_one_connection(origin, tree):
    with conn(origin) as c:
        for rel in ("hello.txt", "streams/v1/index.json", f"{SERIAL_DIR}/incus.tar.xz", "hello.txt"):
            c.get("/" + rel)
            r = c.read_response()
            assert r.status == 200, r
            assert r.body == tree.files[rel]
            assert (r.header("Connection") or "").lower() != "close"
        closed, _ = c.wait_closed(timeout=0.2)
        assert not closed, "server closed a keep-alive connection right after a response"


def test_pipelined_requests_are_answered_in_order(origin, tree):
    with conn(origin) as c:
        c.send(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
               b"HEAD /streams/v1/index.json HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /streams/v1/index.json HTTP/1.1\r\nHost: x\r\n\r\n")
        a, b, d = c.read_response(), c.read_response(head_only=True), c.read_response()
        assert (a.status, a.body) == (200, tree.files["hello.txt"])
        assert b.status == 200 and int(b.header("Content-Length")) == len(tree.index_text)
        assert (d.status, d.body) == (200, tree.index_text)


def test_connection_close_is_honoured(origin, tree):
    with conn(origin) as c:
        c.get("/hello.txt", ["Connection: close"])
        r = c.read_response()
        assert r.status == 200 and r.body == tree.files["hello.txt"]
        assert (r.header("Connection") or "").lower() == "close"
        closed, extra = c.wait_closed(timeout=5)
        assert closed and extra == b""


def test_http10_without_keep_alive_closes_after_the_response(origin, tree):
    with conn(origin) as c:
        c.get("/hello.txt", version="HTTP/1.0")
        r = c.read_response()
        assert r.status == 200 and r.body == tree.files["hello.txt"]
        closed, extra = c.wait_closed(timeout=5)
        assert closed and extra == b""


def test_head_has_exact_content_length_and_no_body(origin, tree):
    with conn(origin) as c:
        c.get(LARGE, method="HEAD")
        r = c.read_response(head_only=True)
        assert r.status == 200
        assert int(r.header("Content-Length")) == len(tree.files[LARGE[1:]])
        assert r.header("ETag") and r.header("Last-Modified")
        # If any body byte had followed the head, the next response would not start at a status line.
        c.get("/hello.txt")
        r2 = c.read_response()
        assert r2.status == 200 and r2.body == tree.files["hello.txt"]


def test_get_has_validators_matching_the_file(origin, tree):
    r = get_one(origin, SMALL)
    assert r.status == 200
    etag = r.header("ETag")
    assert etag and etag.startswith('"') and etag.endswith('"'), etag
    assert http_date_epoch(r.header("Last-Modified")) == int(os.stat(tree.root / SMALL[1:]).st_mtime)
    assert r.header("Date")
    assert get_one(origin, SMALL).header("ETag") == etag, "ETag is not stable"


def test_if_none_match_gives_304_without_body(origin, tree):
    etag = get_one(origin, SMALL).header("ETag")
    with conn(origin) as c:
        for inm in (etag, f'"nope", {etag}', "*", "W/" + etag):
            c.get(SMALL, [f"If-None-Match: {inm}"])
            r = c.read_response()
            assert r.status == 304, (inm, r)
            assert r.header("ETag") == etag
            # A 304 has no body: the next response on this connection must start right after it.
        c.get(SMALL, ['If-None-Match: "something-else"'])
        r = c.read_response()
        assert r.status == 200 and r.body == tree.files[SMALL[1:]]


def test_if_modified_since_gives_304_and_later_change_gives_200(origin, tree):
    lm = get_one(origin, SMALL).header("Last-Modified")
    r = get_one(origin, SMALL, [f"If-Modified-Since: {lm}"])
    assert r.status == 304 and r.body == b""
    later = http_date(http_date_epoch(lm) + 3600)
    assert get_one(origin, SMALL, [f"If-Modified-Since: {later}"]).status == 304
    earlier = http_date(http_date_epoch(lm) - 3600)
    r = get_one(origin, SMALL, [f"If-Modified-Since: {earlier}"])
    assert r.status == 200 and r.body == tree.files[SMALL[1:]]
    r = get_one(origin, SMALL, ["If-Modified-Since: not a date"])
    assert r.status == 200 and r.body == tree.files[SMALL[1:]]


def test_if_none_match_takes_precedence_over_if_modified_since(origin, tree):
    lm = get_one(origin, SMALL).header("Last-Modified")
    r = get_one(origin, SMALL, ['If-None-Match: "other"', f"If-Modified-Since: {lm}"])
    assert r.status == 200 and r.body == tree.files[SMALL[1:]]


@pytest.mark.parametrize("spec,first,last", [
    ("bytes=10-19", 10, 19),
    ("bytes=0-0", 0, 0),
    ("bytes=-5", None, 5),
    ("bytes=4090-", 4090, 4095),
    ("bytes=4000-999999", 4000, 4095),
])
def test_single_range_gives_206_with_exact_bytes(origin, tree, spec, first, last):
    data = tree.files[SMALL[1:]]
    size = len(data)
    if first is None:
        first, last = size - last, size - 1
    r = get_one(origin, SMALL, [f"Range: {spec}"])
    assert r.status == 206, r
    assert r.header("Content-Range") == f"bytes {first}-{last}/{size}"
    assert int(r.header("Content-Length")) == last - first + 1
    assert r.body == data[first:last + 1]


def test_range_in_the_middle_of_a_large_file(origin, tree):
    data = tree.files[LARGE[1:]]
    first, last = 5_000_000, 5_000_000 + 131_071
    r = get_one(origin, LARGE, [f"Range: bytes={first}-{last}"])
    assert r.status == 206
    assert r.header("Content-Range") == f"bytes {first}-{last}/{len(data)}"
    assert r.body == data[first:last + 1]


@pytest.mark.parametrize("spec", ["bytes=4096-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable_range_gives_416_with_size(origin, tree, spec):
    size = len(tree.files[SMALL[1:]])
    with conn(origin) as c:
        c.get(SMALL, [f"Range: {spec}"])
        r = c.read_response()
        assert r.status == 416, r
        assert r.header("Content-Range") == f"bytes */{size}"
        assert tree.files[SMALL[1:]] not in r.body
        assert assert_still_usable_or_closed(c, tree)


@pytest.mark.parametrize("spec", ["bytes=0-9,20-29", "bytes=0-9, 100-", "lines=1-2", "bytes=9-3", "bytes=x-y"])
def test_multi_range_or_unusable_range_gives_full_200(origin, tree, spec):
    r = get_one(origin, SMALL, [f"Range: {spec}"])
    assert r.status == 200, r
    assert r.header("Content-Range") is None
    assert r.body == tree.files[SMALL[1:]]


def test_if_range_with_old_etag_gives_full_body(origin, tree):
    etag = get_one(origin, SMALL).header("ETag")
    r = get_one(origin, SMALL, ["Range: bytes=0-9", f"If-Range: {etag}"])
    assert r.status == 206 and r.body == tree.files[SMALL[1:]][:10]
    r = get_one(origin, SMALL, ["Range: bytes=0-9", 'If-Range: "stale-etag"'])
    assert r.status == 200 and r.body == tree.files[SMALL[1:]]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"])
def test_other_methods_get_405_with_allow(origin, tree, method):
    with conn(origin) as c:
        c.get("/hello.txt", method=method)
        r = c.read_response()
        assert r.status == 405, r
        allow = {m.strip() for m in (r.header("Allow") or "").split(",")}
        assert allow == {"GET", "HEAD"}, r.header("Allow")
        assert tree.files["hello.txt"] not in r.body
        assert_still_usable_or_closed(c, tree)


@pytest.mark.parametrize("raw", [
    b"HELLO\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /hello.txt\r\n\r\n",
    b"GET /hello.txt HTTP/1.1 extra\r\nHost: x\r\n\r\n",
    b"GET /hello.txt HTTX/1.1\r\nHost: x\r\n\r\n",
    b"G\x00T /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /hello.txt HTTP/1.1\r\nHost x\r\n\r\n",
    b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n: empty-name\r\n\r\n",
    b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n",
    b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n",
    b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
], ids=lambda b: b[:30].decode("latin-1").encode("unicode_escape").decode())
def test_malformed_request_gets_400_and_a_clean_outcome(origin, tree, raw):
    with conn(origin, timeout=5) as c:
        c.send(raw)
        r = c.read_response()
        assert r.status == 400, r
        assert tree.files["hello.txt"] not in r.body
        closed, extra = c.wait_closed(timeout=5)
        assert closed, "connection left open after a request the server could not parse"
        assert extra == b"", f"bytes after the 400: {extra[:200]!r}"


def test_tls_client_hello_on_the_plain_port_is_answered_or_closed_at_once(origin, tree):
    with conn(origin, timeout=5) as c:
        c.send(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + os.urandom(160))
        try:
            r = c.read_response()
            assert r.status == 400, r
        except EOFError:
            pass
        closed, _ = c.wait_closed(timeout=5)
        assert closed


def test_unknown_http_version_is_refused(origin, tree):
    with conn(origin, timeout=5) as c:
        c.send(b"GET /hello.txt HTTP/2.0\r\nHost: x\r\n\r\n")
        r = c.read_response()
        assert r.status in (400, 505), r
        assert tree.files["hello.txt"] not in r.body


def test_http11_request_without_host_gets_400(origin, tree):
    # RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
    # HTTP/1.1 request message that lacks a Host header field".
    with conn(origin, timeout=5) as c:
        c.send(b"GET /hello.txt HTTP/1.1\r\n\r\n")
        r = c.read_response()
        assert r.status == 400, r


def test_request_with_body_gets_400_and_the_body_is_never_served_as_a_request(origin, tree):
    smuggled = b"GET /streams/v1/index.json HTTP/1.1\r\nHost: x\r\n\r\n"
    with conn(origin, timeout=5) as c:
        c.send(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(smuggled) + smuggled)
        r = c.read_response()
        assert r.status == 400, r
        closed, extra = c.wait_closed(timeout=5)
        assert closed, "connection kept open after a request body it did not read"
        assert extra == b"", f"a second response followed: {extra[:200]!r}"


def test_chunked_request_gets_400_and_close(origin, tree):
    smuggled = b"GET /streams/v1/index.json HTTP/1.1\r\nHost: x\r\n\r\n"
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(smuggled), smuggled)
    with conn(origin, timeout=5) as c:
        c.send(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
        r = c.read_response()
        assert r.status == 400, r
        closed, extra = c.wait_closed(timeout=5)
        assert closed and extra == b""


def test_post_with_body_is_refused_without_reading_it_as_a_request(origin, tree):
    smuggled = b"GET /streams/v1/index.json HTTP/1.1\r\nHost: x\r\n\r\n"
    with conn(origin, timeout=5) as c:
        c.send(b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(smuggled) + smuggled)
        r = c.read_response()
        assert r.status in (400, 405, 413), r
        closed, extra = c.wait_closed(timeout=5)
        assert closed and extra == b"", f"after {r.status}: {extra[:200]!r}"


@pytest.mark.parametrize("shape", ["one_long_header", "many_headers", "long_request_line"])
def test_oversized_head_gets_431_or_400_and_close(origin, tree, shape):
    if shape == "one_long_header":
        raw = b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (20 << 10) + b"\r\n\r\n"
    elif shape == "many_headers":
        raw = b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n" + b"".join(
            b"X-H%d: %s\r\n" % (i, b"v" * 40) for i in range(1000)) + b"\r\n"
    else:
        raw = b"GET /" + b"a" * (20 << 10) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    with conn(origin, timeout=5) as c:
        try:
            c.send(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may stop reading and close early; what it answered is checked below
        try:
            r = c.read_response()
        except EOFError:
            pytest.fail("connection closed without a status line for an oversized head")
        assert r.status in (400, 414, 431), r
        closed, extra = c.wait_closed(timeout=5)
        assert closed and extra == b""


def test_head_just_under_the_limit_is_served(origin, tree):
    r = get_one(origin, "/hello.txt", ["X-Pad: " + "a" * 12000])
    assert r.status == 200 and r.body == tree.files["hello.txt"]


def test_missing_file_and_directory_get_404_and_keep_the_connection(origin, tree):
    with conn(origin) as c:
        for path in ("/streams/v1/nothing.json", "/images/", "/images", "/streams/v1", "/"):
            c.get(path)
            r = c.read_response()
            assert r.status in (403, 404), (path, r)
            assert b"incus.tar.xz" not in r.body, "directory listing"
        c.get("/hello.txt", method="HEAD")
        r = c.read_response(head_only=True)
        assert r.status == 200


def test_head_of_missing_file_has_no_body(origin, tree):
    with conn(origin) as c:
        c.get("/nothing", method="HEAD")
        r = c.read_response(head_only=True)
        assert r.status == 404
        c.get("/hello.txt")
        assert c.read_response().body == tree.files["hello.txt"]


def test_large_file_exact_bytes(origin, tree):
    data = tree.files[LARGE[1:]]
    with conn(origin, timeout=30) as c:
        c.get(LARGE)
        r = c.read_response()
    assert r.status == 200
    assert int(r.header("Content-Length")) == len(data)
    assert hashlib.sha256(r.body).hexdigest() == tree.sha256(LARGE[1:])


def test_empty_file_is_200_with_zero_length(origin, tree):
    with conn(origin) as c:
        c.get("/empty.json")
        r = c.read_response()
        assert r.status == 200 and r.header("Content-Length") == "0" and r.body == b""
        c.get("/hello.txt")
        assert c.read_response().body == tree.files["hello.txt"]
