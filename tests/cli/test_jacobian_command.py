"""mcv derive --of (non-scalar expressions) and mcv check --jacobian from the command line:
the issue's examples derived and proved in both layouts, --json with jacobian_numpy, the
tempting wrong Jacobians rejected and named, scalar losses unchanged."""

import json

import numpy as np
import pytest

from mcv.cli import main as mcv_main

AXB = ["--shape", "A=2x3", "--shape", "X=3x4", "--shape", "B=4x5"]


def run(capsys, *argv):
    code = mcv_main(list(argv))
    return code, capsys.readouterr().out


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
@pytest.mark.parametrize("expression, shapes, wrt", [
    ("np.linalg.inv(X)", ["X=3x3"], "X"),
    ("np.exp(z) / np.sum(np.exp(z))", ["z=4"], "z"),
    ("X.T @ X", ["X=4x2"], "X"),
    ("A @ X @ B", ["A=2x3", "X=3x4", "B=4x5"], "X"),
    ("np.tanh(Z)", ["Z=2x3"], "Z")])
def test_derive_json_in_both_layouts(capsys, layout, expression, shapes, wrt):
    argv = ["derive", "--of", expression, "--wrt", wrt, "--layout", layout, "--json"]
    for s in shapes:
        argv += ["--shape", s]
    code, out = run(capsys, *argv)
    r = json.loads(out)[wrt]
    assert code == 0 and r["verified"] and r["layout"] == layout
    for key in ("differential", "latex", "jacobian_numpy", "layout", "verified",
                "max_rel_error", "method", "points"):
        assert key in r
    sizes = dict(s.split("=") for s in shapes)
    rng = np.random.default_rng(0)
    values = {n: rng.standard_normal([int(k) for k in t.split("x")]) for n, t in sizes.items()}
    J = eval(r["jacobian_numpy"], {"np": np}, values)
    F = eval(expression, {"np": np}, values)
    assert J.shape == (F.size, values[wrt].size)
    assert r["shape"] == list(J.shape if layout == "numerator" else J.T.shape)


def test_derive_prints_differential_jacobian_and_proof(capsys):
    code, out = run(capsys, "derive", "--of", "A @ X @ B", "--wrt", "X", *AXB, "--steps")
    assert code == 0
    assert "dF = A dX B" in out and "  Bᵀ ⊗ A" in out and "numpy: np.kron(B.T, A)" in out
    assert "proved: verified at 3 random points with check_jacobian" in out
    assert "N1 = A X   ⇒ dN1 = A dX" in out
    code, out = run(capsys, "derive", "--of", "A @ X @ B", "--wrt", "X", *AXB,
                    "--layout", "denominator")
    assert code == 0 and "  B ⊗ Aᵀ" in out and "denominator layout" in out


def test_scalar_losses_keep_their_output(capsys):
    code, out = run(capsys, "derive", "--loss", "np.sum((W @ u - v)**2)", "--wrt", "W",
                    "--shape", "W=3x4", "--shape", "u=4", "--shape", "v=3")
    assert code == 0 and out.startswith("gradient in W (3x4):\n  2 (W u − v) uᵀ\n")


@pytest.mark.parametrize("claim, layout, code, words", [
    ("np.kron(B.T, A)", "numerator", 0, "verified"),
    ("A @ dX @ B", "numerator", 0, "verified"),
    ("np.kron(B.T, A).T", "denominator", 0, "verified"),
    ("np.kron(A, B.T)", "numerator", 1, "vec taken row by row"),
    ("np.kron(B.T, A).T", "numerator", 1, "denominator layout"),
    ("-np.kron(B.T, A)", "numerator", 1, "wrong sign"),
    ("A @ dX.T @ B", "numerator", 1, "cannot be computed")])
def test_check_jacobian_names_the_mistake(capsys, claim, layout, code, words):
    got, out = run(capsys, "check", "--jacobian", "--of", "A @ X @ B", "--wrt", "X", *AXB,
                   "--claim", claim, "--layout", layout)
    assert got == code and words in out, out


def test_check_jacobian_commutation_and_json(capsys):
    code, out = run(capsys, "check", "--jacobian", "--of", "np.linalg.inv(X)", "--wrt", "X",
                    "--shape", "X=3x3", "--claim",
                    "-np.linalg.inv(X) @ dX.T @ np.linalg.inv(X)", "--json", "--points", "2")
    result = json.loads(out)
    assert code == 1 and result["results"]["X"][0]["codes"] == ["jacobian-commutation"]
    assert result["results"]["X"][0]["kind"] == "differential"


def test_check_names_the_missing_term_from_the_derived_jacobian(capsys):
    code, out = run(capsys, "check", "--jacobian", "--of", "X.T @ X", "--wrt", "X",
                    "--shape", "X=4x2", "--claim", "2 * X.T @ dX")
    assert code == 1
    assert "written in its terms, the claim is 2 (I₂ ⊗ Xᵀ): the term (Xᵀ ⊗ I₂) K(4,2) " \
           "missing; I₂ ⊗ Xᵀ taken 2 times, not once" in out
    code, out = run(capsys, "check", "--jacobian", "--of", "np.exp(z) / np.sum(np.exp(z))",
                    "--wrt", "z", "--shape", "z=4", "--claim",
                    "np.diag(np.exp(z) / np.sum(np.exp(z)))", "--json")
    codes = json.loads(out)["results"]["z"][0]["codes"]
    assert code == 1 and codes == ["other-term", "jacobian-terms"]


def test_of_takes_an_expression_that_starts_with_a_minus(capsys):
    from mcv.cli import main
    assert main(["derive", "--of", "-np.linalg.inv(X)", "--wrt", "X", "--shape", "X=3x3"]) == 0
    assert "dF = X⁻¹ dX X⁻¹" in capsys.readouterr().out
