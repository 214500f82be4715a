"""``convert --task cartpole``: a DQN on Gymnasium's CartPole-v1, converted, and played by the SNN.

The DQN (Mnih et al., Nature 2015, at CartPole's scale): a ReLU MLP ``4 - hidden - 2`` giving
the Q-value of each action, trained from a replay buffer with a target network (hard copy
every ``target_every`` steps), epsilon-greedy exploration decaying linearly, the Huber loss
and Adam (Optax). The policy kept is the best on *validation* episodes (evaluated every
``eval_every`` steps; training stops early once it scores the maximum, 500): the reported
returns come from other, *evaluation* episodes, seeded apart (:func:`episode_seed`).

Conversion as for MNIST (:mod:`spikedyn.conversion.normalise`), with the percentiles taken
over the states the trained DQN visits on ``norm_episodes`` episodes of their own seed
stream (Tan et al. gather them from frames of the DQN's play; never the evaluation
episodes). States from exploration (the replay buffer) reach far from balance, which sets
the scales too high for the states that matter. Input coding: the four state values (cart
position and velocity, pole angle and angular velocity) are injected as a constant current
into the first layer, unscaled (``lambda_0 = 1``); negative values are fine for a current.
Each decision is a fresh simulation of ``timesteps`` steps from rest.

Three choices make the SNN's decisions follow the DQN's at small T (all parameters, chosen on
DQN seeds 1 and 2 and *selection* episodes, never the evaluation episodes:
``experiments/cartpole_agreement.py``; each is then changed alone on seed 0 by
``experiments/deep_families.py``):

``v_init = 0.5`` (default)
    every membrane starts at half the threshold, so an IF neuron's count after t steps
    rounds ``t r`` to the nearest integer instead of truncating it: the quantisation error is
    centred on 0 (Rueckauer et al., Front. Neurosci. 2017; Bu et al., ICLR 2022).
``hidden = (1024,)`` (default)
    one wide hidden layer: the output sums the quantisation errors of many neurons, which
    average out, and no second layer adds the uneven arrival of spikes to them. Two layers of
    256 (the earlier default) follow the DQN on 0.79-0.89 of the states, one of 1,024 on 0.93.
``action_gap = 0.9`` (default)
    the DQN is trained with the advantage-learning operator (Bellemare et al., "Increasing
    the action gap", AAAI 2016): the target subtracts ``alpha (max_b Q(s, b) - Q(s, a))``,
    which widens the gap between the actions' values, so the SNN's quantisation error flips
    fewer decisions. It is still a DQN (replay, target network, greedy policy);
    ``action_gap = 0`` gives the plain one.

CartPole's balanced states have nearly equal action values, and that is where the SNN and
the DQN disagree: the result reports the agreement by quartile of the DQN's action gap.
``normalisation="neuron"`` (one scale per neuron) refines the rate code further.
``activation="qcfs"`` trains the DQN with the quantisation clip-floor-shift activation of
Bu et al. (ICLR 2022) at ``timesteps`` levels, whose trained clips become the hidden
layers' scales: with one hidden layer the SNN then computes the DQN exactly (agreement 1
by construction; not Tan et al.'s DQN), with two it does not (the uneven arrival of spikes).

Reported: ``ann_return`` and ``snn_return`` (mean undiscounted return over the evaluation
episodes, at most 500), and ``decision_agreement``, the fraction of the states the SNN
visits on which the SNN chooses the DQN's action (Tan, Patel & Kozma's metric), for
every step count of the sweep and both readouts. Atari (the paper's benchmark) needs
convolutional networks and days of DQN training: out of scope on this machine.
"""

from __future__ import annotations

import functools
import time
from typing import Any, Callable, Sequence

import numpy as np

from .._version import provenance
from ..cost import derive_layered, derive_training, layered_cost, training_macs
from ..cost.operations import LAYERED_COUNTERS
from ..cost.tables import DEFAULT_TABLE
from ..errors import ConfigError
from ..feedforward import simulate
from . import mlp
from .normalise import V_INIT, convert, scales_record
from .options import check_common, check_hidden, check_positive_int, check_sweep
from .readout import READOUTS, decide

