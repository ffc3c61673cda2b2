"""Optimizer: the base class of every minikeras optimizer (``keras.optimizers.Optimizer``).

One call of ``apply_gradients([(g, w), ...])`` runs Keras's step pipeline:

1. drop the pairs whose gradient is ``None`` (with a warning);
2. clip the gradients: ``clipnorm``, ``global_clipnorm`` or ``clipvalue`` (at most one);
3. decay the weights, before the update and at the current learning rate: ``w -= w * wd * lr``;
4. ``update_step(g, w, lr)`` for each variable: the optimizer's own rule (one file each);
5. project the constrained weights: ``w = constraint(w)``;
6. ``iterations += 1``.

The learning rate of update k (k = 1, 2, ...) is ``schedule(k - 1)`` when it is a schedule: it is
read at ``iterations`` before the increment. With ``gradient_accumulation_steps=n``, steps 2-4 run
on every n-th call only, on the mean of the last n gradients; with ``use_ema=True`` a moving
average of the weights is kept after step 4.

The optimizer's state (``iterations``, ``learning_rate``, the slots such as Adam's momentums) is
kept in ``Variable`` objects, listed by ``optimizer.variables`` in Keras's order: the order that
``.weights.h5`` files store. Updates write in place into the NumPy arrays (``variable._value``):
this code runs at every training batch.
"""

import re
import warnings

import numpy as np

from minikeras import backend
from minikeras.optimizers import schedules
from minikeras.quiet import quietly
from minikeras.tensor import ArrayLike
from minikeras.variables import Variable


