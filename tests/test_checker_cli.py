"""The command-line checker: verdicts, exit codes, several pairs, and refusal of anything that
is not a plain numeric expression (parsed, never eval'ed)."""

import subprocess
import sys
from pathlib import Path

import pytest

from checker_cli import main

ROOT = Path(__file__).resolve().parents[1]
FROBENIUS = ["--loss", "np.sum((W @ u - v)**2)", "--shape", "W=3x4", "--shape", "u=4",
             "--shape", "v=3"]


def test_issue_example_runs_from_the_repository_root():
    command = [sys.executable, "chapters/checks.py", *FROBENIUS, "--wrt", "W",
               "--claim", "2 * np.outer(W @ u - v, u)"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "verified" in result.stdout and "complex-step" in result.stdout


def test_several_pairs_and_a_wrong_claim_give_exit_code_1(capsys):
    code = main([*FROBENIUS, "--wrt", "W", "--claim", "np.outer(W @ u - v, u)",
                 "--wrt", "u", "--claim", "2 * W.T @ (W @ u - v)",
                 "--wrt", "v", "--claim", "-2 * (W @ u - v)"])
    out = capsys.readouterr().out
    assert code == 1
    assert "1/2 × the gradient" in out and "numeric gradient:" in out and "claimed gradient:" in out
    assert out.count("verified") == 2


def test_transposed_claim_is_diagnosed(capsys):
    assert main([*FROBENIUS, "--wrt", "W", "--claim", "2 * np.outer(u, W @ u - v)"]) == 1
    assert "transpose of the gradient" in capsys.readouterr().out


def test_a_claim_of_the_wrong_shape_is_a_failed_check_not_a_crash(capsys):
    assert main(["--loss", "np.sum(x * x)", "--wrt", "x", "--claim", "2 * np.outer(x, x)",
                 "--shape", "x=3"]) == 1
    assert "the claim has shape (3, 3), but x has shape (3,)" in capsys.readouterr().out


@pytest.mark.parametrize("expression, named", [
    ("__import__('os')", "__import__"),
    ("().__class__", "__class__"),
    ("np.__dict__", "__dict__"),
    ("(lambda: 1)()", "lambda"),
    ("[x for x in u]", "listcomp"),
    ("{k: 1 for k in u}", "dictcomp"),
    ("u.real", ".real"),
    ("open('/etc/passwd')", "open"),
    ("eval('1')", "eval"),
    ("np.load('f')", "np.load"),
    ("np.sum.__globals__", "__globals__"),
    ("u[0]", "subscript"),
    ("'text'", "'text'"),
    ("undeclared + u", "'undeclared' is not a declared variable"),
    ("np.sum(u, out=u)", "'out'"),
    ("u if u else u", "ifexp"),
])
def test_hostile_or_unknown_expressions_are_refused_by_name(expression, named, capsys):
    code = main(["--loss", expression, "--wrt", "u", "--claim", "u", "--shape", "u=3"])
    err = capsys.readouterr().err
    assert code == 2 and named in err, err


def test_huge_powers_fail_fast_instead_of_hanging(capsys):
    assert main(["--loss", "np.sum(u) * 10**10**10", "--wrt", "u", "--claim", "u",
                 "--shape", "u=3"]) == 2


@pytest.mark.parametrize("arguments, message", [
    (["--wrt", "u", "--claim", "u", "--claim", "u"], "1 --wrt but 2 --claim"),
    (["--wrt", "w", "--claim", "u"], "'w' has no --shape"),
    (["--loss", "u * u", "--wrt", "u", "--claim", "2 * u"], "must return a real scalar"),
    (["--wrt", "u", "--claim", "u @ np.outer(u, u) @ np.eye(2)"], "matmul"),
])
def test_usage_errors_exit_with_2(arguments, message, capsys):
    code = main(["--loss", "np.sum(u * u)", "--shape", "u=3", *arguments])
    assert code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("shape", ["W=3x", "W", "np=3", "W=0x2", "W=2x2x2"])
def test_bad_shapes_are_argparse_errors(shape):
    with pytest.raises(SystemExit) as exit_info:
        main(["--loss", "np.sum(W)", "--wrt", "W", "--claim", "W", "--shape", shape])
    assert exit_info.value.code == 2
