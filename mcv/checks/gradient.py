"""The gradient check: ``check_gradient`` and ``assert_gradient``, a thin layer over the
numeric core (:mod:`mcv.checks.core`) that turns slopes into a verdict per entry and, when the
claim is wrong, asks :mod:`mcv.checks.mistakes` to name the mistake."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np

from mcv.checks.core import (DEFAULT_RTOL, EPS, FAST_PROBES, FAST_SIZE, FLOOR_FACTOR, SAFETY,
                             TINY, Function, FunctionBug, choose_method,
                             complex_slope, curvature_scale, directional, entry_slopes, quiet,
                             sensitivity, step_scale, unit)
from mcv.checks.diagnoses import Diagnosis
from mcv.checks.inputs import claim_array, real_scalar, validate_options, validated_point
from mcv.checks.mistakes import (FastReference, FullReference, index, shape_diagnosis,
                                 value_diagnosis)
from mcv.checks.report import CheckReport, Verdict, raise_unless_ok

__all__ = ["check_gradient", "assert_gradient", "Method", "Mode"]

Method = Literal["auto", "complex-step", "central-difference"]
Mode = Literal["auto", "full", "fast"]
D = Diagnosis.of


@dataclass
class _Check:
    """The state one gradient check shares between its stages."""

    loss: Function
    x: np.ndarray
    f0: float
    seed: int
    rtol: float | None          # as the caller gave it (None: the method's default)
    method: str = "auto"
    mode: str = "full"
    scale: float = 1.0
    floor: float = 0.0
    margin: float = 0.0         # how closely the analyticity probe confirmed the complex step
    claimed: np.ndarray | None = None

    @property
    def tolerance(self) -> float:
        return DEFAULT_RTOL.get(self.method, DEFAULT_RTOL["central-difference"]) \
            if self.rtol is None else float(self.rtol)

    def measure(self, curvature: float | None, rng: np.random.Generator) -> None:
        """f's noise (central differences) and the absolute floor, for the method chosen."""
        if self.method == "central-difference":
            self.loss.noise = EPS * sensitivity(self.loss, self.x, self.f0, self.scale, rng)
        if self.method == "central-difference" or curvature is None:
            curvature = curvature_scale(self.loss, self.method, self.x, self.f0, self.scale,
                                        rng)
        self.floor = FLOOR_FACTOR * EPS * curvature

    def report(self, verdict: Verdict, error: float, diagnoses=(), numeric=None,
               notes=(), **extra) -> CheckReport:
        return CheckReport(verdict, error, self.method, self.tolerance, self.claimed, numeric,
                           diagnoses=tuple(diagnoses), notes=tuple(notes), floor=self.floor,
                           mode=self.mode, evaluations=self.loss.calls,
                           probes=FAST_PROBES if self.mode == "fast" else 0,
                           stages=tuple(self.loss.by_stage.items()), **extra)

    def rejected(self, error: float, diagnosis: Diagnosis, numeric=None, **extra):
        return self.report(Verdict.REJECTED, error, (diagnosis,), numeric, **extra)


