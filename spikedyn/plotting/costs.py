"""Figures of costs: a search's accuracy against cost, speed against size, energy per model."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError
from .common import _new_axes, save_figure

def plot_scaling(results: list[dict[str, Any]], ax=None, *, title: str | None = None):
    """Draw wall time per sample against the number of neurons, from ``spikedyn bench`` results.

    Parameters
    ----------
    results : list of dict
        The ``"results"`` of a bench summary; each with ``backend``, ``model``,
        ``mode``, ``neurons``, ``samples_per_second`` and optionally ``threads``.
        Entries without a positive speed are skipped.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if omitted. (Passing a file name here, as
        ``spikedyn bench --plot`` still does, saves the figure there; deprecated,
        use ``save_figure(plot_scaling(results).figure, path)``.)
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
        ``ax`` (or the new axes), log-log, one line per (backend, model, mode,
        threads), solid for training and dashed for inference.

    Raises
    ------
    ConfigError
        If no result has a positive speed.
    """
    if isinstance(ax, (str, os.PathLike)):  # old signature plot_scaling(results, path)
        path = ax
        save_figure(plot_scaling(results, title=title).figure, path)
        return None
    lines: dict[tuple, list[tuple[int, float]]] = {}
    for r in results:
        if r.get("samples_per_second", 0) > 0:
            key = (r["backend"], r["model"], r["mode"], r.get("threads", 1))
            lines.setdefault(key, []).append((int(r["neurons"]), 1e3 / float(r["samples_per_second"])))
    if not lines:
        raise ConfigError("no benchmark results with a positive speed to plot")
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    ax = _new_axes(ax, (7.5, 5.0))
    for (backend, model, mode, threads), points in sorted(lines.items()):
        points.sort()
        ax.plot([n for n, _ in points], [ms for _, ms in points], marker="o",
                linestyle="-" if mode == "train" else "--",
                label=f"{backend} {model} {mode} ({threads} thread{'s' if threads != 1 else ''})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(sorted({n for points in lines.values() for n, _ in points}))
    ax.xaxis.set_major_formatter(FormatStrFormatter("%d"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.set_xlabel("excitatory neurons N")
    ax.set_ylabel("wall time per sample (ms)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(title if title is not None else "time per sample (350 ms presentation + 150 ms rest in training)")
    return ax


#: Axis names of the search's costs, in words with units.
COST_AXES = {"memory_kb": "memory footprint (KB)", "train_energy_uj": "training energy per sample (uJ)",
             "infer_energy_uj": "inference energy per sample (uJ)"}
_MARKERS = {64: "o", 32: "s", 16: "^", 8: "D", 4: "v"}


def _readable_log_axis(axis, low: float, high: float) -> None:
    """Ticks written as plain numbers (no 10^x): at 1, 2 and 5 times the powers of ten over up to
    2.5 decades (``low`` to ``high``), at the powers of ten alone over more (so labels do not collide)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    wide = high / max(low, 1e-300) > 10 ** 2.5
    axis.set_major_locator(LogLocator(base=10, subs=(1.0,) if wide else (1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _place_labels(ax, points: list[tuple[float, float, str]], fontsize: float = 7) -> None:
    """Annotate each (x, y, text) where its box overlaps no box placed before (display
    coordinates, boxes estimated from the text's length), trying eight offsets in turn."""
    ax.figure.canvas.draw_idle()
    placed: list[tuple[float, float, float, float]] = []
    offsets = [(6, 6), (6, -14), (-6, 6), (-6, -14), (6, 16), (6, -24), (-6, 16), (-6, -24)]
    for x, y, text in points:
        px, py = ax.transData.transform((x, y))
        w, h = 0.62 * fontsize * len(text) * ax.figure.dpi / 72, 1.3 * fontsize * ax.figure.dpi / 72
        for dx, dy in offsets:
            ox, oy = dx * ax.figure.dpi / 72, dy * ax.figure.dpi / 72
            box = (px + ox - (w if dx < 0 else 0), py + oy, w, h)
            if all(box[0] + box[2] < b[0] or b[0] + b[2] < box[0] or box[1] + box[3] < b[1] or b[1] + b[3] < box[1]
                   for b in placed):
                break
        placed.append(box)
        ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                    ha="right" if dx < 0 else "left", va="bottom",
                    arrowprops={"arrowstyle": "-", "color": "0.5", "linewidth": 0.5})


def plot_pareto(candidates: Sequence[Mapping[str, Any]], cost_key: str, ax=None, *, budget: float | None = None,
                selected: str | None = None, title: str | None = None):
    """Validation accuracy against one cost of the candidates of a search (:mod:`spikedyn.search`).

    One colour per model family and one marker per weight width; each evaluated candidate
    at its measured cost with its accuracy's mean ± sd over seeds as an error bar. The
    front of this projection (no other candidate is both cheaper and more accurate) is a
    step line and its candidates are labelled (labels placed so they do not overlap); the
    others are listed under the axes. The selected candidate is ringed. Pruned candidates
    were never trained, so they have no accuracy: they are ticks on the bottom edge at
    their *estimated* cost. The budget is a vertical line with the region beyond it
    shaded. The cost axis is logarithmic, ticked at 1, 2, 5 x 10^k in plain numbers.
    Returns the Axes.
    """
    from ..search.pareto import pareto_front

    ax = _new_axes(ax, (8.0, 5.5))
    done = [c for c in candidates if not c["pruned"] and c.get("accuracy") is not None
            and c.get(cost_key) is not None]
    pruned = [c for c in candidates if c["pruned"] and c["estimate"].get(cost_key) is not None]
    families = list(dict.fromkeys(c["model"] for c in candidates))
    colour = {m: f"C{i % 10}" for i, m in enumerate(families)}
    shown_legend: set = set()
    labels: list[tuple[float, float, str]] = []
    others: list[str] = []
    if done:
        xs = np.array([c[cost_key] for c in done], float)
        ys = np.array([c["accuracy"] for c in done], float)
        front = pareto_front(np.column_stack([ys, xs]), ["max", "min"])
        order = np.argsort(xs[front])
        fx, fy = xs[front][order], ys[front][order]
        ax.step(np.concatenate([fx, [fx[-1] * 1.5]]), np.concatenate([fy, [fy[-1]]]), where="post", color="0.2",
                linestyle="--", linewidth=1, alpha=0.8, label="front (this projection)", zorder=1)
        for c, x, y, on in zip(done, xs, ys, front):
            marker = _MARKERS.get(int(c.get("weight_bits", 64)), "o")
            key = (c["model"], marker)
            ax.errorbar([x], [y], yerr=[c.get("accuracy_sd") or 0.0], marker=marker, color=colour[c["model"]],
                        markersize=7 if on else 5, alpha=1.0 if on else 0.55, capsize=2, linestyle="none", zorder=3)
            if key not in shown_legend:  # a legend entry at full colour, whatever the first point's alpha
                ax.plot([], [], marker=marker, color=colour[c["model"]], linestyle="none",
                        label=f"{c['model']}, {c.get('weight_bits')}-bit weights")
                shown_legend.add(key)
            if on:
                labels.append((x, y, c["id"]))
            else:
                others.append(f"{c['id']} {y:.3f}")
            if c["id"] == selected:
                ax.scatter([x], [y], s=260, facecolors="none", edgecolors="C3", linewidths=2, zorder=4,
                           label="selected")
    for c in pruned:
        ax.plot([c["estimate"][cost_key]], [0.0], transform=ax.get_xaxis_transform(), marker="|", markersize=14,
                markeredgewidth=2, color=colour[c["model"]], linestyle="none", clip_on=False, zorder=3,
                label="pruned: never trained, at its estimated cost" if c is pruned[0] else None)
    ax.set_xscale("log")
    if budget is not None:
        ax.axvline(budget, color="C3", linestyle="--", label=f"budget {budget:,g}")
        ax.axvspan(budget, ax.get_xlim()[1] * 10, color="C3", alpha=0.07, zorder=0)
    xs_all = [c[cost_key] for c in done] + [c["estimate"][cost_key] for c in pruned]
    if xs_all:
        ax.set_xlim(min(xs_all) / 1.6, max(xs_all) * 1.6)
        _readable_log_axis(ax.xaxis, min(xs_all), max(xs_all))
    ax.set_xlabel(COST_AXES.get(cost_key, cost_key) + ", log scale")
    ax.set_ylabel("validation accuracy (mean ± sd over seeds)")
    ax.grid(alpha=0.3, which="major")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    _place_labels(ax, sorted(labels))
    if others:
        ax.text(1.01, 0.0, "not on the front:\n" + "\n".join(others), transform=ax.transAxes, fontsize=6,
                va="bottom", ha="left", color="0.3")
    if title:
        ax.set_title(title)
    return ax


def plot_energy_ratio(energy: Mapping[tuple[str, int], Mapping[str, Any]], ax=None, *, baseline: str,
                      paper: Mapping[int, float] | None = None, paper_model: str | None = None,
                      title: str | None = None, unit: str = "uJ"):
    """Energy per sample of each model relative to a baseline model of the same size, as bars on a
    linear axis (1 = the baseline), each labelled with its absolute energy.

    Energies of different models and sizes span orders of magnitude; bars on a log axis hide
    that (a bar's length on a log axis means nothing). The ratio to the baseline is what a
    claim such as "-51 % training energy" states, and it reads on a linear axis.

    Parameters
    ----------
    energy : mapping of (model, neurons) to dict
        ``{"values": [energy per seed], "estimate": float or None}`` in ``unit``.
    ax : matplotlib.axes.Axes, optional
    baseline : str
        The model every bar is divided by, at the same size (its bars are 1).
    paper : mapping of int to float, optional
        A published ratio per size of ``paper_model`` (e.g. 0.49 for -51 %), drawn as a black
        diamond on that model's bar.
    paper_model : str, optional
        Whose published ratio ``paper`` is (default: the first model that is not the baseline).
    title : str, optional
    unit : str
        The energy unit written on the bars.

    Returns
    -------
    matplotlib.axes.Axes
        Grouped bars (one group per size, one colour per model, mean ± sd over seeds of the
        ratio, the baseline's mean as the denominator), the analytical estimate's ratio as a
        black bar mark, a dashed line at 1.
    """
    models = list(dict.fromkeys(m for m, _ in energy))
    sizes = sorted({n for _, n in energy})
    if baseline not in models:
        raise ConfigError(f"baseline {baseline!r} is not among the models {', '.join(models)}")
    ax = _new_axes(ax, (7.0, 4.5))
    width = 0.8 / len(models)
    top = 1.0
    for j, model in enumerate(models):
        for i, n in enumerate(sizes):
            cell, base = energy.get((model, n)), energy.get((baseline, n))
            if cell is None or base is None or not cell.get("values") or not base.get("values"):
                continue
            ref = float(np.mean(base["values"]))
            values = np.asarray(cell["values"], float) / ref
            mean = float(values.mean())
            sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
            x = i + (j - (len(models) - 1) / 2) * width
            ax.bar(x, mean, width * 0.9, yerr=sd, capsize=3, color=f"C{j}", label=model if i == 0 else None)
            absolute = float(np.mean(cell["values"]))
            ax.text(x, mean + sd + 0.02, f"{absolute:,.0f}" if absolute >= 10 else f"{absolute:.3g}", ha="center",
                    va="bottom", fontsize=7)
            if cell.get("estimate") is not None and base.get("estimate"):
                est = cell["estimate"] / base["estimate"]
                ax.plot([x - width * 0.4, x + width * 0.4], [est, est], color="k", linewidth=2,
                        label="analytical estimate" if (i, j) == (0, 0) else None)
                top = max(top, est)
            top = max(top, mean + sd)
    if paper:
        first = paper_model or next((m for m in models if m != baseline), None)
        if first not in models:
            raise ConfigError(f"paper_model {first!r} is not among the models {', '.join(models)}")
        j = models.index(first)
        for i, n in enumerate(sizes):
            if n in paper:
                x = i + (j - (len(models) - 1) / 2) * width
                ax.plot(x, paper[n], marker="D", color="k", linestyle="none",
                        label=f"paper ({first})" if i == 0 else None)
    ax.axhline(1.0, color="0.3", linestyle="--", linewidth=1)
    ax.set_xticks(range(len(sizes)), [f"{n} neurons" for n in sizes])
    ax.set_ylim(0, top * 1.25)
    ax.set_ylabel(f"energy per sample / {baseline}'s\n(on the bars: {unit} per sample)")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    if title is not None:
        ax.set_title(title)
    return ax
