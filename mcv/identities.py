"""The book's table of gradient identities: one source of truth for the appendix and the tests.

Each :class:`Identity` is one row: a scalar loss ``loss(x, p)`` of the variable ``x`` and of
constant parameters ``p.A``, ``p.b``, ...; its claimed gradient ``grad(x, p)`` in this book's
convention (an array of ``x``'s shape); the shapes, as a function of three sizes
``(m, n, k)``; the LaTeX the appendix prints; the Matrix Cookbook's equation number, if any.

* The appendix ("Identities, verified") draws points with :func:`draw`, measures every row
  with ``checks.check_gradient`` and prints the table: no formula is typed twice.
* ``tests/test_identities.py`` checks every row on hypothesis-drawn sizes (all three
  different, so a missing transpose cannot hide) and, with :func:`symbolic`, exactly with
  sympy on small concrete sizes.
* ``loss_text`` and ``grad_text`` say the loss and the gradient once more in the safe
  language of :mod:`mcv.expr` (:func:`expressions` parses them): the tests assert that they
  compute what ``loss`` and ``grad`` compute, and :func:`mcv.derive.gradient` derives every
  row from ``loss_text``, to be compared with ``grad_text``.

Losses use the entrywise helpers below (``exp``, ``log``, ``det``, ...): on float or complex
arrays they are numpy's, on arrays of sympy symbols sympy's, so one formula serves the numeric
check (complex step included) and the exact one.

Cookbook numbers are those of Petersen and Pedersen, version of November 15, 2012, given only
where the Cookbook states the identity or a generalisation of it (``cookbook_note`` says
which).
Its derivatives of a scalar by a vector or a matrix are arrays of the variable's shape, like
this book's gradients, so no row needs a layout conversion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable

import numpy as np

Shapes = Callable[..., dict]  # (m, n, k) -> {name: shape}; the variable is one of the names


# --------------------------------------------------- entrywise functions, numeric or sympy

def _entrywise(numpy_function, sympy_name: str):
    def apply(z):
        z = np.asarray(z)
        if z.dtype == object:  # sympy expressions
            import sympy
            return np.vectorize(getattr(sympy, sympy_name), otypes=[object])(z)
        return numpy_function(z)
    apply.__name__ = numpy_function.__name__
    return apply


exp, log, tanh = (_entrywise(np.exp, "exp"), _entrywise(np.log, "log"),
                  _entrywise(np.tanh, "tanh"))
sqrt, absolute, sign = (_entrywise(np.sqrt, "sqrt"), _entrywise(np.abs, "Abs"),
                        _entrywise(np.sign, "sign"))


def power(z, numerator: int, denominator: int):
    """z ** (numerator / denominator), an exact rational power for sympy."""
    if np.asarray(z).dtype == object:
        import sympy
        return z ** sympy.Rational(numerator, denominator)
    return z ** (numerator / denominator)


def sigmoid(z):
    return 1 / (1 + exp(-z))


def det(X):
    if X.dtype == object:
        import sympy
        return sympy.Matrix(X).det()
    return np.linalg.det(X)


def inv(X):
    if X.dtype == object:
        import sympy
        return np.array(sympy.Matrix(X).inv(), dtype=object)
    return np.linalg.inv(X)


def eye_like(X):
    return np.eye(X.shape[0], dtype=X.dtype)


# ------------------------------------------------------------------------------ the rows

@dataclass(frozen=True)
class Identity:
    """One row of the table: ``∇_x loss(x, p) = grad(x, p)``."""

    name: str                      # short and ASCII: the test id
    group: str
    wrt: str                       # the variable, one of the names in shapes
    shapes: Shapes                 # (m, n, k) -> {name: shape}; square only where needed
    loss: Callable                 # loss(x, p) -> scalar
    grad: Callable                 # grad(x, p) -> array of x's shape
    expression: str                # LaTeX of the loss
    gradient: str                  # LaTeX of the gradient, in this book's convention
    cookbook: str | None = None    # "(101)", or None where the Cookbook has no such equation
    cookbook_note: str = ""        # how the Cookbook's statement specialises to this row
    constraint: str = ""           # a condition on the point, or a name used (LaTeX)
    condition: dict = field(default_factory=dict)   # name -> "invertible", "spd", "symmetric"
    prepare: Callable | None = None  # numeric draws only: values -> values (away from kinks)
    exact: bool = True             # sympy can check it entry by entry
    # The loss and ``grad`` again, as text in the safe language of :mod:`mcv.expr` (what
    # ``mcv check`` and ``mcv derive`` read), in the row's own names; ``{m}``, ``{n}``, ``{k}``
    # stand for the sizes (``np.eye({n})``). None where the language cannot say the loss.
    loss_text: str | None = None
    grad_text: str | None = None


def _invertible(Z):
    """Singular values in [1, 3]: 2I plus a matrix of spectral norm one."""
    return 2 * np.eye(len(Z)) + Z / np.linalg.norm(Z, 2)


def _positive_definite(Z):
    return np.eye(len(Z)) + Z @ Z.T / len(Z)


def _away_from_zero(z):
    """Entries at least 0.5 from zero: a kink of |.| is never within a difference step."""
    return z + 0.5 * np.sign(z)


def _condition(kind: str, value: np.ndarray) -> np.ndarray:
    if kind == "symmetric":        # structural: applies to sympy symbols too
        return (value + value.T) / 2
    if value.dtype == object:      # the others only keep numbers away from trouble
        return value
    return {"invertible": _invertible, "spd": _positive_definite}[kind](value)


def draw(identity: Identity, rng: np.random.Generator, m: int, n: int, k: int):
    """A random point for the row: ``(x, p)``, the variable and its parameters, sizes m, n, k."""
    values = {name: rng.standard_normal(shape)
              for name, shape in identity.shapes(m, n, k).items()}
    values = {name: _condition(identity.condition[name], value)
              if name in identity.condition else value for name, value in values.items()}
    if identity.prepare is not None:
        values = identity.prepare(values)
    x = values.pop(identity.wrt)
    return x, SimpleNamespace(**values)


def symbolic(identity: Identity, m: int, n: int, k: int):
    """The row's variable and parameters as arrays of real sympy symbols: ``(x, p)``."""
    from mcv.symbolic import symbols_array

    values = {name: symbols_array(name, shape)
              for name, shape in identity.shapes(m, n, k).items()}
    values = {name: _condition(identity.condition[name], value)
              if name in identity.condition else value for name, value in values.items()}
    x = values.pop(identity.wrt)
    return x, SimpleNamespace(**values)


