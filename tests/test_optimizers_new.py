"""LossScaleOptimizer, ScheduleFreeAdamW and Muon against their docstring formulas, in NumPy.

Hand-computed first steps (t = 1, empty slots), float64 re-derivations over several steps
(rtol 1e-5 / atol 1e-6 against minikeras's float32), the loss-scale state machine, variable
order and names, configs and the argument errors. The parity with Keras itself is in
compat_tests/test_optimizers_new_parity.py.
"""

import numpy as np
import pytest

from minikeras import backend, optimizers
from minikeras.variables import Variable

SHAPES = [(3, 2), (2,)]  # a kernel (Muon orthogonalizes it) and a bias (AdamW)
K, B = "sequential_dense_kernel", "sequential_dense_bias"


@pytest.fixture(autouse=True)
def _fresh_session():
    backend.clear_session()
    yield


def make_variables(rng, shapes=SHAPES):
    variables = []
    for shape, name in zip(shapes, ["kernel", "bias"], strict=True):
        variable = Variable(rng.normal(size=shape), dtype="float32", name=name)
        variable.path = f"sequential/dense/{name}"
        variables.append(variable)
    return variables


def run(optimizer, seed=0, n_steps=6, scale=1.0):
    """Apply ``n_steps`` random gradient sets; return (start weights, gradients, end weights)."""
    rng = np.random.default_rng(seed)
    variables = make_variables(rng)
    start = [v.numpy().astype(np.float64) for v in variables]
    grads = [[(scale * rng.normal(size=s)).astype("float32") for s in SHAPES]
             for _ in range(n_steps)]
    for step_grads in grads:
        optimizer.apply_gradients(zip(step_grads, variables, strict=True))
    return start, grads, [v.numpy() for v in variables]


def close(actual, expected):
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)


def paths(optimizer):
    return [v.path for v in optimizer.variables]


# --- float64 references ---------------------------------------------------------------------
def ref_adam(w, grads, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
             steps=None):
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in zip(steps or range(1, len(grads) + 1), grads, strict=True):
        if weight_decay is not None:
            w = w - w * weight_decay * lr
        m = m + (g - m) * (1 - beta_1)
        v = v + (g**2 - v) * (1 - beta_2)
        w = w - lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (np.sqrt(v) + epsilon)
    return w


def ref_schedule_free(w, grads, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-8, warmup_steps=0):
    z, v, y = w.copy(), np.zeros_like(w), w
    for t, g in enumerate(grads, start=1):
        lr_t = lr * min(t / warmup_steps, 1.0) if warmup_steps > 0 else lr
        v = beta_2 * v + (1 - beta_2) * g**2
        z = z - lr_t * g / (np.sqrt(v / (1 - beta_2**t)) + epsilon)
        x = (y - (1 - beta_1) * z) / beta_1     # Keras on TensorFlow: the new z
        x = (1 - 1 / t) * x + z / t
        y = (1 - beta_1) * z + beta_1 * x
    return y


def newton_schulz(g, steps=5, a=3.4445, b=-4.7750, c=2.0315):
    x = g.T if g.shape[0] > g.shape[1] else g
    x = x / (np.linalg.norm(x) + 1e-7)
    for _ in range(steps):
        s = x @ x.T
        x = a * x + (b * s + c * s @ s) @ x
    return x.T if g.shape[0] > g.shape[1] else x


def ref_muon(w, grads, lr, momentum=0.95, nesterov=True, rms_rate=0.2, weight_decay=0.004,
             ns_steps=5):
    m = np.zeros_like(w)
    for g in grads:
        w = w - w * weight_decay * lr
        m = momentum * m + g
        update = newton_schulz(g + momentum * m if nesterov else m, ns_steps)
        scale = np.sqrt(max(w.shape)) * rms_rate if rms_rate is not None else 1.0
        w = w - lr * update * scale
    return w


# --- ScheduleFreeAdamW ----------------------------------------------------------------------
def test_schedule_free_first_step_by_hand():
    """t = 1: v = (1 - b2) g^2, so sqrt(v / (1 - b2)) = |g|: z = w - lr * g / (|g| + eps);
    the average x is then z itself, and y = z."""
    optimizer = optimizers.ScheduleFreeAdamW(0.1)
    start, grads, end = run(optimizer, n_steps=1)
    for w, g, y in zip(start, grads[0], end, strict=True):
        g = g.astype(np.float64)
        np.testing.assert_allclose(y, w - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-6, atol=1e-6)
    assert paths(optimizer) == ["schedule_free_adam_w/iteration",
                                "schedule_free_adam_w/learning_rate",
                                f"schedule_free_adam_w/{K}_momentum",
                                f"schedule_free_adam_w/{K}_velocity",
                                f"schedule_free_adam_w/{B}_momentum",
                                f"schedule_free_adam_w/{B}_velocity"]


