// dphys/crucibles/episodic.hpp — the generic episodic rollout crucible: any lane-vectorised
// environment with a per-step reward, driven by dphys's spiking network (agents::snn) with or
// without the eligibility-trace rule; fitness is the mean episode return.
//
// Environment contract (rewarding_environment<E, F>): dphys::environment<E, F> whose step result
//   has a `reward` (F) besides `done`, and whose keys_type is built as keys_type{seed, generation}.
//   Optional members, used when present: `max_steps()` (the horizon when rollout_config::steps is
//   negative), `drive(state)` (the homeostatic drive, needed by the `drive` modulator) and the
//   transition's `reached` mask (an episode's `success`).
// Step order per lane, as in chemotaxis_rollout: network → environment → plasticity → statistics;
//   a lane stops at its first `done`, its return counts the rewards of its steps up to that one.
// Plasticity signals: the `spike` modulator reads the network; `event` uses the step's reward
//   (m = tanh(c·reward)); `drive` uses drive(state) before and after the step.
// Determinism: a lane's result is a pure function of (seed, generation, member word, episode word,
//   genome), independent of the lane type, block size and thread count (tests check all three).
// Failure modes: a rollout or plasticity config that breaks its rules throws config_error; a
//   network whose obs_dim/num_actions are not the environment's, a horizon the environment cannot
//   give and a `drive` modulator without drive() throw std::invalid_argument, all at construction
//   (and in with()); non-finite fitness is counted in episodic_evaluation::non_finite, never thrown.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <dphys/agents/snn.hpp>
#include <dphys/core/concepts.hpp>
#include <dphys/core/config.hpp>
#include <dphys/core/simd.hpp>
#include <dphys/crucibles/lane_blocks.hpp>
#include <dphys/plasticity/eligibility_trace.hpp>

namespace dphys::crucibles {

/// An environment episodic_rollout can run on lane type F.
template <class E, class F>
concept rewarding_environment =
    environment<E, F> && requires(const E& env, typename E::template state_type<F>& s,
                                  const F& action, F* obs, std::uint64_t seed, std::uint32_t g) {
      { typename E::keys_type{seed, g} };
      { env.step(s, action, typename E::keys_type{seed, g}, obs).reward } -> std::convertible_to<F>;
    };

/// Result of episodic_rollout::evaluate: fitness per member (mean return over its episodes) and
/// every episode's return, length and success (member-major: episode e of member m at
/// m · episodes_per_member + e).
struct episodic_evaluation {
  std::vector<float> fitness;
  std::vector<float> returns;   ///< sum of the rewards of the episode's steps
  std::vector<float> lengths;   ///< steps taken (up to and including the first `done`)
  std::vector<float> success;   ///< 1 if `reached` was set in one of its steps, else 0
  std::size_t episodes_per_member = 0;
  std::size_t non_finite = 0;     ///< members whose fitness is NaN or infinite
  std::uint64_t agent_steps = 0;  ///< agent-steps executed (sum of the lengths)
};

/// Evaluates SNN genomes (the direct layout of `net`) on episodes of Env, one lane per (member,
/// episode).
template <class Env>
class episodic_rollout {
 public:
  /// Throws std::invalid_argument when the network's obs_dim/num_actions are not Env's, when
  /// cfg.steps < 0 and Env has no max_steps(), or when the rule needs a drive Env does not give.
  episodic_rollout(Env env, agents::snn net, plasticity::eligibility_trace_config plast,
                   rollout_config cfg)
      : env_(std::move(env)), net_(std::move(net)), rule_(plast), cfg_(cfg) {
    const auto& l = net_.layout();
    if (l.obs_dim != static_cast<std::size_t>(Env::obs_dim) ||
        l.num_actions != static_cast<std::size_t>(Env::num_actions))
      throw std::invalid_argument(
          "episodic_rollout: the network has obs_dim " + std::to_string(l.obs_dim) +
          " and num_actions " + std::to_string(l.num_actions) + "; the environment needs " +
          std::to_string(Env::obs_dim) + " and " + std::to_string(Env::num_actions));
    check_against_env();
  }

  [[nodiscard]] const Env& env() const { return env_; }
  [[nodiscard]] const agents::snn& network() const { return net_; }
  [[nodiscard]] const plasticity::eligibility_trace& rule() const { return rule_; }
  [[nodiscard]] const rollout_config& config() const { return cfg_; }
  [[nodiscard]] std::size_t genome_size() const { return net_.layout().size(); }
  [[nodiscard]] std::size_t horizon() const {
    if (cfg_.steps >= 0) return static_cast<std::size_t>(cfg_.steps);
    if constexpr (has_max_steps) return static_cast<std::size_t>(env_.max_steps());
    return 0;  // unreachable: the constructor refuses it
  }
  /// A copy with other rollout settings (episodes, horizon, threads...), same env, network, rule.
  [[nodiscard]] episodic_rollout with(rollout_config cfg) const {
    auto r = *this;
    r.cfg_ = cfg;
    r.check_against_env();
    return r;
  }

