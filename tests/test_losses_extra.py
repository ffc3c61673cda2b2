"""The losses added to complete ``keras.losses`` (categorical focal and generalized
cross-entropy, Dice, Tversky, Circle): float64 NumPy formulas, finite-difference gradients,
extreme inputs without warnings, names and bad arguments. NumPy only; parity with Keras is in
compat_tests/test_losses_parity.py."""

import warnings

import numpy as np
import pytest
from gradcheck import gradient_check

from minikeras import losses

EPS = 1e-7
N, C = 6, 4


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _data(rng):
    labels = rng.integers(0, C, N)
    onehot = np.eye(C)[labels]
    probs = rng.uniform(0.05, 1, (N, C))
    probs /= probs.sum(-1, keepdims=True)
    return labels, onehot, probs


def _unit_rows(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


# --- float64 references, from the formulas in the docstrings ------------------------------------
def ref_focal(y, p, alpha=0.25, gamma=2.0):
    q = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return np.sum(alpha * (1 - q) ** gamma * -y * np.log(q), -1)


def ref_gce(labels, p, q=0.5):
    return (1 - p[np.arange(len(labels)), labels] ** q) / q


def ref_tversky(y, p, alpha=0.5, beta=0.5, axis=None):
    tp = np.sum(y * p, axis)
    return 1 - tp / (tp + alpha * np.sum((1 - p) * y, axis) + beta * np.sum(p * (1 - y), axis)
                     + EPS)


def ref_circle(labels, x, gamma=80.0, margin=0.4):
    d = np.maximum(1 - x @ x.T, 0)
    same = labels[:, None] == labels[None, :]
    pos, neg = same & ~np.eye(len(labels), dtype=bool), ~same
    out = []
    for i in range(len(labels)):
        if not pos[i].any() or not neg[i].any():
            out.append(0.0)
            continue
        s_p = -gamma * np.maximum(margin + d[i, pos[i]], 0) * (margin - d[i, pos[i]])
        s_n = gamma * np.maximum(1 + margin - d[i, neg[i]], 0) * (1 - margin - d[i, neg[i]])
        lse = np.log(np.sum(np.exp(s_p))) + np.log(np.sum(np.exp(s_n)))
        out.append(np.logaddexp(0, lse))
    return np.array(out)


def test_categorical_focal_crossentropy_matches_formula(rng):
    _, y, p = _data(rng)
    np.testing.assert_allclose(losses.categorical_focal_crossentropy(y, p), ref_focal(y, p),
                               rtol=1e-5)
    z = rng.normal(size=(N, C))
    softmax = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    np.testing.assert_allclose(
        losses.categorical_focal_crossentropy(y, z, alpha=0.5, gamma=1.0, from_logits=True),
        ref_focal(y, softmax, 0.5, 1.0), rtol=1e-5)
    smoothed = y * 0.9 + 0.1 / C
    loss = losses.CategoricalFocalCrossentropy(label_smoothing=0.1, reduction=None)
    np.testing.assert_allclose(loss(y, p), ref_focal(smoothed, p), rtol=1e-5)


def test_generalized_cross_entropy_matches_formula(rng):
    labels, _, p = _data(rng)
    np.testing.assert_allclose(
        losses.CategoricalGeneralizedCrossEntropy(q=0.3, reduction=None)(labels, p),
        ref_gce(labels, p, 0.3), rtol=1e-5)


def test_dice_and_tversky_match_formulas(rng):
    y, p = rng.integers(0, 2, (N, C)).astype(float), rng.uniform(size=(N, C))
    dice = 1 - 2 * np.sum(y * p) / (y.sum() + p.sum() + EPS)
    np.testing.assert_allclose(losses.Dice()(y, p), dice, rtol=1e-5)
    np.testing.assert_allclose(losses.dice(y, p, axis=-1),
                               ref_tversky(y, p, axis=-1), rtol=1e-5)  # α = β = 0.5 is Dice
    np.testing.assert_allclose(losses.Tversky(0.3, 0.7, axis=-1, reduction=None)(y, p),
                               ref_tversky(y, p, 0.3, 0.7, axis=-1), rtol=1e-5)


def test_circle_matches_formula_and_masks_zero_losses(rng):
    labels = np.array([0, 0, 1, 1, 2, 3])
    x = _unit_rows(rng.normal(size=(6, 5)))
    expected = ref_circle(labels, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rows without positives compute no log(0)
        np.testing.assert_allclose(losses.circle(labels, x), expected, rtol=1e-5)
        mean = losses.Circle()(labels, x)
    assert expected[4] == expected[5] == 0
    np.testing.assert_allclose(mean, expected[:4].mean(), rtol=1e-5)  # the zeros are masked


# --- gradients by finite differences ------------------------------------------------------------
def test_gradients_of_the_new_losses(rng):
    labels, y, p = _data(rng)
    gradient_check(lambda t: losses.categorical_focal_crossentropy(y, t), p)
    gradient_check(lambda t: losses.categorical_focal_crossentropy(
        y, t, alpha=0.4, gamma=1.5, from_logits=True, label_smoothing=0.2),
        rng.normal(size=p.shape))
    gradient_check(lambda t: losses.categorical_generalized_cross_entropy(labels, t, q=0.5), p)
    masks = rng.integers(0, 2, (N, C)).astype(float)
    gradient_check(lambda t: losses.dice(masks, t), p)
    gradient_check(lambda t: losses.dice(masks, t, axis=-1), p)
    gradient_check(lambda t: losses.tversky(masks, t, alpha=0.3, beta=0.7, axis=1), p)
    circle_labels = np.array([0, 0, 1, 1, 2, 3])
    x = _unit_rows(rng.normal(size=(6, 5)))
    gradient_check(lambda t: losses.circle(circle_labels, t, gamma=8.0), x, rtol=1e-4)
    gradient_check(lambda t: losses.circle(circle_labels, t, remove_diagonal=False), x,
                   rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls, kwargs", [
    (losses.CategoricalFocalCrossentropy, {}), (losses.Dice, {}), (losses.Tversky, {}),
    (losses.CategoricalGeneralizedCrossEntropy, {})])
def test_extreme_probabilities_stay_finite_without_warnings(cls, kwargs):
    y = np.array([[1.0, 0, 0], [0, 1, 0]])
    labels = np.array([0, 1])
    p = np.array([[1.0, 0, 0], [1.0, 0, 0]])
    target = labels if cls is losses.CategoricalGeneralizedCrossEntropy else y
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(np.asarray(cls(**kwargs)(target, p)))


# --- names, configs, errors -----------------------------------------------------------------------
def test_names_resolve_like_keras():
    for fn in (losses.dice, losses.tversky, losses.circle,
               losses.categorical_focal_crossentropy):
        assert losses.get(fn.__name__) is fn
    for name in ("Dice", "Tversky", "Circle", "CategoricalFocalCrossentropy"):
        assert type(losses.get(name)).__name__ == name
    # Keras does not register the generalized cross-entropy under a name either.
    with pytest.raises(ValueError, match="Could not interpret loss identifier"):
        losses.get("categorical_generalized_cross_entropy")


@pytest.mark.parametrize("loss", [
    losses.CategoricalFocalCrossentropy(alpha=0.5, gamma=3.0, from_logits=True, axis=1),
    losses.CategoricalGeneralizedCrossEntropy(q=0.1, reduction="sum"),
    losses.Dice(axis=(1, 2)), losses.Tversky(0.2, 0.8, name="t"),
    losses.Circle(gamma=32.0, margin=0.2, remove_diagonal=False)], ids=lambda x: type(x).__name__)
def test_configs_round_trip(loss):
    assert type(loss).from_config(loss.get_config()).get_config() == loss.get_config()


def test_bad_arguments():
    for q in (0, 1, 1.5, -0.1):
        with pytest.raises(ValueError, match=r"q must be in the interval \(0, 1\)"):
            losses.CategoricalGeneralizedCrossEntropy(q=q)
    with pytest.raises(ValueError, match="`axis` must be of type `int`"):
        losses.categorical_focal_crossentropy(np.eye(3), np.eye(3), axis=True)
    with pytest.warns(SyntaxWarning, match="In loss categorical_focal_crossentropy"):
        losses.categorical_focal_crossentropy(np.ones((2, 1)), np.ones((2, 1)))
