"""kill -9 at random points, 50 trials each (LXCDN_KILL_TRIALS to change it), of the origin while
clients download and of the mirror while it fills from a rate-limited nginx. (The publisher's
50 trials are in test_publish_atomic.py.) After every kill nothing half-written is ever served:
a client either got the exact bytes or a transfer visibly cut short of its Content-Length; after
a restart every file is served whole and right, and a mirror has no temp file left and only
complete entries.

The random points come from a seed printed on failure (LXCDN_KILL_SEED replays it).
"""
import hashlib
import os
import random
import threading
import time

import pytest

from lxcdn_testlib import (Mirror, Nginx, Origin, RawConnection, client_tls_context, indexed_tree,
                           mirror_yaml, origin_yaml, read_body, split_url)

TRIALS = int(os.environ.get("LXCDN_KILL_TRIALS", "50"))
MiB = 1 << 20
FILES = [f"/images/kill/{n}/amd64/default/20240101/rootfs.squashfs" for n in range(1, 7)]


@pytest.fixture(scope="module")
def rng():
    seed = int(os.environ.get("LXCDN_KILL_SEED", int.from_bytes(os.urandom(4), "big")))
    print(f"LXCDN_KILL_SEED={seed}")
    return random.Random(seed)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    files = indexed_tree(root, [(p.rsplit("/", 1)[0][1:], 1024, 3 * MiB) for p in FILES])
    return root, {"/" + k: v for k, v in files.items() if k.endswith("rootfs.squashfs")}


def download(base_url, path, tls=None, timeout=30):
    """(status, body, complete) of one GET; a connection cut before the head is (None, b"", False)."""
    _, host, port = split_url(base_url)
    try:
        with RawConnection(host, port, tls=tls, server_hostname="localhost" if tls else None,
                           timeout=timeout) as c:
            c.get(path)
            head = c.read_response(head_only=True)
            return (head.status, *read_body(c, head))
    except Exception:  # noqa: BLE001  (reset, EOF before the head: what a kill looks like)
        return None, b"", False


def assert_never_wrong(results, files):
    """Every transfer is either the exact file or visibly incomplete."""
    for path, (status, body, complete) in results:
        if status == 200 and complete:
            assert body == files[path], f"{path}: a complete-looking response with wrong bytes"
        else:
            assert body == files[path][:len(body)], f"{path}: the bytes that arrived are wrong"


def concurrent(fn, jobs):
    out = [None] * len(jobs)
    threads = [threading.Thread(target=lambda i=i, j=j: out.__setitem__(i, (j[0], fn(*j))))
               for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    return threads, out


def test_origin_killed_at_random_points_never_serves_a_wrong_file(tmp_path, certs, tree, rng):
    root, files = tree
    ca, chain, key = certs
    tls = client_tls_context(ca)
    o = Origin(tmp_path / "origin", origin_yaml(root, chain, key))
    interrupted = 0
    for trial in range(TRIALS):
        o.start()
        jobs = [(p, o.https if i % 2 else o.http) for i, p in enumerate(rng.sample(FILES, 4))]
        threads, results = concurrent(lambda p, base: download(base, p, tls if base == o.https else None),
                                      jobs)
        time.sleep(rng.uniform(0, 0.15))
        o.kill()
        for t in threads:
            t.join(60)
        assert_never_wrong(results, files)
        interrupted += sum(1 for _, (s, _, c) in results if not (s == 200 and c))
    o.start()
    try:
        for p in FILES:
            assert download(o.http, p) == (200, files[p], True)
    finally:
        o.stop()
    assert interrupted > 0, "no download was ever cut by a kill: the kill points were all too late"


@pytest.fixture(scope="module")
def slow_upstream(tree, certs, tmp_path_factory):
    """nginx serving the tree at 8 MiB/s per connection: a 3 MiB fill takes about 0.4 s."""
    ca, chain, key = certs
    with Nginx(tmp_path_factory.mktemp("nginx"), tree[0], chain, key,
               "        location /images/ { limit_rate 8m; }\n") as n:
        n.ca = ca
        yield n


def test_mirror_killed_at_random_points_keeps_only_complete_entries(tmp_path, slow_upstream, tree,
                                                                     rng):
    _, files = tree
    cache_dir = tmp_path / "cache"
    m = Mirror(tmp_path / "mirror", mirror_yaml(cache_dir, slow_upstream.url, ca_file=slow_upstream.ca),
               cache_dir=cache_dir)
    killed_mid_fill = 0
    for trial in range(TRIALS):
        m.start()
        # What the cache holds now was committed before an earlier kill: it must be served whole.
        assert m.temp_files() == [], "temp files of killed fills survived the restart"
        cached = [p for p in FILES if m.object_path(p).exists()]
        for p in cached:
            assert download(m.http, p) == (200, files[p], True)
        m.wait_index_loaded()
        jobs = [(p, m.http) for p in rng.sample(FILES, 3)]
        threads, results = concurrent(lambda p, base: download(base, p), jobs)
        time.sleep(rng.uniform(0, 0.6))
        killed_mid_fill += bool(m.temp_files())
        m.kill()
        for t in threads:
            t.join(60)
        assert_never_wrong(results, files)
        if len(cached) == len(FILES):  # start again from an empty cache now and then
            for p in FILES:
                m.object_path(p).unlink()
    m.start()
    try:
        m.wait_index_loaded()
        for p in FILES:
            assert download(m.http, p) == (200, files[p], True)
    finally:
        m.stop()
    assert killed_mid_fill > 0, "no kill fell in the middle of a fill"
