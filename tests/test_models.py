"""The registry of models and the compile-time dispatch of the parts' kernel hooks."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from naive import NAIVE_PARTS

from spikedyn import models
from spikedyn.config import NetworkConfig
from spikedyn.core.parts import HookError, implements, kernel_hook
from spikedyn.errors import ConfigError

KINDS = ("competition", "plasticity", "threshold", "between")


def test_builtin_models_are_registered_in_order() -> None:
    assert models.names()[:2] == ("diehl-cook", "lateral")
    dc, lateral = models.get("diehl-cook"), models.get("lateral")
    assert (dc.competition.name, lateral.competition.name) == ("inhibitory-layer", "direct-lateral")
    assert dc.plasticity.name == lateral.plasticity.name == "stdp"


@pytest.mark.parametrize("name", models.names())
def test_every_part_has_its_kind_a_record_and_both_twins(name: str) -> None:
    model = models.get(name)
    config = NetworkConfig(model=name, n_neurons=5)
    records = model.kernel_records(config)
    assert set(records) == set(KINDS)
    for kind, part in model.parts.items():
        assert part.kind == kind
        assert isinstance(records[kind], tuple) and hasattr(records[kind], "_fields")  # a NamedTuple
        assert part.name in NAIVE_PARTS, f"part {part.name!r} has no naive twin in tests/naive.py"
    # Brian2 twins
    assert callable(model.competition.brian2_build) and callable(model.competition.brian2_rest_v)
    assert {"model", "on_pre", "on_post", "traces"} <= set(model.plasticity.brian2_synapses())
    assert "theta" in model.threshold.brian2_equations(True)
    assert callable(model.between.brian2_before_presentation)
    # what each part stores, for the memory footprint (spikedyn.cost.footprint)
    assert set(model.competition.footprint_entries(config)) == {"connections", "neurons", "neuron_state"}
    assert set(model.plasticity.footprint_entries(config)) == {"pre_traces", "rule_state", "delays"}


def test_records_of_different_parts_have_different_types() -> None:
    """Dispatch is by record type: two parts of one kind must not share one."""
    config = NetworkConfig(n_neurons=5)
    for kind in KINDS:
        types = {}
        for name in models.names():
            part = models.get(name).parts[kind]
            record_type = type(part.record(config.replace(model=name)))
            assert types.setdefault(record_type, part.name) == part.name


def test_unknown_model_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="unknown model 'nope'; choose one of diehl-cook, lateral"):
        models.get("nope")
    with pytest.raises(ConfigError, match="unknown model"):
        NetworkConfig(model="nope")


def test_register_refuses_duplicates_and_misplaced_parts() -> None:
    dc = models.get("diehl-cook")
    with pytest.raises(ValueError, match="already registered"):
        models.register(dc)
    swapped = models.Model("swapped", "parts in the wrong slots", dc.plasticity, dc.competition, dc.threshold,
                           dc.between)
    with pytest.raises(ValueError, match="is not a competition part"):
        models.register(swapped)
    assert "swapped" not in models.names()


def test_a_model_s_own_defaults_start_every_config_built_for_it() -> None:
    fast = NetworkConfig(model="lateral-fast")
    assert (fast.input.rate_hz_per_unit, fast.stdp.nu_post) == (0.75, 0.02)
    plain = NetworkConfig(model="lateral")
    assert (plain.input.rate_hz_per_unit, plain.stdp.nu_post) == (0.25, 0.01)
    # everything else is lateral's: the same sections but for the two fields
    assert fast.replace(input__rate_hz_per_unit=0.25, stdp__nu_post=0.01, model="lateral") == plain
    # a partial config of the model (a file, --set) starts from its defaults too
    partial = NetworkConfig.from_dict({"model": "lateral-fast", "stdp": {"nu_pre": 0.0002}})
    assert (partial.input.rate_hz_per_unit, partial.stdp.nu_post, partial.stdp.nu_pre) == (0.75, 0.02, 0.0002)
    assert NetworkConfig.from_dict(fast.to_dict()) == fast


def test_changing_the_model_keeps_what_was_changed_and_takes_the_new_model_s_defaults() -> None:
    mine = NetworkConfig(model="lateral", n_neurons=400).replace(stdp__nu_pre=0.0003, timing__present_ms=250.0)
    fast = mine.replace(model="lateral-fast")
    assert (fast.n_neurons, fast.stdp.nu_pre, fast.timing.present_ms) == (400, 0.0003, 250.0)
    assert (fast.input.rate_hz_per_unit, fast.stdp.nu_post) == (0.75, 0.02)
    # an override given with the model wins over the model's default
    assert mine.replace(model="lateral-fast", stdp__nu_post=0.01).stdp.nu_post == 0.01
    # and back: lateral-fast's defaults were not changes
    back = fast.replace(model="lateral")
    assert back == mine


def test_a_model_with_another_s_parts_is_priced_as_the_computation_its_config_is() -> None:
    fast, lateral = models.get("lateral-fast"), models.get("lateral")
    assert fast.reduced(NetworkConfig(model="lateral-fast")) == "lateral-fast"
    # lateral-fast at lateral's input rate is lateral with a faster STDP; lateral at lateral-fast's settings is it
    assert fast.reduced(NetworkConfig(model="lateral-fast").replace(input__rate_hz_per_unit=0.25)) == "lateral"
    same = NetworkConfig(model="lateral").replace(input__rate_hz_per_unit=0.75, stdp__nu_post=0.02)
    assert lateral.reduced(same) == "lateral-fast"
    assert lateral.reduced(NetworkConfig(model="lateral")) == "lateral"


def test_register_refuses_defaults_of_unknown_sections_or_fields() -> None:
    lateral = models.get("lateral")
    parts = (lateral.competition, lateral.plasticity, lateral.threshold, lateral.between)
    with pytest.raises(ValueError, match="defaults name the section 'nope'"):
        models.register(models.Model("bad-section", "", *parts, defaults={"nope": {"x": 1}}))
    with pytest.raises(ValueError, match="defaults of section 'stdp'.*nu_postt"):
        models.register(models.Model("bad-field", "", *parts, defaults={"stdp": {"nu_postt": 0.1}}))
    assert not {"bad-section", "bad-field"} & set(models.names())


# -- the dispatch mechanism on a toy hook ------------------------------------------------------------
from typing import NamedTuple  # noqa: E402


class _Double(NamedTuple):
    factor: float


class _Shift(NamedTuple):
    offset: float


class _Unregistered(NamedTuple):
    x: float


scale = kernel_hook("scale", "rec, values", "Toy hook: transform values in place.")


@implements(scale, _Double)
def _scale_double(rec, values):
    for i in range(values.shape[0]):
        values[i] *= rec.factor


@implements(scale, _Shift)
def _scale_shift(rec, values):
    for i in range(values.shape[0]):
        values[i] += rec.offset


@numba.njit
def _apply(rec, values, times):
    for _ in range(times):
        scale(rec, values)


def test_hook_dispatches_on_the_record_type_at_compile_time() -> None:
    a, b = np.ones(3), np.ones(3)
    _apply(_Double(2.0), a, 3)
    _apply(_Shift(0.5), b, 3)
    np.testing.assert_array_equal(a, [8.0, 8.0, 8.0])
    np.testing.assert_array_equal(b, [2.5, 2.5, 2.5])
    assert len(_apply.signatures) == 2  # one specialisation per record type


def test_hook_without_implementation_fails_to_compile_naming_the_record() -> None:
    with pytest.raises(HookError, match="hook scale has no implementation for _Unregistered.*registered: _Double, _Shift"):
        _apply(_Unregistered(1.0), np.ones(2), 1)


def test_hook_runs_only_in_compiled_code_and_refuses_a_second_implementation() -> None:
    with pytest.raises(TypeError, match="only inside Numba-compiled kernels"):
        scale(_Double(2.0), np.ones(1))
    with pytest.raises(ValueError, match="already has an implementation"):
        implements(scale, _Double)(_scale_shift)
