"""Layers made of layers: a sequence, a residual block, parallel branches.

A block is a layer like any other: it builds, runs forward and backward,
and lists the layers it is made of in ``children()``, so that its
parameters, gradients, random streams and replicas come from theirs.
"""

import copy

import numpy as np

from .base import Layer, _shape_str, walk
from .conv import Conv2D
from .core import Dense
from .fusion import fused_steps, relu_after_pooling
from .normalization import BatchNorm
from .specs import Choice, Specs, layer_names, make_layers, register


class MisfitError(ValueError):
    """A layer does not fit the input it gets; the message names the layer and why."""


def _kind(layer):
    return layer.kind or type(layer).__name__.lower()


class Sequential(Layer):
    """Layers applied one after another: the body of a block, and a network.

    Parameters
    ----------
    layers : list of Layer
        In the order they are stated.
    names : list of str, optional
        A name per layer; by default its kind and its count among the
        layers of that kind (``"conv1"``, ``"relu1"``, ``"conv2"``).
    reorder : bool, default=False
        Run every ReLU that comes right before a max pooling after it: the
        same result and gradients (both only select), but the ReLU touches a
        quarter of the numbers. Each layer keeps its name.

    Attributes
    ----------
    steps : list of Layer
        What :meth:`forward` and :meth:`backward` run, set by :meth:`build`:
        the layers, with each conv and the tiled max pooling after it (and a
        batch normalization between them) as one
        :class:`~skcnn._engine.fusion.ConvMaxPool2D`.
    """

    def __init__(self, layers, names=None, reorder=False):
        layers = list(layers)
        names = layer_names([_kind(layer) for layer in layers]) if names is None else names
        #: The layers in the order they were stated, for error messages and specs.
        self.stated = layers
        named = list(zip(names, layers))
        if reorder:
            named = relu_after_pooling(named)
        self.names = [name for name, _ in named]
        self.layers = [layer for _, layer in named]
        self.steps = self.layers

    @classmethod
    def from_specs(cls, specs, context, sources=None):
        """The sequence of parsed ``specs`` (see :func:`~skcnn._engine.specs.make_layers`)."""
        layers, _ = make_layers(specs, context, sources)
        return cls(layers, reorder=context.reorder)

    def children(self):
        return list(zip(self.names, self.layers))

    def spec(self):
        return tuple(layer.spec() for layer in self.stated)

    @property
    def per_sample(self):
        return all(step.per_sample for step in self.steps)

    def build(self, input_shape):
        """Fit every layer to its input; return the per-sample output shape."""
        self.input_shape = shape = tuple(input_shape)
        position = {id(layer): index for index, layer in enumerate(self.stated)}
        for layer in self.layers:
            try:
                shape = layer.build(shape)
            except MisfitError as exc:  # in a block: say which
                source = f" (stated by {layer.source})" if layer.source else ""
                raise MisfitError(f"layer {position[id(layer)]}, {layer}{source}, {exc}") from None
            except ValueError as exc:
                source = f" (stated by {layer.source})" if layer.source else ""
                raise MisfitError(
                    f"layer {position[id(layer)]}, {layer}{source}, gets an input of shape "
                    f"{_shape_str(shape)} and {exc}"
                ) from None
        self.output_shape = shape
        self.steps = fused_steps(self.layers, self.layers)
        return shape

    def forward(self, X, training=False):
        for step in self.steps:
            X = step.forward(X, training=training)
        return X

    def backward(self, grad_out, need_input_grad=True):
        """Backpropagate dL/d(output); the first step skips dL/d(input) unless asked."""
        for index in range(len(self.steps) - 1, -1, -1):
            grad_out = self.steps[index].backward(
                grad_out, need_input_grad=need_input_grad or index > 0
            )
        return grad_out

    def replica(self):
        twin = copy.copy(self)
        replicas = {id(layer): layer.replica() for layer in self.layers}
        twin.layers = [replicas[id(layer)] for layer in self.layers]
        twin.stated = [replicas[id(layer)] for layer in self.stated]
        twin.steps = fused_steps(twin.layers, twin.layers) if self.output_shape else twin.layers
        return twin

    def clear_workspaces(self):
        """Free the scratch arrays the steps keep between training batches."""
        for step in dict.fromkeys([*self.steps, *self.layers]):  # the layers of fused steps too
            if step.workspace is not None:
                step.workspace.clear()
            if hasattr(step, "clear_workspaces"):  # a block: its own steps
                step.clear_workspaces()

    def __repr__(self):
        return f"Sequential({', '.join(type(layer).__name__ for layer in self.stated)})"


