"""Derive the gradient of a scalar loss in matrix notation, by reverse mode on the parsed tree.

For a scalar loss every adjoint has the shape of its node (DESIGN §8): walking the tree from
the loss down, each node's adjoint ``N̄`` (so that dL = ⟨N̄, dN⟩) is passed to its operands by
one rule per operation: the identification rule of the shapes chapter applied node by node.
``C = A @ B`` gives ``Ā += C̄ Bᵀ`` and ``B̄ += Aᵀ C̄``; ``C = h(A)`` entrywise gives
``Ā += C̄ ⊙ h′(A)``; broadcasting is undone by summing over the broadcast axes.

The result is built with smart constructors that simplify as they go (zeros and ones
dropped, double transposes and negations cancelled, transposes pushed through products to the
leaves, constants folded, ``a + a`` collected), so the printed form stays close to what a
person writes: ``2 (W u − v) uᵀ``. Every result is then *proved* before it is printed
(:func:`derive` with :mod:`mcv.checks`), never trusted.

    >>> from mcv.expr import parse
    >>> loss = parse("np.sum((W @ u - v)**2)", {"W": (3, 4), "u": (4,), "v": (3,)})
    >>> print(show(gradient(loss, "W")))
    2 (W u − v) uᵀ
    >>> print(show(gradient(loss, "W"), "numpy"))
    2 * np.outer(W @ u - v, u)
"""

from __future__ import annotations

import math

import numpy as np

from mcv.expr import Node
from mcv.rules import RULES, ShapeError

__all__ = ["gradient", "gradients", "hessian_map", "show", "NoRule", "steps", "size"]


class NoRule(Exception):
    """The loss uses an operation (or a form of it) that the engine has no rule for."""


# ------------------------------------------------------------------ smart constructors

def const(value: float, shape=()) -> Node:
    value = float(value)
    if shape == ():
        return Node("const", (), {"value": value}, (), _number(value))
    if value == 0:
        return Node("zeros", (), {"shape": tuple(shape)}, tuple(shape), "0")
    return mul(const(value), Node("ones", (), {"shape": tuple(shape)}, tuple(shape), "1"))


def is_zero(n: Node) -> bool:
    return n.op == "zeros" or (n.op == "const" and n.attrs["value"] == 0)


def _value(n: Node):
    return n.attrs["value"] if n.op == "const" else None


def _make(op: str, args, **attrs) -> Node:
    try:
        shape = RULES[op].shape(*(a.shape for a in args), **attrs)
    except ShapeError as error:  # an engine bug: a rule built ill-shaped terms
        raise AssertionError(f"derive built {op} of {[a.shape for a in args]}: {error}")
    return Node(op, tuple(args), attrs, tuple(shape), op)


def same(a: Node, b: Node) -> bool:
    """Structural equality (the same expression, not only the same object)."""
    if a is b:
        return True
    return (a.op == b.op and a.shape == b.shape and a.attrs == b.attrs
            and len(a.args) == len(b.args) and all(map(same, a.args, b.args)))


def add(a: Node, b: Node) -> Node:
    shape = tuple(np.broadcast_shapes(a.shape, b.shape))
    if is_zero(a) and b.shape == shape:
        return b
    if is_zero(b) and a.shape == shape:
        return a
    if _value(a) is not None and _value(b) is not None:
        return const(_value(a) + _value(b))
    a, b = _canonical(a), _canonical(b)
    if a.op == "outer" and b.op == "outer" and a.shape == b.shape:
        if same(a.args[1], b.args[1]):  # p rᵀ + q rᵀ = (p + q) rᵀ
            return outer(add(a.args[0], b.args[0]), a.args[1])
        if same(a.args[0], b.args[0]):
            return outer(a.args[0], add(a.args[1], b.args[1]))
    if a.op == "matmul" and b.op == "matmul" and a.shape == b.shape:
        if same(a.args[1], b.args[1]):  # P x + Q x = (P + Q) x
            return matmul(add(a.args[0], b.args[0]), a.args[1])
        if same(a.args[0], b.args[0]):  # P x + P y = P (x + y)
            return matmul(a.args[0], add(a.args[1], b.args[1]))
    terms = _terms(a) + _terms(b)
    collected: list[list] = []
    for k, rest in terms:  # like terms: the same expression up to a numeric factor
        for entry in collected:
            if same(entry[1], rest):
                entry[0] += k
                break
        else:
            collected.append([k, rest])
    collected = [(k, rest) for k, rest in collected if k != 0]
    if len(collected) == len(terms):
        kb, rb = _split_factor(b)
        return _make("sub", [a, mul(const(-kb), rb)]) if kb < 0 else _make("add", [a, b])
    if not collected:
        return const(0, shape) if shape else const(0)
    result = mul(const(collected[0][0]), collected[0][1])
    for k, rest in collected[1:]:
        result = _make("sub", [result, mul(const(-k), rest)]) if k < 0 else \
            _make("add", [result, mul(const(k), rest)])
    return result


