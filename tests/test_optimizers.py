"""Optimizers against independent float64 NumPy re-derivations of Keras's update rules.

Each reference below is written from the textbook or Keras-documentation form of the rule (Adam
with bias-corrected moments, FTRL with the sign form, ...), in float64, one variable at a time.
minikeras runs in float32, so the comparisons use rtol 1e-5 / atol 1e-6 over 6 steps, except for
the Adam family (ADAM_ATOL).
"""

import math
import warnings

import numpy as np
import pytest

from minikeras import backend, optimizers
from minikeras.optimizers import schedules
from minikeras.tensor import Tensor
from minikeras.variables import Variable

SHAPES = [(3, 2), (2,)]
N_STEPS = 6
# Keras computes beta_2^t in float32: 1 - float32(0.999) is 1.3e-5 (relative) away from 0.001, so
# the first Adam/Nadam steps are ~6e-6 (relative) larger than in float64; over 6 steps of size
# ~lr = 0.05 that adds up to ~3e-6. (The parity tests check the float32 values against Keras.)
ADAM_ATOL = 5e-6


@pytest.fixture(autouse=True)
def _fresh_session():
    backend.clear_session()
    backend.set_floatx("float32")
    yield
    backend.set_floatx("float32")


def make_variables(rng, dtype="float32"):
    kernel = Variable(rng.normal(size=SHAPES[0]), dtype=dtype, name="kernel")
    kernel.path = "sequential/dense/kernel"
    bias = Variable(rng.normal(size=SHAPES[1]), dtype=dtype, name="bias")
    bias.path = "sequential/dense/bias"
    return [kernel, bias]


def run(optimizer, seed=0, n_steps=N_STEPS, dtype="float32", scale=1.0):
    """Apply ``n_steps`` random gradient sets; return (start weights, gradients, end weights)."""
    rng = np.random.default_rng(seed)
    variables = make_variables(rng, dtype)
    start = [v.numpy().astype(np.float64) for v in variables]
    grads = [[(scale * rng.normal(size=s)).astype(dtype) for s in SHAPES] for _ in range(n_steps)]
    for step_grads in grads:
        optimizer.apply_gradients(zip(step_grads, variables, strict=True))
    return start, grads, [v.numpy() for v in variables]


def per_variable(reference, start, grads, **hyper):
    """Run a single-variable float64 reference on each variable."""
    return [reference(w.copy(), [g[i].astype(np.float64) for g in grads], **hyper)
            for i, w in enumerate(start)]


def assert_weights_close(actual, expected, rtol=1e-5, atol=1e-6):
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


# --- float64 references (one variable) ----------------------------------------------------------
def ref_sgd(w, grads, lr, momentum=0.0, nesterov=False):
    velocity = np.zeros_like(w)
    for g in grads:
        if momentum == 0:
            w = w - lr * g
            continue
        velocity = momentum * velocity - lr * g
        w = w + (momentum * velocity - lr * g if nesterov else velocity)
    return w


def ref_adam(w, grads, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, wd=0.0):
    """Textbook Adam with bias-corrected moments and the equivalent eps_hat."""
    m, v, v_max = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        w = w - lr * wd * w
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - beta_1**t)
        v_hat = (v_max if amsgrad else v) / (1 - beta_2**t)
        eps_hat = epsilon / math.sqrt(1 - beta_2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps_hat)
    return w


def ref_rmsprop(w, grads, lr, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    ms, mg, mom = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        ms = rho * ms + (1 - rho) * g**2
        mg = rho * mg + (1 - rho) * g
        variance = ms - mg**2 if centered else ms
        step = lr * g / np.sqrt(variance + epsilon)
        mom = momentum * mom + step
        w = w - mom
    return w


def ref_adagrad(w, grads, lr, initial_accumulator_value=0.1, epsilon=1e-7):
    total = initial_accumulator_value + np.zeros_like(w)
    for g in grads:
        total = total + g**2
        w = w - lr * g / np.sqrt(total + epsilon)
    return w


def ref_adadelta(w, grads, lr, rho=0.95, epsilon=1e-7):
    eg2, edx2 = np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        eg2 = rho * eg2 + (1 - rho) * g**2
        dx = -np.sqrt(edx2 + epsilon) / np.sqrt(eg2 + epsilon) * g
        edx2 = rho * edx2 + (1 - rho) * dx**2
        w = w + lr * dx
    return w


def ref_adamax(w, grads, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m, u = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        m = beta_1 * m + (1 - beta_1) * g
        u = np.maximum(beta_2 * u, np.abs(g))
        w = w - (lr / (1 - beta_1**t)) * m / (u + epsilon)
    return w


def ref_nadam(w, grads, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Dozat's Nadam with the 0.96 momentum schedule and the running product of the mu_t."""
    m, v, mu_product = np.zeros_like(w), np.zeros_like(w), 1.0
    for t, g in enumerate(grads, start=1):
        mu_t = beta_1 * (1 - 0.5 * 0.96**t)
        mu_next = beta_1 * (1 - 0.5 * 0.96 ** (t + 1))
        mu_product *= mu_t
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        m_bar = mu_next * m / (1 - mu_product * mu_next) + (1 - mu_t) * g / (1 - mu_product)
        v_hat = v / (1 - beta_2**t)
        w = w - lr * m_bar / (np.sqrt(v_hat) + epsilon)
    return w


def ref_ftrl(w, grads, lr, lr_power=-0.5, init=0.1, l1=0.0, l2=0.0, l2_shrinkage=0.0, beta=0.0):
    """The sign form of Keras's docstring: w = (sgn(z) l1 - z) / q if |z| > l1 else 0."""
    n, z = init + np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        g_shrunk = g + 2 * l2_shrinkage * w
        n_new = n + g**2
        sigma = (n_new ** (-lr_power) - n ** (-lr_power)) / lr
        z = z + g_shrunk - sigma * w
        q = n_new ** (-lr_power) / lr + 2 * (l2 + beta / (2 * lr))
        w = np.where(np.abs(z) > l1, (np.sign(z) * l1 - z) / q, 0.0)
        n = n_new
    return w


# --- update rules -------------------------------------------------------------------------------
@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True),
                                                (0.5, True)])
