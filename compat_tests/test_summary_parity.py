"""``model.summary()`` prints the same text as Keras's, character for character.

Keras renders the table with ``rich``: its width is ``min(88, terminal columns - 4)`` unless
``line_length`` is given, and the console itself is as wide as the terminal (``COLUMNS``), so
each test pins ``COLUMNS``. Output goes to stdout (captured, so no colours) or to ``print_fn``.
"""

import keras
import numpy as np
import pytest

import minikeras


def _seed_network(lib):
    """The seed's 2-3-1 network."""
    return lib.Sequential([lib.Input((2,)), lib.layers.Dense(3, activation="sigmoid"),
                           lib.layers.Dense(1, activation="sigmoid")])


def _deep_mlp(lib):
    return lib.Sequential([lib.Input((784,)), lib.layers.Dense(512, activation="relu"),
                           lib.layers.Dense(256, activation="relu"),
                           lib.layers.Dense(128, activation="relu"),
                           lib.layers.Dense(10, activation="softmax")])


def _mixed(lib):
    return lib.Sequential([lib.Input((4, 5)), lib.layers.Dense(8), lib.layers.Flatten(),
                           lib.layers.Dropout(0.2), lib.layers.Activation("relu"),
                           lib.layers.Dense(3, use_bias=False)], name="mixed_model")


def _unbuilt(lib):
    return lib.Sequential([lib.layers.Dense(3), lib.layers.Dropout(0.5), lib.layers.Dense(1)])


def _built_by_call(lib):
    model = lib.Sequential([lib.layers.Dense(4, activation="tanh"), lib.layers.Dense(2)])
    model(np.ones((3, 6), dtype="float32"))
    return model


def _input_shape_idiom(lib):
    return lib.Sequential([lib.layers.Dense(16, input_shape=(12,), name="hidden"),
                           lib.layers.Dense(1, name="out")])


def _frozen(lib):
    model = _seed_network(lib)
    model.layers[0].trainable = False
    return model


def _rank_3(lib):
    return lib.Sequential([lib.Input((7, 3)), lib.layers.Dense(5), lib.layers.Dense(2)])


def _long_names(lib):
    return lib.Sequential([lib.Input((3,)),
                           lib.layers.Dense(2, name="a_rather_long_layer_name_that_needs_room"),
                           lib.layers.Dense(1, name="x" * 60)])


def _nested(lib):
    """A model as a layer (transfer learning): frozen base first, and a head on it."""
    base = lib.Sequential([lib.Input((5,)), lib.layers.Dense(4, activation="relu")], name="base")
    base.trainable = False
    return lib.Sequential([base, lib.layers.Dense(2)])


def _feature_extractor(lib):
    """``keras.Model(model.inputs, [layer.output ...])``: its automatic name counts the graphs
    the Sequentials made before it, as in Keras."""
    model = lib.Sequential([lib.Input((3,)), lib.Sequential([lib.layers.Dense(4)]),
                            lib.layers.Dense(1)])
    return lib.Model(model.inputs, [layer.output for layer in model.layers])


def _built_by(method, samples):
    """A Sequential without an Input, built by its first ``method`` call on ``samples`` rows in
    batches of 8. Keras builds for the batch size when every batch has it (16 rows in fit and
    evaluate) and for None when the last batch is smaller (20 rows); predict builds for its
    first batch, ``train_on_batch`` for the whole batch: ``summary()`` shows that size."""

    def make(lib):
        model = lib.Sequential([lib.layers.Dense(3, activation="relu"), lib.layers.Dense(2)])
        model.compile(optimizer="sgd", loss="mse")
        x, y = np.ones((samples, 4), "float32"), np.zeros((samples, 2), "float32")
        if method == "fit":
            model.fit(x, y, batch_size=8, verbose=0)
        elif method == "evaluate":
            model.evaluate(x, y, batch_size=8, verbose=0)
        elif method == "predict":
            model.predict(x, batch_size=8, verbose=0)
        else:
            model.train_on_batch(x, y)
        return model

    return make


BUILT_BY_DATA = {f"built_by_{method}_{samples}": _built_by(method, samples)
                 for method in ("fit", "evaluate", "predict", "train_on_batch")
                 for samples in (16, 20)}

MODELS = {**BUILT_BY_DATA, "seed_2_3_1": _seed_network, "deep_mlp": _deep_mlp, "mixed": _mixed,
          "unbuilt": _unbuilt, "built_by_call": _built_by_call,
          "input_shape_idiom": _input_shape_idiom, "frozen": _frozen, "rank_3": _rank_3,
          "long_names": _long_names, "nested": _nested, "feature_extractor": _feature_extractor}


def _summaries(make, capsys, **kwargs):
    """(Keras's text, minikeras's text) for the same model, printed to stdout."""
    texts = []
    for lib in (keras, minikeras):
        lib.backend.clear_session()
        make(lib).summary(**kwargs)
        texts.append(capsys.readouterr().out)
    return texts


def _assert_same(keras_text, minikeras_text):
    assert minikeras_text == keras_text, (
        f"\n--- keras ---\n{keras_text}\n--- minikeras ---\n{minikeras_text}")


@pytest.mark.parametrize("columns", ["80", "200"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_summary_text(name, columns, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", columns)
    keras_text, minikeras_text = _summaries(MODELS[name], capsys)
    _assert_same(keras_text, minikeras_text)


@pytest.mark.parametrize("columns", ["80", "200"])
@pytest.mark.parametrize("kwargs", [dict(line_length=100), dict(line_length=60),
                                    dict(positions=[0.3, 0.6, 1.0]),
                                    dict(line_length=100, positions=[0.5, 0.7, 1.0]),
                                    dict(show_trainable=True)], ids=str)
def test_summary_layout_options(kwargs, columns, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", columns)
    for make in (_seed_network, _frozen):
        _assert_same(*_summaries(make, capsys, **kwargs))


@pytest.mark.parametrize("name", ["seed_2_3_1", "mixed", "unbuilt"])
def test_summary_print_fn(name, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    calls = {}
    for lib in (keras, minikeras):
        lib.backend.clear_session()
        received = []
        MODELS[name](lib).summary(print_fn=received.append)
        calls[lib.__name__] = received
    assert len(calls["minikeras"]) == len(calls["keras"])
    for ours, theirs in zip(calls["minikeras"], calls["keras"], strict=True):
        _assert_same(theirs, ours)


def test_summary_too_narrow_is_an_error(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    for lib in (keras, minikeras):
        with pytest.raises(ValueError, match="Insufficient console width"):
            _seed_network(lib).summary(line_length=8)
