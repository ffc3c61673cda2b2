"""Lion, Lamb and Adafactor against their docstring formulas, re-derived here in NumPy.

The one-step tests write the first update by hand (t = 1, empty slots: the formulas collapse to
a few terms); the several-step tests run an independent float64 re-derivation of each rule, one
variable at a time. minikeras computes in float32, so they compare with rtol 1e-5 / atol 1e-6.
The float32 parity with Keras itself is in compat_tests/test_optimizers_more_parity.py.
"""

import warnings

import numpy as np
import pytest

import minikeras
from minikeras import backend, optimizers
from minikeras.variables import Variable

SHAPES = [(3, 2), (2,)]  # a kernel (Adafactor factors it) and a bias (it does not)
N_STEPS = 6
K, B = "sequential_dense_kernel", "sequential_dense_bias"


@pytest.fixture(autouse=True)
def _fresh_session():
    backend.clear_session()
    backend.set_floatx("float32")
    yield
    backend.set_floatx("float32")


def make_variables(rng):
    kernel = Variable(rng.normal(size=SHAPES[0]), dtype="float32", name="kernel")
    kernel.path = "sequential/dense/kernel"
    bias = Variable(rng.normal(size=SHAPES[1]), dtype="float32", name="bias")
    bias.path = "sequential/dense/bias"
    return [kernel, bias]


def run(optimizer, seed=0, n_steps=N_STEPS):
    """Apply ``n_steps`` random gradient sets; return (start weights, gradients, end weights)."""
    rng = np.random.default_rng(seed)
    variables = make_variables(rng)
    start = [v.numpy().astype(np.float64) for v in variables]
    grads = [[rng.normal(size=s).astype("float32") for s in SHAPES] for _ in range(n_steps)]
    for step_grads in grads:
        optimizer.apply_gradients(zip(step_grads, variables, strict=True))
    return start, grads, [v.numpy() for v in variables]


def per_variable(reference, start, grads, **hyper):
    return [reference(w.copy(), [g[i].astype(np.float64) for g in grads], **hyper)
            for i, w in enumerate(start)]


def assert_weights_close(actual, expected, rtol=1e-5, atol=1e-6):
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


def rms(x):
    return np.sqrt(np.mean(np.square(x)))


# --- float64 references (one variable), written from the papers' forms -------------------------
def ref_lion(w, grads, lr, beta_1=0.9, beta_2=0.99):
    m = np.zeros_like(w)
    for g in grads:
        w = w - lr * np.sign(beta_1 * m + (1 - beta_1) * g)
        m = beta_2 * m + (1 - beta_2) * g
    return w


