#!/usr/bin/env bash
# scripts/sanitize.sh — AddressSanitizer + UndefinedBehaviorSanitizer run of a named subset of the
# test suite: one or more tests per library (robot description, MuJoCo reference backend, kernels,
# rl, runtime, tasks, and the fuzz regressions), chosen to cover each library's code paths while
# staying at a few minutes on 2 cores. gcc, -O1 -g, assertions on, CUDA and Python off, its own
# build dir. Exits non-zero on any failing test or any sanitizer report (UBSan halts on the
# first error; ASan, leaks included, uses its defaults).
#
#   SANITIZE_BUILD_DIR  build dir (default: build-asan)
#   SANITIZE_TESTS      override the test list (space-separated ctest names)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${SANITIZE_BUILD_DIR:-build-asan}
JOBS=${JOBS:-$(nproc)}

# library -> tests (shell globs over ctest names), a few per library, picked for the code they
# reach: robot (parser, contract, SHA-256, robot<->MJCF check); the MuJoCo reference backend;
# sim (MJCF compile, when its tests land); kernels: the whole forward pass, the CPU backend
# (thread pool, arena), the collision driver and the constraint pipeline (make + Newton
# solver); rl: networks and backprop, rollout storage and GAE, HDF5 checkpoints, the CUDA learner's code on the host; the runtime core (ONNX reader, evaluator, policy, observation,
# safety); the task's per-world functions and config, the device-shaped env on the host; the fuzz regressions. Slow end-to-end tests
# (learning runs, the 5 s PD standing test, CLI training) and per-stage kernel tests the forward
# test already runs are left to the normal suite: together they would triple the ASan build.
TESTS_ROBOT="test_robot test_robot_contract test_robot_sha256 test_robot_check"
TESTS_SIM_REF="test_mujoco_backend"
TESTS_SIM="sim_compile_test_compile"
TESTS_KERNELS="kernels_test_backend kernels_test_constraint_pipeline"
TESTS_RL="rl_test_gradients rl_test_gemm rl_test_storage rl_test_checkpoint rl_test_device_learner"
TESTS_RUNTIME="test_runtime_onnx_model test_runtime_evaluator test_runtime_observation test_runtime_policy test_runtime_safety"
TESTS_TASKS="test_task_config test_locomotion_kernels test_device_env"
TESTS_FUZZ="test_fuzz_regressions"
EXCLUDE="*_gpu_*"
WANTED=${SANITIZE_TESTS:-"$TESTS_ROBOT $TESTS_SIM_REF $TESTS_SIM $TESTS_KERNELS $TESTS_RL $TESTS_RUNTIME $TESTS_TASKS $TESTS_FUZZ"}

SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
echo "== sanitize: configure ($BUILD: gcc, $SAN) =="
# a new build folder uses Ninja (scripts/test.sh says why); an existing one keeps its generator
generator=()
if [ ! -f "$BUILD/CMakeCache.txt" ] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
cmake -S . -B "$BUILD" "${generator[@]}" -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
  -DCMAKE_C_FLAGS="-O1 $SAN" -DCMAKE_CXX_FLAGS="-O1 $SAN -D_GLIBCXX_ASSERTIONS" \
  -DCMAKE_EXE_LINKER_FLAGS="$SAN" -DCMAKE_SHARED_LINKER_FLAGS="$SAN" \
  -DSTAMPEDE_WITH_CUDA=OFF -DSTAMPEDE_BUILD_PYTHON=OFF -DSTAMPEDE_BUILD_TESTS=ON >/dev/null

# the wanted tests this tree defines (a library not written yet has no tests to run); the
# patterns match test names, never files: no pathname expansion while matching
set -f
defined=$(ctest --test-dir "$BUILD" -N | sed -n 's/^ *Test *#[0-9]*: //p')
excluded() {
  local x
  for x in $EXCLUDE; do [[ $1 == $x ]] && return 0; done
  return 1
}
run=()
missing=()
for w in $WANTED; do
  found=0
  for t in $defined; do
    # shellcheck disable=SC2053  # $w is a glob on purpose
    if [[ $t == $w ]] && ! excluded "$t" && [[ " ${run[*]} " != *" $t "* ]]; then run+=("$t"); found=1; fi
  done
  [ $found -eq 1 ] || missing+=("$w")
done
if [ ${#run[@]} -eq 0 ]; then
  echo "sanitize: none of the named tests is defined in this tree" >&2
  exit 1
fi
set +f
if [ ${#missing[@]} -gt 0 ]; then echo "sanitize: not in this tree (skipped): ${missing[*]}"; fi

echo "== sanitize: build ${#run[@]} tests: ${run[*]} =="
targets=()
for t in "${run[@]}"; do targets+=("--target" "$t"); done
cmake --build "$BUILD" -j"$JOBS" "${targets[@]}"

echo "== sanitize: run =="
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
regex="^($(IFS='|'; echo "${run[*]}"))\$"
status=0
ctest --test-dir "$BUILD" --output-on-failure -j"$JOBS" -R "$regex" || status=1
# a report the test process survived (a recoverable ASan option, a report in a child) fails too
if grep -lE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$BUILD"/Testing/Temporary/LastTest*.log >/dev/null 2>&1; then
  echo "sanitize: sanitizer reports found in the test log" >&2
  status=1
fi
if [ $status -ne 0 ]; then echo "sanitize: FAILED"; else echo "sanitize: ${#run[@]} tests clean under ASan+UBSan"; fi
exit $status
