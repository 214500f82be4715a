"""Stopping a long run cleanly: Ctrl-C (SIGINT) or SIGTERM between two samples.

The simulation kernels read :data:`STOP` once per sample and return early when it is
set. Inside :func:`stoppable` (the CLI's long commands), SIGINT and SIGTERM only set
it: the kernels stop after their current sample (every thread, within milliseconds),
:meth:`spikedyn.Network.train` and :meth:`~spikedyn.Network.respond` finish their
bookkeeping and raise :class:`Interrupted` at a point where the network is
consistent, and the command writes a checkpoint (:mod:`spikedyn.io.checkpoint`), prints
how to resume and exits with ``128 + signal`` (130 for Ctrl-C). A second Ctrl-C
raises :class:`KeyboardInterrupt` at once, without a checkpoint.

Outside :func:`stoppable` (the Python API), Ctrl-C raises :class:`KeyboardInterrupt`
as usual, and a network interrupted in :meth:`~spikedyn.Network.train` is left
consistent: the samples it finished are learned and counted, the rest are not.

The kernels run off the main thread (they release the GIL), so that the main thread
can receive the signal while they run: Python runs signal handlers in the main
thread only, between bytecodes.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

import numpy as np

#: Set to 1 to ask every running kernel to stop after its current sample.
STOP = np.zeros(1, np.uint8)
_received: list[int] = []


class Interrupted(Exception):
    """A run stopped on request (SIGINT/SIGTERM) at a consistent point.

    ``signum`` is the signal; a command that catches it and writes a checkpoint sets
    ``resume`` to the command line that continues the run.
    """

    def __init__(self, signum: int = signal.SIGINT, resume: str | None = None):
        self.signum = int(signum)
        self.resume = resume
        super().__init__(f"interrupted by {signal.Signals(self.signum).name}")

    def __reduce__(self):  # crosses process boundaries (a search's workers) intact
        return type(self), (self.signum, self.resume)

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


def requested() -> bool:
    """Whether a stop was requested."""
    return bool(STOP[0])


def check() -> None:
    """Raise :class:`Interrupted` if a stop was requested."""
    if STOP[0]:
        raise Interrupted(_received[-1] if _received else signal.SIGINT)


def request(signum: int = signal.SIGINT) -> None:
    """Ask every running kernel to stop after its current sample."""
    _received.append(int(signum))
    STOP[0] = 1


def clear() -> None:
    STOP[0] = 0
    _received.clear()


def _handler(signum, frame):  # noqa: ARG001 - signal API
    if STOP[0] and signum == signal.SIGINT:  # a second Ctrl-C: stop now
        raise KeyboardInterrupt
    request(signum)


@contextmanager
def stoppable() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM set :data:`STOP` instead of raising.

    Only the main thread can install signal handlers; elsewhere, and inside another
    such block, it changes nothing. The previous handlers and a clear :data:`STOP` are restored on exit.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is _handler:
        yield  # not the main thread, or already inside a stoppable block
        return
    clear()
    previous = {s: signal.signal(s, _handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        clear()
