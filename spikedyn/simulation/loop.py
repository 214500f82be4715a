"""The one time loop: Poisson inputs -> excitatory LIF layer, with the parts of its model.

A model (:mod:`spikedyn.models`) is a composition of parts: the competition between
excitatory neurons (:mod:`spikedyn.models.competition`), the plasticity of the
input->excitatory weights and what happens to them between presentations
(:mod:`spikedyn.models.stdp` and its variants), and the adaptive threshold
(:mod:`spikedyn.models.threshold`). This module has the one time loop, :func:`_run_steps`,
that runs any of them: it calls each part's kernel hooks with the part's kernel record,
and Numba compiles one specialised loop per composition (:mod:`spikedyn.core.parts`); inference,
which runs only the competition, the transmission and the weight storage, runs the loop of a
stand-in for the parts it never calls (:func:`spikedyn.simulation.state.inference_params`), so
models that differ only in what they learn share one compiled inference loop.

Order of operations in one step, as in Brian2's default schedule
(groups -> thresholds -> synapses -> resets):

1. integrate the excitatory neurons (:mod:`spikedyn.core.neurons`; while learning, with
   the threshold rule) and find those above threshold;
2. input spikes of this step add their weights to ``ge`` and, when learning, the
   plasticity's ``on_pre`` runs; then its ``on_post`` for the excitatory spikes;
   then the competition: its own population (if any) is advanced, receives the
   excitatory spikes and inhibits the excitatory neurons (``compete``);
3. reset the excitatory neurons that fired (and, when learning, the threshold
   rule's reaction to the spikes).

With weights stored below float64 (``config.precision``, :mod:`spikedyn.core.quantise`),
the rows of the step's input spikes are rounded after the presynaptic pathway and the
columns of the neurons that fired after the postsynaptic one. The operation counters
(:mod:`spikedyn.cost.operations`) are kept in local variables of the loop and stored once
per call. The state and the kernel arguments are :mod:`spikedyn.simulation.state`'s;
:class:`spikedyn.simulation.network.Network` calls the batch kernels at the end of this module.

Training presents each example for ``present_ms`` and lets the network rest with no
input for ``rest_ms``, with state carried over from example to example, as in the
reference implementations. Before every presentation the ``between`` part runs
(Diehl & Cook: weight normalisation). When the excitatory layer fires fewer than
``min_spikes`` times, the example is shown again at a higher rate (Diehl & Cook):
:func:`_present` is the one implementation of this present-and-retry protocol.

Inference (learning off) presents each example to the network at rest (``v =
v_rest``, conductances 0, no neuron refractory), with thresholds frozen, so each
response depends only on the example and its seed: samples are independent, run in
parallel, and give the same result in any order or thread count.
"""

from __future__ import annotations

import numba
import numpy as np

from ..core.barrier import _aborted, _arrive, _share_rows, _sum_over_threads, _wait
from ..core.encoding import STREAM_TRAIN, _image_gain, _poisson_events, _presentation_seed
from ..core.neurons import (_lif_integrate_frozen, _lif_integrate_frozen_quiet, _lif_spikes, _newest_spike, _quiet,
                            _reset)
from ..core.quantise import SITE_AFTER, SITE_BEFORE, SITE_COLUMNS, SITE_ROWS, round_all, round_columns, round_rows
from ..core.traces import after_presentation, before_presentation, on_post, on_pre, transmit
from ..cost.operations import (C_COMPETITION_SPIKES, C_COMPETITION_UPDATES, C_DEPRESSION_VISITS, C_EXC_SPIKES,
                               C_INPUT_SPIKES, C_PRESENTATIONS, C_SAMPLES, C_STEPS)
from ..models.competition import compete, inhibit
from ..models.threshold import threshold_integrate, threshold_on_spikes
from .state import _new_buffers, _new_state, _record_state, _rest_state


