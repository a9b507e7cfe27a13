#!/usr/bin/env bash
# Installs whatever stampede needs that is missing: Debian packages (apt-get) and Python
# packages (pip). Idempotent: takes seconds when everything is already there.
set -euo pipefail

DEB_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libyaml-cpp-dev catch2 libeigen3-dev libopenblas-dev libopenblas0-pthread libhdf5-dev pybind11-dev libonnx-dev libprotobuf-dev
  libmujoco-samples openmpi-bin libopenmpi-dev clang libclang-rt-14-dev
  libegl-dev libegl1 libegl-mesa0 libgl1-mesa-dri ffmpeg
)
PIP_PACKAGES=(
  "mujoco-core==4.0.0" numpy pytest onnx onnxruntime tensorboard matplotlib pyyaml
)

need=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "[install] apt-get install ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

PY=${PYTHON:-python3}
missing_py=$("$PY" - "${PIP_PACKAGES[@]}" <<'PYEOF'
import sys
from importlib import metadata
out = []
for spec in sys.argv[1:]:
    name, _, ver = spec.partition("==")
    try:
        have = metadata.version(name)
        if ver and have != ver:
            out.append(spec)
    except metadata.PackageNotFoundError:
        out.append(spec)
print(" ".join(out))
PYEOF
)
if [ -n "$missing_py" ]; then
  echo "[install] pip install $missing_py"
  "$PY" -m pip install -q $missing_py
fi
echo "[install] everything stampede needs is installed"
