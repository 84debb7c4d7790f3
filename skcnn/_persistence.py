"""What a saved model holds, and how it loads again.

A saved estimator holds plain values only: arrays, lists, tuples, dicts,
numbers and strings, and the skcnn version that saved it. The live objects
of training (the network, the optimizer, the random generator) are saved as
their plain states and made again on demand, so that a loaded model goes on
with ``partial_fit`` exactly as the original would (as Dask does when it
moves a model between workers). Layer kinds that users registered travel
with the model as their classes, and register again where it loads.
"""

import os
import sys
import warnings
import zlib
from pathlib import Path

import joblib
import numpy as np

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
    state.setdefault("input_layout", "auto")  # models saved before it read X this way
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


# --- checkpoints: where a fit stands, to resume it after a crash -----------------

#: What a checkpoint may differ in from the estimator that resumes it.
_ARGUMENTS_OF_NO_CONSEQUENCE = ("checkpoint", "checkpoint_every", "verbose")
_CHECKPOINT_FORMAT = 1


def _same(a, b):
    try:
        return bool(np.all(a == b)) and type(a) is type(b)
    except (TypeError, ValueError):
        return False


def fingerprint(X, y, sample_weight):
    """A cheap digest of the training data: its shapes, dtypes and a sample of its bytes."""
    step = max(1, len(X) // 64)
    digest = zlib.crc32(np.ascontiguousarray(X[::step]).tobytes())
    digest = zlib.crc32(np.ascontiguousarray(y).tobytes(), digest)
    if sample_weight is not None:
        digest = zlib.crc32(np.ascontiguousarray(sample_weight).tobytes(), digest)
    return (X.shape, str(X.dtype), np.shape(y), digest)


class Checkpoint:
    """A file that holds where a fit stands: written atomically, read to resume.

    Written at the end of every epoch and, with ``checkpoint_every``, every
    so many batches inside one, each time in full to a temporary file of the
    same folder that then replaces the checkpoint (``os.replace``): a crash
    while writing leaves the previous checkpoint whole. It holds the saved
    state of the estimator (weights, optimizer, random streams, history),
    the position inside the epoch, the best weights of early stopping and
    the rows it holds out, and what identifies the fit: the estimator's
    arguments and a digest of the data.

    Parameters
    ----------
    path : str or path-like
    """

    def __init__(self, path):
        self.path = Path(os.fspath(path))

    def load(self, estimator):
        """What the checkpoint holds for ``estimator``, or ``None`` where there is none.

        Raises a ``ValueError`` where the file was written by another kind
        of estimator or with other arguments (the fit it holds is another).
        """
        if not self.path.exists():
            return None
        try:
            saved = joblib.load(self.path)
        except Exception as exc:
            raise ValueError(
                f"checkpoint={os.fspath(self.path)!r} cannot be read ({type(exc).__name__}: "
                f"{exc}); delete the file to start anew."
            ) from None
        if not isinstance(saved, dict) or saved.get("format") != _CHECKPOINT_FORMAT:
            raise ValueError(
                f"checkpoint={os.fspath(self.path)!r} is no checkpoint of skcnn; give the path "
                f"of a file to write (it is replaced), or delete it."
            )
        if saved["estimator"] != type(estimator).__name__:
            raise ValueError(
                f"checkpoint={os.fspath(self.path)!r} holds the fit of a {saved['estimator']}, "
                f"not of a {type(estimator).__name__}; give every fit a file of its own."
            )
        params = estimator.get_params(deep=False)
        changed = [
            name
            for name, value in saved["params"].items()
            if name not in _ARGUMENTS_OF_NO_CONSEQUENCE and not _same(params.get(name), value)
        ]
        if changed:
            said = ", ".join(f"{n}={saved['params'][n]!r}" for n in changed[:3])
            raise ValueError(
                f"checkpoint={os.fspath(self.path)!r} holds a fit with other arguments "
                f"({said}, now {', '.join(f'{n}={params.get(n)!r}' for n in changed[:3])}); "
                f"it resumes only the fit that wrote it. Delete it, or give another path, to "
                f"start anew (in a search, give every fit a file of its own)."
            )
        return saved

    def check_data(self, saved, X, y, sample_weight):
        """Refuse to resume on other data than the checkpoint was written for."""
        if saved["data"] != fingerprint(X, y, sample_weight):
            raise ValueError(
                f"checkpoint={os.fspath(self.path)!r} was written while fitting other data "
                f"(X, y or sample_weight differ); resume with the same data, or delete the "
                f"file to start anew."
            )

    def write(self, estimator, data, position, best, rows):
        """Write where the fit of ``estimator`` stands, atomically."""
        payload = {
            "format": _CHECKPOINT_FORMAT,
            "estimator": type(estimator).__name__,
            "params": estimator.get_params(deep=False),
            "data": data,
            "state": estimator.__getstate__(),
            "position": None if position is None else vars(position).copy(),
            "best": best,
            "rows": rows,
        }
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as file:
                joblib.dump(payload, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        finally:
            if temporary.exists():
                temporary.unlink()

    def remove(self):
        """The fit is over: nothing to resume."""
        self.path.unlink(missing_ok=True)
