#!/usr/bin/env bash
# Where a running command's CPU time goes inside llvmpipe's JIT-compiled shaders, instruction by instruction: the tool
# behind the "32-byte stores" and "Image loads" findings in bench/README.md. llvmpipe compiles every dispatch to x86 code
# in anonymous memory that perf cannot name, so this samples the process (`perf record -e cpu-clock`: no hardware
# counters on a VM), waits for its warm-up, then reads the hottest code back out of the live process with gdb and prints
# it with the share of samples on each instruction (a sample lands on the instruction after a stall: a cache miss shows
# on the instruction after the load).
#
#   scripts/jit-profile.sh [-w WARMUP_S] [-s SAMPLE_S] [-n LINES] -- COMMAND [ARGS...]
#
# COMMAND must keep dispatching for WARMUP_S + SAMPLE_S seconds (defaults 6 and 3): e.g. a bench case with many reps,
# `./convgl bench --case dwconv --device gpu --reps 3000`. Prints the share of samples in JIT code and in each library,
# then the hottest JIT functions (split at `ret`), each with its hot instructions and LINES of context (default 6).
# Needs perf, gdb and python3 (Debian: linux-perf, gdb); perf_event_paranoid <= 2 lets a user sample its own process.
set -euo pipefail
warmup=6 sample=3 lines=6
while [[ $# -gt 0 && "$1" != "--" ]]; do
  case "$1" in
    -w) warmup="$2"; shift 2 ;;
    -s) sample="$2"; shift 2 ;;
    -n) lines="$2"; shift 2 ;;
    *) echo "jit-profile: unknown option '$1' (usage: scripts/jit-profile.sh [-w S] [-s S] [-n LINES] -- COMMAND...)" >&2; exit 2 ;;
  esac
