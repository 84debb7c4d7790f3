"""Residual blocks and parallel branches: gradients, shortcuts, names and errors."""

import numpy as np
import pytest

from skcnn._architecture import make_network, with_output
from skcnn._engine.base import walk
from skcnn._engine.blocks import Parallel, Residual, Sequential
from skcnn._engine.specs import SpecContext, make_layers, parse_spec
from skcnn.layers import check_layer


def block(spec, input_shape=(6, 6, 3), padding="same"):
    """The layer of one spec, for inputs of ``input_shape``, not built."""
    parsed = parse_spec(spec, "spec", SpecContext(padding=padding))
    context = SpecContext(signal=input_shape[0] == 1, flat=len(input_shape) == 1)
    (layer,), _ = make_layers([parsed], context)
    return layer


BODY = ("conv:3:3", "bn", "relu", "conv:3:3", "bn")


@pytest.mark.parametrize(
    "spec, input_shape, projection",
    [
        (("residual", BODY), (6, 6, 3), False),  # identity: the body keeps the shape
        (("residual", ("conv:4:3", "tanh")), (5, 6, 2), True),  # more channels
        (("residual", ("conv:3:3:2", "bn", "relu", "conv:3:3")), (6, 7, 3), True),  # stride
        (("residual", ("conv:3:3", "elu"), "projection"), (6, 6, 3), True),  # asked for
        (("residual", ("dense:5", "tanh", "dense:5")), (5,), False),  # flat inputs
        (("residual", ("dense:4", "sigmoid")), (5,), True),  # a dense projection
        (("residual", ("conv:3:3:dilation=2", "leaky_relu:0.2")), (1, 12, 3), False),  # a signal
        (("residual", (("residual", ("conv:3:3", "relu")), "conv:3:3")), (5, 5, 3), False),
    ],
)
def test_residual_gradients(spec, input_shape, projection):
    layer = block(spec, input_shape)
    check_layer(layer, input_shape, n_samples=3)
    assert (layer.projection is not None) == projection
    assert layer.output_shape == layer.body.output_shape


def test_identity_residual_adds_the_input_to_the_body():
    layer = block(("residual", ("conv:3:3", "relu")))
    layer.build((6, 6, 3))
    layer.initialize(np.random.RandomState(0), np.float64, "he")
    X = np.random.RandomState(1).standard_normal((2, 6, 6, 3))
    np.testing.assert_array_equal(layer.forward(X), layer.body.forward(X) + X)


def test_projection_has_batch_norm_where_the_body_has_it():
    with_norm = block(("residual", ("conv:4:3", "bn")))
    with_norm.build((6, 6, 3))
    assert [type(layer).__name__ for layer in with_norm.projection.layers] == [
        "Conv2D",
        "BatchNorm",
    ]
    plain = block(("residual", ("conv:4:3:2", "relu")))
    plain.build((6, 7, 3))
    (conv,) = plain.projection.layers
    assert conv.kernel_size == (1, 1) and conv.stride == (2, 2) and conv.filters == 4
    assert [name for name, _ in walk(plain)] == ["conv1", "relu1", "shortcut", "shortcut.conv1"]


@pytest.mark.parametrize(
    "spec, padding, match",
    [
        (
            ("residual", ("conv:4:3",), "identity"),
            "same",
            r"turns an input of shape 6x6x3 into 6x6x4, which cannot be added to the input; "
            r"use shortcut='auto' \(or 'projection'\)",
        ),
        (
            ("residual", ("conv:3:3",)),
            "valid",  # 6x6 -> 4x4, which no strided 1x1 conv gives
            r"a 4x4 output cannot be added to a 6x6 input, since a 1x1 projection with stride s "
            r"gives ceil\(size / s\) positions; use padding='same'",
        ),
        (
            ("residual", ("conv:3:3", "gap")),
            "same",
            r"turns an input of shape 6x6x3 into 3, which cannot be added",
        ),
        (
            ("residual", ("conv:3:7",)),
            "valid",
            r"has a body whose layer 0, Conv2D.* gets an input of shape 6x6x3 and its 7x7 kernel",
        ),
    ],
)
def test_residual_errors_say_why_the_body_cannot_be_added(spec, padding, match):
    layer = block(spec, (6, 6, 3), padding)
    with pytest.raises(ValueError, match=match):
        layer.build((6, 6, 3))


