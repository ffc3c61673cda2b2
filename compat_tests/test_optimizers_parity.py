"""Optimizers and schedules against TensorFlow's Keras on identical variables and gradients.

Each case builds the same optimizer in both libraries, creates the same variables (a kernel
under ``sequential/dense`` and a bias, so the slot paths are Keras's
``<opt>/sequential_dense_kernel_...``) and applies the same 6 random float32 gradient sets with
``apply_gradients``. After every step the weights must match; at the end so must
``optimizer.variables`` (paths, order, values) and ``get_config()``.

Tolerances: both libraries compute in float32 in the same operation order, so most cases are
bit-identical (measured on these inputs). Differences come only from kernels that round
differently: the norm reductions of clipnorm/global_clipnorm and the cosine (<= 1.2e-7 on the
weights) and Ftrl's pow(n, 0.5) (2.4e-7 on the weights, 8e-6 on its `linear` slot whose values are
~1e2, i.e. 1e-7 relative). The bounds allow for other inputs and BLAS/CPU variants: SGD family
atol 1e-6; the adaptive family, which divides by sqrt(v) + epsilon and so amplifies a 1-ulp
difference where v is tiny, rtol 1e-5 / atol 5e-6.
"""

from types import SimpleNamespace

import keras
import numpy as np
import pytest

import minikeras
from minikeras import optimizers as mk_optimizers
from minikeras.variables import Variable

SHAPES = [(4, 3), (3,)]
N_STEPS = 6
SGD_TOL = {"rtol": 1e-6, "atol": 1e-6}
ADAM_TOL = {"rtol": 1e-5, "atol": 5e-6}

KERAS = SimpleNamespace(opt=keras.optimizers, sched=keras.optimizers.schedules,
                        constraints=keras.constraints)
MINI = SimpleNamespace(opt=mk_optimizers, sched=mk_optimizers.schedules,
                       constraints=minikeras.constraints)


def keras_variables(values, constraint=None):
    with keras.name_scope("sequential"), keras.name_scope("dense"):
        kernel = keras.Variable(values[0], name="kernel")
        bias = keras.Variable(values[1], name="bias")
    kernel.constraint = constraint  # keras.Variable(constraint=...) is silently ignored
    return [kernel, bias]


def mini_variables(values, constraint=None):
    kernel = Variable(values[0], name="kernel", constraint=constraint)
    kernel.path = "sequential/dense/kernel"
    bias = Variable(values[1], name="bias")
    bias.path = "sequential/dense/bias"
    return [kernel, bias]