def _canonical(a: Node) -> Node:
    """A forward node in the engine's form (xᵀA as Aᵀx), so like terms can be found."""
    if a.op == "matmul" and len(a.args[0].shape) == 1 and len(a.args[1].shape) == 2:
        return matmul(*a.args)
    return a


def _terms(a: Node) -> list[tuple[float, Node]]:
    """a as a list of (number, expression) terms of a sum."""
    if a.op == "add":
        return _terms(a.args[0]) + _terms(a.args[1])
    if a.op == "sub":
        return _terms(a.args[0]) + [(-k, r) for k, r in _terms(a.args[1])]
    return [_split_factor(a)]


def sub(a: Node, b: Node) -> Node:
    if is_zero(b) and a.shape == np.broadcast_shapes(a.shape, b.shape):
        return a
    if is_zero(a):
        return neg(b) if b.shape == np.broadcast_shapes(a.shape, b.shape) else \
            _make("sub", [a, b])
    if b.op == "neg":
        return add(a, b.args[0])
    if same(a, b):
        return const(0, a.shape)
    return _make("sub", [a, b])


def neg(a: Node) -> Node:
    if a.op == "neg":
        return a.args[0]
    if _value(a) is not None:
        return const(-_value(a))
    if is_zero(a):
        return a
    if a.op == "mul" and _value(a.args[0]) is not None:
        return mul(const(-_value(a.args[0])), a.args[1])
    if a.op == "sub":
        return _make("sub", [a.args[1], a.args[0]])
    return _make("neg", [a])


def _split_factor(a: Node) -> tuple[float, Node]:
    """(k, rest) with a = k · rest and k a number."""
    if a.op == "mul" and _value(a.args[0]) is not None:
        return _value(a.args[0]), a.args[1]
    if a.op == "neg":
        k, rest = _split_factor(a.args[0])
        return -k, rest
    return 1.0, a


def mul(a: Node, b: Node) -> Node:
    """Entrywise (broadcast) product; a scalar factor is kept in front."""
    shape = tuple(np.broadcast_shapes(a.shape, b.shape))
    if is_zero(a) or is_zero(b):
        return const(0, shape)
    if _value(b) is not None and _value(a) is None:
        a, b = b, a
    if _value(a) is not None:
        k = _value(a)
        if _value(b) is not None:
            return const(k * _value(b))
        if k == 1 and b.shape == shape:
            return b
        if k == -1 and b.shape == shape:
            return neg(b)
        kb, rest = _split_factor(b)
        if kb != 1:
            return mul(const(k * kb), rest)
        if b.op == "neg":
            return mul(const(-k), b.args[0])
    elif a.op == "mul" and "ones" in (a.args[0].op, a.args[1].op) and b.shape == shape:
        other = a.args[1] if a.args[0].op == "ones" else a.args[0]  # (s 𝟙) ⊙ B = s B
        return mul(other, b)
    elif b.op == "mul" and "ones" in (b.args[0].op, b.args[1].op) and a.shape == shape:
        other = b.args[1] if b.args[0].op == "ones" else b.args[0]
        return mul(other, a)
    elif a.op == "ones" and a.shape == shape:
        return b if b.shape == shape else _make("mul", [a, b])
    elif b.op == "ones" and b.shape == shape:
        return a if a.shape == shape else _make("mul", [a, b])
    else:
        ka, ra = _split_factor(a)
        kb, rb = _split_factor(b)
        if ka != 1 or kb != 1:
            return mul(const(ka * kb), mul(ra, rb))
        if b.op == "div" and _value(b.args[0]) == 1:  # x ⊙ (1 ⊘ y) = x ⊘ y
            return div(a, b.args[1])
        if a.op == "div" and _value(a.args[0]) == 1:
            return div(b, a.args[1])
    return _make("mul", [a, b])


def div(a: Node, b: Node) -> Node:
    if is_zero(a):
        return const(0, tuple(np.broadcast_shapes(a.shape, b.shape)))
    if same(a, b) and a.shape == ():
        return const(1)
    if _value(a) is not None and _value(a) != 1:  # c / y = c (1 / y): c joins the factors
        return mul(a, div(const(1), b))
    if _value(b) is not None:
        return mul(const(1 / _value(b)), a)
    if b.op == "div" and _value(b.args[0]) is not None:  # a ⊘ (k ⊘ y) = (a ⊙ y) / k
        return mul(const(1 / _value(b.args[0])), mul(a, b.args[1]))
    if b.op == "div":  # a ⊘ (p ⊘ q) = a ⊙ q ⊘ p
        return div(mul(a, b.args[1]), b.args[0])
    return _make("div", [a, b])


def power(a: Node, p: float) -> Node:
    if p == 1:
        return a
    if p == 0:
        return const(1, a.shape) if a.shape else const(1)
    return _make("pow", [a, const(p)])


