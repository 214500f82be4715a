"""The Brian2 twin of every spikedyn model, for validation and benchmarks.

:class:`Brian2Network` builds, from the same :class:`~spikedyn.config.NetworkConfig`,
the network that :mod:`spikedyn.network` simulates, written the way a Brian2 user
writes Diehl & Cook (2015) (after the Brian2 example ``frompapers/Diehl_Cook_2015``),
and runs it with the same protocol: :meth:`Brian2Network.train` and
:meth:`Brian2Network.respond` mirror :meth:`spikedyn.network.Network.train` and
:meth:`~spikedyn.network.Network.respond` presentation for presentation (same weight
normalisation, rest periods, retries at higher rates, seeds and stream indices) and
feed Brian2 the very rasters spikedyn generates
(:func:`spikedyn.core.encoding.poisson_raster` with
:func:`spikedyn.core.encoding.presentation_seed`).

Brian2 is imported here only, and this module is imported only when it is used.

The model in Brian2
-------------------
- Excitatory neurons: ``dv/dt = ((v_rest - v) + ge (e_exc - v) + gi (e_inh - v)) / tau_m``
  ``(unless refractory)``, ``dge/dt = -ge/tau_ge``, ``dgi/dt = -gi/tau_gi``; during
  learning ``dtheta/dt = -theta/tau_theta`` and the reset adds ``theta_plus``
  (otherwise ``theta`` is a constant). Threshold ``v > v_thresh - theta_offset +
  theta and timestep(t - lastspike, dt) >= lockout_steps``, Brian2's ``refractory=``.
- Every part of the model (:mod:`spikedyn.models`) brings its Brian2 twin: the
  threshold rule its ``theta`` equation and reset lines
  (:class:`spikedyn.models.threshold.Homeostatic`), the competition its objects
  (:class:`spikedyn.models.competition.InhibitoryLayer`: inhibitory neurons with the same
  equation, excitatory i -> inhibitory i ``ge_post += w_exc_inh``, inhibitory i ->
  excitatory j != i ``gi_post += w_inh_exc``;
  :class:`~spikedyn.models.competition.DirectLateral`: excitatory i -> excitatory j != i
  ``gi_post += w_lateral``), the plasticity rule the learning synapses' model and
  pathways (:class:`spikedyn.plasticity.DiehlCookStdp`: the STDP of the Brian2
  example with per-synapse event-driven traces ``pre``, ``post1``, ``post2``), and
  the ``between`` part its step between presentations, run from Python
  (:class:`spikedyn.plasticity.Normalisation`). In inference the input synapses
  are ``on_pre = 'ge_post += w'`` only. No synaptic delays.
- Like spikedyn, the membrane is clipped to ``[e_inh, e_exc]`` after every Euler step
  (``run_regularly('v = clip(v, e_inh, e_exc)', when='after_groups')``, i.e. between
  the state update and the threshold): forward Euler overshoots the reversal
  potentials when ``dt/tau_m * (1 + ge + gi) > 1`` (strong, synchronous inhibition).
- ``method='euler'`` on one explicit :class:`brian2.Clock` of ``dt_ms`` shared by every
  object (the ``defaultclock`` is never used); Brian2's default schedule (groups,
  thresholds, synapses with the pre pathway before the post pathway, resets), which
  is the order of operations of spikedyn's step.
- Weight normalisation (each neuron's incoming weights rescaled to ``weight_sum``)
  before every training presentation is done from Python on the ``(n_input, N)``
  matrix, as in the Brian2 example. ``Synapses.connect(True)`` orders synapses by
  source then target, so synapse ``i * N + j`` is pixel i -> neuron j (checked).

Targets
-------
``numpy`` and ``cython`` (runtime): input through a :class:`brian2.SpikeGeneratorGroup`
(``set_spikes`` before each presentation); Brian2's time runs on across
presentations. ``cpp_standalone``: the project is generated and compiled once
(``build_on_run=False``, ``device.build(run=False)``) and run once per presentation
with ``device.run(run_args=...)``, which passes the whole state in (membrane
potentials, conductances, thresholds, ``lastspike``, weights, the per-synapse traces
and ``lastupdate``) and the input; the state is read back afterwards. Time restarts
at 0 in every run, so ``lastspike``/``lastupdate`` are shifted by the previous run's
duration (kept as whole steps, so no rounding accumulates). The input is a
:class:`brian2.TimedArray` ``stim`` of shape ``(present_steps + 1, n_input)`` (the last
row all zeros: a TimedArray holds its last value after its end, which silences the
input during the rest period) driving a ``NeuronGroup`` with ``threshold='stim(t, i) >
0.5'``: in Brian2 2.9 the spikes of a :class:`~brian2.SpikeGeneratorGroup` cannot be
replaced through ``run_args`` (the binary answers "Cannot set unknown variable
'spikegeneratorgroup.neuron_index'"), whereas TimedArray values can. Each engine
uses its own ``CPPStandaloneDevice`` instance, made active only while its project is
generated, and then the previous device is restored (``reset_device``), so runtime
and standalone networks, and several standalone networks, coexist in one process.

Numerics (why agreement is near-exact, not bit-exact)
-----------------------------------------------------
- Brian2 stores SI values: volts and seconds, where spikedyn computes in mV and
  steps; ``-65 mV`` is ``-0.065`` (not exactly representable) in Brian2. Every
  voltage therefore differs in the last bits.
- Brian2's code generation rewrites the Euler update through SymPy and hoists
  constants (``_lio_5 = dt/tau_m``): ``v + _lio_5*((v_rest + (ge*(e_exc - v) +
  gi*(e_inh - v))) - v)`` against spikedyn's ``v + dt/tau_m*(((v_rest - v) + ge*(e_exc
  - v)) + gi*(e_inh - v))``: different rounding (``dt/tau`` themselves agree exactly).
  The Cython and C++ targets compile with Brian2's default ``-ffast-math``, which lets
  the compiler reassociate too: after learning, thresholds differ by ~1e-11 mV in
  cpp_standalone against ~6e-14 mV with the numpy target or with the same project
  compiled without ``-ffast-math`` (``-march=native``'s FMA contraction alone changes
  nothing measurable); spikes are identical either way.
- Traces: Brian2 multiplies a stored trace by ``exp(-(t - lastupdate)/tau)`` at every
  event of its synapse; spikedyn evaluates ``exp(-k dt/tau)`` from the last spike in
  one go. Same value up to rounding.
- spikedyn flushes conductances and traces below ``1e-100`` to 0
  (:mod:`spikedyn.core.numerics`); Brian2 does not. This can only change a value below
  ``1e-100`` (e.g. a weight clipped at 0 potentiated by ``nu_post * 1e-100``).
A spike can differ only when a membrane potential lands within rounding (about
``1e-14`` mV) of its threshold; :mod:`spikedyn.reference.validate` measures it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from typing import Any

import numpy as np

from .. import models
from ..config import NetworkConfig
from ..core.encoding import STREAM_TRAIN, image_gain, poisson_raster, presentation_seed
from ..errors import ConfigError
from ..simulation.network import SpikeRecord, default_jobs, make_spike_record

#: Brian2 code generation targets accepted by :class:`Brian2Network`.
TARGETS = ("numpy", "cython", "cpp_standalone")

#: Brian2's initial ``lastspike`` (-10000 s): a neuron that has never fired.
NEVER_S = -1e4


# -- configuration -> Brian2 ----------------------------------------------------------------
def steps_of(duration_ms: float, dt_ms: float) -> int:
    """Whole steps in ``duration_ms`` (the config has checked it is a whole number)."""
    return int(round(duration_ms / dt_ms))


def brian2_namespace(config: NetworkConfig) -> dict[str, Any]:
    """The one conversion of a :class:`NetworkConfig` into Brian2 quantities.

    Returns the namespace of the Brian2 equations (``*_e`` excitatory; each part of
    the model adds its own names, see its ``brian2_namespace``) plus the entries
    ``dt``, ``refractory_e`` and, for a competition with neurons, ``refractory_i``,
    which are given as arguments rather than resolved in code.
    """
    from brian2 import mV, ms

    e, t = config.excitatory, config.timing
    ns: dict[str, Any] = {
        "dt": t.dt_ms * ms,
        "v_rest_e": e.v_rest_mv * mV,
        "v_reset_e": e.v_reset_mv * mV,
        "v_thresh_e": e.v_thresh_mv * mV,
        "theta_offset": e.theta_offset_mv * mV,
        "e_exc_e": e.e_exc_mv * mV,
        "e_inh_e": e.e_inh_mv * mV,
        "tau_m_e": e.tau_m_ms * ms,
        "tau_ge_e": e.tau_ge_ms * ms,
        "tau_gi_e": e.tau_gi_ms * ms,
        "refractory_e": e.refractory_ms * ms,
        "lockout_steps": steps_of(e.lockout_ms, t.dt_ms),
    }
    for part in models.get(config.model).parts.values():
        extra = getattr(part, "brian2_namespace", None)
        if extra is not None:
            ns.update(extra(config))
    return ns


#: Keys of :func:`brian2_namespace` that are arguments, not names in equations.
_ARGUMENT_KEYS = ("dt", "refractory_e", "refractory_i")

_EXC_EQS = """
dv/dt = ((v_rest_e - v) + ge * (e_exc_e - v) + gi * (e_inh_e - v)) / tau_m_e : volt (unless refractory)
dge/dt = -ge / tau_ge_e : 1
dgi/dt = -gi / tau_gi_e : 1
"""
_EXC_THRESHOLD = "v > v_thresh_e - theta_offset + theta and timestep(t - lastspike, dt) >= lockout_steps"
_EXC_RESET = "v = v_reset_e"

#: spikedyn clips the membrane to [e_inh, e_exc] right after each Euler step
#: (:mod:`spikedyn.core.neurons`): forward Euler overshoots the reversal potentials when
#: ``dt/tau_m * (1 + ge + gi) > 1``. Brian2: an operation between state update and threshold.
_CLIP_E = "v = clip(v, e_inh_e, e_exc_e)"

# -- the Brian2 objects ----------------------------------------------------------------------
class _Model:
    """The Brian2 objects of one network for one mode (learning or inference).

    ``standalone_input`` selects the input group: a TimedArray-driven NeuronGroup
    (cpp_standalone) or a SpikeGeneratorGroup (runtime targets).
    """

    def __init__(self, config: NetworkConfig, ns: dict[str, Any], *, learn: bool, standalone_input: bool,
                 seed: int = 0):
        import brian2 as b2

        self.learn = learn
        model = models.get(config.model)
        n, n_in = config.n_neurons, config.n_input
        present_steps = config.timing.present_steps
        code_ns = {k: v for k, v in ns.items() if k not in _ARGUMENT_KEYS}
        self.dt_s = float(ns["dt"])
        self.clock = b2.Clock(dt=ns["dt"], name="spikedyn_clock*")
        clock = self.clock

        exc_eqs = _EXC_EQS + model.threshold.brian2_equations(learn)
        # Variables of the excitatory neurons that an adaptive rule sets before each presentation.
        self.neuron_variables = tuple(getattr(model.plasticity, "BRIAN2_NEURON_VARIABLES", ())) if learn else ()
        exc_eqs += "".join(f"{name} : 1\n" for name in self.neuron_variables)
        reset = "\n".join(line for line in (_EXC_RESET, model.threshold.brian2_reset(learn)) if line)
        self.exc = b2.NeuronGroup(
            n, exc_eqs, threshold=_EXC_THRESHOLD, reset=reset,
            refractory=ns["refractory_e"], method="euler", clock=clock, namespace=code_ns, name="exc*",
        )
        self.exc.v = ns["v_rest_e"]
        self.exc.run_regularly(_CLIP_E, when="after_groups", name="exc_clip*")
        objects: list[Any] = [self.exc]

        if standalone_input:
            self.stim = b2.TimedArray(np.zeros((present_steps + 1, n_in)), dt=ns["dt"], name="stim*")
            self.inp = b2.NeuronGroup(n_in, "", threshold="stim(t, i) > 0.5", reset="", clock=clock,
                                      namespace={"stim": self.stim}, name="input*")
        else:
            self.stim = None
            self.inp = b2.SpikeGeneratorGroup(n_in, np.zeros(0, np.int64), np.zeros(0) * b2.second,
                                              clock=clock, name="input*")
        objects.append(self.inp)

        self.traces: tuple[str, ...] = ()
        self.synapse_variables: tuple[str, ...] = ()
        if learn:
            rule = model.plasticity.brian2_synapses()
            # Per-synapse variables carried from run to run: the traces and the rule's own.
            self.synapse_variables = tuple(getattr(model.plasticity, "BRIAN2_SYNAPSE_VARIABLES", ()))
            self.traces = tuple(rule["traces"]) + self.synapse_variables
            self.syn = b2.Synapses(self.inp, self.exc, model=rule["model"], on_pre=rule["on_pre"],
                                   on_post=rule["on_post"], method="euler", clock=clock, namespace=code_ns,
                                   name="input_exc*")
        else:
            self.syn = b2.Synapses(self.inp, self.exc, model="w : 1", on_pre="ge_post += w", clock=clock,
                                   namespace=code_ns, name="input_exc*")
        self.syn.connect(True)  # synapse i * N + j: pixel i -> neuron j
        delays = getattr(model.plasticity, "brian2_delays_s", None)
        self.max_delay_steps = 0
        if delays is not None:  # the network's own random delays, exactly d_ij * dt
            d = delays(config, seed)
            self.syn.delay = d * b2.second
            self.max_delay_steps = int(round(float(d.max()) / float(ns["dt"]))) + 1
        objects.append(self.syn)

        # The competition: its Brian2 objects and its own population (or None).
        competition_objects, self.pop = model.competition.brian2_build(b2, self.exc, clock, ns, code_ns)
        self.pop_rest_v = model.competition.brian2_rest_v(ns)
        objects += competition_objects
        self.mon = b2.SpikeMonitor(self.exc, name="exc_spikes*")
        objects.append(self.mon)
        self.net = b2.Network(*objects)


# -- engines: one Brian2 network (one target, one mode) -----------------------------------
class _Engine:
    """Runs presentations on one Brian2 network; see :meth:`present`."""

    build_seconds: float = 0.0
    #: Seconds spent in Brian2's run: ``Network.run`` (runtime) or the binary's whole
    #: execution (standalone: process start, synapse creation, reading ``run_args``,
    #: simulation, writing results).
    sim_seconds: float = 0.0
    #: Seconds of those spent in the simulation loop alone (Brian2's ``_last_run_time``).
    loop_seconds: float = 0.0

    def present(self, w: np.ndarray, theta: np.ndarray, raster, n_steps: int, *, from_rest: bool,
                neuron_values: dict[str, np.ndarray] | None = None):
        """Run ``n_steps`` steps, the first ``raster.n_steps`` with input ``raster``.

        ``w`` (float64, (n_input, N)) and ``theta`` (float64, (N,), volts) are the
        weights and thresholds to use; when learning they are updated in place.
        ``neuron_values`` sets the learning rule's variables of the excitatory
        neurons (``_Model.neuron_variables``) for this run.
        With ``from_rest`` the dynamic state starts at rest (inference).
        Returns ``(steps, neurons)``: int64 arrays of the excitatory spikes, steps
        counted from the start of the presentation.
        """
        raise NotImplementedError

    def synapse_values(self, name: str) -> np.ndarray:
        """Current values of the learning rule's synaptic variable ``name`` (float64, (n_input * N,))."""
        raise NotImplementedError

    def close(self) -> None:
        pass


