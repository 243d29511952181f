"""The safe expression language: numpy-style text parsed, shape-checked and evaluated.

Expressions are parsed, never run as Python. :func:`parse` reads the text with ``ast.parse``
and builds a tree of :class:`Node` from an allow-list: numbers, ``np.pi``/``np.e``, the
declared variables, the ``np.<function>`` calls of :data:`NUMPY_FUNCTIONS` (with the keywords
``axis``, ``keepdims``, ``ord``), the methods ``.sum() .mean() .max() .min() .prod()
.reshape() .dot()``, ``.T``, ``+ - * / ** @``, comparisons, unary minus and subscripts with
constant indices (``u[0]``, ``b[:, None]``, ``np.newaxis``). Every refused part is reported at
once, each with a rewrite where one exists, before anything is computed.

Every node's shape is inferred from the declared shapes while parsing (:mod:`mcv.rules` holds
one shape rule per operation), so an expression that would need more than
``Limits.max_entries`` entries in one intermediate, or more than ``Limits.max_work``
multiply-adds per evaluation, is refused by name before numpy allocates anything. Nesting is
bounded by ``Limits.max_depth`` (no RecursionError), text by ``Limits.max_length``.

Why a small evaluator, and not ``eval`` of the validated tree with empty ``__builtins__``: an
evaluator can only do what its few branches do, so safety does not rest on the allow-list
being complete *and* on the sandbox holding; ``eval`` with ``{"__builtins__": {}}`` is a known
escape route (attribute chains reach ``object.__subclasses__()``), and one missed node type in
the validator would hand it over.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field

import numpy as np

from mcv.rules import LEAVES, RULES, ShapeError

__all__ = ["Node", "Limits", "UsageError", "EvaluationError", "parse", "evaluate",
           "evaluate_exact",
           "NUMPY_FUNCTIONS", "ALLOWED", "size_of"]


class UsageError(Exception):
    """The input is refused (bad syntax, a refused construct, a shape that cannot be, a
    resource limit): reported with exit code 2. ``parts`` lists every refused part."""

    def __init__(self, message: str, parts: list[str] | None = None,
                 shapes_only: bool = False):
        super().__init__(message)
        self.parts = parts or [message]
        #: Every refused part is a shape that does not fit (the text itself is allowed): for
        #: a claimed gradient that is a wrong claim, not bad usage.
        self.shapes_only = shapes_only


class EvaluationError(Exception):
    """numpy could not compute the expression at this point (singular matrix, overflow,
    out of memory): reported in plain words, never as a traceback."""


@dataclass(frozen=True)
class Limits:
    """Resource limits; every one can be raised on the command line (``mcv check --help``)."""

    #: Entries in one intermediate array (a float64 entry is 8 bytes: 10**7 is 80 MB).
    max_entries: int = 10**7
    #: Multiply-adds in one evaluation of an expression (estimated from the shapes).
    max_work: int = 10**9
    #: Entries in one declared variable.
    max_variable_entries: int = 10**6
    #: Nesting depth of the expression tree.
    max_depth: int = 100
    #: Characters in one expression.
    max_length: int = 2000
    #: Seconds for one whole command (parsing, evaluating, checking).
    timeout: float = 60.0
    #: Bytes of memory the command may use in all (its address space).
    max_memory: int = 4 * 2**30


@dataclass(frozen=True, eq=False)
class Node:
    """One node of a parsed expression: an operation of :data:`mcv.rules.RULES` (or ``var``,
    ``const``, ``index``, ``stack``, ``eye``) applied to ``args``, with its inferred shape."""

    op: str
    args: tuple["Node", ...] = ()
    attrs: dict = field(default_factory=dict)
    shape: tuple[int, ...] = ()
    source: str = ""

    def __repr__(self) -> str:
        return f"Node({self.op}, shape={self.shape}, {self.source!r})"


def size_of(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


#: The row of each numpy function an expression may call, by the name written after ``np.``.
_BY_NUMPY = {row.numpy: row for row in RULES.values() if row.numpy}
#: The numpy functions an expression may call: the rows', and those the parser builds
#: itself (constant arrays, np.array of expressions, np.inner as dot, slogdet's parts).
NUMPY_FUNCTIONS = frozenset(_BY_NUMPY) | {"eye", "ones", "zeros", "array", "inner",
                                         "linalg.slogdet"}
_REDUCING_METHODS = " ".join(f".{row.numpy}" for row in RULES.values()
                             if row.method and "axis" in row.keywords)
ALLOWED = ("numbers, np.pi, np.e, the declared variables, np.<function> calls, the methods "
           f"{_REDUCING_METHODS} .reshape .dot, .T, + - * / ** @, comparisons, unary minus "
           "and constant subscripts")

_BINARY_OPERATORS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div",
                     ast.Pow: "pow", ast.MatMult: "matmul"}
_COMPARE_OPERATORS = {ast.Gt: "gt", ast.GtE: "ge", ast.Lt: "lt", ast.LtE: "le",
                      ast.Eq: "eq", ast.NotEq: "ne"}
_METHODS = {row.numpy for row in RULES.values() if row.method} | {"reshape"}
#: Python built-ins people type, and what to write instead.
_BUILTIN_REWRITES = {"sum": "np.sum(...)", "abs": "np.abs(...)", "max": "np.max(...) or "
                     "np.maximum(a, b)", "min": "np.min(...) or np.minimum(a, b)",
                     "pow": "a ** b", "exp": "np.exp(...)", "log": "np.log(...)",
                     "sqrt": "np.sqrt(...)", "tanh": "np.tanh(...)", "len": "a number",
                     "float": "the expression itself", "round": "nothing (not differentiable)"}
_MODULE_REWRITES = {"numpy": "np", "math": "np", "torch": "np", "jnp": "np", "tf": "np"}


# ------------------------------------------------------------------------------ parsing

def parse(text: str, shapes: dict[str, tuple[int, ...]], what: str = "the expression", *,
          lets: dict[str, Node] | None = None, limits: Limits = Limits(),
          structures: dict[str, str] | None = None) -> Node:
    """Parse, validate and shape-check ``text``; raise :class:`UsageError` naming every
    refused part. ``shapes`` declares the variables; ``lets`` are named intermediates;
    ``structures`` the declared structure of a variable (``sym``, ``onehot``, ...), which its
    leaves carry (``attrs["structure"]``) for the simplifier (:mod:`mcv.simplify`).

    >>> node = parse("np.sum((W @ u - v)**2)", {"W": (3, 4), "u": (4,), "v": (3,)})
    >>> node.op, node.shape
    ('sum', ())
    >>> try:
    ...     parse("W @ u.sum(keepdims=True)", {"W": (3, 4), "u": (4,)})
    ... except UsageError as refused:
    ...     print(refused)
    the expression: W @ u.sum(keepdims=True): @ of shapes (3, 4) and (1,): the inner sizes 4 and 1 differ (a transpose missing, or the factors in the wrong order?)
    """
    if len(text) > limits.max_length:
        raise UsageError(f"{what} is longer than {limits.max_length} characters (the limit "
                         "--max-length; write it in steps with --let NAME=EXPRESSION)")
    depth = _bracket_depth(text)
    if depth > limits.max_depth:
        raise UsageError(f"{what} nests brackets {depth} deep; the limit is "
                         f"{limits.max_depth} (write it in steps with --let)")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as error:
        hint = " (a statement, not an expression)" if "import" in text or ";" in text else ""
        raise UsageError(f"{what} is not a valid expression: {error.msg}{hint}") from None
    except (RecursionError, MemoryError):
        raise UsageError(f"{what} nests too deeply to read") from None
    if _tree_depth(tree) > limits.max_depth:
        raise UsageError(f"{what} nests more than {limits.max_depth} operations deep (write "
                         "it in steps with --let NAME=EXPRESSION)")
    builder = _Builder(shapes, lets or {}, limits, structures or {})
    node = builder.visit(tree)
    if builder.errors:
        errors = list(dict.fromkeys(builder.errors))
        shapes_only = builder.shape_errors == len(builder.errors)
        if len(errors) == 1:
            raise UsageError(f"{what}: {errors[0]}", errors, shapes_only)
        listing = "\n".join(f"  - {e}" for e in errors)
        raise UsageError(f"{what}: {len(errors)} parts are refused:\n{listing}", errors,
                         shapes_only)
    if builder.work > limits.max_work:
        raise UsageError(f"{what} needs about {builder.work:.1e} multiply-adds per "
                         f"evaluation, over the limit {limits.max_work:.0e} (--max-work)")
    return node


def _bracket_depth(text: str) -> int:
    depth = deepest = 0
    for character in text:
        if character in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif character in ")]}":
            depth -= 1
    return deepest


def _tree_depth(tree: ast.AST) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _numpy_name(node: ast.expr) -> str | None:
    """'linalg.norm' for the node np.linalg.norm, 'sum' for np.sum, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id == "np" and parts:
        return ".".join(reversed(parts))
    return None


