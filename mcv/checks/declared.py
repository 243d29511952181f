"""The gradient check for a variable with a declared structure (``mcv.declare``): a
symmetric matrix is perturbed symmetrically, a diagonal one along its diagonal. What the
check then means is said in a note, and a claim in the Matrix Cookbook's symmetric form is
named as such. ``mcv check`` and :meth:`mcv.problem.Problem.check` use it."""

from __future__ import annotations

import dataclasses

import numpy as np

from mcv.checks.diagnoses import Diagnosis
from mcv.checks.gradient import check_gradient
from mcv.checks.report import CheckReport
from mcv.declare import Declaration, symmetric_view

__all__ = ["check_declared", "CONVENTIONS"]

#: How a claim for a symmetric variable is read: its symmetric part must be the gradient's,
#: or it is the Cookbook's derivative by the independent entries, 2G - diag(G).
CONVENTIONS = ("symmetric-part", "cookbook")
D = Diagnosis.of


def check_declared(f, grad, x: np.ndarray, declaration: Declaration, *,
                   convention: str = "symmetric-part", seed: int = 0,
                   **options) -> CheckReport:
    """:func:`~mcv.checks.check_gradient` for a variable declared sym/spd or diag (any other
    structure is checked as it is)."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, not {convention!r}")
    name, structure = declaration.name, declaration.structure
    if structure in ("sym", "spd"):
        report = check_gradient(*symmetric_view(f, grad, convention), x, seed=seed, **options)
        reading = ("the claim is read in the Cookbook's form 2G - diag(G)"
                   if convention == "cookbook" else
                   "a claim is accepted when its symmetric part is the gradient's")
        diagnoses = report.diagnoses
        if not report.ok and convention == "symmetric-part" and check_gradient(
                *symmetric_view(f, grad, "cookbook"), x, method=report.method,
                seed=seed).ok:
            diagnoses = (D("cookbook-convention"),)
        return dataclasses.replace(report, diagnoses=diagnoses, notes=report.notes + (
            D("symmetric-declared", name=name, reading=reading),))
    if structure == "diag":
        report = check_gradient(lambda d: f(np.diag(d)),
                                lambda d: np.diag(np.asarray(grad(np.diag(d)))),
                                np.diag(x).copy(), seed=seed, **options)
        return dataclasses.replace(report, notes=report.notes + (
            D("diagonal-declared", name=name),))
    return check_gradient(f, grad, x, seed=seed, **options)
