"""Comparing runs across seeds and models: the tables, margins and figures of ``spikedyn compare``.

The one implementation behind ``spikedyn compare DIR ...`` and the comparison scripts of
``experiments/`` (``continual_comparison.py``): both turn their runs into :class:`Run`
records, group them, and write the same files.

Runs
----
:func:`read_runs` finds, under the paths it is given (directories are searched
recursively), every output it can compare:

- a continual run: ``continual.json`` of ``spikedyn continual --out``, its ``--json``, or
  an experiment's stored record (``{"summary": ..., "iid": ...}``);
- a standard-protocol run: a run directory that ``spikedyn evaluate`` scored
  (``run.json`` and ``evaluation.json``), an ``evaluate --json`` whose run directory is
  still there, or an experiment's stored record (``{"config", "test_accuracy", "task"}``).

Runs are grouped by kind, label (the model, or an experiment's variant name), size,
the overrides of their config against the model's defaults (``section.field=value``)
and the protocol; one group is one row. Two outputs of the same run (the
``continual.json`` and its ``--json`` copy) count once.

Statistics (:mod:`spikedyn.core.stats`)
---------------------------------------
Every cell is mean ± sample SD over seeds. For every pair of groups that differ only
in their label (two models at one size, same protocol and overrides), the margin
``a - b`` of each headline metric is the mean of the seed-paired differences with its
95 % Student's t-interval; an interval that contains 0 is "within noise".

Files (:func:`write_comparison`)
--------------------------------
``table.md``, ``table.csv``, ``margins.md``, ``margins.csv``, and the figures: per size,
``task_accuracy_<N>.png`` (newest- and previous-task accuracy after each task, mean ± SD,
each model's i.i.d. reference and the chance level) and ``accuracy_matrix_<label>_<N>.png``
(the accuracy matrix, mean over seeds) for continual runs; ``accuracy.png`` (test
accuracy against size, mean ± SD) for standard ones.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .core.stats import mean_sd, paired_margin
from .errors import ConfigError

__all__ = ["CONTINUAL_METRICS", "Group", "Run", "STANDARD_METRICS", "comparison_figures", "format_tables",
           "group_runs", "margin_rows", "read_runs", "run_from_record", "table_rows", "write_comparison"]

#: Columns of a continual table: (key, heading); the first three have margins.
CONTINUAL_METRICS = (("acc", "final average accuracy (ACC)"), ("new", "mean newest-task accuracy"),
                     ("old", "mean previous-tasks accuracy"), ("bwt", "BWT"), ("forgetting", "forgetting"),
                     ("iid", "i.i.d. reference"))
#: Columns of a standard-protocol table.
STANDARD_METRICS = (("accuracy", "test accuracy"),)
#: The metrics whose seed-paired margins are reported, per kind.
MARGIN_METRICS = {"continual": ("acc", "new", "old"), "standard": ("accuracy",)}


@dataclass
class Run:
    """One finished run, as the comparison reads it."""

    kind: str  # "continual" or "standard"
    label: str  # the model, or a variant's name
    model: str
    neurons: int
    seed: int
    overrides: tuple[str, ...]
    protocol: str
    metrics: dict[str, float | None]
    minutes: float | None = None
    source: str = ""
    #: continual only: per-task curves and the accuracy matrix
    task_names: list[str] = field(default_factory=list)
    new: list[float] = field(default_factory=list)
    old: list[float | None] = field(default_factory=list)
    accuracy_matrix: list[list[float | None]] = field(default_factory=list)
    chance: list[float] = field(default_factory=list)

    @property
    def key(self) -> tuple:
        return (self.kind, self.label, self.neurons, self.overrides, self.protocol)


@dataclass
class Group:
    """The runs of one row: same kind, label, size, overrides and protocol, one per seed."""

    kind: str
    label: str
    neurons: int
    overrides: tuple[str, ...]
    protocol: str
    runs: list[Run]

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.runs]

    def values(self, metric: str) -> dict[int, float]:
        """``{seed: value}`` of ``metric`` over the runs where it is defined."""
        return {r.seed: float(r.metrics[metric]) for r in self.runs if r.metrics.get(metric) is not None}


# -- reading ------------------------------------------------------------------------------------
def _flat(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out = {}
    for key, value in config.items():
        if isinstance(value, Mapping):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def overrides_of(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The fields of ``config`` (a ``NetworkConfig.to_dict()``) that differ from its model's defaults,
    as sorted ``section.field=value`` items (model and size excluded). The sections that only other
    models' parts declare are left out: the model never reads them (``asp.*`` of a ``spikedyn`` run
    made when ``asp``'s defaults were other is no override of it)."""
    from . import models
    from .config import NetworkConfig

    try:
        default = NetworkConfig(model=config["model"], n_neurons=int(config["n_neurons"])).to_dict()
        parts = models.get(config["model"]).parts.values()
    except (KeyError, TypeError, ValueError, ConfigError):
        return ()
    own = {name for part in parts for name in getattr(part, "sections", {})}
    foreign = {name for _, name, _ in models.declared_sections()} - own
    ours, theirs = _flat(config), _flat(default)
    return tuple(sorted(f"{k}={_show(v)}" for k, v in ours.items()
                        if k in theirs and k not in ("model", "n_neurons") and v != theirs[k]
                        and k.split(".", 1)[0] not in foreign))


