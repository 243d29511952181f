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

import numpy as np

from mcv.checks.core import Function, Projection, choose_method, entry_slopes, step_scale

__all__ = ["NumericJacobian", "numeric_jacobian", "vec_order"]


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
