"""stampede.train: `stampede train` from Python — it learns, returns the run and its metrics,
matches the command line bit for bit on the same seed, resumes, and refuses bad arguments.

Run with the in-tree build on the path:  PYTHONPATH=build/python pytest tests/python
"""

import csv
import os
import pathlib
import subprocess

import numpy as np
import pytest

import stampede

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("STAMPEDE_BUILD_DIR", ROOT / "build"))
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD
SMALL = {"actor_hidden": [64, 64], "critic_hidden": [64, 64], "num_threads": 1}
# columns that measure time, not learning
TIMING = {"wall_time", "steps_per_s", "time_env", "time_inference", "time_update", "learner_share"}


def _cuda_usable():
    """A GPU this build can run (a CUDA build lists "cuda" in devices() with or without one)."""
    if "cuda" not in stampede.devices():
        return False
    try:
        stampede.make_env("h1-walk", num_envs=1, device="cuda")
        return True
    except (RuntimeError, ValueError):
        return False


def test_train_learns_point_reach_and_returns_metrics(tmp_path):
    run, m = stampede.train("point-reach", num_envs=64, iterations=150, seed=1, overrides=SMALL,
                            run_dir=str(tmp_path / "run"), checkpoint_every=50, quiet=True)
    assert run == str(tmp_path / "run")
    assert m["interrupted"] is False
    assert len(m["iteration"]) == 150
    np.testing.assert_array_equal(m["iteration"], np.arange(1, 151))
    assert m["samples"][-1] == 150 * 64 * 24
    # a random policy returns about 47 of at most 100; trained ones pass 80 (as the CLI test)
    assert m["mean_reward"][9] < 60
    assert m["mean_reward"][-1] > 80
    for col in ("env/reward/closeness", "env/reward/control", "kl", "learning_rate", "action_std"):
        assert col in m
    assert (tmp_path / "run" / "checkpoints" / "model_000150.h5").exists()
    assert (tmp_path / "run" / "config.yaml").exists()


def test_train_matches_the_command_line(tmp_path):
    args = dict(num_envs=32, iterations=6, seed=3, overrides=SMALL, quiet=True)
    _, py = stampede.train("point-reach", run_dir=str(tmp_path / "py"), **args)
    binary = BUILD / "stampede"
    assert binary.exists(), f"{binary} is missing: build the C++ targets first"
    cmd = [str(binary), "train", "--task", "point-reach", "--num-envs", "32", "--iterations", "6", "--seed", "3",
           "--run-dir", str(tmp_path / "cli"), "--quiet"]
    for k, v in SMALL.items():
        cmd += ["--set", f"{k}=[{','.join(map(str, v))}]" if isinstance(v, list) else f"{k}={v}"]
    subprocess.run(cmd, check=True, capture_output=True)
    with open(tmp_path / "cli" / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6
    compared = 0
    for col in rows[0]:
        if col in TIMING:
            continue
        cli = np.array([float(r[col]) if r[col] != "" else np.nan for r in rows])
        np.testing.assert_array_equal(py[col], cli, err_msg=col)
        compared += 1
    assert compared >= 10


def test_train_resumes(tmp_path):
    run, m = stampede.train("point-reach", num_envs=16, iterations=4, seed=2, overrides=SMALL,
                            run_dir=str(tmp_path / "r"), quiet=True)
    assert len(m["iteration"]) == 4
    run2, m2 = stampede.train(resume=run, iterations=7, quiet=True)
    assert run2 == run
    np.testing.assert_array_equal(m2["iteration"], np.arange(1, 8))
    np.testing.assert_array_equal(m2["mean_reward"][:4], m["mean_reward"])


def test_train_refuses_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="unknown task 'no-such-task'.*point-reach"):
        stampede.train("no-such-task", iterations=1, run_dir=str(tmp_path / "a"))
    with pytest.raises(ValueError, match="algorithm.gama"):
        stampede.train("point-reach", iterations=1, overrides={"algorithm.gama": 0.9})
    with pytest.raises(ValueError, match="num_envs must be >= 1"):
        stampede.train("point-reach", num_envs=0)
    with pytest.raises(TypeError, match="overrides"):
        stampede.train("point-reach", overrides=3)
    with pytest.raises(ValueError, match="give a task"):
        stampede.train()
    with pytest.raises(ValueError, match="not found"):
        stampede.train(resume=str(tmp_path / "missing"), iterations=2)
    if not _cuda_usable():  # with a GPU, device="cuda" trains (test_train_cuda)
        with pytest.raises(RuntimeError, match="--device cuda"):
            stampede.train("point-reach", device="cuda", iterations=1)


def test_train_cuda(tmp_path):
    """device="cuda": the CUDA learner on the GPU env, the rollout on their device API (GPU only;
    without a device the refusal is checked above)."""
    if not _cuda_usable():
        pytest.skip("no usable CUDA device here")
    run, m = stampede.train("h1-walk", device="cuda", num_envs=256, iterations=3, seed=1, overrides=SMALL,
                            run_dir=str(tmp_path / "run"), quiet=True)
    assert len(m["iteration"]) == 3
    assert np.all(np.isfinite(m["value_loss"]))
    assert np.all(np.isfinite(m["mean_step_reward"]))
    assert (tmp_path / "run" / "checkpoints" / "model_000003.h5").exists()
    # and it learns point-reach (CPU worlds, no device API: the learner takes host arrays)
    _, m = stampede.train("point-reach", device="cuda", env_device="cpu", num_envs=64, iterations=150, seed=1,
                          overrides=SMALL, run_dir=str(tmp_path / "reach"), quiet=True)
    assert m["mean_reward"][-1] > 80
