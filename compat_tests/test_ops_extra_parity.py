"""The newest minikeras.ops against keras.ops (TensorFlow backend): piecewise activations and
normalizations, linear algebra, control flow.

As in test_ops_parity.py: the same float32 inputs, forward values (and dtypes) equal to rtol 1e-5,
atol 1e-6, and gradients of ``sum(f(x) * r)`` equal to ``tf.GradientTape``'s. Decompositions whose
factors are unique only up to sign or order (svd's U and V, eigenvectors, eig's order) are compared
through quantities that do not depend on that choice.
"""

import keras
import numpy as np
import pytest
from test_ops_parity import assert_parity

import minikeras
from minikeras import ops as mk

RNG = np.random.default_rng(23)


def _f32(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape).astype("float32")


def _same(ours, theirs, rtol=1e-5, atol=1e-6):
    """Equal values, shapes and dtypes (for ops without gradients)."""
    theirs, ours = np.asarray(theirs), np.asarray(ours)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


# --- activations -----------------------------------------------------------------------------
ACTIVATIONS = ["celu", "glu", "hard_tanh", "hard_shrink", "soft_shrink", "tanh_shrink",
               "sparse_plus", "sparse_sigmoid", "squareplus"]
KINKS = np.array([[-1.0, -0.5, 0.0, 0.5, 1.0, -2.0, 2.0, -0.25]], "float32")  # every joint


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_parity(name):
    for x in [_f32(4, 6, low=-3, high=3), KINKS, np.array([[-30.0, 30.0]], "float32")]:
        assert_parity(getattr(mk, name), getattr(keras.ops, name), x)
        assert_parity(getattr(minikeras.activations, name), getattr(keras.activations, name), x)


@pytest.mark.parametrize("name, kwargs", [
    ("celu", {"alpha": 0.5}), ("glu", {"axis": 0}), ("hard_shrink", {"threshold": 1.0}),
    ("soft_shrink", {"threshold": 1.0}), ("squareplus", {"b": 1}),
    ("threshold", {"threshold": 0.5, "default_value": -1.0}),
    ("threshold", {"threshold": -0.5, "default_value": 2.0}),
], ids=str)
def test_activation_options_parity(name, kwargs):
    x = np.concatenate([_f32(3, 8, low=-3, high=3), KINKS * 2])
    assert_parity(lambda t: getattr(mk, name)(t, **kwargs),
                  lambda t: getattr(keras.ops, name)(t, **kwargs), x)


@pytest.mark.parametrize("axis, shapes", [
    (-1, [(3, 5), (5,), (5,)]), (1, [(2, 4, 3), (4,), (4,)]), ((1, 2), [(2, 4, 3), (4, 3), None]),
    (-1, [(2, 5), None, None]), ([0, 2], [(2, 4, 3), None, (2, 3)]),
], ids=str)
def test_layer_normalization_parity(axis, shapes):
    args = [_f32(*s) if s else None for s in shapes]
    present = [a for a in args if a is not None]

    def call(lib):
        def f(*xs):
            it = iter(xs)
            full = [next(it) if a is not None else None for a in args]
            return lib.layer_normalization(full[0], full[1], full[2], axis=axis, epsilon=1e-3)
        return f

    assert_parity(call(mk), call(keras.ops), *present)


def test_layer_normalization_float16_and_default_epsilon_parity():
    x = _f32(3, 4)
    assert_parity(mk.layer_normalization, keras.ops.layer_normalization, x)
    half = x.astype("float16")
    _same(mk.layer_normalization(half), keras.ops.layer_normalization(half), rtol=1e-3,
          atol=1e-3)


@pytest.mark.parametrize("axis, scale_shape", [(-1, (5,)), (0, None), ((0, 1), (3, 5)),
                                               (-1, None)], ids=str)
def test_rms_normalization_parity(axis, scale_shape):
    x = _f32(3, 5)
    if scale_shape is None:
        assert_parity(lambda t: mk.rms_normalization(t, axis=axis),
                      lambda t: keras.ops.rms_normalization(t, axis=axis), x)
    else:
        assert_parity(lambda t, s: mk.rms_normalization(t, s, axis=axis, epsilon=1e-2),
                      lambda t, s: keras.ops.rms_normalization(t, s, axis=axis, epsilon=1e-2),
                      x, _f32(*scale_shape))


@pytest.mark.parametrize("axis", [-1, 1, 0])
def test_batch_normalization_parity(axis):
    x = _f32(4, 3, 5)
    n = x.shape[axis]
    mean, var = _f32(n), _f32(n, low=0.5, high=2.0)
    offset, scale = _f32(n), _f32(n)
    assert_parity(
        lambda *a: mk.batch_normalization(a[0], a[1], a[2], axis, a[3], a[4]),
        lambda *a: keras.ops.batch_normalization(a[0], a[1], a[2], axis, a[3], a[4]),
        x, mean, var, offset, scale)
    assert_parity(lambda *a: mk.batch_normalization(*a, axis=axis, epsilon=0.1),
                  lambda *a: keras.ops.batch_normalization(*a, axis=axis, epsilon=0.1),
                  x, mean, var)


def test_psnr_parity():
    a, b = _f32(4, 5, low=0, high=1), _f32(4, 5, low=0, high=1)
    assert_parity(lambda s, t: mk.psnr(s, t, 1.0), lambda s, t: keras.ops.psnr(s, t, 1.0), a, b)
    assert_parity(lambda s, t: mk.psnr(s, t, 255.0),
                  lambda s, t: keras.ops.psnr(s, t, 255.0), a * 255, b * 255)


