// dphys/curiosity/curriculum_crucible.hpp — the curiosity layer in the evolution loop: a crucible
// that draws each generation's evaluation scenarios (ladder rung × seed) from a curriculum sampler
// and from a prioritised replay buffer, measures how surprised a Beta–Bernoulli predictor of the
// current elite's success is on every scenario, and feeds that surprise back (replay priorities,
// surprise-weighted rung weights). Works with koki2's ladder (rungs as templates); one JSON record
// per generation (last_record()) for the run's curriculum.jsonl.
//
// Config: curriculum_crucible_config.
// Scenarios: a scenario is (rung, seed); its episodes use common random numbers keyed by (seed,
//   generation word 0), so a replayed scenario shows every member exactly the same episodes.
//   Fitness = mean over scenarios of the member's episode-mean fitness on each.
// Determinism: a function of (config seed, the sequence of populations); independent of lane
//   type, block size and thread count, like the rollout it wraps.
// Statefulness: evaluate() learns (predictor, replay, curriculum) and is therefore not const and
//   not idempotent. dphys::evolve takes it through ref(), a thin handle; one evaluation at a time.
// Example: examples/curriculum/curriculum.cpp (surprise-driven vs uniform over koki2's ladder).
// Scheduling (choose, learn, checkpoint of the curiosity state) is scenario_scheduler
//   (scheduler.hpp), shared with surrogate_curriculum; this wrapper keeps the koki2 rollouts.
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
#include <dphys/crucibles/rollout.hpp>
#include <dphys/curiosity/curriculum.hpp>
#include <dphys/curiosity/predictor.hpp>
#include <dphys/curiosity/replay.hpp>
#include <dphys/curiosity/scheduler.hpp>
#include <dphys/curiosity/selector.hpp>
#include <dphys/curiosity/surprise.hpp>
#include <dphys/envs/chemotaxis.hpp>

namespace dphys::curiosity {

// scenario_policy (uniform, surprise_weighted, curiosity) is declared in curriculum.hpp.

struct curriculum_crucible_config {
  scenario_policy policy = scenario_policy::surprise_weighted;
  int scenarios = 4;             ///< scenarios per generation (every member runs all of them)
  int episodes = 2;              ///< episodes per scenario
  double replay_fraction = 0.5;  ///< share of the scenarios replayed (not with uniform)
  int replay_capacity = 256;     ///< 0: unbounded
  surprise_kind surprise = surprise_kind::normalized_error;
  beta_bernoulli_config predictor{1.0, 1.0, 0.8};
  surprise_weighting_config weighting{};
  curiosity_selector_config selector{};  ///< policy curiosity (its seed is replaced by `seed`)
  std::uint64_t seed = 0;

  void check(config_checker<curriculum_crucible_config>& c) const {
    c(&curriculum_crucible_config::scenarios).at_least(1).at_most(1 << 16);
    c(&curriculum_crucible_config::episodes).at_least(1).at_most(1 << 16);
    c(&curriculum_crucible_config::replay_fraction).in_range(0.0, 1.0);
    c(&curriculum_crucible_config::replay_capacity).at_least(0);
  }
};

/// One rung of a ladder: a name and its environment.
struct rung {
  std::string name;
  envs::chemotaxis_config env;
};

/// The parameters of a ladder instance (what the catalog checksums): the rung's environment and
/// the seed of its episodes.
struct ladder_instance {
  envs::chemotaxis_config env;
  std::uint64_t episode_seed = 0;
};

}  // namespace dphys::curiosity

DPHYS_ADAPT_STRUCT(dphys::curiosity::curriculum_crucible_config, policy, scenarios, episodes,
                   replay_fraction, replay_capacity, surprise, predictor, weighting, selector,
                   seed);
DPHYS_ADAPT_STRUCT(dphys::curiosity::ladder_instance, env, episode_seed);