ENV_ID = "CartPole-v1"
#: The DQN's hidden activation: ``relu`` (Tan et al.'s DQN, converted by percentiles) or ``qcfs`` (the
#: quantisation clip-floor-shift activation of Bu et al., ICLR 2022, with as many levels as the SNN has
#: time steps, :func:`spikedyn.conversion.mlp.act`: with one hidden layer the conversion is exact).
ACTIVATIONS = ("relu", "qcfs")
ACTIVATION = "relu"
#: The DQN's hidden layers, the advantage-learning coefficient of its target (0: the plain double DQN)
#: and the percentile scales' granularity: chosen for the decision agreement at T = 50 on DQN seeds 1 and 2
#: and selection episodes, never the evaluation episodes (experiments/cartpole_agreement.py;
#: experiments/results/deep/cartpole_selection/agreement.md; docs/deep.md): one wide hidden layer
#: averages the neurons' quantisation errors, and advantage learning widens the gap they must not cross.
HIDDEN = (1024,)
ACTION_GAP = 0.9
#: The default percentile scales of the CartPole conversion (``layer``: Tan et al.'s; see docs/deep.md).
NORMALISATION = "layer"
#: Step counts of the return-against-T curve (those <= timesteps are used).
DEFAULT_SWEEP = (5, 10, 20, 50, 100)
_STREAMS = {"train": 0, "validation": 1, "evaluation": 2, "normalisation": 3, "selection": 4}


def episode_seed(seed: int, stream: str, episode: int) -> int:
    """The environment seed of episode ``episode`` of ``stream`` (train, validation, evaluation,
    normalisation, selection): disjoint ranges, so evaluation episodes are never seen while training,
    choosing the policy, gathering the percentiles or choosing the conversion's settings
    (``selection``: experiments/cartpole_agreement.py)."""
    return int(seed) * 1_000_003 + _STREAMS[stream] * 100_000 + int(episode)


def _make_env():
    import gymnasium as gym

    return gym.make(ENV_ID)


def play(policy: Callable[[np.ndarray], int], seeds: Sequence[int],
         observe: Callable[[np.ndarray, int], None] | None = None) -> list[float]:
    """Undiscounted return of ``policy`` (state -> action) on one episode per seed; ``observe(state, action)``
    sees every decision."""
    env = _make_env()
    returns = []
    try:
        for s in seeds:
            state, _ = env.reset(seed=int(s))
            total, done = 0.0, False
            while not done:
                action = int(policy(state))
                if observe is not None:
                    observe(state, action)
                state, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
    finally:
        env.close()
    return returns


def _float64(params) -> list[tuple]:
    return [tuple(np.asarray(a, np.float64) for a in layer) for layer in params]


def greedy(params, levels: int | None = None) -> Callable[[np.ndarray], int]:
    """The DQN's greedy policy in NumPy (float64); ``levels``: those of a QCFS network."""
    p64 = _float64(params)
    return lambda state: int(mlp.forward(p64, np.asarray(state, np.float64)[None], levels)[0].argmax())


@functools.lru_cache(maxsize=None)
def _dqn_step(learning_rate: float, gamma: float, action_gap: float, levels: int | None = None):
    import jax
    import jax.numpy as jnp
    import optax

    opt = optax.adam(learning_rate)

    def loss(params, target, s, a, r, s2, done):
        q = mlp.forward(params, s, levels)
        q_sa = jnp.take_along_axis(q, a[:, None], axis=1)[:, 0]
        # double DQN (van Hasselt et al., AAAI 2016): the online network chooses, the target evaluates
        a2 = mlp.forward(params, s2, levels).argmax(axis=1)
        q2 = jnp.take_along_axis(mlp.forward(target, s2, levels), a2[:, None], axis=1)[:, 0]
        y = r + gamma * (1.0 - done) * q2
        if action_gap:  # advantage learning (Bellemare et al., AAAI 2016): widens the gap between actions
            qt = mlp.forward(target, s, levels)
            y = y - action_gap * (qt.max(axis=1) - jnp.take_along_axis(qt, a[:, None], axis=1)[:, 0])
        return optax.huber_loss(q_sa, jax.lax.stop_gradient(y)).mean()

    @jax.jit
    def step(params, target, state, s, a, r, s2, done):
        grads = jax.grad(loss)(params, target, s, a, r, s2, done)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    return opt, step


