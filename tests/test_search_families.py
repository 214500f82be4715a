"""The search's candidate families: STDP, converted and surrogate-trained networks on one front, under the
search's rules (estimate before training, validation split, stored results by source hash, executors)."""

from __future__ import annotations

import json
import os

import pytest

from spikedyn import cost
from spikedyn.errors import ConfigError
from spikedyn.search import Budget, SearchProtocol, SearchSpace, SearchSpec, families, run_search


def test_the_registry_finds_every_family_and_model() -> None:
    assert {"converted-mlp", "surrogate-mlp"} <= set(families.names())
    assert families.family_of("diehl-cook") is families.STDP and families.get("stdp") is families.STDP
    assert families.family_of("converted-mlp").name == "converted-mlp"
    with pytest.raises(ConfigError, match="unknown model 'bogus'; models: diehl-cook"):
        families.family_of("bogus")
    with pytest.raises(ConfigError, match="already registered"):
        families.register(families.get("converted-mlp"))


def test_candidates_take_their_own_grid_keys_and_weight_widths() -> None:
    space = SearchSpace(models=("lateral", "converted-mlp", "surrogate-mlp"), neurons=(20, 40), weight_bits=(32, 8),
                        grid=(("timing.present_ms", (250.0, 350.0)), ("surrogate-mlp.layers", (2, 3))))
    ids = [c.id for c in space.candidates()]
    assert len([i for i in ids if i.startswith("lateral")]) == 2 * 2 * 2  # sizes x widths x present_ms
    assert [i for i in ids if i.startswith("converted")] == ["converted-mlp-20-w32", "converted-mlp-40-w32"]
    assert "surrogate-mlp-40-w32-layers=3" in ids and len([i for i in ids if i.startswith("surrogate")]) == 4
    c = next(c for c in space.candidates() if c.id == "surrogate-mlp-40-w32-layers=3")
    config = families.family_of(c.model).config(c, space.base)
    assert (config.layers, config.width) == (3, 40) and config.sizes() == (784, 40, 40, 40, 10)


@pytest.mark.parametrize("kwargs, message", [
    ({"models": ("converted-mlp",), "weight_bits": (8,)}, "converted-mlp runs with 32-bit weights only"),
    ({"models": ("converted-mlp",), "grid": (("surrogate-mlp.layers", (2,)),)}, "belongs to no model"),
    ({"models": ("converted-mlp",), "grid": (("converted-mlp.bogus", (2,)),)}, "converted-mlp has no field 'bogus'"),
    ({"models": ("surrogate-mlp",), "grid": (("surrogate-mlp.layers", (0,)),)}, "layers must be an integer >= 1"),
])
def test_bad_family_spaces_are_one_line_errors(kwargs, message) -> None:
    with pytest.raises(ConfigError, match=message):
        SearchSpace(neurons=(10,), **kwargs)


def test_a_supervised_family_refuses_the_continual_protocol() -> None:
    with pytest.raises(ConfigError, match="converted-mlp is trained and scored under the standard protocol only"):
        SearchSpec(SearchSpace(models=("converted-mlp",), neurons=(10,)), protocol=SearchProtocol(name="continual"))


@pytest.mark.parametrize("name", ["converted-mlp", "surrogate-mlp"])
def test_the_estimate_prices_the_predicted_tally_on_the_searchs_table(name) -> None:
    family = families.get(name)
    space = SearchSpace(models=(name,), neurons=(100,))
    config = family.config(space.candidates()[0], space.base)
    table = cost.tables.load_energy_table("loihi")
    est = family.estimate(config, table)
    assert est["memory_kb"] == cost.layered_footprint_bytes(config.sizes(), kind="snn")["total"] / 1024
    ops = family.operations(config, family.predicted_tally(config))
    priced = cost.price_layered(config.sizes(), ops, table=table)
    assert est["infer_energy_uj"] == priced["infer_energy_uj"] > 0
    assert est["train_energy_uj"] is None  # no chip runs backpropagation: unavailable on Loihi
    assert family.estimate(config, cost.tables.load_energy_table("horowitz-45nm"))["train_energy_uj"] > 0


