"""Functional models with several outputs, trained and evaluated against tf.keras.

The model: one input, a shared tanh layer (L2-regularized, so the total loss includes a
penalty), then two heads: ``reg`` (Dense(1), regression) and ``cls`` (Dense(3, softmax)). Both
libraries start from Keras's weights and train with ``shuffle=False`` on 50 samples in batches
of 16 (the last one partial). Compared: History per epoch (rtol 1e-5), final weights (atol 1e-5
SGD, 5e-5 Adam, as in test_training_parity.py), the log names and their order, evaluate's list
and dict, ``metrics_names``, the progress-bar text, errors, and ``.keras`` files both ways.
"""

import keras
import numpy as np
import pytest
from test_training_parity import assert_same_bar, assert_weights_close, captured

import minikeras as mk

N, D, C = 50, 4, 3
SGD_ATOL, ADAM_ATOL = 1e-5, 5e-5


def data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, D)).astype("float32")
    y_reg = (x @ rng.normal(size=(D, 1))).astype("float32")
    y_cls = np.eye(C, dtype="float32")[rng.integers(0, C, size=N)]
    weights = rng.uniform(0.2, 2.0, size=N).astype("float32")
    return x, y_reg, y_cls, weights


def build(lib, names=("reg", "cls")):
    inputs = lib.Input((D,), name="x")
    hidden = lib.layers.Dense(6, activation="tanh", name="hidden",
                              kernel_regularizer=lib.regularizers.L2(0.01))(inputs)
    reg = lib.layers.Dense(1, name=names[0])(hidden)
    cls = lib.layers.Dense(C, activation="softmax", name=names[1])(hidden)
    return lib.Model(inputs, [reg, cls])


def twins(**kwargs):
    k, m = build(keras, **kwargs), build(mk, **kwargs)
    m.set_weights(k.get_weights())
    return k, m


def assert_logs_close(theirs, ours):
    assert list(ours) == list(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-6, err_msg=key)


# compile arguments (with the same structure in both libraries) and how y is given
COMPILES = {
    "lists": dict(loss=["mse", "categorical_crossentropy"], loss_weights=[0.5, 2.0],
                  metrics=[["mae"], ["accuracy", "mse"]]),
    "dicts": dict(loss={"reg": "mse", "cls": "categorical_crossentropy"},
                  loss_weights={"reg": 1.5, "cls": 0.3}, metrics={"cls": "accuracy"},
                  weighted_metrics={"reg": ["mse", "mae"], "cls": ["accuracy"]}),
    "one_loss_flat_metrics": dict(loss="mse", metrics=["mae", "mse"]),
    "skip_an_output": dict(loss=[None, "categorical_crossentropy"],
                           metrics=[["mae"], ["accuracy"]]),
    "losses_only": dict(loss=["huber", "crossentropy"]),
    "repeated_names": dict(loss=["mse", "categorical_crossentropy"],
                           metrics=[["mae", "mae"], ["mse"]],
                           weighted_metrics=[["mae"], ["mse"]]),
}


def _y(y_reg, y_cls, as_dict):
    return {"reg": y_reg, "cls": y_cls} if as_dict else [y_reg, y_cls]


