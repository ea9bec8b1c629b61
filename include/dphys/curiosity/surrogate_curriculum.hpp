// dphys/curiosity/surrogate_curriculum.hpp — the curiosity layer around the surrogate crucible
// (issue 8): each generation's evaluation scenarios (N-body initial conditions,
// nbody_templates.hpp) come from a curriculum sampler over templates and from a prioritised replay
// buffer of earlier scenarios, replayed in proportion to how surprised the current elite program
// was by them. One JSON record per generation (last_record()). Extension point: the templates (any
// env_template<nbody_scenario>).
//
// Config: surrogate_curriculum_config (plus the wrapped surrogate::crucible_config).
// Scenarios: a scenario is (template, seed) → nbody_scenario → particles; each is scored by its own
//   surrogate::surrogate_crucible (reference softening = the scenario's, unless
//   scenario_softening is false). A member's evaluation is the mean over the generation's
//   scenarios of fitness, accuracy, cost, relative and position error and rollout metrics; a
//   rejection on any scenario rejects the member (first reason, fitness 0).
// Surprise: the elite's outcome on scenario s is its skill y_s = 1/(1 + relative_error_s) in
//   (0, 1] (0 when rejected). surprise_source::elite_error: surprise = 1 − y_s (the model's own
//   error: scenarios the elite cannot predict are replayed most); surprise_source::outcome: a
//   Beta–Bernoulli predictor per template forecasts y and `surprise` (any_surprise) scores it,
//   like curriculum_crucible. Replay priority = Nerion's clip(1 + surprise, 0.1, 10).
// Determinism: a function of (config seed, templates, crucible config, the sequence of
//   populations). Statefulness: evaluate() learns and is not const; one evaluation at a time.
// Example: examples/curriculum/nbody_curriculum.cpp.
// Scheduling (choose, learn, checkpoint of the curiosity state) is scenario_scheduler
//   (scheduler.hpp), shared with curriculum_crucible; this wrapper keeps the crucible evaluation.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/core/json.hpp>

#include <dphys/core/config.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/curiosity/curriculum.hpp>
#include <dphys/curiosity/nbody_templates.hpp>
#include <dphys/curiosity/predictor.hpp>
#include <dphys/curiosity/replay.hpp>
#include <dphys/curiosity/scheduler.hpp>
#include <dphys/curiosity/selector.hpp>
#include <dphys/curiosity/surprise.hpp>
#include <dphys/surrogate/crucible.hpp>

namespace dphys::curiosity {

/// What a scenario's surprise measures.
enum class surprise_source {
  elite_error,  ///< 1 − the elite's skill on the scenario
  outcome       ///< any_surprise of a per-template Beta–Bernoulli forecast of the elite's skill
};
constexpr auto enum_names(surprise_source) {
  return std::array{std::pair{surprise_source::elite_error, std::string_view{"elite_error"}},
                    std::pair{surprise_source::outcome, std::string_view{"outcome"}}};
}

struct surrogate_curriculum_config {
  scenario_policy policy = scenario_policy::surprise_weighted;
  int scenarios = 4;             ///< scenarios per generation (every member runs all of them)
  double replay_fraction = 0.5;  ///< share of the scenarios replayed (not with uniform)
  int replay_capacity = 256;     ///< 0: unbounded
  surprise_source source = surprise_source::elite_error;
  surprise_kind surprise = surprise_kind::normalized_error;  ///< source outcome only
  beta_bernoulli_config predictor{1.0, 1.0, 0.8};
  surprise_weighting_config weighting{};
  curiosity_selector_config selector{};  ///< policy curiosity (its seed is replaced by `seed`)
  bool scenario_softening = true;  ///< reference ε per scenario; false: the crucible config's eps
  std::uint64_t seed = 0;

  void check(config_checker<surrogate_curriculum_config>& c) const {
    c(&surrogate_curriculum_config::scenarios).at_least(1).at_most(1 << 16);
    c(&surrogate_curriculum_config::replay_fraction).in_range(0.0, 1.0);
    c(&surrogate_curriculum_config::replay_capacity).at_least(0);
  }
};

}  // namespace dphys::curiosity

DPHYS_ADAPT_STRUCT(dphys::curiosity::surrogate_curriculum_config, policy, scenarios,
                   replay_fraction, replay_capacity, source, surprise, predictor, weighting,
                   selector, scenario_softening, seed);

namespace dphys::curiosity {

/// One evaluated N-body scenario.
struct nbody_scenario_draw {
  std::size_t template_index = 0;
  std::uint64_t seed = 0;
  bool replayed = false;
  std::uint64_t replay_id = 0;
};

class surrogate_curriculum {
 public:
  /// `crucible` is the surrogate crucible's config (mode, dt, steps, cost, fitness...); its eps is
  /// replaced by each scenario's softening when cfg.scenario_softening.
  surrogate_curriculum(std::vector<env_template<nbody_scenario>> templates,
                       surrogate::crucible_config crucible, surrogate_curriculum_config cfg)
      : cfg_(cfg),
        crucible_(std::move(crucible)),
        scheduler_(std::move(templates),
                   {cfg.policy, cfg.scenarios, cfg.replay_fraction, cfg.replay_capacity,
                    cfg.predictor, cfg.weighting, cfg.selector, cfg.seed},
                   "template") {
    validate(cfg_);
    validate(crucible_);
  }

