"""Math drawn with the page: every formula typeset at build time as MathML Core (issue 23).

An HTML math renderer (``html_math_renderer: mathml`` in _config.yml) that converts each
formula's TeX to MathML with ``math-core`` (PyPI; a compiled converter, no Node) while the
page is written. Chromium (109+), Firefox and Safari draw MathML Core natively: no script
runs, no formula waits to be typeset, nothing moves when it is.

- Inline math becomes ``<math>``; display math keeps Sphinx's markup (the ``div.math`` with
  its id, and its ``span.eqno`` number with a permalink, as sphinx.ext.mathjax writes it) and
  is wrapped as Sphinx wraps it for MathJax, with ``aligned`` where Sphinx writes ``split``
  (math-core has no ``split``): a part with ``\\\\`` is one ``aligned``, several parts
  (separated by blank lines) are rows of one ``aligned``. ``nowrap`` math goes in as written.
  Math in notebook outputs (myst-nb turns ``text/latex`` into the same math nodes) and in
  the bibliography (_ext/site_fixes.py) goes the same way.
- The book's macros: ``mathml_macros`` (a dict, name without backslash -> TeX), and any
  ``tex.macros`` of ``mathjax3_config``, so the fallback and the MathML agree.
- Three departures from LaTeX corrected: ``\\colon`` gets amsmath's spacing (CORRECTIONS); a
  prime follows its letter instead of being a superscript (Chromium draws U+2032 as a
  superscript tiny and far above the letter); ⊙, ⊗ and the other circled binary operators
  say ``largeop="false"`` (Firefox drew them as large operators in display math).
- An inline formula and the characters stuck to it (``$x$).``) stay on one line.
- TeX's one rewrite: a backslash at the end of a line is a control space (TeX reads the end
  of line as a space), which math-core rejects as "unknown command"; it becomes ``\\ ``.
- Fallback: a formula math-core cannot convert is written as sphinx.ext.mathjax writes it
  (class ``mathml-fallback``) and that page alone loads MathJax (the offline copy,
  ``mathjax_path``, with ``mathjax3_config``). Each one is named in the build log: as a
  warning (so the strict build ``-W`` fails) unless ``mathml_fallbacks`` in _config.yml lists
  its TeX with the reason; tests/test_site.py fails on any fallback on the site that is not
  listed there.
- The font: STIX Two Math (SIL Open Font License 1.1; _static/fonts/STIXTwoMath-OFL.txt),
  which carries the OpenType MATH table the browser needs for stretchy delimiters, radicals
  and limits. It comes from a pinned pip package (``ziamath`` ships the TrueType file) and is
  converted to woff2 (fontTools + brotli; every glyph and table kept, a format conversion
  only) once, into ``_build/.mathml-font/`` (about 4 s; reused while the source is the
  same), then copied to ``_static/fonts/``. _static/mathml.css declares it; every page with
  math preloads it, so the formulas are drawn with the first screen.

The renderer is HTML-only: the LaTeX builder (the printed edition) never calls it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import math_core
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

logger = logging.getLogger(__name__)

RENDERER = "mathml"
FONT_FILE = "STIXTwoMath-Regular.woff2"  # under _static/fonts/ on the site
FONT_SOURCE = ("ziamath", "fonts/STIXTwoMath-Regular.ttf")  # (pip package, file inside it)

# A backslash that ends a line (and is not the second half of a `\\`): TeX's control space.
_BACKSLASH_NEWLINE = re.compile(r"(?<!\\)((?:\\\\)*)\\\n")

_converter: math_core.LatexToMathML | None = None
_converter_macros: dict[str, str] | None = None
#: docname -> the TeX of each formula left to MathJax on that page (this process's pages)
FALLBACKS: dict[str, list[str]] = {}
#: docnames on which at least one formula became MathML
WITH_MATHML: set[str] = set()


# Where math-core 0.9 departs from LaTeX, LaTeX's definition as a macro (under the book's):
# \colon (amsmath: 2mu, a colon, 6mu; "X\colon m\times n" in the identities table) came out
# as a bare <mi>:</mi>, "X:m×n" with no space.
CORRECTIONS = {"colon": r"\mskip2mu{:}\mskip6mu"}


def book_macros(config: Any) -> dict[str, str]:
    """mathml_macros, with mathjax3_config's tex.macros (the fallback's) and CORRECTIONS
    underneath."""
    macros: dict[str, str] = dict(CORRECTIONS)
    mathjax = (config.mathjax3_config or {}).get("tex", {}).get("macros", {})
    for name, body in mathjax.items():
        macros[name] = body if isinstance(body, str) else body[0]  # [body, n_args]: math-core
    macros.update(config.mathml_macros or {})                      # reads #1.. itself
    return macros


def converter(config: Any) -> math_core.LatexToMathML:
    global _converter, _converter_macros
    macros = book_macros(config)
    if _converter is None or macros != _converter_macros:
        _converter = math_core.LatexToMathML(macros=macros or None, fancy_error=False)
        _converter_macros = macros
    return _converter


# A prime as math-core writes it, a superscript: <msup><mi>h</mi><mo>′</mo></msup> (and
# <msubsup> for h'_{ij}). U+2032 is already a raised glyph, so as a superscript Chromium draws
# it small and far above the letter ("h ʹ(z)"; the font's script variant, ssty, is not
# applied). Written after its letter instead, it is drawn as TeX draws h'(z).
_LETTER = r"(<mi[^>]*>[^<]*</mi>|<mrow><mspace/><mi[^>]*>[^<]*</mi></mrow>)"  # or \tanh
_PRIME_SUP = re.compile("<msup>" + _LETTER + "<mo>([′″‴])</mo></msup>")
_PRIME_SUBSUP = re.compile(r"<msubsup>" + _LETTER + r"(<m[in]>[^<]*</m[in]>|<mrow>(?:(?!</?mrow).)*"
                           r"</mrow>)<mo>([′″‴])</mo></msubsup>")
_PRIME = '<mo lspace="0" rspace="0">{}</mo>'


# TeX's binary circled operators (\oplus \ominus \otimes \oslash \odot). Firefox's operator
# dictionary makes them large operators, so in display math it drew ⊙ and ⊗ at the size of a
# sum sign; TeX never does (its n-ary ones are \bigodot and kin, other characters).
_CIRCLED = re.compile(r"<mo((?: [^>]*)?)>([⊕⊖⊗⊘⊙])</mo>")


def primes_after_their_letter(mathml: str) -> str:
    mathml = _PRIME_SUP.sub(lambda m: "<mrow>" + m[1] + _PRIME.format(m[2]) + "</mrow>", mathml)
    return _PRIME_SUBSUP.sub(
        lambda m: "<msub><mrow>" + m[1] + _PRIME.format(m[3]) + "</mrow>" + m[2] + "</msub>", mathml)


def to_mathml(config: Any, tex: str, display: bool) -> tuple[str | None, str]:
    """(MathML, "") or (None, math-core's error)."""
    source = _BACKSLASH_NEWLINE.sub(lambda m: m.group(1) + "\\ ", tex)
    try:
        mathml = converter(config).convert_with_local_state(source, displaystyle=display)
    except math_core.LatexError as error:
        return None, " ".join(str(error).split())
    return _CIRCLED.sub(r'<mo\1 largeop="false">\2</mo>', primes_after_their_letter(mathml)), ""


def wrap_for_mathml(tex: str) -> str:
    """Sphinx's wrapping of display math (sphinx.ext.mathjax), with aligned for split."""
    parts = [part for part in tex.split("\n\n") if part.strip()]
    if len(parts) == 1:
        return r"\begin{aligned}" + parts[0] + r"\end{aligned}" if r"\\" in parts[0] else parts[0]
    rows = [r"\begin{aligned}" + p + r"\end{aligned}" if r"\\" in p else p for p in parts]
    return r"\begin{aligned}" + r"\\".join(rows) + r"\end{aligned}"


def wrap_for_mathjax(tex: str) -> str:
    """Exactly what sphinx.ext.mathjax writes between \\[ and \\] (for a fallback)."""
    parts = [part for part in tex.split("\n\n") if part.strip()]
    body = "".join((r"\begin{split}" + p + r"\end{split}" if r"\\" in p else p)
                   + (r"\\" if i < len(parts) - 1 else "") for i, p in enumerate(parts))
    return r" \begin{align}\begin{aligned}" + body + r"\end{aligned}\end{align} " \
        if len(parts) > 1 else body


def fall_back(translator: Any, node: nodes.Element, tex: str, error: str) -> None:
    """Note a formula left to MathJax; warn unless _config.yml lists it with its reason."""
    docname = translator.builder.current_docname
    FALLBACKS.setdefault(docname, []).append(tex)
    listed = translator.builder.config.mathml_fallbacks or {}
    shown = " ".join(tex.split())
    if tex.strip() in listed:
        logger.info("mathml: %s: formula left to MathJax, as listed (%s): %s",
                    docname, listed[tex.strip()], shown)
    else:
        logger.warning("formula not converted to MathML (MathJax draws it on this page): "
                       "%s; math-core: %s. Fix it, or list its TeX in mathml_fallbacks "
                       "(_config.yml) with the reason", shown, error,
                       location=node, type="mathml", subtype="fallback")


def html_visit_math(self: Any, node: nodes.math) -> None:
    tex = node.astext()
    mathml, error = to_mathml(self.builder.config, tex, display=False)
    if mathml is None:
        fall_back(self, node, tex, error)
        self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight "
                                       "mathml-fallback", **{"data-tex": tex.strip()}))
        self.body.append(r"\(" + self.encode(tex) + r"\)</span>")
        raise nodes.SkipNode
    WITH_MATHML.add(self.builder.current_docname)
    if node["ids"] or node["classes"]:  # a target or a role's class: keep them on a span
        self.body.append(self.starttag(node, "span", "", CLASS="math notranslate"))
        self.body.append(mathml + "</span>")
    else:
        self.body.append(mathml)
    raise nodes.SkipNode


