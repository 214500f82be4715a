"""The cost model: memory and energy of a network, predicted before training or priced from counts.

=================  ===============================================================================
``operations``     the kernels' operation counters, and the operations per sample derived from a
                   tally of them (model and executed views)
``footprint``      bytes of every array a model stores, from the config (each part says what it stores)
``tables``         energy per operation as data with sources (``energy_tables/``), and how each
                   counted operation is priced
``activity``       the analytical model: the tally predicted from the config and calibrated
                   activity statistics (``activity_statistics.json``)
``pricing``        operations priced on a table: the estimate before training, a counted run's cost;
                   the layered networks' (converted, surrogate-trained, their ANNs) records
=================  ===============================================================================

``spikedyn.cost.estimate(config)`` prices a network before it is trained,
``spikedyn.cost.counted(network)`` one that counted its operations.
"""

from __future__ import annotations

from .activity import (ACTIVITY_FILE, Activity, activity_for, expected_input_spikes, filter_key, input_pixel_sum,
                       load_statistics, predict_tally)
from .footprint import footprint_bytes, layered_footprint_bytes
from .operations import (OPERATIONS, OPTIONAL_OPERATIONS, PHASES, derive, derive_ann, derive_layered, derive_training,
                         predict_layered_tally, training_macs)
from .pricing import counted, energy, estimate, layered_cost, price, price_layered

__all__ = ["ACTIVITY_FILE", "Activity", "OPERATIONS", "OPTIONAL_OPERATIONS", "PHASES", "activity_for", "counted",
           "derive", "derive_ann", "derive_layered", "derive_training", "energy", "estimate",
           "expected_input_spikes", "filter_key", "footprint_bytes", "input_pixel_sum", "layered_cost",
           "layered_footprint_bytes", "load_statistics", "predict_layered_tally", "predict_tally", "price",
           "price_layered", "training_macs"]
