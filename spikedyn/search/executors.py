"""Where independent simulations run: local worker processes or a Dask cluster.

The model search and the ``experiments/`` scripts hand a list of independent *tasks*
(JSON-able dicts, each with a unique ``"id"``) and a worker function to
:func:`run_tasks`. Each task's result is stored on disk atomically as soon as it is
done (``OUT/<id>.json``, holding the task itself); running the same tasks again
computes only those without a stored result for exactly that task, so an interrupted
run (Ctrl-C, ``kill -9``, a lost worker) is resumed by running the same command again.

Executors
---------
``local``
    ``jobs`` worker processes on this machine (``spawn``: no state inherited from the
    parent), by default one per core.
``dask``
    an existing ``dask.distributed`` cluster (``scheduler="tcp://host:8786"``), or, with
    no address, a ``LocalCluster`` of ``jobs`` single-threaded worker processes on
    127.0.0.1. Needs ``pip install "spikedyn[dask]"``.

Scheduling (both executors): with ``cost``, tasks start longest first, so that no long task
is left to run alone at the end while the other workers idle; with ``warm``, each distinct
set of kernels the tasks need is compiled once, by one worker, before the tasks start (the
*warm-up*), and every other worker loads it from Numba's on-disk cache, instead of every
worker compiling every kernel it meets at the same time; with ``group``, the progress bar
counts runs and also says how many groups of runs (candidates, variants) are complete.

Threads: a task runs its training on one thread and its inference on
``threads_per_task`` threads (:func:`threads_per_task`: the worker's share of the
machine's cores), so workers do not oversubscribe the cores. The results do not depend
on it: every simulation is deterministic given its seed, on any number of threads or
workers.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path

from tqdm.auto import tqdm

from ..errors import ConfigError
from ..io.interrupt import Interrupted, stoppable

EXECUTORS = ("local", "dask")
_ENV_THREADS = "SPIKEDYN_TASK_THREADS"
_ENV_CHECKPOINT_DIR = "SPIKEDYN_TASK_CHECKPOINT_DIR"
_ENV_CHECKPOINT_EVERY = "SPIKEDYN_TASK_CHECKPOINT_EVERY_S"
#: The ``command`` of a task's checkpoint (:mod:`spikedyn.io.checkpoint`).
TASK_COMMAND = "task"
#: Seconds the workers' tasks get to stop and write their checkpoints when the run is stopped,
#: before the workers are killed.
STOP_GRACE_S = 3.0
#: Seconds between two looks at the stop flag while the workers run (the stop latency it adds).
POLL_S = 0.05
#: Seconds to try to reach a Dask scheduler before giving up (``spikedyn search --scheduler-timeout``).
DEFAULT_SCHEDULER_TIMEOUT_S = 20.0
#: The signal that stopped this worker process's task, if one did (then it takes no other).
_stopped_by: int | None = None
#: Whether this process is a worker of :func:`_iter_local`'s pool.
_pool_worker = False
#: Seconds between a worker's looks at whether the process that started it is still alive.
PARENT_WATCH_S = 1.0
#: Exit status of a worker that exits because the process that started it died.
EXIT_ORPHANED = 3


def _init_pool_worker(parent: int | None = None) -> None:
    """Start a local worker process. While idle it takes SIGINT and SIGTERM (a terminal's
    Ctrl-C reaches every process of the group; the pool sends SIGTERM) as the order to take
    no further task; :func:`_call` handles them during a task. It exits when its parent, the
    process of pid ``parent``, dies (:func:`_watch_parent`)."""
    from tqdm.std import tqdm as every_tqdm  # the class all of tqdm's bars derive from

    global _pool_worker
    _pool_worker = True
    if parent is not None:
        threading.Thread(target=_watch_parent, args=(parent, PARENT_WATCH_S), name="spikedyn-watch-parent",
                         daemon=True).start()
    # A worker shows no progress bar; tqdm's default lock would be a multiprocessing semaphore,
    # which a worker killed when the run stops leaves to the resource tracker (with a warning).
    every_tqdm.set_lock(threading.RLock())
    signal.signal(signal.SIGINT, _stop_when_idle)
    signal.signal(signal.SIGTERM, _stop_when_idle)


def _watch_parent(parent: int, period_s: float) -> None:
    """Exit this worker process once the process ``parent`` that started it has died (the worker
    is then adopted by another, and ``os.getppid()`` changes), looking every ``period_s``.

    Without it, a worker whose run was killed (SIGKILL, or SIGTERM to the process group while
    it compiled or waited for its next task) went on for as long as its task took, or for
    ever: nobody would ever read its result. The running task is first asked to stop (it
    writes its checkpoint after its current sample) and gets :data:`STOP_GRACE_S` for that.
    """
    from ..io import interrupt

    while os.getppid() == parent:
        time.sleep(period_s)
    interrupt.request(signal.SIGTERM)
    time.sleep(STOP_GRACE_S)
    os._exit(EXIT_ORPHANED)


def _stop_when_idle(signum, frame) -> None:  # noqa: ARG001 - signal API
    global _stopped_by
    _stopped_by = signum


def threads_per_task() -> int:
    """Inference threads a task may use in this worker (set by the executor; 1 outside one)."""
    try:
        return max(1, int(os.environ.get(_ENV_THREADS, "1")))
    except ValueError:
        return 1


def check_executor(executor: str, jobs: int | None, scheduler: str | None) -> None:
    """A ConfigError naming the problem with an executor choice, before anything runs."""
    if executor not in EXECUTORS:
        raise ConfigError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ConfigError(f"jobs must be a positive integer, got {jobs!r}")
    if scheduler is not None and executor != "dask":
        raise ConfigError("--scheduler goes with --executor dask")
    if executor == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ConfigError('the dask executor needs dask.distributed: pip install "spikedyn[dask]"') from None


def check_scheduler(scheduler: str, timeout_s: float = DEFAULT_SCHEDULER_TIMEOUT_S) -> None:
    """Connect to the Dask scheduler at ``scheduler`` and disconnect: a one-line ConfigError if it
    cannot be reached within ``timeout_s`` seconds (for a command to check before it writes anything)."""
    from distributed import Client

    try:
        client = Client(scheduler, timeout=f"{timeout_s}s")
    except (OSError, TimeoutError, ValueError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ConfigError(f"cannot reach the Dask scheduler at {scheduler} within {timeout_s:g} s ({reason}); start "
                          "it, check the address, or raise --scheduler-timeout") from None
    client.close()


def _call(worker: Callable[[dict], dict], task: dict, threads: int, checkpoint_dir: str | None = None,
          every_s: float | None = None) -> dict:
    """Run one task in a worker; its result, with the worker's wall time and spikedyn's version.

    The task runs inside :func:`spikedyn.io.interrupt.stoppable` (SIGINT/SIGTERM stop it after
    the current sample, with a checkpoint) and sees its thread count and checkpoint file
    through :func:`threads_per_task` and :func:`task_session`.
    """
    from .._version import provenance

    global _stopped_by
    settings = {_ENV_THREADS: str(max(1, int(threads))), _ENV_CHECKPOINT_DIR: checkpoint_dir,
                _ENV_CHECKPOINT_EVERY: None if every_s is None else repr(float(every_s))}
    before = _set_environ(settings)
    try:
        start = time.perf_counter()
        with stoppable():  # from here a signal stops the task after its current sample
            if _stopped_by is not None:  # this worker process was stopped: it takes no new task
                raise Interrupted(_stopped_by)
            result = worker(task)
    except Interrupted as exc:
        if _pool_worker:  # stop taking the tasks queued for this worker
            _stopped_by = exc.signum
        raise
    finally:  # a task run in this very process (jobs=1) leaves its environment as it was
        _set_environ(before)
    return {**provenance(), "worker_wall_seconds": time.perf_counter() - start, **result}


def _set_environ(values: dict[str, str | None]) -> dict[str, str | None]:
    """Set (or, for None, remove) environment variables; returns their previous values, in the same form."""
    before = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    return before


def _checkpoint_name(task: dict) -> str:
    return f"{task['id']}.checkpoint.npz"


def task_session(task: dict):
    """The :class:`~spikedyn.io.checkpoint.Session` of ``task`` in this worker: checkpointed to
    ``<results>/<id>.checkpoint.npz`` when the executor asked for it, and resumed from that
    file if it holds a checkpoint of exactly this task (else the task starts afresh)."""
    from ..io.checkpoint import DEFAULT_EVERY_S, CheckpointError, Checkpointer, Session, load

    directory = os.environ.get(_ENV_CHECKPOINT_DIR)
    if not directory:
        return Session(None)
    every_s = float(os.environ.get(_ENV_CHECKPOINT_EVERY, DEFAULT_EVERY_S))
    name = _checkpoint_name(task)
    checkpointer = Checkpointer(directory, TASK_COMMAND, task, every_s, name=name)
    try:
        meta, arrays = load(directory, TASK_COMMAND, name=name)
    except CheckpointError:  # none yet, or of another version: start afresh
        return Session(checkpointer)
    if not isinstance(meta["options"], dict) or task_identity(meta["options"]) != task_identity(task):
        return Session(checkpointer)
    return Session(checkpointer, meta, arrays)


def _call_on_dask_worker(worker: Callable[[dict], dict], task: dict, checkpoint_dir: str | None = None,
                         every_s: float | None = None) -> dict:
    from distributed import get_worker

    try:
        threads = get_worker().state.nthreads
    except (ValueError, AttributeError):
        threads = 1
    return _call(worker, task, threads, checkpoint_dir, every_s)


def _result_path(out_dir: Path, task: dict) -> Path:
    return out_dir / f"{task['id']}.json"


def stored_result(out_dir: Path, task: dict) -> dict | None:
    """The stored result of exactly ``task`` in ``out_dir``, computed by this very code, or None.

    A result is reused only if its task is the same and it carries the source hash of the
    installed package (:func:`spikedyn._version.source_hash`): after any change of the code
    it is computed again (and overwritten), never silently reused."""
    from .._version import source_hash

    path = _result_path(out_dir, task)
    if not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # unreadable: computed again
    if not (isinstance(stored, dict) and isinstance(stored.get("task"), dict)):
        return None
    same_task = task_identity(stored["task"]) == task_identity(task)
    return stored if same_task and stored.get("source_hash") == source_hash() else None


def task_identity(task: dict) -> dict:
    """What defines a task's result: everything but where its worker reads the data from (as JSON holds it)."""
    return {k: v for k, v in json.loads(json.dumps(task)).items() if k != "data_dir"}


