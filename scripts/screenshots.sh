#!/usr/bin/env bash
# Regenerates the pictures in assets/screenshots/ (the README shows them) with the app's own scripted screenshot
# (`--frames N --screenshot FILE`), so they show the window as the code draws it now and cannot go stale: after a
# change to the window, run this and look at the pictures before committing them.
#
#   scripts/screenshots.sh            # every picture
#   scripts/screenshots.sh grid help  # only these (names without .png)
#
# Every picture is the built-in scene at 960x600, after 240 frames: the HUD shows an FPS once a real half-second has
# passed and it has been refreshed after that (every 15 frames in a scripted run); at 20 frames a stack running at
# 50+ fps still showed "-" (45 frames too, at 80 fps), and at 90 a filter at ~300 fps still said "measuring".
# Needs a display: under xvfb-run when DISPLAY is unset. Uses ./convgl (a Release build, made when the sources
# changed). Exit 1 when a run fails (its output is printed) or when a picture in the folder has no recipe below (add
# one: every picture must be reproducible).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${DISPLAY:-}" ]]; then
  exec xvfb-run -a -s "-screen 0 1280x1024x24" "$0" "$@"
fi

# NAME | the window's arguments (what the README's caption says the picture shows)
recipes=(
  "split-probe|--filter sobel-x --view split --probe 456,95"
  "output|--stack edges --view output"
  "grid|--stack edges --layer 1 --view grid"
  "profile|--filter gaussian:9 --view profile --probe 280,270"
  "profile-dog|--stack dog --layer 3 --view profile --probe 280,270"
  "attention|--stack attention --probe 22,13"
  "heads|--stack heads --keys '. . .' --probe 61,12"
  "help|--stack edges --view output --keys h"
  "grid-learned|--stack learned --layer 4 --view grid"
  "grid-gabor|--stack gabor --view grid"
  "grid-deep|--stack deep --view grid"
  "theorem|--filter gabor:theta=45 --view theorem --keys i"
  "filters-resnet18|--stack resnet18 --view filters --keys i --probe designed:250,280"
  "receptive-field|--stack resnet18 --layer 20 --view split --probe 10,10"
)

dir=assets/screenshots
declare -A args
for r in "${recipes[@]}"; do args["${r%%|*}"]="${r#*|}"; done
for f in "$dir"/*.png; do
  name="$(basename "$f" .png)"
  if [[ -z "${args[$name]+x}" ]]; then
    echo "screenshots: $f has no recipe in $0: add one (or delete the picture)" >&2
    exit 1
  fi
done

names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then for r in "${recipes[@]}"; do names+=("${r%%|*}"); done; fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for name in "${names[@]}"; do
  if [[ -z "${args[$name]+x}" ]]; then
    echo "screenshots: no recipe named '$name' (recipes: ${!args[*]})" >&2
    exit 1
  fi
  # The recipe's arguments as the shell would split them (quotes group words: --keys ". . ."); the recipes are this file's own.
  eval "words=(${args[$name]})"
  if ! CONVGL_PROGRESS=0 ./convgl "${words[@]}" --source scene --size 960x600 --frames 240 --screenshot "$dir/$name.png" >"$log" 2>&1; then
    cat "$log" >&2
    echo "screenshots: $name failed: ./convgl ${args[$name]}" >&2
    exit 1
  fi
  echo "wrote $dir/$name.png: ./convgl ${args[$name]} --source scene --size 960x600 --frames 240"
done
