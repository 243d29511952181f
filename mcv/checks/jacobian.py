"""The numeric Jacobian of an array-valued function, on the same core as the gradient check
(:mod:`mcv.checks.core`): the complex step where it is valid at x (decided by the same
probes, run on ⟨w, F⟩ for random weights w), else Richardson central differences, each entry
with an error estimate.

The Jacobian is in the book's layout: **numerator layout, vec stacking columns**,
``J[a, b] = ∂ vec(F)[a] / ∂ vec(x)[b]`` with ``vec = ravel(order="F")``, so that
``vec(A X B) = (Bᵀ ⊗ A) vec(X)`` gives the Jacobian ``Bᵀ ⊗ A``. The Hessian check is this
applied to the gradient (like torch's gradgradcheck and JAX's ``check_grads(order=2)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from mcv.checks.core import (EPS, FAST_PROBES, SAFETY, Function, FunctionBug, Projection,
                             choose_method, directional, entry_slopes, quiet, step_scale,
                             unit)
from mcv.checks.diagnoses import Diagnosis
from mcv.checks.inputs import claim_array, validate_options, validated_point
from mcv.checks.mistakes import factor, index, proportionality, relative_error
from mcv.checks.report import CheckReport, Verdict

__all__ = ["NumericJacobian", "numeric_jacobian", "measured", "vec_order", "check_jacobian",
           "commutation", "JACOBIAN_RTOL", "JACOBIAN_FAST_ENTRIES"]


@dataclass(frozen=True)
class NumericJacobian:
    """The numeric Jacobian (vec order), the estimated error of each entry, the method."""

    matrix: np.ndarray
    error: np.ndarray
    method: str
    evaluations: int


def vec_order(shape: tuple) -> np.ndarray:
    """For each position in vec order (columns stacked), its index in numpy's C order."""
    size = int(np.prod(shape))
    return np.ravel_multi_index(np.unravel_index(np.arange(size), shape, order="F"), shape)


def numeric_jacobian(function: Function, x: np.ndarray, value0: np.ndarray, method: str,
                     seed: int) -> NumericJacobian:
    """∂ vec F / ∂ (vec x)ᵀ at x, for ``function`` an array-valued :class:`Function`
    (call inside :func:`~mcv.checks.core.quiet`)."""
    scale = step_scale(x)
    rng = np.random.default_rng(seed)
    if method == "auto":
        weights = rng.random(function.out_shape) * 2 - 1
        f0 = float(np.sum(weights * value0))
        method = choose_method(Projection(function, weights), x, f0, scale, rng, "auto")[0]
    entries = entry_slopes(function, method, x, value0, scale)
    if entries is None:  # an entry refused the complex step the probes accepted
        method = "central-difference"
        entries = entry_slopes(function, method, x, value0, scale)
    numeric, error, _ = entries
    columns = vec_order(x.shape)     # input entries in vec order
    rows = vec_order(function.out_shape or (1,))
    flat = numeric.reshape(x.size, -1)[columns][:, rows].T
    flat_error = error.reshape(x.size, -1)[columns][:, rows].T
    return NumericJacobian(np.ascontiguousarray(flat), np.ascontiguousarray(flat_error),
                           method, function.calls)


def measured(f, x: np.ndarray, value0: np.ndarray, method: str, seed: int, rtol,
             rtols: dict) -> tuple:
    """(the numeric Jacobian, the tolerance, None), or (None, None, the report of a bug in f):
    the first stage of the Jacobian and Hessian checks."""
    with quiet():
        try:
            numeric = numeric_jacobian(Function(f, value0.shape), x, value0, method, seed)
        except FunctionBug as bug:
            return None, None, CheckReport.bug_in_f(bug, method,
                                                    rtol or rtols["central-difference"])
    return numeric, (rtols[numeric.method] if rtol is None else float(rtol)), None


# ------------------------------------------------------------------------ the check

#: rtol of the Jacobian check (as the Hessian check's: the derivative of an array).
JACOBIAN_RTOL = {"complex-step": 1e-12, "central-difference": 1e-8}

#: Above this many entries of the Jacobian (size of f times size of x), ``mode="auto"``
#: checks along FAST_PROBES random directions instead of entry by entry.
JACOBIAN_FAST_ENTRIES = 250_000


def commutation(m: int, n: int) -> np.ndarray:
    """K with K vec(A) = vec(Aᵀ) for an m×n A (vec stacks columns)."""
    K = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            K[i * n + j, j * m + i] = 1
    return K


