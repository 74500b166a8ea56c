"""Run a program as if it connected from a chosen loopback source address (127.0.0.2, say), so the
origin's GeoIP overrides place it: the `lxc` CLI is a Go program, whose connect(2) calls bypass
libc, so an LD_PRELOAD bind() shim cannot reach them.

How: the program runs in a new network namespace (`unshare --net`) whose own loopback has a
listener on 127.0.0.1:PORT for every port it will use (origin, mirrors: redirects name the same
ports); each listener relays over a Unix socket (sockets in the file system cross network
namespaces) to a relay in the test process, which connects to the real 127.0.0.1:PORT from the
chosen source address. URLs, ports and TLS names stay exactly as the client sees them.

Host side: `Relay(directory, ports, source)`, a context manager. Namespace side: this file run as
`python3 source_address.py DIRECTORY PORT[,PORT...] -- PROGRAM ARGS...` under `unshare --net`.
"""
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path


def _pump(a, b):
    """Copies a -> b until EOF, then half-closes b."""
    try:
        while True:
            data = a.recv(1 << 16)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        try:
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def _splice(a, b):
    t = threading.Thread(target=_pump, args=(b, a), daemon=True)
    t.start()
    _pump(a, b)
    t.join(timeout=300)
    a.close()
    b.close()


def _serve(listener, connect):
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        try:
            upstream = connect()
        except OSError:
            conn.close()
            continue
        threading.Thread(target=_splice, args=(conn, upstream), daemon=True).start()


def socket_path(directory, port):
    return str(Path(directory) / f"{port}.sock")


class Relay:
    """Unix sockets DIRECTORY/PORT.sock that connect to 127.0.0.1:PORT from `source`."""

    def __init__(self, directory, ports, source):
        self.directory, self.ports, self.source = Path(directory), list(ports), source
        self.listeners = []

    def __enter__(self):
        self.directory.mkdir(parents=True, exist_ok=True)
        for port in self.ports:
            path = socket_path(self.directory, port)
            if os.path.exists(path):
                os.unlink(path)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.listen(64)
            self.listeners.append(s)

            def connect(port=port):
                c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                c.settimeout(120)
                c.bind((self.source, 0))
                c.connect(("127.0.0.1", port))
                return c

            threading.Thread(target=_serve, args=(s, connect), daemon=True).start()
        return self

    def __exit__(self, *exc):
        for s in self.listeners:
            s.close()

    def command(self, argv):
        """The argv that runs `argv` in a new network namespace wired to this relay."""
        return ["unshare", "--net", "--", sys.executable, str(Path(__file__).resolve()),
                str(self.directory), ",".join(map(str, self.ports)), "--", *map(str, argv)]


def _namespace_main(directory, ports, argv):
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for port in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(64)

        def connect(port=port):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.settimeout(120)
            c.connect(socket_path(directory, port))
            return c

        threading.Thread(target=_serve, args=(s, connect), daemon=True).start()
    return subprocess.run(argv, stdin=subprocess.DEVNULL).returncode


if __name__ == "__main__":
    sep = sys.argv.index("--")
    sys.exit(_namespace_main(sys.argv[1], [int(p) for p in sys.argv[2].split(",")],
                             sys.argv[sep + 1:]))
