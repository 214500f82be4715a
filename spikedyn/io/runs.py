"""Runs on disk: a trained network and what produced it, written atomically.

A run directory holds

``run.json``
    format version, spikedyn version, the full :class:`~spikedyn.config.NetworkConfig`,
    seed, number of training samples seen, training statistics;
``weights.npy``
    input->excitatory weights, float64 (n_input, n_neurons);
``theta.npy``
    adaptive thresholds in mV, float64 (n_neurons,);
``state.npz``
    the dynamic state per population and part (``exc.v``, ``competition.v``,
    ``plasticity.last_pre``, ..., ``clock``: see :func:`spikedyn.simulation.state.state_arrays`),
    so that training can resume exactly where it stopped;

and, after ``spikedyn evaluate``, ``evaluation.json`` and ``evaluation.npz``.

A run directory is assembled under a temporary name, synced and renamed as a whole
(:mod:`spikedyn.io.files`), so an interrupted or failed command never leaves a partial
run behind.

Format 3 (this version) stores the state per part, including the learned
per-neuron and per-synapse quantities of the adaptive (continual-learning) rules;
runs of format 2 (no such quantities: they start fresh) and format 1 (spikedyn
0.1.0, a flat state) are read too.

This module is the one home of the format. It knows no network class: it reads a
network through its attributes (``config``, ``seed``, ``weights``, ``theta``,
``state_arrays()``, ...), and :func:`load_run` builds one with the class it is given
(``Network.load`` passes its own), so that :mod:`spikedyn.simulation` can save and
load itself through it without an import cycle.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._version import provenance
from ..errors import SpikedynError
from .files import atomic_directory, json_text

FORMAT_VERSION = 3
READABLE_FORMATS = (1, 2, 3)
#: State that format 3 added (the adaptive rules' learned quantities); older runs start them fresh.
_ADDED_IN_3 = ("plasticity.activity", "plasticity.rate", "plasticity.significance", "plasticity.updates")
RUN_FILE = "run.json"

#: Format 1's flat state fields -> format 2's names.
_FORMAT1_STATE = {
    "v": "exc.v", "ge": "exc.ge", "gi": "exc.gi", "last_spike": "exc.last_spike",
    "vi": "competition.v", "gei": "competition.ge", "gii": "competition.gi", "last_spike_i": "competition.last_spike",
    "active_i": "competition.active", "is_active_i": "competition.is_active", "n_active_i": "competition.n_active",
    "last_pre": "plasticity.last_pre", "last_post": "plasticity.last_post", "recent_post": "plasticity.recent",
    "is_recent_post": "plasticity.is_recent", "n_recent_post": "plasticity.n_recent", "clock": "clock",
}


class RunError(SpikedynError):
    """A run directory is missing, incomplete or of another format."""


def save_run(run_dir: str | os.PathLike[str], network, extra: dict[str, Any] | None = None, *,
             overwrite: bool = False) -> Path:
    """Write ``network`` to a run directory, atomically as a whole (:func:`atomic_directory`).

    Parameters
    ----------
    run_dir : path
        Must not exist or be empty, unless ``overwrite``.
    network : spikedyn.Network
    extra : dict, optional
        More JSON-serialisable metadata for ``run.json`` (e.g. training statistics).
    overwrite : bool
        Replace an existing run directory. The new run is complete on disk before
        the old one is moved aside and deleted; ``run_dir`` never holds a mix.
    """
    with atomic_directory(run_dir, overwrite=overwrite) as tmp:
        np.save(tmp / "weights.npy", network.weights)
        np.save(tmp / "theta.npy", network.theta)
        np.savez(tmp / "state.npz", **network.state_arrays())
        if network.assignments_ is not None:
            np.save(tmp / "assignments.npy", network.assignments_)
        meta = {
            "format_version": FORMAT_VERSION,
            **provenance(),
            "config": network.config.to_dict(),
            "seed": network.seed,
            "samples_seen": network.samples_seen,
        }
        meta.update(extra or {})
        (tmp / RUN_FILE).write_text(json_text(meta))
    return Path(run_dir)


def read_meta(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed ``run.json`` of a run directory."""
    run_dir = Path(run_dir)
    meta_path = run_dir / RUN_FILE
    if not run_dir.exists():
        raise RunError(f"{run_dir} does not exist; pass a run directory: the --out of 'spikedyn train', or "
                       "OUT/network of 'spikedyn continual'")
    if not run_dir.is_dir():
        raise RunError(f"{run_dir} is a file, not a run directory; pass the --out of 'spikedyn train', or "
                       "OUT/network of 'spikedyn continual'")
    if not meta_path.is_file() and (run_dir / "checkpoint.npz").is_file():
        raise RunError(f"{run_dir} is an interrupted run (a checkpoint, no {RUN_FILE} yet); finish it with "
                       f"'spikedyn train --resume {run_dir}'")
    if not meta_path.is_file():
        hint = (f"; its trained network is {run_dir / 'network'}" if (run_dir / "network" / RUN_FILE).is_file()
                else "; pass a directory made by 'spikedyn train' (or OUT/network of 'spikedyn continual')")
        raise RunError(f"{run_dir} is not a spikedyn run (no {RUN_FILE}){hint}")
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise RunError(f"{meta_path} is unreadable ({exc}); retrain or restore the run") from None
    if not isinstance(meta, dict):
        kind = {type(None): "null", list: "array", str: "string", bool: "boolean"}.get(type(meta), "number")
        raise RunError(f"{meta_path} holds a JSON {kind}, not a run record; retrain or restore the run")
    training = meta.get("training", {})
    if not isinstance(training, dict):
        raise RunError(f"{meta_path}: 'training' must be a record, got {type(training).__name__}; the run is "
                       "corrupt: retrain or restore it")
    learned = training.get("learned_images", 0)
    if isinstance(learned, bool) or not isinstance(learned, int) or learned < 0:
        raise RunError(f"{meta_path}: training.learned_images must be a count of images, got {learned!r}; the run "
                       "is corrupt: retrain or restore it")
    if meta.get("format_version") not in READABLE_FORMATS:
        raise RunError(
            f"{run_dir} has run format {meta.get('format_version')!r}, this spikedyn reads "
            f"{', '.join(map(str, READABLE_FORMATS))}; use the spikedyn version that wrote it"
        )
    return meta


