"""Lion, Lamb and Adafactor against TensorFlow's Keras: training trajectories, step by step
updates, slot variables, configs, names and errors.

The trajectories follow test_training_parity.py (whose helpers they import): the same initial
weights in both libraries, a Dense(6, tanh) -> Dense(3, softmax) model with L2/L1 regularizers
(2-D kernels, which Adafactor factors, and 1-D biases, which it does not), 3 epochs of 4 batches
(the last one partial: 50 samples by 16), ``shuffle=False``. The weights must agree to the
Adam-family atol 5e-5, ``optimizer.variables`` in paths, names, dtypes, order and values, and the
History to rtol 1e-5. Measured on these inputs the weights differ by at most ~1e-7: Lion's and
Lamb's updates are, like Adam's, float32 operations in Keras's order; Adafactor's means and RMS
are reductions whose summation order differs by a last bit.

A word on Lion: its update is lr * sign(c), so a float32 rounding difference that flips the sign
of an element of c that is ~0 would move that weight by 2 * lr. That needs c within ~1e-7 of 0:
it does not happen on these inputs, and if it ever did the test would show one weight off by
exactly 2 * lr rather than a drift.
"""

import keras
import numpy as np
import pytest
from test_optimizers_parity import ADAM_TOL, KERAS, MINI
from test_optimizers_parity import test_optimizer_matches_keras as check_steps_match_keras
from test_training_parity import (
    ADAM_ATOL,
    assert_history_close,
    assert_weights_close,
    fit_both,
    twins,
)

from minikeras import optimizers as mk_optimizers
from minikeras.variables import Variable

OPTIMIZERS = {  # id: (class name, kwargs)
    "lion": ("Lion", dict(learning_rate=0.01)),
    "lion_betas": ("Lion", dict(learning_rate=0.005, beta_1=0.5, beta_2=0.8)),
    "lion_beta_1_one": ("Lion", dict(learning_rate=0.005, beta_1=1.0, beta_2=0.9)),
    "lion_weight_decay": ("Lion", dict(learning_rate=0.01, weight_decay=0.5)),
    "lamb": ("Lamb", dict(learning_rate=0.01)),
    "lamb_betas": ("Lamb", dict(learning_rate=0.02, beta_1=0.8, beta_2=0.9, epsilon=1e-4)),
    "lamb_clipnorm": ("Lamb", dict(learning_rate=0.01, clipnorm=0.1)),
    "adafactor": ("Adafactor", dict(learning_rate=0.1)),
    "adafactor_default": ("Adafactor", dict()),
    "adafactor_no_relative_step": ("Adafactor", dict(learning_rate=0.1, relative_step=False)),
    "adafactor_clip_threshold": ("Adafactor", dict(learning_rate=0.5, clip_threshold=0.1)),
    "adafactor_no_relative_step_clip": ("Adafactor", dict(learning_rate=0.3, relative_step=False,
                                                          clip_threshold=0.5, beta_2_decay=-0.5,
                                                          epsilon_2=0.01)),
}


def _variables(optimizer):
    return [(v.path, v.name, str(np.asarray(v).dtype), np.shape(v)) for v in optimizer.variables]


@pytest.mark.parametrize("opt_id", list(OPTIMIZERS))
def test_training_trajectory_matches_keras(opt_id):
    k, m = twins(regularize=True)
    hk, hm = fit_both(k, m, OPTIMIZERS[opt_id])
    assert_weights_close(k, m, ADAM_ATOL)
    assert_history_close(hk, hm)
    assert _variables(m.optimizer) == _variables(k.optimizer)
    for a, b in zip(k.optimizer.variables, m.optimizer.variables, strict=True):
        # rtol 1e-4, as in test_training_parity: slots such as v, r and c hold squared
        # gradients, whose float32 rounding differences are relatively larger than the weights'
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-4, atol=ADAM_ATOL,
                                   err_msg=b.path)
    assert m.optimizer.get_config() == k.optimizer.get_config()
    assert mk_optimizers.serialize(m.optimizer) == keras.optimizers.serialize(k.optimizer)


# --- apply_gradients step by step (test_optimizers_parity's check, reused) ------------------------
STEP_CASES = [
    ("lion", lambda L: L.opt.Lion(0.05)),
    ("lion_betas", lambda L: L.opt.Lion(0.05, beta_1=0.3, beta_2=0.6)),
    ("lion_schedule_weight_decay",
     lambda L: L.opt.Lion(L.sched.ExponentialDecay(0.1, 2, 0.5), weight_decay=0.2)),
    ("lion_ema_accumulation",
     lambda L: L.opt.Lion(0.05, use_ema=True, gradient_accumulation_steps=2)),
    ("lamb", lambda L: L.opt.Lamb(0.05)),
    ("lamb_global_clipnorm_weight_decay",
     lambda L: L.opt.Lamb(0.05, global_clipnorm=0.5, weight_decay=0.1)),
    ("lamb_cosine", lambda L: L.opt.Lamb(L.sched.CosineDecay(0.1, 5))),
    ("adafactor", lambda L: L.opt.Adafactor(0.05)),
    ("adafactor_large_lr", lambda L: L.opt.Adafactor(2.0)),
    ("adafactor_no_relative_step_clip",
     lambda L: L.opt.Adafactor(0.5, relative_step=False, clip_threshold=0.3)),
    ("adafactor_schedule_weight_decay",
     lambda L: L.opt.Adafactor(L.sched.ExponentialDecay(0.5, 2, 0.5), weight_decay=0.1)),
    ("adafactor_clipvalue_ema",
     lambda L: L.opt.Adafactor(0.1, clipvalue=0.5, use_ema=True, ema_momentum=0.8)),
]


