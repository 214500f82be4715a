"""The Pareto front against the naive O(n^2) definition (property-based, hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spikedyn.errors import ConfigError
from spikedyn.search.pareto import dominates, pareto_front


def naive_front(points, senses):
    """Point i is on the front iff no point j is no worse everywhere and better somewhere."""
    def better_or_equal(x, y, s):
        return x >= y if s == "max" else x <= y

    def strictly_better(x, y, s):
        return x > y if s == "max" else x < y

    out = []
    for i, p in enumerate(points):
        beaten = False
        for j, q in enumerate(points):
            if j != i and all(better_or_equal(q[k], p[k], s) for k, s in enumerate(senses)) \
                    and any(strictly_better(q[k], p[k], s) for k, s in enumerate(senses)):
                beaten = True
                break
        out.append(not beaten)
    return out


# Small integer grids make ties and duplicates common, the cases an implementation gets wrong.
points_and_senses = st.integers(1, 4).flatmap(lambda k: st.tuples(
    st.lists(st.lists(st.integers(0, 5), min_size=k, max_size=k), min_size=1, max_size=40),
    st.lists(st.sampled_from(["max", "min"]), min_size=k, max_size=k)))


@settings(max_examples=300, deadline=None)
@given(points_and_senses)
def test_front_is_the_naive_definition(case) -> None:
    points, senses = case
    front = pareto_front(np.array(points, float), senses, block=7)  # several blocks
    assert front.tolist() == naive_front(points, senses)
    # no point on the front is dominated; every point off it is dominated by one on it
    on = [p for p, f in zip(points, front) if f]
    assert on, "a non-empty set has a non-empty front"
    for p, f in zip(points, front):
        if f:
            assert not any(dominates(q, p, senses) for q in points)
        else:
            assert any(dominates(q, p, senses) for q in on)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(1, 1e6)), min_size=1, max_size=30))
def test_accuracy_up_memory_down(points) -> None:
    front = pareto_front(np.array(points), ["max", "min"])
    assert front.tolist() == naive_front(points, ["max", "min"])
    best = max(p[0] for p in points)
    # the most accurate point (the cheapest among equals) is always on the front
    assert any(f and p[0] == best for p, f in zip(points, front))


def test_duplicates_stay_and_a_dominated_point_goes() -> None:
    v = [[0.9, 10.0], [0.9, 10.0], [0.8, 20.0], [0.95, 30.0]]
    assert pareto_front(v, ["max", "min"]).tolist() == [True, True, False, True]


@pytest.mark.parametrize("values, senses, message", [
    ([1.0, 2.0], ["max"], "must be a 2-D array"),
    ([[1.0, 2.0]], ["max"], "2 objectives but 1 senses"),
    ([[1.0]], ["up"], "objective sense must be one of max, min, got 'up'"),
    ([[np.nan, 1.0]], ["max", "min"], "objective values must be finite"),
])
def test_bad_input_is_a_clear_error(values, senses, message) -> None:
    with pytest.raises(ConfigError, match=message):
        pareto_front(values, senses)
