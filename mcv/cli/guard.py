"""Resource guards for the command line: limits as options, a clock, a memory cap, and one
place where every failure becomes a plain message and an exit code (never a traceback).

Shape inference (:mod:`mcv.expr`) refuses an expression whose intermediates would be too
large before anything is computed; the guards here hold whatever slips past it: a wall clock
(``--timeout``, SIGALRM) and, when ``mcv`` runs as its own process, a cap on its address
space (``--max-memory``, ``RLIMIT_AS`` above what the interpreter already uses).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from contextlib import contextmanager

from mcv import __version__
from mcv.expr import EvaluationError, Limits, UsageError

__all__ = ["limit_arguments", "limits_from", "guarded", "LimitExceeded", "INTERNAL_ERROR"]

#: The exit code of a bug in mcv itself (never of bad input): tests and fuzzing look for it.
INTERNAL_ERROR = 4

_DEFAULTS = Limits()


class LimitExceeded(BaseException):
    """The wall clock ran out. A BaseException, like KeyboardInterrupt, so that no
    ``except Exception`` on the way (the checker tries a smaller step when f fails) can
    swallow it."""


def limit_arguments(parser: argparse.ArgumentParser) -> None:
    """The resource options, with the documented defaults."""
    group = parser.add_argument_group("resource limits")
    group.add_argument("--max-entries", type=int, default=_DEFAULTS.max_entries,
                       help="entries in one intermediate array (default %(default)s)")
    group.add_argument("--max-work", type=float, default=_DEFAULTS.max_work,
                       help="multiply-adds in one evaluation (default %(default).0e)")
    group.add_argument("--timeout", type=float, default=_DEFAULTS.timeout,
                       help="seconds for the whole command (default %(default)s)")
    group.add_argument("--max-memory", type=float, default=_DEFAULTS.max_memory / 2**30,
                       help="GiB of memory when run as a command (default %(default)s)")


def limits_from(arguments: argparse.Namespace) -> Limits:
    for option in ("max_entries", "max_work", "timeout", "max_memory"):
        if not getattr(arguments, option) > 0:
            raise UsageError(f"--{option.replace('_', '-')} must be positive")
    return Limits(max_entries=int(arguments.max_entries), max_work=int(arguments.max_work),
                  max_variable_entries=min(_DEFAULTS.max_variable_entries,
                                           int(arguments.max_entries)),
                  timeout=arguments.timeout, max_memory=int(arguments.max_memory * 2**30))


def guarded(arguments: argparse.Namespace, command) -> int:
    """Run ``command(arguments)``; every failure mcv names on purpose (bad usage, a limit,
    numpy unable to compute at a point) becomes a message on stderr and exit 2. Anything
    else is a bug in mcv: exit 4 with a one-line report, never a traceback (a ValueError
    from deep inside mcv is such a bug, not bad input: the fuzz test looks for exit 4)."""
    try:
        if getattr(arguments, "as_process", False):
            _cap_memory(arguments.max_memory)
        with _clock(arguments.timeout):
            return command(arguments)
    except UsageError as error:
        return _fail(str(error))
    except LimitExceeded:
        return _fail(f"stopped after {arguments.timeout:g} s, the time limit (--timeout): "
                     "smaller shapes, or fewer --points")
    except MemoryError:
        return _fail("out of memory (the limit --max-memory is "
                     f"{arguments.max_memory:g} GiB): smaller shapes")
    except RecursionError:
        return _fail("the expression nests too deeply (write it in steps with --let)")
    except EvaluationError as error:
        return _fail(f"cannot compute: {error}")
    except BrokenPipeError:  # the reader piped the output into head: nothing to report
        return 0
    except Exception as error:  # noqa: BLE001 (no traceback reaches a user; a bug is a bug)
        print(f"internal error in mcv {__version__} ({type(error).__name__}: {error}): this "
              "is a bug; please report it with the command you ran", file=sys.stderr)
        return INTERNAL_ERROR


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


@contextmanager
def _clock(seconds: float):
    """Raise LimitExceeded after ``seconds`` (main thread only: SIGALRM)."""
    if threading.current_thread() is not threading.main_thread() or \
            not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise LimitExceeded()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _cap_memory(gibibytes: float) -> None:
    """Cap the address space at what is used now plus ``gibibytes`` (Linux)."""
    try:
        import resource
        with open("/proc/self/status") as status:
            used = next(int(line.split()[1]) * 1024 for line in status
                        if line.startswith("VmSize:"))
    except (ImportError, OSError, StopIteration):
        return
    limit = used + int(gibibytes * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
