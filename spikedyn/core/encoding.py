"""Poisson rate coding of images into input spike events.

Each pixel is an independent Bernoulli process on the simulation grid: in every
step of ``dt_ms`` it fires with probability ``p = rate_hz * dt_ms / 1000`` (the
discretisation Brian2's ``PoissonGroup`` uses). Instead of drawing one random
number per pixel per step, the waiting time to the next spike is drawn from the
geometric distribution with the same ``p``, which is the same process exactly and
costs one draw per spike.

Randomness is counter-based: the raster of a presentation depends only on
``(seed, stream, sample index, attempt)`` through :func:`presentation_seed`, so
presentations can be generated in any order, on any thread, and regenerated later
(to feed Brian2 the very same input) with identical results.

Events are returned grouped by step in CSR form: the pixels that fire in step
``s`` are ``pixels[step_ptr[s]:step_ptr[s + 1]]``, in ascending pixel order.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from ..errors import ConfigError
from .params import MIN_SPIKE_PROBABILITY, check_seed

#: Streams of randomness, so training, label assignment and testing never share draws.
STREAM_TRAIN = 0
STREAM_ASSIGN = 1
STREAM_TEST = 2

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@numba.njit(cache=True, inline="always")
def _mix64(z):
    """SplitMix64 finaliser: a bijective avalanche of a 64-bit word."""
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, inline="always")
def _next_uniform(state):
    """Advance a SplitMix64 state; return ``(new_state, u)`` with ``u`` in (0, 1]."""
    state = state + _GOLDEN
    bits = _mix64(state) >> np.uint64(11)
    return state, (float(bits) + 1.0) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True)
def _presentation_seed(seed, stream, index, attempt):
    z = _mix64(np.uint64(seed) + _GOLDEN)
    z = _mix64(z ^ (np.uint64(stream) + _GOLDEN))
    z = _mix64(z ^ (np.uint64(index) * _GOLDEN))
    return _mix64(z ^ (np.uint64(attempt) + np.uint64(0x632BE59BD9B4E019)))


def presentation_seed(seed: int, stream: int, index: int, attempt: int) -> int:
    """The 64-bit seed of one presentation's raster.

    Parameters
    ----------
    seed : int
        The run's seed (0 <= seed < 2**63).
    stream : int
        ``STREAM_TRAIN``, ``STREAM_ASSIGN`` or ``STREAM_TEST``.
    index : int
        Position of the sample in its stream (training counts across epochs).
    attempt : int
        0 for the first presentation, +1 for each repetition at a higher rate.

    Returns
    -------
    int
        In ``[0, 2**64)``.

    Raises
    ------
    ConfigError
        If an argument is not an integer in ``[0, 2**63)``, naming it.
    """
    values = [check_seed(value, name) for name, value in
              (("seed", seed), ("stream", stream), ("index", index), ("attempt", attempt))]
    return int(_presentation_seed(*map(np.uint64, values)))


@numba.njit(cache=True)
def _poisson_events(image, rate_hz_per_unit, dt_ms, n_steps, seed, step_ptr, pixels, scratch_steps, scratch_pixels):
    """Fill ``step_ptr`` (n_steps + 1,) and ``pixels`` with one presentation's spikes.

    ``image`` is uint8 (n_input,); ``pixels``, ``scratch_steps`` and
    ``scratch_pixels`` are int32 buffers of at least ``n_input * n_steps`` entries.
    Writes ``step_ptr`` and ``pixels`` (and the scratch buffers) in place and returns
    the number of events; allocates nothing.
    """
    state = np.uint64(seed)
    n_events = 0
    # Pass 1: per pixel, geometric waiting times; events come out grouped by pixel.
    for i in range(image.shape[0]):
        if image[i] == 0:
            continue
        p = image[i] * rate_hz_per_unit * dt_ms * 1e-3
        log_q = math.log1p(-p)
        step = -1
        while True:
            state, u = _next_uniform(state)
            step += 1 + int(math.floor(math.log(u) / log_q))
            if step >= n_steps:
                break
            scratch_steps[n_events] = step
            scratch_pixels[n_events] = i
            n_events += 1
    # Pass 2: stable counting sort by step (pixels stay ascending within a step).
    for s in range(n_steps + 1):
        step_ptr[s] = 0
    for e in range(n_events):
        step_ptr[scratch_steps[e] + 1] += 1
    for s in range(n_steps):
        step_ptr[s + 1] += step_ptr[s]
    for e in range(n_events):  # step_ptr[s] serves as the write cursor of step s ...
        s = scratch_steps[e]
        pixels[step_ptr[s]] = scratch_pixels[e]
        step_ptr[s] += 1
    for s in range(n_steps, 0, -1):  # ... and is shifted back afterwards.
        step_ptr[s] = step_ptr[s - 1]
    step_ptr[0] = 0
    return n_events


@numba.njit(cache=True)
def _gain_of_sum(pixel_sum, n_input, mean_pixel, max_gain):
    """The ink normalisation's gain of an image of ``n_input`` pixels summing to ``pixel_sum``:
    ``mean_pixel / mean`` bounded to ``[1 / max_gain, max_gain]``; 1 with ``mean_pixel`` 0 (off) or a
    blank image (:class:`spikedyn.core.params.InputParams`). The one formula of the gain: the kernels
    (:func:`_image_gain`) and the cost model's expected input spikes use it."""
    if mean_pixel <= 0.0 or pixel_sum <= 0:
        return 1.0
    return min(max(mean_pixel * n_input / pixel_sum, 1.0 / max_gain), max_gain)


