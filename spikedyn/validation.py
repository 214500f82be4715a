"""``spikedyn validate``: spike-for-spike comparison of spikedyn with its Brian2 twin.

Both simulators start from the same initial weights and thresholds (a spikedyn
:class:`~spikedyn.network.Network`'s seeded ones) and see the same input rasters on
the first K MNIST training images: with ``--learn`` the training protocol
(:meth:`Network.train`), otherwise the inference protocol (:meth:`Network.respond`,
stream ``STREAM_TEST``). Every excitatory spike is compared by
``(sample, presentation, step, neuron)``.

spikedyn's public :class:`Network` does not expose individual spikes, so
:func:`run_spikedyn_recorded` calls its kernel ``spikedyn.network._present`` directly;
that function is the only place that depends on spikedyn's private kernels.
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path
from typing import Any

import numpy as np

from .config import MODELS, NetworkConfig
from .encoding import STREAM_TEST, STREAM_TRAIN
from .errors import ConfigError

#: Default Brian2 target of ``spikedyn validate``.
DEFAULT_TARGET = "cpp_standalone"
VALIDATE_TARGETS = ("numpy", "cython", "cpp_standalone")


# -- spikedyn side: the coupling to spikedyn.network's private kernels ----------------------
def run_spikedyn_recorded(network, images, *, learn: bool, stream: int = STREAM_TEST, first_index: int | None = None):
    """Run spikedyn's own kernels on ``images`` and record every excitatory spike.

    Does what :meth:`Network.train` (``learn=True``: stream ``STREAM_TRAIN``, indices
    from ``network.samples_seen``, state, weights and thresholds updated in place) or
    :meth:`Network.respond` (``learn=False``: each sample from rest, nothing changed)
    does, sample by sample through ``spikedyn.network._present``, with spike recording
    on. Global steps are mapped to (sample, presentation, step) with ``State.clock``
    during training (each presentation is ``present_steps + rest_steps`` long); during
    inference the clock restarts at every presentation, so the end of each attempt's
    record is found by re-running the sample with ``max_presentations`` = 1, 2, ...
    (inference is deterministic and starts from rest, so these are prefixes).

    Returns
    -------
    counts : int32 array, shape (n, N)
        Spike counts of each sample's last presentation (as ``train``/``respond``).
    record : spikedyn.brian2_reference.SpikeRecord
    """
    from . import network as sn
    from .brian2_reference import make_spike_record

    kp = network._kp
    images = sn._check_images(images, network.config.n_input)
    n_in, n = network.config.n_input, network.config.n_neurons
    if learn:
        st = network._state
        if network._buffers is None:
            network._buffers = sn._new_buffers(kp, n_in, n)
        buf = network._buffers
        stream = STREAM_TRAIN
        first_index = network.samples_seen if first_index is None else first_index
    else:
        st = sn._new_state(kp, n_in, n)
        buf = sn._new_buffers(kp, n_in, n)
        first_index = 0 if first_index is None else first_index
    period = kp.present_steps + (kp.rest_steps if learn else 0)
    gate = max(1, kp.exc.refractory_steps, kp.exc.lockout_steps)
    capacity = kp.max_presentations * n * (-(-period // gate))  # no neuron fires more often
    rec_step = np.empty(capacity, np.int64)
    rec_neuron = np.empty(capacity, np.int64)
    counts = np.zeros((images.shape[0], n), np.int32)
    presentations = np.zeros(images.shape[0], np.int32)
    cols: list[list[np.ndarray]] = [[], [], [], []]
    seed = np.uint64(network.seed)
    for k in range(images.shape[0]):
        index = np.uint64(first_index + k)
        t0 = int(st.clock[0])
        attempts, n_rec = sn._present(kp, st, buf, network.weights, network.theta, images[k], seed,
                                      np.uint64(stream), index, learn, counts[k], rec_step, rec_neuron, 0)
        if n_rec > capacity:
            raise RuntimeError(f"spike record overflow ({n_rec} > {capacity})")
        steps, neurons = rec_step[:n_rec].copy(), rec_neuron[:n_rec].copy()
        if learn:
            rel = steps - t0
            attempt, steps = rel // period, rel % period
        else:
            ends = []
            scratch = np.zeros(n, np.int32)
            for a in range(1, attempts):
                _, end = sn._present(kp._replace(max_presentations=a), st, buf, network.weights, network.theta,
                                     images[k], seed, np.uint64(stream), index, False, scratch,
                                     rec_step, rec_neuron, 0)
                ends.append(end)
            attempt = np.searchsorted(np.asarray(ends, np.int64), np.arange(n_rec), side="right")
        presentations[k] = attempts
        for col, values in zip(cols, (np.full(n_rec, k), attempt, steps, neurons)):
            col.append(np.asarray(values, np.int64))
    if learn:
        network.samples_seen = first_index + images.shape[0]
    record = make_spike_record(*(np.concatenate(c) if c else np.zeros(0, np.int64) for c in cols), presentations)
    return counts, record


# -- comparison ---------------------------------------------------------------------------------
def compare_records(a, b, *, n_neurons: int, period: int, max_presentations: int) -> dict[str, Any]:
    """Spike agreement of two :class:`SpikeRecord` s (``a`` spikedyn, ``b`` Brian2).

    ``spike_agreement`` is the fraction of all spikes (both sides) found at the same
    (sample, presentation, step, neuron) on the other side; ``first_disagreement`` the
    earliest spike that is not, or None.
    """
    def keys(r):
        return ((r.sample * max_presentations + r.presentation) * period + r.step) * n_neurons + r.neuron

    ka, kb = keys(a), keys(b)
    common = np.intersect1d(ka, kb, assume_unique=True)
    total = ka.size + kb.size
    agreement = 1.0 if total == 0 else 2.0 * common.size / total
    only_a = np.setdiff1d(ka, kb, assume_unique=True)
    only_b = np.setdiff1d(kb, ka, assume_unique=True)
    first = None
    candidates = [(int(x[0]), "spikedyn only") for x in (only_a,) if x.size] + \
                 [(int(x[0]), "brian2 only") for x in (only_b,) if x.size]
    if candidates:
        key, side = min(candidates)
        neuron = key % n_neurons
        rest = key // n_neurons
        step = rest % period
        rest //= period
        first = {"sample": int(rest // max_presentations), "presentation": int(rest % max_presentations),
                 "step": int(step), "neuron": int(neuron), "side": side}
    return {
        "spike_agreement": agreement,
        "spikes_spikedyn": int(ka.size),
        "spikes_brian2": int(kb.size),
        "spikes_only_spikedyn": int(only_a.size),
        "spikes_only_brian2": int(only_b.size),
        "first_disagreement": first,
    }


def validate(config: NetworkConfig, images: np.ndarray, *, learn: bool, target: str, seed: int = 0,
             progress: bool = True, directory: str | None = None) -> dict[str, Any]:
    """Run spikedyn and Brian2 on ``images`` from the same initial state and compare.

    Returns the summary written by ``spikedyn validate --json`` (see the module doc).
    """
    from .brian2_reference import Brian2Network
    from .network import Network

    if target not in VALIDATE_TARGETS:
        raise ConfigError(f"unknown target {target!r}; choose one of {', '.join(VALIDATE_TARGETS)}")
    sd = Network(config, seed=seed)
    w0, theta0 = sd.weights.copy(), sd.theta.copy()
    # Compile (or load) the kernels on a throwaway copy so the wall time is simulation only.
    run_spikedyn_recorded(copy.deepcopy(sd), images[:1], learn=learn)
    start = time.perf_counter()
    counts_sd, rec_sd = run_spikedyn_recorded(sd, images, learn=learn, stream=STREAM_TEST)
    wall_sd = time.perf_counter() - start

    b2 = Brian2Network(config, w0, theta0, target=target, seed=seed, directory=directory)
    try:
        start = time.perf_counter()
        mode = "train" if learn else "infer"
        b2.engine(mode)
        build_s = time.perf_counter() - start
        start = time.perf_counter()
        if learn:
            counts_b2, rec_b2 = b2.train(images, progress=progress)
        else:
            counts_b2, rec_b2 = b2.respond(images, STREAM_TEST, progress=progress)
        wall_b2 = time.perf_counter() - start
        sim_b2 = b2.sim_seconds[mode]
    finally:
        b2.close()

    period = config.timing.present_steps + (config.timing.rest_steps if learn else 0)
    from . import __version__

    summary: dict[str, Any] = {
        "command": "validate",
        "spikedyn_version": __version__,
        "config": config.to_dict(),
        "model": config.model,
        "neurons": config.n_neurons,
        "samples": int(images.shape[0]),
        "target": target,
        "learn": learn,
        "seed": seed,
    }
    summary.update(compare_records(rec_sd, rec_b2, n_neurons=config.n_neurons, period=period,
                                   max_presentations=config.input.max_presentations))
    summary.update({
        "count_agreement": float(np.mean(counts_sd == counts_b2)),
        "presentations_agree": bool(np.array_equal(rec_sd.presentations, rec_b2.presentations)),
        "presentations_spikedyn": int(rec_sd.presentations.sum()),
        "presentations_brian2": int(rec_b2.presentations.sum()),
        "max_weight_abs_diff": float(np.max(np.abs(sd.weights - b2.weights))) if learn else 0.0,
        "max_theta_abs_diff": float(np.max(np.abs(sd.theta - b2.theta))) if learn else 0.0,
        "theta_unit": "mV",
        "wall_seconds_spikedyn": wall_sd,
        "wall_seconds_brian2": wall_b2,
        "brian2_sim_seconds": sim_b2,
        "brian2_build_seconds": build_s,
    })
    return summary


def format_summary(s: dict[str, Any]) -> str:
    """A few human-readable lines about a :func:`validate` summary."""
    mode = "learning" if s["learn"] else "inference"
    lines = [
        f"{s['model']}, {s['neurons']} neurons, {s['samples']} samples, {mode}, Brian2 target {s['target']}:",
        f"  spike agreement {s['spike_agreement']:.6f} ({s['spikes_spikedyn']} spikedyn / {s['spikes_brian2']} "
        f"Brian2 spikes), count agreement {s['count_agreement']:.6f}",
        f"  max |weight diff| {s['max_weight_abs_diff']:.3g}, max |theta diff| {s['max_theta_abs_diff']:.3g} mV",
        f"  wall: spikedyn {s['wall_seconds_spikedyn']:.2f} s, Brian2 {s['wall_seconds_brian2']:.2f} s "
        f"(+ {s['brian2_build_seconds']:.1f} s build)",
    ]
    d = s["first_disagreement"]
    if d is None:
        lines.append("  first disagreement: none")
    else:
        lines.append(f"  first disagreement: sample {d['sample']}, presentation {d['presentation']}, "
                     f"step {d['step']}, neuron {d['neuron']} ({d['side']})")
    return "\n".join(lines)


# -- command line -------------------------------------------------------------------------------
def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``spikedyn validate`` on an argparse subparsers object."""
    from .cli import _add_data_dir, _add_progress, _add_seed, _positive_int

    p = subparsers.add_parser(
        "validate", help="compare spikedyn with its Brian2 twin spike for spike",
        description="Run spikedyn and the Brian2 reference on the first K MNIST training images from the "
                    "same initial weights and input spikes, and compare every excitatory spike.",
    )
    p.add_argument("--model", choices=MODELS, default="diehl-cook", help="competition scheme (default diehl-cook)")
    p.add_argument("--neurons", type=_positive_int, default=100, help="excitatory neurons (default 100)")
    p.add_argument("--samples", type=_positive_int, default=50, help="first K training images (default 50)")
    p.add_argument("--learn", action="store_true",
                   help="training protocol (STDP, adaptive thresholds); default: inference protocol")
    p.add_argument("--target", choices=VALIDATE_TARGETS, default=DEFAULT_TARGET,
                   help=f"Brian2 code generation target (default {DEFAULT_TARGET})")
    _add_seed(p)
    p.add_argument("--json", type=Path, required=True, help="write the JSON summary here")
    _add_data_dir(p)
    _add_progress(p)
    p.set_defaults(func=cmd_validate)
    return p


def cmd_validate(args: argparse.Namespace) -> dict[str, Any]:
    from .data import load_samples

    config = NetworkConfig(model=args.model, n_neurons=args.neurons)
    images, _ = load_samples("train", args.data_dir, args.samples, progress=not args.quiet)
    summary = validate(config, images, learn=args.learn, target=args.target, seed=args.seed,
                       progress=not args.quiet)
    print(format_summary(summary))
    return summary
