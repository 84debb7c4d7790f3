"""Input handling: from what the user passes to the engine's image batches.

The engine sees every sample as an image ``(height, width, channels)``,
channels last; a series (a signal) is an image of height 1. ``input_layout``
states how ``X`` holds its samples; ``"auto"`` (the default) reads it by the
rules images have always been read with:

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

The other layouts say what each axis is, and ``input_shape`` (for 2-D,
flattened ``X``) gives one sample's shape in the same order:

===================  =====================================  ===============================
``input_layout``     ``X``                                  one sample is
===================  =====================================  ===============================
``"nhwc"``           ``(n, h, w, c)``, or ``(n, h, w)``     the rules above, without the
                                                            layout warnings
``"nchw"``           ``(n, c, h, w)``, as PyTorch holds     a ``h x w`` image with ``c``
                     images                                 channels
``"nlc"``            ``(n, length, channels)``, as tslearn  a series of ``channels``
                     and Keras hold series                  variables
``"ncl"``            ``(n_cases, n_channels,                a series of ``n_channels``
                     n_timepoints)``, as aeon and sktime    variables
                     hold series
===================  =====================================  ===============================

Under ``"nlc"`` and ``"ncl"``, 2-D ``X`` holds univariate series ``(n,
length)``, or flattened ones with ``input_shape=(length, channels)``
(``"nlc"``) or ``(channels, length)`` (``"ncl"``); under ``"nchw"``, 2-D
``X`` needs ``input_shape=(channels, height, width)``. An ``X`` whose
dimensions the layout does not have is an error that names both.

Under ``"auto"``, where the reading is likely wrong, ``fit`` warns
(:class:`~skcnn.exceptions.InputLayoutWarning`) and names the layout that
reads ``X`` as it seems meant: a 3-D ``X`` with one small axis beside a long
one, ``(600, 128, 3)`` (128x3 images, or 600 series of length 128 with 3
channels?) or ``(600, 3, 128)``; a 4-D ``X`` whose second axis looks like
channels, ``(n, 3, 32, 32)``. Stating the layout silences it. The
multichannel signals of earlier versions, ``(n, 1, length, channels)``, are
read as before (and under ``"nhwc"``).

Series of unequal length, under ``"nlc"`` and ``"ncl"``, come either padded
with NaN after their end (tslearn's convention), or as a list of arrays of
different lengths (aeon's unequal-length collections: ``(n_channels,
n_timepoints_i)`` arrays under ``"ncl"``, ``(length_i, channels)`` under
``"nlc"``, 1-D arrays for univariate series). They are padded to the
longest, and a mask says which positions hold a series: the padded
positions are zeros at the input and after every layer, and global pooling
averages (or maximizes) over the positions of the series only, so that the
network must end its convolutions in global pooling. A NaN anywhere but
after the end of a series is an error, as in every other ``X``.

A flattened 2-D ``X`` is read in C order (the layout ``X.reshape(n, -1)``
gives). An image of height 1 is a 1-D signal: integer kernel and pooling
sizes run along its length. With 3-D or 4-D ``X``, ``input_shape`` may be
left ``None`` or must agree with ``X``.
"""

import warnings
from contextlib import contextmanager
from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_array, check_consistent_length, validate_data

from .exceptions import InputLayoutWarning


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


#: The values of ``input_layout``.
LAYOUTS = ("auto", "nhwc", "nchw", "nlc", "ncl")
#: The layouts of series, which may be of unequal length.
SERIES_LAYOUTS = ("nlc", "ncl")

#: How each layout writes one sample (for error messages).
_SAMPLE = {
    "auto": "(height, width[, channels])",
    "nhwc": "(height, width, channels)",
    "nchw": "(channels, height, width)",
    "nlc": "(length, channels)",
    "ncl": "(n_channels, n_timepoints)",
}
_X = {
    "nhwc": "(n_samples, height, width, channels)",
    "nchw": "(n_samples, channels, height, width)",
    "nlc": "(n_samples, length, channels)",
    "ncl": "(n_cases, n_channels, n_timepoints)",
}


