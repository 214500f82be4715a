"""CartPole: what makes the converted DQN follow the DQN (decision agreement at T = 50), chosen apart
from the evaluation episodes.

Every variant is scored on *selection* episodes (their own seed stream, never the evaluation
episodes of ``spikedyn convert --task cartpole``) and on DQNs of several seeds; the choice is
then checked once on the evaluation episodes of seed 0 by the command itself. Variants:

- the DQN's training: plain DQN or advantage learning (``action_gap``, Bellemare et al. 2016),
  stopped at the first validation score of 500 or trained to ``max_steps`` (the best policy on
  validation episodes kept), the discount ``gamma``;
- the conversion: the percentile (99, 99.9, 99.99, 100 = the maximum), layer- or neuron-wise
  scales, the number of episodes whose states set them, the initial membrane ``v_init``.

Writes ``OUT/runs/<id>.json`` per variant (stored results reused by a rerun) and ``OUT/agreement.md``.

Usage::

    python experiments/cartpole_agreement.py --out experiments/results/deep/cartpole_selection
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import int_list, run_tasks, stored_runs  # noqa: E402

from spikedyn._version import provenance  # noqa: E402
from spikedyn.io.files import atomic_path  # noqa: E402

#: DQN trainings compared: name -> train_dqn arguments.
TRAININGS = {
    "dqn-early": {"action_gap": 0.0, "stop_early": True},
    "al0.9-early": {"action_gap": 0.9, "stop_early": True},
    "dqn-full": {"action_gap": 0.0, "stop_early": False},
    "al0.9-full": {"action_gap": 0.9, "stop_early": False},
    "al0.99-full": {"action_gap": 0.99, "stop_early": False},
    "al0.9-full-g0.95": {"action_gap": 0.9, "stop_early": False, "gamma": 0.95},
    # QCFS activations (Bu et al. 2022) quantised to T levels: the hidden layers' scales are their trained clips
    "qcfs-early": {"action_gap": 0.0, "stop_early": True, "qcfs": True},
}
#: Conversions compared: name -> (percentile, normalisation, norm_episodes, v_init).
CONVERSIONS = {
    "p99.9-layer": (99.9, "layer", 10, 0.5),
    "p99-layer": (99.0, "layer", 10, 0.5),
    "p99.99-layer": (99.99, "layer", 10, 0.5),
    "max-layer": (100.0, "layer", 10, 0.5),
    "p99.9-layer-50ep": (99.9, "layer", 50, 0.5),
    "p99.9-layer-v0": (99.9, "layer", 10, 0.0),
    "p99.9-neuron": (99.9, "neuron", 10, 0.5),
    "p99-neuron": (99.0, "neuron", 10, 0.5),
    "p99.99-neuron": (99.99, "neuron", 10, 0.5),
}


def worker(task: dict[str, Any]) -> dict[str, Any]:
    """Train one DQN (seed, training) and score every conversion on the selection episodes."""
    from spikedyn.conversion import cartpole, mlp
    from spikedyn.conversion.normalise import convert

    seed, a = task["seed"], task["args"]
    training = dict(TRAININGS[task["training"]])
    levels = task["timesteps"] if training.pop("qcfs", False) else None
    dqn = cartpole.train_dqn(task["hidden"], seed, max_steps=task["max_steps"], levels=levels, **training, **a)
    params = dqn["params"]
    seeds = [cartpole.episode_seed(seed, "selection", k) for k in range(task["episodes"])]
    dqn_returns = cartpole.play(cartpole.greedy(params, levels), seeds)
    out = {"dqn_return": float(np.mean(dqn_returns)), "dqn_steps": dqn["steps"], "validation": dqn["validation"],
           "conversions": {}}
    states: list[np.ndarray] = []
    cartpole.play(cartpole.greedy(params, levels), [cartpole.episode_seed(seed, "normalisation", k) for k in range(50)],
                  observe=lambda s, _: states.append(np.asarray(s)))
    per_episode = len(states) / 50
    # a QCFS network's hidden scales are its clips: only the output's percentile remains to choose
    for name in (["qcfs"] if levels else list(CONVERSIONS)):
        p, per, n_ep, v_init = CONVERSIONS["p99.9-layer"] if levels else CONVERSIONS[name]
        frames = states[:int(round(per_episode * n_ep))]
        snn, _ = convert(params, mlp.activations(params, np.asarray(frames), levels), percentile=p, v_init=v_init,
                         per=per)
        res = cartpole.evaluate_snn(snn, params, task["timesteps"], "spikes+membrane", seeds, levels)
        out["conversions"][name] = {k: res[k] for k in ("return", "decision_agreement", "decisions",
                                                        "agreement_by_gap_quartile")}
    return out


def table(results: list[dict]) -> str:
    rows: dict[tuple[str, str], list[dict]] = {}
    dqn: dict[str, list[float]] = {}
    for r in results:
        t = r["task"]
        training = f"{'x'.join(map(str, t['hidden']))} {t['training']}"
        dqn.setdefault(training, []).append(r["dqn_return"])
        for name, c in r["conversions"].items():
            rows.setdefault((training, name), []).append(c)
    seeds = sorted({r["task"]["seed"] for r in results})
    lines = ["# CartPole conversion: decision agreement at T = 50 on the selection episodes", "",
             f"spikes+membrane readout; DQN seeds {', '.join(map(str, seeds))}; {results[0]['task']['episodes']} "
             "selection episodes per seed (a seed stream of their own, never the evaluation episodes); "
             "agreement over the states the SNN visits (mean over seeds; per seed in brackets).", "",
             "| DQN (hidden, training) | DQN return | conversion | SNN return | agreement | per seed | closest-gap quartile |",
             "|---|---:|---|---:|---:|---|---:|"]
    for (training, name), cs in rows.items():
        agree = [c["decision_agreement"] for c in cs]
        lines.append(f"| {training} | {np.mean(dqn[training]):.1f} | {name} | {np.mean([c['return'] for c in cs]):.1f} | "
                     f"{np.mean(agree):.4f} | {', '.join(f'{a:.3f}' for a in agree)} | "
                     f"{np.mean([c['agreement_by_gap_quartile'][0] for c in cs]):.3f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "deep" / "cartpole_selection")
    ap.add_argument("--seeds", type=int_list, default=[1, 2], help="DQN seeds (default 1,2: seed 0 is the acceptance's)")
    ap.add_argument("--trainings", default=",".join(TRAININGS), help="comma-separated names of TRAININGS")
    ap.add_argument("--episodes", type=int, default=10, help="selection episodes per seed")
    ap.add_argument("--timesteps", type=int, default=50)
    ap.add_argument("--max-steps", type=int, default=50000, help="DQN training steps at most")
    ap.add_argument("--hidden", default="256,256", help="DQN hidden layers, architectures separated by ';' "
                    "(default 256,256)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--report-only", action="store_true", help="only write the table of every stored run")
    args = ap.parse_args(argv)
    archs = [int_list(h) for h in args.hidden.split(";")]
    tasks = [{"id": ("" if hidden == [256, 256] else f"{'x'.join(map(str, hidden))}-") + f"{training}-seed{seed}", "training": training, "seed": seed,
              "hidden": hidden, "max_steps": args.max_steps, "episodes": args.episodes, "timesteps": args.timesteps,
              "args": {}}
             for hidden, training, seed in itertools.product(archs, args.trainings.split(","), args.seeds)]
    if args.report_only:
        results = stored_runs(args.out)
        if not results:
            ap.exit(2, f"cartpole_agreement.py: error: --report-only: no stored run in {args.out}; run without "
                       "--report-only first, or give --out the folder of an earlier run\n")
    else:
        results = run_tasks(worker, tasks, args.out, jobs=args.jobs, desc="DQNs")
    with atomic_path(args.out / "agreement.md") as tmp:
        tmp.write_text(table(results) + f"\nSource: {provenance()['source_hash']}.\n")
    print(table(results))
    return results


if __name__ == "__main__":
    main()
