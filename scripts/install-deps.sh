#!/usr/bin/env bash
# Installs the Debian packages ConvGL needs at run and test time. As root it installs them;
# otherwise it prints the exact command and fails. Idempotent: it does nothing when all are present.
set -euo pipefail
packages=(
  libegl1 libegl-mesa0 libgl1-mesa-dri libgl1   # headless OpenGL 4.5 (EGL surfaceless, llvmpipe)
  libglfw3 xvfb xauth                           # the window, and a virtual display for tests
  libgtk-3-0 libatomic1                         # OpenCvSharp's native library links them (ldd; libatomic1
                                                #   comes only with gcc elsewhere, so a slim image lacks it)
  libfontconfig1                                # SkiaSharp's native library links it
  fonts-dejavu-core                             # the window's HUD and built-in scene text (DejaVu Sans/Mono)
)
# Test-only: NumPy/SciPy are the independent oracle the apply and stack tests compare against; libonnx-testdata
# holds the official ONNX backend node cases the ONNX import is checked against.
if [[ "${1:-}" == "--test" ]]; then packages+=(python3-numpy python3-scipy libonnx-testdata); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Another apt (an unattended upgrade, a second install) may hold the lock: wait for it rather than fail at once.
    apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null
    apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "convgl needs Debian packages that are missing; run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
fi
if ! command -v dotnet >/dev/null 2>&1; then
  echo "convgl needs the .NET 10 SDK (dotnet) on PATH: https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2
  exit 2
fi
