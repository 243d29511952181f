"""How specific the checker's words are (issue 26): every catalogued wrong claim
(tests/mistakes.py) checked through mcv.Problem at three seeds, its headline diagnosis
counted; a headline is specific unless it only says that something is wrong somewhere.

    python benchmarks/diagnoses.py
"""

from __future__ import annotations

import collections
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from mcv import Problem  # noqa: E402
from mistakes import CATALOGUE  # noqa: E402

GENERIC = {"other-term", "other-term-fast", "not-a-gradient-field"}
SEEDS = (0, 1, 2)


def main() -> int:
    headlines, times, right, total = collections.Counter(), [], 0, 0
    for _name, loss, shapes, wrt, claim_right, wrongs in CATALOGUE:
        problem = Problem(loss, shapes)
        for seed in SEEDS:
            right += problem.check(wrt, claim_right, seed=seed).ok
            for claim, _expected in wrongs:
                start = time.perf_counter()
                report = problem.check(wrt, claim, seed=seed)
                times.append(time.perf_counter() - start)
                total += 1
                headlines[report.codes[0] if not report.ok else "VERIFIED (wrong!)"] += 1
    specific = sum(n for code, n in headlines.items() if code not in GENERIC
                   and not code.startswith("VERIFIED"))
    times.sort()
    print(f"{len(CATALOGUE)} losses, {total // len(SEEDS)} wrong claims, {len(SEEDS)} seeds: "
          f"{total} reports; right claims verified {right}/{len(CATALOGUE) * len(SEEDS)}")
    print(f"specific headline: {specific}/{total} ({100 * specific / total:.1f} %)")
    print(f"time per check: median {times[len(times) // 2] * 1e3:.0f} ms, "
          f"max {times[-1] * 1e3:.0f} ms")
    print(f"\n{'headline diagnosis':<28} reports")
    for code, n in headlines.most_common():
        print(f"{code:<28} {n:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
