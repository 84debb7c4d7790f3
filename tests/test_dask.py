"""Beyond one process: loky and Dask searches, BLAS threads, out-of-core training."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

from skcnn import CNNClassifier

# With the dashboard off, a scheduler still serves its health routes on
# 127.0.0.1:8787, or on another port (with this warning) when 8787 is taken.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Port 8787 is already in use:UserWarning"),
    pytest.mark.slow,  # worker processes and clusters take seconds to start
]

TINY = dict(input_shape=(8, 8), hidden_layer_sizes=(8,), max_iter=2, random_state=0)


def test_core_imports_neither_dask_nor_skops():
    code = (
        "import sys, pickle\n"
        "import numpy as np\n"
        "from sklearn.datasets import load_digits\n"
        "from skcnn import CNNClassifier\n"
        "X, y = load_digits(return_X_y=True)\n"
        "clf = CNNClassifier(input_shape=(8, 8), filters=(2,), hidden_layer_sizes=(4,),\n"
        "                    max_iter=1).fit(X[:100] / 16, y[:100])\n"
        "pickle.loads(pickle.dumps(clf)).predict(X[:5])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed',"
        " 'dask_ml', 'skops'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"


def blas_threads():
    """The largest thread count of the BLAS libraries loaded in this process."""
    from threadpoolctl import threadpool_info

    return max(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")


class ThreadRecordingCNN(CNNClassifier):
    """Records the BLAS thread count while it trains (in whatever worker fits it)."""

    def _make_trainer(self, *args, **kwargs):
        self.blas_threads_ = blas_threads()
        return super()._make_trainer(*args, **kwargs)


def blas_threads_during_fit(estimator, X, y):
    """A 'scorer' that reports the BLAS threads the estimator saw in its fit."""
    return estimator.blas_threads_


def test_loky_workers_do_not_oversubscribe_blas(digits_small):
    pytest.importorskip("threadpoolctl")
    X, y = digits_small
    n_jobs = 2
    search = GridSearchCV(
        ThreadRecordingCNN(filters=(2,), **TINY),
        {"kernel_size": [3, 5]},
        cv=2,
        n_jobs=n_jobs,
        scoring=blas_threads_during_fit,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    threads = search.cv_results_["mean_test_score"]
    # loky gives each of n_jobs workers cpu_count // n_jobs BLAS threads (at least
    # one), so n_jobs x threads never exceeds the cores; skcnn changes nothing.
    assert np.all(threads == max(joblib.cpu_count() // n_jobs, 1)), threads


# --- Dask ----------------------------------------------------------------------


def local_cluster(distributed, n_workers):
    """Worker processes of 1 thread each, on loopback only, no dashboard."""
    return distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )


@pytest.fixture(scope="module")
def dask_client():
    """A real local cluster: 2 worker processes of 1 thread, on loopback only."""
    distributed = pytest.importorskip("distributed")
    with (
        local_cluster(distributed, n_workers=2) as cluster,
        distributed.Client(cluster) as client,
    ):
        # The workers unpickle this module's test classes by reference.
        client.run(sys.path.insert, 0, str(Path(__file__).parent))
        yield client


def search_scores(search):
    return {
        key: value
        for key, value in search.cv_results_.items()
        if key.startswith(("split", "mean_test", "rank", "param"))
    }


@pytest.mark.parametrize(
    "make_search",
    [
        lambda est: GridSearchCV(est, {"filters": [(2,), (4,)], "kernel_size": [3, 5]}, cv=2),
        lambda est: RandomizedSearchCV(
            est,
            {"filters": [(2,), (4,), (2, 4)], "learning_rate_init": [1e-3, 1e-2, 3e-2]},
            n_iter=3,
            cv=2,
            random_state=0,
        ),
    ],
    ids=["GridSearchCV", "RandomizedSearchCV"],
)
def test_search_on_a_dask_cluster_equals_the_local_one(dask_client, digits_small, make_search):
    X, y = digits_small
    X, y = X[:240], y[:240]
    local = make_search(CNNClassifier(**TINY)).set_params(n_jobs=2)
    on_dask = clone(local).set_params(n_jobs=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        local.fit(X, y)
        with joblib.parallel_config(backend="dask"):
            on_dask.fit(X, y)
    assert dask_client.run(lambda: "dask worker")  # the cluster answered
    local_scores, dask_scores = search_scores(local), search_scores(on_dask)
    assert local_scores.keys() == dask_scores.keys()
    for key, value in local_scores.items():
        np.testing.assert_array_equal(dask_scores[key], value, err_msg=key)
    assert on_dask.best_params_ == local.best_params_
    np.testing.assert_array_equal(
        on_dask.best_estimator_.predict_proba(X), local.best_estimator_.predict_proba(X)
    )


def test_dask_workers_run_one_blas_thread_by_default(dask_client, digits_small):
    pytest.importorskip("threadpoolctl")
    X, y = digits_small
    search = GridSearchCV(
        ThreadRecordingCNN(filters=(2,), **TINY),
        {"kernel_size": [3, 5]},
        cv=2,
        n_jobs=-1,
        scoring=blas_threads_during_fit,
    )
    with warnings.catch_warnings(), joblib.parallel_config(backend="dask"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert np.all(search.cv_results_["mean_test_score"] == 1)


def test_dask_workers_get_more_blas_threads_through_the_config():
    """The recipe of docs/scaling.rst: 2 BLAS threads in each worker."""
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("threadpoolctl")
    variables = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    # The variables of the process that starts the workers win over the config;
    # the nanny sets them in this process too: restore them afterwards.
    saved = {name: os.environ.pop(name, None) for name in variables}
    config = {f"distributed.nanny.pre-spawn-environ.{name}": 2 for name in variables}
    try:
        with (
            dask.config.set(config),
            local_cluster(distributed, n_workers=1) as cluster,
            distributed.Client(cluster) as client,
        ):
            assert list(client.run(blas_threads).values()) == [2]
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


# --- dask-ml: out-of-core training -----------------------------------------------


@pytest.fixture(scope="module")
def digits_in_chunks(digits_small):
    """400 digits as dask arrays of 4 chunks of 100 rows."""
    da = pytest.importorskip("dask.array")
    X, y = digits_small
    return da.from_array(X.astype(np.float32), chunks=100), da.from_array(y, chunks=100)


def test_incremental_runs_partial_fit_over_every_chunk(dask_client, digits_small, digits_in_chunks):
    """On the cluster, chunk after chunk, as partial_fit by hand in this process.

    Wherever the model goes (pickled between worker processes), it goes on
    from the same optimizer state and random streams.
    """
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = digits_small
    X_dask, y_dask = digits_in_chunks
    assert X_dask.numblocks == (4, 1)
    params = dict(filters=(4,), **TINY)
    incremental = wrappers.Incremental(CNNClassifier(**params), shuffle_blocks=False)
    incremental.fit(X_dask, y_dask, classes=np.arange(10))
    model = incremental.estimator_
    assert (model.n_iter_, model.t_) == (4, 400)  # one partial_fit per chunk

    by_hand = CNNClassifier(**params)
    for X_chunk, y_chunk in zip(X_dask.blocks, y_dask.blocks):
        by_hand.partial_fit(X_chunk.compute(), y_chunk.compute(), classes=np.arange(10))
    for got, expected in zip(model.coefs_, by_hand.coefs_):
        np.testing.assert_array_equal(got, expected)
    predicted = incremental.predict(X_dask)  # a dask array, computed chunk by chunk
    np.testing.assert_array_equal(predicted.compute(), by_hand.predict(X))


def test_incremental_passes_over_the_data_again(dask_client, digits_in_chunks):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X_dask, y_dask = digits_in_chunks
    model = CNNClassifier(filters=(4,), learning_rate_init=0.01, **TINY)
    incremental = wrappers.Incremental(model, random_state=0)
    scores = []
    for _ in range(3):  # three passes over the chunks, each in shuffled chunk order
        incremental.partial_fit(X_dask, y_dask, classes=np.arange(10))
        scores.append(incremental.score(X_dask, y_dask))
    assert incremental.estimator_.n_iter_ == 12
    assert incremental.estimator_.t_ == 1200
    assert scores[-1] > max(scores[0], 0.3), scores  # it goes on learning (chance: 0.1)


def test_successive_halving_gives_the_epochs_to_the_best_on_a_dask_cluster(
    dask_client, digits_small
):
    """HalvingRandomSearchCV with max_iter as the resource: epochs for the best candidates.

    On the Dask backend it finds what it finds locally, score for score.
    """
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV

    X, y = digits_small
    X, y = X[:240], y[:240]
    search = HalvingRandomSearchCV(
        CNNClassifier(**{**TINY, "max_iter": 1}),
        {"filters": [(2,), (4,), (8,)], "learning_rate_init": [1e-3, 1e-2, 3e-2]},
        resource="max_iter",
        min_resources=1,
        max_resources=4,
        factor=2,
        n_candidates=4,
        cv=2,
        random_state=0,
    )
    local = clone(search).set_params(n_jobs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        local.fit(X, y)
        with joblib.parallel_config(backend="dask"):
            search.set_params(n_jobs=-1).fit(X, y)
    # 4 candidates for 1 epoch, the best 2 for 2 epochs, the best one for 4
    assert search.n_candidates_ == [4, 2, 1] and search.n_resources_ == [1, 2, 4]
    assert search.best_params_["max_iter"] == 4 == search.best_estimator_.max_iter
    assert search.best_score_ > 0.2  # chance: 0.1
    local_scores, dask_scores = search_scores(local), search_scores(search)
    assert local_scores.keys() == dask_scores.keys()
    for key, value in local_scores.items():
        np.testing.assert_array_equal(dask_scores[key], value, err_msg=key)