MODELS = ("lateral", "converted-mlp", "surrogate-mlp")
GRID = (("converted-mlp.epochs", (1,)), ("converted-mlp.timesteps", (20,)), ("converted-mlp.n_norm", (100,)),
        ("surrogate-mlp.layers", (2,)), ("surrogate-mlp.timesteps", (4,)))
PROTOCOL = SearchProtocol(train_samples=100, validation_samples=60)


@pytest.fixture(scope="module")
def family_search(tmp_path_factory):
    if os.environ.get("SPIKEDYN_DATA_DIR") is None:
        pytest.skip("set SPIKEDYN_DATA_DIR to a directory with MNIST")
    import spikedyn.io.data

    out = tmp_path_factory.mktemp("search-families")
    space = SearchSpace(models=MODELS, neurons=(16,), grid=GRID)
    real = spikedyn.io.data.load_mnist

    def training_split_only(split, *args, **kwargs):
        assert split == "train", f"a search loaded the {split!r} split"
        return real(split, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:  # one in-process worker (jobs=1): it sees the guard
        mp.setattr(spikedyn.io.data, "load_mnist", training_split_only)
        summary = run_search(space, Budget(), PROTOCOL, out_dir=out, executor="local", jobs=1, progress=False)
    return out, space, summary


@pytest.mark.mnist
def test_one_front_holds_every_family_and_a_rerun_reuses_them(family_search) -> None:
    out, space, s = family_search
    by_family = {c["family"]: c for c in s["candidates"]}
    assert set(by_family) == {"stdp", "converted-mlp", "surrogate-mlp"}
    for c in s["candidates"]:
        assert 0 <= c["accuracy"] <= 1 and c["memory_kb"] > 0 and c["infer_energy_uj"] > 0
        assert c["counted_train_samples"] == PROTOCOL.train_samples  # one epoch each
        stored = json.loads((out / "candidates" / f"{c['id']}-seed0.json").read_text())
        assert stored["source_hash"] and stored["task"]["protocol"]["validation_samples"] == 60
    assert "| converted-mlp |" in (out / "candidates.md").read_text()
    again = run_search(space, Budget(), PROTOCOL, out_dir=out, executor="local", jobs=1, progress=False)
    assert again["counts"]["tasks_reused"] == again["counts"]["tasks"] == 3
    assert again["candidates"] == s["candidates"]


@pytest.mark.mnist
def test_families_run_on_dask_with_the_same_result(family_search, tmp_path) -> None:
    pytest.importorskip("distributed")
    _, space, first = family_search
    space = SearchSpace(models=MODELS[1:2], neurons=(16,), grid=GRID[:3])
    dask = run_search(space, Budget(), PROTOCOL, out_dir=tmp_path, executor="dask", jobs=2, progress=False)
    want = {c["id"]: c["accuracy"] for c in first["candidates"] if c["family"] == "converted-mlp"}
    assert {c["id"]: c["accuracy"] for c in dask["candidates"]} == want


@pytest.mark.mnist
def test_a_budget_prunes_a_family_before_training(tmp_path) -> None:
    space = SearchSpace(models=("converted-mlp",), neurons=(16, 2000), grid=GRID[:3])
    s = run_search(space, Budget(max_memory_kb=1000), PROTOCOL, out_dir=tmp_path, jobs=1, progress=False)
    big = next(c for c in s["candidates"] if c["neurons"] == 2000)
    assert big["pruned"] and big["counted_train_samples"] == 0 and big["reason"].startswith("memory_kb")


def test_the_selection_scripts_never_name_held_out_data() -> None:
    """A static check: the family search scores on the validation split, and the CartPole selection plays
    selection episodes, never the evaluation episodes the acceptance reports."""
    from pathlib import Path

    experiments = Path(__file__).resolve().parents[1] / "experiments"
    search = (experiments / "search_families.py").read_text() + (experiments / "_runner.py").read_text()
    assert 'mnist("test")' not in search and 'load_mnist("test"' not in search
    assert '"evaluation"' not in (experiments / "cartpole_agreement.py").read_text()
    import inspect

    assert '"test"' not in inspect.getsource(families)
