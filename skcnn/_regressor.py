"""CNNRegressor: the same network, trained on the squared error."""

from numbers import Real

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseCNN
from ._docs import compose
from ._engine.losses import AbsoluteError, Huber, PoissonDeviance, SquaredError


class CNNRegressor(RegressorMixin, BaseCNN):
    """Convolutional neural network regressor (full docstring composed below)."""

    _parameter_constraints: dict = {
        **BaseCNN._parameter_constraints,
        "loss": [StrOptions({"squared_error", "absolute_error", "huber", "poisson"})],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
    }
    _y_validation = {"multi_output": True, "y_numeric": True}

    def __init__(
        self,
        input_shape=None,
        input_layout="auto",
        filters=(32, 64),
        kernel_size=3,
        pool_size=2,
        pool_stride=None,
        padding="same",
        hidden_layer_sizes=(128,),
        dropout=0.0,
        batch_norm=False,
        residual_blocks=0,
        global_pool=None,
        layers=None,
        feature_layer=None,
        solver="adam",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        batch_size="auto",
        max_iter=200,
        alpha=0.0001,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        shuffle=True,
        augment_shift=0,
        augment_flip=False,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        warm_start=False,
        checkpoint=None,
        checkpoint_every=None,
        loss="squared_error",
        huber_delta=1.0,
        init="he",
        conv_algorithm="auto",
        dtype="float32",
        random_state=None,
        verbose=False,
    ):
        super().__init__(
            input_shape=input_shape,
            input_layout=input_layout,
            filters=filters,
            kernel_size=kernel_size,
            pool_size=pool_size,
            pool_stride=pool_stride,
            padding=padding,
            hidden_layer_sizes=hidden_layer_sizes,
            dropout=dropout,
            batch_norm=batch_norm,
            residual_blocks=residual_blocks,
            global_pool=global_pool,
            layers=layers,
            feature_layer=feature_layer,
            solver=solver,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            batch_size=batch_size,
            max_iter=max_iter,
            alpha=alpha,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            shuffle=shuffle,
            augment_shift=augment_shift,
            augment_flip=augment_flip,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            warm_start=warm_start,
            checkpoint=checkpoint,
            checkpoint_every=checkpoint_every,
            init=init,
            conv_algorithm=conv_algorithm,
            dtype=dtype,
            random_state=random_state,
            verbose=verbose,
        )
        self.loss = loss
        self.huber_delta = huber_delta

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags

    def _encode_y(self, y, classes=None, reset=True):
        with np.errstate(over="ignore"):
            targets = np.asarray(y, dtype=self.dtype).reshape(len(y), -1)
        if not np.isfinite(targets).all():  # y itself is finite (validate_data checked)
            raise ValueError(
                f"y has values whose magnitude exceeds {float(np.finfo(self.dtype).max):.3g}, "
                f"the largest {self.dtype}; they would become infinite. Scale y (for example "
                f"with TransformedTargetRegressor and a StandardScaler) or use dtype='float64'."
            )
        if self.loss == "poisson" and (targets.min() < 0 or targets.sum() <= 0):
            raise ValueError(
                f"loss='poisson' needs targets y that are counts or rates: non-negative, and "
                f"not all 0; y has a minimum of {float(targets.min()):.3g} and a sum of "
                f"{float(targets.sum()):.3g}. Use another loss for targets of any sign."
            )
        if reset:
            self.n_outputs_ = targets.shape[1]
            self._y_is_1d = np.ndim(y) == 1
        elif targets.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {targets.shape[1]} outputs, but {type(self).__name__} was fitted "
                f"on {self.n_outputs_}."
            )
        return targets

    def _chance_report(self, scores, y, sample_weight):
        if not np.any(np.ptp(y, axis=0) > 0):  # constant targets: R^2 says nothing
            return None
        r2 = self._score_from_scores(scores, y, sample_weight)
        if r2 > 0:
            return None
        return f"it predicts its training targets no better than their mean (R^2 {r2:.3f})"

    def _n_outputs(self):
        return self.n_outputs_

    def _make_loss(self):
        if self.loss == "absolute_error":
            return AbsoluteError()
        if self.loss == "huber":
            return Huber(self.huber_delta)
        if self.loss == "poisson":
            return PoissonDeviance()
        return SquaredError()

    def _predictions(self, scores):
        """Targets from output-layer scores: their exponential for the log link of Poisson."""
        scores = scores.astype(np.float64)
        if self.loss == "poisson":
            with np.errstate(over="ignore"):
                return np.exp(scores)
        return scores

    def _score_from_scores(self, scores, y, sample_weight):
        return float(r2_score(y, self._predictions(scores), sample_weight=sample_weight))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Train the network on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, height, \
