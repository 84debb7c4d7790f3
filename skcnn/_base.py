"""What every skcnn estimator shares: arguments, the network, the training loop."""

import copy
import os
import warnings
from abc import ABCMeta, abstractmethod
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

try:  # scikit-learn >= 1.9: the experimental callback API (set_callbacks)
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # older scikit-learn: fit works the same, without callbacks

    class CallbackSupportMixin:
        pass


from ._architecture import architecture_specs, make_network, with_output
from ._augmentation import shift_and_flip
from ._docs import doc_link_template
from ._engine.kernels import CONV_ALGORITHMS, PADDING_MODES
from ._engine.network import layer_names
from ._engine.optimizers import SGD, Adam
from ._persistence import (
    SAVED_TRAINING_STATE,
    Checkpoint,
    fingerprint,
    restored_state,
    saved_state,
)
from ._shapes import (
    LAYOUTS,
    layout_shape,
    scale_hint,
    validate_fit_X_y,
    validate_predict_X,
)
from ._training import Diverged, History, LearningRateSchedule, Position, Trainer
from .exceptions import DivergenceWarning, InputScaleWarning


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
        "input_layout": [StrOptions(set(LAYOUTS))],
        "filters": ["array-like", Interval(Integral, 1, None, closed="left")],
        "kernel_size": ["array-like", Interval(Integral, 1, None, closed="left")],
        "pool_size": ["array-like", Interval(Integral, 1, None, closed="left")],
        "pool_stride": [None, "array-like", Interval(Integral, 1, None, closed="left")],
        "padding": [StrOptions(set(PADDING_MODES))],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "residual_blocks": [Interval(Integral, 0, None, closed="left")],
        "global_pool": [None, StrOptions({"avg", "max"})],
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
        "checkpoint": [None, str, os.PathLike],
        "checkpoint_every": [None, Interval(Integral, 1, None, closed="left")],
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
        input_layout,
        filters,
        kernel_size,
        pool_size,
        pool_stride,
        padding,
        hidden_layer_sizes,
        dropout,
        batch_norm,
        residual_blocks,
        global_pool,
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
        checkpoint,
        checkpoint_every,
        init,
        conv_algorithm,
        dtype,
        random_state,
        verbose,
    ):
        self.input_shape = input_shape
        self.input_layout = input_layout
        self.filters = filters
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.pool_stride = pool_stride
        self.padding = padding
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.residual_blocks = residual_blocks
        self.global_pool = global_pool
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
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
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

    def _decode_y(self, y):
        """The targets as the user gave them, from encoded ``y``."""
        return y

    @abstractmethod
    def _score_from_scores(self, scores, y, sample_weight):
        """What ``score`` gives, from output-layer scores and encoded ``y``."""

    @abstractmethod
    def _n_outputs(self):
        """Units of the output layer."""

    @abstractmethod
    def _make_loss(self):
        """The loss layer: ``forward(scores, y) -> loss`` and ``backward()``."""

    @abstractmethod
    def _chance_report(self, scores, y, sample_weight):
        """What to say where scores of training samples are no better than chance, or None."""

    # --- the network ---------------------------------------------------------

    def _check_architecture(self):
        """Check the architecture arguments that need no data; return the specs."""
        if self.input_shape is not None:
            layout_shape(self.input_shape, self.input_layout)
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
        """The network the architecture states for ``input_shape``, built, not initialized."""
        specs, sources = with_output(specs, sources, self._n_outputs())
        return make_network(specs, input_shape, self.conv_algorithm, sources)

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

    def _load_network(self, dtype=None, reorder=True, length=None):
        """A new network of the fitted architecture and weights (cast to ``dtype``).

        Without ``dtype`` the network shares the fitted arrays; ``reorder=False``
        keeps the stated order of the layers (see :func:`make_network`);
        ``length`` builds it for series of that length (see :meth:`_check_longer`).
        """
        shape = self.input_shape_
        if length is not None:
            shape = (shape[0], length, shape[2])
        network = make_network(self.layers_, shape, self.conv_algorithm, reorder=reorder)
        cast = None if dtype is None else (lambda a: a.astype(dtype))
        network.load_state({**self.parameters_, **self.buffers_}, cast)
        network.batch_size = self._batch_size(np.inf)
        return network

    def summary(self, input_shape=None, n_outputs=None):
        """The network as a table: every layer, its output, parameters, work and memory.

        Rows follow the layers, with the layers of blocks indented under
        them: the output shape of one sample, the number of parameters, the
        multiply-adds of one sample's forward pass, and the memory a
        training batch (of ``batch_size``) holds of the layer's output.
        Before any training, the architecture arguments and an input shape
        say it all: how large a network is, before fitting it.

        Parameters
        ----------
        input_shape : int or tuple of int, default=None
            The shape of one sample, as ``input_shape`` takes it (in the
            order of ``input_layout``: ``(length, channels)`` for
            ``"nlc"``, ``(n_channels, n_timepoints)`` for ``"ncl"``); by default
            the estimator's ``input_shape`` or, fitted, the fitted shape.
        n_outputs : int, default=None
            Units of the output layer: classes, or regression targets;
            fitted, the fitted ones.

        Returns
        -------
        summary : str
            ``print`` it. For a fitted estimator, ``print(network_)`` draws
            the same.
        """
        fitted = hasattr(self, "layers_")
        if fitted and input_shape is None and n_outputs is None:
            return self.network_.summary()
        specs, sources = self._check_architecture()
        if input_shape is None and fitted:
            shape = self.input_shape_
        else:
            input_shape = self.input_shape if input_shape is None else input_shape
            if input_shape is None:
                raise ValueError(
                    "summary needs input_shape, the shape of one sample, such as (28, 28, 1): "
                    "give it, or set the estimator's input_shape."
                )
            shape = layout_shape(input_shape, self.input_layout)
        if n_outputs is None:
            if not fitted:
                raise ValueError(
                    "summary needs n_outputs (the classes, or the regression targets) before "
                    "the estimator is fitted."
                )
            n_outputs = self._n_outputs()
        if not (isinstance(n_outputs, Integral) and n_outputs >= 1):
            raise ValueError(f"n_outputs must be an int >= 1; got {n_outputs!r}.")
        specs, sources = with_output(specs, sources, int(n_outputs))
        network = make_network(specs, shape, self.conv_algorithm, sources)
        network.initialize(np.random.RandomState(0), np.dtype(self.dtype), self.init)
        network.batch_size = self._batch_size(np.inf)
        return network.summary()

    @property
    def network_(self):
        """The fitted :class:`~skcnn._engine.network.Network`; ``print`` it for a diagram."""
        return self._get_network()

    def __getstate__(self):
        """The state to save: plain values and the version (see :mod:`skcnn._persistence`)."""
        return saved_state(self, super().__getstate__())

    def __setstate__(self, state):
        """Restore a saved state; warn if another skcnn version saved it."""
        super().__setstate__(restored_state(self, state))

    # --- training ------------------------------------------------------------
    #
    # fit / partial_fit -> _fit (data, network, optimizer, validation data) -> a
    # Trainer of the training arguments (skcnn._training): epochs, batches, steps.

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None, validation_data=None):
        specs, sources = self._check_architecture()
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True.")
        if validation_data is not None and all(v is None for v in validation_data):
            validation_data = None
        if validation_data is not None:
            self._check_validation_arguments(*validation_data)
        dtype = np.dtype(self.dtype)
        checkpoint = None
        if self.checkpoint is not None and not incremental:
            checkpoint = Checkpoint(self.checkpoint)
        saved = None if checkpoint is None else checkpoint.load(self)
        if saved is not None:  # a fit that crashed: go on where it stood
            for name in ("_network", "_optimizer", "_random_state"):
                self.__dict__.pop(name, None)
            self.__setstate__(saved["state"])
        first_pass = saved is None and (
            not hasattr(self, "parameters_") or (not self.warm_start and not incremental)
        )
        X, y, input_shape = validate_fit_X_y(
            self, X, y, dtype=dtype, reset=first_pass, **self._y_validation
        )
        y = self._encode_y(y, classes=classes, reset=first_pass)
        sample_weight = self._sample_weight(X, y, sample_weight, dtype)
        data = fingerprint(X, y, sample_weight)
        if saved is not None:
            checkpoint.check_data(saved, X, y, sample_weight)
        self._check_augmentation(input_shape)
        padded = X.shape[-1] != input_shape[-1]  # series padded to one length, with their mask
        network = self._prepare_network(first_pass, input_shape, specs, sources, dtype, X, padded)
        network.check_input(X)  # token ids of an embedding: whole, in its table
        # No hint where the first layer reads ids (an embedding), not measurements.
        if first_pass and network.layers[0].has_input_gradient:
            hint = scale_hint(X)
            if hint is not None:
                warnings.warn(InputScaleWarning(hint), stacklevel=3)
        self._prepare_optimizer(network, first_pass, incremental or saved is not None)

        validation, rows = None, None
        if validation_data is not None:
            validation = self._validation_data(*validation_data, dtype)
            network.check_input(validation[0])
        elif self.early_stopping and not incremental:
            rows = saved["rows"] if saved is not None else self._validation_rows(y)
            (X, y, sample_weight), validation = _split(rows, X, y, sample_weight)
        trainer = self._make_trainer(network, self._batch_size(len(X)))
        trainer.history = self._history()
        n_epochs = 1 if incremental else self.max_iter
        if saved is not None:  # the epochs the checkpoint did not complete
            n_epochs -= trainer.history.n_iter
        if checkpoint is not None:

            def write(trainer, position, best):
                self._write_checkpoint(checkpoint, trainer, data, position, best, rows)

            trainer.checkpoint, trainer.checkpoint_every = write, self.checkpoint_every
        hooks = None
        if hasattr(self, "_init_callback_context"):
            labels = self._decode_y(y)
            hooks = _CallbackHooks(self, trainer.history, X, labels, n_epochs)
        resume = None if saved is None else (_position(saved["position"]), saved["best"])
        try:
            reason = trainer.fit(
                X,
                y,
                sample_weight,
                n_epochs=n_epochs,
                validation=validation,
                hooks=hooks,
                resume=resume,
            )
        except Diverged as exc:
            self._diverged(exc, trainer, first_pass, incremental, checkpoint)
        self._publish(trainer.history)
        self.partial_epoch_ = trainer.partial_epoch
        if reason == "interrupted":
            self._interrupted(trainer, checkpoint)
        if checkpoint is not None:
            checkpoint.remove()
        if not incremental:
            self._report_divergence(trainer, X, y, sample_weight)
        if reason == "max_iter" and not incremental:
            warnings.warn(
                f"Stochastic optimizer: maximum iterations ({self.max_iter}) reached "
                f"and the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )
        if hooks is not None:
            hooks.fit_end()
        return self

    def _diverged(self, diverged, trainer, first_pass, incremental, checkpoint):
        """Raise the error of a diverged training, the model left as it was or none."""
        if checkpoint is not None:  # resuming would diverge again
            checkpoint.remove()
        message = self._diverged_message(diverged, fresh=first_pass)
        if first_pass:  # leave no model with non-finite weights behind
            for name in ("parameters_", "buffers_", "layers_", "_network", "_optimizer"):
                self.__dict__.pop(name, None)
            raise _DivergedError(message) from None
        # A model trained before keeps what it had before this call (the trainer
        # put back its weights, optimizer, random streams and history).
        self._publish(trainer.history)
        raise _DivergedError(
            f"{message} The model keeps the weights it had before this call to "
            f"{'partial_fit' if incremental else 'fit'}."
        ) from None

    def _interrupted(self, trainer, checkpoint):
        """Ctrl-C: the model keeps the batches it trained; the caller stops too."""
        if trainer.position is not None:  # the cut epoch's samples trained the model
            self.t_ += trainer.position.n_seen
        partial = trainer.partial_epoch
        done = "" if partial is None else f", {partial:.0%} of it done"
        resumes = (
            ""
            if checkpoint is None
            else f" Fitting again resumes from checkpoint={os.fspath(self.checkpoint)!r}."
        )
        raise KeyboardInterrupt(
            f"Training interrupted (Ctrl-C) in epoch {trainer.interrupted}{done}. The model "
            f"keeps the weights of the last completed batch and predicts with them; catch "
            f"KeyboardInterrupt around fit to go on with it.{resumes}"
        )

    def _prepare_network(self, first_pass, input_shape, specs, sources, dtype, X, padded=False):
        """The network to train: new and initialized, or the fitted one to go on with."""
        if first_pass:
            network = self._build_network(input_shape, specs, sources)
            if padded:
                self._check_masking(network)
            resolved = list(network.spec())
            self._feature_layer_name(layer_names(resolved))  # a bad feature_layer fails now
            network.adapt(X)  # what the first layer learns of X (an embedding's table size)
            self._random_state = check_random_state(self.random_state)
            network.initialize(self._random_state, dtype, self.init)
            self.input_shape_ = input_shape
            self.layers_ = [tuple(spec) for spec in resolved]
            self._set_weights(network)
            self._publish(History())
            for name in SAVED_TRAINING_STATE:  # of a loaded model: a new start
                self.__dict__.pop(name, None)
        else:
            resolved = self._build_network(self.input_shape_, specs, sources).spec()
            if list(resolved) != self.layers_:
                raise ValueError(
                    "The architecture arguments changed since the last fit; warm_start and "
                    "partial_fit go on with the fitted network. Set warm_start=False (or "
                    "clone the estimator) to train the new architecture."
                )
        network = self._get_network()
        if padded and not first_pass:
            self._check_masking(network)
        if not hasattr(self, "_random_state"):  # unpickled, then trained again
            saved = self.__dict__.pop("_random_state_state", None)
            if saved is None:
                self._random_state = check_random_state(self.random_state)
            else:  # go on with the saved stream
                self._random_state = np.random.RandomState()
                self._random_state.set_state(saved)
        return network

    def _check_masking(self, network):
        """Refuse series of unequal length where the network would read the padding as data."""
        problem = network.masking_problem()
        if problem is not None:
            raise ValueError(
                f"X holds series of unequal length (padded with NaN, a list of arrays of "
                f"different lengths, or series shorter than those of the training data), "
                f"but this network cannot ignore the padding: {problem}. "
                f"End the convolutions in global pooling ('globalavgpool' or 'globalmaxpool' "
                f"in layers, global_pool='avg' or 'max'; skcnn.architectures.fcn() and "
                f"resnet() do), or pad or crop the series to one length yourself."
            )

    def _check_longer(self, network, length):
        """Refuse series longer than the training ones, unless global pooling ends the
        convolutions: then the same weights make a network for their length."""
        problem = network.masking_problem()
        if problem is not None:
            raise ValueError(
                f"X has series of length {length}, longer than those "
                f"{type(self).__name__} was fitted on ({self.input_shape_[1]} time steps), "
                f"and this network takes that length only: {problem.split(', so')[0]}. "
                f"Crop the series, or fit a network that ends its convolutions in global "
                f"pooling (it takes series of any length)."
            )

    def _prepare_optimizer(self, network, first_pass, going_on):
        """A new optimizer, or the one to go on with (``partial_fit``, a resumed fit)."""
        if first_pass or not going_on or getattr(self, "_optimizer", None) is None:
            self._optimizer = self._make_optimizer(network.params)
            saved = self.__dict__.pop("_optimizer_state", None)
            # partial_fit of a loaded model goes on with the saved optimizer (if the
            # solver is still the same), as a fit resumed from a checkpoint does
            same_solver = saved is not None and saved.keys() == self._optimizer.get_state().keys()
            if going_on and same_solver:
                self._optimizer.set_state(saved)

    def _write_checkpoint(self, checkpoint, trainer, data, position, best, rows):
        self._publish(trainer.history)
        checkpoint.write(self, data, position, best, rows)

    def _report_divergence(self, trainer, X, y, sample_weight):
        """Warn where training went astray with finite numbers: a loss far above the first,
        or a model no better than chance on its training data."""
        said = [] if trainer.diverging is None else [trainer.diverging]
        # At most 500 training samples, the same every time (the estimator's own
        # random stream is left alone: partial_fit goes on with it). 2,000 cost
        # a tenth of a one-epoch fit of 5,000 images; 500 tell chance apart as well.
        rows = np.random.RandomState(0).permutation(len(X))[:500]
        weight = None if sample_weight is None else sample_weight[rows]
        scores = self._get_network().predict(X[rows])
        chance = self._chance_report(scores, y[rows], weight)
        if chance is not None:
            said.append(chance)
        if not said:
            return
        steady = self.batch_norm or self.layers is not None
        hint = "" if steady else "; batch_norm=True steadies training too"
        warnings.warn(
            DivergenceWarning(
                f"Training went astray: {' and '.join(said)}. Use a smaller learning_rate_init "
                f"(now {self.learning_rate_init}){hint}."
            ),
            stacklevel=4,
        )

    def _make_trainer(self, network, batch_size):
        """The :class:`~skcnn._training.Trainer` of this estimator's training arguments."""
        augment = None
        if self.augment_shift or self.augment_flip:
            augment = partial(shift_and_flip, shift=self.augment_shift, flip=self.augment_flip)
        schedule = LearningRateSchedule(
            self.learning_rate, self.learning_rate_init, self.power_t, self.max_iter
        )
        return Trainer(
            network,
            self._make_loss,
            self._optimizer,
            batch_size=batch_size,
            alpha=self.alpha,
            shuffle=self.shuffle,
            augment=augment,
            schedule=schedule,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            score=self._score_from_scores,
            random_state=self._random_state,
            verbose=self.verbose,
        )

    # The fitted attributes of a History (a Python float for losses: loss_curve_ and
    # best_loss_ hold no NumPy scalars).
    _HISTORY = {
        "n_iter": "n_iter_",
        "t": "t_",
        "loss_curve": "loss_curve_",
        "best_loss": "best_loss_",
        "validation_scores": "validation_scores_",
        "validation_loss_curve": "validation_loss_curve_",
        "best_validation_score": "best_validation_score_",
        "no_improvement_count": "_no_improvement_count",
        "initial_loss": "_initial_loss",
    }

    def _history(self):
        """The :class:`~skcnn._training.History` of the fitted attributes: training goes on."""
        start = History()  # for what models of earlier versions did not record
        return History(
            **{
                field: copy.deepcopy(getattr(self, name, getattr(start, field)))
                for field, name in self._HISTORY.items()
            }
        )

    def _publish(self, history):
        """Set the fitted attributes from ``history``."""
        for field, name in self._HISTORY.items():
            value = getattr(history, field)
            if field in ("best_loss", "initial_loss") and value is not None:
                value = float(value)
            setattr(self, name, copy.copy(value))

    def _set_weights(self, network):
        """Keep the network's arrays as ``parameters_`` and ``buffers_`` (the same arrays)."""
        self.parameters_ = network.named_params()
        self.buffers_ = network.named_buffers()
        self._network = network

    # coefs_, intercepts_ and running_stats_ as MLPClassifier and earlier versions
    # give them, from the arrays of every layer.

    @property
    def coefs_(self):
        """The ``weights`` of every layer that has them, in order (the layers' own arrays)."""
        check_is_fitted(self)
        return [a for key, a in self.parameters_.items() if key.rsplit(".", 1)[1] == "weights"]

    @property
    def intercepts_(self):
        """The ``bias`` of every layer that has one, matching :attr:`coefs_`."""
        check_is_fitted(self)
        return [a for key, a in self.parameters_.items() if key.rsplit(".", 1)[1] == "bias"]

    @property
    def running_stats_(self):
        """``(mean, variance)`` of every batch normalization, in order."""
        check_is_fitted(self)
        layers = dict.fromkeys(key.rsplit(".", 1)[0] for key in self.buffers_)
        return [
            (self.buffers_[f"{layer}.running_mean"], self.buffers_[f"{layer}.running_var"])
            for layer in layers
            if f"{layer}.running_mean" in self.buffers_
        ]

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

    def _check_validation_arguments(self, X_val, y_val, sample_weight_val):
        """Refuse validation data that cannot be used, before any work."""
        given = [name for name, v in [("X_val", X_val), ("y_val", y_val)] if v is not None]
        if len(given) == 1 or (sample_weight_val is not None and not given):
            missing = "y_val" if given == ["X_val"] else "X_val"
            raise ValueError(
                f"{missing} is missing: validation data is X_val and y_val together (and "
                f"sample_weight_val, if the samples are weighted)."
            )
        if not self.early_stopping:
            raise ValueError(
                "X_val and y_val are scored by early stopping, which is off: set "
                "early_stopping=True to score them after every epoch, stop when the score "
                "stops improving and keep the best weights."
            )

    def _validation_data(self, X_val, y_val, sample_weight_val, dtype):
        """Checked validation data of one's own: images, encoded targets, weights."""
        try:
            X_val = validate_predict_X(self, X_val, dtype, training=True)
        except ValueError as exc:
            raise ValueError(f"X_val does not match the training data X: {exc}") from None
        y_val = validate_data(self, X="no_validation", y=y_val, **self._y_validation)
        if len(X_val) != len(y_val):
            raise ValueError(
                f"X_val has {len(X_val)} samples but y_val has {len(y_val)}; give a target "
                f"for every validation sample."
            )
        if len(X_val) < 2:
            raise ValueError("X_val has fewer than 2 samples; early_stopping needs at least 2.")
        try:
            y_val = self._encode_y(y_val, reset=False)
        except ValueError as exc:
            raise ValueError(f"y_val does not match the training targets y: {exc}") from None
        return X_val, y_val, self._sample_weight(X_val, y_val, sample_weight_val, dtype)

    def _validation_rows(self, y):
        """The rows that train and those held out: ``validation_fraction``, stratified."""
        stratify = y if is_classifier(self) and y.ndim == 1 else None
        try:
            train, held_out = train_test_split(
                np.arange(len(y)),
                test_size=self.validation_fraction,
                random_state=self._random_state,
                stratify=stratify,
            )
        except ValueError as exc:
            raise ValueError(
                f"early_stopping cannot hold out validation_fraction="
                f"{self.validation_fraction} of {len(y)} samples: {exc} Use a larger "
                f"validation_fraction or more data."
            ) from None
        if len(held_out) < 2:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves "
                f"{len(held_out)} validation sample(s) of {len(y)}; early_stopping needs "
                f"at least 2. Use a larger validation_fraction or more data."
            )
        return train, held_out

    def _diverged_message(self, diverged, fresh):
        """What to say of a :class:`~skcnn._training.Diverged` training."""
        if fresh and diverged.before_any_update and diverged.epoch == 1:
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
            f"Training diverged in epoch {diverged.epoch}: the loss or the weights are no "
            f"longer finite. Use a smaller learning_rate_init (now {self.learning_rate_init}) "
            f"or scale the inputs, for example with StandardScaler."
        )

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
        network.check_input(X)
        if network.is_masked(X):
            self._check_masking(network)
        length = None  # series longer than the training ones: a network for their length
        if X.shape[2] != self.input_shape_[1]:
            length = X.shape[2]
            self._check_longer(network, length)
        if X.dtype != next(iter(self.parameters_.values())).dtype:
            X = X.astype(np.float64, copy=False)
            network = self._load_network(np.float64, length=length)
        elif length is not None:
            network = self._load_network(length=length)
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite outputs: said below
            out = network.predict(X, only)
            if not np.isfinite(out).all() and out.dtype != np.float64:
                # float32 overflowed (X near 3e38): float64 has the range.
                out = self._load_network(np.float64, length=length).predict(
                    X.astype(np.float64), only
                )
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


