"""The Hessian check: the Jacobian of a verified gradient (:mod:`mcv.checks.jacobian`),
judged entry by entry within its error estimates, with the Hessian's own diagnoses."""

from __future__ import annotations

from typing import Callable

import numpy as np

from mcv.checks.core import SAFETY
from mcv.checks.diagnoses import Diagnosis
from mcv.checks.gradient import Method
from mcv.checks.inputs import claim_array, validate_options, validated_point
from mcv.checks.jacobian import measured
from mcv.checks.mistakes import (factor, hessian_value_diagnosis, index, proportionality,
                                 relative_error)
from mcv.checks.report import CheckReport, Verdict, raise_unless_ok

__all__ = ["check_hessian", "assert_hessian", "HESSIAN_RTOL"]

#: rtol of the Hessian check: an entry may differ by SAFETY times its error estimate plus
#: rtol times the Hessian's largest entry (central differences of a gradient lose more
#: digits than those of a loss, whose values are smoother relative to their size).
HESSIAN_RTOL = {"complex-step": 1e-12, "central-difference": 1e-7}
D = Diagnosis.of


def check_hessian(grad: Callable[[np.ndarray], np.ndarray],
                  hess: Callable[[np.ndarray], np.ndarray], x: np.ndarray, *,
                  rtol: float | None = None, method: Method = "auto",
                  seed: int = 0) -> CheckReport:
    """Compare ``hess(x)`` with a numeric Hessian: the derivative of a verified ``grad``.

    The claim is the ``x.size × x.size`` matrix of second derivatives in **vec order**: the
    entries of ``x`` are numbered column by column (``order='F'``), so that for a matrix X the
    Hessian of ``L(X)`` is the matrix of ``vec(X) ↦ vec(∇L)``, as in
    ``vec(AXB) = (Bᵀ ⊗ A) vec(X)``. Column j of the numeric Hessian is the derivative of
    ``vec(grad(x))`` along entry j of ``vec(x)``, computed by the gradient check's numeric
    core (complex step where the probes find ``grad`` analytic, else Richardson central
    differences), each entry with an error estimate; entry (a, b) is accepted when
    ``|claim - numeric| <= SAFETY * err + rtol * max|numeric|``.

    Returns a :class:`CheckReport` (``report.numeric`` is the numeric Hessian). Beyond a
    constant factor, a sign and a missing term, it names a claim that is not symmetric (and
    whether its symmetric part is right), a claim in row-major vec order (rows of x stacked:
    ``A ⊗ B`` written where ``B ⊗ A`` was due), a claim of the wrong shape that holds the
    right entries (a 4-index array: reshape it), and a ``grad`` that is no gradient (its
    derivative is not symmetric), against which no claim can be verified. A ``hess`` that
    raises is a rejected claim.
    """
    x = validated_point(x)
    validate_options(rtol, method)
    g0 = np.asarray(grad(x.copy()))
    if g0.shape != x.shape or not np.issubdtype(g0.dtype, np.floating):
        raise TypeError(f"grad(x) must return a real array of x's shape {x.shape}, not shape "
                        f"{g0.shape} and dtype {g0.dtype}; verify it with check_gradient first")
    if method == "complex-step" and not np.iscomplexobj(
            np.asarray(grad(x + 1j * 1e-20 * np.ones_like(x)))):
        raise ValueError("method='complex-step' needs a grad that carries a complex input "
                         "through to a complex output; use method='auto'")
    numeric, tolerance, failed = measured(grad, x, g0, method, seed, rtol, HESSIAN_RTOL)
    if failed is not None:
        return failed

    def report(verdict, error, diagnosis=None) -> CheckReport:
        return CheckReport(verdict, error, numeric.method, tolerance, claimed, numeric.matrix,
                           numeric.error, diagnoses=(diagnosis,) if diagnosis else (),
                           evaluations=numeric.evaluations)

    claimed = None
    try:
        raw_claim = hess(x.copy())
    except Exception as error:  # noqa: BLE001 - a claim that cannot be computed is rejected
        return report(Verdict.REJECTED, float("inf"), D(
            "hess-raised", error=f"{type(error).__name__}: {error}"))
    claimed = claim_array(raw_claim, x, "hess(x)",
                          f"the claimed Hessian, a {x.size}×{x.size} matrix")
    found = _diagnose(claimed, numeric.matrix, numeric.error, x, tolerance)
    if found is None:
        return report(Verdict.VERIFIED, relative_error(claimed, numeric.matrix))
    error, diagnosis = found
    return report(Verdict.REJECTED, error, diagnosis)


