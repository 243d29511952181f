"""_ext/mathml.py, the build-time MathML renderer, on its own: Sphinx's display wrapping, TeX's
control space, and the fallback to MathJax (warned about unless listed) in a small real build.
The whole book's pages are checked in a browser by tests/test_site.py."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))

import mathml  # noqa: E402


class Config:
    mathjax3_config = {"tex": {"macros": {"R": r"\mathbb{R}"}}}
    mathml_macros = {"tr": r"\operatorname{tr}"}


def test_display_math_is_wrapped_as_sphinx_wraps_it_with_aligned_for_split():
    assert mathml.wrap_for_mathml("a = b") == "a = b"
    assert mathml.wrap_for_mathml("a &= b \\\\\n c &= d") == \
        r"\begin{aligned}a &= b \\" + "\n" + r" c &= d\end{aligned}"
    # several parts (blank lines between them): rows of one aligned, each split part nested
    assert mathml.wrap_for_mathml("a = b\n\nc &= d \\\\ e &= f") == \
        r"\begin{aligned}a = b\\\begin{aligned}c &= d \\ e &= f\end{aligned}\end{aligned}"
    # the fallback gets exactly sphinx.ext.mathjax's wrapping
    assert mathml.wrap_for_mathjax("a &= b \\\\ c &= d") == r"\begin{split}a &= b \\ c &= d\end{split}"


def test_the_book_macros_and_tex_control_space():
    out, error = mathml.to_mathml(Config, r"\tr(X) \in \R", display=False)
    assert error == "" and "tr" in out and "ℝ" in out
    # a backslash ending a line is TeX's control space; a \\ ending a line stays a line break
    out, error = mathml.to_mathml(Config, "a,\\\nb", display=True)
    assert error == "" and "<mtext>\xa0</mtext>" in out  # the control space, drawn as a space
    out, error = mathml.to_mathml(Config, "\\begin{aligned}a\\\\\nb\\end{aligned}", display=True)
    assert error == "" and out.count("<mtr>") == 2


def test_colon_is_spaced_as_amsmath_spaces_it():
    out, error = mathml.to_mathml(Config, r"X\colon m", display=False)
    assert error == "" and out.startswith("<math><mi>X</mi><mspace") and "<mi>:</mi>" not in out


def test_a_prime_follows_its_letter():
    out, _ = mathml.to_mathml(Config, "h'(z) + g''_{ij} + \\tanh'", display=False)
    assert "<msup>" not in out and "<msubsup>" not in out, out
    assert '<mrow><mi>h</mi><mo lspace="0" rspace="0">′</mo></mrow>' in out
    assert '<msub><mrow><mi>g</mi><mo lspace="0" rspace="0">″</mo></mrow><mrow><mi>i</mi>' in out


def test_circled_binary_operators_are_never_large():
    out, _ = mathml.to_mathml(Config, r"A \odot B \otimes C", display=True)
    assert '<mo lspace="0.2222em" rspace="0.2222em" largeop="false">⊙</mo>' in out, out
    assert 'largeop="false">⊗</mo>' in out


def test_an_unknown_command_is_an_error_not_red_text():
    out, error = mathml.to_mathml(Config, r"\nosuchmacro{x}", display=False)
    assert out is None and "nosuchmacro" in error


@pytest.mark.parametrize("listed", [False, True])
def test_a_formula_math_core_cannot_take_falls_back_to_mathjax_on_its_page(tmp_path, listed):
    from sphinx.application import Sphinx

    source = tmp_path / "src"
    source.mkdir()
    fallbacks = {r"\nosuchmacro{x}": "an example"} if listed else {}
    (source / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(Path(mathml.__file__).parent)!r})\n"
        "extensions = ['mathml']\nhtml_math_renderer = 'mathml'\n"
        f"mathml_fallbacks = {fallbacks!r}\n", encoding="utf-8")
    (source / "index.rst").write_text(
        "Fine :math:`x^2`, not :math:`\\nosuchmacro{x}`.\n\n.. toctree::\n\n   other\n",
        encoding="utf-8")
    (source / "other.rst").write_text("Other\n=====\n\n.. math::\n   :label: e\n\n"
                                      "   a &= b \\\\ c &= d\n", encoding="utf-8")
    warnings, status = io.StringIO(), io.StringIO()
    app = Sphinx(str(source), str(source), str(tmp_path / "html"), str(tmp_path / "doctrees"),
                 "html", status=status, warning=warnings, freshenv=True)
    app.build()
    index = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    other = (tmp_path / "html" / "other.html").read_text(encoding="utf-8")
    assert "<math><msup><mi>x</mi><mn>2</mn></msup></math>" in index
    assert 'class="math notranslate nohighlight mathml-fallback" data-tex="\\nosuchmacro{x}"' \
        in index
    mathjax = app.config.mathjax_path
    assert mathjax in index and mathjax not in other  # MathJax on that page only
    assert '<span class="eqno">(1)<a class="headerlink" href="#equation-e"' in other
    assert 'id="equation-e"' in other and "<mtable" in other
    assert "STIXTwoMath-Regular.woff2" in other  # the font's preload
    assert (tmp_path / "html" / "_static" / "fonts" / "STIXTwoMath-Regular.woff2").is_file()
    if listed:
        assert "nosuchmacro" not in warnings.getvalue()
        assert "formula left to MathJax, as listed (an example)" in status.getvalue()
    else:
        assert "formula not converted to MathML" in warnings.getvalue()
        assert "nosuchmacro" in warnings.getvalue()
