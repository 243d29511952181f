"""What tests/test_site.py checks on a page open in Chromium: the checks, apart from the tests.

``inspect_page(visit, url, site_root)`` loads a page in a fresh browser context and returns
what is wrong with it (an empty list when nothing is) and how long MathJax took; test_site.py
runs it on every page of the book, and on a deliberately broken page to prove each check fires.
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

# Runs before any page script. The page configures MathJax with `window.MathJax = {...}` and
# the MathJax script then replaces that object by itself; the setter wraps the configuration's
# startup.pageReady (MathJax's initial typeset pass) to note when it starts and ends, in ms
# since navigation start. `expected` says whether the page loads MathJax at all.
WATCH_MATHJAX = """
window.__mcv = {expected: false, typesetStartMs: null, typesetMs: null, typesetError: null};
(() => {
  let value;
  Object.defineProperty(window, "MathJax", {configurable: true, enumerable: true,
    get() { return value; },
    set(v) {
      if (v && typeof v === "object" && !v.version) {
        const startup = v.startup || {};
        const pageReady = startup.pageReady;
        v.startup = Object.assign({}, startup, {pageReady() {
          window.__mcv.typesetStartMs = performance.now();
          const run = pageReady ? pageReady() : window.MathJax.startup.defaultPageReady();
          return Promise.resolve(run).then(
            () => { window.__mcv.typesetMs = performance.now(); },
            (err) => { window.__mcv.typesetError = String(err); throw err; });
        }});
      }
      value = v;
    }});
})();
document.addEventListener("DOMContentLoaded", () => {
  window.__mcv.expected = !!document.querySelector("script[src*='mathjax']");
});
"""

TYPESET_DONE = """() => document.readyState === "complete" &&
  (!window.__mcv.expected || window.__mcv.typesetMs !== null || window.__mcv.typesetError !== null)"""

# Text outside code that still looks like TeX; math elements MathJax did not replace; and
# formulas MathJax could not typeset (mjx-merror, with MathJax's message).
FIND_TEX_PROBLEMS = r"""() => {
  const skip = "script, style, pre, code, kbd, samp, textarea, noscript, template, mjx-container, .highlight";
  const tex = /\$\$|\\(?:begin|end)\s*\{|\\[()\[\]]|\\[A-Za-z]{2,}|\$[^\s$][^$\n]{0,200}?[^\s$\\]\$|\$[^\s$]\$/;
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip)) continue;
    const m = node.data.match(tex);
    if (m) raw.push(node.data.slice(Math.max(0, m.index - 40), m.index + 60).replace(/\s+/g, " ").trim());
  }
  const untypeset = Array.from(document.querySelectorAll(".math"))
    .filter((el) => !el.querySelector("mjx-container"))
    .map((el) => el.textContent.replace(/\s+/g, " ").trim().slice(0, 100));
  // The TeX source of a typeset formula, from MathJax's list of the math it found.
  const items = (window.MathJax && MathJax.startup && MathJax.startup.document &&
                 Array.from(MathJax.startup.document.math || [])) || [];
  const source = (el) => {
    const root = el.closest("mjx-container");
    const item = items.find((i) => i.typesetRoot === root);
    return item ? JSON.stringify(item.math.trim().slice(0, 120)) : "(source unknown)";
  };
  const merrors = Array.from(document.querySelectorAll("mjx-merror"))
    .map((el) => (el.getAttribute("data-mjx-error") || "error") + " in " + source(el));
  // MathJax's noundefined extension shows an unknown macro as red text instead of an error;
  // the page's assistive MathML keeps it as <mtext>\\name</mtext>.
  const undefinedMacros = Array.from(document.querySelectorAll("mjx-assistive-mml mtext"))
    .filter((el) => /^\\[A-Za-z]+$/.test(el.textContent.trim()))
    .map((el) => el.textContent.trim() + " in " + source(el));
  return {raw, untypeset, merrors, undefinedMacros};
}"""

# Lazy typesetting (ui/lazy) typesets a formula when it comes near the viewport. A reader who
# opens every solution dropdown and scrolls to the end sees every displayed formula typeset:
# this does that, one screen at a time, waiting at each until the displayed formulas on the
# screen are done, and returns when it reached the end and how many displayed
# formulas of the article stayed untypeset. (A formula outside the article, e.g. in the page's
# table of contents, is typeset when it is shown; PRINT_ALL covers those.)
READ_TO_END = """async () => {
  document.querySelectorAll("details:not([open])").forEach((d) => { d.open = true; });
  document.querySelectorAll(".toggle-hidden").forEach((t) => t.classList.remove("toggle-hidden"));
  // Polled every 50 ms: MathJax typesets in requestIdleCallback, which a busier poll starves.
  const tick = () => new Promise((r) => setTimeout(r, 50));
  // The article's formulas; those of the page's own table of contents (a sidebar that
  // scrolls by itself) are typeset when shown, and checked after PRINT_ALL like the rest.
  const shown = (lazy) => !!lazy.closest("article") &&
    lazy.closest("mjx-container").parentElement.getClientRects().length > 0;
  // On screen, as an IntersectionObserver (MathJax's own means) sees it: MathJax typesets what
  // comes within its lazyMargin (200px) of the screen, so whatever is on it must be done.
  // (Asking each formula for its position instead would force a layout of the whole page
  // at every step.)
  const onScreen = new Set();
  const observer = new IntersectionObserver((entries) => entries.forEach((e) => {
    if (e.isIntersecting) onScreen.add(e.target); else onScreen.delete(e.target);
  }));
  document.querySelectorAll("article mjx-lazy").forEach((l) => observer.observe(l.closest("mjx-container")));
  const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const waiting = () => [...onScreen].filter((c) => c.isConnected && c.querySelector("mjx-lazy")).length;
  // Wait at each screen while its formulas keep getting typeset. Rarely (about one load in
  // six of the affine chapter, formulas in a proof) MathJax leaves some until the page moves
  // again: after a second without progress the pass goes on, and the return pass below
  // brings every formula still untypeset back into view.
  let y = 0;
  do {
    window.scrollTo(0, y);
    await frames();  // the observers (MathJax's and ours) have seen the new screen
    let left = waiting(), since = performance.now();
    while (left > 0 && performance.now() - since < 1000) {
      await tick();
      const now = waiting();
      if (now < left) { left = now; since = performance.now(); }
    }
    y += innerHeight * 0.9;
  } while (y < document.documentElement.scrollHeight + innerHeight);
  // A formula shown only after the pass went by (a dropdown still opening): go back to it.
  const revisited = [];
  for (const lazy of [...document.querySelectorAll("mjx-lazy")].filter(shown)) {
    if (!lazy.isConnected) continue;
    lazy.closest("mjx-container").scrollIntoView({block: "center"});
    const start = performance.now();
    do { await tick(); } while (lazy.isConnected && performance.now() < start + 10000);
    revisited.push(Math.round(performance.now() - start));
  }
  observer.disconnect();
  return {doneMs: performance.now(),
          lazyLeft: [...document.querySelectorAll("mjx-lazy")].filter(shown).length, revisited};
}"""

# Printing typesets every formula, hidden ones included (MathJax's beforeprint handler): after
# it, every formula on the page can be checked for errors.
PRINT_ALL = """async () => {
  window.dispatchEvent(new Event("beforeprint"));
  const until = performance.now() + 15000;
  while (document.querySelector("mjx-lazy") && performance.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return document.querySelectorAll("mjx-lazy").length;
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
        self.scripts: list[str] = []  # every script requested, in order
        self.errors: list[str] = []
        self.context = browser.new_context(viewport=VIEWPORT, service_workers="block",
                                           java_script_enabled=javascript)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.add_init_script(WATCH_MATHJAX)
        self.context.route(lambda url: not url.startswith(LOCAL_SCHEMES), lambda route: route.abort())
        self.context.on("request", self._on_request)
        self.page = self.context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("requestfailed", self._on_failed)

    def _on_request(self, request: Any) -> None:
        if request.resource_type == "script":
            self.scripts.append(request.url)
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
    typeset_s: float | None = None  # navigation start -> the first screen typeset (initial pass)
    mathjax_s: float | None = None  # of which MathJax typesetting itself
    all_math_s: float | None = None  # navigation start -> every formula typeset, read to the end
    revisited_ms: list[int] = field(default_factory=list)  # formulas brought back into view: waits


def inspect_page(visit: Visit, url: str, site_root: Path) -> PageReport:
    """Open url and report every problem a reader would meet on it."""
    page = visit.page
    report = PageReport()
    problems = report.problems
    page.goto(url, wait_until="load")
    try:
        page.wait_for_function(TYPESET_DONE)
    except playwright_timeout():
        problems.append(f"MathJax did not finish typesetting within {TIMEOUT_MS / 1000:.0f} s")
    state = page.evaluate("() => window.__mcv")
    if state["typesetError"] is not None:
        problems.append(f"MathJax failed: {state['typesetError']}")
    elif state["typesetMs"] is not None:
        report.typeset_s = state["typesetMs"] / 1000
        report.mathjax_s = (state["typesetMs"] - state["typesetStartMs"]) / 1000
    page.evaluate("() => document.fonts.ready.then(() => true)")
    if state["expected"]:
        loaded = len(visit.scripts)
        read = page.evaluate(READ_TO_END)
        report.all_math_s = read["doneMs"] / 1000
        report.revisited_ms = read["revisited"]
        if read["lazyLeft"]:
            problems.append(f"{read['lazyLeft']} displayed formulas were still not typeset "
                            "after opening every dropdown and scrolling to the end")
        # A TeX extension MathJax fetches on first use holds every lazy formula until it
        # arrives (on a busy machine the site test saw 110 s): load it with the page.
        for url in visit.scripts[loaded:]:
            if "/mathjax/" in url:
                name = url.split("/mathjax/")[-1].split("?")[0]
                problems.append(f"MathJax fetched {name} while the page was read: add it to "
                                "mathjax3_config's loader.load (and tex.packages) in _config.yml")
        unprinted = page.evaluate(PRINT_ALL)
        if unprinted:
            problems.append(f"{unprinted} formulas were not typeset for printing")

    tex = page.evaluate(FIND_TEX_PROBLEMS)
    problems += [f"formula failed (mjx-merror): {m}" for m in tex["merrors"]]
    problems += [f"undefined TeX macro in a formula: {m}" for m in tex["undefinedMacros"]]
    problems += [f"math element not typeset: {t!r}" for t in tex["untypeset"]]
    problems += [f"raw TeX in the text: {t!r}" for t in tex["raw"]]

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
