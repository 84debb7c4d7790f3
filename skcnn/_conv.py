"""Convolution kernels: pure functions on channels-last arrays.

Every algorithm computes the same cross-correlation of a padded input
``x_pad`` of shape ``(n, height, width, channels)`` with ``weights`` of shape
``(kernel_height, kernel_width, channels, filters)``::

    out[s, p, q, f] = bias[f] + sum_{i, j, c} x_pad[s, p*sh + i, q*sw + j, c]
                                              * weights[i, j, c, f]

and its gradients. Padding is the caller's business (see
:func:`padding_amounts`); the kernels only see the already padded input.

An algorithm is a pair of functions registered in :data:`CONV_ALGORITHMS`:

``forward(x_pad, weights, bias, stride, keep) -> (out, saved)``
    ``saved`` is whatever the backward pass needs (``None`` when ``keep`` is
    false, as in prediction).
``backward(grad_out, saved, weights, stride, x_pad_shape, need_input_grad)``
    returns ``(grad_x_pad, grad_weights, grad_bias)``; ``grad_x_pad`` is
    ``None`` when ``need_input_grad`` is false (the first layer of a network
    never needs it).

``"im2col"`` lays every receptive field out as a row of a matrix and does
one matrix multiplication (BLAS); ``"scipy"`` and ``"fft"`` are references
built on :func:`scipy.signal.correlate` with the direct and the FFT method.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided
from scipy import signal

PADDING_MODES = ("valid", "same")


def padding_amounts(size, kernel, stride, padding):
    """Return ``(before, after)`` padding of one spatial axis.

    ``"valid"`` pads nothing. ``"same"`` pads so that the output has
    ``ceil(size / stride)`` positions, splitting the padding evenly with the
    odd element after (the convention of TensorFlow and PyTorch).
    """
    if padding == "valid":
        return 0, 0
    n_out = -(-size // stride)
    total = max((n_out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def output_length(padded_size, kernel, stride):
    """Number of window positions along an axis of a padded input."""
    return (padded_size - kernel) // stride + 1


def window_view(x, window, stride):
    """Strided view of every window of ``x``, without copying.

    Parameters
    ----------
    x : ndarray of shape (n, height, width, channels)
    window : tuple of int (window_height, window_width)
    stride : tuple of int (stride_height, stride_width)

    Returns
    -------
    view : ndarray of shape (n, out_height, out_width, window_height, \
window_width, channels)
        Read-only view into ``x``.
    """
    n, height, width, channels = x.shape
    (kh, kw), (sh, sw) = window, stride
    out_h, out_w = output_length(height, kh, sh), output_length(width, kw, sw)
    s_n, s_h, s_w, s_c = x.strides
    return as_strided(
        x,
        shape=(n, out_h, out_w, kh, kw, channels),
        strides=(s_n, s_h * sh, s_w * sw, s_h, s_w, s_c),
        writeable=False,
    )


def window_slice(offset, n_out, stride):
    """Slice that picks, for every output position, the input at ``offset``."""
    return slice(offset, offset + (n_out - 1) * stride + 1, stride)


# --- im2col + matrix multiplication -----------------------------------------


def im2col(x_pad, window, stride):
    """Every window of ``x_pad`` as one row of a matrix.

    Returns an ndarray of shape ``(n * out_height * out_width, window_height
    * window_width * channels)``: one row per output position, one column per
    ``(i, j, c)`` of the window.
    """
    windows = window_view(x_pad, window, stride)
    n, out_h, out_w, kh, kw, channels = windows.shape
    if channels > 1:
        return windows.reshape(n * out_h * out_w, kh * kw * channels)
    # One channel: copying kh * kw shifted images beats copying the 6-D view (3x).
    cols = np.empty(windows.shape, dtype=x_pad.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, i, j] = windows[:, :, :, i, j]
    return cols.reshape(n * out_h * out_w, kh * kw)


def im2col_forward(x_pad, weights, bias, stride, keep):
    kh, kw, channels, filters = weights.shape
    cols = im2col(x_pad, (kh, kw), stride)
    n = len(x_pad)
    out_h, out_w = (output_length(x_pad.shape[1 + a], weights.shape[a], stride[a]) for a in (0, 1))
    out = cols @ weights.reshape(-1, filters)
    out += bias
    return out.reshape(n, out_h, out_w, filters), (cols if keep else None)


def im2col_backward(grad_out, cols, weights, stride, x_pad_shape, need_input_grad):
    kh, kw, channels, filters = weights.shape
    grad_rows = grad_out.reshape(-1, filters)
    # dL/dW = cols^T . dL/dout ;  dL/db = sum over positions of dL/dout
    grad_weights = (cols.T @ grad_rows).reshape(weights.shape)
    grad_bias = grad_rows.sum(axis=0)
    if not need_input_grad:
        return None, grad_weights, grad_bias
    # dL/dx_pad[p*s + (i, j)] += dL/dout[p] . W[i, j]^T, one matrix product per
    # kernel offset (i, j): cheaper than scattering a (rows, kh*kw*C) matrix back.
    n, out_h, out_w = grad_out.shape[:3]
    grad_x_pad = np.zeros(x_pad_shape, dtype=grad_out.dtype)
    product = np.empty((len(grad_rows), channels), dtype=grad_out.dtype)
    sh, sw = stride
    for i in range(kh):
        rows = window_slice(i, out_h, sh)
        for j in range(kw):
            np.matmul(grad_rows, weights[i, j].T, out=product)
            grad_x_pad[:, rows, window_slice(j, out_w, sw), :] += product.reshape(
                n, out_h, out_w, channels
            )
    return grad_x_pad, grad_weights, grad_bias


# --- scipy.signal references -------------------------------------------------


def _scipy_forward(x_pad, weights, bias, stride, keep, method):
    kh, kw, channels, filters = weights.shape
    n, height, width, _ = x_pad.shape
    sh, sw = stride
    out_h, out_w = output_length(height, kh, sh), output_length(width, kw, sw)
    out = np.empty((n, out_h, out_w, filters), dtype=x_pad.dtype)
    for s in range(n):
        for f in range(filters):
            # A kernel spanning all channels: the 'valid' result has depth 1.
            full = signal.correlate(x_pad[s], weights[..., f], mode="valid", method=method)
            out[s, :, :, f] = full[::sh, ::sw, 0] + bias[f]
    return out, (x_pad if keep else None)


def _dilate(grad_out, stride):
    """Put ``stride - 1`` zeros between the entries of the spatial axes."""
    n, out_h, out_w, filters = grad_out.shape
    sh, sw = stride
    dilated = np.zeros(
        (n, (out_h - 1) * sh + 1, (out_w - 1) * sw + 1, filters), dtype=grad_out.dtype
    )
    dilated[:, ::sh, ::sw, :] = grad_out
    return dilated


def _scipy_backward(grad_out, x_pad, weights, stride, x_pad_shape, need_input_grad, method):
    kh, kw, channels, filters = weights.shape
    dilated = _dilate(grad_out, stride)
    d_h, d_w = dilated.shape[1:3]
    grad_weights = np.zeros_like(weights)
    grad_x_pad = np.zeros(x_pad_shape, dtype=grad_out.dtype) if need_input_grad else None
    for s in range(grad_out.shape[0]):
        for f in range(filters):
            g = dilated[s, :, :, f, np.newaxis]
            # dL/dW[i, j, c] = sum_pq x_pad[p + i, q + j, c] * g[p, q]
            grad_weights[..., f] += signal.correlate(x_pad[s], g, mode="valid", method=method)[
                :kh, :kw
            ]
            if need_input_grad:
                # dL/dx_pad = full convolution of g with W
                grad_x_pad[s, : d_h + kh - 1, : d_w + kw - 1] += signal.convolve(
                    g, weights[..., f], mode="full", method=method
                )
    grad_bias = grad_out.sum(axis=(0, 1, 2))
    return grad_x_pad, grad_weights, grad_bias


def scipy_forward(x_pad, weights, bias, stride, keep):
    return _scipy_forward(x_pad, weights, bias, stride, keep, method="direct")


def scipy_backward(grad_out, x_pad, weights, stride, x_pad_shape, need_input_grad):
    return _scipy_backward(
        grad_out, x_pad, weights, stride, x_pad_shape, need_input_grad, method="direct"
    )


def fft_forward(x_pad, weights, bias, stride, keep):
    return _scipy_forward(x_pad, weights, bias, stride, keep, method="fft")


def fft_backward(grad_out, x_pad, weights, stride, x_pad_shape, need_input_grad):
    return _scipy_backward(
        grad_out, x_pad, weights, stride, x_pad_shape, need_input_grad, method="fft"
    )


CONV_ALGORITHMS = {
    "im2col": (im2col_forward, im2col_backward),
    "scipy": (scipy_forward, scipy_backward),
    "fft": (fft_forward, fft_backward),
}


def resolve_algorithm(algorithm):
    """Name of the algorithm to run for ``algorithm`` (``"auto"`` resolved).

    ``"auto"`` picks ``"im2col"``: on the kernel sizes CNNs use (up to 7x7)
    one BLAS matrix product beats per-filter ``scipy.signal`` calls by orders
    of magnitude; ``benchmarks/`` measures it.
    """
    if algorithm == "auto":
        return "im2col"
    if algorithm not in CONV_ALGORITHMS:
        raise ValueError(
            f"conv_algorithm must be 'auto' or one of {sorted(CONV_ALGORITHMS)}; got {algorithm!r}."
        )
    return algorithm
