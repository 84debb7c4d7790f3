"""Reliability: hostile inputs, numerical faults, reproducibility and memory.

Every row of the error table in ``docs/errors.rst`` has its test here or in
the test named there. Rows tested elsewhere:

* one class: ``test_classifier.py::test_one_class_is_an_error``;
* wrong number of features or wrong image shape at predict (classifier):
  ``test_classifier.py::test_predict_checks_the_sample_shape``;
* an architecture larger than the input: ``test_architecture.py::
  test_misfit_names_layer_and_argument`` and ``test_classifier.py::
  test_bad_hyperparameters_fail_before_training``;
* ``batch_size`` larger than the data:
  ``test_classifier.py::test_batch_size_larger_than_data_warns``;
* a huge learning rate in a first ``fit``:
  ``test_classifier.py::test_divergence_is_an_error_not_nan``;
* same ``random_state``, same model: ``test_classifier.py::
  test_same_random_state_same_model``.
"""

import os
import tracemalloc
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_validate
from threadpoolctl import threadpool_limits

from skcnn import CNNClassifier, CNNRegressor
from skcnn._engine import parallel
from skcnn._engine.losses import SoftmaxCrossEntropy, SquaredError, log_softmax
from skcnn._engine.optimizers import Adam
from skcnn._engine.parallel import available_threads
from skcnn._engine.specs import Specs, is_builtin, layer_class, registered_kinds

TINY = dict(filters=(3,), hidden_layer_sizes=(8,), max_iter=2, random_state=0)
ESTIMATORS = [CNNClassifier, CNNRegressor]


def quiet_fit(estimator, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **kwargs)


def targets_for(Estimator, y):
    """Class labels for a classifier, standardized numbers for a regressor."""
    if Estimator is CNNClassifier:
        return y
    return (y - y.mean()) / y.std()


def weights(estimator):
    return [w.copy() for w in estimator.coefs_ + estimator.intercepts_]


def assert_same_weights(a, b):
    for wa, wb in zip(weights(a), weights(b)):
        np.testing.assert_array_equal(wa, wb)


@pytest.fixture(scope="module")
def tiny(digits):
    """60 digits of classes 0-2, as (8, 8) flattened samples."""
    X, y = digits
    keep = y < 3
    return X[keep][:60], y[keep][:60]


# --- property-based: random architectures and input shapes ----------------------

ARGUMENTS = (
    "input_shape",
    "filters",
    "kernel_size",
    "pool_size",
    "pool_stride",
    "padding",
    "hidden_layer_sizes",
    "dropout",
    "batch_norm",
    "layers",
    "augment_shift",
)

sizes = st.one_of(st.integers(1, 5), st.tuples(st.integers(1, 5), st.integers(1, 5)))


@st.composite
def inputs(draw):
    """``X`` of 6-10 samples and the ``input_shape`` to pass (or ``None``)."""
    n = draw(st.integers(6, 10))
    kind = draw(st.sampled_from(["signal", "flat_image", "3d", "4d", "flat_channels"]))
    h, w, c = draw(st.integers(1, 9)), draw(st.integers(1, 9)), draw(st.integers(1, 3))
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    if kind == "signal":
        return rng.normal(size=(n, w * c)), draw(st.sampled_from([None, (w * c,)]))
    if kind == "flat_image":
        return rng.normal(size=(n, h * w)), (h, w)
    if kind == "flat_channels":
        return rng.normal(size=(n, h * w * c)), (h, w, c)
    if kind == "3d":
        return rng.normal(size=(n, h, w)), None
    return rng.normal(size=(n, h, w, c)), None


@st.composite
def block_arguments(draw):
    """Block arguments; per-layer tuples mostly, not always, one entry per filter."""
    filters = draw(st.one_of(st.integers(1, 4), st.lists(st.integers(1, 4), max_size=3)))
    n_conv = 1 if isinstance(filters, int) else len(filters)

    def per_layer():
        length = st.one_of(st.just(n_conv), st.integers(0, 3)) if n_conv else st.just(0)
        lists = length.flatmap(lambda k: st.lists(sizes, min_size=k, max_size=k))
        return st.one_of(st.integers(1, 5), lists, sizes)

    arguments = {
        "filters": filters,
        "kernel_size": draw(per_layer()),
        "pool_size": draw(per_layer()),
        "pool_stride": draw(st.one_of(st.none(), st.integers(1, 3))),
        "padding": draw(st.sampled_from(["same", "valid"])),
        "hidden_layer_sizes": draw(
            st.one_of(st.integers(1, 6), st.lists(st.integers(1, 6), max_size=2))
        ),
        "dropout": draw(st.sampled_from([0.0, 0.3])),
        "batch_norm": draw(st.booleans()),
    }
    return {k: tuple(v) if isinstance(v, list) else v for k, v in arguments.items()}


