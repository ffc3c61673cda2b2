"""compile / fit / evaluate / predict without TensorFlow: semantics, bookkeeping, bad input."""

import warnings

import numpy as np
import pytest

import minikeras as keras


@pytest.fixture(autouse=True)
def _fresh():
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    yield
    keras.backend.set_floatx("float32")


def binary_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")
    return x, y


def small_model(out=1, activation="sigmoid", **dense_kwargs):
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh",
                                                                   **dense_kwargs),
                             keras.layers.Dense(out, activation=activation)])


def compiled(**kwargs):
    model = small_model()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy", **kwargs)
    return model


def test_fit_learns_and_history_has_sorted_keys():
    x, y = binary_data(200)
    model = compiled(metrics=["accuracy", "mse"])
    history = model.fit(x, y, epochs=30, batch_size=16, validation_split=0.25, verbose=0)
    assert list(history.history) == sorted(history.history)
    assert set(history.history) == {"accuracy", "loss", "mse", "val_accuracy", "val_loss",
                                    "val_mse"}
    assert history.epoch == list(range(30))
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9
    assert all(isinstance(v, float) for v in history.history["loss"])


def test_epoch_loss_is_the_batch_size_weighted_mean_of_pre_update_losses():
    x, y = binary_data(10)
    model = compiled()
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="binary_crossentropy")
    reported = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    per_batch = [float(model.compute_loss(None, y[s:s + 4], model(x[s:s + 4])))
                 for s in (0, 4, 8)]
    expected = (4 * per_batch[0] + 4 * per_batch[1] + 2 * per_batch[2]) / 10
    assert reported.history["loss"][0] == pytest.approx(expected, rel=1e-6)
    assert expected != pytest.approx(np.mean(per_batch), rel=1e-6)  # the weighting matters


def test_regularization_is_part_of_the_reported_loss_but_not_the_metric():
    x, y = binary_data(16)
    model = small_model(kernel_regularizer=keras.regularizers.L2(0.5))
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="binary_crossentropy",
                  metrics=["binary_crossentropy"])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    penalty = 0.5 * float(np.sum(model.layers[0].kernel.numpy() ** 2))
    assert logs["loss"] == pytest.approx(logs["binary_crossentropy"] + penalty, rel=1e-5)


def test_validation_split_takes_the_last_samples_before_shuffling():
    x, y = binary_data(10)
    seen = []

    class Spy(keras.callbacks.Callback):
        def on_test_batch_begin(self, batch, logs=None):
            seen.append(batch)

    model = compiled()
    model.fit(x, y, validation_split=0.3, batch_size=2, epochs=1, verbose=0,
              callbacks=[Spy()])
    assert seen == [0, 1]  # 3 validation samples in batches of 2
    x_val, y_val = x[7:], y[7:]
    val = model.evaluate(x_val, y_val, verbose=0)
    assert model.history.history["val_loss"][0] == pytest.approx(val, rel=1e-6)


def test_partial_last_batch_is_kept():
    x, y = binary_data(10)
    model = compiled()
    steps = []

    class Spy(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            steps.append(batch)

    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[Spy()])
    assert steps == [0, 1, 2]
    assert model.optimizer.iterations.numpy() == 3


def test_evaluate_and_predict_forms():
    x, y = binary_data(20)
    model = compiled(metrics=["accuracy"])
    result = model.evaluate(x, y, verbose=0)
    assert isinstance(result, list) and len(result) == 2
    assert model.metrics_names == ["loss", "compile_metrics"]
    as_dict = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(as_dict) == ["accuracy", "loss"]
    predictions = model.predict(x, verbose=0)
    assert isinstance(predictions, np.ndarray) and predictions.dtype == np.float32
    assert predictions.shape == (20, 1)
    np.testing.assert_allclose(predictions, np.asarray(model(x)), rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x), predictions, rtol=1e-6)
    plain = compiled()
    assert isinstance(plain.evaluate(x, y, verbose=0), float)


def test_train_on_batch_and_test_on_batch_reset_metrics():
    x, y = binary_data(8)
    model = compiled(metrics=["accuracy"])
    first = model.test_on_batch(x, y)
    again = model.test_on_batch(x, y)
    assert first == again
    loss, acc = model.train_on_batch(x, y)
    assert loss == pytest.approx(first[0], rel=1e-6)  # loss before the update
    assert model.optimizer.iterations.numpy() == 1


