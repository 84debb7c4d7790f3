"""Architectures of the papers, as ``layers`` values: time series classification.

Each function returns the hidden layers of a published network as a tuple
of layer specs, plain values that ``layers=`` takes, ``clone`` copies and
``GridSearchCV`` searches: ``{"layers": [fcn(), resnet()]}``. The output
layer (a dense layer of one unit per class, with softmax for
:class:`~skcnn.CNNClassifier`) is added by the estimator, as always.

The networks read series: give them ``input_layout="ncl"`` (aeon's and
sktime's ``(n_cases, n_channels, n_timepoints)``) or ``"nlc"`` (tslearn's
``(n, length, channels)``), or a 2-D ``X`` of univariate series. Integer
kernel and pooling sizes run along the series.

The papers:

- Z. Wang, W. Yan and T. Oates, "Time series classification from scratch
  with deep neural networks: a strong baseline", IJCNN 2017.
- B. Zhao, H. Lu, S. Chen, J. Liu and D. Wu, "Convolutional neural networks
  for time series classification", Journal of Systems Engineering and
  Electronics 28(1), 2017.

How they do on the archives, beside the accuracies the papers and Ismail
Fawaz et al. ("Deep learning for time series classification: a review",
Data Mining and Knowledge Discovery 33, 2019) published: :doc:`/series`.
"""

from numbers import Integral

__all__ = ["fcn", "resnet", "time_cnn"]


def _ints(value, name, n=None):
    """``value`` as a tuple of ints >= 1 (one int for all ``n`` entries)."""
    if isinstance(value, Integral) and not isinstance(value, bool) and n is not None:
        value = (value,) * n
    if (
        not isinstance(value, (tuple, list))
        or not value
        or not all(isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in value)
    ):
        raise ValueError(f"{name} must be a non-empty tuple of ints >= 1; got {value!r}.")
    value = tuple(int(v) for v in value)
    if n is not None and len(value) != n:
        raise ValueError(
            f"{name} has {len(value)} entries but filters has {n}; give one per layer."
        )
    return value


def fcn(filters=(128, 256, 128), kernel_size=(8, 5, 3)):
    """The fully convolutional network (FCN) of Wang et al. (2017).

    Three convolutions, each followed by batch normalization and ReLU, and
    a global average pooling: ``conv128:8, bn, relu, conv256:5, bn, relu,
    conv128:3, bn, relu, gap``, then the estimator's softmax output. All
    convolutions pad to keep the length (``"same"``), so the network takes
    series of any length, and of unequal lengths (the pooling ignores the
    padding).

    Parameters
    ----------
    filters : tuple of int, default=(128, 256, 128)
        Filters of every convolution; one block per entry.
    kernel_size : int or tuple of int, default=(8, 5, 3)
        Kernel length of every convolution (one int for all).

    Returns
    -------
    layers : tuple
        Layer specs for ``layers=``.

    Examples
    --------
    >>> from skcnn.architectures import fcn
    >>> fcn()
    ('conv:128:8', 'bn', 'relu', 'conv:256:5', 'bn', 'relu', 'conv:128:3', 'bn', 'relu', 'gap')
    >>> fcn(filters=(16, 32, 16))[:3]
    ('conv:16:8', 'bn', 'relu')
    """
    filters = _ints(filters, "filters")
    kernels = _ints(kernel_size, "kernel_size", len(filters))
    layers = []
    for n_filters, kernel in zip(filters, kernels):
        layers += [f"conv:{n_filters}:{kernel}", "bn", "relu"]
    return (*layers, "gap")


def resnet(filters=(64, 128, 128), kernel_size=(8, 5, 3)):
    """The residual network (ResNet) of Wang et al. (2017).

    Three residual blocks, each of three convolutions of kernel lengths 8,
    5 and 3 with batch normalization (ReLU between them), added to the
    block's input and followed by ReLU, then a global average pooling.
    Where a block changes the channels (1 to 64, 64 to 128), a 1x1
    convolution and a batch normalization carry the input over; the last
    block (128 to 128) adds its input as it is, where the paper's code
    normalizes it first.

    Parameters
    ----------
    filters : tuple of int, default=(64, 128, 128)
        Filters of the convolutions of every block; one block per entry.
    kernel_size : tuple of int, default=(8, 5, 3)
        Kernel lengths of the convolutions of every block, one
        convolution per entry.

    Returns
    -------
    layers : tuple
        Layer specs for ``layers=``.

    Examples
    --------
    >>> from skcnn.architectures import resnet
    >>> resnet(filters=(8,))  # doctest: +NORMALIZE_WHITESPACE
    (('residual', ('conv:8:8', 'bn', 'relu', 'conv:8:5', 'bn', 'relu', 'conv:8:3', 'bn')),
     'relu', 'gap')
    """
    filters = _ints(filters, "filters")
    kernels = _ints(kernel_size, "kernel_size")
    layers = []
    for n_filters in filters:
        body = []
        for kernel in kernels:
            body += [f"conv:{n_filters}:{kernel}", "bn", "relu"]
        layers += [("residual", tuple(body[:-1])), "relu"]  # ReLU after the addition
    return (*layers, "gap")


def time_cnn(filters=(6, 12), kernel_size=7, pool_size=3, padding="valid"):
    """The time CNN of Zhao et al. (2017), as aeon's ``TimeCNNClassifier`` builds it.

    Two convolutions of kernel length 7, each followed by a sigmoid and an
    average pooling of 3 (stride 3), then the features flattened: ``conv6:7,
    sigmoid, avgpool3, conv12:7, sigmoid, avgpool3, flatten``. The paper
    (and aeon) end in a dense layer with sigmoid outputs trained on the mean
    squared error; skcnn's classifier ends in softmax and cross-entropy.
    The network flattens the maps, so it takes series of one length only.

    Parameters
    ----------
    filters : tuple of int, default=(6, 12)
        Filters of every convolution; one block per entry.
    kernel_size : int or tuple of int, default=7
        Kernel length of every convolution (one int for all).
    pool_size : int or tuple of int, default=3
        Window (and stride) of every average pooling.
    padding : {"valid", "same"}, default="valid"
        Of the convolutions and poolings. aeon uses ``"valid"``, and
        ``"same"`` for series shorter than 60.

    Returns
    -------
    layers : tuple
        Layer specs for ``layers=``.

    Examples
    --------
    >>> from skcnn.architectures import time_cnn
    >>> time_cnn()  # doctest: +NORMALIZE_WHITESPACE
    ('conv:6:7:1:valid', 'sigmoid', 'avgpool:3:3:valid', 'conv:12:7:1:valid', 'sigmoid',
     'avgpool:3:3:valid', 'flatten')
    """
    filters = _ints(filters, "filters")
    kernels = _ints(kernel_size, "kernel_size", len(filters))
    pools = _ints(pool_size, "pool_size", len(filters))
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same'; got {padding!r}.")
    layers = []
    for n_filters, kernel, pool in zip(filters, kernels, pools):
        layers += [
            f"conv:{n_filters}:{kernel}:1:{padding}",
            "sigmoid",
            f"avgpool:{pool}:{pool}:{padding}",
        ]
    return (*layers, "flatten")
