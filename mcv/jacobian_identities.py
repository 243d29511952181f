"""The book's table of Jacobian identities: one source of truth for the appendix "Jacobians,
verified" and the tests.

Each :class:`JacobianIdentity` is one row: a vector- or matrix-valued expression ``of`` in the
safe language of :mod:`mcv.expr` (parsed, never run), the variable ``wrt``, the shapes as a
function of three sizes ``(m, n, k)``, and the claimed Jacobian ``jacobian`` in numerator
layout, ``∂ vec F / ∂ (vec X)ᵀ`` with vec stacking columns, as numpy text (``np.kron``,
``np.eye``, :data:`K` for a commutation matrix; ``{m}``, ``{n}``, ``{k}`` stand for the
sizes). Every row is

* checked numerically with :func:`mcv.checks.check_jacobian` at random points
  (:func:`check_row`),
* checked exactly with sympy at small sizes (:func:`exact_row`: sympy's ``jacobian`` of
  vec F by vec X against the claim evaluated on symbols), where sympy is quick, and
* derived by the engine (:func:`mcv.jacobians.derive_jacobian`), whose own proof must pass and
  whose matrix must equal the claim's at the same points (:func:`derived_row`).

References are to Magnus and Neudecker (2019), chapter 9 (their D F(X) is this book's
numerator-layout Jacobian), as collected by Zhou's lecture notes, and to the Matrix Cookbook
where it states the differential.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["JacobianIdentity", "JACOBIAN_IDENTITIES", "K", "sizes_of", "shapes_text",
           "draw", "evaluate_text", "check_row", "exact_row", "derived_row",
           "EXACT_MAX_ENTRIES"]

#: A commutation matrix in the numpy text of a row: ``K(m, n) vec(A) = vec(Aᵀ)`` for an
#: m×n A; written out (np.eye, np.reshape, np.einsum) when the row is evaluated.
K = "np.reshape(np.einsum('jik->ijk', np.reshape(np.eye({s}), ({n}, {m}, {s}))), ({s}, {s}))"

#: Exact comparison only where sympy is quick: entries of F times entries of X.
EXACT_MAX_ENTRIES = 400


@dataclass(frozen=True)
class JacobianIdentity:
    """One row: ``∂ vec of / ∂ (vec wrt)ᵀ = jacobian`` (numerator layout)."""

    name: str
    of: str                        # the expression, in the safe language
    wrt: str
    shapes: Callable               # (m, n, k) -> {name: shape}
    jacobian: str                  # numpy text; K(a, b) for a commutation matrix
    expression_tex: str
    jacobian_tex: str
    reference: str                 # "magnus2019matrix" or "petersen2012cookbook" or ""
    where: str = ""                # where in the reference
    condition: dict = field(default_factory=dict)   # name -> "invertible"
    sizes: tuple = (2, 3, 4)       # (m, n, k) for the numeric check: non-square
    exact: bool = True


def _shapes(**named):
    def shapes(m, n, k):
        sizes = {"m": m, "n": n, "k": k}
        return {name: tuple(sizes[c] for c in spec) for name, spec in named.items()}
    return shapes


MN = "magnus2019matrix"
CB = "petersen2012cookbook"

JACOBIAN_IDENTITIES: list[JacobianIdentity] = [
    JacobianIdentity("Ax", "A @ x", "x", _shapes(A="mn", x="n"), "A",
                     r"A\mathbf x", "A", MN, ""),
    JacobianIdentity("Xa", "X @ a", "X", _shapes(X="mn", a="n"),
                     "np.kron(np.reshape(a, (1, {n})), np.eye({m}))",
                     r"X\mathbf a", r"\mathbf a^\top\otimes I_m", MN,
                     ""),
    JacobianIdentity("X'a", "X.T @ a", "X", _shapes(X="mn", a="m"),
                     "np.kron(np.eye({n}), np.reshape(a, (1, {m})))",
                     r"X^\top\mathbf a", r"I_n\otimes\mathbf a^\top", MN,
                     ""),
    JacobianIdentity("(x'x)a", "(x @ x) * a", "x", _shapes(x="n", a="m"),
                     "2 * np.outer(a, x)", r"(\mathbf x^\top\mathbf x)\,\mathbf a",
                     r"2\mathbf a\mathbf x^\top", MN, ""),
    JacobianIdentity("X", "1.0 * X", "X", _shapes(X="mn"), "np.eye({mn})",
                     "X", "I_{mn}", MN, ""),
    JacobianIdentity("X'", "X.T", "X", _shapes(X="mn"), "K(m, n)",
                     r"X^\top", r"K_{m,n}", MN, ""),
    JacobianIdentity("AXB", "A @ X @ B", "X", _shapes(A="mn", X="nk", B="km"),
                     "np.kron(B.T, A)", "AXB", r"B^\top\otimes A", MN,
                     ""),
    JacobianIdentity("xx'", "np.outer(x, x)", "x", _shapes(x="n"),
                     "np.kron(np.eye({n}), np.reshape(x, ({n}, 1))) + "
                     "np.kron(np.reshape(x, ({n}, 1)), np.eye({n}))",
                     r"\mathbf x\mathbf x^\top", r"I\otimes\mathbf x + \mathbf x\otimes I",
                     MN, ""),
    JacobianIdentity("XX'", "X @ X.T", "X", _shapes(X="mn"),
                     "(np.eye({mm}) + K(m, m)) @ np.kron(X, np.eye({m}))",
                     r"XX^\top", r"(I_{m^2} + K_{m,m})(X\otimes I_m)", MN,
                     "their form: 2N_m(X ⊗ I_m)"),
    JacobianIdentity("X'X", "X.T @ X", "X", _shapes(X="mn"),
                     "(np.eye({nn}) + K(n, n)) @ np.kron(np.eye({n}), X.T)",
                     r"X^\top X", r"(I_{n^2} + K_{n,n})(I_n\otimes X^\top)", MN,
                     "their form: 2N_n(I_n ⊗ Xᵀ)"),
    JacobianIdentity("X^-1", "np.linalg.inv(X)", "X", _shapes(X="nn"),
                     "-np.kron(np.linalg.inv(X).T, np.linalg.inv(X))",
                     "X^{-1}", r"-X^{-\top}\otimes X^{-1}", MN,
                     "the differential: Cookbook eq. (59)",
                     condition={"X": "invertible"}),
    JacobianIdentity("X^2", "X @ X", "X", _shapes(X="nn"),
                     "np.kron(X.T, np.eye({n})) + np.kron(np.eye({n}), X)",
                     "X^2", r"X^\top\otimes I + I\otimes X", MN,
                     "Xᵖ with p = 2"),
    JacobianIdentity("AX^-1B", "A @ np.linalg.inv(X) @ B", "X",
                     _shapes(A="mn", X="nn", B="nk"),
                     "-np.kron(B.T @ np.linalg.inv(X).T, A @ np.linalg.inv(X))",
                     "AX^{-1}B", r"-B^\top X^{-\top}\otimes AX^{-1}", MN,
                     "", condition={"X": "invertible"}),
    JacobianIdentity("XAX'", "X @ A @ X.T", "X", _shapes(X="mn", A="nn"),
                     "np.kron(X @ A.T, np.eye({m})) + np.kron(np.eye({m}), X @ A) @ K(m, n)",
                     r"XAX^\top", r"XA^\top\otimes I_m + (I_m\otimes XA)K_{m,n}", MN,
                     ""),
    JacobianIdentity("X'AX", "X.T @ A @ X", "X", _shapes(X="mn", A="mm"),
                     "np.kron(X.T @ A.T, np.eye({n})) @ K(m, n) + np.kron(np.eye({n}), X.T @ A)",
                     r"X^\top AX", r"(X^\top A^\top\otimes I_n)K_{m,n} + I_n\otimes X^\top A",
                     MN, ""),
    JacobianIdentity("A*X", "A * X", "X", _shapes(A="mn", X="mn"),
                     "np.diag(np.reshape(A.T, ({mn},)))",
                     r"A\odot X", r"\operatorname{diag}(\operatorname{vec}A)", MN,
                     ""),
    JacobianIdentity("tanh(X)", "np.tanh(X)", "X", _shapes(X="mn"),
                     "np.diag(np.reshape((1 - np.tanh(X)**2).T, ({mn},)))",
                     r"\tanh(X)", r"\operatorname{diag}(\operatorname{vec}(1 - \tanh^2 X))",
                     "", "an entrywise h: diag(vec h′(X))"),
    JacobianIdentity("softmax(z)", "np.exp(z) / np.sum(np.exp(z))", "z", _shapes(z="n"),
                     "np.diag(np.exp(z) / np.sum(np.exp(z))) - np.outer(np.exp(z) / "
                     "np.sum(np.exp(z)), np.exp(z) / np.sum(np.exp(z)))",
                     r"\operatorname{softmax}(\mathbf z)",
                     r"\operatorname{diag}(\mathbf p) - \mathbf p\mathbf p^\top", "",
                     "p = softmax(z)"),
    JacobianIdentity("b - a (seed 003)", "b - a", "a", _shapes(a="n", b="n"),
                     "-np.eye({n})", r"\mathbf b - \mathbf a", "-I", "thread003", ""),
    JacobianIdentity("h(X Theta) (seed 002)", "np.tanh(X @ Theta)", "Theta",
                     _shapes(X="kn", Theta="nm"),
                     "np.diag(np.reshape((1 - np.tanh(X @ Theta)**2).T, ({km},))) @ "
                     "np.kron(np.eye({m}), X)",
                     r"h(X\Theta)",
                     r"\operatorname{diag}(\operatorname{vec}h'(X\Theta))(I\otimes X)",
                     "thread002", "h = tanh"),
    JacobianIdentity("Wu - v in W (seed 004)", "W @ u - v", "W",
                     _shapes(W="mn", u="n", v="m"),
                     "np.kron(np.reshape(u, (1, {n})), np.eye({m}))",
                     r"W\mathbf u - \mathbf v", r"\mathbf u^\top\otimes I_m", "thread004", ""),
]


def sizes_of(row: JacobianIdentity, sizes=None) -> dict:
    m, n, k = sizes or row.sizes
    return {"m": m, "n": n, "k": k, "mn": m * n, "mm": m * m, "nn": n * n, "km": k * m}


def shapes_text(row: JacobianIdentity, sizes=None) -> dict:
    """The declarations as mcv reads them: {"X": "2x3", ...}."""
    return {name: "x".join(map(str, shape)) for name, shape in
            row.shapes(*(sizes or row.sizes)).items()}


def _expand(text: str, sizes: dict) -> str:
    """{m}, {n}, {k} filled in; K(a, b) written out with np.eye, np.reshape, np.einsum."""
    import re

    def commutation(match):
        a, c = (sizes[x.strip()] for x in match.group(1).split(","))
        return K.format(m=a, n=c, s=a * c)
    text = re.sub(r"K\(([mnk]\s*,\s*[mnk])\)", commutation, text)
    return text.format(**sizes)


def draw(row: JacobianIdentity, seed: int, sizes=None) -> dict:
    """A random point: every variable standard normal, an invertible X well conditioned."""
    rng = np.random.default_rng(seed)
    values = {name: rng.standard_normal(shape)
              for name, shape in sorted(row.shapes(*(sizes or row.sizes)).items())}
    for name, kind in row.condition.items():
        if kind == "invertible":
            Z = values[name]
            values[name] = 2 * np.eye(len(Z)) + Z / np.linalg.norm(Z, 2)
    return values


def evaluate_text(row: JacobianIdentity, text: str, values: dict, sizes=None):
    """The row's text (its expression or its Jacobian) parsed by :mod:`mcv.expr` and
    evaluated at ``values`` (numbers, or arrays of sympy symbols with ``exact=True``)."""
    from mcv.expr import Limits, evaluate, parse

    sizes = sizes_of(row, sizes)
    shapes = row.shapes(sizes["m"], sizes["n"], sizes["k"])
    tree = parse(_expand(text, sizes), shapes, row.name, limits=Limits(max_entries=10**8))
    return evaluate(tree, values)


def check_row(row: JacobianIdentity, seeds=range(3), sizes=None):
    """check_jacobian of the row's claim at each seed: the reports."""
    from mcv.checks import check_jacobian

    reports = []
    for seed in seeds:
        values = draw(row, seed, sizes)

        def f(x, values=values):
            return np.asarray(evaluate_text(row, row.of, {**values, row.wrt: x}, sizes))

        def claim(x, values=values):
            return np.asarray(evaluate_text(row, row.jacobian, {**values, row.wrt: x},
                                            sizes), dtype=float)
        reports.append(check_jacobian(f, claim, values[row.wrt], seed=seed))
    return reports


