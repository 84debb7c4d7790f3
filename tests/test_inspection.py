import subprocess
import sys
import warnings

import numpy as np
import pytest
from gradcheck import numerical_gradient
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skcnn import CNNClassifier, CNNRegressor
from skcnn.inspection import (
    FeatureMapDisplay,
    FilterDisplay,
    LossCurveDisplay,
    SaliencyDisplay,
    layer_names,
)
from skcnn.layers import Integer, Layer, register


def test_core_imports_without_matplotlib():
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import skcnn, skcnn.inspection\n"
        "from skcnn.inspection import LossCurveDisplay, SaliencyDisplay\n"
        "for display in LossCurveDisplay([1.0, 0.5]), SaliencyDisplay([0.0], [0.0], '', 0):\n"
        "    try:\n"
        "        display.plot()\n"
        "    except ImportError as exc:\n"
        "        print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "LossCurveDisplay.plot requires matplotlib: pip install matplotlib" in out.stdout
    assert "SaliencyDisplay.plot requires matplotlib: pip install matplotlib" in out.stdout
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


# --- saliency -----------------------------------------------------------------------


def logit_gradient(network, x, index):
    """d(score ``index``)/dx by central differences of the prediction pass, in float64."""
    batch = np.array(x, dtype=np.float64)[np.newaxis]
    return numerical_gradient(lambda: float(network.forward(batch)[0, index]), batch)[0]


def jittered(x, seed=0):
    """A real sample moved off the ties of flat backgrounds (where max pooling has a kink)."""
    return x + np.random.RandomState(seed).uniform(0, 1e-3, size=np.shape(x))


@pytest.fixture(scope="module")
def regularized(digits_small):
    """Batch normalization, dropout, a residual block and a fused conv + pooling."""
    X, y = digits_small
    layers = (
        "conv:4:3", "bn", "relu", "maxpool:2",
        ("residual", ("conv:4:3", "bn", "relu")), "dropout:0.3",
        "flatten", "dense:16", "relu", "dropout:0.5",
    )  # fmt: skip
    clf = CNNClassifier(input_shape=(8, 8), layers=layers, max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    return clf, X


def test_score_gradient_is_the_gradient_of_the_predicted_scores(regularized):
    """Exact in float64, through batch normalization and dropout as prediction runs them."""
    from skcnn._engine.attribution import score_gradient
    from skcnn._engine.normalization import BatchNorm

    clf, X = regularized
    network = clf._load_network(np.float64)
    assert any(type(s).__name__ == "ConvMaxPool2D" for s in network.steps)  # the fused step too
    batch = jittered(X[:3]).reshape(3, 8, 8, 1)
    predicted = network.forward(batch)
    weights = np.random.RandomState(1).normal(size=predicted.shape)
    before = {k: v.copy() for k, v in network.named_buffers().items()}
    scores, gradient, inputs = score_gradient(network, batch, weights)
    np.testing.assert_array_equal(scores, predicted)
    assert inputs is batch
    numeric = numerical_gradient(lambda: float(np.sum(network.forward(batch) * weights)), batch)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-9)
    # the running statistics are left as they were, the layers are themselves again
    for key, value in network.named_buffers().items():
        np.testing.assert_array_equal(value, before[key])
    assert sum(type(layer) is BatchNorm for layer in network.layers) == 1


