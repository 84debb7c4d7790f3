"""The layers of the engine.

Each layer maps a batch to a batch and knows its own gradient:

``build(input_shape) -> output_shape``
    Checks that the layer fits an input of that per-sample shape and fixes
    its sizes; raises ``ValueError`` saying why when it does not fit.
``initialize(rng, dtype, init)``
    Draws the learnable parameters (layers without parameters do nothing).
``forward(X, training=False)``
    With ``training=True`` the layer keeps what its backward pass needs;
    without, it keeps nothing (the lean pass used for prediction).
``backward(grad_out, need_input_grad=True)``
    Takes dL/d(output), fills ``grads`` with dL/d(parameter) for every array
    of ``params`` (same order), and returns dL/d(input) (``None`` when
    ``need_input_grad`` is false).

A layer with a ``workspace`` (:class:`~skcnn._conv.Workspace`) returns, in
training, arrays it reuses: the output of ``forward(X, training=True)`` and
the result of ``backward`` hold until the layer's next training call, as
long as a network needs them. Prediction (``training=False``) always returns
new arrays.

Spatial layers work on channels-last batches ``(n, height, width,
channels)``; a 1-D signal is an image of height 1.
"""

from functools import partial
from itertools import product

import numpy as np

from ._conv import (
    CONV_ALGORITHMS,
    FRESH,
    Workspace,
    column_sums,
    output_length,
    padding_amounts,
    pooled_im2col_backward,
    pooled_im2col_forward,
    resolve_algorithm,
    window_slice,
)


def _shape_str(shape):
    return "x".join(str(s) for s in shape)


class Layer:
    """A layer without parameters; subclasses override what they need."""

    input_shape = None
    output_shape = None
    #: Scratch arrays the layer reuses between training batches, if any
    #: (a :class:`~skcnn._conv.Workspace`).
    workspace = None
    #: Whether training treats every sample on its own, so that a batch may
    #: be split into shards that run apart (see :class:`~skcnn._network.DataParallel`).
    per_sample = True

    @property
    def params(self):
        return []

    @property
    def grads(self):
        return []

    @property
    def buffers(self):
        """State that training updates but no gradient does (running averages)."""
        return []

    def build(self, input_shape):
        self.input_shape = self.output_shape = tuple(input_shape)
        return self.output_shape

    def initialize(self, rng, dtype, init):
        pass

    def __str__(self):
        return repr(self)


def _init_limit(init, fan_in, fan_out):
    """Bound of the uniform initialization: He for ReLU nets, or Glorot."""
    if init == "he":
        return np.sqrt(6.0 / fan_in)
    return np.sqrt(6.0 / (fan_in + fan_out))


class _WeightedLayer(Layer):
    """A layer with ``weights`` and ``bias``, and their gradients after backward."""

    weights = bias = grad_weights = grad_bias = None

    @property
    def params(self):
        return [self.weights, self.bias]

    @property
    def grads(self):
        return [self.grad_weights, self.grad_bias]


class _SpatialMixin:
    """Shared bookkeeping of layers that slide a window over height and width."""

    def _build_window(self, input_shape, window, stride, padding, what):
        if len(input_shape) != 3:
            raise ValueError(
                f"it needs (height, width, channels) inputs, got a flat input of size "
                f"{input_shape[0]}; put it before the first dense layer"
            )
        height, width, channels = input_shape
        self._pads = [
            padding_amounts(size, k, s, padding)
            for size, k, s in zip((height, width), window, stride)
        ]
        padded = [size + sum(p) for size, p in zip((height, width), self._pads)]
        if padded[0] < window[0] or padded[1] < window[1]:
            raise ValueError(
                f"its {_shape_str(window)} {what} is larger than the "
                f"{_shape_str((height, width))} input"
                + (" after 'valid' padding" if padding == "valid" else "")
                + f"; use a smaller {what}"
                + (" or padding='same'" if padding == "valid" else "")
            )
        self._padded_shape = (padded[0], padded[1], channels)
        self.input_shape = tuple(input_shape)
        return tuple(output_length(p, k, s) for p, k, s in zip(padded, window, stride))

    def _pad(self, X, value=0.0):
        if not any(any(p) for p in self._pads):
            return X
        return np.pad(X, [(0, 0), *self._pads, (0, 0)], constant_values=value)

    def _crop(self, grad_x_pad):
        (top, bottom), (left, right) = self._pads
        height, width = self.input_shape[:2]
        return grad_x_pad[:, top : top + height, left : left + width, :]


