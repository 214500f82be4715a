"""Export a trained network to neuromorphic software and hardware stacks.

=====================  ==========================================================
``export_run``         a run directory -> a file (``format="nir"``); returns a summary
``nir``                the NIR graph of a network (:func:`spikedyn.export.nir.build_graph`)
``simulate``           read a ``.nir`` file and run it on images (spikedyn's input spikes)
=====================  ==========================================================

The command-line front is ``spikedyn export RUN --format nir -o net.nir``
(:mod:`spikedyn.cli.export`). The ``nir`` package is an optional dependency:
``pip install "spikedyn[export]"`` (the ``test`` extra includes it).
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, SpikedynError

#: Export formats: name -> file suffix.
FORMATS = {"nir": ".nir"}


def require_nir():
    """The ``nir`` module, or a ConfigError that says how to install it."""
    try:
        import nir
    except ImportError:
        raise ConfigError("exporting to NIR needs the 'nir' package; install it with "
                          "pip install 'spikedyn[export]' (or pip install nir)") from None
    return nir


def check_output(path: str | os.PathLike[str], format: str = "nir", *, overwrite: bool = False) -> Path:
    """Validate an export's format and output path before anything is computed or written."""
    if format not in FORMATS:
        raise ConfigError(f"unknown export format {format!r}; choose one of {', '.join(FORMATS)}")
    path = Path(path)
    suffix = FORMATS[format]
    if path.suffix != suffix:
        raise ConfigError(f"the output of --format {format} must end in {suffix}, got {str(path)!r}; "
                          f"name it e.g. {path.with_suffix(suffix).name if path.name else 'net' + suffix}")
    if path.is_dir():
        raise ConfigError(f"{path} is a directory; give a file name ending in {suffix}")
    if path.exists() and not overwrite:
        raise ConfigError(f"{path} exists; remove it or choose another name (nothing was written)")
    return path


def load_labelled(run_dir: str | os.PathLike[str]):
    """The network of a run directory and its neuron labels.

    Returns ``(network, meta, assignments or None, where the labels came from or None)``:
    ``assignments.npy`` (saved with the network) or ``evaluation.npz`` (``spikedyn
    evaluate``). Anything that is not a readable run directory is a one-line ConfigError.
    """
    from ..io.runs import RUN_FILE, load_run
    from ..simulation.network import Network

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        what = "does not exist" if not run_dir.exists() else "is a file"
        raise ConfigError(f"{run_dir} {what}; pass a run directory made by 'spikedyn train' (it holds {RUN_FILE}), "
                          "or OUT/network of 'spikedyn continual'")
    try:
        network, meta = load_run(run_dir, Network)
    except SpikedynError as exc:
        raise ConfigError(str(exc)) from None
    if network.assignments_ is not None:
        return network, meta, network.assignments_, "assignments.npy"
    evaluation = run_dir / "evaluation.npz"
    if evaluation.is_file():
        try:
            with np.load(evaluation) as z:
                assignments = z["assignments"]
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(f"{evaluation} is unreadable ({exc}); run 'spikedyn evaluate {run_dir}' again") \
                from None
        if assignments.shape != (network.config.n_neurons,) or not np.issubdtype(assignments.dtype, np.integer):
            raise ConfigError(f"{evaluation} does not match the network; run 'spikedyn evaluate {run_dir}' again")
        return network, meta, assignments.astype(np.int64), "evaluation.npz"
    return network, meta, None, None


def export_run(run_dir: str | os.PathLike[str], path: str | os.PathLike[str], format: str = "nir", *,
               approximation=None, overwrite: bool = False) -> dict[str, Any]:
    """Write the trained network of ``run_dir`` to ``path`` in ``format``; return a summary.

    Parameters
    ----------
    run_dir : path
        A run directory (``spikedyn train``; labels from ``spikedyn evaluate`` are
        included when present).
    path : path
        The new file; must end in the format's suffix (``.nir``) and not exist unless
        ``overwrite``. Written atomically.
    format : {"nir"}
    approximation : spikedyn.export.nir.Approximation, optional
        The free scales of the conductance approximation (default: the tuned values).

    Returns
    -------
    dict
        ``path``, ``format``, ``model``, ``neurons``, ``nodes`` (name -> NIR type),
        ``edges``, ``bytes``, ``sha256``, ``labels`` (where they came from, or None) and
        the approximation's scales.

    Raises
    ------
    ConfigError
        For an unknown format, a bad output name, an existing output or a path that is
        not a run directory; nothing is written.
    """
    from ..io.files import atomic_write
    from .nir import DEFAULT_APPROXIMATION, build_graph

    path = check_output(path, format, overwrite=overwrite)
    network, meta, assignments, labels_from = load_labelled(run_dir)
    nir = require_nir()
    approximation = DEFAULT_APPROXIMATION if approximation is None else approximation
    provenance = {"samples_seen": int(network.samples_seen),
                  "labels_from": labels_from or "none: run 'spikedyn evaluate RUN' to name the neurons"}
    graph = build_graph(network.config, network.test_weights(), network.test_thresholds(), seed=network.seed,
                        assignments=assignments,
                        approximation=approximation, provenance=provenance)
    buffer = io.BytesIO()
    nir.write(buffer, graph)
    data = buffer.getvalue()
    atomic_write(path, lambda f: f.write(data))
    return {
        "command": "export",
        "run_dir": str(run_dir),
        "path": str(path),
        "format": format,
        "model": network.config.model,
        "neurons": network.config.n_neurons,
        "nodes": {name: type(node).__name__ for name, node in graph.nodes.items()},
        "edges": [list(edge) for edge in graph.edges],
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "labels": labels_from,
        "exc_scale": approximation.exc_scale,
        "inh_scale": approximation.inh_scale,
        "reset_offset": approximation.reset_offset,
    }
