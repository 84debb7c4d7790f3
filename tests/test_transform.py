"""transform and get_feature_names_out: a fitted CNN as a feature extractor."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skcnn import CNNClassifier, CNNRegressor

SMALL = dict(input_shape=(8, 8), filters=(4, 8), hidden_layer_sizes=(16,), random_state=0)


@pytest.fixture(scope="module")
def fitted(digits_small):
    X, y = digits_small
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return CNNClassifier(max_iter=3, **SMALL).fit(X, y)


def test_default_features_are_what_the_output_layer_sees(fitted, digits_small):
    X, _ = digits_small
    features = fitted.transform(X)
    assert features.shape == (len(X), 16) and features.dtype == np.float64
    assert np.all(features >= 0)  # after the last ReLU
    # The output layer's scores are an affine map of exactly these features.
    scores = features @ fitted.coefs_[-1] + fitted.intercepts_[-1]
    proba = np.exp(scores - scores.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(proba, fitted.predict_proba(X), rtol=1e-10)
    names = fitted.get_feature_names_out()
    assert list(names[:2]) == ["relu3_0", "relu3_1"] and len(names) == 16
    assert fitted.layers_[-2] == ("relu",)


@pytest.mark.parametrize(
    "feature_layer, shape, first_name",
    [
        ("conv1", (8, 8, 4), "conv1_r0_c0_ch0"),
        ("relu1", (8, 8, 4), "relu1_r0_c0_ch0"),  # before pooling, as stated
        ("maxpool2", (2, 2, 8), "maxpool2_r0_c0_ch0"),
        ("dense1", (16,), "dense1_0"),
        (-1, (10,), "dense2_0"),
        (0, (8, 8, 4), "conv1_r0_c0_ch0"),
        (2, (4, 4, 4), "maxpool1_r0_c0_ch0"),
    ],
)
def test_any_layer_by_name_or_index(fitted, digits_small, feature_layer, shape, first_name):
    X, _ = digits_small
    clf = fitted.set_params(feature_layer=feature_layer)
    try:
        features = clf.transform(X[:5])
        names = clf.get_feature_names_out()
    finally:
        clf.set_params(feature_layer=None)
    assert features.shape == (5, int(np.prod(shape)))
    assert len(names) == features.shape[1] and names[0] == first_name
    # Flattened in (row, column, channel) order, as the stated layers compute it.
    stated = clf._load_network(reorder=False)
    out = X[:5].reshape(5, 8, 8, 1)
    for name, layer in zip(stated.names, stated.layers):
        out = layer.forward(out)
        if name == names[0].split("_")[0]:
            break
    np.testing.assert_allclose(features, out.reshape(5, -1), rtol=1e-6)


def test_network_prints_the_layer_names(fitted):
    text = repr(fitted.network_)
    for name in ("conv1", "maxpool1", "relu1", "conv2", "flatten1", "dense1", "dense2"):
        assert f"\n  {name} " in text
    # The engine runs each ReLU after the pooling it precedes; names follow the layers.
    assert text.index("maxpool1") < text.index("relu1")


def test_bad_feature_layer_fails_at_fit(digits_small):
    X, y = digits_small
    for bad in ("conv9", 99):
        with pytest.raises(ValueError, match=rf"feature_layer={bad!r} names no layer.*'maxpool1'"):
            CNNClassifier(feature_layer=bad, max_iter=1, **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="The 'feature_layer' parameter"):
        CNNClassifier(feature_layer=1.5, **SMALL).fit(X, y)


@pytest.mark.slow
def test_cnn_features_feed_another_estimator(digits):
    X, y = digits
    pipe = make_pipeline(
        CNNClassifier(max_iter=10, **SMALL), LogisticRegression(max_iter=2000)
    ).set_output(transform="pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X[:1200], y[:1200])
    assert pipe.score(X[1200:], y[1200:]) > 0.85
    frame = pipe[0].transform(X[:3])
    assert list(frame.columns) == list(pipe[0].get_feature_names_out())


def test_float32_in_float32_out(fitted, digits_small):
    X, _ = digits_small
    assert fitted.transform(X.astype(np.float32)).dtype == np.float32


def test_regressor_transform(digits_small):
    X, y = digits_small
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = CNNRegressor(max_iter=2, feature_layer="maxpool1", **SMALL).fit(X, y.astype(float))
    assert reg.transform(X[:4]).shape == (4, 4 * 4 * 4)
    assert len(reg.get_feature_names_out()) == 64
