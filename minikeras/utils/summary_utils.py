"""``model.summary()``: the table of layers, output shapes and parameter counts.

Keras draws the table with the ``rich`` library; minikeras draws the same characters by hand, so
the output equals Keras's byte for byte (without the colours rich adds on a real terminal)::

    Model: "sequential"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
    ┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
    │ dense (Dense)                        │ (None, 3)                   │               9 │
    └──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
     Total params: 9 (36.00 B)
     Trainable params: 9 (36.00 B)
     Non-trainable params: 0 (0.00 B)

The table is ``line_length`` characters wide: 88, or the terminal width minus 4 if smaller. The
columns start at ``positions`` (fractions of the line: 0.45, 0.80, 1.0), and rich then takes
3 characters per column plus 1 back (the borders and the one-space padding) as evenly as it can.
"""

import itertools
import math
import os
import re
import shutil

from minikeras.utils import io_utils

# Bits per value, as Keras counts memory (``keras.src.utils.dtype_utils.DTYPE_TO_SIZE``).
DTYPE_TO_SIZE = {
    **{f"float{i}": i for i in (16, 32, 64)},
    **{f"int{i}": i for i in (8, 16, 32, 64)},
    **{f"uint{i}": i for i in (8, 16, 32, 64)},
    "bfloat16": 16,
    "bool": 1,
}

# rich's HEAVY_HEAD box: (left, line, divider, right) for each kind of row.
_TOP = ("┏", "━", "┳", "┓")
_HEADER = ("┃", " ", "┃", "┃")
_HEADER_RULE = ("┡", "━", "╇", "┩")
_BODY = ("│", " ", "│", "│")
_ROW_RULE = ("├", "─", "┼", "┤")
_BOTTOM = ("└", "─", "┴", "┘")


def count_params(weights):
    """Number of scalars in ``weights``: the sum of the products of their shapes."""
    return int(sum(math.prod(w.shape) for w in weights))


def weight_memory_size(weights):
    """Bytes taken by ``weights`` (each distinct variable counted once)."""
    unique_weights = {id(w): w for w in weights}.values()
    bits = sum(math.prod(w.shape) * DTYPE_TO_SIZE[str(w.dtype)] for w in unique_weights)
    return bits / 8


def readable_memory_size(weight_memory_size):
    """``52.00 B``, ``1.50 KB``, ``3.25 MB``... (powers of 1024)."""
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    for unit in units:
        if weight_memory_size / 1024 < 1:
            return f"{weight_memory_size:.2f} {unit}"
        weight_memory_size /= 1024
    return f"{weight_memory_size:.2f} {units[-1]}"


def format_layer_shape(layer):
    """``(None, 3)`` (from the layer's latest call on KerasTensors, else from the shape its
    model built it for), ``?`` when unknown; several outputs as ``[(None, 3), (None, 1)]``."""
    nodes = getattr(layer, "_inbound_nodes", None)
    if nodes:
        shapes = [_format_shape(x.shape) for x in nodes[-1].outputs]
        return shapes[0] if len(shapes) == 1 else str(shapes).replace("'", "")
    shape = getattr(layer, "output_shape", None)
    if shape is None:
        return "?"
    return _format_shape(shape)


def _format_shape(shape):
    return f"({', '.join(str(dim) for dim in shape)})"


def is_sequential_like(model):
    """Whether the summary can leave out the "Connected to" column: a Sequential or subclassed
    model, or a functional one that is a plain chain (one node per depth, each with one input,
    no layer called twice)."""
    nodes_by_depth = getattr(model, "_nodes_by_depth", None)
    if nodes_by_depth is None:
        return True
    nodes = [node for depth in nodes_by_depth.values() for node in depth]
    if any(len(depth) > 1 for depth in nodes_by_depth.values()) or any(
            len(node.input_tensors) > 1 for node in nodes):
        return False
    return all(sum(node in nodes for node in layer._inbound_nodes) <= 1
               for layer in model.layers)


