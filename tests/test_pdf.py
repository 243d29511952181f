"""The printed edition (issue 16): the PDF is built and read back with poppler-utils.

The session fixture runs the README's third command, ``jupyter-book build . --builder
pdflatex`` (XeLaTeX; the notebooks run once more with vector figures into their own cache,
see _ext/printed_edition.py), unless ``_build/latex/book.pdf`` is newer than every file it is
made from (then the PDF just built is used, and its build output is checked if it was saved
in test-artifacts/pdf-build.log, as .ci/run does). Then, on ``pdftotext``, ``pdfimages``,
``pdfinfo`` and the LaTeX log:

- the build logged no Sphinx warning or error, and XeLaTeX no missing character (every
  Unicode symbol of the text, ‖ − Θ ² ᵀ included, has a glyph in its font);
- every part and chapter title of ``_toc.yml`` is in the table of contents and in the body,
  in order, with its chapter number;
- no unresolved reference ("??", "[?]") and no raw ``$`` or TeX command in the text, except
  where a code cell or its output prints one;
- every figure the notebooks make is in the PDF, as vector graphics from the print run (the
  LaTeX log names each included file), and the PDF embeds exactly the raster images those
  figure files contain (a figure that fell back to PNG, or was dropped, changes the count),
  each at print resolution (MIN_PPI);
- each chapter's solutions are collected in its "Solutions to the exercises" section, and
  each exercise points to its solution's page;
- no overfull line in the LaTeX log wider than OVERFULL_BOUND_PT, and no page whose content
  is taller than the text area by more than that (code running into the footer);
- the page count is within PAGES.

Without XeLaTeX, latexmk, poppler-utils or the DejaVu fonts the tests are skipped with the
apt line, unless ``MCV_REQUIRE_PDF=1`` (CI sets it), and then they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from book_tools import build_book, unavailable

ROOT = Path(__file__).resolve().parents[1]
LATEX = ROOT / "_build" / "latex"
PDF = LATEX / "book.pdf"
TEX_LOG = LATEX / "book.log"
BUILD_LOG = ROOT / "test-artifacts" / "pdf-build.log"

APT_LINE = ("sudo apt-get install --no-install-recommends texlive-xetex texlive-latex-extra "
            "texlive-fonts-recommended latexmk fonts-dejavu-core fonts-dejavu-extra "
            "poppler-utils")
TOOLS = ["xelatex", "latexmk", "pdftotext", "pdfimages", "pdfinfo", "fc-list"]
FONTS = ["DejaVu Serif:style=Book", "DejaVu Serif:style=Italic", "DejaVu Sans:style=Bold",
         "DejaVu Sans Mono:style=Book"]

OVERFULL_BOUND_PT = 6.0   # ~2 mm: a line may poke into the margin by less than this
MIN_PPI = 250            # raster parts of figures (an imshow matrix) are drawn at 300 dpi
PAGES = (120, 300)        # 170 pages on 2026-12-01 with 13 chapters; room to grow
# A Sphinx line that is not a problem of the book: the kernel's note on its transport.
HARMLESS = re.compile(r"IPKernelApp\] WARNING \| Kernel is running over TCP")

SUMMARY: dict[str, Any] = {}


# ---------------------------------------------------------------- what the book is made of


def toc() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))


def toc_parts() -> list[tuple[str, list[str]]]:
    """(part caption, [chapter docnames]) in reading order; the root is the title page."""
    def walk(entries: list[dict[str, Any]] | None) -> list[str]:
        names: list[str] = []
        for entry in entries or []:
            if "file" in entry:
                names.append(os.path.splitext(entry["file"])[0])
            names.extend(walk(entry.get("sections")))
        return names

    book = toc()
    if book.get("parts"):
        return [(part.get("caption", ""), walk(part.get("chapters"))) for part in book["parts"]]
    return [("", walk(book.get("chapters")))]


def source_of(docname: str) -> Path:
    for suffix in (".ipynb", ".md"):
        if (ROOT / f"{docname}{suffix}").exists():
            return ROOT / f"{docname}{suffix}"
    raise FileNotFoundError(docname)


def cells(docname: str) -> list[dict[str, Any]]:
    path = source_of(docname)
    if path.suffix == ".md":
        return [{"cell_type": "markdown", "source": path.read_text(encoding="utf-8")}]
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def text_of(cell: dict[str, Any]) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def title_of(docname: str) -> str:
    """The first level-1 heading, as the PDF prints it (inline markup removed)."""
    for cell in cells(docname):
        if cell["cell_type"] != "markdown":
            continue
        for line in text_of(cell).splitlines():
            if line.startswith("# "):
                return re.sub(r"[`*_]", "", line[2:]).strip()
    raise AssertionError(f"{docname} has no level-1 heading")


def all_chapters() -> list[str]:
    return [name for _, chapters in toc_parts() for name in chapters]


def figures_made() -> int:
    """Figures the notebooks make (stored image outputs) plus images in Markdown."""
    count = 0
    for docname in [os.path.splitext(toc()["root"])[0], *all_chapters()]:
        for cell in cells(docname):
            if cell["cell_type"] == "code":
                count += sum(1 for output in cell.get("outputs", [])
                             if any(m.startswith("image/") for m in output.get("data", {})))
            else:
                count += len(re.findall(r"!\[[^\]]*\]\(|^```\{(?:figure|image)\}",
                                        text_of(cell), flags=re.M))
    return count


def code_corpus() -> str:
    """Code (cells, their text outputs, fenced blocks in Markdown), whitespace collapsed:
    the only places where a $ or a backslash may be printed as such."""
    parts: list[str] = []
    for docname in all_chapters():
        for cell in cells(docname):
            if cell["cell_type"] != "code":
                for _, info, body in FENCE.findall(text_of(cell)):
                    if not info.startswith("{") or info.startswith("{code"):
                        parts.append(body)  # a code block, not a directive's prose
                parts += re.findall(r"``?([^`\n]+)``?", text_of(cell))  # inline code
                continue
            parts.append(text_of(cell))
            for output in cell.get("outputs", []):
                text = output.get("text") or output.get("data", {}).get("text/plain", "")
                parts.append(text if isinstance(text, str) else "".join(text))
    return squash("\n".join(parts))


FENCE = re.compile(r"^(`{3,}|~{3,})([^\n]*)\n(.*?)^\1", flags=re.M | re.S)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def sources() -> list[Path]:
    """The files the PDF is made from: a newer one makes the PDF stale."""
    files = [ROOT / "_toc.yml", ROOT / "_config.yml"]
    files += [source_of(name) for name in [os.path.splitext(toc()["root"])[0], *all_chapters()]]
    for folder in ("_ext", "_latex", "mcv"):
        files += [p for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files += list((ROOT / "chapters").glob("*.bib"))
    return files


# ---------------------------------------------------------------- fixtures


def _unavailable(reason: str) -> None:
    unavailable(f"the PDF test needs {reason}; install with `{APT_LINE}`", "MCV_REQUIRE_PDF")


def run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)} failed: {done.stderr[-2000:]}"
    return done.stdout


SUMMARY_FILE = ROOT / "test-artifacts" / "pdf-summary.txt"  # for pytest's summary (conftest.py)


def note(key: str, value: str) -> None:
    """Record a measured number; the file is rewritten each time (pytest may run this file in
    a worker process, whose own terminal summary nobody sees)."""
    SUMMARY[key] = value
    SUMMARY_FILE.parent.mkdir(exist_ok=True)
    SUMMARY_FILE.write_text("".join(f"{k}: {v}\n" for k, v in SUMMARY.items()), encoding="utf-8")


@pytest.fixture(scope="session")
def pdf() -> Path:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        _unavailable("XeLaTeX, latexmk and poppler-utils; missing: " + ", ".join(missing))
    fonts = [font for font in FONTS if not run("fc-list", font, "family").strip()]
    if fonts:
        _unavailable("the DejaVu fonts; missing: " + ", ".join(fonts))
    SUMMARY_FILE.unlink(missing_ok=True)
    newest = max(path.stat().st_mtime for path in sources())
    if PDF.exists() and PDF.stat().st_mtime > newest and TEX_LOG.exists():
        note("build", f"reused {PDF.relative_to(ROOT)} (newer than every source)")
        # .ci/run builds it with its output in BUILD_LOG: its warnings are checked too.
        if BUILD_LOG.exists() and BUILD_LOG.stat().st_mtime > newest:
            check_build_log(BUILD_LOG.read_text(encoding="utf-8", errors="replace"))
        else:
            note("build log", f"not checked ({BUILD_LOG.relative_to(ROOT)} is missing or older)")
        return PDF
    log, seconds = build_book("--builder", "pdflatex", log=BUILD_LOG, timeout=3600)
    assert PDF.exists(), f"the PDF build wrote no {PDF}; full log in {BUILD_LOG}"
    note("build", f"`jupyter-book build . --builder pdflatex` took {seconds:.0f} s")
    check_build_log(log)
    return PDF


def check_build_log(log: str) -> None:
    """jupyter-book exits 0 on a PDF whose notebooks failed to run or printed to stderr."""
    problems = [line for line in log.splitlines()
                if re.search(r"\b(WARNING|ERROR|CRITICAL)\b", line) and not HARMLESS.search(line)]
    assert not problems, (f"the PDF build logged {len(problems)} warning(s) or error(s) "
                          f"(full log in {BUILD_LOG}):\n" + "\n".join(problems[:20]))
    note("build log", "no warning")


@pytest.fixture(scope="session")
def text(pdf: Path) -> str:
    return run("pdftotext", "-enc", "UTF-8", str(pdf), "-")


@pytest.fixture(scope="session")
def tex_log(pdf: Path) -> str:
    """The LaTeX log with TeX's line wrapping (at 79 characters) undone."""
    lines = TEX_LOG.read_text(encoding="utf-8", errors="replace").split("\n")
    joined: list[str] = []
    carry = ""
    for line in lines:
        if 79 in (len(line), len(line.encode("utf-8"))):
            carry += line
        else:
            joined.append(carry + line)
            carry = ""
    return "\n".join(joined + ([carry] if carry else []))


