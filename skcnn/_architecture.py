"""From the estimator's architecture arguments to a network of layers.

Two ways to state an architecture, both plain values that ``clone`` and
``GridSearchCV`` handle:

* blocks: ``filters``, ``kernel_size``, ``pool_size``, ``pool_stride`` give
  one ``conv -> relu -> maxpool`` block per entry of ``filters``, and
  ``hidden_layer_sizes`` one ``dense -> relu`` pair per entry
  (``batch_norm=True`` puts a batch normalization before every ReLU,
  ``dropout`` a dropout after every dense ReLU);
* ``layers``: any sequence of layer specs, in any order.

A layer spec is a tuple or the same words joined by ``":"``:

==============================================  ==============================
``("conv", filters, kernel[, stride[, pad]])``  ``"conv:32:3"``, ``"conv:8:3x5:2:valid"``
``("maxpool", size[, stride[, pad]])``          ``"maxpool:2"``, ``"maxpool:3:2"``
``("avgpool", size[, stride[, pad]])``          ``"avgpool:2"``
``("globalavgpool",)``                          ``"globalavgpool"``, ``"gap"``
``("relu",)``                                   ``"relu"``
``("batchnorm",)``                              ``"batchnorm"``, ``"bn"``
``("dropout", rate)``                           ``"dropout:0.5"``
``("dense", units)``                            ``"dense:128"``
==============================================  ==============================

``"pool"`` is a synonym of ``"maxpool"``. Global average pooling gives one
number per channel, a flat output that dense layers take directly. Sizes are an int or a ``(height,
width)`` pair (``"3x5"`` in a string). An int size is square on images and
runs along the length of 1-D signals (inputs of height 1). A pooling stride
defaults to the window size; padding defaults to the estimator's ``padding``.

The network always ends with a dense layer of one unit per class (or
output), preceded by a flatten where the specs have none.
"""

from numbers import Integral, Real

import numpy as np

from ._conv import PADDING_MODES
from ._layers import (
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    MaxPool2D,
    ReLU,
)
from ._network import Network, layer_names

LAYER_ALIASES = {
    "conv": "conv",
    "maxpool": "maxpool",
    "pool": "maxpool",
    "avgpool": "avgpool",
    "globalavgpool": "globalavgpool",
    "gap": "globalavgpool",
    "relu": "relu",
    "batchnorm": "batchnorm",
    "bn": "batchnorm",
    "dropout": "dropout",
    "dense": "dense",
}

USAGE = {
    "conv": "('conv', filters, kernel_size[, stride[, padding]])",
    "maxpool": "('maxpool', pool_size[, stride[, padding]])",
    "avgpool": "('avgpool', pool_size[, stride[, padding]])",
    "globalavgpool": "('globalavgpool',)",
    "relu": "('relu',)",
    "batchnorm": "('batchnorm',)",
    "dropout": "('dropout', rate)",
    "dense": "('dense', units)",
}


def _is_int(value):
    return isinstance(value, Integral) and not isinstance(value, bool)


def _check_size(value, where, name):
    """An int >= 1 or a (height, width) pair of them; returned as given."""
    if _is_int(value) and value >= 1:
        return int(value)
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(_is_int(v) and v >= 1 for v in value)
    ):
        return (int(value[0]), int(value[1]))
    raise ValueError(
        f"{where}: {name} must be an int >= 1 or a (height, width) pair of them; got {value!r}."
    )


def _check_count(value, where, name):
    if not (_is_int(value) and value >= 1):
        raise ValueError(f"{where}: {name} must be an int >= 1; got {value!r}.")
    return int(value)


def _check_padding(value, where):
    if value not in PADDING_MODES:
        raise ValueError(f"{where}: padding must be 'valid' or 'same'; got {value!r}.")
    return value


def _parse_token(token):
    if token.isdigit():
        return int(token)
    try:
        return float(token)  # a dropout rate
    except ValueError:
        pass
    parts = token.split("x")
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return (int(parts[0]), int(parts[1]))
    return token