  /// Evaluates the genomes stored row-major in `population` (members × genome_size()).
  template <simd::lane_type F = simd::native>
    requires rewarding_environment<Env, F>
  episodic_evaluation evaluate(std::span<const float> population, const rollout_keys& keys) const {
    const std::size_t d = genome_size();
    const std::size_t members =
        detail::members_in(population.size(), d, "episodic_rollout::evaluate");
    constexpr std::size_t L = simd::lanes_v<F>;
    const std::size_t E = static_cast<std::size_t>(cfg_.episodes);
    const std::size_t lanes = members * E, blocks = (lanes + L - 1) / L;

    episodic_evaluation ev;
    ev.returns.resize(lanes);
    ev.lengths.resize(lanes);
    ev.success.resize(lanes);
    ev.episodes_per_member = E;
    detail::deal_blocks(blocks, L, cfg_, [&](std::size_t b) {
      run_block<F>(b * L, lanes, keys, population.data(), ev);
    });
    ev.non_finite = detail::mean_per_member(members, E, ev.fitness,
                                            [&](std::size_t i) { return ev.returns[i]; });
    for (float n : ev.lengths) ev.agent_steps += static_cast<std::uint64_t>(n);
    return ev;
  }

 private:
  static constexpr bool has_max_steps = requires(const Env& e) {
    { e.max_steps() } -> std::convertible_to<std::size_t>;
  };
  template <class F>
  static constexpr bool has_drive = requires(const Env& e,
                                             const typename Env::template state_type<F>& s) {
    { e.drive(s) } -> std::convertible_to<F>;
  };
  template <class F>
  static constexpr bool has_reached = requires(const Env& env,
                                               typename Env::template state_type<F>& s,
                                               const F& a, const typename Env::keys_type& k,
                                               F* obs) { env.step(s, a, k, obs).reached; };

  [[nodiscard]] bool uses_drive() const {
    const auto& p = rule_.config();
    return p.enabled && !p.clamp_modulator && p.kind == plasticity::modulator::drive;
  }

  void check_against_env() const {
    // The configs' own rules first (episodes >= 1, ...): a config_error naming the field, instead
    // of, say, a negative episode count becoming a huge allocation.
    dphys::validate(cfg_);
    dphys::validate(rule_.config());
    if (cfg_.steps < 0 && !has_max_steps)
      throw std::invalid_argument(
          "rollout.steps: -1 asks for the environment's max_steps(), which this environment "
          "does not define; set steps >= 0");
    if (uses_drive() && !has_drive<float>)
      throw std::invalid_argument(
          "plasticity.kind: 'drive' needs the environment's drive(state), which this environment "
          "does not define; use 'spike' or 'event' (the step's reward)");
  }

  /// The thread's containers of one block's state (only their capacity carries over).
  template <simd::lane_type F>
  struct scratch {
    agents::lane_params params;
    agents::snn_state<F> net;
    typename Env::template state_type<F> env;
  };

  // One block of L lanes starting at lane `first`; lanes past `lanes` are padding (copies of the
  // last lane) whose results are dropped.
  template <simd::lane_type F>
  void run_block(std::size_t first, std::size_t lanes, const rollout_keys& keys,
                 const float* population, episodic_evaluation& out) const {
    constexpr std::size_t L = simd::lanes_v<F>;
    const std::size_t E = static_cast<std::size_t>(cfg_.episodes), d = genome_size();
    const detail::block_words<F> words(first, lanes, E, keys, cfg_.random_numbers);
    const typename Env::keys_type ek{keys.seed, keys.generation};

    thread_local scratch<F> s;
    s.params.assign(d, L, [&](std::size_t l) { return population + words.member_of[l] * d; });
    // At least 4 entries: agents::snn::act has a path for 4 channels, taken only when obs_dim is 4,
    // which the compiler cannot know (its bounds warning would be a false positive).
    std::array<F, std::max<std::size_t>(static_cast<std::size_t>(Env::obs_dim), 4)> obs{};
    env_.reset(s.env, ek, words.member_word, words.episode_word, obs.data());
    net_.reset(s.net, s.params);

    const F zero(0.0f);
    const bool plastic = rule_.enabled();
    auto drive = [&]() -> F {
      if constexpr (has_drive<F>) return uses_drive() ? F(env_.drive(s.env)) : zero;
      return zero;
    };
    F drive_prev = drive(), ret = zero, length = zero, success = zero;
    auto alive = zero == zero;
    const std::size_t H = horizon();
    for (std::size_t t = 0; t < H && simd::any(alive); ++t) {
      const F action = net_.act(s.net, s.params, obs.data());
      const auto tr = env_.step(s.env, action, ek, obs.data());
      const F reward = tr.reward;
      if (plastic) {
        const F drive_now = drive();
        const plasticity::modulator_signals<F> sig{drive_prev, drive_now, reward, zero};
        rule_.update(s.net, net_, s.params, sig);
        drive_prev = drive_now;
      }
      ret = ret + simd::keep(alive, reward);
      length = length + simd::to_unit<F>(alive);
      if constexpr (has_reached<F>)
        success = simd::max(success, simd::to_unit<F>(alive && tr.reached));
      alive = alive && !tr.done;
    }
    for (std::size_t l = 0; l < L && first + l < lanes; ++l) {
      out.returns[first + l] = simd::lane(ret, l);
      out.lengths[first + l] = simd::lane(length, l);
      out.success[first + l] = simd::lane(success, l);
    }
  }

  Env env_;
  agents::snn net_;
  plasticity::eligibility_trace rule_;
  rollout_config cfg_;
};

}  // namespace dphys::crucibles
