"""The outputs of a continual run: the summary as JSON, the accuracy matrix, the tasks and the metrics as
CSV, the weights after each task, the final network as a run directory, and the figures, written
atomically as one directory. ``docs/outputs.md`` describes every file and column."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.readout import PAPER_READOUT
from .protocol import ContinualResult


def _csv(rows: list[list[Any]]) -> str:
    def cell(x):
        if x is None or (isinstance(x, float) and not np.isfinite(x)):
            return ""
        return f"{x:.6f}" if isinstance(x, float) else str(x)
    return "".join(",".join(cell(x) for x in row) + "\n" for row in rows)


def write_outputs(result: ContinualResult, out_dir, *, iid: dict[str, Any] | None = None,
                  extra: dict[str, Any] | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Write a continual run to the new directory ``out_dir``, atomically as a whole
    (``overwrite``: replacing what ``out_dir`` held, e.g. the run's checkpoint).

    Files: ``continual.json`` (the summary: config, seed, version, protocol, the
    metrics, per-task records, and the i.i.d. reference if given),
    ``accuracy_matrix.csv``, ``tasks.csv``, ``metrics.csv`` (the summary's metrics, one per
    row), ``weights_per_task.npz`` (float32, one (n_input, N) array per task), ``network/``
    (the final network as a run directory, :mod:`spikedyn.io.runs`: ``spikedyn evaluate``,
    ``spikedyn plot`` and ``spikedyn.Network.load`` read it) and the figures
    ``accuracy_matrix.png``, ``task_accuracy.png``, ``receptive_fields.png``. Returns the summary.
    """
    from matplotlib.figure import Figure  # not pyplot: a notebook's backend is left alone

    from ..core.traces import UPDATE_KINDS
    from ..io.files import atomic_directory, json_text
    from ..io.runs import save_run
    from ..plotting import (
        plot_accuracy_matrix,
        plot_receptive_fields_per_task,
        plot_task_accuracy,
        receptive_fields_figsize,
        save_figure,
    )


    summary = result.summary()
    if iid is not None:
        summary["iid"] = iid
    summary.update(extra or {})
    names = summary["task_names"]
    R = result.accuracy_matrix
    with atomic_directory(out_dir, overwrite=overwrite) as tmp:
        (tmp / "continual.json").write_text(json_text(summary))
        rows = [["after_task"] + [f"task_{n}" for n in names]]
        rows += [[names[i]] + [float(R[i, j]) if j <= i else None for j in range(len(names))]
                 for i in range(len(names))]
        (tmp / "accuracy_matrix.csv").write_text(_csv(rows))
        rows = [["task", "classes", "new_task_accuracy", "old_task_accuracy", "train_samples", "presentations",
                 "mean_spikes_per_sample", "train_seconds", "eval_seconds", "unassigned_neurons", *UPDATE_KINDS]]
        for i, t in enumerate(result.tasks):
            rows.append([t.task, " ".join(map(str, t.classes)), summary["new_task_accuracy"][i],
                         summary["old_task_accuracy"][i], t.train_samples, t.presentations,
                         t.mean_spikes_per_sample, t.train_seconds, t.eval_seconds, t.unassigned_neurons,
                         *(t.updates.get(k, 0) for k in UPDATE_KINDS)])
        (tmp / "tasks.csv").write_text(_csv(rows))
        (tmp / "metrics.csv").write_text(_csv([["metric", "value"], *metric_rows(summary)]))
        if result.network is not None:
            save_run(tmp / "network", result.network, extra={"training": network_training(summary)})
        np.savez(tmp / "weights_per_task.npz", **{f"task_{n}": w for n, w in zip(names, result.weights_per_task)})
        title = f"{result.model}, {result.neurons} neurons, seed {result.seed}"
        fig = Figure(figsize=(7.5, 7.5), layout="constrained")
        plot_accuracy_matrix(R, fig.subplots(), task_names=names,
                             title=f"{title}: ACC {summary['final_average_accuracy']:.3f}")
        save_figure(fig, tmp / "accuracy_matrix.png")
        new = np.asarray(summary["new_task_accuracy"], float)[None]
        old = np.asarray([np.nan if x is None else x for x in summary["old_task_accuracy"]], float)[None]
        fig = Figure(figsize=(7.5, 5.0), layout="constrained")
        bwt = summary["bwt"]
        plot_task_accuracy({result.model: {"new": new, "old": old}}, fig.subplots(), task_names=names,
                           title=f"{title}: ACC {summary['final_average_accuracy']:.3f}"
                                 + (f", BWT {bwt:+.3f}" if bwt is not None else ""),
                           reference=None if iid is None else {result.model: [iid["average_accuracy"]]},
                           chance=chance_levels(result.protocol))
        save_figure(fig, tmp / "task_accuracy.png")
        fig = Figure(figsize=receptive_fields_figsize(len(names)), layout="constrained")
        plot_receptive_fields_per_task(result.weights_per_task, fig, task_names=names)
        save_figure(fig, tmp / "receptive_fields.png")
    return summary


