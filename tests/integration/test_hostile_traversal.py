"""Path traversal against a running origin and a running mirror of it: dot segments, percent and
double-percent encodings, overlong UTF-8, backslashes, NUL and other control bytes, absolute-form
targets, and symlinks inside the origin's root that lead out of it. A secret sits beside the
origin's root and beside the mirror's cache; no response may contain it, every attempt gets 400,
403 or 404 (the mirror passes its upstream's 403 on, uncached), and the mirror never asks
its upstream for a path that, decoded once as the upstream decodes it, climbs out of a directory.
Each test ends with the server alive, no sanitizer report, and a normal client served."""
import itertools
import re
import urllib.parse

import pytest

from hostile_lib import (access_log_targets, assert_healthy, exchange, pair,  # noqa: F401
                         site)  # (pair and site are module fixtures)

# How ".." is written. Every form a server or something in front of it might decode to "..".
DOTS = {
    "plain": "..",
    "pct-lower": "%2e%2e",
    "pct-upper": "%2E%2E",
    "pct-first": "%2e.",
    "pct-second": ".%2e",
    "double-pct": "%252e%252e",
    "double-pct-nibbles": "%25%32%65%25%32%65",
    "overlong-2byte": "%c0%ae%c0%ae",
    "overlong-2byte-alt": "%c0%2e%c0%2e",
    "overlong-3byte": "%e0%80%ae%e0%80%ae",
    "overlong-4byte": "%f0%80%80%ae%f0%80%80%ae",
    "overlong-raw": "\xc0\xae\xc0\xae",
    "iis-unicode": "%u002e%u002e",
    "fullwidth": "%ef%bc%8e%ef%bc%8e",
    "dot-nul": "..%00",
    "dot-semicolon": "..;",
    "four-dots": "....",
    "dot-space": "..%20",
    "dot-tab": "..%09",
}
# How "/" is written between segments.
SEPARATORS = {
    "slash": "/",
    "pct-slash": "%2f",
    "pct-slash-upper": "%2F",
    "double-pct-slash": "%252f",
    "backslash": "\\",
    "pct-backslash": "%5c",
    "double-pct-backslash": "%255c",
    "overlong-slash": "%c0%af",
    "overlong-backslash": "%c1%9c",
    "slash-dot-slash": "/./",
    "double-slash": "//",
}
# Where the climb starts, with how many levels it takes to leave www/.
PREFIXES = {"root": ("/", 1), "images": ("/images/", 2), "deep": ("/images/debian/12/", 4)}


def dot_segment_variants():
    """Every (dots, separator, prefix) combination, climbing exactly out of the root to
    secret.txt, plus one level more than needed: 19 x 11 x 3 x 2 targets."""
    out = {}
    for (dn, dots), (sn, sep), (pn, (prefix, depth)) in itertools.product(
            DOTS.items(), SEPARATORS.items(), PREFIXES.items()):
        for extra in (0, 1):
            target = prefix + (dots + sep) * (depth + extra) + "secret.txt"
            out[f"{dn}/{sn}/{pn}/+{extra}"] = target.encode("latin-1")
    return out


# Targets that are not dot segments with a separator: NUL, control bytes, query and fragment
# tricks, absolute-form and the names of hidden files inside the root.
OTHER = [
    b"/../secret.txt%00.json", b"/..%00/secret.txt", b"/%00/../secret.txt", b"/secret.txt%00",
    b"/images/%00", b"/..%0d%0a/secret.txt", b"/%0a../secret.txt", b"/..%7f/secret.txt",
    b"/images/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd", b"/../../../../../../etc/passwd",
    b"/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", b"/images/%2e%2e%2f%2e%2e%2fsecret.txt?x=1",
    b"/images/x/..?/../../secret.txt", b"/images/x/..#/../../secret.txt",
    b"http://x/../secret.txt", b"http://x/%2e%2e/secret.txt", b"https://x/..%2fsecret.txt",
    b"HTTP://x/images/../../secret.txt", b"http://x?/../secret.txt", b"http://x#/../secret.txt",
    b"http://../secret.txt", b"http:/../secret.txt", b"//..//secret.txt", b"/.//..//secret.txt",
    b"../secret.txt", b"..%2fsecret.txt", b"secret.txt", b"*", b"./secret.txt",
    b"/images/.git/config", b"/images/%2egit/config", b"/images/debian/.hidden",
    b"/images/debian/%2ehidden", b"/images/debian/.%68idden",
]


