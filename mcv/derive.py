"""Derive the gradient of a scalar loss in matrix notation, by reverse mode on the parsed tree.

For a scalar loss every adjoint has the shape of its node (DESIGN §8): walking the tree from
the loss down, each node's adjoint ``N̄`` (so that dL = ⟨N̄, dN⟩) is passed to its operands by
its row's ``pullback`` (:data:`mcv.rules.RULES`): the identification rule of the shapes
chapter applied node by node. ``C = A @ B`` gives ``Ā += C̄ Bᵀ`` and ``B̄ += Aᵀ C̄``;
``C = h(A)`` entrywise gives ``Ā += C̄ ⊙ h′(A)``; broadcasting is undone by summing over the
broadcast axes. :func:`differential` runs the rows' ``forward`` rules the other way, from
the variable up (forward mode: dC from the operands' differentials).

Every expression is built with the smart constructors of :mod:`mcv.simplify`, which
simplify as they go, so the printed form stays close to what a person writes:
``2 (W u − v) uᵀ``. Every result is then *proved* before it is printed
(:func:`mcv.prove.derive_and_prove`), never trusted.

    >>> from mcv.expr import parse
    >>> loss = parse("np.sum((W @ u - v)**2)", {"W": (3, 4), "u": (4,), "v": (3,)})
    >>> print(show(gradient(loss, "W")))
    2 (W u − v) uᵀ
    >>> print(show(gradient(loss, "W"), "numpy"))
    2 * np.outer(W @ u - v, u)
    >>> print(show(differential(parse("X.T @ X", {"X": (3, 2)}), "X", "dX")))
    dXᵀ X + Xᵀ dX
"""

from __future__ import annotations

from typing import Callable

from mcv import simplify
from mcv.expr import Node
from mcv.notation import ATOM, VOCABULARY
from mcv.rules import LEAVES, RULES, NoRule
from mcv.simplify import add, const, mul, ones, reduce_to

__all__ = ["gradient", "gradients", "hessian_map", "differential", "show", "NoRule", "steps",
           "size", "named"]


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


def _rule(node: Node):
    row = RULES[node.op]
    if row.pullback is None:
        reason = f": {row.no_rule}" if row.no_rule else " yet"
        raise NoRule(f"no rule for {node.op}{reason} (the operations with rules: "
                     "mcv derive --help)")
    return row


def _backward(loss: Node, names: list[str], observe: Callable | None = None,
              recognised: bool = False) -> dict[str, Node]:
    """The backward sweep: each node's adjoint passed to its operands, from the loss down.
    ``observe(node, adjoint, shares)`` sees every step (:func:`steps` prints them). The loss
    is first rebuilt by the simplifier, which names what it recognises (softmax, σ)."""
    loss = loss if recognised else simplify.recognise(loss)
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
        shares = []
        for operand, share in _rule(node).pullback(node, g, simplify):
            if id(operand) not in needed or share is None:
                continue
            if share.shape != operand.shape:
                share = reduce_to(share, operand.shape)
            shares.append((operand, share))
            previous = adjoint.get(id(operand))
            adjoint[id(operand)] = share if previous is None else add(previous, share)
        if observe:
            observe(node, g, shares)
    return found


