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
