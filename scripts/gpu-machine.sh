#!/usr/bin/env bash
# The one prepared run for a GPU machine lent through the device tool (issue 8, "On a real GPU"; DEVELOPERS.md):
# ConvGL's GPU parity tests over NVIDIA's EGL, `convgl bench --device gpu`, and the PyTorch/cuDNN peer on the same shapes.
#
#   here:   scripts/gpu-machine.sh prepare
#           Builds Release into .gpurun/ (the app and the GPU test project, without the native libraries of OpenCV,
#           ONNX Runtime and Skia, which a GPU run does not need: the bench's CPU peers then say "skipped"), runs
#           ../shared/tools/device-prep.sh (.gl: the GL dispatch libraries, .dn: the .NET runtime), checks that what
#           travels fits the device tool's 64 MiB, and prints the call to make.
#   there:  <device-prep prefix> bash scripts/gpu-machine.sh run
#           Writes nvidia-smi.txt, gpu-tests.txt, bench.md and torch.md under $OUT (or ./gpurun-out without $OUT).
#           About 6-8 minutes on an H200; every step has its own time limit so one hang cannot eat the lease.
#
# Not run in CI. The ONNX conformance cases and the ResNet18-vs-ONNX-Runtime tests are left out there (their data and
# ONNX Runtime's native library stay here); they run in CI on llvmpipe.
set -uo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$root"

case "${1:-}" in
prepare)
  set -e
  prep="$root/../shared/tools/device-prep.sh"
  [[ -f "$prep" ]] || { echo "gpu-machine: $prep not found (it sits beside the checkout)" >&2; exit 1; }
  bash "$prep" >/dev/null
  grep -qx '/.gpurun/' .git/info/exclude 2>/dev/null || echo '/.gpurun/' >> .git/info/exclude
  rm -rf .gpurun
  dotnet build src/ConvGL.App/ConvGL.App.csproj -c Release -o .gpurun/app -nologo -v q >/dev/null
  dotnet build tests/ConvGL.Gpu.Tests/ConvGL.Gpu.Tests.csproj -c Release -o .gpurun/gputests -nologo -v q >/dev/null
  for d in .gpurun/app .gpurun/gputests; do
    rm -f "$d"/libOpenCvSharpExtern.so "$d"/libonnxruntime.so "$d"/libSkiaSharp.so "$d"/libcapstone.so \
          "$d"/Microsoft.CodeAnalysis*.dll "$d"/*.pdb "$d"/*.xml
  done
  tree=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
  carried=$(du -scb .gl .dn .gpurun | tail -1 | cut -f1)
  total=$(( (tree + carried) / 1048576 ))
  echo "gpu-machine: $total MiB travel (tracked files + .gl .dn .gpurun; the device tool takes 64)"
  (( total < 64 )) || { echo "gpu-machine: too big for the device tool" >&2; exit 1; }
  echo "device run: carry [\".gl\", \".dn\", \".gpurun\"], timeout_s 600, command:"
  echo "  $(bash "$prep" --print-prefix | tr -d '\n') bash scripts/gpu-machine.sh run"
  ;;
run)
  out="${OUT:-$root/gpurun-out}"
  mkdir -p "$out"
  dn=$(command -v dotnet || echo /opt/dn/dotnet)
  [[ -d .gpurun/app && -d .gpurun/gputests ]] || { echo "gpu-machine: .gpurun missing: run 'prepare' here and carry it" >&2; exit 1; }
  { nvidia-smi || echo "no nvidia-smi"; } > "$out/nvidia-smi.txt" 2>&1
  echo "== GPU parity tests"
  timeout "${GPU_TESTS_S:-240}" "$dn" .gpurun/gputests/ConvGL.Gpu.Tests.dll \
    -class- "ConvGL.Gpu.Tests.Onnx.ResNet18GpuTests" \
    -method- "*.NodeCase_PassesOnTheGpu" -method- "*.OfficialSamePoolCase_ImportedAsAStack_PassesOnTheGpu" 2>&1 \
    | tee "$out/gpu-tests.txt" | tail -15
  echo "== convgl bench --device gpu"
  timeout "${BENCH_S:-240}" "$dn" .gpurun/app/convgl.dll bench --device gpu --reps "${BENCH_REPS:-50}" --budget 2 \
    --case "${BENCH_CASES:-gauss,sobel,conv,dwconv,gabor,maxpool}" --out "$out/bench.md" 2>&1 | tail -40
  echo "== PyTorch / cuDNN peer"
  timeout "${TORCH_S:-180}" python3 bench/torch_peer.py --reps "${BENCH_REPS:-50}" 2>&1 | tee "$out/torch.md"
  ;;
*)
  echo "usage: scripts/gpu-machine.sh prepare|run" >&2
  exit 2
  ;;
esac