class Conv2D(_SpatialMixin, _WeightedLayer):
    """Convolution: cross-correlation of learned filters with the input.

    Every filter spans all input channels; the layer "tries every feature
    in every position" and writes one output channel per filter.

    Parameters
    ----------
    filters : int
        Number of filters (output channels).
    kernel_size : tuple of int (height, width)
        Pixels per filter along each spatial axis.
    stride : tuple of int (height, width), default=(1, 1)
    padding : {"valid", "same"}, default="same"
    algorithm : {"auto", "im2col", "scipy", "fft"}, default="auto"
        Which kernel of :mod:`skcnn._conv` computes the correlation.

    Attributes
    ----------
    weights : ndarray of shape (kernel_height, kernel_width, channels, filters)
    bias : ndarray of shape (filters,)
    """

    def __init__(self, filters, kernel_size, stride=(1, 1), padding="same", algorithm="auto"):
        self.filters = filters
        self.kernel_size = tuple(kernel_size)
        self.stride = tuple(stride)
        self.padding = padding
        self.algorithm = algorithm
        resolve_algorithm(algorithm)  # a clear error for an unknown name, now

    def build(self, input_shape):
        out_h, out_w = self._build_window(
            input_shape, self.kernel_size, self.stride, self.padding, "kernel"
        )
        self.output_shape = (out_h, out_w, self.filters)
        weights_shape = (*self.kernel_size, input_shape[2], self.filters)
        self.algorithm_ = resolve_algorithm(
            self.algorithm, self._padded_shape, weights_shape, self.stride
        )
        self._forward, self._backward = CONV_ALGORITHMS[self.algorithm_]
        return self.output_shape

    def initialize(self, rng, dtype, init):
        kh, kw = self.kernel_size
        channels = self.input_shape[2]
        fan_in, fan_out = kh * kw * channels, kh * kw * self.filters
        limit = _init_limit(init, fan_in, fan_out)
        shape = (kh, kw, channels, self.filters)
        self.weights = rng.uniform(-limit, limit, size=shape).astype(dtype)
        self.bias = np.zeros(self.filters, dtype=dtype)

    def forward(self, X, training=False):
        x_pad = self._pad(X)
        out, self._saved = self._forward(x_pad, self.weights, self.bias, self.stride, training)
        return out

    def backward(self, grad_out, need_input_grad=True):
        grad_x_pad, self.grad_weights, self.grad_bias = self._backward(
            grad_out,
            self._saved,
            self.weights,
            self.stride,
            (len(grad_out), *self._padded_shape),
            need_input_grad,
        )
        self._saved = None
        return None if grad_x_pad is None else self._crop(grad_x_pad)

    def __repr__(self):
        # The algorithm shows once built, where it is not the usual im2col.
        algorithm = getattr(self, "algorithm_", "im2col")
        return (
            f"Conv2D(filters={self.filters}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding!r}"
            + ("" if algorithm == "im2col" else f", algorithm={algorithm!r}")
            + ")"
        )


class _Pool2D(_SpatialMixin, Layer):
    """What max and average pooling share: the window, its stride and its positions."""

    def __init__(self, pool_size, stride, padding="valid"):
        self.pool_size = tuple(pool_size)
        self.stride = tuple(stride)
        self.padding = padding

    def build(self, input_shape):
        out_h, out_w = self._build_window(
            input_shape, self.pool_size, self.stride, self.padding, "pooling window"
        )
        self.output_shape = (out_h, out_w, input_shape[2])
        return self.output_shape

    def _offsets(self):
        """(row slice, column slice) of every position in the window, in raster order."""
        (ph, pw), (sh, sw) = self.pool_size, self.stride
        out_h, out_w = self.output_shape[:2]
        for i, j in product(range(ph), range(pw)):
            yield window_slice(i, out_h, sh), window_slice(j, out_w, sw)

    def __repr__(self):
        return (
            f"{type(self).__name__}(pool_size={self.pool_size}, stride={self.stride}, "
            f"padding={self.padding!r})"
        )