def test_schedule_free_momentum_starts_at_the_weights():
    variables = make_variables(np.random.default_rng(0))
    optimizer = optimizers.ScheduleFreeAdamW()
    optimizer.build(variables)
    for z, w in zip(optimizer._momentums, variables, strict=True):
        np.testing.assert_array_equal(z.numpy(), w.numpy())
        assert z.value is not w.value  # a copy


@pytest.mark.parametrize("kwargs", [dict(learning_rate=0.05),
                                    dict(learning_rate=0.1, beta_1=0.8, beta_2=0.9, epsilon=1e-4,
                                         warmup_steps=3)])
def test_schedule_free_matches_reference(kwargs):
    start, grads, end = run(optimizers.ScheduleFreeAdamW(**kwargs))
    hyper = {("lr" if k == "learning_rate" else k): v for k, v in kwargs.items()}
    close(end, [ref_schedule_free(w, [g[i].astype(np.float64) for g in grads], **hyper)
                for i, w in enumerate(start)])


def test_schedule_free_warmup_scales_the_first_step():
    """warmup_steps=4: the first step uses lr / 4."""
    *_, warmed = run(optimizers.ScheduleFreeAdamW(0.4, warmup_steps=4), n_steps=1)
    *_, plain = run(optimizers.ScheduleFreeAdamW(0.1), n_steps=1)
    close(warmed, plain)


# --- Muon -----------------------------------------------------------------------------------
def test_newton_schulz_nearly_orthogonalizes():
    """NS5 pushes every singular value into roughly [0.7, 1.2] (not exactly 1, by design)."""
    rng = np.random.default_rng(0)
    for shape in [(4, 6), (6, 4)]:
        g = rng.normal(size=shape).astype("float32")
        x = optimizers.Muon().zeropower_via_newtonschulz5(g, 5)
        assert x.shape == shape and x.dtype == np.float32
        singular_values = np.linalg.svd(x, compute_uv=False)
        assert np.all((singular_values > 0.6) & (singular_values < 1.25)), singular_values
        np.testing.assert_allclose(x, newton_schulz(g.astype(np.float64)), rtol=1e-4,
                                   atol=1e-5)


def test_muon_first_step_of_the_bias_is_adamw_by_hand():
    """The 1-D bias takes the AdamW step: at t = 1, w = w(1 - lr wd) - lr g / (|g| + eps')
    with eps' = eps / sqrt(1 - b2) (Keras's epsilon on the uncorrected sqrt(v))."""
    start, grads, end = run(optimizers.Muon(0.1), n_steps=1)
    w, g = start[1] * (1 - 0.1 * 0.004), grads[0][1].astype(np.float64)
    np.testing.assert_allclose(end[1], w - 0.1 * g / (np.abs(g) + 1e-7 / np.sqrt(0.001)),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs", [dict(), dict(nesterov=False, rms_rate=None, momentum=0.8,
                                                  ns_steps=3, weight_decay=0.1)])
def test_muon_matches_reference(kwargs):
    start, grads, end = run(optimizers.Muon(0.05, adam_weight_decay=0.02, **kwargs))
    kernel_grads = [g[0].astype(np.float64) for g in grads]
    close([end[0]], [ref_muon(start[0], kernel_grads, 0.05, **kwargs)])
    bias_grads = [g[1].astype(np.float64) for g in grads]
    close([end[1]], [ref_adam(start[1], bias_grads, 0.05, weight_decay=0.02)])


def test_muon_slots_and_routing():
    """Per variable: momentum, then velocity only for the AdamW ones (not 2-D, an embedding,
    or a path matching exclude_layers); adam_lr_ratio scales only the AdamW step."""
    optimizer = optimizers.Muon()
    optimizer.build(make_variables(np.random.default_rng(0)))
    assert paths(optimizer) == ["muon/iteration", "muon/learning_rate", f"muon/{K}_momentum",
                                f"muon/{B}_momentum", f"muon/{B}_velocity"]
    embedding = Variable(np.ones((4, 2)), name="embeddings")
    embedding.path = "my_Embedding/embeddings"
    kernel = Variable(np.ones((2, 2)), name="kernel")
    kernel.path = "out/kernel"
    assert optimizer._should_use_adamw(embedding)
    assert not optimizers.Muon(exclude_embeddings=False)._should_use_adamw(embedding)
    assert not optimizer._should_use_adamw(kernel)
    assert optimizers.Muon(exclude_layers=["^ou"])._should_use_adamw(kernel)
    start, grads, end = run(optimizers.Muon(0.05, adam_lr_ratio=0.5, adam_weight_decay=None))
    close([end[1]], [ref_adam(start[1], [g[1].astype(np.float64) for g in grads], 0.025)])


