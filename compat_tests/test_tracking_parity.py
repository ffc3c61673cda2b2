"""Attribute tracking against Keras 3: a subclassed model whose layers sit in a list, a dict and
a tuple, with variables of its own, has Keras's weights (names, shapes, order) and layers, trains
to the same weights, and its ``.weights.h5`` files move both ways; metrics assigned to a model's
attributes are in ``model.metrics``, reset at each epoch and reported as in Keras."""

import keras
import numpy as np
import pytest
from test_training_parity import SGD_ATOL, assert_weights_close

import minikeras as mk


def blocks_model(lib):
    class Blocks(lib.Model):
        def __init__(self):
            super().__init__()
            self.scale = lib.Variable(np.full(1, 1.5, "float32"))
            self.blocks = [lib.layers.Dense(5, activation="tanh"),
                           lib.layers.Dense(3, activation="relu")]
            self.heads = {"main": lib.layers.Dense(1), "side": lib.layers.Dense(1)}
            self.extra = (lib.layers.Dense(2),)
            self.offset = lib.Variable(np.full(1, 0.25, "float32"), trainable=False)

        def call(self, x):
            x = self.extra[0](x)
            for block in self.blocks:
                x = block(x)
            return (self.heads["main"](x) - self.heads["side"](x)) * self.scale + self.offset

    return Blocks()


def twins(x):
    """The model built in both libraries, with Keras's weights copied into minikeras."""
    models = {lib: blocks_model(lib) for lib in (keras, mk)}
    for model in models.values():
        model(x[:2])
    models[mk].set_weights(models[keras].get_weights())
    return models[keras], models[mk]


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 4)).astype("float32")
    return x, (x[:, :1] * x[:, 1:2] > 0).astype("float32")


def test_weights_and_layers_are_keras_s(data):
    theirs, ours = twins(data[0])
    assert [(w.name, tuple(w.shape), w.trainable) for w in ours.weights] == [
        (w.name, tuple(w.shape), w.trainable) for w in theirs.weights]
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    assert len(ours.trainable_weights) == len(theirs.trainable_weights)
    assert len(ours.non_trainable_weights) == len(theirs.non_trainable_weights)
    assert ours.count_params() == theirs.count_params()
    np.testing.assert_allclose(ours.predict(data[0], verbose=0),
                               theirs.predict(data[0], verbose=0), rtol=1e-5, atol=1e-6)


def test_fit_trains_the_same_weights(data):
    theirs, ours = twins(data[0])
    histories = []
    for model in (theirs, ours):
        lib = mk if isinstance(model, mk.Model) else keras
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
        histories.append(model.fit(*data, batch_size=5, epochs=3, shuffle=False, verbose=0))
    assert_weights_close(theirs, ours, SGD_ATOL)
    np.testing.assert_allclose(histories[1].history["loss"], histories[0].history["loss"],
                               rtol=1e-5)


@pytest.mark.parametrize("writer", [keras, mk], ids=["keras_writes", "minikeras_writes"])
def test_weights_files_move_both_ways(writer, data, tmp_path):
    theirs, ours = twins(data[0])
    rng = np.random.default_rng(1)
    source, target = (theirs, ours) if writer is keras else (ours, theirs)
    source.set_weights([rng.normal(size=w.shape).astype("float32") for w in source.weights])
    source.save_weights(tmp_path / "m.weights.h5")
    target.load_weights(tmp_path / "m.weights.h5")
    for a, b in zip(target.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_layers_appended_to_a_tracked_list_before_building_are_weights(data):
    counts = []
    for lib in (keras, mk):
        model = blocks_model(lib)
        model.blocks.append(lib.layers.Dense(1))
        model(data[0][:2])
        counts.append((len(model.layers), len(model.weights)))
    assert counts[1] == counts[0]


def metric_model(lib):
    """The "customize what fit does" idiom: metrics as attributes, no ``metrics`` override."""

    class Tracked(lib.Model):
        def __init__(self):
            super().__init__()
            self.dense = lib.layers.Dense(1)
            self.loss_tracker = lib.metrics.Mean(name="loss")
            self.mae = lib.metrics.MeanAbsoluteError(name="mae")

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            with (tf_tape() if lib is keras else mk.GradientTape()) as tape:
                y_pred = self(x, training=True)
                loss = lib.ops.mean(lib.ops.square(y - y_pred))
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            self.loss_tracker.update_state(loss)
            self.mae.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae.result()}

    return Tracked()


def tf_tape():
    import tensorflow as tf

    return tf.GradientTape()


def test_metrics_assigned_to_attributes_are_the_models_metrics(data):
    histories, names = [], []
    models = {lib: metric_model(lib) for lib in (keras, mk)}
    for model in models.values():
        model(data[0][:2])
    models[mk].set_weights(models[keras].get_weights())
    for lib, model in models.items():
        model.compile(optimizer=lib.optimizers.SGD(0.05))
        names.append([m.name for m in model.metrics])
        histories.append(model.fit(*data, batch_size=5, epochs=3, shuffle=False, verbose=0))
    assert names[1] == names[0]
    for key in ("loss", "mae"):  # each epoch's running mean starts again (reset_metrics)
        np.testing.assert_allclose(histories[1].history[key], histories[0].history[key],
                                   rtol=1e-5)


def counting_model(lib):
    class Counting(lib.Model):
        def __init__(self):
            super().__init__()
            self.dense = lib.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            return {"batch_rows": lib.ops.cast(lib.ops.shape(data[0])[0], "float32")}

    return Counting()


def test_step_logs_that_are_not_the_metrics_are_reported_as_returned(data):
    """A ``train_step`` that returns other names than ``model.metrics``: the epoch's logs are
    the last step's, as Keras reports them."""
    histories = []
    for lib in (keras, mk):
        model = counting_model(lib)
        model.compile(optimizer="sgd", loss="mse")
        histories.append(model.fit(*data, batch_size=5, epochs=2, verbose=0).history)
    assert histories[1] == histories[0] == {"batch_rows": [4.0, 4.0]}