# --- linear algebra --------------------------------------------------------------------------
# Well-conditioned float32 matrices (a random part plus 4·I), so float32 round-off stays below
# the 1e-5 tolerance whichever LAPACK routine (NumPy's or TensorFlow's Eigen) computes them.
def _matrix(*batch, n=3):
    return (_f32(*batch, n, n) + 4 * np.eye(n)).astype("float32")


def _spd(*batch, n=3):
    a = _f32(*batch, n, n)
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype("float32")


@pytest.mark.parametrize("batch", [(), (2,)], ids=str)
@pytest.mark.parametrize("name", ["inv", "det"])
def test_inv_det_parity(name, batch):
    assert_parity(getattr(mk, name), getattr(keras.ops, name), _matrix(*batch))


@pytest.mark.parametrize("batch", [(), (2,)], ids=str)
def test_slogdet_and_logdet_parity(batch):
    a = _matrix(*batch)
    a[..., 0, :] *= -1  # a negative determinant
    _same(mk.slogdet(a)[0], keras.ops.slogdet(a)[0])
    assert_parity(lambda t: mk.slogdet(t)[1], lambda t: keras.ops.slogdet(t)[1], a)
    assert_parity(mk.logdet, keras.ops.logdet, _spd(*batch))


@pytest.mark.parametrize("b_shape", [(3, 2), (3,)], ids=str)
def test_solve_parity(b_shape):
    assert_parity(mk.solve, keras.ops.solve, _matrix(), _f32(*b_shape))


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("b_shape", [(3, 2), (3,)], ids=str)
def test_solve_triangular_parity(lower, b_shape):
    a = _matrix()  # a full matrix: only one triangle may be read, and only it gets a gradient
    assert_parity(lambda s, t: mk.solve_triangular(s, t, lower),
                  lambda s, t: keras.ops.solve_triangular(s, t, lower), a, _f32(*b_shape))


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_parity(upper):
    """TensorFlow's Cholesky gradient is symmetric (it treats x as symmetric); so is ours."""
    assert_parity(lambda t: mk.cholesky(t, upper), lambda t: keras.ops.cholesky(t, upper),
                  _spd())
    factor = np.linalg.cholesky(_spd()).astype("float32")
    factor = factor.T if upper else factor
    assert_parity(lambda t: mk.cholesky_inverse(t, upper),
                  lambda t: keras.ops.cholesky_inverse(t, upper), factor)


def test_cholesky_rejects_matrices_that_are_not_positive_definite():
    with pytest.raises(ValueError):
        keras.ops.cholesky(-_spd())
    with pytest.raises(ValueError, match="positive definite"):
        mk.cholesky(-_spd())


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3)], ids=str)
def test_pinv_parity(shape):
    x = _matrix(shape[0]) if shape == (2, 3, 3) else _f32(*shape)  # square: well-conditioned
    assert_parity(mk.pinv, keras.ops.pinv, x)
    rank_one = np.outer([1.0, 2.0, 3.0], [1.0, -1.0]).astype("float32")
    _same(mk.pinv(rank_one), keras.ops.pinv(rank_one))
    s = np.linalg.svd(x, compute_uv=False)
    rcond = float(np.mean(s[..., -2:] / s[..., :1]))  # drops the smallest singular value(s)
    assert_parity(lambda t: mk.pinv(t, rcond), lambda t: keras.ops.pinv(t, rcond), x)


@pytest.mark.parametrize("full_matrices", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3)], ids=str)
def test_svd_parity(shape, full_matrices):
    """The singular values (and their gradient) must agree exactly; U and V only up to the sign
    of each singular pair, so we compare |U|, |V| and the reconstruction U diag(s) V^T."""
    x = _f32(*shape)
    assert_parity(lambda t: mk.svd(t, compute_uv=False),
                  lambda t: keras.ops.svd(t, compute_uv=False), x)
    assert_parity(lambda t: mk.svd(t, full_matrices)[1],
                  lambda t: keras.ops.svd(t, full_matrices)[1], x)
    ours, theirs = mk.svd(x, full_matrices), keras.ops.svd(x, full_matrices)
    k = min(shape[-2:])
    for o, t in zip(ours, theirs, strict=True):
        assert o.shape == tuple(t.shape) and o.dtype == t.dtype
    # the first k columns of U and rows of V^T (the rest of a full basis is arbitrary)
    pairs = [(ours[0][..., :k], theirs[0][..., :k]), (ours[2][..., :k, :], theirs[2][..., :k, :])]
    for o, t in pairs:
        np.testing.assert_allclose(np.abs(np.asarray(o)), np.abs(np.asarray(t)), rtol=1e-4,
                                   atol=1e-5)
    u, s, vh = (np.asarray(v) for v in ours)
    np.testing.assert_allclose((u[..., :k] * s[..., None, :]) @ vh[..., :k, :], x, atol=1e-5)


def test_eigh_parity():
    """Eigenvalues and their gradient (TensorFlow keeps it to the lower triangle that eigh
    reads, as we do); eigenvectors up to sign."""
    a = _spd(2)
    assert_parity(lambda t: mk.eigh(t)[0], lambda t: keras.ops.eigh(t)[0], a)
    ours, theirs = np.asarray(mk.eigh(a)[1]), np.asarray(keras.ops.eigh(a)[1])
    assert ours.dtype == theirs.dtype
    np.testing.assert_allclose(np.abs(ours), np.abs(theirs), rtol=1e-4, atol=1e-5)


