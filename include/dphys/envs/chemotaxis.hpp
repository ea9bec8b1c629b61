// dphys/envs/chemotaxis.hpp — koki2's chemotaxis "environment ladder" (L0.0–L1.1 and nursing
// schedules) as a lane-vectorised environment: one lane per (member, episode), integer positions
// held exactly in float.
//
// Config: chemotaxis_config (koki2 CLI names and defaults, spec K1–K2).
// Determinism: every random draw is dphys::uniform/normal/... keyed by (seed, stream, generation,
// step,
//   member word, episode word, index), so a lane's trajectory never depends on its block, width or
//   thread.
// SIMD: reset/step/observe are templates on the lane type F; branches are selects, except on
// lane-uniform
//   values (config flags, the step index).
// Failure modes: none at run time; chemotaxis_config::check rejects inconsistent settings.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include <dphys/core/config.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/simd.hpp>

namespace dphys::envs {

/// A developmental ("nursing") schedule: value(φ) = min + smoothstep(ramp(φ)) · (max − min);
/// constantly max when end <= start.
struct nursing_schedule {
  float min = 1.0f;
  float max = 1.0f;
  float start = 0.0f;
  float end = 0.0f;

  [[nodiscard]] float at(float phi) const {
    if (end <= start) return max;
    const float denom = std::max(end - start, 1e-6f);
    const float x = std::clamp((phi - start) / denom, 0.0f, 1.0f);
    return min + x * x * (3.0f - 2.0f * x) * (max - min);
  }
  void check(config_checker<nursing_schedule>& c) const {
    c(&nursing_schedule::min).finite();
    c(&nursing_schedule::max).finite();
    c(&nursing_schedule::start).in_range(0.0, 1.0);
    c(&nursing_schedule::end).in_range(0.0, 1.0);
  }
};

struct chemotaxis_config {
  int width = 64;
  int height = 1;
  int max_steps = 128;
  float energy_init = 1.0f;
  float energy_decay = -1.0f;  ///< < 0: energy_init / max_steps (koki2's CLI rule)
  float energy_gain = 0.05f;
  bool terminate_on_reach = false;
  int num_sources = 1;
  int num_bad_sources = 0;
  float bad_source_integrity_loss = 0.0f;
  bool good_only_gradient = false;
  bool source_deplete = false;
  int respawn_delay = 0;
  int bad_respawn_delay = -1;  ///< < 0: use respawn_delay
  float bad_deplete_p = 1.0f;
  float obs_noise = 0.0f;
  float grad_dropout_p = 0.0f;
  nursing_schedule grad_gain{1.0f, 1.0f, 0.0f, 0.0f};
  nursing_schedule grad_bins{0.0f, 0.0f, 0.0f, 0.0f};

  [[nodiscard]] float decay() const {
    return energy_decay >= 0.0f ? energy_decay
                                : energy_init / static_cast<float>(std::max(max_steps, 1));
  }
  [[nodiscard]] int bad_delay() const {
    return bad_respawn_delay >= 0 ? bad_respawn_delay : respawn_delay;
  }

