"""The compiled kernels of the accelerator: tile transforms of Winograd convolutions.

Imported on first use only (``import skcnn`` does not import numba), by
:mod:`skcnn._engine.winograd`, which says what the transforms are for. Each
function is compiled once per dtype and cached on disk beside this module
(``cache=True``): the first fit after installing pays the compilation,
later processes load it.

A 2-D transform of a tile is two passes of 1-D transforms (:func:`line`).
The input side goes down the columns first, a whole strip of rows of the
input at a time (the columns that neighbouring tiles share are transformed
once), then along the rows of every tile; the output side goes along the
rows, then down the columns. Every 1-D transform is written out (the zeros
of its matrix skipped), one loop per output over values contiguous in the
channels-last arrays, with unsigned offsets: so the loops run on the vector
units for any number of channels (10-15 GB/s at 32 and 64 channels, in
cache on one thread, against 3.7-5.7 GB/s for loops of all outputs at once,
which LLVM ran on the vector units only past 72 to 104 channels;
``benchmarks/bench_scale.py`` reports the kernels' rates). Strips that
overhang the edge of the input are first copied into zero-padded rows. The
kernels release the GIL: threads of skcnn's own run them side by side.
"""

import numba
import numpy as np

# The 1-D transforms, by number: F(4x4, 3x3)'s B^T (input tiles), A (the adjoint of
# A^T: output gradients into the Winograd domain), A^T (back to output tiles) and B
# (the adjoint of B^T: input gradients); then F(2x2, 3x3)'s.
BT4, A4, AT4, B4, BT2, A2, AT2, B2 = range(8)
#: (inputs, outputs) of each 1-D transform.
LENGTHS = ((6, 6), (4, 6), (6, 4), (6, 6), (4, 4), (2, 4), (4, 2), (4, 4))


