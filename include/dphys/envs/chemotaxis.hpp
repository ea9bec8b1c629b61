// dphys/envs/chemotaxis.hpp — koki2's chemotaxis "environment ladder" (L0.0–L1.1 and nursing
// schedules) as a lane-vectorised environment: one lane per (member, episode), integer positions
// held exactly in float.
//
// Config: chemotaxis_config (koki2 CLI names and defaults, spec K1–K2).
// Determinism: every random draw is dphys::uniform/normal/... keyed by (seed, stream, generation,
//   step, member word, episode word, index), so a lane's trajectory never depends on its block,
//   width or thread, nor on when a draw is made (step() draws the dropout coins ahead).
// SIMD: reset/step/observe are templates on the lane type F; branches are selects, except on
//   lane-uniform values (config flags, the step index) and the rare respawn draw.
// Speed: step() is on the rollout's critical path (action → move → arrival → observation → the
//   network's drive), so it visits each source once, with its state in registers, and draws the
//   gradient-dropout coins of the next 16 observations in one batch.
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
#include <dphys/envs/episode.hpp>

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
  /// Gradient-dropout coins of observations drop_first .. drop_first + drop_count - 1, drawn ahead
  /// by step() for the keys drop_keys; reset() empties them. Drawn one per step, each coin's lane
  /// hash is a dependent chain of ≈ 70 cycles at the end of the step; drawn 16 at a time, the
  /// independent hashes overlap. The same draws either way: a cache, not state.
  std::array<simd::mask_store_t<F>, 16> drop{};
  std::uint32_t drop_first = 0, drop_count = 0;
  episode_keys drop_keys{};
};

/// koki2's homeostatic drive D = w_E·(E − E*)² + w_I·(I − I*)² of a state (set points and weights as
/// in crucibles::fitness_config). The drive modulator of the eligibility trace reads its change.
struct chemotaxis_drive {
  float setpoint_energy = 1.0f, setpoint_integrity = 1.0f;
  float w_energy = 1.0f, w_integrity = 1.0f;