def kind_specs(cls):
    """Specs of one registered kind: its arguments drawn from their samples, some left out.

    As a string where every value has one, else as a tuple.
    """

    @st.composite
    def draw_spec(draw):
        values = []
        for argument in cls.arguments:
            if not argument.required and not draw(st.booleans()):
                break
            values.append(draw(st.sampled_from(argument.samples)))
        if all(isinstance(v, (int, float, str)) for v in values) and draw(st.booleans()):
            return ":".join(map(str, (cls.kind, *values)))
        return (cls.kind, *values)

    return draw_spec()


# Every kind of skcnn's own, from the registry, then blocks of them.
LEAF_KINDS = [
    kind
    for kind in registered_kinds()
    if is_builtin(kind) and not any(isinstance(a, Specs) for a in layer_class(kind).arguments)
]
leaf_spec = st.one_of(*(kind_specs(layer_class(kind)) for kind in LEAF_KINDS))
body = st.lists(leaf_spec, min_size=1, max_size=3).map(tuple)
layer_spec = st.one_of(
    leaf_spec,
    st.builds(
        lambda b, shortcut: ("residual", b, shortcut), body, st.sampled_from(["auto", "projection"])
    ),
    st.builds(lambda *branches: ("parallel", *branches), body, body),
)
layer_arguments = st.fixed_dictionaries(
    {
        "layers": st.lists(layer_spec, max_size=6).map(tuple),
        "padding": st.sampled_from(["same", "valid"]),
    }
)

PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("SKCNN_HYPOTHESIS_EXAMPLES", 40)),
    deadline=None,
    derandomize=True,  # the same examples on every run: CI does not flake
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def fits_or_names_an_argument(Estimator, X, input_shape, architecture, data):
    """Fit, predict and check; or a ValueError at fit that names an argument."""
    n = len(X)
    if Estimator is CNNClassifier:
        y = np.arange(n) % data.draw(st.integers(2, 3))
    else:
        y = np.random.RandomState(n).normal(size=(n, data.draw(st.integers(1, 2))))
    estimator = Estimator(
        input_shape=input_shape,
        **architecture,
        batch_size=data.draw(st.sampled_from(["auto", 1, 4, 50])),
        dtype=data.draw(st.sampled_from(["float32", "float64"])),
        max_iter=data.draw(st.integers(1, 2)),
        augment_shift=data.draw(st.integers(0, 2)),
        augment_flip=data.draw(st.booleans()),
        random_state=0,
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.filterwarnings("ignore", "batch_size=")
            estimator.fit(X, y)
    except ValueError as exc:
        named = [name for name in ARGUMENTS if name in str(exc)]
        event(str(exc)[:60])
        assert named, f"the error names no argument: {exc}"
        return
    if Estimator is CNNClassifier:
        proba = estimator.predict_proba(X)
        assert proba.shape == (n, len(estimator.classes_))
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-10)
        assert estimator.predict(X[:1]).shape == (1,)
    else:
        pred = estimator.predict(X)
        assert pred.shape == y.shape
        assert np.isfinite(pred).all()
    # Flattened samples give the same predictions as the images.
    flat = X.reshape(n, -1)
    np.testing.assert_array_equal(estimator.predict(flat), estimator.predict(X))
    features = estimator.transform(X)
    assert features.shape == (n, len(estimator.get_feature_names_out()))
    assert np.isfinite(features).all()


@PROPERTY_SETTINGS
@given(data=st.data(), X_and_shape=inputs(), architecture=block_arguments())
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_block_arguments_fit_or_name_the_argument(Estimator, data, X_and_shape, architecture):
    fits_or_names_an_argument(Estimator, *X_and_shape, architecture, data)