def ref_lamb(w, grads, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        update = (m / (1 - beta_1**t)) / (np.sqrt(v / (1 - beta_2**t)) + epsilon)
        w_norm, u_norm = np.linalg.norm(w), np.linalg.norm(update)
        trust_ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
        w = w - trust_ratio * lr * update
    return w


def ref_adafactor(w, grads, lr, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                  clip_threshold=1.0):
    """Shazeer & Stern's Algorithms 4/5 with Keras's normalisation: v = (r / mean(r)) c^T."""
    rows, cols, v = np.zeros(w.shape[:-1]), np.zeros(w.shape[-1:]), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        step_size = max(epsilon_2, rms(w)) * min(lr, 1 / np.sqrt(t))
        beta_2_t = 1 - t**beta_2_decay
        grad_square = g**2 + epsilon_1
        if w.ndim == 2:
            rows = beta_2_t * rows + (1 - beta_2_t) * grad_square.mean(axis=1)
            cols = beta_2_t * cols + (1 - beta_2_t) * grad_square.mean(axis=0)
            v = np.outer(rows / rows.mean(), cols)
        else:
            v = beta_2_t * v + (1 - beta_2_t) * grad_square
        u = g / np.sqrt(v)
        w = w - step_size * u / max(1.0, rms(u) / clip_threshold)
    return w


# --- several steps against the references --------------------------------------------------------
@pytest.mark.parametrize("kwargs", [dict(learning_rate=0.05),
                                    dict(learning_rate=0.02, beta_1=0.5, beta_2=0.8),
                                    dict(learning_rate=0.05, beta_1=1.0)])
def test_lion_matches_reference(kwargs):
    start, grads, end = run(optimizers.Lion(**kwargs))
    hyper = {("lr" if k == "learning_rate" else k): v for k, v in kwargs.items()}
    assert_weights_close(end, per_variable(ref_lion, start, grads, **hyper))


@pytest.mark.parametrize("kwargs", [dict(learning_rate=0.05),
                                    dict(learning_rate=0.01, beta_1=0.5, beta_2=0.9,
                                         epsilon=1e-3)])
def test_lamb_matches_reference(kwargs):
    start, grads, end = run(optimizers.Lamb(**kwargs))
    hyper = {("lr" if k == "learning_rate" else k): v for k, v in kwargs.items()}
    assert_weights_close(end, per_variable(ref_lamb, start, grads, **hyper))


@pytest.mark.parametrize("kwargs", [dict(learning_rate=0.05),
                                    dict(learning_rate=0.5, clip_threshold=0.3),
                                    dict(learning_rate=0.2, beta_2_decay=-0.5, epsilon_2=1.5)])
def test_adafactor_matches_reference(kwargs):
    start, grads, end = run(optimizers.Adafactor(**kwargs))
    hyper = {("lr" if k == "learning_rate" else k): v for k, v in kwargs.items()}
    assert_weights_close(end, per_variable(ref_adafactor, start, grads, **hyper))


# --- the first update, by hand ---------------------------------------------------------------
def one_step(optimizer, seed=3):
    rng = np.random.default_rng(seed)
    variables = make_variables(rng)
    w0 = [v.numpy().astype(np.float64) for v in variables]
    g = [rng.normal(size=s).astype("float32") for s in SHAPES]
    optimizer.apply_gradients(zip(g, variables, strict=True))
    return w0, [x.astype(np.float64) for x in g], [v.numpy() for v in variables]


def test_lion_first_step_is_lr_times_sign():
    """m starts at 0, so c = (1 - beta_1) g and every weight moves by exactly lr."""
    lion = optimizers.Lion(learning_rate=0.1, beta_2=0.7)
    w0, g, w1 = one_step(lion)
    for w, grad, new in zip(w0, g, w1, strict=True):
        np.testing.assert_allclose(new, w - 0.1 * np.sign(grad), rtol=1e-6)
    np.testing.assert_allclose(lion.variables[2].numpy(), (1 - 0.7) * g[0], rtol=1e-6)


def test_lamb_first_step_is_trust_ratio_times_sign():
    """At t = 1, m_hat = g and sqrt(v_hat) = |g|: update = g / (|g| + eps) ~ sign(g), and the
    trust ratio scales it to ||w|| * lr."""
    w0, g, w1 = one_step(optimizers.Lamb(learning_rate=0.1))
    for w, grad, new in zip(w0, g, w1, strict=True):
        update = grad / (np.abs(grad) + 1e-7)
        expected = w - np.linalg.norm(w) / np.linalg.norm(update) * 0.1 * update
        np.testing.assert_allclose(new, expected, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(np.linalg.norm(new - w), 0.1 * np.linalg.norm(w), rtol=1e-6)


def test_lamb_zero_weights_use_ratio_one():
    lamb = optimizers.Lamb(learning_rate=0.1)
    w = Variable(np.zeros(3), dtype="float32", name="bias")
    g = np.array([0.5, -2.0, 0.0], dtype="float32")
    lamb.apply_gradients([(g, w)])
    # rtol 1e-5: v's (1 - beta_2) = float32(0.001), but 1 - beta_2^t = 1 - float32(0.999) is
    # 1.3e-5 (relative) away from it, so sqrt(v_hat) is not exactly |g| in float32.
    np.testing.assert_allclose(w.numpy(), -0.1 * g / (np.abs(g) + 1e-7), rtol=1e-5)


def test_adafactor_first_step_by_hand():
    """At t = 1 beta_2_t = 0: the slots hold this step's statistics only."""
    lr, clip = 0.5, 0.8
    adafactor = optimizers.Adafactor(learning_rate=lr, clip_threshold=clip)
    w0, g, w1 = one_step(adafactor)
    grad_square = g[0] ** 2 + 1e-30
    rows, cols = grad_square.mean(axis=1), grad_square.mean(axis=0)
    v_kernel = np.outer(rows / rows.mean(), cols)
    v_bias = g[1] ** 2 + 1e-30
    for w, grad, v, new in zip(w0, g, [v_kernel, v_bias], w1, strict=True):
        u = grad / np.sqrt(v)
        alpha = max(1e-3, rms(w)) * min(lr, 1.0)
        np.testing.assert_allclose(new, w - alpha * u / max(1.0, rms(u) / clip), rtol=1e-5,
                                   atol=1e-6)
    slots = {v.path: v.numpy() for v in adafactor.variables}
    kernel_r, kernel_c = (v.numpy() for v in adafactor.variables[2:4])
    np.testing.assert_allclose(kernel_r, rows, rtol=1e-6)
    np.testing.assert_allclose(kernel_c, cols, rtol=1e-6)
    np.testing.assert_allclose(slots[f"adafactor/{K}_velocity"], v_kernel, rtol=1e-5)
    np.testing.assert_allclose(slots[f"adafactor/{B}_velocity"], v_bias, rtol=1e-6)


def test_adafactor_update_rms_is_clipped_and_scaled_by_the_weights():
    """|w1 - w0| has RMS alpha * min(rms(u), clip_threshold): large gradients give the same step
    as small ones (u is normalised by sqrt(v)), and the step is relative to rms(w)."""
    for scale in (1e-3, 1e3):
        w = Variable(np.full((4, 5), 2.0), dtype="float32", name="kernel")
        grad = (scale * np.random.default_rng(0).normal(size=(4, 5))).astype("float32")
        optimizers.Adafactor(learning_rate=0.1, clip_threshold=0.5).apply_gradients([(grad, w)])
        np.testing.assert_allclose(rms(w.numpy() - 2.0), 2.0 * 0.1 * 0.5, rtol=1e-5)


def test_adafactor_relative_step_changes_nothing():
    """Keras 3.15 takes min(lr, 1/sqrt(t)) whether relative_step is True or False."""
    _, _, on = run(optimizers.Adafactor(learning_rate=2.0, relative_step=True))
    _, _, off = run(optimizers.Adafactor(learning_rate=2.0, relative_step=False))
    for a, b in zip(on, off, strict=True):
        np.testing.assert_array_equal(a, b)


# --- training on a quadratic ---------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: optimizers.Lion(0.1),
                                  lambda: optimizers.Lion(0.05, beta_1=0.5, beta_2=0.9),
                                  lambda: optimizers.Lamb(0.05),
                                  lambda: optimizers.Adafactor(0.1),
                                  lambda: optimizers.Adafactor(0.1, relative_step=False,
                                                               clip_threshold=0.5)],
                         ids=["lion", "lion_betas", "lamb", "adafactor", "adafactor_clip"])
