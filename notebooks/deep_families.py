# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Three ways to obtain an SNN, on one cost model
#
# STDP networks learn without labels; a converted network starts from a trained ANN
# (Tan, Patel & Kozma, AAAI 2021); a surrogate-gradient network is trained directly with
# BPTT (Ledinauskas et al., arXiv 2006.04436). This notebook reads the results of
# `python experiments/deep_families.py` (`experiments/results/deep/`) and puts the
# families side by side: accuracy against time steps, the depth problem and its fix, and
# energy per inference on the 45 nm table and on Loihi (`docs/deep.md`).
#
# Set `DEEP` below to the `--out` of your own `experiments/deep_families.py` run and `SEARCH`
# to your `experiments/search_families.py` output; left at `None`, the notebook reads the
# committed results, from any working directory.

# %% tags=["parameters"]
DEEP = None  # an experiments/deep_families.py output directory; None: the committed results
SEARCH = None  # an experiments/search_families.py output directory; None: the committed results

# %%
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import spikedyn

COMMITTED = Path(spikedyn.__file__).resolve().parents[1] / "experiments" / "results"  # a clone's committed results
RESULTS = Path(DEEP) if DEEP else COMMITTED / "deep"
load = lambda name: json.loads((RESULTS / f"{name}.json").read_text())
mnist, cartpole, depth, energy = load("mnist_conversion"), load("cartpole_conversion"), load("depth"), load("energy")
search = json.loads(((Path(SEARCH) if SEARCH else COMMITTED / "search_families") / "search.json").read_text())
print("source hash of the results:", mnist["source_hash"])

# %% [markdown]
# ## The families side by side
#
# Energy per inference in the model view (uJ per test image; per decision for CartPole) on
# the 45 nm table and on Loihi, training energy per training sample on the 45 nm table
# (backpropagation runs on no chip), memory, time steps and labels (`energy.md`).

# %%
by_net = {}
for r in energy["rows"]:
    by_net.setdefault((r["family"], r["network"], r["timesteps"]), {})[r["table"]] = r
fmt = lambda x, f=".1f": "-" if x is None else format(x, f)
print(f"{'family':10} {'network':52} {'T':>4} {'acc':>6} {'45nm':>8} {'Loihi':>7} {'train45':>8} {'KB':>6}  labels")
for (family, network, t), tb in by_net.items():
    h, l = tb["horowitz-45nm"], tb["loihi"]
    print(f"{family:10} {network[:52]:52} {t:>4} {fmt(h['accuracy'], '.4f'):>6} {fmt(h['infer_energy_uj']):>8} "
          f"{fmt(l['infer_energy_uj'], '.2f'):>7} {fmt(h['train_energy_uj']):>8} {h['memory_kb']:>6.0f}  {h['labels']}")

# %% [markdown]
# ## Conversion: accuracy and agreement against T
#
# `spikes` reads the output spike count; `spikes+membrane` adds the final membrane
# potential, which is the time integral of the output current: no ties, no saturation.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
for run in mnist["runs"]:
    ts = sorted(int(t) for t in run["by_timesteps"])
    for readout, style in (("spikes", "--"), ("spikes+membrane", "-")):
        acc = [run["by_timesteps"][str(t)][readout]["accuracy"] for t in ts]
        axes[0].plot(ts, acc, style, marker="o", label=f"{run['input']} input, {readout}")
    axes[0].axhline(run["ann_accuracy"], color="grey", lw=0.8)
axes[0].set(xscale="log", xlabel="time steps T", ylabel="test accuracy", title="MNIST 784-500-10, converted (grey: ANN)",
            ylim=(0.96, 0.985))
