"""Series as inputs: the layouts of X, unequal lengths and their mask, the papers' presets.

The data are two sets of the UCR/UEA archives, stored in ``tests/data`` (see
``tests/data/SOURCES.txt``): GunPoint (univariate, 150 time steps) and
BasicMotions (6 channels, 100 time steps).
"""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skcnn import CNNClassifier, CNNRegressor
from skcnn._architecture import make_network, with_output
from skcnn._engine.gradcheck import numerical_gradient
from skcnn._engine.specs import parse_spec
from skcnn._shapes import layout_hint, sample_shape
from skcnn.architectures import fcn, resnet, time_cnn
from skcnn.exceptions import InputLayoutWarning

DATA = Path(__file__).parent / "data"
SMALL_FCN = fcn(filters=(8, 16, 8))


@pytest.fixture(scope="module")
def basic_motions():
    """BasicMotions in aeon's layout (n_cases, 6 channels, 100 time steps), unit scale."""
    data = np.load(DATA / "basic_motions.npz")
    X, X_test = (data[k].astype(np.float64) for k in ("X_train", "X_test"))
    scale = X.std(axis=(0, 2), keepdims=True)
    return X / scale, data["y_train"], X_test / scale, data["y_test"]


@pytest.fixture(scope="module")
def gunpoint_padded():
    """GunPoint, every series cut to a random length of 90 to 150 and padded with NaN."""
    data = np.load(DATA / "gunpoint.npz")
    rng = np.random.RandomState(0)
    out = []
    for X, y in ((data["X_train"], data["y_train"]), (data["X_test"], data["y_test"])):
        X = X.astype(np.float64)
        lengths = rng.randint(90, 151, len(X))
        X[np.arange(150) >= lengths[:, None]] = np.nan
        out += [X, y, lengths]
    return out


def network_of(layers, input_shape, n_outputs=2):
    """The network of ``layers`` and an output layer, built for ``input_shape``."""
    specs = [parse_spec(spec, f"layers[{i}]") for i, spec in enumerate(layers)]
    specs, _ = with_output(specs, [None] * len(specs), n_outputs)
    return make_network(specs, input_shape)


def quiet_fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def series_model(layers=SMALL_FCN, **params):
    """A small FCN for series in aeon's layout; ``params`` override the defaults."""
    defaults = dict(
        input_layout="ncl", max_iter=10, batch_size=8, learning_rate_init=0.005, random_state=0
    )
    return CNNClassifier(layers=layers, **{**defaults, **params})


# --- how X is read ------------------------------------------------------------------


@pytest.mark.parametrize(
    "X_shape, input_shape, layout, expected",
    [
        ((5, 3, 32, 32), None, "nchw", (32, 32, 3)),
        ((5, 3 * 32 * 32), (3, 32, 32), "nchw", (32, 32, 3)),
        ((5, 8, 6, 3), None, "nhwc", (8, 6, 3)),
        ((5, 8, 6), None, "nhwc", (8, 6, 1)),
        ((5, 128, 3), None, "nlc", (1, 128, 3)),
        ((5, 3, 128), None, "ncl", (1, 128, 3)),
        ((5, 128), None, "nlc", (1, 128, 1)),
        ((5, 128), None, "ncl", (1, 128, 1)),
        ((5, 384), (128, 3), "nlc", (1, 128, 3)),
        ((5, 384), (3, 128), "ncl", (1, 128, 3)),
        ((5, 3, 128), (3, 128), "ncl", (1, 128, 3)),
    ],
)
def test_layouts_read_every_axis(X_shape, input_shape, layout, expected):
    assert sample_shape(X_shape, input_shape, layout) == expected


