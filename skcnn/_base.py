"""What every skcnn estimator shares: arguments, the network, the training loop."""

import time
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._architecture import architecture_specs, make_network, resolve_specs
from ._conv import CONV_ALGORITHMS, PADDING_MODES
from ._optimizers import SGD, Adam
from ._shapes import image_shape, validate_fit_X_y, validate_predict_X


class BaseCNN(BaseEstimator, metaclass=ABCMeta):
    """Base class of the CNN estimators; not to be used directly.

    Subclasses say how targets become network outputs (:meth:`_encode_y`,
    :meth:`_n_outputs`) and which loss trains them (:meth:`_make_loss`).
    """

    _parameter_constraints: dict = {
        "input_shape": [None, "array-like", Interval(Integral, 1, None, closed="left")],
        "filters": ["array-like", Interval(Integral, 1, None, closed="left")],
        "kernel_size": ["array-like", Interval(Integral, 1, None, closed="left")],
        "pool_size": ["array-like", Interval(Integral, 1, None, closed="left")],
        "pool_stride": [None, "array-like", Interval(Integral, 1, None, closed="left")],
        "padding": [StrOptions(set(PADDING_MODES))],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "layers": [None, "array-like"],
        "solver": [StrOptions({"adam", "sgd"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "shuffle": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"he", "glorot"})],
        "conv_algorithm": [StrOptions({"auto", *CONV_ALGORITHMS})],
        "dtype": [StrOptions({"float32", "float64"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
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
        layers,
        solver,
        learning_rate_init,
        batch_size,
        max_iter,
        alpha,
        momentum,
        nesterovs_momentum,
        beta_1,
        beta_2,
        epsilon,
        shuffle,
        tol,
        n_iter_no_change,
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
        self.layers = layers
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.alpha = alpha
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.shuffle = shuffle
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.init = init
        self.conv_algorithm = conv_algorithm
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    # --- what subclasses provide ---------------------------------------------

    @abstractmethod
    def _encode_y(self, y):
        """Set the target attributes (``classes_``, ...) and return encoded ``y``."""

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

    def _build_network(self, input_shape, specs, sources):
        resolved, sources = resolve_specs(specs, sources, input_shape, self._n_outputs())
        return resolved, make_network(resolved, input_shape, self.conv_algorithm, sources)

    def _get_network(self):
        """The network of a fitted estimator, rebuilt after unpickling."""
        check_is_fitted(self)
        network = self.__dict__.get("_network")
        if network is None:
            network = make_network(self.layers_, self.input_shape_, self.conv_algorithm)
            weighted = [layer for layer in network.layers if layer.params]
            for layer, weights, bias in zip(weighted, self.coefs_, self.intercepts_):
                layer.weights, layer.bias = weights, bias
            self._network = network
        return network

    @property
    def network_(self):
        """The fitted :class:`~skcnn._network.Network`; ``print`` it for a diagram."""
        return self._get_network()

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_network", None)  # rebuilt on demand from layers_ and coefs_
        return state

    # --- training ------------------------------------------------------------

    def _fit(self, X, y):
        specs, sources = self._check_architecture()
        dtype = np.dtype(self.dtype)
        X, y, input_shape = validate_fit_X_y(self, X, y, dtype=dtype)
        y = self._encode_y(y)
        resolved, network = self._build_network(input_shape, specs, sources)
        batch_size = self._batch_size(len(X))

        rng = check_random_state(self.random_state)
        network.initialize(rng, dtype, self.init)
        self._train(network, X, y, batch_size, rng)

        self.input_shape_ = input_shape
        self.layers_ = [tuple(spec) for spec in resolved]
        weighted = [layer for layer in network.layers if layer.params]
        self.coefs_ = [layer.weights for layer in weighted]
        self.intercepts_ = [layer.bias for layer in weighted]
        self._network = network
        return self

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(32, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the {n_samples} samples; "
                f"training uses batches of {n_samples}.",
                UserWarning,
                stacklevel=2,
            )
        return min(self.batch_size, n_samples)

    def _make_optimizer(self, params):
        if self.solver == "adam":
            return Adam(params, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon)
        return SGD(params, self.learning_rate_init, self.momentum, self.nesterovs_momentum)

    def _train(self, network, X, y, batch_size, rng):
        """Minibatch training, stopped when the loss stops improving by ``tol``."""
        params = network.params
        is_weight = [p.ndim > 1 for p in params]  # L2 penalizes weights, not biases
        optimizer = self._make_optimizer(params)
        loss_layer = self._make_loss()
        n_samples = len(X)
        self.loss_curve_, self.n_iter_, self.best_loss_ = [], 0, np.inf
        no_improvement = 0

        for epoch in range(self.max_iter):
            start = time.perf_counter()
            order = rng.permutation(n_samples) if self.shuffle else np.arange(n_samples)
            total_loss = 0.0
            for batch in gen_batches(n_samples, batch_size):
                index = order[batch]
                scores = network.forward(X[index], training=True)
                loss = float(loss_layer.forward(scores, y[index]))
                network.backward(loss_layer.backward())
                grads = network.grads
                if self.alpha:
                    # L = loss + alpha/2 * sum ||W||^2 / m ;  dL/dW += alpha W / m
                    scale = self.alpha / len(index)
                    for param, grad, weight in zip(params, grads, is_weight):
                        if weight:
                            loss += 0.5 * scale * float(np.vdot(param, param))
                            grad += scale * param
                if not np.isfinite(loss):
                    raise ValueError(
                        f"Training diverged in epoch {epoch + 1}: the loss is no longer "
                        f"finite. Use a smaller learning_rate_init (now "
                        f"{self.learning_rate_init}) or scale the inputs, for example "
                        f"with StandardScaler."
                    )
                optimizer.update(params, grads)
                total_loss += loss * len(index)

            epoch_loss = total_loss / n_samples
            self.loss_curve_.append(epoch_loss)
            self.n_iter_ += 1
            if self.verbose:
                print(
                    f"Epoch {self.n_iter_}/{self.max_iter}: loss {epoch_loss:.5f}, "
                    f"{time.perf_counter() - start:.2f} s"
                )
            if epoch_loss > self.best_loss_ - self.tol:
                no_improvement += 1
            else:
                no_improvement = 0
            self.best_loss_ = min(self.best_loss_, epoch_loss)
            if no_improvement >= self.n_iter_no_change:
                if self.verbose:
                    print(
                        f"Training loss did not improve more than tol={self.tol} for "
                        f"{self.n_iter_no_change} consecutive epochs. Stopping."
                    )
                return
        warnings.warn(
            f"Stochastic optimizer: maximum iterations ({self.max_iter}) reached and the "
            f"optimization hasn't converged yet.",
            ConvergenceWarning,
            stacklevel=2,
        )

    # --- prediction ----------------------------------------------------------

    def _scores(self, X):
        """Output-layer scores of ``X``, in bounded memory."""
        network = self._get_network()
        X = validate_predict_X(self, X, dtype=np.dtype(self.coefs_[0].dtype))
        return network.predict(X)
