"""The shifted products (one matrix product per kernel tap) and the GEMM under them."""

import numpy as np
import pytest

from skcnn._engine import blas
from skcnn._engine.conv import Conv2D
from skcnn._engine.kernels import CONV_ALGORITHMS, algorithm_costs, resolve_algorithm
from skcnn._engine.shifted import shifted_backward, shifted_forward

# --- the GEMM ------------------------------------------------------------------------


def operands(rng, m, k, n, dtype):
    """``a`` and ``b`` in the layouts the algorithm hands over: blocks of rows, transposes."""
    a = rng.standard_normal((m + 3, k)).astype(dtype)
    b = rng.standard_normal((n, k + 2)).astype(dtype)
    return {
        "contiguous": (np.ascontiguousarray(a[:m]), np.ascontiguousarray(b[:, :k].T)),
        "row block, transpose": (a[2 : 2 + m], b[:, 1 : 1 + k].T),
        "transposed rows": (np.ascontiguousarray(a[:m].T).T, b[:, :k].T),
        "strided, copied": (a[: 2 * (m // 2) : 2], np.ascontiguousarray(b[:, :k].T)),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k, n", [(37, 19, 23), (1, 5, 7), (6, 1, 4), (5, 3, 1)])
def test_gemm_writes_and_adds_the_product_in_every_layout(dtype, m, k, n):
    rng = np.random.RandomState(0)
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    for layout, (a, b) in operands(rng, m, k, n, dtype).items():
        out = rng.standard_normal((len(a), n)).astype(dtype)
        before = out.copy()
        blas.gemm(a, b, out, accumulate=True)
        np.testing.assert_allclose(
            out, before + a @ b, rtol=tolerance, atol=tolerance, err_msg=layout
        )
        blas.gemm(a, b, out)
        np.testing.assert_allclose(out, a @ b, rtol=tolerance, atol=tolerance, err_msg=layout)


def test_gemm_into_a_block_of_rows_leaves_the_others():
    rng = np.random.RandomState(1)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    out = np.zeros((10, 5))
    blas.gemm(a, b, out[3:7], accumulate=True)
    np.testing.assert_allclose(out[3:7], a @ b, rtol=1e-12)
    assert not out[:3].any() and not out[7:].any()


def test_gemm_rejects_shapes_and_dtypes_that_do_not_chain():
    with pytest.raises(ValueError, match="do not chain"):
        blas.gemm(np.ones((2, 3)), np.ones((4, 5)), np.empty((2, 5)))
    with pytest.raises(ValueError, match="dtypes"):
        blas.gemm(np.ones((2, 3), np.float32), np.ones((3, 5)), np.empty((2, 5)))


def test_gemm_computes_with_numpy_where_scipys_blas_is_out_of_reach(monkeypatch):
    rng = np.random.RandomState(2)
    a, b = rng.standard_normal((6, 4)), rng.standard_normal((4, 3))
    out = rng.standard_normal((6, 3))
    expected = out + a @ b
    monkeypatch.setattr(blas, "functions", dict)
    blas.gemm(a, b, out, accumulate=True)
    np.testing.assert_allclose(out, expected, rtol=1e-12)


# --- the algorithm ---------------------------------------------------------------------


def layer_results(algorithm, X, filters, kernel, padding, dilation, dtype):
    layer = Conv2D(filters, kernel, (1, 1), padding, dilation, algorithm=algorithm)
    layer.build(X.shape[1:])
    layer.initialize(np.random.RandomState(0), dtype, "he")
    layer.bias = np.random.RandomState(2).standard_normal(filters).astype(dtype)
    out = layer.forward(X.astype(dtype), training=True)
    grad_X = layer.backward(np.random.RandomState(1).standard_normal(out.shape).astype(dtype))
    assert layer.algorithm_ == algorithm
    return out, grad_X, layer.grad_weights, layer.grad_bias


CASES = [
    # (input shape, filters, kernel, padding, dilation)
    ((3, 6, 7, 2), 3, (3, 3), "same", (1, 1)),
    ((2, 9, 8, 3), 4, (3, 2), "valid", (2, 3)),
    ((2, 5, 5, 1), 2, (5, 5), "valid", (1, 1)),  # one output position
    ((4, 1, 30, 5), 6, (1, 8), "same", (1, 1)),  # a series, an even kernel
    ((3, 1, 25, 4), 3, (1, 3), "same", (1, 4)),  # a dilated series
    ((2, 4, 6, 3), 5, (1, 1), "same", (1, 1)),  # every position an output
    ((1, 7, 4, 2), 2, (2, 4), "valid", (3, 1)),
]


@pytest.mark.parametrize("shape, filters, kernel, padding, dilation", CASES)
def test_shifted_products_agree_with_scipy(shape, filters, kernel, padding, dilation):
    X = np.random.RandomState(5).standard_normal(shape)
    expected = layer_results("scipy", X, filters, kernel, padding, dilation, np.float64)
    got = layer_results("shifted", X, filters, kernel, padding, dilation, np.float64)
    for value, reference in zip(got, expected):
        np.testing.assert_allclose(value, reference, rtol=0, atol=1e-10)


@pytest.mark.parametrize("shape, filters, kernel, padding, dilation", CASES)
def test_shifted_products_in_float32_as_close_as_im2col(shape, filters, kernel, padding, dilation):
    """Relative errors of float32 under 1e-6 of the largest value, as im2col's."""
    X = np.random.RandomState(6).standard_normal(shape)
    exact = layer_results("scipy", X, filters, kernel, padding, dilation, np.float64)
    got = layer_results("shifted", X, filters, kernel, padding, dilation, np.float32)
    for value, reference in zip(got, exact):
        assert value.dtype == np.float32
        scale = np.abs(reference).max()
        np.testing.assert_allclose(value, reference, rtol=0, atol=1e-6 * scale)


def test_shifted_products_of_float32_weights_on_float64_inputs_compute_in_float64():
    rng = np.random.RandomState(7)
    x = rng.standard_normal((2, 6, 6, 3))
    weights = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    bias = np.zeros(4, np.float32)
    out, saved = shifted_forward(x, weights, bias, (1, 1), True)
    reference, _ = CONV_ALGORITHMS["scipy"][0](x, weights.astype(np.float64), bias, (1, 1), False)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, reference, rtol=0, atol=1e-10)
    grad_x, grad_weights, _ = shifted_backward(
        np.ones_like(out), saved, weights, (1, 1), x.shape, True
    )
    assert grad_x.dtype == grad_weights.dtype == np.float64


def test_shifted_products_keep_the_input_alone_and_skip_the_first_layers_gradient():
    x = np.random.RandomState(8).standard_normal((2, 1, 20, 3))
    weights = np.random.RandomState(9).standard_normal((1, 5, 3, 4))
    out, saved = shifted_forward(x, weights, np.zeros(4), (1, 1), True)
    assert saved.shape == x.shape  # no columns of kh * kw copies
    assert shifted_forward(x, weights, np.zeros(4), (1, 1), False)[1] is None
    grad_x, _, _ = shifted_backward(np.ones_like(out), saved, weights, (1, 1), x.shape, False)
    assert grad_x is None


def test_shifted_products_compute_stride_one_alone():
    x = np.zeros((1, 8, 8, 2))
    with pytest.raises(ValueError, match="stride 1"):
        shifted_forward(x, np.zeros((3, 3, 2, 2)), np.zeros(2), (2, 1), False)
    # Asked for by name, a strided conv runs on im2col, as a Winograd one does.
    assert resolve_algorithm("shifted", (8, 8, 2), (3, 3, 2, 2), (2, 2)) == "im2col"
    assert resolve_algorithm("shifted", (8, 8, 2), (3, 3, 2, 2), (1, 1)) == "shifted"
    assert "shifted" not in algorithm_costs((8, 8, 2), (3, 3, 2, 2), (2, 1))


@pytest.mark.parametrize(
    "x_shape, w_shape, expected",
    [
        ((1, 516, 128), (1, 5, 128, 256), "shifted"),  # the FCN's second conv
        ((1, 519, 3), (1, 8, 3, 128), "im2col"),  # its first: three channels
        ((34, 34, 32), (3, 3, 32, 32), "shifted"),  # NumPy's choice; numba's is Winograd
        ((28, 28, 1), (3, 3, 1, 32), "im2col"),
    ],
)
def test_auto_prices_the_shifted_products(x_shape, w_shape, expected, monkeypatch):
    from skcnn._engine import kernels

    monkeypatch.setattr(kernels, "accelerator_available", lambda: False)
    assert resolve_algorithm("auto", x_shape, w_shape, (1, 1)) == expected