class MaxPool2D(_Pool2D):
    """Max pooling: keep the largest value of every window.

    Parameters
    ----------
    pool_size : tuple of int (height, width)
        Window size.
    stride : tuple of int (height, width)
        Step between windows.
    padding : {"valid", "same"}, default="valid"
        ``"same"`` pads with ``-inf`` so that every input takes part and the
        output has ``ceil(size / stride)`` positions per axis.

    Notes
    -----
    The gradient of every window goes to one input only: the first maximum
    in raster order when several inputs tie.
    """

    def forward(self, X, training=False):
        x_pad = self._pad(X, value=-np.inf)
        windows = [x_pad[:, rows, cols] for rows, cols in self._offsets()]
        out = windows[0].copy() if len(windows) == 1 else np.maximum(windows[0], windows[1])
        for window in windows[2:]:
            np.maximum(out, window, out=out)
        # The backward pass finds the maxima again: cheaper than tracking them here.
        self._x_pad, self._out = (x_pad, out) if training else (None, None)
        return out

    def backward(self, grad_out, need_input_grad=True):
        if not need_input_grad:
            return None
        x_pad, out = self._x_pad, self._out
        self._x_pad = self._out = None
        if self.stride == self.pool_size:
            return self._crop(self._tiled_backward(grad_out, x_pad, out))
        return self._crop(self._general_backward(grad_out, x_pad, out))

    def _tiled_backward(self, grad_out, x_pad, out):
        """Non-overlapping windows: whole-array operations on a 6-D view of them."""
        (ph, pw), (out_h, out_w) = self.pool_size, self.output_shape[:2]
        n, channels = len(x_pad), x_pad.shape[3]
        grad_x_pad = np.empty_like(x_pad)
        covered_h, covered_w = out_h * ph, out_w * pw
        if (covered_h, covered_w) != x_pad.shape[1:3]:  # rows or columns no window sees
            grad_x_pad[:, covered_h:] = 0
            grad_x_pad[:, :covered_h, covered_w:] = 0
        shape = (n, out_h, ph, out_w, pw, channels)
        # Window positions first: (ph, pw, n, out_h, out_w, channels) views.
        windows = x_pad[:, :covered_h, :covered_w].reshape(shape).transpose(2, 4, 0, 1, 3, 5)
        is_max = np.equal(windows, out, out=np.empty(windows.shape, dtype=bool))
        if np.count_nonzero(is_max) != out.size:
            # Ties (common: flat image backgrounds): keep the first in raster order.
            positions = is_max.reshape(ph * pw, *out.shape)
            seen = positions[0].copy()
            for k in range(1, ph * pw):
                np.greater(positions[k], seen, out=positions[k])  # a maximum not seen before
                seen |= positions[k]
        # dL/dx = dL/dout at the window's maximum, 0 elsewhere
        grad_windows = grad_x_pad[:, :covered_h, :covered_w].reshape(shape)
        np.multiply(grad_out, is_max, out=grad_windows.transpose(2, 4, 0, 1, 3, 5))
        return grad_x_pad

    def _general_backward(self, grad_out, x_pad, out):
        """Any windows: one pass per window position, accumulating overlaps."""
        grad_x_pad = np.zeros_like(x_pad)
        tiled = self.stride == self.pool_size  # every input in at most one window
        offsets = list(self._offsets())
        taken = None
        for k, (rows, cols) in enumerate(offsets):
            # dL/dx = dL/dout at the window's maximum, 0 elsewhere; on ties the
            # first maximum in raster order takes it all.
            is_max = x_pad[:, rows, cols] == out
            if taken is None:
                taken = is_max
            else:
                np.greater(is_max, taken, out=is_max)  # a maximum not taken before
                if k < len(offsets) - 1:
                    taken |= is_max
            if tiled:
                np.multiply(grad_out, is_max, out=grad_x_pad[:, rows, cols])
            else:
                grad_x_pad[:, rows, cols] += grad_out * is_max
        return grad_x_pad


