"""What the compiler makes of the per-step kernels: properties the speed depends on.

These are not timings. Two properties of the generated LLVM IR decide most of the
speed of a training or inference step, and each was once lost to an innocent-looking
refactor:

- the neuron update and the synaptic delivery are vectorised (LLVM vector types in
  the IR); passing arrays to an inlined helper inside the loop once made the neuron
  update scalar, three times slower;
- the kernels called once per step or per spike keep no atomic reference count on
  their array arguments (no ``NRT_incref``); a branch around a loop or a ``while``
  loop defeats Numba's reference-count pruning and costs two atomic operations per
  array per call.

Each kernel is compiled afresh from its Python source (cached kernels cannot be
inspected) with arguments of the types the network passes.
"""

from __future__ import annotations

import re

import numba
import numpy as np
import pytest

from helpers import one_model_per_composition
from spikedyn.config import NetworkConfig, StdpParams
from spikedyn.core import neurons, traces
from spikedyn.models import asp, competition, delays, metaplastic, no_depression, stdp, threshold
from spikedyn.models import spikedyn as spikedyn_rule
from spikedyn.simulation import loop, state

N, N_INPUT = 40, 30
STDP = StdpParams(weight_sum=0.1 * N_INPUT)  # reachable by N_INPUT weights of at most w_max = 1
KP = state.kernel_params(NetworkConfig(model="diehl-cook", n_neurons=N, n_input=N_INPUT, stdp=STDP))
KP_LATERAL = state.kernel_params(NetworkConfig(model="lateral", n_neurons=N, n_input=N_INPUT, stdp=STDP))
KP_NO_DEPRESSION = state.kernel_params(NetworkConfig(model="lateral-no-depression", n_neurons=N, n_input=N_INPUT, stdp=STDP))
KP_DELAYS = state.kernel_params(NetworkConfig(model="lateral-delays", n_neurons=N, n_input=N_INPUT, stdp=STDP))
KP_SPIKEDYN = state.kernel_params(NetworkConfig(model="spikedyn", n_neurons=N, n_input=N_INPUT, stdp=STDP))
KP_ASP = state.kernel_params(NetworkConfig(model="asp", n_neurons=N, n_input=N_INPUT, stdp=STDP))
KP_METAPLASTIC = state.kernel_params(NetworkConfig(model="metaplastic", n_neurons=N, n_input=N_INPUT, stdp=STDP)
                                     .replace(metaplastic__fatigue=True, metaplastic__novelty=True))


def _f(n=N):
    return np.zeros(n)


def _i64(n=N):
    return np.zeros(n, np.int64)


def _i32(n=N):
    return np.zeros(n, np.int32)


def _b(n=N):
    return np.zeros(n, np.bool_)


def _w():
    return np.zeros((N_INPUT, N))


def _population():
    return (_f(), _f(), _f(), _i64(), _i32(), _b(), _i64(1), _i32())


def _traces(per_synapse=False, significance=False):
    table = traces.decay_table(20.0, 0.5)
    last_arrival = np.zeros((N_INPUT, N) if per_synapse else (0, 0), np.int64)
    sig = np.zeros((N_INPUT, N) if significance else (0, 0))
    return (_i64(N_INPUT), _i64(), _i32(), _b(), _i64(1), _f(N_INPUT), _f(), table, table, table, last_arrival,
            _f(), _f(), sig, _i64(len(traces.UPDATE_KINDS)), _i32(N_INPUT))


def _pre_args(kp, per_synapse=False, significance=False):
    """on_pre(rec, t, learn, w, ge, pixels, lo, hi, step_ptr, input_t0, row_over, <Traces>)"""
    step_ptr = np.zeros(5, np.int64)
    return (kp.plasticity, 5, True, _w(), _f(), _i32(N_INPUT), 0, 3, step_ptr, _i64(1), _b(N_INPUT),
            *_traces(per_synapse, significance))


