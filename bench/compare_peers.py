#!/usr/bin/python3
"""Helper of bench/compare_peers.sh (Debian's /usr/bin/python3, standard library only).

  compare_peers.py tag SOURCE RUN        stdin JSON lines -> stdout, each with "source" and "run" added
                                         (non-JSON lines are dropped to stderr)
  compare_peers.py machine               one JSON line describing this machine and toolchain
  compare_peers.py report FILE.jsonl     the ratio table (Markdown) of dphys vs the peers, from the
                                         medians over runs of each measurement

Ratios use agent-steps/s (rollouts) or seconds per generation (ES); "x" = how many times dphys is
faster. Targets are the ones of issue 3.
"""
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import defaultdict


def tag(source, run):
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            print(f"[{source}] {line}", file=sys.stderr)
            continue
        rec.setdefault("source", source)
        rec["run"] = int(run)
        rec["utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        rec["loadavg_1min"] = os.getloadavg()[0]
        print(json.dumps(rec), flush=True)


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
    es = defaultdict(list)
    es_eval = defaultdict(list)
    for r in recs:
        b = r.get("bench")
        if b == "rollout":  # dphys
            key = ("dphys", r["impl"], r["config"], _pl(r["plasticity"]), r["threads"])
            roll[key].append(r["agent_steps_per_s"])
        elif b == "chemo_rollout":  # peers
            impl = r["impl"]
            cfg = r.get("config", "l0")
            threads = r.get("threads")
            if threads is None:
                threads = 2 if "thread_bfe" in impl else 1
            roll[("peer", impl, cfg, _pl(r["plasticity"]), threads)].append(r["agent_steps_per_s"])
        elif b == "es_generation":  # dphys
            key = ("dphys", f"dphys_openai_es_{r['impl']}_{r['threads']}thr", r["config"], _pl(r["plasticity"]),
                   r["pop"])
            es[key].append(r["median_s_per_gen"])
            es_eval[key].append(r["median_eval_s_per_gen"])
        elif b == "chemo_es_generation" and r.get("algo") == "openai_es(koki2)":
            key = ("peer", r["impl"], "l0", _pl(r["plasticity"]), r["pop"])
            es[key].append(r["median_s_per_gen"])
            ev = r.get("median_eval_s_per_gen", r.get("median_rollout_s_per_gen"))
            if ev is not None:
                es_eval[key].append(ev)

    med = lambda xs: statistics.median(xs) if xs else None  # noqa: E731
    R = {k: med(v) for k, v in roll.items()}
    E = {k: med(v) for k, v in es.items()}
    runs = max((len(v) for v in roll.values()), default=0)

    def fmt_rate(x):
        return "–" if x is None else f"{x / 1e6:.2f} M"

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
    out.append(f"Medians over {runs} run(s) of each benchmark's own median; ✓/✗ = issue-3 target met / not met.\n")

    # --- table 1: throughput
    out.append("### Rollout throughput (agent-steps/s, 256 genomes × 4 episodes × 128 steps)\n")
    impls_peer = ["numpy_batched", "cpp_scalar_1thread", "cpp_scalar_eventdriven_1thread",
                  "cpp_scalar_pagmo_thread_bfe", "cpp_scalar_eventdriven_pagmo_thread_bfe", "cpp_scalar_2threads",
                  "cpp_scalar_eventdriven_2threads"]
    out.append("| implementation | threads | l0 off | l0 on | ladder off | ladder on |")
    out.append("|---|---|---|---|---|---|")
    for impl in ("simd", "scalar"):
        for t in (1, 2):
            cells = [fmt_rate(R.get(("dphys", impl, c, p, t))) for c in ("l0", "ladder") for p in ("off", "on")]
            out.append(f"| dphys {impl} | {t} | " + " | ".join(cells) + " |")
    for impl in impls_peer:
        ts = sorted({k[4] for k in R if k[0] == "peer" and k[1] == impl})
        for t in ts:
            cells = [fmt_rate(R.get(("peer", impl, c, p, t))) for c in ("l0", "ladder") for p in ("off", "on")]
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
                cells += ["–" if k not in E else f"{E[k] * 1e3:.2f} ms",
                          "–" if not es_eval.get(k) else f"{med(es_eval[k]) * 1e3:.2f} ms"]
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
    loads = [r.get("loadavg_1min") for r in recs if r.get("loadavg_1min") is not None]
    if loads:
        out.append(f"1-minute load average while measuring: min {min(loads):.2f}, median "
                   f"{statistics.median(loads):.2f}, max {max(loads):.2f} (2 cores; > ~1.2 means another "
                   f"process shared the machine)")
    print("\n".join(out))


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "tag" and len(sys.argv) == 4:
        tag(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 2 and sys.argv[1] == "machine":
        machine()
    elif len(sys.argv) == 3 and sys.argv[1] == "report":
        report(sys.argv[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
