#!/usr/bin/env bash
# scripts/check_cuda_resources.sh — compile every CUDA source (kernels/, sim/, sim/tasks/, rl/) for sm_80
# and sm_90 with `-Xptxas -v` and fail when a kernel spills registers or needs a stack frame
# above the budget. Runs without a GPU (CI).
#
#   scripts/check_cuda_resources.sh [source.cu ...]
#   env: NVCC (default nvcc on PATH or /usr/local/cuda/bin/nvcc)
#        STACK_BUDGET bytes per thread (default 2048), SPILL_BUDGET bytes (default 0)
# Budget: no register spills at all; stack frames up to 2 KiB. Measured 2026-11-23 (CUDA 13.0):
# 0 B spills everywhere; the largest frame is 1952 B (double) / 1008 B (float) in the
# fwd_velocity, forward, step and reset kernels, where the views are copied to local memory
# before the non-inlined stage calls. Lowering that is the first GPU optimization; then lower
# the budget with it.
#        ARCHS (default "80 90"), KEEP_LOG=1 keeps the ptxas output in build-cuda-resources/
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
nvcc="${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
stack_budget="${STACK_BUDGET:-2048}"
spill_budget="${SPILL_BUDGET:-0}"
archs="${ARCHS:-80 90}"
mj_inc="$(python3 -c 'import mujoco, os; print(os.path.join(os.path.dirname(mujoco.__file__), "include"))')"
# check_log FILE [ALLOW_EMPTY]: every "bytes stack frame" line ptxas printed in FILE within the
# budgets; a log without any function report fails unless ALLOW_EMPTY is 1 (one source file may
# hold host code only, e.g. sim/cuda_backend.cu; a whole build's log may not)
check_log() {
  python3 - "$1" "${stack_budget}" "${spill_budget}" "${2:-0}" <<'PY'
import re, subprocess, sys
log, stack_budget, spill_budget = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
allow_empty = sys.argv[4] == "1"
entry, bad, n = None, 0, 0
worst = (0, 0, 0, "")
for line in open(log):
    m = re.search(r"Function properties for (\S+)", line)
    if m:
        entry = m.group(1)
        continue
    m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line)
    if m and entry:
        stack, st, ld = map(int, m.groups())
        regs = re.search(r"Used (\d+) registers", line)
        n += 1
        name = subprocess.run(["c++filt", entry], capture_output=True, text=True).stdout.strip()[:160]
        worst = max(worst, (stack, st, ld, name))
        if stack > stack_budget or st > spill_budget or ld > spill_budget:
            bad += 1
            print(f"  OVER BUDGET: stack {stack} B (budget {stack_budget}), spill stores {st} B, "
                  f"spill loads {ld} B (budget {spill_budget}), registers {regs.group(1) if regs else '?'}: {name}")
        entry = None
print(f"  {n} functions; largest stack frame {worst[0]} B ({worst[3][:100]})")
if n == 0 and not allow_empty:
    print("  no ptxas function report found"); sys.exit(1)
sys.exit(1 if bad else 0)
PY
}

# --log FILE: check the ptxas report of a build made with -DSTAMPEDE_PTXAS_REPORT=ON
# (scripts/test.sh does this, so CI does not compile the CUDA sources twice)
if [[ "${1:-}" == "--log" ]]; then
  [[ -f "${2:-}" ]] || { echo "check_cuda_resources: no build log '${2:-}'" >&2; exit 2; }
  for arch in ${archs}; do
    grep -q "for 'sm_${arch}'" "$2" || { echo "check_cuda_resources: no ptxas report for sm_${arch} in $2 (configure with -DSTAMPEDE_PTXAS_REPORT=ON)" >&2; exit 1; }
  done
  if check_log "$2"; then
    echo "check_cuda_resources: OK (stack budget ${stack_budget} B, spill budget ${spill_budget} B)"; exit 0
  fi
  echo "check_cuda_resources: FAILED (stack budget ${stack_budget} B, spill budget ${spill_budget} B)" >&2
  exit 1
fi

out="${root}/build-cuda-resources"
mkdir -p "${out}"

if [[ ! -x "${nvcc}" ]]; then
  echo "check_cuda_resources: nvcc not found (set NVCC)" >&2
  exit 2
fi

if [[ $# -gt 0 ]]; then
  sources=("$@")
else
  mapfile -t sources < <(cd "${root}" && ls kernels/*.cu sim/*.cu sim/tasks/*.cu rl/*.cu 2>/dev/null)
fi

fail=0
for src in "${sources[@]}"; do
  for arch in ${archs}; do
    log="${out}/$(basename "${src}" .cu).sm_${arch}.ptxas.log"
    echo "== ${src} sm_${arch}"
    "${nvcc}" -std=c++17 -O3 --extended-lambda --expt-relaxed-constexpr -DSTAMPEDE_WITH_CUDA=1 \
      -diag-suppress=20012 -I"${root}" -I"${mj_inc}" -I/usr/include/eigen3 -gencode "arch=compute_${arch},code=sm_${arch}" \
      -Xptxas -v -c "${root}/${src}" -o "${out}/$(basename "${src}" .cu).sm_${arch}.o" 2> "${log}" || {
      cat "${log}" >&2
      echo "FAIL: ${src} does not compile for sm_${arch}" >&2
      fail=1
      continue
    }
    # ptxas prints, for every kernel and every non-inlined device function,
    # "Function properties for <mangled>" then "S bytes stack frame, X bytes spill stores, ..."
    check_log "${log}" 1 || fail=1
  done
done
if [[ -z "${KEEP_LOG:-}" ]]; then rm -f "${out}"/*.o; fi
if [[ ${fail} -ne 0 ]]; then
  echo "check_cuda_resources: FAILED (stack budget ${stack_budget} B, spill budget ${spill_budget} B)" >&2
  exit 1
fi
echo "check_cuda_resources: OK (stack budget ${stack_budget} B, spill budget ${spill_budget} B)"