def test_residual_misfit_names_the_block_and_its_layer():
    spec = parse_spec(("residual", ("conv:3:9",)), "layers[0]", SpecContext(padding="valid"))
    specs, sources = with_output([spec], ["b"], 2)
    with pytest.raises(
        ValueError,
        match=r"The architecture does not fit the input: layer 0, Residual.*\(stated by b\), "
        r"has a body whose layer 0, Conv2D.*, gets an input of shape 6x6x1 and its 9x9 kernel",
    ):
        make_network(specs, (6, 6, 1), sources=sources)


@pytest.mark.parametrize(
    "spec, input_shape, output_shape",
    [
        (("parallel", ("conv:2:3", "relu"), ("conv:3:5", "tanh")), (6, 6, 2), (6, 6, 5)),
        (
            ("parallel", ("conv:2:3", "gmp"), ("conv:3:5", "gap"), "flatten"),
            (1, 9, 2),
            (2 + 3 + 18,),
        ),
        (("parallel", ("dense:3",), ("dense:2", "elu")), (4,), (5,)),
    ],
)
def test_parallel_gradients(spec, input_shape, output_shape):
    layer = block(spec, input_shape)
    check_layer(layer, input_shape, n_samples=3)
    assert layer.output_shape == output_shape


def test_parallel_branches_must_agree_but_in_the_last_axis():
    layer = block(("parallel", ("conv:2:3",), ("conv:2:3", "maxpool:2")), (6, 6, 1))
    with pytest.raises(ValueError, match=r"outputs of shapes 6x6x2, 3x3x2, which cannot be put"):
        layer.build((6, 6, 1))


def test_blocks_replicate_their_layers_and_keep_the_parameters():
    layer = block(("residual", ("conv:4:3", "relu", ("parallel", ("conv:2:3",), ("conv:2:1",)))))
    layer.build((6, 6, 3))
    layer.initialize(np.random.RandomState(0), np.float64, "he")
    twin = layer.replica()
    assert all(a is b for a, b in zip(twin.params, layer.params, strict=True))
    inner = [b for _, b in walk(layer)]
    twin_inner = [b for _, b in walk(twin)]
    assert len(inner) == len(twin_inner) and all(a is not b for a, b in zip(inner, twin_inner))
    X = np.random.RandomState(1).standard_normal((2, 6, 6, 3))
    R = np.random.RandomState(2).standard_normal((2, 6, 6, 4))
    twin.forward(X, training=True)
    layer.forward(2 * X, training=True)  # its own saved state, not the twin's
    twin.backward(R)
    layer.backward(R)
    assert all(a is not b for a, b in zip(twin.grads, layer.grads, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(twin.grads, layer.grads))


def test_blocks_spec_themselves_as_resolved_values():
    layer = block(("residual", ("conv:4:3", "relu")))
    layer.build((6, 6, 3))
    assert layer.spec() == (
        "residual",
        (("conv", 4, (3, 3), (1, 1), "same"), ("relu",)),
        "projection",
    )
    parallel = block(("parallel", ("conv:2:3",), ("gap",)), (1, 8, 2))
    assert parallel.spec() == (
        "parallel",
        (("conv", 2, (1, 3), (1, 1), "same"),),
        (("globalavgpool",),),
    )
    assert isinstance(parallel, Parallel) and isinstance(layer, Residual)
    assert all(isinstance(branch, Sequential) for branch in parallel.branches)