def test_saliency_is_the_gradient_of_the_class_logit(regularized):
    clf, X = regularized
    x = jittered(X[7])
    network = clf._load_network(np.float64)
    logits = network.forward(x.reshape(1, 8, 8, 1))[0]
    display = SaliencyDisplay.from_estimator(clf, x)
    predicted = int(np.argmax(logits))
    assert display.target_name == f"class {clf.classes_.tolist()[predicted]!r} (predicted)"
    assert display.score == pytest.approx(logits[predicted])
    numeric = logit_gradient(network, x.reshape(8, 8, 1), predicted)
    np.testing.assert_allclose(display.saliency, numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(display.sample, x.reshape(8, 8, 1))
    # another class, and the gradient times the input
    other_class = (predicted + 1) % 10
    other = SaliencyDisplay.from_estimator(clf, x, target=other_class, method="gradient_x_input")
    numeric = logit_gradient(network, x.reshape(8, 8, 1), other_class)
    np.testing.assert_allclose(other.saliency, numeric * x.reshape(8, 8, 1), rtol=1e-6, atol=1e-9)
    assert other.target_name == f"class {other_class}"
    named = SaliencyDisplay.from_estimator(clf, x, target=np.int64(other_class), colorbar=False)
    assert named.target_name == f"class {other_class}"  # named as in classes_


def test_saliency_draws_over_the_image_in_a_users_subplots(fitted):
    clf, X = fitted
    fig, (left, right) = plt.subplots(1, 2)
    display = SaliencyDisplay.from_estimator(clf, X[0], ax=right, alpha=0.5)
    assert display.ax_ is right and display.figure_ is fig and display.colorbar_ is not None
    np.testing.assert_allclose(display.image_.get_array(), X[0].reshape(8, 8))
    overlay = display.im_.get_array()
    assert overlay.shape == (8, 8, 4)  # RGBA: as opaque as the saliency is strong
    strength = np.abs(display.saliency[..., 0])
    np.testing.assert_allclose(overlay[..., 3], 0.5 * strength / strength.max())
    assert right.get_title().startswith("Saliency: class")
    again = display.plot(ax=left, colorbar=False)
    assert again.ax_ is left and again.colorbar_ is None


def test_saliency_of_a_pipeline_is_that_of_the_input_its_cnn_sees(digits_small):
    X, y = digits_small
    pipe = make_pipeline(
        MinMaxScaler(), CNNClassifier(input_shape=(8, 8), filters=(3,), max_iter=2, random_state=0)
    )
    with pytest.warns(ConvergenceWarning):
        pipe.fit(X * 16, y)
    display = SaliencyDisplay.from_estimator(pipe, X[5] * 16, target=y[5])
    seen = pipe[0].transform(X[5:6] * 16).reshape(8, 8, 1)
    np.testing.assert_allclose(display.sample, seen)
    direct = SaliencyDisplay.from_estimator(pipe[-1], seen[..., 0], target=y[5])
    np.testing.assert_allclose(display.saliency, direct.saliency)


@pytest.mark.parametrize(
    "x",
    [
        lambda X: X[0],  # flattened
        lambda X: X[0].reshape(8, 8),  # the shape of a sample
        lambda X: X[:1],  # a batch of one
        lambda X: X[0].reshape(1, 8, 8, 1),
        lambda X: X[0].tolist(),
    ],
)
def test_saliency_reads_one_sample_as_the_estimator_reads_X(fitted, x):
    clf, X = fitted
    display = SaliencyDisplay.from_estimator(clf, x(X), colorbar=False)
    np.testing.assert_array_equal(display.sample, X[0].reshape(8, 8, 1))


def test_saliency_of_regression_outputs(digits_small):
    X, y = digits_small
    targets = np.c_[y, X[:, :32].sum(axis=1)].astype(float)
    reg = CNNRegressor(input_shape=(8, 8), filters=(3,), hidden_layer_sizes=(4,), max_iter=2)
    with pytest.warns(ConvergenceWarning):
        reg.set_params(random_state=0).fit(X, targets)
    x = jittered(X[0])
    display = SaliencyDisplay.from_estimator(reg, x, target=1)
    network = reg._load_network(np.float64)
    np.testing.assert_allclose(
        display.saliency, logit_gradient(network, x.reshape(8, 8, 1), 1), rtol=1e-6, atol=1e-9
    )
    assert display.target_name == "output 1"
    assert display.score == pytest.approx(reg.predict(x[np.newaxis])[0, 1], rel=1e-5)
    with pytest.raises(ValueError, match="predicts 2 outputs: say which to explain with target=0"):
        SaliencyDisplay.from_estimator(reg, x)
    with pytest.raises(ValueError, match="target must be the index of an output.*0 to 1; got 2"):
        SaliencyDisplay.from_estimator(reg, x, target=2)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_saliency_of_a_signal_finds_its_pattern():
    """A pulse at a random place decides the class: the saliency sits on it."""
    rng = np.random.RandomState(0)
    length, width = 48, 8
    X = 0.2 * rng.normal(size=(300, length))
    y = rng.randint(2, size=300)
    starts = rng.randint(0, length - width, size=300)
    for i in np.flatnonzero(y == 1):
        X[i, starts[i] : starts[i] + width] += 1.5
    clf = CNNClassifier(filters=(4,), kernel_size=5, hidden_layer_sizes=(8,), max_iter=15)
    clf.set_params(random_state=0).fit(X, y)
    i = np.flatnonzero(y == 1)[0]
    display = SaliencyDisplay.from_estimator(clf, X[i], target=1, method="gradient_x_input")
    assert display.saliency.shape == (1, length, 1)
    strength = np.abs(display.saliency[0, :, 0])
    pulse = slice(starts[i], starts[i] + width)
    assert strength[pulse].sum() > 0.5 * strength.sum()  # 8 of 48 steps hold most of it
    assert display.im_.get_array().shape == (1, length, 4)
    np.testing.assert_array_equal(display.lines_[0].get_ydata(), X[i])
    assert display.ax_.get_xlabel() == "time step"


def test_saliency_of_tokens_of_a_sequence(fitted):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 10, 3))  # signals of 10 steps and 3 channels
    clf = CNNClassifier(filters=(2,), max_iter=1, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X.reshape(40, 1, 10, 3), np.arange(40) % 2)
    x = X[0].reshape(1, 10, 3)
    per_value = SaliencyDisplay.from_estimator(clf, x, method="gradient_x_input").saliency
    display = SaliencyDisplay.from_estimator(clf, x, method="gradient_x_input", tokens="skcnn-text")
    np.testing.assert_allclose(display.saliency, per_value[0].sum(axis=-1))  # per position
    assert [t.get_text() for t in display.texts_] == list("skcnn-text")
    assert display.im_.get_array().shape == (1, 10, 4)
    with pytest.raises(ValueError, match="tokens has 3 entries, but the input has 10 positions"):
        SaliencyDisplay.from_estimator(clf, x, tokens=["a", "b", "c"])
    with pytest.raises(TypeError, match="tokens must be strings, one per position; got 1"):
        SaliencyDisplay.from_estimator(clf, x, tokens=[1] * 10)
    with pytest.raises(ValueError, match=r"tokens label the positions of a sequence.*\(8, 8, 1\)"):
        SaliencyDisplay.from_estimator(fitted[0], fitted[1][0], tokens="abcdefgh")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"target": 10}, r"target=10 is not a class of this classifier.*\[0, 1, 2"),
        ({"target": "7"}, "target='7' is not a class"),
        (
            {"method": "smooth"},
            "method must be one of 'gradient', 'gradient_x_input'; got 'smooth'",
        ),
        ({"alpha": 0}, r"alpha must be a number in \(0, 1\]"),
        ({"alpha": "0.5"}, r"alpha must be a number in \(0, 1\]"),
    ],
)
def test_saliency_bad_arguments(fitted, kwargs, match):
    clf, X = fitted
    with pytest.raises(ValueError, match=match):
        SaliencyDisplay.from_estimator(clf, X[0], **kwargs)


