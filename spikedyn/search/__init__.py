"""The Pareto model search: which network fits a memory and energy budget, without training them all.

=================  ==============================================================================
``space``          what is searched: the space, the budget, the protocol; the search as a file
``driver``         the search: prune by the estimate, train and score the rest, the front and the choice
``pareto``         Pareto fronts (dominance over objectives to maximise or minimise)
``executors``      where independent runs execute (local processes or Dask), each result stored as it
                   completes
=================  ==============================================================================

The search knows nothing of the command line (``spikedyn search`` is :mod:`spikedyn.cli.search`).
"""

from __future__ import annotations

from .driver import evaluate, run_search, select
from .pareto import dominates, pareto_front
from .space import (BUDGETS, DEFAULT_NEURONS, OBJECTIVES, PROTOCOLS, SPEC_FILE, SPEC_KEYS, Budget, Candidate,
                    SearchProtocol, SearchSpace, SearchSpec, load_spec)

__all__ = ["BUDGETS", "Budget", "Candidate", "DEFAULT_NEURONS", "OBJECTIVES", "PROTOCOLS", "SPEC_FILE", "SPEC_KEYS",
           "SearchProtocol", "SearchSpace", "SearchSpec", "dominates", "evaluate", "load_spec", "pareto_front",
           "run_search", "select"]