@numba.njit(cache=True)
def _run_steps(kp, st, buf, w, theta, n_steps, with_input, learn, counts, rec, ops, sync):
    """Simulate ``n_steps`` steps from ``st.clock[0]``; update state, ``w`` and ``theta`` in place.

    With ``with_input``, step ``s`` delivers the input events
    ``buf.pixels[buf.step_ptr[s]:buf.step_ptr[s + 1]]`` and excitatory spikes are
    added to ``counts`` (int32, (N,)). With ``learn``, plasticity and threshold
    adaptation are on. ``rec`` (:class:`Recorder`) receives the spikes (and, if it
    has room for them, the membrane potentials and thresholds). ``ops`` (int64,
    (len(COUNTERS),)) receives the operation counters of :mod:`spikedyn.cost.operations`,
    taken once per step from quantities the loop already has, in local variables
    stored once at the end; ``ops=None`` counts nothing, and Numba then compiles a
    loop without the counting code (each ``if ops is not None`` is pruned at compile
    time): counting off is free. (With a zero-length array and a run-time test
    instead, training was 10-20 % slower with the counters off, measured.)
    """
    # Every array is taken out of its tuple once, here, and the hooks get plain
    # arrays: reading ``st.exc.v`` inside the loop, or passing a tuple of arrays to a
    # function, costs atomic reference-count updates each time (all reference
    # counting together was ~10% of the training time, measured with perf).
    exc, comp, plast, thr, qz = kp.exc, kp.competition, kp.plasticity, kp.threshold, kp.quantise
    v, ge, gi, last_spike = st.exc
    cv, cge, cgi, clast, cactive, cis_active, cn_active, cspikes = st.competition
    (last_pre, last_post, recent, is_recent, n_recent, pre_now, post1_now, pre_tab, post1_tab, post2_tab,
     last_arrival, activity, rate, significance, updates, pre_active) = st.plasticity
    step_ptr, pixels, spikes, row_over, input_t0 = buf.step_ptr, buf.pixels, buf.spikes, buf.row_over, buf.input_t0
    rec_step, rec_neuron, rec_n, rec_v, rec_threshold, rec_n_steps = (
        rec.spike_step, rec.spike_neuron, rec.n_spikes, rec.v, rec.threshold, rec.n_steps)
    if sync is not None:
        base, n_threads, thread, rnd = sync.address, sync.n_threads, sync.thread, sync.round[0]
    n_rec = rec_n[0]
    spike_capacity = rec_step.shape[0]
    step_capacity = rec_v.shape[0]
    t0 = st.clock[0]
    if with_input:
        input_t0[0] = t0
    post1_now[:] = 0.0  # only the recent neurons' entries are ever refreshed
    # A step is quiet when no excitatory neuron is refractory or locked out (neurons._quiet): the
    # integration then skips those tests (the same bits).
    newest = _newest_spike(last_spike)
    n_input_spikes = n_exc_spikes = n_comp_spikes = n_comp_updates = n_visits = 0
    any_row_over = False  # row_over changes only between presentations
    if ops is not None and learn:
        for i in range(row_over.shape[0]):
            if row_over[i]:
                any_row_over = True
                break
    for s in range(n_steps):
        t = t0 + s
        # groups + thresholds
        quiet = _quiet(exc, t, newest)
        if learn:
            n_e = threshold_integrate(thr, exc, v, ge, gi, theta, last_spike, t, quiet)
        elif quiet:
            n_e = _lif_integrate_frozen_quiet(exc, v, ge, gi, theta)
        else:
            n_e = _lif_integrate_frozen(exc, v, ge, gi, theta, last_spike, t)
        if n_e > 0:
            n_e = _lif_spikes(exc, v, theta, last_spike, t, spikes)
        if step_capacity > 0 and rec_n_steps[0] < step_capacity:
            _record_state(v, theta, exc.v_thresh, rec_v, rec_threshold, rec_n_steps[0])
            rec_n_steps[0] += 1
        # synapses: the competition's first phase (its own population, and the step's sources of inhibition)
        n_comp_active = cn_active[0]  # the neurons it updates in this step
        n_src = compete(comp, t, spikes, n_e, cv, cge, cgi, clast, cactive, cis_active, cn_active, cspikes)
        if sync is not None:
            _arrive(base, rnd, n_src)
        # synapses: input -> excitatory, presynaptic pathway (transmission, and plasticity when learning)
        lo = step_ptr[s] if with_input else 0
        hi = step_ptr[s + 1] if with_input else 0
        if learn:
            on_pre(plast, t, True, w, ge, pixels, lo, hi, step_ptr, input_t0, row_over, last_pre, last_post, recent,
                   is_recent, n_recent, pre_now, post1_now, pre_tab, post1_tab, post2_tab, last_arrival, activity,
                   rate, significance, updates, pre_active)
            round_rows(qz, w, pixels, lo, hi, t, SITE_ROWS)
        else:
            transmit(plast, t, w, ge, pixels, lo, hi, step_ptr, input_t0)
        # synapses: input -> excitatory, postsynaptic pathway
        if learn and n_e > 0:
            on_post(plast, t, w, spikes, n_e, row_over, last_pre, last_post, recent, is_recent, n_recent, pre_now,
                    post1_now, pre_tab, post1_tab, post2_tab, last_arrival, activity, rate, significance, updates,
                    pre_active)
            round_columns(qz, w, spikes, n_e, t, SITE_COLUMNS)
        if ops is not None:
            n_input_spikes += hi - lo
            n_exc_spikes += n_e
            n_comp_updates += n_comp_active
            if cv.shape[0] > 0:  # a competition with neurons of its own inhibits through their spikes
                n_comp_spikes += n_src
            if learn:
                if any_row_over:  # rare: the normalisation left a weight above w_max
                    n_visits += _depression_visits(pixels, lo, hi, row_over, n_recent[0], w.shape[1])
                else:
                    n_visits += (hi - lo) * n_recent[0]
        # resets
        _reset(exc, v, last_spike, t, spikes, n_e)
        if n_e > 0:
            newest = t
        if learn:
            threshold_on_spikes(thr, theta, spikes, n_e)
        if with_input:
            for k in range(n_e):
                counts[spikes[k]] += 1
        for k in range(n_e):
            if n_rec < spike_capacity:
                rec_step[n_rec] = t
                rec_neuron[n_rec] = spikes[k]
            n_rec += 1
        # synapses: the competition's second phase, the inhibition (of every thread's sources)
        if sync is not None:
            n_total = _wait(base, rnd, n_threads, thread)
            rnd += 1
        else:
            n_total = n_src
        inhibit(comp, t, gi, spikes, n_e, n_src, n_total, cv, cge, cgi, clast, cactive, cis_active, cn_active,
                cspikes)
    rec_n[0] = n_rec
    st.clock[0] = t0 + n_steps
    if sync is not None:
        sync.round[0] = rnd
    if ops is not None:
        ops[C_STEPS] += n_steps
        ops[C_INPUT_SPIKES] += n_input_spikes
        ops[C_EXC_SPIKES] += n_exc_spikes
        ops[C_COMPETITION_SPIKES] += n_comp_spikes
        ops[C_COMPETITION_UPDATES] += n_comp_updates
        ops[C_DEPRESSION_VISITS] += n_visits