# kernel -> arguments of the types the network passes
KERNELS = {
    "_lif_integrate_gated": (neurons._lif_integrate_gated, lambda: (KP.exc, 1e-5, _f(), _f(), _f(), _f(), _i64(), 5)),
    "_lif_integrate_quiet": (neurons._lif_integrate_quiet, lambda: (KP.exc, 1e-5, _f(), _f(), _f(), _f())),
    "_lif_integrate_frozen": (neurons._lif_integrate_frozen, lambda: (KP.exc, _f(), _f(), _f(), _f(), _i64(), 5)),
    "_lif_integrate_frozen_quiet": (neurons._lif_integrate_frozen_quiet, lambda: (KP.exc, _f(), _f(), _f(), _f())),
    "_newest_spike": (neurons._newest_spike, lambda: (_i64(),)),
    "_lif_spikes": (neurons._lif_spikes, lambda: (KP.exc, _f(), _f(), _i64(), 5, _i32())),
    "_lif_step_active": (neurons._lif_step_active,
                         lambda: (KP.competition.lif, _f(), _f(), _f(), _i64(), 5, _i32(), 0, _b(), _i32())),
    "_reset": (neurons._reset, lambda: (KP.exc, _f(), _i64(), 5, _i32(), 0)),
    "_deliver_events": (stdp._deliver_events, lambda: (_f(), _w(), _i32(N_INPUT), 0, 5)),
    "_inhibit_others": (competition._inhibit_others, lambda: (_f(), _i32(), 0, 2, 1.0)),
    "_excite_partners": (competition._excite_partners, lambda: (_f(), _i32(), 0, 1.0, _i32(), _b(), _i64(1))),
    "_recent_traces_now": (traces._recent_traces_now,
                           lambda: (traces.decay_table(20.0, 0.5), _i64(), 5, _i32(), _b(), _i64(1), _f())),
    "_mark": (traces._mark, lambda: (_i64(N_INPUT), _i32(N_INPUT), 0, 3, 5)),
    "_depress_inputs": (stdp._depress_inputs,
                        lambda: (_w(), _i32(N_INPUT), 0, 5, _f(), _i32(), 0, _b(N_INPUT), 1e-4, 1.0)),
    "_potentiate_column": (stdp._potentiate_column, lambda: (_w(), 0, _f(N_INPUT), 0.01, 0.5, 1.0)),
    "_potentiate_rows": (stdp._potentiate_rows,
                         lambda: (_w(), 0, _f(N_INPUT), _i32(N_INPUT), 3, 0.01, 0.5, 1.0, _b(N_INPUT))),
    "_active_traces_now": (traces._active_traces_now, lambda: (traces.decay_table(20.0, 0.5), _i64(N_INPUT), 5,
                                                               _f(N_INPUT), _b(N_INPUT), _i32(N_INPUT))),
    "_traces_now": (traces._traces_now, lambda: (traces.decay_table(20.0, 0.5), _i64(N_INPUT), 5, _f(N_INPUT))),
    "_raise_thresholds": (threshold._raise_thresholds, lambda: (_f(), _i32(), 0, 0.05)),
    # the parts' implementations of the per-step hooks (spikedyn.core.parts)
    "_homeostatic_integrate": (threshold._homeostatic_integrate,
                               lambda: (KP.threshold, KP.exc, _f(), _f(), _f(), _f(), _i64(), 5, True)),
    "_homeostatic_on_spikes": (threshold._homeostatic_on_spikes, lambda: (KP.threshold, _f(), _i32(), 0)),
    "_compete_inhibitory_layer": (competition._compete_inhibitory_layer,
                                  lambda: (KP.competition, 5, _i32(), 0, *_population())),
    "_compete_direct_lateral": (competition._compete_direct_lateral,
                                lambda: (KP_LATERAL.competition, 5, _i32(), 0, *_population())),
    "_inhibit_inhibitory_layer": (competition._inhibit_inhibitory_layer,
                                  lambda: (KP.competition, 5, _f(), _i32(), 0, 0, 1, *_population())),
    "_inhibit_direct_lateral": (competition._inhibit_direct_lateral,
                                lambda: (KP_LATERAL.competition, 5, _f(), _i32(), 0, 0, 1, *_population())),
    "_stdp_on_pre": (stdp._stdp_on_pre, lambda: _pre_args(KP)),
    "_stdp_transmit": (stdp._stdp_transmit,
                       lambda: (KP.plasticity, 5, _w(), _f(), _i32(N_INPUT), 0, 3, np.zeros(5, np.int64), _i64(1))),
    "_delayed_transmit": (delays._delayed_transmit,
                          lambda: (KP_DELAYS.plasticity, 5, _w(), _f(), _i32(N_INPUT), 0, 3, np.zeros(5, np.int64),
                                   _i64(1))),
    "_stdp_on_post": (stdp._stdp_on_post, lambda: (KP.plasticity, 5, _w(), _i32(), 0, _b(N_INPUT), *_traces())),
    "no_depression._on_pre": (no_depression._on_pre, lambda: _pre_args(KP_NO_DEPRESSION)),
    "_stdp_on_post[potentiation-only]": (stdp._stdp_on_post,
                                         lambda: (KP_NO_DEPRESSION.plasticity, 5, _w(), _i32(), 0, _b(N_INPUT), *_traces())),
    "_delayed_on_pre": (delays._delayed_on_pre, lambda: _pre_args(KP_DELAYS, per_synapse=True)),
    "_delayed_on_post": (delays._delayed_on_post,
                         lambda: (KP_DELAYS.plasticity, 5, _w(), _i32(), 0, _b(N_INPUT), *_traces(per_synapse=True))),
    "_spikedyn_on_pre": (spikedyn_rule._spikedyn_on_pre, lambda: _pre_args(KP_SPIKEDYN)),
    "_spikedyn_on_post": (spikedyn_rule._spikedyn_on_post,
                          lambda: (KP_SPIKEDYN.plasticity, 5, _w(), _i32(), 0, _b(N_INPUT), *_traces())),
    "_metaplastic_on_pre": (metaplastic._metaplastic_on_pre, lambda: _pre_args(KP_METAPLASTIC, significance=True)),
    "_metaplastic_on_post": (metaplastic._metaplastic_on_post,
                             lambda: (KP_METAPLASTIC.plasticity, 5, _w(), _i32(), 0, _b(N_INPUT), *_traces())),
    "_asp_on_post": (asp._asp_on_post,
                     lambda: (KP_ASP.plasticity, 5, _w(), _i32(), 0, _b(N_INPUT), *_traces(significance=True))),
}

