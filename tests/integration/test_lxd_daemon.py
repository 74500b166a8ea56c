"""Debian's LXD 5.0 daemon (package lxd) downloading from `lxcdn origin`: the real consumer.

A private daemon runs as root with its own LXD_DIR (own unix socket, database, images, storage)
under a temp dir below /tmp (mode 0711 all the way down, as LXD needs for unprivileged containers).
Its outbound traffic is pinned to loopback: the proxies point at 127.0.0.1:9 (nothing listens, so
its start-up contact with the public image server fails at once) and loopback is never proxied.
It is started WITHOUT SSL_CERT_FILE: it trusts the demo CA only through the certificate pin the
CLI sends with `lxc launch`/`lxc image copy` (LXD_CONF/servercerts/<remote>.crt), which is what
`lxcdn demo` prints; test_daemon_without_pin_* shows the download fails without it.

Sandbox notes (checked on Debian 12, kernel 6.x): containers run unprivileged. LXD reports no
AppArmor (it disables it), no lxcfs (not needed), cgroup v1 or v2 both work; /etc/subuid and
/etc/subgid get `root:100000:10000001` from the lxd package, and the kernel's idmapped mounts let
the dir pool skip a slow rootfs shift. No network device is configured (the profile has only a root
disk), so no bridge, dnsmasq or firewall is needed.

`lxcdn demo` itself runs here (ports 0: it picks free ones and prints them): an origin that
redirects /images/... to mirror A, and two mirrors filling from it. The lines it prints are run in
bash exactly, so every image download goes daemon -> origin (302) -> mirror A -> origin (the
mirror's fill over TLS 1.3); the tests check the mirror's counters and cache for it.
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from demo_process import DemoProcess
from lxcdn_testlib import demo_prepare, lxc

REMOTE = "lxcdn-demo"  # the remote name `lxcdn demo` prints
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PRESEED = """\
config:
  images.auto_update_interval: "0"
storage_pools:
- name: default
  driver: dir
profiles:
- name: default
  devices:
    root:
      path: /
      pool: default
      type: disk
"""


class LxdDaemon:
    """A private `lxd` process. dir is its LXD_DIR, conf the LXD_CONF of the CLI that talks to it,
    log its output. destroy() stops it and removes everything, whatever state it is in."""

    def __init__(self, base):
        self.base = Path(base)
        self.dir = self.base / "lxd"
        self.conf = self.base / "client"
        self.log = self.base / "lxd.log"
        self.proc = None

    def env(self, **extra):
        proxy = "http://127.0.0.1:9"
        env = {"PATH": PATH, "LXD_DIR": str(self.dir), "HOME": str(self.base / "home"),
               "https_proxy": proxy, "http_proxy": proxy, "no_proxy": "127.0.0.1,localhost,::1"}
        env.update(extra)
        return env

    def log_tail(self, n=40):
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except FileNotFoundError:
            return "(no log)"

    def start(self, timeout=90):
        for d in (self.base, self.dir, self.conf, self.base / "home"):
            d.mkdir(exist_ok=True)
            os.chmod(d, 0o711)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(["lxd", "--verbose", "--group", ""], env=self.env(),
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:  # poll readiness, but stop at once if the daemon died
            if self.proc.poll() is not None:
                raise AssertionError(f"lxd exited with {self.proc.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"lxd not ready after {timeout}s:\n{self.log_tail()}")
            if subprocess.run(["lxd", "waitready", "--timeout", "2"], env=self.env(),
                              capture_output=True, timeout=30).returncode == 0:
                break
        p = subprocess.run(["lxd", "init", "--preseed"], input=PRESEED, text=True,
                           env=self.env(), capture_output=True, timeout=60)
        assert p.returncode == 0, f"lxd init --preseed failed:\n{p.stderr}\n{self.log_tail()}"
        return self

    def lxc(self, *args, **kw):
        return lxc(args, self.conf, lxd_dir=self.dir, **kw)

    def instances(self):
        p = self.lxc("list", "--format", "json", check=False, timeout=30)
        return json.loads(p.stdout) if p.returncode == 0 else []

    def destroy(self):
        """Stops the daemon (instances first, then `lxd shutdown`, then SIGTERM, then SIGKILL),
        kills container processes it left, unmounts what it mounted below base, removes base."""
        container_pids = []
        try:
            if self.proc and self.proc.poll() is None:
                for inst in self.instances():
                    pid = (inst.get("state") or {}).get("pid") or 0
                    if pid > 0:
                        container_pids.append(pid)
                    self.lxc("delete", "--force", inst["name"], check=False, timeout=60)
                try:
                    subprocess.run(["lxd", "shutdown"], env=self.env(), capture_output=True,
                                   timeout=60)
                except subprocess.TimeoutExpired:
                    pass
            if self.proc and self.proc.poll() is None:
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.proc.terminate()
                    try:
                        self.proc.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        self.proc.kill()
                        self.proc.wait()
        finally:
            for pid in container_pids + self._pids_naming_our_dir():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for mount_point in self._mounts_below_base():
                subprocess.run(["umount", "-l", mount_point], capture_output=True, timeout=30)
            shutil.rmtree(self.base, ignore_errors=True)
        assert not self.base.exists(), f"could not remove {self.base}"

    def _pids_naming_our_dir(self):
        """Processes whose command line names our LXD_DIR: `[lxc monitor] <dir>/containers c1`."""
        pids = []
        for p in Path("/proc").iterdir():
            if not p.name.isdigit() or int(p.name) == os.getpid():
                continue
            try:
                if str(self.dir).encode() in (p / "cmdline").read_bytes():
                    pids.append(int(p.name))
            except OSError:
                pass
        return pids

    def _mounts_below_base(self):
        """Mount points below base, deepest first (mountinfo escapes spaces as \\040)."""
        points = []
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            mp = line.split()[4].encode().decode("unicode_escape")
            if mp == str(self.base) or mp.startswith(str(self.base) + "/"):
                points.append(mp)
        return sorted(points, key=len, reverse=True)


def run_bash(script, env, timeout=300):
    """Runs `script` with bash -e in its own process group; on timeout the whole group is killed
    (so an lxc call following a redirect loop cannot outlive the test). Returns CompletedProcess."""
    proc = subprocess.Popen(["bash", "-e", "-c", script], env=env, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"script still running after {timeout}s:\n{script}\n{out}\n{err}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def sha256_file(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def daemon():
    assert shutil.which("lxd") and shutil.which("lxc"), \
        "lxd or lxc missing: scripts/install-deps installs the lxd and lxd-client packages"
    assert os.geteuid() == 0, "the LXD daemon test needs root"
    base = Path(tempfile.mkdtemp(prefix="lxcdn-lxd-", dir="/tmp"))
    d = LxdDaemon(base)
    try:
        yield d.start()
    finally:
        d.destroy()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`lxcdn demo` running (DemoProcess: tree, commands, ports, the mirrors' metrics). A second
    demo tree, prepared elsewhere, must have the same fingerprints: the build is reproducible, so
    a daemon that cached images from an earlier run stays consistent."""
    with DemoProcess(tmp_path_factory.mktemp("demo") / "run") as demo:
        again = demo_prepare(tmp_path_factory.mktemp("again"))
        assert [i.fingerprint for i in again.images] == [i.fingerprint for i in demo.tree.images], \
            "a second lxcdn demo run changed the images"
        yield demo