@numba.njit(cache=True, inline="always")
def _depression_visits(pixels, lo, hi, row_over, n_recent, n_neurons):
    """Synapses the event-driven depression visits for the input spikes ``pixels[lo:hi]``: the
    recent neurons' (``n_recent``), or the whole row where the normalisation left a weight
    above ``w_max`` (see :func:`spikedyn.models.stdp._depress_inputs`). One read per spike.

    Inlined: a call to it inside the time loop, even one never taken (no row over ``w_max``),
    made training with the counters on 15-22 % slower at N = 400 (measured side by side)."""
    visits = 0
    for e in range(lo, hi):
        visits += n_neurons if row_over[pixels[e]] else n_recent
    return visits


@numba.njit(cache=True)
def _flag_written_columns(st, buf):
    """Flag in ``buf.col_dirty`` the columns the rules may have written to since the last
    normalisation: those of the neurons that fired since (the neurons recent then were flagged
    by :func:`_flag_recent_columns`). A rule that writes only on spikes changes only the columns
    of the neurons recent or firing (see :mod:`spikedyn.models.stdp`)."""
    last_spike, dirty, since = st.exc.last_spike, buf.col_dirty, buf.normalised_at[0]
    for j in range(last_spike.shape[0]):
        if last_spike[j] >= since:
            dirty[j] = True


@numba.njit(cache=True)
def _flag_recent_columns(st, buf):
    """After a normalisation: flag the columns of the neurons now in the recent list (their
    ``post1`` trace is not zero, so the depression may change their column before they fire
    again), note the step, and mark the sums the normalisation left as known."""
    tr = st.plasticity
    for k in range(tr.n_recent[0]):
        buf.col_dirty[tr.recent[k]] = True
    buf.normalised_at[0] = st.clock[0]
    buf.sums_known[0] = True


