"""Helpers of the GeoIP redirection tests: clients bound to a 127.0.0.x source address (placed by
the origin's `geoip.overrides`) and small `lxcdn mirror` configs filling from an origin."""
import http.client
import re
import socket


def free_port():
    """A port nothing listens on now (for configs that must name a mirror's port up front)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, source="127.0.0.1", headers=None, method="GET"):
    """One request to 127.0.0.1:port from `source`; returns (status, headers, body)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def mirror_config(cache, port, upstream_https, ca):
    """An `lxcdn mirror` on 127.0.0.1:port (plain HTTP) filling from `upstream_https`."""
    return (f"upstream:\n  url: {upstream_https}\n  ca_file: {ca}\n  index_refresh: 1s\n"
            f"cache:\n  dir: {cache}\nlisten:\n  - address: 127.0.0.1\n    port: {port}\n")


# Fast health checks for tests: a probe every 200 ms, down after 2 of the last 3 fail, up after 2
# in a row, no slow start.
FAST_HEALTH = """health:
  interval: 200ms
  timeout: 2s
  window: 3
  fail_after: 2
  recover_after: 2
  slow_start: 0s
"""


# `geoip:` placing 127.0.0.2 in Germany and 127.0.0.3 in Japan (clients bind one of them).
LOOPBACK_REGIONS = """geoip:
  overrides:
    - network: 127.0.0.2
      country: DE
    - network: 127.0.0.3
      country: JP
"""


def demo_cert_and_key(config_text):
    """(certificate, key) paths named by an origin.yaml written by `lxcdn demo`."""
    cert = re.search(r'certificate: "([^"]+)"', config_text).group(1)
    key = re.search(r'key: "([^"]+)"', config_text).group(1)
    return cert, key
