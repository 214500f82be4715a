"""The README's main job, run as a new user runs it, and what it printed: the README's expected output.

Runs ``spikedyn continual`` with the README's options (default model, 400 neurons, seed 0)
into a temporary directory, and writes ``OUT/output.md`` (the lines it printed: one per task
and the summary, as a code block the README includes between generated markers),
``OUT/continual.json`` (its ``--json``) and ``OUT/metrics.csv``.

Usage::

    python experiments/main_job.py --out experiments/results/main_job
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from spikedyn.io.files import atomic_path

#: The command of the README (its --out and --json are added here).
COMMAND = ["spikedyn", "continual", "--neurons", "400", "--seed", "0"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="directory for output.md, continual.json, metrics.csv")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "continual"
        done = subprocess.run([sys.executable, "-m", "spikedyn.cli", *COMMAND[1:], "--out", str(run), "--json",
                               str(Path(tmp) / "continual.json")], capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            return done.returncode
        tasks = [line for line in done.stderr.replace("\r", "\n").splitlines() if line.startswith("task ")
                 and "accuracy" in line]
        shown = " ".join(COMMAND) + " --out runs/continual --json runs/continual.json"
        summary = done.stdout.strip().replace(str(run), "runs/continual")  # the summary, then the other readouts
        args.out.mkdir(parents=True, exist_ok=True)
        with atomic_path(args.out / "output.md") as path:
            path.write_text("```\n$ " + shown + "\n" + "\n".join(tasks) + "\n" + summary + "\n```\n")
        for source in (run / "metrics.csv", Path(tmp) / "continual.json"):
            with atomic_path(args.out / source.name) as path:
                shutil.copyfile(source, path)
    print((args.out / "output.md").read_text(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
