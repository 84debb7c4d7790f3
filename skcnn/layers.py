"""Layers of your own: the base class, the registry, the arguments, a gradient check.

A layer kind is a subclass of :class:`Layer` registered with
:func:`register`. Once registered, its specs work wherever skcnn's own do:
in ``layers=`` of the estimators, inside residual blocks and parallel
branches, in grid searches, saved models and ``print(clf.network_)``.

A layer computes ``forward(X, training=False)`` and ``backward(grad_out,
need_input_grad=True)``; it keeps its learnable arrays in the attributes
that ``param_names`` names and sets their gradients in ``grad_<name>``
during backward. :func:`check_layer` holds the backward pass to finite
differences.

Examples
--------
A layer that scales every channel by a learned factor:

>>> import numpy as np
>>> from skcnn.layers import Float, Layer, check_layer, register
>>> @register
... class Scale(Layer):
...     '''Every channel times a learned factor.'''
...     kind = "scale"
...     arguments = (Float("init_value", 1.0),)
...     param_names = ("gamma",)
...
...     def __init__(self, init_value=1.0):
...         self.init_value = init_value
...
...     def initialize(self, rng, dtype, init):
...         self.gamma = np.full(self.input_shape[-1], self.init_value, dtype=dtype)
...
...     def forward(self, X, training=False):
...         self._X = X if training else None
...         return X * self.gamma
...
...     def backward(self, grad_out, need_input_grad=True):
...         # dL/dgamma = sum over samples and positions of dL/dout * x
...         self.grad_gamma = (grad_out * self._X).reshape(-1, len(self.gamma)).sum(axis=0)
...         return grad_out * self.gamma if need_input_grad else None
>>> check_layer(Scale(0.5), (4, 4, 3))["gamma"] < 1e-8
True

``"scale"`` and ``"scale:0.5"`` are specs now; see :doc:`/layers` for the
whole story (training, saving, grid searches, skops).
"""

from ._engine.base import Layer, walk
from ._engine.gradcheck import check_layer
from ._engine.specs import (
    Argument,
    Choice,
    Float,
    Integer,
    Size,
    Specs,
    layer_class,
    register,
    registered_kinds,
)

__all__ = [
    "Argument",
    "Choice",
    "Float",
    "Integer",
    "Layer",
    "Size",
    "Specs",
    "check_layer",
    "layer_class",
    "register",
    "registered_kinds",
    "walk",
]
