"""The class-incremental protocol: tasks arrive one at a time and are never shown again.

Protocol (SpikeDyn's dynamic environment, BACKGROUND.md section 2)
-------------------------------------------------------------------
- **Tasks.** By default one class per task, classes in order 0, 1, ..., 9
  (:func:`parse_tasks` reads other orders, ``"3,1,4"``, and Split-MNIST-style groups,
  ``"0-1,2-3"``). Task ``i`` trains on ``samples_per_task`` images of its classes: the
  first ones of those classes in file order within the *learning pool*, interleaved
  as they come (no label is ever given to the network). Each task's images are
  seen once and never again.
- **Evaluation after each task**, learning off: the neurons are named
  (:func:`spikedyn.core.readout.assign_labels`) from a labelled pass over the first
  ``assign_per_class`` images of *every class seen so far* in the learning pool
  (images the network learned from, as in the standard protocol; stream
  ``STREAM_ASSIGN``), then accuracy is measured on the first ``test_per_class``
  images (default: all) of every class seen so far in the *evaluation pool* (stream
  ``STREAM_TEST``). ``R[i, j]`` is the accuracy on task ``j``'s images after task
  ``i`` (:mod:`spikedyn.continual.metrics`).
- **i.i.d. reference** (:func:`run_iid`): the same training images, all tasks
  shuffled together (a permutation drawn from the seed), the same labelled pass and
  test images: the upper bound of what the network learns from those samples.

Pools (never choose anything on the test set)
----------------------------------------------
``split="test"``: learning pool = the 60,000 training images, evaluation pool = the
10,000 test images (final numbers only). ``split="validation"``: learning pool = the
first 50,000 training images, evaluation pool = the last 10,000 training images
(:func:`spikedyn.io.splits.selection_split`), for selecting parameters. :func:`load_pools` names
the dataset by the content of its training images (:func:`spikedyn.io.datasets.dataset_id`:
``"mnist"`` or a hash), and the result records that name (``dataset``), so that runs on another
MNIST-format dataset (``--data-dir``) are never compared with runs on MNIST.

Per task the result also records the training spikes per sample, the
presentations, the wall time and the weight updates done and skipped (rules that
skip updates count them; see :data:`spikedyn.core.traces.UPDATE_KINDS`). The outputs of a
run are written by :mod:`spikedyn.continual.outputs`.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import ConfigError

#: Where :func:`run` reports each finished task (level INFO); nothing is printed unless a
#: handler is configured (``logging.basicConfig(level=logging.INFO)``) or ``on_task`` is given.
logger = logging.getLogger(__name__)

#: Training images per task unless told otherwise.
DEFAULT_SAMPLES_PER_TASK = 4000
#: Labelled-pass images per class seen so far.
DEFAULT_ASSIGN_PER_CLASS = 100
SPLITS = ("test", "validation")
#: How a task's training images are chosen (:attr:`Protocol.draw`).
DRAWS = ("seeded", "first")
N_CLASSES = 10


def parse_tasks(text: str, n_classes: int = N_CLASSES) -> tuple[tuple[int, ...], ...]:
    """Tasks from ``"0,1,2"`` (one class each) or ``"0-1,2-3"`` (classes ``a`` to ``b`` each).

    A class may appear in one task only; every class must be in ``0..n_classes-1``.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("--tasks needs a comma-separated list such as 0,1,2 or 0-1,2-3")
    tasks: list[tuple[int, ...]] = []
    for item in text.split(","):
        item = item.strip()
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", item)
        if m is None:
            raise ConfigError(f"--tasks item {item!r} is not a class (3) or a range of classes (2-5)")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if hi < lo:
            raise ConfigError(f"--tasks range {item!r} runs backwards; write {hi}-{lo}")
        tasks.append(tuple(range(lo, hi + 1)))
    _check_tasks(tasks, n_classes)
    return tuple(tasks)