class ConvMaxPool2D(Layer):
    """A :class:`Conv2D` and the :class:`MaxPool2D` after it, computed as one step.

    Not a layer of the architecture: the :class:`~skcnn._network.Network`
    runs this step in place of the conv, the pooling and, when there is one,
    the :class:`BatchNorm` between them, when the pooling windows tile the conv
    output (stride equal to the window, no padding; with batch normalization,
    every conv output in a window) and the conv uses im2col (see
    :func:`skcnn._conv.pooled_im2col_forward`). The weights, their
    gradients, the running statistics and the output stay those of the layers
    it holds.

    Parameters
    ----------
    conv : Conv2D
        Built.
    pool : MaxPool2D
        Built, on the output of ``conv`` (or of ``norm``).
    norm : BatchNorm or None, default=None
        Built, on the output of ``conv``.
    """

    def __init__(self, conv, pool, norm=None):
        self.conv, self.pool, self.norm = conv, pool, norm
        self.input_shape, self.output_shape = conv.input_shape, pool.output_shape
        self.per_sample = norm is None
        self.workspace = Workspace()

    @staticmethod
    def fits(conv, pool, norm=None):
        """Whether the layers can run as one step."""
        if not (
            isinstance(conv, Conv2D)
            and type(pool) is MaxPool2D
            and (norm is None or type(norm) is BatchNorm)
            and getattr(conv, "algorithm_", None) == "im2col"
            and pool.stride == pool.pool_size
            and not any(any(pads) for pads in pool._pads)
        ):
            return False
        # Batch statistics take every conv output, also those no window reads.
        covered = [n * size for n, size in zip(pool.output_shape[:2], pool.pool_size)]
        return norm is None or covered == list(conv.output_shape[:2])

    def forward(self, X, training=False):
        conv, norm = self.conv, self.norm
        out, self._saved = pooled_im2col_forward(
            conv._pad(X),
            conv.weights,
            conv.bias,
            conv.stride,
            self.pool.pool_size,
            self.output_shape[:2],
            training,
            normalize=None if norm is None else partial(norm.forward, training=training),
            workspace=self.workspace if training else FRESH,
        )
        return out

    def backward(self, grad_out, need_input_grad=True):
        conv, norm = self.conv, self.norm
        grad_x_pad, conv.grad_weights, conv.grad_bias = pooled_im2col_backward(
            grad_out,
            self._saved,
            conv.weights,
            conv.stride,
            self.pool.pool_size,
            (len(grad_out), *conv._padded_shape),
            need_input_grad,
            normalize_backward=None if norm is None else norm.backward,
            workspace=self.workspace,
        )
        self._saved = None
        return None if grad_x_pad is None else conv._crop(grad_x_pad)

    def __repr__(self):
        layers = [self.conv, self.pool] if self.norm is None else [self.conv, self.norm, self.pool]
        return f"ConvMaxPool2D({', '.join(map(str, layers))})"


class AvgPool2D(_Pool2D):
    """Average pooling: the mean of every window.

    Parameters
    ----------
    pool_size : tuple of int (height, width)
    stride : tuple of int (height, width)
    padding : {"valid", "same"}, default="valid"
        With ``"same"``, padded positions do not count: a window averages
        only the inputs it covers.
    """

    def build(self, input_shape):
        super().build(input_shape)
        # How many real inputs every window covers (fewer at 'same' borders).
        ones = self._pad(np.ones((1, *input_shape[:2], 1)))
        self._counts = self._window_sum(ones)
        return self.output_shape

    def _window_sum(self, x_pad):
        total = None
        for rows, cols in self._offsets():
            total = x_pad[:, rows, cols].copy() if total is None else total + x_pad[:, rows, cols]
        return total

    def forward(self, X, training=False):
        out = self._window_sum(self._pad(X))
        out /= self._counts.astype(out.dtype)
        return out

    def backward(self, grad_out, need_input_grad=True):
        if not need_input_grad:
            return None
        # dL/dx = sum over the windows holding x of dL/dout / count
        share = grad_out / self._counts.astype(grad_out.dtype)
        grad_x_pad = np.zeros((len(grad_out), *self._padded_shape), dtype=grad_out.dtype)
        for rows, cols in self._offsets():
            grad_x_pad[:, rows, cols] += share
        return self._crop(grad_x_pad)


