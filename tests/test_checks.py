"""Unit and property tests of mcv/checks.py: right claims pass, each kind of wrong claim
fails with the right diagnosis, bad input is refused with a message that names it."""

import re

import numpy as np
import pytest
from hypothesis import given, strategies as st

from mcv.checks import SAFETY, assert_gradient, check_gradient

sizes = st.integers(min_value=1, max_value=6)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


def non_square(draw_m, draw_n):
    """(m, n) with m != n, so a missing transpose cannot hide behind a square shape."""
    return (draw_m, draw_n + (draw_n >= draw_m)) if draw_m != draw_n else (draw_m, draw_n + 1)


@st.composite
def problems(draw):
    """A loss from a battery of the book's losses, its true gradient, and a point."""
    m, n = non_square(draw(sizes), draw(sizes))
    rng = np.random.default_rng(draw(seeds))
    A, B = rng.standard_normal((m, n)), rng.standard_normal((n, m))
    a, b = rng.standard_normal(m), rng.standard_normal(n)
    U, V = rng.standard_normal((n, 3)), rng.standard_normal((m, 3))
    battery = {
        "a'Xb": (lambda X: a @ X @ b, lambda X: np.outer(a, b)),
        "tr(BX)": (lambda X: np.trace(B @ X), lambda X: B.T),
        "||X - A||_F^2": (lambda X: np.sum((X - A) ** 2), lambda X: 2 * (X - A)),
        "||XU - V||_F^2": (lambda X: np.sum((X @ U - V) ** 2), lambda X: 2 * (X @ U - V) @ U.T),
        "1/2||tanh(XU) - V||^2": (
            lambda X: 0.5 * np.sum((np.tanh(X @ U) - V) ** 2),
            lambda X: ((np.tanh(X @ U) - V) * (1 - np.tanh(X @ U) ** 2)) @ U.T),
        "sum exp": (lambda X: np.sum(np.exp(X)), np.exp),
        "||X||_F (norm)": (lambda X: np.linalg.norm(X), lambda X: X / np.linalg.norm(X)),
        "||X||_1 (abs)": (lambda X: np.sum(np.abs(X)), np.sign),
    }
    name = draw(st.sampled_from(sorted(battery)))
    f, grad = battery[name]
    return name, f, grad, rng.standard_normal((m, n)) + 0.1  # +0.1: no entry near abs's kink


# ------------------------------------------------------------------------ right claims pass

@given(problems())
def test_true_gradients_are_verified(problem):
    name, f, grad, x = problem
    report = check_gradient(f, grad, x)
    assert report.ok, (name, str(report))
    assert report.diagnosis is None and report.verdict == "verified"
    # The per-entry rule: within the numeric error estimate plus rtol times the scale.
    allowed = (SAFETY * report.numeric_error + report.rtol * np.max(np.abs(report.numeric))
               + report.floor)
    assert np.all(np.abs(report.claimed - report.numeric) <= allowed)
    assert report.max_rel_error <= 1e-9


@given(problems())
def test_analytic_losses_use_the_complex_step_at_machine_precision(problem):
    name, f, grad, x = problem
    report = check_gradient(f, grad, x)
    if name in ("||X||_F (norm)", "||X||_1 (abs)"):
        assert report.method == "central-difference", name
    else:
        assert report.method == "complex-step", name
        assert report.max_rel_error < 1e-13, (name, report.max_rel_error)


@pytest.mark.parametrize("scale", [1e-8, 1.0, 1e8])
def test_tolerance_is_relative_to_the_gradients_size(scale):
    x = np.random.default_rng(0).standard_normal((2, 5))
    f = lambda X: scale * np.sum(X ** 2)
    assert check_gradient(f, lambda X: 2 * scale * X, x).ok
    slightly_off = lambda X: 2 * scale * X * (1 + 1e-9)
    assert not check_gradient(f, slightly_off, x).ok  # 1e-9 relative is caught at any scale


def test_x_is_not_modified_and_a_column_vector_point_works():
    x = np.arange(1.0, 5.0).reshape(4, 1)
    before = x.copy()
    report = check_gradient(lambda a: (a.T @ a).item(), lambda a: 2 * a, x)
    assert report.ok and np.array_equal(x, before)


def test_one_entry_array_is_accepted_as_the_loss():
    x = np.array([1.0, 2.0, 3.0]).reshape(3, 1)
    assert check_gradient(lambda a: a.T @ a, lambda a: 2 * a, x).ok  # f returns shape (1, 1)


# ------------------------------------------------------------- wrong claims fail, diagnosed

