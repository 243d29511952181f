"""Shared pytest set-up: hypothesis runs the same examples on every machine (a red CI is real);
how the tests are shared between the two workers; the site test's numbers in the summary."""

import json
import time
from pathlib import Path

from hypothesis import settings

settings.register_profile("book", derandomize=True, deadline=None, database=None,
                          max_examples=30, print_blob=True)
settings.load_profile("book")

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
SESSION_START = time.time()
#: The longest units of work, started first so that neither worker is left with one at the
#: end (pytest.ini: --dist loadscope --no-loadscope-reorder keeps this order).
FIRST = ("tests/test_site.py", "tests/test_install.py")


def pytest_collection_modifyitems(items):
    """Each file's tests keep their order (a notebook's cells run in order in one kernel)."""
    items.sort(key=lambda item: not item.nodeid.startswith(FIRST))


def site_summary() -> list[str]:
    """The site test's numbers, from the file each worker that opened pages wrote."""
    build, pages = None, {}
    for path in ARTIFACTS.glob("site-measurements-*.json"):
        if path.stat().st_mtime < SESSION_START:
            continue  # an earlier run's
        record = json.loads(path.read_text(encoding="utf-8"))
        build = record["build_s"] if record["build_s"] is not None else build
        pages.update(record["pages"])
    if not pages:
        return []
    lines = [f"{len(pages)} pages opened in Chromium"
             + (f"; the build took {build:.1f} s" if build is not None else "")]
    timed = {name: times for name, times in pages.items() if times[0] is not None}
    if timed:
        first = max(timed, key=lambda name: timed[name][0])
        median = sorted(t[0] for t in timed.values())[len(timed) // 2]
        lines.append(f"slowest page to a typeset first screen: {first}, "
                     f"{timed[first][0] * 1000:.0f} ms from navigation start; median "
                     f"{median * 1000:.0f} ms over the {len(timed)} pages with math")
        read = {name: t[1] for name, t in timed.items() if t[1] is not None}
        if read:
            last = max(read, key=read.get)
            lines.append(f"slowest page to every formula typeset, reading to the end: {last}, "
                         f"{read[last] * 1000:.0f} ms")
        # MathJax typesets in requestIdleCallback; on a busy machine a formula can wait there
        # until the page moves again (tests/browser_checks.py, READ_TO_END's return pass).
        revisited = {name: t[2] for name, t in timed.items() if t[2]}
        if revisited:
            waits = [ms for name in revisited for ms in revisited[name]]
            lines.append(f"formulas typeset only when brought back into view: {len(waits)} on "
                         f"{len(revisited)} pages; longest wait {max(waits)} ms "
                         f"({max(revisited, key=lambda name: max(revisited[name]))})")
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The site test's measured times as a "site test" section, shown even with -q."""
    lines = site_summary()
    if lines:
        terminalreporter.section("site test")
        for line in lines:
            terminalreporter.write_line(line)
