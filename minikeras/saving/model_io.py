"""ModelIO: the saving methods of ``keras.Model`` (mixed into ``minikeras.Model``).

``save``, ``save_weights``, ``load_weights`` and ``to_json`` hand over to
``minikeras.saving``; ``get_build_config`` / ``build_from_config`` and ``get_compile_config`` /
``compile_from_config`` are what ``config.json`` records so that loading can rebuild the weights
and recompile; ``from_config`` rebuilds a Sequential from its layer configs.
"""

import json

import numpy as np

from minikeras.saving import saving_api
from minikeras.saving.serialization import (
    as_shape,
    deserialize_keras_object,
    serialize_keras_object,
)


class ModelIO:
    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Architecture, weights and optimizer state: ``"x.keras"`` (or legacy ``"x.h5"``)."""
        return saving_api.save_model(self, filepath, overwrite=overwrite, zipped=zipped,
                                     **kwargs)

    def save_weights(self, filepath, overwrite=True, max_shard_size=None):
        """Weights (and optimizer state): ``"x.weights.h5"``, or ``"x.h5"`` in Keras 2's layout."""
        return saving_api.save_weights(self, filepath, overwrite=overwrite,
                                       max_shard_size=max_shard_size)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """From ``.weights.h5``, ``.keras`` or legacy ``.h5`` (``by_name=True`` there)."""
        return saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def to_json(self, **kwargs):
        """The model's config (as in ``config.json``) as a JSON string."""
        return json.dumps(serialize_keras_object(self), **kwargs)

    # --- what config.json records besides the config --------------------------------------------
    def get_build_config(self):
        """``{"input_shape": (None, 2)}``: the shape the model was built for (None if unbuilt)."""
        shape = getattr(self, "_build_input_shape", None)
        if shape is None and self.built:
            shape = getattr(self, "input_shape", None)
        return None if shape is None else {"input_shape": tuple(shape)}

    def build_from_config(self, config):
        """Create the weights for ``config["input_shape"]``; a model without its own ``build``
        is called once on zeros of that shape, as Keras builds subclassed models."""
        from minikeras import autodiff
        from minikeras.layers.layer import Layer

        if not config or config.get("input_shape") is None:
            return
        shape = as_shape(config["input_shape"])
        if type(self).build is Layer.build:
            with autodiff.paused():
                self(np.zeros(tuple(1 if d is None else d for d in shape), dtype=self.dtype))
        else:
            self.build(shape)
        self._build_input_shape = shape

    def get_compile_config(self):
        """The ``compile`` arguments, serialized (``{}`` when not compiled)."""
        if not getattr(self, "compiled", False) or not hasattr(self, "_compile_config"):
            return {}
        config = dict(self._compile_config)
        config["optimizer"] = self.optimizer  # Keras records the optimizer object, even for "adam"
        if config.get("jit_compile") == "auto":  # Keras resolves it at compile: False on TF
            config["jit_compile"] = False
        return serialize_keras_object(config)

    def compile_from_config(self, config):
        """``compile(**config)``, then build the optimizer so its saved state can be loaded."""
        self.compile(**deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A Sequential from its ``layers`` configs (Keras 2 configs without ``module`` too), a
        functional model from its graph (``input_layers``...), any other model as
        ``cls(**config)``."""
        from minikeras.models.functional import Functional, functional_from_config
        from minikeras.models.sequential import Sequential

        if isinstance(config, dict) and "input_layers" in config:  # a functional model
            return functional_from_config(cls if issubclass(cls, Functional) else Functional,
                                          config, custom_objects)
        if not issubclass(cls, Sequential):
            return cls(**config)
        from minikeras.saving.legacy_h5_format import model_from_config

        if not isinstance(config, dict) or "layers" not in config:
            raise ValueError(f"A Sequential model configuration must be a dictionary containing "
                             f"the 'name' and 'layers' keys. Received: config={config}")
        model = cls(name=config.get("name"))
        for layer_config in config["layers"]:
            if "module" in layer_config:
                layer = deserialize_keras_object(layer_config, custom_objects)
            else:
                layer = model_from_config(layer_config, custom_objects)
            model.add(layer)
        if not model.built and config.get("build_input_shape"):
            model.build(as_shape(config["build_input_shape"]))
        return model
