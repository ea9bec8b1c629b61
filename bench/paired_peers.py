#!/usr/bin/python3
"""Paired rounds of dphys against the peers of ../shared/peers: the median of per-round ratios.

  paired_peers.py [--rounds 15] [--reps 7] [--threads 1,2] [--peers DIR] ROLLOUT CHEMO_BENCH PEER_CPP FIXTURE

ROLLOUT is dphys_bench_rollout, CHEMO_BENCH the peers' chemo_bench (koki2 L0: `--mode throughput`,
dense and event-driven, one thread and pagmo's thread_bfe), PEER_CPP bench/peer_cpp_rollout.cpp built
by compare_peers.sh (the same port on dphys's `ladder`), FIXTURE the peers' make_fixture.py output.
compare_peers.sh builds all three in $BUILD_DIR and writes the fixture there. With --peers DIR (the
peers' directory) the rounds also run the batched NumPy port: DIR/chemotaxis/bench_chemotaxis.py for
l0 and bench/peer_numpy_rollout.py for ladder, with Debian's /usr/bin/python3 and one BLAS thread (as
compare_peers.sh runs them); its 2-thread ratio counts NumPy twice (ideal two-process scaling).

A round runs, one process at a time: chemo_bench once (all its L0 cells), peer_cpp_rollout once per
thread count (ladder), and dphys_bench_rollout (SIMD) for every config × plasticity × thread count,
plus its scalar (`float`) instantiation on one thread (for the SIMD ÷ scalar row).
The order of the processes rotates from round to round. For every cell the round's ratio is dphys's
agent-steps/s ÷ the peer's, each from that process's own median over --reps evaluations (what both
benchmarks report); the script prints the median over rounds of that ratio with its interquartile
range, and how many rounds met the target.

Why: compare_peers.sh runs every benchmark REPS times and divides medians taken minutes apart; on a
shared VM whose speed drifts by ±30 % over minutes, a cell near its target then passes in one run and
fails in the next. Here both sides of a ratio run seconds apart, in every round, so the drift cancels
in the per-round ratio (the method of bench/ab_rollout.py, applied to the peers).

Output: a Markdown table on stderr, one JSON object per cell on stdout.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

from ab_rollout import checked_rounds_reps_threads  # same directory (sys.path[0] of a script)

CONFIGS = ("l0", "ladder")
PLASTICITY = ("off", "on")


def _run(cmd, env=None):
    run = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if run.returncode != 0:
        sys.exit(f"paired_peers.py: {' '.join(cmd)} failed ({run.returncode}): {run.stderr.strip()[-400:]}")
    recs = []
    for line in run.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            recs.append(json.loads(line))
    if not recs:
        sys.exit(f"paired_peers.py: {' '.join(cmd)} printed no JSON line")
    return recs


def _pl(v):
    return ("on" if v else "off") if isinstance(v, bool) else str(v)


def _quartiles(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 4], statistics.median(s), s[(3 * n) // 4]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rollout")
    ap.add_argument("chemo_bench")
    ap.add_argument("peer_cpp")
    ap.add_argument("fixture")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--reps", type=int, default=7, help="evaluations per process (each reports its median)")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--peers", help="the peers' directory: also run the batched NumPy port")
    a = ap.parse_args()
    threads = checked_rounds_reps_threads("paired_peers.py", a.rounds, a.reps, a.threads)
    if any(t not in (1, 2) for t in threads):
        sys.exit("paired_peers.py: --threads: the peers run on 1 thread or on 2 (thread_bfe / std::thread)")
    for path in (a.rollout, a.chemo_bench, a.peer_cpp):
        if not os.access(path, os.X_OK):
            sys.exit(f"paired_peers.py: {path}: not an executable file")
    if not os.path.isfile(a.fixture):
        sys.exit(f"paired_peers.py: {a.fixture}: no such fixture (bench/compare_peers.sh writes it)")

    # (command, environment or None): one process each per round
    jobs = [([a.chemo_bench, "--fixture", a.fixture, "--mode", "throughput", "--repeats", str(a.reps)], None)]
    jobs += [([a.peer_cpp, a.fixture, "--config", "ladder", "--repeats", str(a.reps), "--threads", str(t)], None)
             for t in threads]
    jobs += [([a.rollout, f"--config={c}", f"--plasticity={p}", f"--impl={impl}", f"--threads={t}",
               f"--reps={a.reps}", "--fma_peak=false"], None)
             for c in CONFIGS for p in PLASTICITY for impl, ts in (("simd", threads), ("scalar", [1])) for t in ts]

    if a.peers:
        numpy_l0 = os.path.join(a.peers, "chemotaxis", "bench_chemotaxis.py")
        numpy_ladder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer_numpy_rollout.py")
        if not os.path.isfile(numpy_l0):
            sys.exit(f"paired_peers.py: --peers {a.peers}: no chemotaxis/bench_chemotaxis.py there")
        one_blas_thread = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        jobs += [(["/usr/bin/python3", numpy_l0, "--backend", "numpy", "--what", "rollout",
                   "--repeats", str(a.reps)], one_blas_thread),
                 (["/usr/bin/python3", numpy_ladder, a.peers, "--config", "ladder", "--repeats", str(a.reps)],
                  one_blas_thread)]

    # rate[(side, config, plasticity, threads, kind)] = agent-steps/s per round; kind: simd / scalar
    # (dphys), event-driven / dense / numpy (peers)
    rate = {}
    for rnd in range(a.rounds):
        shift = rnd % len(jobs)
        for cmd, env in jobs[shift:] + jobs[:shift]:
            for r in _run(cmd, env):
                if r.get("bench") == "rollout":
                    key = ("dphys", r["config"], _pl(r["plasticity"]), r["threads"], r["impl"])
                elif r.get("bench") == "chemo_rollout":
                    impl = r["impl"]
                    kind = "numpy" if impl.startswith("numpy") else \
                        "event-driven" if "eventdriven" in impl else "dense"
                    t = r.get("threads") or (2 if ("thread_bfe" in impl or "2threads" in impl) else 1)
                    key = ("peer", r.get("config", "l0"), _pl(r["plasticity"]), t, kind)
                else:
                    continue
                rate.setdefault(key, [None] * a.rounds)[rnd] = r["agent_steps_per_s"]
        print(f"[paired_peers] round {rnd + 1}/{a.rounds} done", file=sys.stderr)

    rows = []

    def add_row(c, p, t, peer, ratios, target, **extra):
        q1, med, q3 = _quartiles(ratios)
        rows.append({"bench": "paired_peers", "config": c, "plasticity": p, "threads": t, "peer": peer,
                     "rounds": len(ratios), "reps": a.reps, "ratio_median": med, "ratio_q1": q1, "ratio_q3": q3,
                     "target": target,
                     "rounds_meeting_target": None if target is None else sum(1 for x in ratios if x >= target),
                     **extra})

    def ratios_of(num, den, den_scale=1):
        return [x / (y * den_scale) for x, y in zip(num, den) if x and y]

    for c in CONFIGS:
        for p in PLASTICITY:
            for t in threads:
                d = rate.get(("dphys", c, p, t, "simd"))
                for kind, target in (("event-driven", 5.0), ("dense", None), ("numpy", 10.0)):
                    q = rate.get(("peer", c, p, 1 if kind == "numpy" else t, kind))
                    cores = t if kind == "numpy" else 1  # NumPy runs on one core: ideal scaling
                    ratios = ratios_of(d, q, cores) if d and q else []
                    if ratios:
                        peer = ("numpy_batched" + (f" ×{t}" if t > 1 else "")) if kind == "numpy" \
                            else f"cpp_scalar_{kind}"
                        add_row(c, p, t, peer, ratios, target,
                                dphys_median_agent_steps_per_s=statistics.median(x for x in d if x),
                                peer_median_agent_steps_per_s=statistics.median(y * cores for y in q if y))
            one, scalar = rate.get(("dphys", c, p, 1, "simd")), rate.get(("dphys", c, p, 1, "scalar"))
            if one and scalar and ratios_of(one, scalar):
                add_row(c, p, 1, "dphys scalar (float)", ratios_of(one, scalar), 8.0)
            two = rate.get(("dphys", c, p, 2, "simd"))
            if one and two and ratios_of(two, one):
                add_row(c, p, "2/1", "dphys simd 1 thread", ratios_of(two, one), 1.7)

    print("| config | plasticity | threads | dphys simd ÷ | ratio, median [IQR] | target | rounds meeting it |",
          file=sys.stderr)
    print("|---|---|---|---|---|---|---|", file=sys.stderr)
    for r in rows:
        tgt = "–" if r["target"] is None else f"≥ {r['target']:g}×"
        met = "–" if r["target"] is None else f"{r['rounds_meeting_target']} / {r['rounds']}"
        mark = "" if r["target"] is None else (" ✓" if r["ratio_median"] >= r["target"] else " ✗")
        print(f"| {r['config']} | {r['plasticity']} | {r['threads']} | {r['peer']} | {r['ratio_median']:.2f}×{mark} "
              f"[{r['ratio_q1']:.2f}, {r['ratio_q3']:.2f}] | {tgt} | {met} |", file=sys.stderr)
        print(json.dumps(r))


if __name__ == "__main__":
    main()