def _has_batch_norm(layer):
    return any(isinstance(inner, BatchNorm) for _, inner in walk(layer))


@register
class Residual(Layer):
    """Residual block: the body's output added to the block's input (He et al., 2016).

    Where the body keeps the shape of its input, the input is added as it
    is (an identity shortcut); where it changes the channels or the size, a
    learned projection is added instead: a 1x1 convolution with the stride
    that gives the body's size (a dense layer for flat inputs), followed by
    a batch normalization where the body has one. The gradient flows
    through both paths, so deep stacks of blocks still train.

    Parameters
    ----------
    body : Sequential
    shortcut : {"auto", "identity", "projection"}, default="auto"
        ``"auto"`` projects only where the shapes differ.
    """

    kind = "residual"
    aliases = ("res", "resblock")
    arguments = (
        Specs("body", help="the layers whose output is added to the input"),
        Choice(
            "shortcut",
            ("auto", "identity", "projection"),
            "auto",
            help="'auto': a learned projection only where the body changes the shape",
        ),
    )
    examples = (("residual", ("conv:16:3", "bn", "relu", "conv:16:3", "bn")),)

    def __init__(self, body, shortcut="auto", conv_algorithm="auto"):
        self.body = body
        self.shortcut = shortcut
        self.conv_algorithm = conv_algorithm
        self.projection = None

    @classmethod
    def from_spec(cls, values, context):
        body = Sequential.from_specs(values["body"], context)
        return cls(body, values["shortcut"], context.conv_algorithm)

    def output_flat(self, flat):
        return flat  # the output has the shape of the input

    def spec(self):
        shortcut = "identity" if self.projection is None else "projection"
        return (self.kind, self.body.spec(), shortcut)

    def children(self):
        shortcut = [] if self.projection is None else [("shortcut", self.projection)]
        return self.body.children() + shortcut

    @property
    def per_sample(self):
        return self.body.per_sample and (self.projection is None or self.projection.per_sample)

    def build(self, input_shape):
        self.input_shape = shape = tuple(input_shape)
        try:
            out = self.body.build(shape)
        except MisfitError as exc:
            raise MisfitError(f"has a body whose {exc}") from None
        if out == shape and self.shortcut != "projection":
            self.projection = None
        elif self.shortcut == "identity":
            raise ValueError(
                f"its body turns an input of shape {_shape_str(shape)} into "
                f"{_shape_str(out)}, which cannot be added to the input; use "
                f"shortcut='auto' (or 'projection') for a learned projection, or a body "
                f"that keeps the shape"
            )
        else:
            self.projection = self._projection(shape, out)
        self.output_shape = out
        return out

    def _projection(self, shape, out):
        """The learned shortcut from ``shape`` to ``out``, built."""
        if len(shape) == 1 and len(out) == 1:
            layers = [Dense(out[0])]
        elif len(shape) == 3 and len(out) == 3:
            stride = [-(-size // max(n, 1)) for size, n in zip(shape[:2], out[:2])]
            if [-(-size // s) for size, s in zip(shape[:2], stride)] != list(out[:2]):
                raise ValueError(
                    f"its body turns an input of shape {_shape_str(shape)} into "
                    f"{_shape_str(out)}: a {_shape_str(out[:2])} output cannot be added to a "
                    f"{_shape_str(shape[:2])} input, since a 1x1 projection with stride s "
                    f"gives ceil(size / s) positions; use padding='same' in the body"
                )
            layers = [Conv2D(out[2], (1, 1), tuple(stride), "same", algorithm=self.conv_algorithm)]
        else:
            raise ValueError(
                f"its body turns an input of shape {_shape_str(shape)} into "
                f"{_shape_str(out)}, which cannot be added to the input: a residual body keeps "
                f"its input spatial (or flat) to the end; for a body of dense layers, put a "
                f"flatten or a global pooling before the block"
            )
        if _has_batch_norm(self.body):
            layers.append(BatchNorm())
        projection = Sequential(layers)
        projection.build(shape)
        return projection

    def forward(self, X, training=False):
        out = self.body.forward(X, training)
        shortcut = X if self.projection is None else self.projection.forward(X, training)
        return out + shortcut

    def backward(self, grad_out, need_input_grad=True):
        # out = body(x) + shortcut(x):  dL/dx = body'(x)^T g + shortcut'(x)^T g
        grad_body = self.body.backward(grad_out, need_input_grad)
        if self.projection is None:
            return grad_body + grad_out if need_input_grad else None
        grad_shortcut = self.projection.backward(grad_out, need_input_grad)
        return grad_body + grad_shortcut if need_input_grad else None

    def replica(self):
        twin = copy.copy(self)
        twin.body = self.body.replica()
        if self.projection is not None:
            twin.projection = self.projection.replica()
        return twin

    def clear_workspaces(self):
        self.body.clear_workspaces()
        if self.projection is not None:
            self.projection.clear_workspaces()

    def __repr__(self):
        shortcut = "identity" if self.projection is None else "projection"
        if self.output_shape is None:
            shortcut = self.shortcut
        return f"Residual(shortcut={shortcut!r})"


@register
class Parallel(Layer):
    """Parallel branches on the same input, their outputs side by side (Szegedy et al., 2015).

    Every branch is a sequence of layers; their outputs are concatenated
    along the channels (or the features of flat outputs), so they must agree
    in every other axis: ``padding="same"`` keeps spatial sizes equal, and
    global pooling makes branches of any size flat. A TextCNN (Kim, 2014)
    is convolutions of several widths in parallel, each globally max-pooled.

    Parameters
    ----------
    branches : list of Sequential
    """

    kind = "parallel"
    aliases = ("branches", "inception")
    arguments = (Specs("branches", help="one tuple of specs per branch"),)
    variadic = True
    examples = (("parallel", ("conv:8:3", "relu"), ("conv:8:5", "relu")),)

    def __init__(self, branches):
        self.branches = list(branches)

    @classmethod
    def from_spec(cls, values, context):
        return cls([Sequential.from_specs(specs, context) for specs in values["branches"]])

    def output_flat(self, flat):
        flats = {make_flat for make_flat in self._branch_flats(flat)}
        return flats.pop() if len(flats) == 1 else flat

    def _branch_flats(self, flat):
        for branch in self.branches:
            out = flat
            for layer in branch.stated:
                out = layer.output_flat(out)
            yield out

    def spec(self):
        return (self.kind, *(branch.spec() for branch in self.branches))

    def children(self):
        return [(f"branch{i + 1}", branch) for i, branch in enumerate(self.branches)]

    @property
    def per_sample(self):
        return all(branch.per_sample for branch in self.branches)

    def build(self, input_shape):
        self.input_shape = tuple(input_shape)
        shapes = []
        for i, branch in enumerate(self.branches):
            try:
                shapes.append(branch.build(input_shape))
            except MisfitError as exc:
                raise MisfitError(f"has a branch {i + 1} whose {exc}") from None
        if len({len(s) for s in shapes}) > 1 or len({s[:-1] for s in shapes}) > 1:
            raise ValueError(
                f"its branches give outputs of shapes "
                f"{', '.join(_shape_str(s) for s in shapes)}, which cannot be put side by "
                f"side: all but the last axis must agree (padding='same' keeps sizes equal; "
                f"global pooling makes any branch flat)"
            )
        #: Where each branch's channels end in the output.
        self._ends = np.cumsum([s[-1] for s in shapes]).tolist()
        self.output_shape = (*shapes[0][:-1], self._ends[-1])
        return self.output_shape

    def forward(self, X, training=False):
        return np.concatenate([branch.forward(X, training) for branch in self.branches], axis=-1)

    def backward(self, grad_out, need_input_grad=True):
        # out = [b1(x), b2(x), ...]:  dL/dx = sum over branches of b'(x)^T dL/d(its slice)
        grad_in, start = None, 0
        for branch, end in zip(self.branches, self._ends):
            part = np.ascontiguousarray(grad_out[..., start:end])
            grad = branch.backward(part, need_input_grad)
            if need_input_grad:
                grad_in = grad if grad_in is None else grad_in + grad
            start = end
        return grad_in

    def replica(self):
        twin = copy.copy(self)
        twin.branches = [branch.replica() for branch in self.branches]
        return twin

    def clear_workspaces(self):
        for branch in self.branches:
            branch.clear_workspaces()

    def __repr__(self):
        return f"Parallel(branches={len(self.branches)})"
