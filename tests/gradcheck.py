"""Central finite differences, the independent reference for every backward pass."""

import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    """dF/dx of a scalar function ``f()`` that reads ``x``, by central differences.

    ``x`` is perturbed in place, one entry at a time, and restored.
    """
    grad = np.zeros_like(x)
    flat, flat_grad = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        f_plus = f()
        flat[i] = original - eps
        f_minus = f()
        flat[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def check_layer_gradients(layer, X, rng, rtol=1e-6, atol=1e-8, training=False):
    """Compare a built, initialized layer's backward pass with finite differences.

    The scalar is ``L = sum(forward(X) * R)`` for a fixed random ``R``, so
    dL/d(output) = R, and the layer must return dL/dX and fill dL/d(params).
    ``training`` differentiates the training forward pass (batch
    normalization's batch statistics) instead of the prediction one.
    """
    R = rng.standard_normal(layer.forward(X).shape)

    def loss():
        return float(np.sum(layer.forward(X, training=training) * R))

    layer.forward(X, training=True)
    grad_X = layer.backward(R.copy())
    np.testing.assert_allclose(grad_X, numerical_gradient(loss, X), rtol=rtol, atol=atol)
    for param, grad in zip(layer.params, layer.grads):
        np.testing.assert_allclose(grad, numerical_gradient(loss, param), rtol=rtol, atol=atol)
