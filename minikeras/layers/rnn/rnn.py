"""RNN: runs a cell over the time axis (``keras.layers.RNN``, Keras's ``layers/rnn/rnn.py``).

A cell computes one time step, ``output, new_states = cell(x_t, states)``; the RNN layer feeds it
the steps of a (batch, time, features) input one after another, carrying the states along:

    states = initial_state (zeros by default)
    for t in 0 .. T-1 (T-1 .. 0 with go_backwards):
        output_t, states = cell(x[:, t, :], states)

The loop is plain Python; every step is built from ``minikeras.ops`` calls that the tape records,
so backpropagation through time is nothing but the chain rule walking the unrolled steps back.
"""

import numpy as np

from minikeras import activations, constraints, initializers, ops, regularizers, tree
from minikeras.layers.input_spec import InputSpec
from minikeras.layers.keras_tensor import KerasTensor
from minikeras.layers.layer import Layer, _shape_of
from minikeras.layers.node import Node
from minikeras.layers.rnn.stacked_rnn_cells import StackedRNNCells
from minikeras.utils import tracking
from minikeras.utils.random import make_rng
from minikeras.variables import Variable


class RNN(Layer):
    """``RNN(cell)``: the time loop around a cell (SimpleRNNCell, LSTMCell, GRUCell or your own:
    any Layer with ``state_size`` and ``call(inputs, states) -> (output, new_states)``).

    Returns the last output ``(batch, units)``, or every output ``(batch, time, units)`` with
    ``return_sequences=True``; with ``return_state=True`` the final states follow the output.
    ``go_backwards=True`` reads the sequence from its end; the outputs are then in the order they
    were computed (the first is that of the last time step), as in Keras.

    Masks (``mask`` of shape (batch, time), True where a step is real; the one an
    ``Embedding(mask_zero=True)`` or ``Masking`` layer attached to the input is used by itself)
    make a masked step change nothing, as Keras's TensorFlow backend computes it:

        output_t = where(mask_t, output_t, output_{t-1})     (output_{-1} = 0)
        states_t = where(mask_t, states_t, states_{t-1})

    (``zero_output_for_mask=True``: a masked step outputs zeros instead.) So the last output is
    that of the last real step; with ``return_sequences=True`` the output keeps the mask.

    ``stateful=True``: the final states of one call are the initial states of the next, sample
    ``i`` of a batch continuing sample ``i`` of the previous batch (so ``fit(..., shuffle=False)``
    reads one long sequence batch after batch):

        states = layer.states                    (zeros when built; the batch size must be fixed:
        ... the time loop ...                     ``Input(batch_size=...)`` or ``batch_shape``)
        layer.states <- final states             ``layer.reset_state()`` zeros them again

    As in Keras, ``layer.states`` are non-trainable Variables named ``rnn_state`` (path
    ``<layer path>/rnn_state``, shape (batch, size)) that are not among the layer's weights, so
    ``get_weights()`` and the ``.weights.h5`` / ``.keras`` files leave them out; the tape never
    sees them (each call reads a copy), so no gradient flows from one batch into the previous one.

    A list of cells, ``RNN([cell_0, cell_1])``, is wrapped in a ``StackedRNNCells`` (as in
    Keras): one time loop runs the cells stacked, and the states are nested, one entry per cell
    (``return_state=True`` gives ``(output, states of cell 0, states of cell 1)``).
    ``unroll`` is accepted and recorded in the config; the loop is always a Python loop.
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, list | tuple):
            cell = StackedRNNCells(cell)
        if "call" not in dir(cell):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: cell={cell}")
        state_size = getattr(cell, "state_size", None)
        if state_size is None:
            raise ValueError("The RNN cell should have a `state_size` attribute (single integer "
                             "or list of integers, one integer per RNN state). "
                             f"Received: cell={cell}")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.zero_output_for_mask = zero_output_for_mask
        self.single_state = isinstance(state_size, int)
        self.state_size = [state_size] if self.single_state else list(state_size)
        self.input_spec = InputSpec(ndim=3)
        self.supports_masking = True
        self.states = None  # stateful=True: the Variables carried from call to call

    def build(self, sequences_shape, initial_state_shape=None):
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell._parent_path = self.path  # weight paths as Keras's: "lstm/lstm_cell/kernel"
            step_shape = (sequences_shape[0], *sequences_shape[2:])
            self.cell.build(step_shape)
            self.cell._build_input_shape = step_shape  # in its config, as Keras's build_config
            self.cell.built = True
        self.input_spec = InputSpec(ndim=3, axes={-1: sequences_shape[-1]})
        if self.stateful and self.states is not None:
            self.reset_state()
        elif self.stateful:
            if sequences_shape[0] is None:
                raise ValueError("When using `stateful=True` in a RNN, the batch size must be "
                                 "static. Found dynamic batch size: "
                                 f"sequence.shape={tuple(sequences_shape)}")
            with tracking.untracked():  # not weights: Keras neither lists nor saves them
                self.states = tree.map_structure(  # nested as the cell's states (stacked cells)
                    lambda zeros: Variable(ops.convert_to_numpy(zeros), dtype=self.dtype,
                                           trainable=False, name="rnn_state"),
                    self.get_initial_state(sequences_shape[0]))
            for variable in tree.flatten(self.states):
                variable.path = f"{self.path}/rnn_state"
        self.built = True

    def get_initial_state(self, batch_size):
        if isinstance(self.cell, StackedRNNCells):  # nested: one entry per cell
            return list(self.cell.get_initial_state(batch_size=batch_size))
        return [ops.zeros((batch_size, size), dtype=self.dtype) for size in self.state_size]

    def reset_state(self):
        """Zero the states of a stateful layer (nothing to do for one that is not)."""
        for variable in tree.flatten(self.states or []):
            variable.assign(np.zeros_like(variable.value))

    def reset_states(self):
        """Keras's compatibility alias of ``reset_state``."""
        self.reset_state()

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if isinstance(mask, list | tuple):
            mask = mask[0]
        batch_size = sequences.shape[0]
        if self.stateful:
            self._check_stateful_batch_size(batch_size)
            if initial_state is None:  # copies: the assign below writes the Variables in place
                initial_state = tree.map_structure(lambda variable: variable.numpy(),
                                                   self.states)
        states = self._initial_states(initial_state, batch_size)
        steps = ops.unstack(sequences, axis=1)  # x[:, t, :] for each t; gradients flow back
        keep = None
        if mask is not None:  # one (batch, 1) column of booleans per step
            keep = list(np.asarray(ops.convert_to_numpy(mask)).astype(bool)[:, :, None].swapaxes(
                0, 1))
        if self.go_backwards:
            steps = steps[::-1]
            keep = None if keep is None else keep[::-1]
        takes_training = getattr(self.cell, "_call_takes_training", False)
        cell_kwargs = {"training": training} if takes_training else {}
        for cell in _dropout_cells(self.cell):
            cell.reset_dropout_masks()  # one new mask per call, shared by every step
        outputs = []
        for t, x_t in enumerate(steps):
            output, new_states = self.cell(x_t, states, **cell_kwargs)
            new_states = list(new_states) if isinstance(new_states, list | tuple) else [
                new_states]
            flat_new = tree.flatten(new_states)
            if len(flat_new) == len(tree.flatten(states)):  # the states keep their structure
                new_states = tree.pack_sequence_as(states, flat_new)  # (a stack of one cell)
            if keep is not None:  # a masked step keeps the previous output and states
                previous = (outputs[-1] if outputs and not self.zero_output_for_mask
                            else ops.zeros_like(output))
                output = ops.where(_expand_like(keep[t], output), output, previous)
                new_states = tree.map_structure(
                    lambda new, old, keep_t=keep[t]: ops.where(_expand_like(keep_t, new), new,
                                                               old),
                    new_states, states)
            states = new_states
            outputs.append(output)
        for cell in _dropout_cells(self.cell):
            cell.reset_dropout_masks()
        if self.stateful:  # the final states start the next call
            for variable, state in zip(tree.flatten(self.states), tree.flatten(states),
                                       strict=True):
                variable.assign(ops.convert_to_numpy(state))
        output = ops.stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        if self.return_state:
            return (output, *states)
        return output

    def compute_mask(self, inputs, mask):
        """The input's mask with ``return_sequences=True``, else None (no mask on states)."""
        if isinstance(mask, list | tuple):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.state_size)
        return output_mask

    def _check_stateful_batch_size(self, batch_size):
        expected = tree.flatten(self.states)[0].shape[0]
        if batch_size != expected:
            raise ValueError(
                "If an RNN is stateful, the batch size of the input sequences must be the same "
                "as the batch size of the initial state. \n"
                f"- Expected batch size: {expected}\n- Received batch size: {batch_size}")

    def _initial_states(self, initial_state, batch_size):
        if initial_state is None:
            return self.get_initial_state(batch_size)
        states = list(initial_state) if isinstance(initial_state, list | tuple) else [
            initial_state]
        expected = state_shapes(self.state_size, batch_size)
        if len(states) != len(self.state_size):
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects {len(self.state_size)} "
                f"initial state(s) of shapes {expected}, but received {len(states)}.")
        states = tree.map_structure(  # nested for stacked cells: one entry per cell
            lambda s: s if hasattr(s, "_value") else ops.convert_to_tensor(s, dtype=self.dtype),
            states)
        for state, shapes in zip(states, expected, strict=True):
            leaves = tree.flatten(state)
            shapes = shapes if isinstance(shapes, list) else [shapes]
            received = [tuple(leaf.shape) for leaf in leaves]
            if received != shapes:
                wrong = next((r for r, s in zip(received, shapes, strict=False) if r != s),
                             received)
                raise ValueError(
                    f"Layer '{self.name}' ({type(self).__name__}) expects initial states of "
                    f"shapes {expected}, but received one of shape {wrong}.")
        return states

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch_size, length = sequences_shape[0], sequences_shape[1]
        output_size = getattr(self.cell, "output_size", None) or self.state_size[0]
        output_shape = ((batch_size, length, output_size) if self.return_sequences
                        else (batch_size, output_size))
        if self.return_state:
            return (output_shape, *state_shapes(self.state_size, batch_size))
        return output_shape

    def _symbolic_call(self, inputs, args, training, kwargs):
        if not self.return_state:
            return super()._symbolic_call(inputs, args, training, kwargs)
        return multi_output_symbolic_call(self, inputs, args, training, kwargs)

    def get_config(self):
        from minikeras.saving.serialization import serialize_keras_object

        return {
            **super().get_config(),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            "cell": serialize_keras_object(self.cell),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from minikeras.saving.serialization import deserialize_keras_object

        config = dict(config)
        cell = deserialize_keras_object(config.pop("cell"), custom_objects=custom_objects)
        return cls(cell, **config)


def multi_output_symbolic_call(layer, inputs, args, training, kwargs):
    """A call on KerasTensors for a layer with several outputs (``return_state=True``): build,
    then one KerasTensor per output shape, all recorded by one Node."""
    shape = _shape_of(inputs)
    if not layer.built:
        layer._build_for(shape)
    kwargs = {"mask": None, **kwargs}
    if training is not None:
        kwargs["training"] = training
    outputs = tuple(  # a list of shapes: the states of one of stacked cells, a list of tensors
        [KerasTensor(x, dtype=layer.dtype) for x in s] if isinstance(s, list)
        else KerasTensor(s, dtype=layer.dtype) for s in layer.compute_output_shape(shape))
    Node(layer, (inputs, *args), kwargs, list(outputs))
    return outputs


def _expand_like(keep, x):
    """A step's (batch, 1) mask column with as many axes as ``x`` (ConvLSTM's outputs and
    states are images: (batch, 1, 1, 1)); unchanged for (batch, units) values."""
    extra = len(x.shape) - keep.ndim
    return keep.reshape(keep.shape + (1,) * extra) if extra > 0 else keep


def state_shapes(state_size, batch_size):
    """``(batch, size)`` per state; a list of them for a cell with several states inside
    stacked cells (``[[8, 8], 4] -> [[(b, 8), (b, 8)], (b, 4)]``), as Keras's shapes."""
    return [(batch_size, size) if isinstance(size, int) else [(batch_size, s) for s in size]
            for size in state_size]


def _dropout_cells(cell):
    """The cells whose dropout masks an RNN call resets: the cell, or each stacked cell."""
    if isinstance(cell, StackedRNNCells):
        return [inner for stacked in cell.cells for inner in _dropout_cells(stacked)]
    return [cell] if isinstance(cell, DropoutRNNCell) else []


class DropoutRNNCell:
    """Dropout for cells (Keras's ``dropout_rnn_cell.py``): while training, the step inputs are
    multiplied by one mask and the previous state by another, each drawn once per call of the
    RNN layer and reused at every time step (variational dropout, Gal & Ghahramani 2016):
        x_t -> x_t * m_x,   h_{t-1} -> h_{t-1} * m_h,   m = keep / (1 - rate), keep ~ Bernoulli.

    Keras draws separate masks per gate (4 for LSTM, 3 for GRU) when ``recurrent_dropout > 0``;
    minikeras draws one input mask and one state mask for all gates. Random draws differ from
    Keras's in any case, so training with dropout is statistically, not bitwise, the same.
    """

    def reset_dropout_masks(self):
        self._dropout_mask = None
        self._recurrent_dropout_mask = None

    def _drop(self, x, training, which):
        rate = self.dropout if which == "_dropout_mask" else self.recurrent_dropout
        if not training or not 0.0 < rate < 1.0:
            return x
        if getattr(self, which, None) is None:
            if not hasattr(self, "_rng"):
                self._rng = make_rng(self.seed)
            keep = self._rng.random(tuple(x.shape)) >= rate
            setattr(self, which, (keep / (1.0 - rate)).astype(x.dtype))
        return ops.multiply(x, getattr(self, which))

    def drop_inputs(self, inputs, training):
        return self._drop(inputs, training, "_dropout_mask")

    def drop_state(self, state, training):
        return self._drop(state, training, "_recurrent_dropout_mask")


def clip_rate(rate):
    """Keras clips dropout rates into [0, 1]."""
    return min(1.0, max(0.0, rate))


def check_units(units):
    if isinstance(units, bool) or not isinstance(units, int | np.integer) or units <= 0:
        raise ValueError("Received an invalid value for argument `units`, expected a positive "
                         f"integer, got {units}.")


def check_use_cudnn(use_cudnn):
    """LSTM's and GRU's ``use_cudnn``: accepted and kept (minikeras has one NumPy loop)."""
    if use_cudnn not in ("auto", True, False):
        raise ValueError("Invalid valid received for argument `use_cudnn`. Expected one of "
                         f"{{'auto', True, False}}. Received: use_cudnn={use_cudnn}")
    return use_cudnn


class RecurrentCell(Layer, DropoutRNNCell):
    """What SimpleRNNCell, LSTMCell and GRUCell share: their arguments, their three weights

        kernel            (input_dim, gates * units)   the step input's weights, gates side by side
        recurrent_kernel  (units, gates * units)       the previous output's weights
        bias              (gates * units,)             (GRU with reset_after: (2, 3 * units))

    and the configuration they write. Each cell's ``call`` holds its own step equations.
    """

    gates = 1

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        check_units(units)
        kwargs.pop("implementation", None)  # Keras's choice of kernels; one way here
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = clip_rate(dropout)
        self.recurrent_dropout = clip_rate(recurrent_dropout)
        self.seed = seed
        self.state_size = units
        self.output_size = units
        self.reset_dropout_masks()

    def build(self, input_shape, bias_shape=None):
        width = self.gates * self.units
        self.kernel = self.add_weight(
            shape=(input_shape[-1], width), name="kernel", initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, width), name="recurrent_kernel",
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=bias_shape or (width,), name="bias", initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [ops.zeros((batch_size, size), dtype=self.dtype) for size in sizes]

    def weights_config(self):
        """The arguments every cell shares, in Keras's order."""
        return {
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        }


class RecurrentLayer(RNN):
    """SimpleRNN, LSTM and GRU: an RNN around a fresh cell built from the layer's arguments, whose
    configuration flattens the cell's (no nested ``cell`` entry), as Keras writes it."""

    def __init__(self, cell, activity_regularizer=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False, **kwargs):
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)

    def __getattr__(self, name):
        """``lstm.units``, ``lstm.kernel_initializer``, ...: the cell's (Keras's properties)."""
        if name in _CELL_ATTRIBUTES and "cell" in self.__dict__:
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            del cell_config[key]
        return {**config, **cell_config,
                "activity_regularizer": regularizers.serialize(self.activity_regularizer)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


_CELL_ATTRIBUTES = {
    "units", "activation", "recurrent_activation", "use_bias", "unit_forget_bias",
    "kernel_initializer", "recurrent_initializer", "bias_initializer", "kernel_regularizer",
    "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint",
    "bias_constraint", "dropout", "recurrent_dropout", "reset_after", "seed"}