@pytest.mark.parametrize(
    "x, match",
    [
        (np.zeros(63), r"x must be one sample of shape \(8, 8, 1\) \(64 values, flattened or not"),
        (np.zeros((2, 64)), r"or a batch of one; got an array of shape \(2, 64\)"),
        (np.full(64, np.nan), r"x cannot be read as one sample of shape \(8, 8, 1\).*NaN"),
        (np.full((1, 64), np.nan), r"x cannot be read as one sample .* batch of one: .*NaN"),
        ([[0.0] * 64, [0.0]], r"x cannot be read .* X is ragged"),
        (np.zeros((4, 16)), r"x cannot be read.*fitted on samples of shape \(8, 8, 1\)"),
    ],
)
def test_saliency_bad_sample(fitted, x, match):
    with pytest.raises(ValueError, match=match):
        SaliencyDisplay.from_estimator(fitted[0], x)


def test_saliency_needs_a_fitted_cnn():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        SaliencyDisplay.from_estimator(CNNClassifier(), np.zeros(64))


def test_saliency_refuses_a_layer_that_trains_as_it_does_not_predict():
    """A layer of one's own that adds noise in training: its gradient is not prediction's."""
    from skcnn._engine.attribution import score_gradient
    from skcnn._engine.core import Dense, Flatten
    from skcnn._engine.network import Network
    from skcnn.layers import Layer

    class Noise(Layer):
        def forward(self, X, training=False):
            return X + 0.1 if training else X

        def backward(self, grad_out, need_input_grad=True):
            return grad_out

    network = Network([Noise(), Flatten(), Dense(2)])
    network.build((1, 4, 1))
    network.initialize(np.random.RandomState(0), np.float64, "he")
    with pytest.raises(ValueError, match="layer 'noise1' computes another function in training"):
        score_gradient(network, np.ones((1, 1, 4, 1)), np.ones((1, 2)))


