"""RULES: one row per operation of the expression language, the only place one is described.

A :class:`Rule` holds everything about its operation: the numpy name it is called by, its
arity and keywords, its shape rule (:mod:`mcv.shapes`: found before anything is computed, so
the resource limits rest on it), its evaluation with numpy and, where numpy cannot take
sympy symbols through, with sympy (so :mod:`mcv.prove` can compare exactly), its reverse
rule (``pullback``) and forward rule (``forward``), how it prints in math, LaTeX and numpy
(:mod:`mcv.notation`), and its cost in multiply-adds. :mod:`mcv.expr` parses and evaluates
by these rows, :mod:`mcv.derive` differentiates and prints by them, ``mcv derive --help``
and :func:`operations_table` list them. Adding an operation is one row and its tests
(``tests/test_rules.py`` runs every row's rules against numbers).

The derivative entries build expressions with the smart constructors of
:mod:`mcv.simplify`, which they receive as the argument ``b``: ``pullback(node, g, b)``
returns ``[(operand, its share of the adjoint)]`` for C̄ = g, ``forward(node, d, b)`` returns
dC from the operands' differentials ``d`` (None for an operand that does not vary). Taking
``b`` as an argument keeps this module free of imports of the engine (no import cycle).

Leaves (variables, constants, 𝟙, 0, I) live in their own table, :data:`LEAVES`, so an
operation can never take a leaf's name: ``np.var`` is the row ``variance``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from mcv import notation as nt
from mcv import shapes as sh
from mcv.shapes import ShapeError, broadcast

__all__ = ["Rule", "Leaf", "RULES", "LEAVES", "CONSTANT", "ShapeError", "broadcast", "NoRule",
           "NoExactForm", "EXACT_INVERSE_MAX", "operations_table", "operations_help", "count"]


class NoRule(Exception):
    """The loss uses an operation (or a form of it) that the engine has no rule for."""


def count(shape) -> int:
    """Entries of an array of ``shape``."""
    return math.prod(shape)


def _entrywise_cost(args, shape, attrs) -> int:
    return count(shape) + sum(count(a) for a in args)


def _cubic_cost(args, shape, attrs) -> int:
    n = args[0][0] if args[0] else 1
    return n ** 3 + count(shape)


def _product_cost(args, shape, attrs) -> int:
    if args[0] and args[1]:
        return count(shape) * args[0][-1]
    return _entrywise_cost(args, shape, attrs)


def _einsum_cost(args, shape, attrs) -> int:
    sizes = {}
    for term, a in zip(attrs["subscripts"].split("->")[0].split(","), args):
        sizes.update(zip(term, a))
    return math.prod(sizes.values())


@dataclass(frozen=True)
class Rule:
    """One operation. ``math``, ``latex``, ``code`` (numpy) are templates or functions of
    :mod:`mcv.notation`; None prints as a call, ``name(...)``. ``pullback`` None: no
    derivative rule (``no_rule`` says why); :data:`CONSTANT`: piecewise constant."""

    name: str
    shape: Callable
    evaluate: Callable
    numpy: str | None = None           # np.<numpy>(...) parses to this row
    arity: int | None = 1              # None: any number of operands
    keywords: tuple[str, ...] = ()     # keyword arguments allowed (constant values)
    positional: tuple[str, ...] = ()   # keywords numpy also takes by position
    method: bool = False               # also written x.<numpy>(...)
    symbol: str | None = None          # the Python operator of an operator row
    sympy: Callable | None = None      # evaluation on arrays of sympy expressions
    pullback: Callable | None = None   # (node, C̄, b) -> [(operand, share of C̄)]
    forward: Callable | None = None    # (node, [dA or None, ...], b) -> dC or None (zero)
    math: str | Callable | None = None
    latex: str | Callable | None = None
    code: str | Callable | None = None
    precedence: int = nt.ATOM          # of a template's result (notation.PRECEDENCE)
    cost: Callable = _entrywise_cost   # (operand shapes, shape, keywords) -> multiply-adds
    no_rule: str = ""

    def form(self, style: str):
        """The printing entry for ``style`` ("math", "latex" or "numpy")."""
        given = {"math": self.math, "latex": self.latex, "numpy": self.code}[style]
        if given is not None:
            return given
        if style == "numpy":
            return nt.code_call
        name = self.name if style == "math" else r"\operatorname{{" + self.name + "}}"
        return name + "({args})"


@dataclass(frozen=True)
class Leaf:
    """A leaf of the tree: ``evaluate(attrs, values)`` and one printing function."""

    name: str
    evaluate: Callable
    printer: Callable

    def form(self, style: str):
        return self.printer


def _variable_name(p, n):
    return n.attrs["name"], nt.ATOM


LEAVES: dict[str, Leaf] = {
    "var": Leaf("var", lambda attrs, values: values[attrs["name"]], _variable_name),
    "const": Leaf("const", lambda attrs, values: attrs["value"], nt.constant),
    "eye": Leaf("eye", lambda attrs, values: np.eye(*attrs["shape"]), nt.filled),
    "ones": Leaf("ones", lambda attrs, values: np.ones(attrs["shape"]), nt.filled),
    "zeros": Leaf("zeros", lambda attrs, values: np.zeros(attrs["shape"]), nt.filled),
}


def CONSTANT(node, g, b):
    """The pullback of a piecewise-constant operation: zero almost everywhere."""
    return []


def _no_change(node, d, b):
    return None


# --------------------------------------------------------------- the derivative helpers

def _linear(node, d, b):
    """dC of an operation linear in all its operands: the operation of the differentials."""
    if all(x is None for x in d):
        return None
    return b.apply(node.op, *(b.const(0, a.shape) if x is None else x
                              for a, x in zip(node.args, d)), **node.attrs)


def _multilinear(node, d, b):
    """dC of an operation linear in each operand: the product rule, one term per operand."""
    return _sum_of([None if x is None else
                    b.apply(node.op, *node.args[:k], x, *node.args[k + 1:], **node.attrs)
                    for k, x in enumerate(d)], b)


def _sum_of(terms, b):
    """The sum of the terms that are not None (None when all are)."""
    total = None
    for term in terms:
        if term is not None:
            total = term if total is None else b.add(total, term)
    return total


def _times(factor, dx, b):
    return None if dx is None else b.mul(factor, dx)


def _by_factors(factors):
    """(pullback, forward) of an entrywise operation whose partial derivatives, entry by
    entry, are ``factors(node, b)`` (one per operand): Ā = C̄ ⊙ ∂C/∂A, dC = Σ ∂C/∂A ⊙ dA."""
    def pullback(node, g, b):
        return [(a, b.mul(g, f)) for a, f in zip(node.args, factors(node, b))]

    def forward(node, d, b):
        return _sum_of([_times(f, x, b) for f, x in zip(factors(node, b), d)], b)
    return pullback, forward


def _sympy_of(function):
    """An entrywise function written with sympy's names (``s``), applied to each entry
    (sympy is imported only when an exact comparison runs: it is optional)."""
    def apply(*arrays):
        import sympy
        return np.vectorize(lambda *x: function(sympy, *x), otypes=[object])(*arrays)
    return apply


def _sympy_entrywise(name: str):
    """sympy's function ``name`` (exp, Abs, ...) entry by entry."""
    return _sympy_of(lambda s, x: getattr(s, name)(x))