  void check(config_checker<chemotaxis_config>& c) const {
    c(&chemotaxis_config::width).at_least(1).at_most(1 << 12);
    c(&chemotaxis_config::height).at_least(1).at_most(1 << 12);
    c(&chemotaxis_config::max_steps).at_least(1).at_most(1 << 24);
    c(&chemotaxis_config::energy_init).in_range(0.0, 1.0);
    c(&chemotaxis_config::energy_decay).at_most(1.0).finite();
    c(&chemotaxis_config::energy_gain).at_least(0.0).finite();
    c(&chemotaxis_config::num_sources).at_least(1).at_most(64);
    c(&chemotaxis_config::num_bad_sources).at_least(0).at_most(num_sources, "num_sources");
    c(&chemotaxis_config::bad_source_integrity_loss).at_least(0.0).finite();
    c(&chemotaxis_config::respawn_delay).at_least(0);
    c(&chemotaxis_config::bad_respawn_delay).at_least(-1);
    c(&chemotaxis_config::bad_deplete_p).in_range(0.0, 1.0);
    c(&chemotaxis_config::obs_noise).at_least(0.0).finite();
    c(&chemotaxis_config::grad_dropout_p).in_range(0.0, 1.0);
  }
};

/// Which counter words key the environment's random streams (spec K7).
enum class random_numbers {
  per_member,  ///< koki2 mode: environment draws keyed by (member, episode)
  common  ///< common random numbers: keyed by episode only, identical for every member and policy
};
constexpr auto enum_names(random_numbers) {
  return std::array{std::pair{random_numbers::per_member, std::string_view{"per_member"}},
                    std::pair{random_numbers::common, std::string_view{"common"}}};
}

/// Lane-uniform part of the random counter of one rollout: seed and generation.
struct episode_keys {
  std::uint64_t seed = 0;
  std::uint32_t generation = 0;
};

/// One step's transition signals, per lane (used by fitness, plasticity and statistics).
template <simd::lane_type F>
struct transition {
  F energy_gained = F(0.0f);   ///< raw gain of this step (before clipping E)
  F integrity_lost = F(0.0f);  ///< integrity loss of this step (before clipping I)
  F bad_arrivals = F(0.0f);
  simd::mask_t<F> reached{};
  simd::mask_t<F> done{};
};

/// Structure-of-arrays state of L = lanes_v<F> episodes.
template <simd::lane_type F>
struct chemotaxis_state {
  using uint = simd::uint_t<F>;
  F x = F(0.0f), y = F(0.0f), energy = F(0.0f), integrity = F(0.0f);
  std::vector<F> sx, sy, active, bad, countdown;  // per source; active/bad hold 0 or 1
  uint member_word = uint(0u), episode_word = uint(0u);
  std::uint32_t t = 0;  // steps taken (lane-uniform: lanes advance in lock-step)
};

class chemotaxis {
 public:
  static constexpr int obs_dim = 4;
  static constexpr int num_actions = 5;
  template <simd::lane_type F>
  using state_type = chemotaxis_state<F>;
  using keys_type = episode_keys;

  chemotaxis() = default;
  explicit chemotaxis(const chemotaxis_config& cfg) : cfg_(cfg) {}
  [[nodiscard]] const chemotaxis_config& config() const { return cfg_; }

  /// Developmental phase of the observation made after step t (0-based); the initial observation
  /// uses 0.
  [[nodiscard]] float phase(std::uint32_t t) const {
    return static_cast<float>(t) / static_cast<float>(std::max(cfg_.max_steps - 1, 1));
  }

  /// Places the sources and the agent; writes the initial observation into obs[0..3].
  template <simd::lane_type F>
  void reset(chemotaxis_state<F>& s, const episode_keys& k, const simd::uint_t<F>& member_word,
             const simd::uint_t<F>& episode_word, F* obs) const {
    const auto K = static_cast<std::size_t>(cfg_.num_sources);
    s.member_word = member_word;
    s.episode_word = episode_word;
    s.t = 0;
    s.x = F(static_cast<float>(cfg_.width / 2));
    s.y = F(static_cast<float>(cfg_.height / 2));
    s.energy = F(cfg_.energy_init);
    s.integrity = F(1.0f);
    s.sx.assign(K, F(0.0f));
    s.sy.assign(K, F(0.0f));
    s.active.assign(K, F(1.0f));
    s.bad.assign(K, F(0.0f));
    s.countdown.assign(K, F(0.0f));
    const auto cells = random_key::make(k.seed, stream_id::source_cells, k.generation, 0);
    for (std::size_t i = 0; i < K; ++i) {
      s.sx[i] = randint<F>(cells, member_word, episode_word, uint(2 * i), width_u());
      s.sy[i] = randint<F>(cells, member_word, episode_word, uint(2 * i + 1), height_u());
    }
    if (cfg_.num_bad_sources > 0) {
      // A uniformly random subset of exactly num_bad_sources: the sources with the smallest keys.
      const auto perm = random_key::make(k.seed, stream_id::bad_assignment, k.generation, 0);
      std::array<F, 64> u;  // num_sources <= 64: no heap allocation per episode
      for (std::size_t i = 0; i < K; ++i)
        u[i] = uniform<F>(perm, member_word, episode_word, uint(i));
      for (std::size_t i = 0; i < K; ++i) {
        F rank(0.0f);
        for (std::size_t j = 0; j < K; ++j) {
          if (j == i) continue;
          const auto before = j < i ? (u[j] <= u[i]) : (u[j] < u[i]);  // ties broken by index
          rank = rank + simd::to_unit<F>(before);
        }
        s.bad[i] = simd::to_unit<F>(rank < F(static_cast<float>(cfg_.num_bad_sources)));
      }
    }
    observe(s, k, 0, obs);
  }