@pytest.mark.parametrize("optimizer,atol", [("SGD", SGD_ATOL), ("Adam", ADAM_ATOL)])
@pytest.mark.parametrize("compile_name", sorted(COMPILES))
@pytest.mark.parametrize("y_as_dict", [False, True])
def test_fit_history_weights_and_evaluate(optimizer, atol, compile_name, y_as_dict):
    x, y_reg, y_cls, w = data()
    y = _y(y_reg, y_cls, y_as_dict)
    # Keras 3.15 fails on y as a dict with one sample_weight array (a KeyError in its
    # CompileLoss), so the sample weights go with y as a list only.
    sample_weight = w if compile_name == "dicts" and not y_as_dict else None
    k, m = twins()
    results = []
    for model, lib in ((k, keras), (m, mk)):
        model.compile(optimizer=getattr(lib.optimizers, optimizer)(learning_rate=0.05),
                      **COMPILES[compile_name])
        history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0,
                            sample_weight=sample_weight)
        results.append(dict(
            history=history.history,
            metrics_names=model.metrics_names,
            evaluate=model.evaluate(x, y, batch_size=16, verbose=0),
            evaluate_dict=model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True),
            test_on_batch=model.test_on_batch(x[:10], _y(y_reg[:10], y_cls[:10], y_as_dict)),
            train_on_batch=model.train_on_batch(x[:10], _y(y_reg[:10], y_cls[:10], y_as_dict),
                                                return_dict=True)))
    theirs, ours = results
    assert list(ours["history"]) == list(theirs["history"])
    for key in theirs["history"]:
        np.testing.assert_allclose(ours["history"][key], theirs["history"][key], rtol=1e-5,
                                   atol=1e-6, err_msg=key)
    assert ours["metrics_names"] == theirs["metrics_names"]
    for name in ("evaluate", "test_on_batch"):
        assert np.shape(ours[name]) == np.shape(theirs[name])
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-5, atol=1e-6,
                                   err_msg=name)
    assert_logs_close(theirs["evaluate_dict"], ours["evaluate_dict"])
    assert_logs_close(theirs["train_on_batch"], ours["train_on_batch"])
    assert_weights_close(k, m, atol)


def test_log_names_and_evaluate_order():
    """Output names that do not sort in output order, and metrics that do not sort in compile
    order: ``evaluate`` lists loss, the per-output losses in output order, then the metrics
    sorted by name (how Keras 3.15 orders them)."""
    x, y_reg, y_cls, _ = data()
    k, m = twins(names=("zeta", "alpha"))
    results = []
    for model in (k, m):
        model.compile(optimizer="sgd", loss=["mse", "categorical_crossentropy"],
                      metrics={"zeta": ["mse", "mae"], "alpha": ["accuracy"]})
        before = model.metrics_names
        history = model.fit(x, [y_reg, y_cls], batch_size=16, epochs=1, shuffle=False,
                            verbose=0, validation_split=0.2)
        results.append((before, model.metrics_names, list(history.history),
                        model.evaluate(x, [y_reg, y_cls], verbose=0)))
    (k_before, k_names, k_keys, k_eval), (m_before, m_names, m_keys, m_eval) = results
    assert k_before == m_before == ["loss", "compile_metrics"]
    assert k_names == m_names == ["loss", "compile_metrics", "zeta_loss", "alpha_loss"]
    assert k_keys == m_keys
    assert "val_zeta_mae" in m_keys
    np.testing.assert_allclose(m_eval, k_eval, rtol=1e-5, atol=1e-6)


def test_sample_weight_per_output():
    x, y_reg, y_cls, w = data()
    k, m = twins()
    histories = []
    for model in (k, m):
        model.compile(optimizer="sgd", loss=["mse", "categorical_crossentropy"],
                      weighted_metrics=[["mae"], ["accuracy"]])
        histories.append(model.fit(x, [y_reg, y_cls], sample_weight=[w, w[::-1].copy()],
                                   batch_size=16, epochs=2, shuffle=False, verbose=0).history)
    assert_logs_close(*histories)
    assert_weights_close(k, m, SGD_ATOL)


@pytest.mark.parametrize("verbose", [1, 2])
def test_progress_bar_text(verbose, monkeypatch):
    x, y_reg, y_cls, _ = data()
    k, m = twins()
    for model in (k, m):
        model.compile(optimizer="sgd", loss=["mse", "categorical_crossentropy"],
                      metrics=[["mae"], ["accuracy"]])
    args = dict(batch_size=16, epochs=2, shuffle=False, verbose=verbose, validation_split=0.2)
    texts = [captured(lambda model=model: model.fit(x, [y_reg, y_cls], **args), monkeypatch)
             for model in (k, m)]
    assert "cls_accuracy" in texts[1]
    assert_same_bar(*texts[::-1])
    texts = [captured(lambda model=model: model.evaluate(x, [y_reg, y_cls], verbose=verbose),
                      monkeypatch) for model in (k, m)]
    assert_same_bar(*texts[::-1])


