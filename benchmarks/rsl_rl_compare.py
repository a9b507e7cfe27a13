#!/usr/bin/env python3
"""Our PPO (`stampede train`) vs rsl_rl's PPO on the same env, hyperparameters and clock budget.

    python3 benchmarks/rsl_rl_compare.py --task h1-walk --minutes 30 --seed 1 -o DIR

1. stampede: `build/stampede train --task T --device cpu --env-device cpu --seed S ...` as a
   subprocess, stopped with SIGINT (it finishes the iteration, checkpoints and exits) after
   --minutes of training; its curves come from DIR/stampede/metrics.csv.
2. rsl_rl: `stampede.make_env(T, num_envs=N, device="cpu", seed=S)` behind rsl_rl's VecEnv
   interface, trained by rsl_rl's OnPolicyRunner for the same --minutes. The hyperparameters are
   the resolved config of run 1 (DIR/stampede/config.yaml: the task's CPU preset
   configs/train/T-cpu.yaml over rl/config.h's defaults), mapped key by key.
The two runs are sequential, never simultaneous, so each has the same cores. Both curves hold, per
iteration: samples so far, training wall-clock (env construction and imports excluded), and the
mean undiscounted return and length of the last 100 finished episodes (sum of the env's rewards
per episode, before any time-out bootstrapping), which the wrapper computes the way our runner
does.

Output: DIR/rsl_rl_compare.json (config mapping, both curves, summary, machine),
DIR/rsl_rl_compare.png (return vs samples, return vs wall-clock minutes) and a table on stdout.
Needs torch, rsl-rl-lib, tensordict, matplotlib and PyYAML (benchmarks/requirements-rsl-rl.txt)
and a build with the Python module (build/python). Takes about 2 x --minutes plus ~1 minute.
"""
import argparse
import contextlib
import csv
import importlib.metadata
import importlib.util
import io
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import deque

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---------------------------------------------------------------------------------------------
# the config of our run


def parse_config_h(path):
    """rl/config.h's defaults: {"policy": {...}, "algorithm": {...}, "runner": {...}}."""
    with open(path) as f:
        text = f.read()
    sections = {"PolicyConfig": "policy", "AlgorithmConfig": "algorithm", "RunnerConfig": "runner"}
    field = re.compile(r"^(std::vector<int>|std::string|double|int|bool|uint64_t)\s+(\w+)\s*"
                       r"(?:=\s*(.+?)|\{(.*)\})\s*;$")
    out = {}
    for struct, section in sections.items():
        m = re.search(r"struct\s+%s\s*\{(.*?)\n\};" % struct, text, re.S)
        if not m:
            raise RuntimeError(f"{path}: struct {struct} not found")
        values = {}
        for line in m.group(1).splitlines():
            f_ = field.match(line.split("//")[0].strip())
            if not f_:
                continue
            kind, name, init, brace = f_.groups()
            raw = (init if init is not None else brace).strip()
            if kind == "std::vector<int>":
                values[name] = [int(x) for x in raw.split(",") if x.strip()]
            elif kind == "std::string":
                values[name] = raw.strip('"')
            elif kind == "bool":
                values[name] = raw == "true"
            elif kind == "double":
                values[name] = float(raw)
            else:
                values[name] = int(raw.rstrip("uUlL"))
        out[section] = values
    return out


def coerce_config(cfg, defaults):
    """cfg with every value of a known key converted to the type of its default (YAML 1.1 reads
    our emitter's '3e-04' as a string, 1 as an int where a double is meant)."""
    out = {}
    for section, values in cfg.items():
        out[section] = {}
        for key, v in (values or {}).items():
            d = defaults.get(section, {}).get(key)
            if isinstance(d, bool):
                v = v if isinstance(v, bool) else str(v).lower() == "true"
            elif isinstance(d, float):
                v = float(v)
            elif isinstance(d, int):
                v = int(v)
            elif isinstance(d, list):
                v = [int(x) for x in v]
            elif isinstance(d, str):
                v = str(v)
            out[section][key] = v
    return out


