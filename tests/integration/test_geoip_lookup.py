"""`lxcdn geoip lookup DB ADDR` as an operator runs it, against small MaxMind DB files written by
MaxMind's own writer (tests/tools/write-test-mmdb.pl, Debian libmaxmind-db-writer-perl): the
GeoIP2/GeoLite2 City layout, the flat layout of free country databases, an IPv4-only database,
IPv4 and IPv6 addresses, overrides from an origin config, and broken files."""
import json
import subprocess

import pytest

from lxcdn_testlib import LXCDN_BIN, SOURCE_DIR, run

WRITER = SOURCE_DIR / "tests/tools/write-test-mmdb.pl"


@pytest.fixture(scope="module")
def dbs(tmp_path_factory):
    d = tmp_path_factory.mktemp("mmdb")
    run(["perl", str(WRITER), str(d)])
    return d


def lookup(*args):
    return subprocess.run([LXCDN_BIN, "geoip", "lookup", *map(str, args)], capture_output=True,
                          text=True, timeout=30)


def lookup_json(db, addr, *extra):
    res = lookup(db, addr, "--json", *extra)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    return json.loads(res.stdout)


# (database, address, country, continent, latitude, longitude, source, network)
CASES = [
    ("geoip2-city.mmdb", "81.2.69.160", "GB", "EU", 51.5142, -0.0931, "database", "81.2.69.0/24"),
    ("geoip2-city.mmdb", "::ffff:81.2.69.160", "GB", "EU", 51.5142, -0.0931, "database", "81.2.69.0/24"),
    ("geoip2-city.mmdb", "2001:db8:100::42", "DE", "EU", 50.1109, 8.6821, "database", "2001:db8:100::/48"),
    ("geoip2-city.mmdb", "175.16.199.3", "CN", "AS", 32.0, 112.0, "centroid", "175.16.199.0/24"),
    ("geoip2-city.mmdb", "192.0.2.77", "BR", "SA", -17.0, -46.0, "centroid", "192.0.2.0/24"),
    ("geoip2-city.mmdb", "198.51.100.1", None, None, None, None, "none", None),
    ("geoip2-city.mmdb", "8.8.8.8", None, None, None, None, "none", None),
    ("country-flat.mmdb", "81.2.69.160", "FR", "EU", 46.2, 2.2, "centroid", "81.2.69.0/24"),
    ("country-flat.mmdb", "2001:db8:100::1", "AU", "OC", -32.0, 146.0, "centroid", "2001:db8:100::/48"),
    ("country-flat.mmdb", "203.0.113.9", "CA", "NA", 46.0, -80.0, "centroid", "203.0.113.0/24"),
    ("country-flat.mmdb", "2001:db8:300::1", "JP", "AS", 35.6895, 139.6917, "database", "2001:db8:300::/48"),
    ("country-flat.mmdb", "2001:db8:400::1", "SE", "EU", 60.1, 18.6, "centroid", "2001:db8:400::/48"),
    ("country-v4.mmdb", "81.2.69.1", "NL", "EU", 52.1, 5.3, "centroid", "81.2.69.0/24"),
    ("country-v4.mmdb", "2001:db8:100::1", None, None, None, None, "none", None),
    ("wrong-types.mmdb", "81.2.69.1", None, None, None, None, "none", None),
]


