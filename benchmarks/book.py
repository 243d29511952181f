"""How fast the book is for readers and for authors: one command, one table.

    python benchmarks/book.py            # everything (about 8 minutes on 2 cores)
    python benchmarks/book.py --quick    # the pages only (needs a built site)
    python benchmarks/book.py --quick --against /tmp/old-html   # A/B against an earlier build

Rows: a build from scratch into a temporary copy (every notebook executed), a no-change
rebuild (the execution cache reused), `pytest` serially (-n 0) and on both cores (the
README's command), and, per page of the TOC, the time from navigation to a typeset first
screen and to every formula typeset when the page is read to the end (headless Chromium,
median of 3 visits; the site test's own measurement, tests/browser_checks.py). Times are
wall-clock on this machine; they vary with load, so the table states the load average.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def timed(command: list[str], cwd: Path) -> float:
    """Seconds to run ``command``; its output goes to a log file (test-artifacts/)."""
    log = ROOT / "test-artifacts" / "benchmark-book.log"
    log.parent.mkdir(exist_ok=True)
    start = time.perf_counter()
    with open(log, "a", encoding="utf-8") as sink:
        sink.write(f"\n$ {' '.join(command)}\n")
        sink.flush()
        done = subprocess.run(command, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed; its output is in {log}")
    return time.perf_counter() - start


def builds() -> list[tuple[str, float]]:
    book = Path(sys.executable).with_name("jupyter-book")
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "book"
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
            ".venv", "_build", ".git", "test-artifacts", ".hypothesis", "__pycache__"))
        scratch = timed([str(book), "build", "."], copy)
        again = timed([str(book), "build", "."], copy)
    return [("build from scratch (every notebook executed)", scratch),
            ("no-change rebuild (execution cache reused)", again)]


def suites() -> list[tuple[str, float]]:
    pytest = [sys.executable, "-m", "pytest", "-q"]
    serial = timed(pytest + ["-n", "0"], ROOT)
    parallel = timed(pytest, ROOT)
    return [("pytest, serially (-n 0)", serial), ("pytest, both cores (the README's command)",
                                                 parallel)]


def pages(sites: list[Path], visits: int = 3) -> list[tuple[str, list[float], list[float]]]:
    """(page, median first-screen s, median every-formula s per site) for every TOC page.
    With several sites (--against), their visits are interleaved: the machine's drift over
    the run then falls on each alike."""
    from playwright.sync_api import sync_playwright

    from browser_checks import Visit, inspect_page
    from test_site import CHROMIUM_FLAGS, DOCNAMES

    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                             args=CHROMIUM_FLAGS)
        for name in DOCNAMES:
            first: list[list[float]] = [[] for _ in sites]
            every: list[list[float]] = [[] for _ in sites]
            for _ in range(visits):
                for i, html in enumerate(sites):
                    with Visit(browser, name) as visit:
                        report = inspect_page(visit, (html / f"{name}.html").as_uri(), html)
                    if report.typeset_s is not None:
                        first[i].append(report.typeset_s)
                        every[i].append(report.all_math_s or report.typeset_s)
            if all(first):
                rows.append((name, [statistics.median(f) for f in first],
                             [statistics.median(e) for e in every]))
        browser.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the pages only")
    parser.add_argument("--against", type=Path, metavar="HTML",
                        help="another built site (e.g. a copy of _build/html made before a "
                             "change): its pages are measured too, interleaved with these")
    arguments = parser.parse_args()
    load = os.getloadavg()[0]
    rows = [] if arguments.quick else builds() + suites()
    print(f"# The book's speed ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, load "
          f"average {load:.1f} at the start)\n")
    if rows:
        print("| what | seconds |\n|---|---:|")
        for what, seconds in rows:
            print(f"| {what} | {seconds:.1f} |")
        print()
    sites = [ROOT / "_build" / "html"] + ([arguments.against] if arguments.against else [])
    page_rows = pages(sites)
    if arguments.against:
        print(f"this site / {arguments.against}, medians of 3 interleaved visits\n")
    print("| page | first screen typeset (s) | every formula typeset, read to the end (s) |")
    print("|---|---:|---:|")
    for name, first, every in sorted(page_rows, key=lambda r: -r[1][0]):
        print(f"| {name} | {' / '.join(f'{s:.2f}' for s in first)} "
              f"| {' / '.join(f'{s:.2f}' for s in every)} |")
    slowest = max(page_rows, key=lambda r: r[1][0])
    print(f"\nslowest first screen: {slowest[0]}, {slowest[1][0]:.2f} s (target: at most 1 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
