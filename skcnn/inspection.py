"""Pictures of a fitted network: its filters, its feature maps, its training.

The displays follow scikit-learn's pattern (as in :mod:`sklearn.inspection`):
``Display.from_estimator(estimator, ...)`` computes what to show and plots
it; the display keeps the computed data, and ``display.plot(ax=...)`` draws
it again, on other axes or with other options. Plotting needs matplotlib
(``pip install "skcnn[plot]"``); computing does not, and ``import skcnn``
never imports it.

Layers are named after the words of the ``layers=`` specs, counted from 1
in the order the estimator states them (``layers_``): ``"conv1"``,
``"relu1"``, ``"maxpool1"``, ``"conv2"``, ..., ``"flatten1"``,
``"dense1"``. An int picks the layer by its position in ``layers_``.
"""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._base import BaseCNN
from ._engine.network import layer_names as _names

__all__ = ["FeatureMapDisplay", "FilterDisplay", "LossCurveDisplay", "layer_names"]


def _check_matplotlib(caller):
    """Import matplotlib.pyplot, or say how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib: pip install 'skcnn[plot]' (or pip install matplotlib)."
        ) from exc
    return plt


def _final_estimator(estimator, X=None):
    """The CNN at the end of ``estimator`` and, when given, ``X`` transformed for it."""
    if isinstance(estimator, Pipeline):
        if X is not None:
            X = np.asarray(X)
            X = estimator[:-1].transform(X.reshape(1, -1))
        estimator = estimator[-1]
    if not isinstance(estimator, BaseCNN):
        raise TypeError(
            f"estimator must be a skcnn CNNClassifier or CNNRegressor (or a pipeline "
            f"ending with one); got {type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    return estimator, X


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
    """Tile 2-D arrays of one shape into one array, separated by NaN gaps."""
    height, width = images[0].shape
    n = len(images)
    if vertical:
        out = np.full((n * (height + gap) - gap, width), np.nan)
        for i, image in enumerate(images):
            out[i * (height + gap) : i * (height + gap) + height] = image
    else:
        out = np.full((height, n * (width + gap) - gap), np.nan)
        for i, image in enumerate(images):
            out[:, i * (width + gap) : i * (width + gap) + width] = image
    return out


def _diverging_cmap(plt, cmap):
    return plt.get_cmap(cmap).with_extremes(bad="white")


def _symmetric_limit(values):
    limit = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    return limit or 1.0


class FilterDisplay:
    """The learned filters of a convolution layer, as a grid of small images.

    Every column is one filter, every row one of its input channels: the
    pattern the filter looks for. Red weights reward bright (positive)
    inputs at that pixel, blue ones penalize them. Create it with
    :meth:`from_estimator`.

    Parameters
    ----------
    filters : ndarray of shape (kernel_height, kernel_width, channels, n_filters)
        The weights, as in the estimator's ``coefs_``.
    layer_name : str
        Name of the layer, for the title.

    Attributes
    ----------
    im_ : matplotlib AxesImage
        The mosaic of filters: filters side by side, input channels one
        under the other (one input channel: rows of 8 when there are more
        than 16 filters).
    colorbar_ : matplotlib Colorbar or None
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
    """

    def __init__(self, filters, layer_name):
        self.filters = filters
        self.layer_name = layer_name

    @classmethod
    def from_estimator(
        cls, estimator, *, layer="conv1", channels=None, ax=None, cmap="RdBu_r", colorbar=True
    ):
        """Show the filters of one convolution layer of a fitted estimator.

        Parameters
        ----------
        estimator : CNNClassifier, CNNRegressor or Pipeline
            Fitted; a pipeline shows its final step.
        layer : str or int, default="conv1"
            A convolution layer, by name (``"conv2"``) or position in ``layers_``.
        channels : list of int, default=None
            Input channels to show (rows); ``None`` shows them all.
        ax : matplotlib Axes, default=None
            Where to draw; ``None`` makes a new figure.
        cmap : str, default="RdBu_r"
            A diverging colormap: zero is its middle.
        colorbar : bool, default=True
            Whether to add a colorbar.

        Returns
        -------
        display : FilterDisplay
        """
        estimator, _ = _final_estimator(estimator)
        names = _names(estimator.layers_)
        index = _layer_index(layer, names, "layer", kinds={"conv"})
        filters = _stated_network(estimator)[index].weights
        if channels is not None:
            channels = np.atleast_1d(np.asarray(channels))
            n_channels = filters.shape[2]
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
            filters = filters[:, :, channels, :]
        display = cls(filters=np.asarray(filters, dtype=np.float64), layer_name=names[index])
        return display.plot(ax=ax, cmap=cmap, colorbar=colorbar)

    def plot(self, ax=None, *, cmap="RdBu_r", colorbar=True):
        """Draw the filters.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; ``None`` makes a new figure.
        cmap : str, default="RdBu_r"
        colorbar : bool, default=True

        Returns
        -------
        display : FilterDisplay
            With ``ax_``, ``figure_``, ``im_`` and ``colorbar_`` set.
        """
        plt = _check_matplotlib("FilterDisplay.plot")
        kh, kw, n_channels, n_filters = self.filters.shape
        # One input channel: many filters wrap into rows of 8; several: a row per channel.
        per_row = 8 if n_channels == 1 and n_filters > 16 else n_filters
        n_rows = n_channels if n_channels > 1 else -(-n_filters // per_row)
        if ax is None:
            width = min(12, 1.5 + 0.45 * per_row * (kw + 1) / 4)
            height = min(10, 1.2 + 0.45 * n_rows * (kh + 1) / 4)
            _, ax = plt.subplots(figsize=(max(width, 4.5), max(height, 2.5)), layout="constrained")
        if n_channels > 1:
            tiles = [
                [self.filters[:, :, c, f] for f in range(n_filters)] for c in range(n_channels)
            ]
        else:
            blank = np.full((kh, kw), np.nan)
            tiles = [
                [
                    self.filters[:, :, 0, f] if f < n_filters else blank
                    for f in range(r, r + per_row)
                ]
                for r in range(0, n_filters, per_row)
            ]
        mosaic = _mosaic([_mosaic(row) for row in tiles], vertical=True)
        limit = _symmetric_limit(mosaic)
        self.im_ = ax.imshow(
            mosaic,
            cmap=_diverging_cmap(plt, cmap),
            vmin=-limit,
            vmax=limit,
            interpolation="nearest",
        )
        step = max(1, per_row // 16)
        ax.set_xticks(np.arange(0, per_row, step) * (kw + 1) + (kw - 1) / 2)
        ax.set_xticklabels(range(0, per_row, step))
        step = max(1, n_rows // 16)
        if n_channels > 1:
            ax.set_yticks(np.arange(0, n_rows, step) * (kh + 1) + (kh - 1) / 2)
            ax.set_yticklabels(range(0, n_rows, step))
            ax.set_xlabel("filter")
            ax.set_ylabel("input channel")
        elif n_rows > 1:
            ax.set_yticks(np.arange(0, n_rows, step) * (kh + 1) + (kh - 1) / 2)
            ax.set_yticklabels(range(0, n_filters, step * per_row))
            ax.set_xlabel("filter = row label + column label")
        else:
            ax.set_yticks([])
            ax.set_xlabel("filter")
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(f"{self.layer_name}: {n_filters} filters of {kh}x{kw}")
        self.colorbar_ = (
            ax.figure.colorbar(self.im_, ax=ax, label="weight", shrink=0.8) if colorbar else None
        )
        self.ax_, self.figure_ = ax, ax.figure
        return self


class FeatureMapDisplay:
    """One input through the network: what every layer makes of it.

    Every row shows the output of one layer, one small image per channel
    (feature map): after a convolution, where its filter matches (red) or
    anti-matches (blue); after ReLU, only the matches are left; after
    pooling, the same maps, smaller. Signals (inputs of height 1) show one
    strip per channel. Create it with :meth:`from_estimator`.

    Parameters
    ----------
    feature_maps : list of ndarray of shape (height, width, channels)
        The input first, then the output of every layer shown.
    names : list of str
        ``"input"``, then the names of the layers shown.

    Attributes
    ----------
    images_ : list of matplotlib AxesImage
        One per row.
    colorbars_ : list of matplotlib Colorbar
        One per row (empty without colorbars).
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

    def __init__(self, feature_maps, names):
        self.feature_maps = feature_maps
        self.names = names

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        layers=None,
        max_channels=8,
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
            without a leading axis of length 1.
        layers : list of str or int, default=None
            The layers to show, by name or position in ``layers_``; they must
            output images (not flat vectors). ``None`` shows every such layer
            except dropout (which does nothing at prediction).
        max_channels : int, default=8
            Show at most the first ``max_channels`` channels of every layer.
        ax : array-like of matplotlib Axes, default=None
            One per row (the input and every layer); ``None`` makes a new figure.
        cmap : str, default="RdBu_r"
            A diverging colormap: zero is its middle.
        colorbar : bool, default=True
            Whether to add a colorbar to every row.

        Returns
        -------
        display : FeatureMapDisplay
        """
        estimator, X = _final_estimator(estimator, X)
        X = np.asarray(X, dtype=np.float64)
        shape = estimator.input_shape_
        if X.size != np.prod(shape):
            raise ValueError(
                f"X must be one sample of shape {shape} ({int(np.prod(shape))} values, "
                f"flattened or not); got an array of shape {X.shape}."
            )
        if not (isinstance(max_channels, (int, np.integer)) and max_channels >= 1):
            raise ValueError(f"max_channels must be an int >= 1; got {max_channels!r}.")
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
        output = X.reshape(1, *shape)
        maps, shown = [output[0, ..., :max_channels]], ["input"]
        for i, layer in enumerate(network[: (chosen[-1] + 1) if chosen else 0]):
            output = layer.forward(output)
            if i in chosen:
                maps.append(output[0, ..., :max_channels])
                shown.append(names[i])
        display = cls(feature_maps=maps, names=shown)
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
            width = 10 if signal else min(14, 2.5 + 1.3 * n_cols)
            heights = [max(0.9, 0.3 * m.shape[2]) if signal else 1.5 for m in self.feature_maps]
            _, axes = plt.subplots(
                n_rows,
                1,
                figsize=(width, sum(heights) + 0.4 * n_rows),
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
        for axis, maps, name in zip(axes, self.feature_maps, self.names):
            tiles = [maps[..., c] for c in range(maps.shape[2])]
            mosaic = _mosaic(tiles, vertical=signal)
            limit = _symmetric_limit(mosaic)
            image = axis.imshow(
                mosaic,
                cmap=colormap,
                vmin=-limit,
                vmax=limit,
                interpolation="nearest",
                aspect="auto" if signal else "equal",
            )
            axis.set_anchor("W")  # rows start at the left edge, whatever their width
            self.images_.append(image)
            axis.set_xticks([])
            axis.set_yticks([])
            for spine in axis.spines.values():
                spine.set_visible(False)
            height, width = maps.shape[:2]
            axis.set_ylabel(f"{name}\n{height}x{width}", rotation=0, ha="right", va="center")
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
