"""Resource safety of the expression language (issue 18): shape inference refuses what would
be too large before anything is computed, numpy's failures become plain messages, and a fuzz
run over the grammar never ends in a traceback, a runaway time or memory."""

import io
import subprocess
import sys
import time
import tracemalloc
from contextlib import redirect_stderr, redirect_stdout

import pytest
from hypothesis import given, settings, strategies as st

from mcv.cli import main as mcv_main

SMALL = ["--wrt", "W", "--claim", "np.ones_like(W)", "--shape", "W=3x4"]


def main(argv):
    return mcv_main(["check", *argv])


def run(*arguments, timeout=60):
    """The real command, as a reader runs it: (exit code, stdout, stderr, seconds)."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "mcv", "check", *arguments],
                            capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout, result.stderr, time.perf_counter() - start


@pytest.mark.parametrize("loss, named", [
    ("np.sum(np.outer(np.eye(1000), np.eye(1000)))", "shape (1000000, 1000000)"),
    ("np.sum(np.outer(np.eye(150), np.eye(150)))", "shape (22500, 22500)"),
    ("np.sum(np.kron(np.eye(300), np.eye(300)))", "shape (90000, 90000)"),
    ("np.sum(np.eye(100000))", "shape (100000, 100000)"),
])
def test_the_issues_commands_are_refused_by_name_before_computing(loss, named):
    code, out, err, _ = run("--loss", loss, *SMALL)
    assert code == 2 and named in err and "--max-entries" in err
    assert "Traceback" not in out + err


def test_a_limit_can_be_raised(capsys):
    loss = "np.sum(np.outer(np.eye(40), np.eye(40))) * np.sum(W)"
    assert main(["--loss", loss, *SMALL, "--max-entries", "1000"]) == 2
    assert main(["--loss", loss, "--wrt", "W", "--claim", "1600 * np.ones_like(W)",
                 "--shape", "W=3x4", "--max-entries", "3000000"]) == 0


def test_too_much_work_is_refused():
    code, _, err, _ = run("--loss", "np.sum(np.ones((2000, 2000)) @ np.ones((2000, 2000)))",
                          *SMALL, "--max-work", "1e8")
    assert code == 2 and "multiply-adds" in err and "--max-work" in err


def test_the_wall_clock_stops_a_long_check():
    code, _, err, seconds = run("--loss", "np.sum((W @ U)**2)", "--wrt", "W",
                                "--claim", "2 * (W @ U) @ U.T", "--shape", "W=600x600",
                                "--shape", "U=600x600", "--timeout", "1", "--points", "20")
    assert code == 2 and "--timeout" in err and seconds < 30


def test_deep_nesting_is_refused_by_a_depth_limit(capsys):
    assert main(["--loss", "(" * 900 + "W" + ")" * 900, *SMALL]) == 2
    assert "nests brackets 900 deep" in capsys.readouterr().err
    assert main(["--loss", "np.sum(" + "-" * 500 + "W)", *SMALL]) == 2
    assert "nests more than" in capsys.readouterr().err


@pytest.mark.parametrize("loss, code, message", [
    ("np.linalg.slogdet(W @ W.T - W @ W.T)[1] + np.sum(W)", 2, "not finite"),
    ("np.sum(np.linalg.inv(W[:, :3] - W[:, :3]))", 2, "linear algebra failed"),
    ("np.sum(np.exp(np.exp(np.exp(W * 100))))", 2, "not finite"),
])
def test_numpy_failures_become_plain_messages(loss, code, message, capsys):
    assert main(["--loss", loss, *SMALL]) == code
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.out + captured.err


# --------------------------------------------------------------------------- the fuzz test

LEAVES = st.sampled_from(["W", "u", "v", "A", "2.5", "np.pi", "W.T", "u[0]", "A[:, 1]",
                          "np.eye(3)", "np.eye(4000)", "(-1)"])
UNARY = st.sampled_from(["np.exp({})", "np.log({})", "np.sum({})", "np.tanh({})",
                         "np.linalg.inv({})", "np.diag({})", "np.sqrt({})", "-{}", "{}.T",
                         "np.linalg.norm({}, 'fro')", "{}.sum(axis=0)", "np.outer({}, {})",
                         "np.kron({}, {})", "{}.reshape(-1)", "np.linalg.slogdet({})[1]",
                         "np.max({}, keepdims=True)", "np.mean({}, axis=1)"])
BINARY = st.sampled_from(["{} + {}", "{} @ {}", "{} * {}", "{} / {}", "{} ** {}",
                          "np.maximum({}, {})", "np.where({} > 0, {}, 0)", "{} - {}",
                          "np.einsum('ij,jk->ik', {}, {})", "np.linalg.solve({}, {})"])
HOSTILE = st.sampled_from(["__import__('os')", "().__class__", "np.load('x')", "u.real",
                           "lambda: 0", "[0] * 10**9", "'a' * 10**9", "10**10**10",
                           "(" * 400 + "u" + ")" * 400, "u" + " + u" * 300])


def expressions():
    return st.recursive(LEAVES | HOSTILE, lambda inner: st.one_of(
        st.tuples(UNARY, inner).map(lambda t: t[0].format(t[1], t[1])),
        st.tuples(BINARY, inner, inner).map(lambda t: t[0].format(t[1], t[2]))),
        max_leaves=12)


@settings(max_examples=60, deadline=None)
@given(loss=expressions(), claim=expressions(), big=st.booleans())
def test_fuzz_every_input_ends_in_0_1_or_2_quickly_without_traceback_or_memory(
        loss, claim, big):
    shapes = ["--shape", "W=3x4", "--shape", "u=4", "--shape", "v=3", "--shape", "A=4x4"]
    if big:
        shapes[1] = "W=3x900"
    out, err = io.StringIO(), io.StringIO()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["--loss", f"np.sum({loss})", "--wrt", "u", "--claim", claim,
                         *shapes, "--timeout", "5"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code in (0, 1, 2)
    assert "Traceback" not in out.getvalue() + err.getvalue()
    assert time.perf_counter() - start < 10
    assert peak < 400 * 2**20  # the entry budget: 10**7 float64 entries are 80 MB
