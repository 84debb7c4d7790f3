"""Activation functions, element-wise."""

import numpy as np
from scipy.special import erf, expit

from .base import Layer
from .kernels import accelerator
from .specs import Float, register
from .workspace import Workspace


@register
class ReLU(Layer):
    """Rectified linear unit: ``max(x, 0)``."""

    kind = "relu"

    def __init__(self):
        self.workspace = Workspace()

    def forward(self, X, training=False):
        if not training:
            self._active = None
            return np.maximum(X, 0)
        out = self.workspace.empty("out", X.shape, X.dtype)
        active = self.workspace.empty("active", X.shape, bool)
        compiled = accelerator()
        if compiled is not None and X.flags.c_contiguous:
            compiled.relu(X, out, active)  # one pass
        else:
            np.maximum(X, 0, out=out)
            np.greater(out, 0, out=active)
        self._active = active
        return out

    def backward(self, grad_out, need_input_grad=True):
        if not need_input_grad:
            return None
        # dL/dx = dL/dout where x > 0, else 0
        grad_in = self.workspace.empty("grad_in", grad_out.shape, grad_out.dtype)
        compiled = accelerator()
        if compiled is not None and grad_out.flags.c_contiguous:
            compiled.relu_backward(grad_out, self._active, grad_in)
        else:
            np.multiply(grad_out, self._active, out=grad_in)
        self._active = None
        return grad_in


class _Activation(Layer):
    """An element-wise function whose derivative follows from what forward keeps.

    Subclasses define ``_function(X) -> out`` and ``_derivative(X, out) ->
    dout/dx``; training keeps ``X`` and ``out`` for the backward pass.
    """

    def forward(self, X, training=False):
        out = self._function(X)
        self._saved = (X, out) if training else None
        return out

    def backward(self, grad_out, need_input_grad=True):
        if not need_input_grad:
            return None
        X, out = self._saved
        self._saved = None
        # dL/dx = dL/dout * f'(x)
        return grad_out * self._derivative(X, out)


@register
class Tanh(_Activation):
    """Hyperbolic tangent: from -1 to 1, ``tanh(x)``."""

    kind = "tanh"

    def _function(self, X):
        return np.tanh(X)

    def _derivative(self, X, out):
        # d tanh(x)/dx = 1 - tanh(x)^2
        return 1 - out * out


@register
class Sigmoid(_Activation):
    """Logistic function: from 0 to 1, ``1 / (1 + exp(-x))``."""

    kind = "sigmoid"
    aliases = ("logistic",)

    def _function(self, X):
        return expit(X)  # no overflow for large negative x

    def _derivative(self, X, out):
        # d sigmoid(x)/dx = sigmoid(x) (1 - sigmoid(x))
        return out * (1 - out)


@register
class LeakyReLU(_Activation):
    """Leaky ReLU: ``x`` where positive, ``slope * x`` elsewhere.

    Parameters
    ----------
    slope : float, default=0.01
        The slope of the negative side (PyTorch's default).
    """

    kind = "leaky_relu"
    aliases = ("leakyrelu",)
    arguments = (Float("slope", 0.01, low=0, help="slope of the negative side"),)
    examples = ("leaky_relu", "leaky_relu:0.1")

    def __init__(self, slope=0.01):
        self.slope = slope

    def _function(self, X):
        return np.where(X > 0, X, X * X.dtype.type(self.slope))

    def _derivative(self, X, out):
        # d/dx = 1 where x > 0, slope elsewhere
        return np.where(X > 0, X.dtype.type(1), X.dtype.type(self.slope))


@register
class ELU(_Activation):
    """Exponential linear unit: ``x`` where positive, ``alpha (exp(x) - 1)`` elsewhere.

    Parameters
    ----------
    alpha : float, default=1.0
        The value the negative side tends to is ``-alpha``.
    """

    kind = "elu"
    arguments = (Float("alpha", 1.0, low=0, help="the negative side tends to -alpha"),)
    examples = ("elu", "elu:0.5")

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def _function(self, X):
        alpha = X.dtype.type(self.alpha)
        # expm1 of the negative side only: no overflow for large x
        return np.where(X > 0, X, alpha * np.expm1(np.minimum(X, 0)))

    def _derivative(self, X, out):
        # d/dx = 1 where x > 0, alpha exp(x) = out + alpha elsewhere
        return np.where(X > 0, X.dtype.type(1), out + X.dtype.type(self.alpha))


@register
class GELU(_Activation):
    """Gaussian error linear unit: ``x Phi(x)``, with ``Phi`` the normal distribution function.

    The exact form (with the error function), as PyTorch's and Keras's
    defaults.
    """

    kind = "gelu"

    def _function(self, X):
        return X * self._phi(X)

    @staticmethod
    def _phi(X):
        return (1 + erf(X / np.sqrt(2, dtype=X.dtype))) / 2

    def _derivative(self, X, out):
        # d/dx x Phi(x) = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
        density = np.exp(-X * X / 2) / np.sqrt(2 * np.pi, dtype=X.dtype)
        return self._phi(X) + X * density
