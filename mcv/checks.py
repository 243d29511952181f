"""Check a claimed gradient against the loss it comes from.

The one helper every chapter of *Matrix Calculus, Verified* imports (taught in chapter
"How we verify")::

    from mcv import check_gradient, assert_gradient

    report = check_gradient(f, grad, x)   # facts: ok, max_rel_error, method, diagnosis
    assert_gradient(f, grad, x)          # the same, raising AssertionError when not ok

The claim ``grad(x)`` is compared, entry by entry, with a numeric gradient of ``f`` at ``x``.
The numeric gradient comes from one of two methods (chapter "How we verify" builds both):

complex step
    ``Im f(x + i h e_j) / h`` with ``h = 1e-20``: no subtraction, so no cancellation; the
    relative error is round-off, about 1e-16. Valid only when ``f`` is analytic in ``x``.
central difference with Richardson extrapolation
    ``(4 D(h/2) - D(h)) / 3`` with ``D(h) = (f(x + h e_j) - f(x - h e_j)) / 2h``: truncation
    error O(h^4), about 1e-10 relative. Works for any ``f`` differentiable at ``x``; the same
    evaluations give one-sided quotients, which reveal a kink (no gradient exists there).

``method="auto"`` first probes ``f`` along one random direction (drawn from ``seed``): it
trusts the complex step only if ``f`` accepts complex input, returns a complex value and the
complex-step directional derivative agrees with the central one to ``PROBE_RTOL``. ``np.abs``,
``np.linalg.norm``, ``np.conj``, ``np.maximum`` and ``np.sign`` break analyticity; the probe sees
it and falls back to central differences instead of passing a claim on a lost imaginary part.

Default tolerances (relative to the largest entry of the numeric gradient, so a gradient of
size 1e-8 is held to the same standard as one of size 1e+8):

=====================  ===========  ====================================================
method                 rtol         typical error of a correct claim on the book's losses
=====================  ===========  ====================================================
complex step           1e-12        1e-16 to 1e-15
central difference     1e-7         1e-12 to 1e-9
=====================  ===========  ====================================================

Both are orders of magnitude tighter than ``torch.autograd.gradcheck``'s ``rtol=1e-3``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Literal

import numpy as np

__all__ = ["GradientReport", "check_gradient", "assert_gradient", "check_hessian",
           "assert_hessian", "DEFAULT_RTOL"]

Method = Literal["auto", "complex-step", "central-difference"]

DEFAULT_RTOL = {"complex-step": 1e-12, "central-difference": 1e-7}
#: Agreement the random-direction probe demands before "auto" trusts the complex step.
PROBE_RTOL = 1e-7
#: One-sided slopes that differ by more than this (relative) mean f has a kink at x.
KINK_RTOL = 1e-4
COMPLEX_STEP = 1e-20
#: Central-difference step, relative to the size of the entry being perturbed.
CENTRAL_STEP = 1e-3
_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class GradientReport:
    """What a gradient check found. ``ok`` is the verdict; the rest says why."""

    ok: bool
    max_rel_error: float
    method: str
    diagnosis: str | None
    rtol: float
    claimed: np.ndarray = field(repr=False)
    numeric: np.ndarray | None = field(repr=False)

    def __str__(self) -> str:
        verdict = "verified" if self.ok else "REJECTED"
        text = (f"{verdict}: max relative error {self.max_rel_error:.1e} "
                f"(tolerance {self.rtol:.0e}, {self.method})")
        return text if self.diagnosis is None else f"{text}\n  {self.diagnosis}"


def check_gradient(f: Callable[[np.ndarray], float], grad: Callable[[np.ndarray], np.ndarray],
                   x: np.ndarray, *, rtol: float | None = None, method: Method = "auto",
                   seed: int = 0) -> GradientReport:
    """Compare ``grad(x)`` with a numeric gradient of ``f`` at ``x``.

    Parameters
    ----------
    f : callable
        The loss: ``f(x)`` returns a real scalar (a 0-d or one-entry array is accepted).
    grad : callable
        The claim: ``grad(x)`` returns the gradient, an array of ``x``'s shape.
    x : numpy.ndarray of float64
        The point, a vector or a matrix (any shape). It is not modified.
    rtol : float, optional
        Largest accepted ``max|claim - numeric| / max|numeric|``; default ``DEFAULT_RTOL``.
    method : {"auto", "complex-step", "central-difference"}
    seed : int
        Seeds the random probe direction of ``"auto"``.

    Returns
    -------
    GradientReport
        A claim of the wrong shape, with NaNs, or at a point where ``f`` has no gradient is a
        failed report with a diagnosis, not an exception.

    Raises
    ------
    TypeError, ValueError
        Bad input, named: ``x`` not a finite float64 array, ``f`` not returning a finite real
        scalar, ``grad`` returning something that is not an array of numbers, bad options.
    """
    x = _validated_point(x)
    _validate_options(rtol, method)
    f0 = _real_scalar(f, x)
    claimed = _claim_array(grad, x)

    if method == "auto":
        method = "complex-step" if _complex_step_is_valid(f, x, f0, seed) else "central-difference"
    tolerance = DEFAULT_RTOL[method] if rtol is None else float(rtol)

    if method == "complex-step":
        numeric, kink = _complex_step_gradient(f, x), None
    else:
        numeric, kink = _central_gradient(f, x, f0)

    def failed(error: float, diagnosis: str, numeric_seen=numeric) -> GradientReport:
        return GradientReport(False, error, method, diagnosis, tolerance, claimed, numeric_seen)

    if kink is not None:
        return failed(float("nan"), kink, None)
    if not np.issubdtype(claimed.dtype, np.number) or np.iscomplexobj(claimed):
        return failed(float("inf"), f"the claim has dtype {claimed.dtype}; a gradient of a "
                      "real loss is a real array")
    if claimed.shape != x.shape:
        return failed(float("inf"), _shape_diagnosis(claimed, numeric, x.shape))
    if not np.all(np.isfinite(claimed)):
        first = np.argwhere(~np.isfinite(claimed))[0]
        return failed(float("inf"), f"the claim is not finite: entry {_index(first)} is "
                      f"{claimed[tuple(first)]}")

    error = relative_error(claimed, numeric)
    if error <= tolerance:
        return GradientReport(True, error, method, None, tolerance, claimed, numeric)
    return failed(error, _value_diagnosis(claimed, numeric, tolerance))


def assert_gradient(f: Callable[[np.ndarray], float], grad: Callable[[np.ndarray], np.ndarray],
                    x: np.ndarray, **options) -> GradientReport:
    """Like :func:`check_gradient`, but raise ``AssertionError`` (with the diagnosis) unless ok."""
    report = check_gradient(f, grad, x, **options)
    if not report.ok:
        raise AssertionError(f"gradient check failed at a point of shape {x.shape}: {report}")
    return report


def relative_error(claimed: np.ndarray, numeric: np.ndarray) -> float:
    """``max|claimed - numeric| / max|numeric|``, with a floor so a zero gradient is no 0/0."""
    scale = max(float(np.max(np.abs(numeric))), np.finfo(float).tiny)
    return float(np.max(np.abs(claimed - numeric)) / scale)


# ---------------------------------------------------------------------------- input checks

def _validated_point(x) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy array of float64, not {type(x).__name__}; "
                        "use np.asarray(x, dtype=float)")
    if x.dtype != np.float64:
        raise TypeError(f"x must be a real float64 array, not dtype {x.dtype}: the numeric "
                        "gradient perturbs x, which needs double precision reals "
                        "(use x.astype(float))")
    if x.size == 0:
        raise ValueError("x is empty: there is nothing to differentiate with respect to")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x contains non-finite values (first at entry "
                         f"{_index(np.argwhere(~np.isfinite(x))[0])})")
    return x.copy()  # f and grad may not modify the caller's x


def _validate_options(rtol, method) -> None:
    if method not in ("auto", "complex-step", "central-difference"):
        raise ValueError(f"method must be 'auto', 'complex-step' or 'central-difference', "
                         f"not {method!r}")
    if rtol is not None and not (np.isfinite(rtol) and rtol > 0):
        raise ValueError(f"rtol must be a positive finite number, not {rtol!r}")


def _real_scalar(f, x: np.ndarray) -> float:
    value = np.asarray(f(x.copy()))
    if value.size != 1:
        raise TypeError(f"f(x) must return a real scalar (the loss), but it returned an array "
                        f"of shape {value.shape}")
    if not np.issubdtype(value.dtype, np.number) or np.iscomplexobj(value):
        raise TypeError(f"f(x) must return a real scalar, but it returned dtype {value.dtype}")
    if not np.isfinite(value):
        raise ValueError(f"f(x) is not finite ({value.item()}) at this x")
    return float(value.item())


def _claim_array(grad, x: np.ndarray) -> np.ndarray:
    claim = grad(x.copy())
    if claim is None:
        raise TypeError("grad(x) returned None; it must return the claimed gradient, an "
                        f"array of x's shape {x.shape}")
    claim = np.asarray(claim)
    if claim.dtype == object:
        raise TypeError("grad(x) must return an array of numbers, not of Python objects "
                        "(a sympy expression? convert it with np.array(..., dtype=float))")
    return claim


# ---------------------------------------------------------------------- numeric gradients

def _perturbed(x: np.ndarray, index: int, step) -> np.ndarray:
    y = x.astype(np.result_type(x, step), copy=True)
    y.flat[index] += step
    return y


def _complex_call(function, z: np.ndarray) -> np.ndarray | None:
    """``function(z)`` for complex ``z`` as a complex array, or None when the imaginary part
    cannot survive (the function refuses complex input, casts it away, or returns reals)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            value = np.asarray(function(z))
    except (TypeError, ValueError, np.exceptions.ComplexWarning):
        return None
    return value if np.iscomplexobj(value) else None


