# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The cost model: memory, energy by operation, by table
#
# `spikedyn.cost.estimate` prices a network before it is trained: memory from the config,
# operations per sample from the config, the data's mean pixel sum and calibrated
# activity statistics, energy from an energy table (`docs/cost.md`). This notebook shows
# where the memory and the energy go, how the picture changes with the hardware, and how
# close the estimate is to what the kernels count.
#
# `CHECK` is the CSV of `experiments/cost_model.py --check` (the estimate against the
# kernels' counts); left at `None`, the committed one.

# %% tags=["parameters"]
CHECK = None  # a check.csv of experiments/cost_model.py --check; None: the committed one

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import spikedyn
from spikedyn import cost
from spikedyn.cost import footprint
from spikedyn.cost import tables as energy_tables

MODELS = ["spikedyn", "asp", "diehl-cook", "lateral"]
SIZES = [100, 200, 400, 900, 1600]


def config(model, n, bits=32):
    return spikedyn.NetworkConfig(model=model, n_neurons=n).replace(precision__weight_bits=bits)


# %% [markdown]
# ## Memory by component (32-bit weights)

# %%
fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
labels, bottoms = [], None
parts = ["weights", "competition", "neuron_state", "thresholds", "traces", "rule_state", "delays", "spike_buffers"]
data = {p: [] for p in parts}
for model in MODELS:
    for n in (200, 400):
        fp = footprint.footprint_bytes(config(model, n))
        labels.append(f"{model}\n{n}")
        for p in parts:
            data[p].append(fp[p] / 1024)
bottom = np.zeros(len(labels))
for p in parts:
    ax.bar(labels, data[p], bottom=bottom, label=p)
    bottom += np.array(data[p])
ax.axhline(3000, color="C3", linestyle="--", label="3,000 KB")
ax.set_ylabel("KB")
ax.legend(fontsize=7, ncol=2)
ax.set_title("memory footprint by component")

# %% [markdown]
# ## Energy per sample by operation, on the 45 nm table and on Loihi (400 neurons)

# %%
tables = ["horowitz-45nm", "loihi"]
fig, axes = plt.subplots(2, 2, figsize=(13, 8), layout="constrained")
for row, table in enumerate(tables):
    for col, phase in enumerate(["train", "inference"]):
        ax = axes[row, col]
        estimates = {m: cost.estimate(config(m, 400), table=table) for m in MODELS}
        ops = sorted({op for e in estimates.values() for op, v in e["breakdown"][phase].items() if v > 0})
        bottom = np.zeros(len(MODELS))
        for op in ops:
            values = np.array([estimates[m]["breakdown"][phase].get(op, 0.0) for m in MODELS])
            ax.bar(MODELS, values, bottom=bottom, label=op)
            bottom += values
        ax.set_ylabel("uJ per sample")
        ax.set_title(f"{table}: {phase}")
        ax.legend(fontsize=6, ncol=2)

# %% [markdown]
# ## Energy against size, every built-in table
#
# On the 45 nm table the memory level steps: a model that no longer fits a 1 MB SRAM
# pays a DRAM access per weight. TrueNorth cannot learn on chip, so it has no training
# energy.

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.2), layout="constrained")
for table in energy_tables.builtin_tables():
    for ax, key in zip(axes, ["train_energy_uj", "infer_energy_uj"]):
        values = [cost.estimate(config("spikedyn", n), table=table)[key] for n in SIZES]
        if all(v is not None for v in values):
            ax.plot(SIZES, values, marker="o", label=table)
for ax, key in zip(axes, ["training", "inference"]):
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("excitatory neurons")
    ax.set_ylabel("uJ per sample")
    ax.set_title(f"spikedyn, {key}, 32-bit weights")
    ax.legend(fontsize=8)

# %% [markdown]
# ## The estimate against the kernels' counts
#
# `experiments/cost_model.py --check`: every model at 100 and 400 neurons, another seed
# and other images than the calibration, operations per sample counted and predicted.

# %%
import csv

check = Path(CHECK) if CHECK else (Path(spikedyn.__file__).resolve().parents[1] / "experiments" / "results"
                                   / "cost_check" / "check.csv")
with open(check) as f:
    rows = [r for r in csv.DictReader(f) if r["view"] == "model" and float(r["counted"]) > 0]
counted = np.array([float(r["counted"]) for r in rows])
predicted = np.array([float(r["predicted"]) for r in rows])
fig, ax = plt.subplots(figsize=(5.5, 5), layout="constrained")
ax.loglog(counted, predicted, ".", alpha=0.5)
lim = [counted.min() / 2, counted.max() * 2]
ax.plot(lim, lim, "k-", lw=0.8)
ax.fill_between(lim, [v * 0.9 for v in lim], [v * 1.1 for v in lim], color="0.85", label="±10 %")
ax.set_xlabel("counted per sample")
ax.set_ylabel("predicted per sample")
ax.legend()
ax.set_title("model operations, all models, 100 and 400 neurons")
err = np.abs(predicted / counted - 1)
print(f"{len(rows)} operation counts; largest relative error {err.max():.1%}, median {np.median(err):.1%}")