def symlink_and_other(site):
    return OTHER + site.symlink_targets


def once_decoded_climbs(target):
    """True if `target`, decoded once the way an upstream decodes it, has a '..' or '.' segment,
    a backslash, or a NUL, i.e. if it could lead an upstream out of a directory."""
    path = urllib.parse.unquote_to_bytes(target.split("?")[0])
    segments = re.split(rb"[/\\]", path)
    return b"\\" in path or b"\x00" in path or any(s in (b"..", b".") for s in segments)


def attempt(server, target, tls):
    """One traversal attempt on its own connection. Returns the Exchange."""
    ctx = None
    if tls:
        from lxcdn_testlib import client_tls_context
        ctx = client_tls_context(server.ca)
    port = server.https_port if tls else server.http_port
    return exchange(port, b"GET " + target + b" HTTP/1.1\r\nHost: lxcdn.test\r\nConnection: close\r\n\r\n",
                    tls=ctx, timeout=6)


def origin_redirect(x, origin):
    """True if `x` is a mirror's 302 to its configured origin (what it answers for every path
    outside /images/: the origin then decides, and refuses, see the origin's runs)."""
    m = re.search(rb"\r\nLocation: (\S+)\r\n", x.data)
    return (x.status == 302 and m is not None and
            re.match(rf"https?://127\.0\.0\.1:{origin.https_port}/".encode(), m.group(1)) is not None)


def run_attempts(server, site, targets, allowed, tls=False, origin=None):
    """Sends every target; returns the list of failures (empty if all were refused). With
    `origin` (for a mirror), a 302 to that origin is a refusal too."""
    failures = []
    for name, target in targets:
        x = attempt(server, target, tls)
        if site.secret_bytes in x.data or b"root:x:0:0" in x.data:
            failures.append((name, target, "SECRET SERVED", x))
        elif not x.closed or (x.status not in allowed and not (origin and origin_redirect(x, origin))):
            failures.append((name, target, "unexpected outcome", x))
    return failures


def check_mirror_upstream(origin, before, expected_min=0):
    """The mirror's upstream requests since `before` (entries of the origin's access log): none
    may climb out of a directory once decoded."""
    asked = access_log_targets(origin)[before:]
    climbing = [t for t in asked if once_decoded_climbs(t)]
    assert climbing == [], f"the mirror asked its upstream for climbing paths: {climbing}"
    return asked


VARIANTS = dot_segment_variants()


def test_there_are_at_least_a_hundred_variants(site):
    assert len(VARIANTS) >= 1000
    assert len(OTHER) + len(site.symlink_targets) >= 45
    assert len(set(VARIANTS.values())) == len(VARIANTS)


@pytest.mark.parametrize("role", ["origin", "mirror"])
@pytest.mark.parametrize("dots", list(DOTS))
def test_dot_segments(pair, site, role, dots):
    """Every separator and starting point for one spelling of '..' (66 targets each)."""
    origin, mirror = pair
    server = origin if role == "origin" else mirror
    before = len(access_log_targets(origin))
    targets = [(k, v) for k, v in VARIANTS.items() if k.startswith(dots + "/")]
    assert len(targets) == len(SEPARATORS) * len(PREFIXES) * 2
    failures = run_attempts(server, site, targets, allowed=(400, 403, 404),
                            origin=origin if role == "mirror" else None)
    assert failures == [], "\n".join(map(repr, failures[:20]))
    if role == "mirror":
        check_mirror_upstream(origin, before)
    assert_healthy(server, site)