  /// Applies one action per lane, advances t, writes the next observation. Lanes keep computing
  /// after `done`; callers mask what they accumulate.
  template <simd::lane_type F>
  transition<F> step(chemotaxis_state<F>& s, const F& action, const episode_keys& k, F* obs) const {
    const auto K = s.sx.size();
    const F zero(0.0f), one(1.0f);
    auto on = [](const F& unit) { return unit > F(0.5f); };

    std::array<F, 64> hit_prev;  // num_sources <= 64: no heap allocation per step
    for (std::size_t i = 0; i < K; ++i)
      hit_prev[i] = simd::to_unit<F>(on(s.active[i]) && (s.sx[i] == s.x) && (s.sy[i] == s.y));

    const F dx =
        simd::select(action == F(4.0f), one, simd::select(action == F(3.0f), F(-1.0f), zero));
    const F dy =
        simd::select(action == F(2.0f), one, simd::select(action == F(1.0f), F(-1.0f), zero));
    s.x = simd::clamp(s.x + dx, zero, F(static_cast<float>(cfg_.width - 1)));
    s.y = simd::clamp(s.y + dy, zero, F(static_cast<float>(cfg_.height - 1)));
    const std::uint32_t t_before = s.t;
    s.t += 1;

    transition<F> tr;
    F n_good(0.0f), n_bad(0.0f), reached(0.0f);
    std::array<F, 64> arrived;
    for (std::size_t i = 0; i < K; ++i) {
      const auto hit_now = on(s.active[i]) && (s.sx[i] == s.x) && (s.sy[i] == s.y);
      const auto is_bad = on(s.bad[i]);
      reached = simd::max(reached, simd::to_unit<F>(hit_now && !is_bad));
      const auto arr = hit_now && !on(hit_prev[i]);
      arrived[i] = simd::to_unit<F>(arr);
      n_good = n_good + simd::to_unit<F>(arr && !is_bad);
      n_bad = n_bad + simd::to_unit<F>(arr && is_bad);
    }
    tr.energy_gained = F(cfg_.energy_gain) * n_good;
    tr.bad_arrivals = n_bad;
    tr.reached = on(reached);

    if (cfg_.source_deplete) deplete_and_respawn(s, k, t_before, arrived);

    s.energy = simd::clamp(s.energy - F(cfg_.decay()) + tr.energy_gained, zero, one);
    tr.integrity_lost = F(std::max(cfg_.bad_source_integrity_loss, 0.0f)) * n_bad;
    s.integrity = simd::clamp(s.integrity - tr.integrity_lost, zero, one);
    auto done = (s.energy <= zero) || (s.integrity <= zero) ||
                (F(static_cast<float>(s.t)) >= F(static_cast<float>(cfg_.max_steps)));
    if (cfg_.terminate_on_reach) done = done || tr.reached;
    tr.done = done;
    observe(s, k, s.t, obs, phase(t_before));
    return tr;
  }

  /// Observation [gx, gy, E, I] after `obs_index` steps at developmental phase phi (spec K2 order).
  template <simd::lane_type F>
  void observe(const chemotaxis_state<F>& s, const episode_keys& k, std::uint32_t obs_index, F* obs,
               float phi = 0.0f) const {
    using uint = simd::uint_t<F>;
    const F inf(std::numeric_limits<float>::infinity());
    F best = inf, gx(0.0f), gy(0.0f);
    for (std::size_t i = 0; i < s.sx.size(); ++i) {
      auto cand = s.active[i] > F(0.5f);
      if (cfg_.good_only_gradient) cand = cand && !(s.bad[i] > F(0.5f));
      const F ddx = s.sx[i] - s.x, ddy = s.sy[i] - s.y;
      const F d2 = ddx * ddx + ddy * ddy;
      const auto take = cand && (d2 < best);  // strict: the first of equally near sources wins
      best = simd::select(take, d2, best);
      gx = simd::select(take, ddx, gx);
      gy = simd::select(take, ddy, gy);
    }
    gx = gx / F(static_cast<float>(std::max(cfg_.width - 1, 1)));
    gy = gy / F(static_cast<float>(std::max(cfg_.height - 1, 1)));
    const float bins = cfg_.grad_bins.at(phi);
    if (bins > 0.0f) {
      gx = simd::nearbyint(gx * F(bins)) / F(bins);
      gy = simd::nearbyint(gy * F(bins)) / F(bins);
    }
    const F gain(cfg_.grad_gain.at(phi));
    gx = gx * gain;
    gy = gy * gain;
    if (cfg_.grad_dropout_p > 0.0f) {
      const auto key = random_key::make(k.seed, stream_id::dropout_coin, k.generation, obs_index);
      const auto drop =
          bernoulli<F>(key, s.member_word, s.episode_word, uint(0u), cfg_.grad_dropout_p);
      gx = simd::select(drop, F(0.0f), gx);
      gy = simd::select(drop, F(0.0f), gy);
    }
    obs[0] = gx;
    obs[1] = gy;
    obs[2] = s.energy;
    obs[3] = s.integrity;
    if (cfg_.obs_noise != 0.0f) {
      const auto key = random_key::make(k.seed, stream_id::obs_noise, k.generation, obs_index);
      for (std::uint32_t c = 0; c < 4; ++c)
        obs[c] =
            obs[c] + F(cfg_.obs_noise) * normal<F>(key, s.member_word, s.episode_word, uint(c));
    }
  }

