"""`stampede bench physics`: the JSON it prints, that both engines ran the same workload, and
its errors. The binary is found next to the in-tree module (build/stampede for build/python) or
through $STAMPEDE_BIN.

Run: PYTHONPATH=build/python python3 -m pytest -q tests/python/test_sim_bench.py
"""

import json
import os
import subprocess

import pytest


ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HUMANOID = os.path.join(ROOT, "assets", "humanoid", "humanoid.xml")


def run(binary, *args):
    return subprocess.run([binary, "bench", *args], capture_output=True, text=True, timeout=300)


def test_bench_physics_json(binary):
    r = run(binary, "physics", HUMANOID, "--worlds", "4", "--threads", "1", "--steps", "40", "--dtype", "float64", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for key in ["steps_per_s", "mujoco_steps_per_s", "ratio", "worlds", "threads", "backend", "dtype", "mean_ncon"]:
        assert key in out
    assert out["worlds"] == 4 and out["threads"] == 1 and out["backend"] == "cpu" and out["dtype"] == "float64"
    assert out["steps_per_s"] > 0 and out["mujoco_steps_per_s"] > 0
    assert out["ratio"] == pytest.approx(out["steps_per_s"] / out["mujoco_steps_per_s"], rel=1e-3)
    # in float64 both engines follow the same trajectories, so they see the same contacts
    assert out["mean_ncon"] > 0
    assert out["mean_ncon"] == pytest.approx(out["mujoco_mean_ncon"], rel=0.05)


def test_bench_errors(binary):
    r = run(binary, "physics", "/nonexistent.xml")
    assert r.returncode == 1 and "no such MJCF file" in r.stderr
    r = run(binary, "physics", HUMANOID, "--worlds", "zero")
    assert r.returncode == 1 and "--worlds" in r.stderr
    r = run(binary, "physics", HUMANOID, "--backend", "mujoco", "--dtype", "float32")
    assert r.returncode == 1 and "float64 only" in r.stderr
    r = run(binary, "nonsense")
    assert r.returncode == 2 and "unknown benchmark" in r.stderr
