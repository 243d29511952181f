"""The numeric core under every check: derivatives of f along directions, each with an error
estimate. No prose here: the checks turn what it finds into verdicts and diagnoses.

One core serves the gradient check (f scalar), the Hessian check (f the gradient, an array)
and the Jacobian check (any array-valued f): ``Function`` calls f safely, ``choose_method``
decides whether the complex step is valid at x, ``entry_slopes`` differentiates along every
entry, ``directional`` along one direction. How each estimate works, and its error, is told
in the docstring of :mod:`mcv.checks`.
"""

from __future__ import annotations

import cmath
import math
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from mcv.expr import EvaluationError

__all__ = ["Function", "Projection", "FunctionBug", "Slope", "quiet", "choose_method",
           "entry_slopes", "central_slope", "directional", "unit", "step_scale", "sensitivity",
           "curvature_scale",
           "complex_slope", "DEFAULT_RTOL", "FAST_SIZE", "FAST_PROBES", "COMPLEX_STEP",
           "PROBE_STEPS", "PROBE_RTOL", "CENTRAL_STEP", "SAFETY", "FLOOR_FACTOR", "EPS", "TINY"]

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
EPS = float(np.finfo(float).eps)
TINY = float(np.finfo(float).tiny)
_EPS, _TINY = EPS, TINY
_DOMAIN_SHRINKS = 16      # step divided by 8 at most this often when f(x ± h) is not finite
_REFINEMENTS = 4          # step divided by 8 at most this often while truncation dominates
_LADDER = 10              # steps divided by 4 this often to tell a kink from steep curvature

#: What f may raise at a perturbed point outside its domain (a singular matrix is a
#: LinAlgError, a ValueError); anything else there is a bug in f, reported as one.
DOMAIN_ERRORS = (ValueError, ArithmeticError, EvaluationError, np.exceptions.ComplexWarning)
#: How f refuses a complex input: an answer ("not analytic here"), not an error.
COMPLEX_REFUSALS = DOMAIN_ERRORS + (TypeError,)


