"""``value_range`` of the colour layers: Keras's check and its linear map between ranges
(``BaseImagePreprocessingLayer._transform_value_range`` in Keras). The colour layers compute on
0-255 pixels, so images in another range (``(0, 1)``, ``(-1, 1)``) go there and back."""

from minikeras import ops

VALUE_RANGE_ERROR = "The `value_range` argument should be a list of two numbers. "


def check_value_range(layer, value_range):
    """A pair of numbers, returned sorted as a list (Keras stores ``sorted(value_range)``)."""
    if not isinstance(value_range, tuple | list) or len(value_range) != 2:
        raise ValueError(f"{layer}: {VALUE_RANGE_ERROR}Received: value_range={value_range}")
    return sorted(value_range)


def transform_value_range(images, original_range, target_range, dtype="float32"):
    """``(x - lo) / (hi - lo) * (target_hi - target_lo) + target_lo`` in ``dtype``; the images
    unchanged (not even cast) when the two ranges are equal, as in Keras."""
    if original_range[0] == target_range[0] and original_range[1] == target_range[1]:
        return images
    images = ops.cast(images, dtype)
    low, high = (ops.cast(v, dtype) for v in original_range)
    target_low, target_high = (ops.cast(v, dtype) for v in target_range)
    unit = ops.divide(ops.subtract(images, low), ops.subtract(high, low))
    return ops.add(ops.multiply(unit, ops.subtract(target_high, target_low)), target_low)
