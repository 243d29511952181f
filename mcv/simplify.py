"""The smart constructors: the one simplifier of :mod:`mcv.derive`.

Every expression the engine builds (adjoints, differentials, the printer's xᵀA as Aᵀx) is
made by these functions, which simplify as they go: zeros and ones dropped, double
transposes and negations cancelled, transposes pushed through products to the leaves,
constants folded, like terms collected (``a + a`` is ``2 a``). The rows of
:data:`mcv.rules.RULES` receive this module as the argument ``b`` of their pullback and
forward rules (``b.mul(g, b.transpose(B))``), so :mod:`mcv.rules` does not import it and
there is no import cycle: this module reads the rows' shape rules, the rows call these
constructors.
"""

from __future__ import annotations

import numpy as np

from mcv.expr import Node
from mcv.notation import number_text
from mcv.rules import RULES, ShapeError

__all__ = ["const", "is_zero", "value", "same", "add", "sub", "neg", "mul", "div", "power",
           "transpose", "matmul", "outer", "call", "apply", "eye", "ones", "reduce_to",
           "spread", "recognise", "structure", "collect"]


def const(number: float, shape=()) -> Node:
    """The number, or an array of ``shape`` filled with it."""
    number = float(number)
    if shape == ():
        return Node("const", (), {"value": number}, (), number_text(number))
    if number == 0:
        return Node("zeros", (), {"shape": tuple(shape)}, tuple(shape), "0")
    return mul(const(number), ones(shape))


def ones(shape) -> Node:
    """𝟙 of ``shape``."""
    return Node("ones", (), {"shape": tuple(shape)}, tuple(shape), "1")


def is_zero(n: Node) -> bool:
    return n.op == "zeros" or (n.op == "const" and n.attrs["value"] == 0)


def value(n: Node):
    """The number a constant node holds, None for any other node."""
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
    if a.op == "var" and b.op == "var":  # a declared structure is a fact, not a name
        return a.attrs["name"] == b.attrs["name"] and a.shape == b.shape
    return (a.op == b.op and a.shape == b.shape and a.attrs == b.attrs
            and len(a.args) == len(b.args) and all(map(same, a.args, b.args)))


def add(a: Node, b: Node) -> Node:
    """a + b, simplified. The sum keeps numpy's broadcast shape: when like terms cancel and
    leave only a broadcast operand (b[:, None] of W X + b[:, None] − W X), it is spread back
    to the sum's shape, or a product built on it would not conform."""
    result = _add(a, b)
    shape = tuple(np.broadcast_shapes(a.shape, b.shape))
    return result if result.shape == shape else mul(result, ones(shape))


def _add(a: Node, b: Node) -> Node:
    shape = tuple(np.broadcast_shapes(a.shape, b.shape))
    if is_zero(a) and b.shape == shape:
        return b
    if is_zero(b) and a.shape == shape:
        return a
    if value(a) is not None and value(b) is not None:
        return const(value(a) + value(b))
    a, b = _canonical(a), _canonical(b)
    (ka, pa), (kb, pb) = _split_factor(a), _split_factor(b)
    if (ka, kb) != (1, 1) and pa.op == pb.op and pa.op in ("outer", "matmul") and \
            pa.shape == pb.shape == a.shape == b.shape and \
            (same(pa.args[1], pb.args[1]) or same(pa.args[0], pb.args[0])):
        left = same(pa.args[0], pb.args[0])  # k p rᵀ + j q rᵀ = (k p + j q) rᵀ
        inner = [mul(const(k), x.args[1 if left else 0]) for k, x in ((ka, pa), (kb, pb))]
        shared = pa.args[0 if left else 1]
        build = outer if pa.op == "outer" else matmul
        return build(shared, add(*inner)) if left else build(add(*inner), shared)
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
    collected = [(k, rest) for k, rest in collect(terms) if k != 0]
    expanded = _expanded(a, b, shape)
    if expanded is not None:
        return expanded
    common = _common_factor(collected)
    if common is not None:
        return common
    if len(collected) == len(terms):
        ka, ra = _split_factor(a)
        kb, rb = _split_factor(b)
        if ka < 0 < kb and len(terms) == 2:  # −a + b reads b − a
            return _make("sub", [b, mul(const(-ka), ra)])
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