def _complex_value(f, z: np.ndarray) -> complex | None:
    """The complex loss value ``f(z)``, or None (see _complex_call)."""
    value = _complex_call(f, z)
    return None if value is None or value.size != 1 else complex(value.item())


def _complex_step_is_valid(f, x: np.ndarray, f0: float, seed: int) -> bool:
    direction = np.random.default_rng(seed).standard_normal(x.shape)
    direction /= np.max(np.abs(direction))
    value = _complex_value(f, x + 1j * COMPLEX_STEP * direction)
    if value is None:
        return False
    by_complex_step = value.imag / COMPLEX_STEP
    h = CENTRAL_STEP * _step_scale(x)
    by_difference = _richardson(lambda t: _real_scalar(f, x + t * direction), h, f0)[0]
    scale = max(abs(by_difference), abs(by_complex_step), np.finfo(float).tiny)
    return abs(by_complex_step - by_difference) <= PROBE_RTOL * scale


def _complex_step_gradient(f, x: np.ndarray) -> np.ndarray:
    numeric = np.empty(x.shape)
    for j in range(x.size):
        value = _complex_value(f, _perturbed(x, j, 1j * COMPLEX_STEP))
        if value is None:
            raise ValueError("method='complex-step' needs an f that carries a complex input "
                             "through to a complex output; this f drops the imaginary part "
                             "(np.abs, np.linalg.norm, float(), ...): use method='auto'")
        numeric.flat[j] = value.imag / COMPLEX_STEP
    return numeric