# ------------------------------------------------------------- entrywise, one operand

def _entrywise(name, f, derivative, latex, sympy, code=None):
    """C = h(A) entrywise; ``derivative(A, C, b)`` is h′ written with A and C."""
    pullback, forward = _by_factors(lambda node, b: [derivative(node.args[0], node, b)])
    return Rule(name, sh.same_shape, f, numpy=name, sympy=sympy,
                pullback=pullback, forward=forward, latex=latex, code=code)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


_E = [  # name, numpy, h′(A, C, b), LaTeX, sympy
    ("exp", np.exp, lambda A, C, b: C, r"\exp({0})", _sympy_entrywise("exp")),
    ("expm1", np.expm1, lambda A, C, b: b.add(C, b.const(1)), r"(\exp({0}) - 1)",
     _sympy_of(lambda s, x: s.exp(x) - 1)),
    ("log", np.log, lambda A, C, b: b.div(b.const(1), A), r"\log({0})",
     _sympy_entrywise("log")),
    ("log1p", np.log1p, lambda A, C, b: b.div(b.const(1), b.add(b.const(1), A)),
     r"\log(1 + {0})", _sympy_of(lambda s, x: s.log(1 + x))),
    # no sympy form: the derivative's factor 1/log 2 is a float, which exact comparison
    # would find different from sympy's 1/log(2)
    ("log2", np.log2, lambda A, C, b: b.div(b.const(1 / math.log(2)), A), r"\log_2({0})",
     None),
    ("log10", np.log10, lambda A, C, b: b.div(b.const(1 / math.log(10)), A),
     r"\log_{{10}}({0})", None),
    ("sqrt", np.sqrt, lambda A, C, b: b.div(b.const(0.5), C), r"\sqrt{{{0}}}",
     _sympy_entrywise("sqrt")),
    ("square", np.square, lambda A, C, b: b.mul(b.const(2), A), r"({0})^{{\circ 2}}",
     _sympy_of(lambda s, x: x ** 2)),
    ("abs", np.abs, lambda A, C, b: b.call("sign", A), r"\lvert {0} \rvert",
     _sympy_entrywise("Abs")),
    ("sin", np.sin, lambda A, C, b: b.call("cos", A), r"\sin({0})", _sympy_entrywise("sin")),
    ("cos", np.cos, lambda A, C, b: b.neg(b.call("sin", A)), r"\cos({0})",
     _sympy_entrywise("cos")),
    ("tan", np.tan, lambda A, C, b: b.add(b.const(1), b.power(C, 2)), r"\tan({0})",
     _sympy_entrywise("tan")),
    ("sinh", np.sinh, lambda A, C, b: b.call("cosh", A), r"\sinh({0})",
     _sympy_entrywise("sinh")),
    ("cosh", np.cosh, lambda A, C, b: b.call("sinh", A), r"\cosh({0})",
     _sympy_entrywise("cosh")),
    ("tanh", np.tanh, lambda A, C, b: b.sub(b.const(1), b.power(C, 2)), r"\tanh({0})",
     _sympy_entrywise("tanh")),
    ("arctan", np.arctan,
     lambda A, C, b: b.div(b.const(1), b.add(b.const(1), b.power(A, 2))), r"\arctan({0})",
     _sympy_entrywise("atan")),
    ("arcsin", np.arcsin, lambda A, C, b: b.div(b.const(1), b.call(
        "sqrt", b.sub(b.const(1), b.power(A, 2)))), r"\arcsin({0})", _sympy_entrywise("asin")),
    ("arccos", np.arccos, lambda A, C, b: b.neg(b.div(b.const(1), b.call(
        "sqrt", b.sub(b.const(1), b.power(A, 2))))), r"\arccos({0})",
     _sympy_entrywise("acos")),
    ("arcsinh", np.arcsinh, lambda A, C, b: b.div(b.const(1), b.call(
        "sqrt", b.add(b.const(1), b.power(A, 2)))), r"\operatorname{{arsinh}}({0})",
     _sympy_entrywise("asinh")),
    ("arctanh", np.arctanh,
     lambda A, C, b: b.div(b.const(1), b.sub(b.const(1), b.power(A, 2))),
     r"\operatorname{{artanh}}({0})", _sympy_entrywise("atanh")),
]