@pytest.fixture(scope="module")
def remote(daemon, served):
    """The remote added by the printed commands up to `lxc remote add` (pin included)."""
    upto = next(i for i, c in enumerate(served.commands) if c.startswith("lxc remote add")) + 1
    script = "\n".join(served.commands[:upto])
    p = run_bash(script, daemon.env(LXD_CONF=str(daemon.conf)))
    assert p.returncode == 0, f"{script}\n{p.stdout}\n{p.stderr}"
    return REMOTE


def image_by(served, arch, variant):
    (image,) = [i for i in served.tree.images if i.arch == arch and i.variant == variant]
    return image


def assert_daemon_stored(daemon, image):
    """The daemon's image store holds the image's two files, byte for byte."""
    store = daemon.dir / "images"
    meta, root = store / image.fingerprint, store / f"{image.fingerprint}.rootfs"
    assert meta.is_file() and root.is_file(), sorted(p.name for p in store.iterdir())
    assert sha256_file(meta) == image.meta_sha256
    assert sha256_file(root) == image.root_sha256
    assert hashlib.sha256(meta.read_bytes() + root.read_bytes()).hexdigest() == image.fingerprint


def mirror_cache_file(served, path):
    """Where mirror A keeps the entry for `path`: cache-a/objects/<h[:2]>/<h>, h = sha256(path)
    (docs/mirror.md, "On disk")."""
    h = hashlib.sha256(path.encode()).hexdigest()
    return served.dir / "cache-a" / "objects" / h[:2] / h


def cached_in_mirror_a(served, image):
    """The image's files mirror A holds already (the origin's health canary, the smallest file
    of the tree, is fetched through every mirror before the demo prints its lines)."""
    return [f for f in (image.meta, image.root)
            if mirror_cache_file(served, "/" + str(f.relative_to(served.tree.www))).is_file()]


