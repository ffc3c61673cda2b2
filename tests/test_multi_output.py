"""Functional models with several outputs: compile, fit, evaluate, the *_on_batch methods.

The numbers are checked by hand here (NumPy only): the total loss is Σ loss_weight_i · loss_i
plus regularization, each ``<output>_loss`` is that output's unweighted loss, and each metric is
computed on its own output. compat_tests/test_multi_output_parity.py checks everything against
Keras.
"""

import numpy as np
import pytest

import minikeras
from minikeras import layers


@pytest.fixture(autouse=True)
def _fresh_session():
    minikeras.backend.clear_session()
    yield


N = 20


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, 3)).astype("float32")
    y_reg = rng.normal(size=(N, 1)).astype("float32")
    y_cls = np.eye(2, dtype="float32")[rng.integers(0, 2, size=N)]
    return x, y_reg, y_cls


def _model(l2=0.0):
    x = minikeras.Input((3,), name="x")
    h = layers.Dense(4, activation="tanh", name="h",
                     kernel_regularizer=minikeras.regularizers.L2(l2) if l2 else None)(x)
    return minikeras.Model(x, [layers.Dense(1, name="reg")(h),
                               layers.Dense(2, activation="softmax", name="cls")(h)])


def _by_hand(model, x, y_reg, y_cls):
    """The unweighted per-output losses on one batch, from ``predict``."""
    p_reg, p_cls = model.predict(x, verbose=0)
    mse = float(np.mean((p_reg - y_reg) ** 2))
    cce = float(np.mean(-np.sum(y_cls * np.log(np.clip(p_cls, 1e-7, 1 - 1e-7)), axis=-1)))
    return mse, cce, p_reg, p_cls


@pytest.mark.parametrize("loss,loss_weights", [
    (["mse", "categorical_crossentropy"], [0.5, 2.0]),
    ({"reg": "mse", "cls": "categorical_crossentropy"}, {"cls": 2.0, "reg": 0.5}),
    ({"cls": "categorical_crossentropy", "reg": "mse"}, [0.5, 2.0]),
])
def test_total_loss_is_the_weighted_sum_plus_regularization(loss, loss_weights):
    x, y_reg, y_cls = _data()
    model = _model(l2=0.1)
    model.compile("sgd", loss=loss, loss_weights=loss_weights)
    logs = model.evaluate(x, [y_reg, y_cls], batch_size=N, verbose=0, return_dict=True)
    mse, cce, _, _ = _by_hand(model, x, y_reg, y_cls)
    penalty = 0.1 * float(np.sum(model.get_layer("h").kernel.numpy() ** 2))
    assert list(logs) == ["cls_loss", "loss", "reg_loss"]
    np.testing.assert_allclose(logs["reg_loss"], mse, rtol=1e-5)
    np.testing.assert_allclose(logs["cls_loss"], cce, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], 0.5 * mse + 2.0 * cce + penalty, rtol=1e-5)


def test_one_loss_for_every_output_and_y_as_a_dict():
    x, y_reg, y_cls = _data()
    model = _model()
    model.compile("sgd", loss="mse")
    as_list = model.evaluate(x, [y_reg, y_cls], batch_size=N, verbose=0)
    as_dict = model.evaluate(x, {"cls": y_cls, "reg": y_reg}, batch_size=N, verbose=0)
    p_reg, p_cls = model.predict(x, verbose=0)
    mse_reg, mse_cls = np.mean((p_reg - y_reg) ** 2), np.mean((p_cls - y_cls) ** 2)
    np.testing.assert_allclose(as_list, [mse_reg + mse_cls, mse_reg, mse_cls], rtol=1e-5)
    assert as_dict == as_list
    assert model.metrics_names == ["loss", "reg_loss", "cls_loss"]