@contextmanager
def quiet():
    """Once around a whole check (not per evaluation): numpy's floating-point warnings off,
    a ComplexWarning (an imaginary part cast away) raised so that it can be seen."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        yield


class FunctionBug(Exception):
    """f raised at a perturbed point something that does not mean "outside my domain"."""

    def __init__(self, error: BaseException, where: str):
        super().__init__(f"{type(error).__name__}: {error}" if str(error)
                         else type(error).__name__)
        self.error, self.where = error, where


class Function:
    """f (scalar- or array-valued), called at perturbed points: a domain error, a non-finite
    value or one of the wrong shape is None; another exception is a :class:`FunctionBug`.
    Call inside :func:`quiet`."""

    def __init__(self, f, out_shape: tuple = ()):
        self.f, self.out_shape = f, tuple(out_shape)
        self.calls = 0
        #: What the calls are for (the check sets it): calls counted per stage.
        self.stage, self.by_stage = "check", {}
        #: Round-off of f's values beyond eps |f|: eps ‖∇f ∘ x‖, the change of f under a
        #: rounding of x (backward error), large where f is ill-conditioned (a solve, a det).
        self.noise = 0.0

    def _fits(self, value: np.ndarray) -> bool:
        return (value.size == 1 if not self.out_shape else value.shape == self.out_shape) \
            and np.issubdtype(value.dtype, np.number)

    def _count(self) -> None:
        self.calls += 1
        self.by_stage[self.stage] = self.by_stage.get(self.stage, 0) + 1

    def real(self, y: np.ndarray):
        self._count()
        try:
            value = np.asarray(self.f(y))
        except DOMAIN_ERRORS:
            return None
        except Exception as error:  # noqa: BLE001 - named, not hidden: see FunctionBug
            raise FunctionBug(error, "real step") from error
        if not self._fits(value) or np.iscomplexobj(value):
            return None
        if self.out_shape:
            value = value.astype(float)
            return value if np.all(np.isfinite(value)) else None
        value = float(value.item())
        return value if math.isfinite(value) else None

    def complex(self, z: np.ndarray):
        """f(z) when the imaginary part survives (f accepts complex input, returns it)."""
        self._count()
        try:
            value = np.asarray(self.f(z))
        except COMPLEX_REFUSALS:
            return None
        except Exception as error:  # noqa: BLE001
            raise FunctionBug(error, "complex step") from error
        if not self._fits(value) or not np.iscomplexobj(value):
            return None
        if self.out_shape:
            return value if np.all(np.isfinite(value)) else None
        value = complex(value.item())
        return value if cmath.isfinite(value) else None



class Projection(Function):
    """The scalar ⟨weights, F⟩ of an array-valued F (its calls counted on F): for random
    weights F is analytic where this is, so the complex-step probes run on it."""

    def __init__(self, inner: Function, weights: np.ndarray):
        super().__init__(None)
        self.inner, self.weights = inner, weights

    def real(self, y):
        value = self.inner.real(y)
        return None if value is None else float(np.sum(self.weights * value))

    def complex(self, z):
        value = self.inner.complex(z)
        return None if value is None else complex(np.sum(self.weights * value))


# ------------------------------------------------------------ the numeric core: slopes

@dataclass
class Slope:
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
    size = np.maximum.reduce([np.abs(g0)] + [np.abs(v) for v in values])
    # (64*4 + 20*2 + 1)/45 ~ 6.6, twice for f's own rounding; noise: see Function.noise
    round_off = 14 * (_EPS * size + noise) / h
    jumps = [(gp1 + gm1 - 2 * g0) / h, (gp2 + gm2 - 2 * g0) / (h / 2),
             (gp3 + gm3 - 2 * g0) / (h / 4)]
    return estimate, np.abs(r2 - r1), round_off, jumps, size


def central_slope(g, g0: float, h0: float, ladder: bool = True,
                   noise: float = 0.0) -> Slope:
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
        return Slope(float("nan"), float("inf"), h, "blocked", True, blocked_at)
    estimate, truncation, round_off, jumps, size = _richardson3(values, g0, h, noise)
    slope = Slope(estimate, truncation + round_off, h, "smooth", shrunk, blocked_at)
    # Kink test at the first steps (before refinement pushes the steps into the noise).
    level_noise = [8 * (_EPS * size + noise) / (h / 2 ** k) for k in range(3)]
    k1, k2 = 2 * jumps[1] - jumps[0], 2 * jumps[2] - jumps[1]   # the jump, curvature removed
    one_sided = abs(values[4] - g0) / (h / 4) + abs(g0 - values[5]) / (h / 4)
    if ladder and np.ndim(estimate) == 0 \
            and abs(k2) > 8 * (2 * level_noise[2] + level_noise[1]) + 1e-10 * one_sided \
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
        agree = np.all(np.abs(candidate[0] - estimate)
                       <= SAFETY * (truncation + round_off + candidate[1] + candidate[2]))
        if agree and np.max(candidate[1] + candidate[2]) >= np.max(truncation + round_off):
            break
        h = h / 8
        estimate, truncation, round_off, jumps, size = candidate
        if agree and np.all(truncation <= 10 * round_off):
            break
    return Slope(estimate, truncation + round_off, h, "smooth", shrunk, blocked_at)


def _ladder(g, g0: float, s0: float, coarse: Slope, f_noise: float = 0.0) -> Slope:
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
        return Slope(value, error, step, kind, coarse.shrunk, coarse.blocked_at, right, left)

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
            return Slope(curved.value, curved.error, curved.step, "curved", coarse.shrunk,
                          coarse.blocked_at, result("", level=level).right,
                          result("", level=level).left)
    peak = max(abs(k) for k in ks[: (usable[-1] + 1) if usable else 2])
    small = [abs(k) <= 1e-3 * peak or 4 * n > 1e-3 * peak for k, n in zip(ks, noise_k)]
    vanished = [m for m in range(1, len(ks)) if all(small[m:])  # and stays gone
                and abs(ks[m]) <= 1e-3 * peak and 4 * noise_k[m] <= 1e-3 * peak]
    if vanished:  # the jump is gone at small steps: a kink a little away from x
        refined = central_slope(g, g0, steps[vanished[0]], ladder=False, noise=f_noise)
        if refined.kind == "smooth":
            return Slope(refined.value, refined.error, refined.step, "moved", coarse.shrunk,
                          coarse.blocked_at)
    head = [k for k in ks[:4] if k != 0]
    if any(a * b < 0 for a, b in zip(head, head[1:])):
        return coarse  # the "jump" changes sign from step to step: it is noise in f
    if all(abs(k) <= 1e-6 * (abs(r) + abs(l)) for k, r, l in zip(ks, rights, lefts)):
        return coarse  # a wandering jump a millionth of the slope: noise, not structure
    undecided = result("undecided", level=usable[-1] if usable else 0)
    undecided.error = max(coarse.error, abs(undecided.right - undecided.left) / 2)
    return undecided


def _curved(slopes, noise, coarse: Slope, steps) -> Slope:
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
    return Slope(best[1], best[0], best[2], "curved", coarse.shrunk, coarse.blocked_at)


# --------------------------------------------------------- directional derivatives

def unit(rng: np.random.Generator, shape) -> np.ndarray:
    """A random direction, entries uniform in [-1, 1] (a continuous law: it is orthogonal
    to a given nonzero vector with probability 0)."""
    direction = rng.random(shape)
    direction *= 2   # in place: the same numbers as rng.random(shape) * 2 - 1, one array
    direction -= 1
    peak = max(float(np.max(direction)), -float(np.min(direction)), _TINY)
    direction /= peak
    return direction


def step_scale(x: np.ndarray) -> float:
    """The size of x's entries (1 for x = 0): steps are relative to it."""
    return float(np.max(np.abs(x))) or 1.0


