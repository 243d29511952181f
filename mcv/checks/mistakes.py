"""Which mistake a rejected claim makes: the checks call these to name it, as a
:class:`~mcv.checks.diagnoses.Diagnosis` (a code and its numbers; the words live in
:data:`~mcv.checks.diagnoses.REGISTRY`).

A claim is compared with transforms of the numeric gradient (its transpose, multiples, the
symmetric conventions), seen entry by entry (:class:`FullReference`) or through random
directions (:class:`FastReference`: ⟨transform(G), v⟩ = ⟨G, adjoint(v)⟩).
"""

from __future__ import annotations

import math

import numpy as np

from mcv.checks.core import (FAST_PROBES, SAFETY, TINY, Function, FunctionBug, Projection,
                             choose_method, directional, step_scale, unit)
from mcv.checks.diagnoses import Diagnosis

__all__ = ["FullReference", "FastReference", "index", "factor", "value_diagnosis", "locate",
           "not_a_gradient_field", "shape_diagnosis", "hessian_value_diagnosis", "relative_error",
           "proportionality"]

D = Diagnosis.of


def index(position) -> tuple[int, ...] | int:
    """A position as the reader indexes: an int for a vector, a tuple otherwise."""
    position = tuple(int(p) for p in position)
    if len(position) == 0:
        return ()
    return position[0] if len(position) == 1 else position


def relative_error(claimed: np.ndarray, numeric: np.ndarray) -> float:
    """``max|claimed - numeric| / max|numeric|``, with a floor so a zero gradient is no 0/0."""
    scale = max(float(np.max(np.abs(numeric))), TINY)
    return float(np.max(np.abs(claimed - numeric)) / scale)


def factor(k: float, what: str, lead: str = "the claim ") -> Diagnosis:
    """claim = k × what: the wrong sign (k = -1) or a constant factor."""
    if abs(k + 1) < 1e-6:
        return D("sign", what=what, lead=lead)
    return D("factor", k=k, what=what, lead=lead)


def _transform(name: str, a: np.ndarray) -> np.ndarray:
    """The gradient's transforms that a mistake produces (all self-adjoint but 'T')."""
    if name == "G":
        return a
    if name == "T":
        return a.T
    diagonal = np.diag(np.diag(a))
    return {"sym": lambda: (a + a.T) / 2, "G+T-diag": lambda: a + a.T - diagonal,
            "2G-diag": lambda: 2 * a - diagonal, "2T-diag": lambda: 2 * a.T - diagonal}[name]()


class FullReference:
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


class FastReference:
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
            peak = max(float(np.max(np.abs(w))), TINY)
            slope = directional(self.loss, self.method, self.x, w / peak, self.f0, self.scale)
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


# ------------------------------------------------------------ a claim of the right shape

_CONVENTIONS = [("G+T-diag", "G + Gᵀ - diag(G) for the gradient G"),
                ("2G-diag", "2G - diag(G) for the gradient G"),
                ("2T-diag", "2Gᵀ - diag(G) for the gradient G")]


def value_diagnosis(claimed, ref, allowed, grad, x) -> tuple[Diagnosis, ...]:
    """Name the mistake of a claim of the right shape that is not the gradient: the most
    specific diagnosis first (zero, transpose, factor, a symmetric convention, where the error
    lives), then what supports it (the claim is no gradient field, when that is established
    by a valid method)."""
    what = "the gradient"
    if not np.any(claimed):
        return (D("zero", what=what),)
    square = claimed.ndim == 2 and claimed.shape[0] == claimed.shape[1]
    symmetric = square and ref.symmetric()
    if square and not symmetric:
        k = ref.fit(claimed, "T")
        if k is not None:
            return (D("transpose", what=what,
                      factor=None if abs(k - 1) < 1e-6 else factor(k, "it", lead="")),)
    k = ref.fit(claimed, "G")
    if k is not None and abs(k - 1) < 1e-6:
        return (_close(claimed, ref, allowed),)
    if k is not None:
        return (factor(k, what),)
    if square:
        for name, formula in _CONVENTIONS:
            k = ref.fit(claimed, name)
            if k is not None and abs(k - 1) < 1e-6:
                return (D("symmetric-convention", formula=formula),)
        if not symmetric:
            k = ref.fit(claimed, "sym")
            if k is not None:
                return (D("symmetric-part", factor=None if abs(k - 1) < 1e-6
                          else factor(k, "that part")),)
    if isinstance(ref, FullReference):
        headline = locate(claimed, ref.numeric, allowed, x)
    else:
        headline = D("other-term-fast", what=what, probes=FAST_PROBES)
    curl = not_a_gradient_field(grad, x)
    return (headline,) if curl is None else (headline, curl)