@pytest.mark.parametrize("db,addr,country,continent,lat,lon,source,network", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_lookup_json(dbs, db, addr, country, continent, lat, lon, source, network):
    out = lookup_json(dbs / db, addr)
    assert out["country"] == country
    assert out["continent"] == continent
    assert out["source"] == source
    assert out["network"] == network
    if lat is None:
        assert out["latitude"] is None and out["longitude"] is None
    else:
        assert out["latitude"] == pytest.approx(lat, abs=1e-6)
        assert out["longitude"] == pytest.approx(lon, abs=1e-6)
    assert out["database"] == str(dbs / db)
    assert out["database_type"].startswith("Test-")
    assert out["error"] is None


def test_lookup_text_city(dbs):
    res = lookup(dbs / "geoip2-city.mmdb", "2001:db8:100::42")
    assert res.returncode == 0, res.stderr
    assert res.stdout == (
        "address:   2001:db8:100::42\n"
        "network:   2001:db8:100::/48\n"
        "country:   DE\n"
        "continent: EU\n"
        "location:  50.1109, 8.6821\n"
        "source:    database\n"
        f"database:  {dbs / 'geoip2-city.mmdb'} (Test-GeoIP2-City)\n")


def test_lookup_text_country_only_and_unknown(dbs):
    res = lookup(dbs / "country-flat.mmdb", "::ffff:203.0.113.9")
    assert res.returncode == 0, res.stderr
    assert "address:   203.0.113.9\n" in res.stdout
    assert "country:   CA\n" in res.stdout
    assert "location:  46.0000, -80.0000\n" in res.stdout
    assert "source:    centroid (the database has only the country; this is its centre)\n" in res.stdout
    res = lookup(dbs / "country-flat.mmdb", "2001:db8:dead::1")
    assert res.returncode == 0, res.stderr
    assert "country:   unknown\n" in res.stdout
    assert "location:  unknown\n" in res.stdout
    assert "source:    none (not in the database)\n" in res.stdout


def test_overrides_from_origin_config(dbs, tmp_path):
    cfg = tmp_path / "origin.yaml"
    cfg.write_text("root: /srv/www\n"
                   "geoip:\n"
                   "  overrides:\n"
                   "    - network: 127.0.0.2/32\n"
                   "      country: DE\n"
                   "    - network: 81.2.69.128/25\n"
                   "      latitude: 48.14\n"
                   "      longitude: 11.58\n"
                   "      country: de\n")
    out = lookup_json(dbs / "geoip2-city.mmdb", "127.0.0.2", "--config", cfg)
    assert (out["country"], out["continent"], out["source"], out["network"]) == ("DE", "EU", "override", "127.0.0.2/32")
    assert (out["latitude"], out["longitude"]) == (51.2, 10.5)
    out = lookup_json(dbs / "geoip2-city.mmdb", "81.2.69.200", "--config", cfg)
    assert (out["country"], out["source"], out["latitude"]) == ("DE", "override", 48.14)
    # Outside the overrides the database answers.
    out = lookup_json(dbs / "geoip2-city.mmdb", "81.2.69.1", "--config", cfg)
    assert (out["country"], out["source"]) == ("GB", "database")
    res = lookup(dbs / "geoip2-city.mmdb", "127.0.0.2", "--config", cfg)
    assert "source:    override (geoip.overrides)\n" in res.stdout


@pytest.mark.parametrize("name,reason", [
    ("truncated.mmdb", "The MaxMind DB file contains invalid metadata"),
    ("garbage.mmdb", "The MaxMind DB file contains invalid metadata"),
    ("empty.mmdb", ""),
    ("missing.mmdb", "No such file or directory"),
])
def test_broken_database_is_a_clear_error(dbs, name, reason):
    res = lookup(dbs / name, "81.2.69.1")
    assert res.returncode == 2, f"exit {res.returncode} (negative = crashed): {res.stderr}"
    assert res.stdout == ""
    assert res.stderr.startswith(f"lxcdn: {dbs / name}: cannot open GeoIP database: "), res.stderr
    assert reason in res.stderr


def test_corrupt_search_tree_is_a_clear_error(dbs):
    res = lookup(dbs / "bad-tree.mmdb", "81.2.69.1")
    assert res.returncode == 2, f"exit {res.returncode} (negative = crashed): {res.stderr}"
    assert res.stderr == (f"lxcdn: {dbs / 'bad-tree.mmdb'}: lookup of 81.2.69.1 failed: "
                          "The MaxMind DB file's search tree is corrupt\n")


def test_bad_arguments(dbs, tmp_path):
    res = lookup(dbs / "geoip2-city.mmdb", "not-an-ip")
    assert res.returncode == 2
    assert res.stderr == "lxcdn: 'not-an-ip' is not an IPv4 or IPv6 address\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text("geoip:\n  overrides:\n    - network: 10.0.0.0/8\n      country: UK\n")
    res = lookup(dbs / "geoip2-city.mmdb", "10.1.1.1", "--config", bad)
    assert res.returncode == 2
    assert res.stderr == (f"lxcdn: {bad}:4: geoip.overrides[0].country: unknown country code 'UK' "
                          "(ISO 3166-1 alpha-2, e.g. DE; the United Kingdom is GB)\n")
