"""Fixtures and hooks that several test modules share.

- The marks ``mnist`` and ``brian2`` are registered here rather than only in
  pyproject.toml: pytest reads pyproject.toml only when it picks that file as its
  configuration, which it does not under ``-c other.ini`` or for a copy of ``tests/``
  run outside the repository, and then every mark was an unknown-mark warning.
- A test marked ``mnist`` is skipped when ``SPIKEDYN_DATA_DIR`` is unset; it gets the
  directory from the ``mnist_dir`` fixture.
- ``offline_env`` keeps a test away from the user's data directory, cache and network;
  modules that run the data loader or the command line use it.
- ``digits_dir`` is a small synthetic MNIST-format data directory; ``run_cli`` runs the
  ``spikedyn`` command in this process.
- The kernels are compiled at LLVM level 1 (``NUMBA_OPT=1``, unless the environment sets
  it; subprocesses inherit it): the suite is mostly compilation, and level 1 compiles a
  training kernel in about five sixths of the default level's time. The code is slower but
  computes the same bits (no fast-math anywhere: the tests against stored fixtures, the
  naive twins and Brian2 pass at either level); the kernels go to a cache directory of
  their own (``spikedyn.core.kernel_cache``), so a user's runs never load them.
- Property-based tests (hypothesis) run derandomised by default, so a test run is
  repeatable (``HYPOTHESIS_PROFILE=random`` draws new examples each time).

Plain helper functions are in ``helpers.py``.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("NUMBA_OPT", "1")  # before Numba reads its configuration (see the docstring)
if "numba" in sys.modules:
    from numba.core import config as _numba_config

    _numba_config.reload_config()

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

settings.register_profile("derandomized", derandomize=True)
settings.register_profile("random", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "derandomized"))

pytest.register_assert_rewrite("helpers")

from helpers import REAL_DATA_DIR, make_digits_dir  # noqa: E402

from spikedyn import cli  # noqa: E402

MARKERS = {
    "mnist": "needs the real MNIST files (SPIKEDYN_DATA_DIR); skipped when it is unset",
    "brian2": "runs the Brian2 reference",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if REAL_DATA_DIR is None:
        skip = pytest.mark.skip(reason="set SPIKEDYN_DATA_DIR to a directory with MNIST")
        for item in items:
            if item.get_closest_marker("mnist") is not None:
                item.add_marker(skip)


@pytest.fixture
def mnist_dir(request: pytest.FixtureRequest) -> Path:
    """The real MNIST directory (``SPIKEDYN_DATA_DIR`` as the session started)."""
    if request.node.get_closest_marker("mnist") is None:
        pytest.fail("a test that reads the real MNIST files must be marked @pytest.mark.mnist")
    return Path(REAL_DATA_DIR)


@pytest.fixture
def dead_url() -> str:
    """Base URL of a port on 127.0.0.1 that was bound and closed, so nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def offline_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory, dead_url: str) -> None:
    """No data directory from the environment, a download mirror where nothing listens and an
    empty user cache: every test names its data directory, and a stray download fails at once."""
    monkeypatch.delenv("SPIKEDYN_DATA_DIR", raising=False)
    monkeypatch.setenv("SPIKEDYN_MNIST_MIRRORS", dead_url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(var, "127.0.0.1,localhost")


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gzip-compressed MNIST-format directory of 30 training and 20 test bar digits
    (``helpers.make_digits_dir``), shared by the session: read it, never write into it."""
    return make_digits_dir(tmp_path_factory.mktemp("mnist-digits"))


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``run_cli(*argv)`` runs ``spikedyn argv...`` in this process and returns its exit
    status and what it wrote to stdout and stderr."""

    def run(*argv: str | Path) -> tuple[int, str, str]:
        code = cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def close_figures():
    """Close every matplotlib figure after the test."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
