"""TLS on the origin: versions, chain and SNI, plain HTTP detected on the TLS port, quiet empty
connections, certificate reload on SIGHUP, IPv6 listeners."""
import grp
import hashlib
import os
import re
import shutil
import signal
import socket
import ssl
import time

import pytest

from conftest import SERIAL_DIR, ipv6_loopback_available
from lxcdn_testlib import (Origin, RawConnection, client_tls_context, make_ca_and_cert, origin_yaml, run,
                           wait_for_line, wait_until)

LARGE = f"{SERIAL_DIR}/rootfs.squashfs"


def tls_get(host, port, ctx, path, server_hostname="localhost"):
    with RawConnection(host, port, tls=ctx, server_hostname=server_hostname) as c:
        c.get(path)
        r = c.read_response()
        return r, c.sock.version(), c.sock.getpeercert(binary_form=True)


def test_tls13_is_negotiated_by_default(origin, tree):
    r, version, _ = tls_get(origin.host, origin.https_port, client_tls_context(origin.ca), "/hello.txt")
    assert version == "TLSv1.3"
    assert r.status == 200 and r.body == tree.files["hello.txt"]


def test_tls13_only_client_is_served(origin, tree):
    ctx = client_tls_context(origin.ca, minimum=ssl.TLSVersion.TLSv1_3)
    r, version, _ = tls_get(origin.host, origin.https_port, ctx, "/streams/v1/index.json")
    assert version == "TLSv1.3" and r.body == tree.index_text


def test_tls12_is_also_accepted(origin, tree):
    ctx = client_tls_context(origin.ca, maximum=ssl.TLSVersion.TLSv1_2)
    r, version, _ = tls_get(origin.host, origin.https_port, ctx, "/hello.txt")
    assert version == "TLSv1.2"
    assert r.status == 200 and r.body == tree.files["hello.txt"]


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1"])
def test_chain_verifies_against_the_test_ca_with_sni(origin, tree, name):
    r, _, _ = tls_get(origin.host, origin.https_port, client_tls_context(origin.ca), "/hello.txt",
                      server_hostname=name)
    assert r.status == 200


def test_wrong_name_fails_verification(origin):
    with pytest.raises(ssl.SSLCertVerificationError):
        tls_get(origin.host, origin.https_port, client_tls_context(origin.ca), "/hello.txt",
                server_hostname="not-this-host.example")


def test_no_alpn_h2(origin):
    ctx = client_tls_context(origin.ca)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with RawConnection(origin.host, origin.https_port, tls=ctx, server_hostname="localhost") as c:
        assert c.sock.selected_alpn_protocol() in (None, "http/1.1")
        c.get("/hello.txt")
        assert c.read_response().status == 200


def test_curl_over_tls13_verifies_and_gets_the_index(origin, tree):
    out = run(["curl", "-sS", "--fail", "--tlsv1.3", "--cacert", str(origin.ca),
               "--resolve", f"localhost:{origin.https_port}:127.0.0.1",
               f"https://localhost:{origin.https_port}/streams/v1/index.json"], text=False).stdout
    assert out == tree.index_text


def test_openssl_s_client_sees_a_verified_tls13_chain(origin):
    res = run(["openssl", "s_client", "-connect", f"127.0.0.1:{origin.https_port}", "-servername", "localhost",
               "-CAfile", str(origin.ca), "-verify_return_error", "-verify_hostname", "localhost"],
              input="", timeout=20)
    assert "Verify return code: 0 (ok)" in res.stdout
    assert re.search(r"Protocol\s*:\s*TLSv1\.3", res.stdout) or "New, TLSv1.3" in res.stdout


def test_keep_alive_over_tls(origin, tree):
    with RawConnection(origin.host, origin.https_port, tls=client_tls_context(origin.ca),
                       server_hostname="localhost") as c:
        for rel in ("hello.txt", "streams/v1/index.json", "hello.txt"):
            c.get("/" + rel)
            r = c.read_response()
            assert r.status == 200 and r.body == tree.files[rel]


