"""Shared helpers for lxcdn's integration tests: real processes on loopback, port 0, temp dirs.

Everything here starts real programs (our `lxcdn` binary, `openssl`) and waits on real events
(a line on stdout, a socket that accepts), never on sleeps.
"""
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

LXCDN_BIN = os.environ.get("LXCDN_BIN", str(Path(__file__).resolve().parents[2] / "build/debug/src/app/lxcdn"))
SOURCE_DIR = Path(os.environ.get("LXCDN_SOURCE_DIR", Path(__file__).resolve().parents[2]))

LISTEN_RE = re.compile(r"listening on (https?)://(\[[^\]]+\]|[^:/\s]+):(\d+)")


def run(cmd, **kw):
    """Runs a command, raising with its output on failure."""
    kw.setdefault("check", True)
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    try:
        return subprocess.run(cmd, **kw)
    except subprocess.CalledProcessError as e:
        raise AssertionError(f"{cmd} failed ({e.returncode}):\n{e.stdout}\n{e.stderr}") from e


def make_ca_and_cert(directory, name="server", hosts=("127.0.0.1", "::1", "localhost"), days=30):
    """Makes a test CA and a server certificate signed by it (ECDSA P-256) with openssl.

    Returns (ca_cert, server_chain, server_key) paths. `server_chain` holds leaf then CA.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = d / "ca.key", d / "ca.crt"
    if not ca_crt.exists():
        run(["openssl", "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", str(ca_key), "-out", str(ca_crt), "-days", str(days),
             "-subj", "/CN=lxcdn test CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    key, csr, crt = d / f"{name}.key", d / f"{name}.csr", d / f"{name}.crt"
    sans = ",".join(("IP:" if re.match(r"^[0-9.:]+$", h) else "DNS:") + h for h in hosts)
    ext = d / f"{name}.ext"
    ext.write_text(f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\n"
                   "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n")
    run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={hosts[0]}"])
    run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key),
         "-CAcreateserial", "-out", str(crt), "-days", str(days), "-extfile", str(ext)])
    chain = d / f"{name}.chain.crt"
    chain.write_text(crt.read_text() + ca_crt.read_text())
    return ca_crt, chain, key


def origin_yaml(root, cert=None, key=None, host="127.0.0.1", extra=""):
    """YAML for an origin with one plain and (if cert) one TLS listener on port 0."""
    lines = [f"root: {root}", "listen:", f"  - address: \"{host}\"", "    port: 0"]
    if cert:
        lines += [f"  - address: \"{host}\"", "    port: 0", "    tls: true",
                  "tls:", f"  certificate: {cert}", f"  key: {key}"]
    return "\n".join(lines) + "\n" + extra


def end_process(proc, sig=signal.SIGTERM, timeout=30, log=None):
    """Sends `sig` to `proc` unless it has exited, waits up to `timeout` seconds (then SIGKILL),
    closes `log` (the file its output went to). Returns the exit status, or None if never
    started."""
    if proc and proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if log:
        log.close()
    return proc.returncode if proc else None


class Started:
    """A context manager over start() and stop()."""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class LxcdnServer(Started):
    """A running `lxcdn ROLE --config FILE` process (ROLE = `role` of the subclass). Use as a
    context manager; stops it on exit.

    Attributes after start: http (base URL of the plain listener), https (of the TLS one),
    http_port, https_port, urls (every listening URL), proc, log (path of its stderr).
    `start()` may be called again after `stop()` or `kill()` (a restart): stderr and stdout are
    then appended to, not replaced.
    """

    role = None
    # Words run before the lxcdn command line (e.g. unshare/mount for a private file system).
    prefix = ()

    def __init__(self, workdir, config_text, args=(), env=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config = self.workdir / f"{self.role}.yaml"
        self.config.write_text(config_text)
        self.args = list(args)
        self.env = env
        self.proc = None
        self.log = self.workdir / f"{self.role}.stderr"
        self.stdout_log = self.workdir / f"{self.role}.stdout"
        self.urls = []
        self.starts = 0

    def start(self, timeout=20):
        """Starts the process and waits for its "lxcdn ROLE listening on" lines.

        stdout is read with os.read, not a buffered reader (select() on a pipe whose bytes a
        TextIOWrapper already swallowed would wait for the timeout when both lines arrive in one
        write), and is then drained into `stdout_log` on a thread so the server never blocks on a
        full pipe.
        """
        mode = "a" if self.starts else "w"
        self.starts += 1
        self._stderr = open(self.log, mode)
        self.proc = subprocess.Popen([*self.prefix, LXCDN_BIN, self.role, "--config", str(self.config),
                                      *self.args],
                                     stdout=subprocess.PIPE, stderr=self._stderr, env=self.env)
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        self.urls, self.http, self.https = [], None, None
        expected = self.config.read_text().count("port:")
        pending = b""
        out = open(self.stdout_log, mode + "b")
        while len(self.urls) < expected:
            left = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(left, 0))[0] if left > 0 else []
            chunk = os.read(fd, 65536) if ready else b""
            if not chunk:
                out.close()
                self.stop()
                raise AssertionError(f"{self.role} did not start; stderr:\n{self.log.read_text()}")
            out.write(chunk)
            out.flush()
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                text = line.decode(errors="replace")
                m = LISTEN_RE.search(text)
                if m and f"lxcdn {self.role} listening on" in text:
                    scheme, host, port = m.group(1), m.group(2), int(m.group(3))
                    url = f"{scheme}://{host}:{port}"
                    self.urls.append(url)
                    if scheme == "http" and self.http is None:
                        self.http, self.http_port = url, port
                    if scheme == "https" and self.https is None:
                        self.https, self.https_port = url, port

        def drain():
            with out:
                while True:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        return
                    out.write(chunk)
                    out.flush()

        threading.Thread(target=drain, daemon=True).start()
        return self

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill(self):
        """SIGKILL (kill -9): no cleanup of any kind runs. Returns once the process is gone."""
        self.proc.kill()
        self.proc.wait()
        if getattr(self, "_stderr", None):
            self._stderr.close()

    def stop(self, timeout=30):
        return end_process(self.proc, signal.SIGTERM, timeout, getattr(self, "_stderr", None))

    def stderr_text(self):
        return self.log.read_text()


class Origin(LxcdnServer):
    """A running `lxcdn origin` (see LxcdnServer)."""

    role = "origin"


def wait_port_closed(host, port, timeout=10):
    """Waits until nothing accepts on host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                pass
        except OSError:
            return True
        time.sleep(0.05)
    return False