def locate(claimed: np.ndarray, numeric: np.ndarray, allowed: np.ndarray,
           x: np.ndarray) -> Diagnosis:
    """Where the error D = claim - gradient lives, from the entries outside their tolerance:
    a multiple of x, a factor on the wrong entries only, the diagonal, some rows or columns,
    some entries, a rank-one D; else the entry that differs most."""
    difference = claimed - numeric
    wrong = np.abs(difference) > allowed
    count, n = int(np.count_nonzero(wrong)), claimed.size
    tight = float(np.max(allowed))
    if np.any(x):
        c = float(np.sum(difference * x) / np.sum(x * x))
        if np.all(np.abs(difference - c * x) <= allowed):
            return D("error-multiple-of-x", c=c)
    ratio = claimed[wrong] / np.where(numeric[wrong] == 0, np.nan, numeric[wrong])
    if count < n and count >= 1 and np.all(np.isfinite(ratio)) \
            and np.ptp(ratio) <= 1e-6 * np.max(np.abs(ratio)):
        return D("error-subset-factor", count=count, n=n, k=float(ratio[0]),
                 entries=_positions(wrong, 6))
    if claimed.ndim == 2 and count < n:
        m, p = claimed.shape
        diagonal = np.eye(m, p, dtype=bool)
        if m > 1 and p > 1 and not np.any(wrong & ~diagonal):
            return D("error-on-diagonal")
        rows = [int(i) for i in np.flatnonzero(np.any(wrong, axis=1))]
        columns = [int(j) for j in np.flatnonzero(np.any(wrong, axis=0))]
        if m > 1 and len(rows) < m and len(rows) <= len(columns):
            return D("error-in-rows", rows=_listed(rows), m=m)
        if p > 1 and len(columns) < p:
            return D("error-in-columns", columns=_listed(columns), p=p)
    if claimed.ndim == 1 and count < n:
        return D("error-in-entries", entries=_positions(wrong, 8), n=n)
    if claimed.ndim == 2 and min(claimed.shape) > 1:
        u, s, vt = np.linalg.svd(difference)
        rest = difference - s[0] * np.outer(u[:, 0], vt[0])
        if np.all(np.abs(rest) <= allowed) and s[0] > tight:
            return D("error-rank-one")
    worst = np.unravel_index(int(np.argmax(np.abs(difference))), claimed.shape)
    return D("other-term", what="the gradient", at=index(worst),
             claimed=float(claimed[worst]), numeric=float(numeric[worst]))


def _listed(numbers: list[int], most: int = 8) -> str:
    shown = ", ".join(map(str, numbers[:most]))
    return shown + (f" and {len(numbers) - most} more" if len(numbers) > most else "")


def _positions(mask: np.ndarray, most: int) -> str:
    return _listed([str(index(p)) for p in np.argwhere(mask)], most)


def _close(claimed, ref, allowed) -> Diagnosis:
    """A claim proportional to the gradient with factor 1, yet rejected."""
    if isinstance(ref, FullReference) and allowed is not None:
        outside = np.abs(claimed - ref.numeric) / np.maximum(allowed, TINY)
        worst = np.unravel_index(int(np.argmax(outside)), claimed.shape)
        numeric = float(ref.numeric[worst])
        own = abs(float(claimed[worst]) - numeric) / max(abs(numeric), TINY)
        if own > 1e-6:
            return D("close-entry", at=index(worst), own=own, claimed=float(claimed[worst]),
                     numeric=numeric)
    return D("close", what="the gradient")


