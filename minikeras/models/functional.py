"""Functional: the model ``keras.Model(inputs, outputs)`` returns, a graph of layer calls.

Calling layers on KerasTensors recorded a ``Node`` per call (``layers/node.py``). The model walks
those nodes back from ``outputs`` to ``inputs`` once, at construction, and sorts them by depth
(the longest path to an output): calling the model then runs the nodes from the deepest to depth
0, each layer on the values its inputs got earlier. A layer called twice (shared) runs twice with
one set of weights; its gradient is the sum over both calls, which the tape adds up on its own::

    a = keras.Input((3,), name="a")          #  a ──► dense ──┐
    b = keras.Input((2,), name="b")          #                 add ──► out
    h = keras.layers.add([Dense(4)(a), Dense(4)(b)])  # b ──► dense_1 ┘
    model = keras.Model([a, b], Dense(1, name="out")(h))

``get_config`` writes Keras 3's format: every layer's config with its ``inbound_nodes`` (the
KerasTensors it was called on, as ``[layer name, node index, tensor index]``), and
``input_layers`` / ``output_layers``; ``from_config`` calls the layers again in that order.
"""

import collections

import numpy as np

from minikeras import ops
from minikeras.layers.input_layer import InputLayer
from minikeras.layers.input_spec import InputSpec, assert_input_compatibility
from minikeras.layers.keras_tensor import KerasTensor
from minikeras.layers.layer import Layer
from minikeras.models.model import Model
from minikeras.tensor import Tensor
from minikeras.utils import tracking, tree


