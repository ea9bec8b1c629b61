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

#include <boost/hana/adapt_struct.hpp>
#include <nlohmann/json.hpp>

#include <dphys/core/config.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/curiosity/curriculum.hpp>
#include <dphys/curiosity/nbody_templates.hpp>
#include <dphys/curiosity/predictor.hpp>
#include <dphys/curiosity/replay.hpp>
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

BOOST_HANA_ADAPT_STRUCT(dphys::curiosity::surrogate_curriculum_config, policy, scenarios,
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
        sampler_(std::move(templates),
                 curriculum_config{cfg.policy == scenario_policy::surprise_weighted
                                       ? curriculum_policy::surprise_weighted
                                       : curriculum_policy::uniform,
                                   cfg.seed, cfg.weighting}),
        predictor_(sampler_.size(), cfg.predictor),
        selector_(sampler_.size(),
                  [&] {
                    auto s = cfg.selector;
                    s.seed = cfg.seed;
                    return s;
                  }()),
        replay_(static_cast<std::size_t>(cfg.replay_capacity)),
        counts_(sampler_.size(), 0) {
    validate(cfg_);
    validate(crucible_);
  }

  [[nodiscard]] const surrogate_curriculum_config& config() const { return cfg_; }
  [[nodiscard]] const surrogate::crucible_config& crucible_config() const { return crucible_; }
  [[nodiscard]] const curriculum_sampler<nbody_scenario>& sampler() const { return sampler_; }
  [[nodiscard]] const replay_buffer& replay() const { return replay_; }
  [[nodiscard]] const beta_bernoulli& predictor() const { return predictor_; }
  [[nodiscard]] const curiosity_selector& selector() const { return selector_; }
  [[nodiscard]] std::span<const std::uint64_t> template_counts() const { return counts_; }
  /// The record of the last evaluate() (null before the first).
  [[nodiscard]] const nlohmann::json& last_record() const { return record_; }

  /// The scenario of template t with this seed, and its particles.
  [[nodiscard]] nbody_scenario scenario_of(std::size_t t, std::uint64_t seed) const {
    return sampler_.at(t).generate(seed);
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
    const auto S = static_cast<std::size_t>(cfg_.scenarios);
    std::vector<nbody_scenario_draw> out;
    selections_.clear();
    if (cfg_.policy != scenario_policy::uniform && !replay_.empty()) {
      const auto k = std::min<std::size_t>(
          replay_.size(),
          static_cast<std::size_t>(std::lround(cfg_.replay_fraction * static_cast<double>(S))));
      for (auto pos :
           replay_.sample_priority(k, make_key(cfg_.seed, draw_purpose::replay, generation))) {
        const auto& e = replay_[pos];
        out.push_back({e.metadata.at("template").get<std::size_t>(),
                       e.metadata.at("seed").get<std::uint64_t>(), true, e.id});
      }
    }
    if (cfg_.policy == scenario_policy::curiosity) {
      std::vector<double> p(sampler_.size());
      for (std::size_t slot = 0; out.size() < S; ++slot) {
        for (std::size_t t = 0; t < p.size(); ++t) p[t] = predictor_.predict(t).mean;
        const auto sel = selector_.select(p);
        selector_.visit(sel.action);
        selections_.push_back(sel);
        const auto m = sampler_.draw_template(sel.action, generation, slot);
        out.push_back({m.template_index, m.seed, false, 0});
      }
    } else {
      for (const auto& m : sampler_.draw(S - out.size(), generation))
        out.push_back({m.template_index, m.seed, false, 0});
    }
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

  void save(state_writer& w) const {
    {
      auto s = w.scope("predictor");
      predictor_.save(w);
    }
    {
      auto s = w.scope("replay");
      replay_.save(w);
    }
    {
      auto s = w.scope("curriculum");
      sampler_.save(w);
    }
    {
      auto s = w.scope("selector");
      selector_.save(w);
    }
    w.put("template_counts", counts_);
  }
  void load(state_reader& r) {
    {
      auto s = r.scope("predictor");
      predictor_.load(r);
    }
    {
      auto s = r.scope("replay");
      replay_.load(r);
    }
    {
      auto s = r.scope("curriculum");
      sampler_.load(r);
    }
    {
      auto s = r.scope("selector");
      selector_.load(r);
    }
    r.get("template_counts", counts_, counts_.size());
  }

 private:
  void learn(const std::vector<nbody_scenario_draw>& scen, const std::vector<double>& y,
             std::size_t elite, double elite_fitness, std::uint32_t generation) {
    const any_surprise surprise_of{cfg_.surprise, severity::medium};
    nlohmann::json rows = nlohmann::json::array(), picks = nlohmann::json::array();
    std::size_t next_selection = 0;
    double total = 0.0;
    for (std::size_t s = 0; s < scen.size(); ++s) {
      const auto& sc = scen[s];
      const std::size_t t = sc.template_index;
      const auto pred = predictor_.predict(t);
      const double surprise = cfg_.source == surprise_source::elite_error
                                  ? std::clamp(1.0 - y[s], 0.0, 1.0)
                                  : surprise_of(pred, y[s]);
      predictor_.observe(t, y[s]);
      sampler_.observe_surprise(t, surprise);
      const std::string& id = sampler_.at(t).id;
      if (!sc.replayed && next_selection < selections_.size()) {
        const auto& sel = selections_[next_selection++];
        auto rec = episode_record::from(sel, id, selector_.config().entropy_bonus);
        rec.success = y[s] >= 0.5;
        rec.surprise = surprise;
        rec.memory_size = replay_.size();
        rec.epsilon_after = selector_.adapt(surprise);
        picks.push_back(rec.to_json());
      }
      ++counts_[t];
      total += surprise;
      const auto status = y[s] >= 0.5 ? experience_status::solved : experience_status::failed;
      std::uint64_t rid = sc.replay_id;
      if (sc.replayed)
        replay_.update(rid, status, surprise, generation);
      else
        rid = replay_.add(id + ":" + std::to_string(sc.seed), id, status, surprise, generation,
                          {{"template", t}, {"seed", sc.seed}});
      const auto m = sampler_.make(t, sc.seed);
      rows.push_back({{"template", id},
                      {"seed", sc.seed},
                      {"n", m.parameters.at("n")},
                      {"checksum", m.checksum},
                      {"replayed", sc.replayed},
                      {"replay_id", rid},
                      {"elite_skill", y[s]},
                      {"predicted", pred.mean},
                      {"surprise", surprise},
                      {"priority", nerion_priority(surprise)}});
    }
    record_ = {{"generation", generation},
               {"policy", std::string(enum_name(cfg_.policy))},
               {"source", std::string(enum_name(cfg_.source))},
               {"elite_member", elite},
               {"elite_fitness", elite_fitness},
               {"scenarios", std::move(rows)},
               {"mean_surprise", scen.empty() ? 0.0 : total / static_cast<double>(scen.size())},
               {"template_probabilities", sampler_.probabilities()},
               {"template_counts", counts_},
               {"replay_size", replay_.size()}};
    if (cfg_.policy == scenario_policy::curiosity) record_["selector"] = std::move(picks);
  }

  surrogate_curriculum_config cfg_;
  surrogate::crucible_config crucible_;
  curriculum_sampler<nbody_scenario> sampler_;
  beta_bernoulli predictor_;
  curiosity_selector selector_;
  std::vector<selection> selections_;
  replay_buffer replay_;
  std::vector<std::uint64_t> counts_;
  nlohmann::json record_;
};

}  // namespace dphys::curiosity
