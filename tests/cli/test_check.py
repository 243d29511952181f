"""`mcv check` (mcv/cli/check.py, the expressions read by mcv/expr.py):
verdicts, diagnoses, exit codes 0/1/2, several --wrt/--claim pairs, and the refusal of anything
that is not a plain numeric expression (expressions are parsed, never eval'ed).

Most tests call main(argv) directly (fast); a few run the real command from the repository
root with the venv's python, as a reader would."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mcv import expr
from mcv.cli import main as mcv_main
from mcv.expr import UsageError, evaluate, parse

ROOT = Path(__file__).resolve().parents[2]


def main(argv):
    """`mcv check ARGV` in this process: the exit code."""
    return mcv_main(["check", *argv])
FROBENIUS = ["--loss", "np.sum((W @ u - v)**2)", "--shape", "W=3x4", "--shape", "u=4",
             "--shape", "v=3"]
ISSUE_EXAMPLE = [*FROBENIUS, "--wrt", "W", "--claim", "2 * np.outer(W @ u - v, u)"]


def run(*arguments):
    """The real command, from the repository root: (exit code, stdout, stderr)."""
    result = subprocess.run([sys.executable, "-m", "mcv", "check", *arguments], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout, result.stderr


# ---------------------------------------------------------------- the real command line

def test_the_issue_example_is_verified_from_the_repository_root():
    code, out, err = run(*ISSUE_EXAMPLE)
    assert (code, err) == (0, "")
    assert "gradient in W: verified" in out and "complex-step" in out
    assert "max relative error" in out and "tolerance 1e-12" in out


def test_the_real_command_exits_1_on_a_wrong_claim_and_2_on_a_hostile_one():
    code, out, _ = run(*FROBENIUS, "--wrt", "W", "--claim", "2 * np.outer(u, W @ u - v)")
    assert code == 1 and "REJECTED" in out and "numeric gradient" in out
    code, out, err = run("--loss", "__import__('os').system('echo pwned')", "--wrt", "u",
                         "--claim", "u", "--shape", "u=3")
    assert code == 2 and "pwned" not in out + err and "__import__" in err


def test_help_lists_the_allowed_functions_and_exits_0():
    code, out, _ = run("--help")
    assert code == 0 and "linalg.norm" in out and "--wrt" in out


# ------------------------------------------------------------------- verdicts, exit codes

def test_several_pairs_one_wrong_gives_exit_code_1(capsys):
    code = main([*FROBENIUS, "--wrt", "W", "--claim", "np.outer(W @ u - v, u)",
                 "--wrt", "u", "--claim", "2 * W.T @ (W @ u - v)",
                 "--wrt", "v", "--claim", "-2 * (W @ u - v)"])
    out = capsys.readouterr().out
    assert code == 1
    assert "gradient in W: REJECTED" in out and "1/2 × the gradient" in out
    assert "gradient in u: verified" in out and "gradient in v: verified" in out
    assert "numeric gradient" in out and "claimed, shape (3, 4)" in out


def test_all_pairs_right_gives_exit_code_0(capsys):
    assert main([*FROBENIUS, "--wrt", "W", "--claim", "2 * np.outer(W @ u - v, u)",
                 "--wrt", "u", "--claim", "2 * W.T @ (W @ u - v)",
                 "--wrt", "v", "--claim", "2 * (v - W @ u)"]) == 0
    assert capsys.readouterr().out.count("verified") == 3


def test_the_numeric_gradient_is_printed_beside_the_claim(capsys):
    main([*FROBENIUS, "--wrt", "v", "--claim", "2 * (W @ u - v)", "--seed", "3"])
    out = capsys.readouterr().out
    table = out[out.index("numeric gradient"):].splitlines()
    assert len(table) == 1 + 3  # a header and one line per entry of v
    for line in table[1:]:
        numeric, claimed = map(float, line.split())
        assert claimed == pytest.approx(-numeric, abs=1e-3)  # the wrong sign, side by side
    assert "wrong sign" in out


@pytest.mark.parametrize("claim, diagnosis", [
    ("2 * np.outer(u, W @ u - v)", "the claim has shape (4, 3), but x has shape (3, 4): "
                                   "the claim is the transpose of the gradient"),
    ("-2 * np.outer(W @ u - v, u)", "wrong sign"),
    ("4 * np.outer(W @ u - v, u)", "claim = 2 × the gradient"),
    ("2 * np.outer(W @ u, u)", "claim − gradient = 2 v uᵀ"),
    ("0 * W", "the claim is zero everywhere"),
])
def test_wrong_claims_are_diagnosed(claim, diagnosis, capsys):
    assert main([*FROBENIUS, "--wrt", "W", "--claim", claim]) == 1
    assert diagnosis in capsys.readouterr().out


def test_the_jacobian_row_is_named(capsys):
    code = main(["--loss", "np.sum((b - a)**2)", "--wrt", "a", "--claim", "-2 * (b - a).T",
                 "--shape", "a=4x1", "--shape", "b=4x1"])
    out = capsys.readouterr().out
    assert code == 1 and "the Jacobian's row shape" in out and "its values are right" in out


def test_a_claim_that_cannot_be_computed_is_rejected_with_the_reason(capsys):
    code = main([*FROBENIUS, "--wrt", "u", "--claim", "2 * (W @ u - v) @ W.T"])
    out = capsys.readouterr().out
    assert code == 1 and "the claim cannot be computed at these shapes" in out
    assert "@ of shapes (3,) and (4, 3)" in out


def test_non_analytic_losses_use_central_differences(capsys):
    assert main(["--loss", "np.linalg.norm(u)", "--wrt", "u",
                 "--claim", "u / np.linalg.norm(u)", "--shape", "u=5"]) == 0
    assert "central-difference" in capsys.readouterr().out


def test_subscripts_axis_and_the_affine_model(capsys):
    common = ["--loss", "np.sum((W @ X + b[:, None] - Y)**2)", "--shape", "W=2x3",
              "--shape", "X=3x5", "--shape", "b=2", "--shape", "Y=2x5"]
    assert main([*common, "--wrt", "b", "--claim", "2 * np.sum(W @ X + b[:, None] - Y, axis=1)",
                 "--wrt", "W", "--claim", "2 * (W @ X + b[:, None] - Y) @ X.T"]) == 0
    assert main(["--loss", "u[0] * u[-1] + np.linalg.slogdet(A)[1]", "--wrt", "u",
                 "--claim", "np.eye(3)[0] * u[-1] + np.eye(3)[-1] * u[0]",
                 "--shape", "u=3", "--shape", "A=2x2"]) == 0


def test_the_seed_moves_the_point(capsys):
    main([*ISSUE_EXAMPLE, "--seed", "1"])
    main([*FROBENIUS, "--wrt", "v", "--claim", "2 * v", "--seed", "1"])
    first = capsys.readouterr().out
    main([*FROBENIUS, "--wrt", "v", "--claim", "2 * v", "--seed", "2"])
    assert first.splitlines()[-3:] != capsys.readouterr().out.splitlines()[-3:]


# ---------------------------------------------------------------------- the safe parser

HOSTILE = [
    ("__import__('os')", "the call __import__(...)"),
    ("__import__('os').system('ls')", "__import__('os').system(...)"),
    ("().__class__", "'.__class__'"),
    ("().__class__.__bases__[0].__subclasses__()", "__subclasses__"),
    ("np.__dict__", "'.__dict__'"),
    ("np.sum.__globals__", "'.__globals__'"),
    ("np.load('x.npy')", "np.load(...)"),
    ("np.lib.npyio.load('x')", "np.lib.npyio.load(...)"),
    ("np", "the name 'np' is not a declared variable"),
    ("(lambda: 1)()", "lambda"),
    ("[x for x in u]", "a list comprehension"),
    ("{k: 1 for k in u}", "a dict comprehension"),
    ("{k for k in u}", "a set comprehension"),
    ("sum(x for x in u)", "the call sum(...)"),
    ("u.real", "'.real'"),
    ("open('/etc/passwd')", "the call open(...)"),
    ("eval('1')", "the call eval(...)"),
    ("exec('1')", "the call exec(...)"),
    ("getattr(u, 'T')", "the call getattr(...)"),
    ("globals()", "the call globals(...)"),
    ("undeclared + u", "'undeclared' is not a declared variable"),
    ("'text'", "the constant 'text'"),
    ("b'bytes'", "the constant b'bytes'"),
    ("True * u", "the constant True"),
    ("1j * u", "the constant 1j"),
    ("...", "the constant Ellipsis"),
    ("np.sum(u, out=u)", "the keyword argument 'out=u'"),
    ("np.sum(u, axis=u)", "the keyword argument 'axis=u'"),
    ("np.sum(**{'axis': 0})", "'**"),
    ("np.sum(*u)", "Starred"),
    ("u if u else u", "IfExp"),
    ("u < 0 < u", "Compare"),
    ("u.sum(out=u)", "the keyword argument 'out=u'"),
    ("u.tolist()", "the call u.tolist(...)"),
    ("u and u", "BoolOp"),
    ("(w := u)", "NamedExpr"),
    ("f'{u}'", "JoinedStr"),
    ("[u, u]", "List"),
    ("(u, u)", "Tuple"),
    ("u[u]", "the index 'u'"),
    ("u[0.5]", "the index '0.5'"),
    ("u[:u]", "the slice bound 'u'"),
    ("np.eye(10**9)", "np.eye takes one integer size"),
    ("np.eye(u)", "np.eye takes one integer size"),
    ("u // 2", "BinOp"),
    ("~u", "UnaryOp"),
    ("u; u", "not a valid expression"),
    ("import os", "not a valid expression"),
]


@pytest.mark.parametrize("expression, named", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_or_unknown_expressions_are_refused_by_name(expression, named, capsys):
    code = main(["--loss", expression, "--wrt", "u", "--claim", "2 * u", "--shape", "u=3"])
    captured = capsys.readouterr()
    assert code == 2 and named in captured.err, captured.err
    assert captured.out == ""  # refused before anything was computed


@pytest.mark.parametrize("expression, named", HOSTILE[:8], ids=[h[0] for h in HOSTILE[:8]])
def test_claims_are_parsed_as_strictly_as_losses(expression, named, capsys):
    code = main(["--loss", "np.sum(u * u)", "--wrt", "u", "--claim", expression,
                 "--shape", "u=3"])
    err = capsys.readouterr().err
    assert code == 2 and "--claim for u" in err and named in err


def test_nothing_is_evaluated_while_parsing(monkeypatch):
    calls = []
    monkeypatch.setattr(expr, "evaluate", lambda *a: calls.append(a))
    with pytest.raises(UsageError):
        parse("np.sum(u) + __import__('os')", {"u": (3,)}, "--loss")
    parse("np.sum(u)", {"u": (3,)}, "--loss")
    assert calls == []


def test_the_evaluator_agrees_with_numpy():
    rng = np.random.default_rng(0)
    values = {"W": rng.standard_normal((3, 4)), "u": rng.standard_normal(4),
              "v": rng.standard_normal(3)}
    W, u, v = values["W"], values["u"], values["v"]
    for text, expected in [
        ("np.sum((W @ u - v)**2)", np.sum((W @ u - v) ** 2)),
        ("-W.T @ v / 2 + 1e-3", -W.T @ v / 2 + 1e-3),
        ("np.linalg.norm(W, axis=0)[1:3]", np.linalg.norm(W, axis=0)[1:3]),
        ("np.outer(v, u)[-1, ::2]", np.outer(v, u)[-1, ::2]),
        ("np.trace(np.eye(3) @ W @ W.T)", np.trace(W @ W.T)),
    ]:
        shapes = {name: value.shape for name, value in values.items()}
        assert np.allclose(evaluate(parse(text, shapes, "test"), values), expected)


def test_huge_powers_fail_fast_instead_of_hanging(capsys):
    assert main(["--loss", "np.sum(u) * 10**10**10", "--wrt", "u", "--claim", "u",
                 "--shape", "u=3"]) == 2
    assert "--loss is not finite (inf) at this point" in capsys.readouterr().err


def test_overlong_expressions_are_refused(capsys):
    assert main(["--loss", "u" + " + u" * 1000, "--wrt", "u", "--claim", "u",
                 "--shape", "u=3"]) == 2
    assert "longer than" in capsys.readouterr().err


# ------------------------------------------------------------------------- bad usage

@pytest.mark.parametrize("arguments, message", [
    (["--wrt", "u", "--claim", "u", "--claim", "u"], "1 --wrt but 2 --claim"),
    (["--wrt", "w", "--claim", "u"], "'w' has no --shape"),
    (["--loss", "u * u", "--wrt", "u", "--claim", "2 * u"], "a loss is a scalar"),
    (["--loss", "np.sum(u @ np.eye(2))", "--wrt", "u", "--claim", "u"],
     "@ of shapes (3,) and (2, 2): the inner sizes 3 and 2 differ"),
    (["--loss", "np.sum(np.log(u - 100))", "--wrt", "u", "--claim", "u"], "not finite"),
])
def test_usage_errors_exit_with_2(arguments, message, capsys):
    code = main(["--loss", "np.sum(u * u)", "--shape", "u=3", *arguments])
    assert code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("shape, message", [
    ("W=3x", "not NAME=SHAPE"), ("W", "not NAME=SHAPE"), ("W=2x2x", "not NAME=SHAPE"),
    ("np=3", "cannot be a variable name"), ("__x=3", "cannot be a variable name"),
    ("W=0x2", "sizes must be positive"), ("W=2000x1000", "at most 1,000,000 entries"),
    ("W=3x4:spd", "a spd matrix is square"), ("W=3x3:blob", "unknown structure 'blob'"),
])
def test_bad_shapes_are_usage_errors(shape, message, capsys):
    assert main(["--loss", "np.sum(W)", "--wrt", "W", "--claim", "W", "--shape", shape]) == 2
    assert message in capsys.readouterr().err


def test_missing_arguments_are_usage_errors(capsys):
    assert main(["--wrt", "u", "--claim", "u", "--shape", "u=3"]) == 2
    assert "--loss" in capsys.readouterr().err