@PROPERTY_SETTINGS
@given(data=st.data(), X_and_shape=inputs(), architecture=layer_arguments)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_layer_specs_fit_or_name_the_argument(Estimator, data, X_and_shape, architecture):
    fits_or_names_an_argument(Estimator, *X_and_shape, architecture, data)


# --- the error table: bad inputs at fit and predict -------------------------------


def with_value(X, value):
    X = X.astype(float)  # a copy
    X[0, 0] = value
    return X


BAD_X = [
    ("nan", lambda X: with_value(X, np.nan), r"Input X contains NaN"),
    ("inf", lambda X: with_value(X, np.inf), r"Input X contains infinity"),
    ("empty", lambda X: X[:0], r"Found array with 0 sample\(s\)"),
    ("strings", lambda X: np.full(X.shape, "a"), r"X must hold numbers, but could not convert"),
    (
        "object strings",
        lambda X: np.where(X > 0.5, "high", X.astype(object)),
        r"X must hold numbers, but could not convert string to float: 'high'",
    ),
    ("complex", lambda X: X + 1j, r"Complex data not supported: X holds complex numbers"),
    (
        "ragged list",
        lambda X: [list(row) for row in X[:-1]] + [list(X[-1, :-1])],
        r"X is ragged: its samples have different lengths",
    ),
    (
        "1e39 in float32",
        lambda X: with_value(X, 1e39),
        r"X has values whose magnitude exceeds 3.4e\+38, the largest float32.*dtype='float64'",
    ),
]


@pytest.mark.parametrize("name, make, match", BAD_X, ids=[row[0] for row in BAD_X])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_bad_X_is_refused_at_fit_and_predict(tiny, Estimator, name, make, match):
    X, y = tiny
    y = targets_for(Estimator, y)
    with pytest.raises(ValueError, match=match):
        Estimator(input_shape=(8, 8), **TINY).fit(make(X), y)
    fitted = quiet_fit(Estimator(input_shape=(8, 8), **TINY), X, y)
    if name == "1e39 in float32":  # fine at predict: computed in float64
        assert np.isfinite(fitted.predict(make(X))).all()
        return
    with pytest.raises(ValueError, match=match):
        fitted.predict(make(X))


def test_python_objects_in_X(tiny):
    X, y = tiny
    X = X.astype(object)
    X[0, 0] = {"a": 1}
    with pytest.raises(TypeError, match=r"X must hold numbers, but float\(\) argument must be"):
        CNNClassifier(input_shape=(8, 8), **TINY).fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_bad_images_at_predict(tiny, Estimator):
    X, y = tiny
    fitted = quiet_fit(Estimator(input_shape=(8, 8), **TINY), X, targets_for(Estimator, y))
    name = Estimator.__name__
    with pytest.raises(ValueError, match=f"X has 63 features, but {name} is expecting 64"):
        fitted.predict(X[:, :63])
    with pytest.raises(ValueError, match=r"samples of shape \(8, 4, 2\).*\(8, 8, 1\)"):
        fitted.predict(X.reshape(-1, 8, 4, 2))


def test_one_sample(tiny):
    X, y = tiny
    with pytest.raises(ValueError, match="needs at least 2 classes; got only one class"):
        CNNClassifier(input_shape=(8, 8), **TINY).fit(X[:1], y[:1])
    # A regressor can fit one sample (as MLPRegressor does) and predicts finite values.
    reg = quiet_fit(CNNRegressor(input_shape=(8, 8), **TINY), X[:1], [0.5])
    assert np.isfinite(reg.predict(X)).all()


@pytest.mark.parametrize(
    "y, match",
    [
        (np.array([1, "a", 2.0] * 20, dtype=object), r"y mixes labels of the types \['float', "),
        (np.array(["a", 1] * 30, dtype=object), r"y mixes labels of the types \['int', 'str'\]"),
        (np.array([None, "a"] * 30, dtype=object), r"y has missing labels \(None\)"),
        (np.array([0.5, 1.5, 2.25] * 20), r"Unknown label type: continuous"),
    ],
)
def test_bad_labels(tiny, y, match):
    X, _ = tiny
    with pytest.raises(ValueError, match=match):
        CNNClassifier(input_shape=(8, 8), **TINY).fit(X, y)