# ---------------------------------------------------------------- the tests


def test_every_character_has_a_glyph(tex_log: str) -> None:
    """XeLaTeX drops a character its font lacks, and says so only in the log."""
    missing = sorted(set(re.findall(r"Missing character: There is no (.+?) in font ([^/;]+)",
                                    tex_log)))
    assert not missing, "characters printed as nothing:\n" + "\n".join(
        f"  {char} (U+{ord(char[0]):04X}) in {font}" for char, font in missing)


def test_toc_titles_in_order(text: str) -> None:
    """Parts and numbered chapters of _toc.yml: in the contents, then in the body, in order."""
    flat = squash(text)
    start = flat.lower().find("contents")
    assert start >= 0, "no table of contents"
    parts = toc_parts()
    position, number = start, 0
    for caption, chapters in parts:
        if caption:
            found = flat.find(caption, position)
            assert found >= 0, f"part {caption!r} not in the table of contents, in order"
            position = found + len(caption)
        for docname in chapters:
            number += 1
            entry = f"{number} {squash(title_of(docname))}"
            found = flat.find(entry, position)
            assert found >= 0, f"{entry!r} not in the table of contents, in order"
            position = found + len(entry)
    note("chapters", f"{number} numbered chapters in {sum(1 for c, _ in parts if c)} parts")
    for _, chapters in parts:  # then each chapter's title in the body, in the same order
        for docname in chapters:
            title = squash(title_of(docname))
            found = flat.find(title, position)
            assert found >= 0, f"chapter {title!r} not found in the body, in order"
            position = found + len(title)


