"""The options ``mcv check`` and ``mcv derive`` share (declarations, data, intermediates,
points, limits) and the :class:`~mcv.problem.Problem` they describe."""

from __future__ import annotations

import argparse

import numpy as np

from mcv.cli.guard import limit_arguments, limits_from
from mcv.expr import UsageError
from mcv.problem import Problem

__all__ = ["add_data_arguments", "problem_from"]


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


def problem_from(arguments: argparse.Namespace) -> Problem:
    """The problem the options describe (UsageError naming a bad one)."""
    return Problem(arguments.loss, arguments.shape, limits=limits_from(arguments),
                   values=dict(_load_value(text) for text in arguments.value),
                   lets=arguments.let)


def _load_value(text: str) -> tuple[str, np.ndarray]:
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
    if not np.all(np.isfinite(value)):
        raise UsageError(f"--value {name}: the file holds non-finite values")
    return name, value