def test_lists_and_generators_are_accepted():
    x, y = binary_data(12)
    model = compiled()
    model.fit(x.tolist(), y.tolist(), epochs=1, verbose=0)

    def batches():
        for start in range(0, 12, 4):
            yield x[start:start + 4], y[start:start + 4]

    history = model.fit(batches(), epochs=1, verbose=0)
    assert model.optimizer.iterations.numpy() == 1 + 3
    assert history.history["loss"][0] > 0
    assert model.predict(iter([x[:5], x[5:]]), verbose=0).shape == (12, 1)


def test_class_weight_becomes_sample_weight():
    x, y = binary_data(16)
    weights = np.where(y[:, 0] == 1, 3.0, 0.5).astype("float32")
    a, b = compiled(), compiled()
    b.set_weights(a.get_weights())
    ha = a.fit(x, y, class_weight={0: 0.5, 1: 3.0}, shuffle=False, epochs=2, verbose=0)
    hb = b.fit(x, y, sample_weight=weights, shuffle=False, epochs=2, verbose=0)
    assert ha.history["loss"] == pytest.approx(hb.history["loss"], rel=1e-6)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)


def test_stop_training_from_a_callback():
    x, y = binary_data(16)

    class StopAfterTwo(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    history = compiled().fit(x, y, epochs=10, verbose=0, callbacks=[StopAfterTwo()])
    assert history.epoch == [0, 1]


def test_nan_loss_stops_only_with_terminate_on_nan():
    x, y = binary_data(16)
    x_bad = x.copy()
    x_bad[:] = np.nan
    history = compiled().fit(x_bad, y, epochs=3, verbose=0)
    assert len(history.epoch) == 3 and np.isnan(history.history["loss"][-1])
    history = compiled().fit(x_bad, y, epochs=3, verbose=0,
                             callbacks=[keras.callbacks.TerminateOnNaN()])
    assert len(history.epoch) == 1


def test_unbuilt_model_is_built_by_fit_and_float64_works():
    keras.backend.set_floatx("float64")
    x, y = binary_data(16)
    model = keras.Sequential([keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="bce", metrics=["acc"])
    history = model.fit(x.astype("float64"), y, epochs=2, verbose=0)
    assert model.built and model.layers[0].kernel.dtype == "float64"
    assert "acc" in history.history
    assert model.predict(x, verbose=0).dtype == np.float64


def test_accuracy_is_resolved_from_shapes():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 3)).astype("float32")
    labels = rng.integers(0, 3, size=30)
    for y, loss, expected in (
            (labels, "sparse_categorical_crossentropy", "SparseCategoricalAccuracy"),
            (np.eye(3)[labels], "categorical_crossentropy", "CategoricalAccuracy")):
        model = small_model(out=3, activation="softmax")
        model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
        model.fit(x, y, epochs=1, verbose=0)
        assert type(model.metrics[1].metrics[0]).__name__ == expected
    model = compiled(metrics=["accuracy"])
    model.fit(x, (labels == 0).astype("float32"), epochs=1, verbose=0)
    assert type(model.metrics[1].metrics[0]).__name__ == "BinaryAccuracy"


def test_crossentropy_string_resolves_like_keras():
    x, y = binary_data(8)
    model = compiled()
    model.compile(optimizer="sgd", loss="crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert model._compile_loss.loss.name == "binary_crossentropy"


# --- bad input -----------------------------------------------------------------------------

def test_fit_before_compile():
    x, y = binary_data(8)
    with pytest.raises(ValueError, match="You must call `compile\\(\\)`"):
        small_model().fit(x, y, verbose=0)


@pytest.mark.parametrize("kwargs,message", [
    (dict(batch_size=0), "`batch_size` must be a positive integer. Received: batch_size=0"),
    (dict(batch_size=-3), "batch_size=-3"),
    (dict(validation_split=1.0), "`validation_split` must be a float in \\[0, 1\\)"),
    (dict(validation_split=-0.1), "validation_split=-0.1"),
    (dict(class_weight={"yes": 1.0}), "`class_weight` keys must be class indices"),
    (dict(class_weight={0: 1.0, 5: 2.0}), "keys \\[5\\] that are not classes"),
])
def test_bad_fit_arguments(kwargs, message):
    x, y = binary_data(8)
    model = compiled()
    before = model.get_weights()
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, verbose=0, **kwargs)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_x_and_y_of_different_lengths():
    x, y = binary_data(8)
    with pytest.raises(ValueError, match="x sizes: 8, y sizes: 5"):
        compiled().fit(x, y[:5], verbose=0)