def _connections(layer, model):
    """``dense[0][0], dense_1[0][0]``: the layer, node and output each input came from."""
    connections = [f"{x._keras_history.operation.name}[{x._keras_history.node_index}]"
                   f"[{x._keras_history.tensor_index}]"
                   for node in layer._inbound_nodes if id(node) in model._nodes
                   for x in node.input_tensors]
    return ", ".join(connections) or "-"


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False,
                  show_trainable=False, layer_range=None):
    """Print (or hand the whole text to ``print_fn``) the summary of a model; a functional model
    that is not a plain chain gets a fourth column, "Connected to"."""
    sequential_like = is_sequential_like(model)
    if sequential_like:
        default_line_length = 88
        positions = positions or [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
        justify = ["left", "left", "right"]
    else:
        default_line_length = 108
        positions = positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        justify = ["left", "left", "right", "left"]
    if show_trainable:
        default_line_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        justify.append("center")
    default_line_length = min(default_line_length, shutil.get_terminal_size().columns - 4)
    line_length = line_length or default_line_length
    column_widths = []
    current = 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        column_widths.append(width)
        current += width

    def layer_rows(layer, nested_level=0):
        prefix = "   " * nested_level + "└ " if nested_level else ""
        connections = None if sequential_like else _connections(layer, model)
        rows = [_layer_fields(layer, prefix, show_trainable, connections)]
        if expand_nested and getattr(layer, "layers", None):
            for inner in layer.layers:
                rows.extend(layer_rows(inner, nested_level + 1))
        return rows

    layers = model.layers
    first, last = get_layer_index_bound_by_layer_name(layers, layer_range)
    rows = [row for layer in layers[first:last] for row in layer_rows(layer)]
    table = render_table(header, rows, column_widths, justify, line_length)
    console_width = _console_width()
    lines = [f'Model: "{model.name}"'] + [line[:console_width] for line in table]
    lines += _totals_lines(model)
    text = "\n".join(lines) + "\n"
    if print_fn:
        print_fn(text)
    else:
        io_utils.print_msg(text, line_break=False)  # stdout, or `logging` if not interactive


def _layer_fields(layer, prefix, show_trainable, connections=None):
    """The cells of one row: name (type), output shape, parameter count[, connected to]
    [, trainable]."""
    if not hasattr(layer, "built"):
        params = "0"
    elif not layer.built:
        params = "0 (unbuilt)"
    else:
        params = f"{layer.count_params():,}"
    fields = [f"{prefix}{layer.name} ({type(layer).__name__})", format_layer_shape(layer), params]
    if connections is not None:
        fields.append(connections)
    if show_trainable:
        if getattr(layer, "weights", None):
            fields.append("Y" if layer.trainable else "N")
        else:
            fields.append("-")
    return fields


def _totals_lines(model):
    """`` Total params: 13 (52.00 B)`` and the trainable / non-trainable / optimizer lines."""
    groups = [("Trainable", model.trainable_weights),
              ("Non-trainable", model.non_trainable_weights)]
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and optimizer.built:
        groups.append(("Optimizer", optimizer.variables))
    counts = [(name, count_params(ws), weight_memory_size(ws)) for name, ws in groups]
    total = ("Total", sum(c for _, c, _ in counts), sum(m for _, _, m in counts))
    return [f" {name} params: {count:,} ({readable_memory_size(memory)})"
            for name, count, memory in [total, *counts]]


def get_layer_index_bound_by_layer_name(layers, layer_range=None):
    """``[first, last + 1]``: the slice of ``layers`` from the first layer whose name matches the
    regex ``layer_range[0]`` to the last one matching ``layer_range[1]`` (all layers if None)."""
    if layer_range is None:
        return [0, len(layers)]
    if len(layer_range) != 2:
        raise ValueError("layer_range must be a list or tuple of length 2. Received: "
                         f"layer_range = {layer_range} of length {len(layer_range)}")
    if not isinstance(layer_range[0], str) or not isinstance(layer_range[1], str):
        raise ValueError(f"layer_range should contain string type only. Received: {layer_range}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError("Passed layer_names do not match the layer names in the model. "
                         f"Received: {layer_range}")
    if min(lower) > max(upper):
        return [min(upper), max(lower) + 1]
    return [min(lower), max(upper) + 1]


def _console_width():
    """The width rich gives its console: the first terminal among stdin, stdout and stderr,
    overridden by the ``COLUMNS`` variable; 80 if neither says."""
    width = None
    for fd in (0, 1, 2):
        try:
            width = os.get_terminal_size(fd).columns
            break
        except (AttributeError, ValueError, OSError):
            continue
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        width = int(columns)
    return width or 80


# --- the table, drawn as rich draws Table(show_lines=True) with fixed column widths -------------
def render_table(header, rows, column_widths, justify, table_width):
    """The lines of a boxed table ``table_width`` characters wide."""
    widths = _fit_widths([w + 2 for w in column_widths], table_width - (len(column_widths) + 1))
    lines = [_rule(_TOP, widths)]
    lines += _row_lines(header, widths, justify, _HEADER, align_bottom=True)
    lines.append(_rule(_HEADER_RULE, widths))
    for i, row in enumerate(rows):
        if i:
            lines.append(_rule(_ROW_RULE, widths))
        lines += _row_lines(row, widths, justify, _BODY, align_bottom=False)
    lines.append(_rule(_BOTTOM, widths))
    return lines


def _fit_widths(widths, available):
    """Cell widths (padding included) made to fill ``available`` exactly, as rich does.

    Too wide: the excess is removed evenly, column by column, each share rounded (Python's round:
    halves go to even). Too narrow: the room left is shared in proportion to the widths, each
    share rounded up.
    """
    widths = [min(w, available) for w in widths]
    excess = sum(widths) - available
    result = []
    if excess > 0:
        remaining_columns = len(widths)
        for width in widths:
            cut = min(width, round(excess / remaining_columns))
            result.append(width - cut)
            excess -= cut
            remaining_columns -= 1
    else:
        room, total = -excess, sum(widths)
        for width in widths:
            extra = math.ceil(width * room / total)
            result.append(width + extra)
            room -= extra
            total -= width
    return result


def _rule(box, widths):
    left, line, divider, right = box
    return left + divider.join(line * w for w in widths) + right


def _row_lines(cells, widths, justify, box, align_bottom):
    """One table row: every cell wrapped to its column, the short ones padded with blank lines."""
    left, _, divider, right = box
    wrapped = [_wrap(str(cell), w - 2, how)
               for cell, w, how in zip(cells, widths, justify, strict=True)]
    height = max(len(lines) for lines in wrapped)
    columns = []
    for lines, w in zip(wrapped, widths, strict=True):
        blank = [" " * (w - 2)] * (height - len(lines))
        lines = blank + lines if align_bottom else lines + blank
        columns.append([f" {line} " for line in lines])
    return [left + divider.join(col[i] for col in columns) + right for i in range(height)]


def _wrap(text, width, justify):
    """``text`` word-wrapped into lines of exactly ``width`` characters, as rich does for a cell.

    Words go on the current line while they fit, else on a new one; a word longer than the
    line is cut and ends with ``…``.
    """
    lines = []
    for paragraph in text.split("\n"):
        for line in _divide_line(paragraph, width):
            if len(line) > width:  # drop trailing spaces that run past the edge
                trailing = len(line) - len(line.rstrip())
                line = line[: len(line) - min(trailing, len(line) - width)]
            if justify != "left":
                line = line.rstrip()
            if len(line) > width:
                line = line[: width - 1] + "…"
            if justify == "right":
                line = line.rjust(width)
            elif justify == "center":
                left_pad = (width - len(line)) // 2
                line = (" " * left_pad + line).ljust(width)
            else:
                line = line.ljust(width)
            lines.append(line)
    return lines


def _divide_line(text, width):
    """Split ``text`` into lines at word starts (a word carries the spaces that follow it)."""
    breaks = []
    offset = 0
    for match in re.finditer(r"\s*\S+\s*", text):
        start, word = match.start(), match.group(0)
        word_length = len(word.rstrip())
        if width - offset >= word_length:
            offset += len(word)
        elif word_length > width:  # too long for any line: it starts a new line and is cut later
            if start:
                breaks.append(start)
            offset = len(word)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    bounds = [0, *breaks, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]
