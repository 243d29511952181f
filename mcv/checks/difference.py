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

__all__ = ["symbolic_difference", "canonical", "shortest_difference"]


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
                        evaluate, symmetric: bool = False) -> Diagnosis | None:
    """The diagnosis "symbolic-difference" for ``claim`` (a parsed tree) as the gradient of
    ``loss`` in ``name`` at ``point``, or None where the engine has no rule or a printed
    form fails its check. For a ``symmetric`` variable only the symmetric part of claim −
    gradient counts, and the diagnosis says so ("symbolic-difference-sym")."""
    from mcv.derive import NoRule, gradient, show
    try:
        derived = gradient(loss, name, shapes)
        mine = canonical(claim)
        difference = shortest_difference(mine, derived)
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
    part = None if symmetric else _parting(mine, derived)
    return Diagnosis.of("symbolic-difference-sym" if symmetric else "symbolic-difference",
                        claim=show(mine), gradient=show(derived),
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


def shortest_difference(mine, derived):
    """claim − gradient, the shorter of two forms: the simplifier's a − b (like terms
    collected), and the expanded one (products distributed over sums, like terms cancelled,
    then common right and left factors taken out again: 2Ax − (A + Aᵀ)x is (A − Aᵀ)x)."""
    from mcv import simplify
    from mcv.derive import size
    plain = simplify.add(mine, simplify.neg(derived))
    terms = _collect(_expand(mine) + [(-k, t) for k, t in _expand(derived)])
    if not terms:
        return simplify.const(0, mine.shape) if mine.shape else simplify.const(0)
    # also the two sides' own terms with a shared factor taken out, unexpanded:
    # 2 W (W u − v) − 2 Wᵀ (W u − v) is (2 W − 2 Wᵀ) (W u − v)
    shallow = _collect(_sums(mine) + [(-k, t) for k, t in _sums(derived)])
    forms = [plain, _factored(terms)] + ([_factored(shallow)] if shallow else [])
    return min(forms, key=size)


def _sums(node) -> list[tuple[float, object]]:
    """node as Σ k term over its top-level sums only."""
    if node.op == "add":
        return _sums(node.args[0]) + _sums(node.args[1])
    if node.op == "sub":
        return _sums(node.args[0]) + [(-k, t) for k, t in _sums(node.args[1])]
    if node.op == "neg":
        return [(-k, t) for k, t in _sums(node.args[0])]
    return [_term(1.0, node)]


def _term(k: float, node):
    """(k, node) with a numeric factor of node moved into k."""
    from mcv import simplify
    while True:
        if node.op == "neg":
            k, node = -k, node.args[0]
        elif node.op == "mul" and simplify.value(node.args[0]) is not None:
            k, node = k * simplify.value(node.args[0]), node.args[1]
        else:
            return k, node


_PRODUCTS = ("mul", "matmul", "outer")


def _expand(node) -> list[tuple[float, object]]:
    """node as a list of (k, term) with Σ k term = node: products distributed over sums,
    function applications left whole."""
    from mcv import simplify
    op, args = node.op, node.args
    if op in ("add", "sub", "mul") and any(a.shape not in ((), node.shape) for a in args):
        return [_term(1.0, node)]   # a broadcast operand: distributing would change shapes
    if op == "add":
        return _expand(args[0]) + _expand(args[1])
    if op == "sub":
        return _expand(args[0]) + [(-k, t) for k, t in _expand(args[1])]
    if op == "neg":
        return [(-k, t) for k, t in _expand(args[0])]
    if op == "transpose":
        return [_term(k, simplify.transpose(t)) for k, t in _expand(args[0])]
    if op == "div" and args[1].shape == ():
        return [_term(k, simplify.div(t, args[1])) for k, t in _expand(args[0])]
    if op in _PRODUCTS:
        if simplify.value(args[0]) is not None:
            return [(simplify.value(args[0]) * k, t) for k, t in _expand(args[1])]
        build = {"mul": simplify.mul, "matmul": _chain, "outer": simplify.outer}[op]
        return [_term(ka * kb, build(ta, tb)) for ka, ta in _expand(args[0])
                for kb, tb in _expand(args[1])]
    return [_term(1.0, node)]


def _factors(node) -> list:
    """The factors of a matrix product, in order ((A B) C and A (B C) alike, and A (B v)
    and (A B) v)."""
    if node.op == "matmul" and len(node.args[0].shape) == 2 and node.args[1].shape:
        return _factors(node.args[0]) + _factors(node.args[1])
    return [node]


def _chain(a, b):
    """a @ b associated to the left, so that equal products are the same tree."""
    from mcv import simplify
    factors = _factors(a) + _factors(b) if len(a.shape) == 2 else [a, b]
    product = factors[0]
    for factor in factors[1:]:
        product = simplify.matmul(product, factor)
    return product


def _collect(terms):
    """Like terms merged (the simplifier's collect), sums that cancel to round-off dropped."""
    from mcv.simplify import collect
    collected = collect(terms)
    scale = max(abs(k) for k, _ in collected) if collected else 0.0
    return [(k, t) for k, t in collected if abs(k) > 1e-12 * scale]


def _factored(terms):
    """Σ k term, with terms that share a right (else left) factor of a product grouped."""
    from mcv import simplify
    build = {"matmul": simplify.matmul, "outer": simplify.outer}
    for side in (1, 0):
        groups: dict = {}
        for k, t in terms:
            if t.op in build:
                key = next((g for g in groups if g[0] == t.op
                            and simplify.same(g[1], t.args[side])), (t.op, t.args[side]))
                groups.setdefault(key, []).append((k, t.args[1 - side]))
        for (op, shared), members in groups.items():
            if len(members) > 1:
                rest = [(k, t) for k, t in terms if not (t.op == op
                                                          and simplify.same(t.args[side], shared))]
                inner = _factored(members)
                grouped = build[op](inner, shared) if side == 1 else build[op](shared, inner)
                return _factored([(1.0, grouped)] + rest) if rest else grouped
    result = None
    for k, t in terms:
        piece = simplify.mul(simplify.const(k), t)
        result = piece if result is None else simplify.add(result, piece)
    return result