 private:
  [[nodiscard]] std::uint32_t width_u() const { return static_cast<std::uint32_t>(cfg_.width); }
  [[nodiscard]] std::uint32_t height_u() const { return static_cast<std::uint32_t>(cfg_.height); }

  // Step 4 of koki2's transition: arrived sources deplete (bad ones with probability
  // bad_deplete_p), count down from their delay on later steps, and respawn at a fresh cell when
  // the countdown is 0.
  template <simd::lane_type F>
  void deplete_and_respawn(chemotaxis_state<F>& s, const episode_keys& k, std::uint32_t t,
                           const std::array<F, 64>& arrived) const {
    using uint = simd::uint_t<F>;
    const F zero(0.0f), one(1.0f);
    const bool coin = cfg_.num_bad_sources > 0 && cfg_.bad_deplete_p < 1.0f;
    const auto coin_key = random_key::make(k.seed, stream_id::deplete_coin, k.generation, t);
    const auto cell_key = random_key::make(k.seed, stream_id::respawn_cells, k.generation, t);
    const F delay_good(static_cast<float>(cfg_.respawn_delay));
    const F delay_bad(static_cast<float>(cfg_.bad_delay()));
    for (std::size_t i = 0; i < s.sx.size(); ++i) {
      const auto is_bad = s.bad[i] > F(0.5f);
      auto deplete = arrived[i] > F(0.5f);
      if (coin)
        deplete = deplete && (!is_bad || bernoulli<F>(coin_key, s.member_word, s.episode_word,
                                                      uint(i), cfg_.bad_deplete_p));
      const auto active = (s.active[i] > F(0.5f)) && !deplete;
      F rt = simd::select(deplete, simd::select(is_bad, delay_bad, delay_good), s.countdown[i]);
      rt = simd::select(!active && !deplete, simd::max(rt - one, zero), rt);
      rt = simd::select(active, zero, rt);
      const auto respawn = !active && (rt == zero);
      if (simd::any(respawn)) {  // counter-based draws: skipping unused ones changes no other draw
        const F rx = randint<F>(cell_key, s.member_word, s.episode_word, uint(2 * i), width_u());
        const F ry =
            randint<F>(cell_key, s.member_word, s.episode_word, uint(2 * i + 1), height_u());
        s.sx[i] = simd::select(respawn, rx, s.sx[i]);
        s.sy[i] = simd::select(respawn, ry, s.sy[i]);
      }
      s.active[i] = simd::to_unit<F>(active || respawn);
      s.countdown[i] = simd::select(respawn, zero, rt);
    }
  }

  chemotaxis_config cfg_{};
};

}  // namespace dphys::envs

DPHYS_ADAPT_STRUCT(dphys::envs::nursing_schedule, min, max, start, end);
DPHYS_ADAPT_STRUCT(dphys::envs::chemotaxis_config, width, height, max_steps, energy_init,
                   energy_decay, energy_gain, terminate_on_reach, num_sources, num_bad_sources,
                   bad_source_integrity_loss, good_only_gradient, source_deplete,
                   respawn_delay, bad_respawn_delay, bad_deplete_p, obs_noise, grad_dropout_p,
                   grad_gain, grad_bins);
