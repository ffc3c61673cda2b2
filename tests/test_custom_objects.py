"""Custom objects through every config path (NumPy only).

Classes registered with ``@register_keras_serializable(package="Custom")`` are written as Keras
writes them (their module, class name and ``registered_name`` ``"Custom>Name"``) and come back
from ``get_config``/``from_config``, ``to_json``/``model_from_json``, ``.keras`` and legacy
``.h5`` files; unregistered ones come back through ``custom_objects``; unknown names fail with an
error naming them; and nothing a file names is ever imported or run.
"""

import json
import os
import sys
import zipfile

import numpy as np
import pytest

import minikeras
from minikeras import (
    constraints,
    initializers,
    layers,
    losses,
    metrics,
    ops,
    optimizers,
    regularizers,
    saving,
)
from minikeras.optimizers import schedules

pytestmark = pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")
register = saving.register_keras_serializable(package="Custom")


# --- the custom objects ---------------------------------------------------------------------------
class ScaledL2(regularizers.Regularizer):
    """``factor * Σ x²``."""

    def __init__(self, factor=0.01):
        self.factor = factor

    def __call__(self, x):
        return ops.multiply(self.factor, ops.sum(ops.square(x)))

    def get_config(self):
        return {"factor": self.factor}


class Ramp(initializers.Initializer):
    """``start, start + step, ...`` in row-major order: deterministic, so a model rebuilt from
    its config shows whether the initializer came back with its arguments."""

    def __init__(self, start=0.0, step=0.01):
        self.start = start
        self.step = step

    def __call__(self, shape, dtype=None):
        values = self.start + self.step * np.arange(int(np.prod(shape)))
        return values.reshape(shape).astype(minikeras.backend.standardize_dtype(dtype))

    def get_config(self):
        return {"start": self.start, "step": self.step}


class ClipTo(constraints.Constraint):
    """``clip(w, -limit, limit)``."""

    def __init__(self, limit=1.0):
        self.limit = limit

    def __call__(self, w):
        return np.clip(w, -self.limit, self.limit)

    def get_config(self):
        return {"limit": self.limit}


class ScaledMSE(losses.Loss):
    """``scale * mean((y - p)², axis=-1)``."""

    def __init__(self, scale=2.0, name="scaled_mse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.scale = scale

    def call(self, y_true, y_pred):
        return ops.multiply(self.scale, ops.mean(ops.square(ops.subtract(y_true, y_pred)), axis=-1))

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


class MaxAbsError(metrics.Metric):
    """The largest ``|y - p|`` seen so far."""

    def __init__(self, name="max_abs_error", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.value = self.add_variable(shape=(), initializer="zeros", name="value")

    def update_state(self, y_true, y_pred, sample_weight=None):
        error = np.abs(ops.convert_to_numpy(y_true) - ops.convert_to_numpy(y_pred))
        self.value.assign(np.maximum(self.value.numpy(), error.max()))

    def result(self):
        return self.value.numpy()


class Scale(layers.Layer):
    """``x * scale``, one trainable scale per feature, with its own initializer, regularizer and
    constraint (serialized with the modules' ``serialize`` functions, as Keras layers do)."""

    def __init__(self, scale_initializer="ones", scale_regularizer=None, scale_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.scale_initializer = initializers.get(scale_initializer)
        self.scale_regularizer = regularizers.get(scale_regularizer)
        self.scale_constraint = constraints.get(scale_constraint)

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), name="scale",
                                     initializer=self.scale_initializer,
                                     regularizer=self.scale_regularizer,
                                     constraint=self.scale_constraint)

    def call(self, x):
        return ops.multiply(x, self.scale)

    def get_config(self):
        return {**super().get_config(),
                "scale_initializer": initializers.serialize(self.scale_initializer),
                "scale_regularizer": regularizers.serialize(self.scale_regularizer),
                "scale_constraint": constraints.serialize(self.scale_constraint)}


class HalvedSchedule(schedules.LearningRateSchedule):
    """``initial_learning_rate / 2**step``."""

    def __init__(self, initial_learning_rate=0.1):
        self.initial_learning_rate = initial_learning_rate

    def __call__(self, step):
        return self.initial_learning_rate / 2.0 ** float(step)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate}


