// dphys/run/evolve.hpp — `dphys::evolve`, the ask/tell loop of design.md §2: each generation asks
// the strategy, evaluates with the crucible, tells the fitness back and hands a generation_record
// to every observer. Everything interesting lives in the policies; this loop stays short.
//
// Determinism: the record's non-timing fields are functions of (strategy state, crucible, seed)
// only.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <dphys/core/json.hpp>

#include <dphys/core/concepts.hpp>
#include <dphys/crucibles/rollout.hpp>

namespace dphys {

/// One generation's statistics; koki2's fields first (spec K12), then dphys's own.
struct generation_record {
  static constexpr int schema = 1;
  std::uint32_t generation = 0;
  float best_fitness = 0, mean_fitness = 0, median_fitness = 0;
  std::optional<double> mvt_pass_rate;              ///< null when the viability filter is off
  float best_so_far = 0;                            ///< best sampled individual over the run
  std::size_t non_finite = 0;                       ///< members with NaN/inf fitness (ranked last)
  std::uint64_t evaluations = 0;                    ///< members evaluated this generation
  std::uint64_t agent_steps = 0;                    ///< alive agent-steps executed this generation
  double eval_seconds = 0, generation_seconds = 0;  ///< timing: excluded from determinism checks

  /// JSON with sorted keys; timing fields under "timing".
  [[nodiscard]] dphys::json to_json() const {
    dphys::json j;
    j["schema"] = schema;
    j["generation"] = generation;
    j["best_fitness"] = best_fitness;
    j["mean_fitness"] = mean_fitness;
    j["median_fitness"] = median_fitness;
    j["mvt_pass_rate"] = mvt_pass_rate ? dphys::json(*mvt_pass_rate) : dphys::json(nullptr);
    j["best_so_far"] = best_so_far;
    j["non_finite"] = non_finite;
    j["evaluations"] = evaluations;
    j["agent_steps"] = agent_steps;
    j["timing"] = {{"eval_s", eval_seconds},
                   {"generation_s", generation_seconds},
                   {"agent_steps_per_s",
                    eval_seconds > 0 ? static_cast<double>(agent_steps) / eval_seconds : 0.0}};
    return j;
  }
};

/// Fitness statistics of one generation (mean and median over finite values; median of an even
/// count is the mean of the two middle values).
inline void fill_statistics(generation_record& r, std::span<const float> fitness) {
  std::vector<float> finite;
  finite.reserve(fitness.size());
  for (float f : fitness)
    if (std::isfinite(f)) finite.push_back(f);
  r.non_finite = fitness.size() - finite.size();
  r.evaluations = fitness.size();
  if (finite.empty()) {
    r.best_fitness = r.mean_fitness = r.median_fitness = std::numeric_limits<float>::quiet_NaN();
    return;
  }
  double sum = 0.0;
  for (float f : finite) sum += f;
  r.mean_fitness = static_cast<float>(sum / static_cast<double>(finite.size()));
  r.best_fitness = *std::max_element(finite.begin(), finite.end());
  std::sort(finite.begin(), finite.end());
  const std::size_t n = finite.size();
  r.median_fitness = n % 2 ? finite[n / 2] : 0.5f * (finite[n / 2 - 1] + finite[n / 2]);
}

struct evolve_options {
  std::uint32_t generations = 20;
  std::uint64_t seed = 0;
};

namespace detail {
struct evolve_fn {
  template <class Strategy, class Crucible, class... Observers>
  std::uint32_t operator()(Strategy& strategy, const Crucible& cruc, const evolve_options& opt,
                           Observers&&... observers) const {
    static_assert(search_strategy<Strategy>,
                  "dphys::evolve: the first argument must model dphys::search_strategy "
                  "(ask(), tell(fitness), dimension(), population_size(), generation(), best())");
    static_assert(crucible<Crucible, crucibles::rollout_keys>,
                  "dphys::evolve: the second argument must model dphys::crucible "
                  "(genome_size() and evaluate(population, rollout_keys) returning .fitness)");
    static_assert(
        (std::invocable<Observers&, const generation_record&, const Strategy&> && ...),
        "dphys::evolve: every observer must be callable as observer(const generation_record&, "
        "const Strategy&)");
    if (strategy.dimension() != cruc.genome_size())
      throw std::invalid_argument(
          "dphys::evolve: the strategy's dimension (" + std::to_string(strategy.dimension()) +
          ") differs from the crucible's genome size (" + std::to_string(cruc.genome_size()) + ")");
    using clock = std::chrono::steady_clock;
    while (strategy.generation() < opt.generations) {
      const auto t0 = clock::now();
      const std::uint32_t g = strategy.generation();
      const auto population = strategy.ask();
      const auto t1 = clock::now();
      const auto ev = cruc.evaluate(population, crucibles::rollout_keys{opt.seed, g, 0, 0});
      const auto t2 = clock::now();
      strategy.tell(ev.fitness);
      generation_record rec;
      rec.generation = g;
      fill_statistics(rec, ev.fitness);
      if constexpr (requires { ev.pass_rate; }) rec.mvt_pass_rate = ev.pass_rate;
      if constexpr (requires { ev.agent_steps; }) rec.agent_steps = ev.agent_steps;
      if constexpr (requires { strategy.best_fitness(); })
        rec.best_so_far = strategy.best_fitness();
      rec.eval_seconds = std::chrono::duration<double>(t2 - t1).count();
      rec.generation_seconds = std::chrono::duration<double>(clock::now() - t0).count();
      (observers(rec, std::as_const(strategy)), ...);
    }
    return strategy.generation();
  }
};
}  // namespace detail

/// Runs generations until strategy.generation() == opt.generations (resumes from a restored
/// strategy).
inline constexpr detail::evolve_fn evolve{};

}  // namespace dphys