def test_empty_x():
    with pytest.raises(ValueError, match="non-empty `x`"):
        compiled().fit(np.zeros((0, 3)), np.zeros((0, 1)), verbose=0)


def test_labels_that_do_not_fit_the_loss_name_both_shapes():
    x = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
    labels = np.array([0, 1, 2, 0, 1, 2])
    model = small_model(out=3, activation="softmax")
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=r"\(None, 3\)|\(6,\)|shape"):
        model.fit(x, labels, verbose=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="shape"):
        model.fit(x, np.eye(3)[labels], verbose=0)


def test_unknown_names_list_the_valid_ones():
    model = small_model()
    with pytest.raises(ValueError, match="adam"):
        model.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="mean_squared_error"):
        model.compile(optimizer="sgd", loss="mean_square_error")
        model.fit(*binary_data(4), verbose=0)


def test_non_numeric_data():
    with pytest.raises(TypeError, match="numbers"):
        compiled().fit(np.array([["a", "b", "c"]]), np.array([[1.0]]), verbose=0)


def test_no_runtime_warnings_on_saturated_training():
    x = np.array([[1e4, -1e4, 1e4]] * 8, dtype="float32")
    y = np.array([[0.0], [1.0]] * 4, dtype="float32")
    model = compiled(metrics=["accuracy", "binary_crossentropy"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            history = model.fit(x, y, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_a_diverging_model_gives_nan_without_numpy_warnings():
    """The classic too-high learning rate: Keras logs inf/nan silently; so must minikeras."""
    rng = np.random.default_rng(0)
    x = rng.random((200, 2), dtype=np.float32) * 100
    y = x[:, :1] * 3 + 1
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="tanh"),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(10.0), loss="mse", metrics=["mae"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = model.fit(x, y, epochs=3, verbose=0)
        loss = model.evaluate(x, y, verbose=0)[0]
        prediction = model.predict(x[:2], verbose=0)
        model.train_on_batch(x[:4], y[:4])
    assert np.isnan(history.history["loss"][-1]) and np.isnan(loss)
    assert np.isnan(prediction).all()


def test_a_metric_with_one_value_per_class_is_logged_as_an_array():
    rng = np.random.default_rng(0)
    x = rng.random((20, 3), dtype=np.float32)
    y = np.eye(2, dtype="float32")[rng.integers(0, 2, 20)]
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy",
                  metrics=[keras.metrics.F1Score()])
    history = model.fit(x, y, epochs=2, batch_size=10, verbose=0)
    assert [np.shape(v) for v in history.history["f1_score"]] == [(2,), (2,)]
    assert isinstance(history.history["loss"][0], float)
    loss, f1 = model.evaluate(x, y, verbose=0)
    assert isinstance(loss, float) and f1.shape == (2,)


def test_step_methods_receive_keras_data_tuples():
    """As in Keras, ``train_step``/``test_step``/``predict_step`` receive one ``data``
    argument: ``(x, y)``, ``(x, y, sample_weight)`` or ``x`` alone."""
    seen = []

    class Recording(keras.Sequential):
        def train_step(self, data):
            seen.append(("train", len(data)))
            return super().train_step(data)

        def test_step(self, data):
            seen.append(("test", len(data)))
            return super().test_step(data)

        def predict_step(self, data):
            seen.append(("predict", type(data).__name__))
            return super().predict_step(data)

    model = Recording([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.ones((4, 2), "float32"), np.ones((4, 1), "float32")
    model.fit(x, y, batch_size=4, verbose=0)
    model.fit(x, y, sample_weight=np.ones(4, "float32"), batch_size=4, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    model.train_on_batch(x, y)
    assert seen == [("train", 2), ("train", 3), ("test", 2), ("predict", "ndarray"),
                    ("train", 2)]