def _diagnose(claimed, numeric, numeric_error, x, tolerance):
    """None for a right claim, else (max relative error, diagnosis)."""
    n = x.size
    if claimed.shape != (n, n):
        return float("inf"), D("hessian-shape", claimed_shape=claimed.shape, n=n,
                               hint=_layout_hint(claimed, numeric))
    if not np.issubdtype(claimed.dtype, np.number) or np.iscomplexobj(claimed) \
            or not np.all(np.isfinite(claimed)):
        return float("inf"), D("hessian-not-finite")
    error = relative_error(claimed, numeric)
    diagnose_tolerance = max(100 * tolerance, 1e-6)
    if relative_error(numeric, numeric.T) > diagnose_tolerance:
        return error, _not_a_gradient(numeric, x.shape)
    allowed = SAFETY * numeric_error + tolerance * float(np.max(np.abs(numeric)))
    if np.all(np.abs(claimed - numeric) <= allowed):
        return None
    values = hessian_value_diagnosis(claimed, numeric, tolerance)
    if relative_error(claimed, claimed.T) > diagnose_tolerance:
        if relative_error((claimed + claimed.T) / 2, numeric) <= diagnose_tolerance:
            values = D("hessian-symmetrise")
        return error, D("hessian-not-symmetric", values=values)
    if x.ndim == 2:
        rows_stacked = np.arange(n).reshape(x.shape, order="F").ravel(order="C")
        reordered = numeric[np.ix_(rows_stacked, rows_stacked)]
        k = proportionality(claimed, reordered, tolerance)
        if k and abs(k) > 1e-6 and relative_error(reordered, numeric) > diagnose_tolerance:
            return error, D("hessian-row-major", factor=None if abs(k - 1) < 1e-6
                            else factor(k, "that Hessian"))
    return error, values


def assert_hessian(grad: Callable[[np.ndarray], np.ndarray],
                   hess: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                   *, err_msg: str = "", **options) -> CheckReport:
    """Like :func:`check_hessian`, but raise ``AssertionError`` (with the diagnosis) unless ok."""
    __tracebackhide__ = True
    return raise_unless_ok(check_hessian(grad, hess, x, **options), "Hessian", x.shape, err_msg)


def _layout_hint(claimed: np.ndarray, numeric: np.ndarray) -> Diagnosis | None:
    """A claim of the wrong shape that holds the Hessian's entries: how to reshape it."""
    if claimed.size != numeric.size or not np.issubdtype(claimed.dtype, np.number) \
            or np.iscomplexobj(claimed) or not np.all(np.isfinite(claimed)):
        return None
    tolerance = HESSIAN_RTOL["central-difference"]
    if relative_error(claimed.reshape(numeric.shape, order="F"), numeric) <= tolerance:
        return D("hessian-reshape", shape=numeric.shape)
    if relative_error(claimed.reshape(numeric.shape, order="C"), numeric) <= tolerance:
        return D("hessian-reshape-c", shape=numeric.shape)
    return None


def _not_a_gradient(numeric: np.ndarray, shape: tuple) -> Diagnosis:
    """grad's derivative is not symmetric: grad is no gradient, so no Hessian can match it."""
    i, j = np.unravel_index(int(np.argmax(np.abs(numeric - numeric.T))), numeric.shape)
    at = [index(np.unravel_index(k, shape, order="F")) for k in (i, j)]
    return D("grad-not-a-gradient", i=at[0], j=at[1], a=float(numeric[i, j]),
             b=float(numeric[j, i]))
