"""mcv derive: the reader questions' gradients and the losses people ask about are derived,
proved, printed short; the numpy form is accepted by mcv check; an engine that fails its own
check says so (exit 3) and prints no answer; random well-typed expressions are derived and
verified (no unverified result is ever printed)."""

import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mcv.cli.derive as derive_cli
from mcv.cli import main as mcv_main
from mcv.derive import gradient, show, size
from mcv.expr import parse


def derive(*argv):
    return mcv_main(["derive", *argv])


def derived(capsys, *argv):
    """(exit code, the JSON result) of mcv derive ... --json."""
    code = derive(*argv, "--json")
    return code, json.loads(capsys.readouterr().out)


FROBENIUS = ["--loss", "np.sum((W @ u - v)**2)", "--shape", "W=3x4", "--shape", "u=4",
             "--shape", "v=3"]

#: (loss, declarations, wrt, the book's hand-written form, operations it may add)
LOSSES = {
    "seed 004 in W": ("np.sum((W @ u - v)**2)", ["W=3x4", "u=4", "v=3"], "W",
                      "2 * np.outer(W @ u - v, u)", 0),
    "seed 004 in u": ("np.sum((W @ u - v)**2)", ["W=3x4", "u=4", "v=3"], "u",
                      "2 * W.T @ (W @ u - v)", 0),
    "seed 003": ("np.sum((b - a)**2)", ["a=5", "b=5"], "a", "-2 * (b - a)", 0),
    "seed 000 affine": ("np.sum((W @ X + b[:, None] - Y)**2)",
                        ["W=2x3", "X=3x5", "b=2", "Y=2x5"], "b",
                        "2 * np.sum(W @ X + b[:, None] - Y, axis=1)", 1),
    "seed 002 composite": ("0.5 * np.sum((np.tanh(X @ T) - Y)**2)",
                           ["X=5x3", "T=3x2", "Y=5x2"], "T",
                           "X.T @ ((np.tanh(X @ T) - Y) * (1 - np.tanh(X @ T)**2))", 0),
    "quadratic form": ("x @ A @ x", ["x=4", "A=4x4"], "x", "(A + A.T) @ x", 0),
    "log det": ("np.linalg.slogdet(X)[1]", ["X=4x4:spd"], "X", "np.linalg.inv(X).T", 0),
    "trace AXB": ("np.trace(A @ X @ B)", ["A=2x3", "X=3x4", "B=4x2"], "X", "A.T @ B.T", 0),
    "ridge": ("np.sum((X @ w - y)**2) + 0.1 * np.sum(w * w)", ["X=6x3", "w=3", "y=6"], "w",
              "2 * X.T @ (X @ w - y) + 0.2 * w", 0),
    "logistic": ("np.sum(np.logaddexp(0, -y * (X @ w)))", ["X=6x3", "w=3", "y=6"], "w",
                 "-X.T @ (y / (1 + np.exp(y * (X @ w))))", 6),
    "factorisation": ("np.sum((U @ V.T - M)**2)", ["U=5x2", "V=4x2", "M=5x4"], "V",
                      "2 * (U @ V.T - M).T @ U", 1),
    "two-layer network": ("np.sum((W2 @ np.tanh(W1 @ X) - Y)**2)",
                          ["W1=4x3", "W2=2x4", "X=3x6", "Y=2x6"], "W1",
                          "2 * ((W2.T @ (W2 @ np.tanh(W1 @ X) - Y)) * "
                          "(1 - np.tanh(W1 @ X)**2)) @ X.T", 0),
    "gaussian mean": ("(x - m) @ np.linalg.solve(S, x - m)", ["x=3", "m=3", "S=3x3:spd"],
                      "m", "-2 * np.linalg.solve(S, x - m)", 4),
    "softmax cross-entropy": ("-np.sum(Y * (Z - np.log(np.sum(np.exp(Z), axis=1, "
                              "keepdims=True))))", ["Z=6x3", "Y=6x3:onehot"], "Z",
                              "np.exp(Z) / np.sum(np.exp(Z), axis=1, keepdims=True) "
                              "* np.sum(Y, axis=1, keepdims=True) - Y", 1),
    "gaussian covariance": ("0.5 * np.linalg.slogdet(C)[1] + 0.5 * (x - m) @ "
                            "np.linalg.solve(C, x - m)", ["x=3", "m=3", "C=3x3:spd"], "C",
                            "0.5 * np.linalg.inv(C).T - 0.5 * np.outer(np.linalg.solve(C.T, "
                            "x - m), np.linalg.solve(C, x - m))", 4),
    "attention": ("np.sum(np.exp(Q @ K.T) / np.sum(np.exp(Q @ K.T), axis=1, keepdims=True)"
                  " @ V * G)", ["Q=3x2", "K=4x2", "V=4x2", "G=3x2"], "V",
                  "(np.exp(Q @ K.T) / np.sum(np.exp(Q @ K.T), axis=1, keepdims=True)).T @ G",
                  3),
}


