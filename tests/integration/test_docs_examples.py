"""The configuration examples in docs/ are real: each parses with the binary it documents."""
import re

from lxcdn_testlib import LXCDN_BIN, SOURCE_DIR, run


def yaml_block_after(doc, heading):
    """The first ```yaml block after `heading` in docs/DOC."""
    text = (SOURCE_DIR / "docs" / doc).read_text()
    m = re.search(re.escape(heading) + r".*?```yaml\n(.*?)```", text, re.S)
    assert m, f"no yaml block after {heading!r} in docs/{doc}"
    return m.group(1)


def test_mirror_md_complete_example_parses(tmp_path):
    config = tmp_path / "mirror.yaml"
    config.write_text(yaml_block_after("mirror.md", "## A complete mirror.yaml"))
    # purge loads and checks the whole config without binding ports or touching the cache dir;
    # a config error would exit 2 with FILE:LINE.
    p = run([LXCDN_BIN, "mirror", "--config", str(config), "purge", "/images/none"], check=False)
    assert p.returncode == 1, p.stderr
    assert p.stderr == "lxcdn mirror purge: /images/none: not in the cache\n"


def test_packaged_mirror_example_parses(tmp_path):
    """packaging/examples/mirror.yaml (installed in /usr/share/doc/lxcdn/examples/) with its
    cache.dir moved here; the origin's example is started for real by test_packaging.py."""
    text = (SOURCE_DIR / "packaging" / "examples" / "mirror.yaml").read_text()
    assert "  dir: /var/cache/lxcdn" in text
    config = tmp_path / "mirror.yaml"
    config.write_text(text.replace("  dir: /var/cache/lxcdn", f"  dir: {tmp_path / 'cache'}"))
    p = run([LXCDN_BIN, "mirror", "--config", str(config), "purge", "/images/none"], check=False)
    assert p.returncode == 1, p.stderr
    assert p.stderr == "lxcdn mirror purge: /images/none: not in the cache\n"