@pytest.mark.parametrize("compile_kwargs,fit_kwargs,message", [
    (dict(loss={"reg": "mse", "other": "mse"}), {}, r"Expected keys \['reg', 'cls'\] in loss"),
    (dict(loss={"reg": "mse"}), {}, r"Expected keys \['reg', 'cls'\] in loss"),
    (dict(loss=["mse", "mse"], metrics=["mae"]), {}, "Invalid `metrics`"),
    (dict(loss=["mse", "mse"], metrics={"other": "mae"}), {}, "Invalid `metrics`"),
    (dict(loss=["mse", "mse"], loss_weights=[1.0]), {}, "`loss_weights` must"),
    (dict(loss=["mse", "mse"]), dict(class_weight={0: 1.0}),
     "`class_weight` is only supported for Models with a single output."),
])
def test_errors_like_keras(compile_kwargs, fit_kwargs, message):
    x, y_reg, y_cls, _ = data()
    for model in twins():
        model.compile(optimizer="sgd", **compile_kwargs)
        with pytest.raises(ValueError, match=message):
            model.fit(x, [y_reg, y_cls], verbose=0, **fit_kwargs)


@pytest.mark.parametrize("y", ["single", "three"])
def test_y_of_the_wrong_structure(y):
    """Both raise ValueError "y_true and y_pred have different structures" and show them."""
    x, y_reg, y_cls, _ = data()
    targets = y_reg if y == "single" else [y_reg, y_cls, y_cls]
    messages = []
    for model in twins():
        model.compile(optimizer="sgd", loss=["mse", "categorical_crossentropy"])
        with pytest.raises(ValueError, match="y_true and y_pred have different structures") as e:
            model.fit(x, targets, verbose=0)
        messages.append(str(e.value))
    assert messages[1] == messages[0]


def test_loss_list_of_the_wrong_length():
    """Keras raises a KeyError about the path ``(2,)`` for three losses; minikeras a ValueError
    that names the outputs. (With one loss for two outputs, Keras silently trains the first
    output only; minikeras raises the same ValueError.)"""
    x, y_reg, y_cls, _ = data()
    k, m = twins()
    k.compile(optimizer="sgd", loss=["mse", "mse", "mse"])
    with pytest.raises(KeyError, match="can't be found"):
        k.fit(x, [y_reg, y_cls], verbose=0)
    for losses in (["mse", "mse", "mse"], ["mse"]):
        m.compile(optimizer="sgd", loss=losses)
        with pytest.raises(ValueError, match=r"one entry per output of the model \['reg', "):
            m.fit(x, [y_reg, y_cls], verbose=0)


@pytest.mark.parametrize("direction", ["keras_to_minikeras", "minikeras_to_keras"])
def test_keras_file_with_compile_config_both_ways(direction, tmp_path):
    x, y_reg, y_cls, _ = data()
    k, m = twins()
    compile_kwargs = dict(loss={"reg": "mse", "cls": "categorical_crossentropy"},
                          loss_weights=[0.5, 2.0], metrics=[["mae"], ["accuracy"]],
                          weighted_metrics={"cls": ["accuracy"]})
    for model, lib in ((k, keras), (m, mk)):
        model.compile(optimizer=lib.optimizers.Adam(0.01), **compile_kwargs)
        model.fit(x, [y_reg, y_cls], batch_size=16, epochs=1, shuffle=False, verbose=0)
    saver, loader = (keras, mk) if direction == "keras_to_minikeras" else (mk, keras)
    source = k if saver is keras else m
    path = str(tmp_path / "two_heads.keras")
    source.save(path)
    loaded = loader.saving.load_model(path)
    assert _compile_args(loaded) == _compile_args(source) == _compile_args(k) == {
        **compile_kwargs, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}
    args = dict(batch_size=16, epochs=2, shuffle=False, verbose=0)
    theirs = source.fit(x, [y_reg, y_cls], **args).history
    ours = loaded.fit(x, [y_reg, y_cls], **args).history
    assert_logs_close(theirs, ours)
    assert_weights_close(source, loaded, ADAM_ATOL)


