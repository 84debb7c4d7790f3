import subprocess
import sys

import numpy as np
import pytest
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
    assert "skcnn[plot]" in out.stdout


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
    assert mosaic.shape == (4 * 4 - 1, 8 * 4 - 1)  # rows of 8 filters
    np.testing.assert_array_equal(mosaic[4:7, 4:7], filters[:, :, 0, 9])  # row 1, column 1
    assert mosaic.mask[12:, 6 * 4 :].all()  # no filters 30 and 31: blank
    assert display.ax_.get_xlabel() == "filter = row label + column label"


def test_filter_display_with_batch_norm(digits_small):
    """Batch normalization adds scales to coefs_: the filters still come from their conv."""
    X, y = digits_small
    clf = CNNClassifier(
        input_shape=(8, 8), filters=(3, 5), batch_norm=True, max_iter=1, random_state=0
    ).fit(X, y)
    display = FilterDisplay.from_estimator(clf, layer="conv2")
    np.testing.assert_array_equal(display.filters, clf.coefs_[2])  # after batchnorm1's scale
    assert display.filters.shape == (3, 3, 3, 5)
