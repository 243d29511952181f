"""The book's table of gradient identities: one source of truth for the appendix and the tests.

Each :class:`Identity` holds a loss, its claimed gradient (this book's convention: the
parameter's shape), a recipe for a random test point on rectangular shapes, and the LaTeX the
appendix prints. The appendix ("Identities, verified") and ``tests/test_identities.py`` both
read :data:`IDENTITIES`; neither repeats a formula.

Matrix Cookbook numbers refer to Petersen and Pedersen, version of 15 November 2012, and are
given only where the Cookbook states the same identity in the same layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

Point = tuple[np.ndarray, dict]  # the variable, and the constants the loss depends on


@dataclass(frozen=True)
class Identity:
    """One row of the table: ``loss(x, **constants)`` has gradient ``grad(x, **constants)``."""

    group: str
    expression: str        # LaTeX, with the variable's shape
    gradient: str          # LaTeX, in this book's convention
    make: Callable[[np.random.Generator, int, int], Point]  # (rng, m, n) with m != n
    loss: Callable[..., float]
    grad: Callable[..., np.ndarray]
    cookbook: str = "—"
    polynomial: bool = False   # loss and gradient use only + - * @ .T sum trace outer: sympy can expand them


def _normal(rng, *shape):
    return rng.standard_normal(shape)


def _well_conditioned(rng, n):
    """A square matrix far from singular: its inverse and determinant are safe to check."""
    return 3 * np.eye(n) + 0.5 * rng.standard_normal((n, n))


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _vec(rng, m, n, **named_shapes):
    """x in R^n, plus constants with shapes given by 'm', 'n' or 'nn' (n x n) etc."""
    sizes = {"m": m, "n": n}
    constants = {name: rng.standard_normal(tuple(sizes[c] for c in dims))
                 for name, dims in named_shapes.items()}
    return rng.standard_normal(n), constants


def _mat(rng, m, n, **named_shapes):
    """X in R^{m x n}, plus constants as in _vec (dims from 'm', 'n', 'p' = m + n)."""
    sizes = {"m": m, "n": n, "p": m + n}
    constants = {name: rng.standard_normal(tuple(sizes[c] for c in dims))
                 for name, dims in named_shapes.items()}
    return rng.standard_normal((m, n)), constants


def _square(rng, m, n, **named_shapes):
    """A well-conditioned X in R^{n x n}, plus constants as in _mat."""
    return _well_conditioned(rng, n), _mat(rng, m, n, **named_shapes)[1]


IDENTITIES: list[Identity] = [
    # ----------------------------------------------------------- linear and quadratic forms
    Identity("linear and quadratic forms", r"\mathbf a^\top\mathbf x,\ \mathbf x\in\mathbb R^n",
             r"\mathbf a", lambda r, m, n: _vec(r, m, n, a="n"),
             lambda x, a: a @ x, lambda x, a: a, "(69)", True),
    Identity("linear and quadratic forms", r"\mathbf c^\top A\mathbf x,\ A\in\mathbb R^{m\times n}",
             r"A^\top\mathbf c", lambda r, m, n: _vec(r, m, n, A="mn", c="m"),
             lambda x, A, c: c @ A @ x, lambda x, A, c: A.T @ c, "—", True),
    Identity("linear and quadratic forms", r"\mathbf x^\top\mathbf x", r"2\mathbf x",
             lambda r, m, n: _vec(r, m, n), lambda x: x @ x, lambda x: 2 * x, "—", True),
    Identity("linear and quadratic forms", r"\mathbf x^\top B\mathbf x,\ B\in\mathbb R^{n\times n}",
             r"(B + B^\top)\mathbf x", lambda r, m, n: _vec(r, m, n, B="nn"),
             lambda x, B: x @ B @ x, lambda x, B: (B + B.T) @ x, "(81)", True),
    Identity("linear and quadratic forms", r"(\mathbf a^\top\mathbf x)^2",
             r"2(\mathbf a^\top\mathbf x)\,\mathbf a", lambda r, m, n: _vec(r, m, n, a="n"),
             lambda x, a: (a @ x) ** 2, lambda x, a: 2 * (a @ x) * a, "—", True),
    Identity("linear and quadratic forms", r"\lVert A\mathbf x - \mathbf b\rVert^2",
             r"2A^\top(A\mathbf x - \mathbf b)", lambda r, m, n: _vec(r, m, n, A="mn", b="m"),
             lambda x, A, b: np.sum((A @ x - b) ** 2), lambda x, A, b: 2 * A.T @ (A @ x - b),
             "—", True),
    Identity("linear and quadratic forms",
             r"\tfrac12\lVert A\mathbf x - \mathbf b\rVert^2 + \tfrac\lambda2\lVert\mathbf x\rVert^2",
             r"A^\top(A\mathbf x - \mathbf b) + \lambda\mathbf x",
             lambda r, m, n: _vec(r, m, n, A="mn", b="m"),
             lambda x, A, b: 0.5 * np.sum((A @ x - b) ** 2) + 0.15 * np.sum(x * x),
             lambda x, A, b: A.T @ (A @ x - b) + 0.3 * x, "—", True),
    Identity("linear and quadratic forms", r"\mathbf a^\top X\mathbf b,\ X\in\mathbb R^{m\times n}",
             r"\mathbf a\mathbf b^\top", lambda r, m, n: _mat(r, m, n, a="m", b="n"),
             lambda X, a, b: a @ X @ b, lambda X, a, b: np.outer(a, b), "(70)", True),
    Identity("linear and quadratic forms", r"\mathbf a^\top X^\top\mathbf b",
             r"\mathbf b\mathbf a^\top", lambda r, m, n: _mat(r, m, n, a="n", b="m"),
             lambda X, a, b: a @ X.T @ b, lambda X, a, b: np.outer(b, a), "(71)", True),
    Identity("linear and quadratic forms", r"\mathbf b^\top X^\top X\mathbf c",
             r"X(\mathbf b\mathbf c^\top + \mathbf c\mathbf b^\top)",
             lambda r, m, n: _mat(r, m, n, b="n", c="n"),
             lambda X, b, c: b @ X.T @ X @ c, lambda X, b, c: X @ (np.outer(b, c) + np.outer(c, b)),
             "—", True),
    # -------------------------------------------------------------------------------- traces
    Identity("traces", r"\operatorname{tr}(AX),\ A\in\mathbb R^{n\times m}", r"A^\top",
             lambda r, m, n: _mat(r, m, n, A="nm"),
             lambda X, A: np.trace(A @ X), lambda X, A: A.T, "—", True),
    Identity("traces", r"\operatorname{tr}(X^\top A),\ A\in\mathbb R^{m\times n}", r"A",
             lambda r, m, n: _mat(r, m, n, A="mn"),
             lambda X, A: np.trace(X.T @ A), lambda X, A: A, "—", True),
    Identity("traces", r"\operatorname{tr}(AX^\top),\ A\in\mathbb R^{m\times n}", r"A",
             lambda r, m, n: _mat(r, m, n, A="mn"),
             lambda X, A: np.trace(A @ X.T), lambda X, A: A, "—", True),
    Identity("traces", r"\operatorname{tr}(AXB),\ A\in\mathbb R^{p\times m}, B\in\mathbb R^{n\times p}",
             r"A^\top B^\top", lambda r, m, n: _mat(r, m, n, A="pm", B="np"),
             lambda X, A, B: np.trace(A @ X @ B), lambda X, A, B: A.T @ B.T, "—", True),
    Identity("traces", r"\operatorname{tr}(X^\top AX),\ A\in\mathbb R^{m\times m}",
             r"(A + A^\top)X", lambda r, m, n: _mat(r, m, n, A="mm"),
             lambda X, A: np.trace(X.T @ A @ X), lambda X, A: (A + A.T) @ X, "—", True),
    Identity("traces", r"\operatorname{tr}(XBX^\top),\ B\in\mathbb R^{n\times n}",
             r"X(B + B^\top)", lambda r, m, n: _mat(r, m, n, B="nn"),
             lambda X, B: np.trace(X @ B @ X.T), lambda X, B: X @ (B + B.T), "—", True),
    Identity("traces", r"\operatorname{tr}(X^\top X)", r"2X", lambda r, m, n: _mat(r, m, n),
             lambda X: np.trace(X.T @ X), lambda X: 2 * X, "—", True),
    Identity("traces", r"\operatorname{tr}(X^2),\ X\in\mathbb R^{n\times n}", r"2X^\top",
             lambda r, m, n: (r.standard_normal((n, n)), {}),
             lambda X: np.trace(X @ X), lambda X: 2 * X.T, "—", True),
    Identity("traces", r"\operatorname{tr}(AXBX),\ X\in\mathbb R^{n\times n}",
             r"A^\top X^\top B^\top + B^\top X^\top A^\top",
             lambda r, m, n: (r.standard_normal((n, n)),
                              {"A": r.standard_normal((n, n)), "B": r.standard_normal((n, n))}),
             lambda X, A, B: np.trace(A @ X @ B @ X),
             lambda X, A, B: A.T @ X.T @ B.T + B.T @ X.T @ A.T, "—", True),
    # ------------------------------------------------------------------ Frobenius and l^p norms
    Identity("norms", r"\lVert X\rVert_F^2", r"2X", lambda r, m, n: _mat(r, m, n),
             lambda X: np.sum(X * X), lambda X: 2 * X, "—", True),
    Identity("norms", r"\lVert X\rVert_F", r"X/\lVert X\rVert_F", lambda r, m, n: _mat(r, m, n),
             lambda X: np.linalg.norm(X), lambda X: X / np.linalg.norm(X)),
    Identity("norms", r"\lVert X - A\rVert_F^2", r"2(X - A)",
             lambda r, m, n: _mat(r, m, n, A="mn"),
             lambda X, A: np.sum((X - A) ** 2), lambda X, A: 2 * (X - A), "—", True),
    Identity("norms", r"\lVert AXB - C\rVert_F^2,\ A\in\mathbb R^{p\times m}, B\in\mathbb R^{n\times p}",
             r"2A^\top(AXB - C)B^\top", lambda r, m, n: _mat(r, m, n, A="pm", B="np", C="pp"),
             lambda X, A, B, C: np.sum((A @ X @ B - C) ** 2),
             lambda X, A, B, C: 2 * A.T @ (A @ X @ B - C) @ B.T, "—", True),
    Identity("norms", r"\lVert\mathbf x\rVert_2", r"\mathbf x/\lVert\mathbf x\rVert_2",
             lambda r, m, n: _vec(r, m, n),
             lambda x: np.linalg.norm(x), lambda x: x / np.linalg.norm(x)),
    Identity("norms", r"\lVert\mathbf x\rVert_1", r"\operatorname{sign}(\mathbf x)",
             lambda r, m, n: _vec(r, m, n), lambda x: np.sum(np.abs(x)), lambda x: np.sign(x)),
    Identity("norms", r"\lVert\mathbf x\rVert_3",
             r"\operatorname{sign}(\mathbf x)\odot\mathbf x^{2}/\lVert\mathbf x\rVert_3^{2}",
             lambda r, m, n: _vec(r, m, n), lambda x: np.sum(np.abs(x) ** 3) ** (1 / 3),
             lambda x: np.sign(x) * x ** 2 / np.sum(np.abs(x) ** 3) ** (2 / 3)),
    Identity("norms", r"\lVert\mathbf x\rVert_\infty",
             r"\operatorname{sign}(x_{i^\star})\mathbf e_{i^\star},\ i^\star = \arg\max_i\lvert x_i\rvert",
             lambda r, m, n: _vec(r, m, n), lambda x: np.max(np.abs(x)),
             lambda x: np.sign(x) * (np.abs(x) == np.max(np.abs(x)))),
    Identity("norms", r"\lVert\mathbf b - A\mathbf x\rVert_1",
             r"-A^\top\operatorname{sign}(\mathbf b - A\mathbf x)",
             lambda r, m, n: _vec(r, m, n, A="mn", b="m"),
             lambda x, A, b: np.sum(np.abs(b - A @ x)), lambda x, A, b: -A.T @ np.sign(b - A @ x)),
    # --------------------------------------------------------- determinant, log-det, inverse
    Identity("determinant and inverse", r"\det X,\ X\in\mathbb R^{n\times n}",
             r"\det(X)\,X^{-\top}", lambda r, m, n: _square(r, m, n),
             lambda X: np.linalg.det(X), lambda X: np.linalg.det(X) * np.linalg.inv(X).T),
    Identity("determinant and inverse", r"\log\lvert\det X\rvert", r"X^{-\top}",
             lambda r, m, n: _square(r, m, n),
             lambda X: np.linalg.slogdet(X)[1], lambda X: np.linalg.inv(X).T),
    Identity("determinant and inverse", r"\mathbf a^\top X^{-1}\mathbf b",
             r"-X^{-\top}\mathbf a\mathbf b^\top X^{-\top}",
             lambda r, m, n: _square(r, m, n, a="n", b="n"),
             lambda X, a, b: a @ np.linalg.inv(X) @ b,
             lambda X, a, b: -np.linalg.inv(X).T @ np.outer(a, b) @ np.linalg.inv(X).T),
    Identity("determinant and inverse", r"\operatorname{tr}(AX^{-1}B),\ A\in\mathbb R^{m\times n}, B\in\mathbb R^{n\times m}",
             r"-X^{-\top}A^\top B^\top X^{-\top}",
             lambda r, m, n: _square(r, m, n, A="mn", B="nm"),
             lambda X, A, B: np.trace(A @ np.linalg.inv(X) @ B),
             lambda X, A, B: -np.linalg.inv(X).T @ A.T @ B.T @ np.linalg.inv(X).T),
    # ------------------------------------------------------------------- entrywise functions
    Identity("entrywise functions", r"\mathbf 1^\top\exp(X)\mathbf 1", r"\exp(X)",
             lambda r, m, n: _mat(r, m, n), lambda X: np.sum(np.exp(X)), lambda X: np.exp(X)),
    Identity("entrywise functions", r"\log\sum_i e^{x_i}", r"\operatorname{softmax}(\mathbf x)",
             lambda r, m, n: _vec(r, m, n), lambda x: np.log(np.sum(np.exp(x))),
             lambda x: np.exp(x) / np.sum(np.exp(x))),
    Identity("entrywise functions", r"\sum_i\log(1 + e^{x_i})", r"\sigma(\mathbf x)",
             lambda r, m, n: _vec(r, m, n), lambda x: np.sum(np.log1p(np.exp(x))), _sigmoid),
    Identity("entrywise functions", r"\sum_{ij}\log(1 + x_{ij}^2)", r"2X\oslash(1 + X^{\odot 2})",
             lambda r, m, n: _mat(r, m, n), lambda X: np.sum(np.log1p(X * X)),
             lambda X: 2 * X / (1 + X * X)),
    Identity("entrywise functions", r"\mathbf a^\top\tanh(A\mathbf x)",
             r"A^\top[\mathbf a\odot(1 - \tanh^2(A\mathbf x))]",
             lambda r, m, n: _vec(r, m, n, A="mn", a="m"),
             lambda x, A, a: a @ np.tanh(A @ x), lambda x, A, a: A.T @ (a * (1 - np.tanh(A @ x) ** 2))),
    # ------------------------------------------------------------------ the book's chapters
    Identity("the book's losses", r"\lVert\mathbf b - \mathbf a\rVert^2\ \text{in}\ \mathbf a",
             r"2(\mathbf a - \mathbf b)", lambda r, m, n: _vec(r, m, n, b="n"),
             lambda a, b: np.sum((b - a) ** 2), lambda a, b: 2 * (a - b), "—", True),
    Identity("the book's losses", r"\lVert W\mathbf u - \mathbf v\rVert^2\ \text{in}\ W",
             r"2(W\mathbf u - \mathbf v)\mathbf u^\top", lambda r, m, n: _mat(r, m, n, u="n", v="m"),
             lambda W, u, v: np.sum((W @ u - v) ** 2), lambda W, u, v: 2 * np.outer(W @ u - v, u),
             "—", True),
    Identity("the book's losses", r"\lVert W\mathbf u - \mathbf v\rVert^2\ \text{in}\ \mathbf u",
             r"2W^\top(W\mathbf u - \mathbf v)", lambda r, m, n: _vec(r, m, n, W="mn", v="m"),
             lambda u, W, v: np.sum((W @ u - v) ** 2), lambda u, W, v: 2 * W.T @ (W @ u - v),
             "—", True),
    Identity("the book's losses", r"\lVert W\mathbf u - \mathbf v\rVert^2\ \text{in}\ \mathbf v",
             r"-2(W\mathbf u - \mathbf v)",
             lambda r, m, n: (r.standard_normal(m), {"W": r.standard_normal((m, n)),
                                                     "u": r.standard_normal(n)}),
             lambda v, W, u: np.sum((W @ u - v) ** 2), lambda v, W, u: -2 * (W @ u - v), "—", True),
    Identity("the book's losses", r"\lVert WU - V\rVert_F^2\ \text{in}\ W",
             r"2(WU - V)U^\top", lambda r, m, n: _mat(r, m, n, U="np", V="mp"),
             lambda W, U, V: np.sum((W @ U - V) ** 2), lambda W, U, V: 2 * (W @ U - V) @ U.T,
             "—", True),
    Identity("the book's losses", r"\lVert WX + \mathbf b\mathbf 1^\top - Y\rVert_F^2\ \text{in}\ W",
             r"2(WX + \mathbf b\mathbf 1^\top - Y)X^\top",
             lambda r, m, n: _mat(r, m, n, X="np", b="m", Y="mp"),
             lambda W, X, b, Y: np.sum((W @ X + b[:, None] - Y) ** 2),
             lambda W, X, b, Y: 2 * (W @ X + b[:, None] - Y) @ X.T, "—", True),
    Identity("the book's losses", r"\lVert WX + \mathbf b\mathbf 1^\top - Y\rVert_F^2\ \text{in}\ \mathbf b",
             r"2(WX + \mathbf b\mathbf 1^\top - Y)\mathbf 1",
             lambda r, m, n: (r.standard_normal(m), {"W": r.standard_normal((m, n)),
                                                     "X": r.standard_normal((n, m + n)),
                                                     "Y": r.standard_normal((m, m + n))}),
             lambda b, W, X, Y: np.sum((W @ X + b[:, None] - Y) ** 2),
             lambda b, W, X, Y: 2 * np.sum(W @ X + b[:, None] - Y, axis=1), "—", True),
    Identity("the book's losses", r"\lVert X_{\text{rows}}W^\top + \mathbf 1\mathbf b^\top - Y_{\text{rows}}\rVert_F^2\ \text{in}\ W",
             r"2R_{\text{rows}}^\top X_{\text{rows}}",
             lambda r, m, n: _mat(r, m, n, Xr="pn", b="m", Yr="pm"),
             lambda W, Xr, b, Yr: np.sum((Xr @ W.T + b[None, :] - Yr) ** 2),
             lambda W, Xr, b, Yr: 2 * (Xr @ W.T + b[None, :] - Yr).T @ Xr, "—", True),
    Identity("the book's losses", r"\tfrac12\lVert\sigma(X\Theta) - Y\rVert_F^2\ \text{in}\ \Theta",
             r"X^\top[(\sigma(Z) - Y)\odot\sigma(Z)\odot(1 - \sigma(Z))]",
             lambda r, m, n: _mat(r, m, n, X="pm", Y="pn"),
             lambda T, X, Y: 0.5 * np.sum((_sigmoid(X @ T) - Y) ** 2),
             lambda T, X, Y: X.T @ ((_sigmoid(X @ T) - Y) * _sigmoid(X @ T) * (1 - _sigmoid(X @ T)))),
    Identity("the book's losses", r"\tfrac12\lVert\tanh(X\Theta) - Y\rVert_F^2\ \text{in}\ \Theta",
             r"X^\top[(\tanh Z - Y)\odot(1 - \tanh^2 Z)]",
             lambda r, m, n: _mat(r, m, n, X="pm", Y="pn"),
             lambda T, X, Y: 0.5 * np.sum((np.tanh(X @ T) - Y) ** 2),
             lambda T, X, Y: X.T @ ((np.tanh(X @ T) - Y) * (1 - np.tanh(X @ T) ** 2))),
    Identity("the book's losses", r"\lVert\mathbf x - A\mathbf x\rVert_1,\ A\in\mathbb R^{n\times n}",
             r"(I - A)^\top\operatorname{sign}(\mathbf x - A\mathbf x)",
             lambda r, m, n: _vec(r, m, n, A="nn"),
             lambda x, A: np.sum(np.abs(x - A @ x)),
             lambda x, A: (np.eye(len(x)) - A).T @ np.sign(x - A @ x)),
]
