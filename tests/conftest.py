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
    timed = {name: record for name, record in pages.items() if record[0] is not None}
    if timed:
        slowest = max(timed, key=lambda name: timed[name][0])
        median = sorted(r[0] for r in timed.values())[len(timed) // 2]
        lines.append(f"slowest page to a drawn first screen (formulas and fonts): {slowest}, "
                     f"{timed[slowest][0] * 1000:.0f} ms from navigation start; median "
                     f"{median * 1000:.0f} ms over {len(timed)} pages")
    formulas = sum(record[1] for record in pages.values())
    fallbacks = [tex for record in pages.values() for tex in record[2]]
    lines.append(f"{formulas} formulas drawn as MathML; {len(fallbacks)} left to MathJax"
                 + (f" (listed in _config.yml): {fallbacks}" if fallbacks else ""))
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The site test's measured times as a "site test" section, shown even with -q."""
    lines = site_summary()
    if lines:
        terminalreporter.section("site test")
        for line in lines:
            terminalreporter.write_line(line)
