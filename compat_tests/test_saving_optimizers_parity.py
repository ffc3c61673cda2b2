"""Every optimizer's state crosses between minikeras and Keras 3 in a ``.keras`` file.

Train a few steps in one library, save, load in the other, and continue training in both: the
continued weights must equal those of the model that never left (so iterations, learning rate
and every slot variable came across). Tolerances as in test_training_parity.py.
"""

import keras
import numpy as np
import pytest

import minikeras as mk

OPTIMIZERS = {  # id: (class name, kwargs, atol)
    "sgd_momentum": ("SGD", dict(learning_rate=0.05, momentum=0.9), 1e-5),
    "sgd_nesterov": ("SGD", dict(learning_rate=0.05, momentum=0.9, nesterov=True), 1e-5),
    "adam": ("Adam", dict(learning_rate=0.01), 5e-5),
    "adam_amsgrad": ("Adam", dict(learning_rate=0.01, amsgrad=True), 5e-5),
    "adamw": ("AdamW", dict(learning_rate=0.01), 5e-5),
    "rmsprop_centered_momentum": ("RMSprop", dict(learning_rate=0.01, centered=True,
                                                  momentum=0.5), 5e-5),
    "adagrad": ("Adagrad", dict(learning_rate=0.1), 5e-5),
    "adadelta": ("Adadelta", dict(learning_rate=1.0), 5e-5),
    "adamax": ("Adamax", dict(learning_rate=0.01), 5e-5),
    "nadam": ("Nadam", dict(learning_rate=0.01), 5e-5),
    "ftrl": ("Ftrl", dict(learning_rate=0.1), 5e-5),
    "lion": ("Lion", dict(learning_rate=0.01, beta_1=0.8), 5e-5),
    "lamb": ("Lamb", dict(learning_rate=0.01), 5e-5),
    # Adafactor's variables mix shapes and dtypes: r and c per kernel, two int32 placeholders
    # per bias, a velocity per weight (8 + 2 here)
    "adafactor": ("Adafactor", dict(learning_rate=0.1), 5e-5),
    "adafactor_no_relative_step": ("Adafactor", dict(learning_rate=0.1, relative_step=False,
                                                     clip_threshold=0.5), 5e-5),
}


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, size=40)]
    return x, y


def model(lib, optimizer_id):
    name, kwargs, _ = OPTIMIZERS[optimizer_id]
    m = lib.Sequential([lib.Input((4,)), lib.layers.Dense(5, activation="tanh"),
                        lib.layers.Dense(3, activation="softmax")])
    m.compile(optimizer=getattr(lib.optimizers, name)(**kwargs),
              loss="categorical_crossentropy", metrics=["accuracy"])
    return m


def fit(m, x, y, epochs):
    m.fit(x, y, batch_size=16, epochs=epochs, shuffle=False, verbose=0)


@pytest.mark.parametrize("optimizer_id", list(OPTIMIZERS))
@pytest.mark.parametrize("direction", ["minikeras_to_keras", "keras_to_minikeras"])
def test_training_continues_identically_after_crossing(tmp_path, optimizer_id, direction):
    x, y = data()
    source_lib, target_lib = (mk, keras) if direction == "minikeras_to_keras" else (keras, mk)
    twin_k, twin_m = model(keras, optimizer_id), model(mk, optimizer_id)
    twin_m.set_weights(twin_k.get_weights())
    source = twin_m if source_lib is mk else twin_k
    fit(twin_k, x, y, 2)
    fit(twin_m, x, y, 2)
    path = str(tmp_path / "model.keras")
    source.save(path)
    loaded = target_lib.models.load_model(path)
    assert int(loaded.optimizer.iterations) == int(source.optimizer.iterations) == 6
    np.testing.assert_allclose(loaded.predict(x, verbose=0), source.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    fit(loaded, x, y, 2)
    fit(source, x, y, 2)  # the model that never left its library
    atol = OPTIMIZERS[optimizer_id][2]
    for a, b in zip(loaded.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=atol)
