"""``spikedyn compare`` and :mod:`spikedyn.compare`: runs read, grouped, tabulated as mean ± sd, and every
two models at one size compared by their seed-paired margin with its t-interval (on hand-made runs)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_png, assert_usage_error, entries

from spikedyn import NetworkConfig
from spikedyn.compare import group_runs, margin_rows, read_runs, table_rows, write_comparison
from spikedyn.continual.metrics import summarize
from spikedyn.core.stats import mean_sd, paired_margin

pytestmark = pytest.mark.usefixtures("offline_env")

PROTOCOL = {"tasks": ["0", "1", "2"], "samples_per_task": 10, "assign_per_class": 2, "test_per_class": None,
            "split": "test", "draw": "seeded"}


def continual_summary(model: str, seed: int, level: float, neurons: int = 20, **overrides) -> dict:
    """A continual summary as 'spikedyn continual' writes it, of an accuracy matrix around ``level``."""
    R = np.full((3, 3), np.nan)
    for i in range(3):
        for j in range(i + 1):
            R[i, j] = min(1.0, level + 0.1 * (i == j) + 0.01 * seed - 0.02 * (i - j))
    config = NetworkConfig(model=model, n_neurons=neurons).replace(**overrides).to_dict()
    return {"model": model, "neurons": neurons, "seed": seed, "protocol": PROTOCOL, "task_names": ["0", "1", "2"],
            **summarize(R), "config": config, "iid": {"average_accuracy": level + 0.2, "wall_seconds": 1.0},
            "wall_seconds": 60.0, "command": "continual"}


def write_runs(root: Path, runs: dict[tuple[str, int], float]) -> list[dict]:
    out = []
    for (model, seed), level in runs.items():
        d = root / f"{model}-{seed}"
        d.mkdir(parents=True)
        summary = continual_summary(model, seed, level)
        (d / "continual.json").write_text(json.dumps(summary))
        out.append(summary)
    return out


LEVELS = {("spikedyn", 0): 0.7, ("spikedyn", 1): 0.72, ("spikedyn", 2): 0.69,
          ("asp", 0): 0.5, ("asp", 1): 0.47, ("asp", 2): 0.52}


def test_runs_are_grouped_and_tabulated_as_mean_and_sd(tmp_path) -> None:
    summaries = write_runs(tmp_path / "runs", LEVELS)
    (tmp_path / "copy.json").write_text(json.dumps(summaries[0]))  # a --json copy of a run counts once
    groups = group_runs(read_runs([tmp_path]))
    # rows in the order the models first appear (copy.json, a spikedyn run, is read first), seeds sorted
    assert [(g.label, g.neurons, g.seeds) for g in groups] == [("spikedyn", 20, [0, 1, 2]), ("asp", 20, [0, 1, 2])]
    rows = {r["label"]: r for r in table_rows(groups)}
    accs = [s["final_average_accuracy"] for s in summaries if s["model"] == "spikedyn"]
    assert rows["spikedyn"]["acc"] == pytest.approx(mean_sd(accs))
    assert rows["spikedyn"]["iid"][0] == pytest.approx(np.mean([0.9, 0.92, 0.89]))
    assert rows["spikedyn"]["minutes"] == pytest.approx((60.0 + 1.0) / 60)


def test_every_two_models_at_one_size_get_a_paired_margin_with_its_interval(tmp_path) -> None:
    summaries = write_runs(tmp_path, LEVELS)
    (margin,) = margin_rows(group_runs(read_runs([tmp_path])))
    assert (margin["a"], margin["b"], margin["neurons"], margin["seeds"]) == ("spikedyn", "asp", 20, [0, 1, 2])
    acc = {(s["model"], s["seed"]): s["final_average_accuracy"] for s in summaries}
    expected = paired_margin({s: acc[("spikedyn", s)] for s in range(3)}, {s: acc[("asp", s)] for s in range(3)})
    assert margin["acc"] == expected and margin["acc"].low > 0  # spikedyn ahead, beyond noise
    d = [acc[("spikedyn", s)] - acc[("asp", s)] for s in range(3)]
    half = 4.302652729911275 * np.std(d, ddof=1) / math.sqrt(3)  # t_{0.975, 2}
    assert (margin["acc"].low, margin["acc"].high) == pytest.approx((np.mean(d) - half, np.mean(d) + half))


def test_runs_of_other_sizes_protocols_or_overrides_are_not_compared(tmp_path) -> None:
    for name, summary in (("a", continual_summary("spikedyn", 0, 0.7)),
                          ("b", continual_summary("asp", 0, 0.5, neurons=40)),
                          ("c", continual_summary("asp", 0, 0.5, stdp__nu_post=0.02))):
        (tmp_path / f"{name}.json").write_text(json.dumps(summary))
    groups = group_runs(read_runs([tmp_path]))
    assert [(g.label, g.neurons, g.overrides) for g in groups] == [
        ("spikedyn", 20, ()), ("asp", 20, ("stdp.nu_post=0.02",)), ("asp", 40, ())]
    assert margin_rows(groups) == []


def test_runs_on_other_datasets_are_not_compared(tmp_path) -> None:
    """A summary without ``dataset`` (stored before the field) is MNIST's; a named dataset and unnamed
    pools (``None``) are each grouped apart, and nothing is paired across them."""
    summaries = {"mnist": continual_summary("spikedyn", 0, 0.7), "old": continual_summary("asp", 0, 0.5),
                 "fashion": {**continual_summary("asp", 0, 0.4), "dataset": "sha256:0123456789abcdef"},
                 "unnamed": {**continual_summary("asp", 0, 0.45), "dataset": None}}
    summaries["mnist"]["dataset"] = "mnist"
    for name, summary in summaries.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(summary))
    groups = group_runs(read_runs([tmp_path]))
    protocols = sorted(g.protocol for g in groups)
    assert len(groups) == 4 and sum("dataset" not in p for p in protocols) == 2  # MNIST, named or by default
    assert any(p.endswith(", dataset sha256:0123456789abcdef") for p in protocols)
    assert any(p.endswith(", dataset unnamed") for p in protocols)
    (margin,) = margin_rows(groups)  # the two MNIST runs only
    assert (margin["a"], margin["b"]) == ("spikedyn", "asp")


def test_margins_of_several_protocols_name_each_row_s_protocol(tmp_path) -> None:
    """Margins at one size under two protocols (here two datasets) would read alike: each row names its
    protocol with the table's short name, and the legend follows, as in table.md."""
    for seed in (0, 1):
        for model, level in (("spikedyn", 0.7), ("asp", 0.5)):
            other = {**continual_summary(model, seed, level - 0.2), "dataset": "sha256:0123456789abcdef"}
            (tmp_path / f"{model}-{seed}.json").write_text(json.dumps(continual_summary(model, seed, level)))
            (tmp_path / f"{model}-{seed}-other.json").write_text(json.dumps(other))
    write_comparison(group_runs(read_runs([tmp_path])), tmp_path / "out")
    table, margins = ((tmp_path / "out" / name).read_text() for name in ("table.md", "margins.md"))
    assert "| model a - b | neurons | protocol | seeds |" in margins
    assert margins.count("| `spikedyn` - `asp` | 20 | P") == 2
    legend = [line for line in table.splitlines() if line.startswith("P")]
    assert len(legend) == 2 and all(line in margins.splitlines() for line in legend)
    # one protocol: no column (every table written before stays as it was)
    one = tmp_path / "one"
    one.mkdir()
    for f in tmp_path.glob("*.json"):
        if "other" not in f.name:
            (one / f.name).write_text(f.read_text())
    write_comparison(group_runs(read_runs([one])), tmp_path / "out1")
    assert "| model a - b | neurons | seeds |" in (tmp_path / "out1" / "margins.md").read_text()


