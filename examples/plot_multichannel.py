"""
Multi-channel images: colour and shape
======================================

Colour images have three channels (red, green, blue); each filter of the
first convolution spans all of them, so it can look for a shape *in a
colour*. Here the classes are "red square", "red disk", "green square" and
"green disk", drawn at random positions and sizes on a noisy background:
neither the shape nor the colour alone decides.
"""

# %%
# The data
# --------
# A 4-D ``X`` of shape ``(n_samples, height, width, channels)`` (channels
# last) carries its own shape: no ``input_shape`` needed.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from skcnn import CNNClassifier
from skcnn.inspection import FeatureMapDisplay, FilterDisplay

rng = np.random.RandomState(0)
size, n_samples = 16, 1000
rows, cols = np.mgrid[:size, :size]
X = 0.15 * rng.uniform(size=(n_samples, size, size, 3))
y = []
for image in X:
    shape, colour = rng.choice(["square", "disk"]), rng.choice(["red", "green"])
    radius = rng.uniform(2.5, 4.5)
    r, c = rng.uniform(radius, size - 1 - radius, size=2)
    if shape == "square":
        mask = (np.abs(rows - r) <= radius * 0.85) & (np.abs(cols - c) <= radius * 0.85)
    else:
        mask = np.hypot(rows - r, cols - c) <= radius
    image[mask, 0 if colour == "red" else 1] += 0.8
    image[mask, 2] += 0.1  # a little blue in both: the blue channel says nothing
    y.append(f"{colour} {shape}")
X, y = np.clip(X, 0, 1), np.array(y)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

fig, axes = plt.subplots(2, 6, figsize=(9, 3.4), layout="constrained")
for ax, image, label in zip(axes.flat, X_train, y_train):
    ax.imshow(image)
    ax.set_title(label, fontsize=9)
    ax.set_axis_off()

# %%
# The network
# -----------
clf = CNNClassifier(
    filters=(8, 16), kernel_size=3, hidden_layer_sizes=(32,), max_iter=20, random_state=0
)
clf.fit(X_train, y_train)
print(clf.network_)
print(f"Test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# Filters in colour
# -----------------
# Each filter of the first layer spans the three input channels, so it
# shows as one small colour image: grey is a weight of zero, and a filter
# that is red where the others are grey rewards red in its input there.
# Filters are numbered as in the layer (``coefs_[0][..., k]``).
FilterDisplay.from_estimator(clf, layer="conv1")

# %%
# The same filters channel by channel (``rgb=False``): every column is one
# filter, every row its weights on one input channel (0 red, 1 green, 2
# blue). A filter with positive weights on red and negative ones on green
# responds to red things only.
FilterDisplay.from_estimator(clf, layer="conv1", rgb=False)

# %%
# Feature maps
# ------------
# One test image (in colour, top row) through the network: every map is
# numbered as the filter that makes it.
FeatureMapDisplay.from_estimator(clf, X_test[0], layers=["conv1", "relu1", "maxpool1", "maxpool2"])
plt.show()
