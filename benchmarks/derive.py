"""Benchmark of mcv derive (issue 15): one command, one printed table.

    python benchmarks/derive.py              # about half a minute on 2 cores
    python benchmarks/derive.py --repeat 3   # a smoke run

For every row of the identities registry (mcv/identities.py) and for a two-layer network
loss ``np.sum((W2 @ np.tanh(W1 @ X) - Y)**2)`` it prints

* derive: the time of :func:`mcv.derive.gradient` alone (reverse mode and simplification on
  the parsed loss; the median of ``--repeat`` runs). It does not depend on the array sizes,
  only on the expression.
* derive + prove: the time of ``mcv derive --json`` run in this process, all that the
  command does: parse, derive, print, the steps, ``check_gradient`` at 3 random points that
  satisfy the declarations and, where all variables have at most 40 entries in all, sympy's
  derivative entry by entry. At the registry's sizes (m, n, k) = (3, 2, 4) sympy runs for
  most rows and dominates this column (sympy is imported before the timings).
* operations: :func:`mcv.derive.size` of the derived form and of the hand-written one (the
  row's ``grad_text``), and the excess (the bound tests/test_identities.py holds it to).
* verified: the proof's verdict, and (=) when the derived gradient also equals the
  hand-written one at the proof's first point to 1e-10 relative.

The target of the issue is "well under a second each" for the derivation.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mcv.cli import main as mcv  # noqa: E402
from mcv.declare import draw, parse_declaration  # noqa: E402
from mcv.derive import gradient, size  # noqa: E402
from mcv.expr import evaluate, parse  # noqa: E402
from mcv.identities import IDENTITIES  # noqa: E402

SIZES = (3, 2, 4)   # (m, n, k), as in the appendix's first point
#: The registry's conditions as declarations of mcv derive (an invertible matrix needs none:
#: a Gaussian matrix is invertible with probability one).
STRUCTURE = {"symmetric": ":sym", "spd": ":spd", "invertible": ""}
#: Rows whose loss needs a declared domain: log x needs x > 0.
DOMAIN = {"sum log x": {"x": ":pos"}}

NETWORK = {
    "loss": "np.sum((W2 @ np.tanh(W1 @ X) - Y)**2)",
    # the derivation does not depend on the sizes; the proof's time grows with W1's entries
    "shapes": {"W1": "16x8", "X": "8x32", "W2": "3x16", "Y": "3x32"},
    "by hand": {
        "W2": "2 * (W2 @ np.tanh(W1 @ X) - Y) @ np.tanh(W1 @ X).T",
        "W1": "(2 * W2.T @ (W2 @ np.tanh(W1 @ X) - Y) * (1 - np.tanh(W1 @ X)**2))"
              " @ X.T"},
}


def median_time(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def declarations(identity) -> dict[str, str]:
    shapes = identity.shapes(*SIZES)
    return {name: "x".join(map(str, shape))
            + STRUCTURE.get(identity.condition.get(name, ""), "")
            + DOMAIN.get(identity.name, {}).get(name, "")
            for name, shape in shapes.items()}


def equal_to_hand(found, by_hand, declared: dict[str, str]) -> bool:
    """The derived and the hand-written gradient at one random point, to 1e-10 relative."""
    rng = np.random.default_rng(0)
    point = {name: draw(parse_declaration(f"{name}={text}"), rng)
             for name, text in sorted(declared.items())}
    a, b = evaluate(found, point), evaluate(by_hand, point)
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    return bool(np.max(np.abs(a - b)) <= 1e-10 * max(np.max(np.abs(b)), 1e-300))


def measure(name, loss_text, wrt, declared, grad_text, repeat):
    shapes = {n: parse_declaration(f"{n}={t}").shape for n, t in declared.items()}
    loss, by_hand = parse(loss_text, shapes), parse(grad_text, shapes)
    found = gradient(loss, wrt, shapes)
    derive_time = median_time(lambda: gradient(loss, wrt, shapes), repeat)
    command = ["derive", "--loss", loss_text, "--wrt", wrt, "--json"]
    command += [f"--shape={n}={t}" for n, t in declared.items()]
    out = io.StringIO()
    start = time.perf_counter()
    with redirect_stdout(out):
        mcv(command)
    prove_time = time.perf_counter() - start
    proof = json.loads(out.getvalue())[wrt]
    verdict = ("✓" if proof["verified"] else "FAILED") + \
        (" (=)" if equal_to_hand(found, by_hand, declared) else " (≠ by hand)")
    return {"row": name, "derive": derive_time, "prove": prove_time,
            "derived": size(found), "hand": size(by_hand), "verified": verdict,
            "exact": proof["exact"].split(" (")[0]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="runs per derivation timing")
    arguments = parser.parse_args(argv)
    import sympy  # noqa: F401 (imported once, not inside the first row's timing)
    results = []
    for identity in IDENTITIES:
        if identity.loss_text is None:
            continue
        sizes = dict(zip("mnk", SIZES))
        results.append(measure(identity.name, identity.loss_text.format(**sizes),
                               identity.wrt, declarations(identity),
                               identity.grad_text.format(**sizes), arguments.repeat))
    for wrt in ("W1", "W2"):
        results.append(measure(f"two-layer network, in {wrt}", NETWORK["loss"], wrt,
                               NETWORK["shapes"], NETWORK["by hand"][wrt], arguments.repeat))

    network = ", ".join(f"{n} {t}" for n, t in NETWORK["shapes"].items())
    print(f"mcv derive: {len(results)} derivations (registry at (m, n, k) = {SIZES}; the "
          f"network with {network})\n")
    width = max(len(r["row"]) for r in results)
    print(f"{'#':>3}  {'row':<{width}}  {'derive':>8}  {'+ prove':>8}  "
          f"{'ops':>4} {'hand':>4} {'+':>3}  {'verified':<12} sympy")
    for number, r in enumerate(results, start=1):
        print(f"{number:>3}  {r['row']:<{width}}  {r['derive'] * 1e3:6.2f}ms  "
              f"{r['prove'] * 1e3:6.0f}ms  {r['derived']:>4} {r['hand']:>4} "
              f"{r['derived'] - r['hand']:>+3}  {r['verified']:<12} {r['exact']}")
    slowest = max(results, key=lambda r: r["derive"])
    slowest_proof = max(results, key=lambda r: r["prove"])
    excess = [r["derived"] - r["hand"] for r in results]
    print(f"\nslowest derivation: {slowest['derive'] * 1e3:.2f} ms ({slowest['row']}); "
          f"slowest derive + prove: {slowest_proof['prove']:.2f} s ({slowest_proof['row']})")
    print("target (each derivation well under a second, here: under 0.1 s): "
          f"{'met' if slowest['derive'] < 0.1 else 'NOT met'}")
    print(f"operations: {sum(e <= 0 for e in excess)} of {len(excess)} derived forms as short "
          f"as by hand or shorter; largest excess {max(excess)}")
    failed = [r["row"] for r in results if not r["verified"].startswith("✓")
              or "≠" in r["verified"]]
    print("every derived gradient verified and equal to the hand-written one" if not failed
          else f"NOT verified or not equal: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
