"""Spike-for-spike comparison of spikedyn with its Brian2 twin (``spikedyn validate``, :mod:`spikedyn.cli.reference`).

Both simulators start from the same initial weights and thresholds (a spikedyn
:class:`~spikedyn.network.Network`'s seeded ones) and see the same input rasters on
the first K MNIST training images: with ``--learn`` the training protocol
(:meth:`Network.train`), otherwise the inference protocol (:meth:`Network.respond`,
stream ``STREAM_TEST``). Every excitatory spike is compared by
``(sample, presentation, step, neuron)``. With ``--then-infer J`` (after ``--learn``), both
trained networks then answer the next J training images with learning off, as every readout
uses them (``after_learning`` in the summary): the rule state each simulator learned (spike
counts, thresholds at commitment, averaged thresholds) and the spikes each produces with the
thresholds and weights derived from it (``Network.test_thresholds``, ``Network.test_weights``:
the recalls of ``metaplastic`` and ``recall``; derived by the same functions on both sides).

spikedyn's spikes are recorded by the very kernels that train and respond
(:meth:`spikedyn.network.Network.respond` with ``record="spikes"``, and its training
counterpart used by :func:`run_spikedyn_recorded`).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..config import NetworkConfig
from ..core.encoding import STREAM_TEST, STREAM_TRAIN
from ..errors import ConfigError

#: Default Brian2 target of ``spikedyn validate``.
DEFAULT_TARGET = "cpp_standalone"
VALIDATE_TARGETS = ("numpy", "cython", "cpp_standalone")


# -- spikedyn side -------------------------------------------------------------------------------
def run_spikedyn_recorded(network, images, *, learn: bool, stream: int = STREAM_TEST, first_index: int | None = None):
    """Run spikedyn on ``images`` and record every excitatory spike.

    ``learn=True`` trains (as :meth:`Network.train`: stream ``STREAM_TRAIN``, indices
    from ``network.samples_seen``, state, weights and thresholds updated in place);
    ``learn=False`` responds (as :meth:`Network.respond` on ``stream``, each sample
    from rest, nothing changed). Both go through the same kernels as the unrecorded
    calls (:meth:`Network._run_recorded`).

    Returns
    -------
    counts : int32 array, shape (n, N)
        Spike counts of each sample's last presentation (as ``train``/``respond``).
    record : spikedyn.network.SpikeRecord
    """
    from ..simulation.network import input_images

    images = input_images(images, network.config)
    if learn:
        if first_index is not None and first_index != network.samples_seen:
            raise ConfigError(f"training continues at sample {network.samples_seen}, not {first_index}")
        response = network._run_recorded(images, learn=True, stream=STREAM_TRAIN, first_index=network.samples_seen)
    else:
        response = network._run_recorded(images, learn=False, stream=stream,
                                         first_index=0 if first_index is None else first_index)
    return response.counts, response.spikes


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
             progress: bool = True, directory: str | None = None, then_infer: np.ndarray | None = None
             ) -> dict[str, Any]:
    """Run spikedyn and Brian2 on ``images`` from the same initial state and compare.

    ``then_infer`` (with ``learn`` only): images both trained networks then answer with learning
    off (stream ``STREAM_TEST`` from index 0), compared under ``"after_learning"``.
    Returns the summary written by ``spikedyn validate --json`` (see the module doc).
    """
    from ..simulation.network import Network, warm_up
    from .brian2 import Brian2Network

    if target not in VALIDATE_TARGETS:
        raise ConfigError(f"unknown target {target!r}; choose one of {', '.join(VALIDATE_TARGETS)}")
    if then_infer is not None and not learn:
        raise ConfigError("then_infer answers images after learning; it needs learn=True (--learn)")
    warm_up(config, learn=learn, seed=seed, record=True)  # so that the wall time is simulation only
    sd = Network(config, seed=seed)
    w0, theta0 = sd.weights.copy(), sd.theta.copy()
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
        after = None
        if then_infer is not None:
            counts_a, rec_a = run_spikedyn_recorded(sd, then_infer, learn=False, stream=STREAM_TEST)
            counts_b, rec_b = b2.respond(then_infer, STREAM_TEST, progress=progress, desc="brian2 after learning")
            after = {"samples": int(rec_a.presentations.shape[0]),
                     **_agreement(config, rec_a, rec_b, counts_a, counts_b, learn=False)}
    finally:
        b2.close()

    from .._version import provenance

    summary: dict[str, Any] = {
        "command": "validate",
        **provenance(),
        "config": config.to_dict(),
        "model": config.model,
        "neurons": config.n_neurons,
        "samples": int(images.shape[0]),
        "target": target,
        "learn": learn,
        "seed": seed,
    }
    summary.update(_agreement(config, rec_sd, rec_b2, counts_sd, counts_b2, learn=learn))
    summary.update({
        "max_weight_abs_diff": float(np.max(np.abs(sd.weights - b2.weights))) if learn else 0.0,
        "max_theta_abs_diff": float(np.max(np.abs(sd.theta - b2.theta))) if learn else 0.0,
        "theta_unit": "mV",
        "wall_seconds_spikedyn": wall_sd,
        "wall_seconds_brian2": wall_b2,
        "brian2_sim_seconds": sim_b2,
        "brian2_build_seconds": build_s,
    })
    if after is not None:
        summary["after_learning"] = after
    return summary


def _agreement(config: NetworkConfig, rec_sd, rec_b2, counts_sd, counts_b2, *, learn: bool) -> dict[str, Any]:
    """Spike, count and presentation agreement of one protocol's two runs."""
    period = config.timing.present_steps + (config.timing.rest_steps if learn else 0)
    return {**compare_records(rec_sd, rec_b2, n_neurons=config.n_neurons, period=period,
                              max_presentations=config.input.max_presentations),
            "count_agreement": float(np.mean(counts_sd == counts_b2)),
            "presentations_agree": bool(np.array_equal(rec_sd.presentations, rec_b2.presentations)),
            "presentations_spikedyn": int(rec_sd.presentations.sum()),
            "presentations_brian2": int(rec_b2.presentations.sum())}


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
    lines.append(_first_line(s["first_disagreement"]))
    a = s.get("after_learning")
    if a is not None:
        lines += [f"  after learning, inference on the next {a['samples']} samples: spike agreement "
                  f"{a['spike_agreement']:.6f} ({a['spikes_spikedyn']} spikedyn / {a['spikes_brian2']} Brian2 spikes), "
                  f"count agreement {a['count_agreement']:.6f}", "  " + _first_line(a["first_disagreement"])]
    return "\n".join(lines)


def describe_disagreement(d: dict[str, Any] | None) -> str:
    """A summary's ``first_disagreement`` in words: ``"none"``, or where it is and on which side."""
    if d is None:
        return "none"
    return f"sample {d['sample']}, presentation {d['presentation']}, step {d['step']}, neuron {d['neuron']} ({d['side']})"


def _first_line(d: dict[str, Any] | None) -> str:
    """The line of :func:`format_summary` on a first disagreement (``None``: none)."""
    return f"  first disagreement: {describe_disagreement(d)}"
