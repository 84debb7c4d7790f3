"""
Out-of-core training and architecture search with Dask
======================================================

Fashion-MNIST read from disk chunk by chunk as a dask array: ``Incremental``
(from dask-ml) trains a ``CNNClassifier`` with one ``partial_fit`` per chunk.
Then scikit-learn's ``HalvingRandomSearchCV`` searches architectures on a
local Dask cluster, through joblib's Dask backend, giving most epochs to the
most promising networks.

Needs ``pip install ".[dask]"`` (from a clone of the repository) and the
data (``apt-get install dataset-fashion-mnist`` on Debian). It uses the
first ``SKCNN_EXAMPLE_N_SAMPLES`` training images (6,000 by default; 60000
for all of them).
"""

# %%
# The images as a dask array on disk
# ----------------------------------
# The images are written once as a stack of ``.npy`` files, one per chunk of
# 500 images. ``da.from_npy_stack`` reads a chunk from its file (memory-mapped)
# only when a task needs it, so the data never has to fit in memory at once;
# on a real cluster the folder would be on storage every worker can read.
# Each chunk is scaled to [0, 1] on the fly, in float32. dask-ml's wrappers
# cut 2-D arrays only, so the images are flattened and the network is told
# their shape with ``input_shape``.
import os
import tempfile
import time
import warnings

import dask.array as da
import joblib
import numpy as np
from dask_ml.wrappers import Incremental
from distributed import Client, LocalCluster
from scipy.stats import loguniform
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingRandomSearchCV

from skcnn import CNNClassifier
from skcnn.datasets import load_fashion_mnist


def main(folder):
    n_samples = int(os.environ.get("SKCNN_EXAMPLE_N_SAMPLES", 6000))
    images, labels = load_fashion_mnist("train")
    X_test, y_test = load_fashion_mnist("test")
    X_test = X_test[:2000].reshape(-1, 28 * 28).astype(np.float32) / 255
    y_test = y_test[:2000]
    flat = images[:n_samples].reshape(-1, 28 * 28)
    da.to_npy_stack(folder, da.from_array(flat, chunks=(500, 28 * 28)))
    X = da.from_npy_stack(folder, mmap_mode="r").astype(np.float32) / np.float32(255)
    y = da.from_array(labels[:n_samples], chunks=500)
    classes = np.arange(10)
    print(f"{X.shape[0]} images in {X.numblocks[0]} chunks of {X.chunksize[0]}")
    # The search below holds its data in memory, as NumPy arrays.
    X_memory = flat.astype(np.float32) / np.float32(255)
    y_memory = labels[:n_samples]

    # %%
    # A local cluster
    # ---------------
    # Two worker processes with one thread each (Dask's workers run BLAS with
    # one thread by default). On a real cluster,
    # ``Client("scheduler-address:8786")`` replaces these lines.
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        train(X, y, classes, X_test, y_test)
        search(X_memory, y_memory, X_test, y_test)


def train(X, y, classes, X_test, y_test):
    # %%
    # Incremental: one partial_fit per chunk
    # --------------------------------------
    # Every call of ``Incremental.partial_fit`` is one pass over the data:
    # the chunks in a shuffled order, one ``partial_fit`` (one epoch over the
    # chunk's images) each. The model moves between the workers with its
    # optimizer state, so it trains exactly as a loop of ``partial_fit`` in one
    # process would.
    network = CNNClassifier(
        input_shape=(28, 28), filters=(8,), hidden_layer_sizes=(32,), batch_size=64, random_state=0
    )
    incremental = Incremental(network, random_state=0)
    start = time.perf_counter()
    for epoch in range(1, 3):
        incremental.partial_fit(X, y, classes=classes)
        accuracy = incremental.estimator_.score(X_test, y_test)
        print(f"pass {epoch}: test accuracy {accuracy:.3f}")
    print(f"Incremental: {time.perf_counter() - start:.1f} s")


def search(X, y, X_test, y_test):
    # %%
    # HalvingRandomSearchCV: architectures that earn their epochs
    # -----------------------------------------------------------
    # Successive halving with ``resource="max_iter"`` fits 9 random candidates
    # for 1 epoch each (3-fold cross-validation), refits the best third for 3
    # epochs, and the best of those for 9. Every fit starts afresh, so a
    # candidate's scores are those of a model trained for that many epochs.
    # Under ``joblib.parallel_config(backend="dask")`` the fits of each round
    # run on the cluster's workers (``n_jobs=-1``: all of them); joblib sends
    # them the arrays.
    halving = HalvingRandomSearchCV(
        CNNClassifier(
            input_shape=(28, 28), hidden_layer_sizes=(32,), batch_size=64, random_state=0
        ),
        {
            "filters": [(4,), (8,), (16,)],
            "kernel_size": [3, 5],
            "learning_rate_init": loguniform(3e-4, 1e-2),
        },
        resource="max_iter",
        min_resources=1,
        max_resources=9,
        factor=3,
        n_candidates=9,
        cv=3,
        random_state=0,
        n_jobs=-1,
    )
    start = time.perf_counter()
    with warnings.catch_warnings(), joblib.parallel_config(backend="dask"):
        # max_iter ends every fit here, on purpose
        warnings.simplefilter("ignore", ConvergenceWarning)
        halving.fit(X, y)
    fits = sum(n * r for n, r in zip(halving.n_candidates_, halving.n_resources_))
    print(
        f"HalvingRandomSearchCV: {halving.n_candidates_} candidates for "
        f"{halving.n_resources_} epochs ({fits} epochs per fold), "
        f"{time.perf_counter() - start:.1f} s"
    )
    best = halving.best_params_
    print(
        f"best: filters={best['filters']}, kernel_size={best['kernel_size']}, "
        f"learning_rate_init={best['learning_rate_init']:.2g}, max_iter={best['max_iter']}"
    )
    print(f"test accuracy of the best: {halving.best_estimator_.score(X_test, y_test):.3f}")


# Dask starts its workers as new Python processes that import this file: the
# work happens only when it runs as a script.
if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        main(folder)
