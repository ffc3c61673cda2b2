"""The newest minikeras.ops: piecewise activations and normalizations, linear algebra and control
flow. Values against NumPy / the defining formulas, derivatives against float64 finite
differences (tests/gradcheck.py), and the control-flow ops by their behaviour."""

import numpy as np
import pytest
from gradcheck import gradient_check, tape_grads

import minikeras
from minikeras import activations, ops

RNG = np.random.default_rng(5)


def _u(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape)


def _away_from(x, points, gap=0.05):
    """``x`` moved off the kinks at ``points`` (finite differences straddling a kink fail)."""
    for p in points:
        x = np.where(np.abs(x - p) < gap, p + 2 * gap, x)
    return x


# --- activations -----------------------------------------------------------------------------
def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


ACTIVATIONS = {  # name -> (reference formula, kinks, options)
    "celu": (lambda x: np.where(x > 0, x, np.expm1(x)), [0], {}),
    "hard_tanh": (lambda x: np.clip(x, -1, 1), [-1, 1], {}),
    "hard_shrink": (lambda x: np.where(np.abs(x) > 0.5, x, 0), [-0.5, 0.5], {}),
    "soft_shrink": (lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0), [-0.5, 0.5], {}),
    "tanh_shrink": (lambda x: x - np.tanh(x), [], {}),
    "sparse_plus": (lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
                    [-1, 1], {}),
    "sparse_sigmoid": (lambda x: np.clip((x + 1) / 2, 0, 1), [-1, 1], {}),
    "squareplus": (lambda x: (x + np.sqrt(x * x + 4)) / 2, [], {}),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_piecewise_activations(name):
    reference, kinks, _ = ACTIVATIONS[name]
    x = _away_from(_u(3, 5, low=-3, high=3), kinks)
    np.testing.assert_allclose(getattr(ops, name)(x), reference(x), rtol=1e-12, atol=1e-15)
    gradient_check(getattr(ops, name), x)
    assert getattr(activations, name) is getattr(ops, name)  # one implementation for both


def test_activation_options_and_float32():
    x = _away_from(_u(4, 3, low=-3, high=3), [-1.5, 0, 1.5, 0.3])
    np.testing.assert_allclose(ops.celu(x, alpha=2.0), np.where(x > 0, x, 2 * np.expm1(x / 2)))
    gradient_check(lambda t: ops.celu(t, alpha=2.0), x)
    np.testing.assert_allclose(ops.hard_shrink(x, 1.5), np.where(np.abs(x) > 1.5, x, 0))
    np.testing.assert_allclose(ops.soft_shrink(x, 1.5),
                               np.sign(x) * np.maximum(np.abs(x) - 1.5, 0))
    np.testing.assert_allclose(ops.squareplus(x, b=1), (x + np.sqrt(x * x + 1)) / 2)
    gradient_check(lambda t: ops.squareplus(t, b=1), x)
    np.testing.assert_allclose(ops.threshold(x, 0.3, -7.0), np.where(x > 0.3, x, -7.0))
    gradient_check(lambda t: ops.threshold(t, 0.3, -7.0), x)
    x32 = x.astype("float32")
    for name in ACTIVATIONS:
        assert np.asarray(getattr(ops, name)(x32)).dtype == np.float32, name


def test_activation_gradients_at_the_kinks_follow_tensorflow():
    at = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    expected = {"celu": [np.exp(-1), np.exp(-0.5), 2, 1, 1], "hard_tanh": [1, 1, 1, 1, 1],
                "hard_shrink": [1, 0, 0, 0, 1], "soft_shrink": [1, 0, 0, 0, 1],
                "sparse_plus": [0, 0.25, 0.5, 0.75, 1], "sparse_sigmoid": [0, 0.5, 0.5, 0.5, 0]}
    for name, slopes in expected.items():
        grad = tape_grads(getattr(ops, name), [at], [0], np.ones(5))[0]
        np.testing.assert_allclose(grad, slopes, err_msg=name)


def test_glu():
    x = _u(2, 3, 6)
    for axis in [-1, 1]:
        a, b = np.split(x, 2, axis=axis) if axis == -1 else np.split(x[:, :2], 2, axis=1)
        if axis == -1:
            np.testing.assert_allclose(ops.glu(x), a * _sigmoid(b), rtol=1e-12)
    gradient_check(ops.glu, x)
    gradient_check(lambda t: ops.glu(t, axis=1), x[:, :2])
    with pytest.raises(ValueError, match="divisible by 2"):
        ops.glu(x, axis=1)


