"""Step 04: backpropagation is the chain rule, one local derivative at a time.

A tiny network: 2 inputs -> 2 sigmoid hidden units -> 1 sigmoid output, binary cross-entropy,
a batch of N = 3 examples.

    forward                          local derivative (what each step multiplies in going back)
    z1 = x W1 + b1                   dz1/dW1 = x,   dz1/db1 = 1
    a1 = σ(z1)                       da1/dz1 = a1 (1 - a1)
    z2 = a1 W2 + b2                  dz2/dW2 = a1,  dz2/da1 = W2
    a2 = σ(z2)                       da2/dz2 = a2 (1 - a2)
    L  = mean(-[y log a2 + (1 - y) log(1 - a2)])
                                     dL/da2 = (a2 - y) / (a2 (1 - a2)) / N

Going backwards, each gradient is the one after it times a local derivative:

    dL/dz2 = dL/da2 · da2/dz2 = (a2 - y) / N          (the sigmoid's a(1 - a) cancels)
    dL/dW2 = a1ᵀ dL/dz2,   dL/db2 = Σ dL/dz2
    dL/da1 = dL/dz2 W2ᵀ
    dL/dz1 = dL/da1 · a1 (1 - a1)
    dL/dW1 = xᵀ dL/dz1,    dL/db1 = Σ dL/dz1

We compute every line with NumPy (float64), print it, and check the result against
`keras.GradientTape`, which does the same walk over the ops it recorded.

Run:  python examples/04_backprop_by_hand.py
"""

import numpy as np

import minikeras as keras

keras.utils.set_random_seed(4)
np.set_printoptions(precision=5, suppress=True)

# The data: three students (lectures/10, points/8) and whether they passed.
x = np.array([[0.4, 0.625], [0.9, 0.3], [0.2, 0.1]])
y = np.array([[1.0], [1.0], [0.0]])
N = len(x)

# The network, with Keras's random initial weights.
model = keras.Sequential([
    keras.Input(shape=(2,)),
    keras.layers.Dense(2, activation="sigmoid"),
    keras.layers.Dense(1, activation="sigmoid"),
])
W1, b1, W2, b2 = [w.astype("float64") for w in model.get_weights()]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def show(name, value):
    print(f"{name:>32} =", str(np.round(value, 5)).replace("\n", "\n" + " " * 35))


print("Forward pass")
z1 = x @ W1 + b1
a1 = sigmoid(z1)
z2 = a1 @ W2 + b2
a2 = sigmoid(z2)
L = np.mean(-(y * np.log(a2) + (1 - y) * np.log(1 - a2)))
for name, value in [("z1 = x W1 + b1", z1), ("a1 = σ(z1)", a1), ("z2 = a1 W2 + b2", z2),
                    ("a2 = σ(z2)", a2)]:
    show(name, value)
print(f"{'L':>32} = {L:.6f}")

print("\nBackward pass: output layer")
dL_da2 = (a2 - y) / (a2 * (1 - a2)) / N
da2_dz2 = a2 * (1 - a2)
dL_dz2 = dL_da2 * da2_dz2
show("dL/da2", dL_da2)
show("da2/dz2 = a2(1 - a2)", da2_dz2)
show("dL/dz2 = dL/da2 · da2/dz2", dL_dz2)
show("check: (a2 - y) / N", (a2 - y) / N)
dL_dW2 = a1.T @ dL_dz2
dL_db2 = dL_dz2.sum(axis=0)
show("dL/dW2 = a1ᵀ dL/dz2", dL_dW2)
show("dL/db2 = Σ dL/dz2", dL_db2)

print("\nBackward pass: hidden layer")
dL_da1 = dL_dz2 @ W2.T
da1_dz1 = a1 * (1 - a1)
dL_dz1 = dL_da1 * da1_dz1
show("dL/da1 = dL/dz2 W2ᵀ", dL_da1)
show("da1/dz1 = a1(1 - a1)", da1_dz1)
show("dL/dz1 = dL/da1 · da1/dz1", dL_dz1)
dL_dW1 = x.T @ dL_dz1
dL_db1 = dL_dz1.sum(axis=0)
show("dL/dW1 = xᵀ dL/dz1", dL_dW1)
show("dL/db1 = Σ dL/dz1", dL_db1)

# The same gradients from the tape: record the forward pass and the loss, then walk back.
with keras.GradientTape() as tape:
    loss = keras.losses.BinaryCrossentropy()(y, model(x))
grads = tape.gradient(loss, model.trainable_weights)

print("\nBy hand vs tape.gradient (float64 by hand, float32 in the model)")
print(f"{'L':>8}: {L:.6f} vs {float(loss):.6f}")
agree = np.isclose(L, float(loss), rtol=1e-5)
for name, mine, theirs in zip(["dL/dW1", "dL/db1", "dL/dW2", "dL/db2"],
                              [dL_dW1, dL_db1, dL_dW2, dL_db2], grads, strict=True):
    diff = np.abs(mine - np.asarray(theirs)).max()
    agree &= np.allclose(mine, np.asarray(theirs), rtol=1e-4, atol=1e-6)
    print(f"{name:>8}: largest difference {diff:.1e}")
assert agree
print("hand-written chain rule == tape.gradient: True")
