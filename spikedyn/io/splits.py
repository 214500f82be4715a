"""Evaluation protocols: which images name the neurons, and the split that selects models.

Labelled pass
-------------
An unsupervised network needs one labelled pass (learning off) to name its neurons
(:func:`spikedyn.core.readout.assign_labels`). Diehl & Cook (2015) assign "a class to each
neuron, based on its highest response to the ten classes of digits over one
presentation of the training set", and the authors' code notes that "the results
presented in the paper ... used the 60000 examples of the training set to determine
neuron assignments" (``peter-u-diehl/stdp-mnist``, ``readme.txt``; the demo script
labels from the first 10,000, ``Diehl&Cook_MNIST_evaluation.py`` line 85,
``training_ending = '10000'``). spikedyn's default, ``learned``, is therefore the
training images the network learned from, once each (all 60,000 after a full epoch).
The other choices are ``first``/``last`` K training images and ``all`` 60,000.

Model selection
---------------
Nothing is ever chosen on the test set. Sweeps and tuning scripts learn from the
first 50,000 training images and score on the *validation split*, the last
:data:`VALIDATION_SAMPLES` = 10,000 training images, which they never learn from
(:func:`selection_split`). The test set gives final numbers only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError

#: MNIST's training images.
TRAIN_SAMPLES = 60_000
#: The validation split for model selection: the last this-many training images.
VALIDATION_SAMPLES = 10_000
#: How the neurons of a trained network are named; see the module docstring.
ASSIGN_CHOICES = ("learned", "first", "last", "all")
DEFAULT_ASSIGN = "learned"


@dataclass(frozen=True)
class Selection:
    """Training-set index ranges of a model-selection run: learn from ``learn``, score on ``validation``."""

    learn: range
    validation: range


def selection_split(n_train: int = TRAIN_SAMPLES, n_validation: int = VALIDATION_SAMPLES) -> Selection:
    """The training images to learn from and the validation images to score on (the last ``n_validation``)."""
    if not 0 < n_validation < n_train:
        raise ConfigError(f"n_validation must be in (0, {n_train}), got {n_validation}")
    return Selection(learn=range(0, n_train - n_validation), validation=range(n_train - n_validation, n_train))


def assign_range(choice: str, *, n_learned: int, n_available: int = TRAIN_SAMPLES, k: int | None = None) -> range:
    """Training-image indices of the labelled pass.

    Parameters
    ----------
    choice : {"learned", "first", "last", "all"}
        ``learned``: the first ``n_learned`` training images, those a network trained
        with ``spikedyn train --train-samples n_learned`` learned from (the authors'
        protocol); ``first``/``last``: the first/last ``k`` training images; ``all``:
        every training image.
    n_learned : int
        How many training images (from the first) the network learned from.
    n_available : int
        Training images in the data set.
    k : int, optional
        For ``first`` and ``last`` (required there, ignored otherwise).
    """
    if choice not in ASSIGN_CHOICES:
        raise ConfigError(f"unknown labelled pass {choice!r}; choose one of {', '.join(ASSIGN_CHOICES)}")
    if choice in ("first", "last"):
        if k is None:
            raise ConfigError(f"--assign-from {choice} needs --assign-samples K")
        if not 0 < k <= n_available:
            raise ConfigError(f"--assign-samples={k} is out of range; the data has {n_available} training images")
        return range(0, k) if choice == "first" else range(n_available - k, n_available)
    if choice == "all":
        return range(0, n_available)
    if not 0 < n_learned <= n_available:
        raise ConfigError(f"the run learned from {n_learned} training images but the data has {n_available}; "
                          "pass --assign-from first/last/all")
    return range(0, n_learned)


def take(images: np.ndarray, labels: np.ndarray, indices: range) -> tuple[np.ndarray, np.ndarray]:
    """``images[indices], labels[indices]`` (views, no copy)."""
    return images[indices.start:indices.stop], labels[indices.start:indices.stop]