def _step_scale(x: np.ndarray) -> float:
    """The size of x's entries (1 for x = 0): steps are relative to it."""
    return float(np.max(np.abs(x))) or 1.0


def _richardson(g, h: float, g0: float) -> tuple[float, float, float]:
    """Derivative of the scalar function g at 0: central, and one-sided from the right/left.

    Each is Richardson-extrapolated from steps h and h/2; the same four evaluations serve all
    three. For smooth g the three agree to O(h^2); at a kink the one-sided ones differ.
    """
    plus, minus = g(h), g(-h)
    plus_half, minus_half = g(h / 2), g(-h / 2)
    central = (4 * (plus_half - minus_half) / h - (plus - minus) / (2 * h)) / 3
    right = 2 * (plus_half - g0) / (h / 2) - (plus - g0) / h
    left = 2 * (g0 - minus_half) / (h / 2) - (g0 - minus) / h
    return central, right, left


def _central_gradient(f, x: np.ndarray, f0: float) -> tuple[np.ndarray, str | None]:
    """Numeric gradient by central differences, and a diagnosis if f has a kink at x."""
    numeric, right, left = (np.empty(x.shape) for _ in range(3))
    for j in range(x.size):
        h = CENTRAL_STEP * max(abs(x.flat[j]), _step_scale(x) * 1e-3)
        g = lambda t, j=j: _real_scalar(f, _perturbed(x, j, t))
        numeric.flat[j], right.flat[j], left.flat[j] = _richardson(g, h, f0)
    jump = np.abs(right - left)
    scale = max(float(np.max(np.abs(np.concatenate([right.ravel(), left.ravel()])))), _EPS)
    worst = int(np.argmax(jump))
    if jump.flat[worst] > KINK_RTOL * scale:
        at = _index(np.unravel_index(worst, x.shape))
        return numeric, (f"f is not differentiable at this x: along entry {at} the slope from "
                         f"the right is {right.flat[worst]:.6g} and from the left "
                         f"{left.flat[worst]:.6g}, so no gradient exists to compare with "
                         "(a kink, e.g. of abs or max, at or within a step of this point)")
    return numeric, None


