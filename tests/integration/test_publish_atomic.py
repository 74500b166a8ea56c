"""Atomic publication: readers never see an index naming a missing or different file, whatever the
publisher does. Clients download in a loop through a real `lxcdn origin` (root <target>/current)
while 20 publications run; the publisher is killed with SIGKILL at random points in 50 runs
(LXCDN_KILL_TRIALS); a target whose push fails keeps serving its previous generation."""
import datetime
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import serving
from publish_lib import GpgKey, Publisher, check_generation, make_build, summary_counts


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    k = GpgKey(tmp_path_factory.mktemp("gnupg"))
    yield k
    k.close()


def staged_builds(directory, n, products=("default", "cloud")):
    """n complete builds made ahead of time under directory/, serials one day apart from
    2024-02-01, alternating between products; returns their directories, oldest first."""
    out = []
    for i in range(n):
        variant = products[i % len(products)]
        day = datetime.date(2024, 2, 1) + datetime.timedelta(days=i)
        out.append(make_build(directory, variant=variant, serial=f"{day:%Y%m%d}_05:24",
                              extra_bytes=64 << 10))
    return out


def move_into_incoming(build, staging, incoming):
    dest = Path(incoming) / build.relative_to(staging)
    dest.parent.mkdir(parents=True, exist_ok=True)
    build.rename(dest)


class Downloader(threading.Thread):
    """Fetches index.json, the products file and every listed file over plain HTTP, again and
    again, checking each file's size and sha256 against the index it fetched just before."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.errors = []
        self.rounds = 0
        self.files = 0

    def get(self, conn, path):
        conn.request("GET", "/" + path)
        r = conn.getresponse()
        return r.status, r.read()

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            try:
                status, body = self.get(conn, "streams/v1/index.json")
                if status != 200:
                    self.errors.append(f"index.json: {status}")
                    continue
                path = json.loads(body)["index"]["images"]["path"]
                status, body = self.get(conn, path)
                if status != 200:
                    self.errors.append(f"{path}: {status}")
                    continue
                items = [item for product in json.loads(body)["products"].values()
                         for version in product["versions"].values()
                         for item in version["items"].values()]
                for item in items:
                    status, data = self.get(conn, item["path"])
                    if status != 200:
                        self.errors.append(f"{item['path']}: {status}")
                    elif len(data) != item["size"] or hashlib.sha256(data).hexdigest() != item["sha256"]:
                        self.errors.append(f"{item['path']}: hash mismatch")
                    self.files += 1
                self.rounds += 1
            except (OSError, http.client.HTTPException) as e:
                self.errors.append(f"connection: {e!r}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.close()


def test_clients_never_see_a_404_or_a_mismatch_during_20_publications(key, certs, tmp_path):
    pub = Publisher(tmp_path / "pub", key, targets=2, keep=2, grace="1h")
    builds = staged_builds(tmp_path / "staging", 21)
    move_into_incoming(builds[0], tmp_path / "staging", pub.incoming)
    pub.publish()
    origins = [serving(tmp_path / f"origin{i}", t / "current", certs) for i, t in enumerate(pub.targets)]
    clients = [Downloader(o.http_port) for o in origins for _ in range(2)]
    try:
        for c in clients:
            c.start()
        for i, b in enumerate(builds[1:], start=1):
            move_into_incoming(b, tmp_path / "staging", pub.incoming)
            pub.set_clock(pub.clock + 60)
            out = pub.publish().stdout
            assert summary_counts(out)["added"] == 1, out
            for t in pub.targets:
                assert pub.generation(t) == f"{i + 1:08d}"
    finally:
        for c in clients:
            c.stop.set()
        for c in clients:
            c.join(60)
        for o in origins:
            o.stop()
    assert all(c.rounds > 0 for c in clients), [c.rounds for c in clients]
    errors = [e for c in clients for e in c.errors]
    assert errors == [], errors[:20]
    # Two products, keep 2: four listed builds; the retired ones are still on disk (grace 1h).
    images = check_generation(pub.targets[0] / "current")
    assert sum(len(p["versions"]) for p in images["products"].values()) == 4
    assert len(list((pub.targets[0] / "current").glob("images/*/*/*/*/*"))) == 21
    # Each target keeps three generations (the default), current included, and nothing staged.
    for t in pub.targets:
        assert sorted(p.name for p in (t / "current/.generations").iterdir()) == ["00000019", "00000020", "00000021"]
        assert not (t / "current/.staging").exists()


KILL_TRIALS = int(os.environ.get("LXCDN_KILL_TRIALS", "50"))


def test_sigkill_at_random_points_leaves_every_target_serving_a_complete_generation(key, tmp_path):
    pub = Publisher(tmp_path / "pub", key, targets=2, keep=2, grace="1h")
    builds = staged_builds(tmp_path / "staging", KILL_TRIALS + 1)
    seed = int(os.environ.get("LXCDN_KILL_SEED", int.from_bytes(os.urandom(4), "big")))
    print(f"LXCDN_KILL_SEED={seed}")
    rng = random.Random(seed)
    move_into_incoming(builds[0], tmp_path / "staging", pub.incoming)
    pub.publish()
    kills = 0
    for b in builds[1:]:
        move_into_incoming(b, tmp_path / "staging", pub.incoming)
        pub.set_clock(pub.clock + 60)
        proc = subprocess.Popen(pub.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, 1.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        for t in [pub.work, *pub.targets]:
            current = t / "current"
            assert current.is_dir() and not current.is_symlink()
            if pub.generation(t) is None:
                continue  # a target the first run reached before the kill is still empty
            assert not pub.generation(t).endswith(".partial")
            check_generation(current)
    assert kills > KILL_TRIALS // 4, f"only {kills} of {KILL_TRIALS} runs were killed before their end"
    # A normal run afterwards finishes the work: every build left in incoming (by killed runs)
    # is either published now or refused for a reason that holds (keep 2: runs that were killed
    # let newer builds overtake it); nothing half-removed stays behind.
    out = pub.publish().stdout
    left = sorted(p.parent.relative_to(pub.incoming).as_posix() for p in pub.incoming.rglob("rootfs.squashfs"))
    for rel in left:
        assert f"skipped {rel}: older than the newest 2 builds" in out, out
    assert not list(pub.incoming.rglob(".lxcdn-removing-*"))
    listed = {f"{p['os'].lower()}/{p['release']}/{p['arch']}/{p['variant']}/{serial}"
              for p in check_generation(pub.work / "current")["products"].values() for serial in p["versions"]}
    assert len(listed) == 4 and not listed & set(left)
    for t in pub.targets:
        check_generation(t / "current")
        assert not [p for p in (t / "current/.generations").iterdir() if p.name.endswith(".partial")]
        assert not (t / "current/.staging").exists()
        assert pub.generation(t) == pub.generation()
        # No build left on a node that its generation does not list or keep for the grace.
        state = (pub.generation_dir() / ".lxcdn-publish/state").read_text()
        known = {line.split(" ")[-1] for line in state.splitlines() if line.startswith("build ")}
        on_disk = {p.relative_to(t / "current/images").as_posix() for p in (t / "current").glob("images/*/*/*/*/*")}
        assert on_disk == known, (on_disk ^ known)


def test_a_target_failing_mid_push_keeps_its_old_generation(key, tmp_path):
    pub = Publisher(tmp_path / "pub", key, targets=2)
    pub.build("20240101_05:24")
    pub.publish()
    old = pub.generation(pub.targets[1])
    # An rsync that transfers part of the generation to the second target, then fails.
    wrapper = tmp_path / "flaky-rsync"
    wrapper.write_text(f"""#!/bin/sh