def test_bad_regression_targets_are_named_as_y(tiny):
    X, _ = tiny
    with pytest.raises(ValueError, match="could not convert string to float") as error:
        CNNRegressor(input_shape=(8, 8), **TINY).fit(X, ["a"] * len(X))
    assert "X must" not in str(error.value)  # not blamed on X


def test_object_labels_of_one_type_are_accepted(tiny):
    X, y = tiny
    clf = quiet_fit(CNNClassifier(input_shape=(8, 8), **TINY), X, y.astype(object))
    assert clf.classes_.dtype.kind == "i"
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    # Python and NumPy strings together are one type.
    labels = np.array([str(v) if v % 2 else np.str_(v) for v in y], dtype=object)
    strings = quiet_fit(CNNClassifier(input_shape=(8, 8), **TINY), X, labels)
    assert list(strings.classes_) == ["0", "1", "2"]


@pytest.mark.parametrize(
    "value, match",
    [(np.nan, "Input y contains NaN"), (np.inf, "Input y contains infinity")],
)
def test_regressor_refuses_non_finite_targets(tiny, value, match):
    X, y = tiny
    y = y.astype(float)
    y[3] = value
    with pytest.raises(ValueError, match=match):
        CNNRegressor(input_shape=(8, 8), **TINY).fit(X, y)


def test_sample_weight_must_be_finite(tiny):
    X, y = tiny
    weight = np.ones(len(X))
    weight[0] = np.nan
    with pytest.raises(ValueError, match="Input sample_weight contains NaN"):
        CNNClassifier(input_shape=(8, 8), **TINY).fit(X, y, sample_weight=weight)


def test_input_smaller_than_the_receptive_field(tiny):
    X, y = tiny
    signals = X[:, :3]  # 1-D signals of length 3, a 'valid' kernel of 5
    clf = CNNClassifier(filters=(2,), kernel_size=5, padding="valid")
    with pytest.raises(ValueError, match=r"stated by filters\[0\] and kernel_size.*1x5 kernel"):
        clf.fit(signals, y)
    images = X.reshape(-1, 8, 8)[:, :2, :2]
    clf = CNNClassifier(layers=("conv:2:1", "maxpool:3"), padding="valid")
    with pytest.raises(ValueError, match=r"stated by layers\[1\]='maxpool:3'.*3x3 pooling window"):
        clf.fit(images, y)


# --- accepted and converted: every dtype and layout trains the same model ---------


def strided(X):
    wide = np.zeros((X.shape[0], 2 * X.shape[1]), dtype=X.dtype)
    wide[:, ::2] = X
    return wide[:, ::2]


CONVERSIONS = [
    ("int64", lambda X: np.rint(X * 16).astype(np.int64), lambda X: np.rint(X * 16)),
    ("uint8", lambda X: np.rint(X * 16).astype(np.uint8), lambda X: np.rint(X * 16)),
    ("bool", lambda X: X > 0.5, lambda X: (X > 0.5).astype(float)),
    ("float16", lambda X: X.astype(np.float16), lambda X: X.astype(np.float16).astype(float)),
    ("object numbers", lambda X: X.astype(object), lambda X: X),
    ("Fortran order", np.asfortranarray, lambda X: X),
    ("strided view", strided, lambda X: X),
    ("list of lists", lambda X: X.tolist(), lambda X: X),
]


@pytest.mark.parametrize("name, convert, same_as", CONVERSIONS, ids=[c[0] for c in CONVERSIONS])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_dtypes_and_layouts_are_converted(tiny, Estimator, name, convert, same_as):
    X, y = tiny
    y = targets_for(Estimator, y)
    model = quiet_fit(Estimator(input_shape=(8, 8), **TINY), convert(X), y)
    reference = quiet_fit(Estimator(input_shape=(8, 8), **TINY), same_as(X), y)
    assert_same_weights(model, reference)
    np.testing.assert_array_equal(model.predict(convert(X)), reference.predict(same_as(X)))


