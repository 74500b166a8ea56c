"""Hostile request heads against a running origin and a running mirror: request smuggling
(Content-Length with Transfer-Encoding, duplicate or malformed Content-Length, any
Transfer-Encoding, obs-fold, bare LF and CR line endings), oversized request lines and headers,
too many header fields, HTTP/0.9 and other versions, and garbage bytes. Every case must get a
clear 4xx, or a clean close, within seconds; a request hidden in a body is never answered; and
afterwards the process is alive, its stderr has no sanitizer report, and a normal client is
served (plain and TLS)."""
import random

import pytest

from hostile_lib import (HELLO, IMAGE, SMUGGLED, access_log_targets, assert_healthy, exchange,
                         pair, site)  # noqa: F401  (pair and site are module fixtures)
from lxcdn_testlib import wait_until

HIDDEN = b"GET " + SMUGGLED.encode() + b" HTTP/1.1\r\nHost: lxcdn.test\r\n\r\n"
N = len(HIDDEN)


def head(*fields, line=b"GET " + HELLO.encode() + b" HTTP/1.1", eol=b"\r\n"):
    return line + eol + b"".join(f + eol for f in (b"Host: lxcdn.test",) + fields) + eol


def chunked(data):
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data)


# name -> bytes. Each hides a second request (HIDDEN) where a server that misreads the framing
# would find it; the expected answer is one 400 and a closed connection.
SMUGGLING = {
    "cl-and-te": head(b"Content-Length: %d" % N, b"Transfer-Encoding: chunked") + chunked(HIDDEN),
    "te-and-cl": head(b"Transfer-Encoding: chunked", b"Content-Length: %d" % N) + chunked(HIDDEN),
    "cl0-and-te": head(b"Content-Length: 0", b"Transfer-Encoding: chunked") + chunked(HIDDEN),
    "te-chunked": head(b"Transfer-Encoding: chunked") + chunked(HIDDEN),
    "te-chunked-upper": head(b"Transfer-Encoding: CHUNKED") + chunked(HIDDEN),
    "te-gzip": head(b"Transfer-Encoding: gzip") + HIDDEN,
    "te-identity": head(b"Transfer-Encoding: identity") + HIDDEN,
    "te-chunked-then-identity": head(b"Transfer-Encoding: chunked, identity") + HIDDEN,
    "te-xchunked": head(b"Transfer-Encoding: xchunked") + chunked(HIDDEN),
    "te-empty": head(b"Transfer-Encoding: ") + HIDDEN,
    "te-tab": head(b"Transfer-Encoding:\tchunked") + chunked(HIDDEN),
    "te-twice": head(b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked") + chunked(HIDDEN),
    "te-space-before-colon": head(b"Transfer-Encoding : chunked") + chunked(HIDDEN),
    "te-http10": head(b"Transfer-Encoding: chunked", line=b"GET /hello.txt HTTP/1.0") + chunked(HIDDEN),
    "cl-duplicate-differing": head(b"Content-Length: %d" % N, b"Content-Length: 0") + HIDDEN,
    "cl-duplicate-same": head(b"Content-Length: %d" % N, b"Content-Length: %d" % N) + HIDDEN,
    "cl-list": head(b"Content-Length: %d, %d" % (N, N)) + HIDDEN,
    "cl-plus": head(b"Content-Length: +%d" % N) + HIDDEN,
    "cl-negative": head(b"Content-Length: -1") + HIDDEN,
    "cl-hex": head(b"Content-Length: 0x%x" % N) + HIDDEN,
    "cl-huge": head(b"Content-Length: 99999999999999999999999999") + HIDDEN,
    "cl-space-inside": head(b"Content-Length: 4 8") + HIDDEN,
    "cl-space-before-colon": head(b"Content-Length : %d" % N) + HIDDEN,
    "cl-body": head(b"Content-Length: %d" % N) + HIDDEN,
    "cl-body-head-method": head(b"Content-Length: %d" % N, line=b"HEAD /hello.txt HTTP/1.1") + HIDDEN,
    "cl-body-expect-continue": head(b"Content-Length: %d" % N, b"Expect: 100-continue") + HIDDEN,
    "obs-fold-te": head(b"Transfer-Encoding:\r\n chunked") + chunked(HIDDEN),
    "obs-fold-cl": head(b"Content-Length:\r\n %d" % N) + HIDDEN,
    "obs-fold-hides-cl": head(b"X-Note: a\r\n Content-Length: %d" % N) + HIDDEN,
    "obs-fold-plain": head(b"X-Note: a\r\n b"),
    "obs-fold-tab": head(b"X-Note: a\r\n\tb"),
    "obs-fold-host": head(b"X-Note: a", line=b"GET /hello.txt HTTP/1.1\r\nHost:\r\n lxcdn.test"),
    "space-before-first-field": b"GET /hello.txt HTTP/1.1\r\n Host: lxcdn.test\r\n\r\n" + HIDDEN,
    "bare-lf": head(eol=b"\n") + HIDDEN,
    "bare-lf-with-cl": head(b"Content-Length: %d" % N, eol=b"\n") + HIDDEN,
    "bare-lf-mixed": b"GET /hello.txt HTTP/1.1\r\nHost: lxcdn.test\nContent-Length: %d\r\n\r\n" % N + HIDDEN,
    "bare-lf-request-line": b"GET /hello.txt HTTP/1.1\nHost: lxcdn.test\r\n\r\n" + HIDDEN,
    "bare-cr": b"GET /hello.txt HTTP/1.1\rHost: lxcdn.test\r\n\r\n" + HIDDEN,
    "nul-in-field-value": head(b"X-Note: a\x00b") + HIDDEN,
    "nul-in-field-name": head(b"X-N\x00ote: a") + HIDDEN,
    "host-twice": head(b"Host: evil.example") + HIDDEN,
    "no-host": b"GET /hello.txt HTTP/1.1\r\n\r\n" + HIDDEN,
}

# name -> (bytes, allowed statuses). Heads past limits.max_header_bytes (16 KiB) or
# limits.max_header_fields (100), and targets past 8 KiB.
OVERSIZED = {
    "request-line-17k": (b"GET /" + b"a" * (17 << 10) + b" HTTP/1.1\r\nHost: x\r\n\r\n", (414, 431)),
    "target-9k": (b"GET /" + b"a" * (9 << 10) + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                  (400, 414)),
    "method-17k": (b"A" * (17 << 10) + b" / HTTP/1.1\r\nHost: x\r\n\r\n", (400, 431)),
    "one-field-17k": (head(b"X-Big: " + b"a" * (17 << 10)), (431,)),
    "one-field-name-17k": (head(b"X" * (17 << 10) + b": a"), (431,)),
    "head-1mib": (head(*(b"X-F%d: %s" % (i, b"v" * 1000) for i in range(1024))), (431,)),
    "fields-200": (head(*(b"X-F%d: v" % i for i in range(200))), (431,)),
    "fields-1000": (head(*(b"X-F%d: v" % i for i in range(1000))), (431,)),
    "fields-3000-tiny": (head(*(b"a:b" for _ in range(3000))), (431,)),
    "cookies-500": (head(*(b"Cookie: c=1" for _ in range(500))), (431,)),
}

# name -> bytes that are not an HTTP/1.x request at all; allowed: a 4xx (or 505), or a close.
GARBAGE = {
    "http09": b"GET /\r\n",
    "http09-path": b"GET /hello.txt\r\n",
    "http09-then-blank": b"GET /hello.txt\r\n\r\n",
    "http09-version": b"GET /hello.txt HTTP/0.9\r\n\r\n",
    "http12": head(line=b"GET /hello.txt HTTP/1.2"),
    "http20": head(line=b"GET /hello.txt HTTP/2.0"),
    "http99": head(line=b"GET /hello.txt HTTP/9.9"),
    "version-lowercase": head(line=b"GET /hello.txt http/1.1"),
    "h2-preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "ssh-banner": b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
    "smtp": b"EHLO evil.example\r\n",
    "tls-client-hello-on-plain": b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(range(160)),
    "double-spaces": b"GET  /hello.txt  HTTP/1.1\r\nHost: x\r\n\r\n",
    "tabs": b"GET\t/hello.txt\tHTTP/1.1\r\nHost: x\r\n\r\n",
    "no-target": b"GET HTTP/1.1\r\nHost: x\r\n\r\n",
    "lowercase-method": head(b"Connection: close", line=b"get /hello.txt HTTP/1.1"),
    "nul-bytes": b"\x00" * 4096,
    "ff-bytes": b"\xff" * 4096,
    "utf16-request": "GET /hello.txt HTTP/1.1\r\n\r\n".encode("utf-16"),
    "crlf-flood-then-request": b"\r\n" * 5000 + head(),
    "lf-flood": b"\n" * 5000,
    "spaces": b" " * 5000,
    "random-1": random.Random(1).randbytes(1024),
    "random-2": random.Random(2).randbytes(8192),
    "random-3": random.Random(3).randbytes(64 << 10),
    "random-4": b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n" + random.Random(4).randbytes(512),
    "half-request-then-close": None,  # sent with a write shutdown, below
}

SMUGGLING_COUNT, OVERSIZED_COUNT, GARBAGE_COUNT = len(SMUGGLING), len(OVERSIZED), len(GARBAGE)


def server_of(pair, role):
    return pair[0] if role == "origin" else pair[1]


@pytest.mark.parametrize("role", ["origin", "mirror"])
@pytest.mark.parametrize("case", list(SMUGGLING))
def test_smuggling(pair, site, role, case):
    server = server_of(pair, role)
    before = [access_log_targets(s).count(SMUGGLED) for s in pair]
    x = exchange(server.http_port, SMUGGLING[case], timeout=6)
    assert x.status == 400, x
    assert x.statuses == [400], f"more than one response: {x}"
    assert x.closed and x.elapsed < 3, f"connection not closed at once after the 400: {x}"
    assert site.smuggled_bytes not in x.data
    after = [access_log_targets(s).count(SMUGGLED) for s in pair]
    assert after == before, f"the hidden request reached a server (origin, mirror): {before} -> {after}"
    assert_healthy(server, site)


@pytest.mark.parametrize("role", ["origin", "mirror"])
@pytest.mark.parametrize("case", list(OVERSIZED))
def test_oversized(pair, site, role, case):
    server = server_of(pair, role)
    raw, allowed = OVERSIZED[case]
    x = exchange(server.http_port, raw, timeout=6)
    assert x.status in allowed, x
    assert x.statuses == [x.status] and x.closed and x.elapsed < 3, x
    assert_healthy(server, site)


@pytest.mark.parametrize("role", ["origin", "mirror"])
@pytest.mark.parametrize("fields", [95, 8])
def test_heads_within_the_limits_are_served(pair, site, role, fields):
    """The controls of test_oversized: a head of 95 fields, and one just under 16 KiB, are
    served (the limits refuse what is past them, not everything big)."""
    server = server_of(pair, role)
    path = HELLO if role == "origin" else IMAGE
    extra = [b"X-F%d: v" % i for i in range(fields)]
    if fields == 8:
        extra.append(b"X-Pad: " + b"a" * (15 << 10))
    raw = head(*extra, b"Connection: close", line=b"GET " + path.encode() + b" HTTP/1.1")
    x = exchange(server.http_port, raw, timeout=6)
    assert x.status == 200, x
    assert_healthy(server, site)


@pytest.mark.parametrize("role", ["origin", "mirror"])
@pytest.mark.parametrize("case", list(GARBAGE))
def test_garbage(pair, site, role, case):
    server = server_of(pair, role)
    raw = GARBAGE[case]
    if raw is None:
        x = exchange(server.http_port, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Par", half_close=True)
    else:
        x = exchange(server.http_port, raw, timeout=6)
    assert x.closed, f"connection left open: {x}"
    if case == "crlf-flood-then-request":
        # RFC 9112 §2.2: empty lines before a request line may be ignored, or refused (here
        # they count as lines of the head: 431).
        assert x.status in (200, 400, 431) and len(x.statuses) == 1, x
    elif x.data:
        assert x.status is not None and (400 <= x.status < 500 or x.status == 505), x
        assert len(x.statuses) == 1, x
        assert b"hello from the origin" not in x.data
    # A reply comes at once; only a head that never completes waits for header_timeout (2 s).
    assert x.elapsed < 4, x
    assert_healthy(server, site)


def test_every_class_has_its_count():
    assert (SMUGGLING_COUNT, OVERSIZED_COUNT, GARBAGE_COUNT) == (42, 10, 27)


@pytest.mark.parametrize("role", ["origin", "mirror"])
def test_raw_bytes_of_a_target_are_escaped_in_the_access_log(pair, site, role):
    """A target with bytes past ASCII (which the parser lets through as obs-text) is logged with
    those bytes as \\xHH: the log stays ASCII, one request per line, fields where they belong."""
    server = server_of(pair, role)
    raw_target = b"/images/caf\xc3\xa9-\xff\xfe/x"
    x = exchange(server.http_port, b"GET " + raw_target + b" HTTP/1.1\r\nHost: lxcdn.test\r\n\r\n",
                 timeout=6)
    assert x.status == 404, x  # answered by the handler, which is what writes the access log
    escaped = r"/images/caf\xC3\xA9-\xFF\xFE/x"
    wait_until(lambda: escaped in access_log_targets(server), 5, what="the escaped access log line")
    assert raw_target not in server.log.read_bytes()
    assert_healthy(server, site)
