#!/usr/bin/env bash
# dphys vs the peer benchmarks of ../shared/peers, in one run on one machine: builds dphys's
# benchmarks and the peers' chemotaxis ports, runs both, writes every measurement as one JSON line
# to $BUILD_DIR/compare.jsonl and prints the ratio table (bench/compare_peers.py report).
#
# Measured (workload of the peers: 256 genomes ~ N(0, 0.1) x 4 episodes x 128 steps, koki2 L0
# defaults; plasticity on = spike modulator, eta 0.05, lambda 0.9):
#   dphys_bench_rollout  {l0, ladder} x {off, on} x {simd, scalar} x {1, 2 threads}; l0 simd 1 thread
#                        with N = 64, k = 16 (edge updates/s); every simd run also measures the core's
#                        FMA peak and prints fma_peak_fraction
#   dphys_bench_es       l0, {off, on} x pop {64, 256} x {1, 2 threads}, SIMD
#   peers  NumPy batched port:  bench_chemotaxis.py --backend numpy --what rollout,es (OPENBLAS_NUM_THREADS=1)
#          scalar C++ port:     chemo_bench --mode throughput / --mode es (dense + event-driven, 1 thread
#                               and pagmo thread_bfe; OpenAI-ES on thread_bfe; pagmo cmaes/xnes/pso_gen)
#          `ladder` counterparts the peers' scripts do not run: bench/peer_numpy_rollout.py and
#          bench/peer_cpp_rollout.cpp drive the same NumPy / C++ ports on dphys's ladder environment.
# Every benchmark runs alone (never two at a time); REPS repetitions of the whole set, medians.
# Then bench/paired_peers.py runs PAIRED_ROUNDS rounds of dphys and the peers side by side
# (seconds apart, order rotating) and prints the median over rounds of each round's ratio: the figure
# to judge the ratio targets (NumPy, C++ ports, SIMD ÷ scalar, 2 ÷ 1 threads) by, because the host's
# speed drifts between the medians above, which are taken minutes apart. Its table is appended to
# compare.md; if it fails, its error is there too.
#
# Environment knobs:
#   DPHYS_PEERS_DIR=<dir>   the peers (default: <repo>/../shared/peers)
#   BUILD_DIR=<dir>         build + output directory (default: <repo>/build-bench)
#   REPS=3                  repetitions of the whole set of benchmarks
#   REPEATS=7               repetitions inside each rollout benchmark (it reports their median)
#   ES_GENS=8               generations per ES benchmark
#   PAIRED_ROUNDS=21        rounds of bench/paired_peers.py (≈ 11 s each); 0: skip them
#   SKIP_SETUP=1            do not run the peers' setup.sh (apt-get; needs root or sudo)
#   SKIP_BUILD=1            reuse the binaries already in BUILD_DIR
#   WAIT_QUIET=60           before each benchmark wait up to this many seconds for the machine to be
#                           idle (other processes < 15% of the CPUs); 0: do not wait. Every record
#                           carries others_cpu_frac (CPU share other processes used while it ran);
#                           the report takes medians over the runs where that was < 10%.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS="${DPHYS_PEERS_DIR:-$REPO/../shared/peers}"
BUILD="${BUILD_DIR:-$REPO/build-bench}"
REPS=${REPS:-3}
REPEATS=${REPEATS:-7}
ES_GENS=${ES_GENS:-8}
PAIRED_ROUNDS=${PAIRED_ROUNDS:-21}
WAIT_QUIET=${WAIT_QUIET:-60}
PY=/usr/bin/python3   # Debian's interpreter (the peers' packages are installed for it)
HELPER="$PY $REPO/bench/compare_peers.py"
OUT="$BUILD/compare.jsonl"

log() { echo "[compare_peers $(date +%H:%M:%S)] $*" >&2; }
die() { echo "compare_peers.sh: error: $*" >&2; exit 1; }

[ -x "$PY" ] || die "$PY not found (the peers need Debian's python3 with python3-numpy)"
if [ ! -f "$PEERS/chemotaxis/bench_chemotaxis.py" ] || [ ! -f "$PEERS/chemotaxis/cpp/CMakeLists.txt" ]; then
  die "peer benchmarks not found in '$PEERS' (expected chemotaxis/bench_chemotaxis.py and chemotaxis/cpp/);
  set DPHYS_PEERS_DIR to the directory holding the peers' README.md, setup.sh and run_all.sh"
fi
PEERS="$(cd "$PEERS" && pwd)"
log "peers: $PEERS; output: $OUT"

# ---- setup and builds (before any measurement: nothing is timed while compiling) -----------------
if [ "${SKIP_SETUP:-0}" != 1 ]; then
  log "peers' setup.sh (apt-get; the first time takes minutes)"
  "$PEERS/setup.sh" >&2 || die "the peers' setup.sh failed (see above)"
fi

mkdir -p "$BUILD/peers"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "build dphys benchmarks (Release) in $BUILD"
  cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DDPHYS_BUILD_BENCH=ON -DDPHYS_BUILD_TESTS=OFF \
    -DDPHYS_BUILD_EXAMPLES=OFF -DDPHYS_INSTALL=OFF >/dev/null
  cmake --build "$BUILD" -j2 --target dphys_bench_rollout dphys_bench_es >&2
  log "build the peers' chemotaxis C++ port in $BUILD/peers/chemo"
  cmake -S "$PEERS/chemotaxis/cpp" -B "$BUILD/peers/chemo" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD/peers/chemo" -j2 >&2
  log "build bench/peer_cpp_rollout.cpp (the peers' chemo.hpp, -O3 -march=native like their chemo_rollout)"
  g++ -std=c++17 -O3 -march=native -Wall -Wextra -I"$PEERS/chemotaxis/cpp" "$REPO/bench/peer_cpp_rollout.cpp" \
    "$PEERS/chemotaxis/cpp/chemo_rollout.cpp" -pthread -o "$BUILD/peers/peer_cpp_rollout"
