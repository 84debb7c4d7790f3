"""Every convolution algorithm computes the same thing, forward and backward."""

import numpy as np
import pytest
from algorithms import ALGORITHM_PARAMS, NUMPY_ALGORITHMS

from skcnn._engine import kernels
from skcnn._engine.conv import Conv2D
from skcnn._engine.fusion import ConvMaxPool2D
from skcnn._engine.kernels import (
    CONV_ALGORITHMS,
    algorithm_costs,
    output_length,
    padding_amounts,
    pooled_im2col_backward,
    pooled_im2col_forward,
    resolve_algorithm,
    window_view,
)
from skcnn._engine.normalization import BatchNorm
from skcnn._engine.pooling import MaxPool2D
from skcnn._engine.workspace import FRESH, Workspace


def random_case(seed):
    """A random shape, kernel, stride, dilation, padding and channel count.

    Every other seed dilates the kernel.
    """
    rng = np.random.RandomState(seed)
    kh, kw = rng.randint(1, 5, size=2)
    dilation = tuple(int(d) for d in rng.randint(1, 4, size=2)) if seed % 2 else (1, 1)
    height = (kh - 1) * dilation[0] + 1 + rng.randint(0, 6)
    width = (kw - 1) * dilation[1] + 1 + rng.randint(0, 6)
    channels, filters = rng.randint(1, 4), rng.randint(1, 4)
    stride = tuple(int(s) for s in rng.randint(1, 4, size=2))
    padding = ["valid", "same"][rng.randint(2)]
    X = rng.standard_normal((rng.randint(1, 4), height, width, channels))
    return X, (int(kh), int(kw)), stride, padding, int(filters), dilation