def test_no_unresolved_reference(text: str) -> None:
    lines = [line for line in text.splitlines() if "??" in line or "[?]" in line]
    assert not lines, "unresolved references:\n" + "\n".join(lines[:20])


def test_no_raw_tex_outside_code(text: str) -> None:
    """A $ or \\command in the PDF's text is allowed only where code or its output has it."""
    corpus = re.sub(r"[\s-]", "", code_corpus())
    suspect = re.compile(r"\$|\\[A-Za-z]+")
    leaks = []
    for line in text.splitlines():
        # wrapped code lines carry a continuation arrow and a visible space at the break
        line = squash(line.replace("\u21aa", " ").replace("\u2423", " "))
        if not suspect.search(line):
            continue
        # A wrapped code line is still a piece of its code line; spaces and hyphens are compared away
        # (pdftotext loses a hyphen at a break inside "--claim").
        if re.sub(r"[\s-]", "", line) not in corpus:
            leaks.append(line)
    assert not leaks, f"{len(leaks)} line(s) of raw TeX in the text:\n" + "\n".join(leaks[:20])


def test_every_figure_is_in_the_pdf_as_vector(tex_log: str, pdf: Path) -> None:
    made = figures_made()
    included = re.findall(r"File: (\S+?\.(pdf|png|jpg|jpeg)) Graphic file \(type (\w+)\)", tex_log)
    files = [name for name, _, _ in included]
    raster = [name for name, ext, _ in included if ext != "pdf"]
    note("figures", f"{made} made by the notebooks, {len(files)} in the PDF ({len(raster)} raster)")
    assert len(files) == made, (f"the notebooks make {made} figures; the PDF includes {len(files)}: "
                                f"{files}")
    assert not raster, f"figures included as raster images, not vector: {raster}"
    # The PDF embeds exactly the raster images inside those figure files (an imshow matrix).
    inside = 0
    for name in files:
        listing = run("pdfimages", "-list", str(LATEX / name)).splitlines()[2:]
        inside += len([row for row in listing if row.split()[2] == "image"])
    rows = [row.split() for row in run("pdfimages", "-list", str(pdf)).splitlines()[2:]]
    images = [row for row in rows if row[2] == "image"]
    ppi = min((min(int(row[12]), int(row[13])) for row in images), default=None)
    note("images", (f"{len(images)} raster images embedded, all inside vector figures"
                         + (f", at least {ppi} ppi" if ppi is not None else "")))
    assert len(images) == inside, (f"the PDF embeds {len(images)} raster images; its figures "
                                   f"contain {inside}")
    low = [f"page {row[0]}: {row[3]}x{row[4]} px at {row[12]} ppi" for row in images
           if min(int(row[12]), int(row[13])) < MIN_PPI]
    assert not low, f"raster images below {MIN_PPI} ppi (not print resolution):\n" + "\n".join(low)