def expected_config(task, args):
    """What `stampede train` resolves for this command: the task's CPU preset (when it exists)
    over rl/config.h's defaults, then the flags. Used to check the run's own config.yaml, and in
    its place when the stampede run is skipped."""
    import yaml

    cfg = parse_config_h(os.path.join(REPO, "rl", "config.h"))
    preset = os.path.join(REPO, "configs", "train", task + "-cpu.yaml")
    if "/" in task or not os.path.isfile(preset):
        preset = None
    else:
        with open(preset) as f:
            for section, values in coerce_config(yaml.safe_load(f) or {}, cfg).items():
                cfg[section].update(values)
    cfg["runner"]["task"] = task
    cfg["runner"]["device"] = "cpu"
    cfg["runner"]["seed"] = args.seed
    cfg["runner"]["num_threads"] = args.threads
    if args.num_envs:
        cfg["runner"]["num_envs"] = args.num_envs
    return cfg, preset


def config_differences(a, b, ignore=("max_iterations", "save_interval", "log_interval")):
    diffs = []
    for section in ("policy", "algorithm", "runner"):
        for key in sorted(set(a.get(section, {})) | set(b.get(section, {}))):
            if key in ignore:
                continue
            x, y = a.get(section, {}).get(key), b.get(section, {}).get(key)
            same = (math.isclose(x, y, rel_tol=1e-12) if isinstance(x, float) and isinstance(y, (int, float))
                    else x == y)
            if not same:
                diffs.append(f"{section}.{key}: {x!r} vs {y!r}")
    return diffs


# ---------------------------------------------------------------------------------------------
# our config -> rsl_rl's


_AS_OURS = object()  # map_config: rsl_rl takes our value unchanged


def map_config(cfg):
    """rsl_rl's train_cfg dict from our resolved config, and the mapping key by key (for the
    JSON, so a reader can check every value)."""
    p, a, r = cfg["policy"], cfg["algorithm"], cfg["runner"]
    rows = []

    def m(ours, value, theirs, their_value=_AS_OURS, note=""):
        their_value = value if their_value is _AS_OURS else their_value
        rows.append({"stampede": ours, "value": value, "rsl_rl": theirs, "rsl_rl_value": their_value,
                     "note": note})
        return their_value

    alg = {"class_name": "rsl_rl.algorithms:PPO"}
    for key in ("num_learning_epochs", "num_mini_batches", "clip_param", "gamma", "lam", "value_loss_coef",
                "entropy_coef", "learning_rate", "schedule", "desired_kl", "max_grad_norm",
                "use_clipped_value_loss"):
        note = ""
        if key == "max_grad_norm":
            note = "ours clips the global norm of all parameters; rsl_rl clips actor and critic separately"
        if key == "clip_param":
            note = "policy ratio clip and value clip in both"
        if key == "desired_kl" and a["schedule"] != "adaptive":
            note = "unused: schedule is fixed"
        alg[key] = m("algorithm." + key, a[key], "algorithm." + key, note=note)
    for key, fixed in (("min_learning_rate", 1e-5), ("max_learning_rate", 1e-2)):
        same = math.isclose(a[key], fixed)
        m("algorithm." + key, a[key], "(hard-coded in PPO.update)", fixed,
          ("same" if same else "DIFFERS: rsl_rl's adaptive schedule bounds are fixed") +
          ("" if a["schedule"] == "adaptive" else "; unused: schedule is fixed"))
    alg["optimizer"] = m("(Adam)", "adam", "algorithm.optimizer")
    for key, name in (("adam_beta1", "betas[0]"), ("adam_beta2", "betas[1]"), ("adam_eps", "eps")):
        m("algorithm." + key, a[key], "optimizer.param_groups[*]." + name,
          note="set on rsl_rl's torch.optim.Adam after construction")
    alg["normalize_advantage_per_mini_batch"] = m(
        "(advantages normalized over the whole rollout)", False, "algorithm.normalize_advantage_per_mini_batch")
    alg["use_mixed_precision"] = m("(float32)", False, "algorithm.use_mixed_precision")

    norm = bool(a["normalize_observations"])
    actor = {"class_name": "rsl_rl.models:MLPModel",
             "hidden_dims": m("policy.actor_hidden", list(p["actor_hidden"]), "actor.hidden_dims"),
             "activation": m("policy.activation", p["activation"], "actor.activation / critic.activation"),
             "obs_normalization": m("algorithm.normalize_observations", norm,
                                    "actor.obs_normalization / critic.obs_normalization",
                                    note="ours: one normalizer, merged before each act(); rsl_rl: one per "
                                         "model, merged with the whole rollout after each update; eps 1e-2 in "
                                         "both"),
             "distribution_cfg": {"class_name": "rsl_rl.modules:GaussianDistribution",
                                  "init_std": m("policy.init_noise_std", p["init_noise_std"],
                                                "actor.distribution_cfg.init_std",
                                                note="std_type log: a learned log-std vector, as ours"),
                                  "std_type": "log"}}
    critic = {"class_name": "rsl_rl.models:MLPModel",
              "hidden_dims": m("policy.critic_hidden", list(p["critic_hidden"]), "critic.hidden_dims"),
              "activation": p["activation"], "obs_normalization": norm}
    train_cfg = {
        "num_steps_per_env": m("runner.num_steps_per_env", r["num_steps_per_env"], "num_steps_per_env"),
        "save_interval": 10 ** 9,
        "check_for_nan": True,
        "obs_groups": m("(actor and critic see the same observation)", {"actor": ["policy"], "critic": ["policy"]},
                        "obs_groups"),
        "actor": actor,
        "critic": critic,
        "algorithm": alg,
    }
    m("runner.num_envs", r["num_envs"], "stampede.make_env(num_envs=)")
    m("runner.seed", r["seed"], "stampede.make_env(seed=), torch.manual_seed")
    m("runner.num_threads", r["num_threads"], "torch.set_num_threads",
      note="learner threads; the env uses every CPU in both runs")
    m("runner.max_iterations", r["max_iterations"], "(none)", None,
      "both runs stop on the clock after --minutes instead")
    return train_cfg, rows


