"""Pictures of a fitted network: its filters, its feature maps, its training, its evidence.

The displays follow scikit-learn's pattern (as in :mod:`sklearn.inspection`):
``Display.from_estimator(estimator, ...)`` computes what to show and plots
it; the display keeps the computed data, and ``display.plot(ax=...)`` draws
it again, on other axes or with other options. Plotting needs matplotlib
(``pip install matplotlib``, or ``pip install ".[plot]"`` from a clone of
skcnn); computing does not, and ``import skcnn`` never imports it.

Layers are named after the words of the ``layers=`` specs, counted from 1
in the order the estimator states them (``layers_``): ``"conv1"``,
``"relu1"``, ``"maxpool1"``, ``"conv2"``, ..., ``"flatten1"``,
``"dense1"``. An int picks the layer by its position in ``layers_``.
"""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._base import BaseCNN
from ._engine.attribution import score_gradient
from ._engine.network import layer_names as _names
from ._shapes import validate_predict_X

__all__ = [
    "FeatureMapDisplay",
    "FilterDisplay",
    "LossCurveDisplay",
    "SaliencyDisplay",
    "layer_names",
]


def _check_matplotlib(caller):
    """Import matplotlib.pyplot, or say how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib: pip install matplotlib (or, from a clone of "
            f"skcnn, pip install '.[plot]')."
        ) from exc
    return plt


def _final_estimator(estimator, X=None, argument="x"):
    """The CNN at the end of ``estimator`` and, when given, ``X`` transformed for it."""
    steps = None
    if isinstance(estimator, Pipeline):
        steps, estimator = estimator[:-1], estimator[-1]
    if not isinstance(estimator, BaseCNN):
        raise TypeError(
            f"estimator must be a skcnn CNNClassifier or CNNRegressor (or a pipeline "
            f"ending with one); got {type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    if X is not None and steps is not None:
        X = _through_pipeline(steps, estimator, X, argument)
    return estimator, X


def _through_pipeline(steps, estimator, x, argument="x"):
    """One sample ``x`` of a pipeline's ``X`` through its first ``steps``: a batch of one.

    ``x`` is a sample as ``X[i]`` is one: an array (a row, an image, a
    series of several channels) goes in as ``x[np.newaxis]``, anything
    else (a text, a ``(waveform, rate)`` pair, a clip of another length
    than the others) as the list ``[x]``. A batch of one (``X[:1]``) is
    read as such where that reading fails, in the steps or in the final
    ``estimator``.
    """
    candidates = []
    if isinstance(x, (str, bytes)):
        candidates.append([x])
    else:
        try:
            array = np.asarray(x)
        except (ValueError, TypeError):  # ragged: a pair, or a list of parts
            array = None
        if array is None or array.dtype == object or array.ndim == 0:
            candidates.append([x])
        else:
            candidates.append(array[np.newaxis])
            if array.ndim >= 2 and array.shape[0] == 1:
                candidates.append(array)
    errors = []
    for candidate in candidates:
        try:
            transformed = steps.transform(candidate)
            _one_sample(estimator, transformed, argument)  # the final step reads one sample
            return transformed
        except Exception as exc:  # a step of one's own may fail in any way: say how
            errors.append(exc)
    raise ValueError(
        f"{argument} must be one sample of the pipeline's X (as X[i] is one), or a batch of "
        f"one; read so, it cannot go through the pipeline: "
        f"{type(errors[0]).__name__}: {errors[0]}"
    ) from errors[0]


def layer_names(estimator):
    """Names of the layers of a fitted estimator, in the order of ``layers_``.

    Parameters
    ----------
    estimator : CNNClassifier, CNNRegressor or Pipeline
        Fitted; a pipeline names the layers of its final step.

    Returns
    -------
    names : list of str
        ``"conv1"``, ``"relu1"``, ``"maxpool1"``, ...: the kind of every layer
        (the first word of its ``layers=`` spec) and its count among the
        layers of that kind.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skcnn import CNNClassifier
    >>> from skcnn.inspection import layer_names
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(input_shape=(8, 8), filters=(4,), hidden_layer_sizes=(),
    ...                     max_iter=2, random_state=0).fit(X / 16, y)
    >>> layer_names(clf)
    ['conv1', 'relu1', 'maxpool1', 'flatten1', 'dense1']
    """
    estimator, _ = _final_estimator(estimator)
    return _names(estimator.layers_)


def _layer_index(layer, names, argument, kinds=None):
    """Position of ``layer`` (a name or an int) among ``names``; a clear error otherwise."""
    allowed = [n for n in names if kinds is None or n.rstrip("0123456789") in kinds]
    choices = ", ".join(repr(n) for n in allowed)
    if isinstance(layer, str):
        if layer not in names:
            raise ValueError(
                f"{argument}={layer!r} is not a layer of this network; use one of {choices}."
            )
        index = names.index(layer)
    elif isinstance(layer, (int, np.integer)) and not isinstance(layer, bool):
        if not -len(names) <= layer < len(names):
            raise ValueError(
                f"{argument}={layer} is out of range: the network has {len(names)} layers "
                f"(0 to {len(names) - 1})."
            )
        index = int(layer) % len(names)
    else:
        raise ValueError(
            f"{argument} must be a layer name ({choices}) or an int position; got {layer!r}."
        )
    if names[index] not in allowed:
        raise ValueError(
            f"{argument}={layer!r} is the layer {names[index]!r}; it must be one of {choices}."
        )
    return index


def _stated_network(estimator):
    """The fitted layers in the order the estimator states them, weights in float64.

    The engine runs a ReLU after, not before, the max pooling it precedes
    (the same result, cheaper); pictures show the order the user wrote.
    """
    return estimator._load_network(np.float64, reorder=False).layers


def _mosaic(images, vertical=False, gap=1):
    """Tile arrays of one shape (2-D, or 3-D colour) into one, separated by NaN gaps."""
    height, width = images[0].shape[:2]
    rest = images[0].shape[2:]
    n = len(images)
    if vertical:
        out = np.full((n * (height + gap) - gap, width, *rest), np.nan)
        for i, image in enumerate(images):
            out[i * (height + gap) : i * (height + gap) + height] = image
    else:
        out = np.full((height, n * (width + gap) - gap, *rest), np.nan)
        for i, image in enumerate(images):
            out[:, i * (width + gap) : i * (width + gap) + width] = image
    return out


def _grid(tiles, per_row, gap=1, row_gap=1):
    """Tiles in rows of ``per_row``, left to right, top to bottom; blank (NaN) fill."""
    blank = np.full(tiles[0].shape, np.nan)
    rows = [
        _mosaic(
            [tiles[i] if i < len(tiles) else blank for i in range(start, start + per_row)], gap=gap
        )
        for start in range(0, len(tiles), per_row)
    ]
    return _mosaic(rows, vertical=True, gap=row_gap)


def _rgba(mosaic):
    """An RGB mosaic with NaN gaps as an RGBA image, the gaps transparent."""
    alpha = np.isfinite(mosaic[..., :1]).astype(float)
    return np.concatenate([np.nan_to_num(mosaic, nan=1.0), alpha], axis=-1)


def _diverging_cmap(plt, cmap):
    return plt.get_cmap(cmap).with_extremes(bad="white")


def _symmetric_limit(values):
    limit = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    return limit or 1.0


def _check_max(value, name):
    """``None`` or an int >= 1, else a ValueError naming the argument."""
    if value is None or (
        isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1
    ):
        return value
    raise ValueError(f"{name} must be an int >= 1 or None (all); got {value!r}.")


def _check_rgb(rgb):
    if rgb is True or rgb is False or (isinstance(rgb, str) and rgb == "auto"):
        return rgb
    raise ValueError(f'rgb must be "auto", True or False; got {rgb!r}.')


def _strongest(norms, limit):
    """Indices of the ``limit`` largest ``norms``, largest first (all, in order, if they fit)."""
    if limit is None or len(norms) <= limit:
        return np.arange(len(norms))
    return np.argsort(-norms, kind="stable")[:limit]


def _hide_frame(ax):
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)


class FilterDisplay:
    """The learned filters of a convolution layer, as a grid of small images.

    Every column is one filter, every row one of its input channels: the
    pattern the filter looks for. Red weights reward bright (positive)
    inputs at that pixel, blue ones penalize them. A layer with many filters
    or channels shows the strongest ones (largest L2 norm of their weights),
    strongest first, each labelled with its number in the layer. The
    filters of a first layer on colour (3-channel) images show as colour
    images. Create it with :meth:`from_estimator`.

    Parameters
    ----------
    filters : ndarray of shape (kernel_height, kernel_width, channels, n_filters)
        The weights to show, as in the estimator's ``coefs_``.
    layer_name : str
        Name of the layer, for the title.
    filter_indices : array-like of int, default=None
        Number of every shown filter in its layer; ``None`` is ``0, 1, ...``.
    channel_indices : array-like of int, default=None
        Number of every shown input channel; ``None`` is ``0, 1, ...``.
    n_layer_filters : int, default=None
        Filters of the whole layer, for the title; ``None`` is ``n_filters``.
    rgb : bool, default=False
        Show every filter as one colour image of its 3 input channels (red,
        green, blue): grey is a weight of zero, a filter that rewards red
        inputs is red.

    Attributes
    ----------
    im_ : matplotlib AxesImage
        The mosaic of filters: filters side by side, input channels one
        under the other (one input channel, or colour: rows of 8 filters
        when there are more than 16).
    colorbar_ : matplotlib Colorbar or None
        Under the filters (``None`` without colorbar, and in colour).
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skcnn import CNNClassifier
    >>> from skcnn.inspection import FilterDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(input_shape=(8, 8), filters=(6,), hidden_layer_sizes=(),
    ...                     max_iter=5, random_state=0).fit(X / 16, y)
    >>> display = FilterDisplay.from_estimator(clf, layer="conv1")
    >>> display.filters.shape
    (3, 3, 1, 6)
    >>> FilterDisplay.from_estimator(clf, max_filters=2).filters.shape  # the 2 strongest
    (3, 3, 1, 2)
    """

    def __init__(
        self,
        filters,
        layer_name,
        *,
        filter_indices=None,
        channel_indices=None,
        n_layer_filters=None,
        rgb=False,
    ):
        self.filters = filters
        self.layer_name = layer_name
        self.filter_indices = filter_indices
        self.channel_indices = channel_indices
        self.n_layer_filters = n_layer_filters
        self.rgb = rgb

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        layer="conv1",
        channels=None,
        max_filters=32,
        max_channels=8,
        rgb="auto",
        ax=None,
        cmap="RdBu_r",
        colorbar=True,
    ):
        """Show the filters of one convolution layer of a fitted estimator.

        Parameters
        ----------
        estimator : CNNClassifier, CNNRegressor or Pipeline
            Fitted; a pipeline shows its final step.
        layer : str or int, default="conv1"
            A convolution layer, by name (``"conv2"``) or position in ``layers_``.
        channels : list of int, default=None
            Input channels to show (rows), in this order; ``None`` shows
            them all, or the ``max_channels`` strongest.
        max_filters : int or None, default=32
            Show at most this many filters: those of largest L2 norm over
            all their weights, strongest first. ``None`` shows them all.
        max_channels : int or None, default=8
            Without ``channels``, show at most this many input channels:
            those whose weights in the shown filters have the largest L2
            norm, strongest first. ``None`` shows them all.
        rgb : "auto", bool, default="auto"
            Show every filter as one colour image of its 3 input channels.
            ``"auto"`` does where that makes sense: the first layer of a
            network on colour (3-channel) images, all channels shown.
        ax : matplotlib Axes, default=None
            Where to draw; ``None`` makes a new figure sized to the filters.
        cmap : str, default="RdBu_r"
            A diverging colormap: zero is its middle.
        colorbar : bool, default=True
            Whether to add a colorbar (not in colour).

        Returns
        -------
        display : FilterDisplay
        """
        estimator, _ = _final_estimator(estimator)
        names = _names(estimator.layers_)
        index = _layer_index(layer, names, "layer", kinds={"conv"})
        max_filters = _check_max(max_filters, "max_filters")
        max_channels = _check_max(max_channels, "max_channels")
        rgb = _check_rgb(rgb)
        weights = np.asarray(_stated_network(estimator)[index].weights, dtype=np.float64)
        n_channels, n_filters = weights.shape[2:]
        if channels is not None:
            channels = np.atleast_1d(np.asarray(channels))
            if (
                channels.ndim != 1
                or not np.issubdtype(channels.dtype, np.integer)
                or len(channels) == 0
                or channels.min() < 0
                or channels.max() >= n_channels
            ):
                raise ValueError(
                    f"channels must be a list of ints from 0 to {n_channels - 1} (the input "
                    f"channels of {names[index]}); got {channels.tolist()}."
                )
        if rgb is True and not (n_channels == 3 and channels is None):
            raise ValueError(
                f"rgb=True shows filters of 3 input channels (red, green, blue); "
                f"{names[index]} has {n_channels} input channel(s)"
                + (", and channels picks some of them." if channels is not None else ".")
            )
        if rgb == "auto":
            rgb = index == 0 and n_channels == 3 and channels is None
        shown = _strongest(np.sqrt((weights**2).sum(axis=(0, 1, 2))), max_filters)
        weights = weights[..., shown]
        if channels is None:
            limit = None if rgb else max_channels
            channels = _strongest(np.sqrt((weights**2).sum(axis=(0, 1, 3))), limit)
        display = cls(
            filters=weights[:, :, channels, :],
            layer_name=names[index],
            filter_indices=shown,
            channel_indices=channels,
            n_layer_filters=n_filters,
            rgb=rgb,
        )
        return display.plot(ax=ax, cmap=cmap, colorbar=colorbar)

    def plot(self, ax=None, *, cmap="RdBu_r", colorbar=True):
        """Draw the filters.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; ``None`` makes a new figure sized to the filters.
        cmap : str, default="RdBu_r"
        colorbar : bool, default=True

        Returns
        -------
        display : FilterDisplay
            With ``ax_``, ``figure_``, ``im_`` and ``colorbar_`` set.
        """
        plt = _check_matplotlib("FilterDisplay.plot")
        filters = np.asarray(self.filters, dtype=np.float64)
        kh, kw, n_channels, n_filters = filters.shape
        if self.rgb and n_channels != 3:
            raise ValueError(
                f"rgb=True needs filters of 3 input channels; these have {n_channels}."
            )
        numbers = np.arange(n_filters) if self.filter_indices is None else self.filter_indices
        channel_numbers = (
            np.arange(n_channels) if self.channel_indices is None else self.channel_indices
        )
        limit = _symmetric_limit(filters)
        one_row_per_filter_set = self.rgb or n_channels == 1
        if one_row_per_filter_set:
            # filters side by side, wrapped into rows of 8 when there are many
            per_row = 8 if n_filters > 16 else n_filters
            n_rows = -(-n_filters // per_row)
            row_gap = 2 if n_rows > 1 else 1  # room for the filter numbers
            if self.rgb:
                tiles = [0.5 + 0.5 * filters[..., f] / limit for f in range(n_filters)]
            else:
                tiles = [filters[:, :, 0, f] for f in range(n_filters)]
            mosaic = _grid(tiles, per_row, row_gap=row_gap)
        else:
            per_row, n_rows, row_gap = n_filters, n_channels, 1
            rows = [[filters[:, :, c, f] for f in range(n_filters)] for c in range(n_channels)]
            mosaic = _mosaic([_mosaic(row) for row in rows], vertical=True)
        height, width = mosaic.shape[:2]
        if ax is None:
            pixel = min(0.16, 9.0 / width, 7.0 / height)  # inches per weight
            figsize = (max(4.5, width * pixel + 1.4), max(2.4, height * pixel + 1.8))
            _, ax = plt.subplots(figsize=figsize, layout="constrained")
        if self.rgb:
            self.im_ = ax.imshow(_rgba(mosaic), interpolation="nearest")
        else:
            self.im_ = ax.imshow(
                mosaic,
                cmap=_diverging_cmap(plt, cmap),
                vmin=-limit,
                vmax=limit,
                interpolation="nearest",
            )
        centres_x = np.arange(per_row) * (kw + 1) + (kw - 1) / 2
        small = "small" if per_row <= 16 else "x-small"
        if one_row_per_filter_set and n_rows > 1:
            # every filter's number over it
            ax.set_xticks([])
            ax.set_yticks([])
            for f, number in enumerate(numbers):
                row, column = divmod(f, per_row)
                ax.text(
                    centres_x[column],
                    row * (kh + row_gap) - 0.6,
                    str(number),
                    ha="center",
                    va="bottom",
                    fontsize="x-small",
                )
            ax.set_ylim(height - 0.5, -row_gap - 0.5)
            ax.set_xlabel("filter")
        else:
            ax.set_xticks(centres_x, [str(n) for n in numbers], fontsize=small)
            ax.set_xlabel("filter")
            if one_row_per_filter_set:
                ax.set_yticks([])
            else:
                centres_y = np.arange(n_rows) * (kh + 1) + (kh - 1) / 2
                ax.set_yticks(centres_y, [str(c) for c in channel_numbers], fontsize=small)
                ax.set_ylabel("input channel")
        if self.rgb:
            ax.set_xlabel("filter (colour: the input colour it rewards; grey: weight 0)")
        _hide_frame(ax)
        total = n_filters if self.n_layer_filters is None else self.n_layer_filters
        what = (
            f"{n_filters} filters"
            if total == n_filters
            else f"the {n_filters} strongest of {total} filters"
        )
        ax.set_title(f"{self.layer_name}: {what} of {kh}x{kw}")
        self.colorbar_ = None
        if colorbar and not self.rgb:
            # Under the filters: beside them, its label would run into a neighbouring plot.
            self.colorbar_ = ax.figure.colorbar(
                self.im_, ax=ax, location="bottom", shrink=0.5, aspect=25, label="weight"
            )
        self.ax_, self.figure_ = ax, ax.figure
        return self


class FeatureMapDisplay:
    """One input through the network: what every layer makes of it.

    Every row shows the output of one layer, one small image per channel
    (feature map), numbered as the filters that make them: after a
    convolution, where its filter matches (red) or anti-matches (blue);
    after ReLU, only the matches are left; after pooling, the same maps,
    smaller. A colour (3-channel) input shows as one colour image. Signals
    (inputs of height 1) show one strip per channel. Create it with
    :meth:`from_estimator`.

    Parameters
    ----------
    feature_maps : list of ndarray of shape (height, width, channels)
        The input first, then the output of every layer shown.
    names : list of str
        ``"input"``, then the names of the layers shown.
    rgb : bool, default=False
        Show the input (the first map, of 3 channels) as one colour image.

    Attributes
    ----------
    images_ : list of matplotlib AxesImage
        One per row.
    colorbars_ : list of matplotlib Colorbar or None
        One per row (``None`` for a colour input; empty without colorbars).
    axes_ : ndarray of matplotlib Axes
        One per row.
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skcnn import CNNClassifier
    >>> from skcnn.inspection import FeatureMapDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(input_shape=(8, 8), filters=(6,), hidden_layer_sizes=(),
    ...                     max_iter=5, random_state=0).fit(X / 16, y)
    >>> display = FeatureMapDisplay.from_estimator(clf, X[0] / 16)
    >>> display.names
    ['input', 'conv1', 'relu1', 'maxpool1']
    >>> [m.shape for m in display.feature_maps]
    [(8, 8, 1), (8, 8, 6), (8, 8, 6), (4, 4, 6)]
    """

    def __init__(self, feature_maps, names, *, rgb=False):
        self.feature_maps = feature_maps
        self.names = names
        self.rgb = rgb

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        layers=None,
        max_channels=8,
        rgb="auto",
        ax=None,
        cmap="RdBu_r",
        colorbar=True,
    ):
        """Run one sample through a fitted estimator and show every layer's output.

        Parameters
        ----------
        estimator : CNNClassifier, CNNRegressor or Pipeline
            Fitted; a pipeline transforms ``X`` with its first steps.
        X : array-like
            One sample: flattened, or of the fitted sample shape, with or
            without a leading axis of length 1. For a pipeline, one sample
            of the pipeline's ``X``, as ``X[i]`` is one, or a batch of one.
        layers : list of str or int, default=None
            The layers to show, by name or position in ``layers_``; they must
            output images (not flat vectors). ``None`` shows every such layer
            except dropout (which does nothing at prediction).
        max_channels : int, default=8
            Show at most the first ``max_channels`` channels of every layer.
        rgb : "auto", bool, default="auto"
            Show the input as one colour image (its channels red, green and
            blue, rescaled to its range). ``"auto"`` does for images of 3
            channels.
        ax : array-like of matplotlib Axes, default=None
            One per row (the input and every layer); ``None`` makes a new figure.
        cmap : str, default="RdBu_r"
            A diverging colormap: zero is its middle.
        colorbar : bool, default=True
            Whether to add a colorbar to every row (but a colour input).

        Returns
        -------
        display : FeatureMapDisplay
        """
        estimator, X = _final_estimator(estimator, X, "X")
        shape = estimator.input_shape_
        sample = _one_sample(estimator, X, "X")  # read as the estimator reads X: its layout
        if not (isinstance(max_channels, (int, np.integer)) and max_channels >= 1):
            raise ValueError(f"max_channels must be an int >= 1; got {max_channels!r}.")
        rgb = _check_rgb(rgb)
        colour_input = shape[2] == 3 and shape[0] > 1
        if rgb is True and not colour_input:
            raise ValueError(
                f"rgb=True shows a colour image: an input of 3 channels, of height > 1; "
                f"this estimator's inputs have the shape {shape}."
            )
        network = _stated_network(estimator)
        names = _names(estimator.layers_)
        spatial = [i for i, layer in enumerate(network) if len(layer.output_shape) == 3]
        if layers is None:
            chosen = [i for i in spatial if not names[i].startswith("dropout")]
        else:
            if isinstance(layers, (str, int, np.integer)):
                layers = [layers]
            chosen = sorted({_layer_index(layer, names, "layers") for layer in layers})
            not_spatial = [names[i] for i in chosen if i not in spatial]
            if not_spatial:
                raise ValueError(
                    f"layers={not_spatial} output flat vectors, not feature maps; choose "
                    f"among {[names[i] for i in spatial]}."
                )
        output = sample[np.newaxis]
        rgb = colour_input if rgb == "auto" else rgb
        maps, shown = [output[0] if rgb else output[0, ..., :max_channels]], ["input"]
        for i, layer in enumerate(network[: (chosen[-1] + 1) if chosen else 0]):
            output = layer.forward(output)
            if i in chosen:
                maps.append(output[0, ..., :max_channels])
                shown.append(names[i])
        display = cls(feature_maps=maps, names=shown, rgb=rgb)
        return display.plot(ax=ax, cmap=cmap, colorbar=colorbar)

    def plot(self, ax=None, *, cmap="RdBu_r", colorbar=True):
        """Draw one row per layer.

        Parameters
        ----------
        ax : array-like of matplotlib Axes, default=None
            One per row; ``None`` makes a new figure.
        cmap : str, default="RdBu_r"
        colorbar : bool, default=True

        Returns
        -------
        display : FeatureMapDisplay
            With ``axes_``, ``figure_``, ``images_`` and ``colorbars_`` set.
        """
        plt = _check_matplotlib("FeatureMapDisplay.plot")
        n_rows = len(self.feature_maps)
        signal = self.feature_maps[0].shape[0] == 1
        if ax is None:
            n_cols = max(m.shape[2] for m in self.feature_maps)
            width = 10 if signal else min(14, 2.8 + 1.3 * n_cols)
            heights = [max(0.9, 0.3 * m.shape[2]) if signal else 1.5 for m in self.feature_maps]
            _, axes = plt.subplots(
                n_rows,
                1,
                figsize=(width, sum(heights) + 0.5 * n_rows),
                height_ratios=heights,
                squeeze=False,
                layout="constrained",
            )
            ax = axes[:, 0]
        axes = np.ravel(np.asarray(ax, dtype=object))
        if len(axes) != n_rows:
            raise ValueError(
                f"ax must hold one Axes per row ({n_rows}: {', '.join(self.names)}); "
                f"got {len(axes)}."
            )
        colormap = _diverging_cmap(plt, cmap)
        self.images_, self.colorbars_ = [], []
        for row, (axis, maps, name) in enumerate(zip(axes, self.feature_maps, self.names)):
            height, width, n_channels = maps.shape
            axis.set_anchor("W")  # rows start at the left edge, whatever their width
            _hide_frame(axis)
            axis.set_ylabel(f"{name}\n{height}x{width}", rotation=0, ha="right", va="center")
            if row == 0 and self.rgb:
                low, high = float(maps.min()), float(maps.max())
                image = axis.imshow((maps - low) / ((high - low) or 1.0), interpolation="nearest")
                axis.set_xticks([])
                axis.set_yticks([])
                self.images_.append(image)
                if colorbar:
                    self.colorbars_.append(None)
                continue
            mosaic = _mosaic([maps[..., c] for c in range(n_channels)], vertical=signal)
            limit = _symmetric_limit(mosaic)
            image = axis.imshow(
                mosaic,
                cmap=colormap,
                vmin=-limit,
                vmax=limit,
                interpolation="nearest",
                aspect="auto" if signal else "equal",
            )
            self.images_.append(image)
            # every map numbered, as the filter (channel) that makes it
            labels = [str(c) for c in range(n_channels)] if n_channels > 1 else []
            if signal:
                axis.set_xticks([])
                axis.set_yticks(np.arange(n_channels)[: len(labels)] * 2, labels, fontsize="small")
            else:
                centres = np.arange(n_channels) * (width + 1) + (width - 1) / 2
                axis.set_xticks(centres[: len(labels)], labels, fontsize="small")
                axis.set_yticks([])
            if colorbar:
                self.colorbars_.append(
                    axis.figure.colorbar(image, ax=axis, shrink=0.9, panchor=False)
                )
        self.axes_, self.figure_ = axes, axes[0].figure
        return self


class LossCurveDisplay:
    """Training loss per epoch, with the validation score and loss when recorded.

    The data are the estimator's ``loss_curve_``, and with
    ``early_stopping=True`` its ``validation_scores_`` and
    ``validation_loss_curve_``. (Not to be confused with scikit-learn's
    :class:`~sklearn.model_selection.LearningCurveDisplay`, which shows
    scores against the training set size.) Create it with
    :meth:`from_estimator`.

    Parameters
    ----------
    loss_curve : list of float
        Training loss at every epoch.
    validation_loss_curve : list of float, default=None
    validation_scores : list of float, default=None
    score_name : str, default="validation score"

    Attributes
    ----------
    lines_ : dict of str to matplotlib Line2D
        ``"loss"``, and ``"validation loss"`` and ``"validation score"`` when
        recorded.
    ax_ : matplotlib Axes
        The losses.
    score_ax_ : matplotlib Axes or None
        The validation score (a twin of ``ax_`` sharing its x axis).
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skcnn import CNNClassifier
    >>> from skcnn.inspection import LossCurveDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(input_shape=(8, 8), filters=(6,), hidden_layer_sizes=(),
    ...                     early_stopping=True, max_iter=5, random_state=0).fit(X / 16, y)
    >>> display = LossCurveDisplay.from_estimator(clf)
    >>> sorted(display.lines_)
    ['loss', 'validation loss', 'validation score']
    """

    def __init__(
        self,
        loss_curve,
        validation_loss_curve=None,
        validation_scores=None,
        score_name="validation score",
    ):
        self.loss_curve = loss_curve
        self.validation_loss_curve = validation_loss_curve
        self.validation_scores = validation_scores
        self.score_name = score_name

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, log_scale=False):
        """Show the training curves of a fitted estimator.

        Parameters
        ----------
        estimator : CNNClassifier, CNNRegressor or Pipeline
            Fitted; a pipeline shows its final step.
        ax : matplotlib Axes, default=None
            Where to draw; ``None`` makes a new figure.
        log_scale : bool, default=False
            Whether the loss axis is logarithmic.

        Returns
        -------
        display : LossCurveDisplay
        """
        estimator, _ = _final_estimator(estimator)
        score_name = "validation " + ("accuracy" if hasattr(estimator, "classes_") else "R²")
        display = cls(
            loss_curve=list(estimator.loss_curve_),
            validation_loss_curve=getattr(estimator, "validation_loss_curve_", None),
            validation_scores=getattr(estimator, "validation_scores_", None),
            score_name=score_name,
        )
        return display.plot(ax=ax, log_scale=log_scale)

    def plot(self, ax=None, *, log_scale=False):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; ``None`` makes a new figure.
        log_scale : bool, default=False
            Whether the loss axis is logarithmic.

        Returns
        -------
        display : LossCurveDisplay
            With ``ax_``, ``score_ax_``, ``figure_`` and ``lines_`` set.
        """
        plt = _check_matplotlib("LossCurveDisplay.plot")
        from matplotlib.ticker import MaxNLocator

        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, 4), layout="constrained")
        epochs = np.arange(1, len(self.loss_curve) + 1)
        self.lines_ = {}
        (self.lines_["loss"],) = ax.plot(epochs, self.loss_curve, "C0-", label="training loss")
        if self.validation_loss_curve:
            (self.lines_["validation loss"],) = ax.plot(
                epochs[-len(self.validation_loss_curve) :],
                self.validation_loss_curve,
                "C0--",
                label="validation loss",
            )
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 2.5
        ax.set_ylabel("loss")
        if log_scale:
            ax.set_yscale("log")
        self.score_ax_ = None
        if self.validation_scores:
            self.score_ax_ = ax.twinx()
            (self.lines_["validation score"],) = self.score_ax_.plot(
                epochs[-len(self.validation_scores) :],
                self.validation_scores,
                "C1-",
                label=self.score_name,
            )
            self.score_ax_.set_ylabel(self.score_name, color="C1")
            self.score_ax_.tick_params(axis="y", labelcolor="C1")
        handles = list(self.lines_.values())
        ax.legend(handles, [h.get_label() for h in handles], loc="center right")
        ax.set_title("Training curves")
        self.ax_, self.figure_ = ax, ax.figure
        return self