def test_sgd(momentum, nesterov):
    start, grads, end = run(optimizers.SGD(0.1, momentum=momentum, nesterov=nesterov))
    assert_weights_close(end, per_variable(ref_sgd, start, grads, lr=0.1, momentum=momentum,
                                           nesterov=nesterov))


@pytest.mark.parametrize("kwargs", [{}, {"amsgrad": True}, {"beta_1": 0.5, "beta_2": 0.9},
                                    {"epsilon": 0.5}])
def test_adam(kwargs):
    start, grads, end = run(optimizers.Adam(0.05, **kwargs))
    assert_weights_close(end, per_variable(ref_adam, start, grads, lr=0.05, **kwargs),
                         atol=ADAM_ATOL)


def test_adam_amsgrad_uses_the_running_maximum():
    # Large gradients first, then small ones: v falls (fast with beta_2 = 0.5), max(v) does not.
    rng = np.random.default_rng(3)
    w0 = rng.normal(size=(4,))
    grads = [np.full(4, 3.0)] * 2 + [np.full(4, 0.1)] * 4
    out = {}
    for amsgrad in (False, True):
        w = Variable(w0)
        optimizer = optimizers.Adam(0.1, beta_2=0.5, amsgrad=amsgrad)
        for g in grads:
            optimizer.apply_gradients([(g, w)])
        out[amsgrad] = w.numpy()
        expected = ref_adam(w0, grads, 0.1, beta_2=0.5, amsgrad=amsgrad)
        np.testing.assert_allclose(out[amsgrad], expected, rtol=1e-5, atol=1e-6)
    assert np.abs(out[True] - out[False]).max() > 1e-2


def test_adamw_decays_before_the_adam_step():
    optimizer = optimizers.AdamW(0.05, weight_decay=0.2)
    assert optimizer.weight_decay == 0.2 and optimizers.AdamW().weight_decay == 0.004
    start, grads, end = run(optimizer)
    assert_weights_close(end, per_variable(ref_adam, start, grads, lr=0.05, wd=0.2),
                         atol=ADAM_ATOL)


@pytest.mark.parametrize("kwargs", [{}, {"centered": True}, {"momentum": 0.8},
                                    {"centered": True, "momentum": 0.5, "rho": 0.7}])
def test_rmsprop(kwargs):
    start, grads, end = run(optimizers.RMSprop(0.01, **kwargs))
    assert_weights_close(end, per_variable(ref_rmsprop, start, grads, lr=0.01, **kwargs))


@pytest.mark.parametrize("kwargs", [{}, {"initial_accumulator_value": 2.0, "epsilon": 0.01}])
def test_adagrad(kwargs):
    start, grads, end = run(optimizers.Adagrad(0.1, **kwargs))
    assert_weights_close(end, per_variable(ref_adagrad, start, grads, lr=0.1, **kwargs))


@pytest.mark.parametrize("kwargs", [{}, {"rho": 0.5, "epsilon": 1e-3}])
def test_adadelta(kwargs):
    start, grads, end = run(optimizers.Adadelta(1.0, **kwargs))
    assert_weights_close(end, per_variable(ref_adadelta, start, grads, lr=1.0, **kwargs))


@pytest.mark.parametrize("kwargs", [{}, {"beta_1": 0.5, "beta_2": 0.8}])
def test_adamax(kwargs):
    start, grads, end = run(optimizers.Adamax(0.05, **kwargs))
    assert_weights_close(end, per_variable(ref_adamax, start, grads, lr=0.05, **kwargs))


