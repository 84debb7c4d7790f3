import subprocess
import sys

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skcnn import CNNClassifier, CNNRegressor
from skcnn.inspection import FeatureMapDisplay, FilterDisplay, LossCurveDisplay, layer_names


def test_core_imports_without_matplotlib():
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import skcnn, skcnn.inspection\n"
        "from skcnn.inspection import LossCurveDisplay\n"
        "try:\n"
        "    LossCurveDisplay([1.0, 0.5]).plot()\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "requires matplotlib: pip install matplotlib" in out.stdout
    assert "pip install '.[plot]'" in out.stdout


matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(scope="module")
def fitted(digits_small):
    X, y = digits_small
    clf = CNNClassifier(
        input_shape=(8, 8), filters=(4, 6), hidden_layer_sizes=(8,), max_iter=3, random_state=0
    )
    return clf.fit(X, y), X


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_layer_names(fitted):
    clf, _ = fitted
    assert layer_names(clf) == [
        "conv1", "relu1", "maxpool1", "conv2", "relu2", "maxpool2",
        "flatten1", "dense1", "relu3", "dense2",
    ]  # fmt: skip


def test_filter_display(fitted):
    clf, _ = fitted
    display = FilterDisplay.from_estimator(clf, layer="conv2")
    assert display.filters.shape == (3, 3, 4, 6)
    np.testing.assert_array_equal(display.filters, clf.coefs_[1])
    # 4 rows of 6 filters of 3x3, one pixel of gap between them
    assert display.im_.get_array().shape == (4 * 4 - 1, 6 * 4 - 1)
    assert display.colorbar_ is not None and display.ax_.figure is display.figure_
    by_index = FilterDisplay.from_estimator(clf, layer=3, channels=[1], colorbar=False)
    np.testing.assert_array_equal(by_index.filters, clf.coefs_[1][:, :, [1], :])
    assert by_index.colorbar_ is None


def test_filter_display_replots_on_given_axes(fitted):
    clf, _ = fitted
    display = FilterDisplay.from_estimator(clf)
    _, ax = plt.subplots()
    assert display.plot(ax=ax).ax_ is ax


@pytest.mark.parametrize(
    "layer, match",
    [
        ("conv9", "layer='conv9' is not a layer.*'conv1', 'conv2'"),
        ("relu1", "layer='relu1' is the layer 'relu1'; it must be one of 'conv1', 'conv2'"),
        (10, "layer=10 is out of range: the network has 10 layers"),
        (1.5, "layer must be a layer name"),
    ],
)
def test_filter_display_bad_layer(fitted, layer, match):
    with pytest.raises(ValueError, match=match):
        FilterDisplay.from_estimator(fitted[0], layer=layer)


def test_filter_display_bad_channels(fitted):
    with pytest.raises(ValueError, match="channels must be a list of ints from 0 to 3"):
        FilterDisplay.from_estimator(fitted[0], layer="conv2", channels=[4])


def test_feature_map_display(fitted):
    clf, X = fitted
    display = FeatureMapDisplay.from_estimator(clf, X[0], max_channels=5)
    assert display.names == ["input", "conv1", "relu1", "maxpool1", "conv2", "relu2", "maxpool2"]
    shapes = [m.shape for m in display.feature_maps]
    assert shapes == [(8, 8, 1), (8, 8, 4), (8, 8, 4), (4, 4, 4), (4, 4, 5), (4, 4, 5), (2, 2, 5)]
    # ReLU keeps the positive part of the convolution, pooling the window maxima
    conv, relu, pool = display.feature_maps[1:4]
    np.testing.assert_allclose(relu, np.maximum(conv, 0))
    np.testing.assert_allclose(pool, relu.reshape(4, 2, 4, 2, 4).max(axis=(1, 3)))
    assert len(display.axes_) == len(display.images_) == len(display.colorbars_) == 7
    # the maps lead to the estimator's own prediction
    flat = display.feature_maps[-1]
    assert flat.size == 2 * 2 * 5
    assert display.figure_ is display.axes_[0].figure


def test_feature_map_display_pipeline_and_layers(fitted, digits_small):
    X, y = digits_small
    pipe = make_pipeline(
        MinMaxScaler(), CNNClassifier(input_shape=(8, 8), filters=(3,), max_iter=2, random_state=0)
    ).fit(X * 16, y)
    display = FeatureMapDisplay.from_estimator(pipe, X[0] * 16, layers=["maxpool1", 0])
    assert display.names == ["input", "conv1", "maxpool1"]
    np.testing.assert_allclose(
        display.feature_maps[0][..., 0], pipe[0].transform(X[:1] * 16).reshape(8, 8)
    )
    fig, axes = plt.subplots(3, 1)
    assert display.plot(ax=axes, colorbar=False).colorbars_ == []
    with pytest.raises(ValueError, match=r"ax must hold one Axes per row \(3"):
        display.plot(ax=axes[:2])