# ---------------------------------------------------------------------------------------------
# run 1: stampede train


def read_metrics(path):
    def num(v):
        try:
            return float(v) if v not in ("", None) else math.nan
        except ValueError:
            return math.nan

    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    curve = []
    for row in rows:
        curve.append({"iteration": int(num(row["iteration"])), "samples": int(num(row["samples"])),
                      "wall_time": num(row["wall_time"]), "mean_return": num(row["mean_reward"]),
                      "mean_length": num(row["mean_episode_length"]), "action_std": num(row.get("action_std")),
                      "learning_rate": num(row.get("learning_rate")),
                      "nonfinite_worlds": int(num(row.get("nonfinite_worlds", "0")) if row.get("nonfinite_worlds") else 0)})
    return curve


def run_stampede(args, out_dir):
    run_dir = os.path.join(out_dir, "stampede")
    cmd = [args.stampede_bin, "train", "--task", args.task, "--device", "cpu", "--env-device", "cpu",
           "--seed", str(args.seed), "--iterations", "1000000", "--checkpoint-every", "1000000",
           "--set", f"runner.num_threads={args.threads}", "--run-dir", run_dir, "--quiet"]
    if args.num_envs:
        cmd += ["--num-envs", str(args.num_envs)]
    print("stampede: " + " ".join(cmd), flush=True)
    load_before = os.getloadavg()
    with open(os.path.join(out_dir, "stampede.log"), "w") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True)
        # the clock starts when the runner is built (its "training ..." line), as rsl_rl's does
        # after the env and the runner exist
        started = False
        for line in proc.stdout:
            log.write(line)
            log.flush()
            if line.startswith("training "):
                started = True
                break
        if not started:
            proc.wait()
            raise RuntimeError(f"stampede train exited with {proc.returncode} before training; see "
                               f"{os.path.join(out_dir, 'stampede.log')}")
        t0 = time.monotonic()
        try:
            proc.wait(timeout=args.minutes * 60)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)  # finish this iteration, checkpoint, exit 130
        except KeyboardInterrupt:
            proc.wait()  # it had the Ctrl-C too: it finishes its iteration and checkpoints
            sys.exit(f"interrupted during the stampede run (kept in {run_dir})")
        log.write(proc.stdout.read())
        proc.wait()
        wall = time.monotonic() - t0  # runner built -> process exit (last iteration, checkpoint)
    if proc.returncode not in (0, 130):
        raise RuntimeError(f"stampede train exited with {proc.returncode}; see {out_dir}/stampede.log")
    curve = read_metrics(os.path.join(run_dir, "metrics.csv"))
    import yaml

    with open(os.path.join(run_dir, "config.yaml")) as f:
        resolved = coerce_config(yaml.safe_load(f), parse_config_h(os.path.join(REPO, "rl", "config.h")))
    return {"command": cmd, "curve": curve, "process_wall_s": wall, "returncode": proc.returncode,
            "nonfinite_worlds": sum(row.pop("nonfinite_worlds") for row in curve),
            "load_average_before": load_before, "load_average_after": os.getloadavg(),
            "run_dir": run_dir}, resolved


