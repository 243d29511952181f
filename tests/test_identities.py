"""Every identity of the registry (mcv/identities.py), the appendix's one source of truth:
numerically with check_gradient on hypothesis-drawn sizes and seeds, exactly with sympy on
small concrete sizes, and every check shown able to fail. Every row is also written in the
safe language of mcv.expr (checked against the Python row) and derived by mcv.derive: the
derived gradient is proved, equals the row's, and is at most SIZE_SLACK operations longer."""

import re

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from mcv import identities
from mcv.checks import check_gradient
from mcv.declare import symmetric_view
from mcv.derive import NoRule, gradient, show, size
from mcv.expr import evaluate, parse
from mcv.identities import IDENTITIES, draw, expressions, shape_text, symbolic
from mcv.rules import RULES

NAMES = [identity.name for identity in IDENTITIES]
#: Rows whose variable is square by nature (a trace of a power, a determinant, an inverse).
SQUARE = {"a'Xa", "tr(X)", "tr(X^2)", "tr(X^2B)", "det(X)", "det(AXB)", "log|det(X)|",
          "log det(X), X pos. def.", "det(X^-1)", "a'X^-1b", "tr(AX^-1B)", "tr(X^-1)"}
#: Three different sizes from 1 to 5: no variable is square unless it must be.
SIZES = st.lists(st.integers(1, 5), min_size=3, max_size=3, unique=True)


def check(identity, seed, sizes, claim=None):
    x, p = draw(identity, np.random.default_rng(seed), *sizes)
    claim = claim or identity.grad
    return check_gradient(lambda x: identity.loss(x, p), lambda x: claim(x, p), x, seed=seed)


# ------------------------------------------------------------------------- the registry

def test_the_table_is_large_and_well_formed():
    assert len(IDENTITIES) >= 40
    assert len(set(NAMES)) == len(NAMES)
    for identity in IDENTITIES:
        assert identity.wrt in identity.shapes(2, 3, 4), identity.name
        # The appendix prints LaTeX in Markdown table cells, where a bare | ends the cell.
        text = identity.expression + identity.gradient + identity.cookbook_note
        assert "|" not in text + identity.constraint, identity.name
        assert identity.cookbook is None or re.fullmatch(r"\(\d+\)", identity.cookbook)
        assert identity.cookbook or not identity.cookbook_note, identity.name


def test_every_group_of_the_issue_is_covered():
    groups = {identity.group for identity in IDENTITIES}
    assert {"linear and quadratic forms", "traces", "norms", "determinant and inverse",
            "entrywise functions", "the book's losses"} <= groups


@pytest.mark.parametrize("identity", IDENTITIES, ids=NAMES)
def test_variables_are_rectangular_unless_the_identity_needs_a_square(identity):
    shape = identity.shapes(2, 3, 4)[identity.wrt]
    assert (len(shape) == 2 and shape[0] == shape[1]) == (identity.name in SQUARE)


def test_shapes_are_printed_from_the_registry():
    row = next(identity for identity in IDENTITIES if identity.name == "tr(AXB)")
    assert shape_text(row) == r"$X\colon m\times n$, $A\colon k\times m$, $B\colon n\times k$"


# ------------------------------------------------------------------------ numerically

@pytest.mark.parametrize("identity", IDENTITIES, ids=NAMES)
@settings(max_examples=10, deadline=None)
@given(sizes=SIZES, seed=st.integers(0, 2**32 - 1))
def test_identity_numerically(identity, sizes, seed):
    report = check(identity, seed, sizes)
    assert report.ok, f"{identity.name} at sizes {sizes}, seed {seed}: {report}"


@pytest.mark.parametrize("identity", IDENTITIES, ids=NAMES)
def test_the_check_can_fail(identity):
    """A 10% error in the claim, or its transpose, is rejected: the checks are not vacuous."""
    sizes = (3, 2, 4)
    scaled = check(identity, 0, sizes, lambda x, p: 1.1 * identity.grad(x, p))
    assert not scaled.ok and "1.1 × the gradient" in scaled.diagnosis
    x, p = draw(identity, np.random.default_rng(0), *sizes)
    gradient = identity.grad(x, p)
    if x.ndim == 2 and not (x.shape[0] == x.shape[1] and np.allclose(gradient, gradient.T)):
        transposed = check(identity, 0, sizes, lambda x, p: identity.grad(x, p).T)
        assert not transposed.ok and "transpose" in transposed.diagnosis, identity.name


