"""`lxcdn check-mirror` against real mirrors: a real `lxcdn origin` + `lxcdn mirror` (passes),
Debian's nginx with the operators' announcement config (passes: nginx is a legitimate mirror),
and broken mirrors, each of which must fail with the check that names what is wrong.

The report is read the way a volunteer or the operators read it: one `PASS|FAIL name: detail`
line per check, a summary line, the exit status; and the `--json` form.
"""
import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from lxcdn_testlib import (LXCDN_BIN, Mirror, make_ca_and_cert, mirror_yaml, indexed_tree,
                           start_origin, wait_until)

CHECKS = ["origin-index", "http-reachable", "https-reachable", "https-certificate",
          "redirect-http", "redirect-https", "fast-miss", "image-http", "image-https", "status"]
BUILDS = [("images/debian/12/amd64/default/20240101_05:24", 700, 3000),
          ("images/debian/12/arm64/default/20240101_05:24", 900, 5000),
          ("images/alpine/3.19/amd64/default/20240101_05:24", 1100, 7000)]


def check_mirror(*args, timeout=120):
    """Runs `lxcdn check-mirror ARGS`; returns (exit status, {name: (verdict, detail)}, summary
    line, stdout)."""
    p = subprocess.run([LXCDN_BIN, "check-mirror", *map(str, args)], capture_output=True,
                       text=True, timeout=timeout)
    lines = p.stdout.splitlines()
    checks = {}
    for line in lines:
        verdict, _, rest = line.partition(" ")
        if verdict in ("PASS", "FAIL"):
            name, _, detail = rest.partition(": ")
            assert name not in checks, f"check {name} reported twice:\n{p.stdout}"
            checks[name] = (verdict, detail)
    summary = [line for line in lines if line.startswith("summary: ")]
    assert len(summary) == 1 and lines[-1] == summary[0], f"no summary line last:\n{p.stdout}\n{p.stderr}"
    assert list(checks) == CHECKS, f"checks out of order or missing:\n{p.stdout}\n{p.stderr}"
    return p.returncode, checks, summary[0], p.stdout


def failed(checks):
    return [name for name, (verdict, _) in checks.items() if verdict == "FAIL"]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    return root, {"/" + k: v for k, v in indexed_tree(root, BUILDS).items()}


@pytest.fixture(scope="module")
def origin(published, certs, tmp_path_factory):
    o = start_origin(tmp_path_factory.mktemp("origin"), published[0], certs)
    yield o
    o.stop()


def origin_args(origin, certs):
    return ["--origin", origin.https, "--ca-file", certs[0]]


def start_mirror(workdir, upstream_url, certs, chain=None, key=None):
    """An `lxcdn mirror` with one TLS listener (plain HTTP is served on it too, as the origin's
    redirect names one HOST:PORT), its index loaded."""
    ca, default_chain, default_key = certs
    cache = Path(workdir) / "cache"
    text = mirror_yaml(cache, upstream_url, ca_file=ca, cert=chain or default_chain,
                       key=key or default_key, plain=False)
    m = Mirror(Path(workdir) / "mirror", text, cache_dir=cache).start()
    m.wait_index_loaded()
    return m


@pytest.fixture
def mirror(origin, certs, tmp_path):
    m = start_mirror(tmp_path, origin.https, certs)
    yield m
    m.stop()


def test_lxcdn_mirror_passes_every_check(mirror, origin, certs):
    rc, checks, summary, out = check_mirror(mirror.https, *origin_args(origin, certs))
    assert rc == 0, out
    assert failed(checks) == [], out
    assert summary == "summary: ready: all 10 required checks passed"
    assert "valid for 127.0.0.1, TLSv1.3" in checks["https-certificate"][1]
    assert f"-> 302 http://127.0.0.1:{origin.https_port}/streams/v1/index.json" in checks["redirect-http"][1]
    assert f"-> 302 https://127.0.0.1:{origin.https_port}/streams/v1/index.json" in checks["redirect-https"][1]
    # The mirror was cold: the fast-miss figure is a real miss, and the files went through it.
    assert "(X-Cache: MISS)" in checks["fast-miss"][1], out
    smallest = "/images/debian/12/amd64/default/20240101_05:24/incus.tar.xz"  # 700 bytes
    assert f"{smallest}: 700 bytes, sha256 matches the index" in checks["image-http"][1]
    assert f"{smallest}: 700 bytes, sha256 matches the index" in checks["image-https"][1]
    assert checks["image-https"][1].endswith("(X-Cache: HIT)")
    assert mirror.metric("lxcdn_mirror_misses_total") == 2
    assert checks["status"][1].startswith("lxcdn 0.1.0, upstream " + origin.https)
    assert checks["status"][1].endswith("upstream reachable")


