"""Layer: the base class of every layer and model (``keras.layers.Layer``).

A layer stores its configuration in ``__init__``, creates its weights in ``build(input_shape)``
the first time it sees data, and computes in ``call(inputs)``. ``__call__`` ties them together:
it converts the input to a float tensor, builds if needed, checks the input against what the layer
was built for, calls, and records the activity-regularization loss. Called on KerasTensors
(``keras.Input``), it computes nothing: it builds, and returns KerasTensors of the output shape,
recording the call as a ``Node`` of the functional graph.

Masks travel on the values, as ``tensor._keras_mask`` (Keras's TensorFlow backend does the same):
when the input carries one, ``__call__`` hands it to a ``call`` that takes ``mask`` and attaches
``compute_mask(inputs, mask)`` to the output of a layer that ``supports_masking``. Without masks
this costs one attribute read per call; the flags it needs are set once, in ``__init__``.
"""

import functools
import inspect
import warnings

import numpy as np

from minikeras import autodiff, backend, constraints, initializers, ops, regularizers
from minikeras.layers.input_spec import assert_input_compatibility
from minikeras.layers.keras_tensor import KerasTensor, any_symbolic
from minikeras.layers.node import Node
from minikeras.quiet import quietly
from minikeras.tensor import Tensor
from minikeras.variables import Variable

_TRAINING = [None]  # the `training` flag of the outermost call in progress
_MAYBE_SYMBOLIC = (KerasTensor, list, tuple)  # tuples: isinstance checks them fastest
_TENSORS = (Tensor, Variable)


class StringInputError(TypeError, ValueError):
    """Strings given to a layer that computes with numbers: a TypeError (the wrong kind of
    data), and a ValueError, which is what Keras raises there."""


