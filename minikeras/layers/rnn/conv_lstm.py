"""ConvLSTM1D / 2D / 3D: an LSTM whose products are convolutions (Shi et al. 2015,
https://arxiv.org/abs/1506.04214; Keras's ``keras/src/layers/rnn/conv_lstm.py``)."""

from minikeras import activations, constraints, initializers, ops, regularizers, tree
from minikeras.layers.convolutional import (
    conv_output_shape,
    standardize_data_format,
    standardize_padding,
    standardize_tuple,
)
from minikeras.layers.input_spec import InputSpec
from minikeras.layers.layer import Layer
from minikeras.layers.rnn.rnn import RNN, DropoutRNNCell, clip_rate
from minikeras.utils.random import make_rng


class ConvLSTMCell(Layer, DropoutRNNCell):
    """One ConvLSTM step: LSTMCell's equations with ``*`` (a convolution) in place of the
    matrix products, on images x_t (batch, *spatial, channels):

        z = conv(x_t, W, strides, padding) + b + conv(h_{t-1}, U, padding="same")
        i, f, z_c, o = split(z, 4, channels)        W (*k, in, 4·filters), U (*k, filters, 4·f)
        c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(z_c)      (σ = recurrent_activation, tanh = activation)
        h_t = σ(o) ⊙ tanh(c_t)

    States ``[h, c]``, both of the input convolution's output shape (the recurrent convolution
    is "same" with stride 1, so it keeps that shape). Keras convolves with each gate's quarter
    of the kernel; one convolution with the whole kernel, split afterwards, is the same sum.
    ``unit_forget_bias`` starts the forget gate's bias at 1. Dropout (training only): as Keras,
    four input masks and four state masks, one per gate, drawn once per RNN call and reused at
    every step (then each gate convolves its own masked copy); the random draws are not
    Keras's, so dropout matches statistically only.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.rank = rank
        if self.rank > 3:
            raise ValueError(f"Rank {rank} convolutions are not currently implemented. "
                             f"Received: rank={rank}")
        self.filters = filters
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = standardize_tuple(strides, rank, "strides", allow_zero=True)
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("Specifying `strides > 1` is not compatible with `dilation_rate > "
                             "1`. Please provide `strides=1` or `dilation_rate=1`. "
                             f"Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = unit_forget_bias
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = clip_rate(dropout)
        self.recurrent_dropout = clip_rate(recurrent_dropout)
        self.input_spec = InputSpec(ndim=rank + 2)
        self.state_size = -1  # as Keras: the states' shape comes from the input's
        self.reset_dropout_masks()

    def build(self, inputs_shape, states_shape=None):
        inputs_shape = tuple(inputs_shape)
        if self.data_format == "channels_first":
            channel_axis, self.spatial_dims = 1, inputs_shape[2:]
        else:
            channel_axis, self.spatial_dims = -1, inputs_shape[1:-1]
        if None in self.spatial_dims:
            raise ValueError("ConvLSTM layers only support static input shapes for the spatial "
                             f"dimension. Received invalid input shape: input_shape={inputs_shape}")
        if inputs_shape[channel_axis] is None:
            raise ValueError("The channel dimension of the inputs (last axis) should be defined. "
                             f"Found None. Full input shape received: input_shape={inputs_shape}")
        self.input_spec = InputSpec(shape=(None, *inputs_shape[1:]))
        self.input_dim = input_dim = inputs_shape[channel_axis]
        self.kernel_shape = (*self.kernel_size, input_dim, self.filters * 4)
        self.kernel = self.add_weight(
            shape=self.kernel_shape, initializer=self.kernel_initializer, name="kernel",
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            shape=(*self.kernel_size, self.filters, self.filters * 4),
            initializer=self.recurrent_initializer, name="recurrent_kernel",
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.filters * 4,), name="bias", initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)
            if self.unit_forget_bias:  # [init(f), ones(f), init(2f)], as Keras builds it
                bias = self.bias.numpy()
                bias[self.filters:2 * self.filters] = 1.0
                bias[:self.filters] = ops.convert_to_numpy(
                    self.bias_initializer((self.filters,), dtype=self.dtype))
                bias[2 * self.filters:] = ops.convert_to_numpy(
                    self.bias_initializer((2 * self.filters,), dtype=self.dtype))
                self.bias.assign(bias)
        self.built = True

    def call(self, inputs, states, training=False):
        h_prev, c_prev = states[0], states[1]
        input_masks = self._gate_masks(inputs, training, "_dropout_mask")
        state_masks = self._gate_masks(h_prev, training, "_recurrent_dropout_mask")
        if input_masks is None and state_masks is None:  # one convolution for the four gates
            z = self.input_conv(inputs, self.kernel, self.bias, padding=self.padding)
            z = ops.add(z, self.recurrent_conv(h_prev, self.recurrent_kernel))
            channel_axis = self.rank + 1 if self.data_format == "channels_last" else 1
            z_i, z_f, z_c, z_o = ops.split(z, 4, axis=channel_axis)
        else:  # dropout: each gate sees its own masked copy, so one convolution per gate
            z_i, z_f, z_c, z_o = self._gates_with_dropout(inputs, h_prev, input_masks,
                                                          state_masks)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = ops.add(ops.multiply(f, c_prev), ops.multiply(i, self.activation(z_c)))
        o = self.recurrent_activation(z_o)
        h = ops.multiply(o, self.activation(c))
        return h, [h, c]

    def _gates_with_dropout(self, inputs, h_prev, input_masks, state_masks):
        kernels = ops.split(self.kernel, 4, axis=self.rank + 1)
        recurrent_kernels = ops.split(self.recurrent_kernel, 4, axis=self.rank + 1)
        biases = ops.split(self.bias, 4) if self.bias is not None else [None] * 4
        gates = []
        for g in range(4):
            x_g = inputs if input_masks is None else ops.multiply(inputs, input_masks[g])
            h_g = h_prev if state_masks is None else ops.multiply(h_prev, state_masks[g])
            gates.append(ops.add(self.input_conv(x_g, kernels[g], biases[g], self.padding),
                                 self.recurrent_conv(h_g, recurrent_kernels[g])))
        return gates

    def _gate_masks(self, x, training, which):
        """Four dropout masks (one per gate i, f, c, o, as Keras's ``dropout_mask_count = 4``),
        keep ~ Bernoulli(1 - rate) / (1 - rate), drawn at the first step of an RNN call and
        reused at every step; None when not training or the rate is 0 (or 1, as Keras)."""
        rate = self.dropout if which == "_dropout_mask" else self.recurrent_dropout
        if not training or not 0.0 < rate < 1.0:
            return None
        if getattr(self, which, None) is None:
            if not hasattr(self, "_rng"):
                self._rng = make_rng(self.seed)
            setattr(self, which, [((self._rng.random(tuple(x.shape)) >= rate) / (1.0 - rate))
                                  .astype(x.dtype) for _ in range(4)])
        return getattr(self, which)

    def input_conv(self, x, w, b=None, padding="valid"):
        out = ops.conv(x, w, strides=self.strides, padding=padding,
                       data_format=self.data_format, dilation_rate=self.dilation_rate)
        if b is not None:  # one bias per output channel, at every position
            shape = ((1,) * (self.rank + 1) + (-1,) if self.data_format == "channels_last"
                     else (1, -1) + (1,) * self.rank)
            out = ops.add(out, ops.reshape(b, shape))
        return out

    def recurrent_conv(self, x, w):
        return ops.conv(x, w, strides=1, padding="same", data_format=self.data_format)

    def compute_output_shape(self, inputs_shape, states_shape=None):
        shape = conv_output_shape(inputs_shape, self.filters, self.kernel_size, self.strides,
                                  self.padding, self.data_format, self.dilation_rate)
        return shape, [shape, shape]

    def get_initial_state(self, batch_size=None):
        if self.data_format == "channels_last":
            input_shape = (batch_size, *self.spatial_dims, self.input_dim)
        else:
            input_shape = (batch_size, self.input_dim, *self.spatial_dims)
        state_shape = self.compute_output_shape(input_shape)[0]
        return [ops.zeros(state_shape, dtype=self.dtype), ops.zeros(state_shape, dtype=self.dtype)]

    def get_config(self):
        return {**super().get_config(), **_conv_lstm_config(self), "seed": self.seed}


def _conv_lstm_config(obj, activity_regularizer=False):
    """The arguments a ConvLSTM cell and layer share, in Keras's order."""
    config = {
        "filters": obj.filters,
        "kernel_size": obj.kernel_size,
        "strides": obj.strides,
        "padding": obj.padding,
        "data_format": obj.data_format,
        "dilation_rate": obj.dilation_rate,
        "activation": activations.serialize(obj.activation),
        "recurrent_activation": activations.serialize(obj.recurrent_activation),
        "use_bias": obj.use_bias,
        "kernel_initializer": initializers.serialize(obj.kernel_initializer),
        "recurrent_initializer": initializers.serialize(obj.recurrent_initializer),
        "bias_initializer": initializers.serialize(obj.bias_initializer),
        "unit_forget_bias": obj.unit_forget_bias,
        "kernel_regularizer": regularizers.serialize(obj.kernel_regularizer),
        "recurrent_regularizer": regularizers.serialize(obj.recurrent_regularizer),
        "bias_regularizer": regularizers.serialize(obj.bias_regularizer),
    }
    if activity_regularizer:
        config["activity_regularizer"] = regularizers.serialize(obj.activity_regularizer)
    return {
        **config,
        "kernel_constraint": constraints.serialize(obj.kernel_constraint),
        "recurrent_constraint": constraints.serialize(obj.recurrent_constraint),
        "bias_constraint": constraints.serialize(obj.bias_constraint),
        "dropout": obj.dropout,
        "recurrent_dropout": obj.recurrent_dropout,
    }


_CELL_ATTRIBUTES = {
    "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
    "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
    "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
    "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint",
    "dropout", "recurrent_dropout"}


class ConvLSTM(RNN):
    """``RNN(ConvLSTMCell(rank, filters, kernel_size, ...))`` over sequences of images:
    input (batch, time, *spatial, channels) (``channels_first``: (batch, time, channels,
    *spatial)); output the last ``h`` (batch, *out_spatial, filters), or every step's with
    ``return_sequences=True``; ``return_state=True`` adds the final ``h`` and ``c``.
    ``go_backwards``, ``stateful`` and masks (batch, time) work as in ``RNN``. Weights:
    ``conv_lstm2d/conv_lstm_cell/kernel``, ``.../recurrent_kernel``, ``.../bias``.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, **kwargs):
        cell = ConvLSTMCell(
            rank=rank, filters=filters, kernel_size=kernel_size, strides=strides,
            padding=padding, data_format=data_format, dilation_rate=dilation_rate,
            activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
            seed=seed, name="conv_lstm_cell", dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, **kwargs)
        self.single_state = False
        self.state_size = [-1, -1]  # [h, c]; their shapes come from the input's
        self.input_spec = InputSpec(ndim=rank + 3)

    def __getattr__(self, name):
        """``layer.filters``, ``layer.kernel_initializer``, ...: the cell's (Keras's
        properties)."""
        if name in _CELL_ATTRIBUTES and "cell" in self.__dict__:
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def build(self, sequences_shape, initial_state_shape=None):
        super().build(sequences_shape, initial_state_shape)
        self.input_spec = InputSpec(ndim=self.cell.rank + 3)

    def get_initial_state(self, batch_size):
        return self.cell.get_initial_state(batch_size)

    def _initial_states(self, initial_state, batch_size):
        if initial_state is None:
            return self.get_initial_state(batch_size)
        states = list(initial_state) if isinstance(initial_state, list | tuple) else [
            initial_state]
        expected = [tuple(ops.shape(s)) for s in self.get_initial_state(batch_size)]
        if len(states) != 2:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) expects 2 initial "
                             f"states (h and c) of shapes {expected}, but received "
                             f"{len(states)}.")
        states = [s if hasattr(s, "_value") else ops.convert_to_tensor(s, dtype=self.dtype)
                  for s in states]
        for state, shape in zip(states, expected, strict=True):
            if tuple(state.shape) != shape:
                raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) expects initial "
                                 f"states of shapes {expected}, but received one of shape "
                                 f"{tuple(state.shape)}.")
        return states

    def call(self, sequences, initial_state=None, mask=None, training=False):
        return super().call(sequences, initial_state=initial_state, mask=mask,
                            training=training)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch_size, steps = sequences_shape[0], sequences_shape[1]
        step_shape = (batch_size, *sequences_shape[2:])
        state_shape = tuple(self.cell.compute_output_shape(step_shape)[0][1:])
        if self.return_sequences:
            output_shape = (batch_size, steps, *state_shape)
        else:
            output_shape = (batch_size, *state_shape)
        if self.return_state:
            batched_state_shape = (batch_size, *state_shape)
            return output_shape, batched_state_shape, batched_state_shape
        return output_shape

    def compute_mask(self, inputs, mask):
        mask = tree.flatten(mask)[0] if mask is not None else None
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask, None, None]
        return output_mask

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        return {**config, **_conv_lstm_config(self, activity_regularizer=True),
                "seed": self.cell.seed}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class ConvLSTM1D(ConvLSTM):
    """ConvLSTM over sequences of 1-D signals: input (batch, time, steps, channels), kernels
    (k, channels, 4·filters); see ``ConvLSTM`` and ``ConvLSTMCell``."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):
        super().__init__(
            rank=1, filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
            recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, return_sequences=return_sequences,
            return_state=return_state, go_backwards=go_backwards, stateful=stateful,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed, **kwargs)


class ConvLSTM2D(ConvLSTM):
    """ConvLSTM over sequences of images: input (batch, time, rows, cols, channels), kernels
    (kh, kw, channels, 4·filters); see ``ConvLSTM`` and ``ConvLSTMCell``."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):
        super().__init__(
            rank=2, filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
            recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, return_sequences=return_sequences,
            return_state=return_state, go_backwards=go_backwards, stateful=stateful,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed, **kwargs)


class ConvLSTM3D(ConvLSTM):
    """ConvLSTM over sequences of volumes: input (batch, time, d1, d2, d3, channels), kernels
    (k1, k2, k3, channels, 4·filters); see ``ConvLSTM`` and ``ConvLSTMCell``."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):
        super().__init__(
            rank=3, filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
            recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, return_sequences=return_sequences,
            return_state=return_state, go_backwards=go_backwards, stateful=stateful,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed, **kwargs)
