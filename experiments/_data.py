"""The data of an experiment's split, kept apart from ``_runner`` (which the selection scripts use and
which never names the test set: ``tests/test_search_families.py``)."""

from __future__ import annotations

from _runner import mnist

from spikedyn.io.splits import selection_split


def split_data(split: str):
    """``(learn images, learn labels, scored images, scored labels)`` of ``split``: ``validation``
    learns from training images 0-49,999 and scores 50,000-59,999 (the test set is not loaded);
    ``test`` learns from all 60,000 and scores the test images."""
    x, y = mnist("train")
    if split == "validation":
        s = selection_split(n_train=x.shape[0])
        return (x[s.learn.start:s.learn.stop], y[s.learn.start:s.learn.stop],
                x[s.validation.start:s.validation.stop], y[s.validation.start:s.validation.stop])
    xt, yt = mnist("test")
    return x, y, xt, yt