def test_muon_newton_schulz_rejects_a_vector():
    with pytest.raises(ValueError, match=r"at least 2 dimensions. Received: shape=\(3,\)"):
        optimizers.Muon().zeropower_via_newtonschulz5(np.ones(3, "float32"), 5)


# --- LossScaleOptimizer ---------------------------------------------------------------------
def test_loss_scale_unscales_then_applies():
    """Gradients of the scaled loss, divided by the scale, give plain SGD's step."""
    scaled = optimizers.LossScaleOptimizer(optimizers.SGD(0.1), initial_scale=8.0)
    assert float(scaled.scale_loss(2.0)) == 16.0  # initial_scale before the build
    start, grads, end = run(scaled, n_steps=1, scale=8.0)
    close(end, [w - 0.1 * g.astype(np.float64) / 8.0 for w, g in zip(start, grads[0],
                                                                       strict=True)])
    assert int(scaled.iterations) == 1 and int(scaled._iterations.numpy()) == 0
    assert float(scaled.scale_loss(2.0)) == 16.0


def test_loss_scale_state_machine():
    """Non-finite: skip, counter 0, scale / 2. Finite: step; after growth_steps of them in a
    row, counter 0 and scale * 2."""
    variable = Variable(np.ones(2), name="w")
    optimizer = optimizers.LossScaleOptimizer(optimizers.SGD(1.0), initial_scale=4.0,
                                              dynamic_growth_steps=2)
    history = []
    for g in [[1.0, 1.0], [np.inf, 1.0], [1.0, np.nan], [2.0, 2.0], [2.0, 2.0], [4.0, 4.0]]:
        optimizer.apply_gradients([(np.array(g, "float32"), variable)])
        history.append((float(optimizer.dynamic_scale.numpy()),
                        int(optimizer.step_counter.numpy()), int(optimizer.iterations),
                        float(variable.numpy()[0])))
    assert history == [(4.0, 1, 1, 0.75),          # 1/4
                       (2.0, 0, 1, 0.75),          # inf: skipped
                       (1.0, 0, 1, 0.75),          # nan: skipped
                       (1.0, 1, 2, -1.25),         # 2/1
                       (2.0, 0, 3, -3.25),         # 2/1, then the scale grows
                       (2.0, 1, 4, -5.25)]         # 4/2


def test_loss_scale_variables_and_delegation():
    inner = optimizers.Adam(0.01, loss_scale_factor=8.0)
    optimizer = optimizers.LossScaleOptimizer(inner)
    assert inner.loss_scale_factor is None
    optimizer.build(make_variables(np.random.default_rng(0)))
    assert paths(optimizer) == [
        "loss_scale_optimizer/iteration", "loss_scale_optimizer/learning_rate",
        "loss_scale_optimizer/step_counter", "loss_scale_optimizer/dynamic_scale",
        "adam/iteration", "adam/learning_rate",
        f"loss_scale_optimizer/adam/{K}_momentum", f"loss_scale_optimizer/adam/{K}_velocity",
        f"loss_scale_optimizer/adam/{B}_momentum", f"loss_scale_optimizer/adam/{B}_velocity"]
    assert [v.dtype for v in optimizer.variables[:4]] == ["int64", "float32", "int64",
                                                          "float32"]
    assert float(optimizer.dynamic_scale.numpy()) == 2.0**15
    optimizer.learning_rate = 0.5
    assert float(inner.learning_rate.numpy()) == 0.5
    assert optimizer.learning_rate is inner.learning_rate


@pytest.mark.parametrize("kwargs, message", [
    ({"dynamic": False}, "no longer supports `dynamic=False`"),
    ({"clipnorm": 1.0}, "does not support `clipnorm`. Instead, set `clipnorm` on the"),
    ({"ema_momentum": 0.5}, "does not support `ema_momentum`"),
    ({"foo": 1, "bar": 2}, "does not support arguments: `foo`, `bar`."),
])
def test_loss_scale_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optimizers.LossScaleOptimizer(optimizers.SGD(), **kwargs)


# --- configs --------------------------------------------------------------------------------
CONFIGS = [
    lambda: optimizers.ScheduleFreeAdamW(0.01, beta_1=0.7, warmup_steps=4, clipnorm=1.0),
    lambda: optimizers.ScheduleFreeAdamW(optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)),
    lambda: optimizers.Muon(0.02, exclude_layers=["out"], rms_rate=None, nesterov=False),
    lambda: optimizers.LossScaleOptimizer(optimizers.Muon(0.02), initial_scale=64.0,
                                          dynamic_growth_steps=5, name="scaled"),
    lambda: optimizers.LossScaleOptimizer(optimizers.LossScaleOptimizer(optimizers.SGD())),
]


@pytest.mark.parametrize("make", CONFIGS)
def test_configs_round_trip(make):
    optimizer = make()
    config = optimizer.get_config()
    assert type(optimizer).from_config(config).get_config() == config
    restored = optimizers.deserialize(optimizers.serialize(optimizer))
    assert type(restored) is type(optimizer) and restored.get_config() == config
    assert optimizers.serialize(optimizer)["module"] == "keras.optimizers"


