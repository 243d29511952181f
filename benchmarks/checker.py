"""Benchmark of mcv.check_gradient (issue 13): one command, printed tables.

    python benchmarks/checker.py            # 20 s to a minute on 2 cores
    python benchmarks/checker.py --quick    # fewer trials (a smoke run)

1. Time and error by size and method on L(W) = ‖WU − V‖²_F (full and fast mode), and the
   1000×1000 target: the right claim verified, its transposed, negated and halved variants
   rejected and named.
2. The situations where readers check (an optimum, a domain boundary, ill-conditioning,
   a small entry, kinks, |x|^1.5 at 0, a corrupted imaginary part), judged by mcv and by two
   plain checkers a reader would write: central differences with a 1e-4 relative threshold,
   and scipy.optimize.check_grad's semantics (forward differences with a √ε step, the
   2-norm of claim − numeric, thresholded at 1e-4 relative to the numeric's 2-norm).
   scipy is not a dependency: both are implemented below.
3. Rates: false rejections of right claims and false acceptances of wrong ones over many
   random instances of each situation, for the three checkers.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mcv.checks import FAST_SIZE, check_gradient  # noqa: E402

EPS = np.finfo(float).eps


# ------------------------------------------------------------------ the plain checkers

def plain_central(f, grad, x, threshold=1e-4):
    """What a reader writes: central differences, h = 1e-6 (relative), a 1e-4 threshold."""
    numeric = np.empty(x.shape)
    for j in range(x.size):
        h = 1e-6 * max(1.0, abs(x.flat[j]))
        up, down = x.copy(), x.copy()
        up.flat[j] += h
        down.flat[j] -= h
        numeric.flat[j] = (f(up) - f(down)) / (2 * h)
    claim = np.asarray(grad(x), dtype=float)
    if claim.shape != x.shape or not np.all(np.isfinite(numeric)):
        return False
    return bool(np.max(np.abs(claim - numeric)) <= threshold * max(np.max(np.abs(numeric)),
                                                                    1e-300))


def scipy_like(f, grad, x, threshold=1e-4):
    """scipy.optimize.check_grad: forward differences, step √ε, ‖claim − numeric‖₂;
    the reader thresholds it relative to ‖numeric‖₂."""
    h = np.sqrt(EPS)
    f0 = f(x)
    numeric = np.empty(x.shape)
    for j in range(x.size):
        up = x.copy()
        up.flat[j] += h
        numeric.flat[j] = (f(up) - f0) / h
    claim = np.asarray(grad(x), dtype=float)
    if claim.shape != x.shape or not np.all(np.isfinite(numeric)):
        return False
    return bool(np.linalg.norm(claim - numeric) <= threshold * max(np.linalg.norm(numeric),
                                                                   1e-300))


def mcv_ok(f, grad, x):
    try:
        return check_gradient(f, grad, x).ok
    except (TypeError, ValueError):
        return False


CHECKERS = {"mcv": mcv_ok, "plain central": plain_central, "scipy-like": scipy_like}


def safe(checker, f, grad, x):
    try:
        with np.errstate(all="ignore"):
            return checker(f, grad, x)
    except Exception:  # noqa: BLE001 - a plain checker that crashes has not verified
        return False


# ------------------------------------------------------------------------ situations

def spd(rng, n, condition):
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    matrix = q @ np.diag(np.geomspace(1.0, 1.0 / condition, n)) @ q.T
    return (matrix + matrix.T) / 2


def log_likelihood(y):
    f = lambda C: 0.5 * (np.log(np.linalg.det(C)) + y @ np.linalg.solve(C, y))

    def grad(C):
        inverse = np.linalg.inv(C).T
        return 0.5 * (inverse - inverse @ np.outer(y, y) @ inverse)
    return f, grad


def least_squares_optimum(rng):
    A, b = rng.standard_normal((9, 5)), rng.standard_normal(9)
    x = np.linalg.lstsq(A, b, rcond=None)[0]
    f = lambda x: np.sum((A @ x - b) ** 2)
    return f, lambda x: 2 * A.T @ (A @ x - b), {"b forgotten": lambda x: 2 * A.T @ A @ x}, x


def gaussian_mle(rng):
    S = spd(rng, 3, 10.0)
    f = lambda C: np.log(np.linalg.det(C)) + np.trace(np.linalg.solve(C, S))

    def grad(C):
        inverse = np.linalg.inv(C).T
        return inverse - inverse @ S.T @ inverse
    return f, grad, {"a term missing": lambda C: np.linalg.inv(C).T}, S.copy()


def correlation(rho):
    def make(rng):
        C, y = np.array([[1.0, rho], [rho, 1.0]]), rng.standard_normal(2)
        f, grad = log_likelihood(y)
        return f, grad, {"sign": lambda C: -grad(C), "1.001×": lambda C: 1.001 * grad(C)}, C
    return make


def spd_condition(condition):
    def make(rng):
        C, y = spd(rng, 3, condition), rng.standard_normal(3)
        f, grad = log_likelihood(y)
        return f, grad, {"sign": lambda C: -grad(C), "1.001×": lambda C: 1.001 * grad(C)}, C
    return make


def gp_kernel(rng):
    t, y = np.sort(rng.uniform(0, 5, 10)), rng.standard_normal(10)
    K = np.exp(-0.5 * (t[:, None] - t[None, :]) ** 2) + 1e-2 * np.eye(10)
    f, grad = log_likelihood(y)
    return f, grad, {"1.0001×": lambda K: 1.0001 * grad(K)}, K


def small_entry(rng):
    x = rng.uniform(0.5, 1.5, 2) * rng.choice([-1, 1], 2)
    f = lambda x: 1e6 * np.abs(x[0]) ** 3 + np.abs(x[1]) ** 3
    grad = lambda x: np.array([3e6 * x[0] * abs(x[0]), 3 * x[1] * abs(x[1])])
    return f, grad, {"entry 1 5% off": lambda x: grad(x) * np.array([1.0, 1.05])}, x


def abs_kink(rng):
    x = rng.standard_normal(4)
    x[0] = 0.0
    f = lambda x: np.sum(np.abs(x))
    # no gradient exists: every claim is wrong, the right claim is None
    return f, None, {"sign(x)": np.sign, "zeros": np.zeros_like}, x


def power_one_and_a_half(rng):
    x = rng.standard_normal(4)
    x[0] = 0.0
    f = lambda x: np.sum(np.abs(x) ** 1.5)
    grad = lambda x: 1.5 * np.sign(x) * np.sqrt(np.abs(x))
    bump = np.array([0.1, 0, 0, 0])
    return f, grad, {"entry 0 off by 0.1": lambda x: grad(x) + bump}, x


def sign_trap(rng):
    x = rng.standard_normal(5)
    f = lambda x: np.sum(np.sign(x) * x)  # np.sign(z) = z/|z|: the complex step sees 2|x|
    return f, np.sign, {"2 sign(x)": lambda x: 2 * np.sign(x)}, x


def scale_span(rng):
    c = np.geomspace(1e-8, 1e8, 6)[rng.permutation(6)]
    x = rng.uniform(0.5, 2.0, 6)
    f = lambda x: np.sum(c * x ** 3)
    grad = lambda x: 3 * c * x ** 2
    second = int(np.argsort(c)[-2])  # 10^-3.2 of the largest: resolvable
    return f, grad, {"sign": lambda x: -grad(x),
                     "1% in the 2nd largest": lambda x: grad(x) * np.where(
                         np.arange(6) == second, 1.01, 1.0)}, x


SITUATIONS = {
    "least squares at its optimum": least_squares_optimum,
    "Gaussian covariance at its MLE": gaussian_mle,
    "correlation 0.999": correlation(0.999),
    "correlation 0.9999": correlation(0.9999),
    "SPD, condition 1e6": spd_condition(1e6),
    "GP likelihood (cond ~400)": gp_kernel,
    "1e6|x0|^3 + |x1|^3": small_entry,
    "entries 1e-8 .. 1e8": scale_span,
    "abs at a zero (no gradient)": abs_kink,
    "|x|^1.5 at 0": power_one_and_a_half,
    "np.sign (complex trap)": sign_trap,
}


# --------------------------------------------------------------------------- tables

def timing_table():
    rng = np.random.default_rng(0)
    print("1. L(W) = ‖WU − V‖²_F, W n×n, U and V n×10: time, evaluations of f, error")
    print(f"   (mode 'auto' is fast above FAST_SIZE = {FAST_SIZE} entries)")
    print(f"   {'n':>5} {'mode':>5} {'method':>18} {'time':>8} {'evals':>7} "
          f"{'max rel error':>14}  verdict")
    rows = [(10, "full"), (30, "full"), (60, "full"), (100, "fast"), (300, "fast"),
            (1000, "fast")]
    for n, mode in rows:
        U, V = rng.standard_normal((n, 10)), rng.standard_normal((n, 10))
        W = rng.standard_normal((n, n)) / np.sqrt(n)
        f = lambda W: np.sum((W @ U - V) ** 2)
        grad = lambda W: 2 * (W @ U - V) @ U.T
        f_abs = lambda W: np.sum(np.abs(W @ U - V) ** 2)   # not analytic: central
        for method, loss in (("complex-step", f), ("central-difference", f_abs)):
            if mode == "full" and method == "central-difference" and n > 30:  # ~6 evals an entry
                continue
            start = time.perf_counter()
            report = check_gradient(loss, grad, W, mode=mode)
            seconds = time.perf_counter() - start
            assert report.method == method, report
            print(f"   {n:>5} {mode:>5} {method:>18} {seconds:>7.2f}s {report.evaluations:>7} "
                  f"{report.max_rel_error:>14.1e}  {report.verdict}")
    print()
    print("   the 1000×1000 target, mode auto (fast), as the minimum of 3 repeats, in units of")
    print("   one real evaluation of f; calls of f by stage (method: probes of the complex")
    print("   step; floor: round-off floor; directions: the comparison; diagnosis: naming):")
    n = 1000
    U, V = rng.standard_normal((n, 10)), rng.standard_normal((n, 10))
    W = rng.standard_normal((n, n)) / np.sqrt(n)
    f = lambda W: np.sum((W @ U - V) ** 2)
    grad = lambda W: 2 * (W @ U - V) @ U.T
    one = min(timed(lambda: f(W)) for _ in range(20))
    complex_one = min(timed(lambda: f(W + 1e-20j * W)) for _ in range(5))
    print(f"   one evaluation: real {one * 1e3:.2f} ms, complex {complex_one * 1e3:.2f} ms "
          f"({complex_one / one:.0f}× a real one)")
    for name, claim in (("right", grad), ("transposed", lambda W: grad(W).T),
                        ("negated", lambda W: -grad(W)), ("halved", lambda W: grad(W) / 2)):
        seconds = min(timed(lambda: check_gradient(f, claim, W)) for _ in range(3))
        report = check_gradient(f, claim, W)
        stages = ", ".join(f"{stage} {count}" for stage, count in report.stages)
        print(f"   {name:>10}: {seconds:5.2f}s = {seconds / one:5.0f} evaluations' time; "
              f"{report.verdict:<8} {','.join(report.codes) or '-':<10} calls: {stages}")
    print()


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def situations_table(trials: int):
    print(f"2./3. Situations: verdict on the right claim and on wrong ones, over {trials} "
          "random instances each.")
    print("   counts are false rejections of the right claim (FR) and false acceptances "
          "of wrong claims (FA)")
    header = "   " + f"{'situation':<32}" + "".join(f"{name:>22}" for name in CHECKERS)
    print(header)
    totals = {name: [0, 0, 0, 0] for name in CHECKERS}   # FR, right trials, FA, wrong trials
    for situation, make in SITUATIONS.items():
        counts = {name: [0, 0, 0, 0] for name in CHECKERS}
        for trial in range(trials):
            f, grad, wrongs, x = make(np.random.default_rng(1000 + trial))
            for name, checker in CHECKERS.items():
                if grad is not None:
                    counts[name][1] += 1
                    counts[name][0] += not safe(checker, f, grad, x)
                for wrong in wrongs.values():
                    counts[name][3] += 1
                    counts[name][2] += safe(checker, f, wrong, x)
        cells = []
        for name in CHECKERS:
            fr, right, fa, wrong = counts[name]
            for k in range(4):
                totals[name][k] += counts[name][k]
            cells.append(f"FR {fr:>3}/{right:<3} FA {fa:>3}/{wrong:<3}")
        print("   " + f"{situation:<32}" + "".join(f"{cell:>22}" for cell in cells))
    cells = []
    for name in CHECKERS:
        fr, right, fa, wrong = totals[name]
        cells.append(f"FR {fr / max(right, 1):>5.1%} FA {fa / max(wrong, 1):>5.1%}")
    print("   " + f"{'all (rates)':<32}" + "".join(f"{cell:>22}" for cell in cells))
    print()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer trials")
    arguments = parser.parse_args(argv)
    timing_table()
    situations_table(5 if arguments.quick else 40)
    return 0


if __name__ == "__main__":
    sys.exit(main())