class _CallbackHooks:
    """Every epoch a task of scikit-learn's callbacks (``set_callbacks``, scikit-learn >= 1.9)."""

    def __init__(self, estimator, history, X, y, n_epochs):
        self.estimator, self.history, self.X, self.y = estimator, history, X, y
        self.context = estimator._init_callback_context(max_subtasks=n_epochs)
        self.context.call_on_fit_task_begin(estimator=estimator, X=X, y=y)

    def epoch_begin(self):
        self.task = self.context.subcontext(task_name="epoch")
        self.task.call_on_fit_task_begin(estimator=self.estimator, X=self.X, y=self.y)

    def epoch_end(self):
        """Whether a callback asks training to stop; the estimator shows the epoch first."""
        self.estimator._publish(self.history)
        return self.task.call_on_fit_task_end(
            estimator=self.estimator, X=self.X, y=self.y, reconstruction_attributes={}
        )

    def fit_end(self):
        self.context.call_on_fit_task_end(estimator=self.estimator, reconstruction_attributes={})


class _DivergedError(ValueError):
    """The loss of a training step is no longer finite."""


def _position(saved):
    """The :class:`~skcnn._training.Position` of a checkpoint, or ``None``."""
    return None if saved is None else Position(**saved)


def _split(rows, X, y, sample_weight):
    """The training data and the held-out data of ``rows``, ``(train, held_out)``."""
    train, held_out = rows
    weights = (
        (None, None) if sample_weight is None else (sample_weight[train], sample_weight[held_out])
    )
    return (X[train], y[train], weights[0]), (X[held_out], y[held_out], weights[1])
