"""A spin barrier for the threads that simulate one network together, with a sum over threads.

One network trains on several threads (:mod:`spikedyn.simulation.blocks`): each thread
owns a block of neurons and meets the others once per time step, where each must learn
how many spikes the others' neurons sent (the competition of the step), and a few
times per presentation and per sample. A step of a few hundred neurons takes well
under a microsecond, so the meeting must cost about a tenth of one: the threads never
sleep in the operating system while they wait; they spin on one shared word, written
with atomic operations (LLVM's ``atomicrmw`` and atomic loads, which Numba does not
expose, so they are generated here with ``numba.extending.intrinsic``).

Protocol. The barrier is an int64 array of :data:`WORDS` words, owned by Python
(:func:`new_words`) and handed to the kernels as its address, an int64, so that the
kernels touch no reference count of a shared array (every thread's increments on the
same counter would bounce its cache line between the cores at every step). Meetings
are numbered by each thread (``rnd``, the same sequence on every thread) and use three
slots in turn, each on its own 128-byte line. To meet, a thread adds ``1 + (value <<
16)`` to the slot of the meeting (:func:`_arrive`), may do work that does not need
the others, then spins until the slot's low 16 bits count every thread
(:func:`_wait`), and reads the sum of the values from the high bits. Thread 0 clears
the slot of the meeting before last once it has passed a meeting: every thread has
read it, and none can use it again before thread 0 arrives at the next meeting.

A thread spins with the CPU's pause instruction, and after :data:`SPINS_BEFORE_YIELD`
turns also offers its core to the operating system (``sched_yield``), so that a
machine with fewer free cores than threads slows down instead of stalling. If one
thread fails, the Python side sets the abort word (:data:`ABORT`); every waiting
thread then stops waiting (its sums are meaningless from then on, and the kernels
stop at the next sample).
"""

from __future__ import annotations

import platform
from typing import NamedTuple

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

#: Spacing of the slots in int64 words (128 bytes: two cache lines, so that the adjacent-line
#: prefetcher does not couple them).
STRIDE = 16
#: The three slots used in turn, then the abort word.
N_SLOTS = 3
ABORT = N_SLOTS * STRIDE
WORDS = ABORT + STRIDE
#: Bits of a slot that count the threads arrived (at most 2**16 - 1 threads).
COUNT_BITS = 16
MAX_THREADS = (1 << COUNT_BITS) - 1
#: Spins before a waiting thread also yields its core to the operating system.
SPINS_BEFORE_YIELD = 2000

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


def _pointer(builder, address):
    return builder.inttoptr(address, ir.IntType(64).as_pointer())


@intrinsic
def _fetch_add(typingctx, address, value):
    """``*address += value`` atomically (sequentially consistent); returns the old value."""
    if address != types.int64 or value != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.atomic_rmw("add", _pointer(builder, args[0]), args[1], "seq_cst")

    return types.int64(types.int64, types.int64), codegen


@intrinsic
def _load_acquire(typingctx, address):
    """``*address``, read atomically with acquire ordering."""
    if address != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.load_atomic(_pointer(builder, args[0]), "acquire", 8)

    return types.int64(types.int64), codegen


@intrinsic
def _store_release(typingctx, address, value):
    """``*address = value``, written atomically with release ordering."""
    if address != types.int64 or value != types.int64:
        return None

    def codegen(context, builder, signature, args):
        builder.store_atomic(args[1], _pointer(builder, args[0]), "release", 8)
        return context.get_dummy_value()

    return types.void(types.int64, types.int64), codegen


@intrinsic
def _pause(typingctx):
    """The CPU's spin-wait hint (x86 ``pause``); nothing elsewhere."""

    def codegen(context, builder, signature, args):
        if _X86:
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []),
                                                "llvm.x86.sse2.pause")
            builder.call(fn, [])
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def _sched_yield(typingctx):
    """The C library's ``sched_yield()``: offer this thread's core to another runnable thread."""

    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield")
        builder.call(fn, [])
        return context.get_dummy_value()

    return types.void(), codegen


@numba.njit(cache=True, inline="always")
def _slot(base, rnd):
    return base + 8 * STRIDE * (rnd % N_SLOTS)


@numba.njit(cache=True, inline="always")
def _arrive(base, rnd, value):
    """Arrive at meeting ``rnd`` of the barrier at ``base`` with ``value`` (0 <= value < 2**47)."""
    _fetch_add(_slot(base, rnd), 1 + (value << COUNT_BITS))


