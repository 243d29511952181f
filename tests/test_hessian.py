"""Tests of check_hessian: true Hessians of the book's losses pass on random non-square shapes,
each kind of wrong claim fails with its diagnosis, bad input is refused by name."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mcv.checks import SAFETY, assert_hessian, check_hessian

sizes = st.integers(min_value=1, max_value=5)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
fast = settings(max_examples=25, deadline=None)


def vec(M):
    """The book's vec: the columns stacked (order='F')."""
    return M.ravel(order="F")


@st.composite
def non_square(draw, least=1):
    """(m, n) with m != n and both at least `least`."""
    m, n = draw(st.integers(least, 5)), draw(st.integers(least, 5))
    return m, n + (m == n)


@st.composite
def problems(draw):
    """(name, gradient, true Hessian in column-stacked vec order, point) of a book loss."""
    m, n = draw(non_square())  # never square: a Kronecker order or transpose mistake must show
    rng = np.random.default_rng(draw(seeds))
    A, b = rng.standard_normal((m, n)), rng.standard_normal(m)
    u, v, X = rng.standard_normal(n), rng.standard_normal(m), rng.standard_normal((n, 4))
    Xr = rng.standard_normal((6, n))                      # samples as rows, N = 6
    M_in = rng.standard_normal((7, m))                    # the composite layer's inputs
    Y = rng.uniform(-0.9, 0.9, (7, n))

    def tanh_gradient(T):
        H = np.tanh(M_in @ T)
        return M_in.T @ ((H - Y) * (1 - H ** 2))

    def tanh_hessian(T):
        H = np.tanh(M_in @ T)
        weights = (1 - H ** 2) ** 2 + (H - Y) * (-2 * H * (1 - H ** 2))
        lift = np.kron(np.eye(n), M_in)
        return lift.T @ np.diag(vec(weights)) @ lift

    battery = {
        "||b - a||^2 in a": (lambda a: 2 * (a - b), lambda a: 2 * np.eye(m),
                             rng.standard_normal(m)),
        "||Ax - b||^2 in x": (lambda x: 2 * A.T @ (A @ x - b), lambda x: 2 * A.T @ A,
                              rng.standard_normal(n)),
        "||Wu - v||^2 in W": (lambda W: 2 * np.outer(W @ u - v, u),
                              lambda W: 2 * np.kron(np.outer(u, u), np.eye(m)),
                              rng.standard_normal((m, n))),
        "||WX - Y||^2 in W": (lambda W: 2 * (W @ X - A @ X) @ X.T,
                              lambda W: 2 * np.kron(X @ X.T, np.eye(m)),
                              rng.standard_normal((m, n))),
        "||Xr V - Yr||^2 in V": (lambda V: 2 * Xr.T @ (Xr @ V - Xr @ A.T),
                                 lambda V: 2 * np.kron(np.eye(m), Xr.T @ Xr),
                                 rng.standard_normal((n, m))),
        "1/2||tanh(X T) - Y||^2 in T": (tanh_gradient, tanh_hessian,
                                        rng.standard_normal((m, n))),
        "sum exp(x)": (np.exp, lambda x: np.diag(np.exp(x)), rng.standard_normal(n)),
        "||x|| (not analytic)": (lambda x: x / np.linalg.norm(x),
                                 lambda x: (np.eye(n) - np.outer(x, x) / (x @ x))
                                 / np.linalg.norm(x), rng.standard_normal(n) + 0.5),
    }
    name = draw(st.sampled_from(sorted(battery)))
    return (name, *battery[name])


@fast
@given(problems())
def test_true_hessians_are_verified(problem):
    name, grad, hess, x = problem
    report = check_hessian(grad, hess, x)
    assert report.ok, (name, str(report))
    expected = "central-difference" if "not analytic" in name else "complex-step"
    assert report.method == expected
    # every entry within SAFETY times its error estimate plus rtol times the largest entry
    allowed = SAFETY * report.numeric_error + report.rtol * np.max(np.abs(report.numeric))
    assert np.all(np.abs(report.claimed - report.numeric) <= allowed)
    assert report.numeric.shape == (x.size, x.size)


