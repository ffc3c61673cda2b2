"""The public names of Keras's smaller namespaces exist in minikeras, and the lowercase aliases
(``regularizers.l2``, ``initializers.he_normal``, ``constraints.max_norm``...) are the same
classes under the same configs as in Keras."""

import keras
import numpy as np
import pytest

import minikeras

COMPLETE = ["activations", "regularizers", "constraints", "initializers", "optimizers.schedules",
            "metrics", "losses", "random", "config", "tree", "mixed_precision"]
NOT_IN_MINIKERAS = {}  # deliberately left out, each with its reason (nothing now)


def _module(root, dotted):
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


def _public(module):
    return {name for name in dir(module) if not name.startswith("_")}


@pytest.mark.parametrize("namespace", COMPLETE)
def test_every_keras_name_exists(namespace):
    missing = (_public(_module(keras, namespace)) - _public(_module(minikeras, namespace))
               - NOT_IN_MINIKERAS.get(namespace, set()))
    assert not missing, f"keras.{namespace} names missing from minikeras: {sorted(missing)}"


ALIASES = [
    ("regularizers", "l1", (0.02,)), ("regularizers", "l2", (0.01,)),
    ("regularizers", "l1_l2", (0.01, 0.02)), ("regularizers", "orthogonal_regularizer", (0.1,)),
    ("constraints", "max_norm", (2.0,)), ("constraints", "min_max_norm", (0.5, 2.0)),
    ("constraints", "non_neg", ()), ("constraints", "unit_norm", ()),
    ("initializers", "constant", (0.5,)), ("initializers", "zeros", ()),
    ("initializers", "ones", ()), ("initializers", "identity", ()),
    ("initializers", "glorot_uniform", (1,)), ("initializers", "glorot_normal", (1,)),
    ("initializers", "he_normal", (1,)), ("initializers", "he_uniform", (1,)),
    ("initializers", "lecun_normal", (1,)), ("initializers", "lecun_uniform", (1,)),
    ("initializers", "random_normal", (0.0, 0.5, 1)),
    ("initializers", "random_uniform", (-1.0, 1.0, 1)),
    ("initializers", "truncated_normal", (0.0, 0.5, 1)),
    ("initializers", "variance_scaling", (2.0,)), ("initializers", "orthogonal", (1.0, 1)),
]


@pytest.mark.parametrize("namespace, name, args", ALIASES, ids=lambda v: str(v))
def test_lowercase_alias_is_the_keras_class(namespace, name, args):
    ours = getattr(_module(minikeras, namespace), name)(*args)
    theirs = getattr(_module(keras, namespace), name)(*args)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.get_config() == theirs.get_config()


def test_tutorial_l2_regularizer_trains_like_keras():
    """The classic overfitting fix, written as tutorials write it."""
    layers = [minikeras.layers.Dense(4, kernel_regularizer=minikeras.regularizers.l2(0.01))]
    model = minikeras.Sequential([minikeras.Input((3,)), *layers])
    reference = keras.Sequential([keras.Input((3,)), keras.layers.Dense(
        4, kernel_regularizer=keras.regularizers.l2(0.01))])
    model.set_weights(reference.get_weights())
    assert float(sum(model.losses)) == pytest.approx(float(sum(reference.losses)), rel=1e-6)


LAYER_MAKERS = {
    "dense": lambda k: k.layers.Dense(3, activation="relu", kernel_regularizer="l2", name="d"),
    "conv2d": lambda k: k.layers.Conv2D(2, 3, padding="same", name="c"),
    "lstm": lambda k: k.layers.LSTM(4, return_sequences=True, name="l"),
    "dropout": lambda k: k.layers.Dropout(0.3, name="drop"),
}


@pytest.mark.parametrize("kind", list(LAYER_MAKERS))
def test_layers_serialize_and_deserialize_both_ways(kind):
    ours, theirs = LAYER_MAKERS[kind](minikeras), LAYER_MAKERS[kind](keras)
    assert minikeras.layers.serialize(ours) == keras.layers.serialize(theirs)
    from_keras = minikeras.layers.deserialize(keras.layers.serialize(theirs))
    from_ours = keras.layers.deserialize(minikeras.layers.serialize(ours))
    assert type(from_keras).__name__ == type(from_ours).__name__ == type(ours).__name__
    assert from_keras.get_config() == from_ours.get_config()


def test_layers_deserialize_refuses_what_is_not_a_layer():
    config = minikeras.optimizers.serialize(minikeras.optimizers.SGD())
    with pytest.raises(ValueError, match="not a `keras.layers.Layer`"):
        minikeras.layers.deserialize(config)
    with pytest.raises(ValueError, match="not a `keras.layers.Layer`"):
        keras.layers.deserialize(keras.optimizers.serialize(keras.optimizers.SGD()))


def test_mixed_precision_policies_act_as_keras_s():
    """``keras.mixed_precision``'s older names: the global policy makes new layers' weights in
    its dtype in both libraries; "mixed_float16", which Keras runs, minikeras refuses clearly."""
    try:
        for lib in (keras, minikeras):
            lib.mixed_precision.set_global_policy("float64")
        assert minikeras.mixed_precision.global_policy().name == (
            keras.mixed_precision.global_policy().name) == "float64"
        kernels = [lib.layers.Dense(2).add_weight(shape=(1,)) for lib in (keras, minikeras)]
        assert [str(np.asarray(k).dtype) for k in kernels] == ["float64", "float64"]
        assert minikeras.mixed_precision.Policy("float16").compute_dtype == (
            keras.mixed_precision.Policy("float16").compute_dtype)
        keras.mixed_precision.Policy("mixed_float16")
        with pytest.raises(ValueError, match="mixed precision"):
            minikeras.mixed_precision.Policy("mixed_float16")
    finally:
        for lib in (keras, minikeras):
            lib.mixed_precision.set_global_policy("float32")
    assert minikeras.mixed_precision.LossScaleOptimizer is minikeras.optimizers.LossScaleOptimizer