def collect(terms) -> list[tuple[float, Node]]:
    """Like terms merged: (k, t) pairs whose t are the same expression, their numbers added
    (in the order of first appearance; zero sums kept for the caller to judge)."""
    collected: list[list] = []
    for k, rest in terms:
        for entry in collected:
            if same(entry[1], rest):
                entry[0] += k
                break
        else:
            collected.append([k, rest])
    return [(k, rest) for k, rest in collected]


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
    if value(a) is not None:
        return const(-value(a))
    if is_zero(a):
        return a
    if a.op == "mul" and value(a.args[0]) is not None:
        return mul(const(-value(a.args[0])), a.args[1])
    if a.op == "sub":
        return _make("sub", [a.args[1], a.args[0]])
    if a.op in ("matmul", "outer", "mul") and len(a.args) == 2:  # −(A (p − q)) = A (q − p)
        for k in (1, 0):
            if a.args[k].op == "sub":
                args = list(a.args)
                args[k] = _make("sub", [a.args[k].args[1], a.args[k].args[0]])
                return _make(a.op, args)
    return _make("neg", [a])


def _split_factor(a: Node) -> tuple[float, Node]:
    """(k, rest) with a = k · rest and k a number."""
    if a.op == "mul" and value(a.args[0]) is not None:
        return value(a.args[0]), a.args[1]
    if a.op == "neg":
        k, rest = _split_factor(a.args[0])
        return -k, rest
    return 1.0, a


def mul(a: Node, b: Node) -> Node:
    """Entrywise (broadcast) product; a scalar factor is kept in front."""
    shape = tuple(np.broadcast_shapes(a.shape, b.shape))
    if is_zero(a) or is_zero(b):
        return const(0, shape)
    if value(b) is not None and value(a) is None:
        a, b = b, a
    if value(a) is None and (a.op == "neg" or b.op == "neg"):  # (−x) ⊙ y = −(x ⊙ y)
        x = a.args[0] if a.op == "neg" else a
        y = b.args[0] if b.op == "neg" else b
        product = mul(x, y)
        return product if a.op == b.op == "neg" else neg(product)
    if value(a) is not None:
        k = value(a)
        if value(b) is not None:
            return const(k * value(b))
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
    elif a.op == "ones" and b.op == "ones":
        return ones(shape)
    elif a.op == "ones" and a.shape == shape:
        return b if b.shape == shape else _make("mul", [a, b])
    elif b.op == "ones" and b.shape == shape:
        return a if a.shape == shape else _make("mul", [a, b])
    else:
        ka, ra = _split_factor(a)
        kb, rb = _split_factor(b)
        if ka != 1 or kb != 1:
            return mul(const(ka * kb), mul(ra, rb))
        cancelled = _cancel(a, b, shape)
        if cancelled is not None:
            return cancelled
        for x, y in ((a, b), (b, a)):  # x ⊙ (𝟙 ⊘ y) = x ⊘ y
            if y.op == "div" and y.args[0].op == "ones" and \
                    np.broadcast_shapes(x.shape, y.args[1].shape) == shape:
                return div(x, y.args[1])
        if b.op == "div" and value(b.args[0]) == 1:  # x ⊙ (1 ⊘ y) = x ⊘ y
            return div(a, b.args[1])
        if a.op == "div" and value(a.args[0]) == 1:
            return div(b, a.args[1])
    return _make("mul", [a, b])