namespace dphys::curiosity {

/// koki2's ladder, the five conditions of examples/koki2/sweep_ladder.json on top of `base`
/// (default: koki2_config's L0.2 rung): L0, L0.2, L0.2_cue, L1.0_deplete, L1.1_dropout.
inline std::vector<rung> koki2_ladder(envs::chemotaxis_config l0_2 = [] {
  envs::chemotaxis_config e;
  e.num_sources = 4;
  e.num_bad_sources = 2;
  e.bad_source_integrity_loss = 0.25f;
  return e;
}()) {
  std::vector<rung> r;
  auto l0 = l0_2;
  l0.num_sources = 1;
  l0.num_bad_sources = 0;
  l0.bad_source_integrity_loss = 0.0f;
  r.push_back({"L0", l0});
  r.push_back({"L0.2", l0_2});
  auto cue = l0_2;
  cue.good_only_gradient = true;
  r.push_back({"L0.2_cue", cue});
  auto dep = l0_2;
  dep.source_deplete = true;
  dep.respawn_delay = 4;
  r.push_back({"L1.0_deplete", dep});
  auto drop = dep;
  drop.grad_dropout_p = 0.5f;
  r.push_back({"L1.1_dropout", drop});
  return r;
}

/// One evaluated scenario.
struct scenario {
  std::size_t rung = 0;
  std::uint64_t seed = 0;
  bool replayed = false;
  std::uint64_t replay_id = 0;  ///< the replay entry (fresh scenarios: the entry created for it)
};

/// A rung's held-out score.
struct rung_score {
  std::string rung;
  double success_rate = 0, mean_fitness = 0;
};

class curriculum_crucible {
 public:
  /// `prototype` supplies the network, plasticity rule, fitness constants and rollout settings
  /// (horizon, threads, block size); its environment is replaced by each rung's.
  curriculum_crucible(std::vector<rung> rungs, const crucibles::chemotaxis_rollout& prototype,
                      curriculum_crucible_config cfg)
      : cfg_(cfg),
        rungs_(std::move(rungs)),
        scheduler_(templates(rungs_), scheduler_config(cfg), "rung") {
    validate(cfg_);
    if (rungs_.empty()) throw std::invalid_argument("curriculum_crucible: no rungs");
    auto rc = prototype.config();
    rc.episodes = cfg_.episodes;
    rc.random_numbers = envs::random_numbers::common;
    for (const auto& r : rungs_) {
      validate(r.env);
      rollouts_.emplace_back(r.env, prototype.network(), prototype.rule().config(),
                             prototype.fitness(), rc);
    }
  }

  [[nodiscard]] std::size_t genome_size() const { return rollouts_.front().genome_size(); }
  [[nodiscard]] const curriculum_crucible_config& config() const { return cfg_; }
  [[nodiscard]] std::span<const rung> rungs() const { return rungs_; }
  [[nodiscard]] const curriculum_sampler<ladder_instance>& sampler() const {
    return scheduler_.sampler();
  }
  [[nodiscard]] const replay_buffer& replay() const { return scheduler_.replay(); }
  [[nodiscard]] const beta_bernoulli& predictor() const { return scheduler_.predictor(); }
  [[nodiscard]] const curiosity_selector& selector() const { return scheduler_.selector(); }
  /// Scenarios evaluated so far, per rung.
  [[nodiscard]] std::span<const std::uint64_t> rung_counts() const { return scheduler_.counts(); }
  /// The record of the last evaluate() (null before the first).
  [[nodiscard]] const dphys::json& last_record() const { return record_; }

  /// This generation's scenarios: replayed ones first (Nerion priority mode), then fresh ones
  /// from the curriculum. Catalogues the fresh instances.
  std::vector<scenario> choose(std::uint32_t generation) {
    std::vector<scenario> out;
    for (const auto& d : scheduler_.choose(generation))
      out.push_back({d.template_index, d.seed, d.replayed, d.replay_id});
    return out;
  }

  /// Evaluates a population (members × genome_size(), row-major) on this generation's scenarios
  /// and learns from the elite's outcomes. Returns the rollout's evaluation type (episodes
  /// member-major, scenario by scenario).
  template <simd::lane_type F = simd::native>
  crucibles::evaluation evaluate(std::span<const float> population,
                                 const crucibles::rollout_keys& keys) {
    const std::size_t d = genome_size();
    if (population.empty() || population.size() % d != 0)
      throw std::invalid_argument("curriculum_crucible::evaluate: population size " +
                                  std::to_string(population.size()) +
                                  " is not a positive multiple of the genome size " +
                                  std::to_string(d));
    const std::size_t members = population.size() / d, E = static_cast<std::size_t>(cfg_.episodes);
    const auto scen = choose(keys.generation);
    const std::size_t S = scen.size();

    crucibles::evaluation out;
    out.fitness.assign(members, 0.0f);
    out.episodes.resize(members * S * E);
    out.episodes_per_member = S * E;
    std::vector<std::vector<float>> success(S, std::vector<float>(members, 0.0f));
    for (std::size_t s = 0; s < S; ++s) {
      const crucibles::rollout_keys k{scen[s].seed, 0, keys.member_offset, 0};
      const auto ev = rollouts_[scen[s].rung].template evaluate<F>(population, k);
      out.agent_steps += ev.agent_steps;
      for (std::size_t m = 0; m < members; ++m) {
        out.fitness[m] += ev.fitness[m] / static_cast<float>(S);
        float succ = 0.0f;
        for (std::size_t e = 0; e < E; ++e) {
          out.episodes[m * S * E + s * E + e] = ev.episodes[m * E + e];
          succ += ev.episodes[m * E + e].success;
        }
        success[s][m] = succ / static_cast<float>(E);
      }
    }
    std::size_t elite = 0;
    for (std::size_t m = 0; m < members; ++m) {
      if (!std::isfinite(out.fitness[m])) {
        ++out.non_finite;
        continue;
      }
      if (!std::isfinite(out.fitness[elite]) || out.fitness[m] > out.fitness[elite]) elite = m;
    }
    learn(scen, success, elite, out.fitness[elite], keys.generation);
    return out;
  }

