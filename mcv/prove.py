"""Prove a derived gradient before it is shown: numeric checks at random points that satisfy
the declarations, and an exact entry-by-entry comparison with sympy where sympy can expand
the loss. :func:`derive_and_prove` is the library's one call for "derive, show, prove" (the command
``mcv derive`` and the chapter "Let the book derive it" use it).

    >>> result = derive_and_prove("np.sum((W @ u - v)**2)", "W", {"W": "3x4", "u": "4", "v": "3"})
    >>> result["W"]["math"], result["W"]["verified"], result["W"]["exact"]
    ('2 (W u − v) uᵀ', True, 'agrees')
"""

from __future__ import annotations

import numpy as np

from mcv.checks import check_gradient, check_hessian
from mcv.declare import draw, parse_declaration, symmetric_view
from mcv.derive import gradients, named, show, size, steps
from mcv.expr import EvaluationError, Node, evaluate, evaluate_exact, parse
from mcv.rules import NoExactForm

__all__ = ["derive_and_prove", "prove", "prove_hessian", "exact_agreement",
           "EXACT_MAX_ENTRIES", "EXACT_BUDGET"]

#: Exact comparison with sympy only at sizes where it is quick (entries of all variables).
EXACT_MAX_ENTRIES = 40
#: Seconds sympy may take for one exact comparison, checked between entries (the 53 losses
#: of benchmarks/forms.py take 0.07 s at the median and 9 s at worst on a busy machine);
#: over it, the verdict rests on the numeric checks and says so.
EXACT_BUDGET = 60.0


def derive_and_prove(loss: str, wrt, shapes: dict[str, str], *, points: int = 3, seed: int = 0) -> dict:
    """Derive, show and prove the gradient of ``loss`` in each variable of ``wrt``.

    ``shapes`` declares each variable as on the command line without the name: ``"3x4"``,
    ``""`` (a scalar), ``"4x4:spd"``. Returns, for each name, a dict with ``math``,
    ``numpy``, ``latex``, ``operations``, ``steps``, ``gradient`` (the node) and the evidence
    of :func:`prove`.
    """
    names = [wrt] if isinstance(wrt, str) else list(wrt)
    declarations = {n: parse_declaration(f"{n}={text}") for n, text in shapes.items()}
    node = parse(loss, {n: d.shape for n, d in declarations.items()}, "the loss",
                 structures={n: d.structure for n, d in declarations.items()})
    found = gradients(node, names, {n: d.shape for n, d in declarations.items()})
    sample = []
    for s in range(seed, seed + points):  # one generator per point: variables differ
        rng = np.random.default_rng(s)
        sample.append((s, {n: draw(d, rng) for n, d in sorted(declarations.items())}))
    return {name: {"gradient": found[name], "math": named(found[name]),
                   "numpy": show(found[name], "numpy"), "latex": show(found[name], "latex"),
                   "operations": size(found[name]), "steps": steps(node, name),
                   **prove(node, name, found[name], sample, declarations[name].structure)}
            for name in names}


