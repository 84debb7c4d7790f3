"""The composed network: whole-model gradients and the lean, batched prediction."""

import threading
import warnings

import numpy as np
import pytest
from gradcheck import numerical_gradient
from threadpoolctl import threadpool_limits

from skcnn._architecture import make_network, with_output
from skcnn._engine import parallel, tuning
from skcnn._engine.activations import ReLU
from skcnn._engine.base import walk
from skcnn._engine.losses import SoftmaxCrossEntropy
from skcnn._engine.network import Network
from skcnn._engine.parallel import DataParallel
from skcnn._engine.pooling import MaxPool2D
from skcnn._engine.regularization import Dropout


def network_of(specs, input_shape, n_outputs, algorithm="auto"):
    """The network of hidden ``specs`` and an output layer, built."""
    specs, _ = with_output(specs, [None] * len(specs), n_outputs)
    return make_network(specs, input_shape, algorithm)


SMALL = [
    ("conv", 3, 3, 1, "same"),
    ("relu",),
    ("maxpool", 2, 2, "valid"),
    ("conv", 2, (2, 3), (1, 2), "valid"),
    ("relu",),
    ("dense", 4),
    ("relu",),
]
# Blocks in blocks, a projection, parallel branches, dropout inside a block.
RESIDUAL = [
    ("conv", 3, 3, 1, "same"),
    ("residual", (("conv", 3, 3, 1, "same"), ("elu",), ("conv", 3, 3, 1, "same")), "auto"),
    ("relu",),
    ("residual", (("conv", 4, 3, 2, "same"), ("relu",), ("dropout", 0.3)), "auto"),
    ("parallel", (("conv", 2, 1, 1, "same"),), (("maxpool", 3, 1, "same"), ("tanh",))),
    ("globalavgpool",),
    ("residual", (("dense", 6), ("tanh",)), "auto"),
]


def small_network(
    input_shape=(6, 6, 2), n_outputs=3, algorithm="im2col", dtype=np.float64, specs=SMALL
):
    network = network_of(specs, input_shape, n_outputs, algorithm)
    network.initialize(np.random.RandomState(0), dtype, "he")
    rng = np.random.RandomState(1)
    for _, layer in walk(network):
        if "bias" in layer.param_names:
            layer.bias = rng.uniform(0.1, 0.5, layer.bias.shape).astype(dtype)
    network.seed(np.random.RandomState(2))
    return network


def set_predict_batch(monkeypatch, network, itemsize, n_samples):
    """Shrink the prediction budget so that a batch holds ``n_samples``."""
    monkeypatch.setattr(tuning, "PREDICT_MIN_BATCH", 1)
    per_sample = tuning.PREDICT_BATCH_BYTES // network.predict_batch_size(itemsize)
    monkeypatch.setattr(tuning, "PREDICT_BATCH_BYTES", per_sample * n_samples)
    assert network.predict_batch_size(itemsize) == n_samples


@pytest.mark.parametrize("algorithm", ["im2col", "scipy"])
def test_whole_network_gradient(algorithm):
    rng = np.random.RandomState(0)
    network = small_network(algorithm=algorithm)
    X = rng.standard_normal((4, 6, 6, 2))
    y = np.array([0, 2, 1, 2])
    loss_layer = SoftmaxCrossEntropy()

    def loss():
        return float(loss_layer.forward(network.forward(X), y))

    loss_layer.forward(network.forward(X, training=True), y)
    network.backward(loss_layer.backward())
    assert len(network.grads) == len(network.params) == 8
    for param, grad in zip(network.params, network.grads):
        np.testing.assert_allclose(grad, numerical_gradient(loss, param), rtol=1e-5, atol=1e-8)


