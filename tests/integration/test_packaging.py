"""The Debian package and the key permissions it sets up (issue 6, "private keys readable only by
the service user in the packaged setup"; packaging/packaging.cmake, packaging/debian/).

The package is made by CPack from the build under test (LXCDN_BUILD_DIR, else the tree LXCDN_BIN
belongs to), installed with `dpkg -i` on this machine, checked, and purged:

- the package holds /usr/bin/lxcdn, the systemd units and the example configs, and declares its
  shared libraries (dpkg-shlibdeps) and adduser and openssl;
- postinst made the system user lxcdn (nologin shell, home /var/lib/lxcdn), /etc/lxcdn/tls
  (0750 root:lxcdn) and a self-signed pair with the key 0640 root:lxcdn: `nobody` cannot read the
  key (permission denied), lxcdn can read it but not change it;
- `systemd-analyze verify` passes on the installed units without a word, and they run as lxcdn;
- the origin started the way its unit's ExecStart runs it (as lxcdn:lxcdn with its groups and
  no_new_privs, through setpriv, since systemd is not PID 1 here), with the packaged example
  config pointed at a small tree and loopback ports, serves /streams/v1/index.json over HTTPS
  with the packaged certificate and logs no key warning; with the key made 0644 it logs the
  warning naming the file, mode and owner;
- the mirror started the same way with its packaged example (upstream: that origin, the packaged
  certificate as CA) fills /var/cache/lxcdn as lxcdn and serves the file plain and over HTTPS;
- installing the same package again changes nothing (user, key, certificate, modes), and neither
  does `dpkg --remove` then `dpkg -i` (the removal keeps the key and the user);
- `dpkg --purge` removes the binary, the units and /etc/lxcdn/tls and leaves the user (Debian
  policy); the test then removes the user itself, leaving the machine as it found it.

The package is built from whatever preset is under test: in `scripts/test` that is the debug
preset, so the packaged binary carries ASan+UBSan and its version ends in `~asan`. That tests the
packaging's semantics (files, scripts, modes, units), not the release binary; a second full
release build would not fit CI's time budget. Release packages: `cpack --preset deb`; this test
runs against one with `LXCDN_BUILD_DIR=$PWD/build/release LXCDN_BIN=$PWD/build/release/src/app/lxcdn
python3 -m pytest tests/integration/test_packaging.py` after `cmake --build --preset release`.

Needs root (dpkg, users, setpriv). A run that is not root fails: it is never skipped."""
import hashlib
import os
import pwd
import grp
import re
import select
import shlex
import shutil
import stat
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from lxcdn_testlib import (LISTEN_RE, LXCDN_BIN, cache_object_path, end_process, http_request, indexed_tree,
                           run)

BUILD_DIR = Path(os.environ.get("LXCDN_BUILD_DIR", Path(LXCDN_BIN).resolve().parents[2]))
UNIT_DIR = Path("/usr/lib/systemd/system")
UNITS = ["lxcdn-origin.service", "lxcdn-mirror.service", "lxcdn-publish.service", "lxcdn-publish.timer"]
TLS_DIR = Path("/etc/lxcdn/tls")
KEY = TLS_DIR / "key.pem"
CERT = TLS_DIR / "cert.pem"
EXAMPLES = Path("/usr/share/doc/lxcdn/examples")
CONFIGS = [Path("/etc/lxcdn/origin.yaml"), Path("/etc/lxcdn/mirror.yaml")]
BUILD = "images/debian/12/amd64/default/20240101_05:24"


def package_status():
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "lxcdn"], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else ""


def purge():
    return run(["dpkg", "--purge", "lxcdn"])


def remove_user():
    """Removes the user and group lxcdn a previous install (ours) left behind."""
    if user_exists():
        run(["userdel", "lxcdn"])
    try:
        grp.getgrnam("lxcdn")
        run(["groupdel", "lxcdn"])
    except KeyError:
        pass