# --- normalizations --------------------------------------------------------------------------
def test_layer_normalization():
    x, gamma, beta = _u(3, 4, 5), _u(5), _u(5)
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-3) * gamma + beta
    np.testing.assert_allclose(ops.layer_normalization(x, gamma, beta, epsilon=1e-3), expected,
                               rtol=1e-12)
    gradient_check(lambda t, g, b: ops.layer_normalization(t, g, b, epsilon=1e-3),
                   x, gamma, beta)
    gamma2 = _u(4, 5)
    gradient_check(lambda t, g: ops.layer_normalization(t, g, axis=(1, 2)), x, gamma2)
    mean, var = x.mean((1, 2), keepdims=True), x.var((1, 2), keepdims=True)
    np.testing.assert_allclose(ops.layer_normalization(x, gamma2, axis=(1, 2)),
                               (x - mean) / np.sqrt(var + 1e-7) * gamma2, rtol=1e-9)
    half = ops.layer_normalization(x.astype("float16"))
    assert half.dtype == "float16"


def test_rms_normalization():
    x, scale = _u(3, 6), _u(6)
    expected = x / np.sqrt(np.mean(x * x, -1, keepdims=True) + 1e-7) * scale
    np.testing.assert_allclose(ops.rms_normalization(x, scale), expected, rtol=1e-12)
    gradient_check(ops.rms_normalization, x, scale)
    gradient_check(lambda t: ops.rms_normalization(t, axis=0, epsilon=0.1), x)


def test_batch_normalization():
    x, mean, var = _u(4, 3, 2), _u(3), _u(3, low=0.5, high=2)
    offset, scale = _u(3), _u(3)
    shape = (1, 3, 1)
    expected = ((x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + 1e-3)
                * scale.reshape(shape) + offset.reshape(shape))
    np.testing.assert_allclose(ops.batch_normalization(x, mean, var, 1, offset, scale),
                               expected, rtol=1e-12)
    gradient_check(lambda *a: ops.batch_normalization(a[0], a[1], a[2], 1, a[3], a[4]),
                   x, mean, var, offset, scale)
    gradient_check(lambda t, m, v: ops.batch_normalization(t, m, v, -1, epsilon=0.1),
                   x[:, :, 0], mean, var)
    with pytest.raises(ValueError, match="x.shape"):
        ops.batch_normalization(x, mean[:2], var, 1)


def test_psnr():
    a, b = _u(4, 5, low=0, high=1), _u(4, 5, low=0, high=1)
    expected = 20 * np.log10(1.0) - 10 * np.log10(np.mean((a - b) ** 2))
    np.testing.assert_allclose(ops.psnr(a, b, 1.0), expected, rtol=1e-12)
    gradient_check(lambda s, t: ops.psnr(s, t, 2.0), a, b)


# --- linear algebra --------------------------------------------------------------------------
def _well_conditioned(*batch, n=3):
    return _u(*batch, n, n) + 4 * np.eye(n)


def _spd(*batch, n=3):
    a = _u(*batch, n, n)
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _symmetric(fn, n=3):
    """f(S) = fn(S + Sᵀ + 2n·I): a symmetric positive definite argument built from any S, so
    finite differences move both triangles together (the ops below read only one)."""
    return lambda s: fn(s + ops.swapaxes(s, -1, -2) + 2 * n * np.eye(n))


@pytest.mark.parametrize("batch", [(), (2,)], ids=str)
def test_inverse_determinants_and_solves(batch):
    a, b = _well_conditioned(*batch), _u(*batch, 3, 2)
    v = _u(*batch, 3)
    np.testing.assert_allclose(ops.inv(a) @ a, np.broadcast_to(np.eye(3), a.shape), atol=1e-12)
    np.testing.assert_allclose(ops.det(a), np.linalg.det(a))
    sign, logabs = ops.slogdet(a)
    np.testing.assert_allclose(np.asarray(sign) * np.exp(logabs), np.linalg.det(a))
    np.testing.assert_allclose(a @ np.asarray(ops.solve(a, b)), b, atol=1e-12)
    np.testing.assert_allclose(np.einsum("...ij,...j->...i", a, ops.solve(a, v)), v,
                               atol=1e-12)
    for f in [ops.inv, ops.det, lambda t: ops.slogdet(t)[1]]:
        gradient_check(f, a)
    gradient_check(ops.solve, a, b)
    gradient_check(ops.solve, a, v)