def complex_slope(loss: Function, base: np.ndarray, direction, step=COMPLEX_STEP):
    point = np.empty(np.shape(base), dtype=complex)
    point.real, point.imag = base, step * direction
    value = loss.complex(point)
    return None if value is None else value.imag / step


def directional(loss: Function, method: str, base: np.ndarray, direction: np.ndarray,
                 f_base: float, scale: float) -> Slope:
    """The derivative of f at ``base`` along ``direction`` (entries at most 1 in size)."""
    if method == "complex-step":
        value = complex_slope(loss, base, direction)
        if value is None:
            return Slope(float("nan"), float("inf"), COMPLEX_STEP, "blocked")
        return Slope(value, 4 * _EPS * abs(value), COMPLEX_STEP)
    return central_slope(lambda t: loss.real(base + t * direction), f_base,
                          CENTRAL_STEP * scale, noise=loss.noise)


def sensitivity(loss: Function, x: np.ndarray, f0: float, scale: float,
                 rng: np.random.Generator) -> float:
    """‖∇f ∘ x‖₂, roughly: the derivative along x∘s for s uniform in [-1, 1] has mean
    square ‖∇f ∘ x‖² / 3 (two draws, the larger, with a factor 2 to spare)."""
    largest = 0.0
    for _ in range(2):
        direction = x * (rng.random(x.shape) * 2 - 1)
        peak = float(np.max(np.abs(direction)))
        if peak == 0:
            continue
        slope = central_slope(lambda t: loss.real(x + t * direction / peak), f0,
                               CENTRAL_STEP * scale, ladder=False)
        if math.isfinite(slope.value):
            largest = max(largest, abs(slope.value) * peak)
    return 2 * math.sqrt(3) * largest


