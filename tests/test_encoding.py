"""Tests for spikedyn.core.encoding: Poisson (Bernoulli-per-step) rasters and presentation seeds.

All randomness is seeded; the statistical tests run at fixed seeds with generous
bounds (several standard errors, p-values against 1e-3), so they are deterministic.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy import stats

from spikedyn.core.encoding import (
    STREAM_ASSIGN,
    STREAM_TEST,
    STREAM_TRAIN,
    SpikeRaster,
    centre_surround,
    centre_surround_macs,
    gaussian_taps,
    image_gain,
    poisson_raster,
    presentation_seed,
)
from spikedyn.errors import ConfigError

DT = 0.5


def spike_probability(intensity: int, rate: float, dt_ms: float = DT) -> float:
    return intensity * rate * dt_ms * 1e-3


def counts_per_pixel(raster: SpikeRaster, n_input: int) -> np.ndarray:
    return np.bincount(raster.pixels, minlength=n_input)


# ----------------------------------------------------------------------------------------
# Structure
# ----------------------------------------------------------------------------------------
def test_raster_structure_and_ordering() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, 784).astype(np.uint8)
    image[rng.random(784) < 0.5] = 0
    r = poisson_raster(image, 0.25, dt_ms=DT, n_steps=700, seed=12345)
    assert r.n_steps == 700
    assert r.step_ptr.dtype == np.int64 and r.step_ptr.shape == (701,)
    assert r.pixels.dtype == np.int32
    assert r.step_ptr[0] == 0 and r.step_ptr[-1] == r.pixels.size
    assert np.all(np.diff(r.step_ptr) >= 0)
    assert r.pixels.size > 1000
    steps = r.steps()
    assert steps.dtype == np.int64 and steps.shape == r.pixels.shape
    # Sorted by step, then ascending pixel within a step; no duplicates.
    keys = steps * 784 + r.pixels
    assert np.all(np.diff(keys) > 0)
    # Zero pixels never fire.
    assert not np.any(image[r.pixels] == 0)


def test_dense_is_consistent_with_events() -> None:
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, 50).astype(np.uint8)
    r = poisson_raster(image, 2.0, dt_ms=DT, n_steps=300, seed=7)
    dense = r.dense(50)
    assert dense.dtype == bool and dense.shape == (300, 50)
    assert dense.sum() == r.pixels.size
    np.testing.assert_array_equal(np.argwhere(dense), np.column_stack([r.steps(), r.pixels]))
    for s in (0, 17, 299):
        np.testing.assert_array_equal(np.flatnonzero(dense[s]), r.pixels[r.step_ptr[s]:r.step_ptr[s + 1]])


def test_two_d_image_equals_flattened() -> None:
    image = np.random.default_rng(3).integers(0, 256, (28, 28)).astype(np.uint8)
    a = poisson_raster(image, 0.25, dt_ms=DT, n_steps=100, seed=9)
    b = poisson_raster(image.reshape(-1), 0.25, dt_ms=DT, n_steps=100, seed=9)
    assert np.array_equal(a.step_ptr, b.step_ptr) and np.array_equal(a.pixels, b.pixels)


def test_blank_image_gives_no_events() -> None:
    r = poisson_raster(np.zeros(784, np.uint8), 0.25, dt_ms=DT, n_steps=700, seed=1)
    assert r.pixels.size == 0 and np.all(r.step_ptr == 0)
    assert not r.dense(784).any()


# ----------------------------------------------------------------------------------------
# Statistics
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("intensity", [8, 64, 128, 255])
def test_spike_count_mean_matches_bernoulli(intensity: int) -> None:
    n_pixels, n_steps, rate = 2000, 700, 0.25
    p = spike_probability(intensity, rate)
    r = poisson_raster(np.full(n_pixels, intensity, np.uint8), rate, dt_ms=DT, n_steps=n_steps, seed=intensity)
    counts = counts_per_pixel(r, n_pixels)
    se = np.sqrt(n_steps * p * (1 - p) / n_pixels)
    assert abs(counts.mean() - n_steps * p) < 4 * se
    # Steps carry no trend: the first and the second half have the same rate.
    first_half = np.sum(r.steps() < n_steps // 2)
    second_half = r.pixels.size - first_half
    assert abs(first_half - second_half) < 4 * np.sqrt(r.pixels.size)


@pytest.mark.parametrize("intensity, rate", [(255, 0.25), (255, 7.0), (100, 7.0)])
def test_fano_factor_is_one_minus_p(intensity: int, rate: float) -> None:
    """Counts of a Bernoulli process over n steps are Binomial(n, p): Fano factor 1 - p."""
    n_pixels, n_steps = 4000, 400
    p = spike_probability(intensity, rate)
    r = poisson_raster(np.full(n_pixels, intensity, np.uint8), rate, dt_ms=DT, n_steps=n_steps, seed=99)
    counts = counts_per_pixel(r, n_pixels)
    fano = counts.var(ddof=1) / counts.mean()
    se = (1 - p) * np.sqrt(2.0 / (n_pixels - 1)) * 1.2
    assert abs(fano - (1 - p)) < 5 * se
    if p > 0.5:  # clearly not Poisson (Fano 1) at high rates
        assert fano < 0.6


@pytest.mark.parametrize("intensity, rate", [(255, 0.25), (200, 5.0)])
def test_inter_spike_intervals_are_geometric(intensity: int, rate: float) -> None:
    """Given a spike at step s, the next one comes d steps later with P = p (1-p)^(d-1).

    Only spikes at s <= n_steps - K are used, so every interval shorter than K is
    observable; intervals of K or more (observed or beyond the window) form the tail bin.
    """
    n_pixels, n_steps = 1500, 700
    p = spike_probability(intensity, rate)
    K = max(4, int(np.ceil(3 / p)))
    r = poisson_raster(np.full(n_pixels, intensity, np.uint8), rate, dt_ms=DT, n_steps=n_steps, seed=2024)
    steps = r.steps()
    order = np.lexsort((steps, r.pixels))  # group by pixel, steps ascending
    px, sp = r.pixels[order], steps[order]
    gap = np.full(sp.size, K)  # interval to the next spike of the same pixel, capped at K
    same_pixel = px[1:] == px[:-1]
    gap[:-1][same_pixel] = np.minimum(sp[1:] - sp[:-1], K)[same_pixel]
    usable = sp <= n_steps - K
    observed = np.bincount(gap[usable] - 1, minlength=K)  # d = 1..K-1, then the tail
    assert observed.size == K
    d = np.arange(1, K)
    probs = np.append(p * (1 - p) ** (d - 1), (1 - p) ** (K - 1))
    expected = probs * observed.sum()
    # Merge sparse bins so every expected count is >= 5.
    merged_obs, merged_exp, acc_o, acc_e = [], [], 0, 0.0
    for o, e in zip(observed, expected):
        acc_o, acc_e = acc_o + o, acc_e + e
        if acc_e >= 5:
            merged_obs.append(acc_o)
            merged_exp.append(acc_e)
            acc_o, acc_e = 0, 0.0
    merged_obs[-1] += acc_o
    merged_exp[-1] += acc_e
    assert len(merged_obs) >= 4 and observed.sum() > 5000
    result = stats.chisquare(merged_obs, merged_exp)
    assert result.pvalue > 1e-3, result


def test_first_spike_times_are_geometric_ks() -> None:
    """Steps of each pixel's first spike: P(first = k) = p (1-p)^k (KS test on the uncensored part)."""
    n_pixels, n_steps = 3000, 700
    p = spike_probability(255, 0.25)
    r = poisson_raster(np.full(n_pixels, 255, np.uint8), 0.25, dt_ms=DT, n_steps=n_steps, seed=5)
    first = np.full(n_pixels, n_steps)
    np.minimum.at(first, r.pixels, r.steps())
    # Censoring: P(no spike in the window) = (1-p)^n_steps.
    silent = np.sum(first == n_steps)
    assert abs(silent - n_pixels * (1 - p) ** n_steps) < 5 * np.sqrt(n_pixels * (1 - p) ** n_steps) + 3
    seen = first[first < n_steps]
    # Compare with the geometric law truncated to the window (discrete: use a
    # randomised PIT to make it continuous, fixed seed).
    cdf = lambda k: (1 - (1 - p) ** (k + 1)) / (1 - (1 - p) ** n_steps)  # noqa: E731
    u = np.random.default_rng(0).random(seen.size)
    pit = cdf(seen - 1) + u * (cdf(seen) - cdf(seen - 1))
    assert stats.kstest(pit, "uniform").pvalue > 1e-3


