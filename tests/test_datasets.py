"""The IDX reader, on small files written by the tests."""

import gzip

import numpy as np
import pytest

from skcnn.datasets import DEBIAN_FASHION_MNIST, load_fashion_mnist, load_idx


def write_idx(path, array, type_code=0x08):
    header = bytes([0, 0, type_code, array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_load_idx_round_trip(tmp_path, suffix):
    images = np.random.RandomState(0).randint(0, 256, size=(5, 4, 3)).astype(np.uint8)
    write_idx(tmp_path / f"x-idx3-ubyte{suffix}", images)
    np.testing.assert_array_equal(load_idx(tmp_path / f"x-idx3-ubyte{suffix}"), images)


def test_load_idx_big_endian_floats(tmp_path):
    values = np.array([[1.5, -2.0], [3.25, 0.0]], dtype=np.float32)
    write_idx(tmp_path / "f", values, type_code=0x0D)
    loaded = load_idx(tmp_path / "f")
    assert loaded.dtype == np.float32 and loaded.dtype.isnative
    np.testing.assert_array_equal(loaded, values)


def test_load_idx_rejects_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="is not an IDX file"):
        load_idx(tmp_path / "notes.txt")
    write_idx(tmp_path / "short", np.zeros((4, 4), np.uint8))
    (tmp_path / "short").write_bytes((tmp_path / "short").read_bytes()[:-3])
    with pytest.raises(ValueError, match=r"states shape \(4, 4\)"):
        load_idx(tmp_path / "short")


def test_load_fashion_mnist_from_a_folder(tmp_path):
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, size=(6, 28, 28)).astype(np.uint8)
    labels = rng.randint(0, 10, size=6).astype(np.uint8)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels)
    X, y = load_fashion_mnist("test", data_home=tmp_path)
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, labels)
    assert y.dtype == np.int64


def test_missing_files_say_how_to_install(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist(data_home=tmp_path)
    with pytest.raises(ValueError, match="subset must be"):
        load_fashion_mnist("validation", data_home=tmp_path)


@pytest.mark.skipif(
    not (DEBIAN_FASHION_MNIST / "t10k-images-idx3-ubyte.gz").exists(),
    reason="Debian's dataset-fashion-mnist is not installed",
)
def test_debian_fashion_mnist():
    X, y = load_fashion_mnist("test")
    assert X.shape == (10000, 28, 28) and X.dtype == np.uint8
    assert np.bincount(y).tolist() == [1000] * 10


def test_make_xo():
    from skcnn.datasets import make_xo

    X, y = make_xo(51, size=11, random_state=0)
    assert X.shape == (51, 11, 11) and set(np.unique(X)) == {-1.0, 1.0}
    assert (y == "X").sum() == 26 and (y == "O").sum() == 25
    # an O has a hole in the middle, an X a stroke through it
    assert (X[y == "O"][:, 5, 5] == -1).mean() > 0.9
    assert (X[y == "X"][:, 4:7, 4:7] == 1).any(axis=(1, 2)).mean() > 0.9
    np.testing.assert_array_equal(make_xo(51, size=11, random_state=0)[0], X)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"n_samples": 0}, "n_samples must be"), ({"size": 2}, "size must be"),
     ({"scale": (1, 0.5)}, "scale must be")],
)  # fmt: skip
def test_make_xo_errors(kwargs, match):
    from skcnn.datasets import make_xo

    with pytest.raises(ValueError, match=match):
        make_xo(**kwargs)


def test_load_words_five_languages_no_word_in_two():
    from skcnn.datasets import LANGUAGES, load_words

    words, language = load_words()
    assert len(words) == 10_000 and len(set(words)) == 10_000
    assert {lang: int((language == lang).sum()) for lang in LANGUAGES} == dict.fromkeys(
        LANGUAGES, 2000
    )
    assert all(w == w.lower() and "'" not in w for w in words)
    with pytest.raises(ValueError, match="languages must be a list of some of english"):
        load_words("french")
    with pytest.raises(ValueError, match="got \\['klingon'\\]"):
        load_words(["klingon"])


def test_load_spoken_digits_every_speaker_says_every_digit():
    from skcnn.datasets import DIGITS, load_spoken_digits

    X, y, speaker = load_spoken_digits()
    assert len(X) == len(y) == len(speaker) == 140
    for who in set(speaker):
        assert sorted(y[speaker == who]) == sorted(DIGITS)
    assert all(clip.ndim == 1 and 0.2 * 8000 < len(clip) < 0.8 * 8000 for clip in X)
    assert max(np.abs(clip).max() for clip in X) <= 1.0
    assert min(np.abs(clip).max() for clip in X) > 0.1  # every clip is speech, not silence
