"""Every layer's backward pass against central finite differences, in float64."""

import numpy as np
import pytest
from algorithms import ALGORITHM_PARAMS
from gradcheck import check_layer_gradients, numerical_gradient

from skcnn._engine.activations import ReLU
from skcnn._engine.conv import Conv2D
from skcnn._engine.core import Dense, Flatten
from skcnn._engine.fusion import ConvMaxPool2D
from skcnn._engine.losses import SoftmaxCrossEntropy, SquaredError, log_softmax
from skcnn._engine.normalization import BatchNorm
from skcnn._engine.pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D
from skcnn._engine.regularization import Dropout
from skcnn.layers import check_layer


def built(layer, input_shape, seed=0):
    layer.build(input_shape)
    layer.initialize(np.random.RandomState(seed), np.float64, "he")
    return layer


@pytest.mark.parametrize("algorithm", ALGORITHM_PARAMS)
@pytest.mark.parametrize(
    "kernel, stride, padding",
    [
        ((3, 3), (1, 1), "same"),
        ((3, 2), (2, 1), "valid"),
        ((2, 2), (2, 3), "same"),
        ((1, 3), (1, 1), "valid"),
    ],
)
def test_conv_gradients(algorithm, kernel, stride, padding):
    rng = np.random.RandomState(0)
    layer = built(Conv2D(3, kernel, stride, padding, algorithm=algorithm), (5, 6, 2))
    layer.bias = rng.standard_normal(3)
    check_layer_gradients(layer, rng.standard_normal((2, 5, 6, 2)), rng)


@pytest.mark.parametrize(
    "pool, stride, padding",
    [
        ((2, 2), (2, 2), "valid"),
        ((3, 3), (2, 2), "valid"),
        ((2, 3), (1, 2), "same"),
        ((2, 2), (2, 2), "same"),
    ],
)
def test_maxpool_gradients(pool, stride, padding):
    rng = np.random.RandomState(0)
    layer = built(MaxPool2D(pool, stride, padding), (5, 7, 3))
    # Distinct values: no ties, so the max is differentiable everywhere.
    X = rng.permutation(2 * 5 * 7 * 3).reshape(2, 5, 7, 3) / 10.0
    check_layer_gradients(layer, X, rng)


@pytest.mark.parametrize(
    "input_shape, kernel, stride, padding, pool",
    [((7, 6, 2), (3, 3), (1, 1), "valid", (2, 2)), ((6, 7, 1), (2, 2), (1, 2), "same", (3, 2))],
)
def test_conv_fused_with_max_pooling_gradients(input_shape, kernel, stride, padding, pool):
    rng = np.random.RandomState(0)
    conv = built(Conv2D(3, kernel, stride, padding, algorithm="im2col"), input_shape)
    conv.bias = rng.standard_normal(3)
    pooling = MaxPool2D(pool, pool)
    pooling.build(conv.output_shape)
    fused = ConvMaxPool2D(conv, pooling)
    X = rng.standard_normal((2, *input_shape))
    R = rng.standard_normal(fused.forward(X).shape)

    def loss():
        return float(np.sum(fused.forward(X) * R))

    fused.forward(X, training=True)
    grad_X = fused.backward(R.copy())
    for got, wrt in [(grad_X, X), (conv.grad_weights, conv.weights), (conv.grad_bias, conv.bias)]:
        np.testing.assert_allclose(got, numerical_gradient(loss, wrt), rtol=1e-6, atol=1e-8)


def test_conv_norm_and_max_pooling_fused_gradients():
    rng = np.random.RandomState(0)
    conv = built(Conv2D(3, (3, 3), (1, 1), "same", algorithm="im2col"), (6, 6, 2))
    conv.bias = rng.standard_normal(3)
    norm = built(BatchNorm(), conv.output_shape)
    norm.weights, norm.bias = np.array([1.5, -0.7, 0.9]), rng.standard_normal(3)
    pooling = MaxPool2D((2, 2), (2, 2))
    pooling.build(conv.output_shape)
    fused = ConvMaxPool2D(conv, pooling, norm)
    X = rng.standard_normal((3, 6, 6, 2))
    R = rng.standard_normal(fused.forward(X).shape)

    def loss():  # batch statistics: the training pass is what is differentiated
        return float(np.sum(fused.forward(X, training=True) * R))

    fused.forward(X, training=True)
    grad_X = fused.backward(R.copy())
    for got, wrt in [
        (grad_X, X),
        (conv.grad_weights, conv.weights),
        (norm.grad_weights, norm.weights),
        (norm.grad_bias, norm.bias),
    ]:
        np.testing.assert_allclose(got, numerical_gradient(loss, wrt), rtol=1e-5, atol=1e-7)
    # The conv's bias cancels in the batch mean: its gradient is zero.
    np.testing.assert_allclose(conv.grad_bias, 0, atol=1e-10)