def not_a_gradient_field(grad, x) -> Diagnosis | None:
    """The claim's Jacobian J is not symmetric (vᵀJu ≠ uᵀJv for random u, v): no function
    has it as its gradient. Both numbers come from the numeric core on ⟨v, grad⟩ and
    ⟨u, grad⟩, each by a method valid at x (the complex step only where its probes pass:
    np.sign, abs or a max at a tie would corrupt it), each with an error estimate; the
    statement is made only when they differ by more than those errors (else: None, "cannot
    tell" is not a diagnosis)."""
    if x.size < 2:
        return None
    rng = np.random.default_rng(12345)
    u, v = unit(rng, x.shape), unit(rng, x.shape)
    scale = step_scale(x)
    claim = Function(grad, x.shape)
    found = []
    for direction, weights in ((u, v), (v, u)):
        projected = Projection(claim, weights)
        try:
            value = projected.real(x)
            if value is None:
                return None
            method = choose_method(projected, x, value, scale, rng, "auto")[0]
            slope = directional(projected, method, x, direction, value, scale)
        except FunctionBug:
            return None
        if slope.kind != "smooth" or not math.isfinite(slope.value):
            return None
        found.append(slope)
    a, b = found[0].value, found[1].value
    if abs(a - b) <= SAFETY * (found[0].error + found[1].error) + 1e-9 * (abs(a) + abs(b)):
        return None
    return D("not-a-gradient-field", a=a, b=b)


# ------------------------------------------------------------ a claim of the wrong shape

def shape_diagnosis(claimed: np.ndarray, ref, shape: tuple) -> Diagnosis:
    said = dict(claimed_shape=claimed.shape, shape=shape)
    size = int(np.prod(shape))
    if claimed.size != size:
        return D("shape-size", **said)

    def values(candidate):
        k = ref.fit(candidate)
        if k is not None and abs(k - 1) < 1e-6:
            return D("values-right")
        if k is not None:
            return factor(k, "the gradient")
        return D("values-wrong")

    if [n for n in claimed.shape if n != 1] == [n for n in shape if n != 1]:
        # Only axes of length one differ: a row where a column was due, or the reverse.
        found = values(claimed.reshape(shape))
        if len(shape) == 2 and claimed.shape == shape[::-1]:
            row = claimed.shape[0] == 1
            lead = "the claim is the transpose of the gradient" + (
                f" (the Jacobian's row shape, numerator layout 1×{claimed.size})" if row else "")
            return D("shape-transposed-row", **said, lead=lead, values=found)
        if claimed.ndim == 2 and claimed.shape[0] == 1 and claimed.size > 1:
            return D("shape-row", **said, n=claimed.size, values=found)
        return D("shape-reshape", **said, values=found)
    if len(shape) == 2 and claimed.shape == shape[::-1]:
        k = ref.fit(np.ascontiguousarray(claimed.T))
        if k is not None and abs(k - 1) < 1e-6:
            return D("shape-transpose", **said)
        return D("shape-transposed-wrong", **said)
    for order, layout in (("F", "column by column (vec)"), ("C", "row by row")):
        k = ref.fit(claimed.reshape(shape, order=order))
        if k is not None and abs(k - 1) < 1e-6:
            return D("shape-layout", **said, layout=layout, order=order)
    return D("shape-wrong", **said)


# ------------------------------------------------------------------------- the Hessian

def proportionality(claimed: np.ndarray, reference: np.ndarray, tolerance: float):
    """k if claimed ≈ k · reference (to the diagnostic tolerance), else None."""
    norm = float(np.sum(reference * reference))
    if norm == 0:
        return None
    k = float(np.sum(claimed * reference) / norm)
    residual = relative_error(claimed, k * reference)
    return k if residual <= max(100 * tolerance, 1e-6) else None


def hessian_value_diagnosis(claimed: np.ndarray, numeric: np.ndarray,
                            tolerance: float) -> Diagnosis:
    """The Hessian check's diagnosis of a claim of the right shape (relative to the max)."""
    what = "the Hessian"
    if not np.any(claimed):
        return D("zero", what=what)
    square = claimed.ndim == 2 and claimed.shape[0] == claimed.shape[1]
    if square and relative_error(numeric, numeric.T) > tolerance:  # else transposing is moot
        k = proportionality(claimed, numeric.T, tolerance)
        if k is not None:
            return D("transpose", what=what,
                     factor=None if abs(k - 1) < 1e-6 else factor(k, "it", lead=""))
    k = proportionality(claimed, numeric, tolerance)
    if k is not None and abs(k - 1) < 1e-6:
        return D("close", what=what)
    if k is not None:
        return factor(k, what)
    worst = np.unravel_index(int(np.argmax(np.abs(claimed - numeric))), claimed.shape)
    return D("other-term", what=what, at=index(worst), claimed=float(claimed[worst]),
             numeric=float(numeric[worst]))
