"""The TLS surface of the origin's and the mirror's TLS listeners, with an ECDSA (P-256) and an
RSA-2048 certificate (with RSA, RSA key exchange and RSA-signed suites are possible at all):

- protocol versions: SSLv3, TLS 1.0 and TLS 1.1 refused (openssl s_client for TLS 1.0/1.1; a
  ClientHello built here for SSLv3, which Debian's openssl no longer speaks), TLS 1.2 and 1.3
  accepted;
- TLS 1.2 suites: every suite `openssl ciphers 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'` knows, offered
  one at a time; exactly the ECDHE + AEAD ones (AES-GCM, ChaCha20-Poly1305) are accepted, every
  handshake has an ephemeral ECDHE key (forward secrecy) and no compression;
- TLS 1.3 suites: the AES-GCM and ChaCha20 ones, not the CCM ones;
- garbage on the TLS port: random bytes after a valid ClientHello prefix, truncated ClientHellos
  (stalled or half-closed), oversized and foreign records, an SSLv2 hello, plain garbage: a clean
  close (or an alert, or a 400 for what is not TLS at all) within the handshake deadline.

Every probe is checked against a control: `openssl s_server` configured to accept everything,
where the same probe must succeed (so a probe that cannot succeed cannot pass a test). Each test
ends with the server alive, no sanitizer report, and a normal client served."""
import os
import random
import re
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from hostile_lib import assert_healthy, exchange, make_rsa_cert, site, start_pair  # noqa: F401
from lxcdn_testlib import end_process

SECLEVEL0 = "ALL:COMPLEMENTOFALL:@SECLEVEL=0"
TLS13_SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"]
TLS13_ALLOWED = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
TLS12_ALLOWED = {
    "ec": {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
           "ECDHE-ECDSA-CHACHA20-POLY1305"},
    "rsa": {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"},
}


def tls12_suite_names():
    """Every suite name openssl knows that a TLS 1.2 handshake can use (its SSLv3, TLSv1 and
    TLSv1.2 lists: the older ones are valid in TLS 1.2 too)."""
    out = subprocess.run(["openssl", "ciphers", "-v", SECLEVEL0], capture_output=True, text=True,
                         check=True).stdout
    return sorted({line.split()[0] for line in out.splitlines() if line.split()[1] != "TLSv1.3"})


class Handshake:
    """The outcome of one `openssl s_client` run: accepted, protocol, cipher, temp_key (the
    "Server Temp Key:" line), compression, and the output."""

    def __init__(self, out):
        self.out = out
        m = re.search(r"^New, (\S+), Cipher is (\S+)", out, re.M)
        self.accepted = bool(m) and m.group(2) != "(NONE)"
        self.protocol, self.cipher = (m.group(1), m.group(2)) if m else (None, None)
        t = re.search(r"^Server Temp Key: (.*)$", out, re.M)
        self.temp_key = t.group(1) if t else None
        c = re.search(r"^Compression: (.*)$", out, re.M)
        self.compression = c.group(1) if c else None

    def __repr__(self):
        return f"<Handshake accepted={self.accepted} {self.protocol} {self.cipher} key={self.temp_key}>"


def s_client(port, *args):
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
                        *args], input="", capture_output=True, text=True, timeout=20)
    return Handshake(r.stdout + r.stderr)