def _entrywise_rows() -> list[Rule]:
    rows = [_entrywise(*row) for row in _E]
    rows.append(Rule("sign", sh.same_shape, np.sign, numpy="sign", pullback=CONSTANT,
                     forward=_no_change, sympy=_sympy_entrywise("sign"),
                     latex=r"\operatorname{{sign}}({0})"))
    sigmoid = _entrywise("sigmoid", _sigmoid, lambda A, C, b: b.mul(C, b.sub(b.const(1), C)),
                         r"\sigma({0})", _sympy_of(lambda s, x: 1 / (1 + s.exp(-x))),
                         code=nt.code_sigmoid)
    sigmoid = _replace(sigmoid, math="σ({0})")
    rows.append(_replace(sigmoid, numpy=None))  # no np.sigmoid: parsed as 1/(1+exp(-z))
    return rows


def _replace(rule: Rule, **changes) -> Rule:
    return replace(rule, **changes)


# ------------------------------------------------------------- entrywise, two operands

def _quotient_pullback(node, g, b):
    A, B = node.args
    return [(A, b.div(g, B)), (B, b.neg(b.div(b.mul(g, node), B)))]


def _quotient_forward(node, d, b):
    A, B = node.args
    return _sum_of([None if d[0] is None else b.div(d[0], B),
                    None if d[1] is None else b.neg(b.div(b.mul(node, d[1]), B))], b)


def _power_factors(node, b):
    """(∂C/∂A, ∂C/∂B) of C = A^∘B, entrywise."""
    A, B = node.args
    p = b.value(B)
    in_a = b.mul(b.const(p), b.power(A, p - 1)) if p is not None else \
        b.mul(B, b.call("pow", A, b.sub(B, b.const(1))))
    return in_a, b.mul(node, b.call("log", A))


def _selection_factors(node, b):
    """The masks through which maximum, minimum and logaddexp pass each operand's change."""
    A, B = node.args
    if node.op == "logaddexp":
        return b.call("exp", b.sub(A, node)), b.call("exp", b.sub(B, node))
    first = b.call("ge" if node.op == "maximum" else "le", A, B)
    return first, b.call("lt" if node.op == "maximum" else "gt", A, B)


def _binary(name, f, numpy_name, pullback, forward, **printing):
    return Rule(name, broadcast, f, numpy=numpy_name, arity=2, pullback=pullback,
                forward=forward, **printing)


def _binary_rows() -> list[Rule]:
    sums = dict(math=nt.sum_or_difference, latex=nt.sum_or_difference,
                code=nt.sum_or_difference, precedence=nt.SUM)
    return [
        _binary("add", np.add, "add", lambda n, g, b: [(n.args[0], g), (n.args[1], g)],
                _linear, symbol="+", **sums),
        _binary("sub", np.subtract, "subtract",
                lambda n, g, b: [(n.args[0], g), (n.args[1], b.neg(g))], _linear,
                symbol="-", **sums),
        _binary("mul", np.multiply, "multiply",
                lambda n, g, b: [(n.args[0], b.mul(g, n.args[1])),
                                 (n.args[1], b.mul(g, n.args[0]))],
                _multilinear, symbol="*", math=nt.product, latex=nt.product,
                code=nt.code_product, precedence=nt.PRODUCT),
        _binary("div", np.divide, "divide", _quotient_pullback, _quotient_forward,
                symbol="/", math=nt.quotient, latex=nt.quotient, code=nt.code_product,
                precedence=nt.PRODUCT),
        _binary("pow", np.power, "power", *_by_factors(_power_factors), symbol="**",
                math=nt.power, latex=nt.power, code=nt.code_power, precedence=nt.POWER),
        _binary("maximum", np.maximum, "maximum", *_by_factors(_selection_factors),
                sympy=_sympy_of(lambda s, x, y: s.Max(x, y))),
        _binary("minimum", np.minimum, "minimum", *_by_factors(_selection_factors),
                sympy=_sympy_of(lambda s, x, y: s.Min(x, y))),
        _binary("logaddexp", np.logaddexp, "logaddexp", *_by_factors(_selection_factors),
                sympy=_sympy_of(lambda s, x, y: s.log(s.exp(x) + s.exp(y)))),
        _binary("heaviside", np.heaviside, "heaviside", CONSTANT, _no_change),
    ] + [Rule(name, broadcast, f, arity=2, symbol=symbol, pullback=CONSTANT,
              forward=_no_change, math=nt.comparison, latex=nt.comparison,
              code=nt.code_comparison)
         for name, f, symbol in [("gt", np.greater, ">"), ("ge", np.greater_equal, ">="),
                                 ("lt", np.less, "<"), ("le", np.less_equal, "<="),
                                 ("eq", np.equal, "=="), ("ne", np.not_equal, "!=")]]


# -------------------------------------------------------------------------- reductions

def _spread_of(node, g, b):
    """The adjoint g of a reduction of A, broadcast back to A's shape."""
    return b.spread(g, node.args[0].shape, node.attrs.get("axis"),
                    node.attrs.get("keepdims", False))


def _kept(node, b):
    """The reduction's result, broadcastable against its operand."""
    axis, keepdims = node.attrs.get("axis"), node.attrs.get("keepdims", False)
    return node if keepdims or axis is None else \
        b.spread(node, node.args[0].shape, axis, False)


def _count(node) -> int:
    """Entries that were reduced into each entry of the result."""
    return count(node.args[0].shape) // max(count(node.shape), 1)


def _mean_pullback(node, g, b):
    return [(node.args[0], b.mul(b.const(1 / _count(node)), _spread_of(node, g, b)))]


def _extremum_pullback(node, g, b):
    A = node.args[0]
    return [(A, b.mul(_spread_of(node, g, b), b.call("eq", A, _kept(node, b))))]


def _extremum_forward(node, d, b):
    A, attrs = node.args[0], node.attrs
    return None if d[0] is None else \
        b.call("sum", b.mul(b.call("eq", A, _kept(node, b)), d[0]), **attrs)


