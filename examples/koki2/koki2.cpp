// dphys_koki2 — koki2's chemotaxis neuroevolution (OpenAI-ES on spiking agents) with dphys.
// Every config field is a --key=value option (see --help); --config=run/config.json replays a run.
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <dphys/experiments/koki2.hpp>

int main(int argc, char** argv) {
  using namespace dphys;
  std::vector<std::string> command_line(argv, argv + argc);
  try {
    experiments::koki2_config cfg;
    for (int i = 1; i < argc; ++i)
      if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
        fmt::print("usage: dphys_koki2 [--key=value ...]   (defaults shown)\n{}", describe(cfg));
        return 0;
      }
    apply_overrides(cfg, argc - 1, argv + 1);
    validate(cfg);
    const auto& e = cfg.env;
    fmt::print(
        "dphys {} — koki2 chemotaxis: {}x{} world, {} sources ({} bad), {} steps; LIF N={} k={}; "
        "plasticity {}; OpenAI-ES pop {} x {} episodes, {} generations; {} lanes, {} threads\n",
        version_string, e.width, e.height, e.num_sources, e.num_bad_sources, e.max_steps,
        cfg.agent.n_neurons, cfg.agent.k_edges, cfg.plasticity.enabled ? "on" : "off",
        cfg.es.pop_size, cfg.rollout.episodes, cfg.generations,
        cfg.impl == experiments::lane_impl::simd ? simd::lanes_v<simd::native> : std::size_t{1},
        cfg.threads <= 0 ? hardware_threads() : cfg.threads);
    auto print = [](const std::string& line) {
      fmt::print("{}\n", line);
      std::fflush(stdout);
    };
    std::vector<std::uint64_t> seeds = cfg.seeds;
    const bool batch = !seeds.empty();
    if (!batch) seeds.push_back(cfg.seed);
    for (auto seed : seeds) {
      auto c = cfg;
      c.seed = seed;
      const std::filesystem::path dir =
          batch ? std::filesystem::path(cfg.out) / fmt::format("seed{}", seed)
                : std::filesystem::path(cfg.out);
      if (batch) fmt::print("== seed {} -> {}\n", seed, dir.string());
      const auto res = experiments::run_koki2(c, dir, command_line, print);
      fmt::print("run directory: {}\nbest fitness (best sampled individual): {:.4f}\n",
                 res.dir.string(), res.best_fitness);
    }
    return 0;
  } catch (const std::exception& ex) {
    fmt::print(stderr, "dphys_koki2: error: {}\n", ex.what());
    return 2;
  }
}