def check_jacobian(f: Callable[[np.ndarray], np.ndarray], claim, x: np.ndarray, *,
                   rtol: float | None = None, method: str = "auto", seed: int = 0,
                   differential: bool = False, mode: str = "auto") -> CheckReport:
    """Compare a claimed Jacobian of ``f`` at ``x`` with the numeric one, entry by entry.

    ``claim(x)`` returns the Jacobian matrix in numerator layout, ``∂ vec f / ∂ (vec x)ᵀ``
    (vec stacks columns), of shape ``(f(x).size, x.size)``; with ``differential=True``,
    ``claim(x, dx)`` returns the differential ``df`` (an array of f's shape) for a direction
    ``dx`` of x's shape, as d(X⁻¹) = −X⁻¹ dX X⁻¹ reads, and its matrix is built column by
    column. Entry (a, b) is accepted when ``|claim − numeric| <= SAFETY * err + rtol *
    max|numeric|``. ``mode="fast"`` (the default ``"auto"`` above
    :data:`JACOBIAN_FAST_ENTRIES` entries) compares instead, along FAST_PROBES random
    directions v, the claim's J v (the differential along v, or the matrix times vec v) with
    the numeric directional derivative of f, projected on random weights w: the cost is
    independent of the size, and no matrix of the Jacobian's size is formed for a
    differential. Diagnoses: the other layout (the transpose), vec taken row by row (the
    Kronecker factors swapped), a commutation matrix missing, a constant factor, the sign.

    Examples
    --------
    >>> A, B = np.arange(6.0).reshape(2, 3), np.arange(8.0).reshape(4, 2)
    >>> X = np.ones((3, 4))
    >>> check_jacobian(lambda X: A @ X @ B, lambda X: np.kron(B.T, A), X).ok
    True
    >>> check_jacobian(lambda X: A @ X @ B, lambda X: np.kron(A, B.T), X).codes
    ('jacobian-row-major',)
    """
    x = validated_point(x)
    validate_options(rtol, method)
    if x.ndim == 0:   # a scalar variable: its Jacobian has one column
        def as_scalar(y):
            return y.reshape(())
        one = (lambda y, d: claim(as_scalar(y), as_scalar(d))) if differential else \
            (lambda y: claim(as_scalar(y)))
        return check_jacobian(lambda y: f(as_scalar(y)), one, x.reshape(1), rtol=rtol,
                              method=method, seed=seed, differential=differential,
                              mode=mode)
    if mode not in ("auto", "full", "fast"):
        raise ValueError(f"mode must be 'auto', 'full' or 'fast', not {mode!r}")
    value0 = np.asarray(f(x.copy()))
    if not np.issubdtype(value0.dtype, np.floating) or not np.all(np.isfinite(value0)):
        raise TypeError(f"f(x) must return a finite real array, not dtype {value0.dtype}")
    if mode == "fast" or (mode == "auto" and x.size * value0.size > JACOBIAN_FAST_ENTRIES):
        return _fast_check(f, claim, x, value0, rtol, method, seed, differential)
    numeric, tolerance, failed = measured(f, x, value0, method, seed, rtol, JACOBIAN_RTOL)
    if failed is not None:
        return failed
    claimed = None

    def report(verdict, error, diagnosis=None):
        return CheckReport(verdict, error, numeric.method, tolerance, claimed, numeric.matrix,
                           numeric.error, diagnoses=(diagnosis,) if diagnosis else (),
                           evaluations=numeric.evaluations)
    try:
        claimed = _claimed_matrix(claim, x, value0.shape, differential)
    except Exception as error:  # noqa: BLE001 - a claim that cannot be computed is rejected
        return report(Verdict.REJECTED, float("inf"), Diagnosis.of(
            "jacobian-raised", error=f"{type(error).__name__}: {error}"))
    J = numeric.matrix
    if claimed.shape == J.shape:
        allowed = SAFETY * numeric.error + tolerance * float(np.max(np.abs(J)))
        if np.all(np.abs(claimed - J) <= allowed):
            return report(Verdict.VERIFIED, relative_error(claimed, J))
    error = relative_error(claimed, J) if claimed.shape == J.shape else float("inf")
    return report(Verdict.REJECTED, error, _jacobian_diagnosis(claimed, J, x.shape,
                                                                value0.shape, tolerance))


def _claimed_matrix(claim, x, out_shape, differential: bool) -> np.ndarray:
    if not differential:
        return claim_array(claim(x.copy()), x, "claim(x)", "the claimed Jacobian matrix")
    columns = []
    for b in vec_order(x.shape):  # the differential along each entry, in vec order
        direction = np.zeros(x.shape)
        direction.flat[b] = 1.0
        column = np.asarray(claim(x.copy(), direction), dtype=float)
        if column.shape != tuple(out_shape):
            raise ValueError(f"the differential has shape {column.shape}, but f(x) has "
                             f"shape {tuple(out_shape)}")
        columns.append(column.ravel(order="F"))
    return np.stack(columns, axis=1)


