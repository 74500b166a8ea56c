"""Fails a test module when any server it started reported a sanitizer finding.

The debug build runs with ASan+UBSan (which abort on a finding) and the tsan preset with
ThreadSanitizer (which reports and carries on, halt_on_error=0). A report printed while a server
shuts down, or by a thread the test never looks at, would otherwise go unnoticed: after each
module this scans every `*.stderr` file written under pytest's temporary base directory since
the module began and fails with the report's first lines."""
import time

import pytest

MARKERS = ("ERROR: AddressSanitizer", "WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer",
           "ERROR: LeakSanitizer", "runtime error:")


def findings(base, since):
    """(path, excerpt) for every *.stderr under `base` modified at or after `since` that holds a
    sanitizer marker."""
    out = []
    for path in sorted(base.rglob("*.stderr")):
        try:
            if path.stat().st_mtime < since:
                continue
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for marker in MARKERS:
            at = text.find(marker)
            if at >= 0:
                out.append((path, text[max(0, at - 200):at + 3000]))
                break
    return out


@pytest.fixture(scope="module", autouse=True)
def no_sanitizer_reports(tmp_path_factory):
    since = time.time() - 1
    yield
    found = findings(tmp_path_factory.getbasetemp(), since)
    if found:
        pytest.fail("sanitizer report(s) in server stderr:\n" +
                    "\n".join(f"--- {p}\n{excerpt}" for p, excerpt in found), pytrace=False)