  [[nodiscard]] const surrogate_curriculum_config& config() const { return cfg_; }
  [[nodiscard]] const surrogate::crucible_config& crucible_config() const { return crucible_; }
  [[nodiscard]] const curriculum_sampler<nbody_scenario>& sampler() const {
    return scheduler_.sampler();
  }
  [[nodiscard]] const replay_buffer& replay() const { return scheduler_.replay(); }
  [[nodiscard]] const beta_bernoulli& predictor() const { return scheduler_.predictor(); }
  [[nodiscard]] const curiosity_selector& selector() const { return scheduler_.selector(); }
  [[nodiscard]] std::span<const std::uint64_t> template_counts() const {
    return scheduler_.counts();
  }
  /// The record of the last evaluate() (null before the first).
  [[nodiscard]] const dphys::json& last_record() const { return record_; }

  /// The scenario of template t with this seed, and its particles.
  [[nodiscard]] nbody_scenario scenario_of(std::size_t t, std::uint64_t seed) const {
    return scheduler_.sampler().at(t).generate(seed);
  }
  /// The surrogate crucible of one scenario (the reference is integrated here).
  [[nodiscard]] surrogate::surrogate_crucible crucible_of(const nbody_scenario& s) const {
    auto c = crucible_;
    if (cfg_.scenario_softening) c.eps = s.softening;
    return surrogate::surrogate_crucible(c, {make_particles(s)});
  }

  /// This generation's scenarios: replayed ones first (Nerion priority mode), then fresh ones from
  /// the curriculum (or the curiosity selector). Catalogues the fresh instances.
  std::vector<nbody_scenario_draw> choose(std::uint32_t generation) {
    std::vector<nbody_scenario_draw> out;
    for (const auto& d : scheduler_.choose(generation))
      out.push_back({d.template_index, d.seed, d.replayed, d.replay_id});
    return out;
  }

  /// Scores a population of programs on this generation's scenarios (means over scenarios, see
  /// the header comment) and learns from the elite's outcomes.
  std::vector<surrogate::evaluation> evaluate(std::span<const surrogate::program> population,
                                              std::uint32_t generation) {
    if (population.empty())
      throw std::invalid_argument("surrogate_curriculum::evaluate: empty population");
    const auto scen = choose(generation);
    const std::size_t S = scen.size(), M = population.size();
    std::vector<std::vector<surrogate::evaluation>> per(S);
    for (std::size_t s = 0; s < S; ++s) {
      const auto cru = crucible_of(scenario_of(scen[s].template_index, scen[s].seed));
      per[s].reserve(M);
      for (const auto& p : population) per[s].push_back(cru.evaluate(p));
    }
    std::vector<surrogate::evaluation> out(M);
    const double ns = static_cast<double>(S);
    for (std::size_t m = 0; m < M; ++m) {
      auto& e = out[m];
      e.size = population[m].size();
      for (std::size_t s = 0; s < S; ++s) {
        const auto& x = per[s][m];
        if (x.rejected() && !e.rejected()) {
          e.reason = x.reason;
          e.message = "scenario " + std::to_string(s) + ": " + x.message;
        }
        e.fitness += x.fitness / ns;
        e.accuracy += x.accuracy / ns;
        e.cost += x.cost / ns;
        e.size_factor = x.size_factor;
        e.position_error += x.position_error / ns;
        e.relative_error += x.relative_error / ns;
        e.rollout.rmse += x.rollout.rmse / ns;
        e.rollout.accuracy_bench += x.rollout.accuracy_bench / ns;
        e.rollout.energy_drift += x.rollout.energy_drift / ns;
        e.rollout.angular_momentum_drift += x.rollout.angular_momentum_drift / ns;
        e.rollout.virial_ratio += x.rollout.virial_ratio / ns;
        e.kernel_evaluations += x.kernel_evaluations;
        e.domain_errors += x.domain_errors;
      }
      if (e.rejected()) {
        e.fitness = 0;
        e.accuracy = 0;
        e.cost = crucible_.reject_cost;
      }
    }
    std::size_t elite = 0;
    for (std::size_t m = 1; m < M; ++m)
      if (std::isfinite(out[m].fitness) &&
          (!std::isfinite(out[elite].fitness) || out[m].fitness > out[elite].fitness))
        elite = m;
    std::vector<double> y(S);
    for (std::size_t s = 0; s < S; ++s) {
      const auto& x = per[s][elite];
      y[s] =
          x.rejected() || !std::isfinite(x.relative_error) ? 0.0 : 1.0 / (1.0 + x.relative_error);
    }
    learn(scen, y, elite, out[elite].fitness, generation);
    return out;
  }

  /// Records: scopes predictor, replay, curriculum, selector; then template_counts.
  void save(state_writer& w) const { scheduler_.save(w); }
  void load(state_reader& r) { scheduler_.load(r); }

 private:
  void learn(const std::vector<nbody_scenario_draw>& scen, const std::vector<double>& y,
             std::size_t elite, double elite_fitness, std::uint32_t generation) {
    std::vector<scheduled_scenario> drawn;
    for (const auto& sc : scen)
      drawn.push_back({sc.template_index, sc.seed, sc.replayed, sc.replay_id});
    const any_surprise surprise_of{cfg_.surprise, severity::medium};
    const auto& sampler = scheduler_.sampler();
    record_ = scheduler_.learn(
        drawn, y, elite, elite_fitness, generation,
        [&](const prediction& pred, double ys) {
          return cfg_.source == surprise_source::elite_error ? std::clamp(1.0 - ys, 0.0, 1.0)
                                                             : surprise_of(pred, ys);
        },
        [&](dphys::json& row, std::size_t s, const prediction&) {
          const auto m = sampler.make(drawn[s].template_index, drawn[s].seed);
          row["n"] = m.parameters.at("n");
          row["checksum"] = m.checksum;
          row["elite_skill"] = y[s];
        });
    record_["source"] = std::string(enum_name(cfg_.source));
  }

  surrogate_curriculum_config cfg_;
  surrogate::crucible_config crucible_;
  scenario_scheduler<nbody_scenario> scheduler_;
  dphys::json record_;
};

}  // namespace dphys::curiosity
