"""Reading a decision out of a converted SNN's output layer.

``spikes``
    the output spike count ``c_k(T)``: the firing-rate readout of Diehl et al. (2015).
    Ties (frequent at small T, and among outputs that never fire) go to the lowest index.
``spikes+membrane``
    Tan, Patel & Kozma's robust firing-rate representation (AAAI 2021): ``c_k(T) + v_k(T) /
    theta``. With reset by subtraction every input to an output neuron is either spent on a
    spike (``theta`` each) or still in its membrane, so ``theta c_k(T) + v_k(T) - v_k(0) =
    sum_t I_k(t)``: the readout is the time integral of the output current, which removes
    ties, keeps the sign of negative outputs (Q-values), and has no saturation error.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError

READOUTS = ("spikes", "spikes+membrane")


def check_readout(readout: str) -> str:
    if readout not in READOUTS:
        raise ConfigError(f"readout must be one of {', '.join(READOUTS)}, got {readout!r}")
    return readout


def values(counts: np.ndarray, membrane: np.ndarray, readout: str, threshold: float = 1.0) -> np.ndarray:
    """The readout's value of every output (same shape as ``counts``)."""
    check_readout(readout)
    counts = np.asarray(counts, np.float64)
    return counts if readout == "spikes" else counts + np.asarray(membrane, np.float64) / threshold


def decide(counts: np.ndarray, membrane: np.ndarray, readout: str, threshold: float = 1.0) -> np.ndarray:
    """The chosen class or action: argmax of :func:`values` over the last axis (first index on ties)."""
    return values(counts, membrane, readout, threshold).argmax(axis=-1)