width) or (n_samples, height, width, channels)
            Training samples; see ``input_shape`` for how 2-D ``X`` is read.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of every sample in the loss.

        X_val : array-like of shape (n_samples_val, ...), default=None
            Validation samples of one's own, shaped as ``X``, in place of the
            random ``validation_fraction`` of ``X`` (which leaks on
            time-ordered or grouped data): scored after every epoch by
            ``early_stopping``, which must be on. In a ``Pipeline``, route it
            with metadata routing and ``transform_input=["X_val"]``.
        y_val : array-like, default=None
            Targets of ``X_val``.
        sample_weight_val : array-like of shape (n_samples_val,), default=None
            Weights of the validation samples in their score and loss.

        Returns
        -------
        self : CNNRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, validation_data=(X_val, y_val, sample_weight_val))

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``X`` and ``y``, from the current weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, height, \
width) or (n_samples, height, width, channels)
            Training samples, of the same shape at every call.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets, with the same number of outputs at every call.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of every sample in the loss.

        Returns
        -------
        self : CNNRegressor
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, height, \
width) or (n_samples, height, width, channels)
            Samples of the shape seen in ``fit``, flattened or not.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            1-D when ``y`` was 1-D in ``fit``.
        """
        predictions = self._predictions(self._forward(X))
        return predictions.ravel() if self._y_is_1d else predictions


CNNRegressor.__doc__ = compose(
    intro="""Convolutional neural network regressor.

    The network of :class:`CNNClassifier`, convolution, ReLU, pooling and
    fully connected layers, with a linear output unit per target, trained by
    backpropagation with minibatch Adam or SGD on half the squared error
    (or the loss that ``loss`` names).

""",
    extra_parameters="""\
    loss : {"squared_error", "absolute_error", "huber", "poisson"}, \
default="squared_error"
        What training minimizes: half the squared error (as
        ``MLPRegressor``); the absolute error, robust to outlying targets;
        the Huber loss, squared for errors up to ``huber_delta`` and absolute
        beyond; or half the Poisson deviance, for counts and rates: the
        outputs are then log means, and ``predict`` gives their exponential
        (non-negative ``y`` only).

    huber_delta : float, default=1.0
        Where the Huber loss turns from squared to absolute, in the units of
        ``y``.

""",
    extra_attributes="""\
    n_outputs_ : int
        Number of targets.

""",
    rest="""\
    See Also
    --------
    CNNClassifier : The same network for classification.
    sklearn.neural_network.MLPRegressor : Fully connected network.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skcnn import CNNRegressor
    >>> X, y = load_digits(return_X_y=True)
    >>> # Regress the brightness of the left half of every image, standardized.
    >>> brightness = X.reshape(-1, 8, 8)[:, :, :4].mean(axis=(1, 2))
    >>> target = (brightness - brightness.mean()) / brightness.std()
    >>> reg = CNNRegressor(input_shape=(8, 8), max_iter=10, random_state=0)
    >>> reg.fit(X[:1000] / 16, target[:1000]).score(X[1000:] / 16, target[1000:]) > 0.9
    True
""",
)