def parse_layer_spec(spec, where, padding):
    """Check one layer spec and return it as a tuple with defaults filled in.

    >>> parse_layer_spec("conv:8:3x5", "layers[0]", "same")
    ('conv', 8, (3, 5), 1, 'same')
    >>> parse_layer_spec(("pool", 3), "layers[1]", "valid")
    ('maxpool', 3, 3, 'valid')
    """
    if isinstance(spec, str):
        spec = tuple(_parse_token(t.strip()) for t in spec.split(":"))
    if not isinstance(spec, (tuple, list)) or not spec or not isinstance(spec[0], str):
        raise ValueError(
            f"{where} must be a layer spec such as ('conv', 32, 3), 'maxpool:2', "
            f"'relu' or 'dense:64'; got {spec!r}."
        )
    kind = LAYER_ALIASES.get(spec[0].lower())
    args = tuple(spec[1:])
    if kind is None:
        raise ValueError(
            f"{where}: unknown layer kind {spec[0]!r}; expected one of {sorted(LAYER_ALIASES)}."
        )
    n_allowed = {
        "conv": (2, 4),
        "maxpool": (1, 3),
        "avgpool": (1, 3),
        "dense": (1, 1),
        "dropout": (1, 1),
    }.get(kind, (0, 0))
    if not n_allowed[0] <= len(args) <= n_allowed[1]:
        raise ValueError(f"{where}: a {kind} layer is written {USAGE[kind]}; got {spec!r}.")
    if kind == "conv":
        filters = _check_count(args[0], where, "filters")
        kernel = _check_size(args[1], where, "kernel_size")
        stride = _check_size(args[2], where, "stride") if len(args) > 2 else 1
        pad = _check_padding(args[3], where) if len(args) > 3 else padding
        return ("conv", filters, kernel, stride, pad)
    if kind in ("maxpool", "avgpool"):
        size = _check_size(args[0], where, "pool_size")
        stride = _check_size(args[1], where, "stride") if len(args) > 1 else size
        pad = _check_padding(args[2], where) if len(args) > 2 else padding
        return (kind, size, stride, pad)
    if kind == "dense":
        return ("dense", _check_count(args[0], where, "units"))
    if kind == "dropout":
        return ("dropout", _check_rate(args[0], where))
    return (kind,)


def _check_rate(value, where):
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value < 1:
        raise ValueError(f"{where}: dropout rate must be a number in [0, 1); got {value!r}.")
    return float(value)


def _per_layer(value, n_layers, name, check):
    """Expand an int (or None) to all layers; a tuple gives one entry per layer."""
    if value is None or not isinstance(value, (tuple, list)):
        return [value if value is None else check(value, name, name)] * n_layers
    if len(value) != n_layers:
        raise ValueError(
            f"{name} has {len(value)} entries but filters states {n_layers} "
            f"convolution layer(s); give one int for all layers or one entry per layer "
            f"(a (height, width) pair for one layer is written as ((3, 5),))."
        )
    return [check(v, f"{name}[{i}]", name) for i, v in enumerate(value)]


def _as_int_tuple(value, name):
    values = (value,) if _is_int(value) else value
    if not isinstance(values, (tuple, list)) or not all(  # () is allowed: no such layers
        _is_int(v) and v >= 1 for v in values
    ):
        raise ValueError(f"{name} must be an int >= 1 or a tuple of them; got {value!r}.")
    return tuple(int(v) for v in values)


BLOCK_DEFAULTS = {
    "filters": (32, 64),
    "kernel_size": 3,
    "pool_size": 2,
    "pool_stride": None,
    "hidden_layer_sizes": (128,),
    "dropout": 0.0,
    "batch_norm": False,
}


def _equal(a, b):
    try:
        return bool(a == b)
    except ValueError:  # an array compared element-wise
        return False


def architecture_specs(params):
    """The hidden layers stated by an estimator's parameters, as checked specs.

    Parameters
    ----------
    params : dict
        The estimator's ``get_params()``; uses ``layers``, ``padding`` and the
        block arguments of :data:`BLOCK_DEFAULTS`.

    Returns
    -------
    specs : list of tuple
        One :func:`parse_layer_spec` tuple per hidden layer.
    sources : list of str
        The argument that stated each layer, for error messages.
    """
    padding = _check_padding(params["padding"], "padding")
    if params["layers"] is not None:
        changed = [k for k, v in BLOCK_DEFAULTS.items() if not _equal(params[k], v)]
        if changed:
            raise ValueError(
                f"layers states the whole architecture, so {', '.join(changed)} must "
                f"stay at the default; set either layers or the block arguments."
            )
        layers = params["layers"]
        if isinstance(layers, str) or not isinstance(layers, (tuple, list)):
            raise ValueError(
                f"layers must be a tuple of layer specs such as ('conv:16:3', 'relu', "
                f"'maxpool:2', 'dense:64', 'relu'); got {layers!r}."
            )
        sources = [f"layers[{i}]={s!r}" for i, s in enumerate(layers)]
        specs = [parse_layer_spec(s, f"layers[{i}]", padding) for i, s in enumerate(layers)]
        return specs, sources

    filters = _as_int_tuple(params["filters"], "filters")
    n_conv = len(filters)
    kernels = _per_layer(params["kernel_size"], n_conv, "kernel_size", _check_size)
    pools = _per_layer(params["pool_size"], n_conv, "pool_size", _check_size)
    strides = _per_layer(params["pool_stride"], n_conv, "pool_stride", _check_size)
    hidden = _as_int_tuple(params["hidden_layer_sizes"], "hidden_layer_sizes")

    if not isinstance(params["batch_norm"], (bool, np.bool_)):
        raise ValueError(f"batch_norm must be True or False; got {params['batch_norm']!r}.")
    norm = [("batchnorm",)] if params["batch_norm"] else []
    specs, sources = [], []
    for i, (n_filters, kernel, pool, stride) in enumerate(zip(filters, kernels, pools, strides)):
        specs += [("conv", n_filters, kernel, 1, padding), *norm, ("relu",)]
        sources += [f"filters[{i}] and kernel_size", *[None] * len(norm), None]
        stride = pool if stride is None else stride
        if (pool, stride) != (1, 1):  # a 1x1 window with stride 1 is the identity
            specs.append(("maxpool", pool, stride, padding))
            sources.append(f"pool_size and pool_stride of block {i}")
    rate = _check_rate(params["dropout"], "dropout")
    for i, units in enumerate(hidden):
        specs += [("dense", units), *norm, ("relu",)]
        sources += [f"hidden_layer_sizes[{i}]", *[None] * len(norm), None]
        if rate:
            specs.append(("dropout", rate))
            sources.append("dropout")
    return specs, sources


