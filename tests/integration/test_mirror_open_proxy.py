"""The mirror is never an open proxy: its upstream is fixed by config. CONNECT, absolute-form
targets naming another host, foreign Host headers and the forwarding headers proxies trust
(X-Forwarded-Host, Forwarded, ...) must change neither where it fetches from nor where it
redirects paths outside /images/. A trap listener stands for "another host": it must never see a
connection. The origin gets the same treatment (it serves its own root, whatever the request
names). Each test ends with the server alive, no sanitizer report, and a normal client served."""
import re

import pytest

from hostile_lib import (BUILD, HELLO, IMAGE, Trap, access_log_targets, assert_healthy, exchange,
                         pair, site)  # noqa: F401  (pair and site are module fixtures)
from lxcdn_testlib import client_tls_context

ROOTFS = f"/{BUILD}/rootfs.squashfs"


@pytest.fixture
def trap():
    with Trap() as t:
        yield t


def request(target, *fields, method=b"GET"):
    return (method + b" " + target + b" HTTP/1.1\r\n" + b"".join(f + b"\r\n" for f in fields) +
            b"Connection: close\r\n\r\n")


def location(x):
    m = re.search(rb"\r\nLocation: (\S*)\r\n", x.data)
    return m.group(1).decode("latin-1") if m else None


def origin_url(origin, scheme):
    return f"{scheme}://127.0.0.1:{origin.https_port}"


def body_of(x):
    return x.data.partition(b"\r\n\r\n")[2]


CONNECT_CASES = {
    "connect-trap": lambda t: request(t.authority.encode(), b"Host: " + t.authority.encode(),
                                      method=b"CONNECT"),
    "connect-trap-no-host": lambda t: request(t.authority.encode(), method=b"CONNECT"),
    "connect-name": lambda t: request(b"evil.example:443", b"Host: evil.example:443", method=b"CONNECT"),
    "connect-then-tunnel-bytes": lambda t: request(t.authority.encode(), b"Host: " + t.authority.encode(),
                                                   method=b"CONNECT") +
    b"\x16\x03\x01\x00\x05hello",
    "connect-absolute-uri": lambda t: request(f"http://{t.authority}/".encode(), b"Host: x",
                                              method=b"CONNECT"),
    "connect-http10": lambda t: (b"CONNECT " + t.authority.encode() + b" HTTP/1.0\r\n\r\n"),
}


@pytest.mark.parametrize("role", ["mirror", "origin"])
@pytest.mark.parametrize("case", list(CONNECT_CASES))
def test_connect_is_refused_and_connects_nowhere(pair, site, trap, role, case):
    origin, mirror = pair
    server = mirror if role == "mirror" else origin
    before = len(access_log_targets(origin))
    for tls in (None, client_tls_context(server.ca)):
        port = server.https_port if tls else server.http_port
        x = exchange(port, CONNECT_CASES[case](trap), tls=tls, timeout=6)
        assert x.status in (400, 405), x
        assert x.closed and x.elapsed < 4, x
        assert not x.data.startswith(b"HTTP/1.1 200") and b"200 Connection established" not in x.data
    assert trap.connections() == 0
    if role == "mirror":
        assert access_log_targets(origin)[before:] == [], "a CONNECT made the mirror ask its upstream"
    assert_healthy(server, site)


def foreign(trap):
    """Host-like values a request may carry, each naming the trap."""
    a = trap.authority.encode()
    return [
        [b"Host: " + a],
        [b"Host: evil.example"],
        [b"Host: lxcdn.test@" + a],
        [b"Host: " + a, b"X-Forwarded-Host: " + a, b"X-Forwarded-Proto: https",
         b"X-Forwarded-Port: 443", b"Forwarded: for=1.2.3.4;host=" + a + b";proto=https"],
        [b"Host: " + a, b"X-Original-URL: /images/../secret.txt", b"X-Rewrite-URL: http://" + a + b"/"],
        [b"Host: " + a, b"X-HTTP-Method-Override: CONNECT", b"Proxy-Connection: keep-alive",
         b"Via: 1.1 evil.example"],
    ]