@register
def half_mae(y_true, y_pred):
    """A loss function: ``0.5 * mean(|y - p|, axis=-1)``."""
    return ops.multiply(0.5, ops.mean(ops.abs(ops.subtract(y_true, y_pred)), axis=-1))


@register
def shifted_tanh(x):
    """An activation function: ``tanh(x) + 0.5``."""
    return ops.add(ops.tanh(x), 0.5)


def registered(cls):
    """A subclass of the same name, registered as ``"Custom>Name"``. The classes above stay
    unregistered, so this one file checks both ways of finding a class."""
    return register(type(cls.__name__, (cls,), {}))


UNREGISTERED = {cls.__name__: cls for cls in (ScaledL2, Ramp, ClipTo, ScaledMSE, MaxAbsError,
                                              Scale, HalvedSchedule)}
R = {name: registered(cls) for name, cls in UNREGISTERED.items()}


@pytest.fixture(autouse=True)
def _fresh():
    minikeras.backend.clear_session()


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(24, 3)).astype("float32")
    y = np.stack([x.sum(axis=1), x[:, 0] - x[:, 1]], axis=1).astype("float32")
    return x, y


def make_model(classes=R, activation="linear"):
    """Dense with a custom initializer, regularizer and constraint, then a custom layer using
    them too; compiled with a custom loss and metric."""
    model = minikeras.Sequential([
        minikeras.Input((3,)),
        layers.Dense(2, activation=activation, kernel_initializer=classes["Ramp"](-0.05, 0.02),
                     kernel_regularizer=classes["ScaledL2"](0.03),
                     kernel_constraint=classes["ClipTo"](0.4)),
        classes["Scale"](scale_initializer=classes["Ramp"](1.0, 0.5),
                         scale_regularizer=classes["ScaledL2"](0.02),
                         scale_constraint=classes["ClipTo"](1.2)),
    ])
    model.compile(optimizer=optimizers.SGD(0.05), loss=classes["ScaledMSE"](3.0),
                  metrics=[classes["MaxAbsError"]()])
    return model


