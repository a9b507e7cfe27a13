#!/usr/bin/env bash
# benchmarks/bench_dist.sh — data-parallel training throughput: global samples/s of
# `stampede train` with 1 and 2 (or more) MPI ranks on this machine, and the machine's load while
# it ran. Each rank steps --num-envs worlds of its own, so K ranks collect K times the samples
# per iteration; the learner threads of the machine's cores are split among its ranks.
#
#   benchmarks/bench_dist.sh [BUILD_DIR] [TASK] [NUM_ENVS] [ITERATIONS] [RANKS...]
#   benchmarks/bench_dist.sh build-dist point-reach 256 20 1 2
#   benchmarks/bench_dist.sh build-dist h1-walk 64 6 1 2
#
# Prints one line per rank count: ranks, samples/s (median over the iterations after the first),
# seconds per iteration, the all-reduce-bearing update time, and the 1-minute load average before
# and after. Results go to stdout; nothing is asserted (performance is measured, not tested).
set -euo pipefail
BUILD=${1:-build-dist}
TASK=${2:-point-reach}
NUM_ENVS=${3:-256}
ITERS=${4:-20}
shift $(( $# < 4 ? $# : 4 )) || true
RANKS=("$@")
[ ${#RANKS[@]} -eq 0 ] && RANKS=(1 2)
BIN=$(cd "$BUILD" && pwd)/stampede
[ -x "$BIN" ] || { echo "no stampede binary in $BUILD" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "mpirun not found (apt-get install openmpi-bin)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
NET=${NET-"--set actor_hidden=[512,256,128] --set critic_hidden=[512,256,128]"}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "task $TASK, $NUM_ENVS envs per rank, $ITERS iterations, network: $NET"
printf "%6s %14s %12s %14s %10s %10s\n" ranks samples/s s/iter update_s/iter load_before load_after
for K in "${RANKS[@]}"; do
  load0=$(cut -d' ' -f1 /proc/loadavg)
  mpirun -np "$K" "$BIN" train --task "$TASK" --num-envs "$NUM_ENVS" --iterations "$ITERS" --quiet \
    $NET --checkpoint-every 100000 --run-dir "$TMP/run$K" >"$TMP/log$K" 2>&1 || { cat "$TMP/log$K"; exit 1; }
  load1=$(cut -d' ' -f1 /proc/loadavg)
  python3 - "$TMP/run$K/metrics.csv" "$K" "$load0" "$load1" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))[1:]  # the first iteration warms up
sps = statistics.median(float(r["steps_per_s"]) for r in rows)
it = statistics.median(float(r["time_env"]) + float(r["time_inference"]) + float(r["time_update"]) for r in rows)
up = statistics.median(float(r["time_update"]) for r in rows)
print("%6s %14.0f %12.3f %14.3f %10s %10s" % (sys.argv[2], sps, it, up, sys.argv[3], sys.argv[4]))
PY
done
