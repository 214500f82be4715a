"""The other ways to obtain an SNN, side by side: conversion (MNIST, CartPole) and surrogate gradients.

Produces, under ``--out`` (default ``experiments/results/deep``):

``mnist_conversion.{json,md}``
    784-500-10 ReLU MLP converted (seed 0), accuracy and decision agreement against T for both
    readouts, for constant-current and Poisson input; energy per inference against T.
``cartpole_conversion.{json,md}``
    the DQN converted (seed 0): return and agreement against T for both readouts; the ablation of
    the two choices that make the SNN follow the DQN (``v_init``, ``action_gap``) at T = 50.
``depth.{json,md}``
    surrogate-gradient SNNs with L = 2, 4, 8 hidden layers, with and without batch-normalised input
    currents, seeds 0-2, one epoch each: test accuracy and gradient norms per layer at initialisation.
``energy.{json,md}``
    energy per inference of each family on the 45 nm table and on Loihi (and the other tables), with
    the STDP networks' analytical estimates (``spikedyn.cost.estimate``) beside them.

Every run is stored in ``runs/<id>.json`` as it completes (a rerun computes only what is missing);
every result carries the source hash. ``--quick`` runs tiny versions (for CI and a first look).

Usage::

    SPIKEDYN_DATA_DIR=... python experiments/deep_families.py --out experiments/results/deep
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import int_list, mean_sd, run_tasks  # noqa: E402

from spikedyn._version import provenance  # noqa: E402
from spikedyn.cost.tables import builtin_tables  # noqa: E402
from spikedyn.io.files import atomic_path, write_json  # noqa: E402

DEPTHS = (2, 4, 8)
MNIST_SWEEP = (5, 10, 20, 50, 100, 200, 500)
CARTPOLE_SWEEP = (5, 10, 20, 50, 100)


def worker(task: dict[str, Any]) -> dict[str, Any]:
    """One run: ``task["kind"]`` is ``mnist``, ``cartpole`` or ``surrogate``; ``task["args"]`` its arguments."""
    args = dict(task["args"])
    if task["kind"] == "mnist":
        from spikedyn.conversion import run_mnist

        out = run_mnist(**args)
    elif task["kind"] == "cartpole":
        from spikedyn.conversion import run_cartpole

        out = run_cartpole(**args)
    else:
        from spikedyn.surrogate import run_mnist as run_surrogate

        out = run_surrogate(**args)
    return {"id": task["id"], "task": task, "result": out}


def _tasks(quick: bool, seeds: list[int]) -> dict[str, list[dict]]:
    if quick:
        mnist = dict(hidden=[32], epochs=1, n_train=2000, n_norm=2000, n_test=500, timesteps=50,
                     sweep=[5, 10, 20, 50])
        cart = dict(max_steps=3000, episodes=2, norm_episodes=2, timesteps=20, sweep=[5, 10, 20])
        surrogate = dict(n_train=2000, n_test=500, width=32)
        depths = (2, 4)
    else:
        mnist = dict(timesteps=500, sweep=list(MNIST_SWEEP))
        cart = dict(timesteps=100, sweep=list(CARTPOLE_SWEEP))
        surrogate = {}
        depths = DEPTHS
    out: dict[str, list[dict]] = {"mnist": [], "cartpole": [], "depth": []}
    for coding in ("constant", "poisson"):
        out["mnist"].append({"id": f"mnist-{coding}", "kind": "mnist", "args": {**mnist, "input": coding, "seed": 0}})
    out["cartpole"].append({"id": "cartpole", "kind": "cartpole", "args": {**cart, "seed": 0}})
    # the choices of docs/deep.md, each changed alone from the default (1024 ReLU units, advantage
    # learning 0.9, layer-wise percentiles, v_init 0.5), at T = 50 on the evaluation episodes of seed 0
    for name, change in (("default", {}), ("v_init 0", {"v_init": 0.0}), ("plain DQN", {"action_gap": 0.0}),
                         ("neuron-wise scales", {"normalisation": "neuron"}),
                         ("256-256 (the earlier default)", {"hidden": [256, 256]}),
                         ("256", {"hidden": [256]}),
                         ("QCFS 256", {"hidden": [256], "activation": "qcfs", "action_gap": 0.0})):
        args = {**cart, "timesteps": min(50, cart["timesteps"]), "sweep": [], "seed": 0, **change}
        out["cartpole"].append({"id": f"cartpole-{name.split(' (')[0].replace(' ', '_')}", "kind": "cartpole",
                                "args": args, "name": name})
    for layers in depths:
        for bn in (True, False):
            for seed in seeds:
                out["depth"].append({"id": f"surrogate-L{layers}-{'bn' if bn else 'nobn'}-seed{seed}",
                                     "kind": "surrogate",
                                     "args": {**surrogate, "layers": layers, "batch_norm": bn, "seed": seed}})
    return out


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.3g}" if b > 0 else ("–" if a == 0 else "∞")


def _fmt(x, digits=4):
    return "–" if x is None else f"{x:.{digits}f}"


def _by_t(by_timesteps: dict) -> list:
    """``(T, row)`` in increasing T (a stored run's JSON has the T's as text keys, in text order)."""
    return sorted(by_timesteps.items(), key=lambda item: int(item[0]))


def mnist_tables(runs: list[dict]) -> str:
    lines = ["# MNIST: converted 784-500-10 MLP (seed 0)", ""]
    for run in runs:
        r = run["result"]
        lines += [f"## input: {r['input']} (ANN accuracy {r['ann_accuracy']:.4f}; scales "
                  f"{', '.join(f'{s:.3g}' for s in r['scales'])})", "",
                  "| T | accuracy (spikes) | agreement (spikes) | accuracy (spikes+membrane) | "
                  "agreement (spikes+membrane) | energy 45 nm (uJ) |", "|---:|---:|---:|---:|---:|---:|"]
        for t, row in _by_t(r["by_timesteps"]):
            s, m = row["spikes"], row["spikes+membrane"]
            lines.append(f"| {t} | {s['accuracy']:.4f} | {s['decision_agreement']:.4f} | {m['accuracy']:.4f} | "
                         f"{m['decision_agreement']:.4f} | {_fmt(r['cost']['by_timesteps'][t], 1)} |")
        lines.append("")
    return "\n".join(lines)


def cartpole_tables(runs: list[dict]) -> str:
    main = runs[0]["result"]
    lines = ["# CartPole-v1: converted DQN (seed 0)", "",
             f"DQN: {main['hidden']} hidden, {main['dqn']['steps']} training steps, mean return "
             f"{main['ann_return']:.1f} over {main['episodes']} evaluation episodes.", "",
             "| T | return (spikes) | agreement (spikes) | return (spikes+membrane) | agreement (spikes+membrane) |",
             "|---:|---:|---:|---:|---:|"]
    for t, row in _by_t(main["by_timesteps"]):
        s, m = row["spikes"], row["spikes+membrane"]
        lines.append(f"| {t} | {s['return']:.1f} | {s['decision_agreement']:.4f} | {m['return']:.1f} | "
                     f"{m['decision_agreement']:.4f} |")
    lines += ["", f"## Each choice changed alone, at T = {runs[1]['result']['timesteps']}, spikes+membrane "
              "(evaluation episodes of seed 0; the choices were made on seeds 1 and 2, cartpole_selection/)", "",
              "| variant | hidden | activation | action gap | scales | v_init | DQN return | SNN return | agreement | "
              "agreement by action-gap quartile (smallest first) |", "|---|---|---|---:|---|---:|---:|---:|---:|---|"]
    for run in runs[1:]:
        r, c = run["result"], run["result"]["config"]
        quart = ", ".join(f"{q:.3f}" for q in r["agreement_by_gap_quartile"])
        lines.append(f"| {run['task']['name']} | {'-'.join(map(str, r['hidden']))} | {c['activation']} | "
                     f"{c['action_gap']} | {c['normalisation']} | {c['v_init']} | {r['ann_return']:.1f} | "
                     f"{r['snn_return']:.1f} | {r['decision_agreement']:.4f} | {quart} |")
    return "\n".join(lines) + "\n"


def depth_table(runs: list[dict]) -> tuple[str, dict]:
    groups: dict[tuple[int, bool], list[dict]] = {}
    for run in runs:
        r = run["result"]
        groups.setdefault((r["layers"], r["batch_norm"]), []).append(r)
    summary = {}
    lines = ["# Surrogate gradients: depth against batch-normalised input currents", "",
             "One epoch, T = 10, width 256, fast-sigmoid surrogate (scale 2), seeds 0-2; accuracy is the Numba "
             "kernel's on the 10,000 test images. Gradient norms ‖dL/dW_l‖ on the first minibatch, before any "
             "update, first and last layer (mean over seeds).", "",
             "| L | BN | accuracy (mean ± sd) | per seed | ‖dL/dW_1‖ | ‖dL/dW_out‖ | ratio first/last |",
             "|---:|:---:|---:|---|---:|---:|---:|"]
    for (layers, bn), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], not kv[0][1])):
        acc = [r["accuracy"] for r in rs]
        m, sd = mean_sd(acc)
        g_first = float(np.mean([r["grad_norms_init"][0] for r in rs]))
        g_last = float(np.mean([r["grad_norms_init"][-1] for r in rs]))
        summary[f"L{layers}-{'bn' if bn else 'nobn'}"] = {
            "accuracy_mean": m, "accuracy_sd": sd, "accuracy": acc,
            "grad_norms_init": [r["grad_norms_init"] for r in rs]}
        lines.append(f"| {layers} | {'yes' if bn else 'no'} | {m:.4f} ± {sd:.4f} | "
                     f"{', '.join(f'{a:.4f}' for a in acc)} | {g_first:.3g} | {g_last:.3g} | "
                     f"{_ratio(g_first, g_last)} |")
    lines += ["", "Gradient norm of every layer at initialisation (seed 0), input layer first:", "",
              "| L | BN | ‖dL/dW_l‖, l = 1 .. L+1 |", "|---:|:---:|---|"]
    for (layers, bn), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], not kv[0][1])):
        r0 = min(rs, key=lambda r: r["seed"])
        lines.append(f"| {layers} | {'yes' if bn else 'no'} | {', '.join(f'{g:.3g}' for g in r0['grad_norms_init'])} |")
    return "\n".join(lines) + "\n", summary


def energy_rows(mnist: list[dict], cartpole: list[dict], depth: list[dict]) -> list[dict]:
    """Energy per inference of each family on every shipped table, the STDP networks' estimates beside."""
    from spikedyn import cost as stdp_cost
    from spikedyn.config import NetworkConfig

    TABLES = builtin_tables()

    rows = []

    def add(family, what, timesteps, accuracy, c, labels):
        for table in TABLES:
            by = c["by_table"][table]
            rows.append({"family": family, "network": what, "timesteps": timesteps, "accuracy": accuracy,
                         "labels": labels, "table": table, "memory_kb": c["memory_kb"],
                         "infer_energy_uj": by["infer_energy_uj"],
                         "dense_infer_energy_uj": by["energy_uj_by_view"]["dense"]["infer"],
                         "train_energy_uj": by.get("train_energy_uj")})

    for run in mnist:
        r = run["result"]
        t100 = "100" if "100" in r["by_timesteps"] else str(r["timesteps"])
        add("converted", f"784-{'-'.join(map(str, r['hidden']))}-10 IF, {r['input']} input", int(t100),
            r["by_timesteps"][t100]["spikes+membrane"]["accuracy"], _cost_at(r, t100), "all (ANN training)")
        if r["input"] == "constant":
            for table in TABLES:
                ann = r["cost"]["by_table"][table]["ann_infer_energy_uj"]
                rows.append({"family": "ANN", "network": f"784-{'-'.join(map(str, r['hidden']))}-10 ReLU MLP",
                             "timesteps": 1, "accuracy": r["ann_accuracy"], "labels": "all", "table": table,
                             "memory_kb": r["cost"]["ann_memory_kb"], "infer_energy_uj": ann,
                             "dense_infer_energy_uj": ann, "train_energy_uj": None})  # its converted row has it
    seed0 = [run["result"] for run in depth if run["result"]["seed"] == 0 and run["result"]["batch_norm"]]
    for r in seed0:
        add("surrogate", f"784-{r['layers']}x{r['config']['width']}-10 LIF, BN folded", r["timesteps"],
            r["accuracy"], r["cost"], "all")
    for model in ("diehl-cook", "spikedyn"):
        config = NetworkConfig(model=model, n_neurons=400)
        for table in TABLES:
            e = stdp_cost.estimate(config, table=table)
            rows.append({"family": "STDP", "network": f"{model}, 400 neurons (analytical estimate)",
                         "timesteps": config.timing.present_steps, "accuracy": None,
                         "labels": "labelled pass only", "table": table,
                         "memory_kb": e["memory_kb"], "infer_energy_uj": e["infer_energy_uj"],
                         "dense_infer_energy_uj": e["energy_uj_by_view"]["dense"]["infer"],
                         "train_energy_uj": e["train_energy_uj"]})
    # the CartPole SNN at T = 50 with the defaults (the ablation's v_init 0.5, action_gap 0.9, layer-wise run)
    cp = next(run["result"] for run in cartpole if run["task"]["id"] == "cartpole-default")
    add("converted", f"CartPole DQN 4-{'-'.join(map(str, cp['hidden']))}-2 IF (per decision)", cp["timesteps"],
        None, cp["cost"], "rewards (DQN)")
    return rows