def div(a: Node, b: Node) -> Node:
    shape = tuple(np.broadcast_shapes(a.shape, b.shape))
    if is_zero(a):
        return const(0, shape)
    if same(a, b):
        return const(1, shape) if shape else const(1)
    named = _named_quotient(a, b)
    if named is not None:
        return named
    if value(b) is None and value(a) is None:
        cancelled = _cancel(a, _make("div", [const(1), b]), shape)
        if cancelled is not None:
            return cancelled
    if value(a) is not None and value(a) != 1:  # c / y = c (1 / y): c joins the factors
        return mul(a, div(const(1), b))
    if value(b) is not None:
        return mul(const(1 / value(b)), a)
    if b.op == "div" and value(b.args[0]) is not None:  # a ⊘ (k ⊘ y) = (a ⊙ y) / k
        return mul(const(1 / value(b.args[0])), mul(a, b.args[1]))
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
    if len(a.shape) < 2 or value(a) is not None:
        return a
    if a.op == "transpose":
        return a.args[0]
    if a.op in ("zeros", "ones"):
        return Node(a.op, (), {"shape": a.shape[::-1]}, a.shape[::-1], a.source)
    if a.op == "eye" or _symmetric(a):
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
    if _inverse_pair(a, b):  # A⁻¹ A = A A⁻¹ = I (and transposed)
        return eye(a.shape[0])
    for x, y, left in ((a, b, False), (b, a, True)):  # A (s B) = s A B for a scalar s
        if x.op == "mul" and len(x.args[0].shape) == 0 and x.args[1].shape == x.shape \
                and len(x.shape) == 2 and len(y.shape) == 2:
            inner = matmul(y, x.args[1]) if left else matmul(x.args[1], y)
            return mul(x.args[0], inner)
    for x, y, left in ((b, a, True), (a, b, False)):  # A (x / s) = A x / s, s a scalar
        if x.op == "div" and x.args[1].shape == () and x.args[0].shape == x.shape:
            inner = matmul(y, x.args[0]) if left else matmul(x.args[0], y)
            return div(inner, x.args[1])
    return _make("matmul", [a, b])


def outer(a: Node, b: Node) -> Node:
    """a bᵀ for vectors a, b."""
    if is_zero(a) or is_zero(b):
        return const(0, (a.shape[0], b.shape[0]))
    if a.op == "ones" and b.op == "ones":
        return ones((a.shape[0], b.shape[0]))
    ka, ra = _split_factor(a)
    kb, rb = _split_factor(b)
    if ka != 1 or kb != 1:
        return mul(const(ka * kb), outer(ra, rb))
    return _make("outer", [a, b])


def call(op: str, *args, **attrs) -> Node:
    if op == "inv" and args[0].op == "inv":
        return args[0].args[0]
    if op == "log":
        named = _named_log(args[0])
        if named is not None:
            return named
    if op == "softmax" and args[0].op == "sub" and args[0].args[1].op == "max" and \
            same(args[0].args[1].args[0], args[0].args[0]) and \
            _axis(args[0].args[1]) == attrs.get("axis") and \
            (args[0].args[1].attrs.get("keepdims") or attrs.get("axis") is None):
        return call("softmax", args[0].args[0], **attrs)  # softmax(Z − max Z) = softmax(Z)
    if op in ("sum", "mean") and isinstance(attrs.get("axis"), tuple) \
            and len(attrs["axis"]) == 1:
        attrs = {**attrs, "axis": attrs["axis"][0]}
    if op == "sum":
        summed = _sum(args[0], attrs)
        if summed is not None:
            return summed
    k, inner = _split_factor(args[0]) if op == "reshape" else (1, args[0])
    if op == "reshape" and inner.op == "sum" and inner.attrs.get("keepdims"):
        plain = _make("sum", list(inner.args), axis=inner.attrs["axis"], keepdims=False)
        if plain.shape == tuple(attrs["newshape"]):
            return mul(const(k), plain)
    if op == "solve":  # solve(A, k r) = k solve(A, r)
        k, rest = _split_factor(args[1])
        if k != 1 and rest.shape == args[1].shape:
            return mul(const(k), call("solve", args[0], rest))
    if op == "logaddexp" and value(args[0]) == 0:  # softplus: its derivative prints σ
        return call("log", add(const(1), call("exp", args[1])))
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
    filled = ones(shape)
    k, kept = _split_factor(g)
    if keepdims and kept.op == "sum" and kept.attrs.get("keepdims") and len(shape) == 2 \
            and len(kept.args[0].shape) == 2 and isinstance(kept.attrs.get("axis"), int):
        # A 𝟙 kept as a column, spread: A 𝟙 𝟙ᵀ
        along = kept.attrs["axis"] % 2
        plain = call("sum", kept.args[0], axis=along, keepdims=False)
        return mul(const(k), spread(plain, shape, along, False))
    if axis is None or keepdims:
        return mul(g, filled) if g.shape != tuple(shape) else g
    axes = axis if isinstance(axis, tuple) else (axis,)
    axes = tuple(a % len(shape) for a in axes)
    key = tuple(None if k in axes else slice(None) for k in range(len(shape)))
    if g.op == "ones":
        return filled
    if len(shape) == 2 and len(axes) == 1:  # a column's or a row's sum spread: g 𝟙ᵀ, 𝟙 gᵀ
        k, rest = _split_factor(g)
        spread_out = outer(rest, ones((shape[1],))) if axes == (1,) else \
            outer(ones((shape[0],)), rest)
        return mul(const(k), spread_out)
    if all(k in axes for k in range(len(shape) - len(g.shape))) and \
            sorted(axes) == list(range(len(axes))):
        return mul(filled, g)  # reduced leading axes: numpy broadcasting restores them
    expanded = Node("index", (g,), {"key": key}, tuple(1 if k in axes else n
                                                       for k, n in enumerate(shape)), "")
    return mul(filled, expanded)


