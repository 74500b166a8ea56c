"""The origin's admin API as an attacker meets it (docs/operations.md, "The admin API"):

- every request without the exact bearer token (none, empty, wrong, a prefix, another scheme,
  the token in a query, a cookie or another header, a second Authorization field) gets 401 with
  `WWW-Authenticate: Bearer`, shows no mirror data, and changes nothing: the mirror states read
  back through the API (with the token), the public status JSON, /metrics and the log are the
  same before and after;
- a request body is refused (400) even with the right token, and changes nothing;
- without `admin.listen` the API binds 127.0.0.1:9180 only: checked in a network namespace of
  its own (so the fixed port is free and no other test sees it) that also has a non-loopback
  interface, where the API is not reachable; `admin.listen` on that interface is honoured.
Each test ends with the origin alive and without a sanitizer report."""
import base64
import json
import re
import signal
import subprocess
import time

import pytest

from hostile_lib import SANITIZER_RE, exchange, stderr_of
from lxcdn_testlib import LXCDN_BIN, Origin, indexed_tree, make_ca_and_cert, origin_yaml, split_url

TOKEN = "0123456789abcdef-admin-token-for-tests"
BUILD = "images/busybox/1.35/amd64/default/20240101_05:24"
MIRRORS = """mirrors:
  - name: eu
    http: http://127.0.0.1:9
    country: DE
  - name: asia
    http: http://127.0.0.1:9
    country: JP
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("admin")
    root = tmp / "www"
    indexed_tree(root, [(BUILD, 1000, 2000)])
    ca, chain, key = make_ca_and_cert(tmp / "tls")
    token_file = tmp / "admin.token"
    token_file.write_text(TOKEN + "\n")
    o = Origin(tmp / "origin", origin_yaml(root, chain, key, extra=MIRRORS + f"""admin:
  listen: 127.0.0.1:0
  token_file: {token_file}