def test_get_by_name():
    assert type(optimizers.get("muon")) is optimizers.Muon
    assert type(optimizers.get("ScheduleFreeAdamW")) is optimizers.ScheduleFreeAdamW
    config = optimizers.get("Muon").get_config()
    assert (config["weight_decay"], config["adam_weight_decay"], config["momentum"],
            config["ns_steps"], config["exclude_layers"]) == (0.004, 0.004, 0.95, 5, [])
    assert optimizers.get("schedulefreeadamw").get_config()["learning_rate"] == pytest.approx(
        0.0025)


# --- MultiOptimizer and OptimizerMap --------------------------------------------------------
def test_multi_optimizer_routes_each_variable_to_its_optimizer():
    """The bias goes to Adam (its key), the kernel to the default SGD; each keeps its own
    iterations, and the MultiOptimizer counts its calls."""
    adam, sgd = optimizers.Adam(0.05), optimizers.SGD(0.1)
    multi = optimizers.MultiOptimizer(
        optimizers.OptimizerMap(sgd, {"sequential/dense/b.*": adam}))
    start, grads, end = run(multi, n_steps=3)
    close([end[0]], [start[0] - 0.1 * sum(g[0].astype(np.float64) for g in grads)])
    close([end[1]], [ref_adam(start[1], [g[1].astype(np.float64) for g in grads], 0.05)])
    assert multi.optimizers == [adam, sgd]
    assert (int(multi.iterations), int(adam.iterations), int(sgd.iterations)) == (3, 3, 3)
    assert paths(multi) == ["multi_optimizer/iteration", "multi_optimizer/learning_rate",
                            "adam/iteration", "adam/learning_rate", f"adam/{B}_momentum",
                            f"adam/{B}_velocity", "sgd/iteration", "sgd/learning_rate"]


def test_multi_optimizer_with_a_callable_and_set_weights():
    adam, sgd = optimizers.Adam(), optimizers.SGD(momentum=0.5)
    multi = optimizers.MultiOptimizer(lambda v: adam if "kernel" in v.path else sgd,
                                      loss_scale_factor=4.0)
    variables = make_variables(np.random.default_rng(0))
    multi.build(variables)
    assert multi.optimizers == [adam, sgd] and adam.loss_scale_factor == 4.0
    weights = [np.asarray(i, dtype=v.value.dtype) + np.zeros(v.shape, v.value.dtype)
               for i, v in enumerate(multi.variables)]
    multi.set_weights(weights)
    for variable, weight in zip(multi.variables, weights, strict=True):
        np.testing.assert_array_equal(variable.numpy(), weight)
    multi.loss_scale_factor = None
    assert adam.loss_scale_factor is None and sgd.loss_scale_factor is None


def test_optimizer_map_lookup_order():
    omap = optimizers.OptimizerMap(optimizers.RMSprop(name="r"))
    omap["encoder/layer_0/dense"] = optimizers.Adam(name="a")
    omap["encoder/.*"] = optimizers.SGD(name="s")
    assert [omap[k].name for k in ["encoder/layer_0/dense", "encoder/x", "encoder",
                                   "decoder/x"]] == ["a", "s", "r", "r"]
    with pytest.raises(ValueError, match="already exists in the OptimizerMap"):
        omap["encoder/.*"] = optimizers.SGD()
    omap[".*/x"] = optimizers.SGD()
    with pytest.raises(ValueError, match="Multiple optimizers assigned to variable encoder/x"):
        omap["encoder/x"]
    with pytest.raises(ValueError, match="cannot be LossScaleOptimizer"):
        omap["y"] = optimizers.LossScaleOptimizer(optimizers.SGD())
    with pytest.raises(TypeError, match="default_optimizer must be a Keras Optimizer"):
        optimizers.OptimizerMap("adam")


def test_multi_optimizer_has_no_learning_rate_and_round_trips():
    multi = optimizers.MultiOptimizer(optimizers.OptimizerMap(
        optimizers.SGD(0.5), {"dense_1/.*": optimizers.Adam(0.01)}), name="multi")
    with pytest.raises(AttributeError, match="cannot be accessed on a MultiOptimizer"):
        multi.learning_rate  # noqa: B018
    with pytest.raises(AttributeError, match="cannot be set on a MultiOptimizer"):
        multi.learning_rate = 0.1
    config = optimizers.serialize(multi)
    assert config["config"]["optimizer_map"]["class_name"] == "OptimizerMap"
    restored = optimizers.deserialize(config)
    assert optimizers.serialize(restored) == config
    assert [type(o).__name__ for o in restored.optimizers] == ["Adam", "SGD"]
