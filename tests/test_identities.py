"""Every identity of the registry (chapters/identities.py), the appendix's one source of truth:
numerically with check_gradient on hypothesis-drawn sizes and seeds, exactly with sympy on
small concrete sizes, and every check shown able to fail."""

import re

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from mcv.checks import check_gradient
from mcv.identities import IDENTITIES, draw, shape_text, symbolic

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
