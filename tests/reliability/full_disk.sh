#!/usr/bin/env bash
# Issue 7, atomic artifacts: a full disk and a read-only run directory give a clear error (exit
# code 2, the file and the OS reason named) and leave every earlier file of the run intact; after
# space is freed, --resume completes the run bitwise identical to an uninterrupted one.
# As root: a 40 KiB tmpfs (then remounted read-only). Otherwise: RLIMIT_FSIZE (ulimit -f) for the
# full disk and chmod a-w for the read-only directory (DPHYS_FULL_DISK_MODE=rlimit forces this
# path). Exit 77 (skipped) where the read-only case cannot be made (root without mount).
# usage: full_disk.sh <dphys_koki2> <work dir>
set -euo pipefail
exe=$1 work=$2
fail() { echo "full_disk: FAIL: $*" >&2; exit 1; }
strip_timing() { sed 's/,"timing":{[^}]*}//' "$1"; }
snapshot() { (cd "$1" && find . -type f ! -name '.*' -exec sha256sum {} + | sort); }
args=(--generations=40 --seed=5 --checkpoint-every=1 --checkpoint-keep=2)
mnt=""
cleanup() { if [[ -n $mnt ]]; then umount "$mnt" 2>/dev/null || true; fi; }
trap cleanup EXIT
if [[ -d $work ]]; then
  umount "$work/disk" 2>/dev/null || true
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
fi
mkdir -p "$work/disk"
"$exe" "${args[@]}" --out="$work/ref" > "$work/ref.log"

mode=rlimit
if [[ ${DPHYS_FULL_DISK_MODE:-} != rlimit && $(id -u) -eq 0 ]] && mount -t tmpfs -o size=40k tmpfs "$work/disk" 2>/dev/null; then
  mnt="$work/disk"
  mode=tmpfs
fi
run="$work/disk/run"
echo "full_disk: using $mode"

# 1. Full disk in the middle of the run.
rc=0
if [[ $mode == tmpfs ]]; then
  "$exe" "${args[@]}" --out="$run" > "$work/full.log" 2>&1 || rc=$?
  reason="No space left on device"
else
  # 5 KiB: config.json, manifest.json fit; a checkpoint (~6.6 KB) does not.
  (trap '' XFSZ; ulimit -f 5; exec "$exe" "${args[@]}" --out="$run") > "$work/full.log" 2>&1 || rc=$?
  reason="File too large"
fi
((rc == 2)) || fail "expected exit code 2 on a full disk, got $rc: $(cat "$work/full.log")"
grep -q "dphys_koki2: error: .*$reason" "$work/full.log" ||
  fail "the error does not give the reason '$reason': $(cat "$work/full.log")"
grep -q "error: write_file_atomic '$run/\|error: jsonl_appender '$run/" "$work/full.log" ||
  fail "the error does not name the file: $(cat "$work/full.log")"
[[ -z $(find "$run" -name '.*.tmp.*') ]] || fail "temporary files left behind"
python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$run/config.json" ||
  fail "config.json is damaged"
echo "full_disk: full disk: $(grep -o 'error: .*' "$work/full.log")"

# 2. Read-only directory: refused clearly, nothing changes.
before=$(snapshot "$run")
if [[ $mode == tmpfs ]]; then
  mount -o remount,ro "$mnt"
  reason="Read-only file system"
else
  chmod -R a-w "$run"
  reason="Permission denied"
  probe="$run/.probe"
  if touch "$probe" 2>/dev/null; then
    rm -f "$probe"
    echo "full_disk: this user ignores permissions: read-only case skipped" >&2
    exit 77
  fi
fi
rc=0
"$exe" "${args[@]}" --out="$run" --resume > "$work/ro.log" 2>&1 || rc=$?
((rc == 2)) || fail "expected exit code 2 in a read-only directory, got $rc: $(cat "$work/ro.log")"
grep -q "$reason" "$work/ro.log" || fail "the error does not say '$reason': $(cat "$work/ro.log")"
[[ $(snapshot "$run") == "$before" ]] || fail "the read-only run directory changed"
echo "full_disk: read-only: $(grep -o 'error: .*' "$work/ro.log")"

# 3. Space again: resume completes the run, identical to the uninterrupted one.
if [[ $mode == tmpfs ]]; then
  mount -o remount,rw,size=2m "$mnt"
else
  chmod -R u+w "$run"
fi
"$exe" "${args[@]}" --out="$run" --resume > "$work/resume.log" 2>&1 ||
  fail "resume after freeing space failed: $(cat "$work/resume.log")"
cmp <(strip_timing "$work/ref/generations.jsonl") <(strip_timing "$run/generations.jsonl") ||
  fail "generations.jsonl differs from the uninterrupted run's"
cmp "$work/ref/best_genome.npy" "$run/best_genome.npy" || fail "best_genome.npy differs"
echo "full_disk: resumed after the full disk: identical to the uninterrupted run"