def test_huge_but_finite_inputs(tiny):
    X, y = tiny
    # 1e30 fits float32: training stays finite (or would say it diverged). The
    # gradients square to inf in Adam's second moment, which stops those weights
    # (finite) instead of moving them: scale X to train well.
    clf = quiet_fit(CNNClassifier(input_shape=(8, 8), **TINY), X * 1e30, y)
    assert all(np.isfinite(w).all() for w in weights(clf))
    proba = clf.predict_proba(X * 1e30)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # float32 X near the top of its range: float32 outputs would overflow to inf
    # (and give NaN probabilities); they are computed in float64 instead.
    near_max = (X * 3e38).astype(np.float32)
    proba = clf.predict_proba(near_max)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # Beyond float64 the outputs themselves overflow: an error, not NaN.
    with pytest.raises(ValueError, match="X has values so large that the network's outputs"):
        clf.predict_proba(X * 1e308)


def test_huge_regression_targets(tiny):
    X, y = tiny
    # Squares of 1e30 overflow float32: said before any update, with the fix.
    with pytest.raises(
        ValueError, match=r"not finite at the initial weights.*TransformedTargetRegressor"
    ):
        CNNRegressor(input_shape=(8, 8), **TINY).fit(X, y * 1e30)
    with pytest.raises(ValueError, match=r"y has values whose magnitude exceeds 3.4e\+38"):
        CNNRegressor(input_shape=(8, 8), **TINY).fit(X, y * 1e39)
    # In float64 both train, and the predictions are finite.
    for scale in (1e30, 1e39):
        reg = quiet_fit(CNNRegressor(input_shape=(8, 8), dtype="float64", **TINY), X, y * scale)
        assert np.isfinite(reg.predict(X)).all()


# --- numerical faults ---------------------------------------------------------------

DIVERGING = dict(solver="sgd", learning_rate_init=1e8, max_iter=20)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_huge_learning_rate_is_an_error_that_says_what_to_do(tiny, Estimator):
    X, y = tiny
    estimator = Estimator(input_shape=(8, 8), **{**TINY, **DIVERGING})
    with pytest.raises(ValueError, match=r"diverged.*smaller learning_rate_init \(now 1"):
        estimator.fit(X, targets_for(Estimator, y))
    assert not hasattr(estimator, "coefs_")  # no model with non-finite weights


def test_warm_start_that_diverges_keeps_the_weights_it_had(tiny):
    X, y = tiny
    clf = quiet_fit(CNNClassifier(input_shape=(8, 8), warm_start=True, **TINY), X, y)
    before, proba = weights(clf), clf.predict_proba(X)
    clf.set_params(**DIVERGING)
    with pytest.raises(ValueError, match="keeps the weights it had before this call to fit"):
        clf.fit(X, y)
    for kept, old in zip(weights(clf), before):
        np.testing.assert_array_equal(kept, old)
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 2
    assert clf.validation_scores_ is None  # attributes of value None are kept too
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def overflow_on_update(monkeypatch, at_call):
    """Make the ``at_call``-th Adam update (1-based) leave an infinite weight."""
    original, calls = Adam.update, []

    def update(self, params, grads):
        original(self, params, grads)
        calls.append(1)
        if len(calls) == at_call:
            params[0].flat[0] = np.inf

    monkeypatch.setattr(Adam, "update", update)


def test_an_infinite_weight_after_the_last_update_is_caught(tiny, monkeypatch):
    # No loss is computed after the last update, so only the weights can tell.
    X, y = tiny
    clf = CNNClassifier(input_shape=(8, 8), batch_size=len(X), **{**TINY, "max_iter": 1})
    overflow_on_update(monkeypatch, at_call=1)
    with pytest.raises(ValueError, match="the loss or the weights are no longer finite"):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


