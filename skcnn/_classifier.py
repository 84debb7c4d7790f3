"""CNNClassifier: a convolutional neural network for scikit-learn."""

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets

from ._base import BaseCNN
from ._layers import SoftmaxCrossEntropy, log_softmax


class CNNClassifier(ClassifierMixin, BaseCNN):
    """Convolutional neural network classifier.

    Convolution layers try every learned feature (filter) in every position
    of the input, ReLU keeps the positive matches, max pooling shrinks the
    maps, and fully connected layers vote for the classes through a softmax.
    Trained by backpropagation with minibatch Adam or SGD on the
    cross-entropy loss, on a NumPy/SciPy engine.

    Parameters
    ----------
    input_shape : None, int or tuple of int, default=None
        Shape of one sample when ``X`` is 2-D (flattened): ``(length,)`` for a
        signal, ``(height, width)`` or ``(height, width, channels)`` for an
        image. ``None`` reads a 2-D ``X`` as 1-D signals; 3-D ``X`` is
        ``(n_samples, height, width)`` and 4-D ``X`` is ``(n_samples,
        height, width, channels)``. An image of height 1 is a signal.

    filters : int or tuple of int, default=(32, 64)
        Filters of each convolution block ``conv -> relu -> maxpool``; one
        block per entry. ``()`` gives no convolution layer.

    kernel_size : int, (height, width) or tuple of them, default=3
        Pixels per filter: one int for every block, or one entry per block
        (a ``(height, width)`` pair for one block is written ``((3, 5),)``).
        An int is square on images and runs along the length of signals.

    pool_size : int or tuple, default=2
        Max-pooling window of each block, given like ``kernel_size``. A
        window of 1 with stride 1 leaves the block without pooling.

    pool_stride : None, int or tuple, default=None
        Step between pooling windows, given like ``kernel_size``; ``None``
        uses the window size (non-overlapping windows).

    padding : {"same", "valid"}, default="same"
        ``"same"`` pads so that a layer with stride ``s`` has ``ceil(size /
        s)`` positions (zeros for convolution, ``-inf`` for pooling), so any
        input size fits; ``"valid"`` uses only positions fully inside the
        input.

    hidden_layer_sizes : int or tuple of int, default=(128,)
        Neurons of each fully connected ``dense -> relu`` layer between the
        convolution blocks and the output layer.

    dropout : float, default=0.0
        Dropout rate after every hidden dense layer: while training, each of
        its outputs is zeroed with this probability (and the rest scaled up).

    layers : None or tuple of layer specs, default=None
        The hidden layers in any order, instead of the block arguments
        above, which must then stay at their defaults. Each spec is a tuple
        or a string: ``("conv", filters, kernel[, stride[, padding]])`` or
        ``"conv:32:3"``, ``("maxpool", size[, stride[, padding]])`` or
        ``"maxpool:2"``, ``"avgpool:2"``, ``"globalavgpool"``, ``"relu"``,
        ``"dropout:0.5"``, ``("dense", units)`` or ``"dense:64"``.
        Sizes are ints or pairs (``"3x5"`` in strings). The output layer is
        always added.

    solver : {"adam", "sgd"}, default="adam"
        ``"sgd"`` is stochastic gradient descent with momentum.

    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Schedule of the step size, for both solvers (``MLPClassifier``
        applies it to ``"sgd"`` only). ``"invscaling"`` divides
        ``learning_rate_init`` by ``t ** power_t`` after every epoch, ``t``
        the samples seen; ``"adaptive"`` divides the step by 5 each time
        ``n_iter_no_change + 1`` epochs pass without improvement, and stops
        when it falls below 1e-6.

    learning_rate_init : float, default=0.001
        Step size of the optimizer.

    power_t : float, default=0.5
        Exponent of ``learning_rate="invscaling"``.

    batch_size : int or "auto", default="auto"
        Samples per minibatch; ``"auto"`` is ``min(32, n_samples)``, the usual
        size for CNNs (``MLPClassifier`` uses 200). Smaller batches take more
        steps per epoch and generalize better; larger ones run faster.

    max_iter : int, default=200
        Maximum number of epochs (passes over the training data).

    alpha : float, default=0.0001
        Strength of the L2 penalty on the weights (not the biases).

    momentum : float, default=0.9
        Momentum of ``solver="sgd"``.

    nesterovs_momentum : bool, default=True
        Whether ``solver="sgd"`` uses Nesterov's momentum.

    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of Adam's first and second moment estimates.

    epsilon : float, default=1e-8
        Adam's term for numerical stability.

    shuffle : bool, default=True
        Whether to shuffle the samples in every epoch.

    tol : float, default=1e-4
        Training stops when the epoch loss has not improved by at least
        ``tol`` for ``n_iter_no_change`` consecutive epochs.

    n_iter_no_change : int, default=10
        Training stops after more than ``n_iter_no_change`` epochs without
        improvement (as in ``MLPClassifier``).

    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the data, score it
        after every epoch, stop when the score stops improving by ``tol``, and
        keep the weights of the best score.

    validation_fraction : float, default=0.1
        Share of the data held out by ``early_stopping``.

    warm_start : bool, default=False
        Let ``fit`` go on from the fitted weights instead of starting anew.

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss: ``{label: weight}``, or
        ``"balanced"`` for ``n_samples / (n_classes * count)``. Multiplies
        ``sample_weight``.

    init : {"he", "glorot"}, default="he"
        Uniform initialization of the weights, scaled for ReLU (He) or by
        fan-in and fan-out (Glorot). Biases start at zero.

    conv_algorithm : {"auto", "im2col", "fft", "scipy"}, default="auto"
        How convolutions are computed: ``"im2col"`` as one matrix product
        (BLAS), ``"fft"`` by multiplying spectra (fast for large kernels),
        ``"scipy"`` with :func:`scipy.signal.correlate` (the slow reference).
        All agree to rounding; ``"auto"`` picks ``"im2col"`` or ``"fft"``
        per layer from a cost model of its shape, the same choice every run.

    dtype : {"float32", "float64"}, default="float32"
        Floating-point type of the weights and computations.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialization and shuffling. An int gives the same
        model, run after run.

    verbose : bool, default=False
        Print the loss and time of every epoch.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    n_features_in_ : int
        Features of one flattened sample (``height * width * channels``).

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` was a DataFrame.

    input_shape_ : tuple of int
        Shape ``(height, width, channels)`` of one sample.

    layers_ : list of tuple
        The fitted architecture, every layer as a plain tuple, output included.

    coefs_ : list of ndarray
        Weights of every convolution and dense layer, in order: shape
        ``(kernel_height, kernel_width, in_channels, filters)`` for
        convolutions, ``(n_inputs, units)`` for dense layers.

    intercepts_ : list of ndarray
        Biases matching ``coefs_``.

    n_iter_ : int
        Epochs run.

    t_ : int
        Training samples seen, over all epochs.

    loss_curve_ : list of float
        Mean training loss of every epoch.

    best_loss_ : float
        Lowest epoch loss.

    validation_scores_ : list of float or None
        Accuracy on the held-out samples after every epoch, with
        ``early_stopping``; otherwise ``None``.

    validation_loss_curve_ : list of float or None
        Mean loss on the held-out samples after every epoch, with
        ``early_stopping``; otherwise ``None``.

    best_validation_score_ : float or None
        Best of ``validation_scores_``, whose weights the model keeps.

    network_ : Network
        The engine's network (printing it draws the layers and shapes).

    See Also
    --------
    sklearn.neural_network.MLPClassifier : Fully connected network.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from skcnn import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = CNNClassifier(input_shape=(8, 8), max_iter=20, random_state=0)
    >>> clf.fit(X_train, y_train).score(X_test, y_test) > 0.95
    True
    >>> clf.predict_proba(X_test[:1]).shape
    (1, 10)
    """

    _parameter_constraints: dict = {
        **BaseCNN._parameter_constraints,
        "class_weight": [None, dict, StrOptions({"balanced"})],
    }

    def __init__(
        self,
        input_shape=None,
        filters=(32, 64),
        kernel_size=3,
        pool_size=2,
        pool_stride=None,
        padding="same",
        hidden_layer_sizes=(128,),
        dropout=0.0,
        layers=None,
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
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        warm_start=False,
        class_weight=None,
        init="he",
        conv_algorithm="auto",
        dtype="float32",
        random_state=None,
        verbose=False,
    ):
        super().__init__(
            input_shape=input_shape,
            filters=filters,
            kernel_size=kernel_size,
            pool_size=pool_size,
            pool_stride=pool_stride,
            padding=padding,
            hidden_layer_sizes=hidden_layer_sizes,
            dropout=dropout,
            layers=layers,
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
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            warm_start=warm_start,
            init=init,
            conv_algorithm=conv_algorithm,
            dtype=dtype,
            random_state=random_state,
            verbose=verbose,
        )
        self.class_weight = class_weight

    def _encode_y(self, y, classes=None, reset=True):
        check_classification_targets(y)
        if reset:
            labels = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            if len(labels) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least 2 classes; got only one class: "
                    f"{labels[0]}."
                )
            self.classes_ = labels
        if not np.isin(y, self.classes_).all():
            unknown = np.setdiff1d(y, self.classes_)
            raise ValueError(
                f"y has labels {unknown.tolist()} that are not in classes_ "
                f"{self.classes_.tolist()}; partial_fit and warm_start train on the "
                f"classes of the first call."
            )
        return np.searchsorted(self.classes_, y)

    def _sample_weight(self, X, y, sample_weight, dtype):
        sample_weight = super()._sample_weight(X, y, sample_weight, dtype)
        if self.class_weight is None:
            return sample_weight
        weights = compute_class_weight(
            self.class_weight, classes=self.classes_, y=self.classes_[y]
        )[y].astype(dtype)
        return weights if sample_weight is None else weights * sample_weight

    def _score_from_scores(self, scores, y, sample_weight):
        return float(np.average(scores.argmax(axis=1) == y, weights=sample_weight))

    def _n_outputs(self):
        return len(self.classes_)

    def _make_loss(self):
        return SoftmaxCrossEntropy()

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, height, \
width) or (n_samples, height, width, channels)
            Training samples; see ``input_shape`` for how 2-D ``X`` is read.
        y : array-like of shape (n_samples,)
            Class labels (ints, strings, ...); at least two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of every sample in the loss (and in the validation score of
            ``early_stopping``).

        Returns
        -------
        self : CNNClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over ``X`` and ``y``, from the current weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, height, \
width) or (n_samples, height, width, channels)
            Training samples, of the same shape at every call.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            Every class of the problem: required at the first call, since
            one chunk of data need not hold them all; ignored later.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of every sample in the loss.

        Returns
        -------
        self : CNNClassifier
            The updated estimator.
        """
        first_call = not hasattr(self, "classes_")
        if first_call and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict_log_proba(self, X):
        """Log of the class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, height, \
width) or (n_samples, height, width, channels)
            Samples of the shape seen in ``fit``, flattened or not.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        return log_softmax(self._scores(X).astype(np.float64))

    def predict_proba(self, X):
        """Class probabilities (the softmax of the output layer).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, height, \
width) or (n_samples, height, width, channels)
            Samples of the shape seen in ``fit``, flattened or not.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``; every row sums to 1.
        """
        return np.exp(self.predict_log_proba(X))

    def predict(self, X):
        """Most probable class of every sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, height, \
width) or (n_samples, height, width, channels)
            Samples of the shape seen in ``fit``, flattened or not.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels, taken from ``classes_``.
        """
        scores = self._scores(X)  # checks first that the model is fitted
        return self.classes_[np.argmax(scores, axis=1)]