@pytest.mark.parametrize("kwargs", [{}, {"beta_1": 0.8, "beta_2": 0.99}])
def test_nadam(kwargs):
    optimizer = optimizers.Nadam(0.05, **kwargs)
    start, grads, end = run(optimizer)
    assert_weights_close(end, per_variable(ref_nadam, start, grads, lr=0.05, **kwargs),
                         atol=ADAM_ATOL)
    beta_1 = kwargs.get("beta_1", 0.9)
    expected_product = np.prod([beta_1 * (1 - 0.5 * 0.96**t) for t in range(1, N_STEPS + 1)])
    np.testing.assert_allclose(float(optimizer.variables[-1].value), expected_product, rtol=1e-6)


@pytest.mark.parametrize("kwargs, ref_kwargs", [
    ({}, {}),
    ({"l1_regularization_strength": 0.05, "l2_regularization_strength": 0.1},
     {"l1": 0.05, "l2": 0.1}),
    ({"l2_shrinkage_regularization_strength": 0.2, "beta": 0.3, "learning_rate_power": -0.7,
      "initial_accumulator_value": 0.5},
     {"l2_shrinkage": 0.2, "beta": 0.3, "lr_power": -0.7, "init": 0.5}),
    ({"learning_rate_power": 0.0}, {"lr_power": 0.0}),
])
def test_ftrl(kwargs, ref_kwargs):
    start, grads, end = run(optimizers.Ftrl(0.1, **kwargs))
    assert_weights_close(end, per_variable(ref_ftrl, start, grads, lr=0.1, **ref_kwargs))


def test_ftrl_l1_gives_exact_zeros():
    start, grads, end = run(optimizers.Ftrl(0.1, l1_regularization_strength=100.0))
    assert all(np.all(w == 0.0) for w in end)


def test_float64_variables_update_in_float64():
    optimizer = optimizers.Adam(0.05)
    start, grads, end = run(optimizer, dtype="float64")
    assert all(v.dtype == "float64" for v in optimizer.variables[2:])
    lr = float(np.float32(0.05))  # the learning-rate variable stays float32, as in Keras
    assert_weights_close(end, per_variable(ref_adam, start, grads, lr=lr), rtol=1e-9,
                         atol=1e-10)


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta",
                                  "adamax", "nadam", "ftrl"])
def test_gradients_are_not_modified_and_tensors_accepted(name):
    rng = np.random.default_rng(1)
    variables = make_variables(rng)
    grads = [rng.normal(size=s).astype("float32") for s in SHAPES]
    copies = [g.copy() for g in grads]
    optimizer = optimizers.get(name)
    for _ in range(3):
        optimizer.apply_gradients(zip(grads, variables, strict=True))
    for g, c in zip(grads, copies, strict=True):
        np.testing.assert_array_equal(g, c)
    other = optimizers.get(name)
    variables_2 = make_variables(np.random.default_rng(1))
    for _ in range(3):
        other.apply_gradients(zip([Tensor(g) for g in grads], variables_2, strict=True))
    for a, b in zip(variables, variables_2, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# --- the shared pipeline ------------------------------------------------------------------------
def clip_norm(g, c):
    return g * c / max(np.linalg.norm(g), c)


def test_clipnorm_is_per_tensor():
    start, grads, end = run(optimizers.SGD(0.1, clipnorm=1.0), scale=3.0)
    clipped = [[clip_norm(g.astype(np.float64), 1.0) for g in step] for step in grads]
    assert_weights_close(end, per_variable(ref_sgd, start, clipped, lr=0.1))


def test_global_clipnorm_scales_all_gradients_together():
    start, grads, end = run(optimizers.SGD(0.1, global_clipnorm=1.5), scale=3.0)
    clipped = []
    for step in grads:
        norm = math.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in step))
        clipped.append([g * 1.5 / max(norm, 1.5) for g in step])
    assert_weights_close(end, per_variable(ref_sgd, start, clipped, lr=0.1))


def test_clipvalue():
    start, grads, end = run(optimizers.SGD(0.1, clipvalue=0.5))
    clipped = [[np.clip(g, -0.5, 0.5) for g in step] for step in grads]
    assert_weights_close(end, per_variable(ref_sgd, start, clipped, lr=0.1))


def test_small_gradients_are_not_clipped():
    start, grads, end = run(optimizers.SGD(0.1, global_clipnorm=1e3))
    assert_weights_close(end, per_variable(ref_sgd, start, grads, lr=0.1))