def prove(loss: Node, name: str, gradient: Node, points, structure: str = "general",
          values_fixed: bool = False) -> dict:
    """The evidence for ``gradient``: check_gradient at every ``(seed, values)`` of
    ``points`` and, at small sizes, sympy entry by entry. ``verified`` is False when either
    fails (an exact disagreement overrules the numeric verdict)."""
    worst, method, convention = 0.0, None, None
    for seed, point in points:
        def f(x, point=point):
            return evaluate(loss, {**point, name: x})

        def grad(x, point=point):
            value = evaluate(gradient, {**point, name: x})
            # a constant gradient may print as a scalar (2.5 for 2.5 * sum(x)): spread it;
            # any other shape is the claim's own, for the checker to diagnose
            return np.broadcast_to(value, x.shape) if np.ndim(value) == 0 else value
        if structure in ("sym", "spd"):
            f, grad = symmetric_view(f, grad)
            convention = ("symmetric variable: the unconstrained gradient is derived and "
                          "checked along symmetric perturbations (its symmetric part)")
        try:
            report = check_gradient(f, grad, np.array(point[name], dtype=float), seed=seed)
        except (EvaluationError, ValueError, TypeError) as error:
            return _failed(f"seed {seed}: {error}", None, None, convention)
        method = report.method
        if not report.ok:
            return _failed(f"seed {seed}: {report}", report.max_rel_error, method, convention)
        worst = max(worst, report.max_rel_error)
    shapes = {n: np.shape(v) for n, v in points[0][1].items()}
    exact = "not tried (--value data)" if values_fixed else \
        exact_agreement(loss, name, gradient, shapes)
    if exact == "disagrees":
        return _failed("sympy disagrees entry by entry", worst, method, convention, exact)
    return {"verified": True, "max_rel_error": worst, "method": method, "exact": exact,
            "convention": convention, "evidence": None}


def _failed(evidence, error, method, convention, exact="not tried") -> dict:
    return {"verified": False, "max_rel_error": error, "method": method, "exact": exact,
            "convention": convention, "evidence": evidence}


def exact_agreement(loss: Node, name: str, gradient: Node, shapes: dict,
                    budget: float = EXACT_BUDGET) -> str:
    """'agrees' / 'disagrees' entry by entry with sympy, or why it was not tried or not
    finished (over ``budget`` seconds)."""
    import time
    start = time.perf_counter()
    if sum(int(np.prod(s)) for s in shapes.values()) > EXACT_MAX_ENTRIES:
        return f"not tried (more than {EXACT_MAX_ENTRIES} entries in all)"
    try:
        import sympy as sp

        from mcv.symbolic import symbols_array
    except ImportError:
        return "not tried (sympy is not installed)"
    symbols = {n: symbols_array(n, s) for n, s in shapes.items()}
    facts = _structures(loss)
    for n, kind in facts.items():  # the declared facts the simplifier may have used
        if n != name and n in symbols:
            symbols[n] = _structured(symbols[n], kind)

    def exact(e):
        return sp.nsimplify(sp.sympify(e), rational=True)  # 2.0 -> 2: expand can cancel
    try:
        value = exact(evaluate_exact(loss, symbols))
        claimed = np.broadcast_to(np.asarray(evaluate_exact(gradient, symbols),
                                             dtype=object), shapes[name])
    except NoExactForm as reason:
        return f"not available ({reason})"
    except Exception:  # noqa: BLE001 (an operation with no sympy form met a sympy symbol)
        return "not available (the loss uses functions sympy cannot take through numpy)"
    over = f"not finished (sympy took over the {budget:g} s budget)"
    differences = np.empty(shapes[name], dtype=object)
    for index in np.ndindex(*shapes[name]):
        if time.perf_counter() - start > budget:
            return over
        differences[index] = sp.diff(value, symbols[name][index]) - exact(claimed[index])
    if facts.get(name) in ("sym", "spd"):  # only the symmetric part, at symmetric points
        mirror = {symbols[name][j, i]: symbols[name][i, j]
                  for i, j in np.ndindex(*shapes[name]) if i < j}
        differences = np.vectorize(lambda d: d.xreplace(mirror), otypes=[object])(
            differences + differences.T)
    for difference in differences.ravel():
        if time.perf_counter() - start > budget:
            return over
        if _zero_in_exponentials(difference):
            continue
        if sp.expand(sp.together(difference)) != 0 and not _zero_with_signs(difference):
            return "disagrees"
    return "agrees"


