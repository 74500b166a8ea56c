"""Limits and deadlines of the HTTP core as a client meets them: a connection cap that closes
extra connections at once, a header deadline against slow or stalled clients, idle keep-alive
expiry, and empty connections that never hang."""
import socket
import ssl
import time

import pytest

from conftest import keep_alive_connections, serving
from lxcdn_testlib import RawConnection, client_tls_context, wait_until


def timed_close(c, timeout=6):
    """Seconds until the server closed `c`, and what it sent meanwhile."""
    start = time.monotonic()
    closed, extra = c.wait_closed(timeout=timeout)
    assert closed, f"connection still open after {timeout}s"
    return time.monotonic() - start, extra


def assert_nothing_or_error_response(extra, allowed=(400, 408)):
    if extra:
        status = int(extra.split(b" ", 2)[1])
        assert extra.startswith(b"HTTP/1.1 ") and status in allowed, extra[:200]


@pytest.fixture(scope="module")
def capped(tree, certs, tmp_path_factory):
    o = serving(tmp_path_factory.mktemp("capped"), tree.root, certs, "limits:\n  max_connections: 3\n")
    yield o
    o.stop()


@pytest.fixture(scope="module")
def impatient(tree, certs, tmp_path_factory):
    o = serving(tmp_path_factory.mktemp("impatient"), tree.root, certs,
                "limits:\n  header_timeout: 1s\n  idle_timeout: 1s\n  tls_handshake_timeout: 1s\n")
    yield o
    o.stop()


def served(port, tls_ctx=None):
    try:
        with RawConnection("127.0.0.1", port, tls=tls_ctx, server_hostname="localhost", timeout=3) as c:
            c.get("/hello.txt")
            return c.read_response().status == 200
    except (OSError, EOFError, AssertionError):
        return False


def test_connections_beyond_max_connections_are_closed_at_once(capped, tree):
    held = keep_alive_connections(capped.http_port, 3)
    try:
        for port in (capped.http_port, capped.https_port):
            extra_conn = RawConnection("127.0.0.1", port, timeout=5)
            start = time.monotonic()
            try:
                extra_conn.get("/hello.txt")
            except (BrokenPipeError, ConnectionResetError):
                pass
            closed, extra = extra_conn.wait_closed(timeout=5)
            extra_conn.close()
            assert closed, "connection over the cap left hanging"
            assert time.monotonic() - start < 2
            assert_nothing_or_error_response(extra, allowed=(503,))
        # The held connections still work, and a freed slot is usable again.
        held[0].get("/hello.txt")
        assert held[0].read_response().body == tree.files["hello.txt"]
        held.pop().close()
        wait_until(lambda: served(capped.http_port), timeout=10, what="a freed connection slot")
    finally:
        for c in held:
            c.close()


def test_half_a_header_is_cut_off_after_header_timeout(impatient):
    with RawConnection("127.0.0.1", impatient.http_port) as c:
        c.send(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Partial: ")
        elapsed, extra = timed_close(c)
    assert 0.7 <= elapsed <= 4, elapsed
    assert_nothing_or_error_response(extra)


def test_slowloris_drip_is_cut_off_after_header_timeout(impatient):
    with RawConnection("127.0.0.1", impatient.http_port) as c:
        start = time.monotonic()
        head = b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n" + b"X-Drip: " + b"a" * 100
        cut = False
        for i in range(len(head)):
            try:
                c.send(head[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                cut = True
                break
            if time.monotonic() - start > 6:
                break
            time.sleep(0.1)  # the client under test is slow on purpose; nothing is awaited here
        if not cut:
            c.wait_closed(timeout=1)
        elapsed = time.monotonic() - start
    assert cut or c.eof, "a client dripping its header was never cut off"
    assert elapsed <= 4, elapsed


def test_idle_keep_alive_connection_is_closed_after_idle_timeout(impatient, tree):
    with RawConnection("127.0.0.1", impatient.http_port) as c:
        c.get("/hello.txt")
        assert c.read_response().body == tree.files["hello.txt"]
        elapsed, extra = timed_close(c)
    assert 0.7 <= elapsed <= 4, elapsed
    assert extra == b""


def test_request_just_before_idle_timeout_is_served(impatient, tree):
    with RawConnection("127.0.0.1", impatient.http_port) as c:
        for _ in range(3):
            c.get("/hello.txt")
            assert c.read_response().body == tree.files["hello.txt"]
            time.sleep(0.5)  # idle for half the idle timeout, as a polite client would


@pytest.mark.parametrize("which", ["http", "https"])
def test_connection_that_never_sends_is_closed(impatient, which):
    port = impatient.http_port if which == "http" else impatient.https_port
    with RawConnection("127.0.0.1", port) as c:
        elapsed, extra = timed_close(c)
    assert elapsed <= 4
    assert_nothing_or_error_response(extra)


def test_stalled_tls_handshake_is_closed(impatient):
    with socket.create_connection(("127.0.0.1", impatient.https_port), timeout=6) as s:
        s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # the start of a ClientHello
        start = time.monotonic()
        try:
            while s.recv(4096):
                pass
        except ConnectionResetError:
            pass
        except socket.timeout:
            pytest.fail("stalled TLS handshake never closed")
        assert time.monotonic() - start <= 4


def test_timeouts_do_not_break_normal_tls_service(impatient, tree):
    assert served(impatient.https_port, client_tls_context(impatient.ca))


@pytest.fixture(scope="module")
def stingy(certs, tmp_path_factory):
    """An origin with a 1 s send deadline over a tree with one 64 MiB file (far more than the
    socket buffers on both sides hold)."""
    root = tmp_path_factory.mktemp("big-tree")
    (root / "images").mkdir()
    with open(root / "images" / "big.bin", "wb") as f:
        f.truncate(64 << 20)
    o = serving(tmp_path_factory.mktemp("stingy"), root, certs, "limits:\n  send_timeout: 1s\n")
    yield o
    o.stop()


@pytest.mark.parametrize("which", ["http", "https"])
def test_reader_that_stops_reading_is_cut_off_after_send_timeout(stingy, which):
    """A client that asks for a large file and stops reading holds the server's write; past
    send_timeout the server gives up. When the client reads again it finds only what the buffers
    held, then the end of the connection: a visibly short transfer, not a resumed one."""
    size = 64 << 20
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    raw.settimeout(10)
    raw.connect(("127.0.0.1", stingy.http_port if which == "http" else stingy.https_port))
    s = client_tls_context(stingy.ca).wrap_socket(raw, server_hostname="localhost") \
        if which == "https" else raw
    with s:
        s.sendall(b"GET /images/big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        got = s.recv(65536)
        head, _, body = got.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and f"Content-Length: {size}".encode() in head
        time.sleep(3.5)  # stop reading: the server's send deadline (1 s) passes meanwhile
        received, start = len(body), time.monotonic()
        try:
            while True:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                received += len(chunk)
        except (ConnectionResetError, ssl.SSLError):
            pass
        assert received < size, "the server resumed a transfer its reader had stalled past send_timeout"
        assert time.monotonic() - start < 5, "the connection was not closed"
    with socket.create_connection(("127.0.0.1", stingy.http_port), timeout=5) as c:
        c.sendall(b"HEAD /images/big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert c.recv(4096).startswith(b"HTTP/1.1 200"), "the server stopped serving"