@numba.njit(cache=True, nogil=True)
def line(kind, src, s0, ss, dst, d0, ds, n):
    """``dst[d0 + k * ds + q] = sum_j T[k, j] src[s0 + j * ss + q]``, ``q < n``, for ``kind``.

    ``src`` and ``dst`` are flat: ``n`` values side by side (the channels of
    a pixel, or of a row of pixels) make a term. Every output ``k`` is its
    own loop over ``q``, with one store and a few loads: such a loop runs on
    the vector units after a cheap check that ``src`` and ``dst`` do not
    overlap, which a loop of six stores and six loads pays back only past a
    hundred values. The constants are of the arrays' dtype: a Python int
    would make every product float64.
    """
    dtype = src.dtype.type
    two, four, five, eight = dtype(2), dtype(4), dtype(5), dtype(8)
    # Unsigned offsets: numba then skips the test for negative indices, which
    # would keep the loops from running on the vector units.
    u = np.uint64
    x0, x1, x2, x3 = u(s0), u(s0 + ss), u(s0 + 2 * ss), u(s0 + 3 * ss)
    x4, x5 = u(s0 + 4 * ss), u(s0 + 5 * ss)
    y0, y1, y2, y3 = u(d0), u(d0 + ds), u(d0 + 2 * ds), u(d0 + 3 * ds)
    y4, y5 = u(d0 + 4 * ds), u(d0 + 5 * ds)
    n = u(n)
    if kind == BT4:
        for q in range(n):
            dst[y0 + q] = four * src[x0 + q] - five * src[x2 + q] + src[x4 + q]
        for q in range(n):
            dst[y1 + q] = src[x3 + q] + src[x4 + q] - four * (src[x1 + q] + src[x2 + q])
        for q in range(n):
            dst[y2 + q] = src[x4 + q] - src[x3 + q] + four * (src[x1 + q] - src[x2 + q])
        for q in range(n):
            dst[y3 + q] = src[x4 + q] - src[x2 + q] + two * (src[x3 + q] - src[x1 + q])
        for q in range(n):
            dst[y4 + q] = src[x4 + q] - src[x2 + q] + two * (src[x1 + q] - src[x3 + q])
        for q in range(n):
            dst[y5 + q] = four * src[x1 + q] - five * src[x3 + q] + src[x5 + q]
    elif kind == A4:
        for q in range(n):
            dst[y0 + q] = src[x0 + q]
        for q in range(n):
            dst[y1 + q] = src[x0 + q] + src[x1 + q] + src[x2 + q] + src[x3 + q]
        for q in range(n):
            dst[y2 + q] = src[x0 + q] - src[x1 + q] + src[x2 + q] - src[x3 + q]
        for q in range(n):
            dst[y3 + q] = src[x0 + q] + two * src[x1 + q] + four * src[x2 + q] + eight * src[x3 + q]
        for q in range(n):
            dst[y4 + q] = src[x0 + q] - two * src[x1 + q] + four * src[x2 + q] - eight * src[x3 + q]
        for q in range(n):
            dst[y5 + q] = src[x3 + q]
    elif kind == AT4:
        for q in range(n):
            dst[y0 + q] = src[x0 + q] + src[x1 + q] + src[x2 + q] + src[x3 + q] + src[x4 + q]
        for q in range(n):
            dst[y1 + q] = src[x1 + q] - src[x2 + q] + two * (src[x3 + q] - src[x4 + q])
        for q in range(n):
            dst[y2 + q] = src[x1 + q] + src[x2 + q] + four * (src[x3 + q] + src[x4 + q])
        for q in range(n):
            dst[y3 + q] = (
                src[x1 + q] - src[x2 + q] + eight * (src[x3 + q] - src[x4 + q]) + src[x5 + q]
            )
    elif kind == B4:
        for q in range(n):
            dst[y0 + q] = four * src[x0 + q]
        for q in range(n):
            dst[y1 + q] = (
                four * (src[x2 + q] - src[x1 + q])
                + two * (src[x4 + q] - src[x3 + q])
                + four * src[x5 + q]
            )
        for q in range(n):
            dst[y2 + q] = (
                -five * src[x0 + q] - four * (src[x1 + q] + src[x2 + q]) - src[x3 + q] - src[x4 + q]
            )
        for q in range(n):
            dst[y3 + q] = (
                src[x1 + q] - src[x2 + q] + two * (src[x3 + q] - src[x4 + q]) - five * src[x5 + q]
            )
        for q in range(n):
            dst[y4 + q] = src[x0 + q] + src[x1 + q] + src[x2 + q] + src[x3 + q] + src[x4 + q]
        for q in range(n):
            dst[y5 + q] = src[x5 + q]
    elif kind == BT2:
        for q in range(n):
            dst[y0 + q] = src[x0 + q] - src[x2 + q]
        for q in range(n):
            dst[y1 + q] = src[x1 + q] + src[x2 + q]
        for q in range(n):
            dst[y2 + q] = src[x2 + q] - src[x1 + q]
        for q in range(n):
            dst[y3 + q] = src[x1 + q] - src[x3 + q]
    elif kind == A2:
        for q in range(n):
            dst[y0 + q] = src[x0 + q]
        for q in range(n):
            dst[y1 + q] = src[x0 + q] + src[x1 + q]
        for q in range(n):
            dst[y2 + q] = src[x0 + q] - src[x1 + q]
        for q in range(n):
            dst[y3 + q] = -src[x1 + q]
    elif kind == AT2:
        for q in range(n):
            dst[y0 + q] = src[x0 + q] + src[x1 + q] + src[x2 + q]
        for q in range(n):
            dst[y1 + q] = src[x1 + q] - src[x2 + q] - src[x3 + q]
    else:  # B2
        for q in range(n):
            dst[y0 + q] = src[x0 + q]
        for q in range(n):
            dst[y1 + q] = src[x1 + q] - src[x2 + q] + src[x3 + q]
        for q in range(n):
            dst[y2 + q] = src[x1 + q] + src[x2 + q] - src[x0 + q]
        for q in range(n):
            dst[y3 + q] = -src[x3 + q]


