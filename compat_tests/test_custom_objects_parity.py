"""Registered custom objects cross between minikeras and Keras 3 in ``.keras`` files.

The same custom classes (a regularizer, an initializer, a constraint, a layer using all three, a
loss and a metric) are defined once for each library and registered in both under the same
``"Parity>Name"``. Both libraries write the same config for the same model; a file written by one
loads in the other with the same classes, configs, predictions and compiled loss.
"""

import json
import types
import zipfile

import keras
import numpy as np
import pytest

import minikeras

RTOL, ATOL = 1e-5, 1e-6


def define(L):
    """The custom classes, written against ``L`` = ``keras`` or ``minikeras`` (same API)."""
    register = L.saving.register_keras_serializable(package="Parity")
    ops = L.ops

    @register
    class ScaledL2(L.regularizers.Regularizer):
        def __init__(self, factor=0.01):
            self.factor = factor

        def __call__(self, x):
            return ops.multiply(self.factor, ops.sum(ops.square(x)))

        def get_config(self):
            return {"factor": self.factor}

    @register
    class Ramp(L.initializers.Initializer):
        """``start, start + step, ...`` in row-major order."""

        def __init__(self, start=0.0, step=0.01):
            self.start = start
            self.step = step

        def __call__(self, shape, dtype=None):
            values = self.start + self.step * np.arange(int(np.prod(shape)))
            return values.reshape(shape).astype(dtype or "float32")

        def get_config(self):
            return {"start": self.start, "step": self.step}

    @register
    class ClipTo(L.constraints.Constraint):
        def __init__(self, limit=1.0):
            self.limit = limit

        def __call__(self, w):
            return ops.clip(w, -self.limit, self.limit)

        def get_config(self):
            return {"limit": self.limit}

    @register
    class ScaledMSE(L.losses.Loss):
        def __init__(self, scale=2.0, name="scaled_mse", **kwargs):
            super().__init__(name=name, **kwargs)
            self.scale = scale

        def call(self, y_true, y_pred):
            return ops.multiply(self.scale,
                                ops.mean(ops.square(ops.subtract(y_true, y_pred)), axis=-1))

        def get_config(self):
            return {**super().get_config(), "scale": self.scale}

    @register
    class MaxAbsError(L.metrics.Metric):
        def __init__(self, name="max_abs_error", dtype=None):
            super().__init__(name=name, dtype=dtype)
            self.value = self.add_variable(shape=(), initializer="zeros", name="value")

        def update_state(self, y_true, y_pred, sample_weight=None):
            error = ops.max(ops.abs(ops.subtract(y_true, y_pred)))
            self.value.assign(ops.maximum(self.value, error))

        def result(self):
            return ops.convert_to_tensor(self.value)

    @register
    class Scale(L.layers.Layer):
        def __init__(self, scale_initializer="ones", scale_regularizer=None,
                     scale_constraint=None, **kwargs):
            super().__init__(**kwargs)
            self.scale_initializer = L.initializers.get(scale_initializer)
            self.scale_regularizer = L.regularizers.get(scale_regularizer)
            self.scale_constraint = L.constraints.get(scale_constraint)

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), name="scale",
                                         initializer=self.scale_initializer,
                                         regularizer=self.scale_regularizer,
                                         constraint=self.scale_constraint)

        def call(self, x):
            return ops.multiply(x, self.scale)

        def get_config(self):
            return {**super().get_config(),
                    "scale_initializer": L.initializers.serialize(self.scale_initializer),
                    "scale_regularizer": L.regularizers.serialize(self.scale_regularizer),
                    "scale_constraint": L.constraints.serialize(self.scale_constraint)}

    return types.SimpleNamespace(ScaledL2=ScaledL2, Ramp=Ramp, ClipTo=ClipTo, ScaledMSE=ScaledMSE,
                                 MaxAbsError=MaxAbsError, Scale=Scale)


CUSTOM = {keras: define(keras), minikeras: define(minikeras)}


