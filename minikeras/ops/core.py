"""Conversion between Python/NumPy values and tensors, control flow, scatter and slice updates
(``keras.ops.core``)."""

import builtins

import numpy as np

from minikeras import backend
from minikeras.autodiff import record
from minikeras.tensor import ArrayLike, Tensor


def value_of(x):
    """The NumPy array behind ``x`` (a Tensor, Variable, array, list or number).

    Python numbers stay Python numbers, so NumPy keeps the other operand's dtype (float32 + 2.0
    stays float32); lists and tuples become arrays, floats in ``floatx``.
    """
    if type(x) is np.ndarray:
        return x
    if isinstance(x, ArrayLike):
        return x._value
    if isinstance(x, np.ndarray | int | float | np.generic):
        return x
    return _to_array(x)


def _to_array(x, dtype=None, strings=False):
    """``x`` as a NumPy array of numbers (or, with ``strings``, of strings: see
    ``string_array``); anything else is refused with the values it holds."""
    array = np.asarray(x, dtype=dtype)
    if dtype is None and not isinstance(x, np.ndarray):  # NumPy arrays keep their dtype;
        if array.dtype.kind == "f":  # Python floats follow floatx and Python ints are int32
            array = array.astype(backend.floatx())
        elif array.dtype.kind == "i":
            array = array.astype("int32")
    if array.dtype.kind not in "biufc":
        if strings and array.dtype.kind in "USO":
            try:
                return string_array(array)
            except TypeError:  # objects that are not all strings: refused as below
                pass
        raise TypeError(
            f"Expected numeric data, but received {type(x).__name__} with dtype "
            f"{array.dtype} (first values: {array.ravel()[:3].tolist()}). Convert strings and "
            f"objects to numbers before passing them to minikeras.")
    return array


def string_array(x):
    """``x`` (a str, bytes, nested lists of them, a NumPy unicode, bytes or object array) as
    a NumPy object array of Python ``str``: minikeras's ``tf.string`` tensor, what the
    preprocessing layers (TextVectorization, StringLookup, Hashing...) read.

    NumPy ``str_`` becomes ``str`` and ``bytes`` are decoded as UTF-8 (what a ``tf.string``
    holds); bytes that are not UTF-8 stay bytes, for the layer to decode with its ``encoding``.
    An object array already holding only ``str`` is returned as it is, without a copy.
    """
    if isinstance(x, str | bytes):
        out = np.empty((), dtype=object)
        out[()] = _as_text(x)
        return out
    array = x if isinstance(x, np.ndarray) else np.asarray(x, dtype=object)
    if array.dtype.kind == "O" and all(type(v) is str for v in array.ravel().tolist()):
        return array
    if array.dtype.kind not in "USO":
        raise TypeError(f"Expected strings, but received an array of dtype {array.dtype} "
                        f"(first values: {array.ravel()[:3].tolist()}).")
    out = np.empty(array.shape, dtype=object)  # C-ordered: ravel() is a view to fill
    out.ravel()[:] = [_as_text(v) for v in array.ravel().tolist()]
    return out


def _as_text(value):
    if isinstance(value, str):
        return str(value)  # np.str_ -> str
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    raise TypeError(f"Expected strings, but received the {type(value).__name__} value "
                    f"{value!r} among them: string data must hold only str (or bytes).")


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """``x`` as a Tensor; Python floats and lists of floats become ``floatx`` (float32).

    Strings (str, bytes, lists of them, NumPy unicode, bytes or object arrays), or any data
    with ``dtype="string"``, become a Tensor over an object array of ``str`` (``string_array``),
    as Keras makes a ``tf.string`` tensor of them.
    """
    if isinstance(x, ArrayLike) and dtype is None:
        return x
    if dtype is not None:
        dtype = backend.standardize_dtype(dtype)
        if dtype == "string":
            return Tensor(string_array(value_of(x) if isinstance(x, ArrayLike) else x))
    if isinstance(x, ArrayLike):
        return cast(x, dtype)
    return Tensor(_to_array(x, dtype, strings=dtype is None))


def convert_to_numpy(x):
    return np.asarray(value_of(x))