def test_logdet_and_cholesky():
    s = _u(3, 3)
    spd = s + s.T + 6 * np.eye(3)
    np.testing.assert_allclose(ops.logdet(spd), np.log(np.linalg.det(spd)))
    lower = np.asarray(ops.cholesky(spd))
    np.testing.assert_allclose(lower @ lower.T, spd, atol=1e-12)
    assert np.all(np.triu(lower, 1) == 0)
    np.testing.assert_allclose(ops.cholesky(spd, upper=True), lower.T)
    np.testing.assert_allclose(ops.cholesky_inverse(lower), np.linalg.inv(spd), atol=1e-12)
    np.testing.assert_allclose(ops.cholesky_inverse(lower.T, upper=True), np.linalg.inv(spd),
                               atol=1e-12)
    gradient_check(_symmetric(ops.logdet), s)
    gradient_check(_symmetric(ops.cholesky), s)
    gradient_check(_symmetric(lambda t: ops.cholesky(t, upper=True)), s)
    # the symmetric gradient that TensorFlow gives: d logdet / dA = A⁻¹ for a symmetric A
    np.testing.assert_allclose(tape_grads(ops.logdet, [spd], [0], 1.0)[0], np.linalg.inv(spd))
    with pytest.raises(ValueError, match="positive definite"):
        ops.cholesky(-spd)
    assert np.isnan(ops.logdet(-spd))


def test_cholesky_inverse_and_solve_triangular_gradients():
    lower = np.tril(_u(3, 3)) + 3 * np.eye(3)
    gradient_check(lambda t: ops.cholesky_inverse(ops.tril(t)), lower)
    b, v = _u(3, 2), _u(3)
    for lower_flag in [True, False]:
        t = lower if lower_flag else lower.T
        tri = np.tril(t) if lower_flag else np.triu(t)
        np.testing.assert_allclose(tri @ np.asarray(ops.solve_triangular(t, b, lower_flag)), b,
                                   atol=1e-12)
        gradient_check(lambda s, c, f=lower_flag: ops.solve_triangular(s, c, lower=f), t, b)
        gradient_check(lambda s, c, f=lower_flag: ops.solve_triangular(s, c, lower=f), t, v)
    # the other triangle is never read: a full matrix gives the same solution, zero gradient
    full = lower + np.triu(_u(3, 3), 1)
    np.testing.assert_allclose(ops.solve_triangular(full, b, lower=True),
                               ops.solve_triangular(lower, b, lower=True))
    gradient_check(lambda s: ops.solve_triangular(s, b, lower=True), full)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3)], ids=str)
def test_pinv(shape):
    x = _u(*shape)
    np.testing.assert_allclose(ops.pinv(x), np.linalg.pinv(x), atol=1e-12)
    gradient_check(ops.pinv, x)
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    np.testing.assert_allclose(ops.pinv(singular), np.linalg.pinv(singular), atol=1e-12)
    gradient_check(lambda t: ops.pinv(t, rcond=0.3), x)  # singular values dropped


def test_svd_and_eigh_values_and_gradients():
    x = _u(4, 3)
    u, s, vh = ops.svd(x)
    assert u.shape == (4, 4) and vh.shape == (3, 3)
    np.testing.assert_allclose(np.asarray(u)[:, :3] * np.asarray(s) @ vh, x, atol=1e-12)
    u, s, vh = ops.svd(x, full_matrices=False)
    assert u.shape == (4, 3) and vh.shape == (3, 3)
    np.testing.assert_allclose(ops.svd(x, compute_uv=False), np.linalg.svd(x)[1])
    gradient_check(lambda t: ops.svd(t, compute_uv=False), x)
    gradient_check(lambda t: ops.svd(t)[1], x)
    spd = _spd()
    w, v = ops.eigh(spd)
    np.testing.assert_allclose(np.asarray(v) * np.asarray(w) @ np.asarray(v).T, spd,
                               atol=1e-12)
    gradient_check(lambda t: ops.eigh(t)[0], spd)  # only the lower triangle is read


