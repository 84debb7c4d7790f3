"""Flat layers: flatten and fully connected."""

import numpy as np

from .base import Layer, _init_limit, _shape_str, _WeightedLayer
from .specs import Integer, register


@register
class Flatten(Layer):
    """Reshape ``(n, height, width, channels)`` into ``(n, features)``, in C order."""

    kind = "flatten"
    flat_output = True

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


@register
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

    kind = "dense"
    aliases = ("fc",)
    arguments = (Integer("units", help="outputs (neurons)"),)
    examples = ("dense:128",)
    flat_input = flat_output = True

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

    def multiply_adds(self):
        return self.input_shape[0] * self.units

    def __repr__(self):
        return f"Dense(units={self.units})"
