"""The cost model: memory and energy of a network, predicted before training or priced from counts.

=================  ===============================================================================
``operations``     the kernels' operation counters, and the operations per sample derived from a
                   tally of them (model and executed views)
``footprint``      bytes of every array a model stores, from the config (each part says what it stores)
``tables``         energy per operation as data with sources (``energy_tables/``), and how each
                   counted operation is priced
``activity``       the analytical model: the tally predicted from the config and calibrated
                   activity statistics (``activity_statistics.json``)
``pricing``        operations priced on a table: the estimate before training, a counted run's cost
=================  ===============================================================================

``spikedyn.cost.estimate(config)`` prices a network before it is trained,
``spikedyn.cost.counted(network)`` one that counted its operations.
"""

from __future__ import annotations

from .activity import ACTIVITY_FILE, Activity, activity_for, expected_input_spikes, load_statistics, predict_tally
from .footprint import footprint_bytes
from .operations import OPERATIONS, PHASES, derive
from .pricing import counted, energy, estimate, price

__all__ = ["ACTIVITY_FILE", "Activity", "OPERATIONS", "PHASES", "activity_for", "counted", "derive", "energy",
           "estimate", "expected_input_spikes", "footprint_bytes", "load_statistics", "predict_tally", "price"]