@fast
@given(problems())
def test_wrong_hessians_are_rejected_and_named(problem):
    name, grad, hess, x = problem
    wrong = {
        "half": (lambda x: hess(x) / 2, "factor", "1/2 × the Hessian"),
        "sign": (lambda x: -hess(x), "sign", "wrong sign"),
        "shape": (lambda x: np.diag(hess(x)), "hessian-shape", "a row and a column per entry"),
        "zero": (lambda x: 0 * hess(x), "zero", "zero everywhere"),
    }
    if not np.allclose(hess(x), 0):
        for kind, (claim, code, expected) in wrong.items():
            report = check_hessian(grad, claim, x)
            assert not report.ok and report.codes == (code,), (name, kind, report.codes)
            assert expected in report.diagnosis, (name, kind, report.diagnosis)


@fast
@given(non_square(least=2), seeds)
def test_vec_of_a_product_is_the_kronecker_product(shape, seed):
    """vec(AXB) = (B' kron A) vec(X), the identity every matrix Hessian rests on."""
    m, n = shape
    rng = np.random.default_rng(seed)
    A, X, B = (rng.standard_normal(s) for s in [(m + 1, m), (m, n), (n, n + 2)])
    assert np.allclose(vec(A @ X @ B), np.kron(B.T, A) @ vec(X), rtol=1e-12, atol=1e-12)
    assert not np.allclose(vec(A @ X @ B)[: m + 1], (np.kron(A, B.T) @ vec(X))[: m + 1])


@fast
@given(non_square(least=2), seeds, st.sampled_from([1.0, 0.5, -1.0, 2.0]))
def test_a_kronecker_product_in_the_wrong_order_is_named(shape, seed, factor):
    """2(uu' kron I) is the Hessian in vec(W); 2(I kron uu') numbers W's entries row by row."""
    m, n = shape
    rng = np.random.default_rng(seed)
    u, v, W = rng.standard_normal(n), rng.standard_normal(m), rng.standard_normal((m, n))
    grad = lambda W: 2 * np.outer(W @ u - v, u)
    report = check_hessian(grad, lambda W: factor * 2 * np.kron(np.eye(m), np.outer(u, u)), W)
    assert not report.ok and "row-major vec order" in report.diagnosis, report.diagnosis
    assert ("constant factor" in report.diagnosis or "wrong sign" in report.diagnosis) \
        == (factor != 1.0), report.diagnosis


@fast
@given(non_square(least=2), seeds)
def test_a_four_index_array_is_told_to_reshape(shape, seed):
    m, n = shape
    rng = np.random.default_rng(seed)
    u, v, W = rng.standard_normal(n), rng.standard_normal(m), rng.standard_normal((m, n))
    grad = lambda W: 2 * np.outer(W @ u - v, u)
    tensor = 2 * np.einsum("pr,qs->pqrs", np.eye(m), np.outer(u, u))   # d2L/dw_pq dw_rs
    report = check_hessian(grad, lambda W: tensor, W)
    assert not report.ok and "order='F'" in report.diagnosis, report.diagnosis
    assert check_hessian(grad, lambda W: tensor.reshape(m * n, m * n, order="F"), W).ok


@fast
@given(non_square(), seeds)
def test_a_non_symmetric_claim_is_named(shape, seed):
    m, n = shape
    A = np.random.default_rng(seed).standard_normal((m, n))
    grad = lambda x: 2 * A.T @ A @ x
    claim = 2 * A.T @ A + np.triu(np.ones((n, n)), 1)
    report = check_hessian(grad, lambda x: claim, np.ones(n))
    if n > 1:
        assert not report.ok
        assert report.diagnosis.startswith("the claimed Hessian is not symmetric")


@fast
@given(non_square(least=2), seeds)
def test_an_unsymmetrised_second_differential_is_named(shape, seed):
    """d2 tr(X'AX) = 2 tr(dX' A dX) gives B = 2(I kron A); the Hessian is I kron (A + A')."""
    m, n = shape
    rng = np.random.default_rng(seed)
    A, X = rng.standard_normal((m, m)), rng.standard_normal((m, n))
    grad = lambda X: (A + A.T) @ X
    assert check_hessian(grad, lambda X: np.kron(np.eye(n), A + A.T), X).ok
    report = check_hessian(grad, lambda X: 2 * np.kron(np.eye(n), A), X)
    assert not report.ok and "symmetric part" in report.diagnosis, report.diagnosis


