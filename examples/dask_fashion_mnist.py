"""
Out-of-core training and architecture search with Dask
======================================================

Fashion-MNIST read from disk chunk by chunk as a dask array: ``Incremental``
(from dask-ml) trains a ``CNNClassifier`` with one ``partial_fit`` per chunk,
then ``HyperbandSearchCV`` searches architectures on a local Dask cluster,
giving most epochs to the most promising networks.

Needs ``pip install "skcnn[dask]"`` and the data (``apt-get install
dataset-fashion-mnist`` on Debian). ``HyperbandSearchCV`` needs
``dask<2025.3`` and ``distributed<2025.3`` until
https://github.com/dask/dask-ml/issues/1016 is fixed. It uses the first
``SKCNN_EXAMPLE_N_SAMPLES`` training images (6,000 by default; 60000 for
all of them).
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

import dask.array as da
import numpy as np
from dask_ml.model_selection import HyperbandSearchCV
from dask_ml.wrappers import Incremental
from distributed import Client, LocalCluster
from scipy.stats import loguniform

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
        train_and_search(X, y, classes, X_test, y_test)


def train_and_search(X, y, classes, X_test, y_test):
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

    # %%
    # HyperbandSearchCV: architectures that earn their epochs
    # -------------------------------------------------------
    # Hyperband starts many candidates with few ``partial_fit`` calls and
    # keeps training only the best ones, up to ``max_iter`` calls (chunks).
    # It holds out part of the data to score them. (dask-ml turns each
    # parameter's values into a NumPy array: give values of one shape, such as
    # ints, or tuples of one length.)
    search = HyperbandSearchCV(
        CNNClassifier(
            input_shape=(28, 28), hidden_layer_sizes=(32,), batch_size=64, random_state=0
        ),
        {
            "filters": [4, 8, 16],
            "kernel_size": [3, 5],
            "learning_rate_init": loguniform(3e-4, 1e-2),
        },
        max_iter=9,
        random_state=0,
    )
    start = time.perf_counter()
    search.fit(X, y, classes=classes)
    print(
        f"Hyperband: {search.metadata['n_models']} models, "
        f"{search.metadata['partial_fit_calls']} partial_fit calls, "
        f"{time.perf_counter() - start:.1f} s"
    )
    best = search.best_params_
    print(
        f"best: filters={best['filters']}, kernel_size={best['kernel_size']}, "
        f"learning_rate_init={best['learning_rate_init']:.2g}"
    )
    print(f"test accuracy of the best: {search.best_estimator_.score(X_test, y_test):.3f}")


# Dask starts its workers as new Python processes that import this file: the
# work happens only when it runs as a script.
if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        main(folder)
