"""Which parameter sections a config has: the base ones and those the registered parts declare.

A config's sections are, in this order: ``excitatory``; the sections of the registered
competition parts (``inhibitory``, ``lateral``); ``stdp``, ``input``, ``timing``; the
sections of the other registered parts (plasticity, threshold, between: ``spikedyn``,
``asp``, ``delays``); ``precision``. They are looked up in the registry
(:func:`spikedyn.models.declared_sections`) each time a config is built, checked or
parsed, so that a model registered at run time brings its sections with it.
"""

from __future__ import annotations

import dataclasses
import functools

from ..core.params import ExcitatoryParams, InputParams, PrecisionParams, StdpParams, TimingParams


def section_classes() -> dict[str, type]:
    """Every section of a config now, by name, in order (see the module docstring)."""
    from .. import models  # the registry, with the built-in models

    declared = models.declared_sections()
    out: dict[str, type] = {"excitatory": ExcitatoryParams}
    out.update((name, cls) for kind, name, cls in declared if kind == "competition")
    out.update(stdp=StdpParams, input=InputParams, timing=TimingParams)
    out.update((name, cls) for kind, name, cls in declared if kind != "competition")
    out["precision"] = PrecisionParams
    return out


@functools.lru_cache(maxsize=None)
def section_fields(cls: type) -> dict[str, dataclasses.Field]:
    """The fields of the section class ``cls``, by name."""
    return {f.name: f for f in dataclasses.fields(cls)}