def layout_shape(input_shape, layout):
    """The engine's ``(height, width, channels)`` of an ``input_shape`` given in ``layout``.

    >>> layout_shape((3, 32, 32), "nchw")
    (32, 32, 3)
    >>> layout_shape((2, 100), "ncl")
    (1, 100, 2)
    """
    if layout in ("auto", "nhwc"):
        return image_shape(input_shape)
    if isinstance(input_shape, Integral) and not isinstance(input_shape, bool):
        input_shape = (input_shape,)
    lengths = {"nchw": (3,), "nlc": (1, 2), "ncl": (1, 2)}[layout]
    if (
        not isinstance(input_shape, (tuple, list))
        or len(input_shape) not in lengths
        or not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in input_shape
        )
    ):
        written = {"nchw": "(channels, height, width)", "nlc": "(length,) or (length, channels)"}
        written["ncl"] = "(n_timepoints,) or (n_channels, n_timepoints)"
        raise ValueError(
            f"input_shape must be None or {written[layout]} with positive ints under "
            f"input_layout={layout!r}; got {input_shape!r}."
        )
    shape = tuple(int(s) for s in input_shape)
    if layout == "nchw":
        return (shape[1], shape[2], shape[0])
    if len(shape) == 1:
        return (1, shape[0], 1)
    return (1, *shape) if layout == "nlc" else (1, shape[1], shape[0])


def _layout_dims(layout):
    return {"auto": (2, 3, 4), "nhwc": (2, 3, 4), "nchw": (2, 4), "nlc": (2, 3), "ncl": (2, 3)}[
        layout
    ]


def _engine_shape(sample, layout):
    """The engine shape of one sample of 3-D or 4-D ``X`` (``sample``: ``X.shape[1:]``)."""
    if layout in ("auto", "nhwc"):
        return tuple(sample) + ((1,) if len(sample) == 2 else ())
    if layout == "nchw":
        return (sample[1], sample[2], sample[0])
    return (1, *sample) if layout == "nlc" else (1, sample[1], sample[0])


def sample_shape(X_shape, input_shape, layout="auto"):
    """Per-sample image shape of an ``X`` of shape ``X_shape`` (see the module rule)."""
    ndim = len(X_shape)
    if layout != "auto" and ndim in (3, 4) and ndim not in _layout_dims(layout):
        raise ValueError(
            f"input_layout={layout!r} reads X as {_X[layout]}, {max(_layout_dims(layout))}-D, "
            f"but X has shape {tuple(X_shape)} ({ndim}-D); state the layout X has, or reshape "
            f"X."
        )
    if ndim == 2:
        n_features = X_shape[1]
        if input_shape is None:
            if layout == "nchw":
                raise ValueError(
                    f"input_layout='nchw' with 2-D X of shape {tuple(X_shape)} needs "
                    f"input_shape=(channels, height, width), the shape of one flattened sample."
                )
            return (1, n_features, 1)
        shape = layout_shape(input_shape, layout)
        if int(np.prod(shape)) != n_features:
            raise ValueError(
                f"input_shape={input_shape!r} describes {int(np.prod(shape))} features per "
                f"sample, but X has {n_features} features."
            )
        return shape
    if ndim in (3, 4):
        shape = _engine_shape(X_shape[1:], layout)
        if input_shape is not None and layout_shape(input_shape, layout) != shape:
            raise ValueError(
                f"input_shape={input_shape!r} does not match the samples of X, whose "
                f"shape is {tuple(X_shape[1:])}; leave input_shape=None for 3-D or 4-D X."
            )
        return shape
    if layout in SERIES_LAYOUTS:
        raise ValueError(
            f"input_layout={layout!r} reads X as {_X[layout]} (or 2-D univariate series); "
            f"got an array of shape {tuple(X_shape)}."
        )
    raise ValueError(
        f"X must be 2-D (n_samples, n_features), 3-D (n_samples, height, width) or "
        f"4-D (n_samples, height, width, channels); got an array of shape {X_shape}."
    )


