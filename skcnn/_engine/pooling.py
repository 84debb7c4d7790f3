"""Pooling layers: windows reduced to their maximum or mean, and global pooling."""

import math
from itertools import product

import numpy as np

from .base import Layer, _SpatialMixin
from .kernels import accelerator, window_slice
from .specs import Size, padding_argument, register

#: The arguments of max and average pooling specs.
POOLING_ARGUMENTS = (
    Size("pool_size", help="the window"),
    Size(
        "stride",
        default=lambda values, context: values["pool_size"],
        default_doc="the window",
        help="step between windows",
    ),
    padding_argument(),
)


class _Pool2D(_SpatialMixin, Layer):
    """What max and average pooling share: the window, its stride and its positions."""

    arguments = POOLING_ARGUMENTS

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


@register
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

    kind = "maxpool"
    aliases = ("pool", "maxpool2d")
    examples = ("maxpool:2", "maxpool:3:2", "maxpool:2x1")

    def forward(self, X, training=False):
        x_pad = self._pad(X, value=-np.inf)
        compiled = accelerator()
        if compiled is not None and self.stride == self.pool_size:
            # One pass, that notes the maximum of each window for the backward pass.
            x_pad = np.ascontiguousarray(x_pad)
            shape = (len(x_pad), *self.output_shape)
            out, taken = np.empty(shape, dtype=x_pad.dtype), np.empty(shape, dtype=np.uint8)
            compiled.tiled_max_pool(x_pad, *self.pool_size, out, taken)
            self._x_pad, self._out = (x_pad.shape, taken) if training else (None, None)
            return out
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
        if isinstance(x_pad, tuple):  # the compiled forward: the shape, and where the maxima are
            return self._crop(self._compiled_backward(grad_out, x_pad, out))
        if self.stride == self.pool_size:
            return self._crop(self._tiled_backward(grad_out, x_pad, out))
        return self._crop(self._general_backward(grad_out, x_pad, out))

    def _tiled_backward(self, grad_out, x_pad, out):
        """Non-overlapping windows: whole-array operations on a 6-D view of them."""
        (ph, pw), (out_h, out_w) = self.pool_size, self.output_shape[:2]
        n, channels = len(x_pad), x_pad.shape[3]
        grad_x_pad = self._tiled_grad(x_pad.shape, x_pad.dtype)
        covered_h, covered_w = out_h * ph, out_w * pw
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

    def _compiled_backward(self, grad_out, x_pad_shape, taken):
        """The tiled windows' gradients by the compiled kernel, from the positions taken."""
        grad_x_pad = self._tiled_grad(x_pad_shape, grad_out.dtype)
        compiled = accelerator()
        compiled.tiled_max_pool_backward(
            np.ascontiguousarray(grad_out), taken, *self.pool_size, grad_x_pad
        )
        return grad_x_pad

    def _tiled_grad(self, x_pad_shape, dtype):
        """dL/dx_pad of tiled windows to fill: zeros where no window sees, the rest unset."""
        (ph, pw), (out_h, out_w) = self.pool_size, self.output_shape[:2]
        grad_x_pad = np.empty(x_pad_shape, dtype=dtype)
        covered_h, covered_w = out_h * ph, out_w * pw
        if (covered_h, covered_w) != x_pad_shape[1:3]:  # rows or columns no window sees
            grad_x_pad[:, covered_h:] = 0
            grad_x_pad[:, :covered_h, covered_w:] = 0
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


@register
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

    kind = "avgpool"
    aliases = ("avgpool2d",)
    examples = ("avgpool:2",)

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


class _GlobalPool(Layer):
    """What global pooling shares: one number per channel, ``(n, h, w, c) -> (n, c)``."""

    flat_output = True

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError("it needs (height, width, channels) inputs, got a flat input")
        self.input_shape = tuple(input_shape)
        self.output_shape = (input_shape[2],)
        return self.output_shape

    def __repr__(self):
        return f"{type(self).__name__}()"


@register
class GlobalAvgPool2D(_GlobalPool):
    """The mean of every channel over all positions: one number per channel."""

    kind = "globalavgpool"
    aliases = ("gap", "globalaveragepool")

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


@register
class GlobalMaxPool2D(_GlobalPool):
    """The largest value of every channel over all positions: one number per channel.

    The gradient of a channel goes to one position: the first maximum in
    raster order when several tie.
    """

    kind = "globalmaxpool"
    aliases = ("gmp", "globalmaximumpool")

    def forward(self, X, training=False):
        flat = X.reshape(len(X), -1, X.shape[-1])
        # argmax takes the first maximum: the position the gradient goes to
        self._argmax = flat.argmax(axis=1) if training else None
        return flat.max(axis=1)

    def backward(self, grad_out, need_input_grad=True):
        if not need_input_grad:
            return None
        n, channels = grad_out.shape
        # dL/dx = dL/dout at the channel's maximum, 0 elsewhere
        grad_in = np.zeros((n, math.prod(self.input_shape[:2]), channels), dtype=grad_out.dtype)
        grad_in[np.arange(n)[:, np.newaxis], self._argmax, np.arange(channels)] = grad_out
        self._argmax = None
        return grad_in.reshape(n, *self.input_shape)
