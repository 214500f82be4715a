"""ANN -> SNN conversion (Tan, Patel & Kozma, AAAI 2021): MNIST classifiers and CartPole DQNs.

=====================  ==========================================================
``run_mnist``          train a ReLU MLP, convert, simulate, compare (``convert --task mnist``)
``run_cartpole``       train a DQN, convert, play CartPole with the SNN (``--task cartpole``)
``convert``            percentile normalisation + integrate-and-fire SNN (``normalise``)
``readout``            ``spikes`` and ``spikes+membrane`` decisions
``mlp``                ReLU MLPs in JAX, trained with Optax
=====================  ==========================================================

Command line: ``spikedyn convert --task mnist|cartpole`` (:mod:`spikedyn.cli.deep`).
JAX, Optax and Gymnasium come with the ``deep`` extra; they are imported on first use.
"""

from .cartpole import run_cartpole
from .mnist import ConvertedMLPConfig, run_mnist, train_and_score
from .normalise import V_INIT, convert, layer_scales, normalise
from .options import TASKS
from .readout import READOUTS

__all__ = ["READOUTS", "TASKS", "V_INIT", "ConvertedMLPConfig", "convert", "layer_scales", "normalise", "run_cartpole",
           "run_mnist", "train_and_score"]
