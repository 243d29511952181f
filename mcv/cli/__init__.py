"""The ``mcv`` command: one subcommand per module (``mcv check``, ``mcv derive``).

Each subcommand module has ``add_parser(sub)``, which declares its arguments and sets
``run``, and ``run(arguments) -> int``, the exit code. The command line imports the library,
never the other way round.
"""

from __future__ import annotations

import argparse
import sys

from mcv import __version__
from mcv.cli import check, derive

__all__ = ["main"]

SUBCOMMANDS = (check, derive)


def build_parser() -> argparse.ArgumentParser:
    """The ``mcv`` parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="mcv", description="Matrix Calculus, Verified: check a gradient you derived by "
        "hand. Exit code 0: verified, 1: a claim is wrong, 2: bad usage.")
    parser.add_argument("--version", action="version", version=f"mcv {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``mcv`` on ``argv`` (default: the command line); return the exit code."""
    as_process = argv is None  # the console script or python -m mcv: cap its memory too
    argv = _join_negative_expressions(sys.argv[1:] if argv is None else list(argv))
    try:
        arguments = build_parser().parse_args(argv)
    except SystemExit as stop:  # argparse printed --help, --version or a usage error
        return int(stop.code or 0)
    arguments.as_process = as_process
    return arguments.run(arguments)


#: Options whose value is an expression, which may start with a minus sign.
EXPRESSION_OPTIONS = ("--loss", "--of", "--claim", "--let")


def _join_negative_expressions(argv: list[str]) -> list[str]:
    """``--loss -np.sum(x)`` as ``--loss=-np.sum(x)``: argparse would read the value as an
    option (a loss or a claim starting with a minus sign is common)."""
    joined, k = [], 0
    while k < len(argv):
        if argv[k] in EXPRESSION_OPTIONS and k + 1 < len(argv) \
                and argv[k + 1].startswith("-") and not argv[k + 1].startswith("--"):
            joined.append(f"{argv[k]}={argv[k + 1]}")
            k += 2
        else:
            joined.append(argv[k])
            k += 1
    return joined
