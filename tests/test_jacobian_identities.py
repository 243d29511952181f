"""The Jacobian registry (mcv.jacobian_identities): every row verified numerically at three
seeds and on random non-square sizes, exactly with sympy at small sizes, and derived by the
engine to the same matrix; the row's claim transposed (the other layout) is rejected."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mcv.checks import check_jacobian
from mcv.jacobian_identities import (JACOBIAN_IDENTITIES, check_row, derived_row, draw,
                                     evaluate_text, exact_row)

ROWS = {row.name: row for row in JACOBIAN_IDENTITIES}


def test_the_registry_has_at_least_fifteen_rows_with_references():
    assert len(ROWS) == len(JACOBIAN_IDENTITIES) >= 15
    assert sum(bool(row.reference) for row in JACOBIAN_IDENTITIES) >= 15


@pytest.mark.parametrize("name", ROWS)
def test_numeric(name):
    reports = check_row(ROWS[name])
    assert all(r.ok and r.max_rel_error < 1e-12 for r in reports), [str(r) for r in reports]


@pytest.mark.parametrize("name", ROWS)
def test_exact(name):
    assert exact_row(ROWS[name]) == "agrees"


@pytest.mark.parametrize("name", ROWS)
def test_derived_by_the_engine(name):
    derived = derived_row(ROWS[name])
    assert derived["verified"] and derived["difference"] < 1e-12, derived


@settings(max_examples=10, deadline=None)
@given(st.sampled_from(sorted(ROWS)), st.integers(1, 4), st.integers(2, 4),
       st.integers(1, 4), st.integers(0, 100))
def test_numeric_on_random_sizes(name, m, n, k, seed):
    row = ROWS[name]
    assert all(r.ok for r in check_row(row, seeds=[seed], sizes=(m, n, k)))


@pytest.mark.parametrize("name", [n for n, r in ROWS.items() if "X" in r.of])
def test_the_other_layout_is_rejected(name):
    row = ROWS[name]
    values = draw(row, 7)
    f = lambda x: np.asarray(evaluate_text(row, row.of, {**values, row.wrt: x}))  # noqa
    J = lambda x: np.asarray(evaluate_text(row, row.jacobian, {**values, row.wrt: x}))  # noqa
    J0 = J(values[row.wrt])
    symmetric = J0.shape[0] == J0.shape[1] and np.allclose(J0, J0.T)
    report = check_jacobian(f, lambda x: J(x).T, values[row.wrt])
    assert report.ok == symmetric
    if not symmetric:
        assert report.codes[0] in ("jacobian-layout", "jacobian-shape", "other-term")
