#!/usr/bin/env bash
# dphys's CMA-ES/NES family vs the peers' CMA-ES (pagmo2 2.18 `cmaes`, DEAP 1.3.1 `cma.Strategy`), in
# one run on one machine: builds dphys_bench_strategies and ../shared/peers' pagmo_bench, runs
#   convergence  sphere/ellipsoid/rosenbrock/rastrigin x dims 10, 40 x SEEDS seeds (peers' protocol:
#                target 1e-8, budget 1e5*dim, m0 = best of lambda uniform samples, sigma0 = range/2)
#   overhead     seconds per generation at dim 1000 on sphere, minus the objective's time (dphys:
#                wall and CPU time, one thread and CMA-ES again with --threads 2, source
#                "dphys_t2"; DEAP: wall with OpenBLAS on both cores, and CPU time on one OpenBLAS
#                thread, record "deap_cpu_overhead"; pagmo2: wall)
#   sep_large    sep-CMA-ES at dim 100 000, ms per generation
# writes every JSON line to $BUILD_DIR/compare_strategies.jsonl and prints the ratios:
#   median evaluations to 1e-8 (hits only) of dphys cma_es / pagmo cmaes and / DEAP, per function and
#   dimension (and of bipop/sep/snes/xnes), and overhead ratios with the targets
#   dphys CMA-ES overhead <= 1/10 of DEAP's and <= 1/100 of pagmo2's at dim 1000, like for like:
#   pagmo2 (one thread) against dphys on one thread; DEAP with OpenBLAS on both cores (its default)
#   against dphys with --threads 2, wall time; DEAP on one OpenBLAS thread against dphys on one
#   thread, CPU time.
#
# Environment knobs:
#   DPHYS_PEERS_DIR=<dir>  the peers (default <repo>/../shared/peers)
#   BUILD_DIR=<dir>        build + output directory (default <repo>/build-bench)
#   SEEDS=5                seeds 1..SEEDS
#   PEER_CONV=run|stored   run the peers' convergence benchmarks (default), or reuse their stored
#                          results ($DPHYS_PEERS_DIR/results/{pagmo,deap}_conv.jsonl)
#   SKIP_SETUP=1           do not run the peers' setup.sh (apt-get; needs root or sudo)
#   SKIP_BUILD=1           reuse the binaries in BUILD_DIR
#   WALL_CAP=60            per-run wall-clock cap (seconds) of every convergence run
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS="${DPHYS_PEERS_DIR:-$REPO/../shared/peers}"
BUILD="${BUILD_DIR:-$REPO/build-bench}"
SEEDS=${SEEDS:-5}
PEER_CONV=${PEER_CONV:-run}
WALL_CAP=${WALL_CAP:-60}
PY=/usr/bin/python3   # Debian's interpreter (DEAP and NumPy are installed for it)
OUT="$BUILD/compare_strategies.jsonl"
SEED_LIST=$(seq -s, 1 "$SEEDS")

log() { echo "[compare_strategies] $*" >&2; }
mkdir -p "$BUILD"

if [ -z "${SKIP_SETUP:-}" ]; then
  if ! dpkg-query -W -f='${Status}' libpagmo-dev python3-deap 2>/dev/null | grep -q "install ok installed"; then
    log "installing the peers (apt) with $PEERS/setup.sh"
    "$PEERS/setup.sh" >&2
  fi
fi

if [ -z "${SKIP_BUILD:-}" ]; then
  log "building dphys_bench_strategies (Release) in $BUILD"
  cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DDPHYS_BUILD_BENCH=ON >/dev/null
  cmake --build "$BUILD" --target dphys_bench_strategies -j2 >/dev/null
  log "building the peers' pagmo_bench in $BUILD/peers_pagmo"
  cmake -S "$PEERS/pagmo" -B "$BUILD/peers_pagmo" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD/peers_pagmo" -j2 >/dev/null
fi
DPHYS_BENCH=$(find "$BUILD" -name dphys_bench_strategies -type f -perm -u+x | head -n1)
PAGMO_BENCH="$BUILD/peers_pagmo/pagmo_bench"
[ -x "$DPHYS_BENCH" ] || { log "dphys_bench_strategies not found in $BUILD"; exit 1; }

tag() {  # source, load average at the start -> adds "source" and "load1" to each line
  "$PY" -c '
import json, sys
src, load = sys.argv[1], float(sys.argv[2])
for line in sys.stdin:
    line = line.strip()
    if line.startswith("{"):
        r = json.loads(line); r["source"] = src; r["load1"] = load; print(json.dumps(r), flush=True)
' "$1" "$(cut -d' ' -f1 /proc/loadavg)"
}

: > "$OUT"
log "machine load before the runs: $(cat /proc/loadavg)"

