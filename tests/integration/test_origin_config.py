"""Configuration errors as an operator meets them: `lxcdn origin` refuses to start, exits
non-zero at once, and says which file, line and key are wrong (or which file or address failed)."""
import re
import socket
import subprocess

import pytest

from lxcdn_testlib import LXCDN_BIN, Origin, RawConnection, make_ca_and_cert


def start_origin(config_path, timeout=15):
    try:
        return subprocess.run([LXCDN_BIN, "origin", "--config", str(config_path)], capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"origin kept running with a broken config: {e.stderr}") from e


def line_of(text, needle):
    for n, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return n
    raise ValueError(needle)


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "www"
    (r / "streams/v1").mkdir(parents=True)
    return r


def write(tmp_path, text):
    p = tmp_path / "origin.yaml"
    p.write_text(text)
    return p


def assert_refused(res, *needles):
    assert res.returncode != 0, f"exit code 0 with a broken config; stdout={res.stdout!r}"
    assert "listening on" not in res.stdout
    for needle in needles:
        assert needle in res.stderr, f"{needle!r} not in stderr:\n{res.stderr}"


LISTEN = 'listen:\n  - address: "127.0.0.1"\n    port: 0\n'

# (id, yaml with {root}, the line holding this marker is the one to name, key text expected)
LINE_CASES = [
    ("unknown_top_key", "root: {root}\n" + LISTEN + "lisen:\n  - port: 1\n", "lisen:", "lisen"),
    ("unknown_listener_key", "root: {root}\nlisten:\n  - address: \"127.0.0.1\"\n    port: 0\n    tsl: true\n",
     "tsl:", "tsl"),
    ("unknown_limits_key", "root: {root}\n" + LISTEN + "limits:\n  header_timout: 5s\n", "header_timout",
     "header_timout"),
    ("bad_duration", "root: {root}\n" + LISTEN + "limits:\n  idle_timeout: 60s\n  header_timeout: soon\n",
     "header_timeout", "limits.header_timeout"),
    ("negative_duration", "root: {root}\n" + LISTEN + "limits:\n  idle_timeout: -5s\n", "idle_timeout",
     "limits.idle_timeout"),
    ("duration_unit_typo", "root: {root}\n" + LISTEN + "limits:\n  shutdown_grace: 30 sec\n",
     "shutdown_grace", "limits.shutdown_grace"),
    ("hostname_as_address", "root: {root}\nlisten:\n  - address: \"localhost\"\n    port: 0\n", "localhost",
     "address"),
    ("bad_ipv4", "root: {root}\nlisten:\n  - address: \"300.1.1.1\"\n    port: 0\n", "300.1.1.1", "address"),
    ("port_out_of_range", "root: {root}\nlisten:\n  - address: \"127.0.0.1\"\n    port: 70000\n", "70000",
     "port"),
    ("port_not_a_number", "root: {root}\nlisten:\n  - address: \"127.0.0.1\"\n    port: https\n", "https",
     "port"),
    ("tls_not_bool", "root: {root}\nlisten:\n  - address: \"127.0.0.1\"\n    port: 0\n    tls: maybe\n",
     "maybe", "tls"),
    ("max_connections_zero", "root: {root}\n" + LISTEN + "limits:\n  max_connections: 0\n", "max_connections",
     "max_connections"),
    ("max_header_fields_too_small", "root: {root}\n" + LISTEN + "limits:\n  max_header_fields: 3\n",
     "max_header_fields", "max_header_fields"),
    ("session_tickets_too_many", "root: {root}\n" + LISTEN + "tls:\n  session_tickets: 9\n", "session_tickets",
     "session_tickets"),
    ("yaml_syntax_error", "root: {root}\n" + LISTEN + "limits:\n  header_timeout: [10s\n", None, "syntax"),
    ("tab_indentation", "root: {root}\n" + LISTEN + "limits:\n\theader_timeout: 10s\n", None, "origin.yaml"),
    ("tls_listener_without_tls_section",
     "root: {root}\nlisten:\n  - address: \"127.0.0.1\"\n    port: 0\n    tls: true\n", None, "tls"),
]


@pytest.mark.parametrize("case", LINE_CASES, ids=[c[0] for c in LINE_CASES])
def test_config_error_names_file_line_and_key(tmp_path, root, case):
    _, template, marker, key = case
    text = template.format(root=root)
    res = start_origin(write(tmp_path, text))
    assert_refused(res, "origin.yaml", key)
    if marker is not None:
        assert f"origin.yaml:{line_of(text, marker)}:" in res.stderr, res.stderr
    else:
        assert re.search(r"origin\.yaml:\d+:", res.stderr), res.stderr


