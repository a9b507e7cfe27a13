#!/usr/bin/env bash
# scripts/gpu_checks.sh — every check that needs a GPU, as one prepared run for a lent device
# (a session has about 15 minutes of device time in all; this takes about 10 plus the walk):
#   1. the GPU cases of the tests: the CUDA backend against the CPU one, the device arrays of
#      stampede.sim, the device env, the CUDA learner against its host instantiation,
#      `stampede train --device cuda`, the NCCL communicator;
#   2. `stampede validate --backend cuda` on H1 and MuJoCo's humanoid (float64);
#   3. whole-step throughput on MuJoCo's humanoid at 8192 worlds (its own dt 0.005) with its
#      default solver settings and with an RL setting (4 Newton iterations), float32;
#   4. env steps/s on cuda against world count (bench_env --device cuda);
#   5. the CUDA learner's samples/s (bench_learner --device cuda);
#   6. time-to-walk on the GPU: `stampede bench walk --device cuda` for WALK_MINUTES.
# It builds nothing. Either a CUDA build of this tree in $BUILD (configure with
# -DSTAMPEDE_WITH_CUDA=ON; an H200 runs the sm_90 code every build has), or, on the device
# machine, which lacks the Debian libraries, the bundle that scripts/gpu_bundle.sh made here
# (carry [".gpu"]): BUNDLE=.gpu/bundle.tar.xz. A failing step does not stop the others; the
# exit code is the number of failed steps. Each step's output goes to $RESULTS/<step>.log;
# where the device tool's $OUT is set, the logs come back packed in $OUT/gpu-results.tar.gz
# (the tool returns 8 files at most).
#
# ONLY="glob ..." runs the steps whose names match (test_*, validate_*, physics_*, env_cuda,
# learner_cuda, walk_cuda). One device command may run 10 minutes, so a lease takes two:
#
#   BUILD=build RESULTS=gpu-results WALK_MINUTES=5 bash scripts/gpu_checks.sh
#   BUNDLE=.gpu/bundle.tar.xz ONLY="test_* validate_* physics_* env_cuda learner_cuda" bash scripts/gpu_checks.sh
#   BUNDLE=.gpu/bundle.tar.xz ONLY=walk_cuda WALK_MINUTES=6 bash scripts/gpu_checks.sh
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RESULTS=${RESULTS:-gpu-results}
WALK_MINUTES=${WALK_MINUTES:-5}
SAMPLES=${MUJOCO_SAMPLES_DIR:-/usr/share/mujoco/model}
mkdir -p "$RESULTS"
failed=0

if [ -n "${BUNDLE:-}" ]; then
  # the binaries were built in another checkout: put its paths (the source folder, the build
  # folder, MuJoCo's samples) where they expect them, and their libraries on the search path
  unpacked=$(mktemp -d)
  tar -C "$unpacked" -xJf "$BUNDLE"
  # shellcheck disable=SC1091
  . "$unpacked/paths.env"
  # (links an earlier call left are replaced: each call brings a fresh copy of the tree)
  if [ "$(realpath -m "$BUNDLE_SOURCE_DIR")" != "$PWD" ]; then
    if [ -e "$BUNDLE_SOURCE_DIR" ] && [ ! -L "$BUNDLE_SOURCE_DIR" ]; then
      echo "gpu_checks: $BUNDLE_SOURCE_DIR exists and is not this checkout" >&2
      exit 99
    fi
    mkdir -p "$(dirname "$BUNDLE_SOURCE_DIR")" && ln -sfn "$PWD" "$BUNDLE_SOURCE_DIR"
  fi
  if [ -e "$BUNDLE_BUILD" ] && [ ! -L "$BUNDLE_BUILD" ]; then
    echo "gpu_checks: ./$BUNDLE_BUILD exists and is not the bundle's" >&2
    exit 99
  fi
  ln -sfn "$unpacked/$BUNDLE_BUILD" "$BUNDLE_BUILD"
  if [ ! -e "$BUNDLE_SAMPLES_DIR/humanoid/humanoid.xml" ]; then
    rmdir "$BUNDLE_SAMPLES_DIR" 2>/dev/null || true  # an empty folder in the way
    mkdir -p "$(dirname "$BUNDLE_SAMPLES_DIR")" && ln -sfn "$unpacked/models" "$BUNDLE_SAMPLES_DIR"
  fi
  BUILD=$BUNDLE_BUILD
  SAMPLES=$BUNDLE_SAMPLES_DIR
  # cuBLAS and NCCL come from the machine: its CUDA toolkit or its Python's nvidia wheels
  cuda_dirs=$(find /usr/local /usr/lib /opt -name 'libcublasLt.so.13' -o -name 'libcublas.so.13' \
    -o -name 'libnccl.so.2' 2>/dev/null | xargs -r -n1 dirname | sort -u | paste -sd:)
  export LD_LIBRARY_PATH="$unpacked/lib${cuda_dirs:+:$cuda_dirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "bundle: $BUNDLE in $unpacked; CUDA libraries from ${cuda_dirs:-nowhere found}"
  missing=$(ldd "$BUILD/stampede" | grep "not found" || true)
  [ -z "$missing" ] || echo "gpu_checks: libraries missing: $missing" >&2
fi

step() {
  local name=$1
  shift
  if [ -n "${ONLY:-}" ]; then
    local pattern selected=0
    for pattern in $ONLY; do
      # shellcheck disable=SC2053
      [[ $name == $pattern ]] && selected=1
    done
    [ $selected -eq 1 ] || return 0
  fi
  echo "== ${name}: $*"
  local t0=$SECONDS
  "$@" >"$RESULTS/${name}.log" 2>&1
  local rc=$?
  echo "   exit ${rc} after $((SECONDS - t0)) s"
  tail -n 6 "$RESULTS/${name}.log" | sed 's/^/   | /'
  [ $rc -eq 0 ] || failed=$((failed + 1))
}

nvidia-smi -L >"$RESULTS/gpu.txt" 2>&1 || echo "nvidia-smi not found" >"$RESULTS/gpu.txt"
cat "$RESULTS/gpu.txt"

# the test cases with a GPU branch (Catch2 filters); the rest of each binary runs in CI
gpu_test() {
  local name=$1
  shift
  step "test_${name}" "$(find "$BUILD/tests" -name "$name" -type f | head -n 1)" "$@"
}
gpu_test test_gpu_sim_api
gpu_test kernels_test_gpu_smooth
gpu_test kernels_test_backend "make_backend names its errors"
gpu_test test_device_env "*the GPU env*"
gpu_test rl_test_device_learner "[gpu]"
gpu_test rl_test_train_cli "train and play refuse*"
gpu_test rl_dist_test_communicator "[nccl]"
step validate_h1 "$BUILD/stampede" validate assets/h1/h1.xml --backend cuda --worlds 64 --steps 200
step validate_humanoid "$BUILD/stampede" validate "$SAMPLES/humanoid/humanoid.xml" --backend cuda --worlds 64 --steps 200

# the humanoid with an RL solver setting: the same model, 4 Newton iterations
rl_xml="$RESULTS/humanoid_rl.xml"
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
step walk_cuda "$BUILD/stampede" bench walk --device cuda -o "$RESULTS/walk" --max-minutes "$WALK_MINUTES" \
  --eval-every-minutes 1 --no-plot

echo "gpu_checks: ${failed} step(s) failed; logs in ${RESULTS}/"
if [ -n "${OUT:-}" ] && [ -d "$OUT" ]; then tar -C "$RESULTS" -czf "$OUT/gpu-results.tar.gz" .; fi
exit "$failed"
