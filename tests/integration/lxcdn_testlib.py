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
        self._stderr = open(self.log, "w")
        self.proc = subprocess.Popen([LXCDN_BIN, "origin", "--config", str(self.config), *self.args],
                                     stdout=subprocess.PIPE, stderr=self._stderr, text=True,
                                     env=self.env)
        deadline = time.monotonic() + timeout
        self.urls = []
        self.http = self.https = None
        expected = self.config.read_text().count("port:")
        while len(self.urls) < expected:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop()
                raise AssertionError(f"origin did not start; stderr:\n{self.log.read_text()}")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if not ready:
                continue
            line = self.proc.stdout.readline()
            m = LISTEN_RE.search(line)
            if m:
                scheme, host, port = m.group(1), m.group(2), int(m.group(3))
                url = f"{scheme}://{host}:{port}"
                self.urls.append(url)
                if scheme == "http" and self.http is None:
                    self.http, self.http_port = url, port
                if scheme == "https" and self.https is None:
                    self.https, self.https_port = url, port
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
