"""What every layer of the engine is: the layer protocol.

Each layer maps a batch to a batch and knows its own gradient:

``build(input_shape) -> output_shape``
    Checks that the layer fits an input of that per-sample shape and fixes
    its sizes; raises ``ValueError`` saying why when it does not fit.
``initialize(rng, dtype, init)``
    Draws the learnable parameters (layers without parameters do nothing).
``forward(X, training=False)``
    With ``training=True`` the layer keeps what its backward pass needs;
    without, it keeps nothing (the lean pass used for prediction).
``backward(grad_out, need_input_grad=True)``
    Takes dL/d(output), sets ``grad_<name>`` to dL/d(parameter) for every
    name of ``param_names``, and returns dL/d(input) (``None`` when
    ``need_input_grad`` is false).

Neither pass changes its input array in place: a residual block hands the
same ``X`` to its body and its shortcut, and the same ``grad_out`` to both
backward passes.

A layer's learnable arrays are attributes named by ``param_names``
(``weights`` and ``bias`` for most), the state training updates without a
gradient by ``buffer_names`` (batch normalization's running averages); a
layer made of layers lists them in ``children()``, and its ``params``,
``grads`` and ``buffers`` gather its own and its children's, depth first.

A layer with a ``workspace`` (:class:`~skcnn._engine.workspace.Workspace`)
returns, in training, arrays it reuses: the output of ``forward(X,
training=True)`` and the result of ``backward`` hold until the layer's next
training call, as long as a network needs them. Prediction
(``training=False``) always returns new arrays.

Spatial layers work on channels-last batches ``(n, height, width,
channels)``; a 1-D signal is an image of height 1.
"""

import copy

import numpy as np

from .kernels import output_length, padding_amounts
from .workspace import Workspace


def _shape_str(shape):
    return "x".join(str(s) for s in shape)


class Layer:
    """The base class of every layer; a subclass overrides what it needs.

    The class attributes below say how specs write the layer (see
    :func:`~skcnn._engine.specs.register`), what shapes it takes and which
    of its attributes are its state.
    """

    #: The first word of the layer's specs (``"conv"``); ``None``: not a layer kind.
    kind = None
    #: Other words for the same kind (``"bn"`` for ``"batchnorm"``).
    aliases = ()
    #: The arguments of its specs, in order (:class:`~skcnn._engine.specs.Argument`).
    arguments = ()
    #: Whether the last argument takes every positional value left (the branches of a block).
    variadic = False
    #: Specs shown in the documentation.
    examples = ()
    #: Whether users never write it (a step the engine makes, such as a fused conv).
    internal = False
    #: Whether the layer needs flat ``(features,)`` inputs: a flatten goes before it.
    flat_input = False
    #: Whether its output is flat (``True``), spatial (``False``) or as its input (``None``).
    flat_output = None
    #: Attributes holding the learnable arrays; their gradients are ``grad_<name>``.
    param_names = ()
    #: Attributes holding the arrays training updates without gradients.
    buffer_names = ()
    #: Scratch arrays the layer reuses between training batches, if any
    #: (a :class:`~skcnn._engine.workspace.Workspace`).
    workspace = None
    #: Whether training treats every sample on its own, so that a batch may
    #: be split into shards that run apart (see :class:`~skcnn._engine.parallel.DataParallel`).
    per_sample = True
    #: Whether training needs sums over the whole batch that the shards of a
    #: batch can add up where they meet (batch normalization's statistics; see
    #: :class:`~skcnn._engine.parallel.Rendezvous`): such a layer is not
    #: :attr:`per_sample`, and yet its network trains on shards.
    batch_sums = False
    #: Whether ``backward`` gives dL/d(input) (not an embedding of token ids).
    has_input_gradient = True
    input_shape = None
    output_shape = None
    #: The estimator argument that stated the layer, for error messages.
    source = None
    #: Whether ``backward`` gives dL/d(input). ``False`` for a layer whose input is
    #: no number to differentiate (the token ids of an embedding): its ``backward``
    #: returns ``None``, nothing before it could learn, so it comes first in a
    #: network, and what shows how outputs depend on inputs (saliency) stops there.
    has_input_gradient = True

    # --- from specs and back ----------------------------------------------------

    @classmethod
    def from_spec(cls, values, context):
        """The layer of a parsed spec's ``values`` (a dict by argument name).

        ``context`` is the :class:`~skcnn._engine.specs.SpecContext`; by
        default every argument is resolved for it (int sizes become pairs)
        and passed to the constructor by name.
        """
        return cls(**{a.name: a.resolve(values[a.name], context) for a in cls.arguments})

    def spec(self):
        """The spec of this layer, as ``layers_`` holds it: sizes resolved."""
        from .specs import spec_tuple

        return spec_tuple(type(self), {a.name: getattr(self, a.name) for a in self.arguments})

    def output_flat(self, flat):
        """Whether the output is flat, for an input that is (``flat``) or is not."""
        return flat if self.flat_output is None else self.flat_output

    def children(self):
        """``(name, layer)`` of the layers this one is made of; none for most."""
        return []

    # --- state ----------------------------------------------------------------------

    @property
    def params(self):
        """Every learnable array: the layer's own, then its children's."""
        own = [getattr(self, name) for name in self.param_names]
        return own + [p for _, child in self.children() for p in child.params]

    @property
    def grads(self):
        """The gradients matching :attr:`params`, after :meth:`backward`."""
        own = [getattr(self, f"grad_{name}", None) for name in self.param_names]
        return own + [g for _, child in self.children() for g in child.grads]

    @property
    def buffers(self):
        """State that training updates but no gradient does (running averages)."""
        own = [getattr(self, name) for name in self.buffer_names]
        return own + [b for _, child in self.children() for b in child.buffers]

    # --- the protocol ---------------------------------------------------------------

    def build(self, input_shape):
        self.input_shape = self.output_shape = tuple(input_shape)
        return self.output_shape

    def adapt(self, X):
        """Learn from the training inputs what the layer needs before :meth:`initialize`.

        A network calls it for its first layer, with the whole training
        batch ``X``, on the first fit only (an embedding learns the size of
        its table there); most layers need nothing.
        """

    def check_input(self, X):
        """Raise a ``ValueError`` saying why, where ``X`` is not what the layer reads.

        A network calls it for its first layer with every batch it is given
        to train or predict on, before any work: most layers read any finite
        numbers (which the estimator has checked), an embedding whole ids of
        its table.
        """

    def initialize(self, rng, dtype, init):
        for _, child in self.children():
            child.initialize(rng, dtype, init)

    def forward(self, X, training=False):
        raise NotImplementedError

    def backward(self, grad_out, need_input_grad=True):
        raise NotImplementedError

    def replica(self):
        """A layer on the same parameter arrays with its own training state.

        What training passes keep (saved activations, workspaces, gradients)
        is the replica's own, so that replicas train shards of a batch in
        parallel threads (:class:`~skcnn._engine.parallel.DataParallel`). A
        layer made of layers replicates its children too.
        """
        twin = copy.copy(self)
        if self.workspace is not None:
            twin.workspace = Workspace()
        return twin

    def multiply_adds(self):
        """Multiply-adds of one sample's forward pass (0 for element-wise layers)."""
        return sum(child.multiply_adds() for _, child in self.children())

    def __repr__(self):
        args = ", ".join(f"{a.name}={getattr(self, a.name, None)!r}" for a in self.arguments)
        return f"{type(self).__name__}({args})"

    def __str__(self):
        return repr(self)


