"""The compiled accelerator: Winograd convolutions held to the scipy.signal reference.

Where numba is absent these tests skip, but one: it runs a fit, and the
NumPy algorithms' agreement tests, in a process where numba cannot be
imported, so both ways run wherever the tests run.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from skcnn import CNNClassifier
from skcnn._engine import kernels, parallel, tuning, winograd
from skcnn._engine.conv import Conv2D
from skcnn._engine.kernels import CONV_ALGORITHMS, resolve_algorithm
from skcnn.layers import check_layer

WINOGRAD = sorted(winograd.WINOGRAD_TILES)
#: Largest relative error of float32 against the float64 reference, per algorithm:
#: F(4x4, 3x3)'s transforms have entries up to 8 and 1/24; F(2x2, 3x3) is as exact as im2col.
FLOAT32_RTOL = {"winograd2x2": 1e-6, "winograd4x4": 2e-5}


def run_python(code):
    """Run ``code`` in a fresh interpreter; its standard output."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_does_not_import_numba():
    code = """
        import sys
        import skcnn, skcnn.layers, skcnn.inspection
        from skcnn._engine import kernels, winograd
        print("numba" in sys.modules)
    """
    assert run_python(code).strip() == "False"


# Every other test needs numba.
numba = pytest.importorskip("numba")


def conv_results(algorithm, X, filters, padding, dtype, seed=0):
    """Output, dL/dX, dL/dW and dL/db of a Conv2D 3x3 with ``algorithm``, for a fixed dL/dout."""
    layer = Conv2D(filters, (3, 3), padding=padding, algorithm=algorithm)
    layer.build(X.shape[1:])
    layer.initialize(np.random.RandomState(seed), np.float64, "he")
    layer.bias = np.random.RandomState(seed + 1).standard_normal(filters)
    layer.weights, layer.bias = layer.weights.astype(dtype), layer.bias.astype(dtype)
    assert layer.algorithm_ == algorithm
    out = layer.forward(X.astype(dtype), training=True)
    grad_out = np.random.RandomState(seed + 2).standard_normal(out.shape)
    grad_X = layer.backward(grad_out.astype(dtype))
    return out, grad_X, layer.grad_weights, layer.grad_bias