def _iter_local(worker, todo: list[dict], jobs: int, checkpoint: tuple,
                warmups: list[dict] = ()) -> Iterator[tuple[dict, dict]]:
    from ..io import interrupt
    from ..simulation.network import default_jobs  # the cores this process may use

    threads = max(1, default_jobs() // jobs)
    if jobs == 1:  # one worker compiles each kernel once anyway: no warm-up
        for task in todo:
            yield task, _call(worker, task, threads, *checkpoint)
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_init_pool_worker,
                             initargs=(os.getpid(),)) as pool:
        futures: dict = {}
        try:
            # The warm-ups first, in parallel, and only then the tasks (the pool starts tasks in the
            # order they are submitted): a task never compiles what a warm-up compiles.
            for phase, items in (("warm-up", warmups), ("tasks", todo)):
                futures = {pool.submit(_call, worker, task, threads, *((None, None) if phase == "warm-up"
                                                                       else checkpoint)): task for task in items}
                pending = set(futures)
                while pending:
                    done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
                    for future in done:
                        result = future.result()
                        if phase == "tasks":
                            yield futures[future], result
                    interrupt.check()  # Ctrl-C/SIGTERM: stop polling, stop the workers
        except BaseException:
            for f in futures:
                f.cancel()
            processes = list(getattr(pool, "_processes", {}).values())
            for proc in processes:  # SIGTERM: each task stops after its current sample, with a checkpoint
                proc.terminate()
            wait([f for f in futures if not f.done()], timeout=STOP_GRACE_S)  # checkpoints written
            # Every task has now stopped and reported, or overran the grace (e.g. compiling):
            # the workers have nothing left to write, so they are killed rather than waited
            # for (an interpreter's teardown takes up to a second on a loaded machine).
            for proc in processes:
                proc.kill()
                proc.join()
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _iter_dask(worker, todo: list[dict], jobs: int, scheduler: str | None,
               checkpoint: tuple, timeout_s: float = DEFAULT_SCHEDULER_TIMEOUT_S,
               warmups: list[dict] = ()) -> Iterator[tuple[dict, dict]]:
    from distributed import Client, LocalCluster, as_completed as dask_completed

    from ..io import interrupt

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        client = Client(cluster)
    else:
        checkpoint = (None, None)  # a remote worker may not see this machine's files
        warmups = ()  # nor this machine's kernel cache: each worker compiles for itself
        try:
            client = Client(scheduler, timeout=f"{timeout_s}s")
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        if warmups:  # the LocalCluster's workers share this machine's kernel cache: compile once, first
            warming = [client.submit(_call_on_dask_worker, worker, task, key=f"spikedyn-{task['id']}", pure=False)
                       for task in warmups]
            for future in dask_completed(warming):
                future.result()
                interrupt.check()
        # Dask runs higher priorities first: the tasks' order (longest first) as decreasing priorities.
        futures = {client.submit(_call_on_dask_worker, worker, task, *checkpoint, key=f"spikedyn-{task['id']}",
                                 pure=False, priority=len(todo) - k): task for k, task in enumerate(todo)}
        completed = dask_completed(futures)
        while not completed.is_empty():
            for future in completed.next_batch(block=False):
                yield futures[future], future.result()
            interrupt.check()
            time.sleep(POLL_S)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_tasks(worker: Callable[[dict], dict], tasks: Iterable[dict], out_dir: str | os.PathLike[str], *,
              executor: str = "local", jobs: int | None = None, scheduler: str | None = None,
              desc: str = "tasks", progress: bool = True, checkpoint_every_s: float | None = None,
              scheduler_timeout_s: float = DEFAULT_SCHEDULER_TIMEOUT_S,
              cost: Callable[[dict], float] | None = None, warm: Callable[[dict], dict | None] | None = None,
              group: Callable[[dict], str] | None = None, group_name: str = "groups") -> tuple[list[dict], int]:
    """Results of every task, in the order of ``tasks``, and how many were reused from ``out_dir``.

    ``worker(task) -> dict`` must be a module-level function (it is sent to other
    processes). Each result is stored as ``{"task": task, "spikedyn_version": ...,
    "source_hash": ..., "worker_wall_seconds": ..., **result}`` the moment it arrives, and
    reused on a later call only by the same code (:func:`stored_result`). With
    ``checkpoint_every_s``, a worker that uses :func:`task_session` checkpoints its task
    to ``out_dir/<id>.checkpoint.npz`` that often (local workers, and a Dask
    ``LocalCluster``'s; not a remote cluster's) and resumes from it; the file is deleted
    once the result is stored. ``scheduler_timeout_s``: how long to try to reach ``scheduler``.

    Scheduling (the results are the same whatever it does):

    ``cost(task) -> float``
        an estimate of a task's duration, in any unit common to the tasks; the tasks start
        in decreasing order of it (ties in the order given).
    ``warm(task) -> dict or None``
        a small task, run by ``worker`` like any other, that compiles the kernels ``task``
        needs (its result is discarded; tasks whose warm-ups have the same ``"id"`` share
        one). With several local workers or a Dask ``LocalCluster``, the distinct warm-ups
        of the tasks to compute run first, in parallel, and the tasks after them; with one
        worker, or a remote cluster (whose workers do not share this machine's kernel
        cache), there is no warm-up.
    ``group(task) -> str``
        the group a task belongs to (a search candidate's seeds): the progress bar counts
        runs and shows how many groups, called ``group_name``, have all their runs done.
    """
    from ..io.files import remove_stale_temporaries, write_json

    tasks = list(tasks)
    check_executor(executor, jobs, scheduler)
    ids = [t["id"] for t in tasks]
    if len(set(ids)) != len(ids):
        raise ConfigError("task ids must be unique")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)  # a killed run's partial writes (their files are intact)
    done: dict[str, dict] = {}
    todo = []
    for task in tasks:
        stored = stored_result(out, task)
        if stored is not None:
            done[task["id"]] = stored
            (out / _checkpoint_name(task)).unlink(missing_ok=True)  # killed after storing, before removing it
        else:
            todo.append(task)
    reused = len(done)
    if todo and reused:
        print(f"{reused} of {len(tasks)} {desc} stored in {out}; computing {len(todo)}", file=sys.stderr)
    from ..simulation.network import default_jobs

    jobs = min(jobs or default_jobs(), max(len(todo), 1))
    if cost is not None:
        todo = longest_first(todo, cost)
    warmups = warm_ups(todo, warm) if warm is not None and jobs > 1 else []
    checkpoint = (None, None) if checkpoint_every_s is None else (str(out), float(checkpoint_every_s))
    runner = (_iter_local(worker, todo, jobs, checkpoint, warmups) if executor == "local"
              else _iter_dask(worker, todo, jobs, scheduler, checkpoint, scheduler_timeout_s, warmups))
    groups = _GroupCount(tasks, group, done, group_name)
    with tqdm(total=len(todo), desc=desc, unit="run", disable=not progress or not todo) as bar:
        if warmups:  # shown until the first run ends
            bar.set_postfix_str(f"warm-up of {len(warmups)} kernel set(s), each compiled once")
        elif group is not None:
            bar.set_postfix_str(groups.text(), refresh=False)
        for task, result in runner:
            record = {"task": task, **result}
            write_json(_result_path(out, task), record)
            (out / _checkpoint_name(task)).unlink(missing_ok=True)
            done[task["id"]] = record
            if group is not None:
                groups.add(task)
            bar.set_postfix_str(groups.text() if group is not None else "", refresh=False)
            bar.update()
    return [done[i] for i in ids], reused


