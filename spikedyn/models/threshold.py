"""Adaptive thresholds of the excitatory neurons while learning.

A neuron fires when ``v > v_thresh - theta_offset + theta``; the threshold rule says
how ``theta`` evolves during learning (it is frozen during inference).

:class:`Homeostatic` (``homeostatic``, Diehl & Cook 2015)
    ``theta`` decays with ``tau_theta`` (``dtheta/dt = -theta / tau_theta``, one
    forward-Euler step per ``dt``) and rises by ``theta_plus`` at each spike of its
    neuron. Parameters: ``config.excitatory.tau_theta_ms`` and ``theta_plus_mv``.

Hooks::

    threshold_integrate(rec, p, v, ge, gi, theta, last_spike, t, quiet) -> number of neurons above threshold
    threshold_on_spikes(rec, theta, spikes, n_spikes)

``threshold_integrate`` advances the excitatory population ``p`` (a
:class:`~spikedyn.core.neurons.LifParams`) by one learning step, theta included, in one
vectorised pass; ``threshold_on_spikes`` is the threshold's part of the reset.
:class:`Homeostatic` reads the base section ``config.excitatory`` and declares none of its own.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numba

from ..core.neurons import _lif_integrate
from ..core.parts import implements, kernel_hook

threshold_integrate = kernel_hook(
    "threshold_integrate", "rec, p, v, ge, gi, theta, last_spike, t, quiet",
    "One learning step of the excitatory population, theta included; returns the number above threshold "
    "(``quiet``: no neuron is refractory or locked out in step ``t``).")
threshold_on_spikes = kernel_hook(
    "threshold_on_spikes", "rec, theta, spikes, n_spikes", "The threshold's reaction to the spikes of a step.")


@numba.njit(cache=True, inline="always")
def _raise_thresholds(theta, spikes, n_spikes, theta_plus):
    """``theta[j] += theta_plus`` for each spike of j (in place)."""
    for k in range(n_spikes):
        theta[spikes[k]] += theta_plus


class HomeostaticRecord(NamedTuple):
    """Kernel record of :class:`Homeostatic`."""

    dt_over_tau_theta: float
    theta_plus: float


@implements(threshold_integrate, HomeostaticRecord)
def _homeostatic_integrate(rec, p, v, ge, gi, theta, last_spike, t, quiet):
    return _lif_integrate(p, rec.dt_over_tau_theta, v, ge, gi, theta, last_spike, t, quiet)


@implements(threshold_on_spikes, HomeostaticRecord)
def _homeostatic_on_spikes(rec, theta, spikes, n_spikes):
    _raise_thresholds(theta, spikes, n_spikes, rec.theta_plus)


class Homeostatic:
    """Part: homeostatic adaptive threshold (Diehl & Cook 2015).

    A variant that only changes the thresholds' time constant subclasses it: it overrides
    :meth:`tau_theta_ms` and sets ``RECORD`` to a record type of its own (registered for the
    homeostatic kernels), and the record and the Brian2 namespace follow."""

    kind = "threshold"
    name = "homeostatic"
    #: The kernel record type of this part (each part has its own, for the kernels' dispatch).
    RECORD: type = HomeostaticRecord

    def tau_theta_ms(self, config) -> float:
        """The thresholds' decay time constant (ms): ``excitatory.tau_theta_ms``, Diehl & Cook's."""
        return config.excitatory.tau_theta_ms

    def record(self, config):
        return self.RECORD(dt_over_tau_theta=config.timing.dt_ms / self.tau_theta_ms(config),
                           theta_plus=float(config.excitatory.theta_plus_mv))

    # -- Brian2 twin -------------------------------------------------------------------------
    def brian2_namespace(self, config) -> dict[str, Any]:
        from brian2 import mV, ms

        return {"tau_theta": self.tau_theta_ms(config) * ms, "theta_plus": config.excitatory.theta_plus_mv * mV}

    def brian2_equations(self, learn: bool) -> str:
        """The ``theta`` line of the excitatory equations."""
        return "dtheta/dt = -theta / tau_theta : volt\n" if learn else "theta : volt (constant)\n"

    def brian2_reset(self, learn: bool) -> str:
        """The threshold's lines of the excitatory reset."""
        return "theta += theta_plus" if learn else ""
