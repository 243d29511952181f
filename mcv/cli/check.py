"""``mcv check``: check your own gradient from the shell.

    mcv check --loss "np.sum((W @ u - v)**2)" --wrt W \\
        --claim "2 * np.outer(W @ u - v, u)" --shape W=3x4 --shape u=4 --shape v=3

Every declared variable gets random values (``--seed``); each ``--wrt``/``--claim`` pair is
checked with :func:`mcv.check_gradient` at that point. For each pair it prints the verdict,
the error figure, the method and the diagnosis, and for a rejected claim the numeric gradient
beside the claim. Exit code: 0 every claim verified, 1 a claim rejected (or no gradient exists
at the point), 2 bad usage. The expressions are read by :mod:`mcv.expr` (parsed, never run).
"""

from __future__ import annotations

import argparse
import re
import sys

import numpy as np

from mcv.checks import check_gradient
from mcv.expr import (ALLOWED, EVALUATION_ERRORS, MAX_ENTRIES, NUMPY_FUNCTIONS, UsageError,
                      evaluate, parse)

# ------------------------------------------------------------------------- command line

def _shape(text: str) -> tuple[str, tuple[int, ...]]:
    match = re.fullmatch(r"([A-Za-z_]\w*)=(\d+(?:x\d+)?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=SHAPE, e.g. W=3x4 or u=4 "
                                         "(a vector or a matrix)")
    name, shape = match.group(1), tuple(int(size) for size in match.group(2).split("x"))
    if name == "np" or name.startswith("__"):
        raise argparse.ArgumentTypeError(f"{text!r}: {name!r} cannot be a variable name")
    if 0 in shape or np.prod(shape) > MAX_ENTRIES:
        raise argparse.ArgumentTypeError(f"{text!r}: sizes must be positive, with at most "
                                         f"{MAX_ENTRIES} entries")
    return name, shape


def add_parser(sub) -> argparse.ArgumentParser:
    """The ``check`` subcommand's arguments, added to the ``mcv`` parser's subparsers."""
    parser = sub.add_parser(
        "check", help="check a claimed gradient of a loss you write",
        description="Check a claimed gradient against numeric differences of the loss, at a "
                    "random point. Exit code 0: verified, 1: a claim is wrong, 2: bad usage.",
        epilog="expressions may use " + ALLOWED + "; the np functions: "
               + ", ".join(sorted(NUMPY_FUNCTIONS)) + ' (keyword: axis=<integer>). Example: '
               'mcv check --loss "np.sum((W @ u - v)**2)" --wrt W '
               '--claim "2 * np.outer(W @ u - v, u)" --shape W=3x4 --shape u=4 --shape v=3')
    parser.add_argument("--loss", required=True, help='the loss, e.g. "np.sum((W @ u - v)**2)"')
    parser.add_argument("--wrt", action="append", required=True, metavar="NAME",
                        help="a variable to differentiate by; repeat, with one --claim each")
    parser.add_argument("--claim", action="append", required=True, metavar="EXPRESSION",
                        help="the claimed gradient for the --wrt of the same position")
    parser.add_argument("--shape", action="append", type=_shape, default=[],
                        metavar="NAME=SHAPE", help="declare a variable: W=3x4, u=4")
    parser.add_argument("--seed", type=int, default=0, help="seeds the random point (0)")
    parser.add_argument("--rtol", type=float, default=None,
                        help="the tolerance (default: checks.py's for the method)")
    parser.add_argument("--method", default="auto",
                        choices=["auto", "complex-step", "central-difference"])
    parser.set_defaults(run=run)
    return parser


def run(arguments: argparse.Namespace) -> int:
    """Check every ``--wrt``/``--claim`` pair; return the exit code (0, 1 or 2)."""
    try:
        shapes = dict(arguments.shape)
        if len(arguments.wrt) != len(arguments.claim):
            raise UsageError(f"{len(arguments.wrt)} --wrt but {len(arguments.claim)} --claim: "
                             "give one --claim for each --wrt")
        for name in arguments.wrt:
            if name not in shapes:
                raise UsageError(f"--wrt {name}: {name!r} has no --shape")
        loss = parse(arguments.loss, set(shapes), "--loss")
        claims = [parse(text, set(shapes), f"--claim for {name}")
                  for name, text in zip(arguments.wrt, arguments.claim)]
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    rng = np.random.default_rng(arguments.seed)
    point = {name: rng.standard_normal(shape) for name, shape in sorted(shapes.items())}
    print(f"random point (seed {arguments.seed}): "
          + ", ".join(f"{name} {'x'.join(map(str, shape))}" for name, shape in shapes.items()))
    rejected = False
    for name, claim in zip(arguments.wrt, claims):
        def at(value, tree, name=name):
            with np.errstate(all="ignore"):  # overflow shows up as a non-finite value
                return evaluate(tree, {**point, name: value})
        try:
            at(point[name], loss)
        except EVALUATION_ERRORS as error:
            print(f"error: --loss cannot be computed: {error}", file=sys.stderr)
            return 2
        try:
            at(point[name], claim)
        except EVALUATION_ERRORS as error:  # e.g. a product of non-conforming shapes
            print(f"gradient in {name}: REJECTED: the claim cannot be computed at these shapes "
                  f"({error}); a product in the wrong order, or a transpose missing?")
            rejected = True
            continue
        try:
            report = check_gradient(lambda v: at(v, loss), lambda v: at(v, claim), point[name],
                                    rtol=arguments.rtol, method=arguments.method,
                                    seed=arguments.seed)
        except EVALUATION_ERRORS as error:
            print(f"error: checking the gradient in {name}: {error}", file=sys.stderr)
            return 2
        print(f"gradient in {name}: {report}")
        if not report.ok:
            rejected = True
            if report.numeric is not None:
                print(_side_by_side(report.numeric, report.claimed))
    return 1 if rejected else 0


def _side_by_side(numeric: np.ndarray, claimed: np.ndarray) -> str:
    """The numeric gradient and the claim as two columns of text, rounded to 4 decimals."""
    def lines(array):
        array = np.round(np.atleast_1d(array).astype(float), 4) + 0.0  # no "-0.0000"
        if array.ndim == 1:  # a vector reads best as a column
            return [f"{value: .4f}" for value in array]
        return np.array2string(array, precision=4, floatmode="fixed").splitlines()
    left, right = lines(numeric), lines(claimed)
    width = max(len(line) for line in left + ["numeric gradient"])
    rows = [f"  {'numeric gradient':<{width}}   claimed, shape {claimed.shape}"]
    for k in range(max(len(left), len(right))):
        a = left[k] if k < len(left) else ""
        b = right[k] if k < len(right) else ""
        rows.append(f"  {a:<{width}}   {b}".rstrip())
    return "\n".join(rows)

