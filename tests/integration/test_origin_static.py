"""Static serving of the published tree as a user sees it: caching headers by part of the tree,
content types, gzip for JSON from the precompressed sibling, paths lxc-ci and lxc-download send
(':' raw and encoded, '//'), dotfiles refused, exact bytes (checked with curl too)."""
import gzip
import hashlib
import json
import os
import re
import subprocess

import pytest

from conftest import SERIAL_DIR
from lxcdn_testlib import (LXCDN_BIN, Origin, RawConnection, client_tls_context, origin_yaml, run,
                           small_window_connection)


def get(origin, path, headers=(), method="GET"):
    with RawConnection(origin.host, origin.http_port) as c:
        c.get(path, headers, method=method)
        return c.read_response(head_only=(method == "HEAD"))


def max_age(cache_control):
    m = re.search(r"max-age=(\d+)", cache_control or "")
    return int(m.group(1)) if m else None


def test_images_are_cached_long_and_immutable(origin):
    r = get(origin, f"/{SERIAL_DIR}/incus.tar.xz")
    assert r.status == 200
    cc = r.header("Cache-Control")
    assert "immutable" in cc and "public" in cc, cc
    assert max_age(cc) >= 86400 * 30, cc


@pytest.mark.parametrize("path", ["/streams/v1/index.json", "/streams/v1/images.json"])
def test_streams_are_cached_briefly(origin, path):
    for headers in ((), ("Accept-Encoding: gzip",)):
        cc = get(origin, path, headers).header("Cache-Control")
        assert cc and "immutable" not in cc, cc
        assert max_age(cc) is not None and max_age(cc) <= 300, cc


def test_304_carries_the_same_cache_control(origin):
    r = get(origin, "/streams/v1/index.json")
    r304 = get(origin, "/streams/v1/index.json", [f"If-None-Match: {r.header('ETag')}"])
    assert r304.status == 304
    assert r304.header("Cache-Control") == r.header("Cache-Control")


@pytest.mark.parametrize("path,ctype", [
    ("/streams/v1/index.json", "application/json"),
    ("/streams/v1/nogz.json", "application/json"),
    (f"/{SERIAL_DIR}/incus.tar.xz", "application/x-xz"),
    (f"/{SERIAL_DIR}/rootfs.squashfs", "application/octet-stream"),
    (f"/{SERIAL_DIR}/SHA256SUMS", "text/plain"),
])
def test_content_type_by_name(origin, path, ctype):
    r = get(origin, path, method="HEAD")
    assert r.status == 200
    assert r.header("Content-Type", "").split(";")[0].strip() == ctype


@pytest.mark.parametrize("rel", ["streams/v1/index.json", "streams/v1/images.json"])
def test_json_is_gzipped_from_the_sibling_when_accepted(origin, tree, rel):
    r = get(origin, "/" + rel, ["Accept-Encoding: gzip, deflate, br"])
    assert r.status == 200
    assert r.header("Content-Encoding") == "gzip"
    assert "accept-encoding" in (r.header("Vary") or "").lower()
    assert r.header("Content-Type", "").startswith("application/json")
    assert r.body == tree.files[rel + ".gz"], "not the precompressed sibling's bytes"
    assert gzip.decompress(r.body) == tree.files[rel]
    assert int(r.header("Content-Length")) == len(tree.files[rel + ".gz"])


def test_json_without_accept_encoding_is_identity_with_vary(origin, tree):
    r = get(origin, "/streams/v1/images.json")
    assert r.status == 200 and r.header("Content-Encoding") is None
    assert r.body == tree.images_text
    assert "accept-encoding" in (r.header("Vary") or "").lower(), "caches would mix the two encodings"


def test_gzip_refused_by_q0_is_not_sent(origin, tree):
    r = get(origin, "/streams/v1/images.json", ["Accept-Encoding: gzip;q=0, identity"])
    assert r.status == 200 and r.header("Content-Encoding") is None
    assert r.body == tree.images_text