class GlobalAvgPool2D(Layer):
    """The mean of every channel over height and width: ``(n, h, w, c) -> (n, c)``."""

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError("it needs (height, width, channels) inputs, got a flat input")
        self.input_shape = tuple(input_shape)
        self.output_shape = (input_shape[2],)
        return self.output_shape

    def forward(self, X, training=False):
        return X.mean(axis=(1, 2))

    def backward(self, grad_out, need_input_grad=True):
        if not need_input_grad:
            return None
        height, width, _ = self.input_shape
        # dL/dx = dL/dout / (h w), the same at every position
        share = grad_out / (height * width)
        return np.broadcast_to(
            share[:, np.newaxis, np.newaxis, :], (len(grad_out), *self.input_shape)
        ).copy()

    def __repr__(self):
        return "GlobalAvgPool2D()"


class Dropout(Layer):
    """Dropout: while training, zero each input with probability ``rate``.

    The kept inputs are scaled by ``1 / (1 - rate)``, so prediction (which
    drops nothing) sees the same expected values.

    Parameters
    ----------
    rate : float in [0, 1)
    """

    #: The scale of the next training pass, drawn beforehand (see :meth:`draw`),
    #: or ``None``: the pass draws its own.
    drawn = None

    def __init__(self, rate):
        self.rate = rate
        self._rng = None

    def initialize(self, rng, dtype, init):
        self.seed(rng)

    def seed(self, rng):
        """Draw this layer's own random stream from ``rng``."""
        self._rng = np.random.RandomState(rng.randint(np.iinfo(np.int32).max))

    def get_rng_state(self):
        """The state of this layer's random stream: a tuple of plain values."""
        return self._rng.get_state()

    def set_rng_state(self, state):
        """Go on with the random stream of :meth:`get_rng_state`."""
        self._rng = np.random.RandomState()
        self._rng.set_state(state)

    def draw(self, shape, dtype):
        """What a training pass multiplies inputs of ``shape`` with: kept / (1 - rate).

        From this layer's stream, in the order of the samples: drawn for a
        whole batch, then split into shards of samples (as
        :class:`~skcnn._network.DataParallel` does, into :attr:`drawn`), the
        shards hold the rows the whole batch would have drawn.
        """
        keep = self._rng.random_sample(shape) >= self.rate
        return keep.astype(dtype) / dtype.type(1 - self.rate)

    def forward(self, X, training=False):
        if not training or self.rate == 0:
            self._scale = None
            return X
        self._scale = self.draw(X.shape, X.dtype) if self.drawn is None else self.drawn
        self.drawn = None
        return X * self._scale

    def backward(self, grad_out, need_input_grad=True):
        if not need_input_grad:
            return None
        # dL/dx = dL/dout * mask / (1 - rate)
        grad_in = grad_out if self._scale is None else grad_out * self._scale
        self._scale = None
        return grad_in

    def __repr__(self):
        return f"Dropout(rate={self.rate})"