def test_solutions_are_collected_at_chapter_ends(text: str) -> None:
    solutions = sum(len(re.findall(r"^`{3,}\{solution-start\}", text_of(cell), flags=re.M))
                    for docname in all_chapters() for cell in cells(docname)
                    if cell["cell_type"] == "markdown")
    with_solutions = sum(
        1 for docname in all_chapters()
        if any(cell["cell_type"] == "markdown" and "{solution-start}" in text_of(cell)
               for cell in cells(docname)))
    flat = squash(text)
    pointers = re.findall(r"Solution on page (\d+)\.", flat)
    sections = flat.count("Solutions to the exercises")
    note("solutions", f"{solutions} solutions in {with_solutions} chapters' solution sections")
    assert len(pointers) == solutions, (f"{solutions} solutions in the notebooks, "
                                        f"{len(pointers)} 'Solution on page N' pointers")
    # each collected section appears in the contents and as a heading
    assert sections >= 2 * with_solutions, (f"{with_solutions} chapters have solutions; "
                                            f"'Solutions to the exercises' appears {sections} times")


def test_no_overfull_line_beyond_the_bound(tex_log: str) -> None:
    widths = [(float(points), where) for points, where in
              re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\) (.*)", tex_log)]
    worst = max(widths, default=(0.0, ""))
    note("overfull lines", (f"{len(widths)} overfull \\hbox, widest {worst[0]:.1f} pt "
                                 f"(bound {OVERFULL_BOUND_PT} pt)"))
    over = [f"{points:.1f} pt {where}" for points, where in widths if points > OVERFULL_BOUND_PT]
    assert not over, "lines running into the margin:\n" + "\n".join(over[:20])


def test_nothing_runs_into_the_footer(tex_log: str) -> None:
    """An overfull \\vbox is a page whose content is taller than the text area: a code cell
    in a box that could not break ran into the footer (fixed by unboxing the solutions)."""
    heights = [float(points) for points in
               re.findall(r"Overfull \\vbox \(([\d.]+)pt too high\)", tex_log)]
    over = [h for h in heights if h > OVERFULL_BOUND_PT]
    assert not over, f"pages overfull by {over} pt (bound {OVERFULL_BOUND_PT} pt)"


def test_page_count(pdf: Path) -> None:
    info = run("pdfinfo", str(pdf))
    pages = int(re.search(r"^Pages:\s+(\d+)", info, flags=re.M).group(1))
    note("pages", f"{pages} (bound {PAGES[0]}-{PAGES[1]})")
    assert PAGES[0] <= pages <= PAGES[1], f"{pages} pages, outside {PAGES}"
