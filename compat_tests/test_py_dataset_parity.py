"""A PyDataset fed to fit/evaluate/predict gives Keras's History, weights and outputs."""

import math

import keras
import numpy as np

import minikeras


def batches_class(library):
    class Batches(library.utils.PyDataset):
        def __init__(self, x, y, w, batch_size=7, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.w, self.batch_size = x, y, w, batch_size
            self.ended = 0

        def __len__(self):
            return math.ceil(len(self.x) / self.batch_size)

        def __getitem__(self, index):
            part = slice(index * self.batch_size, (index + 1) * self.batch_size)
            return self.x[part], self.y[part], self.w[part]

        def on_epoch_end(self):
            self.ended += 1

    return Batches


def build(library):
    model = library.Sequential([library.Input((4,)),
                                library.layers.Dense(5, activation="tanh"),
                                library.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=library.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_evaluate_predict_on_a_py_dataset(rng):
    x = rng.normal(size=(40, 4)).astype("float32")
    y = rng.integers(0, 3, 40)
    w = rng.uniform(0.5, 2.0, 40).astype("float32")
    reference, ours = build(keras), build(minikeras)
    ours.set_weights(reference.get_weights())
    data = {lib: batches_class(lib)(x, y, w) for lib in (keras, minikeras)}
    expected = reference.fit(data[keras], epochs=3, shuffle=False, verbose=0).history
    history = ours.fit(data[minikeras], epochs=3, shuffle=False, verbose=0).history
    assert sorted(history) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(history[key], expected[key], rtol=1e-5, atol=1e-6)
    for a, b in zip(ours.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=5e-5)  # Adam family tolerance
    # once per epoch; Keras 3.15 with TensorFlow adds one call while it reads the first batches
    # to build its tf.data pipeline (4 here), which is not part of the contract
    assert data[minikeras].ended == 3 <= data[keras].ended
    np.testing.assert_allclose(ours.evaluate(data[minikeras], verbose=0),
                               reference.evaluate(data[keras], verbose=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.predict(data[minikeras], verbose=0),
                               reference.predict(data[keras], verbose=0), rtol=1e-5, atol=1e-6)