def user_exists():
    try:
        pwd.getpwnam("lxcdn")
        return True
    except KeyError:
        return False


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    assert os.geteuid() == 0, ("the packaging test installs a Debian package and creates a user: "
                               "run it as root (scripts/test does, as CI does)")
    assert (BUILD_DIR / "CPackConfig.cmake").exists(), f"no CPackConfig.cmake in {BUILD_DIR}"
    out = tmp_path_factory.mktemp("deb")
    run(["cpack", "-G", "DEB", "--config", str(BUILD_DIR / "CPackConfig.cmake"), "-B", str(out)],
        timeout=600)
    debs = list(out.glob("lxcdn_*.deb"))
    assert len(debs) == 1, f"cpack made {debs}"
    return debs[0]


@pytest.fixture(scope="module")
def installed(deb):
    """The package installed on a machine that had neither it nor the user lxcdn (a previous
    aborted run's leftovers are purged first). Purged again and the user removed at the end,
    whatever the tests did; the configs the tests wrote are removed, ones that were there are
    put back."""
    saved = {p: p.read_bytes() for p in CONFIGS if p.exists()}
    if package_status():
        purge()
    remove_user()
    result = run(["dpkg", "-i", str(deb)])
    try:
        yield result
    finally:
        for p in CONFIGS:
            if p in saved:
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(saved[p])
            else:
                p.unlink(missing_ok=True)
        if package_status():
            purge()
        remove_user()


def test_the_package_holds_the_binary_units_and_examples_and_declares_its_dependencies(deb):
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    assert re.fullmatch(rf"lxcdn_[0-9][^_]*_{arch}\.deb", deb.name), deb.name
    info = run(["dpkg-deb", "-f", str(deb), "Package", "Architecture", "Depends"]).stdout
    assert "Package: lxcdn" in info and f"Architecture: {arch}" in info
    depends = re.search(r"Depends: (.*)", info).group(1)
    for lib in ("libssl3", "libyaml-cpp", "libspdlog", "libfmt", "libmaxminddb0", "libgpgme11",
                "libc6", "adduser", "openssl"):
        assert lib in depends, f"{lib} missing from Depends: {depends}"
    files = run(["dpkg-deb", "-c", str(deb)]).stdout
    for path in ["/usr/bin/lxcdn", *[f"{UNIT_DIR}/{u}" for u in UNITS],
                 f"{EXAMPLES}/origin.yaml", f"{EXAMPLES}/mirror.yaml", f"{EXAMPLES}/publish.yaml"]:
        assert re.search(rf" \.{re.escape(path)}$", files, re.M), f"{path} not in the package:\n{files}"
    assert not re.search(r" \./etc/", files, re.M), "the package ships files in /etc"
    scripts = run(["dpkg-deb", "-I", str(deb)]).stdout
    for script in ("postinst", "prerm", "postrm"):
        assert re.search(rf"\b{script}\b", scripts), scripts


def test_postinst_made_a_system_user_with_no_login(installed):
    pw = pwd.getpwnam("lxcdn")
    assert 0 < pw.pw_uid < 1000, pw  # Debian's system range (adduser.conf FIRST/LAST_SYSTEM_UID)
    assert pw.pw_shell == "/usr/sbin/nologin", pw
    assert pw.pw_dir == "/var/lib/lxcdn", pw
    assert grp.getgrgid(pw.pw_gid).gr_name == "lxcdn"
    assert 0 < pw.pw_gid < 1000
    r = subprocess.run(["runuser", "-l", "lxcdn", "-c", "id"], capture_output=True, text=True)
    assert r.returncode != 0 and "uid=" not in r.stdout, "user lxcdn has a login shell"


def mode_owner(path):
    st = path.stat()
    return (stat.S_IMODE(st.st_mode), pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name)


