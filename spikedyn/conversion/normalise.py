"""Layer-wise weight normalisation by a percentile of the ANN's activations, and the conversion.

Data-based normalisation (Diehl et al., IJCNN 2015) with the robust percentile of
Rueckauer et al. (Front. Neurosci. 2017) as Tan, Patel & Kozma (AAAI 2021) use it
(99.9 by default). With ``a_l`` the activations of layer ``l`` gathered on *training*
inputs (ReLU outputs of the hidden layers, zeros included, as BindsNET's
``data_based_normalization`` that their code builds on; the raw output of the last
layer), the scale of layer ``l`` is

    lambda_l = percentile_p(a_l)         (over every neuron and every gathered input)
    lambda_0 = input scale                (1: the input values are the ANN's inputs)

and the SNN's parameters are

    W'_l = W_l * lambda_{l-1} / lambda_l,      b'_l = b_l / lambda_l.

With ``per="neuron"`` (channel-wise normalisation, Kim et al., "Spiking-YOLO", AAAI 2020)
each hidden neuron ``j`` gets its own scale ``lambda_{l,j}`` (the percentile of its own
activations) and ``W'_l[i, j] = W_l[i, j] lambda_{l-1,i} / lambda_{l,j}``: every neuron, not
only the most active of its layer, can fire near one spike per step, which refines the
rate code at small T. The output layer keeps one scale, so the outputs stay comparable.

A ReLU network is positively homogeneous, so the normalised ANN computes
``a_l / lambda_l``: at most 1 for all but (100 - p) % of the activations, which an
integrate-and-fire neuron of threshold 1 then represents as a firing rate (spikes per
step) without saturating. Unlike BindsNET, the output layer is scaled too (by its own
percentile), so its spike count stays below one per step; the ``spikes+membrane``
readout is unaffected by that scale. A scale that is not > 0 (a dead layer, or an
output that is never positive) falls back to the layer's largest absolute activation,
then to 1.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import ConfigError
from ..feedforward import LayeredSNN

#: Initial membrane potential of the converted neurons, in units of the threshold: half of it
#: centres each neuron's quantisation error (its count rounds ``t r`` instead of truncating it;
#: Rueckauer et al., Front. Neurosci. 2017; Bu et al., ICLR 2022). Tan et al. start at 0.
V_INIT = 0.5


def check_percentile(percentile) -> float:
    """``percentile`` as a float in (0, 100], else a one-line ConfigError."""
    if isinstance(percentile, bool) or not isinstance(percentile, (int, float, np.floating, np.integer)) \
            or not np.isfinite(percentile) or not 0 < percentile <= 100:
        raise ConfigError(f"percentile must be a number in (0, 100] (e.g. 99.9), got {percentile!r}")
    return float(percentile)


PER = ("layer", "neuron")


def _scale(a: np.ndarray, p: float, axis=None) -> np.ndarray:
    lam = np.percentile(a, p, axis=axis) if a.size else np.zeros(())
    fallback = np.abs(a).max(axis=axis) if a.size else np.zeros(())
    lam = np.where(lam > 0, lam, fallback)
    return np.where(lam > 0, lam, 1.0)


def layer_scales(activations: Sequence[np.ndarray], percentile: float = 99.9, per: str = "layer") -> list:
    """``lambda_1 .. lambda_L``: the ``percentile`` of each layer's activations (see the module docstring);
    with ``per="neuron"`` an array of one scale per neuron for every hidden layer."""
    p = check_percentile(percentile)
    if per not in PER:
        raise ConfigError(f"normalisation must be per one of {', '.join(PER)}, got {per!r}")
    out = []
    for l, a in enumerate(activations):
        a = np.asarray(a, np.float64)
        neuron = per == "neuron" and l < len(activations) - 1
        out.append(_scale(a, p, axis=0) if neuron else float(_scale(a, p)))
    return out


def normalise(params, scales: Sequence[float], input_scale: float = 1.0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``W'_l = W_l lambda_{l-1} / lambda_l``, ``b'_l = b_l / lambda_l`` in float64 (each scale a number or,
    per neuron, an array)."""
    if len(scales) != len(params):
        raise ConfigError(f"need one scale per layer: {len(params)} layers, {len(scales)} scales")
    out, prev = [], np.asarray(float(input_scale))
    for (w, b), lam in zip(params, scales):
        w, b = np.asarray(w, np.float64), np.asarray(b, np.float64)
        lam = np.broadcast_to(np.asarray(lam, np.float64), b.shape)
        prev = np.broadcast_to(prev, (w.shape[0],))
        out.append((w * prev[:, None] / lam[None, :], b / lam))
        prev = lam
    return out


def to_snn(normalised, *, v_init: float = V_INIT) -> LayeredSNN:
    """The converted SNN: integrate-and-fire (no leak) in every layer, the output included, threshold 1,
    reset by subtraction; biases become a constant current per step."""
    ws, bs = zip(*normalised)
    n = len(ws)
    return LayeredSNN(weights=ws, biases=bs, betas=(1.0,) * n, spiking=(True,) * n, threshold=1.0, v_init=v_init)


def convert(params, activations: Sequence[np.ndarray], *, percentile: float = 99.9, input_scale: float = 1.0,
            v_init: float = V_INIT, per: str = "layer") -> tuple[LayeredSNN, list]:
    """Normalise ``params`` by the ``percentile`` of ``activations`` (gathered on training inputs) and
    convert: returns the SNN and the scales ``lambda_1 .. lambda_L``. The hidden layers of a QCFS
    network (:func:`spikedyn.conversion.mlp.act`) take their trained clipping levels as scales, so
    that with ``v_init = 1/2`` each IF neuron of the first hidden layer counts exactly the ANN's
    quantised activation in ``levels`` steps; its output layer keeps the percentile."""
    from .mlp import clips, weights

    scales = layer_scales(activations, percentile, per)
    trained = clips(params)
    if trained is not None:  # a QCFS network (Bu et al. 2022): each hidden layer's scale is its trained clip
        scales = [*trained, scales[-1]]
    return to_snn(normalise(weights(params), scales, input_scale), v_init=v_init), scales


def scales_record(scales) -> list:
    """The scales for a JSON result: a number per layer-wise scale, a list per neuron-wise one."""
    return [np.asarray(s).tolist() for s in scales]