def test_feature_map_display_signal():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 32))
    y = (X[:, :16].sum(axis=1) > 0).astype(int)
    clf = CNNClassifier(filters=(3,), kernel_size=5, max_iter=2, random_state=0).fit(X, y)
    display = FeatureMapDisplay.from_estimator(clf, X[:1])
    assert [m.shape for m in display.feature_maps][:2] == [(1, 32, 1), (1, 32, 3)]
    # a signal shows one strip per channel, one under the other
    assert display.images_[1].get_array().shape == (3 * 2 - 1, 32)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"layers": ["dense1"]}, r"layers=\['dense1'\] output flat vectors"),
        ({"layers": ["nope"]}, "layers='nope' is not a layer"),
        ({"max_channels": 0}, "max_channels must be an int >= 1"),
    ],
)
def test_feature_map_display_errors(fitted, kwargs, match):
    clf, X = fitted
    with pytest.raises(ValueError, match=match):
        FeatureMapDisplay.from_estimator(clf, X[0], **kwargs)


def test_feature_map_display_bad_sample(fitted):
    clf, X = fitted
    with pytest.raises(ValueError, match=r"X must be one sample of shape \(8, 8, 1\)"):
        FeatureMapDisplay.from_estimator(clf, X[:2])


def test_displays_need_a_fitted_cnn(digits_small):
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(TypeError, match="estimator must be a skcnn CNNClassifier"):
        LossCurveDisplay.from_estimator(LogisticRegression())
    with pytest.raises(NotFittedError):
        FilterDisplay.from_estimator(CNNClassifier())


def test_loss_curve_display(fitted, digits_small):
    clf, _ = fitted
    display = LossCurveDisplay.from_estimator(clf)
    assert list(display.lines_) == ["loss"] and display.score_ax_ is None
    np.testing.assert_array_equal(display.lines_["loss"].get_ydata(), clf.loss_curve_)
    X, y = digits_small
    reg = CNNRegressor(
        input_shape=(8, 8), filters=(3,), early_stopping=True, max_iter=3, random_state=0
    ).fit(X, y.astype(float))
    display = LossCurveDisplay.from_estimator(reg, log_scale=True)
    assert list(display.lines_) == ["loss", "validation loss", "validation score"]
    assert display.score_ax_.get_ylabel() == "validation R²"
    assert display.ax_.get_yscale() == "log"
    np.testing.assert_array_equal(
        display.lines_["validation score"].get_ydata(), reg.validation_scores_
    )


def test_pictured_layers_compute_what_the_estimator_predicts(fitted):
    """The displays run the layers in the stated order (ReLU before pooling): same scores."""
    from skcnn.inspection import _stated_network

    clf, X = fitted
    out = X[:5].reshape(5, 8, 8, 1)
    for layer in _stated_network(clf):
        out = layer.forward(out)
    np.testing.assert_allclose(
        out, clf._load_network(np.float64).forward(X[:5].reshape(5, 8, 8, 1))
    )


def test_filter_display_wraps_many_single_channel_filters():
    filters = np.arange(3 * 3 * 30, dtype=float).reshape(3, 3, 1, 30)
    display = FilterDisplay(filters, "conv1").plot()
    mosaic = display.im_.get_array()
    # rows of 8 filters, two pixels between rows for the filter numbers
    assert mosaic.shape == (4 * 5 - 2, 8 * 4 - 1)
    np.testing.assert_array_equal(mosaic[5:8, 4:7], filters[:, :, 0, 9])  # row 1, column 1
    assert mosaic.mask[15:, 6 * 4 :].all()  # no filters 30 and 31: blank
    assert [t.get_text() for t in display.ax_.texts] == [str(f) for f in range(30)]


def test_filter_display_with_batch_norm(digits_small):
    """Batch normalization adds scales to coefs_: the filters still come from their conv."""
    X, y = digits_small
    clf = CNNClassifier(
        input_shape=(8, 8), filters=(3, 5), batch_norm=True, max_iter=1, random_state=0
    ).fit(X, y)
    display = FilterDisplay.from_estimator(clf, layer="conv2")
    np.testing.assert_array_equal(display.filters, clf.coefs_[2])  # after batchnorm1's scale
    assert display.filters.shape == (3, 3, 3, 5)


def strength(weights, axis):
    return np.sqrt((weights**2).sum(axis=axis))


def test_filter_display_shows_the_strongest_filters_and_channels_first(fitted):
    clf, _ = fitted
    weights = clf.coefs_[1].astype(float)  # conv2: 4 input channels, 6 filters
    display = FilterDisplay.from_estimator(clf, layer="conv2", max_filters=3, max_channels=2)
    strongest = np.argsort(-strength(weights, (0, 1, 2)))[:3]
    np.testing.assert_array_equal(display.filter_indices, strongest)
    kept = weights[..., strongest]
    channels = np.argsort(-strength(kept, (0, 1, 3)))[:2]
    np.testing.assert_array_equal(display.channel_indices, channels)
    np.testing.assert_array_equal(display.filters, kept[:, :, channels, :])
    # the ticks name the filters and channels by their numbers in the layer
    assert [t.get_text() for t in display.ax_.get_xticklabels()] == [str(f) for f in strongest]
    assert [t.get_text() for t in display.ax_.get_yticklabels()] == [str(c) for c in channels]
    assert display.ax_.get_title() == "conv2: the 3 strongest of 6 filters of 3x3"
    # chosen channels are shown as given; None shows everything in order
    chosen = FilterDisplay.from_estimator(
        clf, layer="conv2", channels=[3, 0], max_filters=None, max_channels=1
    )
    np.testing.assert_array_equal(chosen.filters, weights[:, :, [3, 0], :])
    assert chosen.ax_.get_title() == "conv2: 6 filters of 3x3"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_filters": 0}, "max_filters must be an int >= 1 or None"),
        ({"max_channels": 2.5}, "max_channels must be an int >= 1 or None"),
        ({"rgb": "yes"}, 'rgb must be "auto", True or False'),
        ({"rgb": True}, r"rgb=True shows filters of 3 input channels.*conv1 has 1"),
    ],
)
def test_filter_display_bad_caps_and_rgb(fitted, kwargs, match):
    with pytest.raises(ValueError, match=match):
        FilterDisplay.from_estimator(fitted[0], **kwargs)