class Layer:
    def __init__(self, *, activity_regularizer=None, trainable=True, dtype=None, autocast=True,
                 name=None, **kwargs):
        # tf.keras 2's input_dim / input_shape / batch_input_shape on a Sequential's first layer
        # (the batch size of batch_input_shape is kept: a stateful RNN needs it)
        input_dim = kwargs.pop("input_dim", None)
        input_shape = (input_dim,) if input_dim is not None else kwargs.pop("input_shape", None)
        batch_shape = kwargs.pop("batch_input_shape", None)
        if batch_shape is None and input_shape is not None:
            batch_shape = (None, *input_shape)
        if kwargs:
            raise ValueError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        if not isinstance(trainable, bool):
            raise ValueError(f"Expected `trainable` to be a boolean. Received: "
                             f"trainable={trainable} (of type {type(trainable)})")
        self._layers = []
        self._trainable_variables = []
        self._non_trainable_variables = []
        self._losses = []
        self._inbound_nodes = []  # one Node per call on KerasTensors
        self._batch_shape_arg = None if batch_shape is None else tuple(batch_shape)
        self._parent_path = None
        self.name = name or backend.unique_name(backend.to_snake_case(type(self).__name__))
        self.trainable = trainable
        self.dtype = _dtype_name(dtype)
        self.autocast = autocast
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.built = False
        self.input_spec = None
        params = inspect.signature(self.call).parameters
        self._call_takes_training = "training" in params
        self._call_params = tuple(params)
        self._call_takes_mask = "mask" in params
        # MultiHeadAttention's call(query, value, key, query_mask, value_mask, key_mask, ...)
        self._call_mask_args = tuple(p for p in params if p.endswith("_mask") and p[:-5] in params)
        self._computes_mask = type(self).compute_mask is not Layer.compute_mask
        self.supports_masking = self._computes_mask  # Keras: True if compute_mask is overridden

    def __setattr__(self, name, value):
        if isinstance(value, Layer) and name != "_parent" and value not in self.__dict__.get(
                "_layers", [value]):
            self._layers.append(value)
        super().__setattr__(name, value)

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freezing a layer freezes its weights and its sublayers (``v.trainable = value``)."""
        self._trainable = bool(value)
        for variable in self._trainable_variables:
            variable.trainable = self._trainable
        for layer in self._layers:
            layer.trainable = self._trainable

    # --- masks --------------------------------------------------------------------------------
    @property
    def supports_masking(self):
        """Whether the layer passes a mask on: its output gets ``compute_mask(inputs, mask)``.
        A layer without it drops an incoming mask (with Keras's warning)."""
        return self._supports_masking

    @supports_masking.setter
    def supports_masking(self, value):
        self._supports_masking = value
        # calls that need the mask machinery even when no mask comes in: a layer that makes
        # masks (Embedding(mask_zero=True), Masking) or reads several (MultiHeadAttention)
        self._mask_step = bool(getattr(self, "_call_mask_args", ())) or bool(
            value and getattr(self, "_computes_mask", False))

    def compute_mask(self, inputs, previous_mask):
        """The mask of the output: by default the input's, unchanged."""
        return previous_mask

    # --- the three methods a layer writes -----------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs, *args, **kwargs):
        raise NotImplementedError(f"Layer {type(self).__name__} does not have a `call()` "
                                  f"method implemented.")

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": {"module": "keras", "class_name": "DTypePolicy",
                            "config": {"name": self.dtype}, "registered_name": None}}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # --- calling ------------------------------------------------------------------------------
    @quietly
    def __call__(self, inputs, *args, training=None, **kwargs):
        if isinstance(inputs, _MAYBE_SYMBOLIC):
            if any_symbolic(inputs):
                return self._symbolic_call(inputs, args, training, kwargs)
            input_mask = _masks_of(inputs)
        else:
            input_mask = getattr(inputs, "_keras_mask", None)  # the only cost without masks
        masked = input_mask is not None or self._mask_step or (
            bool(kwargs) and kwargs.get("mask") is not None)  # (kwargs itself gets "training")
        x = self._convert_input(inputs)
        if not self.built:
            self._build_for(_shape_of(x))
        spec = self.input_spec
        if spec is not None and x._value.shape != spec._accepted_shape:  # a new shape: check it
            assert_input_compatibility(spec, x._value.shape, self.name)
        if training is None:
            training = _TRAINING[-1]
        if self._call_takes_training:
            kwargs["training"] = training
        if self._losses:
            self._losses = []  # activity losses are those of the latest call only
        _TRAINING.append(training)
        try:
            if masked:
                outputs = self._call_with_masks(x, input_mask, args, kwargs)
            else:
                outputs = self.call(x, *args, **kwargs)
        finally:
            _TRAINING.pop()
        if self.activity_regularizer is not None:
            batch_size = ops.cast(ops.shape(outputs)[0], outputs.dtype)
            self.add_loss(self.activity_regularizer(outputs) / batch_size)
        return outputs

    def _call_with_masks(self, x, input_mask, args, kwargs):
        """``call`` under Keras's mask rules (``Layer.__call__``, steps 6 and 7):

        - the input's mask fills ``call``'s ``mask`` argument when nobody gave one and the input
          is the only tensor argument (an RNN given ``initial_state`` does not get it);
          with several tensor arguments, ``query`` fills ``query_mask``, ``value`` ``value_mask``;
        - after the call, a layer with ``supports_masking`` attaches
          ``compute_mask(inputs, mask)`` to each output that has no mask yet; a layer without
          it drops the mask, with Keras's warning."""
        if kwargs.get("mask") is None and self._call_takes_mask and not _more_tensors(
                args, kwargs):
            kwargs["mask"] = input_mask
        elif self._call_mask_args:
            self._fill_named_masks(input_mask, args, kwargs)
        previous_mask = kwargs.get("mask")
        if previous_mask is None:
            previous_mask = input_mask
        outputs = self.call(x, *args, **kwargs)
        if self._supports_masking:
            self._set_mask_metadata(x, outputs, previous_mask)
        elif any(m is not None for m in _flat(previous_mask)):
            warnings.warn(
                f"Layer '{self.name}' (of type {type(self).__name__}) was passed an input with a "
                f"mask attached to it. However, this layer does not support masking and will "
                f"therefore destroy the mask information. Downstream layers will not see the "
                f"mask.", stacklevel=3)
        return outputs

    def _fill_named_masks(self, input_mask, args, kwargs):
        """``query_mask`` from the query's mask, ``value_mask`` from the value's, ... (only for
        arguments given and masks not given)."""
        params = self._call_params
        values = dict(zip(params[1:], args, strict=False))
        values.update(kwargs)
        for name in self._call_mask_args:
            owner = name[:-5]
            if params.index(name) <= len(args) or kwargs.get(name) is not None:
                continue  # given positionally or by name
            mask = input_mask if owner == params[0] else _masks_of(values.get(owner))
            if mask is not None:
                kwargs[name] = mask

    def _set_mask_metadata(self, inputs, outputs, previous_mask):
        """Attach ``compute_mask(inputs, previous_mask)`` to the outputs that have no mask."""
        flat_outputs = _flat(outputs)
        if all(getattr(y, "_keras_mask", None) is not None for y in flat_outputs):
            return  # the call set them (Masking) or returned its input
        masks = self.compute_mask(inputs, previous_mask)
        if masks is None:
            return
        for y, mask in zip(flat_outputs, _flat(masks), strict=False):
            if mask is not None and isinstance(y, Tensor) and y._keras_mask is None:
                y._keras_mask = mask

    def _symbolic_call(self, inputs, args, training, kwargs):
        """Build for the inputs' shapes and return KerasTensors of the output shape, with a
        ``Node`` recording the call; nothing is computed."""
        shapes = _shape_of(inputs)
        if not self.built:
            self._build_for(shapes)
        elif self.input_spec is not None:
            assert_input_compatibility(self.input_spec, shapes, self.name)
        kwargs = {**_recorded_defaults(self.call), **kwargs}
        if training is not None:
            kwargs["training"] = training
        output_shape = self.compute_output_shape(shapes)
        outputs = KerasTensor(output_shape, dtype=self.dtype)
        Node(self, (inputs, *args), kwargs, outputs)
        return outputs

    @property
    def input(self):
        """The KerasTensor(s) the layer was first called on (a model built with an ``Input``
        calls its layers on KerasTensors; see ``layers/node.py``)."""
        return self._node_attribute("input_tensors", "input")

    @property
    def output(self):
        """The KerasTensor(s) of the layer's first call on KerasTensors: what
        ``keras.Model(model.inputs, layer.output)`` cuts out as a feature extractor."""
        return self._node_attribute("outputs", "output")

    def _node_attribute(self, attr, attr_name):
        if not self._inbound_nodes:
            raise AttributeError(f"The layer {self.name} has never been called and thus has no "
                                 f"defined {attr_name}.")
        values = getattr(self._inbound_nodes[0], attr)
        return values[0] if len(values) == 1 else values

    def _convert_input(self, inputs):
        """The input as a Tensor; numbers are cast to the layer's float dtype (autocast).
        Strings become a Tensor over an object array of ``str`` (``ops.core.string_array``)."""
        if isinstance(inputs, _TENSORS):
            x = inputs
        else:
            try:
                x = ops.convert_to_tensor(inputs)
            except (TypeError, ValueError) as error:
                raise TypeError(f"Layer '{self.name}' received input it cannot use as numbers: "
                                f"{error}") from None
        dtype = x._value.dtype
        if dtype.kind in "fiub":
            if self.autocast and dtype != _np_dtype(self.dtype) and backend.is_float_dtype(
                    self.dtype):
                x = ops.cast(x, self.dtype)
        elif dtype.kind in "USO":  # only reached by strings: numbers never pay for this
            x = self._convert_string_input(x)
        return x

    def _convert_string_input(self, x):
        """Strings pass into models (which hand them to their layers), ``Lambda`` layers and
        layers written outside minikeras (Keras converts no string input); minikeras's own
        layers that compute with numbers refuse them, naming the layer. The preprocessing
        layers (``DataLayer``) read strings with their own ``_convert_input``."""
        from minikeras.layers.lambda_layer import Lambda
        from minikeras.models.model import Model

        own_layer = type(self).__module__.split(".")[0] == "minikeras"
        if own_layer and not isinstance(self, Model | Lambda):
            values = np.asarray(x._value).ravel()[:3].tolist()
            raise StringInputError(
                f"Layer '{self.name}' ({type(self).__name__}) needs numeric input: it computes "
                f"with numbers, but it received strings of shape {tuple(x.shape)} (first "
                f"values: {values}). Turn strings into numbers first with a preprocessing "
                f"layer such as TextVectorization, StringLookup or Hashing.")
        try:
            strings = ops.core.string_array(x._value)
        except TypeError as error:
            raise TypeError(f"Layer '{self.name}' received input it cannot use: {error}") from None
        return x if strings is x._value else Tensor(strings)

    def _build_for(self, input_shape):
        """Build from the first input's shape (a list of shapes for a layer taking several
        inputs), after checking it fits the layer's spec."""
        input_shape = tuple(input_shape) if _is_shape(input_shape) else list(input_shape)
        assert_input_compatibility(self.input_spec, input_shape, self.name)
        self.build(input_shape)
        self._build_input_shape = input_shape
        self.built = True

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (``None`` for unknown sizes), found by running
        the layer once on zeros; layers that know their shape rule override this."""
        probe = tuple(1 if d is None else d for d in input_shape)
        with autodiff.paused():  # a shape probe, not part of any gradient
            out = self(np.zeros(probe, dtype=self.dtype))
        known = zip(input_shape, out.shape, strict=False)
        return tuple(None if d is None else n for d, n in known) + out.shape[len(input_shape):]

    # --- weights ------------------------------------------------------------------------------
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True, autocast=True,
                   regularizer=None, constraint=None, aggregation="none",
                   overwrite_with_gradient=False, name=None):
        """Create a weight Variable owned by this layer (GlorotUniform by default for floats)."""
        dtype = backend.standardize_dtype(dtype or self.dtype)
        if initializer is None:
            initializer = "glorot_uniform" if backend.is_float_dtype(dtype) else "zeros"
        shape = () if shape is None else tuple(int(d) for d in shape)
        variable = Variable(initializers.get(initializer), shape=shape, dtype=dtype,
                            trainable=trainable, name=name or backend.unique_name("variable"),
                            constraint=constraints.get(constraint),
                            regularizer=regularizers.get(regularizer))
        variable.path = f"{self.path}/{variable.name}"
        (self._trainable_variables if trainable else self._non_trainable_variables).append(
            variable)
        variable.trainable = trainable and self.trainable  # a frozen layer makes frozen weights
        return variable

    @property
    def path(self):
        return f"{self._parent_path}/{self.name}" if self._parent_path else self.name

    @property
    def weights(self):
        """Own trainable weights, own non-trainable weights, then those of sublayers."""
        return list({id(w): w for w in self._all_weights()}.values())  # shared ones count once

    def _all_weights(self):
        weights = self._trainable_variables + self._non_trainable_variables
        for layer in self._layers:
            weights += layer._all_weights()
        return weights

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.trainable] if self.trainable else []

    @property
    def non_trainable_weights(self):
        return [w for w in self.weights if not w.trainable] if self.trainable else self.weights

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def get_weights(self):
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        """Assign a list of arrays in ``weights`` order; nothing changes if any shape is wrong."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(
                f"You called `set_weights(weights)` on layer '{self.name}' with a weight list of "
                f"length {len(weights)}, but the layer was expecting {len(own)} weights.")
        values = [np.asarray(w) for w in weights]
        for variable, value in zip(own, values, strict=True):
            if variable.shape != value.shape:
                raise ValueError(
                    f"Layer {self.name} weight shape {variable.shape} is not compatible with "
                    f"provided weight shape {value.shape}.")
        for variable, value in zip(own, values, strict=True):
            variable.assign(value)

    def count_params(self):
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't "
                f"built. You can build it manually via: `layer.build(input_shape)`.")
        return int(sum(np.prod(w.shape, dtype=np.int64) for w in self.weights))

    # --- losses -------------------------------------------------------------------------------
    def add_loss(self, loss):
        self._losses.append(loss)

    @property
    def losses(self):
        """Activity losses from the last call and weight penalties, as differentiable tensors."""
        regularized = {id(w): w for w in self._all_weights()  # shared weights count once
                       if w.regularizer is not None and w.trainable} if self.trainable else {}
        return self._activity_losses() + [w.regularizer(w) for w in regularized.values()]

    def _activity_losses(self):
        return self._losses + [loss for layer in self._layers for loss in layer._activity_losses()]

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _recorded_defaults(call):
    """The call arguments Keras records in a node although nobody passed them: ``mask=None``
    (filled from the input's mask when the graph runs) and a ``training`` default that is not
    None (Dropout's False)."""
    params = inspect.signature(call).parameters
    defaults = {"mask": None} if "mask" in params else {}
    training = params.get("training")
    if training is not None and training.default not in (None, inspect.Parameter.empty):
        defaults["training"] = training.default
    return defaults


