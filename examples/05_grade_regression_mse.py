"""Step 05: predicting a number (the final grade) with mean squared error, and why we normalize.

Pass/fail was a probability; a grade out of 100 is any real number. Two changes follow:

    output:  ŷ = x W + b                 a linear output (Dense with no activation)
    loss:    J = mean((y - ŷ)²)          mean squared error ("mse"); we also report mean |y - ŷ|

The inputs are lectures attended (0-10) and points on the last exam (0-80): different scales.
The gradient of each weight is proportional to its input, dJ/dw_j = 2/N Σ (ŷ - y)·x_j, so the
big input gets big steps and the small one tiny steps, and no single learning rate suits both.
Rescaling the inputs fixes that:

    divide by the maximum:   x / max(x)                  (like dividing pixels by 255)
    standardize:             (x - mean) / sqrt(variance)  (keras.layers.Normalization, adapt())

We train the same linear model with the same learning rate on raw, max-scaled and standardized
inputs and compare.

Run:  python examples/05_grade_regression_mse.py
"""

import numpy as np

import minikeras as keras

keras.utils.set_random_seed(5)
np.set_printoptions(precision=4, suppress=True)

# Step 1: 300 students; the final grade grows with lectures and exam points, plus noise.
rng = np.random.default_rng(5)
lectures = rng.integers(0, 11, size=300).astype("float32")
points = rng.uniform(0, 80, size=300).astype("float32")
grade = 20 + 3.0 * lectures + 0.5 * points + rng.normal(0, 4, size=300)
x = np.stack([lectures, points], axis=1)
y = grade.astype("float32")[:, None]
x_train, y_train, x_val, y_val = x[:240], y[:240], x[240:], y[240:]
maximum = x_train.max(axis=0)
print(f"Step 1: {len(x_train)} training and {len(x_val)} validation students; "
      f"grades from {y.min():.0f} to {y.max():.0f}")


def make_model(inputs):
    """A linear model, optionally with an input step: ŷ = x W + b."""
    keras.utils.set_random_seed(5)  # the same starting weights for every variant
    steps = [keras.Input(shape=(2,))]
    if inputs == "standardized":
        normalizer = keras.layers.Normalization()
        normalizer.adapt(x_train)  # learns the mean and variance of each column
        steps.append(normalizer)
    return keras.Sequential([*steps, keras.layers.Dense(1)])


def prepare(inputs, data):
    return data / maximum if inputs == "max-scaled" else data


VARIANTS = ("raw", "max-scaled", "standardized")

# Step 2: the first gradient. Same model, same data: only the scale of the inputs differs.
print("\nStep 2: the first gradient dJ/dW (lectures, points) for each input scaling")
for inputs in VARIANTS:
    model = make_model(inputs)
    with keras.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y_train, model(prepare(inputs, x_train)))
    kernel_grad = np.asarray(tape.gradient(loss, model.layers[-1].kernel)).ravel()
    print(f"  {inputs:>12}: {kernel_grad}")
print("  Raw: the points weight gets a far larger push than the lectures weight.")

# Step 3: train each variant for 100 epochs with the same SGD learning rate. With raw inputs the
# steps on the points weight overshoot and grow each time until the loss overflows;
# TerminateOnNaN stops that run and says so (errstate keeps NumPy quiet while the numbers
# explode).
learning_rate, epochs = 0.01, 100
results = {}
print(f"\nStep 3: training with SGD(learning_rate={learning_rate}), {epochs} epochs")
for inputs in VARIANTS:
    model = make_model(inputs)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="mse",
                  metrics=["mae"])
    with np.errstate(over="ignore", invalid="ignore"):
        history = model.fit(prepare(inputs, x_train), y_train, batch_size=32, epochs=epochs,
                            validation_data=(prepare(inputs, x_val), y_val), verbose=0,
                            callbacks=[keras.callbacks.TerminateOnNaN()])
    results[inputs] = history.history
    done = len(history.history["loss"])
    print(f"  {inputs:>12}: {done} epochs, final loss {history.history['loss'][-1]:.4g}")

# Step 4: the rescue for raw inputs is a smaller learning rate, small enough for the points
# weight. Then the lectures weight and the bias crawl: after the same 100 epochs it is far off.
small_lr = 0.0003
model = make_model("raw")
model.compile(optimizer=keras.optimizers.SGD(learning_rate=small_lr), loss="mse",
              metrics=["mae"])
history = model.fit(x_train, y_train, batch_size=32, epochs=epochs,
                    validation_data=(x_val, y_val), verbose=0)
results[f"raw, lr={small_lr}"] = history.history

print("\nStep 4: validation error after training (mean |grade - prediction|, in points)")
for name, logs in results.items():
    mae = logs["val_mae"][-1]
    verdict = "diverged" if not np.isfinite(mae) or mae > 1e6 else f"{mae:6.2f}"
    print(f"  {name:>18}: {verdict}")

print(f"\nNormalized inputs train well with lr={learning_rate}: validation MAE "
      f"{results['standardized']['val_mae'][-1]:.2f} (standardized), "
      f"{results['max-scaled']['val_mae'][-1]:.2f} (max-scaled)")
