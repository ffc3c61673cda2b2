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
from minikeras.utils import tracking
from minikeras.variables import Variable

_TRAINING = [None]  # the `training` flag of the outermost call in progress
# what a layer owns (tracking.StateList), and its other bookkeeping: never tracked
_STORES = ("_layers", "_trainable_variables", "_non_trainable_variables", "_metrics")
_UNTRACKED = frozenset({"_tracker", "_losses", "_inbound_nodes", "_parent", "_walk"})
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
        self._initialize_tracker()
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

    # --- what a layer owns: tracked attributes (minikeras/utils/tracking.py) --------------------
    def __setattr__(self, name, value):
        """A layer, variable or metric assigned to an attribute, also inside a list, tuple or
        dict, becomes this layer's (a sublayer, a weight, a metric), as in Keras."""
        if name in _STORES:  # a new list of sublayers (a functional model's) or variables
            value = tracking.StateList(value)
            value._changed()
        elif name not in _UNTRACKED:
            if "_tracker" not in self.__dict__:  # an attribute set before super().__init__()
                self._initialize_tracker()
            value = self._tracker.track(value)
        super().__setattr__(name, value)

    def _initialize_tracker(self):
        if "_tracker" in self.__dict__:
            return
        for store in _STORES:
            setattr(self, store, [])
        self._tracker = tracking.Tracker(self._track_state, self._untrack_state)

    def _track_state(self, value):
        """Record ``value`` if it is state this layer owns; whether it is."""
        from minikeras.metrics.metric import Metric  # (the metrics package imports layers)

        if isinstance(value, Layer):
            store = self._layers if value is not self else []
        elif isinstance(value, Variable):
            if _holds(self._non_trainable_variables, value):
                return True
            store = self._trainable_variables if value.trainable else (
                self._non_trainable_variables)
        elif isinstance(value, Metric):
            store = self._metrics
        else:
            return False
        if not _holds(store, value):
            store.append(value)
        return True

    def _untrack_state(self, value):
        for store in (self._layers, self._trainable_variables, self._non_trainable_variables,
                      self._metrics):
            for i, item in enumerate(store):
                if item is value:
                    del store[i]
                    return

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
        """Own trainable weights, own non-trainable weights, then those of sublayers (a weight
        shared by several layers counts once)."""
        return self._walked()[1][:]

    def _flatten_layers(self):
        """This layer, then the layers inside it, depth first: the order of ``weights``."""
        return self._walked()[0]

    def _walked(self):
        """(this layer and its sublayers, depth first, each once; their weights), walked again
        only when some layer's sublayers or variables changed (``tracking.version``)."""
        walk = self.__dict__.get("_walk")
        if walk is None or walk[0] != tracking.version:
            layers, stack, seen = [], [self], set()
            while stack:
                layer = stack.pop()
                if id(layer) not in seen:  # a layer shared by two parents counts once
                    seen.add(id(layer))
                    layers.append(layer)
                    stack += reversed(layer._layers)
            weights = {id(w): w for layer in layers for w in (
                *layer._trainable_variables, *layer._non_trainable_variables)}
            walk = self._walk = (tracking.version, layers, list(weights.values()))
        return walk[1:]

    @property
    def trainable_weights(self):
        return [w for w in self._walked()[1] if w.trainable] if self.trainable else []

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [w for w in self._walked()[1] if not w.trainable]

    @property
    def metrics(self):
        """The metrics assigned to this layer's attributes, then those of its sublayers."""
        return [metric for layer in self._flatten_layers() for metric in layer._metrics]

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
        layers, weights = self._walked()
        losses = [loss for layer in layers for loss in layer._losses]
        if self.trainable:
            losses += [w.regularizer(w) for w in weights
                       if w.regularizer is not None and w.trainable]
        return losses

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _holds(store, value):
    return any(item is value for item in store)


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