@numba.njit(cache=True, nogil=True)
def tiles_in(x, kind, step, tiles_h, tiles_w, out, tile_offset):
    """Transform every tile of ``x`` from both sides: ``T . window . T^T``.

    ``out[k1 * a + k2, t] = sum_ij T[k1, i] T[k2, j] x[s, ty * step + i, tx *
    step + j]`` for tile ``t = tile_offset + (s * tiles_h + ty) * tiles_w +
    tx``, ``T`` the ``(a, r)`` matrix of transform ``kind``; rows and columns
    past the edges of ``x`` read as zeros.

    Parameters
    ----------
    x : ndarray of shape (n, height, width, channels)
    kind : int
        A transform of :data:`LENGTHS`, applied to the ``r x r`` window of every tile.
    step : int
        Rows and columns from one tile to the next.
    tiles_h, tiles_w : int
        Tiles of a sample along its height and width.
    out : ndarray of shape (a * a, n_tiles, channels)
        Position by position: every ``out[k]`` is a contiguous matrix of the
        tiles' channels, as the products take it (with the tiles' rows
        ``a * a`` apart, the products ran 1.3-1.4x slower).
    tile_offset : int
        The first tile of ``x[0]`` in ``out``.
    """
    r, a = LENGTHS[kind]
    n, height, width, channels = x.shape
    pixels = x.reshape(-1)
    values = out.reshape(-1)
    n_tiles = out.shape[1]
    # A strip of the tiles of a row: r rows of the input, and of the columns'
    # transforms; past the input's right edge, zeros (never written).
    strip_width = max(width, (tiles_w - 1) * step + r)
    run = strip_width * channels
    strip = np.zeros(r * run, dtype=x.dtype)
    cols = np.zeros(a * run, dtype=out.dtype)
    span = width * channels
    for s in range(n):
        for ty in range(tiles_h):
            y0 = ty * step
            first = (s * height + y0) * span
            if y0 + r <= height and run == span:
                src, row_step = pixels, span
            else:  # the strip overhangs: the input's rows, zero-padded
                strip[:] = 0
                for i in range(min(r, height - y0)):
                    strip[i * run : i * run + span] = pixels[
                        first + i * span : first + (i + 1) * span
                    ]
                src, first, row_step = strip, 0, run
            # Down the columns, whole rows at a time: cols[k1] = sum_i T[k1, i] strip[i]
            line(kind, src, first, row_step, cols, 0, run, span)
            # Along the rows of every tile:
            # out[k1 * a + k2, t] = sum_j T[k2, j] cols[k1, tx * step + j]
            for tx in range(tiles_w):
                t = tile_offset + (s * tiles_h + ty) * tiles_w + tx
                for k1 in range(a):
                    first_value = (k1 * a * n_tiles + t) * channels
                    line(kind, cols, k1 * run + tx * step * channels, channels, values,
                         first_value, n_tiles * channels, channels)  # fmt: skip


@numba.njit(cache=True, nogil=True)
def tiles_out(tiles, kind, step, tiles_h, tiles_w, tile_offset, bias, out, accumulate):
    """Transform every tile back from both sides, ``T . tile . T^T``, into ``out``.

    ``out[s, ty * step + i, tx * step + j]`` gets ``sum_k1k2 T[i, k1] T[j,
    k2] tiles[k1 * a + k2, t]``, plus ``bias``, for tile ``t = tile_offset +
    (s * tiles_h + ty) * tiles_w + tx``, ``T`` the ``(r, a)`` matrix of
    transform ``kind``; what falls past the edges of ``out`` is dropped. With
    ``accumulate`` it is added to ``out`` (overlapping tiles add up, and
    ``bias`` is not used), else it overwrites it.

    Parameters
    ----------
    tiles : ndarray of shape (a * a, n_tiles, filters)
    kind : int
    step : int
    tiles_h, tiles_w : int
    tile_offset : int
    bias : ndarray of shape (filters,)
    out : ndarray of shape (n, height, width, filters)
    accumulate : bool
    """
    a, r = LENGTHS[kind]
    n, height, width, filters = out.shape
    n_tiles = tiles.shape[1]
    values = tiles.reshape(-1)
    pixels = out.reshape(-1)
    cols = np.empty(a * r * filters, dtype=out.dtype)
    tile = np.empty(r * r * filters, dtype=out.dtype)
    run = r * filters  # a row of an output tile: r pixels side by side
    for s in range(n):
        for ty in range(tiles_h):
            for tx in range(tiles_w):
                t = tile_offset + (s * tiles_h + ty) * tiles_w + tx
                # Along the rows: cols[k1, j] = sum_k2 T[j, k2] tiles[k1 * a + k2, t]
                for k1 in range(a):
                    line(kind, values, (k1 * a * n_tiles + t) * filters, n_tiles * filters,
                         cols, k1 * run, filters, filters)  # fmt: skip
                # Down the columns, whole rows at a time: tile[i] = sum_k1 T[i, k1] cols[k1]
                line(kind, cols, 0, run, tile, 0, run, run)
                y0, x0 = ty * step, tx * step
                span = min(r, width - x0)
                for i in range(min(r, height - y0)):
                    pixel = ((s * height + y0 + i) * width + x0) * filters
                    target = pixels[pixel : pixel + span * filters]
                    source = tile[i * run : i * run + span * filters]
                    if accumulate:
                        for q in range(span * filters):
                            target[q] += source[q]
                    else:
                        for j in range(span):
                            for f in range(filters):
                                target[j * filters + f] = source[j * filters + f] + bias[f]


# --- batch normalization: sums over the rows of channels, and one pass each way ------
#
# ``rows`` are (positions, channels), C-contiguous; every loop runs along the
# channels of a row, on the vector units. Sums are float64, whatever the rows'
# dtype.


