"""Training a network: epochs of minibatches, each one step of the optimizer, and when to stop.

:class:`Trainer` owns the loop; an estimator makes one per call to ``fit``
or ``partial_fit`` from its arguments, and the benchmarks make their own::

    Trainer.fit          epochs: validation, stopping, schedules, interrupts, rollback
      Trainer.run_epoch  one pass over the data in minibatches
        Trainer.train_step   forward, backward, L2 and one optimizer update

What training records (losses, scores, epochs) is a :class:`History`, which
the estimator publishes as its fitted attributes (``loss_curve_``, ...).
"""

import copy
import signal
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.utils import gen_batches

from ._engine.parallel import DataParallel, available_threads
from ._progress import BatchProgress


@dataclass
class History:
    """What training records, epoch after epoch.

    Attributes
    ----------
    n_iter : int
        Epochs run.
    t : int
        Training samples seen, over all epochs.
    loss_curve : list of float
        Mean training loss of every epoch.
    best_loss : float
    validation_scores, validation_loss_curve : list of float or None
        Score and loss of the validation data after every epoch; ``None``
        without validation data.
    best_validation_score : float or None
    no_improvement_count : int
        Epochs in a row without an improvement of ``tol``.
    initial_loss : float or None
        The loss of the first batch, at the initial weights: what later
        losses are held to, to tell divergence.
    """

    n_iter: int = 0
    t: int = 0
    loss_curve: list = field(default_factory=list)
    best_loss: float = np.inf
    validation_scores: list = None
    validation_loss_curve: list = None
    best_validation_score: float = None
    no_improvement_count: int = 0
    initial_loss: float = None


@dataclass
class Position:
    """Where training stands inside an epoch: what a checkpoint of a cut epoch holds.

    Attributes
    ----------
    order : ndarray of int or None
        The order of the samples in the epoch (``None``: unshuffled).
    batch : int
        Batches done.
    total_loss, total_weight : float
        The weighted sum of their losses, and of their weights.
    n_seen : int
        Samples done.
    """

    order: np.ndarray
    batch: int = 0
    total_loss: float = 0.0
    total_weight: float = 0.0
    n_seen: int = 0

    @property
    def mean_loss(self):
        # a Python float: loss_curve_ holds no NumPy scalars (float32 with weights)
        return float(self.total_loss / max(self.total_weight, np.finfo(float).tiny))


#: How far above its first value an epoch's loss may rise before training is
#: said to diverge (a factor).
DIVERGENCE_FACTOR = 100.0


class LearningRateSchedule:
    """The step size of every epoch, for ``learning_rate`` as the estimators take it.

    Parameters
    ----------
    kind : {"constant", "invscaling", "adaptive", "cosine"}
    learning_rate_init : float
    power_t : float, default=0.5
        Exponent of ``"invscaling"``.
    max_iter : int, default=200
        Epochs of one cosine cycle.
    """

    def __init__(self, kind="constant", learning_rate_init=0.001, power_t=0.5, max_iter=200):
        self.kind = kind
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter

    def epoch_end(self, optimizer, history):
        """Set the step of the next epoch, for the schedules that set it per epoch."""
        if self.kind == "invscaling":
            # lr = learning_rate_init / t^power_t, t = samples seen
            optimizer.learning_rate = self.learning_rate_init / (history.t + 1) ** self.power_t
        elif self.kind == "cosine":
            # lr = learning_rate_init (1 + cos(pi k / max_iter)) / 2 after k epochs of the
            # cycle: from learning_rate_init down towards 0, again every max_iter epochs
            progress = (history.n_iter % self.max_iter) / self.max_iter
            optimizer.learning_rate = self.learning_rate_init * (1 + np.cos(np.pi * progress)) / 2

    def plateau(self, optimizer):
        """After epochs without improvement: whether training goes on, with a smaller step.

        ``"adaptive"`` divides the step by 5 while it stays above 1e-6.
        """
        if self.kind == "adaptive" and optimizer.learning_rate > 1e-6:
            optimizer.learning_rate /= 5
            return True
        return False


class Diverged(Exception):
    """The loss or the weights of training are no longer finite.

    Attributes
    ----------
    epoch : int
        The epoch (from 1) it happened in.
    before_any_update : bool
        Whether the loss of the initial weights, before any update of this
        training, is not finite: then the data, not the optimizer, is to blame.
    """

    def __init__(self, epoch, before_any_update):
        super().__init__(f"training diverged in epoch {epoch}")
        self.epoch, self.before_any_update = epoch, before_any_update


class _InterruptFlag:
    """While training, Ctrl-C sets ``raised`` instead of stopping mid-batch.

    Only the main thread can own the SIGINT handler; elsewhere (a thread of a
    parallel search) Ctrl-C behaves as usual.
    """

    raised = False

    def __enter__(self):
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        self.raised = True

    def __exit__(self, *exc_info):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