# --- Raw HTTP/1.1 over sockets (origin HTTP-core tests). Clients such as http.client or curl
# normalise what they send and hide what the server really wrote; these helpers do neither.

import email.utils
import ssl


class RawResponse:
    """One HTTP response as read off the wire: status, reason, version, headers (list of
    (name, value) in order), body bytes, and `raw`, every byte of it."""

    def __init__(self, version, status, reason, headers, body, raw):
        self.version, self.status, self.reason = version, status, reason
        self.headers, self.body, self.raw = headers, body, raw

    def header(self, name, default=None):
        """The first value of header `name` (case-insensitive), or `default`."""
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def __repr__(self):
        return f"<RawResponse {self.status} {self.reason} {self.headers} body={len(self.body)}B>"


class HalfResponse(AssertionError):
    """The server closed the connection in the middle of a response."""


class RawConnection:
    """A client connection that sends exactly the bytes it is given and parses responses strictly.
    `tls` is an ssl.SSLContext (or None for plain TCP). Every read has `timeout` seconds."""

    def __init__(self, host, port, tls=None, server_hostname=None, timeout=10, family=None):
        self.timeout = timeout
        if family is None:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect((host, port))
        if tls is not None:
            s = tls.wrap_socket(s, server_hostname=server_hostname)
        self.sock = s
        self.buf = b""
        self.eof = False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def get(self, path, headers=(), method="GET", version="HTTP/1.1", host="lxcdn.test"):
        """Sends one request (no body) built from its parts."""
        lines = [f"{method} {path} {version}", f"Host: {host}", *headers]
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def _fill(self):
        """Reads more bytes into buf; returns False at EOF (a reset counts as EOF)."""
        if self.eof:
            return False
        try:
            chunk = self.sock.recv(1 << 16)
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        except ssl.SSLError as e:
            if "EOF" in str(e) or "UNEXPECTED_EOF" in str(e):
                chunk = b""
            else:
                raise
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _take(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise HalfResponse(f"connection closed after {len(self.buf)} of {n} body bytes")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _take_line(self, what):
        while b"\r\n" not in self.buf:
            if not self._fill():
                raise HalfResponse(f"connection closed inside the {what}: {self.buf[:200]!r}")
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_response(self, head_only=False):
        """Reads one complete response. Raises EOFError if the connection closed before its first
        byte, HalfResponse if it closed in the middle, socket.timeout if the server stalls."""
        if not self.buf and not self._fill():
            raise EOFError("connection closed before a response")
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                raise HalfResponse(f"connection closed inside the response head: {self.buf[:300]!r}")
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        raw_head = head + b"\r\n\r\n"
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"^(HTTP/\d\.\d) (\d{3})(?: (.*))?$", lines[0])
        if not m:
            raise AssertionError(f"malformed status line: {lines[0]!r}")
        version, status, reason = m.group(1), int(m.group(2)), m.group(3) or ""
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise AssertionError(f"malformed response header line: {line!r}")
            headers.append((name, value.strip()))
        resp = RawResponse(version, status, reason, headers, b"", raw_head)
        if head_only or status in (204, 304) or 100 <= status < 200:
            return resp
        if (resp.header("Transfer-Encoding") or "").lower() == "chunked":
            body = b""
            while True:
                size = int(self._take_line("chunk size").split(b";")[0], 16)
                if size == 0:
                    while self._take_line("trailer"):
                        pass
                    break
                body += self._take(size)
                self._take(2)
            resp.body = body
        elif resp.header("Content-Length") is not None:
            resp.body = self._take(int(resp.header("Content-Length")))
        else:
            while self._fill():
                pass
            resp.body, self.buf = self.buf, b""
        resp.raw += resp.body
        return resp

    def wait_closed(self, timeout=5):
        """Waits until the server closes the connection. Returns (closed, bytes received meanwhile);
        closed is False if it was still open after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        extra = self.buf
        self.buf = b""
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                return False, extra
            self.sock.settimeout(left)
            try:
                if not self._fill():
                    break
            except (socket.timeout, TimeoutError):
                return False, extra
            extra += self.buf
            self.buf = b""
        self.sock.settimeout(self.timeout)
        return True, extra

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_body(conn, head, limit=None):
    """Reads the body announced by `head` (a head_only RawResponse) from `conn` until
    Content-Length bytes (or `limit` bytes) arrived or the server closed. Returns (bytes,
    complete): complete means all Content-Length bytes came. No Content-Length counts as 0."""
    length = int(head.header("Content-Length") or 0)
    want = length if limit is None else min(length, limit)
    while len(conn.buf) < want and conn._fill():
        pass
    body, conn.buf = bytes(conn.buf[:want]), conn.buf[want:]
    return body, len(body) == length


def split_url(url):
    """("http", "127.0.0.1", 8080) from "http://127.0.0.1:8080"; IPv6 brackets are removed."""
    m = re.match(r"^(https?)://(\[[^\]]+\]|[^:/]+):(\d+)", url)
    return m.group(1), m.group(2).strip("[]"), int(m.group(3))


def client_tls_context(ca_file, minimum=None, maximum=None):
    """A verifying client context trusting only `ca_file`."""
    ctx = ssl.create_default_context(cafile=str(ca_file))
    if minimum:
        ctx.minimum_version = minimum
    if maximum:
        ctx.maximum_version = maximum
    return ctx


def http_date_epoch(text):
    """Seconds since the epoch of an HTTP-date (RFC 9110 §5.6.7)."""
    return int(email.utils.parsedate_to_datetime(text).timestamp())


def http_date(epoch):
    return email.utils.formatdate(epoch, usegmt=True)


def wait_until(predicate, timeout=10, interval=0.02, what="condition"):
    """Polls `predicate` until it returns a true value (returned) or raises after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def wait_for_line(path, pattern, timeout=10):
    """Waits until a line of the file `path` matches the regex `pattern`; returns that line."""
    rx = re.compile(pattern)

    def find():
        try:
            for line in Path(path).read_text(errors="replace").splitlines():
                if rx.search(line):
                    return line
        except FileNotFoundError:
            pass
        return None

    return wait_until(find, timeout, what=f"a line matching {pattern!r} in {path}")