def check_gradient(f: Callable[[np.ndarray], float], grad: Callable[[np.ndarray], np.ndarray],
                   x: np.ndarray, *, rtol: float | None = None, method: Method = "auto",
                   seed: int = 0, mode: Mode = "auto") -> CheckReport:
    """Compare ``grad(x)`` with a numeric gradient of ``f`` at ``x``, entry by entry.

    Parameters
    ----------
    f : callable
        The loss: ``f(x)`` returns a real scalar (a 0-d or one-entry array is accepted).
    grad : callable
        The claim: ``grad(x)`` returns the gradient, an array of ``x``'s shape.
    x : numpy.ndarray of float64
        The point: a scalar (shape ``()``), vector, matrix or any array. It is not modified.
    rtol : float, optional
        Entry j is accepted when ``|claim_j - numeric_j| <= SAFETY * err_j + rtol * scale +
        floor``: ``err_j`` the numeric entry's estimated error, ``scale`` the largest entry of
        the numeric gradient, ``floor`` the round-off of a gradient that vanishes (see
        :mod:`mcv.checks`). Default ``DEFAULT_RTOL[method]``.
    method : {"auto", "complex-step", "central-difference"}
    seed : int
        Seeds the random directions (probes of "auto", fast mode).
    mode : {"auto", "full", "fast"}
        "full" differentiates along every entry; "fast" along ``FAST_PROBES`` random
        directions (``⟨claim, v⟩`` against the numeric directional derivative), "auto" is
        "fast" above ``FAST_SIZE`` entries.

    Returns
    -------
    CheckReport
        A claim of the wrong shape, with NaNs, raised by ``grad``, or at a point where ``f``
        has no gradient is a failed report with a diagnosis, not an exception; so is an ``f``
        that raises at a perturbed point anything but a ValueError or ArithmeticError (a bug
        in f, not the edge of its domain: "cannot decide", code ``f-raised``).

    Raises
    ------
    TypeError, ValueError
        Bad input, named: ``x`` not a finite float64 array, ``f(x)`` not a finite real
        scalar, ``grad`` returning something that is not an array of numbers, bad options.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, -2.0, 3.0])
    >>> report = check_gradient(lambda x: np.sum(x ** 2), lambda x: x, x)
    >>> report.ok, report.codes
    (False, ('factor',))
    >>> print(report.diagnosis)
    the claim is off by a constant factor: claim = 1/2 × the gradient (a factor 2 missing, ...
    """
    x = validated_point(x)
    validate_options(rtol, method, mode)
    f0 = real_scalar(f, x)
    state = _Check(Function(f), x, f0, seed, rtol, method)
    with quiet():
        try:
            return _check(state, grad, mode)
        except FunctionBug as bug:
            return state.report(Verdict.CANNOT_DECIDE, float("nan"), (
                D("f-raised", error=str(bug), where=bug.where),))


def _check(state: _Check, grad, mode: str) -> CheckReport:
    loss, x = state.loss, state.x
    state.scale = step_scale(x)
    rng = np.random.default_rng(state.seed)
    state.mode = mode if mode != "auto" else ("fast" if x.size > FAST_SIZE else "full")
    loss.stage = "method"
    state.method, curvature, state.margin = choose_method(loss, x, state.f0, state.scale, rng,
                                                          state.method)
    if state.method == "complex-step" and curvature is None \
            and complex_slope(loss, x, unit(rng, x.shape)) is None:
        raise ValueError("method='complex-step' needs an f that carries a complex input "
                         "through to a complex output; this f drops the imaginary part "
                         "(np.abs, np.linalg.norm, float(), ...): use method='auto'")
    loss.stage = "floor"
    state.measure(curvature, rng)
    try:
        raw_claim = grad(x.copy())
    except Exception as error:  # noqa: BLE001 - a claim that cannot be computed is rejected
        return state.rejected(float("inf"), _raised(error))
    state.claimed = claimed = claim_array(raw_claim, x)
    if not np.issubdtype(claimed.dtype, np.number) or np.iscomplexobj(claimed):
        return state.rejected(float("inf"), D("claim-dtype", dtype=claimed.dtype))
    if claimed.size == x.size and not np.all(np.isfinite(claimed)):
        first = np.argwhere(~np.isfinite(claimed.reshape(-1)))[0]
        return state.rejected(float("inf"), D(
            "claim-not-finite", at=index(np.unravel_index(first[0], claimed.shape)),
            value=claimed.reshape(-1)[first[0]]))
    if state.mode == "fast":
        return _fast_check(state, grad, rng)
    return _full_check(state, grad)


def assert_gradient(f: Callable[[np.ndarray], float], grad: Callable[[np.ndarray], np.ndarray],
                    x: np.ndarray, *, err_msg: str = "", **options) -> CheckReport:
    """Like :func:`check_gradient`, but raise ``AssertionError`` (with the diagnosis) unless
    ok; ``err_msg`` says which gradient, for the reader of a failing test."""
    __tracebackhide__ = True
    return raise_unless_ok(check_gradient(f, grad, x, **options), "gradient", x.shape, err_msg)