@given(problems())
def test_each_kind_of_wrong_claim_is_rejected_and_named(problem):
    name, f, grad, x = problem
    m, n = x.shape
    wrong = {  # kind: (claim, the diagnosis code, its words)
        "wrong sign": (lambda X: -grad(X), "sign", r"wrong sign"),
        "factor 2": (lambda X: 2 * grad(X), "factor", r"claim = 2 × the gradient"),
        "half": (lambda X: grad(X) / 2, "factor", r"claim = 1/2 × the gradient"),
        "transpose": (lambda X: grad(X).T,
                      "shape-transposed-row" if 1 in x.shape
                      else "shape-transpose" if m != n else "transpose",
                      r"the claim is the transpose of the gradient"),
        # A flattened row or column needs only a reshape; a real matrix was laid out by vec.
        "vec": (lambda X: grad(X).ravel(order="F"),
                "shape-reshape" if 1 in x.shape else "shape-layout",
                r"reshape it to x's shape" if 1 in x.shape else r"column by column \(vec\)"),
        "zero": (lambda X: np.zeros_like(X), "zero", r"zero everywhere"),
    }
    for kind, (claim, code, expected) in wrong.items():
        report = check_gradient(f, claim, x)
        assert not report.ok and report.verdict == "REJECTED", (name, kind)
        assert report.codes[0] == code, (name, kind, report.codes)
        assert re.search(expected, report.diagnosis), (name, kind, report.diagnosis)


def test_transpose_of_a_square_gradient_is_named():
    rng = np.random.default_rng(1)
    B, x = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    report = check_gradient(lambda X: np.trace(B @ X), lambda X: B, x)  # true gradient: B.T
    assert not report.ok
    assert report.codes == ("transpose",)
    assert report.diagnosis == "the claim is the transpose of the gradient"


@pytest.mark.parametrize("shape", [(5,), (5, 1)])
def test_jacobian_row_shape_is_named(shape):
    rng = np.random.default_rng(2)
    b, a = rng.standard_normal(shape), rng.standard_normal(shape)
    row = lambda a: -2 * (b - a).reshape(1, -1)
    report = check_gradient(lambda a: np.sum((b - a) ** 2), row, a)
    assert not report.ok and report.max_rel_error == float("inf")
    assert "Jacobian's row shape" in report.diagnosis
    assert "its values are right" in report.diagnosis


def test_row_shape_with_wrong_values_names_both():
    rng = np.random.default_rng(3)
    b, a = rng.standard_normal(4), rng.standard_normal(4)
    report = check_gradient(lambda a: np.sum((b - a) ** 2), lambda a: 2 * (b - a)[None, :], a)
    assert "Jacobian's row shape" in report.diagnosis and "wrong sign" in report.diagnosis


def test_missing_term_is_named_with_the_worst_entry():
    rng = np.random.default_rng(4)
    A, c, x = rng.standard_normal((3, 5)), rng.standard_normal(5), rng.standard_normal(5)
    f = lambda x: np.sum((A @ x) ** 2) + c @ x
    report = check_gradient(f, lambda x: 2 * A.T @ A @ x, x)  # forgot the linear term
    assert not report.ok
    assert "a term is probably missing" in report.diagnosis
    assert re.search(r"largest difference is at entry \d", report.diagnosis)


def test_wrong_number_of_entries_is_a_failed_check_not_a_crash():
    x = np.ones((2, 3))
    report = check_gradient(lambda X: np.sum(X ** 2), lambda X: np.ones(4), x)
    assert not report.ok and "one entry per entry of x" in report.diagnosis


def test_non_finite_or_complex_claims_fail_with_a_diagnosis():
    x = np.ones(3)
    f = lambda a: np.sum(a ** 2)
    assert "not finite" in check_gradient(f, lambda a: a * np.nan, x).diagnosis
    assert "real array" in check_gradient(f, lambda a: 2 * a + 1j, x).diagnosis


def test_assert_gradient_raises_with_the_diagnosis_and_error():
    x = np.random.default_rng(5).standard_normal((2, 3))
    with pytest.raises(AssertionError, match=r"(?s)REJECTED: max relative error 2\.0e\+00.*wrong sign"):
        assert_gradient(lambda X: np.sum(X ** 2), lambda X: -2 * X, x)
    assert assert_gradient(lambda X: np.sum(X ** 2), lambda X: 2 * X, x).ok


# ---------------------------------- "auto" never trusts a complex step that lost its imaginary part

