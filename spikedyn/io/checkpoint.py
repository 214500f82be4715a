"""Checkpoints of long runs: periodic, atomic, durable, and resumed bit for bit.

``spikedyn train``, ``continual`` and ``search`` write ``OUT/checkpoint.npz`` every
``--checkpoint-every`` seconds of training (default :data:`DEFAULT_EVERY_S`), at every
phase boundary (a continual task trained, then evaluated) and when they are stopped
by Ctrl-C or SIGTERM (:mod:`spikedyn.io.interrupt`). ``spikedyn COMMAND --resume OUT``
continues from it; the finished run's outputs are identical, bit for bit, to those of
a run never interrupted (only wall-clock times differ), because a checkpoint holds
everything the simulation depends on and every input spike is drawn from the seed and
the sample's index (:mod:`spikedyn.core.encoding`), not from a generator's position.

A checkpoint holds

- the command's options (the config, the seed, the protocol: everything that defines
  the run, so that ``--resume OUT`` needs nothing else);
- for each network: weights, thresholds, the dynamic state of every part
  (``Network.state_arrays()``), the samples seen (the position in the data
  stream), the operation counters and the label assignments;
- the command's progress: the task and phase, samples done, partial results (the
  accuracy matrix so far, per-task records and weights).

It is one ``.npz`` file (the JSON record in its ``__meta__`` entry, no pickles),
written to a temporary name, fsynced, and renamed over the previous one
(:mod:`spikedyn.io.files`): a kill at any moment leaves the previous checkpoint or the
new one. A checkpoint written by another spikedyn version or another command, or of
another model than asked for, is refused with a message saying what to do.

Like :mod:`spikedyn.io.runs`, this module knows no network class: it reads a network
through its attributes, and the functions that build one (:func:`restore_network`,
:func:`point_network`) are given the class (``spikedyn.Network``).
"""

from __future__ import annotations

import json
import time
import zipfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .._version import __version__
from ..errors import ConfigError, SpikedynError
from .files import atomic_write, json_text
from .interrupt import Interrupted

CHECKPOINT_FILE = "checkpoint.npz"
#: Seconds of training between two periodic checkpoints, unless told otherwise.
DEFAULT_EVERY_S = 60.0
FORMAT_VERSION = 1
_META = "__meta__"


class CheckpointError(SpikedynError):
    """A checkpoint is missing, unreadable, or of another version, command or model."""


def check_every(value: Any) -> float:
    """A checkpoint interval in seconds: a finite number > 0."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"--checkpoint-every must be a number of seconds > 0, got {value!r}") from None
    if not np.isfinite(seconds) or seconds <= 0:
        raise ConfigError(f"--checkpoint-every must be a number of seconds > 0, got {value!r}")
    return seconds


def path_of(out_dir: str | Path, name: str = CHECKPOINT_FILE) -> Path:
    return Path(out_dir) / name


# -- a network, as arrays ---------------------------------------------------------------------
#: The prefix of a run's network arrays in a checkpoint (see :func:`network_point`).
NETWORK = "net"


def network_record(network, prefix: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Everything a :class:`~spikedyn.Network` will depend on, as (JSON record, arrays named ``prefix.*``)."""
    arrays = {f"{prefix}.weights": network.weights, f"{prefix}.theta": network.theta,
              f"{prefix}.updates_at_reset": network._updates_at_reset}
    arrays.update({f"{prefix}.state.{k}": v for k, v in network.state_arrays().items()})
    for phase, counters in network._counters.items():
        if counters is not None:
            arrays[f"{prefix}.counters.{phase}"] = counters
    if network.assignments_ is not None:
        arrays[f"{prefix}.assignments"] = network.assignments_
    record = {"config": network.config.to_dict(), "seed": network.seed, "samples_seen": network.samples_seen,
              "count_operations": network.count_operations}
    return record, {k: np.array(v, copy=True) for k, v in arrays.items()}


