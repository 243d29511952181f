"""How the operations are written: the printing entries of the rows of :data:`mcv.rules.RULES`.

A row prints in three styles: ``math`` (what a person writes: ``2 (W u − v) uᵀ``), ``latex``
and ``numpy`` (code in the safe language, which :func:`mcv.expr.parse` reads back). A row's
entry for a style is either a template (``"tanh({0})"``: the operands' texts, keywords by
name, the row's precedence) or one of the functions below, ``(printer, node) -> (text,
precedence)``. Math and LaTeX share the functions: they differ only in vocabulary
(:class:`Vocabulary`: ``ᵀ`` or ``^{\\top}``); numpy code has functions of its own.

Precedence comes from one table, :data:`PRECEDENCE`; the printer brackets an operand whose
precedence is below what its place needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["PRECEDENCE", "Vocabulary", "VOCABULARY", "number_text", "constant", "filled",
           "negation", "sum_or_difference", "product", "quotient", "power", "matrix_product",
           "outer_product", "transposed", "comparison", "subscript", "stacked", "inverse",
           "log_abs_det", "sign_det", "reduction", "total", "norm", "einsum", "reshape",
           "code_call", "code_einsum", "code_reshape", "code_slogdet", "code_stack",
           "code_product", "code_power", "code_matrix_product", "code_outer",
           "code_transposed", "code_comparison", "code_sigmoid", "softmax", "code_softmax",
           "code_logsumexp", "code_onehot", "fraction"]

#: Binding strength: an operand is bracketed when its precedence is below what its place
#: needs (the right operand of − needs a product, a base of a power needs an atom).
PRECEDENCE = {"sum": 1, "product": 2, "unary": 3, "power": 4, "atom": 9}
SUM, PRODUCT, UNARY, POWER, ATOM = (PRECEDENCE[k] for k in
                                    ("sum", "product", "unary", "power", "atom"))


@dataclass(frozen=True)
class Vocabulary:
    """The symbols that differ between math and LaTeX."""

    minus: str
    transpose: str
    inverse: str
    inverse_transpose: str
    ones: str
    hadamard: str
    divide: str
    open: str
    close: str


VOCABULARY = {
    "math": Vocabulary("−", "ᵀ", "⁻¹", "⁻ᵀ", "𝟙", " ⊙ ", " ⊘ ", "(", ")"),
    "latex": Vocabulary("-", r"^{\top}", "^{-1}", r"^{-\top}", r"\mathbf{1}", r" \odot ",
                        r" \oslash ", r"\left(", r"\right)"),
}
_SUPERSCRIPT = str.maketrans("0123456789-.", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻·")


def number_text(value: float) -> str:
    """A number as a person writes it: 2, not 2.0."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)


def _value(n):
    return n.attrs["value"] if n.op == "const" else None


# ----------------------------------------------------------- leaves (math, LaTeX, numpy)

def constant(p, n):
    v = n.attrs["value"]
    named = {math.pi: {"numpy": "np.pi", "latex": "\\pi", "math": "π"},
             math.e: {"numpy": "np.e", "latex": "e", "math": "e"}}
    text = named[v][p.style] if v in named else number_text(abs(v))
    return (f"-{text}", UNARY) if v < 0 else (text, ATOM)


def filled(p, n):
    """zeros, ones and eye of a shape."""
    shape = n.attrs["shape"]
    if p.style == "numpy":
        return (f"np.eye({shape[0]})" if n.op == "eye" else
                f"np.{n.op}({shape if len(shape) > 1 else shape[0]})"), ATOM
    return {"zeros": "0", "ones": p.v.ones, "eye": "I"}[n.op], ATOM


# -------------------------------------------------------- operators (math and LaTeX)

def negation(p, n):
    minus = p.v.minus if p.style != "numpy" else "-"
    return minus + p.wrap(n.args[0], UNARY), UNARY


