"""Node: one call of a layer on KerasTensors, the vertex of a functional model's graph.

``y = dense(x)`` on a KerasTensor ``x`` appends a Node to ``dense._inbound_nodes`` holding the
call's arguments (``x``) and outputs (``y``), and stamps ``y._keras_history = (dense, index of
that node, 0)``. Following the histories back from a model's outputs visits the whole graph,
KerasTensors as edges and Nodes as vertices. A layer called twice (a shared layer) has two Nodes
and one set of weights.
"""

import collections

from minikeras.layers.keras_tensor import KerasTensor
from minikeras.utils import tree

KerasHistory = collections.namedtuple("KerasHistory", ["operation", "node_index",
                                                       "tensor_index"])


class Node:
    def __init__(self, operation, call_args=(), call_kwargs=None, outputs=()):
        self.operation = operation
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.input_tensors = [x for x in tree.flatten([self.call_args, self.call_kwargs])
                              if isinstance(x, KerasTensor)]
        self.outputs = tree.flatten(outputs)
        self.is_input = not self.input_tensors  # an InputLayer's node: where graphs start
        operation._inbound_nodes.append(self)
        node_index = len(operation._inbound_nodes) - 1
        for i, tensor in enumerate(self.outputs):
            tensor._keras_history = KerasHistory(operation, node_index, i)

    @property
    def parent_nodes(self):
        """The nodes whose outputs this node takes as inputs."""
        return [x._keras_history.operation._inbound_nodes[x._keras_history.node_index]
                for x in self.input_tensors]

    def fill_in(self, tensor_dict):
        """The call's ``(args, kwargs)`` with each KerasTensor replaced by its value in
        ``tensor_dict`` (keyed by ``id``)."""
        def value(x):
            return tensor_dict[id(x)] if isinstance(x, KerasTensor) else x
        return (tree.map_structure(value, list(self.call_args)),
                tree.map_structure(value, self.call_kwargs))

    def __repr__(self):
        return f"<Node operation={self.operation.name}, id={id(self)}>"
