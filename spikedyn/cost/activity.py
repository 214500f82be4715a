"""The analytical cost model: the operations a network will do per sample, predicted before it is trained.

The *analytical* model predicts a tally of the kernels' primitives (:func:`predict_tally`;
:mod:`spikedyn.cost.operations`) from the config and statistics that are known before a
network is trained:

- the data: the mean pixel sum of the images, which fixes the expected input spikes of
  one presentation at the base rate exactly (pixel p fires with probability
  ``p * rate_hz_per_unit * dt`` per step)::

      input_spikes = pixel_sum * rate_hz_per_unit * dt_ms / 1000 * present_steps * input_spikes_factor

  (with ink normalisation, ``pixel_sum`` scaled by the gain of an image of the mean sum: an approximation, since
  the mean of the images' gains is not the gain of the mean image, which ``input_spikes_factor``, measured on the
  data, absorbs only when it was measured with the normalisation on);

  where ``input_spikes_factor`` (measured) adds the retries: a retried image is shown
  again at a higher rate, but retried images are dimmer than average, so the factor is
  below the ``1 + (P - 1)(1 + r1 / r0)`` that average images would give (measured: 1.09
  to 1.13 where that formula gives 1.15 to 1.35);
- the network's activity (:class:`Activity`): presentations per sample, excitatory
  spikes per presentation, the competition's spikes and active neurons, the fraction
  of synapses the event-driven depression visits, the fractions of updates a rule does
  (SpikeDyn skips small ones) and of weights it decays. These are measured once per
  model and size by ``experiments/cost_model.py --calibrate`` on training images of the
  validation split (never the test set), stored in ``spikedyn/cost/activity_statistics.json``
  and interpolated in log N between calibrated sizes.

From the tally the formulas of :func:`spikedyn.cost.operations.derive` give the operations,
the same formulas the counted tallies go through; ``experiments/cost_check.py``
compares both on real MNIST. :mod:`spikedyn.cost.pricing` prices them.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ..errors import ConfigError, key_name, one_line, show
from ..io.files import read_text_file
from .operations import PHASES, TALLY

if TYPE_CHECKING:  # for the annotations only
    from ..config import NetworkConfig

#: The calibrated activity statistics shipped with spikedyn (written by experiments/cost_model.py --calibrate).
ACTIVITY_FILE = Path(__file__).resolve().parent / "activity_statistics.json"


@dataclass(frozen=True)
class Activity:
    """What a network does per sample in one phase, beyond what the config says.

    Attributes
    ----------
    presentations_per_sample : float
        1 + the mean number of retries (a sample is shown again at a higher rate when
        the layer fires fewer than ``min_spikes`` times).
    input_spikes_factor : float
        Input spikes per sample over those of one presentation of an image of the mean
        pixel sum at the base rate (:func:`expected_input_spikes`): what the retries add.
    excitatory_spikes_per_presentation : float
        Including, while learning, the rest period's.
    competition_spikes_per_excitatory_spike : float
        Spikes of the competition's own population (inhibitory layer) per excitatory spike.
    competition_active_fraction : float
        Fraction of the competition's neurons updated per step (those not at rest).
    depression_visit_fraction : float
        Synapses whose depression is non-zero (the neuron's ``post1`` trace is), per input
        spike, over N (learning): the synapses the event-driven depression visits.
    depression_done_fraction : float
        Fraction of those depressions actually made (1 unless the rule skips some).
    potentiation_active_fraction : float
        Synapses whose potentiation is non-zero (the input's trace is), per excitatory
        spike, over ``n_input``.
    potentiation_done_fraction : float
        Fraction of those potentiations actually made (1 unless the rule skips some).
    decay_fraction : float
        Weight decay (leak) updates per training presentation, over ``n_input * N``.
    """

    presentations_per_sample: float
    excitatory_spikes_per_presentation: float
    input_spikes_factor: float = 1.0
    competition_spikes_per_excitatory_spike: float = 0.0
    competition_active_fraction: float = 0.0
    depression_visit_fraction: float = 0.0
    depression_done_fraction: float = 1.0
    potentiation_active_fraction: float = 1.0
    potentiation_done_fraction: float = 1.0
    decay_fraction: float = 0.0

    @classmethod
    def from_tally(cls, config: NetworkConfig, tally: Mapping[str, float], *, pixel_sum: float) -> "Activity":
        """The statistics of a counted tally (:meth:`spikedyn.Network.operations`) over images of mean
        pixel sum ``pixel_sum``."""
        t = {k: float(tally.get(k, 0)) for k in TALLY}
        if t["samples"] <= 0 or t["presentations"] <= 0:
            raise ConfigError("the tally counts no sample; count operations over at least one sample")
        n, n_in = config.n_neurons, config.n_input
        pot = t["potentiation_done"] + t["potentiation_skipped"]
        dep = t["depression_done"] + t["depression_skipped"]
        from .. import models

        pop = models.get(config.model).competition.population_size(config)
        return cls(
            presentations_per_sample=t["presentations"] / t["samples"],
            excitatory_spikes_per_presentation=t["excitatory_spikes"] / t["presentations"],
            input_spikes_factor=t["input_spikes"] / t["samples"] / expected_input_spikes(config, pixel_sum),
            competition_spikes_per_excitatory_spike=t["competition_spikes"] / max(t["excitatory_spikes"], 1.0),
            competition_active_fraction=t["competition_neuron_updates"] / max(t["steps"] * pop, 1.0),
            depression_visit_fraction=t["depression_visits"] / max(t["input_spikes"] * n, 1.0),
            depression_done_fraction=t["depression_done"] / dep if dep else 1.0,
            potentiation_active_fraction=pot / max(t["excitatory_spikes"] * n_in, 1.0),
            potentiation_done_fraction=t["potentiation_done"] / pot if pot else 1.0,
            decay_fraction=t["decay"] / (t["presentations"] * n_in * n),
        )


def expected_input_spikes(config, pixel_sum: float) -> float:
    """Expected input spikes of one presentation, at the base rate, of an image whose pixels sum to
    ``pixel_sum``: ``g * pixel_sum * rate_hz_per_unit * dt_ms / 1000 * present_steps``, with ``g`` the
    ink normalisation's gain of that image (1 when it is off; :class:`spikedyn.core.params.InputParams`)."""
    from ..core.encoding import _gain_of_sum

    i = config.input
    gain = _gain_of_sum(float(pixel_sum), config.n_input, float(i.normalise_mean_pixel), float(i.max_gain))
    return gain * pixel_sum * i.rate_hz_per_unit * config.timing.dt_ms * 1e-3 * config.timing.present_steps


def predict_tally(config, activity: Activity, phase: str, *, pixel_sum: float) -> dict[str, float]:
    """The analytical tally of one sample of ``phase`` (``"train"`` or ``"inference"``)."""
    from .. import models

    if phase not in PHASES:
        raise ConfigError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
    learn = phase == "train"
    a = activity
    n, n_in = config.n_neurons, config.n_input
    timing = config.timing
    p = a.presentations_per_sample
    steps = p * (timing.present_steps + (timing.rest_steps if learn else 0))
    x_in = expected_input_spikes(config, pixel_sum) * a.input_spikes_factor
    x_exc = p * a.excitatory_spikes_per_presentation
    pop = models.get(config.model).competition.population_size(config)
    tally = {k: 0.0 for k in TALLY}
    tally.update(samples=1.0, presentations=p, steps=steps, input_spikes=x_in, excitatory_spikes=x_exc,
                 competition_spikes=x_exc * a.competition_spikes_per_excitatory_spike,
                 competition_neuron_updates=steps * pop * a.competition_active_fraction)
    if learn:
        profile = models.get(config.model).plasticity.operation_profile(config)
        pot = x_exc * n_in * a.potentiation_active_fraction if config.stdp.nu_post > 0 else 0.0
        visits = x_in * n * a.depression_visit_fraction
        dep = visits if profile["depression"] != "none" else 0.0
        tally.update(
            depression_visits=visits,
            potentiation_done=pot * a.potentiation_done_fraction,
            potentiation_skipped=pot * (1.0 - a.potentiation_done_fraction),
            depression_done=dep * a.depression_done_fraction,
            depression_skipped=dep * (1.0 - a.depression_done_fraction),
            decay=p * n_in * n * a.decay_fraction,
        )
    return tally


# -- calibrated statistics -----------------------------------------------------------------------
def _check_statistics(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, Mapping) or not isinstance(data.get("models"), Mapping) \
            or not isinstance(data.get("pixel_sum"), (int, float)):
        raise ConfigError(f"{where}: expected {{'pixel_sum': ..., 'models': {{model: {{size: {{phase: ...}}}}}}}}; "
                          "rerun experiments/cost_model.py --calibrate")
    return dict(data)


def load_statistics(path: str | Path | None = None) -> dict[str, Any]:
    """The calibrated statistics (default: the file shipped with spikedyn, read once per process)."""
    if path is None:
        return dict(_shipped_statistics())
    return _read_statistics(Path(path))


@functools.lru_cache(maxsize=1)
def _shipped_statistics() -> dict[str, Any]:
    return _read_statistics(ACTIVITY_FILE)


def _read_statistics(path: Path) -> dict[str, Any]:
    """Read and check a statistics file: every problem is a one-line ConfigError naming the file and the entry."""
    fix = "rerun experiments/cost_model.py --calibrate or give the shipped file"
    text = read_text_file(path, "activity statistics", ".json", f"are not UTF-8 text; {fix}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"activity statistics {path} are not valid JSON: {exc.msg} at line {exc.lineno}, "
                          f"column {exc.colno}; {fix}") from None
    except (ValueError, RecursionError) as exc:  # an integer of more than 4,300 digits, deep nesting
        raise ConfigError(f"activity statistics {path} are not valid JSON ({one_line(exc)}); {fix}") from None
    where = f"activity statistics {path}"
    _check_statistics_file(data, where, fix)
    return _check_statistics(data, where)


_STATISTICS_KEYS = ("pixel_sum", "models", "protocol", "centre_surround_pixel_sum")


def filter_key(config) -> str:
    """The key of ``config``'s centre-surround filter in the statistics' ``centre_surround_pixel_sum``:
    ``"centre_sigma_px,surround_sigma_px,gain"`` (e.g. ``"1,2,3"``)."""
    i = config.input
    return f"{i.centre_sigma_px:g},{i.surround_sigma_px:g},{i.centre_surround_gain:g}"


def input_pixel_sum(config, statistics: Mapping[str, Any]) -> float:
    """The mean pixel sum of the images the input layer sees under ``config``: the statistics'
    ``pixel_sum``, or with ``input.centre_surround`` that of the filtered images, which the
    calibration measures for the default filter (``centre_surround_pixel_sum``, keyed by
    :func:`filter_key`). A filter the statistics do not hold is a ConfigError naming the fix."""
    if not config.input.centre_surround:
        return float(statistics["pixel_sum"])
    key, held = filter_key(config), statistics.get("centre_surround_pixel_sum") or {}
    if key not in held:
        raise ConfigError(f"the activity statistics hold no pixel sum for the centre-surround filter {key} "
                          f"(centre_sigma_px,surround_sigma_px,gain; they hold: {', '.join(held) or 'none'}); "
                          "rerun experiments/cost_model.py --calibrate with that filter's key, or price a trained "
                          "network's counted operations (spikedyn.cost.counted)")
    return float(held[key])


def _check_statistics_file(data: Any, where: str, fix: str) -> None:
    """The full layout of a statistics file: ``pixel_sum``, an optional ``protocol`` text, and
    ``models: {model: {size: {phase: {field: value}}}}`` with every phase of
    :data:`~spikedyn.cost.operations.PHASES` and every field of :class:`Activity`, each a finite number >= 0."""
    from .tables import _amount as amount

    def fail(what: str) -> None:
        raise ConfigError(f"{where}: {what}; {fix}")

    def exactly(at: str, given: Mapping[str, Any], keys: Sequence[str], kind: str) -> None:
        """``given`` must have exactly ``keys``: the first unknown key, else the first missing one, fails."""
        wrong = [k for k in given if k not in keys] + [k for k in keys if k not in given]
        if wrong:
            fail(f"{at} must hold exactly {kind}{', '.join(keys)}; "
                 f"{'unknown' if wrong[0] not in keys else 'missing'} {show(wrong[0])}")

    if not isinstance(data, Mapping):
        fail(f"expected a JSON object of {', '.join(_STATISTICS_KEYS)}, got a JSON {type(data).__name__}")
    unknown = [k for k in data if k not in _STATISTICS_KEYS]
    if unknown:
        fail(f"unknown key {show(unknown[0])}; keys: {', '.join(_STATISTICS_KEYS)}")
    for key in ("pixel_sum", "models"):
        if key not in data:
            fail(f"missing {key}")
    if not amount(data["pixel_sum"]):
        fail(f"pixel_sum must be a finite number >= 0 (the mean pixel sum of an image), got {show(data['pixel_sum'])}")
    if "protocol" in data and not isinstance(data["protocol"], str):
        fail(f"protocol must be a text, got {show(data['protocol'])}")
    held = data.get("centre_surround_pixel_sum", {})
    if not isinstance(held, Mapping) or not all(isinstance(k, str) and amount(v) for k, v in held.items()):
        fail(f"centre_surround_pixel_sum must be an object {{\"centre,surround,gain\": pixel sum >= 0}}, "
             f"got {show(held)}")
    if not isinstance(data["models"], Mapping):
        fail(f"models must be an object {{model: {{size: {{phase: {{...}}}}}}}}, got {show(data['models'])}")
    names = [f.name for f in fields(Activity)]
    for model, sizes in data["models"].items():
        if not isinstance(sizes, Mapping) or not sizes:
            fail(f"models.{key_name(model)} must be a non-empty object {{size: {{phase: {{...}}}}}}, got {show(sizes)}")
        for size, phases in sizes.items():
            at = f"models.{key_name(model)}.{key_name(size)}"
            if not (isinstance(size, str) and size.isascii() and size.isdecimal() and len(size) <= 9 and int(size) > 0):
                fail(f"models.{key_name(model)} has the size {show(size)}; sizes are numbers of neurons, e.g. \"400\"")
            if not isinstance(phases, Mapping):
                fail(f"{at} must be an object {{phase: {{...}}}}, got {show(phases)}")
            exactly(at, phases, PHASES, "the phases ")
            for phase, stats in phases.items():
                if not isinstance(stats, Mapping):
                    fail(f"{at}.{phase} must be an object of {', '.join(names)}, got {show(stats)}")
                exactly(f"{at}.{phase}", stats, names, "")
                for name, value in stats.items():
                    if not amount(value):
                        fail(f"{at}.{phase}.{name} must be a finite number >= 0, got {show(value)}")


def activity_for(config, phase: str, statistics: Mapping[str, Any] | None = None) -> Activity:
    """The :class:`Activity` of ``config``'s computation and size in ``phase``: the calibrated one,
    interpolated linearly in log N between the nearest calibrated sizes (clamped outside).

    Statistics belong to a computation, not to a name: a model whose extra mechanisms are
    off computes what its base model computes (:meth:`spikedyn.models.Model.reduced`) and is
    estimated with the base's statistics."""
    from .. import models

    stats = load_statistics() if statistics is None else _check_statistics(statistics, "activity statistics")
    key = models.get(config.model).reduced(config)
    by_size = stats["models"].get(key)
    if not by_size:
        raise ConfigError(f"no activity statistics for model {key!r}; run "
                          f"experiments/cost_model.py --calibrate --models {key}")
    sizes = sorted(int(s) for s in by_size)
    n = config.n_neurons
    lo = max([s for s in sizes if s <= n], default=sizes[0])
    hi = min([s for s in sizes if s >= n], default=sizes[-1])
    a, b = by_size[str(lo)][phase], by_size[str(hi)][phase]
    f = 0.0 if lo == hi else (math.log(n) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return Activity(**{fld.name: (1 - f) * a[fld.name] + f * b[fld.name] for fld in fields(Activity)})
