"""Statistics of results over seeds: mean ± sd, and the confidence interval of a margin.

spikedyn's comparisons are stated the way a reviewer accepts them: every figure is a
mean ± sample standard deviation over seeds, and every margin between two models comes
with a 95 % confidence interval. The interval is Student's *t*-interval of the paired
differences: both models run with the same seeds, and a seed fixes a run's images, its
input spikes and its initial weights, so the runs of one seed are paired and the
difference of each pair is one observation::

    d_s = a_s - b_s,    margin = mean(d),    CI = margin ± t_{0.975, n-1} * sd(d) / sqrt(n)

With one pair (or no spread) the interval is undefined (``nan``); "within noise" is said
only when the interval contains 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError

#: Confidence level of every interval spikedyn reports.
CONFIDENCE = 0.95


def _values(values: Iterable[float], what: str) -> np.ndarray:
    try:
        out = np.asarray(list(values), dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be numbers") from None
    if out.ndim != 1 or out.size == 0:
        raise ConfigError(f"{what} must be a non-empty list of numbers")
    return out


def mean_sd(values: Iterable[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (``ddof=1``; 0 for one value)."""
    v = _values(values, "values")
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


@dataclass(frozen=True)
class Margin:
    """A paired margin ``a - b`` over ``n`` seeds, with its confidence interval."""

    mean: float
    sd: float
    n: int
    low: float
    high: float
    confidence: float = CONFIDENCE

    @property
    def within_noise(self) -> bool:
        """Whether the interval contains 0 (always False when it is undefined)."""
        return bool(self.low <= 0.0 <= self.high)

    def format(self, scale: float = 100.0, digits: int = 1, unit: str = "") -> str:
        """E.g. ``+2.3 [+0.4, +4.2]`` (``scale`` 100: fractions shown as points)."""
        def f(x: float) -> str:
            return "n/a" if math.isnan(x) else f"{x * scale:+.{digits}f}{unit}"
        return f"{f(self.mean)} [{f(self.low)}, {f(self.high)}]"


def paired_margin(a: Mapping[int, float], b: Mapping[int, float], confidence: float = CONFIDENCE) -> Margin:
    """The margin ``a - b`` over the seeds both have (``{seed: value}``), with Student's t-interval.

    Raises
    ------
    ConfigError
        If the two share no seed, or ``confidence`` is not in (0, 1).
    """
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must be in (0, 1), got {confidence!r}")
    seeds = sorted(set(a) & set(b))
    if not seeds:
        raise ConfigError("the two sets of runs share no seed; a paired margin needs the same seeds")
    d = _values([a[s] - b[s] for s in seeds], "the differences")
    mean, sd = mean_sd(d)
    if d.size < 2:
        return Margin(mean, sd, int(d.size), math.nan, math.nan, confidence)
    from scipy.stats import t

    half = float(t.ppf(0.5 + confidence / 2, d.size - 1)) * sd / math.sqrt(d.size)
    return Margin(mean, sd, int(d.size), mean - half, mean + half, confidence)