class BatchNorm(_WeightedLayer):
    """Batch normalization: standardize every channel, then scale and shift it.

    Training standardizes each channel (the last axis: the feature maps of
    images, the units of flat inputs) with the mean and variance of the batch,
    and keeps running averages of both; prediction uses the running averages,
    so a sample's output does not depend on its batch.

    Parameters
    ----------
    momentum : float, default=0.1
        Weight of the newest batch in the running averages.
    epsilon : float, default=1e-5
        Added to the variance, so constant channels stay finite.

    Attributes
    ----------
    weights : ndarray of shape (channels,)
        The learned scale (gamma), initialized to 1.
    bias : ndarray of shape (channels,)
        The learned shift (beta), initialized to 0.
    running_mean, running_var : ndarray of shape (channels,)
        What prediction standardizes with (the variance unbiased).

    Examples
    --------
    >>> import numpy as np
    >>> layer = BatchNorm()
    >>> layer.build((4, 4, 3))
    (4, 4, 3)
    >>> layer.initialize(np.random.RandomState(0), np.float64, "he")
    >>> out = layer.forward(np.random.RandomState(1).normal(5, 2, (8, 4, 4, 3)), training=True)
    >>> np.allclose(out.mean(axis=(0, 1, 2)), 0), np.allclose(out.std(axis=(0, 1, 2)), 1)
    (True, True)
    """

    running_mean = running_var = None
    per_sample = False  # the statistics of the whole batch

    def __init__(self, momentum=0.1, epsilon=1e-5):
        self.momentum = momentum
        self.epsilon = epsilon

    @property
    def buffers(self):
        return [self.running_mean, self.running_var]

    @buffers.setter
    def buffers(self, values):
        self.running_mean, self.running_var = values

    def initialize(self, rng, dtype, init):
        channels = self.input_shape[-1]
        self.weights = np.ones(channels, dtype=dtype)
        self.bias = np.zeros(channels, dtype=dtype)
        self.running_mean = np.zeros(channels, dtype=dtype)
        self.running_var = np.ones(channels, dtype=dtype)

    def forward(self, X, training=False):
        if not training:
            # y = (x - mean) / sqrt(var + eps) * gamma + beta, as one scale and shift
            scale = self.weights / np.sqrt(self.running_var + self.epsilon)
            out = X * scale
            out += self.bias - self.running_mean * scale
            return out
        channels = X.shape[-1]
        n = X.size // channels
        mean = column_sums(X.reshape(-1, channels)) / n
        x_hat = X - mean  # centred, standardized in place below
        centred = x_hat.reshape(-1, channels)
        var = np.einsum("ij,ij->j", centred, centred) / n  # no squared temporary
        self._inv_std = 1 / np.sqrt(var + self.epsilon)
        x_hat *= self._inv_std
        self._x_hat = x_hat
        momentum = X.dtype.type(self.momentum)
        self.running_mean *= 1 - momentum
        self.running_mean += momentum * mean
        self.running_var *= 1 - momentum
        self.running_var += momentum * var * (n / max(n - 1, 1))
        out = x_hat * self.weights
        out += self.bias
        return out

    def backward(self, grad_out, need_input_grad=True):
        channels = grad_out.shape[-1]
        grad_rows = grad_out.reshape(-1, channels)
        x_hat = self._x_hat.reshape(-1, channels)
        # dL/dgamma = sum dL/dy * x_hat ;  dL/dbeta = sum dL/dy
        self.grad_weights = np.einsum("ij,ij->j", grad_rows, x_hat)
        self.grad_bias = column_sums(grad_rows)
        grad_in = None
        if need_input_grad:
            # dL/dx = gamma / std * (dL/dy - mean(dL/dy) - x_hat * mean(dL/dy * x_hat))
            n = len(grad_rows)
            grad_in = grad_out - self.grad_bias / n
            # x_hat is not needed after this: it holds the product, no temporary.
            grad_in -= np.multiply(self._x_hat, self.grad_weights / n, out=self._x_hat)
            grad_in *= self.weights * self._inv_std
        self._x_hat = self._inv_std = None
        return grad_in

    def __repr__(self):
        return "BatchNorm()"


class ReLU(Layer):
    """Rectified linear unit, ``max(x, 0)``, element-wise."""

    def __init__(self):
        self.workspace = Workspace()

    def forward(self, X, training=False):
        if not training:
            self._active = None
            return np.maximum(X, 0)
        out = np.maximum(X, 0, out=self.workspace.empty("out", X.shape, X.dtype))
        self._active = np.greater(out, 0, out=self.workspace.empty("active", X.shape, bool))
        return out

    def backward(self, grad_out, need_input_grad=True):
        if not need_input_grad:
            return None
        # dL/dx = dL/dout where x > 0, else 0
        grad_in = self.workspace.empty("grad_in", grad_out.shape, grad_out.dtype)
        np.multiply(grad_out, self._active, out=grad_in)
        self._active = None
        return grad_in

    def __repr__(self):
        return "ReLU()"