def _spread_text(p, operand, shape):
    """v[:, None] broadcast to a matrix reads v 𝟙ᵀ (and v[None, :] reads 𝟙 vᵀ) in math
    and LaTeX; None for any other operand (numpy keeps its own syntax)."""
    if p.style == "numpy" or len(shape) != 2:
        return None
    if operand.op == "mean" and len(operand.args[0].shape) == 2 and \
            operand.attrs.get("axis") in (0, 1, -1, -2):  # means spread: 𝟙 𝟙ᵀ X / m
        axis, inner = operand.attrs["axis"] % 2, p.wrap(operand.args[0], UNARY)
        ones_ones = f"{p.v.ones} {p.v.ones}{p.v.transpose}"
        text = f"{ones_ones} {inner}" if axis == 0 else f"{inner} {ones_ones}"
        count = operand.args[0].shape[axis]
        return rf"\frac{{{text}}}{{{count}}}" if p.style == "latex" else f"{text} / {count}"
    if operand.op != "index" or len(operand.args[0].shape) != 1:
        return None
    key = operand.attrs["key"]
    vector = operand.args[0]
    if key == (slice(None), None) and shape[1] != 1:
        return p.wrap(vector, UNARY) + f" {p.v.ones}{p.v.transpose}"
    if key == (None, slice(None)) and shape[0] != 1:
        return f"{p.v.ones} " + p.wrap(vector, ATOM) + p.v.transpose
    return None


def sum_or_difference(p, n):
    sign = " + " if n.op == "add" else (" − " if p.style == "math" else " - ")
    right = PRODUCT if n.op == "sub" else SUM
    texts = [_spread_text(p, a, n.shape) or p.wrap(a, least)
             for a, least in zip(n.args, (SUM, right))]
    return texts[0] + sign + texts[1], SUM


def product(p, n):
    """Entrywise product: a space when a factor is a scalar, ⊙ otherwise; k (A B) reads k A B;
    a fraction k = p/q reads p A / q (LaTeX: \\frac{p}{q} A)."""
    a, b = n.args
    ratio = fraction(_value(a)) if _value(a) is not None else None
    if ratio is not None:
        top, bottom = ratio
        if p.style == "latex":
            sign = "-" if top < 0 else ""
            return rf"{sign}\frac{{{abs(top)}}}{{{bottom}}} " + p.wrap(b, PRODUCT), PRODUCT
        factor = "" if abs(top) == 1 else f"{abs(top)} "
        text = factor + p.wrap(b, PRODUCT) + f" / {bottom}"
        return (p.v.minus + text, UNARY) if top < 0 else (text, PRODUCT)
    scalar = a.shape == () or b.shape == ()
    symbol = " " if scalar else p.v.hadamard
    right = PRODUCT if _value(a) is not None or (a.shape == () and b.op == "matmul") \
        else UNARY
    return p.wrap(a, PRODUCT if scalar else UNARY) + symbol + p.wrap(b, right), PRODUCT


def quotient(p, n):
    a, b = n.args
    if p.style == "latex" and b.shape == ():
        return rf"\frac{{{p.text(a)}}}{{{p.text(b)}}}", ATOM
    symbol = " / " if p.style == "math" and b.shape == () else p.v.divide
    return p.wrap(a, PRODUCT) + symbol + p.wrap(b, UNARY), PRODUCT


def power(p, n):
    """A^∘p entrywise (a superscript for a number, ^(p) for an expression); LaTeX ^{\\circ p}."""
    a, exponent = n.args[0], p.text(n.args[1])
    base = p.wrap(a, POWER + 1)
    if p.style == "latex":
        mark = "" if a.shape == () else r"\circ "
        return base + f"^{{{mark}{exponent}}}", POWER
    if _value(n.args[1]) is None:
        return base + "^(" + exponent + ")", POWER
    ratio = fraction(_value(n.args[1]))
    if ratio is not None:  # x^(−2/3), not a superscript of 0.6666…
        sign = p.v.minus if ratio[0] < 0 else ""
        mark = "" if a.shape == () else "∘"
        return base + f"^{mark}({sign}{abs(ratio[0])}/{ratio[1]})", POWER
    return (base + exponent.translate(_SUPERSCRIPT) if a.shape == () else
            base + "^∘" + exponent), POWER


