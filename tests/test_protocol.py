"""Evaluation protocols: the labelled pass and the validation split."""

from __future__ import annotations

import numpy as np
import pytest

from spikedyn.errors import ConfigError
from spikedyn.io.splits import ASSIGN_CHOICES, assign_range, selection_split, take


def test_selection_split_keeps_the_last_10000_training_images_for_validation() -> None:
    split = selection_split()
    assert split.learn == range(0, 50_000) and split.validation == range(50_000, 60_000)
    assert not set(split.learn) & set(split.validation)
    with pytest.raises(ConfigError, match="n_validation"):
        selection_split(100, 100)


@pytest.mark.parametrize("choice, kwargs, expected", [
    ("learned", {"n_learned": 3000}, range(0, 3000)),
    ("all", {"n_learned": 3000}, range(0, 60_000)),
    ("first", {"n_learned": 3000, "k": 500}, range(0, 500)),
    ("last", {"n_learned": 3000, "k": 500}, range(59_500, 60_000)),
])
def test_assign_range(choice, kwargs, expected) -> None:
    assert assign_range(choice, **kwargs) == expected


@pytest.mark.parametrize("choice, kwargs, message", [
    ("some", {"n_learned": 10}, "unknown labelled pass 'some'"),
    ("first", {"n_learned": 10}, "needs --assign-samples"),
    ("last", {"n_learned": 10, "k": 0}, "out of range"),
    ("learned", {"n_learned": 0}, "learned from 0 training images"),
])
def test_assign_range_errors(choice, kwargs, message) -> None:
    with pytest.raises(ConfigError, match=message):
        assign_range(choice, **kwargs)


def test_take_is_a_view() -> None:
    x, y = np.arange(20).reshape(10, 2), np.arange(10)
    tx, ty = take(x, y, range(3, 6))
    assert np.shares_memory(tx, x) and ty.tolist() == [3, 4, 5]
    assert set(ASSIGN_CHOICES) == {"learned", "first", "last", "all"}
