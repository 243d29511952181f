"""What tests/test_site.py checks on a page open in Chromium: the checks, apart from the tests.

``inspect_page(visit, url, site_root)`` loads a page in a fresh browser context and returns
what is wrong with it (an empty list when nothing is) and when its first screen was drawn;
test_site.py runs it on every page of the book, and on a deliberately broken page to prove
each check fires. benchmarks/book.py uses Visit and the WATCH_PAGE timing too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

VIEWPORT = {"width": 1280, "height": 900}
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
TIMEOUT_MS = 15_000

# Runs before any page script. Every formula is MathML written at build time (_ext/mathml.py)
# and needs no script; a page with a formula left to MathJax (a listed fallback) loads
# MathJax, which this watches: the page configures it with `window.MathJax = {...}` and the
# MathJax script then replaces that object by itself; the setter wraps the configuration's
# startup.pageReady (MathJax's typeset pass) to note when it ends, in ms since navigation
# start. `drawnMs` is when the first screen is drawn with its formulas: the document parsed,
# its fonts (the math font, preloaded) loaded, MathJax done if the page has it, then a frame
# painted.
WATCH_PAGE = """
window.__mcv = {mathjax: false, typesetMs: null, typesetError: null, drawnMs: null};
(() => {
  let value;
  Object.defineProperty(window, "MathJax", {configurable: true, enumerable: true,
    get() { return value; },
    set(v) {
      if (v && typeof v === "object" && !v.version) {
        const startup = v.startup || {};
        const pageReady = startup.pageReady;
        v.startup = Object.assign({}, startup, {pageReady() {
          const run = pageReady ? pageReady() : window.MathJax.startup.defaultPageReady();
          return Promise.resolve(run).then(
            () => { window.__mcv.typesetMs = performance.now(); },
            (err) => { window.__mcv.typesetError = String(err); throw err; });
        }});
      }
      value = v;
    }});
})();
document.addEventListener("DOMContentLoaded", async () => {
  window.__mcv.mathjax = !!document.querySelector("script[src*='mathjax']");
  void document.body.offsetHeight;  // a layout: the fonts the first screen uses start loading
  await document.fonts.ready;
  if (window.__mcv.mathjax) {
    while (window.__mcv.typesetMs === null && window.__mcv.typesetError === null) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  window.__mcv.drawnMs = performance.now();
});
"""

DRAWN = """() => document.readyState === "complete" && window.__mcv.drawnMs !== null"""

MATH_FONT = "MCV Math"  # _static/mathml.css

# Every formula of the page as a reader meets it, with every solution dropdown open:
# - each <math> drawn with a box (width and height above zero) wherever it is shown (in the
#   article always; in a sidebar when the sidebar shows it), and no <merror> in it;
# - each div.math holds its <math>, or is a fallback (.mathml-fallback) MathJax typeset;
# - the fallbacks' TeX, for the test to compare with _config.yml's list;
# - MathJax's own errors on a fallback (mjx-merror, an undefined macro in red);
# - text outside code and math that still looks like TeX;
# - the math font: loaded (not a system font in its place) on a page with math.
FIND_MATH_PROBLEMS = r"""async (font) => {
  document.querySelectorAll("details:not([open])").forEach((d) => { d.open = true; });
  document.querySelectorAll(".toggle-hidden").forEach((t) => t.classList.remove("toggle-hidden"));
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const text = (el) => el.textContent.replace(/\s+/g, " ").trim().slice(0, 100);
  // (MathJax's own hidden copy of a fallback, mjx-assistive-mml, is not drawn MathML)
  const maths = Array.from(document.querySelectorAll("math"))
    .filter((m) => !m.closest("mjx-assistive-mml"));
  const shown = (el) => !!el.closest("article") || el.getClientRects().length > 0;
  const boxless = maths.filter(shown).filter((m) => {
    const box = m.getBoundingClientRect();
    return !(box.width > 0 && box.height > 0);
  }).map(text);
  const merrors = maths.flatMap((m) => Array.from(m.querySelectorAll("merror"))).map(text);
  const fallbacks = Array.from(document.querySelectorAll(".mathml-fallback"));
  const notMath = Array.from(document.querySelectorAll("div.math, span.math"))
    .filter((el) => !el.classList.contains("mathml-fallback") && !el.querySelector("math"))
    .map(text);
  const untypeset = fallbacks.filter((el) => !el.querySelector("mjx-container")).map(text);
  // The TeX of a fallback, from MathJax's list of the math it found (or the element's text).
  const items = (window.MathJax && MathJax.startup && MathJax.startup.document &&
                 Array.from(MathJax.startup.document.math || [])) || [];
  const source = (el) => {
    const root = el.closest("mjx-container");
    const item = items.find((i) => i.typesetRoot === root);
    return item ? JSON.stringify(item.math.trim().slice(0, 120)) : "(source unknown)";
  };
  const fallbackTex = fallbacks.map((el) => el.dataset.tex || "(no data-tex)");
  const mjxErrors = Array.from(document.querySelectorAll("mjx-merror"))
    .map((el) => (el.getAttribute("data-mjx-error") || "error") + " in " + source(el));
  // MathJax's noundefined extension shows an unknown macro as red text instead of an error;
  // the page's assistive MathML keeps it as <mtext>\\name</mtext>.
  const undefinedMacros = Array.from(document.querySelectorAll("mjx-assistive-mml mtext"))
    .filter((el) => /^\\[A-Za-z]+$/.test(el.textContent.trim()))
    .map((el) => el.textContent.trim() + " in " + source(el));
  const skip = "script, style, pre, code, kbd, samp, textarea, noscript, template, math, mjx-container, .highlight";
  const tex = /\$\$|\\(?:begin|end)\s*\{|\\[()\[\]]|\\[A-Za-z]{2,}|\$[^\s$][^$\n]{0,200}?[^\s$\\]\$|\$[^\s$]\$/;
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip)) continue;
    const m = node.data.match(tex);
    if (m) raw.push(node.data.slice(Math.max(0, m.index - 40), m.index + 60).replace(/\s+/g, " ").trim());
  }
  await document.fonts.ready;
  const faces = Array.from(document.fonts).filter((f) => f.family.replace(/"/g, "") === font);
  const fontStatus = faces.length ? faces.map((f) => f.status).join(",") : "not declared";
  return {count: maths.length, boxless, merrors, notMath, untypeset, fallbackTex, mjxErrors,
          undefinedMacros, raw, fontStatus};
}"""

IMAGES = """async () => {
  const imgs = Array.from(document.images);
  imgs.forEach((img) => { img.loading = "eager"; });
  await Promise.all(imgs.map((img) => img.complete ? null : new Promise((done) => {
    img.addEventListener("load", done); img.addEventListener("error", done); setTimeout(done, 5000);
  })));
  return imgs.map((img) => ({src: img.getAttribute("src"), alt: img.getAttribute("alt"),
                             ok: img.complete && img.naturalWidth > 0}));
}"""

LINKS = r"""() => Array.from(document.querySelectorAll("a[href]")).map((a) => ({
  href: a.getAttribute("href"), url: a.href, text: a.textContent.replace(/\s+/g, " ").trim().slice(0, 60)}))"""

ALT_IS_A_FILE_NAME = re.compile(r"\S+\.(png|jpe?g|gif|svg|webp)", re.IGNORECASE)


def playwright_timeout() -> type[Exception]:
    try:
        from playwright.sync_api import TimeoutError as timeout
    except ImportError:  # the fixtures skip before any check runs
        return TimeoutError
    return timeout


class Visit:
    """A fresh browser context and page (empty storage: a first visit), recording what a
    reader must never get: console errors, page errors, failed requests, requests that leave
    the machine (recorded, then blocked: the machine may well be offline)."""

    def __init__(self, browser: Any, name: str, javascript: bool = True) -> None:
        self.name = name
        self.javascript = javascript
        self.offsite: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport=VIEWPORT, service_workers="block",
                                           java_script_enabled=javascript)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.add_init_script(WATCH_PAGE)
        self.context.route(lambda url: not url.startswith(LOCAL_SCHEMES), lambda route: route.abort())
        self.context.on("request", self._on_request)
        self.page = self.context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("requestfailed", self._on_failed)

    def _on_request(self, request: Any) -> None:
        if not request.url.startswith(LOCAL_SCHEMES):
            self.offsite.append(request.url)

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            where = (message.location or {}).get("url", "")
            self.errors.append(f"console error: {message.text}" + (f" (at {where})" if where else ""))

    def _on_failed(self, request: Any) -> None:
        if not self.javascript and request.resource_type == "script" and request.failure == "csp":
            return  # a visit with scripts off: the browser refuses every script, by design
        if request.url.startswith(LOCAL_SCHEMES):
            self.errors.append(f"request failed: {request.url} ({request.failure})")

    def recorded_problems(self) -> list[str]:
        return self.errors + [f"request left the machine: {url}" for url in self.offsite]

    def screenshot(self, folder: Path, name: str) -> Path | str:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name.replace('/', '--')}.png"
        try:
            self.page.screenshot(path=path, full_page=True)
        except Exception as exc:  # noqa: BLE001 - a failed screenshot must not hide the failure
            return f"{path} (not written: {exc})"
        return path

    def __enter__(self) -> Visit:
        return self

    def __exit__(self, *exc: object) -> None:
        self.context.close()


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if value and (key == "id" or (tag == "a" and key == "name")):
                self.ids.add(value)


_IDS: dict[Path, set[str]] = {}


def ids_in(path: Path) -> set[str]:
    if path not in _IDS:
        parser = _Ids()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        _IDS[path] = parser.ids
    return _IDS[path]


def broken_link(url: str, href: str, site_root: Path) -> str | None:
    """Why an internal (file:) link does not resolve, or None. External links are not
    followed: they are not requests, and the test must not need a network."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    target = Path(unquote(parts.path))
    if target.is_dir():
        target = target / "index.html"
    root = site_root.resolve()
    try:
        shown = target.resolve().relative_to(root)
    except ValueError:
        return f"link {href!r} leaves the built site (to {target})"
    if not target.is_file():
        return f"link {href!r}: no file {shown}"
    anchor = unquote(parts.fragment)
    if anchor and target.suffix == ".html" and anchor not in ids_in(target):
        return f"link {href!r}: no id {anchor!r} in {shown}"
    return None


@dataclass
class PageReport:
    problems: list[str] = field(default_factory=list)
    drawn_s: float | None = None  # navigation start -> the first screen drawn, formulas and all
    formulas: int = 0  # <math> elements on the page
    fallbacks: list[str] = field(default_factory=list)  # TeX of formulas left to MathJax


def inspect_page(visit: Visit, url: str, site_root: Path,
                 listed_fallbacks: dict[str, str] | None = None) -> PageReport:
    """Open url and report every problem a reader would meet on it. A formula left to MathJax
    is a problem unless its TeX is a key of listed_fallbacks (_config.yml's mathml_fallbacks)."""
    page = visit.page
    report = PageReport()
    problems = report.problems
    page.goto(url, wait_until="load")
    try:
        page.wait_for_function(DRAWN)
    except playwright_timeout():
        problems.append(f"the first screen was not drawn within {TIMEOUT_MS / 1000:.0f} s "
                        "(fonts, or MathJax on a page with a fallback)")
    state = page.evaluate("() => window.__mcv")
    if state["typesetError"] is not None:
        problems.append(f"MathJax failed: {state['typesetError']}")
    if state["drawnMs"] is not None:
        report.drawn_s = state["drawnMs"] / 1000

    math = page.evaluate(FIND_MATH_PROBLEMS, MATH_FONT)
    report.formulas = math["count"]
    report.fallbacks = [t.strip() for t in math["fallbackTex"]]
    problems += [f"formula drawn with an empty box: {t!r}" for t in math["boxless"]]
    problems += [f"formula failed (merror): {t!r}" for t in math["merrors"]]
    problems += [f"math element without MathML: {t!r}" for t in math["notMath"]]
    problems += [f"formula left to MathJax and not typeset: {t!r}" for t in math["untypeset"]]
    listed = listed_fallbacks or {}
    problems += [f"formula left to MathJax and not listed in mathml_fallbacks (_config.yml): "
                 f"{' '.join(t.split())!r}" for t in report.fallbacks if t not in listed]
    problems += [f"formula failed (mjx-merror): {m}" for m in math["mjxErrors"]]
    problems += [f"undefined TeX macro in a formula: {m}" for m in math["undefinedMacros"]]
    problems += [f"raw TeX in the text: {t!r}" for t in math["raw"]]
    if math["count"] and math["fontStatus"] != "loaded":
        problems.append(f"the math font {MATH_FONT!r} is {math['fontStatus']}, not loaded: "
                        "the formulas are drawn in whatever font the system has")

    for image in page.evaluate(IMAGES):
        src = image["src"]
        alt = (image["alt"] or "").strip()
        if not image["ok"]:
            problems.append(f"image did not load: {src}")
        if not alt:
            problems.append(f"image has no alt text: {src}")
        elif alt == src or ALT_IS_A_FILE_NAME.fullmatch(alt):
            problems.append(f"image's alt text is only its file name: {src} (a notebook figure "
                            "gets real alt text from the cell metadata mystnb: image: alt: ...)")

    for link in page.evaluate(LINKS):
        why = broken_link(link["url"], link["href"], site_root)
        if why:
            problems.append(f"{why} (link text {link['text']!r})")

    problems += visit.recorded_problems()
    return report
