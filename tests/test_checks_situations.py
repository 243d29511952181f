"""Property tests of mcv.checks where readers check (issue 13): at an exact optimum, a step
from a domain boundary, on ill-conditioned losses, with entries spanning 1e-8..1e8, on scalars
and 3-D arrays, every wrong-claim kind at every scale, kinks at exact zeros, |x|^1.5 at 0,
claims that raise, the symmetric-matrix conventions, and the fast (directional) mode.

Each test counts nothing by hand: a single false rejection or false acceptance fails it. The
rates over larger samples are measured by ``python benchmarks/checker.py``."""

import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mcv.checks import FAST_SIZE, SAFETY, check_gradient

seeds = st.integers(min_value=0, max_value=2**32 - 1)
scales = st.sampled_from([1e-8, 1.0, 1e8])
methods = st.sampled_from(["auto", "central-difference"])
few = settings(max_examples=15)  # fast mode: bigger checks


def spd(rng, n, condition):
    """A random SPD matrix with the given condition number (eigenvalues 1 .. 1/condition)."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    eigenvalues = np.geomspace(1.0, 1.0 / condition, n)
    matrix = q @ np.diag(eigenvalues) @ q.T
    return (matrix + matrix.T) / 2


# ------------------------------------------------------------------- at an exact optimum

@given(seeds, st.integers(2, 6), st.integers(1, 4), methods)
def test_least_squares_at_its_solution(seed, n, extra, method):
    """∇ = 2Aᵀ(Ax* − b) is 0 up to round-off: verified against the floor; claims that are
    not 0 there (b forgotten, the residual's sign, a constant) are rejected."""
    rng = np.random.default_rng(seed)
    A, b = rng.standard_normal((n + extra, n)), rng.standard_normal(n + extra)
    x_star = np.linalg.lstsq(A, b, rcond=None)[0]
    f = lambda x: np.sum((A @ x - b) ** 2)
    report = check_gradient(f, lambda x: 2 * A.T @ (A @ x - b), x_star, method=method)
    assert report.ok, str(report)
    if report.note is not None and report.note.startswith("the gradient is zero here"):
        assert str(report).startswith("verified against an absolute floor")
    else:  # lstsq's x* is itself rounded: its gradient can be above the floor, and checked
        assert np.max(np.abs(report.numeric)) > report.floor, str(report)
    for wrong in (lambda x: 2 * A.T @ A @ x, lambda x: 2 * A.T @ (A @ x + b),
                  lambda x: np.ones_like(x)):
        rejected = check_gradient(f, wrong, x_star, method=method)
        assert not rejected.ok and rejected.verdict == "REJECTED", str(rejected)
        assert "differentiable" not in rejected.diagnosis


@given(seeds, st.integers(2, 4), st.sampled_from([1.0, 1e3]))
def test_gaussian_covariance_at_its_maximum_likelihood(seed, n, condition):
    """f(Σ) = log det Σ + tr(Σ⁻¹S) is stationary at Σ = S."""
    rng = np.random.default_rng(seed)
    S = spd(rng, n, condition) * rng.uniform(0.5, 2)
    f = lambda C: np.log(np.linalg.det(C)) + np.trace(np.linalg.solve(C, S))

    def gradient(C):
        inverse = np.linalg.inv(C).T
        return inverse - inverse @ S.T @ inverse

    report = check_gradient(f, gradient, S.copy())
    assert report.ok and report.note.startswith("the gradient is zero here"), str(report)
    wrong = check_gradient(f, lambda C: np.linalg.inv(C), S.copy())  # a term missing
    assert not wrong.ok and "differentiable" not in wrong.diagnosis, str(wrong)


# --------------------------------------------------- a step from a domain boundary

@given(seeds, st.integers(2, 4), st.sampled_from([1e2, 1e4, 1e6]))
def test_log_likelihood_near_the_boundary_of_the_spd_cone(seed, n, condition):
    """Σ = (SPD, condition up to 1e6): a central step of 1e-3 leaves the cone."""
    rng = np.random.default_rng(seed)
    C, y = spd(rng, n, condition), rng.standard_normal(n)
    analytic = lambda C: np.log(np.linalg.det(C)) + y @ np.linalg.solve(C, y)
    # slogdet's log|det| drops the imaginary part (central differences) and stays finite
    # across the boundary (another branch); det's log is nan there (the step must shrink).
    with_slogdet = lambda C: np.linalg.slogdet(C)[1] + y @ np.linalg.solve(C, y)

    def gradient(C):
        inverse = np.linalg.inv(C).T
        return inverse - inverse @ np.outer(y, y) @ inverse

    for f in (analytic, with_slogdet):
        report = check_gradient(f, gradient, C)
        assert report.ok, (condition, str(report))
        assert "not finite" not in (report.diagnosis or "")
        wrong = check_gradient(f, lambda C: -gradient(C), C)
        assert not wrong.ok and "wrong sign" in wrong.diagnosis, str(wrong)


@pytest.mark.parametrize("rho", [0.999, 0.9999])
def test_correlation_near_one_is_verified(rho):
    """The issue's example: a 2x2 covariance with correlation 0.999 and 0.9999."""
    C, y = np.array([[1.0, rho], [rho, 1.0]]), np.array([1.0, -0.5])

    def gradient(C):
        inverse = np.linalg.inv(C).T
        return 0.5 * (inverse - inverse @ np.outer(y, y) @ inverse)

    def with_cholesky(C):  # raises outside the cone; reads the lower triangle only
        L = np.linalg.cholesky((C + C.T) / 2)
        return np.sum(np.log(np.diag(L))) + 0.5 * y @ np.linalg.solve(C, y)

    analytic = lambda C: 0.5 * (np.log(np.linalg.det(C)) + y @ np.linalg.solve(C, y))
    for f, method in ((analytic, "auto"), (analytic, "central-difference"),
                      (with_cholesky, "auto")):
        report = check_gradient(f, gradient, C, method=method)
        assert report.ok, str(report)
    assert check_gradient(analytic, gradient, C).method == "complex-step"


def test_a_non_finite_value_names_the_perturbed_point():
    """log(x) at x = 1e-9: f(x - h) is not finite; the step shrinks and the note says so."""
    x = np.array([1e-9, 1.0, 2.0])
    f = lambda x: np.sum(np.where(x > 0, np.log(np.abs(x)), np.nan))  # not analytic
    report = check_gradient(f, lambda x: 1 / x, x)
    assert report.ok and report.method == "central-difference", str(report)
    assert re.search(r"f is not finite at x - [\d.e+-]+·e_0", report.note), report.note
    assert "step was shrunk" in report.note


def test_a_point_on_the_boundary_cannot_be_decided():
    """sqrt at 0: f(x - h) is never finite; no derivative from the left exists."""
    f = lambda x: np.sum(np.where(x >= 0, np.sqrt(np.abs(x)), np.nan))
    report = check_gradient(f, lambda x: 0.5 / np.sqrt(x + 1), np.array([0.0, 1.0]))
    assert not report.ok and report.verdict == "cannot decide", str(report)
    assert "x + h·e_0" in report.diagnosis and "boundary" in report.diagnosis


# ------------------------------------------------------------ ill-conditioned, smooth

@given(seeds, st.integers(6, 12), methods)
def test_gaussian_process_likelihood_in_the_kernel_matrix(seed, n, method):
    rng = np.random.default_rng(seed)
    t, y = np.sort(rng.uniform(0, 5, n)), rng.standard_normal(n)
    K = np.exp(-0.5 * (t[:, None] - t[None, :]) ** 2) + 1e-2 * np.eye(n)
    f = lambda K: 0.5 * (np.log(np.linalg.det(K)) + y @ np.linalg.solve(K, y))

    def gradient(K):
        inverse = np.linalg.inv(K).T
        return 0.5 * (inverse - inverse @ np.outer(y, y) @ inverse)

    report = check_gradient(f, gradient, K, method=method)
    assert report.ok, (np.linalg.cond(K), str(report))
    off = check_gradient(f, lambda K: gradient(K) * (1 + 1e-4), K, method=method)
    assert not off.ok


# ------------------------------------------------ entries spanning 1e-8 .. 1e8

@given(seeds, st.integers(3, 8), scales)
def test_entries_spanning_sixteen_orders_are_judged_by_the_stated_rule(seed, n, scale):
    """Entry j is accepted iff |claim_j − numeric_j| ≤ SAFETY·err_j + rtol·max|numeric| +
    floor. A 1% error in an entry is rejected whenever that rule can see it, and the verdicts
    do not change when f is multiplied by 1e-8 or 1e8."""
    rng = np.random.default_rng(seed)
    c = scale * np.geomspace(1e-8, 1e8, n)[rng.permutation(n)]
    x = rng.uniform(0.5, 2.0, n) * rng.choice([-1, 1], n)
    f = lambda x: np.sum(c * x ** 3)
    gradient = lambda x: 3 * c * x ** 2
    report = check_gradient(f, gradient, x)
    assert report.ok and report.method == "complex-step", str(report)
    allowed = SAFETY * report.numeric_error + report.rtol * np.max(np.abs(report.numeric)) \
        + report.floor
    for j in range(n):
        bump = np.zeros(n)
        bump[j] = 0.01 * gradient(x)[j]
        wrong = check_gradient(f, lambda x, bump=bump: gradient(x) + bump, x)
        assert wrong.ok == (abs(bump[j]) <= allowed[j]), (j, c[j], str(wrong))
        if abs(c[j]) >= 1e-2 * np.max(np.abs(c)) * 1e-6:  # resolvable: 1e-2 .. 1 of the max
            assert not wrong.ok and wrong.worst_index == j, (j, str(wrong))


def test_a_five_percent_error_in_the_small_entry_is_rejected():
    """f = 1e6|x0|³ + |x1|³ with the claim 5% wrong in entry 1 (issue 13)."""
    x = np.array([0.8, -1.1])
    gradient = lambda x: np.array([3e6 * x[0] * abs(x[0]), 3 * x[1] * abs(x[1])])
    wrong = lambda x: gradient(x) * np.array([1.0, 1.05])
    for f in (lambda x: 1e6 * np.abs(x[0]) ** 3 + np.abs(x[1]) ** 3,  # central differences
              lambda x: 1e6 * x[0] ** 2 * np.sqrt(x[0] ** 2) + x[1] ** 2 * np.sqrt(x[1] ** 2)):
        assert check_gradient(f, gradient, x).ok
        report = check_gradient(f, wrong, x)
        assert not report.ok and report.worst_index == 1, str(report)
        assert "entry 1 is wrong by 5.0e-02 of itself" in report.diagnosis


# -------------------------------------------------------------- scalars and 3-D arrays

@st.composite
def shaped_problems(draw):
    shape = draw(st.sampled_from([(), (1,), (4,), (2, 3), (2, 3, 4), (1, 2, 1, 3)]))
    rng = np.random.default_rng(draw(seeds))
    x = np.asarray(rng.standard_normal(shape) + 0.1)
    w = rng.standard_normal(shape)
    battery = {
        "sum w tanh(x)^2": (lambda x: np.sum(w * np.tanh(x) ** 2),
                            lambda x: 2 * w * np.tanh(x) * (1 - np.tanh(x) ** 2)),
        "log sum exp": (lambda x: np.log(np.sum(np.exp(x))),
                        lambda x: np.exp(x) / np.sum(np.exp(x))),
        "sum |x|^3 (abs)": (lambda x: np.sum(np.abs(x) ** 3), lambda x: 3 * x * np.abs(x)),
    }
    name = draw(st.sampled_from(sorted(battery)))
    return (name, *battery[name], x, draw(scales))


@given(shaped_problems())
def test_scalars_and_higher_dimensional_arrays(problem):
    name, f, gradient, x, scale = problem
    report = check_gradient(lambda x: scale * f(x), lambda x: scale * gradient(x), x)
    assert report.ok, (name, x.shape, str(report))
    assert report.numeric.shape == x.shape
    if x.size > 1 and "log sum exp" not in name:
        wrong = check_gradient(lambda x: scale * f(x), lambda x: -scale * gradient(x), x)
        assert not wrong.ok and "wrong sign" in wrong.diagnosis, (name, str(wrong))


# ----------------------------------------- every wrong-claim kind at every scale

@st.composite
def matrix_problems(draw):
    m = draw(st.integers(2, 4))
    n = draw(st.sampled_from([m, m + 1]))       # square (transposes can hide) and not
    rng = np.random.default_rng(draw(seeds))
    A, U = rng.standard_normal((m, m)), rng.standard_normal((n, 3))
    V, X = rng.standard_normal((m, 3)), rng.standard_normal((m, n))
    scale = draw(scales)
    f = lambda X: scale * (np.sum((X @ U - V) ** 2) + np.sum(X * (A @ X)))
    grad = lambda X: scale * (2 * (X @ U - V) @ U.T + (A + A.T) @ X)
    return f, grad, X, A, scale


@given(matrix_problems())
def test_every_wrong_claim_kind_is_rejected_and_named_at_every_scale(problem):
    f, grad, X, A, scale = problem
    assert check_gradient(f, grad, X).ok
    square = X.shape[0] == X.shape[1]
    symmetric = square and np.allclose(grad(X), grad(X).T)
    kinds = {
        "sign": (lambda X: -grad(X), r"wrong sign"),
        "factor 2": (lambda X: 2 * grad(X), r"claim = 2 × the gradient"),
        "half": (lambda X: grad(X) / 2, r"claim = 1/2 × the gradient"),
        "zero": (lambda X: 0 * X, r"zero everywhere"),
        "transpose": (lambda X: grad(X).T, r"transpose of the gradient"),
        "vec": (lambda X: grad(X).ravel(order="F"), r"column by column \(vec\)"),
        # 2AX written where (A + Aᵀ)X was due, as if A were symmetric
        "assumed A symmetric": (lambda X: grad(X) + scale * (A - A.T) @ X,
                                r"not the gradient of any function"),
        "raises": (lambda X: A @ X.T @ X @ np.ones((X.shape[0] + 1, 1)), r"grad\(x\) raised"),
    }
    if square and symmetric:
        del kinds["transpose"]
    for kind, (claim, expected) in kinds.items():
        report = check_gradient(f, claim, X)
        assert not report.ok, (kind, scale, str(report))
        assert re.search(expected, report.diagnosis), (kind, scale, report.diagnosis)


@given(seeds, st.integers(2, 4), scales)
def test_symmetric_matrix_conventions_are_named_not_called_a_transpose(seed, n, scale):
    rng = np.random.default_rng(seed)
    X = spd(rng, n, 10.0) + n * np.eye(n)                  # a symmetric point
    Xn = X + 0.3 * rng.standard_normal((n, n))             # a non-symmetric one
    f = lambda X: scale * np.log(np.linalg.det(X))
    cookbook = lambda X: scale * (2 * np.linalg.inv(X) - np.diag(np.diag(np.linalg.inv(X))))
    for point in (X, Xn):
        report = check_gradient(f, cookbook, point)
        assert not report.ok and "symmetric-matrix convention" in report.diagnosis, \
            report.diagnosis
        assert "transpose" not in report.diagnosis
    B = rng.standard_normal((n, n))                        # tr(BX): gradient Bᵀ
    half = check_gradient(lambda X: scale * np.trace(B @ X),
                          lambda X: scale * (B + B.T) / 2, Xn)
    assert not half.ok and "symmetric part (G + Gᵀ)/2" in half.diagnosis, half.diagnosis


def test_a_claim_that_raises_is_a_failed_report_naming_the_error():
    B, W = np.ones((3, 5)), np.ones((5, 2))
    report = check_gradient(lambda W: np.sum((B @ W) ** 2), lambda W: 2 * B.T @ B @ W.T, W)
    assert not report.ok and report.claimed is None
    assert report.diagnosis.startswith("grad(x) raised ValueError: matmul")
    assert "non-conforming shapes" in report.diagnosis


# ----------------------------------------------------------- kinks and false kinks

@st.composite
def kinked_points(draw):
    rng = np.random.default_rng(draw(seeds))
    n = draw(st.integers(2, 6))
    x = rng.standard_normal(n)
    zeros = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    x[zeros] = 0.0
    return x, zeros, draw(scales)


@given(kinked_points())
def test_kinks_at_exact_zeros_are_not_differentiable(point):
    x, zeros, scale = point
    kinked = {
        "abs": lambda x: scale * np.sum(np.abs(x)),
        "relu (maximum)": lambda x: scale * np.sum(np.maximum(x, 0) * (1 + x ** 2)),
        "relu (where)": lambda x: scale * np.sum(np.where(x > 0, x, 0.0)),
        "hinge": lambda x: scale * np.sum(np.maximum(0.0, x) + 0.5 * x ** 2),
    }
    for name, f in kinked.items():
        report = check_gradient(f, lambda x: np.zeros_like(x), x)
        assert not report.ok and np.isnan(report.max_rel_error), (name, str(report))
        assert report.diagnosis.startswith("f is not differentiable at this x"), name
        assert re.search(rf"along entry {min(zeros)}\b", report.diagnosis), report.diagnosis
    ties = np.concatenate([x, [np.max(x), np.max(x)]])
    report = check_gradient(lambda z: scale * np.max(z), lambda z: np.zeros_like(z), ties)
    assert report.diagnosis.startswith("f is not differentiable at this x"), str(report)


@given(kinked_points())
def test_power_one_and_a_half_at_zero_is_never_called_a_kink(point):
    """|t|^1.5 is differentiable at 0 (derivative 0) with unbounded curvature."""
    x, zeros, scale = point
    cases = {
        "sum |x|^1.5": (lambda x: scale * np.sum(np.abs(x) ** 1.5),
                        lambda x: scale * 1.5 * np.sign(x) * np.sqrt(np.abs(x))),
        "sum relu(x)^1.5": (lambda x: scale * np.sum(np.maximum(x, 0) ** 1.5),
                            lambda x: scale * 1.5 * np.sqrt(np.maximum(x, 0))),
    }
    for name, (f, gradient) in cases.items():
        report = check_gradient(f, gradient, x)
        assert report.verdict in ("verified", "cannot decide"), (name, str(report))
        assert "not differentiable" not in str(report), (name, str(report))
        bump = np.zeros_like(x)
        bump[zeros[0]] = 0.1 * scale
        wrong = check_gradient(f, lambda x: gradient(x) + bump, x)
        assert not wrong.ok and "not differentiable" not in str(wrong), (name, str(wrong))


def test_a_kink_a_little_away_from_x_is_stepped_around():
    x = np.array([1e-7, 1.0, -2.0])
    report = check_gradient(lambda x: np.sum(np.abs(x)), np.sign, x)
    assert report.ok and "one-sided slopes of f disagree at steps above" in report.note, \
        str(report)


# ----------------------------------------------------- analyticity decided soundly

@pytest.mark.parametrize("loss, truth, fooled", [
    # np.sign(z) = z/|z| in numpy 2: linear in the direction, twice the slope
    (lambda x: np.sum(np.sign(x) * x), np.sign, lambda x: 2 * np.sign(x)),
    # |x| inside a complex expression: the complex step sees only the other factor
    (lambda x: np.sum(x * np.abs(x)), lambda x: 2 * np.abs(x), np.abs),
    # a complex value whose imaginary part is exactly 0: conj
    (lambda x: np.sum(x * np.conj(x)), lambda x: 2 * x, lambda x: 0 * x),
    # 1e8 x + |x|: the lost part is a 1e-8 share of the slope
    (lambda x: np.sum(1e8 * x + np.abs(x)), lambda x: 1e8 + np.sign(x), lambda x: 1e8 + 0 * x),
])
def test_a_corrupted_imaginary_part_is_never_trusted(loss, truth, fooled):
    x = np.random.default_rng(8).standard_normal(6)
    report = check_gradient(loss, truth, x)
    assert report.ok and report.method == "central-difference", str(report)
    assert not check_gradient(loss, fooled, x).ok


@given(seeds, st.integers(2, 5))
def test_maximum_away_from_a_tie_keeps_the_complex_step(seed, n):
    """np.maximum/np.max keep the winner's imaginary part: fine away from a tie."""
    x = np.random.default_rng(seed).standard_normal(n)
    f = lambda x: np.sum(np.maximum(x, 0.5 * x) ** 2) + np.max(x) ** 2
    report = check_gradient(f, lambda x: 2 * np.maximum(x, 0.5 * x) * np.where(x > 0, 1, 0.5)
                            + 2 * np.max(x) * (x == np.max(x)), x)
    assert report.ok and report.method == "complex-step", str(report)


# ------------------------------------------------------------------------ fast mode

@few
@given(seeds, st.integers(3, 6), st.integers(2, 5), methods)
def test_fast_mode_verifies_and_names_sign_factor_transpose(seed, m, k, method):
    rng = np.random.default_rng(seed)
    n = m + 1
    U, V, W = rng.standard_normal((n, k)), rng.standard_normal((m, k)), rng.standard_normal((m, n))
    f = lambda W: np.sum((W @ U - V) ** 2) + np.sum(np.abs(W) ** 3)
    grad = lambda W: 2 * (W @ U - V) @ U.T + 3 * W * np.abs(W)
    report = check_gradient(f, grad, W, mode="fast", method=method)
    assert report.ok and report.mode == "fast" and report.numeric is None, str(report)
    for claim, words in ((lambda W: -grad(W), "wrong sign"),
                         (lambda W: 2 * grad(W), "claim = 2 × the gradient"),
                         (lambda W: grad(W).T, "the claim is the transpose"),
                         (lambda W: grad(W) + 1e-3 * np.eye(m, n), "a term is probably")):
        wrong = check_gradient(f, claim, W, mode="fast", method=method)
        assert not wrong.ok and words in wrong.diagnosis, (words, str(wrong))


def test_fast_mode_names_a_square_transpose_and_is_chosen_above_the_size():
    rng = np.random.default_rng(9)
    n = int(np.sqrt(FAST_SIZE)) + 1
    B, W = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    f = lambda W: np.sum(B * W) + 0.5 * np.sum(W * W)
    report = check_gradient(f, lambda W: B + W, W)
    assert report.ok and report.mode == "fast" and report.evaluations < 40, str(report)
    wrong = check_gradient(f, lambda W: B.T + W.T, W)
    assert not wrong.ok and wrong.diagnosis == "the claim is the transpose of the gradient"
