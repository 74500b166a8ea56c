"""Path traversal: raw request lines (clients would normalise them) and symlinks inside the root
that point out of it. A secret file sits just outside the root; no response may contain its
bytes, and every attempt must be refused with 400, 403 or 404."""
import os

import pytest

from conftest import build_tree
from lxcdn_testlib import Origin, RawConnection, client_tls_context, origin_yaml

# Relative to the served root `www/`, the secret is `../secret.txt` and `../outside/secret2.txt`.
TARGETS = [
    b"/../secret.txt",
    b"/images/../../secret.txt",
    b"/%2e%2e/secret.txt",
    b"/%2E%2E/secret.txt",
    b"/.%2e/secret.txt",
    b"/%2e./secret.txt",
    b"/.%2E/secret.txt",
    b"/..%2fsecret.txt",
    b"/..%2Fsecret.txt",
    b"/images/..%2f..%2fsecret.txt",
    b"/%2e%2e%2fsecret.txt",
    b"/images%2f..%2f..%2fsecret.txt",
    b"/images%2f%2e%2e%2f%2e%2e%2fsecret.txt",
    b"/..%5csecret.txt",
    b"/%2e%2e%5csecret.txt",
    b"/images/..%5c..%5csecret.txt",
    b"/..\\secret.txt",
    b"/images\\..\\..\\secret.txt",
    b"/%252e%252e/secret.txt",
    b"/%252e%252e%252fsecret.txt",
    b"/%25%32%65%25%32%65/secret.txt",
    b"/%c0%ae%c0%ae/secret.txt",
    b"/%c0%2e%c0%2e/secret.txt",
    b"/%e0%80%ae%e0%80%ae/secret.txt",
    b"/..%c0%afsecret.txt",
    b"/%ef%bc%8e%ef%bc%8e/secret.txt",
    b"/\xc0\xae\xc0\xae/secret.txt",
    b"/%u002e%u002e/secret.txt",
    b"/../secret.txt%00.json",
    b"/..%00/secret.txt",
    b"/%00/../secret.txt",
    b"/..%0d%0a/secret.txt",
    b"http://x/../secret.txt",
    b"http://x/%2e%2e/secret.txt",
    b"https://x/..%2fsecret.txt",
    b"HTTP://x/images/../../secret.txt",
    b"//..//secret.txt",
    b"/.//..//secret.txt",
    b"/./../secret.txt",
    b"/images/./.././../secret.txt",
    b"/....//....//secret.txt",
    b"/..;/secret.txt",
    b"/%2e%2e;/secret.txt",
    b"../secret.txt",
    b"..%2fsecret.txt",
    b"secret.txt",
    b"/images/link-out",
    b"/images/abs-link",
    b"/images/dir-out/secret2.txt",
    b"/images/dir-out/../../secret.txt",
    b"/images/dir-out%2fsecret2.txt",
    b"/streams/v1/link.json",
    b"/images/link-dir-chain/secret2.txt",
]


@pytest.fixture(scope="module")
def jail(tmp_path_factory, certs):
    """A tree with escaping symlinks inside it, and an origin serving it (plain and TLS)."""
    base = tmp_path_factory.mktemp("jail")
    t = build_tree(base, large_size=4096)
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret2.txt").write_bytes(t.secret_bytes)
    os.symlink("../../secret.txt", t.root / "images/link-out")
    os.symlink(str(t.secret), t.root / "images/abs-link")
    os.symlink(str(outside), t.root / "images/dir-out")
    os.symlink("../../../secret.txt", t.root / "streams/v1/link.json")
    os.symlink("dir-out", t.root / "images/link-dir-chain")
    assert (t.root / "images/link-out").read_bytes() == t.secret_bytes  # the links really escape
    assert (t.root / "images/dir-out/secret2.txt").read_bytes() == t.secret_bytes
    ca, chain, key = certs
    o = Origin(base / "origin", origin_yaml(t.root, chain, key))
    o.start()
    o.host, o.ca, o.tree = "127.0.0.1", ca, t
    yield o
    o.stop()


def fetch_raw(jail, target, tls=False):
    ctx = client_tls_context(jail.ca) if tls else None
    port = jail.https_port if tls else jail.http_port
    with RawConnection(jail.host, port, tls=ctx, server_hostname="localhost" if tls else None,
                       timeout=5) as c:
        c.send(b"GET " + target + b" HTTP/1.1\r\nHost: lxcdn.test\r\nConnection: close\r\n\r\n")
        r = c.read_response()
        closed, extra = c.wait_closed(timeout=5)
        return r, closed, extra


def test_control_the_tree_is_served(jail):
    r, _, _ = fetch_raw(jail, b"/hello.txt")
    assert r.status == 200 and r.body == jail.tree.files["hello.txt"]


@pytest.mark.parametrize("target", TARGETS, ids=lambda b: b.decode("latin-1").encode("unicode_escape").decode())
def test_traversal_is_refused(jail, target):
    r, closed, extra = fetch_raw(jail, target)
    assert r.status in (400, 403, 404), (target, r)
    assert jail.tree.secret_bytes not in r.raw + extra
    assert closed, "Connection: close not honoured after a refusal"


def test_traversal_is_refused_over_tls(jail):
    for target in TARGETS:
        r, _, extra = fetch_raw(jail, target, tls=True)
        assert r.status in (400, 403, 404), (target, r)
        assert jail.tree.secret_bytes not in r.raw + extra


def test_traversal_is_refused_on_one_keep_alive_connection(jail):
    """The refusals must not leave a connection in a state where the next request escapes."""
    c = RawConnection(jail.host, jail.http_port, timeout=5)
    seen = b""
    try:
        for target in TARGETS:
            try:
                c.send(b"GET " + target + b" HTTP/1.1\r\nHost: lxcdn.test\r\n\r\n")
                r = c.read_response()
            except (EOFError, BrokenPipeError, ConnectionResetError):
                c.close()
                c = RawConnection(jail.host, jail.http_port, timeout=5)
                continue
            seen += r.raw
            assert r.status in (400, 403, 404), (target, r)
    finally:
        c.close()
    assert jail.tree.secret_bytes not in seen