@contextlib.contextmanager
def _codegen_target(target: str):
    from brian2 import prefs

    old = prefs.codegen.target
    prefs.codegen.target = target
    try:
        yield
    finally:
        prefs.codegen.target = old


class _RuntimeEngine(_Engine):
    """The ``numpy`` or ``cython`` runtime target; state lives in the Brian2 objects."""

    def __init__(self, config: NetworkConfig, ns: dict[str, Any], *, learn: bool, target: str, seed: int = 0):
        self.config, self.ns, self.learn, self.target = config, ns, learn, target
        self._n_seen = 0
        start = time.perf_counter()
        with _codegen_target(target):  # connect() runs code too
            self.m = _Model(config, ns, learn=learn, standalone_input=False, seed=seed)
            self.m.net.run(0 * ns["dt"], namespace={})  # generate (and compile) the code
        self.build_seconds = time.perf_counter() - start
        n = config.n_neurons
        i, j = np.asarray(self.m.syn.i[:]), np.asarray(self.m.syn.j[:])
        if not (np.array_equal(i, np.repeat(np.arange(config.n_input), n))
                and np.array_equal(j, np.tile(np.arange(n), config.n_input))):
            raise RuntimeError("Brian2 did not order the input synapses as i * N + j")

    def _to_rest(self) -> None:
        m, ns = self.m, self.ns
        m.exc.v_ = float(ns["v_rest_e"])
        m.exc.ge_ = 0.0
        m.exc.gi_ = 0.0
        m.exc.lastspike_ = NEVER_S
        if m.pop is not None:
            m.pop.v_ = m.pop_rest_v
            m.pop.ge_ = 0.0
            m.pop.lastspike_ = NEVER_S

    def synapse_values(self, name):
        return np.asarray(self.m.syn.state(name, use_units=False)[:])

    def present(self, w, theta, raster, n_steps, *, from_rest, neuron_values=None):
        import brian2 as b2

        m, dt = self.m, self.m.dt_s
        if from_rest:
            self._to_rest()
        step0 = int(round(float(m.net.t_) / dt))
        m.syn.w_[:] = w.reshape(-1)
        m.exc.theta_[:] = theta
        for name in m.neuron_variables:
            m.exc.state(name, use_units=False)[:] = neuron_values[name]
        times = (step0 + raster.steps()) * dt
        m.inp.set_spikes(raster.pixels.astype(np.int64), times * b2.second, sorted=True)
        start = time.perf_counter()
        with _codegen_target(self.target):
            m.net.run(n_steps * m.clock.dt, namespace={})
        self.sim_seconds += time.perf_counter() - start
        self.loop_seconds += float(b2.get_device()._last_run_time)
        if int(round(float(m.net.t_) / dt)) != step0 + n_steps:
            raise RuntimeError("Brian2 ran a different number of steps than asked")
        if self.learn:
            w.reshape(-1)[:] = m.syn.w_[:]
            theta[:] = m.exc.theta_[:]
        spike_i = np.asarray(m.mon.i_[self._n_seen:], dtype=np.int64)
        spike_t = np.asarray(m.mon.t_[self._n_seen:])
        if from_rest and m.max_delay_steps:
            # spikedyn's presentation ends with its last step: spikes still in flight
            # are dropped. Brian2's spike queue would deliver them in the next run, so
            # let them arrive now, unrecorded; the next presentation starts from rest.
            with _codegen_target(self.target):
                m.net.run(m.max_delay_steps * m.clock.dt, namespace={})
        self._n_seen = len(m.mon.i_)
        return np.rint(spike_t / dt).astype(np.int64) - step0, spike_i


