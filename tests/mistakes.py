"""The catalogue of tempting wrong gradients (issue 26): the book's losses and common
machine-learning losses, each with its right gradient and the mistakes readers make, each
mistake with the diagnosis code its report must lead with. tests/test_mistakes.py checks every
one at several seeds through :meth:`mcv.Problem.check`; benchmarks/diagnoses.py prints the
rate of specific diagnoses.

A row: (name, loss, declarations, wrt, right claim, [(wrong claim, expected code), ...]).
Shapes are non-square wherever the loss allows it (a square W hides a missing transpose).
"""

SOFTMAX = "np.exp(Z) / np.sum(np.exp(Z), axis=1, keepdims=True)"
P = "np.exp(X @ W) / np.sum(np.exp(X @ W), axis=1, keepdims=True)"
SIG = "1 / (1 + np.exp(-(X @ w)))"
H = "np.tanh(X @ W1)"

CATALOGUE = [
    ("least squares ||Wu - v||²", "np.sum((W @ u - v)**2)", {"W": "3x4", "u": "4", "v": "3"},
     "W", "2 * np.outer(W @ u - v, u)", [
         ("np.outer(W @ u - v, u)", "factor"),
         ("-2 * np.outer(W @ u - v, u)", "sign"),
         ("2 * np.outer(u, W @ u - v)", "shape-transpose"),
         ("2 * np.outer(W @ u, u)", ("symbolic-difference", "error-rank-one")),
         ("2 * np.outer(W @ u - v, v[:3])", "shape-size"),
         ("0 * W", "zero"),
     ]),
    ("least squares in u", "np.sum((W @ u - v)**2)", {"W": "3x4", "u": "4", "v": "3"},
     "u", "2 * W.T @ (W @ u - v)", [
         ("W.T @ (W @ u - v)", "factor"),
         ("2 * W.T @ (v - W @ u)", "sign"),
         ("2 * W.T @ W @ u", ("symbolic-difference", "other-term")),
         ("2 * W.T @ (W @ u + v)", ("symbolic-difference", "other-term")),
     ]),
    ("Frobenius ||XW - Y||²_F", "np.sum((X @ W - Y)**2)", {"X": "5x3", "W": "3x2", "Y": "5x2"},
     "W", "2 * X.T @ (X @ W - Y)", [
         ("X.T @ (X @ W - Y)", "factor"),
         ("2 * (X @ W - Y).T @ X", "shape-transpose"),
         ("2 * X.T @ X @ W", ("symbolic-difference", "other-term")),
         ("2 * X.T @ (X @ W - Y) / 5", "factor"),
     ]),
    ("mean squared error", "np.mean((X @ W - Y)**2)", {"X": "5x3", "W": "3x2", "Y": "5x2"},
     "W", "2 * X.T @ (X @ W - Y) / 10", [
         ("2 * X.T @ (X @ W - Y) / 5", "factor"),
         ("2 * X.T @ (X @ W - Y)", "factor"),
         ("X.T @ (X @ W - Y) / 10", "factor"),
     ]),
    ("ridge", "np.sum((X @ w - y)**2) + 0.5 * np.sum(w**2)", {"X": "6x3", "w": "3", "y": "6"},
     "w", "2 * X.T @ (X @ w - y) + w", [
         ("2 * X.T @ (X @ w - y)", "error-multiple-of-x"),
         ("2 * X.T @ (X @ w - y) + 2 * w", "error-multiple-of-x"),
         ("X.T @ (X @ w - y) + w", ("symbolic-difference", "other-term")),
     ]),
    ("affine with bias", "np.sum((W @ X + b[:, None] - Y)**2)",
     {"W": "2x3", "X": "3x5", "b": "2", "Y": "2x5"},
     "b", "2 * np.sum(W @ X + b[:, None] - Y, axis=1)", [
         ("2 * np.sum(W @ X + b[:, None] - Y, axis=1) / 5", "factor"),
         ("np.sum(W @ X + b[:, None] - Y, axis=1)", "factor"),
         ("2 * np.sum(W @ X - Y, axis=1)", "error-multiple-of-x"),
     ]),
    ("affine in W with bias", "np.sum((W @ X + b[:, None] - Y)**2)",
     {"W": "2x3", "X": "3x5", "b": "2", "Y": "2x5"},
     "W", "2 * (W @ X + b[:, None] - Y) @ X.T", [
         ("2 * X @ (W @ X + b[:, None] - Y).T", "shape-transpose"),
         ("2 * (W @ X - Y) @ X.T", ("symbolic-difference", "error-rank-one")),
         ("(W @ X + b[:, None] - Y) @ X.T", "factor"),
     ]),
    ("quadratic form xᵀAx", "x @ A @ x", {"x": "4", "A": "4x4"}, "x", "(A + A.T) @ x", [
         ("2 * A @ x", "assumed-symmetric"),
         ("A @ x", "assumed-symmetric"),
         ("2 * A.T @ x", "assumed-symmetric"),
         ("A.T @ x", "assumed-symmetric"),
     ]),
    ("quadratic form in A", "x @ A @ y", {"x": "4", "A": "4x3", "y": "3"}, "A",
     "np.outer(x, y)", [
         ("np.outer(y, x)", "shape-transpose"),
         ("2 * np.outer(x, y)", "factor"),
     ]),
    ("trace tr(XᵀAX)", "np.trace(X.T @ A @ X)", {"X": "4x3", "A": "4x4"}, "X",
     "(A + A.T) @ X", [
         ("2 * A @ X", "assumed-symmetric"),
         ("A @ X", "assumed-symmetric"),
         ("2 * X.T @ A", "shape-transposed-wrong"),
     ]),
    ("trace tr(AXB)", "np.trace(A @ X @ B)", {"A": "2x3", "X": "3x4", "B": "4x2"}, "X",
     "A.T @ B.T", [
         ("B @ A", "shape-transpose"),
         ("A.T @ B", "claim-not-computable"),
     ]),
    ("trace tr(X⁻¹A)", "np.trace(np.linalg.inv(X) @ A)", {"X": "3x3:spd", "A": "3x3"}, "X",
     "-(np.linalg.inv(X) @ A @ np.linalg.inv(X)).T", [
         ("np.linalg.inv(X) @ A.T @ np.linalg.inv(X)", "sign"),
         ("-A @ np.linalg.inv(X) @ np.linalg.inv(X)", ("symbolic-difference-sym", "other-term")),
     ]),
    ("trace tr(X⁻¹A), X general", "np.trace(np.linalg.inv(X) @ A)", {"X": "3x3", "A": "3x3"},
     "X", "-(np.linalg.inv(X) @ A @ np.linalg.inv(X)).T", [
         ("-np.linalg.inv(X) @ A @ np.linalg.inv(X)", "transpose"),
         ("-np.linalg.inv(X) @ np.linalg.inv(X) @ A", ("symbolic-difference", "other-term")),
     ]),
    ("log det", "np.linalg.slogdet(X)[1]", {"X": "4x4"}, "X", "np.linalg.inv(X).T", [
         ("np.linalg.inv(X)", "transpose"),
         ("2 * np.linalg.inv(X).T", "factor"),
         ("X", ("symbolic-difference", "other-term")),
         ("-np.linalg.inv(X).T", "sign"),
     ]),
    ("log det of an SPD matrix", "np.linalg.slogdet(S)[1]", {"S": "4x4:spd"}, "S",
     "np.linalg.inv(S)", [
         ("2 * np.linalg.inv(S) - np.diag(np.diag(np.linalg.inv(S)))", "cookbook-convention"),
         ("-np.linalg.inv(S)", "sign"),
         ("np.linalg.inv(S) / 2", "factor"),
     ]),
    ("Gaussian negative log-likelihood in the mean",
     "0.5 * (x - mu) @ np.linalg.solve(S, x - mu)", {"x": "3", "mu": "3", "S": "3x3:spd"},
     "mu", "-np.linalg.solve(S, x - mu)", [
         ("np.linalg.solve(S, x - mu)", "sign"),
         ("-0.5 * np.linalg.solve(S, x - mu)", "factor"),
         ("-(x - mu)", ("symbolic-difference", "other-term")),
     ]),
    ("tanh regression", "0.5 * np.sum((np.tanh(X @ W) - Y)**2)",
     {"X": "5x3", "W": "3x2", "Y": "5x2"}, "W",
     "X.T @ ((np.tanh(X @ W) - Y) * (1 - np.tanh(X @ W)**2))", [
         ("X.T @ ((np.tanh(X @ W) - Y) * (1 - np.tanh(X @ W)))",
          ("symbolic-difference", "other-term")),
         ("X.T @ (np.tanh(X @ W) - Y)", ("symbolic-difference", "other-term")),
         ("X.T @ ((np.tanh(X @ W) - Y) * np.tanh(X @ W) * (1 - np.tanh(X @ W)))",
          ("symbolic-difference", "other-term")),
         ("((np.tanh(X @ W) - Y) * (1 - np.tanh(X @ W)**2)).T @ X", "shape-transpose"),
         ("2 * X.T @ ((np.tanh(X @ W) - Y) * (1 - np.tanh(X @ W)**2))", "factor"),
     ]),
    ("logistic regression", f"-np.sum(y * np.log({SIG}) + (1 - y) * np.log(1 - {SIG}))",
     {"X": "6x3", "w": "3", "y": "6:int(0,2)"}, "w", f"X.T @ ({SIG} - y)", [
         (f"X.T @ (y - {SIG})", "sign"),
         (f"X.T @ ({SIG} - y) / 6", "factor"),
         (f"X.T @ ({SIG} * (1 - {SIG}) - y)", ("symbolic-difference", "other-term")),
         (f"({SIG} - y) @ X.T", "claim-not-computable"),
     ]),
    ("softmax cross-entropy", f"-np.sum(Y * np.log({SOFTMAX}))",
     {"Z": "4x3", "Y": "4x3:onehot"}, "Z", f"{SOFTMAX} - Y", [
         (f"Y - {SOFTMAX}", "sign"),
         (f"({SOFTMAX} - Y) / 4", "factor"),
         ("np.exp(Z) - Y", ("symbolic-difference", "other-term")),
         (f"{SOFTMAX} * (1 - {SOFTMAX}) - Y", ("symbolic-difference", "other-term")),
         (f"-Y / {SOFTMAX}", ("symbolic-difference", "other-term")),
     ]),
    ("softmax regression in W", f"-np.sum(Y * np.log({P}))",
     {"X": "5x3", "W": "3x4", "Y": "5x4:onehot"}, "W", f"X.T @ ({P} - Y)", [
         (f"({P} - Y).T @ X", "shape-transpose"),
         (f"X.T @ (Y - {P})", "sign"),
         (f"X.T @ ({P} - Y) / 5", "factor"),
     ]),
    ("two-layer tanh network, outer weights",
     f"0.5 * np.sum(({H} @ W2 - Y)**2)", {"X": "5x3", "W1": "3x4", "W2": "4x2", "Y": "5x2"},
     "W2", f"{H}.T @ ({H} @ W2 - Y)", [
         (f"({H} @ W2 - Y).T @ {H}", "shape-transpose"),
         (f"X.T @ ({H} @ W2 - Y)", "shape-size"),
         (f"2 * {H}.T @ ({H} @ W2 - Y)", "factor"),
     ]),
    ("two-layer tanh network, inner weights",
     f"0.5 * np.sum(({H} @ W2 - Y)**2)", {"X": "5x3", "W1": "3x4", "W2": "4x2", "Y": "5x2"},
     "W1", f"X.T @ ((({H} @ W2 - Y) @ W2.T) * (1 - {H}**2))", [
         (f"X.T @ ((({H} @ W2 - Y) @ W2.T) * (1 - {H}))", ("symbolic-difference", "other-term")),
         (f"X.T @ (({H} @ W2 - Y) @ W2.T)", ("symbolic-difference", "other-term")),
         (f"X.T @ (({H} @ W2 - Y) @ W2.T * {H} * (1 - {H}))",
          ("symbolic-difference", "other-term")),
         (f"-X.T @ ((({H} @ W2 - Y) @ W2.T) * (1 - {H}**2))", "sign"),
     ]),
    ("ReLU layer", "0.5 * np.sum((np.maximum(X @ W, 0) - Y)**2)",
     {"X": "5x3", "W": "3x2", "Y": "5x2"}, "W",
     "X.T @ ((np.maximum(X @ W, 0) - Y) * (X @ W > 0))", [
         ("X.T @ (np.maximum(X @ W, 0) - Y)", ("symbolic-difference", "other-term")),
         ("X.T @ ((np.maximum(X @ W, 0) - Y) * (X @ W < 0))",
          ("symbolic-difference", "other-term")),
         ("((np.maximum(X @ W, 0) - Y) * (X @ W > 0)).T @ X", "shape-transpose"),
     ]),
    ("Huber-like log-cosh", "np.sum(np.log(np.cosh(X @ w - y)))",
     {"X": "6x3", "w": "3", "y": "6"}, "w", "X.T @ np.tanh(X @ w - y)", [
         ("X.T @ (X @ w - y)", ("symbolic-difference", "other-term")),
         ("X.T @ np.tanh(X @ w - y) / 6", "factor"),
         ("-X.T @ np.tanh(X @ w - y)", "sign"),
     ]),
    ("Rayleigh quotient", "(x @ A @ x) / (x @ x)", {"x": "4", "A": "4x4:sym"}, "x",
     "2 * (A @ x - (x @ A @ x) / (x @ x) * x) / (x @ x)", [
         ("2 * A @ x / (x @ x)", "error-multiple-of-x"),
         ("(A @ x - (x @ A @ x) / (x @ x) * x) / (x @ x)", "factor"),
         ("2 * (A @ x - (x @ A @ x) * x) / (x @ x)", "error-multiple-of-x"),
     ]),
    ("matrix factorisation in U", "np.sum((U @ V.T - R)**2)",
     {"U": "5x2", "V": "4x2", "R": "5x4"}, "U", "2 * (U @ V.T - R) @ V", [
         ("2 * (U @ V.T - R).T @ U", "shape-size"),
         ("(U @ V.T - R) @ V", "factor"),
         ("2 * (U @ V.T - R) @ V @ V.T @ V", ("symbolic-difference", "other-term")),
     ]),
    ("matrix factorisation in V", "np.sum((U @ V.T - R)**2)",
     {"U": "5x2", "V": "4x2", "R": "5x4"}, "V", "2 * (U @ V.T - R).T @ U", [
         ("2 * (U @ V.T - R) @ U", "claim-not-computable"),
         ("2 * U.T @ (U @ V.T - R)", "shape-transpose"),
         ("(U @ V.T - R).T @ U", "factor"),
     ]),
    ("attention scores, softmax normalisation", "np.sum(Y * np.log(np.exp(Q @ K.T) / "
     "np.sum(np.exp(Q @ K.T), axis=1, keepdims=True)))",
     {"Q": "3x2", "K": "4x2", "Y": "3x4:onehot"}, "Q",
     "(Y - np.exp(Q @ K.T) / np.sum(np.exp(Q @ K.T), axis=1, keepdims=True)) @ K", [
         ("Y @ K", ("symbolic-difference", "other-term")),
         ("(np.exp(Q @ K.T) / np.sum(np.exp(Q @ K.T), axis=1, keepdims=True) - Y) @ K",
          "sign"),
         ("K.T @ (Y - np.exp(Q @ K.T) / np.sum(np.exp(Q @ K.T), axis=1, keepdims=True)).T",
          "shape-transpose"),
     ]),
    ("L2 norm", "np.sqrt(np.sum(x**2))", {"x": "5"}, "x", "x / np.sqrt(np.sum(x**2))", [
         ("x", "factor"),
         ("2 * x / np.sqrt(np.sum(x**2))", "factor"),
         ("x / np.sum(x**2)", "factor"),
     ]),
    ("Frobenius norm of a product", "np.sqrt(np.sum((A @ X)**2))", {"A": "2x3", "X": "3x4"},
     "X", "A.T @ A @ X / np.sqrt(np.sum((A @ X)**2))", [
         ("A @ A.T @ X / np.sqrt(np.sum((A @ X)**2))", "claim-not-computable"),
         ("A.T @ A @ X", "factor"),
         ("A.T @ A @ X / np.sum((A @ X)**2)", "factor"),
     ]),
    ("sum of exponentials of a linear map", "np.sum(np.exp(A @ x))", {"A": "4x3", "x": "3"},
     "x", "A.T @ np.exp(A @ x)", [
         ("np.exp(A @ x) @ A.T", "claim-not-computable"),
         ("A.T @ (A @ x)", ("symbolic-difference", "other-term")),
         ("np.exp(A.T @ np.ones(4))", ("symbolic-difference", "other-term")),
     ]),
    ("trace of a square", "np.trace(X @ X)", {"X": "3x3"}, "X", "2 * X.T", [
         ("2 * X", "transpose"),
         ("X.T", "factor"),
     ]),
    ("log-sum-exp", "np.log(np.sum(np.exp(z)))", {"z": "5"}, "z",
     "np.exp(z) / np.sum(np.exp(z))", [
         ("np.exp(z)", "factor"),
         ("np.exp(z) / np.sum(z)", "factor"),
     ]),
    ("weighted least squares with a diagonal weight", "np.sum(d * (A @ x - b)**2)",
     {"d": "4:pos", "A": "4x3", "x": "3", "b": "4"}, "x", "2 * A.T @ (d * (A @ x - b))", [
         ("2 * A.T @ (A @ x - b)", ("symbolic-difference", "other-term")),
         ("2 * A.T @ (d * d * (A @ x - b))", ("symbolic-difference", "other-term")),
     ]),
    ("entrywise reciprocal", "np.sum(1 / (X @ w))", {"X": "4x3:pos", "w": "3:pos"}, "w",
     "-X.T @ (1 / (X @ w)**2)", [
         ("X.T @ (1 / (X @ w)**2)", "sign"),
         ("-X.T @ (1 / (X @ w))", ("symbolic-difference", "other-term")),
         ("-1 / (X.T @ (X @ w))**2", ("symbolic-difference", "other-term")),
     ]),
]
