"""fit / evaluate / predict against tf.keras: the same start, the same data, the same end.

Every test builds one model in each library, copies Keras's initial weights into minikeras,
trains both with ``shuffle=False`` and compares weights, History and outputs. Tolerances follow
keras-facts section 10: after ~12 float32 steps the weights agree to atol 1e-5 for the SGD family
and 5e-5 for the Adam family (Adam divides by sqrt(v), which magnifies rounding differences in
near-zero gradients); per-epoch logs agree to rtol 1e-5.
"""

import io
import re
from contextlib import redirect_stdout

import keras
import numpy as np
import pytest

import minikeras as mk

N, D, C = 50, 4, 3  # 50 samples in batches of 16: three full batches and a partial one of 2
SGD_ATOL, ADAM_ATOL = 1e-5, 5e-5


def data(kind="categorical", seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, D)).astype("float32")
    labels = rng.integers(0, C, size=N)
    if kind == "categorical":
        y = np.eye(C, dtype="float32")[labels]
    elif kind == "sparse":
        y = labels.astype("float32")
    elif kind == "binary":
        y = (labels == 0).astype("float32")[:, None]
    else:  # regression
        y = (x @ rng.normal(size=(D, 1))).astype("float32")
    return x, y


def build(lib, out_units=C, out_activation="softmax", hidden=6, regularize=False,
          constraint=False, extra=()):
    reg = dict(kernel_regularizer=lib.regularizers.L2(0.01),
               bias_regularizer=lib.regularizers.L1(0.01)) if regularize else {}
    con = dict(kernel_constraint=lib.constraints.MaxNorm(0.5)) if constraint else {}
    layers = [lib.Input((D,)), lib.layers.Dense(hidden, activation="tanh", **reg, **con)]
    layers += [make(lib) for make in extra]
    layers.append(lib.layers.Dense(out_units, activation=out_activation))
    return lib.Sequential(layers)


def twins(**kwargs):
    k, m = build(keras, **kwargs), build(mk, **kwargs)
    m.set_weights(k.get_weights())
    return k, m


def assert_weights_close(k, m, atol):
    for i, (a, b) in enumerate(zip(k.get_weights(), m.get_weights(), strict=True)):
        np.testing.assert_allclose(b, a, rtol=0, atol=atol, err_msg=f"weight {i}")


def assert_history_close(hk, hm, rtol=1e-5, atol=1e-6):
    assert list(hm.history) == list(hk.history)  # sorted keys, the same names
    for key in hk.history:
        np.testing.assert_allclose(hm.history[key], hk.history[key], rtol=rtol, atol=atol,
                                   err_msg=key)


def assert_trains_like_keras(make, x, y, loss, learning_rate, batch_size=16, metrics=()):
    """``make(keras)`` and ``make(mk)`` start from Keras's initial weights and train two epochs
    of ``SGD(learning_rate)`` on the same batches (``shuffle=False``): the weights agree within
    the SGD tolerance, the History within rtol 1e-5, and so do the predictions."""
    k, m = make(keras), make(mk)
    m.set_weights(k.get_weights())
    for lib, model in ((keras, k), (mk, m)):
        model.compile(optimizer=lib.optimizers.SGD(learning_rate), loss=loss,
                      metrics=list(metrics))
    fit = dict(batch_size=batch_size, epochs=2, shuffle=False, verbose=0)
    hk, hm = k.fit(x, y, **fit), m.fit(x, y, **fit)
    assert_weights_close(k, m, atol=SGD_ATOL)
    assert_history_close(hk, hm)
    np.testing.assert_allclose(m.predict(x, verbose=0), k.predict(x, verbose=0), rtol=1e-5,
                               atol=SGD_ATOL)


def schedule(lib, name):
    s = lib.optimizers.schedules
    return {
        "ExponentialDecay": lambda: s.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5),
        "ExponentialDecay_staircase": lambda: s.ExponentialDecay(0.1, 3, 0.5, staircase=True),
        "InverseTimeDecay": lambda: s.InverseTimeDecay(0.1, decay_steps=2, decay_rate=0.5),
        "PolynomialDecay": lambda: s.PolynomialDecay(0.1, decay_steps=8, power=2.0),
        "PolynomialDecay_cycle": lambda: s.PolynomialDecay(0.1, decay_steps=5, cycle=True),
        "PiecewiseConstantDecay": lambda: s.PiecewiseConstantDecay([3, 7], [0.1, 0.05, 0.01]),
        "CosineDecay": lambda: s.CosineDecay(0.1, decay_steps=10, alpha=0.1),
        "CosineDecay_warmup": lambda: s.CosineDecay(0.0, 8, warmup_target=0.1, warmup_steps=4),
        "CosineDecayRestarts": lambda: s.CosineDecayRestarts(0.1, first_decay_steps=3),
    }[name]()


