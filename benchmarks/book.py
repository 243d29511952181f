"""How fast the book is for readers and for authors: one command, one table.

    python benchmarks/book.py            # everything (about 8 minutes on 2 cores)
    python benchmarks/book.py --quick    # the pages only (needs a built site)
    python benchmarks/book.py --quick --against /tmp/old-html   # before/after, one run
    python benchmarks/book.py --quick --against /tmp/old-html --screenshots  # and side by side

Rows: a build from scratch into a temporary copy (every notebook executed), a no-change
rebuild (the execution cache reused), `pytest` serially (-n 0) and on both cores (the
README's command). Then, per page of the TOC, in headless Chromium (median of 3 visits, each a
first visit): the time from navigation to the first screen drawn, formulas and fonts included
(tests/browser_checks.py's WATCH_PAGE: the document parsed, its fonts loaded, MathJax's first
pass done on a page that loads MathJax, a frame painted); the same for the page's
formula-free twin (its copy with every formula taken out, in a copy of the site: the same
HTML, CSS and scripts otherwise) and the ratio of the two; the page's weight (every file
it loads, and its HTML alone); its DOM size (elements, every formula drawn). With --against,
another built site (e.g. the book before a change) is measured in the same run, visits
interleaved, so the machine's drift falls on both alike. --screenshots writes every page of
both sites side by side (full page; the other site left, this one right) into
test-artifacts/renderers/. Times are wall-clock on this machine; they vary with load, so the
table states the load average.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

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


# Every formula taken out of a page: MathML (this book's renderer) or MathJax's markup (an
# older build: its inline math, its displayed math and MathJax itself).
_FORMULA = re.compile(r"<div class=\"math notranslate nohighlight\"[^>]*>.*?</div>|<math\b.*?"
                      r"</math>|<span class=\"math notranslate nohighlight\">.*?</span>", re.S)
_MATHJAX = re.compile(r"<script[^>]*>window\.MathJax = .*?</script>|<script[^>]*mathjax[^>]*>"
                      r"</script>|<script>\(function \(l\) \{ l\.rel = \"preload\".*?</script>", re.S)


def formula_free_twins(site: Path, into: Path) -> Path:
    """A copy of site whose pages have no formula (nor MathJax, nor the math font's preload)."""
    shutil.copytree(site, into)
    for page in into.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        html = _MATHJAX.sub("", _FORMULA.sub("", html))
        page.write_text(html, encoding="utf-8")
    return into


# After the first screen: every formula drawn (an older build's lazy MathJax typesets the rest
# when the page is printed), then the page's size.
ALL_DRAWN_SIZE = """async () => {
  if (window.MathJax && document.querySelector("mjx-lazy")) {
    window.dispatchEvent(new Event("beforeprint"));
    const until = performance.now() + 20000;
    while (document.querySelector("mjx-lazy") && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return document.getElementsByTagName("*").length;
}"""


def visit_page(browser: Any, url: str, shot: Path | None = None) -> dict[str, Any]:
    from browser_checks import DRAWN, Visit

    loaded: list[str] = []
    with Visit(browser, "benchmark") as visit:
        visit.page.on("requestfinished", lambda request: loaded.append(request.url))
        visit.page.goto(url, wait_until="load")
        visit.page.wait_for_function(DRAWN, timeout=60_000)
        drawn = visit.page.evaluate("() => window.__mcv.drawnMs") / 1000
        elements = visit.page.evaluate(ALL_DRAWN_SIZE)
        if shot is not None:
            visit.screenshot(shot.parent, shot.stem)
    files = {unquote(urlsplit(u).path) for u in loaded if u.startswith("file:")}
    weight = sum(Path(f).stat().st_size for f in files if Path(f).is_file())
    return {"drawn": drawn, "elements": elements, "weight": weight,
            "html": Path(unquote(urlsplit(url).path)).stat().st_size}


def pages(sites: list[Path], visits: int = 3, screenshots: bool = False) -> list[dict[str, Any]]:
    """Per TOC page and site: medians of the first screen drawn, of the formula-free twin's,
    and the page's weight and DOM size. Visits of the sites and twins interleaved."""
    from playwright.sync_api import sync_playwright

    from test_site import CHROMIUM_FLAGS, DOCNAMES

    rows = []
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        twins = [formula_free_twins(html, Path(folder) / f"twin{i}") for i, html in enumerate(sites)]
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                             args=CHROMIUM_FLAGS)
        for name in DOCNAMES:
            seen: dict[tuple[int, str], list[dict[str, Any]]] = {}
            for _ in range(visits):
                for i, (html, twin) in enumerate(zip(sites, twins)):
                    for kind, root in (("page", html), ("twin", twin)):
                        seen.setdefault((i, kind), []).append(
                            visit_page(browser, (root / f"{name}.html").as_uri()))
            if screenshots:
                shots = [ROOT / "test-artifacts" / "renderers" / f"{name.replace('/', '--')}-{i}.png"
                         for i in range(len(sites))]
                for html, shot in zip(sites, shots):
                    visit_page(browser, (html / f"{name}.html").as_uri(), shot)
                side_by_side(shots[::-1], shots[0].with_name(f"{name.replace('/', '--')}.png"))
            median = lambda i, kind, key: statistics.median(v[key] for v in seen[(i, kind)])
            rows.append({"name": name, "sites": [
                {"drawn": median(i, "page", "drawn"), "twin": median(i, "twin", "drawn"),
                 "weight": median(i, "page", "weight"), "html": median(i, "page", "html"),
                 "elements": median(i, "page", "elements")} for i in range(len(sites))]})
        browser.close()
    return rows


