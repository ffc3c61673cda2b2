"""Linear algebra (``keras.ops.linalg``): norms, written with the differentiable ops of ``numpy.py``
so the tape differentiates them through their parts (d||x||_2 / dx = x / ||x||_2), then inverses,
solvers, determinants and decompositions from numpy.linalg, each with its derivative beside it,
and ``jvp`` (a forward-mode Jacobian-vector product, computed from reverse-mode rows)."""

import numpy as np

from minikeras import tree
from minikeras.autodiff import GradientTape, record
from minikeras.ops import numpy as np_ops
from minikeras.ops.core import value_of
from minikeras.tensor import ArrayLike, Tensor


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector norms (one axis): ord None or 2 (sqrt Σx²), inf, -inf, 0 (nonzeros), any p
    ((Σ|x|^p)^(1/p)); matrix norms (two axes, or all of a matrix): None/"fro" (sqrt Σx²),
    1, -1, inf, -inf. The SVD-based matrix norms (2, -2, "nuc") are not available."""
    a = np_ops._floats(x)
    if a.dtype != np.asarray(value_of(x)).dtype:
        x = a  # integers become floats (no gradient to give)
    axes = tuple(range(a.ndim)) if axis is None else (
        (axis,) if isinstance(axis, int) else tuple(axis))
    axis = axes[0] if len(axes) == 1 else axes
    if len(axes) == 1:
        if ord is None or ord == 2:
            return np_ops.sqrt(np_ops.sum(np_ops.square(x), axis=axis, keepdims=keepdims))
        if ord == np.inf:
            return np_ops.max(np_ops.abs(x), axis=axis, keepdims=keepdims)
        if ord == -np.inf:
            return np_ops.min(np_ops.abs(x), axis=axis, keepdims=keepdims)
        if ord == 0:
            return np_ops.sum(Tensor((a != 0).astype(a.dtype)), axis=axis, keepdims=keepdims)
        if isinstance(ord, str):
            raise ValueError(f"Invalid `ord` argument for vector norm. Received: ord={ord}")
        total = np_ops.sum(np_ops.power(np_ops.abs(x), float(ord)), axis=axis,
                           keepdims=keepdims)
        return np_ops.power(total, 1.0 / ord)
    if len(axes) != 2:
        raise ValueError(f"Invalid axis {axis} for norm: give one or two axes.")
    if ord is None or ord == "fro":
        return np_ops.sqrt(np_ops.sum(np_ops.square(x), axis=axes, keepdims=keepdims))
    row, col = (ax % a.ndim for ax in axes)
    if ord in (1, -1):  # the largest (smallest) column sum of |x|
        inner, outer = row, col
    elif ord in (np.inf, -np.inf):  # the largest (smallest) row sum of |x|
        inner, outer = col, row
    else:
        raise ValueError(f"Matrix norm ord={ord!r} is not available in minikeras "
                         f"(it needs a singular value decomposition).")
    if not keepdims and outer > inner:
        outer -= 1
    sums = np_ops.sum(np_ops.abs(x), axis=inner, keepdims=keepdims)
    reduce = np_ops.max if ord in (1, np.inf) else np_ops.min
    return reduce(sums, axis=outer, keepdims=keepdims)


# --- matrix decompositions, inverses and solvers ------------------------------------------------
# Forward values come from numpy.linalg (batched over leading axes, like Keras). Each derivative
# is the standard matrix-calculus result, written beside its forward rule as the backward map
# g = dL/d(output) -> dL/d(input); ᵀ swaps the last two axes. Decompositions whose factors have
# no unique sign or order (qr, eig, lu_factor, the U and V of svd) return plain Tensors: the tape
# does not differentiate them.


def _T(a):
    return np.swapaxes(a, -1, -2)


def _matrices(x, name="x"):
    """The value of ``x`` as float matrices (ints become floatx), checked to have rank >= 2."""
    a = np_ops._floats(x)
    if a.ndim < 2:
        raise ValueError(f"Expected input to have rank >= 2. Received input with shape "
                         f"{a.shape}.")
    if a.dtype == np.float16:
        raise TypeError("numpy.linalg does not work in float16: cast the input to float32 "
                        "first (minikeras.ops.cast(x, 'float32')).")
    return a


def _square(x):
    a = _matrices(x)
    if a.shape[-1] != a.shape[-2]:
        raise ValueError(f"Expected a square matrix. Received non-square input with shape "
                         f"{a.shape}")
    return a


def inv(x):
    """Y = x⁻¹;  dL/dx = -Yᵀ g Yᵀ (from dY = -Y dx Y)."""
    a = _square(x)
    y = np.linalg.inv(a)
    return record(y, (x,), lambda g: -_T(y) @ g @ _T(y))


def det(x):
    """d = det(x);  dL/dx = g·d·x⁻ᵀ (Jacobi's formula)."""
    a = _square(x)
    d = np.linalg.det(a)
    return record(d, (x,), lambda g: (g * d)[..., None, None] * _T(np.linalg.inv(a)))


def slogdet(x):
    """(sign, log|det x|);  d log|det x| / dx = x⁻ᵀ (the sign has no gradient)."""
    a = _square(x)
    sign, logabsdet = np.linalg.slogdet(a)
    return Tensor(sign), record(logabsdet, (x,),
                                lambda g: g[..., None, None] * _T(np.linalg.inv(a)))


def logdet(x):
    """log det x for a symmetric positive definite x, as TensorFlow computes it:
    2·Σ log diag(cholesky(x)) (so only the lower triangle is read; NaN if x is not positive
    definite);  dL/dx = g·(x⁻¹ + x⁻ᵀ)/2, the symmetric gradient TensorFlow gives."""
    a = _square(x)
    try:
        chol = np.linalg.cholesky(a)
        out = 2 * np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    except np.linalg.LinAlgError:
        out = np.full(a.shape[:-2], np.nan, a.dtype)
    out = np.asarray(out, a.dtype)

    def d_x(g):
        inverse = np.linalg.inv(a)
        return g[..., None, None] * (inverse + _T(inverse)) / 2

    return record(out, (x,), d_x)


def _solve_vector_or_matrix(a, b, solve):
    """Keras's rule for ``b``: one fewer axis than ``a`` means a vector (or batch of vectors)."""
    if b.ndim == a.ndim - 1:
        return solve(a, b[..., None])[..., 0]
    return solve(a, b)


def solve(a, b):
    """X with a X = b;  dL/db = a⁻ᵀ g (a solve with aᵀ), dL/da = -(dL/db) Xᵀ."""
    am, bm = _square(a), np_ops._floats(b)
    vector = bm.ndim == am.ndim - 1
    b2 = bm[..., None] if vector else bm
    out = np.linalg.solve(am, b2)

    def d_b(g):
        gb = np.linalg.solve(_T(am), g[..., None] if vector else g)
        return gb[..., 0] if vector else gb

    def d_a(g):
        gb = np.linalg.solve(_T(am), g[..., None] if vector else g)
        return -gb @ _T(out)

    return record(out[..., 0] if vector else out, (a, b), d_a, d_b)


def solve_triangular(a, b, lower=False):
    """X with t X = b, t the lower (``lower=True``) or upper triangle of a (the other triangle is
    never read);  dL/db = t⁻ᵀ g, dL/da = the same triangle of -(dL/db) Xᵀ."""
    am, bm = _square(a), np_ops._floats(b)
    triangle = np.tril if lower else np.triu
    t = triangle(am)
    vector = bm.ndim == am.ndim - 1
    out = np.linalg.solve(t, bm[..., None] if vector else bm)

    def d_b(g):
        gb = np.linalg.solve(_T(t), g[..., None] if vector else g)
        return gb[..., 0] if vector else gb

    def d_a(g):
        gb = np.linalg.solve(_T(t), g[..., None] if vector else g)
        return triangle(-gb @ _T(out))

    return record(out[..., 0] if vector else out, (a, b), d_a, d_b)


def cholesky(x, upper=False):
    """L with x = L Lᵀ (L lower triangular; Lᵀ if ``upper``), from the lower triangle of x.
    dL/dx, as TensorFlow (Murray, 2016): with Φ(M) = the lower triangle of M with its diagonal
    halved, S = L⁻ᵀ Φ(Lᵀ ḡ) L⁻¹, dL/dx = (S + Sᵀ)/2, a symmetric gradient."""
    a = _square(x)
    try:
        chol = np.linalg.cholesky(a)
    except np.linalg.LinAlgError as e:
        raise ValueError(f"Cholesky decomposition failed: the input is not symmetric positive "
                         f"definite ({e}).") from None

    def d_x(g):
        g = _T(g) if upper else g
        eye = np.eye(a.shape[-1], dtype=a.dtype)
        chol_inv = np.linalg.solve(chol, np.broadcast_to(eye, chol.shape))
        middle = np.tril(_T(chol) @ g)
        diagonal = np.einsum("...ii->...i", middle)
        diagonal *= 0.5  # middle is a new array: halving its diagonal in place is safe
        s = _T(chol_inv) @ middle @ chol_inv
        return (s + _T(s)) / 2

    return record(_T(chol) if upper else chol, (x,), d_x)


def cholesky_inverse(x, upper=False):
    """(L Lᵀ)⁻¹ = L⁻ᵀ L⁻¹ from a Cholesky factor L (lower; with ``upper``, U and U⁻¹ U⁻ᵀ),
    built from ``solve_triangular`` and ``matmul``, so the tape differentiates it."""
    a = _square(x)
    eye = np.eye(a.shape[-1], dtype=a.dtype)
    inv_chol = solve_triangular(x, eye, lower=not upper)
    if upper:
        return np_ops.matmul(inv_chol, np_ops.swapaxes(inv_chol, -1, -2))
    return np_ops.matmul(np_ops.swapaxes(inv_chol, -1, -2), inv_chol)


def _pseudo_inverse(a, keep):
    """(a⁺, backward): a⁺ = V diag(d) Uᵀ from the thin SVD a = U diag(s) Vᵀ, with d = 1/s where
    ``keep(s)`` holds and 0 elsewhere; ``backward(g)`` maps g = dL/da⁺ to dL/da.

    With Ū = gᵀ V diag(d), V̄ = g U diag(d), s̄ = -d²·diag(Vᵀ g U) (the derivatives of a⁺ in
    U, V and s), dL/da is the SVD's backward rule (Townsend, 2016; TensorFlow's too), with
    F_ij = 1/(s_j² - s_i²) off the diagonal:
    U [(F∘(UᵀŪ - ŪᵀU)) S + diag(s̄) + S (F∘(VᵀV̄ - V̄ᵀV))] Vᵀ
    + (I - UUᵀ) Ū S⁻¹ Vᵀ + U S⁻¹ V̄ᵀ (I - VVᵀ).
    Without dropped singular values this equals Golub & Pereyra's formula for d(a⁺)."""
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    kept = keep(s)
    d = np.where(kept, 1 / np.where(kept, s, 1), 0).astype(a.dtype)
    v = _T(vh)
    p = v @ (d[..., None] * _T(u))

    def backward(g):
        d_u = _T(g) @ v * d[..., None, :]
        d_v = g @ u * d[..., None, :]
        d_s = -d * d * np.einsum("...ij,...ji->...i", vh @ g, u)
        s2 = s[..., None, :] ** 2 - s[..., :, None] ** 2  # s_j² - s_i²
        off = ~np.eye(s.shape[-1], dtype=bool)
        with np.errstate(divide="ignore"):
            f = np.where(off, 1 / np.where(off, s2, 1), 0)
        ut_du, vt_dv = _T(u) @ d_u, _T(v) @ d_v
        core = ((f * (ut_du - _T(ut_du))) * s[..., None, :]
                + d_s[..., None, :] * np.eye(s.shape[-1], dtype=a.dtype)
                + s[..., :, None] * (f * (vt_dv - _T(vt_dv))))
        m, n = a.shape[-2:]
        eye_m, eye_n = np.eye(m, dtype=a.dtype), np.eye(n, dtype=a.dtype)
        return (u @ core @ vh + (eye_m - u @ _T(u)) @ (d_u * d[..., None, :]) @ vh
                + u @ _T(d_v * d[..., None, :]) @ (eye_n - v @ vh))

    return p, backward


def pinv(x, rcond=None):
    """The Moore-Penrose pseudo-inverse x⁺ from the SVD, as tf.linalg.pinv: singular values at
    or below rcond·max(s) count as 0 (default rcond = 10·max(m, n)·eps of the dtype).
    dL/dx through the SVD (see ``_pseudo_inverse``; distinct singular values)."""
    a = _matrices(x)
    if rcond is None:
        rcond = 10 * max(a.shape[-2:]) * np.finfo(a.dtype).eps
    p, backward = _pseudo_inverse(a, lambda s: s > rcond * np.max(s, axis=-1, keepdims=True))
    return record(p, (x,), backward)


def svd(x, full_matrices=True, compute_uv=True):
    """(u, s, vh) with x = u diag(s) vh; only s if not ``compute_uv``.
    ds: dL/dx = u diag(g) vh (distinct singular values). u and vh are plain Tensors (their
    signs are arbitrary; the tape does not differentiate them)."""
    a = _matrices(x)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    values = record(s, (x,), lambda g: (u * g[..., None, :]) @ vh)
    if not compute_uv:
        return values
    if full_matrices:
        u_full, _, vh_full = np.linalg.svd(a, full_matrices=True)
        return Tensor(u_full), values, Tensor(vh_full)
    return Tensor(u), values, Tensor(vh)


def eigh(x):
    """(w, v): the eigenvalues (ascending) and eigenvectors of a symmetric x, from its lower
    triangle. dw: x's gradient v diag(g) vᵀ, kept to the lower triangle as TensorFlow does
    (off the diagonal counted twice), since only that triangle is read. v is a plain Tensor."""
    a = _square(x)
    w, v = np.linalg.eigh(a)

    def d_x(g):
        full = (v * g[..., None, :]) @ _T(v)
        lower = np.tril(full + _T(full))
        return lower - np.einsum("...ii->...i", full)[..., None] * np.eye(a.shape[-1],
                                                                             dtype=a.dtype)

    return record(w, (x,), d_x), Tensor(v)


def eig(x):
    """(w, v): eigenvalues and eigenvectors of a general square x, complex (complex64 for
    float32, as TensorFlow). Not differentiable: plain Tensors. Their order (and each vector's
    phase) is LAPACK's, which need not be TensorFlow's."""
    a = _square(x)
    w, v = np.linalg.eig(a)
    complex_dtype = np.result_type(a.dtype, np.complex64)
    return Tensor(w.astype(complex_dtype)), Tensor(v.astype(complex_dtype))


def qr(x, mode="reduced"):
    """(q, r) with x = q r, q orthonormal, r upper triangular; ``mode`` "reduced" (q is m×k,
    k = min(m, n)) or "complete" (q is m×m). Not differentiable: plain Tensors."""
    if mode not in {"reduced", "complete"}:
        raise ValueError("`mode` argument value not supported. Expected one of "
                         f"{{'reduced', 'complete'}}. Received: mode={mode}")
    q, r = np.linalg.qr(_matrices(x), mode=mode)
    return Tensor(q), Tensor(r)


def lu_factor(x):
    """(lu, pivots): L (unit diagonal, below) and U (on and above) packed in one matrix, from
    Gaussian elimination with partial pivoting (the largest |entry| of each column), so that
    x[perm] = L U; as Keras with TensorFlow, ``pivots`` is the inverse of that permutation.
    Not differentiable: plain Tensors."""
    a = _square(x)
    lu = np.array(a, copy=True)
    n = a.shape[-1]
    batch = lu.reshape((-1, n, n))
    perms = np.tile(np.arange(n, dtype=np.int32), (batch.shape[0], 1))
    for m, perm in zip(batch, perms, strict=True):
        for k in range(n):
            p = k + int(np.argmax(np.abs(m[k:, k])))
            if p != k:
                m[[k, p]] = m[[p, k]]
                perm[[k, p]] = perm[[p, k]]
            if m[k, k] != 0:
                m[k + 1:, k] /= m[k, k]
                m[k + 1:, k + 1:] -= np.outer(m[k + 1:, k], m[k, k + 1:])
    pivots = np.argsort(perms, axis=-1).astype(np.int32)
    return Tensor(batch.reshape(a.shape)), Tensor(pivots.reshape(a.shape[:-1]))


def lstsq(a, b, rcond=None):
    """The x minimizing ||a x - b||₂, as Keras computes it: x = a⁺ b with a⁺ = V diag(1/s) Uᵀ
    from the SVD of a, dropping singular values below rcond·max(s) (default eps·max(m, n)).
    ``a`` is one matrix (m, n); ``b`` has shape (m,) or (m, k).
    dL/db = a⁺ᵀ g;  dL/da = the pseudo-inverse's backward rule applied to g bᵀ (through the
    SVD, so also when singular values are dropped)."""
    am, bm = np_ops._floats(a), np_ops._floats(b)
    if am.shape[0] != bm.shape[0]:
        raise ValueError("Leading dimensions of input arrays must match")
    if am.ndim != 2:
        raise TypeError(f"{am.ndim}-dimensional array given. Array must be two-dimensional")
    if bm.ndim not in (1, 2):
        raise TypeError(f"{bm.ndim}-dimensional array given. "
                        "Array must be one or two-dimensional")
    eps = np.finfo(am.dtype).eps
    rcond = eps * max(am.shape) if rcond is None else (eps if rcond < 0 else rcond)
    p, backward = _pseudo_inverse(am, lambda s: s >= rcond * s[0])
    b2 = bm[:, None] if bm.ndim == 1 else bm
    out = p @ b2

    def d_a(g):
        g2 = g[:, None] if bm.ndim == 1 else g
        return backward(g2 @ b2.T)

    def d_b(g):
        return p.T @ g

    return record(out.reshape(-1) if bm.ndim == 1 else out, (a, b), d_a, d_b)


def matrix_rank(x, tol=None):
    """The number of singular values above ``tol`` (default max(s)·max(m, n)·eps, as
    TensorFlow), as int32. Not differentiable."""
    a = _matrices(x)
    s = np.linalg.svd(a, compute_uv=False)
    if tol is None:
        tol = np.max(s, axis=-1, keepdims=True) * max(a.shape[-2:]) * np.finfo(a.dtype).eps
    return Tensor(np.sum(s > tol, axis=-1).astype(np.int32))


# --- jvp: a forward-mode product from reverse-mode rows -----------------------------------------
def jvp(fun, primals, tangents, has_aux=False):
    """(fun(*primals), J·tangents): the Jacobian-vector product of ``fun`` at ``primals``.

    J·v is what forward mode (TensorFlow's ``ForwardAccumulator``, ``jax.jvp``) pushes through
    the ops. minikeras has only the reverse mode, whose pass gives uᵀJ for an output gradient u.
    With u = e_i (1 at output entry i, 0 elsewhere) one backward pass gives row i of J, and

        (J·v)_i = e_iᵀ J v = Σ_inputs <d out_i / d input, v_input>

    is exact (no finite difference, no step size): it is the same chain rule, read one row at a
    time. ``fun`` runs once on a persistent tape; each output entry then costs one backward walk
    of that tape, so the price grows with the size of the outputs (fine for the small functions
    tutorials differentiate; use ``GradientTape`` for a scalar loss).

    As in Keras: ``primals`` and ``tangents`` are lists or tuples of the arguments (any nesting,
    the same structure), tangents are cast to their primal's dtype, the result has the
    structure of ``fun``'s output, and an output that depends on no floating primal (a
    constant, or an integer result) gets ``None`` as its tangent. With ``has_aux=True``,
    ``fun`` returns ``(output, aux)`` and the result is ``(output, tangents_out, aux)``.
    Primals may also be NumPy arrays or numbers: each leaf is given to ``fun`` as a new Tensor
    of its value, so the same tensor passed twice is two inputs with two tangents, as in
    ``jax.jvp`` (TensorFlow refuses such a call).
    """
    if not isinstance(primals, list | tuple) or not isinstance(tangents, list | tuple):
        raise TypeError(f"`primals` and `tangents` must be tuples or lists of arguments. "
                        f"Received: primals={type(primals).__name__}, "
                        f"tangents={type(tangents).__name__}")
    flat_primals, flat_tangents = tree.flatten(primals), tree.flatten(tangents)
    if len(flat_primals) != len(flat_tangents):
        raise ValueError(f"`tangents` must have the structure of `primals`: {len(flat_primals)} "
                         f"primal arrays but {len(flat_tangents)} tangents.")
    # each primal becomes its own input, as in jax.jvp: d(a * b) = da·b + a·db even if a is b
    inputs = [Tensor(np.asarray(value_of(p))) for p in flat_primals]
    directions = []  # (input, tangent as the input's dtype) for the inputs that have a tangent
    for x, t in zip(inputs, flat_tangents, strict=True):
        dtype = np.asarray(x._value).dtype
        t = np.asarray(value_of(t)).astype(dtype)
        if t.shape != x.shape:
            raise ValueError(f"Each tangent must have its primal's shape: primal {x.shape}, "
                             f"tangent {t.shape}.")
        if dtype.kind == "f":  # integers have no tangent space (TensorFlow: None)
            directions.append((x, t))
    with GradientTape(persistent=True, watch_accessed_variables=False) as tape:
        tape.watch([x for x, _ in directions])
        result = fun(*tree.pack_sequence_as(primals, inputs))
    outputs, aux = result if has_aux else (result, None)
    sources = [x for x, _ in directions]
    tangents_out = [_jvp_of_output(tape, out, sources, [t for _, t in directions])
                    for out in tree.flatten(outputs)]
    tangents_out = tree.pack_sequence_as(outputs, tangents_out)
    return (outputs, tangents_out, aux) if has_aux else (outputs, tangents_out)


def _jvp_of_output(tape, out, sources, tangents):
    """J·v for one output: entry i is Σ <row i of d out / d source, tangent>, the row found by a
    backward pass seeded with e_i. None if ``out`` depends on no source."""
    if not isinstance(out, ArrayLike) or not sources:
        return None
    value = np.asarray(out._value)
    if value.dtype.kind != "f":
        return None
    product = np.zeros(value.size, np.float64)  # the sums in float64, then the output's dtype
    connected = False
    for i in range(value.size):
        seed = np.zeros(value.shape, value.dtype)
        seed.flat[i] = 1
        rows = tape.gradient(out, sources, output_gradients=seed)
        for row, t in zip(rows, tangents, strict=True):
            if row is not None:
                connected = True
                product[i] += np.sum(np.asarray(row._value, np.float64) * t)
    if not connected:
        return None
    return Tensor(product.reshape(value.shape).astype(value.dtype))
