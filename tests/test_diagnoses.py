"""The structure under the checks: diagnoses as data (one registry, codes in reports and in
--json), one report type (a verdict enum, arrays out of ==), a bug in f told from the edge of
its domain, the complex-step fallback inside one check, Problem as a library call."""

import json

import numpy as np
import pytest

from mcv import CheckReport, Problem, Verdict, check_gradient, check_hessian
from mcv.checks import REGISTRY, Diagnosis, words_table
from mcv.checks.mistakes import not_a_gradient_field
from mcv.cli import main

X = np.arange(1.0, 7.0).reshape(2, 3)


def loss(W):
    return np.sum(W ** 2)


def test_every_diagnosis_reads_from_the_one_registry():
    d = Diagnosis.of("factor", k=0.5, what="the gradient", lead="the claim ")
    assert str(d) == ("the claim is off by a constant factor: claim = 1/2 × the gradient "
                      "(a factor 2 missing, e.g. from the square)")
    assert d.as_json() == {"code": "factor", "k": 0.5, "what": "the gradient",
                           "lead": "the claim "}
    with pytest.raises(KeyError, match="no diagnosis"):
        Diagnosis.of("no-such-code")
    assert {entry.kind for entry in REGISTRY.values()} == {"rejected", "undecided", "supporting",
                                                            "note", "part"}


def test_the_words_table_lists_every_diagnosis_with_words_it_prints():
    table = words_table()
    printed = [code for code, entry in REGISTRY.items() if entry.kind != "part"]
    assert len(printed) >= 50
    for code in printed:
        entry = REGISTRY[code]
        assert entry.words and entry.meaning, code
        assert f"`{code}`" in table and entry.words in table
        if isinstance(entry.text, str):  # the words are the template's own
            assert entry.words in entry.text, code
    assert "|" not in "".join(REGISTRY[c].words + REGISTRY[c].meaning for c in printed)


def test_reports_carry_codes_and_compare_without_their_arrays():
    first = check_gradient(loss, lambda W: -2 * W, X)
    second = check_gradient(loss, lambda W: -2 * W, X)
    assert first.codes == ("sign",) and first.verdict is Verdict.REJECTED
    assert first == second and hash(first) == hash(second)  # arrays take no part
    assert first.verdict == "REJECTED" and str(first.verdict) == "REJECTED"
    assert isinstance(first, CheckReport) and not first.ok


def test_a_bug_in_f_near_x_is_named_not_taken_for_the_domain_edge():
    def f(W):
        if W[0, 0] != 1.0:  # fine at x itself, broken everywhere near it
            return undefined_name  # noqa: F821
        return np.sum(W ** 2)
    report = check_gradient(f, lambda W: 2 * W, X)
    assert report.verdict is Verdict.CANNOT_DECIDE and report.codes == ("f-raised",)
    assert "NameError" in report.diagnosis and "bug in f" in report.diagnosis


def test_a_domain_error_near_x_shrinks_the_step():
    def f(x):
        if x[0] > 1.0:
            raise ValueError("outside the domain")
        return np.sum(np.sqrt(1.0 - x ** 2))
    x = np.array([1.0 - 1e-4, 0.3])
    report = check_gradient(f, lambda x: -x / np.sqrt(1.0 - x ** 2), x,
                            method="central-difference")
    assert report.ok and "step-shrunk" in report.codes, str(report)


def test_the_complex_step_fallback_keeps_rtol_and_the_count():
    def f(w):  # analytic along the probes' directions, refuses a step in entry (1, 2) alone
        imaginary = np.imag(w) if np.iscomplexobj(w) else np.zeros_like(w)
        if np.count_nonzero(imaginary) == 1 and imaginary[1, 2] != 0:
            raise TypeError("no complex input here")
        return np.sum(w ** 3)
    report = check_gradient(f, lambda w: 3 * w ** 2, X, rtol=3e-9)
    assert report.ok and report.method == "central-difference", str(report)
    assert report.rtol == 3e-9           # the caller's rtol, not the default
    assert report.evaluations > 6 * X.size   # the probes' and the complex entries' calls too


