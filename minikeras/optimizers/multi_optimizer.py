"""MultiOptimizer: a different optimizer for different variables
(``keras.optimizers.MultiOptimizer`` and ``keras.optimizers.OptimizerMap``)."""

import re
from collections.abc import MutableMapping

from minikeras.optimizers.loss_scale_optimizer import LossScaleOptimizer
from minikeras.optimizers.optimizer import Optimizer
from minikeras.quiet import quietly
from minikeras.saving import serialization


class OptimizerMap(MutableMapping):
    """Variable path -> optimizer, with a default for the unmapped variables.

    ``optimizer_map[path]`` is the optimizer of the key equal to ``path``; otherwise of the one
    key that ``re.fullmatch``-es it (several matches are an error); otherwise the default. So
    ``"encoder/.*"`` covers every variable under ``encoder``, and ``"encoder"`` only a variable
    whose path is exactly that. Calling the map on a variable looks up ``variable.path``.

    Args:
        default_optimizer: the ``Optimizer`` of the variables no key matches.
        optimizer_map: a dict ``{path or regular expression: Optimizer}``.
    """

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError("default_optimizer must be a Keras Optimizer instance. "
                            f"Received: {default_optimizer}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: {optimizer_map}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = optimizer_map or {}

    @property
    def default_optimizer(self):
        return self._default_optimizer

    def __getitem__(self, key):
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matching_keys = [pattern for pattern in self._optimizer_map if re.fullmatch(pattern, key)]
        if len(matching_keys) > 1:
            raise ValueError(f"Multiple optimizers assigned to variable {key}.")
        if len(matching_keys) == 1:
            return self._optimizer_map[matching_keys[0]]
        return self.default_optimizer

    def __setitem__(self, key, optimizer):
        if key in self._optimizer_map:
            raise ValueError(
                f"'{key}' already exists in the OptimizerMap with value "
                f"{self._optimizer_map[key]}. Please make sure to not use duplicated keys.")
        if not isinstance(key, str):
            raise ValueError(f"key must be a string. Received: {key}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"optimizer must be a Keras Optimizer instance. Received: "
                             f"{optimizer}")
        if isinstance(optimizer, LossScaleOptimizer):
            raise ValueError("optimizer cannot be LossScaleOptimizer.")
        if isinstance(optimizer, MultiOptimizer):
            raise ValueError("optimizer cannot be MultiOptimizer.")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        return self[variable.path]

    def get_config(self):
        return {"default_optimizer": serialization.serialize_keras_object(
                    self._default_optimizer),
                "optimizer_map": serialization.serialize_keras_object(self._optimizer_map)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        default_optimizer = serialization.deserialize_keras_object(
            config["default_optimizer"], custom_objects=custom_objects)
        optimizer_map = serialization.deserialize_keras_object(
            config["optimizer_map"], custom_objects=custom_objects)
        return cls(default_optimizer, optimizer_map)


class MultiOptimizer(Optimizer):
    """Hands each variable to the optimizer ``optimizer_map(variable)`` chooses:

    for each sub-optimizer o:  o.apply(its gradients, its variables)
    iterations += 1

    so each sub-optimizer runs its own whole pipeline (clipping, weight decay, its update rule,
    its own ``iterations``) on its share of the variables. ``optimizer_map`` is an
    ``OptimizerMap`` or any callable ``variable -> Optimizer``.

    ``optimizers`` lists the sub-optimizers: an ``OptimizerMap``'s mapped ones in key order, then
    its default, then (for a callable) the others in the order the variables first reach them.
    ``variables`` = its own [iteration, learning_rate (0.0, unused)], then each sub-optimizer's
    ``variables`` in that order. There is no single learning rate: reading or setting
    ``learning_rate`` raises; use the sub-optimizers'.

    Args:
        optimizer_map: an ``OptimizerMap`` or a callable ``variable -> Optimizer``. A
            LossScaleOptimizer or a MultiOptimizer may not be one of them.
        loss_scale_factor: set on every sub-optimizer (it replaces theirs).
        name: defaults to ``'multi_optimizer'`` made unique.
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        self.optimizers = self._inner_optimizers = []  # `optimizers`: Keras's saving path
        for optimizer in getattr(optimizer_map, "values", list)():
            if optimizer not in self._inner_optimizers:
                optimizer.loss_scale_factor = loss_scale_factor
                self._inner_optimizers.append(optimizer)
        default = getattr(optimizer_map, "default_optimizer", None)
        if default is not None and default not in self._inner_optimizers:
            default.loss_scale_factor = loss_scale_factor
            self._inner_optimizers.append(default)

    def build(self, var_list):
        if self.built:
            return
        self._var_to_optimizer_idx = {}
        optimizer_vars = [[] for _ in self._inner_optimizers]
        for variable in var_list:
            optimizer = self._optimizer_map(variable)
            if not isinstance(optimizer, Optimizer):
                raise ValueError(f"Optimizer for variable {variable} is not an Optimizer "
                                 f"instance.")
            if isinstance(optimizer, LossScaleOptimizer):
                raise ValueError("LossScaleOptimizer cannot be used inside an MultiOptimizer.")
            if isinstance(optimizer, MultiOptimizer):
                raise ValueError("MultiOptimizer cannot be used inside an MultiOptimizer.")
            if optimizer not in self._inner_optimizers:
                optimizer.loss_scale_factor = self.loss_scale_factor
                self._inner_optimizers.append(optimizer)
                optimizer_vars.append([])
            index = self._inner_optimizers.index(optimizer)
            self._var_to_optimizer_idx[id(variable)] = index
            optimizer_vars[index].append(variable)
        for optimizer, variables in zip(self._inner_optimizers, optimizer_vars, strict=True):
            if variables:
                optimizer.build(variables)
        super().build(var_list)

    @property
    def variables(self):
        variables = self._variables[:]
        for optimizer in self._inner_optimizers:
            variables.extend(optimizer.variables)
        return variables

    @property
    def learning_rate(self):
        raise AttributeError("Learning rate cannot be accessed on a MultiOptimizer. Access the "
                             "learning rate on the individual sub-optimizers instead.")

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError("Learning rate cannot be set on a MultiOptimizer. Set the learning "
                             "rate on the individual sub-optimizers instead.")

    @property
    def loss_scale_factor(self):
        return getattr(self, "_loss_scale_factor", None)

    @loss_scale_factor.setter
    def loss_scale_factor(self, value):
        self._loss_scale_factor = value
        for optimizer in getattr(self, "_inner_optimizers", []):
            optimizer.loss_scale_factor = value

    @property
    def iterations(self):
        return self._iterations

    @quietly
    def apply(self, grads, trainable_variables=None):
        """Split the gradients by sub-optimizer, apply each share, count one step."""
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first.")
            trainable_variables = self._trainable_variables
        if not self.built:
            self.build(trainable_variables)
        if len(grads) != len(self._trainable_variables_indices):
            raise ValueError(
                f"Gradients must match trainable variables one-to-one. Received {len(grads)} "
                f"gradients and {len(self._trainable_variables_indices)} variables.")
        shares = [[] for _ in self._inner_optimizers]
        for grad, variable in zip(grads, trainable_variables, strict=True):
            shares[self._var_to_optimizer_idx[id(variable)]].append((grad, variable))
        for optimizer, share in zip(self._inner_optimizers, shares, strict=True):
            if share:
                optimizer.apply([g for g, _ in share], [v for _, v in share])
        self._iterations.assign_add(1)

    def finalize_variable_values(self, var_list):
        shares = [[] for _ in self._inner_optimizers]
        for variable in var_list:
            shares[self._var_to_optimizer_idx[id(variable)]].append(variable)
        for optimizer, variables in zip(self._inner_optimizers, shares, strict=True):
            if variables:
                optimizer.finalize_variable_values(variables)

    def set_weights(self, weights):
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. "
                "Please call `optimizer.build(trainable_variables)` to create the optimizer "
                "weights before calling `set_weights()`.")
        for variable, weight in zip(self._variables, weights, strict=False):
            variable.assign(weight)
        start = len(self._variables)
        for optimizer in self._inner_optimizers:
            count = len(optimizer.variables)
            if count > 0:
                optimizer.set_weights(weights[start:start + count])
                start += count

    def get_config(self):
        return {"optimizer_map": serialization.serialize_keras_object(self._optimizer_map),
                "loss_scale_factor": self.loss_scale_factor, "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["optimizer_map"] = serialization.deserialize_keras_object(
            config["optimizer_map"], custom_objects=custom_objects)
        return cls(**config)
