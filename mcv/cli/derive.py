"""``mcv derive``: derive the gradient of your loss, show the steps, and prove it first.

    mcv derive --loss "np.sum((W @ u - v)**2)" --wrt W --shape W=3x4 --shape u=4 --shape v=3

prints the gradient in matrix notation (the parameter's shape), as numpy code that
``mcv check`` accepts as a claim, and the evidence: the derived gradient checked with
:func:`mcv.check_gradient` at several random points that satisfy the declarations and, where
sympy can expand the loss at the declared sizes, compared with sympy entry by entry. A result
that fails its own check is never printed as an answer: exit code 3 says the engine failed
(a bug to report) and shows the evidence. Exit codes: 0 derived and proved, 2 bad usage or
an operation with no rule, 3 the engine failed its own check.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from mcv import __version__
from mcv.cli.guard import guarded, limits_from
from mcv.cli.problem import _load_value, add_data_arguments, problem_from
from mcv.derive import NoRule, gradients, hessian_map, named, show, size, steps
from mcv.expr import UsageError
from mcv.problem import Problem
from mcv.prove import hessian_matrix, prove, prove_hessian
from mcv.rules import operations_help
from mcv.jacobians import LAYOUTS, MapProblem, derive_jacobian

__all__ = ["add_parser", "run"]

def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "derive", help="derive a gradient in matrix notation, with steps, proved",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Derive the gradient of a scalar loss by reverse mode on its expression, "
                    "simplify it, and prove it (numeric check at random points, exact sympy "
                    "comparison where possible) before printing. For a vector or matrix "
                    "expression (--of), derive its differential by forward mode and its "
                    "Jacobian matrix d vec F / d (vec X)' in closed form (Kronecker products, "
                    "the commutation matrix K, diag(vec .)), proved the same way, in either "
                    "layout (--layout). Exit code 0: derived and "
                    "proved, 2: bad usage or no rule for an operation, 3: the engine failed "
                    "its own check (a bug: please report it).",
        epilog='example:\n  mcv derive --loss "np.sum((W @ u - v)**2)" --wrt W '
               "--shape W=3x4 --shape u=4 --shape v=3 --steps\n"
               '  mcv derive --of "np.linalg.inv(X)" --wrt X --shape X=3x3 --layout '
               "denominator --json\n\n"
               + operations_help())
    parser.add_argument("--loss", "--of", dest="loss", required=True,
                        help='the loss, e.g. "np.sum((W @ u - v)**2)"; or a vector or matrix '
                             'expression, e.g. "np.linalg.inv(X)": then its differential and '
                             "its Jacobian matrix d vec F / d (vec X)' are derived and proved")
    parser.add_argument("--wrt", action="append", required=True, metavar="NAME",
                        help="a variable to differentiate by; repeat for several")
    add_data_arguments(parser)
    parser.set_defaults(points=3)
    parser.add_argument("--steps", action="store_true", help="show the derivation, node by node")
    parser.add_argument("--latex", action="store_true", help="also print LaTeX")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--hessian", action="store_true",
                        help="also the Hessian as a linear map dX -> H[dX], proved with "
                             "check_hessian (and its vec matrix at small sizes)")
    parser.add_argument("--layout", choices=LAYOUTS, default="numerator",
                        help="for a vector or matrix expression: print the Jacobian in "
                             "numerator layout (d vec F / d (vec X)', a row per entry of F: "
                             "the book's) or denominator layout (its transpose)")
    parser.add_argument("--emit", choices=["numpy"], help="print a Python function returning "
                        "(loss, gradients) and a pytest test of it")
    parser.set_defaults(run=run)
    return parser


def run(arguments: argparse.Namespace) -> int:
    return guarded(arguments, _run)


def _run(arguments: argparse.Namespace) -> int:
    arguments.claim = []
    if _is_map(arguments):
        return _run_jacobian(arguments)
    problem = problem_from(arguments)
    names = list(dict.fromkeys(arguments.wrt))
    declarations = [problem.wrt(name) for name in names]
    try:
        derived = gradients(problem.loss, names, problem.shapes)
    except NoRule as missing:
        raise UsageError(f"mcv derive cannot differentiate this loss: {missing}") from None
    seeds = list(range(arguments.seed, arguments.seed + max(arguments.points, 1)))
    results = {}
    for declaration in declarations:
        name, gradient = declaration.name, derived[declaration.name]
        points = [(seed, problem.point(seed)) for seed in seeds]
        for _, point in points:
            problem.require_finite_loss(point)
        results[name] = {"math": named(gradient, lets=problem.lets),
                         "numpy": show(gradient, "numpy"),
                         "latex": show(gradient, "latex"), "operations": size(gradient),
                         "points": seeds,
                         **prove(problem.loss, name, gradient, points, declaration.structure,
                                 values_fixed=bool(problem.values))}
        if arguments.steps or arguments.json:
            results[name]["steps"] = steps(problem.loss, name)
        if arguments.hessian:
            results[name]["hessian"] = _hessian(problem, name, gradient, points)
    failed = [n for n, r in results.items() if not r["verified"]
              or not r.get("hessian", {"verified": True})["verified"]]
    if arguments.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    elif arguments.emit and not failed:
        print(_emit(problem, arguments, results))
    else:
        _print(problem, results, arguments)
    if failed:
        print(f"engine failed: the derived gradient in {', '.join(failed)} did not pass its own "
              "check. This is a bug in mcv derive; the evidence is above. Nothing was printed "
              "as an answer.")
        return 3
    return 0


#: The vec matrix of the Hessian is printed up to this many entries of the variable.
HESSIAN_MATRIX_MAX = 12


def _hessian(problem: Problem, name: str, gradient, points) -> dict:
    direction = "d" + name
    while direction in problem.shapes:
        direction += "_"
    try:
        hmap = hessian_map(problem.loss, name, direction, problem.shapes)
    except NoRule as missing:
        raise UsageError(f"mcv derive cannot give the Hessian: {missing}") from None
    result = {"direction": direction, "math": show(hmap), "numpy": show(hmap, "numpy"),
              "latex": show(hmap, "latex"),
              **prove_hessian(gradient, hmap, name, direction, points)}
    if int(np.prod(problem.shapes[name])) <= HESSIAN_MATRIX_MAX:
        seed, point = points[0]
        result["vec_matrix"] = np.round(hessian_matrix(hmap, name, direction, point),
                                        6).tolist()
        result["vec_matrix_seed"] = seed
    return result


def _print(problem: Problem, results: dict, arguments) -> None:
    for name, r in results.items():
        shape = "x".join(map(str, problem.shapes[name])) or "scalar"
        print(f"gradient in {name} ({shape}):" if r["verified"] else
              f"gradient in {name} ({shape}): NOT PROVED, not an answer:")
        print(f"  {r['math']}")
        print(f"  numpy: {r['numpy']}")
        if arguments.latex:
            print(f"  latex: {r['latex']}")
        if r["verified"]:
            print(f"  proved: verified at {len(r['points'])} random points ({r['method']}, "
                  f"max relative error {r['max_rel_error']:.1e}); exact: sympy {r['exact']}")
        else:
            print(f"  evidence: {r['evidence']}")
        if r.get("convention"):
            print(f"  note: {r['convention']}")
        h = r.get("hessian")
        if h:
            print(f"  Hessian, as a map: H[{h['direction']}] = {h['math']}")
            print(f"    numpy: {h['numpy']}")
            print(f"    proved: {'verified with check_hessian at ' + str(len(r['points'])) + ' points (' + str(h['method']) + ')' if h['verified'] else 'NOT PROVED: ' + str(h['evidence'])}")
            if "vec_matrix" in h:
                print(f"    as a matrix (vec order, columns stacked), at seed {h['vec_matrix_seed']}:")
                matrix = np.array(h["vec_matrix"]) + 0.0
                print("\n".join("      " + line for line in
                                np.array2string(matrix, precision=4, suppress_small=True,
                                                max_line_width=100).splitlines()))
        if arguments.steps:
            print("  derivation (reverse mode: dL = ⟨N̄, dN⟩ for each node N, from L down):")
            print("\n".join(f"    {line}" for line in r["steps"]))


def _emit(problem: Problem, arguments, results: dict) -> str:
    variables = list(problem.shapes)
    signature = ", ".join(variables)
    lines = ["import numpy as np", "", "",
             f"def loss_and_gradient({signature}):",
             f'    """The loss and its gradient in {", ".join(results)} (derived and proved by '
             f'mcv {__version__})."""',
             f"    loss = {show(problem.loss, 'numpy')}"]
    for name, r in results.items():
        lines.append(f"    grad_{name} = {r['numpy']}")
    lines.append("    return loss, " + ", ".join(f"grad_{n}" for n in results))
    lines += ["", "", "def test_loss_and_gradient():",
              "    from mcv import assert_gradient",
              "    from mcv.declare import draw, parse_declaration",
              f"    rng = np.random.default_rng({arguments.seed})"]
    for n, declaration in sorted(problem.declarations.items()):
        text = f"{n}={'x'.join(map(str, declaration.shape))}"
        if declaration.structure != "general":
            text += f":{declaration.structure}"
            if declaration.options:
                text += "(" + ",".join(f"{k}={v}" if declaration.structure == "spd" else
                                       str(v) for k, v in declaration.options) + ")"
        lines.append(f'    {n} = draw(parse_declaration("{text}"), rng)')
    for k, name in enumerate(results, start=1):
        others = ", ".join(v if v != name else "x" for v in variables)
        lines.append(f"    assert_gradient(lambda x: loss_and_gradient({others})[0],")
        lines.append(f"                    lambda x: loss_and_gradient({others})[{k}], {name})")
    return "\n".join(lines)


