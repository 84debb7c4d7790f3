"""Layers of one's own: registration, the gradient check, and a layer that trains, saves and
searches like skcnn's own."""

import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

import skcnn
from skcnn import CNNClassifier
from skcnn.layers import Float, Layer, check_layer, layer_class, register


@register
class Scale(Layer):
    """Every channel times a learned factor."""

    kind = "scale"
    aliases = ("channel_scale",)
    arguments = (Float("init_value", 1.0, low=0),)
    param_names = ("gamma",)

    def __init__(self, init_value=1.0):
        self.init_value = init_value

    def initialize(self, rng, dtype, init):
        self.gamma = np.full(self.input_shape[-1], self.init_value, dtype=dtype)

    def forward(self, X, training=False):
        self._X = X if training else None
        return X * self.gamma

    def backward(self, grad_out, need_input_grad=True):
        # dL/dgamma = sum over samples and positions of dL/dout * x ;  dL/dx = dL/dout * gamma
        self.grad_gamma = (grad_out * self._X).reshape(-1, len(self.gamma)).sum(axis=0)
        return grad_out * self.gamma if need_input_grad else None


class WrongScale(Scale):
    """Forgets the input in its weight gradient."""

    kind = "wrong_scale"
    aliases = ()

    def backward(self, grad_out, need_input_grad=True):
        self.grad_gamma = grad_out.reshape(-1, len(self.gamma)).sum(axis=0)
        return grad_out * self.gamma if need_input_grad else None


LAYERS = ("conv:8:3", "scale:0.5", "relu", "maxpool:2")
SMALL = dict(input_shape=(8, 8), max_iter=10, random_state=0)


def quiet_fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def test_check_layer_passes_a_right_layer_on_images_signals_and_flat_inputs():
    for shape in [(4, 5, 3), (1, 9, 2), (6,)]:
        errors = check_layer(Scale(0.7), shape)
        assert set(errors) == {"input", "gamma"} and max(errors.values()) < 1e-8


def test_check_layer_finds_a_broken_backward():
    with pytest.raises(AssertionError, match=r"WrongScale.*wrong dL/d\(gamma\): 3 of 3 entries"):
        check_layer(WrongScale(), (4, 4, 3))


class InPlaceScale(Scale):
    kind, aliases = "in_place_scale", ()

    def forward(self, X, training=False):
        self._X = X.copy() if training else None
        X *= self.gamma
        return X


class CroppingScale(Scale):
    kind, aliases = "cropping_scale", ()

    def forward(self, X, training=False):
        return super().forward(X, training)[:, :1]


class GradInPlaceScale(Scale):
    kind, aliases = "grad_in_place_scale", ()

    def backward(self, grad_out, need_input_grad=True):
        self.grad_gamma = (grad_out * self._X).reshape(-1, len(self.gamma)).sum(axis=0)
        grad_out *= self.gamma
        return grad_out


@pytest.mark.parametrize(
    "layer, match",
    [
        (InPlaceScale(0.5), "forward changed its input in place"),
        (CroppingScale(), r"forward gives an output of shape \(2, 1, 3, 2\), but build said"),
        (GradInPlaceScale(0.5), "backward changed grad_out in place"),
    ],
)
def test_check_layer_holds_layers_to_the_contract(layer, match):
    with pytest.raises(AssertionError, match=match):
        check_layer(layer, (3, 3, 2))


def test_check_layer_refuses_what_is_not_a_layer_or_a_shape():
    with pytest.raises(TypeError, match="takes a skcnn.layers.Layer; got int"):
        check_layer(3, (4,))
    with pytest.raises(ValueError, match=r"input_shape must be a tuple of ints >= 1"):
        check_layer(Scale(), [4, 4])


