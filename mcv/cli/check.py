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

from mcv.checks.declared import CONVENTIONS
from mcv.cli.guard import guarded
from mcv.cli.problem import add_data_arguments, problem_from
from mcv.expr import ALLOWED, NUMPY_FUNCTIONS, EvaluationError, UsageError

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
  mcv check --jacobian --of "A @ X @ B" --wrt X --claim "np.kron(B.T, A)" \\
      --shape A=2x3 --shape X=3x4 --shape B=4x5
"""


def add_parser(sub) -> argparse.ArgumentParser:
    """The ``check`` subcommand's arguments, added to the ``mcv`` parser's subparsers."""
    parser = sub.add_parser(
        "check", help="check a claimed gradient of a loss you write",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Check a claimed gradient against numeric differences of the loss, at "
                    "random points that satisfy the declarations; with --jacobian, a claimed "
                    "Jacobian (a matrix, or a differential in dX) of a vector or matrix "
                    "expression. Exit code 0: verified, 1: a claim is wrong, 2: bad usage or "
                    "a resource limit.",
        epilog=EPILOG.format(allowed=ALLOWED, functions=", ".join(sorted(NUMPY_FUNCTIONS))))
    parser.add_argument("--loss", "--of", dest="loss", required=True,
                        help='the loss, e.g. "np.sum((W @ u - v)**2)"; with --jacobian, the '
                             'vector or matrix expression F, e.g. "np.linalg.inv(X)"')
    parser.add_argument("--wrt", action="append", required=True, metavar="NAME",
                        help="a variable to differentiate by; repeat, with one --claim each")
    parser.add_argument("--claim", action="append", required=True, metavar="EXPRESSION",
                        help="the claimed gradient for the --wrt of the same position")
    add_data_arguments(parser)
    parser.add_argument("--symmetric-convention", default=CONVENTIONS[0],
                        choices=CONVENTIONS,
                        help="for a sym/spd --wrt: compare symmetric parts (default), or read "
                             "the claim in the Cookbook's 2G - diag(G) form")
    parser.add_argument("--rtol", type=float, default=None,
                        help="the tolerance (default: the checker's for the method)")
    parser.add_argument("--method", default="auto",
                        choices=["auto", "complex-step", "central-difference"])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--jacobian", action="store_true",
                        help="check a claimed Jacobian of the expression (--of): a matrix "
                             "d vec F / d (vec X)' (vec stacks columns), or a differential, "
                             "an expression in dX (the direction: d + the --wrt name), "
                             'e.g. --claim "-np.linalg.inv(X) @ dX @ np.linalg.inv(X)"')
    parser.add_argument("--layout", choices=("numerator", "denominator"), default="numerator",
                        help="with --jacobian: the layout of a claimed matrix (numerator: a "
                             "row per entry of F, the book's; denominator: its transpose)")
    parser.set_defaults(run=run)
    return parser


def run(arguments: argparse.Namespace) -> int:
    """Check every ``--wrt``/``--claim`` pair; return the exit code (0, 1 or 2)."""
    return guarded(arguments, _run)


def _run(arguments: argparse.Namespace) -> int:
    if arguments.jacobian:
        return _run_jacobian(arguments)
    problem = problem_from(arguments)
    if len(arguments.wrt) != len(arguments.claim):
        raise UsageError(f"{len(arguments.wrt)} --wrt but {len(arguments.claim)} --claim: "
                         "give one --claim for each --wrt")
    if arguments.points < 1:
        raise UsageError("--points must be at least 1")
    claims = [(problem.wrt(name).name, problem.parse_claim(name, text))
              for name, text in zip(arguments.wrt, arguments.claim)]
    seeds = range(arguments.seed, arguments.seed + arguments.points)
    results, rejected, lines = {}, False, []
    for seed in seeds:
        point = problem.point(seed)
        lines.append(f"random point (seed {seed}): " + ", ".join(
            f"{n} {'given' if n in problem.values else d.describe()}"
            for n, d in problem.declarations.items()))
        problem.require_finite_loss(point)
        for name, claim in claims:
            outcome = _check_one(problem, arguments, name, claim, point, seed)
            results.setdefault(name, []).append(outcome)
            rejected |= not outcome["ok"]
            lines.extend(outcome.pop("lines"))
    return _finish(arguments, rejected, seeds, results, lines)


def _finish(arguments, rejected: bool, seeds, results: dict, lines: list) -> int:
    """Print the results (text or --json) and return the exit code."""
    code = 1 if rejected else 0
    if arguments.json:
        print(json.dumps({"exit_code": code, "seeds": list(seeds), "results": results},
                         indent=2))
    else:
        print("\n".join(lines))
    return code


def _check_one(problem, arguments, name, claim, point, seed) -> dict:
    try:
        report = problem.check(name, claim, point=point, seed=seed, rtol=arguments.rtol,
                               method=arguments.method,
                               convention=arguments.symmetric_convention)
    except (TypeError, ValueError, EvaluationError) as error:
        raise UsageError(f"checking the gradient in {name}: {error}") from None
    label = f"gradient in {name}" + (f" (seed {seed})" if arguments.points > 1 else "")
    if report.method == "none":  # the claim could not even be computed
        lines = [f"gradient in {name}: REJECTED: {report.diagnosis}"]
    else:
        lines = [f"{label}: {report}"]
    checked = point[name] if problem.declarations[name].structure != "diag" \
        else np.diag(point[name])
    if not report.ok and report.numeric is not None \
            and report.numeric.shape == checked.shape:
        lines.append(_side_by_side(report.numeric, report.claimed))
    declared = [n for n in report.notes if n.code.endswith("-declared")]
    return {"seed": seed, "ok": report.ok,
            "max_rel_error": _finite_or_none(report.max_rel_error),
            "method": None if report.method == "none" else report.method,
            "diagnosis": report.diagnosis,
            "convention": str(declared[0]) if declared else None,
            "codes": list(report.codes),
            "diagnoses": [d.as_json() for d in report.diagnoses], "lines": lines}


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


# ------------------------------------------------------------------- --jacobian

def _run_jacobian(arguments: argparse.Namespace) -> int:
    """Check each claimed Jacobian (a matrix, or a differential in d<name>) of --of."""
    from mcv.checks import check_jacobian
    from mcv.cli.guard import limits_from
    from mcv.cli.problem import _load_value
    from mcv.expr import Limits, evaluate, parse
    from mcv.jacobians import NUMERIC_MAX_ENTRIES, MapProblem

    problem = MapProblem(arguments.loss, arguments.shape, limits=limits_from(arguments),
                         values=dict(_load_value(text) for text in arguments.value),
                         lets=arguments.let, what="--of")
    if len(arguments.wrt) != len(arguments.claim):
        raise UsageError(f"{len(arguments.wrt)} --wrt but {len(arguments.claim)} --claim: "
                         "give one --claim for each --wrt")
    if arguments.points < 1:
        raise UsageError("--points must be at least 1")
    F = problem.loss
    out_size = int(np.prod(F.shape))
    claims = []
    for name, text in zip(arguments.wrt, arguments.claim):
        problem.wrt(name)
        direction = "d" + name
        shapes = {**problem.shapes, direction: problem.shapes[name]}
        size = int(np.prod(problem.shapes[name]))
        limits = Limits(**{**problem.limits.__dict__,
                           "max_entries": max(problem.limits.max_entries,
                                              4 * out_size * size)})
        try:
            tree = parse(text, shapes, f"--claim for {name}", lets=problem.lets,
                         limits=limits)
        except UsageError as error:
            if not error.shapes_only:
                raise
            claims.append((name, direction, error, False))
            continue
        is_map = direction in text and _mentions(tree, direction)
        claims.append((name, direction, tree, is_map))
    derived = {name: _derived(problem, name) for name, *_ in claims}
    seeds = range(arguments.seed, arguments.seed + arguments.points)
    results, rejected, lines = {}, False, []
    for seed in seeds:
        point = problem.point(seed)
        problem.require_finite_loss(point)
        for name, direction, tree, is_map in claims:
            if isinstance(tree, UsageError):   # a claim whose shapes do not fit: wrong
                lines.append(f"Jacobian in {name}: REJECTED: the claim cannot be computed: "
                             + "; ".join(tree.parts))
                rejected = True
                results.setdefault(name, []).append({
                    "seed": seed, "ok": False, "codes": ["claim-not-computable"],
                    "diagnosis": "; ".join(tree.parts)})
                continue

            def f(x, point=point, name=name):
                return np.asarray(evaluate(F, {**point, name: x}))
            if is_map:
                def claim(x, dx, point=point, name=name, direction=direction, tree=tree):
                    return np.broadcast_to(evaluate(tree, {**point, name: x, direction: dx}),
                                           np.shape(evaluate(F, point)))
            else:
                def claim(x, point=point, name=name, tree=tree):
                    value = np.asarray(evaluate(tree, {**point, name: x}))
                    return value.T if arguments.layout == "denominator" else value
            try:
                report = check_jacobian(f, claim, np.array(point[name], dtype=float),
                                        seed=seed, rtol=arguments.rtol,
                                        method=arguments.method, differential=is_map)
            except (TypeError, ValueError, EvaluationError) as error:
                raise UsageError(f"checking the Jacobian in {name}: {error}") from None
            if not report.ok and derived[name] is not None and report.claimed is not None \
                    and np.prod(derived[name].shape) <= NUMERIC_MAX_ENTRIES:
                from dataclasses import replace
                from mcv.jacobians import term_diagnosis
                J = derived[name]
                proof = check_jacobian(f, lambda x, J=J, point=point, name=name: J.value(
                    {**point, name: x}), np.array(point[name], dtype=float), seed=seed)
                named = term_diagnosis(J, report.claimed, point) if proof.ok else None
                if named is not None:
                    report = replace(report, diagnoses=report.diagnoses + (named,))
            kind = "differential" if is_map else f"Jacobian ({arguments.layout} layout)"
            label = f"{kind} in {name}" + (f" (seed {seed})" if arguments.points > 1 else "")
            lines.append(f"{label}: {report}")
            rejected |= not report.ok
            results.setdefault(name, []).append({
                "seed": seed, "ok": report.ok, "kind": "differential" if is_map else "matrix",
                "layout": arguments.layout,
                "max_rel_error": _finite_or_none(report.max_rel_error),
                "method": report.method, "diagnosis": report.diagnosis,
                "codes": list(report.codes),
                "diagnoses": [d.as_json() for d in report.diagnoses]})
    return _finish(arguments, rejected, seeds, results, lines)


def _derived(problem, name: str):
    """The Jacobian mcv derives for ``name`` (None where it has no rule): its terms name
    what a wrong claim misses."""
    from mcv.derive import NoRule, differential
    from mcv.jacobians import jacobian

    try:
        dF = differential(problem.loss, name, "d" + name + "_")
        return jacobian(dF, "d" + name + "_", problem.loss.shape, problem.shapes[name])
    except NoRule:
        return None


def _mentions(tree, name: str) -> bool:
    if tree.op == "var" and tree.attrs["name"] == name:
        return True
    return any(_mentions(a, name) for a in tree.args)