# --- Real LXD clients (`lxc` CLI, `lxd` daemon) against trees made by `lxcdn demo`.

import hashlib

LXC_TIMEOUT = 120  # seconds for one lxc call: it follows redirects forever, so never wait unbounded


class DemoImage:
    """One build directory of a demo tree, hashed here independently of lxcdn's index:
    os, release, arch, variant, serial, meta and root (paths), meta_sha256, root_sha256, size and
    fingerprint = sha256(meta bytes || root bytes)."""

    def __init__(self, build_dir):
        d = Path(build_dir)
        self.os, self.release, self.arch, self.variant, self.serial = d.parts[-5:]
        self.meta, self.root = d / "incus.tar.xz", d / "rootfs.squashfs"
        meta, root = self.meta.read_bytes(), self.root.read_bytes()
        self.meta_sha256 = hashlib.sha256(meta).hexdigest()
        self.root_sha256 = hashlib.sha256(root).hexdigest()
        self.fingerprint = hashlib.sha256(meta + root).hexdigest()
        self.size = len(meta) + len(root)

    @property
    def alias(self):
        """The alias naming exactly this image: <os>/<release>/<variant>/<arch>."""
        return f"{self.os}/{self.release}/{self.variant}/{self.arch}"

    def __repr__(self):
        return f"<DemoImage {self.alias} {self.serial} {self.fingerprint[:12]}>"