# (n, height, width, channels, filters): odd and even sizes, batch 1, one channel and more,
# inputs smaller than a tile, tiles that overhang the edge.
SHAPES = [
    (1, 5, 5, 1, 1),
    (2, 8, 8, 3, 4),
    (3, 9, 6, 5, 2),
    (1, 3, 4, 2, 3),
    (2, 11, 13, 4, 6),
    (4, 16, 7, 1, 5),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("algorithm", WINOGRAD)
def test_winograd_agrees_with_scipy_signal(algorithm, padding, shape):
    n, height, width, channels, filters = shape
    X = np.random.RandomState(sum(shape)).standard_normal((n, height, width, channels))
    expected = conv_results("scipy", X, filters, padding, np.float64)
    got = conv_results(algorithm, X, filters, padding, np.float64)
    for value, reference in zip(got, expected):
        assert value.dtype == np.float64 and value.shape == reference.shape
        np.testing.assert_allclose(value, reference, rtol=0, atol=1e-10)
    got = conv_results(algorithm, X, filters, padding, np.float32)
    for value, reference in zip(got, expected):
        assert value.dtype == np.float32
        scale = np.abs(reference).max()
        np.testing.assert_allclose(value, reference, rtol=0, atol=FLOAT32_RTOL[algorithm] * scale)


@pytest.mark.parametrize("algorithm", WINOGRAD)
def test_winograd_gradients_match_finite_differences(algorithm):
    check_layer(Conv2D(3, (3, 3), algorithm=algorithm), (6, 7, 2))
    check_layer(Conv2D(2, (3, 3), padding="valid", algorithm=algorithm), (5, 9, 3))


@pytest.mark.parametrize("algorithm", WINOGRAD)
def test_threads_and_blocks_give_the_same_bits(algorithm, monkeypatch):
    """Blocks of two samples on one, two or three threads: the same results, bit for bit."""
    monkeypatch.setattr(tuning, "WINOGRAD_BLOCK_TILES", 2 * 9)  # 9 tiles a 6x6 (or 12x12) sample
    X = np.random.RandomState(0).standard_normal((7, 8, 8, 3)).astype(np.float32)
    m = winograd.WINOGRAD_TILES[algorithm]
    assert len(winograd.sample_blocks(7, (-(-8 // m)) ** 2)) - 1 >= 2
    runs = []
    for n_threads in (1, 2, 3):
        monkeypatch.setattr(parallel, "available_threads", lambda n=n_threads: n)
        runs.append(conv_results(algorithm, X, 4, "same", np.float32))
    for run in runs[1:]:
        for got, expected in zip(run, runs[0]):
            np.testing.assert_array_equal(got, expected)
    # The blocks agree with one block of the whole batch, to rounding.
    monkeypatch.setattr(tuning, "WINOGRAD_BLOCK_TILES", 10**6)
    whole = conv_results(algorithm, X, 4, "same", np.float32)
    for got, expected in zip(whole, runs[0]):
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


def test_winograd_runs_where_it_computes_the_convolution_and_im2col_elsewhere():
    assert resolve_algorithm("winograd4x4", (8, 8, 2), (3, 3, 2, 4), (1, 1)) == "winograd4x4"
    for weights_shape, stride, dilation in [
        ((5, 5, 2, 4), (1, 1), (1, 1)),
        ((3, 3, 2, 4), (2, 2), (1, 1)),
        ((3, 3, 2, 4), (1, 1), (2, 2)),
        ((1, 3, 2, 4), (1, 1), (1, 1)),
    ]:
        assert resolve_algorithm("winograd2x2", (9, 9, 2), weights_shape, stride, dilation) == (
            "im2col"
        )
    forward, _ = CONV_ALGORITHMS["winograd4x4"]
    with pytest.raises(ValueError, match=r"3x3 kernels with stride 1.*stride \(2, 2\)"):
        forward(np.zeros((1, 6, 6, 1)), np.zeros((3, 3, 1, 1)), np.zeros(1), (2, 2), False)


def test_auto_picks_winograd_where_the_model_says_it_is_cheaper(monkeypatch):
    many_channels = ((34, 34, 32), (3, 3, 32, 32), (1, 1))
    assert resolve_algorithm("auto", *many_channels) in WINOGRAD
    costs = kernels.algorithm_costs(*many_channels)
    assert costs["winograd4x4"] < costs["im2col"]
    # A first layer, one input channel: im2col.
    assert resolve_algorithm("auto", (34, 34, 1), (3, 3, 1, 32), (1, 1)) == "im2col"
    monkeypatch.setattr(kernels, "accelerator_available", lambda: False)
    assert resolve_algorithm("auto", *many_channels) == "shifted"  # NumPy's cheapest


def test_classifier_trains_the_same_model_with_winograd(digits):
    X, y = digits
    # A faint noise, so that no two conv outputs of a pooling window tie: on a flat
    # background they tie exactly with im2col, to rounding with Winograd, and the
    # pooling would route the gradient to another position.
    noise = np.random.RandomState(0).uniform(0, 0.01, size=(200, 64))
    X, y = (X[:200] + noise).reshape(-1, 8, 8), y[:200]
    params = dict(
        filters=(8, 8), padding="same", hidden_layer_sizes=(16,), max_iter=3, random_state=0
    )
    probas = {}
    for algorithm in ("im2col", *WINOGRAD):
        clf = CNNClassifier(conv_algorithm=algorithm, dtype="float64", **params).fit(X, y)
        probas[algorithm] = clf.predict_proba(X)
        if algorithm != "im2col":
            assert clf.network_.layers[0].algorithm_ == algorithm
    for algorithm in WINOGRAD:
        np.testing.assert_allclose(probas[algorithm], probas["im2col"], rtol=0, atol=1e-10)


@pytest.mark.slow
def test_without_numba_auto_fits_and_winograd_says_how_to_install(tmp_path):
    """A process where numba cannot be imported, as where it is not installed."""
    code = f"""
        import sys
        sys.modules["numba"] = None  # import numba raises ImportError
        import numpy as np, pytest
        from sklearn.datasets import load_digits
        from skcnn import CNNClassifier
        X, y = load_digits(return_X_y=True)
        X = X[:150].reshape(-1, 8, 8) / 16
        clf = CNNClassifier(filters=(8, 16), max_iter=2, random_state=0).fit(X, y[:150])
        print(clf.score(X, y[:150]) > 0.3, [c.algorithm_ for c in clf.network_.layers[:4:3]])
        try:
            CNNClassifier(conv_algorithm="winograd4x4", max_iter=1).fit(X, y[:150])
        except ValueError as exc:
            print(exc)
        # The NumPy algorithms' agreement tests, the compiled ones skipped.
        code = pytest.main([{str(__file__.replace("test_compiled", "test_conv"))!r},
                            "-q", "-p", "no:cacheprovider", "-k", "agree or naive"])
        print("pytest exit", int(code), "numba" in sys.modules and sys.modules["numba"] is not None)
    """
    out = run_python(code)
    assert "True ['im2col', 'im2col']" in out
    assert "conv_algorithm='winograd4x4'" in out and 'pip install "skcnn[numba]"' in out
    assert "pytest exit 0 False" in out
    assert " skipped" in out and " passed" in out


@pytest.mark.parametrize(
    "input_shape, padding, fused",
    [
        # The reference network's second conv (32 -> 64 at 13x13): Winograd priced
        # only 1.39x cheaper than im2col alone, so "auto" keeps it fused with its
        # pooling.
        ((28, 28, 1), "valid", True),
        # 32 channels at 32x32: priced 1.84x cheaper, Winograd wins over the fusion.
        ((32, 32, 32), "same", False),
    ],
)
def test_auto_fuses_a_conv_with_its_pooling_unless_winograd_is_much_cheaper(
    input_shape, padding, fused
):
    from skcnn._engine.fusion import ConvMaxPool2D

    X = np.random.RandomState(0).rand(8, *input_shape).astype(np.float32)
    y = np.arange(8) % 2
    layers = ("conv:32:3", "relu", "maxpool:2", "conv:64:3", "relu", "maxpool:2")
    clf = CNNClassifier(layers=layers, padding=padding, max_iter=1, random_state=0)
    with pytest.warns(Warning):  # one epoch: no convergence
        clf.fit(X, y)
    steps = [s for s in clf.network_.steps if isinstance(s, (Conv2D, ConvMaxPool2D))]
    assert isinstance(steps[-1], ConvMaxPool2D) == fused
    conv = steps[-1].conv if fused else steps[-1]
    assert conv.algorithm_ == ("im2col" if fused else "winograd4x4")


def test_prediction_batches_grow_where_winograd_makes_no_columns(monkeypatch):
    from test_network import network_of

    monkeypatch.setattr(tuning, "PREDICT_MIN_BATCH", 1)

    specs = [("conv", 32, 3, 1, "same"), ("relu",), ("conv", 32, 3, 1, "same"), ("relu",)]
    im2col = network_of(specs, (32, 32, 3), 10, "im2col")
    fast = network_of(specs, (32, 32, 3), 10, "winograd4x4")
    assert [layer.columns_per_sample() for layer in fast.layers[:3:2]] == [0, 0]
    # Winograd's tiles come in blocks of a bounded size: the largest array a
    # sample adds is a conv's output, not nine times the channels of its input.
    per_sample = 32 * 32 * 32 * 4
    assert fast.predict_batch_size(4) == tuning.PREDICT_BATCH_BYTES // per_sample
    assert im2col.predict_batch_size(4) == tuning.PREDICT_BATCH_BYTES // (9 * per_sample)
    # However large its arrays, a batch holds a few samples.
    monkeypatch.setattr(tuning, "PREDICT_MIN_BATCH", 16)
    assert im2col.predict_batch_size(4) == 16


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("shape", [(7, 5, 3, 16), (13, 9), (2, 1, 33, 5)], ids=str)
def test_batch_normalization_kernels_agree_with_numpy(monkeypatch, shape, dtype, rtol):
    from skcnn._engine.normalization import BatchNorm

    rng = np.random.RandomState(0)
    X = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
    grad_out = rng.standard_normal(shape).astype(dtype)
    weights = rng.uniform(0.5, 2, shape[-1]).astype(dtype)
    bias = rng.standard_normal(shape[-1]).astype(dtype)
    results = []
    for compiled in (True, False):
        if not compiled:
            monkeypatch.setattr(kernels, "accelerator_available", lambda: False)
        assert (kernels.accelerator() is not None) == compiled
        norm = BatchNorm(momentum=0.3)
        norm.build(shape[1:])
        norm.initialize(np.random.RandomState(1), dtype, "he")
        norm.weights, norm.bias = weights.copy(), bias.copy()
        out = norm.forward(X, training=True)
        grad_in = norm.backward(grad_out)
        arrays = [out, grad_in, norm.grad_weights, norm.grad_bias]
        arrays += [norm.running_mean, norm.running_var, norm.forward(X)]
        assert all(array.dtype == dtype for array in arrays)
        results.append([array.copy() for array in arrays])
    for got, expected in zip(*results, strict=True):
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adam_kernel_updates_as_numpy_does_bit_for_bit(monkeypatch, dtype):
    from skcnn._engine.optimizers import Adam

    rng = np.random.RandomState(0)
    params = [rng.standard_normal((40, 17)).astype(dtype), rng.standard_normal(5).astype(dtype)]
    # The second gradient a view: the NumPy passes take it.
    steps = [[rng.standard_normal((40, 17)), rng.standard_normal(10)[::2]] for _ in range(4)]
    results = []
    for compiled in (True, False):
        if not compiled:
            monkeypatch.setattr(kernels, "accelerator_available", lambda: False)
        trained = [param.copy() for param in params]
        optimizer = Adam(trained, learning_rate=0.01)
        for grads in steps:
            optimizer.update(trained, [grad.astype(dtype) for grad in grads])
        results.append(trained + optimizer.first_moments + optimizer.second_moments)
    for got, expected in zip(*results, strict=True):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "pool, padding, input_shape",
    [((2, 2), "valid", (7, 9, 5)), ((2, 2), "same", (7, 9, 33)), ((3, 2), "valid", (9, 8, 16))],
    ids=["2x2 odd sizes", "2x2 same", "3x2"],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_pooling_kernels_agree_with_numpy(monkeypatch, pool, padding, input_shape, dtype):
    from skcnn._engine.pooling import MaxPool2D

    rng = np.random.RandomState(0)
    X = rng.standard_normal((3, *input_shape)).astype(dtype)
    X[0, :4, :4] = 1.5  # ties: the first maximum in raster order takes the gradient
    results = []
    for compiled in (True, False):
        if not compiled:
            monkeypatch.setattr(kernels, "accelerator_available", lambda: False)
        layer = MaxPool2D(pool, pool, padding)
        layer.build(input_shape)
        out = layer.forward(X, training=True)
        assert isinstance(layer._x_pad, tuple) == compiled  # which path ran
        grad_out = np.random.RandomState(1).standard_normal(out.shape).astype(dtype)
        results.append((out, layer.backward(grad_out), layer.forward(X)))
    for got, expected in zip(*results, strict=True):
        assert got.dtype == expected.dtype == dtype
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_relu_kernels_agree_with_numpy(monkeypatch, dtype):
    from skcnn._engine.activations import ReLU

    rng = np.random.RandomState(0)
    X = rng.standard_normal((4, 5, 7, 3)).astype(dtype)
    X[0, 0, 0] = [0, np.nan, -0.0]
    grad_out = rng.standard_normal(X.shape).astype(dtype)
    results = []
    for compiled in (True, False):
        if not compiled:
            monkeypatch.setattr(kernels, "accelerator_available", lambda: False)
        layer = ReLU()
        out = layer.forward(X, training=True).copy()
        results.append((out, layer._active.copy(), layer.backward(grad_out).copy()))
    for got, expected in zip(*results, strict=True):
        np.testing.assert_array_equal(got, expected)
