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
# # Continual learning: your runs, across seeds and models
#
# Reads the outputs of `spikedyn continual` (any number of runs: models, sizes, seeds) with
# `spikedyn.compare`, the code of `spikedyn compare`, and shows the mean ± sd table, the
# seed-paired margins with their 95 % confidence intervals, the accuracy after each task
# and the accuracy matrices. `R[i, j]` is the accuracy on task `j` after learning task `i`.
#
# Set `RUNS` below to a directory holding your runs (searched recursively); left at
# `None`, the notebook reads the committed results of `experiments/continual_comparison.py`
# (ten one-class tasks, 4,000 images each, 3 seeds, test set).

# %% tags=["parameters"]
RUNS = None  # a directory of 'spikedyn continual --out' outputs (or an experiment's); None: the committed results
ABLATION = None  # a directory of ablation runs; None: the committed ablation, "" to skip

# %%
from pathlib import Path

import matplotlib.pyplot as plt
from IPython.display import Markdown, display

import spikedyn
from spikedyn.compare import comparison_figures, format_tables, group_runs, read_runs

RESULTS = Path(spikedyn.__file__).resolve().parents[1] / "experiments" / "results"  # a clone's committed results
runs_dir = Path(RUNS) if RUNS else RESULTS / "continual"
groups = group_runs(read_runs([runs_dir]))
display(Markdown(format_tables(groups)))

# %% [markdown]
# ## Newest task and previous tasks after each task, and the accuracy matrices
#
# Solid: the newest task; dashed: the mean over the previous tasks; dotted: each model's
# i.i.d. reference (the same images, all classes shuffled together); dash-dotted: chance
# (one over the classes seen so far).

# %%
comparison_figures(groups, new_figure=plt.figure, only="task_accuracy");

# %%
largest = max(g.neurons for g in groups)
for g in groups:
    if g.neurons == largest and g.kind == "continual":
        comparison_figures([g], new_figure=plt.figure, only="accuracy_matrix")

# %% [markdown]
# ## Ablation of SpikeDyn's four mechanisms
#
# Each mechanism removed in turn, and each alone (`experiments/continual_comparison.py
# --ablation`); a row is a variant: the mechanisms its config switches off.

# %%
ablation_dir = RESULTS / "continual_ablation" if ABLATION is None else Path(ABLATION) if ABLATION else None
if ablation_dir is not None and ablation_dir.is_dir():
    variants = group_runs(read_runs([ablation_dir]))
    display(Markdown(format_tables(variants, label="variant")))
    off = [[o.split("=")[0].split(".")[-1] for o in g.overrides if o.endswith("=false")] for g in variants]
    names = ["all four" if not o else "without " + ", ".join(o) for o in off]
    accs = [list(g.values("acc").values()) for g in variants]
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    ax.barh(names, [sum(a) / len(a) for a in accs], color=["C0" if not o else "C7" for o in off])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("final average accuracy (ACC), mean over seeds")
    ax.set_title("SpikeDyn's rule with mechanisms switched off")
else:
    print("no ablation runs to show")