def _compile_args(model):
    """The compile config without the optimizer (whose config holds its learning rate as a
    saved variable in one library and a float in the other)."""
    return {key: value for key, value in model.get_compile_config().items()
            if key != "optimizer"}


@pytest.mark.parametrize("loss_weights", [{"reg": 0.0, "cls": 1.0}, {"a": 2.0, "b": 0.5},
                                          [0.0, 1.0]])
def test_loss_weights_dict_with_a_list_of_losses(loss_weights):
    """Keras 3.15 reads a ``loss_weights`` dict given with a list of losses in sorted key
    order, by position: {"reg": 0, "cls": 1} weighs ``reg`` by 1 and ``cls`` by 0."""
    x, y_reg, y_cls, _ = data()
    k, m = twins()
    logs = []
    for model in (k, m):
        model.compile(optimizer="sgd", loss=["mse", "categorical_crossentropy"],
                      loss_weights=loss_weights)
        logs.append(model.evaluate(x, [y_reg, y_cls], batch_size=16, verbose=0,
                                   return_dict=True))
    assert_logs_close(*logs)


class _Batches:
    """The 50 samples as a PyDataset of four batches (the last one partial), with per-output
    sample weights; made for either library."""

    def __new__(cls, lib, x, y_reg, y_cls, w):
        class Batches(lib.utils.PyDataset):
            def __len__(self):
                return 4

            def __getitem__(self, index):
                part = slice(16 * index, 16 * index + 16)
                return x[part], (y_reg[part], y_cls[part]), (w[part], w[part][::-1].copy())

        return Batches()


def _generator(x, y_reg, y_cls):
    for start in range(0, N, 16):
        part = slice(start, start + 16)
        yield x[part], (y_reg[part], y_cls[part])  # tuples: Keras reads lists as tensors


def test_py_dataset_generator_and_validation_data():
    """A PyDataset with per-output sample weights and ``validation_data`` with y as a dict:
    History and weights as Keras's. Then a generator: the same, except ``<output>_loss``, which
    Keras 3.15 divides by one batch more than the generator gave (its tracker counts an extra,
    empty step at the end of the data); minikeras divides by the number of batches."""
    x, y_reg, y_cls, w = data()
    k, m = twins()
    histories = []
    for model, lib in ((k, keras), (m, mk)):
        model.compile(optimizer="sgd", loss=["mse", "categorical_crossentropy"],
                      weighted_metrics=[["mae"], ["accuracy"]])
        histories.append(model.fit(_Batches(lib, x, y_reg, y_cls, w), epochs=2, verbose=0,
                                   shuffle=False,
                                   validation_data=(x[:20], {"reg": y_reg[:20],
                                                             "cls": y_cls[:20]})).history)
    assert_logs_close(*histories)
    assert_weights_close(k, m, SGD_ATOL)
    histories = [model.fit(_generator(x, y_reg, y_cls), verbose=0).history for model in (k, m)]
    for history in histories:
        del history["reg_loss"], history["cls_loss"]
    assert_logs_close(*histories)
    assert_weights_close(k, m, SGD_ATOL)


def build_dict_outputs(lib):
    """The same two heads returned as a dict whose keys neither sort in output order nor are
    the layer names: logs use the keys, lists follow the sorted keys."""
    inputs = lib.Input((D,), name="x")
    hidden = lib.layers.Dense(6, activation="tanh", name="hidden")(inputs)
    return lib.Model(inputs, {"zz": lib.layers.Dense(1, name="reg")(hidden),
                              "aa": lib.layers.Dense(C, activation="softmax", name="cls")(hidden)})


