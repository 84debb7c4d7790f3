"""Architecture arguments: parsing, defaults and errors that say what is wrong."""

import pytest

from skcnn._architecture import (
    BLOCK_DEFAULTS,
    architecture_specs,
    make_network,
    parse_layer_spec,
    with_output,
)


def params(**changes):
    base = dict(BLOCK_DEFAULTS, layers=None, padding="same")
    base.update(changes)
    return base


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("conv:32:3", ("conv", 32, 3, 1, "same")),
        ("conv:8:3x5:2:valid", ("conv", 8, (3, 5), 2, "valid")),
        (("conv", 4, (2, 2), (1, 2)), ("conv", 4, (2, 2), (1, 2), "same")),
        ("maxpool:2", ("maxpool", 2, 2, "same")),
        ("pool:3:2:valid", ("maxpool", 3, 2, "valid")),
        (("maxpool", (1, 4)), ("maxpool", (1, 4), (1, 4), "same")),
        ("relu", ("relu",)),
        (("relu",), ("relu",)),
        ("dense:64", ("dense", 64)),
        ("Dense:64", ("dense", 64)),
    ],
)
def test_parse_layer_spec(spec, expected):
    assert parse_layer_spec(spec, "layers[0]", "same") == expected


@pytest.mark.parametrize(
    "spec, match",
    [
        ("conv:0:3", r"layers\[2\]: filters must be an int >= 1"),
        ("conv:8", r"conv layer is written"),
        ("maxpool:2:2:full", r"padding must be 'valid' or 'same'"),
        ("softmax", r"unknown layer kind .softmax.\. The kinds are conv, maxpool"),
        ("maxpool2", r"unknown layer kind .maxpool2.\. Did you mean 'maxpool:2'"),
        ("tahn", r"unknown layer kind .tahn.\. Did you mean 'tanh'"),
        ("conv:8:3:dilaton=2", r"a conv layer has no argument 'dilaton'; its arguments are "),
        ("conv:8:stride=2:3", r"a positional argument \('3'\) follows named ones"),
        (("conv", 8, 3, {"kernel_size": 2}), r"kernel_size is given twice"),
        ("leaky_relu:-1", r"slope must be a number >= 0; got -1"),
        (("residual", ("conv", 8, 3)), r"body must be a tuple of layer specs .* reads as one spec"),
        (("residual", ("conv:8:3", "tanh"), "sum"), r"shortcut must be one of 'auto', 'identity'"),
        (("residual", ("conv:0:3",)), r"layers\[2\]\[1\]\[0\]: filters must be an int >= 1"),
        (("parallel",), r"a parallel layer is written \('parallel', branches, \.\.\.\)"),
        (("dense", 2.5), r"units must be an int >= 1"),
        (("relu", 3), r"relu layer is written"),
        (42, r"layers\[2\] must be a layer spec"),
        ((), r"layers\[2\] must be a layer spec"),
        (("conv", 8, (3, 3, 3)), r"kernel_size must be an int >= 1 or a \(height, width\)"),
    ],
)
def test_parse_layer_spec_errors(spec, match):
    with pytest.raises(ValueError, match=match):
        parse_layer_spec(spec, "layers[2]", "same")


def test_block_arguments():
    specs, sources = architecture_specs(
        params(
            filters=(4, 8),
            kernel_size=(3, (1, 5)),
            pool_size=(2, 1),
            pool_stride=(1, 1),
            hidden_layer_sizes=(16, 8),
        )
    )
    assert specs == [
        ("conv", 4, 3, 1, "same"),
        ("relu",),
        ("maxpool", 2, 1, "same"),
        ("conv", 8, (1, 5), 1, "same"),
        ("relu",),  # 1x1 pooling with stride 1: none
        ("dense", 16),
        ("relu",),
        ("dense", 8),
        ("relu",),
    ]
    assert len(sources) == len(specs)
    assert sources[0] == "filters[0] and kernel_size"


def test_no_conv_layers_is_an_mlp():
    specs, _ = architecture_specs(params(filters=(), hidden_layer_sizes=5))
    assert specs == [("dense", 5), ("relu",)]


@pytest.mark.parametrize(
    "changes, match",
    [
        (dict(kernel_size=(3, 3, 3)), "kernel_size has 3 entries but filters states 2"),
        (dict(pool_size=(2, 0)), r"pool_size\[1\]: pool_size must be an int >= 1"),
        (dict(filters=(8, -1)), "filters must be an int >= 1 or a tuple"),
        (dict(hidden_layer_sizes=(0,)), "hidden_layer_sizes must be"),
        (dict(layers=("relu",), filters=(8,)), "layers states the whole architecture"),
        (dict(layers="conv:8:3"), "layers must be a tuple of layer specs"),
        (dict(padding="full"), "padding must be 'valid' or 'same'"),
    ],
)
def test_architecture_errors(changes, match):
    with pytest.raises(ValueError, match=match):
        architecture_specs(params(**changes))


def resolved(specs, input_shape, n_outputs=3):
    specs, _ = with_output(specs, [None] * len(specs), n_outputs)
    return list(make_network(specs, input_shape).spec())


def test_networks_resolve_sizes_for_images_and_signals():
    specs = [("conv", 4, 3, 1, "same"), ("maxpool", 2, 2, "same"), ("dense", 5)]
    assert resolved(specs, (8, 8, 1)) == [
        ("conv", 4, (3, 3), (1, 1), "same"),
        ("maxpool", (2, 2), (2, 2), "same"),
        ("flatten",),
        ("dense", 5),
        ("dense", 3),
    ]
    signal = resolved(specs, (1, 100, 2))
    assert signal[0] == ("conv", 4, (1, 3), (1, 1), "same")
    assert signal[1] == ("maxpool", (1, 2), (1, 2), "same")


def test_resolved_specs_make_the_same_network_again():
    specs = [
        parse_layer_spec(s, "layers", "same")
        for s in ["conv:4:3:dilation=2", "bn", "relu", ("residual", ("conv:6:3", "elu")), "gap"]
    ]
    first = resolved(specs, (1, 20, 2))
    assert first[0] == ("conv", 4, (1, 3), (1, 1), "same", (1, 2))
    assert first[3] == ("residual", (("conv", 6, (1, 3), (1, 1), "same"), ("elu",)), "projection")
    assert list(make_network(first, (1, 20, 2)).spec()) == first


def test_misfit_names_layer_and_argument():
    specs, sources = architecture_specs(params(filters=(4, 4, 4), padding="valid"))
    specs, sources = with_output(specs, sources, 3)
    # 8 -conv-> 6 -pool-> 3 -conv-> 1: the second pooling window cannot fit.
    with pytest.raises(
        ValueError,
        match=r"layer 5, MaxPool2D.*\(stated by pool_size and "
        r"pool_stride of block 1\), gets an input of shape "
        r"1x1x4 and its 2x2 pooling window is larger",
    ):
        make_network(specs, (8, 8, 1), sources=sources)
