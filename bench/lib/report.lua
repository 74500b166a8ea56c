-- wrk script shared by the bench/ scripts (bench/lib/benchlib.py wrk()): prints the exact totals of
-- a run as one machine-readable line. Only done() is defined, so wrk's per-response path stays the
-- fast C one (a response() function would make wrk hand every body to Lua).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "LXCDN_BENCH requests=%d bytes=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99)))
end