def matrix_product(p, n):
    a, b = n.args
    if len(a.shape) == 1 and len(b.shape) == 2:  # xᵀA printed as the column Aᵀx
        return p.render(p.b.matmul(p.b.transpose(b), a))
    if len(a.shape) == 1 and len(b.shape) == 1:
        return p.wrap(a, ATOM) + p.v.transpose + " " + p.wrap(b, UNARY), PRODUCT
    # in print, A ⊙ B C is ambiguous: a Hadamard factor of a product gets brackets
    least = PRODUCT if a.op in ("matmul", "transpose") or (
        a.op == "mul" and _value(a.args[0]) is not None) else UNARY
    # A (B C) = A B C: a product is associative, its right factor needs no brackets
    right = PRODUCT if b.op == "outer" or (b.op == "matmul" and len(b.args[0].shape) == 2) \
        else UNARY
    return p.wrap(a, least) + " " + p.wrap(b, right), PRODUCT


def _column_sum(n, axis):
    """A of sum(A, axis=axis) for a matrix A, else None."""
    if n.op == "sum" and len(n.args[0].shape) == 2 and not n.attrs.get("keepdims") and \
            n.attrs.get("axis") in (axis, axis - 2):
        return n.args[0]
    return None


def outer_product(p, n):
    """a bᵀ; a (Aᵀ𝟙)ᵀ reads a 𝟙ᵀ A and (A𝟙) bᵀ reads A 𝟙 bᵀ."""
    a, b = n.args
    summed = _column_sum(b, 0)
    if summed is not None:
        return (p.wrap(a, UNARY) + f" {p.v.ones}{p.v.transpose} " + p.wrap(summed, UNARY),
                PRODUCT)
    summed = _column_sum(a, 1)
    if summed is not None:
        least = PRODUCT if summed.op in ("matmul", "transpose") else UNARY
        return (p.wrap(summed, least) + f" {p.v.ones} " + p.wrap(b, ATOM) + p.v.transpose,
                PRODUCT)
    # (M v) bᵀ = M v bᵀ: the left factor's product needs no brackets
    left = PRODUCT if a.op == "matmul" else UNARY
    return p.wrap(a, left) + " " + p.wrap(b, ATOM) + p.v.transpose, PRODUCT


def transposed(p, n):
    inner = n.args[0]
    if inner.op == "inv":  # X^{-T}, not the double superscript X^{-1}^{T}
        return p.wrap(inner.args[0], ATOM) + p.v.inverse_transpose, ATOM
    base = p.wrap(inner, ATOM)
    if p.style == "latex" and "^" in base and not base.endswith(p.v.close):
        base = "{" + base + "}"
    return base + p.v.transpose, ATOM


def comparison(p, n):
    """[a > b] (Iverson's bracket); in numpy (a > b)."""
    text = p.wrap(n.args[0], SUM) + f" {p.row(n).symbol} " + p.wrap(n.args[1], SUM)
    return f"[{text}]", ATOM


def _key_text(key) -> str:
    def one(k):
        if k is None:
            return "None"
        if isinstance(k, slice):
            return ":".join("" if v is None else str(v) for v in (k.start, k.stop, k.step)
                            ).rstrip(":") or ":"
        return "..." if k is Ellipsis else str(k)
    return "[" + ", ".join(one(k) for k in (key if isinstance(key, tuple) else (key,))) + "]"


def subscript(p, n):
    return p.wrap(n.args[0], ATOM) + _key_text(n.attrs["key"]), ATOM


def stacked(p, n):
    return "[" + ", ".join(p.text(a) for a in n.args) + "]", ATOM


def inverse(p, n):
    return p.wrap(n.args[0], ATOM) + p.v.inverse, ATOM


def log_abs_det(p, n):
    if p.style == "latex":
        return r"\log\lvert\det " + p.text(n.args[0]) + r"\rvert", ATOM
    return "log|det " + p.text(n.args[0]) + "|", ATOM


def sign_det(p, n):
    if p.style == "latex":
        return r"\operatorname{sign}(\det " + p.text(n.args[0]) + ")", ATOM
    return "sign(det " + p.text(n.args[0]) + ")", ATOM


def _operator_name(p, name: str) -> str:
    return rf"\operatorname{{{name}}}" if p.style == "latex" else name


