"""Diagnoses that need the loss as an expression (a :class:`~mcv.problem.Problem`), not only
as a callable: which variable the claim treats as symmetric. They replace the headline of a
rejected report when they are established; everything else the check found stays."""

from __future__ import annotations

import dataclasses

import numpy as np

from mcv.checks.diagnoses import Diagnosis
from mcv.checks.gradient import check_gradient
from mcv.checks.report import CheckReport, Verdict

__all__ = ["explain", "GENERIC"]

#: Headlines that say only that something is wrong somewhere: an expression may do better.
GENERIC = ("other-term", "other-term-fast", "error-rank-one", "error-in-rows",
           "error-in-columns", "error-in-entries", "error-on-diagonal",
           "not-a-gradient-field")


def explain(report: CheckReport, loss, claim, point: dict, name: str, evaluate,
            square: list[str], seed: int = 0) -> CheckReport:
    """A better headline for a rejected ``report`` of ``claim`` (gradient in ``name``) when
    the expression shows one. ``evaluate(tree, values)`` computes a tree; ``square`` names
    the general square matrices of the problem (candidates for "treated as symmetric")."""
    if report.verdict is not Verdict.REJECTED or not report.diagnoses \
            or report.diagnoses[0].code not in GENERIC:
        return report
    found = _assumed_symmetric(loss, claim, point, name, evaluate, square, seed)
    if found is None:
        return report
    names, there = found
    extra = None
    if there.diagnoses:  # a constant factor at symmetric points, in words after "it "
        extra = Diagnosis(there.diagnoses[0].code, there.diagnoses[0].items + (("lead", ""),))
    headline = Diagnosis.of("assumed-symmetric", names=" and ".join(names), factor=extra)
    supporting = tuple(d for d in report.diagnoses[1:] if d.kind == "supporting")
    return dataclasses.replace(report, diagnoses=(headline,) + supporting)


def _assumed_symmetric(loss, claim, point, name, evaluate, square, seed):
    """(the variables A, the report there) when replacing A by (A + Aᵀ)/2 makes the claim
    the gradient, or a constant multiple of it: one variable alone if one suffices, else all
    together; None otherwise."""
    def check_with(symmetric: list[str]) -> CheckReport | None:
        values = {**point, **{a: (point[a] + point[a].T) / 2 for a in symmetric}}
        there = check_gradient(lambda v: evaluate(loss, {**values, name: v}),
                               lambda v: evaluate(claim, {**values, name: v}),
                               values[name], seed=seed)
        return there if there.ok or there.codes[:1] in (("factor",), ("sign",)) else None
    candidates = [a for a in square if a in point and not np.allclose(point[a], point[a].T)]
    for a in candidates:
        there = check_with([a])
        if there is not None:
            return [a], there
    if len(candidates) > 1:
        there = check_with(candidates)
        if there is not None:
            return candidates, there
    return None
