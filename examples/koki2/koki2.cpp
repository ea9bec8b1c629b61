// dphys_koki2 — koki2's chemotaxis neuroevolution (OpenAI-ES on spiking agents) with dphys.
// Every config field is a --key=value option (see --help); --config=run/config.json replays a run;
// --checkpoint-every=N writes checkpoints, --resume continues a killed run bit for bit.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <dphys/experiments/koki2.hpp>

namespace {

constexpr const char* run_control_help =
    "run control (not part of the config):\n"
    "  --checkpoint-every=<uint32>  write checkpoints/gen_<N>.ckpt every N generations (and at the "
    "end)  default: 0 (off)\n"
    "  --checkpoint-keep=<uint32>   keep the newest K checkpoints  default: 3\n"
    "  --resume                     continue the run in --out from its newest usable checkpoint\n"
    "                               (finished runs of a batch or sweep are left as they are)\n"
    "  --allow-config-change        with --resume: accept a config that differs from the "
    "checkpoint's\n";

// Parses one run-control option into `ctl`; false if `arg` is not one (a config override then).
bool parse_run_control(std::string_view arg, dphys::experiments::koki2_run_control& ctl) {
  const auto number = [&](std::string_view key, std::uint32_t& out) {
    const std::string_view text = arg.substr(key.size());
    std::uint32_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
      throw dphys::config_error(std::string(key.substr(2, key.size() - 3)), std::string(text),
                                "expected an unsigned 32-bit integer");
    out = v;
  };
  if (arg.starts_with("--checkpoint-every=")) {
    number("--checkpoint-every=", ctl.checkpoint.every);
  } else if (arg.starts_with("--checkpoint-keep=")) {
    number("--checkpoint-keep=", ctl.checkpoint.keep);
    if (ctl.checkpoint.keep == 0)
      throw dphys::config_error("checkpoint-keep", "0", ">= 1 (at least one checkpoint is kept)");
  } else if (arg == "--resume") {
    ctl.resume = true;
  } else if (arg == "--allow-config-change") {
    ctl.allow_config_change = true;
  } else {
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace dphys;
  std::vector<std::string> command_line(argv, argv + argc);
  try {
    experiments::koki2_config cfg;
    if (dphys::wants_help(argc, argv)) {
      fmt::print("usage: dphys_koki2 [--key=value ...]   (defaults shown)\n{}{}", describe(cfg),
                 run_control_help);
      return 0;
    }
    // Run control (not config keys: they do not change the results), then the config overrides.
    experiments::koki2_run_control ctl;
    ctl.warn = [](const std::string& w) { fmt::print(stderr, "dphys_koki2: warning: {}\n", w); };
    std::vector<const char*> config_args;
    for (int i = 1; i < argc; ++i)
      if (!parse_run_control(argv[i], ctl)) config_args.push_back(argv[i]);
    apply_overrides(cfg, static_cast<int>(config_args.size()), config_args.data());
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
    // Conditions: the configured one, or each entry of the sweep file applied on top of it.
    std::vector<std::pair<std::string, experiments::koki2_config>> conditions;
    if (cfg.sweep.empty()) {
      conditions.emplace_back("", cfg);
    } else {
      const auto doc = dphys::json::parse(run::read_file(cfg.sweep), nullptr, false);
      if (!doc.is_object() || doc.empty())
        throw std::runtime_error(cfg.sweep +
                                 ": a sweep file must be a non-empty JSON object "
                                 "{\"<condition>\": {partial config}, ...}");
      for (const auto& [name, overrides] : doc.items()) {
        const bool safe = std::all_of(name.begin(), name.end(), [](char ch) {
          return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' ||
                 ch == '-';
        });
        if (name.empty() || !safe || name.front() == '.')
          throw std::runtime_error(
              cfg.sweep + ": condition name '" + name +
              "' must use only letters, digits, '.', '_', '-' (it names a directory)");
        for (const char* key : {"out", "seed", "seeds", "sweep"})
          if (overrides.is_object() && overrides.contains(key))
            throw std::runtime_error(cfg.sweep + ": condition '" + name + "' sets '" + key +
                                     "', which the sweep itself controls (use --" + key + ")");
        auto c = cfg;
        try {
          from_json(overrides, c);
          c.sweep.clear();
          validate(c);
        } catch (const config_error& err) {
          throw std::runtime_error(cfg.sweep + ": condition '" + name + "': " + err.what());
        }
        conditions.emplace_back(name, c);
      }
    }
    std::vector<std::uint64_t> seeds = cfg.seeds;
    const bool batch = !seeds.empty() || !cfg.sweep.empty();
    if (seeds.empty()) seeds.push_back(cfg.seed);
    for (const auto& [name, base] : conditions)
      for (auto seed : seeds) {
        auto c = base;
        c.seed = seed;
        std::filesystem::path dir(cfg.out);
        if (!name.empty()) dir /= name;
        if (batch) dir /= fmt::format("seed{}", seed);
        if (batch)
          fmt::print("== {}seed {} -> {}\n", name.empty() ? "" : name + ", ", seed, dir.string());
        const auto res = experiments::run_koki2(c, dir, command_line, print, ctl);
        fmt::print("run directory: {}\nbest fitness (best sampled individual): {:.4f}\n",
                   res.dir.string(), res.best_fitness);
      }
    return 0;
  } catch (const std::exception& ex) {
    fmt::print(stderr, "dphys_koki2: error: {}\n", ex.what());
    return 2;
  }
}