done
[[ "${1:-}" == "--" ]] && shift
if [[ $# -eq 0 ]]; then
  echo "jit-profile: no command given (usage: scripts/jit-profile.sh [-w S] [-s S] [-n LINES] -- COMMAND...)" >&2
  exit 2
fi
for tool in perf gdb python3; do
  command -v "$tool" >/dev/null || { echo "jit-profile: '$tool' is not installed (Debian: linux-perf, gdb, python3)" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$@" >"$work/out.txt" 2>&1 &
pid=$!
sleep "$warmup"
if ! kill -0 "$pid" 2>/dev/null; then
  echo "jit-profile: the command ended within the ${warmup} s warm-up; give it more work. Its output:" >&2
  cat "$work/out.txt" >&2
  exit 1
fi
perf record -q -e cpu-clock -F 4000 -p "$pid" -o "$work/perf.data" -- sleep "$sample" 2>/dev/null
perf script -i "$work/perf.data" -F ip,dso 2>/dev/null >"$work/samples.txt"
cp "/proc/$pid/maps" "$work/maps.txt"
# The hottest 4 KiB pages of anonymous (JIT) memory, each widened to its mapping's bounds by at most 16 KiB.
python3 - "$work" >"$work/ranges.txt" <<'EOF'
import collections, sys
work = sys.argv[1]
maps = []
for line in open(f"{work}/maps.txt"):
    f = line.split()
    lo, hi = (int(x, 16) for x in f[0].split("-"))
    maps.append((lo, hi, f[5] if len(f) > 5 else ""))
pages = collections.Counter()
for line in open(f"{work}/samples.txt"):
    f = line.split()
    if not f: continue
    ip = int(f[0], 16)
    if "[unknown]" in line or "perf-" in line or "JIT" in line:
        pages[ip >> 12] += 1
seen = []
for page, _ in pages.most_common(6):
    a = page << 12
    m = next(((lo, hi) for lo, hi, name in maps if lo <= a < hi and name in ("", "[anon]")), None)
    if m is None: continue
    lo, hi = max(m[0], a - 0x4000), min(m[1], a + 0x5000)
    if any(l <= a < h for l, h in seen): continue
    seen.append((lo, hi))
    print(lo, hi)
EOF
while read -r lo hi; do
  gdb -batch -p "$pid" -ex "x/$(( (hi - lo) / 2 ))i $lo" 2>/dev/null | grep -E '^ *0x' >>"$work/code.txt" || true
done <"$work/ranges.txt"
python3 - "$work" "$lines" <<'EOF'
import collections, re, sys
work, context = sys.argv[1], int(sys.argv[2])
samples = collections.Counter(); dsos = collections.Counter()
for line in open(f"{work}/samples.txt"):
    f = line.split()
    if not f: continue
    ip = int(f[0], 16); dso = f[1].strip("()") if len(f) > 1 else "?"
    samples[ip] += 1
    dsos["JIT code (llvmpipe shaders)" if ("unknown" in dso or "perf-" in dso or "JIT" in dso) else dso.rsplit("/", 1)[-1]] += 1
total = sum(samples.values())
if total == 0:
    print("jit-profile: no samples (is perf allowed to sample? see /proc/sys/kernel/perf_event_paranoid)"); sys.exit(1)
print(f"{total} samples")
for name, n in dsos.most_common(8): print(f"  {100 * n / total:5.1f}%  {name}")
code = {}
for line in open(f"{work}/code.txt"):
    m = re.match(r"\s*0x([0-9a-f]+)[^\t]*\t(.*)", line)
    if m: code[int(m.group(1), 16)] = m.group(2).strip()
addrs = sorted(code)
funcs, cur = [], []
for a in addrs:
    cur.append(a)
    if code[a].startswith("ret"): funcs.append(cur); cur = []
if cur: funcs.append(cur)
ranked = sorted(((sum(samples[a] for a in f), f) for f in funcs), reverse=True)
for share, f in ranked[:4]:
    if share < total * 0.02: break
    print(f"\n== {100 * share / total:.1f}% of samples: JIT code at {f[0]:#x}..{f[-1]:#x} ({len(f)} instructions)")
    # Samples by kind of instruction (a rough split: the sample lands after a stall, so loads show partly on their users).
    kinds = collections.Counter()
    for a in f:
        op, _, args = code[a].partition(" ")
        args = args.strip()
        if "(%rsp" in args or "(%rbp" in args: kind = "stack (spills, lane extracts)"
        elif "(" in args and op.startswith(("vmov", "mov", "vpinsr", "vinsert", "vpgather", "vgather", "vbroadcast", "vpbroadcast")):
            kind = "loads" if not args.endswith(")") else "stores"
        elif op.startswith(("vmul", "vadd", "vsub", "vfmadd", "vfnmadd", "vmax", "vmin", "vdiv", "vsqrt")): kind = "float arithmetic"
        elif op.startswith(("vblendv", "vpand", "vpor", "vpxor", "vpandn", "vpcmp", "vcmp", "vptest", "vmovmsk", "vpmovmsk")): kind = "masks and selects"
        elif op.startswith(("idiv", "div")): kind = "integer divides"
        elif op.startswith(("vpextr", "vmovd", "vmovq", "movslq", "vextract", "movsl", "cltq", "cltd")): kind = "lane extracts (per-lane addresses)"
        elif op.startswith(("vpunpck", "vunpck", "vshuf", "vpshuf", "vperm", "vinsert", "vpinsr", "vblendps", "vpblend")): kind = "shuffles (transposes, inserts)"
        elif op.startswith(("vpadd", "vpsub", "vpmull", "vpsll", "vpsrl", "vpsra", "vpmin", "vpmax", "add", "sub", "imul", "lea", "shl", "shr", "sar", "and", "or", "xor")): kind = "integer arithmetic"
        elif op.startswith(("j", "call", "ret", "cmp", "test", "bt")): kind = "branches and calls"
        else: kind = "other"
        kinds[kind] += samples[a]
    print("   " + ", ".join(f"{k} {100 * n / total:.1f}%" for k, n in kinds.most_common() if n))
    hot = [i for i, a in enumerate(f) if samples[a] >= max(2, total * 0.002)]
    show = sorted({j for i in hot for j in range(max(0, i - context), min(len(f), i + 2))})
    last = None
    for i in show:
        if last is not None and i != last + 1: print("   ...")
        a = f[i]
        pct = f"{100 * samples[a] / total:5.1f}%" if samples[a] else "      "
        print(f"{pct} {a & 0xfffff:05x}  {code[a][:100]}")
        last = i
EOF