@pytest.mark.parametrize("name", LOSSES)
def test_each_loss_is_derived_proved_and_as_short_as_the_book(name, capsys):
    loss, shapes, wrt, book, slack = LOSSES[name]
    declarations = [a for s in shapes for a in ("--shape", s)]
    code, out = derived(capsys, "--loss", loss, "--wrt", wrt, *declarations)
    result = out[wrt]
    assert code == 0 and result["verified"] and result["exact"] != "disagrees"
    assert result["max_rel_error"] < 1e-7
    # equal to the book's hand-written form at random points (mcv check of the derived
    # numpy expression against the book's), and no longer than it by more than `slack`
    plain = [s.split(":")[0] for s in shapes]
    assert mcv_main(["check", "--loss", loss, "--wrt", wrt, "--claim", result["numpy"],
                     *[a for s in shapes for a in ("--shape", s)], "--points", "2"]) == 0
    typed = {s.split("=")[0]: _shape(s) for s in plain}
    assert result["operations"] <= size(parse(book, typed)) + slack, result["math"]
    capsys.readouterr()


def _shape(declaration):
    size_text = declaration.split("=")[1]
    return tuple(int(n) for n in size_text.split("x")) if size_text else ()


def test_the_issue_example_prints_the_short_form_steps_and_proof(capsys):
    assert derive(*FROBENIUS, "--wrt", "W", "--steps", "--latex") == 0
    out = capsys.readouterr().out
    assert "  2 (W u − v) uᵀ\n" in out and "numpy: 2 * np.outer(W @ u - v, u)" in out
    assert "latex: 2 \\left(W u - v\\right) u^{\\top}" in out
    assert "proved: verified at 3 random points (complex-step" in out
    assert "exact: sympy agrees" in out and "⇒ W̄ += 2 N3 uᵀ" in out


def test_several_wrt_at_once_and_python_dash_m(capsys):
    code, out = derived(capsys, *FROBENIUS, "--wrt", "W", "--wrt", "u", "--wrt", "v")
    assert code == 0 and set(out) == {"W", "u", "v"}
    assert out["v"]["numpy"] == "-2 * (W @ u - v)"
    import subprocess
    import sys
    shell = subprocess.run([sys.executable, "-m", "mcv", "derive", *FROBENIUS, "--wrt", "W",
                            "--wrt", "u", "--wrt", "v", "--json"], capture_output=True,
                           text=True, timeout=120)
    assert shell.returncode == 0
    assert {k: v["numpy"] for k, v in json.loads(shell.stdout).items()} == \
        {k: v["numpy"] for k, v in out.items()}


def test_an_operation_without_a_rule_is_named(capsys):
    assert derive("--loss", "np.sum(np.linalg.eigvalsh(X))", "--wrt", "X",
                  "--shape", "X=3x3") == 2
    assert "no rule for eigvalsh" in capsys.readouterr().err