def test_two_different_results_of_one_run_are_refused(tmp_path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(continual_summary("asp", 0, 0.5)))
    (tmp_path / "b.json").write_text(json.dumps(continual_summary("asp", 0, 0.6)))
    with pytest.raises(Exception, match="are two results of asp, 20 neurons, seed 0, and they differ"):
        read_runs([tmp_path])


def test_compare_prints_and_writes_the_tables_and_figures(run_cli, tmp_path) -> None:
    write_runs(tmp_path / "runs", LEVELS)
    code, out, err = run_cli("compare", tmp_path / "runs", "--out", tmp_path / "cmp", "--json", tmp_path / "c.json")
    assert code == 0, err
    assert "| `spikedyn` | 20 | 3 | " in out and "| `spikedyn` - `asp` | 20 | 3 | +" in out
    assert entries(tmp_path / "cmp") == ["accuracy_matrix_asp_20.png", "accuracy_matrix_spikedyn_20.png",
                                         "margins.csv", "margins.md", "table.csv", "table.md", "task_accuracy_20.png"]
    assert (tmp_path / "cmp" / "table.md").read_text() in out
    for png in (tmp_path / "cmp").glob("*.png"):
        assert_png(png)
    csv_rows = (tmp_path / "cmp" / "margins.csv").read_text().splitlines()
    assert csv_rows[0] == "kind,a,b,neurons,overrides,seeds,metric,margin,sd,low,high,confidence"
    assert [r.split(",")[6] for r in csv_rows[1:]] == ["acc", "new", "old"]
    summary = json.loads((tmp_path / "c.json").read_text())
    assert summary["runs"] == 6 and summary["margins"][0]["acc"]["n"] == 3
    code, _, err = run_cli("compare", tmp_path / "runs", "--out", tmp_path / "cmp")
    assert_usage_error(code, err, "already exists")