class Functional(Model):
    def __init__(self, inputs, outputs, name=None, trainable=None):
        _check_keras_tensors(inputs, "inputs")
        _check_keras_tensors(outputs, "outputs")
        super().__init__(name=name or _unique_model_name())
        with tracking.untracked():  # the graph's own structures stay as given (as in Keras)
            self._inputs_struct = inputs
            self._outputs_struct = outputs
            self._inputs = tree.flatten(inputs)
            self._outputs = tree.flatten(outputs)
        for x in self._inputs:
            if not isinstance(x._keras_history.operation, InputLayer):
                raise ValueError(
                    f"Model inputs must come from `keras.Input(...)`. Received: {x}, the output "
                    f"of layer '{x._keras_history.operation.name}'. minikeras does not cut a "
                    f"model out of the middle of a graph: build it from new Inputs.")
        self._nodes, self._nodes_by_depth, operations = map_graph(self._inputs, self._outputs)
        self._execution_order = [node for depth in sorted(self._nodes_by_depth, reverse=True)
                                 for node in self._nodes_by_depth[depth] if not node.is_input]
        self._layers = operations
        if trainable is not None:  # as Keras: this (un)freezes every layer
            self.trainable = trainable
        self._check_connected()
        self.output_names = [x._keras_history.operation.name for x in self._outputs]
        self._input_specs = [InputSpec(shape=(None, *x.shape[1:]), name=x.name)
                             for x in self._inputs]
        self.built = True

    # --- what the model is made of --------------------------------------------------------
    @property
    def layers(self):
        """Every layer in the graph, InputLayers included, from the inputs to the outputs."""
        return list(self._layers)

    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    @property
    def input_shape(self):
        return _unpack_singleton([x.shape for x in self._inputs])

    @property
    def output_shape(self):
        return _unpack_singleton([x.shape for x in self._outputs])

    # --- running the graph ----------------------------------------------------------------
    def _convert_input(self, inputs):
        """The inputs as a flat list of tensors in ``model.inputs`` order, checked against the
        Inputs' shapes (a dict is matched by input name). An ``Input(dtype="string")`` takes
        strings (a list of them too, when it is the only input) as an object array of ``str``."""
        if (isinstance(inputs, list | tuple) and inputs and len(self._inputs) == 1
                and self._inputs[0].dtype == "string"
                and all(isinstance(v, str | bytes) for v in inputs)):
            inputs = [ops.core.string_array(list(inputs))]  # one batch of texts, not n inputs
        flat = tree.flatten(self._standardize_structure(inputs))
        converted = []
        for i, (x, ref) in enumerate(zip(flat, self._inputs, strict=True)):
            try:
                x = ops.convert_to_tensor(x, dtype=ref.dtype)
            except (TypeError, ValueError) as error:
                raise type(error)(f"Model '{self.name}' cannot use the data given for its "
                                  f"input '{ref.name}' (dtype {ref.dtype}, shape {ref.shape}): "
                                  f"{error}") from None
            x = _adjust_rank(x, ref)
            assert_input_compatibility(self._input_specs[i], x.shape, self.name, index=i)
            converted.append(x)
        return converted

    def _standardize_structure(self, inputs):
        names = [x.name for x in self._inputs]
        if isinstance(inputs, dict) and not isinstance(self._inputs_struct, dict):
            missing = [name for name in names if name not in inputs]
            if missing:
                raise ValueError(f"Model '{self.name}' received a dict without the input(s) "
                                 f"{missing}. Expected keys: {names}; received keys: "
                                 f"{sorted(inputs)}.")
            return [inputs[name] for name in names]
        flat = tree.flatten(inputs) if isinstance(inputs, list | tuple | dict) else [inputs]
        if len(flat) != len(self._inputs):
            raise ValueError(
                f"Layer \"{self.name}\" expects {len(self._inputs)} named input(s) with keys "
                f"{names}, but it received {len(flat)} input tensors. Pass inputs as a dict, "
                f"e.g. `layer({{{', '.join(f'{n!r}: ...' for n in names)}}})`.")
        return flat

    def call(self, inputs, training=None, mask=None):
        """Run every node, deepest first, each layer on the values its inputs got. Masks travel
        on the tensors (``mask``, one per input, is attached to the inputs first), so a layer
        finds the mask of what it is called on, as in Keras."""
        if mask is not None:
            masks = tree.flatten(mask) if isinstance(mask, list | tuple | dict) else [mask]
            for x, m in zip(inputs, masks, strict=False):
                if m is not None and isinstance(x, Tensor):
                    x._keras_mask = m
        values = {id(ref): x for ref, x in zip(self._inputs, inputs, strict=True)}
        for node in self._execution_order:
            args, kwargs = node.fill_in(values)
            if training is not None:  # the model's flag wins over the one the node recorded
                kwargs["training"] = training
            outputs = node.operation(*args, **kwargs)
            for ref, value in zip(node.outputs, tree.flatten(outputs), strict=True):
                values[id(ref)] = value
        return _unpack_singleton(tree.pack_sequence_as(
            self._outputs_struct, [values[id(x)] for x in self._outputs]))

    def compute_output_shape(self, input_shape):
        """The output shape(s) for new input shapes (one shape, or a list or dict of them as
        the model's inputs are given), in the structure of the model's outputs.

        As Keras does (``compute_output_spec``), each layer is called on placeholders of the
        new shapes (KerasTensors) with the arguments and keyword arguments of its call in the
        graph: a layer taking several inputs (``MultiHeadAttention(query, value, key=key)``,
        ``Attention([q, v])``, merging layers) sees them all, and one giving several outputs
        (``return_attention_scores=True``, ``return_state=True``) gives them all. These calls
        are a dry run: the graph keeps only the calls it was built from."""
        placeholders = _map_shapes(lambda shape: KerasTensor(shape), input_shape)
        flat = self._standardize_structure(placeholders)
        known = {}
        for i, (x, ref) in enumerate(zip(flat, self._inputs, strict=True)):
            assert_input_compatibility(self._input_specs[i], x.shape, self.name, index=i)
            known[id(ref)] = KerasTensor(x.shape, dtype=ref.dtype)
        recorded = [(layer, len(layer._inbound_nodes)) for layer in _all_layers(self._layers)]
        try:
            for node in self._execution_order:
                args, kwargs = node.fill_in(known)
                outputs = node.operation(*args, **kwargs)
                for ref, value in zip(node.outputs, tree.flatten(outputs), strict=True):
                    known[id(ref)] = value
        finally:
            for layer, count in recorded:  # forget the dry run's nodes
                del layer._inbound_nodes[count:]
        return tree.map_structure(lambda x: known[id(x)].shape, self._outputs_struct)

    def _check_connected(self):
        """Every output must be computable from ``inputs`` alone."""
        computable = {id(x) for x in self._inputs}
        for node in self._execution_order:
            if all(id(x) in computable for x in node.input_tensors):
                computable.update(id(x) for x in node.outputs)
        for i, x in enumerate(self._outputs):
            if id(x) not in computable:
                needed = [t.name for t in _input_tensors_behind(x) if t not in self._inputs]
                raise ValueError(
                    f"Output with path `{i if len(self._outputs) > 1 else ''}` is not "
                    f"connected to `inputs`: it depends on the Input(s) {needed}, which are "
                    f"not among the model's inputs {[t.name for t in self._inputs]}.")

    # --- config -------------------------------------------------------------------------
    def get_config(self):
        """Keras 3's functional config: layers with their ``inbound_nodes``, and where the
        model's inputs and outputs are (``[layer name, node index, tensor index]``)."""
        from minikeras.saving.serialization import serialize_keras_object

        node_index = self._reindexed_nodes()
        layer_configs = []
        for layer in self._layers:
            config = serialize_keras_object(layer)
            config["name"] = layer.name
            config["inbound_nodes"] = [
                self._serialize_node(node, node_index) for node in layer._inbound_nodes
                if id(node) in self._nodes and not node.is_input]
            layer_configs.append(config)

        def history(x):
            operation, index, tensor_index = x._keras_history
            return [operation.name, node_index[id(operation._inbound_nodes[index])],
                    tensor_index]

        return {"name": self.name, "trainable": self.trainable, "layers": layer_configs,
                "input_layers": tree.map_structure(history, self._inputs_struct),
                "output_layers": tree.map_structure(history, self._outputs_struct)}

    def _reindexed_nodes(self):
        """``{id(node): index}`` counting only each layer's nodes that belong to this model
        (a layer also used in another model keeps its numbering here from 0)."""
        index = {}
        for layer in self._layers:
            kept = [node for node in layer._inbound_nodes if id(node) in self._nodes]
            index.update({id(node): i for i, node in enumerate(kept)})
        return index

    @staticmethod
    def _serialize_node(node, node_index):
        from minikeras.saving.serialization import serialize_keras_object

        def serialize(x):
            if not isinstance(x, KerasTensor):
                return serialize_keras_object(x)
            operation, index, tensor_index = x._keras_history
            return {"class_name": "__keras_tensor__", "config": {
                "shape": list(x.shape), "dtype": x.dtype, "keras_history": [
                    operation.name, node_index[id(operation._inbound_nodes[index])],
                    tensor_index]}}

        return {"args": tree.map_structure(serialize, list(node.call_args)),
                "kwargs": tree.map_structure(serialize, node.call_kwargs)}

    def get_build_config(self):
        return {"input_shape": None}  # built by its graph, as Keras records it

    def build_from_config(self, config):
        pass