def demo_images_on_disk(www):
    """DemoImage for every www/images/<os>/<release>/<arch>/<variant>/<serial>/ directory that
    holds incus.tar.xz and rootfs.squashfs, sorted by path."""
    return [DemoImage(p.parent) for p in sorted(Path(www).glob("images/*/*/*/*/*/incus.tar.xz"))
            if (p.parent / "rootfs.squashfs").is_file()]


class DemoTree:
    """What `lxcdn demo --dir DIR` prepared: dir, www, ca (tls/ca.crt), config (origin.yaml),
    stdout (what it printed) and images (demo_images_on_disk(www))."""

    def __init__(self, directory, stdout=""):
        self.dir = Path(directory)
        self.www, self.ca, self.config = self.dir / "www", self.dir / "tls/ca.crt", self.dir / "origin.yaml"
        self.stdout = stdout
        self.images = demo_images_on_disk(self.www)


def demo_prepare(directory, https_port=0, http_port=0, timeout=300):
    """Runs `lxcdn demo --prepare-only --dir DIRECTORY` and returns its DemoTree."""
    out = run([LXCDN_BIN, "demo", "--prepare-only", "--dir", str(directory),
               "--https-port", str(https_port), "--http-port", str(http_port)], timeout=timeout)
    return DemoTree(directory, out.stdout)


def lxc(args, conf, timeout=LXC_TIMEOUT, check=True, lxd_dir=None, ssl_cert_file=None):
    """Runs the `lxc` CLI with LXD_CONF=conf (and LXD_DIR=lxd_dir, SSL_CERT_FILE=ssl_cert_file when
    given; neither is inherited otherwise). Returns the CompletedProcess (text). With check, a
    non-zero exit raises AssertionError with its output; a call past `timeout` always does."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR", "LXD_DIR", "LXD_CONF")}
    env["LXD_CONF"] = str(conf)
    # Without a daemon of our own, point at a socket that does not exist rather than the system's.
    env["LXD_DIR"] = str(lxd_dir) if lxd_dir else str(Path(conf) / "no-daemon")
    if ssl_cert_file:
        env["SSL_CERT_FILE"] = str(ssl_cert_file)
    cmd = ["lxc", *map(str, args)]
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{cmd} still running after {timeout}s (a redirect loop?)\n"
                             f"{e.stdout}\n{e.stderr}") from e
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def lxc_remote_conf(directory, remote, url, ca):
    """Makes `directory` an LXD_CONF with the simplestreams remote `remote` -> `url`, trusted
    through the per-remote certificate pin servercerts/REMOTE.crt = `ca` (the way `lxcdn demo`
    tells users to). Returns the directory."""
    d = Path(directory)
    (d / "servercerts").mkdir(parents=True, exist_ok=True)
    shutil.copy(ca, d / "servercerts" / f"{remote}.crt")
    lxc(["remote", "add", remote, url, "--protocol=simplestreams"], d)
    return d


def lxc_export_and_verify(conf, remote, image, out):
    """`lxc image export REMOTE:ALIAS OUT/` of the DemoImage `image` into the new directory
    `out`; asserts it wrote exactly the metadata and the rootfs, with the sha256s and the combined
    fingerprint computed from the demo's files on disk."""
    out = Path(out)
    out.mkdir()
    lxc(["image", "export", f"{remote}:{image.alias}", f"{out}/"], conf)
    files = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(files) == ["incus.tar.xz", "rootfs.squashfs"]
    meta, root = files["incus.tar.xz"], files["rootfs.squashfs"]
    assert hashlib.sha256(meta).hexdigest() == image.meta_sha256
    assert hashlib.sha256(root).hexdigest() == image.root_sha256
    assert hashlib.sha256(meta + root).hexdigest() == image.fingerprint