def test_compare_reads_evaluated_train_runs(run_cli, tmp_path) -> None:
    from spikedyn import Network

    for seed, acc in ((0, 0.8), (1, 0.82)):
        d = tmp_path / f"run{seed}"
        Network(NetworkConfig(model="lateral", n_neurons=4), seed=seed).save(
            d, extra={"training": {"learned_images": 100, "epochs": 1}})
        (d / "evaluation.json").write_text(json.dumps({"command": "evaluate", "accuracy": acc, "n_test": 50,
                                                       "assign_from": "learned"}))
    (tmp_path / "unevaluated").mkdir()
    Network(NetworkConfig(model="lateral", n_neurons=4), seed=2).save(tmp_path / "unevaluated" / "r")
    code, out, err = run_cli("compare", tmp_path, "--out", tmp_path / "cmp")
    assert code == 0, err
    assert "| `lateral` | 4 | 2 | 0.8100 ± 0.0141 |" in out
    assert_png(tmp_path / "cmp" / "accuracy.png")


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "absent", "does not exist"),
    (lambda d: d, "found no continual or evaluated run under"),
    (lambda d: (d / "x.json").write_text("{") and d / "x.json", "is not a readable JSON file"),
    (lambda d: (d / "e.json").write_text('{"command": "estimate"}') and d / "e.json", "holds no continual or"),
])
def test_compare_bad_paths(run_cli, tmp_path, make, message) -> None:
    code, _, err = run_cli("compare", make(tmp_path), "--out", tmp_path / "out")
    assert_usage_error(code, err, message)
    assert not (tmp_path / "out").exists()


def test_overrides_leave_out_the_sections_only_other_models_read() -> None:
    from spikedyn.compare import overrides_of
    from spikedyn.config import NetworkConfig

    spk = NetworkConfig(model="spikedyn", n_neurons=20).replace(asp__leak_rate=0.001, precision__weight_bits=8)
    assert overrides_of(spk.to_dict()) == ("precision.weight_bits=8",)  # asp.* is never read by spikedyn
    asp = NetworkConfig(model="asp", n_neurons=20).replace(asp__leak_rate=0.001)
    assert overrides_of(asp.to_dict()) == ("asp.leak_rate=0.001",)


def test_every_readout_is_tabulated_beside_the_papers_with_its_paired_margin(tmp_path) -> None:
    from spikedyn.compare import _readouts_md, readout_kinds

    summaries = []
    for (model, seed), level in LEVELS.items():
        s = continual_summary(model, seed, level)
        s["readouts"] = {"mean": {"final_average_accuracy": s["final_average_accuracy"], "bwt": s["bwt"]},
                         "profile": {"final_average_accuracy": s["final_average_accuracy"] + 0.01 * (seed + 1),
                                     "bwt": -0.01}}
        d = tmp_path / "runs" / f"{model}-{seed}"
        d.mkdir(parents=True)
        (d / "continual.json").write_text(json.dumps(s))
        summaries.append(s)
    groups = group_runs(read_runs([tmp_path / "runs"]))
    assert readout_kinds(groups) == ["mean", "profile"]
    md = _readouts_md(groups, "model")
    accs = [s["readouts"]["profile"]["final_average_accuracy"] for s in summaries if s["model"] == "spikedyn"]
    assert "| `spikedyn` | 20 | 3 | " in md and f"{np.mean(accs):.3f} ± {np.std(accs, ddof=1):.3f} (-0.010)" in md
    # profile - mean: +1, +2, +3 points over the seeds
    assert paired_margin({0: 0.01, 1: 0.02, 2: 0.03}, {0: 0.0, 1: 0.0, 2: 0.0}).format() in md
    # between models under each readout: spikedyn - asp, as under the paper's
    profile = {(s["model"], s["seed"]): s["readouts"]["profile"]["final_average_accuracy"] for s in summaries}
    expected = paired_margin({k: profile[("spikedyn", k)] for k in range(3)}, {k: profile[("asp", k)] for k in range(3)})
    assert "| `spikedyn` - `asp` | 20 | 3 | " in md and expected.format() in md.split("`spikedyn` - `asp`")[1]
    written = write_comparison(groups, tmp_path / "out")
    assert (tmp_path / "out" / "readouts.md") in written
    # runs stored before the readouts existed: no readouts table
    write_runs(tmp_path / "plain", LEVELS)
    plain = group_runs(read_runs([tmp_path / "plain"]))
    assert readout_kinds(plain) == [] and _readouts_md(plain, "model") == ""
