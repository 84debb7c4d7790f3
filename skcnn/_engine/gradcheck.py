"""Finite differences: the independent reference every backward pass is held to."""

import numpy as np
from sklearn.utils import check_random_state

from .base import Layer, walk


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


def _reseed(layer, seed):
    """The same random streams for every pass: dropout's masks stay put."""
    for random_layer in [layer, *(inner for _, inner in walk(layer))]:
        if hasattr(random_layer, "seed"):
            random_layer.seed(np.random.RandomState(seed))


def _compare(what, analytic, numeric, layer, rtol, atol):
    if analytic is None or np.shape(analytic) != numeric.shape:
        raise AssertionError(
            f"{layer!r}: backward gives {what} of shape {np.shape(analytic)}, but it must "
            f"have the shape {numeric.shape}."
        )
    bad = ~np.isclose(analytic, numeric, rtol=rtol, atol=atol)
    if bad.any():
        worst = np.unravel_index(np.argmax(np.abs(analytic - numeric)), numeric.shape)
        raise AssertionError(
            f"{layer!r}: the backward pass gives a wrong {what}: {bad.sum()} of "
            f"{bad.size} entries differ from finite differences (at {tuple(map(int, worst))}: "
            f"backward {analytic[worst]:.6g}, finite differences {numeric[worst]:.6g}). "
            f"Check backward, and that it matches forward."
        )


def check_layer(
    layer,
    input_shape,
    *,
    n_samples=2,
    training=True,
    X=None,
    random_state=0,
    rtol=1e-5,
    atol=1e-7,
    eps=1e-6,
):
    """Check a layer's backward pass against finite differences, in float64.

    The layer is built for ``input_shape`` and initialized; with a fixed
    random ``R``, the scalar ``L = sum(forward(X) * R)`` has dL/d(output) =
    ``R``, and ``backward(R)`` must return dL/dX and set the gradient of
    every parameter (``grad_<name>`` for every name of ``param_names``), as
    central differences of ``L`` give them. It also checks that the layer
    keeps the contract of the engine: ``build`` returns the shape
    ``forward`` gives, neither pass changes its input in place, and the
    gradients match the parameters in number and shape.

    Parameters
    ----------
    layer : Layer
        Not built; ``check_layer`` builds and initializes it.
    input_shape : tuple of int
        One sample: ``(height, width, channels)`` for spatial layers (a
        signal has height 1), ``(features,)`` for flat ones.
    n_samples : int, default=2
        Samples of the random batch.
    training : bool, default=True
        Differentiate the training pass (as fit does: batch statistics,
        dropout with fixed masks) or, with ``False``, the prediction pass.
    X : ndarray of shape (n_samples, ...), optional
        The batch, of samples of ``input_shape``; by default standard
        normal values. Layers with kinks
        (max, ReLU) need inputs away from them; a layer without input
        gradient (``has_input_gradient = False``, an embedding) needs
        the inputs it reads, such as token ids.
    random_state : int, default=0
    rtol, atol : float, default=1e-5, 1e-7
        Tolerances of :func:`numpy.isclose`.
    eps : float, default=1e-6
        Step of the central differences.

    Returns
    -------
    errors : dict
        The largest absolute difference from finite differences, for
        ``"input"`` and for every parameter name. A layer without input
        gradient has no ``"input"``: its backward must return ``None``.

    Raises
    ------
    AssertionError
        Saying which gradient is wrong and where.

    Examples
    --------
    >>> from skcnn.layers import check_layer
    >>> from skcnn._engine.activations import Tanh
    >>> errors = check_layer(Tanh(), (4, 4, 2))
    >>> errors["input"] < 1e-8
    True
    """
    if not isinstance(layer, Layer):
        raise TypeError(f"check_layer takes a skcnn.layers.Layer; got {type(layer).__name__}.")
    if not (
        isinstance(input_shape, tuple)
        and input_shape
        and all(isinstance(s, (int, np.integer)) and s >= 1 for s in input_shape)
    ):
        raise ValueError(
            f"input_shape must be a tuple of ints >= 1, such as (8, 8, 3) or (16,); "
            f"got {input_shape!r}."
        )
    rng = check_random_state(random_state)
    seed = rng.randint(2**31)
    shape = layer.build(input_shape)
    if not isinstance(shape, tuple):
        raise AssertionError(f"{layer!r}: build must return the output shape as a tuple.")
    if X is None and not layer.has_input_gradient:
        raise ValueError(
            f"{layer!r} has no input gradient: it reads inputs of its own kind (token ids), "
            f"so give check_layer a batch X of them."
        )
    if X is not None:
        X = np.array(X, dtype=np.float64)
        if X.shape[1:] != tuple(input_shape):
            raise ValueError(
                f"X has samples of shape {X.shape[1:]}, not input_shape {input_shape}."
            )
        layer.adapt(X)
    layer.initialize(rng, np.float64, "he")
    if X is None:
        X = rng.standard_normal((n_samples, *input_shape))
    _reseed(layer, seed)
    X_before = X.copy()
    out = layer.forward(X, training=True)
    if np.shape(out) != (len(X), *shape):
        raise AssertionError(
            f"{layer!r}: forward gives an output of shape {np.shape(out)}, but build said "
            f"{(len(X), *shape)} (the batch, then the shape build returns)."
        )
    if not np.array_equal(X, X_before):
        raise AssertionError(f"{layer!r}: forward changed its input in place; it must not.")
    R = rng.standard_normal(np.shape(out))
    R_before = R.copy()
    grad_X = layer.backward(R, need_input_grad=True)
    if not np.array_equal(R, R_before):
        raise AssertionError(f"{layer!r}: backward changed grad_out in place; it must not.")
    params, grads = layer.params, [None if g is None else np.array(g) for g in layer.grads]
    if len(params) != len(grads):
        raise AssertionError(
            f"{layer!r}: {len(params)} parameters but {len(grads)} gradients after backward."
        )
    grad_X = None if grad_X is None else np.array(grad_X)

    def loss():
        _reseed(layer, seed)
        return float(np.sum(layer.forward(X, training=training) * R))

    errors = {}
    if layer.has_input_gradient:
        numeric = numerical_gradient(loss, X, eps)
        _compare("dL/d(input)", grad_X, numeric, layer, rtol, atol)
        errors["input"] = float(np.abs(grad_X - numeric).max())
    elif grad_X is not None:
        raise AssertionError(
            f"{layer!r}: backward gives a dL/d(input), but the layer says it has none "
            f"(has_input_gradient = False); return None."
        )
    names = [
        f"{path}.{name}"
        for path, inner in [("", layer), *walk(layer)]
        for name in (inner.param_names)
    ]
    for name, param, grad in zip(names, params, grads):
        numeric = numerical_gradient(loss, param, eps)
        _compare(f"dL/d({name.lstrip('.')})", grad, numeric, layer, rtol, atol)
        errors[name.lstrip(".")] = float(np.abs(grad - numeric).max())
    return errors