def _raised(error: Exception) -> Diagnosis:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    shapes = isinstance(error, ValueError) and any(
        word in str(error) for word in ("matmul", "shapes", "broadcast", "aligned"))
    return D("claim-raised", error=text, shapes=D("nonconforming") if shapes else None)


# --------------------------------------------------------------------- full mode

def _full_check(state: _Check, grad) -> CheckReport:
    loss, x, claimed = state.loss, state.x, state.claimed
    loss.stage = "entries"
    entries = entry_slopes(loss, state.method, x, state.f0, state.scale)
    if entries is None:
        # One entry refused complex input though the probes accepted it: central
        # differences from here on, in this same check (rtol and the count of calls kept).
        state.method, state.margin = "central-difference", 0.0
        state.measure(None, np.random.default_rng(state.seed))
        entries = entry_slopes(loss, state.method, x, state.f0, state.scale)
    numeric, error, slopes = entries
    notes = []
    if slopes is not None:
        kink = next((j for j, s in enumerate(slopes) if s.kind == "kink"), None)
        if kink is not None:
            return state.rejected(float("nan"), _kink(slopes[kink], kink, x.shape))
        blocked = next((j for j, s in enumerate(slopes) if s.kind == "blocked"), None)
        if blocked is not None:
            slope = slopes[blocked]
            return state.report(Verdict.CANNOT_DECIDE, float("nan"), (D(
                "domain-boundary", at=index(np.unravel_index(blocked, x.shape)),
                first=slope.blocked_at, last=slope.step),))
        notes = _slope_notes(slopes, x.shape)
        # f's own round-off is at least its change under a rounding of x (backward error):
        # eps ‖∇f ∘ x‖, larger than eps |f| where f is ill-conditioned (a solve, a det).
        steps = np.array([s.step for s in slopes]).reshape(x.shape)
        sensitivity_ = float(np.linalg.norm(np.nan_to_num(numeric) * x))
        error = error + 14 * max(EPS * sensitivity_ - loss.noise, 0.0) / steps
    ref = FullReference(numeric, error)
    loss.stage = "diagnosis"
    if claimed.shape != x.shape:
        return state.rejected(float("inf"), shape_diagnosis(claimed, ref, x.shape), numeric,
                              numeric_error=error)

    size = float(np.max(np.abs(numeric)))
    floor = state.floor
    if state.method == "complex-step" and state.margin > 0:
        # what the analyticity probe could not rule out, spread over the entries
        error = error + 3.5 * state.margin / SAFETY
        if 3.5 * state.margin > 1e-9 * size + 10 * floor:  # only where it matters
            notes.append(D("complex-step-margin", margin=3.5 * state.margin))
    allowed = SAFETY * error + state.tolerance * size + floor
    difference = np.abs(claimed - numeric)
    outside = difference / np.maximum(allowed, TINY)
    worst = index(np.unravel_index(int(np.argmax(outside)), x.shape))
    max_rel = float(np.max(difference)) / max(size, floor, TINY)
    extra = dict(numeric_error=error, worst_index=worst,
                 max_abs_error=float(np.max(difference)))
    if np.all(difference <= allowed):
        undecided = _undecided(slopes, max(size, floor, TINY), x.shape)
        if undecided is not None:
            return state.report(Verdict.CANNOT_DECIDE, max_rel, (undecided,), numeric,
                                **extra)
        if np.all(np.abs(numeric) <= allowed):
            notes.insert(0, D("zero-gradient", size=size,
                              claim=float(np.max(np.abs(claimed))), floor=floor))
        return state.report(Verdict.VERIFIED, max_rel, (), numeric, notes, **extra)
    diagnoses = value_diagnosis(claimed, ref, allowed, grad, x)
    return state.report(Verdict.REJECTED, max_rel, diagnoses, numeric, notes, **extra)


def _distinct(a: float, b: float) -> tuple[str, str]:
    """a and b printed with the fewest significant digits (at least 6) that tell them apart."""
    for digits in range(6, 17):
        if f"{a:.{digits}g}" != f"{b:.{digits}g}":
            break
    return f"{a:.{digits}g}", f"{b:.{digits}g}"


