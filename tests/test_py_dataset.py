"""keras.utils.PyDataset (and its old name Sequence): batches made on demand, fed to fit,
evaluate and predict, with the epoch hooks called around each epoch."""

import math

import numpy as np
import pytest

import minikeras as keras


class Batches(keras.utils.PyDataset):
    """x, y cut into batches; counts its epoch hooks and which batches were asked for."""

    def __init__(self, x, y=None, batch_size=8, weights=None, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.weights, self.batch_size = x, y, weights, batch_size
        self.begun = self.ended = 0
        self.asked = []

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        self.asked.append(index)
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        if self.y is None:
            return self.x[part]
        if self.weights is None:
            return self.x[part], self.y[part]
        return self.x[part], self.y[part], self.weights[part]

    def on_epoch_begin(self):
        self.begun += 1

    def on_epoch_end(self):
        self.ended += 1


def data(n=30, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 3), dtype=np.float32)
    return x, (x.sum(axis=1, keepdims=True) > 1.5).astype("float32")


def model():
    keras.utils.set_random_seed(1)
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy",
              metrics=["accuracy"])
    return m


def test_fit_on_a_py_dataset_equals_fit_on_the_arrays():
    x, y = data()
    on_arrays, on_dataset = model(), model()
    expected = on_arrays.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    dataset = Batches(x, y)
    history = on_dataset.fit(dataset, epochs=3, shuffle=False, verbose=0)
    assert history.history == expected.history
    for a, b in zip(on_dataset.get_weights(), on_arrays.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert dataset.begun == dataset.ended == 3
    assert dataset.asked == [0, 1, 2, 3] * 3


def test_shuffle_visits_every_batch_in_a_new_order_each_epoch():
    x, y = data(n=64)
    dataset = Batches(x, y)
    model().fit(dataset, epochs=3, verbose=0)  # shuffle=True by default
    epochs = [dataset.asked[i:i + 8] for i in range(0, 24, 8)]
    assert all(sorted(e) == list(range(8)) for e in epochs)
    assert len({tuple(e) for e in epochs}) > 1


def test_evaluate_predict_steps_and_validation_data():
    x, y = data()
    m = model()
    m.fit(x, y, verbose=0)
    np.testing.assert_allclose(m.evaluate(Batches(x, y), verbose=0),
                               m.evaluate(x, y, batch_size=8, verbose=0), rtol=1e-6)
    np.testing.assert_array_equal(m.predict(Batches(x), verbose=0),
                                  m.predict(x, batch_size=8, verbose=0))
    partial = Batches(x, y)
    m.fit(partial, steps_per_epoch=2, shuffle=False, verbose=0)
    assert partial.asked == [0, 1]
    history = m.fit(x, y, validation_data=Batches(x, y), epochs=2, verbose=0)
    assert len(history.history["val_loss"]) == 2


def test_sample_weights_and_class_weight_come_through():
    x, y = data()
    zero_weights = np.zeros(len(x), dtype="float32")
    m = model()
    before = m.get_weights()
    m.fit(Batches(x, y, weights=zero_weights), epochs=2, verbose=0)
    for a, b in zip(m.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)  # weight 0 everywhere: nothing to learn
    weighted, plain = model(), model()
    weighted.fit(Batches(x, y), class_weight={0: 1.0, 1: 3.0}, shuffle=False, verbose=0)
    plain.fit(x, y, batch_size=8, class_weight={0: 1.0, 1: 3.0}, shuffle=False, verbose=0)
    np.testing.assert_allclose(weighted.get_weights()[0], plain.get_weights()[0], rtol=1e-6)


def test_arguments_that_belong_in_the_dataset_are_refused():
    x, y = data()
    m = model()
    with pytest.raises(ValueError, match="`y` should not be passed"):
        m.fit(Batches(x, y), y, verbose=0)
    with pytest.raises(ValueError, match="`sample_weights` should not be passed"):
        m.evaluate(Batches(x, y), sample_weight=np.ones(len(x)), verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        m.fit(Batches(x, y), validation_split=0.2, verbose=0)

    class Broken(Batches):
        def __getitem__(self, index):
            return "not a batch"

    with pytest.raises(ValueError, match=r"__getitem__\(\) must return a tuple"):
        m.fit(Broken(x, y), verbose=0)


def test_sequence_is_the_old_name_and_an_endless_dataset_needs_steps():
    assert keras.utils.Sequence is keras.utils.PyDataset

    class Endless(keras.utils.Sequence):
        num_batches = None

        def __getitem__(self, index):
            x, y = data(n=4, seed=index)
            return x, y

    m = model()
    history = m.fit(Endless(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