def _prod_pullback(node, g, b):
    """C = Π A over the axis: Ā = spread(C̄ ⊙ C) ⊘ A (for entries away from zero)."""
    A = node.args[0]
    return [(A, b.mul(_spread_of(node, g, b), b.div(_kept(node, b), A)))]


def _prod_forward(node, d, b):
    A = node.args[0]
    return None if d[0] is None else \
        b.mul(node, b.call("sum", b.div(d[0], A), **node.attrs))


def _centred(node, b):
    """A − mean(A) over the reduced axes, and the divisor N − ddof of np.var."""
    A, axis = node.args[0], node.attrs.get("axis")
    mean = b.call("mean", A) if axis is None else \
        b.call("mean", A, axis=axis, keepdims=True)
    return b.sub(A, mean), _count(node) - node.attrs.get("ddof", 0)


def _sum_attrs(node) -> dict:
    return {k: v for k, v in node.attrs.items() if k in ("axis", "keepdims")}


def _variance_pullback(node, g, b):
    """var = Σ (A − mean)² / (N − ddof): Ā = spread(C̄) ⊙ 2 (A − mean) / (N − ddof); and
    std = √var: Ā = spread(C̄ ⊘ C) ⊙ (A − mean) / (N − ddof)."""
    centred, divisor = _centred(node, b)
    if node.op == "std":
        g, divisor = b.div(g, node), 2 * divisor
    share = b.mul(_spread_of(node, g, b), b.mul(b.const(2 / divisor), centred))
    return [(node.args[0], share)]


def _variance_forward(node, d, b):
    """dvar = 2 Σ (A − mean) ⊙ dA / (N − ddof) (Σ (A − mean) = 0 drops d mean);
    dstd = dvar / (2 std)."""
    if d[0] is None:
        return None
    centred, divisor = _centred(node, b)
    total = b.call("sum", b.mul(centred, d[0]), **_sum_attrs(node))
    if node.op == "std":
        return b.div(b.mul(b.const(1 / divisor), total), node)
    return b.mul(b.const(2 / divisor), total)


def _variance(a, axis=None, ddof=0, keepdims=False):
    return np.var(a, axis=axis, ddof=ddof, keepdims=keepdims)


def _sympy_variance(a, axis=None, ddof=0, keepdims=False):
    a = np.asarray(a, dtype=object)
    n = a.size // max(count(sh.reduce_shape(a.shape, axis)), 1)
    centred = a - np.sum(a, axis=axis, keepdims=True) / n
    return np.sum(centred * centred, axis=axis, keepdims=keepdims) / (n - ddof)


def _reduction(name, f, pullback, forward, **fields):
    fields.setdefault("keywords", ("axis", "keepdims"))
    return Rule(name, fields.pop("shape", sh.reduce_shape),
                lambda a, axis=None, keepdims=False, **more: f(a, axis=axis,
                                                               keepdims=keepdims, **more),
                numpy=fields.pop("numpy", name), positional=("axis",), method=True,
                pullback=pullback, forward=forward,
                math=nt.reduction, latex=nt.reduction, **fields)


def _reduction_rows() -> list[Rule]:
    spread = (lambda n, g, b: [(n.args[0], _spread_of(n, g, b))])
    variance = dict(shape=sh.variance_shape, keywords=("axis", "ddof", "keepdims"))
    return [
        _replace(_reduction("sum", np.sum, spread, _linear), math=nt.total, latex=nt.total),
        _reduction("mean", np.mean, _mean_pullback, _linear),
        _reduction("max", np.max, _extremum_pullback, _extremum_forward),
        _reduction("min", np.min, _extremum_pullback, _extremum_forward),
        _reduction("prod", np.prod, _prod_pullback, _prod_forward),
        _reduction("variance", _variance, _variance_pullback, _variance_forward,
                   numpy="var", sympy=_sympy_variance, **variance),
        _reduction("std", lambda a, **k: np.sqrt(_variance(a, **k)), _variance_pullback,
                   _variance_forward, sympy=lambda a, **k: _sympy_entrywise("sqrt")(
                       _sympy_variance(a, **k)), **variance),
    ]


# ---------------------------------------------------------------------- linear algebra

def _matmul_pullback(node, g, b):
    A, B = node.args
    a, c = len(A.shape), len(B.shape)
    if a == 0 or c == 0 or (a == 1 and c == 1):  # np.dot with a scalar, or a · b
        return [(A, b.mul(g, B)), (B, b.mul(g, A))]
    if a == 2 and c == 2:
        return [(A, b.matmul(g, b.transpose(B))), (B, b.matmul(b.transpose(A), g))]
    if a == 2 and c == 1:
        return [(A, b.outer(g, B)), (B, b.matmul(b.transpose(A), g))]
    if a == 1 and c == 2:
        return [(A, b.matmul(B, g)), (B, b.outer(A, g))]
    raise NoRule("@ of arrays with more than two axes (a batched product)")


def _outer_pullback(node, g, b):
    a, c = node.args
    if len(a.shape) != 1 or len(c.shape) != 1:
        raise NoRule("np.outer of arrays with more than one axis")
    return [(a, b.matmul(g, c)), (c, b.matmul(b.transpose(g), a))]


def _kron_pullback(node, g, b):
    """C = A ⊗ B: C[i p + k, j q + l] = A[i, j] B[k, l], so Ā = Σ_kl C̄[i,k,j,l] B[k,l] with
    C̄ viewed as an (m, p, n, q) array, and B̄ likewise."""
    A, B = node.args
    if len(A.shape) == 1 and len(B.shape) == 1:
        blocks = b.call("reshape", g, newshape=(A.shape[0], B.shape[0]))
        return [(A, b.matmul(blocks, B)), (B, b.matmul(b.transpose(blocks), A))]
    if len(A.shape) == 2 and len(B.shape) == 2:
        (m, n), (p, q) = A.shape, B.shape
        blocks = b.call("reshape", g, newshape=(m, p, n, q))
        return [(A, b.call("einsum", blocks, B, subscripts="ikjl,kl->ij")),
                (B, b.call("einsum", blocks, A, subscripts="ikjl,ij->kl"))]
    raise NoRule("np.kron of a vector and a matrix, or of arrays with more than two axes")


