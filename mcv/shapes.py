"""Shape rules: the shape of each operation's result from its operands' shapes, found before
anything is computed (the resource limits of :mod:`mcv.expr` rest on this). Each row of
:data:`mcv.rules.RULES` names one of these.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ShapeError", "Shape", "broadcast", "same_shape", "matmul_shape", "dot_shape",
           "reduce_shape", "square_to_scalar", "trace_shape", "diag_shape", "solve_shape",
           "einsum_shape", "norm_shape", "outer_shape", "kron_shape", "transpose_shape",
           "reshape_shape", "pinv_shape", "square", "eigvalsh_shape", "index_shape",
           "stack_shape", "variance_shape"]


class ShapeError(ValueError):
    """The operands' shapes do not fit the operation (found before evaluating)."""


Shape = tuple[int, ...]


def broadcast(*shapes: Shape) -> Shape:
    """numpy's broadcasting rule, or ShapeError naming the shapes."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ShapeError("shapes " + " and ".join(map(str, shapes)) + " do not broadcast "
                         "(numpy lines up trailing axes; a transpose or [:, None] missing?)")


def matmul_shape(a: Shape, b: Shape) -> Shape:
    if not a or not b:
        raise ShapeError("@ needs arrays on both sides, not a scalar (use * to scale)")
    if a[-1] != (b[0] if len(b) == 1 else b[-2]):
        raise ShapeError(f"@ of shapes {a} and {b}: the inner sizes {a[-1]} and "
                         f"{b[0] if len(b) == 1 else b[-2]} differ (a transpose missing, or "
                         "the factors in the wrong order?)")
    if len(a) == 1 and len(b) == 1:
        return ()
    if len(a) == 1:
        return b[:-2] + b[-1:]
    if len(b) == 1:
        return a[:-1]
    return broadcast(a[:-2], b[:-2]) + (a[-2], b[-1])


def dot_shape(a: Shape, b: Shape) -> Shape:
    if not a or not b:
        return broadcast(a, b)
    if len(a) <= 2 and len(b) <= 2:
        return matmul_shape(a, b)
    raise ShapeError("np.dot of arrays with more than two axes: use np.einsum")


def _normalize_axes(axis, ndim: int) -> tuple[int, ...]:
    axes = axis if isinstance(axis, tuple) else (axis,)
    out = []
    for k in axes:
        if not -ndim <= k < ndim:
            raise ShapeError(f"axis {k} is out of range for an array with {ndim} axes")
        out.append(k % ndim)
    return tuple(sorted(out))


def reduce_shape(a: Shape, axis=None, keepdims=False) -> Shape:
    """The shape of a reduction over ``axis`` (None: all axes)."""
    if axis is None:
        return tuple(1 for _ in a) if keepdims else ()
    axes = _normalize_axes(axis, len(a))
    if keepdims:
        return tuple(1 if k in axes else n for k, n in enumerate(a))
    return tuple(n for k, n in enumerate(a) if k not in axes)


def square(a: Shape, what: str) -> Shape:
    if len(a) != 2 or a[0] != a[1]:
        raise ShapeError(f"{what} needs a square matrix, not shape {a}")
    return a


def trace_shape(a: Shape) -> Shape:
    if len(a) != 2:
        raise ShapeError(f"np.trace needs a matrix, not shape {a}")
    return ()


def diag_shape(a: Shape) -> Shape:
    if len(a) == 1:
        return (a[0], a[0])
    if len(a) == 2:
        return (min(a),)
    raise ShapeError(f"np.diag needs a vector or a matrix, not shape {a}")


def solve_shape(a: Shape, b: Shape) -> Shape:
    square(a, "np.linalg.solve")
    if not b or b[0] != a[0] or len(b) > 2:
        raise ShapeError(f"np.linalg.solve(A, b) with A {a}: b must have {a[0]} rows, "
                         f"not shape {b}")
    return b


def einsum_shape(*shapes: Shape, subscripts: str) -> Shape:
    inputs, output = subscripts.split("->")
    sizes: dict[str, int] = {}
    for letters, shape in zip(inputs.split(","), shapes):
        for letter, n in zip(letters, shape):
            if sizes.setdefault(letter, n) != n:
                raise ShapeError(f"np.einsum('{subscripts}'): index {letter} has sizes "
                                 f"{sizes[letter]} and {n}")
    return tuple(sizes[letter] for letter in output)


def norm_shape(a: Shape, ord=None, axis=None, keepdims=False) -> Shape:
    if axis is None and ord in ("fro", "nuc") and len(a) != 2:
        raise ShapeError(f"np.linalg.norm(..., '{ord}') needs a matrix, not shape {a}")
    if axis is None and ord is not None and len(a) > 2:
        raise ShapeError(f"np.linalg.norm with ord= needs a vector or a matrix, not {a}")
    return reduce_shape(a, axis, keepdims)


def kron_shape(a: Shape, b: Shape) -> Shape:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    return tuple(p * q for p, q in zip(a, b))


def same_shape(a: Shape) -> Shape:
    """Entrywise functions of one operand keep its shape."""
    return a


def square_to_scalar(what: str):
    """The shape rule of a scalar function of a square matrix (det, log|det|)."""
    def rule(a: Shape) -> Shape:
        square(a, what)
        return ()
    return rule


def outer_shape(a: Shape, b: Shape) -> Shape:
    return (int(np.prod(a)), int(np.prod(b)))


def transpose_shape(a: Shape) -> Shape:
    return a[::-1]


def reshape_shape(a: Shape, newshape) -> Shape:
    return tuple(newshape)


def pinv_shape(a: Shape) -> Shape:
    if len(a) != 2:
        raise ShapeError(f"np.linalg.pinv needs a matrix, not {a}")
    return a[::-1]


def eigvalsh_shape(a: Shape) -> Shape:
    return (square(a, "np.linalg.eigvalsh")[0],)


def index_shape(a: Shape, key) -> Shape:
    """The shape of ``a[key]`` (numpy's own rule, on an empty array of booleans)."""
    try:
        return np.empty(a, dtype=np.bool_)[key].shape
    except (IndexError, TypeError, ValueError) as error:
        raise ShapeError(f"{error} (shape {a})") from None


def stack_shape(*shapes: Shape) -> Shape:
    if len(set(shapes)) != 1:
        raise ShapeError(f"the entries have different shapes {list(shapes)}")
    return (len(shapes), *shapes[0])


def variance_shape(a: Shape, axis=None, ddof=0, keepdims=False) -> Shape:
    """np.var and np.std: a reduction; ``ddof`` must leave a positive count."""
    count = int(np.prod(a)) // max(int(np.prod(reduce_shape(a, axis, False))), 1)
    if ddof >= count:
        raise ShapeError(f"ddof={ddof} leaves no degrees of freedom: {count} entries per "
                         "result")
    return reduce_shape(a, axis, keepdims)