def test_the_private_key_is_readable_by_the_service_user_only(installed):
    assert "made a self-signed certificate" in installed.stdout, installed.stdout
    assert mode_owner(TLS_DIR) == (0o750, "root", "lxcdn")
    assert mode_owner(KEY) == (0o640, "root", "lxcdn")
    assert mode_owner(CERT) == (0o644, "root", "lxcdn")
    r = subprocess.run(["runuser", "-u", "nobody", "--", "cat", str(KEY)], capture_output=True, text=True)
    assert r.returncode != 0 and "Permission denied" in r.stderr and r.stdout == "", r
    r = subprocess.run(["runuser", "-u", "lxcdn", "--", "cat", str(KEY)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("-----BEGIN PRIVATE KEY-----"), r
    # Read, not change: the key belongs to root.
    r = subprocess.run(["runuser", "-u", "lxcdn", "--", "sh", "-c", f"echo x >> {KEY}"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "Permission denied" in r.stderr, r
    r = subprocess.run(["runuser", "-u", "lxcdn", "--", "sh", "-c", f"mv {KEY} {KEY}.moved"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and KEY.exists(), r
    # The certificate is for this host's names and the loopback addresses, and matches the key.
    text = run(["openssl", "x509", "-in", str(CERT), "-noout", "-ext", "subjectAltName"]).stdout
    assert "IP Address:127.0.0.1" in text and "DNS:localhost" in text, text
    pub_cert = run(["openssl", "x509", "-in", str(CERT), "-noout", "-pubkey"]).stdout
    pub_key = run(["openssl", "pkey", "-in", str(KEY), "-pubout"]).stdout
    assert pub_cert == pub_key
    assert mode_owner(Path("/var/lib/lxcdn"))[1:] == ("lxcdn", "lxcdn")
    assert mode_owner(Path("/var/cache/lxcdn"))[1:] == ("lxcdn", "lxcdn")


def unit_settings(name):
    """{key: [values]} of the [Service] section of an installed unit."""
    settings, section = {}, None
    for line in (UNIT_DIR / name).read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            settings.setdefault(k, []).append(v)
    return settings


def test_the_units_pass_systemd_analyze_verify_and_run_as_lxcdn(installed):
    paths = [str(UNIT_DIR / u) for u in UNITS]
    r = subprocess.run(["systemd-analyze", "verify", *paths], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r
    for unit in ("lxcdn-origin.service", "lxcdn-mirror.service", "lxcdn-publish.service"):
        s = unit_settings(unit)
        assert s["User"] == ["lxcdn"] and s["Group"] == ["lxcdn"], (unit, s)
        assert s["NoNewPrivileges"] == ["yes"] and s["ProtectSystem"] == ["strict"], (unit, s)
        assert s["ExecStart"][0].startswith("/usr/bin/lxcdn "), (unit, s)
    for unit in ("lxcdn-origin.service", "lxcdn-mirror.service"):
        s = unit_settings(unit)
        assert s["AmbientCapabilities"] == ["CAP_NET_BIND_SERVICE"], s
        assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"] and s["Restart"] == ["always"], s
    assert unit_settings("lxcdn-mirror.service")["CacheDirectory"] == ["lxcdn"]


class UnitProcess:
    """A server as its unit's ExecStart runs it (`role` origin or mirror): its User= and Group=
    (with the user's supplementary groups, as systemd sets them) and no_new_privs, by setpriv,
    with systemd's nearly empty environment. stderr goes to WORKDIR/ROLE.stderr."""

    def __init__(self, workdir, role="origin"):
        s = unit_settings(f"lxcdn-{role}.service")
        self.argv = ["setpriv", f"--reuid={s['User'][0]}", f"--regid={s['Group'][0]}", "--init-groups",
                     "--no-new-privs", *shlex.split(s["ExecStart"][0])]
        self.log = Path(workdir) / f"{role}.stderr"
        self.proc = None

    def start(self, listeners=2, timeout=60):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        self._err = open(self.log, "a")
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=self._err, env=env)
        self.urls, pending, deadline = {}, b"", time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while len(self.urls) < listeners:
            left = deadline - time.monotonic()
            ready = select.select([fd], [], [], left)[0] if left > 0 else []
            chunk = os.read(fd, 65536) if ready else b""
            if not chunk:
                self.stop()
                raise AssertionError(f"{self.argv} did not start:\n{self.log.read_text()}")
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                m = LISTEN_RE.search(line.decode(errors="replace"))
                if m:
                    self.urls[m.group(1)] = int(m.group(3))
        threading.Thread(target=lambda: [None for _ in iter(lambda: os.read(fd, 65536), b"")],
                         daemon=True).start()
        return self

    def stop(self):
        return end_process(self.proc, log=self._err)

    def ids(self):
        """(real, effective) uid and gid of the running process, from /proc."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)", status, re.M).groups()
        gids = re.search(r"^Gid:\s+(\d+)\s+(\d+)", status, re.M).groups()
        return tuple(map(int, uids)), tuple(map(int, gids))


def key_warnings(log):
    return [ln for ln in log.read_text().splitlines() if "TLS private key" in ln]


@pytest.fixture(scope="module")
def tree():
    """A published tree made by `lxcdn index`, in a directory user lxcdn can read (pytest's own
    temporary directories are 0700 root): (root, {path: bytes})."""
    base = Path(tempfile.mkdtemp(prefix="lxcdn-pkg-"))
    try:
        files = indexed_tree(base / "www", [(BUILD, 4096, 3 << 20)])
        for d, _, names in os.walk(base):
            Path(d).chmod(0o755)
            for n in names:
                (Path(d) / n).chmod(0o644)
        yield base / "www", files
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def config():
    """config(PATH, TEXT) writes a config file for one test; it is removed when the test ends,
    so that purge finds /etc/lxcdn as the package left it."""
    written = []

    def write(path, text):
        path.write_text(text)
        written.append(path)

    yield write
    for path in written:
        path.unlink(missing_ok=True)


def loopback_config(example, **replace):
    """The packaged example `example` with its listen: list replaced by a plain and a TLS
    listener on 127.0.0.1, port 0 (the kernel picks), and each `key: value` line named in
    `replace` (KEY=(old line, new lines)) replaced; the tls: block, the packaged certificate and
    key, is kept as it is."""
    text = (EXAMPLES / example).read_text()
    assert f"  key: {KEY}" in text and f"  certificate: {CERT}" in text
    text, n = re.subn(r"^listen:\n(  - .*\n)+",
                      'listen:\n  - { address: "127.0.0.1", port: 0 }\n'
                      '  - { address: "127.0.0.1", port: 0, tls: true }\n', text, flags=re.M)
    assert n == 1, text
    for old, new in replace.values():
        assert old in text, (old, text)
        text = text.replace(old, new)
    return text


def test_the_packaged_origin_serves_https_as_lxcdn_and_warns_only_about_a_key_others_can_read(
        installed, tree, config, tmp_path):
    root, _ = tree
    config(Path("/etc/lxcdn/origin.yaml"),
           loopback_config("origin.yaml", root=("root: /srv/lxcdn/www/current", f"root: {root}")))
    index = (root / "streams/v1/index.json").read_bytes()

    o = UnitProcess(tmp_path).start()
    try:
        lxcdn = pwd.getpwnam("lxcdn")
        assert o.ids() == ((lxcdn.pw_uid,) * 2, (lxcdn.pw_gid,) * 2)
        url = f"https://127.0.0.1:{o.urls['https']}/streams/v1/index.json"
        body = run(["curl", "-sS", "--fail", "--tlsv1.3", "--cacert", str(CERT), url], text=False).stdout
        assert body == index and b"index:1.0" in body
        r = subprocess.run(["curl", "-sS", "--fail", url], capture_output=True, text=True)
        assert r.returncode != 0, "the self-signed certificate verified without --cacert"
    finally:
        assert o.stop() == 0, o.log.read_text()
    assert key_warnings(o.log) == [], o.log.read_text()

    KEY.chmod(0o644)
    try:
        (tmp_path / "exposed").mkdir()
        o = UnitProcess(tmp_path / "exposed").start()
        try:
            body = run(["curl", "-sS", "--fail", "--cacert", str(CERT),
                        f"https://127.0.0.1:{o.urls['https']}/streams/v1/index.json"], text=False).stdout
            assert body == index  # a warning, not a refusal
        finally:
            assert o.stop() == 0, o.log.read_text()
        lines = key_warnings(o.log)
        assert len(lines) == 1, o.log.read_text()
        assert (f"{KEY}: the TLS private key is readable by every user (mode 0644, owner root:lxcdn); "
                f"make it readable by this service only: chown root:lxcdn {KEY} && chmod 0640 {KEY}"
                in lines[0]), lines[0]
        assert re.search(r"\bwarn", lines[0], re.I), lines[0]
    finally:
        KEY.chmod(0o640)


def test_the_packaged_mirror_fills_its_cache_as_lxcdn(installed, tree, config, tmp_path):
    """The mirror's unit and example: as lxcdn it writes the package's /var/cache/lxcdn, fills
    from the packaged origin over verified TLS (the packaged certificate as its CA) and serves
    plain and HTTPS with the packaged key, without a key warning."""
    root, files = tree
    config(Path("/etc/lxcdn/origin.yaml"),
           loopback_config("origin.yaml", root=("root: /srv/lxcdn/www/current", f"root: {root}")))
    o = UnitProcess(tmp_path).start()
    try:
        config(Path("/etc/lxcdn/mirror.yaml"), loopback_config(
            "mirror.yaml", url=("  url: https://images.linuxcontainers.org",
                                f"  url: https://127.0.0.1:{o.urls['https']}\n  ca_file: {CERT}")))
        m = UnitProcess(tmp_path, role="mirror").start()
        try:
            path = f"/{BUILD}/rootfs.squashfs"
            first = http_request("127.0.0.1", m.urls["http"], path)
            assert first.status == 200 and first.header("X-Cache") == "MISS", first
            assert first.body == files[f"{BUILD}/rootfs.squashfs"]
            body = run(["curl", "-sS", "--fail", "-D", "-", "--cacert", str(CERT),
                        f"https://127.0.0.1:{m.urls['https']}{path}"], text=False).stdout
            head, _, rest = body.partition(b"\r\n\r\n")
            assert re.search(rb"(?im)^x-cache: HIT\r?$", head) and rest == files[f"{BUILD}/rootfs.squashfs"], head
            entry = cache_object_path("/var/cache/lxcdn", path)
            assert entry.exists() and mode_owner(entry)[1:] == ("lxcdn", "lxcdn"), entry
        finally:
            assert m.stop() == 0, m.log.read_text()
    finally:
        assert o.stop() == 0, o.log.read_text()
    assert key_warnings(m.log) == [] and key_warnings(o.log) == [], m.log.read_text()


def fingerprint():
    """What an upgrade must not change: the user and group ids, the key and certificate bytes,
    and every mode and owner postinst set."""
    pw = pwd.getpwnam("lxcdn")
    return (pw.pw_uid, pw.pw_gid, hashlib.sha256(KEY.read_bytes()).hexdigest(),
            hashlib.sha256(CERT.read_bytes()).hexdigest(),
            [mode_owner(p) for p in (TLS_DIR, KEY, CERT, Path("/var/lib/lxcdn"), Path("/var/cache/lxcdn"))])


def test_installing_again_changes_nothing(installed, deb):
    before = fingerprint()
    r = run(["dpkg", "-i", str(deb)])
    assert "made a self-signed certificate" not in r.stdout, r.stdout
    assert fingerprint() == before
    assert package_status() == "install ok installed"
    # Removed (not purged), the configuration stays: the key, the certificate, the user.
    run(["dpkg", "--remove", "lxcdn"])
    assert package_status() == "deinstall ok config-files"
    assert not Path("/usr/bin/lxcdn").exists() and not (UNIT_DIR / "lxcdn-origin.service").exists()
    assert mode_owner(KEY) == (0o640, "root", "lxcdn") and user_exists()
    r = run(["dpkg", "-i", str(deb)])
    assert "made a self-signed certificate" not in r.stdout, r.stdout
    assert fingerprint() == before


def test_purge_removes_the_package_and_its_keys_but_not_the_user(installed):
    assert package_status() == "install ok installed"
    purge()
    assert package_status() in ("", "unknown ok not-installed"), package_status()
    assert not Path("/usr/bin/lxcdn").exists()
    for unit in UNITS:
        assert not (UNIT_DIR / unit).exists() and not (Path("/lib/systemd/system") / unit).exists()
    assert not TLS_DIR.exists() and not Path("/var/cache/lxcdn").exists()
    assert not Path("/etc/lxcdn").exists() and not Path("/var/lib/lxcdn").exists()
    assert not EXAMPLES.exists()
    assert user_exists(), "purge removed the user lxcdn (Debian policy: it stays)"
