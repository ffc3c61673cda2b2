"""Shared builders for parity tests: one architecture spec, the same model in both libraries.

A spec is plain data (so a failing test can print it)::

    {"input_shape": (3, 4), "batch": 5,
     "layers": [{"kind": "dense", "units": 6, "activation": "tanh", "use_bias": True,
                 "kernel_regularizer": ("L2", {"l2": 0.05}), ...},
                {"kind": "dropout", "rate": 0.3}, {"kind": "activation", "activation": "relu"},
                {"kind": "flatten"}]}

``build(lib, spec)`` builds it with ``lib`` = ``keras`` or ``minikeras`` (their APIs are the same);
``twins(spec)`` builds both and copies Keras's weights into minikeras with ``set_weights``.
"""

import keras

import minikeras

# Every activation that works as a Dense ``activation=`` string in both libraries. Left out:
# "threshold" (needs two more arguments), "glu" (halves the last axis, so a Dense's output shape
# is no longer ``units``), "sparsemax" (Keras 3.15's is broken: see test_ops_parity.py).
ACTIVATIONS = sorted((set(minikeras.activations._ACTIVATIONS)
                      | set(minikeras.activations._ALIASES)) - {"threshold", "glu", "sparsemax"})
REGULARIZERS = [None, ("L1", {"l1": 0.05}), ("L2", {"l2": 0.1}), ("L1L2", {"l1": 0.02, "l2": 0.03})]


def random_spec(rng):
    """Depth 1-4 Dense layers of width 1-16, any activation, optional bias and regularizers, rank-2
    or rank-3 inputs, with Dropout, Activation and Flatten layers sprinkled in."""
    rank3 = rng.random() < 0.4
    input_shape = (int(rng.integers(1, 5)),) * rank3 + (int(rng.integers(1, 9)),)
    layers, flat = [], not rank3
    for _ in range(int(rng.integers(1, 5))):
        layers.append({
            "kind": "dense", "units": int(rng.integers(1, 17)),
            "activation": str(rng.choice(ACTIVATIONS)), "use_bias": bool(rng.random() < 0.75),
            **{key: REGULARIZERS[int(rng.integers(len(REGULARIZERS)))] if rng.random() < 0.3
               else None for key in ("kernel_regularizer", "bias_regularizer",
                                     "activity_regularizer")}})
        if rng.random() < 0.25:
            layers.append({"kind": "dropout", "rate": float(rng.choice([0.1, 0.5, 0.9]))})
        if rng.random() < 0.25:
            layers.append({"kind": "activation", "activation": str(rng.choice(ACTIVATIONS))})
        if not flat and rng.random() < 0.4:
            layers.append({"kind": "flatten"})
            flat = True
    return {"input_shape": input_shape, "batch": int(rng.integers(1, 7)), "layers": layers}


def _regularizer(lib, spec):
    return None if spec is None else getattr(lib.regularizers, spec[0])(**spec[1])


def build_layer(lib, spec):
    kind = spec["kind"]
    if kind == "dense":
        return lib.layers.Dense(
            spec["units"], activation=spec["activation"], use_bias=spec["use_bias"],
            kernel_regularizer=_regularizer(lib, spec.get("kernel_regularizer")),
            bias_regularizer=_regularizer(lib, spec.get("bias_regularizer")),
            activity_regularizer=_regularizer(lib, spec.get("activity_regularizer")))
    if kind == "dropout":
        return lib.layers.Dropout(spec["rate"])
    if kind == "activation":
        return lib.layers.Activation(spec["activation"])
    if kind == "flatten":
        return lib.layers.Flatten()
    raise ValueError(f"Unknown layer kind in spec: {kind!r}")


def build(lib, spec, with_input=True):
    """The spec's model in ``lib`` (``keras`` or ``minikeras``)."""
    layers = [build_layer(lib, layer) for layer in spec["layers"]]
    if with_input:
        layers.insert(0, lib.Input(spec["input_shape"]))
    return lib.Sequential(layers)


def twins(spec, with_input=True):
    """The same model in Keras and minikeras, with Keras's initial weights in both."""
    k = build(keras, spec, with_input)
    m = build(minikeras, spec, with_input)
    if not with_input:
        shape = (None, *spec["input_shape"])
        k.build(shape)
        m.build(shape)
    m.set_weights(k.get_weights())
    return k, m


def random_inputs(spec, rng):
    return rng.normal(size=(spec["batch"], *spec["input_shape"])).astype("float32")
