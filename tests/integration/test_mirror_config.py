"""Configuration errors of `lxcdn mirror` as a volunteer meets them: the mirror refuses to start,
exits with status 2 at once, and names the file, the line and the key that are wrong."""
import subprocess

import pytest

from lxcdn_testlib import LXCDN_BIN

LISTEN = 'listen:\n  - address: "127.0.0.1"\n    port: 0\n'


def config(cache_dir, upstream="  url: https://127.0.0.1:8443\n", cache="", extra=""):
    return (f"upstream:\n{upstream}cache:\n  dir: {cache_dir}\n{cache}" + LISTEN + extra)


# (id, upstream section, cache section, extra top-level YAML, marker on the line to name, message)
CASES = [
    ("plain_http_upstream", "  url: http://origin.example\n", "", "", "url:",
     "upstream.url: 'http://origin.example' must start with https://"),
    ("upstream_without_host", "  url: https://:8443/\n", "", "", "url:",
     "upstream.url: 'https://:8443/' needs a host name"),
    ("upstream_bad_port", "  url: https://origin.example:99999\n", "", "", "url:",
     "upstream.url: 'https://origin.example:99999' has an invalid port"),
    ("upstream_user_info", "  url: https://user@origin.example\n", "", "", "url:",
     "upstream.url: 'https://user@origin.example' needs a host name and no user info"),
    ("unknown_upstream_key", "  url: https://origin.example\n  ca_fiel: /x\n", "", "", "ca_fiel",
     "upstream.ca_fiel: unknown key"),
    ("unknown_cache_key", None, "  max_sise: 10G\n", "", "max_sise", "cache.max_sise: unknown key"),
    ("unknown_valid_status", None, "  valid:\n    200: 3d\n    500: 1m\n", "", "500:",
     "cache.valid.500: unknown key"),
    ("bad_valid_duration", None, "  valid:\n    404: five minutes\n", "", "404:",
     "cache.valid.404: expected a duration"),
    ("bad_max_size", None, "  max_size: lots\n", "", "max_size", "cache.max_size:"),
    ("bad_inactive", None, "  inactive: 3 days\n", "", "inactive", "cache.inactive:"),
    ("bad_header_timeout", "  url: https://origin.example\n  header_timeout: soon\n", "", "",
     "header_timeout", "upstream.header_timeout:"),
    ("unknown_top_key", None, "", "acces_log: true\n", "acces_log", "acces_log: unknown key"),
    ("access_log_not_bool", None, "", "access_log: sometimes\n", "access_log", "access_log:"),
]


def line_of(text, needle):
    for n, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return n
    raise ValueError(needle)


def run_mirror(config_path, *args):
    try:
        return subprocess.run([LXCDN_BIN, "mirror", "--config", str(config_path), *args],
                              capture_output=True, text=True, timeout=15)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"the mirror kept running with a broken config: {e.stderr}") from e


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_config_error_names_file_line_and_key(tmp_path, case):
    _, upstream, cache, extra, marker, message = case
    kw = {"cache": cache, "extra": extra}
    if upstream is not None:
        kw["upstream"] = upstream
    text = config(tmp_path / "cache", **kw)
    path = tmp_path / "mirror.yaml"
    path.write_text(text)
    res = run_mirror(path)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert "listening on" not in res.stdout
    expected = f"lxcdn: {path}:{line_of(text, marker)}: {message}"
    assert expected in res.stderr, f"{expected!r} not in:\n{res.stderr}"
    assert not (tmp_path / "cache").exists()  # refused before touching the disk


def test_missing_upstream_and_cache_sections_are_named(tmp_path):
    path = tmp_path / "mirror.yaml"
    path.write_text(LISTEN)
    res = run_mirror(path)
    assert res.returncode == 2
    assert str(path) in res.stderr and "upstream" in res.stderr

    path.write_text("upstream:\n  url: https://origin.example\n" + LISTEN)
    res = run_mirror(path)
    assert res.returncode == 2
    assert str(path) in res.stderr and "cache" in res.stderr


def test_an_unreadable_ca_file_is_named(tmp_path):
    path = tmp_path / "mirror.yaml"
    missing = tmp_path / "no-such-ca.crt"
    path.write_text(config(tmp_path / "cache",
                           upstream=f"  url: https://origin.example\n  ca_file: {missing}\n"))
    res = run_mirror(path)
    assert res.returncode == 2, res.stderr
    assert f"upstream.ca_file: cannot load {missing}" in res.stderr


def test_purge_refuses_a_broken_config_too(tmp_path):
    path = tmp_path / "mirror.yaml"
    text = config(tmp_path / "cache", cache="  max_sise: 1G\n")
    path.write_text(text)
    res = subprocess.run([LXCDN_BIN, "mirror", "--config", str(path), "purge", "/images/x"],
                         capture_output=True, text=True, timeout=15)
    assert res.returncode == 2
    assert f"{path}:{line_of(text, 'max_sise')}: cache.max_sise: unknown key" in res.stderr
