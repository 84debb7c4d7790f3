"""The embedding: integer token ids to learned vectors, the first layer of text models.

A text reaches a network as a sequence of token ids (see
:class:`skcnn.preprocessing.TextVectorizer`): a 1-D signal of one channel,
whose values are ids, not measurements. The embedding looks every id up in a
table of learned vectors, so the signal gets one channel per entry of the
vectors, and the convolutions after it read ``(1, length, embedding_dim)``
like any multi-channel signal.

Id 0 is padding: its positions give zero vectors, whatever row 0 of the
table holds (kept zero), so its gradient is zero and padded positions add
nothing to what the convolutions see. The ids are not
differentiated (``has_input_gradient = False``): ``backward`` returns
``None``, and the embedding is the first layer of its network.
"""

import numpy as np
from scipy import sparse

from .base import Layer, _shape_str
from .specs import Integer, register

#: The largest table an embedding learns from the data by itself, in bytes: beyond,
#: the ids are surely not a vocabulary's (hashes, raw numbers), and ``n_tokens`` says so.
MAX_LEARNED_TABLE_BYTES = 2**30


@register
class Embedding(Layer):
    """Token ids to learned vectors; id 0 is padding, its vector zero and fixed.

    Parameters
    ----------
    embedding_dim : int
        Entries of every vector: the channels of the output.
    n_tokens : int, default=None
        Rows of the table: ids from 0 to ``n_tokens - 1``. By default the
        largest id of the first training ``X``, plus one; ids beyond the
        table at ``partial_fit`` or prediction are refused (a vectorizer
        maps the tokens it did not learn to an id of its own, so its ids
        stay in the table).

    Attributes
    ----------
    weights : ndarray of shape (n_tokens, embedding_dim)
        The table; row 0 (padding) is zero.

    Notes
    -----
    Input: ``(n, height, width, 1)`` batches of whole numbers (``(n, 1,
    length, 1)`` for sequences); output ``(n, height, width,
    embedding_dim)``. In float32 the ids are exact up to 2**24, more than
    any vocabulary.
    """

    kind = "embedding"
    aliases = ("embed",)
    arguments = (
        Integer("embedding_dim", help="entries of every vector (the output channels)"),
        Integer(
            "n_tokens",
            None,
            low=2,
            default_doc="the largest training id + 1",
            help="rows of the table, ids 0 .. n_tokens - 1",
        ),
    )
    examples = ("embedding:16", "embedding:32:n_tokens=5000")
    param_names = ("weights",)
    has_input_gradient = False
    weights = grad_weights = None
    #: The table size learned by :meth:`adapt` where ``n_tokens`` is None.
    _learned_tokens = None

    def __init__(self, embedding_dim, n_tokens=None):
        self.embedding_dim = embedding_dim
        self.n_tokens = n_tokens

    @property
    def table_size(self):
        """Rows of the table: of the weights once there are some, else as stated or learned."""
        if self.weights is not None:
            return len(self.weights)
        return self.n_tokens if self.n_tokens is not None else self._learned_tokens

    def _where(self):
        return self.source.split("=", 1)[0] if self.source else "the embedding"

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] != 1:
            raise ValueError(
                f"it reads one token id per position, so it needs inputs of one channel "
                f"(n_samples, length) or (n_samples, height, width); got per-sample shape "
                f"{_shape_str(input_shape)}"
            )
        self.input_shape = tuple(input_shape)
        self.output_shape = (*input_shape[:2], self.embedding_dim)
        return self.output_shape

    def _check_ids(self, X):
        """Whole ids >= 0, exact in ``X``'s dtype; return the largest."""
        where = self._where()
        if X.size == 0:
            return -1
        low = float(X.min())
        if low < 0:
            raise ValueError(
                f"{where} is an embedding: X must hold token ids, whole numbers >= 0 (0 is "
                f"padding); X holds {low:g}. Turn text into ids with "
                f"skcnn.preprocessing.TextVectorizer."
            )
        fractional = np.floor(X) != X
        if fractional.any():
            fraction = X[fractional].flat[0]
            raise ValueError(
                f"{where} is an embedding: X must hold token ids, whole numbers >= 0; X "
                f"holds {fraction:g}. Turn text into ids with "
                f"skcnn.preprocessing.TextVectorizer (and scale nothing after it)."
            )
        high = float(X.max())
        if X.dtype == np.float32 and high >= 2**24:
            raise ValueError(
                f"{where} is an embedding: X holds the id {high:.0f}, and float32 holds whole "
                f"numbers exactly only up to 2**24 = 16777216; use dtype='float64' or fewer "
                f"tokens."
            )
        return int(high)

    def adapt(self, X):
        """Check the training ids; without ``n_tokens``, learn the table's size from them."""
        high = self._check_ids(X)
        if self.n_tokens is not None:
            self.check_input(X)
            return
        rows = max(high + 1, 2)  # padding and at least one token
        size = rows * self.embedding_dim * X.dtype.itemsize
        if size > MAX_LEARNED_TABLE_BYTES:
            raise ValueError(
                f"{self._where()} is an embedding whose table would have {rows} rows (the "
                f"largest id of X, plus one), {size / 2**30:.1f} GB: ids that large are no "
                f"vocabulary's. Number the tokens from 1 (skcnn.preprocessing.TextVectorizer "
                f"does), or set n_tokens."
            )
        self._learned_tokens = rows

    def check_input(self, X):
        high = self._check_ids(X)
        rows = self.table_size
        if rows is not None and high >= rows:
            learned = self.n_tokens is None
            raise ValueError(
                f"{self._where()} is an embedding of {rows} token ids (0 to {rows - 1}"
                + (", learned from the largest id of the training X" if learned else "")
                + f"), but X holds the id {high}. Give the vectorizer's ids as fitted (its "
                f"unknown-token id stands for new tokens), or set n_tokens to the vocabulary's "
                f"size (TextVectorizer's n_tokens_)."
            )

    def initialize(self, rng, dtype, init):
        rows = self.table_size
        if rows is None:  # a summary before any data: the table's size is not known yet
            self.weights = None
            return
        # Unit-variance entries whatever ``init``: a one-hot input has a fan-in of 1.
        self.weights = rng.standard_normal((rows, self.embedding_dim)).astype(dtype)
        self.weights[0] = 0.0  # padding

    def forward(self, X, training=False):
        ids = X[..., 0].astype(np.intp)
        self._ids = ids if training else None
        out = self.weights[ids]
        out[ids == 0] = 0.0  # padding is zero whatever row 0 holds: its gradient is none
        return out

    def backward(self, grad_out, need_input_grad=True):
        # dL/dW[t] = sum of dL/dout over the positions that hold id t, for t >= 1;
        # padding (t = 0) is zero in forward whatever W[0] holds, so dL/dW[0] = 0.
        # Ids are not numbers to differentiate: no dL/d(input).
        ids = self._ids.reshape(-1)
        grad = grad_out.reshape(-1, self.embedding_dim)
        self.grad_weights = _sum_rows_by_id(ids, grad, self.table_size)
        self.grad_weights[0] = 0.0
        self._ids = None
        return None

    def __repr__(self):
        rows = "" if self.n_tokens is None else f", n_tokens={self.n_tokens}"
        return f"Embedding(embedding_dim={self.embedding_dim}{rows})"


def _sum_rows_by_id(ids, rows, n_ids):
    """``out[t] = sum of rows[i] where ids[i] == t``, for ``t`` in ``range(n_ids)``.

    A sparse product: the ``(n_ids, positions)`` matrix of ones where a
    position holds an id, times the rows. On TextCNN batches it is as fast as
    one ``np.bincount`` per column for vectors of 16 over 60 ids, 2 to 7
    times faster for more ids or longer vectors, and 5 to 36 times faster
    than ``np.add.at`` (``benchmarks/bench_embedding.py``, a shared 2-core
    machine).
    """
    ones = np.ones(len(ids), dtype=rows.dtype)
    matrix = sparse.csr_matrix((ones, (ids, np.arange(len(ids)))), shape=(n_ids, len(ids)))
    return np.asarray(matrix @ rows)
