#!/usr/bin/env python3
"""Plot a `stampede bench walk` folder: DIR/walk.json, DIR/evals.csv, DIR/run/metrics.csv -> DIR/walk.png.

    python3 scripts/plot_walk.py DIR [-o OUT.png]

Three rows (return, forward-velocity error, survival) against two x axes (training wall-clock
minutes, samples). Training curves come from the run's metrics.csv (one point per iteration);
evaluation points (deterministic policy, forward command) from evals.csv; the walking thresholds
are dashed lines. Needs matplotlib (scripts/install.sh installs it).
"""
import argparse
import csv
import json
import math
import os
import sys


def read_csv(path):
    if not os.path.isfile(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def column(rows, name, scale=1.0):
    out = []
    for r in rows:
        v = r.get(name, "")
        try:
            out.append(float(v) * scale if v not in ("", None) else math.nan)
        except ValueError:
            out.append(math.nan)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", help="the -o folder of stampede bench walk")
    ap.add_argument("-o", "--out", help="image path (default DIR/walk.png)")
    args = ap.parse_args()
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot_walk.py: matplotlib is not installed (pip install matplotlib, or scripts/install.sh)",
              file=sys.stderr)
        return 2

    with open(os.path.join(args.dir, "walk.json")) as f:
        walk = json.load(f)
    crit = walk["criteria"]
    run = walk.get("run") or os.path.join(args.dir, "run")
    train = read_csv(os.path.join(run, "metrics.csv"))
    evals = read_csv(os.path.join(args.dir, "evals.csv"))
    limit = float(crit["episode_steps"])

    t_min = column(train, "wall_time", 1 / 60)
    t_samples = column(train, "samples")
    t_return = column(train, "mean_reward")
    t_survival = [x / limit for x in column(train, "mean_episode_length")]
    e_min = column(evals, "minutes")
    e_samples = column(evals, "samples")

    fig, axes = plt.subplots(3, 2, figsize=(11, 9), sharex="col")
    rows = [
        ("return", t_return, column(evals, "episode_return"), None,
         "training (last 100 episodes)", "evaluation episode"),
        ("|v_x - command| (m/s)", None, column(evals, "vx_error"), (crit["max_vx_error"], "walks below"),
         None, "evaluation"),
        ("episode length / limit", t_survival, column(evals, "survival"), (crit["min_survival"], "walks above"),
         "training (random commands, DR)", "evaluation"),
    ]
    for c, (x_train, x_eval, xlabel) in enumerate(
        [(t_min, e_min, "training wall-clock (min)"), (t_samples, e_samples, "samples")]
    ):
        for r, (label, y_train, y_eval, threshold, train_label, eval_label) in enumerate(rows):
            ax = axes[r][c]
            if y_train is not None and train:
                ax.plot(x_train, y_train, lw=1, color="tab:blue", label=train_label)
            if evals:
                ax.plot(x_eval, y_eval, "o-", color="tab:orange", label=eval_label)
            if threshold is not None:
                ax.axhline(threshold[0], ls="--", color="tab:green", label=f"{threshold[1]} {threshold[0]:g}")
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
            if c == 0:
                ax.legend(fontsize=7, loc="best")
        axes[2][c].set_xlabel(xlabel)

    verdict = "walks" if walk["walked"] else "does not walk"
    minutes = walk.get("minutes")
    fig.suptitle(
        f"{walk['task']} on {walk['backend']} physics, {walk['num_envs']} envs, {walk['threads']} threads, "
        f"seed {walk['seed']}: {verdict}"
        + (f" at {minutes:.1f} min" if walk["walked"] and minutes is not None else "")
        + f" (command v_x {crit['command_vx']:g} m/s)",
        fontsize=10,
    )
    fig.tight_layout()
    out = args.out or os.path.join(args.dir, "walk.png")
    fig.savefig(out, dpi=100)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