def lxc_image_fingerprint(info_text):
    """The value of the "Fingerprint:" line of `lxc image info` output."""
    m = re.search(r"^Fingerprint: ([0-9a-f]{64})$", info_text, re.M)
    assert m, f"no Fingerprint line in:\n{info_text}"
    return m.group(1)


def small_window_connection(host, port, tls=None, server_hostname="localhost", rcvbuf=64 << 10, timeout=30):
    """A RawConnection whose socket has a small receive buffer, set before connecting, so that a
    large response stays in flight (the server blocked mid-body) until the test reads it."""
    c = RawConnection.__new__(RawConnection)
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((host, port))
    if tls is not None:
        s = tls.wrap_socket(s, server_hostname=server_hostname)
    c.sock, c.buf, c.eof, c.timeout = s, b"", False, timeout
    return c


# --- lxcdn mirror: the mirror process, its upstreams (lxcdn origin, nginx, misbehaving Python
# servers) and the trees they serve.

import json
import sys


def yaml_block(mapping, indent=2):
    """YAML lines for a nested dict of scalars (keys kept in order), indented by `indent`."""
    lines = []
    for k, v in mapping.items():
        if isinstance(v, dict):
            lines.append(" " * indent + f"{k}:")
            lines += yaml_block(v, indent + 2)
        else:
            lines.append(" " * indent + f"{k}: {v}")
    return lines


def mirror_yaml(cache_dir, upstream_url, ca_file=None, cert=None, key=None, host="127.0.0.1",
                upstream=None, cache=None, extra="", plain=True):
    """YAML for a mirror of `upstream_url` caching in `cache_dir`, with one plain (unless not
    `plain`) and (if cert) one TLS listener on port 0. `upstream` and `cache` are dicts of further
    keys for those sections (nested dicts for `cache.valid`); `extra` is appended as is."""
    lines = ["upstream:", f"  url: {upstream_url}"]
    if ca_file:
        lines.append(f"  ca_file: {ca_file}")
    lines += yaml_block(upstream or {})
    lines += ["cache:", f"  dir: {cache_dir}"]
    lines += yaml_block(cache or {})
    lines += ["listen:"]
    if plain:
        lines += [f"  - address: \"{host}\"", "    port: 0"]
    if cert:
        lines += [f"  - address: \"{host}\"", "    port: 0", "    tls: true",
                  "tls:", f"  certificate: {cert}", f"  key: {key}"]
    return "\n".join(lines) + "\n" + extra


class TestClock:
    """The file behind `lxcdn mirror --test-clock FILE`: the mirror reads the unix time from it on
    every use. Writes are atomic (rename), so the mirror never reads a half-written number (an
    empty or unreadable file would make it fall back to the real clock)."""

    __test__ = False  # not a pytest test class

    def __init__(self, path, start=None):
        self.path = Path(path)
        self.set(int(time.time()) if start is None else start)

    def set(self, t):
        self.now = int(t)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(f"{self.now}\n")
        os.replace(tmp, self.path)

    def advance(self, seconds):
        self.set(self.now + seconds)