def test_gzip_and_identity_have_different_etags(origin):
    # RFC 9110 §8.8.3: a strong validator differs between representations (content codings).
    plain = get(origin, "/streams/v1/images.json").header("ETag")
    gz = get(origin, "/streams/v1/images.json", ["Accept-Encoding: gzip"]).header("ETag")
    assert plain and gz and plain != gz


def test_head_with_gzip_reports_the_compressed_length(origin, tree):
    r = get(origin, "/streams/v1/images.json", ["Accept-Encoding: gzip"], method="HEAD")
    assert r.header("Content-Encoding") == "gzip"
    assert int(r.header("Content-Length")) == len(tree.files["streams/v1/images.json.gz"])


def test_json_without_sibling_is_served_identity(origin, tree):
    r = get(origin, "/streams/v1/nogz.json", ["Accept-Encoding: gzip"])
    assert r.status == 200 and r.header("Content-Encoding") is None
    assert r.body == tree.files["streams/v1/nogz.json"]


def test_stale_sibling_older_than_the_json_is_not_used(origin, tree):
    r = get(origin, "/streams/v1/stale.json", ["Accept-Encoding: gzip"])
    assert r.status == 200 and r.header("Content-Encoding") is None
    assert r.body == tree.files["streams/v1/stale.json"]


def test_non_json_is_never_gzipped(origin, tree):
    r = get(origin, f"/{SERIAL_DIR}/incus.tar.xz", ["Accept-Encoding: gzip"])
    assert r.status == 200 and r.header("Content-Encoding") is None
    assert r.body == tree.files[f"{SERIAL_DIR}/incus.tar.xz"]


def test_range_on_gzipped_json_is_consistent(origin, tree):
    r = get(origin, "/streams/v1/images.json", ["Accept-Encoding: gzip", "Range: bytes=0-9"])
    if r.status == 206:
        enc = r.header("Content-Encoding")
        source = tree.files["streams/v1/images.json.gz" if enc == "gzip" else "streams/v1/images.json"]
        assert r.body == source[:10]
        assert r.header("Content-Range") == f"bytes 0-9/{len(source)}"
    else:
        assert r.status == 200
        body = gzip.decompress(r.body) if r.header("Content-Encoding") == "gzip" else r.body
        assert body == tree.images_text


def test_curl_compressed_sees_the_exact_json(origin, tree):
    out = run(["curl", "-sS", "--fail", "--compressed", "-D", "-", "-o", "/dev/stdout",
               f"{origin.http}/streams/v1/images.json"], text=False).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    assert b"content-encoding: gzip" in head.lower()
    assert body == tree.images_text


def test_gzip_sibling_written_by_lxcdn_index(tmp_path):
    root = tmp_path / "www"
    (root / "images").mkdir(parents=True)
    run([LXCDN_BIN, "index", str(root)])
    idx = (root / "streams/v1/index.json").read_bytes()
    assert (root / "streams/v1/index.json.gz").exists(), "lxcdn index wrote no .gz sibling"
    with Origin(tmp_path / "o", origin_yaml(root)) as o:
        o.host = "127.0.0.1"
        r = get(o, "/streams/v1/index.json", ["Accept-Encoding: gzip"])
        assert r.status == 200 and r.header("Content-Encoding") == "gzip"
        assert gzip.decompress(r.body) == idx
        json.loads(gzip.decompress(r.body))


@pytest.mark.parametrize("path", [
    f"/{SERIAL_DIR}/incus.tar.xz",
    f"/{SERIAL_DIR.replace(':', '%3A')}/incus.tar.xz",
    f"/{SERIAL_DIR.replace(':', '%3a')}/incus.tar.xz",
    f"//{SERIAL_DIR.replace('/', '//')}//incus.tar.xz",
    f"/{SERIAL_DIR}/./incus.tar.xz",
    f"/{SERIAL_DIR}/incus.tar.xz?cache-buster=1",
    f"http://images.example.net/{SERIAL_DIR}/incus.tar.xz",
    f"/{SERIAL_DIR}/incus%2Etar%2Exz",
])
def test_path_spellings_lxc_clients_send(origin, tree, path):
    r = get(origin, path)
    assert r.status == 200, (path, r)
    assert r.body == tree.files[f"{SERIAL_DIR}/incus.tar.xz"]


