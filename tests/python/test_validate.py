"""`stampede validate`: its exit status (0 within tolerance, 1 outside, 2 unsupported features,
3 a backend that cannot run here), its JSON, and its table, on the project robots and on
MuJoCo's sample humanoid100 (ellipsoids and cylinders: refused by name). The binary is found
next to the in-tree module (build/stampede for build/python) or through $STAMPEDE_BIN.

Run: PYTHONPATH=build/python python3 -m pytest -q tests/python/test_validate.py
"""

import json
import os
import subprocess

import pytest


ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
H1 = os.path.join(ROOT, "assets", "h1", "h1.xml")
HUMANOID = os.path.join(ROOT, "assets", "humanoid", "humanoid.xml")
HUMANOID100 = "/usr/share/mujoco/model/humanoid100/humanoid100.xml"  # Debian's libmujoco-samples

STAGES = ["kinematics", "inertia", "smooth forces", "contacts", "constraints", "acceleration", "trajectory"]


def validate(binary, *args):
    return subprocess.run([binary, "validate", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("model", [H1, HUMANOID])
def test_project_robots_agree_with_mujoco(binary, model):
    r = validate(binary, model, "--worlds", "6", "--steps", "50", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["ok"] is True and out["backend"] == "cpu" and out["precision"] == "double"
    assert [s["stage"] for s in out["stages"]] == STAGES
    for s in out["stages"]:
        assert s["ok"] and s["max_error"] <= s["tolerance"], s
    assert out["contacts"] > 0  # the random states touch the floor: the contact path was compared


def test_float_build_within_its_tolerances_and_the_table(binary):
    r = validate(binary, H1, "--worlds", "4", "--steps", "20", "--precision", "float")
    assert r.returncode == 0, r.stdout + r.stderr
    for stage in STAGES:
        assert stage in r.stdout
    assert r.stdout.rstrip().endswith("PASS")


def test_outside_tolerance_exits_1(binary):
    # float rounding is far above a tolerance scaled down to 1e-12 of the float one
    r = validate(binary, H1, "--worlds", "2", "--steps", "10", "--precision", "float", "--tol-scale", "1e-12", "--json")
    assert r.returncode == 1, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["ok"] is False and any(not s["ok"] for s in out["stages"])
    table = validate(binary, H1, "--worlds", "2", "--steps", "10", "--precision", "float", "--tol-scale", "1e-12")
    assert table.returncode == 1 and "FAIL" in table.stdout


@pytest.mark.skipif(not os.path.exists(HUMANOID100), reason="libmujoco-samples is not installed")
def test_unsupported_features_exit_2_naming_them(binary):
    r = validate(binary, HUMANOID100, "--json")
    assert r.returncode == 2, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["ok"] is False
    text = " ".join(out["unsupported"])
    assert "ellipsoid" in text or "cylinder" in text, text
    table = validate(binary, HUMANOID100)
    assert table.returncode == 2 and "does not simulate" in table.stdout
    # the table groups ids per kind of feature: one line for the 20 ellipsoids
    assert "ellipsoid geom #48-#67 (20)" in table.stdout, table.stdout


def test_cuda_backend_runs_or_says_why(binary):
    r = validate(binary, H1, "--worlds", "4", "--steps", "20", "--backend", "cuda", "--json")
    if r.returncode == 3:  # no device here, or a build without CUDA
        assert "--backend cuda" in r.stderr and ("no CUDA device" in r.stderr or "no CUDA backend" in r.stderr), r.stderr
    else:  # a machine with a GPU: the same comparison, through the device
        assert r.returncode == 0, r.stdout + r.stderr
        out = json.loads(r.stdout)
        assert out["backend"] == "cuda" and out["ok"] is True


def test_bad_arguments(binary):
    r = validate(binary, H1, "--backend", "tpu")
    assert r.returncode == 1 and "--backend must be cpu or cuda" in r.stderr
    r = validate(binary, H1, "--tol-scale", "0")
    assert r.returncode == 1 and "--tol-scale" in r.stderr
    r = validate(binary)
    assert r.returncode == 1 and "no MODEL.xml" in r.stderr
    r = validate(binary, "/nonexistent/robot.xml")
    assert r.returncode != 0 and "robot.xml" in r.stderr