# (id, factory(lib) -> optimizer, tolerance, gradient scale, NonNeg constraint on the kernel)
CASES = [
    ("sgd", lambda L: L.opt.SGD(0.1), SGD_TOL, 1.0, False),
    ("sgd_momentum", lambda L: L.opt.SGD(0.1, momentum=0.9), SGD_TOL, 1.0, False),
    ("sgd_nesterov", lambda L: L.opt.SGD(0.1, momentum=0.9, nesterov=True), SGD_TOL, 1.0, False),
    ("sgd_clipnorm", lambda L: L.opt.SGD(0.1, clipnorm=1.0), SGD_TOL, 3.0, False),
    ("sgd_global_clipnorm", lambda L: L.opt.SGD(0.1, global_clipnorm=1.5), SGD_TOL, 3.0, False),
    ("sgd_clipvalue", lambda L: L.opt.SGD(0.1, clipvalue=0.5), SGD_TOL, 1.0, False),
    ("sgd_weight_decay", lambda L: L.opt.SGD(0.5, momentum=0.5, weight_decay=0.1), SGD_TOL, 1.0,
     False),
    ("sgd_loss_scale", lambda L: L.opt.SGD(0.1, loss_scale_factor=4.0), SGD_TOL, 1.0, False),
    ("sgd_constraint", lambda L: L.opt.SGD(0.3), SGD_TOL, 1.0, True),
    ("sgd_ema", lambda L: L.opt.SGD(0.1, momentum=0.5, use_ema=True, ema_momentum=0.8,
                                    ema_overwrite_frequency=4), SGD_TOL, 1.0, False),
    ("sgd_accumulation", lambda L: L.opt.SGD(0.1, momentum=0.9, gradient_accumulation_steps=3),
     SGD_TOL, 1.0, False),
    ("sgd_exponential", lambda L: L.opt.SGD(L.sched.ExponentialDecay(0.2, 2, 0.5)), SGD_TOL, 1.0,
     False),
    ("sgd_exponential_staircase",
     lambda L: L.opt.SGD(L.sched.ExponentialDecay(0.2, 2, 0.5, staircase=True), momentum=0.5),
     SGD_TOL, 1.0, False),
    ("sgd_inverse_time", lambda L: L.opt.SGD(L.sched.InverseTimeDecay(0.2, 2, 0.5)), SGD_TOL, 1.0,
     False),
    ("sgd_polynomial", lambda L: L.opt.SGD(L.sched.PolynomialDecay(0.2, 4, 0.01, power=2.0)),
     SGD_TOL, 1.0, False),
    ("sgd_polynomial_cycle",
     lambda L: L.opt.SGD(L.sched.PolynomialDecay(0.2, 2, 0.01, cycle=True)), SGD_TOL, 1.0, False),
    ("sgd_piecewise",
     lambda L: L.opt.SGD(L.sched.PiecewiseConstantDecay([1, 3], [0.3, 0.2, 0.1])), SGD_TOL, 1.0,
     False),
    ("sgd_cosine", lambda L: L.opt.SGD(L.sched.CosineDecay(0.2, 5, alpha=0.1)), SGD_TOL, 1.0,
     False),
    ("sgd_cosine_restarts",
     lambda L: L.opt.SGD(L.sched.CosineDecayRestarts(0.2, 2, m_mul=0.5)), SGD_TOL, 1.0, False),
    ("sgd_schedule_weight_decay",
     lambda L: L.opt.SGD(L.sched.ExponentialDecay(0.5, 1, 0.5), weight_decay=0.2), SGD_TOL, 1.0,
     False),
    ("adam", lambda L: L.opt.Adam(0.05), ADAM_TOL, 1.0, False),
    ("adam_amsgrad", lambda L: L.opt.Adam(0.05, beta_2=0.5, amsgrad=True), ADAM_TOL, 1.0, False),
    ("adam_clipnorm", lambda L: L.opt.Adam(0.05, clipnorm=0.5), ADAM_TOL, 1.0, False),
    ("adam_weight_decay", lambda L: L.opt.Adam(0.05, weight_decay=0.1), ADAM_TOL, 1.0, False),
    ("adam_accumulation_ema",
     lambda L: L.opt.Adam(0.05, gradient_accumulation_steps=2, use_ema=True), ADAM_TOL, 1.0,
     False),
    ("adam_cosine_warmup",
     lambda L: L.opt.Adam(L.sched.CosineDecay(0.0, 4, warmup_target=0.1, warmup_steps=2)),
     ADAM_TOL, 1.0, False),
    ("adamw", lambda L: L.opt.AdamW(0.05), ADAM_TOL, 1.0, False),
    ("adamw_amsgrad", lambda L: L.opt.AdamW(0.05, weight_decay=0.1, amsgrad=True), ADAM_TOL, 1.0,
     False),
    ("rmsprop", lambda L: L.opt.RMSprop(0.01), ADAM_TOL, 1.0, False),
    ("rmsprop_centered", lambda L: L.opt.RMSprop(0.01, centered=True), ADAM_TOL, 1.0, False),
    ("rmsprop_momentum", lambda L: L.opt.RMSprop(0.01, momentum=0.8), ADAM_TOL, 1.0, False),
    ("rmsprop_centered_momentum",
     lambda L: L.opt.RMSprop(0.01, rho=0.7, momentum=0.5, centered=True), ADAM_TOL, 1.0, False),
    ("adagrad", lambda L: L.opt.Adagrad(0.1), ADAM_TOL, 1.0, False),
    ("adadelta", lambda L: L.opt.Adadelta(1.0), ADAM_TOL, 1.0, False),
    ("adamax", lambda L: L.opt.Adamax(0.05), ADAM_TOL, 1.0, False),
    ("nadam", lambda L: L.opt.Nadam(0.05), ADAM_TOL, 1.0, False),
    ("nadam_clipvalue", lambda L: L.opt.Nadam(0.05, beta_1=0.8, clipvalue=0.5), ADAM_TOL, 1.0,
     False),
    ("ftrl", lambda L: L.opt.Ftrl(0.1), ADAM_TOL, 1.0, False),
    ("ftrl_regularized",
     lambda L: L.opt.Ftrl(0.1, l1_regularization_strength=0.01, l2_regularization_strength=0.1,
                          l2_shrinkage_regularization_strength=0.05, beta=0.2,
                          learning_rate_power=-0.7), ADAM_TOL, 1.0, False),
]


