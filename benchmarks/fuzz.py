"""Fuzz the command line longer than CI does: `python benchmarks/fuzz.py [--examples N]`.

Draws losses and claims from the grammar of tests/cli/test_limits.py (well-typed and not,
huge shapes, deep nesting, hostile constructs), runs `mcv check` on each in this process,
and prints how many inputs it tried, how they ended (exit 0, 1, 2; any other code or a
traceback is a bug and is listed), the slowest, and the peak memory (tracemalloc).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import tracemalloc
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "cli"))
from test_limits import expressions  # noqa: E402  (the grammar CI fuzzes with)

from mcv.cli import main  # noqa: E402


def run(examples: int) -> int:
    ends, bugs, slowest, peak = Counter(), [], (0.0, ""), 0
    shapes = ["--shape", "W=3x4", "--shape", "u=4", "--shape", "v=3", "--shape", "A=4x4"]

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(loss=expressions(), claim=expressions(), big=st.booleans())
    def one(loss, claim, big):
        nonlocal slowest, peak
        declared = list(shapes)
        if big:
            declared[1] = "W=3x900"
        out, err = io.StringIO(), io.StringIO()
        tracemalloc.start()
        start = time.perf_counter()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["check", "--loss", f"np.sum({loss})", "--wrt", "u", "--claim", claim,
                         *declared, "--timeout", "5"])
        seconds = time.perf_counter() - start
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        ends[code] += 1
        slowest = max(slowest, (seconds, loss[:80]))
        if code not in (0, 1, 2) or "Traceback" in out.getvalue() + err.getvalue():
            bugs.append((code, loss, claim))

    one()
    tried = sum(ends.values())
    print(f"tried {tried} inputs: " + ", ".join(f"exit {k}: {v}" for k, v in sorted(ends.items())))
    print(f"slowest: {slowest[0]:.2f} s ({slowest[1]!r}); peak traced memory "
          f"{peak / 2**20:.1f} MiB")
    for code, loss, claim in bugs:
        print(f"BUG (exit {code}): --loss {loss!r} --claim {claim!r}")
    return 1 if bugs else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000)
    raise SystemExit(run(parser.parse_args().examples))