@pytest.mark.parametrize("factory", [c[1] for c in STEP_CASES], ids=[c[0] for c in STEP_CASES])
def test_each_step_matches_keras(rng, factory):
    """6 apply_gradients calls on a (4, 3) kernel and a (3,) bias: weights after every step,
    then slot paths/values, iterations, learning rate, config and serialized dict."""
    check_steps_match_keras(rng, factory, ADAM_TOL, 1.0, False)


def test_adafactor_on_a_3d_variable_matches_keras(rng):
    """Adafactor factors the last two axes of a higher-rank weight (a conv kernel, say)."""
    initial = rng.normal(size=(2, 3, 4)).astype("float32")
    k_var, m_var = keras.Variable(initial, name="kernel"), Variable(initial, name="kernel")
    k_opt, m_opt = KERAS.opt.Adafactor(0.2), MINI.opt.Adafactor(0.2)
    for _ in range(4):
        grad = rng.normal(size=(2, 3, 4)).astype("float32")
        k_opt.apply_gradients([(grad, k_var)])
        m_opt.apply_gradients([(grad, m_var)])
        np.testing.assert_allclose(m_var.numpy(), np.asarray(k_var), **ADAM_TOL)
    assert _variables(m_opt) == _variables(k_opt)
    for a, b in zip(k_opt.variables, m_opt.variables, strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-5, atol=1e-6)


# --- names, configs, errors -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["lion", "Lion", "adafactor", "ADAFACTOR"])
def test_get_by_name_matches_keras(name):
    k_opt, m_opt = keras.optimizers.get(name), mk_optimizers.get(name)
    assert type(m_opt).__name__ == type(k_opt).__name__
    assert m_opt.get_config() == k_opt.get_config()


def test_lamb_is_left_out_of_keras_get_but_not_of_minikeras():
    """Keras 3.15 forgot Lamb in its ``ALL_OBJECTS``: ``get("lamb")`` raises there and
    ``deserialize`` returns the string "Lamb" (a Keras bug, documented in
    docs/keras-compatibility.md). minikeras resolves it like every other optimizer; files are
    unaffected (``load_model`` finds Lamb in both: test_saving_optimizers_parity.py)."""
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        keras.optimizers.get("lamb")
    config = keras.optimizers.serialize(keras.optimizers.Lamb(0.01, beta_1=0.8))
    assert keras.optimizers.deserialize(dict(config)) == "Lamb"
    assert keras.saving.deserialize_keras_object(dict(config)).get_config() == config["config"]
    assert (mk_optimizers.get("lamb").get_config()
            == keras.optimizers.Lamb(name="lamb").get_config())
    assert mk_optimizers.deserialize(dict(config)).get_config() == config["config"]


@pytest.mark.parametrize("class_name", ["Lion", "Lamb", "Adafactor"])
def test_keras_config_deserializes(class_name):
    kwargs = {"Lion": dict(beta_1=0.5, beta_2=0.75),
              "Lamb": dict(beta_2=0.9, epsilon=1e-4),
              "Adafactor": dict(clip_threshold=0.5, relative_step=False, beta_2_decay=-0.6)}
    k_opt = getattr(keras.optimizers, class_name)(
        keras.optimizers.schedules.PolynomialDecay(0.1, 5), clipnorm=2.0, **kwargs[class_name])
    m_opt = mk_optimizers.deserialize(keras.optimizers.serialize(k_opt))
    assert type(m_opt).__name__ == class_name
    assert m_opt.get_config() == k_opt.get_config()
    assert keras.saving.deserialize_keras_object(mk_optimizers.serialize(m_opt)).get_config() \
        == k_opt.get_config()


BAD_ARGUMENTS = [
    ("Lion", {"beta_1": 0.0}),
    ("Lion", {"beta_1": -0.1}),
    ("Lion", {"beta_1": 1.5}),
    ("Lion", {"learning_rate": 1}),
    ("Lamb", {"foo": 1}),
    ("Lamb", {"clipnorm": 1.0, "global_clipnorm": 1.0}),
    ("Adafactor", {"learning_rate": 1}),
    ("Adafactor", {"gradient_accumulation_steps": 1}),
    ("Adafactor", {"use_ema": True, "ema_momentum": 1.5}),
]


def test_bad_arguments_match_keras():
    for class_name, kwargs in BAD_ARGUMENTS:
        with pytest.raises(ValueError) as k_error:
            getattr(keras.optimizers, class_name)(**kwargs)
        with pytest.raises(ValueError) as m_error:
            getattr(mk_optimizers, class_name)(**kwargs)
        assert str(m_error.value) == str(k_error.value), (class_name, kwargs)


def test_lion_accepts_the_same_edge_values_as_keras():
    for kwargs in ({"beta_1": 1.0}, {"beta_2": 2.0}, {"beta_2": -1.0}):
        k_opt, m_opt = keras.optimizers.Lion(**kwargs), mk_optimizers.Lion(**kwargs)
        assert m_opt.get_config() == k_opt.get_config()