def test_eig_parity():
    """Complex64 eigenvalues and eigenvectors; the order and each vector's phase are LAPACK's
    choice, so we compare the sorted eigenvalues and check a v = λ v for our pairs."""
    a = _f32(4, 4)
    (w, v), (k_w, k_v) = mk.eig(a), keras.ops.eig(a)
    assert w.dtype == np.asarray(k_w).dtype == np.complex64
    assert v.dtype == np.asarray(k_v).dtype
    np.testing.assert_allclose(np.sort_complex(np.asarray(w)), np.sort_complex(np.asarray(k_w)),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a @ np.asarray(v), np.asarray(v) * np.asarray(w), atol=1e-5)


@pytest.mark.parametrize("mode", ["reduced", "complete"])
@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3)], ids=str)
def test_qr_parity(shape, mode):
    """Both use Householder reflections, so q and r agree with their signs (checked up to
    sign, with the product q r exact)."""
    x = _f32(*shape)
    ours, theirs = mk.qr(x, mode), keras.ops.qr(x, mode)
    for o, t in zip(ours, theirs, strict=True):
        assert o.shape == tuple(t.shape) and o.dtype == t.dtype
        np.testing.assert_allclose(np.abs(np.asarray(o)), np.abs(np.asarray(t)), rtol=1e-4,
                                   atol=1e-5)
    np.testing.assert_allclose(np.asarray(ours[0]) @ np.asarray(ours[1]), x, atol=1e-5)


def test_lu_factor_parity():
    """(Keras 3.15's TensorFlow lu_factor fails on a batch of matrices, in invert_permutation;
    minikeras takes batches, tested in tests/test_ops_linalg_nn.py.)"""
    for a in [np.array([[1.0, 2, 0], [3, 4, 1], [0, 5, 2]], "float32"), _f32(4, 4),
              _f32(5, 5)]:
        lu, pivots = mk.lu_factor(a)
        k_lu, k_pivots = keras.ops.lu_factor(a)
        _same(lu, k_lu)
        _same(pivots, k_pivots)


@pytest.mark.parametrize("b_shape", [(5,), (5, 2)], ids=str)
def test_lstsq_parity(b_shape):
    """Values and gradients (TensorFlow's go through its SVD's)."""
    a, b = _f32(5, 3), _f32(*b_shape)
    assert_parity(mk.lstsq, keras.ops.lstsq, a, b)
    assert_parity(lambda s, t: mk.lstsq(s, t, rcond=0.5),
                  lambda s, t: keras.ops.lstsq(s, t, rcond=0.5), a, b)


def test_matrix_rank_parity():
    for x in [_f32(3, 3), np.array([[1.0, 2], [2, 4]], "float32"), _f32(2, 4, 3),
              np.outer([1.0, 2, 3], [1.0, 1, 1]).astype("float32")]:
        _same(mk.matrix_rank(x), keras.ops.matrix_rank(x))
    x = np.diag([3.0, 0.5, 2.0]).astype("float32")
    _same(mk.matrix_rank(x, tol=1.0), keras.ops.matrix_rank(x, tol=1.0))


# --- control flow ----------------------------------------------------------------------------
def test_cond_and_switch_parity():
    x = _f32(3)
    for pred in [True, False]:
        assert_parity(lambda t, p=pred: mk.cond(p, lambda: t * 2.0, lambda: mk.sin(t)),
                      lambda t, p=pred: keras.ops.cond(p, lambda: t * 2.0,
                                                       lambda: keras.ops.sin(t)), x)
    for index in [-1, 0, 1, 2, 5]:
        assert_parity(
            lambda t, i=index: mk.switch(i, [lambda s: s + 1.0, mk.exp, lambda s: s * s], t),
            lambda t, i=index: keras.ops.switch(
                i, [lambda s: s + 1.0, keras.ops.exp, lambda s: s * s], t), x)


def test_while_and_fori_loop_parity():
    x = _f32(3, low=0.5, high=1.5)
    assert_parity(lambda t: mk.fori_loop(0, 4, lambda i, v: v * t + i, t),
                  lambda t: keras.ops.fori_loop(0, 4, lambda i, v: v * t + i, t), x)
    ours = mk.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * 2.0), (0, x))
    theirs = keras.ops.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * 2.0), (0, x))
    assert int(ours[0]) == int(theirs[0])
    _same(ours[1], theirs[1])
    _same(mk.while_loop(lambda v: v < 50, lambda v: v * 3, 1, maximum_iterations=2),
          keras.ops.while_loop(lambda v: v < 50, lambda v: v * 3, 1, maximum_iterations=2))


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_parity(reverse):
    xs = _f32(5, 2)

    def run(lib):
        def f(t):
            carry, ys = lib.scan(lambda c, x: (c * 0.5 + x, lib.sin(c) * x), lib.zeros(2), t,
                                 reverse=reverse)
            return lib.concatenate([carry[None], ys])
        return f

    assert_parity(run(mk), run(keras.ops), xs)
    ours = mk.scan(lambda c, _: (c + 1.0, c * 2.0), np.float32(0), length=3)
    theirs = keras.ops.scan(lambda c, _: (c + 1.0, c * 2.0), np.float32(0), length=3)
    _same(ours[0], theirs[0])
    _same(ours[1], theirs[1])


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [0, 1])
def test_associative_scan_parity(axis, reverse):
    x = _f32(4, 5, low=0.5, high=1.5)
    assert_parity(lambda t: mk.associative_scan(lambda a, b: a * b, t, reverse, axis),
                  lambda t: keras.ops.associative_scan(lambda a, b: a * b, t, reverse, axis), x)
    pair_ours = mk.associative_scan(lambda a, b: (a[0] + b[0], mk.maximum(a[1], b[1])), (x, -x),
                                    reverse, axis)
    pair_theirs = keras.ops.associative_scan(
        lambda a, b: (a[0] + b[0], keras.ops.maximum(a[1], b[1])), (x, -x), reverse, axis)
    for o, t in zip(pair_ours, pair_theirs, strict=True):
        _same(o, t)