#: The operations that have a smart constructor; :func:`apply` uses them.
_SMART = {"add": add, "sub": sub, "neg": neg, "mul": mul, "div": div, "matmul": matmul,
          "transpose": transpose, "outer": outer}


def apply(op: str, *args, **attrs) -> Node:
    """``op`` of ``args`` through its smart constructor where it has one (the forward
    rules apply a row's own operation to differentials)."""
    if op == "dot":
        op = "matmul" if all(a.shape for a in args) else "mul"
    if op in _SMART and not attrs:
        return _SMART[op](*args)
    return call(op, *args, **attrs)


# ------------------------------------------------------------- facts and cancellation

def structure(n: Node) -> str:
    """The declared structure a leaf carries (``sym``, ``onehot``, ...), else "general"."""
    return n.attrs.get("structure", "general") if n.op == "var" else "general"


def _symmetric(n: Node) -> bool:
    """Known symmetric: a sym/spd/diag variable, or the inverse of one."""
    if n.op == "inv":
        return _symmetric(n.args[0])
    if n.op == "matmul" and len(n.shape) == 2 and n.args[0].op == "transpose" \
            and same(n.args[0].args[0], n.args[1]):
        return True  # Aᵀ A
    if n.op == "matmul" and len(n.shape) == 2 and n.args[1].op == "transpose" \
            and same(n.args[1].args[0], n.args[0]):
        return True  # A Aᵀ
    return structure(n) in ("sym", "spd", "diag")


def _factors(n: Node) -> tuple[float, list, list]:
    """n = k ⊙ Π nums ⊘ Π dens, entrywise (broadcasting is associative and commutative)."""
    if value(n) is not None:
        return value(n), [], []
    if n.op == "neg":
        k, nums, dens = _factors(n.args[0])
        return -k, nums, dens
    if n.op == "mul":
        ka, na, da = _factors(n.args[0])
        kb, nb, db = _factors(n.args[1])
        return ka * kb, na + nb, da + db
    if n.op == "div" and value(n.args[1]) != 0:
        ka, na, da = _factors(n.args[0])
        kb, nb, db = _factors(n.args[1])
        if kb != 0:
            return ka / kb, na + db, da + nb
    return 1.0, [n], []


def _cancel(a: Node, b: Node, shape: tuple) -> Node | None:
    """a ⊙ b with a factor cancelled against a divisor (x ⊘ x = 1, ‖a‖ a/‖a‖ = a,
    sign(d) / |d| = 1 / d), or None when nothing cancels."""
    ka, na, da = _factors(a)
    kb, nb, db = _factors(b)
    nums, dens, changed = na + nb, da + db, False
    for n in list(nums):  # σ(−e) exp(e) = σ(e)
        if n.op == "sigmoid" and n in nums:
            e = neg(n.args[0])
            match = next((m for m in nums if m.op == "exp" and same(m.args[0], e)), None)
            if match is not None:
                nums.remove(n)
                nums.remove(match)
                nums.append(call("sigmoid", e))
                changed = True
    for d in list(dens):
        match = next((n for n in nums if same(n, d)), None)
        if match is None and d.op == "abs":
            match = next((n for n in nums if n.op == "sign" and same(n.args[0], d.args[0])),
                         None)
            if match is not None:
                dens.append(d.args[0])
        if match is not None:
            nums.remove(match)
            dens.remove(d)
            changed = True
    if not changed:
        return None
    result = const(ka * kb)
    for n in nums:
        result = mul(result, n)
    if dens:
        bottom = dens[0]
        for d in dens[1:]:
            bottom = mul(bottom, d)
        result = div(result, bottom)
    return result if result.shape == shape else mul(result, ones(shape))


def _exp_of(n: Node):
    return n.args[0] if n.op == "exp" else None