@pytest.mark.parametrize(
    "attributes, match",
    [
        ({"kind": "half"}, r"does not define forward and backward"),
        ({"forward": Scale.forward}, r"Half.kind must be the lower-case word"),
        ({"kind": "Half", "forward": Scale.forward, "backward": Scale.backward}, "lower-case"),
        ({"kind": "conv", "forward": Scale.forward, "backward": Scale.backward}, "skcnn's own"),
        (
            {
                "kind": "half",
                "aliases": ("bn",),
                "forward": Scale.forward,
                "backward": Scale.backward,
            },
            r"the word 'bn' already names the layer kind 'batchnorm'",
        ),
        (
            {
                "kind": "half",
                "arguments": ("rate",),
                "forward": Scale.forward,
                "backward": Scale.backward,
            },
            r"Half.arguments must be a tuple of skcnn.layers arguments",
        ),
    ],
)
def test_registration_errors_say_what_is_missing(attributes, match):
    with pytest.raises(TypeError, match=match):
        register(type("Half", (Layer,), attributes))
    with pytest.raises(TypeError, match="takes a subclass of skcnn.layers.Layer"):
        register(int)


def test_a_layer_of_ones_own_trains_and_survives_clone_and_pickle(digits_small, tmp_path):
    X, y = digits_small
    clf = quiet_fit(CNNClassifier(layers=LAYERS, **SMALL), X, y)
    assert clf.score(X, y) > 0.8
    assert clf.layers_[1] == ("scale", 0.5)
    assert "Scale(init_value=0.5)" in str(clf.network_)
    assert clf.parameters_["scale1.gamma"].shape == (8,)
    assert not np.allclose(clf.parameters_["scale1.gamma"], 0.5)  # it learned
    twin = quiet_fit(clone(clf), X, y)
    np.testing.assert_array_equal(twin.predict_proba(X), clf.predict_proba(X))
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    joblib.dump(clf, tmp_path / "model.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "model.joblib").predict_proba(X), clf.predict_proba(X)
    )


@pytest.mark.slow
def test_a_saved_model_registers_its_layer_again_in_a_new_process(digits_small, tmp_path):
    X, y = digits_small
    clf = quiet_fit(CNNClassifier(layers=LAYERS, **SMALL), X, y)
    joblib.dump(clf, tmp_path / "model.joblib")
    np.save(tmp_path / "X.npy", X[:20])
    np.save(tmp_path / "expected.npy", clf.predict_proba(X[:20]))
    # Nothing imports this test module: loading the model does, by the class it keeps.
    script = (
        "import joblib, numpy as np\n"
        f"model = joblib.load({str(tmp_path / 'model.joblib')!r})\n"
        f"got = model.predict_proba(np.load({str(tmp_path / 'X.npy')!r}))\n"
        f"np.testing.assert_array_equal(got, np.load({str(tmp_path / 'expected.npy')!r}))\n"
        "from skcnn.layers import layer_class\n"
        "print(layer_class('scale').__module__)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), *sys.path]))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == __name__


@pytest.mark.slow
def test_a_grid_search_in_worker_processes_knows_the_layer(digits_small):
    X, y = digits_small
    search = GridSearchCV(
        CNNClassifier(**SMALL),
        {"layers": [LAYERS, ("conv:4:3", ("scale", 2.0), "relu", "maxpool:2")]},
        cv=2,
        n_jobs=2,
        error_score="raise",
    )
    quiet_fit(search, X, y)
    assert search.best_estimator_.layers_[1][0] == "scale"


def test_a_class_stands_for_its_kind_in_specs(digits_small):
    X, y = digits_small
    clf = quiet_fit(CNNClassifier(layers=("conv:4:3", (Scale, 2.0), "relu"), **SMALL), X, y)
    assert clf.layers_[1] == ("scale", 2.0) and layer_class("channel_scale") is Scale


@pytest.mark.slow
def test_skops_loads_the_layer_once_it_is_trusted(digits_small, tmp_path):
    sio = pytest.importorskip("skops.io")
    X, y = digits_small
    clf = quiet_fit(CNNClassifier(layers=LAYERS, **SMALL), X, y)
    sio.dump(clf, tmp_path / "model.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "model.skops")
    assert f"{__name__}.Scale" in untrusted
    trusted = [*skcnn.TRUSTED_TYPES, f"{__name__}.Scale"]
    assert set(untrusted) <= set(trusted)
    loaded = sio.load(tmp_path / "model.skops", trusted=trusted)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
