"""GeoIP redirection end to end: a real `lxcdn origin` with two real `lxcdn mirror`s, clients
bound to different 127.0.0.x source addresses placed in different countries by `overrides`."""
import json
import signal

import pytest

from geo_helpers import FAST_HEALTH, LOOPBACK_REGIONS, free_port, get, mirror_config
from lxcdn_testlib import (Mirror, indexed_tree, make_ca_and_cert, origin_yaml, Origin,
                           wait_until)

BUILD = "images/busybox/1.35/amd64/default/20240101_05:24"


@pytest.fixture
def world(tmp_path):
    root = tmp_path / "www"
    files = indexed_tree(root, [(BUILD, 3000, 50000)])
    ca, chain, key = make_ca_and_cert(tmp_path / "tls")
    port_eu, port_asia = free_port(), free_port()
    extra = LOOPBACK_REGIONS + f"""mirrors:
  - name: eu
    http: http://127.0.0.1:{port_eu}
    country: DE
  - name: asia
    http: http://127.0.0.1:{port_asia}
    country: JP
{FAST_HEALTH}"""
    origin = Origin(tmp_path / "origin", origin_yaml(root, chain, key, extra=extra)).start()
    mirrors = {}
    try:
        for name, port in (("eu", port_eu), ("asia", port_asia)):
            mirrors[name] = Mirror(tmp_path / name,
                                   mirror_config(tmp_path / name / "cache", port, origin.https, ca)
                                   ).start()
        yield {"origin": origin, "files": files, "ports": {"eu": port_eu, "asia": port_asia},
               "mirrors": mirrors, "tmp": tmp_path, "ca": ca}
    finally:
        for m in mirrors.values():
            m.stop()
        origin.stop()


def location_for(world, source, path=f"/{BUILD}/rootfs.squashfs"):
    status, headers, _ = get(world["origin"].http_port, path, source)
    return status, headers.get("location", "")


def wait_redirected(world, source, mirror, timeout=20):
    want = f"http://127.0.0.1:{world['ports'][mirror]}/"
    return wait_until(lambda: location_for(world, source)[1].startswith(want), timeout,
                      what=f"{source} redirected to mirror {mirror}")


def test_each_region_goes_to_its_mirror_and_the_bytes_are_right(world):
    wait_redirected(world, "127.0.0.2", "eu")
    wait_redirected(world, "127.0.0.3", "asia")
    path = f"/{BUILD}/rootfs.squashfs"
    for source, mirror in (("127.0.0.2", "eu"), ("127.0.0.3", "asia")):
        status, location = location_for(world, source, path)
        assert status == 302
        # Scheme and request-target kept verbatim, ':' included.
        assert location == f"http://127.0.0.1:{world['ports'][mirror]}{path}"
        s2, _, body = get(world["ports"][mirror], path, source)
        assert s2 == 200 and body == world["files"][f"{BUILD}/rootfs.squashfs"]


def raw_exchange(port, source, data, timeout=10):
    """Sends `data` on one connection from `source` and reads until the server closes it (or
    `timeout`): what a client sees on the wire, byte for byte."""
    import socket
    import time
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(source, 0))
    try:
        s.sendall(data)
        got = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                return got, True
            got += chunk
        return got, False
    finally:
        s.close()


def test_redirect_heads_on_the_wire(world):
    """The redirect head as sent: complete, keep-alive as each HTTP version and Connection asks."""
    wait_redirected(world, "127.0.0.2", "eu")
    path = f"/{BUILD}/rootfs.squashfs"
    want = f"Location: http://127.0.0.1:{world['ports']['eu']}{path}\r\n"
    port = world["origin"].http_port
    # HTTP/1.1 keep-alive: two redirects on one connection, then the close the client asked for.
    req = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    last = f"HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    got, closed = raw_exchange(port, "127.0.0.2", req + req + last)
    heads = got.decode().split("\r\n\r\n")
    assert closed and heads[-1] == "" and len(heads) == 4, got
    for i, head in enumerate(heads[:3]):
        lines = head.split("\r\n")
        assert lines[0] == "HTTP/1.1 302 Found", head
        assert want.strip() in lines, head
        assert "Content-Length: 0" in lines and "Cache-Control: no-store" in lines, head
        assert "Server: lxcdn" in lines and any(x.startswith("Date: ") for x in lines), head
        assert ("Connection: close" in lines) == (i == 2), head
    # HTTP/1.0 without keep-alive: one redirect, no Connection field needed, then a close.
    got, closed = raw_exchange(port, "127.0.0.2", f"GET {path} HTTP/1.0\r\n\r\n".encode())
    assert closed and got.startswith(b"HTTP/1.0 302 Found\r\n") and want.encode() in got, got
    assert b"Connection:" not in got, got
    # HTTP/1.0 asking for keep-alive gets it, and says so.
    got, closed = raw_exchange(
        port, "127.0.0.2",
        f"GET {path} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".encode(), timeout=1.5)
    assert not closed and b"\r\nConnection: keep-alive\r\n" in got and want.encode() in got, got


def test_index_and_no_geoip_requests_are_served_by_the_origin(world):
    wait_redirected(world, "127.0.0.2", "eu")
    status, headers, body = get(world["origin"].http_port, "/streams/v1/index.json", "127.0.0.2")
    assert status == 200 and b"image-downloads" in body
    status, headers, body = get(world["origin"].http_port, f"/{BUILD}/incus.tar.xz", "127.0.0.2",
                                {"X-LXC-No-GeoIP": "on"})
    assert status == 200 and body == world["files"][f"{BUILD}/incus.tar.xz"]


def test_explain_returns_the_decision(world):
    wait_redirected(world, "127.0.0.2", "eu")
    status, headers, body = get(world["origin"].http_port, f"/{BUILD}/incus.tar.xz", "127.0.0.2",
                                {"X-LXC-Explain": "1"})
    assert status == 200 and headers["content-type"] == "application/json"
    doc = json.loads(body)
    assert doc["mirror"] == "eu"
    assert doc["client"]["country"] == "DE"
    assert {c["name"] for c in doc["candidates"]} == {"eu", "asia"}


def test_unknown_clients_are_served_locally(world):
    wait_redirected(world, "127.0.0.2", "eu")
    status, _, body = get(world["origin"].http_port, f"/{BUILD}/incus.tar.xz", "127.0.0.9")
    assert status == 200 and body == world["files"][f"{BUILD}/incus.tar.xz"]


def test_a_killed_mirror_leaves_the_rotation_and_comes_back(world):
    wait_redirected(world, "127.0.0.2", "eu")
    eu = world["mirrors"]["eu"]
    eu.proc.send_signal(signal.SIGKILL)
    eu.proc.wait()
    # Within a few probe intervals, DE clients stop going to the dead mirror.
    wait_until(lambda: not location_for(world, "127.0.0.2")[1].startswith(
        f"http://127.0.0.1:{world['ports']['eu']}/"), 15, what="eu out of rotation")
    status, location = location_for(world, "127.0.0.2")
    assert status == 200 or location.startswith(f"http://127.0.0.1:{world['ports']['asia']}/")
    # Restarted on the same port, it comes back after consecutive successful probes.
    world["mirrors"]["eu"] = Mirror(world["tmp"] / "eu2", mirror_config(
        world["tmp"] / "eu2" / "cache", world["ports"]["eu"], world["origin"].https,
        world["ca"])).start()
    wait_redirected(world, "127.0.0.2", "eu")
    assert "mirror eu is down" in world["origin"].stderr_text()
    assert "mirror eu is up" in world["origin"].stderr_text()