@register
class TokenLookup(Layer):
    """A learned vector for every token id: an embedding, which has no input gradient."""

    kind = "token_lookup"
    arguments = (Integer("vocabulary"), Integer("dimensions"))
    param_names = ("weights",)
    has_input_gradient = False

    def __init__(self, vocabulary, dimensions):
        self.vocabulary, self.dimensions = vocabulary, dimensions

    def build(self, input_shape):  # (1, length, 1) ids -> (1, length, dimensions)
        self.input_shape = tuple(input_shape)
        self.output_shape = (*input_shape[:-1], self.dimensions)
        return self.output_shape

    def initialize(self, rng, dtype, init):
        self.weights = rng.normal(size=(self.vocabulary, self.dimensions)).astype(dtype)

    def forward(self, X, training=False):
        ids = X[..., 0].astype(int)
        self._ids = ids if training else None
        return self.weights[ids]

    def backward(self, grad_out, need_input_grad=True):
        # dL/d(row v) = sum of dL/dout over the positions of token v; ids have no gradient
        self.grad_weights = np.zeros_like(self.weights)
        np.add.at(self.grad_weights, self._ids, grad_out)
        self._ids = None
        return None


ALPHABET = " abcdefghijklmnopqrstuvwxyzäöüß"  # id 0 pads


def words(path, n, rng):
    with open(path, encoding="utf-8") as file:
        found = [w.strip().lower() for w in file]
    found = sorted({w for w in found if 4 <= len(w) <= 12 and set(w) <= set(ALPHABET[1:])})
    return list(rng.choice(found, n, replace=False))