def http_request(host, port, path, headers=(), method="GET", tls=None, timeout=30, head_only=None):
    """One request on a fresh connection; returns the RawResponse (raises HalfResponse if the
    server closed mid-response). `tls` is an ssl.SSLContext for HTTPS."""
    with RawConnection(host, port, tls=tls, server_hostname="localhost" if tls else None,
                       timeout=timeout) as c:
        c.get(path, headers=headers, method=method, host=f"{host}:{port}")
        return c.read_response(head_only=method == "HEAD" if head_only is None else head_only)


def parse_metrics(text):
    """{name or name{labels}: float} from a Prometheus text exposition."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def cache_object_path(cache_dir, key):
    """Where the mirror keeps the entry for `key` (a normalised path): objects/<h[:2]>/<h>,
    h = sha256(key) (src/mirror/cache_store.hpp)."""
    h = sha256_hex(key.encode())
    return Path(cache_dir) / "objects" / h[:2] / h


CACHE_HEADER_SIZE = 4096  # the body of a cache entry file starts here (src/mirror/cache_entry.hpp)


class Mirror(LxcdnServer):
    """A running `lxcdn mirror` (see LxcdnServer). `clock`: a TestClock passed as --test-clock.
    `cache_dir`: its cache.dir, for tests that look at or damage the files."""

    role = "mirror"

    def __init__(self, workdir, config_text, cache_dir=None, clock=None, args=(), env=None):
        args = list(args)
        if clock is not None:
            args += ["--test-clock", str(clock.path)]
        super().__init__(workdir, config_text, args, env)
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.clock = clock

    def request(self, path, headers=(), method="GET", tls=None, timeout=30):
        """A request to the plain listener (or, with `tls`, to the TLS one). Without a plain
        listener, plain HTTP goes to the TLS one (which serves both)."""
        _, host, port = split_url(self.https if tls else self.http or self.https)
        return http_request(host, port, path, headers, method, tls, timeout)

    def connection(self, tls=None, timeout=30):
        _, host, port = split_url(self.https if tls else self.http or self.https)
        return RawConnection(host, port, tls=tls, server_hostname="localhost" if tls else None,
                             timeout=timeout)

    def status(self):
        r = self.request("/.lxcdn/status")
        assert r.status == 200, r
        return json.loads(r.body)

    def metrics(self):
        r = self.request("/metrics")
        assert r.status == 200, r
        return parse_metrics(r.body.decode())

    def metric(self, name):
        return self.metrics().get(name, 0.0)

    def wait_metric(self, name, predicate, timeout=15):
        """Waits until predicate(value of metric `name`) holds; returns the value."""
        box = {}

        def died():
            self.proc.wait(timeout=5)
            return AssertionError(f"the mirror exited (status {self.proc.returncode}) while "
                                  f"waiting for {name}; stderr:\n{self.stderr_text()[-3000:]}")

        def check():
            if self.proc.poll() is not None:
                raise died()
            try:
                box["v"] = self.metric(name)
            except (OSError, EOFError, HalfResponse):
                if self.proc.poll() is None:
                    try:
                        self.proc.wait(timeout=1)
                    except subprocess.TimeoutExpired:
                        raise
                raise died()
            return predicate(box["v"])

        try:
            wait_until(check, timeout, interval=0.05, what=f"metric {name}")
        except AssertionError as e:
            raise AssertionError(f"{e}; last value {box.get('v')}; stderr:\n{self.stderr_text()[-3000:]}")
        return box["v"]

    def wait_index_loaded(self, timeout=15):
        """Waits until the mirror has loaded its upstream's index (status: upstream reachable)."""
        wait_until(lambda: self.status()["upstream"]["reachable"], timeout,
                   what=f"the mirror to load the upstream index; stderr:\n{self.stderr_text()[-2000:]}")

    def object_path(self, key):
        return cache_object_path(self.cache_dir, key)

    def temp_files(self):
        return sorted((self.cache_dir / "tmp").iterdir()) if (self.cache_dir / "tmp").is_dir() else []


