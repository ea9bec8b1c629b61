// dphys_koki2_eval — koki2's eval-run (spec K11): evaluates a run's best genome on N fresh episodes
// and the baselines on the SAME environments (common random numbers: every policy sees identical
// source layouts, respawns and noise, so differences are paired), with an optional plasticity-η
// override or modulator clamp. Writes one JSON line per policy to --out (or stdout).
#include <exception>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <dphys/experiments/koki2.hpp>

namespace {

struct eval_config {
  std::string run;  ///< run directory (config.json, best_genome.npy)
  int episodes = 512;
  std::uint64_t eval_seed = 424242;
  bool override_eta = false;
  float eta = 0.0f;
  bool clamp_modulator = false;  ///< causal probe: replace the modulator by clamped_value
  float clamped_value = 0.0f;
  std::vector<std::string> baselines{"greedy", "random", "stay"};
  std::string out;  ///< JSONL file; empty: standard output
  int threads = 1;
  dphys::experiments::lane_impl impl = dphys::experiments::lane_impl::simd;

  void check(dphys::config_checker<eval_config>& c) const {
    c(&eval_config::run)
        .satisfies([](const std::string& s) { return !s.empty(); },
                   "the run directory to evaluate");
    c(&eval_config::episodes).at_least(1).at_most(1 << 24);
    c(&eval_config::eta).finite();
    c(&eval_config::threads).at_least(0);
    c(&eval_config::baselines)
        .satisfies(
            [](const std::vector<std::string>& v) {
              for (const auto& b : v)
                if (b != "greedy" && b != "random" && b != "stay") return false;
              return true;
            },
            "each of greedy, random, stay");
  }
};

}  // namespace

BOOST_HANA_ADAPT_STRUCT(eval_config, run, episodes, eval_seed, override_eta, eta, clamp_modulator,
                        clamped_value, baselines, out, threads, impl);

int main(int argc, char** argv) {
  using namespace dphys;
  try {
    eval_config ec;
    if (dphys::wants_help(argc, argv)) {
      fmt::print("usage: dphys_koki2_eval --run=DIR [--key=value ...]\n{}", describe(ec));
      return 0;
    }
    apply_overrides(ec, argc - 1, argv + 1);
    validate(ec);
    const std::filesystem::path dir(ec.run);
    auto cfg = from_json_file<experiments::koki2_config>(dir / "config.json");
    cfg.threads = ec.threads;
    if ((ec.override_eta || ec.clamp_modulator) && !cfg.plasticity.enabled)
      throw std::runtime_error((dir / "config.json").string() +
                               ": plasticity is disabled in this run, so --override_eta / "
                               "--clamp_modulator would have no effect");
    if (ec.override_eta) cfg.plasticity.eta = ec.eta;
    if (ec.clamp_modulator) {
      cfg.plasticity.clamp_modulator = true;
      cfg.plasticity.clamped_value = ec.clamped_value;
    }
    validate(cfg);
    const auto pipeline = experiments::koki2_pipeline::make(cfg);
    const auto genome = run::load_npy<float>(dir / "best_genome.npy");
    if (genome.data.size() != pipeline.genome.size())
      throw std::runtime_error(fmt::format("{}: {} parameters, but the run's config needs {}",
                                           (dir / "best_genome.npy").string(), genome.data.size(),
                                           pipeline.genome.size()));
    const auto edges_file = dir / "edge_index.npy";
    if (std::filesystem::exists(edges_file)) {
      if (run::load_npy<std::int32_t>(edges_file).data !=
          pipeline.rollout().network().edges().edge_index())
        throw std::runtime_error(edges_file.string() +
                                 ": differs from the topology rebuilt from config.json");
    }

    auto rc = cfg.rollout;
    rc.episodes = ec.episodes;
    rc.random_numbers = envs::random_numbers::common;
    rc.threads = ec.threads;
    const auto rollout = pipeline.rollout().with(rc);
    const crucibles::rollout_keys keys{ec.eval_seed, 0, 0, 0};

    std::ostringstream lines;
    auto emit = [&](const std::string& policy, const crucibles::evaluation& ev,
                    const crucibles::evaluation* agent) {
      auto j = experiments::summarize_episodes(ev.episodes);
      j["policy"] = policy;
      j["run"] = dir.string();
      j["eval_seed"] = ec.eval_seed;
      j["plast_enabled"] = cfg.plasticity.enabled;
      j["plast_eta"] = std::stod(fmt::format("{}", cfg.plasticity.eta));  // shortest float text
      j["clamp_modulator"] = cfg.plasticity.clamp_modulator;
      if (cfg.plasticity.clamp_modulator) j["clamped_value"] = cfg.plasticity.clamped_value;
      j["common_random_numbers"] = true;
      if (agent) {  // paired difference agent − baseline over identical episodes
        double s = 0, s2 = 0;
        const double n = static_cast<double>(ev.episodes.size());
        for (std::size_t i = 0; i < ev.episodes.size(); ++i) {
          const double d = agent->episodes[i].fitness - ev.episodes[i].fitness;
          s += d;
          s2 += d * d;
        }
        const double m = s / n;
        j["paired_diff_fitness"] = m;
        j["paired_diff_se"] =
            n > 1 ? std::sqrt(std::max(0.0, (s2 - n * m * m) / (n - 1)) / n) : 0.0;
      }
      lines << j.dump() << '\n';
    };
    auto eval = [&](auto&& f) {
      return ec.impl == experiments::lane_impl::simd ? f.template operator()<simd::native>()
                                                     : f.template operator()<float>();
    };
    const auto agent = eval([&]<class F>() { return rollout.evaluate<F>(genome.data, keys); });
    emit("best_genome", agent, nullptr);
    for (const auto& name : ec.baselines) {
      const auto kind = name == "greedy"   ? agents::baseline::greedy
                        : name == "random" ? agents::baseline::random
                                           : agents::baseline::stay;
      emit(name, eval([&]<class F>() { return rollout.evaluate_baseline<F>(kind, 1, keys); }),
           &agent);
    }
    if (ec.out.empty())
      std::cout << lines.str();
    else
      run::write_file_atomic(ec.out, lines.str());
    return 0;
  } catch (const std::exception& ex) {
    fmt::print(stderr, "dphys_koki2_eval: error: {}\n", ex.what());
    return 2;
  }
}
