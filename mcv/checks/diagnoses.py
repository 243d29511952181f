"""Diagnoses as data: a :class:`Diagnosis` is a code and its parameters; its words come from
one table, :data:`REGISTRY`, and nowhere else.

The checks decide *which* diagnosis applies (:mod:`mcv.checks.mistakes`); this module says
how each one reads. A report carries its diagnoses as codes (``report.codes``, and ``mcv
check --json``), tests assert codes, and the book's table of the words to look for is
generated from :data:`REGISTRY` (:func:`words_table`), so a change of wording is one edit
here, seen everywhere.

    >>> print(Diagnosis.of("zero", what="the gradient"))
    the claim is zero everywhere, but the gradient is not
    >>> Diagnosis.of("factor", k=0.5, what="the gradient").code
    'factor'
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

__all__ = ["Diagnosis", "Entry", "REGISTRY", "render", "words_table", "simple_fraction"]


@dataclass(frozen=True)
class Diagnosis:
    """One statement of a report: ``code`` names it, ``params`` fill its template."""

    code: str
    items: tuple = ()   # (name, value) pairs, hashable

    @classmethod
    def of(cls, code: str, **params) -> "Diagnosis":
        if code not in REGISTRY:
            raise KeyError(f"no diagnosis {code!r} in the registry")
        return cls(code, tuple(params.items()))

    @property
    def params(self) -> dict:
        return dict(self.items)

    @property
    def kind(self) -> str:
        return REGISTRY[self.code].kind

    def __str__(self) -> str:
        return render(self)

    def as_json(self) -> dict:
        """The code and its plain parameters (nested diagnoses as their codes)."""
        def plain(value):
            if isinstance(value, Diagnosis):
                return value.as_json()
            if isinstance(value, tuple):
                return [plain(v) for v in value]
            return value if isinstance(value, (str, int, float, bool, type(None))) \
                else str(value)
        return {"code": self.code, **{k: plain(v) for k, v in self.items}}


@dataclass(frozen=True)
class Entry:
    """How one diagnosis reads: ``text`` (a str.format template over the parameters, or a
    function of them), ``kind`` ("rejected", "undecided", "supporting": a fact printed after
    the headline, "note", or "part": a clause used inside another), the ``words`` a reader
    looks for and what they ``mean``."""

    kind: str
    text: str | Callable[[dict], str]
    words: str = ""
    meaning: str = ""


def render(diagnosis: Diagnosis) -> str:
    """The diagnosis in words (nested diagnoses rendered first)."""
    entry = REGISTRY[diagnosis.code]
    params = {k: render(v) if isinstance(v, Diagnosis) else v for k, v in diagnosis.items}
    return entry.text(params) if callable(entry.text) else entry.text.format(**params)


def simple_fraction(k: float) -> str | None:
    """'2', '1/2', '-1/4' ... when k is (close to) a fraction with a small denominator."""
    fraction = Fraction(k).limit_denominator(8)
    if fraction == 0 or abs(float(fraction) - k) > 1e-6 * abs(k):
        return None
    return str(fraction)


_FACTOR_HINTS = {"2": " (a factor 2 too many)",
                 "1/2": " (a factor 2 missing, e.g. from the square)",
                 "-2": " (wrong sign and a factor 2 too many)",
                 "-1/2": " (wrong sign and a factor 2 missing)"}


def _factor(p: dict) -> str:
    name = simple_fraction(p["k"])
    factor = name if name is not None else f"{p['k']:.6g}"
    hint = _FACTOR_HINTS.get(factor, "") if name is not None else \
        " (not a simple fraction: a scalar that depends on x, such as a norm or a sum, " \
        "missing or extra?)"
    return (f"{p.get('lead', 'the claim ')}is off by a constant factor: claim = {factor} × "
            f"{p['what']}{hint}")


def _with(base: str, joiner: str, key: str) -> Callable[[dict], str]:
    """A template with an optional trailing clause (the parameter ``key``, when given)."""
    def text(p: dict) -> str:
        head = base.format(**p)
        return head + joiner + p[key] if p.get(key) else head
    return text


def _multiple_of_x(p: dict) -> str:
    c, x = p["c"], p.get("name", "x")
    state = "extra" if c > 0 else "missing"
    times = {1.0: "", -1.0: "−"}.get(round(c, 12), f"{c:.6g} ")
    return (f"claim − gradient = {times}{x}: a term proportional to {x} is {state} (the "
            f"gradient of (λ/2)‖{x}‖² is λ{x}: a regulariser dropped, doubled, or with another "
            "λ?)")


def _assumed_symmetric(p: dict) -> str:
    names = p["names"]
    there = f"it {p['factor']}" if p.get("factor") else "it is verified"
    return (f"the claim treats {names} as symmetric: with {names} replaced by its symmetric "
            f"part, {there}; but {names} is not symmetric here (2Ax for xᵀAx is such a claim: "
            "the gradient is (A + Aᵀ)x)")


def _subset_factor(p: dict) -> str:
    name = simple_fraction(p["k"])
    k = name if name is not None else f"{p['k']:.6g}"
    return (f"the claim is right except on {p['count']} of its {p['n']} entries "
            f"({p['entries']}), where it is {k} × the gradient")


_SAID = "the claim has shape {claimed_shape}, but x has shape {shape}"
_CONVENTION = (
    "the claim follows the symmetric-matrix convention, {formula}: the derivative of a "
    "function of a symmetric matrix whose entries x[i, j] and x[j, i] move together (as in "
    "the Matrix Cookbook's 2X⁻¹ - X⁻¹∘I for log det X). Here every entry of x is a free "
    "variable and the gradient is G itself")

#: Every diagnosis and note a check can print, by code.
REGISTRY: dict[str, Entry] = {
    # --- the claim is not an array of the gradient's kind
    "claim-raised": Entry("rejected", _with("grad(x) raised {error}", "; ", "shapes"),
                          "grad(x) raised", "the claimed gradient could not be computed"),
    "nonconforming": Entry("part", "the claim cannot be computed at x's shape: a product of "
                           "non-conforming shapes (a transpose missing, or factors in the "
                           "wrong order?)"),
    "claim-not-computable": Entry(
        "rejected", "the claim cannot be computed at these shapes ({error}); a product in the "
        "wrong order, or a transpose missing?", "cannot be computed at these shapes",
        "a product of non-conforming shapes in the claim"),
    "claim-dtype": Entry("rejected", "the claim has dtype {dtype}; a gradient of a real loss "
                         "is a real array", "has dtype", "the claim is complex or not numbers"),
    "claim-not-finite": Entry("rejected", "the claim is not finite: entry {at} is {value}",
                              "not finite", "the claim holds inf or NaN"),
    # --- no gradient to compare with, or not known well enough
    "kink": Entry(
        "rejected", "f is not differentiable at this x: along entry {at} the slope from the "
        "right is {right} and from the left {left}, so no gradient exists to compare with (a "
        "kink, e.g. of abs, max or a ReLU at a zero: the jump stays the same at every step "
        "down to {step:.0e})", "not differentiable at this x",
        "a kink at x: no formula can be right there; move x off it"),
    "kink-direction": Entry(
        "rejected", "f is not differentiable at this x: along a random direction the slope "
        "from the right is {right} and from the left {left}, so no gradient exists to compare "
        "with (a kink, e.g. of abs, max or a ReLU at a zero)",
        "along a random direction the slope from the right", "a kink at x, seen in fast mode"),
    "domain-boundary": Entry(
        "undecided", "cannot decide: f is not finite at x + h·e_{at} for every step h tried "
        "(from {first:.1e} down to {last:.1e}): x is on the boundary of f's domain",
        "cannot decide: f is not finite", "x sits on the edge of f's domain"),
    "domain-boundary-direction": Entry(
        "undecided", "cannot decide: f is not finite at x + h·v for a random direction v and "
        "every step h tried: x is on the boundary of f's domain",
        "for a random direction v and every step h tried",
        "x sits on the edge of f's domain (fast mode)"),
    "undecided": Entry(
        "undecided", "cannot decide: along entry {at} the one-sided slopes of f (right "
        "{right}, left {left}) neither agree nor keep a constant jump as the step shrinks, so "
        "the derivative is known only to ±{error:.1e}; the claim is within that (f may be "
        "differentiable with unbounded curvature here, like |t|^p at 0 with 1 < p < 2, or "
        "not)", "neither agree nor keep a constant jump",
        "differences cannot pin the derivative down at this x"),
    "undecided-curved": Entry(
        "undecided", "cannot decide: along entry {at} f is differentiable with unbounded "
        "curvature (like |t|^p at 0 with 1 < p < 2), and differences pin its derivative down "
        "only to ±{error:.1e}; the claim is within that",
        "pin its derivative down only to",
        "steep but differentiable: not known well enough to judge"),
    "f-raised": Entry(
        "undecided", "cannot decide: f raised {error} at a point near x (a {where}); only "
        "a ValueError or an ArithmeticError is read as the edge of f's domain, so this looks "
        "like a bug in f", "f raised", "f fails near x for a reason other than its domain"),
    # --- the claim is a simple transform of the gradient
    "zero": Entry("rejected", "the claim is zero everywhere, but {what} is not",
                  "zero everywhere", "a term was dropped entirely (or the claim is unused)"),
    "sign": Entry("rejected", "{lead}is {what} with the wrong sign", "with the wrong sign",
                  "descent would climb: a minus sign lost"),
    "factor": Entry("rejected", _factor, "off by a constant factor",
                    "the 2 of a square or the 1/n of a mean"),
    "transpose": Entry("rejected", _with("the claim is the transpose of {what}", ", and ",
                                         "factor"),
                       "the transpose of", "a product in the wrong order, or Xᵀ for X"),
    "close-entry": Entry(
        "rejected", "the claim is close to the gradient overall, but entry {at} is wrong by "
        "{own:.1e} of itself (claimed {claimed:.6g}, numeric {numeric:.6g}): a term that "
        "matters only for the small entries?", "close to the gradient overall, but entry",
        "a small term missing: it shows in the small entries"),
    "close": Entry("rejected", "the claim is close to {what} but not within the tolerance: "
                   "round-off in how the claim is computed, or a very small term missing",
                   "close to", "round-off, or a very small term missing"),
    "symmetric-convention": Entry(
        "rejected", _CONVENTION, "symmetric-matrix convention",
        "the Matrix Cookbook's form for a symmetric matrix, G + Gᵀ − diag(G)"),
    "symmetric-part": Entry(
        "rejected", _with("the claim is the symmetric part (G + Gᵀ)/2 of the gradient G, not "
                          "G: a formula for symmetric matrices, where only the symmetric part "
                          "counts; for this x the gradient is not symmetric", "; besides, ",
                          "factor"),
        "the symmetric part", "a formula that holds only for a symmetric matrix"),
    "cookbook-convention": Entry(
        "rejected", "the claim is the gradient in the symmetric-matrix (Matrix Cookbook) "
        "convention 2G - diag(G); pass --symmetric-convention cookbook to check it in that "
        "convention", "(Matrix Cookbook) convention",
        "right for a symmetric X, in the Cookbook's form"),
    "not-a-gradient-field": Entry(
        "supporting", "the claim is not the gradient of any function: its derivative "
        "(Jacobian J) is not symmetric (for random directions u, v: vᵀJu = {a:.6g} but uᵀJv = "
        "{b:.6g})", "not the gradient of any function",
        "no loss has this gradient: some term is wrong"),
    "assumed-symmetric": Entry(
        "rejected", _assumed_symmetric, "treats", "a formula that holds only for a "
        "symmetric matrix, used for one that is not"),
    "error-multiple-of-x": Entry(
        "rejected", _multiple_of_x, "a term proportional to",
        "a regulariser's term λx dropped, doubled or scaled"),
    "error-subset-factor": Entry(
        "rejected", _subset_factor, "is right except on",
        "a factor wrong on some entries only (one block, a bias)"),
    "error-on-diagonal": Entry(
        "rejected", "the claim is right off the diagonal and wrong on it: a term that lives on "
        "the diagonal (from diag(·), a trace or an identity matrix) is missing, extra or wrong",
        "wrong on it", "a diagonal term"),
    "error-in-rows": Entry(
        "rejected", "the claim is right except in rows {rows} (of {m}): a term that touches "
        "only those rows is missing, extra or wrong", "right except in rows",
        "the error is confined to some rows"),
    "error-in-columns": Entry(
        "rejected", "the claim is right except in columns {columns} (of {p}): a term that "
        "touches only those columns is missing, extra or wrong", "right except in columns",
        "the error is confined to some columns"),
    "error-in-entries": Entry(
        "rejected", "the claim is right except at entries {entries} (of {n})",
        "right except at entries", "the error is confined to a few entries"),
    "error-rank-one": Entry(
        "rejected", "claim − gradient is a rank-one matrix a bᵀ: a term that is an outer "
        "product (a bias, or a product with a vector) is missing, extra or wrong",
        "rank-one", "an outer-product term"),
    "other-term": Entry(
        "rejected", "the claim is not a multiple, negative or transpose of {what}: a term is "
        "probably missing, extra or wrong; the largest difference is at entry {at} (claimed "
        "{claimed:.6g}, numeric {numeric:.6g})", "a term is probably missing, extra or wrong",
        "the error is none of the simple ones: compare term by term"),
    "other-term-fast": Entry(
        "rejected", "the claim is not a multiple, negative or transpose of {what}: a term is "
        "probably missing, extra or wrong (seen along {probes} random directions; "
        "mode='full' names the worst entry)",
        "seen along", "wrong, and not simply: mode='full' names the worst entry"),
    "symbolic-difference": Entry(
        "supporting", _with("the gradient, derived by mcv and proved at this point, is "
                            "{gradient}; the claim is {claim}; claim − gradient = "
                            "{difference}", "; ", "part"),
        "derived by mcv and proved", "what the claim should be, and by how much it differs"),
    "symbolic-difference-sym": Entry(
        "supporting", "the gradient, derived by mcv and proved at this point, is {gradient}; "
        "the claim is {claim}; claim − gradient = {difference}, of which only the symmetric "
        "part counts for a symmetric variable", "only the symmetric part counts",
        "what the claim's symmetric part misses"),
    "symbolic-part": Entry("part", "where they part, the claim has {mine} and the gradient "
                           "{should}"),
    # --- the claim has the wrong shape
    "shape-size": Entry("rejected", _SAID + ": the gradient has the parameter's shape, one "
                        "entry per entry of x", "one entry per entry of x",
                        "the gradient has the parameter's shape"),
    "shape-transposed-row": Entry("rejected", _SAID + ": {lead}. Apart from the shape, {values}",
                                  "Apart from the shape",
                                  "a row where a column was due, or the reverse"),
    "shape-row": Entry("rejected", _SAID + ": it has the Jacobian's row shape (numerator "
                       "layout, 1×{n}); this book's gradient is its transpose, an array of "
                       "the parameter's shape. Apart from the shape, {values}",
        "it has the Jacobian's row shape",
        "a row vector where the gradient has the parameter's shape"),
    "shape-reshape": Entry("rejected", _SAID + ": reshape it to x's shape. Apart from the "
                           "shape, {values}", "reshape it", "only axes of length one differ"),
    "shape-transpose": Entry("rejected", _SAID + ": the claim is the transpose of the "
                             "gradient",
        "the claim is the transpose of the gradient",
        "the transposed shape, and the transposed values"),
    "shape-transposed-wrong": Entry("rejected", _SAID + ": the transposed shape, but not the "
                                    "transposed gradient either",
        "the transposed shape, but not", "transposed, and wrong besides"),
    "shape-layout": Entry("rejected", _SAID + ": its entries are the gradient's, laid out "
                          "{layout}; reshape it with order='{order}'", "laid out",
                          "the right numbers in another vec order"),
    "shape-wrong": Entry("rejected", _SAID + ", and its entries are not the gradient's in any "
                         "layout",
        "not the gradient's in any layout", "the wrong shape and the wrong numbers"),
    "values-right": Entry("part", "its values are right"),
    "values-wrong": Entry("part", "its values are not the gradient's either"),
    # --- the Hessian check
    "hessian-shape": Entry(
        "rejected", _with("the claimed Hessian has shape {claimed_shape}, but x has {n} "
                          "entries: the Hessian is {n}×{n}, a row and a column per entry",
                          "", "hint"),
        "a row and a column per entry", "the Hessian is n×n for n entries of x"),
    "hessian-reshape": Entry("part", "; its entries are the Hessian's (e.g. a 4-index array "
                             "∂²L/∂x[i,j]∂x[k,l]): reshape it to {shape} with order='F', the "
                             "book's vec order"),
    "hessian-reshape-c": Entry("part", "; its entries are the Hessian's: reshape it to {shape} "
                               "with order='C'"),
    "hessian-not-finite": Entry("rejected", "the claimed Hessian is not a finite real matrix",
        "not a finite real matrix", "inf, NaN or complex entries in the claimed Hessian"),
    "hess-raised": Entry("rejected", "hess(x) raised {error}", "hess(x) raised",
                         "the claimed Hessian could not be computed"),
    "grad-not-a-gradient": Entry(
        "rejected", "grad is not the gradient of any function: its derivative is not "
        "symmetric (∂grad[{i}]/∂x[{j}] = {a:.6g}, but ∂grad[{j}]/∂x[{i}] = {b:.6g}); check "
        "grad with check_gradient first", "grad is not the gradient of any function",
        "check the gradient before its Hessian"),
    "hessian-not-symmetric": Entry(
        "rejected", "the claimed Hessian is not symmetric, but a Hessian is (second "
        "derivatives commute); {values}", "not symmetric, but a Hessian is",
        "second derivatives commute"),
    "hessian-symmetrise": Entry("part", "its symmetric part (claim + claimᵀ)/2 is the Hessian: "
                                "a matrix B read off d²L = vec(dX)ᵀ B vec(dX) must be "
                                "symmetrised"),
    "hessian-row-major": Entry(
        "rejected", _with("the claim is the Hessian in row-major vec order (rows of x stacked: "
                          "A ⊗ B where B ⊗ A was due); this book's vec stacks columns",
                          ". Besides, ", "factor"),
        "row-major vec order", "A ⊗ B where B ⊗ A was due"),
    # --- the Jacobian check
    "jacobian-raised": Entry("rejected", "the claim raised {error}", "the claim raised",
                             "the claimed Jacobian could not be computed"),
    "jacobian-shape": Entry(
        "rejected", "the claimed Jacobian has shape {claimed_shape}, but it is {m}×{n}: a row "
        "per entry of f(x), a column per entry of x (numerator layout)",
        "a row per entry of f(x)", "the Jacobian is (size of f) × (size of x)"),
    "jacobian-layout": Entry(
        "rejected", "the claim is the Jacobian in denominator layout (its transpose, "
        "{n}×{m}): this check reads numerator layout, ∂ vec f / ∂ (vec x)ᵀ, a row per entry "
        "of f(x)", "denominator layout", "the other layout: transpose it"),
    "jacobian-row-major": Entry(
        "rejected", "the claim is the Jacobian with vec taken row by row (numpy's ravel()): "
        "the Kronecker factors swapped, A ⊗ B where B ⊗ A is due; the book's vec stacks "
        "columns, vec(AXB) = (Bᵀ ⊗ A) vec X", "vec taken row by row",
        "Kronecker factors swapped"),
    "jacobian-commutation": Entry(
        "rejected", "the claim is J K, the Jacobian J times the commutation matrix K (K vec X "
        "= vec Xᵀ): a dX where dXᵀ is due, or dXᵀ where dX is due (a commutation matrix "
        "missing or extra)", "commutation matrix",
        "dXᵀ read as dX, or dX as dXᵀ: vec Xᵀ = K vec X"),
    "jacobian-terms": Entry(
        "supporting", "the Jacobian, derived by mcv and proved at this point, is {jacobian}; "
        "written in its terms, the claim is {claim}: {verdict}", "written in its terms",
        "which terms of the Jacobian the claim has, misses or scales"),
    # --- notes: what the check had to do (the verdict stands)
    "zero-gradient": Entry(
        "note", "the gradient is zero here to round-off: max |numeric| {size:.1e}, max |claim| "
        "{claim:.1e}, within the absolute floor {floor:.1e} plus the numeric error",
        "zero here to round-off", "an optimum: judged against an absolute floor"),
    "zero-gradient-fast": Entry(
        "note", "the gradient is zero here to round-off: its projections are at most "
        "{peak:.1e} per unit length, within the absolute floor {floor:.1e} plus the numeric "
        "error",
        "its projections are at most", "an optimum, seen in fast mode"),
    "step-shrunk": Entry(
        "note", "f is not finite at x {sign} {blocked:.1e}·e_{at}{more}: the step was shrunk to "
        "{step:.1e} (x is near the boundary of f's domain)", "the step was shrunk",
        "x is near the edge of f's domain"),
    "kink-nearby": Entry(
        "note", "along entry {at} the one-sided slopes of f disagree at steps above "
        "{above:.0e} (a kink or a singularity that close to x): the step was reduced to "
        "{step:.0e}", "the step was reduced", "a kink close to x"),
    "curved": Entry("note", "along entry {at} f is differentiable with unbounded curvature "
                    "(like |t|^p at 0, 1 < p < 2): its derivative was extrapolated from small "
                    "steps", "unbounded curvature",
                    "f behaves like a power between 1 and 2 of the distance: fine, but slow "
                    "to pin down"),
    "complex-step-margin": Entry(
        "note", "the complex step is confirmed here only to about {margin:.1e} an entry (by "
        "Cauchy's formula: f is close to a singularity), and the verdict allows that",
        "confirmed here only to about", "x is close to a singularity of f"),
    "symmetric-declared": Entry(
        "note", "{name} is symmetric: perturbed symmetrically, so only the gradient's "
        "symmetric part is defined; {reading}", "perturbed symmetrically",
        "a declared sym/spd variable"),
    "diagonal-declared": Entry("note", "{name} is diagonal: the claim is checked on its "
                               "diagonal",
        "is diagonal: the claim is checked on its diagonal", "a variable declared diag"),
}


def words_table() -> str:
    """The words to look for in a report and what they mean, as Markdown table rows, one per
    diagnosis that has them (generated, so the book's table is never stale)."""
    rows = ["| words in the report | what they mean (the code) |", "|---|---|"]
    for code, entry in REGISTRY.items():
        if entry.words:  # two columns: a long code in a column of its own overflows a page
            rows.append(f"| {entry.words} | {entry.meaning} (`{code}`) |")
    return "\n".join(rows)