def test_map_and_vectorized_map_parity():
    x = _f32(4, 3)
    assert_parity(lambda t: mk.map(lambda r: mk.sum(r * r) * r, t),
                  lambda t: keras.ops.map(lambda r: keras.ops.sum(r * r) * r, t), x)
    assert_parity(lambda t: mk.vectorized_map(lambda r: mk.sin(r) * r[0], t),
                  lambda t: keras.ops.vectorized_map(lambda r: keras.ops.sin(r) * r[0], t), x)
    ours = mk.map(lambda p: {"s": p[0] + p[1]}, (x, 2 * x))
    theirs = keras.ops.map(lambda p: {"s": p[0] + p[1]}, (x, 2 * x))
    _same(ours["s"], theirs["s"])


def test_slice_and_slice_update_parity():
    x = _f32(4, 5)
    for start, shape in [((1, 2), (2, 3)), ((0, 0), (4, 5)), ((1, 0), (-1, 2))]:
        assert_parity(lambda t, s=start, n=shape: mk.slice(t, s, n),
                      lambda t, s=start, n=shape: keras.ops.slice(t, s, n), x)
    # values only: TensorFlow has no gradient for XlaDynamicUpdateSlice (ours is checked
    # against finite differences in tests/test_ops_linalg_nn.py)
    for start in [(1, 3), (0, 0), (2, 3), (3, 4)]:
        assert_parity(lambda t, u, s=start: mk.slice_update(t, s, u),
                      lambda t, u, s=start: keras.ops.slice_update(t, s, u), x, _f32(2, 2),
                      wrt=[])
    ints = np.arange(12, dtype="int32").reshape(3, 4)
    update = np.array([[-1, -2]], "int32")
    _same(mk.slice_update(ints, (1, 1), update), keras.ops.slice_update(ints, (1, 1), update))


def test_scatter_parity():
    indices = np.array([[0, 1], [2, 3], [0, 1]], "int32")
    assert_parity(lambda v: mk.scatter(indices, v, (3, 4)),
                  lambda v: keras.ops.scatter(indices, v, (3, 4)), _f32(3))
    rows = np.array([[2], [0]], "int32")
    assert_parity(lambda v: mk.scatter(rows, v, (3, 2)),
                  lambda v: keras.ops.scatter(rows, v, (3, 2)), _f32(2, 2))


@pytest.mark.parametrize("reduction", [None, "add", "max", "min", "mul"])
def test_scatter_update_parity(reduction):
    x = _f32(3, 4)
    unique = np.array([[0, 1], [2, 3], [1, 0]], "int32")
    updates = _f32(3)
    wrt = None if reduction in (None, "add") else []  # max, min, mul: values only
    assert_parity(lambda t, u: mk.scatter_update(t, unique, u, reduction),
                  lambda t, u: keras.ops.scatter_update(t, unique, u, reduction),
                  x, updates, wrt=wrt)
    if reduction is not None:  # repeated indices combine
        repeated = np.array([[0, 1], [0, 1], [2, 2]], "int32")
        _same(mk.scatter_update(x, repeated, updates, reduction),
              keras.ops.scatter_update(x, repeated, updates, reduction))
    rows, row = np.array([[1]], "int32"), _f32(1, 4)  # a whole row at a time
    _same(mk.scatter_update(x, rows, row, reduction),
          keras.ops.scatter_update(x, rows, row, reduction))


def test_custom_gradient_parity():
    def make(lib):
        @lib.custom_gradient
        def log1pexp(x):
            e = lib.exp(x)

            def grad(*args, upstream=None):
                if upstream is None:
                    (upstream,) = args
                return lib.multiply(upstream, 1.0 - 1.0 / lib.add(1, e))

            return lib.log(1 + e), grad

        return lambda t: log1pexp(t) * 2.0

    assert_parity(make(mk), make(keras.ops), _f32(5, low=-5, high=5))


# --- the numpy namespace's leftovers -----------------------------------------------------------
INTS = np.array([[12, -18, 7], [0, 5, 40]], "int32")
INTS2 = np.array([[8, 27, 0], [3, 0, 15]], "int32")


def test_integer_and_bit_ops_parity():
    for name in ["bitwise_and", "bitwise_or", "bitwise_xor", "gcd", "lcm"]:
        _same(getattr(mk, name)(INTS, INTS2), getattr(keras.ops, name)(INTS, INTS2))
        _same(getattr(mk, name)(INTS, INTS2.astype("int8")),
              getattr(keras.ops, name)(INTS, INTS2.astype("int8")))
    for name in ["bitwise_not", "bitwise_invert"]:
        _same(getattr(mk, name)(INTS), getattr(keras.ops, name)(INTS))
    small = np.array([1, 2, 3], "int32")
    for name in ["bitwise_left_shift", "left_shift", "bitwise_right_shift", "right_shift"]:
        _same(getattr(mk, name)(INTS, 2), getattr(keras.ops, name)(INTS, 2))
        _same(getattr(mk, name)(small, small), getattr(keras.ops, name)(small, small))
    with pytest.raises(TypeError, match="integers"):
        mk.gcd(_f32(3), _f32(3))


