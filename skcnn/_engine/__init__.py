"""The engine: layers, networks and the kernels they run, apart from any estimator.

- ``base``: the layer protocol every layer follows.
- ``specs``: the registry of layer kinds, and how specs are written, checked
  and made into layers.
- layers by family: ``conv``, ``pooling``, ``activations``, ``normalization``,
  ``regularization`` (dropout), ``core`` (flatten, dense), ``blocks``
  (sequences, residual blocks, parallel branches), ``embedding`` (token ids
  to vectors); ``losses``.
- ``network``: a sequence of layers, run forward and backward, predicting in
  bounded memory.
- ``kernels``: convolution algorithms as pure functions, with the
  ``scipy.signal`` reference, and the cost model of ``conv_algorithm="auto"``.
- ``fusion``: what runs in place of what is stated (a conv and its pooling as
  one step, ReLU after max pooling).
- ``parallel``: shards of training batches and batches of prediction shared
  among threads, BLAS on one thread in each.
- ``workspace``: the arrays training reuses from batch to batch.
- ``optimizers``: Adam and SGD.
- ``tuning``: every measured constant, with the measurement it came from.
"""

# Every layer kind registers itself when its module is imported: all of them, now,
# family by family (the order of the table of kinds).
from . import conv, pooling, activations, normalization, regularization, core, blocks, embedding  # noqa: F401, I001
from .specs import freeze_builtins

freeze_builtins()