def test_curl_downloads_with_colon_in_path(origin, tree):
    out = run(["curl", "-sS", "--fail", "--path-as-is", f"{origin.http}/{SERIAL_DIR}/incus.tar.xz"],
              text=False).stdout
    assert out == tree.files[f"{SERIAL_DIR}/incus.tar.xz"]


@pytest.mark.parametrize("path", [
    "/.htpasswd", "/images/.git/config", "/images/debian/.hidden", "/streams/v1/.images.json.tmp.1",
    "/%2ehtpasswd", "/images/%2Egit/config", "/images/.git/", "/streams/v1/%2eimages.json.tmp.1",
])
def test_dotfiles_are_refused(origin, tree, path):
    with RawConnection(origin.host, origin.http_port) as c:
        c.get(path)
        r = c.read_response()
    assert r.status in (400, 403, 404), (path, r)
    assert tree.secret_bytes not in r.raw


def test_large_file_with_curl_exact_sha256(origin, tree, tmp_path):
    rel = f"{SERIAL_DIR}/rootfs.squashfs"
    out = tmp_path / "rootfs"
    res = run(["curl", "-sS", "--fail", "-o", str(out), "-w", "%{http_code} %{size_download}",
               f"{origin.http}/{rel}"])
    assert res.stdout == f"200 {len(tree.files[rel])}"
    assert hashlib.sha256(out.read_bytes()).hexdigest() == tree.sha256(rel)


def test_file_replaced_while_served_keeps_each_response_consistent(origin, tree):
    """Publication replaces files by rename; a response is either all old or all new bytes."""
    rel = "streams/v1/swap.json"
    old, new = b'{"v": "old"}' + b" " * 5000, b'{"v": "new"}'
    p = tree.add(rel, old)
    with RawConnection(origin.host, origin.http_port) as c:
        c.get("/" + rel)
        assert c.read_response().body == old
        tmp = p.with_name(".swap.json.tmp")
        tmp.write_bytes(new)
        os.replace(tmp, p)
        c.get("/" + rel)
        r = c.read_response()
        assert r.body == new and int(r.header("Content-Length")) == len(new)


def test_curl_head_matches_get(origin, tree):
    rel = "streams/v1/images.json"
    head = subprocess.run(["curl", "-sS", "-I", f"{origin.http}/{rel}"], capture_output=True, text=True,
                          check=True).stdout.lower()
    assert f"content-length: {len(tree.files[rel])}" in head
    assert head.startswith("http/1.1 200")


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_file_truncated_while_served_cuts_the_response_never_pads_it(origin, tree, scheme):
    """A file shrinking under a response (never done by the publisher, which renames) must end the
    connection early: a short body the client detects, not padding or bytes from elsewhere.
    With sendfile(2) the bytes already queued in the socket are page references, not copies, and
    truncation zeroes them in flight (seen here on ext4): over plain HTTP only the bytes
    before the truncation point are checked. That is why the publisher must never modify a
    published file in place."""
    rel = f"images/trunc-{scheme}/blob.bin"
    data = os.urandom(16 << 20)
    path = tree.add(rel, data)
    port = origin.http_port if scheme == "http" else origin.https_port
    c = small_window_connection("127.0.0.1", port, client_tls_context(origin.ca) if scheme == "https" else None,
                                timeout=10)
    try:
        c.get("/" + rel)
        while b"\r\n\r\n" not in c.buf:
            assert c._fill()
        head, body = c.buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200") and b"Content-Length: %d" % len(data) in head
        with open(path, "r+b") as f:
            f.truncate(1 << 20)
        c.buf = body
        while c._fill():
            assert len(c.buf) <= len(data)
        assert len(c.buf) < len(data), "the whole original file arrived although it was truncated"
        checked = len(c.buf) if scheme == "https" else min(len(c.buf), 1 << 20)
        assert c.buf[:checked] == data[:checked], "bytes that were never in the file"
    finally:
        c.close()
    with RawConnection(origin.host, origin.http_port) as c2:
        c2.get("/hello.txt")
        assert c2.read_response().status == 200