def test_a_hess_that_raises_is_a_rejected_claim():
    def hess(W):
        raise ValueError("shapes (6,6) and (3,) not aligned")
    report = check_hessian(lambda W: 2 * W, hess, X)
    assert report.verdict is Verdict.REJECTED and report.codes == ("hess-raised",)


def test_problem_checks_an_expression_with_declared_structure():
    problem = Problem("np.linalg.slogdet(S)[1]", {"S": "3x3:spd"})
    assert problem.check("S", "np.linalg.inv(S)", seed=1).ok
    cookbook = problem.check("S", "2 * np.linalg.inv(S) - np.diag(np.diag(np.linalg.inv(S)))",
                             seed=1)
    assert cookbook.codes == ("cookbook-convention", "symmetric-declared")
    wrong_shape = Problem("np.sum((W @ u)**2)", {"W": "2x3", "u": "3"}).check("W", "u @ W")
    assert wrong_shape.codes == ("claim-not-computable",)


def test_json_emits_the_codes(capsys):
    code = main(["check", "--loss", "np.sum((W @ u - v)**2)", "--wrt", "W", "--claim",
                 "np.outer(W @ u - v, u)", "--shape", "W=3x4", "--shape", "u=4",
                 "--shape", "v=3", "--json"])
    result = json.loads(capsys.readouterr().out)["results"]["W"][0]
    assert code == 1 and result["codes"][:2] == ["factor", "symbolic-difference"]
    first = result["diagnoses"][0]
    assert first["code"] == "factor" and first["k"] == pytest.approx(0.5)


@pytest.mark.parametrize("name, claim", [
    ("sign (locally constant)", lambda x: np.sign(x)),
    ("abs (a diagonal Jacobian)", lambda x: np.abs(x)),
    ("x / |x| (symmetric)", lambda x: x / np.linalg.norm(x)),
    ("where (diagonal)", lambda x: np.where(x > 0, x, 0.0)),
    ("maximum with a constant", lambda x: np.maximum(x, 0.3)),
])
def test_no_curl_is_claimed_for_a_gradient_field_where_the_complex_step_lies(name, claim):
    """Each claim is the gradient of some function (its Jacobian is symmetric), and each is
    written with an operation that corrupts or drops a complex step: no curl statement."""
    x = np.array([0.7, -1.3, 2.1, -0.4])
    assert not_a_gradient_field(claim, x) is None, name


def test_no_curl_is_claimed_at_a_tie_of_max():
    x = np.array([0.5, 0.5, -1.0])       # entries 0 and 1 sit on the kink of the max
    weights = np.array([1.0, 2.0, 3.0])
    claim = lambda x: np.maximum(x, 0.5) * weights  # noqa: E731 (a separable f's gradient)
    assert not_a_gradient_field(claim, x) is None


def test_a_real_curl_is_found_by_a_valid_method_through_sign():
    A = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.0, 1.0]])
    x = np.array([0.7, -1.3, 2.1])
    claim = lambda x: A @ x * np.sign(x) ** 2   # sign(x)² = 1 here: the Jacobian is A  # noqa
    found = not_a_gradient_field(claim, x)
    assert found is not None and found.code == "not-a-gradient-field"


def test_an_explanation_that_fails_leaves_the_verdict_and_says_nothing(monkeypatch):
    import mcv.checks.explain as explain

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in an explanation")
    monkeypatch.setattr(explain, "symbolic_difference", broken)
    report = Problem("np.sum((W @ u - v)**2)", {"W": "3x4", "u": "4", "v": "3"}).check(
        "W", "2 * np.outer(W @ u, u)")
    assert not report.ok and report.codes == ("error-rank-one",)