def indexed_tree(root, builds, extra_files=None):
    """A published tree made for the mirror tests and indexed by `lxcdn index ROOT`.

    `builds` is a list of (build_dir, metadata_size, rootfs_size), build_dir like
    "images/debian/12/amd64/default/20240101_05:24"; each gets an incus.tar.xz and a
    rootfs.squashfs of random bytes (so every fingerprint is unique). `extra_files` maps further
    paths to bytes, written before indexing (the index ignores what is not a build's file).
    Returns {path below root: bytes} of every file written (the index files excluded)."""
    root = Path(root)
    files = {}
    for build_dir, meta_size, root_size in builds:
        files[f"{build_dir}/incus.tar.xz"] = os.urandom(meta_size)
        files[f"{build_dir}/rootfs.squashfs"] = os.urandom(root_size)
    files.update(extra_files or {})
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    run([LXCDN_BIN, "index", str(root)])
    return files


def start_origin(workdir, root, certs, access_log=False, extra=""):
    """An `lxcdn origin` serving `root` on 127.0.0.1 (plain and TLS), access log on stderr if
    asked (one line per request: peer, method, target, status, bytes). Started; the caller
    stops it."""
    ca, chain, key = certs
    text = origin_yaml(root, chain, key, extra=("access_log: true\n" if access_log else "") + extra)
    return Origin(workdir, text).start()


def access_log_targets(text, method="GET"):
    """Request targets of an `lxcdn origin` access log (`access_log: true`), in order, with the
    status: [(target, status)]."""
    out = []
    for line in text.splitlines():
        m = re.search(r"\] (\S+) " + method + r" (\S+) (\d{3}) ", line)
        if m:
            out.append((m.group(2), int(m.group(3))))
    return out


def nginx_conf(directory, http_directives):
    """A whole nginx.conf for a test instance whose files (pid, logs, temp dirs) all live in
    `directory`: foreground, one worker (so its access log is in completion order), workers as
    root (pytest's temp dirs are 0700), and `http_directives` inside `http { }`."""
    d = directory
    return (f"daemon off;\nmaster_process on;\nworker_processes 1;\nuser root root;\n"
            f"pid {d}/nginx.pid;\nerror_log {d}/error.log info;\n"
            f"events {{ worker_connections 512; }}\nhttp {{\n"
            f"    client_body_temp_path {d}/body;\n    proxy_temp_path {d}/proxy;\n"
            f"    fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n"
            f"    scgi_temp_path {d}/scgi;\n{http_directives}}}\n")


NGINX_UPSTREAM_HTTP = """\
    default_type application/octet-stream;
    log_format lxcdn '$request_method $request_uri $status $body_bytes_sent '
                     'nogeoip=$http_x_lxc_no_geoip host=$http_host conn=$connection/$connection_requests';
    access_log {dir}/access.log lxcdn;
    server {{
        listen {listen} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.3;
        root {root};
{locations}
    }}
"""