@numba.njit(cache=True)
def _variable(flag):
    """``flag`` as a run-time boolean. Numba types a literal ``True`` or ``False`` passed to a
    compiled function as a constant and compiles the callee once for each; passed through this,
    the presentation and the rest after it share one compiled time loop (:func:`_run_steps`, the
    largest compilation of a model) instead of two. (Returning ``flag`` itself would keep its
    literal type; a comparison's result is a plain boolean.)"""
    return flag == True  # noqa: E712


@numba.njit(cache=True)
def _present(kp, st, buf, w, theta, image, seed, stream, index, learn, counts, rec, ops, sync):
    """Present one image until it drives ``min_spikes`` spikes (or attempts run out).

    The present-and-retry protocol of Diehl & Cook, written once for spikedyn.
    Learning: the ``between`` part (normalisation) runs before each presentation, a
    rest period with no input follows it, and then the plasticity's
    ``after_presentation`` step (rules that adapt between presentations). Inference: each presentation starts from
    the rest state. ``counts`` (int32, (N,)) receives the spike counts of the last
    presentation; ``rec.attempt_ends[a]`` the number of spikes recorded when
    presentation ``a`` ended; ``ops`` the operation counters (see :func:`_run_steps`).
    With ``sync`` (one block of a network on several threads), the rows the
    normalisation flags and the presentation's spike count are those of every block.
    Returns the number of presentations.
    """
    attempt = 0
    gain = _image_gain(image, kp.normalise_mean_pixel, kp.max_gain)
    while True:
        if learn:
            if buf.sums_known[0]:
                _flag_written_columns(st, buf)
            before_presentation(kp.between, w, buf.col_sum, buf.row_over, buf.col_next, buf.col_dirty,
                                 buf.sums_known[0])
            if kp.known_sums:
                _flag_recent_columns(st, buf)
            if sync is not None:
                _share_rows(sync, buf.row_over)
            round_all(kp.quantise, w, st.clock[0], SITE_BEFORE)
        else:
            _rest_state(kp, st)
        rate = gain * kp.rate_hz_per_unit + attempt * kp.retry_rate_hz_per_unit
        sd = _presentation_seed(np.uint64(seed), np.uint64(stream), np.uint64(index), np.uint64(attempt))
        _poisson_events(image, rate, kp.dt_ms, kp.present_steps, sd,
                        buf.step_ptr, buf.pixels, buf.scratch_steps, buf.scratch_pixels)
        counts[:] = 0
        _run_steps(kp, st, buf, w, theta, kp.present_steps, _variable(True), learn, counts, rec, ops, sync)
        if learn:
            _run_steps(kp, st, buf, w, theta, kp.rest_steps, _variable(False), learn, counts, rec, ops, sync)
            tr = st.plasticity
            after_presentation(kp.plasticity, w, theta, counts, tr.activity, tr.rate, tr.significance, tr.updates, sync)
            round_all(kp.quantise, w, st.clock[0], SITE_AFTER)
        if attempt < rec.attempt_ends.shape[0]:
            rec.attempt_ends[attempt] = rec.n_spikes[0]
        attempt += 1
        if ops is not None:
            ops[C_PRESENTATIONS] += 1
        n_spikes = counts.sum()
        if sync is not None:
            n_spikes = _sum_over_threads(sync, n_spikes)
        if n_spikes >= kp.min_spikes or attempt >= kp.max_presentations:
            return attempt


@numba.njit(cache=True)
def _first_nonfinite(a):
    """Index of the first non-finite entry of ``a``, or -1."""
    for i in range(a.shape[0]):
        if not np.isfinite(a[i]):
            return i
    return -1


@numba.njit(cache=True)
def _state_finite(exc, theta):
    """Whether the excitatory neurons' state and thresholds are finite (checked once per sample)."""
    return (_first_nonfinite(exc.v) < 0 and _first_nonfinite(exc.ge) < 0 and _first_nonfinite(exc.gi) < 0
            and _first_nonfinite(theta) < 0)