@pytest.fixture(scope="module")
def english_or_german():
    """A character CNN on token ids: English words (0) or German ones (1)."""
    import os

    paths = "/usr/share/dict/american-english", "/usr/share/dict/ngerman"
    if not all(os.path.exists(p) for p in paths):
        pytest.skip("the word lists (Debian packages wamerican and wngerman) are not installed")
    rng = np.random.RandomState(0)
    english, german = (words(path, 300, rng) for path in paths)
    ids = np.array([[ALPHABET.index(c) for c in w.ljust(12)] for w in english + german])
    layers = ("token_lookup:31:8", "conv:16:3", "relu", "globalmaxpool")
    clf = CNNClassifier(input_shape=(12,), layers=layers, max_iter=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # token ids look like unscaled pixels
        clf.fit(ids, np.r_[np.zeros(300), np.ones(300)].astype(int))
    return clf


def test_saliency_of_embedded_tokens_is_taken_at_the_embedding(english_or_german):
    """Per character: the gradient at the embedding's output, summed over its dimensions."""
    clf = english_or_german
    word = "fußgängerweg"  # 12 letters: no padding, whose equal windows tie in the max pooling
    ids = np.array([ALPHABET.index(c) for c in word], dtype=float)
    display = SaliencyDisplay.from_estimator(clf, ids, target=1, tokens=list(word))
    assert display.saliency.shape == (12,)
    assert [t.get_text() for t in display.texts_] == list(word)
    network = clf._load_network(np.float64)
    embedded = network.steps[0].forward(ids.reshape(1, 1, 12, 1))
    rest = network.steps[1:]

    def logit():
        out = embedded
        for step in rest:
            out = step.forward(out)
        return float(out[0, 1])

    numeric = numerical_gradient(logit, embedded)
    np.testing.assert_allclose(display.saliency, numeric.sum(axis=-1).ravel(), atol=1e-9)
    times_input = SaliencyDisplay.from_estimator(clf, ids, target=1, method="gradient_x_input")
    np.testing.assert_allclose(
        times_input.saliency, (numeric * embedded).sum(axis=-1).ravel(), atol=1e-9
    )
    # without tokens, the ids label the positions
    assert [t.get_text() for t in times_input.texts_] == [str(int(i)) for i in ids]


# --- Saliency of pipelines of series, sound and text ---------------------------------


def standardize(X):
    """Every channel of every series to mean 0 and standard deviation 1."""
    return (X - X.mean(axis=-1, keepdims=True)) / X.std(axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def motions_pipeline():
    """BasicMotions (n_cases, 6 channels, 100 steps), each series standardized in the pipeline."""
    from pathlib import Path

    from sklearn.preprocessing import FunctionTransformer

    data = np.load(Path(__file__).parent / "data" / "basic_motions.npz")
    X, y = data["X_train"].astype(np.float64), data["y_train"]
    pipe = make_pipeline(
        FunctionTransformer(standardize),
        CNNClassifier(input_layout="ncl", filters=(4,), kernel_size=5, max_iter=2, random_state=0),
    )
    with pytest.warns(ConvergenceWarning):
        pipe.fit(X, y)
    return pipe, data["X_test"].astype(np.float64)


def test_saliency_of_a_pipeline_reads_x_as_one_sample_of_its_X(motions_pipeline):
    """A series of 6 channels goes through the pipeline whole, not flattened into one."""
    pipe, X = motions_pipeline
    seen = standardize(X[3:4])[0].T  # (100 steps, 6 channels), each channel standardized
    display = SaliencyDisplay.from_estimator(pipe, X[3], colorbar=False)
    np.testing.assert_allclose(display.sample, seen[np.newaxis])
    direct = SaliencyDisplay.from_estimator(pipe[-1], standardize(X[3:4]), colorbar=False)
    np.testing.assert_allclose(display.saliency, direct.saliency)
    batch = SaliencyDisplay.from_estimator(pipe, X[3:4], colorbar=False)  # a batch of one
    np.testing.assert_allclose(batch.saliency, display.saliency)
    maps = FeatureMapDisplay.from_estimator(pipe, X[3], layers=["conv1"], colorbar=False)
    np.testing.assert_allclose(maps.feature_maps[0], seen[np.newaxis])  # the input, first
    with pytest.raises(ValueError, match=r"x must be one sample of the pipeline's X \(as X\[i\]"):
        SaliencyDisplay.from_estimator(pipe, "walking")


def test_saliency_of_several_channels_is_drawn_on_the_scale_of_their_sum(motions_pipeline):
    pipe, X = motions_pipeline
    display = SaliencyDisplay.from_estimator(pipe, X[0], method="gradient_x_input", alpha=0.7)
    drawn = display.saliency.sum(axis=-1)[0]  # per time step
    opacity = display.im_.get_array()[0, :, 3]
    np.testing.assert_allclose(opacity, 0.7 * np.abs(drawn) / np.abs(drawn).max())
    assert display.colorbar_.mappable.norm.vmax == pytest.approx(np.abs(drawn).max())
    assert len(display.lines_) == 6


def test_saliency_of_a_spectrogram_pipeline_drawn_with_time_across():
    from skcnn.datasets import load_spoken_digits
    from skcnn.preprocessing import Spectrogram

    clips, digits, _ = load_spoken_digits()
    spectrogram = Spectrogram(8000, duration=0.5, window_length=200, hop_length=160, n_mels=12)
    pipe = make_pipeline(
        spectrogram, CNNClassifier(filters=(4,), hidden_layer_sizes=(), max_iter=2, random_state=0)
    )
    with pytest.warns(ConvergenceWarning):
        pipe.fit(clips[:60], digits[:60])
    seen = spectrogram.transform([clips[70]])[0]  # (time frames, mel bands)
    display = SaliencyDisplay.from_estimator(pipe, (clips[70], 8000), colorbar=False)
    np.testing.assert_allclose(display.sample[..., 0], seen)  # a (waveform, rate) pair
    across = display.plot(transpose=True, colorbar=False)
    assert across.im_.get_array().shape == (12, len(seen), 4)  # bands up, time across
    assert across.im_.origin == "lower" and across.image_.origin == "lower"
    np.testing.assert_allclose(across.image_.get_array(), seen.T)
    with pytest.raises(ValueError, match="recorded at 16000 Hz"):
        SaliencyDisplay.from_estimator(pipe, (clips[70], 16000))


@pytest.mark.parametrize("transpose", [1, "yes", None])
def test_saliency_transpose_is_a_bool(fitted, transpose):
    clf, X = fitted
    with pytest.raises(ValueError, match="transpose must be True or False"):
        SaliencyDisplay.from_estimator(clf, X[0], transpose=transpose)


def test_saliency_transposes_images_only(english_or_german):
    with pytest.raises(ValueError, match=r"transpose=True turns an image"):
        SaliencyDisplay.from_estimator(english_or_german, np.ones(12), transpose=True)


def test_saliency_of_a_text_pipeline_labels_the_letters_and_leaves_out_the_padding():
    from skcnn.datasets import load_words
    from skcnn.preprocessing import TextVectorizer

    words, language = load_words(["english", "german"])
    pipe = make_pipeline(
        TextVectorizer("char", max_length=12),
        CNNClassifier(layers=("embedding:8", "conv:8:3", "relu", "gmp"), max_iter=2),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.set_params(cnnclassifier__random_state=0).fit(words[::10], language[::10])
    word = "schmetterling"[:9]  # 9 letters, then 3 positions of padding
    display = SaliencyDisplay.from_estimator(pipe, word, tokens=word, method="gradient_x_input")
    assert [t.get_text() for t in display.texts_] == [*word, "", "", ""]
    np.testing.assert_array_equal(display.saliency[9:], 0.0)  # the padding embeds as zeros
    ids = pipe[0].transform([word])
    direct = SaliencyDisplay.from_estimator(pipe[-1], ids, method="gradient_x_input")
    np.testing.assert_allclose(display.saliency, direct.saliency)
    strongest = int(np.argmax(np.abs(display.saliency)))
    assert display.texts_[strongest].get_color() == "white"  # readable on its dark cell
    with pytest.raises(ValueError, match=r"tokens has 8 entries.*12 positions \(9 before"):
        SaliencyDisplay.from_estimator(pipe, word, tokens=word[:8])
    with pytest.raises(ValueError, match=r"tokens has 13 entries.*12 positions"):
        SaliencyDisplay.from_estimator(pipe, "schmetterling", tokens="schmetterling")