def test_steps_on_a_quadratic_decrease_the_loss(make):
    """loss = 1/2 sum((w - 3)^2) for a kernel and a bias; gradient w - 3."""
    optimizer, variables = make(), make_variables(np.random.default_rng(0))

    def loss():
        return sum(0.5 * float(np.sum((v.numpy() - 3.0) ** 2)) for v in variables)

    losses = [loss()]
    for _ in range(5):
        grads = [v.numpy() - 3.0 for v in variables]
        optimizer.apply_gradients(zip(grads, variables, strict=True))
        losses.append(loss())
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False)), losses


def test_fit_with_each_name():
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]])).astype("float32")
    for name in ("lion", "lamb", "adafactor"):
        model = minikeras.Sequential([minikeras.Input((3,)), minikeras.layers.Dense(1)])
        model.compile(optimizer=name, loss="mse")
        history = model.fit(x, y, batch_size=8, epochs=4, verbose=0)
        assert history.history["loss"][-1] < history.history["loss"][0], name
        assert type(model.optimizer).__name__.lower() == name


# --- variables, configs, names -------------------------------------------------------------------
def built(optimizer):
    optimizer.build(make_variables(np.random.default_rng(0)))
    return optimizer


def test_variables_order_paths_and_dtypes():
    lion = built(optimizers.Lion())
    assert [v.path for v in lion.variables] == [
        "lion/iteration", "lion/learning_rate", f"lion/{K}_momentum", f"lion/{B}_momentum"]
    lamb = built(optimizers.Lamb())
    assert [v.path for v in lamb.variables] == [
        "lamb/iteration", "lamb/learning_rate", f"lamb/{K}_momentum", f"lamb/{K}_velocity",
        f"lamb/{B}_momentum", f"lamb/{B}_velocity"]
    adafactor = built(optimizers.Adafactor())
    # Keras: r and c take the variable's own name; a 1-D variable gets two int32 placeholders
    assert [(v.path, str(v.dtype), v.shape) for v in adafactor.variables] == [
        ("adafactor/iteration", "int64", ()), ("adafactor/learning_rate", "float32", ()),
        ("adafactor/kernel", "float32", (3,)), ("adafactor/kernel", "float32", (2,)),
        (f"adafactor/{K}_velocity", "float32", (3, 2)),
        ("adafactor/bias", "int32", ()), ("adafactor/bias", "int32", ()),
        (f"adafactor/{B}_velocity", "float32", (2,))]


