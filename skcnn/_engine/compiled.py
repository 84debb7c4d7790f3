"""The compiled kernels of the accelerator: tile transforms of Winograd convolutions.

Imported on first use only (``import skcnn`` does not import numba), by
:mod:`skcnn._engine.winograd`, which says what the transforms are for. Each
function is compiled once per dtype and cached on disk beside this module
(``cache=True``): the first fit after installing pays the compilation,
later processes load it.

A 2-D transform of a tile is two passes of 1-D transforms (:func:`line`):
along the rows, then down the columns. Every 1-D transform is written out
(the zeros of its matrix skipped) and runs over all channels at once: the
innermost loop is over the channels, contiguous in the channels-last
arrays, with a handful of loads and stores, so that it runs on the vector
units; no loop body makes an array view. Tiles that overhang the edge of
the input are first copied into a zero-padded window. The kernels release
the GIL: threads of skcnn's own run them side by side.
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
def line(kind, src, s0, ss, dst, d0, ds, channels):
    """``dst[d0 + k * ds] = sum_j T[k, j] src[s0 + j * ss]``, row by row, for transform ``kind``.

    ``src`` and ``dst`` are 2-D: rows of ``channels`` values. The constants
    are of their dtype: a Python int would make every product float64.
    """
    dtype = src.dtype.type
    two, four, five, eight = dtype(2), dtype(4), dtype(5), dtype(8)
    if kind == BT4:
        for c in range(channels):
            x0, x1, x2 = src[s0, c], src[s0 + ss, c], src[s0 + 2 * ss, c]
            x3, x4, x5 = src[s0 + 3 * ss, c], src[s0 + 4 * ss, c], src[s0 + 5 * ss, c]
            dst[d0, c] = four * x0 - five * x2 + x4
            dst[d0 + ds, c] = x3 + x4 - four * (x1 + x2)
            dst[d0 + 2 * ds, c] = x4 - x3 + four * (x1 - x2)
            dst[d0 + 3 * ds, c] = x4 - x2 + two * (x3 - x1)
            dst[d0 + 4 * ds, c] = x4 - x2 + two * (x1 - x3)
            dst[d0 + 5 * ds, c] = four * x1 - five * x3 + x5
    elif kind == A4:
        for c in range(channels):
            y0, y1, y2, y3 = src[s0, c], src[s0 + ss, c], src[s0 + 2 * ss, c], src[s0 + 3 * ss, c]
            dst[d0, c] = y0
            dst[d0 + ds, c] = y0 + y1 + y2 + y3
            dst[d0 + 2 * ds, c] = y0 - y1 + y2 - y3
            dst[d0 + 3 * ds, c] = y0 + two * y1 + four * y2 + eight * y3
            dst[d0 + 4 * ds, c] = y0 - two * y1 + four * y2 - eight * y3
            dst[d0 + 5 * ds, c] = y3
    elif kind == AT4:
        for c in range(channels):
            m0, m1, m2 = src[s0, c], src[s0 + ss, c], src[s0 + 2 * ss, c]
            m3, m4, m5 = src[s0 + 3 * ss, c], src[s0 + 4 * ss, c], src[s0 + 5 * ss, c]
            dst[d0, c] = m0 + m1 + m2 + m3 + m4
            dst[d0 + ds, c] = m1 - m2 + two * (m3 - m4)
            dst[d0 + 2 * ds, c] = m1 + m2 + four * (m3 + m4)
            dst[d0 + 3 * ds, c] = m1 - m2 + eight * (m3 - m4) + m5
    elif kind == B4:
        for c in range(channels):
            v0, v1, v2 = src[s0, c], src[s0 + ss, c], src[s0 + 2 * ss, c]
            v3, v4, v5 = src[s0 + 3 * ss, c], src[s0 + 4 * ss, c], src[s0 + 5 * ss, c]
            dst[d0, c] = four * v0
            dst[d0 + ds, c] = four * (v2 - v1) + two * (v4 - v3) + four * v5
            dst[d0 + 2 * ds, c] = -five * v0 - four * (v1 + v2) - v3 - v4
            dst[d0 + 3 * ds, c] = v1 - v2 + two * (v3 - v4) - five * v5
            dst[d0 + 4 * ds, c] = v0 + v1 + v2 + v3 + v4
            dst[d0 + 5 * ds, c] = v5
    elif kind == BT2:
        for c in range(channels):
            x0, x1, x2, x3 = src[s0, c], src[s0 + ss, c], src[s0 + 2 * ss, c], src[s0 + 3 * ss, c]
            dst[d0, c] = x0 - x2
            dst[d0 + ds, c] = x1 + x2
            dst[d0 + 2 * ds, c] = x2 - x1
            dst[d0 + 3 * ds, c] = x1 - x3
    elif kind == A2:
        for c in range(channels):
            y0, y1 = src[s0, c], src[s0 + ss, c]
            dst[d0, c] = y0
            dst[d0 + ds, c] = y0 + y1
            dst[d0 + 2 * ds, c] = y0 - y1
            dst[d0 + 3 * ds, c] = -y1
    elif kind == AT2:
        for c in range(channels):
            m0, m1, m2, m3 = src[s0, c], src[s0 + ss, c], src[s0 + 2 * ss, c], src[s0 + 3 * ss, c]
            dst[d0, c] = m0 + m1 + m2
            dst[d0 + ds, c] = m1 - m2 - m3
    else:  # B2
        for c in range(channels):
            v0, v1, v2, v3 = src[s0, c], src[s0 + ss, c], src[s0 + 2 * ss, c], src[s0 + 3 * ss, c]
            dst[d0, c] = v0
            dst[d0 + ds, c] = v1 - v2 + v3
            dst[d0 + 2 * ds, c] = v1 + v2 - v0
            dst[d0 + 3 * ds, c] = -v3


@numba.njit(cache=True, nogil=True)
def tiles_in(x, kind, step, tiles_h, tiles_w, out, tile_offset):
    """Transform every tile of ``x`` from both sides: ``T . window . T^T``.

    ``out[t, k1 * a + k2] = sum_ij T[k1, i] T[k2, j] x[s, ty * step + i, tx *
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
    out : ndarray of shape (n_tiles, a * a, channels)
        Tile by tile, so that the values of a tile are written side by side
        (the products take every ``out[:, k]`` as a matrix with rows apart).
    tile_offset : int
        The first tile of ``x[0]`` in ``out``.
    """
    r, a = LENGTHS[kind]
    n, height, width, channels = x.shape
    n_tiles = out.shape[0]
    pixels = x.reshape((n * height * width, channels))
    values = out.reshape((a * a * n_tiles, channels))
    window = np.zeros((r * r, channels), dtype=x.dtype)
    rows = np.empty((r * a, channels), dtype=out.dtype)
    for s in range(n):
        for ty in range(tiles_h):
            for tx in range(tiles_w):
                t = tile_offset + (s * tiles_h + ty) * tiles_w + tx
                y0, x0 = ty * step, tx * step
                if y0 + r <= height and x0 + r <= width:
                    src, first, row_step = pixels, (s * height + y0) * width + x0, width
                else:  # the tile overhangs: its window, zero-padded
                    window[:] = 0
                    for i in range(min(r, height - y0)):
                        for j in range(min(r, width - x0)):
                            pixel = (s * height + y0 + i) * width + x0 + j
                            for c in range(channels):
                                window[i * r + j, c] = pixels[pixel, c]
                    src, first, row_step = window, 0, r
                # Along the rows: rows[i * a + k2] = sum_j T[k2, j] window[i, j]
                for i in range(r):
                    line(kind, src, first + i * row_step, 1, rows, i * a, 1, channels)
                # Down the columns: out[t, k1 * a + k2] = sum_i T[k1, i] rows[i * a + k2]
                for k2 in range(a):
                    line(kind, rows, k2, a, values, t * a * a + k2, a, channels)


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
    values = tiles.reshape((a * a * n_tiles, filters))
    pixels = out.reshape((n * height * width, filters))
    cols = np.empty((a * r, filters), dtype=out.dtype)
    tile = np.empty((r * r, filters), dtype=out.dtype)
    for s in range(n):
        for ty in range(tiles_h):
            for tx in range(tiles_w):
                t = tile_offset + (s * tiles_h + ty) * tiles_w + tx
                # Along the rows: cols[k1 * r + j] = sum_k2 T[j, k2] tiles[k1 * a + k2, t]
                for k1 in range(a):
                    line(kind, values, k1 * a * n_tiles + t, n_tiles, cols, k1 * r, 1, filters)
                # Down the columns: tile[i * r + j] = sum_k1 T[i, k1] cols[k1 * r + j]
                for j in range(r):
                    line(kind, cols, j, r, tile, j, r, filters)
                y0, x0 = ty * step, tx * step
                for i in range(min(r, height - y0)):
                    for j in range(min(r, width - x0)):
                        pixel = (s * height + y0 + i) * width + x0 + j
                        if accumulate:
                            for f in range(filters):
                                pixels[pixel, f] += tile[i * r + j, f]
                        else:
                            for f in range(filters):
                                pixels[pixel, f] = tile[i * r + j, f] + bias[f]