def _values(variables):
    return [np.asarray(v.numpy()) for v in variables]


@pytest.mark.parametrize("factory, tol, scale, constrained", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_optimizer_matches_keras(rng, factory, tol, scale, constrained):
    initial = [rng.normal(size=s).astype("float32") for s in SHAPES]
    grads = [[(scale * rng.normal(size=s)).astype("float32") for s in SHAPES]
             for _ in range(N_STEPS)]
    k_vars = keras_variables(initial, KERAS.constraints.NonNeg() if constrained else None)
    m_vars = mini_variables(initial, MINI.constraints.NonNeg() if constrained else None)
    k_opt, m_opt = factory(KERAS), factory(MINI)

    for step, step_grads in enumerate(grads, start=1):
        k_opt.apply_gradients(zip(step_grads, k_vars, strict=True))
        m_opt.apply_gradients(zip(step_grads, m_vars, strict=True))
        for k, m in zip(_values(k_vars), _values(m_vars), strict=True):
            np.testing.assert_allclose(m, k, **tol, err_msg=f"weights after step {step}")

    assert [v.path for v in m_opt.variables] == [v.path for v in k_opt.variables]
    for k, m in zip(k_opt.variables, m_opt.variables, strict=True):
        assert m.dtype == k.dtype and m.shape == tuple(k.shape), m.path
        np.testing.assert_allclose(np.asarray(m.numpy()), np.asarray(k.numpy()), **tol,
                                   err_msg=m.path)
    assert int(m_opt.iterations) == int(k_opt.iterations)
    np.testing.assert_allclose(float(np.asarray(m_opt.learning_rate)),
                               float(np.asarray(k_opt.learning_rate)), rtol=1e-7)
    assert m_opt.get_config() == k_opt.get_config()
    assert mk_optimizers.serialize(m_opt) == keras.optimizers.serialize(k_opt)


def test_exclude_from_weight_decay_matches_keras(rng):
    initial = [rng.normal(size=s).astype("float32") for s in SHAPES]
    k_vars, m_vars = keras_variables(initial), mini_variables(initial)
    k_opt, m_opt = KERAS.opt.AdamW(0.1, weight_decay=0.3), MINI.opt.AdamW(0.1, weight_decay=0.3)
    k_opt.exclude_from_weight_decay(var_names=["bias"])
    m_opt.exclude_from_weight_decay(var_names=["bias"])
    for _ in range(N_STEPS):
        step_grads = [rng.normal(size=s).astype("float32") for s in SHAPES]
        k_opt.apply_gradients(zip(step_grads, k_vars, strict=True))
        m_opt.apply_gradients(zip(step_grads, m_vars, strict=True))
    for k, m in zip(_values(k_vars), _values(m_vars), strict=True):
        np.testing.assert_allclose(m, k, **ADAM_TOL)


def test_none_gradient_matches_keras(rng):
    initial = [rng.normal(size=s).astype("float32") for s in SHAPES]
    k_vars, m_vars = keras_variables(initial), mini_variables(initial)
    k_opt, m_opt = KERAS.opt.Adam(0.1), MINI.opt.Adam(0.1)
    for _ in range(3):
        g = rng.normal(size=SHAPES[1]).astype("float32")
        with pytest.warns(UserWarning, match="Gradients do not exist") as k_record:
            k_opt.apply_gradients([(None, k_vars[0]), (g, k_vars[1])])
        with pytest.warns(UserWarning, match="Gradients do not exist") as m_record:
            m_opt.apply_gradients([(None, m_vars[0]), (g, m_vars[1])])
        assert str(m_record[0].message) == str(k_record[0].message)
    for k, m in zip(_values(k_vars) + _values(k_opt.variables),
                    _values(m_vars) + _values(m_opt.variables), strict=True):
        np.testing.assert_allclose(m, k, **ADAM_TOL)


# --- schedules ----------------------------------------------------------------------------------
SCHEDULES = [
    ("ExponentialDecay", (0.1, 3, 0.7), {}),
    ("ExponentialDecay", (0.1, 3, 0.7), {"staircase": True}),
    ("InverseTimeDecay", (0.1, 4, 0.5), {}),
    ("InverseTimeDecay", (0.1, 4, 0.5), {"staircase": True}),
    ("PolynomialDecay", (0.1, 10), {}),
    ("PolynomialDecay", (0.1, 7, 0.01), {"power": 0.5, "cycle": True}),
    ("PiecewiseConstantDecay", ([5, 10, 20], [1.0, 0.5, 0.1, 0.05]), {}),
    ("CosineDecay", (0.1, 20), {}),
    ("CosineDecay", (0.1, 20), {"alpha": 0.2, "warmup_target": 0.5, "warmup_steps": 7}),
    ("CosineDecayRestarts", (0.1, 10), {}),
    ("CosineDecayRestarts", (0.1, 3), {"t_mul": 3.0, "m_mul": 0.9, "alpha": 0.05}),
    ("CosineDecayRestarts", (0.1, 7), {"t_mul": 1.5, "m_mul": 0.9, "alpha": 0.1}),
    ("CosineDecayRestarts", (0.1, 5), {"t_mul": 1.0, "m_mul": 0.5}),
]


@pytest.mark.parametrize("class_name, args, kwargs", SCHEDULES,
                         ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(SCHEDULES)])
