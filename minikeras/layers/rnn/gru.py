"""GRU: the Gated Recurrent Unit (Cho et al. 2014), ``keras.layers.GRU``."""

from minikeras import activations, ops
from minikeras.layers.rnn.rnn import RecurrentCell, RecurrentLayer, check_use_cudnn


class GRUCell(RecurrentCell):
    """One GRU step. Three gates, side by side in the weights in Keras's order z, r, h:

      reset_after=True (Keras's default, the cuDNN form; bias (2, 3u): input row b, recurrent
      row b_r):
        x = x_t W + b,   m = h_{t-1} U + b_r
        z = σ(x_z + m_z)                  update gate     (σ = recurrent_activation, sigmoid)
        r = σ(x_r + m_r)                  reset gate
        ĥ = tanh(x_h + r * m_h)           candidate       (tanh = activation)
      reset_after=False (the original paper's; bias (3u,)):
        z, r as above without b_r;        ĥ = tanh(x_h + (r * h_{t-1}) U_h)
      then
        h_t = z * h_{t-1} + (1 - z) * ĥ

    The state is ``h``: ``output, [output]``.
    """

    gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", reset_after=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = reset_after

    def build(self, input_shape):
        super().build(input_shape, bias_shape=(2, 3 * self.units) if self.reset_after else None)

    def call(self, inputs, states, training=False):
        h_prev = states[0] if isinstance(states, list | tuple) else states
        u = self.units
        input_bias = recurrent_bias = None
        if self.bias is not None:
            if self.reset_after:
                input_bias, recurrent_bias = ops.getitem(self.bias, 0), ops.getitem(self.bias, 1)
            else:
                input_bias = self.bias
        x = ops.matmul(self.drop_inputs(inputs, training), self.kernel)
        if input_bias is not None:
            x = ops.add(x, input_bias)
        x_z, x_r, x_h = ops.split(x, 3, axis=-1)
        h_rec = self.drop_state(h_prev, training)
        if self.reset_after:
            inner = ops.matmul(h_rec, self.recurrent_kernel)
            if recurrent_bias is not None:
                inner = ops.add(inner, recurrent_bias)
            m_z, m_r, m_h = ops.split(inner, 3, axis=-1)
        else:
            inner = ops.matmul(h_rec, ops.getitem(self.recurrent_kernel, (slice(None),
                                                                           slice(0, 2 * u))))
            m_z, m_r = ops.split(inner, 2, axis=-1)
        z = self.recurrent_activation(ops.add(x_z, m_z))
        r = self.recurrent_activation(ops.add(x_r, m_r))
        if self.reset_after:
            recurrent_h = ops.multiply(r, m_h)
        else:
            recurrent_h = ops.matmul(ops.multiply(r, h_rec), ops.getitem(
                self.recurrent_kernel, (slice(None), slice(2 * u, None))))
        hh = self.activation(ops.add(x_h, recurrent_h))
        h = ops.add(ops.multiply(z, h_prev), ops.multiply(ops.subtract(1.0, z), hh))
        return h, [h]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            **self.weights_config(),
            "reset_after": self.reset_after,
            "seed": self.seed,
        }


class GRU(RecurrentLayer):
    """``RNN(GRUCell(units, ...))`` with the arguments flat, as Keras: input (batch, time,
    features) -> (batch, units), or (batch, time, units) with ``return_sequences=True``; the
    step equations are ``GRUCell``'s. ``use_cudnn`` is accepted (one NumPy loop here)."""

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, reset_after=True,
                 use_cudnn="auto", **kwargs):
        cell = GRUCell(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, reset_after=reset_after,
            seed=seed, dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True),
            name="gru_cell")
        kwargs.pop("implementation", None)
        super().__init__(cell, activity_regularizer=activity_regularizer,
                         return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)
        self.use_cudnn = check_use_cudnn(use_cudnn)
