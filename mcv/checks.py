"""Check a claimed gradient against the loss it comes from.

The one helper every chapter of *Matrix Calculus, Verified* imports (taught in chapter
"How we verify")::

    from mcv import check_gradient, assert_gradient

    report = check_gradient(f, grad, x)   # facts: ok, verdict, max_rel_error, method, ...
    assert_gradient(f, grad, x)          # the same, raising AssertionError when not ok

The verdict, entry by entry
---------------------------
The claim ``grad(x)`` is compared with a numeric gradient of ``f`` at ``x`` whose every entry
comes with an error estimate ``err_j``. Entry j is accepted when ::

    |claim_j - numeric_j| <= SAFETY * err_j + rtol * max|numeric| + floor

``rtol * max|numeric|`` makes the standard relative to the gradient's size (a gradient of size
1e-8 is held to the same standard as one of size 1e+8); ``floor`` is the round-off of a
gradient computed where it vanishes: ``FLOOR_FACTOR * eps * xi |u' H w|`` for random
directions u, w (xi the size of x's entries, H the Hessian, measured by differentiating along u
at x and at a point 1e-9 xi away). At an exact optimum (least squares at its solution, a
Gaussian covariance at its maximum-likelihood value) the right claim is verified "against an
absolute floor" and the report says so; a claim that is not zero there is rejected. The report
names the worst entry (``worst_index``); ``max_rel_error`` is ``max|claim - numeric|`` over
``max(max|numeric|, floor)``.

The numeric core
----------------
complex step
    ``Im f(x + i h e_j) / h``, ``h = 1e-20``: no subtraction, so no cancellation; the error is
    round-off, ``err_j = 4 eps |numeric_j|``. Valid only where ``f`` is analytic at ``x``.
central difference, Richardson-extrapolated twice
    ``D(h) = (f(x + h e_j) - f(x - h e_j)) / 2h`` at h, h/2, h/4 (h a power of two near
    1e-3 max(|x_j|, 0.1 xi), so x_j ± h is exact), combined to an O(h^6) estimate.
    ``err_j = |R2 - R1| + 14 (eps |f| + eps ‖∇f ∘ x‖) / h``: the disagreement of the two
    once-extrapolated values (truncation, and noise in f) plus round-off. The last term is
    f's round-off under a rounding of x (backward error), far above eps |f| for a solve or a
    det of an ill-conditioned matrix. The step is divided by 8 while ``f(x ± h)`` is not
    finite or raises (a domain boundary: the report's note says so and names the perturbed
    point; a point with no finite step at all is "cannot decide"); then a second estimate
    from steps 8 times smaller must agree with the first within both error estimates (else
    the steps reached past a singularity or onto another branch of f, as slogdet's log|det|
    does past the edge of the positive-definite cone), and steps keep shrinking while the
    two disagree or truncation dominates.
kinks
    ``J(t) = (f(x + t) + f(x - t) - 2 f(x)) / t`` is ``t f''`` for a smooth f and constant at a
    kink. When its curvature-free part does not vanish, it is followed down a ladder of steps
    (t / 4^m, 12 rungs): constant means a kink ("f is not differentiable at this x", with the
    one-sided slopes); a geometric decay means a derivative with unbounded curvature (|t|^p,
    1 < p < 2: extrapolated by Aitken's method, verified or "cannot decide", never "not
    differentiable"); a drop to nothing means a kink a little away from x (the step is taken
    below it); a sign that flips from rung to rung is noise in f, not a jump.

Which method: ``method="auto"``
-------------------------------
The complex step is preferred whenever f is analytic at x, decided by complex evaluations of
f along random directions u, v (from ``seed``), not by the accuracy of a real difference:
f must return a complex value; ``D(u) = Im f(x + i h u) / h`` must not depend on h (1e-30,
1e-20, 1e-12), must be linear (``D(u + v) = D(u) + D(v)``) and odd (``D(-u) = -D(u)``, at
h = 1e-20 and 1e-12: a kink of max or of a ReLU at a zero breaks it), and must equal the
derivative from Cauchy's integral formula on a small circle in the complex plane (8 points,
its error bounded by the 4-point rule's disagreement), which assumes only that f is
holomorphic: it differs from the complex step wherever f is not (a lost or corrupted part).
Only if no circle works is a central difference consulted, within its own error estimate.

Facts about numpy behind this (numpy 2): ``np.abs``, ``np.linalg.norm``, ``np.real`` and
``slogdet(...)[1]`` lose the imaginary part (a real result, or a real term inside a complex
expression); ``np.conj`` makes it cancel; ``np.sign`` of a complex z is ``z/|z|``, which
corrupts it rather than dropping it (linear in the direction, twice the slope). All of these
are caught. ``np.maximum`` and ``np.max`` keep the winner's imaginary part: the complex step
is right through them away from a tie, and a tie is caught by the odd-symmetry test.

Fast mode
---------
Above ``FAST_SIZE`` entries (or with ``mode="fast"``) the check differentiates along
``FAST_PROBES`` = 8 random directions v (entries uniform in [-1, 1], seeded) instead of every
entry, and compares ``<claim, v>`` with the numeric directional derivative, like the fast mode of
``torch.autograd.gradcheck`` and JAX's ``check_grads``. The tolerance is
``SAFETY err_v + rtol ‖v‖ ‖∇f‖ + 3 floor ‖v‖``. A claim whose error e = claim - ∇f is
nonzero passes a probe only if |<e, v>| falls below that tolerance t; the density of <e, v> is
at most 1/(2 ‖e‖∞) (a sum of independent uniforms), so this happens with probability at most
t / ‖e‖∞ per probe and (t / ‖e‖∞)^8 for all eight: below 1e-24 for an error a thousand times
the tolerance. Fast mode cannot see a single small entry below rtol ‖∇f‖ (use mode="full").
Sign, factor, transpose and the symmetric conventions are named from the same projections
(``<Gᵀ, v> = <G, vᵀ>``). Cost: 8 evaluations of f (complex step) plus
25 to 35 for the analyticity probe; a 1000×1000 W in ‖WU - V‖²_F takes 1 to 2 s on 2 busy
cores (benchmarks/README.md).

Diagnoses
---------
Wrong sign, a constant factor (named as a fraction), the transpose, the Jacobian's row shape,
a vec layout, zero; a claim close to the gradient but wrong in one entry (that entry named,
with its own relative error); the symmetric-matrix convention (claim = G + Gᵀ - diag G, or
2G - diag G at a symmetric point, as in the Matrix Cookbook's 2X⁻¹ - X⁻¹∘I); the symmetric
part (G + Gᵀ)/2 only (a formula for symmetric matrices, not "the transpose"); a claim whose
Jacobian is not symmetric (no function has it as gradient: 2Ax claimed for xᵀAx with A not
symmetric); and a ``grad`` that raises (a failed report naming the exception).

Default tolerances and what a right claim scores
-------------------------------------------------
=====================  =======  =================================  ==========================
method                 rtol     err_j (estimated numeric error)    max_rel_error of a right
                                                                   claim on the book's losses
=====================  =======  =================================  ==========================
complex step           1e-12    4 eps |numeric_j|                  1e-16 to 1e-13
central difference     1e-10    |R2 - R1| + 14 eps(|f|+‖∇f∘x‖)/h   1e-13 to 1e-9; up to 1e-6
                                                                   at condition 1e6 near the
                                                                   edge of f's domain
=====================  =======  =================================  ==========================

Near a singularity the complex step is confirmed only to the precision of Cauchy's formula
there; that margin is added to err_j and the report's note says so.

Both are far tighter than ``torch.autograd.gradcheck``'s ``rtol=1e-3``. Measured by
``python benchmarks/checker.py`` (40 random instances of each of 11 situations: an optimum,
boundaries up to condition 1e6, a GP likelihood, a small entry, 1e-8..1e8 entries, a kink,
|x|^1.5 at 0, np.sign), no right claim was rejected (0 of 440) and no wrong one accepted
(0 of 640). On the same cases a plain central-difference checker with a 1e-4 relative threshold
rejected 30% of the right claims (at optima and near boundaries) and accepted 25% of the wrong
ones; scipy.optimize.check_grad's forward differences, thresholded the same way, 30% and 12.5%.
The property tests (tests/test_checks_situations.py, 30 hypothesis examples per situation)
count the same: no false verdict.
"""

