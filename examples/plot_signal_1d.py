"""
1-D signals: finding a pattern anywhere in a time series
========================================================

A CNN is not only for images: a 1-D signal is an image of height 1, and a
convolution slides its filters along the time axis. Here, noisy signals
hold one of three short patterns (a sine burst, a square pulse or a ramp) at
a random position; the network learns to say which.
"""

# %%
# The data
# --------
# A 2-D ``X`` of shape ``(n_samples, length)`` with no ``input_shape`` is read
# as signals: kernel and pooling sizes given as ints run along their length.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from skcnn import CNNClassifier
from skcnn.inspection import FeatureMapDisplay, FilterDisplay, SaliencyDisplay

rng = np.random.RandomState(0)
length, width, n_samples = 96, 16, 900
patterns = {
    "sine burst": np.sin(np.linspace(0, 4 * np.pi, width)),
    "square pulse": np.r_[np.ones(width // 2), -np.ones(width // 2)],
    "ramp": np.linspace(-1, 1, width),
}
names = np.array(list(patterns))
y = rng.randint(len(names), size=n_samples)
X = 0.4 * rng.normal(size=(n_samples, length))
starts = rng.randint(0, length - width, size=n_samples)
for i, (label, start) in enumerate(zip(y, starts)):
    X[i, start : start + width] += patterns[names[label]]
y = names[y]
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

fig, axes = plt.subplots(3, 1, figsize=(8, 4.5), sharex=True, layout="constrained")
for ax, name in zip(axes, names):
    i = np.flatnonzero(y == name)[0]
    ax.plot(X[i], lw=1)
    ax.axvspan(starts[i], starts[i] + width, color="C1", alpha=0.2, label="the pattern")
    ax.set_title(name, fontsize=10)
axes[0].legend(loc="upper right")
_ = axes[-1].set_xlabel("time step")

# %%
# The network
# -----------
# Two blocks of convolution (filters 7 steps long), ReLU and max pooling
# (windows of 2), then a hidden layer of 32 neurons.
clf = CNNClassifier(
    filters=(8, 16),
    kernel_size=7,
    pool_size=2,
    hidden_layer_sizes=(32,),
    max_iter=30,
    random_state=0,
)
clf.fit(X_train, y_train)
print(clf.network_)
print(f"Test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# The filters of the first layer
# ------------------------------
# Each filter is 7 weights: a short shape the layer looks for.
FilterDisplay.from_estimator(clf, layer="conv1")

# %%
# Feature maps
# ------------
# One test signal through the network, one strip per channel: the
# convolution responds along the whole signal, but after ReLU and pooling
# most of what is left sits where the pattern is.
FeatureMapDisplay.from_estimator(clf, X_test[0], layers=["conv1", "relu1", "maxpool1", "maxpool2"])

# %%
# Where the evidence is
# ---------------------
# The saliency of a signal is the gradient of its class's score (the logit,
# before the softmax) with respect to every time step: red steps raise the
# score, blue ones lower it, the background as strong as they are. Times the
# signal itself (``method="gradient_x_input"``), it is every step's share of
# the score. The network was never told where the patterns are; the
# saliency of each test signal sits on its pattern (shaded on the right).
test_starts = train_test_split(starts, random_state=0)[1]
fig, axes = plt.subplots(3, 1, figsize=(8, 7), sharex=True, layout="constrained")
for ax, name in zip(axes, names):
    i = np.flatnonzero(y_test == name)[0]
    SaliencyDisplay.from_estimator(clf, X_test[i], target=name, method="gradient_x_input", ax=ax)
    ax.axvspan(test_starts[i], test_starts[i] + width, ymax=0.06, color="k", label="the pattern")
axes[0].legend(loc="upper left")
plt.show()