# --- the graph ------------------------------------------------------------------------------
def map_graph(inputs, outputs):
    """``(node ids, {depth: [nodes]}, layers)`` for the graph from ``inputs`` to ``outputs``.

    A node's depth is the longest path from it to an output (outputs' nodes: 0); a layer sits at
    the depth of its deepest node. Layers are listed deepest first, in the order the walk first
    met them within a depth: Keras's order for ``model.layers``, weights and configs.
    """
    nodes_in_order, layer_index = _build_map(outputs)
    node_depth, layer_depth = {}, {}
    for node in reversed(nodes_in_order):
        depth = max(node_depth.setdefault(node, 0), layer_depth.get(node.operation, 0))
        layer_depth[node.operation] = depth
        node_depth[node] = depth
        for parent in node.parent_nodes:
            node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    nodes_by_depth = collections.defaultdict(list)
    for node, depth in node_depth.items():
        nodes_by_depth[depth].append(node)
    layers = sorted(layer_depth, key=lambda layer: (-layer_depth[layer], layer_index[layer]))
    names = [layer.name for layer in layers]
    for name in names:
        if names.count(name) != 1:
            raise ValueError(f'The name "{name}" is used {names.count(name)} times in the '
                             f"model. All operation names should be unique.")
    return {id(node) for node in nodes_in_order}, dict(nodes_by_depth), layers


def _build_map(outputs):
    """The nodes behind ``outputs``, depth first (parents before children), and each layer's
    position in that walk."""
    finished, in_progress, ordered, layer_index = set(), set(), [], {}

    def visit(tensor):
        operation, node_index, _ = tensor._keras_history
        node = operation._inbound_nodes[node_index]
        if node in finished:
            return
        if node in in_progress:
            raise ValueError(f"Tensor {tensor} from operation '{operation.name}' is part of a "
                             f"cycle.")
        layer_index.setdefault(operation, len(layer_index))
        in_progress.add(node)
        for parent_tensor in node.input_tensors:
            visit(parent_tensor)
        finished.add(node)
        in_progress.remove(node)
        ordered.append(node)

    for output in outputs:
        visit(output)
    return ordered, layer_index


def _input_tensors_behind(tensor):
    """The ``keras.Input`` tensors that ``tensor`` was computed from."""
    operation, node_index, _ = tensor._keras_history
    node = operation._inbound_nodes[node_index]
    if node.is_input:
        return [tensor]
    found = []
    for parent in node.input_tensors:
        found += [x for x in _input_tensors_behind(parent) if x not in found]
    return found


