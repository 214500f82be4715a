"""Recall at the slow threshold: with learning off, a neuron answers with an average of the
thresholds it had over the recent part of its training, not with its last one.

The plasticity part :class:`RecallStdp` (``stdp-recall``, section ``recall``,
:class:`RecallParams`) of the ``lateral-fast-recall`` model. Learning is Diehl & Cook's, bit for
bit (the same STDP, homeostasis and normalisation); only the thresholds of inference change.
Notation: ``theta_j(n)`` neuron j's threshold after its network's n-th training presentation (and
its rest), ``phi`` = ``window_fraction``::

    after training presentation n = 1, 2, ...:   a_n = 1 / (1 + phi * (n - 1))
                                                 m_j <- (1 - a_n) * m_j + a_n * theta_j(n)
    with learning off:                           theta_test_j = m_j      (theta_j before any training)

This is polynomial-decay averaging (Shamir & Zhang 2013, with ``eta = 1 / phi - 1``): ``a_1 = 1``,
so ``m`` starts at the first threshold and needs no initial value, and the weight of the
threshold of ``k`` presentations ago falls off polynomially, so that ``m`` averages roughly the
last ``phi * n`` presentations: a window that grows with training (300 presentations after 3,000,
5,000 after 50,000 at ``phi = 0.1``). ``phi = 0`` is ``a_n = 1``: the last threshold, Diehl &
Cook's frozen thresholds (the model then reduces to its base, :meth:`RecallStdp.reduces_to`);
``phi = 1`` is the plain mean over all of training. A retried presentation (Diehl & Cook's retry
at a higher rate) counts as a presentation.

**Why** (the measurement that led to it, ``docs/results.md``, "The last 10,000 training images"):
the accuracy that a network in file order loses when it learns training images 50,000-59,999
last (runs of alike digits) is carried by its thresholds, not by its weights. On the partition of
``experiments/block_effect.py`` (learn training images 10,000-59,999 in file order, score
0-9,999; the test set never loaded; 100 neurons, seeds 0 and 1), putting back the thresholds of
before the block with the weights of after it recovers the loss (``lateral-fast``: 0.786 ->
0.835 and 0.793 -> 0.850, against 0.860 and 0.857 before the block), while the weights of before
with the thresholds of after lose more than both (0.747, 0.718). A threshold rises by
``theta_plus`` with every spike of its neuron and decays over ``tau_theta`` = 10^4 s (about
20,000 presentations), so the last few thousand images set which neurons are least excitable at
test time: the winners of the latest run of alike digits. Averaging the thresholds keeps what
homeostasis does over learning (a neuron that wins often stays less excitable) and drops what
the latest run did. The window grows with training because the thresholds rise from
``theta_init`` throughout the first pass: an average over a fixed number of presentations
(an exponential one, time constant 1,000-10,000 presentations, tried on the validation split)
lags the rise early in training and cost 3-14 points after 3,000 images, while it gained 1-2
points after 50,000.

Sources: a consolidated slow variable that recall reads, separate from the labile state that
learning drives (Benna & Fusi 2016, Nat. Neurosci. 19:1697; synaptic tagging and capture, Frey
& Morris 1997), applied to intrinsic excitability, whose plasticity is a memory trace of its own
(Zhang & Linden 2003, Nat. Rev. Neurosci. 4:885); the average of the trajectory of learned
parameters used for evaluation is Polyak-Ruppert averaging (Polyak & Juditsky 1992), its
polynomial-decay form Shamir & Zhang (2013, ICML), here of the thresholds alone.
``metaplastic``'s ``recall_at_commit`` is the per-neuron snapshot counterpart
(:mod:`spikedyn.models.metaplastic`).

State (``Traces.significance``, float64, (2, N)): row 0 ``m``, row 1 ``n`` (the same for every
neuron; kept per neuron so that a block of neurons trained on its own thread has its own copy).
Both start at 0. Cost: per neuron and presentation, the average's update and the count's,
counted as threshold updates (``operation_profile``: ``neuron_state_updates``), and 2 N entries of
rule state.

Brian2 twin: the rule's step after each presentation runs from Python on the twin's thresholds
(:func:`after_presentation_numpy`, in volts), and the twin answers with :func:`recall_thresholds`
when learning is off, exactly as the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ..core.parts import implements
from ..core.traces import after_presentation, synapse_significance
from .stdp import DiehlCookStdp, with_diehl_cook_pathways


@dataclass(frozen=True)
class RecallParams:
    """Recall at the slow threshold (section ``recall``; the module docstring has the equation).

    ``window_fraction``: roughly the fraction of the presentations so far (the most recent ones)
    whose thresholds a neuron answers with, averaged, when learning is off; 0 answers with the last
    threshold (Diehl & Cook), 1 with the mean over all of training. Chosen on the validation split
    (``docs/results.md``, "Recall at the slow threshold").
    """

    window_fraction: float = 0.1

    FRACTIONS = ("window_fraction",)


@with_diehl_cook_pathways  # learning is Diehl & Cook's: the same kernels, registered for this record's type
class RecallRecord(NamedTuple):
    """Kernel record of :class:`RecallStdp`: Diehl & Cook's STDP and the average's window."""

    nu_pre: float
    nu_post: float
    w_max: float
    window_fraction: float


@implements(synapse_significance, RecallRecord)
def _recall_state(rec, n_input, n_neurons):
    return np.empty((2, n_neurons), np.float64)


@implements(after_presentation, RecallRecord)
def _recall_after_presentation(rec, w, theta, counts, activity, rate, significance, updates, sync):
    for j in range(w.shape[1]):
        n = significance[1, j] + 1.0
        a = 1.0 / (1.0 + rec.window_fraction * (n - 1.0))
        significance[0, j] = (1.0 - a) * significance[0, j] + a * theta[j]
        significance[1, j] = n


def after_presentation_numpy(config, theta: np.ndarray, average: np.ndarray, count: np.ndarray) -> None:
    """The rule's step after a training presentation with NumPy, in place (the Brian2 twin's): the
    average ``m`` and the count ``n`` as the kernel updates them, element by element, in ``theta``'s
    unit."""
    n = count + 1.0
    a = 1.0 / (1.0 + config.recall.window_fraction * (n - 1.0))
    average[:] = (1.0 - a) * average + a * theta
    count[:] = n


def recall_thresholds(theta: np.ndarray, average: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The thresholds a network answers with when learning is off: the average ``m`` where the count
    ``n > 0`` (after a training presentation), ``theta`` before any (a new array either way)."""
    return np.where(count > 0.0, average, theta)