@pytest.mark.parametrize("clip", [{"clipnorm": 1.0}, {"global_clipnorm": 1.0}])
def test_clipping_zero_and_nonfinite_gradients_warns_nothing(clip):
    w = Variable(np.ones(3))
    optimizer = optimizers.SGD(0.1, **clip)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizer.apply_gradients([(np.zeros(3), w)])
        np.testing.assert_array_equal(w.numpy(), np.ones(3))
        optimizer.apply_gradients([(np.array([np.inf, 1.0, 0.0]), w)])
    if "global_clipnorm" in clip:  # as in Keras: an inf global norm turns every gradient to NaN
        assert np.all(np.isnan(w.numpy()))


def test_weight_decay_runs_before_the_update():
    # With lr = 0.5 the two orders differ by lr^2 * wd * g.
    start, grads, end = run(optimizers.SGD(0.5, weight_decay=0.1), n_steps=3)
    expected = []
    for i, w in enumerate(start):
        for step in grads:
            w = w - 0.5 * 0.1 * w
            w = w - 0.5 * step[i].astype(np.float64)
        expected.append(w)
    assert_weights_close(end, expected)


def test_weight_decay_uses_the_scheduled_learning_rate():
    w = Variable(np.full(2, 2.0))
    schedule = schedules.ExponentialDecay(0.5, decay_steps=1, decay_rate=0.5)
    optimizer = optimizers.SGD(schedule, weight_decay=0.1)
    expected = np.full(2, 2.0)
    for k in range(3):
        optimizer.apply_gradients([(np.ones(2), w)])
        lr = 0.5 * 0.5**k
        expected = expected - lr * 0.1 * expected - lr
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("exclude", ["var_names", "var_list"])
def test_exclude_from_weight_decay(exclude):
    rng = np.random.default_rng(0)
    kernel, bias = make_variables(rng)
    optimizer = optimizers.SGD(0.5, weight_decay=0.1)
    if exclude == "var_names":
        optimizer.exclude_from_weight_decay(var_names=["bia"])
    else:
        optimizer.exclude_from_weight_decay(var_list=[bias])
    k0, b0 = kernel.numpy(), bias.numpy()
    optimizer.apply_gradients([(np.zeros(SHAPES[0]), kernel), (np.zeros(SHAPES[1]), bias)])
    np.testing.assert_allclose(kernel.numpy(), k0 * (1 - 0.05), rtol=1e-6)
    np.testing.assert_array_equal(bias.numpy(), b0)


def test_constraint_runs_after_the_update_and_gets_an_array():
    seen = []

    def non_neg(value):
        seen.append(type(value))
        return np.maximum(value, 0)

    w = Variable(np.array([-1.0, 0.5, 2.0]), constraint=non_neg)
    optimizer = optimizers.SGD(0.1, weight_decay=0.5)
    optimizer.build([w])
    np.testing.assert_array_equal(w.numpy(), [-1.0, 0.5, 2.0])  # not applied at build
    optimizer.apply_gradients([(np.array([0.0, 10.0, -1.0]), w)])
    # decay (x0.95), then the step, then the projection
    expected = np.maximum(np.array([-0.95, 0.475, 1.9]) - 0.1 * np.array([0.0, 10.0, -1.0]), 0)
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-6)
    assert seen == [np.ndarray]


def test_loss_scale_factor_divides_the_gradients():
    w = Variable(np.ones(2))
    optimizer = optimizers.SGD(0.1, loss_scale_factor=4.0)
    assert optimizer.scale_loss(2.0) == 8.0
    assert optimizers.SGD().scale_loss(2.0) == 2.0
    optimizer.apply_gradients([(np.array([4.0, -8.0]), w)])
    np.testing.assert_allclose(w.numpy(), [1 - 0.1, 1 + 0.2], rtol=1e-6)


def test_none_gradients_are_dropped_with_a_warning():
    kernel, bias = make_variables(np.random.default_rng(0))
    b0 = bias.numpy()
    optimizer = optimizers.SGD(0.1)
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['sequential/"
                                         r"dense/kernel'\]"):
        optimizer.apply_gradients([(None, kernel), (np.ones(2), bias)])
    np.testing.assert_allclose(bias.numpy(), b0 - 0.1, rtol=1e-6)
    assert int(optimizer.iterations) == 1
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        optimizer.apply_gradients([(None, kernel), (None, bias)])


def test_iterations_and_empty_apply():
    optimizer = optimizers.SGD(0.1)
    w = Variable(np.ones(2))
    assert optimizer.iterations.dtype == "int64" and int(optimizer.iterations) == 0
    assert optimizer.apply_gradients([(np.ones(2), w)]) is optimizer.iterations
    optimizer.apply([])
    assert int(optimizer.iterations) == 1
    optimizer.apply([np.ones(2)])  # gradients only, once built
    assert int(optimizer.iterations) == 2