def walk(layer, prefix=""):
    """``(name, layer)`` of every layer inside ``layer``, depth first, names dotted.

    A layer's name is its path among the layers it is in: ``"conv1"`` at the
    top, ``"residual1.conv2"`` in a block, ``"residual1.shortcut.conv1"`` in
    the block's shortcut.
    """
    for name, child in layer.children():
        path = f"{prefix}{name}"
        yield path, child
        yield from walk(child, f"{path}.")


def _init_limit(init, fan_in, fan_out):
    """Bound of the uniform initialization: He for ReLU nets, or Glorot."""
    if init == "he":
        return np.sqrt(6.0 / fan_in)
    return np.sqrt(6.0 / (fan_in + fan_out))


class _WeightedLayer(Layer):
    """A layer with ``weights`` and ``bias``, and their gradients after backward."""

    param_names = ("weights", "bias")
    weights = bias = grad_weights = grad_bias = None


class _SpatialMixin:
    """Shared bookkeeping of layers that slide a window over height and width."""

    def _build_window(self, input_shape, window, stride, padding, what, spread=None):
        """Padding and output size for ``window``; ``spread``: its dilated span, if any."""
        span = window if spread is None else spread
        if len(input_shape) != 3:
            raise ValueError(
                f"it needs (height, width, channels) inputs, got a flat input of size "
                f"{input_shape[0]}; put it before the first dense layer"
            )
        height, width, channels = input_shape
        self._pads = [
            padding_amounts(size, k, s, padding)
            for size, k, s in zip((height, width), span, stride)
        ]
        padded = [size + sum(p) for size, p in zip((height, width), self._pads)]
        if padded[0] < span[0] or padded[1] < span[1]:
            dilated = "" if span == window else f", dilated to {_shape_str(span)},"
            raise ValueError(
                f"its {_shape_str(window)} {what}{dilated} is larger than the "
                f"{_shape_str((height, width))} input"
                + (" after 'valid' padding" if padding == "valid" else "")
                + f"; use a smaller {what}"
                + (" or padding='same'" if padding == "valid" else "")
            )
        self._padded_shape = (padded[0], padded[1], channels)
        self.input_shape = tuple(input_shape)
        return tuple(output_length(p, k, s) for p, k, s in zip(padded, span, stride))

    def _pad(self, X, value=0.0):
        if not any(any(p) for p in self._pads):
            return X
        return np.pad(X, [(0, 0), *self._pads, (0, 0)], constant_values=value)

    def _crop(self, grad_x_pad):
        (top, bottom), (left, right) = self._pads
        height, width = self.input_shape[:2]
        return grad_x_pad[:, top : top + height, left : left + width, :]