def test_decompositions_without_gradients():
    x = _u(4, 3)
    q, r = ops.qr(x)
    assert q.shape == (4, 3) and r.shape == (3, 3)
    np.testing.assert_allclose(np.asarray(q) @ r, x, atol=1e-12)
    q, r = ops.qr(x, mode="complete")
    assert q.shape == (4, 4) and r.shape == (4, 3)
    with pytest.raises(ValueError, match="mode"):
        ops.qr(x, mode="r")
    a = _u(3, 3)
    w, v = ops.eig(a)
    assert w.dtype == "complex128"
    np.testing.assert_allclose(a @ np.asarray(v), np.asarray(v) * np.asarray(w), atol=1e-12)
    assert ops.eig(a.astype("float32"))[0].dtype == "complex64"
    batch = np.stack([_u(3, 3), np.array([[1.0, 2, 0], [3, 4, 1], [0, 5, 2]])])
    lu, pivots = ops.lu_factor(batch)  # a batch: each matrix factored on its own
    assert lu.shape == (2, 3, 3) and pivots.shape == (2, 3)
    np.testing.assert_array_equal(ops.lu_factor(batch[1])[0], np.asarray(lu)[1])
    lu, pivots = ops.lu_factor(np.array([[1.0, 2, 0], [3, 4, 1], [0, 5, 2]]))
    lower = np.tril(np.asarray(lu), -1) + np.eye(3)
    upper = np.triu(np.asarray(lu))
    perm = np.argsort(np.asarray(pivots))
    np.testing.assert_allclose(lower @ upper, np.array([[1.0, 2, 0], [3, 4, 1], [0, 5, 2]])[perm])
    assert np.all(np.abs(np.tril(np.asarray(lu), -1)) <= 1)  # partial pivoting
    b = _u(4, 2)
    np.testing.assert_allclose(ops.lstsq(x, b), np.linalg.lstsq(x, b, rcond=None)[0])
    np.testing.assert_allclose(ops.lstsq(x, b[:, 0]), np.linalg.lstsq(x, b[:, 0])[0])
    gradient_check(ops.lstsq, x, b)
    gradient_check(ops.lstsq, x, b[:, 0])
    gradient_check(ops.lstsq, x.T, b[:3])  # under-determined: the minimum-norm solution
    gradient_check(lambda s, t: ops.lstsq(s, t, rcond=0.5), x, b)  # small s dropped
    assert int(ops.matrix_rank(np.array([[1.0, 2], [2, 4]]))) == 1
    assert ops.matrix_rank(_u(2, 3, 3)).dtype == "int32"
    np.testing.assert_array_equal(ops.matrix_rank(_u(2, 3, 3)), [3, 3])
    v = minikeras.Variable(x)
    with minikeras.GradientTape() as tape:
        total = ops.sum(ops.qr(v)[0]) + ops.sum(ops.real(ops.eig(v[:3])[0]))
    assert tape.gradient(total, v) is None


def test_linalg_errors_teach():
    with pytest.raises(ValueError, match="rank >= 2"):
        ops.inv(np.ones(3))
    with pytest.raises(ValueError, match="square"):
        ops.det(np.ones((2, 3)))


# --- control flow ----------------------------------------------------------------------------
def test_cond_and_switch_pick_a_branch_and_pass_its_gradient():
    x = minikeras.Tensor(np.array([1.0, 2.0]))
    with minikeras.GradientTape() as tape:
        tape.watch(x)
        y = ops.cond(ops.sum(x) > 0, lambda: x * 3.0, lambda: x * 5.0)
    np.testing.assert_allclose(tape.gradient(y, x), [3.0, 3.0])
    branches = [lambda t: t + 1.0, lambda t: t * 2.0, lambda t: -t]
    for index, expected in [(0, [2, 3]), (1, [2, 4]), (2, [-1, -2]), (7, [-1, -2]),
                            (-3, [2, 3])]:
        np.testing.assert_allclose(ops.switch(index, branches, x), expected)