log "dphys convergence (cma_es, bipop, sep, snes, xnes; $SEEDS seeds)"
"$DPHYS_BENCH" --mode conv --algos cma_es,bipop,sep,snes,xnes --dims 10,40 --seed-list "$SEED_LIST" \
  --wall-cap "$WALL_CAP" | tag dphys >> "$OUT"

if [ "$PEER_CONV" = run ]; then
  log "pagmo2 cmaes convergence"
  "$PAGMO_BENCH" --mode conv --algos cmaes --dims 10,40 --seed-list "$SEED_LIST" --wall-cap "$WALL_CAP" \
    | tag pagmo >> "$OUT"
  log "DEAP cma.Strategy convergence"
  OPENBLAS_NUM_THREADS=1 "$PY" "$PEERS/deap/deap_cma_bench.py" --mode conv --seed-list "$SEED_LIST" \
    --wall-cap "$WALL_CAP" | tag deap >> "$OUT"
else
  log "peers' convergence: stored results of $PEERS/results"
  grep '"cmaes"' "$PEERS/results/pagmo_conv.jsonl" | tag pagmo_stored >> "$OUT"
  tag deap_stored < "$PEERS/results/deap_conv.jsonl" >> "$OUT"
fi

log "overhead at dim 1000 (each alone)"
"$DPHYS_BENCH" --mode overhead --algos cma_es,sep,snes,xnes --overhead-dim 1000 --overhead-seconds 5 \
  | tag dphys >> "$OUT"
"$DPHYS_BENCH" --mode overhead --algos cma_es --overhead-dim 1000 --overhead-seconds 5 --threads 2 \
  | tag dphys_t2 >> "$OUT"
"$PAGMO_BENCH" --mode overhead --algos cmaes --overhead-dim 1000 --overhead-seconds 3 | tag pagmo >> "$OUT"
"$PY" "$PEERS/deap/deap_cma_bench.py" --mode overhead --overhead-dim 1000 --overhead-seconds 5 \
  | tag deap >> "$OUT"
# The same DEAP loop on ONE OpenBLAS thread, timed in process CPU time: like for like with
# dphys's single-threaded CPU time, and robust to other jobs sharing the machine (a second OpenBLAS
# thread would add its spin-waiting to the CPU time).
OPENBLAS_NUM_THREADS=1 "$PY" - "$PEERS/deap" 1000 5 <<'PYEOF' | tag deap >> "$OUT"
import json, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
import deap_cma_bench as b
from deap import cma, creator
dim, seconds = int(sys.argv[2]), float(sys.argv[3])
np.random.seed(1)
f = b.make_f("sphere", dim)
lam = b.lam_of(dim)
s = cma.Strategy(centroid=np.random.uniform(-5, 5, dim), sigma=5.0, lambda_=lam)
cpu = obj = wall = 0.0
gens = 0
while gens < 3 or wall < seconds:
    w0, c0 = time.perf_counter(), time.process_time()
    pop = s.generate(creator.Individual)
    c1 = time.process_time()
    for ind in pop:
        ind.fitness.values = (f(np.asarray(ind)),)
    c2 = time.process_time()
    s.update(pop)
    c3, w3 = time.process_time(), time.perf_counter()
    if gens > 0:
        cpu += c3 - c0
        obj += c2 - c1
        wall += w3 - w0
    gens += 1
n = gens - 1
print(json.dumps(dict(bench="deap_cpu_overhead", peer="deap", algo="cma.Strategy(cpu)", func="sphere",
                      dim=dim, pop=lam, evals_per_gen=lam, generations=n, s_per_gen=wall / n,
                      cpu_s_per_gen=cpu / n, objective_s_per_gen=obj / n,
                      overhead_s_per_gen=wall / n - obj / n, overhead_cpu_s_per_gen=(cpu - obj) / n)))
PYEOF
log "sep-CMA-ES at dim 100 000"
"$DPHYS_BENCH" --mode sep_large --sep-dim 100000 --sep-gens 20 | tag dphys >> "$OUT"
log "machine load after the runs: $(cat /proc/loadavg)"

"$PY" - "$OUT" <<'EOF'
import json, statistics, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med_hits(rs):
    h = [r["evals_to_target"] for r in rs if r.get("evals_to_target")]
    return (statistics.median(h) if h else None), len(h), len(rs)
conv = [r for r in recs if "evals_to_target" in r]
def sel(src_prefix, algo, func, dim):
    return [r for r in conv if r["source"].startswith(src_prefix) and r["algo"] == algo
            and r["func"] == func and r["dim"] == dim]
print("\n== median evaluations to f < 1e-8 (hits only; hits/runs) ==")
print(f"{'func':<11}{'dim':>4}  {'pagmo cmaes':>16}{'DEAP cma':>16}" +
      "".join(f"{'dphys ' + a:>18}" for a in ["cma_es", "bipop", "sep", "snes", "xnes"]) +
      f"{'cma/pagmo':>11}{'cma/DEAP':>10}")