@pytest.mark.parametrize("algorithm", [a for a in ALGORITHM_PARAMS if a != "scipy"])
@pytest.mark.parametrize("seed", range(30))
def test_algorithms_agree(seed, algorithm):
    """Each algorithm as the scipy.signal reference, where it runs (else im2col runs)."""
    X, kernel, stride, padding, filters, dilation = random_case(seed)
    results = []
    for name in ("scipy", algorithm):
        layer = Conv2D(filters, kernel, stride, padding, dilation, algorithm=name)
        layer.build(X.shape[1:])
        layer.initialize(np.random.RandomState(0), np.float64, "he")
        layer.bias = np.random.RandomState(2).standard_normal(filters)
        out = layer.forward(X, training=True)
        grad_out = np.random.RandomState(1).standard_normal(out.shape)
        grad_X = layer.backward(grad_out)
        results.append((out, grad_X, layer.grad_weights, layer.grad_bias))
    reference = results[0]
    for result in results[1:]:
        for got, expected in zip(result, reference):
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("dilation", [(1, 1), (2, 3)])
@pytest.mark.parametrize("algorithm", NUMPY_ALGORITHMS)
def test_matches_naive_loops(algorithm, dilation):
    """The definition, written as plain loops, on one strided 'valid' case."""
    rng = np.random.RandomState(0)
    x = rng.standard_normal((2, 9, 8, 3))
    weights = rng.standard_normal((3, 2, 3, 4))
    bias = rng.standard_normal(4)
    stride, (dh, dw) = (2, 1), dilation
    forward, _ = CONV_ALGORITHMS[algorithm]
    out, _ = forward(x, weights, bias, stride, False, dilation)
    out_h, out_w = output_length(9, 3, 2, dh), output_length(8, 2, 1, dw)
    expected = np.empty((2, out_h, out_w, 4))
    for s in range(2):
        for p in range(out_h):
            for q in range(out_w):
                patch = x[s, 2 * p : 2 * p + 2 * dh + 1 : dh, q : q + dw + 1 : dw, :]
                for f in range(4):
                    expected[s, p, q, f] = np.sum(patch * weights[..., f]) + bias[f]
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "size, kernel, stride, expected",
    [(8, 3, 1, (1, 1)), (8, 4, 1, (1, 2)), (7, 3, 2, (1, 1)), (1, 3, 1, (1, 1)), (5, 1, 1, (0, 0))],
)
def test_same_padding(size, kernel, stride, expected):
    assert padding_amounts(size, kernel, stride, "same") == expected
    padded = size + sum(expected)
    assert output_length(padded, kernel, stride) == -(-size // stride)
    assert padding_amounts(size, kernel, stride, "valid") == (0, 0)


def test_window_view_is_a_view():
    x = np.arange(2 * 5 * 5 * 2, dtype=float).reshape(2, 5, 5, 2)
    view = window_view(x, (3, 3), (2, 2))
    assert view.shape == (2, 2, 2, 3, 3, 2)
    assert np.shares_memory(view, x)
    np.testing.assert_array_equal(view[1, 1, 0], x[1, 2:5, 0:3])


def test_resolve_algorithm():
    assert resolve_algorithm("auto") == "im2col"
    assert resolve_algorithm("scipy", (8, 8, 1), (3, 3, 1, 4)) == "scipy"
    with pytest.raises(ValueError, match="conv_algorithm"):
        resolve_algorithm("winograd")


@pytest.mark.parametrize(
    "x_shape, w_shape, expected",
    [
        ((13, 13, 32), (3, 3, 32, 64), "im2col"),
        ((8, 8, 1), (3, 3, 1, 32), "im2col"),
        ((64, 64, 16), (15, 15, 16, 16), "fft"),
        ((32, 32, 16), (9, 9, 16, 32), "fft"),
    ],
)
def test_auto_models_the_cost(x_shape, w_shape, expected, monkeypatch):
    monkeypatch.setattr(kernels, "accelerator_available", lambda: False)  # NumPy's alone
    assert resolve_algorithm("auto", x_shape, w_shape, (1, 1)) == expected
    costs = algorithm_costs(x_shape, w_shape, (1, 1))
    assert min(("im2col", "fft"), key=costs.get) == expected
    # Strides cut im2col's work, not the FFT's.
    strided = algorithm_costs(x_shape, w_shape, (2, 2))
    assert strided["im2col"] < costs["im2col"] and strided["fft"] == costs["fft"]


def test_float32_agrees_with_float64():
    X, kernel, stride, padding, filters, dilation = random_case(3)
    outs = []
    for dtype in (np.float64, np.float32):
        layer = Conv2D(filters, kernel, stride, padding, dilation)
        layer.build(X.shape[1:])
        layer.initialize(np.random.RandomState(0), dtype, "he")
        out = layer.forward(X.astype(dtype))
        assert out.dtype == dtype
        outs.append(out)
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-5)


# --- a convolution and the tiled max pooling after it, as one step ----------------


def conv_and_pool(
    input_shape, kernel, stride, padding, pool, dtype=np.float64, seed=0, dilation=(1, 1)
):
    """A built Conv2D with integer weights, and the MaxPool2D after it."""
    rng = np.random.RandomState(seed)
    conv = Conv2D(3, kernel, stride, padding, dilation, algorithm="im2col")
    conv.build(input_shape)
    conv.initialize(rng, dtype, "he")
    # Integer weights on integer inputs: exact sums, so ties (a flat background,
    # common in images) are the same whether or not the bias is added first.
    conv.weights = rng.randint(-2, 3, size=conv.weights.shape).astype(dtype)
    conv.bias = rng.standard_normal(3).astype(dtype)
    pooling = MaxPool2D(pool, pool)
    pooling.build(conv.output_shape)
    return conv, pooling


FUSED_CASES = [
    ((7, 9, 1), (3, 3), (1, 1), "valid", (2, 2), (1, 1)),  # odd output: a row, a column unread
    ((6, 8, 2), (3, 3), (1, 1), "same", (2, 2), (1, 1)),
    ((11, 9, 3), (2, 3), (2, 1), "valid", (3, 2), (1, 1)),
    ((5, 6, 2), (1, 2), (1, 1), "valid", (1, 2), (1, 1)),
    ((1, 17, 2), (1, 3), (1, 1), "same", (1, 2), (1, 3)),  # a dilated 1-D conv
]


