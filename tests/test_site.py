"""The website, tested the way a reader sees it: every page of the TOC in headless Chromium.

The book is built once per session (``jupyter-book build .``, reusing the execution cache).
Then every page listed in ``_toc.yml`` is opened from disk (``file://``, as the README tells
readers to) in Debian's Chromium, driven by Playwright through ``executable_path`` (no browser
download), each in a fresh browser context (a first visit). On each page (browser_checks.py):

- every formula is MathML written at build time (_ext/mathml.py): each ``<math>`` is drawn
  with a non-zero box (every solution dropdown opened), none holds an ``<merror>``, every
  ``div.math`` holds its ``<math>``, and the math font (STIX Two Math, _static/fonts/) is
  loaded rather than replaced by whatever the system has; a formula left to MathJax (class
  ``mathml-fallback``) must be listed in _config.yml's ``mathml_fallbacks`` with its reason,
  and typeset by MathJax without error; no raw TeX (``$$``, ``\\begin{``, ``\\frac`` ...)
  is left in the text outside code and math;
- no request left the machine (every request is ``file:``; others are blocked and reported);
- no console error, page error or failed request;
- every image loaded (``naturalWidth > 0``) and has real alt text (not empty and not its file
  name, which is what a notebook figure gets when nobody wrote any);
- every internal link resolves: the file exists inside the built site and, for ``#anchor``,
  an element with that id exists in it;
- the time from navigation to the first screen drawn, formulas and all (the document, its
  fonts, a frame painted), is printed for the slowest page in pytest's summary ("site
  test"); measured, not bounded: on two busy workers it varies twofold; benchmarks/book.py
  measures it on an idle machine, against a formula-free page in the same run.

Also: dark mode and printing draw the formulas (on the page with the most of them); the
search page finds the Frobenius chapter; the "next" links walk the whole TOC in
order from the ``_build/html/index.html`` the README tells readers to open, and every
"previous" link leads to the page before; and the checks themselves catch each kind of
problem on a deliberately broken page.

On failure the page is saved as a screenshot under ``test-artifacts/`` (path in the message);
``MCV_SITE_SCREENSHOTS=1`` saves one of every page under ``test-artifacts/site/``. Without
Chromium (or Playwright) the tests are skipped with the install command, unless
``MCV_REQUIRE_BROWSER=1`` (CI sets it), and then they fail.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import yaml

from book_tools import build_book, unavailable
from browser_checks import PageReport, Visit, inspect_page, playwright_timeout

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
ARTIFACTS = ROOT / "test-artifacts"

# shared/DESIGN.md §7: the flags under which Debian's chromium runs headless on these machines.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
INSTALL_HINT = "install it with `sudo apt-get install chromium` (Debian/Ubuntu)"
SCREENSHOT_EVERY_PAGE = os.environ.get("MCV_SITE_SCREENSHOTS") == "1"


def toc_docnames() -> list[str]:
    """Every document of _toc.yml, in reading order (root first)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    names = [os.path.splitext(toc["root"])[0]]

    def walk(entries: list[dict[str, Any]] | None) -> None:
        for entry in entries or []:
            if "file" in entry:
                names.append(os.path.splitext(entry["file"])[0])
            walk(entry.get("sections"))

    for part in toc.get("parts") or []:
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    walk(toc.get("sections"))
    return names


DOCNAMES = toc_docnames()


def listed_fallbacks() -> dict[str, str]:
    """_config.yml's mathml_fallbacks: the TeX of each formula left to MathJax, its reason."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["sphinx"]["config"].get("mathml_fallbacks") or {}


LISTED_FALLBACKS = listed_fallbacks()
REPORTS: dict[str, PageReport] = {}
BUILD_SECONDS: list[float] = []


# ---------------------------------------------------------------- fixtures


def _unavailable(reason: str) -> None:
    unavailable(f"the site test needs Chromium: {reason}; {INSTALL_HINT}", "MCV_REQUIRE_BROWSER")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium (never a downloaded browser); skip, or fail in CI, without it."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the Python package playwright is missing (pip install -r requirements.txt)")
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _unavailable("there is no `chromium` on PATH")
    return str(path)


@pytest.fixture(scope="session")
def site(chromium_path: str) -> Path:
    """The book, built once per test run (reusing the execution cache); the html folder.

    pytest runs on two workers and both may open pages: the first to get here builds while
    the other waits on a lock, then finds this run's stamp and reuses the build (two builds
    into one _build/ would race)."""
    ARTIFACTS.mkdir(exist_ok=True)
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"serial-{os.getpid()}"
    stamp = ARTIFACTS / "site-build.run"
    with open(ARTIFACTS / "site-build.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text(encoding="utf-8") == run:
            return HTML
        stamp.unlink(missing_ok=True)
        log = ARTIFACTS / "site-build.log"
        text, seconds = build_book(log=log, timeout=1800)
        assert "build succeeded" in text, f"`jupyter-book build .` did not succeed; see {log}"
        BUILD_SECONDS.append(seconds)
        stamp.write_text(run, encoding="utf-8")
    return HTML


def write_measurements() -> None:
    """This worker's measured numbers, for pytest's terminal summary: the main process reads
    every worker's file and prints one "site test" section (tests/conftest.py)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    record = {"build_s": BUILD_SECONDS[0] if BUILD_SECONDS else None,
              "pages": {name: [r.drawn_s, r.formulas, r.fallbacks]
                        for name, r in REPORTS.items()}}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"site-measurements-{worker}.json").write_text(json.dumps(record),
                                                                encoding="utf-8")