@pytest.mark.parametrize(
    "X_shape, input_shape, layout, match",
    [
        ((5, 3, 128, 1), None, "ncl", r"input_layout='ncl' reads X as \(n_cases, n_channels, "
         r"n_timepoints\), 3-D, but X has shape \(5, 3, 128, 1\) \(4-D\)"),
        ((5, 128, 3, 1), None, "nlc", r"input_layout='nlc' .* X has shape \(5, 128, 3, 1\)"),
        ((5, 32, 32), None, "nchw", r"input_layout='nchw' .* X has shape \(5, 32, 32\) \(3-D\)"),
        ((5, 3072), None, "nchw", r"needs input_shape=\(channels, height, width\)"),
        ((5, 3072), (32, 32), "nchw", r"input_shape must be None or \(channels, height, width\)"),
        ((5, 384), (128, 4), "nlc", r"describes 512 features per sample, but X has 384"),
        ((5, 3, 128), (128, 3), "ncl", r"does not match the samples of X"),
        ((5, 2, 2, 2, 2), None, "ncl", r"input_layout='ncl' reads X as .* \(5, 2, 2, 2, 2\)"),
    ],
)  # fmt: skip
def test_layouts_refuse_what_they_cannot_read(X_shape, input_shape, layout, match):
    with pytest.raises(ValueError, match=match):
        sample_shape(X_shape, input_shape, layout)


@pytest.mark.parametrize(
    "X_shape, layout",
    [((600, 128, 3), "nlc"), ((600, 24, 1), "nlc"), ((600, 3, 128), "ncl"),
     ((600, 3, 32, 32), "nchw"), ((600, 1, 28, 28), "nchw")],
)  # fmt: skip
def test_auto_names_the_layout_where_the_reading_looks_wrong(X_shape, layout):
    assert f"input_layout={layout!r}" in layout_hint(X_shape)


@pytest.mark.parametrize(
    "X_shape",
    [(600, 8, 8), (600, 28, 28), (600, 1, 64), (600, 32, 32, 3), (600, 6, 6, 3),
     (600, 1, 100, 3), (600, 1, 100, 8), (600, 28, 28, 1)],
)  # fmt: skip
def test_auto_is_silent_on_images_and_documented_signals(X_shape):
    assert layout_hint(X_shape) is None


def test_fit_warns_once_and_a_stated_layout_silences_it(basic_motions):
    X, y = basic_motions[0][:16], basic_motions[1][:16]
    series = X.transpose(0, 2, 1)  # tslearn's layout, (n, 100, 6): 100x6 images under auto
    with pytest.warns(InputLayoutWarning, match=r"set input_layout='nlc'"):
        quiet_fit(CNNClassifier(filters=(2,), hidden_layer_sizes=(), max_iter=1), series, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputLayoutWarning)
        quiet_fit(series_model(input_layout="nlc", max_iter=1), series, y)
        quiet_fit(
            CNNClassifier(input_layout="nhwc", filters=(2,), hidden_layer_sizes=(), max_iter=1),
            series,
            y,
        )


def test_aeon_and_tslearn_layouts_give_the_same_model(basic_motions):
    X, y, X_test, y_test = basic_motions
    aeon = quiet_fit(series_model(max_iter=12), X, y)
    tslearn = quiet_fit(series_model(input_layout="nlc", max_iter=12), X.transpose(0, 2, 1), y)
    assert aeon.input_shape_ == tslearn.input_shape_ == (1, 100, 6)
    np.testing.assert_array_equal(
        aeon.predict_proba(X_test), tslearn.predict_proba(X_test.transpose(0, 2, 1))
    )
    assert aeon.score(X_test, y_test) >= 0.9  # 4 classes: chance is 0.25
    # The kernels run along time, across all 6 channels.
    assert aeon.parameters_["conv1.weights"].shape == (1, 8, 6, 8)


def test_channels_first_images_read_as_channels_last(digits_small):
    X, y = digits_small
    images = X.reshape(-1, 8, 8)
    params = dict(filters=(4,), hidden_layer_sizes=(), max_iter=2, random_state=0)
    last = quiet_fit(CNNClassifier(**params), images[..., None], y)
    first = quiet_fit(CNNClassifier(input_layout="nchw", **params), images[:, None], y)
    assert first.input_shape_ == (8, 8, 1)
    np.testing.assert_array_equal(first.predict_proba(images[:, None]), last.predict_proba(X))


# --- series of unequal length -------------------------------------------------------


