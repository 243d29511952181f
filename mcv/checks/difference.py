"""The symbolic difference between a claim and the gradient, when the loss is an expression:
the gradient derived by :mod:`mcv.derive` and proved at the point, the claim rebuilt by the
same simplifier, claim − gradient simplified, and the part of the claim where they part.

Each printed expression is checked against numbers before it is shown: the derived gradient
must pass :func:`~mcv.checks.check_gradient` at the point, and the printed difference must
evaluate to claim − gradient there; otherwise nothing is said.
"""

from __future__ import annotations

import numpy as np

from mcv.checks.diagnoses import Diagnosis
from mcv.checks.gradient import check_gradient

__all__ = ["symbolic_difference", "canonical"]


def canonical(node):
    """The tree rebuilt bottom-up through the simplifier's constructors (the form the derive
    engine writes), so that a claim and a derived gradient can be compared term by term."""
    from mcv import simplify
    if not node.args:
        return node
    args = [canonical(a) for a in node.args]
    try:
        return simplify.apply(node.op, *args, **node.attrs)
    except Exception:  # noqa: BLE001 - an operation the constructors do not take: keep it
        return node


def symbolic_difference(loss, claim, name: str, shapes: dict, point: dict,
                        evaluate) -> Diagnosis | None:
    """The diagnosis "symbolic-difference" for ``claim`` (a parsed tree) as the gradient of
    ``loss`` in ``name`` at ``point``, or None where the engine has no rule or a printed
    form fails its check."""
    from mcv import simplify
    from mcv.derive import NoRule, gradient, show
    try:
        derived = gradient(loss, name, shapes)
        mine = canonical(claim)
        difference = simplify.sub(mine, derived)
    except (NoRule, AssertionError, ValueError, TypeError, KeyError):
        return None

    def at(tree, value):
        return np.asarray(evaluate(tree, {**point, name: value}), dtype=float)
    x = point[name]
    try:
        proved = check_gradient(lambda v: float(at(loss, v)), lambda v: at(derived, v), x)
        printed = at(difference, x)
        expected = at(claim, x) - at(derived, x)
    except Exception:  # noqa: BLE001 - a form that cannot be evaluated is not shown
        return None
    scale = max(float(np.max(np.abs(expected))), float(np.max(np.abs(at(derived, x)))), 1e-300)
    if not proved.ok or printed.shape != expected.shape \
            or float(np.max(np.abs(printed - expected))) > 1e-9 * scale:
        return None
    part = _parting(mine, derived)
    return Diagnosis.of("symbolic-difference", claim=show(mine), gradient=show(derived),
                        difference=show(difference),
                        part=None if part is None else
                        Diagnosis.of("symbolic-part", mine=show(part[0]),
                                     should=show(part[1])))


def _parting(mine, derived):
    """The deepest pair of subtrees at which the two expressions part, following the one
    operand that differs while the others agree (either order for + and ⊙); None when they
    differ at the top already."""
    from mcv.simplify import same
    found = None
    while not same(mine, derived) and mine.op == derived.op and mine.args \
            and len(mine.args) == len(derived.args) and mine.attrs == derived.attrs:
        pairs = list(zip(mine.args, derived.args))
        if mine.op in ("add", "mul") and len(pairs) == 2 \
                and not any(same(a, b) for a, b in pairs):
            swapped = list(zip(mine.args, derived.args[::-1]))
            if any(same(a, b) for a, b in swapped):
                pairs = swapped
        differing = [(a, b) for a, b in pairs if not same(a, b)]
        if len(differing) != 1:
            break
        mine, derived = differing[0]
        found = (mine, derived)
    return found