# --------------------------------------------------------------------------- exactly

def is_zero(expression) -> bool:
    expression = sp.sympify(expression)
    return sp.expand(expression) == 0 or sp.simplify(expression) == 0


@pytest.mark.parametrize("identity", [i for i in IDENTITIES if i.exact],
                         ids=[i.name for i in IDENTITIES if i.exact])
def test_identity_exactly(identity):
    """sympy differentiates the loss entry by entry at sizes (m, n, k) = (3, 2, 4)."""
    x, p = symbolic(identity, 3, 2, 4)
    loss = identity.loss(x, p)
    loss = loss.item() if isinstance(loss, np.ndarray) else loss
    claimed = np.asarray(identity.grad(x, p))
    assert claimed.shape == x.shape
    for index in np.ndindex(x.shape):
        assert is_zero(sp.diff(loss, x[index]) - claimed[index]), (identity.name, index)


def test_the_exact_check_can_fail():
    """The tempting 2Bx for x'Bx is right only for a symmetric B, and sympy says so."""
    row = next(identity for identity in IDENTITIES if identity.name == "x'Bx")
    x, p = symbolic(row, 3, 2, 4)
    tempting = 2 * p.B @ x
    assert not all(is_zero(sp.diff(row.loss(x, p), x[i]) - tempting[i])
                   for i in np.ndindex(x.shape))


def test_rows_sympy_cannot_check_are_few_and_checked_numerically():
    assert {i.name for i in IDENTITIES if not i.exact} == {
        "||x||_inf", "log|det(X)|", "log det(X), X pos. def."}


# ------------------------------------------- the rows as text, and derived by mcv derive

#: Rows whose loss the safe language of mcv.expr cannot say: none (every row has loss_text).
NO_TEXT: dict[str, str] = {}
#: Rows that mcv.derive.gradient cannot derive yet, with the reason: none.
NOT_DERIVABLE: dict[str, str] = {}
#: A derived gradient may have at most this many more operations (mcv.derive.size) than the
#: row's hand-written grad_text. Measured on every row on 2026-12-01 (the count does not
#: depend on the sizes): 50 of the 67 rows derive to a form as short as the hand-written one
#: or shorter; the largest excess is 7, for det(X^-1), where the engine keeps inv(inv(X))
#: (printed X⁻¹⁻¹ᵀ); next come det(AXB), which the hand-written form shortens with
#: det(AXB) = det(A) det(X) det(B), and the logistic loss, with exp(-y ⊙ Xw) written twice
#: (+6 each); then +5 for log det X (det(X)/det(X) is not cancelled) and (x - As)ᵀW(x - As)
#: (W + Wᵀ not collected from two outer products). Lower it when the simplifier improves.
SIZE_SLACK = 7
TEXTUAL = [i for i in IDENTITIES if i.loss_text is not None]
DERIVABLE = [i for i in TEXTUAL if i.name not in NOT_DERIVABLE]


def relative(a, b) -> float:
    """max|a - b| / max|b|: the relative error of a against b, in the max norm."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), np.finfo(float).tiny))


def derived(identity, sizes):
    """The row's loss and hand-written gradient as nodes, and the gradient mcv derives."""
    loss, grad, shapes = expressions(identity, *sizes)
    return loss, grad, gradient(loss, identity.wrt, shapes)


def values(identity, seed, sizes):
    x, p = draw(identity, np.random.default_rng(seed), *sizes)
    return x, p, {**vars(p), identity.wrt: x}


def test_refusals_are_recorded():
    assert {i.name for i in IDENTITIES if i.loss_text is None} == set(NO_TEXT)
    assert all((i.loss_text is None) == (i.grad_text is None) for i in IDENTITIES)
    for identity in TEXTUAL:
        try:
            derived(identity, (3, 2, 4))
        except NoRule:
            assert identity.name in NOT_DERIVABLE, identity.name
        else:
            assert identity.name not in NOT_DERIVABLE, identity.name


@pytest.mark.parametrize("identity", TEXTUAL, ids=[i.name for i in TEXTUAL])
@settings(max_examples=10, deadline=None)
@given(sizes=SIZES, seed=st.integers(0, 2**32 - 1))
def test_texts_compute_what_the_row_computes(identity, sizes, seed):
    loss, grad, _ = expressions(identity, *sizes)
    x, p, point = values(identity, seed, sizes)
    assert relative(evaluate(loss, point), identity.loss(x, p)) <= 1e-12
    claimed = np.broadcast_to(evaluate(grad, point), x.shape)
    assert relative(claimed, identity.grad(x, p)) <= 1e-12