def test_metrics_per_output_names_and_evaluate_order():
    """evaluate: loss, the per-output losses in output order, then the metrics sorted by name;
    "accuracy" is resolved per output (binary for reg's one unit, categorical for cls)."""
    x, y_reg, y_cls = _data()
    model = _model()
    model.compile("sgd", loss=["mse", "categorical_crossentropy"],
                  metrics={"reg": ["mse", "mae"], "cls": "accuracy"},
                  weighted_metrics=[["mae"], None])
    assert model.metrics_names == ["loss", "compile_metrics"]
    logs = model.evaluate(x, [y_reg, y_cls], batch_size=8, verbose=0, return_dict=True)
    assert list(logs) == ["cls_accuracy", "cls_loss", "loss", "reg_loss", "reg_mae", "reg_mse",
                          "reg_weighted_mae"]
    values = model.evaluate(x, [y_reg, y_cls], batch_size=8, verbose=0)
    assert values == [logs[k] for k in ("loss", "reg_loss", "cls_loss", "cls_accuracy",
                                        "reg_mae", "reg_mse", "reg_weighted_mae")]
    assert model.metrics_names == ["loss", "compile_metrics", "reg_loss", "cls_loss"]
    kinds = {type(m).__name__ for m in model._compile_metrics.metrics}
    assert "CategoricalAccuracy" in kinds
    _, _, p_reg, p_cls = _by_hand(model, x, y_reg, y_cls)
    np.testing.assert_allclose(logs["reg_mae"], np.mean(np.abs(p_reg - y_reg)), rtol=1e-5)
    np.testing.assert_allclose(logs["cls_accuracy"], np.mean(
        p_cls.argmax(-1) == y_cls.argmax(-1)), rtol=1e-6)


def test_a_flat_metrics_list_is_one_entry_per_output():
    x, y_reg, y_cls = _data()
    model = _model()
    model.compile("sgd", loss="mse", metrics=["mae", "accuracy"])
    logs = model.evaluate(x, [y_reg, y_cls], verbose=0, return_dict=True)
    assert sorted(logs) == ["cls_accuracy", "cls_loss", "loss", "reg_loss", "reg_mae"]


def test_an_output_without_loss_is_skipped_and_no_per_output_losses_are_logged():
    x, y_reg, y_cls = _data()
    model = _model()
    model.compile("sgd", loss=[None, "categorical_crossentropy"], metrics=[["mae"], None])
    history = model.fit(x, [y_reg, y_cls], epochs=2, verbose=0)
    assert list(history.history) == ["loss", "reg_mae"]
    assert model.metrics_names == ["loss", "compile_metrics"]


def test_per_output_loss_logs_are_the_mean_of_the_batch_losses():
    """Keras 3.15's quirk: ``<output>_loss`` counts each batch once (its fit sees batches of
    unknown size), while ``loss`` weights each batch by its size."""
    x, y_reg, y_cls = _data()
    model = _model()
    model.compile("sgd", loss=["mse", "categorical_crossentropy"])
    logs = model.evaluate(x, [y_reg, y_cls], batch_size=16, verbose=0, return_dict=True)
    first = _by_hand(model, x[:16], y_reg[:16], y_cls[:16])
    last = _by_hand(model, x[16:], y_reg[16:], y_cls[16:])
    np.testing.assert_allclose(logs["reg_loss"], (first[0] + last[0]) / 2, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], (16 * (first[0] + first[1]) + 4 * (
        last[0] + last[1])) / 20, rtol=1e-5)


def test_sample_weights_one_for_all_or_one_per_output():
    x, y_reg, y_cls = _data()
    w = np.linspace(0.1, 2.0, N).astype("float32")
    model = _model()
    model.compile("sgd", loss=["mse", "categorical_crossentropy"])
    shared = model.evaluate(x, [y_reg, y_cls], sample_weight=w, batch_size=N, verbose=0)
    as_list = model.evaluate(x, [y_reg, y_cls], sample_weight=[w, w], batch_size=N, verbose=0)
    as_dict = model.evaluate(x, [y_reg, y_cls], sample_weight={"reg": w, "cls": w},
                             batch_size=N, verbose=0)
    assert shared == as_list == as_dict
    p_reg, _ = model.predict(x, verbose=0)
    np.testing.assert_allclose(shared[1], np.sum(w * (p_reg - y_reg)[:, 0] ** 2) / N,
                               rtol=1e-5)
    only_reg = model.evaluate(x, [y_reg, y_cls], sample_weight=[w, np.zeros(N)],
                              batch_size=N, verbose=0)
    assert only_reg[2] == 0.0 and only_reg[1] == pytest.approx(shared[1])


