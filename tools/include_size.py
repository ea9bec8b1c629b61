#!/usr/bin/env python3
"""The size of what `#include <dphys/dphys.hpp>` hands the compiler, and a budget for it.

Compile time cannot be checked by a test (tests never time anything, and this machine's speed swings
between phases), but what drives the front end can: the preprocessed source. This script runs the
preprocessor (`CXX -E`) on a translation unit that includes one header and counts the non-blank
lines it produces, split into dphys's own (from files under the include directory's `dphys/`) and
the rest (the standard library, xsimd, fmt, Hana), and lists the external headers
that a dphys header is the first to include (external_top; a header already included, e.g. <string>
through fmt, is not entered again). It prints one JSON object.

With --budget FILE it also checks the figures against a budget (tests/include_budget.json) and
exits 1 with one line per broken rule:
  - dphys_lines <= budget dphys_lines * (1 + tolerance): dphys's own code, on any compiler;
  - preprocessed_lines <= budget preprocessed_lines * (1 + tolerance): checked only with the compiler
    the budget was recorded with (other standard libraries differ in size), a note otherwise;
  - every external header that a dphys header is the first to include is in the budget's
    external_top list (a new dependency, e.g. <regex>, is a decision, not an accident).
Raising the budget is deliberate: measure with bench/compile_cost.sh, record the new figures with
--write-budget, and say why in the commit message.

The preprocessing is done for a fixed target (-march=x86-64-v3 by default), so the figures do not
depend on the host's CPU. --self-test checks that the rules fire: a budget 10 % below the measured
size and a budget missing one external header must both fail, the measured size must pass.

Usage:
  tools/include_size.py [--cxx g++] [--include include] [--header dphys/dphys.hpp]
                        [--budget tests/include_budget.json | --write-budget FILE | --self-test]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

MARKER = re.compile(r'^# (\d+) "([^"]*)"((?: \d)*)\s*$')


def measure(cxx, include_dir, header, flags):
    """Preprocesses `#include <header>` and returns the figures as a dict."""
    include_dir = os.path.realpath(include_dir)
    own_root = os.path.join(include_dir, "dphys") + os.sep
    with tempfile.TemporaryDirectory() as tmp:
        tu = os.path.join(tmp, "include_size.cpp")
        with open(tu, "w") as f:
            f.write(f"#include <{header}>\n")
        cmd = [cxx, *flags, "-I", include_dir, "-E", tu]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
        except OSError as e:
            sys.exit(f"include_size.py: error: --cxx '{cxx}' cannot be run: {e.strerror}")
        if proc.returncode != 0:
            sys.exit(f"include_size.py: error: '{' '.join(cmd)}' failed:\n{proc.stderr}")
        version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout
    resolved = {}

    def is_own(path):
        if path not in resolved:
            real = os.path.realpath(path) if path and not path.startswith("<") else path
            resolved[path] = real.startswith(own_root)
        return resolved[path]

    total = own = 0
    files, own_files = set(), set()
    external_top = set()
    current = None  # the file the following lines come from
    for line in proc.stdout.splitlines():
        if line.startswith("# "):
            m = MARKER.match(line)
            if not m:
                continue
            path, flag_text = m.group(2), m.group(3).split()
            # Flag 1: `path` is entered from `current` (flag 2 returns to `path`). A header that is
            # already included is not entered again, so this sees each header's first includer.
            if "1" in flag_text and current is not None and is_own(current) \
                    and not is_own(path) and not path.startswith("<"):
                external_top.add(short_name(path))
            current = path
            continue
        if not line.strip() or current is None:
            continue
        total += 1
        files.add(current)
        if is_own(current):
            own += 1
            own_files.add(current)
    return {
        "bench": "include_size",
        "header": header,
        "compiler": version.splitlines()[0] if version else cxx,
        "flags": " ".join(flags),
        "preprocessed_lines": total,
        "dphys_lines": own,
        "external_lines": total - own,
        "files": len(files),
        "dphys_files": len(own_files),
        "external_top": sorted(external_top),
    }


def short_name(path):
    """/usr/include/c++/12/vector -> vector; /usr/include/fmt/format.h -> fmt/format.h."""
    real = os.path.normpath(path)
    for prefix in ("/usr/include/c++/", "/usr/local/include/c++/"):
        if real.startswith(prefix):  # drop the version directory
            return real[len(prefix):].split("/", 1)[1]
    for prefix in ("/usr/include/x86_64-linux-gnu/", "/usr/local/include/", "/usr/include/"):
        if real.startswith(prefix):
            return real[len(prefix):]
    return real


def compiler_id(version):
    """'g++ (Debian 12.2.0-14+deb12u1) 12.2.0' -> 'g++ 12.2.0'; 'Debian clang version 14.0.6' ->
    'clang 14.0.6': the family and release, whatever the distribution's patch level."""
    family = "clang" if "clang" in version else (version.split() or ["?"])[0]
    releases = re.findall(r"\b\d+\.\d+(?:\.\d+)?\b", version)
    return f"{family} {releases[-1] if releases else '?'}"