@numba.njit(cache=True, inline="always")
def _present_batch(kp, st, buf, w, theta, images, seed, stream, first_index, learn, counts_out, attempts_out, ops,
                   stop, bad, sync, rec):
    """Present ``images`` (uint8, (K, n_input)) one after the other through :func:`_present`:
    sample k uses index ``first_index + k`` of ``stream``; its spike counts go to
    ``counts_out[k]`` and its number of presentations to ``attempts_out[k]``.

    Before each sample reads ``stop[0]`` (:data:`spikedyn.io.interrupt.STOP`) and returns if
    it is set; after each sample checks that the neurons' state and thresholds are
    finite, and if not sets ``bad[0] = k`` and returns. With ``sync`` both decisions are
    the threads': thread 0's reading of ``stop`` (or an aborted barrier) and every
    block's check. ``rec`` (:class:`~spikedyn.simulation.state.Recorder`) receives what
    :func:`_present` records: a recorder of length 0 (``_recorder(0, 0, 0, 0)``) records
    nothing; a recorded run passes one sample at a time with a recorder of its size, so that it
    runs this very compiled loop. Returns the samples done.

    Inlined into :func:`_train_batch` and :func:`_infer_batch`: Numba links and optimises a
    callee's code again in every compiled caller, so each level of compiled calls above the time
    loop costs a good part of the loop's own optimisation (``docs/speed.md``). (:func:`_present`
    inlined too, one level fewer, made training at 400 neurons 6-12 % slower, two pairs side by
    side: it stays a call.)
    """
    buf.sums_known[0] = False  # the weights may have been changed since the last batch
    done = 0
    for k in range(images.shape[0]):
        stopped = stop[0] != 0
        if sync is not None:
            mine = 1 if stopped and sync.thread == 0 else 0
            stopped = _sum_over_threads(sync, mine) > 0 or _aborted(sync.address)
        if stopped:
            break
        attempts_out[k] = _present(kp, st, buf, w, theta, images[k], seed, stream, first_index + k, learn,
                                   counts_out[k], rec, ops, sync)
        done = k + 1
        finite = _state_finite(st.exc, theta)
        if sync is not None:
            finite = _sum_over_threads(sync, 0 if finite else 1) == 0
        if not finite:
            bad[0] = k
            break
    if ops is not None:
        ops[C_SAMPLES] += done
    return done


@numba.njit(cache=True, nogil=True)
def _train_batch(kp, st, buf, w, theta, images, seed, first_index, counts_out, attempts_out, ops, stop, bad, sync,
                 rec):
    """Train on ``images`` (uint8, (K, n_input)) in order; weights, thresholds and state in place.

    Sample k uses training-stream index ``first_index + k``. Writes each sample's
    final spike counts to ``counts_out`` (int32, (K, N)) and its number of
    presentations to ``attempts_out`` (int32, (K,)); adds to the operation counters ``ops``.
    Stops early on ``stop`` or a non-finite state (:func:`_present_batch`); returns the
    samples done. ``sync``: None, or this thread's :class:`~spikedyn.core.barrier.Sync`
    when the network is one block of a network on several threads (then ``w``,
    ``theta``, the state and the counts are the block's). ``rec``: the recorder
    (:func:`_present_batch`; of length 0 unless the run is recorded).
    """
    return _present_batch(kp, st, buf, w, theta, images, seed, STREAM_TRAIN, first_index, True, counts_out,
                          attempts_out, ops, stop, bad, sync, rec)


@numba.njit(cache=True, nogil=True)
def _infer_batch(kp, w, theta, images, seed, stream, first_index, counts_out, attempts_out, ops, stop, bad, rec):
    """Responses of the frozen network to ``images`` (uint8, (K, n_input)).

    Each sample starts from rest, so the result depends only on the sample and its
    stream index: batches can run on several threads at once (the GIL is released).
    Writes spike counts to ``counts_out`` (int32, (K, N)) and each sample's number of
    presentations to ``attempts_out`` (int32, (K,)); adds to the operation counters ``ops``
    (one array per thread). Stops early on ``stop`` or a non-finite
    state (:func:`_present_batch`); returns the samples done. ``rec``: the recorder
    (:func:`_present_batch`; of length 0 unless the run is recorded).
    """
    n_input, n_neurons = w.shape
    return _present_batch(kp, _new_state(kp, n_input, n_neurons), _new_buffers(kp, n_input, n_neurons), w, theta,
                          images, seed, stream, first_index, False, counts_out, attempts_out, ops, stop, bad, None,
                          rec)