class Nginx(Started):
    """Debian's nginx as an upstream: TLS 1.3 on `host` (127.0.0.1) with the given certificate,
    serving `root`, with `locations` (nginx directives) inside its server block, one worker, an
    access log of "METHOD REQUEST_URI STATUS BYTES nogeoip=X-LXC-No-GeoIP host=HOST
    conn=CONNECTION/NTH_REQUEST_ON_IT" lines.

    nginx cannot bind port 0 and say which port it got, so the test binds the socket itself and
    hands it over the way nginx's binary upgrade does (the NGINX environment variable naming an
    inherited listening fd): no free-port guess, no race. Use as a context manager."""

    def __init__(self, workdir, root, cert, key, locations="", host="127.0.0.1"):
        self.host = host
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.root, self.cert, self.key, self.locations = Path(root), cert, key, locations
        self.access_log = self.dir / "access.log"
        self.error_log = self.dir / "error.log"
        self.proc = None

    def start(self, timeout=20):
        v6 = ":" in self.host
        sock = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.host, 0))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        authority = f"[{self.host}]:{self.port}" if v6 else f"{self.host}:{self.port}"
        self.url = f"https://{authority}"
        conf = self.dir / "nginx.conf"
        conf.write_text(nginx_conf(self.dir, NGINX_UPSTREAM_HTTP.format(
            dir=self.dir, listen=authority, cert=self.cert, key=self.key, root=self.root,
            locations=self.locations)))
        fd = sock.fileno()
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin"), "NGINX": f"{fd};"}
        self._stderr = open(self.dir / "nginx.stderr", "w")
        self.proc = subprocess.Popen(["nginx", "-p", str(self.dir), "-e", "stderr", "-c", str(conf)],
                                     pass_fds=[fd], env=env, stdout=self._stderr, stderr=self._stderr)
        sock.close()
        # The socket already accepts (the kernel queues connections); wait until nginx runs its
        # worker, or has exited with a configuration error.
        wait_until(lambda: self.proc.poll() is not None or "start worker process" in self.errors(),
                   timeout, what="nginx to start its worker")
        if self.proc.poll() is not None:
            raise AssertionError(f"nginx did not start:\n{self.errors()}\n"
                                 f"{(self.dir / 'nginx.stderr').read_text()}")
        return self

    def errors(self):
        text = ""
        for p in (self.error_log, self.dir / "nginx.stderr"):
            if p.exists():
                text += p.read_text(errors="replace")
        return text

    def requests(self, uri=None):
        """Access log lines as (method, request_uri, status, bytes, no_geoip, host, connection
        serial number, number of the request on its connection), optionally only those for
        `uri`."""
        out = []
        if self.access_log.exists():
            for line in self.access_log.read_text().splitlines():
                m = re.match(r"^(\S+) (\S+) (\d+) (\d+) nogeoip=(\S*) host=(\S*) conn=(\d+)/(\d+)$",
                             line)
                if m and (uri is None or m.group(2) == uri):
                    out.append((m.group(1), m.group(2), int(m.group(3)), int(m.group(4)), m.group(5),
                                m.group(6), int(m.group(7)), int(m.group(8))))
        return out

    def stop(self):
        end_process(self.proc, signal.SIGTERM, 20, getattr(self, "_stderr", None))


FAKE_UPSTREAM = Path(__file__).resolve().parent / "fake_upstream.py"


class FakeUpstream(Started):
    """A misbehaving HTTPS upstream (tests/integration/fake_upstream.py) in its own process.
    `mode`: "truncate" (for /images/ paths: headers with Content-Length, half the body, then -
    once `release()` is called - a close; 404 for other paths), "stall-headers" (TLS handshake,
    reads a request, never answers), "stall-handshake" (accepts TCP, never speaks TLS).
    "status" (for /images/ paths: `status` with a short body, and a Location for a 3xx).
    `requests()` lists the request targets it received. Use as a context manager."""

    def __init__(self, workdir, mode, cert, key, body_size=1 << 20, status=403):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.mode, self.cert, self.key, self.body_size = mode, cert, key, body_size
        self.status = status
        self.release_file = self.dir / "release"
        self.log = self.dir / "requests.log"
        self.proc = None

    def start(self, timeout=20):
        self._stderr = open(self.dir / "fake.stderr", "w")
        self.proc = subprocess.Popen(
            [sys.executable, str(FAKE_UPSTREAM), "--mode", self.mode, "--cert", str(self.cert),
             "--key", str(self.key), "--body-size", str(self.body_size),
             "--release-file", str(self.release_file), "--log", str(self.log),
             "--status", str(self.status)],
            stdout=subprocess.PIPE, stderr=self._stderr, text=True)
        ready = select.select([self.proc.stdout], [], [], timeout)[0]
        line = self.proc.stdout.readline() if ready else ""
        m = LISTEN_RE.search(line)
        if not m:
            self.stop()
            raise AssertionError(f"fake upstream did not start: {line!r}\n"
                                 f"{(self.dir / 'fake.stderr').read_text()}")
        self.port = int(m.group(3))
        self.url = f"https://127.0.0.1:{self.port}"
        return self

    def body(self):
        """The bytes the fake promises for every /images/ path (it sends only the first half)."""
        return fake_upstream_body(self.body_size)

    def release(self):
        self.release_file.write_text("")

    def requests(self):
        return self.log.read_text().splitlines() if self.log.exists() else []

    def stop(self):
        end_process(self.proc, signal.SIGKILL, 20, getattr(self, "_stderr", None))


def fake_upstream_body(size):
    """The deterministic body fake_upstream.py announces: repeating sha256 blocks."""
    out, block = bytearray(), b"lxcdn"
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])