def test_pixels_are_independent() -> None:
    """Two pixels of the same intensity: coincidences per step match p^2."""
    n_steps, p = 20000, spike_probability(255, 3.0)
    image = np.full(2, 255, np.uint8)
    r = poisson_raster(image, 3.0, dt_ms=DT, n_steps=n_steps, seed=77)
    dense = r.dense(2)
    both = np.sum(dense[:, 0] & dense[:, 1])
    se = np.sqrt(n_steps * p * p * (1 - p * p))
    assert abs(both - n_steps * p * p) < 5 * se


# ----------------------------------------------------------------------------------------
# Seeds
# ----------------------------------------------------------------------------------------
def test_same_seed_same_raster() -> None:
    image = np.random.default_rng(4).integers(0, 256, 784).astype(np.uint8)
    seed = presentation_seed(3, STREAM_TRAIN, 10, 0)
    a = poisson_raster(image, 0.25, dt_ms=DT, n_steps=700, seed=seed)
    b = poisson_raster(image.copy(), 0.25, dt_ms=DT, n_steps=700, seed=presentation_seed(3, STREAM_TRAIN, 10, 0))
    assert np.array_equal(a.step_ptr, b.step_ptr) and np.array_equal(a.pixels, b.pixels)


def test_different_seed_parts_give_different_rasters() -> None:
    image = np.random.default_rng(5).integers(0, 256, 784).astype(np.uint8)
    base = (3, STREAM_TRAIN, 10, 0)
    variants = [base, (4, STREAM_TRAIN, 10, 0), (3, STREAM_ASSIGN, 10, 0), (3, STREAM_TEST, 10, 0),
                (3, STREAM_TRAIN, 11, 0), (3, STREAM_TRAIN, 10, 1), (3, STREAM_TRAIN, 0, 10)]
    seeds = [presentation_seed(*v) for v in variants]
    assert len(set(seeds)) == len(seeds)
    assert all(0 <= s < 2**64 for s in seeds)
    rasters = [poisson_raster(image, 0.25, dt_ms=DT, n_steps=700, seed=s).dense(784) for s in seeds]
    for k in range(1, len(rasters)):
        assert not np.array_equal(rasters[0], rasters[k]), variants[k]
        # Not merely shifted or slightly perturbed: overlap is at chance level.
        overlap = np.sum(rasters[0] & rasters[k]) / rasters[0].sum()
        assert overlap < 0.1