@numba.njit(cache=True)
def _wait(base, rnd, n_threads, thread):
    """Wait until all ``n_threads`` threads arrived at meeting ``rnd``; return the sum of their values.

    Thread 0 then clears the slot of meeting ``rnd - 1``. Returns 0 at once, without
    waiting, once the barrier is aborted."""
    slot = _slot(base, rnd)
    mask = (1 << COUNT_BITS) - 1
    spins = 0
    word = _load_acquire(slot)
    while (word & mask) != n_threads:
        _pause()
        spins += 1
        if spins >= SPINS_BEFORE_YIELD:
            if _load_acquire(base + 8 * ABORT) != 0:
                return 0
            _sched_yield()
            spins = 0
        word = _load_acquire(slot)
    if thread == 0:
        _store_release(_slot(base, rnd + N_SLOTS - 1), 0)
    return word >> COUNT_BITS


@numba.njit(cache=True)
def _meet(base, rnd, n_threads, thread, value):
    """:func:`_arrive` then :func:`_wait`: the sum of ``value`` over the threads at meeting ``rnd``."""
    _arrive(base, rnd, value)
    return _wait(base, rnd, n_threads, thread)


@numba.njit(cache=True)
def _aborted(base):
    """Whether the barrier at ``base`` was aborted (:func:`abort`)."""
    return _load_acquire(base + 8 * ABORT) != 0


class Sync(NamedTuple):
    """What a thread of a network simulated in blocks needs to meet the others (the time loop's
    ``sync`` argument: :func:`one_thread` for training on one thread, which so shares the compiled loop of
    training on several; ``None`` for inference and recorded runs, which compiles the meetings away).

    ``address`` of the barrier's words (:func:`new_words`), ``n_threads``, this ``thread``'s
    index, ``round`` (int64, (1,)) the number of its next meeting; ``flags`` (bool,
    (n_threads, n_input)) and ``flagged`` (int64, (n_threads,)), shared by the threads, to
    exchange the rows the normalisation flags (:func:`_share_rows`).
    """

    address: int
    n_threads: int
    thread: int
    round: np.ndarray
    flags: np.ndarray
    flagged: np.ndarray


@numba.njit(cache=True, inline="always")
def _sum_over_threads(sync, value):
    """The sum of ``value`` over the threads of ``sync`` (every thread calls it, with its own value)."""
    rnd = sync.round[0]
    sync.round[0] = rnd + 1
    return _meet(sync.address, rnd, sync.n_threads, sync.thread, value)


@numba.njit(cache=True)
def _share_rows(sync, rows):
    """``rows`` (bool, (n_input,)) ORed over the threads of ``sync``, in place: each thread flags the
    rows of its block, every thread gets the rows of any block."""
    me = sync.thread
    n_mine = 0
    for i in range(rows.shape[0]):
        n_mine += rows[i]
    sync.flagged[me] = n_mine
    if n_mine > 0:
        for i in range(rows.shape[0]):
            sync.flags[me, i] = rows[i]
    if _sum_over_threads(sync, n_mine) > n_mine:
        for k in range(sync.n_threads):
            if k != me and sync.flagged[k] > 0:
                for i in range(rows.shape[0]):
                    rows[i] |= sync.flags[k, i]


def new_words() -> np.ndarray:
    """A barrier's words, zeroed, the slots aligned to 128 bytes (keep the array alive while
    kernels use its address, ``words.ctypes.data``)."""
    raw = np.zeros(WORDS + STRIDE, np.int64)
    skip = (-raw.ctypes.data % (8 * STRIDE)) // 8
    return raw[skip:skip + WORDS]


def one_thread(words: np.ndarray, n_input: int) -> Sync:
    """The :class:`Sync` of a network trained on one thread: a barrier of one, whose meetings
    return at once. Training on one thread passes it instead of ``None`` so that it runs the very
    loop that training on several threads compiles (one compile for any ``--jobs``); its
    meetings cost nothing measurable (lateral, 400 neurons: 1652/1685/1655 samples/s against
    1677/1619/1679 with ``None``, side by side, the weights identical). Keep ``words``
    (:func:`new_words`) alive while a kernel uses it."""
    return Sync(int(words.ctypes.data), 1, 0, np.zeros(1, np.int64), np.zeros((1, n_input), np.bool_),
                np.zeros(1, np.int64))


def abort(words: np.ndarray) -> None:
    """Release every thread waiting at the barrier ``words``, for good (a thread failed)."""
    words[ABORT] = 1


__all__ = ["ABORT", "MAX_THREADS", "WORDS", "Sync", "abort", "new_words", "one_thread"]