def test_an_engine_that_fails_its_own_check_prints_no_answer(monkeypatch, capsys):
    broken = lambda loss, names, shapes: {n: parse("W", {"W": (3, 4)}) for n in names}  # noqa: E731
    monkeypatch.setattr(derive_cli, "gradients", broken)
    assert derive(*FROBENIUS, "--wrt", "W") == 3
    out = capsys.readouterr().out
    assert "NOT PROVED, not an answer" in out and "engine failed" in out


def test_emit_numpy_writes_a_function_and_its_passing_test(capsys, tmp_path):
    assert derive(*FROBENIUS, "--wrt", "W", "--wrt", "u", "--emit", "numpy") == 0
    source = capsys.readouterr().out
    namespace = {}
    exec(compile(source, "emitted.py", "exec"), namespace)  # the reader's own file, run
    W, u, v = np.ones((3, 4)), np.arange(4.0), np.ones(3)
    loss, grad_W, grad_u = namespace["loss_and_gradient"](W, u, v)
    assert loss == np.sum((W @ u - v) ** 2)
    np.testing.assert_allclose(grad_W, 2 * np.outer(W @ u - v, u))
    namespace["test_loss_and_gradient"]()


# ------------------------------------------------------------------ random expressions

UNARY = ["np.tanh({})", "np.exp({})", "np.sin({})", "({})**2", "-{}", "2.5 * {}",
         "np.log(1 + ({})**2)", "np.sqrt(1 + ({})**2)"]


@st.composite
def vector_expressions(draw, depth=3):
    """A well-typed expression of shape (m,), over W (m×n), x (n,), v (m,), A (m×m)."""
    if depth == 0:
        return draw(st.sampled_from(["W @ x", "v", "A @ v", "W @ np.tanh(x)"]))
    kind = draw(st.integers(0, 3))
    inner = draw(vector_expressions(depth - 1))
    if kind == 0:
        return draw(st.sampled_from(UNARY)).format(inner)
    other = draw(vector_expressions(depth - 1))
    if kind == 1:
        return f"({inner}) {draw(st.sampled_from(['+', '-', '*']))} ({other})"
    if kind == 2:
        return f"A @ ({inner})"
    return f"({inner}) / (1 + ({other})**2)"


@settings(max_examples=25, deadline=None)
@given(expression=vector_expressions(), m=st.integers(2, 4), n=st.integers(2, 5),
       wrt=st.sampled_from(["W", "x"]))
def test_random_well_typed_expressions_are_derived_and_verified(expression, m, n, wrt):
    n += m == n  # never square
    shapes = {"W": (m, n), "x": (n,), "v": (m,), "A": (m, m)}
    loss = parse(f"np.sum({expression})", shapes)
    from mcv import check_gradient
    from mcv.expr import evaluate
    rng = np.random.default_rng(m * 10 + n)
    values = {k: rng.standard_normal(s) for k, s in shapes.items()}
    g = gradient(loss, wrt, shapes)
    report = check_gradient(lambda y: evaluate(loss, {**values, wrt: y}),
                            lambda y: np.broadcast_to(evaluate(g, {**values, wrt: y}),
                                                      shapes[wrt]), values[wrt])
    assert report.ok, (expression, show(g), str(report))


@pytest.mark.parametrize("loss, shapes, wrt, expected", [
    ("np.sum((W @ u - v)**2)", ["W=2x3", "u=3", "v=2"], "W", "2 dW u uᵀ"),
    ("np.sum((W @ u - v)**2)", ["W=2x3", "u=3", "v=2"], "u", "2 Wᵀ W du"),
    ("x @ A @ x", ["x=3", "A=3x3"], "x", "(Aᵀ + A) dx"),
    ("np.linalg.slogdet(X)[1]", ["X=3x3:spd"], "X", "−(X⁻¹ dX X⁻¹)"),
    ("0.5 * np.sum((np.tanh(X @ T) - Y)**2)", ["X=5x3", "T=3x2", "Y=5x2"], "T", None),
])
def test_the_hessian_as_a_map_is_derived_and_proved_with_check_hessian(
        loss, shapes, wrt, expected, capsys):
    declarations = [a for s in shapes for a in ("--shape", s)]
    code, out = derived(capsys, "--loss", loss, "--wrt", wrt, *declarations, "--hessian")
    h = out[wrt]["hessian"]
    assert code == 0 and h["verified"] and h["method"] in ("complex-step",
                                                           "central-difference")
    if expected:
        assert h["math"] == expected
    if "vec_matrix" in h:
        matrix = np.array(h["vec_matrix"])
        np.testing.assert_allclose(matrix, matrix.T, atol=1e-9)


