"""``mcv check``: check your own gradient from the shell.

    mcv check --loss "np.sum((W @ u - v)**2)" --wrt W \\
        --claim "2 * np.outer(W @ u - v, u)" --shape W=3x4 --shape u=4 --shape v=3

Every declared variable gets random values that satisfy its declaration (``--seed``,
``--points``) unless ``--value`` fixes it; each ``--wrt``/``--claim`` pair is checked with
:func:`mcv.check_gradient`. For each pair it prints the verdict, the error figure, the method
and the diagnosis, and for a rejected claim the numeric gradient beside the claim. Exit code:
0 every claim verified, 1 a claim rejected (or no gradient exists at the point), 2 bad usage
or a resource limit. The expressions are read by :mod:`mcv.expr` (parsed, never run).
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np

from mcv.checks import check_gradient
from mcv.cli.guard import guarded, limit_arguments, limits_from
from mcv.declare import DISCRETE, Declaration, draw, parse_declaration, symmetric_view
from mcv.expr import ALLOWED, NUMPY_FUNCTIONS, EvaluationError, UsageError, evaluate, parse

__all__ = ["add_parser", "run"]

EPILOG = """\
declarations (--shape NAME=SHAPE[:STRUCTURE]): W=3x4, u=4, T=2x3x4, lam= (a true scalar);
structures: sym, spd, spd(cond=1e3), diag, orth, pos, simplex, onehot, mask, int(0,3).
A sym/spd variable in --wrt is perturbed symmetrically: a claim is accepted when its symmetric
part is the gradient's; --symmetric-convention cookbook checks the Matrix Cookbook's form
(2G - diag G) instead. A diag variable in --wrt is checked on its diagonal.

expressions may use {allowed}.
np functions: {functions}.
keywords: axis=, keepdims= (reductions), ord= (np.linalg.norm).

example:
  mcv check --loss "np.sum((W @ u - v)**2)" --wrt W --claim "2 * np.outer(W @ u - v, u)" \\
      --shape W=3x4 --shape u=4 --shape v=3
"""


def add_parser(sub) -> argparse.ArgumentParser:
    """The ``check`` subcommand's arguments, added to the ``mcv`` parser's subparsers."""
    parser = sub.add_parser(
        "check", help="check a claimed gradient of a loss you write",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Check a claimed gradient against numeric differences of the loss, at "
                    "random points that satisfy the declarations. Exit code 0: verified, "
                    "1: a claim is wrong, 2: bad usage or a resource limit.",
        epilog=EPILOG.format(allowed=ALLOWED, functions=", ".join(sorted(NUMPY_FUNCTIONS))))
    parser.add_argument("--loss", required=True, help='the loss, e.g. "np.sum((W @ u - v)**2)"')
    parser.add_argument("--wrt", action="append", required=True, metavar="NAME",
                        help="a variable to differentiate by; repeat, with one --claim each")
    parser.add_argument("--claim", action="append", required=True, metavar="EXPRESSION",
                        help="the claimed gradient for the --wrt of the same position")
    add_data_arguments(parser)
    parser.add_argument("--symmetric-convention", default="symmetric-part",
                        choices=["symmetric-part", "cookbook"],
                        help="for a sym/spd --wrt: compare symmetric parts (default), or read "
                             "the claim in the Cookbook's 2G - diag(G) form")
    parser.add_argument("--rtol", type=float, default=None,
                        help="the tolerance (default: the checker's for the method)")
    parser.add_argument("--method", default="auto",
                        choices=["auto", "complex-step", "central-difference"])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)
    return parser


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Declarations, data, named intermediates, points and limits (shared with derive)."""
    parser.add_argument("--shape", action="append", default=[], metavar="NAME=SHAPE",
                        help="declare a variable: W=3x4, u=4, lam= (scalar), X=4x4:spd")
    parser.add_argument("--value", action="append", default=[], metavar="NAME=FILE",
                        help="fix a variable to your numbers: a .npy or .csv file")
    parser.add_argument("--let", action="append", default=[], metavar='NAME="EXPRESSION"',
                        help='a named intermediate, e.g. --let Z="X @ Theta"; later '
                             "expressions may use NAME")
    parser.add_argument("--seed", type=int, default=0, help="seeds the random points (0)")
    parser.add_argument("--points", type=int, default=1,
                        help="how many random points to check at (seeds seed, seed+1, ...)")
    limit_arguments(parser)