def mix64_naive(z: int) -> int:
    """The SplitMix64 finaliser on Python integers, wrapping at 2**64."""
    mask = 2**64 - 1
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def presentation_seed_naive(seed: int, stream: int, index: int, attempt: int) -> int:
    golden, mask = 0x9E3779B97F4A7C15, 2**64 - 1
    z = mix64_naive((seed + golden) & mask)
    z = mix64_naive(z ^ ((stream + golden) & mask))
    z = mix64_naive(z ^ ((index * golden) & mask))
    return mix64_naive(z ^ ((attempt + 0x632BE59BD9B4E019) & mask))


def test_presentation_seed_is_a_pure_function() -> None:
    # The first output of SplitMix64 from state 0, as published with the generator.
    assert mix64_naive(0x9E3779B97F4A7C15) == 0xE220A8397B1DCDAF
    for args in [(0, 0, 0, 0), (3, STREAM_TRAIN, 10, 0), (5, STREAM_TEST, 59_999, 4),
                 (2**63 - 1, 2, 2**63 - 1, 2**63 - 1)]:  # the largest arguments wrap around 2**64
        assert presentation_seed(*args) == presentation_seed(*args) == presentation_seed_naive(*args)
        assert type(presentation_seed(*args)) is int


@pytest.mark.parametrize("bad", [
    {"seed": -1}, {"seed": 2**63}, {"stream": -1}, {"index": -5}, {"attempt": -1}, {"index": 2**64},
])
def test_presentation_seed_validation(bad) -> None:
    args = {"seed": 0, "stream": 0, "index": 0, "attempt": 0} | bad
    name = next(iter(bad))
    with pytest.raises(ConfigError, match=name):
        presentation_seed(**args)


