"""Every row of mcv.rules.RULES against numbers, on non-square shapes at several seeds: its
shape rule against numpy's evaluated shape, its pullback (the derived gradient of ⟨R, C⟩,
checked with mcv.check_gradient), its forward rule (the differential along a random
direction, checked the same way), its numpy printing (parsed back, the same value), and its
sympy evaluation against numpy. A deliberately wrong rule (every share doubled) is rejected."""

from dataclasses import replace

import numpy as np
import pytest

from mcv import check_gradient, simplify
from mcv.derive import NoRule, differential, gradients, show
from mcv.expr import Node, evaluate, evaluate_exact, parse
from mcv.rules import CONSTANT, RULES, NoExactForm, operations_help, operations_table

SHAPES = {"A": (3, 4), "B": (4, 2), "P": (3, 3), "u": (3,), "w": (4,), "s": ()}


def _sigmoid(shapes):
    return simplify.call("sigmoid", Node("var", (), {"name": "A"}, shapes["A"], "A"))


def _named(op, **attrs):
    """A row that only the simplifier builds (softmax, logsumexp) applied to A; onehot (of
    Z[np.arange(n), y]) to the labels u."""
    name = "u" if op == "onehot" else "A"
    return lambda shapes: simplify.call(op, Node("var", (), {"name": name}, shapes[name],
                                                 name), **attrs)


#: (id, the row, the expression): every row at least once, with the keywords it takes.
SAMPLES = [(name, name, f"np.{name}(A)") for name in (
    "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "square", "abs", "sin", "cos",
    "tan", "sinh", "cosh", "tanh", "arctan", "arcsin", "arccos", "arcsinh", "arctanh",
    "ones_like", "zeros_like")] + [
    ("sign", "sign", "np.sign(A - 0.55)"), ("sigmoid", "sigmoid", _sigmoid),
    ("add", "add", "A + w"), ("sub", "sub", "A - u[:, None]"), ("mul", "mul", "A * w"),
    ("div", "div", "A / (1 + w)"), ("pow", "pow", "A ** 3"),
    ("pow-variable", "pow", "A ** (1 + w)"), ("maximum", "maximum", "np.maximum(A, w)"),
    ("minimum", "minimum", "np.minimum(A, 0.5)"),
    ("logaddexp", "logaddexp", "np.logaddexp(A, w)"),
    ("heaviside", "heaviside", "np.heaviside(A - 0.55, 0.5)"),
    ("gt", "gt", "A > w"), ("ge", "ge", "A >= 0.5"), ("lt", "lt", "A < w"),
    ("le", "le", "A <= 0.5"), ("eq", "eq", "A == w"), ("ne", "ne", "A != w"),
    ("sum", "sum", "np.sum(A, axis=0)"), ("mean", "mean", "np.mean(A, axis=1)"),
    ("max", "max", "np.max(A, axis=0)"), ("min", "min", "np.min(A, axis=1, keepdims=True)"),
    ("prod", "prod", "np.prod(A, axis=0)"), ("prod-all", "prod", "np.prod(A)"),
    ("variance", "variance", "np.var(A, axis=1, ddof=1)"),
    ("variance-all", "variance", "np.var(A)"),
    ("variance-keepdims", "variance", "A.var(axis=0, keepdims=True)"),
    ("std", "std", "np.std(A, axis=0)"), ("std-ddof", "std", "np.std(A, ddof=1)"),
    ("neg", "neg", "-A"), ("matmul", "matmul", "A @ B"), ("matmul-vector", "matmul", "u @ A"),
    ("dot", "dot", "np.dot(w, B)"), ("dot-scalar", "dot", "np.dot(s, A)"),
    ("outer", "outer", "np.outer(u, w)"),
    ("kron", "kron", "np.kron(A, B)"), ("einsum", "einsum", "np.einsum('ij,jk->ik', A, B)"),
    ("transpose", "transpose", "A.T"), ("trace", "trace", "np.trace(P)"),
    ("diag", "diag", "np.diag(u)"), ("diag-matrix", "diag", "np.diag(P)"),
    ("inv", "inv", "np.linalg.inv(P)"), ("pinv", "pinv", "np.linalg.pinv(A)"),
    ("det", "det", "np.linalg.det(P)"), ("logabsdet", "logabsdet", "np.linalg.slogdet(P)[1]"),
    ("signdet", "signdet", "np.linalg.slogdet(P)[0]"),
    ("solve", "solve", "np.linalg.solve(P, A)"), ("solve-vector", "solve", "np.linalg.solve(P, u)"),
    ("cholesky", "cholesky", "np.linalg.cholesky(P @ P.T)"),
    ("eigvalsh", "eigvalsh", "np.linalg.eigvalsh(P + P.T)"),
    ("norm", "norm", "np.linalg.norm(A)"), ("norm-1", "norm", "np.linalg.norm(u, 1)"),
    ("where", "where", "np.where(A > 0.55, A, w)"), ("clip", "clip", "np.clip(A, 0.3, w)"),
    ("reshape", "reshape", "np.reshape(A, (6, 2))"), ("index", "index", "A[1, :]"),
    ("index-column", "index", "A[:, 2]"), ("stack", "stack", "np.array([u, 2 * u])"),
    ("softmax", "softmax", _named("softmax", axis=1)),
    ("softmax-columns", "softmax", _named("softmax", axis=0)),
    ("softmax-all", "softmax", _named("softmax", axis=None)),
    ("logsumexp", "logsumexp", _named("logsumexp", axis=1, keepdims=False)),
    ("logsumexp-keepdims", "logsumexp", _named("logsumexp", axis=0, keepdims=True)),
    ("logsumexp-all", "logsumexp", _named("logsumexp", axis=None, keepdims=False)),
    ("onehot", "onehot", _named("onehot", classes=3)),
]
IDS = [sample[0] for sample in SAMPLES]
SEEDS = (0, 1, 2)