def test_predict_in_batches_equals_one_pass(monkeypatch):
    network = small_network()
    X = np.random.RandomState(0).standard_normal((50, 6, 6, 2))
    expected = network.forward(X)
    set_predict_batch(monkeypatch, network, X.dtype.itemsize, 7)
    np.testing.assert_allclose(network.predict(X), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_prediction_threads_share_the_batches_and_agree_with_one_thread(monkeypatch, dtype):
    network = small_network(dtype=dtype)
    X = np.random.RandomState(0).standard_normal((50, 6, 6, 2)).astype(dtype)
    X[7] = 1e38  # overflows float32: no warning from a thread either
    set_predict_batch(monkeypatch, network, X.dtype.itemsize, 6)  # 9 batches of 6
    with threadpool_limits(1), np.errstate(over="ignore", invalid="ignore"):
        assert parallel.available_threads() == 1
        alone = network.predict(X)
    seen = []
    forward_batches = parallel._forward_batches
    monkeypatch.setattr(
        parallel,
        "_forward_batches",
        lambda X, *args: seen.append(len(X)) or forward_batches(X, *args),
    )
    monkeypatch.setattr(parallel, "available_threads", lambda: 3)
    with np.errstate(over="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        shared = network.predict(X)
    np.testing.assert_array_equal(shared, alone)
    assert seen == [18, 18, 14]  # three shares of whole batches


def _sharded_step(network, X, grad_scores, n_threads):
    """Scores and gradients of one DataParallel training pass."""
    with DataParallel(network, n_threads, len(X)) as trainer:
        scores = trainer.forward(X)
        trainer.backward(grad_scores)
        return scores, [grad.copy() for grad in network.grads]


@pytest.mark.parametrize(
    "dtype, algorithm, specs",
    [
        (np.float64, "im2col", SMALL),
        (np.float32, "im2col", SMALL),
        (np.float64, "fft", SMALL),
        (np.float64, "im2col", RESIDUAL),
        (np.float32, "im2col", RESIDUAL),
    ],
    ids=["float64", "float32", "fft", "residual float64", "residual float32"],
)
def test_shards_add_up_to_the_gradient_of_the_whole_batch_on_any_threads(
    monkeypatch, dtype, algorithm, specs
):
    monkeypatch.setattr(parallel, "shard_size", lambda network: 4)
    assert parallel.shard_bounds(13, 4).tolist() == [0, 4, 9, 13]
    network = small_network(algorithm=algorithm, dtype=dtype, specs=specs)
    rng = np.random.RandomState(0)
    X = rng.standard_normal((13, 6, 6, 2)).astype(dtype)
    grad_scores = rng.standard_normal((13, 3)).astype(dtype)
    streams = network.get_rng_states()
    whole_scores = network.forward(X, training=True)
    network.backward(grad_scores)
    whole = [grad.copy() for grad in network.grads]
    network.set_rng_states(streams)  # the same dropout masks again
    scores, one_thread = _sharded_step(network, X, grad_scores, n_threads=1)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(scores, whole_scores, rtol=rtol)
    for got, expected in zip(one_thread, whole, strict=True):
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)
    for n_threads in (2, 3, 5):  # the same bits, whichever thread runs which shard
        network.set_rng_states(streams)
        shared_scores, shared = _sharded_step(network, X, grad_scores, n_threads)
        np.testing.assert_array_equal(shared_scores, scores)
        for got, expected in zip(shared, one_thread, strict=True):
            np.testing.assert_array_equal(got, expected)


def test_replica_trains_the_same_arrays_with_its_own_state():
    network = small_network()
    twin = network.replica()
    assert all(a is b for a, b in zip(twin.params, network.params, strict=True))
    assert [type(step) for step in twin.steps] == [type(step) for step in network.steps]
    steps = [(a, b) for a, b in zip(twin.steps, network.steps) if a.workspace is not None]
    assert steps and all(a.workspace is not b.workspace for a, b in steps)
    X = np.random.RandomState(0).standard_normal((4, 6, 6, 2))
    expected = _gradients(network, X)
    for got, grad in zip(_gradients(twin, X), expected, strict=True):
        np.testing.assert_array_equal(got, grad)
    assert all(a is not b for a, b in zip(twin.grads, network.grads, strict=True))


def test_dropout_on_shards_draws_the_masks_of_the_whole_batch(monkeypatch):
    monkeypatch.setattr(parallel, "shard_size", lambda network: 4)
    specs = [("conv", 3, 3, 1, "same"), ("relu",), ("dropout", 0.5), ("dense", 4), ("relu",)]
    specs += [("dropout", 0.3)]
    X = np.random.RandomState(0).standard_normal((13, 6, 6, 2))
    grad_scores = np.random.RandomState(1).standard_normal((13, 3))
    runs, drawn = [], []
    draw = Dropout.draw
    monkeypatch.setattr(
        Dropout, "draw", lambda self, shape, *a: drawn.append(shape[0]) or draw(self, shape, *a)
    )
    for n_threads in (None, 1, 2):  # None: the whole batch at once
        network = _built(specs, (6, 6, 2), 3, np.float64)
        if n_threads is None:
            scores = network.forward(X, training=True)
            network.backward(grad_scores)
            runs.append((scores, [grad.copy() for grad in network.grads]))
        else:
            runs.append(_sharded_step(network, X, grad_scores, n_threads))
        runs[-1] += ([state[2] for state in network.get_rng_states()],)
    assert drawn == [13, 13] * 3  # by the network, for the whole batch: never by a shard
    (whole, whole_grads, whole_streams), (one, one_grads, one_streams), two_run = runs
    assert (one == 0).sum() == (whole == 0).sum() > 0  # the same units dropped
    np.testing.assert_allclose(one, whole, rtol=1e-12)
    for got, expected in zip(one_grads, whole_grads, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert one_streams == whole_streams  # as many numbers drawn
    np.testing.assert_array_equal(two_run[0], one)
    for got, expected in zip(two_run[1], one_grads, strict=True):
        np.testing.assert_array_equal(got, expected)


# Batch normalization after a conv, fused with the pooling after it, on flat
# units and in a residual block with a normalized projection.
NORMALIZED = [
    ("conv", 3, 3, 1, "same"),
    ("batchnorm",),
    ("relu",),
    ("conv", 4, 3, 1, "same"),
    ("batchnorm",),
    ("maxpool", 2, 2, "valid"),
    ("residual", (("conv", 5, 3, 1, "same"), ("batchnorm",), ("relu",)), "auto"),
    ("dense", 4),
    ("batchnorm",),
    ("relu",),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_normalization_on_shards_standardizes_with_the_whole_batch(monkeypatch, dtype):
    monkeypatch.setattr(tuning, "SHARD_CONV_MULTIPLY_ADDS", 0)
    monkeypatch.setattr(tuning, "SHARD_MULTIPLY_ADDS_PER_PARAMETER", 0)
    monkeypatch.setattr(tuning, "SHARD_SAMPLES", 4)
    network = small_network(specs=NORMALIZED, dtype=dtype)
    assert any(type(step).__name__ == "ConvMaxPool2D" for step in network.steps)
    norms = [layer for _, layer in walk(network) if layer.batch_sums]
    assert len(norms) == 5
    rng = np.random.RandomState(0)
    X = rng.standard_normal((13, 6, 6, 2)).astype(dtype)
    grad_scores = rng.standard_normal((13, 3)).astype(dtype)
    running = [(norm.running_mean.copy(), norm.running_var.copy()) for norm in norms]

    def restart():  # the running averages of before the step
        for norm, (mean, var) in zip(norms, running, strict=True):
            norm.running_mean[...], norm.running_var[...] = mean, var

    whole_scores = network.forward(X, training=True)
    network.backward(grad_scores)
    whole = [array.copy() for array in network.grads + network.buffers]
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    first = None
    for n_threads in (1, 2, 3, 5):  # 1: the three shards take turns in three threads
        restart()
        with DataParallel(network, n_threads, len(X)) as trainer:
            assert trainer.shard_size == 4 and trainer.meets
            assert trainer.training_threads == min(n_threads, 3)
            scores = trainer.forward(X)
            trainer.backward(grad_scores)
        assert all(norm.shard is None for norm in norms)
        run = [scores, *(array.copy() for array in network.grads + network.buffers)]
        if first is None:
            first = run
            np.testing.assert_allclose(scores, whole_scores, rtol=rtol, atol=rtol)
            for got, expected in zip(run[1:], whole, strict=True):
                np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)
        else:  # the same bits, whichever thread ran which shard
            for got, expected in zip(run, first, strict=True):
                np.testing.assert_array_equal(got, expected)


def test_a_batch_too_small_for_shards_after_shards_that_met_runs_whole(monkeypatch):
    monkeypatch.setattr(parallel, "shard_size", lambda network: 4)
    network = small_network(specs=NORMALIZED)
    X = np.random.RandomState(0).standard_normal((13, 6, 6, 2))
    expected = network.forward(X[:5], training=True)
    done = []

    def epoch():  # the batches of 13 samples in batches of 8: 8 (two shards), then 5 (one)
        with DataParallel(network, 2, 8) as trainer:
            for batch in (X[:8], X[:5]):
                scores = trainer.forward(batch)
                trainer.backward(np.ones_like(scores))
            done.append(scores)

    worker = threading.Thread(target=epoch, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the whole batch waited for shards that had gone"
    np.testing.assert_allclose(done[0], expected, rtol=1e-12)


def test_shards_that_meet_stop_on_an_error_in_any_of_them(monkeypatch):
    monkeypatch.setattr(parallel, "shard_size", lambda network: 4)
    network = small_network(specs=NORMALIZED)
    X = np.random.RandomState(0).standard_normal((12, 6, 6, 2))
    forward = Network.forward

    def failing(self, X, training=False):  # before the first rendezvous
        if self is not network:
            raise FloatingPointError("in a shard of another thread")
        return forward(self, X, training)

    monkeypatch.setattr(Network, "forward", failing)
    for n_threads in (1, 2):
        with (
            pytest.raises(FloatingPointError, match="another thread"),
            DataParallel(network, n_threads, len(X)) as trainer,
        ):
            trainer.forward(X)


def test_training_threads_run_blas_on_one_thread_and_stop_on_an_error(monkeypatch):
    network = small_network()
    X = np.random.RandomState(0).standard_normal((8, 6, 6, 2))
    monkeypatch.setattr(parallel, "shard_size", lambda network: 2)
    with threadpool_limits(2):
        before = parallel.available_threads()
        with DataParallel(network, 2, len(X)) as trainer:
            assert trainer.training_threads == 2
            assert parallel.available_threads() == 1  # each thread runs its own shards
            trainer.backward(np.ones_like(trainer.forward(X)))
        assert parallel.available_threads() == before

    forward = Network.forward

    def failing(self, X, training=False):
        if self is not network:
            raise FloatingPointError("in a shard of another thread")
        return forward(self, X, training)

    monkeypatch.setattr(Network, "forward", failing)
    with (
        pytest.raises(FloatingPointError, match="another thread"),
        DataParallel(network, 2, len(X)) as trainer,
    ):
        trainer.forward(X)


def test_threads_but_the_main_one_run_alone_and_leave_blas_as_it_is():
    # threadpoolctl lets one thread at a time set BLAS's (process-wide) limits.
    network = small_network()
    X = np.random.RandomState(0).standard_normal((8, 6, 6, 2))
    seen = []

    def train():
        seen.append(parallel.available_threads())
        with DataParallel(network, parallel.available_threads(), len(X)) as trainer:
            trainer.backward(np.ones_like(trainer.forward(X)))
            seen.append(trainer.training_threads)

    with threadpool_limits(2):
        before = parallel.available_threads()
        worker = threading.Thread(target=train)
        worker.start()
        worker.join()
        assert seen == [1, 1]
        assert parallel.available_threads() == before


def test_repr_draws_layers_and_shapes():
    text = repr(small_network())
    assert "input" in text and "6x6x2" in text
    assert "Conv2D" in text and "MaxPool2D" in text and "Dense(units=3)" in text
    assert "3x3x3" in text  # after the first pooling


def test_first_layer_skips_input_gradient():
    network = small_network()
    X = np.random.RandomState(0).standard_normal((2, 6, 6, 2))
    calls = []
    first = network.steps[0]
    original = first.backward

    def spy(grad_out, need_input_grad=True):
        calls.append(need_input_grad)
        return original(grad_out, need_input_grad)

    first.backward = spy
    network.backward(np.ones_like(network.forward(X, training=True)))
    assert calls == [False]


def test_relu_moves_after_pooling_with_the_same_results():
    specs = [("conv", 3, 3, 1, "same"), ("relu",), ("maxpool", 2, 2, "same"), ("dense", 4)]
    network = network_of(specs, (5, 5, 1), 2)
    kinds = [type(layer).__name__ for layer in network.layers]
    assert kinds[:3] == ["Conv2D", "MaxPool2D", "ReLU"]
    network.initialize(np.random.RandomState(0), np.float64, "he")
    literal = Network(
        [network.layers[0], ReLU(), MaxPool2D((2, 2), (2, 2), "same"), *network.layers[3:]]
    )
    literal.build((5, 5, 1))
    X = np.random.RandomState(1).standard_normal((6, 5, 5, 1))
    np.testing.assert_array_equal(network.forward(X), literal.forward(X))
    grads = []
    for net in (network, literal):
        net.backward(np.ones_like(net.forward(X, training=True)))
        grads.append([g.copy() for g in net.grads])
    for moved, kept in zip(*grads):
        np.testing.assert_array_equal(moved, kept)


def test_prediction_does_not_depend_on_the_batch():
    network = small_network(dtype=np.float32)
    X = np.random.RandomState(0).standard_normal((20, 6, 6, 2)).astype(np.float32)
    together = network.predict(X)
    alone = np.concatenate([network.predict(X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_array_equal(alone, together)


def test_conv_and_tiled_pooling_run_as_one_step_with_the_same_results():
    network = small_network()
    kinds = [type(step).__name__ for step in network.steps]
    assert kinds[:2] == ["ConvMaxPool2D", "ReLU"] and len(network.layers) == len(kinds) + 1
    X = np.random.RandomState(0).standard_normal((3, 6, 6, 2))
    fused = network.forward(X)
    fused_grads = _gradients(network, X)
    network.steps = network.layers  # every layer on its own
    np.testing.assert_allclose(network.forward(X), fused, rtol=1e-12)
    for got, expected in zip(_gradients(network, X), fused_grads):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_hidden_layer_output_of_a_fused_conv_is_the_whole_conv_output():
    network = small_network(input_shape=(7, 7, 2))
    X = np.random.RandomState(0).standard_normal((3, 7, 7, 2))
    conv = network.predict(X, only={"conv1"})
    assert conv.shape == (3, 7, 7, 3)  # the row and column no pooling window reads, too
    np.testing.assert_allclose(conv, network.layers[0].forward(X))
    pooled = network.predict(X, only={"conv1", "maxpool1"})
    np.testing.assert_allclose(pooled, network.layers[1].forward(conv))


def _gradients(network, X):
    network.backward(np.ones_like(network.forward(X, training=True)))
    return [grad.copy() for grad in network.grads]


def test_conv_batch_norm_and_pooling_run_as_one_step_with_the_same_results():
    specs = [("conv", 3, 3, 1, "same"), ("batchnorm",), ("relu",), ("maxpool", 2, 2, "valid")]
    specs += [("dense", 4), ("batchnorm",), ("relu",)]
    network = network_of(specs, (6, 6, 2), 3)
    network.initialize(np.random.RandomState(0), np.float64, "he")
    kinds = [type(step).__name__ for step in network.steps]
    assert kinds[:2] == ["ConvMaxPool2D", "ReLU"]
    X = np.random.RandomState(0).standard_normal((5, 6, 6, 2))
    fused_grads = _gradients(network, X)
    fused_stats = [b.copy() for b in network.buffers]
    fused = network.forward(X)
    network.steps = network.layers  # every layer on its own, from the same start
    network.initialize(np.random.RandomState(0), np.float64, "he")
    for got, expected in zip(_gradients(network, X), fused_grads):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    for got, expected in zip(network.buffers, fused_stats):
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(network.forward(X), fused, rtol=1e-10)


def test_training_reuses_scratch_memory_and_a_fitted_model_keeps_none():
    from skcnn import CNNClassifier

    network = small_network()
    X = np.random.RandomState(0).standard_normal((4, 6, 6, 2))
    first = _gradients(network, X)
    held = {id(step): step.workspace.nbytes for step in network.steps if step.workspace}
    assert sum(held.values()) > 0
    again = _gradients(network, X)  # the same memory, the same results
    assert {id(step): step.workspace.nbytes for step in network.steps if step.workspace} == held
    for got, expected in zip(again, first):
        np.testing.assert_array_equal(got, expected)

    X, y = np.random.RandomState(0).standard_normal((20, 6, 6, 1)), np.arange(20) % 2
    # A batch normalization on its own, and one inside a conv's fused step.
    layers = ("conv:2:3", "bn", "relu", "maxpool:2", "conv:2:3", "bn", "maxpool:2")
    clf = CNNClassifier(layers=layers, max_iter=2, random_state=0)
    with pytest.warns(Warning):
        clf.fit(X, y)
    steps = clf.network_.steps + [layer for _, layer in walk(clf.network_)]
    assert any(type(step).__name__ == "ConvMaxPool2D" for step in steps)
    assert any(step.workspace is not None for step in steps)
    assert all(step.workspace.nbytes == 0 for step in steps if step.workspace is not None)


def _built(specs, input_shape=(28, 28, 1), n_outputs=10, dtype=np.float32):
    network = network_of(specs, input_shape, n_outputs)
    network.initialize(np.random.RandomState(0), dtype, "he")
    return network


def test_networks_train_on_shards_where_their_convs_outweigh_their_parameters():
    conv_pool = [("conv", 32, 3, 1, "same"), ("relu",), ("maxpool", 2, 2, "valid")]
    reference = [*conv_pool, ("conv", 64, 3, 1, "same"), ("relu",), ("maxpool", 2, 2, "valid")]
    reference += [("dense", 128), ("relu",)]
    assert parallel.shard_size(_built(reference)) == 32
    # A small conv: shards large enough for 2**24 multiply-adds of it (28 * 28 * 9 * 8 each).
    small = [("conv", 8, 3, 1, "same"), ("relu",), ("maxpool", 2, 2, "valid")]
    assert parallel.shard_size(_built(small)) == -(-(2**24) // (28 * 28 * 9 * 8))
    assert parallel.shard_size(_built([("dense", 256), ("relu",)])) == 0  # an MLP
    # Every shard's gradients of a 6.4M-weight dense layer would cost more than they gain.
    assert parallel.shard_size(_built([*conv_pool[:2], ("dense", 256)])) == 0
    # Batch normalization: shards, that add up the sums of its statistics.
    assert parallel.shard_size(_built([*reference[:1], ("batchnorm",), *reference[1:]])) == 32
