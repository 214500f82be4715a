"""The Diehl & Cook (2015) learning rules: trace-based STDP and weight normalisation.

Rules on the input->excitatory weights ``w`` (shape ``(n_input, n_neurons)``), in the
order Brian2 runs them within a step (presynaptic pathway first), with the traces of
:mod:`spikedyn.core.traces`:

- presynaptic spike of input i: ``w[i, :] = clip(w[i, :] - nu_pre * post1, 0, w_max)``;
- postsynaptic spike of neuron j: ``w[:, j] = clip(w[:, j] + nu_post * pre * post2, 0, w_max)``
  where ``post2`` is read before neuron j's own traces are set to 1.

Parts defined here (see :mod:`spikedyn.core.parts`); both read the base section
``config.stdp`` (:class:`~spikedyn.core.params.StdpParams`) and declare none of their own:

:class:`DiehlCookStdp` (``stdp``, kind ``plasticity``)
    the rule above; hooks ``on_pre`` (after the step's input spikes were delivered:
    each spike delivered its weights as they were before its own update, as in the
    fused rule) and ``on_post`` (after the excitatory spikes of the step). The other
    plasticity parts (:mod:`spikedyn.models.spikedyn`, :mod:`~spikedyn.models.asp`,
    :mod:`~spikedyn.models.delays`, :mod:`~spikedyn.models.no_depression`) derive from it
    and reuse its kernels;
:class:`Normalisation` (``normalise``, kind ``between``)
    before every training presentation each neuron's incoming weights are rescaled
    to sum to ``weight_sum`` (hook ``before_presentation``).

The hooks and their signatures are declared in :mod:`spikedyn.core.traces`.
``row_over`` is set by the normalisation (see :func:`_normalize_columns`).

Between two normalisations these rules change only the columns of neurons that are in the
recent list (``post1`` not zero) or fire: the normalisation relies on it to skip summing the
other columns again (see :func:`_normalize_columns`); a rule that writes elsewhere (a decay or a
leak after each presentation) says so with ``operation_profile(config)["scans_weights"]``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numba
import numpy as np

from ..core.neurons import _enlist
from ..core.parts import implements
from ..core.traces import (_active_traces_now, _mark, _recent_traces_now, _trace, after_presentation,
                           before_presentation, on_post, on_pre, synapse_history, synapse_significance, transmit)
from ..errors import ConfigError


@numba.njit(cache=True, inline="always")
def _depressed(w, post1, nu_pre, w_max):
    """The presynaptic rule for one synapse: ``clip(w - nu_pre * post1, 0, w_max)``."""
    return min(max(w - nu_pre * post1, 0.0), w_max)


@numba.njit(cache=True)
def _depress_row(w_row, post1, nu_pre, w_max):
    """Presynaptic rule for one input: ``w_row = clip(w_row - nu_pre * post1, 0, w_max)``, in place."""
    for j in range(w_row.shape[0]):
        w_row[j] = _depressed(w_row[j], post1[j], nu_pre, w_max)


@numba.njit(cache=True, inline="always")
def _depress_inputs(w, inputs, lo, hi, post1, recent, n_recent, row_over, nu_pre, w_max):
    """Presynaptic rule for the spikes of inputs ``inputs[lo:hi]``, in place: as
    :func:`_depress_row` on each of their rows, touching only the synapses it can change.

    ``post1`` must be 0.0 for every neuron outside ``recent[:n_recent]``. For such a
    neuron the rule is ``clip(w - 0.0, 0, w_max)``, which is ``w`` itself unless the
    weight lies above ``w_max``, so only the recent neurons' synapses are updated,
    unless ``row_over[i]`` says row ``i`` may hold a weight above ``w_max`` (see
    :func:`_normalize_columns`): then the whole row is. With ``nu_pre == 0`` the rule changes
    nothing outside such rows. Returns the weights read, modified and written.
    """
    n_out = w.shape[1]
    done = 0
    for e in range(lo, hi):
        i = inputs[e]
        if row_over[i]:
            for j in range(n_out):
                w[i, j] = _depressed(w[i, j], post1[j], nu_pre, w_max)
            done += n_out
        elif nu_pre != 0.0:
            for k in range(n_recent):
                j = recent[k]
                w[i, j] = _depressed(w[i, j], post1[j], nu_pre, w_max)
            done += n_recent
    return done


@numba.njit(cache=True, inline="always")
def _potentiate_column(w, j, pre, nu_post, post2, w_max):
    """Postsynaptic rule for neuron j, in place:
    ``w[:, j] = clip(w[:, j] + nu_post * pre * post2, 0, w_max)``.

    ``post2`` is neuron j's slow trace read before the spike's own update.
    """
    for i in range(w.shape[0]):
        x = w[i, j] + nu_post * pre[i] * post2
        w[i, j] = min(max(x, 0.0), w_max)


@numba.njit(cache=True)
def _normalize_columns(w, target, col_sum, w_max, row_over, col_next, col_dirty, known):
    """Rescale each column of ``w`` (in place) so it sums to ``target``.

    A column summing to zero is left as it is (there is nothing to rescale), and so is one whose
    sum is so small (subnormal) that the factor would overflow. Sets ``row_over[i]`` (bool,
    shape (n_input,)) to whether row ``i`` now holds a weight above ``w_max``. Rescaling is the
    only operation that can lift a weight above ``w_max`` (both STDP rules clip), so the flags
    stay valid, as upper bounds, until the next call. ``col_sum`` (float64, shape (n_neurons,))
    is scratch space.

    The sums are accumulated row by row from row 0, as the Brian2 twin's NumPy normalisation
    does (:func:`normalize_columns_numpy`). The rescaling pass accumulates the new weights in the
    same order into ``col_next``, so ``col_next[j]`` is the sum the next call would compute for
    column ``j`` if nothing writes to it in between: with ``known``, the next call takes it from
    there for every column not flagged in ``col_dirty`` and sums only the flagged ones, the same
    additions in the same order, so the same bits, without a pass over the whole matrix (when at
    most an eighth of the columns are flagged; beyond that one pass over all is faster). The
    caller flags the columns that may have been written to (see :func:`spikedyn.simulation.loop._present`);
    this call flags, for the next, those it left with a weight above ``w_max`` (the rules clip
    them at their next event) and clears the others.
    """
    n_in, n_out = w.shape
    n_dirty = 0
    if known:
        for j in range(n_out):
            n_dirty += col_dirty[j]
    if known and 8 * n_dirty <= n_out:
        _flagged_column_sums(w, col_sum, col_next, col_dirty, n_dirty)
    else:
        for j in range(n_out):
            col_sum[j] = 0.0
        for i in range(n_in):
            for j in range(n_out):
                col_sum[j] += w[i, j]
    for j in range(n_out):
        factor = target / col_sum[j] if col_sum[j] > 0.0 else 1.0
        col_sum[j] = factor if factor <= 1e300 else 1.0  # a subnormal sum: 0 * inf would make NaNs
        col_next[j] = 0.0
        col_dirty[j] = False
    for i in range(n_in):
        # a count, not a flag: the loop stays branch-free SIMD code
        n_over = 0
        for j in range(n_out):
            x = w[i, j] * col_sum[j]
            w[i, j] = x
            col_next[j] += x
            n_over += x > w_max
        row_over[i] = n_over > 0
    for i in range(n_in):
        if row_over[i]:  # rare
            for j in range(n_out):
                if w[i, j] > w_max:
                    col_dirty[j] = True


@numba.njit(cache=True)
def _flagged_column_sums(w, col_sum, col_next, col_dirty, n_dirty):
    """``col_sum = col_next``, except the ``n_dirty`` columns flagged in ``col_dirty``: their sums
    from ``w``, row by row from row 0."""
    n_in, n_out = w.shape
    flagged = np.empty(n_dirty, np.int64)
    k = 0
    for j in range(n_out):
        col_sum[j] = col_next[j]
        if col_dirty[j]:
            flagged[k] = j
            col_sum[j] = 0.0
            k += 1
    for i in range(n_in):
        for k in range(n_dirty):
            col_sum[flagged[k]] += w[i, flagged[k]]


@numba.njit(cache=True, inline="always")
def _deliver_events(ge, w, pixels, lo, hi):
    """The input spikes ``pixels[lo:hi]`` of one step, in order: ``ge += w[i]`` (in place).

    Spikes go two at a time (an input fires at most once per step, so the rows
    differ): ``ge = (ge + w[i0]) + w[i1]`` is the same additions in the same order as
    one at a time, so the same bits, with one pass over ``ge`` per pair. Rows are
    indexed in ``w``, not sliced (a view costs atomic reference counting).
    """
    n = ge.shape[0]
    n_pairs = (hi - lo) // 2
    for q in range(n_pairs):
        i0 = pixels[lo + 2 * q]
        i1 = pixels[lo + 2 * q + 1]
        for j in range(n):
            ge[j] = (ge[j] + w[i0, j]) + w[i1, j]
    for e in range(lo + 2 * n_pairs, hi):  # the odd one out, if any
        i = pixels[e]
        for j in range(n):
            ge[j] += w[i, j]


@numba.njit(cache=True, inline="always")
def _potentiate_rows(w, j, pre, active, n_active, a, post2, w_max, row_over):
    """Postsynaptic rule for neuron j on the rows ``active[:n_active]``, in place:
    ``w[i, j] = clip(w[i, j] + a * pre[i] * post2, 0, w_max)``; with a zero factor ``a * post2``
    only the rows that may hold a weight above ``w_max`` are clipped. Returns the weights
    read, modified and written."""
    done = 0
    nonzero = a * post2 != 0.0
    for q in range(n_active):
        i = active[q]
        if nonzero:
            x = w[i, j] + a * pre[i] * post2
            w[i, j] = min(max(x, 0.0), w_max)
            done += 1
        elif row_over[i]:
            w[i, j] = min(max(w[i, j], 0.0), w_max)
            done += 1
    return done


@numba.njit(cache=True, inline="always")
def _potentiate_spikes(w, spikes, n_spikes, pre, active, n_active, post2_table, last_post, t, nu_post, w_max,
                       recent, is_recent, n_recent, row_over):
    """Postsynaptic rule for each spike ``spikes[:n_spikes]`` of step ``t``, in place, on the rows
    ``active[:n_active]`` (:func:`spikedyn.core.traces._active_traces_now`: every other row's
    increment is exactly 0); each neuron's ``post2`` is read before its own spike is recorded,
    and the neuron joins the recent list. Returns the weight updates made."""
    done = 0
    for k in range(n_spikes):
        j = spikes[k]
        post2 = _trace(post2_table, t - last_post[j])
        done += _potentiate_rows(w, j, pre, active, n_active, nu_post, post2, w_max, row_over)
        last_post[j] = t
        _enlist(j, recent, is_recent, n_recent)
    return done


class StdpRecord(NamedTuple):
    """Kernel record of :class:`DiehlCookStdp` (the trace time constants are in :class:`Traces`)."""

    nu_pre: float
    nu_post: float
    w_max: float


@implements(on_pre, StdpRecord)
def _stdp_on_pre(rec, t, learn, w, ge, pixels, lo, hi, step_ptr, input_t0, row_over, last_pre, last_post, recent,
                 is_recent, n_recent, pre_now, post1_now, pre_table, post1_table, post2_table, last_arrival,
                 activity, rate, significance, updates, pre_active):
    # The spikes pixels[lo:hi] deliver their weights as they were before this step's
    # depression (the fused rule's order); the rule runs on them only when learning
    # (a select, not a branch around the loops: see "How the kernels are kept fast").
    _deliver_events(ge, w, pixels, lo, hi)
    learn_hi = hi if learn else lo
    # Every step (cheap: only the recently active neurons; none in inference).
    _recent_traces_now(post1_table, last_post, t, recent, is_recent, n_recent, post1_now)
    _mark(last_pre, pixels, lo, learn_hi, t)
    updates[2] += _depress_inputs(w, pixels, lo, learn_hi, post1_now, recent, n_recent[0], row_over, rec.nu_pre,
                                  rec.w_max)


@implements(transmit, StdpRecord)
def _stdp_transmit(rec, t, w, ge, pixels, lo, hi, step_ptr, input_t0):
    _deliver_events(ge, w, pixels, lo, hi)


@implements(synapse_history, StdpRecord)
def _stdp_synapse_history(rec, n_input, n_neurons):
    return np.empty((0, 0), np.int64)  # traces per input and per neuron are enough without delays


@numba.njit(cache=True, inline="always")
def _stdp_potentiation(rec, t, w, spikes, n_spikes, row_over, last_pre, last_post, recent, is_recent, n_recent,
                       pre_now, pre_table, post2_table, updates, pre_active):
    """Diehl & Cook's postsynaptic pathway for the spikes of step ``t``, counted (``rec.nu_post``,
    ``rec.w_max``); ``pre_now`` holds the input traces at ``t`` afterwards, ``pre_active`` the
    rows the rule can change (:func:`spikedyn.core.traces._active_traces_now`)."""
    n_active = _active_traces_now(pre_table, last_pre, t, pre_now, row_over, pre_active)
    updates[0] += _potentiate_spikes(w, spikes, n_spikes, pre_now, pre_active, n_active, post2_table, last_post, t,
                                     rec.nu_post, rec.w_max, recent, is_recent, n_recent, row_over)


@implements(on_post, StdpRecord)
def _stdp_on_post(rec, t, w, spikes, n_spikes, row_over, last_pre, last_post, recent, is_recent, n_recent, pre_now,
                  post1_now, pre_table, post1_table, post2_table, last_arrival, activity, rate, significance,
                  updates, pre_active):
    _stdp_potentiation(rec, t, w, spikes, n_spikes, row_over, last_pre, last_post, recent, is_recent, n_recent,
                       pre_now, pre_table, post2_table, updates, pre_active)


def _no_significance(rec, n_input, n_neurons):
    return np.empty((0, 0), np.float64)


def _nothing_after(rec, w, theta, counts, activity, rate, significance, updates, sync):
    pass


def without_adaptation(record_type: type) -> type:
    """Register the hooks of a rule that adapts nothing but the weights (no significance, nothing
    after a presentation) for ``record_type``; returns it, so it can decorate the record class."""
    implements(synapse_significance, record_type)(_no_significance)
    implements(after_presentation, record_type)(_nothing_after)
    return record_type


without_adaptation(StdpRecord)


def with_diehl_cook_pathways(record_type: type) -> type:
    """Register Diehl & Cook's pathways (``on_pre``, ``transmit``, ``on_post``, no per-synapse history)
    for ``record_type``, a record with ``nu_pre``, ``nu_post`` and ``w_max``: a rule that learns as Diehl
    & Cook and adds a step of its own after each presentation. Returns it (a class decorator)."""
    implements(on_pre, record_type)(_stdp_on_pre)
    implements(transmit, record_type)(_stdp_transmit)
    implements(on_post, record_type)(_stdp_on_post)
    implements(synapse_history, record_type)(_stdp_synapse_history)
    return record_type


class DiehlCookStdp:
    """Part: trace-based STDP of Diehl & Cook (2015); ``config.stdp``."""

    kind = "plasticity"
    name = "stdp"

    def footprint_entries(self, config) -> dict[str, int]:
        """Entries the rule stores (:mod:`spikedyn.cost.footprint`): the input traces, its own state, delays."""
        return {"pre_traces": config.n_input, "rule_state": 0, "delays": 0}

    def operation_profile(self, config) -> dict[str, Any]:
        """How the rule's work is counted (:mod:`spikedyn.cost.operations`): ``depression`` is
        ``"event-driven"`` (each input spike depresses its row, visiting only the recent
        neurons' synapses), ``"delayed"`` (at each synapse's arrival) or ``"none"``;
        ``scans_weights``: whether every weight is read after each training presentation
        (decay, leak); ``significance_per_spike``: per-synapse state entries updated per
        excitatory spike; ``per_synapse_traces``: whether the presynaptic trace is kept per
        synapse (delays) rather than per input; ``neuron_state_updates``: per-neuron entries the rule
        updates after each training presentation (a running average of the thresholds, a spike
        count, a learning-rate factor, a threshold's hold, a fatigue), each a read-modify-write of one
        entry, priced as a threshold update (:func:`spikedyn.cost.operations.derive`);
        ``inference_gains``: whether each neuron's input is multiplied by a gain of its own at every
        inference step (:meth:`test_weights` differs from the weights), likewise priced;
        ``drive_accumulates``: whether, while learning, each delivered weight is also added to a
        per-neuron drive and the neurons' drives are compared every step (a second synaptic event
        and weight read per delivered weight, a per-neuron entry compared per step);
        ``averages_weights``: whether the rule reads up to every weight after each training
        presentation without writing them all (an average over neurons; priced as a scan's reads).
        With ``stdp.nu_pre = 0`` the rule depresses nothing."""
        return {"depression": "event-driven" if config.stdp.nu_pre > 0 else "none", "scans_weights": False,
                "significance_per_spike": 0, "per_synapse_traces": False, "neuron_state_updates": 0,
                "inference_gains": False, "drive_accumulates": False, "averages_weights": False}

    def record(self, config) -> StdpRecord:
        s = config.stdp
        return StdpRecord(nu_pre=float(s.nu_pre), nu_post=float(s.nu_post), w_max=float(s.w_max))

    def test_thresholds(self, config, theta: np.ndarray, traces) -> np.ndarray:
        """The thresholds the network answers with when learning is off, from its thresholds and the
        rule's state (:class:`~spikedyn.core.traces.Traces`): ``theta`` itself, for this rule."""
        return theta

    def brian2_test_thresholds(self, config, theta_v: np.ndarray, rule_state) -> np.ndarray:
        """The Brian2 twin's thresholds of inference (volts) from its rule state: ``theta_v`` itself."""
        return theta_v

    def test_weights(self, config, w: np.ndarray, traces) -> np.ndarray:
        """The weights the network answers with when learning is off, from its weights and the rule's
        state: ``w`` itself, for this rule."""
        return w

    def brian2_test_weights(self, config, w: np.ndarray, rule_state) -> np.ndarray:
        """The Brian2 twin's weights of inference from its rule state: ``w`` itself."""
        return w

    # -- Brian2 twin: per-synapse event-driven traces, as in the Brian2 example ------------
    def brian2_namespace(self, config) -> dict[str, Any]:
        from brian2 import ms

        s = config.stdp
        return {"tau_pre": s.tau_pre_ms * ms, "tau_post1": s.tau_post1_ms * ms, "tau_post2": s.tau_post2_ms * ms,
                "nu_pre": s.nu_pre, "nu_post": s.nu_post, "w_max": s.w_max}

    #: Per-synapse variables carried from one standalone run to the next (besides ``w``
    #: and ``lastupdate``).
    BRIAN2_TRACES = ("pre", "post1", "post2")
    BRIAN2_MODEL = """
w : 1
post2before : 1
dpre/dt = -pre / tau_pre : 1 (event-driven)
dpost1/dt = -post1 / tau_post1 : 1 (event-driven)
dpost2/dt = -post2 / tau_post2 : 1 (event-driven)
"""
    BRIAN2_ON_PRE = """
ge_post += w
pre = 1.
w = clip(w - nu_pre * post1, 0, w_max)
"""
    BRIAN2_ON_POST = """
post2before = post2
w = clip(w + nu_post * pre * post2before, 0, w_max)
post1 = 1.
post2 = 1.
"""

    def brian2_synapses(self) -> dict[str, Any]:
        """Brian2 ``Synapses`` arguments of the learning network, and the traces to carry."""
        return {"model": self.BRIAN2_MODEL, "on_pre": self.BRIAN2_ON_PRE, "on_post": self.BRIAN2_ON_POST,
                "traces": self.BRIAN2_TRACES}


class NormaliseRecord(NamedTuple):
    """Kernel record of :class:`Normalisation`."""

    weight_sum: float
    w_max: float


@implements(before_presentation, NormaliseRecord)
def _normalise_before(rec, w, col_sum, row_over, col_next, col_dirty, known):
    _normalize_columns(w, rec.weight_sum, col_sum, rec.w_max, row_over, col_next, col_dirty, known)


class Normalisation:
    """Part: each neuron's incoming weights rescaled to ``stdp.weight_sum`` before every
    training presentation (Diehl & Cook 2015)."""

    kind = "between"
    name = "normalise"

    def record(self, config) -> NormaliseRecord:
        return NormaliseRecord(weight_sum=float(config.stdp.weight_sum), w_max=float(config.stdp.w_max))

    def brian2_before_presentation(self, config, w: np.ndarray) -> None:
        """The Brian2 twin's step, from Python on the (n_input, N) matrix (in place)."""
        normalize_columns_numpy(w, config.stdp.weight_sum)


def normalize_columns_numpy(w: np.ndarray, target: float) -> None:
    """Rescale each column of ``w`` (float64, (n_input, N), C order) in place to sum to ``target``.

    The Brian2 example's normalisation, written with NumPy: the column sums of a
    C-ordered matrix are accumulated row by row (pixel 0 first), the factor is
    ``target / sum`` (1 for an all-zero column) and each weight is multiplied by it.
    Bit-identical to :func:`_normalize_columns`.
    """
    col_sum = w.sum(axis=0)
    factor = np.ones_like(col_sum)
    np.divide(target, col_sum, out=factor, where=col_sum > 0.0)
    w *= factor


# -- public, validating wrappers ----------------------------------------------------------------
def _finite(name: str, value, *, positive: bool = False, non_negative: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value) or (positive and not value > 0) or (non_negative and not value >= 0):
        bound = " > 0" if positive else " >= 0" if non_negative else ""
        raise ConfigError(f"{name} must be finite{bound}, got {value!r}")
    return value


def _index(name: str, value, size: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{name} must be an integer {what} index, got {value!r} ({type(value).__name__})")
    if not 0 <= int(value) < size:
        raise ConfigError(f"{name}={value} is out of range; the weights have {size} {what}s (0..{size - 1})")
    return int(value)


def _weights(w) -> np.ndarray:
    w = np.array(w, dtype=np.float64, copy=True, order="C")
    if w.ndim != 2:
        raise ConfigError(f"w must be 2-D (n_input, n_neurons), got shape {w.shape}")
    return w


def _vector(name: str, values, size: int) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (size,):
        raise ConfigError(f"{name} must have shape ({size},), got {values.shape}")
    return values


def normalize_weights(w: np.ndarray, target: float) -> np.ndarray:
    """Return a copy of ``w`` whose columns each sum to ``target``.

    Parameters
    ----------
    w : float64 array, shape (n_input, n_neurons)
    target : float
        Desired sum of each neuron's incoming weights (78 in Diehl & Cook).
    """
    w = _weights(w)
    target = _finite("target", target, positive=True)
    n_in, n_out = w.shape
    _normalize_columns(w, target, np.empty(n_out), np.inf, np.empty(n_in, np.bool_), np.empty(n_out),
                       np.empty(n_out, np.bool_), False)
    return w


def stdp_pre(w: np.ndarray, i: int, post1: np.ndarray, nu_pre: float, w_max: float) -> np.ndarray:
    """Return a copy of ``w`` after a presynaptic spike of input ``i``.

    Parameters
    ----------
    w : float64 array, shape (n_input, n_neurons)
    i : int
        The input that fired, ``0 <= i < n_input``.
    post1 : float64 array, shape (n_neurons,)
        Postsynaptic traces at the time of the spike.
    nu_pre, w_max : float
        Depression rate (>= 0) and weight bound (> 0).
    """
    w = _weights(w)
    i = _index("i", i, w.shape[0], "input")
    post1 = _vector("post1", post1, w.shape[1])
    _depress_row(w[i], post1, _finite("nu_pre", nu_pre, non_negative=True), _finite("w_max", w_max, positive=True))
    return w


def stdp_post(w: np.ndarray, j: int, pre: np.ndarray, post2: float, nu_post: float, w_max: float) -> np.ndarray:
    """Return a copy of ``w`` after a postsynaptic spike of neuron ``j``.

    Parameters
    ----------
    w : float64 array, shape (n_input, n_neurons)
    j : int
        The neuron that fired, ``0 <= j < n_neurons``.
    pre : float64 array, shape (n_input,)
        Presynaptic traces at the time of the spike.
    post2 : float
        Neuron j's slow trace just before the spike.
    nu_post, w_max : float
        Potentiation rate (>= 0) and weight bound (> 0).
    """
    w = _weights(w)
    j = _index("j", j, w.shape[1], "neuron")
    pre = _vector("pre", pre, w.shape[0])
    _potentiate_column(w, j, pre, _finite("nu_post", nu_post, non_negative=True), _finite("post2", post2),
                       _finite("w_max", w_max, positive=True))
    return w