def test_poisson_raster_validation() -> None:
    image = np.zeros(10, np.uint8)
    with pytest.raises(ConfigError, match="uint8"):
        poisson_raster(image.astype(np.float64), 0.25, dt_ms=DT, n_steps=10, seed=0)
    with pytest.raises(ConfigError, match="n_steps"):
        poisson_raster(image, 0.25, dt_ms=DT, n_steps=0, seed=0)
    with pytest.raises(ConfigError, match="probability"):
        poisson_raster(image, 8.0, dt_ms=DT, n_steps=10, seed=0)  # 255 * 8 * 0.5e-3 = 1.02
    with pytest.raises(ConfigError, match="rate_hz_per_unit must be a positive"):
        poisson_raster(image, -0.1, dt_ms=DT, n_steps=10, seed=0)


@pytest.mark.parametrize("bad, name", [
    ({"rate_hz_per_unit": 0.0}, "rate_hz_per_unit"),
    ({"rate_hz_per_unit": -0.25}, "rate_hz_per_unit"),
    ({"rate_hz_per_unit": float("nan")}, "rate_hz_per_unit"),
    ({"rate_hz_per_unit": float("inf")}, "rate_hz_per_unit"),
    ({"rate_hz_per_unit": "0.25"}, "rate_hz_per_unit"),
    ({"rate_hz_per_unit": 1e-300}, "rate_hz_per_unit"),  # p underflows: the kernel would divide by 0
    ({"rate_hz_per_unit": 1e-14}, "rate_hz_per_unit"),  # waiting times would overflow int64
    ({"dt_ms": 0.0}, "dt_ms"),
    ({"dt_ms": float("nan")}, "dt_ms"),
    ({"dt_ms": None}, "dt_ms"),
    ({"n_steps": 2.5}, "n_steps"),
    ({"n_steps": True}, "n_steps"),
    ({"n_steps": 2**31}, "n_steps"),
    ({"seed": -1}, "seed"),
    ({"seed": 2**64}, "seed"),
    ({"seed": 1.0}, "seed"),
    ({"seed": "0"}, "seed"),
])
def test_poisson_raster_rejects_bad_arguments_by_name(bad, name) -> None:
    """Every bad argument is a one-line ConfigError naming it, never an error from the kernel."""
    kwargs = {"rate_hz_per_unit": 0.25, "dt_ms": DT, "n_steps": 10, "seed": 0} | bad
    rate = kwargs.pop("rate_hz_per_unit")
    with pytest.raises(ConfigError, match=name) as info:
        poisson_raster(np.full(20, 255, np.uint8), rate, **kwargs)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("shape", [(), (2, 3, 4)])
def test_poisson_raster_rejects_bad_image_shapes(shape) -> None:
    with pytest.raises(ConfigError, match="image must have shape"):
        poisson_raster(np.zeros(shape, np.uint8), 0.25, dt_ms=DT, n_steps=10, seed=0)


