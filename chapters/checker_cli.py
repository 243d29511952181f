"""Check your own gradient from the shell: ``python chapters/checks.py --help``.

    python chapters/checks.py --loss "np.sum((W @ u - v)**2)" --wrt W \\
        --claim "2 * np.outer(W @ u - v, u)" --shape W=3x4 --shape u=4 --shape v=3

Every declared variable gets random values (``--seed``); each ``--wrt``/``--claim`` pair is
checked with :func:`checks.check_gradient` at that point. For each pair it prints the verdict,
the error figure, the method and the diagnosis, and for a rejected claim the numeric gradient
beside the claim. Exit code: 0 every claim verified, 1 a claim rejected (or no gradient exists
at the point), 2 bad usage.

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
the validator would hand it over. The price is about forty lines.
"""

from __future__ import annotations

import argparse
import ast
import operator
import re
import sys

import numpy as np

from checks import check_gradient

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


# ------------------------------------------------------------------------- command line

def _shape(text: str) -> tuple[str, tuple[int, ...]]:
    match = re.fullmatch(r"([A-Za-z_]\w*)=(\d+(?:x\d+)?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=SHAPE, e.g. W=3x4 or u=4 "
                                         "(a vector or a matrix)")
    name, shape = match.group(1), tuple(int(size) for size in match.group(2).split("x"))
    if name == "np" or name.startswith("__"):
        raise argparse.ArgumentTypeError(f"{text!r}: {name!r} cannot be a variable name")
    if 0 in shape or np.prod(shape) > MAX_ENTRIES:
        raise argparse.ArgumentTypeError(f"{text!r}: sizes must be positive, with at most "
                                         f"{MAX_ENTRIES} entries")
    return name, shape


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python chapters/checks.py",
        description="Check a claimed gradient against numeric differences of the loss, at a "
                    "random point. Exit code 0: verified, 1: a claim is wrong, 2: bad usage.",
        epilog="expressions may use " + ALLOWED + "; the np functions: "
               + ", ".join(sorted(NUMPY_FUNCTIONS)) + ' (keyword: axis=<integer>). Example: '
               'python chapters/checks.py --loss "np.sum((W @ u - v)**2)" --wrt W '
               '--claim "2 * np.outer(W @ u - v, u)" --shape W=3x4 --shape u=4 --shape v=3')
    parser.add_argument("--loss", required=True, help='the loss, e.g. "np.sum((W @ u - v)**2)"')
    parser.add_argument("--wrt", action="append", required=True, metavar="NAME",
                        help="a variable to differentiate by; repeat, with one --claim each")
    parser.add_argument("--claim", action="append", required=True, metavar="EXPRESSION",
                        help="the claimed gradient for the --wrt of the same position")
    parser.add_argument("--shape", action="append", type=_shape, default=[],
                        metavar="NAME=SHAPE", help="declare a variable: W=3x4, u=4")
    parser.add_argument("--seed", type=int, default=0, help="seeds the random point (0)")
    parser.add_argument("--rtol", type=float, default=None,
                        help="the tolerance (default: checks.py's for the method)")
    parser.add_argument("--method", default="auto",
                        choices=["auto", "complex-step", "central-difference"])
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the checker on ``argv`` (default: the command line); return the exit code."""
    try:
        arguments = _parser().parse_args(argv)
    except SystemExit as stop:  # argparse printed the usage or --help
        return int(stop.code or 0)
    try:
        shapes = dict(arguments.shape)
        if len(arguments.wrt) != len(arguments.claim):
            raise UsageError(f"{len(arguments.wrt)} --wrt but {len(arguments.claim)} --claim: "
                             "give one --claim for each --wrt")
        for name in arguments.wrt:
            if name not in shapes:
                raise UsageError(f"--wrt {name}: {name!r} has no --shape")
        loss = parse(arguments.loss, set(shapes), "--loss")
        claims = [parse(text, set(shapes), f"--claim for {name}")
                  for name, text in zip(arguments.wrt, arguments.claim)]
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    rng = np.random.default_rng(arguments.seed)
    point = {name: rng.standard_normal(shape) for name, shape in sorted(shapes.items())}
    print(f"random point (seed {arguments.seed}): "
          + ", ".join(f"{name} {'x'.join(map(str, shape))}" for name, shape in shapes.items()))
    rejected = False
    for name, claim in zip(arguments.wrt, claims):
        def at(value, tree, name=name):
            with np.errstate(all="ignore"):  # overflow shows up as a non-finite value
                return evaluate(tree, {**point, name: value})
        try:
            at(point[name], loss)
        except EVALUATION_ERRORS as error:
            print(f"error: --loss cannot be computed: {error}", file=sys.stderr)
            return 2
        try:
            at(point[name], claim)
        except EVALUATION_ERRORS as error:  # e.g. a product of non-conforming shapes
            print(f"gradient in {name}: REJECTED: the claim cannot be computed at these shapes "
                  f"({error}); a product in the wrong order, or a transpose missing?")
            rejected = True
            continue
        try:
            report = check_gradient(lambda v: at(v, loss), lambda v: at(v, claim), point[name],
                                    rtol=arguments.rtol, method=arguments.method,
                                    seed=arguments.seed)
        except EVALUATION_ERRORS as error:
            print(f"error: checking the gradient in {name}: {error}", file=sys.stderr)
            return 2
        print(f"gradient in {name}: {report}")
        if not report.ok:
            rejected = True
            if report.numeric is not None:
                print(_side_by_side(report.numeric, report.claimed))
    return 1 if rejected else 0


def _side_by_side(numeric: np.ndarray, claimed: np.ndarray) -> str:
    """The numeric gradient and the claim as two columns of text, rounded to 4 decimals."""
    def lines(array):
        array = np.round(np.atleast_1d(array).astype(float), 4) + 0.0  # no "-0.0000"
        if array.ndim == 1:  # a vector reads best as a column
            return [f"{value: .4f}" for value in array]
        return np.array2string(array, precision=4, floatmode="fixed").splitlines()
    left, right = lines(numeric), lines(claimed)
    width = max(len(line) for line in left + ["numeric gradient"])
    rows = [f"  {'numeric gradient':<{width}}   claimed, shape {claimed.shape}"]
    for k in range(max(len(left), len(right))):
        a = left[k] if k < len(left) else ""
        b = right[k] if k < len(right) else ""
        rows.append(f"  {a:<{width}}   {b}".rstrip())
    return "\n".join(rows)


if __name__ == "__main__":
    raise SystemExit(main())
