"""Continual learning: the class-incremental protocol, its metrics, and the outputs of a run.

=================  ==============================================================================
``protocol``       tasks one at a time, never repeated; evaluation after each; the i.i.d. reference
``metrics``        the accuracy matrix and its metrics: ACC, BWT, forgetting, newest/previous tasks
``outputs``        a run's JSON, CSV, weights and figures, written atomically
=================  ==============================================================================

``spikedyn.continual.run(config, protocol=...)`` runs the protocol (what ``spikedyn continual`` runs).
"""

from __future__ import annotations

#: The model ``spikedyn continual`` trains unless told otherwise: the best continual-learning rule
#: (its choice and the measurements behind it: ``docs/continual.md``). One constant: the CLI, the
#: docs and the tests read it here.
DEFAULT_CONTINUAL_MODEL = "metaplastic"
#: Overrides that come with the default model (``--set`` items, applied before the user's): the
#: input rate, 96 Hz at pixel 255 (its selection on the validation split chose 128 Hz with the inhibition 40;
#: with 30, 96 Hz led at 200, 400 and 1600 neurons and on Split-MNIST: ``docs/continual.md``, "The input rate at
#: 1600 neurons, with the inhibition 30"), and the capacity
#: budget (mechanism 8 of :mod:`spikedyn.models.metaplastic`: networks of up to 400 neurons run as
#: without it, bit for bit; larger ones spread each class over more neurons; ``docs/continual.md``), and
#: the recall by committed neurons only (mechanism 9: a neuron still learning when training stops does
#: not answer at test time), and the lateral inhibition 30 (40 at the package defaults; 30 led at 200, 400 and
#: 1600 neurons and on Split-MNIST on the validation split: ``docs/continual.md``, "The lateral inhibition at 1600
#: neurons"). Used only when the model is not given (``--model``, ``--config`` or ``--set model=...``):
#: ``--model metaplastic`` is the model at the package defaults.
DEFAULT_CONTINUAL_SET = ("input.rate_hz_per_unit=0.375", "metaplastic.capacity_budget=true",
                         "metaplastic.recall_committed_only=true", "lateral.w_lateral=30")

from .outputs import write_outputs
from .protocol import (DEFAULT_ASSIGN_PER_CLASS, DEFAULT_SAMPLES_PER_TASK, N_CLASSES, SPLITS, ContinualResult, Pools,
                       Protocol, TaskRecord, load_pools, parse_tasks, run, run_iid, task_name)

__all__ = ["ContinualResult", "DEFAULT_ASSIGN_PER_CLASS", "DEFAULT_CONTINUAL_MODEL", "DEFAULT_CONTINUAL_SET", "DEFAULT_SAMPLES_PER_TASK", "N_CLASSES", "Pools",
           "Protocol", "SPLITS", "TaskRecord", "load_pools", "parse_tasks", "run", "run_iid", "task_name",
           "write_outputs"]