def test_adafactor_factors_the_last_two_axes():
    adafactor = optimizers.Adafactor(learning_rate=0.1)
    w = Variable(np.ones((2, 3, 4)), dtype="float32", name="kernel")
    grad = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    adafactor.apply_gradients([(grad, w)])
    r, c, v = (x.numpy() for x in adafactor.variables[2:])
    assert r.shape == (2, 3) and c.shape == (2, 4) and v.shape == (2, 3, 4)
    grad_square = grad.astype(np.float64) ** 2
    expected_v = ((r / r.mean(axis=-1, keepdims=True))[..., None] * c[:, None, :])
    np.testing.assert_allclose(r, grad_square.mean(axis=-1), rtol=1e-6)
    np.testing.assert_allclose(v, expected_v, rtol=1e-6)


DEFAULTS = {
    "Lion": {"learning_rate": 0.0010000000474974513, "beta_1": 0.9, "beta_2": 0.99},
    "Lamb": {"learning_rate": 0.0010000000474974513, "beta_1": 0.9, "beta_2": 0.999,
             "epsilon": 1e-07},
    "Adafactor": {"learning_rate": 0.0010000000474974513, "beta_2_decay": -0.8,
                  "epsilon_1": 1e-30, "epsilon_2": 0.001, "clip_threshold": 1.0,
                  "relative_step": True},
}
BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                 "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                 "ema_overwrite_frequency": None, "loss_scale_factor": None,
                 "gradient_accumulation_steps": None}


@pytest.mark.parametrize("class_name", list(DEFAULTS))
def test_get_config_defaults_and_round_trip(class_name):
    cls = getattr(optimizers, class_name)
    config = cls().get_config()
    assert config == {"name": class_name.lower(), **BASE_DEFAULTS, **DEFAULTS[class_name]}
    assert list(config)[-len(DEFAULTS[class_name]) + 1:] == list(DEFAULTS[class_name])[1:]
    custom = cls(learning_rate=0.25, clipnorm=2.0, name="mine", **{
        "Lion": {"beta_1": 0.5, "beta_2": 0.75},
        "Lamb": {"beta_1": 0.5, "epsilon": 1e-4},
        "Adafactor": {"clip_threshold": 0.5, "relative_step": False, "epsilon_2": 0.01},
    }[class_name])
    clone = cls.from_config(custom.get_config())
    assert type(clone) is cls and clone.get_config() == custom.get_config()
    restored = optimizers.deserialize(optimizers.serialize(custom))
    assert type(restored) is cls and restored.get_config() == custom.get_config()
    assert optimizers.serialize(custom)["class_name"] == class_name


def test_config_with_a_schedule_round_trips():
    schedule = optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)
    adafactor = optimizers.Adafactor(schedule)
    clone = optimizers.Adafactor.from_config(adafactor.get_config())
    assert clone.get_config() == adafactor.get_config()


@pytest.mark.parametrize("name", ["lion", "Lion", "LAMB", "lamb", "adafactor", "Adafactor"])
def test_get_by_name(name):
    optimizer = optimizers.get(name)
    assert type(optimizer).__name__.lower() == name.lower()
    assert optimizer.get_config() == type(optimizer)().get_config() | {
        "name": optimizer.name}


def test_own_variables_round_trip_keeps_int32_placeholders():
    source = optimizers.Adafactor(learning_rate=0.1)
    run(source)
    store = {}
    source.save_own_variables(store)
    target = built(optimizers.Adafactor(learning_rate=0.1))
    target.load_own_variables(store)
    for a, b in zip(source.variables, target.variables, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# --- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("beta_1", [0.0, -0.5, 1.5])
def test_lion_beta_1_out_of_range(beta_1):
    with pytest.raises(ValueError) as error:
        optimizers.Lion(beta_1=beta_1)
    assert str(error.value) == (
        "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer degenerates to "
        f"SignSGD. Received: beta_1={beta_1}.")


def test_lion_accepts_any_beta_2_like_keras():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert optimizers.Lion(beta_1=1.0, beta_2=2.0).beta_2 == 2.0


@pytest.mark.parametrize("class_name", list(DEFAULTS))
@pytest.mark.parametrize("kwargs, message", [
    ({"learning_rate": 1}, "Argument `learning_rate` should be float"),
    ({"foo": 1}, "Argument(s) not recognized: {'foo': 1}"),
    ({"clipnorm": 1.0, "clipvalue": 1.0}, "Only one of `clipnorm`, `clipvalue` and "),
    ({"gradient_accumulation_steps": 1}, "`gradient_accumulation_steps` must be an integer"),
])
def test_base_argument_errors(class_name, kwargs, message):
    with pytest.raises(ValueError) as error:
        getattr(optimizers, class_name)(**kwargs)
    assert str(error.value).startswith(message)
