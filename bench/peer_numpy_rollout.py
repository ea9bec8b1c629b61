#!/usr/bin/python3
"""Times the peers' batched NumPy port of koki2 (../shared/peers/chemotaxis/koki_np.py) on dphys's
`ladder` environment, which the peers' own bench_chemotaxis.py does not run (it times L0 only).

Same protocol as bench_chemotaxis.py's rollout benchmark: 256 genomes ~ N(0, 0.1) x 4 episodes x
128 steps, one untimed warm-up, median of --repeats runs, plasticity off and on (koki2's "spike"
condition). One JSON line per plasticity setting, in the peers' chemo_rollout record format plus
"config". Run with OPENBLAS_NUM_THREADS=1, as the peers do.
usage: peer_numpy_rollout.py PEERS_DIR [--config ladder|l0] [--repeats 7]
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

LADDER = dict(num_sources=4, num_bad_sources=2, bad_source_integrity_loss=0.25, source_deplete=True,
              source_respawn_delay=4, grad_dropout_p=0.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("peers")
    ap.add_argument("--config", default="ladder", choices=["l0", "ladder"])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--pop", type=int, default=256)
    ap.add_argument("--episodes", type=int, default=4)
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.peers, "chemotaxis"))
    import koki_np as K  # noqa: E402

    env = K.EnvSpec(**(LADDER if a.config == "ladder" else {}))
    sim = K.SimConfig()
    for pl, kw in (("off", {}), ("on", K.PLASTIC_SPIKE)):
        dev = K.DevConfig(**kw)
        topo = K.make_topology(dev.n_neurons, dev.k_edges, dev.topology_seed)
        rng = np.random.default_rng(0)
        genomes = (0.1 * rng.standard_normal((a.pop, K.genome_dim(dev, topo[0].size)))).astype(np.float32)
        K.rollout_snn(genomes[:8], dev, topo, env, sim, a.episodes, rng=rng)  # warm-up
        times, res = [], None
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            res = K.rollout_snn(genomes, dev, topo, env, sim, a.episodes, rng=rng)
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        steps = int(res["agent_steps_alive"])
        print(json.dumps(dict(bench="chemo_rollout", impl="numpy_batched", config=a.config, plasticity=pl == "on",
                              pop=a.pop, episodes=a.episodes, steps=env.max_steps, agent_steps=steps,
                              times_s=[round(t, 6) for t in times], median_s=med, agent_steps_per_s=steps / med,
                              mean_fitness=float(res["fitness"].mean()), numpy=np.__version__,
                              blas_threads_env=os.environ.get("OPENBLAS_NUM_THREADS", "default"),
                              source="dphys bench/peer_numpy_rollout.py")), flush=True)


if __name__ == "__main__":
    main()