# ---------------------------------------------------------------------------- diagnoses

def _index(position) -> tuple[int, ...] | int:
    position = tuple(int(p) for p in position)
    return position[0] if len(position) == 1 else position


def _simple_fraction(k: float) -> str | None:
    """'2', '1/2', '-1/4' ... when k is (close to) a fraction with a small denominator."""
    fraction = Fraction(k).limit_denominator(8)
    if fraction == 0 or abs(float(fraction) - k) > 1e-6 * abs(k):
        return None
    return str(fraction)


def _proportionality(claimed: np.ndarray, reference: np.ndarray, tolerance: float):
    """k if claimed ≈ k · reference (to the diagnostic tolerance), else None."""
    norm = float(np.sum(reference * reference))
    if norm == 0:
        return None
    k = float(np.sum(claimed * reference) / norm)
    residual = relative_error(claimed, k * reference)
    return k if residual <= max(100 * tolerance, 1e-6) else None


def _factor_words(k: float, what: str) -> str:
    if abs(k + 1) < 1e-6:
        return f"is {what} with the wrong sign"
    name = _simple_fraction(k)
    factor = name if name is not None else f"{k:.6g}"
    hint = {"2": " (a factor 2 too many)", "1/2": " (a factor 2 missing, e.g. from the square)",
            "-2": " (wrong sign and a factor 2 too many)",
            "-1/2": " (wrong sign and a factor 2 missing)"}.get(factor, "")
    return f"is off by a constant factor: claim = {factor} × {what}{hint}"


def _value_diagnosis(claimed: np.ndarray, numeric: np.ndarray, tolerance: float,
                     what: str = "the gradient") -> str:
    if not np.any(claimed):
        return f"the claim is zero everywhere, but {what} is not"
    square = claimed.ndim == 2 and claimed.shape[0] == claimed.shape[1]
    if square and relative_error(numeric, numeric.T) > tolerance:  # else transposing is moot
        k = _proportionality(claimed, numeric.T, tolerance)
        if k is not None:
            base = f"the claim is the transpose of {what}"
            return base if abs(k - 1) < 1e-6 else f"{base}, and {_factor_words(k, 'it')}"
    k = _proportionality(claimed, numeric, tolerance)
    if k is not None and abs(k - 1) < 1e-6:
        return (f"the claim is close to {what} but not within the tolerance: round-off "
                "in how the claim is computed, or a very small term missing")
    if k is not None:
        return f"the claim {_factor_words(k, what)}"
    worst = np.unravel_index(int(np.argmax(np.abs(claimed - numeric))), claimed.shape)
    return (f"the claim is not a multiple, negative or transpose of {what}: a term is "
            f"probably missing, extra or wrong; the largest difference is at entry "
            f"{_index(worst)} (claimed {claimed[worst]:.6g}, numeric {numeric[worst]:.6g})")


def _shape_diagnosis(claimed: np.ndarray, numeric: np.ndarray, shape: tuple) -> str:
    said = f"the claim has shape {claimed.shape}, but x has shape {shape}"
    if claimed.size != numeric.size:
        return f"{said}: the gradient has the parameter's shape, one entry per entry of x"
    tolerance = DEFAULT_RTOL["central-difference"]
    if [n for n in claimed.shape if n != 1] == [n for n in shape if n != 1]:
        # Only axes of length one differ: a row where a column was due, or the reverse.
        values = _value_diagnosis(claimed.reshape(shape), numeric, tolerance)
        if relative_error(claimed.reshape(shape), numeric) <= tolerance:
            values = "its values are right"
        if len(shape) == 2 and claimed.shape == shape[::-1]:
            row = claimed.shape[0] == 1
            lead = "the claim is the transpose of the gradient" + (
                f" (the Jacobian's row shape, numerator layout 1×{claimed.size})" if row else "")
            return f"{said}: {lead}. Apart from the shape, {values}"
        if claimed.ndim == 2 and claimed.shape[0] == 1 and claimed.size > 1:
            return (f"{said}: it has the Jacobian's row shape (numerator layout, "
                    f"1×{claimed.size}); this book's gradient is its transpose, an array of "
                    f"the parameter's shape. Apart from the shape, {values}")
        return f"{said}: reshape it to x's shape. Apart from the shape, {values}"
    if len(shape) == 2 and claimed.shape == shape[::-1]:
        if relative_error(claimed.T, numeric) <= tolerance:
            return f"{said}: the claim is the transpose of the gradient"
        return f"{said}: the transposed shape, but not the transposed gradient either"
    for order, name in (("F", "column by column (vec)"), ("C", "row by row")):
        if relative_error(claimed.reshape(shape, order=order), numeric) <= tolerance:
            return (f"{said}: its entries are the gradient's, laid out {name}; reshape it "
                    f"with order='{order}'")
    return f"{said}, and its entries are not the gradient's in any layout"