def to_images(X, shape, layout):
    """``X`` (2-D, 3-D or 4-D, in ``layout``) as images ``(n, *shape)``, channels last."""
    n = len(X)
    if layout == "nchw":
        height, width, channels = shape
        return X.reshape(n, channels, height, width).transpose(0, 2, 3, 1)
    if layout == "ncl":
        _, length, channels = shape
        return X.reshape(n, channels, length).transpose(0, 2, 1).reshape(n, *shape)
    return X.reshape(n, *shape)


def layout_hint(X_shape):
    """What to say where the ``"auto"`` reading of an ``X`` of ``X_shape`` looks wrong, or None.

    >>> print(layout_hint((600, 128, 3)))  # doctest: +ELLIPSIS
    X of shape (600, 128, 3) is read as 600 images of 128x3 pixels with one channel; ...
    >>> layout_hint((600, 28, 28)) is None
    True
    """
    shape = tuple(int(s) for s in X_shape)
    if len(shape) == 3:
        n, first, last = shape
        if last <= 16 and first >= 8 * last:
            meant, layout = f"{n} series of length {first} with {last} channel(s)", "nlc"
        elif 1 < first <= 16 and last >= 8 * first:
            meant, layout = f"{n} series of length {last} with {first} channels", "ncl"
        else:
            return None
        return (
            f"X of shape {shape} is read as {n} images of {first}x{last} pixels with one "
            f"channel; if it holds {meant}, set input_layout={layout!r} (input_layout='nhwc' "
            f"keeps the image reading and silences this warning)."
        )
    if len(shape) == 4:
        n, channels, height, width = shape
        if channels <= 4 and width > 4 and max(height, width) <= 4 * min(height, width):
            return (
                f"X of shape {shape} is read as {n} images of {channels}x{height} pixels with "
                f"{width} channels (channels last); if it holds {height}x{width} images with "
                f"{channels} channel(s) first, as PyTorch holds them, set input_layout='nchw' "
                f"(input_layout='nhwc' keeps the channels-last reading and silences this "
                f"warning)."
            )
    return None


# --- series of unequal length -------------------------------------------------------


def _collection(X, layout):
    """A list of series of different lengths as one NaN-padded array in ``layout``.

    ``X`` as it is where it is no such list. Every series is 1-D (univariate)
    or 2-D in ``layout``; all must have the same number of channels.
    """
    if not isinstance(X, (list, tuple)) or not X:
        return X
    try:
        series = [np.asarray(s) for s in X]
    except (ValueError, TypeError):
        return X  # ragged deeper down: the conversion error says why
    if len({s.shape for s in series}) == 1:
        return X
    dims = {s.ndim for s in series}
    if not dims <= {1, 2} or len(dims) > 1:
        raise ValueError(
            f"X is a list of series of different shapes; under input_layout={layout!r} every "
            f"series must be {_SAMPLE[layout]} (or 1-D for univariate series), all alike; got "
            f"arrays of {sorted(dims)} dimensions."
        )
    if dims == {1}:
        series = [s[:, np.newaxis] if layout == "nlc" else s[np.newaxis] for s in series]
    channel_axis, time_axis = (1, 0) if layout == "nlc" else (0, 1)
    channels = [s.shape[channel_axis] for s in series]
    if len(set(channels)) > 1:
        first = channels[0]
        other = next(i for i, c in enumerate(channels) if c != first)
        raise ValueError(
            f"X is a list of series with different numbers of channels: series 0 has {first}, "
            f"series {other} has {channels[other]} (input_layout={layout!r} reads every "
            f"series as {_SAMPLE[layout]}). Every series needs the same channels; only the "
            f"lengths may differ."
        )
    length = max(s.shape[time_axis] for s in series)
    if length == 0:
        return X
    padded = np.full((len(series), *_series_sample(channels[0], length, layout)), np.nan)
    for i, s in enumerate(series):
        if not np.issubdtype(s.dtype, np.number) and s.dtype != bool:
            return X  # strings, objects: the conversion error says what X holds
        if layout == "nlc":
            padded[i, : s.shape[0]] = s
        else:
            padded[i, :, : s.shape[1]] = s
    return padded


def _series_sample(channels, length, layout):
    return (length, channels) if layout == "nlc" else (channels, length)


