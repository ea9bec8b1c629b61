// dphys_koki2_strategies — OpenAI-ES, sep-CMA-ES and CMA-ES side by side on the koki2 task (issue 4):
// the same pipeline (koki2_config: environment rung, network, plasticity, rollout), the same budget of
// evaluations per run, the same seeds. For every (strategy, seed) the best sampled genome is scored
// again on held-out episodes (episode words no training generation uses), and the table reports
// mean ± standard error over seeds. Any koki2 field is `--koki2.<field>=…`; `--help` lists them all.
#include <dphys/experiments/koki2.hpp>
#include <dphys/run/jsonl.hpp>
#include <dphys/search/cma_es.hpp>
#include <dphys/search/openai_es.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct strategies_config {
  dphys::experiments::koki2_config koki2{};  ///< the task (defaults: the quick start's L0.2 rung)
  std::vector<std::uint64_t> seeds{0, 1, 2, 3, 4};
  std::vector<std::string> strategies{"openai_es", "sep_cma_es", "cma_es"};
  std::uint64_t evaluations = 64 * 50;  ///< genomes evaluated per run, the same for every strategy
  double cma_sigma0 = 0.1;              ///< CMA-ES initial step size (OpenAI-ES: koki2.es.sigma)
  int eval_episodes = 64;               ///< held-out episodes scoring each run's best genome
  std::string out;                      ///< non-empty: one JSON line per (strategy, seed) here

  void check(dphys::config_checker<strategies_config>& c) const {
    c(&strategies_config::seeds).satisfies([](const auto& v) { return !v.empty(); }, "not empty");
    c(&strategies_config::strategies)
        .satisfies(
            [](const std::vector<std::string>& v) {
              if (v.empty()) return false;
              for (const auto& s : v)
                if (s != "openai_es" && s != "sep_cma_es" && s != "cma_es") return false;
              return true;
            },
            "a non-empty list of openai_es, sep_cma_es, cma_es");
    c(&strategies_config::evaluations).at_least(1);
    c(&strategies_config::cma_sigma0).greater_than(0.0).finite();
    c(&strategies_config::eval_episodes).at_least(1).at_most(1 << 16);
    // The task's run-level keys that this program decides itself.
    using dphys::experiments::koki2_config;
    c(&strategies_config::koki2, &koki2_config::seeds)
        .satisfies([](const auto& v) { return v.empty(); }, "empty: the seeds are `seeds`");
    c(&strategies_config::koki2, &koki2_config::sweep)
        .satisfies([](const auto& v) { return v.empty(); }, "empty: no sweeps in this program");
    // ... and those it does not use: left at their defaults, or refused (not silently ignored).
    const koki2_config unused;
    c(&strategies_config::koki2, &koki2_config::seed)
        .satisfies([d = unused.seed](std::uint64_t v) { return v == d; },
                   "unset (0): the seeds are `seeds`");
    c(&strategies_config::koki2, &koki2_config::generations)
        .satisfies([d = unused.generations](int v) { return v == d; },
                   "unset (20): the budget is `evaluations`");
    c(&strategies_config::koki2, &koki2_config::out)
        .satisfies([d = unused.out](const std::string& v) { return v == d; },
                   "unset: this program writes no run directory (its JSON lines go to `out`)");
    c(&strategies_config::koki2, &koki2_config::log_every)
        .satisfies([d = unused.log_every](int v) { return v == d; },
                   "unset (1): this program prints one line per run");
    c(&strategies_config::koki2, &koki2_config::mean_eval,
      &dphys::experiments::mean_eval_config::every)
        .satisfies([](int k) { return k == 0; },
                   "0: the best genomes are scored on `eval_episodes` held-out episodes instead");
  }
};

struct run_result {
  std::string strategy;
  std::uint64_t seed = 0, evaluations = 0;
  std::uint32_t generations = 0;
  int population = 0;
  float best_sampled = 0;  ///< best training fitness seen (its episodes were the training ones)
  double heldout_fitness = 0, heldout_success = 0;
  double seconds = 0;
};

// The best sampled genome on eval_episodes episodes that no training generation uses.
template <class Pipeline>
void score_heldout(const strategies_config& sc, const Pipeline& p, std::span<const float> genome,
                   std::uint64_t seed, run_result& r) {
  auto rc = p.rollout().config();
  rc.episodes = sc.eval_episodes;
  const auto rollout = p.rollout().with(rc);
  const dphys::crucibles::rollout_keys keys{seed, 0xFFFF0000u, 0, 0x20000000u};
  const auto ev = dphys::experiments::evaluate_with(sc.koki2.impl, rollout, genome, keys);
  r.heldout_fitness = ev.fitness[0];
  double success = 0;
  for (const auto& e : ev.episodes) success += e.success;
  r.heldout_success = success / static_cast<double>(ev.episodes.size());
}

