"""Input handling: from what the user passes to the engine's image batches.

The engine sees every sample as an image ``(height, width, channels)``,
channels last. The rule that maps ``X`` to images, with no guessing:

=====================================  ==========================================
``X`` and ``input_shape``              one sample is
=====================================  ==========================================
2-D ``(n, n_features)``, no shape      a 1-D signal of length ``n_features``
2-D with ``input_shape=(length,)``     a 1-D signal of that length
2-D with ``input_shape=(h, w)``        a ``h x w`` one-channel image
2-D with ``input_shape=(h, w, c)``     a ``h x w`` image with ``c`` channels
3-D ``(n, h, w)``                      a ``h x w`` one-channel image
4-D ``(n, h, w, c)``                   a ``h x w`` image with ``c`` channels
=====================================  ==========================================

A flattened 2-D ``X`` is read in C order (the layout ``X.reshape(n, -1)``
gives). An image of height 1 is a 1-D signal: integer kernel and pooling
sizes run along its length. Multi-channel signals are ``(1, length,
channels)`` images. With 3-D or 4-D ``X``, ``input_shape`` may be left
``None`` or must agree with ``X``.
"""

import warnings
from contextlib import contextmanager
from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_array, check_consistent_length, validate_data


def image_shape(input_shape, name="input_shape"):
    """Normalize an ``input_shape`` argument to ``(height, width, channels)``.

    >>> image_shape((8, 8))
    (8, 8, 1)
    >>> image_shape((100,))
    (1, 100, 1)
    """
    if isinstance(input_shape, Integral) and not isinstance(input_shape, bool):
        input_shape = (input_shape,)
    if (
        not isinstance(input_shape, (tuple, list))
        or not 1 <= len(input_shape) <= 3
        or not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in input_shape
        )
    ):
        raise ValueError(
            f"{name} must be None, (length,), (height, width) or (height, width, "
            f"channels) with positive ints; got {input_shape!r}."
        )
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 1:
        return (1, shape[0], 1)
    if len(shape) == 2:
        return (*shape, 1)
    return shape


def sample_shape(X_shape, input_shape):
    """Per-sample image shape of an ``X`` of shape ``X_shape`` (see the module rule)."""
    ndim = len(X_shape)
    if ndim == 2:
        n_features = X_shape[1]
        if input_shape is None:
            return (1, n_features, 1)
        shape = image_shape(input_shape)
        if int(np.prod(shape)) != n_features:
            raise ValueError(
                f"input_shape={input_shape!r} describes {int(np.prod(shape))} features per "
                f"sample, but X has {n_features} features."
            )
        return shape
    if ndim in (3, 4):
        shape = tuple(X_shape[1:]) + ((1,) if ndim == 3 else ())
        if input_shape is not None and image_shape(input_shape) != shape:
            raise ValueError(
                f"input_shape={input_shape!r} does not match the samples of X, whose "
                f"shape is {tuple(X_shape[1:])}; leave input_shape=None for 3-D or 4-D X."
            )
        return shape
    raise ValueError(
        f"X must be 2-D (n_samples, n_features), 3-D (n_samples, height, width) or "
        f"4-D (n_samples, height, width, channels); got an array of shape {X_shape}."
    )


@contextmanager
def _clear_errors(X, dtype):
    """Turn NumPy's conversion errors about ``X`` into messages that name ``X``.

    Strings, complex numbers, ragged nested lists and finite values beyond the
    range of the compute ``dtype`` (1e39 in float32) are refused with a
    ``ValueError`` saying what ``X`` holds and what to do.
    """
    try:
        with np.errstate(over="ignore"):  # overflow in the cast: said below
            yield
    except (ValueError, TypeError) as exc:
        message = str(exc)
        # Conversion errors may come from y: rewritten only when X is at fault.
        as_float64 = _as_float64(X)
        unconvertible = as_float64 is None
        if unconvertible and ("could not convert" in message or "bytes/strings" in message):
            raise ValueError(
                f"X must hold numbers, but {message.splitlines()[0]}. Turn text into token "
                f"ids first, with skcnn.preprocessing.TextVectorizer in a Pipeline before the "
                f"network (the network then starts with an 'embedding' layer), or encode "
                f"categories as numbers, for example with OneHotEncoder."
            ) from None
        if unconvertible and isinstance(exc, TypeError) and "argument must be a str" in message:
            raise TypeError(
                f"X must hold numbers, but {message.splitlines()[0]}: X holds other Python "
                f"objects (dicts, lists, ...)."
            ) from None
        if "Complex data not supported" in message and np.iscomplexobj(X):
            raise ValueError(
                "Complex data not supported: X holds complex numbers and the network "
                "needs real ones. Pass the real and imaginary parts (or the modulus and "
                "phase) as two channels instead."
            ) from None
        if unconvertible and (
            "inhomogeneous" in message or "an array element with a seq" in message
        ):
            raise ValueError(
                "X is ragged: its samples have different lengths. Every sample must have "
                "the same shape; pad or crop them to one size first."
            ) from None
        if (
            "Input X contains infinity or a value too large" in message
            and not unconvertible
            and np.isfinite(as_float64).all()
        ):
            largest = float(np.finfo(dtype).max)
            raise ValueError(
                f"X has values whose magnitude exceeds {largest:.3g}, the largest "
                f"{np.dtype(dtype).name}; they would become infinite. Scale X (for example "
                f"with StandardScaler) or use dtype='float64'."
            ) from None
        raise