def _masks_of(x):
    """The Keras mask of ``x``; for a list of tensors the list of their masks, or None when
    none has one."""
    if isinstance(x, list | tuple):
        if not x or isinstance(x[0], str | bytes):  # a batch of texts carries no mask
            return None
        masks = [getattr(t, "_keras_mask", None) for t in x]
        return masks if any(m is not None for m in masks) else None
    return getattr(x, "_keras_mask", None)


def _more_tensors(args, kwargs):
    """Whether the call has tensor arguments besides its first (Keras then fills no ``mask``)."""
    values = [*args, *(v for k, v in kwargs.items() if k not in ("mask", "training"))]
    for value in values:
        if isinstance(value, list | tuple) and value:
            value = value[0]
        if isinstance(value, Tensor | Variable | np.ndarray | KerasTensor):
            return True
    return False


def _flat(x):
    return list(x) if isinstance(x, list | tuple) else [x]


def _is_shape(shape):
    return all(d is None or isinstance(d, int | np.integer) for d in shape)


def _shape_of(x):
    """A tensor's shape, or the list of shapes of a list of tensors."""
    return [_shape_of(t) for t in x] if isinstance(x, list | tuple) else tuple(x.shape)


@functools.cache
def _np_dtype(name):
    return np.dtype(name)


def _dtype_name(dtype):
    if isinstance(dtype, dict):  # a DTypePolicy config, as Keras writes it
        dtype = dtype.get("config", {}).get("name")
    return backend.standardize_dtype(getattr(dtype, "name", dtype))