def gradients(loss: Node, names: list[str], shapes: dict | None = None) -> dict[str, Node]:
    """The gradient of the scalar ``loss`` in each variable of ``names`` (one backward pass);
    ``shapes`` gives the shape of a variable the loss does not contain (its gradient is 0)."""
    if loss.shape not in ((), (1,)):
        raise NoRule(f"the loss has shape {loss.shape}; a loss is a scalar")
    found = _backward(loss, names)
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
    2 dW u uᵀ
    """
    g = gradient(loss, name, shapes)
    d = Node("var", (), {"name": direction}, g.shape, direction)
    return gradient(simplify.call("sum", mul(g, d)), name, shapes)


def _shape_of(root: Node, name: str, shapes: dict | None) -> tuple:
    for node in _topological(root):
        if node.op == "var" and node.attrs["name"] == name:
            return node.shape
    if shapes and name in shapes:
        return tuple(shapes[name])
    raise NoRule(f"the loss does not contain {name}, and its shape is not given")


# --------------------------------------------------------------------------- forward mode

def differential(node: Node, name: str, direction: str) -> Node:
    """The differential of ``node`` when the variable ``name`` moves by the new variable
    ``direction`` (of its shape): dC, an expression of ``node``'s shape, linear in the
    direction. Forward mode: each row's ``forward`` rule, from the variable up.

    >>> from mcv.expr import parse
    >>> print(show(differential(parse("np.linalg.inv(X)", {"X": (3, 3)}), "X", "dX")))
    −(X⁻¹ dX X⁻¹)
    """
    memo: dict = {}
    changes: dict[int, Node | None] = {}
    for n in _topological(node):
        if not _depends(n, name, memo):
            changes[id(n)] = None
        elif n.op == "var":
            changes[id(n)] = Node("var", (), {"name": direction}, n.shape, direction)
        else:
            row = _rule(n)
            if row.forward is None:
                raise NoRule(f"no forward rule for {n.op} yet")
            changes[id(n)] = row.forward(n, [changes[id(a)] for a in n.args], simplify)
    result = changes[id(node)]
    if result is None:
        return const(0, node.shape) if node.shape else const(0)
    return result if result.shape == node.shape else mul(result, ones(node.shape))


# ------------------------------------------------------------------------------ printing

def show(node: Node, style: str = "math", names: dict | None = None) -> str:
    """The expression as a person writes it (``"math"``), as numpy code in the safe language
    (``"numpy"``), or as LaTeX (``"latex"``). ``names`` maps node ids to names (steps)."""
    return _Printer(style, names or {}).text(node)


class _Printer:
    """Prints by the rows' entries (:mod:`mcv.notation`); brackets by precedence."""

    def __init__(self, style: str, names: dict):
        self.style, self.names = style, names
        self.v = VOCABULARY.get(style)
        self.b = simplify

    @staticmethod
    def row(n: Node):
        return LEAVES[n.op] if n.op in LEAVES else RULES[n.op]

    def text(self, node: Node) -> str:
        return self.render(node)[0]

    def wrap(self, node: Node, least: int) -> str:
        text, precedence = self.render(node)
        if precedence >= least:
            return text
        return rf"\left({text}\right)" if self.style == "latex" else f"({text})"

    def render(self, n: Node) -> tuple[str, int]:
        if id(n) in self.names:
            return self.names[id(n)], ATOM
        row = self.row(n)
        form = row.form(self.style)
        if callable(form):
            return form(self, n)
        args = [self.text(a) for a in n.args]
        return form.format(*args, args=", ".join(args)), row.precedence


#: Letters for named subexpressions by operation (a matrix's upper case, a vector's lower).
_LETTERS = {"softmax": "P", "sigmoid": "H", "tanh": "H", "maximum": "H", "sqrt": "S",
            "inv": "R", "solve": "A"}
_SPARE = "RSTUVWMN"