def _as_float64(X):
    """``X`` as a float64 array, or ``None`` where NumPy cannot convert it.

    Complex ``X`` converts (dropping the imaginary part, warning silenced).
    """
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Casting complex values")
            return np.asarray(X, dtype=np.float64)
    except (ValueError, TypeError):
        return None


def validate_fit_X_y(estimator, X, y, dtype, reset=True, **y_kwargs):
    """Check ``X`` and ``y`` for training; return images, ``y`` and the sample shape.

    With ``reset`` (a new fit) this sets ``n_features_in_`` (features per
    flattened sample) and, for DataFrames, ``feature_names_in_``; without
    (``partial_fit``, ``warm_start``), ``X`` must match the fitted shape.
    ``y_kwargs`` go to scikit-learn's ``validate_data`` (``multi_output``,
    ``y_numeric`` for regressors).
    """
    if not reset:
        images = validate_predict_X(estimator, X, dtype)
        y = validate_data(estimator, X="no_validation", y=y, **y_kwargs)
        check_consistent_length(images, y)
        return images, y, estimator.input_shape_
    with _clear_errors(X, dtype):
        X, y = validate_data(estimator, X, y, allow_nd=True, dtype=dtype, **y_kwargs)
    if X.ndim > 2 and X.size == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required."
        )
    shape = sample_shape(X.shape, estimator.input_shape)
    estimator.n_features_in_ = int(np.prod(shape))
    return X.reshape(len(X), *shape), y, shape


def validate_predict_X(estimator, X, dtype):
    """Check ``X`` against the fitted sample shape; return images of that shape."""
    shape = estimator.input_shape_
    ndim = getattr(X, "ndim", None)
    if ndim is None:  # lists and other array-likes
        try:
            ndim = np.asarray(X).ndim
        except (ValueError, TypeError):  # ragged lists: let validate_data say why
            ndim = 2
    with _clear_errors(X, np.float64 if isinstance(dtype, tuple) else dtype):
        if ndim <= 2:
            # Checks feature names and the number of features the scikit-learn way.
            X = validate_data(estimator, X, reset=False, dtype=dtype)
        else:
            X = check_array(X, allow_nd=True, dtype=dtype)
    if ndim > 2 and sample_shape(X.shape, None) != shape:
        raise ValueError(
            f"X has samples of shape {X.shape[1:]}, but {type(estimator).__name__} "
            f"was fitted on samples of shape {shape} (height, width, channels)."
        )
    return X.reshape(len(X), *shape)


def scale_hint(X):
    """What to say where ``X`` looks far from unit scale, or ``None``.

    Raw pixels (whole numbers from 0, up to more than 1 and at most 255), or
    values whose 99th percentile in magnitude passes 10. Looks at up to
    100,000 values, the same ones every time.
    """
    values = X.reshape(-1)
    if values.size > 100_000:
        values = values[:: values.size // 100_000 + 1]
    high = float(np.max(values)) if values.size else 0.0
    if np.min(values, initial=0) >= 0 and 1 < high <= 255 and np.all(values == np.round(values)):
        return (
            f"X has values from 0 to {high:g}, all whole numbers: it looks like raw pixels. "
            f"Networks train poorly on unscaled inputs: divide X by {high:g} (by 255 for 8-bit "
            f"images), or put a MinMaxScaler before the network in a Pipeline."
        )
    typical = float(np.percentile(np.abs(values), 99)) if values.size else 0.0
    if typical > 10:
        return (
            f"X is far from unit scale (1% of its values exceed {typical:.3g} in magnitude). "
            f"Networks train poorly on unscaled inputs: put a StandardScaler (or a "
            f"MinMaxScaler) before the network in a Pipeline."
        )
    return None
