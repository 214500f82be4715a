"""The network: :class:`Network`, the scikit-learn-like face of the simulation.

A :class:`Network` holds the weights, the adaptive thresholds and the dynamic state of
one network (:mod:`spikedyn.simulation.state`) and runs the kernels of the time loop
(:mod:`spikedyn.simulation.loop`) on batches of images: :meth:`~Network.train` on one
thread (the state carries over from sample to sample), :meth:`~Network.respond` on
many (each sample from rest). It learns without labels (:meth:`~Network.fit`,
:meth:`~Network.partial_fit`), names its neurons from a labelled pass
(:meth:`~Network.assign`) and classifies (:meth:`~Network.predict`,
:meth:`~Network.score`); it counts its operations for the cost model
(:meth:`~Network.operations`, :mod:`spikedyn.cost.operations`), stops cleanly on
Ctrl-C (:mod:`spikedyn.io.interrupt`), and saves and loads itself as a run directory
(:meth:`~Network.save`, :meth:`~Network.load`, the format of :mod:`spikedyn.io.runs`).
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import numpy as np
from tqdm.auto import tqdm

from .. import models
from ..config import NetworkConfig
from ..core.barrier import MAX_THREADS, new_words, one_thread
from ..core.encoding import STREAM_ASSIGN, STREAM_TEST, STREAM_TRAIN, centre_surround
from ..core.params import check_seed
from ..core.quantise import FLOAT64, SITE_INITIAL, _quantise_all
from ..core.readout import PAPER_READOUT, READOUTS, accuracy, assign_labels, fit_readout, predict
from ..core.traces import UPDATE_KINDS
from ..cost.operations import PHASES, derive, new_counters, tally_dict
from ..errors import ConfigError, NumericalError
from ..io import interrupt
from ..io.interrupt import Interrupted
from ..io.runs import load_run, save_run
from .blocks import BlockTrainer
from .loop import _infer_batch, _train_batch
from .state import (Buffers, Excitatory, _canonical_lists, _new_buffers, _new_state, _recorder, inference_params,
                    kernel_params, state_arrays)


@dataclass(frozen=True)
class TrainStats:
    """Summary of one call to :meth:`Network.train`."""

    train_samples: int
    presentations: int
    wall_seconds: float
    samples_per_second: float
    mean_spikes_per_sample: float
    #: Excitatory spikes of the samples' last presentations, in total.
    spikes: int = 0


def _check_images(images, n_input: int) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ConfigError(f"images must be uint8 (0-255), got dtype {images.dtype}")
    if images.ndim == 3:
        images = images.reshape(images.shape[0], -1)
    if images.ndim != 2 or images.shape[1] != n_input:
        raise ConfigError(
            f"images must have shape (n, {n_input}) or (n, rows, cols) with rows*cols={n_input}, "
            f"got {images.shape}"
        )
    return np.ascontiguousarray(images)


def input_images(images, config) -> np.ndarray:
    """``images`` checked (:func:`_check_images`) and as the input layer sees them: through the
    centre-surround filter when ``config.input.centre_surround`` is on
    (:func:`spikedyn.core.encoding.centre_surround`), unchanged otherwise. Every simulator (these
    kernels, the Brian2 reference) takes its images from here, once per call."""
    given = np.asarray(images)
    images = _check_images(given, config.n_input)
    i = config.input
    if i.centre_surround:  # filtered in the shape given: the filter refuses images that are not square
        images = centre_surround(given, i.centre_sigma_px, i.surround_sigma_px,
                                 i.centre_surround_gain).reshape(images.shape)
    return images


def _check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")


class SpikeRecord(NamedTuple):
    """Every excitatory spike of a recorded run.

    Attributes
    ----------
    sample, presentation, step, neuron : int64 arrays, shape (n_spikes,)
        Sample position in the call, presentation attempt (0 = first), step within
        the presentation (during training, steps ``present_steps`` and above are the
        rest period) and excitatory neuron; sorted in this lexicographic order.
    presentations : int32 array, shape (n_samples,)
        Presentations each sample needed.
    """

    sample: np.ndarray
    presentation: np.ndarray
    step: np.ndarray
    neuron: np.ndarray
    presentations: np.ndarray


def make_spike_record(sample, presentation, step, neuron, presentations) -> SpikeRecord:
    """A :class:`SpikeRecord` from unsorted columns (sorted lexicographically)."""
    cols = [np.asarray(c, dtype=np.int64).reshape(-1) for c in (sample, presentation, step, neuron)]
    order = np.lexsort(cols[::-1])
    return SpikeRecord(*(c[order] for c in cols), np.asarray(presentations, dtype=np.int32))


@dataclass(frozen=True)
class Response:
    """What :meth:`Network.respond` returns with ``record=``.

    Attributes
    ----------
    counts : int32 array, shape (n_samples, n_neurons)
        Spike counts of each sample's last presentation.
    spikes : SpikeRecord
        Every excitatory spike.
    dt_ms : float
        Time step; ``step * dt_ms`` is the time within the presentation.
    v_mv, threshold_mv : list of float64 arrays, or None
        With ``record="voltages"``: per sample, arrays of shape
        (presentations, steps per presentation, n_neurons): the membrane potential
        after each step's update (before a spike's reset, so a spike shows as a
        crossing) and the threshold ``v_thresh + theta`` (mV).
    """

    counts: np.ndarray
    spikes: SpikeRecord
    dt_ms: float
    v_mv: list | None = None
    threshold_mv: list | None = None


#: At most this many samples can be recorded with ``record="voltages"``.
MAX_VOLTAGE_SAMPLES = 50
RECORD_CHOICES = (None, "spikes", "voltages")


def warm_up(config: NetworkConfig, *, learn: bool, seed: int = 0, record: bool = False, n_jobs: int = 1) -> float:
    """Compile (or load from Numba's cache) the kernels ``config`` needs; returns the seconds taken.

    Runs one blank image through a throwaway network, so that later timings measure
    simulation only. ``learn`` selects the training kernels, else the inference ones;
    ``record`` through the recording path (``respond(record=...)`` and its training twin: the same
    compiled kernels, one sample per call);
    ``n_jobs`` > 1 the kernels of training on several threads (:meth:`Network.train`).
    """
    start = time.perf_counter()
    scratch = Network(config, seed=seed)
    blank = np.zeros((1, config.n_input), np.uint8)
    if record:
        scratch._run_recorded(blank, learn=learn, stream=STREAM_TRAIN if learn else STREAM_TEST, first_index=0)
    elif learn:
        scratch.train(blank, progress=False, n_jobs=min(2, training_threads(config, n_jobs)))
    else:
        scratch.respond(blank, progress=False, n_jobs=1)
    return time.perf_counter() - start


def _check_labels(labels, n: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise ConfigError(f"labels must be {n} integers (one per image), got {labels.dtype} {labels.shape}")
    return labels.astype(np.int64)


class Network:
    """A spikedyn network: weights, adaptive thresholds and dynamic state.

    Follows scikit-learn's conventions where they fit: :meth:`fit` learns from
    scratch and :meth:`partial_fit` goes on learning, both without labels;
    :meth:`assign` names the neurons from a labelled pass (learning off);
    :meth:`predict` and :meth:`score` classify. Every method that simulates is
    deterministic given the network's seed.

    Parameters
    ----------
    config : NetworkConfig
        The model and every parameter (``config.model`` names a registered model,
        see :mod:`spikedyn.models`).
    seed : int
        Seeds the initial weights and every presentation's input spikes
        (``0 <= seed < 2**63``).

    Attributes
    ----------
    weights : float64 array, shape (n_input, n_neurons)
        Input->excitatory weights.
    theta : float64 array, shape (n_neurons,)
        Adaptive threshold increments in mV.
    samples_seen : int
        Training samples presented so far (the next training-stream index).
    assignments_ : int64 array, shape (n_neurons,), or None
        Class of each neuron after :meth:`assign` (-1: never fired).
    train_stats_ : list of TrainStats
        One entry per call to :meth:`train` (or :meth:`fit`/:meth:`partial_fit`).
    count_operations : bool
        Whether the kernels count operations (:meth:`operations`; the counters cost
        little, see ``docs/cost.md``, and nothing when off).

    Examples
    --------
    >>> import spikedyn
    >>> x, y = spikedyn.load_mnist("train", n=2000)          # doctest: +SKIP
    >>> net = spikedyn.Network(spikedyn.NetworkConfig(n_neurons=100), seed=0)
    >>> net.fit(x[:1500]).assign(x[1500:], y[1500:])          # doctest: +SKIP
    """

    def __init__(self, config: NetworkConfig, *, seed: int = 0, count_operations: bool = True):
        if not isinstance(config, NetworkConfig):
            raise ConfigError(f"config must be a spikedyn.NetworkConfig, got {type(config).__name__}")
        if not isinstance(count_operations, bool):
            raise ConfigError(f"count_operations must be True or False, got {count_operations!r}")
        self.config = config
        self.seed = check_seed(seed)
        self.count_operations = count_operations
        self._kp = kernel_params(config, self.seed)
        self._kp_infer = inference_params(config, self._kp)  # one compiled inference kernel for many models
        self._init_learned_state()

    def _init_learned_state(self) -> None:
        config = self.config
        rng = np.random.default_rng(self.seed)
        s = config.stdp
        self.weights = rng.uniform(s.w_init_low, s.w_init_high, size=(config.n_input, config.n_neurons))
        if self._kp.quantise.mode != FLOAT64:
            _quantise_all(self._kp.quantise, self.weights, 0, SITE_INITIAL)
        self.theta = np.full(config.n_neurons, config.excitatory.theta_init_mv)
        self.samples_seen = 0
        self._state = _new_state(self._kp, config.n_input, config.n_neurons)
        self._buffers: Buffers | None = None
        self.assignments_: np.ndarray | None = None
        self._labelled: tuple[np.ndarray, np.ndarray, int] | None = None  # the last assign()'s counts and labels
        self._readouts: dict = {}  # readouts fitted on it, by kind
        self.train_stats_: list[TrainStats] = []
        self.reset_operations()

    def reset_operations(self) -> None:
        """Zero the operation counters of both phases (:meth:`operations`)."""
        self._counters = {phase: new_counters(self.count_operations) for phase in PHASES}
        # the rule counts its weight updates for ever; those since now are the difference
        self._updates_at_reset = self._state.plasticity.updates.copy()

    def __repr__(self) -> str:
        return (f"Network(model={self.config.model!r}, n_neurons={self.config.n_neurons}, seed={self.seed}, "
                f"samples_seen={self.samples_seen})")

    # -- learning ---------------------------------------------------------------------
    def train(self, images, *, progress: bool = True, batch_size: int = 250, desc: str = "train",
              on_batch: Callable[[TrainStats], None] | None = None, progress_start: int = 0,
              n_jobs: int = 1) -> TrainStats:
        """Learn from ``images`` (uint8, (n, n_input) or (n, rows, cols)) in order, without labels.

        Parameters
        ----------
        progress_start : int
            Samples of the same stretch done before this call (a resumed run): the progress
            bar counts from there, to ``progress_start + n``.
        n_jobs : int
            Threads (default 1), each simulating a block of the neurons
            (:mod:`spikedyn.simulation.blocks`); at most one per neuron. The weights,
            thresholds, state and operation counts are the same, bit for bit, for any
            number. Use the cores a network of several hundred neurons or more leaves
            idle; every thread spins while it waits for the others, so never more threads
            than free cores.
        on_batch : callable, optional
            Called with the :class:`TrainStats` of this call so far after every batch
            of up to ``batch_size`` samples, when the network is consistent (e.g. to
            write a checkpoint, :mod:`spikedyn.io.checkpoint`).

        Returns
        -------
        TrainStats
            Samples, presentations, wall time and spikes of this call (also appended
            to :attr:`train_stats_`).

        Raises
        ------
        spikedyn.errors.NumericalError
            If a neuron's state, a threshold or a weight becomes non-finite (checked
            after every sample, weights after every batch); names the sample, the
            neuron and the step.
        spikedyn.io.interrupt.Interrupted
            On SIGINT/SIGTERM inside :func:`spikedyn.io.interrupt.stoppable`, after the
            current sample: the samples done are learned and counted, the rest not.
        """
        images = input_images(images, self.config)
        _check_batch_size(batch_size)
        threads = training_threads(self.config, n_jobs)
        n = images.shape[0]
        if self._buffers is None:
            self._buffers = _new_buffers(self._kp, self.config.n_input, self.config.n_neurons)
        counts = np.zeros((min(batch_size, max(n, 1)), self.config.n_neurons), np.int32)
        attempts = np.zeros(counts.shape[0], np.int32)
        bad = np.full(1, -1, np.int64)
        done = presentations = spikes = 0
        start = time.perf_counter()

        def stats() -> TrainStats:
            wall = time.perf_counter() - start
            return TrainStats(train_samples=done, presentations=presentations, wall_seconds=wall,
                              samples_per_second=done / wall if wall > 0 else 0.0,
                              mean_spikes_per_sample=spikes / done if done else 0.0, spikes=spikes)

        blocks = BlockTrainer(self, threads) if threads > 1 else None
        # one thread: a barrier of one (core.barrier.one_thread), the loop of any thread count (the blocks have theirs)
        words = new_words() if blocks is None else None
        alone = one_thread(words, self.config.n_input) if blocks is None else None
        with tqdm(total=progress_start + n, initial=progress_start, desc=desc, unit="sample", disable=not progress,
                  smoothing=0.1) as bar, ThreadPoolExecutor(max_workers=1) as runner, _closing(blocks):
            while done < n:
                batch = images[done:min(done + batch_size, n)]
                before = self._snapshot()
                args = (batch, np.uint64(self.seed), np.uint64(self.samples_seen), counts, attempts,
                        self._counters["train"], interrupt.STOP, bad)
                if blocks is None:  # even one thread runs off the main thread, which can then take a signal
                    futures = [runner.submit(_train_batch, self._kp, self._state, self._buffers, self.weights,
                                             self.theta, *args, alone, _recorder(0, 0, 0, 0))]
                else:
                    futures = blocks.submit(*args)
                try:
                    ks, keyboard = _finish_all(futures)
                except BaseException:  # a thread failed: the others stop (the barrier is aborted)
                    wait(futures)
                    self._restore(before)
                    raise
                k = ks[0]
                if blocks is None:
                    _canonical_lists(self._state)
                else:
                    blocks.finish(k)
                presentations += int(attempts[:k].sum())
                spikes += int(counts[:k].sum())
                self.samples_seen += k
                done += k
                bar.update(k)
                if bad[0] >= 0 or not np.all(np.isfinite(self.weights)):
                    self._raise_nonfinite(before, batch)
                if keyboard:
                    raise KeyboardInterrupt
                if on_batch is not None:
                    on_batch(stats())
                if k < batch.shape[0]:  # stopped on request
                    self.train_stats_.append(stats())
                    interrupt.check()
        result = stats()
        self.train_stats_.append(result)
        return result

    # -- numerical guard ---------------------------------------------------------------
    def _snapshot(self) -> dict[str, Any]:
        """Copies of what training changes, to replay a batch that went non-finite."""
        return {"weights": self.weights.copy(), "theta": self.theta.copy(), "samples_seen": self.samples_seen,
                "state": {k: v.copy() for k, v in state_arrays(self._state).items()}}

    def _restore(self, before: dict[str, Any]) -> None:
        """Put the network back as it was at :meth:`_snapshot` ``before``."""
        self.weights[...] = before["weights"]
        self.theta[...] = before["theta"]
        self.samples_seen = before["samples_seen"]
        for name, array in state_arrays(self._state).items():
            array[...] = before["state"][name]

    def _raise_nonfinite(self, before: dict[str, Any], batch: np.ndarray) -> None:
        """Replay ``batch`` from ``before``, one recorded sample at a time, and raise a
        NumericalError naming the first sample, neuron and step with a non-finite value."""
        self._restore(before)
        for k in range(batch.shape[0]):
            index = self.samples_seen
            rec = self._run_recorded(batch[k:k + 1], learn=True, stream=STREAM_TRAIN, first_index=index,
                                     voltages=True)
            where = f"training sample {index} (training-stream index)"
            _raise_if_nonfinite_trace(rec, self.config, where)
            for name, array in (("weight", self.weights), ("threshold", self.theta)):
                if not np.all(np.isfinite(array)):
                    pos = np.argwhere(~np.isfinite(array))[0]
                    what = (f"the weight from input {pos[0]} to excitatory neuron {pos[1]}" if name == "weight"
                            else f"the threshold of excitatory neuron {pos[0]}")
                    raise NumericalError(f"{what} became {array[tuple(pos)]} during {where}: {_DIVERGED}")
            _raise_if_nonfinite_state(self._state.exc, where)
        raise NumericalError(f"a non-finite value appeared in a batch of {batch.shape[0]} training samples from "
                             f"index {before['samples_seen']} but not on replay: {_DIVERGED}")

    def partial_fit(self, images, *, progress: bool = False, n_jobs: int = 1) -> "Network":
        """Go on learning from ``images`` in order (no labels) on ``n_jobs`` threads (:meth:`train`);
        returns ``self``.

        Any earlier label assignment no longer describes the network and is dropped.
        """
        self.train(images, progress=progress, n_jobs=n_jobs)
        self.assignments_ = None
        self._labelled, self._readouts = None, {}
        return self

    def fit(self, images, *, epochs: int = 1, progress: bool = False, n_jobs: int = 1) -> "Network":
        """Learn from scratch: re-initialise from the seed, then ``epochs`` passes over ``images``
        on ``n_jobs`` threads (:meth:`train`).

        Returns ``self``.
        """
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ConfigError(f"epochs must be a positive integer, got {epochs!r}")
        images = _check_images(images, self.config.n_input)
        self._init_learned_state()
        for epoch in range(int(epochs)):
            self.train(images, progress=progress, desc=f"epoch {epoch + 1}/{epochs}", n_jobs=n_jobs)
        return self

    def update_counts(self) -> dict[str, int]:
        """Weight updates of the learning rule so far, by kind (see ``spikedyn.core.traces.UPDATE_KINDS``)."""
        return dict(zip(UPDATE_KINDS, (int(x) for x in self._state.plasticity.updates)))

    def operations(self, phase: str = "train") -> dict[str, Any]:
        """Counted operations of ``phase`` (``"train"`` or ``"inference"``) since the network was made
        (or :meth:`reset_operations`): ``{"tally": totals of the kernel counters and weight updates,
        "per_sample": {operation: {"model": x, "executed": y}}}`` (None before the first sample);
        see :mod:`spikedyn.cost.operations`."""
        if phase not in PHASES:
            raise ConfigError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
        updates = self._state.plasticity.updates - self._updates_at_reset if phase == "train" else None
        tally = tally_dict(self._counters[phase], updates)
        return {"tally": tally, "per_sample": derive(self.config, tally, phase) if tally["samples"] else None}

    # -- inference --------------------------------------------------------------------
    def test_thresholds(self) -> np.ndarray:
        """The thresholds (``theta``, mV) the network answers with when learning is off (:meth:`respond`,
        :meth:`predict`, the NIR export): :attr:`theta` itself, unless the model's rule recalls them from
        its state (``metaplastic.recall_at_commit``: a committed neuron's threshold at commitment)."""
        return models.get(self.config.model).plasticity.test_thresholds(self.config, self.theta,
                                                                        self._state.plasticity)

    def test_weights(self) -> np.ndarray:
        """The weights the network answers with when learning is off (:meth:`respond`, :meth:`predict`,
        the NIR export): :attr:`weights` itself, unless the model's rule scales them from its state
        (``metaplastic.recall_gain``: each committed neuron's column to a common L2 norm)."""
        return models.get(self.config.model).plasticity.test_weights(self.config, self.weights,
                                                                     self._state.plasticity)

    def firing_at_rest(self) -> np.ndarray:
        """Which excitatory neurons fire with no input when learning is off (bool, shape (n_neurons,)):
        their threshold under :meth:`test_thresholds` lies below the resting potential
        (:meth:`spikedyn.core.params.ExcitatoryParams.fires_at_rest`). Such neurons answer every image
        alike, and the paper's readout gives them the class of the image with the most ink."""
        return self.config.excitatory.fires_at_rest(self.test_thresholds())

    def respond(self, images, *, stream: int = STREAM_TEST, first_index: int = 0, n_jobs: int | None = None,
                progress: bool = True, batch_size: int = 500, desc: str = "respond", record: str | None = None):
        """Responses of the frozen network to each image (learning off, each from rest).

        Parameters
        ----------
        images : uint8 array, shape (n, n_input) or (n, rows, cols)
        stream : int
            Stream of input randomness (``spikedyn.core.encoding.STREAM_*``; default
            ``STREAM_TEST``); sample k uses index ``first_index + k`` in it.
        n_jobs : int, optional
            Threads (default: all cores). Batches of up to ``batch_size`` samples
            (fewer when that keeps all threads busy); the result is the same for
            any ``n_jobs`` and ``batch_size``.
        record : {None, "spikes", "voltages"}
            None: spike counts only (fast, parallel). ``"spikes"``: also every spike;
            ``"voltages"``: also membrane potentials and thresholds at every step
            (at most :data:`MAX_VOLTAGE_SAMPLES` samples). Recording runs on one thread.

        Returns
        -------
        int32 array, shape (n, n_neurons), or Response
            The spike counts of each sample's last presentation; with ``record``, a
            :class:`Response` holding them and the recordings.
        """
        images = input_images(images, self.config)
        _check_batch_size(batch_size)
        stream = _check_index("stream", stream)
        first_index = _check_index("first_index", first_index)
        if record not in RECORD_CHOICES:
            raise ConfigError(f"record must be one of None, 'spikes', 'voltages', got {record!r}")
        if record is not None:
            return self._run_recorded(images, learn=False, stream=stream, first_index=first_index,
                                      voltages=record == "voltages", progress=progress, desc=desc)
        n = images.shape[0]
        out = np.zeros((n, self.config.n_neurons), np.int32)
        n_jobs = default_jobs() if n_jobs is None else n_jobs
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
            raise ConfigError(f"n_jobs must be a positive integer, got {n_jobs!r}")
        n_jobs = int(n_jobs)
        batch_size = min(batch_size, max(1, -(-n // n_jobs)))  # at least one batch per thread
        bad: list[int] = []
        lock = threading.Lock()
        theta, weights = self.test_thresholds(), self.test_weights()

        def run(lo: int) -> int:
            hi = min(lo + batch_size, n)
            ops = new_counters(self.count_operations)  # one per batch: threads never share one
            flag = np.full(1, -1, np.int64)
            k = _infer_batch(self._kp_infer, weights, theta, images[lo:hi], np.uint64(self.seed),
                             np.uint64(stream), np.uint64(first_index + lo), out[lo:hi], np.empty(hi - lo, np.int32),
                             ops, interrupt.STOP, flag, _recorder(0, 0, 0, 0))
            with lock:
                if ops is not None:
                    self._counters["inference"] += ops
                if flag[0] >= 0:
                    bad.append(lo + int(flag[0]))
            return k

        # Even one thread runs off the main thread, which then waits and can take a signal.
        with tqdm(total=n, desc=desc, unit="sample", disable=not progress, smoothing=0.1) as bar, \
                ThreadPoolExecutor(max_workers=n_jobs) as pool:
            starts = range(0, n, batch_size)
            done, keyboard = _finish_all([pool.submit(run, lo) for lo in starts], bar.update)
        if keyboard:
            raise KeyboardInterrupt
        interrupt.check()
        short = [lo for lo, k in zip(starts, done) if k < min(lo + batch_size, n) - lo]
        if short and not bad:  # stopped by a request that was withdrawn meanwhile: never return partial counts
            raise Interrupted()
        if bad:
            k = min(bad)
            rec = self._run_recorded(images[k:k + 1], learn=False, stream=stream, first_index=first_index + k,
                                     voltages=True)
            where = f"sample {k} of this call (stream {stream}, index {first_index + k}), learning off"
            _raise_if_nonfinite_trace(rec, self.config, where)
            raise NumericalError(f"a neuron's conductance became non-finite during {where}: {_DIVERGED}")
        return out

    def _run_recorded(self, images, *, learn: bool, stream: int, first_index: int, voltages: bool = False,
                      progress: bool = False, desc: str = "record") -> Response:
        """Run ``images`` sample by sample, recording, through the batch kernels of :meth:`train`
        and :meth:`respond` (one sample per call, with a recorder of its size).

        ``learn=True`` is :meth:`train` (training stream, indices from
        :attr:`samples_seen`, state, weights and thresholds updated in place);
        ``learn=False`` is :meth:`respond` (each presentation from rest, nothing
        changed). Same compiled kernels, same results, plus the recordings.
        """
        kp, c = self._kp, self.config
        n, n_in = c.n_neurons, c.n_input
        if voltages and images.shape[0] > MAX_VOLTAGE_SAMPLES:
            raise ConfigError(f"record='voltages' keeps every step of every neuron: at most {MAX_VOLTAGE_SAMPLES} "
                              f"samples, got {images.shape[0]}; record fewer, or use record='spikes'")
        if learn:
            st = self._state
            if self._buffers is None:
                self._buffers = _new_buffers(kp, n_in, n)
            buf = self._buffers
            stream, first_index = STREAM_TRAIN, self.samples_seen
            theta, weights = self.theta, self.weights
        else:
            theta, weights = self.test_thresholds(), self.test_weights()
        period = kp.present_steps + (kp.rest_steps if learn else 0)
        gate = max(1, kp.exc.refractory_steps, kp.exc.lockout_steps)
        capacity = kp.max_presentations * n * (-(-period // gate))  # no neuron fires more often
        rec = _recorder(capacity, kp.max_presentations, kp.max_presentations * period if voltages else 0, n)
        counts = np.zeros((images.shape[0], n), np.int32)
        presentations = np.zeros(images.shape[0], np.int32)
        cols: list[list[np.ndarray]] = [[], [], [], []]
        v_mv: list[np.ndarray] = []
        threshold_mv: list[np.ndarray] = []
        ops = self._counters["train" if learn else "inference"]
        # as train on one thread: the same compiled loop; the barrier's words stay referenced while it runs
        words = new_words() if learn else None
        alone = one_thread(words, n_in) if learn else None
        never = np.zeros_like(interrupt.STOP)  # a recorded run is not stopped midway (as before the batch kernels)
        bad = np.full(1, -1, np.int64)
        for k in tqdm(range(images.shape[0]), desc=desc, unit="sample", disable=not progress):
            rec.n_spikes[0] = 0
            rec.n_steps[0] = 0
            index = np.uint64(first_index + k)
            if learn:
                t0 = int(st.clock[0])
                _train_batch(kp, st, buf, weights, theta, images[k:k + 1], np.uint64(self.seed), index,
                             counts[k:k + 1], presentations[k:k + 1], ops, never, bad, alone, rec)
            else:
                _infer_batch(self._kp_infer, weights, theta, images[k:k + 1], np.uint64(self.seed),
                             np.uint64(stream), index, counts[k:k + 1], presentations[k:k + 1], ops, never, bad, rec)
            attempts = int(presentations[k])
            n_rec = int(rec.n_spikes[0])
            if n_rec > capacity:  # cannot happen: no neuron fires faster than its gate allows
                raise RuntimeError(f"spike record overflow ({n_rec} > {capacity})")
            steps = rec.spike_step[:n_rec].copy()
            if learn:  # one clock across presentations
                attempt, steps = (steps - t0) // period, (steps - t0) % period
            else:  # the clock restarts at every presentation
                attempt = np.searchsorted(rec.attempt_ends[:attempts], np.arange(n_rec), side="right")
            for col, values in zip(cols, (np.full(n_rec, k), attempt, steps, rec.spike_neuron[:n_rec])):
                col.append(np.array(values, np.int64))  # a copy: the recorder is reused
            if voltages:
                v_mv.append(rec.v[:attempts * period].reshape(attempts, period, n).copy())
                threshold_mv.append(rec.threshold[:attempts * period].reshape(attempts, period, n).copy())
        if learn:
            _canonical_lists(st)
            self.samples_seen = first_index + images.shape[0]
        spikes = make_spike_record(*(np.concatenate(c) if c else np.zeros(0, np.int64) for c in cols), presentations)
        return Response(counts=counts, spikes=spikes, dt_ms=c.timing.dt_ms,
                        v_mv=v_mv if voltages else None, threshold_mv=threshold_mv if voltages else None)

    # -- labels ------------------------------------------------------------------------
    def assign(self, images, labels, *, n_classes: int = 10, n_jobs: int | None = None,
               progress: bool = False) -> "Network":
        """Name each neuron by the class it responds to most (learning off); returns ``self``.

        The labelled pass uses the input stream ``STREAM_ASSIGN``. Sets
        :attr:`assignments_` (see :func:`spikedyn.core.readout.assign_labels`).
        """
        images = _check_images(images, self.config.n_input)
        labels = _check_labels(labels, images.shape[0])
        counts = self.respond(images, stream=STREAM_ASSIGN, n_jobs=n_jobs, progress=progress, desc="assign")
        return self.name_from(counts, labels, n_classes)

    def name_from(self, counts, labels, n_classes: int = 10) -> "Network":
        """Name the neurons from the spike counts of a labelled pass already run (what :meth:`assign`
        does after its pass); keeps the pass for the readouts of :meth:`predict`. Returns ``self``."""
        labels = np.asarray(labels)
        self.assignments_ = assign_labels(counts, labels, n_classes)
        self._labelled, self._readouts = (np.asarray(counts), labels, n_classes), {}
        return self

    def _require_assignments(self) -> np.ndarray:
        if self.assignments_ is None:
            raise ConfigError("the network's neurons have no labels yet; call assign(images, labels) first")
        return self.assignments_

    def _readout(self, kind: str):
        """Readout ``kind`` fitted on the last :meth:`assign`'s labelled pass (fitted once, when first asked)."""
        if kind not in READOUTS:
            raise ConfigError(f"unknown readout {kind!r}; choose one of {', '.join(READOUTS)}")
        if self._labelled is None:
            raise ConfigError(f"the {kind!r} readout is fitted on a labelled pass, which this network does not hold "
                              "(a loaded network keeps only its classes); call assign(images, labels) first")
        if kind not in self._readouts:
            self._readouts[kind] = fit_readout(kind, *self._labelled)
        return self._readouts[kind]

    def predict(self, images, *, readout: str = PAPER_READOUT, n_jobs: int | None = None,
                progress: bool = False) -> np.ndarray:
        """Predicted class of each image (test stream): int64 array, shape (n,).

        ``readout``: the paper's (``"mean"``, from :attr:`assignments_`) or another of
        :data:`spikedyn.core.readout.READOUTS`, fitted on the last :meth:`assign`'s labelled pass.
        """
        if readout == PAPER_READOUT:
            assignments = self._require_assignments()
            answer = functools.partial(predict, assignments=assignments, n_classes=max(10, int(assignments.max()) + 1))
        else:
            answer = self._readout(readout).predict  # fitted (or refused) before any image is run
        return answer(self.respond(images, stream=STREAM_TEST, n_jobs=n_jobs, progress=progress, desc="predict"))

    def score(self, images, labels, *, readout: str = PAPER_READOUT, n_jobs: int | None = None,
              progress: bool = False) -> float:
        """Accuracy of :meth:`predict` on labelled images."""
        images = _check_images(images, self.config.n_input)
        labels = _check_labels(labels, images.shape[0])
        return accuracy(labels, self.predict(images, readout=readout, n_jobs=n_jobs, progress=progress))

    # -- disk --------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, np.ndarray]:
        """The dynamic state as flat named arrays (``"exc.v"``, ..., ``"clock"``; see
        :func:`spikedyn.simulation.state.state_arrays`): the live arrays, which a loader fills in place."""
        return state_arrays(self._state)

    @classmethod
    def from_dict(cls, config: Mapping[str, Any], *, seed: int, count_operations: bool = True) -> "Network":
        """A new network of the config ``config`` as :meth:`NetworkConfig.to_dict` wrote it (what a run
        directory or a checkpoint holds; :mod:`spikedyn.io.runs`, :mod:`spikedyn.io.checkpoint`)."""
        return cls(NetworkConfig.from_saved(config), seed=seed, count_operations=count_operations)

    def save(self, path, *, overwrite: bool = False, extra: dict[str, Any] | None = None):
        """Write the network to the run directory ``path``, atomically (see :mod:`spikedyn.io.runs`).

        With ``overwrite=False`` an existing non-empty directory is an error. ``extra``:
        more JSON-serialisable metadata for ``run.json`` (e.g. ``{"training": summary}``).
        Returns the path.
        """
        return save_run(path, self, extra, overwrite=overwrite)

    @classmethod
    def load(cls, path) -> "Network":
        """The network saved in the run directory ``path``, exactly as it was."""
        return load_run(path, cls)[0]


_DIVERGED = ("the simulation diverged; check the weights and the config (a smaller timing.dt_ms or "
             "learning rate), and report it if they are within the documented ranges")


def _finish_all(futures, on_done=None) -> tuple[list[int], bool]:
    """The samples each kernel running in ``futures`` did, and whether Ctrl-C arrived while
    waiting (outside :func:`spikedyn.io.interrupt.stoppable`, or a second one inside it).

    On Ctrl-C every kernel is asked to stop after its current sample and all are waited
    for (another Ctrl-C only repeats the request), so that the caller can keep its
    bookkeeping consistent before raising KeyboardInterrupt; the request is withdrawn
    once every kernel has returned. ``on_done(k)`` is called as each finishes.
    """
    done: list[int] = []
    keyboard = False
    for future in futures:
        while True:
            try:
                k = future.result()
                break
            except KeyboardInterrupt:
                keyboard = True
                interrupt.request()
        done.append(k)
        if on_done is not None:
            on_done(k)
    if keyboard:
        interrupt.clear()
    return done, keyboard


def _raise_if_nonfinite_trace(rec: "Response", config: NetworkConfig, where: str) -> None:
    """A NumericalError at the first non-finite membrane potential or threshold recorded in ``rec``."""
    for name, traces in (("membrane potential", rec.v_mv), ("threshold", rec.threshold_mv)):
        trace = traces[0]
        if not np.all(np.isfinite(trace)):
            p, step, j = np.argwhere(~np.isfinite(trace))[0]
            raise NumericalError(
                f"the {name} of excitatory neuron {j} became {trace[p, step, j]} at step {step} "
                f"({step * config.timing.dt_ms:g} ms) of presentation {p + 1} of {where}: {_DIVERGED}")


def _raise_if_nonfinite_state(exc: Excitatory, where: str) -> None:
    for name, array in (("excitatory conductance", exc.ge), ("inhibitory conductance", exc.gi)):
        if not np.all(np.isfinite(array)):
            j = int(np.argwhere(~np.isfinite(array))[0][0])
            raise NumericalError(f"the {name} of excitatory neuron {j} became {array[j]} during {where}: {_DIVERGED}")


def _check_index(name: str, value) -> int:
    """A stream or stream index: the same range as a seed (``config.check_seed``)."""
    return check_seed(value, name)


class _closing:
    """``with _closing(x):`` calls ``x.close()`` at the end, unless ``x`` is None."""

    def __init__(self, thing):
        self.thing = thing

    def __enter__(self):
        return self.thing

    def __exit__(self, *exc) -> None:
        if self.thing is not None:
            self.thing.close()


def training_threads(config: NetworkConfig, n_jobs) -> int:
    """The threads :meth:`Network.train` uses for ``n_jobs``: a positive integer, at most one per neuron.

    A part that cannot be split into blocks of neurons under ``config`` (its ``single_thread_reason(config)``
    returns a reason) makes more than one thread an error."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ConfigError(f"n_jobs must be a positive integer, got {n_jobs!r}")
    threads = int(min(n_jobs, config.n_neurons, MAX_THREADS))
    if threads > 1:
        # A part whose step reads the whole population (not one block of it) says why it cannot be split.
        for part in models.get(config.model).parts.values():
            reason = getattr(part, "single_thread_reason", None)
            why = reason(config) if reason is not None else None
            if why:
                raise ConfigError(f"training on {threads} threads: {why}; train with n_jobs=1 (--jobs 1)")
    return threads


def default_jobs() -> int:
    """Threads for inference: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
