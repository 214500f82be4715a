"""The README's Python example runs as written, on the real MNIST, and does what it says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def python_example() -> str:
    """The first ```python block of the README's "Python API" section."""
    text = README.read_text()
    section = text.split("## Python API", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README's Python API section has no python block"
    return match.group(1)


def test_example_is_about_ten_lines() -> None:
    lines = [line for line in python_example().splitlines() if line.strip()]
    assert len(lines) <= 11


@pytest.mark.mnist
@pytest.mark.skipif(not os.environ.get("SPIKEDYN_DATA_DIR"), reason="SPIKEDYN_DATA_DIR is not set")
def test_python_example_runs_as_written(tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(python_example())
    env = dict(os.environ, MPLBACKEND="Agg")  # a headless machine; the example itself sets no backend
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", done.stdout).group(1))
    claimed = float(re.search(r"It prints `test accuracy (\d\.\d+)`", README.read_text()).group(1))
    assert accuracy == claimed  # same seed, same result: the README quotes what the example prints
    assert accuracy > 0.6  # well above chance (0.1)
    assert (tmp_path / "weights.png").read_bytes().startswith(PNG_SIGNATURE)


def test_generated_tables_in_the_readme_are_the_committed_outputs() -> None:
    """Every table the README shows between generated markers is the file an experiment wrote."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("sync_readme", README.parent / "experiments" / "sync_readme.py")
    sync = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sync)
    assert sync.blocks(README.read_text()), "the README shows no generated table"
    for document in sync.DOCUMENTS:
        for path, body in sync.blocks(document.read_text()):
            assert body == (README.parent / path).read_text(), \
                f"{path} differs from {document.name}; run experiments/sync_readme.py"


def test_every_link_of_the_readme_and_the_docs_resolves() -> None:
    """The README is a front page that links to docs/; every relative link and image there and in
    the docs pages points to a file of the repository."""
    root = README.parent
    documents = [README, *sorted((root / "docs").glob("*.md"))]
    broken = []
    for document in documents:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", document.read_text()):
            if "://" not in target and not (document.parent / target).exists():
                broken.append(f"{document.relative_to(root)}: {target}")
    assert broken == []
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)\)", README.read_text()))
    assert linked == {p.name for p in (root / "docs").glob("*.md")}  # the README maps every page


def test_the_front_page_is_short_and_says_how_to_start() -> None:
    text = README.read_text()
    # the front page, plus the three-families table issue 23 asks for and the speed section of issue 22
    assert len(text.splitlines()) <= 190
    for heading in ("## Install", "## Data", "## The main job", "## Tests", "## Python API", "## Documentation"):
        assert heading in text
    assert "python -m pytest -n 2" in text and "pip install -e" in text and "python3 -m venv" in text
    install = re.findall(r"^pip install -e (\S+)$", text, re.M)
    assert len(install) == 1, "one install command"
    ci = (README.parent / ".ci" / "run").read_text()
    assert f"pip install --quiet -e {install[0]}" in ci  # CI installs what the README installs ...
    assert "python -m pytest -n 2" in ci  # ... and runs the README's test command
    assert len(re.findall(r"^\$ spikedyn continual ", text, re.M)) == 1, "one command for the main job"
