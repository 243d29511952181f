"""check_jacobian: the numeric Jacobian (numerator layout, vec stacking columns) on the
gradient check's core; right Jacobians and differentials verified on random non-square
shapes, each tempting wrong one rejected and named."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mcv.checks import check_jacobian, commutation

sizes = st.integers(2, 4)


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


@settings(max_examples=15, deadline=None)
@given(sizes, sizes, sizes, sizes, st.integers(0, 10**6))
def test_axb_in_both_forms_and_its_mistakes(m, n, p, q, seed):
    rng = np.random.default_rng(seed)
    A, B, X = rng.standard_normal((m, n)), rng.standard_normal((p, q)), \
        rng.standard_normal((n, p))
    f = lambda X: A @ X @ B  # noqa: E731
    assert check_jacobian(f, lambda X: np.kron(B.T, A), X).ok
    assert check_jacobian(f, lambda X, dX: A @ dX @ B, X, differential=True).ok
    wrong = {"jacobian-row-major": lambda X: np.kron(A, B.T),
             "factor": lambda X: 2 * np.kron(B.T, A),
             "sign": lambda X: -np.kron(B.T, A)}
    if m * q != n * p:
        wrong["jacobian-layout"] = lambda X: np.kron(B.T, A).T
    for code, claim in wrong.items():
        report = check_jacobian(f, claim, X)
        assert not report.ok and report.codes == (code,), (code, str(report))


@settings(max_examples=10, deadline=None)
@given(st.integers(2, 4), st.integers(0, 10**6))
def test_inverse_and_the_commutation_mistake(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n)) + n * np.eye(n)
    inv = np.linalg.inv
    assert check_jacobian(inv, lambda X: -np.kron(inv(X).T, inv(X)), X).ok
    assert check_jacobian(inv, lambda X, dX: -inv(X) @ dX @ inv(X), X, differential=True).ok
    report = check_jacobian(inv, lambda X, dX: -inv(X) @ dX.T @ inv(X), X,
                            differential=True)
    assert report.codes == ("jacobian-commutation",), str(report)
    K = commutation(n, n)
    assert np.allclose(K @ X.ravel(order="F"), X.T.ravel(order="F"))


@pytest.mark.parametrize("shape", [(4, 3), (3, 2)])
def test_gram_matrix_needs_both_terms(shape):
    X = np.random.default_rng(1).standard_normal(shape)
    f = lambda X: X.T @ X  # noqa: E731
    assert check_jacobian(f, lambda X, dX: dX.T @ X + X.T @ dX, X, differential=True).ok
    report = check_jacobian(f, lambda X, dX: 2 * X.T @ dX, X, differential=True)
    assert not report.ok and report.codes == ("other-term",)


def test_softmax_and_an_entrywise_function():
    z = np.random.default_rng(2).standard_normal(5)
    p = softmax(z)
    assert check_jacobian(softmax, lambda z: np.diag(softmax(z)) - np.outer(p, p), z).ok
    assert not check_jacobian(softmax, lambda z: np.diag(softmax(z)), z).ok
    Z = np.random.default_rng(3).standard_normal((2, 3))
    assert check_jacobian(np.tanh, lambda Z: np.diag((1 - np.tanh(Z) ** 2).ravel(order="F")),
                          Z).ok


def test_not_analytic_uses_central_differences_and_a_raising_claim_is_a_report():
    x = np.array([0.5, -1.5, 2.0])
    report = check_jacobian(np.abs, lambda x: np.diag(np.sign(x)), x)
    assert report.ok and report.method == "central-difference"
    report = check_jacobian(np.abs, lambda x: np.ones((2, 2)) @ np.ones(3), x)
    assert report.codes == ("jacobian-raised",)


def test_fast_mode_along_random_directions_right_and_wrong():
    """Large Jacobians are checked along random directions: a right differential passes
    without any matrix of the Jacobian's size, a factor and a missing term are caught."""
    rng = np.random.default_rng(4)
    A, B = rng.standard_normal((30, 40)), rng.standard_normal((50, 20))
    X = rng.standard_normal((40, 50))
    f = lambda X: A @ X @ B  # noqa: E731
    report = check_jacobian(f, lambda X, dX: A @ dX @ B, X, differential=True)
    assert report.ok and report.mode == "fast" and report.probes == 8
    assert check_jacobian(f, lambda X, dX: 2 * A @ dX @ B, X,
                          differential=True).codes == ("factor",)
    extra = lambda X, dX: A @ dX @ B + 1e-3 * A @ dX @ dX.T @ A.T @ A @ dX @ B  # noqa
    assert check_jacobian(f, extra, X, differential=True).codes == ("other-term-fast",)
    small = rng.standard_normal((3, 4))
    assert check_jacobian(np.tanh, lambda Z: np.diag((1 - np.tanh(Z) ** 2).ravel(
        order="F")), small, mode="fast").ok
    assert check_jacobian(np.tanh, lambda Z: np.ones((5, 5)), small,
                          mode="fast").codes == ("jacobian-shape",)


def test_a_scalar_variable():
    s = np.asarray(0.7)
    X = np.random.default_rng(0).standard_normal((2, 3))
    assert check_jacobian(lambda s: s * X, lambda s: X.ravel(order="F")[:, None], s).ok
    assert check_jacobian(lambda s: s ** 2 * X, lambda s, ds: 2 * s * ds * X, s,
                          differential=True).ok
    assert not check_jacobian(lambda s: s * X, lambda s: X.ravel()[:, None], s).ok
