#!/usr/bin/env bash
# The long window soak (issue 9): FRAMES frames (default 10000) of the soak cycle -- every control (filters, stacks,
# views, borders, strides, dilation, convolve/correlate, layer toggles, layer/channel selection, probe pin, pause,
# info, help, vsync) and a hot reload of a stack file and a shader per cycle -- counting GL objects (ConvGL's own
# count where they are created and deleted, and the driver's), the managed heap, resident memory and GL errors at
# every cycle boundary. The CI test (tests/ConvGL.App.Tests/SoakTests.cs) runs 600 frames.
#
#   scripts/soak.sh [FRAMES, default 10000] [WxH window, default 160x120]
#
# Needs a display (uses xvfb-run when DISPLAY is unset). Prints the samples, the first and last, the wall time and the
# verdict; exit 0 when everything stayed flat after warm-up, 1 otherwise (the verdict line names what grew).
set -euo pipefail
frames="${1:-10000}"
size="${2:-160x120}"
cd "$(dirname "$0")/.."
dotnet build src/ConvGL.App -nologo -v q
work="$(mktemp -d)"
dir="$work/soak"   # the soak's scratch folder must be empty: the log goes beside it
mkdir "$dir"
log="$work/soak.log"
trap 'rm -rf "$work"' EXIT
run=(dotnet src/ConvGL.App/bin/Debug/net10.0/convgl.dll --size "$size" --source "scene:${size%x*}x$(( ${size#*x} * 3 / 4 ))"
     --frames "$frames" --soak "$dir")
if [[ -z "${DISPLAY:-}" ]]; then run=(xvfb-run -a -s "-screen 0 1280x1024x24" "${run[@]}"); fi
echo "soak: $frames frames, window $size, machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)"
start=$(date +%s.%N)
status=0
"${run[@]}" >"$log" || status=$?
end=$(date +%s.%N)
cat "$log"
first="$(grep -m1 '^soak frame=' "$log" || true)"
last="$(grep '^soak frame=' "$log" | tail -1 || true)"
echo "soak: wall time $(printf '%.1f' "$(echo "$end - $start" | bc)") s"
echo "soak: first sample: $first"
echo "soak: last sample:  $last"
exit $status
