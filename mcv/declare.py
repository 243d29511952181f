"""Declarations: a variable's shape and structure, and random points that satisfy them.

On the command line a declaration is ``NAME=SHAPE[:STRUCTURE]``::

    W=3x4            a 3×4 matrix of standard normal entries
    lam=  (or lam=()) a true scalar, shape ()
    T=2x3x4          any rank
    S=4x4:sym        symmetric            X=4x4:spd        symmetric positive definite
    X=4x4:spd(cond=1e3)  ... with that condition number (default 10)
    D=4x4:diag       diagonal             Q=4x4:orth       orthogonal (m×n: orthonormal columns)
    s=5:pos          positive entries     P=6x3:simplex    rows on the probability simplex
    Y=6x3:onehot     one-hot rows         M=3x4:mask       entries 0 or 1
    y=6:int(0,3)     integer labels 0, 1, 2

A variable differentiated by (``--wrt``) must be continuous: ``onehot``, ``mask`` and ``int``
are data. For a ``sym``/``spd`` variable only symmetric perturbations exist, so only the
gradient's symmetric part is defined: see :func:`symmetric_view`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

__all__ = ["Declaration", "parse_declaration", "draw", "STRUCTURES", "DISCRETE",
           "symmetric_view"]

STRUCTURES = ("general", "sym", "spd", "diag", "orth", "pos", "simplex", "onehot", "mask",
              "int")
#: Structures with no continuous neighbourhood: data, never a --wrt.
DISCRETE = ("onehot", "mask", "int")


@dataclass(frozen=True)
class Declaration:
    """A declared variable: its name, shape, structure and the structure's options."""

    name: str
    shape: tuple[int, ...]
    structure: str = "general"
    options: tuple = ()

    def describe(self) -> str:
        size = "x".join(map(str, self.shape)) or "scalar"
        return size if self.structure == "general" else f"{size} {self.structure}"


_PATTERN = re.compile(r"([A-Za-z_]\w*)=(\(\)|\d+(?:x\d+)*|)(?::(\w+)(?:\((.*)\))?)?")


def parse_declaration(text: str, max_entries: int = 10**6) -> Declaration:
    """``'X=4x4:spd(cond=100)'`` -> Declaration; ValueError with the fix when malformed.

    >>> parse_declaration("X=4x4:spd(cond=100)")
    Declaration(name='X', shape=(4, 4), structure='spd', options=(('cond', 100.0),))
    >>> parse_declaration("lam=").shape
    ()
    """
    match = _PATTERN.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not NAME=SHAPE[:STRUCTURE], e.g. W=3x4, u=4, lam= "
                         "(a scalar), X=4x4:spd")
    name, size, structure, options = match.groups()
    shape = () if size in ("", "()") else tuple(int(n) for n in size.split("x"))
    structure = structure or "general"
    if name == "np" or name.startswith("__"):
        raise ValueError(f"{text!r}: {name!r} cannot be a variable name")
    if 0 in shape or math.prod(shape) > max_entries:
        raise ValueError(f"{text!r}: sizes must be positive, with at most {max_entries:,} "
                         "entries (--max-entries)")
    if structure not in STRUCTURES:
        raise ValueError(f"{text!r}: unknown structure {structure!r}; one of "
                         + ", ".join(STRUCTURES))
    parsed = _options(text, structure, options)
    if structure in ("sym", "spd", "diag") and (len(shape) != 2 or shape[0] != shape[1]):
        raise ValueError(f"{text!r}: a {structure} matrix is square, e.g. {name}=4x4")
    if structure == "orth" and (len(shape) != 2 or shape[0] < shape[1]):
        raise ValueError(f"{text!r}: an orth matrix is m×n with m ≥ n (orthonormal columns)")
    if structure in ("simplex", "onehot") and not shape:
        raise ValueError(f"{text!r}: {structure} needs at least one axis (rows on the last)")
    return Declaration(name, shape, structure, parsed)


def _options(text: str, structure: str, options: str | None) -> tuple:
    if options is None:
        return ()
    if structure == "spd":
        match = re.fullmatch(r"\s*cond\s*=\s*([0-9.eE+]+)\s*", options)
        if not match or float(match.group(1)) < 1:
            raise ValueError(f"{text!r}: write spd(cond=100), a condition number ≥ 1")
        return (("cond", float(match.group(1))),)
    if structure == "int":
        match = re.fullmatch(r"\s*(-?\d+)\s*,\s*(-?\d+)\s*", options)
        if not match or int(match.group(1)) >= int(match.group(2)):
            raise ValueError(f"{text!r}: write int(0,3) for the labels 0, 1, 2")
        return (("low", int(match.group(1))), ("high", int(match.group(2))))
    raise ValueError(f"{text!r}: {structure} takes no options")


def draw(declaration: Declaration, rng: np.random.Generator) -> np.ndarray:
    """A random point that satisfies the declaration (float64, the declared shape)."""
    shape, kind = declaration.shape, declaration.structure
    options = dict(declaration.options)
    if kind == "general":
        return rng.standard_normal(shape)
    if kind == "sym":
        A = rng.standard_normal(shape)
        return (A + A.T) / 2
    if kind == "spd":
        n, cond = shape[0], options.get("cond", 10.0)
        Q = np.linalg.qr(rng.standard_normal(shape))[0]
        eigenvalues = np.geomspace(1.0, cond, n) if n > 1 else np.ones(1)
        X = (Q * eigenvalues) @ Q.T
        return (X + X.T) / 2
    if kind == "diag":
        return np.diag(rng.standard_normal(shape[0]))
    if kind == "orth":
        Q, R = np.linalg.qr(rng.standard_normal(shape))
        return Q * np.sign(np.diag(R))
    if kind == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "simplex":
        weights = rng.uniform(0.1, 1.0, shape)
        return weights / weights.sum(axis=-1, keepdims=True)
    if kind == "onehot":
        labels = rng.integers(0, shape[-1], shape[:-1])
        return np.eye(shape[-1])[labels]
    if kind == "mask":
        return rng.integers(0, 2, shape).astype(float)
    return rng.integers(options["low"], options["high"], shape).astype(float)


def symmetric_view(f, claim, convention: str = "symmetric-part"):
    """The loss and the claim as functions checked along symmetric perturbations only.

    Along a symmetric dX, dL = ⟨G, dX⟩ = ⟨sym G, dX⟩ with sym G = (G + Gᵀ)/2: only the
    symmetric part of the gradient G is defined. With ``convention="symmetric-part"`` a claim
    C is right when sym C = sym G (G itself qualifies). With ``"cookbook"`` the claim is the
    derivative by the independent entries of a symmetric matrix, D = 2 sym G − diag(sym G)
    (the Matrix Cookbook's form, e.g. 2X⁻¹ − X⁻¹∘I for log det X); it is mapped back by
    sym G = (D + diag D)/2 before the comparison.
    """
    def sym(X):
        return (X + np.swapaxes(X, -1, -2)) / 2

    def from_cookbook(D):
        D = np.asarray(D)
        return (D + np.diag(np.diag(D))) / 2

    def f_sym(X):
        return f(sym(X))

    def claim_sym(X):
        C = np.asarray(claim(sym(X)))
        if C.ndim != 2 or C.shape[0] != C.shape[1]:
            return C
        return sym(from_cookbook(C) if convention == "cookbook" else C)

    return f_sym, claim_sym
