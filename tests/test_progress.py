"""The progress line of verbose=2: what it writes, and when."""

import functools
import io
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import skcnn._training
from skcnn import CNNClassifier
from skcnn._progress import BatchProgress, _duration


class Clock:
    """A clock that moves only when told to."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def redraws(out):
    """The texts drawn, in order (every redraw starts with a carriage return)."""
    return out.getvalue().split("\r")[1:]


def test_counts_batches_images_per_second_and_time_left():
    clock, out = Clock(), io.StringIO()
    progress = BatchProgress(1000, 100, "Epoch 2", stream=out, clock=clock)
    clock.now = 2.0
    progress.update(300)  # 3 of 10 batches in 2 s: 150 images/s, 700 images to go
    assert redraws(out) == ["Epoch 2: 3/10 batches, 150 images/s, 5 s left"]
    clock.now = 4.0
    progress.update(950)  # the last, smaller batch counts as a batch
    assert redraws(out)[-1] == "Epoch 2: 10/10 batches, 238 images/s, 0 s left"


def test_redraws_at_most_once_per_interval():
    clock, out = Clock(), io.StringIO()
    progress = BatchProgress(10_000, 10, stream=out, min_interval=0.25, clock=clock)
    for step in range(1, 1001):  # 1000 batches over 1 s: one every millisecond
        clock.now = step / 1000
        progress.update(10 * step)
    assert len(redraws(out)) == 4  # at 0.25, 0.5, 0.75 and 1.0 s
    assert out.getvalue().count("\n") == 0  # updates stay on one line


def test_close_ends_the_line_with_the_final_counts_and_one_newline():
    clock, out = Clock(), io.StringIO()
    progress = BatchProgress(64, 32, stream=out, clock=clock)
    clock.now = 1.0
    progress.update(32)
    clock.now = 1.1  # too soon to redraw
    progress.update(64)
    assert redraws(out) == ["1/2 batches, 32 images/s, 1 s left"]
    clock.now = 2.0
    progress.close()
    assert redraws(out)[-1] == "2/2 batches, 32 images/s, 0 s left\n"
    assert out.getvalue().endswith("\n") and out.getvalue().count("\n") == 1
    progress.close()  # a second close adds nothing
    assert out.getvalue().count("\n") == 1


def test_a_short_epoch_prints_nothing():
    clock, out = Clock(), io.StringIO()
    progress = BatchProgress(64, 32, stream=out, clock=clock)
    clock.now = 0.1
    progress.update(32)
    progress.update(64)
    progress.close()
    assert out.getvalue() == ""


def test_a_shorter_line_blanks_out_the_longer_one_before_it():
    clock, out = Clock(), io.StringIO()
    progress = BatchProgress(100, 1, stream=out, clock=clock)
    clock.now = 1000.0
    progress.update(1)  # one image in 1000 s: 27.5 hours to go
    clock.now = 1001.0
    progress.update(99)
    first, second = redraws(out)
    assert first == "1/100 batches, 0 images/s, 27:30:00 left"
    assert second == "99/100 batches, 0 images/s, 10 s left" + 3 * " "  # 3 characters less


def test_disabled_writes_nothing():
    clock, out = Clock(), io.StringIO()
    progress = BatchProgress(100, 10, stream=out, enabled=False, clock=clock)
    clock.now = 10.0
    progress.update(50)
    progress.close()
    assert out.getvalue() == ""


def test_writes_to_sys_stdout_by_default(capsys):
    clock = Clock()
    progress = BatchProgress(20, 10, "Epoch 1", clock=clock)
    clock.now = 1.0
    progress.update(10)
    progress.close()
    assert capsys.readouterr().out == "\rEpoch 1: 1/2 batches, 10 images/s, 1 s left\n"


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0.4, "0 s"),
        (42.2, "42 s"),
        (59.6, "1:00"),
        (187, "3:07"),
        (3723, "1:02:03"),
        (float("inf"), "?"),
        (float("nan"), "?"),
    ],
)
def test_duration(seconds, text):
    assert _duration(seconds) == text


# --- in fit ------------------------------------------------------------------------


def fit_printing(verbose, capsys, monkeypatch):
    """Fit 320 random images in 10 batches with a progress line that redraws after every batch."""
    monkeypatch.setattr(
        skcnn._training, "BatchProgress", functools.partial(BatchProgress, min_interval=0)
    )
    rng = np.random.RandomState(0)
    X, y = rng.uniform(size=(320, 8, 8)), np.arange(320) % 2
    clf = CNNClassifier(filters=(2,), hidden_layer_sizes=(), max_iter=2, verbose=verbose)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return capsys.readouterr().out


def test_verbose_2_shows_the_progress_of_every_epoch(capsys, monkeypatch):
    out = fit_printing(2, capsys, monkeypatch)
    lines = out.split("\n")
    progress, summary = lines[0], lines[1]
    assert progress.startswith("\rEpoch 1: 1/10 batches, ")
    assert progress.split("\r")[-1].startswith("Epoch 1: 10/10 batches, ")
    assert summary.startswith("Epoch 1: loss ")
    assert lines[2].startswith("\rEpoch 2: 1/10 batches, ")
    assert lines[3].startswith("Epoch 2: loss ")


@pytest.mark.parametrize("verbose", [1, True])
def test_verbose_1_prints_one_line_per_epoch_and_no_progress(verbose, capsys, monkeypatch):
    out = fit_printing(verbose, capsys, monkeypatch)
    assert "\r" not in out and "batches" not in out
    assert [line.split(":")[0] for line in out.splitlines()] == ["Epoch 1", "Epoch 2"]


@pytest.mark.parametrize("verbose", [0, False])
def test_verbose_0_prints_nothing(verbose, capsys, monkeypatch):
    assert fit_printing(verbose, capsys, monkeypatch) == ""


@pytest.mark.parametrize("verbose", [3, -1, 1.5, "yes"])
def test_bad_verbose_is_refused(verbose):
    X, y = np.zeros((4, 8)), [0, 1, 0, 1]
    with pytest.raises(ValueError, match=r"'verbose' parameter of CNNClassifier must be"):
        CNNClassifier(verbose=verbose).fit(X, y)
