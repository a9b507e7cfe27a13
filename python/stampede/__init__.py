"""stampede: batched humanoid locomotion environments.

    import stampede
    env = stampede.make_env("h1-walk", num_envs=4096, device="mujoco", seed=0)
    obs, info = env.reset()
    obs, reward, terminated, truncated, info = env.step(actions)  # float32 (num_envs, act_dim)

Arrays are numpy arrays the C++ env wrote in place (no copies). Worlds that end reset
automatically; info["final_obs"] holds the observation each ended episode stopped on.
"""

import os as _os
import sys as _sys

import mujoco as _mujoco  # noqa: F401  loads the libmujoco.so.4.0.0 that _core links against

from ._core import VecEnv, _train, data_dir, devices, make_env, set_data_dir, sim, tasks

_sys.modules[__name__ + ".sim"] = sim

__all__ = ["VecEnv", "make_env", "train", "tasks", "devices", "data_dir", "set_data_dir", "sim"]
__version__ = "0.1.0"

# an installed package carries its robots and task configs in stampede/data
_bundled = _os.path.join(_os.path.dirname(__file__), "data")
if not _os.environ.get("STAMPEDE_DATA_DIR") and _os.path.isdir(_os.path.join(_bundled, "configs")):
    set_data_dir(_bundled)


def _override(key, value):
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (list, tuple)):
        text = "[" + ",".join(str(v) for v in value) + "]"
    else:
        text = str(value)
    return f"{key}={text}"


def _read_metrics(path):
    import csv

    import numpy as np

    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return {}
    header, body = rows[0], rows[1:]
    out = {}
    for i, name in enumerate(header):
        column = [r[i] if i < len(r) else "" for r in body]
        try:
            out[name] = np.array([float(v) if v != "" else float("nan") for v in column])
        except ValueError:
            out[name] = column
    return out


def train(task=None, *, num_envs=None, device="cpu", env_device=None, iterations=None, seed=None,
          config=None, overrides=None, run_dir=None, resume=None, checkpoint_every=None, quiet=False):
    """Train a policy with PPO, as `stampede train` does; returns (run_path, metrics).

    task: a task name (stampede.tasks(), or "point-reach"/"target") or a task YAML path;
    device: the learner's "cpu" or "cuda"; env_device: the env's backend when it differs
    ("mujoco", "cpu", "cuda"); config: a training YAML; overrides: {"algorithm.learning_rate": 3e-4,
    "actor_hidden": [64, 64], ...} or ["key=value", ...], applied after config; resume: a run
    directory to continue up to `iterations`. Without config, h1-walk on the CPU starts from its
    CPU preset (configs/train/h1-walk-cpu.yaml). The GIL is released while training; Ctrl-C stops
    after the current iteration and leaves a checkpoint (metrics["interrupted"] is then True).

    metrics: metrics.csv of the run as {column: numpy array}, one row per iteration (iteration,
    samples, wall_time, mean_reward, mean_episode_length, one env/reward/<term> column per reward
    term, losses, kl, learning_rate, action_std, steps_per_s, ...).
    """
    if task is None and resume is None:
        raise ValueError("train: give a task (or resume=RUN)")
    if overrides is None:
        sets = []
    elif isinstance(overrides, dict):
        sets = [_override(k, v) for k, v in overrides.items()]
    elif isinstance(overrides, (list, tuple)) and all(isinstance(v, str) for v in overrides):
        sets = list(overrides)
    else:
        raise TypeError("overrides: a dict {key: value} or a list of 'key=value' strings")
    run, interrupted = _train(task or "", num_envs=num_envs, device=device, env_device=env_device,
                              iterations=iterations, seed=seed, config=config, sets=sets, run_dir=run_dir,
                              resume=resume, checkpoint_every=checkpoint_every, quiet=quiet)
    path = _os.path.join(run, "metrics.csv")
    metrics = _read_metrics(path) if _os.path.exists(path) else {}
    metrics["interrupted"] = interrupted
    return run, metrics
