"""The safe expression language: numpy-style text parsed, validated and evaluated.

Expressions are parsed, never run as Python. :func:`parse` turns the text into a syntax tree
with ``ast.parse`` and walks all of it against an allow-list: numbers, the declared variables,
calls ``np.<name>`` with ``name`` in :data:`NUMPY_FUNCTIONS`, ``.T``, ``+ - * / **``, ``@``,
unary minus and subscripts with constant indices (``u[0]``, ``b[:, None]``). Anything else
(other names, other attributes, dunders, imports, lambdas, comprehensions, strings, keyword
arguments other than an integer ``axis``) is refused with a message that names the part,
before anything is computed. :func:`evaluate` then walks the validated tree itself.

Why a small evaluator, and not ``eval`` of the validated tree with empty ``__builtins__``: an
evaluator can only do what its few branches do, so safety does not rest on the allow-list
being complete *and* on the sandbox holding; ``eval`` with ``{"__builtins__": {}}`` is a known
escape route (attribute chains reach ``object.__subclasses__()``), and one missed node type in
the validator would hand it over.
"""


from __future__ import annotations

__all__ = ["parse", "evaluate", "UsageError", "NUMPY_FUNCTIONS", "ALLOWED"]

import ast
import operator

import numpy as np


#: The numpy functions an expression may call (``np.linalg.norm`` is written in full).
NUMPY_FUNCTIONS = frozenset({
    "sum", "mean", "prod", "max", "min", "abs", "sign", "sqrt", "square", "exp", "expm1",
    "log", "log1p", "sin", "cos", "tan", "sinh", "cosh", "tanh", "arctan", "maximum",
    "minimum", "trace", "diag", "outer", "dot", "inner", "transpose", "ones_like",
    "zeros_like", "eye", "linalg.norm", "linalg.inv", "linalg.det", "linalg.slogdet",
})
BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
          ast.Div: operator.truediv, ast.Pow: operator.pow, ast.MatMult: operator.matmul}
UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
MAX_LENGTH = 2000      # characters in one expression
MAX_ENTRIES = 10_000   # entries in one declared variable
MAX_EYE = 1000         # the largest np.eye(n)
EVALUATION_ERRORS = (TypeError, ValueError, ArithmeticError, IndexError)
ALLOWED = ("numbers, the declared variables, np.<function> calls, .T, + - * / ** @, "
           "unary minus and constant subscripts")


class UsageError(Exception):
    """Bad command-line input: reported on stderr with exit code 2."""


# ------------------------------------------------------------------------------ parsing