case "$*" in
  *{pub.targets[1]}/*) {shutil.which('rsync')} --exclude='*.squashfs' "$@"; echo "connection lost" >&2; exit 23 ;;
  *) exec {shutil.which('rsync')} "$@" ;;
esac
""")
    wrapper.chmod(0o755)
    pub.write_config(extra=f"")
    text = pub.config.read_text().replace("publish:\n", f"publish:\n  rsync: {wrapper}\n", 1)
    pub.config.write_text(text)
    pub.build("20240102_05:24")
    p = pub.publish(check=False)
    assert p.returncode == 1, p.stdout
    assert f"target  {pub.targets[1]}: FAILED: push failed" in p.stdout
    assert "connection lost" in p.stdout
    assert "still serving 00000001" in p.stdout
    assert pub.generation(pub.targets[0]) == "00000002"
    assert pub.generation(pub.targets[1]) == old
    check_generation(pub.targets[1] / "current")
    staged = pub.targets[1] / "current/.staging"
    assert staged.is_dir() and not list(staged.rglob("*.squashfs"))  # the push really was cut short
    # The link comes back: the next run (nothing new) pushes the current generation there.
    pub.write_config()
    p = pub.publish()
    assert "no change, generation 00000002" in p.stdout
    assert f"target  {pub.targets[1]}: switched to 00000002" in p.stdout
    assert pub.generation(pub.targets[1]) == "00000002"
    check_generation(pub.targets[1] / "current")
