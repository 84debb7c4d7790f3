"""Convolution layers."""

import math

import numpy as np

from .base import _init_limit, _SpatialMixin, _WeightedLayer
from .kernels import CONV_ALGORITHMS, dilated_size, resolve_algorithm
from .specs import Integer, Size, padding_argument, register
from .winograd import WINOGRAD_TILES


@register
class Conv2D(_SpatialMixin, _WeightedLayer):
    """Convolution: learned filters slid over the input, one output channel each.

    Every filter spans all input channels; the layer "tries every feature
    in every position" and writes one output channel per filter.

    Parameters
    ----------
    filters : int
        Number of filters (output channels).
    kernel_size : tuple of int (height, width)
        Taps per filter along each spatial axis.
    stride : tuple of int (height, width), default=(1, 1)
    padding : {"valid", "same"}, default="same"
    dilation : tuple of int (height, width), default=(1, 1)
        Step between the taps of a filter: a 3-tap filter with dilation 4
        spans 9 positions. Stacks of dilated convolutions see far along a
        series with few weights.
    algorithm : {"auto", "im2col", "scipy", "fft", "winograd2x2", "winograd4x4"}, \
default="auto"
        Which kernel of :mod:`skcnn._engine.kernels` computes the correlation.
        The Winograd ones need numba and run where the kernel is 3x3 with
        stride 1 and no dilation (im2col elsewhere).

    Attributes
    ----------
    weights : ndarray of shape (kernel_height, kernel_width, channels, filters)
    bias : ndarray of shape (filters,)
    """

    kind = "conv"
    aliases = ("conv2d", "convolution")
    arguments = (
        Integer("filters", help="filters (output channels)"),
        Size("kernel_size", help="taps per filter"),
        Size("stride", 1, help="step between positions"),
        padding_argument(),
        Size("dilation", 1, help="step between the taps of a filter"),
    )
    examples = ("conv:32:3", "conv:8:3x5:2:valid", "conv:16:3:dilation=2")

    def __init__(
        self, filters, kernel_size, stride=(1, 1), padding="same", dilation=(1, 1), algorithm="auto"
    ):
        self.filters = filters
        self.kernel_size = tuple(kernel_size)
        self.stride = tuple(stride)
        self.padding = padding
        self.dilation = tuple(dilation)
        self.algorithm = algorithm
        resolve_algorithm(algorithm)  # a clear error for an unknown name, now

    @classmethod
    def from_spec(cls, values, context):
        layer = super().from_spec(values, context)
        layer.algorithm = context.conv_algorithm
        resolve_algorithm(layer.algorithm)
        return layer

    def build(self, input_shape):
        out_h, out_w = self._build_window(
            input_shape,
            self.kernel_size,
            self.stride,
            self.padding,
            "kernel",
            spread=dilated_size(self.kernel_size, self.dilation),
        )
        self.output_shape = (out_h, out_w, self.filters)
        weights_shape = (*self.kernel_size, input_shape[2], self.filters)
        self.use_algorithm(
            resolve_algorithm(
                self.algorithm, self._padded_shape, weights_shape, self.stride, self.dilation
            )
        )
        return self.output_shape

    def use_algorithm(self, name):
        """Compute with the algorithm ``name`` (a key of ``CONV_ALGORITHMS``) from now on."""
        self.algorithm_ = name
        self._forward, self._backward = CONV_ALGORITHMS[name]

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
        out, self._saved = self._forward(
            x_pad, self.weights, self.bias, self.stride, training, self.dilation
        )
        return out

    def backward(self, grad_out, need_input_grad=True):
        grad_x_pad, self.grad_weights, self.grad_bias = self._backward(
            grad_out,
            self._saved,
            self.weights,
            self.stride,
            (len(grad_out), *self._padded_shape),
            need_input_grad,
            self.dilation,
        )
        self._saved = None
        return None if grad_x_pad is None else self._crop(grad_x_pad)

    def columns_per_sample(self):
        """Values a sample adds to the largest array the forward pass makes beside its output.

        im2col's rows (one per output position, a window of every channel
        each), the estimate for every algorithm but Winograd's, which works
        in blocks of tiles of a bounded size whatever the batch: none.
        """
        if self.algorithm_ in WINOGRAD_TILES:
            return 0
        return math.prod(self.output_shape[:2]) * math.prod(self.kernel_size) * self.input_shape[2]

    def multiply_adds(self):
        return (
            math.prod(self.output_shape[:2])
            * math.prod(self.kernel_size)
            * (self.input_shape[2] * self.filters)
        )

    def __repr__(self):
        # The algorithm shows once built, where it is not the usual im2col.
        algorithm = getattr(self, "algorithm_", "im2col")
        return (
            f"Conv2D(filters={self.filters}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding!r}"
            + ("" if self.dilation == (1, 1) else f", dilation={self.dilation}")
            + ("" if algorithm == "im2col" else f", algorithm={algorithm!r}")
            + ")"
        )