def test_json_report(mirror, origin, certs):
    p = subprocess.run([LXCDN_BIN, "check-mirror", mirror.https, *map(str, origin_args(origin, certs)),
                        "--json"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    doc = json.loads(p.stdout)
    assert doc["passed"] is True
    assert doc["origin"] == origin.https
    assert doc["mirror"] == {"http": f"http://127.0.0.1:{mirror.https_port}", "https": mirror.https}
    assert [c["name"] for c in doc["checks"]] == CHECKS
    assert all(c["passed"] and c["required"] for c in doc["checks"])
    (miss,) = [c for c in doc["checks"] if c["name"] == "fast-miss"]
    assert 0 < miss["seconds"] < 5


def test_wrong_upstream_fails_the_redirects_and_the_image_checks(published, certs, origin, tmp_path):
    """A mirror filling from another origin (same paths, other bytes, its own consistent index):
    its bytes match what IT was told, not the real origin's index."""
    other_root = tmp_path / "other-www"
    indexed_tree(other_root, BUILDS)
    other = start_origin(tmp_path / "other-origin", other_root, certs)
    m = start_mirror(tmp_path, other.https, certs)
    try:
        rc, checks, summary, out = check_mirror(m.https, *origin_args(origin, certs))
    finally:
        m.stop()
        other.stop()
    assert rc == 1, out
    assert failed(checks) == ["redirect-http", "redirect-https", "fast-miss", "image-http",
                              "image-https"], out
    assert f"to http://127.0.0.1:{other.https_port}/streams/v1/index.json" in checks["redirect-http"][1]
    assert "sha256" in checks["image-http"][1] and "the index lists" in checks["image-http"][1]
    assert summary.startswith("summary: NOT ready: 5 of 10 required checks failed: redirect-http")


def test_untrusted_or_wrong_certificate_fails_only_the_certificate_check(origin, certs, tmp_path):
    ca, _, _ = certs
    # Signed by a CA nobody trusts.
    _, rogue_chain, rogue_key = make_ca_and_cert(tmp_path / "rogue-ca")
    # Signed by the trusted CA, but for another name.
    _, other_chain, other_key = make_ca_and_cert(Path(ca).parent, name="elsewhere",
                                                 hosts=("mirror.example",))
    for label, chain, key, reason in [("rogue", rogue_chain, rogue_key, "self-signed certificate in certificate chain"),
                                      ("elsewhere", other_chain, other_key, "IP address mismatch")]:
        m = start_mirror(tmp_path / label, origin.https, certs, chain, key)
        try:
            rc, checks, summary, out = check_mirror(m.https, *origin_args(origin, certs))
        finally:
            m.stop()
        assert rc == 1, out
        assert failed(checks) == ["https-certificate"], out
        assert checks["https-certificate"][1].startswith("certificate not valid for 127.0.0.1: "), out
        assert reason in checks["https-certificate"][1], out
        assert checks["image-https"][0] == "PASS"  # the bytes are still checked, and right


def refusing_port():
    """A bound, non-listening socket: connecting to its port is refused (no guessing)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    return s


def test_https_port_that_refuses_fails_reachability_and_everything_over_https(mirror, origin, certs):
    with refusing_port() as closed:
        rc, checks, summary, out = check_mirror(
            "127.0.0.1", "--http-port", mirror.https_port, "--https-port", closed.getsockname()[1],
            *origin_args(origin, certs))
    assert rc == 1, out
    assert failed(checks) == ["https-reachable", "https-certificate", "redirect-https",
                              "image-https"], out
    assert "Connection refused" in checks["https-reachable"][1]


def test_unreachable_origin_fails_origin_index_and_skips_the_image_checks(mirror, certs):
    with refusing_port() as closed:
        rc, checks, summary, out = check_mirror(
            mirror.https, "--origin", f"https://127.0.0.1:{closed.getsockname()[1]}",
            "--ca-file", certs[0])
    assert rc == 1, out
    assert "origin-index" in failed(checks)
    assert "Connection refused" in checks["origin-index"][1]
    for name in ("fast-miss", "image-http", "image-https"):
        assert checks[name] == ("FAIL", "not run: no listed image file to test with (see origin-index)")


def test_bad_arguments_are_refused_with_the_option_named(origin, certs):
    for args, says in [(["ftp://m.example"], "mirror 'ftp://m.example'"),
                       (["--http-url", "http://m.example"], "both --http-url and --https-url"),
                       (["m.example", "--https-url", "http://m.example"], "--https-url"),
                       (["m.example", "--origin", "http://images.example.net"], "--origin"),
                       (["m.example", "--ca-file", "/nonexistent/ca.crt"], "--ca-file")]:
        p = subprocess.run([LXCDN_BIN, "check-mirror", *args], capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 2, p.stdout + p.stderr  # 1 means "checked: not ready"
        assert says in p.stderr, p.stderr


# --- nginx as the operators' announcement configures it.

NGINX_MIRROR_CONF = """\
daemon off;
master_process on;
worker_processes 1;
user root root;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 512; }}
http {{
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

    # Setup a local cache of 60GB with expiry after 3 days.
    proxy_cache_path {dir}/cache levels=1:2 keys_zone=STATIC:10m inactive=3d max_size=100g;

    server {{
        listen 127.0.0.1:{http_port};
        listen 127.0.0.1:{https_port} ssl;
        server_name localhost;

        ssl_certificate {cert};
        ssl_certificate_key {key};
        {ssl_protocols}

        access_log off;

        location / {{
            return 302 "$scheme://{origin}$request_uri";
        }}

{images}
    }}
}}
"""

# The announcement's block, verbatim but for the origin's address and CA file, and
# proxy_ssl_name: the test origin is addressed by IP and nginx verifies DNS names only.
ANNOUNCED_IMAGES = """\
        location /images {{
            proxy_pass                      https://{origin}/images;
            proxy_cache                     STATIC;
            proxy_cache_key                 $proxy_host$request_uri;
            proxy_cache_lock                on;
            proxy_cache_valid               200 3d;
            proxy_cache_valid               301 302 1m;
            proxy_cache_valid               404 5m;
            proxy_http_version              1.1;
            proxy_max_temp_file_size        2048m;
            proxy_set_header                "Connection" "";
            proxy_set_header                "X-LXC-No-GeoIP" "on";
            proxy_ssl_protocols             TLSv1.3;
            proxy_ssl_server_name           on;
            proxy_ssl_name                  localhost;
            proxy_ssl_trusted_certificate   {ca};
            proxy_ssl_verify                on;
        }}