_SALIENCY_METHODS = ("gradient", "gradient_x_input")


def _one_sample(estimator, x, argument="x"):
    """``x`` as one image of the fitted shape, read by the estimator's own path for ``X``.

    ``x`` is one sample (flattened, or shaped as a sample of ``X``) or a
    batch of one; what the estimator refuses in ``X`` it refuses here.
    """
    shape = estimator.input_shape_
    n_values = int(np.prod(shape))
    try:
        size, x_shape = np.size(x), np.shape(x)
    except (ValueError, TypeError):  # ragged lists: the estimator's reading says why
        size, x_shape = n_values, None
    if size != n_values:
        raise ValueError(
            f"{argument} must be one sample of shape {shape} ({n_values} values, flattened or "
            f"not), or a batch of one; got an array of shape {x_shape}."
        )
    # Of n_values values, a batch holds one sample: read x as a batch where it may be
    # one (a leading axis of 1), else (or if that fails) as one sample.
    if x_shape is None:
        candidates = (x,)
    elif len(x_shape) >= 2 and x_shape[0] == 1:
        candidates = (x, [x])
    else:
        candidates = ([x],)
    errors = []
    for candidate in candidates:
        try:
            return validate_predict_X(estimator, candidate, np.float64)[0]
        except ValueError as exc:
            errors.append(exc)
    raise ValueError(
        f"{argument} cannot be read as one sample of shape {shape} or a batch of one: {errors[0]}"
    ) from None


