"""mcv.jacobians: the Jacobian read off the forward-mode differential, in closed form, for
the issue's examples and on random non-square shapes; its numpy text evaluated with plain
numpy (not the safe language) against an independent central-difference Jacobian; the
denominator layout the transpose of the numerator layout; each proof can fail."""

import random

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mcv.checks import commutation
from mcv.jacobians import derive_jacobian, jacobian, MapProblem
from mcv.derive import differential
from mcv.expr import UsageError


def vec(M):
    return np.asarray(M).ravel(order="F")


def numeric_jacobian(f, x, h=1e-6):
    """Central differences, entry by entry in vec order (independent of mcv.checks)."""
    columns = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = h
        step = e.reshape(x.shape, order="F")
        columns.append((vec(f(x + step)) - vec(f(x - step))) / (2 * h))
    return np.array(columns).T


def evaluated(code, values):
    return eval(code, {"np": np}, dict(values))  # the planners' way: plain numpy


#: (expression, declarations, wrt, the Jacobian printed, its differential printed)
EXAMPLES = {
    "inverse": ("np.linalg.inv(X)", {"X": "3x3"}, "X", "−(X⁻ᵀ ⊗ X⁻¹)", "−X⁻¹ dX X⁻¹"),
    "softmax": ("np.exp(z) / np.sum(np.exp(z))", {"z": "4"}, "z", "diag(p) − p pᵀ",
                "(diag(p) − p pᵀ) dz"),
    "gram": ("X.T @ X", {"X": "4x2"}, "X", "(Xᵀ ⊗ I₂) K(4,2) + I₂ ⊗ Xᵀ", "dXᵀ X + Xᵀ dX"),
    "AXB": ("A @ X @ B", {"A": "2x3", "X": "3x4", "B": "4x5"}, "X", "Bᵀ ⊗ A", "A dX B"),
    "entrywise": ("np.tanh(Z)", {"Z": "2x3"}, "Z", "diag(vec(1 − tanh(Z)^∘2))",
                  "(1 − tanh(Z)^∘2) ⊙ dZ"),
    "seed 003": ("b - a", {"a": "3", "b": "3"}, "a", "−I₃", "−da"),
    "seed 002": ("np.tanh(X @ T)", {"X": "5x3", "T": "3x2"}, "T",
                 "diag(vec(1 − tanh(X T)^∘2)) (I₂ ⊗ X)", "(1 − tanh(X T)^∘2) ⊙ (X dT)"),
    "Wu in W": ("W @ u - v", {"W": "3x4", "u": "4", "v": "3"}, "W", "uᵀ ⊗ I₃", "dW u"),
    "AX'B": ("A @ X.T @ B", {"A": "2x3", "X": "4x3", "B": "4x5"}, "X", "(Bᵀ ⊗ A) K(4,3)",
             "A dXᵀ B"),
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_examples_derive_print_and_prove(name):
    expression, shapes, wrt, printed, dF = EXAMPLES[name]
    r = derive_jacobian(expression, wrt, shapes)[wrt]
    assert r["verified"] and r["method"] == "complex-step", r["evidence"]
    assert r["max_rel_error"] < 1e-12
    assert (r["jacobian"], r["differential"]) == (printed, dF)
    problem = MapProblem(expression, shapes)
    for seed in range(3):
        point = problem.point(seed)
        J = evaluated(r["jacobian_numpy"], point)
        f = lambda x: evaluated(expression, {**point, wrt: x})  # noqa: E731
        reference = numeric_jacobian(f, point[wrt])
        assert J.shape == reference.shape
        assert np.allclose(J, reference, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_denominator_layout_is_the_transpose(name):
    expression, shapes, wrt, *_ = EXAMPLES[name]
    both = {layout: derive_jacobian(expression, wrt, shapes, layout=layout)[wrt]
            for layout in ("numerator", "denominator")}
    point = MapProblem(expression, shapes).point(5)
    N = evaluated(both["numerator"]["layout_numpy"], point)
    D = evaluated(both["denominator"]["layout_numpy"], point)
    assert np.array_equal(N, evaluated(both["denominator"]["jacobian_numpy"], point))
    assert np.allclose(D, N.T, rtol=1e-13, atol=1e-13)
    assert both["denominator"]["shape"] == both["numerator"]["shape"][::-1]


sizes = st.integers(1, 4)


@settings(max_examples=20, deadline=None)
@given(sizes, sizes, sizes, sizes, st.integers(0, 50))
def test_random_nonsquare_products_are_kronecker_products(m, n, p, q, seed):
    shapes = {"A": f"{m}x{n}", "X": f"{n}x{p}", "B": f"{p}x{q}", "C": f"{n}x{p}"}
    for expression in ["A @ X @ B", "A @ (X + C) @ B - A @ C @ B", "A @ np.tanh(X) @ B",
                       "(A @ X.T.T) * 2.5"]:
        r = derive_jacobian(expression, "X", shapes, points=2, seed=seed)["X"]
        assert r["verified"], (expression, r["evidence"])
    r = derive_jacobian("A @ X @ B", "X", shapes, seed=seed)["X"]
    assert r["jacobian_numpy"] == "np.kron(B.T, A)"


@settings(max_examples=15, deadline=None)
@given(sizes, sizes, st.integers(0, 50))
def test_random_transposes_need_the_commutation_matrix(m, n, seed):
    r = derive_jacobian("X.T", "X", {"X": f"{m}x{n}"}, seed=seed)["X"]
    assert r["verified"]
    point = MapProblem("X.T", {"X": f"{m}x{n}"}).point(seed)
    assert np.array_equal(evaluated(r["jacobian_numpy"], point), commutation(m, n))


def test_a_vector_by_a_vector_and_a_row_sum():
    r = derive_jacobian("W @ u - v", "u", {"W": "3x4", "u": "4", "v": "3"})["u"]
    assert (r["jacobian"], r["jacobian_numpy"], r["verified"]) == ("W", "W", True)
    r = derive_jacobian("np.sum(X, axis=0)", "X", {"X": "3x2"})["X"]
    assert r["jacobian"] == "I₂ ⊗ 𝟙₃ᵀ" and r["verified"]
    r = derive_jacobian("W @ X + b[:, None]", "b", {"W": "2x3", "X": "3x4", "b": "2"})["b"]
    assert r["jacobian"] == "𝟙₄ ⊗ I₂" and r["verified"]


def test_the_steps_go_forward_node_by_node():
    r = derive_jacobian("A @ X @ B", "X", {"A": "2x3", "X": "3x4", "B": "4x5"})["X"]
    assert r["steps"] == ["N1 = A X   ⇒ dN1 = A dX", "F = N1 B   ⇒ dF = dN1 B"]


def test_a_wrong_jacobian_fails_its_proof():
    """The proof is not a formality: a Jacobian with its factors swapped is caught."""
    from mcv.jacobians import Jacobian, Kron, Small, Term, prove_jacobian
    problem = MapProblem("A @ X @ B", {"A": "2x3", "X": "3x4", "B": "4x5"})
    dF = differential(problem.loss, "X", "dX")
    J = jacobian(dF, "dX", problem.loss.shape, (3, 4))
    A, B = (n for n in _leaves(problem.loss) if n.attrs["name"] in "AB")
    swapped = Jacobian((Term(1.0, None, (Kron(Small.of(A), Small.eye(4)),), (10, 12)),),
                       (10, 12))
    points = [(0, problem.point(0))]
    assert prove_jacobian(problem, "X", J, J.code(), dF, "dX", points)["verified"]
    bad = prove_jacobian(problem, "X", J, "np.kron(A, B.T)", dF, "dX", points)
    assert not bad["verified"] and "row by row" in bad["evidence"]
    assert not prove_jacobian(problem, "X", swapped, J.code(), dF, "dX", points)["verified"]


def _leaves(node):
    if node.op == "var":
        yield node
    for a in node.args:
        yield from _leaves(a)


def test_no_rule_is_bad_usage():
    with pytest.raises(UsageError, match="Jacobian"):
        derive_jacobian("np.kron(X, X)", "X", {"X": "2x2"})


def test_large_jacobians_are_proved_without_forming_them():
    r = derive_jacobian("A @ np.linalg.inv(X) @ B", "X",
                        {"A": "30x60", "X": "60x60", "B": "60x40"})["X"]
    assert r["verified"] and r["mode"] == "fast"
    assert r["jacobian_numpy"] == "-np.kron(B.T @ np.linalg.inv(X).T, A @ np.linalg.inv(X))"


def test_the_module_examples_run():
    import doctest

    import mcv.jacobians
    failures, tried = doctest.testmod(mcv.jacobians, optionflags=doctest.ELLIPSIS)
    assert failures == 0 and tried > 0


def test_exact_comparison_with_sympy_agrees_and_can_disagree():
    from mcv.jacobians import exact_jacobian
    shapes = {"A": "2x3", "X": "3x4", "B": "4x2"}
    problem = MapProblem("A @ X @ B", shapes)
    assert exact_jacobian(problem, "X", "np.kron(B.T, A)") == "agrees"
    assert exact_jacobian(problem, "X", "np.kron(A, B.T)") == "disagrees"
    assert derive_jacobian("A @ X @ B", "X", shapes)["X"]["exact"] == "agrees"
    big = derive_jacobian("A @ X @ B", "X", {"A": "5x6", "X": "6x7", "B": "7x5"})["X"]
    assert big["exact"].startswith("not tried") and big["verified"]


@pytest.mark.parametrize("expression, shapes, wrt, printed", [
    ("np.where(X > 0, X, 0.1 * X)", {"X": "2x3"}, "X",
     "diag(vec(where([X > 0], 1, 0))) + 0.1 diag(vec(where([X > 0], 0, 1)))"),
    ("x[0] * x", {"x": "3"}, "x", "x e₁ᵀ + x[0] I₃"),
    ("X[:, 1]", {"X": "3x2"}, "X", "e₂ᵀ ⊗ I₃"),
    ("X[1]", {"X": "3x2"}, "X", "I₂ ⊗ e₂ᵀ"),
    ("X[2, 1] * X", {"X": "3x2"}, "X", "vec(X) (e₂ᵀ ⊗ e₃ᵀ) + X[2, 1] I₆")])
def test_masks_and_subscripts(expression, shapes, wrt, printed):
    r = derive_jacobian(expression, wrt, shapes)[wrt]
    assert r["verified"] and r["jacobian"] == printed


def test_a_scalar_variable_and_a_variable_not_in_the_expression():
    r = derive_jacobian("np.exp(s) * x", ["s", "x"], {"s": "", "x": "3"})
    assert r["s"]["verified"] and r["s"]["jacobian"] == "x exp(s)"
    assert r["s"]["shape"] == [3, 1] and r["x"]["jacobian"] == "exp(s) I₃"
    r = derive_jacobian("A @ X", "B", {"A": "2x3", "X": "3x2", "B": "2x2"})["B"]
    assert r["verified"] and r["jacobian"] == "0" and r["jacobian_numpy"] == "np.zeros((4, 4))"



# Random compositions (entrywise functions, sums, products, transposes, reductions, a
# softmax, an inverse) of a 3×2 X: every one derived and proved, none refused.
SHAPES = {"X": "3x2", "A": "4x3", "B": "2x5", "C": "3x2", "v": "2", "w": "3", "u": "4"}
RNG = random.Random(7)


def m32(d):
    """A random 3×2 expression of depth d."""
    if d <= 0:
        return RNG.choice(["X", "X", "C"])
    return RNG.choice([
        lambda: f"np.tanh({m32(d - 1)})", lambda: f"np.exp(0.3 * {m32(d - 1)})",
        lambda: f"({m32(d - 1)} + {m32(d - 1)})", lambda: f"({m32(d - 1)} * {m32(d - 1)})",
        lambda: f"{m23(d - 1)}.T", lambda: f"({m32(d - 1)} - np.sum({m32(d - 1)}, axis=0))",
        lambda: f"({m32(d - 1)} / (1 + {m32(d - 1)}**2))", lambda: "X"])()


def m23(d):
    return f"{m32(d)}.T"


def m42(d):
    return f"(A @ {m32(d)})"


def m35(d):
    return f"({m32(d)} @ B)"


def v3(d):
    return RNG.choice([lambda: f"({m32(d)} @ v)", lambda: f"np.sum({m32(d)}, axis=1)",
                       lambda: f"(w * np.sum({m32(d)}, axis=1))"])()


def v2(d):
    return RNG.choice([lambda: f"np.sum({m32(d)}, axis=0)", lambda: f"({m23(d)} @ w)",
                       lambda: f"np.exp({m32(d)}.T @ w) / np.sum(np.exp({m32(d)}.T @ w))"])()


def m22(d):
    return RNG.choice([lambda: f"({m23(d)} @ {m32(d)})",
                       lambda: f"np.linalg.inv({m23(d)} @ {m32(d)} + 3 * np.eye(2))"])()


builders = [m32, m23, m42, m35, v3, v2, m22]


def test_random_compositions_are_derived_and_proved():
    global RNG
    RNG = random.Random(7)
    for _ in range(40):
        expression = RNG.choice(builders)(RNG.randint(1, 3))
        r = derive_jacobian(expression, "X", SHAPES, points=1, exact=False)["X"]
        assert r["verified"], (expression, r["evidence"])