def test_nan_padded_series_train_and_predict(basic_motions):
    X, y, X_test, y_test = (a.copy() for a in basic_motions)
    rng = np.random.RandomState(0)
    # tslearn's layout and convention: (n, length, channels), NaN after the end.
    X, X_test = X.transpose(0, 2, 1), X_test.transpose(0, 2, 1)
    lengths = rng.randint(50, 101, len(X_test))
    for Z, n in ((X, rng.randint(50, 101, len(X))), (X_test, lengths)):
        Z[np.arange(100) >= n[:, None]] = np.nan
    model = quiet_fit(series_model(input_layout="nlc", max_iter=12), X, y)
    assert model.input_shape_ == (1, 100, 6)
    assert model.score(X_test, y_test) >= 0.9  # 4 classes: chance is 0.25
    # The same series as a list of arrays of their own lengths, or alone: the same output.
    series = [row[:n] for row, n in zip(X_test, lengths)]
    expected = model.predict_proba(X_test)
    np.testing.assert_allclose(model.predict_proba(series), expected, rtol=1e-6)
    np.testing.assert_allclose(model.predict_proba(series[3][None]), expected[3:4], rtol=1e-5)


def test_aeon_collections_of_unequal_length(basic_motions):
    X, y, X_test, y_test = basic_motions
    rng = np.random.RandomState(0)
    collection = [s[:, : rng.randint(60, 91)] for s in X]  # (6, n_timepoints_i) arrays
    longest = max(s.shape[1] for s in collection)
    # float64: in float32, Adam turns the rounding of the conv biases' zero gradients
    # (a batch normalization follows them) into full steps, which tell nothing here.
    listed = quiet_fit(series_model(max_iter=2, dtype="float64"), collection, y)
    assert listed.input_shape_ == (1, longest, 6)
    # NaN-padded to any length: the same model, since the padding counts nowhere.
    padded = np.full((len(X), 6, 100), np.nan)
    for i, s in enumerate(collection):
        padded[i, :, : s.shape[1]] = s
    nan_padded = quiet_fit(series_model(max_iter=2, dtype="float64"), padded, y)
    assert nan_padded.input_shape_ == (1, 100, 6)
    np.testing.assert_allclose(
        listed.predict_proba(X_test[..., :longest]),
        nan_padded.predict_proba(X_test[..., :longest]),
        rtol=1e-9,
    )


def test_padded_series_get_their_output_alone():
    """Stride-1 'same' convolutions and global pooling: padding changes nothing."""
    layers = ("conv:4:5", "relu", "conv:3:3", "relu", "gap")
    long, short = network_of(layers, (1, 30, 2)), network_of(layers, (1, 17, 2))
    long.initialize(np.random.RandomState(0), np.float64, "he")
    short.load_state(long.named_params())
    series = np.random.RandomState(1).normal(size=(1, 1, 17, 2))
    mask = np.zeros((1, 1, 30, 1))
    mask[:, :, :17] = 1
    padded = np.concatenate([np.pad(series, [(0, 0), (0, 0), (0, 13), (0, 0)]), mask], axis=3)
    np.testing.assert_allclose(long.predict(padded), short.predict(series), rtol=1e-12)


@pytest.mark.parametrize(
    "layers",
    [
        ("conv:3:3", "bn", "relu", "maxpool:2", "conv:2:3", "relu", "gap"),
        (("residual", ("conv:3:3", "relu", "conv:3:3")), "relu", "conv:2:3:2", "gmp"),
    ],
    ids=["bn-maxpool-gap", "residual-stride-gmp"],
)
def test_masked_network_gradients(layers):
    """The backward pass of a padded batch against finite differences, in float64."""
    network = network_of(layers, (1, 11, 2), n_outputs=3)
    rng = np.random.RandomState(0)
    network.initialize(rng, np.float64, "he")
    data = rng.normal(size=(3, 1, 11, 2))
    mask = (np.arange(11) < np.array([11, 7, 4])[:, None]).astype(float)[:, None, :, None]
    data *= mask
    R = rng.normal(size=(3, 3))

    def loss():
        return float(np.sum(network.forward(np.concatenate([data, mask], axis=3), True) * R))

    network.forward(np.concatenate([data, mask], axis=3), training=True)
    grad_X = network.backward(R, need_input_grad=True)
    grads = [g.copy() for g in network.grads]
    # The network reads the series only: the padding is zeros, whatever the batch holds.
    numeric = numerical_gradient(loss, data)
    np.testing.assert_allclose(grad_X[..., :-1], numeric, rtol=1e-5, atol=1e-7)
    assert not grad_X[..., -1].any()
    for param, grad in zip(network.params, grads):
        np.testing.assert_allclose(grad, numerical_gradient(loss, param), rtol=1e-5, atol=1e-7)