def test_complex_parts_and_predicates_parity():
    x = np.array([-1.5, 0.0, 2.0], "float32")
    for name in ["real", "conj", "conjugate"]:
        assert_parity(getattr(mk, name), getattr(keras.ops, name), x)
    for name in ["imag", "isreal", "angle"]:
        _same(getattr(mk, name)(x), getattr(keras.ops, name)(x))
    z = np.array([1 + 2j, -3j, 4], "complex64")
    for name in ["real", "imag", "conj", "isreal", "angle"]:
        _same(getattr(mk, name)(z), getattr(keras.ops, name)(z))
    _same(mk.angle(np.array([-2, 3], "int32")), keras.ops.angle(np.array([-2, 3], "int32")))


def test_allclose_isin_array_empty_like_parity():
    a = _f32(3, 4)
    for b in [a + 1e-7, a + 1e-3, np.where(a > 0, np.inf, a).astype("float32")]:
        _same(mk.allclose(a, b), keras.ops.allclose(a, b))
    nan = np.array([np.nan, 1.0], "float32")
    for equal_nan in [False, True]:
        _same(mk.allclose(nan, nan, equal_nan=equal_nan),
              keras.ops.allclose(nan, nan, equal_nan=equal_nan))
    _same(mk.allclose(INTS, INTS), keras.ops.allclose(INTS, INTS))
    for invert in [False, True]:
        _same(mk.isin(INTS, [7, 0, 3], invert=invert),
              keras.ops.isin(INTS, [7, 0, 3], invert=invert))
    for value, dtype in [([1.5, 2.0], None), ([1, 2], None), ([1, 2], "float16"), (a, None)]:
        _same(mk.array(value, dtype), keras.ops.array(value, dtype))
    _same(mk.empty_like(a), keras.ops.empty_like(a))
    _same(mk.empty_like(a, "int32"), keras.ops.empty_like(a, "int32"))


@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin_parity(name):
    a = _f32(3, 4)
    b = _f32(3, 4)
    a[0, 0] = b[1, 1] = np.nan
    a[2, 2] = b[2, 2] = np.nan
    _same(getattr(mk, name)(a, b), getattr(keras.ops, name)(a, b))
    assert_parity(getattr(mk, name), getattr(keras.ops, name), _f32(3, 4), _f32(4))
    ties = np.array([1.0, 2.0], "float32")
    assert_parity(getattr(mk, name), getattr(keras.ops, name), ties, ties.copy())
    _same(getattr(mk, name)(INTS, INTS2), getattr(keras.ops, name)(INTS, INTS2))
    _same(getattr(mk, name)(INTS, 2.5), getattr(keras.ops, name)(INTS, 2.5))


def test_ldexp_sinc_i0_erfinv_parity():
    exponent = np.array([[0, 1, -2, 3]], "int32")
    assert_parity(lambda t: mk.ldexp(t, exponent), lambda t: keras.ops.ldexp(t, exponent),
                  _f32(3, 4))
    _same(mk.ldexp(INTS, INTS2), keras.ops.ldexp(INTS, INTS2))
    # sinc away from 0: TensorFlow's autodiff gives NaN there (ours gives the true 0)
    assert_parity(mk.sinc, keras.ops.sinc, _f32(3, 4, low=0.1, high=2.5) * np.sign(_f32(3, 4)))
    _same(mk.sinc(np.zeros(2, "float32")), keras.ops.sinc(np.zeros(2, "float32")))
    _same(mk.sinc(INTS), keras.ops.sinc(INTS))
    x = _f32(3, 4, low=-3, high=3)
    for dtype in ["float32", "float64", "int32"]:
        _same(mk.i0(x.astype(dtype)), keras.ops.i0(x.astype(dtype)))
    y = np.concatenate([_f32(10, low=-0.99, high=0.99), [0.0, 0.5, -0.9999]]).astype("float32")
    assert_parity(mk.erfinv, keras.ops.erfinv, y)
    _same(mk.erfinv(np.array([1.0, -1.0, 1.5], "float32")),
          keras.ops.erfinv(np.array([1.0, -1.0, 1.5], "float32")))
    _same(mk.erfinv(y.astype("float64")), keras.ops.erfinv(y.astype("float64")))


def test_nextafter_parity_and_the_float32_difference():
    """Keras 3.15 steps in float64 and rounds back, so its float32 nextafter returns x1
    unchanged; minikeras steps in the result dtype, as NumPy (docs/keras-compatibility.md)."""
    a, b = np.array([1.0, 0.0, -2.0], "float64"), np.array([2.0, -1.0, -3.0], "float64")
    _same(mk.nextafter(a, b), keras.ops.nextafter(a, b))
    ones = np.ones(2, "float32")
    np.testing.assert_array_equal(keras.ops.nextafter(ones, 2 * ones), ones)  # the Keras bug
    assert np.all(np.asarray(mk.nextafter(ones, 2 * ones)) > 1)
    assert mk.nextafter(ones, 2 * ones).dtype == "float32"