def _module_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _integer(node: ast.expr) -> int | None:
    """The value of an integer literal, possibly negated; None for anything else."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _integer(node.operand)
        return None if value is None else -value
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def _number(node: ast.expr) -> float | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _number(node.operand)
        return None if value is None else -value
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    if isinstance(node, ast.Attribute) and _numpy_name(node) == "inf":
        return math.inf
    return None


class _Builder:
    """Walks a Python syntax tree into Nodes, collecting every refusal."""

    def __init__(self, shapes, lets, limits: Limits, structures: dict | None = None):
        self.shapes, self.lets, self.limits = shapes, lets, limits
        self.structures = {n: s for n, s in (structures or {}).items() if s != "general"}
        self.errors: list[str] = []
        self.shape_errors = 0
        self.work = 0

    # -- helpers
    def refuse(self, part: str, rewrite: str | None = None) -> None:
        self.errors.append(f"{part} is not allowed" + (f"; write {rewrite}" if rewrite else
                                                        f" (only {ALLOWED})"))

    def make(self, op: str, args: list, source: str, **attrs) -> Node | None:
        if any(a is None for a in args):
            return None
        try:
            shape = RULES[op].shape(*(a.shape for a in args), **attrs)
        except ShapeError as error:
            self.errors.append(f"{source}: {error}" + _precedence_hint(op, args, source))
            self.shape_errors += 1
            return None
        return self.node(op, tuple(args), attrs, tuple(int(n) for n in shape), source)

    def node(self, op, args, attrs, shape, source) -> Node | None:
        if size_of(shape) > self.limits.max_entries:
            self.errors.append(f"{source} would have shape {shape}, {size_of(shape):,} "
                               f"entries: over the limit of {self.limits.max_entries:,} "
                               "entries in one intermediate (--max-entries)")
            return None
        self.work += _work(op, args, shape, attrs)
        return Node(op, args, attrs, shape, source)

    # -- the walk
    def visit(self, tree: ast.expr) -> Node | None:
        method = getattr(self, "visit_" + type(tree).__name__, None)
        if method is None:
            kind = {ast.ListComp: "a list comprehension", ast.SetComp: "a set comprehension",
                    ast.DictComp: "a dict comprehension", ast.GeneratorExp: "a generator",
                    ast.Lambda: "a lambda", ast.IfExp: "IfExp (x if c else y)",
                    ast.BoolOp: "BoolOp (and/or)", ast.NamedExpr: "NamedExpr (:=)",
                    ast.JoinedStr: "JoinedStr (an f-string)", ast.Starred: "Starred (*)"
                    }.get(type(tree), type(tree).__name__)
            rewrite = {ast.IfExp: "np.where(c, x, y)", ast.BoolOp: "(a) * (b) of comparisons",
                       ast.List: "np.array([...]) of expressions",
                       ast.Tuple: "np.array([...]) of expressions"}.get(type(tree))
            self.refuse(f"{kind} '{ast.unparse(tree)}'", rewrite)
            return None
        return method(tree)

    def visit_Constant(self, tree):
        if type(tree.value) not in (int, float):
            self.refuse(f"the constant {tree.value!r}")
            return None
        return Node("const", (), {"value": float(tree.value)}, (), ast.unparse(tree))

    def visit_Name(self, tree):
        if tree.id in self.lets:
            return self.lets[tree.id]
        if tree.id in self.shapes:
            attrs = {"name": tree.id}
            if tree.id in self.structures:
                attrs["structure"] = self.structures[tree.id]
            return Node("var", (), attrs, tuple(self.shapes[tree.id]), tree.id)
        declared = ", ".join(sorted({*self.shapes, *self.lets})) or "none"
        self.errors.append(f"the name {tree.id!r} is not a declared variable (declared: "
                           f"{declared}; declare a variable with --shape NAME=3x4, call "
                           "numpy as np.NAME(...))")
        return None

    def visit_Attribute(self, tree):
        name = _numpy_name(tree)
        if name in ("pi", "e"):
            return Node("const", (), {"value": getattr(np, name)}, (), f"np.{name}")
        if tree.attr == "T":
            value = self.visit(tree.value)
            return self.make("transpose", [value], ast.unparse(tree))
        module = _module_name(tree)
        if module in _MODULE_REWRITES and name is None:
            self.refuse(f"'{ast.unparse(tree)}'", f"np.{tree.attr}")
            return None
        self.refuse(f"the attribute '.{tree.attr}'")
        return None

    def visit_UnaryOp(self, tree):
        if isinstance(tree.op, ast.UAdd):
            return self.visit(tree.operand)
        if not isinstance(tree.op, ast.USub):
            self.refuse(f"UnaryOp '{ast.unparse(tree)}'")
            return None
        operand = self.visit(tree.operand)
        if operand is not None and operand.op == "const":
            return Node("const", (), {"value": -operand.attrs["value"]}, (), ast.unparse(tree))
        return self.make("neg", [operand], ast.unparse(tree))

    def visit_BinOp(self, tree):
        op = _BINARY_OPERATORS.get(type(tree.op))
        if op is None:
            rewrite = {ast.FloorDiv: "a / b (// is not differentiable)",
                       ast.Mod: "nothing (% is not differentiable)"}.get(type(tree.op))
            self.refuse(f"BinOp '{ast.unparse(tree)}'", rewrite)
            self.visit(tree.left), self.visit(tree.right)
            return None
        left, right = self.visit(tree.left), self.visit(tree.right)
        return self.make(op, [left, right], ast.unparse(tree))

    def visit_Compare(self, tree):
        if len(tree.ops) != 1 or type(tree.ops[0]) not in _COMPARE_OPERATORS:
            self.refuse(f"Compare '{ast.unparse(tree)}'", "one comparison at a time, "
                        "e.g. (a < x) * (x < b)")
            return None
        left, right = self.visit(tree.left), self.visit(tree.comparators[0])
        return self.make(_COMPARE_OPERATORS[type(tree.ops[0])], [left, right],
                         ast.unparse(tree))

    def visit_Subscript(self, tree):
        if isinstance(tree.value, ast.Call) and _numpy_name(tree.value.func) == "linalg.slogdet":
            part = _integer(tree.slice)
            if part not in (0, 1, -1, -2) or len(tree.value.args) != 1 or tree.value.keywords:
                self.refuse(f"'{ast.unparse(tree)}'", "np.linalg.slogdet(A)[1] (log|det A|) "
                            "or [0] (its sign)")
                return None
            argument = self.visit(tree.value.args[0])
            return self.make("logabsdet" if part % 2 else "signdet", [argument],
                             ast.unparse(tree))
        labels = self.labels(tree)
        if labels is not False:
            return labels
        value = self.visit(tree.value)
        key = self.index(tree.slice)
        if value is None or key is None:
            return None
        try:
            shape = np.empty(value.shape, dtype=np.bool_)[key].shape \
                if size_of(value.shape) <= self.limits.max_entries else None
        except (IndexError, TypeError, ValueError) as error:
            self.errors.append(f"{ast.unparse(tree)}: {error} (shape {value.shape})")
            return None
        if shape is None:
            return None
        return self.node("index", (value,), {"key": key}, shape, ast.unparse(tree))

    def labels(self, tree):
        """Z[np.arange(n), y] with integer labels y (declared int(0,k)): each row's entry at
        its label, Σ_j Z ⊙ onehot(y) along the rows; False when the subscript is not one."""
        key = tree.slice
        if not (isinstance(key, ast.Tuple) and len(key.elts) == 2
                and isinstance(key.elts[0], ast.Call)
                and _numpy_name(key.elts[0].func) == "arange"):
            return False
        rows, labels = key.elts
        count = _integer(rows.args[0]) if len(rows.args) == 1 and not rows.keywords else None
        value = self.visit(tree.value)
        if value is None:
            return None
        name = labels.id if isinstance(labels, ast.Name) else None
        if len(value.shape) != 2 or count != value.shape[0] or name not in self.shapes \
                or tuple(self.shapes[name]) != (count,) \
                or self.structures.get(name) != "int":
            self.refuse(f"the subscript '{ast.unparse(tree)}'",
                        f"Z[np.arange(n), y] with Z of shape (n, k), n a number, and y "
                        "declared as integer labels of shape (n,), e.g. --shape "
                        f"y={count or 'n'}:int(0,{value.shape[-1]}) (or a one-hot Y: "
                        "np.sum(Z * Y, axis=1) with --shape Y=nxk:onehot)")
            return None
        source = ast.unparse(tree)
        picked = self.make("onehot", [self.visit(labels)], source, classes=value.shape[1])
        return self.make("sum", [self.make("mul", [value, picked], source)], source, axis=1)

    def index(self, tree):
        """A constant subscript as a Python key, or None (refused)."""
        if isinstance(tree, ast.Tuple):
            parts = [self.index(element) for element in tree.elts]
            return None if any(p is _BAD for p in parts) else tuple(parts)
        if isinstance(tree, ast.Slice):
            bounds = []
            for bound in (tree.lower, tree.upper, tree.step):
                if bound is not None and _integer(bound) is None:
                    self.refuse(f"the slice bound '{ast.unparse(bound)}' (not an integer)")
                    return _BAD
                bounds.append(None if bound is None else _integer(bound))
            return slice(*bounds)
        if isinstance(tree, ast.Constant) and tree.value is None or \
                _numpy_name(tree) == "newaxis":
            return None
        if isinstance(tree, ast.Constant) and tree.value is Ellipsis:
            return Ellipsis
        if _integer(tree) is not None:
            return _integer(tree)
        self.refuse(f"the index '{ast.unparse(tree)}' (not a constant integer)")
        return _BAD

    # -- calls
    def visit_Call(self, tree):
        source = ast.unparse(tree)
        name = _numpy_name(tree.func)
        if name is None and isinstance(tree.func, ast.Attribute) \
                and tree.func.attr in _METHODS and _module_name(tree.func) != "np" \
                and not tree.func.attr.startswith("_"):
            return self.method(tree, source)
        if name is None or name not in NUMPY_FUNCTIONS:
            self.refuse_call(tree, name)  # its arguments are moot: not walked, not reported
            return None
        bad = [k for k in tree.keywords if k.arg is None]
        if bad or any(isinstance(a, ast.Starred) for a in tree.args):
            self.refuse(f"'**' or '*' arguments in '{source}'" if bad else
                        f"Starred arguments in '{source}'")
            return None
        return self.function(name, tree, source)

    def refuse_call(self, tree, name):
        shown = ast.unparse(tree.func)
        if isinstance(tree.func, ast.Name) and tree.func.id in _BUILTIN_REWRITES:
            self.refuse(f"the call {shown}(...)", _BUILTIN_REWRITES[tree.func.id])
        elif name == "linalg.slogdet":
            self.refuse(f"the call {shown}(...) without [1]", "np.linalg.slogdet(A)[1]")
        elif shown.endswith("expit") or shown.endswith("sigmoid"):
            self.refuse(f"the call {shown}(...)", "1 / (1 + np.exp(-z))")
        elif shown.endswith("log_softmax"):
            self.refuse(f"the call {shown}(...)", "z - np.log(np.sum(np.exp(z), axis=-1, "
                        "keepdims=True)) (recognised: its gradient prints softmax)")
        elif shown.endswith("softmax"):
            self.refuse(f"the call {shown}(...)", "np.exp(z) / np.sum(np.exp(z), axis=-1, "
                        "keepdims=True) (recognised: derived forms print softmax(z), "
                        "max-shifted in numpy)")
        elif shown.endswith("logsumexp"):
            self.refuse(f"the call {shown}(...)", "np.log(np.sum(np.exp(z), axis=-1)) "
                        "(recognised: its gradient prints softmax(z))")
        elif shown.endswith("softplus"):
            self.refuse(f"the call {shown}(...)", "np.logaddexp(0, z)")
        elif shown.endswith("relu"):
            self.refuse(f"the call {shown}(...)", "np.maximum(z, 0)")
        elif _module_name(tree.func) in _MODULE_REWRITES and isinstance(tree.func, ast.Attribute):
            self.refuse(f"the call {shown}(...)", f"np.{tree.func.attr}(...) if numpy has it "
                        "(see mcv check --help)")
        else:
            self.refuse(f"the call {shown}(...) (np functions: see --help)")

    def keywords(self, tree, allowed: tuple[str, ...]) -> dict | None:
        values, ok = {}, True
        for keyword in tree.keywords:
            given = f"{keyword.arg}={ast.unparse(keyword.value)}"
            value = self.keyword_value(keyword.arg, keyword.value) \
                if keyword.arg in allowed else _BAD
            if value is _BAD:
                what = ", ".join(f"{k}=" for k in allowed) or "none"
                self.errors.append(f"the keyword argument '{given}' is not allowed "
                                   f"(keywords allowed here: {what}, with constant values)")
                ok = False
            else:
                values[keyword.arg] = value
        return values if ok else None

    def keyword_value(self, name, tree):
        if name == "axis":
            if isinstance(tree, ast.Tuple) and all(_integer(e) is not None for e in tree.elts):
                return tuple(_integer(e) for e in tree.elts)
            return _integer(tree) if _integer(tree) is not None else _BAD
        if name == "ddof":
            count = _integer(tree)
            return count if count is not None and count >= 0 else _BAD
        if name == "keepdims":
            return tree.value if isinstance(tree, ast.Constant) and \
                isinstance(tree.value, bool) else _BAD
        if name == "ord":
            if isinstance(tree, ast.Constant) and tree.value in ("fro", "nuc"):
                return tree.value
            number = _number(tree)
            return _BAD if number is None else (int(number) if number.is_integer() else number)
        return _BAD

    def method(self, tree, source):
        attr, owner = tree.func.attr, tree.func.value
        if attr == "reshape":
            shape_args = tree.args[0].elts if len(tree.args) == 1 and \
                isinstance(tree.args[0], ast.Tuple) else tree.args
            return self.reshape(self.visit(owner), shape_args, source)
        row = _BY_NUMPY[attr]
        if len(tree.args) != row.arity - 1:  # a.dot(b); the others take keywords only
            self.refuse(f"'{source}'", "a.dot(b)") if attr == "dot" else \
                self.refuse(f"the call '{source}'",
                            f"np.{attr}(...) with the array as first argument")
            return None
        keywords = self.keywords(tree, row.keywords)
        operands = [self.visit(owner), *map(self.visit, tree.args)]
        return None if keywords is None else self.make(row.name, operands, source, **keywords)

    def reshape(self, value, shape_args, source):
        sizes = [_integer(a) for a in shape_args]
        if not sizes or None in sizes or value is None:
            if value is not None:
                self.refuse(f"'{source}'", "a.reshape(3, 4) with integer sizes")
            return None
        known = math.prod(s for s in sizes if s != -1)
        if sizes.count(-1) == 1 and known and size_of(value.shape) % known == 0:
            sizes[sizes.index(-1)] = size_of(value.shape) // known
        if size_of(tuple(sizes)) != size_of(value.shape) or min(sizes) < 0:
            self.errors.append(f"{source}: cannot reshape shape {value.shape} into "
                               f"{tuple(sizes)}")
            return None
        return self.make("reshape", [value], source, newshape=tuple(sizes))

    def function(self, name, tree, source):
        args = tree.args
        if name == "linalg.slogdet":  # reached only without a subscript
            self.refuse(f"'{source}' (a pair: sign and log|det|)", "np.linalg.slogdet(A)[1]")
            return None
        if name in ("eye", "ones", "zeros"):
            return self.constant_array(name, tree, source)
        if name == "array":
            return self.array(tree, source)
        if name == "einsum":
            return self.einsum(tree, source)
        if name == "reshape":
            if len(args) != 2:
                self.refuse(f"'{source}'", "np.reshape(a, (3, 4))")
                return None
            shape_args = args[1].elts if isinstance(args[1], ast.Tuple) else [args[1]]
            return self.reshape(self.visit(args[0]), shape_args, source)
        if name == "inner":
            left, right = map(self.visit, args) if len(args) == 2 else (None, None)
            if left is not None and right is not None and (len(left.shape) > 1
                                                           or len(right.shape) > 1):
                self.refuse(f"np.inner of arrays with more than one axis in '{source}'",
                            "a @ b.T or np.einsum")
                return None
            return self.make("dot", [left, right], source)
        if name == "transpose" and len(args) > 1:
            self.refuse(f"np.transpose with axes in '{source}'", "np.einsum('ijk->kji', a)")
            return None
        row = _BY_NUMPY[name]
        if row.positional and 2 <= len(args) <= 1 + len(row.positional):  # np.sum(x, 0)
            extra = [ast.keyword(k, v) for k, v in zip(row.positional, args[1:])]
            tree = ast.Call(tree.func, args[:1], [*extra, *tree.keywords])
            args = tree.args
        if len(args) != row.arity:
            self.refuse(f"'{source}' with {len(args)} arguments",
                        f"np.{name} with {row.arity} argument{'s' * (row.arity > 1)}")
            return None
        keywords = self.keywords(tree, row.keywords)
        operands = [self.visit(a) for a in args]
        if keywords is None:
            return None
        return self.make(row.name, operands, source, **keywords)

    def constant_array(self, op, tree, source):
        sizes = [_integer(a) for a in (tree.args[0].elts if tree.args and isinstance(
            tree.args[0], ast.Tuple) else tree.args)]
        if op == "eye" and len(sizes) == 1:
            sizes = sizes * 2
        if not sizes or None in sizes or tree.keywords or min(sizes) < 1 \
                or (op == "eye" and len(tree.args) != 1):
            if op == "eye":
                self.errors.append(f"'{source}' is not allowed (np.eye takes one integer "
                                   f"size, 1 to {math.isqrt(self.limits.max_entries)})")
            else:
                self.refuse(f"'{source}'", f"np.{op}((3, 4)) with integer sizes")
            return None
        return self.node(op, (), {"shape": tuple(sizes)}, tuple(sizes), source)

    def array(self, tree, source):
        if len(tree.args) != 1 or tree.keywords or not isinstance(tree.args[0], (ast.List,
                                                                                 ast.Tuple)):
            self.refuse(f"'{source}'", "np.array([a, b, ...]) of expressions")
            return None
        items = [self.array(ast.Call(tree.func, [e], []), ast.unparse(e))
                 if isinstance(e, (ast.List, ast.Tuple)) else self.visit(e)
                 for e in tree.args[0].elts]
        if not items or any(i is None for i in items):
            if not items:
                self.refuse(f"the empty array '{source}'")
            return None
        if len({i.shape for i in items}) != 1:
            self.errors.append(f"{source}: the entries have different shapes "
                               f"{[i.shape for i in items]}")
            return None
        return self.node("stack", tuple(items), {}, (len(items), *items[0].shape), source)

    def einsum(self, tree, source):
        if not tree.args or not isinstance(tree.args[0], ast.Constant) \
                or not isinstance(tree.args[0].value, str) or tree.keywords:
            self.refuse(f"'{source}'", "np.einsum('ij,jk->ik', A, B) with constant subscripts")
            return None
        subscripts = tree.args[0].value.replace(" ", "")
        operands = [self.visit(a) for a in tree.args[1:]]
        inputs, arrow, output = subscripts.partition("->")
        terms = inputs.split(",")
        letters = "".join(terms)
        if not all(c.isalpha() for c in letters + output) or len(terms) != len(operands) \
                or len(set(output)) != len(output) or not set(output) <= set(letters):
            self.errors.append(f"{source}: the subscripts '{subscripts}' do not fit "
                               f"{len(operands)} operands (letters only, one term per "
                               "operand, the output's letters among the inputs')")
            return None
        if not arrow:  # numpy's implicit output: the letters that occur once, sorted
            output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
        if any(o is None for o in operands):
            return None
        for term, operand in zip(terms, operands):
            if len(term) != len(operand.shape):
                self.errors.append(f"{source}: the term '{term}' has {len(term)} indices but "
                                   f"its operand has shape {operand.shape}")
                return None
        return self.make("einsum", operands, source, subscripts=f"{inputs}->{output}")


_BAD = object()


def _precedence_hint(op, args, source) -> str:
    if op == "matmul" and any(a.shape == () for a in args):
        return (". Note that @ binds like * and /: 'W @ 1/(1 + np.exp(-Z))' means "
                "'(W @ 1)/(1 + np.exp(-Z))'; write 'W @ (1/(1 + np.exp(-Z)))'")
    return ""


def _work(op, args, shape, attrs) -> int:
    """Multiply-adds of one evaluation of the node (an estimate from the shapes)."""
    if op in LEAVES:
        return size_of(shape)
    return RULES[op].cost([a.shape for a in args], shape, attrs)


# ---------------------------------------------------------------------------- evaluating

_EVALUATION_ERRORS = (ArithmeticError, ValueError, TypeError, IndexError, MemoryError,
                      np.linalg.LinAlgError, RecursionError)


def evaluate(node: Node, values: dict[str, np.ndarray]):
    """Evaluate a parsed tree at ``values``; raise :class:`EvaluationError` in plain words
    when numpy cannot (a singular matrix, memory)."""
    memo: dict[int, object] = {}
    try:
        with np.errstate(all="ignore"):  # overflow shows up as a non-finite value
            return _evaluate(node, values, memo)
    except np.linalg.LinAlgError as error:
        raise EvaluationError(f"linear algebra failed at this point ({error}): a singular "
                              "or not positive definite matrix? Declare it, e.g. "
                              "--shape A=4x4:spd") from None
    except MemoryError:
        raise EvaluationError("out of memory while evaluating (lower the sizes, or raise "
                              "--max-memory)") from None
    except _EVALUATION_ERRORS as error:
        raise EvaluationError(str(error)) from None


def _evaluate(node: Node, values, memo, exact: bool = False):
    key = id(node)
    if key in memo:
        return memo[key]
    if node.op in LEAVES:
        result = LEAVES[node.op].evaluate(node.attrs, values)
    else:
        operands = [_evaluate(a, values, memo, exact) for a in node.args]
        row = RULES[node.op]
        function = row.sympy if exact and row.sympy else row.evaluate
        result = function(*operands, **node.attrs)
        if exact and np.ndim(result) == 0 and isinstance(result, np.ndarray):
            result = result[()]  # the sympy expression itself: sympify makes a 0-d Array
    memo[key] = result
    return result


def evaluate_exact(node: Node, values: dict):
    """Evaluate at arrays of sympy expressions, with each row's sympy form where numpy
    cannot take sympy through (exp, det, inv, ...). Raises whatever sympy or numpy raises
    (:mod:`mcv.prove` reports it as "not available")."""
    return _evaluate(node, values, {}, exact=True)
