"""Documentation shared by the estimators, composed into their docstrings."""

import textwrap

from ._version import __version__

#: Where the documentation of each release is published. In a notebook, the
#: HTML repr of an estimator links its "?" icon to the estimator's page of the
#: API reference, and every parameter and fitted attribute to its entry there
#: (scikit-learn's ``_doc_link_template``); the page of a class is
#: ``api/skcnn.<Class>.html`` in the built documentation.
DOCUMENTATION_URL = "https://skcnn.readthedocs.io/en/{version}/"


def doc_link_template(version=__version__):
    """The template of the API page links: ``stable`` for releases, ``latest`` otherwise."""
    released = version.replace(".", "").isdigit()
    url = DOCUMENTATION_URL.format(version="stable" if released else "latest")
    return url + "api/{estimator_module}.{estimator_name}.html"


# The HTML repr finds a parameter's entry by the first "<name> : " of the
# docstring: every entry is "name : type" on a line of its own, and no name
# ends a name placed before it (init comes before learning_rate_init).
PARAMETERS = """\
    input_shape : None, int or tuple of int, default=None
        Shape of one sample when ``X`` is 2-D (flattened): ``(length,)`` for a
        signal, ``(height, width)`` or ``(height, width, channels)`` for an
        image. ``None`` reads a 2-D ``X`` as 1-D signals; 3-D ``X`` is
        ``(n_samples, height, width)`` and 4-D ``X`` is ``(n_samples,
        height, width, channels)``. An image of height 1 is a signal.
        Under another ``input_layout``, the shape of one flattened sample
        in that layout's order.

    input_layout : {"auto", "nhwc", "nchw", "nlc", "ncl"}, default="auto"
        How ``X`` holds its samples. ``"nhwc"``: images ``(n_samples,
        height, width, channels)``; ``"nchw"``: images with the channels
        first, as PyTorch holds them; ``"nlc"``: series ``(n_samples,
        length, channels)``, as tslearn and Keras hold them; ``"ncl"``:
        series ``(n_cases, n_channels, n_timepoints)``, as aeon and sktime
        hold them. Series may be of unequal length: padded with NaN after
        their end, or a list of arrays of different lengths; the padding is
        ignored (the network must end its convolutions in global pooling).
        ``"auto"`` reads ``X`` as images, as ``input_shape`` says, and warns
        (:class:`~skcnn.exceptions.InputLayoutWarning`) where ``X`` looks
        like series or channels-first images. See :doc:`/input`.

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

    batch_norm : bool, default=False
        Put a batch normalization before every ReLU of the blocks: each
        channel is standardized over the batch, then scaled and shifted by
        learned values (running averages of the batch statistics serve
        prediction). Often trains faster and at larger learning rates.

    residual_blocks : int, default=0
        ``0`` gives plain convolution blocks. ``n >= 1`` makes every entry of
        ``filters`` a stage of ``n`` residual blocks, each ``conv -> [batch
        norm] -> relu -> conv -> [batch norm]`` added to its input, then
        ``relu``, before the stage's max pooling: a ResNet. Where a block
        changes the channels, a learned 1x1 convolution (with batch
        normalization where the block has it) carries the input over.

    global_pool : {None, "avg", "max"}, default=None
        Pool the last block's feature maps to one number per channel (their
        mean, or their maximum) before the dense layers, as ResNets and the
        fully convolutional networks for series do; ``None`` flattens them.

    layers : None or tuple of layer specs, default=None
        The hidden layers in any order, instead of the block arguments
        above, which must then stay at their defaults. Each spec is a tuple
        or a string: ``("conv", filters, kernel[, stride[, padding[,
        dilation]]])`` or ``"conv:32:3"``, ``("maxpool", size[, stride[,
        padding]])`` or ``"maxpool:2"``, ``("dense", units)`` or
        ``"dense:64"``, ``"relu"``, ``"dropout:0.5"``; blocks of specs:
        ``("residual", (spec, ...))`` adds a body's output to its input,
        ``("parallel", (spec, ...), (spec, ...))`` puts branches side by
        side. Sizes are ints or pairs (``"3x5"`` in strings); arguments may
        be named (``"conv:8:3:dilation=2"``). The output layer is always
        added. The kinds of skcnn's own (those of
        :func:`skcnn.layers.register` join them):
{kinds}.

    feature_layer : None, str or int, default=None
        The layer whose output :meth:`transform` gives: ``None`` for the
        last hidden layer (what the output layer votes with), a name such as
        ``"maxpool2"`` or ``"dense1"`` (the kind of the layer and its count
        among the layers of that kind, as ``print(network_)`` shows them), or
        a position in ``layers_`` (``-1`` is the output layer's scores).

    init : {"he", "glorot"}, default="he"
        Uniform initialization of the weights, scaled for ReLU (He) or by
        fan-in and fan-out (Glorot). Biases start at zero.

    solver : {"adam", "sgd"}, default="adam"
        ``"sgd"`` is stochastic gradient descent with momentum.

    learning_rate : {"constant", "invscaling", "adaptive", "cosine"}, default="constant"
        Schedule of the step size, for both solvers (``MLPClassifier``
        applies it to ``"sgd"`` only). ``"invscaling"`` divides
        ``learning_rate_init`` by ``t ** power_t`` after every epoch, ``t``
        the samples seen; ``"adaptive"`` divides the step by 5 each time
        ``n_iter_no_change + 1`` epochs pass without improvement, and stops
        when it falls below 1e-6; ``"cosine"`` lowers the step after every
        epoch along half a cosine, from ``learning_rate_init`` towards 0 at
        epoch ``max_iter`` (then starts over, for ``warm_start`` and
        ``partial_fit``): large steps first, fine ones to finish.

    learning_rate_init : float, default=0.001
        Step size of the optimizer. Too large a step makes training diverge:
        once the loss or a weight is no longer finite, ``fit`` raises a
        ``ValueError`` saying so. A first fit then leaves the estimator
        unfitted; a ``warm_start`` fit or a ``partial_fit`` leaves the model as
        it was before the call.

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

    beta_1 : float, default=0.9
        Decay rate of Adam's first moment estimates (the mean of the
        gradients).

    beta_2 : float, default=0.999
        Decay rate of Adam's second moment estimates (the mean of the
        squared gradients).

    epsilon : float, default=1e-8
        Adam's term for numerical stability.

    shuffle : bool, default=True
        Whether to shuffle the samples in every epoch.

    augment_shift : int, default=0
        Train-time augmentation: every sample of every batch moves by a
        random offset of up to this many pixels along each axis (along the
        length of signals), its border repeating the edge pixels. A fresh
        draw each epoch, so the network learns features that do not depend
        on the exact position. Prediction sees the samples as they are.

    augment_flip : bool, default=False
        Train-time augmentation: mirror a random half of every batch
        left-right (reverse signals in time). Use it only where a mirrored
        sample keeps its label.

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

    checkpoint : None, str or path-like, default=None
        A file where ``fit`` writes where it stands at the end of every epoch
        (and every ``checkpoint_every`` batches), atomically: a crash while
        writing leaves the previous checkpoint whole. A ``fit`` that finds
        the file, written by the same arguments for the same data, resumes
        from it with the same schedule and random streams, so a fit killed
        by the machine and run again gives the model it would have given;
        when ``fit`` ends, the file is removed. A file written with other
        arguments or data is an error: give every fit a file of its own.

    checkpoint_every : None or int, default=None
        Batches between checkpoints inside an epoch; ``None`` writes one at
        the end of every epoch only.

    conv_algorithm : {"auto", "im2col", "fft", "winograd2x2", "winograd4x4", "scipy"}, \
default="auto"
        How convolutions are computed: ``"im2col"`` as one matrix product
        (BLAS), ``"fft"`` by multiplying spectra (fast for large kernels),
        ``"winograd2x2"`` and ``"winograd4x4"`` by Winograd's F(2x2, 3x3) and
        F(4x4, 3x3) on the compiled accelerator (3x3 kernels with stride 1,
        im2col for the other layers; they need numba: ``pip install
        "skcnn[numba]"``), ``"scipy"`` with :func:`scipy.signal.correlate`
        (the slow reference). All agree to rounding (float32:
        ``"winograd4x4"`` to about 1e-5 relative, the others to 1e-6);
        ``"auto"`` picks per layer from a cost model of its shape, the same
        choice every run, Winograd only where numba is installed.

    dtype : {"float32", "float64"}, default="float32"
        Floating-point type of the weights and computations.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialization and shuffling. An int gives the same
        model, run after run.

    verbose : int or bool, default=False
        What ``fit`` and ``partial_fit`` print: ``0`` (``False``) nothing;
        ``1`` (``True``) the loss and time of every epoch, and why training
        stops or the learning rate drops; ``2`` also a progress line inside
        every epoch (batches done, images per second, time left), redrawn in
        place at most four times a second and ended with a newline when the
        epoch ends. Epochs shorter than a quarter of a second show no
        progress line.

"""

