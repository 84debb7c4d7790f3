"""CNNClassifier: a convolutional neural network for scikit-learn."""

import warnings
from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.exceptions import DataConversionWarning
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from ._base import BaseCNN
from ._docs import compose
from ._engine.losses import SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy, log_softmax


class CNNClassifier(ClassifierMixin, BaseCNN):
    """Convolutional neural network classifier (full docstring composed below)."""

    _parameter_constraints: dict = {
        **BaseCNN._parameter_constraints,
        "class_weight": [None, dict, StrOptions({"balanced"})],
    }

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
        class_weight=None,
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
        self.class_weight = class_weight

    _y_validation = {"multi_output": True}  # 2-D y: multilabel, or one column
    _multilabel = False  # set by fit (models of earlier versions have none)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _encode_y(self, y, classes=None, reset=True):
        y = _labels_of_one_type(y)
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please change "
                "the shape of y to (n_samples,), for example using ravel().",
                DataConversionWarning,
                stacklevel=4,
            )
            y = y.ravel()
        check_classification_targets(y)
        if y.ndim == 2:
            return self._encode_multilabel(y, classes, reset)
        if not reset and self._multilabel:
            raise ValueError(
                f"y is 1-D, but {type(self).__name__} was fitted on multilabel y (0/1 "
                f"indicators of {len(self.classes_)} labels); give y of that shape."
            )
        if reset:
            self._multilabel = False
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

    def _encode_multilabel(self, y, classes, reset):
        """0/1 indicators of several labels per sample, as floats for the loss."""
        if type_of_target(y) != "multilabel-indicator" or not np.isin(y, (0, 1)).all():
            raise ValueError(
                f"y is 2-D of shape {y.shape} but not 0/1 indicators: {type(self).__name__} "
                f"takes one class label per sample (1-D y), or multilabel y, a 0 or 1 for "
                f"every label of every sample."
            )
        n_labels = y.shape[1]
        if reset:
            if classes is not None and not np.array_equal(np.asarray(classes), np.arange(n_labels)):
                raise ValueError(
                    f"classes must be None or the label indices 0..{n_labels - 1} for "
                    f"multilabel y of {n_labels} columns; got {classes!r}."
                )
            if self.class_weight is not None:
                raise ValueError(
                    "class_weight is not supported for multilabel y; weight the samples "
                    "with sample_weight instead."
                )
            self.classes_ = np.arange(n_labels)
            self._multilabel = True
        elif not self._multilabel or n_labels != len(self.classes_):
            was = f"{len(self.classes_)} labels" if self._multilabel else "1-D class labels"
            raise ValueError(
                f"y is multilabel with {n_labels} labels, but {type(self).__name__} was "
                f"fitted on {was}; partial_fit and warm_start train on the targets of the "
                f"first call."
            )
        return np.asarray(y, dtype=self.dtype)

    def _decode_y(self, y):
        return y.astype(int) if self._multilabel else self.classes_[y]

    def _sample_weight(self, X, y, sample_weight, dtype):
        sample_weight = super()._sample_weight(X, y, sample_weight, dtype)
        if self.class_weight is None:
            return sample_weight
        weights = compute_class_weight(
            self.class_weight, classes=self.classes_, y=self.classes_[y]
        )[y].astype(dtype)
        return weights if sample_weight is None else weights * sample_weight

    def _score_from_scores(self, scores, y, sample_weight):
        if self._multilabel:  # the share of samples with every label right
            right = np.all((scores > 0) == (y > 0.5), axis=1)
        else:
            right = scores.argmax(axis=1) == y
        return float(np.average(right, weights=sample_weight))

    def _chance_report(self, scores, y, sample_weight):
        accuracy = self._score_from_scores(scores, y, sample_weight)
        if self._multilabel:  # classes: the sets of labels seen together
            _, y = np.unique(y, axis=0, return_inverse=True)
        counts = np.bincount(y.ravel(), weights=sample_weight)
        majority = counts.max() / counts.sum()
        if accuracy > majority:
            return None
        return (
            f"it ends no better than chance on its training data (accuracy {accuracy:.3f}; "
            f"the most common class alone gives {majority:.3f})"
        )

    def _n_outputs(self):
        return len(self.classes_)

    def _make_loss(self):
        return SigmoidBinaryCrossEntropy() if self._multilabel else SoftmaxCrossEntropy()

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
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
        self : CNNClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, validation_data=(X_val, y_val, sample_weight_val))

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
        if first_call and classes is None and np.ndim(y) != 2:  # multilabel: y's columns
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
        scores = self._forward(X).astype(np.float64)
        if self._multilabel:  # log sigmoid, finite for any score
            return -np.logaddexp(0, -scores)
        return log_softmax(scores)

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
        scores = self._forward(X)  # checks first that the model is fitted
        if self._multilabel:
            return (scores > 0).astype(int)
        return self.classes_[np.argmax(scores, axis=1)]


def _labels_of_one_type(y):
    """An object ``y`` of one kind of label as a plain array; mixed kinds refused.

    scikit-learn reads object arrays of numbers as an "unknown" target type;
    ``np.array([1, 2], dtype=object)`` (as pandas gives) becomes ints here.
    """
    if y.dtype != object:
        return y
    kinds = {"str" if isinstance(v, str) else type(v).__name__ for v in y.ravel()}
    if "NoneType" in kinds:
        raise ValueError("y has missing labels (None); every sample needs a label.")
    if len(kinds) > 1 and not all(isinstance(v, Real) for v in y.ravel()):
        raise ValueError(
            f"y mixes labels of the types {sorted(kinds)}; use labels of one type, for "
            f"example y.astype(str)."
        )
    return y if isinstance(y.flat[0], str) else np.asarray(y.tolist())


CNNClassifier.__doc__ = compose(
    intro="""Convolutional neural network classifier.

    Convolution layers try every learned feature (filter) in every position
    of the input, ReLU keeps the positive matches, max pooling shrinks the
    maps, and fully connected layers vote for the classes through a softmax.
    Trained by backpropagation with minibatch Adam or SGD on the
    cross-entropy loss, on a NumPy/SciPy engine.

""",
    extra_parameters="""\
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss: ``{label: weight}``, or
        ``"balanced"`` for ``n_samples / (n_classes * count)``. Multiplies
        ``sample_weight``.

""",
    extra_attributes="""\
    classes_ : ndarray of shape (n_classes,)
        Class labels.

""",
    rest="""\
    See Also
    --------
    CNNRegressor : The same network for regression.
    sklearn.neural_network.MLPClassifier : Fully connected network.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from skcnn import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = CNNClassifier(input_shape=(8, 8), max_iter=10, random_state=0)
    >>> clf.fit(X_train, y_train).score(X_test, y_test) > 0.95
    True
    >>> clf.predict_proba(X_test[:1]).shape
    (1, 10)
""",
)