# ----------------------------------------------------------- vector and matrix expressions

def _is_map(arguments) -> bool:
    """True when --of is a vector or matrix (its Jacobian is derived, not a gradient)."""
    problem = MapProblem(arguments.loss, arguments.shape, limits=limits_from(arguments),
                         values=dict(_load_value(text) for text in arguments.value),
                         lets=arguments.let, what="--loss")
    return problem.loss.shape not in ((), (1,))


def _run_jacobian(arguments: argparse.Namespace) -> int:
    if arguments.hessian or arguments.emit:
        raise UsageError("--hessian and --emit are for a scalar loss; for a vector or matrix "
                         "expression mcv derive gives the differential and the Jacobian")
    results = derive_jacobian(
        arguments.loss, arguments.wrt, arguments.shape, points=arguments.points,
        seed=arguments.seed, layout=arguments.layout, lets=arguments.let,
        values=dict(_load_value(text) for text in arguments.value),
        limits=limits_from(arguments))
    failed = [n for n, r in results.items() if not r["verified"]]
    if arguments.json:
        keys = ("differential", "differential_latex", "latex", "jacobian", "jacobian_numpy",
                "layout", "layout_numpy", "shape", "legend", "verified", "max_rel_error",
                "method", "points", "evidence", "direction", "steps", "mode", "exact")
        print(json.dumps({n: {k: r[k] for k in keys} for n, r in results.items()},
                         indent=2, ensure_ascii=False))
    else:
        _print_jacobian(results, arguments)
    if failed:
        print(f"engine failed: the derived Jacobian in {', '.join(failed)} did not pass its "
              "own check. This is a bug in mcv derive; the evidence is above. Nothing was "
              "printed as an answer.")
        return 3
    return 0