  template <simd::lane_type F>
  [[nodiscard]] F operator()(const chemotaxis_state<F>& s) const {
    const F e = s.energy - F(setpoint_energy), i = s.integrity - F(setpoint_integrity);
    return F(w_energy) * (e * e) + F(w_integrity) * (i * i);
  }
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
    s.drop_count = 0;
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
  DPHYS_KERNEL_INLINE transition<F> step(chemotaxis_state<F>& s, const F& action,
                                         const episode_keys& k, F* obs) const {
    using mask = simd::mask_t<F>;
    using uint = simd::uint_t<F>;
    const F zero(0.0f), one(1.0f);
    auto on = [](const F& unit) { return unit > F(0.5f); };

    const F dx =
        simd::select(action == F(4.0f), one, simd::keep(action == F(3.0f), F(-1.0f)));
    const F dy =
        simd::select(action == F(2.0f), one, simd::keep(action == F(1.0f), F(-1.0f)));
    const F x = simd::clamp(s.x + dx, zero, F(static_cast<float>(cfg_.width - 1)));
    const F y = simd::clamp(s.y + dy, zero, F(static_cast<float>(cfg_.height - 1)));
    // Arrival: on an active source now and not before the move. Sources move and deplete only
    // after this test, so "on it before" and "on it now" are both true exactly when the agent did
    // not move and is on it now: arrived = on it now && moved (positions are exact integers).
    const mask moved = (x != s.x) || (y != s.y);
    s.x = x;
    s.y = y;
    const std::uint32_t t = s.t;  // the step being taken; its draws are keyed by t
    s.t += 1;

    // One pass over the sources: arrival, then (step 4 of koki2's transition) arrived sources
    // deplete, bad ones with probability bad_deplete_p, count down from their delay on later steps
    // and respawn at a fresh cell when the countdown is 0; then the source's candidacy for the
    // next observation's gradient. Each source's state is loaded and stored once.
    const bool deplete_on = cfg_.source_deplete;
    const bool coin = deplete_on && cfg_.num_bad_sources > 0 && cfg_.bad_deplete_p < 1.0f;
    const auto coin_key =  // keys are hashed only when drawn from
        coin ? random_key::make(k.seed, stream_id::deplete_coin, k.generation, t) : random_key{};
    const F delay_good(static_cast<float>(cfg_.respawn_delay));
    const F delay_bad(static_cast<float>(cfg_.bad_delay()));
    F n_good(0.0f), n_bad(0.0f);
    mask reached{};
    nearest_source<F> near;
    // The sources' arrays, their count and the lane words, read once per step: a vector store may
    // alias the vectors' own members (__m512 is a may-alias type), so the compiler would reload them
    // after every store of the loop. With them hoisted, GCC 12 also keeps the respawn mask in a
    // register instead of a 16-bit stack slot (a 22-cycle store-load round trip on Zen 4):
    // 1.02–1.08× rollout throughput (docs/performance_log.md, *Register allocation*).
    const std::size_t n_sources = s.sx.size();
    F* const src_x = s.sx.data();
    F* const src_y = s.sy.data();
    F* const src_active = s.active.data();
    F* const src_countdown = s.countdown.data();
    const F* const src_bad = s.bad.data();
    const uint member_word = s.member_word, episode_word = s.episode_word;
    for (std::size_t i = 0; i < n_sources; ++i) {
      F sx = src_x[i], sy = src_y[i];
      const mask is_bad = on(src_bad[i]);
      mask active = on(src_active[i]);
      const mask hit_now = active && (sx == x) && (sy == y);
      reached = reached || (hit_now && !is_bad);
      const mask arrived = hit_now && moved;
      n_good = n_good + simd::to_unit<F>(arrived && !is_bad);
      n_bad = n_bad + simd::to_unit<F>(arrived && is_bad);
      if (deplete_on) {
        // A source that was inactive cannot be arrived at: it counts down (to 0, then respawns),
        // which does not depend on this step's move, so only the arrival's own case waits for it.
        const F delay = simd::select(is_bad, delay_bad, delay_good);
        const F count = simd::clear(active, simd::max(src_countdown[i] - one, zero));
        const mask counted_out = !active && (count == zero);
        mask deplete = arrived;
        if (coin)
          deplete = deplete && (!is_bad || bernoulli<F>(coin_key, member_word, episode_word,
                                                        uint(i), cfg_.bad_deplete_p));
        active = active && !deplete;
        const F rt = simd::select(deplete, delay, count);
        const mask respawn = counted_out || (deplete && (delay == zero));
        // Counter-based draws: skipping the unused ones changes no other draw.
        if (simd::any(respawn)) {
          const auto cell_key = random_key::make(k.seed, stream_id::respawn_cells, k.generation, t);
          sx = simd::select(
              respawn, randint<F>(cell_key, member_word, episode_word, uint(2 * i), width_u()), sx);
          sy = simd::select(
              respawn, randint<F>(cell_key, member_word, episode_word, uint(2 * i + 1), height_u()),
              sy);
          src_x[i] = sx;
          src_y[i] = sy;
        }
        active = active || respawn;
        src_active[i] = simd::to_unit<F>(active);
        src_countdown[i] = simd::clear(respawn, rt);
      }
      near.visit(cfg_.good_only_gradient ? active && !is_bad : active, sx - x, sy - y);
    }
    transition<F> tr;
    tr.energy_gained = F(cfg_.energy_gain) * n_good;
    tr.bad_arrivals = n_bad;
    tr.reached = reached;
    s.energy = simd::clamp(s.energy - F(cfg_.decay()) + tr.energy_gained, zero, one);
    tr.integrity_lost = F(std::max(cfg_.bad_source_integrity_loss, 0.0f)) * n_bad;
    s.integrity = simd::clamp(s.integrity - tr.integrity_lost, zero, one);
    auto done = (s.energy <= zero) || (s.integrity <= zero) ||
                (F(static_cast<float>(s.t)) >= F(static_cast<float>(cfg_.max_steps)));
    if (cfg_.terminate_on_reach) done = done || tr.reached;
    tr.done = done;
    write_observation(s, k, s.t, obs, phase(t), near, drawn_dropout(s, k, s.t));
    return tr;
  }

  /// Observation [gx, gy, E, I] after `obs_index` steps at developmental phase phi (spec K2 order).
  template <simd::lane_type F>
  void observe(const chemotaxis_state<F>& s, const episode_keys& k, std::uint32_t obs_index, F* obs,
               float phi = 0.0f) const {
    nearest_source<F> near;
    for (std::size_t i = 0; i < s.sx.size(); ++i) {
      auto cand = s.active[i] > F(0.5f);
      if (cfg_.good_only_gradient) cand = cand && !(s.bad[i] > F(0.5f));
      near.visit(cand, s.sx[i] - s.x, s.sy[i] - s.y);
    }
    write_observation(s, k, obs_index, obs, phi, near, dropout_coin(s, k, obs_index));
  }

