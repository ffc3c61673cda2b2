"""EinsumDense: a Dense layer whose product is any einsum (``keras.layers.EinsumDense``).

``EinsumDense("abc,cd->abd", output_shape=(None, 64), bias_axes="d")`` is ``Dense(64)`` applied
at every position of a ``(batch, time, features)`` input. MultiHeadAttention is four of these:
``"abc,cde->abde"`` projects ``(batch, time, dim)`` to ``(batch, time, heads, key_dim)``.
"""

import re

from minikeras import activations, constraints, initializers, ops, regularizers
from minikeras.layers.input_spec import InputSpec
from minikeras.layers.layer import Layer


class EinsumDense(Layer):
    """``y = activation(einsum(equation, x, kernel) + bias)``.

    The kernel's shape is read from the equation: each kernel letter takes its size from the
    output (``output_shape``) if it appears there, else from the input. The bias covers the
    output letters in ``bias_axes``, from the first of them to the end of the output, with size 1
    for output letters in between that are not in ``bias_axes`` (so it broadcasts):
    ``"abc,cde->abde"`` with ``bias_axes="de"`` has a ``(d, e)`` bias.

    ``equation`` must be ``"X,Y->Z"``, ``"...X,Y->...Z"`` or ``"X...,Y->Z..."``; ``output_shape``
    gives the output's sizes without the batch axis and without the axes ``...`` stands for
    (``None`` for sizes read from the input). Gradients are those of ``ops.einsum``: the output
    gradient einsummed with the other operand, into each operand's letters.

    As in Keras, a VarianceScaling kernel initializer (GlorotUniform, HeNormal, ...) without
    ``input_axes``/``output_axes`` is given the kernel's contracted axes as fan-in and its output
    axes as fan-out: an ``(in, heads, key_dim)`` kernel has fan_in ``in`` and fan_out
    ``heads * key_dim``, not what its shape alone would say. LoRA and quantization are not
    supported.
    """

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None,
                 gptq_unpacked_column_size=None, quantization_config=None, **kwargs):
        if lora_rank or quantization_config is not None or gptq_unpacked_column_size:
            raise NotImplementedError(
                "EinsumDense in minikeras does not support LoRA or quantization "
                f"(received lora_rank={lora_rank}, quantization_config={quantization_config}, "
                f"gptq_unpacked_column_size={gptq_unpacked_column_size}).")
        super().__init__(**kwargs)
        if not isinstance(equation, str):
            raise ValueError(f"EinsumDense expects `equation` to be a string such as "
                             f"'ab,bc->ac'. Received: equation={equation!r}")
        self.equation = equation
        if isinstance(output_shape, int):
            self.partial_output_shape = (output_shape,)
        else:
            self.partial_output_shape = tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.lora_rank = None
        self.lora_alpha = lora_alpha if lora_alpha is not None else lora_rank
        self.lora_enabled = False
        self.kernel = self.bias = None

    def build(self, input_shape):
        kernel_shape, bias_shape, _, input_axes, output_axes = _analyze_einsum_string(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape)
        self.input_spec = InputSpec(ndim=len(input_shape))
        self._build_input_shape = tuple(input_shape)  # build_config, also when built directly
        kernel_initializer = self.kernel_initializer
        if isinstance(kernel_initializer, initializers.VarianceScaling) and (
                kernel_initializer.input_axes is None or kernel_initializer.output_axes is None):
            config = kernel_initializer.get_config()
            config.update(seed=kernel_initializer.seed, input_axes=input_axes,
                          output_axes=output_axes)
            kernel_initializer = type(kernel_initializer).from_config(config)
        self.kernel = self.add_weight(
            name="kernel", shape=tuple(kernel_shape), initializer=kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if bias_shape is not None:
            self.bias = self.add_weight(
                name="bias", shape=tuple(bias_shape), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs, training=None):
        x = ops.einsum(_spell_out_ellipsis(self.equation, len(inputs.shape)), inputs,
                       self.kernel)
        if self.bias is not None:
            x = ops.add(x, self.bias)
        if self.activation is not None:
            x = self.activation(x)
        return x

    def compute_output_shape(self, input_shape):
        return tuple(_analyze_einsum_string(self.equation, self.bias_axes, input_shape,
                                            self.partial_output_shape)[2])

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)  # Keras writes it below, even when None
        return {
            **config,
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("quantization_config") is None:
            config.pop("quantization_config", None)
        return cls(**config)


def _spell_out_ellipsis(equation, ndim):
    """``"...b,bc->...c"`` for a rank-3 input as ``"Aab,bc->Aac"``-like letters: the same
    product without ``...`` (whose gradient ``ops.einsum`` cannot sum back over)."""
    if "..." not in equation:
        return equation
    inputs = equation.split(",")[0]
    count = ndim - (len(inputs) - 3)
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in equation][:count]
    return equation.replace("...", "".join(spare))


