#!/usr/bin/python3
"""Helper of bench/compare_peers.sh (Debian's /usr/bin/python3, standard library only).

  compare_peers.py run SOURCE RUN WAIT -- CMD ARGS...
        waits up to WAIT seconds until other processes use < 15% of the CPUs, runs CMD, and prints
        its JSON lines with "source", "run", "utc" and "others_cpu_frac" added: the share of the
        machine's CPU time that OTHER processes used while CMD ran (from /proc/stat minus CMD's own
        CPU time). Non-JSON lines go to stderr. Exits with CMD's status.
  compare_peers.py machine
        one JSON line describing this machine and toolchain
  compare_peers.py report FILE.jsonl
        the ratio table (Markdown) of dphys vs the peers: per measurement, the median over the runs
        in which other processes used < 10% of the machine (over all runs, marked *, if none was)

Ratios use agent-steps/s (rollouts) or seconds per generation (ES); "x" = how many times dphys is
faster. Targets are the ones of issue 3.
"""
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict


def _cpu_jiffies():
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        v = list(map(int, f.readline().split()[1:]))
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def _others_busy(seconds=1.0):
    b0, t0 = _cpu_jiffies()
    time.sleep(seconds)
    b1, t1 = _cpu_jiffies()
    return (b1 - b0) / max(t1 - t0, 1)