from __future__ import annotations

import cmath
import math
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Literal

import numpy as np

__all__ = ["GradientReport", "check_gradient", "assert_gradient", "check_hessian",
           "assert_hessian", "DEFAULT_RTOL", "FAST_SIZE"]

Method = Literal["auto", "complex-step", "central-difference"]
Mode = Literal["auto", "full", "fast"]

#: rtol: an entry may differ from the numeric one by its error estimate plus rtol times the
#: gradient's scale (its largest entry); the error estimate carries the method's inaccuracy.
DEFAULT_RTOL = {"complex-step": 1e-12, "central-difference": 1e-10}
#: Above this many entries, mode="auto" checks random directional derivatives (fast mode).
FAST_SIZE = 4096
#: Random directions in fast mode.
FAST_PROBES = 8
COMPLEX_STEP = 1e-20
#: The other complex steps of the analyticity probe: Im f / h must not depend on h.
PROBE_STEPS = (1e-30, 1e-12)
#: Relative agreement demanded of complex-step probes among themselves.
PROBE_RTOL = 1e-9
#: Central-difference step, relative to the size of the entry being perturbed.
CENTRAL_STEP = 1e-3
#: The numeric error estimate is an estimate: the verdict allows this multiple of it.
SAFETY = 4.0
#: The absolute floor: FLOOR_FACTOR * eps * (curvature scale), the round-off of a gradient
#: computed at a point where it vanishes.
FLOOR_FACTOR = 1e3
_EPS = float(np.finfo(float).eps)
_TINY = float(np.finfo(float).tiny)
_DOMAIN_SHRINKS = 16      # step divided by 8 at most this often when f(x ± h) is not finite
_REFINEMENTS = 4          # step divided by 8 at most this often while truncation dominates
_LADDER = 10              # steps divided by 4 this often to tell a kink from steep curvature


@dataclass(frozen=True)
class GradientReport:
    """What a gradient check found. ``ok`` is the verdict; the rest says why.

    ``verdict`` is "verified", "REJECTED" or "cannot decide" (then ``ok`` is False too).
    ``numeric_error`` holds the estimated error of each numeric entry (full mode), ``floor``
    the absolute floor (round-off of a gradient computed where it vanishes), ``worst_index``
    the entry furthest outside its tolerance, ``note`` what the checker had to do (a step
    shrunk at a domain boundary, a gradient that is zero to round-off), ``mode`` "full" or
    "fast" and ``evaluations`` the number of calls of f.
    """

    ok: bool
    max_rel_error: float
    method: str
    diagnosis: str | None
    rtol: float
    claimed: np.ndarray | None = field(repr=False)
    numeric: np.ndarray | None = field(repr=False)
    numeric_error: np.ndarray | None = field(default=None, repr=False)
    worst_index: tuple[int, ...] | int | None = None
    floor: float = 0.0
    note: str | None = None
    mode: str = "full"
    verdict: str = ""
    evaluations: int = 0
    max_abs_error: float = float("nan")

    def __str__(self) -> str:
        verdict = self.verdict or ("verified" if self.ok else "REJECTED")
        how = self.method if self.mode == "full" else \
            f"{self.method}, fast mode: {FAST_PROBES} random directions"
        if self.ok and self.note and self.note.startswith("the gradient is zero here"):
            text = (f"verified against an absolute floor: max |claim - numeric| "
                    f"{self.max_abs_error:.1e} (floor {self.floor:.1e}, {how})")
        else:
            text = (f"{verdict}: max relative error {self.max_rel_error:.1e} "
                    f"(tolerance {self.rtol:.0e}, {how})")
        if self.diagnosis is not None:
            text = f"{text}\n  {self.diagnosis}"
        if self.note is not None:
            text = f"{text}\n  note: {self.note}"
        return text


# ------------------------------------------------------------------ calling f safely

class _Loss:
    """f, called at perturbed points: a raise, a non-finite or a non-scalar value is None."""

    def __init__(self, f):
        self.f = f
        self.calls = 0
        #: Round-off of f's values beyond eps |f|: eps ‖∇f ∘ x‖, the change of f under a
        #: rounding of x (backward error), large where f is ill-conditioned (a solve, a det).
        self.noise = 0.0

    def real(self, y: np.ndarray) -> float | None:
        self.calls += 1
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = np.asarray(self.f(y))
        except Exception:  # noqa: BLE001 - f(x + h) may raise outside f's domain
            return None
        if value.size != 1 or not np.issubdtype(value.dtype, np.number) \
                or np.iscomplexobj(value):
            return None
        value = float(value.item())
        return value if math.isfinite(value) else None

    def complex(self, z: np.ndarray) -> complex | None:
        """f(z) when the imaginary part survives (f accepts complex input, returns it)."""
        self.calls += 1
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                warnings.simplefilter("error", np.exceptions.ComplexWarning)
                value = np.asarray(self.f(z))
        except Exception:  # noqa: BLE001 - refusing complex input is an answer, not an error
            return None
        if value.size != 1 or not np.iscomplexobj(value):
            return None
        value = complex(value.item())
        return value if cmath.isfinite(value) else None


# ------------------------------------------------------------ the numeric core: slopes

@dataclass
class _Slope:
    """A numeric derivative of g(t) = f(x + t w) at t = 0, with what is known about it."""

    value: float
    error: float            # estimated |value - true derivative|
    step: float
    kind: str = "smooth"    # smooth | moved | curved | kink | undecided | blocked
    shrunk: bool = False    # f was not finite at the first step: the step was shrunk
    blocked_at: float = float("nan")  # the first step at which f was not finite
    right: float = float("nan")
    left: float = float("nan")


def _six(g, h: float):
    values = []
    for t in (h, -h, h / 2, -h / 2, h / 4, -h / 4):
        value = g(t)
        if value is None:
            return None, t
        values.append(value)
    return values, None


def _richardson3(values, g0: float, h: float, noise: float = 0.0):
    """Central differences at h, h/2, h/4, extrapolated twice (error O(h^6)).

    Returns (estimate, truncation estimate, round-off estimate, jumps J): the truncation
    estimate is the disagreement of the two once-extrapolated values (it also catches noise
    in f beyond eps |f|); round-off is eps |f| / h times the weights of the extrapolation;
    J = (g(t) + g(-t) - 2 g(0)) / t is h f'' for a smooth g and constant at a kink.
    """
    gp1, gm1, gp2, gm2, gp3, gm3 = values
    d1, d2, d3 = (gp1 - gm1) / (2 * h), (gp2 - gm2) / h, (gp3 - gm3) / (h / 2)
    r1, r2 = (4 * d2 - d1) / 3, (4 * d3 - d2) / 3
    estimate = (16 * r2 - r1) / 15
    size = max(abs(g0), max(abs(v) for v in values))
    # (64*4 + 20*2 + 1)/45 ~ 6.6, twice for f's own rounding; noise: see _Loss.noise
    round_off = 14 * (_EPS * size + noise) / h
    jumps = [(gp1 + gm1 - 2 * g0) / h, (gp2 + gm2 - 2 * g0) / (h / 2),
             (gp3 + gm3 - 2 * g0) / (h / 4)]
    return estimate, abs(r2 - r1), round_off, jumps, size