class _StandaloneEngine(_Engine):
    """The ``cpp_standalone`` target: compiled once, run once per presentation.

    The state between runs is kept here, in Brian2 units (SI) with spike and update
    times as whole steps relative to the start of the next run.
    """

    def __init__(self, config: NetworkConfig, ns: dict[str, Any], *, learn: bool, directory: str | None,
                 seed: int = 0):
        from brian2 import prefs
        from brian2.devices.cpp_standalone.device import CPPStandaloneDevice
        from brian2.devices.device import reset_device, set_device

        self.config, self.ns, self.learn = config, ns, learn
        self.present_steps = config.timing.present_steps
        self.run_steps = self.present_steps + (config.timing.rest_steps if learn else 0)
        self._own_dir = directory is None
        self.directory = tempfile.mkdtemp(prefix="spikedyn-brian2-") if directory is None else str(directory)
        self.dt_s = float(ns["dt"])
        self.never_steps = -int(round(-NEVER_S / self.dt_s))
        n, n_in = config.n_neurons, config.n_input

        start = time.perf_counter()
        self.device = CPPStandaloneDevice()
        set_device(self.device, build_on_run=False)
        make_args = prefs.devices.cpp_standalone.extra_make_args_unix
        # Brian2's default is an unbounded 'make -j' (dozens of compilers at once).
        prefs.devices.cpp_standalone.extra_make_args_unix = ["-j", str(default_jobs())]
        try:
            self.m = _Model(config, ns, learn=learn, standalone_input=True, seed=seed)
            self.m.net.run(self.run_steps * ns["dt"], namespace={})
            self.device.build(directory=self.directory, compile=True, run=False, with_output=False)
        finally:
            prefs.devices.cpp_standalone.extra_make_args_unix = make_args
            reset_device()
        self.build_seconds = time.perf_counter() - start

        # State carried from run to run (the rest state to begin with).
        self.state = {
            "v": np.full(n, float(ns["v_rest_e"])),
            "ge": np.zeros(n), "gi": np.zeros(n),
            "lastspike": np.full(n, self.never_steps, np.int64),
        }
        if self.m.pop is not None:
            self.state.update(v_i=np.full(n, self.m.pop_rest_v), ge_i=np.zeros(n),
                              lastspike_i=np.full(n, self.never_steps, np.int64))
        if learn:
            n_syn = n_in * n
            self.state.update({name: np.zeros(n_syn) for name in self.m.traces})
            self.state["lastupdate"] = np.zeros(n_syn, np.int64)
        self._checked_order = False

    def _rest(self) -> None:
        s = self.state
        s["v"][:] = float(self.ns["v_rest_e"])
        s["ge"][:] = 0.0
        s["gi"][:] = 0.0
        s["lastspike"][:] = self.never_steps
        if self.m.pop is not None:
            s["v_i"][:] = self.m.pop_rest_v
            s["ge_i"][:] = 0.0
            s["lastspike_i"][:] = self.never_steps

    def synapse_values(self, name):
        return self.state[name]

    def present(self, w, theta, raster, n_steps, *, from_rest, neuron_values=None):
        from brian2 import second, volt

        if n_steps != self.run_steps:
            raise RuntimeError(f"this standalone project runs {self.run_steps} steps, not {n_steps}")
        m, s, dt = self.m, self.state, self.dt_s
        if from_rest:
            self._rest()
        stim = np.zeros((self.present_steps + 1, self.config.n_input))
        stim[raster.steps(), raster.pixels] = 1.0
        run_args = {
            m.stim: stim,
            m.exc.v: s["v"] * volt, m.exc.ge: s["ge"], m.exc.gi: s["gi"],
            m.exc.lastspike: s["lastspike"] * dt * second,
            m.exc.theta: theta * volt,
            m.syn.w: w.reshape(-1),
        }
        for name in m.neuron_variables:
            run_args[m.exc.state(name)] = neuron_values[name]
        if m.pop is not None:
            run_args.update({m.pop.v: s["v_i"] * volt, m.pop.ge: s["ge_i"],
                             m.pop.lastspike: s["lastspike_i"] * dt * second})
        if self.learn:
            trace = m.syn.state  # not m.syn.pre: that is the presynaptic pathway
            run_args.update({trace(name): s[name] for name in m.traces})
            run_args[trace("lastupdate")] = s["lastupdate"] * dt * second
        try:
            self.device.run(directory=self.directory, with_output=False, run_args=run_args)
        finally:  # run_args files are never reused: delete them (they would fill the disk)
            for name in self.device.run_args_arrays:
                for suffix in ("", ".lock"):
                    with contextlib.suppress(OSError):
                        os.remove(os.path.join(self.directory, "static_arrays", name + suffix))
        self.sim_seconds += self.device.timers.get("run_binary", 0.0)
        self.loop_seconds += float(self.device._last_run_time)
        if not self._checked_order:
            n = self.config.n_neurons
            if not (np.array_equal(m.syn.i[:], np.repeat(np.arange(self.config.n_input), n))
                    and np.array_equal(m.syn.j[:], np.tile(np.arange(n), self.config.n_input))):
                raise RuntimeError("Brian2 did not order the input synapses as i * N + j")
            self._checked_order = True

        def steps_back(times_s: np.ndarray) -> np.ndarray:
            """Times of the run just done -> whole steps relative to the next run."""
            k = np.rint(np.asarray(times_s) / dt).astype(np.int64) - n_steps
            return np.maximum(k, self.never_steps)

        s["v"] = np.array(m.exc.v_[:])
        s["ge"] = np.array(m.exc.ge_[:])
        s["gi"] = np.array(m.exc.gi_[:])
        s["lastspike"] = steps_back(m.exc.lastspike_[:])
        if m.pop is not None:
            s["v_i"] = np.array(m.pop.v_[:])
            s["ge_i"] = np.array(m.pop.ge_[:])
            s["lastspike_i"] = steps_back(m.pop.lastspike_[:])
        if self.learn:
            w.reshape(-1)[:] = m.syn.w_[:]
            theta[:] = m.exc.theta_[:]
            for name in m.traces:
                s[name] = np.array(m.syn.state(name, use_units=False)[:])
            s["lastupdate"] = steps_back(m.syn.lastupdate_[:])
        spike_t = np.asarray(m.mon.t_[:])
        spike_i = np.asarray(m.mon.i_[:], dtype=np.int64)
        return np.rint(spike_t / dt).astype(np.int64), spike_i

    def close(self) -> None:
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)
            self._own_dir = False

    def __del__(self):  # pragma: no cover - best effort
        with contextlib.suppress(Exception):
            self.close()