def test_maxpool_ties_route_gradient_to_one_input():
    layer = built(MaxPool2D((2, 2), (2, 2)), (2, 2, 1))
    X = np.ones((1, 2, 2, 1))
    layer.forward(X, training=True)
    grad = layer.backward(np.full((1, 1, 1, 1), 5.0))
    assert grad.sum() == 5.0
    assert np.count_nonzero(grad) == 1
    assert grad[0, 0, 0, 0] == 5.0  # the first maximum in raster order


def test_maxpool_overlapping_windows_accumulate():
    layer = built(MaxPool2D((1, 3), (1, 1)), (1, 5, 1))
    X = np.array([0.0, 1.0, 9.0, 2.0, 3.0]).reshape(1, 1, 5, 1)
    out = layer.forward(X, training=True)
    np.testing.assert_array_equal(out.ravel(), [9.0, 9.0, 9.0])
    grad = layer.backward(np.ones_like(out))
    np.testing.assert_array_equal(grad.ravel(), [0, 0, 3, 0, 0])


def test_maxpool_same_padding_never_picks_padding():
    layer = built(MaxPool2D((2, 2), (2, 2), "same"), (1, 1, 1))
    out = layer.forward(np.full((1, 1, 1, 1), -7.0))
    assert out.ravel().tolist() == [-7.0]


def test_relu_gradients():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((3, 4, 5, 2))
    X[np.abs(X) < 1e-3] = 0.5  # keep away from the kink at 0
    check_layer_gradients(built(ReLU(), X.shape[1:]), X, rng)


def test_flatten_gradients():
    rng = np.random.RandomState(0)
    layer = built(Flatten(), (3, 4, 2))
    assert layer.output_shape == (24,)
    check_layer_gradients(layer, rng.standard_normal((2, 3, 4, 2)), rng)


def test_dense_gradients():
    rng = np.random.RandomState(0)
    layer = built(Dense(4), (6,))
    layer.bias = rng.standard_normal(4)
    check_layer_gradients(layer, rng.standard_normal((3, 6)), rng)


def test_softmax_cross_entropy_gradient():
    rng = np.random.RandomState(0)
    logits = rng.standard_normal((5, 4))
    y = np.array([0, 3, 1, 1, 2])
    loss_layer = SoftmaxCrossEntropy()
    loss_layer.forward(logits, y)
    grad = loss_layer.backward()
    expected = numerical_gradient(lambda: float(loss_layer.forward(logits, y)), logits)
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-9)


def test_softmax_cross_entropy_value():
    logits = np.array([[2.0, 1.0, 0.1]])
    expected = -np.log(np.exp(2.0) / np.exp([2.0, 1.0, 0.1]).sum())
    assert SoftmaxCrossEntropy().forward(logits, np.array([0])) == pytest.approx(expected)


def test_log_softmax_finite_for_extreme_logits():
    logits = np.array([[1e30, -1e30, 0.0], [-1e4, -1e4, -1e4]])
    out = log_softmax(logits)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(np.exp(out).sum(axis=1), 1.0)


def test_lean_forward_keeps_nothing():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((2, 6, 6, 1))
    conv = built(Conv2D(2, (3, 3)), (6, 6, 1))
    pool = built(MaxPool2D((2, 2), (2, 2)), (6, 6, 2))
    pool.forward(conv.forward(X))
    assert conv._saved is None and pool._x_pad is None


@pytest.mark.parametrize(
    "layer, input_shape, match",
    [
        (Conv2D(2, (5, 5), padding="valid"), (3, 3, 1), "larger than the 3x3 input"),
        (MaxPool2D((2, 2), (2, 2)), (1, 4, 1), "padding='same'"),
        (Conv2D(2, (3, 3)), (10,), "flat input"),
        (Dense(3), (2, 2, 1), "flat inputs"),
    ],
)
def test_build_says_why_a_layer_does_not_fit(layer, input_shape, match):
    with pytest.raises(ValueError, match=match):
        layer.build(input_shape)