def _central_slope(g, g0: float, h0: float, ladder: bool = True,
                   noise: float = 0.0) -> _Slope:
    """Richardson central difference of g at 0 with an error estimate; steps respect the
    domain (shrunk while g(±h) is not finite), are refined while truncation dominates, and a
    jump in the one-sided slopes is followed to small steps to tell a kink from curvature."""
    # A power of two: x_j ± h / 2^k is then exact, so the step taken is the step divided by.
    h, shrunk, blocked_at = 2.0 ** round(math.log2(h0)), False, float("nan")
    for _ in range(_DOMAIN_SHRINKS + 1):
        values, bad = _six(g, h)
        if values is not None:
            break
        if not shrunk:
            blocked_at = bad
        shrunk, h = True, h / 8
    else:
        return _Slope(float("nan"), float("inf"), h, "blocked", True, blocked_at)
    estimate, truncation, round_off, jumps, size = _richardson3(values, g0, h, noise)
    slope = _Slope(estimate, truncation + round_off, h, "smooth", shrunk, blocked_at)
    # Kink test at the first steps (before refinement pushes the steps into the noise).
    level_noise = [8 * (_EPS * size + noise) / (h / 2 ** k) for k in range(3)]
    k1, k2 = 2 * jumps[1] - jumps[0], 2 * jumps[2] - jumps[1]   # the jump, curvature removed
    one_sided = abs(values[4] - g0) / (h / 4) + abs(g0 - values[5]) / (h / 4)
    if ladder and abs(k2) > 8 * (2 * level_noise[2] + level_noise[1]) + 1e-10 * one_sided \
            and abs(k2) > abs(k1) / 4:
        followed = _ladder(g, g0, h, slope, noise)
        if followed is not slope:
            return followed
    # A second estimate from steps 8 times smaller must agree within both error estimates
    # (else the first steps reached past something: a singularity, another branch of f);
    # steps shrink while they disagree or while truncation dominates, the better one kept.
    for _ in range(_REFINEMENTS):
        finer, _ = _six(g, h / 8)
        if finer is None:
            break
        candidate = _richardson3(finer, g0, h / 8, noise)
        agree = abs(candidate[0] - estimate) <= SAFETY * (truncation + round_off
                                                          + candidate[1] + candidate[2])
        if agree and candidate[1] + candidate[2] >= truncation + round_off:
            break
        h = h / 8
        estimate, truncation, round_off, jumps, size = candidate
        if agree and truncation <= 10 * round_off:
            break
    return _Slope(estimate, truncation + round_off, h, "smooth", shrunk, blocked_at)


def _ladder(g, g0: float, s0: float, coarse: _Slope, f_noise: float = 0.0) -> _Slope:
    """The one-sided slopes disagree at the Richardson steps: follow the jump
    J(s) = (g(s) + g(-s) - 2 g(0)) / s down a ladder of steps s0 / 4^m.

    Its curvature-free part K stays constant at a kink, decays geometrically where f is
    differentiable with unbounded curvature (|t|^p, 1 < p < 2), and drops to nothing when
    the kink is a little away from x (then a step below that distance is used). A K that
    changes sign from step to step is noise in f's values, not a jump."""
    steps, jumps, slopes, noise, rights, lefts = [], [], [], [], [], []
    s = 16 * s0  # two rungs above the Richardson step too, where f is finite there
    for _ in range(_LADDER + 3):
        plus, minus = g(s), g(-s)
        if plus is None or minus is None:
            if steps:
                break
            s /= 4
            continue
        size = max(abs(g0), abs(plus), abs(minus))
        steps.append(s)
        jumps.append((plus + minus - 2 * g0) / s)
        slopes.append((plus - minus) / (2 * s))
        noise.append(4 * (_EPS * size + f_noise) / s)
        rights.append((plus - g0) / s)
        lefts.append((g0 - minus) / s)
        s /= 4
    ks = [(4 * jumps[m + 1] - jumps[m]) / 3 for m in range(len(jumps) - 1)]
    noise_k = [(4 * noise[m + 1] + noise[m]) / 3 for m in range(len(jumps) - 1)]

    def result(kind, value=coarse.value, error=coarse.error, step=coarse.step, level=0):
        level = min(level, len(rights) - 2)
        if level >= 0:  # one-sided slopes, their curvature term removed (steps s, s/4)
            right = (4 * rights[level + 1] - rights[level]) / 3
            left = (4 * lefts[level + 1] - lefts[level]) / 3
        else:
            right = left = float("nan")
        return _Slope(value, error, step, kind, coarse.shrunk, coarse.blocked_at, right, left)

    if len(ks) < 3:
        return result("undecided")
    reference = max(abs(ks[0]), abs(ks[1]))
    usable = [m for m in range(len(ks)) if 4 * noise_k[m] <= 0.25 * reference]
    if len(usable) >= 3:
        tail = [ks[m] for m in usable[-3:]]
        same_sign = all(t > 0 for t in tail) or all(t < 0 for t in tail)
        magnitudes = [abs(t) for t in tail]
        if same_sign and max(magnitudes) <= 1.25 * min(magnitudes) \
                and magnitudes[-1] >= 0.5 * reference:
            return result("kink", step=steps[usable[-1] + 1], level=usable[-1])
    clear = [m for m in usable if abs(ks[m]) > 20 * noise_k[m]]
    if len(clear) >= 3 and clear == list(range(clear[0], clear[0] + len(clear))):
        # a power law decays by the same ratio at every scale, from the first rung on
        ratios = [ks[m + 1] / ks[m] for m in clear[:-1]]
        if all(0.02 < r < 0.95 for r in ratios) and max(ratios) - min(ratios) \
                <= 0.25 * max(ratios):
            curved = _curved(slopes[: clear[-1] + 2], noise, coarse, steps)
            level = clear[-1]
            return _Slope(curved.value, curved.error, curved.step, "curved", coarse.shrunk,
                          coarse.blocked_at, result("", level=level).right,
                          result("", level=level).left)
    peak = max(abs(k) for k in ks[: (usable[-1] + 1) if usable else 2])
    small = [abs(k) <= 1e-3 * peak or 4 * n > 1e-3 * peak for k, n in zip(ks, noise_k)]
    vanished = [m for m in range(1, len(ks)) if all(small[m:])  # and stays gone
                and abs(ks[m]) <= 1e-3 * peak and 4 * noise_k[m] <= 1e-3 * peak]
    if vanished:  # the jump is gone at small steps: a kink a little away from x
        refined = _central_slope(g, g0, steps[vanished[0]], ladder=False, noise=f_noise)
        if refined.kind == "smooth":
            return _Slope(refined.value, refined.error, refined.step, "moved", coarse.shrunk,
                          coarse.blocked_at)
    head = [k for k in ks[:4] if k != 0]
    if any(a * b < 0 for a, b in zip(head, head[1:])):
        return coarse  # the "jump" changes sign from step to step: it is noise in f
    if all(abs(k) <= 1e-6 * (abs(r) + abs(l)) for k, r, l in zip(ks, rights, lefts)):
        return coarse  # a wandering jump a millionth of the slope: noise, not structure
    undecided = result("undecided", level=usable[-1] if usable else 0)
    undecided.error = max(coarse.error, abs(undecided.right - undecided.left) / 2)
    return undecided


def _curved(slopes, noise, coarse: _Slope, steps) -> _Slope:
    """Differentiable with unbounded curvature: the central quotients D(s) converge like a
    power of s; Aitken's extrapolation on three consecutive ones gives the derivative, and
    the pair of consecutive extrapolations that agree best gives it with its error."""
    def aitken(a, b, c):
        d1, d2 = b - a, c - b
        denominator = d2 - d1
        if d2 == 0 or abs(denominator) <= 1e-3 * abs(d2):
            return c
        return c - d2 * d2 / denominator

    extrapolated = [aitken(*slopes[m: m + 3]) for m in range(len(slopes) - 2)]
    best = (float("inf"), coarse.value, coarse.step)
    for m in range(1, len(extrapolated)):
        round_off = noise[min(m + 2, len(noise) - 1)]  # D's round-off, like J's
        error = abs(extrapolated[m] - extrapolated[m - 1]) + round_off
        if error < best[0]:
            best = (error, extrapolated[m], steps[min(m + 2, len(steps) - 1)])
    return _Slope(best[1], best[0], best[2], "curved", coarse.shrunk, coarse.blocked_at)


# --------------------------------------------------------- directional derivatives

