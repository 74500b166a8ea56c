"""`lxcdn mirror` whose cache disk fails: full in the middle of a fill, or read-only. The mirror
must keep serving (the clients get every byte, right, straight from the origin), report it on
/.lxcdn/status and /metrics, leave no temp files, and go back to caching by itself once the disk
takes writes again. A wrong body passed through must still never arrive complete.

Each mirror runs in a private mount namespace (unshare) with a small tmpfs as its cache
directory, so the test can fill it up or remount it read-only without touching the machine;
the test reads the mirror's view of it through /proc/PID/root.
"""
import hashlib
import subprocess
import threading
from pathlib import Path

import pytest

from lxcdn_testlib import (Mirror, access_log_targets, indexed_tree, mirror_yaml, read_body,
                           start_origin)

MiB = 1 << 20
BIG = "/images/disk/1/amd64/default/20240101/rootfs.squashfs"      # 16 MiB: cannot fit
SMALL = "/images/disk/2/amd64/default/20240101/rootfs.squashfs"    # 1 MiB: fits
SMALL2 = "/images/disk/3/amd64/default/20240101/rootfs.squashfs"   # 1 MiB: fits
WRONG = "/images/disk/4/amd64/default/20240101/rootfs.squashfs"    # 16 MiB, one byte changed
TMPFS_BYTES = 6 * MiB


class TmpfsMirror(Mirror):
    """A mirror whose cache.dir is a tmpfs of TMPFS_BYTES in its own mount namespace."""

    def __init__(self, workdir, text, cache_dir):
        super().__init__(workdir, text, cache_dir=cache_dir)
        self.prefix = ("unshare", "--mount", "--propagation", "private", "sh", "-c",
                       f'mount -t tmpfs -o size={TMPFS_BYTES} lxcdn-test "$0" && exec "$@"',
                       str(cache_dir))

    def seen(self, path):
        """`path` (under cache_dir) as the mirror sees it: inside its namespace."""
        return Path(f"/proc/{self.proc.pid}/root{path}")

    def temp_files(self):
        d = self.seen(self.cache_dir / "tmp")
        return sorted(d.iterdir()) if d.is_dir() else []

    def remount(self, mode):
        subprocess.run(["nsenter", "-t", str(self.proc.pid), "-m", "mount", "-o",
                        f"remount,{mode}", str(self.cache_dir)], check=True)


@pytest.fixture(scope="module")
def origin(tmp_path_factory, certs):
    root = tmp_path_factory.mktemp("www")
    files = indexed_tree(root, [(BIG.rsplit("/", 1)[0][1:], 1024, 16 * MiB),
                                (SMALL.rsplit("/", 1)[0][1:], 1024, MiB),
                                (SMALL2.rsplit("/", 1)[0][1:], 1024, MiB),
                                (WRONG.rsplit("/", 1)[0][1:], 1024, 16 * MiB)])
    # WRONG: the index has the sha256 of the original; the origin now serves one byte changed
    # near the end, past what fits on the mirror's disk (same size, so only the hash tells).
    with open(root / WRONG[1:], "r+b") as f:
        at = 15 * MiB
        f.seek(at)
        f.write(bytes([files[WRONG[1:]][at] ^ 0xFF]))
    files[WRONG[1:]] = (root / WRONG[1:]).read_bytes()  # what the origin serves
    o = start_origin(tmp_path_factory.mktemp("origin"), root, certs, access_log=True)
    o.files = {"/" + k: v for k, v in files.items()}
    yield o
    o.stop()


@pytest.fixture
def mirror(tmp_path, certs, origin):
    ca, _, _ = certs
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    m = TmpfsMirror(tmp_path / "mirror", mirror_yaml(cache_dir, origin.https, ca_file=ca), cache_dir)
    m.start()
    m.wait_index_loaded()
    yield m
    m.stop()


def fetch(m, path):
    """(status, body, complete, X-Cache) of one GET through the mirror."""
    with m.connection(timeout=60) as c:
        c.get(path)
        head = c.read_response(head_only=True)
        return (head.status, *read_body(c, head), head.header("X-Cache"))


def test_a_disk_that_fills_up_mid_fill_still_gives_every_client_the_whole_file(mirror, origin):
    want = origin.files[BIG]
    results = [None] * 4

    def client(i):
        results[i] = fetch(mirror, BIG)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    for status, body, complete, _ in results:
        assert status == 200 and complete
        assert hashlib.sha256(body).hexdigest() == hashlib.sha256(want).hexdigest()

    assert mirror.metric("lxcdn_mirror_cache_write_errors_total") >= 1
    assert mirror.metric("lxcdn_mirror_passthrough_total") >= 1
    assert mirror.metric("lxcdn_mirror_fills_committed_total") == 0
    cache = mirror.status()["cache"]
    assert cache["write_errors"] >= 1 and not cache["writable"] and cache["last_write_error_at"] > 0
    assert "serving without the cache" in mirror.stderr_text()
    assert mirror.temp_files() == [], "a failed fill left its temp file on the full disk"
    assert not mirror.seen(mirror.object_path(BIG)).exists()
    # The clients that had part of the file went on with Range requests to the origin.
    assert BIG in [t for t, _ in access_log_targets(origin.stderr_text())]

    # There is still room for a small file: the mirror caches again by itself.
    status, body, complete, xcache = fetch(mirror, SMALL)
    assert (status, complete, body == origin.files[SMALL], xcache) == (200, True, True, "MISS")
    mirror.wait_metric("lxcdn_mirror_fills_committed_total", lambda v: v == 1)
    status, body, complete, xcache = fetch(mirror, SMALL)
    assert (status, complete, body == origin.files[SMALL], xcache) == (200, True, True, "HIT")
    assert mirror.status()["cache"]["writable"]


def test_a_read_only_cache_passes_through_and_recovers_when_writable_again(mirror, origin):
    mirror.remount("ro")
    for _ in range(2):  # every request goes to the origin: nothing can be cached
        status, body, complete, _ = fetch(mirror, SMALL)
        assert (status, complete, body == origin.files[SMALL]) == (200, True, True)
    assert mirror.metric("lxcdn_mirror_passthrough_total") == 2
    assert mirror.metric("lxcdn_mirror_cache_write_errors_total") == 2
    assert not mirror.status()["cache"]["writable"]
    assert mirror.proc.poll() is None

    mirror.remount("rw")
    status, body, complete, _ = fetch(mirror, SMALL2)
    assert (status, complete, body == origin.files[SMALL2]) == (200, True, True)
    mirror.wait_metric("lxcdn_mirror_fills_committed_total", lambda v: v == 1)
    status, body, complete, xcache = fetch(mirror, SMALL2)
    assert (status, complete, xcache) == (200, True, "HIT")
    assert mirror.status()["cache"]["writable"]


def test_a_wrong_body_passed_through_never_arrives_complete(mirror, origin):
    status, body, complete, _ = fetch(mirror, WRONG)
    assert status == 200
    assert not complete, "a body whose sha256 differs from the index reached the client whole"
    assert len(body) <= 16 * MiB - 64 * 1024  # the held-back end never left the mirror
    assert body == origin.files[WRONG][:len(body)]
    mirror.wait_metric("lxcdn_mirror_integrity_failures_total", lambda v: v >= 1)
    assert mirror.metric("lxcdn_mirror_passthrough_total") >= 1
    assert mirror.proc.poll() is None
