"""Data sets: images in the MNIST (IDX) format, and two small ones that ship with skcnn.

Nothing is downloaded: IDX files come from a path you give, or from where
Debian's ``dataset-fashion-mnist`` package installs them
(``apt-get install dataset-fashion-mnist``). :func:`load_words` (words of
five languages) and :func:`load_spoken_digits` (synthesized speech) read
files of the package itself, made from Debian's word lists and its
``espeak-ng`` by ``tools/make_datasets.py``.
"""

import gzip
from pathlib import Path

import numpy as np

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
_DATA = Path(__file__).resolve().parent / "data"

#: The languages of :func:`load_words`, in the order of the file.
LANGUAGES = ("english", "french", "german", "italian", "spanish")
#: The words of :func:`load_spoken_digits`, in the order of the digits.
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# The third byte of an IDX file's magic number names the element type.
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def load_idx(path):
    """Read one IDX file, gzip-compressed (``.gz``) or raw, into an array.

    Parameters
    ----------
    path : str or path-like
        The file, for example ``train-images-idx3-ubyte.gz``.

    Returns
    -------
    array : ndarray
        Of the shape and element type the file states, in native byte order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> header = bytes([0, 0, 0x08, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny-idx2-ubyte"
    >>> _ = path.write_bytes(header + bytes(range(6)))
    >>> load_idx(path)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as file:
        data = file.read()
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file: its first bytes are {data[:4]!r}.")
    dtype, ndim = _IDX_DTYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(
            f"{path} states shape {shape} of {dtype} ({expected} bytes with the header) "
            f"but holds {len(data)} bytes."
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def _find(folder, stem):
    for name in (f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def load_fashion_mnist(subset="train", data_home=None):
    """Load Fashion-MNIST: 28x28 grey images of clothing in 10 classes.

    Parameters
    ----------
    subset : {"train", "test"}, default="train"
        The 60,000 training or the 10,000 test images.
    data_home : str or path-like, default=None
        Folder holding the four IDX files (gzip-compressed or not). ``None``
        uses Debian's ``/usr/share/datasets/fashion-mnist``.

    Returns
    -------
    X : ndarray of shape (n_samples, 28, 28), dtype uint8
        Pixel values 0 to 255.
    y : ndarray of shape (n_samples,), dtype int64
        Class indices; ``FASHION_MNIST_CLASSES[y]`` names them.

    Raises
    ------
    FileNotFoundError
        When the files are not there, saying how to install them.

    Examples
    --------
    With Debian's package installed, ``load_fashion_mnist("test")`` is all it
    takes. Here, a folder with two tiny test files in the same format:

    >>> import gzip, pathlib, tempfile
    >>> import numpy as np
    >>> from skcnn.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> def write_idx(name, array):
    ...     header = bytes([0, 0, 0x08, array.ndim])
    ...     header += b"".join(n.to_bytes(4, "big") for n in array.shape)
    ...     with gzip.open(folder / name, "wb") as file:
    ...         file.write(header + array.astype(np.uint8).tobytes())
    >>> write_idx("t10k-images-idx3-ubyte.gz", np.zeros((3, 28, 28)))
    >>> write_idx("t10k-labels-idx1-ubyte.gz", np.array([9, 0, 5]))
    >>> X, y = load_fashion_mnist("test", data_home=folder)
    >>> X.shape, [FASHION_MNIST_CLASSES[label] for label in y]
    ((3, 28, 28), ['Ankle boot', 'T-shirt/top', 'Sandal'])
    """
    if subset not in ("train", "test"):
        raise ValueError(f"subset must be 'train' or 'test'; got {subset!r}.")
    folder = Path(data_home) if data_home is not None else DEBIAN_FASHION_MNIST
    prefix = "train" if subset == "train" else "t10k"
    paths = [
        _find(folder, f"{prefix}-{part}") for part in ("images-idx3-ubyte", "labels-idx1-ubyte")
    ]
    if None in paths:
        raise FileNotFoundError(
            f"Fashion-MNIST {subset} files ({prefix}-images-idx3-ubyte[.gz], "
            f"{prefix}-labels-idx1-ubyte[.gz]) are not in {folder}. On Debian or Ubuntu: "
            f"apt-get install dataset-fashion-mnist; or pass data_home= the folder "
            f"that holds them."
        )
    X, y = load_idx(paths[0]), load_idx(paths[1]).astype(np.int64)
    if X.ndim != 3 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(f"{paths[0]} and {paths[1]} do not hold matching images and labels.")
    return X, y


def make_xo(
    n_samples=200,
    size=9,
    *,
    shift=0.1,
    scale=(0.7, 1.0),
    rotation=20.0,
    deformation=0.08,
    random_state=None,
):
    """Small images of X's and O's, shifted, shrunk, rotated and deformed.

    The toy problem of the classic explanation of convolutional networks
    (Brandon Rohrer's "How do Convolutional Neural Networks work?"): pixels
    are 1 on the stroke and -1 elsewhere, and a network must tell an X from
    an O wherever and however it is drawn.

    Parameters
    ----------
    n_samples : int, default=200
        Number of images, half X's and half O's (X's get the odd one).
    size : int, default=9
        Pixels per side.
    shift : float, default=0.1
        Largest shift, as a fraction of the image side, along each axis.
    scale : tuple of float (low, high), default=(0.7, 1.0)
        Range of the size of a letter, as a fraction of the image side.
    rotation : float, default=20.0
        Largest rotation, in degrees, either way.
    deformation : float, default=0.08
        Amplitude of a smooth random wave that bends the strokes, as a
        fraction of the image side.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X : ndarray of shape (n_samples, size, size)
        Pixel values -1 (background) and 1 (stroke).
    y : ndarray of shape (n_samples,)
        ``"X"`` or ``"O"``, shuffled.

    Examples
    --------
    >>> from skcnn.datasets import make_xo
    >>> X, y = make_xo(4, size=5, shift=0, scale=(1, 1), rotation=0, deformation=0,
    ...                random_state=0)
    >>> X[y == "X"][0].astype(int)
    array([[ 1, -1, -1, -1,  1],
           [-1,  1, -1,  1, -1],
           [-1, -1,  1, -1, -1],
           [-1,  1, -1,  1, -1],
           [ 1, -1, -1, -1,  1]])
    """
    from sklearn.utils import check_random_state

    if not (isinstance(n_samples, (int, np.integer)) and n_samples >= 1):
        raise ValueError(f"n_samples must be an int >= 1; got {n_samples!r}.")
    if not (isinstance(size, (int, np.integer)) and size >= 3):
        raise ValueError(f"size must be an int >= 3; got {size!r}.")
    low, high = scale
    if not 0 < low <= high:
        raise ValueError(f"scale must be (low, high) with 0 < low <= high; got {scale!r}.")
    rng = check_random_state(random_state)
    is_x = np.arange(n_samples) % 2 == 0
    rng.shuffle(is_x)
    # Pixel centres in [-1, 1], then the inverse of each image's random transform.
    coords = (np.arange(size) - (size - 1) / 2) / ((size - 1) / 2)
    v, u = np.meshgrid(coords, coords, indexing="ij")  # v down, u right
    angle = np.deg2rad(rng.uniform(-rotation, rotation, n_samples))[:, None, None]
    zoom = rng.uniform(low, high, n_samples)[:, None, None]
    du, dv = (2 * shift * rng.uniform(-1, 1, (2, n_samples)))[:, :, None, None]
    phase = rng.uniform(0, 2 * np.pi, (2, n_samples))[:, :, None, None]
    u0, v0 = u - du, v - dv
    u1 = (np.cos(angle) * u0 + np.sin(angle) * v0) / zoom
    v1 = (-np.sin(angle) * u0 + np.cos(angle) * v0) / zoom
    u1 = u1 + deformation * np.sin(np.pi * v1 + phase[0])
    v1 = v1 + deformation * np.sin(np.pi * u1 + phase[1])
    half_width = 1.0 / (size - 1) / np.sqrt(zoom)  # about one pixel wide strokes
    # X: near a diagonal, inside the square; O: near the circle of radius 0.9.
    on_x = (np.minimum(np.abs(u1 - v1), np.abs(u1 + v1)) <= 1.5 * half_width) & (
        np.maximum(np.abs(u1), np.abs(v1)) <= 1.0 + 1e-9
    )
    on_o = np.abs(np.hypot(u1, v1) - 0.85) <= 1.3 * half_width
    X = np.where(np.where(is_x[:, None, None], on_x, on_o), 1.0, -1.0)
    return X, np.where(is_x, "X", "O")


def load_words(languages=None):
    """Load 10,000 words of five languages: 2,000 each of English, French, German, Italian, Spanish.

    Drawn at random from the word lists of Debian's wamerican, wfrench,
    wngerman, witalian and wspanish packages, lower-cased; words with an
    apostrophe or a digit are left out, and so are words in more than one
    of the lists, whose language their letters cannot tell
    (``tools/make_datasets.py`` made the file).

    Parameters
    ----------
    languages : sequence of str, default=None
        Some of :data:`LANGUAGES`; by default all five.

    Returns
    -------
    words : ndarray of shape (n_words,), dtype object
        The words, as Python strings.
    language : ndarray of shape (n_words,), dtype object
        The language of every word.

    Examples
    --------
    >>> from skcnn.datasets import load_words
    >>> words, language = load_words(["french", "german"])
    >>> len(words), sorted(set(language))
    (4000, ['french', 'german'])
    """
    chosen = LANGUAGES if languages is None else tuple(languages)
    unknown = [lang for lang in chosen if lang not in LANGUAGES]
    if isinstance(languages, str) or unknown or not chosen:
        raise ValueError(
            f"languages must be a list of some of {', '.join(LANGUAGES)}; got {languages!r}."
        )
    with gzip.open(_DATA / "words.tsv.gz", "rt", encoding="utf-8") as file:
        pairs = [line.rstrip("\n").split("\t") for line in file]
    pairs = [(word, lang) for lang, word in pairs if lang in chosen]
    words = np.array([word for word, _ in pairs], dtype=object)
    return words, np.array([lang for _, lang in pairs], dtype=object)


def _mu_law_decode(codes, mu=255):
    """8-bit mu-law codes (G.711) to floats in [-1, 1]."""
    y = codes.astype(np.float64) / 255 * 2 - 1
    return np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu


def load_spoken_digits():
    """Load 140 spoken digits, "zero" to "nine", synthesized by espeak-ng at 8,000 Hz.

    Synthesized speech, not recordings of people: 14 synthetic speakers of
    Debian's ``espeak-ng`` (an English accent, a voice variant, a pitch and
    a speed each) say every digit once. The clips are trimmed of the
    silence around the word (0.24 to 0.71 s), resampled from 22,050 Hz to
    8,000 Hz and stored as 8-bit mu-law, telephone quality
    (``tools/make_datasets.py`` made the file).

    Returns
    -------
    X : list of 140 ndarrays of shape (n_samples,)
        The waveforms, floats in [-1, 1], of different lengths.
    y : ndarray of shape (140,), dtype object
        The digit spoken, as a word (:data:`DIGITS`).
    speaker : ndarray of shape (140,), dtype object
        Who speaks: the voice, pitch and speed, such as ``"en-gb+m3, pitch
        41, 152 words/min"``; groups for
        :class:`~sklearn.model_selection.GroupShuffleSplit`, to test on
        speakers the model never heard.

    Examples
    --------
    >>> from skcnn.datasets import load_spoken_digits
    >>> X, y, speaker = load_spoken_digits()
    >>> len(X), y[:3].tolist(), len(set(speaker))
    (140, ['zero', 'one', 'two'], 14)
    """
    with np.load(_DATA / "spoken_digits.npz") as data:
        audio = _mu_law_decode(data["mu_law"])
        offsets, digit = data["offsets"], data["digit"]
        speakers = data["speakers"][data["speaker"]]
    X = [audio[start:stop] for start, stop in zip(offsets[:-1], offsets[1:])]
    y = np.array([DIGITS[d] for d in digit], dtype=object)
    return X, y, np.array([str(s) for s in speakers], dtype=object)