ATTRIBUTES = """\
    n_features_in_ : int
        Features of one flattened sample (``height * width * channels``).

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` was a DataFrame.

    input_shape_ : tuple of int
        Shape ``(height, width, channels)`` of one sample.

    layers_ : list of tuple
        The fitted architecture, every layer as a plain tuple, output included.

    parameters_ : dict of str to ndarray
        Every learned array by ``"<layer>.<name>"``, layer names as
        ``print(network_)`` shows them: ``"conv1.weights"``, ``"conv1.bias"``,
        ``"residual1.conv2.weights"``, ``"residual1.shortcut.conv1.weights"``.
        The arrays are those the network trains.

    buffers_ : dict of str to ndarray
        What training updates without gradients, named the same way: the
        running averages of batch normalization (``"batchnorm1.running_mean"``,
        ``"batchnorm1.running_var"``).

    coefs_ : list of ndarray
        The ``weights`` of ``parameters_``, in order (as ``MLPClassifier``
        gives them): those of every convolution, dense and batch
        normalization layer, in order: shape ``(kernel_height, kernel_width, in_channels,
        filters)`` for convolutions, ``(n_inputs, units)`` for dense layers,
        ``(channels,)`` (the scale) for batch normalization.

    intercepts_ : list of ndarray
        The ``bias`` of ``parameters_``, matching ``coefs_`` (the shift, for
        batch normalization).

    running_stats_ : list of tuple of ndarray
        ``(mean, variance)`` running averages of every batch normalization
        layer, in order; what prediction standardizes with.

    n_iter_ : int
        Epochs run.

    t_ : int
        Training samples seen, over all epochs.

    loss_curve_ : list of float
        Mean training loss of every epoch.

    best_loss_ : float
        Lowest epoch loss.

    validation_scores_ : list of float or None
        ``score`` (accuracy, or R^2 for regressors) of the held-out samples
        after every epoch, with ``early_stopping``; otherwise ``None``.

    validation_loss_curve_ : list of float or None
        Mean loss on the held-out samples after every epoch, with
        ``early_stopping``; otherwise ``None``.

    best_validation_score_ : float or None
        Best of ``validation_scores_``, whose weights the model keeps.

    network_ : Network
        The engine's network (printing it draws the layers and shapes).

"""


def _kinds():
    """Every layer kind of skcnn's own, as the docs list them, wrapped to the docstring."""
    from ._engine.specs import is_builtin, registered_kinds

    words = ", ".join(f"``{kind}``" for kind in registered_kinds() if is_builtin(kind))
    return textwrap.fill(words, width=76, initial_indent=" " * 8, subsequent_indent=" " * 8)


def compose(intro, extra_parameters, extra_attributes, rest):
    """An estimator's docstring: its own parts around the shared ones."""
    return (
        intro
        + "    Parameters\n    ----------\n"
        + PARAMETERS.replace("{kinds}", _kinds())
        + extra_parameters
        + "    Attributes\n    ----------\n"
        + extra_attributes
        + ATTRIBUTES
        + rest
    )