# -- the public network -------------------------------------------------------------------------
class Brian2Network:
    """A spikedyn network simulated by Brian2, with spikedyn's protocol.

    Parameters
    ----------
    config : NetworkConfig
    weights : float64 array, shape (n_input, n_neurons)
        Initial input->excitatory weights (copied); e.g. a spikedyn ``Network``'s.
        The learning rule's own state (SpikeDyn's activity and rates, ASP's
        significance) starts fresh: twin a trained ``spikedyn`` or ``asp`` network
        only from a fresh one (as ``spikedyn validate`` does).
    theta : float64 array, shape (n_neurons,)
        Initial adaptive thresholds in mV (copied).
    target : {"numpy", "cython", "cpp_standalone"}
    seed : int
        The spikedyn seed of the input rasters (``presentation_seed(seed, ...)``).
    directory : str, optional
        cpp_standalone project directories go below it (default: new temporary
        directories, deleted by :meth:`close`).

    Attributes
    ----------
    weights, theta : arrays
        Current weights and thresholds (mV).
    samples_seen : int
        Training samples presented so far (the next training-stream index).
    build_seconds : dict
        Code generation and compilation time per mode (``"train"``, ``"infer"``).
    sim_seconds : dict
        Time spent in Brian2's run per mode (standalone: the binary's whole execution),
        excluding the Python side.
    loop_seconds : dict
        Of that, the time in Brian2's simulation loop alone.
    """

    def __init__(self, config: NetworkConfig, weights, theta, *, target: str = "numpy", seed: int = 0,
                 directory: str | None = None):
        if target not in TARGETS:
            raise ConfigError(f"unknown Brian2 target {target!r}; choose one of {', '.join(TARGETS)}")
        if config.precision.weight_bits != 64:
            raise ConfigError(f"the Brian2 twin stores float64 weights only, got precision.weight_bits="
                              f"{config.precision.weight_bits}; validate at 64 bits (spikedyn's reduced precision "
                              "is checked against tests/naive.py instead)")
        weights = np.array(weights, dtype=np.float64, order="C", copy=True)
        theta = np.array(theta, dtype=np.float64, copy=True)
        if weights.shape != (config.n_input, config.n_neurons):
            raise ConfigError(f"weights must have shape ({config.n_input}, {config.n_neurons}), got {weights.shape}")
        if theta.shape != (config.n_neurons,):
            raise ConfigError(f"theta must have shape ({config.n_neurons},), got {theta.shape}")
        self.config = config
        self.weights = weights
        self._theta_v = theta * 1e-3  # Brian2 holds volts; converted once, not per presentation
        self.target = target
        self.seed = int(seed)
        self.samples_seen = 0
        self.directory = directory
        self.ns = brian2_namespace(config)
        self._model = models.get(config.model)
        self._engines: dict[str, _Engine] = {}
        # The adaptive rules' per-neuron state (spikedyn.core.traces.Traces: activity, rate = g), or
        # the rule's own (its brian2_rule_state: one array per name, with its neuron variables).
        own = getattr(self._model.plasticity, "brian2_rule_state", None)
        self.rule_state = (own(config) if own is not None
                           else {"activity": np.zeros(config.n_neurons), "g": np.ones(config.n_neurons)})

    # -- engines ----------------------------------------------------------------------------
    def engine(self, mode: str) -> _Engine:
        """The Brian2 network of ``mode`` (``"train"`` or ``"infer"``), built on first use."""
        if mode not in self._engines:
            learn = mode == "train"
            if self.target == "cpp_standalone":
                directory = None
                if self.directory is not None:
                    directory = os.path.join(self.directory, f"{self.config.model}-{self.config.n_neurons}-{mode}")
                self._engines[mode] = _StandaloneEngine(self.config, self.ns, learn=learn, directory=directory,
                                                        seed=self.seed)
            else:
                self._engines[mode] = _RuntimeEngine(self.config, self.ns, learn=learn, target=self.target,
                                                     seed=self.seed)
        return self._engines[mode]

    @property
    def theta(self) -> np.ndarray:
        """Adaptive thresholds in mV (a copy)."""
        return self._theta_v * 1e3

    @property
    def build_seconds(self) -> dict[str, float]:
        return {mode: e.build_seconds for mode, e in self._engines.items()}

    @property
    def sim_seconds(self) -> dict[str, float]:
        return {mode: e.sim_seconds for mode, e in self._engines.items()}

    @property
    def loop_seconds(self) -> dict[str, float]:
        return {mode: e.loop_seconds for mode, e in self._engines.items()}

    def close(self) -> None:
        """Delete temporary standalone projects."""
        for e in self._engines.values():
            e.close()

    # -- protocol ---------------------------------------------------------------------------
    def _raster(self, image, stream: int, index: int, attempt: int):
        c = self.config
        gain = image_gain(image, c.input.normalise_mean_pixel, c.input.max_gain)
        rate = gain * c.input.rate_hz_per_unit + attempt * c.input.retry_rate_hz_per_unit
        return poisson_raster(image, rate, dt_ms=c.timing.dt_ms, n_steps=c.timing.present_steps,
                              seed=presentation_seed(self.seed, stream, index, attempt))

    def _check(self, images) -> np.ndarray:
        from ..simulation.network import input_images

        return input_images(images, self.config)

    def _run(self, images, *, learn: bool, stream: int, first_index: int, progress: bool, desc: str):
        from tqdm.auto import tqdm

        # The present-and-retry protocol of spikedyn.network._present, mirrored for Brian2.
        c = self.config
        images = self._check(images)
        n_samples = images.shape[0]
        engine = self.engine("train" if learn else "infer")
        present = c.timing.present_steps
        n_steps = present + (c.timing.rest_steps if learn else 0)
        counts = np.zeros((n_samples, c.n_neurons), np.int32)
        presentations = np.zeros(n_samples, np.int32)
        cols: list[list[np.ndarray]] = [[], [], [], []]
        after = getattr(self._model.plasticity, "brian2_after_presentation", None) if learn else None
        model = engine.m
        # Learning updates these arrays in place; with learning off nothing changes them, so the
        # rule's test thresholds and weights are derived once for the whole call.
        theta_v = self._theta_v if learn else self._model.plasticity.brian2_test_thresholds(
            c, self._theta_v, self.rule_state)
        weights = self.weights if learn else self._model.plasticity.brian2_test_weights(
            c, self.weights, self.rule_state)
        for k in tqdm(range(n_samples), desc=desc, unit="sample", disable=not progress, smoothing=0.1):
            attempt = 0
            while True:
                if learn:
                    self._model.between.brian2_before_presentation(c, self.weights)
                raster = self._raster(images[k], stream, first_index + k, attempt)
                steps, neurons = engine.present(weights, theta_v, raster, n_steps, from_rest=not learn,
                                                neuron_values=self.rule_state)
                counts[k] = np.bincount(neurons[steps < present], minlength=c.n_neurons)
                if after is not None:  # the rule's step after a presentation, on the same arrays
                    state = dict(self.rule_state)
                    for name in model.synapse_variables:
                        state[name] = engine.synapse_values(name).reshape(c.n_input, c.n_neurons)
                    after(c, self.weights, self._theta_v, counts[k], state)
                for col, values in zip(cols, (np.full_like(steps, k), np.full_like(steps, attempt), steps, neurons)):
                    col.append(values)
                attempt += 1
                if counts[k].sum() >= c.input.min_spikes or attempt >= c.input.max_presentations:
                    break
            presentations[k] = attempt
        record = make_spike_record(*(np.concatenate(col) if col else np.zeros(0, np.int64) for col in cols),
                                   presentations)
        return counts, record

    def train(self, images, first_index: int | None = None, *, progress: bool = False,
              desc: str = "brian2 train") -> tuple[np.ndarray, SpikeRecord]:
        """Learn from ``images`` in order, exactly as :meth:`spikedyn.network.Network.train`.

        Sample k uses training-stream index ``first_index + k`` (default: the samples
        seen so far). Returns the spike counts of each sample's last presentation
        (int32, (n, N), presentation period only) and the :class:`SpikeRecord`.
        """
        first = self.samples_seen if first_index is None else int(first_index)
        out = self._run(images, learn=True, stream=STREAM_TRAIN, first_index=first, progress=progress, desc=desc)
        self.samples_seen = first + out[0].shape[0]
        return out

    def respond(self, images, stream: int, first_index: int = 0, *, progress: bool = False,
                desc: str = "brian2 respond") -> tuple[np.ndarray, SpikeRecord]:
        """Responses of the frozen network, exactly as :meth:`spikedyn.network.Network.respond`:
        each presentation from rest, thresholds frozen, no rest period."""
        return self._run(images, learn=False, stream=int(stream), first_index=int(first_index),
                         progress=progress, desc=desc)