def test_creation_parity():
    for args, kwargs in [((0.0, 2.0, 5), {}), ((1, 3, 4), {"base": 2}),
                         ((0.0, 1.0, 4), {"endpoint": False}),
                         ((0.0, 2.0, 3), {"dtype": "float64"})]:
        _same(mk.logspace(*args, **kwargs), keras.ops.logspace(*args, **kwargs))
    for args, kwargs in [((1.0, 1000.0, 4), {}), ((-1.0, -16.0, 5), {}),
                         ((2.0, 32.0, 5), {"endpoint": False}),
                         ((1, 100, 3), {"dtype": "float64"})]:
        _same(mk.geomspace(*args, **kwargs), keras.ops.geomspace(*args, **kwargs))
    for k in [0, 1, -2]:
        assert_parity(lambda t, k=k: mk.diagflat(t, k), lambda t, k=k: keras.ops.diagflat(t, k),
                      _f32(2, 2))
    for indexing in ["xy", "ij"]:
        for sizes in [(3,), (2, 3), (2, 3, 4)]:
            xs = [_f32(n) for n in sizes]

            def weighted(lib, ix=indexing):
                return lambda *t: lib.stack([g * (i + 1.0) for i, g in
                                             enumerate(lib.meshgrid(*t, indexing=ix))])

            assert_parity(weighted(mk), weighted(keras.ops), *xs)


@pytest.mark.parametrize("shapes", [((2, 3), (3, 2)), ((3,), (2,)), ((2, 2), (3,)),
                                    ((2,), (2, 3, 1))], ids=str)
def test_kron_parity(shapes):
    assert_parity(mk.kron, keras.ops.kron, _f32(*shapes[0]), _f32(*shapes[1]))


@pytest.mark.parametrize("n, increasing", [(None, False), (3, True), (5, False)], ids=str)
def test_vander_parity(n, increasing):
    x = _f32(4, low=0.5, high=1.5) * np.array([1, -1, 1, -1], "float32")
    assert_parity(lambda t: mk.vander(t, n, increasing),
                  lambda t: keras.ops.vander(t, n, increasing), x)
    ints = np.array([1, 2, 3], "int32")
    _same(mk.vander(ints, n, increasing), keras.ops.vander(ints, n, increasing))


@pytest.mark.parametrize("shapes, kwargs", [
    (((4, 3), (4, 3)), {}), (((3,), (3,)), {}), (((2, 3), (3,)), {}), (((4, 2), (4, 3)), {}),
    (((4, 2), (4, 2)), {}), (((3, 4), (3, 4)), {"axis": 0}),
    (((3, 4), (4, 3)), {"axisa": 0, "axisc": 0}),
], ids=str)
def test_cross_parity(shapes, kwargs):
    assert_parity(lambda a, b: mk.cross(a, b, **kwargs),
                  lambda a, b: keras.ops.cross(a, b, **kwargs), _f32(*shapes[0]), _f32(*shapes[1]))


@pytest.mark.parametrize("with_x, axis", [(False, -1), (True, -1), (False, 0), (True, 0)],
                         ids=str)
def test_trapezoid_parity(with_x, axis):
    y = _f32(3, 5)
    if with_x:
        x = np.sort(_f32(*y.shape), axis=axis).astype("float32")
        assert_parity(lambda s, t: mk.trapezoid(s, t, axis=axis),
                      lambda s, t: keras.ops.trapezoid(s, t, axis=axis), y, x)
        points = np.array([0.0, 0.5, 1.5, 2.0, 4.0], "float32")
        assert_parity(lambda s: mk.trapezoid(s, points), lambda s: keras.ops.trapezoid(s, points),
                      y)
    else:
        assert_parity(lambda s: mk.trapezoid(s, dx=0.5, axis=axis),
                      lambda s: keras.ops.trapezoid(s, dx=0.5, axis=axis), y)
    _same(mk.trapezoid(INTS), keras.ops.trapezoid(INTS))


def test_corrcoef_and_correlate_parity():
    assert_parity(mk.corrcoef, keras.ops.corrcoef, _f32(3, 6))
    _same(mk.corrcoef(INTS), keras.ops.corrcoef(INTS))
    for mode in ["valid", "same", "full"]:
        for n, m in [(6, 3), (5, 4), (4, 4)]:
            assert_parity(lambda a, b, mode=mode: mk.correlate(a, b, mode),
                          lambda a, b, mode=mode: keras.ops.correlate(a, b, mode),
                          _f32(n), _f32(m))
        _same(mk.correlate(INTS[0], INTS2[0], mode), keras.ops.correlate(INTS[0], INTS2[0], mode))


def test_counting_and_searching_parity():
    x = np.array([0.5, 1.0, 2.5, -1.0, 3.0], "float32")
    _same(mk.digitize(x, [0.0, 1.0, 2.0]), keras.ops.digitize(x, [0.0, 1.0, 2.0]))
    _same(mk.digitize(INTS, [0, 10, 20]), keras.ops.digitize(INTS, [0, 10, 20]))
    seq = np.array([0.0, 1.0, 1.0, 2.5, 4.0], "float32")
    for side in ["left", "right"]:
        _same(mk.searchsorted(seq, x, side), keras.ops.searchsorted(seq, x, side))
    counts = np.array([0, 3, 1, 3, 3, 0], "int32")
    _same(mk.bincount(counts), keras.ops.bincount(counts))
    _same(mk.bincount(counts, minlength=7), keras.ops.bincount(counts, minlength=7))
    w = _f32(6)
    _same(mk.bincount(counts, weights=w), keras.ops.bincount(counts, weights=w))
    rows = np.array([[0, 1, 1], [2, 2, 0]], "int32")
    _same(mk.bincount(rows), keras.ops.bincount(rows))
    data = _f32(50)
    for bins, range_ in [(10, None), (4, (-1.0, 1.0)), (7, None)]:
        for o, t in zip(mk.histogram(data, bins, range_), keras.ops.histogram(data, bins, range_),
                        strict=True):
            _same(o, t)
    # 1-D indices only: Keras 3.15 unravels other ranks (and scalars) with the axes in the
    # wrong order (unravel_index(4, (3, 4)) gives (1, 1), not (1, 0)); ours follows NumPy,
    # tested in tests/test_ops_linalg_nn.py
    for indices in [np.array([0, 5, 11], "int32"), np.array([3, 7], "int64")]:
        for o, t in zip(mk.unravel_index(indices, (3, 4)),
                        keras.ops.unravel_index(indices, (3, 4)), strict=True):
            _same(o, t)