def expressions(identity: Identity, m: int, n: int, k: int):
    """The row's loss and hand-written gradient parsed by :func:`mcv.expr.parse` at sizes
    ``(m, n, k)``: ``(loss, grad, shapes)``, nodes that :func:`mcv.expr.evaluate` computes and
    :func:`mcv.derive.gradient` differentiates; None where the row has no ``loss_text``."""
    from mcv.expr import parse

    if identity.loss_text is None:
        return None
    shapes = identity.shapes(m, n, k)
    sizes = {"m": m, "n": n, "k": k}
    return (parse(identity.loss_text.format(**sizes), shapes, "loss_text"),
            parse(identity.grad_text.format(**sizes), shapes, "grad_text"), shapes)


def shape_text(identity: Identity) -> str:
    """'$X\\colon m\\times n$, ...': the shapes, the variable first."""
    shapes = identity.shapes("m", "n", "k")
    names = [identity.wrt] + [name for name in shapes if name != identity.wrt]
    return ", ".join("$%s\\colon %s$" % (tex_name(name), r"\times ".join(shapes[name]))
                     for name in names)


def tex_name(name: str) -> str:
    """x -> \\mathbf x (vectors are bold), X -> X, Theta -> \\Theta."""
    if name == "Theta":
        return r"\Theta"
    return rf"\mathbf {name}" if name.islower() else name


def _l1_residual_point(values):
    """‖x − Ax‖₁: a contraction A and a point x whose residual has no entry near zero."""
    A = 0.5 * values["A"] / np.linalg.norm(values["A"], 2)
    residual = _away_from_zero(values["x"])
    return {**values, "A": A, "x": np.linalg.solve(np.eye(len(A)) - A, residual)}


def _clear_maximum(values):
    """‖x‖_∞: the largest |x_i| stands out, so no second entry ties with it within a step."""
    x = values["x"].copy()
    x[np.argmax(np.abs(x))] *= 1.5
    return {**values, "x": x}


def _negative_determinant(values):
    X = values["X"].copy()
    X[0] *= -1
    return {**values, "X": X}


