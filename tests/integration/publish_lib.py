"""Helpers for the `lxcdn publish` / `lxcdn validate` integration tests: real small builds (a
squashfs made by mksquashfs, a metadata tarball made by tar + xz, as distrobuilder lays them out),
a throwaway GnuPG home with a fresh signing key, the publisher's config, and runs of the binary.
Expected hashes are always computed here from the bytes on disk, never read from lxcdn's output."""
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from lxcdn_testlib import LXCDN_BIN, run

KERNEL_ARCH = {"amd64": "x86_64", "arm64": "aarch64", "armhf": "armv7l", "i386": "i686"}


def metadata_yaml(os_, release, arch, variant, serial, creation_date=1704086640, yaml_arch=None):
    return (f"architecture: {yaml_arch or KERNEL_ARCH.get(arch, arch)}\n"
            f"creation_date: {creation_date}\n"
            f"expiry_date: {creation_date + 30 * 86400}\n"
            "properties:\n"
            f"  architecture: {arch}\n"
            f"  description: {os_} {release} {arch} ({serial})\n"
            f"  os: {os_.title()}\n"
            f"  release: \"{release}\"\n"
            f"  serial: \"{serial}\"\n"
            f"  variant: {variant}\n"
            "templates:\n"
            "  /etc/hostname:\n"
            "    when: [create, copy]\n"
            "    template: hostname.tpl\n")


def make_build(incoming, os_="debian", release="bookworm", arch="amd64", variant="default",
               serial="20240101_05:24", complete=True, validated=True, busybox=False,
               meta_name="incus.tar.xz", yaml_text=None, extra_bytes=0, lxc=False):
    """Makes incoming/<os>/<release>/<arch>/<variant>/<serial>/ with a metadata tarball
    (`meta_name`, holding metadata.yaml unless yaml_text is False, and templates/) and a
    rootfs.squashfs (xz) whose files name the build, so every fingerprint is unique. `busybox`
    puts the static busybox in as /bin/busybox. `.complete` and `.validated` markers as asked
    (`.validated` written by hand, the way a test server would). Returns the directory."""
    d = Path(incoming) / os_ / release / arch / variant / serial
    d.mkdir(parents=True)
    stage = d.parent / f".stage-{serial}"
    meta, rootfs = stage / "meta", stage / "rootfs"
    (meta / "templates").mkdir(parents=True)
    if yaml_text is not False:
        (meta / "metadata.yaml").write_text(yaml_text or metadata_yaml(os_, release, arch, variant, serial))
    (meta / "templates/hostname.tpl").write_text("{{ container.name }}\n")
    members = ["templates"] + (["metadata.yaml"] if yaml_text is not False else [])
    run(["tar", "--create", "--file", str(stage / "meta.tar"), "--directory", str(meta), "--sort=name",
         "--owner=0", "--group=0", "--numeric-owner", *members])
    run(["xz", "-T1", "--check=crc64", str(stage / "meta.tar")])
    shutil.move(stage / "meta.tar.xz", d / meta_name)
    for sub in ("bin", "etc"):
        (rootfs / sub).mkdir(parents=True)
    (rootfs / "etc/build").write_text(f"{os_} {release} {arch} {variant} {serial}\n")
    if extra_bytes:
        (rootfs / "etc/payload").write_bytes(os.urandom(extra_bytes))
    if busybox:
        shutil.copy(shutil.which("busybox"), rootfs / "bin/busybox")
    run(["mksquashfs", str(rootfs), str(d / "rootfs.squashfs"), "-noappend", "-comp", "xz",
         "-all-root", "-no-xattrs", "-no-progress", "-quiet"])
    if lxc:  # what distrobuilder's pack-lxc adds: meta.tar.xz (config, templates) + rootfs.tar.xz
        lxc_meta = stage / "lxc-meta"
        lxc_meta.mkdir()
        (lxc_meta / "config").write_text("lxc.arch = x86_64\n")
        (lxc_meta / "templates").write_text("/etc/hostname\n")
        (lxc_meta / "create-message").write_text(f"{os_} {release} {serial}\n")
        run(["tar", "-cJf", str(d / "meta.tar.xz"), "-C", str(lxc_meta), "--sort=name", "--owner=0",
             "--group=0", "config", "templates", "create-message"])
        run(["tar", "-cJf", str(d / "rootfs.tar.xz"), "-C", str(rootfs), "--sort=name", "--owner=0",
             "--group=0", "."])
    shutil.rmtree(stage)
    if validated:
        (d / ".validated").write_text("validated by the test\n")
    if complete:
        (d / ".complete").write_text("")
    return d


class GpgKey:
    """A throwaway GnuPG home with one unprotected ed25519 signing key: home, fingerprint.
    close() stops its gpg-agent."""

    def __init__(self, directory, uid="lxcdn publish test <publish@lxcdn.invalid>"):
        self.home = Path(directory)
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.env = dict(os.environ, GNUPGHOME=str(self.home))
        run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"],
            env=self.env)
        out = run(["gpg", "--batch", "--list-secret-keys", "--with-colons"], env=self.env).stdout
        self.fingerprint = re.search(r"^fpr:+([0-9A-F]{40}):", out, re.M).group(1)

    def verify(self, *args):
        """`gpg --verify ARGS` in this home; returns the CompletedProcess (not checked)."""
        return subprocess.run(["gpg", "--batch", "--status-fd", "1", "--verify", *map(str, args)],
                              env=self.env, capture_output=True, text=True)

    def close(self):
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=self.env, capture_output=True)


