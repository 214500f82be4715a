"""A layered feed-forward SNN (parameters) and its simulation in spikedyn's Numba kernel.

:class:`LayeredSNN` holds what a converted or surrogate-trained network needs at inference:
weights, biases, the membrane decay of each layer, which layers spike, the threshold and
the initial membrane. :func:`simulate` validates the input, runs
:func:`spikedyn.feedforward.kernels._simulate` and returns a :class:`Simulation` with the
output spike counts and membranes (at several step counts, for accuracy-against-T curves
from one run), each layer's spikes and the operation counters.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numba
import numpy as np
from numba.typed import List

from ..errors import ConfigError
from . import kernels
from .kernels import COUNTERS

INPUTS = ("constant", "poisson")
#: Batches smaller than this are simulated on one thread.
SERIAL_BELOW = 64


@dataclass(frozen=True)
class LayeredSNN:
    """Parameters of a layered SNN (inference only).

    Attributes
    ----------
    weights : tuple of float64 arrays, shapes (n_{l-1}, n_l)
        Input-major: row ``i`` is the fan-out of neuron ``i`` of the layer below.
    biases : tuple of float64 arrays, shapes (n_l,)
        A constant current added to every membrane at every step.
    betas : tuple of float
        Membrane decay per step of each layer (1.0: integrate-and-fire, no leak).
    spiking : tuple of bool
        Whether each layer spikes (the surrogate network's output layer only integrates).
    threshold : float
        Firing threshold (1.0 for the converted networks: the normalisation scales to it).
    v_init : float
        Membrane potential of every neuron at step 0.
    """

    weights: tuple
    biases: tuple
    betas: tuple
    spiking: tuple
    threshold: float = 1.0
    v_init: float = 0.0

    def __post_init__(self):
        ws = tuple(np.ascontiguousarray(w, np.float64) for w in self.weights)
        bs = tuple(np.ascontiguousarray(b, np.float64) for b in self.biases)
        object.__setattr__(self, "weights", ws)
        object.__setattr__(self, "biases", bs)
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        object.__setattr__(self, "spiking", tuple(bool(s) for s in self.spiking))
        n = len(ws)
        if n < 1 or not (len(bs) == len(self.betas) == len(self.spiking) == n):
            raise ConfigError(f"a LayeredSNN needs one bias, beta and spiking flag per weight matrix; got {n} weights, "
                              f"{len(bs)} biases, {len(self.betas)} betas, {len(self.spiking)} flags")
        for l, (w, b) in enumerate(zip(ws, bs)):
            if w.ndim != 2 or b.shape != (w.shape[1],):
                raise ConfigError(f"layer {l + 1}: weights must be (n_in, n_out) and biases (n_out,), "
                                  f"got {w.shape} and {b.shape}")
            if l and w.shape[0] != ws[l - 1].shape[1]:
                raise ConfigError(f"layer {l + 1} takes {w.shape[0]} inputs but layer {l} has "
                                  f"{ws[l - 1].shape[1]} neurons")
            if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
                raise ConfigError(f"layer {l + 1} has non-finite weights or biases; retrain the network")
        if not (np.isfinite(self.threshold) and self.threshold > 0):
            raise ConfigError(f"threshold must be a finite number > 0, got {self.threshold!r}")

    @functools.cached_property
    def _kernel_args(self):
        """The parameters as the kernel takes them (built once: a typed list is slow to build)."""
        return (List(self.weights), List(self.biases), np.asarray(self.betas, np.float64),
                np.asarray(self.spiking, np.bool_))

    @property
    def sizes(self) -> tuple[int, ...]:
        """Neurons per layer, the input first: ``(n_in, n_1, ..., n_L)``."""
        return (self.weights[0].shape[0],) + tuple(w.shape[1] for w in self.weights)


class Simulation(NamedTuple):
    """What :func:`simulate` returns (``R`` recorded step counts, ``n`` samples)."""

    record_at: np.ndarray      #: int64 (R,): step counts at which the output was recorded
    counts: np.ndarray         #: int64 (n, R, n_out): output spikes so far
    membrane: np.ndarray       #: float64 (n, R, n_out): output membrane potential
    layer_spikes: np.ndarray   #: int64 (n, L + 1): input spikes, then each layer's, over the run
    ops: np.ndarray            #: int64 (n, R, len(COUNTERS)): :data:`~spikedyn.feedforward.kernels.COUNTERS` so far

    def tally(self, r: int = -1) -> dict[str, float]:
        """Operation counts per sample (means over the samples) after ``record_at[r]`` steps,
        ``{"samples": n, counter: mean}``."""
        out = {"samples": float(self.ops.shape[0])}
        out.update({name: float(v) for name, v in zip(COUNTERS, self.ops[:, r].mean(axis=0))})
        return out


def check_positive_int(value, name: str, what: str) -> int:
    """``value`` as an int >= 1, else a one-line ConfigError naming ``name`` and ``what`` it counts."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be an integer >= 1 ({what}), got {value!r}")
    return int(value)