def _einsum_pullback(node, g, b):
    inputs, output = node.attrs["subscripts"].split("->")
    terms = inputs.split(",")
    shares = []
    for k, (term, operand) in enumerate(zip(terms, node.args)):
        others = [(t, a) for j, (t, a) in enumerate(zip(terms, node.args)) if j != k]
        available = set(output) | {c for t, _ in others for c in t}
        if len(set(term)) != len(term) or not set(term) <= available:
            raise NoRule(f"np.einsum('{node.attrs['subscripts']}'): operand {k + 1} repeats "
                         "an index or sums one away on its own")
        if not output:  # a scalar result: its adjoint is a factor, not an operand
            shares.append((operand, b.mul(g, _einsum_of(others, term, b))))
            continue
        subscripts = ",".join([output] + [t for t, _ in others]) + "->" + term
        shares.append((operand, b.call("einsum", g, *(a for _, a in others),
                                       subscripts=subscripts)))
    return shares


def _einsum_of(terms: list, output: str, b):
    """einsum of (subscripts, operand) pairs into ``output``; a lone operand whose
    subscripts are the output (or its reverse, for a matrix) is itself (or its transpose)."""
    if len(terms) == 1 and terms[0][0] == output:
        return terms[0][1]
    if len(terms) == 1 and len(output) == 2 and terms[0][0] == output[::-1]:
        return b.transpose(terms[0][1])
    subscripts = ",".join(t for t, _ in terms) + "->" + output
    return b.call("einsum", *(a for _, a in terms), subscripts=subscripts)


def _transpose_pullback(node, g, b):
    share = b.transpose(g) if len(g.shape) == 2 else \
        b.call("transpose", g) if len(g.shape) > 2 else g
    return [(node.args[0], share)]


def _diag_pullback(node, g, b):
    A = node.args[0]
    if len(A.shape) == 2 and A.shape[0] != A.shape[1]:
        raise NoRule("np.diag of a non-square matrix")
    return [(A, b.call("diag", g))]


def _inverse_pullback(node, g, b):
    """C = A⁻¹: Ā = −Cᵀ C̄ Cᵀ (one node Cᵀ, used twice)."""
    Ct = b.transpose(node)
    return [(node.args[0], b.neg(b.matmul(b.matmul(Ct, g), Ct)))]


def _inverse_forward(node, d, b):
    """d(A⁻¹) = −A⁻¹ dA A⁻¹."""
    return None if d[0] is None else b.neg(b.matmul(b.matmul(node, d[0]), node))


def _pinv_parts(node, b):
    """C = A⁺ and the projections I − A C, I − C A (the formula holds at constant rank)."""
    A, C = node.args[0], node
    m, n = A.shape
    return A, C, b.sub(b.eye(m), b.matmul(A, C)), b.sub(b.eye(n), b.matmul(C, A))


def _pinv_pullback(node, g, b):
    """Golub and Pereyra (1973): Ā = −Cᵀ C̄ Cᵀ + (I − A C) C̄ᵀ C Cᵀ + Cᵀ C C̄ᵀ (I − C A)."""
    A, C, left, right = _pinv_parts(node, b)
    Ct, gt = b.transpose(C), b.transpose(g)
    share = b.add(b.neg(b.matmul(b.matmul(Ct, g), Ct)),
                  b.add(b.matmul(b.matmul(left, gt), b.matmul(C, Ct)),
                        b.matmul(b.matmul(Ct, C), b.matmul(gt, right))))
    return [(A, share)]


def _pinv_forward(node, d, b):
    """dC = −C dA C + C Cᵀ dAᵀ (I − A C) + (I − C A) dAᵀ Cᵀ C."""
    if d[0] is None:
        return None
    A, C, left, right = _pinv_parts(node, b)
    Ct, dt = b.transpose(C), b.transpose(d[0])
    return b.add(b.neg(b.matmul(b.matmul(C, d[0]), C)),
                 b.add(b.matmul(b.matmul(C, Ct), b.matmul(dt, left)),
                       b.matmul(b.matmul(right, dt), b.matmul(Ct, C))))


def _log_det_forward(node, d, b):
    """d log|det A| = tr(A⁻¹ dA); d det A = det A tr(A⁻¹ dA)."""
    if d[0] is None:
        return None
    change = b.call("trace", b.matmul(b.call("inv", node.args[0]), d[0]))
    return b.mul(node, change) if node.op == "det" else change


def _solve_pullback(node, g, b):
    A, rhs = node.args
    lam = b.call("solve", b.transpose(A), g)
    share = b.neg(b.outer(lam, node) if len(rhs.shape) == 1 else
                  b.matmul(lam, b.transpose(node)))
    return [(A, share), (rhs, lam)]


def _solve_forward(node, d, b):
    """x = A⁻¹ r: dx = A⁻¹ (dr − dA x)."""
    A = node.args[0]
    change = _sum_of([d[1], None if d[0] is None else b.neg(b.matmul(d[0], node))], b)
    return None if change is None else b.call("solve", A, change)


def _norm_kind(node) -> str:
    ord_, axis = node.attrs.get("ord"), node.attrs.get("axis")
    if axis is None and (ord_ in (None, "fro") or (ord_ == 2 and len(node.args[0].shape) == 1)):
        return "2"
    if axis is None and ord_ == 1 and len(node.args[0].shape) == 1:
        return "1"
    raise NoRule(f"np.linalg.norm with ord={ord_!r}, axis={axis!r}")


def _norm_factor(node, b):
    A = node.args[0]
    return b.div(A, node) if _norm_kind(node) == "2" else b.call("sign", A)


