"""In the user's hands: interrupts that stop a search, divergence and unscaled inputs reported."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skcnn import CNNClassifier, CNNRegressor
from skcnn.exceptions import DivergenceWarning, InputScaleWarning

SEARCH = textwrap.dedent(
    """
    import sys
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV
    from skcnn import CNNClassifier

    n_jobs, marker = int(sys.argv[1]), sys.argv[2]


    class Announcing(CNNClassifier):
        def _make_trainer(self, *args, **kwargs):
            with open(marker, "a") as file:  # a fit has begun
                file.write("fit\\n")
            return super()._make_trainer(*args, **kwargs)


    X, y = load_digits(return_X_y=True)
    search = GridSearchCV(
        Announcing(input_shape=(8, 8), max_iter=500, tol=0, random_state=0),
        {"kernel_size": [3, 5]},
        cv=2,
        n_jobs=n_jobs,
    )
    try:
        search.fit(X / 16, y)
    except KeyboardInterrupt as exc:
        print("stopped:", exc)
        print("scored:", hasattr(search, "cv_results_"))
        sys.exit(0)
    print("finished")
    """
)


def fit_past_max_iter(estimator, X, y):
    """Fit, the warning that max_iter was reached silenced (and it alone)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Stochastic optimizer", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.mark.slow
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_ctrl_c_stops_a_search_and_scores_no_cut_fit(tmp_path, n_jobs):
    script, marker = tmp_path / "search.py", tmp_path / "fits"
    script.write_text(SEARCH)
    # A process group of its own, as a terminal's: Ctrl-C reaches the workers too.
    child = subprocess.Popen(
        [sys.executable, str(script), str(n_jobs), str(marker)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.1)
        assert marker.exists(), child.communicate()
        time.sleep(1.0)  # inside the fits' epochs
        os.killpg(child.pid, signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
    assert "finished" not in out, out
    assert "stopped:" in out and "scored: False" in out, (out, err)
    if n_jobs == 1:  # the fit itself said why
        assert "Training interrupted (Ctrl-C) in epoch" in out


def test_a_huge_learning_rate_warns_of_divergence(digits):
    X, y = digits
    clf = CNNClassifier(input_shape=(8, 8), learning_rate_init=10, max_iter=5, random_state=0)
    with pytest.warns(DivergenceWarning) as record:
        fit_past_max_iter(clf, X, y)
    message = str(record[0].message)
    assert "the loss rose to" in message and "from 2." in message  # ln(10): the first batch
    assert "no better than chance on its training data (accuracy 0." in message
    assert "smaller learning_rate_init (now 10); batch_norm=True steadies" in message
    assert issubclass(DivergenceWarning, ConvergenceWarning)


def test_a_regressor_that_learned_nothing_warns(digits):
    X, y = digits
    reg = CNNRegressor(input_shape=(8, 8), learning_rate_init=5, max_iter=3, random_state=0)
    with pytest.warns(DivergenceWarning, match=r"no better than their mean \(R\^2 -?\d"):
        fit_past_max_iter(reg, X, (y - y.mean()) / y.std())


@pytest.mark.slow
def test_fashion_mnist_scaled_trains_without_a_word():
    datasets = pytest.importorskip("skcnn.datasets")
    try:
        X, y = datasets.load_fashion_mnist("test")
    except FileNotFoundError:
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    X, y = X[:1000] / 255, y[:1000]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", "Stochastic optimizer", ConvergenceWarning)
        CNNClassifier(filters=(8,), hidden_layer_sizes=(32,), max_iter=2, random_state=0).fit(X, y)


def test_raw_pixels_get_a_hint_and_scaled_ones_none(digits):
    X, y = digits
    raw = np.round(X * 255)  # 8-bit images
    with pytest.warns(InputScaleWarning, match=r"from 0 to 255, all whole numbers.*by 255"):
        fit_past_max_iter(CNNClassifier(input_shape=(8, 8), filters=(4,), max_iter=1), raw, y)
    large = np.random.RandomState(0).normal(0, 100, (200, 64))
    with pytest.warns(InputScaleWarning, match=r"far from unit scale.*StandardScaler"):
        reg = CNNRegressor(input_shape=(8, 8), filters=(4,), max_iter=1)
        fit_past_max_iter(reg, large, y[:200])
    for scaled in (X, raw / 255, (raw - raw.mean()) / raw.std()):
        with warnings.catch_warnings():
            warnings.simplefilter("error", InputScaleWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            CNNClassifier(input_shape=(8, 8), filters=(4,), max_iter=1).fit(scaled, y)


# --- checkpoints ------------------------------------------------------------------

CHECKPOINTED = dict(
    input_shape=(8, 8),
    filters=(8,),
    hidden_layer_sizes=(16,),
    max_iter=12,
    early_stopping=True,
    n_iter_no_change=100,
    augment_shift=1,
    dropout=0.2,
    learning_rate="cosine",
    random_state=0,
)

FIT_WITH_CHECKPOINTS = textwrap.dedent(
    """
    import sys, warnings
    from sklearn.datasets import load_digits
    from skcnn import CNNClassifier

    params = eval(sys.argv[1])
    X, y = load_digits(return_X_y=True)
    warnings.simplefilter("ignore")
    CNNClassifier(**params).fit(X / 16, y)
    print("finished")
    """
)


@pytest.mark.slow
def test_a_fit_killed_mid_epoch_resumes_from_its_checkpoint(tmp_path, digits):
    import joblib

    X, y = digits
    path = tmp_path / "fit.ckpt"
    params = {**CHECKPOINTED, "checkpoint": str(path), "checkpoint_every": 7}
    script = tmp_path / "fit.py"
    script.write_text(FIT_WITH_CHECKPOINTS)
    child = subprocess.Popen([sys.executable, str(script), repr(params)], text=True)
    reads, seen = 0, None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None:
            if path.exists():
                seen = joblib.load(path)  # never torn: every read gives a whole checkpoint
                reads += 1
                if seen["state"]["n_iter_"] >= 3 and seen["position"] is not None:
                    break
            time.sleep(0.005)
        child.kill()  # SIGKILL, as a machine out of memory does: no handler runs
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL, "the fit ended before it could be killed"
    assert reads > 3 and seen["position"]["batch"] % 7 == 0
    left = joblib.load(path)
    assert left["state"]["n_iter_"] >= 3  # whole: the last checkpoint before the kill

    resumed = fit_past_max_iter(CNNClassifier(**params), X, y)
    assert not path.exists()  # the fit is over: nothing left to resume
    straight = fit_past_max_iter(CNNClassifier(**CHECKPOINTED), X, y)
    assert resumed.n_iter_ == straight.n_iter_ == 12 and resumed.t_ == straight.t_
    assert resumed.loss_curve_ == straight.loss_curve_  # the same schedule and streams
    for name, array in straight.parameters_.items():
        np.testing.assert_array_equal(resumed.parameters_[name], array)
    np.testing.assert_array_equal(resumed.predict_proba(X), straight.predict_proba(X))


def test_ctrl_c_leaves_a_checkpoint_at_the_very_batch(tmp_path, digits, monkeypatch):
    from skcnn._training import Trainer

    X, y = digits
    path = tmp_path / "fit.ckpt"
    params = {**CHECKPOINTED, "checkpoint": str(path)}  # at the ends of epochs only
    step, calls = Trainer.train_step, []

    def interrupted_step(self, *args):
        calls.append(1)
        loss = step(self, *args)
        if len(calls) == 100:  # in the third epoch of 45 batches
            signal.raise_signal(signal.SIGINT)
        return loss

    monkeypatch.setattr(Trainer, "train_step", interrupted_step)
    with pytest.raises(KeyboardInterrupt, match="resumes from checkpoint="):
        CNNClassifier(**params).fit(X, y)
    monkeypatch.undo()
    resumed = fit_past_max_iter(CNNClassifier(**params), X, y)
    straight = fit_past_max_iter(CNNClassifier(**CHECKPOINTED), X, y)
    assert resumed.loss_curve_ == straight.loss_curve_
    for name, array in straight.parameters_.items():
        np.testing.assert_array_equal(resumed.parameters_[name], array)


@pytest.mark.parametrize(
    "changes, data, match",
    [
        (
            {"max_iter": 5},
            None,
            r"holds a fit with other arguments \(max_iter=12, now max_iter=5\)",
        ),
        ({}, "other", r"was written while fitting other data"),
    ],
)
def test_a_checkpoint_resumes_only_its_own_fit(tmp_path, digits, monkeypatch, changes, data, match):
    from skcnn._training import Trainer

    X, y = digits
    path = tmp_path / "fit.ckpt"
    params = {**CHECKPOINTED, "checkpoint": str(path)}
    fit = Trainer.fit

    def crash(self, *args, **kwargs):  # the machine dies after the first epoch
        kwargs["n_epochs"] = 1
        fit(self, *args, **kwargs)
        raise MemoryError("killed")

    monkeypatch.setattr(Trainer, "fit", crash)
    with pytest.raises(MemoryError):
        CNNClassifier(**params).fit(X, y)
    monkeypatch.undo()
    assert path.exists()
    X_again = X[::-1] if data == "other" else X
    with pytest.raises(ValueError, match=match):
        CNNClassifier(**{**params, **changes}).fit(X_again, y[::-1] if data else y)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot be read"):
        CNNClassifier(**params).fit(X, y)


# --- validation data of one's own ---------------------------------------------------


def test_validation_data_of_ones_own_is_what_early_stopping_scores(digits):
    X, y = digits
    X_train, y_train, X_val, y_val = X[:1200], y[:1200], X[1200:], y[1200:]
    params = dict(input_shape=(8, 8), filters=(8,), early_stopping=True, max_iter=4)
    clf = fit_past_max_iter(CNNClassifier(**params, random_state=0), X_train, y_train)
    own = CNNClassifier(**params, random_state=0)
    own = fit_past_max_iter_with(own, X_train, y_train, X_val=X_val, y_val=y_val)
    assert own.t_ == 4 * 1200  # every training sample trains: none held out
    assert clf.t_ == 4 * 1080  # validation_fraction=0.1 held out
    scores = [own.score(X_val, y_val)]
    assert own.best_validation_score_ == pytest.approx(max(own.validation_scores_))
    assert own.best_validation_score_ == pytest.approx(scores[0])  # the best weights kept
    weights = np.where(y_val == 3, 0.0, 1.0)
    weighted = fit_past_max_iter_with(
        CNNClassifier(**params, random_state=0),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
        sample_weight_val=weights,
    )
    assert (
        weighted.validation_scores_[0]
        == pytest.approx(
            weighted.score(X_val, y_val, sample_weight=weights) if weighted.n_iter_ == 1 else None
        )
        or len(weighted.validation_scores_) > 1
    )


def fit_past_max_iter_with(estimator, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Stochastic optimizer", ConvergenceWarning)
        return estimator.fit(X, y, **fit_params)


@pytest.mark.slow
def test_validation_data_through_a_pipeline_with_metadata_routing(digits):
    sklearn = pytest.importorskip("sklearn")
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler

    X, y = digits
    X = X * 16  # the scaler's business
    cnn = CNNClassifier(input_shape=(8, 8), filters=(8,), early_stopping=True, max_iter=3)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [("scale", MinMaxScaler()), ("cnn", cnn.set_fit_request(X_val=True, y_val=True))],
            transform_input=["X_val"],
        )
        fit_past_max_iter_with(pipe, X[:1200], y[:1200], X_val=X[1200:], y_val=y[1200:])
    assert len(pipe[-1].validation_scores_) == 3
    assert pipe[-1].validation_scores_[-1] > 0.5  # X_val was scaled as X was


@pytest.mark.parametrize(
    "params, fit_params, match",
    [
        (
            {},
            {"X_val": "X", "y_val": "y"},
            r"early stopping, which is off: set early_stopping=True",
        ),
        ({"early_stopping": True}, {"X_val": "X"}, r"y_val is missing"),
        ({"early_stopping": True}, {"y_val": "y"}, r"X_val is missing"),
        (
            {"early_stopping": True},
            {"X_val": "narrow", "y_val": "y"},
            r"X_val does not match the training data X: X has 60 features, but",
        ),
        ({"early_stopping": True}, {"X_val": "X", "y_val": "short"}, r"X_val has 100 samples but"),
        (
            {"early_stopping": True},
            {"X_val": "X", "y_val": "unknown"},
            r"y_val does not match the training targets y: y has labels \[11\]",
        ),
    ],
)
def test_validation_data_errors_name_the_argument(digits, monkeypatch, params, fit_params, match):
    from skcnn._training import Trainer

    X, y = digits
    values = {"X": X[:100], "y": y[:100], "narrow": X[:100, :60], "short": y[:50]}
    values["unknown"] = np.where(y[:100] == 0, 11, y[:100])
    monkeypatch.setattr(Trainer, "fit", lambda *a, **k: pytest.fail("training started"))
    with pytest.raises(ValueError, match=match):
        CNNClassifier(input_shape=(8, 8), **params).fit(
            X, y, **{name: values[key] for name, key in fit_params.items()}
        )


# --- more targets: multilabel classification, regression losses --------------------------


def multilabel(y):
    """Three labels per digit: odd, above 4, a multiple of 3."""
    return np.stack([y % 2, y > 4, y % 3 == 0], axis=1).astype(int)


def test_multilabel_classification_as_mlp_classifier_gives_it(digits):
    from sklearn.neural_network import MLPClassifier

    X, y = digits
    Y = multilabel(y)
    clf = fit_past_max_iter(CNNClassifier(input_shape=(8, 8), max_iter=8, random_state=0), X, Y)
    mlp = fit_past_max_iter(MLPClassifier(max_iter=5, random_state=0), X, Y)
    np.testing.assert_array_equal(clf.classes_, mlp.classes_)
    assert clf.predict(X).shape == Y.shape and set(np.unique(clf.predict(X))) <= {0, 1}
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_array_equal(clf.predict(X), (proba > 0.5).astype(int))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba)
    assert clf.score(X, Y) > 0.9  # every label of a sample right
    partial = CNNClassifier(input_shape=(8, 8), random_state=0).partial_fit(X, Y)
    assert partial.predict(X[:2]).shape == (2, 3)


@pytest.mark.parametrize(
    "y_kind, match",
    [
        ("multiclass 2-D", r"not 0/1 indicators: CNNClassifier takes one class label per sample"),
        ("class_weight", r"class_weight is not supported for multilabel y"),
    ],
)
def test_multilabel_errors(digits, y_kind, match):
    X, y = digits
    Y = multilabel(y)
    if y_kind == "multiclass 2-D":
        Y[:, 0] = y % 3  # three classes in a column
    params = {"class_weight": "balanced"} if y_kind == "class_weight" else {}
    with pytest.raises(ValueError, match=match):
        CNNClassifier(input_shape=(8, 8), **params).fit(X, Y)


def test_a_multilabel_model_refuses_1d_y_later(digits):
    X, y = digits
    clf = CNNClassifier(input_shape=(8, 8), filters=(4,)).partial_fit(X, multilabel(y))
    with pytest.raises(ValueError, match=r"fitted on multilabel y \(0/1 indicators of 3 labels"):
        clf.partial_fit(X, y)


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["squared_error", "absolute_error", "huber", "poisson"])
def test_regressor_losses_learn(digits, loss):
    X, y = digits
    target = y + 1.0  # counts for the Poisson loss
    reg = CNNRegressor(input_shape=(8, 8), loss=loss, max_iter=10, random_state=0)
    fit_past_max_iter(reg, X, target)
    assert reg.score(X, target) > 0.7
    if loss == "poisson":
        assert (reg.predict(X) > 0).all()  # means of counts


def test_poisson_needs_counts(digits):
    X, y = digits
    with pytest.raises(ValueError, match=r"loss='poisson' needs targets y that are counts"):
        CNNRegressor(input_shape=(8, 8), loss="poisson").fit(X, y - 5.0)
