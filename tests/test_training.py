"""Training control: early stopping, schedules, partial_fit, warm_start, weights, Ctrl-C."""

import pickle
import signal
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import recall_score
from sklearn.model_selection import cross_validate

from skcnn import CNNClassifier
from skcnn._augmentation import shift_and_flip
from skcnn._training import LearningRateSchedule, Trainer

SMALL = dict(input_shape=(8, 8), filters=(4,), hidden_layer_sizes=(16,), random_state=0)


def quiet(estimator, method, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return getattr(estimator, method)(*args, **kwargs)


def params_of(clf):
    return [p.copy() for p in clf.coefs_ + clf.intercepts_]


def test_early_stopping_records_and_keeps_the_best_epoch(digits_small):
    X, y = digits_small
    clf = quiet(CNNClassifier(early_stopping=True, max_iter=15, **SMALL), "fit", X, y)
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert all(np.isfinite(clf.validation_loss_curve_))
    # A fit that ends at the best epoch keeps the same weights: the longer fit
    # went back to them.
    best_epoch = int(np.argmax(clf.validation_scores_)) + 1
    short = quiet(CNNClassifier(early_stopping=True, max_iter=best_epoch, **SMALL), "fit", X, y)
    for kept, best in zip(params_of(clf), params_of(short)):
        np.testing.assert_array_equal(kept, best)


def test_early_stopping_stops_when_validation_stalls(digits_small):
    X, y = digits_small
    clf = CNNClassifier(early_stopping=True, tol=1.0, n_iter_no_change=2, max_iter=50, **SMALL)
    clf.fit(X, y)
    assert clf.n_iter_ == 4  # no epoch raises the accuracy by 1.0


def test_early_stopping_needs_a_validation_set(digits_small):
    X, y = digits_small
    with pytest.raises(ValueError, match="early_stopping cannot hold out"):
        CNNClassifier(early_stopping=True, validation_fraction=0.01, **SMALL).fit(X[:50], y[:50])


def test_no_early_stopping_leaves_validation_attributes_none(digits_small):
    X, y = digits_small
    clf = quiet(CNNClassifier(max_iter=2, **SMALL), "fit", X, y)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None


def test_invscaling_schedule(digits_small):
    X, y = digits_small
    clf = quiet(
        CNNClassifier(learning_rate="invscaling", power_t=0.5, max_iter=3, **SMALL), "fit", X, y
    )
    assert clf.t_ == 3 * len(X)
    assert clf._optimizer.learning_rate == pytest.approx(0.001 / (clf.t_ + 1) ** 0.5)


def test_cosine_schedule(digits_small, monkeypatch):
    X, y = digits_small
    clf = CNNClassifier(learning_rate="cosine", max_iter=4, n_iter_no_change=10, **SMALL)
    rates = []
    epoch_end = LearningRateSchedule.epoch_end

    def record(self, optimizer, history):
        epoch_end(self, optimizer, history)
        rates.append(optimizer.learning_rate)

    monkeypatch.setattr(LearningRateSchedule, "epoch_end", record)
    quiet(clf, "fit", X, y)
    # after epoch k of 4: 0.001 * (1 + cos(pi k / 4)) / 2, and the cycle starts over
    expected = [0.001 * (1 + np.cos(np.pi * k / 4)) / 2 for k in (1, 2, 3, 0)]
    np.testing.assert_allclose(rates, expected)
    assert rates[2] < rates[1] < rates[0] < 0.001


def test_adaptive_schedule_divides_by_five_then_stops(digits_small):
    X, y = digits_small
    clf = CNNClassifier(
        learning_rate="adaptive",
        solver="sgd",
        learning_rate_init=1e-4,
        tol=100.0,
        n_iter_no_change=1,
        max_iter=100,
        **SMALL,
    )
    clf.fit(X, y)
    # 1e-4 / 5^k drops below 1e-6 after 3 divisions; each waits 2 stalled epochs.
    assert clf._optimizer.learning_rate == pytest.approx(1e-4 / 5**3)
    assert clf.n_iter_ == 1 + 2 * 4


def test_partial_fit_equals_fit_without_shuffling(digits_small):
    X, y = digits_small
    params = dict(SMALL, shuffle=False)
    fitted = quiet(CNNClassifier(max_iter=3, **params), "fit", X, y)
    stepped = CNNClassifier(**params)
    for _ in range(3):
        stepped.partial_fit(X, y, classes=np.unique(y))
    assert stepped.n_iter_ == 3
    for a, b in zip(params_of(fitted), params_of(stepped)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_partial_fit_over_chunks_learns(digits):
    X, y = digits
    clf = CNNClassifier(**SMALL)
    for _ in range(8):
        for chunk in np.array_split(np.arange(1400), 7):
            clf.partial_fit(X[chunk], y[chunk], classes=np.arange(10))
    assert clf.score(X[1400:], y[1400:]) > 0.75  # unseen writers; chance is 0.1


def test_partial_fit_checks_classes(digits_small):
    X, y = digits_small
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        CNNClassifier(**SMALL).partial_fit(X, y)
    clf = CNNClassifier(**SMALL).partial_fit(X[y < 5], y[y < 5], classes=[0, 1, 2, 3, 4])
    with pytest.raises(ValueError, match=r"labels \[5, 6, 7, 8, 9\] that are not in classes_"):
        clf.partial_fit(X, y)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        CNNClassifier(early_stopping=True, **SMALL).partial_fit(X, y, classes=np.arange(10))


def test_warm_start_goes_on(digits_small):
    X, y = digits_small
    clf = quiet(CNNClassifier(warm_start=True, max_iter=2, **SMALL), "fit", X, y)
    first = params_of(clf)
    quiet(clf, "fit", X, y)
    assert clf.n_iter_ == 4 and len(clf.loss_curve_) == 4
    assert not np.array_equal(first[0], clf.coefs_[0])
    cold = quiet(CNNClassifier(max_iter=2, **SMALL), "fit", X, y)
    quiet(cold, "fit", X, y)
    assert cold.n_iter_ == 2  # without warm_start, fit starts anew


def test_class_weight_is_a_sample_weight(digits_small):
    X, y = digits_small
    weights = {label: 1.0 + label / 10 for label in range(10)}
    by_class = quiet(CNNClassifier(class_weight=weights, max_iter=2, **SMALL), "fit", X, y)
    by_sample = quiet(CNNClassifier(max_iter=2, **SMALL), "fit", X, y, sample_weight=1.0 + y / 10)
    for a, b in zip(params_of(by_class), params_of(by_sample)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_balanced_class_weight_helps_the_rare_class(digits):
    X, y = digits
    rare = np.flatnonzero(y == 1)[:12]  # a rare class among 0s and 1s
    keep = np.concatenate([np.flatnonzero(y == 0), rare])
    X_train, y_train = X[keep], y[keep]
    test = np.flatnonzero(y == 1)[12:]
    recalls = []
    for class_weight in (None, "balanced"):
        clf = CNNClassifier(class_weight=class_weight, max_iter=5, **SMALL)
        quiet(clf, "fit", X_train, y_train)
        recalls.append(recall_score(y[test], clf.predict(X[test]), pos_label=1))
    assert recalls[1] > recalls[0]


def test_zero_weight_samples_do_not_count(digits_small):
    X, y = digits_small
    noise = np.random.RandomState(0).permutation(y)  # wrong labels, weight 0
    X2, y2 = np.vstack([X, X]), np.concatenate([y, noise])
    w = np.concatenate([np.ones(len(y)), np.zeros(len(y))])
    params = dict(SMALL, batch_size=1000, shuffle=False, dtype="float64", max_iter=3)
    weighted = quiet(CNNClassifier(**params), "fit", X2, y2, sample_weight=w)
    clean = quiet(CNNClassifier(**params), "fit", X, y)
    np.testing.assert_allclose(weighted.predict_proba(X), clean.predict_proba(X), atol=1e-10)


def test_sample_weight_routes_through_cross_validate(digits_small):
    X, y = digits_small
    with sklearn.config_context(enable_metadata_routing=True):
        clf = CNNClassifier(max_iter=2, **SMALL).set_fit_request(sample_weight=True)
        clf.set_score_request(sample_weight=True)
        result = quiet_call(
            cross_validate, clf, X, y, cv=2, params={"sample_weight": np.ones(len(y))}
        )
    assert len(result["test_score"]) == 2


def quiet_call(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return function(*args, **kwargs)


def test_ctrl_c_stops_after_the_batch_then_raises_with_a_usable_model(digits_small, monkeypatch):
    X, y = digits_small
    clf = CNNClassifier(max_iter=50, batch_size=32, **SMALL)
    original = Trainer.train_step
    calls = []

    def step(self, *args):
        calls.append(1)
        loss = original(self, *args)
        if len(calls) == 3:
            signal.raise_signal(signal.SIGINT)  # as if the user pressed Ctrl-C
        return loss

    monkeypatch.setattr(Trainer, "train_step", step)
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt, match=r"interrupted \(Ctrl-C\) in epoch 1, 24% of it"):
        clf.fit(X, y)
    assert len(calls) == 3 and clf.t_ == 96 and clf.partial_epoch_ == 96 / 400
    assert clf.n_iter_ == 0 and clf.loss_curve_ == []  # the cut epoch is no complete one
    assert clf.predict(X).shape == y.shape  # a usable model
    assert signal.getsignal(signal.SIGINT) is handler  # the caller's again
    quiet_call(clf.set_params(warm_start=True, max_iter=1).fit, X, y)  # and it goes on
    assert clf.n_iter_ == 1 and clf.t_ == 496 and clf.partial_epoch_ is None


@pytest.mark.slow
def test_dropout_and_average_pooling_learn_digits(digits):
    X, y = digits
    clf = CNNClassifier(
        input_shape=(8, 8),
        layers=(
            "conv:16:3",
            "relu",
            "avgpool:2",
            "conv:32:3",
            "relu",
            "globalavgpool",
            "dense:64",
            "relu",
            "dropout:0.3",
        ),
        max_iter=30,
        random_state=0,
    )
    quiet(clf, "fit", X[:1200], y[:1200])
    assert [spec[0] for spec in clf.layers_][-4:] == ["dense", "relu", "dropout", "dense"]
    assert clf.score(X[1200:], y[1200:]) > 0.8  # unseen writers; chance is 0.1
    # Reproducible with dropout, and after a pickle round trip too.
    again = quiet(clone(clf), "fit", X[:1200], y[:1200])
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_dropout_argument_follows_every_hidden_dense_layer(digits_small):
    X, y = digits_small
    clf = quiet(
        CNNClassifier(
            dropout=0.5,
            hidden_layer_sizes=(16, 8),
            max_iter=2,
            **{k: v for k, v in SMALL.items() if k != "hidden_layer_sizes"},
        ),
        "fit",
        X,
        y,
    )
    kinds = [spec[0] for spec in clf.layers_]
    assert kinds.count("dropout") == 2
    with pytest.raises(ValueError, match="The 'dropout' parameter"):
        CNNClassifier(dropout=1.0).fit(X, y)


def test_scikit_learn_callbacks(digits_small):
    callback = pytest.importorskip("sklearn.callback")
    X, y = digits_small
    monitor = callback.ScoringMonitor(scoring="accuracy")
    clf = CNNClassifier(max_iter=3, **SMALL).set_callbacks(monitor)
    quiet(clf, "fit", X, y)
    logs = monitor.get_logs()
    logs = logs if isinstance(logs, list) else [logs]
    rows = [row for log in logs for row in log.data]
    epochs = [row for row in rows if row["task_name"] == "epoch"]
    assert len(epochs) == 3  # one score per epoch
    assert all(0 <= row["accuracy"] <= 1 for row in epochs)


def test_warm_start_refuses_a_changed_architecture(digits_small):
    X, y = digits_small
    clf = quiet(CNNClassifier(warm_start=True, max_iter=1, **SMALL), "fit", X, y)
    clf.set_params(filters=(8,))
    with pytest.raises(ValueError, match="architecture arguments changed"):
        clf.fit(X, y)
    clf.set_params(filters=(4,), learning_rate_init=0.01)  # training arguments may change
    quiet(clf, "fit", X, y)
    assert clf.n_iter_ == 2


def shifted(X, dy, dx):
    """8x8 digits moved by (dy, dx) pixels, zeros coming in."""
    images, out = X.reshape(-1, 8, 8), np.zeros((len(X), 8, 8))
    rows, cols = slice(max(dy, 0), 8 + min(dy, 0)), slice(max(dx, 0), 8 + min(dx, 0))
    out[:, rows, cols] = images[:, max(-dy, 0) : 8 + min(-dy, 0), max(-dx, 0) : 8 + min(-dx, 0)]
    return out.reshape(len(X), -1)


def test_batch_norm_learns_digits_faster(digits):
    X, y = digits
    args = dict(input_shape=(8, 8), filters=(16,), hidden_layer_sizes=(32,), random_state=0)
    plain = quiet(CNNClassifier(max_iter=3, **args), "fit", X[:1200], y[:1200])
    normed = quiet(CNNClassifier(batch_norm=True, max_iter=3, **args), "fit", X[:1200], y[:1200])
    kinds = [spec[0] for spec in normed.layers_]
    assert kinds[:3] == ["conv", "batchnorm", "relu"] and kinds.count("batchnorm") == 2
    assert normed.loss_curve_[-1] < 0.8 * plain.loss_curve_[-1]
    assert normed.score(X[1200:], y[1200:]) > 0.85
    # Prediction uses the running statistics: a sample scores the same alone.
    proba = normed.predict_proba(X[1200:])
    np.testing.assert_allclose(normed.predict_proba(X[1200:1201]), proba[:1], rtol=1e-5)
    mean, var = normed.running_stats_[0]
    assert mean.shape == var.shape == (16,) and np.all(var > 0) and np.any(mean != 0)


def test_batch_norm_state_survives_pickling_and_warm_start(digits_small):
    X, y = digits_small
    clf = quiet(CNNClassifier(batch_norm=True, max_iter=2, **SMALL), "fit", X, y)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    before = [stat.copy() for pair in clf.running_stats_ for stat in pair]
    clf.set_params(warm_start=True, max_iter=1)
    quiet(clf, "fit", X, y)
    after = [stat for pair in clf.running_stats_ for stat in pair]
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))
    assert clf.network_.layers[1].running_mean is clf.running_stats_[0][0]


def test_augmentation_is_exact_and_leaves_the_batch_alone(rng):
    X = rng.standard_normal((40, 6, 7, 2))
    original = X.copy()
    out = shift_and_flip(X, np.random.RandomState(0), shift=2, flip=True)
    np.testing.assert_array_equal(X, original)
    for image, result in zip(X, out):
        # the image, maybe mirrored, moved by at most 2 pixels, edges repeated
        candidates = [
            np.pad(source, [(2, 2), (2, 2), (0, 0)], "edge")[2 - dy : 8 - dy, 2 - dx : 9 - dx]
            for source in (image, image[:, ::-1])
            for dy in range(-2, 3)
            for dx in range(-2, 3)
        ]
        assert any(np.array_equal(result, c) for c in candidates)
    moved = [not np.array_equal(a, b) for a, b in zip(X, out)]
    assert np.mean(moved) > 0.8  # 1 draw in 50 keeps an image as it is

    signals = rng.standard_normal((30, 1, 9, 1))
    out = shift_and_flip(signals, np.random.RandomState(0), shift=3)
    padded = np.pad(signals, [(0, 0), (0, 0), (3, 3), (0, 0)], "edge")
    for padded_signal, result in zip(padded, out):  # signals move along their length only
        assert any(np.array_equal(result, padded_signal[:, s : s + 9]) for s in range(7))
    assert shift_and_flip(X, np.random.RandomState(0)) is X  # nothing asked, nothing done


def test_shift_augmentation_makes_digits_robust_to_shifts(digits):
    X, y = digits
    args = dict(input_shape=(8, 8), filters=(16,), hidden_layer_sizes=(32,), random_state=0)
    plain = quiet(CNNClassifier(max_iter=10, **args), "fit", X[:1200], y[:1200])
    moved = quiet(CNNClassifier(augment_shift=1, max_iter=10, **args), "fit", X[:1200], y[:1200])
    X_test, y_test = X[1200:], y[1200:]
    for dy, dx in [(1, 0), (0, 1), (-1, -1)]:
        X_shifted = shifted(X_test, dy, dx)
        assert moved.score(X_shifted, y_test) > plain.score(X_shifted, y_test) + 0.05
    assert moved.score(X_test, y_test) > 0.85  # the unshifted digits stay well recognized
    again = quiet(clone(moved), "fit", X[:1200], y[:1200])  # reproducible
    np.testing.assert_array_equal(again.coefs_[0], moved.coefs_[0])


def test_augment_shift_must_fit_the_input(digits_small):
    X, y = digits_small
    with pytest.raises(ValueError, match=r"augment_shift=8 would move .* height and width \(8\)"):
        CNNClassifier(augment_shift=8, **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="The 'augment_shift' parameter"):
        CNNClassifier(augment_shift=-1, **SMALL).fit(X, y)


def test_scikit_learn_progress_bar(digits_small, capsys):
    callback = pytest.importorskip("sklearn.callback")
    pytest.importorskip("rich")
    X, y = digits_small
    clf = CNNClassifier(max_iter=2, **SMALL).set_callbacks(callback.ProgressBar())
    quiet(clf, "fit", X, y)
    assert clf.n_iter_ == 2
    captured = capsys.readouterr()
    assert "CNNClassifier - fit" in captured.out + captured.err


def test_early_stopping_keeps_the_best_epochs_batch_norm_statistics(digits_small):
    X, y = digits_small
    args = dict(batch_norm=True, early_stopping=True, learning_rate_init=0.03, **SMALL)
    clf = quiet(CNNClassifier(max_iter=12, **args), "fit", X, y)
    best_epoch = int(np.argmax(clf.validation_scores_)) + 1
    assert best_epoch < clf.n_iter_  # the longer fit went back
    short = quiet(CNNClassifier(max_iter=best_epoch, **args), "fit", X, y)
    for kept, best in zip(clf.running_stats_, short.running_stats_):
        for kept_stat, best_stat in zip(kept, best):
            np.testing.assert_array_equal(kept_stat, best_stat)
    np.testing.assert_array_equal(clf.predict_proba(X), short.predict_proba(X))
