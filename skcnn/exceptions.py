"""Warnings of skcnn."""

from sklearn.exceptions import ConvergenceWarning


class InconsistentVersionWarning(UserWarning):
    """A model saved by one skcnn version is loaded by another.

    Raised when unpickling (``pickle``, ``joblib``, ``skops.io``) an skcnn
    estimator whose saved skcnn version differs from the running one. The
    counterpart of :class:`sklearn.exceptions.InconsistentVersionWarning`,
    which scikit-learn raises only for its own estimators. Turn it into an
    error with ``warnings.simplefilter("error", InconsistentVersionWarning)``.

    Parameters
    ----------
    estimator_name : str
        Class name of the loaded estimator.
    current_skcnn_version : str
        The skcnn version loading the model.
    original_skcnn_version : str
        The skcnn version that saved it, ``"unknown"`` for a model saved
        before skcnn recorded its version.
    """

    def __init__(self, *, estimator_name, current_skcnn_version, original_skcnn_version):
        self.estimator_name = estimator_name
        self.current_skcnn_version = current_skcnn_version
        self.original_skcnn_version = original_skcnn_version
        super().__init__(str(self))

    def __str__(self):
        return (
            f"Loading {self.estimator_name} saved with skcnn version "
            f"{self.original_skcnn_version} into skcnn version "
            f"{self.current_skcnn_version}. The fitted state may not mean the same in "
            f"this version: check its predictions, or refit the model with skcnn "
            f"{self.current_skcnn_version} and save it again."
        )


class DivergenceWarning(ConvergenceWarning):
    """Training went astray without an overflow: the model learned nothing, or worse.

    Raised at the end of ``fit`` when an epoch's loss rose far above the
    loss of the first batch, or when the model ends no better than chance on
    its own training data (a classifier no more accurate than its most
    common class, a regressor with an R^2 of 0 or less). A subclass of
    scikit-learn's :class:`~sklearn.exceptions.ConvergenceWarning`, so that
    filters of that warning apply to it too.
    """


class InputScaleWarning(UserWarning):
    """``X`` looks far from unit scale: raw 0-255 pixels, or values of tens and more.

    Networks train poorly on such inputs (large first losses, lower
    accuracy); dividing by 255 or a :class:`~sklearn.preprocessing.MinMaxScaler`
    or :class:`~sklearn.preprocessing.StandardScaler` before the network
    helps.
    """


class InputLayoutWarning(UserWarning):
    """``X`` is likely read in another layout than it holds.

    Raised by ``fit`` under ``input_layout="auto"`` where a 3-D ``X`` has
    one small axis beside a long one (``(600, 128, 3)``: series with 3
    channels rather than 128x3 images?) or a 4-D ``X`` has a second axis
    that looks like channels (``(n, 3, 32, 32)``, channels first). The
    message names the ``input_layout`` that reads ``X`` as it seems meant;
    stating a layout (``"nhwc"`` for the reading of ``"auto"``) silences it.
    """