class RecallStdp(DiehlCookStdp):
    """Part: Diehl & Cook's STDP, and recall at the slow threshold (``stdp-recall``); ``config.stdp``,
    ``config.recall``."""

    name = "stdp-recall"
    sections = {"recall": RecallParams}

    def footprint_entries(self, config) -> dict[str, int]:
        """Diehl & Cook's entries and, per neuron, the running average and the count of presentations."""
        return {**super().footprint_entries(config), "rule_state": 2 * config.n_neurons}

    def operation_profile(self, config) -> dict[str, Any]:
        """Diehl & Cook's work, and the average: two multiply-adds per neuron after each training
        presentation, counted with the threshold updates."""
        return {**super().operation_profile(config), "neuron_state_updates": 2}

    def reduces_to(self, config) -> str:
        """``stdp`` when ``window_fraction`` is 0: the network answers with its last thresholds (the
        average and the count are still kept: the kernel does that work, and it is priced)."""
        return self.name if config.recall.window_fraction > 0 else DiehlCookStdp.name

    def record(self, config) -> RecallRecord:
        s = config.stdp
        return RecallRecord(nu_pre=float(s.nu_pre), nu_post=float(s.nu_post), w_max=float(s.w_max),
                            window_fraction=float(config.recall.window_fraction))

    def test_thresholds(self, config, theta: np.ndarray, traces) -> np.ndarray:
        """The thresholds of inference (:func:`recall_thresholds`) from the network's rule state."""
        return recall_thresholds(theta, traces.significance[0], traces.significance[1])

    # -- Brian2 twin ---------------------------------------------------------------------------
    def brian2_rule_state(self, config) -> dict[str, np.ndarray]:
        """The per-neuron state the twin carries: the average (volts) and the count."""
        n = config.n_neurons
        return {"average": np.zeros(n), "count": np.zeros(n)}

    def brian2_after_presentation(self, config, w, theta_v, counts, rule_state) -> None:
        """After each training presentation (``theta_v`` in volts)."""
        after_presentation_numpy(config, theta_v, rule_state["average"], rule_state["count"])

    def brian2_test_thresholds(self, config, theta_v, rule_state) -> np.ndarray:
        """The twin's thresholds of inference (volts), as :meth:`test_thresholds`."""
        return recall_thresholds(theta_v, rule_state["average"], rule_state["count"])