def test_reprs():
    assert repr(Conv2D(8, (3, 3))) == (
        "Conv2D(filters=8, kernel_size=(3, 3), stride=(1, 1), padding='same')"
    )
    assert repr(MaxPool2D((2, 2), (2, 2))) == (
        "MaxPool2D(pool_size=(2, 2), stride=(2, 2), padding='valid')"
    )
    assert repr(Dense(10)) == "Dense(units=10)"
    assert repr(ReLU()) == "ReLU()" and repr(Flatten()) == "Flatten()"


@pytest.mark.parametrize("input_shape", [(6, 8, 2), (5, 7, 3)])
def test_maxpool_tiled_path_matches_general_path(input_shape):
    rng = np.random.RandomState(0)
    layer = built(MaxPool2D((2, 2), (2, 2), "valid"), input_shape)
    X = rng.standard_normal((3, *input_shape))
    out = layer.forward(X)
    grad_out = rng.standard_normal(out.shape)
    tiled = layer._tiled_backward(grad_out, X, out)
    assert tiled is not None
    np.testing.assert_array_equal(tiled, layer._general_backward(grad_out, X, out))


@pytest.mark.parametrize("pool", [(2, 2), (3, 2)])
def test_maxpool_ties_same_on_both_paths(pool):
    layer = built(MaxPool2D(pool, pool), (6, 6, 2))
    rng = np.random.RandomState(0)
    X = rng.randint(0, 3, size=(4, 6, 6, 2)).astype(float)  # many ties
    out = layer.forward(X)
    grad_out = rng.standard_normal(out.shape)
    tiled = layer._tiled_backward(grad_out, X, out)
    np.testing.assert_array_equal(tiled, layer._general_backward(grad_out, X, out))
    # Every window passes its gradient to exactly one input.
    assert np.count_nonzero(tiled) == np.count_nonzero(grad_out)


@pytest.mark.parametrize(
    "pool, stride, padding",
    [((2, 2), (2, 2), "valid"), ((3, 3), (2, 2), "same"), ((2, 3), (1, 2), "same")],
)
def test_avgpool_gradients_and_values(pool, stride, padding):
    rng = np.random.RandomState(0)
    layer = built(AvgPool2D(pool, stride, padding), (5, 7, 3))
    X = rng.standard_normal((2, 5, 7, 3))
    check_layer_gradients(layer, X, rng)
    # Padding does not count: a constant input averages to itself everywhere.
    np.testing.assert_allclose(layer.forward(np.full((1, 5, 7, 3), 2.5)), 2.5)


def test_avgpool_matches_a_mean():
    layer = built(AvgPool2D((2, 2), (2, 2)), (4, 4, 1))
    X = np.arange(16.0).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(layer.forward(X)[0, :, :, 0], [[2.5, 4.5], [10.5, 12.5]])


def test_global_avgpool_gradients():
    rng = np.random.RandomState(0)
    layer = built(GlobalAvgPool2D(), (3, 4, 5))
    assert layer.output_shape == (5,)
    X = rng.standard_normal((2, 3, 4, 5))
    np.testing.assert_allclose(layer.forward(X), X.mean(axis=(1, 2)))
    check_layer_gradients(layer, X, rng)


def test_dropout_gradient_with_a_fixed_mask():
    rng = np.random.RandomState(0)
    layer = built(Dropout(0.4), (20,))
    X = rng.standard_normal((50, 20))
    R = rng.standard_normal((50, 20))

    def loss():
        layer._rng = np.random.RandomState(3)  # the same mask at every call
        return float(np.sum(layer.forward(X, training=True) * R))

    loss()
    grad = layer.backward(R.copy())
    np.testing.assert_allclose(grad, numerical_gradient(loss, X), rtol=1e-6, atol=1e-8)


def test_dropout_rate_and_prediction():
    layer = built(Dropout(0.25), (1000,))
    X = np.ones((20, 1000))
    out = layer.forward(X, training=True)
    assert abs(np.mean(out == 0) - 0.25) < 0.02
    np.testing.assert_allclose(out[out > 0], 1 / 0.75)
    assert layer.forward(X) is X  # prediction drops nothing


