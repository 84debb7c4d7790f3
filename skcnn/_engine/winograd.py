"""Winograd convolutions of 3x3 kernels, stride 1: fewer multiplies than im2col.

F(m x m, 3x3) computes an ``m x m`` tile of the output from an ``a x a``
tile of the input, ``a = m + 2``, with ``a * a`` multiplies per channel and
filter instead of ``9 * m * m`` (Lavin and Gray, "Fast Algorithms for
Convolutional Neural Networks", 2016)::

    U = G g G^T                    the filters, (a, a) per channel and filter
    V = B^T d B                    every input tile, (a, a) per channel
    M[k] = V[k] @ U[k]             one matrix product per position k of the tile
    Y = A^T M A + bias             the output tile, (m, m) per filter

The products over the channels are BLAS's; the tile transforms are the
compiled kernels of :mod:`skcnn._engine.compiled` (numba, imported on first
use). The backward pass is the adjoint of the same steps, in the Winograd
domain: ``dM = A dY A^T``, ``dU[k] = V[k]^T @ dM[k]``, ``dg = G^T dU G``, and
``dV[k] = dM[k] @ U[k]^T``, ``dd = B dV B^T`` added up over the overlapping
input tiles.

``"winograd2x2"`` is F(2x2, 3x3): its float32 results are as close to the
exact ones as im2col's (relative errors under 1e-6). ``"winograd4x4"`` is
F(4x4, 3x3): 2.25 multiplies a term where im2col has 9, with float32
relative errors near 1e-5 (the transforms' entries grow to 8 and 1/24).
In float64 both agree with :func:`scipy.signal.correlate` to 1e-10.

The batch runs in blocks of whole samples, a number of tiles each
(:data:`~skcnn._engine.tuning.WINOGRAD_BLOCK_TILES`): each block is
transformed, multiplied and transformed back while it is in cache, and the
blocks are shared among threads, BLAS on one thread in each (one parallel
region per step, no switching between thread pools). The blocks depend on
the shapes alone, and the weight gradients of the blocks add up in block
order: the same result on any number of threads, bit for bit.
"""

import contextvars
import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import tuning

#: Output tile sizes of the algorithms, by name.
WINOGRAD_TILES = {"winograd2x2": 2, "winograd4x4": 4}

_INSTALL = 'pip install "skcnn[numba]"'


def covers(weights_shape, stride, dilation):
    """Whether a Winograd algorithm computes this convolution: 3x3, stride 1, no dilation."""
    return (
        tuple(weights_shape[:2]) == (3, 3)
        and tuple(stride) == (1, 1)
        and tuple(dilation)
        == (
            1,
            1,
        )
    )


def accelerator_available():
    """Whether the compiled kernels can run here: numba imports."""
    try:
        _compiled()
    except ImportError:
        return False
    return True


@functools.cache
def _compiled():
    from . import compiled

    return compiled


def require_accelerator(algorithm):
    """A ValueError that says how to install numba, if ``algorithm`` needs it and it is absent."""
    if algorithm in WINOGRAD_TILES and not accelerator_available():
        raise ValueError(
            f"conv_algorithm={algorithm!r} runs on the compiled accelerator, which needs "
            f"numba: {_INSTALL}; or choose conv_algorithm='auto', which runs without it."
        )


# --- the transforms ------------------------------------------------------------