def test_schedule_matches_keras(class_name, args, kwargs):
    k_schedule = getattr(keras.optimizers.schedules, class_name)(*args, **kwargs)
    m_schedule = getattr(mk_optimizers.schedules, class_name)(*args, **kwargs)
    # 363 is CosineDecayRestarts(0.1, 3, t_mul=3)'s 5th restart, where the float32
    # log(243) / log(3) is exactly 5 (float64 would give 4.9999999 and a value a cycle away).
    steps = [*range(0, 50), 69, 70, 71, 99, 100, 101, 119, 120, 121, 363, 399]
    expected = [float(k_schedule(s)) for s in steps]
    actual = [m_schedule(s) for s in steps]
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-9)
    assert m_schedule.get_config() == k_schedule.get_config()
    assert (mk_optimizers.schedules.serialize(m_schedule)
            == keras.optimizers.schedules.serialize(k_schedule))


# --- identifiers, defaults and errors -----------------------------------------------------------
NAMES = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "ftrl"]


def test_get_by_name_matches_keras():
    for name in NAMES + ["Adam", "RMSprop", "SGD", "NADAM"]:
        k_opt, m_opt = keras.optimizers.get(name), mk_optimizers.get(name)
        assert type(m_opt).__name__ == type(k_opt).__name__
        assert m_opt.get_config() == k_opt.get_config()


def test_names_count_like_keras():
    k_names = [keras.optimizers.get(n).name for n in NAMES + NAMES]
    m_names = [mk_optimizers.get(n).name for n in NAMES + NAMES]
    assert m_names == k_names


def test_deserialize_keras_config():
    k_opt = keras.optimizers.Adam(keras.optimizers.schedules.PolynomialDecay(0.1, 5),
                                  clipnorm=2.0, amsgrad=True)
    config = keras.optimizers.serialize(k_opt)
    m_opt = mk_optimizers.deserialize(config)
    assert m_opt.get_config() == k_opt.get_config()


BAD_ARGUMENTS = [
    ("SGD", {"learning_rate": 1}),
    ("SGD", {"learning_rate": np.float32(0.1)}),
    ("SGD", {"momentum": 1}),
    ("SGD", {"momentum": 1.5}),
    ("Adam", {"foo": 1}),
    ("Adam", {"clipnorm": 1.0, "clipvalue": 0.5}),
    ("AdamW", {"weight_decay": None}),
    ("Adam", {"gradient_accumulation_steps": 1}),
    ("Adam", {"use_ema": True, "ema_momentum": -0.5}),
    ("Ftrl", {"initial_accumulator_value": -0.1}),
    ("Ftrl", {"learning_rate_power": 0.1}),
    ("Ftrl", {"l2_regularization_strength": -0.1}),
]


def test_bad_arguments_match_keras():
    for class_name, kwargs in BAD_ARGUMENTS:
        with pytest.raises(ValueError) as k_error:
            getattr(keras.optimizers, class_name)(**kwargs)
        with pytest.raises(ValueError) as m_error:
            getattr(mk_optimizers, class_name)(**kwargs)
        # minikeras may add the received value after Keras's message
        assert str(m_error.value).startswith(str(k_error.value)), (class_name, kwargs)
