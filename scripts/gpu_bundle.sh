#!/usr/bin/env bash
# scripts/gpu_bundle.sh — a CUDA build that a lent GPU machine can run as it is.
#
# The device machine (see benchmarks/README.md, "On a GPU") has nvcc, the CUDA libraries and
# Python with PyTorch, but none of the Debian -dev packages this project builds against
# (yaml-cpp, HDF5, Eigen, Catch2, ONNX, OpenMPI), and a session there has minutes, not the
# quarter of an hour a build takes. So the build is made here and carried:
#
#   bash scripts/gpu_bundle.sh            # configure and build build-gpu/, pack .gpu/bundle.tar.xz
#
# build-gpu/ is a Release CUDA build for sm_90 alone (an H200), without -march=native (the
# device's CPU is another) and without the Python module (its Python is another). The bundle
# holds, under build-gpu/, what scripts/gpu_checks.sh runs: the stampede binary, bench_env,
# bench_learner and every test binary with a GPU case, stripped; lib/, every shared library
# they load that is not the C runtime, the driver or one of the CUDA libraries the device
# machine has (cuBLAS, NCCL: gpu_checks.sh finds those there); models/, MuJoCo's sample
# humanoids. The binaries name this checkout's paths (/work/main, the samples folder), so
# gpu_checks.sh links those paths on the device machine. It must stay under the device tool's
# 64 MiB with the working tree; the script says how large it is.
#
# Then, on the device machine (carry: [".gpu"]):
#   BUNDLE=.gpu/bundle.tar.xz WALK_MINUTES=3 bash scripts/gpu_checks.sh
#
# --rehearse then runs that command here, on a copy of the working tree as the device tool
# sends it, in a mount namespace (root, unshare) that hides what the device machine lacks: this
# checkout's path, every library the bundle carries, MuJoCo's samples and pip's libmujoco. With
# no GPU here every GPU step fails or skips with "no CUDA device"; what it shows is that each
# binary starts, finds its libraries, models and assets, and reaches the device.
set -euo pipefail
REHEARSE=0
[ "${1:-}" = "--rehearse" ] && REHEARSE=1
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=build-gpu
JOBS=${JOBS:-$(nproc)}
SAMPLES=${MUJOCO_SAMPLES_DIR:-/usr/share/mujoco/model}

BINARIES=(stampede benchmarks/bench_env benchmarks/bench_learner)
# the test binaries are the ones gpu_checks.sh runs (its `gpu_test NAME ...` lines)
mapfile -t TESTS < <(sed -n 's/^gpu_test \([A-Za-z0-9_]*\).*/\1/p' scripts/gpu_checks.sh)
[ ${#TESTS[@]} -gt 0 ] || { echo "gpu_bundle: no gpu_test lines in scripts/gpu_checks.sh" >&2; exit 1; }

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSTAMPEDE_WITH_CUDA=ON -DSTAMPEDE_NATIVE=OFF \
  -DSTAMPEDE_BUILD_PYTHON=OFF -DSTAMPEDE_CUDA_ARCHS=90 >/dev/null
targets=()
for b in "${BINARIES[@]}" "${TESTS[@]}"; do targets+=("$(basename "$b")"); done
cmake --build "$BUILD" -j "$JOBS" --target "${targets[@]}"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$BUILD" "$stage/lib" "$stage/models"
files=()
for b in "${BINARIES[@]}"; do files+=("$BUILD/$b"); done
for t in "${TESTS[@]}"; do files+=("$(find "$BUILD/tests" -type f -name "$t" -perm -u+x | head -n 1)"); done
for f in "${files[@]}"; do
  [ -x "$f" ] || { echo "gpu_bundle: $f was not built" >&2; exit 1; }
  mkdir -p "$stage/$(dirname "$f")"
  strip -o "$stage/$f" "$f"
done

# shared libraries: all but the C runtime, the driver and the CUDA libraries the device has
keep_out='^(linux-vdso|ld-linux|libc\.so|libm\.so|libpthread|libdl\.so|librt\.so|libstdc\+\+|libgcc_s|libcuda\.so|libcublas|libcublasLt|libnccl)'
for f in "${files[@]}"; do ldd "$f"; done | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u |
  while read -r name path; do
    if ! [[ $name =~ $keep_out ]]; then cp -L "$path" "$stage/lib/$name"; fi
  done
cp -r "$SAMPLES/humanoid" "$stage/models/"
# what gpu_checks.sh needs to put the paths back
cat >"$stage/paths.env" <<EOF
BUNDLE_SOURCE_DIR=$ROOT
BUNDLE_SAMPLES_DIR=$SAMPLES
BUNDLE_BUILD=$BUILD
EOF

mkdir -p .gpu
tar -C "$stage" -cJf .gpu/bundle.tar.xz .
size=$(stat -c %s .gpu/bundle.tar.xz)
echo "gpu_bundle: .gpu/bundle.tar.xz, $((size / 1048576)) MiB ($(ls "$stage/lib" | wc -l) libraries," \
  "${#files[@]} binaries); carry [\".gpu\"] with the working tree (64 MiB in all)"

[ $REHEARSE -eq 1 ] || exit 0
copy=$(mktemp -d)
git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C "$copy"
cp -r .gpu "$copy/"
mujoco_lib=$(python3 -c "import mujoco, os; print(os.path.join(os.path.dirname(mujoco.__file__), 'libmujoco.so.4.0.0'))")
unshare -m bash -euc '
  mount -t tmpfs none "$(dirname "$1")"
  mount -t tmpfs none "$(dirname "$2")"
  for f in $(ls "$3"); do
    for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu; do
      if [ -e "$d/$f" ]; then mount --bind /dev/null "$d/$f"; fi
    done
  done
  mount --bind /dev/null "$4"
  cd "$5"
  BUNDLE=.gpu/bundle.tar.xz WALK_MINUTES=0.1 RESULTS=$5/gpu-results bash scripts/gpu_checks.sh || true
' rehearse "$ROOT" "$SAMPLES" "$stage/lib" "$mujoco_lib" "$copy"
echo "gpu_bundle: rehearsed in $copy (logs in $copy/gpu-results)"
