"""The models: a registry of named compositions of parts, and one module per part family.

=============  ====================  ===========  ===========  ===========
model          competition           plasticity   threshold    between
=============  ====================  ===========  ===========  ===========
diehl-cook     inhibitory-layer      stdp         homeostatic  normalise
lateral        direct-lateral        stdp         homeostatic  normalise
=============  ====================  ===========  ===========  ===========

the continual-learning models

=============  ====================  =============  ===========  ===========
spikedyn       direct-lateral        stdp-spikedyn  spikedyn-     normalise
                                                   threshold
asp            inhibitory-layer      stdp-asp       homeostatic  normalise
metaplastic    direct-lateral        stdp-          metaplastic- normalise
                                     metaplastic    threshold
=============  ====================  =============  ===========  ===========

and the variants ``lateral-fast`` (``lateral``'s parts with its own defaults: three times
the input rate and twice ``nu_post``, for early learning), ``lateral-fast-recall``
(``lateral-fast`` with plasticity ``stdp-recall``: Diehl & Cook's learning, and thresholds of
inference recalled from a running average of the training thresholds), ``lateral-no-depression``
(plasticity ``stdp-potentiation-only``, the example of docs/model.md), ``diehl-cook-delays``
and ``lateral-delays`` (plasticity ``stdp-delayed``: the original's random input delays).

Part families, one module each, each owning its parameter section (a frozen
dataclass), its kernel records, its hook implementations and its Brian2 twin:

====================  =============================================================  ==============
module                parts                                                          section
====================  =============================================================  ==============
``competition``       ``inhibitory-layer``, ``direct-lateral``                       ``inhibitory``,
                                                                                     ``lateral``
``stdp``              ``stdp`` (Diehl & Cook), ``normalise``                         (base ``stdp``)
``threshold``         ``homeostatic``                                                (base
                                                                                     ``excitatory``)
``spikedyn``          ``stdp-spikedyn``, ``spikedyn-threshold`` (SpikeDyn's rule)    ``spikedyn``
``asp``               ``stdp-asp`` (ASP's significance-modulated leak)               ``asp``
``metaplastic``       ``stdp-metaplastic``, ``metaplastic-threshold`` (consolidating  ``metaplastic``
                      STDP: commitment, threshold hold, fatigue, novelty gate)
``delays``            ``stdp-delayed`` (random input delays)                         ``delays``
``no_depression``     ``stdp-potentiation-only``                                     (none)
``recall``            ``stdp-recall`` (recall at the slow threshold)                 ``recall``
====================  =============================================================  ==============

``NetworkConfig(model=...)`` and its sections, the CLI's ``--model`` choices, the
Numba network, the Brian2 twin, ``validate``, ``bench``, runs on disk and the naive
reference of the tests all look models up here. Adding a model is one module with its
new part(s) (parameter section, kernel record, hook implementations, Brian2 twin) and
one :func:`register` line below; see ``docs/model.md``, "How to add a model".
"""

from __future__ import annotations

from .asp import Asp
from .competition import DirectLateral, InhibitoryLayer
from .delays import DelayedStdp
from .metaplastic import MetaplasticStdp, MetaplasticThreshold
from .no_depression import PotentiationOnly
from .recall import RecallStdp
from .registry import Model, declared_sections, get, names, register, registered, unregister
from .spikedyn import SpikeDynStdp, SpikeDynThreshold
from .stdp import DiehlCookStdp, Normalisation
from .threshold import Homeostatic

__all__ = ["Model", "declared_sections", "get", "names", "register", "registered", "unregister"]

register(Model("diehl-cook", "inhibitory layer, STDP, homeostatic threshold (Diehl & Cook 2015)",
               InhibitoryLayer(), DiehlCookStdp(), Homeostatic(), Normalisation()))
register(Model("lateral", "direct lateral inhibition, STDP, homeostatic threshold (SpikeDyn)",
               DirectLateral(), DiehlCookStdp(), Homeostatic(), Normalisation()))
register(Model("spikedyn", "lateral with SpikeDyn's continual-learning rule: adaptive rates and threshold, "
                           "weight decay, no spurious updates", DirectLateral(), SpikeDynStdp(), SpikeDynThreshold(),
               Normalisation()))
register(Model("asp", "diehl-cook with ASP's significance-modulated weight leak (Panda et al. 2018)",
               InhibitoryLayer(), Asp(), Homeostatic(), Normalisation()))
register(Model("metaplastic", "lateral with consolidating STDP: neurons commit after a spike budget and keep their "
                              "weights and threshold; training-time fatigue, novelty-gated recruitment (switches)",
               DirectLateral(), MetaplasticStdp(), MetaplasticThreshold(), Normalisation()))
register(Model("lateral-fast", "lateral learning fast: three times the input rate (191 Hz) and twice the postsynaptic "
                               "learning rate, chosen on the validation split for accuracy after 3,000 images",
               DirectLateral(), DiehlCookStdp(), Homeostatic(), Normalisation(),
               defaults={"input": {"rate_hz_per_unit": 0.75}, "stdp": {"nu_post": 0.02}}))
register(Model("lateral-fast-recall", "lateral-fast answering with the running average of each neuron's training "
                                      "thresholds (recall at the slow threshold) when learning is off",
               DirectLateral(), RecallStdp(), Homeostatic(), Normalisation(),
               defaults={"input": {"rate_hz_per_unit": 0.75}, "stdp": {"nu_post": 0.02}}))
register(Model("lateral-no-depression", "lateral, STDP without depression",
               DirectLateral(), PotentiationOnly(), Homeostatic(), Normalisation()))
register(Model("diehl-cook-delays", "diehl-cook with the original's random input delays (0-10 ms)",
               InhibitoryLayer(), DelayedStdp(), Homeostatic(), Normalisation()))
register(Model("lateral-delays", "lateral with random input delays (0-10 ms)",
               DirectLateral(), DelayedStdp(), Homeostatic(), Normalisation()))