def test_argpartition_parity():
    """The order inside each side is unspecified: compare the partition itself. 1-D only:
    Keras 3.15's TensorFlow argpartition fails on 2-D input (its scatter indexes the wrong
    axis); ours takes any rank (tests/test_ops_linalg_nn.py)."""
    for x in [np.array([5, -3, 2, -7, 0, 9], "int32"), np.array([1, 1, 4, 0, -2, 3], "int32")]:
        for kth in [0, 2, 5]:
            ours, theirs = np.asarray(mk.argpartition(x, kth)), np.asarray(
                keras.ops.argpartition(x, kth))
            assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
            ranked = np.sort(x)
            for idx in [ours, theirs]:
                picked = x[idx]
                assert picked[kth] == ranked[kth]
                assert np.all(picked[:kth] <= picked[kth])
                assert np.all(picked[kth + 1:] >= picked[kth])


@pytest.mark.parametrize("kwargs", [{}, {"sorted": False}, {"return_index": True},
                                    {"return_inverse": True, "return_counts": True},
                                    {"sorted": False, "return_inverse": True,
                                     "return_index": True, "return_counts": True},
                                    {"size": 6, "fill_value": -1, "return_counts": True},
                                    {"size": 2}, {"axis": 0, "return_inverse": True}], ids=str)
def test_unique_parity(kwargs):
    x = np.array([[3, 1, 3], [2, 1, 7], [3, 1, 3]], "int32")
    ours, theirs = mk.unique(x, **kwargs), keras.ops.unique(x, **kwargs)
    ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs, strict=True):
        _same(o, t)


@pytest.mark.parametrize("name", ["percentile", "nanpercentile", "nanquantile"])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, False), ((0, 2), True),
                                            (-1, True)], ids=str)
def test_percentiles_parity(name, axis, keepdims):
    x = _f32(2, 5, 4)
    q = [0.2, 0.5, 0.9] if name == "nanquantile" else [20.0, 50.0, 90.0]
    for qs in [q, q[1]]:
        assert_parity(lambda t, qs=qs: getattr(mk, name)(t, qs, axis=axis, keepdims=keepdims),
                      lambda t, qs=qs: getattr(keras.ops, name)(t, qs, axis=axis,
                                                                keepdims=keepdims), x)
    if name != "percentile":
        x[0, 1, 2] = x[1, 3, 0] = np.nan
        assert_parity(lambda t: getattr(mk, name)(t, q, axis=axis, keepdims=keepdims),
                      lambda t: getattr(keras.ops, name)(t, q, axis=axis, keepdims=keepdims),
                      x, wrt=[])
        # a group of NaNs only gives NaN; with a single q (Keras 3.15 fails there for a list
        # of q: its fallback NaN is a scalar where map_fn expects one value per q)
        x[1, :, 3] = np.nan
        assert_parity(lambda t: getattr(mk, name)(t, q[1], axis=axis, keepdims=keepdims),
                      lambda t: getattr(keras.ops, name)(t, q[1], axis=axis, keepdims=keepdims),
                      x, wrt=[])


@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, True), (1, False), (-1, True)],
                         ids=str)
@pytest.mark.parametrize("name", ["nanprod", "nanvar", "nanstd", "nanmedian", "nanargmax",
                                  "nanargmin"])