def side_by_side(shots: list[Path], out: Path) -> None:
    """The screenshots next to each other (the other site first), tops aligned; the parts are
    removed."""
    from PIL import Image

    images = [Image.open(shot) for shot in shots]
    canvas = Image.new("RGB", (sum(i.width for i in images) + 8 * (len(images) - 1),
                               max(i.height for i in images)), "#888888")
    x = 0
    for image in images:
        canvas.paste(image, (x, 0))
        x += image.width + 8
    canvas.save(out, optimize=True)
    for shot in shots:
        shot.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the pages only")
    parser.add_argument("--against", type=Path, metavar="HTML",
                        help="another built site (e.g. a copy of _build/html made before a "
                             "change): its pages are measured too, interleaved with these")
    parser.add_argument("--visits", type=int, default=3, help="visits of each page (median)")
    parser.add_argument("--screenshots", action="store_true",
                        help="every page of both sites side by side, in test-artifacts/renderers/")
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
    rows = pages(sites, visits=arguments.visits, screenshots=arguments.screenshots)
    if arguments.against:
        print(f"each cell: this site / {arguments.against}; medians of {arguments.visits} "
              "interleaved visits\n")
    print("| page | first screen drawn (s) | its formula-free twin (s) | ratio | weight, every "
          "file (kB) | HTML (kB) | DOM elements, every formula drawn |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    both = lambda row, fmt, key: " / ".join(fmt(site[key]) for site in row["sites"])
    for row in sorted(rows, key=lambda r: -r["sites"][0]["drawn"]):
        print(f"| {row['name']} | {both(row, '{:.2f}'.format, 'drawn')} "
              f"| {both(row, '{:.2f}'.format, 'twin')} "
              f"| {' / '.join(format(s['drawn'] / s['twin'], '.2f') for s in row['sites'])} "
              f"| {both(row, lambda b: f'{b / 1024:.0f}', 'weight')} "
              f"| {both(row, lambda b: f'{b / 1024:.0f}', 'html')} "
              f"| {both(row, '{:.0f}'.format, 'elements')} |")
    for i, site in enumerate(sites):
        slowest = max(rows, key=lambda r: r["sites"][i]["drawn"])
        free = min(rows, key=lambda r: r["sites"][i]["twin"])
        worst = max(rows, key=lambda r: r["sites"][i]["drawn"] / r["sites"][i]["twin"])
        s_, f_, w_ = slowest["sites"][i], free["sites"][i], worst["sites"][i]
        print(f"\n{site}: slowest first screen {slowest['name']}, {s_['drawn']:.2f} s; "
              f"{s_['drawn'] / f_['twin']:.2f}x the fastest formula-free page "
              f"({free['name']}'s twin, {f_['twin']:.2f} s); the largest ratio of a page to its "
              f"own twin {w_['drawn'] / w_['twin']:.2f} ({worst['name']}). Target: 1.5x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