class Optimizer:
    """Base class: subclasses implement ``build`` (create slots) and ``update_step``.

    Args:
        learning_rate: a Python float, a ``LearningRateSchedule``, or a callable without
            arguments returning the learning rate.
        weight_decay: if set, ``w -= w * weight_decay * lr`` before each update.
        clipnorm: clip each gradient to this L2 norm: ``g * c / max(||g||, c)``.
        clipvalue: clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: clip all gradients together: ``g * c / max(||G||, c)``,
            ``||G|| = sqrt(sum_i ||g_i||^2)``.
        use_ema: keep ``average = ema_momentum * average + (1 - ema_momentum) * w``.
        ema_momentum: the momentum of that average.
        ema_overwrite_frequency: every that many steps, copy the averages into the weights.
        loss_scale_factor: the loss is multiplied by it (``scale_loss``), gradients divided by it.
        gradient_accumulation_steps: update once every that many calls, with the mean gradient.
        name: defaults to the snake-case class name made unique: ``'adam'``, ``'adam_1'``...
    """

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if "lr" in kwargs:
            warnings.warn("The `lr` argument is deprecated (Keras 3 rejects it): use "
                          "`learning_rate` instead.", FutureWarning, stacklevel=3)
            learning_rate = kwargs.pop("lr")
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.",
                          stacklevel=3)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")

        self.name = name or backend.unique_name(backend.to_snake_case(type(self).__name__))
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.global_clipnorm = global_clipnorm
        self.clipvalue = clipvalue
        self.use_ema = use_ema
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        _check_arguments(clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, gradient_accumulation_steps)
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency

        self.built = False
        self._variables = []
        self._trainable_variables = []
        self._trainable_variables_indices = {}
        self._scratch_arrays = {}
        self._exclude_from_weight_decay = set()
        self._exclude_from_weight_decay_pattern = None
        self._iterations = self._track_variable(
            Variable(0, dtype="int64", trainable=False, name="iteration"))
        if callable(learning_rate):  # a LearningRateSchedule or a function
            self._learning_rate = learning_rate
        else:
            if not isinstance(learning_rate, float):
                raise ValueError(
                    "Argument `learning_rate` should be float, or an instance of "
                    "LearningRateSchedule, or a callable (that takes in the current iteration "
                    "value and returns the corresponding learning rate value). Received "
                    f"instead: learning_rate={learning_rate}")
            self._learning_rate = self._track_variable(
                Variable(learning_rate, dtype=backend.floatx(), trainable=False,
                         name="learning_rate"))

    # --- state -----------------------------------------------------------------------------------
    @property
    def iterations(self):
        """The number of updates so far (an int64 Variable); counts only the real updates when
        gradients are accumulated."""
        if self.gradient_accumulation_steps:
            return self._iterations.value // self.gradient_accumulation_steps
        return self._iterations

    @property
    def variables(self):
        """``[iteration, learning_rate, *slots]`` in creation order (no learning_rate with a
        schedule): the order of ``optimizer.variables`` in Keras, and of saved files."""
        return self._variables[:]

    @property
    def learning_rate(self):
        """The float32 Variable, or the schedule evaluated at ``iterations``."""
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            return self._learning_rate(self._iterations)
        if isinstance(self._learning_rate, Variable):
            return self._learning_rate
        return self._learning_rate()

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        if callable(learning_rate):
            if isinstance(self._learning_rate, Variable):  # untrack it, by identity (`==` on
                self._variables = [v for v in self._variables  # Variables is elementwise)
                                   if v is not self._learning_rate]
            self._learning_rate = learning_rate
        elif isinstance(self._learning_rate, schedules.LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not settable. "
                "If you need the learning rate to be settable, you should instantiate the "
                "optimizer with a float `learning_rate` argument.")
        else:
            self._learning_rate.assign(learning_rate)

    def _learning_rate_value(self):
        """The learning rate of the current step as a 0-d array of floatx (Keras passes its
        variable); ``update_step`` reads it and never writes to it."""
        if isinstance(self._learning_rate, Variable):
            return self._learning_rate.value
        return np.asarray(self.learning_rate, backend.floatx())

    # --- slots -----------------------------------------------------------------------------------
    def build(self, variables):
        """Create the slots of the base pipeline; subclasses call this first, then add theirs."""
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(
                variables, "average")
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = self.add_optimizer_variables(
                variables, "gradient_accumulator")
        self._trainable_variables_indices = {id(v): i for i, v in enumerate(variables)}
        self._trainable_variables = list(variables)
        self.built = True

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None):
        """A non-trainable optimizer Variable, tracked in ``variables``; path ``<opt>/<name>``."""
        return self._track_variable(
            Variable(initializer, shape=shape, dtype=dtype, trainable=False, name=name))

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A slot shaped like ``reference_variable``, named ``<its path, / -> _>_<name>``, e.g.
        ``adam/sequential_dense_kernel_momentum``."""
        name = f"{reference_variable.path.replace('/', '_')}_{name or 'var'}"
        return self.add_variable(reference_variable.shape, initializer,
                                 reference_variable.dtype, name)

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """One slot per variable for each name; several names are interleaved per variable
        (Adam: k_momentum, k_velocity, b_momentum, ...). One name returns a list, several a
        tuple of lists."""
        names = [name] if isinstance(name, str) else list(name)
        initializers = (list(initializer) if isinstance(initializer, list | tuple)
                        else [initializer] * len(names))
        if len(names) != len(initializers):
            raise ValueError(
                f"The number of provided names must match the number of provided "
                f"initializers.  Received name='{name}', initializer='{initializer}'")
        slots = tuple([] for _ in names)
        for variable in trainable_variables:
            for slot_list, slot_name, slot_init in zip(slots, names, initializers, strict=True):
                slot_list.append(self.add_variable_from_reference(variable, slot_name, slot_init))
        return slots[0] if isinstance(name, str) else slots

    def _track_variable(self, variable):
        variable.path = f"{self.name}/{variable.name}"
        self._variables.append(variable)
        return variable

    def _get_variable_index(self, variable):
        return self._trainable_variables_indices[id(variable)]

    def _scratch(self, like, count=1):
        """``count`` work arrays shaped like ``like``, reused at every step, so an update writes
        its intermediate results in place instead of allocating (and faulting in) new memory."""
        key = (like.shape, like.dtype)
        arrays = self._scratch_arrays.get(key, [])
        if len(arrays) < count:
            arrays = self._scratch_arrays[key] = [np.empty_like(like) for _ in range(count)]
        return arrays[:count]

    # --- the step pipeline -----------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """Apply ``[(gradient, variable), ...]``; returns ``iterations``."""
        grads, trainable_variables = zip(*grads_and_vars, strict=True)
        self.apply(grads, trainable_variables)
        return self._iterations

    @quietly
    def apply(self, grads, trainable_variables=None):
        """Update the variables with their gradients; builds the optimizer on the first call.

        Without ``trainable_variables``, the gradients go 1:1 to the variables it was built with.
        """
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first.")
            if len(grads) != len(self._trainable_variables):
                raise ValueError(
                    f"When passing `grads` as a list of gradient tensors, the gradients must "
                    f"match `optimizer.variables` one-to-one. Received a list of {len(grads)} "
                    f"gradients, but the optimizer is tracking "
                    f"{len(self._trainable_variables)} trainable variables.")
            trainable_variables = self._trainable_variables
        else:
            trainable_variables = list(trainable_variables)
            if not self.built:
                self.build(trainable_variables)
            self._check_variables_are_known(trainable_variables)

        grads, trainable_variables = self._filter_empty_gradients(grads, trainable_variables)
        if self.loss_scale_factor is not None:
            grads = [g / self.loss_scale_factor for g in grads]
        self._backend_apply_gradients(grads, trainable_variables)
        for variable in trainable_variables:
            if variable.constraint is not None:
                variable.assign(variable.constraint(variable.value))
        self._iterations.assign_add(1)

    def _check_variables_are_known(self, variables):
        for v in variables:
            if id(v) not in self._trainable_variables_indices:
                raise ValueError(
                    f"Unknown variable: {v}. This optimizer can only be called for the variables "
                    f"it was originally built with. When working with a new set of variables, "
                    f"you should recreate a new optimizer instance.")

    def _filter_empty_gradients(self, grads, variables):
        """Drop the ``None`` gradients; read the others as arrays of their variable's dtype."""
        missing = [v.path for g, v in zip(grads, variables, strict=True) if g is None]
        if missing:
            if len(missing) == len(variables):
                raise ValueError("No gradients provided for any variable.")
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss. If "
                f"using `model.compile()`, did you forget to provide a `loss` argument?",
                stacklevel=4)
            kept = [(g, v) for g, v in zip(grads, variables, strict=True) if g is not None]
            grads, variables = [g for g, _ in kept], [v for _, v in kept]
        arrays = [_as_gradient_array(g, v) for g, v in zip(grads, variables, strict=True)]
        return arrays, variables

    def _backend_apply_gradients(self, grads, trainable_variables):
        """Steps 2-4 (every call, or every n-th call with gradient accumulation), then EMA."""
        if self.gradient_accumulation_steps:
            steps = self.gradient_accumulation_steps
            accumulators = [self._accumulated_gradients[self._get_variable_index(v)].value
                            for v in trainable_variables]
            if (int(self._iterations) + 1) % steps == 0:
                grads = [(g + acc) / steps for g, acc in zip(grads, accumulators, strict=True)]
                self._clip_decay_and_update(grads, trainable_variables)
                for acc in accumulators:
                    acc[...] = 0
            else:
                for g, acc in zip(grads, accumulators, strict=True):
                    acc += g
        else:
            self._clip_decay_and_update(grads, trainable_variables)

        if self.use_ema:
            self._update_model_variables_moving_average(self._trainable_variables)
            if (self.ema_overwrite_frequency
                    and (int(self.iterations) + 1) % self.ema_overwrite_frequency == 0):
                self._overwrite_model_variables_with_average_value(self._trainable_variables)

    def _clip_decay_and_update(self, grads, trainable_variables):
        grads = self._clip_gradients(grads)
        self._apply_weight_decay(trainable_variables)
        self._backend_update_step(grads, trainable_variables, self._learning_rate_value())

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        """``update_step`` for each variable (Nadam extends this with a once-per-step update)."""
        for grad, variable in zip(grads, trainable_variables, strict=True):
            self.update_step(grad, variable, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        """Update one variable in place: ``gradient`` is an ndarray of the variable's dtype."""
        raise NotImplementedError(
            f"Optimizer '{type(self).__name__}' must implement `update_step(gradient, variable, "
            f"learning_rate)`.")

    # --- clipping, weight decay, EMA -------------------------------------------------------------
    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            return [self._clip_by_norm(g) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _clip_by_norm(self, values):
        """``g * c / max(||g||, c)`` (tf.clip_by_norm); an inf norm gives 0s or NaNs, as in TF."""
        with np.errstate(over="ignore", invalid="ignore"):
            l2norm = np.sqrt(np.sum(np.square(values)))
            return values * self.clipnorm / np.maximum(l2norm, self.clipnorm)

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Skip weight decay for the variables in ``var_list``, and for those whose name contains
        (as a regular expression) one of ``var_names``, e.g. ``var_names=['bias']``."""
        self._exclude_from_weight_decay = {id(v) for v in var_list or []}
        self._exclude_from_weight_decay_pattern = (
            re.compile("|".join(set(var_names))) if var_names else None)

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_from_weight_decay:
            return False
        pattern = self._exclude_from_weight_decay_pattern
        return pattern is None or pattern.search(variable.name) is None

    def _apply_weight_decay(self, variables):
        """``w -= w * wd * lr``, with the learning rate of this step."""
        if self.weight_decay is None:
            return
        learning_rate = self._learning_rate_value()
        for variable in variables:
            if self._use_weight_decay(variable):
                w = variable.value
                w -= w * w.dtype.type(self.weight_decay) * w.dtype.type(learning_rate)

    def _update_model_variables_moving_average(self, trainable_variables):
        """``average = m * average + (1 - m) * w``, with m = 0 at the first step (a copy)."""
        ema_momentum = self.ema_momentum if int(self.iterations) != 0 else 0.0
        averages = self._model_variables_moving_average
        for variable, average in zip(trainable_variables, averages, strict=True):
            w, avg = variable.value, average.value
            momentum = w.dtype.type(ema_momentum)
            avg[...] = momentum * avg + (1 - momentum) * w

    def _overwrite_model_variables_with_average_value(self, trainable_variables):
        if len(trainable_variables) != len(self._model_variables_moving_average):
            raise ValueError(
                f"The length of model variables ({len(trainable_variables)}) to override does "
                f"not match the length of model variables stored in the optimizer "
                f"({len(self._model_variables_moving_average)}). Please check if the optimizer "
                f"was called on your model.")
        averages = self._model_variables_moving_average
        for variable, average in zip(trainable_variables, averages, strict=True):
            variable.assign(average.value)

    def finalize_variable_values(self, var_list):
        """At the end of ``fit``: with ``use_ema``, the weights become their moving averages."""
        if self.use_ema:
            self._overwrite_model_variables_with_average_value(var_list)

    def scale_loss(self, loss):
        """``loss * loss_scale_factor`` when set (the gradients are divided back in ``apply``)."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    # --- saving ----------------------------------------------------------------------------------
    def set_weights(self, weights):
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. "
                "Please call `optimizer.build(trainable_variables)` to create the optimizer "
                "weights before calling `set_weights()`.")
        for variable, weight in zip(self._variables, weights, strict=False):
            if variable.shape != np.shape(weight):
                raise ValueError(
                    f"Optimizer variable {variable.path} has shape {variable.shape} not "
                    f"compatible with provided weight shape {np.shape(weight)}.")
            variable.assign(weight)

    def save_own_variables(self, store):
        """``store["0"], store["1"], ...`` = the values of ``variables``, in order."""
        for i, variable in enumerate(self.variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store):
        """Restore ``save_own_variables``'s store; skipped with a warning on a count mismatch."""
        if len(store.keys()) != len(self.variables):
            msg = (f"Skipping variable loading for optimizer '{self.name}', because it has "
                   f"{len(self.variables)} variables whereas the saved optimizer has "
                   f"{len(store.keys())} variables. ")
            if len(self.variables) == 0:
                msg += "This is likely because the optimizer has not been called/built yet."
            warnings.warn(msg, stacklevel=2)
            return
        for i, variable in enumerate(self.variables):
            variable.assign(store[str(i)])

    def get_config(self):
        """Keras's config; ``learning_rate`` is the float32 value as a Python float."""
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            learning_rate = schedules.serialize(self._learning_rate)
        elif isinstance(self._learning_rate, Variable):
            learning_rate = float(self._learning_rate.value)
        else:  # a function: Keras records its name
            learning_rate = {"module": "builtins", "class_name": "function",
                             "config": self._learning_rate.__name__,
                             "registered_name": "function"}
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"],
                                                            custom_objects=custom_objects)
        return cls(**config)


