"""The build pool (docs/publish.md, Layout): a run with one new build stages, hashes and pushes
only that build, leaves every other build's files (inodes) alone on the publisher and on every
node, converts a tree of the old layout once, and removes what a killed run left behind."""
import os
import re
import shutil
import subprocess

import pytest

from publish_lib import Publisher, check_generation, module_gpg_key, summary_counts

REL = "debian/bookworm/amd64/default"
key = pytest.fixture(scope="module", name="key")(module_gpg_key)


def inodes(root):
    """path below root -> inode of every regular file under root/images."""
    return {p.relative_to(root).as_posix(): p.stat().st_ino
            for p in (root / "images").rglob("*") if p.is_file()}


def pushed(stdout, target):
    m = re.search(re.escape(f"target  {target}: switched to ") + r"\d+ \((\d+) builds sent, (\d+) files transferred\)",
                  stdout)
    assert m, stdout
    return int(m.group(1)), int(m.group(2))


def test_one_new_build_is_the_only_one_staged_hashed_and_pushed(key, tmp_path):
    pub = Publisher(tmp_path / "pub", key, targets=2)
    for variant in ("default", "cloud", "desktop"):
        pub.build("20240101_05:24", variant=variant)
    first = pub.publish()
    assert pushed(first.stdout, pub.targets[0])[0] == 3
    before = {t: inodes(pub.current(t)) for t in [pub.work, *pub.targets]}
    pub.build("20240102_05:24")
    cmd = pub.command()
    p = subprocess.run([cmd[0], "--log-level", "debug", *cmd[1:]], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    counts = summary_counts(p.stdout)
    assert (counts["added"], counts["hashed"], counts["reused"]) == (1, 1, 3), p.stdout
    assert "publish: staging new builds" in p.stderr  # the phase log names the steps
    new = f"images/{REL}/20240102_05:24"
    new_files = sorted(f.name for f in (pub.current() / new).iterdir())
    assert new_files == ["SHA256SUMS", "delta-20240101_05:24.vcdiff", "incus.tar.xz", "rootfs.squashfs"]
    for t in pub.targets:
        # rsync sent the new build's four files and nothing else of the pool.
        assert pushed(p.stdout, t) == (1, 4)
    for t in [pub.work, *pub.targets]:
        after = inodes(pub.current(t))
        # Every file of the unchanged builds is the very same file (no relinking, no copy).
        assert {k: v for k, v in after.items() if not k.startswith(new)} == before[t], t
        assert pub.generation(t) == "00000002"
        # A generation holds the index, not the builds.
        gen = pub.generation_dir(t)
        assert not (gen / "images").exists()
        assert sorted(p.name for p in gen.iterdir()) == (
            [".lxcdn-publish", "meta", "streams"])
        images = check_generation(pub.current(t))
        assert sorted(images["products"][f"debian:bookworm:amd64:default"]["versions"]) == [
            "20240101_05:24", "20240102_05:24"]
    # The served root's fixed symlinks stay beneath it (the origin's RESOLVE_BENEATH).
    for t in pub.targets:
        root = pub.current(t)
        assert os.readlink(root / "streams") == ".generation/streams"
        assert os.readlink(root / "meta") == ".generation/meta"
        assert os.readlink(root / ".generation") == ".generations/00000002"


def old_layout(base):
    """Turns the tree at `base` into the layout before the build pool: current ->
    generations/<id>, each generation a whole tree (hard links to the same files)."""
    cur = base / "current"
    gid = os.path.basename(os.readlink(cur / ".generation"))
    gen = base / "generations" / gid
    gen.mkdir(parents=True)
    shutil.copytree(cur / "images", gen / "images", copy_function=os.link)
    for part in ("streams", "meta", ".lxcdn-publish"):
        src = cur / ".generations" / gid / part
        if src.exists():
            shutil.copytree(src, gen / part, copy_function=os.link)
    shutil.rmtree(cur)
    os.symlink(f"generations/{gid}", cur)


def test_a_tree_of_the_old_layout_is_converted_once_keeping_its_files(key, tmp_path):
    pub = Publisher(tmp_path / "pub", key, targets=1)
    pub.build("20240101_05:24")
    pub.build("20240101_05:24", variant="cloud")
    pub.publish()
    for t in [pub.work, *pub.targets]:
        old_layout(t)
        assert (t / "current").is_symlink()
        check_generation(t / "current")
    before = {t: inodes((t / "current").resolve()) for t in [pub.work, *pub.targets]}
    pub.build("20240102_05:24")
    p = pub.publish()
    counts = summary_counts(p.stdout)
    # The hash cache survives the conversion (hard links keep inodes): only the new build is hashed.
    assert (counts["added"], counts["hashed"], counts["reused"]) == (1, 1, 2), p.stdout
    assert pushed(p.stdout, pub.targets[0])[0] == 1
    for t in [pub.work, *pub.targets]:
        cur = t / "current"
        assert cur.is_dir() and not cur.is_symlink()
        assert not (t / "generations").exists() and not (t / ".current.migrating").exists()
        after = inodes(cur)
        assert {k: v for k, v in after.items() if "20240102" not in k} == before[t]
        assert pub.generation(t) == "00000002"
        assert sorted(p.name for p in (cur / ".generations").iterdir()) == ["00000001", "00000002"]
        check_generation(cur)


def test_what_a_killed_run_left_is_removed_by_the_next(key, tmp_path):
    pub = Publisher(tmp_path / "pub", key, targets=1, keep=1, grace="1h")
    pub.build("20240101_05:24")
    pub.publish()
    pub.build("20240102_05:24")  # retires 20240101 (keep 1) for an hour
    pub.set_clock(pub.clock + 60)
    pub.publish()
    # A run killed after staging, after renaming its build into the pool and after assembling
    # its generation, but before its switch: on the publisher and on the node alike.
    orphan = pub.build("20240103_05:24")
    for t in [pub.work, *pub.targets]:
        cur = pub.current(t)
        (cur / ".staging" / REL / "20240103_05:24").mkdir(parents=True)
        (cur / ".staging" / REL / "20240103_05:24/rootfs.squashfs").write_bytes(b"half")
        (cur / ".generations/00000003.partial/streams").mkdir(parents=True)
        (cur / ".generations/00000003/streams").mkdir(parents=True)
        placed = cur / "images" / REL / "20240103_05:24"
        placed.mkdir()
        (placed / "rootfs.squashfs").write_bytes(b"not what incoming holds")
    # And a run killed after its switch, before deleting the build its generation dropped: the
    # grace of 20240101 is over at the next run, whose generation drops it; a copy put back
    # afterwards plays the build a kill left.
    pub.set_clock(pub.clock + 7200)
    p = pub.publish()
    counts = summary_counts(p.stdout)
    assert (counts["added"], counts["deleted"]) == (1, 1), p.stdout
    assert not orphan.exists()
    for t in [pub.work, *pub.targets]:
        cur = pub.current(t)
        assert pub.generation(t) == "00000003"
        assert not (cur / ".staging").exists()
        assert sorted(p.name for p in (cur / ".generations").iterdir()) == ["00000001", "00000002", "00000003"]
        assert sorted(p.name for p in (cur / "images" / REL).iterdir()) == ["20240102_05:24", "20240103_05:24"]
        check_generation(cur)
        (cur / "images" / REL / "20240101_05:24").mkdir()  # the kill's leftover
    p = pub.publish()
    assert "no change, generation 00000003" in p.stdout
    for t in [pub.work, *pub.targets]:
        assert sorted(p.name for p in (pub.current(t) / "images" / REL).iterdir()) == [
            "20240102_05:24", "20240103_05:24"]