template <class Strategy, class Pipeline>
run_result run_one(const strategies_config& sc, std::string_view name, Strategy& strategy,
                   const Pipeline& p, std::uint64_t seed) {
  run_result r;
  r.strategy = std::string(name);
  r.seed = seed;
  r.population = static_cast<int>(strategy.population_size());
  const auto generations = static_cast<std::uint32_t>(
      std::max<std::uint64_t>(1, sc.evaluations / strategy.population_size()));
  const dphys::experiments::dispatching_crucible<typename Pipeline::crucible_type> crucible{
      &p.crucible, sc.koki2.impl};
  float best = -std::numeric_limits<float>::infinity();
  std::vector<float> best_genome;
  const auto t0 = std::chrono::steady_clock::now();
  r.generations = dphys::evolve(strategy, crucible, dphys::evolve_options{generations, seed},
                                [&](const dphys::generation_record& rec, const Strategy& s) {
                                  r.evaluations += strategy.population_size();
                                  if (rec.best_fitness > best) {
                                    best = rec.best_fitness;
                                    const auto b = s.best();
                                    best_genome.assign(b.begin(), b.end());
                                  }
                                });
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.best_sampled = best;
  if (best_genome.empty()) {
    const auto b = strategy.best();
    best_genome.assign(b.begin(), b.end());
  }
  score_heldout(sc, p, best_genome, seed, r);
  return r;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}
double se_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1) / static_cast<double>(v.size()));
}

}  // namespace

BOOST_HANA_ADAPT_STRUCT(strategies_config, koki2, seeds, strategies, evaluations, cma_sigma0,
                        eval_episodes, out);

int main(int argc, char** argv) {
  using namespace dphys;
  try {
    strategies_config sc;
    if (dphys::wants_help(argc, argv)) {
      fmt::print("usage: dphys_koki2_strategies [--key=value ...]\n{}", describe(sc));
      return 0;
    }
    apply_overrides(sc, argc - 1, argv + 1);
    validate(sc);
    std::vector<run_result> results;
    for (const std::uint64_t seed : sc.seeds) {
      auto cfg = sc.koki2;
      cfg.seed = seed;
      const auto p = experiments::koki2_pipeline::make(cfg);
      std::vector<float> mean(p.genome.size());
      p.genome.init(seed, 0, mean);  // μ₀ of every strategy: the genome initialiser's member 0
      for (const auto& name : sc.strategies) {
        run_result r;
        if (name == "openai_es") {
          search::openai_es es(cfg.es, mean, seed);
          r = run_one(sc, name, es, p, seed);
        } else {
          search::cma_es_config cc;
          cc.sigma0 = sc.cma_sigma0;
          cc.stop_criteria = false;  // a fixed budget: never stop early
          if (name == "sep_cma_es") {
            search::sep_cma_es<float> s(cc, mean, seed);
            r = run_one(sc, name, s, p, seed);
          } else {
            search::cma_es<float> s(cc, mean, seed);
            r = run_one(sc, name, s, p, seed);
          }
        }
        fmt::print("{:<11} seed {:>3}: pop {:>3} × {:>4} generations, best sampled {:8.3f}, "
                   "held-out {:8.3f} (success {:.3f}), {:.1f} s\n",
                   r.strategy, r.seed, r.population, r.generations, r.best_sampled,
                   r.heldout_fitness, r.heldout_success, r.seconds);
        std::fflush(stdout);
        results.push_back(r);
      }
    }
    fmt::print("\n| strategy | runs | evaluations per run | best sampled (mean ± SE) | held-out fitness "
               "(mean ± SE) | held-out success (mean ± SE) |\n|---|---|---|---|---|---|\n");
    for (const auto& name : sc.strategies) {
      std::vector<double> bs, hf, hs;
      std::uint64_t evals = 0;
      for (const auto& r : results)
        if (r.strategy == name) {
          bs.push_back(r.best_sampled);
          hf.push_back(r.heldout_fitness);
          hs.push_back(r.heldout_success);
          evals = r.evaluations;
        }
      fmt::print("| {} | {} | {} | {:.2f} ± {:.2f} | {:.2f} ± {:.2f} | {:.3f} ± {:.3f} |\n", name,
                 bs.size(), evals, mean_of(bs), se_of(bs), mean_of(hf), se_of(hf), mean_of(hs),
                 se_of(hs));
    }
    if (!sc.out.empty()) {
      std::vector<dphys::json> lines;
      for (const auto& r : results)
        lines.push_back({{"strategy", r.strategy},
                         {"seed", r.seed},
                         {"population", r.population},
                         {"generations", r.generations},
                         {"evaluations", r.evaluations},
                         {"best_sampled", r.best_sampled},
                         {"heldout_fitness", r.heldout_fitness},
                         {"heldout_success", r.heldout_success},
                         {"timing", {{"seconds", r.seconds}}}});
      std::string text;
      for (const auto& l : lines) text += l.dump() + "\n";
      run::write_file_atomic(sc.out, text);
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "dphys_koki2_strategies: error: " << e.what() << '\n';
    return 2;
  }
}