# Interpolation points 0, 1, -1 (and 2, -2 for F(4x4, 3x3)) and infinity.
_MATRICES = {
    2: (
        [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
        [[1, 0, 0], [1 / 2, 1 / 2, 1 / 2], [1 / 2, -1 / 2, 1 / 2], [0, 0, 1]],
        [[1, 1, 1, 0], [0, 1, -1, -1]],
    ),
    4: (
        [
            [4, 0, -5, 0, 1, 0],
            [0, -4, -4, 1, 1, 0],
            [0, 4, -4, -1, 1, 0],
            [0, -2, -1, 2, 1, 0],
            [0, 2, -1, -2, 1, 0],
            [0, 4, 0, -5, 0, 1],
        ],
        [
            [1 / 4, 0, 0],
            [-1 / 6, -1 / 6, -1 / 6],
            [-1 / 6, 1 / 6, -1 / 6],
            [1 / 24, 1 / 12, 1 / 6],
            [1 / 24, -1 / 12, 1 / 6],
            [0, 0, 1],
        ],
        [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
    ),
}


def transforms(m):
    """``(B^T, G, A^T)`` of F(m x m, 3x3), in float64.

    >>> B_T, G, A_T = transforms(2)
    >>> d, g = np.arange(4.0), np.array([1.0, -2.0, 3.0])
    >>> A_T @ ((G @ g) * (B_T @ d)), np.correlate(d, g, "valid")
    (array([4., 6.]), array([4., 6.]))
    """
    return tuple(np.array(matrix, dtype=np.float64) for matrix in _MATRICES[m])


def _kinds(m):
    """The compiled 1-D transforms of F(m x m, 3x3): B^T, A^T, A and B."""
    compiled = _compiled()
    if m == 4:
        return compiled.BT4, compiled.AT4, compiled.A4, compiled.B4
    return compiled.BT2, compiled.AT2, compiled.A2, compiled.B2


def _both_sides(T, values):
    """``T . values[:, :, q] . T^T`` for every ``q``: ``values`` of shape (r, r, ...), in float64.

    Two matrix products over all channels and filters at once (an einsum of
    the three took milliseconds a layer, at every step).
    """
    r, a = values.shape[0], T.shape[0]
    rest = values.shape[2:]
    flat = values.astype(np.float64).reshape(r, r, -1)
    rows = np.matmul(T, flat)  # (r, a, q): T applied along the second axis
    both = np.matmul(T, rows.transpose(1, 0, 2))  # (a, a, q): and along the first
    return both.transpose(1, 0, 2).reshape(a, a, *rest)


def filter_transform(weights, m, dtype=None):
    """``U = G g G^T`` of every channel and filter: ndarray of shape (a * a, channels, filters).

    Computed in float64 and rounded once to ``dtype`` (by default the weights').
    """
    _, G, _ = transforms(m)
    a = m + 2
    U = _both_sides(G, weights)
    return np.ascontiguousarray(U.reshape(a * a, *weights.shape[2:]), dtype=dtype or weights.dtype)


def _filter_gradient(grad_U, m, dtype):
    """``dg = G^T dU G``: dL/d(weights) from dL/dU of shape (a * a, channels, filters)."""
    _, G, _ = transforms(m)
    a = m + 2
    grad = _both_sides(G.T, grad_U.reshape(a, a, *grad_U.shape[1:]))
    return np.ascontiguousarray(grad, dtype=dtype)


# --- blocks of samples, shared among threads -----------------------------------


def sample_blocks(n_samples, tiles_per_sample):
    """Bounds of the blocks of whole samples the batch runs in: the shapes decide, not threads.

    >>> sample_blocks(10, 64).tolist(), sample_blocks(3, 1000).tolist()
    ([0, 4, 8, 10], [0, 1, 2, 3])
    """
    size = max(1, round(tuning.WINOGRAD_BLOCK_TILES / tiles_per_sample))
    return np.append(np.arange(0, n_samples, size), n_samples)


@functools.cache
def _pool(n_workers):
    return ThreadPoolExecutor(n_workers, thread_name_prefix="skcnn-winograd")


def _map_blocks(function, bounds):
    """``function(start, stop)`` of every block, on as many threads as BLAS may use.

    With more than one thread, BLAS runs on one thread in each and every
    thread takes consecutive blocks; the results come back in block order.
    """
    from .parallel import _blas, available_threads, even_bounds

    n_blocks = len(bounds) - 1
    n_threads = min(available_threads(), n_blocks) if n_blocks > 1 else 1
    if n_threads == 1:
        return [function(bounds[b], bounds[b + 1]) for b in range(n_blocks)]

    def run(first, stop):
        return [function(bounds[b], bounds[b + 1]) for b in range(first, stop)]

    splits = even_bounds(n_blocks, n_threads)
    with _blas().limit(limits=1):
        pool = _pool(n_threads - 1)
        futures = [
            pool.submit(contextvars.copy_context().run, run, first, stop)
            for first, stop in zip(splits[1:-1], splits[2:])
        ]
        try:
            results = run(splits[0], splits[1])
        finally:
            for future in futures:  # no block left running on an error
                future.exception()
        for future in futures:
            results += future.result()
    return results


# --- the algorithm: forward and backward --------------------------------------


def _check_covers(weights, stride, dilation, m):
    if not covers(weights.shape, stride, dilation):
        raise ValueError(
            f"conv_algorithm='winograd{m}x{m}' computes 3x3 kernels with stride 1 and no "
            f"dilation; got kernel {weights.shape[:2]}, stride {tuple(stride)}, dilation "
            f"{tuple(dilation)}."
        )


def winograd_forward(x_pad, weights, bias, stride, keep, dilation=(1, 1), m=4):
    """The conv-algorithm forward pass (see :mod:`skcnn._engine.kernels`) with F(m x m, 3x3)."""
    _check_covers(weights, stride, dilation, m)
    compiled = _compiled()
    # Float32 weights on a float64 input compute in float64, as a matrix product does.
    dtype = np.result_type(x_pad.dtype, weights.dtype)
    x_pad = np.ascontiguousarray(x_pad, dtype=dtype)
    n, height, width, channels = x_pad.shape
    filters, a = weights.shape[3], m + 2
    out_h, out_w = height - 2, width - 2
    tiles_h, tiles_w = -(-out_h // m), -(-out_w // m)
    per_sample = tiles_h * tiles_w
    B_T, A_T, _, _ = _kinds(m)
    U = filter_transform(weights, m, dtype)
    bias = np.ascontiguousarray(bias, dtype=dtype)
    out = np.empty((n, out_h, out_w, filters), dtype=dtype)
    # Training keeps the transformed input tiles for the weight gradient.
    V_all = np.empty((a * a, n * per_sample, channels), dtype=dtype) if keep else None

    def block(start, stop):
        n_tiles = (stop - start) * per_sample
        if keep:
            V, offset = V_all, start * per_sample
        else:
            V, offset = np.empty((a * a, n_tiles, channels), dtype=dtype), 0
        compiled.tiles_in(x_pad[start:stop], B_T, m, tiles_h, tiles_w, V, offset)
        # M[k] = V[k] . U[k], for every position k of the tile
        M = np.matmul(V[:, offset : offset + n_tiles], U)
        compiled.tiles_out(M, A_T, m, tiles_h, tiles_w, 0, bias, out[start:stop], False)

    _map_blocks(block, sample_blocks(n, per_sample))
    return out, ((V_all, U) if keep else None)


def winograd_backward(
    grad_out, saved, weights, stride, x_pad_shape, need_input_grad, dilation=(1, 1), m=4
):
    """The conv-algorithm backward pass with F(m x m, 3x3), in the Winograd domain."""
    from .kernels import column_sums

    _check_covers(weights, stride, dilation, m)
    compiled = _compiled()
    V_all, U = saved
    dtype = U.dtype
    grad_out = np.ascontiguousarray(grad_out, dtype=dtype)
    n, out_h, out_w, filters = grad_out.shape
    channels, a = weights.shape[2], m + 2
    tiles_h, tiles_w = -(-out_h // m), -(-out_w // m)
    per_sample = tiles_h * tiles_w
    _, _, A, B = _kinds(m)
    grad_x_pad = np.empty(x_pad_shape, dtype=dtype) if need_input_grad else None
    U_T = np.ascontiguousarray(U.transpose(0, 2, 1))  # a view: 1.3x slower products
    no_bias = np.zeros(channels, dtype=dtype)

    def block(start, stop):
        first, n_tiles = start * per_sample, (stop - start) * per_sample
        grad_M = np.empty((a * a, n_tiles, filters), dtype=dtype)
        compiled.tiles_in(grad_out[start:stop], A, m, tiles_h, tiles_w, grad_M, 0)
        # dL/dU[k] = V[k]^T . dL/dM[k], this block's share
        grad_U = np.matmul(V_all[:, first : first + n_tiles].transpose(0, 2, 1), grad_M)
        if need_input_grad:
            grad_V = np.matmul(grad_M, U_T)
            grad_x = grad_x_pad[start:stop]
            grad_x.fill(0)
            compiled.tiles_out(grad_V, B, m, tiles_h, tiles_w, 0, no_bias, grad_x, True)
        return grad_U

    shares = _map_blocks(block, sample_blocks(n, per_sample))
    grad_U = shares[0]
    for share in shares[1:]:  # in block order, whichever thread ran which
        grad_U += share
    grad_weights = _filter_gradient(grad_U, m, dtype)
    grad_bias = column_sums(grad_out.reshape(-1, filters))
    return grad_x_pad, grad_weights, grad_bias


ALGORITHMS = {
    name: (
        functools.partial(winograd_forward, m=m),
        functools.partial(winograd_backward, m=m),
    )
    for name, m in WINOGRAD_TILES.items()
}
