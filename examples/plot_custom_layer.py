"""
A layer of your own
===================

skcnn's layers are classes registered under a name; yours can be too. This
example writes a Swish activation with a learned slope per channel,
``x * sigmoid(beta * x)`` (Ramachandran et al., 2017), checks its gradient
against finite differences, trains it inside a
:class:`~skcnn.CNNClassifier`, and shows that the model clones, saves and
searches like any other.
"""

# %%
# The layer
# ---------
#
# A layer says how specs write it (``kind``, ``arguments``), which of its
# attributes are learned (``param_names``), and computes ``forward`` and
# ``backward``: given dL/d(output), it sets ``grad_beta`` and returns
# dL/d(input).

import joblib
import matplotlib.pyplot as plt
import numpy as np
from scipy import special
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split

from skcnn import CNNClassifier
from skcnn.layers import Float, Layer, check_layer, register


@register
class Swish(Layer):
    """x * sigmoid(beta * x), with a learned beta per channel."""

    kind = "swish"
    arguments = (Float("beta_init", 1.0, low=0),)
    param_names = ("beta",)

    def __init__(self, beta_init=1.0):
        self.beta_init = beta_init

    def initialize(self, rng, dtype, init):
        self.beta = np.full(self.input_shape[-1], self.beta_init, dtype=dtype)

    def forward(self, X, training=False):
        gate = special.expit(self.beta * X)
        self._saved = (X, gate) if training else None
        return X * gate

    def backward(self, grad_out, need_input_grad=True):
        X, gate = self._saved
        # d/dbeta x s(beta x) = x^2 s (1 - s) ;  d/dx = s + beta x s (1 - s)
        slope = gate * (1 - gate)
        self.grad_beta = (grad_out * X * X * slope).reshape(-1, len(self.beta)).sum(axis=0)
        if not need_input_grad:
            return None
        return grad_out * (gate + self.beta * X * slope)


# %%
# The gradient, checked
# ---------------------
#
# :func:`~skcnn.layers.check_layer` holds both gradients to finite differences
# in float64, on images and on signals.

for shape in [(8, 8, 3), (1, 20, 2)]:
    errors = check_layer(Swish(0.5), shape)
    print(shape, {name: f"{error:.1e}" for name, error in errors.items()})

# %%
# Training with it
# ----------------
#
# ``"swish"`` is a spec now, with its argument: ``"swish:0.5"``.

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
layers = ("conv:16:3", "swish", "maxpool:2", "conv:32:3", "swish", "maxpool:2", "dense:64", "swish")
clf = CNNClassifier(input_shape=(8, 8), layers=layers, max_iter=15, random_state=0)
clf.fit(X_train, y_train)
print(f"test accuracy {clf.score(X_test, y_test):.3f}")
print(clf.network_)

# %%
# Every channel learned its own slope: ``parameters_`` names them by layer.

fig, axes = plt.subplots(1, 3, figsize=(10, 2.8), layout="constrained")
for ax, name in zip(axes, ["swish1", "swish2", "swish3"]):
    beta = clf.parameters_[f"{name}.beta"]
    ax.bar(np.arange(len(beta)), beta, color="tab:blue")
    ax.axhline(1.0, color="gray", lw=0.8, ls="--")
    ax.set(title=name, xlabel="channel", ylabel="beta" if name == "swish1" else None)
_ = fig.suptitle("The learned slope of every channel (it started at 1)")

# %%
# A value like any other
# ----------------------
#
# The model clones, saves and loads, and a grid search (in worker processes)
# tries the layer against ReLU.

twin = clone(clf).fit(X_train, y_train)
assert np.array_equal(twin.predict(X_test), clf.predict(X_test))
joblib.dump(clf, "swish-digits.joblib")
assert np.array_equal(joblib.load("swish-digits.joblib").predict(X_test), clf.predict(X_test))

relu = tuple("relu" if spec == "swish" else spec for spec in layers)
grid = {"layers": [layers, relu]}
search = GridSearchCV(clone(clf).set_params(max_iter=10), grid, cv=3, n_jobs=2)
search.fit(X_train, y_train)
for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
    print(f"{params['layers'][1]:>6}: {score:.3f}")

# %%
# To load such a model with ``skops.io.load``, trust the layer's class beside
# skcnn's estimators: ``trusted=[*skcnn.TRUSTED_TYPES, "my_module.Swish"]``
# (see :doc:`/layers`).