#: The rows of ``metrics.csv``: (metric, key of the summary or a function of it).
METRICS = (
    ("final_average_accuracy", "final_average_accuracy"),
    ("mean_new_task_accuracy", lambda s: float(np.mean(s["new_task_accuracy"]))),
    ("mean_old_task_accuracy", lambda s: _mean_defined(s["old_task_accuracy"])),
    ("bwt", "bwt"),
    ("forgetting", "forgetting"),
    ("average_incremental_accuracy", "average_incremental_accuracy"),
    ("iid_average_accuracy", lambda s: s["iid"]["average_accuracy"] if s.get("iid") else None),
)


def _mean_defined(values) -> float | None:
    defined = [x for x in values if x is not None]
    return float(np.mean(defined)) if defined else None


def metric_rows(summary: dict[str, Any]) -> list[list[Any]]:
    """``[metric, value]`` rows of a continual summary (an undefined metric is an empty cell)."""
    rows = [[name, summary.get(key) if isinstance(key, str) else key(summary)] for name, key in METRICS]
    for kind, m in summary.get("readouts", {}).items():  # the paper's readout is the rows above
        if kind != PAPER_READOUT:
            rows += [[f"final_average_accuracy_{kind}_readout", m["final_average_accuracy"]],
                     [f"bwt_{kind}_readout", m["bwt"]]]
    return rows


def readouts_line(summary: dict[str, Any]) -> str:
    """``"other readouts: proportion ACC 0.812, ..."`` for the CLI, or ``""`` when none was recorded."""
    others = [f"{kind} {m['final_average_accuracy']:.3f}" for kind, m in summary.get("readouts", {}).items()
              if kind != PAPER_READOUT]
    return ("final average accuracy under the other readouts (spikedyn.core.readout; the paper's above): "
            + ", ".join(others)) if others else ""


def network_training(summary: dict[str, Any]) -> dict[str, Any]:
    """The ``"training"`` record of a continual run's ``network/run.json``: how it learned and how
    its neurons were named (``spikedyn evaluate`` reads ``assigned_by`` for its default)."""
    protocol = summary["protocol"]
    return {"command": "continual", "tasks": summary["task_names"], "protocol": protocol,
            "dataset": summary.get("dataset"), "train_samples": int(sum(t["train_samples"] for t in summary["tasks"])),
            "assigned_by": "continual",
            "assignments": f"the labelled pass after the last task: {protocol['assign_per_class']} of the learned "
                           "images per class seen"}


def chance_levels(protocol: dict[str, Any]) -> list[float]:
    """The newest task's chance accuracy after each task: its classes over the classes seen so far
    (a network named from the classes seen so far predicts one of them)."""
    sizes = []
    for name in protocol["tasks"]:
        lo, _, hi = str(name).partition("-")
        sizes.append(1 if not hi else int(hi) - int(lo) + 1)
    return [sizes[i] / sum(sizes[:i + 1]) for i in range(len(sizes))]
