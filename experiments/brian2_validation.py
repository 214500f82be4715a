"""Every registered model against its Brian2 twin, spike for spike: the table of docs/validation.md.

For every model of ``spikedyn.models.names()``, inference and learning, runs what
``spikedyn validate --model M --neurons 100 --samples K [--learn --then-infer J] --json
OUT/M-PROTOCOL.json`` runs (:func:`spikedyn.reference.validate.validate` on the first K MNIST
training images, in this process): 100 neurons, Brian2's ``cpp_standalone`` target, the
package defaults, seed 0; and a model whose defaults leave a mechanism off (:data:`EXERCISE`:
``asp``'s leak, ``metaplastic``'s capacity budget) once more with it on. After learning, both trained networks answer the next
``--after-samples`` images with learning off (the rule state each learned, and the spikes each
produces with what the rule answers with: the recalls of ``metaplastic`` and
``lateral-fast-recall``), a row of its own.
Each run's summary (with the source hash of the code that ran) is stored as
``<model>-<infer|learn>.json`` in ``--out``, and ``table.md`` there shows them all: spike
agreement, count agreement, and after learning the largest weight and threshold differences.

    python experiments/brian2_validation.py                 # about 10 minutes on two cores
    python experiments/brian2_validation.py --table-only    # rewrite table.md from the stored JSONs
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from tqdm.auto import tqdm

from spikedyn import models
from spikedyn.config import NetworkConfig
from spikedyn.io.files import atomic_path, write_json
from spikedyn.models.asp import PUBLISHED_LEAK_RATE
from spikedyn.reference.validate import DEFAULT_TARGET, VALIDATE_TARGETS, describe_disagreement

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "experiments" / "results" / "brian2_validation"
#: Models validated again with each of these sets of overrides (``--set`` items): a mechanism
#: their defaults leave off (``asp`` has no leak by default, which is ``diehl-cook``), or one that
#: does not act within the run (``metaplastic``'s neurons commit after 200 training spikes, which
#: no neuron of 100 reaches in 50 images: here after 5, then holding 90 % of the threshold's rise,
#: learning at a tenth of the rate and tiring; and, second, with the capacity budget, budgets of
#: 5-15 spikes by the free neurons between 40 and 100, and the referenced recall; third, the same with
#: only committed neurons answering after learning, as ``spikedyn continual``'s default recalls; the
#: novelty gate has no Brian2 form).
EXERCISE = {"asp": ((f"asp.leak_rate={PUBLISHED_LEAK_RATE:g}",),),
            "metaplastic": (("metaplastic.commit_spikes=5", "metaplastic.theta_hold=0.9",
                             "metaplastic.consolidated_rate=0.1", "metaplastic.fatigue=true",
                             "metaplastic.fatigue_per_spike=0.5", "metaplastic.tau_fatigue_ms=400"),
                            ("metaplastic.commit_spikes=5", "metaplastic.capacity_budget=true",
                             "metaplastic.budget_extra_spikes=10", "metaplastic.budget_start_spikes=2",
                             "metaplastic.budget_reserve_neurons=40", "metaplastic.budget_full_neurons=100"),
                            ("metaplastic.commit_spikes=5", "metaplastic.capacity_budget=true",
                             "metaplastic.budget_extra_spikes=10", "metaplastic.budget_start_spikes=2",
                             "metaplastic.budget_reserve_neurons=40", "metaplastic.budget_full_neurons=100",
                             "metaplastic.recall_committed_only=true"))}
#: File suffix -> the protocol's name in the table.
PROTOCOLS = {"infer": "inference", "learn": "learning"}
#: ``learn`` -> the protocol's file suffix.
PROTOCOL_FILES = {False: "infer", True: "learn"}
#: The row of the inference that follows a learning run (``--after-samples``).
AFTER = "inference after learning"


#: Longest variant part of a file name written out in full; a longer one is replaced by a hash of the
#: overrides (a file name is at most 255 bytes; the overrides are stored in the file either way).
MAX_VARIANT_CHARS = 210


def run_name(model: str, learn: bool, overrides: tuple[str, ...] = ()) -> str:
    """The JSON file of one run in ``--out``."""
    variant = "".join(f"-{item.replace('=', '_')}" for item in overrides)
    if len(variant) > MAX_VARIANT_CHARS:
        variant = "-" + hashlib.sha256("\n".join(overrides).encode()).hexdigest()[:12]
    return f"{model}{variant}-{PROTOCOL_FILES[learn]}.json"


def run(out: Path, names: list[str], *, neurons: int, samples: int, learn_samples: int, target: str, seed: int,
        data_dir: Path | None, after_samples: int = 0, protocols: tuple[str, ...] = ("infer", "learn")) -> None:
    """Validate every model of ``names`` in ``protocols``; write each summary to ``out``. Learning runs then
    answer the next ``after_samples`` images with learning off (none if 0)."""
    from spikedyn.config import parse_set
    from spikedyn.io.data import load_samples
    from spikedyn.reference.validate import format_summary, validate

    images, _ = load_samples("train", data_dir, max(samples, learn_samples + after_samples), progress=False)
    variants = [(model, ()) for model in names] + [(m, ov) for m in names for ov in EXERCISE.get(m, ())]
    runs = [(model, overrides, learn) for model, overrides in variants for learn in (False, True)
            if PROTOCOL_FILES[learn] in protocols]
    with tqdm(runs, desc="brian2 validation", unit="run") as bar:
        for model, overrides, learn in bar:
            bar.set_postfix_str(run_name(model, learn, overrides)[:-5])
            config = NetworkConfig().replace(model=model, n_neurons=neurons)  # as `spikedyn validate` builds it
            config = config.replace(**dict(parse_set(item) for item in overrides))
            after = images[learn_samples:learn_samples + after_samples] if learn and after_samples else None
            summary = validate(config, images[:learn_samples if learn else samples], learn=learn, target=target,
                               seed=seed, progress=False, then_infer=after)
            write_json(out / run_name(model, learn, overrides), {**summary, "overrides": list(overrides)})
            tqdm.write(format_summary(summary))


def load_runs(out: Path) -> list[dict]:
    """The stored summaries, in the registry's order of models, inference before learning."""
    runs = [json.loads(p.read_text()) for p in out.glob("*.json")]
    order = {name: k for k, name in enumerate(models.names())}
    return sorted(runs, key=lambda s: (order.get(s["model"], len(order)), s["model"], s.get("overrides", []),
                                       s["learn"]))