def _one_plus_exp(n: Node):
    """e when n is 1 + exp(e) (either order), else None."""
    if n.op != "add":
        return None
    x, y = n.args
    if value(x) == 1 and y.op == "exp":
        return y.args[0]
    if value(y) == 1 and x.op == "exp":
        return x.args[0]
    return None


def _axis(n: Node):
    """A reduction's axis, non-negative (None: all axes)."""
    axis = n.attrs.get("axis")
    rank = len(n.args[0].shape)
    if isinstance(axis, tuple):
        axis = axis[0] if len(axis) == 1 else axis
    if isinstance(axis, int):
        return axis % rank
    if isinstance(axis, tuple) and sorted(a % rank for a in axis) == list(range(rank)):
        return None
    return axis


def _named_quotient(a: Node, b: Node) -> Node | None:
    """σ and softmax where a quotient is one: 1 / (1 + exp(−z)) = σ(z), exp(z) / (1 +
    exp(z)) = σ(z), exp(Z) / Σ exp(Z) along an axis = softmax(Z)."""
    e = _one_plus_exp(b)
    if e is not None and value(a) == 1:
        return call("sigmoid", neg(e))
    if e is not None and a.op == "exp" and same(a.args[0], e):
        return call("sigmoid", e)
    if a.op == "exp" and b.op == "sum" and b.args[0].op == "exp" \
            and same(a.args[0], b.args[0].args[0]):
        axis = _axis(b)
        if (axis is None or isinstance(axis, int)) and \
                (b.attrs.get("keepdims") or axis is None or len(a.shape) == 1):
            return call("softmax", a.args[0], axis=axis if len(a.shape) > 1 else None)
    return None


def _named_log(x: Node) -> Node | None:
    """log Σ exp = logsumexp, log softmax(Z) = Z − logsumexp(Z), log|det X| = log det X
    (where defined) = logabsdet, log exp(x) = x."""
    if x.op == "exp":
        return x.args[0]
    if x.op == "sum" and x.args[0].op == "exp":
        axis = _axis(x)
        if axis is None or isinstance(axis, int):
            return call("logsumexp", x.args[0].args[0], axis=axis,
                        keepdims=bool(x.attrs.get("keepdims")))
    if x.op == "softmax":
        Z, axis = x.args[0], x.attrs.get("axis")
        return sub(Z, call("logsumexp", Z, axis=axis, keepdims=axis is not None))
    if x.op == "abs" and x.args[0].op == "det":
        return call("logabsdet", x.args[0].args[0])
    if x.op == "det":
        return call("logabsdet", x.args[0])
    return None


def recognise(node: Node) -> Node:
    """The expression rebuilt through the smart constructors, bottom up, so a parsed loss
    is in the engine's form and the functions the book names are recognised: σ, softmax,
    logsumexp, log|det| (:func:`_named_quotient`, :func:`_named_log`)."""
    memo: dict[int, Node] = {}

    def visit(n: Node) -> Node:
        if id(n) not in memo:
            args = [visit(a) for a in n.args]
            memo[id(n)] = n if not n.args else _make("dot", args, **n.attrs) \
                if n.op == "dot" else apply(n.op, *args, **n.attrs)
        return memo[id(n)]
    return visit(node)


def _sum(a: Node, attrs: dict) -> Node | None:
    """Σ k A = k Σ A; Σ −A = −Σ A; the rows of a onehot or simplex Y sum to 1 (Y𝟙 = 𝟙)."""
    if a.op == "neg":
        return neg(call("sum", a.args[0], **attrs))
    k, rest = _split_factor(a)
    if k != 1 and rest.shape == a.shape:
        return mul(const(k), call("sum", rest, **attrs))
    axis = attrs.get("axis")
    last = axis is None and len(a.shape) == 1 or isinstance(axis, int) and \
        len(a.shape) >= 1 and axis % len(a.shape) == len(a.shape) - 1
    if a.op in ("add", "sub") and all(x.shape == a.shape for x in a.args):
        parts = [call("sum", x, **attrs) for x in a.args]  # Σ (p − q) = Σ p − Σ q, when
        if any(x.op in ("ones", "const") for x in parts):  # one of them simplifies
            return (add if a.op == "add" else sub)(*parts)
    rows = a.op == "softmax" and (a.attrs.get("axis") is None and axis is None or
                                  isinstance(axis, int) and a.attrs.get("axis") is not None
                                  and axis % len(a.shape) == a.attrs["axis"] % len(a.shape))
    if rows:  # a softmax sums to one along its axis
        shape = RULES["sum"].shape(a.shape, **attrs)
        return ones(shape) if shape else const(1)
    if (structure(a) in ("onehot", "simplex") or a.op == "onehot") and last:
        shape = RULES["sum"].shape(a.shape, **attrs)
        return ones(shape) if shape else const(1)
    return None