def html_visit_displaymath(self: Any, node: nodes.math_block) -> None:
    tex = node.astext()
    mathml, error = to_mathml(self.builder.config, tex if node["nowrap"] else
                              wrap_for_mathml(tex), display=True)
    if mathml is None:
        fall_back(self, node, tex, error)
    else:
        WITH_MATHML.add(self.builder.current_docname)
    if mathml is None:  # its TeX as listed in mathml_fallbacks, for tests/test_site.py
        self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight "
                                       "mathml-fallback", **{"data-tex": tex.strip()}))
    else:
        self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node["number"] and not node["nowrap"]:
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({number})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    if mathml is not None:
        self.body.append(mathml)
    elif node["nowrap"]:
        self.body.append(self.encode(tex))
    else:
        self.body.append(r"\[" + self.encode(wrap_for_mathjax(tex)) + r"\]")
    self.body.append("</div>\n")
    raise nodes.SkipNode


# The font's preload, first in the head. A font is fetched in CORS mode, so over http(s) its
# preload must say crossorigin or the browser fetches the font twice; but from disk
# (file://, how the README has readers open the book) Chromium refuses a CORS request
# ("Cross origin requests are only supported for protocol schemes: ... http, https") and
# fetches the font itself without one: there the preload must not say it. Hence a line of
# script; without scripts the stylesheet still loads the font, only later.
PRELOAD = """
<script>(function (l) { l.rel = "preload"; l.as = "font"; l.type = "font/woff2";
  if (location.protocol !== "file:") l.crossOrigin = "anonymous";
  l.href = "HREF"; document.head.appendChild(l); })(document.createElement("link"));</script>"""