def test_the_text_check_can_fail():
    """A grad_text with a transpose missing is caught by the comparison above."""
    row = next(identity for identity in IDENTITIES if identity.name == "x'Bx")
    wrong = parse(row.grad_text.replace("B.T", "B"), row.shapes(3, 2, 4))
    x, p, point = values(row, 0, (3, 2, 4))
    assert relative(evaluate(wrong, point), row.grad(x, p)) > 0.01


@pytest.mark.parametrize("identity", DERIVABLE, ids=[i.name for i in DERIVABLE])
@settings(max_examples=10, deadline=None)
@given(sizes=SIZES, seed=st.integers(0, 2**32 - 1))
def test_derived_gradient_is_proved_and_equals_the_row(identity, sizes, seed):
    loss, grad, found = derived(identity, sizes)
    x, p, point = values(identity, seed, sizes)

    def f(z):
        return evaluate(loss, {**point, identity.wrt: z})

    def claim(z):
        return np.broadcast_to(evaluate(found, {**point, identity.wrt: z}), z.shape)
    if identity.condition.get(identity.wrt) in ("symmetric", "spd"):
        f, claim = symmetric_view(f, claim)   # as mcv derive proves a symmetric variable
    report = check_gradient(f, claim, x.copy(), seed=seed)
    assert report.ok, f"{identity.name} at sizes {sizes}, seed {seed}: {report}"
    assert relative(claim(x), identity.grad(x, p)) <= 1e-10
    # the numpy form mcv derive prints parses back to the same gradient
    printed = parse(show(found, "numpy"), identity.shapes(*sizes))
    assert relative(np.broadcast_to(evaluate(printed, point), x.shape), claim(x)) <= 1e-13
    assert size(found) <= size(grad) + SIZE_SLACK, (show(found), show(grad))


#: The functions numpy cannot apply to arrays of sympy symbols: the registry's helpers can.
SYMPY_FUNCTIONS = {"exp": identities.exp, "log": identities.log, "tanh": identities.tanh,
                   "sqrt": identities.sqrt, "abs": identities.absolute,
                   "sign": identities.sign, "det": identities.det, "inv": identities.inv}


def exactly(node, point):
    """mcv.expr.evaluate on arrays of sympy symbols, numbers made exact (0.5 -> 1/2)."""
    if node.op == "var":
        return point[node.attrs["name"]]
    if node.op == "const":
        return sp.nsimplify(node.attrs["value"], rational=True)
    if node.op in ("eye", "ones", "zeros"):
        return np.asarray(evaluate(node, {}), dtype=int).astype(object)
    operands = [exactly(a, point) for a in node.args]
    if node.op == "index":
        return np.asarray(operands[0], dtype=object)[node.attrs["key"]]
    if node.op in SYMPY_FUNCTIONS:
        return SYMPY_FUNCTIONS[node.op](np.asarray(operands[0], dtype=object))
    row = RULES[node.op]  # σ, softmax: their sympy forms
    return (row.sympy or row.evaluate)(*operands, **node.attrs)


EXACT = [i for i in DERIVABLE if i.exact]


@pytest.mark.parametrize("identity", EXACT, ids=[i.name for i in EXACT])
def test_derived_gradient_equals_the_row_exactly(identity):
    """The derived form equals the row's grad (itself checked against sympy's derivative
    above) entry by entry, at sizes (m, n, k) = (3, 2, 4)."""
    _, _, found = derived(identity, (3, 2, 4))
    x, p = symbolic(identity, 3, 2, 4)
    value = np.broadcast_to(np.asarray(exactly(found, {**vars(p), identity.wrt: x}),
                                       dtype=object), x.shape)
    claimed = np.asarray(identity.grad(x, p), dtype=object)
    for index in np.ndindex(x.shape):
        difference = value[index] - sp.nsimplify(claimed[index], rational=True)
        assert is_zero(difference), (identity.name, index)


def test_the_exact_comparison_can_fail():
    row = next(identity for identity in IDENTITIES if identity.name == "x'Bx")
    x, p = symbolic(row, 3, 2, 4)
    wrong = exactly(parse("2 * B @ x", row.shapes(3, 2, 4)), {**vars(p), "x": x})
    assert not all(is_zero(wrong[i] - row.grad(x, p)[i]) for i in np.ndindex(x.shape))