# --------------------------------------------------------------------------- second order

def check_hessian(grad: Callable[[np.ndarray], np.ndarray],
                  hess: Callable[[np.ndarray], np.ndarray], x: np.ndarray, *,
                  rtol: float | None = None, method: Method = "auto",
                  seed: int = 0) -> GradientReport:
    """Compare ``hess(x)`` with a numeric Hessian: the derivative of a verified ``grad``.

    The claim is the ``x.size × x.size`` matrix of second derivatives in **vec order**: the
    entries of ``x`` are numbered column by column (``order='F'``), so that for a matrix X the
    Hessian of ``L(X)`` is the matrix of ``vec(X) ↦ vec(∇L)``, as in
    ``vec(AXB) = (Bᵀ ⊗ A) vec(X)``. Column j of the numeric Hessian is the derivative of
    ``vec(grad(x))`` along entry j of ``vec(x)``: complex step when ``grad`` is analytic
    (probed as in :func:`check_gradient`), Richardson central differences otherwise.

    Returns the same report as :func:`check_gradient` (``report.numeric`` is the numeric
    Hessian). Beyond a constant factor, a sign and a missing term, it names a claim that is
    not symmetric (and whether its symmetric part is right), a claim in row-major vec order
    (rows of x stacked: ``A ⊗ B`` written where ``B ⊗ A`` was due), a claim of the wrong shape
    that holds the right entries (a 4-index array: reshape it), and a ``grad`` that is no
    gradient (its derivative is not symmetric), against which no claim can be verified.
    """
    x = _validated_point(x)
    _validate_options(rtol, method)
    g0 = np.asarray(grad(x.copy()))
    if g0.shape != x.shape or not np.issubdtype(g0.dtype, np.floating):
        raise TypeError(f"grad(x) must return a real array of x's shape {x.shape}, not shape "
                        f"{g0.shape} and dtype {g0.dtype}; verify it with check_gradient first")
    claimed = _claim_array(hess, x)
    if method == "auto":
        analytic = _gradient_is_analytic(grad, x, g0, seed)
        method = "complex-step" if analytic else "central-difference"
    tolerance = DEFAULT_RTOL[method] if rtol is None else float(rtol)
    numeric = _numeric_hessian(grad, x, g0, method)

    def failed(error: float, diagnosis: str) -> GradientReport:
        return GradientReport(False, error, method, diagnosis, tolerance, claimed, numeric)

    n = x.size
    if claimed.shape != (n, n):
        return failed(float("inf"), f"the claimed Hessian has shape {claimed.shape}, but x has "
                      f"{n} entries: the Hessian is {n}×{n}, a row and a column per entry"
                      + _hessian_layout_hint(claimed, numeric))
    if not np.issubdtype(claimed.dtype, np.number) or np.iscomplexobj(claimed) \
            or not np.all(np.isfinite(claimed)):
        return failed(float("inf"), "the claimed Hessian is not a finite real matrix")
    error = relative_error(claimed, numeric)
    diagnose_tolerance = max(100 * tolerance, 1e-6)
    if relative_error(numeric, numeric.T) > diagnose_tolerance:
        return failed(error, _not_a_gradient(numeric, x.shape))
    if error <= tolerance:
        return GradientReport(True, error, method, None, tolerance, claimed, numeric)
    values = _value_diagnosis(claimed, numeric, tolerance, "the Hessian")
    if relative_error(claimed, claimed.T) > diagnose_tolerance:
        if relative_error((claimed + claimed.T) / 2, numeric) <= diagnose_tolerance:
            values = ("its symmetric part (claim + claimᵀ)/2 is the Hessian: a matrix B read "
                      "off d²L = vec(dX)ᵀ B vec(dX) must be symmetrised")
        return failed(error, "the claimed Hessian is not symmetric, but a Hessian is (second "
                      f"derivatives commute); {values}")
    if x.ndim == 2:
        rows_stacked = np.arange(n).reshape(x.shape, order="F").ravel(order="C")
        reordered = numeric[np.ix_(rows_stacked, rows_stacked)]
        k = _proportionality(claimed, reordered, tolerance)
        if k and abs(k) > 1e-6 and relative_error(reordered, numeric) > diagnose_tolerance:
            words = "" if abs(k - 1) < 1e-6 else \
                f". Besides, the claim {_factor_words(k, 'that Hessian')}"
            return failed(error, "the claim is the Hessian in row-major vec order (rows of x "
                          "stacked: A ⊗ B where B ⊗ A was due); this book's vec stacks columns"
                          + words)
    return failed(error, values)