def test_missing_root_key(tmp_path):
    res = start_origin(write(tmp_path, LISTEN))
    assert_refused(res, "origin.yaml", "root", "missing")


def test_missing_listen_key(tmp_path, root):
    res = start_origin(write(tmp_path, f"root: {root}\n"))
    assert_refused(res, "origin.yaml", "listen")


def test_empty_listen_list(tmp_path, root):
    text = f"root: {root}\nlisten: []\n"
    res = start_origin(write(tmp_path, text))
    assert_refused(res, "origin.yaml:2:", "listen")


def test_limits_not_a_mapping(tmp_path, root):
    text = f"root: {root}\n{LISTEN}limits: 5\n"
    res = start_origin(write(tmp_path, text))
    assert_refused(res, "origin.yaml:5:", "limits")


def test_nonexistent_root_directory(tmp_path):
    missing = tmp_path / "no-such-tree"
    res = start_origin(write(tmp_path, f"root: {missing}\n{LISTEN}"))
    assert_refused(res, str(missing))


def test_root_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    res = start_origin(write(tmp_path, f"root: {f}\n{LISTEN}"))
    assert_refused(res, str(f))


def test_missing_config_file(tmp_path):
    res = start_origin(tmp_path / "nope.yaml")
    assert_refused(res, "nope.yaml")


def tls_config(root, cert, key):
    return (f"root: {root}\nlisten:\n  - address: \"127.0.0.1\"\n    port: 0\n    tls: true\n"
            f"tls:\n  certificate: {cert}\n  key: {key}\n")


def broken_tls_file(tmp_path, certs, which):
    """(certificate, key, the path the message must name) for one kind of broken TLS file."""
    _, chain, key = certs
    if which == "missing_certificate":
        bad = tmp_path / "missing-fullchain.pem"
        return bad, key, bad
    if which == "certificate_is_a_directory":
        return tmp_path, key, tmp_path
    if which == "garbage_certificate":
        bad = tmp_path / "bad.pem"
        bad.write_text("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
        return bad, key, bad
    bad = tmp_path / "missing.key"
    return chain, bad, bad


@pytest.mark.parametrize("which", ["missing_certificate", "certificate_is_a_directory",
                                   "garbage_certificate", "missing_key"])
def test_unusable_tls_file_is_named(tmp_path, root, certs, which):
    cert, key, named = broken_tls_file(tmp_path, certs, which)
    res = start_origin(write(tmp_path, tls_config(root, cert, key)))
    assert_refused(res, str(named))


def test_key_not_matching_the_certificate(tmp_path, root, certs):
    _, chain, _ = certs
    _, _, other_key = make_ca_and_cert(tmp_path / "other")
    res = start_origin(write(tmp_path, tls_config(root, chain, other_key)))
    assert_refused(res)
    assert "key" in res.stderr.lower(), res.stderr


def test_address_in_use_names_the_address(tmp_path, root):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = start_origin(write(tmp_path, f"root: {root}\nlisten:\n  - address: \"127.0.0.1\"\n    port: {port}\n"))
    assert_refused(res, f"127.0.0.1:{port}")


def test_relative_paths_are_relative_to_the_config_file(tmp_path, certs):
    """The documented rule (origin_config.cpp): relative root and certificate paths resolve against the
    directory of the config file, not the working directory."""
    _, chain, key = certs
    d = tmp_path / "conf"
    (d / "www").mkdir(parents=True)
    (d / "www/hello.txt").write_bytes(b"relative\n")
    (d / "tls").mkdir()
    (d / "tls/chain.pem").write_bytes(chain.read_bytes())
    (d / "tls/key.pem").write_bytes(key.read_bytes())
    text = ("root: www\nlisten:\n  - address: \"127.0.0.1\"\n    port: 0\n  - address: \"127.0.0.1\"\n"
            "    port: 0\n    tls: true\ntls:\n  certificate: tls/chain.pem\n  key: tls/key.pem\n")
    with Origin(d, text) as o:
        with RawConnection("127.0.0.1", o.http_port) as c:
            c.get("/hello.txt")
            assert c.read_response().body == b"relative\n"
