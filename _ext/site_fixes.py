"""Three fixes to the built site that _config.yml cannot express (found by tests/test_site.py
and benchmarks/book.py).

1. Each inline ``<script>`` once. Sphinx 7.4 adds a script registered with
   ``app.add_js_file(None, body=...)`` after the HTML builder started (sphinx-thebe,
   sphinx-togglebutton and others do) twice: once as ``_JavaScript(None)`` and again, before
   writing, as ``_JavaScript('')``; the two compare unequal. Every page carried
   ``const THEBE_JS_URL = ...`` twice, and the browser raised "Identifier 'THEBE_JS_URL' has
   already been declared". Fixed upstream in https://github.com/sphinx-doc/sphinx/pull/13402
   (Sphinx 8), which Jupyter Book 1 cannot use (it requires ``sphinx~=7.0``). As there, the
   builder always receives ``''`` for an inline script, so the repeat is seen as a duplicate.
   Remove this part once the book runs on a fixed Sphinx.

2. Math in the bibliography. pybtex does not parse math, so a ``$...$`` in a reference
   (the reader questions' titles) reaches the page as text. With the book's MathML renderer
   (_ext/mathml.py) each ``$...$`` in the text of a citation or footnote becomes a math node,
   drawn like any other formula. With MathJax (any other renderer) the citation gets the class
   ``mathjax_process`` (MathJax's documented opt-in, which MyST configures; the section is
   marked ``mathjax_ignore``) and its page is counted as having equations, so MathJax loads
   there; ``mathjax3_config`` must then add ``$...$`` to MathJax's inline delimiters.

3. A changed static file reaches the site. When no page changed, Sphinx 7.4 stops at "no
   targets are out of date" before copying ``html_static_path``: an edited _static/book.css
   stayed stale in _build/html (and in the site test's build) until ``--all``. A file of the
   book's _static that differs from its copy now marks every page outdated (re-read from the
   execution cache, no notebook runs), and the build copies the static files as usual.
"""

from __future__ import annotations

import filecmp
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.builders.html import StandaloneHTMLBuilder

_ADD_JS_FILE = StandaloneHTMLBuilder.add_js_file


def _add_js_file(self: StandaloneHTMLBuilder, filename: str | None, **kwargs: Any) -> None:
    _ADD_JS_FILE(self, filename or "", **kwargs)


_DOLLAR_MATH = re.compile(r"(?<![\\$])\$([^$]+?)(?<!\\)\$")


def _typeset_math_in_references(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    references = list(doctree.findall(lambda n: isinstance(n, (nodes.citation, nodes.footnote))))
    if app.builder.format == "html" and \
            getattr(app.builder, "math_renderer_name", None) == "mathml":
        for reference in references:
            for text in list(reference.findall(nodes.Text)):
                pieces = _DOLLAR_MATH.split(str(text))
                if len(pieces) == 1 or isinstance(text.parent, (nodes.math, nodes.literal)):
                    continue
                # split() alternates text and the TeX between the dollars
                text.parent.replace(text, [nodes.math(p, p) if i % 2 else nodes.Text(p)
                                           for i, p in enumerate(pieces) if p])
        return
    marked = False
    for node in references:
        if "$" in node.astext():
            node["classes"].append("mathjax_process")
            marked = True
    if marked:
        app.env.get_domain("math").data["has_equations"][docname] = True


def _rebuild_when_a_static_file_changed(app: Sphinx, env: Any, added: set[str],
                                        changed: set[str], removed: set[str]) -> list[str]:
    if app.builder.format != "html":
        return []
    site = Path(app.outdir) / "_static"
    # The book's own folders (relative entries; the extensions' are absolute and unchanged).
    for folder in (f for f in app.config.html_static_path if not Path(f).is_absolute()):
        source = Path(app.confdir) / folder
        for file in (f for f in source.rglob("*") if f.is_file() and not f.name.endswith("_t")):
            copy = site / file.relative_to(source)
            # by content: Sphinx leaves an identical copy alone, with its old time
            if not copy.is_file() or not filecmp.cmp(file, copy, shallow=False):
                return sorted(env.found_docs)  # pages re-read from the cache, then copied
    return []


def setup(app: Sphinx) -> dict[str, Any]:
    StandaloneHTMLBuilder.add_js_file = _add_js_file  # type: ignore[method-assign]
    app.connect("doctree-resolved", _typeset_math_in_references)
    app.connect("env-get-outdated", _rebuild_when_a_static_file_changed)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