def test_every_row_has_a_sample():
    assert {row for _, row, _ in SAMPLES} == set(RULES)


def _node(expression) -> Node:
    return expression(SHAPES) if callable(expression) else parse(expression, SHAPES)


def _values(seed: int) -> dict:
    """Entries in (0.2, 0.9): inside every function's domain, away from kinks at 0; P is
    well conditioned."""
    rng = np.random.default_rng(seed)
    values = {k: rng.uniform(0.2, 0.9, shape) for k, shape in SHAPES.items()}
    values["P"] = values["P"] + 2 * np.eye(3)
    return values


def _variables(node: Node) -> list[str]:
    found, stack = set(), [node]
    while stack:
        n = stack.pop()
        found |= {n.attrs["name"]} if n.op == "var" else set()
        stack.extend(n.args)
    return sorted(found)


def _weighted(node: Node, seed: int):
    """⟨R, C⟩ for fixed random weights R: a scalar loss through the row's node."""
    R = np.random.default_rng(100 + seed).standard_normal(node.shape)
    return R, lambda values: float(np.sum(R * evaluate(node, values)))


@pytest.mark.parametrize("name, op, expression", SAMPLES, ids=IDS)
def test_the_shape_rule_is_numpys(name, op, expression):
    node = _node(expression)
    assert np.shape(evaluate(node, _values(0))) == node.shape


def _gradient_reports(node, seed, monkeypatch=None):
    values = _values(seed)
    R, f = _weighted(node, seed)
    weights = Node("var", (), {"name": "R"}, node.shape, "R")
    loss = simplify.call("sum", simplify.mul(node, weights))
    found = gradients(loss, _variables(node), SHAPES)
    for name, grad in found.items():
        def f_at(x, name=name):
            return f({**values, name: x})

        def grad_at(x, name=name, grad=grad):
            return np.broadcast_to(evaluate(grad, {**values, "R": R, name: x}), np.shape(x))
        yield name, check_gradient(f_at, grad_at, values[name].copy(), seed=seed)


@pytest.mark.parametrize("name, op, expression", SAMPLES, ids=IDS)
def test_the_pullback_is_the_derivative(name, op, expression):
    if RULES[op].pullback is None:
        with pytest.raises(NoRule, match=f"no rule for {op}: "):
            list(_gradient_reports(_node(expression), 0))
        return
    for seed in SEEDS:
        for variable, report in _gradient_reports(_node(expression), seed):
            assert report.ok, f"{name} in {variable}, seed {seed}: {report}"


def _doubled(rule):
    return lambda node, g, b: [(a, b.mul(b.const(2), share))
                               for a, share in rule(node, g, b)]


DIFFERENTIABLE = [s for s in SAMPLES if RULES[s[1]].pullback not in (None, CONSTANT)]


@pytest.mark.parametrize("name, op, expression", DIFFERENTIABLE,
                         ids=[s[0] for s in DIFFERENTIABLE])
def test_a_wrong_pullback_is_rejected(name, op, expression, monkeypatch):
    row = RULES[op]
    monkeypatch.setitem(RULES, op, replace(row, pullback=_doubled(row.pullback)))
    reports = [report for _, report in _gradient_reports(_node(expression), 0)]
    assert not all(report.ok for report in reports), name