def series_mask(images):
    """Where the series of ``images`` ``(n, 1, length, channels)`` end, from their NaN padding.

    Returns ``None`` where no series is padded. Otherwise ``(values, mask)``:
    ``values`` with zeros in place of the padding, ``mask`` of shape ``(n,
    length)``, true where a series has values. A position is padding where
    every channel is NaN, from there to the end; any other NaN is an error.
    """
    missing = np.isnan(images[:, 0])  # (n, length, channels)
    if not missing.any():
        return None
    padding = missing.all(axis=2)
    # Padding runs from the first padded position to the end.
    after_end = np.logical_or.accumulate(padding, axis=1)
    inside = missing & ~after_end[:, :, np.newaxis]
    if inside.any():
        i, t, _ = np.argwhere(inside)[0]
        raise ValueError(
            f"Input X contains NaN inside series {i} (at time step {t}): only NaN after the "
            f"end of a series (trailing padding, in every channel) marks a shorter series. "
            f"Impute missing values first."
        )
    values_after = after_end & ~padding
    if values_after.any():
        i, t = np.argwhere(values_after)[0]
        start = int(np.argmax(padding[i]))
        raise ValueError(
            f"Input X contains NaN inside series {i} (at time step {start}, with values at "
            f"time step {t} after it): only NaN after the end of a series marks a shorter "
            f"series. Impute missing values first."
        )
    empty = after_end[:, 0]
    if empty.any():
        raise ValueError(
            f"X holds an empty series: series {int(np.argmax(empty))} is NaN from its first "
            f"time step; every series needs a value."
        )
    values = np.where(missing[:, np.newaxis], 0, images)
    return values, ~after_end


def with_mask(values, mask):
    """The engine's batch of padded series: the mask as one more, last channel.

    The network reads the channel as the mask, not as data (see
    :mod:`skcnn._engine.masking`).
    """
    mask = mask.astype(values.dtype)[:, np.newaxis, :, np.newaxis]
    return np.concatenate([values, mask], axis=3)


@contextmanager
def _clear_errors(X, dtype, layout="auto"):
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
            series = (
                " For series of different lengths, state input_layout='ncl' (a list of "
                "(n_channels, n_timepoints) arrays, as aeon holds them) or 'nlc' (a list of "
                "(length, channels) arrays): they are padded, and the padding is ignored."
                if layout not in SERIES_LAYOUTS
                else ""
            )
            raise ValueError(
                "X is ragged: its samples have different lengths. Every sample must have "
                f"the same shape; pad or crop them to one size first.{series}"
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


def _layout(estimator):
    return getattr(estimator, "input_layout", "auto")


def _finite_check(layout):
    """What scikit-learn's checks allow: NaN only in series, where it may be padding."""
    return "allow-nan" if layout in SERIES_LAYOUTS else True


def validate_fit_X_y(estimator, X, y, dtype, reset=True, **y_kwargs):
    """Check ``X`` and ``y`` for training; return images, ``y`` and the sample shape.

    With ``reset`` (a new fit) this sets ``n_features_in_`` (features per
    flattened sample) and, for DataFrames, ``feature_names_in_``; without
    (``partial_fit``, ``warm_start``), ``X`` must match the fitted shape.
    ``y_kwargs`` go to scikit-learn's ``validate_data`` (``multi_output``,
    ``y_numeric`` for regressors). Padded series come with their mask as one
    more channel (:func:`with_mask`) than the sample shape says.
    """
    if not reset:
        images = validate_predict_X(estimator, X, dtype, training=True)
        y = validate_data(estimator, X="no_validation", y=y, **y_kwargs)
        check_consistent_length(images, y)
        return images, y, estimator.input_shape_
    layout = _layout(estimator)
    if layout in SERIES_LAYOUTS:
        X = _collection(X, layout)
    with _clear_errors(X, dtype, layout):
        X, y = validate_data(
            estimator,
            X,
            y,
            allow_nd=True,
            dtype=dtype,
            ensure_all_finite=_finite_check(layout),
            **y_kwargs,
        )
    if X.ndim > 2 and X.size == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required."
        )
    shape = sample_shape(X.shape, estimator.input_shape, layout)
    if layout == "auto":
        hint = layout_hint(X.shape)
        if hint is not None:
            warnings.warn(InputLayoutWarning(hint), stacklevel=4)
    estimator.n_features_in_ = int(np.prod(shape))
    images = to_images(X, shape, layout)
    if layout in SERIES_LAYOUTS:
        padded = series_mask(images)
        if padded is not None:
            images = with_mask(*padded)
    return images, y, shape