"""

# A mirror below a path prefix (the origin's mirror list allows `https: https://host/lxc/`):
# the announcement's block moved under /lxc/, and the index redirected without the prefix.
PREFIXED_IMAGES = """\
        location /lxc/images {{
            proxy_pass                      https://{origin}/images;
            proxy_cache                     STATIC;
            proxy_cache_key                 $proxy_host$request_uri;
            proxy_cache_lock                on;
            proxy_cache_valid               200 3d;
            proxy_set_header                "X-LXC-No-GeoIP" "on";
            proxy_ssl_protocols             TLSv1.3;
            proxy_ssl_server_name           on;
            proxy_ssl_name                  localhost;
            proxy_ssl_trusted_certificate   {ca};
            proxy_ssl_verify                on;
        }}
        location /lxc/ {{
            rewrite ^/lxc(/.*)$ $scheme://{origin}$1 redirect;
        }}
"""

# A "mirror" that serves a local tree of its own instead of the origin's files.
STALE_TREE_IMAGES = """\
        location /images {{
            root {root};
        }}
"""


class NginxMirror:
    """Debian's nginx on two ports (plain and TLS) with NGINX_MIRROR_CONF. nginx cannot bind
    port 0 and say which port it got, so the test binds both sockets and hands them over as nginx's
    binary upgrade does (the NGINX environment variable naming inherited listening fds)."""

    # What the announcement's `include /etc/letsencrypt/options-ssl-nginx.conf` sets (certbot's
    # file); without it, Debian 12's nginx 1.22 offers TLS 1.2 at most.
    CERTBOT_PROTOCOLS = "ssl_protocols TLSv1.2 TLSv1.3;"

    def __init__(self, workdir, origin_authority, cert, key, images, ssl_protocols=CERTBOT_PROTOCOLS):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.origin, self.cert, self.key, self.images = origin_authority, cert, key, images
        self.ssl_protocols = ssl_protocols
        self.proc = None

    def start(self, timeout=20):
        socks = []
        for _ in range(2):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            s.listen(128)
            socks.append(s)
        self.http_port, self.https_port = (s.getsockname()[1] for s in socks)
        conf = self.dir / "nginx.conf"
        conf.write_text(NGINX_MIRROR_CONF.format(
            dir=self.dir, http_port=self.http_port, https_port=self.https_port, cert=self.cert,
            key=self.key, origin=self.origin, images=self.images, ssl_protocols=self.ssl_protocols))
        fds = [s.fileno() for s in socks]
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin"),
               "NGINX": "".join(f"{fd};" for fd in fds)}
        self.log = self.dir / "nginx.stderr"
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen(["nginx", "-p", str(self.dir), "-e", "stderr", "-c", str(conf)],
                                         pass_fds=fds, env=env, stdout=err, stderr=err)
        for s in socks:
            s.close()
        wait_until(lambda: self.proc.poll() is not None or "start worker process" in self.errors(),
                   timeout, what="nginx to start its worker")
        assert self.proc.poll() is None, f"nginx did not start:\n{self.errors()}"
        return self

    def errors(self):
        return "".join(p.read_text(errors="replace") for p in (self.dir / "error.log", self.log)
                       if p.exists())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


@pytest.fixture
def nginx_available():
    assert shutil.which("nginx"), "nginx is missing: scripts/install-deps installs it"


def test_nginx_with_the_announcement_config_passes(nginx_available, origin, certs, tmp_path):
    ca, chain, key = certs
    authority = f"127.0.0.1:{origin.https_port}"
    images = ANNOUNCED_IMAGES.format(origin=authority, ca=ca)
    with NginxMirror(tmp_path / "nginx", authority, chain, key, images) as n:
        # Named as the origin's mirror list names it: one base URL per scheme.
        rc, checks, summary, out = check_mirror("--http-url", f"http://127.0.0.1:{n.http_port}",
                                                "--https-url", f"https://127.0.0.1:{n.https_port}",
                                                *origin_args(origin, certs))
        errors = n.errors()
    assert rc == 0, out + errors
    assert failed(checks) == [], out
    assert summary == "summary: ready: all 9 required checks passed"
    assert checks["status"][1].startswith("not an lxcdn mirror (optional): HTTP 302"), out
    assert "X-Cache" not in checks["fast-miss"][1]  # the announcement's config adds no such header


def test_a_mirror_below_a_path_prefix_passes(nginx_available, origin, certs, tmp_path):
    ca, chain, key = certs
    authority = f"127.0.0.1:{origin.https_port}"
    with NginxMirror(tmp_path / "nginx", authority, chain, key,
                     PREFIXED_IMAGES.format(origin=authority, ca=ca)) as n:
        rc, checks, summary, out = check_mirror(
            "--http-url", f"http://127.0.0.1:{n.http_port}/lxc/",
            "--https-url", f"https://127.0.0.1:{n.https_port}/lxc", *origin_args(origin, certs))
    assert rc == 0, out
    prefix = f"https://127.0.0.1:{n.https_port}/lxc/images/"
    assert checks["image-https"][1].startswith(prefix), out
    assert checks["redirect-https"][1] == (
        f"https://127.0.0.1:{n.https_port}/lxc/streams/v1/index.json -> 302 "
        f"https://{authority}/streams/v1/index.json")


def test_nginx_serving_files_that_differ_from_the_index_fails_the_image_checks(
        nginx_available, origin, published, certs, tmp_path):
    """A mirror that serves a stale local copy: the same paths, other bytes."""
    ca, chain, key = certs
    stale = tmp_path / "stale"
    for path, data in published[1].items():
        p = stale / path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(bytes(b ^ 0x5A for b in data))  # same size, other bytes
    authority = f"127.0.0.1:{origin.https_port}"
    with NginxMirror(tmp_path / "nginx", authority, chain, key,
                     STALE_TREE_IMAGES.format(root=stale)) as n:
        rc, checks, summary, out = check_mirror("127.0.0.1", "--http-port", n.http_port,
                                                "--https-port", n.https_port,
                                                *origin_args(origin, certs))
    assert rc == 1, out
    assert failed(checks) == ["fast-miss", "image-http", "image-https"], out
    for name in ("image-http", "image-https"):
        assert "sha256" in checks[name][1] and "the index lists" in checks[name][1], out
    assert summary == ("summary: NOT ready: 3 of 9 required checks failed: fast-miss, image-http, "
                       "image-https")


def test_nginx_without_tls13_fails_the_certificate_check(nginx_available, origin, certs, tmp_path):
    """Debian 12's nginx without certbot's options file: HTTPS works for browsers, not for LXD."""
    ca, chain, key = certs
    authority = f"127.0.0.1:{origin.https_port}"
    with NginxMirror(tmp_path / "nginx", authority, chain, key,
                     ANNOUNCED_IMAGES.format(origin=authority, ca=ca), ssl_protocols="") as n:
        rc, checks, summary, out = check_mirror("127.0.0.1", "--http-port", n.http_port,
                                                "--https-port", n.https_port,
                                                *origin_args(origin, certs))
    assert rc == 1, out
    assert failed(checks) == ["https-certificate"], out
    assert checks["https-certificate"][1] == "negotiated TLSv1.2; LXD requires TLS 1.3"
