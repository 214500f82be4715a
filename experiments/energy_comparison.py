"""SpikeDyn's energy comparison: training and inference energy per sample of spikedyn, asp and diehl-cook.

Reads the continual-learning runs of ``experiments/continual_comparison.py`` (each run's
JSON holds the operations its kernels counted: training over all tasks, inference over
every labelled pass and test) and prices them, per model and size, on the 45 nm table
(weights stored at ``--weight-bits``, memory level from the footprint) and on each
neuromorphic table given; beside them, the analytical estimate made before training
(``spikedyn estimate``). Writes ``table.md``, ``table.csv`` and ``energy.png``: energy
per sample (mean ± sd over seeds; the figure: relative to ``asp`` on a linear axis), and the
reduction of ``spikedyn`` against ``asp`` beside the paper's (-51 % training / -37 % inference
at 400 neurons, -57 % / -51 % at 200); and ``views.md``: that reduction in each view of the
cost model (model, executed, dense; docs/cost.md), counted and estimated, on every table, to
say which view (if any) gives the paper's figures.

Usage::

    python experiments/continual_comparison.py --models spikedyn,asp,diehl-cook --neurons 200,400 \\
        --no-iid --out experiments/results/energy_runs --jobs 2
    python experiments/energy_comparison.py --runs experiments/results/energy_runs \\
        --out experiments/results/energy
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import mean_sd  # noqa: E402

from spikedyn import cost  # noqa: E402
from spikedyn.config import NetworkConfig  # noqa: E402
from spikedyn.cost.operations import VIEWS  # noqa: E402
from spikedyn.io.files import atomic_path  # noqa: E402

#: SpikeDyn (Putra & Shafique 2021): energy saving of SpikeDyn over ASP, training / inference.
PAPER = {400: (-0.51, -0.37), 200: (-0.57, -0.51)}
PHASES = (("train", "train"), ("inference", "infer"))


def _config(summary: dict, weight_bits: int) -> NetworkConfig:
    return NetworkConfig.from_saved(summary["config"]).replace(precision__weight_bits=weight_bits)


def measure(runs: list[dict], tables: list[str], weight_bits: int) -> dict:
    """(model, neurons) -> table -> {"train"/"infer": [uJ per seed], "estimate": {...}}."""
    out: dict = {}
    for r in runs:
        s = r["summary"]
        config = _config(s, weight_bits)
        key = (config.model, config.n_neurons)
        for table in tables:
            priced = cost.price(config, s["cost"]["tally"], table=table)
            cell = out.setdefault(key, {}).setdefault(table, {"train": [], "infer": []})
            for _, k in PHASES:
                cell[k].append(priced[f"{k}_energy_uj"])
            for view, by_phase in priced["energy_uj_by_view"].items():
                for k, value in by_phase.items():
                    cell.setdefault("views", {}).setdefault(view, {}).setdefault(k, []).append(value)
            if "estimate" not in cell:
                e = cost.estimate(config, table=table)
                cell["estimate"] = {k: e[f"{k}_energy_uj"] for _, k in PHASES}
                cell["estimate_views"] = e["energy_uj_by_view"]
                cell["memory_kb"] = e["memory_kb"]
    return out


def _ms(values) -> tuple[float, float] | None:
    return None if any(v is None for v in values) else mean_sd(values)


def _cell(ms) -> str:
    return "unavailable" if ms is None else f"{ms[0]:.1f} ± {ms[1]:.1f}"


def _num(x) -> str:
    return "unavailable" if x is None else f"{x:.1f}"


def paper_cell(neurons: int) -> str:
    """SpikeDyn's published reduction over ASP at ``neurons`` (training / inference), or "-"."""
    paper = PAPER.get(neurons)
    return "-" if paper is None else f"{paper[0]:+.0%} / {paper[1]:+.0%}"


def _reduction(a, b) -> str:
    return "-" if a is None or b is None else f"{a / b - 1:+.0%}"