for dim in (10, 40):
    for func in ("sphere", "ellipsoid", "rosenbrock", "rastrigin"):
        p = med_hits(sel("pagmo", "cmaes", func, dim))
        d = med_hits(sel("deap", "cma.Strategy", func, dim))
        ours = {a: med_hits(sel("dphys", a, func, dim)) for a in ["cma_es", "bipop", "sep", "snes", "xnes"]}
        fmt = lambda m: f"{(m[0] if m[0] is not None else '-')!s:>10} ({m[1]}/{m[2]})" if m[2] else f"{'n/a':>16}"
        c = ours["cma_es"][0]
        r1 = f"{c / p[0]:.3f}" if c and p[0] else "-"
        r2 = f"{c / d[0]:.3f}" if c and d[0] else "-"
        print(f"{func:<11}{dim:>4}  {fmt(p):>16}{fmt(d):>16}" + "".join(f"{fmt(ours[a]):>18}" for a in ours) +
              f"{r1:>11}{r2:>10}")
ov = {(r["source"], r["algo"]): r for r in recs if r.get("bench", "").endswith("overhead")}
print("\n== algorithm overhead per generation, dim 1000, sphere ==")
for (src, algo), r in sorted(ov.items()):
    cpu = f"  cpu overhead s/gen {r['overhead_cpu_s_per_gen']:.4g}" if "overhead_cpu_s_per_gen" in r else ""
    print(f"{src:<10}{algo:<18} pop {r['pop']:>3}  s/gen {r['s_per_gen']:.4g}  overhead s/gen {r['overhead_s_per_gen']:.4g}{cpu}  (load1 {r['load1']})")
ours = ov.get(("dphys", "cma_es"))
# pagmo2's cmaes runs on one thread (Eigen), as dphys with threads = 1; DEAP: like for like below
for peer, algo, target in (("pagmo", "cmaes", 0.01),):
    theirs = ov.get((peer, algo))
    if ours and theirs:
        ratio = ours["overhead_s_per_gen"] / theirs["overhead_s_per_gen"]
        print(f"dphys cma_es (1 thread) / {peer} {algo} (default): {ratio:.4f} wall/wall  (target <= {target}: {'met' if ratio <= target else 'NOT met'})")
        if "overhead_cpu_s_per_gen" in ours:
            rc = ours["overhead_cpu_s_per_gen"] / theirs["overhead_s_per_gen"]
            print(f"    using dphys's CPU time ({ours['overhead_cpu_s_per_gen']:.4g} s/gen; robust to other load): {rc:.4f}")
# like for like: both libraries on the machine's cores (DEAP's default: OpenBLAS on all of them;
# dphys with threads = 2 here), wall time; and both on one core (DEAP with one OpenBLAS thread,
# dphys with threads = 1), CPU time
deap_wall, deap_cpu = ov.get(("deap", "cma.Strategy")), ov.get(("deap", "cma.Strategy(cpu)"))
t1, t2 = ov.get(("dphys", "cma_es")), ov.get(("dphys_t2", "cma_es"))
print("\n== dphys cma_es overhead / DEAP cma.Strategy overhead, dim 1000, like for like (target <= 0.1) ==")
verdict = lambda x: f"{x:.4f}  (target <= 0.1: {'met' if x <= 0.1 else 'NOT met'})"
if t2 and deap_wall:
    print(f"both cores each: dphys threads 2 {t2['overhead_s_per_gen']:.4g} s/gen / DEAP default "
          f"{deap_wall['overhead_s_per_gen']:.4g} s/gen (wall): "
          + verdict(t2["overhead_s_per_gen"] / deap_wall["overhead_s_per_gen"]))
if t1 and deap_cpu and "overhead_cpu_s_per_gen" in t1:
    print(f"one core each:   dphys threads 1 {t1['overhead_cpu_s_per_gen']:.4g} s/gen / DEAP 1 thread "
          f"{deap_cpu['overhead_cpu_s_per_gen']:.4g} s/gen (CPU): "
          + verdict(t1["overhead_cpu_s_per_gen"] / deap_cpu["overhead_cpu_s_per_gen"]))
quiet = 0.115  # DEAP's wall time per generation on the quiet machine (../shared/peers/RESULTS.md, table B)
if ours and "overhead_cpu_s_per_gen" in ours:
    print(f"dphys cma_es CPU time / DEAP's quiet-machine wall time ({quiet} s/gen, RESULTS.md): "
          f"{ours['overhead_cpu_s_per_gen'] / quiet:.4f}")
for r in recs:
    if r.get("bench") == "dphys_sep_large":
        print(f"\nsep-CMA-ES dim {r['dim']}: median {r['median_ms_per_gen']:.1f} ms/gen wall, "
              f"{r.get('median_cpu_ms_per_gen', float('nan')):.1f} ms/gen CPU (target < 50 ms; load1 {r['load1']})")
EOF
