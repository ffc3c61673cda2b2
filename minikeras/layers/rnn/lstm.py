"""LSTM: Long Short-Term Memory (Hochreiter & Schmidhuber 1997), ``keras.layers.LSTM``."""

from minikeras import activations, ops
from minikeras.layers.rnn.rnn import RecurrentCell, RecurrentLayer, check_use_cudnn


class LSTMCell(RecurrentCell):
    """One LSTM step. Four gates, side by side in the weights in Keras's order i, f, c, o:

        z = x_t W + h_{t-1} U + b                    W (input_dim, 4u), U (u, 4u), b (4u,)
        i = σ(z_i)       input gate               (σ = recurrent_activation, sigmoid)
        f = σ(z_f)       forget gate
        c_t = f * c_{t-1} + i * tanh(z_c)           the carry (cell state)   (tanh = activation)
        o = σ(z_o)       output gate
        h_t = o * tanh(c_t)                          the output, and the next step's state

    States: ``[h, c]``. ``unit_forget_bias=True`` starts the forget gate's bias at 1 (the rest
    from ``bias_initializer``), so that an untrained cell remembers (Jozefowicz et al. 2015).
    Gradients come from the tape: every line above is recorded ops.
    """

    gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [units, units]

    def build(self, input_shape):
        super().build(input_shape)
        if self.bias is not None and self.unit_forget_bias:
            bias = self.bias.numpy()
            bias[self.units:2 * self.units] = 1.0  # forget gate: ones
            self.bias.assign(bias)

    def call(self, inputs, states, training=False):
        h_prev, c_prev = states
        inputs = self.drop_inputs(inputs, training)
        h_rec = self.drop_state(h_prev, training)
        z = ops.add(ops.matmul(inputs, self.kernel), ops.matmul(h_rec, self.recurrent_kernel))
        if self.bias is not None:
            z = ops.add(z, self.bias)
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = ops.add(ops.multiply(f, c_prev), ops.multiply(i, self.activation(z_c)))
        o = self.recurrent_activation(z_o)
        h = ops.multiply(o, self.activation(c))
        return h, [h, c]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "unit_forget_bias": self.unit_forget_bias,
            **self.weights_config(),
            "seed": self.seed,
        }


class LSTM(RecurrentLayer):
    """``RNN(LSTMCell(units, ...))`` with the arguments flat, as Keras. Input (batch, time,
    features); output (batch, units), or (batch, time, units) with ``return_sequences=True``;
    ``return_state=True`` adds the final ``h`` and ``c``. The step equations are
    ``LSTMCell``'s. Weights: ``lstm/lstm_cell/kernel``, ``.../recurrent_kernel``, ``.../bias``.

    ``use_cudnn`` is accepted (minikeras always runs the same NumPy loop).
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 use_cudnn="auto", **kwargs):
        cell = LSTMCell(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
            seed=seed, dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True),
            name="lstm_cell")
        kwargs.pop("implementation", None)
        super().__init__(cell, activity_regularizer=activity_regularizer,
                         return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)
        self.use_cudnn = check_use_cudnn(use_cudnn)
