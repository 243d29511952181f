"""mcv.expr: every construct people type is accepted and evaluates as numpy does, with the
inferred shape; hostile variants of each new construct are refused by name; every refused
part is reported at once, with a rewrite where one exists."""

import numpy as np
import pytest

from mcv.expr import UsageError, evaluate, parse

SHAPES = {"W": (3, 4), "u": (4,), "v": (3,), "Z": (5, 3), "X": (4, 4), "lam": (),
          "T": (2, 3, 4)}
RNG = np.random.default_rng(0)
VALUES = {name: RNG.standard_normal(shape) for name, shape in SHAPES.items()}
W, u, v, Z, X, lam, T = (VALUES[k] for k in ("W", "u", "v", "Z", "X", "lam", "T"))
SPD = X @ X.T + np.eye(4)

CONSTRUCTS = {
    "softmax keepdims": ("np.exp(Z) / np.sum(np.exp(Z), axis=1, keepdims=True)",
                         np.exp(Z) / np.sum(np.exp(Z), axis=1, keepdims=True)),
    "norm fro": ("np.linalg.norm(W, 'fro')", np.linalg.norm(W, "fro")),
    "norm ord=1": ("np.linalg.norm(u, ord=1)", np.linalg.norm(u, 1)),
    "norm ord=np.inf": ("np.linalg.norm(u, ord=np.inf)", np.linalg.norm(u, np.inf)),
    "norm axis": ("np.linalg.norm(W, axis=0)", np.linalg.norm(W, axis=0)),
    "where and comparison": ("np.where(u > 0, u, 0.1 * u)", np.where(u > 0, u, 0.1 * u)),
    "comparison as mask": ("(u >= 0) * u", (u >= 0) * u),
    "clip": ("np.clip(u, -0.5, 0.5)", np.clip(u, -0.5, 0.5)),
    "heaviside": ("np.heaviside(u, 0.5)", np.heaviside(u, 0.5)),
    "logaddexp": ("np.logaddexp(0, u)", np.logaddexp(0, u)),
    "einsum explicit": ("np.einsum('ij,j->i', W, u)", np.einsum("ij,j->i", W, u)),
    "einsum implicit": ("np.einsum('ij,ik', W, W)", np.einsum("ij,ik", W, W)),
    "kron": ("np.kron(W, v)", np.kron(W, v)),
    "matmul": ("np.matmul(W, u)", W @ u),
    "solve": ("np.linalg.solve(X @ X.T + np.eye(4), u)", np.linalg.solve(SPD, u)),
    "pinv": ("np.linalg.pinv(W)", np.linalg.pinv(W)),
    "cholesky": ("np.linalg.cholesky(X @ X.T + np.eye(4))", np.linalg.cholesky(SPD)),
    "eigvalsh": ("np.linalg.eigvalsh(X + X.T)", np.linalg.eigvalsh(X + X.T)),
    "slogdet": ("np.linalg.slogdet(X @ X.T + np.eye(4))[1]", np.linalg.slogdet(SPD)[1]),
    "array of expressions": ("np.array([u, 2 * u])", np.array([u, 2 * u])),
    "nested array": ("np.array([[lam, 1], [0, lam]])", np.array([[lam, 1], [0, lam]])),
    "pi and e": ("np.pi * lam + np.e", np.pi * lam + np.e),
    "methods": ("W.sum() + W.mean(axis=0) @ u + W.max() * W.min()",
                W.sum() + W.mean(axis=0) @ u + W.max() * W.min()),
    "reshape": ("W.T.reshape(2, 6)[1, 2] + np.reshape(W, (12,))[0]",
                W.T.reshape(2, 6)[1, 2] + W.reshape(12)[0]),
    "newaxis": ("u[:, np.newaxis] * u", u[:, None] * u),
    "scalar variable": ("lam * np.sum(u * u)", lam * np.sum(u * u)),
    "3-D": ("np.sum(T, axis=(0, 2))", np.sum(T, axis=(0, 2))),
    "dot method": ("u.dot(u)", u.dot(u)),
    "positional axis": ("np.sum(W, 0)", np.sum(W, 0)),
    "var with ddof and axis": ("np.var(W, axis=1, ddof=1) + W.var(axis=0)[:3]",
                               np.var(W, axis=1, ddof=1) + W.var(axis=0)[:3]),
    "std, positional axis": ("np.std(Z, 0, keepdims=True)", np.std(Z, 0, keepdims=True)),
}