def restore_network(record: dict[str, Any], arrays: dict[str, np.ndarray], prefix: str, network_type):
    """The network saved by :func:`network_record`, exactly as it was; ``network_type`` is its
    class (:class:`spikedyn.Network`), whose ``from_dict`` builds it untrained."""
    network = network_type.from_dict(record["config"], seed=int(record["seed"]),
                                     count_operations=bool(record["count_operations"]))
    try:
        network.weights = np.ascontiguousarray(arrays[f"{prefix}.weights"])
        network.theta = np.ascontiguousarray(arrays[f"{prefix}.theta"])
        network._updates_at_reset = arrays[f"{prefix}.updates_at_reset"].copy()
        for name, current in network.state_arrays().items():
            saved = arrays[f"{prefix}.state.{name}"]
            if saved.shape != current.shape or saved.dtype != current.dtype:
                raise KeyError(name)
            current[...] = saved
        for phase, counters in network._counters.items():
            if counters is not None:
                counters[...] = arrays[f"{prefix}.counters.{phase}"]
    except KeyError as exc:
        raise CheckpointError(f"the checkpoint's network lacks or mismatches {exc}; it is corrupt: "
                              "start the run again") from None
    if network.weights.shape != (network.config.n_input, network.config.n_neurons):
        raise CheckpointError("the checkpoint's weights do not match its config; it is corrupt: start the run again")
    network.samples_seen = int(record["samples_seen"])
    if f"{prefix}.assignments" in arrays:
        network.assignments_ = arrays[f"{prefix}.assignments"].astype(np.int64)
    return network