# ---------------------------------------------------------------------------------------------
# run 2: rsl_rl on the Python module


def make_vec_env_class():
    import torch
    from rsl_rl.env import VecEnv
    from tensordict import TensorDict

    class StampedeVecEnv(VecEnv):
        """stampede's gymnasium-style VecEnv behind rsl_rl's VecEnv (CPU tensors).

        dones = terminated | truncated; extras["time_outs"] = truncated & ~terminated, which rsl_rl
        bootstraps. Non-finite observations/rewards are zeroed and their episode ends as a fall,
        as our runner does. Episode returns are summed here the way our runner sums them."""

        def __init__(self, env):
            self.env = env
            self.num_envs = env.num_envs
            self.num_actions = env.act_dim
            self.max_episode_length = env.max_episode_steps
            self.device = "cpu"
            self.cfg = {"task": env.task, "num_envs": env.num_envs, "device": env.device}
            self.episode_length_buf = torch.zeros(self.num_envs, dtype=torch.long)
            self.nonfinite_worlds = 0
            self.finished_episodes = 0
            self.ep_return = np.zeros(self.num_envs)
            self.ep_length = np.zeros(self.num_envs, dtype=np.int64)
            self.recent_returns = deque(maxlen=100)
            self.recent_lengths = deque(maxlen=100)
            obs, _ = env.reset()
            self.nonfinite_worlds += int(self._contain(obs, None, None, None, None).sum())
            self.obs = TensorDict({"policy": torch.from_numpy(obs)}, batch_size=[self.num_envs])

        @staticmethod
        def _contain(obs, reward, terminated, truncated, final_obs):
            bad = ~np.isfinite(obs).all(axis=1)
            obs[~np.isfinite(obs)] = 0.0
            if reward is not None:
                bad |= ~np.isfinite(reward)
                reward[~np.isfinite(reward)] = 0.0
                cut = truncated & ~terminated
                fin = cut & ~np.isfinite(final_obs).all(axis=1)
                bad |= fin
                terminated |= bad
            return bad

        def get_observations(self):
            return self.obs

        def step(self, actions):
            a = np.ascontiguousarray(actions.detach().to("cpu", torch.float32).numpy())
            obs, reward, terminated, truncated, info = self.env.step(a)
            self.nonfinite_worlds += int(self._contain(obs, reward, terminated, truncated, info["final_obs"]).sum())
            done = terminated | truncated
            # episode bookkeeping on the env's own rewards
            self.ep_return += reward
            self.ep_length += 1
            for i in np.flatnonzero(done):
                self.recent_returns.append(float(self.ep_return[i]))
                self.recent_lengths.append(int(self.ep_length[i]))
            self.finished_episodes += int(done.sum())
            self.ep_return[done] = 0.0
            self.ep_length[done] = 0
            self.episode_length_buf = torch.from_numpy(self.ep_length)
            self.obs = TensorDict({"policy": torch.from_numpy(obs)}, batch_size=[self.num_envs])
            extras = {"time_outs": torch.from_numpy(truncated & ~terminated).to(torch.float32)}
            return self.obs, torch.from_numpy(reward), torch.from_numpy(done).to(torch.long), extras

        def mean_return(self):
            return float(np.mean(self.recent_returns)) if self.recent_returns else math.nan

        def mean_length(self):
            return float(np.mean(self.recent_lengths)) if self.recent_lengths else math.nan

    return StampedeVecEnv