def transpose(a: Node) -> Node:
    if len(a.shape) < 2 or _value(a) is not None:
        return a
    if a.op == "transpose":
        return a.args[0]
    if a.op in ("zeros", "ones"):
        return Node(a.op, (), {"shape": a.shape[::-1]}, a.shape[::-1], a.source)
    if a.op == "eye":
        return a
    if a.op == "matmul" and all(len(x.shape) == 2 for x in a.args):
        return matmul(transpose(a.args[1]), transpose(a.args[0]))
    if a.op == "outer":
        return _make("outer", [a.args[1], a.args[0]])
    if a.op in ("add", "sub", "mul", "div") and all(len(x.shape) in (0, 2) for x in a.args):
        left, right = (transpose(x) for x in a.args)
        return {"add": add, "sub": sub, "mul": mul, "div": div}[a.op](left, right)
    if a.op == "neg":
        return neg(transpose(a.args[0]))
    return _make("transpose", [a])


def matmul(a: Node, b: Node) -> Node:
    if is_zero(a) or is_zero(b):
        return const(0, RULES["matmul"].shape(a.shape, b.shape))
    if a.op == "eye":
        return b
    if b.op == "eye":
        return a
    ka, ra = _split_factor(a)
    kb, rb = _split_factor(b)
    if ka != 1 or kb != 1:
        return mul(const(ka * kb), matmul(ra, rb))
    if len(a.shape) == 1 and len(b.shape) == 2:  # aᵀB is the column Bᵀa (the same array)
        return matmul(transpose(b), a)
    return _make("matmul", [a, b])


def outer(a: Node, b: Node) -> Node:
    """a bᵀ for vectors a, b."""
    if is_zero(a) or is_zero(b):
        return const(0, (a.shape[0], b.shape[0]))
    ka, ra = _split_factor(a)
    kb, rb = _split_factor(b)
    if ka != 1 or kb != 1:
        return mul(const(ka * kb), outer(ra, rb))
    return _make("outer", [a, b])


def call(op: str, *args, **attrs) -> Node:
    if op == "inv" and args[0].op == "inv":
        return args[0].args[0]
    if op == "reshape" and args[0].op == "sum" and args[0].attrs.get("keepdims"):
        inner = args[0]
        plain = _make("sum", list(inner.args), axis=inner.attrs["axis"], keepdims=False)
        if plain.shape == tuple(attrs["newshape"]):
            return plain
    if op in ("sum", "mean") and isinstance(attrs.get("axis"), tuple) \
            and len(attrs["axis"]) == 1:
        attrs = {**attrs, "axis": attrs["axis"][0]}
    return _make(op, list(args), **attrs)


def eye(n: int) -> Node:
    return Node("eye", (), {"shape": (n, n)}, (n, n), "I")


def reduce_to(g: Node, shape: tuple) -> Node:
    """Undo broadcasting: sum g over the axes that broadcasting added or stretched."""
    if g.shape == tuple(shape):
        return g
    if is_zero(g):
        return const(0, shape)
    lead = len(g.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + k for k, n in enumerate(shape)
                                      if n == 1 and g.shape[lead + k] != 1)
    if not shape:
        return call("sum", g)
    if axes:
        g = call("sum", g, axis=axes if len(axes) > 1 else axes[0], keepdims=False) \
            if not any(n == 1 for n in shape) else call("sum", g, axis=axes, keepdims=True)
    if g.shape != tuple(shape):
        g = call("reshape", g, newshape=tuple(shape))
    return g


def spread(g: Node, shape: tuple, axis, keepdims: bool) -> Node:
    """The adjoint of a sum over ``axis``: g broadcast back to ``shape``."""
    ones = Node("ones", (), {"shape": tuple(shape)}, tuple(shape), "1")
    if axis is None or keepdims:
        return mul(g, ones) if g.shape != tuple(shape) else g
    axes = axis if isinstance(axis, tuple) else (axis,)
    axes = tuple(a % len(shape) for a in axes)
    key = tuple(None if k in axes else slice(None) for k in range(len(shape)))
    if all(k in axes for k in range(len(shape) - len(g.shape))) and \
            sorted(axes) == list(range(len(axes))):
        return mul(ones, g)  # reduced leading axes: numpy broadcasting restores them
    expanded = Node("index", (g,), {"key": key}, tuple(1 if k in axes else n
                                                       for k, n in enumerate(shape)), "")
    return mul(ones, expanded)


# --------------------------------------------------------------------------- reverse mode

def _depends(node: Node, name: str, memo: dict) -> bool:
    key = id(node)
    if key not in memo:
        memo[key] = (node.op == "var" and node.attrs["name"] == name) or any(
            _depends(a, name, memo) for a in node.args)
    return memo[key]


def _topological(root: Node) -> list[Node]:
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((a, False) for a in node.args)
    return order


