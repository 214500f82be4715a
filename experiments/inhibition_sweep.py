"""Accuracy as a function of inhibition strength, for both competition schemes.

spikedyn drops the random input delays of Diehl & Cook's original code (as the common
re-implementations do). Without them, the published inhibition weight (17.0) gives a
loose winner-take-all in which several neurons fire for each example and learn the same
digit. This experiment measures test accuracy after one epoch for a range of
inhibition weights; it is the evidence behind the defaults of
``InhibitoryParams.w_inh_exc`` and ``LateralParams.w_lateral``.

Example::

    python experiments/inhibition_sweep.py --model diehl-cook --neurons 100 \\
        --weights 17,30,40,50 --out results/inhibition_dc100.json

Each point trains a network on the first ``--train-samples`` MNIST training images,
assigns labels from the first ``--assign-samples`` training images and tests on the
whole test set, at checkpoints every ``--checkpoint`` samples. The JSON holds every
point with its config, seed and the spikedyn version.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
import time

import numpy as np

import spikedyn
from spikedyn.config import MODELS, NetworkConfig
from spikedyn.data import load_split
from spikedyn.encoding import STREAM_ASSIGN, STREAM_TEST
from spikedyn.network import Network
from spikedyn.readout import accuracy, assign_labels, predict
from spikedyn.runs import write_json


def with_inhibition(config: NetworkConfig, weight: float) -> NetworkConfig:
    """``config`` with the inhibition of its own model set to ``weight``."""
    if config.model == "lateral":
        return dataclasses.replace(config, lateral=dataclasses.replace(config.lateral, w_lateral=weight))
    return dataclasses.replace(config, inhibitory=dataclasses.replace(config.inhibitory, w_inh_exc=weight))


def run_point(config, seed, train, assign, test, checkpoint):
    (x_train, _), (x_assign, y_assign), (x_test, y_test) = train, assign, test
    network = Network(config, seed=seed)
    curve = []
    for start in range(0, x_train.shape[0], checkpoint):
        stats = network.train(x_train[start:start + checkpoint], progress=False)
        assignments = assign_labels(network.respond(x_assign, stream=STREAM_ASSIGN, progress=False), y_assign)
        acc = accuracy(y_test, predict(network.respond(x_test, stream=STREAM_TEST, progress=False), assignments))
        curve.append({
            "train_samples": network.samples_seen,
            "accuracy": acc,
            "presentations_per_sample": stats.presentations / stats.train_samples,
            "mean_spikes_per_sample": stats.mean_spikes_per_sample,
            "mean_theta_mv": float(network.theta.mean()),
        })
        print(f"  {network.samples_seen:6d} samples: accuracy {acc:.4f}, "
              f"{curve[-1]['presentations_per_sample']:.2f} presentations/sample", flush=True)
    return curve


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=MODELS, default="diehl-cook")
    parser.add_argument("--neurons", type=int, default=100)
    parser.add_argument("--weights", default="17,30,40,50", help="comma-separated inhibition weights")
    parser.add_argument("--train-samples", type=int, default=60000)
    parser.add_argument("--assign-samples", type=int, default=10000)
    parser.add_argument("--test-samples", type=int, default=10000)
    parser.add_argument("--checkpoint", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", required=True, help="JSON file for the results")
    args = parser.parse_args(argv)

    x_train, y_train = load_split("train", args.data_dir)
    x_test, y_test = load_split("test", args.data_dir)
    train = (x_train[:args.train_samples], y_train[:args.train_samples])
    assign = (x_train[:args.assign_samples], y_train[:args.assign_samples])
    test = (x_test[:args.test_samples], y_test[:args.test_samples])

    base = NetworkConfig(model=args.model, n_neurons=args.neurons)
    points = []
    for weight in (float(w) for w in args.weights.split(",")):
        config = with_inhibition(base, weight)
        print(f"{args.model}, {args.neurons} neurons, inhibition {weight}:", flush=True)
        start = time.perf_counter()
        curve = run_point(config, args.seed, train, assign, test, args.checkpoint)
        points.append({"inhibition": weight, "config": config.to_dict(), "curve": curve,
                       "final_accuracy": curve[-1]["accuracy"], "wall_seconds": time.perf_counter() - start})
    write_json(args.out, {
        "experiment": "inhibition_sweep",
        "model": args.model,
        "neurons": args.neurons,
        "seed": args.seed,
        "spikedyn_version": spikedyn.__version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "machine": platform.machine(),
        "points": points,
    })
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
