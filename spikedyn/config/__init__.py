"""The network config (:class:`NetworkConfig`): the base sections and those the registered model parts declare.

=======================  ==================================================================
``network_config``       :class:`NetworkConfig`: ``replace(section__field=...)``, TOML/JSON,
                         :func:`load_config`, :func:`parse_set` (``--set section.field=value``)
``sections``             which sections a config has, looked up in the model registry
``checks``               every field's type and range, and the rules between fields
=======================  ==================================================================

The base sections (``excitatory``, ``stdp``, ``input``, ``timing``, ``precision``) are
defined in :mod:`spikedyn.core.params` and exported here; a part's own section is
defined in its module (``spikedyn.models.asp.AspParams``). The config never imports a
part: it asks the registry which sections the registered parts declare.
"""

from __future__ import annotations

import warnings

from ..core.params import (MAX_STEPS, MAX_SYNAPSES, MAX_TRACE_STEPS, MIN_SPIKE_PROBABILITY, ROUNDINGS, WEIGHT_BITS,
                           ExcitatoryParams, InputParams, PrecisionParams, StdpParams, TimingParams, check_seed)
from .network_config import CONFIG_SUFFIXES, INFINITY, NetworkConfig, load_config, parse_set
from .sections import section_classes

__all__ = ["CONFIG_SUFFIXES", "ExcitatoryParams", "INFINITY", "InputParams", "MAX_STEPS", "MAX_SYNAPSES",
           "MAX_TRACE_STEPS", "MIN_SPIKE_PROBABILITY", "NetworkConfig", "PrecisionParams", "ROUNDINGS", "StdpParams",
           "TimingParams", "WEIGHT_BITS", "check_seed", "load_config", "parse_set", "section_classes"]


def __getattr__(name: str):
    """The section classes that moved to their parts' modules (``spikedyn.config.AspParams``):
    found among the registered parts' sections, with a DeprecationWarning."""
    for cls in section_classes().values():
        if cls.__name__ == name:
            warnings.warn(f"spikedyn.config.{name} moved to {cls.__module__}.{name}; import it from there "
                          "(the old name goes away in the next version)", DeprecationWarning, stacklevel=2)
            return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