def longest_first(tasks: list[dict], cost: Callable[[dict], float]) -> list[dict]:
    """``tasks`` in decreasing order of ``cost(task)``, ties in their given order (a stable sort)."""
    return sorted(tasks, key=lambda task: -float(cost(task)))


def warm_ups(tasks: list[dict], warm: Callable[[dict], dict | None]) -> list[dict]:
    """The distinct warm-up tasks (by ``"id"``) of ``tasks``, in the order of the first task that needs each."""
    distinct: dict[str, dict] = {}
    for task in tasks:
        w = warm(task)
        if w is not None:
            distinct.setdefault(w["id"], w)
    return list(distinct.values())


class _GroupCount:
    """How many groups of tasks (see :func:`run_tasks`'s ``group``) have all their runs done."""

    def __init__(self, tasks: list[dict], group: Callable[[dict], str] | None, done: dict[str, dict],
                 name: str = "groups"):
        self.name = name
        self.left: dict[str, int] = {}
        if group is None:
            return
        self.group = group
        for task in tasks:
            if task["id"] not in done:
                self.left[group(task)] = self.left.get(group(task), 0) + 1
        self.total = len({group(task) for task in tasks})
        self.complete = self.total - len(self.left)

    def add(self, task: dict) -> None:
        key = self.group(task)
        self.left[key] -= 1
        if self.left[key] == 0:
            self.complete += 1

    def text(self) -> str:
        return f"{self.name} complete: {self.complete}/{self.total}"
