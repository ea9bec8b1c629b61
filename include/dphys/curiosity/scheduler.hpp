// dphys/curiosity/scheduler.hpp — scenario_scheduler<Params>: the scenario scheduling shared by the
// curriculum wrappers (curriculum_crucible, surrogate_curriculum): a generation's scenarios (replayed
// ones first, then fresh ones from the curriculum sampler or the curiosity selector) and learning
// from the elite's outcomes (predictor, surprise, replay priorities, per-generation JSON record).
// Extension points: the templates (env_template<Params>), the surprise measure and the extra
// per-scenario record fields (callables passed to learn()).
//
// Naming: `key` ("rung", "template") names the replay metadata field of a scenario's template
//   index, the template field of a record row, and the record/checkpoint fields <key>_counts and
//   <key>_probabilities.
// Determinism: choose() draws replay with make_key(seed, draw_purpose::replay, generation), fresh
//   scenarios with the sampler's keys (generation, slot); a pure function of the config seed and
//   the outcomes fed to learn().
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/core/json.hpp>

#include <dphys/core/state_io.hpp>
#include <dphys/curiosity/curriculum.hpp>
#include <dphys/curiosity/predictor.hpp>
#include <dphys/curiosity/replay.hpp>
#include <dphys/curiosity/selector.hpp>
#include <dphys/curiosity/surprise.hpp>

namespace dphys::curiosity {

/// The scheduling part of a curriculum wrapper's config.
struct scenario_scheduler_config {
  scenario_policy policy = scenario_policy::surprise_weighted;
  int scenarios = 4;
  double replay_fraction = 0.5;
  int replay_capacity = 256;  ///< 0: unbounded
  beta_bernoulli_config predictor{1.0, 1.0, 0.8};
  surprise_weighting_config weighting{};
  curiosity_selector_config selector{};  ///< its seed is replaced by `seed`
  std::uint64_t seed = 0;
};

/// One scheduled scenario: a template and a seed; replayed ones carry their replay entry.
struct scheduled_scenario {
  std::size_t template_index = 0;
  std::uint64_t seed = 0;
  bool replayed = false;
  std::uint64_t replay_id = 0;
};

template <class Params>
class scenario_scheduler {
 public:
  /// The config is not validated here (the wrapper validates its own config).
  scenario_scheduler(std::vector<env_template<Params>> templates, scenario_scheduler_config cfg,
                     std::string key)
      : cfg_(cfg),
        key_(std::move(key)),
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
        counts_(sampler_.size(), 0) {}

  [[nodiscard]] const curriculum_sampler<Params>& sampler() const { return sampler_; }
  [[nodiscard]] const replay_buffer& replay() const { return replay_; }
  [[nodiscard]] const beta_bernoulli& predictor() const { return predictor_; }
  [[nodiscard]] const curiosity_selector& selector() const { return selector_; }
  /// Scenarios learnt from so far, per template.
  [[nodiscard]] std::span<const std::uint64_t> counts() const { return counts_; }

