"""How fast Ctrl-C stops a run: seconds from SIGINT to the command's exit, checkpoint written.

The tests check the behaviour of a stop (exit 130, a complete checkpoint, a resumed run
identical to an uninterrupted one); how long it takes depends on the machine and its load,
so it is measured here instead. Each repetition starts ``spikedyn train`` (or
``continual``) in a subprocess, waits until its first checkpoint shows training under way,
sends SIGINT, and times the exit.

Usage::

    python experiments/stop_latency.py --neurons 400 --repeats 5 --out experiments/results/stop_latency
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from spikedyn._version import provenance
from spikedyn.io.checkpoint import CHECKPOINT_FILE
from spikedyn.io.files import atomic_path, write_json


def _training(out: Path) -> bool:
    """Whether the checkpoint in ``out`` shows training under way."""
    try:
        with np.load(out / CHECKPOINT_FILE) as z:
            return json.loads(z["__meta__"].tobytes())["progress"].get("current") is not None
    except (OSError, ValueError, KeyError):
        return False


def measure(model: str, neurons: int, data_dir: str | None) -> dict:
    """One stop: the seconds from SIGINT to the exit, the exit status and what the checkpoint holds."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        argv = [sys.executable, "-m", "spikedyn.cli", "train", "--model", model, "--neurons", str(neurons),
                "--out", str(out), "--checkpoint-every", "0.5", "--quiet"]
        if data_dir:
            argv += ["--data-dir", data_dir]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None and not _training(out):
            time.sleep(0.05)
        time.sleep(1.0)  # well inside training, between two periodic checkpoints
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=600)
        seconds = time.monotonic() - sent
        return {"seconds": seconds, "exit_status": proc.returncode, "checkpoint": _training(out),
                "last_line": stderr.strip().splitlines()[-1] if stderr.strip() else ""}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="diehl-cook", help="registered model (default diehl-cook)")
    ap.add_argument("--neurons", type=int, default=400, help="excitatory neurons (default 400)")
    ap.add_argument("--repeats", type=int, default=5, help="stops measured (default 5)")
    ap.add_argument("--data-dir", default=None, help="MNIST directory (default: $SPIKEDYN_DATA_DIR)")
    ap.add_argument("--out", type=Path, required=True, help="directory for stop_latency.json and .md")
    args = ap.parse_args(argv)
    stops = [measure(args.model, args.neurons, args.data_dir) for _ in range(args.repeats)]
    seconds = [s["seconds"] for s in stops]
    summary = {"model": args.model, "neurons": args.neurons, "stops": stops, "median_seconds": statistics.median(seconds),
               "max_seconds": max(seconds), **provenance()}
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "stop_latency.json", summary)
    ok = all(s["exit_status"] == 130 and s["checkpoint"] for s in stops)
    md = (f"Ctrl-C during `spikedyn train --model {args.model} --neurons {args.neurons}`: {len(stops)} stops, "
          f"seconds from SIGINT to exit (checkpoint written) median {summary['median_seconds']:.2f}, "
          f"max {summary['max_seconds']:.2f}; every stop exited 130 with a checkpoint: {'yes' if ok else 'no'}.\n")
    with atomic_path(args.out / "stop_latency.md") as tmp:
        tmp.write_text(md)
    print(md, end="")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