def _unit(rng: np.random.Generator, shape) -> np.ndarray:
    """A random direction, entries uniform in [-1, 1] (a continuous law: it is orthogonal
    to a given nonzero vector with probability 0)."""
    direction = rng.random(shape) * 2 - 1
    return direction / max(float(np.max(np.abs(direction))), _TINY)


def _step_scale(x: np.ndarray) -> float:
    """The size of x's entries (1 for x = 0): steps are relative to it."""
    return float(np.max(np.abs(x))) or 1.0


def _complex_slope(loss: _Loss, base: np.ndarray, direction, step=COMPLEX_STEP):
    point = np.empty(np.shape(base), dtype=complex)
    point.real, point.imag = base, step * direction
    value = loss.complex(point)
    return None if value is None else value.imag / step


def _directional(loss: _Loss, method: str, base: np.ndarray, direction: np.ndarray,
                 f_base: float, scale: float) -> _Slope:
    """The derivative of f at ``base`` along ``direction`` (entries at most 1 in size)."""
    if method == "complex-step":
        value = _complex_slope(loss, base, direction)
        if value is None:
            return _Slope(float("nan"), float("inf"), COMPLEX_STEP, "blocked")
        return _Slope(value, 4 * _EPS * abs(value), COMPLEX_STEP)
    return _central_slope(lambda t: loss.real(base + t * direction), f_base,
                          CENTRAL_STEP * scale, noise=loss.noise)


def _sensitivity(loss: _Loss, x: np.ndarray, f0: float, scale: float,
                 rng: np.random.Generator) -> float:
    """‖∇f ∘ x‖₂, roughly: the derivative along x∘s for s uniform in [-1, 1] has mean
    square ‖∇f ∘ x‖² / 3 (two draws, the larger, with a factor 2 to spare)."""
    largest = 0.0
    for _ in range(2):
        direction = x * (rng.random(x.shape) * 2 - 1)
        peak = float(np.max(np.abs(direction)))
        if peak == 0:
            continue
        slope = _central_slope(lambda t: loss.real(x + t * direction / peak), f0,
                               CENTRAL_STEP * scale, ladder=False)
        if math.isfinite(slope.value):
            largest = max(largest, abs(slope.value) * peak)
    return 2 * math.sqrt(3) * largest


def _curvature_scale(loss: _Loss, method: str, x: np.ndarray, f0: float, scale: float,
                     rng: np.random.Generator) -> float:
    """xi |u' H w| for random u, w: the size of the terms whose round-off remains of a
    gradient computed at a point where it vanishes (a change of x of relative size eps
    moves the gradient by about eps times this)."""
    u, w = _unit(rng, x.shape), _unit(rng, x.shape)
    here = _directional(loss, method, x, u, f0, scale)
    if not math.isfinite(here.value):
        return 0.0
    eta = 1e-6 if method == "complex-step" else 1e-5
    for _ in range(4):
        moved = x + eta * scale * w
        f_moved = loss.real(moved)
        if f_moved is not None:
            there = _directional(loss, method, moved, u, f_moved, scale)
            if math.isfinite(there.value) and there.kind in ("smooth", "moved"):
                change = abs(there.value - here.value) - SAFETY * (here.error + there.error)
                return max(change, 0.0) / eta
        eta /= 10
    return 0.0


def _contour_slope(loss: _Loss, x: np.ndarray, u: np.ndarray, scale: float,
                   noise: float) -> _Slope | None:
    """The derivative of F(t) = f(x + t u) at 0 from F on circles |t| = r in the complex
    plane (Cauchy's formula, trapezoidal rule, 8 points): F'(0) = mean(F(r ω) / (r ω)).

    It uses only complex values of f, no real differences, and it assumes F holomorphic:
    where f(z) = u(z) + i v(z) is not (abs, conj, z/|z|, slogdet's log|det|), it gives another
    number than Im f(x + i h u) / h, which is what the analyticity probe looks for. The
    radius starts at 0.1 xi and halves until the 8-point and 4-point rules agree (F analytic
    in the disk), then while the measured error falls; None if no circle works."""
    roots = np.exp(2j * np.pi * np.arange(8) / 8)

    def on_circle(r):
        values = [loss.complex(x + (r * root) * u) for root in roots]
        if any(value is None for value in values):
            return None
        values = np.array(values)
        fine = complex(np.mean(values / roots)) / r            # 8 points: error ~ (r/ρ)^8
        coarse = complex(np.mean((values / roots)[::2])) / r   # every other: ~ (r/ρ)^4
        round_off = (_EPS * float(np.max(np.abs(values))) + noise) / r  # a model
        difference = abs(fine - coarse)                        # the 4-point rule's error
        # The coefficient of t^-2 vanishes for a holomorphic F: what the same 8 values give
        # for it (aliasing a_6 r^5, which bounds the 8-point rule's a_9 r^8, plus noise of the
        # same size as in F'(0)) measures the error. A lost first-order part (conj, |.|)
        # would sit in t^-1, not here: it cannot hide in this estimate.
        measured = abs(complex(np.mean(values * roots ** 2))) / r
        # Eight samples make a rough measure: take the largest of the noise indicators
        # (the 4-point rule's disagreement, imaginary parts that must vanish for a real f).
        error = max(measured, difference, abs(fine.imag),
                    abs(complex(np.mean(values)).imag) / r)
        slope = _Slope(fine.real, error, r)
        return slope, difference <= max(1e-6 * abs(fine), 10 * round_off)

    r = 0.1 * scale
    for _ in range(48):
        found = on_circle(r)
        if found is not None and found[1]:
            best, neighbour = found[0], None
            for _ in range(8):  # smaller circles while the measured error still falls
                r /= 2
                smaller = on_circle(r)
                if smaller is None:
                    break
                if not smaller[0].error < best.error:
                    neighbour = smaller[0]
                    break
                best = smaller[0]
            # a minimum over radii of a rough measure is biased low: the next circle's
            # measure (no better, by the stop rule) guards against a lucky draw
            if neighbour is not None:
                best.error = max(best.error, neighbour.error)
            return best
        r /= 2
    return None


def _complex_step_is_valid(loss: _Loss, x: np.ndarray, f0: float, scale: float,
                           rng: np.random.Generator) -> tuple[bool, float, float]:
    """Is Im f(x + i h w) / h the directional derivative? (valid, curvature scale, margin).

    ``margin`` is how closely the directional derivative was confirmed: a part of the gradient
    that the complex step might miss (say a |det| inside a complex expression) is no larger
    than that along a random direction, so the verdict allows it (near a singularity it can
    be well above eps; elsewhere it is ~1e-13 relative).

    Decided by complex evaluations of f, not by the accuracy of a real difference: f must
    return a complex value; the quotient must not depend on h (1e-30, 1e-20, 1e-12: a
    constant or corrupted imaginary part does), must be linear in the direction
    (D(u + v) = D(u) + D(v)) and odd (D(-u) = -D(u) at h = 1e-20 and 1e-12: fails at a kink
    of max or a ReLU at a zero, where the complex step picks one side), and must equal the
    derivative from Cauchy's formula on a small circle (_contour_slope), which differs where
    f is not holomorphic (np.sign's z/|z|, a |.| or slogdet inside a complex expression).
    Only if no circle works is a central difference asked, within its own error estimate.
    """
    u, v, w = _unit(rng, x.shape), _unit(rng, x.shape), _unit(rng, x.shape)
    a = _complex_slope(loss, x, u)
    if a is None:
        return False, 0.0, 0.0
    others = [_complex_slope(loss, x, u, step) for step in PROBE_STEPS]
    b, both = _complex_slope(loss, x, v), _complex_slope(loss, x, u + v)
    minus = [_complex_slope(loss, x, -u, step) for step in (COMPLEX_STEP, PROBE_STEPS[-1])]
    eta = 1e-9
    moved = [_complex_slope(loss, x + sign * eta * scale * w, u) for sign in (1, -1)]
    if any(d is None for d in [*others, b, both, *minus, *moved]):
        return False, 0.0, 0.0
    changes = [moved[0] - a, moved[1] - a]
    linear = abs(changes[0] + changes[1]) <= 0.1 * (abs(changes[0]) + abs(changes[1])) \
        + 1e3 * _EPS * abs(a)
    curvature = max(abs(changes[0]), abs(changes[1])) / eta if linear else 0.0
    size = abs(a) + abs(b) + abs(both)
    tolerance = PROBE_RTOL * size + 100 * _EPS * curvature
    if any(abs(a - other) > tolerance for other in others) \
            or abs(both - a - b) > tolerance or abs(a + minus[0]) > tolerance \
            or abs(others[-1] + minus[1]) > tolerance:
        return False, curvature, 0.0
    noise = 2 * math.sqrt(3) * _EPS * max(abs(a), abs(b)) * scale
    reference = _contour_slope(loss, x, u, scale, noise)
    if reference is None:
        reference = _central_slope(lambda t: loss.real(x + t * u), f0, CENTRAL_STEP * scale,
                                   noise=noise)
        if reference.kind in ("kink", "blocked"):
            return False, curvature, 0.0
    floor = 1e3 * _EPS * size + 100 * _EPS * curvature
    if abs(reference.value - a) > 2 * reference.error + floor:
        return False, curvature, 0.0
    return True, curvature, max(2 * reference.error, abs(reference.value - a)) + floor