def named(node: Node, style: str = "math", most: int = 4, lets: dict | None = None) -> str:
    """The expression with its repeated subexpressions named, as a textbook prints it:
    ``2 (W2ᵀ (W2 h − y) ⊙ (1 − h^∘2)) xᵀ, where h = tanh(W1 x)``. A subexpression is named
    only when that shortens the whole text (definitions included); the plain form
    otherwise. ``lets`` (``--let`` names: name -> parsed node) are kept wherever their
    expression appears."""
    if style != "math":
        return show(node, style)
    keys: dict[int, tuple] = {}

    def key(n: Node) -> tuple:
        if id(n) not in keys:
            keys[id(n)] = (n.op, n.attrs.get("name"), repr(sorted(
                (k, repr(v)) for k, v in n.attrs.items() if k not in ("name", "structure"))),
                n.shape, tuple(key(a) for a in n.args))
        return keys[id(n)]
    taken = {n.attrs["name"] for n in _topological(node) if n.op == "var"}
    chosen: list[tuple[tuple, str, Node]] = []
    inside = {key(n) for n in _topological(node)}
    for name, let in (lets or {}).items():
        let = simplify.recognise(let)
        if let.args and key(let) in inside:
            chosen.append((key(let), name, let))
            taken.add(name)
    kept = len(chosen)
    best_text = show(node, style)
    for _ in range(most + kept):
        names = _names_by_id(node, chosen, key)
        counts, example = {}, {}
        for root in [node] + [n for _, _, n in chosen]:
            for n in _occurrences(root, names, top=root is not node):
                counts[key(n)] = counts.get(key(n), 0) + 1
                example.setdefault(key(n), n)
        best = None
        for k, count in counts.items():
            n = example[k]
            if count < 2 or not n.args or n.op in ("neg", "transpose", "const"):
                continue
            text = _Printer(style, names).text(n)
            saving = count * (len(text) - 1) - len(text) - 4 - (0 if chosen else 8)
            if len(text) >= 6 and saving > 0 and (best is None or saving > best[0]):
                best = (saving, k, n)
        if best is None:
            break
        _, k, n = best
        letter = _LETTERS.get(n.op, _SPARE[0])
        letter = letter if len(n.shape) == 2 else letter.lower()
        pool = [letter] + [c if len(n.shape) == 2 else c.lower() for c in _SPARE]
        name = next(c for c in pool if c not in taken)
        taken.add(name)
        chosen.append((k, name, n))
    if not chosen:
        return best_text
    names = _names_by_id(node, chosen, key)
    definitions = []
    for k, name, n in sorted(chosen, key=lambda c: size(c[2])):  # inner names first
        inner = {i: v for i, v in names.items() if v != name}
        definitions.append(f"{name} = {_Printer(style, inner).text(n)}")
    text = _Printer(style, names).text(node) + ", where " + ", ".join(definitions)
    return text if len(text) < len(best_text) or kept else best_text


def _names_by_id(root: Node, chosen: list, key) -> dict:
    """Every node (of the expression and of the definitions) whose key was named."""
    wanted = {k: name for k, name, _ in chosen}
    names = {}
    for top in [root] + [n for _, _, n in chosen]:
        for n in _topological(top):
            if key(n) in wanted:
                names[id(n)] = wanted[key(n)]
    return names


def _occurrences(root: Node, names: dict, top: bool = False):
    """Every occurrence of a subexpression (shared nodes counted on each path), not
    looking inside a named one; ``top``: the root is a definition, looked inside."""
    stack = [(root, top)]
    while stack:
        n, inside = stack.pop()
        if id(n) in names and not inside:
            continue
        if not inside:
            yield n
        stack.extend((a, False) for a in n.args)


def size(node: Node) -> int:
    """The number of operations in the expression (leaves are free): the printed length."""
    return 0 if not node.args else 1 + sum(size(a) for a in node.args)


# --------------------------------------------------------------------------- the steps

def steps(loss: Node, name: str, style: str = "math") -> list[str]:
    """The derivation, one line per node from the loss down: the node, its adjoint (dL =
    ⟨N̄, dN⟩), and what it passes to each operand (the backward sweep of
    :func:`gradients`, observed)."""
    memo: dict = {}
    loss = simplify.recognise(loss)
    order = [n for n in _topological(loss) if n.args and _depends(n, name, memo)]
    names = {id(n): f"N{k}" for k, n in enumerate(reversed(order), start=1)}
    names[id(loss)] = "L"
    bar = "̄" if style == "math" else ""
    lines: list[str] = []

    def observe(node, g, shares):
        label = names[id(node)]
        defined = _Printer(style, {k: v for k, v in names.items() if k != id(node)}).text(node)
        lines.append(f"{label} = {defined}" + ("" if label == "L" else
                                               f"   (dL = ⟨{label}{bar}, d{label}⟩, "
                                               f"{label}{bar} = {show(g, style, names)})"))
        for operand, share in shares:
            target = names.get(id(operand), show(operand, style))
            lines.append(f"    ⇒ {target}{bar} += {show(share, style, names)}")
    _backward(loss, [name], observe, recognised=True)
    return lines
