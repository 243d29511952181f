"""The ``mcv`` command: one subcommand per module (``mcv check``, ``mcv derive``).

Each subcommand module has ``add_parser(sub)``, which declares its arguments and sets
``run``, and ``run(arguments) -> int``, the exit code. The command line imports the library,
never the other way round.
"""

from __future__ import annotations

import argparse

from mcv import __version__
from mcv.cli import check

__all__ = ["main"]

SUBCOMMANDS = (check,)


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
    try:
        arguments = build_parser().parse_args(argv)
    except SystemExit as stop:  # argparse printed --help, --version or a usage error
        return int(stop.code or 0)
    return arguments.run(arguments)