OPTIMIZERS = {  # id: (class name, kwargs, tolerance)
    "sgd": ("SGD", dict(learning_rate=0.1), SGD_ATOL),
    "sgd_momentum": ("SGD", dict(learning_rate=0.05, momentum=0.9), SGD_ATOL),
    "sgd_nesterov": ("SGD", dict(learning_rate=0.05, momentum=0.9, nesterov=True), SGD_ATOL),
    "sgd_clipnorm": ("SGD", dict(learning_rate=0.1, clipnorm=0.05), SGD_ATOL),
    "sgd_clipvalue": ("SGD", dict(learning_rate=0.1, clipvalue=0.01), SGD_ATOL),
    "sgd_global_clipnorm": ("SGD", dict(learning_rate=0.1, global_clipnorm=0.05), SGD_ATOL),
    "sgd_weight_decay": ("SGD", dict(learning_rate=0.1, weight_decay=0.05), SGD_ATOL),
    "adam": ("Adam", dict(learning_rate=0.01), ADAM_ATOL),
    "adam_amsgrad": ("Adam", dict(learning_rate=0.01, amsgrad=True), ADAM_ATOL),
    "adam_weight_decay": ("Adam", dict(learning_rate=0.01, weight_decay=0.1), ADAM_ATOL),
    "adam_clipnorm": ("Adam", dict(learning_rate=0.01, clipnorm=0.1), ADAM_ATOL),
    "adamw": ("AdamW", dict(learning_rate=0.01), ADAM_ATOL),
    "rmsprop": ("RMSprop", dict(learning_rate=0.01), ADAM_ATOL),
    "rmsprop_centered": ("RMSprop", dict(learning_rate=0.01, centered=True), ADAM_ATOL),
    "rmsprop_momentum": ("RMSprop", dict(learning_rate=0.01, momentum=0.5), ADAM_ATOL),
    "adagrad": ("Adagrad", dict(learning_rate=0.1), ADAM_ATOL),
    "adadelta": ("Adadelta", dict(learning_rate=1.0), ADAM_ATOL),
    "adamax": ("Adamax", dict(learning_rate=0.01), ADAM_ATOL),
    "nadam": ("Nadam", dict(learning_rate=0.01), ADAM_ATOL),
    "ftrl": ("Ftrl", dict(learning_rate=0.1), ADAM_ATOL),
    # fit ends by replacing the weights with their moving averages (finalize_variable_values)
    "sgd_ema": ("SGD", dict(learning_rate=0.1, use_ema=True, ema_momentum=0.9), SGD_ATOL),
    "adam_ema": ("Adam", dict(learning_rate=0.01, use_ema=True, ema_momentum=0.5), ADAM_ATOL),
}


def fit_both(k, m, optimizer, loss="categorical_crossentropy", metrics=("accuracy",),
             kind="categorical", epochs=3, **fit_kwargs):
    x, y = data(kind)
    (name, kwargs), = [optimizer] if isinstance(optimizer, tuple) else [(optimizer, {})]
    k.compile(optimizer=getattr(keras.optimizers, name)(**kwargs), loss=loss,
              metrics=list(metrics))
    m.compile(optimizer=getattr(mk.optimizers, name)(**kwargs), loss=loss,
              metrics=list(metrics))
    fit_kwargs = dict(batch_size=16, epochs=epochs, shuffle=False, verbose=0, **fit_kwargs)
    return k.fit(x, y, **fit_kwargs), m.fit(x, y, **fit_kwargs)


@pytest.mark.parametrize("opt_id", list(OPTIMIZERS))
def test_trajectory_every_optimizer(opt_id):
    name, kwargs, atol = OPTIMIZERS[opt_id]
    k, m = twins(regularize=True)
    hk, hm = fit_both(k, m, (name, kwargs))
    assert_weights_close(k, m, atol)
    assert_history_close(hk, hm)
    slots_k = [np.asarray(v) for v in k.optimizer.variables]
    slots_m = [np.asarray(v) for v in m.optimizer.variables]
    assert [s.shape for s in slots_m] == [s.shape for s in slots_k]
    for a, b in zip(slots_k, slots_m, strict=True):
        # rtol 1e-4: slots such as Adam's v hold squared gradients, whose float32 rounding
        # differences are relatively larger than the weights'
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=atol)


