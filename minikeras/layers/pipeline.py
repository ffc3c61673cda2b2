"""Pipeline: a series of layers applied one after the other (``keras.layers.Pipeline``, Keras's
``keras/src/layers/preprocessing/pipeline.py``)."""

from minikeras import tree
from minikeras.layers.layer import Layer


class Pipeline(Layer):
    """``Pipeline([layer_1, ..., layer_n])(x) = layer_n(... layer_2(layer_1(x)))``.

    Unlike a ``Sequential`` model it is a plain layer (made for preprocessing and data
    augmentation chains). As in Keras:

    - ``training`` defaults to True: called on its own, a Pipeline of random augmentation (or
      Dropout) layers is active; inside a model, the model's flag is passed on;
    - each layer gets the mask the previous one left on its output (when its ``call`` takes a
      ``mask``);
    - the config is only ``{"layers": [...], "name": ...}``; the constructor takes only
      ``layers`` and ``name``.

    The layers are listed in ``layers`` (weights: the first layer's, then the next one's, ...;
    paths ``pipeline/dense/kernel``; in files ``pipeline/layers/dense/vars``, as Keras).
    """

    def __init__(self, layers, name=None):
        super().__init__(name=name)
        self.layers = layers

    @property
    def _pipeline_layers(self):
        """Keras's name for ``layers``."""
        return self.layers

    def build(self, input_shape):
        """Build each layer on the shape the previous one gives (Keras builds them at the first
        call; the weights are the same)."""
        shape = input_shape
        for layer in self.layers:
            if not layer.built:
                layer._parent_path = self.path
                layer._build_for(shape)
            shape = layer.compute_output_shape(shape)
        self.built = True

    def call(self, inputs, training=True, mask=None):
        if training is None:  # no flag from the caller: Keras's default, True
            training = True
        outputs = inputs
        for layer in self.layers:
            kwargs = {}
            if layer._call_takes_mask:
                kwargs["mask"] = mask
            if layer._call_takes_training and training is not None:
                kwargs["training"] = training
            outputs = layer(inputs, **kwargs)
            inputs = outputs
            mask = tree.map_structure(lambda t: getattr(t, "_keras_mask", None), outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        shape = input_shape
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def get_config(self):
        from minikeras.saving.serialization import serialize_keras_object

        return {"layers": serialize_keras_object(list(self.layers)), "name": self.name}

    @classmethod
    def from_config(cls, config):
        from minikeras.saving.serialization import deserialize_keras_object

        layers = config.get("layers")
        if not isinstance(layers, list | tuple):
            raise ValueError("`Pipeline` config must contain a `layers` key mapping to a list of "
                             f"serialized layers. Received config with layers={layers}.")
        config = {**config}
        config["layers"] = [deserialize_keras_object(x) for x in layers]
        return cls(**config)
