#!/usr/bin/env bash
# Compile cost of dphys: wall time and peak memory (max RSS of the compiler) of one translation unit,
# measured with GNU time (/usr/bin/time -v). Prints one JSON object per translation unit:
#   include_only   #include <dphys/dphys.hpp> and an empty main
#   koki2_pipeline #include <dphys/dphys.hpp> and a main that runs experiments::run_koki2, i.e. the
#                  whole koki2 pipeline (env, LIF network, plasticity, rollout crucible + viability
#                  filter, OpenAI-ES, evolve, run directory) instantiated for simd::native AND float
#                  (run_koki2 dispatches on the lane implementation at run time)
# Only the compilation (-c) is timed, not the link. Issue-3 target for koki2_pipeline: <= 30 s and
# <= 2 GiB at -O2. A last line gives tools/include_size.py's figures: the preprocessed size of
# <dphys/dphys.hpp> (dphys's own lines and the whole TU), which do not depend on the host's speed
# and which the test dphys_include_budget holds to tests/include_budget.json.
#
# Environment knobs:
#   CXX=g++                 compiler (clang++ works too)
#   CXXFLAGS=...            default: the flags dphys's tests use, at -O2:
#                           -std=c++20 -O2 -march=native -ffp-contract=off -Wall -Wextra -Wpedantic
#   REPS=3                  compilations per TU; the JSON reports the median wall time and the largest RSS
#   BUILD_DIR=<dir>         where the TUs and objects go (default: <repo>/build-bench/compile_cost)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CXX=${CXX:-g++}
CXXFLAGS=${CXXFLAGS:-"-std=c++20 -O2 -march=native -ffp-contract=off -Wall -Wextra -Wpedantic"}
REPS=${REPS:-3}
DIR="${BUILD_DIR:-$REPO/build-bench}/compile_cost"
TIME=/usr/bin/time

die() { echo "compile_cost.sh: error: $*" >&2; exit 1; }
if [ ! -x "$TIME" ] || ! "$TIME" -v true >/dev/null 2>&1; then
  die "GNU time not found at $TIME (Debian: apt-get install time)"
fi
command -v "$CXX" >/dev/null || die "compiler '$CXX' not found"
mkdir -p "$DIR"

cat > "$DIR/include_only.cpp" <<'EOF'
#include <dphys/dphys.hpp>
int main() { return 0; }
EOF
cat > "$DIR/koki2_pipeline.cpp" <<'EOF'
#include <dphys/dphys.hpp>
// The whole koki2 experiment: run_koki2 instantiates the rollout for simd::native and for float.
int main(int argc, char** argv) {
  dphys::experiments::koki2_config cfg;
  dphys::apply_overrides(cfg, argc - 1, argv + 1);
  const auto res = dphys::experiments::run_koki2(cfg, cfg.out);
  return res.best_fitness > 0 ? 0 : 1;
}
EOF

# shellcheck disable=SC2086
for tu in include_only koki2_pipeline; do
  walls=() rss_max=0 user_s=() sys_s=()
  for _ in $(seq 1 "$REPS"); do
    "$TIME" -v -o "$DIR/$tu.time" "$CXX" $CXXFLAGS -I"$REPO/include" -c "$DIR/$tu.cpp" -o "$DIR/$tu.o" \
      2> "$DIR/$tu.log" || { cat "$DIR/$tu.log" >&2; die "compiling $tu failed"; }
    # "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:12.34"
    w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; ++i) s = s * 60 + p[i]; print s}' "$DIR/$tu.time")
    r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DIR/$tu.time")
    walls+=("$w")
    user_s+=("$(awk -F': ' '/User time/ {print $2}' "$DIR/$tu.time")")
    sys_s+=("$(awk -F': ' '/System time/ {print $2}' "$DIR/$tu.time")")
    [ "$r" -gt "$rss_max" ] && rss_max=$r
  done
  warnings=$(grep -c "warning:" "$DIR/$tu.log" || true)
  /usr/bin/python3 - "$tu" "$CXX" "$CXXFLAGS" "$rss_max" "$warnings" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" \
    "$("$CXX" --version | head -1)" "${walls[*]}" "${user_s[*]}" "${sys_s[*]}" <<'EOF'
import json, statistics, sys
tu, cxx, flags, rss, warnings, nproc, load, version, walls, users, syss = sys.argv[1:]
walls = [float(x) for x in walls.split()]
users = [float(x) for x in users.split()]
syss = [float(x) for x in syss.split()]
rss_kib = int(rss)
targets = {"koki2_pipeline": (30.0, 2.0)}
rec = dict(bench="compile_cost", tu=tu, compiler=version, cxx=cxx, flags=flags, reps=len(walls),
           wall_s_all=walls, median_wall_s=statistics.median(walls), median_user_s=statistics.median(users),
           median_sys_s=statistics.median(syss), max_rss_kib=rss_kib, max_rss_gib=round(rss_kib / 2**20, 3),
           warnings=int(warnings), nproc=int(nproc), loadavg_1min=float(load))
if tu in targets:
    ws, gib = targets[tu]
    rec.update(target_wall_s=ws, target_rss_gib=gib,
               met=statistics.median(walls) <= ws and rss_kib / 2**20 <= gib)
print(json.dumps(rec))
EOF
done
/usr/bin/python3 "$REPO/tools/include_size.py" --cxx "$CXX" --include "$REPO/include"
