"""Read a NIR graph and run it on images: the reference simulator of spikedyn's NIR export.

It integrates the graph's continuous-time primitives with forward Euler at ``dt`` (the
run's step, from the graph's metadata), with spikedyn's order of operations within a
step (as Brian2's schedule): every neuron is advanced from its state at the start of the
step, the neurons above threshold fire and are reset, and the spikes of the step (input
and neurons) are delivered through the edges. (spikedyn resets after the delivery; for a
``CubaLIF`` the order does not matter, the delivery changes ``I`` and the reset ``v``; for
a ``LIF`` it keeps a spike that arrives in the firing step.) For a ``CubaLIF``::

    v' = v + dt/tau_mem ((v_leak - v) + r I)
    I' = I - dt/tau_syn I + (w_in/tau_syn) sum_spikes W        (a spike is a unit Dirac delta)
    spike if v' > v_threshold;  then v' = v_reset

and for a ``LIF`` (no synaptic current) an arriving spike moves ``v`` by ``r W / tau``.
An ``Affine`` bias is a constant input: ``I`` relaxes towards ``w_in b`` (``CubaLIF``),
``v`` towards ``v_leak + r b`` (``LIF``).

Supported graphs: one ``Input``, ``CubaLIF``/``LIF`` populations, and between a source
(the input or a population) and a target population any chain of ``Delay`` (on the
input's edges, before any weight), ``Linear``, ``Affine`` and ``Scale``; the populations
that feed an ``Output`` are the response. Anything else is a ConfigError naming it.

The input of image k is exactly spikedyn's inference input: the Poisson raster of
:func:`spikedyn.core.encoding._poisson_events` with the seed of ``(seed, stream, index, attempt)``,
and the present-and-retry protocol of the graph's metadata. So the graph and
``Network.respond`` see the very same input spikes.

``refractory=True`` is **not NIR**: it honours the refractory periods and lock-outs that
the export records in the nodes' metadata, to measure what leaving them out costs.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import numba
import numpy as np

from ..core.encoding import STREAM_TEST, _image_gain, _poisson_events, _presentation_seed, centre_surround
from ..errors import ConfigError
from ..core.neurons import NEVER
from ..core.params import InputParams

#: NIR node types the simulator runs, by role.
NEURONS = ("CubaLIF", "LIF")
TRANSFERS = ("Linear", "Affine", "Scale", "Delay")


class Program(NamedTuple):
    """A NIR graph compiled for the kernels (one flat population of M neurons).

    Per neuron (float64 or int64, (M,)): ``is_cuba`` (bool), ``syn_rate`` (``dt/tau_syn``),
    ``mem_rate`` (``dt/tau_mem``), ``r``, ``v_leak``, ``v_threshold``, ``v_reset``,
    ``bias_step`` (the constant input's increment per step), ``refractory_steps`` and
    ``gate_steps`` (0 unless ``refractory=True``). Per projection q (P,): ``proj_input``
    (bool: from the input, else from neurons ``proj_src[q]`` to ``proj_src[q] + proj_n_src[q] - 1``),
    ``proj_src``, ``proj_n_src``, ``proj_delay`` (steps), ``proj_col`` (offset of its first column
    pointer in ``ptr``);
    source column i of q reaches targets ``idx[ptr[c]:ptr[c + 1]]`` with increments
    ``inc`` (weight times the target's gain), ``c = proj_col[q] + i``.
    """

    is_cuba: np.ndarray
    syn_rate: np.ndarray
    mem_rate: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray
    bias_step: np.ndarray
    refractory_steps: np.ndarray
    gate_steps: np.ndarray
    proj_input: np.ndarray
    proj_src: np.ndarray
    proj_delay: np.ndarray
    proj_col: np.ndarray
    proj_n_src: np.ndarray
    ptr: np.ndarray
    idx: np.ndarray
    inc: np.ndarray
    out_lo: int
    out_hi: int


class Compiled(NamedTuple):
    """:class:`Program` and what the Python side needs around it."""

    program: Program
    n_input: int
    dt_s: float
    populations: dict  # name -> (first neuron, number)
    output: str


# -- reading -----------------------------------------------------------------------------------
def read_graph(path: str | os.PathLike[str]):
    """``nir.read(path)``, with a one-line ConfigError for a missing or unreadable file."""
    from . import require_nir

    nir = require_nir()
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path} does not exist; pass a .nir file written by 'spikedyn export'")
    try:
        return nir.read(path)
    except Exception as exc:  # h5py raises OSError, nir asserts and KeyErrors: all mean "not a NIR file"
        raise ConfigError(f"{path} is not a readable NIR file ({type(exc).__name__}: {exc}); export it again") \
            from None


def _meta_float(meta: dict, key: str) -> float | None:
    value = meta.get(key)
    return None if value is None else float(np.asarray(value))


def compile_graph(graph, *, dt_s: float | None = None, refractory: bool = False) -> Compiled:
    """Compile a ``nir.NIRGraph`` into a :class:`Program` at time step ``dt_s`` (default: metadata ``dt_s``)."""
    meta = dict(getattr(graph, "metadata", None) or {})
    if dt_s is None:
        dt_s = _meta_float(meta, "dt_s")
        if dt_s is None:
            raise ConfigError("the graph's metadata has no dt_s; pass the time step (dt_s=...)")
    if not (isinstance(dt_s, (int, float)) and math.isfinite(dt_s) and dt_s > 0):
        raise ConfigError(f"dt_s must be a positive number of seconds, got {dt_s!r}")
    nodes = graph.nodes
    kinds = {name: type(node).__name__ for name, node in nodes.items()}
    for name, kind in kinds.items():
        if kind not in NEURONS + TRANSFERS + ("Input", "Output"):
            raise ConfigError(f"node {name!r} is a {kind}, which the simulator does not run; supported: "
                              f"Input, Output, {', '.join(NEURONS + TRANSFERS)}")
    inputs = [name for name, kind in kinds.items() if kind == "Input"]
    if len(inputs) != 1:
        raise ConfigError(f"the graph has {len(inputs)} Input nodes; the simulator runs graphs with exactly one")
    n_input = int(np.prod(np.asarray(nodes[inputs[0]].input_type["input"])))

    populations, neurons = _populations(nodes, kinds, dt_s, refractory)
    projections, bias, output = _walk(graph, kinds, inputs[0], populations, n_input, dt_s)
    is_cuba = neurons.pop("is_cuba")
    gain, w_in = neurons.pop("gain"), neurons.pop("w_in")
    # constant inputs (Affine biases): CubaLIF's I relaxes towards w_in*b, LIF's v towards v_leak + r*b
    bias_step = np.where(is_cuba, neurons["syn_rate"] * w_in * bias, neurons["mem_rate"] * neurons["r"] * bias)
    out_lo, out_size = populations[output]
    program = Program(is_cuba=is_cuba, **neurons, bias_step=bias_step, **_connections(projections, populations, gain),
                      out_lo=int(out_lo), out_hi=int(out_lo + out_size))
    return Compiled(program, n_input, float(dt_s), populations, output)


def _populations(nodes, kinds, dt_s: float, refractory: bool) -> tuple[dict, dict]:
    """The CubaLIF and LIF nodes as one flat population: ``{name: (first neuron, size)}`` in the
    graph's node order, and the per-neuron arrays of :class:`Program` (plus ``gain``, what a
    spike of weight 1 adds to I or v, and ``w_in``)."""
    populations: dict[str, tuple[int, int]] = {}
    start = 0
    for name, kind in kinds.items():
        if kind in NEURONS:
            size = int(np.asarray(nodes[name].v_threshold).size)
            populations[name] = (start, size)
            start += size
    m = start
    if m == 0:
        raise ConfigError("the graph has no CubaLIF or LIF population to simulate")
    a = {key: np.zeros(m) for key in ("syn_rate", "mem_rate", "r", "v_leak", "v_threshold", "v_reset", "gain",
                                      "w_in")}
    a["is_cuba"] = np.zeros(m, np.bool_)
    a["refractory_steps"] = np.zeros(m, np.int64)
    a["gate_steps"] = np.zeros(m, np.int64)
    for name, (lo, size) in populations.items():
        node, sl, cuba = nodes[name], slice(lo, lo + size), kinds[name] == "CubaLIF"

        def flat(value, what):
            array = np.broadcast_to(np.asarray(value, dtype=np.float64).reshape(-1), (size,))
            if not np.all(np.isfinite(array)):
                raise ConfigError(f"node {name!r}: {what} has non-finite values")
            return array

        tau_mem = flat(node.tau_mem if cuba else node.tau, "tau")
        tau_syn = flat(node.tau_syn, "tau_syn") if cuba else None
        if np.any(tau_mem <= 0) or (cuba and np.any(tau_syn <= 0)):
            raise ConfigError(f"node {name!r}: time constants must be positive")
        if np.any(dt_s >= tau_mem) or (cuba and np.any(dt_s >= tau_syn)):
            raise ConfigError(f"node {name!r}: a time constant is not longer than dt_s={dt_s:g} s; "
                              "forward Euler needs dt below every time constant")
        a["mem_rate"][sl] = dt_s / tau_mem
        for key in ("r", "v_leak", "v_threshold", "v_reset"):
            a[key][sl] = flat(getattr(node, key), key)
        if cuba:
            a["is_cuba"][sl] = True
            a["syn_rate"][sl] = dt_s / tau_syn
            a["w_in"][sl] = flat(node.w_in, "w_in")
            a["gain"][sl] = a["w_in"][sl] / tau_syn
        else:
            a["gain"][sl] = a["r"][sl] / tau_mem
        if refractory:
            node_meta = getattr(node, "metadata", None) or {}
            refr = int(round((_meta_float(node_meta, "refractory_s") or 0.0) / dt_s))
            a["refractory_steps"][sl] = refr
            a["gate_steps"][sl] = max(refr, int(round((_meta_float(node_meta, "lockout_s") or 0.0) / dt_s)))
    return populations, a


def _connections(projections, populations, gain) -> dict:
    """The projections as the concatenated column-major sparse arrays of :class:`Program`."""
    from scipy.sparse import csc_matrix

    cols: dict[str, list] = {key: [] for key in ("proj_input", "proj_src", "proj_delay", "proj_col", "proj_n_src",
                                                 "ptr", "idx", "inc")}
    n_ptr = n_nz = 0
    for source, target, matrix, delay in projections:
        csc = csc_matrix(matrix)
        csc.sort_indices()
        targets = csc.indices.astype(np.int64) + populations[target][0]
        first = 0 if source is None else populations[source][0]
        for key, value in (("proj_input", source is None), ("proj_src", first), ("proj_delay", delay),
                           ("proj_col", n_ptr), ("proj_n_src", matrix.shape[1])):
            cols[key].append(value)
        cols["ptr"].append(csc.indptr.astype(np.int64)[:-1] + n_nz)
        cols["idx"].append(targets)
        cols["inc"].append(csc.data * gain[targets])
        n_ptr += matrix.shape[1]
        n_nz += csc.nnz
    out = {key: np.array(cols[key], np.bool_ if key == "proj_input" else np.int64)
           for key in ("proj_input", "proj_src", "proj_delay", "proj_col", "proj_n_src")}
    out["ptr"] = np.concatenate(cols["ptr"] + [np.array([n_nz], np.int64)])
    out["idx"] = np.concatenate(cols["idx"]) if cols["idx"] else np.zeros(0, np.int64)
    out["inc"] = np.concatenate(cols["inc"]) if cols["inc"] else np.zeros(0)
    return out


def _walk(graph, kinds, input_name, populations, n_input, dt_s):
    """Every projection of the graph as ``(source population or None for the input, target, matrix
    (n_target, n_source), delay in steps)``, the constant input per neuron, and the output population."""
    children: dict[str, list[str]] = {name: [] for name in graph.nodes}
    for edge in graph.edges:
        if len(edge) != 2 or edge[0] not in graph.nodes or edge[1] not in graph.nodes:
            raise ConfigError(f"edge {edge!r} names a node the graph does not have (subgraphs are not supported)")
        children[edge[0]].append(edge[1])
    m = sum(size for _, size in populations.values())
    bias = np.zeros(m)
    projections = []
    outputs = []

    def walk(source, name, matrix, offset, delay, path):
        kind = kinds[name]
        node = graph.nodes[name]
        n_src = n_input if source is None else populations[source][1]
        if name in path:
            raise ConfigError(f"the graph has a cycle without a neuron population through {name!r}")
        if kind == "Output":
            if matrix is not None or source is None:
                raise ConfigError(f"Output {name!r} must be fed by a population directly")
            outputs.append(source)
            return
        if kind in NEURONS:
            lo, size = populations[name]
            full = np.eye(size, n_src) if matrix is None else matrix
            if full.shape != (size, n_src):
                raise ConfigError(f"the edges into {name!r} carry {full.shape[0]} values, it has {size} neurons")
            if offset is not None:
                bias[lo:lo + size] += offset
            for d in np.unique(delay):
                if source is not None and d != 0:
                    raise ConfigError(f"delays on edges from a population ({source!r}) are not supported")
                projections.append((source, name, np.where((delay == d)[None, :], full, 0.0), int(d)))
            return
        if kind == "Delay":
            if matrix is not None:
                raise ConfigError(f"Delay {name!r} follows a weight; the simulator supports delays on the input "
                                  "side of the weights only")
            d = np.broadcast_to(np.asarray(node.delay, dtype=np.float64).reshape(-1), (n_src,)) / dt_s
            steps = np.round(d)
            if np.any(np.abs(d - steps) > 1e-6) or np.any(steps < 0):
                raise ConfigError(f"Delay {name!r} holds delays that are not whole steps of {dt_s:g} s")
            delay = delay + steps.astype(np.int64)
        elif kind in ("Linear", "Affine"):
            w = np.asarray(node.weight, dtype=np.float64)
            if w.ndim != 2:
                raise ConfigError(f"{kind} {name!r} has a weight of shape {w.shape}; only 2-D weights are supported")
            rows = np.eye(n_src) if matrix is None else matrix
            if w.shape[1] != rows.shape[0]:
                raise ConfigError(f"{kind} {name!r} takes {w.shape[1]} values, its input carries {rows.shape[0]}")
            matrix = w @ rows
            offset = None if offset is None else w @ offset
            if kind == "Affine":
                b = np.asarray(node.bias, dtype=np.float64).reshape(-1)
                offset = b if offset is None else offset + b
        elif kind == "Scale":
            s = np.asarray(node.scale, dtype=np.float64).reshape(-1)
            matrix = s[:, None] * (np.eye(n_src) if matrix is None else matrix)
            offset = None if offset is None else s * offset
        else:
            raise ConfigError(f"node {name!r} ({kind}) cannot be reached from a source here")
        for child in children[name]:
            walk(source, child, matrix, offset, delay, path | {name})

    for source in [None, *populations]:
        start = input_name if source is None else source
        n_src = n_input if source is None else populations[source][1]
        for child in children[start]:
            walk(source, child, None, None, np.zeros(n_src, np.int64), frozenset())
    outputs = sorted(set(outputs))
    if len(outputs) != 1:
        raise ConfigError(f"{len(outputs)} populations feed an Output ({', '.join(outputs) or 'none'}); the "
                          "simulator counts the spikes of exactly one")
    return projections, bias, outputs[0]


# -- kernels -----------------------------------------------------------------------------------
@numba.njit(cache=True, inline="always")
def _arrive(p, v, cur, base):
    """Deliver one source column (``ptr`` offset ``base``) to its targets, in place."""
    for k in range(p.ptr[base], p.ptr[base + 1]):
        j = p.idx[k]
        if p.is_cuba[j]:
            cur[j] += p.inc[k]
        else:
            v[j] += p.inc[k]


@numba.njit(cache=True)
def _present(p, step_ptr, pixels, n_steps, v, cur, last_spike, fired, counts, rec_step, rec_neuron, n_rec, rec_v):
    """Run one presentation of ``n_steps`` from rest; ``counts`` (int32, (M,)) receives every neuron's spikes.

    Input events of step s are ``pixels[step_ptr[s]:step_ptr[s + 1]]``. Spikes are recorded
    into ``rec_step``/``rec_neuron`` while there is room (``n_rec[0]`` counts all of them);
    ``rec_v`` (float64, (S, M)) receives the membrane potentials after each of the first S
    steps' update (before the reset, so a spike shows as a crossing).
    State arrays (``v, cur`` float64, ``last_spike`` int64, ``fired`` int64 scratch; (M,))
    are overwritten.
    """
    m = v.shape[0]
    for j in range(m):
        v[j] = p.v_leak[j]
        cur[j] = 0.0
        last_spike[j] = NEVER
        counts[j] = 0
    capacity = rec_step.shape[0]
    n_proj = p.proj_input.shape[0]
    for s in range(n_steps):
        n_fired = 0
        for j in range(m):
            since = s - last_spike[j]
            if p.is_cuba[j]:
                dv = p.mem_rate[j] * ((p.v_leak[j] - v[j]) + p.r[j] * cur[j])
                cur[j] = cur[j] - p.syn_rate[j] * cur[j] + p.bias_step[j]
            else:
                dv = p.mem_rate[j] * (p.v_leak[j] - v[j]) + p.bias_step[j]
            if since >= p.refractory_steps[j]:
                v[j] += dv
            if v[j] > p.v_threshold[j] and since >= p.gate_steps[j]:
                fired[n_fired] = j
                n_fired += 1
        if s < rec_v.shape[0]:
            for j in range(m):
                rec_v[s, j] = v[j]
        # reset before delivery: a spike arriving at a LIF (onto v) in its firing step is kept
        for f in range(n_fired):
            j = fired[f]
            v[j] = p.v_reset[j]
            last_spike[j] = s
            counts[j] += 1
            if n_rec[0] < capacity:
                rec_step[n_rec[0]] = s
                rec_neuron[n_rec[0]] = j
            n_rec[0] += 1
        for q in range(n_proj):
            if p.proj_input[q]:
                src = s - p.proj_delay[q]
                if src < 0:
                    continue
                for e in range(step_ptr[src], step_ptr[src + 1]):
                    _arrive(p, v, cur, p.proj_col[q] + pixels[e])
            else:
                lo = p.proj_src[q]
                hi = lo + p.proj_n_src[q]
                for f in range(n_fired):
                    j = fired[f]
                    if lo <= j < hi:
                        _arrive(p, v, cur, p.proj_col[q] + j - lo)


@numba.njit(cache=True, nogil=True)
def _respond_batch(p, images, seed, stream, first_index, rate, retry_rate, min_spikes, max_presentations, n_steps,
                   dt_ms, mean_pixel, max_gain, out_counts, out_presentations):
    """Responses to ``images`` (uint8, (K, n_input)) with spikedyn's inference input and protocol.

    Image k uses index ``first_index + k`` of ``stream``; its last presentation's spike
    counts of the output population go to ``out_counts[k]`` (int32) and its number of
    presentations to ``out_presentations[k]``; its base rate is scaled by the ink normalisation's gain
    (``mean_pixel`` 0: off).
    """
    n_input = images.shape[1]
    m = p.v_leak.shape[0]
    capacity = n_input * n_steps
    step_ptr = np.empty(n_steps + 1, np.int64)
    pixels = np.empty(capacity, np.int32)
    scratch_steps = np.empty(capacity, np.int32)
    scratch_pixels = np.empty(capacity, np.int32)
    v, cur = np.empty(m), np.empty(m)
    last_spike, fired = np.empty(m, np.int64), np.empty(m, np.int64)
    counts = np.empty(m, np.int32)
    no_rec = np.empty(0, np.int64)
    no_v = np.empty((0, m))
    n_rec = np.zeros(1, np.int64)
    for k in range(images.shape[0]):
        attempt = 0
        gain = _image_gain(images[k], mean_pixel, max_gain)
        while True:
            sd = _presentation_seed(np.uint64(seed), np.uint64(stream), np.uint64(first_index + k),
                                    np.uint64(attempt))
            _poisson_events(images[k], gain * rate + attempt * retry_rate, dt_ms, n_steps, sd, step_ptr, pixels,
                            scratch_steps, scratch_pixels)
            _present(p, step_ptr, pixels, n_steps, v, cur, last_spike, fired, counts, no_rec, no_rec, n_rec, no_v)
            attempt += 1
            total = 0
            for j in range(p.out_lo, p.out_hi):
                total += counts[j]
            if total >= min_spikes or attempt >= max_presentations:
                break
        for j in range(p.out_lo, p.out_hi):
            out_counts[k, j - p.out_lo] = counts[j]
        out_presentations[k] = attempt


# -- public ------------------------------------------------------------------------------------
class Protocol(NamedTuple):
    """spikedyn's inference input: Poisson rates, presentation length and the retry rule."""

    seed: int
    rate_hz_per_unit: float
    retry_rate_hz_per_unit: float
    min_spikes: int
    max_presentations: int
    present_steps: int
    normalise_mean_pixel: float = 0.0
    max_gain: float = 1.0
    centre_surround: bool = False
    centre_sigma_px: float = InputParams.centre_sigma_px
    surround_sigma_px: float = InputParams.surround_sigma_px
    centre_surround_gain: float = InputParams.centre_surround_gain


def protocol_of(graph, compiled: Compiled, *, seed: int | None = None, retry: bool = True) -> Protocol:
    """The input protocol recorded in a spikedyn-written graph (``retry=False``: one presentation)."""
    from .nir import check_format

    check_format(graph)
    meta = graph.metadata
    present_steps = int(round(_meta_float(meta, "present_s") / compiled.dt_s))
    return Protocol(seed=int(np.asarray(meta["seed"])) if seed is None else int(seed),
                    rate_hz_per_unit=_meta_float(meta, "input_rate_hz_per_unit"),
                    retry_rate_hz_per_unit=_meta_float(meta, "input_retry_rate_hz_per_unit"),
                    min_spikes=int(np.asarray(meta["input_min_spikes"])) if retry else 0,
                    max_presentations=int(np.asarray(meta["input_max_presentations"])) if retry else 1,
                    present_steps=present_steps,
                    # graphs written before ink normalisation have no such keys: off
                    normalise_mean_pixel=_meta_float(meta, "input_normalise_mean_pixel") or 0.0,
                    max_gain=_meta_float(meta, "input_max_gain") or 1.0,
                    # graphs written before the centre-surround filter have no such keys: off
                    centre_surround=bool(_meta_float(meta, "input_centre_surround") or 0.0),
                    centre_sigma_px=_meta_float(meta, "input_centre_sigma_px") or InputParams.centre_sigma_px,
                    surround_sigma_px=_meta_float(meta, "input_surround_sigma_px") or InputParams.surround_sigma_px,
                    centre_surround_gain=(_meta_float(meta, "input_centre_surround_gain")
                                          or InputParams.centre_surround_gain))


def respond(graph, images, *, stream: int = STREAM_TEST, first_index: int = 0, refractory: bool = False,
            retry: bool = True, seed: int | None = None, n_jobs: int | None = None,
            batch_size: int = 250) -> tuple[np.ndarray, np.ndarray]:
    """Spike counts of the graph's output population for each image.

    Parameters
    ----------
    graph : nir.NIRGraph or path
        Written by :func:`spikedyn.export.export_run` (its metadata gives dt, the input
        rates and protocol, and the seed of spikedyn's inference input).
    images : uint8 array, shape (n, n_input)
    stream, first_index : int
        Image k gets the input spikes of index ``first_index + k`` of ``stream``, exactly
        as ``Network.respond(images, stream=stream, first_index=first_index)``.
    refractory : bool
        Not NIR: honour the refractory periods recorded in the nodes' metadata.
    retry : bool
        spikedyn's present-and-retry protocol (default) or a single presentation.

    Returns
    -------
    counts : int32 array, shape (n, N_out)
    presentations : int32 array, shape (n,)
    """
    from ..simulation.network import _check_images, default_jobs

    if not hasattr(graph, "nodes"):
        graph = read_graph(graph)
    compiled = compile_graph(graph, refractory=refractory)
    proto = protocol_of(graph, compiled, seed=seed, retry=retry)
    images = _check_images(images, compiled.n_input)
    if proto.centre_surround:
        images = centre_surround(images, proto.centre_sigma_px, proto.surround_sigma_px, proto.centre_surround_gain)
    n = images.shape[0]
    out = np.zeros((n, compiled.program.out_hi - compiled.program.out_lo), np.int32)
    presentations = np.zeros(n, np.int32)
    n_jobs = default_jobs() if n_jobs is None else int(n_jobs)
    batch_size = max(1, min(batch_size, -(-n // max(1, n_jobs))))

    def run(lo: int) -> None:
        hi = min(lo + batch_size, n)
        _respond_batch(compiled.program, images[lo:hi], np.uint64(proto.seed), np.uint64(stream),
                       np.uint64(first_index + lo), proto.rate_hz_per_unit, proto.retry_rate_hz_per_unit,
                       proto.min_spikes, proto.max_presentations, proto.present_steps, compiled.dt_s * 1e3,
                       proto.normalise_mean_pixel, proto.max_gain, out[lo:hi], presentations[lo:hi])

    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        for future in [pool.submit(run, lo) for lo in range(0, n, batch_size)]:
            future.result()
    return out, presentations


def run_raster(compiled: Compiled, step_ptr: np.ndarray, pixels: np.ndarray, n_steps: int | None = None,
               *, capacity: int = 100_000, voltages: bool = False) -> dict[str, Any]:
    """One presentation of a given input raster (CSR by step) to every population, from rest.

    Returns ``counts`` (int32, (M,), every neuron), ``step``, ``neuron`` (int64) of every
    spike in order (at most ``capacity``; neuron indices are global, see
    ``compiled.populations``) and, with ``voltages``, ``v`` (float64, (n_steps, M)): the
    membrane potentials after each step's update, before the reset.
    """
    p = compiled.program
    step_ptr = np.ascontiguousarray(step_ptr, dtype=np.int64)
    pixels = np.ascontiguousarray(pixels, dtype=np.int32)
    n_steps = step_ptr.shape[0] - 1 if n_steps is None else int(n_steps)
    if step_ptr.shape[0] - 1 < n_steps:  # no input after the raster ends
        step_ptr = np.concatenate([step_ptr, np.full(n_steps + 1 - step_ptr.shape[0], step_ptr[-1])])
    m = p.v_leak.shape[0]
    counts = np.zeros(m, np.int32)
    rec_step, rec_neuron, n_rec = np.empty(capacity, np.int64), np.empty(capacity, np.int64), np.zeros(1, np.int64)
    rec_v = np.empty((n_steps if voltages else 0, m))
    _present(p, step_ptr, pixels, n_steps, np.empty(m), np.empty(m), np.empty(m, np.int64), np.empty(m, np.int64),
             counts, rec_step, rec_neuron, n_rec, rec_v)
    k = min(int(n_rec[0]), capacity)
    out = {"counts": counts, "step": rec_step[:k].copy(), "neuron": rec_neuron[:k].copy(), "n_spikes": int(n_rec[0])}
    if voltages:
        out["v"] = rec_v
    return out


def assignments_of(graph) -> np.ndarray:
    """The neuron labels stored in a spikedyn-written graph; a ConfigError when it has none."""
    from .nir import check_format

    check_format(graph)
    if "assignments" not in graph.metadata:
        raise ConfigError("the graph holds no neuron labels; run 'spikedyn evaluate RUN' before exporting RUN")
    return np.asarray(graph.metadata["assignments"], dtype=np.int64)


def predict(graph, counts: np.ndarray) -> np.ndarray:
    """Classes of the responses ``counts`` with the graph's stored labels (spikedyn's readout)."""
    from ..core.readout import predict as readout_predict

    assignments = assignments_of(graph)
    n_classes = int(np.asarray(graph.metadata.get("n_classes", max(10, int(assignments.max()) + 1))))
    return readout_predict(counts, assignments, n_classes)
