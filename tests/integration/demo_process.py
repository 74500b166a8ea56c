"""A running `lxcdn demo` (origin + mirror A + mirror B as supervised child processes), for the
demo and real-client tests. Every port is 0: the demo picks free ones and prints them."""
import json
import os
import re
import select
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from lxcdn_testlib import LXCDN_BIN, DemoTree

READY_LINE = "lxcdn demo: running (origin, mirror A, mirror B)"


class DemoProcess:
    """`lxcdn demo --dir DIR` with all four ports 0. Use as a context manager.

    After start: stdout (everything printed up to READY_LINE), tree (DemoTree of DIR), ports
    origin_https_port, origin_http_port, mirror_a_port, mirror_b_port, watch (the indented lines
    printed before "in another shell"), commands (the indented lines after it), proc, log (its
    stderr: the children's logs)."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log = self.dir.parent / (self.dir.name + ".stderr")
        self.proc = None

    def start(self, timeout=300):
        self._stderr = open(self.log, "w")
        self.proc = subprocess.Popen(
            [LXCDN_BIN, "demo", "--dir", str(self.dir), "--https-port", "0", "--http-port", "0",
             "--mirror-a-port", "0", "--mirror-b-port", "0"],
            stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL)
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        out = b""
        while READY_LINE.encode() not in out:
            left = deadline - time.monotonic()
            chunk = os.read(fd, 65536) if left > 0 and select.select([fd], [], [], left)[0] else b""
            if not chunk:
                self.stop()
                raise AssertionError(f"lxcdn demo did not get ready:\n{out.decode()}\n"
                                     f"{self.stderr_text()[-4000:]}")
            out += chunk
        self.stdout = out.decode()
        self.tree = DemoTree(self.dir, self.stdout)
        m = re.search(r"origin on https://127\.0\.0\.1:(\d+) and http://127\.0\.0\.1:(\d+)", self.stdout)
        self.origin_https_port, self.origin_http_port = int(m.group(1)), int(m.group(2))
        self.mirror_a_port = int(re.search(r"mirror A on 127\.0\.0\.1:(\d+)", self.stdout).group(1))
        self.mirror_b_port = int(re.search(r"mirror B on 127\.0\.0\.1:(\d+)", self.stdout).group(1))
        lines = self.stdout.splitlines()
        marker = next(i for i, line in enumerate(lines) if "in another shell" in line)
        self.watch = [line.strip() for line in lines[:marker] if line.startswith("  ")]
        self.commands = [line.strip() for line in lines[marker + 1:] if line.startswith("  ")]
        return self

    def mirror_get(self, port, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
            return r.read().decode()

    def status(self, port):
        return json.loads(self.mirror_get(port, "/.lxcdn/status"))

    def metrics(self, port):
        """{name: value} of the mirror's Prometheus text."""
        out = {}
        for line in self.mirror_get(port, "/metrics").splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
        return out

    def child_pids(self):
        """{config file name: pid} of the processes running this demo's configs."""
        pids = {}
        for p in Path("/proc").iterdir():
            if not p.name.isdigit():
                continue
            try:
                argv = (p / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            for arg in argv:
                path = Path(arg.decode(errors="replace"))
                if path.parent == self.dir and path.suffix == ".yaml":
                    pids[path.name] = int(p.name)
        return pids

    def stderr_text(self):
        return self.log.read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Signals the demo and waits for it; returns its exit status."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_stderr", None):
            self._stderr.close()
        return self.proc.returncode if self.proc else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