def test_while_and_fori_loops():
    out = ops.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + i), (0, 0))
    assert [int(v) for v in out] == [5, 10] and out[0].dtype == "int32"
    assert int(ops.while_loop(lambda i: i < 100, lambda i: i * 2, 1)) == 128
    assert int(ops.while_loop(lambda i: i < 100, lambda i: i + 1, 0, maximum_iterations=7)) == 7
    assert int(ops.fori_loop(2, 6, lambda i, v: v + i, 0)) == 14
    x = minikeras.Tensor(np.array([1.5, -0.5]))
    with minikeras.GradientTape() as tape:  # gradients flow through every iteration
        tape.watch(x)
        y = ops.fori_loop(0, 3, lambda i, v: v * x, ops.ones_like(x))
    np.testing.assert_allclose(tape.gradient(y, x), 3 * np.array([1.5, -0.5]) ** 2)


def test_scan_like_jax():
    xs = np.arange(1.0, 5.0)
    carry, ys = ops.scan(lambda c, x: (c + x, c * x), 0.0, xs)
    assert float(carry) == 10.0
    np.testing.assert_allclose(ys, [0.0, 2.0, 9.0, 24.0])
    carry, ys = ops.scan(lambda c, x: (c + x, c), 0.0, xs, reverse=True)
    np.testing.assert_allclose(ys, [9.0, 7.0, 4.0, 0.0])
    carry, ys = ops.scan(lambda c, _: (c * 2, None), 1.0, length=3)
    assert float(carry) == 8.0 and ys is None
    nested = {"a": np.ones((3, 2)), "b": np.arange(3.0)}
    carry, ys = ops.scan(lambda c, x: (c + x["b"], [x["a"] * c, c]), 0.0, nested)
    np.testing.assert_allclose(ys[0], [[0, 0], [0, 0], [1, 1]])
    np.testing.assert_allclose(ys[1], [0, 0, 1])
    with pytest.raises(ValueError, match="length"):
        ops.scan(lambda c, x: (c, x), 0.0)
    gradient_check(lambda t: ops.scan(lambda c, x: (c * x + 1.0, c * c), 1.0, t)[1], _u(4))


def test_associative_scan():
    x = _u(5, 3)
    np.testing.assert_allclose(ops.associative_scan(lambda a, b: a + b, x), np.cumsum(x, 0))
    np.testing.assert_allclose(ops.associative_scan(lambda a, b: a + b, x, axis=1),
                               np.cumsum(x, 1))
    np.testing.assert_allclose(ops.associative_scan(lambda a, b: a + b, x, reverse=True),
                               np.cumsum(x[::-1], 0)[::-1])
    np.testing.assert_allclose(ops.associative_scan(ops.maximum, x), np.maximum.accumulate(x))
    pairs = ops.associative_scan(lambda a, b: (a[0] * b[0], a[1] + b[1]), (x, x))
    np.testing.assert_allclose(pairs[0], np.cumprod(x, 0))
    gradient_check(lambda t: ops.associative_scan(lambda a, b: a * b, t), x)


def test_map_and_vectorized_map():
    x = _u(4, 3)
    np.testing.assert_allclose(ops.map(lambda r: ops.sum(r * r), x), np.sum(x * x, 1))
    np.testing.assert_allclose(ops.vectorized_map(lambda r: r[::-1], x), x[:, ::-1])
    out = ops.map(lambda p: {"s": p[0] + p[1]}, (x, x))
    np.testing.assert_allclose(out["s"], 2 * x)
    gradient_check(lambda t: ops.map(lambda r: ops.sum(ops.sin(r)), t), x)


def test_slice_and_slice_update():
    x = _u(4, 5)
    np.testing.assert_allclose(ops.slice(x, (1, 2), (2, 3)), x[1:3, 2:5])
    np.testing.assert_allclose(ops.slice(x, [1, 0], [-1, 2]), x[1:, :2])
    gradient_check(lambda t: ops.slice(t, (1, 2), (2, 3)), x)
    u = _u(2, 2)
    expected = x.copy()
    expected[1:3, 3:5] = u
    np.testing.assert_allclose(ops.slice_update(x, (1, 3), u), expected)
    clamped = x.copy()
    clamped[2:4, 3:5] = u
    np.testing.assert_allclose(ops.slice_update(x, (3, 4), u), clamped)  # starts clamped in
    gradient_check(lambda t, s: ops.slice_update(t, (1, 3), s), x, u)
    assert np.asarray(x).shape == (4, 5) and not np.array_equal(x, expected)  # not in place


