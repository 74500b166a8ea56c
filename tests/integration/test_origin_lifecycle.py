"""Start and stop of `lxcdn origin`: graceful shutdown on SIGTERM finishes downloads in flight
and refuses new connections, exits 0; idle keep-alive connections do not delay it; the shutdown
grace bounds a client that stopped reading."""
import hashlib
import os
import signal
import socket
import time

import pytest

from conftest import keep_alive_connections
from lxcdn_testlib import (Origin, RawConnection, client_tls_context, origin_yaml,
                           small_window_connection, wait_until)

BIG = "images/big/rootfs.squashfs"
BIG_SIZE = 64 << 20


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("big") / "www"
    (root / "images/big").mkdir(parents=True)
    data = os.urandom(BIG_SIZE)
    (root / BIG).write_bytes(data)
    (root / "hello.txt").write_bytes(b"hello\n")
    return root, hashlib.sha256(data).hexdigest()


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True


def read_head(c):
    while b"\r\n\r\n" not in c.buf:
        assert c._fill(), "closed before the response head"
    head, c.buf = c.buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    return lines[0], headers


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_sigterm_lets_a_64mib_download_finish(big_tree, certs, tmp_path, scheme):
    root, digest = big_tree
    ca, chain, key = certs
    with Origin(tmp_path, origin_yaml(root, chain, key) + "limits:\n  shutdown_grace: 30s\n") as o:
        port = o.http_port if scheme == "http" else o.https_port
        c = small_window_connection("127.0.0.1", port, client_tls_context(ca) if scheme == "https" else None)
        try:
            c.send(f"GET /{BIG} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            status, headers = read_head(c)
            assert status.startswith("HTTP/1.1 200"), status
            length = int(headers["content-length"])
            assert length == BIG_SIZE
            h = hashlib.sha256()
            got = 0
            while got < (1 << 20):
                assert c._fill()
                h.update(c.buf)
                got += len(c.buf)
                c.buf = b""

            o.signal(signal.SIGTERM)
            for p in (o.http_port, o.https_port):
                wait_until(lambda: refused(p), timeout=10, what="the listeners to close")
            assert o.proc.poll() is None, "process exited with a download in flight"

            reads = 0
            while got < length:  # a slow-ish client: small reads with short pauses
                if not c._fill():
                    break
                h.update(c.buf)
                got += len(c.buf)
                c.buf = b""
                reads += 1
                if reads % 64 == 0:
                    time.sleep(0.005)
            assert got == length, f"download cut at {got} of {length} bytes"
            assert h.hexdigest() == digest
            closed, extra = c.wait_closed(timeout=10)
            assert closed and extra == b""
        finally:
            c.close()
        o.proc.wait(timeout=15)
        assert o.proc.returncode == 0, o.stderr_text()


def test_sigterm_with_idle_keep_alive_connections_exits_promptly(big_tree, tmp_path):
    root, _ = big_tree
    with Origin(tmp_path, origin_yaml(root) + "limits:\n  shutdown_grace: 30s\n") as o:
        conns = keep_alive_connections(o.http_port, 3)
        try:
            start = time.monotonic()
            o.signal(signal.SIGTERM)
            o.proc.wait(timeout=10)
            assert time.monotonic() - start < 3, "shutdown waited on idle connections"
            assert o.proc.returncode == 0, o.stderr_text()
            for c in conns:
                closed, extra = c.wait_closed(timeout=2)
                assert closed and extra == b""
        finally:
            for c in conns:
                c.close()


def test_sigint_is_graceful_too(big_tree, tmp_path):
    root, _ = big_tree
    with Origin(tmp_path, origin_yaml(root)) as o:
        keep_alive_connections(o.http_port, 1)[0].close()  # serving, so past start-up (see below)
        o.signal(signal.SIGINT)
        o.proc.wait(timeout=10)
        assert o.proc.returncode == 0, o.stderr_text()


def test_shutdown_grace_bounds_a_client_that_stopped_reading(big_tree, tmp_path):
    root, _ = big_tree
    with Origin(tmp_path, origin_yaml(root) + "limits:\n  shutdown_grace: 1s\n") as o:
        c = small_window_connection("127.0.0.1", o.http_port)
        try:
            c.send(f"GET /{BIG} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            status, _ = read_head(c)
            assert status.startswith("HTTP/1.1 200")
            start = time.monotonic()
            o.signal(signal.SIGTERM)
            o.proc.wait(timeout=15)
            assert time.monotonic() - start < 6, "shutdown grace not applied"
        finally:
            c.close()


def test_listening_lines_name_every_listener(big_tree, tmp_path):
    root, _ = big_tree
    text = (f"root: {root}\nlisten:\n" + "  - address: \"127.0.0.1\"\n    port: 0\n" * 2)
    with Origin(tmp_path, text) as o:
        assert len(o.urls) == 2 and len(set(o.urls)) == 2, o.urls
        for url in o.urls:
            port = int(url.rsplit(":", 1)[1])
            with RawConnection("127.0.0.1", port) as c:
                c.get("/hello.txt")
                assert c.read_response().status == 200


@pytest.mark.parametrize("sig,expect_alive", [(signal.SIGHUP, True), (signal.SIGTERM, False)])
def test_signal_right_after_the_listening_lines_is_handled(big_tree, certs, tmp_path, sig, expect_alive):
    """The "listening on" lines are the readiness signal scripts and service managers wait for;
    from then on SIGHUP must reload (not kill) and SIGTERM must stop gracefully with status 0."""
    root, _ = big_tree
    ca, chain, key = certs
    with Origin(tmp_path, origin_yaml(root, chain, key)) as o:
        o.signal(sig)
        if expect_alive:
            with RawConnection("127.0.0.1", o.http_port) as c:
                c.get("/hello.txt")
                assert c.read_response().status == 200
            assert o.proc.poll() is None, f"killed by the signal: status {o.proc.returncode}"
        else:
            o.proc.wait(timeout=10)
            assert o.proc.returncode == 0, f"status {o.proc.returncode}"


@pytest.mark.parametrize("cpus, threads, expected", [
    ("0", 0, 1),      # threads: 0 counts the CPUs the process may run on, not the machine's cores
    (None, 0, None),  # unpinned: every CPU of the affinity mask (os.sched_getaffinity)
    ("0", 3, 3),      # an explicit count is taken as given
])
def test_io_threads_follow_the_cpu_affinity(big_tree, tmp_path, cpus, threads, expected):
    root, _ = big_tree
    o = Origin(tmp_path, origin_yaml(root) + f"threads: {threads}\n")
    if cpus is not None:
        o.prefix = ("taskset", "-c", cpus)
    expected = expected or len(os.sched_getaffinity(0))
    with o:
        wait_until(lambda: "I/O thread" in o.stderr_text(), 5, what="the start-up log line")
        assert f"on {expected} I/O thread(s)" in o.stderr_text()
        c = RawConnection("127.0.0.1", o.http_port)
        c.get("/hello.txt")
        assert c.read_response().body == b"hello\n"
        c.close()
