"""``surrogate-mlp``: surrogate-gradient SNNs as candidates of ``spikedyn search``
(:mod:`spikedyn.search.families`).

A candidate of size ``neurons`` is an SNN MLP of LIF layers ``neurons`` wide
(:class:`SurrogateMLPConfig`; grid keys ``surrogate-mlp.layers``, ``.timesteps``, ``.epochs``,
``.batch_norm``, ...) trained by BPTT with labels on the first ``train_samples`` training images
and evaluated in spikedyn's kernel on the validation split. Its costs, on the search's table:
memory, the SNN's footprint; inference, the operations the kernel counted per validation image;
training, BPTT's matrix products per training sample (:func:`spikedyn.cost.training_macs`), each
with a weight read. The estimate before training assumes the hidden layers' measured spike
rate (:data:`RATE`).
"""

from __future__ import annotations

from typing import Any

from ..cost import predict_layered_tally
from ..search.families import LayeredFamily, overrides_for, register
from .train import SurrogateMLPConfig

#: Spikes per neuron and step of the hidden layers, measured on the 784-4x256-10 network (seed 0,
#: T = 10, one epoch, BN: 0.26-0.29 by layer; experiments/results/deep/acceptance/surrogate_mnist.json).
RATE = 0.27


class SurrogateMLP(LayeredFamily):
    name = "surrogate-mlp"
    description = "an SNN MLP of LIF layers trained with surrogate gradients (Ledinauskas et al. 2020)"
    labels = "every training image"
    config_type = SurrogateMLPConfig
    neuron = "lif"

    def config(self, candidate, base) -> SurrogateMLPConfig:
        return SurrogateMLPConfig(width=candidate.neurons, **overrides_for(self, candidate.overrides))

    def train_steps(self, config: SurrogateMLPConfig) -> int:
        return config.timesteps

    def predicted_tally(self, config: SurrogateMLPConfig) -> dict[str, float]:
        return predict_layered_tally(config.sizes(), config.timesteps, (RATE,) * config.layers + (0.0,),
                                     spiking_output=False)

    def train_and_score(self, config, x, y, x_val, y_val, *, seed: int) -> dict[str, Any]:
        from .train import train_and_score

        out = train_and_score(config, x, y, x_val, y_val, seed=seed)
        return {k: out[k] for k in ("accuracy", "numba_jax_agreement", "tally")}


register(SurrogateMLP())