def parse(text: str, names: set[str], what: str) -> ast.expr:
    """Parse and validate an expression; raise UsageError naming the first refused part."""
    if len(text) > MAX_LENGTH:
        raise UsageError(f"{what} is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as error:
        raise UsageError(f"{what} is not a valid expression: {error.msg}") from None
    _validate(tree, names, what)
    return tree


def _numpy_function(node: ast.expr) -> str | None:
    """'linalg.norm' for the node np.linalg.norm, 'sum' for np.sum, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id == "np" and parts:
        return ".".join(reversed(parts))
    return None


def _refused(what: str, part: str) -> UsageError:
    return UsageError(f"{what}: {part} is not allowed (only {ALLOWED})")


def _integer(node: ast.expr) -> int | None:
    """The value of an integer literal, possibly negated; None for anything else."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _integer(node.operand)
        return None if value is None else -value
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def _validate_index(node: ast.expr, what: str) -> None:
    """Subscripts: integers, slices of integers, None (a new axis), tuples of these."""
    if isinstance(node, ast.Tuple):
        for element in node.elts:
            _validate_index(element, what)
    elif isinstance(node, ast.Slice):
        for bound in (node.lower, node.upper, node.step):
            if bound is not None and _integer(bound) is None:
                raise _refused(what, f"the slice bound '{ast.unparse(bound)}' (not an integer)")
    elif not (_integer(node) is not None
              or isinstance(node, ast.Constant) and node.value is None):
        raise _refused(what, f"the index '{ast.unparse(node)}' (not a constant integer)")


def _validate(node: ast.expr, names: set[str], what: str) -> None:
    if isinstance(node, ast.Constant):
        if type(node.value) not in (int, float):  # bool, complex, str, bytes, None, ...
            raise _refused(what, f"the constant {node.value!r}")
    elif isinstance(node, ast.Name):
        if node.id not in names:
            raise UsageError(f"{what}: the name {node.id!r} is not a declared variable "
                             f"(declared: {', '.join(sorted(names)) or 'none'}; declare "
                             "a variable with --shape NAME=3x4, call numpy as np.NAME(...))")
    elif isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        _validate(node.left, names, what)
        _validate(node.right, names, what)
    elif isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
        _validate(node.operand, names, what)
    elif isinstance(node, ast.Attribute):
        if node.attr != "T":
            raise _refused(what, f"the attribute '.{node.attr}'")
        _validate(node.value, names, what)
    elif isinstance(node, ast.Subscript):
        _validate(node.value, names, what)
        _validate_index(node.slice, what)
    elif isinstance(node, ast.Call):
        _validate_call(node, names, what)
    else:
        kind = {ast.ListComp: "a list comprehension", ast.SetComp: "a set comprehension",
                ast.DictComp: "a dict comprehension", ast.GeneratorExp: "a generator",
                ast.Lambda: "a lambda"}.get(type(node), type(node).__name__)
        raise _refused(what, f"{kind} '{ast.unparse(node)}'")


def _validate_call(node: ast.Call, names: set[str], what: str) -> None:
    function = _numpy_function(node.func)
    if function not in NUMPY_FUNCTIONS:
        raise _refused(what, f"the call {ast.unparse(node.func)}(...) (np functions: see "
                       "--help)")
    for keyword in node.keywords:
        if keyword.arg != "axis" or _integer(keyword.value) is None:
            given = "**" if keyword.arg is None else f"{keyword.arg}="
            raise _refused(what, f"the keyword argument '{given}{ast.unparse(keyword.value)}' "
                           "(only axis=<integer>)")
    if function == "eye":
        size = _integer(node.args[0]) if len(node.args) == 1 else None
        if size is None or not 0 < size <= MAX_EYE:
            raise _refused(what, f"'{ast.unparse(node)}' (np.eye takes one integer size, "
                           f"1 to {MAX_EYE})")
        return
    for argument in node.args:
        _validate(argument, names, what)


# ---------------------------------------------------------------------------- evaluating

def evaluate(node: ast.expr, values: dict[str, np.ndarray]):
    """Evaluate a tree that :func:`parse` validated, with the given variable values."""
    if isinstance(node, ast.Constant):
        return float(node.value)  # floats: 10**10**10 overflows at once instead of hanging
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.BinOp):
        return BINARY[type(node.op)](evaluate(node.left, values), evaluate(node.right, values))
    if isinstance(node, ast.UnaryOp):
        return UNARY[type(node.op)](evaluate(node.operand, values))
    if isinstance(node, ast.Attribute):  # .T, the only attribute parse lets through
        return evaluate(node.value, values).T
    if isinstance(node, ast.Subscript):
        return evaluate(node.value, values)[_index(node.slice)]
    function = np
    for part in _numpy_function(node.func).split("."):
        function = getattr(function, part)
    if function is np.eye:
        return np.eye(_integer(node.args[0]))
    arguments = [evaluate(argument, values) for argument in node.args]
    return function(*arguments, **{k.arg: _integer(k.value) for k in node.keywords})


def _index(node: ast.expr):
    if isinstance(node, ast.Tuple):
        return tuple(_index(element) for element in node.elts)
    if isinstance(node, ast.Slice):
        return slice(*(None if bound is None else _integer(bound)
                       for bound in (node.lower, node.upper, node.step)))
    return None if isinstance(node, ast.Constant) and node.value is None else _integer(node)