def trained(data, classes=R, **kwargs):
    model = make_model(classes, **kwargs)
    model.fit(*data, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return model


def save_and_load(model, tmp_path, how, custom_objects=None):
    if how == "json":
        return minikeras.models.model_from_json(model.to_json(), custom_objects=custom_objects)
    path = tmp_path / f"model.{how}"
    model.save(path)
    return saving.load_model(path, custom_objects=custom_objects)


def assert_same_custom_objects(loaded, model):
    """Every custom object came back as the same class with the same config."""
    pairs = [(loaded.layers[0].kernel_initializer, model.layers[0].kernel_initializer),
             (loaded.layers[0].kernel_regularizer, model.layers[0].kernel_regularizer),
             (loaded.layers[0].kernel_constraint, model.layers[0].kernel_constraint),
             (loaded.layers[1], model.layers[1]),
             (loaded.layers[1].scale_initializer, model.layers[1].scale_initializer),
             (loaded.layers[1].scale_regularizer, model.layers[1].scale_regularizer),
             (loaded.layers[1].scale_constraint, model.layers[1].scale_constraint)]
    for ours, theirs in pairs:
        assert type(ours) is type(theirs)
        assert ours.get_config() == theirs.get_config()


# --- how the configs look ------------------------------------------------------------------------
@pytest.mark.parametrize("module, obj", [
    (regularizers, R["ScaledL2"](0.5)), (initializers, R["Ramp"](1.0, 2.0)),
    (constraints, R["ClipTo"](3.0)), (losses, R["ScaledMSE"](4.0)), (metrics, R["MaxAbsError"]()),
    (optimizers.schedules, R["HalvedSchedule"](0.3)),
], ids=lambda value: getattr(value, "__name__", type(value).__name__))
def test_registered_classes_serialize_with_kerass_registered_name(module, obj):
    config = module.serialize(obj)
    name = type(obj).__name__
    assert config == {"module": __name__, "class_name": name, "config": obj.get_config(),
                      "registered_name": f"Custom>{name}"}
    assert config == saving.serialize_keras_object(obj)
    again = module.deserialize(json.loads(json.dumps(config)))
    assert type(again) is type(obj) and again.get_config() == obj.get_config()
    if module is not optimizers.schedules:  # which, as in Keras, has no get()
        again = module.get(config)
        assert type(again) is type(obj) and again.get_config() == obj.get_config()


def test_registered_functions_serialize_by_registered_name():
    for module, fn in ((losses, half_mae), (metrics, half_mae)):
        config = module.serialize(fn)
        assert config == {"module": "builtins", "class_name": "function",
                          "config": f"Custom>{fn.__name__}", "registered_name": "function"}
        assert module.deserialize(config) is fn


def test_registered_optimizer_and_schedule_round_trip():
    registered_sgd = register(type("MySGD", (optimizers.SGD,), {}))
    optimizer = registered_sgd(learning_rate=R["HalvedSchedule"](0.4), momentum=0.5)
    config = optimizers.serialize(optimizer)
    assert config["registered_name"] == "Custom>MySGD" and config["module"] == __name__
    assert config["config"]["learning_rate"]["registered_name"] == "Custom>HalvedSchedule"
    again = optimizers.deserialize(json.loads(json.dumps(config)))
    assert type(again) is registered_sgd and again.momentum == 0.5
    assert type(again._learning_rate) is R["HalvedSchedule"]
    assert again._learning_rate.initial_learning_rate == 0.4
    assert type(optimizers.get("Custom>MySGD")) is registered_sgd


def test_builtin_optimizer_names_stay_case_insensitive():
    assert type(optimizers.deserialize({"class_name": "ADAM", "config": {}})) is optimizers.Adam
    assert type(optimizers.get("RMSProp")) is optimizers.RMSprop


# --- whole models --------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["keras", "json", "h5"])
def test_registered_objects_round_trip(tmp_path, data, how):
    model = trained(data)
    loaded = save_and_load(model, tmp_path, how)
    assert_same_custom_objects(loaded, model)
    assert loaded.to_json() == model.to_json()
    if how == "json":  # fresh weights, made by the custom initializers with their arguments
        np.testing.assert_array_equal(loaded.get_weights()[0],
                                      R["Ramp"](-0.05, 0.02)((3, 2)))
        np.testing.assert_array_equal(loaded.get_weights()[2], [1.0, 1.5])
        return
    np.testing.assert_array_equal(loaded.predict(data[0], verbose=0),
                                  model.predict(data[0], verbose=0))
    assert loaded.get_compile_config() == model.get_compile_config()
    assert type(loaded._compile_config["loss"]) is R["ScaledMSE"]
    assert loaded.evaluate(*data, verbose=0) == model.evaluate(*data, verbose=0)


def test_h5_round_trip_with_custom_objects_for_the_layer(tmp_path, data):
    """Everything but the custom layer is found by its registered name in a legacy .h5 file."""
    model = trained(data)
    loaded = save_and_load(model, tmp_path, "h5", custom_objects={"Scale": R["Scale"]})
    assert_same_custom_objects(loaded, model)
    np.testing.assert_array_equal(loaded.predict(data[0], verbose=0),
                                  model.predict(data[0], verbose=0))
    assert loaded.get_compile_config()["loss"] == model.get_compile_config()["loss"]
    assert loaded.evaluate(*data, verbose=0) == model.evaluate(*data, verbose=0)


def test_training_applies_the_custom_regularizer_and_constraint(data):
    model = trained(data)
    kernel, _, scale = model.get_weights()
    assert np.abs(kernel).max() <= 0.4 and np.abs(scale).max() <= 1.2
    penalty = 0.03 * np.sum(np.square(kernel)) + 0.02 * np.sum(np.square(scale))
    total = sum(float(ops.convert_to_numpy(loss)) for loss in model.losses)
    np.testing.assert_allclose(total, penalty, rtol=1e-5)


def test_registered_function_loss_round_trips(tmp_path, data):
    model = minikeras.Sequential([minikeras.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss=half_mae)
    model.fit(*data, epochs=1, verbose=0)
    assert model.get_compile_config()["loss"]["config"] == "Custom>half_mae"
    model.save(tmp_path / "m.keras")
    loaded = saving.load_model(tmp_path / "m.keras")
    assert loaded._compile_config["loss"] is half_mae
    assert loaded.evaluate(*data, verbose=0) == model.evaluate(*data, verbose=0)


@pytest.mark.parametrize("how", ["keras", "json"])
def test_registered_activation_round_trips(tmp_path, data, how):
    model = trained(data, activation=shifted_tanh)
    assert model.get_config()["layers"][1]["config"]["activation"] == {
        "module": "builtins", "class_name": "function", "config": "Custom>shifted_tanh",
        "registered_name": "function"}
    loaded = save_and_load(model, tmp_path, how)
    assert loaded.layers[0].activation is shifted_tanh


# --- unregistered objects ------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["keras", "h5", "json"])
def test_unregistered_objects_need_custom_objects(tmp_path, data, how):
    model = trained(data, classes=UNREGISTERED)
    config = model.get_config()["layers"][1]["config"]["kernel_regularizer"]
    assert config == {"module": __name__, "class_name": "ScaledL2", "config": {"factor": 0.03},
                      "registered_name": "ScaledL2"}
    with pytest.raises(TypeError, match="Could not locate class '(Ramp|Scale)'"):
        save_and_load(model, tmp_path, how)
    loaded = save_and_load(model, tmp_path, how, custom_objects=UNREGISTERED)
    assert_same_custom_objects(loaded, model)
    if how != "json":
        np.testing.assert_array_equal(loaded.predict(data[0], verbose=0),
                                      model.predict(data[0], verbose=0))
        assert loaded.evaluate(*data, verbose=0) == model.evaluate(*data, verbose=0)
    with saving.custom_object_scope(UNREGISTERED):
        assert_same_custom_objects(save_and_load(model, tmp_path, how), model)


@pytest.mark.parametrize("module, obj", [
    (regularizers, ScaledL2(0.5)), (initializers, Ramp(1.0, 2.0)), (constraints, ClipTo(3.0)),
    (losses, ScaledMSE(4.0)), (metrics, MaxAbsError()), (optimizers.schedules, HalvedSchedule()),
], ids=lambda value: getattr(value, "__name__", type(value).__name__))
def test_module_deserialize_takes_custom_objects(module, obj):
    config = module.serialize(obj)
    assert config["registered_name"] == type(obj).__name__
    with pytest.raises(TypeError, match=f"'{type(obj).__name__}'"):
        module.deserialize(config)
    again = module.deserialize(config, custom_objects={type(obj).__name__: type(obj)})
    assert type(again) is type(obj) and again.get_config() == obj.get_config()


# --- errors and safety ---------------------------------------------------------------------------
def dense_json(**overrides):
    """The JSON of a small model whose Dense config is changed by ``overrides``."""
    model = minikeras.Sequential([minikeras.Input((3,)), layers.Dense(2)])
    config = json.loads(model.to_json())
    config["config"]["layers"][1]["config"].update(overrides)
    return json.dumps(config)


@pytest.mark.parametrize("field", ["kernel_regularizer", "kernel_initializer",
                                   "kernel_constraint"])
def test_an_unknown_class_name_is_named_in_the_error(field):
    unknown = {"module": None, "class_name": "NoSuchThing", "config": {},
               "registered_name": "Custom>NoSuchThing"}
    with pytest.raises(TypeError, match="Could not locate class 'NoSuchThing'"):
        minikeras.models.model_from_json(dense_json(**{field: unknown}))


@pytest.mark.parametrize("module", [regularizers, initializers, constraints, losses, metrics,
                                    optimizers.schedules])
def test_module_deserialize_names_an_unknown_class(module):
    with pytest.raises(TypeError, match="'NoSuchThing'"):
        module.deserialize({"class_name": "NoSuchThing", "config": {}})


@pytest.mark.parametrize("module", [regularizers, initializers, constraints, losses, metrics])
def test_get_of_an_unknown_name_lists_the_valid_ones(module):
    with pytest.raises(ValueError, match="no_such_thing.*Valid names"):
        module.get("no_such_thing")


@pytest.fixture
def trap_module(tmp_path, monkeypatch):
    """A module on ``sys.path`` that records being imported and has a class with
    ``from_config``: a file naming it must not get it imported."""
    (tmp_path / "trap_module_xyz.py").write_text(
        "import os\nos.environ['TRAP_MODULE_XYZ_IMPORTED'] = '1'\n"
        "class Trap:\n    @classmethod\n    def from_config(cls, config):\n"
        "        os.environ['TRAP_MODULE_XYZ_RAN'] = '1'\n        return cls()\n"
        "    def __call__(self, *args, **kwargs):\n        return 0.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("TRAP_MODULE_XYZ_IMPORTED", raising=False)
    monkeypatch.delenv("TRAP_MODULE_XYZ_RAN", raising=False)
    yield "trap_module_xyz"
    assert "trap_module_xyz" not in sys.modules
    assert "TRAP_MODULE_XYZ_IMPORTED" not in os.environ
    assert "TRAP_MODULE_XYZ_RAN" not in os.environ


HOSTILE = [
    ({"module": "os", "class_name": "system", "config": {"command": "touch pwned"},
      "registered_name": None}, "class 'system'"),
    ({"module": "os", "class_name": "function", "config": "system",
      "registered_name": "function"}, "function 'system'"),
    ({"module": "builtins", "class_name": "function", "config": "eval",
      "registered_name": "function"}, "function 'eval'"),
    ({"module": "trap_module_xyz", "class_name": "Trap", "config": {},
      "registered_name": None}, "class 'Trap'"),
]


@pytest.mark.parametrize("field", ["kernel_regularizer", "kernel_initializer", "activation"])
@pytest.mark.parametrize("hostile, named", HOSTILE)
def test_nothing_a_config_names_is_imported_or_run(trap_module, monkeypatch, field, hostile,
                                                    named):
    monkeypatch.setattr(os, "system", lambda *a: pytest.fail("os.system was called"))
    with pytest.raises((TypeError, ValueError)) as info:
        minikeras.models.model_from_json(dense_json(**{field: hostile}))
    assert named in str(info.value)


@pytest.mark.parametrize("module", [regularizers, initializers, constraints, losses, metrics,
                                    optimizers.schedules])
@pytest.mark.parametrize("hostile, named", HOSTILE)
def test_module_deserialize_refuses_other_modules(trap_module, monkeypatch, module, hostile,
                                                  named):
    monkeypatch.setattr(os, "system", lambda *a: pytest.fail("os.system was called"))
    with pytest.raises(TypeError, match=named):
        module.deserialize(hostile)


@pytest.mark.parametrize("hostile, named", HOSTILE)
def test_an_archive_naming_other_modules_is_refused(tmp_path, trap_module, monkeypatch, hostile,
                                                    named):
    monkeypatch.setattr(os, "system", lambda *a: pytest.fail("os.system was called"))
    path = tmp_path / "m.keras"
    minikeras.Sequential([minikeras.Input((3,)), layers.Dense(2)]).save(path)
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(entries["config.json"])
    config["config"]["layers"][1]["config"]["kernel_regularizer"] = hostile
    entries["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    with pytest.raises(TypeError, match=named):
        saving.load_model(path)
    assert not (tmp_path / "pwned").exists()
