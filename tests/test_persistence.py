"""Saving and loading models: pickle/joblib with a version check, skops with a trusted list."""

import io
import json
import pickle
import warnings
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import skcnn
from skcnn import TRUSTED_TYPES, CNNClassifier, CNNRegressor
from skcnn.exceptions import InconsistentVersionWarning
from skcnn.preprocessing import Spectrogram, TextVectorizer

TINY = dict(input_shape=(8, 8), filters=(2,), hidden_layer_sizes=(8,), max_iter=2, random_state=0)


def quiet_fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.fixture(scope="module")
def fitted_models(digits_small):
    """Every kind of fitted model the trusted list must cover."""
    X, y = digits_small
    X, y = X[:200], y[:200]
    return {
        "classifier": quiet_fit(CNNClassifier(**TINY), X, y),
        "classifier, string labels, weights, early stopping": quiet_fit(
            CNNClassifier(early_stopping=True, class_weight="balanced", **TINY),
            X,
            np.array(["even", "odd"])[y % 2],
        ),
        "classifier, layer specs": quiet_fit(
            CNNClassifier(
                input_shape=(8, 8),
                layers=["conv:2:3", "relu", ("avgpool", 2), ("dropout", 0.5), "dense:4"],
                max_iter=2,
                random_state=0,
            ),
            X,
            y,
        ),
        "classifier, batch norm, augmentation, cosine schedule, features": quiet_fit(
            CNNClassifier(
                batch_norm=True,
                augment_shift=1,
                augment_flip=True,
                learning_rate="cosine",
                feature_layer="maxpool1",
                **TINY,
            ),
            X,
            y,
        ),
        "partial_fit classifier": CNNClassifier(**TINY).partial_fit(X, y, classes=np.arange(10)),
        "regressor, 2 outputs": quiet_fit(CNNRegressor(**TINY), X, np.c_[y, -y] / 10),
        "pipeline": quiet_fit(make_pipeline(MinMaxScaler(), CNNClassifier(**TINY)), X * 16, y),
    }


def predictions(model, X):
    X = X[:50] * 16 if hasattr(model, "steps") else X[:50]
    return model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)


@pytest.mark.parametrize("how", ["pickle", "joblib"])
def test_pickle_and_joblib_round_trip_without_warning(fitted_models, digits_small, tmp_path, how):
    X, _ = digits_small
    for name, model in fitted_models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # same version: no warning at all
            if how == "pickle":
                loaded = pickle.loads(pickle.dumps(model))
            else:
                joblib.dump(model, tmp_path / "model.joblib")
                loaded = joblib.load(tmp_path / "model.joblib")
        np.testing.assert_array_equal(predictions(loaded, X), predictions(model, X), err_msg=name)
        estimator = loaded[-1] if hasattr(loaded, "steps") else loaded
        assert "_skcnn_version" not in estimator.__dict__  # checked, then dropped


def go_on_training(model, X, y):
    """Two more partial_fit epochs; return the losses and the weights."""
    model.partial_fit(X[200:], y[200:])
    model.partial_fit(X[:200], y[:200])
    return model.loss_curve_, model.coefs_ + model.intercepts_


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_partial_fit_goes_on_exactly_after_a_round_trip(digits_small, solver):
    """Optimizer moments, learning rate and random streams (shuffle, dropout) are saved."""
    X, y = digits_small
    model = CNNClassifier(
        input_shape=(8, 8),
        layers=["conv:2:3", "relu", "maxpool:2", ("dropout", 0.3), "dense:8", "relu"],
        solver=solver,
        learning_rate_init=0.01,
        random_state=0,
    )
    model.partial_fit(X[:200], y[:200], classes=np.arange(10))
    loaded = pickle.loads(pickle.dumps(model))
    twice = pickle.loads(pickle.dumps(pickle.loads(pickle.dumps(model))))
    expected_losses, expected_weights = go_on_training(model, X, y)
    for copy in (loaded, twice):
        losses, weights = go_on_training(copy, X, y)
        assert losses == expected_losses
        for got, expected in zip(weights, expected_weights):
            np.testing.assert_array_equal(got, expected)


def test_the_saved_state_holds_the_version_and_no_live_objects(fitted_models):
    state = fitted_models["classifier"].__getstate__()
    assert state["_skcnn_version"] == skcnn.__version__
    assert not {"_network", "_optimizer", "_random_state"} & set(state)
    assert all(type(loss) is float for loss in state["loss_curve_"])
    weighted = fitted_models["classifier, string labels, weights, early stopping"]
    assert all(type(loss) is float for loss in weighted.loss_curve_)  # no float32 scalars
    assert type(weighted.best_loss_) is float


def test_loading_a_model_of_another_version_warns(fitted_models, digits_small, monkeypatch):
    X, _ = digits_small
    model = fitted_models["classifier"]
    monkeypatch.setattr("skcnn._persistence.__version__", "0.0.1")  # the version that saves
    saved = pickle.dumps(model)
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning) as record:
        loaded = pickle.loads(saved)
    warning = record[0].message
    assert warning.estimator_name == "CNNClassifier"
    assert warning.original_skcnn_version == "0.0.1"
    assert warning.current_skcnn_version == skcnn.__version__
    assert f"skcnn version 0.0.1 into skcnn version {skcnn.__version__}" in str(warning)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))  # still loads


def test_loading_a_model_saved_without_a_version_warns(fitted_models):
    state = fitted_models["classifier"].__getstate__()
    del state["_skcnn_version"]
    loaded = CNNClassifier.__new__(CNNClassifier)
    with pytest.warns(InconsistentVersionWarning, match="skcnn version unknown"):
        loaded.__setstate__(state)


