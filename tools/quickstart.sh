#!/usr/bin/env bash
# From a fresh checkout to a plotted evolution run: installs dependencies, builds the koki2
# chemotaxis example, runs it (arguments are passed on, e.g. --generations=50) and plots its
# fitness curve. The run directory is runs/koki2_quickstart (time-stamped if that exists).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=${DPHYS_JOBS:-2}
cd "$root"

tools/install_deps.sh

echo "== configure (build/)"
cmake -S . -B build
echo "== build dphys_koki2 (-j$jobs)"
cmake --build build --target dphys_koki2 -j "$jobs"

# An --out=<dir> among the arguments wins; otherwise pick a run directory that does not exist yet.
run=""
for arg in "$@"; do
  if [[ "$arg" == --out=* ]]; then run=${arg#--out=}; fi
done
out_arg=()
if [[ -z "$run" ]]; then
  run=runs/koki2_quickstart
  if [[ -e "$run" ]]; then run="runs/koki2_quickstart_$(date -u +%Y%m%dT%H%M%SZ)"; fi
  out_arg=("--out=$run")
fi
mkdir -p "$(dirname "$run")"

echo "== run: build/examples/dphys_koki2 ${out_arg[*]} $*"
build/examples/dphys_koki2 "${out_arg[@]}" "$@"

if [[ "$run" != /* ]]; then run="$root/$run"; fi
png="$run/fitness_per_generation.png"
echo "== plot"
/usr/bin/python3 tools/plot_fitness.py "$run" --out "$png"

echo
echo "run directory: $run"
echo "fitness plot:  $png"
