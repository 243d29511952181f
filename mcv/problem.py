"""A problem: a loss written in the expression language, with its variables' declarations,
fixed values and named intermediates. ``mcv check`` and ``mcv derive`` build one from their
options; a program builds one directly:

    >>> problem = Problem("np.sum((W @ u - v)**2)", {"W": "3x4", "u": "4", "v": "3"})
    >>> report = problem.check("W", "np.outer(W @ u - v, u)", seed=0)
    >>> report.codes
    ('factor', 'symbolic-difference')
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

from mcv.checks.declared import check_declared
from mcv.checks.diagnoses import Diagnosis
from mcv.checks.explain import explain
from mcv.checks.report import CheckReport, Verdict
from mcv.declare import DISCRETE, Declaration, draw, parse_declaration
from mcv.expr import EvaluationError, Limits, Node, UsageError, evaluate, parse

__all__ = ["Problem"]


class Problem:
    """The parsed problem: declarations, fixed values, the intermediates, the loss.

    ``shapes`` declares each variable, as a mapping ``{"W": "3x4", "X": "4x4:spd"}`` or as
    the command line's ``["W=3x4", ...]``; ``values`` fixes variables to arrays; ``lets``
    names intermediates (``{"Z": "X @ T"}`` or ``["Z=X @ T"]``), in order. Bad input raises
    :class:`~mcv.expr.UsageError` naming it.
    """

    def __init__(self, loss: str, shapes: Mapping[str, str] | Iterable[str], *,
                 values: Mapping[str, np.ndarray] | None = None,
                 lets: Mapping[str, str] | Iterable[str] = (), limits: Limits | None = None):
        self.limits = limits or Limits()
        texts = [f"{n}={t}" for n, t in shapes.items()] if isinstance(shapes, Mapping) \
            else list(shapes)
        self.declarations: dict[str, Declaration] = {}
        for text in texts:
            try:
                declaration = parse_declaration(text, self.limits.max_variable_entries)
            except ValueError as error:
                raise UsageError(f"--shape {error}") from None
            self.declarations[declaration.name] = declaration
        self.values = dict(values or {})
        for name, value in self.values.items():
            declared = self.declarations.setdefault(name, Declaration(name, value.shape))
            if declared.shape != value.shape:
                raise UsageError(f"--value {name}: the file holds shape {value.shape}, but "
                                 f"--shape declares {declared.shape}")
        self.shapes = {name: d.shape for name, d in self.declarations.items()}
        #: declared structure, carried by the leaves for the simplifier (S⁻ᵀ = S⁻¹)
        self.structures = {name: d.structure for name, d in self.declarations.items()}
        self.lets: dict[str, Node] = {}
        for text in ([f"{n}={e}" for n, e in lets.items()] if isinstance(lets, Mapping)
                     else lets):
            name, _, expression = text.partition("=")
            name = name.strip()
            if not name.isidentifier() or not expression.strip():
                raise UsageError(f"--let {text!r} is not NAME=EXPRESSION")
            if name in self.shapes or name in self.lets or name == "np":
                raise UsageError(f"--let {name}: the name is already declared")
            self.lets[name] = parse(expression, self.shapes, f"--let {name}", lets=self.lets,
                                    limits=self.limits, structures=self.structures)
        self.loss = parse(loss, self.shapes, "--loss", lets=self.lets, limits=self.limits,
                          structures=self.structures)
        if self.loss.shape not in ((), (1,)):
            raise UsageError(f"--loss has shape {self.loss.shape}: a loss is a scalar (sum "
                             "it, e.g. np.sum(...))")

    @staticmethod
    def evaluate(tree: Node, values: dict):
        """The tree's value at ``values`` (:func:`mcv.expr.evaluate`)."""
        return evaluate(tree, values)

    def wrt(self, name: str) -> Declaration:
        """The declaration of a variable to differentiate by (UsageError if it cannot be)."""
        if name not in self.declarations:
            raise UsageError(f"--wrt {name}: {name!r} has no --shape")
        declaration = self.declarations[name]
        if declaration.structure in DISCRETE:
            raise UsageError(f"--wrt {name}: a {declaration.structure} variable is data (its "
                             "values are discrete); there is no gradient in it")
        if name in self.values:
            raise UsageError(f"--wrt {name}: its value is fixed by --value; a variable you "
                             "differentiate by is drawn at random points")
        return declaration

    def require_finite_loss(self, point: dict[str, np.ndarray]) -> None:
        """UsageError unless the loss can be computed, and is finite, at ``point``."""
        try:
            value = np.asarray(evaluate(self.loss, point))
        except EvaluationError as error:
            raise UsageError(f"--loss cannot be computed at this point: {error}") from None
        if not np.all(np.isfinite(value)):
            raise UsageError(f"--loss is not finite ({value.ravel()[0]}) at this point: "
                             "outside its domain? Declare the structure it needs (pos, spd, "
                             "...)")

    def point(self, seed: int) -> dict[str, np.ndarray]:
        """Random values that satisfy the declarations (fixed values kept)."""
        rng = np.random.default_rng(seed)
        return {name: self.values[name] if name in self.values else draw(d, rng)
                for name, d in sorted(self.declarations.items())}

    def parse_claim(self, name: str, text: str):
        """The parsed claim, or the UsageError of a claim whose shapes do not fit (a wrong
        claim: rejected, not refused as bad usage)."""
        try:
            return parse(text, self.shapes, f"--claim for {name}", lets=self.lets,
                         limits=self.limits)
        except UsageError as error:
            if error.shapes_only:
                return error
            raise

    def check(self, name: str, claim, *, seed: int = 0, point=None,
              convention: str = "symmetric-part", **options) -> CheckReport:
        """Check ``claim`` (text, or what :meth:`parse_claim` returned) as the gradient in
        ``name`` at ``point`` (default: the random point of ``seed``), honouring the
        variable's declared structure; ``options`` go to :func:`mcv.check_gradient`."""
        declaration = self.wrt(name)
        if isinstance(claim, str):
            claim = self.parse_claim(name, claim)
        point = self.point(seed) if point is None else point

        def at(value, tree):
            return evaluate(tree, {**point, name: value})
        try:
            if isinstance(claim, UsageError):
                raise EvaluationError("; ".join(claim.parts))
            at(point[name], claim)
        except EvaluationError as error:  # e.g. a product of non-conforming shapes
            return CheckReport(Verdict.REJECTED, float("inf"), "none", 0.0, diagnoses=(
                Diagnosis.of("claim-not-computable", error=str(error)),))
        report = check_declared(lambda v: at(v, self.loss), lambda v: at(v, claim),
                                point[name], declaration, convention=convention, seed=seed,
                                **options)
        return explain(report, self, name, claim, point, seed)
