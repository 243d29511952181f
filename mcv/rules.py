"""RULES: one row per operation of the expression language.

Each :class:`Rule` says how the operation is evaluated (with numpy), what shape it has (from
its operands' shapes, before anything is computed: the resource limits rest on this), and how
it prints (plain text and LaTeX). :mod:`mcv.expr` parses into nodes named by these rows,
:mod:`mcv.derive` differentiates them. An operation is added here once, and parse, evaluate,
shape inference and printing all see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["Rule", "RULES", "ShapeError", "broadcast", "ELEMENTWISE", "BINARY_ELEMENTWISE",
           "REDUCTIONS"]


class ShapeError(ValueError):
    """The operands' shapes do not fit the operation (found before evaluating)."""


Shape = tuple[int, ...]


@dataclass(frozen=True)
class Rule:
    """One operation: its numpy evaluation, its shape rule, how it prints."""

    name: str
    evaluate: Callable
    shape: Callable[..., Shape]   # (operand shapes..., **attrs) -> result shape
    text: str                     # plain-text template: {0}, {1} the operands
    latex: str                    # LaTeX template
    differentiable: bool = True   # False: derivative zero (comparisons) or none


def broadcast(*shapes: Shape) -> Shape:
    """numpy's broadcasting rule, or ShapeError naming the shapes."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ShapeError("shapes " + " and ".join(map(str, shapes)) + " do not broadcast "
                         "(numpy lines up trailing axes; a transpose or [:, None] missing?)")


def _matmul_shape(a: Shape, b: Shape) -> Shape:
    if not a or not b:
        raise ShapeError("@ needs arrays on both sides, not a scalar (use * to scale)")
    if a[-1] != (b[0] if len(b) == 1 else b[-2]):
        raise ShapeError(f"@ of shapes {a} and {b}: the inner sizes {a[-1]} and "
                         f"{b[0] if len(b) == 1 else b[-2]} differ (a transpose missing, or "
                         "the factors in the wrong order?)")
    if len(a) == 1 and len(b) == 1:
        return ()
    if len(a) == 1:
        return b[:-2] + b[-1:]
    if len(b) == 1:
        return a[:-1]
    return broadcast(a[:-2], b[:-2]) + (a[-2], b[-1])


def _dot_shape(a: Shape, b: Shape) -> Shape:
    if not a or not b:
        return broadcast(a, b)
    if len(a) <= 2 and len(b) <= 2:
        return _matmul_shape(a, b)
    raise ShapeError("np.dot of arrays with more than two axes: use np.einsum")


def _normalize_axes(axis, ndim: int) -> tuple[int, ...]:
    axes = axis if isinstance(axis, tuple) else (axis,)
    out = []
    for k in axes:
        if not -ndim <= k < ndim:
            raise ShapeError(f"axis {k} is out of range for an array with {ndim} axes")
        out.append(k % ndim)
    return tuple(sorted(out))


def reduce_shape(a: Shape, axis=None, keepdims=False) -> Shape:
    """The shape of a reduction over ``axis`` (None: all axes)."""
    if axis is None:
        return tuple(1 for _ in a) if keepdims else ()
    axes = _normalize_axes(axis, len(a))
    if keepdims:
        return tuple(1 if k in axes else n for k, n in enumerate(a))
    return tuple(n for k, n in enumerate(a) if k not in axes)


def _square(a: Shape, what: str) -> Shape:
    if len(a) != 2 or a[0] != a[1]:
        raise ShapeError(f"{what} needs a square matrix, not shape {a}")
    return a


def _trace_shape(a: Shape) -> Shape:
    if len(a) != 2:
        raise ShapeError(f"np.trace needs a matrix, not shape {a}")
    return ()


def _diag_shape(a: Shape) -> Shape:
    if len(a) == 1:
        return (a[0], a[0])
    if len(a) == 2:
        return (min(a),)
    raise ShapeError(f"np.diag needs a vector or a matrix, not shape {a}")


def _solve_shape(a: Shape, b: Shape) -> Shape:
    _square(a, "np.linalg.solve")
    if not b or b[0] != a[0] or len(b) > 2:
        raise ShapeError(f"np.linalg.solve(A, b) with A {a}: b must have {a[0]} rows, "
                         f"not shape {b}")
    return b


def _einsum_shape(*shapes: Shape, subscripts: str) -> Shape:
    inputs, output = subscripts.split("->")
    sizes: dict[str, int] = {}
    for letters, shape in zip(inputs.split(","), shapes):
        for letter, n in zip(letters, shape):
            if sizes.setdefault(letter, n) != n:
                raise ShapeError(f"np.einsum('{subscripts}'): index {letter} has sizes "
                                 f"{sizes[letter]} and {n}")
    return tuple(sizes[letter] for letter in output)


def _norm_shape(a: Shape, ord=None, axis=None, keepdims=False) -> Shape:
    if axis is None and ord in ("fro", "nuc") and len(a) != 2:
        raise ShapeError(f"np.linalg.norm(..., '{ord}') needs a matrix, not shape {a}")
    if axis is None and ord is not None and len(a) > 2:
        raise ShapeError(f"np.linalg.norm with ord= needs a vector or a matrix, not {a}")
    return reduce_shape(a, axis, keepdims)


def _unary(f, name, latex, differentiable=True):
    return Rule(name, f, lambda a: a, f"{name}({{0}})", latex, differentiable)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


#: Entrywise functions of one argument (name -> numpy function, LaTeX).
ELEMENTWISE = {
    "exp": (np.exp, r"\exp({0})"), "expm1": (np.expm1, r"(\exp({0}) - 1)"),
    "log": (np.log, r"\log({0})"), "log1p": (np.log1p, r"\log(1 + {0})"),
    "log2": (np.log2, r"\log_2({0})"), "log10": (np.log10, r"\log_{{10}}({0})"),
    "sqrt": (np.sqrt, r"\sqrt{{{0}}}"), "square": (np.square, r"({0})^{{\circ 2}}"),
    "abs": (np.abs, r"\lvert {0} \rvert"), "sign": (np.sign, r"\operatorname{{sign}}({0})"),
    "sin": (np.sin, r"\sin({0})"), "cos": (np.cos, r"\cos({0})"), "tan": (np.tan, r"\tan({0})"),
    "sinh": (np.sinh, r"\sinh({0})"), "cosh": (np.cosh, r"\cosh({0})"),
    "tanh": (np.tanh, r"\tanh({0})"), "arctan": (np.arctan, r"\arctan({0})"),
    "arcsin": (np.arcsin, r"\arcsin({0})"), "arccos": (np.arccos, r"\arccos({0})"),
    "arcsinh": (np.arcsinh, r"\operatorname{{arsinh}}({0})"),
    "arctanh": (np.arctanh, r"\operatorname{{artanh}}({0})"),
    "sigmoid": (_sigmoid, r"\sigma({0})"),
}
#: Entrywise functions of two broadcast arguments.
BINARY_ELEMENTWISE = {
    "add": (np.add, "{0} + {1}", "{0} + {1}"), "sub": (np.subtract, "{0} - {1}", "{0} - {1}"),
    "mul": (np.multiply, "{0} * {1}", r"{0} \odot {1}"),
    "div": (np.divide, "{0} / {1}", r"{0} \oslash {1}"),
    "pow": (np.power, "{0}**{1}", "{0}^{{\\circ {1}}}"),
    "maximum": (np.maximum, "np.maximum({0}, {1})", r"\max({0}, {1})"),
    "minimum": (np.minimum, "np.minimum({0}, {1})", r"\min({0}, {1})"),
    "logaddexp": (np.logaddexp, "np.logaddexp({0}, {1})", r"\log(e^{{{0}}} + e^{{{1}}})"),
    "heaviside": (np.heaviside, "np.heaviside({0}, {1})", r"H({0})"),
}
COMPARISONS = {"gt": (np.greater, ">"), "ge": (np.greater_equal, ">="),
               "lt": (np.less, "<"), "le": (np.less_equal, "<="),
               "eq": (np.equal, "=="), "ne": (np.not_equal, "!=")}
REDUCTIONS = {"sum": np.sum, "mean": np.mean, "prod": np.prod, "max": np.max, "min": np.min}


def _slogdet_part(part: int):
    return lambda a: np.linalg.slogdet(a)[part]


def _build() -> dict[str, Rule]:
    rules = {name: _unary(f, name, latex) for name, (f, latex) in ELEMENTWISE.items()}
    for name, (f, text, latex) in BINARY_ELEMENTWISE.items():
        rules[name] = Rule(name, f, broadcast, text, latex, name != "heaviside")
    for name, (f, symbol) in COMPARISONS.items():
        rules[name] = Rule(name, f, broadcast, f"({{0}} {symbol} {{1}})",
                           f"[{{0}} {symbol} {{1}}]", differentiable=False)
    for name, f in REDUCTIONS.items():
        rules[name] = Rule(name, lambda a, axis=None, keepdims=False, f=f:
                           f(a, axis=axis, keepdims=keepdims), reduce_shape,
                           f"np.{name}({{0}})", rf"\operatorname{{{name}}}({{0}})")
    rules.update({
        "neg": Rule("neg", np.negative, lambda a: a, "-{0}", "-{0}"),
        "where": Rule("where", np.where, broadcast, "np.where({0}, {1}, {2})",
                      r"\operatorname{{where}}({0}, {1}, {2})"),
        "clip": Rule("clip", np.clip, broadcast, "np.clip({0}, {1}, {2})",
                     r"\operatorname{{clip}}({0}, {1}, {2})"),
        "matmul": Rule("matmul", np.matmul, _matmul_shape, "{0} @ {1}", "{0} {1}"),
        "dot": Rule("dot", np.dot, _dot_shape, "np.dot({0}, {1})", "{0} {1}"),
        "outer": Rule("outer", np.outer, lambda a, b: (int(np.prod(a)), int(np.prod(b))),
                      "np.outer({0}, {1})", r"{0} {1}^{{\top}}"),
        "kron": Rule("kron", np.kron, lambda a, b: _kron_shape(a, b), "np.kron({0}, {1})",
                     r"{0} \otimes {1}"),
        "einsum": Rule("einsum", lambda *a, subscripts: np.einsum(subscripts, *a),
                       _einsum_shape, "np.einsum({0})", r"\operatorname{{einsum}}({0})"),
        "transpose": Rule("transpose", np.transpose, lambda a: a[::-1], "{0}.T", "{0}^{{\\top}}"),
        "reshape": Rule("reshape", lambda a, newshape: np.reshape(a, newshape),
                        lambda a, newshape: tuple(newshape), "{0}.reshape(...)",
                        r"\operatorname{{reshape}}({0})"),
        "trace": Rule("trace", np.trace, _trace_shape, "np.trace({0})", r"\operatorname{{tr}}({0})"),
        "diag": Rule("diag", np.diag, _diag_shape, "np.diag({0})", r"\operatorname{{diag}}({0})"),
        "inv": Rule("inv", np.linalg.inv, lambda a: _square(a, "np.linalg.inv"),
                    "np.linalg.inv({0})", "{0}^{{-1}}"),
        "pinv": Rule("pinv", np.linalg.pinv, lambda a: a[::-1] if len(a) == 2 else
                     _bad(f"np.linalg.pinv needs a matrix, not {a}"),
                     "np.linalg.pinv({0})", "{0}^{{+}}"),
        "det": Rule("det", np.linalg.det, lambda a: (_square(a, "np.linalg.det"), ())[1],
                    "np.linalg.det({0})", r"\det({0})"),
        "logabsdet": Rule("logabsdet", _slogdet_part(1),
                          lambda a: (_square(a, "np.linalg.slogdet"), ())[1],
                          "np.linalg.slogdet({0})[1]", r"\log\lvert\det {0}\rvert"),
        "signdet": Rule("signdet", _slogdet_part(0),
                        lambda a: (_square(a, "np.linalg.slogdet"), ())[1],
                        "np.linalg.slogdet({0})[0]", r"\operatorname{{sign}}\det {0}",
                        differentiable=False),
        "solve": Rule("solve", np.linalg.solve, _solve_shape, "np.linalg.solve({0}, {1})",
                      "{0}^{{-1}} {1}"),
        "cholesky": Rule("cholesky", np.linalg.cholesky,
                         lambda a: _square(a, "np.linalg.cholesky"),
                         "np.linalg.cholesky({0})", r"\operatorname{{chol}}({0})"),
        "eigvalsh": Rule("eigvalsh", np.linalg.eigvalsh,
                         lambda a: (_square(a, "np.linalg.eigvalsh")[0],),
                         "np.linalg.eigvalsh({0})", r"\lambda({0})"),
        "norm": Rule("norm", lambda a, ord=None, axis=None, keepdims=False:
                     np.linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims), _norm_shape,
                     "np.linalg.norm({0})", r"\lVert {0} \rVert"),
        "ones_like": Rule("ones_like", np.ones_like, lambda a: a, "np.ones_like({0})",
                          r"\mathbf{{1}}", differentiable=False),
        "zeros_like": Rule("zeros_like", np.zeros_like, lambda a: a, "np.zeros_like({0})",
                           "0", differentiable=False),
    })
    return rules


def _bad(message: str):
    raise ShapeError(message)


def _kron_shape(a: Shape, b: Shape) -> Shape:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    return tuple(p * q for p, q in zip(a, b))


RULES: dict[str, Rule] = _build()
