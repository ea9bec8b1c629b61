#!/usr/bin/python3
"""Where the rollout's time goes: attributes `perf record -e cpu-clock` samples of a non-PIE binary
built with -g to the dphys kernel section they belong to, following inlining.

  profile_lines.py BINARY PERF.DATA [--lines]

Each sample's address is resolved with `addr2line -i` (the whole inline chain); the sample goes to the
innermost frame in include/dphys/{agents,plasticity,envs,crucibles}/ (so a sample inside
core/simd.hpp's select counts for the kernel line that called it). Lines are then grouped into
sections: the nearest preceding comment line (`// Capitalised text`) in that file, so the kernel's own
section comments name the rows; or the function head (at depth <= 1), or the first line of the doc
comment (`/// ...`) of a function whose head spans several lines. Samples outside the binary are
grouped by shared object.
Prints a Markdown table, largest share first; --lines also prints the top source lines.
"""
import collections
import re
import subprocess
import sys

KERNEL_DIRS = ("dphys/agents/", "dphys/plasticity/", "dphys/envs/", "dphys/crucibles/")


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    binary, data = sys.argv[1], sys.argv[2]
    out = subprocess.run(["perf", "script", "-i", data, "-F", "ip,dso"], capture_output=True, text=True,
                         check=True).stdout
    ips, other = collections.Counter(), collections.Counter()
    name = binary.split("/")[-1]
    for line in out.splitlines():
        parts = line.split()
        if not parts:
            continue
        dso = parts[1] if len(parts) > 1 else "?"
        if name in dso:
            ips[int(parts[0], 16)] += 1
        else:
            other[dso.strip("()").split("/")[-1]] += 1
    total = sum(ips.values()) + sum(other.values())
    addrs = sorted(ips)
    # addr2line prints a variable number of (function, file:line) pairs per address: resolve one at a
    # time, batched through one process with a sentinel address (0) between them.
    args = []
    for a in addrs:
        args += [hex(a), "0x0"]
    res = subprocess.run(["addr2line", "-i", "-f", "-C", "-e", binary] + args, capture_output=True,
                         text=True).stdout.splitlines()
    chains, cur, i = [], [], 0
    while i + 1 < len(res):
        fn, fl = res[i], res[i + 1]
        i += 2
        if fn == "??" and fl.startswith("??:"):
            chains.append(cur)
            cur = []
        else:
            cur.append(fl.split(" (discriminator")[0])
    where, sources = collections.Counter(), {}
    for a, chain in zip(addrs, chains):
        loc = next((fl for fl in chain if any(d in fl for d in KERNEL_DIRS)), None)
        if loc is None:
            loc = next((fl for fl in chain if "/include/dphys/" in fl), chain[-1] if chain else "?:0")
        where[loc] += ips[a]
    sections, lines = collections.Counter(), collections.Counter()
    for loc, n in where.items():
        path, _, ln = loc.rpartition(":")
        short = path.split("/include/")[-1] if "/include/" in path else path.split("/")[-1]
        lines[f"{short}:{ln}"] += n
        sections[section_of(path, ln, short, sources)] += n
    for so, n in other.items():
        sections[f"[{so}]"] += n
    print("| share | section |")
    print("|---:|---|")
    for s, n in sections.most_common():
        if n / total >= 0.005:
            print(f"| {100 * n / total:.1f} % | {s} |")
    if "--lines" in sys.argv:
        print()
        for s, n in lines.most_common(25):
            print(f"{100 * n / total:6.2f} %  {s}")


def section_of(path, ln, short, cache):
    if not ln.isdigit() or "dphys/" not in short:
        return short
    if path not in cache:
        try:
            with open(path) as f:
                cache[path] = f.read().splitlines()
        except OSError:
            cache[path] = []
    src = cache[path]
    for k in range(min(int(ln), len(src)) - 1, -1, -1):
        m = re.match(r"\s*// ([A-Z][^.:;]*)", src[k])
        if m:
            return f"{short.split('/')[-1]}: {m.group(1).strip()}"
        if re.match(r"\s*///", src[k]):
            # A doc comment: the line is in the function it documents (whose head spans several
            # lines, else the head would have matched first); name it by the comment's first line.
            while k > 0 and re.match(r"\s*///", src[k - 1]):
                k -= 1
            return f"{short.split('/')[-1]}: {src[k].strip()[3:].strip()[:60]}"
        if re.match(r"^(  )?\S.*\{\s*$", src[k]) and k < int(ln) - 1:  # function head at depth <= 1
            return f"{short.split('/')[-1]}: {src[k].strip()[:60]}"
    return short


if __name__ == "__main__":
    main()