def curvature_scale(loss: Function, method: str, x: np.ndarray, f0: float, scale: float,
                     rng: np.random.Generator) -> float:
    """xi |u' H w| for random u, w: the size of the terms whose round-off remains of a
    gradient computed at a point where it vanishes (a change of x of relative size eps
    moves the gradient by about eps times this)."""
    u, w = unit(rng, x.shape), unit(rng, x.shape)
    here = directional(loss, method, x, u, f0, scale)
    if not math.isfinite(here.value):
        return 0.0
    eta = 1e-6 if method == "complex-step" else 1e-5
    for _ in range(4):
        moved = x + eta * scale * w
        f_moved = loss.real(moved)
        if f_moved is not None:
            there = directional(loss, method, moved, u, f_moved, scale)
            if math.isfinite(there.value) and there.kind in ("smooth", "moved"):
                change = abs(there.value - here.value) - SAFETY * (here.error + there.error)
                return max(change, 0.0) / eta
        eta /= 10
    return 0.0


def _contour_slope(loss: Function, x: np.ndarray, u: np.ndarray, scale: float,
                   noise: float) -> Slope | None:
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
        slope = Slope(fine.real, error, r)
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


def complex_step_is_valid(loss: Function, x: np.ndarray, f0: float, scale: float,
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
    u, v, w = unit(rng, x.shape), unit(rng, x.shape), unit(rng, x.shape)
    a = complex_slope(loss, x, u)
    if a is None:
        return False, 0.0, 0.0
    others = [complex_slope(loss, x, u, step) for step in PROBE_STEPS]
    b, both = complex_slope(loss, x, v), complex_slope(loss, x, u + v)
    minus = [complex_slope(loss, x, -u, step) for step in (COMPLEX_STEP, PROBE_STEPS[-1])]
    eta = 1e-9
    moved = [complex_slope(loss, x + sign * eta * scale * w, u) for sign in (1, -1)]
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
        reference = central_slope(lambda t: loss.real(x + t * u), f0, CENTRAL_STEP * scale,
                                   noise=noise)
        if reference.kind in ("kink", "blocked"):
            return False, curvature, 0.0
    floor = 1e3 * _EPS * size + 100 * _EPS * curvature
    if abs(reference.value - a) > 2 * reference.error + floor:
        return False, curvature, 0.0
    return True, curvature, max(2 * reference.error, abs(reference.value - a)) + floor


# ------------------------------------------------------------- the method, every entry

def choose_method(loss: Function, x: np.ndarray, f0: float, scale: float,
                  rng: np.random.Generator, method: str) -> tuple[str, float | None, float]:
    """(method, curvature scale or None, margin): "auto" becomes the complex step where it
    is valid at x (:func:`complex_step_is_valid`), else central differences."""
    if method != "auto":
        return method, None, 0.0
    valid, curvature, margin = complex_step_is_valid(loss, x, f0, scale, rng)
    return ("complex-step" if valid else "central-difference"), curvature, margin


def entry_slopes(loss: Function, method: str, x: np.ndarray, f0, scale: float):
    """The derivative of f along every entry of x: (values, error estimates, slopes), the
    values of shape ``x.shape + f's shape``; slopes (central differences only) say what is
    known of each; None when an entry refuses the complex step the probes accepted."""
    out = loss.out_shape
    numeric, error = np.empty(x.shape + out), np.empty(x.shape + out)
    flat_numeric = numeric.reshape((x.size,) + out)
    flat_error = error.reshape((x.size,) + out)
    if method == "complex-step":
        z = x.astype(complex)
        for j in range(x.size):
            w = z.copy()
            w.flat[j] += 1j * COMPLEX_STEP
            value = loss.complex(w)
            if value is None:
                return None
            flat_numeric[j] = np.imag(value) / COMPLEX_STEP
        error[...] = 4 * EPS * np.abs(numeric)
        return numeric, error, None
    slopes = []
    for j in range(x.size):
        def g(t, j=j):
            y = x.copy()
            y.flat[j] += t
            return loss.real(y)
        slope = central_slope(g, f0, CENTRAL_STEP * max(abs(x.flat[j]), 0.1 * scale),
                              noise=loss.noise)
        slopes.append(slope)
        flat_numeric[j], flat_error[j] = slope.value, slope.error
    return numeric, error, slopes