def test_more_nan_reductions_parity(name, axis, keepdims):
    x = _f32(3, 4)
    x[0, 1] = x[2, 3] = np.nan
    x[1] = np.nan  # a row of NaNs
    _same(getattr(mk, name)(x, axis=axis, keepdims=keepdims),
          getattr(keras.ops, name)(x, axis=axis, keepdims=keepdims))
    clean = _f32(3, 4, low=0.5, high=1.5)
    clean[0, 1] = np.nan
    if name not in ("nanargmax", "nanargmin") and (axis in (None, 1, -1)):
        assert_parity(lambda t: getattr(mk, name)(t, axis=axis, keepdims=keepdims),
                      lambda t: getattr(keras.ops, name)(t, axis=axis, keepdims=keepdims),
                      clean, grad_atol=1e-6)
    if name == "nanmedian" and axis is not None:
        return  # Keras 3.15 fails on integers here (its map_fn expects int32 results)
    ints = np.array([[1, 0, 3], [2, 2, 0]], "int32")
    _same(getattr(mk, name)(ints, axis=axis, keepdims=keepdims),
          getattr(keras.ops, name)(ints, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("axis", [None, 0, 1])
@pytest.mark.parametrize("name", ["nancumsum", "nancumprod"])
def test_nan_scans_parity(name, axis):
    x = _f32(3, 4, low=0.5, high=1.5)
    x[0, 1] = x[2, 0] = np.nan
    assert_parity(lambda t: getattr(mk, name)(t, axis=axis),
                  lambda t: getattr(keras.ops, name)(t, axis=axis), x)


def test_multi_hot_and_saturate_cast_parity():
    for labels in [np.array([0, 4]), np.array([[0, 2], [1, -1], [3, 3]], "int32")]:
        for dtype in [None, "int32", "bool"]:
            _same(mk.multi_hot(labels, 5, dtype=dtype), keras.ops.multi_hot(labels, 5, dtype=dtype))
    _same(mk.multi_hot(np.array([1, 2]), num_tokens=4),
          keras.ops.multi_hot(np.array([1, 2]), num_tokens=4))
    x = np.array([-22.5, 52.5, 201.3, 276.3, np.inf, -np.inf], "float32")
    for dtype in ["uint8", "int8", "int32", "float16", "bool"]:
        values = x[:4] if dtype == "int32" else x
        _same(mk.saturate_cast(values, dtype), keras.ops.saturate_cast(values, dtype))
    # Keras 3.15 overflows here (float32 inf -> int32 gives -2147483648); we saturate
    huge = np.array([np.inf, 3e9, -np.inf], "float32")
    np.testing.assert_array_equal(keras.ops.saturate_cast(huge, "int32"), [-2**31] * 3)
    np.testing.assert_array_equal(mk.saturate_cast(huge, "int32"),
                                  [2147483520, 2147483520, -2**31])
    big = np.array([-70000, 5, 70000], "int32")
    for dtype in ["int16", "uint16", "float16", "uint8"]:
        _same(mk.saturate_cast(big, dtype), keras.ops.saturate_cast(big, dtype))
    assert_parity(lambda t: mk.saturate_cast(t, "float16"),
                  lambda t: keras.ops.saturate_cast(t, "float16"), _f32(3), wrt=[])


def test_dsplit_parity():
    def weighted(lib):
        return lambda t: lib.concatenate(
            [lib.ravel(p) * (k + 1.0) for k, p in enumerate(lib.dsplit(t, 2))])

    assert_parity(weighted(mk), weighted(keras.ops), _f32(2, 3, 4))


# --- result dtypes for every input dtype -----------------------------------------------------
DTYPES = ["int32", "int8", "int64", "uint8", "bool", "float16", "float64", "float32"]
UNARY_DTYPE_OPS = ("celu hard_tanh hard_shrink soft_shrink tanh_shrink sparse_plus sparse_sigmoid "
                   "squareplus glu layer_normalization rms_normalization sinc i0 erfinv angle real "
                   "imag conj isreal nanprod nanvar nanstd nanmedian nanargmax nanargmin nancumsum "
                   "nancumprod diagflat corrcoef trapezoid bitwise_not empty_like").split()
LINALG_DTYPE_OPS = "inv det logdet cholesky pinv matrix_rank".split()


def _keras_or_none(fn, *args):
    try:
        return keras.ops.convert_to_numpy(fn(*args))
    except Exception:  # Keras (TensorFlow) does not take this dtype: nothing to match
        return None


def _assert_like(ours, expected, label):
    """The dtype and shape exactly; the values to 1e-3, because the sweeps include float16,
    whose results keep about three significant digits (float32 values are held to 1e-5 by
    each op's own parity test)."""
    ours = np.asarray(ours)
    assert (ours.dtype, ours.shape) == (expected.dtype, expected.shape), label
    np.testing.assert_allclose(ours.astype("float64"), expected.astype("float64"), rtol=1e-3,
                               atol=1e-3, err_msg=label)


@pytest.mark.parametrize("name", UNARY_DTYPE_OPS + LINALG_DTYPE_OPS)
def test_new_op_result_dtypes_match_keras(name):
    """(Keras 3.15's corrcoef averages int64 in int64, truncating the means; ours does not. Our
    linear algebra refuses float16, which numpy.linalg does not support.)"""
    for dtype in DTYPES:
        if name in LINALG_DTYPE_OPS:
            x = (np.eye(4) * 4 + 1).astype(dtype)
        else:
            x = np.array([[1, 2, 0, 1], [3, 1, 2, 5], [0, 1, 1, 0], [2, 0, 1, 3]]).astype(dtype)
            x = x * 0 if name == "erfinv" else x
        expected = _keras_or_none(getattr(keras.ops, name), x)
        if expected is None or (name, dtype) == ("corrcoef", "int64"):
            continue
        if name in LINALG_DTYPE_OPS and dtype == "float16":
            with pytest.raises(TypeError, match="float16"):
                getattr(mk, name)(x)
            continue
        _assert_like(getattr(mk, name)(x), expected, dtype)


@pytest.mark.parametrize("name", ["fmax", "fmin", "ldexp", "nextafter", "bitwise_and", "gcd",
                                  "kron", "cross", "correlate", "allclose", "isin", "solve",
                                  "solve_triangular", "lstsq"])
def test_new_binary_op_result_dtypes_match_keras(name):
    for dtype1 in ["int32", "float32", "float16", "bool", "int8"]:
        for dtype2 in ["int32", "float32", "int8"]:
            a = np.array([[1, 2, 0], [3, 1, 2], [1, 1, 4]]).astype(dtype1)
            b = np.array([[2, 3, 1], [4, 2, 3], [1, 0, 2]]).astype(dtype2)
            if name == "correlate":
                a, b = a[0], b[0]
            if name in ("solve", "solve_triangular", "lstsq"):
                a = (np.eye(3) * 4 + 1).astype(dtype1)
            expected = _keras_or_none(getattr(keras.ops, name), a, b)
            if expected is not None:
                _assert_like(getattr(mk, name)(a, b), expected, f"{dtype1} {dtype2}")
