"""What a check found: :class:`CheckReport`, one report type for the gradient, Hessian and
Jacobian checks. Its verdict is a :class:`Verdict`; its diagnoses and notes are
:class:`~mcv.checks.diagnoses.Diagnosis` codes, put into words only when printed."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from mcv.checks.diagnoses import Diagnosis

__all__ = ["CheckReport", "GradientReport", "Verdict", "raise_unless_ok"]


class Verdict(str, Enum):
    """The verdict of a check. A ``str``, so ``report.verdict == "verified"`` reads as it
    always did."""

    VERIFIED = "verified"
    REJECTED = "REJECTED"
    CANNOT_DECIDE = "cannot decide"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class CheckReport:
    """What a check found. ``ok`` is the verdict; the rest says why.

    ``diagnoses`` name the mistake (codes, see ``codes``), ``notes`` what the checker had to
    do (a step shrunk at a domain boundary, a gradient that is zero to round-off);
    ``numeric_error`` holds the estimated error of each numeric entry (full mode), ``floor``
    the absolute floor (round-off of a gradient computed where it vanishes), ``worst_index``
    the entry furthest outside its tolerance, ``mode`` "full" or "fast", ``evaluations`` the
    number of calls of f (``stages``: by what they were for). The arrays take no part in
    ``==`` or ``hash``.
    """

    verdict: Verdict
    max_rel_error: float
    method: str
    rtol: float
    claimed: np.ndarray | None = field(default=None, repr=False, compare=False)
    numeric: np.ndarray | None = field(default=None, repr=False, compare=False)
    numeric_error: np.ndarray | None = field(default=None, repr=False, compare=False)
    diagnoses: tuple[Diagnosis, ...] = ()
    notes: tuple[Diagnosis, ...] = ()
    worst_index: tuple[int, ...] | int | None = None
    floor: float = 0.0
    mode: str = "full"
    evaluations: int = 0
    max_abs_error: float = float("nan")
    probes: int = 0   # random directions, in fast mode
    #: Calls of f by what they were for: ("method", n) probes of the complex step, ("floor",
    #: n) the round-off floor and f's noise, ("entries"/"directions", n) the comparison,
    #: ("diagnosis", n) naming the mistake.
    stages: tuple[tuple[str, int], ...] = ()

    @classmethod
    def bug_in_f(cls, bug, method: str, rtol: float, **extra) -> "CheckReport":
        """"Cannot decide": f raised, at a point near x, something that does not mean the
        edge of its domain (a :class:`~mcv.checks.core.FunctionBug`)."""
        return cls(Verdict.CANNOT_DECIDE, float("nan"), method, rtol, diagnoses=(
            Diagnosis.of("f-raised", error=str(bug), where=bug.where),), **extra)

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.VERIFIED

    @property
    def diagnosis(self) -> str | None:
        """The diagnoses in words (None when there are none)."""
        return "; ".join(map(str, self.diagnoses)) or None

    @property
    def note(self) -> str | None:
        return "; ".join(map(str, self.notes)) or None

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of the diagnoses, then of the notes."""
        return tuple(d.code for d in self.diagnoses + self.notes)

    def __str__(self) -> str:
        how = self.method if self.mode == "full" else \
            f"{self.method}, fast mode: {self.probes} random directions"
        zero = any(n.code.startswith("zero-gradient") for n in self.notes)
        if self.ok and zero:
            text = (f"verified against an absolute floor: max |claim - numeric| "
                    f"{self.max_abs_error:.1e} (floor {self.floor:.1e}, {how})")
        else:
            text = (f"{self.verdict}: max relative error {self.max_rel_error:.1e} "
                    f"(tolerance {self.rtol:.0e}, {how})")
        for diagnosis in self.diagnoses:  # the most specific first, then what supports it
            text = f"{text}\n  {diagnosis}"
        for note in self.notes:  # one fact a line
            text = f"{text}\n  note: {note}"
        return text


#: The name the gradient check's report had first (kept: chapters and readers use it).
GradientReport = CheckReport


def raise_unless_ok(report: CheckReport, what: str, shape: tuple,
                    err_msg: str = "") -> CheckReport:
    """The assert_* functions' one message: ``AssertionError`` with the whole report (and the
    caller's ``err_msg``) unless the report is ok."""
    __tracebackhide__ = True
    if not report.ok:
        context = f" ({err_msg})" if err_msg else ""
        raise AssertionError(f"{what} check failed at a point of shape {shape}{context}: "
                             f"{report}")
    return report
