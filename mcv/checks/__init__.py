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

from mcv.checks.core import (CENTRAL_STEP, COMPLEX_STEP, DEFAULT_RTOL, FAST_PROBES, FAST_SIZE,
                             FLOOR_FACTOR, PROBE_RTOL, PROBE_STEPS, SAFETY)
from mcv.checks.diagnoses import REGISTRY, Diagnosis, words_table
from mcv.checks.gradient import assert_gradient, check_gradient
from mcv.checks.hessian import HESSIAN_RTOL, assert_hessian, check_hessian
from mcv.checks.jacobian import JACOBIAN_RTOL, check_jacobian, commutation
from mcv.checks.mistakes import relative_error
from mcv.checks.report import CheckReport, GradientReport, Verdict

__all__ = ["CheckReport", "GradientReport", "Verdict", "Diagnosis", "REGISTRY", "words_table",
           "check_gradient", "assert_gradient", "check_hessian", "assert_hessian",
           "check_jacobian", "commutation", "JACOBIAN_RTOL",
           "relative_error", "DEFAULT_RTOL", "HESSIAN_RTOL", "FAST_SIZE", "FAST_PROBES",
           "COMPLEX_STEP", "PROBE_STEPS", "PROBE_RTOL", "CENTRAL_STEP", "SAFETY",
           "FLOOR_FACTOR"]