@pytest.mark.parametrize("input_shape", [(3, 4, 5), (7,), (1, 6, 2)])
def test_batchnorm_gradients(input_shape):
    rng = np.random.RandomState(0)
    layer = built(BatchNorm(), input_shape)
    layer.weights = rng.uniform(0.5, 2, layer.weights.shape)  # not the identity start
    layer.bias = rng.standard_normal(layer.bias.shape)
    X = rng.normal(3, 2, (4, *input_shape))
    check_layer_gradients(layer, X, rng, training=True)


def test_batchnorm_statistics_train_and_predict():
    rng = np.random.RandomState(0)
    layer = built(BatchNorm(momentum=0.5), (2, 2, 3))
    X = rng.normal([1.0, -2.0, 5.0], [1.0, 3.0, 0.5], (50, 2, 2, 3))
    out = layer.forward(X, training=True)
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 1, 2)), 1, rtol=1e-4)
    rows = X.reshape(-1, 3)
    # running = (1 - momentum) * start + momentum * batch (variance unbiased)
    np.testing.assert_allclose(layer.running_mean, 0.5 * rows.mean(axis=0))
    np.testing.assert_allclose(layer.running_var, 0.5 + 0.5 * rows.var(axis=0, ddof=1))
    # Prediction standardizes with the running averages, sample by sample.
    expected = (X - layer.running_mean) / np.sqrt(layer.running_var + layer.epsilon)
    np.testing.assert_allclose(layer.forward(X), expected)
    np.testing.assert_allclose(layer.forward(X[:1]), expected[:1])


def test_batchnorm_constant_channel_stays_finite():
    layer = built(BatchNorm(), (3,))
    out = layer.forward(np.ones((5, 3)), training=True)
    assert np.all(out == 0)
    assert np.all(np.isfinite(layer.backward(np.ones((5, 3)))))


@pytest.mark.parametrize("weighted", [False, True])
def test_squared_error_gradient(weighted):
    rng = np.random.RandomState(0)
    pred, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    weight = rng.uniform(0.5, 2, 6) if weighted else None
    loss = SquaredError()
    value = loss.forward(pred, y, weight)
    expected = np.average(((pred - y) ** 2).mean(axis=1) / 2, weights=weight)
    assert value == pytest.approx(expected)
    grad = loss.backward()
    numeric = numerical_gradient(lambda: float(loss.forward(pred, y, weight)), pred)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


# --- the kinds of the registry: activations, global max pooling, dilation --------


def made(spec, input_shape):
    """The layer of one spec string, as a network makes it for ``input_shape``."""
    from skcnn._engine.specs import SpecContext, make_layers, parse_spec

    context = SpecContext(signal=input_shape[0] == 1, flat=len(input_shape) == 1)
    (layer,), _ = make_layers([parse_spec(spec, "spec")], context)
    return layer


@pytest.mark.parametrize("spec", ["relu", "tanh", "sigmoid", "leaky_relu:0.1", "elu:0.7", "gelu"])
@pytest.mark.parametrize("input_shape", [(4, 5, 2), (1, 9, 3), (6,)])
def test_activation_gradients(spec, input_shape):
    rng = np.random.RandomState(0)
    # Away from 0, where ReLU and its leaky kin have their kink.
    X = rng.uniform(0.1, 2, (3, *input_shape)) * rng.choice([-1, 1], (3, *input_shape))
    check_layer(made(spec, input_shape), input_shape, X=X)
    check_layer(made(spec, input_shape), input_shape, X=X, training=False)


@pytest.mark.parametrize(
    "spec, x, expected",
    [
        ("tanh", [-1.0, 0.0, 2.0], np.tanh([-1.0, 0.0, 2.0])),
        ("sigmoid", [-800.0, 0.0, 800.0], [0.0, 0.5, 1.0]),  # no overflow warning
        ("leaky_relu:0.2", [-2.0, 3.0], [-0.4, 3.0]),
        ("elu", [-800.0, 0.0, 1.5], [-1.0, 0.0, 1.5]),
        ("gelu", [-3.0, 0.0, 1.0], [-0.0040496, 0.0, 0.8413447]),
    ],
)
def test_activation_values(spec, x, expected):
    layer = made(spec, (len(x),))
    layer.build((len(x),))
    with np.errstate(all="raise"):
        np.testing.assert_allclose(layer.forward(np.array([x])), [expected], atol=1e-7)


