"""Step 12: a convolutional network (the classic MNIST CNN, on scikit-learn's 8x8 digits).

A Dense layer sees an image as one long row of numbers and must learn every pixel's weight
separately. A convolution slides one small kernel (here 3x3) over the whole image, so a pattern
(an edge, a stroke end) is found wherever it is, with very few weights:

    Conv2D(8, 3):   out[y, x, f] = relu(Σ_{i, j, c} image[y + i, x + j, c] · kernel[i, j, c, f]
                                        + bias[f])          8 feature maps, 3·3·1·8 + 8 weights
    MaxPooling2D(): the largest value of each 2x2 block: half the height and width

The tutorial's network for 28x28 MNIST is Conv2D -> MaxPooling2D -> Conv2D -> MaxPooling2D ->
Flatten -> Dense(10, softmax). scikit-learn ships 1,797 small 8x8 digits offline, so here the
convolutions use padding="same" (the output keeps the input's size) to leave room for two
poolings: 8x8 -> 4x4 -> 2x2.

Run:  python examples/12_mnist_cnn.py   (needs scikit-learn: pip install scikit-learn)
"""

import numpy as np
from sklearn.datasets import load_digits

import minikeras as keras

keras.utils.set_random_seed(12)

# The data: 8x8 grey images with values 0-16, as (samples, height, width, channels).
digits = load_digits()
images = (digits.images / 16.0).astype("float32").reshape(-1, 8, 8, 1)
labels = keras.utils.to_categorical(digits.target, num_classes=10)
order = np.random.default_rng(12).permutation(len(images))
train, test = order[:1400], order[1400:]
print(f"{len(train)} training and {len(test)} test images of shape {images.shape[1:]}")

model = keras.Sequential([
    keras.Input((8, 8, 1)),
    keras.layers.Conv2D(8, 3, padding="same", activation="relu"),   # (8, 8, 8)
    keras.layers.MaxPooling2D(),                                     # (4, 4, 8)
    keras.layers.Conv2D(16, 3, padding="same", activation="relu"),  # (4, 4, 16)
    keras.layers.MaxPooling2D(),                                     # (2, 2, 16)
    keras.layers.Flatten(),                                          # 64 numbers
    keras.layers.Dense(10, activation="softmax"),
])
model.summary()

model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(images[train], labels[train], epochs=15, batch_size=32, verbose=0)
print(f"Training loss {history.history['loss'][0]:.3f} -> {history.history['loss'][-1]:.3f}")
loss, accuracy = model.evaluate(images[test], labels[test], verbose=0)
print(f"Test accuracy: {accuracy:.3f}")

# What the first layer learned: each 3x3 kernel is a little pattern detector.
kernel = model.layers[0].get_weights()[0]  # (3, 3, 1, 8)
print("\nFirst filter of the first Conv2D (3x3 weights):")
print(np.array2string(kernel[:, :, 0, 0], precision=2, suppress_small=True))