def page_assets(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                doctree: nodes.document | None) -> None:
    """The font preloaded on a page with MathML; MathJax only on a page with a fallback."""
    if app.builder.format != "html" or app.builder.math_renderer_name != RENDERER:
        return
    if pagename in WITH_MATHML:
        href = context["pathto"](f"_static/fonts/{FONT_FILE}", 1)
        context["metatags"] = context.get("metatags", "") + PRELOAD.replace("HREF", href)
    if pagename in FALLBACKS:  # as sphinx.ext.mathjax installs it, on this page only
        config = dict(app.config.mathjax3_config or {})
        # MathJax reads the fallbacks only, never the rest of the page (text, code, MathML)
        config["startup"] = {**config.get("startup", {}), "elements": [".mathml-fallback"]}
        app.builder.add_js_file("", body="window.MathJax = " + json.dumps(config))
        app.builder.add_js_file(app.config.mathjax_path, defer="defer")


def keep_punctuation_with_math(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """An inline formula and the characters stuck to it ("$x$)." or "($x$,") on one line: a
    browser may break a line between an inline <math> and the text after it, leaving ")." at
    the start of the next line (MathJax's markup had the same flaw). Those characters go into a
    span with the formula, which the stylesheet keeps from breaking."""
    if app.builder.format != "html" or app.builder.math_renderer_name != RENDERER:
        return
    for math in list(doctree.findall(nodes.math)):
        parent = math.parent
        if parent is None or "mathml-nowrap" in parent.get("classes", []):
            continue
        # by position: Text nodes are strings, and equal strings compare equal
        index = next(i for i, child in enumerate(parent.children) if child is math)
        before = parent[index - 1] if index > 0 else None
        after = parent[index + 1] if index + 1 < len(parent) else None
        prefix = re.search(r"\S+$", str(before)) if isinstance(before, nodes.Text) else None
        suffix = re.match(r"\S+", str(after)) if isinstance(after, nodes.Text) else None
        if not prefix and not suffix:
            continue
        group = nodes.inline("", "", classes=["mathml-nowrap"])
        if prefix:
            parent.children[index - 1] = nodes.Text(str(before)[:prefix.start()])
            parent.children[index - 1].parent = parent
            group += nodes.Text(prefix.group())
        if suffix:
            parent.children[index + 1] = nodes.Text(str(after)[suffix.end():])
            parent.children[index + 1].parent = parent
        parent.children[index] = group
        group.parent = parent
        group += math
        if suffix:
            group += nodes.Text(suffix.group())


def font_source() -> Path:
    package, inside = FONT_SOURCE
    spec = importlib.util.find_spec(package)  # located, not imported
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the math font comes from the pip package {package}: "
                           "pip install -r requirements.txt")
    return Path(list(spec.submodule_search_locations)[0]) / inside