def train_dqn(hidden: Sequence[int], seed: int, *, max_steps: int = 60000, buffer_size: int = 100000,
              batch_size: int = 64, learning_rate: float = 2.3e-3, gamma: float = 0.99, warmup: int = 1000,
              target_every: int = 10, train_every: int = 256, gradient_steps: int = 128, eps_end: float = 0.04,
              eps_steps: int = 8000, eval_every: int = 2500, n_validation: int = 10,
              action_gap: float = 0.9, stop_early: bool = True, levels: int | None = None, clip: float = 4.0,
              progress: bool = False) -> dict[str, Any]:
    """Train a DQN; returns ``{"params", "validation" (step, mean return) history, "steps"}`` with the
    parameters that scored best on the validation episodes.

    Defaults: RL Baselines3 Zoo's tuned DQN for CartPole-v1 (Raffin, the rl-baselines3-zoo repository,
    ``hyperparams/dqn.yml``): Adam at 2.3e-3, batch 64, 128 gradient steps every 256 environment
    steps, target copied every 10 steps, epsilon from 1 to 0.04 over 8,000 steps; with the
    double-DQN target and the policy chosen on validation episodes every 2,500 steps.
    """
    import jax.numpy as jnp

    opt, step = _dqn_step(float(learning_rate), float(gamma), float(action_gap), levels)
    sizes = (4, *hidden, 2)
    init = mlp.init_params(sizes, seed, clip=None if levels is None else clip)
    params = [tuple(jnp.asarray(a) for a in layer) for layer in init]
    target = params
    state = opt.init(params)
    rng = np.random.default_rng(seed + 1)
    buf_s = np.zeros((buffer_size, 4), np.float32)
    buf_a = np.zeros(buffer_size, np.int32)
    buf_r = np.zeros(buffer_size, np.float32)
    buf_s2 = np.zeros((buffer_size, 4), np.float32)
    buf_d = np.zeros(buffer_size, np.float32)
    env = _make_env()
    best, best_params, history = -1.0, None, []
    episode = 0
    obs, _ = env.reset(seed=episode_seed(seed, "train", episode))
    numpy_params = [tuple(np.asarray(a) for a in layer) for layer in params]
    t = 0
    from tqdm.auto import tqdm

    bar = tqdm(total=max_steps, desc="train DQN", unit="step", disable=not progress, mininterval=0.5)
    try:
        for t in range(1, max_steps + 1):
            bar.update()
            eps = max(eps_end, 1.0 - (1.0 - eps_end) * t / eps_steps)
            if rng.random() < eps:
                action = int(rng.integers(2))
            else:
                action = int(mlp.forward(numpy_params, obs[None], levels)[0].argmax())
            obs2, reward, terminated, truncated, _ = env.step(action)
            i = (t - 1) % buffer_size
            buf_s[i], buf_a[i], buf_r[i], buf_s2[i], buf_d[i] = obs, action, reward, obs2, float(terminated)
            obs = obs2
            if terminated or truncated:
                episode += 1
                obs, _ = env.reset(seed=episode_seed(seed, "train", episode))
            if t >= warmup and t % train_every == 0:
                for _ in range(gradient_steps):
                    idx = rng.integers(min(t, buffer_size), size=batch_size)
                    params, state = step(params, target, state, buf_s[idx], buf_a[idx], buf_r[idx], buf_s2[idx],
                                         buf_d[idx])
                numpy_params = [tuple(np.asarray(a) for a in layer) for layer in params]
            if t % target_every == 0:
                target = params
            if t % eval_every == 0:
                score = float(np.mean(play(greedy(numpy_params, levels),
                                           [episode_seed(seed, "validation", k) for k in range(n_validation)])))
                history.append((t, score))
                if score >= best:  # ties go to the later, longer-trained policy
                    best, best_params = score, numpy_params
                if stop_early and score >= 500.0:
                    break
    finally:
        env.close()
        bar.close()
    return {"params": best_params if best_params is not None else numpy_params, "validation": history, "steps": t}


