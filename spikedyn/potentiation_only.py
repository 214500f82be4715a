"""STDP without depression: potentiation only (an example of a new plasticity part)."""

from typing import NamedTuple

import numpy as np

from .parts import implements
from .plasticity import (DiehlCookStdp, _deliver_events, _mark, _potentiate_spikes, _traces_now, on_post, on_pre,
                         synapse_history, transmit, without_adaptation)


@without_adaptation
class PotentiationOnlyRecord(NamedTuple):        # its own type: Numba dispatches on it
    nu_post: float
    w_max: float


@implements(on_pre, PotentiationOnlyRecord)
def _on_pre(rec, t, learn, w, ge, pixels, lo, hi, step_ptr, input_t0, row_over, last_pre, last_post, recent,
            is_recent, n_recent, pre_now, post1_now, pre_table, post1_table, post2_table, last_arrival, activity, rate,
            significance, updates):
    _deliver_events(ge, w, pixels, lo, hi)       # transmit the step's input spikes
    _mark(last_pre, pixels, lo, hi if learn else lo, t)  # remember them when learning; no depression


@implements(transmit, PotentiationOnlyRecord)
def _transmit(rec, t, w, ge, pixels, lo, hi, step_ptr, input_t0):
    _deliver_events(ge, w, pixels, lo, hi)       # learning off: transmission only


@implements(synapse_history, PotentiationOnlyRecord)
def _synapse_history(rec, n_input, n_neurons):
    return np.empty((0, 0), np.int64)            # no per-synapse history


@implements(on_post, PotentiationOnlyRecord)
def _on_post(rec, t, w, spikes, n_spikes, last_pre, last_post, recent, is_recent, n_recent,
             pre_now, post1_now, pre_table, post1_table, post2_table, last_arrival, activity, rate, significance,
             updates):
    _traces_now(pre_table, last_pre, t, pre_now)
    _potentiate_spikes(w, spikes, n_spikes, pre_now, post2_table, last_post, t, rec.nu_post, rec.w_max,
                       recent, is_recent, n_recent)
    updates[0] += n_spikes * w.shape[0]


class PotentiationOnly(DiehlCookStdp):          # the part: config -> record, and its Brian2 twin
    name = "stdp-potentiation-only"
    BRIAN2_ON_PRE = "ge_post += w\npre = 1."

    def record(self, config):
        return PotentiationOnlyRecord(nu_post=config.stdp.nu_post, w_max=config.stdp.w_max)
