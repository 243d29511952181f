"""The catalogue's kinds of mistake on random non-square shapes and seeds (hypothesis): each
is rejected with the same specific diagnosis whatever the sizes."""

from hypothesis import given, settings, strategies as st

from mcv import Problem

sizes = st.integers(2, 5)


def _shapes(draw_m, draw_n, draw_p):
    return {"X": f"{draw_m}x{draw_n}", "W": f"{draw_n}x{draw_p}", "Y": f"{draw_m}x{draw_p}"}


@settings(max_examples=12, deadline=None)
@given(sizes, sizes, sizes, st.integers(0, 10**6))
def test_frobenius_mistakes_on_any_shape(m, n, p, seed):
    problem = Problem("np.sum((X @ W - Y)**2)", _shapes(m, n, p))
    assert problem.check("W", "2 * X.T @ (X @ W - Y)", seed=seed).ok
    expected = {
        "X.T @ (X @ W - Y)": ("factor",),
        "2 * X.T @ (Y - X @ W)": ("sign",),
        "2 * X.T @ X @ W": ("symbolic-difference",),   # -Y forgotten: the term is printed
    }
    if n != p:
        expected["2 * (X @ W - Y).T @ X"] = ("shape-transpose",)
    for claim, codes in expected.items():
        report = problem.check("W", claim, seed=seed)
        assert not report.ok and report.codes[:len(codes)] == codes, (claim, str(report))
    forgotten = problem.check("W", "2 * X.T @ X @ W", seed=seed)
    assert "claim − gradient = 2 Xᵀ Y" in forgotten.diagnosis, forgotten.diagnosis


@settings(max_examples=12, deadline=None)
@given(sizes, sizes, sizes, st.integers(0, 10**6))
def test_tanh_derivative_slip_on_any_shape(m, n, p, seed):
    problem = Problem("0.5 * np.sum((np.tanh(X @ W) - Y)**2)", _shapes(m, n, p))
    report = problem.check("W", "X.T @ ((np.tanh(X @ W) - Y) * (1 - np.tanh(X @ W)))",
                           seed=seed)
    assert not report.ok and report.codes[0] == "symbolic-difference"
    assert "the claim has tanh(X W) and the gradient tanh(X W)" in report.diagnosis


@settings(max_examples=10, deadline=None)
@given(st.integers(2, 6), st.integers(0, 10**6))
def test_assumed_symmetric_on_any_size(n, seed):
    problem = Problem("x @ A @ x", {"x": str(n), "A": f"{n}x{n}"})
    report = problem.check("x", "2 * A @ x", seed=seed)
    assert report.codes[:2] == ("assumed-symmetric", "symbolic-difference")
    assert "claim − gradient = (A − Aᵀ) x" in report.diagnosis