def snn_policy(snn, timesteps: int, readout: str, tallies: list | None = None) -> Callable[[np.ndarray], int]:
    """The converted SNN's policy: simulate ``timesteps`` steps on the state as constant current, decide
    by ``readout``; each decision's operation counters are appended to ``tallies``."""
    def policy(state):
        sim = simulate(snn, np.asarray(state, np.float64)[None], timesteps=timesteps)
        if tallies is not None:
            tallies.append(sim.ops[0, -1])
        return int(decide(sim.counts[:, -1], sim.membrane[:, -1], readout)[0])

    return policy


def evaluate_snn(snn, params, timesteps: int, readout: str, seeds: Sequence[int],
                 levels: int | None = None) -> dict[str, Any]:
    """Play the evaluation episodes with the SNN choosing; the DQN's choice on every visited state
    gives the decision agreement, also by quartile of the DQN's action gap ``|Q(s, 0) - Q(s, 1)|``
    over the visited states (smallest gaps first)."""
    p64 = _float64(params)
    agree: list[bool] = []
    gaps: list[float] = []
    tallies: list[np.ndarray] = []

    def observe(state, action):
        q = mlp.forward(p64, np.asarray(state, np.float64)[None], levels)[0]
        agree.append(int(q.argmax()) == action)
        gaps.append(float(abs(q[0] - q[1])))

    returns = play(snn_policy(snn, timesteps, readout, tallies), seeds, observe=observe)
    agree_a, gaps_a = np.asarray(agree), np.asarray(gaps)
    quartiles = np.array_split(agree_a[np.argsort(gaps_a, kind="stable")], 4)
    return {"return": float(np.mean(returns)), "returns": returns, "decision_agreement": float(agree_a.mean()),
            "decisions": len(agree), "agreement_by_gap_quartile": [float(q.mean()) for q in quartiles if q.size],
            "ops": np.asarray(tallies)}