def _forward_reports(node, seed):
    values = _values(seed)
    R, f = _weighted(node, seed)
    rng = np.random.default_rng(200 + seed)
    for name in _variables(node):
        direction = rng.standard_normal(np.shape(values[name]))
        change = differential(node, name, "d_" + name)
        claimed = float(np.sum(R * evaluate(change, {**values, "d_" + name: direction})))

        def along(t, name=name, direction=direction):
            return f({**values, name: values[name] + t[0] * direction})
        yield name, check_gradient(along, lambda t, c=claimed: np.array([c]), np.zeros(1),
                                   seed=seed)


@pytest.mark.parametrize("name, op, expression", SAMPLES, ids=IDS)
def test_the_forward_rule_is_the_directional_derivative(name, op, expression):
    if RULES[op].forward is None:
        with pytest.raises(NoRule):
            list(_forward_reports(_node(expression), 0))
        return
    for seed in SEEDS:
        for variable, report in _forward_reports(_node(expression), seed):
            assert report.ok, f"{name} along d{variable}, seed {seed}: {report}"


@pytest.mark.parametrize("name, op, expression", DIFFERENTIABLE,
                         ids=[s[0] for s in DIFFERENTIABLE])
def test_a_wrong_forward_rule_is_rejected(name, op, expression, monkeypatch):
    row = RULES[op]

    def doubled(node, d, b):
        return b.mul(b.const(2), row.forward(node, d, b))
    monkeypatch.setitem(RULES, op, replace(row, forward=doubled))
    assert not all(report.ok for _, report in _forward_reports(_node(expression), 0))


@pytest.mark.parametrize("name, op, expression", SAMPLES, ids=IDS)
def test_the_numpy_print_parses_back_to_the_same_value(name, op, expression):
    node = _node(expression)
    printed = show(node, "numpy")
    values = _values(1)
    np.testing.assert_allclose(evaluate(parse(printed, SHAPES), values),
                               evaluate(node, values), rtol=1e-14, err_msg=printed)


EXACT = [s for s in SAMPLES if RULES[s[1]].sympy is not None]


@pytest.mark.parametrize("name, op, expression", EXACT, ids=[s[0] for s in EXACT])
def test_the_sympy_form_agrees_with_numpy(name, op, expression):
    import sympy

    node = _node(expression)
    if op == "onehot":  # labels are data: no sympy form, and the proof says so
        with pytest.raises(NoExactForm):
            evaluate_exact(node, {"u": np.zeros(3, dtype=object)})
        return
    values = _values(2)
    exact = {k: np.vectorize(sympy.Rational, otypes=[object])(np.asarray(v))
             for k, v in values.items()}
    value = np.vectorize(lambda e: float(sympy.N(e, 30)), otypes=[float])(
        np.asarray(evaluate_exact(node, exact), dtype=object))
    np.testing.assert_allclose(value, evaluate(node, values), rtol=1e-12)


def test_the_listings_are_generated_from_the_rows():
    table = operations_table().splitlines()
    assert len(table) == 2 + len(RULES)
    assert "| `np.var(A)` | var(A) | yes | yes |" in table
    assert "| `np.linalg.eigvalsh(A)` | eigvalsh(A) | no | no |" in table
    assert "| `np.linalg.slogdet(A)[1]` | log\\|det A\\| | yes | yes |" in table
    help_text = operations_help()
    assert "np.std(A)" in help_text and "no rule yet: np.linalg.cholesky(A)" in help_text


#: Whole expressions for mcv.derive.differential (forward mode over the tree).
EXPRESSIONS = ["A.T @ A", "np.linalg.inv(P) @ A",
               "np.exp(A) / np.sum(np.exp(A), axis=1, keepdims=True)",
               "np.tanh(B.T @ w) * (1 + np.linalg.norm(u)**2)",
               "np.linalg.solve(P, A) @ B + np.var(A, axis=1, ddof=1)[:, None]",
               "np.outer(u, w) * np.logaddexp(A, 0.5) - np.linalg.pinv(A.T)"]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_the_differential_of_an_expression_is_its_directional_derivative(expression):
    node = parse(expression, SHAPES)
    for seed in SEEDS:
        for variable, report in _forward_reports(node, seed):
            assert report.ok, f"{expression} along d{variable}, seed {seed}: {report}"


def test_the_differential_prints_as_the_textbook_writes_it():
    assert show(differential(parse("A.T @ A", SHAPES), "A", "dA")) == "dAᵀ A + Aᵀ dA"
    assert show(differential(parse("np.linalg.inv(P)", SHAPES), "P", "dP")) == \
        "−(P⁻¹ dP P⁻¹)"