def reduction(p, n):
    """mean(A), or with an axis mean_axis0(A) (LaTeX: a subscript); ddof= when not 0."""
    axis, name = n.attrs.get("axis"), _operator_name(p, p.row(n).numpy)
    extra = f", ddof={n.attrs['ddof']}" if n.attrs.get("ddof") else ""
    if axis is None:
        return f"{name}({p.text(n.args[0])}{extra})", ATOM
    rank = len(n.args[0].shape)
    axis = axis % rank if isinstance(axis, int) else tuple(a % rank for a in axis)
    if n.op == "mean" and rank == 2 and axis in (0, 1):  # column means 𝟙ᵀX / n as Xᵀ𝟙 / n
        inner = p.wrap(n.args[0], ATOM)
        summed = f"{inner} {p.v.ones}" if axis == 1 else \
            f"{inner}{p.v.transpose} {p.v.ones}"
        count = n.args[0].shape[axis]
        if p.style == "latex":
            return rf"\frac{{{summed}}}{{{count}}}", ATOM
        return f"{summed} / {count}", PRODUCT
    if rank == 2 and axis in (0, 1):
        word = "cols" if axis == 0 else "rows"
        below = rf"_{{\text{{{word}}}}}" if p.style == "latex" else f"_{word}"
        return f"{name}{below}({p.text(n.args[0])}{extra})", ATOM
    below = f"_{{{axis}}}" if p.style == "latex" else f"_axis{axis}"
    return f"{name}{below}({p.text(n.args[0])}{extra})", ATOM


def total(p, n):
    """sum(A); a row or column sum of a matrix as A 𝟙 or Aᵀ 𝟙."""
    axis = n.attrs.get("axis")
    if axis in (0, 1) and len(n.args[0].shape) == 2:
        inner = p.wrap(n.args[0], ATOM)
        return (f"{inner} {p.v.ones}" if axis == 1 else
                f"{inner}{p.v.transpose} {p.v.ones}"), PRODUCT
    return reduction(p, n)


def norm(p, n):
    bars = ("‖", "‖") if p.style == "math" else (r"\lVert ", r"\rVert")
    return bars[0] + p.text(n.args[0]) + bars[1], ATOM


def einsum(p, n):
    args = ", ".join(p.text(a) for a in n.args)
    return f"einsum('{n.attrs['subscripts']}', {args})", ATOM


def reshape(p, n):
    sizes = "×".join(map(str, n.attrs["newshape"]))
    return f"reshape({p.text(n.args[0])}, {sizes})", ATOM


# ----------------------------------------------------------------------- numpy code

def code_call(p, n):
    """np.<name>(operands, keyword=value, ...), defaults left out."""
    args = [p.text(a) for a in n.args]
    extra = [f"{k}={v!r}" for k, v in n.attrs.items()
             if v is not None and not (k == "keepdims" and v is False)]
    return f"np.{p.row(n).numpy}({', '.join(args + extra)})", ATOM


def code_einsum(p, n):
    args = ", ".join(p.text(a) for a in n.args)
    return f"np.einsum('{n.attrs['subscripts']}', {args})", ATOM


def code_reshape(p, n):
    return f"np.reshape({p.text(n.args[0])}, {tuple(n.attrs['newshape'])})", ATOM


def code_slogdet(p, n):
    return f"np.linalg.slogdet({p.text(n.args[0])})[{1 if n.op == 'logabsdet' else 0}]", ATOM


def code_stack(p, n):
    return "np.array([" + ", ".join(p.text(a) for a in n.args) + "])", ATOM


def code_product(p, n):
    a, b = n.args
    ratio = fraction(_value(a)) if n.op == "mul" and _value(a) is not None else None
    if ratio is not None:
        top, bottom = ratio
        factor = "" if abs(top) == 1 else f"{abs(top)} * "
        text = factor + p.wrap(b, PRODUCT) + f" / {bottom}"
        return ("-" + text, UNARY) if top < 0 else (text, PRODUCT)
    right = PRODUCT if _value(a) is not None else UNARY
    symbol = " * " if n.op == "mul" else " / "
    return p.wrap(a, PRODUCT) + symbol + p.wrap(b, right if n.op == "mul" else UNARY), PRODUCT


