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
# # Continual learning: accuracy matrices, newest and previous tasks, ablation
#
# The committed results of `experiments/continual_comparison.py` (class-incremental MNIST:
# ten one-class tasks, 4,000 images each, never repeated; 3 seeds; test set), read with
# the public API. `R[i, j]` is the accuracy on task `j` after learning task `i`.

# %%
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from spikedyn import plotting
from spikedyn.continual import metrics

RESULTS = Path("..") / "experiments" / "results"


def runs(directory):
    """The stored runs of an experiment, by (model, neurons)."""
    out = {}
    for path in sorted((RESULTS / directory / "runs").glob("*.json")):
        r = json.loads(path.read_text())
        s = r["summary"]
        out.setdefault((s["model"], s["neurons"]), []).append(s)
    return out


comparison = runs("continual")
sorted(comparison)

# %% [markdown]
# ## Accuracy matrices at 400 neurons (mean over seeds)

# %%
models = ["spikedyn", "asp", "diehl-cook", "lateral"]
fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4.2), layout="constrained")
for ax, model in zip(axes, models):
    seeds = comparison[(model, 400)]
    R = np.nanmean([np.array([[np.nan if v is None else v for v in row] for row in s["accuracy_matrix"]])
                    for s in seeds], axis=0)
    plotting.plot_accuracy_matrix(R, ax, task_names=seeds[0]["task_names"],
                                  title=f"{model}: ACC {metrics.final_average_accuracy(R):.3f}")

# %% [markdown]
# ## Newest task and previous tasks, after each task (mean ± sd over seeds)

# %%
for n in (200, 400):
    curves = {}
    for model in models:
        seeds = comparison[(model, n)]
        new = np.array([s["new_task_accuracy"] for s in seeds], float)
        old = np.array([[np.nan if v is None else v for v in s["old_task_accuracy"]] for s in seeds], float)
        curves[model] = {"new": new, "old": old}
    plotting.plot_task_accuracy(curves, task_names=seeds[0]["task_names"],
                                title=f"{n} neurons: newest task (solid), previous tasks (dashed)")

# %% [markdown]
# ## Ablation of SpikeDyn's four mechanisms (400 neurons, 3 seeds)

# %%
import csv

with open(RESULTS / "continual_ablation" / "table.csv") as f:
    rows = list(csv.DictReader(f))
names = [r["variant"] for r in rows]
acc = np.array([float(r["acc_mean"]) for r in rows])
sd = np.array([float(r["acc_sd"]) for r in rows])
fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
ax.barh(names, acc, xerr=sd, color=["C0" if n == "all four" else "C7" for n in names])
ax.invert_yaxis()
ax.set_xlabel("final average accuracy (ACC), mean ± sd over 3 seeds")
ax.set_title("SpikeDyn's mechanisms removed in turn, and alone")
for name, a in zip(names, acc):
    print(f"{name:28s} {a:.3f}")
