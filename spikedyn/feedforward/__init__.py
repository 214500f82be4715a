"""Layered feed-forward SNNs: the simulator shared by converted and surrogate-trained networks.

It sits in the simulation layer (it imports :mod:`spikedyn.cost.operations` for its counters'
names and nothing above); :mod:`spikedyn.conversion` and :mod:`spikedyn.surrogate` build
networks for it, :func:`spikedyn.cost.derive_layered` turns its counts into priced operations.

=====================  ==========================================================
``LayeredSNN``         weights, biases, membrane decay, spiking flags, threshold
``simulate``           run a network on inputs in spikedyn's Numba kernel
``Simulation``         output counts and membranes, layer spikes, operation counters
``COUNTERS``           the operation counters the kernel keeps per sample
=====================  ==========================================================
"""

from .kernels import COUNTERS
from .network import INPUTS, LayeredSNN, Simulation, check_positive_int, check_timesteps, simulate

__all__ = ["COUNTERS", "INPUTS", "LayeredSNN", "Simulation", "check_positive_int", "check_timesteps", "simulate"]
