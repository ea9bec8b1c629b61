// dphys/envs/chemotaxis_task.hpp — koki2's chemotaxis world as a rewarding environment for the
// generic crucible (crucibles::episodic_rollout): the same world, observations and random streams,
// with reward = energy gained − integrity lost in the step (koki2's `event` modulator signal) and
// drive(state) = koki2's homeostatic drive, so every plasticity modulator works.
//
// Use it to evolve on koki2's world with a return of your own choosing (wrap it again and change
// `reward`), or to compare the generic path with crucibles::chemotaxis_rollout: with the same
// genomes, keys and rule both take the same actions (tests/test_chemotaxis.cpp), and the bench's
// `--crucible=generic` measures the generic path's speed on the koki2 workload.
#pragma once

#include <cstddef>

#include <dphys/core/simd.hpp>
#include <dphys/envs/chemotaxis.hpp>
#include <dphys/envs/episode.hpp>

namespace dphys::envs {

class chemotaxis_task {
 public:
  static constexpr int obs_dim = chemotaxis::obs_dim;
  static constexpr int num_actions = chemotaxis::num_actions;
  template <simd::lane_type F>
  using state_type = chemotaxis_state<F>;
  using keys_type = episode_keys;

  template <simd::lane_type F>
  struct transition {
    simd::mask_t<F> done, reached;
    F reward;  ///< energy gained − integrity lost in this step
  };

  chemotaxis_task() = default;
  explicit chemotaxis_task(const chemotaxis_config& cfg, chemotaxis_drive drive = {})
      : world_(cfg), drive_(drive) {}
  [[nodiscard]] const chemotaxis& world() const { return world_; }
  [[nodiscard]] std::size_t max_steps() const {
    return static_cast<std::size_t>(world_.config().max_steps);
  }

  template <simd::lane_type F>
  void reset(state_type<F>& s, const keys_type& k, const simd::uint_t<F>& member_word,
             const simd::uint_t<F>& episode_word, F* obs) const {
    world_.reset(s, k, member_word, episode_word, obs);
  }
  template <simd::lane_type F>
  transition<F> step(state_type<F>& s, const F& action, const keys_type& k, F* obs) const {
    const auto tr = world_.step(s, action, k, obs);
    return {tr.done, tr.reached, tr.energy_gained - tr.integrity_lost};
  }
  /// koki2's drive (chemotaxis_drive), the same function chemotaxis_rollout uses.
  template <simd::lane_type F>
  F drive(const state_type<F>& s) const {
    return drive_(s);
  }

 private:
  chemotaxis world_;
  chemotaxis_drive drive_;
};

}  // namespace dphys::envs