def run(source, run_index, wait, cmd):
    waited = 0.0
    while wait > 0:
        busy = _others_busy()
        if busy < 0.15:
            break
        waited += 1.0
        if waited >= wait:
            print(f"[{source}] machine still {busy:.0%} busy after {wait:.0f} s; measuring anyway", file=sys.stderr)
            break
    hz = os.sysconf("SC_CLK_TCK")
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    b0, t0 = _cpu_jiffies()
    w0 = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    wall = time.monotonic() - w0
    b1, t1 = _cpu_jiffies()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    ncpu = os.cpu_count() or 1
    others = max(0.0, ((b1 - b0) / hz - own) / max(wall * ncpu, 1e-9))
    for line in proc.stdout.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            print(f"[{source}] {line}", file=sys.stderr)
            continue
        rec.setdefault("source", source)
        rec["run"] = int(run_index)
        rec["utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        rec["others_cpu_frac"] = round(others, 3)
        print(json.dumps(rec), flush=True)
    return proc.returncode


def _cmd(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def machine():
    cpu = None
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    flags = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = line
                break
    mem_kb = None
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    gxx = _cmd(["g++", "--version"])
    rec = dict(bench="machine", cpu=cpu, nproc=os.cpu_count(), mem_gib=round(mem_kb / 2**20, 1) if mem_kb else None,
               avx512f="avx512f" in flags, kernel=platform.release(), gxx=gxx.splitlines()[0] if gxx else None,
               python=platform.python_version(), loadavg=os.getloadavg(),
               dphys_git=_cmd(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "describe", "--always",
                               "--dirty"]),
               utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    try:
        import numpy
        rec["numpy"] = numpy.__version__
    except ImportError:
        pass
    print(json.dumps(rec))


# ------------------------------------------------------------------------------------------------ report

CLEAN = 0.10  # a run is clean if other processes used less than this share of the machine

def _pl(v):
    """Plasticity as "on"/"off" (dphys writes strings, the peers booleans)."""
    if isinstance(v, bool):
        return "on" if v else "off"
    return str(v)


def _load(path):
    recs = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                recs.append(json.loads(line))
    return recs


def report(path):
    recs = _load(path)
    # rollout throughput: key -> list over runs of agent_steps/s
    roll = defaultdict(list)
    fma = defaultdict(list)  # (config, plasticity, threads) -> fma_peak_fraction (dphys simd)
    ceiling = []  # simd_scalar_add_ceiling of every dphys simd rollout record that has it
    edges = defaultdict(list)  # (n_neurons, plasticity) -> edge updates/s (dphys simd, l0, 1 thread)
    es = defaultdict(list)
    es_eval = defaultdict(list)
    for r in recs:
        b = r.get("bench")
        if b == "rollout":  # dphys
            o = r.get("others_cpu_frac", 0.0)
            n = r.get("n_neurons", 32)
            if r["impl"] == "simd" and r["config"] == "l0" and r["threads"] == 1 and "edge_updates_per_s" in r:
                edges[(n, _pl(r["plasticity"]))].append((r["edge_updates_per_s"], o))
            if n != 32:
                continue
            key = ("dphys", r["impl"], r["config"], _pl(r["plasticity"]), r["threads"])
            roll[key].append((r["agent_steps_per_s"], o))
            if r["impl"] == "simd" and r.get("simd_scalar_add_ceiling"):
                ceiling.append(r["simd_scalar_add_ceiling"])
            if r["impl"] == "simd" and r.get("fma_peak_fraction"):
                fma[(r["config"], _pl(r["plasticity"]), r["threads"])].append(
                    ((r["fma_peak_fraction"], r.get("fma_peak_gflops_per_core"), r.get("kernel_flops_per_agent_step")), o))
        elif b == "chemo_rollout":  # peers
            impl = r["impl"]
            cfg = r.get("config", "l0")
            threads = r.get("threads")
            if threads is None:
                threads = 2 if "thread_bfe" in impl else 1
            roll[("peer", impl, cfg, _pl(r["plasticity"]), threads)].append(
                (r["agent_steps_per_s"], r.get("others_cpu_frac", 0.0)))
        elif b == "es_generation":  # dphys
            key = ("dphys", f"dphys_openai_es_{r['impl']}_{r['threads']}thr", r["config"], _pl(r["plasticity"]),
                   r["pop"])
            es[key].append((r["median_s_per_gen"], r.get("others_cpu_frac", 0.0)))
            es_eval[key].append((r["median_eval_s_per_gen"], r.get("others_cpu_frac", 0.0)))
        elif b == "chemo_es_generation" and r.get("algo") == "openai_es(koki2)":
            key = ("peer", r["impl"], "l0", _pl(r["plasticity"]), r["pop"])
            es[key].append((r["median_s_per_gen"], r.get("others_cpu_frac", 0.0)))
            ev = r.get("median_eval_s_per_gen", r.get("median_rollout_s_per_gen"))
            if ev is not None:
                es_eval[key].append((ev, r.get("others_cpu_frac", 0.0)))

    noisy = set()  # keys without a single run in which other processes used < CLEAN of the machine

    def pick(key, pairs):
        """Median over the clean runs (all runs, and the key marked noisy, if none was clean)."""
        if not pairs:
            return None
        clean = [v for v, o in pairs if o < CLEAN]
        if not clean:
            noisy.add(key)
            clean = [v for v, _ in pairs]
        return statistics.median(clean)

    R = {k: pick(k, v) for k, v in roll.items()}
    E = {k: pick(k, v) for k, v in es.items()}
    EV = {k: pick(k, v) for k, v in es_eval.items()}
    runs = max((len(v) for v in roll.values()), default=0)
    all_pairs = [p for d in (roll, es) for v in d.values() for p in v]
    n_clean = sum(1 for _, o in all_pairs if o < CLEAN)

    def fmt_rate(x, key=None):
        return "–" if x is None else f"{x / 1e6:.2f} M" + ("*" if key in noisy else "")

    def ratio(a, b):
        return None if a is None or b is None or b == 0 else a / b

    def fmt_ratio(x, target=None):
        if x is None:
            return "–"
        s = f"{x:.2f}×"
        if target is not None:
            s += " ✓" if x >= target else " ✗"
        return s

    out = []
    out.append(f"{runs} run(s) of every benchmark; each figure is the median, over the runs in which other processes "
               f"used < {CLEAN:.0%} of the machine ({n_clean} of {len(all_pairs)} measurements), of the benchmark's "
               f"own median; * = no clean run, median over all runs. ✓/✗ = issue-3 target met / not met.\n")

    # --- table 1: throughput
    out.append("### Rollout throughput (agent-steps/s, 256 genomes × 4 episodes × 128 steps)\n")
    impls_peer = ["numpy_batched", "cpp_scalar_1thread", "cpp_scalar_eventdriven_1thread",
                  "cpp_scalar_pagmo_thread_bfe", "cpp_scalar_eventdriven_pagmo_thread_bfe", "cpp_scalar_2threads",
                  "cpp_scalar_eventdriven_2threads"]
    out.append("| implementation | threads | l0 off | l0 on | ladder off | ladder on |")
    out.append("|---|---|---|---|---|---|")
    for impl in ("simd", "scalar"):
        for t in (1, 2):
            cells = [fmt_rate(R.get(("dphys", impl, c, p, t)), ("dphys", impl, c, p, t)) for c in ("l0", "ladder")
                     for p in ("off", "on")]
            out.append(f"| dphys {impl} | {t} | " + " | ".join(cells) + " |")
    for impl in impls_peer:
        ts = sorted({k[4] for k in R if k[0] == "peer" and k[1] == impl})
        for t in ts:
            cells = [fmt_rate(R.get(("peer", impl, c, p, t)), ("peer", impl, c, p, t)) for c in ("l0", "ladder")
                     for p in ("off", "on")]
            out.append(f"| {impl} | {t} | " + " | ".join(cells) + " |")
    out.append("")

    # --- table 2: ratios
    out.append("### Ratios (dphys ÷ peer; > 1 = dphys faster)\n")
    out.append("| ratio | target | l0 off | l0 on | ladder off | ladder on |")
    out.append("|---|---|---|---|---|---|")

    def peer_ed(c, p, t):
        if t == 1:
            return R.get(("peer", "cpp_scalar_eventdriven_1thread", c, p, 1))
        return R.get(("peer", "cpp_scalar_eventdriven_pagmo_thread_bfe", c, p, 2)) or \
            R.get(("peer", "cpp_scalar_eventdriven_2threads", c, p, 2))

    def peer_dense(c, p, t):
        if t == 1:
            return R.get(("peer", "cpp_scalar_1thread", c, p, 1))
        return R.get(("peer", "cpp_scalar_pagmo_thread_bfe", c, p, 2)) or \
            R.get(("peer", "cpp_scalar_2threads", c, p, 2))

    def numpy_cores(c, p, t):  # NumPy runs on one core; for 2 threads assume ideal 2-process scaling
        x = R.get(("peer", "numpy_batched", c, p, 1))
        return None if x is None else x * t

    def d(impl, c, p, t):
        return R.get(("dphys", impl, c, p, t))

    rows = [
        ("simd 1 thr ÷ NumPy batched (1 core)", 10, lambda c, p: ratio(d("simd", c, p, 1), numpy_cores(c, p, 1))),
        ("simd 2 thr ÷ NumPy batched ×2 (ideal 2 cores)", 10,
         lambda c, p: ratio(d("simd", c, p, 2), numpy_cores(c, p, 2))),
        ("simd 1 thr ÷ C++ event-driven 1 thr", 5, lambda c, p: ratio(d("simd", c, p, 1), peer_ed(c, p, 1))),
        ("simd 2 thr ÷ C++ event-driven 2 thr (l0: pagmo thread_bfe)", 5,
         lambda c, p: ratio(d("simd", c, p, 2), peer_ed(c, p, 2))),
        ("simd 1 thr ÷ C++ dense 1 thr", None, lambda c, p: ratio(d("simd", c, p, 1), peer_dense(c, p, 1))),
        ("simd 2 thr ÷ C++ dense 2 thr (l0: pagmo thread_bfe)", None,
         lambda c, p: ratio(d("simd", c, p, 2), peer_dense(c, p, 2))),
        ("simd ÷ scalar, 1 thr", 8, lambda c, p: ratio(d("simd", c, p, 1), d("scalar", c, p, 1))),
        ("simd ÷ scalar, 2 thr", 8, lambda c, p: ratio(d("simd", c, p, 2), d("scalar", c, p, 2))),
        ("simd 2 thr ÷ 1 thr", 1.7, lambda c, p: ratio(d("simd", c, p, 2), d("simd", c, p, 1))),
        ("scalar 2 thr ÷ 1 thr", 1.7, lambda c, p: ratio(d("scalar", c, p, 2), d("scalar", c, p, 1))),
    ]
    for name, target, fn in rows:
        cells = [fmt_ratio(fn(c, p), target) for c in ("l0", "ladder") for p in ("off", "on")]
        out.append(f"| {name} | {'≥ ' + str(target) + '×' if target else '–'} | " + " | ".join(cells) + " |")
    out.append("")
    if ceiling:
        out.append(f"simd ÷ scalar ceiling for float arithmetic on this core (lane-adds/s of native-width adds ÷ "
                   f"scalar adds/s, `simd_scalar_add_ceiling`): median {statistics.median(ceiling):.2f}× "
                   f"(range {min(ceiling):.2f}–{max(ceiling):.2f}, {len(ceiling)} measurements); a kernel with "
                   f"any scalar bookkeeping stays below it.\n")

    # --- table 3: ES generation
    out.append("### OpenAI-ES generation, koki2 L0 defaults, 4 episodes × 128 steps (s per generation)\n")
    out.append("| implementation | pop | off: s/gen | of which eval | on: s/gen | of which eval |")
    out.append("|---|---|---|---|---|---|")
    es_impls = sorted({(k[0], k[1]) for k in E if k[2] == "l0"}, key=lambda x: (x[0] != "dphys", x[1]))
    for pop in (64, 256):
        for src, impl in es_impls:
            cells = []
            for p in ("off", "on"):
                k = (src, impl, "l0", p, pop)
                cells += ["–" if k not in E else f"{E[k] * 1e3:.2f} ms" + ("*" if k in noisy else ""),
                          "–" if EV.get(k) is None else f"{EV[k] * 1e3:.2f} ms"]
            if any(c != "–" for c in cells):
                out.append(f"| {impl} | {pop} | " + " | ".join(cells) + " |")
    out.append("")
    out.append("| ES ratio (peer s/gen ÷ dphys s/gen) | target | off | on |")
    out.append("|---|---|---|---|")
    for pop in (256, 64):
        for dimpl in ("dphys_openai_es_simd_2thr", "dphys_openai_es_simd_1thr"):
            for pimpl, target in (("cpp_eventdriven_openai_es+pagmo_thread_bfe", 5),
                                  ("cpp_openai_es+pagmo_thread_bfe", 5), ("numpy_openai_es", None)):
                cells = []
                for p in ("off", "on"):
                    a, b = E.get(("dphys", dimpl, "l0", p, pop)), E.get(("peer", pimpl, "l0", p, pop))
                    tgt = target if (pop == 256 and dimpl.endswith("2thr")) else None
                    cells.append(fmt_ratio(ratio(b, a), tgt))
                if any(c != "–" for c in cells):
                    tgt = "≥ 5×" if (target and pop == 256 and dimpl.endswith("2thr")) else "–"
                    out.append(f"| {dimpl} vs {pimpl}, pop {pop} | {tgt} | " + " | ".join(cells) + " |")
    out.append("")
    # --- table 4: kernel efficiency
    if fma:
        out.append("### Kernel efficiency (dphys simd): dense-equivalent flops of the network + plasticity kernel "
                   "per agent-step × agent-steps/s ÷ (measured FMA peak of one core × threads)\n")
        out.append("| config | plasticity | threads | flops / agent-step | FMA peak / core | fraction | target |")
        out.append("|---|---|---|---|---|---|---|")
        for c in ("l0", "ladder"):
            for p in ("off", "on"):
                for t in (1, 2):
                    pairs = fma.get((c, p, t))
                    if not pairs:
                        continue
                    clean = [v for v, o in pairs if o < CLEAN] or [v for v, _ in pairs]
                    frac = statistics.median(v[0] for v in clean)
                    peak = statistics.median(v[1] for v in clean if v[1])
                    flops = clean[0][2]
                    out.append(f"| {c} | {p} | {t} | {flops:.0f} | {peak:.1f} GFLOP/s | {frac:.1%} | "
                               f"≥ 50% {'✓' if frac >= 0.5 else '✗'} |")
        out.append("")
    if edges:
        out.append("### Larger networks (dphys simd, l0, 1 thread): edge updates per second\n")
        out.append("| plasticity | N = 32, k = 8 | N = 64, k = 16 | ratio | target |")
        out.append("|---|---|---|---|---|")
        for p in ("off", "on"):
            a = pick(("edges", 32, p), edges.get((32, p), []))
            b = pick(("edges", 64, p), edges.get((64, p), []))
            if a and b:
                out.append(f"| {p} | {a / 1e9:.2f} G/s | {b / 1e9:.2f} G/s | {b / a:.2f}× | "
                           f"≥ 0.8× {'✓' if b / a >= 0.8 else '✗'} |")
        out.append("")
    others = [o for _, o in all_pairs]
    if others:
        out.append(f"CPU share used by other processes during the measurements: median {statistics.median(others):.1%}, "
                   f"max {max(others):.1%}.")
    print("\n".join(out))


def main():
    a = sys.argv[1:]
    if len(a) >= 6 and a[0] == "run" and a[4] == "--":
        sys.exit(run(a[1], a[2], float(a[3]), a[5:]))
    elif a == ["machine"]:
        machine()
    elif len(a) == 2 and a[0] == "report":
        report(a[1])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
