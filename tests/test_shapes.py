"""The rule that turns X (and input_shape) into image batches."""

import pytest

from skcnn._shapes import image_shape, sample_shape


@pytest.mark.parametrize(
    "X_shape, input_shape, expected",
    [
        ((5, 30), None, (1, 30, 1)),
        ((5, 1), None, (1, 1, 1)),
        ((5, 30), (30,), (1, 30, 1)),
        ((5, 30), 30, (1, 30, 1)),
        ((5, 64), (8, 8), (8, 8, 1)),
        ((5, 48), (4, 4, 3), (4, 4, 3)),
        ((5, 48), (1, 16, 3), (1, 16, 3)),
        ((5, 8, 8), None, (8, 8, 1)),
        ((5, 8, 8), (8, 8), (8, 8, 1)),
        ((5, 8, 6, 3), None, (8, 6, 3)),
        ((5, 8, 6, 3), (8, 6, 3), (8, 6, 3)),
    ],
)
def test_sample_shape_rule(X_shape, input_shape, expected):
    assert sample_shape(X_shape, input_shape) == expected


@pytest.mark.parametrize(
    "X_shape, input_shape, match",
    [
        (
            (5, 63),
            (8, 8),
            r"input_shape=\(8, 8\) describes 64 features per sample, but X "
            r"has 63 features",
        ),
        ((5, 8, 8), (4, 16), r"does not match the samples of X"),
        ((5, 2, 2, 2, 2), None, r"X must be 2-D .* got an array of shape \(5, 2, 2, 2, 2\)"),
        ((5,), None, r"X must be 2-D"),
    ],
)
def test_sample_shape_errors(X_shape, input_shape, match):
    with pytest.raises(ValueError, match=match):
        sample_shape(X_shape, input_shape)


@pytest.mark.parametrize("bad", [(0, 3), (8, 8, 1, 1), (8.0, 8), "8x8", (True, 2), ()])
def test_image_shape_rejects(bad):
    with pytest.raises(ValueError, match="input_shape must be None, "):
        image_shape(bad)
