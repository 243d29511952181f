"""Jacobians of vector- and matrix-valued expressions in closed form, by identification.

Forward mode (:func:`mcv.derive.differential`) gives dF as an expression linear in a
direction dX. Magnus and Neudecker's first identification theorem turns it into the Jacobian:
if ``vec dF = J vec dX`` for every dX, then ``J = ∂ vec F / ∂ (vec X)ᵀ`` (numerator layout,
vec stacking columns: the book's convention, chapter "Shapes, layouts and differentials").
:func:`jacobian` reads J off dF term by term, by the shapes of the terms:

=======================  =====================================
term of dF               its matrix (vec dF = J vec dX)
=======================  =====================================
A dX B                   Bᵀ ⊗ A
dXᵀ                      K (the commutation matrix)
h′(Z) ⊙ dZ               diag(vec h′(Z))
dX v                     vᵀ ⊗ I
s dX (s a scalar)        s I
a sum, a composition     the sum, the product (the chain rule)
=======================  =====================================

and simplifies the products with the mixed-product rule (A ⊗ B)(C ⊗ D) = AC ⊗ BD, so that
d(AXB) = A dX B gives ``(I ⊗ A)(Bᵀ ⊗ I) = Bᵀ ⊗ A``. The result is a :class:`Jacobian`: a sum
of terms, each a product of Kronecker products, commutation matrices and diagonal matrices of
expressions of :mod:`mcv.expr`; it prints in math, LaTeX and numpy (``np.kron``, ``np.eye``,
a commutation matrix made of ``np.eye``, ``np.reshape`` and ``np.einsum``: text that
:func:`mcv.expr.parse` reads back), evaluates, and transposes (the denominator layout).

:func:`derive_jacobian` derives, prints and *proves* it (the printed numpy evaluated at random
points and compared with :func:`mcv.checks.check_jacobian`'s numeric Jacobian, and the
differential map checked the same way) before anything is shown; ``mcv derive`` prints it.

    >>> result = derive_jacobian("A @ X @ B", "X", {"A": "2x3", "X": "3x4", "B": "4x5"})
    >>> r = result["X"]
    >>> r["differential"], r["jacobian"], r["verified"]
    ('A dX B', 'Bᵀ ⊗ A', True)
    >>> r["jacobian_numpy"]
    'np.kron(B.T, A)'
    >>> derive_jacobian("np.linalg.inv(X)", "X", {"X": "3x3"})["X"]["jacobian"]
    '−(X⁻ᵀ ⊗ X⁻¹)'
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping

import numpy as np

from mcv import simplify as b
from mcv.checks.core import quiet
from mcv.checks.jacobian import check_jacobian, commutation
from mcv.derive import NoRule, differential, show
from mcv.expr import EvaluationError, Limits, Node, UsageError, evaluate, parse
from mcv.notation import number_text
from mcv.problem import Problem

__all__ = ["Small", "Kron", "Comm", "Diag", "Term", "Jacobian", "jacobian", "MapProblem",
           "derive_jacobian", "prove_jacobian", "forward_steps", "differential_text",
           "LAYOUTS", "NUMERIC_MAX_ENTRIES", "term_diagnosis", "exact_jacobian",
           "EXACT_MAX_ENTRIES"]

#: The two layouts: numerator (∂ vec F / ∂ (vec X)ᵀ, a row per entry of F: the book's) and
#: denominator (its transpose, a row per entry of X).
LAYOUTS = ("numerator", "denominator")

#: The Jacobian matrix is built and compared entry by entry up to this many entries;
#: above, the proof checks it along random directions (J v against the differential).
NUMERIC_MAX_ENTRIES = 250_000

#: Exact comparison with sympy only where it is quick: entries of all the variables, and
#: entries of the Jacobian.
EXACT_MAX_ENTRIES = (40, 400)

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


# ------------------------------------------------------------------ the small matrices

@dataclass(frozen=True, eq=False)
class Small:
    """A factor of a Kronecker product: ``I_n`` (kind "eye"), ``𝟙_n`` as a column or a row
    (kind "ones"), or an expression (kind "node"): a matrix (form "mat"), or a vector, or
    vec of a matrix, as a column ("col") or a row ("row")."""

    kind: str
    rows: int
    cols: int
    node: Node | None = None
    form: str = "mat"

    @staticmethod
    def eye(n: int) -> "Small":
        return Small("eye", n, n)

    @staticmethod
    def of(node: Node, form: str = "mat") -> "Small":
        if form == "mat":
            if len(node.shape) != 2:
                raise NoRule(f"a Kronecker factor of shape {node.shape}")
            return Small("node", node.shape[0], node.shape[1], node, "mat")
        n = int(np.prod(node.shape))
        return Small("node", n, 1, node, "col") if form == "col" else \
            Small("node", 1, n, node, "row")

    @property
    def is_eye(self) -> bool:
        return self.kind == "eye"

    def transposed(self) -> "Small":
        if self.kind == "eye":
            return self
        form = {"mat": "mat", "col": "row", "row": "col"}[self.form]
        node = b.transpose(self.node) if self.kind == "node" and self.form == "mat" \
            else self.node
        return Small(self.kind, self.cols, self.rows, node, form)

    def value(self, values) -> np.ndarray:
        if self.kind == "eye":
            return np.eye(self.rows)
        if self.kind == "ones":
            return np.ones((self.rows, self.cols))
        v = np.asarray(evaluate(self.node, values))
        if self.form == "mat":
            return np.broadcast_to(v, (self.rows, self.cols))
        return v.ravel(order="F").reshape(self.rows, self.cols)

    def text(self, style: str, names: dict) -> tuple[str, bool]:
        """(text, atomic?)."""
        t = "ᵀ" if style == "math" else r"^{\top}"
        if self.kind == "eye":
            return (f"I{str(self.rows).translate(_SUB)}" if style == "math" else
                    f"I_{{{self.rows}}}"), True
        if self.kind == "ones":
            n = max(self.rows, self.cols)
            one = f"𝟙{str(n).translate(_SUB)}" if style == "math" else \
                rf"\mathbf{{1}}_{{{n}}}"
            return (one + (t if self.rows == 1 else "")), True
        node = self.node
        if node.op == "index" and node.args[0].op == "eye":   # I[:, k], a unit vector
            k = node.attrs["key"][1] + 1
            text = f"e{str(k).translate(_SUB)}" if style == "math" else rf"\mathbf e_{{{k}}}"
        else:
            text = show(node, style, names)
        atomic = _atomic(text)
        if self.form == "mat":
            return text, atomic
        if len(self.node.shape) == 2:
            text = (f"vec({text})" if style == "math" else
                    rf"\operatorname{{vec}}\left({text}\right)")
            atomic = True
        if self.form == "row":
            text = (text if atomic else _bracket(text, style)) + t
            atomic = True
        return text, atomic

    def code(self) -> str:
        if self.kind == "eye":
            return f"np.eye({self.rows})"
        if self.kind == "ones":
            return f"np.ones(({self.rows}, {self.cols}))"
        text = show(self.node, "numpy")
        if self.form == "mat":
            return text
        if len(self.node.shape) == 2:
            text = f"({text}).T" if not _atomic(text) else f"{text}.T"
        return f"np.reshape({text}, ({self.rows}, {self.cols}))"


def _atomic(text: str) -> bool:
    depth = 0
    for character in text:
        depth += character in "([{"
        depth -= character in ")]}"
        if depth == 0 and character in " +−-*/⊙⊘@":
            return False
    return True


def _loose(text: str) -> bool:
    """A ⊗, a sum or a difference at the top level (binds looser than a product)."""
    depth = 0
    for k, character in enumerate(text):
        depth += character in "([{"
        depth -= character in ")]}"
        if depth == 0 and (character in "⊗+−" or text.startswith(r"\otimes", k)
                           or (character == "-" and k and text[k - 1] == " ")):
            return True
    return False


def _bracket(text: str, style: str) -> str:
    return rf"\left({text}\right)" if style == "latex" else f"({text})"


def _times(p: Small, q: Small) -> Small | None:
    """The product p q as a Small, or None when it has no short form."""
    if p.cols != q.rows:
        return None
    if p.is_eye:
        return q
    if q.is_eye:
        return p
    if p.kind == "node" and q.kind == "node":
        vector = [len(p.node.shape) == 1 or p.form == "mat",
                  len(q.node.shape) == 1 or q.form == "mat"]
        if not all(vector):
            return None
        if p.form == "mat" and q.form == "mat":
            return Small.of(b.matmul(p.node, q.node))
        if p.form == "mat" and q.form == "col":
            return Small.of(b.matmul(p.node, q.node), "col")
        if p.form == "row" and q.form == "mat":
            return Small.of(b.matmul(b.transpose(q.node), p.node), "row")
        if p.form == "col" and q.form == "row":
            if any(n.op == "index" and n.args[0].op == "eye" for n in (p.node, q.node)):
                return None   # x e₁ᵀ reads better than an outer product with I[:, 0]
            return Small.of(b.outer(p.node, q.node))
        if p.form == "row" and q.form == "col":
            return Small.of(b.call("reshape", b.matmul(p.node, q.node), newshape=(1, 1)))
    if p.kind == "ones" and p.rows == 1 and q.kind == "node" and q.form == "mat":
        return Small.of(b.call("sum", q.node, axis=0), "row")
    if q.kind == "ones" and q.cols == 1 and p.kind == "node" and p.form == "mat":
        return Small.of(b.call("sum", p.node, axis=1), "col")
    return None


# ------------------------------------------------------------------------ the atoms

@dataclass(frozen=True, eq=False)
class Kron:
    """P ⊗ Q (with P = I₁ it is Q itself)."""

    left: Small
    right: Small

    @property
    def shape(self):
        return (self.left.rows * self.right.rows, self.left.cols * self.right.cols)

    @property
    def is_eye(self) -> bool:
        return self.left.is_eye and self.right.is_eye

    def transposed(self):
        return Kron(self.left.transposed(), self.right.transposed())

    def value(self, values):
        return np.kron(self.left.value(values), self.right.value(values))

    def text(self, style, names):
        if self.left.is_eye and self.left.rows == 1:
            return self.right.text(style, names)
        if self.right.is_eye and self.right.rows == 1:
            return self.left.text(style, names)
        ops = " ⊗ " if style == "math" else r" \otimes "
        parts = []
        for factor in (self.left, self.right):
            text, atomic = factor.text(style, names)
            parts.append(text if atomic else _bracket(text, style))
        return ops.join(parts), False

    def matvec(self, values, v):
        """(P ⊗ Q) vec V = vec(Q V Pᵀ)."""
        V = v.reshape((self.right.cols, self.left.cols), order="F")
        Q, P = self.right.value(values), self.left.value(values)
        return (Q @ V @ P.T).ravel(order="F")

    def code(self):
        if self.left.is_eye and self.left.rows == 1:
            return self.right.code()
        if self.right.is_eye and self.right.rows == 1:
            return self.left.code()
        return f"np.kron({self.left.code()}, {self.right.code()})"


@dataclass(frozen=True)
class Comm:
    """The commutation matrix K with K vec(A) = vec(Aᵀ) for an m×n A."""

    m: int
    n: int

    @property
    def shape(self):
        return (self.m * self.n, self.m * self.n)

    is_eye = property(lambda self: self.m == 1 or self.n == 1)

    def transposed(self):
        return Comm(self.n, self.m)

    def value(self, values):
        return commutation(self.m, self.n)

    def matvec(self, values, v):
        return v.reshape((self.m, self.n), order="F").T.ravel(order="F")

    def text(self, style, names):
        return (f"K({self.m},{self.n})" if style == "math" else
                f"K_{{{self.m},{self.n}}}"), True

    def code(self):
        size = self.m * self.n
        return (f"np.reshape(np.einsum('jik->ijk', np.reshape(np.eye({size}), "
                f"({self.n}, {self.m}, {size}))), ({size}, {size}))")


@dataclass(frozen=True, eq=False)
class Diag:
    """diag(vec v): the matrix of dZ ↦ v ⊙ dZ."""

    node: Node

    @property
    def shape(self):
        n = int(np.prod(self.node.shape))
        return (n, n)

    is_eye = False

    def transposed(self):
        return self

    def value(self, values):
        return np.diag(np.asarray(evaluate(self.node, values)).ravel(order="F"))

    def matvec(self, values, v):
        return np.broadcast_to(evaluate(self.node, values), self.node.shape).ravel(
            order="F") * v

    def text(self, style, names):
        inner = show(self.node, style, names)
        if len(self.node.shape) == 2:
            inner = f"vec({inner})" if style == "math" else \
                rf"\operatorname{{vec}}\left({inner}\right)"
        return (f"diag({inner})" if style == "math" else
                rf"\operatorname{{diag}}\left({inner}\right)"), True

    def code(self):
        text = show(self.node, "numpy")
        if len(self.node.shape) == 2:
            text = f"np.reshape({text if _atomic(text) else '(' + text + ')'}.T, "\
                   f"({self.shape[0]},))"
        return f"np.diag({text})"


# ------------------------------------------------------------------- terms and sums

@dataclass(frozen=True, eq=False)
class Term:
    """coef · scalar · atom₁ atom₂ ⋯ (scalar: an expression of shape (), or None)."""

    coef: float
    scalar: Node | None
    atoms: tuple
    shape: tuple

    def value(self, values):
        out = np.eye(self.shape[1]) if not self.atoms else None
        for atom in self.atoms:
            v = atom.value(values)
            out = v if out is None else out @ v
        k = self.coef * (1.0 if self.scalar is None else float(evaluate(self.scalar,
                                                                         values)))
        return k * out

    def matvec(self, values, v):
        for atom in reversed(self.atoms):
            v = atom.matvec(values, v)
        k = self.coef * (1.0 if self.scalar is None else float(evaluate(self.scalar,
                                                                         values)))
        return k * v

    def transposed(self):
        return Term(self.coef, self.scalar, tuple(a.transposed() for a in
                                                  reversed(self.atoms)),
                    self.shape[::-1])


@dataclass(frozen=True, eq=False)
class Jacobian:
    """A sum of :class:`Term`: the Jacobian matrix ∂ vec F / ∂ (vec X)ᵀ (numerator layout)
    or, after :meth:`transposed`, its denominator-layout form."""

    terms: tuple
    shape: tuple
    layout: str = "numerator"
    names: dict = field(default_factory=dict, compare=False)   # node id -> short name
    legend: tuple = ()                                          # ("p", "softmax(z)")

    def value(self, values) -> np.ndarray:
        out = np.zeros(self.shape)
        for term in self.terms:
            out = out + term.value(values)
        return out

    def matvec(self, values, v) -> np.ndarray:
        """J vec(v), without forming J (vec(v) for a v of any shape)."""
        v = np.asarray(v).ravel(order="F")
        out = np.zeros(self.shape[0])
        for term in self.terms:
            out = out + term.matvec(values, v)
        return out

    def transposed(self) -> "Jacobian":
        other = LAYOUTS[1 - LAYOUTS.index(self.layout)]
        return replace(self, terms=tuple(t.transposed() for t in self.terms),
                       shape=self.shape[::-1], layout=other)

    def text(self, style: str = "math") -> str:
        if not self.terms:
            return "0"
        names = self.names if style != "numpy" else {}
        parts = []
        for k, term in enumerate(self.terms):
            text, negative = _term_text(term, style, names, len(self.terms) > 1)
            minus = "−" if style == "math" else "-"
            if k == 0:
                parts.append((minus if negative else "") + text)
            else:
                parts.append((f" {minus} " if negative else " + ") + text)
        return "".join(parts)

    def code(self) -> str:
        if not self.terms:
            return f"np.zeros({self.shape})"
        parts = []
        for k, term in enumerate(self.terms):
            text = _term_code(term)
            if k and text.startswith("-"):
                parts.append(" - " + text[1:])
            else:
                parts.append((" + " if k else "") + text)
        return "".join(parts)

    def __str__(self) -> str:
        return self.text("math")


def _term_text(term: Term, style, names, in_sum) -> tuple[str, bool]:
    pieces = []
    coef = abs(term.coef)
    if coef != 1:
        pieces.append(number_text(coef))
    if term.scalar is not None:
        s = show(term.scalar, style, names)
        pieces.append(s if _atomic(s) else _bracket(s, style))
    atoms = [a.text(style, names) for a in term.atoms] or [(
        f"I{str(term.shape[0]).translate(_SUB)}" if style == "math" else
        f"I_{{{term.shape[0]}}}", True)]
    several = len(atoms) > 1 or bool(pieces) or (term.coef < 0 and not in_sum)
    for text, atomic in atoms:
        loose = not atomic and _loose(text)   # a product binds by juxtaposition: no brackets
        pieces.append(text if not loose or not several else _bracket(text, style))
    if len(atoms) == 1 and not pieces[:-1] and not atoms[0][1] and not in_sum \
            and term.coef < 0 and _loose(atoms[0][0]):
        pieces[-1] = _bracket(atoms[0][0], style)
    return " ".join(pieces), term.coef < 0


def _term_code(term: Term) -> str:
    pieces = []
    if term.coef != 1:
        pieces.append("-" if term.coef == -1 else number_text(term.coef) + " *")
    if term.scalar is not None:
        s = show(term.scalar, "numpy")
        pieces.append((s if _atomic(s) else f"({s})") + " *")
    atoms = [a.code() for a in term.atoms] or [f"np.eye({term.shape[0]})"]
    product = " @ ".join(a if _atomic(a) else f"({a})" for a in atoms)
    if pieces == ["-"]:
        return "-" + (product if _atomic(product) or len(atoms) == 1 else f"({product})")
    return " ".join(pieces + [product]).replace("- ", "-", 1) if pieces else product


# ---------------------------------------------------------------- building and simplifying

def _product(atoms: list) -> list:
    """Adjacent atoms combined: the mixed-product rule, identities dropped, K K = I,
    diag diag = diag, 𝟙ᵀ diag(v) = vᵀ."""
    atoms = [a for a in atoms if not a.is_eye]
    changed = True
    while changed:
        changed = False
        for k in range(len(atoms) - 1):
            merged = _merge(atoms[k], atoms[k + 1])
            if merged is not None:
                atoms[k:k + 2] = [m for m in merged if not m.is_eye]
                changed = True
                break
    return atoms


def _merge(x, y):
    if isinstance(x, Kron) and isinstance(y, Kron):
        if x.left.cols == y.left.rows and x.right.cols == y.right.rows:
            left, right = _times(x.left, y.left), _times(x.right, y.right)
            if left is not None and right is not None:
                return [Kron(left, right)]
        # a Kronecker factor of size one on each side: (I₁ ⊗ P)(Q ⊗ I₁)
        whole_x, whole_y = _whole(x), _whole(y)
        if whole_x is not None and whole_y is not None:
            product = _times(whole_x, whole_y)
            if product is not None:
                return [Kron(Small.eye(1), product)]
    if isinstance(x, Comm) and isinstance(y, Comm) and (x.m, x.n) == (y.n, y.m):
        return []
    # K_{pm} (A ⊗ B) K_{nq} = B ⊗ A (A m×n, B p×q): a commutation matrix beside a Kronecker
    # product with a row (or a column) factor swaps its factors
    if isinstance(x, Kron) and isinstance(y, Comm) and 1 in (x.left.rows, x.right.rows) \
            and (y.m, y.n) == (x.left.cols, x.right.cols):
        return [Kron(x.right, x.left)]
    if isinstance(x, Comm) and isinstance(y, Kron) and 1 in (y.left.cols, y.right.cols) \
            and (x.m, x.n) == (y.right.rows, y.left.rows):
        return [Kron(y.right, y.left)]
    if isinstance(x, Diag) and isinstance(y, Diag) and x.node.shape == y.node.shape:
        return [Diag(b.mul(x.node, y.node))]
    if isinstance(x, Diag) and isinstance(y, Kron):
        column = _whole(y)
        if column is not None and column.kind == "ones" and column.cols == 1:
            return [Kron(Small.eye(1), Small.of(x.node, "col"))]
    if isinstance(x, Kron) and isinstance(y, Diag):
        row = _whole(x)
        if row is not None and row.kind == "ones" and row.rows == 1:
            return [Kron(Small.eye(1), Small.of(y.node, "row"))]
        if row is not None and row.kind == "node" and row.form == "row" \
                and row.node.shape == y.node.shape:
            return [Kron(Small.eye(1), Small.of(b.mul(row.node, y.node), "row"))]
    return None


def _whole(k: Kron) -> Small | None:
    """The Kronecker product as one Small when a factor is I₁."""
    if k.left.is_eye and k.left.rows == 1:
        return k.right
    if k.right.is_eye and k.right.rows == 1:
        return k.left
    return None


def _term(coef, scalar, atoms, shape) -> Term:
    return Term(coef, scalar, tuple(_product(list(atoms))), shape)


def _scaled(J: list, coef: float = 1.0, scalar: Node | None = None) -> list:
    out = []
    for t in J:
        s = t.scalar if scalar is None else (scalar if t.scalar is None else
                                             b.mul(t.scalar, scalar))
        out.append(Term(t.coef * coef, s, t.atoms, t.shape))
    return out


def _compose(outer: list, inner: list) -> list:
    """outer @ inner, distributed over the terms."""
    out = []
    for p in outer:
        for q in inner:
            scalar = p.scalar if q.scalar is None else (
                q.scalar if p.scalar is None else b.mul(p.scalar, q.scalar))
            out.append(_term(p.coef * q.coef, scalar, p.atoms + q.atoms,
                             (p.shape[0], q.shape[1])))
    return out


def _left(atom, J: list) -> list:
    shape = (atom.shape[0], J[0].shape[0]) if J else atom.shape
    return _compose([Term(1.0, None, (atom,), shape)], J)


def _size(shape) -> int:
    return int(np.prod(shape)) if shape else 1


def _broadcast(J: list, shape: tuple, target: tuple) -> list:
    """The Jacobian of an operand broadcast from ``shape`` to ``target``."""
    if tuple(shape) == tuple(target):
        return J
    n = _size(target)
    if _size(shape) == 1:
        return _left(Kron(Small.eye(1), Small("ones", n, 1)), J)
    if len(target) == 2:
        m, k = target
        padded = (1,) * (2 - len(shape)) + tuple(shape)
        if padded == (m, 1):
            return _left(Kron(Small("ones", k, 1), Small.eye(m)), J)
        if padded == (1, k):
            return _left(Kron(Small.eye(k), Small("ones", m, 1)), J)
        if padded == (m, k):
            return J
    raise NoRule(f"broadcasting shape {shape} to {target} in a Jacobian")


def _full(node: Node, shape: tuple) -> Node:
    return node if node.shape == tuple(shape) else b.mul(node, b.ones(shape))


def _only_unit_axes(a: tuple, c: tuple) -> bool:
    """vec is the same for both shapes (at most one axis longer than one in each)."""
    return sum(n > 1 for n in a) <= 1 and sum(n > 1 for n in c) <= 1


def _jac(e: Node, D: str, memo: dict) -> list | None:
    """The terms of ∂ vec e / ∂ (vec D)ᵀ for e linear in the variable D; None if e does
    not contain D."""
    key = id(e)
    if key in memo:
        return memo[key]
    memo[key] = result = _jac_of(e, D, memo)
    return result


def _jac_of(e: Node, D: str, memo: dict) -> list | None:
    if e.op == "var":
        if e.attrs["name"] != D:
            return None
        n = _size(e.shape)
        return [Term(1.0, None, (), (n, n))]
    if not e.args:
        return None
    parts = [_jac(a, D, memo) for a in e.args]
    if all(p is None for p in parts):
        return None
    op, args = e.op, e.args
    if op in ("add", "sub"):
        out = []
        for k, (a, p) in enumerate(zip(args, parts)):
            if p is not None:
                out += _scaled(_broadcast(p, a.shape, e.shape), -1.0 if (op == "sub" and k)
                               else 1.0)
        return out
    if op == "neg":
        return _scaled(parts[0], -1.0)
    if op in ("mul", "div"):
        if op == "div" and parts[1] is not None or op == "mul" and all(
                p is not None for p in parts):
            raise NoRule("a product of two terms that both vary (not a differential)")
        k = 0 if parts[0] is not None else 1
        linear, factor = args[k], args[1 - k]
        if op == "div":
            factor = b.div(b.const(1), factor)
        if linear.shape == () and factor.shape == e.shape:   # c ⊙ (a varying scalar)
            return _left(Kron(Small.eye(1), Small.of(factor, "col")), parts[k])
        inner = _broadcast(parts[k], linear.shape, e.shape)
        if factor.shape == ():
            return _scaled(inner, 1.0, factor) if b.value(factor) is None else \
                _scaled(inner, b.value(factor))
        return _left(Diag(_full(factor, e.shape)), inner)
    if op in ("matmul", "dot"):
        return _product_rule(e, parts)
    if op == "outer":
        a, c = args
        if parts[0] is not None:
            return _left(Kron(Small.of(c, "col"), Small.eye(a.shape[0])), parts[0])
        return _left(Kron(Small.eye(c.shape[0]), Small.of(a, "col")), parts[1])
    if op == "transpose":
        if len(args[0].shape) < 2:
            return parts[0]
        m, n = args[0].shape
        return _left(Comm(m, n), parts[0])
    if op in ("sum", "mean"):
        J = _reduction(args[0], e.attrs.get("axis"), parts[0])
        if op == "mean":
            J = _scaled(J, 1.0 / (_size(args[0].shape) // max(_size(e.shape), 1)))
        return J
    if op == "trace":
        return _left(Kron(Small.eye(1), Small.of(b.eye(args[0].shape[0]), "row")), parts[0])
    if op == "solve":
        if parts[0] is not None:
            raise NoRule("solve(A, ·) with A varying inside a differential")
        inverse = b.call("inv", args[0])
        if len(args[1].shape) == 1:
            return _left(Kron(Small.eye(1), Small.of(inverse)), parts[1])
        return _left(Kron(Small.eye(args[1].shape[1]), Small.of(inverse)), parts[1])
    if op == "where":                  # where(c, dA, dB): the masks of c and of not c
        cond, out = args[0], []
        for k, (branch, mask) in enumerate([(args[1], b.call("where", cond, b.const(1),
                                                                b.const(0))),
                                            (args[2], b.call("where", cond, b.const(0),
                                                                b.const(1)))]):
            if parts[k + 1] is not None:
                inner = _broadcast(parts[k + 1], branch.shape, e.shape)
                out += _left(Diag(_full(mask, e.shape)), inner)
        return out
    if op == "index" and _integer_key(args[0].shape, e.attrs["key"]) is not None:
        return _left(_selection(args[0], e.attrs["key"]), parts[0])
    if op in ("reshape", "index") and _only_unit_axes(args[0].shape, e.shape) and (
            op == "reshape" or all(k is None or k == slice(None) for k in (
                e.attrs["key"] if isinstance(e.attrs["key"], tuple) else (e.attrs["key"],)))):
        return parts[0]
    raise NoRule(f"no Jacobian rule for {op} of shapes {[a.shape for a in args]} yet")


def _integer_key(shape, key):
    """The key as (rows or None, columns or None) for x[k], X[i], X[:, j], X[i, j]."""
    keys = key if isinstance(key, tuple) else (key,)
    if len(shape) == 1 and len(keys) == 1 and isinstance(keys[0], int):
        return keys
    if len(shape) == 2 and 1 <= len(keys) <= 2:
        keys = keys + (slice(None),) * (2 - len(keys))
        if all(isinstance(k, int) or k == slice(None) for k in keys) and \
                any(isinstance(k, int) for k in keys):
            return keys
    return None


def _selection(a: Node, key) -> Kron:
    """The 0/1 matrix that picks x[k], X[i], X[:, j] or X[i, j] out of vec X: eᵢᵀ rows of
    identities (eᵢ the i-th column of I, as the expression I[:, i])."""
    keys = _integer_key(a.shape, key)

    def unit(n, k):   # e_k as a row
        k = k % n
        return Small.of(b.call("index", b.eye(n), key=(slice(None), k)), "row")
    if len(a.shape) == 1:
        return Kron(Small.eye(1), unit(a.shape[0], keys[0]))
    (m, n), (i, j) = a.shape, keys
    rows = unit(m, i) if isinstance(i, int) else Small.eye(m)
    columns = unit(n, j) if isinstance(j, int) else Small.eye(n)
    return Kron(columns, rows)


def _reduction(a: Node, axis, J: list) -> list:
    if axis is None or len(a.shape) <= 1:
        return _left(Kron(Small.eye(1), Small("ones", 1, _size(a.shape))), J)
    if len(a.shape) == 2:
        m, n = a.shape
        axis = axis[0] if isinstance(axis, tuple) and len(axis) == 1 else axis
        if axis in (0, -2):
            return _left(Kron(Small.eye(n), Small("ones", 1, m)), J)
        if axis in (1, -1):
            return _left(Kron(Small("ones", 1, n), Small.eye(m)), J)
    raise NoRule(f"a sum over axis {axis} of shape {a.shape} in a Jacobian")


def _product_rule(e: Node, parts) -> list:
    A, B = e.args
    if parts[0] is not None and parts[1] is not None:
        raise NoRule("a product of two terms that both vary (not a differential)")
    ra, rb = len(A.shape), len(B.shape)
    if ra == 0 or rb == 0:
        k = 0 if parts[0] is not None else 1
        factor = e.args[1 - k]
        inner = _broadcast(parts[k], e.args[k].shape, e.shape)
        return _scaled(inner, 1.0, factor)
    if parts[1] is not None:          # A constant, B varies
        if ra == 2 and rb == 2:
            return _left(Kron(Small.eye(B.shape[1]), Small.of(A)), parts[1])
        if ra == 2 and rb == 1:
            return _left(Kron(Small.eye(1), Small.of(A)), parts[1])
        if ra == 1 and rb == 2:       # aᵀ B, a vector of B's columns
            return _left(Kron(Small.eye(B.shape[1]), Small.of(A, "row")), parts[1])
        return _left(Kron(Small.eye(1), Small.of(A, "row")), parts[1])
    if ra == 2 and rb == 2:           # A varies, B constant
        return _left(Kron(Small.of(b.transpose(B)), Small.eye(A.shape[0])), parts[0])
    if ra == 2 and rb == 1:
        return _left(Kron(Small.of(B, "row"), Small.eye(A.shape[0])), parts[0])
    if ra == 1 and rb == 2:
        return _left(Kron(Small.eye(1), Small.of(b.transpose(B))), parts[0])
    return _left(Kron(Small.eye(1), Small.of(B, "row")), parts[0])


def _absorb(term: Term) -> Term:
    """A scalar factor taken into the last vector (or diagonal) of the term, where it
    often completes an expression already present: (1/s) diag(eᶻ) = diag(eᶻ/s)."""
    if term.scalar is None:
        return term
    atoms = list(term.atoms)
    for k in range(len(atoms) - 1, -1, -1):
        atom = atoms[k]
        if isinstance(atom, Kron):
            small = _whole(atom)
            if small is not None and small.kind == "node" and small.form in ("row", "col") \
                    and len(small.node.shape) == 1:
                atoms[k] = Kron(Small.eye(1), Small.of(b.mul(term.scalar, small.node),
                                                         small.form))
                return Term(term.coef, None, tuple(_product(atoms)), term.shape)
            if small is not None and small.kind == "node" and small.form == "mat" \
                    and small.node.op == "outer":   # s (a cᵀ) = a (s c)ᵀ
                a, c = small.node.args
                atoms[k] = Kron(Small.eye(1), Small.of(b.outer(a, b.mul(term.scalar, c))))
                return Term(term.coef, None, tuple(_product(atoms)), term.shape)
    for k, atom in enumerate(atoms):
        if isinstance(atom, Diag):
            atoms[k] = Diag(b.mul(term.scalar, atom.node))
            return Term(term.coef, None, tuple(_product(atoms)), term.shape)
    return term


def _collect(terms: list) -> list:
    """Zero terms dropped; terms that print alike added."""
    out: list[Term] = []
    for t in terms:
        if t.coef == 0:
            continue
        body = _term_code(Term(1.0, t.scalar, t.atoms, t.shape))
        for k, u in enumerate(out):
            if _term_code(Term(1.0, u.scalar, u.atoms, u.shape)) == body:
                out[k] = Term(u.coef + t.coef, u.scalar, u.atoms, u.shape)
                break
        else:
            out.append(t)
    out = [t for t in out if t.coef != 0]
    out.sort(key=lambda t: t.coef < 0)  # a positive term first
    return out


def _softmax_names(J: Jacobian) -> Jacobian:
    """Name softmax(a) = exp(a) ⊘ sum(exp(a)) wherever it occurs: p, q, ..."""
    found: list[tuple[Node, str]] = []
    names: dict[int, str] = {}

    def argument(node: Node):
        """a when node is softmax(a) of a vector: the recognised row, or exp(a) ⊘ sum."""
        if node.op == "softmax" and len(node.shape) == 1:
            return node.args[0]
        if node.op == "div" and node.args[0].op == "exp" and node.args[1].op == "sum" \
                and node.args[1].args[0].op == "exp" \
                and b.same(node.args[0], node.args[1].args[0]) \
                and len(node.args[0].args[0].shape) == 1:
            return node.args[0].args[0]
        return None

    def visit(node: Node):
        if node is None:
            return
        if argument(node) is not None:
            for other, name in found:  # the recognised row and the quotient alike
                if b.same(argument(other), argument(node)):
                    names[id(node)] = name
                    return
            name = "pqrs"[len(found)] if len(found) < 4 else f"p{len(found)}"
            found.append((node, name))
            names[id(node)] = name
            return
        for a in node.args:
            visit(a)

    for term in J.terms:
        visit(term.scalar)
        for atom in term.atoms:
            if isinstance(atom, Diag):
                visit(atom.node)
            elif isinstance(atom, Kron):
                visit(atom.left.node)
                visit(atom.right.node)
    legend = tuple((name, f"softmax({show(argument(node))})") for node, name in found)
    return replace(J, names=names, legend=legend)


def jacobian(dF: Node, direction: str, out_shape: tuple, in_shape: tuple) -> Jacobian:
    """The Jacobian ∂ vec F / ∂ (vec X)ᵀ (numerator layout) read off the differential
    ``dF``, an expression linear in the variable ``direction`` (dX, of ``in_shape``)."""
    shape = (_size(out_shape), _size(in_shape))
    terms = _jac(dF, direction, {})
    if terms is None:
        return Jacobian((), shape)
    terms = _broadcast(terms, dF.shape, out_shape) if dF.shape != tuple(out_shape) else terms
    terms = _collect([_absorb(_term(t.coef, t.scalar, t.atoms, t.shape)) for t in terms])
    return _softmax_names(Jacobian(tuple(terms), shape))


# --------------------------------------------------------------------- the problem

class MapProblem(Problem):
    """A :class:`~mcv.problem.Problem` whose expression may have any shape (a map F(X),
    not only a scalar loss): declarations, ``--value`` data and ``--let`` intermediates as
    for a loss; ``self.loss`` holds the expression."""

    def __init__(self, expression: str, shapes, *, values=None, lets=(),
                 limits: Limits | None = None, what: str = "--of"):
        super().__init__("0", shapes, values=values, lets=lets, limits=limits)
        self.loss = parse(expression, self.shapes, what, lets=self.lets, limits=self.limits)


def _direction_name(name: str, shapes) -> str:
    direction = "d" + name
    while direction in shapes:
        direction += "_"
    return direction


def differential_text(dF: Node, J: Jacobian, name: str, direction: str, in_shape,
                      style: str = "math") -> str:
    """dF as a linear map in matrix notation: the forward-mode expression, or, for a vector
    variable, J d x when that reads shorter (d softmax(z) = (diag(p) − p pᵀ) dz)."""
    names = {}
    if style == "latex":   # the direction prints as d X, not as a variable named dX
        stack = [dF]
        while stack:
            n = stack.pop()
            if n.op == "var" and n.attrs["name"] == direction:
                names[id(n)] = rf"\mathrm{{d}}{name}"
            stack.extend(n.args)
    forward = _unbracketed_negation(show(dF, style, names), style)
    if len(in_shape) == 1 and J.terms:
        text = J.text(style)
        if len(J.terms) > 1 or not _atomic(text):
            text = _bracket(text, style)
        alternative = f"{text} {direction}" if style == "math" else \
            rf"{text}\,\mathrm{{d}}{name}"
        if len(alternative) < len(forward) and style == "math":
            return alternative
        if style == "latex" and len(J.text("math")) + len(direction) + 3 < len(show(dF)):
            return alternative
    return forward


def _unbracketed_negation(text: str, style: str) -> str:
    """−(A dX B) as −A dX B: a minus before a product needs no brackets."""
    opening, closing, minus = ("−(", ")", "−") if style == "math" else \
        (r"-\left(", r"\right)", "-")
    if not (text.startswith(opening) and text.endswith(closing)):
        return text
    inner = text[len(opening):len(text) - len(closing)]
    depth = 0
    for character in inner:   # the brackets must enclose the whole rest
        depth += character in "([{"
        depth -= character in ")]}"
        if depth < 0:
            return text
    return minus + inner if depth == 0 and not _loose(inner) else text


def forward_steps(expression: Node, name: str, style: str = "math") -> list[str]:
    """The derivation forward through the expression, one line per node that depends on
    ``name``: the node (its operands named N1, N2, ...) and its differential, from each
    row's forward rule with the operands' differentials dN as variables."""
    from mcv.derive import _depends, _topological, _rule

    memo: dict = {}
    order = [n for n in _topological(expression) if n.args and _depends(n, name, memo)]
    labels = {id(n): f"N{k}" for k, n in enumerate(order, start=1)}
    labels[id(expression)] = "F"
    direction = "d" + name
    lines = []
    for n in order:
        label = labels[id(n)]
        d = []
        for a in n.args:
            if not _depends(a, name, memo):
                d.append(None)
            elif a.op == "var":
                d.append(Node("var", (), {"name": direction}, a.shape, direction))
            else:
                dl = "d" + labels[id(a)]
                d.append(Node("var", (), {"name": dl}, a.shape, dl))
        change = _rule(n).forward(n, d, b)
        names = {k: v for k, v in labels.items() if k != id(n)}
        defined = show(n, style, names)
        dtext = "0" if change is None else _unbracketed_negation(show(change, style, labels),
                                                                style)
        lines.append(f"{label} = {defined}   ⇒ d{label} = {dtext}")
    return lines


# ------------------------------------------------------------------------ the proof

def prove_jacobian(problem: MapProblem, name: str, J: Jacobian, code: str, dF: Node,
                   direction: str, points) -> dict:
    """The evidence for J: at each ``(seed, values)`` of ``points``, check_jacobian of
    (a) the printed numpy ``code`` parsed and evaluated, (b) the Jacobian evaluated from its
    terms, (c) the differential map dF; all three must be verified. Above
    :data:`NUMERIC_MAX_ENTRIES` entries (b) and (c) are compared along random directions."""
    F = problem.loss
    large = J.shape[0] * J.shape[1] > NUMERIC_MAX_ENTRIES
    if not large:
        try:
            claim_tree = parse(code, problem.shapes, "jacobian_numpy", lets=problem.lets,
                               limits=Limits(max_entries=max(problem.limits.max_entries,
                                                             4 * J.shape[0] * J.shape[1]),
                                             max_work=10**12, max_length=10**6,
                                             max_depth=10**4))
        except UsageError as error:
            return _failed(f"the printed numpy does not parse: {error}")
    worst, method = 0.0, None
    for seed, point in points:
        def f(x, point=point):
            return np.asarray(evaluate(F, {**point, name: x}), dtype=float) \
                if not np.iscomplexobj(x) else np.asarray(evaluate(F, {**point, name: x}))

        x0 = np.array(point[name], dtype=float)
        out_shape = np.shape(evaluate(F, point))
        if large:   # along random directions: J is never formed
            claims = {
                "the Jacobian's terms": (lambda x, dx, point=point: J.matvec(
                    {**point, name: x}, dx).reshape(out_shape, order="F"), True),
                "the differential": (lambda x, dx, point=point: np.broadcast_to(evaluate(
                    dF, {**point, name: x, direction: dx}), out_shape), True)}
        else:
            claims = {
                "the printed numpy": (lambda x, point=point: np.asarray(
                    evaluate(claim_tree, {**point, name: x}), dtype=float), False),
                "the Jacobian's terms": (lambda x, point=point: J.value({**point, name: x}),
                                         False),
                "the differential": (lambda x, dx, point=point: np.broadcast_to(evaluate(
                    dF, {**point, name: x, direction: dx}), out_shape), True)}
        for what, (claim, is_map) in claims.items():
            try:
                report = check_jacobian(f, claim, x0, seed=seed, differential=is_map,
                                        mode="fast" if large else "full")
            except (EvaluationError, ValueError, TypeError) as error:
                return _failed(f"seed {seed}: {what}: {error}")
            method = report.method
            if not report.ok:
                return _failed(f"seed {seed}: {what}: {report}", report.max_rel_error,
                               method)
            worst = max(worst, report.max_rel_error)
    return {"verified": True, "max_rel_error": worst, "method": method, "evidence": None,
            "mode": "fast" if large else "full"}


def exact_jacobian(problem: MapProblem, name: str, code: str) -> str:
    """'agrees' / 'disagrees': sympy's Jacobian of vec F by vec X against the printed numpy
    evaluated on real symbols, entry by entry; or why it was not tried."""
    from mcv.expr import evaluate_exact
    from mcv.rules import NoExactForm

    shapes = problem.shapes
    out = int(np.prod(problem.loss.shape))
    if sum(int(np.prod(s)) for s in shapes.values()) > EXACT_MAX_ENTRIES[0] or \
            out * int(np.prod(shapes[name])) > EXACT_MAX_ENTRIES[1]:
        return "not tried (too many entries)"
    if problem.values:
        return "not tried (--value data)"
    try:
        import sympy as sp

        from mcv.symbolic import symbols_array
    except ImportError:
        return "not tried (sympy is not installed)"
    symbols = {n: symbols_array(n, s) for n, s in shapes.items()}

    def exact(e):
        return sp.nsimplify(sp.sympify(e), rational=True)
    try:
        F = np.asarray(evaluate_exact(problem.loss, symbols), dtype=object)
        tree = parse(code, shapes, "jacobian_numpy", lets=problem.lets,
                     limits=Limits(max_entries=10**7, max_work=10**12, max_length=10**6,
                                   max_depth=10**4))
        claim = np.asarray(evaluate_exact(tree, symbols), dtype=object)
    except NoExactForm as reason:
        return f"not available ({reason})"
    except Exception:  # noqa: BLE001 (an operation with no sympy form met a symbol)
        return "not available (sympy cannot take these functions through numpy)"
    vec_F = sp.Matrix([exact(e) for e in F.ravel(order="F")])
    vec_X = sp.Matrix(list(symbols[name].ravel(order="F")))
    J = vec_F.jacobian(vec_X)
    if claim.shape != (J.rows, J.cols):
        return "disagrees"
    for a, c in zip(J, claim.ravel()):
        difference = sp.together(a - exact(c))
        if sp.expand(difference) != 0 and sp.simplify(difference) != 0:
            return "disagrees"
    return "agrees"


def _failed(evidence, error=None, method=None) -> dict:
    return {"verified": False, "max_rel_error": error, "method": method,
            "evidence": evidence, "mode": None}


def derive_jacobian(expression: str, wrt, shapes: Mapping[str, str] | Iterable[str], *,
                    points: int = 3, seed: int = 0, layout: str = "numerator",
                    lets=(), values=None, limits: Limits | None = None,
                    exact: bool = True) -> dict:
    """Derive, show and prove the Jacobian of ``expression`` in each variable of ``wrt``.

    Returns, for each name, a dict: ``differential`` (math), ``differential_latex``,
    ``jacobian`` (math, in ``layout``), ``latex``, ``jacobian_numpy`` (numpy text of the
    numerator-layout matrix, shape (F's size, X's size)), ``layout_numpy`` (the same in
    ``layout``), ``legend``, ``shape`` (of the matrix in ``layout``), ``steps``, the
    evidence of :func:`prove_jacobian`, ``exact`` (sympy entry by entry, at small sizes,
    unless ``exact=False``) and ``points`` (the seeds), plus the nodes
    ``differential_node`` and the :class:`Jacobian` ``matrix``."""
    if layout not in LAYOUTS:
        raise UsageError(f"--layout {layout!r}: one of {', '.join(LAYOUTS)}")
    problem = MapProblem(expression, shapes, lets=lets, values=values, limits=limits)
    names = [wrt] if isinstance(wrt, str) else list(dict.fromkeys(wrt))
    seeds = list(range(seed, seed + max(points, 1)))
    results = {}
    for name in names:
        problem.wrt(name)   # refuses data (discrete) and --value variables
        direction = _direction_name(name, problem.shapes)
        in_shape = problem.shapes[name]
        try:
            dF = differential(problem.loss, name, direction)
            J = jacobian(dF, direction, problem.loss.shape, in_shape)
        except NoRule as missing:
            raise UsageError(f"mcv derive cannot give the Jacobian: {missing}") from None
        shown = J if layout == "numerator" else J.transposed()
        sample = []
        for s in seeds:
            point = problem.point(s)
            problem.require_finite_loss(point)
            sample.append((s, point))
        code = J.code()
        with quiet():
            evidence = prove_jacobian(problem, name, J, code, dF, direction, sample)
        evidence["exact"] = exact_jacobian(problem, name, code) if evidence["verified"] \
            and exact else "not tried"
        if evidence["exact"] == "disagrees":
            evidence.update(verified=False, evidence="sympy disagrees entry by entry")
        results[name] = {
            "differential": differential_text(dF, J, name, direction, in_shape),
            "differential_latex": differential_text(dF, J, name, direction, in_shape,
                                                    "latex"),
            "jacobian": shown.text("math"), "latex": shown.text("latex"),
            "jacobian_numpy": code, "layout": layout, "layout_numpy": shown.code(),
            "legend": [f"{n} = {text}" for n, text in J.legend],
            "shape": list(shown.shape), "direction": direction,
            "steps": forward_steps(problem.loss, name), "points": seeds, **evidence,
            "differential_node": dF, "matrix": J}
    return results


# ------------------------------------------------------------ naming a wrong claim

def term_diagnosis(J: Jacobian, claimed: np.ndarray, values: dict):
    """When the claimed matrix is a combination Σ cᵢ Tᵢ of the derived Jacobian's terms
    with simple coefficients (a term dropped, doubled, or with the wrong sign), the
    :class:`~mcv.checks.diagnoses.Diagnosis` "jacobian-terms" saying so; else None."""
    from mcv.checks.diagnoses import Diagnosis, simple_fraction

    if len(J.terms) < 2 or claimed is None or np.shape(claimed) != J.shape:
        return None
    columns = np.array([t.value(values).ravel() for t in J.terms]).T
    target = np.asarray(claimed, dtype=float).ravel()
    coefficients, *_ = np.linalg.lstsq(columns, target, rcond=None)
    scale = max(float(np.max(np.abs(target))), 1e-300)
    if np.max(np.abs(columns @ coefficients - target)) > 1e-9 * scale:
        return None
    names = [simple_fraction(c) if abs(c) > 1e-9 else "0" for c in coefficients]
    if None in names or all(n == "1" for n in names):
        return None
    texts = [Jacobian((t,), J.shape, names=J.names).text() for t in J.terms]
    from fractions import Fraction

    pieces = []
    for n, text in zip(names, texts):
        if n == "0":
            continue
        c = float(Fraction(n)) * (-1 if text.startswith("−") else 1)
        body = text[1:] if text.startswith("−") else text
        magnitude = number_text(abs(c))
        if magnitude != "1":
            body = f"{simple_fraction(abs(c))} " + (_bracket(body, "math") if _loose(body)
                                                     else body)
        pieces.append(("−" if c < 0 else "+", body))
    claim = "".join((f" {sign} " if k else ("−" if sign == "−" else "")) + body
                    for k, (sign, body) in enumerate(pieces)) or "0"
    missing = [text for n, text in zip(names, texts) if n == "0"]
    scaled = [(f"{text} with the wrong sign" if n == "-1" else
               f"{text} taken {n} times, not once")
              for n, text in zip(names, texts) if n not in ("0", "1")]
    parts = ([f"the term{'s' * (len(missing) > 1)} {', '.join(missing)} missing"]
             if missing else []) + scaled
    return Diagnosis.of("jacobian-terms", jacobian=J.text(), claim=claim,
                        verdict="; ".join(parts))

