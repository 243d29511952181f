"""Check your own gradient from the shell: ``python chapters/checks.py --help``.

    python chapters/checks.py --loss "np.sum((W @ u - v)**2)" --wrt W \\
        --claim "2 * np.outer(W @ u - v, u)" --shape W=3x4 --shape u=4 --shape v=3

Every declared variable gets random values (``--seed``); each ``--wrt``/``--claim`` pair is
checked with :func:`checks.check_gradient`. Exit code: 0 every claim verified, 1 a claim is
wrong (or no gradient exists at the point), 2 bad usage.

Expressions are parsed, never passed to ``eval``: a small evaluator walks the syntax tree and
knows only numbers, the declared variables, ``np.<function>`` from :data:`NUMPY_FUNCTIONS`,
``.T``, ``+ - * / ** @`` and unary minus. Anything else (imports, other names, other
attributes, dunders, lambdas, comprehensions, subscripts, strings) is refused with a message
that names it, before anything is computed.
"""

from __future__ import annotations

import argparse
import ast
import operator
import re
import sys

import numpy as np

from checks import check_gradient

NUMPY_FUNCTIONS = {
    "sum", "exp", "log", "log1p", "sqrt", "abs", "sign", "tanh", "sinh", "cosh", "sin", "cos",
    "trace", "outer", "dot", "maximum", "minimum", "ones_like", "zeros_like", "eye", "kron",
    "diag", "linalg.norm", "linalg.inv", "linalg.det",
}
BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
          ast.Div: operator.truediv, ast.Pow: operator.pow, ast.MatMult: operator.matmul}
UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
MAX_LENGTH = 2000


class UsageError(Exception):
    """Bad command-line input: reported with exit code 2."""


def parse(text: str, names: set[str], what: str) -> ast.expr:
    """Parse and validate an expression; raise UsageError naming the first refused part."""
    if len(text) > MAX_LENGTH:
        raise UsageError(f"{what} is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text, mode="eval").body
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


def _validate(node: ast.expr, names: set[str], what: str) -> None:
    refuse = lambda part: UsageError(f"{what}: {part} is not allowed "
                                     f"(only numbers, the declared variables, np functions, "
                                     f".T, + - * / ** @)")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise refuse(f"the constant {node.value!r}")
    elif isinstance(node, ast.Name):
        if node.id not in names:
            raise UsageError(f"{what}: the name {node.id!r} is not a declared variable "
                             f"(declared: {', '.join(sorted(names)) or 'none'}; declare "
                             f"variables with --shape NAME=3x4)")
    elif isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        _validate(node.left, names, what)
        _validate(node.right, names, what)
    elif isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
        _validate(node.operand, names, what)
    elif isinstance(node, ast.Attribute):
        if node.attr != "T":
            raise refuse(f"the attribute '.{node.attr}'")
        _validate(node.value, names, what)
    elif isinstance(node, ast.Call):
        function = _numpy_function(node.func)
        if function not in NUMPY_FUNCTIONS:
            raise refuse(f"the call {ast.unparse(node.func)}(...)")
        for keyword in node.keywords:
            if keyword.arg != "axis":
                raise refuse(f"the keyword argument {keyword.arg!r}")
            _validate(keyword.value, names, what)
        for argument in node.args:
            _validate(argument, names, what)
    else:
        raise refuse(f"{type(node).__name__.lower()} '{ast.unparse(node)}'")


def evaluate(node: ast.expr, values: dict[str, np.ndarray]):
    """Evaluate a validated expression (see parse) with the given variable values."""
    if isinstance(node, ast.Constant):
        return float(node.value)  # floats: 10**10**10 overflows at once instead of hanging
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.BinOp):
        return BINARY[type(node.op)](evaluate(node.left, values), evaluate(node.right, values))
    if isinstance(node, ast.UnaryOp):
        return UNARY[type(node.op)](evaluate(node.operand, values))
    if isinstance(node, ast.Attribute):
        return evaluate(node.value, values).T
    function = np
    for part in _numpy_function(node.func).split("."):
        function = getattr(function, part)
    arguments = [evaluate(argument, values) for argument in node.args]
    keywords = {k.arg: int(evaluate(k.value, values)) for k in node.keywords}
    if function is np.eye:
        arguments = [int(a) for a in arguments]
    return function(*arguments, **keywords)


def _shape(text: str) -> tuple[str, tuple[int, ...]]:
    match = re.fullmatch(r"([A-Za-z_]\w*)=(\d+(?:x\d+)*)", text)
    if not match or match.group(1) == "np":
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=SHAPE, e.g. W=3x4 or u=4")
    shape = tuple(int(size) for size in match.group(2).split("x"))
    if 0 in shape or len(shape) > 2:
        raise argparse.ArgumentTypeError(f"{text!r}: a shape is one or two positive sizes")
    return match.group(1), shape


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python chapters/checks.py",
        description="Check a claimed gradient against numeric differences of the loss.")
    parser.add_argument("--loss", required=True, help='the loss, e.g. "np.sum((W @ u - v)**2)"')
    parser.add_argument("--wrt", action="append", required=True,
                        help="the variable to differentiate by (repeat with --claim)")
    parser.add_argument("--claim", action="append", required=True,
                        help="the claimed gradient for the matching --wrt")
    parser.add_argument("--shape", action="append", type=_shape, default=[],
                        help="declare a variable and its shape: W=3x4, u=4")
    parser.add_argument("--seed", type=int, default=0, help="seeds the random point")
    parser.add_argument("--rtol", type=float, default=None, help="tolerance (default: checks.py's)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    try:
        shapes = dict(arguments.shape)
        if len(arguments.wrt) != len(arguments.claim):
            raise UsageError(f"{len(arguments.wrt)} --wrt but {len(arguments.claim)} --claim: "
                             "give one --claim for each --wrt")
        loss = parse(arguments.loss, set(shapes), "--loss")
        claims = [parse(text, set(shapes), f"--claim for {name}")
                  for name, text in zip(arguments.wrt, arguments.claim)]
        for name in arguments.wrt:
            if name not in shapes:
                raise UsageError(f"--wrt {name}: {name!r} has no --shape")
        rng = np.random.default_rng(arguments.seed)
        point = {name: rng.standard_normal(shape) for name, shape in sorted(shapes.items())}
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    wrong = False
    for name, claim in zip(arguments.wrt, claims):
        def at(value, tree, name=name):
            return evaluate(tree, {**point, name: value})
        try:
            report = check_gradient(lambda v: at(v, loss), lambda v: at(v, claim), point[name],
                                    rtol=arguments.rtol, seed=arguments.seed)
        except (TypeError, ValueError, ArithmeticError) as error:
            print(f"error: checking {name}: {error}", file=sys.stderr)
            return 2
        print(f"d(loss)/d{name}, {name} of shape {point[name].shape}: {report}")
        if not report.ok:
            wrong = True
            if report.numeric is not None and report.claimed.shape == report.numeric.shape:
                print("  numeric gradient:\n" + _indent(report.numeric))
                print("  claimed gradient:\n" + _indent(report.claimed))
    return 1 if wrong else 0


def _indent(array: np.ndarray) -> str:
    return "\n".join("    " + line for line in np.array2string(array, precision=6).splitlines())


if __name__ == "__main__":
    raise SystemExit(main())
