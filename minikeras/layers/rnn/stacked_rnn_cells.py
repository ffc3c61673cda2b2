"""StackedRNNCells: several RNN cells acting as one cell (``keras.layers.StackedRNNCells``,
Keras's ``layers/rnn/stacked_rnn_cells.py``).

One step of the stack is one step of each cell, bottom to top, each reading the output of the
one below and its own states:

    x = x_t
    for cell k = 0 .. K-1:
        x, states_k = cell_k(x, states_k)
    output_t = x                          new states: [states_0, ..., states_{K-1}]

so ``RNN(StackedRNNCells([LSTMCell(8), LSTMCell(4)]))`` computes what
``LSTM(8, return_sequences=True)`` then ``LSTM(4)`` compute, in one time loop.
``RNN([cell_0, cell_1])`` wraps the list in a StackedRNNCells, as Keras does.
"""

from minikeras import ops, tree
from minikeras.layers.layer import Layer


class StackedRNNCells(Layer):
    """A list of RNN cells behaving as one cell inside ``keras.layers.RNN``.

    Its states are nested, one entry per cell:

        state_size    [cell.state_size for each cell]     e.g. [[8, 8], [4, 4]] for two LSTMCells
        output_size   the last cell's output_size (or its first state size)

    so ``RNN(stack, return_state=True)`` returns ``(output, [h_0, c_0], [h_1, c_1])``: the
    output, then each cell's final states in the structure the cell keeps them (a list for
    minikeras's and Keras's cells; a bare tensor only where a bare initial state was given).

    Weights: each cell's, in the order of the cells; their paths are
    ``rnn/stacked_rnn_cells/lstm_cell/kernel``, ``.../lstm_cell_1/kernel``, ... as in Keras.
    Dropout of the cells applies as in a single-cell RNN: one mask per cell, drawn once a call.
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if "call" not in dir(cell):
                raise ValueError("All cells must have a `call` method. "
                                 f"Received cell without a `call` method: {cell}")
            if "state_size" not in dir(cell):
                raise ValueError("All cells must have a `state_size` attribute. "
                                 f"Received cell without a `state_size`: {cell}")
        self.cells = cells
        for cell in cells:  # tracked in order: the stack's weights are its cells', in order
            if isinstance(cell, Layer) and cell not in self._layers:
                self._layers.append(cell)

    @property
    def state_size(self):
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self):
        return _output_size(self.cells[-1])

    def get_initial_state(self, batch_size=None):
        """One entry per cell: the cell's own ``get_initial_state``, or zeros of its sizes."""
        initial_states = []
        for cell in self.cells:
            get_initial_state = getattr(cell, "get_initial_state", None)
            if get_initial_state:
                initial_states.append(get_initial_state(batch_size=batch_size))
            elif isinstance(cell.state_size, int):
                initial_states.append(ops.zeros((batch_size, cell.state_size), dtype=self.dtype))
            else:
                initial_states.append([ops.zeros((batch_size, size), dtype=self.dtype)
                                       for size in cell.state_size])
        return initial_states

    def call(self, inputs, states, training=False):
        """One step of every cell, bottom to top; each cell's new states keep the structure of
        the states it was given (a bare tensor stays bare)."""
        new_states = []
        for cell, cell_states in zip(self.cells, states, strict=False):
            state_is_list = tree.is_nested(cell_states)
            cell_states = list(cell_states) if state_is_list else [cell_states]
            kwargs = {"training": training} if getattr(cell, "_call_takes_training",
                                                       False) else {}
            call = cell.__call__ if callable(cell) else cell.call
            inputs, cell_states = call(inputs, cell_states, **kwargs)
            if not tree.is_nested(cell_states):
                cell_states = [cell_states]
            if len(cell_states) == 1 and not state_is_list:
                cell_states = cell_states[0]
            new_states.append(cell_states)
        if len(new_states) == 1:
            new_states = new_states[0]
        return inputs, new_states

    def build(self, input_shape):
        """Build each cell for the output of the one below: ``(batch, features)``, then
        ``(batch, output_size of cell k-1)``. The cells' weights live under the stack's path."""
        batch_size = tree.flatten(input_shape)[0]
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell._parent_path = self.path
                cell.build(input_shape)
                cell._build_input_shape = tuple(input_shape)  # its build_config, as Keras's
                cell.built = True
            input_shape = (batch_size, _output_size(cell))
        self.built = True

    def get_config(self):
        from minikeras.saving.serialization import serialize_keras_object

        return {**super().get_config(),
                "cells": [serialize_keras_object(cell) for cell in self.cells]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from minikeras.saving.serialization import deserialize_keras_object

        config = dict(config)
        cells = [deserialize_keras_object(cell, custom_objects=custom_objects)
                 for cell in config.pop("cells")]
        return cls(cells, **config)


def _output_size(cell):
    """A cell's ``output_size``, else its (first) state size: the width of what it outputs."""
    if getattr(cell, "output_size", None) is not None:
        return cell.output_size
    if isinstance(cell.state_size, list | tuple):
        return cell.state_size[0]
    return cell.state_size
