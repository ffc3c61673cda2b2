"""Objects to and from Keras 3 config dicts: ``{"module", "class_name", "config", ...}``.

Only classes that minikeras knows (its own, and those registered with
``register_keras_serializable`` or passed as ``custom_objects``) can be deserialized: loading a
config never imports or runs arbitrary code.
"""

_MODULES = {  # the module Keras writes for each kind of object
    "Layer": "keras.layers",
    "Model": "keras",
}


def serialize_keras_object(obj):
    """``obj`` as the dict Keras writes in ``config.json``."""
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    from minikeras.layers.layer import Layer
    from minikeras.models.model import Model

    if isinstance(obj, Model):
        module = "keras"
    elif isinstance(obj, Layer):
        module = "keras.layers"
    else:
        module = getattr(obj, "_keras_module", type(obj).__module__)
    config = {"module": module, "class_name": type(obj).__name__, "config": obj.get_config(),
              "registered_name": None}
    from minikeras.layers.input_layer import InputLayer

    if isinstance(obj, Layer) and obj.built and not isinstance(obj, InputLayer | Model):
        shape = getattr(obj, "_build_input_shape", None)
        if shape is not None:
            config["build_config"] = {"input_shape": list(shape)}
    return config