@pytest.mark.parametrize("input_shape, kernel, stride, padding, pool, dilation", FUSED_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv_fused_with_pooling_agrees_with_the_two_layers(
    input_shape, kernel, stride, padding, pool, dilation, dtype
):
    conv, pooling = conv_and_pool(
        input_shape, kernel, stride, padding, pool, dtype, dilation=dilation
    )
    assert ConvMaxPool2D.fits(conv, pooling)
    rng = np.random.RandomState(1)
    X = rng.randint(0, 3, size=(4, *input_shape)).astype(dtype)
    X[:, : input_shape[0] // 2] = 0  # ties
    grad_out = rng.standard_normal((4, *pooling.output_shape)).astype(dtype)

    out = pooling.forward(conv.forward(X, training=True), training=True)
    grad_X = conv.backward(pooling.backward(grad_out))
    separate = (out, grad_X, conv.grad_weights, conv.grad_bias)

    fused = ConvMaxPool2D(conv, pooling)
    out = fused.forward(X, training=True)
    grad_X = fused.backward(grad_out)
    together = (out, grad_X, conv.grad_weights, conv.grad_bias)
    for got, expected in zip(together, separate):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-5)
    np.testing.assert_array_equal(fused.forward(X), separate[0])  # the lean pass
    assert fused._saved is None


NORM_CASES = [
    ((6, 8, 2), (3, 3), (1, 1), "same", (2, 2)),
    ((8, 7, 3), (3, 2), (2, 1), "valid", (3, 2)),  # a 3x6 conv output, all in windows
]


@pytest.mark.parametrize("input_shape, kernel, stride, padding, pool", NORM_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv_norm_and_pooling_fused_agree_with_the_three_layers(
    input_shape, kernel, stride, padding, pool, dtype
):
    conv, pooling = conv_and_pool(input_shape, kernel, stride, padding, pool, dtype)
    rng = np.random.RandomState(1)
    norms = []
    for _ in range(2):  # one for the layers on their own, one for the fused step
        norm = BatchNorm()
        norm.build(conv.output_shape)
        norm.initialize(rng, dtype, "he")
        norm.weights = np.array([1.5, -0.5, 2.0], dtype=dtype)  # a negative scale: max flips
        norm.bias = np.array([0.1, 0.2, -0.3], dtype=dtype)
        norms.append(norm)
    X = rng.randint(0, 3, size=(4, *input_shape)).astype(dtype)
    X[:, : input_shape[0] // 2] = 0  # ties
    grad_out = rng.standard_normal((4, *pooling.output_shape)).astype(dtype)

    def results(out, grad_X, norm):
        return (out, grad_X, conv.grad_weights, conv.grad_bias, norm.grad_weights,
                norm.grad_bias, norm.running_mean, norm.running_var)  # fmt: skip

    norm = norms[0]
    out = pooling.forward(norm.forward(conv.forward(X, training=True), training=True), True)
    separate = results(out, conv.backward(norm.backward(pooling.backward(grad_out))), norm)
    predicted = pooling.forward(norm.forward(conv.forward(X)))

    norm = norms[1]
    fused = ConvMaxPool2D(conv, pooling, norm)
    out = fused.forward(X, training=True)
    together = results(out, fused.backward(grad_out), norm)
    for got, expected in zip(together, separate):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fused.forward(X), predicted, rtol=1e-5, atol=1e-5)


def test_fused_pooling_skips_unread_positions_and_first_layer_gradient():
    conv, pooling = conv_and_pool((7, 7, 1), (3, 3), (1, 1), "valid", (2, 2))
    fused = ConvMaxPool2D(conv, pooling)
    X = np.random.RandomState(0).standard_normal((2, 7, 7, 1))
    out = fused.forward(X, training=True)
    cols = fused._saved[0]
    # 5x5 conv outputs, of which the pooling reads 4x4: 16 rows per sample, not 25.
    assert out.shape == (2, 2, 2, 3) and cols.shape == (2 * 16, 9)
    assert fused.backward(np.ones_like(out), need_input_grad=False) is None
    assert conv.grad_weights.shape == conv.weights.shape


@pytest.mark.parametrize(
    "conv_args, pool, fits",
    [
        (((3, 3), (1, 1), "valid", "im2col"), MaxPool2D((2, 2), (2, 2)), True),
        (((3, 3), (1, 1), "valid", "fft"), MaxPool2D((2, 2), (2, 2)), False),
        (((3, 3), (1, 1), "valid", "im2col"), MaxPool2D((3, 3), (2, 2)), False),  # overlaps
        (((3, 3), (1, 1), "valid", "im2col"), MaxPool2D((2, 2), (2, 2), "same"), False),
        (((2, 3), (1, 1), "valid", "im2col"), MaxPool2D((2, 2), (2, 2), "same"), True),  # 8x6
    ],
)
def test_fused_pooling_fits_only_tiled_unpadded_windows(conv_args, pool, fits):
    kernel, stride, padding, algorithm = conv_args
    conv = Conv2D(2, kernel, stride, padding, algorithm=algorithm)
    pool.build(conv.build((9, 8, 1)))
    assert ConvMaxPool2D.fits(conv, pool) is fits
    assert not ConvMaxPool2D.fits(conv, pool, MaxPool2D((2, 2), (2, 2)))  # only batch norm


def test_fused_batch_norm_needs_every_conv_output_in_a_window():
    for size, fits in [(8, True), (9, False)]:  # a 7x7 conv output: the pooling reads 6x6
        conv = Conv2D(2, (3, 3), padding="valid", algorithm="im2col")
        pool = MaxPool2D((2, 2), (2, 2))
        pool.build(conv.build((size, size, 1)))
        assert ConvMaxPool2D.fits(conv, pool)
        assert ConvMaxPool2D.fits(conv, pool, BatchNorm()) is fits


# --- scratch arrays reused between training batches -------------------------------


def test_workspace_hands_out_the_same_memory_by_name():
    workspace = Workspace()
    first = workspace.empty("cols", (4, 6), np.float32)
    assert first.shape == (4, 6) and first.dtype == np.float32 and first.flags.c_contiguous
    assert np.shares_memory(workspace.empty("cols", (2, 6), np.float32), first)  # smaller
    assert not np.shares_memory(workspace.empty("other", (4, 6), np.float32), first)
    assert not np.shares_memory(workspace.empty("cols", (5, 6), np.float32), first)  # larger
    assert workspace.empty("cols", (5, 6), np.float64).dtype == np.float64
    assert workspace.nbytes == 5 * 6 * 8 + 4 * 6 * 4
    workspace.clear()
    assert workspace.nbytes == 0
    assert FRESH.empty("cols", (2, 3), bool).shape == (2, 3)


@pytest.mark.parametrize(
    "input_shape, kernel, stride, padding, pool, dilation", [*FUSED_CASES[:3], FUSED_CASES[-1]]
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_kernels_give_the_same_with_a_workspace_batch_after_batch(
    input_shape, kernel, stride, padding, pool, dilation, dtype
):
    conv, pooling = conv_and_pool(
        input_shape, kernel, stride, padding, pool, dtype, dilation=dilation
    )
    rng = np.random.RandomState(2)
    workspace = Workspace()
    x_shape = (*conv._padded_shape,)
    for n in (5, 3, 5):  # the smaller last batch of an epoch, then the next epoch
        x_pad = rng.randint(0, 3, size=(n, *x_shape)).astype(dtype)
        grad_out = rng.standard_normal((n, *pooling.output_shape)).astype(dtype)
        results = []
        for space in (FRESH, workspace):
            args = (conv.weights, conv.bias, conv.stride, pool)
            out, saved = pooled_im2col_forward(
                x_pad, *args, pooling.output_shape[:2], True, workspace=space, dilation=dilation
            )
            out = out.copy()  # the next forward reuses it
            grads = pooled_im2col_backward(
                grad_out, saved, conv.weights, conv.stride, pool, x_pad.shape, True,
                workspace=space, dilation=dilation,
            )  # fmt: skip
            results.append((out, *(g.copy() for g in grads)))
        for got, expected in zip(results[1], results[0]):
            np.testing.assert_array_equal(got, expected)