def write(measured: dict, tables: list[str], weight_bits: int, out: Path, n_seeds: int) -> None:
    sizes = sorted({n for _, n in measured})
    md = [f"Energy per sample (uJ, mean ± sd over {n_seeds} seeds), counted by the kernels during the continual "
          f"protocol (training: every task; inference: every labelled pass and test), weights priced at "
          f"{weight_bits} bits; `estimate`: the analytical model before training.", ""]
    rows = []
    for table in tables:
        md += [f"**{table}**", "", "| model | neurons | memory (KB) | training | inference | training (estimate) | "
               "inference (estimate) |", "|---|---:|---:|---:|---:|---:|---:|"]
        for (model, n), by_table in sorted(measured.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            c = by_table[table]
            tr, inf = _ms(c["train"]), _ms(c["infer"])
            est = c["estimate"]
            md.append(f"| `{model}` | {n} | {c['memory_kb']:.0f} | {_cell(tr)} | {_cell(inf)} | "
                      f"{_num(est['train'])} | {_num(est['infer'])} |")
            rows.append({"table": table, "model": model, "neurons": n, "memory_kb": c["memory_kb"],
                         "train_uj_mean": None if tr is None else tr[0], "train_uj_sd": None if tr is None else tr[1],
                         "infer_uj_mean": inf[0], "infer_uj_sd": inf[1],
                         "train_uj_estimate": est["train"], "infer_uj_estimate": est["infer"]})
        md.append("")
        md += ["| neurons | spikedyn vs asp, training | inference | estimate: training | inference | paper |",
               "|---:|---:|---:|---:|---:|---|"]
        for n in sizes:
            if ("spikedyn", n) not in measured or ("asp", n) not in measured:
                continue
            a, b = measured[("spikedyn", n)][table], measured[("asp", n)][table]
            ta, tb, ia, ib = (_ms(a["train"]), _ms(b["train"]), _ms(a["infer"]), _ms(b["infer"]))
            md.append(f"| {n} | {_reduction(ta and ta[0], tb and tb[0])} | {_reduction(ia[0], ib[0])} | "
                      f"{_reduction(a['estimate']['train'], b['estimate']['train'])} | "
                      f"{_reduction(a['estimate']['infer'], b['estimate']['infer'])} | "
                      f"{paper_cell(n)} |")
        md.append("")
    with atomic_path(out / "table.md") as tmp:
        tmp.write_text("\n".join(md) + "\n")
    header = list(rows[0])
    lines = [",".join(header)] + [",".join("" if r[h] is None else str(r[h]) for h in header) for r in rows]
    with atomic_path(out / "table.csv") as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    _figure(measured, tables, out / "energy.png")


def write_views(measured: dict, tables: list[str], out: Path) -> None:
    """``views.md``: ``spikedyn`` against ``asp`` in every view, counted (mean over seeds) and estimated."""
    sizes = sorted(n for m, n in measured if m == "spikedyn" and ("asp", n) in measured)
    md = ["Energy of `spikedyn` relative to `asp` (training / inference per sample), in each view of the cost "
          "model: *model* (what the algorithm requires, the headline), *executed* (what spikedyn's event-driven "
          "kernels do), *dense* (a clock-driven simulator touching every synapse and neuron every step); "
          "counted by the kernels (mean over seeds) and, in brackets, the analytical estimate.", "",
          "| table | neurons | " + " | ".join(VIEWS) + " | paper |", "|---|---:|" + "---:|" * len(VIEWS) + "---|"]
    for table in tables:
        for n in sizes:
            a, b = measured[("spikedyn", n)][table], measured[("asp", n)][table]
            cells = []
            for view in VIEWS:
                counted = [_reduction(_mean(a["views"][view][k]), _mean(b["views"][view][k])) for _, k in PHASES]
                est = [_reduction(a["estimate_views"][view][k], b["estimate_views"][view][k]) for _, k in PHASES]
                cells.append(f"{counted[0]} / {counted[1]} ({est[0]} / {est[1]})")
            md.append(f"| {table} | {n} | " + " | ".join(cells) + f" | {paper_cell(n)} |")
    with atomic_path(out / "views.md") as tmp:
        tmp.write_text("\n".join(md) + "\n")


def _mean(values) -> float | None:
    return None if any(v is None for v in values) else float(np.mean(values))


def _figure(measured: dict, tables: list[str], path: Path) -> None:
    """Energy per sample relative to ``asp`` at the same size, on a linear axis (bars on a log axis
    would show nothing a reader can compare), one panel per table and phase
    (:func:`spikedyn.plotting.costs.plot_energy_ratio`)."""
    from matplotlib.figure import Figure

    from spikedyn.plotting import save_figure
    from spikedyn.plotting.costs import plot_energy_ratio

    fig = Figure(figsize=(12, 3.6 * len(tables)), layout="constrained")
    axes = fig.subplots(len(tables), 2, squeeze=False)
    for row, table in enumerate(tables):
        for col, (phase, k) in enumerate(PHASES):
            energy = {key: {"values": [v for v in by_table[table][k] if v is not None],
                            "estimate": by_table[table]["estimate"][k]} for key, by_table in measured.items()}
            plot_energy_ratio(energy, axes[row, col], baseline="asp",
                              paper={n: 1 + p[col] for n, p in PAPER.items()}, paper_model="spikedyn",
                              title=f"{table}: {phase} energy per sample, relative to asp")
    save_figure(fig, path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=Path, required=True, help="output directory of continual_comparison.py")
    ap.add_argument("--tables", default="horowitz-45nm,loihi,spinnaker2",
                    help="energy tables (default horowitz-45nm,loihi,spinnaker2)")
    ap.add_argument("--weight-bits", type=int, default=32, help="weight width priced (default 32)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    runs = [json.loads(p.read_text()) for p in sorted((args.runs / "runs").glob("*.json"))]
    runs = [r for r in runs if r["summary"].get("cost")]
    if not runs:
        print(f"no runs with counted operations in {args.runs}/runs", file=sys.stderr)
        return 2
    tables = args.tables.split(",")
    measured = measure(runs, tables, args.weight_bits)
    args.out.mkdir(parents=True, exist_ok=True)
    n_seeds = max(len(c[tables[0]]["train"]) for c in measured.values())
    write(measured, tables, args.weight_bits, args.out, n_seeds)
    write_views(measured, tables, args.out)
    print((args.out / "table.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
