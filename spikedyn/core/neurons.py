"""The neuron model: conductance-based leaky integrate-and-fire with adaptive threshold.

One step of ``dt`` follows Brian2's schedule (state update, then threshold) with the
forward-Euler scheme of the reference implementations; every variable is advanced
from its value at the start of the step::

    v'     = v + dt/tau_m * ((v_rest - v) + ge (e_exc - v) + gi (e_inh - v))   if not refractory
    v'     = min(max(v', e_inh), e_exc)
    ge'    = ge - dt/tau_ge * ge          (flushed to 0 below FLUSH_BELOW)
    gi'    = gi - dt/tau_gi * gi          (idem)
    theta' = theta - dt/tau_theta * theta                                     if adaptive

The membrane of a conductance-based neuron never leaves ``[e_inh, e_exc]``, but forward
Euler overshoots that interval when ``dt/tau_m * (1 + ge + gi) > 1`` and diverges when it
exceeds 2, which happens when many neurons inhibit at once (ten simultaneous lateral
spikes at weight 40 give ``gi = 400``): a runaway in which every neuron fires every step.
The update is therefore clipped to the interval. In the normal regime the clip changes
nothing.

A neuron is refractory for ``refractory_steps`` steps after a spike
(``t - last_spike < refractory_steps``, Brian2's ``timestep(t - lastspike, dt) <
timestep(refractory, dt)``). It fires in step ``t`` when ``v' > v_thresh + theta'``,
it is not refractory and ``t - last_spike >= lockout_steps``. Resetting the spiking
neurons (``v = v_reset``, ``theta += theta_plus``) is left to the caller, because in
Brian2's schedule synaptic propagation happens between threshold and reset.

Times are integer step indices. ``v`` in mV, conductances dimensionless.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from .numerics import FLUSH_BELOW

#: ``last_spike`` value of a neuron that has never fired: far enough in the past that
#: no refractory period, lock-out or trace reaches the present.
NEVER = np.int64(-(2**40))


class LifParams(NamedTuple):
    """Scalar parameters of one LIF population in kernel units (mV, steps, per-step rates).

    Built by :func:`spikedyn.network.kernel_params`; ``dt_over_*`` are ``dt/tau``.
    """

    v_rest: float
    v_reset: float
    v_thresh: float  # threshold without theta (for excitatory: v_thresh - theta_offset)
    e_exc: float
    e_inh: float
    dt_over_tau_m: float
    dt_over_tau_ge: float
    dt_over_tau_gi: float
    dt_over_tau_theta: float
    theta_plus: float
    refractory_steps: int
    lockout_steps: int


@numba.njit(cache=True, inline="always")
def _decayed(g, dt_over_tau):
    """One Euler step of ``dg/dt = -g/tau``, flushed to 0.0 below ``FLUSH_BELOW``."""
    g = g - dt_over_tau * g
    return g if g >= FLUSH_BELOW else 0.0


@numba.njit(cache=True, inline="always")
def _stepped(p, vj, gej, gij, not_refractory):
    """One Euler step of one neuron; returns the new ``(v, ge, gi)``. ``not_refractory`` is 1.0
    or 0.0 (v held).

    Written on values, not arrays: passing arrays to an inlined helper makes Numba
    keep reference counts inside the caller's loop, which stops LLVM from
    vectorising it (measured: 3.1 against 1.0 ns per neuron-step at N=400).
    """
    dv = p.dt_over_tau_m * ((p.v_rest - vj) + gej * (p.e_exc - vj) + gij * (p.e_inh - vj))
    # As Brian2 writes it, ``v + dv * int(not_refractory)``. The factor is a select,
    # not a bool-to-float conversion, and the store is unconditional: both keep the
    # loop in branch-free SIMD code (a conditional store compiles to a slow masked one).
    # A literal 1.0 folds away (``dv * 1.0`` is ``dv``, exactly).
    vj = min(max(vj + dv * not_refractory, p.e_inh), p.e_exc)
    return vj, _decayed(gej, p.dt_over_tau_ge), _decayed(gij, p.dt_over_tau_gi)


@numba.njit(cache=True, inline="always")
def _integrated(p, vj, gej, gij, since):
    """:func:`_stepped` for a neuron whose last spike was ``since`` steps ago."""
    return _stepped(p, vj, gej, gij, 1.0 if since >= p.refractory_steps else 0.0)


@numba.njit(cache=True)
def _newest_spike(last_spike):
    """The step of the population's latest spike (``NEVER`` if none): a population is *quiet*
    in step ``t`` when ``t - newest >= max(refractory_steps, lockout_steps)``, i.e. no neuron is
    refractory or locked out (see :func:`_lif_integrate`)."""
    newest = NEVER
    for j in range(last_spike.shape[0]):
        newest = max(newest, last_spike[j])
    return newest


@numba.njit(cache=True, inline="always")
def _quiet(p, t, newest):
    """Whether step ``t`` is quiet for a population whose latest spike was in step ``newest``
    (:func:`_newest_spike`): no neuron is refractory or locked out (see :func:`_lif_integrate`)."""
    return t - newest >= max(p.refractory_steps, p.lockout_steps)


# The kernels below are small on purpose, with plain ``for`` loops and no branch
# around a loop: for such functions Numba's reference-count pruning removes the
# atomic reference counting of the array arguments, which otherwise costs 2 atomic
# operations per array per call (here: per step).


@numba.njit(cache=True, inline="always")
def _lif_integrate(p, theta_rate, v, ge, gi, theta, last_spike, t, quiet):
    """The update of :func:`_lif_step` with theta decaying by ``theta_rate`` (``dt/tau_theta``)
    per step (learning); returns the number of spikes.

    ``quiet``: no neuron fired in the last ``max(refractory_steps, lockout_steps)`` steps (see
    :func:`_newest_spike`), so none is refractory or locked out and the loop need not read
    ``last_spike``: the same result, bit for bit, with less work (most steps are quiet: a
    400-neuron network fires about 13 times in 700 steps). Inlined into the time loop, which
    keeps no reference counts with the branch (tests/test_codegen.py checks the loop; each of
    the two kernels is a plain loop on its own).
    """
    if quiet:
        return _lif_integrate_quiet(p, theta_rate, v, ge, gi, theta)
    return _lif_integrate_gated(p, theta_rate, v, ge, gi, theta, last_spike, t)


@numba.njit(cache=True, inline="always")
def _lif_integrate_gated(p, theta_rate, v, ge, gi, theta, last_spike, t):
    """:func:`_lif_integrate` in any step: each neuron's refractory period and lock-out tested."""
    gate_steps = max(p.refractory_steps, p.lockout_steps)
    n_fired = 0
    # Branch-free SIMD code with plain stores (a conditional store would compile
    # to a slow masked one).
    for j in range(v.shape[0]):
        since = t - last_spike[j]
        vj, gej, gij = _integrated(p, v[j], ge[j], gi[j], since)
        v[j] = vj
        ge[j] = gej
        gi[j] = gij
        th = theta[j] - theta_rate * theta[j]
        theta[j] = th
        n_fired += (vj > p.v_thresh + th) & (since >= gate_steps)
    return n_fired


