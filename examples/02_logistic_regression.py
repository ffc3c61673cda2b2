"""Step 02: logistic regression is a network with one neuron.

For a yes/no question we want ŷ = P(y = 1 | x), a number between 0 and 1:

    ŷ = σ(wᵀx + b)                                   the model (one sigmoid neuron)
    J(w, b) = -mean[ y log ŷ + (1 - y) log(1 - ŷ) ]  the cost: binary cross-entropy
    w := w - α dJ/dw,   b := b - α dJ/db             gradient descent, α = learning rate

First we write all three lines ourselves: `keras.GradientTape` records the forward computation
and gives dJ/dw (backpropagation), we take the step. Then `Dense(1, activation="sigmoid")`,
`compile` and `fit` do the same work, and we check that both land on the same weights.

Run:  python examples/02_logistic_regression.py
"""

import numpy as np

import minikeras as keras
from minikeras import ops

keras.utils.set_random_seed(2)
np.set_printoptions(precision=4, suppress=True)

# Step 1: data. 200 points with two features; the labels come from a known rule plus chance,
# P(y = 1) = σ(2·x1 - 3·x2 + 0.5), so we know roughly what the weights should become.
rng = np.random.default_rng(2)
x = rng.normal(size=(200, 2)).astype("float32")
true_w, true_b = np.array([2.0, -3.0]), 0.5
y = (rng.random(200) < 1 / (1 + np.exp(-(x @ true_w + true_b)))).astype("float32")[:, None]
print(f"data: x {x.shape}, y {y.shape}, {int(y.sum())} positives; the rule: w = {true_w}, "
      f"b = {true_b}")

# Step 2: the parameters, as trainable variables. Starting at zero, ŷ = 0.5 for everyone.
w = keras.Variable(np.zeros((2, 1), dtype="float32"), name="w")
b = keras.Variable(np.zeros((1,), dtype="float32"), name="b")
learning_rate, steps = 0.5, 100


def cost(y_true, y_hat):
    """Binary cross-entropy written out: -mean[y log ŷ + (1 - y) log(1 - ŷ)]."""
    return -ops.mean(y_true * ops.log(y_hat) + (1 - y_true) * ops.log(1 - y_hat))


# Step 3: gradient descent by hand. The tape watches w and b, so tape.gradient can walk the
# recorded ops backwards (the chain rule) and return dJ/dw and dJ/db.
print(f"\nStep 3: gradient descent by hand (α = {learning_rate})")
for step in range(steps + 1):
    with keras.GradientTape() as tape:
        y_hat = ops.sigmoid(ops.matmul(x, w) + b)
        J = cost(y, y_hat)
    dw, db = tape.gradient(J, [w, b])
    if step == 0:
        # For this model the chain rule simplifies to dJ/dw = xᵀ(ŷ - y) / N: compare.
        by_formula = x.T @ (np.asarray(y_hat) - y) / len(x)
        print(f"  dJ/dw from the tape {np.asarray(dw).ravel()}, "
              f"from xᵀ(ŷ - y)/N {by_formula.ravel()}")
    if step % 25 == 0:
        print(f"  step {step:3d}  J = {float(J):.4f}  w = {w.numpy().ravel()}  b = {b.numpy()}")
    if step < steps:
        w.assign_sub(learning_rate * dw)  # w := w - α dJ/dw
        b.assign_sub(learning_rate * db)  # b := b - α dJ/db

# Step 4: the same model the Keras way. One Dense unit is exactly σ(xᵀw + b). With the weights
# starting at zero, the whole data set in one batch (batch_size=200) and plain SGD, each epoch
# is one gradient-descent step, so `fit` should retrace the loop above.
print("\nStep 4: Dense(1, activation='sigmoid') + compile + fit")
model = keras.Sequential([
    keras.Input(shape=(2,)),
    keras.layers.Dense(1, activation="sigmoid", kernel_initializer="zeros"),
])
model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
              loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, batch_size=len(x), epochs=steps, shuffle=False, verbose=0)
kernel, bias = model.get_weights()
loss, accuracy = model.evaluate(x, y, verbose=0)
print(f"  after {steps} epochs: loss = {loss:.4f}, accuracy = {accuracy:.3f}")
print(f"  Dense kernel {kernel.ravel()}  bias {bias}")
print(f"  by hand      {w.numpy().ravel()}  bias {b.numpy()}")

difference = max(np.abs(kernel - w.numpy()).max(), np.abs(bias - b.numpy()).max())
assert difference < 1e-4, difference
print(f"\nSame answer both ways: largest weight difference {difference:.1e}")
