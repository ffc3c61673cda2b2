"""Lambda: wrap any function of tensors as a layer (``keras.layers.Lambda``)."""

import inspect
import types

from minikeras.layers.layer import Layer
from minikeras.saving import serialization

_LAMBDA_LAYER_REFUSED = (
    "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. "
    "This carries a potential risk of arbitrary code execution and thus it is disallowed by "
    "default. If you trust the source of the artifact, you can override this error by passing "
    "`safe_mode=False` to the loading function, or calling "
    "`minikeras.saving.enable_unsafe_deserialization()`.")


class Lambda(Layer):
    """``outputs = function(inputs, **arguments)``: no weights; gradients flow through whatever
    minikeras ops the function uses.

    ``get_config`` stores the function as Keras does: a named function by its (registered) name,
    a Python ``lambda`` as its bytecode under ``{"class_name": "__lambda__"}``. Loading that
    bytecode runs code from the file, so ``from_config`` refuses it unless ``safe_mode=False``
    (or ``enable_unsafe_deserialization()``). The bytecode only loads in the Python version that
    wrote it.

    ``output_shape`` (a shape without the batch axis, or a function of the input shape) is used
    by ``compute_output_shape``; without it the shape is found by running the function on zeros.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.arguments = arguments or {}
        self.function = function
        self.supports_masking = mask is not None
        self.mask = mask
        self._output_shape = output_shape
        function_args = inspect.getfullargspec(function).args
        self._fn_expects_training_arg = "training" in function_args
        self._fn_expects_mask_arg = "mask" in function_args

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        return (input_shape[0], *self._output_shape)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def get_config(self):
        config = {"function": _serialize_function(self.function)}
        if self._output_shape is not None:
            config["output_shape"] = (_serialize_function(self._output_shape)
                                      if callable(self._output_shape) else self._output_shape)
        if self.mask is not None:
            config["mask"] = (_serialize_function(self.mask) if callable(self.mask)
                              else serialization.serialize_keras_object(self.mask))
        config["arguments"] = serialization.serialize_keras_object(self.arguments)
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        if safe_mode is None:
            safe_mode = serialization.in_safe_mode()
        safe_mode = safe_mode is not False  # no scope at all counts as safe
        config = dict(config)
        config["function"] = _deserialize_function(config["function"], safe_mode,
                                                   custom_objects)
        if "output_shape" in config:
            shape = config["output_shape"]
            if _is_lambda(shape) or isinstance(shape, dict):
                shape = _deserialize_function(shape, safe_mode, custom_objects)
            if isinstance(shape, list) and all(isinstance(d, int | None) for d in shape):
                shape = tuple(shape)
            config["output_shape"] = shape
        if "arguments" in config:
            config["arguments"] = serialization.deserialize_keras_object(
                config["arguments"], custom_objects=custom_objects)
        return cls(**config)


def _serialize_function(fn):
    """A lambda as ``{"class_name": "__lambda__", "config": {code, defaults, closure}}`` (the
    bytecode, base64 with line breaks as Python's codecs writes it: what Keras stores); any other
    callable as ``serialize_keras_object`` writes it."""
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        code, defaults, closure = serialization.func_dump(fn)
        return {"class_name": "__lambda__",
                "config": {"code": code, "defaults": defaults, "closure": closure}}
    if callable(fn):
        return serialization.serialize_keras_object(fn)
    raise ValueError(f"Invalid input type for serialization. Received: {fn} of type "
                     f"{type(fn)}.")


def _is_lambda(config):
    return isinstance(config, dict) and config.get("class_name") == "__lambda__"


def _deserialize_function(config, safe_mode, custom_objects):
    if not _is_lambda(config):
        return serialization.deserialize_keras_object(config, custom_objects=custom_objects)
    if safe_mode:
        raise ValueError(_LAMBDA_LAYER_REFUSED)
    inner = config["config"]
    return serialization.func_load(inner["code"], inner.get("defaults"), inner.get("closure"))