@numba.njit(cache=True)
def _image_gain(image, mean_pixel, max_gain):
    """The ink normalisation's gain of ``image`` (uint8; :func:`_gain_of_sum` of its pixel sum, summed in
    integers)."""
    if mean_pixel <= 0.0:  # off: no pixel sum to take
        return 1.0
    total = 0
    for i in range(image.shape[0]):
        total += image[i]
    return _gain_of_sum(total, image.shape[0], mean_pixel, max_gain)


def image_gain(image, mean_pixel: float, max_gain: float) -> float:
    """The factor of an image's base rate under ink normalisation (``input.normalise_mean_pixel``
    and ``input.max_gain``; equation in :class:`spikedyn.core.params.InputParams`)::

        g = clip(mean_pixel / mean(image), 1 / max_gain, max_gain),  1 if mean_pixel == 0 or the image is blank

    Raises :class:`ConfigError` for an image that is not uint8 or a bound that is not finite
    (``mean_pixel >= 0``, ``max_gain >= 1``)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ConfigError(f"image must be uint8 (0-255), got dtype {image.dtype}; convert with .astype(np.uint8)")
    if not (math.isfinite(mean_pixel) and mean_pixel >= 0 and math.isfinite(max_gain) and max_gain >= 1):
        raise ConfigError(f"mean_pixel={mean_pixel!r} and max_gain={max_gain!r}: need mean_pixel >= 0 "
                          "and max_gain >= 1, both finite")
    return float(_image_gain(np.ascontiguousarray(image.reshape(-1)), float(mean_pixel), float(max_gain)))


def _check_positive(**named) -> None:
    """Each named argument a positive finite real number (not a bool), else a ConfigError naming it."""
    for name, value in named.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not math.isfinite(value) or value <= 0:
            raise ConfigError(f"{name} must be a positive finite number, got {value!r}")


#: Images the centre-surround filter takes at once (bounds its float64 scratch to about 50 MB).
_FILTER_CHUNK = 4096


def gaussian_taps(sigma_px: float) -> np.ndarray:
    """The normalised 1-D Gaussian of width ``sigma_px`` truncated at ``ceil(4 sigma_px)`` pixels
    (float64, ``2 * ceil(4 sigma_px) + 1`` taps summing to 1): one pass of the separable filter of
    :func:`centre_surround`."""
    radius = int(math.ceil(4.0 * sigma_px))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    taps = np.exp(-0.5 * (x / sigma_px) ** 2)
    return taps / taps.sum()


def centre_surround_macs(n_input: int, centre_sigma_px: float, surround_sigma_px: float) -> int:
    """Multiply-accumulates of :func:`centre_surround` per image: two separable passes of each
    Gaussian over every pixel, and the difference scaled by the gain."""
    taps = gaussian_taps(centre_sigma_px).size + gaussian_taps(surround_sigma_px).size
    return int(n_input) * (2 * taps + 1)


def centre_surround(images, centre_sigma_px: float = 1.0, surround_sigma_px: float = 2.0,
                    gain: float = 3.0) -> np.ndarray:
    """ON-centre responses of square uint8 images (``input.centre_surround``; the equation, its
    source and the defaults' in :class:`spikedyn.core.params.InputParams`)::

        out = clip(round(gain * max(G_centre * image - G_surround * image, 0)), 0, 255)

    Parameters
    ----------
    images : uint8 array, shape (n, k, k) or (n, k * k)
    centre_sigma_px, surround_sigma_px : float
        Widths of the two Gaussians in pixels, ``0 < centre < surround``.
    gain : float
        Scale of the rectified difference, > 0.

    Returns
    -------
    uint8 array of the shape of ``images``.

    Each Gaussian is :func:`gaussian_taps`, applied along rows then columns with zeros outside the
    image; the result of an image depends on that image alone (the same in any batch, on any
    machine with IEEE float64).
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ConfigError(f"images must be uint8 (0-255), got dtype {images.dtype}; convert with .astype(np.uint8)")
    _check_positive(centre_sigma_px=centre_sigma_px, surround_sigma_px=surround_sigma_px, gain=gain)
    if not surround_sigma_px > centre_sigma_px:
        raise ConfigError(f"surround_sigma_px={surround_sigma_px!r} must exceed centre_sigma_px={centre_sigma_px!r}")
    shape = images.shape
    if images.ndim == 3 and shape[1] == shape[2]:
        side = shape[1]
    elif images.ndim == 2 and math.isqrt(shape[1]) ** 2 == shape[1]:
        side = math.isqrt(shape[1])
    else:
        raise ConfigError(f"the centre-surround filter filters square images, got images of shape {shape}; they "
                          "must have shape (n, k, k) or (n, k * k)")
    from scipy.ndimage import correlate1d

    square = images.reshape(shape[0], side, side)
    out = np.empty(square.shape, np.uint8)
    centre, surround = gaussian_taps(float(centre_sigma_px)), gaussian_taps(float(surround_sigma_px))
    for lo in range(0, shape[0], _FILTER_CHUNK):
        x = square[lo:lo + _FILTER_CHUNK].astype(np.float64)
        blurred = []
        for taps in (centre, surround):
            y = correlate1d(x, taps, axis=1, mode="constant", cval=0.0)
            blurred.append(correlate1d(y, taps, axis=2, mode="constant", cval=0.0))
        response = np.maximum(blurred[0] - blurred[1], 0.0) * float(gain)
        out[lo:lo + _FILTER_CHUNK] = np.minimum(np.rint(response), 255.0)
    return out.reshape(shape)


class SpikeRaster(NamedTuple):
    """Input spikes of one presentation, grouped by step.

    Attributes
    ----------
    step_ptr : int64 array, shape (n_steps + 1,)
        Pixels firing in step ``s`` are ``pixels[step_ptr[s]:step_ptr[s + 1]]``.
    pixels : int32 array, shape (n_events,)
        Index of the firing pixel, ascending within each step.
    """

    step_ptr: np.ndarray
    pixels: np.ndarray

    @property
    def n_steps(self) -> int:
        return self.step_ptr.shape[0] - 1

    def steps(self) -> np.ndarray:
        """Step index of each event, int64 array of shape (n_events,)."""
        return np.repeat(np.arange(self.n_steps, dtype=np.int64), np.diff(self.step_ptr))

    def dense(self, n_input: int) -> np.ndarray:
        """The raster as a bool array of shape (n_steps, n_input)."""
        out = np.zeros((self.n_steps, n_input), dtype=bool)
        out[self.steps(), self.pixels] = True
        return out


def poisson_raster(image, rate_hz_per_unit: float, *, dt_ms: float, n_steps: int, seed: int) -> SpikeRaster:
    """Encode one image as Poisson spike events.

    Parameters
    ----------
    image : uint8 array, shape (n_input,) or (rows, cols)
        Pixel intensities 0-255; pixel ``p`` fires at ``p * rate_hz_per_unit`` Hz.
    rate_hz_per_unit : float
        Hz per unit of intensity (0.25 gives Diehl & Cook's 63.75 Hz at 255).
    dt_ms : float
        Step of the grid; the spike probability per step is ``rate_hz * dt_ms / 1000``.
    n_steps : int
        Number of steps in the presentation.
    seed : int
        64-bit seed, usually from :func:`presentation_seed`.

    Returns
    -------
    SpikeRaster

    Raises
    ------
    ConfigError
        Naming the argument: ``image`` not uint8 or not 1-D/2-D; ``n_steps`` not an
        integer in [1, 2**31); ``rate_hz_per_unit`` or ``dt_ms`` not a positive finite
        number, or a spike probability per step of 1 or more at intensity 255 or below
        ``MIN_SPIKE_PROBABILITY`` at intensity 1; ``seed`` not an integer in [0, 2**64).
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ConfigError(f"image must be uint8 (0-255), got dtype {image.dtype}; convert with .astype(np.uint8)")
    if image.ndim not in (1, 2):
        raise ConfigError(f"image must have shape (n_input,) or (rows, cols), got {image.shape}")
    image = np.ascontiguousarray(image.reshape(-1))
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or not 1 <= n_steps < 2**31:
        raise ConfigError(f"n_steps must be an integer in [1, 2**31), got {n_steps!r}")
    _check_positive(rate_hz_per_unit=rate_hz_per_unit, dt_ms=dt_ms)
    seed = check_seed(seed, "seed", bits=64)
    p_unit = rate_hz_per_unit * dt_ms * 1e-3
    if p_unit < MIN_SPIKE_PROBABILITY:
        raise ConfigError(
            f"rate_hz_per_unit={rate_hz_per_unit} with dt_ms={dt_ms} gives a spike probability per step of "
            f"{p_unit:.3g} for intensity 1, below {MIN_SPIKE_PROBABILITY:g}; use a larger rate"
        )
    if not 255 * p_unit < 1:
        raise ConfigError(
            f"rate_hz_per_unit={rate_hz_per_unit} with dt_ms={dt_ms} gives a spike probability per step "
            ">= 1 at intensity 255; use a smaller rate or step"
        )
    capacity = image.shape[0] * n_steps
    step_ptr = np.empty(n_steps + 1, np.int64)
    pixels, scratch_steps, scratch_pixels = (np.empty(capacity, np.int32) for _ in range(3))
    n = _poisson_events(
        image, float(rate_hz_per_unit), float(dt_ms), int(n_steps), np.uint64(seed),
        step_ptr, pixels, scratch_steps, scratch_pixels,
    )
    return SpikeRaster(step_ptr, pixels[:n].copy())