def _zero_in_exponentials(difference) -> bool:
    """Zero once each exp(e) is a symbol t_e (and exp(−e) is 1/t_e): a quick, sufficient
    test. σ(z) = 1/(1 + e^−z) against e^z/(1 + e^z) then share the denominator 1 + t, where
    putting a sum of such fractions over one denominator would multiply them all out."""
    import sympy as sp

    powers = difference.atoms(sp.exp)
    if not powers:
        return False
    symbols, replace = {}, {}
    for power in powers:
        e = power.args[0]
        flip = e.could_extract_minus_sign()
        key = -e if flip else e
        t = symbols.setdefault(key, sp.Symbol(f"t{len(symbols)}", positive=True))
        replace[power] = 1 / t if flip else t
    return sp.expand(sp.together(difference.xreplace(replace))) == 0


def _structures(loss: Node) -> dict[str, str]:
    """The structures the loss's leaves carry (declared at parse time)."""
    found, stack = {}, [loss]
    while stack:
        n = stack.pop()
        if n.op == "var" and "structure" in n.attrs:
            found[n.attrs["name"]] = n.attrs["structure"]
        stack.extend(n.args)
    return found


def _structured(array, kind: str):
    """Symbols with the declared structure: a symmetric matrix, rows summing to one."""
    array = array.copy()
    if kind in ("sym", "spd") and array.ndim == 2:
        for i, j in np.ndindex(*array.shape):
            if i > j:
                array[i, j] = array[j, i]
    elif kind == "diag" and array.ndim == 2:
        for i, j in np.ndindex(*array.shape):
            if i != j:
                array[i, j] = 0
    elif kind in ("simplex", "onehot") and array.ndim >= 1:
        array[..., -1] = 1 - np.sum(array[..., :-1], axis=-1)
    return array


def _zero_with_signs(difference) -> bool:
    """expand cannot cancel sign(−e) against sign(e), or x |x| against x² sign(x); simplify
    can (tried only where Abs or sign occurs: it is slow)."""
    import sympy as sp

    if not difference.has(sp.Abs, sp.sign):
        return False
    inside = sorted({f.args[0] for f in difference.atoms(sp.Abs, sp.sign)}, key=sp.default_sort_key)
    if len(inside) <= 3:  # each sign's branch on its own: zero on every branch is zero
        import itertools
        for signs in itertools.product((1, -1), repeat=len(inside)):
            branch = difference
            for e, s in zip(inside, signs):
                branch = branch.xreplace({sp.Abs(e): s * e, sp.sign(e): s})
            if sp.expand(sp.together(branch)) != 0:
                break
        else:
            return True
    return sp.simplify(difference) == 0


def hessian_matrix(hmap: Node, name: str, direction: str, values: dict) -> np.ndarray:
    """The Hessian map H[D] as the matrix of vec(D) ↦ vec(H[D]) (vec stacks columns, the
    book's order: column j is H[E_j] for the j-th entry in that order)."""
    x = np.asarray(values[name], dtype=float)
    columns = []
    for j in range(x.size):
        basis = np.zeros(x.size)
        basis[j] = 1.0
        direction_value = basis.reshape(x.shape, order="F")
        column = np.broadcast_to(evaluate(hmap, {**values, name: x, direction: direction_value}),
                                 x.shape)
        columns.append(np.asarray(column).ravel(order="F"))
    return np.array(columns).T


def prove_hessian(gradient: Node, hmap: Node, name: str, direction: str, points) -> dict:
    """check_hessian of the matrix of ``hmap`` against the derivative of ``gradient``."""
    worst, method = 0.0, None
    for seed, point in points:
        def grad(x, point=point):
            return np.broadcast_to(evaluate(gradient, {**point, name: x}), np.shape(x))

        def hess(x, point=point):
            return hessian_matrix(hmap, name, direction, {**point, name: x})
        try:
            report = check_hessian(grad, hess, np.array(point[name], dtype=float), seed=seed)
        except (EvaluationError, ValueError, TypeError) as error:
            return {"verified": False, "evidence": f"seed {seed}: {error}"}
        method = report.method
        if not report.ok:
            return {"verified": False, "evidence": f"seed {seed}: {report}"}
        worst = max(worst, report.max_rel_error)
    return {"verified": True, "max_rel_error": worst, "method": method, "evidence": None}