def gradients(loss: Node, names: list[str], shapes: dict | None = None) -> dict[str, Node]:
    """The gradient of the scalar ``loss`` in each variable of ``names`` (one backward pass);
    ``shapes`` gives the shape of a variable the loss does not contain (its gradient is 0)."""
    if loss.shape not in ((), (1,)):
        raise NoRule(f"the loss has shape {loss.shape}; a loss is a scalar")
    order = _topological(loss)
    memos = {name: {} for name in names}
    needed = {id(n) for n in order if any(_depends(n, name, memos[name]) for name in names)}
    adjoint: dict[int, Node] = {id(loss): const(1, loss.shape) if loss.shape else const(1)}
    found: dict[str, Node] = {}
    for node in reversed(order):
        g = adjoint.pop(id(node), None)
        if g is None or id(node) not in needed:
            continue
        if node.op == "var":
            name = node.attrs["name"]
            found[name] = add(found[name], g) if name in found else g
            continue
        for operand, contribution in _pullback(node, g):
            if id(operand) not in needed or contribution is None:
                continue
            if contribution.shape != operand.shape:
                contribution = reduce_to(contribution, operand.shape)
            previous = adjoint.get(id(operand))
            adjoint[id(operand)] = contribution if previous is None else \
                add(previous, contribution)
    return {name: found.get(name) or const(0, _shape_of(loss, name, shapes)) for name in names}


def gradient(loss: Node, name: str, shapes: dict | None = None) -> Node:
    """The gradient of ``loss`` in the variable ``name``, an expression of its shape."""
    return gradients(loss, [name], shapes)[name]


def hessian_map(loss: Node, name: str, direction: str, shapes: dict | None = None) -> Node:
    """The Hessian of ``loss`` in ``name`` as a linear map: an expression H[D] in the
    variables and a new variable ``direction`` (D, of the shape of ``name``).

    Reverse mode twice: H[D] = ∇_X ⟨∇_X L, D⟩, because the derivative of ⟨∇L(X), D⟩ along
    dX is ⟨H[dX], D⟩ = ⟨H[D], dX⟩ (the Hessian is symmetric). No 4-index array appears.

    >>> from mcv.expr import parse
    >>> loss = parse("np.sum((W @ u - v)**2)", {"W": (3, 4), "u": (4,), "v": (3,)})
    >>> print(show(hessian_map(loss, "W", "dW")))
    2 (dW u) uᵀ
    """
    g = gradient(loss, name, shapes)
    d = Node("var", (), {"name": direction}, g.shape, direction)
    return gradient(call("sum", mul(g, d)), name, shapes)


def _shape_of(root: Node, name: str, shapes: dict | None) -> tuple:
    for node in _topological(root):
        if node.op == "var" and node.attrs["name"] == name:
            return node.shape
    if shapes and name in shapes:
        return tuple(shapes[name])
    raise NoRule(f"the loss does not contain {name}, and its shape is not given")


_ENTRYWISE = {  # C = h(A): Ā += C̄ ⊙ h′, h′ written with A and C
    "exp": lambda A, C: C, "expm1": lambda A, C: add(C, const(1)),
    "log": lambda A, C: div(const(1), A), "log1p": lambda A, C: div(const(1),
                                                                    add(const(1), A)),
    "log2": lambda A, C: div(const(1 / math.log(2)), A),
    "log10": lambda A, C: div(const(1 / math.log(10)), A),
    "sqrt": lambda A, C: div(const(0.5), C), "square": lambda A, C: mul(const(2), A),
    "abs": lambda A, C: call("sign", A), "sin": lambda A, C: call("cos", A),
    "cos": lambda A, C: neg(call("sin", A)), "tan": lambda A, C: add(const(1), power(C, 2)),
    "sinh": lambda A, C: call("cosh", A), "cosh": lambda A, C: call("sinh", A),
    "tanh": lambda A, C: sub(const(1), power(C, 2)),
    "arctan": lambda A, C: div(const(1), add(const(1), power(A, 2))),
    "arcsin": lambda A, C: div(const(1), call("sqrt", sub(const(1), power(A, 2)))),
    "arccos": lambda A, C: neg(div(const(1), call("sqrt", sub(const(1), power(A, 2))))),
    "arcsinh": lambda A, C: div(const(1), call("sqrt", add(const(1), power(A, 2)))),
    "arctanh": lambda A, C: div(const(1), sub(const(1), power(A, 2))),
}
_PIECEWISE_CONSTANT = {"sign", "heaviside", "gt", "ge", "lt", "le", "eq", "ne", "ones_like",
                       "zeros_like", "signdet"}