def validate_predict_X(estimator, X, dtype, training=False):
    """Check ``X`` against the fitted sample shape; return images of that shape.

    Series (under ``"nlc"`` and ``"ncl"``) may be shorter than those of the
    training data, or padded: they come padded to the fitted length, with
    their mask (:func:`with_mask`). Longer ones keep their length, except
    for ``training`` (``partial_fit``, ``warm_start``, validation data),
    where they are an error: the fitted network trains on the fitted length.
    """
    shape = estimator.input_shape_
    layout = _layout(estimator)
    if layout in SERIES_LAYOUTS:
        X = _collection(X, layout)
    ndim = getattr(X, "ndim", None)
    if ndim is None:  # lists and other array-likes
        try:
            ndim = np.asarray(X).ndim
        except (ValueError, TypeError):  # ragged lists: let validate_data say why
            ndim = 2
    finite = _finite_check(layout)
    with _clear_errors(X, np.float64 if isinstance(dtype, tuple) else dtype, layout):
        if ndim <= 2 and not (layout in SERIES_LAYOUTS and _other_length_flat(X, shape)):
            # Checks feature names and the number of features the scikit-learn way.
            X = validate_data(estimator, X, reset=False, dtype=dtype, ensure_all_finite=finite)
        else:
            X = check_array(X, allow_nd=True, dtype=dtype, ensure_all_finite=finite)
    if layout not in SERIES_LAYOUTS:
        if ndim > 2 and sample_shape(X.shape, None, layout) != shape:
            raise ValueError(
                f"X has samples of shape {X.shape[1:]}, but {type(estimator).__name__} "
                f"was fitted on samples of shape {shape} (height, width, channels)."
            )
        return to_images(X, shape, layout)
    images = _fitted_series(estimator, X, shape, layout)
    if training and images.shape[2] > shape[1]:
        raise ValueError(
            f"X has series of length {images.shape[2]}, longer than those "
            f"{type(estimator).__name__} was fitted on ({shape[1]} time steps): partial_fit, "
            f"warm_start and validation data train the fitted network, built for that "
            f"length. Crop the series, or fit anew on series padded (with NaN after their "
            f"end) to the longest length."
        )
    return images


def _other_length_flat(X, shape):
    """Whether ``X`` is 2-D univariate series of another length than the fitted ones."""
    n_features = np.shape(X)[1] if np.ndim(X) == 2 else None
    return shape[2] == 1 and n_features is not None and n_features != shape[1]


def _fitted_series(estimator, X, shape, layout):
    """Series ``X`` as batches of the fitted length, with their mask if padded.

    Series longer than the fitted ones keep their length: the estimator
    refuses them, or builds the network for them.
    """
    _, length, channels = shape
    if X.ndim == 2 and X.shape[1] == length * channels:
        own = shape
    elif X.ndim == 2 and channels == 1:
        own = (1, X.shape[1], 1)
    else:
        own = sample_shape(X.shape, None, layout)
    if own[2] != channels:
        raise ValueError(
            f"X has series of {own[2]} channel(s), but {type(estimator).__name__} was fitted "
            f"on series of {channels} channel(s) (input_layout={layout!r})."
        )
    images = to_images(X, own, layout)
    padded = series_mask(images)
    values, mask = padded if padded is not None else (images, None)
    if own[1] < length:
        values = np.pad(values, [(0, 0), (0, 0), (0, length - own[1]), (0, 0)])
        if mask is None:
            mask = np.ones((len(values), own[1]), dtype=bool)
        mask = np.pad(mask, [(0, 0), (0, length - own[1])])
    return values if mask is None else with_mask(values, mask)


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
