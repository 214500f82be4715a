"""``converted-mlp``: converted MLPs as candidates of ``spikedyn search`` (:mod:`spikedyn.search.families`).

A candidate of size ``neurons`` is a ReLU MLP ``784-neurons-10`` (:class:`ConvertedMLPConfig`;
grid keys ``converted-mlp.timesteps``, ``.percentile``, ``.epochs``, ...) trained with labels on the
first ``train_samples`` training images, converted (percentiles from the same images) and
simulated in spikedyn's kernel on the validation split. Its costs, on the search's table:

- memory: the SNN's footprint (weights, biases, one membrane per neuron, spike bits);
- inference: the operations the kernel counted per validation image;
- training: the ANN's backpropagation MACs per training sample (:func:`spikedyn.cost.training_macs`
  with T = 1), each with a weight read; the percentile pass that converts it is not counted.

The estimate before training uses the spike rates of a measured conversion (:data:`RATES`).
"""

from __future__ import annotations

from typing import Any

from ..cost import predict_layered_tally
from ..search.families import LayeredFamily, overrides_for, register
from .mnist import ConvertedMLPConfig

#: Spikes per neuron and step of the hidden and the output layer, measured on the 784-500-10
#: conversion (seed 0, T = 100, constant-current input: 0.093 and 0.069;
#: experiments/results/deep/acceptance/convert_mnist.json); the estimate's assumption for every size.
RATES = (0.093, 0.069)
#: MNIST's mean pixel value over 255 (training set): a Poisson input's spikes per input and step at rate 1.
MEAN_PIXEL = 0.1307


class ConvertedMLP(LayeredFamily):
    name = "converted-mlp"
    description = "a ReLU MLP trained with labels, converted to an integrate-and-fire SNN (Tan et al. 2021)"
    labels = "every training image (the ANN's training)"
    config_type = ConvertedMLPConfig
    neuron = "if"

    def config(self, candidate, base) -> ConvertedMLPConfig:
        return ConvertedMLPConfig(hidden=(candidate.neurons,), **overrides_for(self, candidate.overrides))

    def train_steps(self, config) -> int:
        return 1  # the ANN

    def predicted_tally(self, config: ConvertedMLPConfig) -> dict[str, float]:
        sizes = config.sizes()
        return predict_layered_tally(sizes, config.timesteps, RATES, poisson=config.input == "poisson",
                                     input_spikes=MEAN_PIXEL * sizes[0] * config.rate * config.timesteps)

    def train_and_score(self, config, x, y, x_val, y_val, *, seed: int) -> dict[str, Any]:
        from .mnist import train_and_score

        out = train_and_score(config, x, y, x_val, y_val, seed=seed, sweep=())
        return {"accuracy": out["snn_accuracy"], "ann_accuracy": out["ann_accuracy"],
                "decision_agreement": out["decision_agreement"], "tally": out["tally"]}


register(ConvertedMLP())
