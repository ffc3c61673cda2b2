"""get_source_inputs: the ``keras.Input`` tensors a functional tensor is computed from
(``keras.utils.get_source_inputs``)."""


def get_source_inputs(tensor):
    """The list of input tensors needed to compute ``tensor``, found by following each
    KerasTensor's ``_keras_history`` (layer, node) back to the InputLayers' nodes; each input
    listed once, in the order first reached. Anything without a history is returned as is."""
    if not hasattr(tensor, "_keras_history"):
        return tensor
    operation, node_index, _ = tensor._keras_history
    if not operation or not operation._inbound_nodes:
        return [tensor]
    node = operation._inbound_nodes[node_index]
    if node.is_input:  # an InputLayer: where the graph starts
        return list(node.outputs)
    source_tensors = []
    for previous in node.input_tensors:
        for x in get_source_inputs(previous):
            if all(x is not t for t in source_tensors):  # each input once
                source_tensors.append(x)
    return source_tensors