axes[0].legend(fontsize=8)
main = cartpole["runs"][0]
ts = sorted(int(t) for t in main["by_timesteps"])
for readout, style in (("spikes", "--"), ("spikes+membrane", "-")):
    axes[1].plot(ts, [main["by_timesteps"][str(t)][readout]["decision_agreement"] for t in ts], style, marker="o",
                 label=f"agreement, {readout}")
    axes[1].plot(ts, [main["by_timesteps"][str(t)][readout]["return"] / 500 for t in ts], style, marker="s",
                 alpha=0.5, label=f"return / 500, {readout}")
axes[1].set(xscale="log", xlabel="time steps T", title="CartPole-v1 DQN, converted", ylim=(0, 1.02))
axes[1].legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Surrogate gradients: depth against batch-normalised input currents

# %%
summary = depth["summary"]
keys = sorted(summary, key=lambda k: (int(k.split("-")[0][1:]), k.endswith("nobn")))
fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
for i, key in enumerate(keys):
    s = summary[key]
    color = "tab:blue" if key.endswith("-bn") else "tab:red"
    axes[0].bar(i, s["accuracy_mean"], yerr=s["accuracy_sd"], color=color)
    axes[0].scatter([i] * len(s["accuracy"]), s["accuracy"], color="k", s=8, zorder=3)
    norms = np.mean(np.asarray(s["grad_norms_init"]), axis=0)
    axes[1].plot(range(1, len(norms) + 1), norms, marker="o", color=color,
                 ls="-" if key.startswith("L8") else ("--" if key.startswith("L4") else ":"), label=key)
axes[0].set_xticks(range(len(keys)), keys, rotation=30)
axes[0].set(ylabel="test accuracy (1 epoch, T = 10)", ylim=(0, 1), title="blue: with BN, red: without")
axes[1].set(yscale="log", xlabel="layer (input side first)", ylabel="‖dL/dW_l‖ at initialisation",
            title="gradient norms before training")
axes[1].legend(fontsize=7)
plt.show()

# %% [markdown]
# ## Energy per inference, each family, 45 nm and Loihi

# %%
rows = [r for r in energy["rows"] if r["table"] in ("horowitz-45nm", "loihi")]
names = list(dict.fromkeys(f"{r['family']}: {r['network']} (T={r['timesteps']})" for r in rows))
fig, ax = plt.subplots(figsize=(11, 0.45 * len(names) + 1), layout="constrained")
for k, table in enumerate(("horowitz-45nm", "loihi")):
    vals = []
    for name in names:
        match = [r for r in rows if r["table"] == table and f"{r['family']}: {r['network']} (T={r['timesteps']})" == name]
        vals.append(match[0]["infer_energy_uj"] or np.nan)
    ax.barh(np.arange(len(names)) + 0.4 * k, vals, height=0.4, label=table)
ax.set_yticks(np.arange(len(names)) + 0.2, names, fontsize=8)
ax.set(xscale="log", xlabel="uJ per inference")
ax.legend()
plt.show()

# %% [markdown]
# ## One Pareto front for the three families
#
# The search (`experiments/search_families.py`) learns from training images 0-4,999 and
# scores on the validation split (images 50,000 onwards); each point is a candidate's mean
# over its seeds; crosses were pruned by the estimate before training.

# %%
from spikedyn import plotting  # noqa: E402

colors = {"stdp": "tab:green", "converted-mlp": "tab:blue", "surrogate-mlp": "tab:orange"}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
for ax, key in zip(axes, ("infer_energy_uj", "train_energy_uj")):
    plotting.plot_pareto(search["candidates"], key, ax, selected=search["selected"],
                         title=f"accuracy vs {key} ({search['energy_table']})")
    for c in search["candidates"]:
        if not c["pruned"] and c.get(key) is not None:
            ax.scatter([c[key]], [c["accuracy"]], s=90, facecolors="none", edgecolors=colors[c["family"]], zorder=5)
axes[0].scatter([], [], facecolors="none", edgecolors="k", label="ring colour: family (green STDP, blue converted, "
                "orange surrogate)")
axes[0].legend(fontsize=7)
plt.show()
print("front:", ", ".join(search["front"]))