@pytest.mark.parametrize("loss, truth, lost", [
    (lambda x: np.linalg.norm(x) ** 2, lambda x: 2 * x, lambda x: 0 * x),
    (lambda x: np.sum(np.abs(x) ** 3), lambda x: 3 * x * np.abs(x), lambda x: 0 * x),
    (lambda x: np.real(np.sum(x * np.conj(x))), lambda x: 2 * x, lambda x: 0 * x),
    (lambda x: np.sum(np.maximum(x, 0.5 * x) ** 2),
     lambda x: 2 * np.maximum(x, 0.5 * x) * np.where(x > 0, 1.0, 0.5), None),
    (lambda x: np.sum(np.sign(x) * x), np.sign, lambda x: 2 * np.sign(x)),
])
def test_auto_falls_back_when_f_is_not_analytic(loss, truth, lost):
    x = np.random.default_rng(6).standard_normal(7)
    report = check_gradient(loss, truth, x)
    assert report.ok, str(report)
    if lost is not None:  # what a blind complex step would have "verified"
        assert report.method == "central-difference"
        assert not check_gradient(loss, lost, x).ok


def test_forced_complex_step_refuses_an_f_that_drops_the_imaginary_part():
    x = np.ones(3)
    with pytest.raises(ValueError, match="drops the imaginary part"):
        check_gradient(lambda x: np.linalg.norm(x), lambda x: x / np.sqrt(3), x,
                       method="complex-step")


def test_forced_central_difference_is_honoured():
    x = np.random.default_rng(7).standard_normal((3, 2))
    report = check_gradient(lambda X: np.sum(X ** 3), lambda X: 3 * X ** 2, x,
                            method="central-difference")
    assert report.ok and report.method == "central-difference"
    assert report.max_rel_error < 1e-9


# ---------------------------------------------------------------- no gradient at a kink

@pytest.mark.parametrize("loss, x", [
    (lambda x: np.sum(np.abs(x)), np.array([0.0, 1.0, -2.0])),
    (lambda x: np.linalg.norm(x), np.zeros(3)),
    (lambda x: np.max(x), np.array([1.0, 3.0, 3.0])),
])
def test_a_kink_is_reported_as_not_differentiable(loss, x):
    report = check_gradient(loss, lambda x: np.zeros_like(x), x)
    assert not report.ok and np.isnan(report.max_rel_error)
    assert report.diagnosis.startswith("f is not differentiable at this x")


# ------------------------------------------------------------ bad input: clear errors

@pytest.mark.parametrize("x, error, message", [
    ([1.0, 2.0], TypeError, "x must be a numpy array of float64, not list"),
    (np.array([1, 2]), TypeError, "not dtype int64"),
    (np.array([1.0, 2.0], dtype=np.float32), TypeError, "not dtype float32"),
    (np.array([1.0 + 0j]), TypeError, "not dtype complex128"),
    (np.array([1.0, np.nan]), ValueError, r"non-finite values \(first at entry 1\)"),
    (np.array([[1.0], [np.inf]]), ValueError, r"non-finite values \(first at entry \(1, 0\)\)"),
    (np.array([]), ValueError, "x is empty"),
])
def test_bad_points_are_refused_by_name(x, error, message):
    with pytest.raises(error, match=message):
        check_gradient(lambda x: np.sum(x ** 2), lambda x: 2 * x, x)


@pytest.mark.parametrize("loss, error, message", [
    (lambda x: x ** 2, TypeError, r"returned an array of shape \(3,\)"),
    (lambda x: np.sum(x) + 1j, TypeError, "returned dtype complex128"),
    (lambda x: "loss", TypeError, "must return a real scalar"),
    (lambda x: np.sum(x) * np.nan, ValueError, r"f\(x\) is not finite \(nan\)"),
    (lambda x: np.inf, ValueError, r"f\(x\) is not finite \(inf\)"),
])
def test_a_loss_that_is_not_a_finite_real_scalar_is_refused(loss, error, message):
    with pytest.raises(error, match=message):
        check_gradient(loss, lambda x: 2 * x, np.ones(3))


@pytest.mark.parametrize("grad, message", [
    (lambda x: None, "returned None"),
    (lambda x: np.array([object()] * 3), "not of Python objects"),
])
def test_a_claim_that_is_not_numbers_is_refused(grad, message):
    with pytest.raises(TypeError, match=message):
        check_gradient(lambda x: np.sum(x ** 2), grad, np.ones(3))


def test_a_numpy_scalar_point_is_a_zero_dimensional_array():
    report = check_gradient(lambda x: np.sin(x) * x, lambda x: np.cos(x) * x + np.sin(x),
                            np.float64(0.7))
    assert report.ok and report.numeric.shape == ()


@pytest.mark.parametrize("options, message", [
    ({"method": "forward"}, "method must be"),
    ({"mode": "quick"}, "mode must be"),
    ({"rtol": -1.0}, "rtol must be a positive finite number"),
    ({"rtol": float("nan")}, "rtol must be a positive finite number"),
])
def test_bad_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        check_gradient(lambda x: np.sum(x ** 2), lambda x: 2 * x, np.ones(3), **options)