def test_fit_trains_both_heads_and_the_on_batch_methods():
    x, y_reg, y_cls = _data()
    model = _model()
    model.compile(minikeras.optimizers.SGD(0.1), loss=["mse", "categorical_crossentropy"],
                  metrics=[[], ["accuracy"]])
    before = model.evaluate(x, [y_reg, y_cls], verbose=0)
    history = model.fit(x, [y_reg, y_cls], batch_size=8, epochs=5, verbose=0,
                        validation_split=0.25)
    assert list(history.history) == ["cls_accuracy", "cls_loss", "loss", "reg_loss",
                                     "val_cls_accuracy", "val_cls_loss", "val_loss",
                                     "val_reg_loss"]
    assert model.evaluate(x, [y_reg, y_cls], verbose=0)[0] < before[0]
    on_batch = model.test_on_batch(x, [y_reg, y_cls])
    np.testing.assert_allclose(on_batch, model.evaluate(x, [y_reg, y_cls], batch_size=N,
                                                        verbose=0), rtol=1e-6)
    logs = model.train_on_batch(x, {"reg": y_reg, "cls": y_cls}, return_dict=True)
    assert list(logs) == ["cls_accuracy", "cls_loss", "loss", "reg_loss"]


@pytest.mark.parametrize("compile_kwargs,targets,message", [
    (dict(loss=["mse", "mse", "mse"]), None, r"one entry per output of the model \['reg', "),
    (dict(loss=["mse"]), None, "one entry per output"),
    (dict(loss={"reg": "mse", "other": "mse"}), None, r"Expected keys \['reg', 'cls'\]"),
    (dict(loss={"reg": "mse"}), None, r"Expected keys \['reg', 'cls'\] in loss dict"),
    (dict(loss="mse", loss_weights=[1.0, 2.0]), None, "got 1 losses and 2 weights"),
    (dict(loss=["mse", "mse"], loss_weights=[1.0]), None, "got 2 losses and 1 weights"),
    (dict(loss={"reg": "mse", "cls": "mse"}, loss_weights={"reg": 1.0}), None,
     r"no weight for the output\(s\) \['cls'\]"),
    (dict(loss="mse", metrics=["mae"]), None, "Invalid `metrics`"),
    (dict(loss="mse", weighted_metrics={"other": "mae"}), None, "Invalid `weighted_metrics`"),
    (dict(loss="mse"), "single", r"y_true: \*\ny_pred: \['\*', '\*'\]"),
    (dict(loss="mse"), "three", r"y_true: \('\*', '\*', '\*'\)"),
    (dict(loss="mse"), "bad_dict", r"y_true is a dict with keys \['reg', 'oops'\]"),
])
def test_mismatches_raise_like_keras(compile_kwargs, targets, message):
    x, y_reg, y_cls = _data()
    y = {"single": y_reg, "three": [y_reg, y_cls, y_cls], "bad_dict": {"reg": y_reg,
                                                                        "oops": y_cls},
         None: [y_reg, y_cls]}[targets]
    model = _model()
    model.compile("sgd", **compile_kwargs)
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, verbose=0)


def test_loss_weights_of_the_wrong_type_and_class_weight():
    x, y_reg, y_cls = _data()
    model = _model()
    with pytest.raises(ValueError, match="Expected `loss_weights` argument"):
        model.compile("sgd", loss="mse", loss_weights="heavy")
    model.compile("sgd", loss="mse")
    with pytest.raises(ValueError, match="only supported for Models with a single output"):
        model.fit(x, [y_reg, y_cls], class_weight={0: 1.0, 1: 2.0}, verbose=0)
    with pytest.raises(ValueError, match="only supported for Models with a single output"):
        model.train_on_batch(x, [y_reg, y_cls], class_weight={0: 1.0})