@pytest.mark.parametrize("name", CONSTRUCTS)
def test_each_construct_evaluates_as_numpy_does_with_the_inferred_shape(name):
    text, expected = CONSTRUCTS[name]
    node = parse(text, SHAPES)
    value = evaluate(node, VALUES)
    assert np.shape(value) == node.shape == np.shape(expected)
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)


HOSTILE_VARIANTS = [
    ("np.sum(u, keepdims=u)", "the keyword argument 'keepdims=u'"),
    ("np.var(u, ddof=-1)", "the keyword argument 'ddof=-1'"),
    ("np.var(u, ddof=4)", "ddof=4 leaves no degrees of freedom"),
    ("np.std(u, ddof=u)", "the keyword argument 'ddof=u'"),
    ("np.linalg.norm(u, ord='x')", "the keyword argument 'ord='x''"),
    ("np.where(u > 0, u)", "with 2 arguments"),
    ("np.einsum(u, u)", "constant subscripts"),
    ("np.einsum('ij,jk->ik', W)", "do not fit 1 operands"),
    ("np.einsum('ij->i', u)", "the term 'ij' has 2 indices"),
    ("np.einsum('i1->i', u)", "letters only"),
    ("np.array(u)", "np.array([a, b, ...])"),
    ("np.array([u, v])", "different shapes"),
    ("np.linalg.slogdet(X)", "np.linalg.slogdet(A)[1]"),
    ("np.linalg.slogdet(X)[u]", "np.linalg.slogdet(A)[1]"),
    ("u.reshape(u)", "integer sizes"),
    ("u.reshape(5)", "cannot reshape shape (4,) into (5,)"),
    ("u.__class__()", "the call"),
    ("u.sum.__self__", "'.__self__'"),
    ("np.pi.__class__", "'.__class__'"),
    ("u[np.newaxis.x]", "the index"),
    ("W @ 1/(1 + np.exp(-W))", "@ binds like * and /"),
    ("np.ones((10**4, 10**4))", "integer sizes"),
    ("np.kron(np.eye(100), np.eye(100))", "over the limit of 10,000,000 entries"),
]


@pytest.mark.parametrize("text, named", HOSTILE_VARIANTS, ids=[h[0] for h in HOSTILE_VARIANTS])
def test_hostile_variants_of_new_constructs_are_refused_by_name(text, named):
    with pytest.raises(UsageError) as refused:
        parse(text, SHAPES)
    assert named in str(refused.value)


def test_every_refused_part_is_reported_at_once_with_rewrites():
    with pytest.raises(UsageError) as refused:
        parse("sum(u) + abs(u) + scipy.special.expit(u) + torch.relu(u) + u.real", SHAPES)
    parts = refused.value.parts
    assert len(parts) == 5
    assert "write np.sum(...)" in parts[0] and "write np.abs(...)" in parts[1]
    assert "write 1 / (1 + np.exp(-z))" in parts[2] and "np.maximum(z, 0)" in parts[3]
    assert "'.real'" in parts[4]


def test_the_functions_the_engine_recognises_are_refused_with_their_spelled_out_form():
    with pytest.raises(UsageError) as refused:
        parse("scipy.special.logsumexp(u) + np.sum(log_softmax(u) + softmax(u) + softplus(u))",
              SHAPES)
    logsumexp, log_softmax, softmax, softplus = refused.value.parts
    assert "write np.log(np.sum(np.exp(z), axis=-1))" in logsumexp
    assert "write z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))" in log_softmax
    assert "write np.exp(z) / np.sum(np.exp(z), axis=-1, keepdims=True)" in softmax
    assert "write np.logaddexp(0, z)" in softplus


def test_a_claim_with_only_shape_errors_is_marked_as_such():
    with pytest.raises(UsageError) as refused:
        parse("2 * (W @ u - v) @ W.T", SHAPES)
    assert refused.value.shapes_only
    with pytest.raises(UsageError) as refused:
        parse("2 * (W @ u - v) @ W.T + sum(u)", SHAPES)
    assert not refused.value.shapes_only


def test_named_intermediates_are_shared_not_copied():
    H = parse("np.tanh(Z)", SHAPES)
    node = parse("np.sum((H - 1) * H)", SHAPES, lets={"H": H})
    assert node.args[0].args[0].args[0] is H and node.args[0].args[1] is H
