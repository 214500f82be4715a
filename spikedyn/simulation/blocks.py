"""One network trained on several threads: each thread owns a block of neurons.

Training is one long chain of time steps (the state carries over from sample to
sample), so several threads can only share the work *within* a step. Each of J
threads owns a block of neurons and everything that belongs to them: their state, their
thresholds and their columns of the input weights (copied into a contiguous array of
its own, so no two threads write to one cache line). Each thread runs the ordinary
time loop (:func:`spikedyn.simulation.loop._train_batch`) on its block, as if the block
were the whole network, over a whole batch of samples: it integrates its neurons,
delivers every input spike to them, depresses and potentiates their synapses,
normalises their columns, and generates the presentation's input spikes itself (the
generator is counter-based, so every thread draws the same ones).

What a block cannot know alone it learns from the others at a meeting
(:mod:`spikedyn.core.barrier`, a spin barrier on atomic integers, about a tenth of a
microsecond):

- once per step, the number of sources of inhibition in the whole network (each
  inhibits every excitatory neuron but its own partner by the same amount,
  :mod:`spikedyn.models.competition`), announced as soon as the step's spikes are known
  and awaited only at the end of the step;
- once per presentation, the rows in which the normalisation left a weight above
  ``w_max``, and the presentation's spike count (the retry decision);
- once per sample, whether to stop (thread 0 reads the stop flag of
  :mod:`spikedyn.io.interrupt`) and whether every block's state is still finite.

Every floating-point operation on a neuron, a weight or a threshold is the same, in the
same order, as on one thread, and every count is a sum of integers, so the weights,
thresholds, state and operation counts are bit-identical for any number of threads
(``tests/test_blocks.py``). Between batches the blocks are merged back into the
network, which is then exactly what training on one thread gives (the state's lists of
neurons in their canonical, ascending order, :func:`spikedyn.simulation.state._canonical_lists`):
checkpoints, the numerical guards and everything else see one network.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from ..core.barrier import MAX_THREADS, Sync, abort, new_words
from ..core.traces import Traces
from ..cost.operations import C_INPUT_SPIKES, C_PRESENTATIONS, C_SAMPLES, C_STEPS, new_counters
from ..models.competition import Population
from .loop import _train_batch
from .state import Excitatory, State, _canonical_lists, _new_buffers, _recorder, kernel_params

#: Counters that every block counts alike (the network's steps, input spikes, presentations
#: and samples): taken from block 0; every other counter is summed over the blocks.
SHARED_COUNTERS = (C_STEPS, C_INPUT_SPIKES, C_PRESENTATIONS, C_SAMPLES)
#: Block boundaries are multiples of this many neurons where the network is large enough: 8
#: float64 values fill a 64-byte cache line, so no two threads write to one line of a row.
ALIGN = 8


def neuron_blocks(n_neurons: int, n_threads: int) -> list[tuple[int, int]]:
    """``n_threads`` blocks ``(lo, hi)`` of about equal size covering ``0..n_neurons-1`` in order, their
    boundaries multiples of :data:`ALIGN` when every block can have at least that many neurons."""
    if not 1 <= n_threads <= min(n_neurons, MAX_THREADS):
        raise ValueError(f"cannot split {n_neurons} neurons into {n_threads} blocks")
    unit = ALIGN if n_neurons >= ALIGN * n_threads else 1
    units = -(-n_neurons // unit)
    bounds = [min(n_neurons, round(k * units / n_threads) * unit) for k in range(n_threads + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


class _Block(NamedTuple):
    """The arrays of one block, reused from batch to batch."""

    lo: int
    hi: int
    kp: object
    state: State
    buffers: object
    weights: np.ndarray
    theta: np.ndarray
    sync: Sync


def _columns(array: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """A contiguous copy of columns ``lo:hi`` of a 2-D array, or the array itself if it is empty."""
    return np.ascontiguousarray(array[:, lo:hi]) if array.size else array


def _block_state(st: State, lo: int, hi: int) -> State:
    """A new state for the neurons ``lo..hi-1`` of ``st``, with arrays of its own (filled by :func:`_put`)."""
    nb = hi - lo
    pop, tr = st.competition, st.plasticity
    own = pop.v.shape[0] > 0
    n_own = nb if own else 0
    population = Population(np.empty(n_own), np.empty(n_own), np.empty(n_own), np.empty(n_own, np.int64),
                            np.zeros(n_own, np.int32), np.zeros(n_own, np.bool_), np.zeros(1, np.int64),
                            np.zeros(n_own, np.int32))
    traces = Traces(
        last_pre=np.empty_like(tr.last_pre), last_post=np.empty(nb, np.int64), recent=np.zeros(nb, np.int32),
        is_recent=np.zeros(nb, np.bool_), n_recent=np.zeros(1, np.int64), pre_now=np.zeros_like(tr.pre_now),
        post1_now=np.zeros(nb), pre_table=tr.pre_table, post1_table=tr.post1_table, post2_table=tr.post2_table,
        last_arrival=_columns(tr.last_arrival, lo, hi), activity=np.empty(nb), rate=np.empty(nb),
        significance=_columns(tr.significance, lo, hi), updates=np.zeros_like(tr.updates),
        pre_active=np.zeros_like(tr.pre_active))
    exc = Excitatory(np.empty(nb), np.empty(nb), np.empty(nb), np.empty(nb, np.int64))
    return State(exc, population, traces, np.zeros(1, np.int64))


def _list_in_block(items: np.ndarray, count: np.ndarray, lo: int, hi: int, out: np.ndarray,
                   out_count: np.ndarray) -> None:
    """The members of the list ``items[:count[0]]`` in ``lo..hi-1``, ascending and numbered from ``lo``,
    into ``out`` (zeros after them)."""
    members = np.sort(items[:count[0]])
    members = members[(members >= lo) & (members < hi)] - lo
    out[:] = 0
    out[:members.size] = members
    out_count[0] = members.size


def _put(network, block: _Block) -> None:
    """Copy the network's state, weights and thresholds of the block's neurons into the block."""
    lo, hi = block.lo, block.hi
    st, b = network._state, block.state
    for name in Excitatory._fields:
        getattr(b.exc, name)[...] = getattr(st.exc, name)[lo:hi]
    if b.competition.v.shape[0]:
        for name in ("v", "ge", "gi", "last_spike", "is_active"):
            getattr(b.competition, name)[...] = getattr(st.competition, name)[lo:hi]
        _list_in_block(st.competition.active, st.competition.n_active, lo, hi, b.competition.active,
                       b.competition.n_active)
    tr, btr = st.plasticity, b.plasticity
    btr.last_pre[...] = tr.last_pre
    for name in ("last_post", "is_recent", "activity", "rate"):
        getattr(btr, name)[...] = getattr(tr, name)[lo:hi]
    for name in ("last_arrival", "significance"):
        if getattr(btr, name).size:
            getattr(btr, name)[...] = getattr(tr, name)[:, lo:hi]
    _list_in_block(tr.recent, tr.n_recent, lo, hi, btr.recent, btr.n_recent)
    btr.updates[...] = 0
    b.clock[...] = st.clock
    block.weights[...] = network.weights[:, lo:hi]
    block.theta[...] = network.theta[lo:hi]


def _take(network, block: _Block) -> None:
    """Copy the block's neurons back into the network (the inverse of :func:`_put`, for what is the
    block's own; :func:`_take_shared` does the rest)."""
    lo, hi, st, b = block.lo, block.hi, network._state, block.state
    for name in Excitatory._fields:
        getattr(st.exc, name)[lo:hi] = getattr(b.exc, name)
    if b.competition.v.shape[0]:
        for name in ("v", "ge", "gi", "last_spike", "is_active"):
            getattr(st.competition, name)[lo:hi] = getattr(b.competition, name)
    tr, btr = st.plasticity, b.plasticity
    for name in ("last_post", "is_recent", "activity", "rate"):
        getattr(tr, name)[lo:hi] = getattr(btr, name)
    for name in ("last_arrival", "significance"):
        if getattr(btr, name).size:
            getattr(tr, name)[:, lo:hi] = getattr(btr, name)
    network.weights[:, lo:hi] = block.weights
    network.theta[lo:hi] = block.theta