def _show(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _continual_protocol(p: Mapping[str, Any], dataset: str | None = "mnist") -> str:
    """The protocol's description, by which runs are grouped and paired: runs on a dataset other than
    MNIST name it (a summary's ``dataset``; absent from the older ones, all on MNIST; None: pools that
    were given unnamed, which are grouped apart as ``unnamed``)."""
    tasks = p.get("tasks")
    tasks = ",".join(tasks) if isinstance(tasks, list) else str(tasks)
    test = p.get("test_per_class")
    draw = p.get("draw", "first")
    return (f"tasks {tasks}, {p.get('samples_per_task')} images per task, labelled pass {p.get('assign_per_class')} "
            f"per class, test {'all' if test is None else test} per class, {p.get('split', 'test')} split, "
            f"{draw} images" + ("" if dataset == "mnist" else f", dataset {dataset or 'unnamed'}"))


def _chance(task_names: Sequence[str]) -> list[float]:
    sizes = []
    for name in task_names:
        lo, _, hi = str(name).partition("-")
        sizes.append(1 if not hi else int(hi) - int(lo) + 1)
    return [sizes[i] / sum(sizes[:i + 1]) for i in range(len(sizes))]


def _mean_defined(values: Iterable[float | None]) -> float | None:
    defined = [x for x in values if x is not None]
    return float(np.mean(defined)) if defined else None


def _continual_run(summary: Mapping[str, Any], iid: Mapping[str, Any] | None, minutes: float | None, source: str,
                   label: str | None) -> Run:
    config = summary.get("config", {})
    names = [str(n) for n in summary["task_names"]]
    metrics = {"acc": summary["final_average_accuracy"], "new": float(np.mean(summary["new_task_accuracy"])),
               "old": _mean_defined(summary["old_task_accuracy"]), "bwt": summary.get("bwt"),
               "forgetting": summary.get("forgetting"),
               "iid": None if not iid else iid.get("average_accuracy")}
    for kind, m in summary.get("readouts", {}).items():  # absent from runs stored before spikedyn 0.6
        metrics[f"acc:{kind}"] = m.get("final_average_accuracy")
        metrics[f"bwt:{kind}"] = m.get("bwt")
    return Run(kind="continual", label=label or str(summary["model"]), model=str(summary["model"]),
               neurons=int(summary["neurons"]), seed=int(summary["seed"]), overrides=overrides_of(config),
               protocol=_continual_protocol(summary.get("protocol", {}), summary.get("dataset", "mnist")),
               metrics=metrics, minutes=minutes, source=source, task_names=names,
               new=list(summary["new_task_accuracy"]), old=list(summary["old_task_accuracy"]),
               accuracy_matrix=summary["accuracy_matrix"], chance=_chance(names))


def _standard_run(config: Mapping[str, Any], seed: int, accuracy: float, protocol: str, minutes: float | None,
                  source: str, label: str | None) -> Run:
    return Run(kind="standard", label=label or str(config["model"]), model=str(config["model"]),
               neurons=int(config["n_neurons"]), seed=int(seed), overrides=overrides_of(config), protocol=protocol,
               metrics={"accuracy": float(accuracy)}, minutes=minutes, source=source)


def _standard_protocol(training: Mapping[str, Any], evaluation: Mapping[str, Any]) -> str:
    images = training.get("learned_images", training.get("train_samples"))
    text = f"trained on {images} images x {training.get('epochs', 1)} epochs" if images else "trained"
    assign = evaluation.get("assign_from")
    return text + (f", labels from {assign}" if assign else "") + f", {evaluation.get('n_test', '?')} test images"


def run_from_record(record: Mapping[str, Any], source: str = "", label: str | None = None) -> Run | None:
    """The :class:`Run` a JSON record describes (see the module docstring), or None if it is no
    comparable result (a train summary, an estimate, a search ...). ``label``: the row's name
    (default: the model)."""
    if not isinstance(record, Mapping):
        return None
    wall = record.get("worker_wall_seconds")
    minutes = None if wall is None else float(wall) / 60
    if isinstance(record.get("summary"), Mapping) and "accuracy_matrix" in record["summary"]:
        return _continual_run(record["summary"], record.get("iid"), minutes, source, label)
    if "accuracy_matrix" in record and "task_names" in record:
        iid = record.get("iid")
        wall = record.get("wall_seconds")
        if wall is not None and iid:
            wall += iid.get("wall_seconds", 0.0)
        return _continual_run(record, iid, None if wall is None else wall / 60, source, label)
    if "test_accuracy" in record and isinstance(record.get("config"), Mapping) and isinstance(record.get("task"),
                                                                                             Mapping):
        task = record["task"]
        protocol = f"trained on the training images x {task.get('epochs', 1)} epochs, all test images"
        return _standard_run(record["config"], task.get("seed", 0), record["test_accuracy"], protocol, minutes,
                             source, label)
    if record.get("command") == "evaluate" and record.get("run_dir"):
        return _run_dir(Path(record["run_dir"]), label, evaluation=record, source=source)
    return None


def _run_dir(path: Path, label: str | None, evaluation: Mapping[str, Any] | None = None,
             source: str = "") -> Run | None:
    """The standard run a run directory holds, once evaluated; None otherwise (or for a continual
    run's network, which its continual.json describes)."""
    try:
        meta = json.loads((path / "run.json").read_text())
        if evaluation is None:
            evaluation = json.loads((path / "evaluation.json").read_text())
    except (OSError, ValueError):
        return None
    training = meta.get("training", {}) if isinstance(meta.get("training"), Mapping) else {}
    if training.get("command") == "continual" or not isinstance(meta.get("config"), Mapping):
        return None
    minutes = training.get("wall_seconds")
    return _standard_run(meta["config"], meta.get("seed", 0), evaluation["accuracy"],
                         _standard_protocol(training, evaluation), None if minutes is None else minutes / 60,
                         source or str(path), label)


def read_runs(paths: Iterable[str | Path]) -> list[Run]:
    """Every comparable run under ``paths`` (files, or directories searched recursively), each once.

    Raises
    ------
    ConfigError
        A path that does not exist, a JSON file named directly that is unreadable or holds
        no comparable run, two outputs of one run (same group and seed) that disagree, or
        no run at all.
    """
    runs: dict[tuple, Run] = {}

    def add(run: Run | None) -> None:
        if run is None:
            return
        key = (*run.key, run.seed)
        if key in runs and runs[key].metrics != run.metrics:
            raise ConfigError(f"{runs[key].source} and {run.source} are two results of {run.label}, {run.neurons} "
                              f"neurons, seed {run.seed}, and they differ; pass one of them")
        runs.setdefault(key, run)

    for path in map(Path, paths):
        if not path.exists():
            raise ConfigError(f"{path} does not exist; pass the --out directories (or --json files) of 'spikedyn "
                              "continual', 'spikedyn train' + 'evaluate', or an experiment's output directory")
        if path.is_file():
            record = _load(path, strict=True)
            run = run_from_record(record, str(path))
            if run is None:
                raise ConfigError(f"{path} holds no continual or evaluated run to compare; pass a continual.json, "
                                  "an 'evaluate --json' or a directory of them")
            add(run)
            continue
        for item in sorted(path.rglob("*")):
            if item.name == "run.json":
                add(_run_dir(item.parent, None))
            elif item.suffix == ".json" and item.name not in ("evaluation.json",):
                add(run_from_record(_load(item, strict=False), str(item)))
    if not runs:
        raise ConfigError(f"found no continual or evaluated run under {', '.join(map(str, paths))}; pass the --out "
                          "directories of 'spikedyn continual' (or of 'spikedyn train' after 'spikedyn evaluate')")
    return list(runs.values())


def _load(path: Path, *, strict: bool) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        if strict:
            raise ConfigError(f"{path} is not a readable JSON file ({type(exc).__name__}); pass a spikedyn "
                              "output") from None
        return None


# -- grouping and statistics ---------------------------------------------------------------------
def group_runs(runs: Iterable[Run]) -> list[Group]:
    """The runs grouped into rows: by kind, protocol and label in the order they first appear,
    then by size; within a group, by seed."""
    groups: dict[tuple, Group] = {}
    first: dict[tuple, int] = {}
    for run in runs:
        g = groups.setdefault(run.key, Group(run.kind, run.label, run.neurons, run.overrides, run.protocol, []))
        g.runs.append(run)
        for part in ((run.kind,), (run.kind, run.protocol), (run.kind, run.protocol, run.label)):
            first.setdefault(part, len(first))
    for g in groups.values():
        g.runs.sort(key=lambda r: r.seed)
    return sorted(groups.values(), key=lambda g: (first[(g.kind,)], first[(g.kind, g.protocol)],
                                                  first[(g.kind, g.protocol, g.label)], g.neurons, g.overrides))


def protocol_names(groups: Sequence[Group]) -> dict[str, str]:
    """``{protocol: "P1", ...}`` when the groups have more than one protocol, else ``{}``."""
    protocols = list(dict.fromkeys(g.protocol for g in groups))
    return {} if len(protocols) < 2 else {p: f"P{i + 1}" for i, p in enumerate(protocols)}


def display_name(g: Group, protocols: Mapping[str, str]) -> str:
    """The group's label, with its overrides (for a model's row) and protocol name when several."""
    name = g.label + (f" ({' '.join(g.overrides)})" if g.overrides and g.label == g.runs[0].model else "")
    return name + (f" [{protocols[g.protocol]}]" if g.protocol in protocols else "")


def _metrics(kind: str):
    return CONTINUAL_METRICS if kind == "continual" else STANDARD_METRICS


def table_rows(groups: Sequence[Group]) -> list[dict[str, Any]]:
    """One row per group: label, neurons, overrides, seeds, and ``(mean, sd)`` (or None) per metric."""
    rows = []
    for g in groups:
        row: dict[str, Any] = {"kind": g.kind, "label": g.label, "neurons": g.neurons,
                               "overrides": " ".join(g.overrides), "protocol": g.protocol, "seeds": g.seeds}
        for key, _ in _metrics(g.kind):
            values = list(g.values(key).values())
            row[key] = None if not values else mean_sd(values) if len(values) > 1 else (values[0], math.nan)
        minutes = [r.minutes for r in g.runs if r.minutes is not None]
        row["minutes"] = float(np.mean(minutes)) if minutes else None
        rows.append(row)
    return rows


def margin_rows(groups: Sequence[Group]) -> list[dict[str, Any]]:
    """For every pair of groups that differ only in their label, ``a - b`` of each margin metric
    over their common seeds (:func:`spikedyn.core.stats.paired_margin`)."""
    out = []
    for i, first in enumerate(groups):
        for second in groups[i + 1:]:
            a, b = first, second
            if (a.kind, a.neurons, a.overrides, a.protocol) != (b.kind, b.neurons, b.overrides, b.protocol) \
                    or a.label == b.label:
                continue
            common = sorted(set(a.seeds) & set(b.seeds))
            if not common:
                continue
            lead = MARGIN_METRICS[a.kind][0]  # a is the better of the two on the first metric: margins >= 0
            if np.mean([a.values(lead).get(s, np.nan) for s in common]) < \
                    np.mean([b.values(lead).get(s, np.nan) for s in common]):
                a, b = b, a
            row = {"kind": a.kind, "a": a.label, "b": b.label, "neurons": a.neurons, "seeds": common,
                   "overrides": " ".join(a.overrides), "protocol": a.protocol}
            for key in MARGIN_METRICS[a.kind]:
                va, vb = a.values(key), b.values(key)
                row[key] = paired_margin(va, vb) if set(va) & set(vb) else None
            out.append(row)
    return sorted(out, key=lambda r: (r["kind"], r["protocol"], r["neurons"]))


# -- writing -----------------------------------------------------------------------------------
def _cell(ms: tuple[float, float] | None, digits: int) -> str:
    """``mean ± sd``; the mean alone for one seed (sd NaN)."""
    if ms is None or not math.isfinite(ms[0]):
        return "-"
    return f"{ms[0]:.{digits}f}" + (f" ± {ms[1]:.{digits}f}" if math.isfinite(ms[1]) else "")


def format_tables(groups: Sequence[Group], *, label: str = "model", note: str | None = None) -> str:
    """The markdown of the mean ± SD tables (one per kind) and of the margins: what
    ``spikedyn compare`` prints and writes to ``table.md`` and ``margins.md``."""
    return "\n".join(part for part in (_table_md(groups, label, note), _margins_md(groups, label),
                                        _readouts_md(groups, label)) if part)


def _common_protocol(groups: Sequence[Group]) -> str | None:
    protocols = {g.protocol for g in groups}
    return protocols.pop() if len(protocols) == 1 else None


def _table_md(groups: Sequence[Group], label: str, note: str | None) -> str:
    parts = [] if note is None else [note, ""]
    rows = table_rows(groups)
    for kind in ("continual", "standard"):
        mine = [r for r in rows if r["kind"] == kind]
        if not mine:
            continue
        these = [g for g in groups if g.kind == kind]
        cols = _metrics(kind)
        shared = _common_protocol(these)
        with_overrides = any(r["overrides"] for r in mine)
        if note is None:
            parts += [f"{'Class-incremental' if kind == 'continual' else 'Standard-protocol'} runs"
                      + (f" ({shared})" if shared else "") + "; mean ± sd over seeds (the mean alone for one seed).", ""]
        short = protocol_names(these)
        head = [label, "neurons"] + (["overrides"] if with_overrides else []) + ([] if shared else ["protocol"])
        head += ["seeds"] + [c for _, c in cols] + ["minutes per run"]
        parts.append("| " + " | ".join(head) + " |")
        parts.append("|---|---:|" + ("---|" if with_overrides else "") + ("" if shared else "---|")
                     + "---:|" * (1 + len(cols) + 1))
        digits = 3 if kind == "continual" else 4
        for r in mine:
            cells = [f"`{r['label']}`", str(r["neurons"])] + ([r["overrides"] or "-"] if with_overrides else [])
            cells += [] if shared else [short[r["protocol"]]]
            cells += [str(len(r["seeds"]))] + [_cell(r[k], digits) for k, _ in cols]
            cells.append("-" if r["minutes"] is None else f"{r['minutes']:.1f}")
            parts.append("| " + " | ".join(cells) + " |")
        parts.append("")
        if not shared:
            parts += [f"{name}: {protocol}" for protocol, name in short.items()] + [""]
    return "\n".join(parts)


def _margins_md(groups: Sequence[Group], label: str, paper: Mapping[tuple[str, str, int], str] | None = None) -> str:
    rows = margin_rows(groups)
    if not rows:
        return ""
    names = {"acc": "ACC", "new": "newest task", "old": "previous tasks", "accuracy": "test accuracy"}
    parts = []
    for kind in ("continual", "standard"):
        mine = [r for r in rows if r["kind"] == kind]
        if not mine:
            continue
        # several protocols: each row names its own, with the table's names and legend
        protocols = protocol_names([g for g in groups if g.kind == kind])
        keys = MARGIN_METRICS[kind]
        with_paper = bool(paper) and any((r["a"], r["b"], r["neurons"]) in paper for r in mine)
        parts += ["Margins `a - b` in points (percentage points of accuracy): mean of the seed-paired differences "
                  "[95 % t-interval]; an interval containing 0 is within noise.", "",
                  f"| {label} a - b | neurons | " + ("protocol | " if protocols else "") + "seeds | "
                  + " | ".join(names[k] for k in keys) + (" | paper |" if with_paper else " |"),
                  "|---|---:|" + ("---|" if protocols else "") + "---:|" + "---:|" * len(keys)
                  + ("---|" if with_paper else "")]
        for r in mine:
            cells = [f"`{r['a']}` - `{r['b']}`", str(r["neurons"])] + ([protocols[r["protocol"]]] if protocols else [])
            cells.append(str(len(r["seeds"])))
            cells += ["-" if r[k] is None else r[k].format() for k in keys]
            if with_paper:
                cells.append(paper.get((r["a"], r["b"], r["neurons"]), "-"))
            parts.append("| " + " | ".join(cells) + " |")
        parts.append("")
        if protocols:
            parts += [f"{name}: {protocol}" for protocol, name in protocols.items()] + [""]
    return "\n".join(parts)


def readout_kinds(groups: Sequence[Group]) -> list[str]:
    """The readouts every run of a continual group recorded (the paper's first), in the order of
    :data:`spikedyn.core.readout.READOUTS`; empty when a run recorded none."""
    from .core.readout import READOUTS

    runs = [r for g in groups if g.kind == "continual" for r in g.runs]
    return [k for k in READOUTS if runs and all(r.metrics.get(f"acc:{k}") is not None for r in runs)]


def _readouts_md(groups: Sequence[Group], label: str) -> str:
    """ACC (and BWT) of every continual group under each readout, and each readout's seed-paired
    margin over the paper's: the readouts are always reported beside the paper's."""
    from .core.readout import PAPER_READOUT

    kinds = readout_kinds(groups)
    these = [g for g in groups if g.kind == "continual"]
    if len(kinds) < 2 or not these:
        return ""
    parts = ["Readouts (`spikedyn.core.readout.READOUTS`), each fitted on the same labelled pass and scored on "
             f"the same test spikes; `{PAPER_READOUT}` is the paper's (Diehl & Cook), the one every other table "
             "uses. ACC mean ± sd over seeds, BWT in brackets.", "",
             f"| {label} | neurons | seeds | " + " | ".join(f"`{k}`" for k in kinds) + " |",
             "|---|---:|---:|" + "---:|" * len(kinds)]
    for g in these:
        cells = [f"`{g.label}`" + (f" ({' '.join(g.overrides)})" if g.overrides and g.label == g.runs[0].model
                                   else ""), str(g.neurons), str(len(g.seeds))]
        for k in kinds:
            acc, bwt = list(g.values(f"acc:{k}").values()), list(g.values(f"bwt:{k}").values())
            cell = _cell(mean_sd(acc) if len(acc) > 1 else (acc[0], math.nan), 3)
            cells.append(cell + (f" ({np.mean(bwt):+.3f})" if bwt else ""))
        parts.append("| " + " | ".join(cells) + " |")
    parts += ["", f"Margin of each readout's ACC over `{PAPER_READOUT}`'s, points, seed-paired [95 % t-interval]:", "",
              f"| {label} | neurons | seeds | " + " | ".join(f"`{k}` - `{PAPER_READOUT}`" for k in kinds[1:]) + " |",
              "|---|---:|---:|" + "---:|" * (len(kinds) - 1)]
    for g in these:
        paper_acc = g.values(f"acc:{PAPER_READOUT}")
        cells = [f"`{g.label}`", str(g.neurons), str(len(g.seeds))]
        cells += [paired_margin(g.values(f"acc:{k}"), paper_acc).format() for k in kinds[1:]]
        parts.append("| " + " | ".join(cells) + " |")
    pairs = [r for r in margin_rows(these) if r["kind"] == "continual"]
    if pairs:
        by_key = {(g.label, g.neurons, " ".join(g.overrides), g.protocol): g for g in these}
        parts += ["", "ACC margins `a - b` between models under each readout, points, seed-paired [95 % t-interval] "
                  f"(pairs ordered as under `{PAPER_READOUT}`):", "",
                  f"| {label} a - b | neurons | seeds | " + " | ".join(f"`{k}`" for k in kinds) + " |",
                  "|---|---:|---:|" + "---:|" * len(kinds)]
        for r in pairs:
            a, b = (by_key[(r[x], r["neurons"], r["overrides"], r["protocol"])] for x in ("a", "b"))
            cells = [f"`{r['a']}` - `{r['b']}`", str(r["neurons"]), str(len(r["seeds"]))]
            cells += [paired_margin(a.values(f"acc:{k}"), b.values(f"acc:{k}")).format() for k in kinds]
            parts.append("| " + " | ".join(cells) + " |")
    return "\n".join(parts + [""])


def _csv_text(rows: list[list[Any]]) -> str:
    def cell(x):
        if x is None or (isinstance(x, float) and not math.isfinite(x)):
            return ""
        text = f"{x:.6f}" if isinstance(x, float) else str(x)
        return f'"{text}"' if "," in text else text
    return "".join(",".join(cell(x) for x in row) + "\n" for row in rows)


def _table_csv(groups: Sequence[Group]) -> str:
    keys = [k for k, _ in CONTINUAL_METRICS + STANDARD_METRICS]
    rows = [["kind", "label", "neurons", "overrides", "protocol", "seeds"]
            + [f"{k}_{x}" for k in keys for x in ("mean", "sd")] + ["minutes"]]
    for r in table_rows(groups):
        values = []
        for k in keys:
            values += list(r[k]) if r.get(k) is not None else [None, None]
        rows.append([r["kind"], r["label"], r["neurons"], r["overrides"], r["protocol"],
                     " ".join(map(str, r["seeds"]))] + values + [r["minutes"]])
    return _csv_text(rows)


def _margins_csv(groups: Sequence[Group]) -> str:
    rows = [["kind", "a", "b", "neurons", "overrides", "seeds", "metric", "margin", "sd", "low", "high", "confidence"]]
    for r in margin_rows(groups):
        for key in MARGIN_METRICS[r["kind"]]:
            m = r[key]
            if m is not None:
                rows.append([r["kind"], r["a"], r["b"], r["neurons"], r["overrides"], " ".join(map(str, r["seeds"])),
                             key, m.mean, m.sd, m.low, m.high, m.confidence])
    return _csv_text(rows)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "_" for c in name)


