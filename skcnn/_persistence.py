"""What a saved model holds, and how it loads again.

A saved estimator holds plain values only: arrays, lists, tuples, dicts,
numbers and strings, and the skcnn version that saved it. The live objects
of training (the network, the optimizer, the random generator) are saved as
their plain states and made again on demand, so that a loaded model goes on
with ``partial_fit`` exactly as the original would (as Dask does when it
moves a model between workers). Layer kinds that users registered travel
with the model as their classes, and register again where it loads.
"""

import sys
import warnings

from ._engine.base import walk
from ._engine.specs import custom_classes, layer_class, register, spec_words
from ._version import __version__
from .exceptions import InconsistentVersionWarning

#: The plain states saved in place of the live objects; a loaded model holds
#: them until training needs them.
SAVED_TRAINING_STATE = ("_dropout_rng_states", "_optimizer_state", "_random_state_state")


def saved_state(estimator, state):
    """The state ``estimator.__getstate__`` returns, from the default ``state``."""
    state = dict(state)  # a copy: the estimator keeps its own
    network = state.pop("_network", None)
    optimizer = state.pop("_optimizer", None)
    random_state = state.pop("_random_state", None)
    if network is not None:
        state["_dropout_rng_states"] = network.get_rng_states()
    if optimizer is not None:
        state["_optimizer_state"] = optimizer.get_state()
    if random_state is not None:
        state["_random_state_state"] = random_state.get_state()
    # The classes of layer kinds users registered: loading (in another process, a
    # worker of a parallel search) imports and registers them again. A fitted model
    # keeps those it uses; an unfitted one, which a search sends to its workers with
    # the layers to try as separate values, all of this process.
    if "layers_" in state:
        classes = custom_classes([state.get("layers"), state["layers_"]])
    else:
        classes = {k: c for k, c in custom_classes(spec_words()).items() if _importable(c)}
    if classes:
        state["_layer_classes"] = classes
    state["_skcnn_version"] = __version__
    return state


def _importable(cls):
    """Whether pickling finds ``cls`` by its module and name (or in ``__main__``)."""
    owner = sys.modules.get(cls.__module__)
    for part in cls.__qualname__.split("."):
        owner = getattr(owner, part, None)
    return owner is cls


def restored_state(estimator, state):
    """The state to restore from a saved one: the version checked, layer kinds registered.

    Warns (:class:`~skcnn.exceptions.InconsistentVersionWarning`) where
    another skcnn version saved it; models of the first versions (weights as
    ``coefs_`` and ``intercepts_``) load with their arrays named by layer.
    """
    state = dict(state)
    saved_version = state.pop("_skcnn_version", "unknown")
    if saved_version != __version__:
        warnings.warn(
            InconsistentVersionWarning(
                estimator_name=type(estimator).__name__,
                current_skcnn_version=__version__,
                original_skcnn_version=saved_version,
            ),
            stacklevel=3,
        )
    for kind, cls in state.pop("_layer_classes", {}).items():
        try:
            registered = layer_class(kind)
        except KeyError:
            registered = None
        if registered is not cls:
            register(cls)
    if "coefs_" in state and "parameters_" not in state:
        state = _named_arrays(state)
    return state


def _named_arrays(state):
    """A state of skcnn 0.1 (``coefs_``, ``intercepts_``, ``running_stats_``) by layer name."""
    from ._architecture import make_network

    network = make_network(state["layers_"], state["input_shape_"])
    weighted = [path for path, layer in walk(network) if "weights" in layer.param_names]
    normed = [path for path, layer in walk(network) if "running_mean" in layer.buffer_names]
    state["parameters_"] = {}
    for path, weights, bias in zip(weighted, state.pop("coefs_"), state.pop("intercepts_")):
        state["parameters_"].update({f"{path}.weights": weights, f"{path}.bias": bias})
    state["buffers_"] = {}
    # (models saved before batch normalization existed have no running_stats_)
    for path, (mean, var) in zip(normed, state.pop("running_stats_", [])):
        state["buffers_"].update({f"{path}.running_mean": mean, f"{path}.running_var": var})
    return state