def _target_index(estimator, scores, target):
    """The output whose score is explained, and what to call it: ``(index, name)``."""
    if hasattr(estimator, "classes_"):
        classes = estimator.classes_.tolist()
        if target is None:  # the predicted class (multilabel: the most probable label)
            index = int(np.argmax(scores))
            return index, f"class {classes[index]!r} (predicted)"
        if np.ndim(target) != 0 or target not in classes:
            raise ValueError(
                f"target={target!r} is not a class of this classifier; use one of its "
                f"classes_ {classes}, or None for the predicted class."
            )
        index = classes.index(target)
        return index, f"class {classes[index]!r}"
    n_outputs = len(scores)
    if target is None:
        if n_outputs > 1:
            raise ValueError(
                f"this regressor predicts {n_outputs} outputs: say which to explain with "
                f"target=0 to {n_outputs - 1}."
            )
        return 0, "the output"
    if not (
        isinstance(target, (int, np.integer))
        and not isinstance(target, bool)
        and 0 <= target < n_outputs
    ):
        raise ValueError(
            f"target must be the index of an output of this regressor, an int from 0 to "
            f"{n_outputs - 1}; got {target!r}."
        )
    return int(target), f"output {int(target)}"


def _check_tokens(tokens, n_positions, sample_shape, padded=0):
    """``tokens`` as a list of strings, one per position of a sequence.

    The last ``padded`` positions hold padding: tokens may leave them out,
    and they are labelled ``""``.
    """
    if isinstance(tokens, str):
        tokens = list(tokens)  # a string: one character per position
    try:
        tokens = list(tokens)
    except TypeError:
        raise TypeError(
            f"tokens must be a list of strings, one per position; got {type(tokens).__name__}."
        ) from None
    not_str = [t for t in tokens if not isinstance(t, str)]
    if not_str:
        raise TypeError(f"tokens must be strings, one per position; got {not_str[0]!r}.")
    if n_positions is None:
        raise ValueError(
            f"tokens label the positions of a sequence (inputs of height 1, or token ids "
            f"the first layer embeds); this estimator's inputs are images of shape "
            f"{sample_shape}."
        )
    if n_positions - padded <= len(tokens) < n_positions:
        return tokens + [""] * (n_positions - len(tokens))
    if len(tokens) != n_positions:
        unpadded = f" ({n_positions - padded} before its padding)" if padded else ""
        raise ValueError(
            f"tokens has {len(tokens)} entries, but the input has {n_positions} positions"
            f"{unpadded}; give one string per position."
        )
    return tokens