def _print_jacobian(results: dict, arguments) -> None:
    for name, r in results.items():
        m, n = r["shape"]
        if r["layout"] == "numerator":
            what = f"Jacobian d vec F / d (vec {name})ᵀ (numerator layout, {m}×{n})"
        else:
            what = (f"Jacobian d (vec F)ᵀ / d vec {name} (denominator layout: the "
                    f"transpose of the numerator layout's, {m}×{n})")
        status = "" if r["verified"] else ": NOT PROVED, not an answer"
        print(f"differential in {name}{status}:")
        print(f"  dF = {r['differential']}")
        print(f"{what}{status}:")
        print(f"  {r['jacobian']}")
        for line in r["legend"]:
            print(f"  where {line}")
        print(f"  numpy: {r['layout_numpy']}")
        if r["layout"] != "numerator":
            print(f"  numpy, numerator layout: {r['jacobian_numpy']}")
        if arguments.latex:
            print(f"  latex: {r['latex']}")
            print(f"  latex (differential): {r['differential_latex']}")
        if r["verified"]:
            print(f"  proved: verified at {len(r['points'])} random points with "
                  f"check_jacobian ({r['method']}, max relative error "
                  f"{r['max_rel_error']:.1e}): " + (
                      "the printed numpy, the matrix and the differential, entry by entry"
                      if r.get("mode") != "fast" else "the matrix's terms and the "
                      "differential along 8 random directions (the matrix has "
                      f"{m * n:,} entries: never formed)") + f"; exact: sympy {r['exact']}")
        else:
            print(f"  evidence: {r['evidence']}")
        if arguments.steps:
            print("  derivation (forward mode: the differential of each node, from "
                  f"{name} up):")
            print("\n".join(f"    {line}" for line in r["steps"]))

