"""The printed edition (`jupyter-book build . --builder pdflatex`, issue 16) and its link.

For the LaTeX builder only:

1. Vector figures. The notebooks store their figures as PNG (what the website shows), which
   prints at about 100 dpi. The PDF build executes the notebooks once more with the inline
   backend set to PDF (an IPython profile written under ``_build/.ipython_print``, found by
   the kernel through ``IPYTHONDIR``), into its own execution cache
   (``_build/.jupyter_cache_print``) and its own Sphinx environment
   (``_build/.doctrees-latex``): the website's cache and environment are never touched. myst-nb's
   LaTeX priority picks ``application/pdf``: every figure is vector. A notebook is executed
   again only when its code changes, as for the website.

2. Solutions at the end of the chapter. sphinx-exercise prints a solution right after its
   exercise. Here every solution moves to a last section of its chapter, "Solutions to the
   exercises" (as a titled paragraph, not a box), and where it stood the exercise gets a line
   "Solution on page N" (a link).

Also for LaTeX only: wide tables get wrapping columns, ``$...$`` in the bibliography becomes
math, and a proof is printed as *Proof.* ... with a closing square instead of an untitled box.

For the HTML builder: when ``_build/latex/book.pdf`` exists, it is copied into the site as
``matrix-calculus-verified.pdf`` and the welcome page links to it ("The printed edition").
Build the PDF first (third command of the README), then the website. With no PDF the website
is exactly as before.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.transforms.post_transforms import SphinxPostTransform

PDF_NAME = "matrix-calculus-verified.pdf"  # the printed edition's name inside the website

# The kernel profile of the PDF build: figures as PDF, fonts embedded as TrueType (type 42)
# so that their text is real, searchable text.
KERNEL_CONFIG = """\
# Written by _ext/printed_edition.py for the PDF build only: figures as vector PDF.
c.InlineBackend.figure_formats = {"pdf"}
c.InlineBackend.rc = {"pdf.fonttype": 42, "figure.dpi": 300}  # raster parts (imshow) at 300 dpi
# fontTools, which subsets the fonts, logs to stderr on some fonts' old timestamps
# ("'created' timestamp seems very low"), and stderr fails the build.
import logging
logging.getLogger("fontTools").setLevel(logging.ERROR)
"""


def _build_dir(app: Sphinx) -> Path:
    return Path(app.outdir).resolve().parent


def _builds_latex(app: Sphinx) -> bool:
    """At config-inited the builder does not exist yet; jupyter-book writes LaTeX into
    _build/latex (``--builder pdflatex`` or ``latex``) and the website into _build/html."""
    return Path(app.outdir).name == "latex"


# ---------------------------------------------------------------- 1. vector figures


def _print_execution(app: Sphinx, config: Config) -> None:
    if not _builds_latex(app):
        return
    build = _build_dir(app)
    # Its own environment: the website's (_build/.doctrees) is neither re-read nor raced by a
    # PDF build running at the same time (pytest runs two workers). Set before Sphinx loads it.
    doctrees = build / ".doctrees-latex"
    doctrees.mkdir(parents=True, exist_ok=True)
    app.doctreedir = type(app.doctreedir)(doctrees)
    config.nb_execution_cache_path = str(build / ".jupyter_cache_print")
    profile = build / ".ipython_print" / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    kernel_config = profile / "ipython_kernel_config.py"
    if not kernel_config.exists() or kernel_config.read_text() != KERNEL_CONFIG:
        kernel_config.write_text(KERNEL_CONFIG)
    os.environ["IPYTHONDIR"] = str(profile.parent)


# ---------------------------------------------------------------- 2. solutions at the end


def _is_solution(node: nodes.Node) -> bool:
    return type(node).__name__ == "solution_node"


class CollectSolutions(SphinxPostTransform):
    """Move every solution to the end of its chapter (LaTeX only).

    The tree is walked from the top: sphinx-jupyterbook-latex rebuilds some nodes without
    updating their children's ``parent``, so parent pointers cannot be trusted here.
    """

    default_priority = 900  # after sphinx-exercise has numbered and titled them
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        count = 0
        for chapter in list(self.document.findall(addnodes.start_of_file)):
            section = next((c for c in chapter.children if isinstance(c, nodes.section)), None)
            if section is None:
                continue
            found = list(_solutions_in(section))
            if not found:
                continue
            docname = chapter["docname"]
            collected = nodes.section(ids=[f"mcv-solutions-{_slug(docname)}"])
            collected += nodes.title("", "Solutions to the exercises")
            for parent, solution in found:
                count += 1
                anchor = f"mcvsolution{count}"
                pointer = nodes.raw(
                    "",
                    "\\par\\noindent\\hyperref[" + anchor + "]{\\textit{Solution on page~"
                    "\\pageref*{" + anchor + "}.}}\\par\n",
                    format="latex",
                )
                parent.children[parent.children.index(solution)] = pointer
                pointer.parent = parent
                collected += self.unboxed(solution, anchor)
            section += collected

    def unboxed(self, solution: nodes.Element, anchor: str) -> list[nodes.Node]:
        """The solution as a titled paragraph and its body, not in a box: a code cell inside
        a box cannot break across pages and ran into the footer."""
        registry = getattr(self.env, "sphinx_exercise_registry", {})
        docname = registry.get(solution.get("label", ""), {}).get("docname", "")
        labels = "\\phantomsection\\label{" + anchor + "}"
        if docname:  # the label sphinx-exercise gives a solution, for references to it
            labels += "\\label{" + f"{docname}:{solution['label']}" + "}"
        out: list[nodes.Node] = [nodes.raw(
            "", "\\par\\needspace{6\\baselineskip}\\medskip" + labels + "%\n", format="latex")]
        for child in solution.children:
            if isinstance(child, nodes.title):
                heading = nodes.paragraph()
                heading += nodes.strong("", "", *child.children)
                out.append(heading)
            elif isinstance(child, nodes.section):  # sphinx-exercise wraps the body in one
                out.extend(child.children)
            else:
                out.append(child)
        return out


def _solutions_in(node: nodes.Element) -> Any:
    """(parent, solution) pairs below node, not descending into another file."""
    for child in list(node.children):
        if _is_solution(child):
            yield node, child
        elif isinstance(child, nodes.Element) and not isinstance(child, addnodes.start_of_file):
            yield from _solutions_in(child)


class WidenTables(SphinxPostTransform):
    """Give every wide table wrapping columns as wide as their text (LaTeX only).

    Without a ``tabularcolumns`` spec Sphinx sets simple cells in ``l`` columns, which never
    wrap: the identities table ran 280 pt into the margin. Tables made by a cell's printed
    Markdown cannot carry that directive, so the spec is computed here: each column gets a
    share of the line proportional to its printed length (between its median and its longest
    cell, capped), as a ``\\Y{share}`` column.
    """

    default_priority = 910
    formats = ("latex",)
    NARROW = 70  # characters: a table whose longest row is shorter keeps Sphinx's choice
    CAP = 60     # a column's longest cell counts at most this many characters
    SHORT = 16   # a column whose cells are all shorter is set in one line (an l column)

    def run(self, **kwargs: Any) -> None:
        for parent, table in list(_walk(self.document, nodes.table)):
            index = parent.children.index(table)
            if index and isinstance(parent.children[index - 1], addnodes.tabular_col_spec):
                continue
            if "colwidths-given" in table.get("classes", []):
                continue
            columns: list[list[float]] = []
            for row in table.findall(nodes.row):
                for j, entry in enumerate(row.children):
                    if j == len(columns):
                        columns.append([])
                    columns[j].append(_printed_length(entry))
            if len(columns) < 2 or sum(max(c) for c in columns) <= self.NARROW:
                continue
            # A short column (a number, "2e-17 (c) ✓") is an l column, never wrapped; its
            # width is estimated (a character of 10pt DejaVu Serif ~ 0.013 of the line).
            # The others share the rest, each between its typical and its longest cell.
            short = [max(c) <= self.SHORT for c in columns]
            rest = 0.97 - sum(0.013 * max(c) + 0.03 for c, s in zip(columns, short) if s)
            weights = [0.5 * sorted(c)[len(c) // 2] + 0.5 * min(max(c), self.CAP) + 4
                       for c in columns]
            total = sum(w for w, s in zip(weights, short) if not s)
            if total == 0:
                continue  # every column is short: Sphinx's own choice fits
            spec = "".join("l" if s else "\\Y{%.3f}" % (w / total * rest)
                           for w, s in zip(weights, short))
            node = addnodes.tabular_col_spec(spec=spec)
            parent.children.insert(index, node)
            node.parent = parent


class PlainProofs(SphinxPostTransform):
    """A proof is printed as a book prints one: *Proof.* in italics, the text, a square at the
    end; not in a box with an empty title bar (sphinx-proof's LaTeX). LaTeX only."""

    default_priority = 930
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        for parent, proof in list(_walk(self.document, nodes.admonition)):
            if "proof" not in proof.get("classes", []):
                continue
            body = [child for child in proof.children
                    if not isinstance(child, nodes.title)]
            first = body[0] if body else None
            if isinstance(first, nodes.paragraph) and first.children and \
                    isinstance(first.children[0], nodes.Text) and \
                    str(first.children[0]).startswith("Proof. "):
                rest = str(first.children[0])[len("Proof. "):]
                first.children[0:1] = [nodes.emphasis("Proof.", "Proof."), nodes.Text(" " + rest)]
                for child in first.children[:2]:
                    child.parent = first
            qed = nodes.raw("", "\\nobreak\\hfill\\ensuremath{\\square}", format="latex")
            if body and isinstance(body[-1], nodes.paragraph):
                body[-1] += qed  # the square ends the proof's last line
                tail = nodes.raw("", "\\medskip\n", format="latex")
            else:
                tail = nodes.raw("", "\\par\\noindent\\hfill\\ensuremath{\\square}\\medskip\n",
                                 format="latex")
            replacement = [nodes.raw("", "\\medskip\n", format="latex"), *body, tail]
            index = parent.children.index(proof)
            parent.children[index:index + 1] = replacement
            for node in replacement:
                node.parent = parent


class BibliographyMath(SphinxPostTransform):
    """``$...$`` in a reference becomes math (LaTeX only; site_fixes.py does it for the site).

    pybtex does not parse math, so the reader questions' titles reach the writer as text,
    which LaTeX would print as a literal ``$\\|b - a\\|_2^2$``.
    """

    default_priority = 920
    formats = ("latex",)
    MATH = re.compile(r"\$([^$]+)\$")

    def run(self, **kwargs: Any) -> None:
        for _, entry in list(_walk(self.document, (nodes.citation, nodes.footnote))):
            for parent, text in list(_walk(entry, nodes.Text)):
                pieces = self.MATH.split(str(text))
                if len(pieces) == 1:
                    continue
                new: list[nodes.Node] = []
                for i, piece in enumerate(pieces):
                    if i % 2:
                        new.append(nodes.math(piece, piece))
                    elif piece:
                        new.append(nodes.Text(piece))
                index = parent.children.index(text)
                parent.children[index:index + 1] = new
                for node in new:
                    node.parent = parent


def _printed_length(node: nodes.Node) -> float:
    """Roughly how many characters a cell prints: raw HTML prints nothing in LaTeX, and a
    formula prints about 40% of the characters of its source."""
    if isinstance(node, nodes.raw):
        return 0.0
    if isinstance(node, nodes.math):
        return 0.4 * len(node.astext())
    if isinstance(node, nodes.Text):
        return float(len(node))
    return sum(_printed_length(child) for child in node.children)


def _walk(node: nodes.Element, cls: Any) -> Any:
    """(parent, child) for every child of class cls below node, from the top down."""
    for child in list(node.children):
        if isinstance(child, cls):
            yield node, child
        if isinstance(child, nodes.Element):
            yield from _walk(child, cls)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


# ---------------------------------------------------------------- 3. the website's link


def _built_pdf(app: Sphinx) -> Path | None:
    pdf = _build_dir(app) / "latex" / "book.pdf"
    return pdf if pdf.is_file() else None


def _announce_pdf(app: Sphinx, config: Config) -> None:
    if _builds_latex(app):
        return
    pdf = _built_pdf(app)
    if pdf is not None:
        # A changed html_context makes Sphinx rewrite every page, so a PDF built after the
        # website appears on the next (incremental) build.
        stat = pdf.stat()
        config.html_context = {**config.html_context,
                               "mcv_printed_edition": f"{stat.st_size}-{int(stat.st_mtime)}"}


def _link_on_welcome_page(app: Sphinx, pagename: str, templatename: str,
                          context: dict[str, Any], doctree: Any) -> None:
    if pagename != app.config.root_doc or "mcv_printed_edition" not in context:
        return
    pdf = _built_pdf(app)
    if pdf is None or "body" not in context:
        return
    size = pdf.stat().st_size / 1e6
    href = context["pathto"](PDF_NAME, 1)
    link = (f'<p class="mcv-printed-edition"><strong>The printed edition:</strong> '
            f'<a href="{href}" download>the whole book as one PDF</a> ({size:.1f} MB), '
            f'with a table of contents, numbered equations and the solutions at the end of '
            f'each chapter.</p>\n')
    context["body"] = re.sub(r"(</h1>)", lambda m: m.group(1) + "\n" + link,
                             context["body"], count=1)


def _copy_pdf(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    pdf = _built_pdf(app)
    if pdf is not None:
        shutil.copyfile(pdf, Path(app.outdir) / PDF_NAME)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _print_execution)
    app.connect("config-inited", _announce_pdf)
    app.add_post_transform(CollectSolutions)
    app.add_post_transform(WidenTables)
    app.add_post_transform(BibliographyMath)
    app.add_post_transform(PlainProofs)
    app.connect("html-page-context", _link_on_welcome_page)
    app.connect("build-finished", _copy_pdf)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