# ------------------------------------------------------------------ the public check

def check_gradient(f: Callable[[np.ndarray], float], grad: Callable[[np.ndarray], np.ndarray],
                   x: np.ndarray, *, rtol: float | None = None, method: Method = "auto",
                   seed: int = 0, mode: Mode = "auto") -> GradientReport:
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
        the numeric gradient, ``floor`` the round-off of a gradient that vanishes (see the
        module's docstring). Default ``DEFAULT_RTOL[method]``.
    method : {"auto", "complex-step", "central-difference"}
    seed : int
        Seeds the random directions (probes of "auto", fast mode).
    mode : {"auto", "full", "fast"}
        "full" differentiates along every entry; "fast" along ``FAST_PROBES`` random
        directions (``⟨claim, v⟩`` against the numeric directional derivative), "auto" is
        "fast" above ``FAST_SIZE`` entries.

    Returns
    -------
    GradientReport
        A claim of the wrong shape, with NaNs, raised by ``grad``, or at a point where ``f``
        has no gradient is a failed report with a diagnosis, not an exception.

    Raises
    ------
    TypeError, ValueError
        Bad input, named: ``x`` not a finite float64 array, ``f(x)`` not a finite real
        scalar, ``grad`` returning something that is not an array of numbers, bad options.
    """
    x = _validated_point(x)
    _validate_options(rtol, method, mode)
    f0 = _real_scalar(f, x)
    loss, scale = _Loss(f), _step_scale(x)
    rng = np.random.default_rng(seed)
    if mode == "auto":
        mode = "fast" if x.size > FAST_SIZE else "full"
    curvature, margin = None, 0.0
    if method == "auto":
        valid, curvature, margin = _complex_step_is_valid(loss, x, f0, scale, rng)
        method = "complex-step" if valid else "central-difference"
    elif method == "complex-step" and _complex_slope(loss, x, _unit(rng, x.shape)) is None:
        raise ValueError("method='complex-step' needs an f that carries a complex input "
                         "through to a complex output; this f drops the imaginary part "
                         "(np.abs, np.linalg.norm, float(), ...): use method='auto'")
    if method == "central-difference":
        loss.noise = _EPS * _sensitivity(loss, x, f0, scale, rng)
    if method == "central-difference" or curvature is None:
        curvature = _curvature_scale(loss, method, x, f0, scale, rng)
    tolerance = DEFAULT_RTOL[method] if rtol is None else float(rtol)
    floor = FLOOR_FACTOR * _EPS * curvature
    try:
        raw_claim = grad(x.copy())
    except Exception as error:  # noqa: BLE001 - a claim that cannot be computed is rejected
        return GradientReport(False, float("inf"), method, _raised(error), tolerance, None,
                              None, floor=floor, mode=mode, verdict="REJECTED",
                              evaluations=loss.calls)
    claimed = _claim_array(raw_claim, x)

    def report(ok, error, diagnosis, numeric=None, **extra) -> GradientReport:
        verdict = extra.pop("verdict", "verified" if ok else "REJECTED")
        return GradientReport(ok, error, method, diagnosis, tolerance, claimed, numeric,
                              floor=floor, mode=mode, verdict=verdict,
                              evaluations=loss.calls, **extra)
    report.floor, report.margin = floor, margin

    if not np.issubdtype(claimed.dtype, np.number) or np.iscomplexobj(claimed):
        return report(False, float("inf"), f"the claim has dtype {claimed.dtype}; a "
                      "gradient of a real loss is a real array")
    if claimed.size == x.size and not np.all(np.isfinite(claimed)):
        first = np.argwhere(~np.isfinite(claimed.reshape(-1)))[0]
        return report(False, float("inf"), "the claim is not finite: entry "
                      f"{_index(np.unravel_index(first[0], claimed.shape))} is "
                      f"{claimed.reshape(-1)[first[0]]}")
    if mode == "fast":
        return _fast_check(loss, method, x, f0, scale, claimed, grad, rng, tolerance, report)
    return _full_check(loss, method, x, f0, scale, claimed, grad, seed, tolerance, report)


def assert_gradient(f: Callable[[np.ndarray], float], grad: Callable[[np.ndarray], np.ndarray],
                    x: np.ndarray, **options) -> GradientReport:
    """Like :func:`check_gradient`, but raise ``AssertionError`` (with the diagnosis) unless ok."""
    report = check_gradient(f, grad, x, **options)
    if not report.ok:
        raise AssertionError(f"gradient check failed at a point of shape {x.shape}: {report}")
    return report


def relative_error(claimed: np.ndarray, numeric: np.ndarray) -> float:
    """``max|claimed - numeric| / max|numeric|``, with a floor so a zero gradient is no 0/0."""
    scale = max(float(np.max(np.abs(numeric))), _TINY)
    return float(np.max(np.abs(claimed - numeric)) / scale)


def _raised(error: Exception) -> str:
    text = (f"grad(x) raised {type(error).__name__}: {error}" if str(error)
            else f"grad(x) raised {type(error).__name__}")
    if isinstance(error, ValueError) and any(word in str(error) for word in
                                             ("matmul", "shapes", "broadcast", "aligned")):
        text += ("; the claim cannot be computed at x's shape: a product of non-conforming "
                 "shapes (a transpose missing, or factors in the wrong order?)")
    return text


# --------------------------------------------------------------------- full mode

def _entry_slopes(loss: _Loss, method: str, x: np.ndarray, f0: float, scale: float):
    """Numeric derivative along every entry: (values, error estimates, slopes or None)."""
    numeric, error = np.empty(x.shape), np.empty(x.shape)
    if method == "complex-step":
        z = x.astype(complex)
        for j in range(x.size):
            w = z.copy()
            w.flat[j] += 1j * COMPLEX_STEP
            value = loss.complex(w)
            if value is None:
                return None
            numeric.flat[j] = value.imag / COMPLEX_STEP
        error[...] = 4 * _EPS * np.abs(numeric)
        return numeric, error, None
    slopes = []
    for j in range(x.size):
        def g(t, j=j):
            y = x.copy()
            y.flat[j] += t
            return loss.real(y)
        slope = _central_slope(g, f0, CENTRAL_STEP * max(abs(x.flat[j]), 0.1 * scale),
                               noise=loss.noise)
        slopes.append(slope)
        numeric.flat[j], error.flat[j] = slope.value, slope.error
    return numeric, error, slopes


def _full_check(loss, method, x, f0, scale, claimed, grad, seed, tolerance, report):
    entries = _entry_slopes(loss, method, x, f0, scale)
    if entries is None:  # one entry refused complex input though the probes accepted it
        return check_gradient(loss.f, grad, x, rtol=None if tolerance == DEFAULT_RTOL[method]
                              else tolerance, method="central-difference", seed=seed,
                              mode="full")
    numeric, error, slopes = entries
    notes = []
    if slopes is not None:
        trouble = _trouble(slopes, x.shape)
        if trouble is not None:
            kind, words = trouble
            if kind == "kink":
                return report(False, float("nan"), words)
        if any(slope.kind == "blocked" for slope in slopes):
            return report(False, float("nan"), _blocked_words(slopes, x.shape), None,
                          verdict="cannot decide")
        notes = _slope_notes(slopes, x.shape, x)
        # f's own round-off is at least its change under a rounding of x (backward error):
        # eps ‖∇f ∘ x‖, larger than eps |f| where f is ill-conditioned (a solve, a det).
        steps = np.array([s.step for s in slopes]).reshape(x.shape)
        sensitivity = float(np.linalg.norm(np.nan_to_num(numeric) * x))
        error = error + 14 * max(_EPS * sensitivity - loss.noise, 0.0) / steps
    ref = _FullReference(numeric, error)
    if claimed.shape != x.shape:
        return report(False, float("inf"), _shape_diagnosis(claimed, ref, x.shape),
                      numeric, numeric_error=error)

    size = float(np.max(np.abs(numeric)))
    floor = report.floor
    if method == "complex-step" and report.margin > 0:
        # what the analyticity probe could not rule out, spread over the entries
        error = error + 3.5 * report.margin / SAFETY
        if 3.5 * report.margin > 1e-9 * size + 10 * floor:  # only where it matters
            notes.append(f"the complex step is confirmed here only to about "
                         f"{3.5 * report.margin:.1e} an entry (by Cauchy's formula: f is close "
                         "to a singularity), and the verdict allows that")
    allowed = SAFETY * error + tolerance * size + floor
    difference = np.abs(claimed - numeric)
    outside = difference / np.maximum(allowed, _TINY)
    worst = _index(np.unravel_index(int(np.argmax(outside)), x.shape))
    max_rel = float(np.max(difference)) / max(size, floor, _TINY)
    extra = dict(numeric_error=error, worst_index=worst,
                 max_abs_error=float(np.max(difference)))
    if np.all(difference <= allowed):
        undecided = _undecided(slopes, max(size, floor, _TINY), x.shape)
        if undecided is not None:
            return report(False, max_rel, undecided, numeric, verdict="cannot decide",
                          **extra)
        if np.all(np.abs(numeric) <= allowed):
            notes.insert(0, f"the gradient is zero here to round-off: max |numeric| "
                         f"{size:.1e}, max |claim| {float(np.max(np.abs(claimed))):.1e}, "
                         f"within the absolute floor {floor:.1e} plus the numeric error")
        return report(True, max_rel, None, numeric, note="; ".join(notes) or None, **extra)
    diagnosis = _value_diagnosis_gradient(claimed, ref, allowed, grad, x, loss, seed)
    return report(False, max_rel, diagnosis, numeric, note="; ".join(notes) or None, **extra)


def _trouble(slopes, shape):
    """The first kink, as (kind, words), or None."""
    for j, slope in enumerate(slopes):
        if slope.kind == "kink":
            at = _index(np.unravel_index(j, shape))
            right, left = _distinct(slope.right, slope.left)
            return "kink", (f"f is not differentiable at this x: along entry {at} the slope "
                            f"from the right is {right} and from the left "
                            f"{left}, so no gradient exists to compare with (a "
                            "kink, e.g. of abs, max or a ReLU at a zero: the jump stays the "
                            f"same at every step down to {slope.step:.0e})")
    return None


def _distinct(a: float, b: float) -> tuple[str, str]:
    """a and b printed with the fewest significant digits (at least 6) that tell them apart."""
    for digits in range(6, 17):
        if f"{a:.{digits}g}" != f"{b:.{digits}g}":
            break
    return f"{a:.{digits}g}", f"{b:.{digits}g}"


def _blocked_words(slopes, shape) -> str:
    for j, slope in enumerate(slopes):
        if slope.kind == "blocked":
            at = _index(np.unravel_index(j, shape))
            return (f"cannot decide: f is not finite at x + h·e_{at} for every step h tried "
                    f"(from {slope.blocked_at:.1e} down to {slope.step:.1e}): x is on the "
                    "boundary of f's domain")
    return ""


def _slope_notes(slopes, shape, x) -> list[str]:
    notes = []
    shrunk = [j for j, s in enumerate(slopes) if s.shrunk and s.kind != "blocked"]
    if shrunk:
        j = shrunk[0]
        at = _index(np.unravel_index(j, shape))
        more = f" (and {len(shrunk) - 1} more entries)" if len(shrunk) > 1 else ""
        step = slopes[j].blocked_at
        notes.append(f"f is not finite at x {'+-'[step < 0]} {abs(step):.1e}·e_{at}{more}: "
                     f"the step was shrunk to {slopes[j].step:.1e} (x is near the boundary "
                     "of f's domain)")
    moved = [j for j, s in enumerate(slopes) if s.kind == "moved"]
    if moved:
        at = _index(np.unravel_index(moved[0], shape))
        notes.append(f"along entry {at} the one-sided slopes of f disagree at steps above "
                     f"{4 * slopes[moved[0]].step:.0e} (a kink or a singularity that close to "
                     f"x): the step was reduced to {slopes[moved[0]].step:.0e}")
    curved = [j for j, s in enumerate(slopes) if s.kind == "curved"]
    if curved:
        at = _index(np.unravel_index(curved[0], shape))
        notes.append(f"along entry {at} f is differentiable with unbounded curvature (like "
                     "|t|^p at 0, 1 < p < 2): its derivative was extrapolated from small "
                     "steps")
    return notes


def _undecided(slopes, size, shape) -> str | None:
    """Entries whose derivative the differences could not pin down (a claim within them
    is neither verified nor rejected)."""
    if slopes is None:
        return None
    for j, slope in enumerate(slopes):
        at = _index(np.unravel_index(j, shape))
        if slope.kind == "undecided":
            right, left = _distinct(slope.right, slope.left)
            return (f"cannot decide: along entry {at} the one-sided slopes of f (right "
                    f"{right}, left {left}) neither agree nor keep a constant jump as the "
                    f"step shrinks, so the derivative is known only to ±{slope.error:.1e}; "
                    "the claim is within that (f may be differentiable with unbounded "
                    "curvature here, like |t|^p at 0 with 1 < p < 2, or not)")
        if slope.kind == "curved" and slope.error > 1e-6 * size:
            return (f"cannot decide: along entry {at} f is differentiable with unbounded "
                    "curvature (like |t|^p at 0 with 1 < p < 2), and differences pin its "
                    f"derivative down only to ±{slope.error:.1e}; the claim is within that")
    return None


# --------------------------------------------------------------------- fast mode

def _fast_check(loss, method, x, f0, scale, claimed, grad, rng, tolerance, report):
    probes = [_unit(rng, x.shape) for _ in range(FAST_PROBES)]
    slopes = [_directional(loss, method, x, v, f0, scale) for v in probes]
    for slope in slopes:
        if slope.kind == "kink":
            right, left = _distinct(slope.right, slope.left)
            return report(False, float("nan"), "f is not differentiable at this x: along a "
                          f"random direction the slope from the right is {right} "
                          f"and from the left {left}, so no gradient exists to "
                          "compare with (a kink, e.g. of abs, max or a ReLU at a zero)")
        if slope.kind == "blocked":
            return report(False, float("nan"), "cannot decide: f is not finite at x + h·v "
                          "for a random direction v and every step h tried: x is on the "
                          "boundary of f's domain", verdict="cannot decide")
    ref = _FastReference(loss, method, x, f0, scale, probes, slopes)
    if claimed.shape != x.shape:
        return report(False, float("inf"), _shape_diagnosis(claimed, ref, x.shape))
    floor = report.floor
    numeric = np.array([s.value for s in slopes])
    errors = np.array([s.error for s in slopes])
    if method == "complex-step":
        errors = errors + 3 * report.margin / SAFETY

    projected = np.array([float(np.sum(claimed * v)) for v in probes])
    lengths = np.array([float(np.linalg.norm(v)) for v in probes])
    size = ref.norm_estimate(max(float(np.linalg.norm(claimed)), 0.0))
    allowed = SAFETY * errors + tolerance * lengths * size + 3 * floor * lengths
    difference = np.abs(projected - numeric)
    max_rel = float(np.max(difference / (lengths * max(size, floor, _TINY))))
    extra = dict(max_abs_error=float(np.max(difference / lengths)))
    if np.all(difference <= allowed):
        note = None
        if np.all(np.abs(numeric) <= allowed):
            note = (f"the gradient is zero here to round-off: its projections are at most "
                    f"{float(np.max(np.abs(numeric) / lengths)):.1e} per unit length, within "
                    f"the absolute floor {floor:.1e} plus the numeric error")
        return report(True, max_rel, None, note=note, **extra)
    diagnosis = _value_diagnosis_gradient(claimed, ref, None, grad, x, loss, None)
    return report(False, max_rel, diagnosis, **extra)


# --------------------------------------------------------- references for diagnoses

def _transform(name: str, a: np.ndarray) -> np.ndarray:
    """The gradient's transforms that a mistake produces (all self-adjoint but 'T')."""
    if name == "G":
        return a
    if name == "T":
        return a.T
    diagonal = np.diag(np.diag(a))
    return {"sym": lambda: (a + a.T) / 2, "G+T-diag": lambda: a + a.T - diagonal,
            "2G-diag": lambda: 2 * a - diagonal, "2T-diag": lambda: 2 * a.T - diagonal}[name]()


class _FullReference:
    """The numeric gradient, every entry: claims are compared with its transforms."""

    def __init__(self, numeric: np.ndarray, error: np.ndarray):
        self.numeric, self.error = numeric, error

    def fit(self, candidate: np.ndarray, name: str = "G") -> float | None:
        """k if candidate = k * transform(gradient) to within the numeric error, else None."""
        if candidate.shape != self.numeric.shape:
            return None
        reference = _transform(name, self.numeric)
        slack = SAFETY * _transform(name, self.error) if name in ("G", "T") else \
            SAFETY * 2 * (self.error + self.error.T)
        norm = float(np.sum(reference * reference))
        if norm == 0:
            return None
        k = float(np.sum(candidate * reference) / norm)
        residual = np.abs(candidate - k * reference)
        allowed = 1e-6 * float(np.max(np.abs(k * reference))) + 100 * abs(k) * slack
        return k if np.all(residual <= allowed) else None

    def symmetric(self) -> bool:
        if self.numeric.ndim != 2 or self.numeric.shape[0] != self.numeric.shape[1]:
            return False
        return self.fit(self.numeric.T) is not None


class _FastReference:
    """The gradient seen through random directions: ⟨transform(G), v⟩ = ⟨G, adjoint(v)⟩,
    the numeric directional derivative along adjoint(v)."""

    def __init__(self, loss, method, x, f0, scale, probes, slopes):
        self.loss, self.method, self.x, self.f0, self.scale = loss, method, x, f0, scale
        self.probes = probes
        self.cache = {"G": (np.array([s.value for s in slopes]),
                            np.array([s.error for s in slopes]))}

    def _probe(self, adjoint) -> tuple[np.ndarray, np.ndarray]:
        values, errors = [], []
        for v in self.probes:
            w = adjoint(v)
            peak = max(float(np.max(np.abs(w))), _TINY)
            slope = _directional(self.loss, self.method, self.x, w / peak, self.f0, self.scale)
            values.append(slope.value * peak)
            errors.append(slope.error * peak)
        return np.array(values), np.array(errors)

    def _along(self, name: str):
        """⟨transform(G), v⟩ for each probe v, from D(v), D(vᵀ) and D(I∘v) (all linear)."""
        if name not in self.cache:
            if name in ("T", "diag"):
                self.cache[name] = self._probe(
                    (lambda v: v.T) if name == "T" else (lambda v: np.diag(np.diag(v))))
            else:
                weights = {"sym": (0.5, 0.5, 0), "G+T-diag": (1, 1, -1),
                           "2G-diag": (2, 0, -1), "2T-diag": (0, 2, -1)}[name]
                parts = [self._along(part) for part in ("G", "T", "diag")]
                self.cache[name] = (sum(c * p[0] for c, p in zip(weights, parts)),
                                    sum(abs(c) * p[1] for c, p in zip(weights, parts)))
        return self.cache[name]

    def norm_estimate(self, fallback: float) -> float:
        """‖G‖₂ from the projections (E⟨G, v⟩² = ‖G‖² σ² for v of iid entries σ²)."""
        values = self.cache["G"][0]
        sigma2 = np.mean([float(np.sum(v * v)) / v.size for v in self.probes])
        return max(float(np.sqrt(np.mean(values ** 2) / sigma2)), fallback)

    def fit(self, candidate: np.ndarray, name: str = "G") -> float | None:
        if candidate.shape != self.x.shape:
            return None
        values, errors = self._along(name)
        if not np.all(np.isfinite(values)):
            return None
        projected = np.array([float(np.sum(candidate * v)) for v in self.probes])
        norm = float(np.sum(values * values))
        if norm == 0:
            return None
        k = float(np.sum(projected * values) / norm)
        residual = np.abs(projected - k * values)
        allowed = 1e-6 * float(np.max(np.abs(k * values))) + 100 * abs(k) * SAFETY * errors
        return k if np.all(residual <= allowed) else None

    def symmetric(self) -> bool:
        if self.x.ndim != 2 or self.x.shape[0] != self.x.shape[1]:
            return False
        values, errors = self._along("G")
        transposed, t_errors = self._along("T")
        scale = float(np.max(np.abs(values)))
        return bool(np.all(np.abs(values - transposed) <= 1e-6 * scale
                           + 100 * SAFETY * (errors + t_errors)))


# ------------------------------------------------------------------------ diagnoses

def _index(position) -> tuple[int, ...] | int:
    position = tuple(int(p) for p in position)
    if len(position) == 0:
        return ()
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


_SYMMETRIC_CONVENTION = (
    "the claim follows the symmetric-matrix convention, {formula}: the derivative of a "
    "function of a symmetric matrix whose entries x[i, j] and x[j, i] move together (as in "
    "the Matrix Cookbook's 2X⁻¹ - X⁻¹∘I for log det X). Here every entry of x is a free "
    "variable and the gradient is G itself")


def _value_diagnosis_gradient(claimed, ref, allowed, grad, x, loss, seed) -> str:
    """Name the mistake of a claim of the right shape that is not the gradient."""
    what = "the gradient"
    if not np.any(claimed):
        return f"the claim is zero everywhere, but {what} is not"
    square = claimed.ndim == 2 and claimed.shape[0] == claimed.shape[1]
    symmetric = square and ref.symmetric()
    if square and not symmetric:
        k = ref.fit(claimed, "T")
        if k is not None:
            base = f"the claim is the transpose of {what}"
            return base if abs(k - 1) < 1e-6 else f"{base}, and {_factor_words(k, 'it')}"
    k = ref.fit(claimed, "G")
    if k is not None and abs(k - 1) < 1e-6:
        return _close_words(claimed, ref, allowed)
    if k is not None:
        return f"the claim {_factor_words(k, what)}"
    if square:
        conventions = [("G+T-diag", "G + Gᵀ - diag(G) for the gradient G"),
                       ("2G-diag", "2G - diag(G) for the gradient G"),
                       ("2T-diag", "2Gᵀ - diag(G) for the gradient G")]
        for name, formula in conventions:
            k = ref.fit(claimed, name)
            if k is not None and abs(k - 1) < 1e-6:
                return _SYMMETRIC_CONVENTION.format(formula=formula)
        if not symmetric:
            k = ref.fit(claimed, "sym")
            if k is not None:
                base = ("the claim is the symmetric part (G + Gᵀ)/2 of the gradient G, not G: "
                        "a formula for symmetric matrices, where only the symmetric part "
                        "counts; for this x the gradient is not symmetric")
                return base if abs(k - 1) < 1e-6 else \
                    f"{base}; besides, the claim {_factor_words(k, 'that part')}"
    field_words = _not_a_gradient_field(grad, x, claimed)
    if field_words is not None:
        return field_words
    if isinstance(ref, _FullReference):
        worst = np.unravel_index(int(np.argmax(np.abs(claimed - ref.numeric))),
                                 claimed.shape)
        return (f"the claim is not a multiple, negative or transpose of {what}: a term is "
                f"probably missing, extra or wrong; the largest difference is at entry "
                f"{_index(worst)} (claimed {claimed[worst]:.6g}, numeric "
                f"{ref.numeric[worst]:.6g})")
    return (f"the claim is not a multiple, negative or transpose of {what}: a term is "
            f"probably missing, extra or wrong (seen along {FAST_PROBES} random directions; "
            "mode='full' names the worst entry)")


def _close_words(claimed, ref, allowed) -> str:
    """A claim proportional to the gradient with factor 1, yet rejected."""
    if isinstance(ref, _FullReference) and allowed is not None:
        outside = np.abs(claimed - ref.numeric) / np.maximum(allowed, _TINY)
        worst = np.unravel_index(int(np.argmax(outside)), claimed.shape)
        numeric = float(ref.numeric[worst])
        own = abs(float(claimed[worst]) - numeric) / max(abs(numeric), _TINY)
        if own > 1e-6:
            return (f"the claim is close to the gradient overall, but entry {_index(worst)} "
                    f"is wrong by {own:.1e} of itself (claimed {claimed[worst]:.6g}, numeric "
                    f"{numeric:.6g}): a term that matters only for the small entries?")
    return ("the claim is close to the gradient but not within the tolerance: round-off "
            "in how the claim is computed, or a very small term missing")


def _not_a_gradient_field(grad, x, claimed) -> str | None:
    """The claim's Jacobian J is not symmetric (vᵀJu ≠ uᵀJv): no function has it as its
    gradient. The usual cause: 2Ax claimed for xᵀAx with A not symmetric."""
    if x.size < 2:
        return None
    rng = np.random.default_rng(12345)
    u, v = _unit(rng, x.shape), _unit(rng, x.shape)
    scale = _step_scale(x)

    def along(direction):
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                warnings.simplefilter("error", np.exceptions.ComplexWarning)
                value = np.asarray(grad(x + 1j * COMPLEX_STEP * direction))
            if value.shape == x.shape and np.iscomplexobj(value):
                return value.imag / COMPLEX_STEP, 1e-10
        except Exception:  # noqa: BLE001 - then central differences
            pass
        try:
            h = 1e-4 * scale
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                values = [np.asarray(grad(x + t * direction), dtype=float)
                          for t in (h, -h, h / 2, -h / 2)]
        except Exception:  # noqa: BLE001 - no diagnosis then
            return None
        if any(value.shape != x.shape for value in values):
            return None
        d1, d2 = (values[0] - values[1]) / (2 * h), (values[2] - values[3]) / h
        return (4 * d2 - d1) / 3, 1e-5

    first, second = along(u), along(v)
    if first is None or second is None:
        return None
    a, b = float(np.sum(v * first[0])), float(np.sum(u * second[0]))
    if not (math.isfinite(a) and math.isfinite(b)) or \
            abs(a - b) <= first[1] * (abs(a) + abs(b)) + 1e-300:
        return None
    return ("the claim is not the gradient of any function: its derivative (Jacobian J) is "
            f"not symmetric (for random directions u, v: vᵀJu = {a:.6g} but uᵀJv = {b:.6g}). "
            "A formula that assumed a matrix symmetric does this, e.g. 2Ax claimed for xᵀAx "
            "(or 2AX for tr(XᵀAX)) with A not symmetric: the gradient has A + Aᵀ there")


def _shape_diagnosis(claimed: np.ndarray, ref, shape: tuple) -> str:
    said = f"the claim has shape {claimed.shape}, but x has shape {shape}"
    size = int(np.prod(shape))
    if claimed.size != size:
        return f"{said}: the gradient has the parameter's shape, one entry per entry of x"

    def values_words(candidate):
        k = ref.fit(candidate)
        if k is not None and abs(k - 1) < 1e-6:
            return "its values are right"
        if k is not None:
            return f"the claim {_factor_words(k, 'the gradient')}"
        return "its values are not the gradient's either"

    if [n for n in claimed.shape if n != 1] == [n for n in shape if n != 1]:
        # Only axes of length one differ: a row where a column was due, or the reverse.
        values = values_words(claimed.reshape(shape))
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
        k = ref.fit(np.ascontiguousarray(claimed.T))
        if k is not None and abs(k - 1) < 1e-6:
            return f"{said}: the claim is the transpose of the gradient"
        return f"{said}: the transposed shape, but not the transposed gradient either"
    for order, name in (("F", "column by column (vec)"), ("C", "row by row")):
        k = ref.fit(claimed.reshape(shape, order=order))
        if k is not None and abs(k - 1) < 1e-6:
            return (f"{said}: its entries are the gradient's, laid out {name}; reshape it "
                    f"with order='{order}'")
    return f"{said}, and its entries are not the gradient's in any layout"


def _value_diagnosis(claimed: np.ndarray, numeric: np.ndarray, tolerance: float,
                     what: str = "the gradient") -> str:
    """The Hessian check's diagnosis of a claim of the right shape (relative to the max)."""
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


# ---------------------------------------------------------------------------- input checks

def _validated_point(x) -> np.ndarray:
    if isinstance(x, np.float64):  # a numpy scalar: the 0-d array it stands for
        x = np.asarray(x)
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


def _validate_options(rtol, method, mode="auto") -> None:
    if method not in ("auto", "complex-step", "central-difference"):
        raise ValueError(f"method must be 'auto', 'complex-step' or 'central-difference', "
                         f"not {method!r}")
    if mode not in ("auto", "full", "fast"):
        raise ValueError(f"mode must be 'auto', 'full' or 'fast', not {mode!r}")
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


def _claim_array(claim, x: np.ndarray) -> np.ndarray:
    if claim is None:
        raise TypeError("grad(x) returned None; it must return the claimed gradient, an "
                        f"array of x's shape {x.shape}")
    claim = np.asarray(claim)
    if claim.dtype == object:
        raise TypeError("grad(x) must return an array of numbers, not of Python objects "
                        "(a sympy expression? convert it with np.array(..., dtype=float))")
    return claim


# ------------------------------------------------ helpers of the Hessian check (unchanged)

_HESSIAN_RTOL = {"complex-step": 1e-12, "central-difference": 1e-7}
_HESSIAN_PROBE_RTOL = 1e-7


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


def _richardson(g, h: float, g0: float) -> tuple[float, float, float]:
    """Derivative of the scalar function g at 0: central, and one-sided from the right/left,
    each Richardson-extrapolated from steps h and h/2."""
    plus, minus = g(h), g(-h)
    plus_half, minus_half = g(h / 2), g(-h / 2)
    central = (4 * (plus_half - minus_half) / h - (plus - minus) / (2 * h)) / 3
    right = 2 * (plus_half - g0) / (h / 2) - (plus - g0) / h
    left = 2 * (g0 - minus_half) / (h / 2) - (g0 - minus) / h
    return central, right, left


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
    claimed = _claim_array(hess(x.copy()), x)
    if method == "auto":
        analytic = _gradient_is_analytic(grad, x, g0, seed)
        method = "complex-step" if analytic else "central-difference"
    tolerance = _HESSIAN_RTOL[method] if rtol is None else float(rtol)
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
    return relative_error(value.imag / COMPLEX_STEP, by_difference) <= _HESSIAN_PROBE_RTOL


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
    tolerance = _HESSIAN_RTOL["central-difference"]
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
