"""The simulation: the one time loop, its state, and :class:`Network`.

=================  ==============================================================================
``state``          the kernel arguments of a config (``kernel_params``) and the state's layout
``loop``           the one time loop and the present-and-retry protocol (Numba kernels)
``network``        :class:`Network`: fit / partial_fit / assign / predict / score / respond / save / load
=================  ==============================================================================
"""

from __future__ import annotations

from .network import Network, Response, SpikeRecord, TrainStats, default_jobs, warm_up
from .state import kernel_params, state_arrays

__all__ = ["Network", "Response", "SpikeRecord", "TrainStats", "default_jobs", "kernel_params", "state_arrays",
           "warm_up"]