  /// This generation's scenarios: replayed ones first (Nerion priority mode, not with policy
  /// uniform), then fresh ones from the curriculum (or the curiosity selector). Catalogues the
  /// fresh instances.
  std::vector<scheduled_scenario> choose(std::uint32_t generation) {
    const auto S = static_cast<std::size_t>(cfg_.scenarios);
    std::vector<scheduled_scenario> out;
    selections_.clear();
    if (cfg_.policy != scenario_policy::uniform && !replay_.empty()) {
      const auto k = std::min<std::size_t>(
          replay_.size(),
          static_cast<std::size_t>(std::lround(cfg_.replay_fraction * static_cast<double>(S))));
      for (auto pos :
           replay_.sample_priority(k, make_key(cfg_.seed, draw_purpose::replay, generation))) {
        const auto& e = replay_[pos];
        out.push_back({e.metadata.at(key_).template get<std::size_t>(),
                       e.metadata.at("seed").template get<std::uint64_t>(), true, e.id});
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

  /// Learns from the elite's outcomes y[s] on the scenarios choose() returned: per scenario, in
  /// order, predicts, scores surprise = surprise_of(prediction, y) (before observing), updates
  /// predictor, curriculum, selector (curiosity picks), counts and replay (update or add). Returns
  /// the generation's record: generation, policy, elite_member, elite_fitness, scenarios (one row
  /// per scenario: <key>, seed, replayed, replay_id, predicted, surprise, priority, plus what
  /// row_extra(row, s, prediction) adds), mean_surprise, <key>_probabilities, <key>_counts,
  /// replay_size, and with policy curiosity the selector's picks.
  template <class SurpriseOf, class RowExtra>
  dphys::json learn(std::span<const scheduled_scenario> scen, std::span<const double> y,
                       std::size_t elite, double elite_fitness, std::uint32_t generation,
                       SurpriseOf&& surprise_of, RowExtra&& row_extra) {
    dphys::json rows = dphys::json::array(), picks = dphys::json::array();
    std::size_t next_selection = 0;
    double total = 0.0;
    for (std::size_t s = 0; s < scen.size(); ++s) {
      const auto& sc = scen[s];
      const std::size_t t = sc.template_index;
      const auto pred = predictor_.predict(t);
      const double surprise = surprise_of(pred, y[s]);
      predictor_.observe(t, y[s]);
      sampler_.observe_surprise(t, surprise);
      const std::string& id = sampler_.at(t).id;
      if (!sc.replayed && next_selection < selections_.size()) {
        const auto& sel = selections_[next_selection++];
        auto rec = episode_record::from(sel, sampler_.at(sel.action).id,
                                        selector_.config().entropy_bonus);
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
                          {{key_, t}, {"seed", sc.seed}});
      dphys::json row = {{key_, id},
                            {"seed", sc.seed},
                            {"replayed", sc.replayed},
                            {"replay_id", rid},
                            {"predicted", pred.mean},
                            {"surprise", surprise},
                            {"priority", nerion_priority(surprise)}};
      row_extra(row, s, pred);
      rows.push_back(std::move(row));
    }
    dphys::json record = {
        {"generation", generation},
        {"policy", std::string(enum_name(cfg_.policy))},
        {"elite_member", elite},
        {"elite_fitness", elite_fitness},
        {"scenarios", std::move(rows)},
        {"mean_surprise", scen.empty() ? 0.0 : total / static_cast<double>(scen.size())},
        {key_ + "_probabilities", sampler_.probabilities()},
        {key_ + "_counts", counts_},
        {"replay_size", replay_.size()}};
    if (cfg_.policy == scenario_policy::curiosity) record["selector"] = std::move(picks);
    return record;
  }

  /// Records: scopes predictor, replay, curriculum, selector; then <key>_counts.
  void save(state_writer& w) const {
    each_part(*this, w, [&](const auto& part) { part.save(w); });
    w.put(key_ + "_counts", counts_);
  }
  void load(state_reader& r) {
    each_part(*this, r, [&](auto& part) { part.load(r); });
    r.get(key_ + "_counts", counts_, counts_.size());
  }

 private:
  scenario_scheduler_config cfg_;
  std::string key_;
  curriculum_sampler<Params> sampler_;
  beta_bernoulli predictor_;
  curiosity_selector selector_;
  std::vector<selection> selections_;  // this generation's curiosity picks, in scenario order
  replay_buffer replay_;
  std::vector<std::uint64_t> counts_;

  // The checkpointed parts in record order, each under its scope (save and load share the order).
  template <class Self, class Archive, class Fn>
  static void each_part(Self& self, Archive& a, Fn&& fn) {
    const auto in = [&](std::string_view name, auto& part) {
      auto s = a.scope(name);
      fn(part);
    };
    in("predictor", self.predictor_);
    in("replay", self.replay_);
    in("curriculum", self.sampler_);
    in("selector", self.selector_);
  }
};

}  // namespace dphys::curiosity
