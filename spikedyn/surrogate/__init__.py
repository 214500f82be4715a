"""Deep SNNs trained with surrogate gradients (Ledinauskas et al., arXiv 2006.04436).

=====================  ==========================================================
``run_mnist``          train, evaluate in JAX and in spikedyn's kernel, price (``surrogate --task mnist``)
``train``              BPTT with a surrogate spike derivative, with or without BN
``to_snn``             the trained network as a :class:`~spikedyn.feedforward.LayeredSNN` (BN folded)
``model``              the network, the surrogate shapes, BN folding, training MACs
=====================  ==========================================================

Command line: ``spikedyn surrogate --task mnist`` (:mod:`spikedyn.cli.deep`).
"""

from ..cost.operations import training_macs
from .model import SURROGATES, fold
from .train import SurrogateMLPConfig, jax_logits, run_mnist, to_snn, train, train_and_score

__all__ = ["SURROGATES", "SurrogateMLPConfig", "fold", "jax_logits", "run_mnist", "to_snn", "train", "train_and_score",
           "training_macs"]