def test_large_file_over_tls_exact_bytes(origin, tree):
    ctx = client_tls_context(origin.ca)
    with RawConnection(origin.host, origin.https_port, tls=ctx, server_hostname="localhost", timeout=30) as c:
        c.get("/" + LARGE)
        r = c.read_response()
    assert r.status == 200 and int(r.header("Content-Length")) == len(tree.files[LARGE])
    assert hashlib.sha256(r.body).hexdigest() == tree.sha256(LARGE)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2], ids=["tls1.3", "tls1.2"])
def test_slow_reader_over_tls_gets_exact_bytes_and_the_connection_stays_usable(origin, tree, version):
    """A client that reads slowly makes the server's socket buffer fill mid-record (file bodies
    over TLS are written straight to the socket, resuming half-sent records); the body must still
    be byte for byte, and the next request on the same connection must work (the session's own
    TLS stream is intact afterwards)."""
    ctx = client_tls_context(origin.ca, minimum=version, maximum=version)
    raw = socket.create_connection((origin.host, origin.https_port), timeout=30)
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        assert s.version() == ("TLSv1.3" if version == ssl.TLSVersion.TLSv1_3 else "TLSv1.2")
        s.sendall(f"GET /{LARGE} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(4096)
        head, body = data.split(b"\r\n\r\n", 1)
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
        assert length == len(tree.files[LARGE])
        digest = hashlib.sha256(body)
        got = len(body)
        reads = 0
        while got < length:
            chunk = s.recv(min(65536, length - got))
            assert chunk, f"connection closed after {got} of {length} bytes"
            digest.update(chunk)
            got += len(chunk)
            reads += 1
            if got < (4 << 20) and reads % 4 == 0:
                # Slow for the first 4 MiB (about 12 MB/s, far below what the server can send):
                # the server meets a full socket buffer again and again.
                time.sleep(0.02)
        assert digest.hexdigest() == tree.sha256(LARGE)
        s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        tail = b""
        while not tail.endswith(tree.files["hello.txt"]):
            chunk = s.recv(4096)
            assert chunk, "connection closed before the second response"
            tail += chunk
        assert tail.startswith(b"HTTP/1.1 200 ")


def test_a_large_tls_response_ends_at_once_not_after_a_corked_delay(origin, tree):
    """The TLS file path corks the socket (TCP_CORK) while it writes a large body, so the kernel
    sends full segments. If the cork stayed on, the body's last partial segment would leave only
    after the kernel's 200 ms cork timer: every response would end 200 ms late. Ranges of odd
    lengths make the last segment partial; each must arrive well inside 200 ms."""
    ctx = client_tls_context(origin.ca)
    size = len(tree.files[LARGE])
    with RawConnection(origin.host, origin.https_port, tls=ctx, server_hostname="localhost",
                       timeout=30) as c:
        times = []
        for i in range(12):
            last = min(size, 200_000 + 7_919 * i) - 1
            c.get("/" + LARGE, headers=[f"Range: bytes=0-{last}"])
            start = time.monotonic()
            r = c.read_response()
            times.append(time.monotonic() - start)
            assert r.status == 206 and r.body == tree.files[LARGE][:last + 1]
    # One slow response may be the machine; a cork left on makes every one of them slow.
    assert sorted(times)[len(times) // 2] < 0.15, times


def test_range_over_tls(origin, tree):
    with RawConnection(origin.host, origin.https_port, tls=client_tls_context(origin.ca),
                       server_hostname="localhost") as c:
        c.get("/" + LARGE, ["Range: bytes=1000000-1000099"])
        r = c.read_response()
    assert r.status == 206 and r.body == tree.files[LARGE][1000000:1000100]


def test_plain_http_on_the_tls_port_is_served_as_plain_http(origin, tree):
    with RawConnection(origin.host, origin.https_port) as c:
        for rel in ("hello.txt", "streams/v1/index.json"):
            c.get("/" + rel)
            r = c.read_response()
            assert r.status == 200 and r.body == tree.files[rel]


def test_curl_plain_http_on_the_tls_port(origin, tree):
    out = run(["curl", "-sS", "--fail", "--max-time", "10", f"http://127.0.0.1:{origin.https_port}/{LARGE}"],
              text=False).stdout
    assert hashlib.sha256(out).hexdigest() == tree.sha256(LARGE)


def test_single_byte_then_close_on_the_tls_port_does_not_hang_the_server(origin, tree):
    with socket.create_connection((origin.host, origin.https_port), timeout=5) as s:
        s.sendall(b"G")
    r, _, _ = tls_get(origin.host, origin.https_port, client_tls_context(origin.ca), "/hello.txt")
    assert r.status == 200


def test_empty_connections_log_no_error(tree, certs, tmp_path):
    """LXD's first TLS dial has no SNI and is dropped by Go before sending anything; health checks
    and port scanners do the same. None of that is an error worth a log line."""
    ca, chain, key = certs
    o = Origin(tmp_path, origin_yaml(tree.root, chain, key)).start()
    try:
        for port in (o.http_port, o.https_port) * 3:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        r, _, _ = tls_get("127.0.0.1", o.https_port, client_tls_context(ca), "/hello.txt")
        assert r.status == 200
        with RawConnection("127.0.0.1", o.http_port) as c:
            c.get("/hello.txt")
            assert c.read_response().status == 200
    finally:
        rc = o.stop()
    assert rc == 0
    bad = [ln for ln in o.stderr_text().splitlines() if re.search(r"(?i)\b(error|warn\w*|fail\w*|critical)\b", ln)]
    assert bad == [], "\n".join(bad)


def peer_serial(der):
    pem = ssl.DER_cert_to_PEM_cert(der)
    return run(["openssl", "x509", "-noout", "-serial"], input=pem).stdout.strip()


def install_cert(src_chain, src_key, dst_chain, dst_key):
    """Replaces the served files the way certbot-like tools do: write beside, then rename."""
    for src, dst in ((src_key, dst_key), (src_chain, dst_chain)):
        tmp = dst.with_name(dst.name + ".new")
        shutil.copyfile(src, tmp)
        tmp.replace(dst)


@pytest.fixture
def reloadable(tree, tmp_path):
    """An origin whose certificate files live in its own directory, first from CA A."""
    ca_a, chain_a, key_a = make_ca_and_cert(tmp_path / "ca-a")
    live = tmp_path / "live"
    live.mkdir()
    chain, key = live / "fullchain.pem", live / "privkey.pem"
    install_cert(chain_a, key_a, chain, key)
    o = Origin(tmp_path / "origin", origin_yaml(tree.root, chain, key)).start()
    o.ca_a, o.chain, o.key, o.dir = ca_a, chain, key, tmp_path
    yield o
    o.stop()


def handshake_ok(port, ctx):
    try:
        tls_get("127.0.0.1", port, ctx, "/hello.txt")
        return True
    except ssl.SSLError:
        return False


def test_sighup_reloads_the_certificate_and_keeps_old_connections(reloadable, tree):
    o = reloadable
    ctx_a = client_tls_context(o.ca_a)
    old = RawConnection("127.0.0.1", o.https_port, tls=ctx_a, server_hostname="localhost")
    try:
        old.get("/hello.txt")
        assert old.read_response().status == 200
        old_der = old.sock.getpeercert(binary_form=True)

        ca_b, chain_b, key_b = make_ca_and_cert(o.dir / "ca-b")
        install_cert(chain_b, key_b, o.chain, o.key)
        ctx_b = client_tls_context(ca_b)
        assert not handshake_ok(o.https_port, ctx_b), "new certificate served before SIGHUP"
        o.signal(signal.SIGHUP)
        wait_until(lambda: handshake_ok(o.https_port, ctx_b), timeout=10, what="the new certificate")

        r, version, new_der = tls_get("127.0.0.1", o.https_port, ctx_b, "/streams/v1/index.json")
        assert r.status == 200 and r.body == tree.index_text and version == "TLSv1.3"
        assert peer_serial(new_der) != peer_serial(old_der)
        assert not handshake_ok(o.https_port, ctx_a), "old certificate still served to new connections"

        # The keep-alive connection opened before the reload still works, on its old session.
        for _ in range(2):
            old.get("/streams/v1/index.json")
            r = old.read_response()
            assert r.status == 200 and r.body == tree.index_text
        assert old.sock.getpeercert(binary_form=True) == old_der
    finally:
        old.close()
    assert o.proc.poll() is None


@pytest.mark.parametrize("breakage", ["garbage_chain", "empty_chain", "missing_key", "key_of_another_cert"])
def test_sighup_with_broken_files_keeps_the_old_certificate_and_warns(reloadable, tree, breakage):
    o = reloadable
    ctx_a = client_tls_context(o.ca_a)
    _, _, der_before = tls_get("127.0.0.1", o.https_port, ctx_a, "/hello.txt")
    if breakage == "garbage_chain":
        o.chain.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    elif breakage == "empty_chain":
        o.chain.write_text("")
    elif breakage == "missing_key":
        o.key.unlink()
    else:
        _, _, other_key = make_ca_and_cert(o.dir / "ca-c")
        shutil.copyfile(other_key, o.key)
    def warnings():
        return [ln for ln in o.stderr_text().splitlines() if re.search(r"(?i)warn", ln)]

    before = len(warnings())
    o.signal(signal.SIGHUP)
    line = wait_until(lambda: warnings()[before:], timeout=10, what="a warning about the failed reload")[0]
    assert re.search(r"(?i)(cert|key|tls|pem|fullchain|privkey)", line), line
    r, _, der_after = tls_get("127.0.0.1", o.https_port, ctx_a, "/hello.txt")
    assert r.status == 200 and der_after == der_before
    assert o.proc.poll() is None


def test_ipv6_listeners_plain_and_tls(tree, certs, tmp_path):
    ca, chain, key = certs
    with Origin(tmp_path, origin_yaml(tree.root, chain, key, host="::1")) as o:
        assert o.http.startswith("http://[::1]:") and o.https.startswith("https://[::1]:")
        with RawConnection("::1", o.http_port) as c:
            c.get("/hello.txt")
            assert c.read_response().body == tree.files["hello.txt"]
        r, version, _ = tls_get("::1", o.https_port, client_tls_context(ca), "/" + LARGE, server_hostname="::1")
        assert version == "TLSv1.3"
        assert hashlib.sha256(r.body).hexdigest() == tree.sha256(LARGE)
        out = run(["curl", "-sS", "--fail", "--cacert", str(ca), f"https://[::1]:{o.https_port}/hello.txt"],
                  text=False).stdout
        assert out == tree.files["hello.txt"]
        with RawConnection("::1", o.https_port) as c:  # plain HTTP detected on the TLS port, IPv6 too
            c.get("/hello.txt")
            assert c.read_response().body == tree.files["hello.txt"]


@pytest.mark.parametrize("mode,warned", [(0o644, True), (0o640, False), (0o600, False)])
def test_a_key_every_user_can_read_is_reported_at_start_and_reload(tree, certs, tmp_path, mode, warned):
    ca, chain, key = certs
    mine = tmp_path / "key.pem"
    shutil.copy(key, mine)
    mine.chmod(mode)
    o = Origin(tmp_path / "o", origin_yaml(tree.root, chain, mine)).start()
    try:
        o.signal(signal.SIGHUP)
        wait_for_line(o.log, "TLS certificate reloaded")
        lines = [l for l in o.stderr_text().splitlines() if "readable by every user" in l]
        if warned:
            assert len(lines) == 2, o.stderr_text()  # at start and at the reload
            assert f"{mine}: the TLS private key is readable by every user (mode 0644, owner " in lines[0]
        else:
            assert lines == []
        r, _, _ = tls_get("127.0.0.1", o.https_port, client_tls_context(ca), "/hello.txt")
        assert r.status == 200 and r.body == tree.files["hello.txt"]
    finally:
        o.stop()


def test_a_key_another_group_can_read_and_a_token_every_user_can_read_are_reported(tree, certs, tmp_path):
    """core/key_permissions.hpp through the binary: a key 0640 whose group is not the process's
    (nogroup), and an admin token file 0644; a 0600 token is not reported."""
    ca, chain, key = certs
    mine = tmp_path / "key.pem"
    shutil.copy(key, mine)
    os.chown(mine, 0, grp.getgrnam("nogroup").gr_gid)
    mine.chmod(0o640)
    assert os.getegid() != grp.getgrnam("nogroup").gr_gid
    loose, tight = tmp_path / "loose.token", tmp_path / "tight.token"
    for token, mode in ((loose, 0o644), (tight, 0o600)):
        token.write_text("0123456789abcdef0123456789abcdef\n")
        token.chmod(mode)
    for token, warned in ((loose, True), (tight, False)):
        admin = f"admin:\n  listen: 127.0.0.1:0\n  token_file: {token}\n"
        o = Origin(tmp_path / token.stem, origin_yaml(tree.root, chain, mine, extra=admin)).start()
        try:
            r, _, _ = tls_get("127.0.0.1", o.https_port, client_tls_context(ca), "/hello.txt")
            assert r.status == 200
        finally:
            o.stop()
        log = o.stderr_text()
        assert re.search(rf"{re.escape(str(mine))}: the TLS private key is readable by group nogroup, "
                         r"which this process \(user \w+, group \w+\) is not in \(mode 0640, owner \w+:nogroup\)",
                         log), log
        token_lines = [ln for ln in log.splitlines() if "admin token file" in ln]
        if warned:
            assert len(token_lines) == 1 and f"{token}: the admin token file is readable by every user (mode 0644" \
                in token_lines[0], log
        else:
            assert token_lines == [], log


def _two_connections(o, ctx):
    """Two TLS connections to `o`, the second offering the first's session: (whether the first
    got a ticket, whether the second resumed)."""
    def one(session):
        raw = socket.create_connection(("127.0.0.1", o.https_port), timeout=10)
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
            s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):  # to the end: any ticket has arrived by then
                data += chunk
            assert data.startswith(b"HTTP/1.1 200 "), data[:80]
            return s.session, s.session_reused
    first, _ = one(None)
    _, resumed = one(first)
    return first.has_ticket, resumed


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2], ids=["tls1.3", "tls1.2"])
def test_no_session_resumption_by_default(tree, certs, tmp_path, version):
    """LXD and Incus never resume a TLS session, so by default the origin issues no tickets (a
    sixth of a full handshake's CPU) and keeps no session cache: a client that offers its last
    session gets a full handshake, over TLS 1.3 and 1.2."""
    ca, chain, key = certs
    with Origin(tmp_path, origin_yaml(tree.root, chain, key)) as o:
        ctx = client_tls_context(ca, minimum=version, maximum=version)
        got_ticket, resumed = _two_connections(o, ctx)
        assert not got_ticket
        assert not resumed


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2], ids=["tls1.3", "tls1.2"])
def test_session_tickets_when_configured(tree, certs, tmp_path, version):
    """`tls.session_tickets: 2` turns resumption on: the client gets a ticket and its next
    connection resumes, over TLS 1.3 and 1.2."""
    ca, chain, key = certs
    conf = origin_yaml(tree.root, chain, key).replace("tls:\n", "tls:\n  session_tickets: 2\n")
    with Origin(tmp_path, conf) as o:
        ctx = client_tls_context(ca, minimum=version, maximum=version)
        got_ticket, resumed = _two_connections(o, ctx)
        assert got_ticket
        assert resumed