def _norm_pullback(node, g, b):
    """‖A‖₂ (and Frobenius): Ā = C̄ A / C; ‖a‖₁: ā = C̄ sign(a)."""
    return [(node.args[0], b.mul(g, _norm_factor(node, b)))]


def _norm_forward(node, d, b):
    return None if d[0] is None else b.call("sum", b.mul(_norm_factor(node, b), d[0]))


class NoExactForm(Exception):
    """The row has no sympy form at these sizes (exact comparison is skipped)."""


#: Sympy inverts a 3 × 3 matrix of symbols in a second; a 4 × 4 takes a minute.
EXACT_INVERSE_MAX = 3


def _matrix(function, largest: int | None = None):
    """A sympy matrix function applied to 2-D object arrays (up to ``largest`` rows)."""
    def apply(*arrays):
        import sympy
        if largest is not None and len(arrays[0]) > largest:
            raise NoExactForm(f"sympy's inverse of a {len(arrays[0])} × {len(arrays[0])} "
                              f"matrix is slow; exact only up to {largest} × {largest}")
        matrices = [sympy.Matrix(np.asarray(a, dtype=object).tolist()) for a in arrays]
        result = function(sympy, *matrices)
        return np.array(result.tolist(), dtype=object) if hasattr(result, "tolist") \
            else result
    return apply


def _sympy_solve(A, r):
    column = np.asarray(r, dtype=object)
    x = _matrix(lambda s, M, R: M.LUsolve(R), EXACT_INVERSE_MAX)(
        A, column.reshape(len(column), -1))
    return x.reshape(column.shape)


def _sympy_norm(a, ord=None, axis=None, keepdims=False):
    import sympy
    entries = np.asarray(a, dtype=object).ravel()
    if axis is None and ord == 1 and np.ndim(a) == 1:
        return sum(sympy.Abs(x) for x in entries)
    if axis is None and ord in (None, "fro", 2) and (ord != 2 or np.ndim(a) == 1):
        return sympy.sqrt(sum(x ** 2 for x in entries))
    raise TypeError(f"no sympy form of np.linalg.norm with ord={ord!r}, axis={axis!r}")


def _linalg_rows() -> list[Rule]:
    cubic = dict(cost=_cubic_cost)
    return [
        Rule("neg", sh.same_shape, np.negative, pullback=lambda n, g, b: [(n.args[0], b.neg(g))],
             forward=_linear, math=nt.negation, latex=nt.negation, code=nt.negation,
             precedence=nt.UNARY),
        Rule("matmul", sh.matmul_shape, np.matmul, numpy="matmul", arity=2, symbol="@",
             pullback=_matmul_pullback, forward=_multilinear, math=nt.matrix_product,
             latex=nt.matrix_product, code=nt.code_matrix_product, precedence=nt.PRODUCT,
             cost=_product_cost),
        Rule("dot", sh.dot_shape, np.dot, numpy="dot", arity=2, method=True,
             pullback=_matmul_pullback, forward=_multilinear, math=nt.matrix_product,
             latex=nt.matrix_product, code=nt.code_matrix_product, precedence=nt.PRODUCT,
             cost=_product_cost),
        Rule("outer", sh.outer_shape, np.outer, numpy="outer", arity=2,
             pullback=_outer_pullback, forward=_multilinear, math=nt.outer_product,
             latex=nt.outer_product, code=nt.code_outer, precedence=nt.PRODUCT),
        Rule("kron", sh.kron_shape, np.kron, numpy="kron", arity=2, pullback=_kron_pullback,
             forward=_multilinear),
        Rule("einsum", sh.einsum_shape, lambda *a, subscripts: np.einsum(subscripts, *a),
             numpy="einsum", arity=None, pullback=_einsum_pullback, forward=_multilinear,
             math=nt.einsum, latex=nt.einsum, code=nt.code_einsum, cost=_einsum_cost),
        Rule("transpose", sh.transpose_shape, np.transpose, numpy="transpose", method=True,
             pullback=_transpose_pullback, forward=_linear, math=nt.transposed,
             latex=nt.transposed, code=nt.code_transposed),
        Rule("trace", sh.trace_shape, np.trace, numpy="trace", method=True,
             pullback=lambda n, g, b: [(n.args[0], b.mul(g, b.eye(n.args[0].shape[0])))],
             forward=_linear, math="tr({0})", latex=r"\operatorname{{tr}}({0})"),
        Rule("diag", sh.diag_shape, np.diag, numpy="diag", pullback=_diag_pullback,
             forward=_linear),
        Rule("inv", lambda a: sh.square(a, "np.linalg.inv"), np.linalg.inv,
             numpy="linalg.inv", sympy=_matrix(lambda s, M: M.inv(), EXACT_INVERSE_MAX),
             pullback=_inverse_pullback,
             forward=_inverse_forward, math=nt.inverse, latex=nt.inverse, **cubic),
        Rule("pinv", sh.pinv_shape, np.linalg.pinv, numpy="linalg.pinv",
             pullback=_pinv_pullback, forward=_pinv_forward, **cubic),
        Rule("det", sh.square_to_scalar("np.linalg.det"), np.linalg.det, numpy="linalg.det",
             sympy=_matrix(lambda s, M: M.det()),
             pullback=lambda n, g, b: [(n.args[0], b.mul(b.mul(g, n), b.transpose(
                 b.call("inv", n.args[0]))))],
             forward=_log_det_forward, latex=r"\det({args})", **cubic),
        Rule("logabsdet", sh.square_to_scalar("np.linalg.slogdet"),
             lambda a: np.linalg.slogdet(a)[1],
             # log det, not log|det|: the same derivative wherever det ≠ 0, and sympy
             # simplifies sign(d)/|d| − 1/d to zero only without the Abs
             sympy=_matrix(lambda s, M: s.log(M.det())),
             pullback=lambda n, g, b: [(n.args[0], b.mul(g, b.transpose(
                 b.call("inv", n.args[0]))))],
             forward=_log_det_forward, math=nt.log_abs_det, latex=nt.log_abs_det,
             code=nt.code_slogdet, **cubic),
        Rule("signdet", sh.square_to_scalar("np.linalg.slogdet"),
             lambda a: np.linalg.slogdet(a)[0], pullback=CONSTANT, forward=_no_change,
             math=nt.sign_det, latex=nt.sign_det, code=nt.code_slogdet, **cubic),
        Rule("solve", sh.solve_shape, np.linalg.solve, numpy="linalg.solve", arity=2,
             sympy=_sympy_solve, pullback=_solve_pullback, forward=_solve_forward, **cubic),
        Rule("cholesky", lambda a: sh.square(a, "np.linalg.cholesky"), np.linalg.cholesky,
             numpy="linalg.cholesky", latex=r"\operatorname{{chol}}({0})",
             no_rule="np.linalg.cholesky reads only the lower triangle, so its gradient "
                     "needs np.tril, which the language does not have yet", **cubic),
        Rule("eigvalsh", sh.eigvalsh_shape, np.linalg.eigvalsh, numpy="linalg.eigvalsh",
             latex=r"\lambda({0})",
             no_rule="the gradient of np.linalg.eigvalsh(A) is V diag(λ̄) Vᵀ with the "
                     "eigenvectors V, which the expression language does not have",
             **cubic),
        Rule("norm", sh.norm_shape, lambda a, ord=None, axis=None, keepdims=False:
             np.linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims), numpy="linalg.norm",
             keywords=("ord", "axis", "keepdims"), positional=("ord", "axis"),
             sympy=_sympy_norm, pullback=_norm_pullback, forward=_norm_forward,
             math=nt.norm, latex=nt.norm),
    ]