  /// Held-out score of one genome on every rung: `episodes` episodes with common random numbers
  /// keyed by a test seed no training scenario uses.
  template <simd::lane_type F = simd::native>
  [[nodiscard]] std::vector<rung_score> test(std::span<const float> genome, int episodes,
                                             std::uint64_t test_seed) const {
    std::vector<rung_score> out;
    for (std::size_t r = 0; r < rungs_.size(); ++r) {
      auto rc = rollouts_[r].config();
      rc.episodes = episodes;
      const auto ev = rollouts_[r].with(rc).template evaluate<F>(
          genome, crucibles::rollout_keys{instance_seed(test_seed, "held-out", r, 0), 0, 0,
                                          0x20000000u});
      double s = 0.0;
      for (const auto& e : ev.episodes) s += e.success;
      out.push_back({rungs_[r].name, s / static_cast<double>(ev.episodes.size()),
                     static_cast<double>(ev.fitness[0])});
    }
    return out;
  }

  /// A handle that models dphys::crucible for dphys::evolve (evaluations go to this object).
  struct handle {
    curriculum_crucible* self;
    [[nodiscard]] std::size_t genome_size() const { return self->genome_size(); }
    crucibles::evaluation evaluate(std::span<const float> pop,
                                   const crucibles::rollout_keys& k) const {
      return self->evaluate(pop, k);
    }
  };
  [[nodiscard]] handle ref() { return handle{this}; }

  /// Records: scopes predictor, replay, curriculum, selector; then rung_counts.
  void save(state_writer& w) const { scheduler_.save(w); }
  void load(state_reader& r) { scheduler_.load(r); }

 private:
  static scenario_scheduler_config scheduler_config(const curriculum_crucible_config& c) {
    return {c.policy,    c.scenarios, c.replay_fraction, c.replay_capacity,
            c.predictor, c.weighting, c.selector,        c.seed};
  }
  static std::vector<env_template<ladder_instance>> templates(const std::vector<rung>& rungs) {
    std::vector<env_template<ladder_instance>> t;
    for (const auto& r : rungs)
      t.push_back({r.name, [env = r.env](std::uint64_t seed) { return ladder_instance{env, seed}; },
                   1.0});
    return t;
  }

  void learn(const std::vector<scenario>& scen, const std::vector<std::vector<float>>& success,
             std::size_t elite, float elite_fitness, std::uint32_t generation) {
    std::vector<scheduled_scenario> drawn;
    std::vector<double> y;
    for (std::size_t s = 0; s < scen.size(); ++s) {
      drawn.push_back({scen[s].rung, scen[s].seed, scen[s].replayed, scen[s].replay_id});
      y.push_back(success[s][elite]);
    }
    const any_surprise surprise_of{cfg_.surprise, severity::medium};
    record_ = scheduler_.learn(
        drawn, y, elite, elite_fitness, generation,
        [&](const prediction& pred, double ys) { return surprise_of(pred, ys); },
        [&](dphys::json& row, std::size_t s, const prediction& pred) {
          row["elite_success"] = y[s];
          row["predicted_sd"] = pred.stddev();
        });
  }

  curriculum_crucible_config cfg_;
  std::vector<rung> rungs_;
  std::vector<crucibles::chemotaxis_rollout> rollouts_;
  scenario_scheduler<ladder_instance> scheduler_;
  dphys::json record_;
};

}  // namespace dphys::curiosity
