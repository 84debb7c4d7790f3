"""Layers computed together: a conv and the max pooling after it.

What runs is not always what the architecture states: where it is
exact and cheaper, the engine runs two or three stated layers as one step.
"""

from functools import partial

from .activations import ReLU
from .base import Layer
from .conv import Conv2D
from .kernels import algorithm_costs, pooled_im2col_backward, pooled_im2col_forward
from .normalization import BatchNorm
from .pooling import MaxPool2D
from .tuning import FUSED_IM2COL_MARGIN
from .workspace import FRESH, Workspace


class ConvMaxPool2D(Layer):
    """A :class:`Conv2D` and the :class:`MaxPool2D` after it, computed as one step.

    Not a layer of the architecture: the :class:`~skcnn._engine.network.Network`
    runs this step in place of the conv, the pooling and, when there is one,
    the :class:`BatchNorm` between them, when the pooling windows tile the conv
    output (stride equal to the window, no padding; with batch normalization,
    every conv output in a window) and the conv uses im2col (see
    :func:`skcnn._engine.kernels.pooled_im2col_forward`). The weights, their
    gradients, the running statistics and the output stay those of the layers
    it holds.

    Parameters
    ----------
    conv : Conv2D
        Built.
    pool : MaxPool2D
        Built, on the output of ``conv`` (or of ``norm``).
    norm : BatchNorm or None, default=None
        Built, on the output of ``conv``.
    """

    def __init__(self, conv, pool, norm=None):
        self.conv, self.pool, self.norm = conv, pool, norm
        self.input_shape, self.output_shape = conv.input_shape, pool.output_shape
        self.per_sample = norm is None
        self.workspace = Workspace()

    @staticmethod
    def fits(conv, pool, norm=None, algorithm=None):
        """Whether the layers can run as one step (with ``conv`` on ``algorithm``:
        by default the one it has)."""
        if algorithm is None:
            algorithm = getattr(conv, "algorithm_", None)
        if not (
            isinstance(conv, Conv2D)
            and type(pool) is MaxPool2D
            and (norm is None or type(norm) is BatchNorm)
            and algorithm == "im2col"
            and pool.stride == pool.pool_size
            and not any(any(pads) for pads in pool._pads)
        ):
            return False
        # Batch statistics take every conv output, also those no window reads.
        covered = [n * size for n, size in zip(pool.output_shape[:2], pool.pool_size)]
        return norm is None or covered == list(conv.output_shape[:2])

    def forward(self, X, training=False):
        conv, norm = self.conv, self.norm
        out, self._saved = pooled_im2col_forward(
            conv._pad(X),
            conv.weights,
            conv.bias,
            conv.stride,
            self.pool.pool_size,
            self.output_shape[:2],
            training,
            normalize=None if norm is None else partial(norm.forward, training=training),
            workspace=self.workspace if training else FRESH,
            dilation=conv.dilation,
        )
        return out

    def backward(self, grad_out, need_input_grad=True):
        conv, norm = self.conv, self.norm
        grad_x_pad, conv.grad_weights, conv.grad_bias = pooled_im2col_backward(
            grad_out,
            self._saved,
            conv.weights,
            conv.stride,
            self.pool.pool_size,
            (len(grad_out), *conv._padded_shape),
            need_input_grad,
            normalize_backward=None if norm is None else norm.backward,
            workspace=self.workspace,
            dilation=conv.dilation,
        )
        self._saved = None
        return None if grad_x_pad is None else conv._crop(grad_x_pad)

    def __repr__(self):
        layers = [self.conv, self.pool] if self.norm is None else [self.conv, self.norm, self.pool]
        return f"ConvMaxPool2D({', '.join(map(str, layers))})"


def _fusion_wins(conv, pool, norm=None):
    """Whether a conv that ``"auto"`` gave another algorithm runs faster as im2col fused.

    The cost model of :func:`~skcnn._engine.kernels.resolve_algorithm` prices a
    conv alone; fused with its tiled max pooling, im2col skips the pooling's
    own pass and the positions no window reads. So a stated ``"auto"`` fuses
    unless the model prices the other algorithm
    :data:`~skcnn._engine.tuning.FUSED_IM2COL_MARGIN` times cheaper than
    im2col alone.
    """
    if not isinstance(conv, Conv2D) or getattr(conv, "algorithm", None) != "auto":
        return False
    chosen = getattr(conv, "algorithm_", "im2col")
    if chosen == "im2col":
        return False
    weights_shape = (*conv.kernel_size, conv.input_shape[2], conv.filters)
    costs = algorithm_costs(conv._padded_shape, weights_shape, conv.stride, conv.dilation)
    if costs["im2col"] >= FUSED_IM2COL_MARGIN * costs[chosen]:
        return False
    return ConvMaxPool2D.fits(conv, pool, norm, algorithm="im2col")


def fused_steps(layers, stated):
    """What runs for ``layers``: the same, each tiled max pooling computed with its conv.

    ``layers`` are ``stated`` (the layers of a network, in order) or a
    selection of them. A conv, a batch normalization if there is one, and a
    max pooling that follow each other in ``stated`` run as one
    :class:`ConvMaxPool2D` when it fits them.
    """
    position = {id(layer): index for index, layer in enumerate(stated)}
    steps = []
    for layer in layers:
        steps.append(layer)
        # The layers this one closes: the conv (and norm) right before it.
        for width in (2, 3):
            group = steps[-width:]
            if len(group) == width and all(id(g) in position for g in group):
                indexes = [position[id(g)] for g in group]
                consecutive = indexes == list(range(indexes[0], indexes[0] + width))
                conv, *norm, pool = group
                if consecutive and _fusion_wins(conv, pool, *norm):
                    conv.use_algorithm("im2col")
                if consecutive and ConvMaxPool2D.fits(conv, pool, *norm):
                    steps[-width:] = [ConvMaxPool2D(conv, pool, *norm)]
                    break
    return steps


def relu_after_pooling(named_layers):
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
