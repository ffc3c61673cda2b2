"""Step 01: one neuron, computed by hand.

A neuron (the perceptron idea) does two things:

    z = w · x + b          a weighted sum of its inputs plus a bias
    y = σ(z)               a non-linear activation; here the sigmoid σ(z) = 1 / (1 + e^-z)

We do both with plain NumPy, then check that minikeras gives the same numbers: first the op
`keras.ops.sigmoid`, then a `Dense(1, activation="sigmoid")` layer holding our weights.

Run:  python examples/01_one_neuron.py
"""

import numpy as np

import minikeras as keras

keras.utils.set_random_seed(1)
np.set_printoptions(precision=4, suppress=True)

# Step 1: the inputs and the neuron's parameters. Three inputs, so three weights and one bias.
x = np.array([2.0, -1.0, 0.5], dtype="float32")
w = np.array([0.4, 0.3, -0.6], dtype="float32")
b = np.float32(0.1)
print("inputs  x =", x)
print("weights w =", w, "  bias b =", b)

# Step 2: the weighted sum, term by term, then all at once with a dot product.
terms = x * w
z = float(np.dot(x, w) + b)
print("\nStep 2: z = w·x + b")
print("  " + " + ".join(f"({xi:g} × {wi:g})" for xi, wi in zip(x, w, strict=True)) + f" + {b:g}")
print("  = " + " + ".join(f"({t:g})" if t < 0 else f"{t:g}" for t in terms) + f" + {b:g}"
      + f" = {z:.4f}")

# Step 3: the activation squashes z into (0, 1), so the output reads as a probability.
y = 1.0 / (1.0 + np.exp(-z))
print(f"\nStep 3: y = σ(z) = 1 / (1 + e^-({z:.4f})) = {y:.4f}")

# Step 4: the perceptron's decision. A neuron "fires" (says yes) when y > 0.5, i.e. when z > 0:
# the bias moves that threshold, the weights say how much each input counts.
print(f"\nStep 4: decision = {'yes' if y > 0.5 else 'no'} (y > 0.5 exactly when z > 0)")

# Step 5: the same neuron in minikeras. First the op, then a Dense layer with our weights.
# A Dense kernel has shape (inputs, units): one column per neuron.
y_op = float(keras.ops.sigmoid(z))
layer = keras.layers.Dense(1, activation="sigmoid")
layer.build((None, 3))
layer.set_weights([w.reshape(3, 1), np.array([b])])
y_layer = float(layer(x[None, :])[0, 0])  # layers take a batch: shape (1, 3)
print(f"\nStep 5: keras.ops.sigmoid(z) = {y_op:.4f},  Dense(1, 'sigmoid')(x) = {y_layer:.4f}")

# Step 6: sweep z to see the shape of σ: near 0 it is almost a line, far out it flattens.
print("\nStep 6: the sigmoid curve")
for zi in (-6.0, -2.0, -0.5, 0.0, 0.5, 2.0, 6.0):
    s = float(keras.ops.sigmoid(zi))
    print(f"  z = {zi:5.1f}  σ(z) = {s:.4f}  " + "#" * round(40 * s))

assert np.isclose(y, y_op) and np.isclose(y, y_layer, rtol=1e-6)
print(f"\nOne neuron: z = {z:.4f}, output = {y:.4f} (by hand, op and Dense agree)")