@numba.njit(cache=True, nogil=True)
def column_totals(rows, totals):
    """``totals[c] = sum_i rows[i, c]``."""
    n, channels = rows.shape
    values = rows.reshape(-1)
    totals[:] = 0
    # Four rows a step: four times fewer additions in a row to the same total,
    # each waiting for the one before.
    for i in range(0, n - n % 4, 4):
        r0, r1 = np.uint64(i * channels), np.uint64((i + 1) * channels)
        r2, r3 = np.uint64((i + 2) * channels), np.uint64((i + 3) * channels)
        for c in range(np.uint64(channels)):
            totals[c] += (np.float64(values[r0 + c]) + values[r1 + c]) + (
                np.float64(values[r2 + c]) + values[r3 + c]
            )
    for i in range(n - n % 4, n):
        start = np.uint64(i * channels)
        for c in range(np.uint64(channels)):
            totals[c] += values[start + c]


@numba.njit(cache=True, nogil=True)
def centred_squares(rows, mean, totals):
    """``totals[c] = sum_i (rows[i, c] - mean[c]) ** 2``."""
    n, channels = rows.shape
    values = rows.reshape(-1)
    totals[:] = 0
    for i in range(0, n - n % 2, 2):
        r0, r1 = np.uint64(i * channels), np.uint64((i + 1) * channels)
        for c in range(np.uint64(channels)):
            d0 = np.float64(values[r0 + c] - mean[c])
            d1 = np.float64(values[r1 + c] - mean[c])
            totals[c] += d0 * d0 + d1 * d1
    for i in range(n - n % 2, n):
        start = np.uint64(i * channels)
        for c in range(np.uint64(channels)):
            d = np.float64(values[start + c] - mean[c])
            totals[c] += d * d


@numba.njit(cache=True, nogil=True)
def standardize(rows, mean, inv_std, weights, bias, x_hat, out):
    """``x_hat = (rows - mean) * inv_std`` and ``out = x_hat * weights + bias``."""
    n, channels = rows.shape
    values, hats, outs = rows.reshape(-1), x_hat.reshape(-1), out.reshape(-1)
    for i in range(n):
        start = np.uint64(i * channels)
        for c in range(np.uint64(channels)):
            h = (values[start + c] - mean[c]) * inv_std[c]
            hats[start + c] = h
            outs[start + c] = h * weights[c] + bias[c]


@numba.njit(cache=True, nogil=True)
def scale_shift(rows, scale, shift, out):
    """``out = rows * scale + shift``: batch normalization with running statistics."""
    n, channels = rows.shape
    values, outs = rows.reshape(-1), out.reshape(-1)
    for i in range(n):
        start = np.uint64(i * channels)
        for c in range(np.uint64(channels)):
            outs[start + c] = values[start + c] * scale[c] + shift[c]


@numba.njit(cache=True, nogil=True)
def gradient_totals(grad, x_hat, grad_weights, grad_bias):
    """``grad_weights[c] = sum_i grad[i, c] x_hat[i, c]``, ``grad_bias[c] = sum_i grad[i, c]``."""
    n, channels = grad.shape
    grads, hats = grad.reshape(-1), x_hat.reshape(-1)
    grad_weights[:] = 0
    grad_bias[:] = 0
    for i in range(0, n - n % 2, 2):
        r0, r1 = np.uint64(i * channels), np.uint64((i + 1) * channels)
        for c in range(np.uint64(channels)):
            g0, g1 = np.float64(grads[r0 + c]), np.float64(grads[r1 + c])
            grad_weights[c] += g0 * hats[r0 + c] + g1 * hats[r1 + c]
            grad_bias[c] += g0 + g1
    for i in range(n - n % 2, n):
        start = np.uint64(i * channels)
        for c in range(np.uint64(channels)):
            g = np.float64(grads[start + c])
            grad_weights[c] += g * hats[start + c]
            grad_bias[c] += g


@numba.njit(cache=True, nogil=True)
def normalized_input_gradient(grad, x_hat, mean_grad_weights, mean_grad_bias, scale, out):
    """``out = (grad - mean_grad_bias - x_hat * mean_grad_weights) * scale``."""
    n, channels = grad.shape
    grads, hats, outs = grad.reshape(-1), x_hat.reshape(-1), out.reshape(-1)
    for i in range(n):
        start = np.uint64(i * channels)
        for c in range(np.uint64(channels)):
            value = grads[start + c] - mean_grad_bias[c]
            value -= hats[start + c] * mean_grad_weights[c]
            outs[start + c] = value * scale[c]


# --- the Adam update ------------------------------------------------------------