def test_use_ema_keeps_a_moving_average_and_overwrites():
    w = Variable(np.zeros(2))
    optimizer = optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=3)
    average = None
    expected_w = np.zeros(2)
    for step in range(1, 5):
        g = np.array([1.0, -2.0]) * step
        optimizer.apply_gradients([(g, w)])
        expected_w = expected_w - g
        average = expected_w.copy() if step == 1 else 0.5 * average + 0.5 * expected_w
        if step % 3 == 0:
            expected_w = average.copy()
        np.testing.assert_allclose(w.numpy(), expected_w, rtol=1e-6)
    assert optimizer.variables[2].path.endswith("_average")
    np.testing.assert_allclose(optimizer.variables[2].numpy(), average, rtol=1e-6)
    w.assign(np.full(2, 9.0))
    optimizer.finalize_variable_values([w])
    np.testing.assert_allclose(w.numpy(), average, rtol=1e-6)


def test_gradient_accumulation_updates_every_n_calls_with_the_mean():
    rng = np.random.default_rng(0)
    w = Variable(rng.normal(size=3))
    w0 = w.numpy().astype(np.float64)
    grads = [rng.normal(size=3).astype("float32") for _ in range(6)]
    optimizer = optimizers.Adam(0.05, gradient_accumulation_steps=2)
    for k, g in enumerate(grads):
        optimizer.apply_gradients([(g, w)])
        if k % 2 == 0:  # an accumulating call: no update
            assert int(optimizer.iterations) == k // 2
    means = [(grads[i].astype(np.float64) + grads[i + 1]) / 2 for i in (0, 2, 4)]
    np.testing.assert_allclose(w.numpy(), ref_adam(w0, means, 0.05), rtol=1e-5, atol=ADAM_ATOL)
    assert int(optimizer.iterations) == 3 and int(optimizer._iterations) == 6
    np.testing.assert_array_equal(optimizer.variables[2].numpy(), np.zeros(3))  # reset


def test_set_weights_and_own_variables_round_trip():
    start, grads, end = run(source := optimizers.Adam(0.05))
    target = optimizers.Adam(0.05)
    target.build(make_variables(np.random.default_rng(5)))
    store = {}
    source.save_own_variables(store)
    assert sorted(store, key=int) == [str(i) for i in range(len(source.variables))]
    target.load_own_variables(store)
    for a, b in zip(source.variables, target.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    target.set_weights([np.zeros(v.shape) for v in target.variables])
    assert int(target.iterations) == 0
    with pytest.warns(UserWarning, match="Skipping variable loading"):
        optimizers.Adam().load_own_variables(store)
    with pytest.raises(ValueError, match="not yet been built"):
        optimizers.Adam().set_weights([])


# --- learning rate and schedules ----------------------------------------------------------------
def test_learning_rate_variable_and_setter():
    optimizer = optimizers.SGD(0.1)
    lr = optimizer.learning_rate
    assert isinstance(lr, Variable) and lr.dtype == "float32" and lr.path == "sgd/learning_rate"
    optimizer.learning_rate = 0.5
    assert float(optimizer.learning_rate) == 0.5
    assert optimizer.get_config()["learning_rate"] == 0.5
    assert optimizers.SGD(0.1).get_config()["learning_rate"] == float(np.float32(0.1))


def test_update_k_uses_schedule_of_k_minus_1():
    w = Variable(np.zeros(1))
    schedule = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    optimizer = optimizers.SGD(schedule)
    previous = 0.0
    for k in range(1, 5):
        optimizer.apply_gradients([(np.ones(1), w)])
        np.testing.assert_allclose(previous - float(w.numpy()[0]), 0.1 * 0.5 ** (k - 1),
                                   rtol=1e-6)
        previous = float(w.numpy()[0])
        assert optimizer.learning_rate == pytest.approx(0.1 * 0.5**k, rel=1e-6)


def test_schedule_and_callable_learning_rates():
    schedule = schedules.InverseTimeDecay(0.1, 2, 1.0)
    optimizer = optimizers.SGD(schedule)
    assert [v.path for v in optimizer.variables] == ["sgd/iteration"]
    with pytest.raises(TypeError, match="not settable"):
        optimizer.learning_rate = 0.1
    optimizer = optimizers.SGD(0.1)
    optimizer.learning_rate = schedule  # replaces (and untracks) the variable
    assert [v.path for v in optimizer.variables] == ["sgd_1/iteration"]

    def halving():
        return 0.25

    optimizer = optimizers.SGD(halving)
    w = Variable(np.ones(2))
    optimizer.apply_gradients([(np.ones(2), w)])
    np.testing.assert_allclose(w.numpy(), [0.75, 0.75])
    assert optimizer.get_config()["learning_rate"]["config"] == "halving"


def _restarts(step, lr0, first, t_mul=2.0, m_mul=1.0, alpha=0.0):
    """SGDR by walking the cycles."""
    start, length, scale = 0.0, float(first), 1.0
    while step >= start + length:
        start, length, scale = start + length, length * t_mul, scale * m_mul
    fraction = (step - start) / length
    return lr0 * ((1 - alpha) * scale * 0.5 * (1 + math.cos(math.pi * fraction)) + alpha)


def _cosine(step, lr0, ds, alpha=0.0, target=None, warmup=0):
    if target is None:
        s = min(step, ds)
        return lr0 * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / ds)) + alpha)
    if step < warmup:
        return lr0 + (target - lr0) * step / warmup
    s = min(step - warmup, ds)
    return target * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / ds)) + alpha)