@numba.njit(cache=True, inline="always")
def _lif_integrate_quiet(p, theta_rate, v, ge, gi, theta):
    """:func:`_lif_integrate` in a quiet step (no neuron refractory or locked out)."""
    n_fired = 0
    for j in range(v.shape[0]):
        vj, gej, gij = _stepped(p, v[j], ge[j], gi[j], 1.0)
        v[j] = vj
        ge[j] = gej
        gi[j] = gij
        th = theta[j] - theta_rate * theta[j]
        theta[j] = th
        n_fired += vj > p.v_thresh + th
    return n_fired


@numba.njit(cache=True)
def _lif_integrate_frozen(p, v, ge, gi, theta, last_spike, t):
    """The update of :func:`_lif_step` with theta frozen (read only); returns the number of spikes."""
    gate_steps = max(p.refractory_steps, p.lockout_steps)
    n_fired = 0
    for j in range(v.shape[0]):
        since = t - last_spike[j]
        vj, gej, gij = _integrated(p, v[j], ge[j], gi[j], since)
        v[j] = vj
        ge[j] = gej
        gi[j] = gij
        n_fired += (vj > p.v_thresh + theta[j]) & (since >= gate_steps)
    return n_fired


@numba.njit(cache=True)
def _lif_integrate_frozen_quiet(p, v, ge, gi, theta):
    """:func:`_lif_integrate_frozen` in a quiet step (see :func:`_lif_integrate`)."""
    n_fired = 0
    for j in range(v.shape[0]):
        vj, gej, gij = _stepped(p, v[j], ge[j], gi[j], 1.0)
        v[j] = vj
        ge[j] = gej
        gi[j] = gij
        n_fired += vj > p.v_thresh + theta[j]
    return n_fired