def test_poisson_raster_accepts_the_full_seed_range_and_numpy_scalars() -> None:
    image = np.full(50, 255, np.uint8)
    top = poisson_raster(image, 0.25, dt_ms=DT, n_steps=100, seed=2**64 - 1)
    same = poisson_raster(image, np.float64(0.25), dt_ms=np.float32(DT), n_steps=np.int64(100),
                          seed=np.uint64(2**64 - 1))
    assert top.pixels.size > 0
    np.testing.assert_array_equal(top.pixels, same.pixels)
    np.testing.assert_array_equal(top.step_ptr, same.step_ptr)


@pytest.mark.parametrize("bad, name", [
    ({"seed": 1.5}, "seed"), ({"stream": "0"}, "stream"), ({"index": None}, "index"),
    ({"attempt": True}, "attempt"), ({"seed": 2**100}, "seed"),
])
def test_presentation_seed_rejects_non_integers_by_name(bad, name) -> None:
    args = {"seed": 0, "stream": 0, "index": 0, "attempt": 0} | bad
    with pytest.raises(ConfigError, match=f"^{name} must be"):
        presentation_seed(**args)
    assert presentation_seed(np.int64(3), np.uint8(1), np.uint64(7), 0) == presentation_seed(3, 1, 7, 0)


def test_rate_scales_counts() -> None:
    """Doubling the rate doubles the expected count (retries at higher rates)."""
    n_pixels = 3000
    image = np.full(n_pixels, 200, np.uint8)
    low = poisson_raster(image, 0.25, dt_ms=DT, n_steps=700, seed=1).pixels.size
    high = poisson_raster(image, 0.5, dt_ms=DT, n_steps=700, seed=1).pixels.size
    p_low, p_high = spike_probability(200, 0.25), spike_probability(200, 0.5)
    for n, p in ((low, p_low), (high, p_high)):
        mean = n_pixels * 700 * p
        assert abs(n - mean) < 5 * np.sqrt(mean)


def test_ink_gain_brings_the_mean_pixel_to_the_target_within_its_bounds() -> None:
    """Analytic cases of g = clip(m / mean(p), 1 / G, G): a uniform image of intensity v has gain m / v."""
    for v in (20, 40, 80):
        assert image_gain(np.full(784, v, np.uint8), 40.0, 4.0) == pytest.approx(40.0 / v)
    assert image_gain(np.full(784, 5, np.uint8), 40.0, 4.0) == 4.0  # 8 clipped to G
    assert image_gain(np.full(784, 250, np.uint8), 40.0, 4.0) == 0.25  # 0.16 clipped to 1 / G
    assert image_gain(np.zeros(784, np.uint8), 40.0, 4.0) == 1.0  # blank: nothing to scale
    assert image_gain(np.full(784, 7, np.uint8), 0.0, 4.0) == 1.0  # off
    image = np.zeros(784, np.uint8)
    image[:98] = 255  # mean 31.875, summed in integers: no overflow of uint8
    assert image_gain(image, 40.0, 4.0) == pytest.approx(40.0 / 31.875)
    # the expected input spikes of a normalised image are those of the target ink
    rate, steps = 0.25, 700
    counts = [poisson_raster(image, rate * image_gain(image, 40.0, 4.0), dt_ms=DT, n_steps=steps, seed=s).pixels.size
              for s in range(200)]
    expected = 40.0 * 784 * rate * DT * 1e-3 * steps
    assert abs(np.mean(counts) - expected) < 4 * np.sqrt(expected / len(counts))
    for bad in ((-1.0, 4.0), (40.0, 0.5), (float("nan"), 4.0)):
        with pytest.raises(ConfigError, match="mean_pixel"):
            image_gain(image, *bad)
    with pytest.raises(ConfigError, match="uint8"):
        image_gain(image.astype(np.float64), 40.0, 4.0)


