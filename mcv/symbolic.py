"""The sympy helpers the chapters share for exact checks (taught in "Shapes, layouts and
differentials"): matrices of independent symbols, the gradient laid out like its variable,
and exact entry-by-entry equality.

sympy is an optional dependency of mcv (the ``book`` extra): importing this module needs it,
checking gradients numerically does not.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["symbols_matrix", "sympy_gradient", "exactly_equal"]


def symbols_matrix(name: str, rows: int, cols: int) -> sp.Matrix:
    """A rows × cols matrix of independent real symbols ``name_ij``.

    >>> symbols_matrix("W", 2, 3).shape
    (2, 3)
    """
    def entry(i, j):
        return sp.Symbol(f"{name}{i}{j}", real=True)
    return sp.Matrix(rows, cols, entry)


def sympy_gradient(loss: sp.Expr, X: sp.Matrix) -> sp.Matrix:
    """The partial derivatives of the scalar ``loss``, laid out like ``X`` (this book's
    gradient convention).

    >>> x = symbols_matrix("x", 2, 1)
    >>> sympy_gradient(x[0] ** 2 + 3 * x[1], x).T
    Matrix([[2*x00, 3]])
    """
    return X.applyfunc(lambda x_ij: sp.diff(loss, x_ij))


def exactly_equal(P, Q) -> bool:
    """Same shape, and every entry of ``P - Q`` simplifies to zero.

    >>> x = symbols_matrix("x", 2, 1)
    >>> exactly_equal(2 * x, x + x), exactly_equal(x, x.T)
    (True, False)
    """
    return P.shape == Q.shape and all(sp.simplify(p - q) == 0 for p, q in zip(P, Q))
