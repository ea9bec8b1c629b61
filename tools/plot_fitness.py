#!/usr/bin/python3
"""Plot best / mean / median fitness per generation from dphys run directories.

    /usr/bin/python3 tools/plot_fitness.py RUN_DIR [RUN_DIR ...] [--out PNG]

Reads RUN_DIR/generations.jsonl (fields generation, best_fitness, mean_fitness, median_fitness and, on the
generations that have it, mean_eval.mean_fitness, the ES mean's evaluation, drawn as markers; other fields are
ignored, median_fitness may be missing, null values are gaps). With one run the figure goes to
RUN_DIR/fitness_per_generation.png; with several runs they are overlaid (one colour per run) and the figure goes
to ./fitness_per_generation.png. --out overrides both. A last line cut off by a crash is skipped with a warning.
Exit status: 0 on success, 2 on bad input (missing/empty/invalid generations.jsonl, bad arguments).
Needs only Debian's python3-matplotlib and python3-numpy.
"""

import argparse
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after selecting the backend)

REQUIRED = ("generation", "best_fitness", "mean_fitness")


class InputError(Exception):
    pass


def _number(value):
    """A float for plotting; None (JSON null) and non-numbers become NaN, which matplotlib draws as a gap."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)


def read_generations(run_dir):
    path = os.path.join(run_dir, "generations.jsonl")
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file (is {run_dir!r} a dphys run directory?)")
    with open(path, "rb") as f:
        raw = f.read()
    lines = raw.split(b"\n")
    partial = lines.pop()  # text after the last newline: empty for a clean file
    records = []
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except ValueError as e:
            raise InputError(f"{path} line {number}: not valid JSON ({e})") from None
        if not isinstance(record, dict):
            raise InputError(f"{path} line {number}: expected a JSON object")
        missing = [k for k in REQUIRED if k not in record]
        if missing:
            raise InputError(f"{path} line {number}: missing field(s) {', '.join(missing)}")
        if isinstance(record["generation"], bool) or not isinstance(record["generation"], int):
            raise InputError(f"{path} line {number}: 'generation' must be an integer")
        records.append(record)
    if partial.strip():
        try:
            record = json.loads(partial)
            if isinstance(record, dict) and all(k in record for k in REQUIRED) \
                    and isinstance(record["generation"], int):
                records.append(record)
            else:
                raise ValueError("incomplete record")
        except ValueError:
            print(f"warning: {path}: ignoring the unterminated last line (the run was probably interrupted)",
                  file=sys.stderr)
    if not records:
        raise InputError(f"{path}: no generation records (the file is empty)")
    records.sort(key=lambda r: r["generation"])
    return records


def plot(runs, out, title):
    fig, ax = plt.subplots(figsize=(8, 5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    several = len(runs) > 1
    for i, (name, records) in enumerate(runs):
        colour = colours[i % len(colours)]
        prefix = f"{name}: " if several else ""
        gens = [r["generation"] for r in records]
        ax.plot(gens, [_number(r["best_fitness"]) for r in records], color=colour, linestyle="-",
                label=f"{prefix}best")
        ax.plot(gens, [_number(r["mean_fitness"]) for r in records], color=colour, linestyle="--",
                label=f"{prefix}mean")
        median = [_number(r.get("median_fitness")) for r in records]
        if not all(math.isnan(m) for m in median):
            ax.plot(gens, median, color=colour, linestyle=":", label=f"{prefix}median")
        mu = [(r["generation"], _number(r["mean_eval"].get("mean_fitness"))) for r in records
              if isinstance(r.get("mean_eval"), dict)]
        if mu:
            ax.plot([g for g, _ in mu], [v for _, v in mu], color=colour, linestyle="-", marker="o",
                    markersize=4, alpha=0.6, label=f"{prefix}μ evaluated (mean_eval)")
    ax.set_xlabel("generation")
    ax.set_ylabel("fitness")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="dphys run directory (several: overlay)")
    parser.add_argument("--out", help="output PNG (default: RUN_DIR/fitness_per_generation.png for one run, "
                                      "./fitness_per_generation.png for several)")
    args = parser.parse_args(argv)  # exits with status 2 on bad arguments

    try:
        runs = []
        for run_dir in args.run_dirs:
            name = os.path.basename(os.path.normpath(run_dir))
            runs.append((name, read_generations(run_dir)))
    except InputError as e:
        print(f"plot_fitness: error: {e}", file=sys.stderr)
        return 2

    if args.out:
        out = args.out
    elif len(runs) == 1:
        out = os.path.join(args.run_dirs[0], "fitness_per_generation.png")
    else:
        out = "fitness_per_generation.png"
    names = [name for name, _ in runs]
    title = ", ".join(names) if len(names) <= 3 else f"{len(names)} runs ({names[0]}, ..., {names[-1]})"
    try:
        plot(runs, out, f"fitness per generation: {title}")
    except OSError as e:
        print(f"plot_fitness: error: cannot write {out}: {e.strerror}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
