"""Shared helpers for lxcdn's integration tests: real processes on loopback, port 0, temp dirs.

Everything here starts real programs (our `lxcdn` binary, `openssl`) and waits on real events
(a line on stdout, a socket that accepts), never on sleeps.
"""
import os
import re
import select
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


class Origin:
    """A running `lxcdn origin` process. Use as a context manager; stops it on exit.

    Attributes after start: http (base URL of the plain listener), https (of the TLS one),
    http_port, https_port, proc, log (path of its stderr).
    """

    def __init__(self, workdir, config_text, args=(), env=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config = self.workdir / "origin.yaml"
        self.config.write_text(config_text)
        self.args = list(args)
        self.env = env
        self.proc = None
        self.log = self.workdir / "origin.stderr"
        self.urls = []

    def start(self, timeout=20):
        """Starts the process and waits for its "listening on" lines.

        stdout is read with os.read, not a buffered reader (select() on a pipe whose bytes a
        TextIOWrapper already swallowed would wait for the timeout when both lines arrive in one
        write), and is then drained into `stdout_log` on a thread so the server never blocks on a
        full pipe.
        """
        self._stderr = open(self.log, "w")
        self.stdout_log = self.workdir / "origin.stdout"
        self.proc = subprocess.Popen([LXCDN_BIN, "origin", "--config", str(self.config), *self.args],
                                     stdout=subprocess.PIPE, stderr=self._stderr, env=self.env)
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        self.urls, self.http, self.https = [], None, None
        expected = self.config.read_text().count("port:")
        pending = b""
        out = open(self.stdout_log, "wb")
        while len(self.urls) < expected:
            left = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(left, 0))[0] if left > 0 else []
            chunk = os.read(fd, 65536) if ready else b""
            if not chunk:
                out.close()
                self.stop()
                raise AssertionError(f"origin did not start; stderr:\n{self.log.read_text()}")
            out.write(chunk)
            out.flush()
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                m = LISTEN_RE.search(line.decode(errors="replace"))
                if m:
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

    def stop(self, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_stderr", None):
            self._stderr.close()
        return self.proc.returncode if self.proc else None

    def stderr_text(self):
        return self.log.read_text()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


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
