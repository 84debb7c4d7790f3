"""A network: a sequence of layers from images (or signals) to scores."""

import math
from dataclasses import replace

from . import tuning
from .base import _shape_str, walk
from .blocks import MisfitError, Sequential
from .conv import Conv2D
from .fusion import fused_steps
from .masking import MaskedSteps, masking_problem
from .parallel import forward_in_batches
from .specs import SpecContext


class Network(Sequential):
    """A sequence of layers from images (or signals) to class scores.

    Parameters
    ----------
    layers : list of Layer
        Applied in order; the last one outputs the scores (logits).
    names : list of str, optional
        A name per layer (see :class:`~skcnn._engine.blocks.Sequential`).
    reorder : bool, default=False
        Run every ReLU that precedes a max pooling after it.

    Attributes
    ----------
    steps : list of Layer
        What :meth:`forward` and :meth:`backward` run (see
        :class:`~skcnn._engine.blocks.Sequential`).
    batch_size : int
        The batch of the "memory" column of the diagram (``print`` the
        network): what one training batch keeps of every layer's output.

    Examples
    --------
    >>> import numpy as np
    >>> from skcnn._engine.conv import Conv2D
    >>> from skcnn._engine.core import Dense, Flatten
    >>> from skcnn._engine.pooling import MaxPool2D
    >>> from skcnn._engine.activations import ReLU
    >>> net = Network([Conv2D(4, (3, 3)), MaxPool2D((2, 2), (2, 2)), ReLU(),
    ...                Flatten(), Dense(3)])
    >>> net.build((8, 8, 1))
    (3,)
    >>> net.initialize(np.random.RandomState(0), np.float64, "he")
    >>> net.forward(np.zeros((5, 8, 8, 1))).shape
    (5, 3)
    >>> [type(step).__name__ for step in net.steps]
    ['ConvMaxPool2D', 'ReLU', 'Flatten', 'Dense']
    """

    batch_size = 32
    _masked = None  # the masked run of the last forward pass, if its batch was padded

    @classmethod
    def from_specs(cls, specs, input_shape, context=None, sources=None):
        """The network of parsed ``specs``, built for samples of ``input_shape``.

        Raises a ``ValueError`` that names the layer that does not fit its
        input, the argument that stated it (``sources``) and why.
        """
        input_shape = tuple(input_shape)
        context = replace(
            context or SpecContext(), signal=input_shape[0] == 1, flat=len(input_shape) == 1
        )
        network = super().from_specs(specs, context, sources)
        for path, layer in list(walk(network))[1:]:
            if not layer.has_input_gradient:
                where = layer.source.split("=", 1)[0] if layer.source else path
                raise ValueError(
                    f"{where}: the {layer.kind} layer reads inputs that no layer computes (it "
                    f"has no input gradient): it must be the first of the layers, outside any "
                    f"block."
                )
        network.build(input_shape)
        return network

    def adapt(self, X):
        """The first layer learns what it needs of the training batch ``X``."""
        self.layers[0].adapt(X)

    def check_input(self, X):
        """The first layer refuses, saying why, a batch it cannot read (token ids)."""
        self.layers[0].check_input(X)

    def build(self, input_shape):
        """Fit every layer to its input; return the per-sample output shape."""
        try:
            return super().build(input_shape)
        except MisfitError as exc:
            raise ValueError(f"The architecture does not fit the input: {exc}.") from None

    def is_masked(self, X):
        """Whether ``X`` is a batch of padded series: one channel more, its mask.

        See :mod:`~skcnn._engine.masking`.
        """
        return X.ndim == 4 and len(self.input_shape) == 3 and X.shape[3] == self.input_shape[2] + 1

    def forward(self, X, training=False):
        """Scores of ``X``; a batch of padded series is run with its mask."""
        if self.is_masked(X):
            self._masked = MaskedSteps(self.steps)
            return self._masked.forward(X, training)
        self._masked = None
        return super().forward(X, training)

    def backward(self, grad_out, need_input_grad=False):
        """Backpropagate dL/d(scores); the first layer skips dL/d(input) by default."""
        if self._masked is not None:
            return self._masked.backward(grad_out, need_input_grad)
        return super().backward(grad_out, need_input_grad)

    def masking_problem(self):
        """Why the network cannot take padded series, or ``None`` where it can."""
        return masking_problem(self.steps)

    # --- the layers by name -------------------------------------------------------

    def layer(self, name):
        """The layer of a dotted ``name``, as :func:`~skcnn._engine.base.walk` gives it."""
        for path, layer in walk(self):
            if path == name:
                return layer
        raise KeyError(name)

    def named_params(self):
        """Every learnable array by ``"<layer>.<name>"`` (``"conv1.weights"``), depth first."""
        return {
            f"{path}.{name}": getattr(layer, name)
            for path, layer in walk(self)
            for name in layer.param_names
        }

    def named_buffers(self):
        """Every buffer (running statistics) by ``"<layer>.<name>"``, depth first."""
        return {
            f"{path}.{name}": getattr(layer, name)
            for path, layer in walk(self)
            for name in layer.buffer_names
        }

    def load_state(self, arrays, cast=None):
        """Set every parameter and buffer from ``arrays``, by the names of :meth:`named_params`.

        ``cast`` maps each array to what the layer takes (``None``: the array
        itself, shared). A missing or extra array is a ``ValueError``.
        """
        expected = set()
        for path, layer in walk(self):
            for name in (*layer.param_names, *layer.buffer_names):
                key = f"{path}.{name}"
                expected.add(key)
                if key not in arrays:
                    raise ValueError(f"no array for {key} among {sorted(arrays)}")
                setattr(layer, name, arrays[key] if cast is None else cast(arrays[key]))
        extra = set(arrays) - expected
        if extra:
            raise ValueError(f"arrays for no layer of the network: {sorted(extra)}")

    # --- random streams -----------------------------------------------------------

    def _random_layers(self):
        return [layer for _, layer in walk(self) if hasattr(layer, "seed")]

    def seed(self, rng):
        """Give the random layers (dropout) new streams drawn from ``rng``."""
        for layer in self._random_layers():
            layer.seed(rng)

    def get_rng_states(self):
        """The states of the random layers' streams, to save them."""
        return [layer.get_rng_state() for layer in self._random_layers()]

    def set_rng_states(self, states):
        """Go on with the streams of :meth:`get_rng_states`."""
        for layer, state in zip(self._random_layers(), states, strict=True):
            layer.set_rng_state(state)

    # --- prediction ---------------------------------------------------------------

    def predict_batch_size(self, itemsize):
        """Samples per prediction batch: so that no intermediate outgrows the budget
        (``tuning.PREDICT_BATCH_BYTES``), but ``tuning.PREDICT_MIN_BATCH`` at least."""
        sizes = [math.prod(self.input_shape)]
        for _, layer in walk(self):
            sizes.append(math.prod(layer.output_shape))
            if isinstance(layer, Conv2D):
                sizes.append(layer.columns_per_sample())
        budget = int(tuning.PREDICT_BATCH_BYTES // (max(sizes) * itemsize))
        return max(tuning.PREDICT_MIN_BATCH, budget)

    def predict(self, X, only=None, n_threads=None):
        """Scores of ``X`` in bounded memory: batches, and no saved intermediates.

        With ``only`` (a set of layer names), only those layers run, in
        order: the output of a hidden layer. Up to ``n_threads`` threads share
        the batches (see :func:`~skcnn._engine.parallel.forward_in_batches`).
        """
        if only is None:
            steps = self.steps
        else:
            selected = [layer for name, layer in zip(self.names, self.layers) if name in only]
            steps = fused_steps(selected, self.layers)
        if self.is_masked(X):
            steps = [MaskedSteps(steps)]
        batch = max(2, self.predict_batch_size(X.dtype.itemsize))
        return forward_in_batches(X, steps, batch, n_threads)

    # --- the diagram --------------------------------------------------------------

    def rows(self):
        """One row per layer, nested blocks indented: what the diagram shows.

        Each row is ``(depth, name, layer, output_shape, parameters,
        multiply_adds)``, in the order the layers are stated; parameters and
        multiply-adds are per sample, those of a block include its layers'.
        """
        rows = []

        def visit(layer, prefix, depth):
            for name, child in layer.children():
                rows.append((depth, prefix + name, child))
                visit(child, f"{prefix}{name}.", depth + 1)

        visit(self, "", 0)
        return [
            (
                depth,
                path,
                layer,
                layer.output_shape,
                sum(p.size for p in layer.params if p is not None),
                layer.multiply_adds(),
            )
            for depth, path, layer in rows
        ]

    def summary(self, batch_size=None):
        """The diagram: every layer with its output, parameters, work and memory.

        ``multiply-adds`` counts one sample's forward pass; ``memory`` is
        what a training batch of ``batch_size`` samples (by default
        :attr:`batch_size`) holds of the layer's output.
        """
        batch_size = self.batch_size if batch_size is None else batch_size
        params = self.params
        itemsize = params[0].dtype.itemsize if params and params[0] is not None else 4
        table = [("", "layer", "output", "params", "mult-adds", "memory")]
        table.append(("input", "", _shape_str(self.input_shape or ()), "", "", ""))
        for depth, path, layer, shape, n_params, work in self.rows():
            memory = math.prod(shape) * batch_size * itemsize if shape else 0
            label = "  " * depth + (path.rsplit(".", 1)[-1] if depth else path)
            table.append(
                (
                    label,
                    str(layer),
                    _shape_str(shape or ()),
                    f"{n_params:,}" if n_params else "",
                    f"{work:,}" if work else "",
                    _bytes(memory),
                )
            )
        n_params = sum(p.size for p in params if p is not None)
        work = sum(layer.multiply_adds() for layer in self.layers)
        table.append(("total", "", "", f"{n_params:,}", f"{work:,}", ""))
        widths = [max(len(row[i]) for row in table) for i in range(6)]
        lines = [
            "  ".join(
                [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
                + [cell.rjust(width) for cell, width in zip(row[2:], widths[2:])]
            ).rstrip()
            for row in table
        ]
        dtype = params[0].dtype.name if params and params[0] is not None else "float32"
        lines.append(
            f"(mult-adds: of one sample's forward pass; memory: of the outputs of a "
            f"training batch of {batch_size}, {dtype})"
        )
        return "Network(\n  " + "\n  ".join(lines) + "\n)"

    def __repr__(self):
        return self.summary()


def _bytes(n):
    """``n`` bytes, readable: ``"3.2 MB"``."""
    if not n:
        return ""
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def layer_names(specs):
    """A name per layer spec: its kind and its count among the layers of that kind.

    >>> layer_names([("conv", 8, 3), ("relu",), ("conv", 8, 3), ("flatten",), ("dense", 2)])
    ['conv1', 'relu1', 'conv2', 'flatten1', 'dense1']
    """
    from .specs import layer_names as names_of_kinds

    return names_of_kinds([spec[0] for spec in specs])
