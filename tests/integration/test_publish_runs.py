"""`lxcdn publish` run by run: ingest decisions and their reasons, --dry-run, a missing key,
incremental hashing, duplicates, retention and the grace period under an injected clock."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import serving
from lxcdn_testlib import http_request
from publish_lib import GpgKey, Publisher, check_generation, sha256_file, summary_counts


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    k = GpgKey(tmp_path_factory.mktemp("gnupg"))
    yield k
    k.close()


@pytest.fixture
def pub(key, tmp_path):
    return Publisher(tmp_path / "pub", key)


def listed_serials(root, product="debian:bookworm:amd64:default"):
    images = check_generation(root)
    return sorted(images["products"].get(product, {}).get("versions", {}))


def test_partial_and_malformed_builds_are_skipped_with_a_reason_and_left_in_place(pub):
    good = pub.build("20240101_05:24")
    incomplete = pub.build("20240102_05:24", complete=False)
    unvalidated = pub.build("20240103_05:24", validated=False)
    no_root = pub.build("20240104_05:24")
    (no_root / "rootfs.squashfs").unlink()
    bad_arch = pub.build("20240101_05:24", arch="sparc")
    hidden = pub.build(".20240105_05:24")  # work in progress by convention: silent
    p = pub.publish()
    counts = summary_counts(p.stdout)
    assert counts["added"] == 1 and counts["skipped"] == 4, p.stdout
    rel = "debian/bookworm/amd64/default"
    assert f"skipped {rel}/20240102_05:24: incomplete: no .complete marker yet" in p.stdout
    assert f"skipped {rel}/20240103_05:24: not validated: no .validated marker" in p.stdout
    assert f"skipped {rel}/20240104_05:24: incomplete build" in p.stdout
    assert "skipped debian/bookworm/sparc/default/20240101_05:24: arch 'sparc' is not an architecture LXD knows" in p.stdout
    assert ".20240105" not in p.stdout
    assert not good.exists()
    for d in (incomplete, unvalidated, no_root, bad_arch, hidden):
        assert d.is_dir(), f"{d} must be left in place"
    assert listed_serials(pub.targets[0] / "current") == ["20240101_05:24"]


def test_validation_policy_names_the_distributions_that_need_it(pub):
    pub.write_config(extra="validation:\n  required: [ubuntu]\n")
    pub.build("20240101_05:24", validated=False)
    p = pub.publish()
    assert summary_counts(p.stdout)["added"] == 1


def test_dry_run_prints_the_plan_and_writes_nothing(pub):
    pub.build("20240101_05:24")
    p = pub.publish("--dry-run")
    assert "dry run, would make generation 00000001: 1 added" in p.stdout
    assert "added   debian/bookworm/amd64/default/20240101_05:24" in p.stdout
    assert not pub.work.exists()
    assert not pub.targets[0].exists()
    assert (pub.incoming / "debian/bookworm/amd64/default/20240101_05:24/rootfs.squashfs").is_file()


def test_a_missing_key_fails_before_anything_is_written(pub, key):
    pub.build("20240101_05:24")
    pub.config.write_text(pub.config.read_text().replace(key.fingerprint, "0" * 40))
    p = pub.publish(check=False)
    assert p.returncode == 1
    assert f"signing: no secret key matches '{'0' * 40}'" in p.stderr
    assert not pub.work.exists() and not pub.targets[0].exists()


def test_an_unusable_key_fails_before_anything_is_written(pub, tmp_path):
    """A passphrase-protected key without an unlocked agent cannot sign unattended."""
    protected = GpgKey.__new__(GpgKey)
    protected.home = tmp_path / "protected"
    protected.home.mkdir(mode=0o700)
    protected.env = dict(os.environ, GNUPGHOME=str(protected.home))
    subprocess.run(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "secret",
                    "--quick-gen-key", "locked <locked@lxcdn.invalid>", "ed25519", "sign", "never"],
                   env=protected.env, check=True, capture_output=True)
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=protected.env)
    out = subprocess.run(["gpg", "--batch", "--list-secret-keys", "--with-colons"], env=protected.env,
                         capture_output=True, text=True, check=True).stdout
    protected.fingerprint = [l.split(":")[9] for l in out.splitlines() if l.startswith("fpr")][0]
    pub.key = protected
    pub.write_config()
    pub.build("20240101_05:24")
    try:
        p = pub.publish(check=False)
    finally:
        protected.close()
    assert p.returncode == 1
    assert "signing with" in p.stderr or "signing:" in p.stderr, p.stderr
    assert not pub.work.exists() and not pub.targets[0].exists()


def test_incremental_runs_hash_only_new_builds(pub):
    for variant in ("default", "cloud", "desktop"):
        pub.build("20240101_05:24", variant=variant)
    first = summary_counts(pub.publish().stdout)
    assert (first["hashed"], first["reused"]) == (3, 0)
    pub.build("20240102_05:24")
    second = summary_counts(pub.publish().stdout)
    assert (second["added"], second["hashed"], second["reused"]) == (1, 1, 3)
    # Nothing new: no generation, nothing hashed.
    p = pub.publish()
    third = summary_counts(p.stdout)
    assert "no change, generation 00000002" in p.stdout
    assert (third["hashed"], third["reused"]) == (0, 0)
    # A damaged state costs hashing, never builds: everything is hashed again, nothing is lost.
    (pub.generation_dir() / ".lxcdn-publish/state").write_text("garbage\n")
    pub.build("20240103_05:24")
    p = pub.publish()
    fourth = summary_counts(p.stdout)
    assert (fourth["added"], fourth["hashed"], fourth["reused"]) == (1, 5, 0), p.stdout
    assert "rebuilding it from the tree" in p.stderr
    assert listed_serials(pub.targets[0] / "current") == ["20240101_05:24", "20240102_05:24", "20240103_05:24"]


def test_a_serial_is_never_republished_with_other_bytes(pub):
    pub.build("20240101_05:24")
    pub.publish()
    again = pub.build("20240101_05:24")
    p = pub.publish()
    assert "is already published with other files" in p.stdout
    assert again.is_dir()


def test_a_duplicate_fingerprint_is_refused(pub):
    first = pub.build("20240101_05:24")
    copy = pub.incoming / "debian/bookworm/amd64/default/20240102_05:24"
    shutil.copytree(first, copy)
    p = pub.publish()
    assert "skipped debian/bookworm/amd64/default/20240102_05:24: duplicate fingerprint" in p.stdout
    assert listed_serials(pub.targets[0] / "current") == ["20240101_05:24"]


def test_retention_keeps_the_newest_n_and_deletes_after_the_grace_period(key, tmp_path):
    pub = Publisher(tmp_path / "pub", key, keep=2, grace="1h", extra="deltas: false\n")
    root = pub.targets[0] / "current"
    build_dir = "images/debian/bookworm/amd64/default/{}"
    for day in (1, 2):
        pub.build(f"2024010{day}_05:24")
        pub.publish()
    t0 = pub.clock + 100
    pub.set_clock(t0)
    pub.build("20240103_05:24")
    p = pub.publish()
    assert "retired debian/bookworm/amd64/default/20240101_05:24" in p.stdout
    assert listed_serials(root) == ["20240102_05:24", "20240103_05:24"]
    # Out of the index, still served: a client holding the previous index can still download it.
    assert (root / build_dir.format("20240101_05:24") / "rootfs.squashfs").is_file()

    pub.set_clock(t0 + 3599)
    p = pub.publish()
    assert "no change" in p.stdout
    assert (root / build_dir.format("20240101_05:24")).is_dir()

    pub.set_clock(t0 + 3600)
    p = pub.publish()
    assert "deleted debian/bookworm/amd64/default/20240101_05:24 (grace period over)" in p.stdout
    assert not (root / build_dir.format("20240101_05:24")).exists()
    assert listed_serials(root) == ["20240102_05:24", "20240103_05:24"]
    # An old build arriving late is refused: it would not be among the newest two.
    late = pub.build("20231231_05:24")
    p = pub.publish()
    assert "older than the newest 2 builds of debian:bookworm:amd64:default" in p.stdout
    assert late.is_dir()


def test_a_large_index_is_clearsigned_in_lines_gpg_accepts(pub, key):
    """The compact images.json is one long line; GnuPG cannot clearsign lines of 20,000 bytes or
    more, so the .sjson carries the same document broken after its commas."""
    for i in range(24):
        pub.build("20240101_05:24", variant=f"v{i:02d}")
    pub.publish()
    streams = pub.targets[0] / "current/streams/v1"
    assert len((streams / "images.json").read_bytes()) > 20000
    for name in ("images", "index"):
        v = key.verify(streams / f"{name}.sjson")
        assert v.returncode == 0 and f"VALIDSIG {key.fingerprint}" in v.stdout, v.stderr
        body = subprocess.run(["gpg", "--batch", "--decrypt", str(streams / f"{name}.sjson")], env=key.env,
                              capture_output=True, text=True, check=True).stdout
        expected = json.loads((streams / f"{name}.json").read_text())
        if name == "index":
            expected["index"]["images"]["path"] = "streams/v1/images.sjson"
        assert json.loads(body) == expected


def test_the_legacy_lxc_index_names_the_newest_build_with_lxc_files(pub, key, certs, tmp_path):
    """meta/1.0/index-system (and index-user) list, per product, the newest build holding
    meta.tar.xz and rootfs.tar.xz, each file with a valid .asc; served by the origin, the files
    it names come back byte for byte even through lxc-download's `//` paths."""
    pub.build("20240101_05:24", lxc=True)
    pub.build("20240102_05:24", lxc=True)
    pub.build("20240102_05:24", variant="cloud")  # no LXC files: not in the legacy index
    pub.publish()
    root = pub.targets[0] / "current"
    d = "debian/bookworm/amd64/default/20240102_05:24"
    expected = f"debian;bookworm;amd64;default;20240102_05:24;/images/{d}/\n"
    for name in ("index-system", "index-user"):
        assert (root / "meta/1.0" / name).read_text() == expected
        v = key.verify(root / "meta/1.0" / f"{name}.asc", root / "meta/1.0" / name)
        assert v.returncode == 0 and f"VALIDSIG {key.fingerprint}" in v.stdout, v.stderr
    sums = (root / "images" / d / "SHA256SUMS").read_text()
    for f in ("meta.tar.xz", "rootfs.tar.xz"):
        assert f"{sha256_file(root / 'images' / d / f)}  {f}\n" in sums
    # rootfs.tar.xz is an LXD/Incus root too (root.tar.xz beside the squashfs).
    items = check_generation(root)["products"]["debian:bookworm:amd64:default"]["versions"]["20240102_05:24"]["items"]
    assert items["root.tar.xz"]["ftype"] == "root.tar.xz"
    origin = serving(tmp_path / "origin", root, certs)
    try:
        for f in ("meta.tar.xz", "rootfs.tar.xz"):
            r = http_request("127.0.0.1", origin.http_port, f"//images/{d}//{f}")
            assert r.status == 200
            assert r.body == (root / "images" / d / f).read_bytes()
        r = http_request("127.0.0.1", origin.http_port, "/meta/1.0/index-system")
        assert r.status == 200 and r.body.decode() == expected
    finally:
        origin.stop()


def test_a_new_index_of_the_same_size_reaches_the_target_within_the_same_second(key, tmp_path):
    # keep=1: each run replaces the listed build, so the index keeps its size. The push links
    # unchanged files from the node's previous generation by rsync's quick check (size and mtime
    # in seconds); the index files, rewritten every run, must travel whole, or a run within the
    # same second as the previous one leaves the node serving the old index (seen with a release
    # build, whose runs take well under a second).
    pub = Publisher(tmp_path / "pub", key, keep=1, grace="1h", extra="deltas: false\n")
    for day in range(1, 5):
        pub.build(f"2024010{day}_05:24")
        pub.publish()
        for rel in ("streams/v1/images.json", "streams/v1/images.json.gz", "streams/v1/images.sjson",
                    "streams/v1/images.json.gpg", "streams/v1/index.json", "meta/1.0/index-system",
                    "meta/1.0/index-system.asc"):
            assert ((pub.targets[0] / "current" / rel).read_bytes() ==
                    (pub.work / "current" / rel).read_bytes()), (day, rel)
        assert listed_serials(pub.targets[0] / "current") == [f"2024010{day}_05:24"]