def cast(x, dtype):
    """``x`` as ``dtype``; gradients flow back through float-to-float casts."""
    dtype = backend.standardize_dtype(dtype)
    a = value_of(x)
    out = np.asarray(a, dtype=dtype)
    if not backend.is_float_dtype(dtype):
        return Tensor(out)
    return record(out, (x,), lambda g: g.astype(np.asarray(a).dtype))


def stop_gradient(x):
    """The same values, but no gradient flows back through them."""
    return Tensor(value_of(x))


def shape(x):
    return tuple(np.shape(value_of(x)))


def dtype(x):
    return backend.standardize_dtype(np.asarray(value_of(x)).dtype)


def is_tensor(x):
    return isinstance(x, ArrayLike)


# --- control flow ----------------------------------------------------------------------------
# A NumPy backend runs eagerly, so Keras's control flow is plain Python here: loops run their
# bodies step by step and ``cond`` picks a branch. The ops inside are recorded as usual, so
# gradients flow through whatever branch or iterations actually ran. Nested structures (lists,
# tuples, dicts of tensors) are walked with ``minikeras.utils.tree``.


def _tree():
    from minikeras.utils import tree  # imported late: minikeras.utils imports the layers

    return tree


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` holds, else ``false_fn()``."""
    return true_fn() if bool(np.asarray(value_of(pred))) else false_fn()


def switch(index, branches, *operands):
    """``branches[index](*operands)``, with ``index`` clamped to [0, len(branches) - 1]."""
    i = int(np.clip(np.asarray(value_of(index)).astype(np.int64), 0, len(branches) - 1))
    return branches[i](*operands)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """``while cond(*loop_vars): loop_vars = body(*loop_vars)``, at most
    ``maximum_iterations`` times. A tuple or list of loop variables comes back as a tuple;
    a single one as itself."""
    is_tuple = isinstance(loop_vars, tuple | list)
    state = tuple(loop_vars) if is_tuple else (loop_vars,)
    steps = 0
    while (maximum_iterations is None or steps < maximum_iterations) and bool(
            np.asarray(value_of(cond(*state)))):
        out = body(*state)
        state = tuple(out) if is_tuple else (out,)
        steps += 1
    state = _tree().map_structure(convert_to_tensor, state)  # Python numbers become tensors
    return state if is_tuple else state[0]


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for i from ``lower`` up to (not including) ``upper``."""
    val = init_val
    for i in range(int(value_of(lower)), int(value_of(upper))):
        val = body_fun(i, val)
    return _tree().map_structure(convert_to_tensor, val)


def _stack_leaves(outputs, structure):
    """A list of same-structured step outputs as one structure of stacked tensors."""
    from minikeras.ops import numpy as np_ops

    tree = _tree()
    if structure is None:
        return None
    columns = zip(*(tree.flatten(o) for o in outputs), strict=True)
    return tree.pack_sequence_as(structure, [np_ops.stack(list(c)) for c in columns])


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``carry, y = f(carry, x)`` for each x along the leading axis of ``xs`` (JAX's
    ``lax.scan``); returns the last carry and the y's stacked. With ``xs=None``, f gets None
    ``length`` times. ``unroll`` only matters for compiled backends."""
    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f}")
    if not isinstance(unroll, bool) and (not isinstance(unroll, int) or unroll < 1):
        raise ValueError("`unroll` must be an positive integer or boolean. "
                         f"Received: unroll={unroll}")
    if xs is None and length is None:
        raise ValueError("Got no `xs` to scan over and `length` not provided.")
    tree = _tree()
    leaves = [] if xs is None else tree.flatten(xs)
    n = length if not leaves else len(value_of(leaves[0]))
    if length is not None and n != length:
        raise ValueError(f"`length` ({length}) does not match the leading axis of `xs` ({n}).")
    order = range(n - 1, -1, -1) if reverse else range(n)
    carry, ys = init, []
    for i in order:
        x = None if xs is None else tree.pack_sequence_as(xs, [leaf[i] for leaf in leaves])
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    carry = tree.map_structure(convert_to_tensor, carry)
    if not ys or ys[0] is None:
        return carry, None
    return carry, _stack_leaves(ys, ys[0])


def associative_scan(f, elems, reverse=False, axis=0):
    """All prefix reductions with an associative ``f`` along ``axis``:
    out[0] = e[0], out[i] = f(out[i-1], e[i]) (from the end when ``reverse``). f receives
    slices that keep ``axis`` (length 1), as Keras's parallel version passes chunks; this
    runs them one after another, which gives the same values for an associative f."""
    from minikeras.ops import numpy as np_ops

    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f}")
    tree = _tree()
    flat = [convert_to_tensor(e) for e in tree.flatten(elems)]
    sizes = {np.shape(value_of(e))[axis] for e in flat}
    if len(sizes) != 1:
        raise ValueError("Array inputs to associative_scan must have the same first "
                         f"dimension. (saw: {[np.shape(value_of(e)) for e in flat]})")
    if reverse:
        flat = [np_ops.flip(e, axis) for e in flat]
    n = sizes.pop()
    pieces = [[np_ops.getitem(e, (builtins.slice(None),) * (axis % e.ndim)
                              + (builtins.slice(i, i + 1),)) for e in flat] for i in range(n)]
    outs = [pieces[0]]
    for i in range(1, n):
        combined = f(tree.pack_sequence_as(elems, outs[-1]),
                     tree.pack_sequence_as(elems, pieces[i]))
        outs.append(tree.flatten(combined))
    scans = [np_ops.concatenate([o[k] for o in outs], axis=axis) for k in range(len(flat))]
    if reverse:
        scans = [np_ops.flip(s, axis) for s in scans]
    return tree.pack_sequence_as(elems, scans)


def map(f, xs):
    """``stack([f(x) for x in xs])`` over the leading axis (of every leaf if xs is nested)."""
    tree = _tree()
    leaves = tree.flatten(xs)
    n = len(value_of(leaves[0]))
    outputs = [f(tree.pack_sequence_as(xs, [leaf[i] for leaf in leaves])) for i in range(n)]
    return _stack_leaves(outputs, outputs[0])


def vectorized_map(function, elements):
    """``function`` applied to each slice along axis 0 of ``elements`` (a tensor or a structure
    of tensors), the results stacked: here simply ``map``."""
    return map(function, elements)




def _start_indices(start_indices, ndim):
    starts = [int(s) for s in np.asarray(value_of(start_indices)).reshape(-1)]
    if len(starts) != ndim:
        raise ValueError(f"`start_indices` needs one entry per axis ({ndim}). Received: "
                         f"{starts}")
    return starts


def slice(inputs, start_indices, shape):
    """inputs[start : start + shape] on every axis (a size of -1: to the end);
    the gradient flows back to the sliced region."""
    from minikeras.ops import numpy as np_ops

    a = value_of(inputs)
    starts = _start_indices(start_indices, np.ndim(a))
    sizes = [int(s) for s in np.asarray(value_of(shape)).reshape(-1)]
    key = tuple(builtins.slice(s, None if n == -1 else s + n)
                for s, n in zip(starts, sizes, strict=True))
    return np_ops.getitem(inputs, key)


def slice_update(inputs, start_indices, updates):
    """inputs with ``updates`` written at ``start_indices`` (a new tensor; starts are clamped so
    that updates fit, as in XLA's dynamic_update_slice);
    d/d inputs = g outside the region (0 inside), d/d updates = g on the region."""
    a, u = np.asarray(value_of(inputs)), np.asarray(value_of(updates))
    starts = _start_indices(start_indices, a.ndim)
    starts = [builtins.max(0, builtins.min(s, n - m))
              for s, n, m in zip(starts, a.shape, u.shape, strict=True)]
    key = tuple(builtins.slice(s, s + m) for s, m in zip(starts, u.shape, strict=True))
    out = a.copy()
    out[key] = u
    return record(out, (inputs, updates), _zeroed_at(key), lambda g: g[key])


def _zeroed_at(key):
    """The backward function of overwriting ``inputs[key]``: g, with the overwritten entries 0
    (they no longer reach the output)."""

    def d_inputs(g):
        grad = np.array(g, copy=True)
        grad[key] = 0
        return grad

    return d_inputs


def _index_tuple(indices):
    """Scatter indices (..., depth) as a tuple of index arrays for the first ``depth`` axes."""
    idx = np.asarray(value_of(indices)).astype(np.int64)
    return tuple(np.moveaxis(idx, -1, 0))


def scatter(indices, values, shape):
    """zeros(shape) with ``values`` added at ``indices`` (tf.scatter_nd: duplicates add up);
    d/d values = g gathered at the indices."""
    v = np.asarray(value_of(values))
    key = _index_tuple(indices)
    out = np.zeros(tuple(int(s) for s in shape), v.dtype)
    np.add.at(out, key, v)
    return record(out, (values,), lambda g: g[key])


def scatter_update(inputs, indices, updates, reduction=None):
    """inputs with the entries (or slices) at ``indices`` replaced by ``updates``, or combined
    with them by ``reduction`` ("add", "max", "min", "mul"). Replacing: d/d inputs = g with the
    updated entries zeroed, d/d updates = g gathered; "add": g and g gathered. The max, min and
    mul reductions are not differentiated."""
    if reduction is not None:
        reduction = reduction.lower()
        if reduction not in ("add", "max", "min", "mul"):
            raise ValueError(f"Invalid reduction: {reduction}. Supported values are: None, "
                             "'add', 'max', 'min', 'mul'.")
    a = np.asarray(value_of(inputs))
    u = np.asarray(value_of(updates), dtype=a.dtype)
    key = _index_tuple(indices)
    out = a.copy()
    if reduction is None:
        out[key] = u
        return record(out, (inputs, updates), _zeroed_at(key), lambda g: g[key])
    if reduction == "add":
        np.add.at(out, key, u)
        return record(out, (inputs, updates), lambda g: g, lambda g: g[key])
    {"max": np.maximum, "min": np.minimum, "mul": np.multiply}[reduction].at(out, key, u)
    return Tensor(out)


def custom_gradient(f):
    """Decorate ``f(*args) -> (y, grad_fn)`` so the tape uses ``grad_fn`` instead of
    differentiating the ops inside f: ``grad_fn(upstream)`` returns d loss / d arg for each
    argument (one value for a single argument). The forward ops run unrecorded; ``y`` must be
    a single tensor."""
    import functools

    from minikeras.autodiff import paused

    @functools.wraps(f)
    def wrapper(*args):
        with paused():
            y, grad_fn = f(*args)
        cache = {}

        def grads_for(g):
            if cache.get("g") is not g:
                out = grad_fn(Tensor(g))
                out = list(out) if isinstance(out, list | tuple) else [out]
                cache["g"], cache["grads"] = g, [
                    None if d is None else np.asarray(value_of(d)) for d in out]
            return cache["grads"]

        def backward(i):
            return lambda g: _zero_if_none(grads_for(g)[i], args[i])

        return record(value_of(y), args, *[backward(i) for i in range(len(args))])

    return wrapper


def _zero_if_none(grad, arg):
    return np.zeros(np.shape(value_of(arg))) if grad is None else grad


def saturate_cast(x, dtype):
    """``x`` as ``dtype``, clipped first to the range both dtypes can hold (so 300.0 becomes
    255 in uint8, not 44); the clip's gradient flows through float-to-float casts. (Keras 3.15
    compares the limits after rounding them to x's dtype, so float32 inf or 3e9 cast to int32
    overflows to -2147483648; here they saturate to 2147483520, the largest float32 below
    2**31. See docs/keras-compatibility.md.)"""
    dtype = backend.standardize_dtype(dtype)
    a = np.asarray(value_of(x))

    def limits(name):
        if name == "bool":
            return 0, 1
        info = np.iinfo(name) if "int" in name else np.finfo(
            "float32" if name == "bfloat16" else name)
        return info.min, info.max

    (in_min, in_max), (out_min, out_max) = limits(a.dtype.name), limits(dtype)
    with np.errstate(over="ignore", invalid="ignore"):  # limits beyond the input dtype's range
        low = np.asarray(np.maximum(in_min, out_min)).astype(a.dtype)
        if low.item() < out_min:  # compared exactly (NumPy would round out_min to a.dtype)
            low = np.nextafter(low, 0, dtype=a.dtype)
        high = np.asarray(np.minimum(in_max, out_max)).astype(a.dtype)
        if high.item() > out_max:
            high = np.nextafter(high, 0, dtype=a.dtype)
        from minikeras.ops import numpy as np_ops

        return cast(np_ops.clip(x, low, high), dtype)
