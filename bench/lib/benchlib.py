"""Helpers shared by the bench/ scripts: process placement, CPU accounting, server processes
(nginx and lxcdn) started and stopped by the bench, wrk runs, the machine-load gate and tables.

Import with
    sys.path.insert(0, str(REPO / "bench/lib")); import benchlib
"""
import ctypes
import os
import re
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

LIB = Path(__file__).resolve().parent
REPO = LIB.parents[1]
TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
REPORT_LUA = LIB / "report.lua"

sys.path.insert(0, str(REPO / "tests/integration"))
import lxcdn_testlib as testlib  # noqa: E402,F401  (certificates, origin YAML, the "listening on" line)


# ---------------------------------------------------------------------------------- placement

def cpu_list(text):
    cpus = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def child_setup(cpus, nice):
    """preexec_fn for every process a bench starts: confined to `cpus`, killed if the bench dies,
    and in a session of its own whose autogroup gets `nice` (with autogroups, plain nice values
    only rank processes within one session, so builds in other sessions would be our equals)."""
    libc = ctypes.CDLL(None, use_errno=True)

    def setup():
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        os.setsid()
        os.sched_setaffinity(0, cpus)
        try:
            Path("/proc/self/autogroup").write_text(str(nice))
            os.setpriority(os.PRIO_PROCESS, 0, nice)
        except OSError:
            pass  # not root: ordinary priority
    return setup


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------- CPU and load

def proc_cpu_seconds(pids):
    """{pid: utime+stime in seconds (all its threads)} of the given processes that still exist.
    A process may end between two readings (nginx's cache loader exits a minute after start):
    compare readings with cpu_seconds_between."""
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / TICKS  # fields 14 and 15 of proc(5)
    return out


def cpu_seconds_between(before, after, main_pid):
    """CPU seconds the processes used between two proc_cpu_seconds readings, over those present
    in both. The server's main process must be in both: if it is gone, nothing measured is
    true, so the run stops."""
    if main_pid not in after:
        raise SystemExit(f"bench: server process {main_pid} exited during a measurement; rerun "
                         f"with --keep and read the servers' logs in the temp dir.")
    return sum(after[p] - before[p] for p in before if p in after)


