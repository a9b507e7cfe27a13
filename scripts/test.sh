#!/usr/bin/env bash
# Installs what is missing, builds everything (CUDA sources included when nvcc exists), and runs
# the whole test suite: ctest (Catch2), the CUDA resource check, and pytest for the Python module.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${STAMPEDE_BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}

bash scripts/install.sh
# a new build folder uses Ninja: it compiles a target's sources while the libraries it links are
# still building (Make waits for them), which on 2 cores saves a minute behind the long CUDA
# source. An existing folder keeps the generator it was made with
generator=()
if [ ! -f "$BUILD/CMakeCache.txt" ] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
cmake -S . -B "$BUILD" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DSTAMPEDE_PTXAS_REPORT=ON >/dev/null
# the build log keeps ptxas's resource report for the CUDA budget check below
cmake --build "$BUILD" -j"$JOBS" 2>&1 | tee "$BUILD/build.log"

status=0
failed=()
fail() { status=1; failed+=("$1"); }
echo "== ctest =="
ctest --test-dir "$BUILD" --output-on-failure -j"$JOBS" || fail ctest

if grep -q "^STAMPEDE_CUDA_BUILT:INTERNAL=ON" "$BUILD/CMakeCache.txt"; then
  echo "== CUDA register/stack budget =="
  if grep -q "for 'sm_" "$BUILD/build.log"; then
    # this build compiled the CUDA sources: read ptxas's report from its log
    bash scripts/check_cuda_resources.sh --log "$BUILD/build.log" || fail cuda-budget
  else
    # nothing CUDA was recompiled (an incremental build): compile them for the report
    bash scripts/check_cuda_resources.sh || fail cuda-budget
  fi
fi

if [ -d tests/python ] && ls tests/python/test_*.py >/dev/null 2>&1; then
  echo "== pytest =="
  set +e
  PYTHONPATH="$PWD/$BUILD/python${PYTHONPATH:+:$PYTHONPATH}" python3 -m pytest -q tests/python
  rc=$?
  set -e
  if [ $rc -ne 0 ]; then fail pytest; fi
fi

# hardening (issue #12): every fuzz target for 60 s from the committed corpus, then the
# ASan+UBSan build of the named test subset (scripts/sanitize.sh lists it)
if [ "${STAMPEDE_SKIP_HARDENING:-0}" != "1" ]; then
  echo "== fuzz (60 s per target) =="
  bash scripts/fuzz.sh 60 || fail fuzz
  echo "== ASan + UBSan =="
  bash scripts/sanitize.sh || fail sanitize
fi

if [ $status -ne 0 ]; then echo "stampede tests: FAILED (${failed[*]})"; else echo "stampede tests: all passed"; fi
exit $status