@pytest.fixture(scope="module")
def colour_model():
    """A network on 8x8 colour images (3 channels)."""
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(64, 8, 8, 3))
    y = (X[..., 0].mean(axis=(1, 2)) > X[..., 2].mean(axis=(1, 2))).astype(int)
    clf = CNNClassifier(filters=(4, 5), hidden_layer_sizes=(), max_iter=1, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    return clf, X


def test_first_layer_filters_of_colour_images_show_in_colour(colour_model):
    clf, _ = colour_model
    display = FilterDisplay.from_estimator(clf)
    assert display.rgb and display.colorbar_ is None
    image = display.im_.get_array()
    assert image.shape == (3, 4 * 4 - 1, 4)  # RGBA, the gaps transparent
    weights = clf.coefs_[0].astype(float)
    limit = np.abs(weights).max()
    np.testing.assert_allclose(image[:, 4:7, :3], 0.5 + 0.5 * weights[..., 1] / limit)
    assert (image[:, 3::4, 3] == 0).all() and (image[:, :3, 3] == 1).all()
    # deeper layers see feature maps, not colours; without colour, channels as rows
    assert not FilterDisplay.from_estimator(clf, layer="conv2").rgb
    assert FilterDisplay.from_estimator(clf, rgb=False).im_.get_array().shape == (11, 15)


def test_feature_map_display_shows_a_colour_input_in_colour(colour_model):
    clf, X = colour_model
    display = FeatureMapDisplay.from_estimator(clf, X[0])
    image = display.images_[0].get_array()
    low, high = X[0].min(), X[0].max()
    np.testing.assert_allclose(image, (X[0] - low) / (high - low))  # rescaled to [0, 1]
    assert display.colorbars_[0] is None and len(display.colorbars_) == len(display.names)
    separate = FeatureMapDisplay.from_estimator(clf, X[0], rgb=False)
    assert separate.images_[0].get_array().shape == (8, 3 * 9 - 1)
    with pytest.raises(ValueError, match="rgb=True shows a colour image"):
        FeatureMapDisplay.from_estimator(*fitted_pair(), rgb=True)


def fitted_pair():
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(20, 6, 6))
    clf = CNNClassifier(filters=(2,), hidden_layer_sizes=(), max_iter=1, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, np.arange(20) % 2)
    return clf, X[0]


def test_feature_maps_are_numbered(fitted):
    clf, X = fitted
    display = FeatureMapDisplay.from_estimator(clf, X[0], max_channels=5)
    for axis, maps in zip(display.axes_[1:], display.feature_maps[1:]):
        labels = [t.get_text() for t in axis.get_xticklabels()]
        assert labels == [str(c) for c in range(maps.shape[2])]
    assert display.axes_[0].get_xticklabels() == []  # one input channel: no number


def test_loss_curve_ticks_whole_epochs(fitted):
    display = LossCurveDisplay.from_estimator(fitted[0])  # 3 epochs
    display.figure_.canvas.draw()
    ticks = [t for t in display.ax_.get_xticks() if 1 <= t <= 3]
    assert ticks == [1, 2, 3]


def test_filter_colorbar_stays_clear_of_a_neighbouring_plot(fitted):
    clf, _ = fitted
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))  # no layout engine
    display = FilterDisplay.from_estimator(clf, layer="conv2", ax=left)
    LossCurveDisplay.from_estimator(clf, ax=right)
    renderer = fig.canvas.get_renderer()
    colorbar = display.colorbar_.ax.get_tightbbox(renderer)  # label and ticks included
    assert colorbar.x1 < right.get_tightbbox(renderer).x0


def test_filter_figure_fits_its_filters(fitted):
    clf, _ = fitted
    few = FilterDisplay.from_estimator(clf, layer="conv1").figure_.get_size_inches()
    filters = np.random.RandomState(0).normal(size=(3, 3, 32, 64))
    many = FilterDisplay(filters[:, :, :8, :32], "conv2").plot().figure_.get_size_inches()
    assert few[0] < 6 and few[1] < 4
    assert many[0] <= 12 and many[1] <= 9 and many[0] > 2 * many[1]  # wide, like its grid