def test_scatter_and_scatter_update():
    indices = np.array([[0, 1], [2, 3], [0, 1]])
    values = np.array([1.0, 2.0, 3.0])
    expected = np.zeros((3, 4))
    expected[0, 1], expected[2, 3] = 4.0, 2.0  # duplicates add up
    np.testing.assert_allclose(ops.scatter(indices, values, (3, 4)), expected)
    gradient_check(lambda v: ops.scatter(indices, v, (3, 4)), values)
    rows = ops.scatter(np.array([[1]]), np.array([[5.0, 6.0]]), (2, 2))  # whole slices
    np.testing.assert_allclose(rows, [[0, 0], [5, 6]])
    x = _u(3, 4)
    unique = np.array([[0, 1], [2, 3]])
    updated = x.copy()
    updated[0, 1], updated[2, 3] = 1.0, 2.0
    np.testing.assert_allclose(ops.scatter_update(x, unique, values[:2]), updated)
    gradient_check(lambda t, v: ops.scatter_update(t, unique, v), x, values[:2])
    added = x.copy()
    added[0, 1] += 4.0
    added[2, 3] += 2.0
    np.testing.assert_allclose(ops.scatter_update(x, indices, values, "add"), added)
    gradient_check(lambda t, v: ops.scatter_update(t, indices, v, reduction="add"), x, values)
    maxed = x.copy()
    maxed[0, 1] = max(x[0, 1], 3.0)
    maxed[2, 3] = max(x[2, 3], 2.0)
    np.testing.assert_allclose(ops.scatter_update(x, indices, values, "MAX"), maxed)
    with pytest.raises(ValueError, match="reduction"):
        ops.scatter_update(x, indices, values, "sub")


def test_custom_gradient_replaces_the_tape_inside():
    @ops.custom_gradient
    def log1pexp(x):
        e = ops.exp(x)

        def grad(upstream):
            return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))

        return ops.log(1 + e), grad

    x = minikeras.Tensor(np.array([0.0, 100.0, -3.0]))
    with minikeras.GradientTape() as tape:
        tape.watch(x)
        y = log1pexp(x)
    np.testing.assert_allclose(tape.gradient(y, x), [0.5, 1.0, 1 / (1 + np.exp(3.0))])

    @ops.custom_gradient
    def clip_gradient(a, b):
        def grad(upstream):
            return ops.clip(upstream, -1.0, 1.0), None

        return a * b, grad

    a, b = minikeras.Tensor(np.array([1.0])), minikeras.Tensor(np.array([2.0]))
    with minikeras.GradientTape() as tape:
        tape.watch([a, b])
        out = clip_gradient(a, b) * 5.0
    grad_a, grad_b = tape.gradient(out, [a, b])
    np.testing.assert_allclose(grad_a, [1.0])
    np.testing.assert_allclose(grad_b, [0.0])


# --- the numpy namespace's leftovers -----------------------------------------------------------
def test_elementwise_leftovers_values_and_gradients():
    a, b = _u(3, 4), _u(3, 4)
    a[0, 0] = b[1, 1] = np.nan
    np.testing.assert_array_equal(ops.fmax(a, b), np.fmax(a, b))
    np.testing.assert_array_equal(ops.fmin(a, b), np.fmin(a, b))
    a, b = _u(3, 4), _u(4)
    for name in ["fmax", "fmin"]:
        gradient_check(getattr(ops, name), a, b)
    exponent = np.array([0, 1, -2, 3])
    np.testing.assert_allclose(ops.ldexp(a, exponent), np.ldexp(a, exponent))
    gradient_check(lambda t: ops.ldexp(t, exponent), a)
    x = _away_from(_u(3, 4, low=-3, high=3), [0])
    np.testing.assert_allclose(ops.sinc(x), np.sinc(x), rtol=1e-12)
    gradient_check(ops.sinc, x)
    np.testing.assert_allclose(tape_grads(ops.sinc, [np.zeros(2)], [0], np.ones(2))[0], 0)
    y = _u(3, 4, low=-0.95, high=0.95)
    erf = np.vectorize(__import__("math").erf)
    np.testing.assert_allclose(erf(np.asarray(ops.erfinv(y))), y, rtol=1e-14, atol=1e-15)
    gradient_check(ops.erfinv, y)
    np.testing.assert_array_equal(ops.erfinv(np.array([1.0, -1.0, 0.0])), [np.inf, -np.inf, 0])
    np.testing.assert_allclose(ops.i0(x), np.i0(x))
    gradient_check(ops.real, x)
    gradient_check(ops.conj, x)
    np.testing.assert_array_equal(ops.nextafter(np.float32(1), np.float32(2)),
                                  np.nextafter(np.float32(1), np.float32(2)))
    assert int(ops.gcd(12, 18)) == 6 and int(ops.lcm(4, 6)) == 12
    np.testing.assert_array_equal(ops.left_shift(np.array([1, 2]), 3), [8, 16])


