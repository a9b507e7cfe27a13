"""Exported policies checked from the outside: the ONNX checker, onnxruntime against our own
C++ evaluator and a numpy reference, the metadata contract, and stampede-deploy end to end.

Needs the C++ build (STAMPEDE_BUILD_DIR, default ./build): stampede_policy_tool writes random-weight
policies through rl/export and runs the runtime's evaluator; stampede-deploy runs the runtime on
MuJoCo.
"""
import hashlib
import json
import os
import pathlib
import re
import subprocess

import numpy as np
import pytest


def _onnx():
    return pytest.importorskip("onnx", reason="pip install onnx (scripts/install.sh)")


def _ort():
    return pytest.importorskip("onnxruntime", reason="pip install onnxruntime (scripts/install.sh)")


ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("STAMPEDE_BUILD_DIR", ROOT / "build"))
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD
TOOL = BUILD / "stampede_policy_tool"
DEPLOY = BUILD / "stampede-deploy"


def _need(binary):
    assert binary.exists(), f"{binary} is missing: build the C++ targets first (cmake --build {BUILD})"
    return str(binary)


def _random_policy(tmp_path, activation="elu", seed=1, hidden="512,256,128"):
    path = tmp_path / f"policy_{activation}_{seed}.onnx"
    params = tmp_path / f"params_{activation}_{seed}.json"
    subprocess.run([_need(TOOL), "random", "--robot", "h1", "--seed", str(seed), "--hidden", hidden,
                    "--activation", activation, "-o", str(path), "--params", str(params)], check=True)
    return path, json.loads(params.read_text())


def _numpy_forward(p, obs):
    """The ExportedPolicy's network in float64, from its parameters."""
    x = (obs.astype(np.float64) - np.asarray(p["obs_mean"], np.float64)) / np.sqrt(
        np.asarray(p["obs_var"], np.float64) + np.float64(np.float32(p["obs_eps"])))
    if p["obs_clip"] > 0:
        x = np.clip(x, -p["obs_clip"], p["obs_clip"])
    sizes = p["layer_sizes"]
    n = len(p["weights"])
    for layer in range(n):
        w = np.asarray(p["weights"][layer], np.float64).reshape(sizes[layer + 1], sizes[layer])
        x = x @ w.T + np.asarray(p["biases"][layer], np.float64)
        if layer + 1 < n:
            if p["activation"] == "elu":
                x = np.where(x > 0, x, np.expm1(x))
            elif p["activation"] == "tanh":
                x = np.tanh(x)
            else:
                x = np.maximum(x, 0)
    return x


def test_onnx_checker_accepts_the_exported_policy(tmp_path):
    onnx = _onnx()
    path, params = _random_policy(tmp_path)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)  # full_check runs shape inference too
    assert {o.domain: o.version for o in model.opset_import}[""] == 17
    (inp,), (out,) = model.graph.input, model.graph.output
    assert inp.name == "obs" and out.name == "actions"
    in_dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    out_dims = [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim]
    assert in_dims == ["batch", params["layer_sizes"][0]]
    assert out_dims == ["batch", params["layer_sizes"][-1]]
    assert [n.op_type for n in model.graph.node] == ["Sub", "Mul", "Clip", "Gemm", "Elu", "Gemm", "Elu", "Gemm", "Elu", "Gemm"]


def test_metadata_carries_the_contract_and_its_hash(tmp_path):
    onnx = _onnx()
    path, params = _random_policy(tmp_path)
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    contract = meta["stampede.contract"]
    assert meta["stampede.format"] == "stampede-policy-1"
    assert meta["stampede.contract_hash"] == hashlib.sha256(contract.encode()).hexdigest()
    assert meta["stampede.contract_hash"] == params["contract_hash"]
    fields = dict(line.split("=", 1) for line in contract.splitlines() if line)
    names = [fields[f"joints[{i}].name"] for i in range(int(fields["joints.count"]))]
    assert meta["contract.joint_names"] == ",".join(names)
    assert meta["contract.control.period"] == fields["control.period"]
    assert int(fields["observation.size"]) == params["layer_sizes"][0]
    assert meta["provenance.source"] == "random_policy"
    assert float(meta["task.gait_period"]) == 0.8