def _pullback(node: Node, g: Node):
    """(operand, its share of the adjoint) for each operand of ``node``, given C̄ = g."""
    op, args = node.op, node.args
    if op in _PIECEWISE_CONSTANT:
        return []
    if op in _ENTRYWISE:
        return [(args[0], mul(g, _ENTRYWISE[op](args[0], node)))]
    if op == "neg":
        return [(args[0], neg(g))]
    if op == "add":
        return [(args[0], g), (args[1], g)]
    if op == "sub":
        return [(args[0], g), (args[1], neg(g))]
    if op == "mul":
        return [(args[0], mul(g, args[1])), (args[1], mul(g, args[0]))]
    if op == "div":
        A, B = args
        return [(A, div(g, B)), (B, neg(div(mul(g, node), B)))]
    if op == "pow":
        A, B = args
        p = _value(B)
        share_a = mul(g, mul(const(p), power(A, p - 1))) if p is not None else \
            mul(g, mul(B, call("pow", A, sub(B, const(1)))))
        return [(A, share_a), (B, mul(g, mul(node, call("log", A))))]
    if op in ("matmul", "dot"):
        return _matmul_pullback(node, g)
    if op == "transpose":
        return [(args[0], transpose(g) if len(g.shape) == 2 else call("transpose", g)
                 if len(g.shape) > 2 else g)]
    if op in ("sum", "mean"):
        A = args[0]
        share = spread(g, A.shape, node.attrs.get("axis"), node.attrs.get("keepdims", False))
        if op == "mean":
            count = math.prod(A.shape) // max(math.prod(node.shape), 1)
            share = mul(const(1 / count), share)
        return [(A, share)]
    if op in ("max", "min"):
        A = args[0]
        axis, keepdims = node.attrs.get("axis"), node.attrs.get("keepdims", False)
        kept = node if keepdims or axis is None else spread(node, A.shape, axis, False)
        mask = call("eq", A, kept)
        return [(A, mul(spread(g, A.shape, axis, keepdims), mask))]
    if op in ("maximum", "minimum"):
        A, B = args
        first = call("ge" if op == "maximum" else "le", A, B)
        second = call("lt" if op == "maximum" else "gt", A, B)
        return [(A, mul(g, first)), (B, mul(g, second))]
    if op == "logaddexp":
        A, B = args
        return [(A, mul(g, call("exp", sub(A, node)))), (B, mul(g, call("exp", sub(B, node))))]
    if op == "where":
        cond, A, B = args
        zero = const(0)
        return [(A, call("where", cond, g, zero)), (B, call("where", cond, zero, g))]
    if op == "clip":
        A, low, high = args
        inside = mul(call("ge", A, low), call("le", A, high))
        return [(A, mul(g, inside)), (low, mul(g, call("lt", A, low))),
                (high, mul(g, call("gt", A, high)))]
    if op == "trace":
        return [(args[0], mul(g, eye(args[0].shape[0])))]
    if op == "diag":
        A = args[0]
        if len(A.shape) == 1:
            return [(A, call("diag", g))]
        if A.shape[0] == A.shape[1]:
            return [(A, call("diag", g))]
        raise NoRule("np.diag of a non-square matrix")
    if op == "outer":
        a, b = args
        if len(a.shape) != 1 or len(b.shape) != 1:
            raise NoRule("np.outer of arrays with more than one axis")
        return [(a, matmul(g, b)), (b, matmul(transpose(g), a))]
    if op == "inv":
        Ct = transpose(node)
        return [(args[0], neg(matmul(matmul(Ct, g), Ct)))]
    if op == "det":
        return [(args[0], mul(mul(g, node), transpose(call("inv", args[0]))))]
    if op == "logabsdet":
        return [(args[0], mul(g, transpose(call("inv", args[0]))))]
    if op == "solve":
        A, b = args
        lam = call("solve", transpose(A), g)
        share_a = neg(outer(lam, node) if len(b.shape) == 1 else matmul(lam, transpose(node)))
        return [(A, share_a), (b, lam)]
    if op == "norm":
        ord_, axis = node.attrs.get("ord"), node.attrs.get("axis")
        if axis is None and (ord_ in (None, "fro") or (ord_ == 2 and len(args[0].shape) == 1)):
            return [(args[0], mul(g, div(args[0], node)))]
        if axis is None and ord_ == 1 and len(args[0].shape) == 1:
            return [(args[0], mul(g, call("sign", args[0])))]
        raise NoRule(f"np.linalg.norm with ord={ord_!r}, axis={axis!r}")
    if op == "reshape":
        return [(args[0], call("reshape", g, newshape=args[0].shape))]
    if op == "index":
        return [(args[0], _index_pullback(node, g))]
    if op == "stack":
        return [(a, Node("index", (g,), {"key": k}, a.shape, "")) for k, a in enumerate(args)]
    if op == "einsum":
        return _einsum_pullback(node, g)
    if op == "kron":
        return _kron_pullback(node, g)
    raise NoRule(f"no rule for {op} yet (the operations with rules: see mcv derive --help)")


def _matmul_pullback(node: Node, g: Node):
    A, B = node.args
    a, b = len(A.shape), len(B.shape)
    if a == 0 or b == 0:  # np.dot with a scalar
        return [(A, mul(g, B)), (B, mul(g, A))]
    if a == 2 and b == 2:
        return [(A, matmul(g, transpose(B))), (B, matmul(transpose(A), g))]
    if a == 2 and b == 1:
        return [(A, outer(g, B)), (B, matmul(transpose(A), g))]
    if a == 1 and b == 2:
        return [(A, matmul(B, g)), (B, outer(A, g))]
    if a == 1 and b == 1:
        return [(A, mul(g, B)), (B, mul(g, A))]
    raise NoRule("@ of arrays with more than two axes (a batched product)")


