"""``spikedyn convert`` and ``spikedyn surrogate``: the other ways to obtain an SNN (argument parsing over
:mod:`spikedyn.conversion` and :mod:`spikedyn.surrogate`; docs/deep.md).

Every option is checked before anything is trained, loaded or written: a bad one (an unknown
task, ``--timesteps 0``, a percentile outside (0, 100], ``--layers 0``, ...) is one line
``spikedyn: error: ...`` and exit status 2, with nothing written. Both need the ``deep``
extra (JAX, Optax, Gymnasium): ``pip install "spikedyn[deep]"``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..cost.tables import DEFAULT_TABLE, builtin_tables
from ..errors import ConfigError
from .options import add_data_dir, add_progress, positive_int, seed

TABLE_HELP = f"prices: {', '.join(builtin_tables())} or a .toml file (default {DEFAULT_TABLE})"


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got {text!r}") from None


def _need_deep(what: str) -> None:
    """A one-line ConfigError if the ``deep`` extra is not installed."""
    import importlib.util

    missing = [m for m in ("jax", "optax", *(("gymnasium",) if what == "cartpole" else ()))
               if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(f"{what} needs {', '.join(missing)}: pip install \"spikedyn[deep]\"")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=seed, default=0, help="initial weights, minibatch order, episodes (default 0)")
    p.add_argument("--energy-table", default=DEFAULT_TABLE, metavar="TABLE", help=TABLE_HELP)
    p.add_argument("--json", type=Path, default=None, help="also write the result here")
    add_data_dir(p)
    add_progress(p)


def add_parsers(sub) -> None:
    """Register ``convert`` and ``surrogate`` on an argparse subparsers object."""
    from ..conversion.cartpole import ACTION_GAP as CARTPOLE_ACTION_GAP, ACTIVATION as CARTPOLE_ACTIVATION
    from ..conversion.normalise import PER, V_INIT
    from ..conversion.readout import READOUTS
    from ..feedforward import INPUTS
    from ..surrogate.model import SURROGATES
    from ..surrogate.train import BETA, LEARNING_RATE, SCALE, SURROGATE, WIDTH

    p = sub.add_parser("convert", help="train an ANN (MNIST MLP or CartPole DQN), convert it to an SNN, compare",
                       description="ANN -> SNN conversion (Tan, Patel & Kozma, AAAI 2021): train a ReLU MLP on "
                                   "MNIST or a DQN on CartPole-v1, normalise each layer by a percentile of its "
                                   "activations, run the integrate-and-fire SNN in spikedyn's kernel, and report "
                                   "accuracy or returns, the decision agreement with the ANN, and the energy of "
                                   "both on the same table (docs/deep.md). Atari is out of scope on this machine.")
    p.add_argument("--task", default="mnist", help="mnist (an MLP on MNIST) or cartpole (a DQN on CartPole-v1)")
    p.add_argument("--hidden", type=_ints, default=None,
                   help="hidden layer sizes, e.g. 500 or 256,256 (default 500 for mnist, 1024 for cartpole)")
    p.add_argument("--timesteps", type=int, default=None,
                   help="simulation steps per input or decision (default 100 for mnist, 50 for cartpole)")
    p.add_argument("--percentile", type=float, default=99.9,
                   help="each layer's scale is this percentile of its activations, in (0, 100] (default 99.9)")
    p.add_argument("--readout", default="spikes+membrane",
                   help=f"output: {' or '.join(READOUTS)} (the spike count plus the final membrane; default)")
    p.add_argument("--input", default="constant",
                   help=f"input coding, {' or '.join(INPUTS)} (mnist; cartpole's states are constant currents)")
    p.add_argument("--normalisation", default=None,
                   help=f"percentile scales per {' or '.join(PER)} (default layer for mnist, as the paper; "
                        "cartpole: see docs/deep.md)")
    p.add_argument("--v-init", type=float, default=V_INIT, help=f"initial membrane, in thresholds (default {V_INIT})")
    p.add_argument("--sweep", type=_ints, default=None, metavar="T1,T2,...",
                   help="also record accuracy (returns) and agreement at these step counts, both readouts")
    p.add_argument("--epochs", type=positive_int, default=5, help="mnist: ANN training epochs (default 5)")
    p.add_argument("--train-samples", type=positive_int, default=60_000,
                   help="mnist: training images, the first ones (default 60000)")
    p.add_argument("--test-samples", type=positive_int, default=10_000,
                   help="mnist: test images scored, the first ones (default 10000)")
    p.add_argument("--episodes", type=positive_int, default=10, help="cartpole: evaluation episodes (default 10)")
    p.add_argument("--max-steps", type=positive_int, default=60_000,
                   help="cartpole: DQN training steps at most (default 60000)")
    p.add_argument("--activation", default=CARTPOLE_ACTIVATION,
                   help="cartpole: the DQN's hidden activation, qcfs (quantised to --timesteps levels, Bu et al. "
                        f"2022) or relu (Tan et al.'s DQN) (default {CARTPOLE_ACTIVATION}; docs/deep.md)")
    p.add_argument("--action-gap", type=float, default=CARTPOLE_ACTION_GAP,
                   help="cartpole: advantage-learning coefficient of the DQN's target, in [0, 1) (Bellemare et al. "
                        f"2016; default {CARTPOLE_ACTION_GAP}: the plain double DQN)")
    _common(p)
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("surrogate", help="train a deep SNN with surrogate gradients (BPTT) and price it",
                       description="Surrogate-gradient training (Ledinauskas et al., arXiv 2006.04436): an SNN MLP "
                                   "of LIF layers trained by backpropagation through time with a surrogate spike "
                                   "derivative, with or without batch-normalised input currents (the fix for "
                                   "depth), evaluated in spikedyn's kernel and priced (docs/deep.md).")
    p.add_argument("--task", default="mnist", help="mnist (the only task)")
    p.add_argument("--layers", type=int, default=4, help="hidden LIF layers (default 4)")
    p.add_argument("--timesteps", type=int, default=10, help="simulation steps per image (default 10)")
    p.add_argument("--epochs", type=positive_int, default=1, help="passes over the training images (default 1)")
    p.add_argument("--surrogate", default=SURROGATE,
                   help=f"the spike's surrogate derivative: {', '.join(SURROGATES)} (default {SURROGATE})")
    p.add_argument("--scale", type=float, default=SCALE,
                   help=f"the surrogate's steepness: its width is 1/scale thresholds (default {SCALE})")
    p.add_argument("--batch-norm", action=argparse.BooleanOptionalAction, default=True,
                   help="batch-normalise every layer's input current (the fix; default on)")
    p.add_argument("--width", type=int, default=WIDTH, help=f"LIF neurons per hidden layer (default {WIDTH})")
    p.add_argument("--beta", type=float, default=BETA, help=f"membrane decay per step (default {BETA})")
    p.add_argument("--learning-rate", type=float, default=LEARNING_RATE,
                   help=f"Adam's initial rate, cosine decay to 0 (default {LEARNING_RATE})")
    p.add_argument("--train-samples", type=positive_int, default=60_000,
                   help="training images, the first ones (default 60000)")
    p.add_argument("--test-samples", type=positive_int, default=10_000,
                   help="test images scored, the first ones (default 10000)")
    _common(p)
    p.set_defaults(func=cmd_surrogate)


def _data_dir(args):
    from ..io.data import resolve_data_dir

    return resolve_data_dir(args.data_dir, progress=not args.quiet)


def cmd_convert(args: argparse.Namespace) -> dict[str, Any]:
    from ..conversion import cartpole, mnist
    from ..conversion.options import check_common, check_hidden, check_sweep, check_task

    task = check_task(args.task)
    mnist_task = task == "mnist"
    timesteps = (100 if mnist_task else 50) if args.timesteps is None else args.timesteps
    normalisation = args.normalisation or ("layer" if mnist_task else cartpole.NORMALISATION)
    check_common(timesteps=timesteps, percentile=args.percentile, readout=args.readout, seed=args.seed,
                 input=args.input, energy_table=args.energy_table, normalisation=normalisation)
    hidden = check_hidden(args.hidden or ((500,) if mnist_task else cartpole.HIDDEN))
    if not mnist_task and args.activation not in cartpole.ACTIVATIONS:
        raise ConfigError(f"activation must be one of {', '.join(cartpole.ACTIVATIONS)}, got {args.activation!r}")
    check_sweep(args.sweep, timesteps)
    if not mnist_task and args.input != "constant":
        raise ConfigError("cartpole takes its 4 state values as constant currents (they can be negative); "
                          "drop --input or give --input constant")
    _need_deep(task)
    common = dict(hidden=hidden, timesteps=timesteps, percentile=args.percentile, readout=args.readout,
                  seed=args.seed, energy_table=args.energy_table, v_init=args.v_init, normalisation=normalisation,
                  sweep=args.sweep, progress=not args.quiet)
    if mnist_task:
        out = mnist.run_mnist(input=args.input, epochs=args.epochs, n_train=args.train_samples,
                              n_test=args.test_samples, data_dir=_data_dir(args), **common)
        print(f"MNIST 784-{'-'.join(map(str, hidden))}-10, T = {timesteps}, {args.readout}: ANN "
              f"{out['ann_accuracy']:.4f}, SNN {out['snn_accuracy']:.4f}, decision agreement "
              f"{out['decision_agreement']:.4f}")
    else:
        out = cartpole.run_cartpole(episodes=args.episodes, max_steps=args.max_steps, activation=args.activation,
                                    action_gap=args.action_gap, **common)
        print(f"CartPole-v1 DQN 4-{'-'.join(map(str, hidden))}-2, T = {timesteps}, {args.readout}: DQN return "
              f"{out['ann_return']:.1f}, SNN return {out['snn_return']:.1f}, decision agreement "
              f"{out['decision_agreement']:.4f}")
    _print_cost(out["cost"], ann=True)
    return {"command": "convert", **out}


def cmd_surrogate(args: argparse.Namespace) -> dict[str, Any]:
    from ..surrogate.train import SurrogateMLPConfig, check_task, run_mnist

    check_task(args.task)
    config = SurrogateMLPConfig(layers=args.layers, width=args.width, timesteps=args.timesteps, epochs=args.epochs,
                                batch_norm=args.batch_norm, surrogate=args.surrogate, scale=args.scale,
                                beta=args.beta, learning_rate=args.learning_rate)
    from ..cost.tables import load_energy_table

    load_energy_table(args.energy_table)
    _need_deep("surrogate")
    out = run_mnist(layers=config.layers, timesteps=config.timesteps, epochs=config.epochs, seed=args.seed,
                    batch_norm=config.batch_norm, surrogate=config.surrogate, scale=config.scale, width=config.width,
                    beta=config.beta, learning_rate=config.learning_rate, energy_table=args.energy_table,
                    n_train=args.train_samples, n_test=args.test_samples, task=args.task,
                    data_dir=_data_dir(args), progress=not args.quiet)
    print(f"MNIST, {config.layers} x {config.width} LIF, T = {config.timesteps}, BN {'on' if config.batch_norm else 'off'}, "
          f"{config.epochs} epoch(s): test accuracy {out['accuracy']:.4f} (spikedyn's kernel; JAX agrees on "
          f"{out['numba_jax_agreement']:.4f} of the images)")
    _print_cost(out["cost"], ann=False)
    return {"command": "surrogate", **out}


def _print_cost(cost: dict[str, Any], *, ann: bool) -> None:
    def uj(x):
        return "unavailable" if x is None else f"{x:.2f} uJ"

    line = f"energy per inference on {cost['energy_table']}: SNN {uj(cost['infer_energy_uj'])}"
    if ann:
        line += f", ANN {uj(cost['ann_infer_energy_uj'])}"
    print(line + f"; memory {cost['memory_kb']:.0f} KB")