@pytest.mark.parametrize("role", ["origin", "mirror"])
def test_nul_control_absolute_form_hidden_and_symlinks(pair, site, role):
    origin, mirror = pair
    server = origin if role == "origin" else mirror
    before = len(access_log_targets(origin))
    targets = [(t.decode("latin-1"), t) for t in symlink_and_other(site)]
    # The mirror passes its upstream's 403 for a symlink out of the origin's root on as a 403
    # (mirror::is_passed_on), never the file.
    allowed = (400, 403, 404)
    failures = run_attempts(server, site, targets, allowed, origin=origin if role == "mirror" else None)
    assert failures == [], "\n".join(map(repr, failures[:20]))
    if role == "mirror":
        check_mirror_upstream(origin, before)
    assert_healthy(server, site)


@pytest.mark.parametrize("role", ["origin", "mirror"])
def test_symlinks_out_of_the_root_are_403_on_the_origin(pair, site, role):
    """The origin refuses escaping symlinks with 403 (a loop: 404; docs/errors.md) and follows
    one that stays inside the root; a mirror in front of it gives the same refusal (the origin's
    403 passed on, uncached), no secret in a body or in its cache."""
    origin, mirror = pair
    server = origin if role == "origin" else mirror
    for target in site.symlink_targets:
        x = attempt(server, target, tls=False)
        # "dir-out/../x", "dir-out%2fx": refused as a target before any lookup (400).
        expected = (400, 403, 404)
        assert x.status in expected, (target, x)
        assert site.secret_bytes not in x.data
        if role == "origin" and b"/../" not in target and b"%2f" not in target:
            assert x.status in (403, 404), (target, x)
    x = attempt(server, site.inside_symlink, tls=False)
    assert x.status == 200 and x.data.endswith(site.files["hello.txt"]), x
    if role == "mirror":
        entries = [p for p in (mirror.cache_dir / "objects").rglob("*") if p.is_file()]
        for p in entries:
            assert site.secret_bytes not in p.read_bytes(), p
    assert_healthy(server, site)


@pytest.mark.parametrize("role", ["origin", "mirror"])
def test_a_sample_over_tls(pair, site, role):
    """The TLS listener runs the same code: one spelling per class over TLS."""
    origin, mirror = pair
    server = origin if role == "origin" else mirror
    sample = [(k, v) for k, v in VARIANTS.items() if k.endswith("/images/+0")]
    sample += [(t.decode("latin-1"), t) for t in OTHER]
    allowed = (400, 403, 404)
    failures = run_attempts(server, site, sample, allowed, tls=True,
                            origin=origin if role == "mirror" else None)
    assert failures == [], "\n".join(map(repr, failures[:20]))
    assert_healthy(server, site)


def test_mirror_refusals_on_one_keep_alive_connection(pair, site):
    """Refusals in a row on one mirror connection: none may leave it in a state where the next
    request escapes (the origin's: test_origin_traversal.py)."""
    from lxcdn_testlib import RawConnection
    origin, server = pair
    targets = [v for k, v in VARIANTS.items() if k.endswith("/root/+0")] + OTHER
    c = RawConnection("127.0.0.1", server.http_port, timeout=6)
    seen, reconnects = b"", 0
    try:
        for target in targets:
            try:
                c.send(b"GET " + target + b" HTTP/1.1\r\nHost: lxcdn.test\r\n\r\n")
                r = c.read_response()
            except (EOFError, BrokenPipeError, ConnectionResetError):
                c.close()
                c = RawConnection("127.0.0.1", server.http_port, timeout=6)
                reconnects += 1
                continue
            seen += r.raw
            redirect = r.status == 302 and re.match(
                rf"http://127\.0\.0\.1:{origin.https_port}/", r.header("Location") or "")
            assert r.status in (400, 403, 404) or redirect, (target, r)
    finally:
        c.close()
    assert site.secret_bytes not in seen
    assert_healthy(server, site)
