"""Attribute tracking: a layer owns the layers, variables and metrics assigned to its attributes,
also inside lists, tuples and dicts, and also those added to such a list or dict later
(``minikeras/utils/tracking.py``)."""

import collections

import numpy as np
import pytest

import minikeras as keras
from minikeras.utils import tracking


class Blocks(keras.Model):
    """Sublayers in a list, a dict and a tuple, and two variables of its own."""

    def __init__(self):
        super().__init__()
        self.blocks = [keras.layers.Dense(3, activation="tanh"), keras.layers.Dense(2)]
        self.heads = {"a": keras.layers.Dense(1)}
        self.extra = (keras.layers.Dense(1),)
        self.scale = keras.Variable(np.ones(1, "float32"))
        self.offset = keras.Variable(np.zeros(1, "float32"), trainable=False)

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        return (self.heads["a"](x) + self.extra[0](x)) * self.scale + self.offset


def test_layers_and_variables_in_containers_are_owned():
    model = Blocks()
    model(np.ones((2, 4), "float32"))
    assert [layer.name for layer in model.layers] == [
        layer.name for layer in (*model.blocks, model.heads["a"], model.extra[0])]
    assert [w.name for w in model.weights][:2] == [model.scale.name, model.offset.name]
    assert len(model.weights) == 2 + 4 * 2
    assert len(model.trainable_weights) == 1 + 4 * 2
    assert model.non_trainable_weights == [model.offset]
    assert model.count_params() == 2 + (4 * 3 + 3) + (3 * 2 + 2) + 3 + 3


def test_fit_trains_the_layers_of_a_list():
    model = Blocks()
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).random((16, 4), dtype=np.float32)
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    before = [w.numpy() for w in model.weights]
    model.fit(x, x[:, :1], epochs=2, verbose=0)
    changed = [not np.array_equal(a, w.numpy()) for a, w in zip(before, model.weights,
                                                                 strict=True)]
    assert changed == [True, False] + [True] * 8  # the non-trainable offset stays


def test_a_tracked_list_tracks_what_it_gains_and_loses():
    layer = keras.layers.Layer()
    layer.items = []
    assert type(layer.items) is tracking.TrackedList
    first, second, third = (keras.layers.Dense(1) for _ in range(3))
    layer.items.append(first)
    layer.items += [second]
    layer.items.insert(0, third)
    assert layer._layers == [first, second, third]
    layer.items.remove(third)
    assert layer._layers == [first, second]
    del layer.items[0]
    assert layer._layers == [second]
    layer.items[0] = first
    assert layer._layers == [first]
    assert layer.items.pop() is first and layer._layers == []


def test_a_tracked_dict_tracks_what_it_gains_and_loses():
    layer = keras.layers.Layer()
    layer.table = {}
    dense, variable = keras.layers.Dense(1), keras.Variable(np.ones(2, "float32"))
    layer.table["dense"] = dense
    layer.table.update(v=variable)
    assert layer._layers == [dense] and layer.weights == [variable]
    assert layer.table.pop("v") is variable and layer.weights == []
    layer.table.clear()
    assert layer._layers == []


def test_nested_containers_and_named_tuples_are_tracked():
    pair = collections.namedtuple("pair", "left right")
    layer = keras.layers.Layer()
    layer.tree = {"x": [keras.layers.Dense(1), (keras.layers.Dense(2),)]}
    layer.named = pair(keras.layers.Dense(3), 5)
    assert len(layer._layers) == 3
    assert isinstance(layer.named, pair) and layer.named.right == 5
    layer.tree["x"].append(keras.layers.Dense(4))  # a list inside a dict is tracked too
    assert len(layer._layers) == 4


def test_the_same_state_counts_once_and_other_containers_stay_as_they_are():
    layer = keras.layers.Layer()
    dense = keras.layers.Dense(1)
    layer.a, layer.b, layer.c = dense, [dense], {"d": dense}
    assert layer._layers == [dense]
    layer.counts = collections.Counter("aab")
    assert type(layer.counts) is collections.Counter
    layer.counts.update("b")
    assert layer.counts["b"] == 2


def test_no_automatic_dependency_tracking():
    layer = keras.layers.Layer()
    with tracking.untracked():
        layer.hidden = keras.layers.Dense(1)
        layer.items = [keras.layers.Dense(1)]
    assert layer._layers == [] and type(layer.items) is list

    @tracking.no_automatic_dependency_tracking
    def assign():
        layer.variable = keras.Variable(np.ones(1, "float32"))

    assign()
    assert layer.weights == []


def test_a_stateful_rnn_keeps_its_states_out_of_the_weights():
    layer = keras.layers.SimpleRNN(2, stateful=True)
    layer(np.ones((3, 4, 5), "float32"))
    assert len(layer.states) == 1 and len(layer.weights) == 3


def test_tracked_metrics_are_the_models_metrics_and_reset_each_epoch():
    class Counting(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)
            self.seen = keras.metrics.Sum(name="seen")

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            self.seen.update_state(float(len(x)))
            return {"seen": self.seen.result()}

    model = Counting()
    model.compile(optimizer="sgd", loss="mse")
    assert model.seen in model.metrics
    x = np.ones((10, 2), "float32")
    history = model.fit(x, x[:, :1], batch_size=4, epochs=2, verbose=0)
    assert history.history["seen"] == [10.0, 10.0]  # reset at each epoch's start


def test_variables_get_unique_default_names():
    keras.backend.clear_session()
    assert [keras.Variable(1.0).name for _ in range(3)] == ["variable", "variable_1",
                                                            "variable_2"]


@pytest.mark.parametrize("container", [list, tuple])
def test_weights_files_round_trip_a_model_with_layer_containers(container, tmp_path):
    class Model(keras.Model):
        def __init__(self):
            super().__init__()
            self.blocks = container([keras.layers.Dense(3), keras.layers.Dense(1)])

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    x = np.random.default_rng(1).random((5, 2), dtype=np.float32)
    source, target = Model(), Model()
    source(x)
    target(x)
    source.save_weights(tmp_path / "m.weights.h5")
    target.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(target.predict(x, verbose=0), source.predict(x, verbose=0))


def test_a_shared_layer_counts_once_and_a_cycle_ends():
    shared = keras.layers.Dense(2, activity_regularizer="l2")
    outer = keras.layers.Layer()
    outer.left, outer.right = keras.layers.Layer(), keras.layers.Layer()
    outer.left.inner, outer.right.inner = shared, shared
    shared(np.ones((1, 3), "float32"))
    assert outer._flatten_layers().count(shared) == 1
    assert len(outer.losses) == 1 and len(outer.weights) == 2
    shared.back = outer  # a cycle: the walk still ends
    assert len(outer.weights) == 2