@pytest.mark.parametrize("name", ["ExponentialDecay", "ExponentialDecay_staircase",
                                  "InverseTimeDecay", "PolynomialDecay", "PolynomialDecay_cycle",
                                  "PiecewiseConstantDecay", "CosineDecay", "CosineDecay_warmup",
                                  "CosineDecayRestarts"])
def test_trajectory_every_schedule(name):
    k, m = twins()
    x, y = data()
    k.compile(optimizer=keras.optimizers.SGD(schedule(keras, name), momentum=0.5),
              loss="categorical_crossentropy")
    m.compile(optimizer=mk.optimizers.SGD(schedule(mk, name), momentum=0.5),
              loss="categorical_crossentropy")
    hk = k.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    hm = m.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    assert_weights_close(k, m, SGD_ATOL)
    assert_history_close(hk, hm)
    assert float(m.optimizer.learning_rate) == pytest.approx(
        float(k.optimizer.learning_rate), rel=1e-6)


@pytest.mark.parametrize("loss,kind,units,activation", [
    ("binary_crossentropy", "binary", 1, "sigmoid"),
    ("categorical_crossentropy", "categorical", C, "softmax"),
    ("sparse_categorical_crossentropy", "sparse", C, "softmax"),
    ("mse", "regression", 1, "linear"),
    ("huber", "regression", 1, "linear"),
    (mk.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1), "binary", 1, "linear"),
])
def test_trajectory_losses_and_metrics(loss, kind, units, activation):
    k, m = twins(out_units=units, out_activation=activation, regularize=True, constraint=True)
    k_loss = keras.losses.deserialize(mk.losses.serialize(loss)) if not isinstance(
        loss, str) else loss
    x, y = data(kind)
    metrics = {"binary": ["accuracy", "binary_crossentropy", "mae"],
               "categorical": ["accuracy", "categorical_crossentropy", "mae"],
               "sparse": ["accuracy", "sparse_categorical_crossentropy"],
               "regression": ["mae", "mse"]}[kind]
    k.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss=k_loss, metrics=metrics)
    m.compile(optimizer=mk.optimizers.SGD(0.1, momentum=0.9), loss=loss, metrics=metrics)
    hk = k.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, validation_split=0.2)
    hm = m.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, validation_split=0.2)
    assert_weights_close(k, m, SGD_ATOL)
    assert_history_close(hk, hm)
    np.testing.assert_allclose(m.evaluate(x, y, verbose=0), k.evaluate(x, y, verbose=0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.predict(x, verbose=0), k.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_sample_weight_class_weight_and_weighted_metrics():
    x, y = data("sparse")
    w = np.random.default_rng(3).uniform(0.2, 2.0, size=N).astype("float32")
    for fit_kwargs in (dict(sample_weight=w), dict(class_weight={0: 1.0, 1: 3.0, 2: 0.5})):
        k, m = twins()
        for model, lib in ((k, keras), (m, mk)):
            model.compile(optimizer=lib.optimizers.Adam(0.01),
                          loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"], weighted_metrics=["accuracy"])
        hk = k.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, **fit_kwargs)
        hm = m.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, **fit_kwargs)
        assert_weights_close(k, m, ADAM_ATOL)
        assert_history_close(hk, hm)


def test_validation_data_with_weights_and_batch_size():
    x, y = data()
    xv, yv = data(seed=1)
    wv = np.linspace(0.5, 1.5, N).astype("float32")
    k, m = twins()
    hk, hm = fit_both(k, m, ("RMSprop", {}), metrics=["accuracy", "AUC"],
                      validation_data=(xv, yv, wv), validation_batch_size=7)
    assert_weights_close(k, m, ADAM_ATOL)
    assert_history_close(hk, hm)


def test_evaluate_return_forms_and_batch_apis():
    x, y = data()
    k, m = twins()
    for model, lib in ((k, keras), (m, mk)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="categorical_crossentropy",
                      metrics=["accuracy"])
    assert m.evaluate(x, y, verbose=0, return_dict=True).keys() == k.evaluate(
        x, y, verbose=0, return_dict=True).keys()
    np.testing.assert_allclose(m.train_on_batch(x[:10], y[:10]),
                               k.train_on_batch(x[:10], y[:10]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.test_on_batch(x, y), k.test_on_batch(x, y), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(m.predict_on_batch(x), k.predict_on_batch(x), rtol=1e-5,
                               atol=1e-6)
    assert m.metrics_names == k.metrics_names
    k, m = twins()  # a fresh model: Keras keeps returning a list once metrics were built
    for model in (k, m):
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert isinstance(m.evaluate(x, y, verbose=0), float)
    assert m.evaluate(x, y, verbose=0) == pytest.approx(k.evaluate(x, y, verbose=0), rel=1e-5)


def test_generator_input_matches_arrays():
    x, y = data()

    def batches():
        for start in range(0, N, 16):
            yield x[start:start + 16], y[start:start + 16]

    k, m = twins()
    for model, lib in ((k, keras), (m, mk)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="categorical_crossentropy")
    hk = k.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    hm = m.fit(batches(), epochs=1, verbose=0)
    assert_weights_close(k, m, SGD_ATOL)
    assert_history_close(hk, hm)


def test_batch_normalization_and_dropout_free_training():
    k, m = twins(extra=[lambda lib: lib.layers.BatchNormalization()])
    hk, hm = fit_both(k, m, ("SGD", dict(learning_rate=0.1)))
    assert_weights_close(k, m, SGD_ATOL)  # includes the moving mean and variance
    assert_history_close(hk, hm)
    x, _ = data()
    np.testing.assert_allclose(m.predict(x, verbose=0), k.predict(x, verbose=0), rtol=1e-5,
                               atol=2e-6)


def test_normalization_layer_in_training():
    x, y = data()
    k = keras.Sequential([keras.Input((D,)), keras.layers.Normalization(),
                          keras.layers.Dense(C, activation="softmax")])
    m = mk.Sequential([mk.Input((D,)), mk.layers.Normalization(),
                       mk.layers.Dense(C, activation="softmax")])
    k.layers[0].adapt(x * 3 + 1)
    m.layers[0].adapt(x * 3 + 1)
    m.layers[1].set_weights(k.layers[1].get_weights())
    hk, hm = fit_both(k, m, ("Adam", dict(learning_rate=0.01)))
    assert_weights_close(k, m, ADAM_ATOL)
    assert_history_close(hk, hm)


@pytest.mark.parametrize("kwargs", [
    dict(monitor="val_loss", patience=1),
    dict(monitor="val_accuracy", patience=0, min_delta=0.01),
    dict(monitor="loss", patience=2, restore_best_weights=True, start_from_epoch=2),
    dict(monitor="val_loss", baseline=0.1, patience=1),
])
def test_early_stopping_stops_at_the_same_epoch(kwargs):
    x, y = data()
    k, m = twins()
    for model, lib in ((k, keras), (m, mk)):
        model.compile(optimizer=lib.optimizers.SGD(0.5, momentum=0.9),
                      loss="categorical_crossentropy", metrics=["accuracy"])
    stop_k = keras.callbacks.EarlyStopping(**kwargs)
    stop_m = mk.callbacks.EarlyStopping(**kwargs)
    hk = k.fit(x, y, batch_size=16, epochs=12, shuffle=False, verbose=0,
               validation_split=0.3, callbacks=[stop_k])
    hm = m.fit(x, y, batch_size=16, epochs=12, shuffle=False, verbose=0,
               validation_split=0.3, callbacks=[stop_m])
    assert hm.epoch == hk.epoch
    assert stop_m.stopped_epoch == stop_k.stopped_epoch
    assert_history_close(hk, hm, rtol=1e-4)  # 12 epochs of momentum 0.9: drift grows slowly
    assert_weights_close(k, m, 1e-4)  # the same drift, over up to 36 momentum steps


def test_learning_rate_callbacks_match():
    x, y = data()
    k, m = twins()
    for model, lib in ((k, keras), (m, mk)):
        model.compile(optimizer=lib.optimizers.SGD(0.2), loss="categorical_crossentropy")
    ck = [keras.callbacks.LearningRateScheduler(lambda e, lr: lr * 0.5),
          keras.callbacks.ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5)]
    cm = [mk.callbacks.LearningRateScheduler(lambda e, lr: lr * 0.5),
          mk.callbacks.ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5)]
    hk = k.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0, callbacks=ck)
    hm = m.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0, callbacks=cm)
    assert_history_close(hk, hm)
    assert_weights_close(k, m, SGD_ATOL)


