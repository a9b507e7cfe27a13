#!/usr/bin/env python3
"""Reads a short `stampede train` run's TensorBoard event file back with TensorBoard's own loader
and checks the scalars against metrics.csv. Exit 77 (skipped) when tensorboard is not installed.

usage: read_tfevents.py STAMPEDE_BINARY
"""
import csv
import glob
import os
import subprocess
import sys
import tempfile

try:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
except ImportError:
    print("SKIP: the tensorboard Python package is not installed (pip install tensorboard)")
    sys.exit(77)


def main() -> int:
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        run = os.path.join(tmp, "run")
        subprocess.run([binary, "train", "--task", "target", "--num-envs", "16", "--iterations", "3",
                        "--seed", "5", "--set", "actor_hidden=[16]", "--set", "critic_hidden=[16]",
                        "--run-dir", run, "--quiet"], check=True)
        files = glob.glob(os.path.join(run, "events.out.tfevents.*"))
        assert len(files) == 1, files
        acc = EventAccumulator(run)
        acc.Reload()
        tags = acc.Tags()["scalars"]
        for tag in ("Loss/surrogate", "Loss/value_function", "Loss/learning_rate", "Train/mean_reward",
                    "Policy/mean_noise_std", "Episode/abs_error"):
            assert tag in tags, f"{tag} missing from {tags}"
        with open(os.path.join(run, "metrics.csv")) as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == 3
        events = acc.Scalars("Loss/value_function")
        assert [e.step for e in events] == [1, 2, 3], [e.step for e in events]
        for e, row in zip(events, rows):
            want = float(row["value_loss"])
            assert abs(e.value - want) <= 1e-6 * max(1.0, abs(want)), (e.value, want)  # float32 in the event
        lr = acc.Scalars("Loss/learning_rate")
        assert abs(lr[-1].value - float(rows[-1]["learning_rate"])) <= 1e-9 + 1e-6 * float(rows[-1]["learning_rate"])
    print("tensorboard read back", len(tags), "scalar tags over 3 steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
