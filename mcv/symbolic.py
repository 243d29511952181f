"""The sympy helpers the chapters share for exact checks (taught in "Shapes, layouts and
differentials"): matrices of independent symbols, the gradient laid out like its variable,
and exact entry-by-entry equality; and a register of the sympy bugs the book has met
(:data:`KNOWN_SYMPY_BUGS`), each with a reproduction that says whether the installed sympy
still has it, so that an upgrade reports "fixed upstream" instead of breaking a chapter.

sympy is an optional dependency of mcv (the ``book`` extra): importing this module needs it,
checking gradients numerically does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy as sp

__all__ = ["symbols_matrix", "symbols_array", "sympy_gradient", "exactly_equal", "KnownSympyBug",
           "KNOWN_SYMPY_BUGS", "sympy_bug_status", "sympy_version"]


def symbols_matrix(name: str, rows: int, cols: int) -> sp.Matrix:
    """A rows × cols matrix of independent real symbols ``name_ij``.

    >>> symbols_matrix("W", 2, 3).shape
    (2, 3)
    """
    def entry(i, j):
        return sp.Symbol(f"{name}{i}{j}", real=True)
    return sp.Matrix(rows, cols, entry)


def symbols_array(name: str, shape: tuple[int, ...]):
    """A numpy object array of independent real symbols ``name_i_j`` of any shape: numpy's
    operators and reductions then build sympy expressions (used for exact comparisons).

    >>> symbols_array("x", (2, 1))[1, 0]
    x_1_0
    """
    import numpy as np

    array = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        array[index] = sp.Symbol(f"{name}_{'_'.join(map(str, index))}", real=True)
    return array


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


# ------------------------------------------------------------ the register of sympy bugs

def sympy_version() -> str:
    """The installed sympy's version as ``"major.minor"``, e.g. ``"1.14"``."""
    return ".".join(sp.__version__.split(".")[:2])


@dataclass(frozen=True)
class KnownSympyBug:
    """A sympy bug met while writing the book.

    ``reproduce()`` returns True while the installed sympy still has the bug: it is False only
    when sympy returns the right answer, checked against an entry-by-entry derivative (a new
    exception or a new wrong answer still counts as the bug). ``upstream`` is the sympy issue
    that tracks it, or None when no upstream issue was found.
    """

    name: str
    description: str
    reproduce: Callable[[], bool]
    upstream: str | None = None

    def status(self) -> str:
        """``"present in sympy X.Y"`` or ``"fixed upstream"``.

        >>> bug = KnownSympyBug("demo", "always there", lambda: True)
        >>> bug.status() == f"present in sympy {sympy_version()}"
        True
        >>> KnownSympyBug("demo", "gone", lambda: False).status()
        'fixed upstream'
        """
        if self.reproduce():
            return f"present in sympy {sympy_version()}"
        return "fixed upstream"


def _elementwise_composite() -> bool:
    """½‖Y − exp(XΘ)‖²_F (exp entrywise) differentiated by MatrixSymbol.diff."""
    M, n_in, n_out = 3, 2, 4
    X, Y = sp.MatrixSymbol("X", M, n_in), sp.MatrixSymbol("Y", M, n_out)
    Theta = sp.MatrixSymbol("Theta", n_in, n_out)
    E = Y - (X * Theta).applyfunc(sp.exp)
    try:
        result = (sp.Trace(E.T * E) / 2).diff(Theta)
        if getattr(result, "shape", None) != Theta.shape:
            return True
        Xe, Ye, Te = X.as_explicit(), Y.as_explicit(), Theta.as_explicit()
        Ee = Ye - (Xe * Te).applyfunc(sp.exp)
        loss = sum(e ** 2 for e in Ee) / 2
        return not exactly_equal(sp.Matrix(result.as_explicit()),
                                 sympy_gradient(loss, Te))
    except Exception:  # noqa: BLE001 - any failure to differentiate is the bug
        return True


def _trace_sum() -> bool:
    """(tr(AᵀA) + tr(BᵀB)).diff(A), which is 2A."""
    A, B = sp.MatrixSymbol("A", 3, 2), sp.MatrixSymbol("B", 3, 2)
    try:
        result = (sp.Trace(A.T * A) + sp.Trace(B.T * B)).diff(A)
        if getattr(result, "shape", None) != A.shape:
            return True
        return not exactly_equal(sp.Matrix(result.as_explicit()),
                                 2 * A.as_explicit())
    except Exception:  # noqa: BLE001
        return True


def _log_det() -> bool:
    """log(det X).diff(X), which is X⁻ᵀ."""
    X = sp.MatrixSymbol("X", 2, 2)
    try:
        result = sp.log(sp.Determinant(X)).diff(X)
        if getattr(result, "shape", None) != X.shape:
            return True
        return not exactly_equal(sp.Matrix(result.as_explicit()),
                                 X.as_explicit().inv().T)
    except Exception:  # noqa: BLE001
        return True


#: The sympy bugs the book has met, found on sympy 1.14 (see the module docstring).
KNOWN_SYMPY_BUGS: tuple[KnownSympyBug, ...] = (
    KnownSympyBug(
        "elementwise-composite",
        "MatrixSymbol.diff of ½‖Y − h(XΘ)‖²_F, h entrywise: raises TypeError "
        "(Mix of Matrix and Scalar symbols)",
        _elementwise_composite,
        "https://github.com/sympy/sympy/issues/17972"),
    KnownSympyBug(
        "trace-sum",
        "(Trace(A.T*A) + Trace(B.T*B)).diff(A) returns 0 instead of 2A",
        _trace_sum,
        "https://github.com/sympy/sympy/issues/27406"),
    KnownSympyBug(
        "log-det",
        "log(Determinant(X)).diff(X) returns a ZeroMatrix instead of X⁻ᵀ",
        _log_det,
        "https://github.com/sympy/sympy/issues/28618"),
)


def sympy_bug_status() -> dict[str, str]:
    """Each known bug's name and whether the installed sympy still has it. Never raises.

    >>> status = sympy_bug_status()
    >>> sorted(status)
    ['elementwise-composite', 'log-det', 'trace-sum']
    >>> all(s == "fixed upstream" or s.startswith("present in sympy ")
    ...     for s in status.values())
    True
    """
    return {bug.name: bug.status() for bug in KNOWN_SYMPY_BUGS}