VECTORISED = ["_lif_integrate_gated", "_lif_integrate_quiet", "_lif_integrate_frozen", "_lif_integrate_frozen_quiet",
              "_deliver_events", "_homeostatic_integrate", "_stdp_transmit"]


def _own_ir(name: str) -> str:
    """LLVM IR of the kernel's own function, freshly compiled."""
    kernel, make_args = KERNELS[name]
    py_func = getattr(kernel, "py_func", kernel)
    name = py_func.__name__
    fresh = numba.njit(py_func)
    fresh(*make_args())
    ir = fresh.inspect_llvm(fresh.signatures[0])
    # Keep the definition of the kernel itself (callees are linked into the module).
    definitions = ir.split("\ndefine ")[1:]
    # the native function (not its CPython wrapper), mangled as _ZN8spikedyn<module>14_lif_integrateB...
    own = [d for d in definitions if "@_ZN8spikedyn" in d.split("\n", 1)[0]
           and f"{len(name)}{name}B" in d.split("\n", 1)[0]]
    assert len(own) == 1, f"no single definition of {name} in its IR"
    return own[0].split("\n}\n", 1)[0]


#: Hook implementations that choose between two plain loops (a quiet step or not,
#: :func:`spikedyn.core.neurons._lif_integrate`): compiled on their own, a branch around loops keeps
#: the arrays' reference counts; inlined into the time loop it does not, which
#: test_time_loop_keeps_no_reference_counts_inside_its_loops checks. Their loops are checked here.
DISPATCHERS = {"_homeostatic_integrate"}