@pytest.mark.parametrize("activation", ["elu", "tanh", "relu"])
def test_our_evaluator_matches_onnxruntime_and_numpy(tmp_path, activation):
    ort = _ort()
    path, params = _random_policy(tmp_path, activation, seed=7)
    rng = np.random.default_rng(0)
    batch, obs_dim = 256, params["layer_sizes"][0]
    obs = rng.normal(0.0, 2.0, size=(batch, obs_dim)).astype(np.float32)  # some hit the +-5 clip
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (ort_out,) = sess.run(["actions"], {"obs": obs})
    obs.tofile(tmp_path / "obs.f32")
    subprocess.run([_need(TOOL), "eval", "--policy", str(path), "--in", str(tmp_path / "obs.f32"),
                    "--out", str(tmp_path / "act.f32"), "--batch", str(batch)], check=True)
    ours = np.fromfile(tmp_path / "act.f32", dtype=np.float32).reshape(batch, -1)
    ref = _numpy_forward(params, obs)
    assert ours.shape == ort_out.shape == ref.shape
    # float32 sums over 512 products in different orders: a few 1e-7 apart, 1e-5 is the budget
    np.testing.assert_allclose(ours, ort_out, rtol=0, atol=1e-5)
    np.testing.assert_allclose(ort_out, ref, rtol=0, atol=1e-5)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-5)
    assert np.abs(ours).max() > 0.1  # the comparison is not between near-zero outputs


def test_deploy_runs_a_random_policy_on_mujoco_for_two_seconds(tmp_path):
    path, _ = _random_policy(tmp_path, seed=1)
    report = tmp_path / "report.json"
    run = subprocess.run([_need(DEPLOY), "--policy", str(path), "--robot", "h1", "--io", "mujoco",
                          "--duration", "2", "--report-json", str(report)], capture_output=True, text=True)
    assert run.returncode in (0, 4), run.stderr
    r = json.loads(report.read_text())
    assert run.returncode == (4 if r["damping"] else 0)
    assert r["cycles"] == 100 and r["period_s"] == pytest.approx(0.02)
    assert r["sim_time_s"] == pytest.approx(2.0) and r["physics_steps"] == 400
    assert 0 < r["latency_s"]["p50"] <= r["latency_s"]["p99"] <= r["latency_s"]["max"]
    # a loaded machine may miss deadlines: each miss is counted, the first one logged (damping)
    assert (r["missed_deadlines"] > 0) == any(e["kind"] == "deadline_miss" for e in r["events"])
    assert r["damping"] == bool(r["events"])
    assert 0 < r["max_torque_ratio"] <= 1.0
    assert "cycle latency (read -> write): p50" in run.stdout and "safety events:" in run.stdout


def test_deploy_refuses_a_policy_for_another_contract(tmp_path):
    path, _ = _random_policy(tmp_path, seed=2, hidden="32")
    src = ROOT / "assets" / "h1" / "robot.yaml"
    text = src.read_text()
    text = text.replace("mjcf: h1.xml", f"mjcf: {src.parent / 'h1.xml'}")
    # the first joint's kd + 0.5 (joints are flow maps "  - {name: ..., kd: X, ...}")
    first = re.search(r"^\s*- \{name:.*?kd:\s*([0-9.eE+-]+)", text, re.M)
    assert first, "assets/h1/robot.yaml: no joint with kd found"
    kd = float(first.group(1))
    changed = text[:first.start(1)] + repr(kd + 0.5) + text[first.end(1):]
    robot = tmp_path / "robot.yaml"
    robot.write_text(changed)
    run = subprocess.run([_need(DEPLOY), "--policy", str(path), "--robot", str(robot), "--io", "mujoco",
                          "--duration", "0.1"], capture_output=True, text=True)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "refused" in run.stderr and f"joints[0].kd: {kd:g} vs {kd + 0.5:g}" in run.stderr