"""))
    o.start()
    text = (o.workdir / "origin.stdout").read_text()
    o.admin_port = split_url(re.search(r"admin API on (http://\S+)", text).group(1))[2]
    yield o
    o.stop()


def admin(world, method, path, *fields, body=b""):
    raw = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() +
           b"".join(f + b"\r\n" for f in fields) + b"Connection: close\r\n\r\n" + body)
    return exchange(world.admin_port, raw, timeout=6)


def state(world):
    """What a reader sees: the API's list (with the token), the public status JSON and the
    operator-transition counters."""
    x = admin(world, "GET", "/v1/mirrors", f"Authorization: Bearer {TOKEN}".encode())
    assert x.status == 200, x
    api = {m["name"]: (m["state"], m["set_by_admin"]) for m in
           json.loads(x.data.partition(b"\r\n\r\n")[2])["mirrors"]}
    pub = exchange(world.http_port, b"GET /.lxcdn/mirrors.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    public = {m["name"]: m["state"] for m in json.loads(pub.data.partition(b"\r\n\r\n")[2])["mirrors"]}
    met = exchange(world.http_port, b"GET /.lxcdn/metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    transitions = sorted(l for l in met.data.decode().splitlines()
                         if l.startswith("lxcdn_origin_operator_transitions_total"))
    return api, public, transitions


def bad_credentials():
    """Authorization-like fields that must not authorize (name -> list of header lines)."""
    t = TOKEN.encode()
    return {
        "none": [],
        "empty": [b"Authorization:"],
        "scheme-only": [b"Authorization: Bearer"],
        "scheme-and-space": [b"Authorization: Bearer "],
        "wrong": [b"Authorization: Bearer wrong-token-wrong-token"],
        "prefix": [b"Authorization: Bearer " + t[:-1]],
        "longer": [b"Authorization: Bearer " + t + b"x"],
        "first-char-changed": [b"Authorization: Bearer X" + t[1:]],
        "upper-case": [b"Authorization: Bearer " + t.upper()],
        "two-spaces": [b"Authorization: Bearer  " + t],
        "tab": [b"Authorization: Bearer\t" + t],
        "no-scheme": [b"Authorization: " + t],
        "token-scheme": [b"Authorization: Token " + t],
        "basic-token": [b"Authorization: Basic " + base64.b64encode(t)],
        "basic-user-token": [b"Authorization: Basic " + base64.b64encode(b"admin:" + t)],
        "list": [b"Authorization: Bearer wrong, Bearer " + t],
        "two-fields-wrong-first": [b"Authorization: Bearer wrong", b"Authorization: Bearer " + t],
        "two-fields-right-first": [b"Authorization: Bearer " + t, b"Authorization: Bearer wrong"],
        "two-fields-both-right": [b"Authorization: Bearer " + t, b"Authorization: Bearer " + t],
        "proxy-authorization": [b"Proxy-Authorization: Bearer " + t],
        "x-auth-token": [b"X-Auth-Token: " + t],
        "cookie": [b"Cookie: token=" + t],
        "long": [b"Authorization: Bearer " + b"a" * 4000],
    }


ACTIONS = [("GET", "/v1/mirrors"), ("GET", "/v1/mirrors/eu"), ("HEAD", "/v1/mirrors"),
           ("POST", "/v1/mirrors/eu/drain"), ("POST", "/v1/mirrors/eu/disable"),
           ("POST", "/v1/mirrors/asia/disable"), ("POST", "/v1/mirrors/eu/enable"),
           ("PUT", "/v1/mirrors/eu"), ("DELETE", "/v1/mirrors/eu"), ("GET", "/v1/other"),
           ("POST", f"/v1/mirrors/eu/drain?token={TOKEN}"),
           ("POST", f"/v1/mirrors/eu/drain?access_token={TOKEN}")]


def assert_alive(world):
    assert world.proc.poll() is None, stderr_of(world)[-3000:]
    assert SANITIZER_RE.search(stderr_of(world)) is None, stderr_of(world)[-3000:]


def test_without_the_right_token_every_request_is_401_and_nothing_changes(world):
    before = state(world)
    assert before[0] == {"eu": ("active", False), "asia": ("active", False)}
    n = 0
    for name, fields in bad_credentials().items():
        for method, path in ACTIONS:
            x = admin(world, method, path, *fields)
            assert x.status == 401, (name, method, path, x)
            assert re.search(rb"\r\nWWW-Authenticate: Bearer", x.data), x
            assert b'"eu"' not in x.data and b'"asia"' not in x.data and b"127.0.0.1:9" not in x.data, x
            assert x.closed, x
            n += 1
    assert n == 23 * 12
    assert state(world) == before
    assert "operator state" not in stderr_of(world)
    assert_alive(world)


def test_a_request_body_is_refused_even_with_the_token_and_changes_nothing(world):
    before = state(world)
    auth = f"Authorization: Bearer {TOKEN}".encode()
    hidden = f"POST /v1/mirrors/eu/disable HTTP/1.1\r\nHost: x\r\n{auth.decode()}\r\n\r\n".encode()
    for fields, body in (([auth, b"Content-Length: %d" % len(hidden)], hidden),
                         ([auth, b"Transfer-Encoding: chunked"], b"%x\r\n%s\r\n0\r\n\r\n" % (len(hidden), hidden)),
                         ([b"Content-Length: %d" % len(hidden)], hidden)):
        x = admin(world, "POST", "/v1/mirrors/eu/drain", *fields, body=body)
        assert x.status in (400, 401) and x.statuses == [x.status] and x.closed, x
    assert state(world) == before
    assert_alive(world)


def test_the_right_token_does_change_the_state(world):
    """The control: the checks above could see a change, had there been one."""
    auth = f"Authorization: Bearer {TOKEN}".encode()
    before = state(world)
    assert admin(world, "POST", "/v1/mirrors/eu/drain", auth).status == 200
    during = state(world)
    assert during[0]["eu"] == ("draining", True) and during[1]["eu"] == "draining"
    assert during != before
    assert admin(world, "POST", "/v1/mirrors/eu/enable", auth).status == 200
    after = state(world)
    assert after[0]["eu"] == ("active", True)  # active again, set through the API
    assert after[1] == before[1]
    assert_alive(world)


# --- Where the API listens ----------------------------------------------------------------

class NetNamespace:
    """A network namespace of our own (unshare --net) with loopback up and a veth interface
    holding 10.213.7.1/24: `run(cmd)` runs a command inside, `popen(cmd)` starts one."""

    ADDRESS = "10.213.7.1"

    def __init__(self):
        self.holder = subprocess.Popen(
            ["unshare", "--net", "sh", "-c",
             "ip link set lo up && ip link add v0 type veth peer name v1 && "
             f"ip addr add {self.ADDRESS}/24 dev v0 && ip link set v1 up && ip link set v0 up && "
             "echo ready && exec sleep 600"], stdout=subprocess.PIPE, text=True)
        assert self.holder.stdout.readline().strip() == "ready", "cannot make a network namespace"
        self.enter = ["nsenter", f"--net=/proc/{self.holder.pid}/ns/net"]

    def run(self, cmd, **kw):
        return subprocess.run(self.enter + cmd, capture_output=True, text=True, timeout=30, **kw)

    def popen(self, cmd, **kw):
        return subprocess.Popen(self.enter + cmd, **kw)

    def close(self):
        self.holder.kill()
        self.holder.wait()


@pytest.fixture
def netns():
    ns = NetNamespace()
    yield ns
    ns.close()


def start_in(ns, workdir, admin_section):
    """Starts `lxcdn origin` inside `ns` with `admin_section`; returns (process, admin URL)."""
    root = workdir / "www"
    indexed_tree(root, [(BUILD, 100, 200)])
    (workdir / "admin.token").write_text(TOKEN + "\n")
    cfg = workdir / "origin.yaml"
    cfg.write_text(origin_yaml(root, extra=MIRRORS + admin_section.format(token=workdir / "admin.token")))
    err = open(workdir / "origin.stderr", "w")
    proc = ns.popen([LXCDN_BIN, "origin", "--config", str(cfg)], stdout=subprocess.PIPE, stderr=err, text=True)
    deadline = time.monotonic() + 20
    url = None
    while url is None and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"admin API on (http://\S+)", line)
        url = m.group(1) if m else None
    if url is None:
        proc.kill()
        raise AssertionError(f"no admin API line; stderr:\n{(workdir / 'origin.stderr').read_text()}")
    return proc, url


def stop(proc, workdir):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    text = (workdir / "origin.stderr").read_text(errors="replace")
    assert SANITIZER_RE.search(text) is None, text[-3000:]
    return proc.returncode


def listeners(ns, port):
    """Local addresses of the TCP sockets listening on `port` inside `ns`."""
    out = ns.run(["ss", "-ltnH"]).stdout
    return sorted(f.rsplit(":", 1)[0] for f in (line.split()[3] for line in out.splitlines())
                  if f.rsplit(":", 1)[1] == str(port))


def curl_status(ns, url, *args):
    r = ns.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", *args, url])
    return r.returncode, r.stdout


def test_without_admin_listen_the_api_binds_loopback_9180_only(netns, tmp_path):
    proc, url = start_in(netns, tmp_path, "admin:\n  token_file: {token}\n")
    try:
        assert url == "http://127.0.0.1:9180"
        assert listeners(netns, 9180) == ["127.0.0.1"]
        assert curl_status(netns, "http://127.0.0.1:9180/v1/mirrors") == (0, "401")
        assert curl_status(netns, "http://127.0.0.1:9180/v1/mirrors",
                           "-H", f"Authorization: Bearer {TOKEN}") == (0, "200")
        # The namespace's other address: nothing listens there (curl exit 7: connection refused).
        assert curl_status(netns, f"http://{NetNamespace.ADDRESS}:9180/v1/mirrors")[0] == 7
        assert curl_status(netns, "http://[::1]:9180/v1/mirrors")[0] == 7
    finally:
        assert stop(proc, tmp_path) == 0


def test_admin_listen_on_another_address_is_honoured(netns, tmp_path):
    proc, url = start_in(netns, tmp_path, f"admin:\n  listen: {NetNamespace.ADDRESS}:0\n"
                                          "  token_file: {token}\n")
    try:
        port = split_url(url)[2]
        assert url == f"http://{NetNamespace.ADDRESS}:{port}"
        assert listeners(netns, port) == [NetNamespace.ADDRESS]
        assert curl_status(netns, url + "/v1/mirrors") == (0, "401")
        assert curl_status(netns, f"http://127.0.0.1:{port}/v1/mirrors")[0] == 7
    finally:
        assert stop(proc, tmp_path) == 0