def test_partial_fit_that_diverges_is_undone(tiny, monkeypatch):
    X, y = tiny
    chunks = np.array_split(np.arange(len(X)), 3)
    params = dict(input_shape=(8, 8), dropout=0.3, **TINY)
    reference = CNNClassifier(**params)
    for chunk in chunks:
        reference.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])

    clf = CNNClassifier(**params)
    for chunk in chunks[:2]:
        clf.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
    before, n_updates = weights(clf), clf._optimizer.t
    with monkeypatch.context() as patch:
        overflow_on_update(patch, at_call=1)
        with pytest.raises(ValueError, match="before this call to partial_fit"):
            clf.partial_fit(X[chunks[2]], y[chunks[2]])
    for kept, old in zip(weights(clf), before):
        np.testing.assert_array_equal(kept, old)
    assert clf.n_iter_ == 2 and clf._optimizer.t == n_updates
    # Undone to the bit: optimizer moments, shuffling and dropout streams included.
    clf.partial_fit(X[chunks[2]], y[chunks[2]])
    assert_same_weights(clf, reference)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_loss_stay_finite_for_extreme_logits(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [-1e4, 1e4, 1e4]], dtype=dtype)
    y = np.array([1, 0, 0])
    log_proba = log_softmax(logits)
    assert log_proba.dtype == dtype and np.isfinite(log_proba).all()
    np.testing.assert_allclose(np.exp(log_proba).sum(axis=1), 1.0, rtol=1e-6)
    loss_layer = SoftmaxCrossEntropy()
    loss = loss_layer.forward(logits, y)
    # Per sample: 2e4 (the true class is 2e4 below the best), log 3, 2e4 + log 2.
    assert loss == pytest.approx((2e4 + np.log(3) + 2e4 + np.log(2)) / 3, rel=1e-6)
    grad = loss_layer.backward()
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-6)
    weighted = SoftmaxCrossEntropy().forward(logits, y, np.array([1.0, 0.0, 1.0], dtype=dtype))
    assert np.isfinite(weighted)


def test_squared_error_of_extreme_predictions_is_finite_in_float64():
    pred = np.array([[1e150], [-1e150]])
    loss_layer = SquaredError()
    assert np.isfinite(loss_layer.forward(pred, np.zeros((2, 1))))
    assert np.isfinite(loss_layer.backward()).all()


# --- reproducibility ----------------------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_same_random_state_bit_identical_with_dropout_and_shuffling(tiny, Estimator):
    X, y = tiny
    y = targets_for(Estimator, y)
    params = dict(input_shape=(8, 8), dropout=0.3, batch_size=8, **TINY)
    first = quiet_fit(Estimator(**params), X, y)
    second = quiet_fit(Estimator(**params), X, y)
    assert_same_weights(first, second)
    np.testing.assert_array_equal(first.predict(X), second.predict(X))
    refit = quiet_fit(first, X, y)  # a second fit of the same object starts over
    assert_same_weights(refit, second)


@pytest.mark.parametrize(
    "batch_size, shards, residual_blocks",
    [
        # Whole batches: every matrix product is BLAS's, split over its threads
        # as BLAS sees fit. OpenBLAS's kernels for some CPUs (an AMD EPYC's
        # Zen kernels among them) sum a few elements in another order on 2
        # threads than on 1, so the models agree to float32 rounding only.
        pytest.param(256, None, None, id="blas-threads"),
        # Training splits every batch into shards that threads share (forced
        # for this small network): the shards, and the order in which their
        # gradients add up, never depend on the threads: the same bits.
        pytest.param(64, 16, None, id="shards"),
        # Residual blocks, with their layers, replicated for every thread.
        pytest.param(64, 16, 1, id="residual shards"),
        # Batch normalization: shards that meet to add up the batch's sums.
        pytest.param(64, 16, "batch_norm", id="batch-norm shards"),
    ],
)
def test_same_model_whatever_the_thread_count(
    digits, monkeypatch, batch_size, shards, residual_blocks
):
    if shards is not None:
        monkeypatch.setattr(parallel, "shard_size", lambda network: shards)
    X, y = digits
    models = []
    for n_threads in (1, 2):
        with threadpool_limits(n_threads):
            params = {**TINY, "filters": (16,), "batch_size": batch_size}
            if residual_blocks == "batch_norm":
                params.update(filters=(8, 8), residual_blocks=1, batch_norm=True)
            elif residual_blocks:
                params.update(filters=(8, 8), residual_blocks=residual_blocks, dropout=0.2)
            clf = CNNClassifier(input_shape=(8, 8), **params)
            models.append(quiet_fit(clf, X[:512], y[:512]))
    if shards is None:
        for wa, wb in zip(weights(models[0]), weights(models[1])):
            np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-6)
    else:
        assert_same_weights(*models)