def _analyze_einsum_string(equation, bias_axes, input_shape, output_shape):
    """``(kernel_shape, bias_shape, full_output_shape, input_axes, output_axes)`` for an
    equation ``X,Y->Z`` (optionally with ``...`` leading X and Z, or trailing them)."""
    dot_replaced = re.sub(r"\.\.\.", "0", equation)
    split = re.match("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", dot_replaced)
    if split:
        return _analyze_split_string(split, bias_axes, input_shape, output_shape)
    split = re.match("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", dot_replaced)
    if split:
        return _analyze_split_string(split, bias_axes, input_shape, output_shape,
                                     left_elided=True)
    split = re.match("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", dot_replaced)
    if split:
        return _analyze_split_string(split, bias_axes, input_shape, output_shape)
    raise ValueError(f"Invalid einsum equation '{equation}'. Equations must be in the form "
                     "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")


def _analyze_split_string(split, bias_axes, input_shape, output_shape, left_elided=False):
    """Keras's shape bookkeeping: the full output shape (batch axis first, elided axes put
    back), then each kernel letter's size from the output or the input, then the bias."""
    input_spec, weight_spec, output_spec = split.group(1), split.group(2), split.group(3)
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(input_spec)
    output_shape = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    output_shape.insert(0, input_shape[0])
    if elided > 0 and left_elided:
        for i in range(1, elided):
            output_shape.insert(1, input_shape[i])
    elif elided > 0:
        for i in range(len(input_shape) - elided, len(input_shape)):
            output_shape.append(input_shape[i])

    if left_elided:
        input_dim_map = {dim: (i + elided) - len(input_shape) for i, dim in enumerate(input_spec)}
        output_dim_map = {dim: i + elided for i, dim in enumerate(output_spec)}
    else:
        input_dim_map = {dim: i for i, dim in enumerate(input_spec)}
        output_dim_map = {dim: i for i, dim in enumerate(output_spec)}

    for dim in input_spec:
        input_size = input_shape[input_dim_map[dim]]
        if dim in output_dim_map:
            output_size = output_shape[output_dim_map[dim]]
            if output_size is not None and output_size != input_size:
                raise ValueError(
                    "Input shape and output shape do not match at shared dimension "
                    f"'{dim}'. Input shape is {input_size}, and output shape is {output_size}.")
    for dim in output_spec:
        if dim not in input_spec and dim not in weight_spec:
            raise ValueError(
                f"Dimension '{dim}' was specified in the output '{output_spec}' but has no "
                f"corresponding dim in the input spec '{input_spec}' or weight spec "
                f"'{output_spec}'")

    weight_shape, input_axes, output_axes = [], [], []
    for i, dim in enumerate(weight_spec):
        if dim in output_dim_map:
            weight_shape.append(output_shape[output_dim_map[dim]])
            output_axes.append(i)
        elif dim in input_dim_map:
            weight_shape.append(input_shape[input_dim_map[dim]])
            input_axes.append(i)
        else:
            raise ValueError(
                f"Weight dimension '{dim}' did not have a match in either the input spec "
                f"'{input_spec}' or the output spec '{output_spec}'. For this layer, the weight "
                "must be fully specified.")

    bias_shape = None
    if bias_axes is not None:
        num_left_elided = elided if left_elided else 0
        sizes = {char: output_shape[i + num_left_elided] for i, char in enumerate(output_spec)}
        for char in bias_axes:
            if char not in output_spec:
                raise ValueError(f"Bias dimension '{char}' was requested, but is not part of "
                                 f"the output spec '{output_spec}'")
        first = min(output_spec.find(char) for char in bias_axes)
        bias_shape = [sizes[char] if char in bias_axes else 1 for char in output_spec[first:]]
        if not left_elided:
            bias_shape += [1] * max(elided, 0)
    return weight_shape, bias_shape, output_shape, input_axes, output_axes