def _kink(slope, j: int, shape) -> Diagnosis:
    right, left = _distinct(slope.right, slope.left)
    return D("kink", at=index(np.unravel_index(j, shape)), right=right, left=left,
             step=slope.step)


def _slope_notes(slopes, shape) -> list[Diagnosis]:
    notes = []
    shrunk = [j for j, s in enumerate(slopes) if s.shrunk and s.kind != "blocked"]
    if shrunk:
        j = shrunk[0]
        step = slopes[j].blocked_at
        notes.append(D("step-shrunk", sign="+-"[step < 0], blocked=abs(step),
                       at=index(np.unravel_index(j, shape)),
                       more=f" (and {len(shrunk) - 1} more entries)" if len(shrunk) > 1
                       else "", step=slopes[j].step))
    moved = [j for j, s in enumerate(slopes) if s.kind == "moved"]
    if moved:
        notes.append(D("kink-nearby", at=index(np.unravel_index(moved[0], shape)),
                       above=4 * slopes[moved[0]].step, step=slopes[moved[0]].step))
    curved = [j for j, s in enumerate(slopes) if s.kind == "curved"]
    if curved:
        notes.append(D("curved", at=index(np.unravel_index(curved[0], shape))))
    return notes


def _undecided(slopes, size, shape) -> Diagnosis | None:
    """Entries whose derivative the differences could not pin down (a claim within them
    is neither verified nor rejected)."""
    if slopes is None:
        return None
    for j, slope in enumerate(slopes):
        at = index(np.unravel_index(j, shape))
        if slope.kind == "undecided":
            right, left = _distinct(slope.right, slope.left)
            return D("undecided", at=at, right=right, left=left, error=slope.error)
        if slope.kind == "curved" and slope.error > 1e-6 * size:
            return D("undecided-curved", at=at, error=slope.error)
    return None


# --------------------------------------------------------------------- fast mode

def _fast_check(state: _Check, grad, rng) -> CheckReport:
    loss, method, x, f0, scale, claimed = (state.loss, state.method, state.x, state.f0,
                                           state.scale, state.claimed)
    probes = [unit(rng, x.shape) for _ in range(FAST_PROBES)]
    loss.stage = "directions"
    slopes = [directional(loss, method, x, v, f0, scale) for v in probes]
    for slope in slopes:
        if slope.kind == "kink":
            right, left = _distinct(slope.right, slope.left)
            return state.rejected(float("nan"), D("kink-direction", right=right, left=left))
        if slope.kind == "blocked":
            return state.report(Verdict.CANNOT_DECIDE, float("nan"),
                                (D("domain-boundary-direction"),))
    ref = FastReference(loss, method, x, f0, scale, probes, slopes)
    loss.stage = "diagnosis"
    if claimed.shape != x.shape:
        return state.rejected(float("inf"), shape_diagnosis(claimed, ref, x.shape))
    floor = state.floor
    numeric = np.array([s.value for s in slopes])
    errors = np.array([s.error for s in slopes])
    if method == "complex-step":
        errors = errors + 3 * state.margin / SAFETY

    projected = np.array([float(np.sum(claimed * v)) for v in probes])
    lengths = np.array([float(np.linalg.norm(v)) for v in probes])
    size = ref.norm_estimate(max(float(np.linalg.norm(claimed)), 0.0))
    allowed = SAFETY * errors + state.tolerance * lengths * size + 3 * floor * lengths
    difference = np.abs(projected - numeric)
    max_rel = float(np.max(difference / (lengths * max(size, floor, TINY))))
    extra = dict(max_abs_error=float(np.max(difference / lengths)))
    if np.all(difference <= allowed):
        notes = ()
        if np.all(np.abs(numeric) <= allowed):
            notes = (D("zero-gradient-fast", peak=float(np.max(np.abs(numeric) / lengths)),
                       floor=floor),)
        return state.report(Verdict.VERIFIED, max_rel, (), notes=notes, **extra)
    return state.report(Verdict.REJECTED, max_rel, value_diagnosis(claimed, ref, None, grad, x),
                        **extra)