def run_cartpole(hidden: int | Sequence[int] = HIDDEN, timesteps: int = 50, percentile: float = 99.9,
                 readout: str = "spikes+membrane", seed: int = 0, input: str = "constant",
                 energy_table: str = DEFAULT_TABLE, *, episodes: int = 10, max_steps: int = 60000,
                 norm_episodes: int = 10, v_init: float = V_INIT, normalisation: str = NORMALISATION,
                 activation: str = ACTIVATION, action_gap: float = ACTION_GAP, sweep: Sequence[int] | None = None,
                 progress: bool = False) -> dict[str, Any]:
    """Train a DQN, convert it, play the evaluation episodes with the DQN and with the SNN.

    Keys: ``ann_return``, ``snn_return``, ``decision_agreement``, ``timesteps``, ``readout``,
    ``by_timesteps`` (both readouts at every step count of ``sweep``), ``cost``, ``dqn``
    (training steps, validation history), ``scales``, ``config``, ``wall_s``, ``source_hash``.
    """
    opts = check_common(timesteps=timesteps, percentile=percentile, readout=readout, seed=seed, input=input,
                        energy_table=energy_table, normalisation=normalisation)
    if opts["input"] != "constant":
        raise ConfigError("cartpole takes its 4 state values as constant currents (they can be negative); "
                          "use input='constant'")
    hidden = check_hidden(hidden)
    if activation not in ACTIVATIONS:
        raise ConfigError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    levels = opts["timesteps"] if activation == "qcfs" else None
    if isinstance(action_gap, bool) or not isinstance(action_gap, (int, float)) or not 0 <= action_gap < 1:
        raise ConfigError(f"action_gap must be a number in [0, 1) (advantage learning), got {action_gap!r}")
    episodes = check_positive_int(episodes, "episodes", "evaluation episodes")
    max_steps = check_positive_int(max_steps, "max_steps", "DQN training steps")
    norm_episodes = check_positive_int(norm_episodes, "norm_episodes", "episodes whose states set the percentiles")
    steps = check_sweep(sweep if sweep is not None else [t for t in DEFAULT_SWEEP if t <= opts["timesteps"]],
                        opts["timesteps"])
    _make_env().close()  # fails early, with gymnasium's message, if it is not installed
    start = time.perf_counter()
    dqn = train_dqn(hidden, opts["seed"], max_steps=max_steps, action_gap=action_gap, levels=levels, progress=progress)
    t_train = time.perf_counter() - start
    params = dqn["params"]
    states: list[np.ndarray] = []
    play(greedy(params, levels), [episode_seed(opts["seed"], "normalisation", k) for k in range(norm_episodes)],
         observe=lambda s, a: states.append(s))
    snn, scales = convert(params, mlp.activations(params, states, levels), percentile=opts["percentile"],
                          v_init=v_init, per=normalisation)
    seeds = [episode_seed(opts["seed"], "evaluation", k) for k in range(episodes)]
    ann_returns = play(greedy(params, levels), seeds)
    t0 = time.perf_counter()
    curve: dict[str, dict[str, Any]] = {}
    main = None
    from tqdm.auto import tqdm

    for t, ro in tqdm([(t, ro) for t in steps for ro in READOUTS], desc="play SNN", unit="T x readout",
                      disable=not progress):
        res = evaluate_snn(snn, params, t, ro, seeds, levels)
        curve.setdefault(str(t), {})[ro] = {k: res[k] for k in ("return", "decision_agreement", "decisions",
                                                                "agreement_by_gap_quartile")}
        if t == opts["timesteps"] and ro == opts["readout"]:
            main = res
    t_sim = time.perf_counter() - t0
    tally = {name: float(v) for name, v in zip(LAYERED_COUNTERS, main["ops"].mean(axis=0))}
    sizes = (4, *hidden, 2)
    # per decision; training: the DQN's backpropagation MACs per replayed transition (its target
    # network's forward passes and the environment are not counted)
    cost = layered_cost(sizes, derive_layered(sizes, tally, neuron="if"), table=opts["energy_table"],
                        train=derive_training(training_macs(sizes, 1)))
    return {
        "task": "cartpole",
        "ann_return": float(np.mean(ann_returns)),
        "snn_return": main["return"],
        "decision_agreement": main["decision_agreement"],
        "timesteps": opts["timesteps"],
        "readout": opts["readout"],
        "input": "constant",
        "hidden": list(hidden),
        "percentile": opts["percentile"],
        "seed": opts["seed"],
        "episodes": episodes,
        "ann_returns": ann_returns,
        "snn_returns": main["returns"],
        "agreement_by_gap_quartile": main["agreement_by_gap_quartile"],
        "by_timesteps": curve,
        "dqn": {"steps": dqn["steps"], "validation": [[int(a), float(b)] for a, b in dqn["validation"]]},
        "scales": scales_record(scales),
        "cost": cost,
        "config": {"max_steps": max_steps, "norm_episodes": norm_episodes, "norm_states": len(states),
                   "v_init": v_init, "normalisation": normalisation, "activation": activation,
                   "qcfs_levels": levels, "action_gap": action_gap, "env": ENV_ID,
                   "energy_table": opts["energy_table"]},
        "wall_s": {"train": t_train, "play": t_sim, "total": time.perf_counter() - start},
        **provenance(),
    }