def test_the_version_warning_can_be_made_an_error(fitted_models, monkeypatch):
    monkeypatch.setattr("skcnn._persistence.__version__", "0.0.1")
    saved = pickle.dumps(fitted_models["regressor, 2 outputs"])
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        with pytest.raises(InconsistentVersionWarning, match="CNNRegressor"):
            pickle.loads(saved)


# --- skops ---------------------------------------------------------------------

PREPROCESSING_TYPES = {"skcnn.preprocessing.Spectrogram", "skcnn.preprocessing.TextVectorizer"}


def test_trusted_types_name_the_estimator_classes():
    classes = (CNNClassifier, CNNRegressor, Spectrogram, TextVectorizer)
    expected = {f"{cls.__module__}.{cls.__qualname__}" for cls in classes}
    assert set(TRUSTED_TYPES) == expected
    assert len(TRUSTED_TYPES) == len(expected)


def test_the_docs_show_the_trusted_list_as_it_is():
    docs = Path(__file__).resolve().parents[1] / "docs"
    for page in ("persistence.rst", "api.rst"):
        assert repr(TRUSTED_TYPES) in (docs / page).read_text(), page


def test_skops_finds_only_skcnn_estimators_untrusted(fitted_models):
    sio = pytest.importorskip("skops.io")
    reported = set()
    for name, model in fitted_models.items():
        untrusted = sio.get_untrusted_types(data=sio.dumps(model))
        kind = CNNRegressor if "regressor" in name else CNNClassifier
        assert untrusted == [f"{kind.__module__}.{kind.__name__}"], name
        reported.update(untrusted)
    # the documented list, no more, no less (the transformers: test_preprocessing.py)
    assert reported | PREPROCESSING_TYPES == set(TRUSTED_TYPES)


def test_skops_round_trip_with_the_trusted_list(fitted_models, digits_small, tmp_path):
    sio = pytest.importorskip("skops.io")
    X, _ = digits_small
    for name, model in fitted_models.items():
        path = tmp_path / "model.skops"
        sio.dump(model, path)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            loaded = sio.load(path, trusted=TRUSTED_TYPES)
        np.testing.assert_array_equal(predictions(loaded, X), predictions(model, X), err_msg=name)
        with pytest.raises(sio.exceptions.UntrustedTypesFoundException, match="skcnn"):
            sio.load(path)  # skcnn's classes are not trusted by default


def test_skops_loaded_model_goes_on_training_exactly(digits_small):
    sio = pytest.importorskip("skops.io")
    X, y = digits_small
    model = CNNClassifier(dropout=0.2, **TINY).partial_fit(X[:200], y[:200], classes=range(10))
    loaded = sio.loads(sio.dumps(model), trusted=TRUSTED_TYPES)
    expected_losses, expected_weights = go_on_training(model, X, y)
    losses, weights = go_on_training(loaded, X, y)
    assert losses == expected_losses
    for got, expected in zip(weights, expected_weights):
        np.testing.assert_array_equal(got, expected)


def test_skops_load_warns_for_another_version(fitted_models, monkeypatch):
    sio = pytest.importorskip("skops.io")
    monkeypatch.setattr("skcnn._persistence.__version__", "0.0.1")
    saved = sio.dumps(fitted_models["classifier"])
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning, match="0.0.1"):
        sio.loads(saved, trusted=TRUSTED_TYPES)


def _edit_schema(data, edit):
    """The skops file ``data`` with its schema.json changed by ``edit(schema)``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "schema.json":
                schema = json.loads(content)
                edit(schema)
                content = json.dumps(schema).encode()
            target.writestr(item, content)
    return out.getvalue()


def _smuggle_os_system(schema):
    # an extra attribute whose value is the function os.system
    schema["content"]["content"]["payload"] = {
        "__class__": "system",
        "__module__": "posix",
        "__loader__": "TypeNode",
        "__id__": 1,
    }


def _disguise_as_popen(schema):
    # the estimator's own class swapped for one that runs a command when built
    schema["__class__"], schema["__module__"] = "Popen", "subprocess"


@pytest.mark.parametrize(
    "edit, bad_type",
    [(_smuggle_os_system, "posix.system"), (_disguise_as_popen, "subprocess.Popen")],
    ids=["os.system in the state", "subprocess.Popen as the class"],
)
def test_skops_refuses_a_malicious_file(fitted_models, tmp_path, edit, bad_type):
    sio = pytest.importorskip("skops.io")
    path = tmp_path / "malicious.skops"
    path.write_bytes(_edit_schema(sio.dumps(fitted_models["classifier"]), edit))
    assert bad_type in sio.get_untrusted_types(file=path)
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException, match=bad_type):
        sio.load(path, trusted=TRUSTED_TYPES)


@pytest.mark.parametrize(
    "name", ["classifier", "classifier, batch norm, augmentation, cosine schedule, features"]
)
def test_models_of_the_first_versions_load_with_their_arrays_named(fitted_models, name):
    """skcnn 0.1 saved weights as coefs_, intercepts_ and running_stats_ lists."""
    model = fitted_models[name]
    state = model.__getstate__()
    state["coefs_"], state["intercepts_"] = model.coefs_, model.intercepts_
    state["running_stats_"] = model.running_stats_
    del state["parameters_"], state["buffers_"]
    state["_skcnn_version"] = "0.1.0"
    loaded = CNNClassifier.__new__(CNNClassifier)
    with pytest.warns(InconsistentVersionWarning):
        loaded.__setstate__(state)
    for saved, got in [(model.parameters_, loaded.parameters_), (model.buffers_, loaded.buffers_)]:
        assert got.keys() == saved.keys()
        for key, array in saved.items():
            np.testing.assert_array_equal(got[key], array)
