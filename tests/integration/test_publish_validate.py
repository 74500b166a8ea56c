"""`lxcdn validate BUILD`: real builds (mksquashfs, tar, xz) pass and get their .validated marker;
each kind of broken build is rejected with a reason that names the fault, and loses any marker."""
import struct
import subprocess

import pytest

from lxcdn_testlib import LXCDN_BIN
from publish_lib import make_build, metadata_yaml


def validate(*dirs):
    return subprocess.run([LXCDN_BIN, "validate", *map(str, dirs)], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def build(tmp_path):
    return make_build(tmp_path / "incoming", validated=False)


def test_a_sound_build_passes_and_gets_the_marker(build):
    p = validate(build)
    assert p.returncode == 0, p.stderr
    assert f"{build}: ok" in p.stdout
    marker = (build / ".validated").read_text()
    assert "rootfs.squashfs: squashfs superblock sound" in marker
    assert "incus.tar.xz: metadata.yaml agrees with debian/bookworm/amd64/default/20240101_05:24" in marker


def test_lxd_named_metadata_and_a_qcow2_disk_pass(tmp_path):
    d = make_build(tmp_path / "incoming", meta_name="lxd.tar.xz", validated=False)
    # A real qcow2 v3 header for a 1 GiB disk with 64 KiB clusters; tables inside the file.
    header = bytearray(b"QFI\xfb" + struct.pack(">I", 3) + bytes(96))
    struct.pack_into(">I", header, 20, 16)
    struct.pack_into(">Q", header, 24, 1 << 30)
    struct.pack_into(">Q", header, 40, 3 * 65536)
    struct.pack_into(">Q", header, 48, 65536)
    struct.pack_into(">I", header, 100, 104)
    (d / "disk.qcow2").write_bytes(bytes(header) + bytes(4 * 65536 - len(header)))
    p = validate(d)
    assert p.returncode == 0, p.stderr
    assert "disk.qcow2: qcow2 header sound" in (d / ".validated").read_text()


def rejected(d, reason):
    (d / ".validated").write_text("stale marker from an earlier run\n")
    p = validate(d)
    assert p.returncode == 1, p.stdout
    assert reason in p.stderr, p.stderr
    assert not (d / ".validated").exists(), "a failed validation must remove the marker"
    return p.stderr


def test_truncated_xz_is_rejected(build):
    meta = build / "incus.tar.xz"
    data = meta.read_bytes()
    meta.write_bytes(data[: len(data) // 2])
    err = rejected(build, "incus.tar.xz: xz stream damaged")
    assert "Unexpected end of input" in err


def test_corrupted_xz_payload_is_rejected(build):
    meta = build / "incus.tar.xz"
    data = bytearray(meta.read_bytes())
    data[len(data) // 2] ^= 0xFF
    meta.write_bytes(bytes(data))
    rejected(build, "incus.tar.xz: xz stream damaged")


def test_bad_squashfs_magic_is_rejected(build):
    sq = build / "rootfs.squashfs"
    data = bytearray(sq.read_bytes())
    data[0:4] = b"XXXX"
    sq.write_bytes(bytes(data))
    rejected(build, "rootfs.squashfs: squashfs: bad superblock magic")


def test_truncated_squashfs_is_rejected(tmp_path):
    d = make_build(tmp_path / "incoming", validated=False, extra_bytes=256 << 10)
    sq = d / "rootfs.squashfs"
    data = sq.read_bytes()
    (bytes_used,) = struct.unpack_from("<Q", data, 40)
    assert bytes_used > 200 << 10  # random bytes do not compress
    sq.write_bytes(data[: bytes_used // 2])
    rejected(d, "rootfs.squashfs: squashfs: superblock says")


def test_missing_metadata_yaml_is_rejected(tmp_path):
    d = make_build(tmp_path / "incoming", yaml_text=False, validated=False)
    rejected(d, "incus.tar.xz: no metadata.yaml in the tarball")


def test_wrong_architecture_is_rejected(tmp_path):
    text = metadata_yaml("debian", "bookworm", "amd64", "default", "20240101_05:24", yaml_arch="aarch64")
    d = make_build(tmp_path / "incoming", yaml_text=text, validated=False)
    rejected(d, "metadata.yaml: architecture 'aarch64' does not match the path's 'amd64'")


def test_release_disagreeing_with_the_path_is_rejected(tmp_path):
    text = metadata_yaml("debian", "trixie", "amd64", "default", "20240101_05:24")
    d = make_build(tmp_path / "incoming", yaml_text=text, validated=False)
    rejected(d, "properties.release 'trixie' does not match the path's 'bookworm'")


def test_empty_and_missing_root_files_are_rejected(build):
    (build / "rootfs.squashfs").write_bytes(b"")
    rejected(build, "rootfs.squashfs: empty file")
    (build / "rootfs.squashfs").unlink()
    rejected(build, "incomplete build")


def test_a_bad_qcow2_header_is_rejected(build):
    (build / "disk.qcow2").write_bytes(b"QFI\xfb" + struct.pack(">I", 3) + bytes(200))
    rejected(build, "disk.qcow2: qcow2: bad cluster_bits 0")


def test_a_directory_that_is_not_a_build_path_is_rejected(tmp_path):
    d = tmp_path / "x"
    d.mkdir()
    p = validate(d)
    assert p.returncode == 1
    # The last five components of the absolute path are taken; "pytest-N" is no architecture.
    assert "not a build path: arch 'pytest-" in p.stderr
    assert "is not an architecture LXD knows" in p.stderr


def test_several_builds_exit_non_zero_if_one_fails(tmp_path):
    good = make_build(tmp_path / "incoming", serial="20240101_05:24", validated=False)
    bad = make_build(tmp_path / "incoming", serial="20240102_05:24", validated=False)
    (bad / "rootfs.squashfs").write_bytes(b"hsqs" + bytes(200))
    p = validate(good, bad)
    assert p.returncode == 1
    assert (good / ".validated").exists() and not (bad / ".validated").exists()
    assert str(bad) in p.stderr and str(good) not in p.stderr
