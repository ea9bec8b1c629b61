// Times the peers' scalar C++ port of koki2 (../shared/peers/chemotaxis/cpp/chemo.hpp) on an
// environment the peers' chemo_bench does not expose: dphys's `ladder` (4 sources, 2 bad with
// integrity loss 0.25, depletion with respawn delay 4, gradient dropout 0.5). Same protocol as
// chemo_bench --mode throughput: 256 genomes ~ N(0, 0.1) x 4 episodes x 128 steps, one episode at a
// time, median of --repeats runs, dense and event-driven, plasticity off and on (spike modulator,
// eta 0.05); 2 threads deal genomes to std::threads (chemo_bench uses pagmo's thread_bfe for that).
// Built by bench/compare_peers.sh together with the peers' chemo_rollout.cpp (-O3 -march=native).
// usage: peer_cpp_rollout FIXTURE [--config ladder|l0] [--repeats 7] [--threads 1]
#include "chemo.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using clk = std::chrono::steady_clock;

chemo::Topology load_topology(const std::string& fixture) {  // header of make_fixture.py's file
  std::ifstream in(fixture);
  if (!in) throw std::runtime_error("cannot open fixture " + fixture);
  std::string tag;
  int ver = 0, n = 0, k = 0, e = 0;
  in >> tag >> ver >> tag >> n >> k >> e;
  chemo::Topology t;
  t.src.resize(e);
  t.dst.resize(e);
  for (auto& x : t.src) in >> x;
  for (auto& x : t.dst) in >> x;
  if (!in || e != n * k) throw std::runtime_error("fixture " + fixture + ": bad topology header");
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 2) throw std::runtime_error("usage: peer_cpp_rollout FIXTURE [--config ladder|l0] [--repeats 7] [--threads 1]");
    std::string config = "ladder";
    int repeats = 7, pop = 256, episodes = 4, threads = 1;
    for (int i = 2; i < argc; ++i) {
      const std::string k = argv[i];
      const std::string v = i + 1 < argc ? argv[++i] : "";
      if (k == "--config") config = v;
      else if (k == "--repeats") repeats = std::stoi(v);
      else if (k == "--threads") threads = std::stoi(v);
      else if (k == "--pop") pop = std::stoi(v);
      else throw std::runtime_error("unknown option " + k);
    }
    if (config != "l0" && config != "ladder") throw std::runtime_error("--config must be l0 or ladder");
    const auto topo = load_topology(argv[1]);
    chemo::EnvSpec env;
    if (config == "ladder") {
      env.num_sources = 4;
      env.num_bad_sources = 2;
      env.bad_source_integrity_loss = 0.25;
      env.source_deplete = true;
      env.source_respawn_delay = 4;
      env.grad_dropout_p = 0.5;
    }
    const chemo::SimConfig sim;
    for (int plastic = 0; plastic <= 1; ++plastic) {
      chemo::DevConfig dev;
      dev.plast_enabled = plastic;
      dev.plast_eta = plastic ? 0.05 : 0.0;
      const int D = chemo::genome_dim(dev, int(topo.src.size()));
      std::mt19937_64 rng(0);
      std::normal_distribution<double> nd(0.0, 1.0);
      std::vector<std::vector<float>> G(pop, std::vector<float>(D));
      for (auto& g : G)
        for (auto& x : g) x = float(0.1 * nd(rng));
      for (int ev = 0; ev <= 1; ++ev) {
        std::vector<double> ts;
        std::atomic<long long> steps{0};
        double fsum = 0;
        for (int r = 0; r < repeats; ++r) {
          steps = 0;
          std::atomic<int> next{0};
          std::vector<double> fit(pop, 0.0);
          auto work = [&] {
            chemo::Workspace<float> ws;
            long long my_steps = 0;
            for (int p; (p = next.fetch_add(1)) < pop;)
              for (int b = 0; b < episodes; ++b) {
                chemo::Rng er(uint64_t(r) * 1000003ULL + uint64_t(p) * 7919ULL + uint64_t(b));
                const auto res = ev ? chemo::run_episode<float, true>(G[p].data(), topo, dev, env, sim, er, ws)
                                    : chemo::run_episode<float, false>(G[p].data(), topo, dev, env, sim, er, ws);
                my_steps += res.t_alive;
                fit[p] += res.fitness;
              }
            steps += my_steps;
          };
          const auto t0 = clk::now();
          std::vector<std::thread> pool;
          for (int t = 1; t < threads; ++t) pool.emplace_back(work);
          work();
          for (auto& t : pool) t.join();
          ts.push_back(std::chrono::duration<double>(clk::now() - t0).count());
          fsum = 0;
          for (double f : fit) fsum += f;
        }
        auto sorted = ts;
        std::sort(sorted.begin(), sorted.end());
        const double med = sorted[sorted.size() / 2];
        std::printf(
            "{\"bench\":\"chemo_rollout\",\"impl\":\"cpp_scalar%s_%s\",\"config\":\"%s\",\"plasticity\":%s,"
            "\"pop\":%d,\"episodes\":%d,\"steps\":%d,\"threads\":%d,\"agent_steps\":%lld,\"times_s\":[",
            ev ? "_eventdriven" : "", threads == 1 ? "1thread" : (std::to_string(threads) + "threads").c_str(),
            config.c_str(), plastic ? "true" : "false", pop, episodes, env.max_steps, threads, steps.load());
        for (std::size_t i = 0; i < ts.size(); ++i) std::printf("%s%.6g", i ? "," : "", ts[i]);
        std::printf("],\"median_s\":%.6g,\"agent_steps_per_s\":%.6g,\"mean_fitness\":%.6g,"
                    "\"source\":\"dphys bench/peer_cpp_rollout.cpp\"}\n",
                    med, double(steps.load()) / med, fsum / (double(pop) * episodes));
        std::fflush(stdout);
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "peer_cpp_rollout: error: " << e.what() << '\n';
    return 2;
  }
}
