"""Convolutions of stride 1 as one matrix product per kernel tap: no im2col columns.

Flatten a channels-last padded batch ``(n, height, width, channels)`` to one
row per position. The input under tap ``(i, j)`` of the output at row ``r``
is then row ``r + i * dh * width + j * dw``: for every tap, the rows the
outputs read are one contiguous block of the input, shifted. So::

    Z[r] = sum over taps t of X[r + offset_t] @ W_t

is one matrix product per tap, each added into ``Z`` in place
(:func:`skcnn._engine.blas.gemm`, BLAS's ``beta = 1``). ``Z`` holds the
output at every position of the padded input; those whose window runs past
the right or bottom edge (into the next row or sample) are computed and
dropped: the padding's share, 2 of 34 columns of a 3x3 'same' conv on 32
pixels, 4 of 516 positions of a 5-tap one on a series of 512. The backward
pass is the adjoint, with ``dZ`` zero at the dropped positions::

    dW_t = X[offset_t:]^T @ dZ        dX[offset_t:] += dZ @ W_t^T

Nothing grows with the kernel's area: training keeps the input alone, where
im2col keeps ``kh * kw`` copies of it, and the products are of the largest
shapes the layer has (all positions of the batch at once), which BLAS runs
fastest. With few input channels (first layers) each product is thin and
every tap passes over the whole output: im2col's one product wins there, and
the cost model of ``conv_algorithm="auto"`` prices both
(:func:`skcnn._engine.kernels.algorithm_costs`).

The products release the GIL, so shards on threads of skcnn's own multiply at
once. In float64 the results agree with :func:`scipy.signal.correlate` to
1e-10; in float32 they are as close to the exact ones as im2col's (the same
terms, added in another order).
"""

import numpy as np

from .blas import gemm


def covers(stride):
    """Whether the shifted products compute a convolution of this stride: stride 1 alone."""
    return tuple(stride) == (1, 1)


def _check_covers(stride):
    if not covers(stride):
        raise ValueError(
            "conv_algorithm='shifted' computes convolutions of stride 1; "
            f"got stride {tuple(stride)}."
        )


def _geometry(x_pad_shape, weights_shape, dilation):
    """Row offsets of the taps, rows computed, and the output's height and width."""
    _, height, width, _ = x_pad_shape
    kh, kw = weights_shape[:2]
    dh, dw = dilation
    offsets = [i * dh * width + j * dw for i in range(kh) for j in range(kw)]
    rows = x_pad_shape[0] * height * width - offsets[-1]
    return offsets, rows, height - (kh - 1) * dh, width - (kw - 1) * dw


def shifted_forward(x_pad, weights, bias, stride, keep, dilation=(1, 1)):
    """The conv-algorithm forward pass (see :mod:`skcnn._engine.kernels`) by shifted products."""
    _check_covers(stride)
    # Float32 weights on a float64 input compute in float64, as a matrix product does.
    dtype = np.result_type(x_pad.dtype, weights.dtype)
    x_pad = np.ascontiguousarray(x_pad, dtype=dtype)
    n, height, width, channels = x_pad.shape
    filters = weights.shape[3]
    offsets, rows, out_h, out_w = _geometry(x_pad.shape, weights.shape, dilation)
    taps = weights.reshape(-1, channels, filters).astype(dtype, copy=False)
    X = x_pad.reshape(-1, channels)
    Z = np.empty((n, height, width, filters), dtype=dtype)
    Z_rows = Z.reshape(-1, filters)[:rows]
    for t, offset in enumerate(offsets):
        gemm(X[offset : offset + rows], taps[t], Z_rows, accumulate=t > 0)
    if (out_h, out_w) == (height, width):  # a 1x1 kernel: every position is an output
        Z += bias
        out = Z
    else:  # the bias added and the dropped positions left behind in one pass
        out = np.add(Z[:, :out_h, :out_w], bias.astype(dtype, copy=False))
    return out, (x_pad if keep else None)


def shifted_backward(
    grad_out, x_pad, weights, stride, x_pad_shape, need_input_grad, dilation=(1, 1)
):
    """The conv-algorithm backward pass by shifted products."""
    from .kernels import column_sums

    _check_covers(stride)
    dtype = x_pad.dtype
    n, height, width, channels = x_pad.shape
    filters = weights.shape[3]
    offsets, rows, out_h, out_w = _geometry(x_pad.shape, weights.shape, dilation)
    grad_out = np.asarray(grad_out, dtype=dtype)
    # dL/dZ: the output's gradient where Z is an output, zero where it was dropped.
    if (out_h, out_w) == (height, width):
        grad_Z = np.ascontiguousarray(grad_out)
    else:
        grad_Z = np.empty((n, height, width, filters), dtype=dtype)
        grad_Z[:, :out_h, :out_w] = grad_out
        grad_Z[:, out_h:] = 0
        grad_Z[:, :out_h, out_w:] = 0
    G = grad_Z.reshape(-1, filters)[:rows]
    X = x_pad.reshape(-1, channels)
    grad_taps = np.empty((len(offsets), channels, filters), dtype=dtype)
    for t, offset in enumerate(offsets):
        gemm(X[offset : offset + rows].T, G, grad_taps[t])
    grad_weights = grad_taps.reshape(weights.shape)
    grad_bias = column_sums(grad_out.reshape(-1, filters))
    if not need_input_grad:
        return None, grad_weights, grad_bias
    taps = weights.reshape(-1, channels, filters).astype(dtype, copy=False)
    grad_x = np.empty(x_pad_shape, dtype=dtype)
    grad_rows = grad_x.reshape(-1, channels)
    grad_rows[rows:] = 0  # the first tap (offset 0) writes the rows before
    for t, offset in enumerate(offsets):
        gemm(G, taps[t].T, grad_rows[offset : offset + rows], accumulate=t > 0)
    return grad_x, grad_weights, grad_bias


ALGORITHMS = {"shifted": (shifted_forward, shifted_backward)}
