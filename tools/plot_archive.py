#!/usr/bin/python3
"""Draw a dphys quality-diversity archive as a 2-D heatmap of the objective per cell.

    /usr/bin/python3 tools/plot_archive.py RUN_DIR_OR_ARCHIVE_JSONL [--out PNG] [--title TEXT]

Reads archive.jsonl (written by dphys::qd::write_archive_jsonl): the first line is the
{"record": "archive", ...} header, every further line one {"record": "elite", ...} cell. A grid
archive with two descriptor dimensions is drawn as an image over the descriptor box (first
descriptor on the x axis), empty cells blank; a CVT archive (or any archive with two descriptors) as
one dot per elite at its descriptor. The colour is the objective. The figure goes to
archive_heatmap.png next to archive.jsonl unless --out is given; it is written to a temporary file
and renamed, so a reader never sees half a PNG.
Exit status: 0 on success, 2 on bad input, 3 when matplotlib/numpy is missing.
Needs only Debian's python3-matplotlib and python3-numpy.
"""

import argparse
import json
import os
import sys


class InputError(Exception):
    pass


def read_archive(path):
    if os.path.isdir(path):
        path = os.path.join(path, "archive.jsonl")
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file (expected a run directory or an archive.jsonl)")
    header, elites = None, []
    with open(path, "r", encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as e:
                raise InputError(f"{path} line {number}: not valid JSON ({e})") from None
            if not isinstance(record, dict) or "record" not in record:
                raise InputError(f"{path} line {number}: expected an object with a 'record' field")
            if record["record"] == "archive":
                if header is not None:
                    raise InputError(f"{path} line {number}: a second archive header")
                header = record
            elif record["record"] == "elite":
                for key in ("cell", "objective", "descriptor"):
                    if key not in record:
                        raise InputError(f"{path} line {number}: elite without '{key}'")
                elites.append(record)
    if header is None:
        raise InputError(f"{path}: no {{\"record\": \"archive\"}} header line")
    if header.get("descriptor_dim") != 2:
        raise InputError(f"{path}: descriptor_dim is {header.get('descriptor_dim')}, "
                         "only 2-D archives can be drawn")
    return path, header, elites


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", help="run directory or archive.jsonl")
    parser.add_argument("--out", help="output PNG (default: archive_heatmap.png beside the archive)")
    parser.add_argument("--title", help="figure title (default: kind, coverage, QD-score)")
    args = parser.parse_args(argv)
    try:
        path, header, elites = read_archive(args.archive)
    except InputError as e:
        print(f"plot_archive.py: error: {e}", file=sys.stderr)
        return 2
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
    except ImportError as e:
        print(f"plot_archive.py: error: {e} (install python3-matplotlib and python3-numpy)",
              file=sys.stderr)
        return 3

    out = args.out or os.path.join(os.path.dirname(os.path.abspath(path)), "archive_heatmap.png")
    fig, ax = plt.subplots(figsize=(6.4, 5.4))
    kind = header.get("kind", "archive")
    if kind == "grid_archive" and len(header.get("dims", [])) == 2:
        nx, ny = header["dims"]
        lo, hi = header["lower"], header["upper"]
        image = np.full((ny, nx), np.nan)  # rows = second descriptor
        for e in elites:
            if "grid" in e:
                i, j = e["grid"]
            else:
                i, j = divmod(int(e["cell"]), ny)
            image[j, i] = e["objective"]
        cmap = plt.get_cmap("viridis").copy()
        cmap.set_bad(color="white")
        im = ax.imshow(np.ma.masked_invalid(image), origin="lower", cmap=cmap, aspect="auto",
                       extent=(lo[0], hi[0], lo[1], hi[1]), interpolation="nearest")
    else:
        xs = [e["descriptor"][0] for e in elites]
        ys = [e["descriptor"][1] for e in elites]
        cs = [e["objective"] for e in elites]
        im = ax.scatter(xs, ys, c=cs, s=8, cmap="viridis")
        if "lower" in header and "upper" in header:
            ax.set_xlim(header["lower"][0], header["upper"][0])
            ax.set_ylim(header["lower"][1], header["upper"][1])
    fig.colorbar(im, ax=ax, label="objective")
    ax.set_xlabel("descriptor 0")
    ax.set_ylabel("descriptor 1")
    title = args.title or (f"{kind}: coverage {header.get('coverage', float('nan')):.3f}, "
                           f"QD-score {header.get('qd_score', float('nan')):.1f}")
    ax.set_title(title)
    fig.tight_layout()
    tmp = f"{out}.tmp{os.getpid()}.png"
    try:
        fig.savefig(tmp, dpi=100)
        os.replace(tmp, out)
    except OSError as e:
        print(f"plot_archive.py: error: cannot write {out}: {e}", file=sys.stderr)
        if os.path.exists(tmp):
            os.remove(tmp)
        return 2
    finally:
        plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