@pytest.fixture(scope="session")
def browser(chromium_path: str, site: Path, pytestconfig: pytest.Config) -> Any:
    """One headless Chromium for the whole session; every test opens its own context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()
    write_measurements()


def fail_with_screenshot(visit: Visit, what: str, problems: list[str]) -> None:
    shot = visit.screenshot(ARTIFACTS, f"site-{visit.name}")
    listing = "\n".join(f"  - {p}" for p in problems)
    pytest.fail(f"{what}: {len(problems)} problem(s); screenshot of the page: {shot}\n{listing}",
                pytrace=False)


@contextlib.contextmanager
def screenshot_on_timeout(visit: Visit, what: str) -> Iterator[None]:
    """A step that never happens (a timeout) fails with the page's screenshot too."""
    try:
        yield
    except playwright_timeout() as exc:
        fail_with_screenshot(visit, what, [f"timed out: {str(exc).splitlines()[0]}"]
                             + visit.recorded_problems())


# ---------------------------------------------------------------- the tests


def check_page(browser: Any, site: Path, docname: str) -> None:
    """One page of the TOC, as a reader who opens it from disk sees it."""
    path = site / f"{docname}.html"
    assert path.is_file(), f"{docname} is in _toc.yml but the build wrote no {path}"
    with Visit(browser, docname) as visit, screenshot_on_timeout(visit, f"{docname}.html"):
        report = inspect_page(visit, path.as_uri(), site, LISTED_FALLBACKS)
        REPORTS[docname] = report
        if SCREENSHOT_EVERY_PAGE:
            visit.screenshot(ARTIFACTS / "site", docname)
        if report.problems:
            fail_with_screenshot(visit, f"{docname}.html", report.problems)


# The pages in two classes: pytest.ini's --dist loadscope makes each class a unit of work of
# its own, so the two workers read pages at the same time (every other page of the TOC each).
class TestPages:
    @pytest.mark.parametrize("docname", DOCNAMES[0::2])
    def test_page(self, browser: Any, site: Path, docname: str) -> None:
        check_page(browser, site, docname)


class TestMorePages:
    @pytest.mark.parametrize("docname", DOCNAMES[1::2])
    def test_page(self, browser: Any, site: Path, docname: str) -> None:
        check_page(browser, site, docname)


# The drawn formulas of the article, with a check of each: a box, and (asked with the
# colours) the same colour as the text around it. Details opened first (solutions).
ARTICLE_MATH = r"""() => {
  document.querySelectorAll("article details:not([open])").forEach((d) => { d.open = true; });
  const maths = Array.from(document.querySelectorAll("article math"));
  const text = getComputedStyle(document.querySelector("article p")).color;
  const background = getComputedStyle(document.body).backgroundColor;
  return {count: maths.length, text, background,
          boxless: maths.filter((m) => { const b = m.getBoundingClientRect();
                                         return !(b.width > 0 && b.height > 0); }).length,
          offColour: maths.filter((m) => getComputedStyle(m).color !== text).length};
}"""


