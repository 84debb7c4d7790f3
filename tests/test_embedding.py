"""The embedding layer: its gradient, its ids, and a network that starts with it."""

import pickle
import warnings

import numpy as np
import pytest

from skcnn import CNNClassifier
from skcnn._engine.embedding import Embedding, _sum_rows_by_id
from skcnn.exceptions import InputScaleWarning
from skcnn.layers import Layer, check_layer


def ids(rng, shape, n_tokens):
    return rng.randint(0, n_tokens, shape).astype(np.float64)


@pytest.mark.parametrize("input_shape", [(1, 9, 1), (3, 4, 1)])
@pytest.mark.parametrize("n_tokens", [None, 12])
def test_embedding_gradients(rng, input_shape, n_tokens):
    # The table's gradient is held to finite differences; the ids have none (check_layer
    # asserts that backward returns None for a layer with has_input_gradient = False).
    layer = Embedding(5, n_tokens=n_tokens)
    X = ids(rng, (3, *input_shape), 7)
    X[0, 0, 0, 0] = 0  # padding somewhere
    errors = check_layer(layer, input_shape, X=X)
    assert set(errors) == {"weights"}
    assert errors["weights"] < 1e-7
    assert not Embedding.has_input_gradient


def test_padding_vector_is_zero_and_learns_nothing(rng):
    layer = Embedding(3)
    X = ids(rng, (4, 1, 6, 1), 5)
    X[:, :, 3:] = 0
    layer.build((1, 6, 1))
    layer.adapt(X)
    layer.initialize(rng, np.float64, "he")
    assert layer.table_size == 5
    np.testing.assert_array_equal(layer.weights[0], 0)
    out = layer.forward(X, training=True)
    np.testing.assert_array_equal(out[:, :, 3:], 0)
    np.testing.assert_array_equal(out[0, 0, 0], layer.weights[int(X[0, 0, 0, 0])])
    assert layer.backward(rng.standard_normal(out.shape)) is None
    np.testing.assert_array_equal(layer.grad_weights[0], 0)


def test_rows_summed_by_id_match_a_loop(rng):
    id_list = rng.randint(0, 6, 40)
    rows = rng.standard_normal((40, 3))
    expected = np.zeros((8, 3))
    for i, t in enumerate(id_list):
        expected[t] += rows[i]
    np.testing.assert_allclose(_sum_rows_by_id(id_list, rows, 8), expected)


def test_layers_have_an_input_gradient_unless_they_say_not():
    assert Layer.has_input_gradient is True

    class Leaky(Embedding):  # says it has none, but gives one
        def backward(self, grad_out, need_input_grad=True):
            super().backward(grad_out, need_input_grad)
            return np.zeros(self.input_shape)

    X = np.array([[[[1.0], [2.0], [0.0]]]])
    with pytest.raises(AssertionError, match=r"says it has none \(has_input_gradient = False\)"):
        check_layer(Leaky(3), (1, 3, 1), X=X)


def test_check_layer_needs_the_ids():
    with pytest.raises(ValueError, match="give check_layer a batch X of them"):
        check_layer(Embedding(4), (1, 5, 1))


@pytest.mark.parametrize(
    "bad, match",
    [
        (0.5, r"X must hold token ids, whole numbers >= 0; X holds \d+\.5"),
        (-30, r"whole numbers >= 0 \(0 is padding\); X holds -\d+"),
        (1000, r"an embedding of 30 token ids \(0 to 29, learned .*X holds the id 10\d\d"),
    ],
)
def test_bad_ids_at_predict_are_refused_saying_why(rng, bad, match):
    X = rng.randint(1, 30, (40, 8))
    X[0, 0] = 29
    clf = CNNClassifier(layers=("embedding:4", "conv:4:3", "gmp"), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, X[:, 0] % 2)
    with pytest.raises(ValueError, match=match):
        clf.predict(X + bad)


def test_bad_ids_at_fit_and_a_stated_table(rng):
    X = rng.randint(1, 30, (40, 8))
    y = X[:, 0] % 2
    with pytest.raises(ValueError, match=r"layers\[0\] is an embedding: X must hold token ids"):
        CNNClassifier(layers=("embedding:4", "gmp")).fit(X / 7, y)
    with pytest.raises(ValueError, match=r"an embedding of 10 token ids \(0 to 9\), but X holds"):
        CNNClassifier(layers=("embedding:4:n_tokens=10", "gmp")).fit(X, y)
    with pytest.raises(ValueError, match=r"float32 holds whole numbers exactly only up to 2\*\*24"):
        CNNClassifier(layers=("embedding:4", "gmp")).fit(X + 2**24, y)
    with pytest.raises(ValueError, match=r"ids that large are no vocabulary's.*set n_tokens"):
        CNNClassifier(layers=("embedding:64", "gmp"), dtype="float64").fit(X * 10**6, y)


def test_the_embedding_comes_first(rng):
    X = rng.randint(1, 30, (40, 8))
    block = ("parallel", ("embedding:4",), ("conv:4:3",))
    for layers in [("conv:4:3", "embedding:4"), (block,)]:
        with pytest.raises(ValueError, match=r"must be the first of the layers"):
            CNNClassifier(layers=layers).fit(X, X[:, 0] % 2)


def test_a_text_cnn_learns_from_ids_without_a_scale_warning(rng):
    # Which of two token sets a sequence is drawn from, padded at the end: ids up to
    # 40 would look like raw pixels to the scale hint, which an embedding silences.
    n, length = 300, 12
    y = rng.randint(0, 2, n)
    X = 1 + rng.randint(0, 20, (n, length)) + 20 * y[:, np.newaxis]
    for i, stop in enumerate(rng.randint(3, length, n)):
        X[i, stop:] = 0
    branches = ("parallel", ("conv:8:2", "relu", "gmp"), ("conv:8:3", "relu", "gmp"))
    clf = CNNClassifier(
        layers=("embedding:8", branches),
        batch_size=16,
        learning_rate_init=0.01,
        max_iter=8,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputScaleWarning)
        warnings.filterwarnings("ignore", "Stochastic optimizer")
        clf.fit(X[:200], y[:200])
    assert clf.score(X[200:], y[200:]) > 0.95
    table = clf.parameters_["embedding1.weights"]
    assert table.shape == (41, 8)
    np.testing.assert_array_equal(table[0], 0)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(ValueError, match="X holds the id 41"):
        loaded.predict(np.full((1, length), 41))
