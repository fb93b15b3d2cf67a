#!/usr/bin/env bash
# A long fuzzing run of every Core loader and spec parser (npy, safetensors, PNG/JPEG/BMP/TGA/GIF/WebP, kernel text
# files, kernel specs, stack JSON, ONNX models and tensor files): the CI fuzz test (tests/ConvGL.Core.Tests/Fuzz) with
# more inputs and your seed.
#
#   scripts/fuzz.sh [COUNT per loader, default 100000] [SEED, default: from the clock] [FINDINGS folder]
#
# Every input must load and be valid, or be refused with one ConvGLException line naming it; anything else (another
# exception type, a multi-line error, an input running past 10 s, one allocating more than the image decode cap,
# Limits.ImageDecodeBytes = 512 MiB, plus 64 MiB) is a finding. Findings
# are listed at the end and written to FINDINGS/<loader>/seed<SEED>-<index>.bin (+ .txt saying what happened). Once
# fixed, copy the .bin into tests/ConvGL.Core.Tests/Fuzz/regressions/<loader>/ under a name that says what it is:
# the suite replays every file there. Exit 0: no findings; 1: findings (or a build failure).
set -euo pipefail
count="${1:-100000}"
seed="${2:-$(( $(date +%s) % 1000000 ))}"
findings="${3:-fuzz-findings}"
cd "$(dirname "$0")/.."
mkdir -p "$findings"
findings="$(cd "$findings" && pwd)"
echo "fuzz: $count inputs per loader, seed $seed, findings in $findings"
dotnet build tests/ConvGL.Core.Tests -nologo -v q
# Only this run's findings are reported: a folder reused from an earlier run keeps that run's files (they were once
# listed here as this run's).
started="$(mktemp)"
trap 'rm -f "$started"' EXIT
status=0
CONVGL_FUZZ_COUNT="$count" CONVGL_FUZZ_SEED="$seed" CONVGL_FUZZ_FINDINGS="$findings" \
  dotnet test --project tests/ConvGL.Core.Tests --no-build -- \
  --filter-method "ConvGL.Core.Tests.Fuzz.LoaderFuzzTests.EveryMutatedInput_LoadsValid_OrIsOneErrorLineNamingIt" \
  --output Detailed || status=$?
n=$(find "$findings" -name '*.txt' -newer "$started" | wc -l)
if [[ $n -gt 0 ]]; then
  echo "fuzz: $n finding(s):"
  find "$findings" -name '*.txt' -newer "$started" | sort | xargs cat
  exit 1
fi
[[ $status -eq 0 ]] || { echo "fuzz: the test run failed (exit $status) without writing findings"; exit 1; }
echo "fuzz: no findings in $count inputs per loader (seed $seed)"