def assert_hessian(grad: Callable[[np.ndarray], np.ndarray],
                   hess: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                   **options) -> GradientReport:
    """Like :func:`check_hessian`, but raise ``AssertionError`` (with the diagnosis) unless ok."""
    report = check_hessian(grad, hess, x, **options)
    if not report.ok:
        raise AssertionError(f"Hessian check failed at a point of shape {x.shape}: {report}")
    return report


def _complex_gradient(grad, z: np.ndarray) -> np.ndarray | None:
    """The complex gradient ``grad(z)``, or None (see _complex_call)."""
    value = _complex_call(grad, z)
    return value if value is not None and value.shape == z.shape else None


def _gradient_is_analytic(grad, x: np.ndarray, g0: np.ndarray, seed: int) -> bool:
    direction = np.random.default_rng(seed).standard_normal(x.shape)
    direction /= np.max(np.abs(direction))
    value = _complex_gradient(grad, x + 1j * COMPLEX_STEP * direction)
    if value is None:
        return False
    h = CENTRAL_STEP * _step_scale(x)
    by_difference = _richardson(lambda t: np.asarray(grad(x + t * direction)), h, g0)[0]
    return relative_error(value.imag / COMPLEX_STEP, by_difference) <= PROBE_RTOL


def _numeric_hessian(grad, x: np.ndarray, g0: np.ndarray, method: str) -> np.ndarray:
    """Column j: the derivative of vec(grad) along entry j of vec(x) (vec stacks columns)."""
    hessian = np.empty((x.size, x.size))
    for j in range(x.size):
        index = int(np.ravel_multi_index(np.unravel_index(j, x.shape, order="F"), x.shape))
        if method == "complex-step":
            value = _complex_gradient(grad, _perturbed(x, index, 1j * COMPLEX_STEP))
            if value is None:
                raise ValueError("method='complex-step' needs a grad that carries a complex "
                                 "input through to a complex output; use method='auto'")
            column = value.imag / COMPLEX_STEP
        else:
            h = CENTRAL_STEP * max(abs(x.flat[index]), _step_scale(x) * 1e-3)
            column = _richardson(lambda t: np.asarray(grad(_perturbed(x, index, t))), h, g0)[0]
        hessian[:, j] = column.ravel(order="F")
    return hessian


def _hessian_layout_hint(claimed: np.ndarray, numeric: np.ndarray) -> str:
    """'; reshape it ...' when a claim of the wrong shape holds the Hessian's entries."""
    if claimed.size != numeric.size or not np.issubdtype(claimed.dtype, np.number) \
            or np.iscomplexobj(claimed) or not np.all(np.isfinite(claimed)):
        return ""
    tolerance = DEFAULT_RTOL["central-difference"]
    if relative_error(claimed.reshape(numeric.shape, order="F"), numeric) <= tolerance:
        return ("; its entries are the Hessian's (e.g. a 4-index array ∂²L/∂x[i,j]∂x[k,l]): "
                f"reshape it to {numeric.shape} with order='F', the book's vec order")
    if relative_error(claimed.reshape(numeric.shape, order="C"), numeric) <= tolerance:
        return f"; its entries are the Hessian's: reshape it to {numeric.shape} with order='C'"
    return ""


def _not_a_gradient(numeric: np.ndarray, shape: tuple) -> str:
    """grad's derivative is not symmetric: grad is no gradient, so no Hessian can match it."""
    i, j = np.unravel_index(int(np.argmax(np.abs(numeric - numeric.T))), numeric.shape)
    at = [_index(np.unravel_index(k, shape, order="F")) for k in (i, j)]
    return ("grad is not the gradient of any function: its derivative is not symmetric "
            f"(∂grad[{at[0]}]/∂x[{at[1]}] = {numeric[i, j]:.6g}, but "
            f"∂grad[{at[1]}]/∂x[{at[0]}] = {numeric[j, i]:.6g}); check grad with "
            "check_gradient first")