# ------------------------------------------------------------------------ the structure

def _where_pullback(node, g, b):
    cond, A, B = node.args
    zero = b.const(0)
    return [(A, b.call("where", cond, g, zero)), (B, b.call("where", cond, zero, g))]


def _where_forward(node, d, b):
    if d[1] is None and d[2] is None:
        return None
    cond, zero = node.args[0], b.const(0)
    return b.call("where", cond, zero if d[1] is None else d[1],
                  zero if d[2] is None else d[2])


def _clip_masks(node, b):
    A, low, high = node.args
    return (b.mul(b.call("ge", A, low), b.call("le", A, high)), b.call("lt", A, low),
            b.call("gt", A, high))


def _index_pullback(node, g, b):
    A, key = node.args[0], node.attrs["key"]
    keys = key if isinstance(key, tuple) else (key,)
    if all(k is None or k == slice(None) for k in keys):  # only new axes: undo them
        return [(A, b.call("reshape", g, newshape=A.shape))]
    if len(A.shape) == 1 and isinstance(key, int):
        return [(A, b.mul(g, b.call("index", b.eye(A.shape[0]), key=key)))]
    if len(A.shape) == 2 and len(keys) <= 2 and all(isinstance(k, int) or k == slice(None)
                                                    for k in keys):
        keys = keys + (slice(None),) * (2 - len(keys))
        rows = [b.call("index", b.eye(n), key=k) if isinstance(k, int) else None
                for k, n in zip(keys, A.shape)]
        if rows[0] is not None and rows[1] is not None:
            return [(A, b.mul(g, b.outer(rows[0], rows[1])))]
        return [(A, b.outer(rows[0], g) if rows[0] is not None else b.outer(g, rows[1]))]
    raise NoRule(f"the subscript {key!r} (rules: u[k], A[i], A[:, j], A[i, j], [:, None])")


def _structure_rows() -> list[Rule]:
    return [
        Rule("where", broadcast, np.where, numpy="where", arity=3, pullback=_where_pullback,
             forward=_where_forward),
        Rule("clip", broadcast, np.clip, numpy="clip", arity=3,
             **dict(zip(("pullback", "forward"), _by_factors(_clip_masks)))),
        Rule("reshape", sh.reshape_shape, lambda a, newshape: np.reshape(a, newshape),
             numpy="reshape", arity=2,
             pullback=lambda n, g, b: [(n.args[0], b.call("reshape", g,
                                                          newshape=n.args[0].shape))],
             forward=_linear, math=nt.reshape, latex=nt.reshape, code=nt.code_reshape),
        Rule("index", sh.index_shape, lambda a, key: np.asarray(a)[key],
             pullback=_index_pullback, forward=_linear, math=nt.subscript,
             latex=nt.subscript, code=nt.subscript),
        Rule("stack", sh.stack_shape, lambda *a: np.stack([np.asarray(x) for x in a]),
             arity=None, pullback=lambda n, g, b: [(a, b.call("index", g, key=k))
                                                   for k, a in enumerate(n.args)],
             forward=_linear, math=nt.stacked, latex=nt.stacked, code=nt.code_stack),
        Rule("ones_like", sh.same_shape, np.ones_like, numpy="ones_like", pullback=CONSTANT,
             forward=_no_change),
        Rule("zeros_like", sh.same_shape, np.zeros_like, numpy="zeros_like",
             pullback=CONSTANT, forward=_no_change),
    ]


# --------------------------------------------------------------- named functions

def _softmax(a, axis=None):
    shifted = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


def _logsumexp(a, axis=None, keepdims=False):
    top = np.max(a, axis=axis, keepdims=True)
    total = np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True)) + top
    return total if keepdims else np.squeeze(total, axis=axis) if axis is not None \
        else total.reshape(())


def _sympy_softmax(a, axis=None):
    e = _sympy_entrywise("exp")(np.asarray(a, dtype=object))
    return e / np.sum(e, axis=axis, keepdims=True)


