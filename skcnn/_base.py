"""What every skcnn estimator shares: arguments, the network, the training loop."""

import copy
import signal
import threading
import time
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    _check_sample_weight,
    check_is_fitted,
)

try:  # scikit-learn >= 1.9: the experimental callback API (set_callbacks)
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # older scikit-learn: fit works the same, without callbacks

    class CallbackSupportMixin:
        pass


from ._architecture import architecture_specs, make_network, resolve_specs
from ._conv import CONV_ALGORITHMS, PADDING_MODES
from ._docs import doc_link_template
from ._network import DataParallel, available_threads, layer_names
from ._optimizers import SGD, Adam
from ._progress import BatchProgress
from ._shapes import image_shape, validate_fit_X_y, validate_predict_X
from ._version import __version__
from .exceptions import InconsistentVersionWarning


class BaseCNN(CallbackSupportMixin, TransformerMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the CNN estimators; not to be used directly.

    Subclasses say how targets become network outputs (:meth:`_encode_y`,
    :meth:`_n_outputs`) and which loss trains them (:meth:`_make_loss`).
    """

    # The HTML repr (notebooks) links the estimator, its parameters and fitted
    # attributes to its page of the API reference, as scikit-learn's own do.
    _doc_link_module = "skcnn"
    _doc_link_template = doc_link_template()

    _parameter_constraints: dict = {
        "input_shape": [None, "array-like", Interval(Integral, 1, None, closed="left")],
        "filters": ["array-like", Interval(Integral, 1, None, closed="left")],
        "kernel_size": ["array-like", Interval(Integral, 1, None, closed="left")],
        "pool_size": ["array-like", Interval(Integral, 1, None, closed="left")],
        "pool_stride": [None, "array-like", Interval(Integral, 1, None, closed="left")],
        "padding": [StrOptions(set(PADDING_MODES))],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "layers": [None, "array-like"],
        "feature_layer": [None, Integral, str],
        "solver": [StrOptions({"adam", "sgd"})],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive", "cosine"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "shuffle": ["boolean"],
        "augment_shift": [Interval(Integral, 0, None, closed="left")],
        "augment_flip": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "warm_start": ["boolean"],
        "init": [StrOptions({"he", "glorot"})],
        "conv_algorithm": [StrOptions({"auto", *CONV_ALGORITHMS})],
        "dtype": [StrOptions({"float32", "float64"})],
        "random_state": ["random_state"],
        "verbose": [Interval(Integral, 0, 2, closed="both"), "boolean"],
    }

    @abstractmethod
    def __init__(
        self,
        input_shape,
        filters,
        kernel_size,
        pool_size,
        pool_stride,
        padding,
        hidden_layer_sizes,
        dropout,
        batch_norm,
        layers,
        feature_layer,
        solver,
        learning_rate,
        learning_rate_init,
        power_t,
        batch_size,
        max_iter,
        alpha,
        momentum,
        nesterovs_momentum,
        beta_1,
        beta_2,
        epsilon,
        shuffle,
        augment_shift,
        augment_flip,
        tol,
        n_iter_no_change,
        early_stopping,
        validation_fraction,
        warm_start,
        init,
        conv_algorithm,
        dtype,
        random_state,
        verbose,
    ):
        self.input_shape = input_shape
        self.filters = filters
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.pool_stride = pool_stride
        self.padding = padding
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.layers = layers
        self.feature_layer = feature_layer
        self.solver = solver
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.alpha = alpha
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.shuffle = shuffle
        self.augment_shift = augment_shift
        self.augment_flip = augment_flip
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.init = init
        self.conv_algorithm = conv_algorithm
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # transform keeps float64, and float32 where the model is float32
        tags.transformer_tags.preserves_dtype = ["float64"] + (
            ["float32"] if self.dtype == "float32" else []
        )
        return tags

    # --- what subclasses provide ---------------------------------------------

    _y_validation: dict = {}  # how scikit-learn's validate_data checks y

    @abstractmethod
    def _encode_y(self, y, classes=None, reset=True):
        """Encode ``y`` for the loss; with ``reset``, set ``classes_`` (or the like)."""

    @abstractmethod
    def _score_from_scores(self, scores, y, sample_weight):
        """What ``score`` gives, from output-layer scores and encoded ``y``."""

    @abstractmethod
    def _n_outputs(self):
        """Units of the output layer."""

    @abstractmethod
    def _make_loss(self):
        """The loss layer: ``forward(scores, y) -> loss`` and ``backward()``."""

    # --- the network ---------------------------------------------------------

    def _check_architecture(self):
        """Check the architecture arguments that need no data; return the specs."""
        if self.input_shape is not None:
            image_shape(self.input_shape)
        return architecture_specs(self.get_params(deep=False))

    def _check_augmentation(self, input_shape):
        height, width, _ = input_shape
        size, what = (width, "length") if height == 1 else (min(height, width), "height and width")
        if self.augment_shift >= size:
            raise ValueError(
                f"augment_shift={self.augment_shift} would move samples by their whole "
                f"size; use fewer pixels than the input's {what} ({size})."
            )

    def _build_network(self, input_shape, specs, sources):
        resolved, sources = resolve_specs(specs, sources, input_shape, self._n_outputs())
        return resolved, make_network(resolved, input_shape, self.conv_algorithm, sources)

    def _get_network(self):
        """The network of a fitted estimator, rebuilt after unpickling."""
        check_is_fitted(self)
        network = self.__dict__.get("_network")
        if network is None:
            network = self._load_network()
            saved_streams = self.__dict__.pop("_dropout_rng_states", None)
            if saved_streams is not None:  # saved by __getstate__: go on with them
                network.set_rng_states(saved_streams)
            else:
                network.seed(check_random_state(self.random_state))  # dropout streams
            self._network = network
        return network

    def _load_network(self, dtype=None, reorder=True):
        """A new network of the fitted architecture and weights (cast to ``dtype``).

        Without ``dtype`` the network shares the fitted arrays; ``reorder=False``
        keeps the stated order of the layers (see :func:`make_network`).
        """
        network = make_network(
            self.layers_, self.input_shape_, self.conv_algorithm, reorder=reorder
        )
        cast = (lambda a: a) if dtype is None else (lambda a: a.astype(dtype))
        weighted = [layer for layer in network.layers if layer.params]
        for layer, weights, bias in zip(weighted, self.coefs_, self.intercepts_):
            layer.weights, layer.bias = cast(weights), cast(bias)
        buffered = [layer for layer in network.layers if layer.buffers]
        # (models saved before batch normalization existed have no running_stats_)
        for layer, buffers in zip(buffered, self.__dict__.get("running_stats_", [])):
            layer.buffers = [cast(b) for b in buffers]
        return network

    @property
    def network_(self):
        """The fitted :class:`~skcnn._network.Network`; ``print`` it for a diagram."""
        return self._get_network()

    def __getstate__(self):
        """The state to save: arrays, plain containers and scalars, and the version.

        The live network, optimizer and random generator are not saved: the
        network is rebuilt on demand from ``layers_`` and ``coefs_``, and the
        states of the optimizer (moments, step count, learning rate) and of the
        random streams are saved as plain values, so that a loaded model goes
        on with ``partial_fit`` exactly as the original would (as Dask does
        when it moves a model between workers).
        """
        state = dict(super().__getstate__())  # a copy: the estimator keeps its own
        network = state.pop("_network", None)
        optimizer = state.pop("_optimizer", None)
        random_state = state.pop("_random_state", None)
        if network is not None:
            state["_dropout_rng_states"] = network.get_rng_states()
        if optimizer is not None:
            state["_optimizer_state"] = optimizer.get_state()
        if random_state is not None:
            state["_random_state_state"] = random_state.get_state()
        state["_skcnn_version"] = __version__
        return state

    def __setstate__(self, state):
        """Restore a saved state; warn if another skcnn version saved it."""
        state = dict(state)
        saved_version = state.pop("_skcnn_version", "unknown")
        if saved_version != __version__:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__,
                    current_skcnn_version=__version__,
                    original_skcnn_version=saved_version,
                ),
                stacklevel=2,
            )
        super().__setstate__(state)

    # --- training ------------------------------------------------------------
    #
    # fit / partial_fit -> _fit (data, network, state) -> _fit_loop (epochs,
    # stopping, schedules) -> _run_epoch (batches) -> _train_step (one update).

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        specs, sources = self._check_architecture()
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True.")
        dtype = np.dtype(self.dtype)
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, y, input_shape = validate_fit_X_y(
            self, X, y, dtype=dtype, reset=first_pass, **self._y_validation
        )
        y = self._encode_y(y, classes=classes, reset=first_pass)
        sample_weight = self._sample_weight(X, y, sample_weight, dtype)

        self._check_augmentation(input_shape)
        if first_pass:
            resolved, network = self._build_network(input_shape, specs, sources)
            self._feature_layer_name(layer_names(resolved))  # a bad feature_layer fails now
            self._random_state = check_random_state(self.random_state)
            network.initialize(self._random_state, dtype, self.init)
            self.input_shape_ = input_shape
            self.layers_ = [tuple(spec) for spec in resolved]
            self._set_weights(network)
            self.n_iter_, self.t_, self.loss_curve_ = 0, 0, []
            self.best_loss_ = np.inf
            self.validation_scores_ = self.validation_loss_curve_ = None
            self.best_validation_score_ = None
            self._no_improvement_count = 0
            for name in _SAVED_TRAINING_STATE:  # of a loaded model: a new start
                self.__dict__.pop(name, None)
        else:
            resolved, _ = resolve_specs(specs, sources, self.input_shape_, self._n_outputs())
            if [tuple(spec) for spec in resolved] != self.layers_:
                raise ValueError(
                    "The architecture arguments changed since the last fit; warm_start and "
                    "partial_fit go on with the fitted network. Set warm_start=False (or "
                    "clone the estimator) to train the new architecture."
                )
        network = self._get_network()
        if not hasattr(self, "_random_state"):  # unpickled, then trained again
            saved = self.__dict__.pop("_random_state_state", None)
            if saved is None:
                self._random_state = check_random_state(self.random_state)
            else:  # go on with the saved stream
                self._random_state = np.random.RandomState()
                self._random_state.set_state(saved)
        before = None if first_pass else self._training_state(network)
        if first_pass or not incremental or getattr(self, "_optimizer", None) is None:
            self._optimizer = self._make_optimizer(network.params)
            saved = self.__dict__.pop("_optimizer_state", None)
            # partial_fit of a loaded model goes on with the saved optimizer (if
            # the solver is still the same)
            if (
                saved is not None
                and incremental
                and saved.keys() == self._optimizer.get_state().keys()
            ):
                self._optimizer.set_state(saved)

        n_epochs = 1 if incremental else self.max_iter
        callbacks = None
        if hasattr(self, "_init_callback_context"):
            callbacks = self._init_callback_context(max_subtasks=n_epochs)
            callbacks.call_on_fit_task_begin(
                estimator=self, X=X, y=self.classes_[y] if is_classifier(self) else y
            )
        self._n_updates = 0
        try:
            self._fit_loop(network, X, y, sample_weight, incremental, callbacks)
        except _DivergedError as exc:
            if first_pass:  # leave no model with non-finite weights behind
                for name in ("coefs_", "intercepts_", "layers_", "_network", "_optimizer"):
                    self.__dict__.pop(name, None)
                raise
            # A model trained before keeps what it had before this call.
            self._restore_training_state(network, before)
            raise _DivergedError(
                f"{exc} The model keeps the weights it had before this call to "
                f"{'partial_fit' if incremental else 'fit'}."
            ) from None
        finally:
            network.clear_workspaces()  # a fitted model keeps no scratch memory
        if callbacks is not None:
            callbacks.call_on_fit_task_end(estimator=self, reconstruction_attributes={})
        return self

    # What a diverged warm_start fit or partial_fit puts back.
    _TRAINING_STATE = (
        "n_iter_",
        "t_",
        "loss_curve_",
        "best_loss_",
        "validation_scores_",
        "validation_loss_curve_",
        "best_validation_score_",
        "_no_improvement_count",
        "_optimizer",
        "_random_state",
    )

    def _training_state(self, network):
        """A copy of the weights and of everything training changes (random streams too)."""
        state = {
            name: copy.deepcopy(self.__dict__[name])
            for name in self._TRAINING_STATE
            if name in self.__dict__
        }
        state["arrays"] = [array.copy() for array in network.params + network.buffers]
        state["streams"] = network.get_rng_states()
        return state

    def _restore_training_state(self, network, state):
        for array, saved in zip(network.params + network.buffers, state.pop("arrays")):
            array[...] = saved  # in place: coefs_ and the network share these arrays
        network.set_rng_states(state.pop("streams"))
        for name in self._TRAINING_STATE:
            if name in state:
                setattr(self, name, state[name])
            else:
                self.__dict__.pop(name, None)

    def _set_weights(self, network):
        weighted = [layer for layer in network.layers if layer.params]
        self.coefs_ = [layer.weights for layer in weighted]
        self.intercepts_ = [layer.bias for layer in weighted]
        self.running_stats_ = [tuple(layer.buffers) for layer in network.layers if layer.buffers]
        self._network = network

    def _sample_weight(self, X, y, sample_weight, dtype):
        """Per-sample weights of the loss, or ``None`` for equal weights."""
        if sample_weight is None:
            return None
        return _check_sample_weight(sample_weight, X, dtype=dtype, ensure_non_negative=True)

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(32, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the {n_samples} samples; "
                f"training uses batches of {n_samples}.",
                UserWarning,
                stacklevel=4,
            )
        return min(self.batch_size, n_samples)

    def _make_optimizer(self, params):
        if self.solver == "adam":
            return Adam(params, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon)
        return SGD(params, self.learning_rate_init, self.momentum, self.nesterovs_momentum)

    def _split_validation(self, X, y, sample_weight):
        """Hold out ``validation_fraction`` of the data, stratified for classifiers."""
        arrays = [X, y] + ([] if sample_weight is None else [sample_weight])
        stratify = y if is_classifier(self) else None
        try:
            parts = train_test_split(
                *arrays,
                test_size=self.validation_fraction,
                random_state=self._random_state,
                stratify=stratify,
            )
        except ValueError as exc:
            raise ValueError(
                f"early_stopping cannot hold out validation_fraction="
                f"{self.validation_fraction} of {len(X)} samples: {exc} Use a larger "
                f"validation_fraction or more data."
            ) from None
        train, val = parts[0::2], parts[1::2]
        if len(val[0]) < 2:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves "
                f"{len(val[0])} validation sample(s) of {len(X)}; early_stopping needs "
                f"at least 2. Use a larger validation_fraction or more data."
            )
        if sample_weight is None:
            train, val = (*train, None), (*val, None)
        return train, val

    def _fit_loop(self, network, X, y, sample_weight, incremental, callbacks=None):
        """Epochs until ``max_iter``, convergence, Ctrl-C or a callback says stop.

        One epoch for ``partial_fit``. ``callbacks`` is scikit-learn's callback
        context, or ``None``: every epoch is a task of it.
        """
        early_stopping = self.early_stopping and not incremental
        if early_stopping:
            (X, y, sample_weight), validation = self._split_validation(X, y, sample_weight)
            if self.validation_scores_ is None:
                self.validation_scores_, self.validation_loss_curve_ = [], []
                self.best_validation_score_ = -np.inf
            trained = network.params + network.buffers  # weights and running averages
            best = [array.copy() for array in trained]
        batch_size = self._batch_size(len(X))
        n_epochs = 1 if incremental else self.max_iter

        trainer = DataParallel(network, available_threads(), batch_size)
        with _InterruptFlag() as interrupt, trainer:
            labels = self.classes_[y] if is_classifier(self) else y
            for _ in range(n_epochs):
                start = time.perf_counter()
                if callbacks is not None:
                    epoch_task = callbacks.subcontext(task_name="epoch")
                    epoch_task.call_on_fit_task_begin(estimator=self, X=X, y=labels)
                loss, n_seen = self._run_epoch(trainer, X, y, sample_weight, batch_size, interrupt)
                if n_seen == 0:  # interrupted before the first batch of the epoch
                    break
                if not all(np.isfinite(param).all() for param in network.params):
                    # The last update overflowed: no later loss would show it.
                    raise _DivergedError(self._diverged_message())
                self.n_iter_ += 1
                self.t_ += n_seen
                self.loss_curve_.append(loss)
                message = f"Epoch {self.n_iter_}: loss {loss:.5f}"
                if early_stopping:
                    score, val_loss = self._validation_scores(trainer, *validation)
                    self.validation_scores_.append(score)
                    self.validation_loss_curve_.append(val_loss)
                    message += f", validation score {score:.5f}, validation loss {val_loss:.5f}"
                    if score > self.best_validation_score_:
                        best = [array.copy() for array in trained]
                improved = self._record_progress(early_stopping)
                if self.verbose:
                    print(f"{message}, {time.perf_counter() - start:.2f} s")
                self._schedule_learning_rate()
                if callbacks is not None and epoch_task.call_on_fit_task_end(
                    estimator=self, X=X, y=labels, reconstruction_attributes={}
                ):
                    break  # a callback asked to stop
                if interrupt.raised:
                    warnings.warn(
                        f"Training interrupted (Ctrl-C) in epoch {self.n_iter_}: the "
                        f"model keeps the weights of the last completed batch.",
                        UserWarning,
                        stacklevel=4,
                    )
                    break
                if not improved and self._should_stop():
                    break
            else:
                if not incremental:
                    warnings.warn(
                        f"Stochastic optimizer: maximum iterations ({self.max_iter}) reached "
                        f"and the optimization hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=4,
                    )
        if early_stopping:  # the weights (and batch statistics) of the best validation score
            for array, kept in zip(trained, best):
                array[...] = kept

    def _schedule_learning_rate(self):
        """The step size of the next epoch, for the schedules that set it per epoch."""
        if self.learning_rate == "invscaling":
            # lr = learning_rate_init / t^power_t, t = samples seen
            self._optimizer.learning_rate = self.learning_rate_init / (self.t_ + 1) ** self.power_t
        elif self.learning_rate == "cosine":
            # lr = learning_rate_init (1 + cos(pi k / max_iter)) / 2 after k epochs of the
            # cycle: from learning_rate_init down towards 0, again every max_iter epochs
            progress = (self.n_iter_ % self.max_iter) / self.max_iter
            self._optimizer.learning_rate = (
                self.learning_rate_init * (1 + np.cos(np.pi * progress)) / 2
            )

    def _record_progress(self, early_stopping):
        """Count epochs without improvement by ``tol``, as MLPClassifier does."""
        if early_stopping:
            score = self.validation_scores_[-1]
            improved = score >= self.best_validation_score_ + self.tol
            self.best_validation_score_ = max(self.best_validation_score_, score)
        else:
            loss = self.loss_curve_[-1]
            improved = loss <= self.best_loss_ - self.tol
            self.best_loss_ = min(self.best_loss_, loss)
        self._no_improvement_count = 0 if improved else self._no_improvement_count + 1
        return improved

    def _should_stop(self):
        if self._no_improvement_count <= self.n_iter_no_change:
            return False
        what = "Validation score" if self.early_stopping else "Training loss"
        if self.learning_rate == "adaptive" and self._optimizer.learning_rate > 1e-6:
            self._optimizer.learning_rate /= 5
            self._no_improvement_count = 0
            if self.verbose:
                print(
                    f"{what} did not improve more than tol={self.tol} for "
                    f"{self.n_iter_no_change + 1} consecutive epochs. Setting learning rate "
                    f"to {self._optimizer.learning_rate:g}."
                )
            return False
        if self.verbose:
            print(
                f"{what} did not improve more than tol={self.tol} for "
                f"{self.n_iter_no_change + 1} consecutive epochs. Stopping."
            )
        return True

    def _run_epoch(self, trainer, X, y, sample_weight, batch_size, interrupt):
        """One pass over the data in minibatches; return the mean loss and samples seen."""
        n_samples = len(X)
        order = self._random_state.permutation(n_samples) if self.shuffle else None
        total_loss, total_weight, n_seen = 0.0, 0.0, 0
        progress = BatchProgress(
            n_samples, batch_size, f"Epoch {self.n_iter_ + 1}", enabled=self.verbose >= 2
        )
        for batch in gen_batches(n_samples, batch_size):
            index = batch if order is None else order[batch]
            X_batch, y_batch = self._augment(X[index]), y[index]
            weight = None if sample_weight is None else sample_weight[index]
            batch_weight = len(y_batch) if weight is None else float(weight.sum())
            if batch_weight > 0:  # a batch of zero weights teaches nothing
                loss = self._train_step(trainer, X_batch, y_batch, weight)
                total_loss += loss * batch_weight
                total_weight += batch_weight
            n_seen += len(y_batch)
            progress.update(n_seen)
            if interrupt.raised:
                break
        progress.close()
        # a Python float: loss_curve_ holds no NumPy scalars (float32 with weights)
        return float(total_loss / max(total_weight, np.finfo(float).tiny)), n_seen

    def _augment(self, X):
        """Train-time augmentation of a batch: random shifts and left-right flips.

        Each sample moves by its own random offset of up to ``augment_shift``
        pixels along each axis (only along the length for signals), the
        uncovered border repeating the edge pixels; with ``augment_flip``,
        half the samples (at random) are mirrored left-right. Returns a new
        array; ``X`` itself is never changed.
        """
        shift, rng = self.augment_shift, self._random_state
        if not shift and not self.augment_flip:
            return X
        n, height, width, _ = X.shape
        if self.augment_flip:
            mirrored = rng.random_sample(n) < 0.5
            X = np.where(mirrored[:, None, None, None], X[:, :, ::-1], X)
        if shift:
            shift_y = shift if height > 1 else 0
            dy = rng.randint(-shift_y, shift_y + 1, n)
            dx = rng.randint(-shift, shift + 1, n)
            padded = np.pad(X, [(0, 0), (shift_y, shift_y), (shift, shift), (0, 0)], "edge")
            X = np.empty_like(X)
            # out[i, r, c] = in[i, r - dy_i, c - dx_i]: one slice per distinct offset
            for oy, ox in set(zip(dy.tolist(), dx.tolist())):
                same = (dy == oy) & (dx == ox)
                top, left = shift_y - oy, shift - ox
                X[same] = padded[same, top : top + height, left : left + width]
        return X

    def _train_step(self, trainer, X, y, sample_weight):
        """Forward, backward and one optimizer update on a batch; return its loss.

        ``trainer`` is the :class:`~skcnn._network.DataParallel` of the network.
        """
        # Overflow is no warning here: a non-finite loss or weight is an error below.
        with np.errstate(over="ignore", invalid="ignore"):
            return self._checked_step(trainer, X, y, sample_weight)

    def _checked_step(self, trainer, X, y, sample_weight):
        loss_layer = self._make_loss()
        scores = trainer.forward(X)
        loss = float(loss_layer.forward(scores, y, sample_weight))
        trainer.backward(loss_layer.backward())
        params, grads = trainer.network.params, trainer.network.grads
        if self.alpha:
            # L += alpha/2 * sum ||W||^2 / m ;  dL/dW += alpha W / m   (m: batch weight)
            scale = self.alpha / (len(X) if sample_weight is None else sample_weight.sum())
            for param, grad in zip(params, grads):
                if param.ndim > 1:  # weights, not biases
                    loss += 0.5 * scale * float(np.vdot(param, param))
                    grad += scale * param
        if not np.isfinite(loss):
            raise _DivergedError(self._diverged_message())
        self._optimizer.update(params, grads)
        self._n_updates += 1
        return loss

    def _diverged_message(self):
        if self._n_updates == 0 and self.n_iter_ == 0:
            # Not the optimizer's doing: the first loss, of the initial weights.
            targets = " and the targets y" if not is_classifier(self) else ""
            return (
                f"The loss is not finite at the initial weights, before any update: the "
                f"values of X{targets} are too large for {self.dtype} computation. Scale "
                f"them (StandardScaler for X"
                + (", TransformedTargetRegressor for y" if targets else "")
                + ") or use dtype='float64'."
            )
        return (
            f"Training diverged in epoch {self.n_iter_ + 1}: the loss or the weights are no "
            f"longer finite. Use a smaller learning_rate_init (now {self.learning_rate_init}) "
            f"or scale the inputs, for example with StandardScaler."
        )

    def _validation_scores(self, trainer, X, y, sample_weight):
        """Score (as ``score``) and mean loss of the held-out samples."""
        # BLAS may be down to one thread for training: the trainer knows how many may run.
        scores = trainer.network.predict(X, n_threads=trainer.n_threads)
        loss = float(self._make_loss().forward(scores, y, sample_weight))
        return self._score_from_scores(scores, y, sample_weight), loss

    # --- prediction ----------------------------------------------------------

    def _forward(self, X, only=None):
        """Check ``X``; its output-layer scores (or, with ``only``, the output of
        the layers named there), in bounded memory.

        Computed in float32 for float32 ``X`` and a float32 model; otherwise in
        float64, where results do not depend on how many samples come together
        (float32 BLAS products differ with the batch at the 1e-7 level).
        """
        network = self._get_network()
        X = validate_predict_X(self, X, dtype=(np.float64, np.float32))
        if X.dtype != self.coefs_[0].dtype:
            X = X.astype(np.float64, copy=False)
            network = self._load_network(np.float64)
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite outputs: said below
            out = network.predict(X, only)
            if not np.isfinite(out).all() and out.dtype != np.float64:
                # float32 overflowed (X near 3e38): float64 has the range.
                out = self._load_network(np.float64).predict(X.astype(np.float64), only)
        if not np.isfinite(out).all():
            raise ValueError(
                f"X has values so large that the network's outputs overflow (largest "
                f"magnitude in X: {float(np.abs(X).max()):.3g}); scale X the way the "
                f"training data was scaled."
            )
        return out

    # --- features ------------------------------------------------------------

    def _feature_layer_name(self, names):
        """The name, among the stated layer ``names``, of the layer ``feature_layer`` picks."""
        if self.feature_layer is None:
            return names[-2]  # the last hidden layer: what the output layer sees
        if isinstance(self.feature_layer, str):
            if self.feature_layer in names:
                return self.feature_layer
        elif -len(names) <= self.feature_layer < len(names):
            return names[self.feature_layer]
        raise ValueError(
            f"feature_layer={self.feature_layer!r} names no layer of this network; use a "
            f"name of {names} or a position in layers_, from {-len(names)} to "
            f"{len(names) - 1}."
        )

    def transform(self, X):
        """The learned features of ``X``: the output of ``feature_layer``.

        By default the last hidden layer, the features the output layer
        votes with, so a fitted CNN can feed any other estimator. Spatial
        outputs (after a convolution or pooling) are flattened in
        ``(row, column, channel)`` order.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, height, width[, channels])
            Samples of the fitted shape.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out)
            Named by :meth:`get_feature_names_out`.
        """
        check_is_fitted(self)
        names = layer_names(self.layers_)
        chosen = names.index(self._feature_layer_name(names))
        # The layers up to the chosen one, as stated (the engine may run a
        # ReLU after the pooling it precedes: the same outputs, cheaper).
        features = self._forward(X, only=set(names[: chosen + 1]))
        return features.reshape(len(features), -1)

    def get_feature_names_out(self, input_features=None):
        """Names of the features :meth:`transform` gives.

        ``"<layer>_<unit>"`` for flat layers (``"dense1_0"``, ...) and
        ``"<layer>_r<row>_c<column>_ch<channel>"`` for spatial ones, with the
        layer names of ``print(network_)`` (``"maxpool2_r0_c1_ch5"``).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Checked against ``feature_names_in_``; not otherwise used.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features, generate_names=False)
        stated = self._load_network(reorder=False)
        name = self._feature_layer_name(stated.names)
        shape = stated.layers[stated.names.index(name)].output_shape
        if len(shape) == 1:
            names = [f"{name}_{unit}" for unit in range(shape[0])]
        else:
            names = [f"{name}_r{r}_c{c}_ch{ch}" for r, c, ch in np.ndindex(*shape)]
        return np.asarray(names, dtype=object)


# Plain-value states that __getstate__ saves in place of the live objects; a
# loaded model holds them until training needs them.
_SAVED_TRAINING_STATE = ("_dropout_rng_states", "_optimizer_state", "_random_state_state")


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


class _DivergedError(ValueError):
    """The loss of a training step is no longer finite."""