class Problem:
    """The parsed command: declarations, fixed values, the intermediates, the loss."""

    def __init__(self, arguments: argparse.Namespace):
        self.limits = limits_from(arguments)
        self.declarations: dict[str, Declaration] = {}
        for text in arguments.shape:
            try:
                declaration = parse_declaration(text, self.limits.max_variable_entries)
            except ValueError as error:
                raise UsageError(f"--shape {error}") from None
            self.declarations[declaration.name] = declaration
        self.values = dict(_load_value(text, self.declarations) for text in arguments.value)
        for name, value in self.values.items():
            self.declarations.setdefault(name, Declaration(name, value.shape))
        self.shapes = {name: d.shape for name, d in self.declarations.items()}
        self.lets = {}
        for text in arguments.let:
            name, _, expression = text.partition("=")
            name = name.strip()
            if not name.isidentifier() or not expression.strip():
                raise UsageError(f"--let {text!r} is not NAME=EXPRESSION")
            if name in self.shapes or name in self.lets or name == "np":
                raise UsageError(f"--let {name}: the name is already declared")
            self.lets[name] = parse(expression, self.shapes, f"--let {name}", lets=self.lets,
                                    limits=self.limits)
        self.loss = parse(arguments.loss, self.shapes, "--loss", lets=self.lets,
                          limits=self.limits)
        if self.loss.shape not in ((), (1,)):
            raise UsageError(f"--loss has shape {self.loss.shape}: a loss is a scalar (sum "
                             "it, e.g. np.sum(...))")

    def wrt(self, name: str) -> Declaration:
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
        rng = np.random.default_rng(seed)
        return {name: self.values[name] if name in self.values else draw(d, rng)
                for name, d in sorted(self.declarations.items())}


def _load_value(text: str, declarations) -> tuple[str, np.ndarray]:
    name, _, path = text.partition("=")
    if not name.isidentifier() or not path:
        raise UsageError(f"--value {text!r} is not NAME=FILE (a .npy or .csv file)")
    try:
        if path.endswith(".npy"):
            value = np.load(path, allow_pickle=False)
        elif path.endswith(".csv"):
            value = np.loadtxt(path, delimiter=",", ndmin=1)
        else:
            raise UsageError(f"--value {name}: {path!r} is neither .npy nor .csv")
    except (OSError, ValueError) as error:
        raise UsageError(f"--value {name}: cannot read {path!r} ({error})") from None
    if not np.issubdtype(value.dtype, np.number) or np.iscomplexobj(value):
        raise UsageError(f"--value {name}: {path!r} holds {value.dtype}, not real numbers")
    value = value.astype(float)
    declared = declarations.get(name)
    if declared is not None and declared.shape != value.shape:
        raise UsageError(f"--value {name}: the file holds shape {value.shape}, but --shape "
                         f"declares {declared.shape}")
    if not np.all(np.isfinite(value)):
        raise UsageError(f"--value {name}: the file holds non-finite values")
    return name, value


def run(arguments: argparse.Namespace) -> int:
    """Check every ``--wrt``/``--claim`` pair; return the exit code (0, 1 or 2)."""
    return guarded(arguments, _run)


def _run(arguments: argparse.Namespace) -> int:
    problem = Problem(arguments)
    if len(arguments.wrt) != len(arguments.claim):
        raise UsageError(f"{len(arguments.wrt)} --wrt but {len(arguments.claim)} --claim: "
                         "give one --claim for each --wrt")
    if arguments.points < 1:
        raise UsageError("--points must be at least 1")
    claims = [(problem.wrt(name), _parse_claim(problem, name, text))
              for name, text in zip(arguments.wrt, arguments.claim)]
    seeds = range(arguments.seed, arguments.seed + arguments.points)
    results, rejected, lines = {}, False, []
    for seed in seeds:
        point = problem.point(seed)
        lines.append(f"random point (seed {seed}): " + ", ".join(
            f"{n} {'given' if n in problem.values else d.describe()}"
            for n, d in problem.declarations.items()))
        problem.require_finite_loss(point)
        for declaration, claim in claims:
            outcome = _check_one(problem, arguments, declaration, claim, point, seed)
            results.setdefault(declaration.name, []).append(outcome)
            rejected |= not outcome["ok"]
            lines.extend(outcome.pop("lines"))
    code = 1 if rejected else 0
    if arguments.json:
        print(json.dumps({"exit_code": code, "seeds": list(seeds), "results": results},
                         indent=2))
    else:
        print("\n".join(lines))
    return code


def _parse_claim(problem: Problem, name: str, text: str):
    """The parsed claim, or the UsageError of a claim whose shapes do not fit (a wrong
    claim: rejected with exit 1, not refused as bad usage)."""
    try:
        return parse(text, problem.shapes, f"--claim for {name}", lets=problem.lets,
                     limits=problem.limits)
    except UsageError as error:
        if error.shapes_only:
            return error
        raise


