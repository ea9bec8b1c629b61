// dphys/crucibles/viability.hpp — koki2's minimal viability test (MVT, spec K8) as a wrapper around
// any crucible whose evaluation carries lifetime summaries: each member also runs `episodes` short
// episodes; it passes if ANY of them lives long enough, acts diversely enough, gains enough energy
// and has a finite fitness. Failing members get `fail_fitness` before ranking; the pass rate is
// reported.
//
// Determinism: MVT episodes use episode words from 0x40000000 on, disjoint from the main episodes.
#pragma once

#include <cmath>
#include <optional>
#include <span>
#include <vector>

#include <dphys/core/config.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/crucibles/rollout.hpp>

namespace dphys::crucibles {

struct viability_config {
  bool enabled = false;
  int episodes = 2;
  int steps = 64;
  float min_alive_steps = 32.0f;
  float min_action_entropy = 0.0f;
  float min_energy_gained = 0.0f;
  float fail_fitness = -1e9f;

  void check(config_checker<viability_config>& c) const {
    c(&viability_config::episodes).at_least(1).at_most(1 << 16);
    c(&viability_config::steps).at_least(1);
    c(&viability_config::min_alive_steps).at_least(0.0).finite();
    c(&viability_config::min_action_entropy).at_least(0.0).finite();
    c(&viability_config::min_energy_gained).finite();
    c(&viability_config::fail_fitness).finite();
  }
};

/// The evaluation of a filtered crucible: the inner evaluation plus the MVT outcome per member.
struct filtered_evaluation : evaluation {
  std::vector<unsigned char> passed;  ///< empty when the filter is disabled
  std::optional<double> pass_rate;    ///< nullopt when disabled (koki2 logs null)
};

/// Wraps a crucible exposing `with(rollout_config)`, `config()` and `evaluate(pop, keys)`.
template <class Inner>
class viability_filter {
 public:
  viability_filter(Inner inner, viability_config cfg) : inner_(std::move(inner)), cfg_(cfg) {}

  [[nodiscard]] const Inner& inner() const { return inner_; }
  [[nodiscard]] const viability_config& config() const { return cfg_; }
  [[nodiscard]] std::size_t genome_size() const { return inner_.genome_size(); }

  /// True if one of the summaries passes koki2's any-episode rule.
  [[nodiscard]] bool passes(std::span<const lifetime_summary> episodes) const {
    for (const auto& s : episodes)
      if (s.t_alive >= cfg_.min_alive_steps && s.action_entropy >= cfg_.min_action_entropy &&
          s.energy_gained_total >= cfg_.min_energy_gained && std::isfinite(s.fitness))
        return true;
    return false;
  }

  template <simd::lane_type F = simd::native>
  filtered_evaluation evaluate(std::span<const float> population, const rollout_keys& keys) const {
    filtered_evaluation out;
    static_cast<evaluation&>(out) = inner_.template evaluate<F>(population, keys);
    if (!cfg_.enabled) return out;
    auto mvt_cfg = inner_.config();
    mvt_cfg.episodes = cfg_.episodes;
    mvt_cfg.steps = cfg_.steps;
    auto mvt_keys = keys;
    mvt_keys.episode_offset = keys.episode_offset + mvt_episode_base;
    const auto mvt = inner_.with(mvt_cfg).template evaluate<F>(population, mvt_keys);
    const std::size_t members = out.fitness.size(), E = static_cast<std::size_t>(cfg_.episodes);
    out.passed.assign(members, 0);
    std::size_t n_pass = 0;
    for (std::size_t m = 0; m < members; ++m) {
      const bool ok = passes(std::span(mvt.episodes).subspan(m * E, E));
      out.passed[m] = ok ? 1 : 0;
      n_pass += ok ? 1 : 0;
      if (!ok) out.fitness[m] = cfg_.fail_fitness;
    }
    out.agent_steps += mvt.agent_steps;
    out.pass_rate = members ? static_cast<double>(n_pass) / static_cast<double>(members) : 0.0;
    return out;
  }

  static constexpr std::uint32_t mvt_episode_base = 0x40000000u;

 private:
  Inner inner_;
  viability_config cfg_;
};

}  // namespace dphys::crucibles

DPHYS_ADAPT_STRUCT(dphys::crucibles::viability_config, enabled, episodes, steps,
                   min_alive_steps, min_action_entropy, min_energy_gained, fail_fitness);