def check(fig, budget, budget_path="tests/include_budget.json"):
    """Returns (errors, notes) for the figures against the budget."""
    errors, notes = [], []
    tol = float(budget.get("tolerance", 0.05))
    rule = (f"the limit is the budget in {budget_path} × (1 + tolerance {tol:g}); raise it only "
            f"deliberately (tools/include_size.py --write-budget, with the compile-cost figures)")
    limit = budget["dphys_lines"] * (1 + tol)
    if fig["dphys_lines"] > limit:
        errors.append(f"dphys_lines = {fig['dphys_lines']} exceeds {limit:.0f} "
                      f"(budget {budget['dphys_lines']}): dphys's own preprocessed code grew; {rule}")
    if compiler_id(fig["compiler"]) == compiler_id(budget.get("compiler", "")):
        limit = budget["preprocessed_lines"] * (1 + tol)
        if fig["preprocessed_lines"] > limit:
            errors.append(f"preprocessed_lines = {fig['preprocessed_lines']} exceeds {limit:.0f} "
                          f"(budget {budget['preprocessed_lines']}): the translation unit grew, "
                          f"in dphys or in what it includes; {rule}")
    else:
        notes.append(f"preprocessed_lines not checked: compiler '{fig['compiler']}' is not the "
                     f"budget's '{budget.get('compiler')}'")
    allowed = set(budget.get("external_top", []))
    for name in fig["external_top"]:
        if name not in allowed:
            errors.append(f"external_top: a dphys header now includes <{name}>, which is not in "
                          f"the budget's list of external headers dphys includes; {rule}")
    return errors, notes


def self_test(fig):
    """The rules must fire on a budget below the measured size or without one external header."""
    exact = {"compiler": fig["compiler"], "tolerance": 0.05, "dphys_lines": fig["dphys_lines"],
             "preprocessed_lines": fig["preprocessed_lines"], "external_top": fig["external_top"]}
    failures = []
    if check(fig, exact)[0]:
        failures.append("the measured figures do not pass their own budget")
    small = dict(exact, dphys_lines=int(fig["dphys_lines"] * 0.9))
    if not any(e.startswith("dphys_lines") for e in check(fig, small)[0]):
        failures.append("a dphys_lines budget 10 % below the measurement passed")
    small = dict(exact, preprocessed_lines=int(fig["preprocessed_lines"] * 0.9))
    if not any(e.startswith("preprocessed_lines") for e in check(fig, small)[0]):
        failures.append("a preprocessed_lines budget 10 % below the measurement passed")
    if fig["external_top"]:
        fewer = dict(exact, external_top=fig["external_top"][1:])
        if not any(e.startswith("external_top") for e in check(fig, fewer)[0]):
            failures.append(f"a budget without <{fig['external_top'][0]}> passed")
    else:
        failures.append("no external header found: the include chain was not followed")
    if fig["dphys_lines"] <= 0 or fig["dphys_lines"] >= fig["preprocessed_lines"]:
        failures.append(f"implausible split: {fig['dphys_lines']} of "
                        f"{fig['preprocessed_lines']} lines attributed to dphys")
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cxx", default=os.environ.get("CXX", "g++"))
    ap.add_argument("--include", default=os.path.join(os.path.dirname(__file__), "..", "include"))
    ap.add_argument("--header", default="dphys/dphys.hpp")
    ap.add_argument("--flags", default="-std=c++20 -march=x86-64-v3",
                    help="preprocessor flags (default: %(default)s)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--budget", help="check against this budget file")
    mode.add_argument("--write-budget", help="write the measured figures as a budget file")
    mode.add_argument("--self-test", action="store_true", help="check that the rules fire")
    args = ap.parse_args()

    fig = measure(args.cxx, args.include, args.header, args.flags.split())
    print(json.dumps(fig))
    if args.self_test:
        failures = self_test(fig)
        for f in failures:
            print(f"include_size.py: self-test failed: {f}", file=sys.stderr)
        return 1 if failures else 0
    if args.write_budget:
        budget = {"compiler": fig["compiler"], "flags": fig["flags"], "tolerance": 0.05,
                  "dphys_lines": fig["dphys_lines"], "preprocessed_lines": fig["preprocessed_lines"],
                  "external_top": fig["external_top"]}
        tmp = args.write_budget + ".tmp"
        with open(tmp, "w") as f:
            json.dump(budget, f, indent=2)
            f.write("\n")
        os.replace(tmp, args.write_budget)
        return 0
    if args.budget:
        try:
            with open(args.budget) as f:
                budget = json.load(f)
            if not isinstance(budget, dict):
                sys.exit(f"include_size.py: error: {args.budget}: expected a JSON object")
            for key in ("dphys_lines", "preprocessed_lines"):
                if not isinstance(budget.get(key), int) or budget[key] <= 0:
                    sys.exit(f"include_size.py: error: {args.budget}: '{key}' must be a positive "
                             f"integer, got {budget.get(key)!r}")
            tol = budget.get("tolerance", 0.05)
            if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 <= tol <= 1:
                sys.exit(f"include_size.py: error: {args.budget}: 'tolerance' must be a number in "
                         f"[0, 1], got {tol!r}")
            top = budget.get("external_top", [])
            if not isinstance(top, list) or not all(isinstance(x, str) for x in top):
                sys.exit(f"include_size.py: error: {args.budget}: 'external_top' must be a list "
                         f"of header names")
        except (OSError, json.JSONDecodeError) as e:
            sys.exit(f"include_size.py: error: cannot read budget {args.budget}: {e}")
        errors, notes = check(fig, budget, args.budget)
        for n in notes:
            print(f"include_size.py: note: {n}", file=sys.stderr)
        for e in errors:
            print(f"include_size.py: error: {e}", file=sys.stderr)
        return 1 if errors else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