def _take_shared(network, blocks: list[_Block]) -> None:
    """What the blocks hold together, back into the network: the input traces and the clock (every
    block's are the same: block 0's), the lists of recent and active neurons (the blocks' members,
    in canonical order), the rule's counts (summed)."""
    st = network._state
    tr = st.plasticity
    tr.last_pre[...] = blocks[0].state.plasticity.last_pre
    st.clock[...] = blocks[0].state.clock
    lists = [(tr.recent, tr.n_recent, lambda b: (b.plasticity.recent, b.plasticity.n_recent))]
    if st.competition.v.shape[0]:
        lists.append((st.competition.active, st.competition.n_active,
                      lambda b: (b.competition.active, b.competition.n_active)))
    for items, count, of_block in lists:
        n = 0
        for block in blocks:
            b_items, b_count = of_block(block.state)
            k = int(b_count[0])
            items[n:n + k] = b_items[:k] + block.lo
            n += k
        items[n:] = 0
        count[0] = n
    for block in blocks:
        tr.updates[...] += block.state.plasticity.updates
    _canonical_lists(st)


def merge_counters(total: np.ndarray | None, per_block: list[np.ndarray | None]) -> None:
    """Add the blocks' operation counters to ``total`` (in place): block 0's for what every block
    counts alike (:data:`SHARED_COUNTERS`), the sum over the blocks for the rest."""
    if total is None:
        return
    summed = np.sum(per_block, axis=0)
    for c in SHARED_COUNTERS:
        summed[c] = per_block[0][c]
    total += summed


