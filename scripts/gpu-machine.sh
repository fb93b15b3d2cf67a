#!/usr/bin/env bash
# The one prepared run for a GPU machine lent through the device tool (issue 8, "On a real GPU"; DEVELOPERS.md):
# ConvGL's GPU parity tests over NVIDIA's EGL, `convgl bench --device gpu`, and the PyTorch/cuDNN peer on the same shapes.
#
#   here:   scripts/gpu-machine.sh prepare
#           Builds Release into .gpurun/ (the app and the GPU test project, without OpenCV's native library, which a GPU
#           run does not need: the bench's CPU peers then say "skipped"; ONNX Runtime's travels with the tests), runs
#           ../shared/tools/device-prep.sh (.gl: the GL dispatch libraries, .dn: the .NET runtime), checks that what
#           travels fits the device tool's 64 MiB, and prints the call to make.
#   there:  <device-prep prefix> bash scripts/gpu-machine.sh run
#           Steps, in this order: torch.md (the PyTorch/cuDNN peer), bench.txt (+ bench.md when no row failed; conv plans
#           timed on first use, then the dense cases and ResNet18 again by the cost rules alone, CONVGL_TUNE=0), gpu-tests.txt,
#           window.txt (the live window offscreen, --stats per stack), spread.txt + clocks.csv (some cases alone, twice,
#           beside the card's clocks), bench-noliteral.txt (only with BENCH_NOLIT_S set), and nvidia-smi.txt, under $OUT
#           (or ./gpurun-out without $OUT). Every step has its own limit (TORCH_S, BENCH_S, RULES_S, GPU_TESTS_S,
#           WINDOW_S, SPREAD_S; 0 skips it) and all share one deadline, TOTAL_S (540 s) after the start, so the device
#           tool's 600 s call ends with every file written; the later steps get what is left.
#           The packaged ResNet18 (63.6 MB) cannot travel: `prepare`
#           strips its weights (scripts/onnx-weights.py, ~18 KB left) and `run` fills that graph with fixed-seed random
#           weights where the machine's NuGet cache lacks the model.
#
# Not run in CI. The ONNX conformance cases the tests name and ONNX Runtime's native library travel too (~12 MB of the
# tarball), so every GPU test but the NumPy oracle's runs there.
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
  # The window's offscreen run (--offscreen) needs Skia (HUD text, the scene; kept below) and fontconfig, which
  # travels as .debs unpacked under /opt/fc there (not into /) when the machine lacks it.
  mkdir -p .gpurun/debs
  (cd .gpurun/debs && apt-get -oAPT::Architecture=amd64 -oDir::State::Lists=/tmp/amd64 download \
     libfontconfig1 libfreetype6 libpng16-16 libbrotli1 fontconfig-config fonts-dejavu-core >/dev/null 2>&1) \
    || echo "gpu-machine: fontconfig .debs not downloaded (the window step will need the machine's own)"
  rm -rf .gpurun/app/amd64
  for d in .gpurun/app .gpurun/gputests; do
    rm -f "$d"/libOpenCvSharpExtern.so "$d"/libcapstone.so "$d"/Microsoft.CodeAnalysis*.dll "$d"/*.pdb "$d"/*.xml
  done
  # ONNX Runtime's native library stays with the GPU tests only (8 MB in the tarball): ResNet18's GPU embedding is
  # checked against it there, as here.
  rm -f .gpurun/app/libonnxruntime.so
  # The official ONNX cases the tests name (OnnxCases.cs, LayerNormCases.cs, ...: every "test_..." string; ~4 MB in the tarball), so the
  # conformance tests run on the GPU too (CONVGL_ONNX_TESTDATA points them there).
  data=/usr/share/libonnx-testdata/data
  if [[ -d "$data/node" ]]; then
    for name in $(grep -rho --include='*.cs' '"test_[A-Za-z0-9_]*"' tests | tr -d '"' | sort -u); do
      for kind in node pytorch-operator pytorch-converted; do
        [[ -d "$data/$kind/$name" ]] && mkdir -p ".gpurun/onnx-testdata/$kind" && cp -r "$data/$kind/$name" ".gpurun/onnx-testdata/$kind/"
      done
    done
  else
    echo "gpu-machine: $data absent (apt-get install libonnx-testdata): the ONNX conformance tests will skip there"
  fi
  # What both builds hold byte for byte (Skia's native library, Silk.NET, ConvGL's own assemblies) travels once: a hard
  # link, which tar stores as a link to the first copy (the budget is tight: 60 of 64 MiB before this).
  for f in .gpurun/gputests/*; do
    a=".gpurun/app/${f##*/}"
    [[ -f "$f" && -f "$a" ]] && cmp -s "$f" "$a" && ln -f "$a" "$f"
  done
  # The builds and the test data travel as one xz tarball (~3x smaller than the files); `run` unpacks it.
  tar -C .gpurun -cJf .gpurun/build.tar.xz app gputests $([[ -d .gpurun/onnx-testdata ]] && echo onnx-testdata)
  rm -rf .gpurun/app .gpurun/gputests .gpurun/onnx-testdata
  model="$(dotnet msbuild src/ConvGL.App/ConvGL.App.csproj -getProperty:NuGetPackageRoot 2>/dev/null | tr -d '\n')"
  model="${model:-$HOME/.nuget/packages/}microsoft.ml.dnnimagefeaturizer.resnet18/0.23.1/tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx"
  if [[ -f "$model" ]]; then
    python3 scripts/onnx-weights.py strip "$model" .gpurun/resnet18-skeleton.onnx
    cp "$(dirname "$model")/../ResNetPrepOnnx/ResNetPreprocess.onnx" .gpurun/
  fi
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
  [[ -d .gpurun/app || ! -f .gpurun/build.tar.xz ]] || tar -C .gpurun -xJf .gpurun/build.tar.xz
  [[ -d .gpurun/app && -d .gpurun/gputests ]] || { echo "gpu-machine: .gpurun missing: run 'prepare' here and carry it" >&2; exit 1; }
  { nvidia-smi || echo "no nvidia-smi"; } > "$out/nvidia-smi.txt" 2>&1
  t0=$(date +%s)
  stamp() { echo "== $1 (t+$(( $(date +%s) - t0 )) s)"; }
  # One deadline for every step (the device tool's call ends at 600 s, the prefix's unpacking included): a step's own
  # limit, or what is left before the deadline when that is less.
  deadline=$(( t0 + ${TOTAL_S:-540} ))
  cap() { local left=$(( deadline - $(date +%s) )); (( left < 1 )) && left=1; (( $1 < left )) && echo "$1" || echo "$left"; }
  # The packaged ResNet18 is too big to travel: where the NuGet cache lacks it, the same graph with fixed-seed random
  # weights takes its place (timing does not depend on the values; the bench still checks GPU == CPU on it).
  model="${NUGET_PACKAGES:-$HOME/.nuget/packages}/microsoft.ml.dnnimagefeaturizer.resnet18/0.23.1/tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx"
  if [[ ! -f "$model" && -f .gpurun/resnet18-skeleton.onnx ]]; then
    mkdir -p "$(dirname "$model")"
    python3 scripts/onnx-weights.py fill .gpurun/resnet18-skeleton.onnx "$model" || rm -f "$model"
    mkdir -p "$(dirname "$model")/../ResNetPrepOnnx" && cp .gpurun/ResNetPreprocess.onnx "$(dirname "$model")/../ResNetPrepOnnx/"
  fi
  # A step whose time limit is set to 0 is skipped (a second run that needs only some of them).
  if [[ "${TORCH_S:-100}" != 0 ]]; then
    stamp "PyTorch / cuDNN peer"
    timeout "$(cap "${TORCH_S:-100}")" python3 bench/torch_peer.py --reps "${BENCH_REPS:-50}" > "$out/torch.md" 2>&1; cat "$out/torch.md"
  fi
  cases="${BENCH_CASES:-gauss,sobel,conv,dwconv,gabor15-1to8,maxpool,resnet18,conv3-32to32-1080}"
  if [[ "${BENCH_S:-120}" != 0 ]]; then
    stamp "convgl bench --device gpu"
    timeout "$(cap "${BENCH_S:-120}")" "$dn" .gpurun/app/convgl.dll bench --device gpu --reps "${BENCH_REPS:-50}" --budget 2 \
      --case "$cases" --out "$out/bench.md" > "$out/bench.txt" 2>&1; echo "exit $?" >> "$out/bench.txt"
    grep -E '^\| .* \| gpu \||^- gl|^exit|MISMATCH|FAILED' "$out/bench.txt"
  fi
  if [[ "${RULES_S:-70}" != 0 ]]; then
    # The main run times each conv layer's candidate plans on first use (GlContext.TuneWhereItPays, new since the first
    # H200 run: the Winograd split and bands among them); this one runs the dense cases and the whole model by the cost
    # rules alone (CONVGL_TUNE=0), measured on llvmpipe, so the two can be compared. Appended to bench.txt.
    stamp "convgl bench --device gpu, CONVGL_TUNE=0 (the cost rules' plans)"
    { echo "== CONVGL_TUNE=0"; CONVGL_TUNE=0 timeout "$(cap "${RULES_S:-70}")" "$dn" .gpurun/app/convgl.dll bench --device gpu \
        --reps "${BENCH_REPS:-50}" --budget 2 --case "${RULES_CASES:-conv,resnet18}" 2>&1
      echo "exit $?"; } >> "$out/bench.txt"
    sed -n '/^== CONVGL_TUNE=0/,$p' "$out/bench.txt" | grep -E '^\| .* \| gpu \||^exit|MISMATCH|FAILED'
  fi
  if [[ "${GPU_TESTS_S:-300}" != 0 ]]; then
    stamp "GPU parity tests"
    # Every GPU test but the NumPy oracle's (the machine's /usr/bin/python3 has no NumPy): the ONNX conformance cases
    # from the carried copy, ResNet18 against ONNX Runtime on the carried native library (the filled-in random weights
    # where the packaged model could not travel). -longRunning names any test past 20 s.
    [[ -d .gpurun/onnx-testdata ]] && export CONVGL_ONNX_TESTDATA="$root/.gpurun/onnx-testdata"
    timeout "$(cap "${GPU_TESTS_S:-300}")" "$dn" .gpurun/gputests/ConvGL.Gpu.Tests.dll -longRunning 20 \
      -method- "*.LearnedStack_FromNumpyWrittenSafetensors_GpuMatchesNumpy" \
      > "$out/gpu-tests.txt" 2>&1; echo "exit $?" >> "$out/gpu-tests.txt"
    sed 's/\x1b\[[0-9;]*m//g' "$out/gpu-tests.txt" | grep -E -A2 '\[FAIL\]|Total:|running|^exit' | grep -v 'Stack Trace' | tail -60
  fi
  if [[ "${WINDOW_S:-120}" != 0 ]]; then
    # The live window's frame, offscreen (an EGL pbuffer: no display there), each shipped stack at 640x360 and the
    # learned one on a 512x512 frame (issue 8's window floors; issue 12's >= 60 fps for resnet18 on a GPU).
    stamp "window, offscreen, --stats"
    if ! ldconfig -p | grep -q 'libfontconfig.so.1 '; then
      for f in .gpurun/debs/*.deb; do dpkg -x "$f" /opt/fc; done
      export LD_LIBRARY_PATH="/opt/fc/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" FONTCONFIG_PATH=/opt/fc/etc/fonts
    fi
    wend=$(( $(date +%s) + $(cap "${WINDOW_S:-120}") ))
    for run in "edges scene:640x360" "gabor scene:640x360" "deep scene:640x360" "learned scene:512x512" \
               "resnet18 scene:640x360" "resnet18 scene:640x360 --layer 52"; do
      set -- $run
      left=$(( wend - $(date +%s) )); (( left > 5 )) || break
      echo "-- --stack $*" >> "$out/window.txt"
      timeout "$left" "$dn" .gpurun/app/convgl.dll --offscreen --stack "$1" --source "$2" "${@:3}" --size 1024x640 \
        --frames "${WINDOW_FRAMES:-120}" --stats >> "$out/window.txt" 2>&1; echo "exit $?" >> "$out/window.txt"
    done
    grep -E '^--|^stages|^stats|^exit|^convgl:' "$out/window.txt"
  fi
  if [[ "${SPREAD_S:-60}" != 0 ]]; then
    # The first H200 run saw the same programs' times move up to 5.7x between a 6-case and a 20-case process
    # (bench/README.md, "A real GPU"): each of these cases again in a process of its own, twice, with the card's clocks
    # and power logged beside them (nvidia-smi every 200 ms), to tell clocks from the process's history.
    stamp "spread: cases alone, twice"
    smi=""
    if command -v nvidia-smi >/dev/null; then
      nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,utilization.gpu --format=csv -lms 200 > "$out/clocks.csv" 2>&1 &
      smi=$!
    fi
    send=$(( $(date +%s) + $(cap "${SPREAD_S:-60}") ))
    for c in ${SPREAD_CASES:-conv3-16to16-1080 gabor15-1to8 dwconv3-32 conv7-s2-3to64-224}; do
      for rep in 1 2; do
        left=$(( send - $(date +%s) )); (( left > 5 )) || break 2
        echo "-- $c alone, run $rep, $(date +%T.%N | cut -c1-12)" >> "$out/spread.txt"
        timeout "$left" "$dn" .gpurun/app/convgl.dll bench --device gpu --reps "${BENCH_REPS:-50}" --budget 2 --case "$c" \
          2>&1 | grep -E "^\| $c .*\| gpu \|" | cut -d'|' -f10-13 >> "$out/spread.txt"
      done
    done
    [[ -n "$smi" ]] && kill "$smi" 2>/dev/null
    cat "$out/spread.txt"
  fi
  if [[ "${BENCH_NOLIT_S:-0}" != 0 ]]; then
    # Literal plans are the automatic choice on software rasterisers only since the first H200 run; the switch still
    # turns them off on llvmpipe, so this step matters there (a local dry run) or for a build from before that change.
    stamp "convgl bench --device gpu, CONVGL_LITERAL_PLANS=0 (the cases whose plan it changes)"
    CONVGL_LITERAL_PLANS=0 timeout "$(cap "$BENCH_NOLIT_S")" "$dn" .gpurun/app/convgl.dll bench --device gpu --reps "${BENCH_REPS:-50}" \
      --budget 2 --case "${NOLIT_CASES:-conv3-16to32,conv3-16to16,gabor15-1to8,conv7,resnet18,conv3-32to32-1080}" \
      > "$out/bench-noliteral.txt" 2>&1; echo "exit $?" >> "$out/bench-noliteral.txt"
    grep -E '^\| .* \| gpu \||^exit|MISMATCH|FAILED' "$out/bench-noliteral.txt"  # a 9th file: one of the 8 back is dropped
  fi
  stamp "done"
  ;;
*)
  echo "usage: scripts/gpu-machine.sh prepare|run" >&2
  exit 2
  ;;
esac