# error_model="numpy": a division by zero gives inf, as NumPy's, with no test
# that would keep the loop off the vector units.
@numba.njit(cache=True, nogil=True, error_model="numpy")
def adam_update(param, grad, m, v, b1, one_minus_b1, b2, one_minus_b2, epsilon, step):
    """Adam's update of one parameter array and its moments, in one pass.

    The operations of :class:`~skcnn._engine.optimizers.Adam`'s NumPy passes,
    in their order and in the arrays' dtype (the scalars come in it): the
    same bits.
    """
    p, g, first, second = param.reshape(-1), grad.reshape(-1), m.reshape(-1), v.reshape(-1)
    for i in range(np.uint64(p.size)):
        gi = g[i]
        mi = first[i] * b1 + gi * one_minus_b1
        vi = second[i] * b2 + gi * gi * one_minus_b2
        first[i] = mi
        second[i] = vi
        p[i] -= mi / (np.sqrt(vi) + epsilon) * step


# --- max pooling of windows that tile the input (stride equal to the window) ------


@numba.njit(cache=True, nogil=True)
def tiled_max_pool(x, pool_h, pool_w, out, taken):
    """The maximum of every window, and which position of it holds the maximum.

    ``x`` is ``(n, height, width, channels)``; ``out`` and ``taken`` (uint8)
    are ``(n, out_h, out_w, channels)``, every window ``pool_h x pool_w``
    with no overlap. ``taken`` is the first maximum in raster order, ``i *
    pool_w + j``; a NaN is the maximum of its window, as with ``np.maximum``.
    """
    n, height, width, channels = x.shape
    out_h, out_w = out.shape[1], out.shape[2]
    values, best, where = x.reshape(-1), out.reshape(-1), taken.reshape(-1)
    for s in range(n):
        for p in range(out_h):
            for q in range(out_w):
                target = np.uint64(((s * out_h + p) * out_w + q) * channels)
                first = np.uint64(((s * height + p * pool_h) * width + q * pool_w) * channels)
                for c in range(np.uint64(channels)):
                    best[target + c] = values[first + c]
                    where[target + c] = 0
                for k in range(1, pool_h * pool_w):
                    i, j = k // pool_w, k % pool_w
                    source = np.uint64(
                        ((s * height + p * pool_h + i) * width + q * pool_w + j) * channels
                    )
                    position = np.uint8(k)
                    for c in range(np.uint64(channels)):
                        v, b = values[source + c], best[target + c]
                        larger = v > b or (v != v and b == b)
                        best[target + c] = v if larger else b
                        where[target + c] = position if larger else where[target + c]


@numba.njit(cache=True, nogil=True)
def tiled_max_pool_backward(grad_out, taken, pool_h, pool_w, grad_x):
    """dL/dx of :func:`tiled_max_pool`: every window's gradient to the position it took.

    ``grad_x`` gets every value of the windows; positions no window covers
    are the caller's (it zeroes them).
    """
    n, height, width, channels = grad_x.shape
    out_h, out_w = grad_out.shape[1], grad_out.shape[2]
    grads, where, spread = grad_out.reshape(-1), taken.reshape(-1), grad_x.reshape(-1)
    zero = grad_x.dtype.type(0)
    for s in range(n):
        for p in range(out_h):
            for q in range(out_w):
                target = np.uint64(((s * out_h + p) * out_w + q) * channels)
                for k in range(pool_h * pool_w):
                    i, j = k // pool_w, k % pool_w
                    source = np.uint64(
                        ((s * height + p * pool_h + i) * width + q * pool_w + j) * channels
                    )
                    position = np.uint8(k)
                    for c in range(np.uint64(channels)):
                        g = grads[target + c]
                        spread[source + c] = g if where[target + c] == position else zero


# --- ReLU ----------------------------------------------------------------------


@numba.njit(cache=True, nogil=True)
def relu(x, out, active):
    """``out = max(x, 0)`` and ``active = out > 0``, in one pass (NaN stays NaN, inactive)."""
    values, outs, masks = x.reshape(-1), out.reshape(-1), active.reshape(-1)
    zero = out.dtype.type(0)
    for i in range(np.uint64(values.size)):
        v = values[i]
        o = zero if v < zero else v
        outs[i] = o
        masks[i] = o > zero


@numba.njit(cache=True, nogil=True)
def relu_backward(grad_out, active, grad_in):
    """``grad_in = grad_out`` where ``active``, else 0."""
    grads, masks, outs = grad_out.reshape(-1), active.reshape(-1), grad_in.reshape(-1)
    zero = grad_in.dtype.type(0)
    for i in range(np.uint64(grads.size)):
        outs[i] = grads[i] if masks[i] else zero