def _cost_at(result: dict, timesteps: str) -> dict:
    """The cost record of a conversion after ``timesteps`` steps, from the kernel's tally at that step."""
    from spikedyn import cost

    sizes = (784, *result["hidden"], 10)
    ops = cost.derive_layered(sizes, result["cost"]["tally_by_timesteps"][timesteps], neuron="if",
                              poisson=result["input"] == "poisson")
    return cost.layered_cost(sizes, ops, train=cost.derive_training(cost.training_macs(sizes, 1)))


def energy_table_md(rows: list[dict]) -> str:
    lines = ["# Energy per inference of each family", "",
             "uJ per inference sample (per decision for CartPole), model view (the dense view, a clock-driven "
             "simulator's, on 45 nm beside it); memory in KB at 32-bit weights. STDP rows are spikedyn's analytical "
             "estimates (default timing: 350 ms at 0.5 ms steps; inference has no rest); they need labels only for "
             "the labelled pass that names the neurons. A dash: the table cannot run it (TrueNorth has no graded "
             "inputs; backpropagation runs on no chip).", "",
             "| family | network | T | accuracy | labels | memory KB | 45 nm | 45 nm dense | Loihi | SpiNNaker 2 | "
             "TrueNorth |", "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    keyed: dict[tuple, dict] = {}
    for row in rows:
        keyed.setdefault((row["family"], row["network"], row["timesteps"]), {})[row["table"]] = row
    for (family, network, t), by in keyed.items():
        any_row = next(iter(by.values()))
        acc = any_row["accuracy"]
        lines.append(f"| {family} | {network} | {t} | {_fmt(acc)} | {any_row['labels']} | {any_row['memory_kb']:.0f} | "
                     f"{_fmt(by['horowitz-45nm']['infer_energy_uj'], 2)} | "
                     f"{_fmt(by['horowitz-45nm']['dense_infer_energy_uj'], 2)} | "
                     + " | ".join(_fmt(by[tb]['infer_energy_uj'], 2) for tb in ("loihi", "spinnaker2", "truenorth"))
                     + " |")
    train = [r for r in rows if r["train_energy_uj"] is not None and r["table"] == "horowitz-45nm"]
    if train:
        lines += ["", "Training energy per training sample on the 45 nm table: surrogate, BPTT's matrix products "
                  "(counted); converted and ANN, the ANN's backpropagation (one presentation of a sample in an "
                  "epoch; the conversion's percentile pass not counted); STDP, the analytical estimate (one "
                  "presentation). Multiply by the epochs for a whole training. No chip runs backpropagation.", "",
                  "| family | network | uJ per training sample |", "|---|---|---:|"]
        for r in train:
            lines.append(f"| {r['family']} | {r['network']} | {r['train_energy_uj']:.1f} |")
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    """A generated markdown table, atomically, with the source hash that produced it."""
    with atomic_path(path) as tmp:
        tmp.write_text(text + f"\nGenerated by experiments/deep_families.py, source {provenance()['source_hash']}.\n")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "deep")
    ap.add_argument("--seeds", type=int_list, default=[0, 1, 2], help="seeds of the depth table")
    ap.add_argument("--quick", action="store_true", help="tiny versions of every run")
    ap.add_argument("--parts", default="mnist,cartpole,depth", help="which parts to run")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    tasks = _tasks(args.quick, args.seeds)
    parts = [p for p in args.parts.split(",") if p]
    results = {part: run_tasks(worker, tasks[part], args.out, jobs=1, desc=part) for part in parts}
    meta = {**provenance(), "quick": args.quick, "seeds": args.seeds}
    if "mnist" in results:
        write_json(args.out / "mnist_conversion.json", {**meta, "runs": [r["result"] for r in results["mnist"]]})
        _write(args.out / "mnist_conversion.md", mnist_tables(results["mnist"]))
    if "cartpole" in results:
        write_json(args.out / "cartpole_conversion.json", {**meta, "runs": [r["result"] for r in results["cartpole"]]})
        _write(args.out / "cartpole_conversion.md", cartpole_tables(results["cartpole"]))
    if "depth" in results:
        md, summary = depth_table(results["depth"])
        write_json(args.out / "depth.json", {**meta, "summary": summary,
                                             "runs": [{k: v for k, v in r["result"].items() if k != "cost"}
                                                      for r in results["depth"]]})
        _write(args.out / "depth.md", md)
    if all(p in results for p in ("mnist", "cartpole", "depth")):
        rows = energy_rows(results["mnist"], results["cartpole"], results["depth"])
        write_json(args.out / "energy.json", {**meta, "rows": rows})
        _write(args.out / "energy.md", energy_table_md(rows))
    return results


if __name__ == "__main__":
    main()