def test_dark_mode_and_printing_draw_the_math(browser: Any, site: Path) -> None:
    """The page with the most formulas, in the theme's dark mode and as printed (print
    media): every formula is drawn with a box, in the text's colour (light on dark)."""
    page_name = "chapters/identities"
    with Visit(browser, "dark-and-print") as visit, screenshot_on_timeout(visit, "dark/print"):
        page = visit.page
        page.goto((site / f"{page_name}.html").as_uri(), wait_until="load")
        page.wait_for_function("() => window.__mcv.drawnMs !== null")
        problems = visit.recorded_problems()
        light = page.evaluate(ARTICLE_MATH)
        # the theme's own switch: its button cycles light -> dark -> auto
        page.evaluate("() => document.documentElement.dataset.theme = 'dark'")
        dark = page.evaluate(ARTICLE_MATH)
        if SCREENSHOT_EVERY_PAGE:
            (ARTIFACTS / "site").mkdir(parents=True, exist_ok=True)
            page.screenshot(path=ARTIFACTS / "site" / "dark--identities.png")
        page.evaluate("() => document.documentElement.dataset.theme = 'light'")
        page.emulate_media(media="print")  # printed as a first visit would print it
        printed = page.evaluate(ARTICLE_MATH)
        if SCREENSHOT_EVERY_PAGE:
            page.pdf(path=ARTIFACTS / "site" / "print--identities.pdf")
        if light["count"] < 100:
            problems.append(f"only {light['count']} formulas on {page_name}: the wrong page?")
        if dark["text"] == light["text"] or dark["background"] == light["background"]:
            problems.append(f"dark mode did not change the colours: {light} / {dark}")
        for mode, seen in (("light", light), ("dark", dark), ("print", printed)):
            if seen["count"] != light["count"] or seen["boxless"] or seen["offColour"]:
                problems.append(f"{mode}: {seen['count']} formulas, {seen['boxless']} without "
                                f"a box, {seen['offColour']} not in the text's colour "
                                f"{seen['text']}")
        if problems:
            fail_with_screenshot(visit, "dark mode and printing", problems)


def test_search_finds_the_frobenius_chapter(browser: Any, site: Path) -> None:
    """Searching "Frobenius" from the search box (Ctrl+K) lists chapters/frobenius_loss."""
    with Visit(browser, "search") as visit, screenshot_on_timeout(visit, "search for 'Frobenius'"):
        page = visit.page
        page.goto((site / f"{DOCNAMES[0]}.html").as_uri(), wait_until="load")
        page.keyboard.press("Control+k")  # the theme's search dialog
        page.keyboard.type("Frobenius")
        page.keyboard.press("Enter")
        page.wait_for_url("**/search.html?q=Frobenius*", wait_until="load")
        page.wait_for_function(
            """() => { const s = document.querySelector("#search-results .search-summary");
                       return s && /found|did not match/.test(s.textContent); }""")
        page.wait_for_timeout(300)  # the results are appended one by one, 5 ms apart
        hrefs = page.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.href)")
        problems = visit.recorded_problems()
        if not any(urlsplit(h).path.endswith("/chapters/frobenius_loss.html") for h in hrefs):
            problems.append(f"no result links to chapters/frobenius_loss.html; results: {hrefs}")
        if problems:
            fail_with_screenshot(visit, "search for 'Frobenius'", problems)


def test_previous_next_walk_the_whole_toc(browser: Any, site: Path) -> None:
    """From _build/html/index.html, "next" visits every TOC page in order, and on each page
    "previous" leads to the one before (its target read on the way, one click followed)."""
    expected = [(site / f"{d}.html").resolve() for d in DOCNAMES]

    def here(page: Any) -> Path:
        return Path(unquote(urlsplit(page.url).path)).resolve()

    def target(page: Any, selector: str) -> Path | None:
        link = page.query_selector(selector)
        if link is None:
            return None
        return Path(unquote(urlsplit(urljoin(page.url, link.get_attribute("href"))).path)).resolve()

    def click(page: Any, selector: str) -> None:
        goal = target(page, selector)
        page.click(selector)
        page.wait_for_url(goal.as_uri(), wait_until="domcontentloaded")

    def shown(paths: list[Path | None]) -> list[str]:
        return [os.path.relpath(p, site.resolve()) if p else "(none)" for p in paths]

    # Navigation only: the links are plain HTML, and with scripts off each page loads in a
    # fraction of the time (test_page checks every page with its scripts).
    with Visit(browser, "prev-next", javascript=False) as visit, \
            screenshot_on_timeout(visit, "previous/next navigation"):
        page = visit.page
        page.goto((site / "index.html").as_uri())
        page.wait_for_url(expected[0].as_uri(), wait_until="domcontentloaded")  # its redirect
        forward, previous = [here(page)], [target(page, "a.left-prev")]
        while page.query_selector("a.right-next") and len(forward) <= len(expected):
            click(page, "a.right-next")  # the length bound stops a cycle; the comparison shows it
            forward.append(here(page))
            previous.append(target(page, "a.left-prev"))
        problems = visit.recorded_problems()
        if forward != expected:
            problems.append(f"'next' walked {shown(forward)};\n    the TOC is {shown(expected)}")
        elif previous != [None, *expected[:-1]]:
            problems.append(f"'previous' leads to {shown(previous)};\n    expected "
                            f"{shown([None, *expected[:-1]])}")
        else:
            click(page, "a.left-prev")
            if here(page) != expected[-2]:
                problems.append(f"'previous' on the last page went to {shown([here(page)])}")
        if problems:
            fail_with_screenshot(visit, "previous/next navigation", problems)