def test_masked_batch_normalization_on_shards_counts_the_whole_batch(monkeypatch):
    """Shards of a padded batch: the statistics of every series of the batch, as unsplit."""
    from skcnn._engine import parallel
    from skcnn._engine.parallel import DataParallel

    monkeypatch.setattr(parallel, "shard_size", lambda network: 3)
    network = network_of(("conv:3:3", "bn", "relu", "conv:2:3", "bn", "gap"), (1, 11, 2), 3)
    rng = np.random.RandomState(0)
    network.initialize(rng, np.float64, "he")
    lengths = np.array([11, 7, 4, 9, 2, 11, 5])
    mask = (np.arange(11) < lengths[:, None]).astype(float)[:, None, :, None]
    padded = np.concatenate([rng.normal(size=(7, 1, 11, 2)) * mask, mask], axis=3)
    grad_scores = rng.normal(size=(7, 3))
    buffers = [array.copy() for array in network.buffers]
    whole = network.forward(padded, training=True)
    network.backward(grad_scores)
    expected = [array.copy() for array in network.grads + network.buffers]
    for array, before in zip(network.buffers, buffers, strict=True):
        array[...] = before
    with DataParallel(network, 2, len(padded)) as trainer:
        assert trainer.meets and len(parallel.shard_bounds(7, 3)) == 3
        np.testing.assert_allclose(trainer.forward(padded), whole, rtol=1e-12)
        trainer.backward(grad_scores)
    for got, want in zip(network.grads + network.buffers, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_series_longer_than_the_training_ones(gunpoint_padded):
    X, y, *_ = gunpoint_padded
    short = np.nan_to_num(X[:, :120], nan=0.0)
    model = quiet_fit(series_model(input_layout="nlc", max_iter=1), short, y)
    assert model.input_shape_ == (1, 120, 1)
    # Global pooling ends the convolutions: the same weights take any length.
    full = np.nan_to_num(X, nan=0.0)
    assert model.predict_proba(full).shape == (len(X), 2)
    flat = quiet_fit(series_model(layers=time_cnn(), input_layout="nlc", max_iter=1), short, y)
    longer = r"X has series of length 150, longer than those CNNClassifier was fitted on \(120"
    with pytest.raises(ValueError, match=longer + r" time steps\).*Flatten\(\) makes"):
        flat.predict(full)
    # Shorter ones are padded and masked, where the network can ignore the padding.
    assert model.predict(full[:, :80]).shape == (len(X),)
    with pytest.raises(ValueError, match=r"cannot ignore the padding: Flatten\(\)"):
        flat.predict(full[:, :80])


def test_training_goes_on_with_series_up_to_the_fitted_length(gunpoint_padded):
    X, y, *_ = gunpoint_padded
    model = quiet_fit(series_model(input_layout="nlc", max_iter=1), X[:, :120], y)
    model.partial_fit(X[:, :100], y)  # shorter, padded: fine
    longer = r"X has series of length 150, longer than those CNNClassifier was fitted on"
    with pytest.raises(ValueError, match=longer + r" .* partial_fit, warm_start and valid"):
        model.partial_fit(X, y)
    with pytest.raises(ValueError, match=r"X_val does not match the training data X: " + longer):
        series_model(input_layout="nlc", early_stopping=True).fit(X[:, :120], y, X_val=X, y_val=y)


def test_padded_models_save_and_load(gunpoint_padded):
    X, y, *_ = gunpoint_padded
    model = quiet_fit(series_model(input_layout="nlc", max_iter=1), X[:20], y[:20])
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_regressor_takes_series_of_unequal_length(gunpoint_padded):
    X, _, lengths, *_ = gunpoint_padded
    target = lengths / 150.0  # how long is each series?
    model = CNNRegressor(layers=fcn(filters=(4, 4, 4)), input_layout="nlc", max_iter=2)
    quiet_fit(model.set_params(random_state=0), X, target)
    assert np.isfinite(model.predict(X)).all()


def with_nan(X, where):
    X = X.copy()
    X[where] = np.nan
    return X


@pytest.mark.parametrize(
    "make, layout, match",
    [
        (lambda X: with_nan(X, (0, 40)), "nlc",
         r"Input X contains NaN inside series 0 \(at time step 40, with values at time step 41"),
        (lambda X: with_nan(X, (0, slice(140, None), 0)), "nlc",
         r"Input X contains NaN inside series 0 \(at time step 140\): only NaN after the end"),
        (lambda X: with_nan(X, 0), "nlc", r"X holds an empty series: series 0 is NaN"),
        (lambda X: [X[0, :100].T, X[1, :90, :1].T], "ncl",
         r"different numbers of channels: series 0 has 2, series 1 has 1"),
        (lambda X: [X[0, :100, 0], X[1, :90].T], "ncl", r"a list of series of different shapes"),
        (lambda X: X[..., None], "ncl",
         r"input_layout='ncl' reads X as .* but X has shape \(4, 150, 2, 1\) \(4-D\)"),
        (lambda X: [X[0, :100], X[1, :90]], "auto", r"X is ragged.*state input_layout='ncl'"),
    ],
    ids=["nan-inside", "nan-in-one-channel", "empty-series", "channels-differ", "dims-differ",
         "4-D-under-ncl", "list-under-auto"],
)  # fmt: skip
def test_bad_series_are_refused(make, layout, match):
    X = make(np.random.RandomState(0).normal(size=(4, 150, 2)))  # (n, length, channels)
    with pytest.raises(ValueError, match=match):
        CNNClassifier(layers=SMALL_FCN, input_layout=layout).fit(X, [0, 1, 0, 1][: len(X)])


def test_padded_series_need_global_pooling(gunpoint_padded):
    X, y, *_ = gunpoint_padded
    model = CNNClassifier(layers=time_cnn(), input_layout="nlc")
    refused = r"X holds series of unequal length .* cannot ignore the padding: Flatten\(\) makes"
    with pytest.raises(ValueError, match=refused):
        model.fit(X, y)
    assert not hasattr(model, "layers_")  # refused before any training


# --- the presets ------------------------------------------------------------------------


def test_presets_are_plain_values_that_search_and_clone(basic_motions):
    X, y, *_ = basic_motions
    small = [fcn(filters=(4, 8, 4)), resnet(filters=(4,)), time_cnn(filters=(2, 4))]
    for layers in small:
        assert clone(series_model(layers=layers)).layers == layers
        assert hash(layers)  # tuples of strings and tuples all the way down
    search = GridSearchCV(series_model(max_iter=1), {"layers": small}, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X[:24], y[:24])
    assert [p["layers"] for p in search.cv_results_["params"]] == small


def test_presets_are_the_papers_networks():
    summary = series_model(layers=resnet()).summary((1, 150), n_outputs=2)
    # Three blocks of three convolutions, projected shortcuts where the channels change.
    assert summary.count("Residual(shortcut='projection')") == 2
    assert summary.count("Residual(shortcut='identity')") == 1
    network = network_of(fcn(), (1, 150, 1))
    kernels = [
        (layer.filters, layer.kernel_size) for layer in network.layers if layer.kind == "conv"
    ]
    assert kernels == [(128, (1, 8)), (256, (1, 5)), (128, (1, 3))]
    # aeon's TimeCNN: 150 -> conv 7 -> 144 -> pool 3 -> 48 -> conv 7 -> 42 -> pool 3 -> 14.
    network = network_of(time_cnn(), (1, 150, 1))
    assert network.layers[-2].output_shape == (14 * 12,)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: fcn(filters=(8, 8), kernel_size=(8, 5, 3)), r"kernel_size has 3 entries but"),
        (lambda: resnet(filters=()), r"filters must be a non-empty tuple of ints"),
        (lambda: time_cnn(padding="full"), r"padding must be 'valid' or 'same'; got 'full'"),
        (lambda: fcn(kernel_size=0), r"kernel_size must be a non-empty tuple of ints >= 1"),
    ],
)
def test_presets_refuse_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