def _jacobian_diagnosis(claimed, J, x_shape, out_shape, tolerance) -> Diagnosis:
    D = Diagnosis.of
    m, n = J.shape
    if claimed.shape == (n, m) and m != n:
        k = proportionality(claimed.T, J, tolerance)
        if k is not None and abs(k - 1) < 1e-6:
            return D("jacobian-layout", m=m, n=n)
    if claimed.shape != J.shape:
        return D("jacobian-shape", claimed_shape=claimed.shape, m=m, n=n)
    if not np.any(claimed):
        return D("zero", what="the Jacobian")
    k = proportionality(claimed, J, tolerance)
    if k is not None:
        return D("close", what="the Jacobian") if abs(k - 1) < 1e-6 else \
            factor(k, "the Jacobian")
    if m == n and relative_error(J, J.T) > tolerance \
            and relative_error(claimed, J.T) <= max(100 * tolerance, 1e-6):
        return D("jacobian-layout", m=m, n=n)
    rows = _row_major(out_shape)
    columns = _row_major(x_shape)
    candidates = [("jacobian-row-major", J[np.ix_(rows, columns)]),
                  ("jacobian-commutation", J @ _commutation_of(x_shape).T)]
    for code, reference in candidates:
        if relative_error(reference, J) > 1e-9 and \
                relative_error(claimed, reference) <= max(100 * tolerance, 1e-6):
            return D(code)
    worst = np.unravel_index(int(np.argmax(np.abs(claimed - J))), J.shape)
    return D("other-term", what="the Jacobian", at=index(worst),
             claimed=float(claimed[worst]), numeric=float(J[worst]))


def _row_major(shape: tuple) -> np.ndarray:
    """Position in row-major vec order → position in the book's (column-major) vec order."""
    shape = tuple(shape) or (1,)
    size = int(np.prod(shape))
    return np.ravel_multi_index(np.unravel_index(np.arange(size), shape),
                                shape, order="F")


def _commutation_of(shape: tuple) -> np.ndarray:
    if len(shape) == 2:
        return commutation(*shape)
    return np.eye(int(np.prod(shape)) or 1)


def _fast_check(f, claim, x, value0, rtol, method, seed, differential) -> CheckReport:
    """J v against the numeric directional derivative, projected on random weights."""
    rng = np.random.default_rng(seed)
    function, scale = Function(f, value0.shape), step_scale(x)
    weights = rng.random(value0.shape) * 2 - 1
    projected = Projection(function, weights)
    f0 = float(np.sum(weights * value0))
    with quiet():
        try:
            if method == "auto":
                method = choose_method(projected, x, f0, scale, rng, "auto")[0]
            probes = [unit(rng, x.shape) for _ in range(FAST_PROBES)]
            slopes = [directional(projected, method, x, v, f0, scale) for v in probes]
        except FunctionBug as bug:
            return CheckReport.bug_in_f(bug, method, rtol or JACOBIAN_RTOL["central-difference"],
                                        mode="fast")
    tolerance = JACOBIAN_RTOL[method] if rtol is None else float(rtol)

    def report(verdict, error, diagnosis=None):
        return CheckReport(verdict, error, method, tolerance,
                           diagnoses=(diagnosis,) if diagnosis else (), mode="fast",
                           probes=len(probes), evaluations=function.calls)
    try:
        matrix = None if differential else np.asarray(claim(x.copy()), dtype=float)
        if matrix is not None and matrix.shape != (value0.size, x.size):
            return report(Verdict.REJECTED, float("inf"), Diagnosis.of(
                "jacobian-shape", claimed_shape=matrix.shape, m=value0.size, n=x.size))
        claimed = []
        for v in probes:
            if differential:
                change = np.asarray(claim(x.copy(), v), dtype=float)
            else:
                change = (matrix @ v.ravel(order="F")).reshape(value0.shape, order="F")
            claimed.append(float(np.sum(weights * change)))
    except Exception as error:  # noqa: BLE001 - a claim that cannot be computed is rejected
        return report(Verdict.REJECTED, float("inf"), Diagnosis.of(
            "jacobian-raised", error=f"{type(error).__name__}: {error}"))
    numeric = np.array([s.value for s in slopes])
    errors = np.array([s.error for s in slopes])
    claimed = np.array(claimed)
    size = max(float(np.max(np.abs(numeric))), EPS)
    if np.all(np.abs(claimed - numeric) <= SAFETY * errors + tolerance * size):
        return report(Verdict.VERIFIED, float(np.max(np.abs(claimed - numeric)) / size))
    error = float(np.max(np.abs(claimed - numeric)) / size)
    k = claimed @ numeric / max(float(numeric @ numeric), EPS ** 2)
    if np.allclose(claimed, k * numeric, rtol=1e-6, atol=tolerance * size) and k != 0:
        return report(Verdict.REJECTED, error, factor(k, "the Jacobian"))
    return report(Verdict.REJECTED, error, Diagnosis.of("other-term-fast", what="the Jacobian",
                                                        probes=len(probes)))