def _values(runs: list[dict], key: str) -> str:
    """The distinct values of ``key`` over ``runs``, comma-separated."""
    return ", ".join(str(v) for v in sorted({r[key] for r in runs}))


def _fraction(x: float) -> str:
    """Six decimals; a fraction below 1 never reads 1.000000."""
    return "0.999999" if 0.9999995 <= x < 1 else f"{x:.6f}"


def _diff(x: float | None, unit: str = "") -> str:
    """A largest difference ("-" where none applies: nothing learns in an inference)."""
    return "-" if x is None else "0" if x == 0 else f"{x:.1e}{unit}"


def _disagreement(s: dict, protocol: str) -> str | None:
    """A line on a run (or its part ``s``, named ``protocol``) that is not exact, or None."""
    if s["spike_agreement"] == 1 and s["count_agreement"] == 1 and s["presentations_agree"]:
        return None
    return (f"- `{s['model']}` {protocol}: {s['spikes_only_spikedyn']} spikes only "
            f"in spikedyn, {s['spikes_only_brian2']} only in Brian2; presentations {s['presentations_spikedyn']} / "
            f"{s['presentations_brian2']}; first disagreement: {describe_disagreement(s['first_disagreement'])}.")


def _parts(s: dict) -> list[tuple[str, dict]]:
    """A run's rows: its protocol, and the inference after learning when it has one."""
    parts = [(PROTOCOLS[PROTOCOL_FILES[s["learn"]]], s)]
    if s.get("after_learning") is not None:
        parts.append((AFTER, {**s["after_learning"], "model": s["model"], "max_weight_abs_diff": None,
                              "max_theta_abs_diff": None}))
    return parts