class PermissiveServer:
    """`openssl s_server` accepting every protocol version and suite it has (the control)."""

    def __init__(self, cert, key):
        self.proc = subprocess.Popen(
            ["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", str(cert), "-key", str(key),
             "-cipher", SECLEVEL0, "-ciphersuites", ":".join(TLS13_SUITES), "-min_protocol", "TLSv1",
             "-www"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        while line and "ACCEPT" not in line:
            line = self.proc.stdout.readline()
        m = re.search(r"ACCEPT \S+:(\d+)", line)
        assert m, f"openssl s_server did not start: {line!r}"
        self.port = int(m.group(1))

    def stop(self):
        end_process(self.proc, timeout=5)


@pytest.fixture(scope="module")
def rsa_certs(tmp_path_factory):
    return make_rsa_cert(tmp_path_factory.mktemp("rsa"))


@pytest.fixture(scope="module")
def servers(site, certs, rsa_certs, tmp_path_factory):  # noqa: F811
    """{(role, key type): server}: an origin and a mirror with the ECDSA certificate, and another
    pair with the RSA one."""
    out = {}
    pairs = []
    try:
        for kind, c in (("ec", certs), ("rsa", rsa_certs)):
            o, m = start_pair(tmp_path_factory.mktemp(f"servers-{kind}"), site, c)
            pairs.append((o, m))
            out[("origin", kind)], out[("mirror", kind)] = o, m
        yield out
    finally:
        for o, m in pairs:
            m.stop()
            o.stop()


@pytest.fixture(scope="module")
def controls(certs, rsa_certs):  # noqa: F811
    out = {}
    try:
        for kind, (_, chain, key) in (("ec", certs), ("rsa", rsa_certs)):
            out[kind] = PermissiveServer(chain, key)
        yield out
    finally:
        for s in out.values():
            s.stop()


SERVERS = [(r, k) for r in ("origin", "mirror") for k in ("ec", "rsa")]
IDS = [f"{r}-{k}" for r, k in SERVERS]


# --- Protocol versions ---------------------------------------------------------------------

@pytest.mark.parametrize("version", ["-tls1", "-tls1_1"])
@pytest.mark.parametrize("which", SERVERS, ids=IDS)
def test_tls10_and_tls11_are_refused(servers, controls, site, which, version):
    args = [version, "-cipher", SECLEVEL0]
    control = s_client(controls[which[1]].port, *args)
    assert control.accepted, f"the probe cannot negotiate {version} even with a permissive server: {control.out}"
    h = s_client(servers[which].https_port, *args)
    assert not h.accepted, h
    assert re.search(r"(?i)alert protocol version|unsupported protocol|wrong version|no protocols", h.out), h.out
    assert_healthy(servers[which], site)


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
@pytest.mark.parametrize("which", SERVERS, ids=IDS)
def test_tls12_and_tls13_are_accepted(servers, site, which, version):
    h = s_client(servers[which].https_port, version, "-CAfile", str(servers[which].ca),
                 "-verify_return_error")
    assert h.accepted and h.protocol == ("TLSv1.2" if version == "-tls1_2" else "TLSv1.3"), h
    assert "Verify return code: 0 (ok)" in h.out
    assert_healthy(servers[which], site)


def record(content_type, version, payload):
    return bytes([content_type, *version]) + len(payload).to_bytes(2, "big") + payload


def client_hello(version, ciphers, record_version=(3, 1)):
    """A ClientHello offering `version` ((3, 0) = SSLv3, (3, 1) = TLS 1.0, ...) and the suites
    `ciphers` (16-bit codes), with the curves and point formats an ECDHE suite needs."""
    exts = (b"\x00\x0a\x00\x06\x00\x04\x00\x1d\x00\x17"  # supported_groups: x25519, P-256
            b"\x00\x0b\x00\x02\x01\x00")  # ec_point_formats: uncompressed
    suites = b"".join(c.to_bytes(2, "big") for c in ciphers)
    body = (bytes(version) + os.urandom(32) + b"\x00" + len(suites).to_bytes(2, "big") + suites +
            b"\x01\x00" + len(exts).to_bytes(2, "big") + exts)
    return record(0x16, record_version, b"\x01" + len(body).to_bytes(3, "big") + body)


# ECDHE-RSA/ECDSA-AES*-SHA, AES*-SHA, 3DES, RC4, NULL, EXPORT, and the renegotiation SCSV.
OLD_SUITES = [0xc013, 0xc014, 0xc009, 0xc00a, 0x002f, 0x0035, 0x000a, 0x0005, 0x0004, 0x0002,
              0x0001, 0x0003, 0x0008, 0x0033, 0x0039, 0x00ff]


def server_answer(port, hello, timeout=6):
    """What a server answers to `hello`: "server_hello", "alert", "closed" or "silent"."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(hello)
        try:
            data = s.recv(5)
        except (ConnectionResetError, BrokenPipeError):
            return "closed"
        except (socket.timeout, TimeoutError):
            return "silent"
        if not data:
            return "closed"
        if data[0] == 0x15:
            return "alert"
        if data[0] == 0x16:
            rest = s.recv(1)
            return "server_hello" if rest == b"\x02" else f"handshake {rest!r}"
        return f"other {data!r}"


@pytest.mark.parametrize("version", [(3, 0), (3, 1), (3, 2)], ids=["ssl3", "tls1.0", "tls1.1"])
@pytest.mark.parametrize("which", SERVERS, ids=IDS)
def test_old_protocol_hellos_get_no_server_hello(servers, controls, site, which, version):
    """A hand-made ClientHello for SSLv3, TLS 1.0 or 1.1 offering old suites: an alert or a close,
    never a ServerHello. The control accepts the same hello for TLS 1.0 (openssl 3 has no SSLv3
    and refuses TLS 1.1 with these suites only at some security levels, so 1.0 is the check that
    the hello is well formed)."""
    control = server_answer(controls[which[1]].port, client_hello((3, 1), OLD_SUITES))
    assert control == "server_hello", control
    answer = server_answer(servers[which].https_port, client_hello(version, OLD_SUITES, (3, 0)))
    assert answer in ("alert", "closed"), answer
    assert_healthy(servers[which], site)


# --- Suites -------------------------------------------------------------------------------

@pytest.mark.parametrize("which", SERVERS, ids=IDS)
def test_tls12_accepts_exactly_the_ecdhe_aead_suites(servers, controls, site, which):
    names = tls12_suite_names()
    assert len(names) >= 100, names
    kind = which[1]
    weak_control = 0
    with ThreadPoolExecutor(max_workers=4) as pool:  # s_client mostly waits: four at a time
        offers = pool.map(lambda n: s_client(servers[which].https_port, "-tls1_2", "-cipher",
                                             f"{n}:@SECLEVEL=0"), names)
        accepted = [h for h in offers if h.accepted]
    # The control: the permissive server accepts many of the same offers, weak ones included.
    for name in ("AES128-SHA", "ECDHE-ECDSA-AES128-SHA" if kind == "ec" else "ECDHE-RSA-AES128-SHA",
                 "NULL-SHA256" if kind == "rsa" else "ECDHE-ECDSA-NULL-SHA"):
        weak_control += s_client(controls[kind].port, "-tls1_2", "-cipher", f"{name}:@SECLEVEL=0").accepted
    assert weak_control >= 2, "the probe cannot negotiate weak suites even with a permissive server"
    assert {h.cipher for h in accepted} == TLS12_ALLOWED[kind], [repr(h) for h in accepted]
    for h in accepted:
        assert h.protocol == "TLSv1.2", h
        # Forward secrecy: an ephemeral elliptic-curve key on every handshake, no DH, no RSA
        # key transport.
        assert h.temp_key and re.match(r"(X25519|X448|ECDH)", h.temp_key), h
        assert h.compression == "NONE", h
    assert_healthy(servers[which], site)


@pytest.mark.parametrize("which", SERVERS, ids=IDS)
def test_tls13_accepts_the_gcm_and_chacha_suites_only(servers, controls, site, which):
    accepted = set()
    for suite in TLS13_SUITES:
        control = s_client(controls[which[1]].port, "-tls1_3", "-ciphersuites", suite)
        assert control.accepted and control.cipher == suite, control
        h = s_client(servers[which].https_port, "-tls1_3", "-ciphersuites", suite)
        if h.accepted:
            assert h.protocol == "TLSv1.3" and h.cipher == suite, h
            assert h.temp_key and re.match(r"(X25519|X448|ECDH)", h.temp_key), h
            accepted.add(suite)
    assert accepted == TLS13_ALLOWED
    assert_healthy(servers[which], site)


# --- Garbage on the TLS port --------------------------------------------------------------

def real_client_hello():
    """The first flight of a real TLS 1.3 client (Python's ssl), for prefixes and truncations."""
    import ssl
    ctx = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


HELLO = real_client_hello()
RNG = random.Random(6)
TLS_GARBAGE = {
    "record-header-then-random": HELLO[:5] + RNG.randbytes(len(HELLO) - 5),
    "handshake-header-then-random": HELLO[:9] + RNG.randbytes(len(HELLO) - 9),
    "half-hello-then-random": HELLO[:len(HELLO) // 2] + RNG.randbytes(len(HELLO)),
    "hello-then-random-records": HELLO + RNG.randbytes(4096),
    "hello-then-random-fake-record": HELLO + b"\x17\x03\x03\x40\x00" + RNG.randbytes(16384),
    "hello-wrong-length": HELLO[:3] + b"\x3f\xff" + HELLO[5:],
    "oversized-record": b"\x16\x03\x01\xff\xff" + RNG.randbytes(65535),
    "record-of-zero-length": b"\x16\x03\x01\x00\x00",
    "alert-first": b"\x15\x03\x01\x00\x02\x02\x28",
    "change-cipher-spec-first": b"\x14\x03\x03\x00\x01\x01" + HELLO,
    "application-data-first": b"\x17\x03\x03\x00\x20" + RNG.randbytes(32),
    "heartbeat-first": b"\x18\x03\x02\x00\x03\x01\x40\x00",
    "sslv2-hello": b"\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10" + RNG.randbytes(21 + 16),
    "plain-random": RNG.randbytes(2048),
    "plain-zeros": b"\x00" * 2048,
    "many-hellos": HELLO * 8,
}
# Sent, then the client neither writes nor closes: closed after tls_handshake_timeout (2 s).
TLS_STALLS = {
    "truncated-hello-stall": HELLO[: len(HELLO) // 2],
    "record-header-stall": HELLO[:5],
    "one-byte-stall": HELLO[:1],
}


@pytest.mark.parametrize("case", list(TLS_GARBAGE))
@pytest.mark.parametrize("role", ["origin", "mirror"])
def test_tls_garbage_gets_a_clean_close(servers, site, role, case):
    server = servers[(role, "ec")]
    x = exchange(server.https_port, TLS_GARBAGE[case], timeout=6)
    assert x.closed and x.elapsed < 4, x
    if x.data[:1] == b"H":
        assert x.status == 400 and x.statuses == [400], x  # not TLS at all: parsed as HTTP, refused
    else:
        assert x.data == b"" or x.data[:1] == b"\x15" or x.data[:1] == b"\x16", x  # nothing, or an alert
    assert b"hello from the origin" not in x.data
    assert_healthy(server, site)


@pytest.mark.parametrize("case", list(TLS_STALLS))
@pytest.mark.parametrize("role", ["origin", "mirror"])
def test_a_stalled_or_half_closed_handshake_is_closed(servers, site, role, case):
    server = servers[(role, "ec")]
    x = exchange(server.https_port, TLS_STALLS[case], timeout=8)
    assert x.closed and 1.5 <= x.elapsed < 5, x  # tls_handshake_timeout / header_timeout: 2 s
    assert x.data == b"" or x.data[:1] == b"\x15", x
    y = exchange(server.https_port, TLS_STALLS[case], timeout=6, half_close=True)
    assert y.closed and y.elapsed < 3, y
    assert_healthy(server, site)


def test_a_hundred_garbage_connections_at_once_leave_the_servers_serving(servers, site):
    """Garbage from many connections at the same time (each server), then normal service."""
    for role in ("origin", "mirror"):
        server = servers[(role, "ec")]
        socks = []
        for i in range(100):
            s = socket.create_connection(("127.0.0.1", server.https_port), timeout=5)
            payload = list(TLS_GARBAGE.values())[i % len(TLS_GARBAGE)]
            try:
                s.sendall(payload)
            except OSError:
                pass
            socks.append(s)
        assert_healthy(server, site)
        for s in socks:
            s.close()
        time.sleep(0.2)  # let the server see the closes before the final check
        assert_healthy(server, site)


def test_the_control_server_is_permissive(controls):
    """The control really accepts what the servers under test must refuse."""
    for kind, c in controls.items():
        assert s_client(c.port, "-tls1", "-cipher", SECLEVEL0).accepted
        weak = "AES128-SHA" if kind == "rsa" else "ECDHE-ECDSA-AES128-SHA"
        assert s_client(c.port, "-tls1_2", "-cipher", f"{weak}:@SECLEVEL=0").accepted