# ----------------------------------------------------------------------------------------
# Centre-surround filter (input.centre_surround)
# ----------------------------------------------------------------------------------------
def centre_surround_naive(image: np.ndarray, centre: float, surround: float, gain: float) -> np.ndarray:
    """The filter from its definition, pixel by pixel: each Gaussian a 2-D sum over the truncated
    window, zero outside the image."""
    side = image.shape[0]

    def blur(sigma):
        r = int(np.ceil(4 * sigma))
        g = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
        g /= g.sum()
        out = np.zeros((side, side))
        for y in range(side):
            for x in range(side):
                for dy in range(-r, r + 1):
                    for dx in range(-r, r + 1):
                        if 0 <= y + dy < side and 0 <= x + dx < side:
                            out[y, x] += g[dy + r] * g[dx + r] * float(image[y + dy, x + dx])
        return out

    return np.clip(np.rint(gain * np.maximum(blur(centre) - blur(surround), 0.0)), 0, 255).astype(np.uint8)


def test_centre_surround_matches_its_definition_pixel_by_pixel() -> None:
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (3, 12, 12)).astype(np.uint8)
    images[1] = 0
    images[1, 3:9, 5:7] = 200  # a bar: responses along it, none far from it
    got = centre_surround(images, 0.8, 1.7, 2.5)
    for k in range(3):
        want = centre_surround_naive(images[k], 0.8, 1.7, 2.5)
        assert np.abs(got[k].astype(int) - want).max() <= 1  # a rounding at .5 may differ
        assert np.mean(got[k] != want) < 0.01
    assert got[1].max() > 0 and got[1, 0, 0] == 0


def test_centre_surround_analytic_cases() -> None:
    """A uniform region far from the border gives 0 (both Gaussians sum to 1); a single bright pixel gives,
    at its own place, gain * p * (g_c(0)^2 - g_s(0)^2); the filter keeps the shape and takes flat images."""
    side = 28
    flat = np.full((1, side, side), 180, np.uint8)
    out = centre_surround(flat)  # defaults 1, 2, 3: the surround reaches 8 pixels
    assert np.all(out[0, 8:side - 8, 8:side - 8] == 0)
    assert out[0, 0, 0] > 0  # at the border the surround sees the zeros outside: an edge
    delta = np.zeros((1, side, side), np.uint8)
    delta[0, 14, 14] = 100
    gc, gs = gaussian_taps(1.0), gaussian_taps(2.0)
    want = 3.0 * 100 * (gc[gc.size // 2] ** 2 - gs[gs.size // 2] ** 2)
    assert centre_surround(delta)[0, 14, 14] == int(np.rint(want))
    np.testing.assert_array_equal(centre_surround(delta.reshape(1, -1)), centre_surround(delta).reshape(1, -1))
    assert gc.size == 9 and gs.size == 17 and np.isclose(gc.sum(), 1.0)
    assert centre_surround_macs(784, 1.0, 2.0) == 784 * (2 * (9 + 17) + 1)
    # an image's result does not depend on its batch
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (5, side, side)).astype(np.uint8)
    np.testing.assert_array_equal(centre_surround(batch)[2], centre_surround(batch[2:3])[0])


@pytest.mark.parametrize("kwargs, message", [
    ({"images": np.zeros((2, 10), np.uint8)}, "shape (n, k, k) or (n, k * k)"),
    ({"images": np.zeros((2, 4, 4), np.float64)}, "uint8"),
    ({"centre_sigma_px": 2.0, "surround_sigma_px": 1.0}, "must exceed centre_sigma_px"),
    ({"gain": 0.0}, "gain must be a positive finite number"),
    ({"centre_sigma_px": float("nan")}, "centre_sigma_px must be a positive finite number"),
])
def test_centre_surround_refuses_bad_input(kwargs, message) -> None:
    args = {"images": np.zeros((2, 4, 4), np.uint8), **kwargs}
    with pytest.raises(ConfigError, match=re.escape(message)):
        centre_surround(**args)