class BlockTrainer:
    """Trains ``network`` on ``n_threads`` threads, batch by batch (:meth:`run`); :meth:`close` when done.

    The threads live as long as the trainer (one pool, one thread per block), and each
    block's arrays are allocated once and refilled from the network before every batch.
    """

    def __init__(self, network, n_threads: int):
        config = network.config
        self.network = network
        self.blocks_bounds = neuron_blocks(config.n_neurons, n_threads)
        n = len(self.blocks_bounds)
        self.words = new_words()
        flags = np.zeros((n, config.n_input), np.bool_)
        flagged = np.zeros(n, np.int64)
        self.blocks: list[_Block] = []
        for thread, (lo, hi) in enumerate(self.blocks_bounds):
            kp = kernel_params(config, network.seed, (lo, hi))
            sync = Sync(int(self.words.ctypes.data), n, thread, np.zeros(1, np.int64), flags, flagged)
            self.blocks.append(_Block(lo, hi, kp, _block_state(network._state, lo, hi),
                                      _new_buffers(kp, config.n_input, hi - lo), np.empty((config.n_input, hi - lo)),
                                      np.empty(hi - lo), sync))
        self.pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="spikedyn-block")
        self._failed = threading.Event()

    @property
    def n_threads(self) -> int:
        return len(self.blocks)

    def submit(self, images, seed, first_index, counts, attempts, ops, stop, bad) -> list:
        """Start the threads on one batch (arguments as :func:`spikedyn.simulation.loop._train_batch`'s,
        for the whole network); returns their futures. Once all have finished, :meth:`finish`
        merges the blocks back into the network."""
        if self._failed.is_set():  # a thread failed in an earlier batch: the barrier may be left mid-meeting
            self.words[...] = 0
            for block in self.blocks:
                block.sync.round[0] = 0
            self._failed.clear()
        self._batch = (counts, attempts, ops, bad)
        enabled = ops is not None
        self._outs = [(np.zeros((images.shape[0], b.hi - b.lo), np.int32), np.zeros(images.shape[0], np.int32),
                       new_counters(enabled), np.full(1, -1, np.int64)) for b in self.blocks]
        return [self.pool.submit(self._run_block, block, out, images, seed, first_index, stop)
                for block, out in zip(self.blocks, self._outs)]

    def _run_block(self, block: _Block, out, images, seed, first_index, stop) -> int:
        counts, attempts, ops, bad = out
        try:
            _put(self.network, block)
            done = _train_batch(block.kp, block.state, block.buffers, block.weights, block.theta, images, seed,
                                first_index, counts, attempts, ops, stop, bad, block.sync, _recorder(0, 0, 0, 0))
            _take(self.network, block)  # each thread its own neurons' slices: in parallel
            return done
        except BaseException:
            self._failed.set()
            abort(self.words)  # the other threads stop waiting for this one
            raise

    def finish(self, done: int) -> None:
        """Merge the blocks back into the network after a batch in which every thread did ``done`` samples."""
        counts, attempts, ops, bad = self._batch
        _take_shared(self.network, self.blocks)
        for block, (b_counts, b_attempts, b_ops, _) in zip(self.blocks, self._outs):
            counts[:done, block.lo:block.hi] = b_counts[:done]
        attempts[:done] = self._outs[0][1][:done]
        bad[0] = self._outs[0][3][0]
        merge_counters(ops, [o[2] for o in self._outs])

    def close(self) -> None:
        self.pool.shutdown(wait=True)


__all__ = ["BlockTrainer", "merge_counters", "neuron_blocks"]
