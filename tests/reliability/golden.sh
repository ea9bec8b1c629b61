#!/usr/bin/env bash
# Golden runs (issue 7): short dphys_koki2 runs whose results are pinned by hash, so any change in
# numerical behaviour fails CI. Each run is made twice — SIMD lanes with 1 thread, and the scalar
# reference with 2 threads — which must agree with each other and with the stored hashes (results
# do not depend on SIMD width or thread count, design.md §4).
# usage: golden.sh <dphys_koki2> <work dir> <golden_runs.txt>     (check)
#        golden.sh <dphys_koki2> <work dir> <golden_runs.txt> --update   (rewrite the hashes)
# golden_runs.txt: one run per line, "<name> <sha256 of generations.jsonl without timing>
# <sha256 of best_genome.npy> <dphys_koki2 arguments...>"; '#' starts a comment line.
# Updating is a deliberate act: see docs/reference/checkpoints.md ("Golden runs").
set -euo pipefail
exe=$1 work=$2 table=$3 mode=${4:-check}
rm -rf "$work"
mkdir -p "$work"
strip_timing() { sed 's/,"timing":{[^}]*}//' "$1"; }
status=0
updated=()
while read -r name log_hash genome_hash args; do
  [[ -z $name || $name == \#* ]] && { updated+=("$name $log_hash $genome_hash $args"); continue; }
  read -r -a argv <<< "$args"
  hashes=()
  for variant in "--impl=simd --threads=1" "--impl=scalar --threads=2"; do
    dir="$work/$name${variant//[ =-]/_}"
    # shellcheck disable=SC2086
    "$exe" "${argv[@]}" $variant --out="$dir" > "$dir.log" 2>&1 ||
      { echo "golden: $name ($variant) failed: $(cat "$dir.log")" >&2; exit 1; }
    hashes+=("$(strip_timing "$dir/generations.jsonl" | sha256sum | cut -c1-64) $(sha256sum < "$dir/best_genome.npy" | cut -c1-64)")
  done
  if [[ ${hashes[0]} != "${hashes[1]}" ]]; then
    echo "golden: $name: SIMD/1 thread and scalar/2 threads differ: ${hashes[0]} vs ${hashes[1]}" >&2
    status=1
  fi
  if [[ $mode == --update ]]; then
    updated+=("$name ${hashes[0]} $args")
  elif [[ "$log_hash $genome_hash" != "${hashes[0]}" ]]; then
    echo "golden: $name: results changed (arguments: $args)" >&2
    echo "  stored:   $log_hash $genome_hash" >&2
    echo "  computed: ${hashes[0]}" >&2
    status=1
  else
    echo "golden: $name: ok"
  fi
done < "$table"
if [[ $mode == --update ]]; then
  printf '%s\n' "${updated[@]}" > "$table"
  echo "golden: rewrote $table"
fi
exit $status
