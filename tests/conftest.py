"""Shared pytest set-up: hypothesis runs the same examples on every machine (a red CI is real)."""

from hypothesis import settings

settings.register_profile("book", derandomize=True, deadline=None, database=None,
                          max_examples=30, print_blob=True)
settings.load_profile("book")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The site test's measured times (tests/test_site.py writes them, in whichever worker
    ran it), as a "site test" section of pytest's summary, shown even with -q."""
    from pathlib import Path

    summary = Path(__file__).resolve().parents[1] / "test-artifacts" / "site-summary.txt"
    if summary.is_file() and summary.stat().st_mtime >= _SESSION_START:
        terminalreporter.section("site test")
        for line in summary.read_text(encoding="utf-8").splitlines():
            terminalreporter.write_line(line)


import time as _time  # noqa: E402

_SESSION_START = _time.time()
