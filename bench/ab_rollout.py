#!/usr/bin/python3
"""A/B comparison of rollout kernels (or thread counts) on a noisy machine.

  ab_rollout.py [--rounds N] [--config l0|ladder] [--plasticity off|on] [--threads 1[,2]]
                [--impl simd|scalar] [--reps R] [--warmup-s S] BINARY [BINARY ...]

Each variant is one (BINARY, threads) pair: a dphys_bench_rollout binary (e.g. one built from
another commit) run with one of the thread counts. A round runs every variant once, one after the
other, each in its own process; a variant's figure for the round is its best repetition (agent-steps
per second of its fastest of R evaluations). After N rounds it prints, per variant, the median of
its figures and the median over rounds of its ratio to the first variant's figure *in the same
round*, with the interquartile range of that ratio.

Why: on a shared VM the same binary varies by ±15 % from one process to the next and over minutes
(the host's frequency and neighbours), so two single runs cannot resolve a 5 % change. Alternating
the variants round by round lets the slow phases hit all of them, and the per-round ratio cancels
them; with 61–101 rounds (a few seconds each) the median ratio is reproducible to about ±1–2 %.
Every variant must report the same mean fitness (the kernels are bit-identical), and the script
fails if they do not.

On a host whose speed swings by 2× between phases (the Zen 3 host of 2026-12-07: 19–40 M agent-steps/s
for the same binary, process after process), even the per-round ratio is noisy (IQR ±15 %). The upper
quantiles of each variant's figures over the rounds are then the steadier reading: they come from the
rounds that ran in a fast phase, which every variant gets if the rounds are many. The script also
prints the 75th and 90th percentiles and their ratios, and reverses the order of the variants in every
other round, so no variant always runs first.

Output: one JSON object per variant (after a Markdown table on stderr).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


def checked_rounds_reps_threads(program, rounds, reps, threads):
    """The thread counts of a comma-separated --threads; exits with a message naming the option
    when --rounds or --reps is < 1 or --threads is not a list of positive integers."""
    if rounds < 1 or reps < 1:
        sys.exit(f"{program}: --rounds and --reps must be >= 1 (got {rounds}, {reps})")
    try:
        counts = [int(t) for t in threads.split(",")]
    except ValueError:
        counts = []
    if not counts or any(t < 1 for t in counts):
        sys.exit(f"{program}: --threads = {threads!r}: expected comma-separated positive integers")
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--rounds", type=int, default=61)
    ap.add_argument("--config", default="l0", choices=["l0", "ladder"])
    ap.add_argument("--plasticity", default="off", choices=["off", "on"])
    ap.add_argument("--impl", default="simd", choices=["simd", "scalar"])
    ap.add_argument("--threads", default="1", help="comma-separated thread counts, e.g. 1,2")
    ap.add_argument("--reps", type=int, default=15, help="evaluations per process (best is kept)")
    ap.add_argument("--warmup-s", type=float, default=0.25, help="untimed evaluations per process (s)")
    a = ap.parse_args()
    threads = checked_rounds_reps_threads("ab_rollout.py", a.rounds, a.reps, a.threads)
    for b in a.binaries:
        if not os.access(b, os.X_OK):
            sys.exit(f"ab_rollout.py: {b}: not an executable file")
    variants = [(b, t) for b in a.binaries for t in threads]
    rate = {v: [] for v in variants}
    fitness = {}
    for round_index in range(a.rounds):
        for b, t in variants if round_index % 2 == 0 else variants[::-1]:
            cmd = [b, f"--config={a.config}", f"--plasticity={a.plasticity}", f"--impl={a.impl}",
                   f"--threads={t}", f"--reps={a.reps}", "--fma_peak=false", f"--warmup_s={a.warmup_s}"]
            run = subprocess.run(cmd, capture_output=True, text=True)
            if run.returncode != 0:
                sys.exit(f"ab_rollout.py: {' '.join(cmd)} failed ({run.returncode}): {run.stderr.strip()}")
            rec = json.loads(run.stdout.strip().splitlines()[-1])
            rate[(b, t)].append(rec["agent_steps"] / min(rec["times_s"]))
            fitness.setdefault((b, t), rec["mean_fitness"])
    if len(set(fitness.values())) != 1:
        sys.exit(f"ab_rollout.py: the variants disagree on mean fitness: {fitness}")
    base = rate[variants[0]]

    def quantile(values, q):
        v = sorted(values)
        return v[min(len(v) - 1, int(q * len(v)))]

    print(f"| variant | threads | median agent-steps/s | ratio to {os.path.basename(variants[0][0])} "
          f"({variants[0][1]} thr), median [IQR] | p75, p90 agent-steps/s | ratio of p75, p90 |",
          file=sys.stderr)
    print("|---|---|---|---|---|---|", file=sys.stderr)
    for b, t in variants:
        r = rate[(b, t)]
        ratios = sorted(x / y for x, y in zip(r, base))
        n = len(ratios)
        rec = {"bench": "ab_rollout", "binary": b, "threads": t, "config": a.config,
               "plasticity": a.plasticity, "impl": a.impl, "rounds": a.rounds, "reps": a.reps,
               "median_agent_steps_per_s": statistics.median(r),
               "ratio_median": statistics.median(ratios),
               "ratio_q1": ratios[n // 4], "ratio_q3": ratios[(3 * n) // 4],
               "p75_agent_steps_per_s": quantile(r, 0.75), "p90_agent_steps_per_s": quantile(r, 0.9),
               "ratio_p75": quantile(r, 0.75) / quantile(base, 0.75),
               "ratio_p90": quantile(r, 0.9) / quantile(base, 0.9),
               "mean_fitness": fitness[(b, t)]}
        print(f"| {os.path.basename(b)} | {t} | {rec['median_agent_steps_per_s'] / 1e6:.2f} M | "
              f"{rec['ratio_median']:.3f} [{rec['ratio_q1']:.3f}, {rec['ratio_q3']:.3f}] | "
              f"{rec['p75_agent_steps_per_s'] / 1e6:.2f}, {rec['p90_agent_steps_per_s'] / 1e6:.2f} M | "
              f"{rec['ratio_p75']:.3f}, {rec['ratio_p90']:.3f} |", file=sys.stderr)
        print(json.dumps(rec))


if __name__ == "__main__":
    main()
