"""STDP without depression: potentiation only (an example of a new plasticity part)."""

from typing import NamedTuple

from ..core.parts import implements
from ..core.traces import _mark, on_post, on_pre, synapse_history, transmit
from .stdp import (DiehlCookStdp, _deliver_events, _stdp_on_post, _stdp_synapse_history, _stdp_transmit,
                   without_adaptation)


@without_adaptation
class PotentiationOnlyRecord(NamedTuple):        # its own type: Numba dispatches on it
    nu_post: float
    w_max: float


@implements(on_pre, PotentiationOnlyRecord)
def _on_pre(rec, t, learn, w, ge, pixels, lo, hi, step_ptr, input_t0, row_over, last_pre, last_post, recent,
            is_recent, n_recent, pre_now, post1_now, pre_table, post1_table, post2_table, last_arrival, activity, rate,
            significance, updates, pre_active):
    _deliver_events(ge, w, pixels, lo, hi)       # transmit the step's input spikes
    _mark(last_pre, pixels, lo, hi if learn else lo, t)  # remember them when learning; no depression


# The rest is Diehl & Cook's: transmission alone during inference, potentiation on
# postsynaptic spikes (reads rec.nu_post and rec.w_max), no per-synapse history.
implements(transmit, PotentiationOnlyRecord)(_stdp_transmit)
implements(on_post, PotentiationOnlyRecord)(_stdp_on_post)
implements(synapse_history, PotentiationOnlyRecord)(_stdp_synapse_history)


class PotentiationOnly(DiehlCookStdp):          # the part: config -> record, and its Brian2 twin
    name = "stdp-potentiation-only"
    BRIAN2_ON_PRE = "ge_post += w\npre = 1."

    def operation_profile(self, config):
        return {**super().operation_profile(config), "depression": "none"}

    def record(self, config):
        return PotentiationOnlyRecord(nu_post=config.stdp.nu_post, w_max=config.stdp.w_max)