# A 1x1 PNG, for the broken page below.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def test_the_checks_catch_a_broken_page(browser: Any, site: Path, tmp_path: Path) -> None:
    """A check that cannot fail proves nothing: every kind of problem on one bad page is found."""
    (tmp_path / "pixel.png").write_bytes(PIXEL)
    mathjax = (site / "_static" / "mathjax" / "tex-chtml.js").as_uri()
    (tmp_path / "bad.html").write_text(f"""<!DOCTYPE html>
<html><head><title>bad</title>
<style>@font-face {{ font-family: "MCV Math"; src: url("no-such-font.woff2") format("woff2"); }}
math {{ font-family: "MCV Math", math; }}</style>
<script>window.MathJax = {{"startup": {{"elements": [".mathml-fallback"]}}}}</script>
<script defer src="{mathjax}"></script></head>
<body><article>
<p id="here">Good: <math><msup><mi>x</mi><mn>2</mn></msup></math></p>
<p>Broken: <math><merror><mtext>x^^2</mtext></merror></math>, empty: <math></math></p>
<div class="math notranslate nohighlight">\\[a + b\\]</div>
<p>Left to MathJax, listed: <span class="math mathml-fallback" data-tex="\\sqrt{{y}}">\\(\\sqrt{{y}}\\)</span>;
not listed: <span class="math mathml-fallback" data-tex="z_1">\\(z_1\\)</span>;
failing: <span class="math mathml-fallback" data-tex="x^^2">\\(x^^2\\)</span>;
undefined: <span class="math mathml-fallback" data-tex="\\nosuchmacro{{x}}">\\(\\nosuchmacro{{x}}\\)</span></p>
<p class="tex2jax_ignore">Left raw: $$\\frac{{a}}{{b}}$$</p>
<img src="pixel.png" alt="A described pixel">
<img src="pixel.png">
<img src="pixel.png" alt="pixel.png">
<img src="missing.png" alt="A figure that is not there">
<img src="http://example.invalid/remote.png" alt="A figure from the network">
<a href="#here">fine</a> <a href="#nowhere">no anchor</a> <a href="gone.html">no file</a>
<a href="https://example.invalid/">external, not followed</a>
<script>console.error("a console error"); window.addEventListener("load", () => undefinedFunction());</script>
</article></body></html>""", encoding="utf-8")
    listed = {"\\sqrt{y}": "an example of a listed fallback"}
    with Visit(browser, "broken-example") as visit:
        report = inspect_page(visit, (tmp_path / "bad.html").as_uri(), tmp_path, listed)
    found = "\n".join(report.problems)
    expected = {
        "formula failed (merror): 'x^^2'": 1,
        "formula drawn with an empty box: ''": 1,
        "math element without MathML: '\\\\[a + b\\\\]'": 1,
        "formula left to MathJax and not listed in mathml_fallbacks (_config.yml): 'z_1'": 1,
        "formula left to MathJax and not listed in mathml_fallbacks (_config.yml): 'x^^2'": 1,
        "formula failed (mjx-merror): Missing open brace for superscript in \"x^^2\"": 1,
        "undefined TeX macro in a formula: \\nosuchmacro in \"\\\\nosuchmacro{x}\"": 1,
        "raw TeX in the text: 'Left raw: $$\\\\frac{a}{b}$$": 1,
        "the math font 'MCV Math' is error, not loaded": 1,
        "image has no alt text: pixel.png": 1,
        "image's alt text is only its file name: pixel.png": 1,
        "image did not load: missing.png": 1,
        "image did not load: http://example.invalid/remote.png": 1,
        "link '#nowhere': no id 'nowhere' in bad.html": 1,
        "link 'gone.html': no file gone.html": 1,
        "console error: a console error": 1,
        "page error: undefinedFunction is not defined": 1,
        "request failed: file://": 2,  # the missing image and the missing font
        "request left the machine: http://example.invalid/remote.png": 1,
    }
    missing = [f"{what} (x{n})" for what, n in expected.items()
               if sum(p.startswith(what) for p in report.problems) != n]
    assert not missing, "the checks missed or repeated:\n  " + "\n  ".join(missing) + f"\nthey found:\n{found}"
    assert report.drawn_s is not None, "the time to a drawn first screen was not measured"
    assert report.fallbacks == ["\\sqrt{y}", "z_1", "x^^2", "\\nosuchmacro{x}"], report.fallbacks
    assert "sqrt" not in found and "'fine'" not in found and "external" not in found, found