def check_timesteps(timesteps) -> int:
    """``timesteps`` as an int >= 1, else a one-line ConfigError."""
    if isinstance(timesteps, bool) or not isinstance(timesteps, (int, np.integer)) or timesteps < 1:
        raise ConfigError(f"timesteps must be an integer >= 1 (steps simulated per input), got {timesteps!r}")
    return int(timesteps)


def simulate(net: LayeredSNN, x: np.ndarray, *, timesteps: int, record_at: Sequence[int] | None = None,
             input: str = "constant", rate: float = 1.0, seed: int = 0, sample_offset: int = 0,
             progress: bool = False, batch: int = 1000, desc: str = "simulate") -> Simulation:
    """Run ``net`` on every row of ``x`` for ``timesteps`` steps.

    Parameters
    ----------
    net : LayeredSNN
    x : array, shape (n_samples, n_in)
        Input values: currents (``input="constant"``), or values in [0, 1] whose product with
        ``rate`` is a spike probability per step (``input="poisson"``).
    timesteps : int >= 1
    record_at : increasing ints in [1, timesteps], optional
        Step counts at which the output is also recorded (``timesteps`` is always recorded, last).
    input : "constant" or "poisson"
    rate : float in (0, 1]
        Poisson input: spike probability per step of an input of value 1.
    seed, sample_offset : int
        Poisson input: the generator's seed, and the index of ``x[0]`` in its data set.
    progress, batch, desc : bool, int, str
        With ``progress``, the samples run in batches of ``batch`` under a progress bar named
        ``desc`` (the results are the same: every draw is keyed on the sample's index).
    """
    if progress and len(x) > batch:
        from tqdm.auto import tqdm

        parts = [simulate(net, x[i:i + batch], timesteps=timesteps, record_at=record_at, input=input, rate=rate,
                          seed=seed, sample_offset=sample_offset + i)
                 for i in tqdm(range(0, len(x), batch), desc=desc, unit="batch")]
        return Simulation(parts[0].record_at, *(np.concatenate([getattr(p, f) for p in parts])
                                                for f in Simulation._fields[1:]))
    timesteps = check_timesteps(timesteps)
    if input not in INPUTS:
        raise ConfigError(f"input must be one of {', '.join(INPUTS)}, got {input!r}")
    x = np.ascontiguousarray(x, np.float64)
    if x.ndim != 2 or x.shape[1] != net.sizes[0]:
        raise ConfigError(f"x must be (n_samples, {net.sizes[0]}), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ConfigError("x holds non-finite values; give finite inputs")
    if input == "poisson":
        if not (0.0 < rate <= 1.0):
            raise ConfigError(f"rate must be in (0, 1] (a spike probability per step), got {rate!r}")
        if x.size and (x.min() < 0.0 or x.max() > 1.0):
            raise ConfigError("Poisson input needs values in [0, 1]; scale the data or use input='constant'")
    steps = sorted(set(int(t) for t in (record_at or ())) | {timesteps})
    if steps[0] < 1 or steps[-1] > timesteps:
        raise ConfigError(f"record_at must hold step counts in [1, {timesteps}], got {list(record_at)}")
    rec = np.asarray(steps, np.int64)
    n, n_out, n_layers = x.shape[0], net.sizes[-1], len(net.weights)
    counts = np.zeros((n, len(rec), n_out), np.int64)
    membrane = np.zeros((n, len(rec), n_out), np.float64)
    layer_spikes = np.zeros((n, n_layers + 1), np.int64)
    ops = np.zeros((n, len(rec), len(COUNTERS)), np.int64)
    threads = numba.get_num_threads()
    # A parallel region costs little on an idle machine but tens of ms on a busy one: small batches
    # (one CartPole state per decision) run on one thread.
    numba.set_num_threads(1 if n < SERIAL_BELOW else threads)
    try:
        kernels._simulate(x, input == "poisson", float(rate), int(seed), int(sample_offset), *net._kernel_args,
                          float(net.threshold), float(net.v_init), rec, counts, membrane, layer_spikes, ops)
    finally:
        numba.set_num_threads(threads)
    return Simulation(rec, counts, membrane, layer_spikes, ops)