def _sympy_logsumexp(a, axis=None, keepdims=False):
    e = _sympy_entrywise("exp")(np.asarray(a, dtype=object))
    total = np.sum(e, axis=axis, keepdims=keepdims)
    return _sympy_entrywise("log")(np.asarray(total, dtype=object)) if np.ndim(total) \
        else _sympy_entrywise("log")(np.asarray([total], dtype=object))[0]


def _softmax_pullback(node, g, b):
    """S = softmax(Z) along an axis: Z̄ = S ⊙ (S̄ − Σ S̄ ⊙ S along the axis)."""
    inner = b.call("sum", b.mul(g, node), axis=node.attrs.get("axis"), keepdims=True)
    return [(node.args[0], b.mul(node, b.sub(g, inner)))]


def _softmax_forward(node, d, b):
    if d[0] is None:
        return None
    inner = b.call("sum", b.mul(node, d[0]), axis=node.attrs.get("axis"), keepdims=True)
    return b.mul(node, b.sub(d[0], inner))


def _lse_softmax(node, b):
    return b.call("softmax", node.args[0], axis=node.attrs.get("axis"))


def _logsumexp_pullback(node, g, b):
    """l = log Σ exp(Z) along an axis: Z̄ = l̄ (spread back) ⊙ softmax(Z)."""
    return [(node.args[0], b.mul(_spread_of(node, g, b), _lse_softmax(node, b)))]


def _logsumexp_forward(node, d, b):
    if d[0] is None:
        return None
    return b.call("sum", b.mul(_lse_softmax(node, b), d[0]), **_sum_attrs(node))


def _onehot(y, classes):
    return (np.asarray(y)[:, None] == np.arange(classes)).astype(float)


def _no_exact_onehot(y, classes):
    raise NoExactForm("integer labels are data, not symbols")


def _onehot_shape(y, classes):
    if len(y) != 1:
        raise ShapeError(f"integer labels are a vector, not shape {y}")
    return (y[0], classes)


def _named_rows() -> list[Rule]:
    """Functions the engine recognises in a loss (:func:`mcv.simplify.recognise`) and
    names in print; numpy evaluates and prints them max-shifted (never exp alone)."""
    return [
        Rule("softmax", lambda a, axis=None: a, _softmax, keywords=("axis",),
             sympy=_sympy_softmax, pullback=_softmax_pullback, forward=_softmax_forward,
             math=nt.softmax, latex=nt.softmax, code=nt.code_softmax),
        Rule("logsumexp", lambda a, axis=None, keepdims=False: sh.reduce_shape(
            a, axis, keepdims), _logsumexp, keywords=("axis", "keepdims"),
             sympy=_sympy_logsumexp, pullback=_logsumexp_pullback,
             forward=_logsumexp_forward, math=nt.softmax, latex=nt.softmax,
             code=nt.code_logsumexp),
        Rule("onehot", _onehot_shape, _onehot, keywords=("classes",), pullback=CONSTANT,
             sympy=_no_exact_onehot,
             forward=_no_change, math="onehot({0})", latex=r"\operatorname{{onehot}}({0})",
             code=nt.code_onehot),
    ]


def _table() -> dict[str, Rule]:
    rows = (_entrywise_rows() + _binary_rows() + _reduction_rows() + _linalg_rows()
            + _structure_rows() + _named_rows())
    table = {row.name: row for row in rows}
    assert len(table) == len(rows), "two rows share a name"
    assert not set(table) & set(LEAVES), "an operation takes a leaf's name"
    return table


#: Every operation, by the name its nodes carry.
RULES: dict[str, Rule] = _table()


# ------------------------------------------------------------------- the listings

def _differentiable(row: Rule) -> bool:
    return row.pullback is not None and row.pullback is not CONSTANT


#: Keywords an example of the row needs to print.
_EXAMPLE_ATTRS = {"reshape": {"newshape": (4,)}, "einsum": {"subscripts": "ij,jk->ik"},
                  "index": {"key": 0}, "onehot": {"classes": 2}}


def _example(row: Rule):
    """The row applied to 2 × 2 matrices A, B, C (a node for the printers)."""
    from mcv.expr import Node  # here, not at import: mcv.expr imports this module

    operands = tuple(Node("var", (), {"name": name}, (2, 2), name)
                     for name in "ABC"[:row.arity or 2])
    return Node(row.name, operands, _EXAMPLE_ATTRS.get(row.name, {}), (2, 2), row.name)


def operations_table() -> str:
    """The supported operations as Markdown rows (numpy, math, gradient rule, forward
    rule): the book's table, generated from :data:`RULES`."""
    from mcv.derive import show  # the printers; mcv.derive imports this module

    lines = ["| numpy | math | gradient | forward (JVP) |", "|---|---|---|---|"]
    for row in RULES.values():
        example = _example(row)
        gradient = "yes" if _differentiable(row) else \
            ("zero (piecewise constant)" if row.pullback is CONSTANT else "no")
        forward = "zero" if row.forward is _no_change else \
            ("yes" if row.forward is not None else "no")
        cells = [f"`{show(example, 'numpy')}`", show(example), gradient, forward]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def operations_help(width: int = 88) -> str:
    """For ``mcv derive --help``: the operations with a gradient rule, the piecewise-constant
    ones, and those without, each as numpy code, wrapped between items at ``width``."""
    from mcv.derive import show

    groups = {"operations with a gradient rule": _differentiable,
              "piecewise constant (gradient zero)": lambda r: r.pullback is CONSTANT,
              "no rule yet": lambda r: r.pullback is None}
    lines = []
    for title, belongs in groups.items():
        items = sorted({show(_example(r), "numpy") for r in RULES.values() if belongs(r)})
        line = title + ":"
        for item in items:
            if len(line) + len(item) + 2 > width:
                lines.append(line)
                line = " "
            line += " " + item + ("," if item != items[-1] else "")
        lines.append(line)
    return "\n".join(lines)
