"""Readers for image data sets stored on disk in the MNIST (IDX) format.

Nothing is downloaded: the files come from a path you give, or from where
Debian's ``dataset-fashion-mnist`` package installs them
(``apt-get install dataset-fashion-mnist``).
"""

import gzip
from pathlib import Path

import numpy as np

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

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