def _pair(size, signal):
    """An int size is square on images and runs along the length of signals."""
    if isinstance(size, tuple):
        return size
    return (1, size) if signal else (size, size)


def resolve_specs(specs, sources, input_shape, n_outputs):
    """Fix every size for ``input_shape``: pairs everywhere, flatten and output added.

    Returns the plain tuples that :func:`make_network` turns into layers
    (a fitted estimator keeps them as ``layers_``), and their sources.
    """
    signal = input_shape[0] == 1
    resolved, resolved_sources, flat = [], [], False
    for spec, source in zip(specs, sources):
        kind = spec[0]
        if kind == "conv":
            _, filters, kernel, stride, pad = spec
            spec = ("conv", filters, _pair(kernel, signal), _pair(stride, signal), pad)
        elif kind in ("maxpool", "avgpool"):
            _, size, stride, pad = spec
            spec = (kind, _pair(size, signal), _pair(stride, signal), pad)
        elif kind == "globalavgpool":
            flat = True  # one number per channel
        elif kind == "dense" and not flat:
            resolved.append(("flatten",))
            resolved_sources.append(None)
            flat = True
        resolved.append(spec)
        resolved_sources.append(source)
    if not flat:
        resolved.append(("flatten",))
        resolved_sources.append(None)
    resolved.append(("dense", n_outputs))
    resolved_sources.append("the output layer")
    return resolved, resolved_sources


def make_layer(spec, conv_algorithm="auto"):
    kind, *args = spec
    if kind == "conv":
        filters, kernel, stride, pad = args
        return Conv2D(filters, kernel, stride, pad, algorithm=conv_algorithm)
    if kind == "maxpool":
        return MaxPool2D(*args)
    if kind == "avgpool":
        return AvgPool2D(*args)
    if kind == "dense":
        return Dense(*args)
    if kind == "dropout":
        return Dropout(*args)
    layer_class = {
        "relu": ReLU,
        "batchnorm": BatchNorm,
        "flatten": Flatten,
        "globalavgpool": GlobalAvgPool2D,
    }[kind]
    return layer_class()


def make_network(resolved, input_shape, conv_algorithm="auto", sources=None, reorder=True):
    """Build and size the network; say which argument stated a layer that does not fit.

    Parameters
    ----------
    resolved : list of tuple
        From :func:`resolve_specs`.
    input_shape : tuple of int (height, width, channels)
    conv_algorithm : str, default="auto"
    sources : list of str, optional
        For every spec, the argument that stated it, used in error messages.
    reorder : bool, default=True
        Run every ReLU that precedes a max pooling after it (the same
        result, cheaper); ``False`` keeps the stated order. Layers keep the
        names of :func:`~skcnn._network.layer_names` either way.
    """
    layers = [make_layer(spec, conv_algorithm) for spec in resolved]
    shape = tuple(input_shape)
    for index, layer in enumerate(layers):
        try:
            shape = layer.build(shape)
        except ValueError as exc:
            source = f" (stated by {sources[index]})" if sources and sources[index] else ""
            raise ValueError(
                f"The architecture does not fit the input: layer {index}, {layer}{source}, "
                f"gets an input of shape {'x'.join(map(str, shape))} and {exc}."
            ) from None
    named = list(zip(layer_names(resolved), layers))
    if reorder:
        named = _relu_after_pooling(named)
    network = Network([layer for _, layer in named], [name for name, _ in named])
    network.build(input_shape)
    return network


def _relu_after_pooling(named_layers):
    """Move every ReLU that comes right before a max pooling to right after it.

    ``maxpool(relu(x)) == relu(maxpool(x))`` and so are the gradients (both
    only select), but after pooling the ReLU touches a quarter of the numbers.
    Each layer keeps its name: ``(name, layer)`` pairs in, pairs out.
    """
    named = list(named_layers)
    for i in range(len(named) - 1):
        if isinstance(named[i][1], ReLU) and isinstance(named[i + 1][1], MaxPool2D):
            named[i], named[i + 1] = named[i + 1], named[i]
    return named