class Trainer:
    """Trains a network by minibatch gradient descent.

    Parameters
    ----------
    network : Network
        Built and initialized; trained in place.
    loss : callable
        Makes a loss layer (``SoftmaxCrossEntropy``, ...): ``forward(scores,
        y, sample_weight) -> loss`` and ``backward() -> dL/dscores``.
    optimizer : Adam or SGD
        On ``network.params``.
    batch_size : int
    alpha : float, default=0.0
        Strength of the L2 penalty on the weights (arrays of two dimensions
        or more: not biases, not batch normalization's scales).
    shuffle : bool, default=True
    augment : callable, default=None
        ``augment(X_batch, rng) -> X_batch``: train-time augmentation.
    schedule : LearningRateSchedule, default=None
        ``None``: a constant step.
    tol : float, default=1e-4
    n_iter_no_change : int, default=10
        Training stops after more than ``n_iter_no_change`` epochs without an
        improvement of ``tol`` (of the validation score where there is
        validation data, else of the training loss), as in ``MLPClassifier``.
    score : callable, default=None
        ``score(scores, y, sample_weight) -> float``, of validation data.
    random_state : RandomState, default=None
        Draws the order of the samples and the augmentations.
    n_threads : int, default=None
        Threads that may train at once; by default as many as BLAS may use.
    verbose : int, default=0
        1 prints a line per epoch; 2 also a progress line inside every epoch
        (:class:`~skcnn._progress.BatchProgress`).
    checkpoint : callable, default=None
        ``checkpoint(trainer, position, best)`` saves where training stands:
        after every epoch (``position`` is ``None``), and every
        ``checkpoint_every`` batches inside one (a :class:`Position`).
        ``best`` holds the weights of the best validation score, or ``None``.
    checkpoint_every : int, default=None
        Batches between checkpoints inside an epoch; ``None``: at the ends of
        epochs only.

    Attributes
    ----------
    history : History
    interrupted : int
        The epoch (from 1) in which Ctrl-C ended the last :meth:`fit`; 0 if
        it did not.
    position : Position or None
        Where Ctrl-C cut the epoch, where it did.
    partial_epoch : float or None
        The share of that epoch's samples trained before the interrupt;
        ``None`` where the epoch ended first. The cut epoch counts in none
        of ``history`` (``position.n_seen`` says how far it went).
    diverging : str or None
        What said, in the last :meth:`fit`, that training was going astray
        while the loss stayed finite: an epoch loss far above the first.
    n_updates : int
        Optimizer steps of the last :meth:`fit`.
    """

    def __init__(
        self,
        network,
        loss,
        optimizer,
        *,
        batch_size,
        alpha=0.0,
        shuffle=True,
        augment=None,
        schedule=None,
        tol=1e-4,
        n_iter_no_change=10,
        score=None,
        random_state=None,
        n_threads=None,
        verbose=0,
        checkpoint=None,
        checkpoint_every=None,
    ):
        self.network = network
        self.loss = loss
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.alpha = alpha
        self.shuffle = shuffle
        self.augment = augment
        self.schedule = schedule or LearningRateSchedule("constant", optimizer.learning_rate)
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.score = score
        self.random_state = np.random.RandomState(0) if random_state is None else random_state
        self.n_threads = available_threads() if n_threads is None else n_threads
        self.verbose = verbose
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.history = History()
        self.interrupted = 0
        self.partial_epoch = None
        self.diverging = None
        self.n_updates = 0
        self._parallel = None
        self._interrupt = None

    # --- the session: threads and Ctrl-C for as long as training runs ---------------

    def __enter__(self):
        self._interrupt = _InterruptFlag().__enter__()
        self._parallel = DataParallel(self.network, self.n_threads, self.batch_size).__enter__()
        return self

    def __exit__(self, *exc_info):
        try:
            self._parallel.__exit__(*exc_info)
            self._interrupt.__exit__(*exc_info)
        finally:
            self._parallel = self._interrupt = None
            self.network.clear_workspaces()  # a trained network keeps no scratch memory
        return False

    @property
    def parallel(self):
        """The :class:`~skcnn._engine.parallel.DataParallel` of the open session."""
        if self._parallel is None:
            raise RuntimeError("Trainer steps run inside 'with trainer:'.")
        return self._parallel

    # --- one update -----------------------------------------------------------------

    def train_step(self, X, y, sample_weight=None):
        """Forward, backward and one optimizer update on a batch; return its loss.

        Raises :class:`Diverged` where the loss is not finite (the update is
        then not made).
        """
        # Overflow is no warning here: a non-finite loss or weight is an error below.
        with np.errstate(over="ignore", invalid="ignore"):
            parallel = self.parallel
            loss_layer = self.loss()
            scores = parallel.forward(X)
            loss = float(loss_layer.forward(scores, y, sample_weight))
            parallel.backward(loss_layer.backward())
            params, grads = self.network.params, self.network.grads
            if self.alpha:
                # L += alpha/2 * sum ||W||^2 / m ;  dL/dW += alpha W / m   (m: batch weight)
                scale = self.alpha / (len(X) if sample_weight is None else sample_weight.sum())
                for param, grad in zip(params, grads):
                    if param.ndim > 1:  # weights, not biases
                        loss += 0.5 * scale * float(np.vdot(param, param))
                        grad += scale * param
            if not np.isfinite(loss):
                raise Diverged(self.history.n_iter + 1, self.n_updates == 0)
            if self.history.initial_loss is None:
                self.history.initial_loss = loss
            self.optimizer.update(params, grads)
            self.n_updates += 1
            return loss

    def run_epoch(self, X, y, sample_weight=None, position=None, best=None):
        """One pass over the data in minibatches: the :class:`Position` at its end.

        Goes on from ``position`` (a checkpoint of a cut epoch) where given.
        Stops after the batch in which Ctrl-C was pressed: the position then
        says how far the epoch went.
        """
        n_samples = len(X)
        if position is None:
            order = self.random_state.permutation(n_samples) if self.shuffle else None
            position = Position(order)
        every = self.checkpoint_every if self.checkpoint is not None else None
        batches = list(gen_batches(n_samples, self.batch_size))
        progress = BatchProgress(
            n_samples,
            self.batch_size,
            f"Epoch {self.history.n_iter + 1}",
            enabled=self.verbose >= 2,
        )
        for batch in batches[position.batch :]:
            index = batch if position.order is None else position.order[batch]
            X_batch, y_batch = X[index], y[index]
            if self.augment is not None:
                X_batch = self.augment(X_batch, self.random_state)
            weight = None if sample_weight is None else sample_weight[index]
            batch_weight = len(y_batch) if weight is None else float(weight.sum())
            if batch_weight > 0:  # a batch of zero weights teaches nothing
                loss = self.train_step(X_batch, y_batch, weight)
                position.total_loss += loss * batch_weight
                position.total_weight += batch_weight
            position.n_seen += len(y_batch)
            position.batch += 1
            progress.update(position.n_seen)
            if self._interrupt is not None and self._interrupt.raised:
                break
            if every and position.batch % every == 0 and position.batch < len(batches):
                self.checkpoint(self, position, best)
        progress.close()
        return position

    def evaluate(self, X, y, sample_weight=None):
        """Score (with ``score``) and mean loss of held-out samples."""
        # BLAS may be down to one thread while training: the trainer knows how many may run.
        scores = self.network.predict(X, n_threads=self.n_threads)
        loss = float(self.loss().forward(scores, y, sample_weight))
        return self.score(scores, y, sample_weight), loss

    # --- epochs ---------------------------------------------------------------------

    def fit(self, X, y, sample_weight=None, *, n_epochs, validation=None, hooks=None, resume=None):
        """Epochs until ``n_epochs``, convergence, Ctrl-C, or a hook says stop.

        Parameters
        ----------
        X, y, sample_weight : ndarray
            Training data: images, encoded targets, weights or ``None``.
        n_epochs : int
        validation : tuple (X, y, sample_weight), default=None
            Scored after every epoch; training then stops when the score
            stops improving, and the network keeps the weights (and batch
            statistics) of the best score.
        hooks : object, default=None
            ``epoch_begin()`` and ``epoch_end() -> bool`` (``True``: stop)
            are called around every epoch.
        resume : tuple (Position or None, list of ndarray or None), default=None
            Where a checkpoint left training: the position inside the first
            epoch, and the weights of the best validation score so far.

        Returns
        -------
        reason : {"max_iter", "converged", "interrupted", "hook"}
            Why training ended.

        Raises
        ------
        Diverged
            Where the loss or the weights are no longer finite. Before it
            propagates, the network, the optimizer, the random streams and
            the history are put back as they were when ``fit`` began.
        """
        history, network, best = self.history, self.network, None
        position, kept = (None, None) if resume is None else resume
        if validation is not None:
            if history.validation_scores is None:
                history.validation_scores, history.validation_loss_curve = [], []
                history.best_validation_score = -np.inf
            trained = network.params + network.buffers  # weights and running averages
            best = [array.copy() for array in trained] if kept is None else kept
        before = self._snapshot()
        self.n_updates, self.interrupted, self.partial_epoch = 0, 0, None
        self.position = None
        self.diverging = None
        try:
            with self:
                reason = self._epochs(
                    X, y, sample_weight, n_epochs, validation, hooks, best, position
                )
        except Diverged:
            self._restore(before)
            raise
        if validation is not None:  # the weights (and batch statistics) of the best score
            for array, kept in zip(trained, best):
                array[...] = kept
        return reason

    def _epochs(self, X, y, sample_weight, n_epochs, validation, hooks, best, position):
        history, network = self.history, self.network
        trained = network.params + network.buffers
        for _ in range(n_epochs):
            start = time.perf_counter()
            if hooks is not None:
                hooks.epoch_begin()
            position = self.run_epoch(X, y, sample_weight, position, best)
            if not all(np.isfinite(param).all() for param in network.params):
                # The last update overflowed: no later loss would show it.
                raise Diverged(history.n_iter + 1, False)
            if position.n_seen < len(X):  # Ctrl-C in the epoch: trained, not complete
                self.position = position
                if self.checkpoint is not None:  # resume from the very batch
                    self.checkpoint(self, position, best)
                self.interrupted = history.n_iter + 1
                self.partial_epoch = position.n_seen / len(X)
                return "interrupted"
            loss = position.mean_loss
            position = None
            history.n_iter += 1
            history.t += len(X)
            history.loss_curve.append(loss)
            if (
                self.diverging is None
                and history.initial_loss
                and loss > DIVERGENCE_FACTOR * history.initial_loss
            ):
                self.diverging = (
                    f"the loss rose to {loss:.3g} in epoch {history.n_iter}, from "
                    f"{history.initial_loss:.3g} at the first batch"
                )
            message = f"Epoch {history.n_iter}: loss {loss:.5f}"
            if validation is not None:
                score, val_loss = self.evaluate(*validation)
                history.validation_scores.append(score)
                history.validation_loss_curve.append(val_loss)
                message += f", validation score {score:.5f}, validation loss {val_loss:.5f}"
                if score > history.best_validation_score:
                    best[:] = [array.copy() for array in trained]
            improved = self._record_progress(validation is not None)
            if self.verbose:
                print(f"{message}, {time.perf_counter() - start:.2f} s")
            self.schedule.epoch_end(self.optimizer, history)
            if self.checkpoint is not None:
                self.checkpoint(self, None, best)
            if hooks is not None and hooks.epoch_end():
                return "hook"
            if self._interrupt.raised:  # at the end of the epoch: a complete one
                self.interrupted = history.n_iter
                return "interrupted"
            if not improved and self._should_stop(validation is not None):
                return "converged"
        return "max_iter"

    def _record_progress(self, on_validation):
        """Count epochs without improvement by ``tol``, as MLPClassifier does."""
        history = self.history
        if on_validation:
            score = history.validation_scores[-1]
            improved = score >= history.best_validation_score + self.tol
            history.best_validation_score = max(history.best_validation_score, score)
        else:
            loss = history.loss_curve[-1]
            improved = loss <= history.best_loss - self.tol
            history.best_loss = min(history.best_loss, loss)
        history.no_improvement_count = 0 if improved else history.no_improvement_count + 1
        return improved

    def _should_stop(self, on_validation):
        if self.history.no_improvement_count <= self.n_iter_no_change:
            return False
        what = "Validation score" if on_validation else "Training loss"
        said = (
            f"{what} did not improve more than tol={self.tol} for "
            f"{self.n_iter_no_change + 1} consecutive epochs."
        )
        if self.schedule.plateau(self.optimizer):
            self.history.no_improvement_count = 0
            if self.verbose:
                print(f"{said} Setting learning rate to {self.optimizer.learning_rate:g}.")
            return False
        if self.verbose:
            print(f"{said} Stopping.")
        return True

    # --- rollback -------------------------------------------------------------------

    def _snapshot(self):
        """Copies of everything training changes: weights, optimizer, streams, history."""
        network = self.network
        return {
            "arrays": [array.copy() for array in network.params + network.buffers],
            "streams": network.get_rng_states(),
            "optimizer": copy.deepcopy(self.optimizer.get_state()),
            "random_state": self.random_state.get_state(),
            "history": copy.deepcopy(self.history),
        }

    def _restore(self, snapshot):
        network = self.network
        for array, saved in zip(network.params + network.buffers, snapshot["arrays"]):
            array[...] = saved  # in place: the estimator and the network share these arrays
        network.set_rng_states(snapshot["streams"])
        self.optimizer.set_state(snapshot["optimizer"])
        self.random_state.set_state(snapshot["random_state"])
        restored = snapshot["history"]
        for name in vars(restored):
            setattr(self.history, name, getattr(restored, name))
