"""Diagnoses that need the loss as an expression (a :class:`~mcv.problem.Problem`), not only
as a callable: which variable the claim treats as symmetric, and the symbolic difference
between the claim and the derived, proved gradient. They join a rejected report when they
are established; everything else the check found stays."""

from __future__ import annotations

import dataclasses

import numpy as np

from mcv.checks.diagnoses import Diagnosis
from mcv.checks.difference import symbolic_difference
from mcv.checks.gradient import check_gradient
from mcv.checks.report import CheckReport, Verdict

__all__ = ["explain", "GENERIC", "UNEXPLAINED"]

#: Headlines that say only that something is wrong somewhere: an expression may do better.
GENERIC = ("other-term", "other-term-fast", "error-rank-one", "error-in-rows",
           "error-in-columns", "error-in-entries", "error-on-diagonal", "error-subset-factor",
           "error-multiple-of-x")
#: Headlines that locate the error without saying what it is: the symbolic difference
#: goes before them.
LOCATING = ("other-term", "other-term-fast", "error-rank-one", "error-in-rows",
            "error-in-columns", "error-in-entries", "error-on-diagonal")
#: Headlines after which a symbolic difference says nothing more (no values to compare, or
#: the headline already says exactly what the claim is).
UNEXPLAINED = ("zero", "claim-not-computable", "claim-raised", "claim-dtype",
               "claim-not-finite", "cookbook-convention", "symmetric-convention")


def explain(report: CheckReport, problem, name: str, claim, point: dict,
            seed: int = 0) -> CheckReport:
    """``report`` with what the expressions show: the variable a claim treats as symmetric
    (a new headline), and claim − gradient in matrix notation (first when the headline only
    locates the error, else after it)."""
    if report.verdict is not Verdict.REJECTED or not report.diagnoses \
            or report.diagnoses[0].code in UNEXPLAINED \
            or report.diagnoses[0].code.startswith("shape-"):
        return report
    try:
        return _explained(report, problem, name, claim, point, seed)
    except Exception:  # noqa: BLE001 - the verdict stands; an explanation that fails is not said
        return report


def _explained(report, problem, name, claim, point, seed) -> CheckReport:
    diagnoses = list(report.diagnoses)
    if diagnoses[0].code == "error-multiple-of-x":  # the variable has a name here
        diagnoses[0] = Diagnosis(diagnoses[0].code, diagnoses[0].items + (("name", name),))
    if diagnoses[0].code in GENERIC:
        found = _assumed_symmetric(problem, name, claim, point, seed)
        if found is not None:
            diagnoses[0] = found
    # a symmetric variable is checked on symmetric directions: only sym(claim − G) counts;
    # a diagonal one on its diagonal (no symbolic form of that here)
    structure = problem.declarations[name].structure
    difference = None if structure == "diag" else symbolic_difference(
        problem.loss, claim, name, problem.shapes, point, problem.evaluate,
        symmetric=structure in ("sym", "spd"))
    if difference is not None:
        position = 0 if diagnoses[0].code in LOCATING else 1
        # (a generic headline after a symbolic difference adds the worst entry: kept)
        diagnoses.insert(position, difference)
    return dataclasses.replace(report, diagnoses=tuple(diagnoses))


def _assumed_symmetric(problem, name, claim, point, seed) -> Diagnosis | None:
    """"The claim treats A as symmetric" when replacing A by (A + Aᵀ)/2 makes the claim the
    gradient, or a constant multiple of it: one variable alone if one suffices, else all the
    general square matrices together."""
    def check_with(symmetric: list[str]) -> CheckReport | None:
        values = {**point, **{a: (point[a] + point[a].T) / 2 for a in symmetric}}
        there = check_gradient(lambda v: problem.evaluate(problem.loss, {**values, name: v}),
                               lambda v: problem.evaluate(claim, {**values, name: v}),
                               values[name], seed=seed)
        return there if there.ok or there.codes[:1] in (("factor",), ("sign",)) else None
    square = [n for n, d in problem.declarations.items() if d.structure == "general"
              and len(d.shape) == 2 and d.shape[0] == d.shape[1] and n not in problem.values
              and not np.allclose(point[n], point[n].T)]
    for names in [[a] for a in square] + ([square] if len(square) > 1 else []):
        there = check_with(names)
        if there is not None:
            extra = None
            if there.diagnoses:  # a constant factor at symmetric points, read after "it "
                first = there.diagnoses[0]
                extra = Diagnosis(first.code, first.items + (("lead", ""),))
            return Diagnosis.of("assumed-symmetric", names=" and ".join(names), factor=extra)
    return None
