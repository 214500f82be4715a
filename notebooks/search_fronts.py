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
# `spikedyn search` prices every candidate network before training it, prunes those that
# break the budget, trains and scores the rest on the validation split, and picks the most
# accurate model within the budget. This notebook reads a finished search (its `--out`
# directory), shows every candidate and the front in 2-D projections, and looks inside the
# chosen model: its receptive fields and, on a short class-incremental run, its accuracy
# matrix.
#
# Set `SEARCH` to your search's `--out` directory; left at `None`, the notebook reads the
# committed search of the README (`experiments/results/search/`). With `NEW_SEARCH = True`
# it first runs a small search of its own, in a temporary directory it removes at the end.

# %% tags=["parameters"]
SEARCH = None  # the --out directory of a 'spikedyn search'; None: the committed search
NEW_SEARCH = False  # run a small search here first (minutes), and read that one
QUICK = False  # smaller everything (the test suite sets it)

# %%
import json
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

import spikedyn
from spikedyn import continual, plotting, search

QUICK = QUICK or os.environ.get("SPIKEDYN_NOTEBOOK_QUICK", "0") == "1"
scratch = None
if NEW_SEARCH:
    scratch = tempfile.TemporaryDirectory(prefix="spikedyn-search-")
    space = search.SearchSpace(models=("lateral", "spikedyn"), neurons=(20, 50) if QUICK else (100, 200, 400),
                               weight_bits=(32, 8))
    protocol = search.SearchProtocol(train_samples=100 if QUICK else 3000, validation_samples=100 if QUICK else 2000)
    search.run_search(space, search.Budget(max_memory_kb=250 if QUICK else 2000), protocol, out_dir=scratch.name,
                      jobs=2, progress=False)
    search_dir = Path(scratch.name)
else:
    committed = Path(spikedyn.__file__).resolve().parents[1] / "experiments" / "results" / "search"
    search_dir = Path(SEARCH) if SEARCH else committed
result = json.loads((search_dir / "search.json").read_text())
print(result["protocol"]["description"])

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
for key in ("memory_kb", "train_energy_uj", "infer_energy_uj"):
    fig, ax = plt.subplots(figsize=(9, 5.5), layout="constrained")
    plotting.plot_pareto(result["candidates"], key, ax, budget=result["budget"].get(f"max_{key}"),
                         selected=result["selected"])

# %% [markdown]
# ## The chosen model: its receptive fields
#
# Trained again here, with the search's protocol and first seed (fewer images with
# `QUICK`), to look at its weights.

# %%
chosen = next((c for c in result["candidates"] if c["id"] == result["selected"]), None)
if chosen is None:
    print("no candidate fits the budget by its measured costs: nothing was selected")
else:
    config = spikedyn.NetworkConfig.from_dict(chosen["config"])
    if QUICK:
        config = config.replace(n_neurons=min(config.n_neurons, 25))
    n_train = 200 if QUICK else result["protocol"]["train_samples"]
    x, y = spikedyn.load_mnist("train", n=n_train)
    net = spikedyn.Network(config, seed=result["protocol"]["seeds"][0]).fit(x, progress=False)
    plotting.plot_weights(net.weights, title=f"{chosen['id']}, {n_train} images")

# %% [markdown]
# ## The chosen model learning classes one at a time
#
# A short class-incremental run on the validation split: the accuracy matrix.

# %%
if chosen is not None:
    small = continual.Protocol(samples_per_task=40 if QUICK else 1000, assign_per_class=20 if QUICK else 100,
                               test_per_class=20 if QUICK else None, split="validation")
    run = continual.run(config, seed=0, protocol=small)
    plotting.plot_accuracy_matrix(run.accuracy_matrix, task_names=[t.task for t in run.tasks],
                                  title=f"{chosen['id']}, {small.samples_per_task} images per task")

# %%
if scratch is not None:
    scratch.cleanup()  # the notebook's own search leaves nothing behind