def test_dict_outputs_are_named_by_their_keys_and_listed_sorted():
    """``keras.Model(x, {"zz": ..., "aa": ...})``: logs use the keys; a list of losses or
    targets follows the sorted keys (aa, zz); a loss dict may leave an output out."""
    x, y_reg, y_cls = _data()
    inputs = minikeras.Input((3,))
    model = minikeras.Model(inputs, {"zz": layers.Dense(1, name="reg")(inputs),
                                     "aa": layers.Dense(2, activation="softmax")(inputs)})
    model.compile("sgd", loss=["categorical_crossentropy", "mse"], metrics={"zz": "mae"})
    as_dict = model.evaluate(x, {"zz": y_reg, "aa": y_cls}, verbose=0, return_dict=True)
    as_list = model.evaluate(x, [y_cls, y_reg], verbose=0, return_dict=True)
    assert as_dict == as_list and list(as_dict) == ["aa_loss", "loss", "zz_loss", "zz_mae"]
    assert model.metrics_names == ["loss", "compile_metrics", "zz_loss", "aa_loss"]
    p = model.predict(x, verbose=0)
    np.testing.assert_allclose(as_dict["zz_loss"], np.mean((p["zz"] - y_reg) ** 2), rtol=1e-5)
    model.compile("sgd", loss={"zz": "mse"})
    assert list(model.fit(x, {"zz": y_reg, "aa": y_cls}, verbose=0).history) == ["loss"]
    model.compile("sgd", loss={"zz": "mse", "other": "mse"})
    with pytest.raises(ValueError, match=r"The path: \('other',\) in the `loss` argument"):
        model.fit(x, {"zz": y_reg, "aa": y_cls}, verbose=0)


def test_nested_outputs_predict_but_do_not_train_yet():
    x, y_reg, y_cls = _data()
    inputs = minikeras.Input((3,))
    model = minikeras.Model(inputs, [layers.Dense(1)(inputs),
                                     [layers.Dense(2)(inputs), layers.Dense(2)(inputs)]])
    assert len(model.predict(x, verbose=0)) == 2
    model.compile("sgd", "mse")
    for run in (lambda: model.fit(x, [y_reg, [y_cls, y_cls]], verbose=0),
                lambda: model.train_on_batch(x, [y_reg, [y_cls, y_cls]])):
        with pytest.raises(NotImplementedError, match="not nested here"):
            run()


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_compile_config_round_trips_through_files(suffix, tmp_path):
    x, y_reg, y_cls = _data()
    model = _model()
    model.compile("adam", loss={"reg": "mse", "cls": "categorical_crossentropy"},
                  loss_weights=[0.5, 2.0], metrics=[["mae"], ["accuracy"]],
                  weighted_metrics={"cls": ["accuracy"]})
    model.fit(x, [y_reg, y_cls], epochs=1, verbose=0)
    path = str(tmp_path / f"two_heads{suffix}")
    model.save(path)
    loaded = minikeras.saving.load_model(path)
    for key in ("loss", "loss_weights", "metrics", "weighted_metrics"):
        assert loaded.get_compile_config()[key] == model.get_compile_config()[key]
    assert loaded.evaluate(x, [y_reg, y_cls], return_dict=True, verbose=0) == (
        model.evaluate(x, [y_reg, y_cls], return_dict=True, verbose=0))


def test_single_output_models_are_unchanged():
    x, y_reg, _ = _data()
    inputs = minikeras.Input((3,))
    model = minikeras.Model(inputs, [layers.Dense(1)(inputs)])  # a list of one: one output
    model.compile("sgd", loss="mse", metrics=["mae"])
    assert not model._multi_output
    history = model.fit(x, y_reg, verbose=0)
    assert list(history.history) == ["loss", "mae"]
    assert model.metrics_names == ["loss", "compile_metrics"]