def test_a_wrong_hessian_map_is_not_proved():
    from mcv.derive import hessian_map
    from mcv.prove import prove_hessian
    typed = {"W": (2, 3), "u": (3,), "v": (2,)}
    loss = parse("np.sum((W @ u - v)**2)", typed)
    rng = np.random.default_rng(0)
    points = [(0, {k: rng.standard_normal(s) for k, s in typed.items()})]
    right = hessian_map(loss, "W", "dW", typed)
    g = gradient(loss, "W", typed)
    assert prove_hessian(g, right, "W", "dW", points)["verified"]
    wrong = parse("np.outer(dW @ u, u)", {**typed, "dW": (2, 3)})  # the factor 2 dropped
    assert not prove_hessian(g, wrong, "W", "dW", points)["verified"]


def test_an_internal_error_is_exit_4_with_no_traceback(monkeypatch, capsys):
    def broken(*arguments, **keywords):
        raise KeyError("a bug")
    monkeypatch.setattr(derive_cli, "gradients", broken)
    assert derive(*FROBENIUS, "--wrt", "W") == 4
    err = capsys.readouterr().err
    assert "internal error in mcv" in err and "Traceback" not in err


# ------------------------------------------------------ exact proof through the rows' sympy

@pytest.mark.parametrize("loss, shapes", [
    ("np.sum(np.exp(W) * np.log(1 + W**2))", {"W": "2x3"}),
    ("np.sum(np.abs(W @ u - v))", {"W": "2x3", "u": "3", "v": "2"}),
    ("np.sum(np.sqrt(1 + W**2))", {"W": "2x3"}),
    ("np.linalg.norm(W @ u - v)", {"W": "2x3", "u": "3", "v": "2"}),
    ("np.linalg.det(X) + np.sum(np.linalg.inv(X) @ A)", {"X": "3x3", "A": "3x2"}),
    ("np.var(W, axis=1, ddof=1).sum() + np.std(W)", {"W": "2x3"}),
])
def test_the_exact_proof_runs_where_sympy_used_to_be_unavailable(loss, shapes):
    from mcv.prove import derive_and_prove
    wrt = next(iter(shapes))
    result = derive_and_prove(loss, wrt, shapes)[wrt]
    assert result["verified"] and result["exact"] == "agrees", result


def test_the_exact_proof_rejects_a_wrong_gradient_with_signs():
    from mcv.prove import exact_agreement
    typed = {"W": (2, 3), "u": (3,), "v": (2,)}
    loss = parse("np.sum(np.abs(W @ u - v))", typed)
    right = gradient(loss, "W", typed)
    wrong = parse("np.outer(np.sign(W @ u + v), u)", typed)
    assert exact_agreement(loss, "W", right, typed) == "agrees"
    assert exact_agreement(loss, "W", wrong, typed) == "disagrees"


def test_help_lists_the_operations_from_the_rows(capsys):
    assert derive("--help") == 0
    out = capsys.readouterr().out
    assert "operations with a gradient rule:" in out and "np.var(A)" in out
    assert "no rule yet: np.linalg.cholesky(A), np.linalg.eigvalsh(A)" in out


def test_np_var_and_std_are_derived_with_ddof_and_axis(capsys):
    code, out = derived(capsys, "--loss", "np.sum(np.var(X, axis=0, ddof=1)) + X.std()",
                        "--wrt", "X", "--shape", "X=4x3")
    assert code == 0 and out["X"]["verified"] and out["X"]["exact"] == "agrees"