def build(L):
    """The same compiled model in either library; all its weights come from ``Ramp``."""
    C = CUSTOM[L]
    model = L.Sequential([
        L.Input((3,)),
        L.layers.Dense(2, kernel_initializer=C.Ramp(-0.05, 0.02),
                       bias_initializer=C.Ramp(0.1, 0.1), kernel_regularizer=C.ScaledL2(0.03),
                       kernel_constraint=C.ClipTo(0.4)),
        C.Scale(scale_initializer=C.Ramp(1.0, 0.5), scale_regularizer=C.ScaledL2(0.02),
                scale_constraint=C.ClipTo(1.2)),
    ])
    model.compile(optimizer=L.optimizers.SGD(0.05), loss=C.ScaledMSE(3.0),
                  metrics=[C.MaxAbsError()])
    return model


def custom_parts(model):
    """``(class name, config)`` of every custom object in the model."""
    dense, scale = model.layers
    return [(type(obj).__name__, obj.get_config()) for obj in (
        dense.kernel_initializer, dense.kernel_regularizer, dense.kernel_constraint, scale,
        scale.scale_initializer, scale.scale_regularizer, scale.scale_constraint)]


def assert_custom_types(L, model, loss):
    """The loaded model holds ``L``'s registered classes (found by their registered names)."""
    C = CUSTOM[L]
    dense, scale = model.layers
    assert type(scale) is C.Scale and type(loss) is C.ScaledMSE and loss.scale == 3.0
    assert type(dense.kernel_regularizer) is C.ScaledL2
    assert type(scale.scale_initializer) is C.Ramp and type(scale.scale_constraint) is C.ClipTo


@pytest.fixture
def data(rng):
    x = rng.normal(size=(24, 3)).astype("float32")
    y = np.stack([x.sum(axis=1), x[:, 0] - x[:, 1]], axis=1).astype("float32")
    return x, y


def trained(L, data):
    model = build(L)
    model.fit(*data, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return model


def loss_value(model, data):
    """The compiled loss (with the custom regularizers' penalties) on ``data`` in one batch."""
    return float(model.evaluate(*data, batch_size=len(data[0]), verbose=0)[0])


def archive_config(path):
    """``config.json`` without Keras's ``shared_object_id`` entries (Python ids)."""
    with zipfile.ZipFile(path) as archive:
        return _without_ids(json.loads(archive.read("config.json")))


def _without_ids(config):
    if isinstance(config, dict):
        return {k: _without_ids(v) for k, v in config.items() if k != "shared_object_id"}
    if isinstance(config, list):
        return [_without_ids(v) for v in config]
    return config


def test_both_libraries_write_the_same_config(tmp_path):
    paths = {}
    for L in (keras, minikeras):
        paths[L] = tmp_path / f"{L.__name__}.keras"
        build(L).save(paths[L])
    theirs, ours = (archive_config(paths[L]) for L in (keras, minikeras))
    assert ours == theirs
    dense = ours["config"]["layers"][1]["config"]
    assert dense["kernel_regularizer"] == {"module": __name__, "class_name": "ScaledL2",
                                           "config": {"factor": 0.03},
                                           "registered_name": "Parity>ScaledL2"}
    assert ours["compile_config"]["loss"]["registered_name"] == "Parity>ScaledMSE"


def test_minikeras_archive_loads_in_keras3(tmp_path, data):
    model = trained(minikeras, data)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert_custom_types(keras, loaded, loaded.loss)
    assert custom_parts(loaded) == custom_parts(model)
    np.testing.assert_allclose(loaded.predict(data[0], verbose=0),
                               model.predict(data[0], verbose=0), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(loss_value(loaded, data), loss_value(model, data), rtol=RTOL)


def test_keras3_archive_loads_in_minikeras(tmp_path, data):
    model = trained(keras, data)
    model.save(tmp_path / "k.keras")
    loaded = minikeras.saving.load_model(tmp_path / "k.keras")
    assert_custom_types(minikeras, loaded, loaded._compile_config["loss"])
    assert custom_parts(loaded) == custom_parts(model)
    np.testing.assert_allclose(loaded.predict(data[0], verbose=0),
                               model.predict(data[0], verbose=0), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(loss_value(loaded, data), loss_value(model, data), rtol=RTOL)


def test_training_with_the_custom_objects_matches_keras3(data):
    """Same start (Ramp), same custom loss, penalties and clipping: the same weights after fit."""
    ours, theirs = trained(minikeras, data), trained(keras, data)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-5)  # 6 SGD steps: keras-facts §10
    assert np.abs(ours.get_weights()[0]).max() <= 0.4  # the constraint was active
