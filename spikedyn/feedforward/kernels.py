"""The layered spiking network's time loop, in Numba: one kernel for every layered SNN.

One kernel serves the converted networks (integrate-and-fire, reset by subtraction) and
the surrogate-gradient networks (leaky integrate-and-fire, reset by subtraction, a
non-spiking integrator as output). Per layer ``l`` (``1 .. L``) and step ``t``::

    v_l[t] = beta_l * v_l[t-1] + I_l[t] + b_l
    s_l[t] = v_l[t] >= threshold          (only if layer l spikes)
    v_l[t] = v_l[t] - threshold * s_l[t]  (reset by subtraction)
    I_{l+1}[t] = W_{l+1}^T s_l[t]         (delivered in the same step: no synaptic delay)

``I_1[t]`` is the input: with constant-current input the current ``W_1^T x`` is computed once
per sample (``n_in * n_1`` multiply-accumulates) and injected every step; with Poisson
input, pixel ``i`` spikes at step ``t`` with probability ``x_i * rate`` (a counter-based
generator: the draw depends only on ``(seed, sample, step, input)``, so results do not
depend on threads or batch order) and each input spike adds its weight row.

The kernel takes only arrays and scalars and checks nothing; :func:`spikedyn.feedforward.simulate`
validates and shapes. It fills its output arrays in place and returns nothing.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from ..cost.operations import LAYERED_COUNTERS

#: Operation counters, per sample, in the order of the kernel's ``ops`` columns (named, with the
#: formulas that turn them into priced operations, in :mod:`spikedyn.cost.operations`).
COUNTERS = LAYERED_COUNTERS
(C_STEPS, C_INPUT_SPIKES, C_SPIKES, C_SYNAPTIC_EVENTS, C_NEURON_UPDATES, C_INPUT_MACS) = range(len(COUNTERS))

_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@numba.njit(cache=True, inline="always")
def _hash_uniform(seed, sample, step, unit):
    """A uniform number in [0, 1) from ``(seed, sample, step, unit)`` (SplitMix64 finaliser, chained)."""
    z = np.uint64(seed) * _GOLDEN
    for word in (np.uint64(sample), np.uint64(step), np.uint64(unit)):
        z = (z ^ word) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True, parallel=True)
def _simulate(x, poisson, rate, seed, sample_offset, weights, biases, betas, spiking, threshold, v_init,
              record_at, out_count, out_v, layer_spikes, ops):
    """Simulate every sample of ``x`` for ``record_at[-1]`` steps.

    Parameters
    ----------
    x : float64 array, shape (n_samples, n_in)
        Input values: constant currents, or spike probabilities per step over ``rate``.
    poisson : bool
        Poisson (Bernoulli per step) input instead of constant current.
    rate : float
        Spike probability per step of an input of value 1 (Poisson input only).
    seed, sample_offset : int
        The generator's seed, and the index of ``x[0]`` in the data set (draws are keyed on it).
    weights : typed list of float64 arrays, shapes (n_{l-1}, n_l)
    biases : typed list of float64 arrays, shapes (n_l,)
        Added to the membrane every step (a constant current).
    betas : float64 array, shape (L,)
        Membrane decay per step (1 for integrate-and-fire).
    spiking : bool array, shape (L,)
        Whether layer l spikes; a non-spiking layer integrates (its membrane is its output).
    threshold, v_init : float
        Firing threshold, and every membrane's value at step 0.
    record_at : int64 array, shape (R,)
        Increasing step counts at which the output is recorded; the last is the run's length.
    out_count : int64 array, shape (n_samples, R, n_out), written
        Output spikes after ``record_at[r]`` steps.
    out_v : float64 array, shape (n_samples, R, n_out), written
        Output membrane after ``record_at[r]`` steps.
    layer_spikes : int64 array, shape (n_samples, L + 1), written
        Spikes of the input (Poisson) and of each layer over the run.
    ops : int64 array, shape (n_samples, R, len(COUNTERS)), written
        The operation counters of each sample (:data:`COUNTERS`) after ``record_at[r]`` steps.
    """
    n_samples, n_in = x.shape
    n_layers = len(weights)
    n_steps = record_at[-1]
    sizes = np.empty(n_layers + 1, np.int64)
    sizes[0] = n_in
    for l in range(n_layers):
        sizes[l + 1] = weights[l].shape[1]
    offsets = np.zeros(n_layers + 1, np.int64)
    for l in range(n_layers):
        offsets[l + 1] = offsets[l] + sizes[l + 1]
    total = offsets[n_layers]
    widest = sizes.max()
    n_out = sizes[n_layers]
    for s in prange(n_samples):
        v = np.full(total, v_init)
        current = np.zeros(widest)
        nxt = np.zeros(widest)
        fired = np.empty(widest, np.int64)
        constant = np.zeros(sizes[1])
        counts = np.zeros(n_out, np.int64)
        n_input_spikes = 0
        n_spikes = 0
        n_events = 0
        w0 = weights[0]
        if not poisson:
            for i in range(n_in):
                xi = x[s, i]
                for j in range(sizes[1]):
                    constant[j] += xi * w0[i, j]
        r = 0
        for t in range(n_steps):
            # the first layer's input current of this step
            if poisson:
                current[:sizes[1]] = 0.0
                for i in range(n_in):
                    p = x[s, i] * rate
                    if p > 0.0 and _hash_uniform(seed, sample_offset + s, t, i) < p:
                        n_input_spikes += 1
                        for j in range(sizes[1]):
                            current[j] += w0[i, j]
            else:
                current[:sizes[1]] = constant
            for l in range(n_layers):
                n = sizes[l + 1]
                off = offsets[l]
                beta = betas[l]
                b = biases[l]
                k = 0
                for j in range(n):
                    vj = beta * v[off + j] + current[j] + b[j]
                    if spiking[l] and vj >= threshold:
                        vj -= threshold
                        fired[k] = j
                        k += 1
                    v[off + j] = vj
                layer_spikes[s, l + 1] += k
                n_spikes += k
                if l == n_layers - 1:
                    for q in range(k):
                        counts[fired[q]] += 1
                else:
                    w = weights[l + 1]
                    m = sizes[l + 2]
                    nxt[:m] = 0.0
                    for q in range(k):
                        j = fired[q]
                        for o in range(m):
                            nxt[o] += w[j, o]
                    n_events += k * m
                    current[:m] = nxt[:m]
            if r < record_at.shape[0] and t + 1 == record_at[r]:
                out_count[s, r, :] = counts
                out_v[s, r, :] = v[offsets[n_layers - 1]:total]
                ops[s, r, C_STEPS] = t + 1
                ops[s, r, C_INPUT_SPIKES] = n_input_spikes
                ops[s, r, C_SPIKES] = n_spikes
                ops[s, r, C_SYNAPTIC_EVENTS] = n_events + n_input_spikes * sizes[1]
                ops[s, r, C_NEURON_UPDATES] = (t + 1) * total
                ops[s, r, C_INPUT_MACS] = 0 if poisson else n_in * sizes[1]
                r += 1
        layer_spikes[s, 0] = n_input_spikes
