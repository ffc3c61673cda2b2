"""SimpleRNN: the fully connected recurrent layer (Elman 1990), ``keras.layers.SimpleRNN``."""

from minikeras import activations, ops
from minikeras.layers.rnn.rnn import RecurrentCell, RecurrentLayer


class SimpleRNNCell(RecurrentCell):
    """One step of the simplest recurrence: a Dense layer that also sees its previous output.

        h_t = activation(x_t W + b + h_{t-1} U)      W (input_dim, u), U (u, u), b (u,)

    (activation = tanh by default). The state is ``h`` itself: ``output, [output]``.
    """

    def call(self, sequence, states, training=False):
        prev_output = states[0] if isinstance(states, list | tuple) else states
        h = ops.matmul(self.drop_inputs(sequence, training), self.kernel)
        if self.bias is not None:
            h = ops.add(h, self.bias)
        prev_output = self.drop_state(prev_output, training)
        output = self.activation(ops.add(h, ops.matmul(prev_output, self.recurrent_kernel)))
        return output, [output]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **self.weights_config(),
            "seed": self.seed,
        }


class SimpleRNN(RecurrentLayer):
    """``RNN(SimpleRNNCell(units, ...))`` with the arguments flat, as Keras: input (batch, time,
    features) -> (batch, units), or (batch, time, units) with ``return_sequences=True``; the
    step equation is ``SimpleRNNCell``'s. Keras's SimpleRNN config has no ``seed``."""

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, seed=None, **kwargs):
        cell = SimpleRNNCell(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
            seed=seed, dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True),
            name="simple_rnn_cell")
        super().__init__(cell, activity_regularizer=activity_regularizer,
                         return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["seed"]
        return config
