"""Wrapper: the base class of layers that wrap another layer (``keras.layers.Wrapper``, Keras's
``keras/src/layers/core/wrapper.py``)."""

from minikeras.layers.layer import Layer


class Wrapper(Layer):
    """Abstract base of the layers that take another layer and augment it
    (``TimeDistributed``, ``SpectralNormalization``; ``Bidirectional`` is not one, in Keras
    either).

    It stores the wrapped layer as ``self.layer`` (tracked, so its weights are the wrapper's and
    its weight paths read ``<wrapper>/<layer>/kernel``), builds it with the wrapper's input shape,
    and writes it into the config as ``{"layer": serialize(layer)}``. It has no ``call``: a
    subclass says what the wrapping does.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Layer {layer} supplied to Wrapper isn't a supported layer type. "
                             "Please ensure wrapped layer is a valid Keras layer.")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer._parent_path = self.path  # "<wrapper>/<layer>/kernel", as Keras names it
            if input_shape is None:
                self.layer.build(input_shape)
            else:
                self.layer._build_for(input_shape)  # also records its build_config
            self.layer.built = True
        self.built = True

    def get_config(self):
        from minikeras.saving.serialization import serialize_keras_object

        return {**super().get_config(), "layer": serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from minikeras.saving.serialization import deserialize_keras_object

        config = dict(config)
        layer = deserialize_keras_object(config.pop("layer"), custom_objects=custom_objects)
        return cls(layer, **config)
