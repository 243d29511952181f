"""Tests of check_hessian: true Hessians of the book's losses pass on random non-square shapes,
each kind of wrong claim fails with its diagnosis, bad input is refused by name."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from checks import assert_hessian, check_hessian

sizes = st.integers(min_value=1, max_value=5)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


@st.composite
def problems(draw):
    """(name, gradient, true Hessian in column-stacked vec order, point) of a book loss."""
    m, n = draw(sizes), draw(sizes)
    n += m == n  # never square: a Kronecker order or transpose mistake must show
    rng = np.random.default_rng(draw(seeds))
    A, b = rng.standard_normal((m, n)), rng.standard_normal(m)
    u, v, X = rng.standard_normal(n), rng.standard_normal(m), rng.standard_normal((n, 4))
    battery = {
        "||Ax - b||^2 in x": (lambda x: 2 * A.T @ (A @ x - b), lambda x: 2 * A.T @ A,
                              rng.standard_normal(n)),
        "||Wu - v||^2 in W": (lambda W: 2 * np.outer(W @ u - v, u),
                              lambda W: 2 * np.kron(np.outer(u, u), np.eye(m)),
                              rng.standard_normal((m, n))),
        "||WX - Y||^2 in W": (lambda W: 2 * (W @ X - A @ X) @ X.T,
                              lambda W: 2 * np.kron(X @ X.T, np.eye(m)),
                              rng.standard_normal((m, n))),
        "sum exp(x)": (np.exp, lambda x: np.diag(np.exp(x)), rng.standard_normal(n)),
        "||x|| (not analytic)": (lambda x: x / np.linalg.norm(x),
                                 lambda x: (np.eye(n) - np.outer(x, x) / (x @ x))
                                 / np.linalg.norm(x), rng.standard_normal(n) + 0.5),
    }
    name = draw(st.sampled_from(sorted(battery)))
    return (name, *battery[name])


@given(problems())
def test_true_hessians_are_verified(problem):
    name, grad, hess, x = problem
    report = check_hessian(grad, hess, x)
    assert report.ok, (name, str(report))
    expected = "central-difference" if "not analytic" in name else "complex-step"
    assert report.method == expected


@given(problems())
def test_wrong_hessians_are_rejected_and_named(problem):
    name, grad, hess, x = problem
    wrong = {
        "half": (lambda x: hess(x) / 2, "1/2 × the Hessian"),
        "sign": (lambda x: -hess(x), "wrong sign"),
        "shape": (lambda x: np.diag(hess(x)), "a row and a column per entry"),
    }
    if not np.allclose(hess(x), 0):
        for kind, (claim, expected) in wrong.items():
            report = check_hessian(grad, claim, x)
            assert not report.ok and expected in report.diagnosis, (name, kind, report.diagnosis)


def test_a_non_symmetric_claim_is_named():
    A = np.random.default_rng(0).standard_normal((4, 3))
    grad = lambda x: 2 * A.T @ A @ x
    report = check_hessian(grad, lambda x: 2 * A.T @ A + np.triu(np.ones((3, 3)), 1), np.ones(3))
    assert not report.ok and report.diagnosis.startswith("the claimed Hessian is not symmetric")


def test_a_kronecker_product_in_the_wrong_order_is_named():
    rng = np.random.default_rng(1)
    u, v, W = rng.standard_normal(4), rng.standard_normal(3), rng.standard_normal((3, 4))
    grad = lambda W: 2 * np.outer(W @ u - v, u)
    report = check_hessian(grad, lambda W: 2 * np.kron(np.eye(3), np.outer(u, u)), W)
    assert not report.ok and "row-major vec order" in report.diagnosis


def test_a_missing_term_is_named():
    rng = np.random.default_rng(2)
    A, x = rng.standard_normal((4, 3)), rng.standard_normal(3)
    grad = lambda x: 2 * A.T @ A @ x + np.exp(x)                 # Hessian: 2A'A + diag(exp x)
    report = check_hessian(grad, lambda x: 2 * A.T @ A, x)
    assert not report.ok and "a term is probably missing" in report.diagnosis


def test_assert_hessian_raises_with_the_diagnosis():
    grad = lambda x: 3 * x ** 2
    with pytest.raises(AssertionError, match="wrong sign"):
        assert_hessian(grad, lambda x: -np.diag(6 * x), np.array([1.0, 2.0]))
    assert assert_hessian(grad, lambda x: np.diag(6 * x), np.array([1.0, 2.0])).ok


@pytest.mark.parametrize("grad, x, error, message", [
    (lambda x: 2 * x, [1.0, 2.0], TypeError, "numpy array of float64"),
    (lambda x: 2 * x, np.array([1.0, np.nan]), ValueError, "non-finite"),
    (lambda x: np.sum(x), np.ones(3), TypeError, "grad\\(x\\) must return a real array"),
])
def test_bad_input_is_refused_by_name(grad, x, error, message):
    with pytest.raises(error, match=message):
        check_hessian(grad, lambda x: 2 * np.eye(3), x)


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="method must be"):
        check_hessian(lambda x: 2 * x, lambda x: 2 * np.eye(2), np.ones(2), method="newton")