 private:
  [[nodiscard]] std::uint32_t width_u() const { return static_cast<std::uint32_t>(cfg_.width); }
  [[nodiscard]] std::uint32_t height_u() const { return static_cast<std::uint32_t>(cfg_.height); }

  /// The offset (gx, gy) to the nearest candidate source, visited in source order (the first of
  /// equally near sources wins); (0, 0) when there is none.
  template <simd::lane_type F>
  struct nearest_source {
    F best = F(std::numeric_limits<float>::infinity()), gx = F(0.0f), gy = F(0.0f);
    void visit(const simd::mask_t<F>& cand, const F& ddx, const F& ddy) {
      const F d2 = ddx * ddx + ddy * ddy;
      const auto take = cand && (d2 < best);  // strict
      best = simd::select(take, d2, best);
      gx = simd::select(take, ddx, gx);
      gy = simd::select(take, ddy, gy);
    }
  };

  /// The gradient-dropout coin of observation `obs_index` (all false when grad_dropout_p is 0).
  template <simd::lane_type F>
  simd::mask_t<F> dropout_coin(const chemotaxis_state<F>& s, const episode_keys& k,
                               std::uint32_t obs_index) const {
    if (!(cfg_.grad_dropout_p > 0.0f)) return simd::mask_t<F>{};
    const auto key = random_key::make(k.seed, stream_id::dropout_coin, k.generation, obs_index);
    return bernoulli<F>(key, s.member_word, s.episode_word, simd::uint_t<F>(0u),
                        cfg_.grad_dropout_p);
  }

  /// dropout_coin(s, k, obs_index), from the coins drawn ahead in `s` (refilled with the next
  /// s.drop.size() coins, up to observation max_steps, when it does not hold obs_index).
  template <simd::lane_type F>
  simd::mask_t<F> drawn_dropout(chemotaxis_state<F>& s, const episode_keys& k,
                                std::uint32_t obs_index) const {
    if (!(cfg_.grad_dropout_p > 0.0f)) return simd::mask_t<F>{};
    if (obs_index - s.drop_first >= s.drop_count || s.drop_keys.seed != k.seed ||
        s.drop_keys.generation != k.generation) {
      const auto last = static_cast<std::uint32_t>(cfg_.max_steps);
      const auto left = obs_index < last ? last - obs_index + 1 : 1u;
      s.drop_count = std::min(static_cast<std::uint32_t>(s.drop.size()), left);
      s.drop_first = obs_index;
      s.drop_keys = k;
      for (std::uint32_t d = 0; d < s.drop_count; ++d)
        s.drop[d] = dropout_coin(s, k, obs_index + d);
    }
    return s.drop[obs_index - s.drop_first];
  }

  /// Writes [gx, gy, E, I] from the nearest source's offset and the gradient-dropout coin.
  template <simd::lane_type F>
  void write_observation(const chemotaxis_state<F>& s, const episode_keys& k,
                         std::uint32_t obs_index, F* obs, float phi, const nearest_source<F>& near,
                         const simd::mask_t<F>& drop) const {
    using uint = simd::uint_t<F>;
    F gx = near.gx / F(static_cast<float>(std::max(cfg_.width - 1, 1)));
    F gy = near.gy / F(static_cast<float>(std::max(cfg_.height - 1, 1)));
    const float bins = cfg_.grad_bins.at(phi);
    if (bins > 0.0f) {
      gx = simd::nearbyint(gx * F(bins)) / F(bins);
      gy = simd::nearbyint(gy * F(bins)) / F(bins);
    }
    const float gain = cfg_.grad_gain.at(phi);
    if (gain != 1.0f) {  // x · 1 = x for every non-NaN x, and gx, gy are finite
      gx = gx * F(gain);
      gy = gy * F(gain);
    }
    if (cfg_.grad_dropout_p > 0.0f) {
      gx = simd::clear(drop, gx);
      gy = simd::clear(drop, gy);
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

  chemotaxis_config cfg_{};
};

}  // namespace dphys::envs

DPHYS_ADAPT_STRUCT(dphys::envs::nursing_schedule, min, max, start, end);
DPHYS_ADAPT_STRUCT(dphys::envs::chemotaxis_config, width, height, max_steps, energy_init,
                   energy_decay, energy_gain, terminate_on_reach, num_sources, num_bad_sources,
                   bad_source_integrity_loss, good_only_gradient, source_deplete,
                   respawn_delay, bad_respawn_delay, bad_deplete_p, obs_noise, grad_dropout_p,
                   grad_gain, grad_bins);