def _check_one(problem, arguments, declaration, claim, point, seed) -> dict:
    name = declaration.name

    def at(value, tree):
        return evaluate(tree, {**point, name: value})

    outcome = {"seed": seed, "ok": False, "max_rel_error": None, "method": None,
               "diagnosis": None, "convention": None, "lines": []}
    try:
        if isinstance(claim, UsageError):
            raise EvaluationError("; ".join(claim.parts))
        at(point[name], claim)
    except EvaluationError as error:  # e.g. a product of non-conforming shapes
        outcome["diagnosis"] = (f"the claim cannot be computed at these shapes ({error}); a "
                                "product in the wrong order, or a transpose missing?")
        outcome["lines"].append(f"gradient in {name}: REJECTED: {outcome['diagnosis']}")
        return outcome
    f, grad, x = (lambda v: at(v, problem.loss)), (lambda v: at(v, claim)), point[name]
    convention = None
    if declaration.structure in ("sym", "spd"):
        f, grad = symmetric_view(f, grad, arguments.symmetric_convention)
        convention = (f"{name} is symmetric: perturbed symmetrically, so only the gradient's "
                      "symmetric part is defined; " + (
                          "the claim is read in the Cookbook's form 2G - diag(G)"
                          if arguments.symmetric_convention == "cookbook" else
                          "a claim is accepted when its symmetric part is the gradient's"))
    elif declaration.structure == "diag":
        f_full, grad_full = f, grad
        f = lambda d: f_full(np.diag(d))  # noqa: E731 (the loss along diagonal matrices)
        grad = lambda d: np.diag(np.asarray(grad_full(np.diag(d))))  # noqa: E731
        x = np.diag(x).copy()
        convention = f"{name} is diagonal: the claim is checked on its diagonal"
    try:
        report = check_gradient(f, grad, x, rtol=arguments.rtol, method=arguments.method,
                                seed=seed)
    except (TypeError, ValueError, EvaluationError) as error:
        raise UsageError(f"checking the gradient in {name}: {error}") from None
    diagnosis = report.diagnosis
    if not report.ok and declaration.structure in ("sym", "spd") \
            and arguments.symmetric_convention == "symmetric-part":
        if check_gradient(*symmetric_view(lambda v: at(v, problem.loss),
                                          lambda v: at(v, claim), "cookbook"),
                          point[name], method=report.method, seed=seed).ok:
            diagnosis = ("the claim is the gradient in the symmetric-matrix (Matrix "
                         "Cookbook) convention 2G - diag(G); pass --symmetric-convention "
                         "cookbook to check it in that convention")
    outcome.update(ok=report.ok, max_rel_error=_finite_or_none(report.max_rel_error),
                   method=report.method, diagnosis=diagnosis, convention=convention)
    label = f"gradient in {name}" + (f" (seed {seed})" if arguments.points > 1 else "")
    text = str(report) if diagnosis == report.diagnosis else \
        str(report).split("\n")[0] + f"\n  {diagnosis}"
    outcome["lines"].append(f"{label}: {text}")
    if convention:
        outcome["lines"].append(f"  note: {convention}")
    if not report.ok and report.numeric is not None and report.numeric.shape == x.shape:
        outcome["lines"].append(_side_by_side(report.numeric, report.claimed))
    return outcome


def _finite_or_none(value: float):
    return float(value) if math.isfinite(value) else None


def _side_by_side(numeric: np.ndarray, claimed: np.ndarray) -> str:
    """The numeric gradient and the claim as two columns of text, rounded to 4 decimals."""
    def lines(array):
        array = np.asarray(array)
        if array.size > 60:
            return [f"({array.size} entries; showing none)"]
        array = np.round(np.atleast_1d(array).astype(float), 4) + 0.0  # no "-0.0000"
        if array.ndim == 1:  # a vector reads best as a column
            return [f"{value: .4f}" for value in array]
        return np.array2string(array, precision=4, floatmode="fixed").splitlines()
    left, right = lines(numeric), lines(claimed)
    width = max(len(line) for line in left + ["numeric gradient"])
    rows = [f"  {'numeric gradient':<{width}}   claimed, shape {np.shape(claimed)}"]
    for k in range(max(len(left), len(right))):
        a = left[k] if k < len(left) else ""
        b = right[k] if k < len(right) else ""
        rows.append(f"  {a:<{width}}   {b}".rstrip())
    return "\n".join(rows)

