#!/usr/bin/env bash
# scripts/gpu_checks.sh — every check that needs a GPU, as one prepared run for a lent device
# (a session has about 15 minutes of device time in all; this takes about 10 plus the walk):
#   1. the gpu-labelled tests: the CUDA backend against the CPU one, the device env, the CUDA
#      learner against its host instantiation, the device arrays of stampede.sim;
#   2. `stampede validate --backend cuda` on H1 and MuJoCo's humanoid (float64);
#   3. whole-step throughput on MuJoCo's humanoid at 8192 worlds (its own dt 0.005) with its
#      default solver settings and with an RL setting (4 Newton iterations), float32;
#   4. env steps/s on cuda against world count (bench_env --device cuda);
#   5. the CUDA learner's samples/s (bench_learner --device cuda);
#   6. time-to-walk on the GPU: `stampede bench walk --device cuda` for WALK_MINUTES.
# It builds nothing: it needs a CUDA build of this tree in $BUILD (configure with
# -DSTAMPEDE_WITH_CUDA=ON; an H200 runs the sm_90 code every build has). Each step's output
# goes to $OUT/<step>.log; a failing step does not stop the others; the exit code is the number
# of failed steps.
#
#   BUILD=build OUT=gpu-results WALK_MINUTES=5 bash scripts/gpu_checks.sh
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=${OUT:-gpu-results}
WALK_MINUTES=${WALK_MINUTES:-5}
SAMPLES=${MUJOCO_SAMPLES_DIR:-/usr/share/mujoco/model}
mkdir -p "$OUT"
failed=0

step() {
  local name=$1
  shift
  echo "== ${name}: $*"
  local t0=$SECONDS
  "$@" >"$OUT/${name}.log" 2>&1
  local rc=$?
  echo "   exit ${rc} after $((SECONDS - t0)) s"
  tail -n 6 "$OUT/${name}.log" | sed 's/^/   | /'
  [ $rc -eq 0 ] || failed=$((failed + 1))
}

nvidia-smi -L >"$OUT/gpu.txt" 2>&1 || echo "nvidia-smi not found" >"$OUT/gpu.txt"
cat "$OUT/gpu.txt"

step gpu_tests ctest --test-dir "$BUILD" -L gpu --output-on-failure
step validate_h1 "$BUILD/stampede" validate assets/h1/h1.xml --backend cuda --worlds 64 --steps 200
step validate_humanoid "$BUILD/stampede" validate "$SAMPLES/humanoid/humanoid.xml" --backend cuda --worlds 64 --steps 200

# the humanoid with an RL solver setting: the same model, 4 Newton iterations
rl_xml="$OUT/humanoid_rl.xml"
python3 - "$SAMPLES/humanoid/humanoid.xml" "$rl_xml" <<'PY'
import sys, xml.etree.ElementTree as ET
tree = ET.parse(sys.argv[1])
root = tree.getroot()
opt = root.find("option")
if opt is None:
    opt = ET.SubElement(root, "option")
opt.set("iterations", "4")
# includes and meshes resolve against the original folder
comp = root.find("compiler")
if comp is None:
    comp = ET.SubElement(root, "compiler")
import os
comp.set("meshdir", os.path.dirname(os.path.abspath(sys.argv[1])))
tree.write(sys.argv[2])
PY
step physics_humanoid_8192 "$BUILD/stampede" bench physics "$SAMPLES/humanoid/humanoid.xml" --backend cuda --worlds 8192 --steps 500 --json
step physics_humanoid_8192_rl "$BUILD/stampede" bench physics "$rl_xml" --backend cuda --worlds 8192 --steps 500 --json
step env_cuda "$BUILD/benchmarks/bench_env" --task h1-walk --device cuda --worlds 1024,4096,16384
step learner_cuda "$BUILD/benchmarks/bench_learner" --device cuda --num-envs 4096 --iterations 3
step walk_cuda "$BUILD/stampede" bench walk --device cuda -o "$OUT/walk" --max-minutes "$WALK_MINUTES" \
  --eval-every-minutes 1 --no-plot

echo "gpu_checks: ${failed} step(s) failed; logs in ${OUT}/"
exit "$failed"
