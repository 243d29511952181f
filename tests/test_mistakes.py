"""Every catalogued mistake (tests/mistakes.py) is rejected and named by the diagnoses it
must lead with, at three random points; every right claim beside them is verified."""

import pytest

from mcv import Problem
from mcv.checks import REGISTRY
from mistakes import CATALOGUE

SEEDS = (0, 1, 2)


@pytest.mark.parametrize("row", CATALOGUE, ids=[row[0] for row in CATALOGUE])
def test_each_mistake_is_named(row):
    name, loss, shapes, wrt, right, wrongs = row
    problem = Problem(loss, shapes)
    for seed in SEEDS:
        assert problem.check(wrt, right, seed=seed).ok, (name, seed)
        for claim, expected in wrongs:
            codes = expected if isinstance(expected, tuple) else (expected,)
            report = problem.check(wrt, claim, seed=seed)
            assert not report.ok and report.codes[:len(codes)] == codes, \
                (claim, seed, str(report))
            for code in codes:
                assert REGISTRY[code].words in report.diagnosis, (claim, report.diagnosis)


def test_the_catalogue_is_large_and_varied():
    wrongs = [code for *_, mistakes in CATALOGUE for _, code in mistakes]
    assert len(wrongs) >= 80 and len(set(wrongs)) >= 10


def test_every_headline_names_the_mistake():
    """The headline is never a bare "something is wrong": with the loss as an expression the
    difference from the derived gradient leads when nothing more specific is known."""
    generic = {"other-term", "other-term-fast", "not-a-gradient-field"}
    headlines = [code[0] if isinstance(code, tuple) else code
                 for *_, mistakes in CATALOGUE for _, code in mistakes]
    assert not generic & set(headlines)