def run_rsl_rl(args, cfg, train_cfg, out_dir):
    import torch
    import stampede
    from rsl_rl.runners import OnPolicyRunner

    r, a = cfg["runner"], cfg["algorithm"]
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    log_dir = os.path.join(out_dir, "rsl_rl")
    os.makedirs(log_dir, exist_ok=True)
    raw = stampede.make_env(args.task, num_envs=r["num_envs"], device="cpu", seed=args.seed)
    env = make_vec_env_class()(raw)
    # log_dir None: no TensorBoard writer, no per-iteration console block, no model saves (ours
    # writes metrics.csv and TensorBoard events, a few ms per iteration)
    build_log = io.StringIO()
    with contextlib.redirect_stdout(build_log):
        runner = OnPolicyRunner(env, json.loads(json.dumps(train_cfg)), log_dir=None, device="cpu")
    for group in runner.alg.optimizer.param_groups:
        group["betas"] = (a["adam_beta1"], a["adam_beta2"])
        group["eps"] = a["adam_eps"]
    with open(os.path.join(log_dir, "models.txt"), "w") as f:
        f.write(build_log.getvalue())
    print(f"rsl_rl: {r['num_envs']} envs x {train_cfg['num_steps_per_env']} steps per iteration, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)

    load_before = os.getloadavg()
    samples_per_iteration = env.num_envs * train_cfg["num_steps_per_env"]
    curve = []
    interrupted = False
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < args.minutes * 60:
            runner.learn(num_learning_iterations=1)  # one rollout + update, as rsl_rl runs them
            it = len(curve) + 1
            curve.append({"iteration": it, "samples": it * samples_per_iteration,
                          "wall_time": time.monotonic() - t0, "mean_return": env.mean_return(),
                          "mean_length": env.mean_length(),
                          "action_std": float(runner.alg.get_policy().output_std.detach().mean()),
                          "learning_rate": float(runner.alg.learning_rate)})
            runner.current_learning_iteration = it
    except KeyboardInterrupt:
        interrupted = True
    wall = time.monotonic() - t0
    runner.save(os.path.join(log_dir, f"model_{len(curve)}.pt"))
    raw.close()
    return {"curve": curve, "process_wall_s": wall, "interrupted": interrupted,
            "nonfinite_worlds": env.nonfinite_worlds, "finished_episodes": env.finished_episodes,
            "load_average_before": load_before, "load_average_after": os.getloadavg(),
            "run_dir": log_dir, "torch_threads": torch.get_num_threads()}


# ---------------------------------------------------------------------------------------------
# summary, JSON, plot, table


def machine_info(args):
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass

    def version(dist):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None

    try:
        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                                    capture_output=True, text=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = None, None
    return {"cpu_model": model, "cpus": os.cpu_count(),
            "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "threads": args.threads, "python": platform.python_version(), "torch": version("torch"),
            "rsl_rl_lib": version("rsl-rl-lib"), "tensordict": version("tensordict"), "numpy": np.__version__,
            "stampede_commit": commit, "stampede_tree_dirty": dirty}


def last_at(curve, key, limit):
    """The last row of curve with row[key] <= limit (None when there is none)."""
    rows = [row for row in curve if row[key] <= limit]
    return rows[-1] if rows else None


def summarize(curve):
    if not curve:
        return None
    last = curve[-1]
    return {"iterations": last["iteration"], "samples": last["samples"], "wall_time_s": last["wall_time"],
            "samples_per_s": last["samples"] / last["wall_time"] if last["wall_time"] > 0 else None,
            "final_mean_return": last["mean_return"], "final_mean_length": last["mean_length"],
            "best_mean_return": max((r["mean_return"] for r in curve if not math.isnan(r["mean_return"])),
                                    default=math.nan),
            "final_action_std": last["action_std"]}


def common_budget(curves):
    """Each run's mean return at the largest sample count and wall-clock both reached."""
    if any(not c for c in curves.values()):
        return {}
    samples = min(c[-1]["samples"] for c in curves.values())
    wall = min(c[-1]["wall_time"] for c in curves.values())
    out = {"samples": samples, "wall_time_s": wall, "return_at_samples": {}, "return_at_wall_time": {}}
    for name, c in curves.items():
        row = last_at(c, "samples", samples)
        out["return_at_samples"][name] = row["mean_return"] if row else None
        row = last_at(c, "wall_time", wall)
        out["return_at_wall_time"][name] = row["mean_return"] if row else None
    return out


def json_clean(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: json_clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_clean(v) for v in x]
    return x


def plot(path, curves, title):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("rsl_rl_compare.py: matplotlib is not installed; no plot", file=sys.stderr)
        return False
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    colors = {"stampede": "tab:blue", "rsl_rl": "tab:orange"}
    for name, c in curves.items():
        if not c:
            continue
        ret = [r["mean_return"] for r in c]
        axes[0].plot([r["samples"] / 1e6 for r in c], ret, label=name, color=colors.get(name))
        axes[1].plot([r["wall_time"] / 60 for r in c], ret, label=name, color=colors.get(name))
    axes[0].set_xlabel("samples (millions)")
    axes[1].set_xlabel("training wall-clock (minutes)")
    for ax in axes:
        ax.set_ylabel("mean return (last 100 episodes)")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def fmt(v, spec):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return format(v, spec)


def print_table(summary, common):
    names = [n for n in ("stampede", "rsl_rl") if summary.get(n)]
    rows = [("iterations", "iterations", "d"), ("samples", "samples", ","), ("wall-clock (min)", "wall_time_s", "m"),
            ("samples/s", "samples_per_s", ",.0f"), ("final mean return", "final_mean_return", ".3f"),
            ("final mean episode length", "final_mean_length", ".1f"),
            ("best mean return", "best_mean_return", ".3f"), ("final action std", "final_action_std", ".3f")]
    print()
    print(f"{'':34}" + "".join(f"{n:>14}" for n in names))
    for label, key, spec in rows:
        cells = []
        for n in names:
            v = summary[n][key]
            cells.append(fmt(v / 60, ".2f") if spec == "m" else fmt(v, spec))
        print(f"{label:34}" + "".join(f"{c:>14}" for c in cells))
    if common:
        print(f"{'return at ' + format(common['samples'], ',') + ' samples':34}" +
              "".join(f"{fmt(common['return_at_samples'][n], '.3f'):>14}" for n in names))
        print(f"{'return at ' + format(common['wall_time_s'] / 60, '.2f') + ' min':34}" +
              "".join(f"{fmt(common['return_at_wall_time'][n], '.3f'):>14}" for n in names))


# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="h1-walk")
    ap.add_argument("--minutes", type=float, required=True, help="training wall-clock of each run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--out", required=True, help="output folder")
    ap.add_argument("--num-envs", type=int, default=0, help="default: the config's runner.num_envs")
    ap.add_argument("--threads", type=int, default=2,
                    help="learner threads: ours runner.num_threads, rsl_rl torch.set_num_threads (default 2)")
    ap.add_argument("--stampede-bin", default=os.path.join(REPO, "build", "stampede"))
    ap.add_argument("--stampede-python", default=os.path.join(REPO, "build", "python"),
                    help="folder holding the stampede Python package (added to sys.path)")
    ap.add_argument("--only", choices=("stampede", "rsl_rl"), help="run one side only (debugging)")
    ap.add_argument("--overwrite", action="store_true", help="replace OUT/stampede and OUT/rsl_rl")
    args = ap.parse_args()
    if args.minutes <= 0 or args.threads < 1 or args.num_envs < 0:
        ap.error("--minutes must be > 0, --threads >= 1, --num-envs >= 0")
    out_dir = os.path.abspath(args.out)
    args.stampede_bin = os.path.abspath(args.stampede_bin)
    os.makedirs(out_dir, exist_ok=True)
    for sub in ("stampede", "rsl_rl"):
        path = os.path.join(out_dir, sub)
        if os.path.exists(path):
            if not args.overwrite:
                ap.error(f"{path} exists (another -o, or --overwrite)")
            shutil.rmtree(path)

    # check everything the second run needs before the first one spends its minutes
    if args.only != "stampede":
        missing = [m for m in ("torch", "rsl_rl", "tensordict") if importlib.util.find_spec(m) is None]
        if missing:
            sys.exit(f"rsl_rl_compare.py: missing {', '.join(missing)} "
                     f"(pip install -r benchmarks/requirements-rsl-rl.txt)")
        if os.path.isdir(args.stampede_python):
            sys.path.insert(0, os.path.abspath(args.stampede_python))
        try:
            import stampede  # noqa: F401
        except ImportError as e:
            sys.exit(f"rsl_rl_compare.py: cannot import stampede ({e}); build with the Python module "
                     f"or pass --stampede-python")
    if args.only != "rsl_rl" and not os.access(args.stampede_bin, os.X_OK):
        sys.exit(f"rsl_rl_compare.py: {args.stampede_bin} is not an executable (build it or pass --stampede-bin)")

    expected, preset = expected_config(args.task, args)
    runs = {}
    cfg = expected
    if args.only != "rsl_rl":
        runs["stampede"], cfg = run_stampede(args, out_dir)
    check = config_differences(cfg, expected)
    if check:
        print("warning: the run's config.yaml differs from preset + rl/config.h defaults:\n  " + "\n  ".join(check),
              file=sys.stderr)
    train_cfg, mapping = map_config(cfg)
    if args.only != "stampede":
        runs["rsl_rl"] = run_rsl_rl(args, cfg, train_cfg, out_dir)

    curves = {name: run["curve"] for name, run in runs.items()}
    summary = {name: summarize(c) for name, c in curves.items()}
    common = common_budget(curves) if len(curves) == 2 else {}
    machine = machine_info(args)
    result = {
        "command": sys.argv,
        "task": args.task, "minutes": args.minutes, "seed": args.seed, "threads": args.threads,
        "num_envs": cfg["runner"]["num_envs"],
        "machine": machine,
        "config": {"stampede_resolved": cfg, "preset": preset, "check_against_preset_and_defaults": check,
                   "rsl_rl_train_cfg": train_cfg, "mapping": mapping},
        "return_definition": "mean over the last 100 finished episodes of the undiscounted sum of the env's "
                             "per-step rewards (before time-out bootstrapping), counted at every "
                             "terminated|truncated; the same env and reward scale in both runs. rsl_rl's own "
                             "Logger 'Mean reward' is the same definition.",
        "wall_time_definition": "stampede: metrics.csv wall_time, the sum of iteration times (rollout + update; "
                                "metrics/TensorBoard writes excluded); rsl_rl: time since the first iteration "
                                "started, measured around OnPolicyRunner.learn(1) calls. Both exclude process "
                                "start, imports and env construction.",
        "summary": summary, "common_budget": common, "runs": runs,
    }
    json_path = os.path.join(out_dir, "rsl_rl_compare.json")
    with open(json_path, "w") as f:
        json.dump(json_clean(result), f, indent=1)
    title = (f"{args.task}, seed {args.seed}, {cfg['runner']['num_envs']} envs, {args.minutes:g} min each, "
             f"{args.threads} learner threads, {machine['cpu_model']} ({machine['cpus']} CPUs); "
             f"torch {machine['torch']}, rsl-rl-lib {machine['rsl_rl_lib']}")
    png_path = os.path.join(out_dir, "rsl_rl_compare.png")
    plotted = plot(png_path, curves, title)
    print_table(summary, common)
    print(f"\n{json_path}" + (f"\n{png_path}" if plotted else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
