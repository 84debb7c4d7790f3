"""Convolution kernels: pure functions on channels-last arrays.

Every algorithm computes the same cross-correlation of a padded input
``x_pad`` of shape ``(n, height, width, channels)`` with ``weights`` of shape
``(kernel_height, kernel_width, channels, filters)``, with strides ``(sh, sw)``
and dilations ``(dh, dw)``::

    out[s, p, q, f] = bias[f] + sum_{i, j, c} x_pad[s, p*sh + i*dh, q*sw + j*dw, c]
                                              * weights[i, j, c, f]

and its gradients. A dilated kernel reads every ``dh``-th row and ``dw``-th
column of a window ``(kh - 1) * dh + 1`` high and ``(kw - 1) * dw + 1`` wide
(:func:`dilated_size`). Padding is the caller's business (see
:func:`padding_amounts`); the kernels only see the already padded input.

An algorithm is a pair of functions registered in :data:`CONV_ALGORITHMS`:

``forward(x_pad, weights, bias, stride, keep, dilation=(1, 1)) -> (out, saved)``
    ``saved`` is whatever the backward pass needs (``None`` when ``keep`` is
    false, as in prediction).
``backward(grad_out, saved, weights, stride, x_pad_shape, need_input_grad, dilation=(1, 1))``
    returns ``(grad_x_pad, grad_weights, grad_bias)``; ``grad_x_pad`` is
    ``None`` when ``need_input_grad`` is false (the first layer of a network
    never needs it).

``"im2col"`` lays every receptive field out as a row of a matrix and does
one matrix multiplication (BLAS); ``"shifted"`` (stride 1, see
:mod:`skcnn._engine.shifted`) does one matrix product per kernel tap on the
input's rows shifted by the tap, added up in place, and keeps no columns;
``"fft"`` multiplies the spectra of the
whole batch, one small matrix product per frequency, and wins for large
kernels; ``"winograd2x2"`` and ``"winograd4x4"`` (3x3 kernels, stride 1, see
:mod:`skcnn._engine.winograd`) multiply Winograd transforms of tiles, on the
optional compiled accelerator (numba); ``"scipy"`` is the reference,
:func:`scipy.signal.correlate` with the direct method, one call per sample and filter.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided
from scipy import fft as sp_fft
from scipy import signal

from .shifted import ALGORITHMS as SHIFTED_ALGORITHMS
from .shifted import covers as shifted_covers
from .tuning import (
    FFT_FLOP_RATE,
    FFT_POINT_RATE,
    IM2COL_COPY_RATE,
    IM2COL_FLOP_RATE,
    IM2COL_POSITION_RATE,
    SHIFTED_FLOP_RATE,
    SHIFTED_PASS_RATE,
    WINOGRAD_FLOP_RATE,
    WINOGRAD_MIN_CHANNELS,
    WINOGRAD_TRANSFORM_RATE,
)
from .winograd import ALGORITHMS as WINOGRAD_ALGORITHMS
from .winograd import (
    WINOGRAD_TILES,
    _compiled,
    accelerator_available,
    covers,
    require_accelerator,
)
from .workspace import FRESH

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


def output_length(padded_size, kernel, stride, dilation=1):
    """Number of window positions along an axis of a padded input."""
    return (padded_size - dilated_size(kernel, dilation)) // stride + 1


def dilated_size(kernel, dilation):
    """The span of a kernel of ``kernel`` taps, ``dilation`` apart.

    >>> dilated_size(3, 1), dilated_size(3, 2), dilated_size((3, 5), (1, 4))
    (3, 5, (3, 17))
    """
    if isinstance(kernel, tuple):
        return tuple(dilated_size(k, d) for k, d in zip(kernel, dilation))
    return (kernel - 1) * dilation + 1


def window_view(x, window, stride, dilation=(1, 1)):
    """Strided view of every window of ``x``, without copying.

    Parameters
    ----------
    x : ndarray of shape (n, height, width, channels)
    window : tuple of int (window_height, window_width)
        Taps of the window along each axis.
    stride : tuple of int (stride_height, stride_width)
    dilation : tuple of int (dilation_height, dilation_width), default=(1, 1)
        Step between the taps of a window.

    Returns
    -------
    view : ndarray of shape (n, out_height, out_width, window_height, \
window_width, channels)
        Read-only view into ``x``.
    """
    n, height, width, channels = x.shape
    (kh, kw), (sh, sw), (dh, dw) = window, stride, dilation
    out_h, out_w = output_length(height, kh, sh, dh), output_length(width, kw, sw, dw)
    s_n, s_h, s_w, s_c = x.strides
    return as_strided(
        x,
        shape=(n, out_h, out_w, kh, kw, channels),
        strides=(s_n, s_h * sh, s_w * sw, s_h * dh, s_w * dw, s_c),
        writeable=False,
    )


def window_slice(offset, n_out, stride):
    """Slice that picks, for every output position, the input at ``offset``."""
    return slice(offset, offset + (n_out - 1) * stride + 1, stride)


# --- im2col + matrix multiplication -----------------------------------------


def im2col(x_pad, window, stride, dilation=(1, 1)):
    """Every window of ``x_pad`` as one row of a matrix.

    Returns an ndarray of shape ``(n * out_height * out_width, window_height
    * window_width * channels)``: one row per output position, one column per
    ``(i, j, c)`` of the window.
    """
    windows = window_view(x_pad, window, stride, dilation)
    n, out_h, out_w, kh, kw, channels = windows.shape
    if channels > 1:
        return windows.reshape(n * out_h * out_w, kh * kw * channels)
    # One channel: copying kh * kw shifted images, each to a contiguous row of
    # the transposed matrix, beats copying the 6-D view (3x); BLAS takes the
    # transposed layout as it is, and dL/dW = cols^T . dL/dout is then a product
    # of contiguous matrices.
    cols = np.empty((kh, kw, n, out_h, out_w), dtype=x_pad.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[i, j] = windows[:, :, :, i, j, 0]
    return cols.reshape(kh * kw, -1).T


def im2col_forward(x_pad, weights, bias, stride, keep, dilation=(1, 1)):
    kh, kw, channels, filters = weights.shape
    cols = im2col(x_pad, (kh, kw), stride, dilation)
    n = len(x_pad)
    out_h, out_w = (
        output_length(x_pad.shape[1 + a], weights.shape[a], stride[a], dilation[a]) for a in (0, 1)
    )
    out = cols @ weights.reshape(-1, filters)
    out += bias
    return out.reshape(n, out_h, out_w, filters), (cols if keep else None)


def im2col_backward(grad_out, cols, weights, stride, x_pad_shape, need_input_grad, dilation=(1, 1)):
    filters = weights.shape[3]
    grad_rows = grad_out.reshape(-1, filters)
    # dL/dW = cols^T . dL/dout ;  dL/db = sum over positions of dL/dout
    grad_weights = (cols.T @ grad_rows).reshape(weights.shape)
    grad_bias = column_sums(grad_rows)
    if not need_input_grad:
        return None, grad_weights, grad_bias
    grad_x_pad = _input_grad(grad_out, weights, stride, x_pad_shape, dilation=dilation)
    return grad_x_pad, grad_weights, grad_bias


def accelerator():
    """The compiled kernels (:mod:`skcnn._engine.compiled`) where numba imports, else ``None``."""
    return _compiled() if accelerator_available() else None


def column_sums(rows):
    """``rows.sum(axis=0)`` as a matrix-vector product: 10x faster on tall matrices."""
    return np.ones(len(rows), dtype=rows.dtype) @ rows


def _input_grad(grad_out, weights, stride, x_pad_shape, workspace=FRESH, dilation=(1, 1)):
    """dL/dx_pad from dL/dout of the first ``grad_out.shape[1:3]`` output positions.

    dL/dx_pad[p*s + (i, j)*d] += dL/dout[p] . W[i, j]^T, one matrix product per
    kernel offset (i, j): cheaper than scattering a (rows, kh*kw*C) matrix back.
    """
    kh, kw, channels, filters = weights.shape
    n, out_h, out_w = grad_out.shape[:3]
    grad_rows = grad_out.reshape(-1, filters)
    grad_x_pad = workspace.empty("grad_x_pad", x_pad_shape, grad_out.dtype)
    grad_x_pad.fill(0)
    product = workspace.empty("product", (len(grad_rows), channels), grad_out.dtype)
    (sh, sw), (dh, dw) = stride, dilation
    for i in range(kh):
        rows = window_slice(i * dh, out_h, sh)
        for j in range(kw):
            np.matmul(grad_rows, weights[i, j].T, out=product)
            grad_x_pad[:, rows, window_slice(j * dw, out_w, sw), :] += product.reshape(
                n, out_h, out_w, channels
            )
    return grad_x_pad


# --- im2col fused with the max pooling that follows ------------------------------
#
# A max pooling whose windows tile the conv output (stride == window, no
# padding) reads every conv position at most once. Ordering the im2col rows by
# pooling phase, (a, b) = (row, column) within the pooling window, makes the
# product a stack of phase arrays of the pooled shape, and the pooling an
# element-wise maximum over contiguous arrays. The conv positions that no
# window reads (the last row and column of an odd-sized output) are never
# computed.


def pooled_im2col(x_pad, window, stride, pool, pooled_hw, workspace=FRESH, dilation=(1, 1)):
    """The im2col rows of the conv positions a tiled max pooling reads, phase by phase.

    Returns an ndarray of shape ``(pool_h * pool_w * n * pooled_h * pooled_w,
    kh * kw * channels)``: the rows of phase ``(a, b)`` are the conv output
    positions ``(p * pool_h + a, q * pool_w + b)``, in ``(n, p, q)`` order.
    """
    (kh, kw), (sh, sw), (ph, pw) = window, stride, pool
    n, channels = len(x_pad), x_pad.shape[3]
    out_h, out_w = pooled_hw
    phases = [
        window_view(x_pad[:, a * sh :, b * sw :], window, (ph * sh, pw * sw), dilation)[
            :, :out_h, :out_w
        ]
        for a in range(ph)
        for b in range(pw)
    ]
    if channels > 1:
        shape = (ph * pw, n, out_h, out_w, kh, kw, channels)
        cols = workspace.empty("cols", shape, x_pad.dtype)
        for phase, windows in enumerate(phases):
            cols[phase] = windows
        return cols.reshape(-1, kh * kw * channels)
    # One channel: the transposed layout of im2col, for the same reasons.
    cols = workspace.empty("cols", (kh, kw, ph * pw, n, out_h, out_w), x_pad.dtype)
    for i in range(kh):
        for j in range(kw):
            for phase, windows in enumerate(phases):
                cols[i, j, phase] = windows[:, :, :, i, j, 0]
    return cols.reshape(kh * kw, -1).T


def pooled_im2col_forward(
    x_pad,
    weights,
    bias,
    stride,
    pool,
    pooled_hw,
    keep,
    normalize=None,
    workspace=FRESH,
    dilation=(1, 1),
):
    """Convolution and a tiled max pooling of its output: ``(out, saved)``.

    ``normalize``, when given, maps the conv output (rows of channels, bias
    added) to what the pooling takes, channel by channel: batch normalization
    between the conv and the pooling. In training (``keep``), ``out`` and
    what is saved for the backward pass live in ``workspace`` (a
    :class:`~skcnn._engine.workspace.Workspace`, or new arrays); without, ``out`` is a new array.
    """
    filters = weights.shape[3]
    cols = pooled_im2col(x_pad, weights.shape[:2], stride, pool, pooled_hw, workspace, dilation)
    phases = workspace.empty("phases", (len(cols), filters), cols.dtype)
    np.matmul(cols, weights.reshape(-1, filters), out=phases)
    phases = phases.reshape(pool[0] * pool[1], -1, filters)
    if normalize is not None:
        phases += bias
        phases = normalize(phases.reshape(-1, filters)).reshape(phases.shape)
    # The maximum is saved for the backward pass, or else it is the output.
    best = (workspace if keep else FRESH).empty("best", phases.shape[1:], phases.dtype)
    if len(phases) == 1:
        np.copyto(best, phases[0])
    else:
        np.maximum(phases[0], phases[1], out=best)
    for phase in phases[2:]:
        np.maximum(best, phase, out=best)
    # Without normalization the bias comes after the maximum: rounding is
    # monotonic, so max(a + b) == max(a) + b. What the backward pass compares
    # with stays the kernel's own.
    if not keep:
        out = best if normalize is not None else np.add(best, bias, out=best)
    else:
        out = workspace.empty("out", best.shape, best.dtype)
        if normalize is not None:
            np.copyto(out, best)
        else:
            np.add(best, bias, out=out)
    return out.reshape(len(x_pad), *pooled_hw, filters), ((cols, phases, best) if keep else None)


def pooled_im2col_backward(
    grad_out,
    saved,
    weights,
    stride,
    pool,
    x_pad_shape,
    need_input_grad,
    normalize_backward=None,
    workspace=FRESH,
    dilation=(1, 1),
):
    """Gradients of :func:`pooled_im2col_forward`: ``(grad_x_pad, grad_weights, grad_bias)``.

    ``normalize_backward`` maps dL/d(normalized rows) to dL/d(rows), the
    backward pass of the forward's ``normalize``. The scratch arrays and
    ``grad_x_pad`` come from ``workspace``.
    """
    cols, phases, best = saved
    filters = weights.shape[3]
    grad_rows = grad_out.reshape(-1, filters)
    # dL/d(conv output) of every phase: dL/dout where the phase holds the
    # window's maximum, the first in raster order on ties, as MaxPool2D. Each
    # phase's gradient overwrites the phase once compared: no new array.
    grad_phases = phases
    taken = np.equal(phases[0], best, out=workspace.empty("taken", best.shape, bool))
    np.multiply(grad_rows, taken, out=grad_phases[0])
    is_max = workspace.empty("is_max", best.shape, bool)
    for k in range(1, len(phases)):
        np.equal(phases[k], best, out=is_max)
        np.greater(is_max, taken, out=is_max)  # a maximum not taken before
        if k < len(phases) - 1:
            taken |= is_max
        np.multiply(grad_rows, is_max, out=grad_phases[k])
    if normalize_backward is None:
        grad_bias = column_sums(grad_rows)
    else:
        grad_phases = normalize_backward(grad_phases.reshape(-1, filters))
        grad_phases = grad_phases.reshape(phases.shape)
        grad_bias = column_sums(grad_phases.reshape(-1, filters))
    grad_weights = (cols.T @ grad_phases.reshape(-1, filters)).reshape(weights.shape)
    if not need_input_grad:
        return None, grad_weights, grad_bias
    # Back to the usual layout, over the conv positions the pooling covers.
    (ph, pw), (n, out_h, out_w) = pool, grad_out.shape[:3]
    grad_conv = workspace.empty("grad_conv", (n, out_h, ph, out_w, pw, filters), grad_out.dtype)
    np.copyto(
        grad_conv, grad_phases.reshape(ph, pw, n, out_h, out_w, filters).transpose(2, 3, 0, 4, 1, 5)
    )
    grad_conv = grad_conv.reshape(n, out_h * ph, out_w * pw, filters)
    grad_x_pad = _input_grad(grad_conv, weights, stride, x_pad_shape, workspace, dilation)
    return grad_x_pad, grad_weights, grad_bias


# --- scipy.signal references -------------------------------------------------


def spread_kernel(weights, dilation):
    """A dilated kernel as a plain one: ``dilation - 1`` zeros between its taps."""
    if tuple(dilation) == (1, 1):
        return weights
    (kh, kw), (dh, dw) = weights.shape[:2], dilation
    spread = np.zeros(
        (dilated_size(kh, dh), dilated_size(kw, dw), *weights.shape[2:]), dtype=weights.dtype
    )
    spread[::dh, ::dw] = weights
    return spread


def scipy_forward(x_pad, weights, bias, stride, keep, dilation=(1, 1)):
    weights = spread_kernel(weights, dilation)
    kh, kw, channels, filters = weights.shape
    n, height, width, _ = x_pad.shape
    sh, sw = stride
    out_h, out_w = output_length(height, kh, sh), output_length(width, kw, sw)
    out = np.empty((n, out_h, out_w, filters), dtype=x_pad.dtype)
    for s in range(n):
        for f in range(filters):
            # A kernel spanning all channels: the 'valid' result has depth 1.
            full = signal.correlate(x_pad[s], weights[..., f], mode="valid", method="direct")
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


def scipy_backward(grad_out, x_pad, weights, stride, x_pad_shape, need_input_grad, dilation=(1, 1)):
    weights = spread_kernel(weights, dilation)
    kh, kw, channels, filters = weights.shape
    dilated = _dilate(grad_out, stride)
    d_h, d_w = dilated.shape[1:3]
    grad_weights = np.zeros_like(weights)
    grad_x_pad = np.zeros(x_pad_shape, dtype=grad_out.dtype) if need_input_grad else None
    for s in range(grad_out.shape[0]):
        for f in range(filters):
            g = dilated[s, :, :, f, np.newaxis]
            # dL/dW[i, j, c] = sum_pq x_pad[p + i, q + j, c] * g[p, q]
            grad_weights[..., f] += signal.correlate(x_pad[s], g, mode="valid", method="direct")[
                :kh, :kw
            ]
            if need_input_grad:
                # dL/dx_pad = full convolution of g with W
                grad_x_pad[s, : d_h + kh - 1, : d_w + kw - 1] += signal.convolve(
                    g, weights[..., f], mode="full", method="direct"
                )
    grad_bias = grad_out.sum(axis=(0, 1, 2))
    return grad_x_pad, grad_weights[:: dilation[0], :: dilation[1]], grad_bias


# --- FFT: the whole batch in the frequency domain ----------------------------


def _fft_shape(x_pad_shape):
    """FFT sizes of the spatial axes: at least the input, so nothing wraps around."""
    return tuple(sp_fft.next_fast_len(int(n), real=True) for n in x_pad_shape[1:3])


def fft_forward(x_pad, weights, bias, stride, keep, dilation=(1, 1)):
    weights = spread_kernel(weights, dilation)
    kh, kw, channels, filters = weights.shape
    n, height, width, _ = x_pad.shape
    size = _fft_shape(x_pad.shape)
    # Spectra with the frequencies first, so that every frequency is one
    # (n, C) @ (C, F) product: (freq_h, freq_w, n, C) and (freq_h, freq_w, C, F).
    x_spec = sp_fft.rfft2(x_pad, s=size, axes=(1, 2)).transpose(1, 2, 0, 3).copy()
    w_spec = sp_fft.rfft2(weights, s=size, axes=(0, 1))
    # Correlation with w is multiplication by conj(W): no wrap-around for the
    # 'valid' positions because the FFT is at least as long as the input.
    out_spec = (x_spec @ w_spec.conj()).transpose(2, 0, 1, 3)
    full = sp_fft.irfft2(out_spec, s=size, axes=(1, 2))
    out = full[:, : height - kh + 1 : stride[0], : width - kw + 1 : stride[1]] + bias
    return out.astype(x_pad.dtype, copy=False), ((x_spec, w_spec) if keep else None)


def fft_backward(grad_out, saved, weights, stride, x_pad_shape, need_input_grad, dilation=(1, 1)):
    dh, dw = dilation
    kh, kw = dilated_size(weights.shape[0], dh), dilated_size(weights.shape[1], dw)
    channels, filters = weights.shape[2:]
    x_spec, w_spec = saved
    n, height, width, _ = x_pad_shape
    size = _fft_shape(x_pad_shape)
    # dL/dout on the stride-1 grid of 'valid' positions (zeros between strides).
    grad_full = np.zeros((n, height - kh + 1, width - kw + 1, filters), dtype=grad_out.dtype)
    grad_full[:, :: stride[0], :: stride[1]] = grad_out
    g_spec = sp_fft.rfft2(grad_full, s=size, axes=(1, 2)).transpose(1, 2, 0, 3)
    # dL/dW = correlation of x with dL/dout, summed over the batch: X^T conj(G)
    grad_w_spec = x_spec.transpose(0, 1, 3, 2) @ g_spec.conj()
    grad_weights = sp_fft.irfft2(grad_w_spec, s=size, axes=(0, 1))[:kh:dh, :kw:dw]
    grad_weights = np.ascontiguousarray(grad_weights, dtype=weights.dtype)
    grad_bias = grad_out.sum(axis=(0, 1, 2))
    if not need_input_grad:
        return None, grad_weights, grad_bias
    # dL/dx = convolution of dL/dout with w: G W^T
    grad_x_spec = (g_spec @ w_spec.transpose(0, 1, 3, 2)).transpose(2, 0, 1, 3)
    grad_x_pad = sp_fft.irfft2(grad_x_spec, s=size, axes=(1, 2))[:, :height, :width]
    return grad_x_pad.astype(grad_out.dtype, copy=False), grad_weights, grad_bias


CONV_ALGORITHMS = {
    "im2col": (im2col_forward, im2col_backward),
    **SHIFTED_ALGORITHMS,
    "scipy": (scipy_forward, scipy_backward),
    "fft": (fft_forward, fft_backward),
    **WINOGRAD_ALGORITHMS,
}


def algorithm_costs(x_pad_shape, weights_shape, stride, dilation=(1, 1)):
    """Modelled seconds per sample of a training step with each fast algorithm.

    Parameters
    ----------
    x_pad_shape : tuple of int (height, width, channels)
        One padded input sample.
    weights_shape : tuple of int (kernel_height, kernel_width, channels, filters)
    stride : tuple of int (height, width)
    dilation : tuple of int (height, width), default=(1, 1)

    Returns
    -------
    costs : dict
        ``{"im2col": seconds, "fft": seconds}``, and the Winograd algorithms'
        where they compute the convolution (:func:`~skcnn._engine.winograd.covers`)
        of :data:`~skcnn._engine.tuning.WINOGRAD_MIN_CHANNELS` input channels or
        more, whether or not the accelerator is installed.
    """
    height, width, _ = x_pad_shape
    kh, kw, channels, filters = weights_shape
    out_h = output_length(height, kh, stride[0], dilation[0])
    out_w = output_length(width, kw, stride[1], dilation[1])
    positions = out_h * out_w
    window = kh * kw
    # im2col: three products (forward, dL/dW, dL/dx), column copies and scatters.
    im2col = (
        6 * positions * window * channels * filters / IM2COL_FLOP_RATE
        + 3 * positions * window * channels / IM2COL_COPY_RATE
        + positions * (filters + window) / IM2COL_POSITION_RATE
    )
    # fft: three complex products per frequency (8 real FLOPs a term), four spectra.
    fh, fw = _fft_shape((1, height, width))
    n_freq = fh * (fw // 2 + 1)
    points = fh * fw * np.log2(max(fh * fw, 2))
    fft = (
        24 * n_freq * channels * filters / FFT_FLOP_RATE
        + (2 * channels + 2 * filters) * points / FFT_POINT_RATE
    )
    costs = {"im2col": im2col, "fft": fft}
    if shifted_covers(stride):
        # Three products a tap over every padded position (the dropped ones
        # included); each tap passes over the rows it adds into.
        padded = height * width
        costs["shifted"] = (
            6 * padded * window * channels * filters / SHIFTED_FLOP_RATE
            + padded * window * (filters + channels) / SHIFTED_PASS_RATE
        )
    if covers(weights_shape, stride, dilation) and channels >= WINOGRAD_MIN_CHANNELS:
        for name, m in WINOGRAD_TILES.items():
            # Three products of a*a terms a tile; four transforms (two of the
            # input's channels, two of the filters) of a*a values a tile.
            terms = -(-out_h // m) * -(-out_w // m) * (m + 2) ** 2
            costs[name] = (
                6 * terms * channels * filters / WINOGRAD_FLOP_RATE
                + 2 * terms * (channels + filters) / WINOGRAD_TRANSFORM_RATE
            )
    return costs


def resolve_algorithm(
    algorithm, x_pad_shape=None, weights_shape=None, stride=(1, 1), dilation=(1, 1)
):
    """Name of the algorithm that runs for ``algorithm``.

    ``"auto"`` picks the cheapest algorithm by the cost model of
    :func:`algorithm_costs` (a model, not a timing, so that the choice, and
    with it every result, is the same run after run); without shapes it
    picks ``"im2col"``. ``"fft"`` wins for large kernels, such as 7x7 and up
    on images of a few dozen pixels a side; a Winograd algorithm, where the
    accelerator is installed, for 3x3 kernels of many channels. A Winograd
    algorithm asked for by name runs where it computes the convolution (3x3,
    stride 1, no dilation) and im2col elsewhere; without numba, it raises a
    ``ValueError`` that says how to install it.
    """
    if algorithm not in ("auto", *CONV_ALGORITHMS):
        raise ValueError(
            f"conv_algorithm must be 'auto' or one of {sorted(CONV_ALGORITHMS)}; got {algorithm!r}."
        )
    require_accelerator(algorithm)
    if x_pad_shape is None:
        return "im2col" if algorithm == "auto" else algorithm
    if algorithm in WINOGRAD_TILES:
        return algorithm if covers(weights_shape, stride, dilation) else "im2col"
    if algorithm == "shifted":
        return algorithm if shifted_covers(stride) else "im2col"
    if algorithm != "auto":
        return algorithm
    costs = algorithm_costs(x_pad_shape, weights_shape, stride, dilation)
    best = min(costs, key=costs.get)
    if best in WINOGRAD_TILES and not accelerator_available():
        best = min((name for name in costs if name not in WINOGRAD_TILES), key=costs.get)
    return best