def test_array_builders_values_and_gradients():
    a, b = _u(2, 3), _u(3, 2)
    np.testing.assert_allclose(ops.kron(a, b), np.kron(a, b))
    gradient_check(ops.kron, a, b)
    gradient_check(ops.kron, _u(3), _u(2, 2))
    np.testing.assert_allclose(ops.diagflat(a, 1), np.diagflat(a, 1))
    gradient_check(lambda t: ops.diagflat(t, -1), a)
    for indexing in ["xy", "ij"]:
        xs = [_u(2), _u(3), _u(4)]
        for ours, theirs in zip(ops.meshgrid(*xs, indexing=indexing),
                                np.meshgrid(*xs, indexing=indexing), strict=True):
            np.testing.assert_allclose(ours, theirs)
        gradient_check(lambda s, t, ix=indexing: ops.stack(
            [ops.meshgrid(s, t, indexing=ix)[0], 2.0 * ops.meshgrid(s, t, indexing=ix)[1]]),
            xs[0], xs[1])
    v = _away_from(_u(4), [0])
    for n, increasing in [(None, False), (3, True)]:
        np.testing.assert_allclose(ops.vander(v, n, increasing), np.vander(v, n, increasing))
        gradient_check(lambda t, n=n, inc=increasing: ops.vander(t, n, inc), v)
    u, w = _u(4, 3), _u(4, 3)
    np.testing.assert_allclose(ops.cross(u, w), np.cross(u, w))
    gradient_check(ops.cross, u, w)
    np.testing.assert_allclose(ops.cross(u[:, :2], w[:, :2]),
                               u[:, 0] * w[:, 1] - u[:, 1] * w[:, 0])
    np.testing.assert_allclose(ops.cross(u.T, w, axisa=0), np.cross(u.T, w, axisa=0))
    np.testing.assert_allclose(np.asarray(ops.dsplit(_u(2, 2, 4), 2)[1]).shape, (2, 2, 2))
    np.testing.assert_allclose(ops.logspace(0, 2, 3), [1, 10, 100], rtol=1e-6)
    np.testing.assert_allclose(ops.geomspace(1, 8, 4), [1, 2, 4, 8], rtol=1e-6)


def test_integrals_and_correlations_values_and_gradients():
    y, x = _u(3, 5), np.sort(_u(5))
    np.testing.assert_allclose(ops.trapezoid(y, x), np.trapezoid(y, x))
    np.testing.assert_allclose(ops.trapezoid(y, dx=0.5, axis=0), np.trapezoid(y, dx=0.5, axis=0))
    gradient_check(ops.trapezoid, y, x)
    rows = _u(3, 6)
    np.testing.assert_allclose(ops.corrcoef(rows), np.corrcoef(rows), rtol=1e-12)
    gradient_check(ops.corrcoef, rows)
    s, t = _u(6), _u(3)
    for mode in ["valid", "same", "full"]:
        np.testing.assert_allclose(ops.correlate(s, t, mode), np.correlate(s, t, mode))
        gradient_check(lambda p, q, m=mode: ops.correlate(p, q, m), s, t)