def _index_pullback(node: Node, g: Node) -> Node:
    A, key = node.args[0], node.attrs["key"]
    keys = key if isinstance(key, tuple) else (key,)
    if all(k is None or k == slice(None) for k in keys):  # only new axes: undo them
        return call("reshape", g, newshape=A.shape)
    if len(A.shape) == 1 and isinstance(key, int):
        return mul(g, Node("index", (eye(A.shape[0]),), {"key": key}, A.shape, ""))
    if len(A.shape) == 2 and len(keys) <= 2 and all(isinstance(k, int) or k == slice(None)
                                                    for k in keys):
        keys = keys + (slice(None),) * (2 - len(keys))
        rows = [Node("index", (eye(n),), {"key": k}, (n,), "") if isinstance(k, int) else None
                for k, n in zip(keys, A.shape)]
        if rows[0] is not None and rows[1] is not None:
            return mul(g, outer(rows[0], rows[1]))
        if rows[0] is not None:
            return outer(rows[0], g)
        return outer(g, rows[1])
    raise NoRule(f"the subscript {key!r} (rules: u[k], A[i], A[:, j], A[i, j], [:, None])")


def _kron_pullback(node: Node, g: Node):
    """C = A ⊗ B: C[i p + k, j q + l] = A[i, j] B[k, l], so Ā = Σ_kl C̄[i,k,j,l] B[k,l] with
    C̄ viewed as an (m, p, n, q) array, and B̄ likewise."""
    A, B = node.args
    if len(A.shape) == 1 and len(B.shape) == 1:
        blocks = call("reshape", g, newshape=(A.shape[0], B.shape[0]))
        return [(A, matmul(blocks, B)), (B, matmul(transpose(blocks), A))]
    if len(A.shape) == 2 and len(B.shape) == 2:
        (m, n), (p, q) = A.shape, B.shape
        blocks = call("reshape", g, newshape=(m, p, n, q))
        return [(A, call("einsum", blocks, B, subscripts="ikjl,kl->ij")),
                (B, call("einsum", blocks, A, subscripts="ikjl,ij->kl"))]
    raise NoRule("np.kron of a vector and a matrix, or of arrays with more than two axes")


def _einsum_pullback(node: Node, g: Node):
    inputs, output = node.attrs["subscripts"].split("->")
    terms = inputs.split(",")
    shares = []
    for k, (term, operand) in enumerate(zip(terms, node.args)):
        others = [(t, a) for j, (t, a) in enumerate(zip(terms, node.args)) if j != k]
        available = set(output) | {c for t, _ in others for c in t}
        if len(set(term)) != len(term) or not set(term) <= available:
            raise NoRule(f"np.einsum('{node.attrs['subscripts']}'): operand {k + 1} repeats "
                         "an index or sums one away on its own")
        if not output:  # a scalar result: its adjoint is a factor, not an operand
            shares.append((operand, mul(g, _einsum_of([(t, a) for t, a in others], term))))
            continue
        subscripts = ",".join([output] + [t for t, _ in others]) + "->" + term
        shares.append((operand, call("einsum", g, *(a for _, a in others),
                                     subscripts=subscripts)))
    return shares


def _einsum_of(terms: list, output: str) -> Node:
    """einsum of (subscripts, operand) pairs into ``output``; a lone operand whose
    subscripts are the output (or its reverse, for a matrix) is itself (or its transpose)."""
    if len(terms) == 1 and terms[0][0] == output:
        return terms[0][1]
    if len(terms) == 1 and len(output) == 2 and terms[0][0] == output[::-1]:
        return transpose(terms[0][1])
    subscripts = ",".join(t for t, _ in terms) + "->" + output
    return call("einsum", *(a for _, a in terms), subscripts=subscripts)


# ------------------------------------------------------------------------------ printing

_COMPARE = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "==", "ne": "!="}
_NAMES = {"inv": "linalg.inv", "det": "linalg.det", "solve": "linalg.solve",
          "norm": "linalg.norm", "pinv": "linalg.pinv", "cholesky": "linalg.cholesky",
          "eigvalsh": "linalg.eigvalsh"}