def clip_by_global_norm(value_list, clip_norm):
    """Scale all gradients by ``c / max(||G||, c)``; an inf/NaN global norm makes them NaN."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        use_norm = np.sqrt(sum(np.sum(np.square(v)) for v in value_list))
        # Keras's form: c * min(1/||G||, 1/c); adding (n - n) turns an inf/NaN norm into NaN.
        scale = clip_norm * np.minimum(1.0 / use_norm, 1.0 / clip_norm) + (use_norm - use_norm)
    return [v * scale for v in value_list]


def _as_gradient_array(gradient, variable):
    """The gradient as an ndarray of the variable's dtype (no copy when it already is one)."""
    value = gradient._value if isinstance(gradient, ArrayLike) else gradient
    value = np.asarray(value, dtype=variable._value.dtype)
    if value.shape != variable._value.shape:
        raise ValueError(
            f"The gradient for variable '{variable.path}' has shape {value.shape}, but the "
            f"variable has shape {variable.shape}.")
    return value


def _check_arguments(clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                     ema_overwrite_frequency, gradient_accumulation_steps):
    """The argument checks of Keras's base optimizer, with its messages."""
    if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
        raise ValueError(
            "`gradient_accumulation_steps` must be an integer >= 2. Received: "
            f"gradient_accumulation_steps={gradient_accumulation_steps}")
    if use_ema:
        if ema_momentum > 1 or ema_momentum < 0:
            raise ValueError("`ema_momentum` must be in the range [0, 1]. Received: "
                             f"ema_momentum={ema_momentum}")
        if ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, int)
                                        or ema_overwrite_frequency < 1):
            raise ValueError("`ema_overwrite_frequency` must be an integer >= 1 or None. "
                             f"Received: ema_overwrite_frequency={ema_overwrite_frequency}")
    if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
        raise ValueError(
            "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
            f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}")
