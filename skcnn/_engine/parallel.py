"""Work shared among threads: shards of training batches, batches of prediction.

skcnn runs its own threads, each with BLAS on one thread, rather than one
thread of element-wise passes beside a multithreaded BLAS: every core then
runs whole samples from the first layer to the last, and no pass reads what
another core wrote. The number of threads follows BLAS's limits
(``threadpoolctl``), so a search with ``n_jobs`` never oversubscribes.
"""

import contextlib
import contextvars
import functools
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
from threadpoolctl import ThreadpoolController

from . import tuning
from .base import walk
from .conv import Conv2D
from .regularization import Dropout


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


def forward_in_batches(X, steps, batch, n_threads=None):
    """The output of ``steps`` for ``X``, ``batch`` samples at a time, in prediction mode.

    A sample gets the same output alone or among others: a batch of one runs
    as two copies, since BLAS computes a one-row product (gemv) in another
    order than a matrix product (gemm). With four batches or more, up to
    ``n_threads`` threads (by default :func:`available_threads`) share them.
    """
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
        outputs = pool.map(lambda task: task[0].run(_forward_batches, task[1], steps, batch), tasks)
        return np.concatenate(list(outputs))


def shard_size(network):
    """Samples per shard of a training batch of ``network``; 0: it trains on whole batches.

    Shards pay for conv layers: what surrounds their matrix products (im2col
    copies, pooling, masks, scatters) runs on every core at once. They cost
    per parameter: every shard computes the gradients of all of them, and the
    gradients add up. So a shard holds :data:`~skcnn._engine.tuning.SHARD_SAMPLES` samples or more,
    enough for :data:`~skcnn._engine.tuning.SHARD_CONV_MULTIPLY_ADDS` multiply-adds of the conv
    layers, and a network trains on shards only where these are
    :data:`~skcnn._engine.tuning.SHARD_MULTIPLY_ADDS_PER_PARAMETER` times its parameters or more,
    and every layer treats its samples apart
    (:attr:`~skcnn._engine.base.Layer.per_sample`) or needs no more of the others
    than sums the shards can add up (batch normalization:
    :attr:`~skcnn._engine.base.Layer.batch_sums`).
    """
    if not all(layer.per_sample or layer.batch_sums for layer in _leaves(network)):
        return 0
    conv = sum(layer.multiply_adds() for _, layer in walk(network) if isinstance(layer, Conv2D))
    if conv == 0:
        return 0
    samples = max(tuning.SHARD_SAMPLES, -(-tuning.SHARD_CONV_MULTIPLY_ADDS // conv))
    parameters = sum(param.size for param in network.params)
    return samples if samples * conv >= tuning.SHARD_MULTIPLY_ADDS_PER_PARAMETER * parameters else 0


def shard_bounds(n_samples, size):
    """Where the shards of a training batch of ``n_samples`` start and end.

    As many shards as there are ``size`` samples in the batch (one at
    least, and one when ``size`` is 0), of near-equal sizes.

    >>> shard_bounds(64, 32).tolist(), shard_bounds(100, 32).tolist(), shard_bounds(20, 32).tolist()
    ([0, 32, 64], [0, 33, 67, 100], [0, 20])
    """
    n_shards = max(1, n_samples // size) if size else 1
    return even_bounds(n_samples, n_shards)


def _leaves(network):
    return [layer for _, layer in walk(network) if not layer.children()]


class Rendezvous:
    """Where the shards of a training batch meet to add up sums over the whole batch.

    Batch normalization standardizes with the mean and variance of the whole
    batch: every shard computes its sums, waits here until every shard has
    brought its own, and goes on with the totals. So the shards of such a
    network run side by side, each in a thread of its own, and at most as
    many at once as the ``gate`` (a semaphore that a running shard holds)
    lets through: a shard hands its turn on while it waits here, and takes
    one back to go on. Every shard meets the others at the same layers in
    the same order.

    The totals add up in shard order, whichever thread brought what when:
    the same bits on any number of threads.

    Parameters
    ----------
    n_shards : int
    gate : threading.Semaphore
        Held by every shard that runs.
    """

    def __init__(self, n_shards, gate):
        self._gate = gate
        self._brought = [None] * n_shards
        self._totals = None
        self._barrier = threading.Barrier(n_shards, action=self._add_up)

    def _add_up(self):  # by the last shard to come, while the others wait
        first, *others = self._brought
        totals = [np.array(values, copy=True) for values in first]
        for sums in others:
            for total, values in zip(totals, sums, strict=True):
                total += values
        self._totals = totals

    def totals(self, index, sums):
        """The arrays ``sums`` of shard ``index``, each added up over all the shards."""
        self._brought[index] = sums
        self._gate.release()
        try:
            self._barrier.wait()
        finally:
            self._gate.acquire()
        # The next sums add up only once every shard has brought them, this one too.
        return self._totals

    def abort(self):
        """Wake every shard that waits (or comes) with a ``threading.BrokenBarrierError``."""
        self._barrier.abort()


class DataParallel:
    """The training passes of a network, on shards of each batch, shared among threads.

    Every shard of a batch (:func:`shard_size`) runs forward and backward
    through its own replica of the network (:meth:`~skcnn._engine.network.Network.replica`); the
    gradients of the shards add up, in shard order, into the network's own.
    Where layers need sums over the whole batch (batch normalization), the
    shards add them up where they meet (:class:`Rendezvous`).
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
        #: Threads that run shards at once (BLAS runs on one thread in each when more than one).
        self.training_threads = max(1, min(n_threads, n_shards))
        #: Whether the shards meet at layers that need sums over the whole batch.
        self.meets = self.shard_size > 0 and any(layer.batch_sums for layer in _leaves(network))
        # Shards that meet all run at once, each in a thread, their turns gated.
        self._workers = (n_shards if self.meets else self.training_threads) - 1
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
        if self._workers > 0:
            self._pool = self._stack.enter_context(ThreadPoolExecutor(self._workers))
        return self

    def __exit__(self, *exc_info):
        self._stack.close()
        for replica in self._replicas[1:]:
            replica.clear_workspaces()
        self._replicas = [self.network]
        for _, layer in walk(self.network):  # a pass that failed may not have used it
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
        inner = [[layer for _, layer in walk(replica)] for replica, _ in shards]
        for index, (_, layer) in enumerate(walk(self.network)):
            if isinstance(layer, Dropout) and layer.rate > 0:
                scale = layer.draw((len(X), *layer.input_shape), X.dtype)
                for layers, (_, rows) in zip(inner, shards):
                    layers[index].drawn = scale[rows]
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
        if self.meets:
            return self._map_meeting(function, shards)
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

    def _map_meeting(self, function, shards):
        """:meth:`_map` for shards that meet: each in a thread, as many at once as may run."""
        gate = threading.Semaphore(self.training_threads)
        rendezvous = Rendezvous(len(shards), gate)
        _meet(shards, rendezvous)
        results, errors = [None] * len(shards), [None] * len(shards)

        def run(index):
            with gate:
                try:
                    results[index] = function(*shards[index])
                except BaseException as error:  # the others stop waiting for this one
                    errors[index] = error
                    rendezvous.abort()

        # This thread runs the first shard; the others run in copies of its context.
        futures = [
            self._pool.submit(contextvars.copy_context().run, run, index)
            for index in range(1, len(shards))
        ]
        try:
            run(0)
            wait(futures)
        finally:  # a batch too small for shards, next, runs whole
            _meet(shards, None)
        raised = [error for error in errors if error is not None]
        if raised:  # the shard's own error, not those of the others it woke
            first = next(
                (e for e in raised if not isinstance(e, threading.BrokenBarrierError)), raised[0]
            )
            raise first
        return results


def _meet(shards, rendezvous):
    """Point the layers that need the batch's sums of every shard's replica at ``rendezvous``
    (``None``: whole batches again)."""
    for index, (replica, _) in enumerate(shards):
        for layer in _leaves(replica):
            if layer.batch_sums:
                layer.shard = None if rendezvous is None else (rendezvous, index)


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
