#!/usr/bin/env bash
# Issue 7: a run killed with SIGKILL and resumed is bitwise identical to an uninterrupted one.
# usage: kill_resume.sh <dphys_koki2> <work dir> <seed>
# Runs the reference uninterrupted (1 thread), then the same config with --checkpoint-every=1 and
# 2 threads (a resume-neutral key), SIGKILLs it after generation k1, resumes, SIGKILLs it again
# after generation k2, resumes to the end; k1 < k2 are drawn from <seed> (reproducible). Compares
# generations.jsonl without each record's wall-clock "timing" object, and best_genome.npy byte for
# byte. Also checks that a resume with a different config is refused, naming the key, and changes
# nothing.
set -euo pipefail
exe=$1 work=$2 seed=$3
G=45
args=(--generations=$G --rollout.episodes=16 --env.max_steps=512 --seed=7)
rm -rf "$work"
mkdir -p "$work"
fail() { echo "kill_resume: FAIL: $*" >&2; exit 1; }
strip_timing() { sed 's/,"timing":{[^}]*}//' "$1"; }
lines() { if [[ -f $1 ]]; then wc -l < "$1"; else echo 0; fi; }

"$exe" "${args[@]}" --out="$work/ref" > "$work/ref.log"

RANDOM=$seed
k1=$((1 + RANDOM % (G / 3)))
k2=$((k1 + 1 + RANDOM % (G / 3)))
echo "kill_resume: seed $seed: SIGKILL after generation $k1, again after $k2 (of $G)"

# Starts the run (extra args: --resume), SIGKILLs it once generations.jsonl has >= $1 records.
run_and_kill() {
  local k=$1
  shift
  "$exe" "${args[@]}" --threads=2 --out="$work/run" --checkpoint-every=1 "$@" \
    > "$work/run_$k.log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null && (($(lines "$work/run/generations.jsonl") < k)); do
    sleep 0.005
  done
  kill -KILL "$pid" 2>/dev/null || fail "the run ended before generation $k could be killed"
  local rc=0
  wait "$pid" || rc=$?
  ((rc == 137)) || fail "expected the run to die of SIGKILL (137), got exit code $rc"
  echo "kill_resume: killed after $(lines "$work/run/generations.jsonl") records," \
    "checkpoints: $(ls "$work/run/checkpoints" 2>/dev/null | tr '\n' ' ')"
}
run_and_kill "$k1"
run_and_kill "$k2" --resume

# A different config is refused, names the key, and leaves the directory as it was.
before=$(cd "$work/run" && find . -type f ! -name '.*' -exec sha256sum {} + | sort)
rc=0
"$exe" "${args[@]}" --out="$work/run" --resume --es.sigma=0.2 > "$work/refused.log" 2>&1 || rc=$?
((rc == 2)) || fail "resume with a changed es.sigma: expected exit code 2, got $rc"
grep -q "es.sigma: 0.1 in the checkpoint, 0.2 now" "$work/refused.log" ||
  fail "the refusal does not name es.sigma: $(cat "$work/refused.log")"
after=$(cd "$work/run" && find . -type f ! -name '.*' -exec sha256sum {} + | sort)
[[ $before == "$after" ]] || fail "a refused resume changed the run directory"

"$exe" "${args[@]}" --out="$work/run" --checkpoint-every=1 --resume > "$work/resume.log" 2>&1 ||
  fail "final resume failed: $(cat "$work/resume.log")"
grep -q '"resumed_from"' "$work/run/manifest.json" || fail "manifest.json does not record the resume"

cmp <(strip_timing "$work/ref/generations.jsonl") <(strip_timing "$work/run/generations.jsonl") ||
  fail "generations.jsonl (without timing) differs from the uninterrupted run's"
cmp "$work/ref/best_genome.npy" "$work/run/best_genome.npy" ||
  fail "best_genome.npy differs from the uninterrupted run's"
[[ $(lines "$work/run/generations.jsonl") -eq $G ]] || fail "expected $G records"
leftover=$(find "$work/run" -name '.*.tmp.*' | wc -l)
((leftover == 0)) || fail "$leftover temporary files left in the run directory"
echo "kill_resume: resumed run is bitwise identical ($G generations, best_genome.npy)"
