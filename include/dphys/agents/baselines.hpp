// dphys/agents/baselines.hpp — koki2's reference controllers (spec K10): greedy gradient follower,
// uniform random walk, stay. They plug into the rollout crucible like an evolved agent.
//
// Controller interface (shared with the SNN controller of crucibles/rollout.hpp):
//   template <lane_type F> struct state;  void reset(state<F>&) const;
//   F act(state<F>&, const F* obs, const act_context<F>&) const;
// Determinism: random draws from stream baseline_action keyed by (seed, generation, step, member,
// episode).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>

#include <dphys/core/random.hpp>
#include <dphys/core/simd.hpp>

namespace dphys::agents {

/// Lane-uniform and per-lane counter words available to a controller at one step.
template <simd::lane_type F>
struct act_context {
  std::uint64_t seed = 0;
  std::uint32_t generation = 0;
  std::uint32_t step = 0;
  simd::uint_t<F> member_word = simd::uint_t<F>(0u), episode_word = simd::uint_t<F>(0u);
};

/// greedy: move along the axis of larger |gradient| (x on ties) toward its sign; stay inside a 1e-3
/// deadband.
struct greedy {
  template <simd::lane_type F>
  struct state {};
  template <simd::lane_type F>
  void reset(state<F>&) const {}
  template <simd::lane_type F>
  F act(state<F>&, const F* obs, const act_context<F>&) const {
    const F gx = obs[0], gy = obs[1], ax = simd::abs(gx), ay = simd::abs(gy), zero(0.0f);
    const F along_x = simd::select(gx >= zero, F(4.0f), F(3.0f));
    const F along_y = simd::select(gy >= zero, F(2.0f), F(1.0f));
    const F move = simd::select(ax >= ay, along_x, along_y);
    return simd::clear((ax < F(1e-3f)) && (ay < F(1e-3f)), move);
  }
};

/// random: one of the 5 actions uniformly at every step.
struct random_walk {
  template <simd::lane_type F>
  struct state {};
  template <simd::lane_type F>
  void reset(state<F>&) const {}
  template <simd::lane_type F>
  F act(state<F>&, const F*, const act_context<F>& c) const {
    const auto key = random_key::make(c.seed, stream_id::baseline_action, c.generation, c.step);
    return randint<F>(key, c.member_word, c.episode_word, simd::uint_t<F>(0u), 5u);
  }
};

/// stay: always action 0.
struct stay {
  template <simd::lane_type F>
  struct state {};
  template <simd::lane_type F>
  void reset(state<F>&) const {}
  template <simd::lane_type F>
  F act(state<F>&, const F*, const act_context<F>&) const {
    return F(0.0f);
  }
};

enum class baseline { greedy, random, stay };
constexpr auto enum_names(baseline) {
  return std::array{std::pair{baseline::greedy, std::string_view{"greedy"}},
                    std::pair{baseline::random, std::string_view{"random"}},
                    std::pair{baseline::stay, std::string_view{"stay"}}};
}

}  // namespace dphys::agents