def code_power(p, n):
    return p.wrap(n.args[0], POWER + 1) + "**" + p.wrap(n.args[1], POWER + 1), POWER


def code_matrix_product(p, n):
    """a @ b; np.dot with a scalar operand stays a call (@ refuses scalars)."""
    if n.op == "dot" and not all(a.shape for a in n.args):
        return code_call(p, n)
    return p.wrap(n.args[0], PRODUCT) + " @ " + p.wrap(n.args[1], UNARY), PRODUCT


def code_outer(p, n):
    return f"np.outer({p.text(n.args[0])}, {p.text(n.args[1])})", ATOM


def code_transposed(p, n):
    return p.wrap(n.args[0], ATOM) + ".T", ATOM


def code_comparison(p, n):
    text = p.wrap(n.args[0], SUM) + f" {p.row(n).symbol} " + p.wrap(n.args[1], SUM)
    return f"({text})", ATOM


def code_sigmoid(p, n):
    """No numpy function: written out, so that it parses back."""
    z = n.args[0]
    minus_z = p.text(z.args[0]) if z.op == "neg" else f"-{p.wrap(z, UNARY)}"
    return f"1 / (1 + np.exp({minus_z}))", PRODUCT


# ----------------------------------------------------------------- named functions

def _axis_suffix(n) -> str:
    """'' for the last axis (a row's softmax), else which axes."""
    axis, rank = n.attrs.get("axis"), len(n.args[0].shape)
    if rank <= 1 or axis == rank - 1 or axis == -1:
        return ""
    return "_all" if axis is None else ("_cols" if rank == 2 and axis == 0 else
                                        f"_axis{axis % rank}")


def softmax(p, n):
    """softmax(Z) along rows (the last axis), logsumexp(Z) likewise."""
    name = _operator_name(p, n.op + _axis_suffix(n).replace("_", r"\_" if p.style ==
                                                             "latex" else "_"))
    return f"{name}({p.text(n.args[0])})", ATOM


def _shift(p, n) -> tuple[str, str]:
    """The operand and its max along the axis, kept for broadcasting (max shift)."""
    inner, axis = p.text(n.args[0]), n.attrs.get("axis")
    kept = "" if axis is None else f", axis={axis}, keepdims=True"
    return inner, f"np.max({inner}{kept})"


def code_softmax(p, n):
    """exp(Z − max) / Σ exp(Z − max): never exp(Z) alone, which overflows."""
    inner, top = _shift(p, n)
    axis = n.attrs.get("axis")
    kept = "" if axis is None else f", axis={axis}, keepdims=True"
    shifted = f"np.exp({p.wrap(n.args[0], SUM)} - {top})"
    return f"{shifted} / np.sum({shifted}{kept})", PRODUCT


def code_logsumexp(p, n):
    """max + log Σ exp(Z − max)."""
    inner, top = _shift(p, n)
    axis, keep = n.attrs.get("axis"), n.attrs.get("keepdims", False)
    kept = "" if axis is None else f", axis={axis}" + (", keepdims=True" if keep else "")
    outer = f"np.max({inner}{kept})"
    return (f"{outer} + np.log(np.sum(np.exp({p.wrap(n.args[0], SUM)} - {top}){kept}))",
            SUM)


def fraction(value: float, largest: int = 1000):
    """(p, q) with value = p/q exactly in floating point and 1 < q ≤ ``largest``, or None."""
    from fractions import Fraction

    if not math.isfinite(value) or float(value).is_integer():
        return None
    f = Fraction(value).limit_denominator(largest)
    if f.denominator == 1 or abs(f.numerator / f.denominator - value) > 1e-15 * abs(value):
        return None
    return f.numerator, f.denominator


def code_onehot(p, n):
    """onehot(y): the labels compared with 0, 1, ..., k − 1 (parses back)."""
    classes = ", ".join(str(k) for k in range(n.attrs["classes"]))
    return f"({p.wrap(n.args[0], ATOM)}[:, None] == np.array([{classes}]))", ATOM