def load_run(run_dir: str | os.PathLike[str], network_type) -> tuple[Any, dict[str, Any]]:
    """Load a run directory back into a network, exactly as it was saved.

    Parameters
    ----------
    run_dir : path
    network_type : type
        The network class, :class:`spikedyn.Network` (``Network.load`` passes itself);
        its ``from_dict(config, seed=...)`` builds the untrained network of the run's config and seed.

    Returns
    -------
    network : network_type
    meta : dict
        The contents of ``run.json``.
    """
    run_dir = Path(run_dir)
    meta = read_meta(run_dir)
    missing = [key for key in ("config", "seed", "samples_seen") if key not in meta]
    if missing:
        raise RunError(f"{run_dir}/{RUN_FILE} lacks {', '.join(missing)}; retrain or restore the run")
    try:
        network = network_type.from_dict(meta["config"], seed=int(meta["seed"]))
        samples_seen = int(meta["samples_seen"])
    except (TypeError, ValueError) as exc:
        raise RunError(f"{run_dir}/{RUN_FILE} is corrupt ({exc}); retrain or restore the run") from None
    try:
        weights = np.load(run_dir / "weights.npy")
        theta = np.load(run_dir / "theta.npy")
        with np.load(run_dir / "state.npz") as z:
            if meta["format_version"] == 1:
                state = {new: z[old] for old, new in _FORMAT1_STATE.items()}
            else:
                state = {k: z[k] for k in network.state_arrays()
                         if meta["format_version"] >= 3 or k not in _ADDED_IN_3}
    except (OSError, ValueError, KeyError) as exc:
        raise RunError(f"{run_dir} is incomplete or corrupt ({exc}); retrain or restore the run") from None
    config = network.config
    expected = {"weights": (config.n_input, config.n_neurons), "theta": (config.n_neurons,)}
    for name, array in (("weights", weights), ("theta", theta)):
        if array.shape != expected[name] or array.dtype != np.float64:
            raise RunError(
                f"{run_dir}/{name}.npy has shape {array.shape} {array.dtype}, the config needs "
                f"{expected[name]} float64; the run is corrupt"
            )
        if not np.all(np.isfinite(array)):
            raise RunError(f"{run_dir}/{name}.npy holds {int(np.sum(~np.isfinite(array)))} non-finite values; "
                           "the run is corrupt: retrain or restore it")
    for name, current in network.state_arrays().items():
        if name not in state:  # format 1 had no scratch traces, format 2 no adaptive state: fresh values
            continue
        if state[name].shape != current.shape or state[name].dtype != current.dtype:
            raise RunError(f"{run_dir}/state.npz field {name} does not match the config; the run is corrupt")
        current[...] = state[name]
    network.reset_operations()  # its counters start at the loaded state, like those of a new network
    network.weights = np.ascontiguousarray(weights)
    network.theta = np.ascontiguousarray(theta)
    network.samples_seen = samples_seen
    assignments_path = run_dir / "assignments.npy"
    if assignments_path.is_file():
        try:
            assignments = np.load(assignments_path)
        except (OSError, ValueError) as exc:
            raise RunError(f"{assignments_path} is unreadable ({exc}); retrain or restore the run") from None
        if assignments.shape != (config.n_neurons,) or not np.issubdtype(assignments.dtype, np.integer):
            raise RunError(f"{assignments_path} does not match the config; the run is corrupt")
        network.assignments_ = assignments.astype(np.int64)
    return network, meta