DICT_OUTPUT_COMPILES = {
    "loss_dict": dict(loss={"zz": "mse", "aa": "categorical_crossentropy"}),
    "loss_dict_other_order": dict(loss={"aa": "categorical_crossentropy", "zz": "mse"},
                                  loss_weights={"zz": 2.0, "aa": 0.5}),
    "partial_loss_dict": dict(loss={"zz": "mse"}, metrics={"aa": "accuracy"}),
    "loss_list": dict(loss=["categorical_crossentropy", "mse"], loss_weights=[2.0, 0.5],
                      metrics=["accuracy", "mae"]),
    "loss_list_weights_dict": dict(loss=["categorical_crossentropy", "mse"],
                                   loss_weights={"zz": 2.0, "aa": 0.5}),
    "one_loss": dict(loss="mse", metrics={"zz": ["mse", "mae"], "aa": "accuracy"},
                     weighted_metrics={"zz": "mae"}),
}


@pytest.mark.parametrize("compile_name", sorted(DICT_OUTPUT_COMPILES))
@pytest.mark.parametrize("targets", ["dict", "list", "weighted"])
def test_dict_outputs(compile_name, targets):
    x, y_reg, y_cls, w = data()
    y = [y_cls, y_reg] if targets == "list" else {"zz": y_reg, "aa": y_cls}  # list: sorted keys
    sample_weight = {"zz": w, "aa": w[::-1].copy()} if targets == "weighted" else None
    k, m = build_dict_outputs(keras), build_dict_outputs(mk)
    m.set_weights(k.get_weights())
    results = []
    for model in (k, m):
        model.compile(optimizer="sgd", **DICT_OUTPUT_COMPILES[compile_name])
        history = model.fit(x, y, sample_weight=sample_weight, batch_size=16, epochs=2,
                            shuffle=False, verbose=0)
        results.append((history.history, model.metrics_names,
                        model.evaluate(x, y, sample_weight=sample_weight, verbose=0),
                        model.evaluate(x, y, sample_weight=sample_weight, verbose=0,
                                       return_dict=True)))
    (k_history, k_names, k_list, k_dict), (m_history, m_names, m_list, m_dict) = results
    assert_logs_close(k_history, m_history)
    assert m_names == k_names
    assert np.shape(m_list) == np.shape(k_list)
    np.testing.assert_allclose(m_list, k_list, rtol=1e-5, atol=1e-6)
    assert_logs_close(k_dict, m_dict)
    assert_weights_close(k, m, SGD_ATOL)


def test_legacy_h5_training_config(tmp_path):
    """The legacy ``.h5`` file: the same ``training_config`` as Keras writes, and minikeras
    loads Keras's file compiled as it was. (Keras 3.15 cannot load this file back itself: it
    fails to deserialize the per-output ``metrics``, "Could not deserialize
    'keras.metrics.mse'", whichever library wrote it.)"""
    import warnings

    import h5py

    x, y_reg, y_cls, _ = data()
    k, m = twins()
    for model, lib in ((k, keras), (m, mk)):
        model.compile(optimizer=lib.optimizers.SGD(0.01),
                      loss={"reg": "mse", "cls": "categorical_crossentropy"},
                      loss_weights=[0.5, 2.0], metrics=[["mae"], ["accuracy"]])
        model.fit(x, [y_reg, y_cls], batch_size=16, epochs=1, shuffle=False, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy .h5 warning
        k.save(tmp_path / "k.h5")
        m.save(tmp_path / "m.h5")
    configs = [h5py.File(tmp_path / name, "r").attrs["training_config"]
               for name in ("k.h5", "m.h5")]
    assert configs[1] == configs[0]
    loaded = mk.saving.load_model(tmp_path / "k.h5")
    assert_logs_close(k.evaluate(x, [y_reg, y_cls], verbose=0, return_dict=True),
                      loaded.evaluate(x, [y_reg, y_cls], verbose=0, return_dict=True))
