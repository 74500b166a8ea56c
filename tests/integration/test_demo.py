"""`lxcdn demo`: one command runs an origin and two mirrors (supervised child processes), and the
lines it prints to watch a download go origin -> mirror do what they say. No LXD here (see
test_lxd_daemon.py for the real client going through the demo's mirror)."""
import re
import signal
import subprocess
from pathlib import Path

import pytest
import yaml

from demo_process import DemoProcess
from lxcdn_testlib import LXCDN_BIN, run, wait_port_closed


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    with DemoProcess(tmp_path_factory.mktemp("demo") / "run") as d:
        yield d


def bash(line):
    p = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, f"{line}\n{p.stdout}\n{p.stderr}"
    return p.stdout


def test_three_processes_on_the_printed_ports(demo):
    assert sorted(demo.child_pids()) == ["mirror-a.yaml", "mirror-b.yaml", "origin.yaml"]
    ports = {demo.origin_https_port, demo.origin_http_port, demo.mirror_a_port, demo.mirror_b_port}
    assert len(ports) == 4 and 0 not in ports
    for port in (demo.mirror_a_port, demo.mirror_b_port):
        status = demo.status(port)
        assert status["upstream"]["url"] == f"https://127.0.0.1:{demo.origin_https_port}"
    origin = yaml.safe_load((demo.dir / "origin.yaml").read_text())
    assert [(m["name"], m["http"], m["https"], m["country"]) for m in origin["mirrors"]] == [
        ("a", f"http://127.0.0.1:{demo.mirror_a_port}", f"https://127.0.0.1:{demo.mirror_a_port}",
         "DE"),
        ("b", f"http://127.0.0.1:{demo.mirror_b_port}", f"https://127.0.0.1:{demo.mirror_b_port}",
         "JP")]
    assert {o["network"]: o["country"] for o in origin["geoip"]["overrides"]} == {
        "127.0.0.0/8": "DE", "::1": "DE", "127.0.0.3": "JP"}


def test_watch_lines_show_the_download_going_through_mirror_a(demo):
    head, get, status, metrics, check, head_b, redirects = demo.watch
    assert head.startswith("curl --interface 127.0.0.2 ")
    assert head_b.startswith("curl --interface 127.0.0.3 ")
    image = next(i for i in demo.tree.images if i.arch == "amd64" and i.variant == "default")
    path = "/" + str(image.root.relative_to(demo.tree.www))
    before = demo.metrics(demo.mirror_a_port)

    out = bash(head)
    assert out.startswith("HTTP/1.1 302 ")
    assert f"Location: http://127.0.0.1:{demo.mirror_a_port}{path}\n" in out

    out = bash(get)
    assert out == f"200 {image.root.stat().st_size} bytes from http://127.0.0.1:{demo.mirror_a_port}{path}\n"

    after = demo.metrics(demo.mirror_a_port)
    assert after["lxcdn_mirror_fill_bytes_total"] - before["lxcdn_mirror_fill_bytes_total"] == \
        image.root.stat().st_size
    assert demo.status(demo.mirror_a_port)["cache"]["entries"] >= 1

    assert '"reachable":true' in bash(status)
    counters = dict(line.split() for line in bash(metrics).splitlines())
    assert set(counters) == {"lxcdn_mirror_hits_total", "lxcdn_mirror_misses_total",
                             "lxcdn_mirror_fill_bytes_total"}
    assert float(counters["lxcdn_mirror_misses_total"]) >= 1

    report = bash(check)
    assert report.splitlines()[-1] == "summary: ready: all 10 required checks passed", report

    # From 127.0.0.3 ("JP" in the demo's overrides) the same file goes to mirror B.
    out = bash(head_b)
    assert out.startswith("HTTP/1.1 302 ")
    assert f"Location: http://127.0.0.1:{demo.mirror_b_port}{path}\n" in out
    counts = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
              for line in bash(redirects).splitlines()}
    assert counts['lxcdn_origin_redirects_total{mirror="a",country="DE",reason="nearest"}'] >= 2
    assert counts['lxcdn_origin_redirects_total{mirror="b",country="JP",reason="nearest"}'] >= 1


def test_mirror_b_serves_too(demo):
    image = demo.tree.images[0]
    path = "/" + str(image.meta.relative_to(demo.tree.www))
    out = bash(f"curl -s -o /dev/null -w '%{{http_code}} %{{size_download}}' "
               f"'http://127.0.0.1:{demo.mirror_b_port}{path}'")
    assert out == f"200 {image.meta.stat().st_size}"
    assert demo.metrics(demo.mirror_b_port)["lxcdn_mirror_misses_total"] >= 1


def test_sigterm_stops_all_three_and_exits_0(tmp_path):
    d = DemoProcess(tmp_path / "run").start()
    pids = d.child_pids()
    assert len(pids) == 3
    assert d.stop(signal.SIGTERM) == 0
    assert d.child_pids() == {}
    for port in (d.origin_https_port, d.origin_http_port, d.mirror_a_port, d.mirror_b_port):
        assert wait_port_closed("127.0.0.1", port)
    stderr = d.stderr_text()
    assert stderr.count("] stopped") == 3, stderr[-3000:]


def test_a_child_that_dies_stops_the_demo_with_status_1(tmp_path):
    d = DemoProcess(tmp_path / "run").start()
    try:
        victim = d.child_pids()["mirror-b.yaml"]
        subprocess.run(["kill", "-9", str(victim)], check=True)
        assert d.proc.wait(timeout=60) == 1
    finally:
        d.stop()
    assert d.child_pids() == {}
    assert "lxcdn demo: the mirror B was killed by signal Killed; stopping" in d.stderr_text()


def test_prepare_only_writes_every_config(tmp_path):
    out = run([LXCDN_BIN, "demo", "--prepare-only", "--dir", str(tmp_path / "d"),
               "--https-port", "18443", "--http-port", "18080", "--mirror-a-port", "18444",
               "--mirror-b-port", "18445"], timeout=300).stdout
    d = tmp_path / "d"
    origin = yaml.safe_load((d / "origin.yaml").read_text())
    assert [m["http"] for m in origin["mirrors"]] == ["http://127.0.0.1:18444",
                                                      "http://127.0.0.1:18445"]
    assert origin["health"]["ca_file"] == str(d / "tls" / "ca.crt")
    for name, port in (("a", 18444), ("b", 18445)):
        m = yaml.safe_load((d / f"mirror-{name}.yaml").read_text())
        assert m["upstream"]["url"] == "https://127.0.0.1:18443"
        assert m["cache"]["dir"] == str(d / f"cache-{name}")
        assert (d / f"cache-{name}").is_dir()
        assert m["listen"] == [{"address": "127.0.0.1", "port": port, "tls": True}]
        assert f"mirror --config '{d}/mirror-{name}.yaml'" in out
    # With port 0 the processes pick their ports, so nothing can name them: no mirror list, no
    # mirror configs (and none left from the run before).
    run([LXCDN_BIN, "demo", "--prepare-only", "--dir", str(d), "--https-port", "0",
         "--http-port", "0"], timeout=300)
    assert "mirrors" not in yaml.safe_load((d / "origin.yaml").read_text())
    assert not (d / "mirror-a.yaml").exists() and not (d / "mirror-b.yaml").exists()
