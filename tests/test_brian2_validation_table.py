"""experiments/brian2_validation.py: the table of docs/validation.md, built from stored ``spikedyn validate`` JSONs."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from spikedyn.io.files import write_json

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
sys.path.insert(0, str(EXPERIMENTS))
validation = importlib.import_module("brian2_validation")


def summary(model: str, learn: bool, *, spikedyn: int = 100, brian2: int = 100, only_spikedyn: int = 0,
            only_brian2: int = 0, count_agreement: float = 1.0, first=None, source: str = "abcdef123456") -> dict:
    """A ``spikedyn validate`` summary with the fields the table reads."""
    common = spikedyn - only_spikedyn
    return {
        "command": "validate", "spikedyn_version": "9.9.9", "source_hash": source, "model": model, "neurons": 100,
        "samples": 20 if learn else 50, "target": "cpp_standalone", "learn": learn, "seed": 0,
        "spike_agreement": 2 * common / (spikedyn + brian2), "spikes_spikedyn": spikedyn, "spikes_brian2": brian2,
        "spikes_only_spikedyn": only_spikedyn, "spikes_only_brian2": only_brian2, "first_disagreement": first,
        "count_agreement": count_agreement, "presentations_agree": True, "presentations_spikedyn": 60,
        "presentations_brian2": 60, "max_weight_abs_diff": 1.7e-16 if learn else 0.0,
        "max_theta_abs_diff": 1.5e-11 if learn else 0.0, "theta_unit": "mV",
    }


def store(out: Path, *runs: dict) -> None:
    for s in runs:
        write_json(out / validation.run_name(s["model"], s["learn"]), s)


def rows(text: str) -> dict[tuple[str, str], list[str]]:
    """(model, protocol) -> the cells of its row."""
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()
             if line.startswith("| `")]
    return {(c[0].strip("`"), c[1]): c[2:] for c in cells}


def test_exact_runs_read_one_and_the_caption_says_what_ran(tmp_path: Path) -> None:
    store(tmp_path, summary("lateral", True), summary("diehl-cook", False), summary("lateral", False),
          summary("diehl-cook", True))
    text = validation.table(tmp_path)
    caption = text.splitlines()[0]
    for part in ("2 models", "100 neurons", "`cpp_standalone`", "package defaults", "seed 0",
                 "inference on the first 50", "learning on the first 20", "spikedyn 9.9.9", "source abcdef123456"):
        assert part in caption
    table = rows(text)
    assert list(table) == [("diehl-cook", "inference"), ("diehl-cook", "learning"), ("lateral", "inference"),
                           ("lateral", "learning")]  # the registry's order, inference first
    assert table[("diehl-cook", "inference")] == ["50", "1.000000 (100/100)", "1.000000", "0", "0"]
    assert table[("lateral", "learning")] == ["20", "1.000000 (100/100)", "1.000000", "1.7e-16", "1.5e-11 mV"]
    assert "No spike differs in any run." in text and "Not exact" not in text


def test_a_differing_spike_shows_below_one_and_is_reported(tmp_path: Path) -> None:
    first = {"sample": 3, "presentation": 0, "step": 117, "neuron": 42, "side": "brian2 only"}
    store(tmp_path, summary("asp", False),
          summary("asp", True, spikedyn=100, brian2=101, only_brian2=1, count_agreement=0.999, first=first))
    text = validation.table(tmp_path)
    table = rows(text)
    spikes, counts = table[("asp", "learning")][1:3]
    assert spikes == "0.995025 (100/101)"
    assert counts == "0.999000"
    assert table[("asp", "inference")][1] == "1.000000 (100/100)"
    assert "No spike differs" not in text
    assert ("- `asp` learning: 0 spikes only in spikedyn, 1 only in Brian2; presentations 60 / 60; first "
            "disagreement: sample 3, presentation 0, step 117, neuron 42 (brian2 only).") in text


def test_an_agreement_just_below_one_never_reads_one(tmp_path: Path) -> None:
    """One spike in a million differs: rounding to six decimals would show 1.000000."""
    store(tmp_path, summary("spikedyn", False, spikedyn=1_000_000, brian2=1_000_001, only_brian2=1))
    assert rows(validation.table(tmp_path))[("spikedyn", "inference")][1] == "0.999999 (1000000/1000001)"


def test_runs_of_different_sources_name_every_source(tmp_path: Path) -> None:
    store(tmp_path, summary("lateral", False, source="111111111111"), summary("lateral", True, source="222222222222"))
    assert "source 111111111111, 222222222222." in validation.table(tmp_path).splitlines()[0]


def test_table_only_writes_table_md_from_the_stored_runs(tmp_path: Path, capsys) -> None:
    store(tmp_path, summary("lateral-delays", True))
    assert validation.main(["--table-only", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "table.md").read_text() == validation.table(tmp_path)
    assert "`lateral-delays` | learning" in capsys.readouterr().out


def test_no_runs_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no validation runs"):
        validation.table(tmp_path)


def test_a_model_validated_again_with_its_mechanism_on_has_a_row_of_its_own(tmp_path: Path) -> None:
    leak = ("asp.leak_rate=0.001",)
    plain, with_leak = summary("asp", True), {**summary("asp", True, spikedyn=90, brian2=90), "overrides": list(leak)}
    write_json(tmp_path / validation.run_name("asp", True), plain)
    write_json(tmp_path / validation.run_name("asp", True, leak), with_leak)
    assert validation.run_name("asp", True, leak) != validation.run_name("asp", True)
    lines = [line for line in validation.table(tmp_path).splitlines() if line.startswith("| `asp`")]
    assert lines[0].startswith("| `asp` | learning |") and "(100/100)" in lines[0]
    assert lines[1].startswith("| `asp` `asp.leak_rate=0.001` | learning |") and "(90/90)" in lines[1]
    assert validation.EXERCISE["asp"] == (leak,)  # the leak asp had by default until 0.2.0


def test_the_inference_after_learning_has_a_row_and_its_differences_are_reported(tmp_path: Path) -> None:
    first = {"sample": 1, "presentation": 0, "step": 9, "neuron": 7, "side": "spikedyn only"}
    after = {key: value for key, value in summary("metaplastic", False, spikedyn=80, brian2=79, only_spikedyn=1,
                                                   count_agreement=0.95, first=first).items()
             if key in ("spike_agreement", "spikes_spikedyn", "spikes_brian2", "spikes_only_spikedyn",
                        "spikes_only_brian2", "first_disagreement", "count_agreement", "presentations_agree",
                        "presentations_spikedyn", "presentations_brian2")}
    store(tmp_path, {**summary("metaplastic", True), "after_learning": {**after, "samples": 7}},
          summary("metaplastic", False))
    text = validation.table(tmp_path)
    assert "inference after learning (learning off, the thresholds and weights the rule answers with) on the " \
           "next 7 images" in text.splitlines()[0]
    table = rows(text)
    assert list(table) == [("metaplastic", "inference"), ("metaplastic", "learning"),
                           ("metaplastic", "inference after learning")]
    spikes = 2 * 79 / 159
    assert table[("metaplastic", "inference after learning")] == ["7", f"{spikes:.6f} (80/79)", "0.950000", "-", "-"]
    assert ("- `metaplastic` inference after learning: 1 spikes only in spikedyn, 0 only in Brian2; presentations "
            "60 / 60; first disagreement: sample 1, presentation 0, step 9, neuron 7 (spikedyn only).") in text


def test_protocols_choose_the_runs_and_learning_runs_answer_the_next_images(tmp_path: Path, monkeypatch) -> None:
    """run() with validate recorded instead of run: only the chosen protocol, and after learning the
    images that follow the learning ones."""
    import numpy as np

    from spikedyn.io import data
    from spikedyn.reference import validate as module

    images = np.arange(10 * 784, dtype=np.int64).reshape(10, 784) % 256
    monkeypatch.setattr(data, "load_samples", lambda split, data_dir, n, progress: (images[:n].astype(np.uint8),
                                                                                    np.zeros(n, np.uint8)))
    calls = []

    def fake(config, imgs, *, learn, target, seed, progress, then_infer):
        calls.append((config.model, learn, imgs.copy(), None if then_infer is None else then_infer.copy()))
        return summary(config.model, learn)

    monkeypatch.setattr(module, "validate", fake)
    monkeypatch.setattr(module, "format_summary", lambda s: "")
    validation.run(tmp_path, ["lateral"], neurons=4, samples=5, learn_samples=3, target="numpy", seed=0,
                   data_dir=None, after_samples=2, protocols=("learn",))
    ((model, learn, learned, after),) = calls
    assert (model, learn) == ("lateral", True)
    np.testing.assert_array_equal(learned, images[:3])
    np.testing.assert_array_equal(after, images[3:5])
    assert [p.name for p in tmp_path.iterdir()] == ["lateral-learn.json"]
    calls.clear()
    validation.run(tmp_path, ["lateral"], neurons=4, samples=5, learn_samples=3, target="numpy", seed=0,
                   data_dir=None, after_samples=0, protocols=("infer", "learn"))
    assert [(c[1], c[2].shape[0], c[3]) for c in calls] == [(False, 5, None), (True, 3, None)]
    with pytest.raises(SystemExit):
        validation.main(["--protocols", "learn,train", "--out", str(tmp_path)])
    with pytest.raises(SystemExit):
        validation.main(["--after-samples", "-1", "--out", str(tmp_path)])


def test_every_exercised_variant_has_a_file_name_the_file_system_takes(tmp_path: Path) -> None:
    """A variant's name is written out in full up to a length, and replaced by a hash of its overrides
    beyond it (metaplastic's third variant has nine overrides)."""
    names = {validation.run_name(m, learn, ov) for m, variants in validation.EXERCISE.items() for ov in variants
             for learn in (False, True)}
    assert len(names) == 2 * sum(len(v) for v in validation.EXERCISE.values())  # none shared
    for name in names:
        assert len(name.encode()) <= 255
        write_json(tmp_path / name, {})
    long = tuple(f"metaplastic.field_{k}=1" for k in range(20))
    assert validation.run_name("metaplastic", True, long) != validation.run_name("metaplastic", True, long[:-1])
    assert validation.run_name("asp", True, ("asp.leak_rate=0.001",)) == "asp-asp.leak_rate_0.001-learn.json"
