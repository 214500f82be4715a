"""Figures: receptive fields, confusion matrices, spike rasters, voltage traces, scaling.

Every ``plot_*`` function draws into the matplotlib ``Axes`` it is given and returns
it; without one it creates a new figure (through :mod:`matplotlib.pyplot`, so that a
notebook shows it) and returns that figure's axes, so ``ax.figure`` is always the
figure drawn on. No function selects a matplotlib backend: in a notebook the
figures appear inline, and :func:`save_figure` writes a PNG with any backend (the
``spikedyn plot`` commands select the file-only ``Agg`` backend themselves).

Examples
--------
>>> import matplotlib.pyplot as plt
>>> fig, (left, right) = plt.subplots(1, 2)                     # doctest: +SKIP
>>> plot_weights(network.weights, left)                         # doctest: +SKIP
>>> plot_confusion(confusion, right)                            # doctest: +SKIP
>>> save_figure(fig, "figure.png")                              # doctest: +SKIP
"""


from .common import save_figure
from .continual import plot_accuracy_matrix, plot_receptive_fields_per_task, plot_task_accuracy, receptive_fields_figsize
from .costs import plot_pareto, plot_scaling
from .network import plot_confusion, plot_raster, plot_voltages, plot_weights, weight_grid

__all__ = [
    "plot_accuracy_matrix",
    "plot_confusion",
    "plot_pareto",
    "plot_raster",
    "plot_receptive_fields_per_task",
    "plot_scaling",
    "plot_task_accuracy",
    "plot_voltages",
    "plot_weights",
    "receptive_fields_figsize",
    "save_figure",
    "weight_grid",
]