_SUPERSCRIPT = str.maketrans("0123456789-.", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻·")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)


def show(node: Node, style: str = "math", names: dict | None = None) -> str:
    """The expression as a person writes it (``"math"``), as numpy code in the safe language
    (``"numpy"``), or as LaTeX (``"latex"``). ``names`` maps node ids to names (steps)."""
    return _Printer(style, names or {}).text(node)


class _Printer:
    def __init__(self, style: str, names: dict):
        self.style, self.names = style, names

    def text(self, node: Node) -> str:
        return self.render(node)[0]

    def wrap(self, node: Node, least: int, right: bool = False) -> str:
        text, precedence = self.render(node)
        if precedence < least or (right and precedence == least and precedence < 4):
            return f"({text})" if self.style != "latex" else rf"\left({text}\right)"
        return text

    def render(self, n: Node) -> tuple[str, int]:
        s, op = self.style, n.op
        if id(n) in self.names:
            return self.names[id(n)], 9
        if op == "var":
            return n.attrs["name"], 9
        if op == "const":
            v = n.attrs["value"]
            text = {math.pi: "np.pi" if s == "numpy" else ("\\pi" if s == "latex" else "π"),
                    math.e: "np.e" if s == "numpy" else "e"}.get(v, _number(abs(v)))
            return (f"-{text}", 3) if v < 0 else (text, 9)
        if op in ("zeros", "ones", "eye"):
            shape = n.attrs["shape"]
            if s == "numpy":
                return (f"np.eye({shape[0]})", 9) if op == "eye" else \
                    (f"np.{op}({shape if len(shape) > 1 else shape[0]})", 9)
            symbol = {"zeros": "0", "ones": "𝟙" if s == "math" else r"\mathbf{1}",
                      "eye": "I" if s == "math" else "I"}[op]
            return symbol, 9
        if op == "neg":
            return ("−" if s == "math" else "-") + self.wrap(n.args[0], 3), 3
        if op in ("add", "sub"):
            sign = {"add": " + ", "sub": " - " if s != "math" else " − "}[op]
            return self.wrap(n.args[0], 1) + sign + self.wrap(n.args[1], 2 if op == "sub"
                                                             else 1), 1
        if op == "mul":
            a, b = n.args
            scalar = a.shape == () or b.shape == ()
            symbol = {"numpy": " * ", "math": " " if scalar else " ⊙ ",
                      "latex": " " if scalar else r" \odot "}[s]
            right = 2 if _value(a) is not None else 3  # k (A B) reads k A B
            left = 2 if s == "numpy" or scalar else 3
            return self.wrap(a, left) + symbol + self.wrap(b, right), 2
        if op == "div":
            a, b = n.args
            if s == "latex" and b.shape == () :
                return rf"\frac{{{self.text(a)}}}{{{self.text(b)}}}", 9
            symbol = {"numpy": " / ", "math": " / " if b.shape == () else " ⊘ ",
                      "latex": r" \oslash "}[s]
            return self.wrap(a, 2) + symbol + self.wrap(b, 3), 2
        if op == "pow":
            a, p = n.args
            if s == "numpy":
                return self.wrap(a, 5) + "**" + self.wrap(p, 5), 4
            exponent = self.text(p)
            if s == "math":
                mark = "" if a.shape == () else "∘"
                if _value(p) is not None:
                    return self.wrap(a, 5) + (mark + exponent).translate(_SUPERSCRIPT) \
                        if mark == "" else self.wrap(a, 5) + "^∘" + exponent, 4
                return self.wrap(a, 5) + "^(" + exponent + ")", 4
            mark = "" if a.shape == () else r"\circ "
            return self.wrap(a, 5) + f"^{{{mark}{exponent}}}", 4
        if op in ("matmul", "dot"):
            if s != "numpy" and len(n.args[0].shape) == 1 and len(n.args[1].shape) == 2:
                return self.render(matmul(transpose(n.args[1]), n.args[0]))  # xᵀA as Aᵀx
            if s != "numpy" and len(n.args[0].shape) == 1 and len(n.args[1].shape) == 1:
                t = "ᵀ" if s == "math" else r"^{\top}"
                return self.wrap(n.args[0], 9) + t + " " + self.wrap(n.args[1], 3), 2
            symbol = {"numpy": " @ ", "math": " ", "latex": " "}[s]
            left = n.args[0]
            # in print, A ⊙ B C is ambiguous: a Hadamard factor of a product gets brackets
            least = 2 if s == "numpy" or left.op in ("matmul", "transpose") or \
                (left.op == "mul" and _value(left.args[0]) is not None) else 3
            return self.wrap(left, least) + symbol + self.wrap(n.args[1], 3), 2
        if op == "outer":
            a, b = n.args
            if s == "numpy":
                return f"np.outer({self.text(a)}, {self.text(b)})", 9
            t = "ᵀ" if s == "math" else r"^{\top}"
            return self.wrap(a, 3) + " " + self.wrap(b, 9) + t, 2
        if op == "transpose":
            if s == "numpy":
                return self.wrap(n.args[0], 9) + ".T", 9
            inner = n.args[0]
            if inner.op == "inv":  # X^{-T}, not the double superscript X^{-1}^{T}
                return self.wrap(inner.args[0], 9) + ("⁻ᵀ" if s == "math" else r"^{-\top}"), 9
            base = self.wrap(inner, 9)
            if s == "latex" and "^" in base and not base.endswith(r"\right)"):
                base = "{" + base + "}"
            return base + ("ᵀ" if s == "math" else r"^{\top}"), 9
        if op in _COMPARE:
            symbol = _COMPARE[op]
            text = self.wrap(n.args[0], 1) + f" {symbol} " + self.wrap(n.args[1], 1)
            if s == "numpy":
                return f"({text})", 9
            return (f"[{text}]" if s == "math" else rf"[{text}]"), 9
        if op == "index":
            return self.wrap(n.args[0], 9) + _key_text(n.attrs["key"], s), 9
        if op == "stack":
            items = ", ".join(self.text(a) for a in n.args)
            return (f"np.array([{items}])" if s == "numpy" else f"[{items}]"), 9
        return self.function(n), 9

    def function(self, n: Node) -> str:
        s, op = self.style, n.op
        args = [self.text(a) for a in n.args]
        keywords = dict(n.attrs)
        if s == "numpy":
            if op == "logabsdet":
                return f"np.linalg.slogdet({args[0]})[1]"
            if op == "einsum":
                return f"np.einsum('{keywords.pop('subscripts')}', {', '.join(args)})"
            if op == "reshape":
                return f"np.reshape({args[0]}, {tuple(keywords['newshape'])})"
            extra = [f"{k}={v!r}" for k, v in keywords.items() if v is not None
                     and not (k == "keepdims" and v is False)]
            return f"np.{_NAMES.get(op, op)}({', '.join(args + extra)})"
        latex = s == "latex"
        if op == "inv":
            return self.wrap(n.args[0], 9) + ("^{-1}" if latex else "⁻¹")
        if op == "logabsdet":
            return (r"\log\lvert\det " if latex else "log|det ") + args[0] + \
                (r"\rvert" if latex else "|")
        if op == "trace":
            return (r"\operatorname{tr}" if latex else "tr") + f"({args[0]})"
        if op == "sum" and keywords.get("axis") is None:
            return (r"\operatorname{sum}" if latex else "sum") + f"({args[0]})"
        if op == "sum" and keywords.get("axis") in (0, 1) and len(n.args[0].shape) == 2:
            one = r"\mathbf{1}" if latex else "𝟙"
            t = r"^{\top}" if latex else "ᵀ"
            inner = self.wrap(n.args[0], 9)
            return f"{inner} {one}" if keywords["axis"] == 1 else f"{inner}{t} {one}"
        if op in ("sum", "mean", "max", "min") and keywords.get("axis") is not None:
            name = rf"\operatorname{{{op}}}" if latex else op
            return f"{name}_{{{keywords['axis']}}}({args[0]})" if latex else \
                f"{op}_axis{keywords['axis']}({args[0]})"
        if op == "norm":
            return (r"\lVert " if latex else "‖") + args[0] + (r"\rVert" if latex else "‖")
        if op == "einsum":
            return f"einsum('{keywords['subscripts']}', {', '.join(args)})"
        if op == "reshape":
            return f"reshape({args[0]}, {'×'.join(map(str, keywords['newshape']))})"
        name = {"exp": "exp", "log": "log", "solve": "solve"}.get(op, op)
        name = rf"\operatorname{{{name}}}" if latex and op not in ("exp", "log", "sin", "cos",
                                                                   "tanh", "det") \
            else ("\\" + name if latex else name)
        return f"{name}({', '.join(args)})"


def _key_text(key, style: str) -> str:
    keys = key if isinstance(key, tuple) else (key,)

    def one(k):
        if k is None:
            return "None"
        if isinstance(k, slice):
            return ":".join("" if v is None else str(v) for v in (k.start, k.stop, k.step)
                            ).rstrip(":") or ":"
        return "..." if k is Ellipsis else str(k)
    return "[" + ", ".join(one(k) for k in keys) + "]"


def size(node: Node) -> int:
    """The number of operations in the expression (leaves are free): the printed length."""
    return 0 if not node.args else 1 + sum(size(a) for a in node.args)


# --------------------------------------------------------------------------- the steps

def steps(loss: Node, name: str, style: str = "math") -> list[str]:
    """The derivation, one line per node from the loss down: the node, its adjoint (dL =
    ⟨N̄, dN⟩), and what it passes to each operand."""
    order = [n for n in _topological(loss) if n.args]
    memo: dict = {}
    order = [n for n in order if _depends(n, name, memo)]
    names = {id(n): f"N{k}" for k, n in enumerate(reversed(order), start=1)}
    names[id(loss)] = "L"
    bar = "̄" if style == "math" else ""
    adjoint = {id(loss): const(1)}
    lines = []
    for node in reversed(order):
        g = adjoint.pop(id(node), None)
        if g is None:
            continue
        label = names[id(node)]
        defined = _Printer(style, {k: v for k, v in names.items() if k != id(node)}).text(node)
        adjoint_text = show(g, style, {k: v for k, v in names.items()})
        lines.append(f"{label} = {defined}" + ("" if label == "L" else
                                               f"   (dL = ⟨{label}{bar}, d{label}⟩, "
                                               f"{label}{bar} = {adjoint_text})"))
        for operand, share in _pullback(node, g):
            if not _depends(operand, name, memo) or share is None:
                continue
            if share.shape != operand.shape:
                share = reduce_to(share, operand.shape)
            target = names.get(id(operand), show(operand, style))
            lines.append(f"    ⇒ {target}{bar} += {show(share, style, names)}")
            previous = adjoint.get(id(operand))
            adjoint[id(operand)] = share if previous is None else add(previous, share)
    return lines
