"""Two fixes to the built site that _config.yml cannot express (found by tests/test_site.py).

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
   (the reader questions' titles) reaches the page as text, inside a section MyST marks
   ``mathjax_ignore`` (MathJax then typesets only math elements), on a page Sphinx gives no
   MathJax because it has no math nodes. A citation or footnote holding ``$`` gets the class
   ``mathjax_process`` (MathJax's documented opt-in, which MyST configures) and its page is
   counted as having equations, so MathJax loads there; ``mathjax3_config`` in _config.yml
   adds ``$...$`` to MathJax's inline delimiters.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.builders.html import StandaloneHTMLBuilder

_ADD_JS_FILE = StandaloneHTMLBuilder.add_js_file


def _add_js_file(self: StandaloneHTMLBuilder, filename: str | None, **kwargs: Any) -> None:
    _ADD_JS_FILE(self, filename or "", **kwargs)


def _typeset_math_in_references(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    marked = False
    for node in doctree.findall(lambda n: isinstance(n, (nodes.citation, nodes.footnote))):
        if "$" in node.astext():
            node["classes"].append("mathjax_process")
            marked = True
    if marked:
        app.env.get_domain("math").data["has_equations"][docname] = True


def setup(app: Sphinx) -> dict[str, Any]:
    StandaloneHTMLBuilder.add_js_file = _add_js_file  # type: ignore[method-assign]
    app.connect("doctree-resolved", _typeset_math_in_references)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