@pytest.mark.slow
def test_same_results_across_n_jobs_of_a_search(digits):
    X, y = digits
    X, y = X[:150], y[:150]
    estimator = CNNClassifier(input_shape=(8, 8), **{**TINY, "max_iter": 3})
    grid = {"filters": [(3,), (5,)], "learning_rate_init": [1e-3, 3e-3]}
    searches, validations = [], []
    for n_jobs in (1, 2):  # 2: loky worker processes, with their own BLAS threads
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            search = GridSearchCV(estimator, grid, cv=2, scoring="neg_log_loss", n_jobs=n_jobs)
            searches.append(search.fit(X, y))
            validations.append(
                cross_validate(
                    estimator,
                    X,
                    y,
                    cv=2,
                    n_jobs=n_jobs,
                    scoring="neg_log_loss",
                    return_estimator=True,
                )
            )
    for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
        np.testing.assert_array_equal(searches[0].cv_results_[key], searches[1].cv_results_[key])
    assert searches[0].best_params_ == searches[1].best_params_
    assert_same_weights(searches[0].best_estimator_, searches[1].best_estimator_)
    # The models fitted inside the workers, not only the refit in this process.
    np.testing.assert_array_equal(validations[0]["test_score"], validations[1]["test_score"])
    for here, there in zip(validations[0]["estimator"], validations[1]["estimator"]):
        assert_same_weights(here, there)


# --- memory -------------------------------------------------------------------------


def peak_bytes(function, *args):
    tracemalloc.start()
    try:
        function(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_prediction_runs_in_a_bounded_working_set(tiny, dtype):
    X, y = tiny
    clf = quiet_fit(CNNClassifier(input_shape=(8, 8), **{**TINY, "filters": (8,)}), X, y)
    large = np.tile(X, (334, 1))[:20_000].astype(dtype)
    small = large[:2_000].copy()
    clf.predict_proba(small)  # warm up: first-call allocations do not count
    with threadpool_limits(1):  # one thread: the batches one after the other
        one_thread = peak_bytes(clf.predict_proba, large)
        extra = one_thread - peak_bytes(clf.predict_proba, small)
    # What must grow with n: the float64 outputs (n x 3 classes, a few copies).
    # Unbatched, the first convolution alone would take 18_000 x 8x8x8 numbers,
    # 20 times (float32) to 40 times (float64) the bound.
    output_bytes = (len(large) - len(small)) * len(clf.classes_) * 8
    assert extra <= 4 * output_bytes
    # Threads sharing the batches hold a batch's working set each, at most.
    threads = available_threads()
    assert peak_bytes(clf.predict_proba, large) <= threads * one_thread + 4 * output_bytes


def test_prediction_from_several_threads_at_once(digits):
    # Training reuses scratch memory from batch to batch; prediction must not,
    # or threads predicting with one model would overwrite each other's arrays.
    X, y = digits
    X = X.astype(np.float32)  # float32 data runs on the model's own network, shared
    clf = quiet_fit(CNNClassifier(input_shape=(8, 8), **{**TINY, "filters": (8,)}), X, y)
    # Each thread predicts its own order of the samples; one thread alone gives
    # the expected bits (a row's bits may depend on its place in a batch, as
    # BLAS blocks the product, so each order is its own reference).
    orders = [np.random.RandomState(seed).permutation(len(X)) for seed in range(8)]
    expected = [clf.predict_proba(X[order]) for order in orders]
    with ThreadPoolExecutor(4) as pool:
        for want, got in zip(expected, pool.map(lambda o: clf.predict_proba(X[o]), orders)):
            np.testing.assert_array_equal(got, want)


# --- fit leaves the caller's data alone -------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("layout", ["float32 flat", "float32 4-D", "float64 Fortran"])
def test_fit_never_modifies_the_callers_arrays(tiny, Estimator, layout):
    X, y = tiny
    X = {
        "float32 flat": np.ascontiguousarray(X, dtype=np.float32),  # used without a copy
        "float32 4-D": np.ascontiguousarray(X.reshape(-1, 8, 8, 1), dtype=np.float32),
        "float64 Fortran": np.asfortranarray(X),
    }[layout]
    y = targets_for(Estimator, y)
    weight = np.linspace(0.5, 2.0, len(X))
    originals = [a.copy() for a in (X, y, weight)]
    params = dict(input_shape=None if X.ndim == 4 else (8, 8), alpha=0.1, **TINY)
    estimator = quiet_fit(Estimator(**params), X, y, sample_weight=weight)
    estimator.partial_fit(X, y, sample_weight=weight)
    estimator.predict(X)
    for array, original in zip((X, y, weight), originals):
        np.testing.assert_array_equal(array, original)
        assert array.flags.writeable