def test_counting_searching_and_sets():
    x = np.array([0.5, 1.0, 2.5, -1.0])
    np.testing.assert_array_equal(ops.digitize(x, [0.0, 1.0, 2.0]), np.digitize(x, [0, 1, 2]))
    np.testing.assert_array_equal(ops.searchsorted([0.0, 1.0, 2.0], x, "right"),
                                  np.searchsorted([0.0, 1.0, 2.0], x, "right"))
    np.testing.assert_array_equal(ops.bincount(np.array([0, 3, 3]), minlength=5),
                                  [1, 0, 0, 2, 0])
    counts, edges = ops.histogram(np.arange(10.0), bins=5)
    np.testing.assert_array_equal(counts, np.histogram(np.arange(10.0), bins=5)[0])
    np.testing.assert_allclose(edges, np.histogram(np.arange(10.0), bins=5)[1])
    for indices in [np.array([[3, 7], [0, 11]]), np.int32(4)]:  # any rank, as NumPy
        for ours, theirs in zip(ops.unravel_index(indices, (3, 4)),
                                np.unravel_index(indices, (3, 4)), strict=True):
            np.testing.assert_array_equal(ours, theirs)
    m = np.array([[5, -3, 2, -7, 0], [1, 1, 4, 0, -2]])
    idx = np.asarray(ops.argpartition(m, 2))
    picked = np.take_along_axis(m, idx, axis=-1)
    np.testing.assert_array_equal(picked[:, 2], np.sort(m, axis=-1)[:, 2])
    values, index, inverse, counts = ops.unique(np.array([3, 1, 3, 2]), sorted=False,
                                                return_index=True, return_inverse=True,
                                                return_counts=True)
    np.testing.assert_array_equal(values, [3, 1, 2])
    np.testing.assert_array_equal(index, [0, 1, 3])
    np.testing.assert_array_equal(np.asarray(values)[np.asarray(inverse)], [3, 1, 3, 2])
    np.testing.assert_array_equal(counts, [2, 1, 1])
    np.testing.assert_array_equal(ops.unique(np.array([2, 2, 5]), size=4, fill_value=-1),
                                  [2, 5, -1, -1])
    np.testing.assert_array_equal(ops.isin(np.array([1, 2, 3]), [2, 9]), [False, True, False])
    assert bool(ops.allclose([1.0, np.inf], [1.0 + 1e-9, np.inf]))
    np.testing.assert_array_equal(ops.multi_hot(np.array([[0, 2], [1, 1]]), 3),
                                  [[1, 0, 1], [0, 1, 0]])
    np.testing.assert_array_equal(ops.saturate_cast(np.array([-5.0, 300.0]), "uint8"), [0, 255])


def test_nan_statistics_values_and_gradients():
    x = _u(3, 4, low=0.5, high=1.5)
    x[0, 1] = np.nan
    for name in ["nanprod", "nanvar", "nanstd", "nanmedian"]:
        for axis in [None, 1]:
            np.testing.assert_allclose(getattr(ops, name)(x, axis=axis),
                                       getattr(np, name)(x, axis=axis), rtol=1e-12)
            gradient_check(lambda t, n=name, a=axis: getattr(ops, n)(t, axis=a), x)
    np.testing.assert_allclose(ops.nanquantile(x, [0.2, 0.7], axis=1),
                               np.nanquantile(x, [0.2, 0.7], axis=1))
    np.testing.assert_allclose(ops.nanpercentile(x, 30, axis=0),
                               np.nanpercentile(x, 30, axis=0))
    gradient_check(lambda t: ops.nanquantile(t, [0.2, 0.7], axis=1), x)
    clean = _u(3, 4)
    # q / 100 is taken in floatx (float32), as Keras does: 0.1 is then 0.1 + 1.5e-9
    np.testing.assert_allclose(ops.percentile(clean, [10, 90], axis=0),
                               np.percentile(clean, [10, 90], axis=0), rtol=1e-6)
    gradient_check(lambda t: ops.percentile(t, [10, 90], axis=0), clean)
    np.testing.assert_array_equal(ops.nanargmax(x, axis=1), np.nanargmax(x, axis=1))
    x[2] = np.nan
    np.testing.assert_array_equal(ops.nanargmin(x, axis=1)[2], -1)
    np.testing.assert_allclose(ops.nancumsum(x[:2]), np.nancumsum(x[:2]))
    np.testing.assert_allclose(ops.nancumprod(x[:2], axis=1), np.nancumprod(x[:2], axis=1))
    gradient_check(lambda t: ops.nancumsum(t, axis=1), x[:2])
    gradient_check(lambda t: ops.nancumprod(t, axis=1), x[:2])