# --- rebuilding from a config ------------------------------------------------------------------
def functional_from_config(cls, config, custom_objects=None):
    """Create every layer, then call each on the tensors its ``inbound_nodes`` name, retrying
    the nodes whose inputs do not exist yet until all are done."""
    from minikeras.saving.legacy_h5_format import model_from_config
    from minikeras.saving.serialization import deserialize_keras_object

    created, pending = {}, {}
    for layer_data in config["layers"]:
        if "module" in layer_data:
            layer = deserialize_keras_object(layer_data, custom_objects)
        else:  # Keras 2 and legacy .h5 configs
            layer = model_from_config(layer_data, custom_objects)
        if not isinstance(layer, Layer):
            raise ValueError(f"Unexpected object from deserialization, expected a layer, got "
                             f"a {type(layer)}")
        created[layer_data["name"]] = layer
        pending[layer.name] = list(layer_data["inbound_nodes"])
    while any(pending.values()):
        progress = False
        for name, nodes in pending.items():
            while nodes:
                try:
                    args, kwargs = _deserialize_node(nodes[0], created, custom_objects)
                except IndexError:  # an input is produced by a node not rebuilt yet
                    break
                created[name](*args, **kwargs)
                nodes.pop(0)
                progress = True
        if not progress:
            raise ValueError(f"Invalid Functional model configuration. The graph of the "
                             f"Functional model either has loops or disconnected nodes. The "
                             f"following nodes failed to be resolved: "
                             f"{ {k: v for k, v in pending.items() if v} }")

    def tensor(history):
        name, node_index, tensor_index = history[:3]
        if name not in created:
            raise ValueError(f"Invalid Functional model configuration: no layer named '{name}' "
                             f"for the model's inputs or outputs.")
        return created[name]._inbound_nodes[node_index].outputs[tensor_index]

    def map_tensors(structure):
        if isinstance(structure, list) and len(structure) == 3 and isinstance(structure[0], str):
            return tensor(structure)
        if isinstance(structure, dict):
            return {key: map_tensors(value) for key, value in structure.items()}
        return [map_tensors(value) for value in structure]

    return cls(inputs=map_tensors(config["input_layers"]),
               outputs=map_tensors(config["output_layers"]), name=config.get("name"),
               trainable=config.get("trainable", True))


def _deserialize_node(node_data, created, custom_objects):
    """``(args, kwargs)`` for one call: Keras 3's ``{"args", "kwargs"}`` form, with
    ``"__keras_tensor__"`` entries, or Keras 2's list of ``[name, node, tensor, kwargs]``."""
    from minikeras.saving.serialization import deserialize_keras_object

    def tensor(name, node_index, tensor_index):
        if name not in created:
            raise ValueError(f"Invalid Functional model configuration. Missing node: {name}")
        nodes = created[name]._inbound_nodes
        if len(nodes) <= node_index:
            raise IndexError(f"Layer '{name}' has no node {node_index} yet.")
        return nodes[node_index].outputs[tensor_index]

    if isinstance(node_data, list):  # Keras 2: [["dense", 0, 0, {}], ...]
        tensors = [tensor(*item[:3]) for item in node_data]
        kwargs = node_data[0][3] if len(node_data[0]) > 3 else {}
        return [_unpack_singleton(tensors)], kwargs

    def revive(value):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            return tensor(*value["config"]["keras_history"])
        if isinstance(value, list):
            return [revive(v) for v in value]
        return deserialize_keras_object(value, custom_objects)

    return revive(node_data["args"]), {key: revive(value)
                                       for key, value in node_data["kwargs"].items()}


# --- small helpers ---------------------------------------------------------------------------
def _check_keras_tensors(structure, argument):
    for x in tree.flatten(structure):
        if not isinstance(x, KerasTensor):
            raise ValueError(f"All `{argument}` values must be KerasTensors. Received: "
                             f"{argument}={structure} including invalid value {x} of type "
                             f"{type(x)}")


def _unique_model_name():
    from minikeras import backend

    return backend.unique_name("functional")


def _unpack_singleton(x):
    return x[0] if isinstance(x, list | tuple) and len(x) == 1 else x


def _map_shapes(fn, structure):
    """``fn`` applied to every shape (a tuple or list of ints and Nones) of a structure of
    shapes (lists, tuples, dicts)."""
    if isinstance(structure, list | tuple) and _is_shape(tuple(structure)):
        return fn(tuple(structure))
    if isinstance(structure, dict):
        return {key: _map_shapes(fn, value) for key, value in structure.items()}
    if isinstance(structure, list | tuple):
        return [_map_shapes(fn, value) for value in structure]
    raise ValueError(f"Expected a shape (a tuple of ints and Nones) or a list or dict of "
                     f"shapes, but received {structure!r}.")


def _all_layers(layers):
    """``layers`` and all their sublayers, each once."""
    found, stack = {}, list(layers)
    while stack:
        layer = stack.pop()
        if id(layer) not in found:
            found[id(layer)] = layer
            stack.extend(getattr(layer, "_layers", []))
    return list(found.values())


def _is_shape(shape):
    return isinstance(shape, tuple) and all(d is None or isinstance(d, int | np.integer)
                                            for d in shape)


def _adjust_rank(x, ref):
    """Keras's tolerance: data of shape (n, 1) for an Input of shape (None,), and the reverse."""
    if len(x.shape) == ref.ndim + 1 and x.shape[-1] == 1:
        return ops.squeeze(x, axis=-1)
    if len(x.shape) == ref.ndim - 1 and ref.shape[-1] == 1:
        return ops.expand_dims(x, axis=-1)
    return x