class Flatten(Layer):
    """Reshape ``(n, height, width, channels)`` into ``(n, features)``."""

    def build(self, input_shape):
        self.input_shape = tuple(input_shape)
        self.output_shape = (int(np.prod(input_shape)),)
        return self.output_shape

    def forward(self, X, training=False):
        return X.reshape(len(X), -1)

    def backward(self, grad_out, need_input_grad=True):
        if not need_input_grad:
            return None
        return grad_out.reshape(len(grad_out), *self.input_shape)

    def __repr__(self):
        return "Flatten()"


class Dense(_WeightedLayer):
    """Fully connected layer: every output sees every input.

    Parameters
    ----------
    units : int
        Number of outputs (neurons).

    Attributes
    ----------
    weights : ndarray of shape (n_inputs, units)
    bias : ndarray of shape (units,)
    """

    def __init__(self, units):
        self.units = units

    def build(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(f"it needs flat inputs, got shape {_shape_str(input_shape)}")
        self.input_shape = tuple(input_shape)
        self.output_shape = (self.units,)
        return self.output_shape

    def initialize(self, rng, dtype, init):
        fan_in = self.input_shape[0]
        limit = _init_limit(init, fan_in, self.units)
        self.weights = rng.uniform(-limit, limit, size=(fan_in, self.units)).astype(dtype)
        self.bias = np.zeros(self.units, dtype=dtype)

    def forward(self, X, training=False):
        self._X = X if training else None
        out = X @ self.weights
        out += self.bias
        return out

    def backward(self, grad_out, need_input_grad=True):
        # dL/dW = X^T . dL/dout ;  dL/db = column sums ;  dL/dX = dL/dout . W^T
        self.grad_weights = self._X.T @ grad_out
        self.grad_bias = grad_out.sum(axis=0)
        self._X = None
        return grad_out @ self.weights.T if need_input_grad else None

    def __repr__(self):
        return f"Dense(units={self.units})"


class SoftmaxCrossEntropy:
    """Softmax over the class scores fused with the cross-entropy loss.

    ``forward(logits, y, sample_weight=None)`` returns the (weighted) mean
    loss of the batch, with ``y`` the class indices; ``backward()`` returns
    dL/dlogits = w (softmax - onehot) / sum(w), which is what fusing the two
    buys: no division by tiny probabilities.
    """

    def forward(self, logits, y, sample_weight=None):
        log_proba = log_softmax(logits)
        self._proba, self._y, self._weight = np.exp(log_proba), y, sample_weight
        losses = -log_proba[np.arange(len(y)), y]
        if sample_weight is None:
            return losses.mean()
        return np.dot(losses, sample_weight) / sample_weight.sum()

    def backward(self):
        grad = self._proba
        grad[np.arange(len(self._y)), self._y] -= 1
        if self._weight is None:
            grad /= len(self._y)
        else:
            grad *= (self._weight / self._weight.sum())[:, np.newaxis]
        self._proba = self._y = self._weight = None
        return grad

    def __repr__(self):
        return "SoftmaxCrossEntropy()"


class SquaredError:
    """Half the mean squared error, the loss of regression (as in MLPRegressor).

    ``forward(pred, y, sample_weight=None)`` with ``pred`` and ``y`` of shape
    ``(n, n_outputs)`` returns ``sum_i w_i ||pred_i - y_i||^2 / (2 sum_i w_i)``
    divided by ``n_outputs``; ``backward()`` returns dL/dpred.
    """

    def forward(self, pred, y, sample_weight=None):
        self._diff, self._weight = pred - y, sample_weight
        per_sample = np.square(self._diff).mean(axis=1) / 2
        if sample_weight is None:
            return per_sample.mean()
        return np.dot(per_sample, sample_weight) / sample_weight.sum()

    def backward(self):
        n, n_outputs = self._diff.shape
        # dL/dpred = w (pred - y) / (sum(w) n_outputs)
        if self._weight is None:
            grad = self._diff / (n * n_outputs)
        else:
            grad = self._diff * (self._weight / (self._weight.sum() * n_outputs))[:, np.newaxis]
        self._diff = self._weight = None
        return grad

    def __repr__(self):
        return "SquaredError()"


def log_softmax(logits):
    """Row-wise ``log(softmax(logits))``, finite for any finite logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return shifted
