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
# # Exploring a Pareto model search
#
# `spikedyn.search.run_search` prices every candidate network before training it, prunes
# those that break the budget, trains and scores the rest on the validation split, and
# picks the most accurate model within the budget (`spikedyn search` on the command
# line). This notebook runs a small search, explores its front in 2-D projections, and
# looks inside the chosen model: its receptive fields and, on a short class-incremental
# run, its accuracy matrix. Set `QUICK = False` for a search worth reading (minutes, not
# seconds).

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

import spikedyn
from spikedyn import continual, plotting, search

QUICK = os.environ.get("SPIKEDYN_NOTEBOOK_QUICK", "0") == "1"

space = search.SearchSpace(models=("lateral", "spikedyn"), neurons=(20, 50) if QUICK else (100, 200, 400),
                           weight_bits=(32, 8))
budget = search.Budget(max_memory_kb=250 if QUICK else 2000)
protocol = search.SearchProtocol(train_samples=100 if QUICK else 3000, validation_samples=100 if QUICK else 2000)
print(protocol.describe())
out = Path(tempfile.mkdtemp(prefix="spikedyn-search-"))
result = search.run_search(space, budget, protocol, out_dir=out, jobs=2, progress=False)

# %% [markdown]
# ## Every candidate
#
# Pruned candidates were never trained: their costs are the estimate's.

# %%
print(f"{'candidate':22s} {'accuracy':>8s} {'memory KB':>10s} {'train uJ':>9s} {'infer uJ':>9s}  note")
for c in result["candidates"]:
    if c["pruned"]:
        print(f"{c['id']:22s} {'-':>8s} {c['estimate']['memory_kb']:10.0f} {'-':>9s} {'-':>9s}  pruned: {c['reason']}")
    else:
        note = ("selected" if c["id"] == result["selected"] else "") + (" front" if c["on_front"] else "")
        print(f"{c['id']:22s} {c['accuracy']:8.3f} {c['memory_kb']:10.0f} {c['train_energy_uj']:9.2f} "
              f"{c['infer_energy_uj']:9.2f}  {note}")

# %% [markdown]
# ## The front, in 2-D projections, with the budget

# %%
fig, axes = plt.subplots(1, 3, figsize=(18, 4.8), layout="constrained")
bounds = {"memory_kb": budget.max_memory_kb, "train_energy_uj": budget.max_train_energy_uj,
          "infer_energy_uj": budget.max_infer_energy_uj}
for ax, (key, bound) in zip(axes, bounds.items()):
    plotting.plot_pareto(result["candidates"], key, ax, budget=bound, selected=result["selected"])

# %% [markdown]
# ## The chosen model: its receptive fields
#
# Trained again here, with the search's protocol and seed, to look at its weights.

# %%
chosen = next(c for c in result["candidates"] if c["id"] == result["selected"])
config = spikedyn.NetworkConfig.from_dict(chosen["config"])
x, y = spikedyn.load_mnist("train", n=protocol.train_samples)
net = spikedyn.Network(config, seed=protocol.seeds[0]).fit(x, progress=False)
plotting.plot_weights(net.weights, title=f"{chosen['id']}: receptive fields")

# %% [markdown]
# ## The chosen model learning classes one at a time
#
# A short class-incremental run on the validation split: the accuracy matrix.

# %%
small = continual.Protocol(samples_per_task=40 if QUICK else 1000, assign_per_class=20 if QUICK else 100,
                           test_per_class=20 if QUICK else None, split="validation")
run = continual.run(config, seed=0, protocol=small, progress=False)
plotting.plot_accuracy_matrix(run.accuracy_matrix, task_names=[t.task for t in run.tasks],
                              title=f"{chosen['id']}, {small.samples_per_task} images per task")

# %% [markdown]
# ## The committed acceptance search
#
# `experiments/results/search/` holds the search of the README (5 sizes x `spikedyn`,
# `asp` x 32 and 8 bits, 3,000 KB). Its front, if it is there:

# %%
import json

committed = Path("..") / "experiments" / "results" / "search" / "search.json"
if committed.is_file():
    s = json.loads(committed.read_text())
    fig, axes = plt.subplots(1, 3, figsize=(18, 4.8), layout="constrained")
    for ax, key in zip(axes, ["memory_kb", "train_energy_uj", "infer_energy_uj"]):
        plotting.plot_pareto(s["candidates"], key, ax, budget=s["budget"].get(f"max_{key}"), selected=s["selected"])
    print("selected:", s["selected"], "| front:", ", ".join(s["front"]))
else:
    print("not run yet: see the README, 'Choosing a network within a budget'")