def module_gpg_key(tmp_path_factory):
    """A GpgKey for one test module: `key = pytest.fixture(scope="module", name="key")(module_gpg_key)`."""
    k = GpgKey(tmp_path_factory.mktemp("gnupg"))
    yield k
    k.close()


def publish_yaml(incoming, work, targets, key, keep=3, grace="1d", extra=""):
    lines = [f"incoming: {incoming}", f"work: {work}", "publish:", "  targets:"]
    lines += [f"    - {t}" for t in targets]
    lines += ["signing:", f"  key: {key.fingerprint}", f"  gnupg_home: {key.home}",
              "retention:", f"  keep: {keep}", f"  grace: {grace}"]
    return "\n".join(lines) + "\n" + extra


class Publisher:
    """The publisher's files under `base`: incoming/, work/, the config, a test clock, and
    `targets` local target directories (t0, t1, ...), all for one GpgKey."""

    def __init__(self, base, key, targets=1, keep=3, grace="1d", extra="", clock=1704100000):
        self.base = Path(base)
        self.incoming = self.base / "incoming"
        self.work = self.base / "work"
        self.incoming.mkdir(parents=True)
        self.targets = [self.base / f"t{i}" for i in range(targets)]
        self.key = key
        self.config = self.base / "publish.yaml"
        self.write_config(keep=keep, grace=grace, extra=extra)
        self.clock_file = self.base / "clock"
        self.set_clock(clock)

    def write_config(self, keep=3, grace="1d", extra="", targets=None):
        self.config.write_text(publish_yaml(self.incoming, self.work, targets or self.targets,
                                            self.key, keep, grace, extra))

    def set_clock(self, t):
        self.clock = t
        self.clock_file.write_text(f"{t}\n")

    def build(self, serial, **kw):
        return make_build(self.incoming, serial=serial, **kw)

    def command(self, *args):
        return [LXCDN_BIN, "publish", "--config", str(self.config), "--test-clock",
                str(self.clock_file), *args]

    def publish(self, *args, check=True, timeout=300):
        p = subprocess.run(self.command(*args), capture_output=True, text=True, timeout=timeout)
        # Kept as a *.stderr file, so the suite's sanitizer check (sanitizer_check.py) sees a
        # report from a run that failed on purpose as well (LeakSanitizer does not change the
        # exit status of a run that already fails).
        with open(self.base / "publish.stderr", "a") as log:
            log.write(p.stderr)
        if check and p.returncode != 0:
            raise AssertionError(f"lxcdn publish failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        return p

    def current(self, target=None):
        """The served root (of the work tree, or a target): <base>/current, a directory whose
        streams/ and meta/ lead through the `.generation` pointer (docs/publish.md, Layout)."""
        base = Path(target) if target else self.work
        return base / "current"

    def generation_dir(self, target=None):
        """The directory of the generation `.generation` names (index, signatures, state)."""
        return (self.current(target) / ".generation").resolve()

    def generation(self, target=None):
        """The id of the generation the work tree (or a target) serves, or None."""
        link = self.current(target) / ".generation"
        return os.path.basename(os.readlink(link)) if link.is_symlink() else None


def summary_counts(stdout):
    """The numbers of the summary's first line: added, retired, deleted, skipped, hashed, reused."""
    m = re.search(r"(\d+) added, (\d+) retired, (\d+) deleted, (\d+) skipped; (\d+) builds hashed "
                  r"\(\d+ bytes in [0-9.]+ s\), (\d+) reused", stdout)
    assert m, f"no summary line in:\n{stdout}"
    keys = ("added", "retired", "deleted", "skipped", "hashed", "reused")
    return dict(zip(keys, map(int, m.groups())))


def sha256_file(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_generation(root):
    """Asserts that the generation at `root` is complete by a client's reading: every item of
    every products file the index names exists with its size and sha256 (hashed here), and
    fingerprints (the combined_* fields) are unique. Returns the parsed images.json."""
    root = Path(root)
    index = json.loads((root / "streams/v1/index.json").read_text())
    images = json.loads((root / index["index"]["images"]["path"]).read_text())
    seen = set()
    for product in images["products"].values():
        for version in product["versions"].values():
            for item in version["items"].values():
                p = root / item["path"]
                assert p.is_file(), f"{item['path']} listed but missing"
                assert p.stat().st_size == item["size"], item["path"]
                assert sha256_file(p) == item["sha256"], item["path"]
            meta = version["items"]["incus.tar.xz"]
            for k, v in meta.items():
                if k.startswith("combined_") and k != "combined_sha256":
                    assert v not in seen, f"duplicate fingerprint {v}"
                    seen.add(v)
    return images
