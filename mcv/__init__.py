"""Matrix Calculus, Verified: check (and derive) the gradient of a loss you wrote.

    >>> import numpy as np
    >>> from mcv import check_gradient
    >>> W, u, v = np.ones((3, 4)), np.arange(4.0), np.ones(3)
    >>> check_gradient(lambda W: np.sum((W @ u - v) ** 2),
    ...                lambda W: 2 * np.outer(W @ u - v, u), W).ok
    True

The book that teaches these checks is built from the same repository; each chapter imports
this package.
"""

from mcv.checks import (DEFAULT_RTOL, CheckReport, Diagnosis, GradientReport, Verdict,
                        assert_gradient, assert_hessian, check_gradient, check_hessian)
from mcv.problem import Problem

__all__ = ["CheckReport", "GradientReport", "Verdict", "Diagnosis", "Problem",
           "check_gradient", "assert_gradient", "check_hessian", "assert_hessian",
           "DEFAULT_RTOL", "__version__"]

__version__ = "0.3.0"