fi
ROLLOUT="$BUILD/bench/dphys_bench_rollout"
ES="$BUILD/bench/dphys_bench_es"
CHEMO="$BUILD/peers/chemo/chemo_bench"
PEER_CPP="$BUILD/peers/peer_cpp_rollout"
for b in "$ROLLOUT" "$ES" "$CHEMO" "$PEER_CPP"; do [ -x "$b" ] || die "missing binary $b (run without SKIP_BUILD=1)"; done

FIXTURE="$BUILD/peers/fixture.txt"
$PY "$PEERS/chemotaxis/make_fixture.py" "$FIXTURE" >/dev/null
log "peers' correctness check (chemo_bench --mode check)"
"$CHEMO" --fixture "$FIXTURE" --mode check | tail -1 >&2 || die "the peers' C++ port fails its fixture check"

# dphys_bench_rollout takes --config=l0|ladder; if this build reads --config=X only as a JSON file
# name (the generic config-file option), pass the environment through a JSON file instead.
ENVARG_l0="--config=l0"
ENVARG_ladder="--config=ladder"
if ! "$ROLLOUT" --config=ladder --pop=1 --episodes=1 --steps=1 --reps=1 >/dev/null 2>&1; then
  log "WARNING: dphys_bench_rollout rejects --config=ladder; using --config=<file.json> with {\"config\": ...}"
  echo '{"config": "l0"}' > "$BUILD/peers/env_l0.json"
  echo '{"config": "ladder"}' > "$BUILD/peers/env_ladder.json"
  ENVARG_l0="--config=$BUILD/peers/env_l0.json"
  ENVARG_ladder="--config=$BUILD/peers/env_ladder.json"
fi

# ---- measurements ----------------------------------------------------------------------------------
bench() {  # source, command...: run it alone (after waiting for a quiet machine), tag its lines
  local source=$1; shift
  $HELPER run "$source" "$r" "$WAIT_QUIET" -- "$@" >> "$OUT" || die "benchmark failed: $*"
}

$HELPER machine > "$OUT"
for r in $(seq 1 "$REPS"); do
  log "repetition $r/$REPS: dphys rollouts"
  for cfg in l0 ladder; do
    envarg_var="ENVARG_$cfg"
    for pl in off on; do
      for impl in simd scalar; do
        for t in 1 2; do
          bench dphys "$ROLLOUT" "${!envarg_var}" --plasticity=$pl --impl=$impl --threads=$t --pop=256 --episodes=4 \
            --steps=128 --reps="$REPEATS"
        done
      done
    done
  done
  log "repetition $r/$REPS: dphys rollouts of a larger network (N = 64, k = 16)"
  for pl in off on; do
    bench dphys "$ROLLOUT" "$ENVARG_l0" --plasticity=$pl --impl=simd --threads=1 --pop=256 --episodes=4 \
      --steps=128 --reps="$REPEATS" --n_neurons=64 --k_edges=16
  done
  log "repetition $r/$REPS: dphys ES generations"
  for pl in off on; do
    for pop in 64 256; do
      for t in 1 2; do
        bench dphys "$ES" --config=l0 --plasticity=$pl --impl=simd --threads=$t --pop=$pop --episodes=4 --steps=128 \
          --generations="$ES_GENS"
      done
    done
  done
  log "repetition $r/$REPS: peers, NumPy batched (rollout, es)"
  bench peers_numpy env OPENBLAS_NUM_THREADS=1 $PY "$PEERS/chemotaxis/bench_chemotaxis.py" --backend numpy \
    --what rollout,es --repeats "$REPEATS" --es-gens "$ES_GENS"
  bench peers_numpy_ladder env OPENBLAS_NUM_THREADS=1 $PY "$REPO/bench/peer_numpy_rollout.py" "$PEERS" \
    --config ladder --repeats "$REPEATS"
  log "repetition $r/$REPS: peers, scalar C++ (throughput, es)"
  bench peers_cpp "$CHEMO" --fixture "$FIXTURE" --mode throughput --repeats "$REPEATS"
  bench peers_cpp "$CHEMO" --fixture "$FIXTURE" --mode es --es-gens "$ES_GENS" --cma-gens 2
  for t in 1 2; do
    bench peers_cpp_ladder "$PEER_CPP" "$FIXTURE" --config ladder --repeats "$REPEATS" --threads $t
  done
done
log "$(wc -l < "$OUT") records in $OUT"

$HELPER report "$OUT" > "$BUILD/compare.md"
if [ "$PAIRED_ROUNDS" -gt 0 ]; then
  log "paired rounds: dphys and the peers side by side ($PAIRED_ROUNDS rounds)"
  {
    echo
    echo "### Paired rounds (bench/paired_peers.py, $PAIRED_ROUNDS rounds): dphys simd ÷ each peer, median over rounds of each round's ratio"
    echo
    $PY "$REPO/bench/paired_peers.py" --rounds "$PAIRED_ROUNDS" --reps "$REPEATS" --peers "$PEERS" \
      "$ROLLOUT" "$CHEMO" "$PEER_CPP" \
      "$FIXTURE" 2>&1 > "$BUILD/paired.jsonl" | grep -v '^\[paired_peers\]'
  } >> "$BUILD/compare.md" || die "bench/paired_peers.py failed"
fi
cat "$BUILD/compare.md"