def exact_row(row: JacobianIdentity, sizes=(2, 3, 2)) -> str:
    """'agrees', 'disagrees', or why it was not tried: sympy's Jacobian of vec F by vec X
    against the claim, both on real symbols, entry by entry (sizes small, non-square)."""
    if not row.exact:
        return "not tried (the row says so)"
    import sympy as sp

    from mcv.symbolic import symbols_array

    shapes = row.shapes(*sizes)
    symbols = {name: symbols_array(name, shape) for name, shape in shapes.items()}
    for name, kind in row.condition.items():
        if kind == "invertible" and shapes[name][0] > 3:
            return "not tried (sympy's inverse is slow above 3×3)"
    from mcv.expr import evaluate_exact, parse, Limits

    sz = sizes_of(row, sizes)

    def exact(text):
        tree = parse(_expand(text, sz), shapes, row.name, limits=Limits(max_entries=10**8))
        return np.asarray(evaluate_exact(tree, symbols), dtype=object)
    F = exact(row.of)
    if F.size * int(np.prod(shapes[row.wrt])) > EXACT_MAX_ENTRIES:
        return "not tried (too many entries)"
    vec_F = sp.Matrix(list(F.ravel(order="F")))
    vec_X = sp.Matrix(list(symbols[row.wrt].ravel(order="F")))
    J = vec_F.jacobian(vec_X)
    claim = sp.Matrix(exact(row.jacobian).tolist()).applyfunc(
        lambda e: sp.nsimplify(sp.sympify(e), rational=True))   # 2.0 -> 2: powers cancel
    if claim.shape != J.shape:
        return "disagrees"
    for a, c in zip(J, claim):
        if sp.simplify(sp.together(a - c)) != 0:
            return "disagrees"
    return "agrees"


def derived_row(row: JacobianIdentity, seeds=range(3), sizes=None) -> dict:
    """The engine's Jacobian of the row (derive_jacobian, proved by itself) and its largest
    relative difference from the claim at the same points."""
    from mcv.jacobians import derive_jacobian

    shapes = shapes_text(row, sizes)
    result = derive_jacobian(row.of, row.wrt, shapes, points=len(list(seeds)),
                             exact=False)[row.wrt]   # exact_row compares with sympy
    worst = 0.0
    for seed in seeds:
        values = draw(row, seed, sizes)
        mine = np.asarray(evaluate_text(row, result["jacobian_numpy"], values, sizes))
        claim = np.asarray(evaluate_text(row, row.jacobian, values, sizes))
        worst = max(worst, float(np.max(np.abs(mine - claim)) /
                                 max(np.max(np.abs(claim)), 1e-300)))
    return {"jacobian": result["jacobian"], "verified": result["verified"],
            "difference": worst, "jacobian_numpy": result["jacobian_numpy"]}
