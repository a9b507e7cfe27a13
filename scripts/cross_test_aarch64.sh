#!/usr/bin/env bash
# Cross-builds the deployment runtime's core and its tests for aarch64 (NVIDIA Jetson class) with
# Debian's cross compiler, and runs the tests under qemu-user. Needs root for apt-get (the first
# run installs g++-aarch64-linux-gnu and qemu-user, and downloads Debian's arm64 yaml-cpp).
#
# yaml-cpp for arm64: Debian's libyaml-cpp-dev is not co-installable across architectures
# (installing libyaml-cpp-dev:arm64 REMOVES the host's libyaml-cpp-dev), so this script never
# installs it: it downloads the arm64 .debs (apt-get download) and unpacks them (dpkg -x) into
# a private sysroot under the build directory. That needs arm64 in dpkg's architecture list
# (package lists only: dpkg --add-architecture arm64 + apt-get update; nothing arm64 is installed).
#
#   usage: scripts/cross_test_aarch64.sh [BUILD_DIR]     (default build-aarch64)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-aarch64}
JOBS=${JOBS:-$(nproc)}
TRIPLE=aarch64-linux-gnu
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

# cross compiler, qemu-user, file (checks the binaries' architecture)
need=()
for p in g++-$TRIPLE qemu-user file; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "[cross] apt-get install ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# arm64 yaml-cpp, unpacked into $BUILD/sysroot (not installed)
SYSROOT=$PWD/$BUILD/sysroot
if [ ! -f "$SYSROOT/usr/lib/$TRIPLE/cmake/yaml-cpp/yaml-cpp-config.cmake" ]; then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    echo "[cross] dpkg --add-architecture arm64 (package lists only)"
    $SUDO dpkg --add-architecture arm64
    $SUDO apt-get update -qq
  fi
  debs=$(mktemp -d)
  chmod a+rwx "$debs"  # apt-get download runs as _apt
  ( cd "$debs" && apt-get download -qq libyaml-cpp-dev:arm64 libyaml-cpp0.7:arm64 ) || {
    $SUDO apt-get update -qq
    ( cd "$debs" && apt-get download -qq libyaml-cpp-dev:arm64 libyaml-cpp0.7:arm64 )
  }
  mkdir -p "$SYSROOT"
  for d in "$debs"/*.deb; do dpkg -x "$d" "$SYSROOT"; done
  rm -rf "$debs"
fi

# configure + build the core and its tests
cmake -S runtime/cross -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchain-aarch64.cmake" \
  -DSTAMPEDE_AARCH64_SYSROOT="$SYSROOT" -DCatch2_DIR=/usr/lib/cmake/Catch2 >/dev/null
cmake --build "$BUILD" -j"$JOBS"

# every test binary must be an aarch64 executable
for t in "$BUILD"/tests/runtime/test_runtime_*; do
  file -b "$t" | grep -q "ARM aarch64" || { echo "[cross] $t is not an aarch64 binary: $(file -b "$t")"; exit 1; }
done

# run them under qemu-user: the cross toolchain's loader and libc, the sysroot's yaml-cpp
export QEMU_LD_PREFIX=/usr/$TRIPLE
export LD_LIBRARY_PATH=$SYSROOT/usr/lib/$TRIPLE
echo "[cross] running the runtime core tests under $(qemu-aarch64 --version | head -1)"
ctest --test-dir "$BUILD" --output-on-failure
