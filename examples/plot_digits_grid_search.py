"""
Digits: a pipeline and a search over the architecture
=====================================================

The 8x8 digits that ship with scikit-learn, classified by a small
convolutional network inside a pipeline. Every architectural choice
(filters per convolution, pixels per filter, pooling window and stride,
hidden neurons, the number and order of layers) is a constructor argument,
so :class:`~sklearn.model_selection.GridSearchCV` searches it like any other
hyperparameter.
"""

# %%
# A pipeline
# ----------
# ``load_digits`` gives flattened 8x8 images, so the network is told their
# shape with ``input_shape``. ``MinMaxScaler`` maps the pixels to [0, 1].
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skcnn import CNNClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

cnn = CNNClassifier(
    input_shape=(8, 8), filters=(16,), hidden_layer_sizes=(64,), max_iter=20, random_state=0
)
model = make_pipeline(MinMaxScaler(), cnn)
model.fit(X_train, y_train)
print(f"Test accuracy: {model.score(X_test, y_test):.3f}")
print(model[-1].network_)

# %%
# Searching the architecture
# --------------------------
# Two ways to state an architecture. Blocks: ``filters`` gives one
# ``conv -> relu -> maxpool`` block per entry, ``hidden_layer_sizes`` one
# ``dense -> relu`` pair per entry, ``pool_size`` and ``pool_stride`` set
# the pooling window and its step (a 3x3 window every pixel overlaps, every
# 2 pixels halves the maps). Or ``layers``: any sequence of layers, in
# any order, such as two convolutions before a single overlapping pooling
# (``"maxpool:3:2"``: a 3x3 window every 2 pixels). The step name
# ``cnnclassifier__`` routes the parameters to the network inside the
# pipeline.
search = GridSearchCV(
    make_pipeline(MinMaxScaler(), CNNClassifier(input_shape=(8, 8), max_iter=10, random_state=0)),
    [
        {
            "cnnclassifier__filters": [(8,), (16,)],
            "cnnclassifier__kernel_size": [3, 5],
            "cnnclassifier__hidden_layer_sizes": [(), (32,)],
        },
        {
            "cnnclassifier__filters": [(16,)],
            "cnnclassifier__hidden_layer_sizes": [(32,)],
            "cnnclassifier__pool_size": [3],
            "cnnclassifier__pool_stride": [1, 2],
        },
        {
            "cnnclassifier__layers": [
                ("conv:8:3", "relu", "conv:8:3", "relu", "maxpool:3:2", "dense:32", "relu"),
                ("conv:8:3", "maxpool:2:1", "relu", "dense:32", "relu"),
            ]
        },
    ],
    cv=3,
    n_jobs=2,
)
search.fit(X_train, y_train)
print(f"Best: {search.best_params_}")
print(f"Best on the test set: {search.score(X_test, y_test):.3f}")

# %%
# The results as a table
# ----------------------
# ``cv_results_`` holds every candidate's scores and fit times (with pandas:
# ``pandas.DataFrame(search.cv_results_)``).
results = search.cv_results_


def describe(params):
    """A short label for one candidate's architecture."""
    params = {key.split("__")[1]: value for key, value in params.items()}
    if "layers" in params:
        return " ".join(params["layers"])
    pool = f" pool={params['pool_size']}/{params['pool_stride']}" if "pool_size" in params else ""
    return (
        f"filters={params['filters']} kernel={params.get('kernel_size', 3)}{pool} "
        f"hidden={params['hidden_layer_sizes']}"
    )


order = np.argsort(results["rank_test_score"])
labels = [describe(results["params"][i]) for i in order]
print(f"{'rank':>4}  {'accuracy':>14}  {'fit (s)':>7}  architecture")
for i, label in zip(order, labels):
    print(
        f"{results['rank_test_score'][i]:>4}  {results['mean_test_score'][i]:.3f} "
        f"+/- {results['std_test_score'][i]:.3f}  {results['mean_fit_time'][i]:>7.2f}  {label}"
    )

# %%
# The results as a plot
# ---------------------
# Cross-validated accuracy (mean and standard deviation over the 3 folds)
# against the time a fit takes: the best networks are not always the
# slowest.
fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
ax.errorbar(
    results["mean_fit_time"][order],
    results["mean_test_score"][order],
    yerr=results["std_test_score"][order],
    fmt="o",
)
middle = np.mean(ax.get_xlim())
for rank, i in enumerate(order[:3], start=1):
    left = results["mean_fit_time"][i] > middle  # labels point inwards, inside the axes
    ax.annotate(
        f"#{rank}: {describe(results['params'][i])}",
        (results["mean_fit_time"][i], results["mean_test_score"][i]),
        xytext=(-8 if left else 8, -12 * rank),
        textcoords="offset points",
        ha="right" if left else "left",
        fontsize=8,
        arrowprops={"arrowstyle": "-", "color": "0.6"},
    )
ax.set_xlabel("mean fit time (s)")
ax.set_ylabel("cross-validated accuracy")
ax.set_title(f"{len(order)} architectures, 3-fold cross-validation")
plt.show()