def test_image_requests_fetch_from_the_configured_upstream_whatever_the_request_names(pair, site, trap):
    """Absolute-form targets and Host fields naming the trap, over plain HTTP and TLS: every
    image comes from the configured origin (its access log has the request), nothing reaches the
    trap."""
    origin, mirror = pair
    before = len(access_log_targets(origin))
    want = site.files[ROOTFS[1:]]
    a = trap.authority.encode()
    targets = [ROOTFS.encode(), b"http://" + a + ROOTFS.encode(), b"https://" + a + ROOTFS.encode(),
               b"HTTP://evil.example" + ROOTFS.encode(), b"http://lxcdn.test@" + a + ROOTFS.encode()]
    n = 0
    for target in targets:
        for fields in foreign(trap):
            for tls in (None, client_tls_context(mirror.ca)):
                port = mirror.https_port if tls else mirror.http_port
                x = exchange(port, request(target, *fields), tls=tls, timeout=10)
                assert x.status == 200 and body_of(x) == want, (target, fields, x)
                n += 1
    assert n == len(targets) * len(foreign(trap)) * 2
    # Filled once from the origin (then hits), asked by path: never an absolute-form target.
    assert access_log_targets(origin)[before:] == [ROOTFS]
    assert trap.connections() == 0
    assert_healthy(mirror, site)


NON_IMAGE = [b"/streams/v1/index.json", b"/", b"/meta/1.0/index-system", b"/x?y=%2F"]


def test_other_paths_redirect_to_the_configured_origin_whatever_the_request_names(pair, site, trap):
    """A path outside /images/ gets a 302 to the origin of the mirror's config, with the
    request's path and query, the request's scheme, and nothing from Host, an absolute-form
    authority or a forwarding header."""
    origin, mirror = pair
    a = trap.authority.encode()
    before = len(access_log_targets(origin))
    n = 0
    for path in NON_IMAGE:
        for target in (path, b"http://" + a + path, b"https://evil.example" + path,
                       b"http://lxcdn.test@" + a + path):
            for fields in foreign(trap):
                for scheme, tls in (("http", None), ("https", client_tls_context(mirror.ca))):
                    port = mirror.https_port if tls else mirror.http_port
                    x = exchange(port, request(target, *fields), tls=tls, timeout=6)
                    assert x.status == 302, (target, fields, x)
                    assert location(x) == origin_url(origin, scheme) + path.decode(), (target, fields, x)
                    n += 1
    # Absolute-form with nothing after the authority: the origin's root.
    x = exchange(mirror.http_port, request(b"http://" + a, b"Host: " + a))
    assert x.status == 302 and location(x) == origin_url(origin, "http") + "/", x
    assert n == len(NON_IMAGE) * 4 * len(foreign(trap)) * 2
    assert trap.connections() == 0
    assert access_log_targets(origin)[before:] == [], "a redirect made the mirror ask its upstream"
    assert_healthy(mirror, site)


def test_absolute_form_without_a_path_is_refused(pair, site, trap):
    """"http://host?x" and "http://host#x" name no path (RFC 3986 §3.3: the authority ends at
    '?' or '#'); neither server guesses one."""
    origin, mirror = pair
    for server in (origin, mirror):
        for target in (b"http://" + trap.authority.encode() + b"?/images/x",
                       b"http://evil.example#" + IMAGE.encode(), b"http://evil.example?" + HELLO.encode()):
            x = exchange(server.http_port, request(target, b"Host: x"), timeout=6)
            assert x.status == 400, (server.role, target, x)
        assert_healthy(server, site)
    assert trap.connections() == 0


def test_the_origin_serves_its_own_root_whatever_the_request_names(pair, site, trap):
    origin, _ = pair
    a = trap.authority.encode()
    for target in (HELLO.encode(), b"http://" + a + HELLO.encode(), b"https://evil.example" + HELLO.encode()):
        for fields in foreign(trap):
            x = exchange(origin.http_port, request(target, *fields), timeout=6)
            assert x.status == 200 and body_of(x) == site.files["hello.txt"], (target, fields, x)
    assert trap.connections() == 0
    assert_healthy(origin, site)