def _check_transpose(transpose, image):
    """``transpose`` is a bool, and True only for images (not signals or sequences)."""
    if not isinstance(transpose, (bool, np.bool_)):
        raise ValueError(f"transpose must be True or False; got {transpose!r}.")
    if transpose and not image:
        raise ValueError(
            "transpose=True turns an image (an input of height > 1, without tokens); this "
            "input is drawn as a signal or a sequence, along its positions already."
        )


def _overlay(plt, values, limit, cmap, alpha):
    """Signed ``values`` as RGBA colours, as opaque as they are strong (0: transparent)."""
    from matplotlib.colors import Normalize

    rgba = plt.get_cmap(cmap)(Normalize(-limit, limit)(values))
    rgba[..., 3] = np.where(np.isfinite(values), alpha * np.abs(values) / limit, 0.0)
    return rgba


class SaliencyDisplay:
    """Where the evidence is: the input values that move the score of a class.

    A saliency map is the gradient of one output score with respect to the
    input: how much, and which way, the score changes with every pixel,
    time step, spectrogram cell or character (Simonyan et al., 2014). It is
    computed exactly, by the network's own backward pass through the
    function ``predict`` computes (dropout off, batch normalization with its
    running statistics). Red values raise the score, blue ones lower it;
    the map is drawn over the input, as opaque as it is strong: over an
    image (in colour for 3 channels, else in grey, the mean of its
    channels), behind a signal's lines, or behind the tokens of a sequence.
    Where the input has several channels, the map shows their sum. Create
    it with :meth:`from_estimator`.

    Parameters
    ----------
    saliency : ndarray of shape (height, width, channels) or (n_positions,)
        The saliency of every input value, or of every position of a
        sequence (one value per token).
    sample : ndarray of shape (height, width, channels)
        The input, as the network sees it.
    target_name : str
        What the saliency explains, for the title (``"class 3 (predicted)"``).
    score : float
        That score: the logit of the class (before the softmax), or the
        regression output.
    method : {"gradient", "gradient_x_input"}, default="gradient"
    tokens : list of str, default=None
        The text of every position of a sequence, drawn with the saliency
        as its background colour.

    Attributes
    ----------
    im_ : matplotlib AxesImage
        The saliency, as an RGBA image (its colours say the sign and size,
        its opacity the size).
    image_ : matplotlib AxesImage or None
        The input image under it (``None`` for signals and tokens).
    lines_ : list of matplotlib Line2D
        A signal's channels (empty for images and tokens).
    texts_ : list of matplotlib Text
        The tokens (empty without).
    colorbar_ : matplotlib Colorbar or None
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    FeatureMapDisplay : What every layer makes of one input.

    References
    ----------
    K. Simonyan, A. Vedaldi and A. Zisserman, "Deep inside convolutional
    networks: visualising image classification models and saliency maps",
    ICLR workshop, 2014.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skcnn import CNNClassifier
    >>> from skcnn.inspection import SaliencyDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(input_shape=(8, 8), filters=(6,), hidden_layer_sizes=(),
    ...                     max_iter=5, random_state=0).fit(X / 16, y)
    >>> display = SaliencyDisplay.from_estimator(clf, X[0] / 16)
    >>> display.target_name, display.saliency.shape
    ('class 0 (predicted)', (8, 8, 1))
    >>> SaliencyDisplay.from_estimator(clf, X[0] / 16, target=8).target_name
    'class 8'
    """

    def __init__(self, saliency, sample, target_name, score, *, method="gradient", tokens=None):
        self.saliency = saliency
        self.sample = sample
        self.target_name = target_name
        self.score = score
        self.method = method
        self.tokens = tokens

    @classmethod
    def from_estimator(
        cls,
        estimator,
        x,
        *,
        target=None,
        method="gradient",
        tokens=None,
        ax=None,
        cmap="RdBu_r",
        alpha=0.8,
        colorbar=True,
        transpose=False,
    ):
        """Show the saliency of one sample for one output of a fitted estimator.

        Parameters
        ----------
        estimator : CNNClassifier, CNNRegressor or Pipeline
            Fitted; a pipeline transforms ``x`` with its first steps, and the
            saliency is that of the input its final step sees.
        x : array-like, str or other sample
            One sample: flattened or of the shape of a sample of ``X``, or a
            batch of one; read as the estimator reads ``X``. For a pipeline,
            one sample of the pipeline's ``X``, as ``X[i]`` is one (a
            series, a clip, a text), or a batch of one.
        target : class label or int, default=None
            Whose score to explain: a class of ``classes_`` (by default the
            predicted one; for multilabel classifiers the most probable
            label), or for a regressor the index of an output (by default
            the only one). The score is the output layer's: the logit of
            the class, before the softmax; the regression output (for
            ``loss="poisson"``, its log).
        method : {"gradient", "gradient_x_input"}, default="gradient"
            ``"gradient"``: d(score)/d(input), how the score moves with
            every input value. ``"gradient_x_input"``: the gradient times
            the input, the share of every value in the score to first
            order (zero where the input is zero).
        tokens : str or list of str, default=None
            For sequences (inputs of height 1): the text of every position
            (a string gives one character per position), drawn with the
            saliency of the position (summed over its channels) as its
            background. Where the first layer embeds token ids (it has no
            input gradient), the saliency of every position is taken at the
            embedding's output and summed over its dimensions; the tokens
            default to the ids, and may leave out the padding (the ids 0
            that end a short text) as a word's characters do.
        ax : matplotlib Axes, default=None
            Where to draw; ``None`` makes a new figure.
        cmap : str, default="RdBu_r"
            A diverging colormap: zero is its middle.
        alpha : float, default=0.8
            The opacity of the strongest saliency, in (0, 1].
        colorbar : bool, default=True
            Whether to add a colorbar.
        transpose : bool, default=False
            Draw an image with its rows across and its columns upwards: a
            spectrogram of ``(time frames, frequencies)`` with time across
            and the low frequencies at the bottom.

        Returns
        -------
        display : SaliencyDisplay
        """
        estimator, x = _final_estimator(estimator, x)
        if method not in _SALIENCY_METHODS:
            raise ValueError(
                f"method must be one of {', '.join(map(repr, _SALIENCY_METHODS))}; got {method!r}."
            )
        _check_alpha(alpha)
        sample = _one_sample(estimator, x)
        network = estimator._load_network(np.float64)
        embedded = not network.steps[0].has_input_gradient  # an embedding of token ids
        _check_transpose(transpose, sample.shape[0] > 1 and tokens is None and not embedded)
        batch = sample[np.newaxis]
        scores = network.forward(batch)[0].reshape(-1)
        index, target_name = _target_index(estimator, scores, target)
        weights = np.zeros((1, scores.size))
        weights[0, index] = 1.0
        _, gradient, inputs = score_gradient(network, batch, weights)
        saliency = gradient[0] if method == "gradient" else (gradient * inputs)[0]
        positions = None
        if embedded:  # one value per token: summed over the embedding's dimensions
            saliency = saliency.sum(axis=-1).reshape(-1)
            positions = saliency.size
        elif sample.shape[0] == 1:
            positions = sample.shape[1]
        if tokens is not None:
            # Ids end in padding (id 0) where a text is shorter than the sequence.
            padded = int(np.argmax(np.append(sample.ravel()[::-1], 1) != 0)) if embedded else 0
            tokens = _check_tokens(tokens, positions, sample.shape, padded)
            if not embedded:
                saliency = saliency.sum(axis=-1).reshape(-1)
        elif embedded:
            tokens = [str(int(i)) if float(i).is_integer() else str(i) for i in sample.ravel()]
        display = cls(
            saliency=saliency,
            sample=sample,
            target_name=target_name,
            score=float(scores[index]),
            method=method,
            tokens=tokens,
        )
        return display.plot(ax=ax, cmap=cmap, alpha=alpha, colorbar=colorbar, transpose=transpose)

    def plot(self, ax=None, *, cmap="RdBu_r", alpha=0.8, colorbar=True, transpose=False):
        """Draw the saliency over the input.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; ``None`` makes a new figure.
        cmap : str, default="RdBu_r"
        alpha : float, default=0.8
        colorbar : bool, default=True
        transpose : bool, default=False
            Draw an image with its rows across and its columns upwards (a
            spectrogram with time across).

        Returns
        -------
        display : SaliencyDisplay
            With ``ax_``, ``figure_``, ``im_``, ``image_``, ``lines_``,
            ``texts_`` and ``colorbar_`` set.
        """
        plt = _check_matplotlib("SaliencyDisplay.plot")
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        _check_alpha(alpha)
        saliency = np.asarray(self.saliency, dtype=np.float64)
        sample = np.asarray(self.sample, dtype=np.float64)
        _check_transpose(transpose, self.tokens is None and sample.shape[0] > 1)
        # The scale of what is drawn: images and signals show the sum over the channels.
        limit = _symmetric_limit(saliency if self.tokens is not None else saliency.sum(axis=2))
        self.image_, self.lines_, self.texts_ = None, [], []
        if self.tokens is not None:
            ax = self._plot_tokens(plt, ax, saliency.reshape(-1), limit, cmap, alpha)
        elif sample.shape[0] == 1:
            ax = self._plot_signal(plt, ax, saliency, sample, limit, cmap, alpha)
        else:
            ax = self._plot_image(plt, ax, saliency, sample, limit, cmap, alpha, transpose)
        ax.set_title(f"Saliency: {self.target_name}")
        self.colorbar_ = None
        if colorbar:
            mappable = ScalarMappable(Normalize(-limit, limit), plt.get_cmap(cmap))
            label = "d score / d input" if self.method == "gradient" else "gradient x input"
            self.colorbar_ = ax.figure.colorbar(
                mappable,
                ax=ax,
                label=label,
                **({"location": "bottom", "shrink": 0.6, "aspect": 30} if self.tokens else {}),
            )
        self.ax_, self.figure_ = ax, ax.figure
        return self

    def _plot_image(self, plt, ax, saliency, sample, limit, cmap, alpha, transpose):
        """The image in grey (or colour, for 3 channels) and the saliency over it."""
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 4), layout="constrained")
        if transpose:  # rows across, columns upwards
            sample, saliency = sample.transpose(1, 0, 2), saliency.transpose(1, 0, 2)
        origin = "lower" if transpose else "upper"
        if sample.shape[2] == 3:
            low, high = sample.min(), sample.max()
            self.image_ = ax.imshow(
                (sample - low) / ((high - low) or 1.0), origin=origin, interpolation="nearest"
            )
        else:  # one channel (or several: their mean), in light greys, darker where high
            grey = sample.mean(axis=2)
            low, high = float(grey.min()), float(grey.max())
            self.image_ = ax.imshow(
                grey,
                cmap="gray_r",
                vmin=low,
                vmax=high + (high - low),
                origin=origin,
                interpolation="nearest",
            )
        values = saliency.sum(axis=2)  # over the channels: the saliency of every pixel
        self.im_ = ax.imshow(
            _overlay(plt, values, limit, cmap, alpha), origin=origin, interpolation="nearest"
        )
        ax.set_xticks([])
        ax.set_yticks([])
        return ax

    def _plot_signal(self, plt, ax, saliency, sample, limit, cmap, alpha):
        """Every channel as a line over time, the saliency as the background along it."""
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 3), layout="constrained")
        length, n_channels = sample.shape[1:]
        steps = np.arange(length)
        for c in range(n_channels):
            label = f"channel {c}" if n_channels > 1 else None
            self.lines_ += ax.plot(steps, sample[0, :, c], color="0.15", lw=1, label=label)
            if n_channels > 1:
                self.lines_[-1].set_color(f"C{c % 10}")
        low, high = float(sample.min()), float(sample.max())
        margin = 0.05 * ((high - low) or 1.0)
        values = saliency.sum(axis=2)  # (1, length): over the channels
        self.im_ = ax.imshow(
            _overlay(plt, values, limit, cmap, alpha),
            extent=(-0.5, length - 0.5, low - margin, high + margin),
            aspect="auto",
            interpolation="nearest",
            zorder=0,
        )
        ax.set_xlim(-0.5, length - 0.5)
        ax.set_ylim(low - margin, high + margin)
        ax.set_xlabel("time step")
        if n_channels > 1:
            ax.legend(loc="upper right", fontsize="small")
        return ax

    def _plot_tokens(self, plt, ax, saliency, limit, cmap, alpha):
        """The tokens in rows, each on its saliency's colour."""
        tokens = list(self.tokens)
        if len(tokens) != len(saliency):
            raise ValueError(
                f"tokens has {len(tokens)} entries, but the saliency has {len(saliency)} "
                f"positions; give one string per position."
            )
        chars = max(1, max((len(t) for t in tokens), default=1))
        cell = 0.55 * chars + 0.45  # a cell's width, in heights of a cell
        per_row = max(1, min(len(tokens), int(40 // cell)))
        n_rows = -(-len(tokens) // per_row)
        grid = np.full(n_rows * per_row, np.nan)
        grid[: len(tokens)] = saliency
        grid = grid.reshape(n_rows, per_row)
        if ax is None:
            width = min(14.0, 0.25 * per_row * cell + 1.0)
            _, ax = plt.subplots(
                figsize=(max(4.0, width), 0.35 * n_rows + 1.6), layout="constrained"
            )
        self.im_ = ax.imshow(
            _overlay(plt, grid, limit, cmap, alpha),
            aspect=1 / cell,
            interpolation="nearest",
        )
        for i, token in enumerate(tokens):
            row, column = divmod(i, per_row)
            strong = alpha * abs(saliency[i]) / limit > 0.55  # white on the darkest cells
            self.texts_.append(
                ax.text(
                    column,
                    row,
                    token,
                    ha="center",
                    va="center",
                    family="monospace",
                    color="white" if strong else "black",
                )
            )
        ax.set_xticks([])
        ax.set_yticks([])
        _hide_frame(ax)
        return ax


def _check_alpha(alpha):
    if not (isinstance(alpha, (int, float, np.number)) and not isinstance(alpha, bool)) or not (
        0 < alpha <= 1
    ):
        raise ValueError(f"alpha must be a number in (0, 1], the opacity; got {alpha!r}.")