def network_point(network, record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A consistent point of a run with one network: ``record`` with the network's record
    under ``"network"``, and the network's arrays (read back by :func:`point_network`)."""
    rec, arrays = network_record(network, NETWORK)
    return {**record, "network": rec}, arrays


def point_network(record: dict[str, Any], arrays: dict[str, np.ndarray], network_type):
    """The network of a point :func:`network_point` made, of class ``network_type`` (``spikedyn.Network``)."""
    return restore_network(record["network"], arrays, NETWORK, network_type)


# -- writing and reading -----------------------------------------------------------------------
class Checkpointer:
    """Writes the checkpoints of one run to ``OUT/checkpoint.npz``.

    Parameters
    ----------
    out_dir : path
        The run's output directory (created with the first checkpoint).
    command : str
        ``"train"``, ``"continual"`` or ``"search"``.
    options : dict
        JSON-able options that define the run (what ``--resume`` restores).
    every_s : float
        Seconds between periodic checkpoints (:meth:`due`).
    name : str
        File name in ``out_dir`` (default ``checkpoint.npz``).
    json_path : path, optional
        The command's ``--json``: kept (as an absolute path) beside the options, so that
        ``--resume`` writes the summary where the run was started to write it. It does
        not define the run: a run resumed with another ``--json`` is the same run.
    """

    def __init__(self, out_dir: str | Path, command: str, options: dict[str, Any], every_s: float = DEFAULT_EVERY_S,
                 *, name: str = CHECKPOINT_FILE, json_path: str | Path | None = None):
        self.out_dir = Path(out_dir)
        self.name = name
        self.command = command
        self.options = options
        self.every_s = check_every(every_s)
        self.json_path = None if json_path is None else str(Path(json_path).absolute())
        self.last = time.monotonic()

    @property
    def path(self) -> Path:
        return path_of(self.out_dir, self.name)

    def due(self) -> bool:
        """Whether ``every_s`` seconds have passed since the last checkpoint (or the start)."""
        return time.monotonic() - self.last >= self.every_s

    def save(self, progress: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
        """Write a checkpoint now (atomically, fsynced), replacing the previous one."""
        meta = {"format_version": FORMAT_VERSION, "spikedyn_version": __version__, "command": self.command,
                "options": self.options, "progress": progress, "json": self.json_path, "written_unix": time.time()}
        blob = np.frombuffer(json_text(meta).encode("utf-8"), np.uint8)
        if _META in arrays:
            raise ValueError(f"{_META} is reserved")
        atomic_write(self.path, lambda f: np.savez(f, **{_META: blob}, **arrays))
        self.last = time.monotonic()
        return self.path


@contextmanager
def reading(source: str | Path) -> Iterator[None]:
    """Turn a missing or malformed entry of the checkpoint ``source`` (a path), met while
    reading it back, into a one-line CheckpointError (a hand-edited or damaged file).
    Wrap only the reading, not the run: a bug must keep its traceback."""
    try:
        yield
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        if isinstance(exc, SpikedynError):
            raise
        raise CheckpointError(f"{source} is incomplete or corrupt ({type(exc).__name__}: {exc}); start the run "
                              "again with a new --out") from None


def resume_command(command: str, out_dir: str | Path) -> str:
    return f"spikedyn {command} --resume {out_dir}"


def describe(command: str, out_dir: str | Path, meta: dict[str, Any]) -> str:
    """One line saying what a checkpoint resumes: the run, and where it stopped.

    E.g. ``resuming the continual run in OUT (spikedyn, 400 neurons, seed 0), stopped in
    task 3 of 10 after 1250 of its 4000 images``.
    """
    options, progress = meta.get("options", {}), meta.get("progress", {})
    what = f"resuming the {command} run in {out_dir}"
    config = options.get("config") if isinstance(options.get("config"), dict) else {}
    if command == "search":
        models = ", ".join(map(str, options.get("models", [])))
        return f"{what} (models {models}); the candidates stored in {out_dir}/candidates are reused"
    if config:
        what += f" ({config.get('model')}, {config.get('n_neurons')} neurons, seed {options.get('seed')})"
    current = progress.get("current") if isinstance(progress.get("current"), dict) else None
    completed = progress.get("completed", {}) if isinstance(progress.get("completed"), dict) else {}
    if current is None:
        done = ", ".join(sorted(completed))
        return what + (f"; finished: {done}" if done else "; nothing trained yet")
    stage, record = current.get("stage"), current.get("record", {})
    if stage == "train":
        epochs = options.get("epochs", 1)
        return (what + f", stopped in epoch {int(record.get('epoch', 0)) + 1} of {epochs} after "
                f"{record.get('progress', {}).get('done', 0)} of {options.get('train_samples')} images")
    if stage == "continual":
        tasks = options.get("protocol", {}).get("tasks", [])
        done = record.get("task_progress", {}).get("done", 0)
        per_task = options.get("protocol", {}).get("samples_per_task")
        task = int(record.get("task", 0))
        where = (f"while evaluating task {task + 1} of {len(tasks)}" if record.get("phase") == "evaluate"
                 else f"in task {task + 1} of {len(tasks)} after {done} of its {per_task} images")
        return what + f", stopped {where}"
    if stage == "iid":
        done = record.get("task_progress", {}).get("done", 0)
        return what + f", stopped in the i.i.d. reference after {done} images (the tasks are done)"
    return what


def load(out_dir: str | Path, command: str, *, name: str = CHECKPOINT_FILE
         ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The checkpoint in ``out_dir`` of a ``command`` run: (its record, its arrays).

    Raises
    ------
    CheckpointError
        No checkpoint, an unreadable one, or one of another spikedyn version,
        format or command; the message says what to do.
    """
    out_dir = Path(out_dir)
    path = path_of(out_dir, name)
    if not path.is_file():
        if out_dir.is_dir() and any(out_dir.iterdir()) and not any(out_dir.glob(".*.tmp")):
            raise CheckpointError(f"{out_dir} has no {CHECKPOINT_FILE}: it is finished or not a spikedyn "
                                  f"{command} output; nothing to resume")
        raise CheckpointError(f"{out_dir} has no {CHECKPOINT_FILE}; pass the --out directory of an "
                              f"interrupted 'spikedyn {command}'")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path} is not a spikedyn checkpoint (not an .npz archive); start the run again with "
                              "a new --out")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(arrays.pop(_META).tobytes().decode("utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("not a record")
    except (OSError, ValueError, KeyError, UnicodeDecodeError, EOFError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{path} is unreadable ({exc}); start the run again with a new --out") from None
    if meta.get("format_version") != FORMAT_VERSION or meta.get("spikedyn_version") != __version__:
        raise CheckpointError(
            f"{path} was written by spikedyn {meta.get('spikedyn_version')!r} (checkpoint format "
            f"{meta.get('format_version')!r}); this is spikedyn {__version__} (format {FORMAT_VERSION}): resume "
            "it with the version that wrote it, or start again with a new --out")
    if not isinstance(meta.get("options"), dict) or not isinstance(meta.get("progress"), dict):
        raise CheckpointError(f"{path} lacks its options or progress; it is corrupt: start the run again with a "
                              "new --out")
    if meta.get("command") != command:
        raise CheckpointError(f"{path} is a checkpoint of 'spikedyn {meta.get('command')}', not of 'spikedyn "
                              f"{command}'; resume it with: {resume_command(meta.get('command'), out_dir)}")
    return meta, arrays


class Session:
    """The checkpointed progress of a run made of stages (a continual run, then its i.i.d.
    reference; a search task), kept in one checkpoint.

    A stage that finished keeps its result (:meth:`complete`, :meth:`result`); the
    stage under way keeps its last consistent point (:meth:`save`, :meth:`resumed`).
    Arrays are stored under ``"<stage>/<name>"``.

    Parameters
    ----------
    checkpointer : Checkpointer or None
        None: nothing is saved (a run without checkpoints).
    meta, arrays : optional
        A checkpoint from :func:`load`, to resume from.
    """

    def __init__(self, checkpointer: Checkpointer | None, meta: dict[str, Any] | None = None,
                 arrays: dict[str, np.ndarray] | None = None):
        self.checkpointer = checkpointer
        progress = meta["progress"] if meta else {}
        self.completed: dict[str, Any] = dict(progress.get("completed", {}))
        self.current: dict[str, Any] | None = progress.get("current")
        self.arrays: dict[str, np.ndarray] = dict(arrays or {})

    @property
    def source(self) -> str:
        """The checkpoint's path, for messages."""
        return str(self.checkpointer.path) if self.checkpointer is not None else "the checkpoint"

    def _stage_arrays(self, stage: str) -> dict[str, np.ndarray]:
        head = f"{stage}/"
        return {k[len(head):]: v for k, v in self.arrays.items() if k.startswith(head)}

    def result(self, stage: str) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
        """The stored result of ``stage`` if it finished: (record, arrays)."""
        if stage not in self.completed:
            return None
        return self.completed[stage], self._stage_arrays(f"done.{stage}")

    def resumed(self, stage: str) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
        """The last consistent point of ``stage`` if the checkpoint stopped in it: (record, arrays)."""
        if self.current is None or self.current.get("stage") != stage:
            return None
        return self.current["record"], self._stage_arrays(stage)

    def _write(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.save({"completed": self.completed, "current": self.current}, self.arrays)

    def save(self, stage: str, record: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """A consistent point of ``stage``, written now."""
        self.arrays = {k: v for k, v in self.arrays.items() if k.startswith("done.")}
        self.arrays.update({f"{stage}/{k}": v for k, v in arrays.items()})
        self.current = {"stage": stage, "record": record}
        self._write()

    def save_if_due(self, stage: str, point) -> None:
        """:meth:`save` the point ``point()`` returns, if the checkpointer's interval has passed."""
        if self.checkpointer is not None and self.checkpointer.due():
            self.save(stage, *point())

    def complete(self, stage: str, record: dict[str, Any], arrays: dict[str, np.ndarray] | None = None) -> None:
        """``stage`` finished with this result; written now."""
        self.arrays = {k: v for k, v in self.arrays.items() if k.startswith("done.")}
        self.arrays.update({f"done.{stage}/{k}": v for k, v in (arrays or {}).items()})
        self.completed[stage] = record
        self.current = None
        self._write()


@dataclass
class TrainProgress:
    """A stretch of training so far, as a checkpoint keeps it: images done, presentations,
    spikes, seconds, and the learning rule's update counts when the stretch began."""

    done: int = 0
    presentations: int = 0
    spikes: int = 0
    train_seconds: float = 0.0
    updates_before: dict[str, int] = field(default_factory=dict)

    def plus(self, stats) -> "TrainProgress":
        """This progress followed by a call's :class:`~spikedyn.simulation.network.TrainStats`."""
        return TrainProgress(self.done + stats.train_samples, self.presentations + stats.presentations,
                             self.spikes + stats.spikes,
                             self.train_seconds + stats.wall_seconds, self.updates_before)

    def then(self, later: "TrainProgress") -> "TrainProgress":
        """This progress followed by the stretch ``later`` (whose update counts are not kept)."""
        return TrainProgress(self.done + later.done, self.presentations + later.presentations,
                             self.spikes + later.spikes, self.train_seconds + later.train_seconds,
                             self.updates_before)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def train_resumably(network, images, progress: TrainProgress, session: Session, stage: str, point, *,
                    show: bool, desc: str, n_jobs: int = 1) -> TrainProgress:
    """Train ``network`` on ``images[progress.done:]``, saving ``point(progress so far)`` in
    ``session`` (as ``stage``) when its interval has passed and when interrupted.

    ``point(p)`` returns the (record, arrays) of the run at that moment. Returns the
    progress at the end; raises :class:`~spikedyn.io.interrupt.Interrupted` after saving.
    ``n_jobs``: the training threads (:meth:`spikedyn.simulation.network.Network.train`).
    """
    base = latest = progress

    def on_batch(stats) -> None:
        nonlocal latest
        latest = base.plus(stats)
        session.save_if_due(stage, lambda: point(latest))

    try:
        stats = network.train(images[base.done:], progress=show, desc=desc, on_batch=on_batch,
                              progress_start=base.done, n_jobs=n_jobs)
    except Interrupted:
        session.save(stage, *point(latest))
        raise
    return base.plus(stats)