def make_font(app: Sphinx) -> None:
    """The woff2 under _build/.mathml-font/fonts/, converted once per source; on the site
    as _static/fonts/ (html_static_path)."""
    if app.builder.format != "html" or app.builder.math_renderer_name != RENDERER:
        return
    FALLBACKS.clear()  # this build's pages only (a second build in one process)
    WITH_MATHML.clear()
    from fontTools import version as fonttools_version
    from fontTools.ttLib import TTFont

    source = font_source()
    folder = Path(app.doctreedir).parent / ".mathml-font"
    target = folder / "fonts" / FONT_FILE
    stamp = folder / "source.sha256"
    key = hashlib.sha256(source.read_bytes()).hexdigest() + f" fonttools {fonttools_version}"
    if not (target.is_file() and stamp.is_file() and stamp.read_text() == key):
        target.parent.mkdir(parents=True, exist_ok=True)
        font = TTFont(source, recalcTimestamp=False)  # same input, same bytes
        font.flavor = "woff2"
        font.save(target)
        stamp.write_text(key)
        logger.info("mathml: %s converted to %s (%d kB)", source.name, target,
                    target.stat().st_size // 1024)
    if str(folder) not in app.config.html_static_path:
        app.config.html_static_path.append(str(folder))


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinx.ext.mathjax")  # mathjax_path and mathjax3_config, for fallbacks
    app.add_config_value("mathml_macros", {}, "html")
    app.add_config_value("mathml_fallbacks", {}, "html")
    app.add_html_math_renderer(RENDERER, (html_visit_math, None), (html_visit_displaymath, None))
    app.connect("builder-inited", make_font)
    app.connect("doctree-resolved", keep_punctuation_with_math)
    app.connect("html-page-context", page_assets)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