@pytest.mark.parametrize("name", sorted(set(KERNELS) - DISPATCHERS))
def test_per_step_kernels_keep_no_reference_counts(name: str) -> None:
    assert "NRT_incref" not in _own_ir(name)


@pytest.mark.parametrize("name", VECTORISED)
def test_neuron_update_and_delivery_are_vectorised(name: str) -> None:
    ir = _own_ir(name)
    assert "x double>" in ir, f"{name} compiled to scalar code"


def _blocks_in_loops(function_ir: str) -> dict[str, str]:
    """The basic blocks of one LLVM function that lie on a cycle of its control-flow graph."""
    blocks: dict[str, str] = {}
    label = "entry"
    for line in function_ir.split("\n")[1:]:
        stripped = line.strip()
        if stripped.endswith(":") and not line.startswith(" "):
            label = stripped[:-1]
            continue
        if stripped.split(":", 1)[0] != stripped and not line.startswith(" ") and stripped:
            label = stripped.split(":", 1)[0]  # "label:  ; preds = ..."
            continue
        blocks[label] = blocks.get(label, "") + line + "\n"
    successors = {b: set(re.findall(r"label %([\w.\-]+)", text)) for b, text in blocks.items()}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), list(successors.get(start, ()))
        while todo:
            b = todo.pop()
            if b == goal:
                return True
            if b not in seen:
                seen.add(b)
                todo.extend(successors.get(b, ()))
        return False

    return {b: text for b, text in blocks.items() if reaches(b, b)}


#: Every composition of parts with the counters on and as one block of a threaded network (the parts'
#: counting and barrier code compiled in; a model with another's parts and other defaults, such as
#: `lateral-fast`, compiles the same loop); the loop's other two variants (counters off, one thread) for
#: the default continual model only (turning the counters or the barrier off removes code, the parts'
#: included; the loop's own branches for them are the same for every composition). Each case is a fresh,
#: uncached compile of the time loop.
LOOP_CASES = sorted({(m, True, True) for m in one_model_per_composition()}
                    | {("metaplastic", c, t) for c, t in ((False, False), (True, False))})


@pytest.mark.parametrize("model, counting, threaded", LOOP_CASES)
def test_time_loop_keeps_no_reference_counts_inside_its_loops(model: str, counting: bool, threaded: bool) -> None:
    """The model's parts, inlined through their hooks, add no atomic reference counting per step,
    with the operation counters off (None) or on, on one thread (``sync`` None) or as one block of a
    network on several (here a barrier of one thread, :mod:`spikedyn.core.barrier`)."""
    from spikedyn.core.barrier import Sync, new_words
    from spikedyn.simulation.state import _new_buffers, _new_state

    kp = state.kernel_params(NetworkConfig(model=model, n_neurons=N, n_input=N_INPUT, stdp=STDP))
    st, buf = _new_state(kp, N_INPUT, N), _new_buffers(kp, N_INPUT, N)
    buf.step_ptr[:] = 0  # no input spikes
    fresh = numba.njit(loop._run_steps.py_func)
    words = new_words()
    sync = Sync(int(words.ctypes.data), 1, 0, np.zeros(1, np.int64), np.zeros((1, N_INPUT), np.bool_),
                np.zeros(1, np.int64)) if threaded else None
    fresh(kp, st, buf, _w(), _f(), 10, True, True, _i32(), state._recorder(0, 0, 0, N), _i64(8) if counting else None,
          sync)
    assert sync is None or sync.round[0] == 10  # one meeting per step
    ir = fresh.inspect_llvm(fresh.signatures[0])
    own = [d for d in ir.split("\ndefine ")[1:] if "10_run_stepsB" in d.split("\n", 1)[0]
           and "cpython" not in d.split("\n", 1)[0] and "@cfunc" not in d.split("\n", 1)[0]]
    assert len(own) == 1
    loops = _blocks_in_loops(own[0].split("\n}\n", 1)[0])
    assert loops, "found no loop in _run_steps"
    counted = [b for b, text in loops.items() if "NRT_incref" in text or "NRT_decref" in text]
    assert not counted, f"reference counting inside the loops of _run_steps ({model}), blocks {counted[:5]}"
