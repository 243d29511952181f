"""Every identity of the registry (chapters/identities.py), the appendix's one source of truth:
numerically on hypothesis-drawn rectangular shapes and seeds, exactly with sympy where the
loss is a polynomial that sympy can expand."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from checks import check_gradient
from identities import IDENTITIES

IDS = [f"{k:02d}" for k in range(len(IDENTITIES))]


def test_the_table_is_large_enough():
    assert len(IDENTITIES) >= 40
    assert all(identity.expression and identity.gradient for identity in IDENTITIES)
    # The appendix prints them in Markdown table cells, where a bare | ends the cell.
    assert not any("|" in identity.expression + identity.gradient for identity in IDENTITIES)


@pytest.mark.parametrize("identity", IDENTITIES, ids=IDS)
@settings(max_examples=8)
@given(m=st.integers(1, 5), n=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_identity_numerically(identity, m, n, seed):
    n += m == n  # rectangular: a missing transpose cannot hide
    x, constants = identity.make(np.random.default_rng(seed), m, n)
    report = check_gradient(lambda x: identity.loss(x, **constants),
                            lambda x: identity.grad(x, **constants), x, seed=seed)
    assert report.ok, f"{identity.expression} at m={m}, n={n}: {report}"


def symbols(name: str, shape: tuple) -> np.ndarray:
    array = np.empty(shape, dtype=object)
    for index in np.ndindex(shape):
        array[index] = sp.Symbol(f"{name}_{'_'.join(map(str, index))}")
    return array


@pytest.mark.parametrize("identity", [i for i in IDENTITIES if i.polynomial],
                         ids=[k for k, i in zip(IDS, IDENTITIES) if i.polynomial])
def test_polynomial_identity_exactly(identity):
    x, constants = identity.make(np.random.default_rng(0), 2, 3)
    X = symbols("x", x.shape)
    C = {name: symbols(name, value.shape) for name, value in constants.items()}
    loss = sp.expand(identity.loss(X, **C))
    claimed = identity.grad(X, **C)
    assert claimed.shape == x.shape
    for index in np.ndindex(x.shape):
        assert sp.expand(sp.diff(loss, X[index]) - claimed[index]) == 0, (identity.expression, index)