@fast
@given(non_square(least=2), seeds)
def test_a_grad_that_is_no_gradient_is_named(shape, seed):
    """2AX is the gradient of tr(X'AX) only for symmetric A; otherwise it is no gradient."""
    m, n = shape
    rng = np.random.default_rng(seed)
    A, X = rng.standard_normal((m, m)), rng.standard_normal((m, n))
    report = check_hessian(lambda X: 2 * A @ X, lambda X: np.kron(np.eye(n), 2 * A), X)
    assert not report.ok and report.diagnosis.startswith("grad is not the gradient"), report


def test_a_missing_term_is_named():
    rng = np.random.default_rng(2)
    A, x = rng.standard_normal((4, 3)), rng.standard_normal(3)
    grad = lambda x: 2 * A.T @ A @ x + np.exp(x)                 # Hessian: 2A'A + diag(exp x)
    report = check_hessian(grad, lambda x: 2 * A.T @ A, x)
    assert not report.ok and "a term is probably missing" in report.diagnosis


def test_the_gauss_newton_part_alone_is_not_the_hessian():
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((6, 2)), rng.uniform(-0.9, 0.9, (6, 3))
    T = rng.standard_normal((2, 3))
    lift = np.kron(np.eye(3), X)

    def gradient(T):
        H = np.tanh(X @ T)
        return X.T @ ((H - Y) * (1 - H ** 2))

    gauss_newton = lambda T: lift.T @ np.diag(vec((1 - np.tanh(X @ T) ** 2) ** 2)) @ lift
    report = check_hessian(gradient, gauss_newton, T)
    assert not report.ok and "a term is probably missing" in report.diagnosis


def test_assert_hessian_raises_with_the_diagnosis():
    grad = lambda x: 3 * x ** 2
    with pytest.raises(AssertionError, match="wrong sign"):
        assert_hessian(grad, lambda x: -np.diag(6 * x), np.array([1.0, 2.0]))
    assert assert_hessian(grad, lambda x: np.diag(6 * x), np.array([1.0, 2.0])).ok


def test_the_caller_point_is_not_modified():
    x = np.array([1.0, -2.0, 0.5])
    before = x.copy()

    def grad(y):
        g = 2 * y
        y += 1.0                                    # a careless grad mutating its input
        return g

    assert check_hessian(grad, lambda y: 2 * np.eye(3), x).ok
    assert np.array_equal(x, before)


@pytest.mark.parametrize("grad, x, error, message", [
    (lambda x: 2 * x, [1.0, 2.0], TypeError, "numpy array of float64"),
    (lambda x: 2 * x, np.array([1.0, np.nan]), ValueError, "non-finite"),
    (lambda x: 2 * x, np.array([1, 2, 3]), TypeError, "float64"),
    (lambda x: np.sum(x), np.ones(3), TypeError, "grad\\(x\\) must return a real array"),
    (lambda x: 2 * x[:2], np.ones(3), TypeError, "grad\\(x\\) must return a real array"),
])
def test_bad_input_is_refused_by_name(grad, x, error, message):
    with pytest.raises(error, match=message):
        check_hessian(grad, lambda x: 2 * np.eye(3), x)


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="method must be"):
        check_hessian(lambda x: 2 * x, lambda x: 2 * np.eye(2), np.ones(2), method="newton")
    with pytest.raises(ValueError, match="rtol must be"):
        check_hessian(lambda x: 2 * x, lambda x: 2 * np.eye(2), np.ones(2), rtol=-1.0)


def test_a_forced_complex_step_on_a_non_analytic_gradient_is_refused():
    with pytest.raises(ValueError, match="complex"):
        check_hessian(lambda x: np.abs(x), lambda x: np.eye(2), np.ones(2),
                      method="complex-step")
