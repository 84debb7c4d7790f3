"""
Quick start: a CNN on the digits, in a pipeline, tuned, saved
=============================================================

The 8x8 digits that ship with scikit-learn, classified by a small
convolutional network: used in a pipeline, its architecture searched with
``GridSearchCV``, then saved and loaded with joblib.
"""

# %%
# A pipeline
# ----------
# ``load_digits`` gives flattened 8x8 images, so the network is told their
# shape with ``input_shape``. ``MinMaxScaler`` maps pixels to [0, 1].
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skcnn import CNNClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

model = make_pipeline(MinMaxScaler(), CNNClassifier(input_shape=(8, 8), random_state=0))
start = time.perf_counter()
model.fit(X_train, y_train)
print(f"Pipeline: test accuracy {model.score(X_test, y_test):.3f}, ", end="")
print(f"fit in {time.perf_counter() - start:.1f} s")
print(model[-1].network_)

# %%
# Searching the architecture
# --------------------------
# Every architectural choice is a constructor argument: filters per
# convolution block, pixels per filter, the pooling window, hidden neurons,
# or, with ``layers``, any order of layers. The step name ``cnn__`` routes the
# parameters to the network inside the pipeline.
search = GridSearchCV(
    make_pipeline(MinMaxScaler(), CNNClassifier(input_shape=(8, 8), max_iter=15, random_state=0)),
    [
        {
            "cnnclassifier__filters": [(8,), (16, 32)],
            "cnnclassifier__kernel_size": [3, 5],
            "cnnclassifier__hidden_layer_sizes": [(), (64,)],
        },
        {
            "cnnclassifier__layers": [
                ("conv:16:3", "relu", "maxpool:2", "dense:64", "relu"),
                ("conv:16:3", "relu", "conv:16:3", "relu", "maxpool:2:1", "dense:64", "relu"),
            ]
        },
    ],
    cv=3,
    n_jobs=2,
)
search.fit(X_train, y_train)
ranking = np.argsort(search.cv_results_["rank_test_score"])
for i in ranking[:5]:
    params = {k.split("__")[1]: v for k, v in search.cv_results_["params"][i].items()}
    print(f"{search.cv_results_['mean_test_score'][i]:.3f}  {params}")
print(f"Best on the test set: {search.score(X_test, y_test):.3f}")

# %%
# Saving and loading
# ------------------
# A fitted model is plain arrays and tuples: joblib (or pickle) stores it and
# the loaded model predicts exactly the same probabilities.
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "digits-cnn.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path)
assert np.array_equal(loaded.predict_proba(X_test), model.predict_proba(X_test))
print(f"Saved and loaded: {path.name}, same predictions")