def comparison_figures(groups: Sequence[Group], *, new_figure=None, only: str | None = None) -> dict[str, Any]:
    """The figures of ``groups`` as ``{file name: matplotlib Figure}`` (see the module docstring).

    ``new_figure(figsize=..., layout=...)`` makes each figure: by default
    :class:`matplotlib.figure.Figure`, which chooses no backend (:func:`write_comparison` saves
    them); a notebook passes ``matplotlib.pyplot.figure`` to see them inline. ``only``: make
    only the figures whose file name starts with it (``"task_accuracy"``, ``"accuracy_matrix"``).
    """
    from matplotlib.figure import Figure  # not pyplot: a notebook's backend is left alone

    from .plotting import plot_accuracy_matrix, plot_task_accuracy
    from .plotting.network import plot_accuracy_by_size

    make = Figure if new_figure is None else new_figure

    def wanted(name: str) -> bool:
        return only is None or name.startswith(only)

    figures: dict[str, Any] = {}
    continual = [g for g in groups if g.kind == "continual"]
    protocols = protocol_names(continual)
    for n in sorted({g.neurons for g in continual}):
        at_n = [g for g in continual if g.neurons == n]
        names = at_n[0].runs[0].task_names
        at_n = [g for g in at_n if g.runs[0].task_names == names]  # one task list per figure
        curves, reference = {}, {}
        for g in at_n:
            name = display_name(g, protocols)
            curves[name] = {"new": [r.new for r in g.runs],
                            "old": [[np.nan if x is None else x for x in r.old] for r in g.runs]}
            iid = list(g.values("iid").values())
            if iid:
                reference[name] = iid
        seeds = sorted({s for g in at_n for s in g.seeds})
        if wanted(f"task_accuracy_{n}.png"):
            fig = make(figsize=(10.0 if len(curves) > 1 else 8.0, 5.0), layout="constrained")
            plot_task_accuracy(curves, fig.subplots(), task_names=names, reference=reference or None,
                               chance=at_n[0].runs[0].chance,
                               title=f"{n} neurons: newest task (solid), previous tasks (dashed); mean ± sd over "
                                     f"seeds {','.join(map(str, seeds))}")
            figures[f"task_accuracy_{n}.png"] = fig
        for g in at_n:
            parts = [g.label, *g.overrides] + ([protocols[g.protocol]] if g.protocol in protocols else [])
            name = f"accuracy_matrix_{_slug('-'.join(parts))}_{n}.png"
            if not wanted(name):
                continue
            stack = np.array([[[np.nan if x is None else x for x in row] for row in r.accuracy_matrix]
                              for r in g.runs], float)
            acc = list(g.values("acc").values())
            fig = make(figsize=(6.5, 5.5), layout="constrained")
            plot_accuracy_matrix(stack.mean(axis=0), fig.subplots(), task_names=names,
                                 title=f"{display_name(g, protocols)}, {n} neurons: mean over {len(g.runs)} "
                                       f"seed(s); ACC {np.mean(acc):.3f}")
            figures[name] = fig
    standard = [g for g in groups if g.kind == "standard"]
    if standard and wanted("accuracy.png"):
        series: dict[str, dict[int, list[float]]] = {}
        for g in standard:
            name = g.label + (f" ({' '.join(g.overrides)})" if g.overrides else "")
            series.setdefault(name, {})[g.neurons] = list(g.values("accuracy").values())
        fig = make(figsize=(7.0, 4.5), layout="constrained")
        plot_accuracy_by_size(series, fig.subplots())
        figures["accuracy.png"] = fig
    return figures


def write_comparison(groups: Sequence[Group], out: str | Path, *, label: str = "model", note: str | None = None,
                     paper: Mapping[tuple[str, str, int], str] | None = None) -> list[Path]:
    """Write the tables, margins and figures of ``groups`` into the directory ``out`` (each file
    atomically; see the module docstring). ``label``: the heading of the first column;
    ``note``: the sentence above the table (default: says the protocol); ``paper``: a
    column of published margins, by ``(a, b, neurons)``. Returns the paths written."""
    from .io.files import atomic_path
    from .plotting import save_figure

    out = Path(out)
    written = []

    def text(name: str, content: str) -> None:
        with atomic_path(out / name) as tmp:
            tmp.write_text(content)
        written.append(out / name)

    text("table.md", _table_md(groups, label, note))
    text("table.csv", _table_csv(groups))
    text("margins.md", _margins_md(groups, label, paper) or "No two groups share a size, protocol and seeds.\n")
    text("margins.csv", _margins_csv(groups))
    readouts = _readouts_md(groups, label)
    if readouts:
        text("readouts.md", readouts)
    for name, fig in comparison_figures(groups).items():
        save_figure(fig, out / name)
        written.append(out / name)
    return written