IDENTITIES: list[Identity] = [
    # ---------------------------------------------------------------- forms in a vector
    Identity(
        "a'x", "linear and quadratic forms", "x", lambda m, n, k: dict(x=(n,), a=(n,)),
        lambda x, p: p.a @ x, lambda x, p: p.a,
        r"\mathbf a^\top\mathbf x", r"\mathbf a", "(69)",
        loss_text="a @ x", grad_text="a"),
    Identity(
        "x'x", "linear and quadratic forms", "x", lambda m, n, k: dict(x=(n,)),
        lambda x, p: x @ x, lambda x, p: 2 * x,
        r"\mathbf x^\top\mathbf x", r"2\mathbf x",
        loss_text="x @ x", grad_text="2 * x"),
    Identity(
        "c'Ax", "linear and quadratic forms", "x",
        lambda m, n, k: dict(x=(n,), A=(m, n), c=(m,)),
        lambda x, p: p.c @ p.A @ x, lambda x, p: p.A.T @ p.c,
        r"\mathbf c^\top A\mathbf x", r"A^\top\mathbf c",
        loss_text="c @ A @ x", grad_text="A.T @ c"),
    Identity(
        "x'Bx", "linear and quadratic forms", "x", lambda m, n, k: dict(x=(n,), B=(n, n)),
        lambda x, p: x @ p.B @ x, lambda x, p: (p.B + p.B.T) @ x,
        r"\mathbf x^\top B\mathbf x", r"(B + B^\top)\mathbf x", "(81)",
        loss_text="x @ B @ x", grad_text="(B + B.T) @ x"),
    Identity(
        "(a'x)^2", "linear and quadratic forms", "x", lambda m, n, k: dict(x=(n,), a=(n,)),
        lambda x, p: (p.a @ x) ** 2, lambda x, p: 2 * (p.a @ x) * p.a,
        r"(\mathbf a^\top\mathbf x)^2", r"2(\mathbf a^\top\mathbf x)\,\mathbf a",
        loss_text="(a @ x)**2", grad_text="2 * (a @ x) * a"),
    Identity(
        "(Bx+b)'C(Dx+d)", "linear and quadratic forms", "x",
        lambda m, n, k: dict(x=(n,), B=(k, n), b=(k,), C=(k, m), D=(m, n), d=(m,)),
        lambda x, p: (p.B @ x + p.b) @ p.C @ (p.D @ x + p.d),
        lambda x, p: p.B.T @ p.C @ (p.D @ x + p.d) + p.D.T @ p.C.T @ (p.B @ x + p.b),
        r"(B\mathbf x + \mathbf b)^\top C(D\mathbf x + \mathbf d)",
        r"B^\top C(D\mathbf x + \mathbf d) + D^\top C^\top(B\mathbf x + \mathbf b)", "(78)",
        loss_text="(B @ x + b) @ C @ (D @ x + d)",
        grad_text="B.T @ C @ (D @ x + d) + D.T @ C.T @ (B @ x + b)"),
    Identity(
        "||Ax-b||^2", "linear and quadratic forms", "x",
        lambda m, n, k: dict(x=(n,), A=(m, n), b=(m,)),
        lambda x, p: np.sum((p.A @ x - p.b) ** 2), lambda x, p: 2 * p.A.T @ (p.A @ x - p.b),
        r"\lVert A\mathbf x - \mathbf b\rVert^2", r"2A^\top(A\mathbf x - \mathbf b)", "(84)",
        r"weight $I$",
        loss_text="np.sum((A @ x - b)**2)", grad_text="2 * A.T @ (A @ x - b)"),
    Identity(
        "(x-s)'W(x-s)", "linear and quadratic forms", "x",
        lambda m, n, k: dict(x=(n,), s=(n,), W=(n, n)),
        lambda x, p: (x - p.s) @ p.W @ (x - p.s), lambda x, p: 2 * p.W @ (x - p.s),
        r"(\mathbf x - \mathbf s)^\top W(\mathbf x - \mathbf s)", r"2W(\mathbf x - \mathbf s)",
        "(85)", constraint=r"$W$ symmetric", condition={"W": "symmetric"},
        loss_text="(x - s) @ W @ (x - s)", grad_text="2 * W @ (x - s)"),
    # ---------------------------------------------------------------- forms in a matrix
    Identity(
        "a'Xb", "forms in a matrix", "X", lambda m, n, k: dict(X=(m, n), a=(m,), b=(n,)),
        lambda X, p: p.a @ X @ p.b, lambda X, p: np.outer(p.a, p.b),
        r"\mathbf a^\top X\mathbf b", r"\mathbf a\mathbf b^\top", "(70)",
        loss_text="a @ X @ b", grad_text="np.outer(a, b)"),
    Identity(
        "a'X'b", "forms in a matrix", "X", lambda m, n, k: dict(X=(m, n), a=(n,), b=(m,)),
        lambda X, p: p.a @ X.T @ p.b, lambda X, p: np.outer(p.b, p.a),
        r"\mathbf a^\top X^\top\mathbf b", r"\mathbf b\mathbf a^\top", "(71)",
        loss_text="a @ X.T @ b", grad_text="np.outer(b, a)"),
    Identity(
        "a'Xa", "forms in a matrix", "X", lambda m, n, k: dict(X=(n, n), a=(n,)),
        lambda X, p: p.a @ X @ p.a, lambda X, p: np.outer(p.a, p.a),
        r"\mathbf a^\top X\mathbf a", r"\mathbf a\mathbf a^\top", "(72)",
        loss_text="a @ X @ a", grad_text="np.outer(a, a)"),
    Identity(
        "b'X'Xc", "forms in a matrix", "X", lambda m, n, k: dict(X=(m, n), b=(n,), c=(n,)),
        lambda X, p: p.b @ X.T @ X @ p.c,
        lambda X, p: X @ (np.outer(p.b, p.c) + np.outer(p.c, p.b)),
        r"\mathbf b^\top X^\top X\mathbf c",
        r"X(\mathbf b\mathbf c^\top + \mathbf c\mathbf b^\top)", "(77)",
        loss_text="b @ X.T @ X @ c", grad_text="X @ (np.outer(b, c) + np.outer(c, b))"),
    Identity(
        "b'X'DXc", "forms in a matrix", "X",
        lambda m, n, k: dict(X=(m, n), D=(m, m), b=(n,), c=(n,)),
        lambda X, p: p.b @ X.T @ p.D @ X @ p.c,
        lambda X, p: p.D.T @ X @ np.outer(p.b, p.c) + p.D @ X @ np.outer(p.c, p.b),
        r"\mathbf b^\top X^\top DX\mathbf c",
        r"D^\top X\mathbf b\mathbf c^\top + DX\mathbf c\mathbf b^\top", "(82)",
        loss_text="b @ X.T @ D @ X @ c",
        grad_text="D.T @ X @ np.outer(b, c) + D @ X @ np.outer(c, b)"),
    Identity(
        "(Xb+c)'D(Xb+c)", "forms in a matrix", "X",
        lambda m, n, k: dict(X=(m, n), b=(n,), c=(m,), D=(m, m)),
        lambda X, p: (X @ p.b + p.c) @ p.D @ (X @ p.b + p.c),
        lambda X, p: np.outer((p.D + p.D.T) @ (X @ p.b + p.c), p.b),
        r"(X\mathbf b + \mathbf c)^\top D(X\mathbf b + \mathbf c)",
        r"(D + D^\top)(X\mathbf b + \mathbf c)\mathbf b^\top", "(83)",
        loss_text="(X @ b + c) @ D @ (X @ b + c)",
        grad_text="np.outer((D + D.T) @ (X @ b + c), b)"),
    Identity(
        "(x-As)'W(x-As) in A", "forms in a matrix", "A",
        lambda m, n, k: dict(A=(m, n), x=(m,), s=(n,), W=(m, m)),
        lambda A, p: (p.x - A @ p.s) @ p.W @ (p.x - A @ p.s),
        lambda A, p: -2 * np.outer(p.W @ (p.x - A @ p.s), p.s),
        r"(\mathbf x - A\mathbf s)^\top W(\mathbf x - A\mathbf s)",
        r"-2W(\mathbf x - A\mathbf s)\mathbf s^\top", "(88)",
        constraint=r"$W$ symmetric", condition={"W": "symmetric"},
        loss_text="(x - A @ s) @ W @ (x - A @ s)",
        grad_text="-2 * np.outer(W @ (x - A @ s), s)"),
    # -------------------------------------------------------------------------- traces
    Identity(
        "tr(X)", "traces", "X", lambda m, n, k: dict(X=(n, n)),
        lambda X, p: np.trace(X), lambda X, p: np.eye(len(X)),
        r"\operatorname{tr}X", r"I", "(99)",
        loss_text="np.trace(X)", grad_text="np.eye({n})"),
    Identity(
        "tr(XA)", "traces", "X", lambda m, n, k: dict(X=(m, n), A=(n, m)),
        lambda X, p: np.trace(X @ p.A), lambda X, p: p.A.T,
        r"\operatorname{tr}(XA)", r"A^\top", "(100)",
        loss_text="np.trace(X @ A)", grad_text="A.T"),
    Identity(
        "tr(AXB)", "traces", "X", lambda m, n, k: dict(X=(m, n), A=(k, m), B=(n, k)),
        lambda X, p: np.trace(p.A @ X @ p.B), lambda X, p: p.A.T @ p.B.T,
        r"\operatorname{tr}(AXB)", r"A^\top B^\top", "(101)",
        loss_text="np.trace(A @ X @ B)", grad_text="A.T @ B.T"),
    Identity(
        "tr(AX'B)", "traces", "X", lambda m, n, k: dict(X=(m, n), A=(k, n), B=(m, k)),
        lambda X, p: np.trace(p.A @ X.T @ p.B), lambda X, p: p.B @ p.A,
        r"\operatorname{tr}(AX^\top B)", r"BA", "(102)",
        loss_text="np.trace(A @ X.T @ B)", grad_text="B @ A"),
    Identity(
        "tr(X'A)", "traces", "X", lambda m, n, k: dict(X=(m, n), A=(m, n)),
        lambda X, p: np.trace(X.T @ p.A), lambda X, p: p.A,
        r"\operatorname{tr}(X^\top A)", r"A", "(103)",
        loss_text="np.trace(X.T @ A)", grad_text="A"),
    Identity(
        "tr(AX')", "traces", "X", lambda m, n, k: dict(X=(m, n), A=(m, n)),
        lambda X, p: np.trace(p.A @ X.T), lambda X, p: p.A,
        r"\operatorname{tr}(AX^\top)", r"A", "(104)",
        loss_text="np.trace(A @ X.T)", grad_text="A"),
    Identity(
        "tr(X^2)", "traces", "X", lambda m, n, k: dict(X=(n, n)),
        lambda X, p: np.trace(X @ X), lambda X, p: 2 * X.T,
        r"\operatorname{tr}(X^2)", r"2X^\top", "(106)",
        loss_text="np.trace(X @ X)", grad_text="2 * X.T"),
    Identity(
        "tr(X^2B)", "traces", "X", lambda m, n, k: dict(X=(n, n), B=(n, n)),
        lambda X, p: np.trace(X @ X @ p.B), lambda X, p: (X @ p.B + p.B @ X).T,
        r"\operatorname{tr}(X^2B)", r"(XB + BX)^\top", "(107)",
        loss_text="np.trace(X @ X @ B)", grad_text="(X @ B + B @ X).T"),
    Identity(
        "tr(X'BX)", "traces", "X", lambda m, n, k: dict(X=(m, n), B=(m, m)),
        lambda X, p: np.trace(X.T @ p.B @ X), lambda X, p: (p.B + p.B.T) @ X,
        r"\operatorname{tr}(X^\top BX)", r"BX + B^\top X", "(108)",
        loss_text="np.trace(X.T @ B @ X)", grad_text="(B + B.T) @ X"),
    Identity(
        "tr(XBX')", "traces", "X", lambda m, n, k: dict(X=(m, n), B=(n, n)),
        lambda X, p: np.trace(X @ p.B @ X.T), lambda X, p: X @ (p.B + p.B.T),
        r"\operatorname{tr}(XBX^\top)", r"XB^\top + XB", "(111)",
        loss_text="np.trace(X @ B @ X.T)", grad_text="X @ (B + B.T)"),
    Identity(
        "tr(AXBX)", "traces", "X", lambda m, n, k: dict(X=(m, n), A=(n, m), B=(n, m)),
        lambda X, p: np.trace(p.A @ X @ p.B @ X),
        lambda X, p: p.A.T @ X.T @ p.B.T + p.B.T @ X.T @ p.A.T,
        r"\operatorname{tr}(AXBX)", r"A^\top X^\top B^\top + B^\top X^\top A^\top", "(114)",
        loss_text="np.trace(A @ X @ B @ X)", grad_text="A.T @ X.T @ B.T + B.T @ X.T @ A.T"),
    Identity(
        "tr(X'X)", "traces", "X", lambda m, n, k: dict(X=(m, n)),
        lambda X, p: np.trace(X.T @ X), lambda X, p: 2 * X,
        r"\operatorname{tr}(X^\top X)", r"2X", "(115)",
        loss_text="np.trace(X.T @ X)", grad_text="2 * X"),
    Identity(
        "tr(B'X'CXB)", "traces", "X", lambda m, n, k: dict(X=(m, n), C=(m, m), B=(n, k)),
        lambda X, p: np.trace(p.B.T @ X.T @ p.C @ X @ p.B),
        lambda X, p: (p.C.T + p.C) @ X @ p.B @ p.B.T,
        r"\operatorname{tr}(B^\top X^\top CXB)", r"C^\top XBB^\top + CXBB^\top", "(116)",
        loss_text="np.trace(B.T @ X.T @ C @ X @ B)", grad_text="(C.T + C) @ X @ B @ B.T"),
    Identity(
        "tr(X'BXC)", "traces", "X", lambda m, n, k: dict(X=(m, n), B=(m, m), C=(n, n)),
        lambda X, p: np.trace(X.T @ p.B @ X @ p.C),
        lambda X, p: p.B @ X @ p.C + p.B.T @ X @ p.C.T,
        r"\operatorname{tr}(X^\top BXC)", r"BXC + B^\top XC^\top", "(117)",
        loss_text="np.trace(X.T @ B @ X @ C)", grad_text="B @ X @ C + B.T @ X @ C.T"),
    Identity(
        "tr(AXBX'C)", "traces", "X",
        lambda m, n, k: dict(X=(m, n), A=(k, m), B=(n, n), C=(m, k)),
        lambda X, p: np.trace(p.A @ X @ p.B @ X.T @ p.C),
        lambda X, p: p.A.T @ p.C.T @ X @ p.B.T + p.C @ p.A @ X @ p.B,
        r"\operatorname{tr}(AXBX^\top C)", r"A^\top C^\top XB^\top + CAXB", "(118)",
        loss_text="np.trace(A @ X @ B @ X.T @ C)",
        grad_text="A.T @ C.T @ X @ B.T + C @ A @ X @ B"),
    Identity(
        "tr[(AXB+C)(AXB+C)']", "traces", "X",
        lambda m, n, k: dict(X=(m, n), A=(k, m), B=(n, k), C=(k, k)),
        lambda X, p: np.trace((p.A @ X @ p.B + p.C) @ (p.A @ X @ p.B + p.C).T),
        lambda X, p: 2 * p.A.T @ (p.A @ X @ p.B + p.C) @ p.B.T,
        r"\operatorname{tr}[(AXB + C)(AXB + C)^\top]", r"2A^\top(AXB + C)B^\top", "(119)",
        loss_text="np.trace((A @ X @ B + C) @ (A @ X @ B + C).T)",
        grad_text="2 * A.T @ (A @ X @ B + C) @ B.T"),
    # ----------------------------------------------------- determinant, log-det, inverse
    Identity(
        "det(X)", "determinant and inverse", "X", lambda m, n, k: dict(X=(n, n)),
        lambda X, p: det(X), lambda X, p: det(X) * inv(X).T,
        r"\det X", r"\det(X)\,X^{-\top}", "(49)",
        constraint=r"$X$ invertible", condition={"X": "invertible"},
        loss_text="np.linalg.det(X)", grad_text="np.linalg.det(X) * np.linalg.inv(X).T"),
    Identity(
        "det(AXB)", "determinant and inverse", "X",
        lambda m, n, k: dict(X=(n, n), A=(n, n), B=(n, n)),
        lambda X, p: det(p.A @ X @ p.B), lambda X, p: det(p.A @ X @ p.B) * inv(X).T,
        r"\det(AXB)", r"\det(AXB)\,X^{-\top}", "(51)",
        constraint=r"$A$, $X$, $B$ invertible",
        condition={"X": "invertible", "A": "invertible", "B": "invertible"},
        loss_text="np.linalg.det(A @ X @ B)",
        grad_text="np.linalg.det(A @ X @ B) * np.linalg.inv(X).T"),
    Identity(
        "log|det(X)|", "determinant and inverse", "X", lambda m, n, k: dict(X=(n, n)),
        lambda X, p: log(absolute(det(X))), lambda X, p: inv(X).T,
        r"\log\lvert\det X\rvert", r"X^{-\top}", "(57)",
        constraint=r"$X$ invertible (drawn with $\det X < 0$)",
        condition={"X": "invertible"}, prepare=_negative_determinant,
        exact=False,  # sympy leaves sign(det X)/|det X|, which it cannot reduce to 1/det X
        loss_text="np.linalg.slogdet(X)[1]", grad_text="np.linalg.inv(X).T"),
    Identity(
        "log det(X), X pos. def.", "determinant and inverse", "X",
        lambda m, n, k: dict(X=(n, n)),
        lambda X, p: log(det(X)), lambda X, p: inv(X),
        r"\log\det X", r"X^{-1}", "(57)", r"$X^{-\top} = X^{-1}$",
        constraint=r"$X$ positive definite", condition={"X": "spd"},
        exact=False,  # X^{-1} holds at symmetric X only; symbols are not symmetric
        loss_text="np.log(np.linalg.det(X))", grad_text="np.linalg.inv(X)"),
    Identity(
        "det(X^-1)", "determinant and inverse", "X", lambda m, n, k: dict(X=(n, n)),
        lambda X, p: det(inv(X)), lambda X, p: -det(inv(X)) * inv(X).T,
        r"\det(X^{-1})", r"-\det(X^{-1})\,X^{-\top}", "(62)",
        constraint=r"$X$ invertible", condition={"X": "invertible"},
        loss_text="np.linalg.det(np.linalg.inv(X))",
        grad_text="-np.linalg.det(np.linalg.inv(X)) * np.linalg.inv(X).T"),
    Identity(
        "a'X^-1b", "determinant and inverse", "X",
        lambda m, n, k: dict(X=(n, n), a=(n,), b=(n,)),
        lambda X, p: p.a @ inv(X) @ p.b,
        lambda X, p: -inv(X).T @ np.outer(p.a, p.b) @ inv(X).T,
        r"\mathbf a^\top X^{-1}\mathbf b", r"-X^{-\top}\mathbf a\mathbf b^\top X^{-\top}", "(61)",
        constraint=r"$X$ invertible", condition={"X": "invertible"},
        loss_text="a @ np.linalg.inv(X) @ b",
        grad_text="-np.linalg.inv(X).T @ np.outer(a, b) @ np.linalg.inv(X).T"),
    Identity(
        "tr(AX^-1B)", "determinant and inverse", "X",
        lambda m, n, k: dict(X=(n, n), A=(m, n), B=(n, m)),
        lambda X, p: np.trace(p.A @ inv(X) @ p.B),
        lambda X, p: -inv(X).T @ p.A.T @ p.B.T @ inv(X).T,
        r"\operatorname{tr}(AX^{-1}B)", r"-X^{-\top}A^\top B^\top X^{-\top}", "(124)",
        r"also (63)",
        constraint=r"$X$ invertible", condition={"X": "invertible"},
        loss_text="np.trace(A @ np.linalg.inv(X) @ B)",
        grad_text="-np.linalg.inv(X).T @ A.T @ B.T @ np.linalg.inv(X).T"),
    Identity(
        "tr(X^-1)", "determinant and inverse", "X", lambda m, n, k: dict(X=(n, n)),
        lambda X, p: np.trace(inv(X)), lambda X, p: -(inv(X) @ inv(X)).T,
        r"\operatorname{tr}(X^{-1})", r"-(X^{-2})^\top", "(64)", r"its $A = 0$",
        constraint=r"$X$ invertible", condition={"X": "invertible"},
        loss_text="np.trace(np.linalg.inv(X))",
        grad_text="-(np.linalg.inv(X) @ np.linalg.inv(X)).T"),
    # --------------------------------------------------------------------------- norms
    Identity(
        "||X||_F^2", "norms", "X", lambda m, n, k: dict(X=(m, n)),
        lambda X, p: np.sum(X * X), lambda X, p: 2 * X,
        r"\lVert X\rVert_F^2", r"2X", "(115)", r"as $\operatorname{tr}(X^\top X)$",
        loss_text="np.sum(X * X)", grad_text="2 * X"),
    Identity(
        "||X||_F", "norms", "X", lambda m, n, k: dict(X=(m, n)),
        lambda X, p: sqrt(np.sum(X * X)), lambda X, p: X / sqrt(np.sum(X * X)),
        r"\lVert X\rVert_F", r"X/\lVert X\rVert_F",
        loss_text="np.sqrt(np.sum(X * X))", grad_text="X / np.sqrt(np.sum(X * X))"),
    Identity(
        "||x||_2", "norms", "x", lambda m, n, k: dict(x=(n,)),
        lambda x, p: sqrt(x @ x), lambda x, p: x / sqrt(x @ x),
        r"\lVert\mathbf x\rVert_2", r"\mathbf x/\lVert\mathbf x\rVert_2",
        loss_text="np.sqrt(x @ x)", grad_text="x / np.sqrt(x @ x)"),
    Identity(
        "||x-a||_2", "norms", "x", lambda m, n, k: dict(x=(n,), a=(n,)),
        lambda x, p: sqrt((x - p.a) @ (x - p.a)),
        lambda x, p: (x - p.a) / sqrt((x - p.a) @ (x - p.a)),
        r"\lVert\mathbf x - \mathbf a\rVert_2",
        r"(\mathbf x - \mathbf a)/\lVert\mathbf x - \mathbf a\rVert_2",
        loss_text="np.sqrt((x - a) @ (x - a))",
        grad_text="(x - a) / np.sqrt((x - a) @ (x - a))"),
    Identity(
        "||x||_1", "norms", "x", lambda m, n, k: dict(x=(n,)),
        lambda x, p: np.sum(absolute(x)), lambda x, p: sign(x),
        r"\lVert\mathbf x\rVert_1", r"\operatorname{sign}(\mathbf x)",
        constraint=r"no $x_i = 0$",
        prepare=lambda v: {**v, "x": _away_from_zero(v["x"])},
        loss_text="np.sum(np.abs(x))", grad_text="np.sign(x)"),
    Identity(
        "||x||_3", "norms", "x", lambda m, n, k: dict(x=(n,)),
        lambda x, p: power(np.sum(absolute(x) ** 3), 1, 3),
        lambda x, p: sign(x) * x ** 2 / power(np.sum(absolute(x) ** 3), 2, 3),
        r"\lVert\mathbf x\rVert_3",
        r"\operatorname{sign}(\mathbf x)\odot\mathbf x^{\odot 2}/\lVert\mathbf x\rVert_3^{2}",
        loss_text="np.sum(np.abs(x)**3)**(1/3)",
        grad_text="np.sign(x) * x**2 / np.sum(np.abs(x)**3)**(2/3)"),
    Identity(
        "||x||_inf", "norms", "x", lambda m, n, k: dict(x=(n,)),
        lambda x, p: np.max(absolute(x)),
        lambda x, p: sign(x) * (absolute(x) == np.max(absolute(x))),
        r"\lVert\mathbf x\rVert_\infty",
        r"\operatorname{sign}(x_k)\,\mathbf e_k,\ k = \arg\max_i\lvert x_i\rvert",
        constraint=r"one largest $\lvert x_i\rvert$", prepare=_clear_maximum, exact=False,
        loss_text="np.max(np.abs(x))",
        grad_text="np.sign(x) * (np.abs(x) == np.max(np.abs(x)))"),
    Identity(
        "||AXB-C||_F^2", "norms", "X",
        lambda m, n, k: dict(X=(m, n), A=(k, m), B=(n, k), C=(k, k)),
        lambda X, p: np.sum((p.A @ X @ p.B - p.C) ** 2),
        lambda X, p: 2 * p.A.T @ (p.A @ X @ p.B - p.C) @ p.B.T,
        r"\lVert AXB - C\rVert_F^2", r"2A^\top(AXB - C)B^\top", "(119)", r"its $C \to -C$",
        loss_text="np.sum((A @ X @ B - C)**2)", grad_text="2 * A.T @ (A @ X @ B - C) @ B.T"),
    Identity(
        "||b-Ax||_1", "norms", "x", lambda m, n, k: dict(x=(n,), A=(m, n), b=(m,)),
        lambda x, p: np.sum(absolute(p.b - p.A @ x)),
        lambda x, p: -p.A.T @ sign(p.b - p.A @ x),
        r"\lVert\mathbf b - A\mathbf x\rVert_1",
        r"-A^\top\operatorname{sign}(\mathbf b - A\mathbf x)",
        constraint=r"no residual entry $0$",
        prepare=lambda v: {**v, "b": v["A"] @ v["x"] + _away_from_zero(v["b"])},
        loss_text="np.sum(np.abs(b - A @ x))", grad_text="-A.T @ np.sign(b - A @ x)"),
    # ------------------------------------------------------------- entrywise functions
    Identity(
        "sum exp(X)", "entrywise functions", "X", lambda m, n, k: dict(X=(m, n)),
        lambda X, p: np.sum(exp(X)), lambda X, p: exp(X),
        r"\textstyle\sum_{ij} e^{x_{ij}}", r"\exp(X)",
        loss_text="np.sum(np.exp(X))", grad_text="np.exp(X)"),
    Identity(
        "log-sum-exp", "entrywise functions", "x", lambda m, n, k: dict(x=(n,)),
        lambda x, p: log(np.sum(exp(x))), lambda x, p: exp(x) / np.sum(exp(x)),
        r"\log\textstyle\sum_i e^{x_i}", r"\operatorname{softmax}(\mathbf x)",
        loss_text="np.log(np.sum(np.exp(x)))", grad_text="np.exp(x) / np.sum(np.exp(x))"),
    Identity(
        "softplus", "entrywise functions", "x", lambda m, n, k: dict(x=(n,)),
        lambda x, p: np.sum(log(1 + exp(x))), lambda x, p: sigmoid(x),
        r"\textstyle\sum_i\log(1 + e^{x_i})", r"\sigma(\mathbf x)",
        loss_text="np.sum(np.log(1 + np.exp(x)))", grad_text="1 / (1 + np.exp(-x))"),
    Identity(
        "sum log x", "entrywise functions", "x", lambda m, n, k: dict(x=(n,)),
        lambda x, p: np.sum(log(x)), lambda x, p: 1 / x,
        r"\textstyle\sum_i\log x_i", r"\mathbf 1\oslash\mathbf x",
        constraint=r"all $x_i > 0$", prepare=lambda v: {**v, "x": 0.5 + np.abs(v["x"])},
        loss_text="np.sum(np.log(x))", grad_text="1 / x"),
    Identity(
        "sum log(1+X^2)", "entrywise functions", "X", lambda m, n, k: dict(X=(m, n)),
        lambda X, p: np.sum(log(1 + X * X)), lambda X, p: 2 * X / (1 + X * X),
        r"\textstyle\sum_{ij}\log(1 + x_{ij}^2)", r"2X\oslash(1 + X\odot X)",
        loss_text="np.sum(np.log(1 + X * X))", grad_text="2 * X / (1 + X * X)"),
    Identity(
        "a'tanh(Ax)", "entrywise functions", "x",
        lambda m, n, k: dict(x=(n,), A=(m, n), a=(m,)),
        lambda x, p: p.a @ tanh(p.A @ x),
        lambda x, p: p.A.T @ (p.a * (1 - tanh(p.A @ x) ** 2)),
        r"\mathbf a^\top\tanh(A\mathbf x)",
        r"A^\top[\mathbf a\odot(1 - \tanh^2(A\mathbf x))]",
        loss_text="a @ np.tanh(A @ x)", grad_text="A.T @ (a * (1 - np.tanh(A @ x)**2))"),
    Identity(
        "logistic loss", "entrywise functions", "w",
        lambda m, n, k: dict(w=(n,), X=(m, n), y=(m,)),
        lambda w, p: np.sum(log(1 + exp(-p.y * (p.X @ w)))),
        lambda w, p: -p.X.T @ (p.y * sigmoid(-p.y * (p.X @ w))),
        r"\textstyle\sum_i\log(1 + e^{-y_i(X\mathbf w)_i})",
        r"-X^\top[\mathbf y\odot\sigma(-\mathbf y\odot X\mathbf w)]",
        loss_text="np.sum(np.log(1 + np.exp(-y * (X @ w))))",
        grad_text="-X.T @ (y / (1 + np.exp(y * (X @ w))))"),
    # -------------------------------------------------------------- the book's chapters
    Identity(
        "||b-a||^2 in a", "the book's losses", "a", lambda m, n, k: dict(a=(n,), b=(n,)),
        lambda a, p: np.sum((p.b - a) ** 2), lambda a, p: 2 * (a - p.b),
        r"\lVert\mathbf b - \mathbf a\rVert^2", r"2(\mathbf a - \mathbf b)", "(86)",
        r"weight $I$",
        loss_text="np.sum((b - a)**2)", grad_text="2 * (a - b)"),
    Identity(
        "||u||^2", "the book's losses", "u", lambda m, n, k: dict(u=(n,)),
        lambda u, p: np.sum(u * u), lambda u, p: 2 * u,
        r"\lVert\mathbf u\rVert_2^2", r"2\mathbf u",
        loss_text="np.sum(u * u)", grad_text="2 * u"),
    Identity(
        "||x-Ax||_1", "the book's losses", "x", lambda m, n, k: dict(x=(n,), A=(n, n)),
        lambda x, p: np.sum(absolute(x - p.A @ x)),
        lambda x, p: (eye_like(p.A) - p.A).T @ sign(x - p.A @ x),
        r"\lVert\mathbf x - A\mathbf x\rVert_1",
        r"(I - A)^\top\operatorname{sign}(\mathbf x - A\mathbf x)",
        constraint=r"no residual entry $0$", prepare=_l1_residual_point,
        loss_text="np.sum(np.abs(x - A @ x))",
        grad_text="(np.eye({n}) - A).T @ np.sign(x - A @ x)"),
    Identity(
        "sum ||Wx_k+b-y_k||^2 in W", "the book's losses", "W",
        lambda m, n, k: dict(W=(m, n), X=(n, k), b=(m,), Y=(m, k)),
        lambda W, p: np.sum((W @ p.X + p.b[:, None] - p.Y) ** 2),
        lambda W, p: 2 * (W @ p.X + p.b[:, None] - p.Y) @ p.X.T,
        r"\lVert WX + \mathbf b\mathbf 1^\top - Y\rVert_F^2",
        r"2(WX + \mathbf b\mathbf 1^\top - Y)X^\top",
        loss_text="np.sum((W @ X + b[:, None] - Y)**2)",
        grad_text="2 * (W @ X + b[:, None] - Y) @ X.T"),
    Identity(
        "sum ||Wx_k+b-y_k||^2 in b", "the book's losses", "b",
        lambda m, n, k: dict(b=(m,), W=(m, n), X=(n, k), Y=(m, k)),
        lambda b, p: np.sum((p.W @ p.X + b[:, None] - p.Y) ** 2),
        lambda b, p: 2 * np.sum(p.W @ p.X + b[:, None] - p.Y, axis=1),
        r"\lVert WX + \mathbf b\mathbf 1^\top - Y\rVert_F^2",
        r"2(WX + \mathbf b\mathbf 1^\top - Y)\mathbf 1",
        loss_text="np.sum((W @ X + b[:, None] - Y)**2)",
        grad_text="2 * np.sum(W @ X + b[:, None] - Y, axis=1)"),
    Identity(
        "||XW'+1b'-Y||^2 in W", "the book's losses", "W",
        lambda m, n, k: dict(W=(m, n), X=(k, n), b=(m,), Y=(k, m)),
        lambda W, p: np.sum((p.X @ W.T + p.b[None, :] - p.Y) ** 2),
        lambda W, p: 2 * (p.X @ W.T + p.b[None, :] - p.Y).T @ p.X,
        r"\lVert XW^\top + \mathbf 1\mathbf b^\top - Y\rVert_F^2",
        r"2(XW^\top + \mathbf 1\mathbf b^\top - Y)^\top X",
        loss_text="np.sum((X @ W.T + b[None, :] - Y)**2)",
        grad_text="2 * (X @ W.T + b[None, :] - Y).T @ X"),
    Identity(
        "||Wu-v||^2 in W", "the book's losses", "W",
        lambda m, n, k: dict(W=(m, n), u=(n,), v=(m,)),
        lambda W, p: np.sum((W @ p.u - p.v) ** 2), lambda W, p: 2 * np.outer(W @ p.u - p.v, p.u),
        r"\lVert W\mathbf u - \mathbf v\rVert^2", r"2(W\mathbf u - \mathbf v)\mathbf u^\top",
        "(88)", r"weight $I$",
        loss_text="np.sum((W @ u - v)**2)", grad_text="2 * np.outer(W @ u - v, u)"),
    Identity(
        "||Wu-v||^2 in u", "the book's losses", "u",
        lambda m, n, k: dict(u=(n,), W=(m, n), v=(m,)),
        lambda u, p: np.sum((p.W @ u - p.v) ** 2), lambda u, p: 2 * p.W.T @ (p.W @ u - p.v),
        r"\lVert W\mathbf u - \mathbf v\rVert^2", r"2W^\top(W\mathbf u - \mathbf v)",
        "(84)", r"weight $I$",
        loss_text="np.sum((W @ u - v)**2)", grad_text="2 * W.T @ (W @ u - v)"),
    Identity(
        "||Wu-v||^2 in v", "the book's losses", "v",
        lambda m, n, k: dict(v=(m,), W=(m, n), u=(n,)),
        lambda v, p: np.sum((p.W @ p.u - v) ** 2), lambda v, p: -2 * (p.W @ p.u - v),
        r"\lVert W\mathbf u - \mathbf v\rVert^2", r"-2(W\mathbf u - \mathbf v)",
        "(87)", r"weight $I$",
        loss_text="np.sum((W @ u - v)**2)", grad_text="-2 * (W @ u - v)"),
    Identity(
        "||WU-V||_F^2 in W", "the book's losses", "W",
        lambda m, n, k: dict(W=(m, n), U=(n, k), V=(m, k)),
        lambda W, p: np.sum((W @ p.U - p.V) ** 2), lambda W, p: 2 * (W @ p.U - p.V) @ p.U.T,
        r"\lVert WU - V\rVert_F^2", r"2(WU - V)U^\top",
        loss_text="np.sum((W @ U - V)**2)", grad_text="2 * (W @ U - V) @ U.T"),
    Identity(
        "1/2||Y-sigmoid(X Theta)||^2", "the book's losses", "Theta",
        lambda m, n, k: dict(Theta=(m, n), X=(k, m), Y=(k, n)),
        lambda T, p: 0.5 * np.sum((p.Y - sigmoid(p.X @ T)) ** 2),
        lambda T, p: p.X.T @ ((sigmoid(p.X @ T) - p.Y) * sigmoid(p.X @ T)
                              * (1 - sigmoid(p.X @ T))),
        r"\tfrac12\lVert Y - \sigma(X\Theta)\rVert_F^2",
        r"X^\top[(\sigma(Z) - Y)\odot\sigma(Z)\odot(1 - \sigma(Z))]",
        constraint=r"$Z = X\Theta$",
        loss_text="0.5 * np.sum((Y - 1 / (1 + np.exp(-(X @ Theta))))**2)",
        grad_text=("X.T @ ((1 / (1 + np.exp(-(X @ Theta))) - Y) * (1 / (1 + np.exp(-(X @ "
                   "Theta)))) * (1 - 1 / (1 + np.exp(-(X @ Theta)))))")),
    Identity(
        "1/2||Y-tanh(X Theta)||^2", "the book's losses", "Theta",
        lambda m, n, k: dict(Theta=(m, n), X=(k, m), Y=(k, n)),
        lambda T, p: 0.5 * np.sum((p.Y - tanh(p.X @ T)) ** 2),
        lambda T, p: p.X.T @ ((tanh(p.X @ T) - p.Y) * (1 - tanh(p.X @ T) ** 2)),
        r"\tfrac12\lVert Y - \tanh(X\Theta)\rVert_F^2",
        r"X^\top[(\tanh Z - Y)\odot(1 - \tanh^2 Z)]", constraint=r"$Z = X\Theta$",
        loss_text="0.5 * np.sum((Y - np.tanh(X @ Theta))**2)",
        grad_text="X.T @ ((np.tanh(X @ Theta) - Y) * (1 - np.tanh(X @ Theta)**2))"),
]