def _check_tasks(tasks: Sequence[Sequence[int]], n_classes: int = N_CLASSES) -> None:
    """Each task one class or a range of consecutive classes in ``0..n_classes-1``, each class in one task."""
    for task in tasks:
        if not task:
            raise ConfigError("--tasks item () is not a class (3) or a range of classes (2-5)")
        if list(task) != list(range(task[0], task[0] + len(task))):
            raise ConfigError(f"task {tuple(task)} must be one class or a range of consecutive classes")
        if task[-1] >= n_classes or task[0] < 0:
            raise ConfigError(f"--tasks names class {task[-1] if task[-1] >= n_classes else task[0]}, "
                              f"but the data has classes 0-{n_classes - 1}")
    seen: set[int] = set()
    for task in tasks:
        again = seen.intersection(task)
        if again:
            raise ConfigError(f"--tasks repeats class {min(again)}; each class belongs to one task")
        seen.update(task)


def task_name(classes: Sequence[int]) -> str:
    """``"3"`` for one class, ``"2-3"`` for a range."""
    return str(classes[0]) if len(classes) == 1 else f"{classes[0]}-{classes[-1]}"


@dataclass(frozen=True)
class Protocol:
    """The class-incremental protocol's choices (see the module docstring)."""

    tasks: tuple[tuple[int, ...], ...] = tuple((c,) for c in range(N_CLASSES))
    samples_per_task: int = DEFAULT_SAMPLES_PER_TASK
    assign_per_class: int = DEFAULT_ASSIGN_PER_CLASS
    test_per_class: int | None = None
    split: str = "test"
    #: How a task's training images are chosen from its classes' images in the learning pool:
    #: ``"seeded"`` draws them (and their order) from the run's seed, so a seed changes the
    #: images as well as the network; ``"first"`` takes the first ones in file order, the
    #: same for every seed (the protocol of spikedyn 0.1, kept to reproduce its results).
    draw: str = "seeded"

    def __post_init__(self):
        if not self.tasks:
            raise ConfigError("the protocol needs at least one task")
        for name in ("samples_per_task", "assign_per_class"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        t = self.test_per_class
        if t is not None and (isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 1):
            raise ConfigError(f"test_per_class must be a positive integer or None (all), got {t!r}")
        _check_tasks(self.tasks)  # as parse_tasks does, for a protocol built in Python
        if self.split not in SPLITS:
            raise ConfigError(f"split must be 'test' or 'validation', got {self.split!r}")
        if self.draw not in DRAWS:
            raise ConfigError(f"draw must be one of {', '.join(DRAWS)}, got {self.draw!r}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tasks"] = [task_name(t) for t in self.tasks]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Protocol":
        """The protocol :meth:`to_dict` wrote (one written before ``draw`` existed took the first images)."""
        return cls(**{"draw": "first", **d, "tasks": parse_tasks(",".join(d["tasks"]))})


@dataclass
class Pools:
    """Images of the learning and evaluation pools (uint8, (n, 784)) and their labels, and the name
    of the dataset they come from (:func:`spikedyn.io.datasets.dataset_id`; None: not named)."""

    learn_x: np.ndarray
    learn_y: np.ndarray
    eval_x: np.ndarray
    eval_y: np.ndarray
    dataset: str | None = None


def load_pools(split: str = "test", data_dir=None, *, progress: bool = False) -> Pools:
    """The learning and evaluation pools of ``split`` (see the module docstring)."""
    from ..io.data import load_mnist
    from ..io.datasets import dataset_id
    from ..io.splits import selection_split

    if split not in SPLITS:
        raise ConfigError(f"split must be 'test' or 'validation', got {split!r}")
    train_x, train_y = load_mnist("train", data_dir, progress=progress)
    dataset = dataset_id(train_x, train_y)
    if split == "test":
        test_x, test_y = load_mnist("test", data_dir, progress=progress)
        return Pools(train_x, train_y, test_x, test_y, dataset)
    sel = selection_split(train_x.shape[0])
    learn, val = sel.learn, sel.validation
    return Pools(train_x[learn.start:learn.stop], train_y[learn.start:learn.stop],
                 train_x[val.start:val.stop], train_y[val.start:val.stop], dataset)


def _first_of_classes(labels: np.ndarray, classes: Sequence[int], k: int | None, what: str) -> np.ndarray:
    """Indices of the first ``k`` images (all if None) whose label is in ``classes``, in file order."""
    idx = np.flatnonzero(np.isin(labels, classes))
    if k is not None:
        if idx.size < k:
            raise ConfigError(f"{what}: classes {task_name(list(classes))} have only {idx.size} images in the pool, "
                              f"fewer than {k}; ask for fewer")
        idx = idx[:k]
    return idx


def _per_class(labels: np.ndarray, classes: Sequence[int], k: int | None, what: str) -> np.ndarray:
    """The first ``k`` images of each class in ``classes`` (class by class)."""
    return np.concatenate([_first_of_classes(labels, [c], k, what) for c in classes])


@dataclass
class TaskRecord:
    """What happened during and after one task."""

    task: str
    classes: list[int]
    train_samples: int
    presentations: int
    mean_spikes_per_sample: float
    train_seconds: float
    eval_seconds: float
    accuracy_on_tasks: list[float]
    unassigned_neurons: int
    updates: dict[str, int] = field(default_factory=dict)
    #: Accuracy on each task seen so far under each readout other than the paper's
    #: (:data:`spikedyn.core.readout.READOUTS`), fitted on the same labelled pass and scored on
    #: the same test spikes; empty in a result stored before spikedyn 0.6.
    readout_accuracy: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class ContinualResult:
    """The outcome of :func:`run`: the accuracy matrix, its metrics, per-task records, weights, and
    the final network (``network``: a :class:`spikedyn.Network`, its neurons named by the last
    labelled pass, ready to ``predict``, ``score``, ``save`` or go on learning)."""

    model: str
    neurons: int
    seed: int
    protocol: dict[str, Any]
    config: dict[str, Any]
    accuracy_matrix: np.ndarray
    tasks: list[TaskRecord]
    weights_per_task: list[np.ndarray]
    wall_seconds: float
    spikedyn_version: str
    #: :func:`spikedyn._version.source_hash` of the code that ran (empty for a result stored by
    #: spikedyn 0.1, which did not record it).
    source_hash: str = ""
    #: Counted operations, memory and energy per sample (:func:`spikedyn.cost.counted`): training
    #: over all tasks, inference over every labelled pass and test.
    cost: dict[str, Any] | None = None
    #: The dataset (:attr:`Pools.dataset`: ``"mnist"``, a content hash, or None when the pools were
    #: given unnamed, which :mod:`spikedyn.compare` groups apart; results stored before this field have no
    #: ``dataset`` in their summary and were all on MNIST).
    dataset: str | None = None
    #: The network after the last task (None only for a result stored by spikedyn < 0.3).
    network: Any = field(default=None, repr=False, compare=False)

    def readout_matrices(self) -> dict[str, np.ndarray]:
        """The accuracy matrix under each readout the tasks recorded, the paper's (``accuracy_matrix``) first."""
        from ..core.readout import PAPER_READOUT

        out = {PAPER_READOUT: self.accuracy_matrix}
        kinds = self.tasks[0].readout_accuracy if self.tasks else {}
        for kind in kinds:
            m = np.full_like(self.accuracy_matrix, np.nan)
            for i, t in enumerate(self.tasks):
                m[i, :len(t.readout_accuracy[kind])] = t.readout_accuracy[kind]
            out[kind] = m
        return out

    def summary(self) -> dict[str, Any]:
        """JSON-safe summary: config, seed, version, the metrics (the paper's readout; under
        ``readouts``, ACC and BWT of every other readout) and the per-task records."""
        from .metrics import summarize

        out = {
            "model": self.model,
            "neurons": self.neurons,
            "seed": self.seed,
            "protocol": self.protocol,
            "dataset": self.dataset,
            "task_names": [t.task for t in self.tasks],
            **summarize(self.accuracy_matrix),
            "readouts": {kind: {k: v for k, v in summarize(m).items() if k in ("final_average_accuracy", "bwt")}
                         for kind, m in self.readout_matrices().items()},
            "tasks": [asdict(t) for t in self.tasks],
            "wall_seconds": self.wall_seconds,
            "spikedyn_version": self.spikedyn_version,
            "source_hash": self.source_hash,
            "config": self.config,
            "cost": self.cost,
        }
        return out


@dataclass(frozen=True)
class _Plan:
    """Every image a run uses, per task (indices into the pools): its training images, its
    classes' labelled-pass images and its test images."""

    train: list[np.ndarray]
    assign: list[np.ndarray]
    test: list[np.ndarray]


def _drawn(labels: np.ndarray, classes: Sequence[int], k: int, rng: np.random.Generator, what: str) -> np.ndarray:
    """``k`` images whose label is in ``classes``, drawn without replacement by ``rng``, in the
    order drawn (so the task's classes come interleaved at random)."""
    idx = _first_of_classes(labels, classes, None, what)
    if idx.size < k:
        raise ConfigError(f"{what}: classes {task_name(list(classes))} have only {idx.size} images in the pool, "
                          f"fewer than {k}; ask for fewer")
    return idx[rng.permutation(idx.size)[:k]]


def _plan(pools: Pools, protocol: Protocol, seed: int = 0) -> _Plan:
    """The run's images, found (so checked) once, before anything is trained.

    With ``protocol.draw == "seeded"`` task ``i``'s training images are drawn by
    ``numpy.random.default_rng([seed, 3, i])`` and its labelled pass takes, per class, the
    first ``assign_per_class`` of them in the order drawn (images the network learned
    from); with ``"first"`` both are the first images in file order. The test images are
    the first ``test_per_class`` (all by default) of each class in the evaluation pool.
    """
    for task in protocol.tasks:
        for c in task:
            if not np.any(pools.eval_y == c):
                raise ConfigError(f"class {c} has no images to test on; remove it from --tasks")
    if protocol.draw == "seeded":
        train = [_drawn(pools.learn_y, t, protocol.samples_per_task, np.random.default_rng([seed, 3, i]),
                        "--samples-per-task") for i, t in enumerate(protocol.tasks)]
        assign = [np.concatenate([_learned_of_class(pools.learn_y, idx, c, protocol.assign_per_class) for c in t])
                  for idx, t in zip(train, protocol.tasks)]
    else:
        train = [_first_of_classes(pools.learn_y, t, protocol.samples_per_task, "--samples-per-task")
                 for t in protocol.tasks]
        assign = [_per_class(pools.learn_y, t, protocol.assign_per_class, "labelled pass (--assign-per-class)")
                  for t in protocol.tasks]
    return _Plan(train=train, assign=assign,
                 test=[_per_class(pools.eval_y, t, protocol.test_per_class, "test (--test-per-class)")
                       for t in protocol.tasks])


def _learned_of_class(labels: np.ndarray, drawn: np.ndarray, c: int, k: int) -> np.ndarray:
    """The first ``k`` of the drawn images ``drawn`` whose label is ``c``, in the order drawn."""
    of_class = drawn[labels[drawn] == c]
    if of_class.size < k:
        raise ConfigError(f"labelled pass (--assign-per-class): class {c} has only {of_class.size} of the task's "
                          f"training images, fewer than {k}; ask for fewer")
    return of_class[:k]


def _evaluate(network, pools: Pools, plan: _Plan, n_seen: int, n_jobs):
    """Name the neurons from the classes of the first ``n_seen`` tasks, then score each of those tasks."""
    from ..core.encoding import STREAM_ASSIGN, STREAM_TEST
    from ..core.readout import PAPER_READOUT, READOUTS, accuracy, fit_readouts

    a_idx = np.concatenate(plan.assign[:n_seen])
    counts = network.respond(pools.learn_x[a_idx], stream=STREAM_ASSIGN, n_jobs=n_jobs, progress=False)
    readouts = fit_readouts(counts, pools.learn_y[a_idx])
    assignments = readouts[PAPER_READOUT].assignments
    network.name_from(counts, pools.learn_y[a_idx])
    accs: dict[str, list[float]] = {kind: [] for kind in READOUTS}
    offset = 0
    for t_idx in plan.test[:n_seen]:
        counts = network.respond(pools.eval_x[t_idx], stream=STREAM_TEST, first_index=offset, n_jobs=n_jobs,
                                 progress=False)
        offset += t_idx.size
        for kind, readout in readouts.items():
            accs[kind].append(float(accuracy(pools.eval_y[t_idx], readout.predict(counts))))
    paper = accs.pop(PAPER_READOUT)
    return paper, int(np.sum(assignments < 0)), accs


def run(config, *, seed: int = 0, protocol: Protocol | None = None, pools: Pools | None = None,
        data_dir=None, n_jobs: int | None = None, train_jobs: int = 1, progress: bool = False, session=None,
        on_task: Callable[[int, TaskRecord], None] | None = None) -> ContinualResult:
    """Run the class-incremental protocol on a new network.

    Parameters
    ----------
    config : NetworkConfig
    seed : int
        The network's seed (initial weights, input spikes, random parts).
    protocol : Protocol, optional
        Default: ten one-class tasks 0..9, :data:`DEFAULT_SAMPLES_PER_TASK` images each.
    pools : Pools, optional
        Preloaded data (:func:`load_pools` of ``protocol.split``); loaded if omitted.
    n_jobs : int, optional
        Threads for the evaluations (default: all cores); results do not depend on it.
    train_jobs : int
        Threads that train the network together (default 1; :meth:`Network.train`'s
        ``n_jobs``); results do not depend on it either.
    progress : bool, default False
        A progress bar per task (tqdm, on stderr); the library prints nothing otherwise.
    on_task : callable, optional
        Called as ``on_task(i, record)`` after task ``i`` (0-based) is trained and evaluated,
        with its :class:`TaskRecord` (``record.accuracy_on_tasks[-1]`` is the newest task's
        accuracy). Each task is also logged at INFO level on :data:`logger`.
    session : spikedyn.io.checkpoint.Session, optional
        Checkpoints (stage ``"continual"``): periodically during training, after each
        task's training and after its evaluation, and on interrupt; a session loaded from
        a checkpoint resumes where it stopped (or returns the stored result), with
        results identical to an uninterrupted run.

    Returns
    -------
    ContinualResult
        With the final network in ``network``.
    """
    from .._version import __version__, source_hash
    from ..cost.pricing import counted
    from ..io.checkpoint import Session, TrainProgress, network_point, point_network, reading, train_resumably
    from ..simulation.network import Network

    session = Session(None) if session is None else session
    protocol = Protocol() if protocol is None else protocol
    stored = session.result("continual")
    if stored is not None:
        record, arrays = stored
        with reading(session.source):
            fields_ = {k: v for k, v in record.items() if k != "network"}
            return ContinualResult(**{**fields_, "tasks": [TaskRecord(**t) for t in record["tasks"]],
                                      "accuracy_matrix": arrays["accuracy_matrix"],
                                      "weights_per_task": list(arrays["weights_per_task"]),
                                      "network": point_network(record, arrays, Network)})
    pools = load_pools(protocol.split, data_dir, progress=progress) if pools is None else pools
    plan = _plan(pools, protocol, seed)
    n_tasks = len(protocol.tasks)
    resumed = session.resumed("continual")
    if resumed is None:
        network = Network(config, seed=seed)
        R = np.full((n_tasks, n_tasks), np.nan)
        records: list[TaskRecord] = []
        weights: list[np.ndarray] = []
        first, phase, elapsed = 0, "train", 0.0
        task_progress = TrainProgress(updates_before=network.update_counts())
    else:
        record, arrays = resumed
        with reading(session.source):
            network = point_network(record, arrays, Network)
            R = arrays["accuracy_matrix"].copy()
            records = [TaskRecord(**t) for t in record["tasks"]]
            weights = list(arrays["weights_per_task"])
            first, phase, elapsed = int(record["task"]), str(record["phase"]), float(record["wall_seconds"])
            task_progress = TrainProgress(**record["task_progress"])
            if R.shape != (n_tasks, n_tasks) or len(records) != len(weights) or not 0 <= first < n_tasks:
                raise ValueError("its progress does not match the protocol")
    start = time.perf_counter() - elapsed
    i = first

    def point(tp: TrainProgress, at_phase: str = "train", task: int | None = None):
        rec, arr = network_point(network, {"task": i if task is None else task, "phase": at_phase,
                                           "task_progress": tp.to_dict(), "tasks": [asdict(t) for t in records],
                                           "wall_seconds": time.perf_counter() - start})
        stack = np.stack(weights) if weights else np.zeros((0, config.n_input, config.n_neurons), np.float32)
        return rec, {**arr, "accuracy_matrix": R, "weights_per_task": stack}

    for i in range(first, n_tasks):
        task = protocol.tasks[i]
        name = task_name(task)
        if not (i == first and phase == "evaluate"):
            task_progress = train_resumably(network, pools.learn_x[plan.train[i]], task_progress, session,
                                             "continual", point, show=progress,
                                             desc=f"task {i + 1}/{n_tasks} (class {name})", n_jobs=train_jobs)
            session.save("continual", *point(task_progress, "evaluate"))
        t0 = time.perf_counter()
        accs, unassigned, other_readouts = _evaluate(network, pools, plan, i + 1, n_jobs)
        R[i, :i + 1] = accs
        after = network.update_counts()
        tp = task_progress
        records.append(TaskRecord(
            task=name, classes=list(task), train_samples=tp.done, presentations=tp.presentations,
            mean_spikes_per_sample=tp.spikes / tp.done if tp.done else 0.0, train_seconds=tp.train_seconds,
            eval_seconds=time.perf_counter() - t0, accuracy_on_tasks=[float(a) for a in accs],
            unassigned_neurons=unassigned, updates={k: after[k] - tp.updates_before[k] for k in after},
            readout_accuracy=other_readouts))
        weights.append(network.weights.astype(np.float32))
        logger.info("task %s (%d of %d): newest-task accuracy %.3f%s", name, i + 1, n_tasks, accs[-1],
                    f", previous tasks {np.mean(accs[:-1]):.3f}" if i else "")
        if on_task is not None:
            on_task(i, records[-1])
        task_progress = TrainProgress(updates_before=after)
        if i + 1 < n_tasks:
            session.save("continual", *point(task_progress, "train", i + 1))
    result = ContinualResult(model=config.model, neurons=config.n_neurons, seed=network.seed,
                             protocol=protocol.to_dict(), config=config.to_dict(), accuracy_matrix=R, tasks=records,
                             weights_per_task=weights, wall_seconds=time.perf_counter() - start,
                             spikedyn_version=__version__, source_hash=source_hash(),
                             cost=counted(network), dataset=pools.dataset, network=network)
    record = {f.name: getattr(result, f.name) for f in fields(result)
              if f.name not in ("accuracy_matrix", "weights_per_task", "network")}
    record["tasks"] = [asdict(t) for t in records]
    record, net_arrays = network_point(network, record)
    session.complete("continual", record, {**net_arrays, "accuracy_matrix": R, "weights_per_task": np.stack(weights)})
    return result


def run_iid(config, *, seed: int = 0, protocol: Protocol | None = None, pools: Pools | None = None,
            data_dir=None, n_jobs: int | None = None, train_jobs: int = 1, progress: bool = False,
            session=None, every_task: bool = False) -> dict[str, Any]:
    """The i.i.d. reference: the protocol's training images, all tasks shuffled together.

    Trains a new network (seed ``seed``) on the union of the tasks' training images
    in an order drawn from ``numpy.random.default_rng([seed, 2])``, then names the
    neurons and scores every task exactly as :func:`run` does after the last task
    (``n_jobs`` and ``train_jobs`` as there).
    Returns ``{"accuracy_on_tasks", "average_accuracy", "readout_average_accuracy", "train_samples",
    "unassigned_neurons", "wall_seconds"}`` (and ``"every_task"``, below; ``wall_seconds`` then includes its
    scoring). ``session`` checkpoints it as stage ``"iid"`` (see :func:`run`).

    ``every_task``: also score the trained network as :func:`run` scores after each task ``i``
    (neurons named from the classes of tasks 0..i, scored on each of them), which gives the accuracy
    matrix of a network that has every class from the start and forgets nothing:
    ``result["every_task"]`` (:func:`spikedyn.continual.metrics.summarize` of it). Its BWT is what
    the evaluation alone takes from the earlier tasks as later classes join the readout's choices
    (``docs/continual.md``, "What BWT measures on a harder dataset"); a continual run's BWT below it
    is forgetting.
    """
    from ..io.checkpoint import Session, TrainProgress, network_point, point_network, reading, train_resumably
    from ..simulation.network import Network

    session = Session(None) if session is None else session
    stored = session.result("iid")
    if stored is not None:
        if every_task and "every_task" not in stored[0]:
            raise ConfigError("this session's i.i.d. reference finished without every_task, and its network was not "
                              "kept to score it again: run it with every_task in a new session (a new checkpoint "
                              "directory), or leave every_task off")
        return stored[0]
    protocol = Protocol() if protocol is None else protocol
    pools = load_pools(protocol.split, data_dir, progress=progress) if pools is None else pools
    plan = _plan(pools, protocol, seed)
    idx = np.concatenate(plan.train)
    idx = idx[np.random.default_rng([seed, 2]).permutation(idx.size)]
    resumed = session.resumed("iid")
    if resumed is None:
        network, phase, tp = Network(config, seed=seed), "train", TrainProgress()
    else:
        record, arrays = resumed
        with reading(session.source):
            network, phase = point_network(record, arrays, Network), str(record["phase"])
            tp = TrainProgress(**record["task_progress"])

    def point(p: TrainProgress, at_phase: str = "train"):
        return network_point(network, {"phase": at_phase, "task_progress": p.to_dict()})

    if phase == "train":
        tp = train_resumably(network, pools.learn_x[idx], tp, session, "iid", point, show=progress,
                              desc="i.i.d. reference", n_jobs=train_jobs)
        session.save("iid", *point(tp, "evaluate"))
    start = time.perf_counter()
    n_tasks = len(protocol.tasks)
    # with every_task, the prefixes first: the network keeps the names of the last labelled pass, as without
    rows = [_evaluate(network, pools, plan, n, n_jobs)[0] for n in range(1, n_tasks)] if every_task else []
    accs, unassigned, other_readouts = _evaluate(network, pools, plan, n_tasks, n_jobs)
    result = {"accuracy_on_tasks": [float(a) for a in accs], "average_accuracy": float(np.mean(accs)),
              "readout_average_accuracy": {k: float(np.mean(v)) for k, v in other_readouts.items()},
              "train_samples": int(idx.size), "unassigned_neurons": unassigned}
    if every_task:
        from .metrics import summarize

        matrix = np.full((n_tasks, n_tasks), np.nan)
        for i, row in enumerate(rows + [accs]):
            matrix[i, :i + 1] = row
        result["every_task"] = summarize(matrix)
    result["wall_seconds"] = tp.train_seconds + time.perf_counter() - start
    session.complete("iid", result)
    return result