class _Clock:
    """A clock that moves 1 ms per reading, so both bars print the same updates."""

    def __init__(self):
        self.now = 1000.0

    def time(self):
        self.now += 0.001
        return self.now


TIMING = re.compile(r"\d+(\.\d+)?(ms|us|s)(/step)?")


def captured(run, monkeypatch):
    import keras.src.utils.progbar as keras_progbar

    import minikeras.utils.progbar as mk_progbar

    monkeypatch.setattr(keras_progbar, "time", _Clock())
    monkeypatch.setattr(mk_progbar, "time", _Clock())
    out = io.StringIO()
    with redirect_stdout(out):
        run()
    return TIMING.sub("<t>", out.getvalue())


VALUE = re.compile(r"(?<=: )-?\d+\.\d+(e[+-]\d+)?")  # a logged value, as "loss: 0.4500"


def assert_same_bar(ours, theirs):
    """The bars' text is equal, but a printed value may differ by one unit of its 4th decimal:
    the two libraries' float32 results differ in their last bits, which round the other way
    when a value sits on a rounding boundary (seen: val_loss 3.8016 against Keras's 3.8015)."""
    assert VALUE.sub("<v>", ours) == VALUE.sub("<v>", theirs)
    values = [[float(v.group(0)) for v in VALUE.finditer(text)] for text in (ours, theirs)]
    np.testing.assert_allclose(values[0], values[1], rtol=1e-6, atol=1.01e-4)


