"""A progress line for long epochs: batches done, images per second, time left.

``verbose=2`` shows it while an epoch runs: one line, rewritten in place
(carriage returns), at most a few times a second, closed by a newline when
the epoch ends. Epochs shorter than the update interval print nothing.
"""

import sys
import time


class BatchProgress:
    """One line that reports how far an epoch has come, rewritten in place.

    Parameters
    ----------
    n_samples : int
        Samples in the epoch.
    batch_size : int
        Samples per batch (the last batch may be smaller).
    prefix : str, default=""
        Written before the counts, such as ``"Epoch 3"``.
    enabled : bool, default=True
        ``False`` makes every call do nothing, so the training loop needs no
        condition of its own.
    stream : file-like or None, default=None
        Where to write; ``None`` is ``sys.stdout`` at the time of the call.
    min_interval : float, default=0.25
        Seconds between two updates of the line, at least; the line first
        shows once this much time has passed.
    clock : callable, default=time.perf_counter
        The time in seconds (tests pass their own).

    Examples
    --------
    >>> import io
    >>> ticks = iter([0.0, 1.0, 2.0, 3.0])  # the clock: one second per batch
    >>> out = io.StringIO()
    >>> progress = BatchProgress(64, 32, "Epoch 1", stream=out, clock=lambda: next(ticks))
    >>> progress.update(32)
    >>> progress.update(64)
    >>> progress.close()
    >>> for line in out.getvalue().split("\\r")[1:]:  # each redraw starts with a "\\r"
    ...     print(repr(line))
    'Epoch 1: 1/2 batches, 32 images/s, 1 s left'
    'Epoch 1: 2/2 batches, 32 images/s, 0 s left'
    'Epoch 1: 2/2 batches, 21 images/s, 0 s left\\n'
    """

    def __init__(
        self,
        n_samples,
        batch_size,
        prefix="",
        *,
        enabled=True,
        stream=None,
        min_interval=0.25,
        clock=time.perf_counter,
    ):
        self.n_samples = n_samples
        self.batch_size = batch_size
        self.prefix = prefix
        self.enabled = enabled
        self.stream = stream
        self.min_interval = min_interval
        self.clock = clock
        self.n_batches = -(-n_samples // batch_size)
        self._shown = ""  # the text on the line now, "" before the first update
        self._n_seen = 0
        if enabled:
            self._start = self._last = clock()

    def update(self, n_seen):
        """Record that ``n_seen`` samples of the epoch are done; redraw if it is time."""
        if not self.enabled:
            return
        self._n_seen = n_seen
        now = self.clock()
        if now - self._last >= self.min_interval:
            self._last = now
            self._draw(now)

    def close(self):
        """End the line with the final counts and a newline, if it was ever shown."""
        if self.enabled and self._shown:
            now = self.clock()
            if self.text(now) != self._shown:
                self._draw(now)
            self._write("\n")
            self._shown = ""

    def text(self, now):
        """The line at time ``now``: batches done, images per second, time left."""
        n_seen, elapsed = self._n_seen, max(now - self._start, 1e-9)
        done = min(-(-n_seen // self.batch_size), self.n_batches)
        rate = n_seen / elapsed
        left = (self.n_samples - n_seen) / rate if rate > 0 else float("inf")
        head = f"{self.prefix}: " if self.prefix else ""
        return f"{head}{done}/{self.n_batches} batches, {rate:.0f} images/s, {_duration(left)} left"

    def _draw(self, now):
        text = self.text(now)
        # Spaces blank out what a longer previous line left behind.
        self._write("\r" + text + " " * max(len(self._shown) - len(text), 0))
        self._shown = text

    def _write(self, text):
        stream = sys.stdout if self.stream is None else self.stream
        stream.write(text)
        stream.flush()


def _duration(seconds):
    """``"42 s"``, ``"3:07"`` (minutes), ``"1:02:03"`` (hours) or ``"?"``."""
    if seconds != seconds or seconds == float("inf"):
        return "?"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}:{seconds:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"