def _polynomial(step, lr0, ds, end, power, cycle):
    if cycle:
        ds = ds * max(1, math.ceil(step / ds))
    else:
        step = min(step, ds)
    return (lr0 - end) * (1 - step / ds) ** power + end


SCHEDULE_CASES = [
    (schedules.ExponentialDecay(0.1, 3, 0.5), lambda s: 0.1 * 0.5 ** (s / 3)),
    (schedules.ExponentialDecay(0.1, 3, 0.5, staircase=True), lambda s: 0.1 * 0.5 ** (s // 3)),
    (schedules.InverseTimeDecay(0.1, 2, 0.5), lambda s: 0.1 / (1 + 0.5 * s / 2)),
    (schedules.InverseTimeDecay(0.1, 2, 0.5, staircase=True), lambda s: 0.1 / (1 + 0.5 * (s // 2))),
    (schedules.PolynomialDecay(0.1, 10), lambda s: _polynomial(s, 0.1, 10, 1e-4, 1.0, False)),
    (schedules.PolynomialDecay(0.1, 4, 0.01, power=2.0, cycle=True),
     lambda s: _polynomial(s, 0.1, 4, 0.01, 2.0, True)),
    (schedules.PiecewiseConstantDecay([3, 7], [0.3, 0.2, 0.1]),
     lambda s: 0.3 if s <= 3 else 0.2 if s <= 7 else 0.1),
    (schedules.CosineDecay(0.1, 10, alpha=0.1), lambda s: _cosine(s, 0.1, 10, alpha=0.1)),
    (schedules.CosineDecay(0.0, 10, warmup_target=0.2, warmup_steps=4),
     lambda s: _cosine(s, 0.0, 10, target=0.2, warmup=4)),
    (schedules.CosineDecayRestarts(0.1, 4), lambda s: _restarts(s, 0.1, 4)),
    (schedules.CosineDecayRestarts(0.1, 5, t_mul=1.0, m_mul=0.5, alpha=0.1),
     lambda s: _restarts(s, 0.1, 5, 1.0, 0.5, 0.1)),
    (schedules.CosineDecayRestarts(0.1, 3, t_mul=1.5, m_mul=0.8),
     lambda s: _restarts(s, 0.1, 3, 1.5, 0.8)),
]


@pytest.mark.parametrize("schedule, formula", SCHEDULE_CASES,
                         ids=[type(s).__name__ for s, _ in SCHEDULE_CASES])
def test_schedule_values(schedule, formula):
    steps = [0, 1, 2, 3, 4, 5, 7, 8, 10, 13, 20, 29, 50]
    values = [schedule(s) for s in steps]
    assert all(isinstance(v, float) for v in values)
    # float32 arithmetic; a cosine near its zero has a larger relative error, hence the atol
    np.testing.assert_allclose(values, [formula(s) for s in steps], rtol=1e-6, atol=1e-8)
    assert schedule(Variable(np.array(5, dtype="int64"))) == schedule(5)


@pytest.mark.parametrize("schedule", [s for s, _ in SCHEDULE_CASES],
                         ids=[type(s).__name__ for s, _ in SCHEDULE_CASES])
def test_schedule_serialization_round_trip(schedule):
    config = schedules.serialize(schedule)
    assert config["module"] == "keras.optimizers.schedules"
    assert config["class_name"] == type(schedule).__name__ and config["registered_name"] is None
    clone = schedules.deserialize(config)
    assert clone.get_config() == schedule.get_config()
    assert [clone(s) for s in range(12)] == [schedule(s) for s in range(12)]


def test_schedule_errors():
    with pytest.raises(ValueError, match="`decay_steps` must be > 0"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="`first_decay_steps` must be > 0"):
        schedules.CosineDecayRestarts(0.1, -1)
    with pytest.raises(ValueError, match="1 less than the length of values"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(TypeError, match="Could not locate class 'Nope'"):
        schedules.deserialize({"class_name": "Nope", "config": {}})
    with pytest.raises(NotImplementedError):
        schedules.LearningRateSchedule()(0)


# --- variables, names, configs ------------------------------------------------------------------
def slot_paths(optimizer):
    variables = make_variables(np.random.default_rng(0))
    optimizer.build(variables)
    return [v.path for v in optimizer.variables]


K, B = "sequential_dense_kernel", "sequential_dense_bias"


@pytest.mark.parametrize("optimizer, slots", [
    (lambda: optimizers.SGD(), []),
    (lambda: optimizers.SGD(momentum=0.9), [f"{K}_momentum", f"{B}_momentum"]),
    (lambda: optimizers.Adam(amsgrad=True),
     [f"{K}_momentum", f"{K}_velocity", f"{B}_momentum", f"{B}_velocity", f"{K}_velocity_hat",
      f"{B}_velocity_hat"]),
    (lambda: optimizers.RMSprop(momentum=0.5, centered=True),
     [f"{K}_velocity", f"{B}_velocity", f"{K}_momentum", f"{B}_momentum",
      f"{K}_average_gradient", f"{B}_average_gradient"]),
    (lambda: optimizers.Nadam(),
     [f"{K}_momentum", f"{K}_velocity", f"{B}_momentum", f"{B}_velocity", "variable"]),
    (lambda: optimizers.Adagrad(), [f"{K}_accumulator", f"{B}_accumulator"]),
    (lambda: optimizers.Adadelta(),
     [f"{K}_accumulated_grad", f"{K}_accumulated_delta_var", f"{B}_accumulated_grad",
      f"{B}_accumulated_delta_var"]),
    (lambda: optimizers.Adamax(), [f"{K}_momentum", f"{K}_norm", f"{B}_momentum", f"{B}_norm"]),
    (lambda: optimizers.Ftrl(),
     [f"{K}_accumulator", f"{K}_linear", f"{B}_accumulator", f"{B}_linear"]),
    (lambda: optimizers.Adam(use_ema=True, gradient_accumulation_steps=2),
     [f"{K}_average", f"{B}_average", f"{K}_gradient_accumulator", f"{B}_gradient_accumulator",
      f"{K}_momentum", f"{K}_velocity", f"{B}_momentum", f"{B}_velocity"]),
])
def test_variables_order_and_paths(optimizer, slots):
    optimizer = optimizer()
    name = optimizer.name
    assert slot_paths(optimizer) == [f"{name}/{p}" for p in ["iteration", "learning_rate", *slots]]
    assert all(not v.trainable for v in optimizer.variables[:-1])


def test_slot_initial_values():
    adagrad = optimizers.Adagrad(initial_accumulator_value=0.3)
    slot_paths(adagrad)
    np.testing.assert_allclose(adagrad.variables[2].numpy(), np.full(SHAPES[0], 0.3))
    ftrl = optimizers.Ftrl(initial_accumulator_value=0.2)
    slot_paths(ftrl)
    np.testing.assert_allclose(ftrl.variables[2].numpy(), np.full(SHAPES[0], 0.2))
    np.testing.assert_array_equal(ftrl.variables[3].numpy(), np.zeros(SHAPES[0]))
    nadam = optimizers.Nadam()
    slot_paths(nadam)
    assert float(nadam.variables[-1].value) == 1.0 and nadam.variables[-1].shape == ()


def test_default_names_follow_keras():
    assert optimizers.Adam().name == "adam"
    assert optimizers.Adam().name == "adam_1"
    assert optimizers.RMSprop().name == "rm_sprop"  # Keras's snake_case of "RMSprop"
    assert optimizers.AdamW().name == "adam_w"
    assert optimizers.SGD(name="trainer").name == "trainer"


DEFAULTS = {
    "sgd": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    "adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
             "amsgrad": False},
    "adamw": {"learning_rate": 0.001, "weight_decay": 0.004, "amsgrad": False},
    "rmsprop": {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7,
                "centered": False},
    "adagrad": {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    "adadelta": {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
    "adamax": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "nadam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "ftrl": {"learning_rate": 0.001, "learning_rate_power": -0.5, "beta": 0.0,
             "initial_accumulator_value": 0.1, "l1_regularization_strength": 0.0},
}


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_get_config_defaults_and_round_trip(name):
    optimizer = optimizers.get(name)
    config = optimizer.get_config()
    expected = {k: float(np.float32(v)) if k == "learning_rate" else v
                for k, v in DEFAULTS[name].items()}
    assert {k: config[k] for k in expected} == expected
    assert list(config)[:11] == ["name", "learning_rate", "weight_decay", "clipnorm",
                                 "global_clipnorm", "clipvalue", "use_ema", "ema_momentum",
                                 "ema_overwrite_frequency", "loss_scale_factor",
                                 "gradient_accumulation_steps"]
    serialized = optimizers.serialize(optimizer)
    assert serialized == {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
                          "config": config, "registered_name": None}
    clone = optimizers.deserialize(serialized)
    assert type(clone) is type(optimizer) and clone.get_config() == config


def test_config_with_a_schedule_round_trips():
    schedule = schedules.CosineDecay(0.1, 100, warmup_target=0.5, warmup_steps=10)
    optimizer = optimizers.Adam(schedule, clipnorm=1.0)
    config = optimizer.get_config()
    assert config["learning_rate"] == {"module": "keras.optimizers.schedules",
                                       "class_name": "CosineDecay",
                                       "config": schedule.get_config(), "registered_name": None}
    clone = optimizers.Adam.from_config(config)
    assert isinstance(clone._learning_rate, schedules.CosineDecay)
    assert clone.get_config() == config
    assert isinstance(config["learning_rate"], dict)  # from_config did not mutate the config


def test_get():
    assert isinstance(optimizers.get("adam"), optimizers.Adam)
    assert isinstance(optimizers.get("ADAM"), optimizers.Adam)
    assert isinstance(optimizers.get("RMSprop"), optimizers.RMSprop)
    assert isinstance(optimizers.get("AdamW"), optimizers.AdamW)
    opt = optimizers.SGD()
    assert optimizers.get(opt) is opt
    assert optimizers.get(None) is None
    from_dict = optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.5}})
    assert isinstance(from_dict, optimizers.SGD) and float(from_dict.learning_rate) == 0.5
    with pytest.raises(ValueError, match=r"Could not interpret optimizer identifier: 'adamm'.*"
                                         r"'rmsprop'"):
        optimizers.get("adamm")
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: 3"):
        optimizers.get(3)


def test_custom_subclass_serialization():
    class MySGD(optimizers.SGD):
        pass

    config = optimizers.serialize(MySGD())
    assert config["module"] == __name__ and config["registered_name"] == "MySGD"  # as Keras
    clone = optimizers.deserialize(config, custom_objects={"MySGD": MySGD})
    assert type(clone) is MySGD


# --- bad arguments ------------------------------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda: optimizers.SGD(learning_rate=1), "Argument `learning_rate` should be float"),
    (lambda: optimizers.Adam(learning_rate="fast"), "Received instead: learning_rate=fast"),
    (lambda: optimizers.SGD(momentum=1), r"`momentum` must be a float between \[0, 1\]"),
    (lambda: optimizers.SGD(momentum=-0.1), r"`momentum` must be a float between \[0, 1\]"),
    (lambda: optimizers.SGD(momentum=1.5), "Received: momentum=1.5"),
    (lambda: optimizers.Adam(foo=1), r"Argument\(s\) not recognized: \{'foo': 1\}"),
    (lambda: optimizers.SGD(clipnorm=1.0, clipvalue=1.0),
     "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set"),
    (lambda: optimizers.SGD(clipnorm=1.0, global_clipnorm=1.0), "global_clipnorm=1.0"),
    (lambda: optimizers.AdamW(weight_decay=None), "Argument `weight_decay` must be a float"),
    (lambda: optimizers.Adam(gradient_accumulation_steps=1),
     "`gradient_accumulation_steps` must be an integer >= 2"),
    (lambda: optimizers.Adam(use_ema=True, ema_momentum=1.5), "`ema_momentum` must be in"),
    (lambda: optimizers.Adam(use_ema=True, ema_overwrite_frequency=0.5),
     "`ema_overwrite_frequency` must be an integer >= 1"),
    (lambda: optimizers.Ftrl(initial_accumulator_value=-1.0), "`initial_accumulator_value`"),
    (lambda: optimizers.Ftrl(learning_rate_power=0.5), "`learning_rate_power` needs"),
    (lambda: optimizers.Ftrl(l1_regularization_strength=-1.0), "`l1_regularization_strength`"),
    (lambda: optimizers.Ftrl(l2_shrinkage_regularization_strength=-1.0),
     "`l2_shrinkage_regularization_strength`"),
])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_tutorial_lr_argument_warns_and_maps():
    with pytest.warns(FutureWarning, match="use `learning_rate`"):
        optimizer = optimizers.SGD(lr=0.3, momentum=0.9)
    assert float(optimizer.learning_rate) == pytest.approx(0.3)
    with pytest.warns(UserWarning, match="`decay` is no longer supported"):
        optimizers.Adam(decay=0.1)


def test_apply_errors():
    kernel, bias = make_variables(np.random.default_rng(0))
    optimizer = optimizers.SGD()
    with pytest.raises(ValueError, match="must already be built"):
        optimizer.apply([np.ones(SHAPES[0])])
    optimizer.build([kernel])
    with pytest.raises(ValueError, match="Received a list of 2 gradients"):
        optimizer.apply([np.ones(SHAPES[0]), np.ones(SHAPES[1])])
    with pytest.raises(ValueError, match="Unknown variable"):
        optimizer.apply_gradients([(np.ones(SHAPES[1]), bias)])
    with pytest.raises(ValueError, match=r"has shape \(2,\), but the variable has shape \(3, 2\)"):
        optimizer.apply_gradients([(np.ones(2), kernel)])
    with pytest.raises(NotImplementedError, match="update_step"):
        optimizers.Optimizer(0.1).apply_gradients([(np.ones(2), bias)])
