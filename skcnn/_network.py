"""A network: a stack of layers, run forward and backward."""

import contextlib
import contextvars
import copy
import functools
import math
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
from threadpoolctl import ThreadpoolController

from ._conv import Workspace
from ._layers import Conv2D, ConvMaxPool2D, Dropout, _shape_str

# Prediction runs in batches whose largest intermediate array stays near this size
# (in each thread): small enough to stay in cache (4 MB predicts 1.8x faster than
# 64 MB on the benchmark network; 2 MB a thread, 1.2x slower than 4 MB).
PREDICT_BATCH_BYTES = 4 * 2**20


@functools.cache
def _blas():
    """The BLAS libraries' ThreadpoolController, made once: it scans the loaded libraries."""
    return ThreadpoolController().select(user_api="blas")


def available_threads():
    """Threads training and prediction may use: as many as BLAS may (``threadpool_limits`` too).

    Under a search with ``n_jobs``, joblib gives every worker its share of the
    cores through these limits, so skcnn never oversubscribes them.

    One from any thread but the main one. Threads of skcnn's own run with
    BLAS on one thread, a setting of the whole process, and ``threadpoolctl``
    lets one thread at a time change it: called from other threads (a search
    with joblib's threading backend, a server's), skcnn runs in the calling
    thread alone and leaves BLAS as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        return 1
    return max([1] + [library["num_threads"] for library in _blas().info()])


class Network:
    """A sequence of layers from images (or signals) to class scores.

    Parameters
    ----------
    layers : list of Layer
        Applied in order; the last one outputs the scores (logits).

    Attributes
    ----------
    steps : list of Layer
        What :meth:`forward` and :meth:`backward` run, set by :meth:`build`:
        the layers, with each conv and the tiled max pooling after it (and a
        batch normalization between them) as one
        :class:`~skcnn._layers.ConvMaxPool2D`.

    Examples
    --------
    >>> import numpy as np
    >>> from skcnn._layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
    >>> net = Network([Conv2D(4, (3, 3)), MaxPool2D((2, 2), (2, 2)), ReLU(),
    ...                Flatten(), Dense(3)])
    >>> net.build((8, 8, 1))
    (3,)
    >>> net.initialize(np.random.RandomState(0), np.float64, "he")
    >>> net.forward(np.zeros((5, 8, 8, 1))).shape
    (5, 3)
    >>> [type(step).__name__ for step in net.steps]
    ['ConvMaxPool2D', 'ReLU', 'Flatten', 'Dense']
    """

    def __init__(self, layers, names=None):
        self.layers = list(layers)
        # A name per layer, "conv1", "relu1", "maxpool1", ...: given by
        # make_network (from the stated specs), else from the layers' kinds.
        if names is None:
            names = layer_names([(_KINDS[type(layer).__name__],) for layer in self.layers])
        self.names = list(names)
        self.input_shape = None
        self.steps = self.layers

    def _steps(self, layers):
        """What runs for ``layers``: the same, each tiled max pooling computed with its conv.

        A conv, a batch normalization if there is one, and a max pooling that
        follow each other in the network run as one
        :class:`~skcnn._layers.ConvMaxPool2D` when it fits them.
        """
        position = {id(layer): index for index, layer in enumerate(self.layers)}
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
                    if consecutive and ConvMaxPool2D.fits(conv, pool, *norm):
                        steps[-width:] = [ConvMaxPool2D(conv, pool, *norm)]
                        break
        return steps

    def build(self, input_shape):
        """Fit every layer to its input; return the per-sample output shape."""
        self.input_shape = shape = tuple(input_shape)
        for index, layer in enumerate(self.layers):
            try:
                shape = layer.build(shape)
            except ValueError as exc:
                raise ValueError(
                    f"Layer {index} ({layer}) does not fit its input of shape "
                    f"{_shape_str(shape)}: {exc}."
                ) from None
        self.steps = self._steps(self.layers)
        return shape

    def initialize(self, rng, dtype, init):
        for layer in self.layers:
            layer.initialize(rng, dtype, init)

    def seed(self, rng):
        """Give the random layers (dropout) new streams drawn from ``rng``."""
        for layer in self.layers:
            if hasattr(layer, "seed"):
                layer.seed(rng)

    def get_rng_states(self):
        """The states of the random layers' streams, to save them."""
        return [layer.get_rng_state() for layer in self.layers if hasattr(layer, "seed")]

    def set_rng_states(self, states):
        """Go on with the streams of :meth:`get_rng_states`."""
        random_layers = [layer for layer in self.layers if hasattr(layer, "seed")]
        for layer, state in zip(random_layers, states, strict=True):
            layer.set_rng_state(state)

    @property
    def params(self):
        """Flat list of every learnable array, layer by layer."""
        return [p for layer in self.layers for p in layer.params]

    @property
    def buffers(self):
        """Flat list of the arrays training updates without gradients (running averages)."""
        return [b for layer in self.layers for b in layer.buffers]

    @property
    def grads(self):
        """Gradients matching :attr:`params`, filled by :meth:`backward`."""
        return [g for layer in self.layers for g in layer.grads]

    def forward(self, X, training=False):
        for step in self.steps:
            X = step.forward(X, training=training)
        return X

    def backward(self, grad_out):
        """Backpropagate dL/d(scores); the first layer skips dL/d(input)."""
        for index in range(len(self.steps) - 1, -1, -1):
            grad_out = self.steps[index].backward(grad_out, need_input_grad=index > 0)

    def replica(self):
        """A network on the very parameter arrays of this one, with its own training state.

        What training passes keep (saved activations, workspaces,
        gradients) is the replica's own; the weights, biases and running
        statistics are this network's arrays, so an update of them in place
        shows in both.
        """
        twin = copy.copy(self)
        twin.layers = [copy.copy(layer) for layer in self.layers]
        for layer in twin.layers:
            if layer.workspace is not None:
                layer.workspace = Workspace()
        twin.steps = twin._steps(twin.layers)
        return twin

    def clear_workspaces(self):
        """Free the scratch arrays the steps keep between training batches."""
        for step in self.steps:
            if step.workspace is not None:
                step.workspace.clear()

    def predict_batch_size(self, itemsize):
        """Samples per prediction batch, so no intermediate outgrows the budget."""
        sizes = [np.prod(self.input_shape)]
        for layer in self.layers:
            sizes.append(np.prod(layer.output_shape))
            if hasattr(layer, "kernel_size"):  # im2col rows: one per output position
                sizes.append(
                    np.prod(layer.output_shape[:2])
                    * np.prod(layer.kernel_size)
                    * layer.input_shape[2]
                )
        return max(1, int(PREDICT_BATCH_BYTES // (max(sizes) * itemsize)))

    def predict(self, X, only=None, n_threads=None):
        """Scores of ``X`` in bounded memory: batches, and no saved intermediates.

        With ``only`` (a set of layer names), only those layers run, in
        order: the output of a hidden layer. A sample gets the same scores
        alone or among others: a batch of one runs as two copies, since BLAS
        computes a one-row product (gemv) in another order than a matrix
        product (gemm). With four batches or more, up to
        ``n_threads`` threads (by default :func:`available_threads`) share them.
        """
        if only is None:
            steps = self.steps
        else:
            selected = [layer for name, layer in zip(self.names, self.layers) if name in only]
            steps = self._steps(selected)
        batch = max(2, self.predict_batch_size(X.dtype.itemsize))
        n_batches = -(-len(X) // batch)
        # Two batches a thread at least; small inputs skip asking BLAS for its threads.
        if n_batches < 4:
            n_threads = 1
        else:
            n_threads = min(available_threads() if n_threads is None else n_threads, n_batches // 2)
        if n_threads <= 1:
            return _forward_batches(X, steps, batch)
        # Data-parallel: each thread runs its own share of the batches through the
        # whole network, BLAS on one thread. With BLAS on all threads and the
        # element-wise passes on one, every pass reads what another core wrote.
        shares = even_bounds(n_batches, n_threads) * batch
        # Each in a copy of the caller's context, which holds numpy's np.errstate.
        tasks = [(contextvars.copy_context(), X[lo:hi]) for lo, hi in zip(shares, shares[1:])]
        with _blas().limit(limits=1), ThreadPoolExecutor(n_threads) as pool:
            scores = pool.map(
                lambda task: task[0].run(_forward_batches, task[1], steps, batch), tasks
            )
            return np.concatenate(list(scores))

    def __repr__(self):
        rows = [("", "layer", "output", "params")]
        rows.append(("", "input", _shape_str(self.input_shape or ()), ""))
        for name, layer in zip(self.names, self.layers):
            n_params = sum(p.size for p in layer.params if p is not None)
            rows.append((name, str(layer), _shape_str(layer.output_shape or ()), n_params or ""))
        w_name = max(len(row[0]) for row in rows)
        w_layer = max(len(row[1]) for row in rows)
        lines = [
            f"{name:<{w_name}}  {layer:<{w_layer}}  {shape:>10}  {n:>8}".rstrip()
            for name, layer, shape, n in rows
        ]
        return "Network(\n  " + "\n  ".join(lines) + "\n)"


# When a network trains on shards, and how large (see shard_size). The
# figures separate the networks of benchmarks/bench_training_shards.py on the
# 2-core benchmark machine: shards of 32 train the reference network (3.8M
# conv multiply-adds a sample) 1.0-1.5x as fast as whole batches, a two-conv
# network of 1.0M about 1.1x; a one-conv network of 56k, an MLP and a conv
# feeding a large dense layer 0.6-0.96x. Two shards of 16 for batches of 32
# measured 0.94x (0.87-1.31) and 1.0x (0.95-1.03): such batches stay whole.
#: Samples per shard, at least.
SHARD_SAMPLES = 32
#: Multiply-adds of the conv layers per shard, at least.
SHARD_CONV_MULTIPLY_ADDS = 2**24
#: Multiply-adds of the conv layers per shard for every parameter, at least.
SHARD_MULTIPLY_ADDS_PER_PARAMETER = 64


def shard_size(network):
    """Samples per shard of a training batch of ``network``; 0: it trains on whole batches.

    Shards pay for conv layers: what surrounds their matrix products (im2col
    copies, pooling, masks, scatters) runs on every core at once. They cost
    per parameter: every shard computes the gradients of all of them, and the
    gradients add up. So a shard holds :data:`SHARD_SAMPLES` samples or more,
    enough for :data:`SHARD_CONV_MULTIPLY_ADDS` multiply-adds of the conv
    layers, and a network trains on shards only where these are
    :data:`SHARD_MULTIPLY_ADDS_PER_PARAMETER` times its parameters or more,
    and every layer treats its samples apart (no batch normalization:
    :attr:`~skcnn._layers.Layer.per_sample`).
    """
    if not all(step.per_sample for step in network.steps):
        return 0
    conv = sum(
        math.prod(layer.output_shape[:2]) * layer.weights.size
        for layer in network.layers
        if isinstance(layer, Conv2D)
    )
    if conv == 0:
        return 0
    samples = max(SHARD_SAMPLES, -(-SHARD_CONV_MULTIPLY_ADDS // conv))
    parameters = sum(param.size for param in network.params)
    return samples if samples * conv >= SHARD_MULTIPLY_ADDS_PER_PARAMETER * parameters else 0


def shard_bounds(n_samples, size):
    """Where the shards of a training batch of ``n_samples`` start and end.

    As many shards as there are ``size`` samples in the batch (one at
    least, and one when ``size`` is 0), of near-equal sizes.

    >>> shard_bounds(64, 32).tolist(), shard_bounds(100, 32).tolist(), shard_bounds(20, 32).tolist()
    ([0, 32, 64], [0, 33, 67, 100], [0, 20])
    """
    n_shards = max(1, n_samples // size) if size else 1
    return even_bounds(n_samples, n_shards)


class DataParallel:
    """The training passes of a network, on shards of each batch, shared among threads.

    Every shard of a batch (:func:`shard_size`) runs forward and backward
    through its own replica of the network (:meth:`Network.replica`); the
    gradients of the shards add up, in shard order, into the network's own.
    The shards depend on the network and the batch size, never on the threads: one
    thread and several train the same model, bit for bit.

    With more than one thread, BLAS runs on one thread in each while the
    context is open, and each core takes whole shards, from the first layer to
    the last. With BLAS sharing every matrix product among the cores and one
    core running every element-wise pass, pass after pass reads what another
    core wrote.

    Networks that gain nothing from shards train on whole batches, as do
    batches too small for two.

    Parameters
    ----------
    network : Network
        Built and initialized.
    n_threads : int
        Threads that may run at once; 1 runs the shards one after the other.
    batch_size : int
        The largest batch to come: with a single shard, no threads start.
    """

    def __init__(self, network, n_threads, batch_size):
        self.network = network
        #: Samples per shard (0: whole batches), the same whatever the threads.
        self.shard_size = shard_size(network)
        n_shards = len(shard_bounds(batch_size, self.shard_size)) - 1
        self.n_threads = n_threads
        #: Threads that run shards (BLAS runs on one thread in each when more than one).
        self.training_threads = max(1, min(n_threads, n_shards))
        self._replicas = [network]
        self._bounds = None

    @property
    def replicas(self):
        """The networks that ran the shards of the last batch, :attr:`network` first."""
        n_shards = 1 if self._bounds is None else len(self._bounds) - 1
        return self._replicas[:n_shards]

    def __enter__(self):
        self._stack = contextlib.ExitStack()
        self._pool = None
        if self.training_threads > 1:
            self._stack.enter_context(_blas().limit(limits=1))
            self._pool = self._stack.enter_context(ThreadPoolExecutor(self.training_threads - 1))
        return self

    def __exit__(self, *exc_info):
        self._stack.close()
        for replica in self._replicas[1:]:
            replica.clear_workspaces()
        self._replicas = [self.network]
        for layer in self.network.layers:  # a pass that failed may not have used it
            if isinstance(layer, Dropout):
                layer.drawn = None
        return False

    def forward(self, X):
        """Scores of a training batch; the replicas keep what :meth:`backward` needs."""
        self._bounds = shard_bounds(len(X), self.shard_size)
        if len(self._bounds) == 2:
            return self.network.forward(X, training=True)
        # Dropout draws its masks for the whole batch, as it would unsplit.
        shards = self._shards()
        for index, layer in enumerate(self.network.layers):
            if isinstance(layer, Dropout) and layer.rate > 0:
                scale = layer.draw((len(X), *layer.input_shape), X.dtype)
                for replica, rows in shards:
                    replica.layers[index].drawn = scale[rows]
        return np.concatenate(self._map(lambda net, rows: net.forward(X[rows], training=True)))

    def backward(self, grad_scores):
        """Backpropagate dL/d(scores) of the last :meth:`forward`; fills the network's grads."""
        if len(self._bounds) == 2:
            self.network.backward(grad_scores)
            return
        self._map(lambda net, rows: net.backward(grad_scores[rows]))
        for own, *others in zip(*(replica.layers for replica in self.replicas)):
            for index, total in enumerate(own.grads):
                for other in others:
                    total += other.grads[index]

    def _shards(self):
        """``(replica, rows)`` of every shard of the batch of the last :meth:`forward`."""
        bounds = self._bounds
        n_shards = len(bounds) - 1
        while len(self._replicas) < n_shards:
            self._replicas.append(self.network.replica())
        return [(self._replicas[k], slice(bounds[k], bounds[k + 1])) for k in range(n_shards)]

    def _map(self, function):
        """``function(replica, rows)`` for every shard; the results in shard order."""
        shards = self._shards()
        n_shards = len(shards)
        n_threads = min(self.training_threads, n_shards)
        if n_threads == 1:
            return [function(*shard) for shard in shards]

        def run(first, stop):
            return [function(*shard) for shard in shards[first:stop]]

        # Consecutive shards per thread; this thread takes the first run. The
        # others run in copies of this thread's context (np.errstate).
        splits = even_bounds(n_shards, n_threads)
        futures = [
            self._pool.submit(contextvars.copy_context().run, run, first, stop)
            for first, stop in zip(splits[1:-1], splits[2:])
        ]
        try:
            results = run(splits[0], splits[1])
        finally:
            wait(futures)  # no shard left running on an error
        for future in futures:
            results += future.result()
        return results


def even_bounds(n, parts):
    """Bounds of ``parts`` consecutive runs of near-equal length that cover ``range(n)``.

    >>> even_bounds(10, 3).tolist()
    [0, 3, 7, 10]
    """
    return np.linspace(0, n, parts + 1).round().astype(int)


def _forward_batches(X, steps, batch):
    scores = [_forward_batch(X[start : start + batch], steps) for start in range(0, len(X), batch)]
    return scores[0] if len(scores) == 1 else np.concatenate(scores)


def _forward_batch(X, steps):
    if len(X) == 1:
        return _forward_batch(np.concatenate([X, X]), steps)[:1]
    for step in steps:
        X = step.forward(X)
    return X


_KINDS = {  # the spec word of every layer class
    "Conv2D": "conv",
    "MaxPool2D": "maxpool",
    "AvgPool2D": "avgpool",
    "GlobalAvgPool2D": "globalavgpool",
    "BatchNorm": "batchnorm",
    "ReLU": "relu",
    "Dropout": "dropout",
    "Flatten": "flatten",
    "Dense": "dense",
}


def layer_names(specs):
    """A name per layer spec: its kind and its count among the layers of that kind.

    >>> layer_names([("conv", 8, 3), ("relu",), ("conv", 8, 3), ("flatten",), ("dense", 2)])
    ['conv1', 'relu1', 'conv2', 'flatten1', 'dense1']
    """
    counts, names = {}, []
    for kind, *_ in specs:
        counts[kind] = counts.get(kind, 0) + 1
        names.append(f"{kind}{counts[kind]}")
    return names