@pytest.mark.parametrize("verbose", [1, 2])
@pytest.mark.parametrize("epochs", [1, 2])
def test_progress_bar_text(verbose, epochs, monkeypatch):
    x, y = data()
    k, m = twins()
    for model, lib in ((k, keras), (m, mk)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="categorical_crossentropy",
                      metrics=["accuracy"])
    args = dict(batch_size=16, epochs=epochs, shuffle=False, verbose=verbose,
                validation_split=0.2)
    text_k = captured(lambda: k.fit(x, y, **args), monkeypatch)
    text_m = captured(lambda: m.fit(x, y, **args), monkeypatch)
    assert_same_bar(text_m, text_k)
    for call in (lambda model: model.evaluate(x, y, verbose=verbose),
                 lambda model: model.predict(x, verbose=verbose)):
        assert_same_bar(captured(lambda c=call: c(m), monkeypatch),
                        captured(lambda c=call: c(k), monkeypatch))


def custom_model_class(lib, tape_class):
    """The Keras guide's "customizing what happens in fit": a subclass whose ``train_step(data)``
    unpacks the batch, differentiates ``compute_loss`` itself and updates ``self.metrics``;
    ``test_step(data)`` likewise. Written once; only the tape differs (TensorFlow's in Keras)."""

    class CustomModel(lib.Model):
        def __init__(self):
            super().__init__()
            self.hidden = lib.layers.Dense(6, activation="tanh")
            self.out = lib.layers.Dense(C, activation="softmax")

        def call(self, x):
            return self.out(self.hidden(x))

        def train_step(self, data):
            x, y, sample_weight = lib.utils.unpack_x_y_sample_weight(data)
            with tape_class() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            return self._update(loss, y, y_pred)

        def test_step(self, data):
            x, y, _ = lib.utils.unpack_x_y_sample_weight(data)
            y_pred = self(x, training=False)
            return self._update(self.compute_loss(y=y, y_pred=y_pred), y, y_pred)

        def _update(self, loss, y, y_pred):
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    return CustomModel()


@pytest.mark.parametrize("weighted", [False, True])
def test_a_custom_train_step_trains_like_keras(weighted):
    import tensorflow as tf

    x, y = data()
    w = np.linspace(0.5, 1.5, len(x)).astype("float32") if weighted else None
    k, m = custom_model_class(keras, tf.GradientTape), custom_model_class(mk, mk.GradientTape)
    for model in (k, m):
        model(x[:1])
    m.set_weights(k.get_weights())
    histories = []
    for lib, model in ((keras, k), (mk, m)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="categorical_crossentropy",
                      metrics=["accuracy"])
        histories.append(model.fit(x, y, sample_weight=w, batch_size=16, epochs=3,
                                   shuffle=False, verbose=0, validation_split=0.25))
    assert_weights_close(k, m, atol=SGD_ATOL)
    assert_history_close(*histories)
    np.testing.assert_allclose(m.evaluate(x, y, verbose=0), k.evaluate(x, y, verbose=0),
                               rtol=1e-5)