def machine_cpu_seconds():
    """(busy, softirq+irq, steal) CPU time of the whole machine, all cores, in seconds (/proc/stat)."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(f[:7]) - f[3] - f[4]) / TICKS, (f[5] + f[6]) / TICKS, f[7] / TICKS


def children_cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def children_of(pid):
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(d.name))
    return kids


def load_average():
    return float(Path("/proc/loadavg").read_text().split()[0])


def wait_for_load(limit, max_seconds, log=print):
    """Prints `uptime`; while the 1-minute load average is above `limit`, waits (at most
    max_seconds, polling every 10 s). Returns (load at start, load when measuring, seconds waited)."""
    up = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    log(f"# uptime: {up}")
    first = load_average()
    t0 = time.monotonic()
    while load_average() > limit and time.monotonic() - t0 < max_seconds:
        time.sleep(min(10, max(0.1, max_seconds - (time.monotonic() - t0))))
    now, waited = load_average(), time.monotonic() - t0
    if first > limit:
        log(f"# load average was {first:.2f} (> {limit}); waited {waited:.0f} s; now {now:.2f}"
            + ("" if now <= limit else " -- STILL HIGH: figures below are from a busy machine"))
    return first, now, waited


# ---------------------------------------------------------------------------------- servers

class Server:
    """A server process the bench started: pinned, own session, stopped by stop() or our death.
    Subclasses set `name` and `tmp` and call spawn()."""
    name = "?"

    def spawn(self, cmd, cpus, nice, stdout):
        self.stderr = open(self.tmp / f"{self.name}.stderr", "w")
        self.proc = subprocess.Popen(cmd, stdout=stdout, stderr=self.stderr, bufsize=0,
                                     preexec_fn=child_setup(cpus, nice))

    def fail(self, what):
        self.stop()
        raise RuntimeError(f"{self.name} {what}; stderr:\n" + (self.tmp / f"{self.name}.stderr").read_text())

    def stop(self):
        proc = getattr(self, "proc", None)
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # nginx: fast shutdown; lxcdn: graceful
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc and not self.stderr.closed:
            self.stderr.close()


class NginxProcess(Server):
    """nginx -c CONF (the config text must have `daemon off;` and use only `ports`), started in
    the foreground; ready when every port accepts and `min_workers` workers exist."""

    def __init__(self, name, tmp, conf_text, ports, min_workers=1):
        self.name, self.tmp, self.ports, self.min_workers = name, tmp, ports, min_workers
        self.conf = tmp / f"{name}.conf"
        self.conf.write_text(conf_text)

    def start(self, cpus, nice, timeout=20):
        self.spawn(["nginx", "-p", str(self.tmp), "-e", "stderr", "-c", str(self.conf)], cpus, nice,
                   subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        for port in self.ports:
            while True:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.fail("did not start")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.02)
        while len(children_of(self.proc.pid)) < self.min_workers and time.monotonic() < deadline:
            time.sleep(0.02)

    def pids(self):
        return [self.proc.pid, *children_of(self.proc.pid)]


class LxcdnProcess(Server):
    """`lxcdn ROLE --config CONF`; ready when it has printed `listeners` "listening on" lines.
    Afterwards self.urls maps scheme -> base URL (the first listener of each scheme)."""

    def __init__(self, name, tmp, binary, role, conf_text, listeners=2):
        self.name, self.tmp, self.binary, self.role, self.listeners = name, tmp, binary, role, listeners
        self.conf = tmp / f"{name}.yaml"
        self.conf.write_text(conf_text)

    def start(self, cpus, nice, timeout=20):
        self.spawn([self.binary, self.role, "--config", str(self.conf)], cpus, nice, subprocess.PIPE)
        seen, urls, out = 0, {}, b""
        deadline = time.monotonic() + timeout
        while seen < self.listeners:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.fail(f"did not print its {self.listeners} listeners")
            # Raw reads: a buffered readline() would pull both lines in and leave select() blind.
            if select.select([self.proc.stdout], [], [], max(0, deadline - time.monotonic()))[0]:
                out += os.read(self.proc.stdout.fileno(), 65536)
                found = list(testlib.LISTEN_RE.finditer(out.decode(errors="replace")))
                seen = len(found)
                for m in found:
                    urls.setdefault(m.group(1), f"{m.group(1)}://{m.group(2)}:{m.group(3)}")
        self.urls = urls
        self.http, self.https = urls.get("http"), urls.get("https")
        # Keep reading its stdout so that it never blocks on a full pipe.
        threading.Thread(target=shutil.copyfileobj, args=(self.proc.stdout, open(os.devnull, "wb")),
                         daemon=True).start()

    def pids(self):
        return [self.proc.pid]


# ---------------------------------------------------------------------------------- load

def wrk(url, conns, seconds, client_cpus, nice, headers=(), env=None, threads=None):
    """One wrk run with REPORT_LUA; returns its LXCDN_BENCH totals as ints (requests, bytes,
    duration_us, connect, read, write, status, timeout, p50_us, p99_us)."""
    threads = threads or min(len(client_cpus), conns)
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", "-d", f"{seconds}s", "--timeout", "10s",
           "-s", str(REPORT_LUA)]
    for h in headers:
        cmd += ["-H", h]
    cmd.append(url)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60,
                         preexec_fn=child_setup(client_cpus, nice))
    m = re.search(r"LXCDN_BENCH (.*)", out.stdout)
    if out.returncode != 0 or not m:
        raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}


SYSCALLS = ("recvfrom", "sendto", "writev", "sendfile64", "epoll_wait", "epoll_ctl", "read",
            "write", "openat", "openat2", "newfstatat", "newfstat", "statx", "pread64",
            "setsockopt", "sendmsg", "close")


def measured_wrk(server_pids, url, conns, seconds, client_cpus, nice, headers=(), env=None,
                 profile=None, syscalls=False):
    """wrk() plus what the run cost: server CPU (cpu_s), wrk CPU (wrk_cpu_s), (soft)irq time
    (irq_cpu_s; without CONFIG_IRQ_TIME_ACCOUNTING it is also inside the others), CPU of everything
    else on the machine (other_cpu_s; large = a busy machine, then noisy=True), and the derived
    gbps (10^9 bytes/s), rps, cpu_ms_per_gb, cpu_us_per_req and errors. With `profile` (a path),
    `perf record -g` samples the server's processes during the run into that file (the sampling
    costs the server CPU: figures from a profiled run are not comparable with others). With
    `syscalls`, `perf stat` counts the server's system calls (SYSCALLS) during the run, and
    r["syscalls"] maps each name to its count per request."""
    perf = None
    counter = None
    if syscalls:
        counter = subprocess.Popen(
            ["perf", "stat", "-x", ",", "--no-big-num",
             "-e", ",".join(f"syscalls:sys_enter_{n}" for n in SYSCALLS),
             "-p", ",".join(str(p) for p in server_pids)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
    if profile:
        perf = subprocess.Popen(["perf", "record", "-q", "-F", "999", "-g", "-o", str(profile),
                                 "-p", ",".join(str(p) for p in server_pids)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
    cpu0, (busy0, irq0, steal0), wrk0 = proc_cpu_seconds(server_pids), machine_cpu_seconds(), children_cpu_seconds()
    try:
        r = wrk(url, conns, seconds, client_cpus, nice, headers, env)
    finally:
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait(timeout=60)
        counts = {}
        if counter:
            counter.send_signal(signal.SIGINT)
            _, err = counter.communicate(timeout=60)
            for line in err.splitlines():
                f = line.split(",")
                if len(f) > 2 and f[2].startswith("syscalls:sys_enter_") and f[0].isdigit():
                    counts[f[2][len("syscalls:sys_enter_"):]] = int(f[0])
    r["cpu_s"] = cpu_seconds_between(cpu0, proc_cpu_seconds(server_pids), server_pids[0])
    r["wrk_cpu_s"] = children_cpu_seconds() - wrk0
    busy1, irq1, steal1 = machine_cpu_seconds()
    r["irq_cpu_s"], r["steal_s"] = irq1 - irq0, steal1 - steal0
    r["other_cpu_s"] = busy1 - busy0 - r["cpu_s"] - r["wrk_cpu_s"]
    secs = r["duration_us"] / 1e6
    r["noisy"] = r["other_cpu_s"] + r["steal_s"] > 0.1 * CORES * secs
    r["rps"] = r["requests"] / secs
    r["gbps"] = r["bytes"] / secs / 1e9
    r["cpu_ms_per_gb"] = r["cpu_s"] * 1e3 / max(r["bytes"] / 1e9, 1e-9)
    r["cpu_us_per_req"] = r["cpu_s"] * 1e6 / max(r["requests"], 1)
    r["errors"] = sum(r[k] for k in ("connect", "read", "write", "status", "timeout"))
    if counter:
        r["syscalls"] = {k: v / max(r["requests"], 1) for k, v in counts.items() if v}
    return r


def syscalls_text(r):
    """'recvfrom 1.02, sendto 1.00, ...' per request, for a run measured with syscalls=True."""
    return ", ".join(f"{k} {v:.2f}" for k, v in sorted(r.get("syscalls", {}).items()))


# ---------------------------------------------------------------------------------- report

def print_table(heads, rows, numeric_from=1):
    """Left-aligned text columns before `numeric_from`, right-aligned after."""
    widths = [max(len(str(r[i])) for r in [heads, *rows]) for i in range(len(heads))]
    for r in [heads, None, *rows]:
        if r is None:
            print("  ".join("-" * w for w in widths))
        else:
            print("  ".join(str(c).ljust(w) if i < numeric_from else str(c).rjust(w)
                            for i, (c, w) in enumerate(zip(r, widths))))
