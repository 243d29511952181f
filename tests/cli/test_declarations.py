"""Declarations and data: points satisfy their declarations, structured variables are
checked on their structure, --value, --let, --points, --json, true scalars."""

import json

import numpy as np
import pytest
from hypothesis import given, strategies as st

from mcv.cli import main as mcv_main
from mcv.declare import draw, parse_declaration


def main(argv):
    return mcv_main(["check", *argv])


@given(n=st.integers(1, 6), m=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_points_satisfy_their_declarations(n, m, seed):
    rng = np.random.default_rng(seed)
    big, small = max(n, m), min(n, m)
    S = draw(parse_declaration(f"S={n}x{n}:sym"), rng)
    assert np.array_equal(S, S.T)
    X = draw(parse_declaration(f"X={n}x{n}:spd(cond=1e6)"), rng)
    eigenvalues = np.linalg.eigvalsh(X)
    assert np.array_equal(X, X.T) and eigenvalues.min() > 0
    assert eigenvalues.max() / eigenvalues.min() == pytest.approx(1e6 if n > 1 else 1, rel=1e-6)
    D = draw(parse_declaration(f"D={n}x{n}:diag"), rng)
    assert np.array_equal(D, np.diag(np.diag(D)))
    Q = draw(parse_declaration(f"Q={big}x{small}:orth"), rng)
    np.testing.assert_allclose(Q.T @ Q, np.eye(small), atol=1e-12)
    assert draw(parse_declaration(f"s={n}:pos"), rng).min() > 0
    P = draw(parse_declaration(f"P={n}x{m}:simplex"), rng)
    np.testing.assert_allclose(P.sum(axis=1), 1, atol=1e-12)
    assert P.min() > 0
    Y = draw(parse_declaration(f"Y={n}x{m}:onehot"), rng)
    assert np.array_equal(Y.sum(axis=1), np.ones(n)) and set(np.unique(Y)) <= {0.0, 1.0}
    assert set(np.unique(draw(parse_declaration(f"M={n}x{m}:mask"), rng))) <= {0.0, 1.0}
    y = draw(parse_declaration(f"y={n}:int(0,3)"), rng)
    assert set(np.unique(y)) <= {0.0, 1.0, 2.0}


def test_a_symmetric_variable_is_perturbed_symmetrically(monkeypatch):
    from mcv import declare
    seen = []
    f, _ = declare.symmetric_view(lambda X: seen.append(X) or float(np.sum(X)), lambda X: X)
    f(np.arange(9.0).reshape(3, 3))
    assert np.array_equal(seen[0], seen[0].T)


LOGDET = ["--loss", "np.linalg.slogdet(X)[1]", "--wrt", "X", "--shape", "X=4x4:spd"]
COOKBOOK = "2 * np.linalg.inv(X) - np.linalg.inv(X) * np.eye(4)"


def test_log_det_of_a_declared_spd_matrix_is_verified_at_every_seed(capsys):
    assert main([*LOGDET, "--claim", "np.linalg.inv(X)", "--points", "10"]) == 0
    out = capsys.readouterr().out
    assert out.count("verified") == 10 and "perturbed symmetrically" in out


def test_the_cookbook_form_is_named_and_accepted_only_when_asked_for(capsys):
    assert main([*LOGDET, "--claim", COOKBOOK]) == 1
    out = capsys.readouterr().out
    assert "symmetric-matrix (Matrix Cookbook) convention" in out
    assert "the transpose" not in out
    assert main([*LOGDET, "--claim", COOKBOOK, "--symmetric-convention", "cookbook"]) == 0
    assert main([*LOGDET, "--claim", "np.linalg.inv(X)",
                 "--symmetric-convention", "cookbook"]) == 1


def test_a_diagonal_variable_is_checked_on_its_diagonal(capsys):
    assert main(["--loss", "np.sum(np.log(np.abs(np.diag(D))))", "--wrt", "D",
                 "--claim", "np.diag(1 / np.diag(D))", "--shape", "D=3x3:diag"]) == 0
    assert "checked on its diagonal" in capsys.readouterr().out


def test_softmax_cross_entropy_with_one_hot_labels(capsys):
    softmax = "np.exp(Z) / np.sum(np.exp(Z), axis=1, keepdims=True)"
    common = ["--loss", f"-np.sum(Y * np.log({softmax}))", "--wrt", "Z",
              "--shape", "Z=6x3", "--shape", "Y=6x3:onehot", "--points", "3"]
    assert main([*common, "--claim", f"{softmax} - Y"]) == 0
    assert main([*common, "--claim", f"Y - {softmax}"]) == 1
    assert "wrong sign" in capsys.readouterr().out


def test_a_true_scalar_variable(capsys):
    assert main(["--loss", "lam * np.sum(w * w)", "--wrt", "lam", "--claim", "np.sum(w * w)",
                 "--shape", "lam=", "--shape", "w=3"]) == 0
    assert main(["--loss", "lam * np.sum(w * w)", "--wrt", "lam", "--claim", "w * w",
                 "--shape", "lam=()", "--shape", "w=3"]) == 1
    assert "shape (3,), but x has shape ()" in capsys.readouterr().out


def test_discrete_variables_are_data_not_wrt(capsys):
    assert main(["--loss", "np.sum(Y * Y)", "--wrt", "Y", "--claim", "2 * Y",
                 "--shape", "Y=3x2:onehot"]) == 2
    assert "is data" in capsys.readouterr().err


def test_value_fixes_a_variable_to_the_readers_numbers(tmp_path, capsys):
    y = np.array([0.5, -1.0, 2.0])
    np.save(tmp_path / "y.npy", y)
    np.savetxt(tmp_path / "A.csv", np.arange(6.0).reshape(2, 3), delimiter=",")
    assert main(["--loss", "np.sum((A @ u - 1)**2) + y @ u", "--wrt", "u",
                 "--claim", "2 * A.T @ (A @ u - 1) + y", "--shape", "u=3",
                 "--value", f"y={tmp_path / 'y.npy'}", "--value", f"A={tmp_path / 'A.csv'}",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["exit_code"] == 0 and out["results"]["u"][0]["ok"]


@pytest.mark.parametrize("value, message", [
    ("y=missing.npy", "cannot read"), ("y=data.txt", "neither .npy nor .csv"),
    ("y", "not NAME=FILE")])
def test_bad_values_are_usage_errors(value, message, capsys):
    assert main(["--loss", "np.sum(u)", "--wrt", "u", "--claim", "u", "--shape", "u=3",
                 "--value", value]) == 2
    assert message in capsys.readouterr().err


def test_let_names_an_intermediate(capsys):
    assert main(["--loss", "0.5 * np.sum((H - Y)**2)", "--let", "Z=X @ T",
                 "--let", "H=np.tanh(Z)", "--wrt", "T",
                 "--claim", "X.T @ ((H - Y) * (1 - H**2))", "--shape", "X=5x3",
                 "--shape", "T=3x2", "--shape", "Y=5x2"]) == 0


def test_json_output_for_several_points_and_pairs(capsys):
    code = main(["--loss", "np.sum((W @ u - v)**2)", "--shape", "W=3x4", "--shape", "u=4",
                 "--shape", "v=3", "--wrt", "W", "--claim", "np.outer(W @ u - v, u)",
                 "--wrt", "v", "--claim", "2 * (v - W @ u)", "--points", "2", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == out["exit_code"] == 1 and out["seeds"] == [0, 1]
    assert [r["ok"] for r in out["results"]["W"]] == [False, False]
    assert "1/2" in out["results"]["W"][0]["diagnosis"]
    assert all(r["ok"] for r in out["results"]["v"])


def test_a_loss_starting_with_a_minus_sign_is_read_as_the_loss(capsys):
    assert mcv_main(["check", "--loss", "-np.sum(u * u)", "--wrt", "u", "--claim", "-2 * u",
                     "--shape", "u=3"]) == 0
