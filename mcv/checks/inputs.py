"""Bad input, named: what the checks refuse before any differentiation (a TypeError or
ValueError saying what was expected, what came, and the fix)."""

from __future__ import annotations

import numpy as np

__all__ = ["validated_point", "validate_options", "real_scalar", "claim_array"]


def validated_point(x) -> np.ndarray:
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
        first = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
        raise ValueError(f"x contains non-finite values (first at entry "
                         f"{first[0] if len(first) == 1 else first})")
    return x.copy()  # f and grad may not modify the caller's x


def validate_options(rtol, method, mode="auto") -> None:
    if method not in ("auto", "complex-step", "central-difference"):
        raise ValueError(f"method must be 'auto', 'complex-step' or 'central-difference', "
                         f"not {method!r}")
    if mode not in ("auto", "full", "fast"):
        raise ValueError(f"mode must be 'auto', 'full' or 'fast', not {mode!r}")
    if rtol is not None and not (np.isfinite(rtol) and rtol > 0):
        raise ValueError(f"rtol must be a positive finite number, not {rtol!r}")


def real_scalar(f, x: np.ndarray) -> float:
    value = np.asarray(f(x.copy()))
    if value.size != 1:
        raise TypeError(f"f(x) must return a real scalar (the loss), but it returned an array "
                        f"of shape {value.shape}")
    if not np.issubdtype(value.dtype, np.number) or np.iscomplexobj(value):
        raise TypeError(f"f(x) must return a real scalar, but it returned dtype {value.dtype}")
    if not np.isfinite(value):
        raise ValueError(f"f(x) is not finite ({value.item()}) at this x")
    return float(value.item())


def claim_array(claim, x: np.ndarray, what: str = "grad(x)", expected: str = "") -> np.ndarray:
    if claim is None:
        expected = expected or f"the claimed gradient, an array of x's shape {x.shape}"
        raise TypeError(f"{what} returned None; it must return {expected}")
    claim = np.asarray(claim)
    if claim.dtype == object:
        raise TypeError(f"{what} must return an array of numbers, not of Python objects "
                        "(a sympy expression? convert it with np.array(..., dtype=float))")
    return claim
