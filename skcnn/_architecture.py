"""From the estimator's architecture arguments to a network of layers.

Two ways to state an architecture, both plain values that ``clone`` and
``GridSearchCV`` handle:

* blocks: ``filters``, ``kernel_size``, ``pool_size``, ``pool_stride`` give
  one ``conv -> relu -> maxpool`` block per entry of ``filters``, and
  ``hidden_layer_sizes`` one ``dense -> relu`` pair per entry
  (``batch_norm=True`` puts a batch normalization before every ReLU,
  ``dropout`` a dropout after every dense ReLU, ``residual_blocks=n`` makes
  every conv block a stage of ``n`` residual blocks, ``global_pool`` pools
  the last maps to one number per channel);
* ``layers``: any sequence of layer specs, in any order, blocks nested.

The layer kinds, how their specs are written and what they accept come
from the registry of layer kinds (:func:`skcnn.layers.register`): the
table below lists skcnn's own. A spec is a string of words joined by
``":"`` or a tuple of the same values; sizes are an int or a ``(height,
width)`` pair (``"3x5"`` in a string), and an int size is square on images
and runs along the length of 1-D signals (inputs of height 1). Arguments
may be named: ``"conv:8:3:dilation=2"``, or a dict at the end of a tuple,
``("conv", 8, 3, {"dilation": 2})``. A pooling stride defaults to the
window, padding to the estimator's ``padding``. Blocks take tuples of
specs, and nest.

The network always ends with a dense layer of one unit per class (or
output), with a flatten before it where the layers' output is spatial.
"""

import numpy as np

from ._engine.network import Network
from ._engine.specs import SpecContext, kinds_table, parse_spec

__doc__ += "\n" + kinds_table() + "\n"

PADDING_MODES = ("valid", "same")


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


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


def _check_padding(value, where):
    if value not in PADDING_MODES:
        raise ValueError(f"{where}: padding must be 'valid' or 'same'; got {value!r}.")
    return value


def _check_rate(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{where}: dropout rate must be a number in [0, 1); got {value!r}.")
    return float(value)


def parse_layer_spec(spec, where, padding):
    """Check one layer spec and return it as a tuple with defaults filled in.

    >>> parse_layer_spec("conv:8:3x5", "layers[0]", "same")
    ('conv', 8, (3, 5), 1, 'same')
    >>> parse_layer_spec(("pool", 3), "layers[1]", "valid")
    ('maxpool', 3, 3, 'valid')
    """
    return parse_spec(spec, where, SpecContext(padding=padding))


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
    "residual_blocks": 0,
    "global_pool": None,
}

GLOBAL_POOLS = {"avg": "globalavgpool", "max": "globalmaxpool"}


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
        One :func:`~skcnn._engine.specs.parse_spec` tuple per hidden layer.
    sources : list of str
        The argument that stated each layer, for error messages.
    """
    padding = _check_padding(params["padding"], "padding")
    if params["layers"] is not None:
        changed = [k for k, v in BLOCK_DEFAULTS.items() if not _equal(params.get(k, v), v)]
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
        context = SpecContext(padding=padding)
        sources = [f"layers[{i}]={s!r}" for i, s in enumerate(layers)]
        specs = [parse_spec(s, f"layers[{i}]", context) for i, s in enumerate(layers)]
        return specs, sources

    filters = _as_int_tuple(params["filters"], "filters")
    n_conv = len(filters)
    kernels = _per_layer(params["kernel_size"], n_conv, "kernel_size", _check_size)
    pools = _per_layer(params["pool_size"], n_conv, "pool_size", _check_size)
    strides = _per_layer(params["pool_stride"], n_conv, "pool_stride", _check_size)
    hidden = _as_int_tuple(params["hidden_layer_sizes"], "hidden_layer_sizes")
    n_residual = params.get("residual_blocks", 0)
    if not _is_int(n_residual) or n_residual < 0:
        raise ValueError(f"residual_blocks must be an int >= 0; got {n_residual!r}.")
    global_pool = params.get("global_pool")
    if global_pool is not None and global_pool not in GLOBAL_POOLS:
        raise ValueError(f"global_pool must be None, 'avg' or 'max'; got {global_pool!r}.")

    if not isinstance(params["batch_norm"], (bool, np.bool_)):
        raise ValueError(f"batch_norm must be True or False; got {params['batch_norm']!r}.")
    norm = [("batchnorm",)] if params["batch_norm"] else []
    specs, sources = [], []
    for i, (n_filters, kernel, pool, stride) in enumerate(zip(filters, kernels, pools, strides)):
        conv = ("conv", n_filters, kernel, 1, padding)
        if n_residual:
            # A stage: n residual blocks, conv -> [bn] -> relu -> conv -> [bn] plus
            # the shortcut, then relu (He et al. 2016).
            body = (conv, *norm, ("relu",), conv, *norm)
            for b in range(n_residual):
                specs += [("residual", body, "auto"), ("relu",)]
                sources += [f"filters[{i}], kernel_size and residual_blocks (block {b})", None]
        else:
            specs += [conv, *norm, ("relu",)]
            sources += [f"filters[{i}] and kernel_size", *[None] * len(norm), None]
        stride = pool if stride is None else stride
        if (pool, stride) != (1, 1):  # a 1x1 window with stride 1 is the identity
            specs.append(("maxpool", pool, stride, padding))
            sources.append(f"pool_size and pool_stride of block {i}")
    if global_pool is not None:
        specs.append((GLOBAL_POOLS[global_pool],))
        sources.append("global_pool")
    rate = _check_rate(params["dropout"], "dropout")
    for i, units in enumerate(hidden):
        specs += [("dense", units), *norm, ("relu",)]
        sources += [f"hidden_layer_sizes[{i}]", *[None] * len(norm), None]
        if rate:
            specs.append(("dropout", rate))
            sources.append("dropout")
    return specs, sources


def with_output(specs, sources, n_outputs):
    """The specs and sources of a whole network: the hidden layers, then the output layer."""
    return [*specs, ("dense", n_outputs)], [*sources, "the output layer"]


def make_network(specs, input_shape, conv_algorithm="auto", sources=None, reorder=True):
    """Make and build the network of parsed ``specs`` for samples of ``input_shape``.

    Says which layer does not fit its input, and which argument stated it.

    Parameters
    ----------
    specs : list of tuple
        Parsed specs (from :func:`architecture_specs` and :func:`with_output`),
        or the ``layers_`` of a fitted estimator.
    input_shape : tuple of int (height, width, channels)
    conv_algorithm : str, default="auto"
    sources : list of str, optional
        For every spec, the argument that stated it, used in error messages.
    reorder : bool, default=True
        Run every ReLU that precedes a max pooling after it (the same
        result, cheaper); ``False`` keeps the stated order. Layers keep their
        names either way.

    Returns
    -------
    network : Network
        Built, not initialized. ``network.spec()`` gives its layers as
        ``layers_`` holds them: sizes resolved for the input, flatten added.
    """
    context = SpecContext(conv_algorithm=conv_algorithm, reorder=reorder)
    return Network.from_specs(specs, input_shape, context, sources)
