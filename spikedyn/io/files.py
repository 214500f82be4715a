"""Writing outputs safely: atomically, durably, with normal permissions, and with clear errors.

Every file spikedyn writes goes through :func:`atomic_path` (or the writers built on
it): it is written to a temporary name beside its destination, flushed to disk
(``fsync``) and renamed into place, and the directory entry is synced too. A reader
therefore sees the old file or the new one, never a part, even after a crash or a
power cut; a full disk or an unwritable directory leaves the old file intact and
raises :class:`~spikedyn.errors.DiskError` naming the path and the reason. New files
and directories get the permissions of any file the user creates (0666 and 0777
less the umask), not the private ones of :mod:`tempfile`.

A directory of outputs (a run, a continual experiment) is assembled under a
temporary name and renamed as a whole by :func:`atomic_directory`.

Reading: :func:`read_text_file` reads a text file a user names (an energy table, activity
statistics, a search file) with one-line errors, and :func:`toml_reader` is the TOML parser.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterator

import numpy as np

from ..errors import ConfigError, DiskError

_HINTS = {
    errno.ENOSPC: "free some space or choose another location",
    errno.EDQUOT: "free some space or choose another location",
    errno.EACCES: "choose a directory you can write to",
    errno.EPERM: "choose a directory you can write to",
    errno.EROFS: "choose a directory on a writable file system",
    errno.ENOTDIR: "choose another path",
}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def normal_permissions(path: str | os.PathLike[str], *, directory: bool = False) -> None:
    """Give ``path`` the permissions of a newly created file or directory (0666/0777 less the umask)."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def disk_error(path: str | os.PathLike[str], exc: OSError) -> DiskError:
    """A one-line :class:`DiskError` for a failed write of ``path``."""
    reason = exc.strerror or str(exc)
    code = exc.errno
    if code is None and "requested and" in reason:  # NumPy's short write: the disk filled up
        reason, code = f"No space left on device ({reason})", errno.ENOSPC
    if code in (errno.EEXIST, errno.ENOTDIR):  # a parent directory is a file
        reason, code = "a parent of it is a file, not a directory", errno.ENOTDIR
    hint = _HINTS.get(code, "check the path and the disk")
    return DiskError(f"cannot write {path}: {reason}; {hint} (files written before are intact)")


def fsync_directory(path: str | os.PathLike[str]) -> None:
    """Make a rename in directory ``path`` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds, sync it and rename it to ``path``.

    Raises
    ------
    ConfigError
        If ``path`` is a directory.
    DiskError
        If the file cannot be written (disk full, no permission); ``path`` is unchanged.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path} is a directory; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise disk_error(path, exc) from None
    tmp_path = Path(tmp)
    try:
        normal_permissions(tmp_path)
        yield tmp_path
        _fsync_file(tmp_path)
        os.replace(tmp_path, path)
        fsync_directory(path.parent)
    except DiskError:
        raise
    except OSError as exc:
        raise disk_error(path, exc) from None
    finally:
        tmp_path.unlink(missing_ok=True)


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any]) -> Path:
    """Write a file atomically: ``write(f)`` fills a temporary file (opened for binary
    writing) that then replaces ``path`` (see :func:`atomic_path`). Returns ``path``."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            write(f)
    return Path(path)


def json_text(data: Any) -> str:
    """Indented, sorted JSON; NaN and infinities are refused (they are not JSON)."""
    try:
        return json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n"
    except ValueError as exc:  # a NaN or an infinity reached an output: a bug, not the user's
        raise ValueError(f"refusing to write a non-finite number as JSON ({exc})") from None


def remove_stale_temporaries(directory: str | os.PathLike[str]) -> int:
    """Delete the temporary files (``.NAME.*.tmp``) a killed writer left in ``directory``;
    returns how many. Call it only on a directory this run owns (e.g. when resuming)."""
    removed = 0
    for path in Path(directory).glob(".*.tmp"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as indented JSON (never NaN or Infinity), atomically."""
    text = json_text(data)
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def write_npy(path: str | os.PathLike[str], array: np.ndarray) -> None:
    atomic_write(path, lambda f: np.save(f, array))


def write_npz(path: str | os.PathLike[str], **arrays: np.ndarray) -> None:
    atomic_write(path, lambda f: np.savez(f, **arrays))


def check_new_run_dir(run_dir: str | os.PathLike[str]) -> Path:
    """Refuse to overwrite an existing, non-empty directory."""
    run_dir = Path(run_dir)
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        raise ConfigError(f"output {run_dir} already exists; choose a new --out or delete it")
    return run_dir


def _sync_tree(directory: Path) -> None:
    """Normal permissions and fsync for every file and subdirectory under ``directory`` (a run
    directory holding another, e.g. a continual run's ``network/``), then for ``directory``."""
    for path in directory.iterdir():
        if path.is_dir() and not path.is_symlink():
            normal_permissions(path, directory=True)
            _sync_tree(path)
        else:
            normal_permissions(path)
            _fsync_file(path)
    fsync_directory(directory)


@contextmanager
def atomic_directory(run_dir: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a new temporary directory beside ``run_dir``; when the block succeeds its files
    are synced and it becomes ``run_dir``, as a whole, with normal permissions; when it
    fails it is deleted.

    ``run_dir`` must not exist or be empty, unless ``overwrite``: then an existing
    directory is moved aside only once the new one is complete, and deleted after the
    rename, so ``run_dir`` never holds a mix.
    """
    run_dir = Path(run_dir)
    if overwrite:
        if run_dir.exists() and not run_dir.is_dir():
            raise ConfigError(f"output {run_dir} is a file, not a directory; choose another path")
    else:
        check_new_run_dir(run_dir)
    try:
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{run_dir.name}.", suffix=".tmp", dir=run_dir.parent))
    except OSError as exc:
        raise disk_error(run_dir, exc) from None
    old = None
    try:
        normal_permissions(tmp, directory=True)
        yield tmp
        _sync_tree(tmp)
        if run_dir.exists():
            if any(run_dir.iterdir()):  # overwrite: move the old directory aside first
                old = Path(tempfile.mkdtemp(prefix=f".{run_dir.name}.", suffix=".old", dir=run_dir.parent))
                os.replace(run_dir, old / "run")
            else:
                run_dir.rmdir()
        os.replace(tmp, run_dir)
        fsync_directory(run_dir.parent)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not run_dir.exists():
            os.replace(old / "run", run_dir)  # put the old directory back
        if isinstance(exc, OSError) and not isinstance(exc, DiskError):
            raise disk_error(run_dir, exc) from None
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


# -- reading the text files a user names ---------------------------------------------------------
def read_text_file(path: Path, what: str, suffix: str, not_utf8: str) -> str:
    """The UTF-8 text of the ``suffix`` file ``path``, holding ``what`` (``"energy table"``);
    every problem is a one-line ConfigError naming the file: ``not_utf8`` ends the message
    of a file that is not UTF-8 (e.g. ``"is not UTF-8 text; save it as UTF-8 TOML"``)."""
    try:
        return path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise ConfigError(f"cannot read {what} {path}: it is a directory; give a {suffix} file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror or exc}; check the path and its "
                          "permissions") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} {not_utf8}") from None
    except ValueError as exc:  # a NUL character in the path
        raise ConfigError(f"cannot read {what} {path}: {exc}") from None


def toml_reader():
    """The TOML parser: :mod:`tomllib` (Python >= 3.11), else the ``tomli`` package."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise ConfigError(
                "reading TOML needs Python >= 3.11 or the tomli package; "
                "run 'pip install tomli' or use a .json config"
            ) from None
    return tomllib