def assert_went_through_mirror_a(served, image, fill_bytes_before, cached_before):
    """Mirror A filled the image's files it did not hold yet from the origin (their bytes counted
    once) and holds both in its cache."""
    after = served.metrics(served.mirror_a_port)["lxcdn_mirror_fill_bytes_total"]
    assert after - fill_bytes_before == image.size - sum(f.stat().st_size for f in cached_before)
    for f in (image.meta, image.root):
        entry = mirror_cache_file(served, "/" + str(f.relative_to(served.tree.www)))
        assert entry.is_file(), f"{f.name} is not in mirror A's cache"
        assert entry.read_bytes()[4096:] == f.read_bytes()


def forget_local_image(daemon, image):
    daemon.lxc("image", "delete", image.fingerprint, check=False, timeout=60)
    assert not (daemon.dir / "images" / image.fingerprint).exists()


def test_pasted_commands_launch_a_container(daemon, served):
    """The lines `lxcdn demo` prints, run as printed: the daemon downloads the image through the
    pin, the container boots and its /etc/hostname is rendered from the image's template."""
    assert [c.split()[:2] for c in served.commands][2:] == [
        ["lxc", "remote"], ["lxc", "image"], ["lxc", "launch"], ["lxc", "exec"]]
    image = image_by(served, "amd64", "default")
    forget_local_image(daemon, image)
    fill_bytes = served.metrics(served.mirror_a_port)["lxcdn_mirror_fill_bytes_total"]
    cached = cached_in_mirror_a(served, image)

    script = "\n".join(served.commands)
    p = run_bash(script, daemon.env(LXD_CONF=str(daemon.conf)))
    assert p.returncode == 0, f"{script}\n{p.stdout}\n{p.stderr}\n{daemon.log_tail()}"
    assert p.stdout.splitlines()[-1] == "c1"
    assert image.fingerprint[:12] in p.stdout  # `lxc image list` printed the table

    (c1,) = [i for i in daemon.instances() if i["name"] == "c1"]
    assert c1["status"] == "Running"
    info = daemon.lxc("config", "show", "c1").stdout
    assert f"volatile.base_image: {image.fingerprint}" in info
    assert_daemon_stored(daemon, image)
    assert_went_through_mirror_a(served, image, fill_bytes, cached)


def test_image_copy_stores_every_image(daemon, served, remote):
    """`lxc image copy REMOTE:ALIAS local:` for every demo image, arm64 included (LXD stores a
    foreign-architecture image; it only cannot run it)."""
    for image in served.tree.images:
        forget_local_image(daemon, image)
        daemon.lxc("image", "copy", f"{remote}:{image.alias}", "local:")
        assert_daemon_stored(daemon, image)
    local = json.loads(daemon.lxc("image", "list", "local:", "--format", "json").stdout)
    arch = {i["fingerprint"]: i["architecture"] for i in local}
    for image in served.tree.images:
        assert arch[image.fingerprint] == {"amd64": "x86_64", "arm64": "aarch64"}[image.arch]


def test_tiny_variant_boots_and_stops_cleanly(daemon, remote):
    daemon.lxc("launch", f"{remote}:busybox/1.35/tiny", "c2", timeout=180)
    try:
        assert daemon.lxc("exec", "c2", "--", "cat", "/etc/hostname").stdout == "c2\n"
        ps = daemon.lxc("exec", "c2", "--", "ps").stdout
        assert any(line.split()[:1] == ["1"] and line.split()[-1] == "init" for line in ps.splitlines()), ps
        # LXD stops a container with SIGPWR; busybox init must take it as "power off".
        daemon.lxc("stop", "c2", "--timeout", "30", timeout=60)
        (c2,) = [i for i in daemon.instances() if i["name"] == "c2"]
        assert c2["status"] == "Stopped"
    finally:
        daemon.lxc("delete", "--force", "c2", check=False, timeout=60)


def test_daemon_without_pin_refuses_the_demo_ca(daemon, served):
    """Without servercerts/<remote>.crt the daemon (no SSL_CERT_FILE) rejects the origin's
    certificate even though the CLI itself trusts it; with the pin the same copy works. The remote
    uses https://localhost:PORT so the daemon's index cache (keyed by URL) is cold."""
    image = image_by(served, "amd64", "tiny")
    url = f"https://localhost:{served.origin_https_port}"
    daemon.lxc("remote", "remove", "nopin", check=False)
    daemon.lxc("remote", "add", "nopin", url, "--protocol=simplestreams")
    forget_local_image(daemon, image)

    refused = daemon.lxc("image", "copy", "nopin:busybox/1.35/tiny", "local:", check=False,
                         ssl_cert_file=served.tree.ca)
    assert refused.returncode != 0
    assert "x509: certificate signed by unknown authority" in refused.stderr
    assert not (daemon.dir / "images" / image.fingerprint).exists()

    shutil.copy(served.tree.ca, daemon.conf / "servercerts" / "nopin.crt")
    daemon.lxc("image", "copy", "nopin:busybox/1.35/tiny", "local:")
    assert_daemon_stored(daemon, image)

