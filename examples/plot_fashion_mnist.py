"""
Fashion-MNIST: the benchmark network
====================================

Fashion-MNIST holds 70,000 grey 28x28 images of clothing in 10 classes. This
example trains the network of the project's benchmark on a subset, so that it
runs in seconds, and quotes the numbers of the full benchmark.

The data is not downloaded: on Debian or Ubuntu, ``apt-get install
dataset-fashion-mnist`` installs it in ``/usr/share/datasets/fashion-mnist``
(or pass ``data_home=`` the folder that holds the four IDX files). Without
it, this example says so and stops.
"""

# %%
# The data
# --------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay

from skcnn import CNNClassifier
from skcnn.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist
from skcnn.inspection import FilterDisplay, LossCurveDisplay

try:
    X_train, y_train = load_fashion_mnist("train")
    X_test, y_test = load_fashion_mnist("test")
except FileNotFoundError as exc:
    print(f"Fashion-MNIST is not installed, so this example stops here.\n{exc}")
    X_train = None

if X_train is not None:
    names = np.array(FASHION_MNIST_CLASSES)
    fig, axes = plt.subplots(2, 8, figsize=(9, 3), layout="constrained")
    for ax, image, label in zip(axes.flat, X_train, y_train):
        ax.imshow(image, cmap="gray_r")
        ax.set_title(names[label], fontsize=8)
        ax.set_axis_off()

# %%
# The benchmark network, on a subset
# ----------------------------------
# Conv 32 3x3, ReLU, max-pool 2, conv 64 3x3, ReLU, max-pool 2, dense 128,
# ReLU, dense 10: the defaults of :class:`~skcnn.CNNClassifier`. Pixels are
# scaled to [0, 1]; 2,000 training images and 3 epochs keep this example
# short.
if X_train is not None:
    clf = CNNClassifier(max_iter=3, random_state=0)
    clf.fit(X_train[:2000] / 255, y_train[:2000])
    accuracy = clf.score(X_test[:1000] / 255, y_test[:1000])
    print(clf.network_)
    print(f"Accuracy on 1,000 test images: {accuracy:.3f}")

# %%
# Which classes get confused
# --------------------------
# Shirts, T-shirts, pullovers and coats look alike at 28x28.
if X_train is not None:
    fig, ax = plt.subplots(figsize=(7, 6), layout="constrained")
    ConfusionMatrixDisplay.from_estimator(
        clf,
        X_test[:1000] / 255,
        y_test[:1000],
        display_labels=names,
        xticks_rotation=60,
        colorbar=False,
        ax=ax,
    )
    LossCurveDisplay.from_estimator(clf)
    FilterDisplay.from_estimator(clf, layer="conv1")
    plt.show()

# %%
# The full benchmark
# ------------------
# ``python benchmarks/bench_fashion_mnist.py`` trains on all 60,000 images
# and times skcnn against PyTorch (CPU, the same network, batch size,
# optimizer, float32 and 2 threads) on a 2-core machine. The latest full run:
#
# ==================================================  =============  ============
# model (full 60,000 images)                          test accuracy  fit time (s)
# ==================================================  =============  ============
# skcnn ``CNNClassifier`` (reference net, 12 epochs)  0.9128         185
# skcnn ``CNNClassifier`` (tuned, 5 epochs)           0.9296         176
# scikit-learn ``MLPClassifier`` (defaults)           0.8886         90
# ==================================================  =============  ============
#
# Prediction ran at 19,961 images/s (2.42x PyTorch, the median of the ratios
# of five repeats), training at 3,985 images/s (1.31x), on a shared machine
# whose speed drifts. See :doc:`/performance`.