@pytest.mark.parametrize("input_shape", [(3, 4, 2), (1, 7, 3)])
def test_global_max_pooling_gradients(input_shape):
    rng = np.random.RandomState(0)
    X = rng.permutation(3 * int(np.prod(input_shape))).reshape(3, *input_shape) / 10.0
    layer = made("globalmaxpool", input_shape)
    errors = check_layer(layer, input_shape, X=X)
    assert layer.output_shape == (input_shape[-1],) and errors["input"] < 1e-8


def test_global_max_pooling_gives_ties_to_the_first():
    layer = made("gmp", (2, 2, 1))
    layer.build((2, 2, 1))
    X = np.array([[[[1.0], [3.0]], [[3.0], [0.0]]]])
    np.testing.assert_array_equal(layer.forward(X, training=True), [[3.0]])
    np.testing.assert_array_equal(layer.backward(np.array([[2.0]]))[0, :, :, 0], [[0, 2], [0, 0]])


@pytest.mark.parametrize("algorithm", ALGORITHM_PARAMS)
@pytest.mark.parametrize(
    "input_shape, kernel, dilation, padding",
    [((7, 8, 2), (3, 2), (2, 3), "same"), ((1, 15, 2), (1, 3), (1, 4), "valid")],
)
def test_dilated_conv_gradients(algorithm, input_shape, kernel, dilation, padding):
    layer = Conv2D(3, kernel, (1, 1), padding, dilation, algorithm=algorithm)
    check_layer(layer, input_shape)
    assert layer.output_shape[1] == (
        input_shape[1] if padding == "same" else input_shape[1] - (kernel[1] - 1) * dilation[1]
    )


def test_dilated_kernel_larger_than_the_input_says_so():
    layer = Conv2D(2, (1, 3), (1, 1), "valid", (1, 4))
    with pytest.raises(ValueError, match=r"its 1x3 kernel, dilated to 1x9, is larger than the 1x8"):
        layer.build((1, 8, 1))


@pytest.mark.parametrize("name", ["absolute", "huber", "poisson", "sigmoid"])
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_gradients(name, weighted):
    from skcnn._engine.losses import (
        AbsoluteError,
        Huber,
        PoissonDeviance,
        SigmoidBinaryCrossEntropy,
    )

    rng = np.random.RandomState(0)
    pred = rng.standard_normal((6, 3))
    y = {
        "absolute": rng.standard_normal((6, 3)),
        "huber": 2 * rng.standard_normal((6, 3)),  # on both sides of delta
        "poisson": rng.poisson(2.0, (6, 3)).astype(float),
        "sigmoid": rng.randint(0, 2, (6, 3)).astype(float),
    }[name]
    loss = {
        "absolute": AbsoluteError(),
        "huber": Huber(delta=1.0),
        "poisson": PoissonDeviance(),
        "sigmoid": SigmoidBinaryCrossEntropy(),
    }[name]
    weight = rng.uniform(0.5, 2, 6) if weighted else None
    value = loss.forward(pred, y, weight)
    grad = loss.backward()
    numeric = numerical_gradient(lambda: float(loss.forward(pred, y, weight)), pred)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)
    # the definitions, written out
    diff = pred - y
    elements = {
        "absolute": np.abs(diff),
        "huber": np.where(np.abs(diff) <= 1, diff**2 / 2, np.abs(diff) - 0.5),
        "poisson": np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / np.exp(pred)), 0)
        - y
        + np.exp(pred),
        "sigmoid": -(
            y * np.log(1 / (1 + np.exp(-pred))) + (1 - y) * np.log(1 - 1 / (1 + np.exp(-pred)))
        ),
    }[name]
    assert value == pytest.approx(np.average(elements.mean(axis=1), weights=weight))


def test_sigmoid_cross_entropy_is_finite_for_extreme_scores():
    from skcnn._engine.losses import SigmoidBinaryCrossEntropy

    loss = SigmoidBinaryCrossEntropy()
    value = loss.forward(np.array([[1e4, -1e4]]), np.array([[0.0, 1.0]]))
    assert np.isfinite(value) and value == pytest.approx(1e4)
    assert np.isfinite(loss.backward()).all()