def table(out_dir: Path) -> str:
    """``table.md``: a caption saying what ran, the table, and every run that is not exact."""
    runs = load_runs(Path(out_dir))
    if not runs:
        raise SystemExit(f"no validation runs in {out_dir}; run experiments/brian2_validation.py first")
    protocols = "; ".join(f"{name} on the first {_values(chosen, 'samples')} MNIST training images"
                          for name, chosen in (("inference", [r for r in runs if not r["learn"]]),
                                               ("learning", [r for r in runs if r["learn"]])) if chosen)
    after = [r["after_learning"] for r in runs if r.get("after_learning") is not None]
    if after:
        protocols += (f"; {AFTER} (learning off, the thresholds and weights the rule answers with) on the next "
                      f"{_values(after, 'samples')} images")
    n_models = len({r["model"] for r in runs})
    lines = [f"`spikedyn validate` of {n_models} model{'s' * (n_models != 1)} against the Brian2 twin: "
             f"{_values(runs, 'neurons')} neurons, Brian2 target `{_values(runs, 'target')}`, package defaults (and the "
             "overrides shown), "
             f"seed {_values(runs, 'seed')}; {protocols}; spikedyn {_values(runs, 'spikedyn_version')}, source "
             f"{_values(runs, 'source_hash')}. Spike agreement: the fraction of all spikes found at the same "
             "sample, presentation, step and neuron on the other side (spikedyn / Brian2 spikes in brackets); "
             "count agreement: the fraction of (sample, neuron) spike counts that are equal.", "",
             "| model | protocol | samples | spike agreement | count agreement | max weight diff | max theta diff |",
             "|---|---|---:|---:|---:|---:|---:|"]
    inexact = []
    for run_ in runs:
        name = f"`{run_['model']}`" + "".join(f" `{item}`" for item in run_.get("overrides", []))
        for protocol, s in _parts(run_):
            lines.append(f"| {name} | {protocol} | {s['samples']} | "
                         f"{_fraction(s['spike_agreement'])} ({s['spikes_spikedyn']}/{s['spikes_brian2']}) | "
                         f"{_fraction(s['count_agreement'])} | {_diff(s['max_weight_abs_diff'])} | "
                         f"{_diff(s['max_theta_abs_diff'], ' ' + run_['theta_unit'])} |")
            inexact.append(_disagreement(s, protocol))
    inexact = [line for line in inexact if line is not None]
    lines += [""] + (["Not exact:", ""] + inexact if inexact else ["No spike differs in any run."]) + [""]
    return "\n".join(lines)


def _models(text: str) -> list[str]:
    names = [x.strip() for x in text.split(",") if x.strip()]
    unknown = [x for x in names if x not in models.names()]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown model {', '.join(unknown) or repr(text)}; "
                                         f"choose from {', '.join(models.names())}")
    return names


def _non_negative(text: str) -> int:
    """``--after-samples``: an integer >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (0: no inference after learning), got {value}")
    return value


def _protocols(text: str) -> tuple[str, ...]:
    """``--protocols``: comma-separated file suffixes of :data:`PROTOCOLS` (infer, learn)."""
    names = tuple(dict.fromkeys(x.strip() for x in text.split(",") if x.strip()))
    if not names or any(x not in PROTOCOLS for x in names):
        raise argparse.ArgumentTypeError(f"unknown protocols {text!r}; choose from {', '.join(PROTOCOLS)}")
    return names


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", type=_models, default=list(models.names()),
                   help="comma-separated registered models (default: all)")
    p.add_argument("--neurons", type=int, default=100)
    p.add_argument("--samples", type=int, default=50, help="inference: first K training images (default 50)")
    p.add_argument("--learn-samples", type=int, default=50, help="learning: first K training images (default 50)")
    p.add_argument("--after-samples", type=_non_negative, default=20,
                   help="after learning: the next M training images answered with learning off (default 20; 0: none)")
    p.add_argument("--protocols", default="infer,learn", type=_protocols,
                   help="which runs to make: infer, learn or both (default); the table shows every stored run")
    p.add_argument("--target", choices=VALIDATE_TARGETS, default=DEFAULT_TARGET)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", type=Path, default=None, help="MNIST directory (default: $SPIKEDYN_DATA_DIR)")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--table-only", action="store_true", help="rewrite table.md from the stored JSONs")
    args = p.parse_args(argv)
    if not args.table_only:
        run(args.out, args.models, neurons=args.neurons, samples=args.samples, learn_samples=args.learn_samples,
            target=args.target, seed=args.seed, data_dir=args.data_dir, after_samples=args.after_samples,
            protocols=args.protocols)
    text = table(args.out)
    with atomic_path(args.out / "table.md") as tmp:
        tmp.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
