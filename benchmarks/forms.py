"""Benchmark of the printed forms of ``mcv derive`` (issue 27): one command, one table.

    python benchmarks/forms.py            # every loss, with the proof (about a minute)
    python benchmarks/forms.py --no-prove # the forms and derivation times only

For each of the losses in :data:`CASES` (the book's and common machine-learning ones) it
derives the gradient, prints it, and compares its printed length with the hand-written
textbook form of the same gradient, written by hand as a textbook prints it (with the
names it defines, "h = tanh(W1 x)", counted in its length), and given a second time in the
safe language for the numeric check. The columns:

* ratio: characters of the derived form / characters of the textbook form;
* derive: the time of :func:`mcv.derive.gradients` (parse excluded);
* prove: the time of :func:`mcv.prove.prove` (3 random points and sympy entry by entry
  where all variables hold at most 40 entries);
* the derived form.

The textbook form is verified against the derived gradient at three seeds by
tests/test_forms.py (for a symmetric variable: their symmetric parts). The targets of the
issue: at least 90 % of the ratios within 1.5, none over 3.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mcv.declare import draw, parse_declaration  # noqa: E402
from mcv.derive import gradients, named  # noqa: E402
from mcv.expr import evaluate, parse  # noqa: E402

__all__ = ["CASES", "measure", "declarations", "points", "main"]

_LSE = "np.log(np.sum(np.exp({0}), axis=1, keepdims=True))"
_SOFTMAX = "np.exp({0}) / np.sum(np.exp({0}), axis=1, keepdims=True)"
_SIG = "(1 / (1 + np.exp(-({0}))))"
_REG = {"X": "5x3", "w": "3", "y": "5"}
_CLS = {"Z": "6x3", "Y": "6x3:onehot"}
_SQ = {"X": "3x3", "A": "3x3", "B": "3x3"}
_NET = {"W1": "4x3", "x": "3", "W2": "2x4", "y": "2"}
_ATT = {"Q": "4x3", "K": "5x3", "V": "5x2", "G": "4x2"}
_BN = {"X": "5x3", "G": "5x3"}
_MLP = {"X": "6x4", "W1": "4x5", "b1": "5", "W2": "5x3", "b2": "3", "Y": "6x3:onehot"}
_H = _SIG.format("W1 @ x")
_S = _SOFTMAX.format("Q @ K.T")
_XHAT = "(X - np.mean(X, axis=0)) / np.sqrt(np.var(X, axis=0) + 0.01)"
_XHATR = "(X - np.mean(X, axis=1, keepdims=True)) / np.sqrt(np.var(X, axis=1, keepdims=True) + 0.01)"

#: (name, the textbook form as printed, loss, wrt, declarations, the textbook form in numpy
#: for the numeric check; a textbook names what repeats, "where h = tanh(W1 x)", and
#: the names' definitions count in its length)
CASES = [
    ("least squares", '2 Xᵀ (X w − y)', "np.sum((X @ w - y)**2)", "w", _REG, "2 * X.T @ (X @ w - y)"),
    ("mean squared error", '2 Xᵀ (X w − y) / n', "np.mean((X @ w - y)**2)", "w", _REG, "2 * X.T @ (X @ w - y) / 5"),
    ("ridge", '2 Xᵀ (X w − y) + 2 lam w', "np.sum((X @ w - y)**2) + lam * np.sum(w**2)", "w", {**_REG, "lam": ""},
     "2 * X.T @ (X @ w - y) + 2 * lam * w"),
    ("half ridge penalty", 'lam w', "lam / 2 * np.sum(w**2)", "w", {"lam": "", "w": "3"}, "lam * w"),
    ("elastic net penalty", 'sign(w) + 2 w', "np.sum(np.abs(w)) + np.sum(w**2)", "w", {"w": "3"},
     "np.sign(w) + 2 * w"),
    ("matrix least squares", '2 (W u − v) uᵀ', "np.sum((W @ u - v)**2)", "W", {"W": "3x4", "u": "4", "v": "3"},
     "2 * np.outer(W @ u - v, u)"),
    ("multi-output MSE", '2 Xᵀ (X W − Y) / (n k)', "np.mean((X @ W - Y)**2)", "W", {"X": "6x3", "W": "3x2", "Y": "6x2"},
     "X.T @ (X @ W - Y) / 6"),
    ("factorisation in U", '−2 (M − U Vᵀ) V', "np.sum((M - U @ V.T)**2)", "U",
     {"M": "4x5", "U": "4x2", "V": "5x2"}, "-2 * (M - U @ V.T) @ V"),
    ("factorisation in V", '−2 (M − U Vᵀ)ᵀ U', "np.sum((M - U @ V.T)**2)", "V",
     {"M": "4x5", "U": "4x2", "V": "5x2"}, "-2 * (M - U @ V.T).T @ U"),
    ("quadratic form", '(A + Aᵀ) x', "x @ A @ x", "x", {"A": "3x3", "x": "3"}, "(A + A.T) @ x"),
    ("quadratic form, A symmetric", '2 A x', "x @ A @ x", "x", {"A": "3x3:sym", "x": "3"},
     "2 * A @ x"),
    ("Rayleigh quotient", '2 (A x − ρ(x) x) / (xᵀ x), ρ(x) = xᵀ A x / (xᵀ x)', "(x @ A @ x) / (x @ x)", "x", {"A": "3x3:sym", "x": "3"},
     "2 * (A @ x - (x @ A @ x) / (x @ x) * x) / (x @ x)"),
    ("trace A X B", 'Aᵀ Bᵀ', "np.trace(A @ X @ B)", "X", {"A": "2x3", "X": "3x4", "B": "4x2"},
     "A.T @ B.T"),
    ("trace Xᵀ A X", '(A + Aᵀ) X', "np.trace(X.T @ A @ X)", "X", {"A": "3x3", "X": "3x2"},
     "(A + A.T) @ X"),
    ("trace X A Xᵀ", 'X (A + Aᵀ)', "np.trace(X @ A @ X.T)", "X", {"A": "3x3", "X": "2x3"},
     "X @ (A + A.T)"),
    ("trace X⁻¹ A", '−X⁻ᵀ Aᵀ X⁻ᵀ', "np.trace(np.linalg.inv(X) @ A)", "X", _SQ,
     "-np.linalg.inv(X).T @ A.T @ np.linalg.inv(X).T"),
    ("trace S⁻¹ A, S spd", '−S⁻¹ Aᵀ S⁻¹', "np.trace(np.linalg.inv(S) @ A)", "S", {"S": "3x3:spd", "A": "3x3"},
     "-np.linalg.inv(S) @ A.T @ np.linalg.inv(S)"),
    ("log det, spd", 'S⁻¹', "np.linalg.slogdet(S)[1]", "S", {"S": "3x3:spd"}, "np.linalg.inv(S)"),
    ("log |det X|", 'X⁻ᵀ', "np.log(np.abs(np.linalg.det(X)))", "X", {"X": "3x3"},
     "np.linalg.inv(X).T"),
    ("det", 'det(X) X⁻ᵀ', "np.linalg.det(X)", "X", {"X": "3x3"},
     "np.linalg.det(X) * np.linalg.inv(X).T"),
    ("Frobenius norm", 'X / ‖X‖', "np.linalg.norm(X)", "X", {"X": "3x4"}, "X / np.linalg.norm(X)"),
    ("residual norm", 'Aᵀ (A x − b) / ‖A x − b‖', "np.linalg.norm(A @ x - b)", "x", {"A": "4x3", "x": "3", "b": "4"},
     "A.T @ (A @ x - b) / np.linalg.norm(A @ x - b)"),
    ("logistic loss", '−Xᵀ (y ⊙ σ(−y ⊙ X w))', "np.sum(np.log(1 + np.exp(-y * (X @ w))))", "w", _REG,
     "-X.T @ (y * " + _SIG.format("-y * (X @ w)") + ")"),
    ("sigmoid cross-entropy", 'Xᵀ (σ(X w) − t)',
     "-np.sum(t * np.log(" + _SIG.format("X @ w") + ") + (1 - t) * np.log(1 - "
     + _SIG.format("X @ w") + "))", "w", {"X": "5x3", "w": "3", "t": "5"},
     "X.T @ (" + _SIG.format("X @ w") + " - t)"),
    ("softplus", 'σ(x)', "np.sum(np.log(1 + np.exp(x)))", "x", {"x": "4"}, _SIG.format("x")),
    ("Poisson regression", 'Xᵀ (exp(X w) − y)', "np.sum(np.exp(X @ w) - y * (X @ w))", "w", _REG,
     "X.T @ (np.exp(X @ w) - y)"),
    ("hinge", '−Xᵀ (y ⊙ [y ⊙ X w < 1])', "np.sum(np.maximum(0, 1 - y * (X @ w)))", "w", _REG,
     "-X.T @ (y * (1 - y * (X @ w) > 0))"),
    ("softmax cross-entropy", 'softmax(Z) − Y', "-np.sum(Y * (Z - " + _LSE.format("Z") + "))", "Z", _CLS,
     _SOFTMAX.format("Z") + " - Y"),
    ("softmax cross-entropy, mean", '(softmax(Z) − Y) / N', "-np.sum(Y * (Z - " + _LSE.format("Z") + ")) / 6", "Z",
     _CLS, "(" + _SOFTMAX.format("Z") + " - Y) / 6"),
    ("softmax cross-entropy via log softmax", 'softmax(Z) − Y',
     "-np.sum(Y * np.log(" + _SOFTMAX.format("Z") + "))", "Z", _CLS,
     _SOFTMAX.format("Z") + " - Y"),
    ("softmax cross-entropy, integer labels", '(softmax(Z) − onehot(y)) / N',
     "-np.sum(Z[np.arange(6), y] - np.log(np.sum(np.exp(Z), axis=1))) / 6", "Z",
     {"Z": "6x3", "y": "6:int(0,3)"},
     "(" + _SOFTMAX.format("Z") + " - (y[:, None] == np.array([0, 1, 2]))) / 6"),
    ("softmax regression", 'Xᵀ (softmax(X W) − Y)', "-np.sum(Y * np.log(" + _SOFTMAX.format("X @ W") + "))", "W",
     {"X": "6x4", "W": "4x3", "Y": "6x3:onehot"},
     "X.T @ (" + _SOFTMAX.format("X @ W") + " - Y)"),
    ("logsumexp", 'softmax(z)', "np.log(np.sum(np.exp(z)))", "z", {"z": "4"},
     "np.exp(z) / np.sum(np.exp(z))"),
    ("KL(p ‖ softmax(z))", 'softmax(z) − p',
     "np.sum(p * (np.log(p) - np.log(np.exp(z) / np.sum(np.exp(z)))))", "z",
     {"p": "4:simplex", "z": "4"}, "np.exp(z) / np.sum(np.exp(z)) - p"),
    ("MLP tanh, W2", '2 (W2 h − y) hᵀ, h = tanh(W1 x)', "np.sum((W2 @ np.tanh(W1 @ x) - y)**2)", "W2", _NET,
     "2 * np.outer(W2 @ np.tanh(W1 @ x) - y, np.tanh(W1 @ x))"),
    ("MLP tanh, W1", '2 (W2ᵀ (W2 h − y) ⊙ (1 − h^∘2)) xᵀ, h = tanh(W1 x)', "np.sum((W2 @ np.tanh(W1 @ x) - y)**2)", "W1", _NET,
     "2 * np.outer(W2.T @ (W2 @ np.tanh(W1 @ x) - y) * (1 - np.tanh(W1 @ x)**2), x)"),
    ("MLP sigmoid, W1", '2 (W2ᵀ (W2 h − y) ⊙ h ⊙ (1 − h)) xᵀ, h = σ(W1 x)', "np.sum((W2 @ " + _H + " - y)**2)", "W1", _NET,
     f"2 * np.outer(W2.T @ (W2 @ {_H} - y) * {_H} * (1 - {_H}), x)"),
    ("MLP ReLU, W1", '2 (W2ᵀ (W2 relu(W1 x) − y) ⊙ [W1 x > 0]) xᵀ', "np.sum((W2 @ np.maximum(W1 @ x, 0) - y)**2)", "W1", _NET,
     "2 * np.outer(W2.T @ (W2 @ np.maximum(W1 @ x, 0) - y) * (W1 @ x >= 0), x)"),
    ("sigmoid regression, matrix", 'Xᵀ ((P − Y) ⊙ P ⊙ (1 − P)), P = σ(X T)', "0.5 * np.sum((Y - " + _SIG.format("X @ T") + ")**2)", "T",
     {"X": "5x3", "T": "3x2", "Y": "5x2"},
     f"X.T @ (({_SIG.format('X @ T')} - Y) * {_SIG.format('X @ T')}"
     f" * (1 - {_SIG.format('X @ T')}))"),
    ("MLP sigmoid-softmax, W1",
     'Xᵀ (((P − Y) W2ᵀ) ⊙ H ⊙ (1 − H)) / N, H = σ(X W1 + b1), P = softmax(H W2 + b2)',
     "-np.sum(Y * np.log(" + _SOFTMAX.format(_SIG.format("X @ W1 + b1") + " @ W2 + b2")
     + ")) / 6", "W1", _MLP,
     f"X.T @ ((({_SOFTMAX.format(_SIG.format('X @ W1 + b1') + ' @ W2 + b2')}) - Y) @ W2.T"
     f" * {_SIG.format('X @ W1 + b1')} * (1 - {_SIG.format('X @ W1 + b1')})) / 6"),
    ("MLP sigmoid-softmax, b2", '(P − Y)ᵀ 𝟙 / N, P = softmax(σ(X W1 + b1) W2 + b2)',
     "-np.sum(Y * np.log(" + _SOFTMAX.format(_SIG.format("X @ W1 + b1") + " @ W2 + b2")
     + ")) / 6", "b2", _MLP,
     f"np.sum({_SOFTMAX.format(_SIG.format('X @ W1 + b1') + ' @ W2 + b2')} - Y, axis=0) / 6"),
    ("attention in V", 'Aᵀ G, A = softmax(Q Kᵀ)', "np.sum(G * (" + _S + " @ V))", "V", _ATT, f"({_S}).T @ G"),
    ("attention in Q", '(A ⊙ (G Vᵀ − (A ⊙ G Vᵀ) 𝟙 𝟙ᵀ)) K, A = softmax(Q Kᵀ)', "np.sum(G * (" + _S + " @ V))", "Q", _ATT,
     f"({_S}) * (G @ V.T - np.sum(G @ V.T * ({_S}), axis=1, keepdims=True)) @ K"),
    ("attention in K", '(A ⊙ (G Vᵀ − (A ⊙ G Vᵀ) 𝟙 𝟙ᵀ))ᵀ Q, A = softmax(Q Kᵀ)',
     "np.sum(G * (" + _S + " @ V))", "K", _ATT,
     f"(({_S}) * (G @ V.T - np.sum(G @ V.T * ({_S}), axis=1, keepdims=True))).T @ Q"),
    ("Gaussian precision", '(x − m) (x − m)ᵀ − P⁻¹',
     "-np.linalg.slogdet(P)[1] + (x - m) @ P @ (x - m)", "P",
     {"P": "3x3:spd", "x": "3", "m": "3"}, "np.outer(x - m, x - m) - np.linalg.inv(P)"),
    ("variance", '2 (x − x̄) / n', "np.var(x)", "x", {"x": "5"}, "2 * (x - np.mean(x)) / 5"),
    ("weighted least squares, diagonal D", '2 Xᵀ D (X w − y)', "(X @ w - y) @ D @ (X @ w - y)",
     "w", {"X": "5x3", "w": "3", "y": "5", "D": "5x5:diag"}, "2 * X.T @ D @ (X @ w - y)"),
    ("tied autoencoder", '2 (Xᵀ ((R W) ⊙ (1 − H^∘2)) + Rᵀ H), R = H Wᵀ − X, H = tanh(X W)',
     "np.sum((np.tanh(X @ W) @ W.T - X)**2)", "W", {"X": "4x3", "W": "3x2"},
     "2 * (X.T @ ((np.tanh(X @ W) @ W.T - X) @ W * (1 - np.tanh(X @ W)**2))"
     " + (np.tanh(X @ W) @ W.T - X).T @ np.tanh(X @ W))"),
    ("Gaussian mean", 'S⁻¹ (m − x)', "0.5 * (x - m) @ np.linalg.inv(S) @ (x - m)", "m",
     {"x": "3", "m": "3", "S": "3x3:spd"}, "np.linalg.inv(S) @ (m - x)"),
    ("Gaussian covariance", '(S⁻¹ − S⁻¹ (x − m) (x − m)ᵀ S⁻¹) / 2',
     "0.5 * np.linalg.slogdet(S)[1] + 0.5 * (x - m) @ np.linalg.inv(S) @ (x - m)", "S",
     {"x": "3", "m": "3", "S": "3x3:spd"},
     "(np.linalg.inv(S) - np.linalg.inv(S) @ np.outer(x - m, x - m) @ np.linalg.inv(S)) / 2"),
    ("GP marginal likelihood", '(K⁻¹ − α αᵀ) / 2, α = K⁻¹ y',
     "0.5 * y @ np.linalg.solve(K, y) + 0.5 * np.linalg.slogdet(K)[1]", "K",
     {"y": "3", "K": "3x3:spd"},
     "(np.linalg.inv(K) - np.outer(np.linalg.solve(K, y), np.linalg.solve(K, y))) / 2"),
    ("batch normalisation", '(G − 𝟙 ḡᵀ − X̂ ⊙ 𝟙 mᵀ) ⊘ 𝟙 σᵀ, ḡ = Gᵀ 𝟙 / n, m = (G ⊙ X̂)ᵀ 𝟙 / n, X̂ = (X − 𝟙 μᵀ) ⊘ 𝟙 σᵀ, μ = Xᵀ 𝟙 / n, σ = sqrt(var(X) + ε)', f"np.sum(G * {_XHAT})", "X", _BN,
     f"(G - np.mean(G, axis=0) - {_XHAT} * np.mean(G * {_XHAT}, axis=0))"
     " / np.sqrt(np.var(X, axis=0) + 0.01)"),
    ("layer normalisation", '(G − ḡ 𝟙ᵀ − X̂ ⊙ m 𝟙ᵀ) ⊘ σ 𝟙ᵀ, ḡ = G 𝟙 / d, m = (G ⊙ X̂) 𝟙 / d, X̂ = (X − μ 𝟙ᵀ) ⊘ σ 𝟙ᵀ, μ = X 𝟙 / d, σ = sqrt(var(X) + ε)', f"np.sum(G * {_XHATR})", "X", _BN,
     f"(G - np.mean(G, axis=1, keepdims=True) - {_XHATR} * np.mean(G * {_XHATR}, axis=1,"
     " keepdims=True)) / np.sqrt(np.var(X, axis=1, keepdims=True) + 0.01)"),
]


def declarations(case) -> dict:
    return {n: parse_declaration(f"{n}={t}") for n, t in case[4].items()}


def _parse(text: str, found: dict):
    return parse(text, {n: d.shape for n, d in found.items()},
                 structures={n: d.structure for n, d in found.items()})


def points(case, seeds=(0, 1, 2)) -> list:
    found = declarations(case)
    return [(s, {n: draw(d, np.random.default_rng(s)) for n, d in sorted(found.items())})
            for s in seeds]


def measure(case, prove_it: bool = True) -> dict:
    """Derive, print, time and (optionally) prove one case."""
    name, textbook_math, loss_text, wrt, _, textbook_text = case
    found = declarations(case)
    loss = _parse(loss_text, found)
    start = time.perf_counter()
    derived = gradients(loss, [wrt])[wrt]
    derive_time = time.perf_counter() - start
    row = {"name": name, "derived": derived, "textbook": _parse(textbook_text, found),
           "math": named(derived), "textbook_math": textbook_math, "derive": derive_time}
    row["ratio"] = len(row["math"]) / len(row["textbook_math"])
    if prove_it:
        from mcv.prove import prove
        start = time.perf_counter()
        evidence = prove(loss, wrt, derived, points(case), found[wrt].structure)
        row["prove"] = time.perf_counter() - start
        row["verified"], row["exact"] = evidence["verified"], evidence["exact"]
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-prove", action="store_true")
    arguments = parser.parse_args(argv)
    rows = [measure(case, not arguments.no_prove) for case in CASES]
    print("| loss | ratio | derive ms | prove s | sympy | derived form |\n"
          "|---|---|---|---|---|---|")
    for r in rows:
        proof = f"{r['prove']:.2f}" + ("" if r["verified"] else " FAILED") \
            if "prove" in r else "-"
        exact = r.get("exact", "-").split(" (")[0]
        cells = [r["name"], f"{r['ratio']:.2f}", f"{1000 * r['derive']:.1f}", proof, exact,
                 f"`{r['math']}`"]
        print("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    ratios = [r["ratio"] for r in rows]
    within = sum(x <= 1.5 for x in ratios)
    print(f"\n{len(rows)} losses: {within} ({100 * within / len(rows):.0f} %) within 1.5×, "
          f"median {statistics.median(ratios):.2f}, worst {max(ratios):.2f} "
          f"({rows[ratios.index(max(ratios))]['name']}), "
          f"{sum(x > 3 for x in ratios)} over 3×; derivation median "
          f"{1000 * statistics.median(r['derive'] for r in rows):.1f} ms, worst "
          f"{1000 * max(r['derive'] for r in rows):.1f} ms" +
          ("" if arguments.no_prove else
           f"; proof median {statistics.median(r['prove'] for r in rows):.2f} s, worst "
           f"{max(r['prove'] for r in rows):.2f} s"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