@numba.njit(cache=True)
def _lif_spikes(p, v, theta, last_spike, t, spikes):
    """Write the indices of the neurons above threshold after an update, ascending; return their number."""
    gate_steps = max(p.refractory_steps, p.lockout_steps)
    k = 0
    for j in range(v.shape[0]):
        if v[j] > p.v_thresh + theta[j] and t - last_spike[j] >= gate_steps:
            spikes[k] = j
            k += 1
    return k


@numba.njit(cache=True)
def _lif_step(p, v, ge, gi, theta, last_spike, t, adapt_theta, spikes):
    """Advance a LIF population by one step; write the indices of spiking neurons.

    Parameters
    ----------
    p : LifParams
    v, ge, gi, theta : float64 arrays, shape (n,)
        Updated in place (a population without adaptive threshold passes zeros).
    last_spike : int64 array, shape (n,)
        Step of each neuron's last spike; read only.
    t : int
        Index of the current step.
    adapt_theta : bool
        Whether theta decays in this step (learning); frozen otherwise.
    spikes : int32 array, shape (n,)
        Receives the spiking neurons' indices, ascending.

    Returns
    -------
    int
        Number of spiking neurons.
    """
    quiet = _quiet(p, t, _newest_spike(last_spike))
    if adapt_theta:
        n_fired = _lif_integrate(p, p.dt_over_tau_theta, v, ge, gi, theta, last_spike, t, quiet)
    elif quiet:
        n_fired = _lif_integrate_frozen_quiet(p, v, ge, gi, theta)
    else:
        n_fired = _lif_integrate_frozen(p, v, ge, gi, theta, last_spike, t)
    return _lif_spikes(p, v, theta, last_spike, t, spikes) if n_fired > 0 else 0


@numba.njit(cache=True, inline="always")
def _lif_step_active(p, v, ge, gi, last_spike, t, active, n_active, is_active, spikes):
    """:func:`_lif_step` (no theta) for the neurons listed in ``active[:n_active]`` only.

    A neuron that is not refractory, has ``ge == gi == 0`` and whose ``v`` did not
    change in this step is at a fixed point of the update: it will not change until
    it receives input, so it is dropped from the list (``is_active[j] = False``).
    Skipping such neurons gives bit-for-bit the result of updating everyone. Callers
    add a neuron back (``is_active[j] = True`` and append it) when it gets input.

    Updates ``v, ge, gi, active, is_active`` in place and writes the spiking neurons
    to ``spikes`` (in list order). Returns ``(n_spikes, new n_active)``.
    """
    gate_steps = max(p.refractory_steps, p.lockout_steps)
    n_spikes = 0
    kept = 0
    for a in range(n_active):
        j = active[a]
        since = t - last_spike[j]
        vj = v[j]
        v_new, ge[j], gi[j] = _integrated(p, vj, ge[j], gi[j], since)
        v[j] = v_new
        if v_new > p.v_thresh and since >= gate_steps:
            spikes[n_spikes] = j
            n_spikes += 1
        elif since >= p.refractory_steps and v_new == vj and ge[j] == 0.0 and gi[j] == 0.0:
            is_active[j] = False
            continue
        active[kept] = j
        kept += 1
    return n_spikes, kept