def _common_factor(collected: list) -> Node | None:
    """k (a − b) for k a − k b (the one number all terms share, k ≠ ±1), the positive
    terms first: (softmax(Z) − Y) / 6, not −Y / 6 + softmax(Z) / 6."""
    if len(collected) < 2 or len({abs(k) for k, _ in collected}) != 1 \
            or (abs(collected[0][0]) == 1 and any(k > 0 for k, _ in collected)):
        return None  # −a − b is −(a + b): a common −1 is taken out too
    k = abs(collected[0][0])
    ordered = sorted(collected, key=lambda term: term[0] < 0)
    sign = 1 if ordered[0][0] > 0 else -1
    inner = None
    for coefficient, rest in ordered:
        term = rest if coefficient * sign > 0 else neg(rest)
        inner = term if inner is None else add(inner, term)
    return mul(const(sign * k), inner)


def _inverse_pair(a: Node, b: Node) -> bool:
    """a b = I: one is the inverse of the other (both possibly transposed)."""
    def plain(n):
        return (n.args[0], True) if n.op == "transpose" else (n, False)
    (pa, ta), (pb, tb) = plain(a), plain(b)
    if ta != tb or len(a.shape) != 2:
        return False
    return (pa.op == "inv" and same(pa.args[0], pb)) or (pb.op == "inv" and
                                                         same(pb.args[0], pa))


def _monomials(n: Node, shape: tuple):
    """n as a list of (number, [factors]) with n = Σ number · Π factors entrywise, products
    distributed over sums; None when a factor broadcasts (only same-shaped terms expand)."""
    if n.shape not in ((), shape):
        return None
    if value(n) is not None:
        return [(value(n), [])]
    if n.op in ("add", "sub"):
        left, right = (_monomials(x, shape) for x in n.args)
        if left is None or right is None:
            return None
        sign = -1 if n.op == "sub" else 1
        return left + [(sign * k, f) for k, f in right]
    if n.op == "neg":
        inner = _monomials(n.args[0], shape)
        return None if inner is None else [(-k, f) for k, f in inner]
    if n.op == "mul":
        left, right = (_monomials(x, shape) for x in n.args)
        if left is None or right is None or len(left) * len(right) > 16:
            return None
        return [(k * j, f + g) for k, f in left for j, g in right]
    return [(1.0, [n])]


def _expanded(a: Node, b: Node, shape: tuple) -> Node | None:
    """a + b with products distributed and like monomials cancelled, when that cancels
    something: t ⊙ (1 − s) + (t − 1) ⊙ s = t − s. None when nothing cancels."""
    if not shape or not any(x.op == "mul" for x in (a, b)):
        return None
    terms = [_monomials(x, shape) for x in (a, b)]
    if any(t is None for t in terms):
        return None
    monomials = terms[0] + terms[1]
    collected: list[list] = []
    for k, factors in monomials:
        for entry in collected:
            if len(entry[1]) == len(factors) and _same_multiset(entry[1], factors):
                entry[0] += k
                break
        else:
            collected.append([k, factors])
    kept = [(k, f) for k, f in collected if abs(k) > 1e-15]
    if len(kept) > len(monomials) - 2 or len(kept) > 3:
        return None  # nothing cancelled, or the expanded form is no shorter
    kept.sort(key=lambda term: term[0] < 0)
    result = None
    for k, factors in kept:
        term = const(k) if not factors else None
        for f in factors:
            term = f if term is None else mul(term, f)
        if factors:
            term = mul(const(k), term)
        result = term if result is None else add(result, term)
    if result is None:
        return const(0, shape)
    return result if result.shape == shape else mul(result, ones(shape))


def _same_multiset(first: list, second: list) -> bool:
    rest = list(second)
    for f in first:
        match = next((g for g in rest if same(f, g)), None)
        if match is None:
            return False
        rest.remove(match)
    return True
