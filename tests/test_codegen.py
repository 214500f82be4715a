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

import numba
import numpy as np
import pytest

from spikedyn import network, neurons, plasticity
from spikedyn.config import NetworkConfig

N, N_INPUT = 40, 30
KP = network.kernel_params(NetworkConfig(model="diehl-cook", n_neurons=N, n_input=N_INPUT))


def _f(n=N):
    return np.zeros(n)


def _i64(n=N):
    return np.zeros(n, np.int64)


def _i32(n=N):
    return np.zeros(n, np.int32)


def _w():
    return np.zeros((N_INPUT, N))


# kernel -> arguments of the types the network passes
KERNELS = {
    "_lif_integrate": (neurons._lif_integrate, lambda: (KP.exc, _f(), _f(), _f(), _f(), _i64(), 5)),
    "_lif_integrate_frozen": (neurons._lif_integrate_frozen, lambda: (KP.exc, _f(), _f(), _f(), _f(), _i64(), 5)),
    "_lif_spikes": (neurons._lif_spikes, lambda: (KP.exc, _f(), _f(), _i64(), 5, _i32())),
    "_lif_step_active": (neurons._lif_step_active,
                         lambda: (KP.inh, _f(), _f(), _f(), _i64(), 5, _i32(), 0, np.zeros(N, np.bool_), _i32())),
    "_reset": (neurons._reset, lambda: (KP.exc, _f(), _f(), _i64(), 5, True, _i32(), 0)),
    "_deliver_events": (network._deliver_events, lambda: (_f(), _w(), _i32(N_INPUT), 0, 5)),
    "_inhibit_others": (network._inhibit_others, lambda: (_f(), _i32(), 0, 1.0)),
    "_recent_traces_now": (network._recent_traces_now,
                           lambda: (KP.post1_table, _i64(), 5, _i32(), np.zeros(N, np.bool_), _i64(1), _f())),
    "_depress_inputs": (plasticity._depress_inputs,
                        lambda: (_w(), _i32(N_INPUT), 0, 5, _f(), _i32(), 0, np.zeros(N_INPUT, np.bool_), 1e-4, 1.0)),
    "_potentiate_column": (plasticity._potentiate_column, lambda: (_w(), 0, _f(N_INPUT), 0.01, 0.5, 1.0)),
    "_traces_now": (plasticity._traces_now, lambda: (KP.pre_table, _i64(N_INPUT), 5, _f(N_INPUT))),
}

VECTORISED = ["_lif_integrate", "_lif_integrate_frozen", "_deliver_events"]


def _own_ir(name: str) -> str:
    """LLVM IR of the kernel's own function, freshly compiled."""
    kernel, make_args = KERNELS[name]
    fresh = numba.njit(kernel.py_func)
    fresh(*make_args())
    ir = fresh.inspect_llvm(fresh.signatures[0])
    # Keep the definition of the kernel itself (callees are linked into the module).
    definitions = ir.split("\ndefine ")[1:]
    # the native function (not its CPython wrapper), mangled as _ZN8spikedyn<module>14_lif_integrateB...
    own = [d for d in definitions if "@_ZN8spikedyn" in d.split("\n", 1)[0]
           and f"{len(name)}{name}B" in d.split("\n", 1)[0]]
    assert len(own) == 1, f"no single definition of {name} in its IR"
    return own[0].split("\n}\n", 1)[0]


@pytest.mark.parametrize("name", list(KERNELS))
def test_per_step_kernels_keep_no_reference_counts(name: str) -> None:
    assert "NRT_incref" not in _own_ir(name)


@pytest.mark.parametrize("name", VECTORISED)
def test_neuron_update_and_delivery_are_vectorised(name: str) -> None:
    ir = _own_ir(name)
    assert "x double>" in ir, f"{name} compiled to scalar code"
