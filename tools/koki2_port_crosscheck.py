#!/usr/bin/python3
"""Evaluates a koki2-format run directory (written by `dphys_koki2_exchange --mode=export`, or by
koki2 with its edge list saved) in an independent NumPy implementation of koki2's rollout, and
compares the result with `dphys_koki2_eval`'s JSONL line for the same genome.

The NumPy implementation is the koki2 port of the peer tools
(`../shared/peers/chemotaxis/koki_np.py`, validated against koki2's published figures); pass its
directory with --port. The two draw their
episodes from different random generators (NumPy PCG64 here, dphys's counter-based streams there),
so the comparison is statistical: the difference of the mean fitness over its standard error
(Welch) should be small (|z| < 3). The first output line says whether the edge list is koki2's own
draw from dev_cfg.topology_seed (true for runs made with --agent.topology_rng=numpy).

Usage:
  tools/koki2_port_crosscheck.py --run KOKI2_DIR --port ../shared/peers/chemotaxis \\
      --dphys-eval EVAL.jsonl [--episodes 512] [--seed 424242]
"""
import argparse
import json
import math
import pathlib
import sys

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--run", required=True, type=pathlib.Path)
    ap.add_argument("--port", required=True, type=pathlib.Path)
    ap.add_argument("--dphys-eval", type=pathlib.Path,
                    help="dphys_koki2_eval output for the same genome (its best_genome line)")
    ap.add_argument("--episodes", type=int, default=512)
    ap.add_argument("--seed", type=int, default=424242)
    args = ap.parse_args()
    sys.path.insert(0, str(args.port))
    import koki_np as K  # noqa: E402  (the port, from --port)

    cfg = json.loads((args.run / "config.json").read_text())
    env_fields = {f for f in K.EnvSpec.__dataclass_fields__}
    unknown = set(cfg["env_spec"]) - env_fields
    if unknown:
        print(f"config.json env_spec keys the port does not know: {sorted(unknown)}",
              file=sys.stderr)
        return 2
    env = K.EnvSpec(**cfg["env_spec"])
    sim = K.SimConfig(**cfg["sim_cfg"])
    dev_keys = {f for f in K.DevConfig.__dataclass_fields__}
    dev = K.DevConfig(**{k: v for k, v in cfg["dev_cfg"].items() if k in dev_keys})
    edges = np.load(args.run / "edge_index.npy")
    z = np.load(args.run / "best_genome.npz")
    names = ("obs_w", "rec_w", "motor_w", "motor_b", "mod_w")
    genome = np.concatenate([z[k].ravel() for k in names])
    topo = (edges[:, 0].astype(np.int32), edges[:, 1].astype(np.int32))
    # Is the edge list koki2's own draw from topology_seed (dphys's agent.topology_rng = numpy)?
    n, e = cfg["dev_cfg"]["n_neurons"], cfg["dev_cfg"]["edge_index_shape"][0]
    src, dst = K.make_topology(n, e // n, cfg["dev_cfg"]["topology_seed"])
    koki2_draw = bool(np.array_equal(src, topo[0]) and np.array_equal(dst, topo[1]))
    print(json.dumps({"edges_are_koki2_draw_from_topology_seed": koki2_draw}))
    out = K.rollout_snn(genome[None, :], dev, topo, env, sim, args.episodes,
                        rng=np.random.default_rng(args.seed))
    fit = out["fitness"][0].astype(np.float64)
    port = {"mean_fitness": float(fit.mean()),
            "se_fitness": float(fit.std(ddof=1) / math.sqrt(fit.size)),
            "success_rate": float(out["success"][0].mean()), "episodes": int(fit.size)}
    print(json.dumps({"implementation": "koki2 NumPy port", **port}))
    if args.dphys_eval:
        line = next(json.loads(l) for l in args.dphys_eval.read_text().splitlines()
                    if json.loads(l).get("policy") == "best_genome")
        z_score = (port["mean_fitness"] - line["mean_fitness"]) / math.hypot(port["se_fitness"],
                                                                              line["se_fitness"])
        print(json.dumps({"implementation": "dphys", "mean_fitness": line["mean_fitness"],
                          "se_fitness": line["se_fitness"], "success_rate": line["success_rate"],
                          "episodes": line["episodes"]}))
        print(json.dumps({"welch_z": float(z_score), "agree": bool(abs(z_score) < 3)}))
        return 0 if abs(z_score) < 3 else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