@numba.njit(cache=True, inline="always")
def _reset(p, v, last_spike, t, spikes, n_spikes):
    """Reset the neurons that fired in step ``t`` (in place): ``v = v_reset``, ``last_spike = t``.

    The threshold's reaction to a spike belongs to the threshold rule
    (:mod:`spikedyn.models.threshold`)."""
    for k in range(n_spikes):
        j = spikes[k]
        v[j] = p.v_reset
        last_spike[j] = t


@numba.njit(cache=True, inline="always")
def _enlist(j, items, is_member, count):
    """Append neuron ``j`` to the list ``items[:count[0]]`` unless it is already a member (in place)."""
    if not is_member[j]:
        is_member[j] = True
        items[count[0]] = j
        count[0] += 1


def lif_params(
    *,
    dt_ms: float,
    tau_m_ms: float,
    v_rest_mv: float,
    v_reset_mv: float,
    v_thresh_mv: float,
    e_exc_mv: float,
    e_inh_mv: float,
    tau_ge_ms: float,
    tau_gi_ms: float = math.inf,
    refractory_ms: float = 0.0,
    lockout_ms: float = 0.0,
    tau_theta_ms: float = math.inf,
    theta_plus_mv: float = 0.0,
) -> LifParams:
    """Convert physical LIF parameters to a :class:`LifParams` for the kernels."""
    return LifParams(
        v_rest=float(v_rest_mv),
        v_reset=float(v_reset_mv),
        v_thresh=float(v_thresh_mv),
        e_exc=float(e_exc_mv),
        e_inh=float(e_inh_mv),
        dt_over_tau_m=dt_ms / tau_m_ms,
        dt_over_tau_ge=dt_ms / tau_ge_ms,
        dt_over_tau_gi=dt_ms / tau_gi_ms,
        dt_over_tau_theta=dt_ms / tau_theta_ms,
        theta_plus=float(theta_plus_mv),
        refractory_steps=int(round(refractory_ms / dt_ms)),
        lockout_steps=int(round(lockout_ms / dt_ms)),
    )


def lif_step(params: LifParams, v, ge, gi, theta, last_spike, t: int, *, adapt_theta: bool = True):
    """One LIF step on copies of the state; the public, validating form of the kernel.

    Parameters
    ----------
    params : LifParams
    v, ge, gi : float64 arrays, shape (n,)
    theta : float64 array, shape (n,) or (0,)
    last_spike : int64 array, shape (n,)
    t : int
        Current step.

    Returns
    -------
    spikes : int32 array
        Indices of the neurons that fired, ascending.
    state : tuple of arrays
        ``(v, ge, gi, theta)`` after the step (before any reset).
    """
    v, ge, gi, theta = (np.array(a, dtype=np.float64, copy=True) for a in (v, ge, gi, theta))
    last_spike = np.asarray(last_spike, dtype=np.int64)
    n = v.shape[0]
    for name, a in (("ge", ge), ("gi", gi), ("last_spike", last_spike)):
        if a.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},) like v, got {a.shape}")
    if theta.shape not in ((n,), (0,)):
        raise ValueError(f"theta must have shape ({n},) or (0,), got {theta.shape}")
    spikes = np.empty(n, np.int32)
    # No adaptive threshold: the kernel compares with v_thresh + 0.0, which is v_thresh.
    theta_or_zero = theta if theta.shape[0] else np.zeros(n)
    k = _lif_step(params, v, ge, gi, theta_or_zero, last_spike, np.int64(t), bool(adapt_theta and theta.shape[0]), spikes)
    return spikes[:k].copy(), (v, ge, gi, theta)
