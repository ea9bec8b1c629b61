// dphys/crucibles/rollout.hpp — the episodic rollout crucible of koki2 (spec K6): every (member,
// episode) pair is one lane; lanes run the step order agent → env → drive/event signals →
// plasticity → statistics in lock-step, dead lanes are masked, and each lane ends with koki2's
// lifetime summary.
//
// Config: rollout_config, fitness_config. Controllers: the SNN (+ eligibility trace) or a baseline.
// Determinism: a lane's result is a pure function of (seed, generation, member word, episode word,
// genome),
//   independent of lane type F, block size and thread count (tests check all three).
// Failure modes: non-finite fitness is counted in evaluation::non_finite, never thrown.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <dphys/agents/baselines.hpp>
#include <dphys/agents/snn.hpp>
#include <dphys/core/config.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/simd.hpp>
#include <dphys/crucibles/lane_blocks.hpp>
#include <dphys/envs/chemotaxis.hpp>
#include <dphys/plasticity/eligibility_trace.hpp>

namespace dphys::crucibles {

/// koki2's fitness and drive constants (sim_cfg).
struct fitness_config {
  float alpha = 1.0f;
  float beta = 10.0f;
  float success_bonus = 50.0f;
  float setpoint_energy = 1.0f;
  float setpoint_integrity = 1.0f;
  float drive_w_energy = 1.0f;
  float drive_w_integrity = 1.0f;

  void check(config_checker<fitness_config>& c) const {
    c(&fitness_config::alpha).finite();
    c(&fitness_config::beta).finite();
    c(&fitness_config::success_bonus).finite();
    c(&fitness_config::setpoint_energy).finite();
    c(&fitness_config::setpoint_integrity).finite();
    c(&fitness_config::drive_w_energy).finite();
    c(&fitness_config::drive_w_integrity).finite();
  }
};

/// koki2's lifetime summary of one episode.
struct lifetime_summary {
  float fitness = 0, t_alive = 0, energy_gained_total = 0, bad_arrivals_total = 0,
        integrity_lost_total = 0, integrity_min = 1, success = 0, action_entropy = 0,
        action_mode_frac = 0, mean_abs_dw_mean = 0, mean_abs_modulator_mean = 0,
        mean_abs_dw_on_event = 0, event_step_frac = 0;
};

/// Result of evaluating a population: fitness per member (episode mean) and every episode's summary
/// (member-major: episode e of member m at m * episodes + e).
struct evaluation {
  std::vector<float> fitness;
  std::vector<lifetime_summary> episodes;
  std::size_t episodes_per_member = 0;
  std::size_t non_finite = 0;     ///< members whose fitness is NaN or infinite
  std::uint64_t agent_steps = 0;  ///< alive agent-steps executed
};

namespace detail {

template <simd::lane_type F>
struct lane_accumulators {
  F t_alive = F(0.0f), energy = F(0.0f), bad = F(0.0f), lost = F(0.0f), imin = F(1.0f),
    success = F(0.0f);
  std::array<F, 5> counts{F(0.0f), F(0.0f), F(0.0f), F(0.0f), F(0.0f)};
  F dw = F(0.0f), mod = F(0.0f), dw_event = F(0.0f), events = F(0.0f);
};

/// The containers of one block's state, kept per thread between blocks (run_block never nests on
/// a thread; every field is set again by assign/reset, so only the capacity carries over).
template <simd::lane_type F>
struct block_scratch {
  agents::lane_params params;
  agents::snn_state<F> net;
  envs::chemotaxis_state<F> env;
};

template <simd::lane_type F>
block_scratch<F>& thread_block_scratch() {
  thread_local block_scratch<F> scratch;
  return scratch;
}

inline lifetime_summary finish(const fitness_config& fc, float t_alive, float energy, float bad,
                               float lost, float imin, float success,
                               const std::array<float, 5>& counts, float dw, float mod,
                               float dw_event, float events) {
  lifetime_summary s;
  s.t_alive = t_alive;
  s.energy_gained_total = energy;
  s.bad_arrivals_total = bad;
  s.integrity_lost_total = lost;
  s.integrity_min = imin;
  s.success = success;
  float entropy = 0.0f, mode = 0.0f;
  for (float c : counts) {
    const float p = t_alive > 0.0f ? c / t_alive : 0.0f;
    entropy -= p * std::log(p + 1e-8f);
    mode = std::max(mode, p);
  }
  s.action_entropy = entropy;
  s.action_mode_frac = mode;
  s.mean_abs_dw_mean = t_alive > 0.0f ? dw / t_alive : 0.0f;
  s.mean_abs_modulator_mean = t_alive > 0.0f ? mod / t_alive : 0.0f;
  s.mean_abs_dw_on_event = events > 0.0f ? dw_event / events : 0.0f;
  s.event_step_frac = t_alive > 0.0f ? events / t_alive : 0.0f;
  s.fitness = fc.alpha * t_alive + fc.beta * energy + fc.success_bonus * success;
  return s;
}

}  // namespace detail

template <class Controller, simd::lane_type F>
struct controller_state_of {
  using type = typename Controller::template state<F>;
};

/// The SNN controller: network + plasticity rule, parameters from lane-interleaved genomes.
struct snn_controller {
  const agents::snn* net;
  const plasticity::eligibility_trace* rule;
};

class chemotaxis_rollout {
 public:
  chemotaxis_rollout(envs::chemotaxis_config env, agents::snn net,
                     plasticity::eligibility_trace_config plast, fitness_config fit,
                     rollout_config cfg)
      : env_(env), net_(std::move(net)), rule_(plast), fit_(fit), cfg_(cfg) {
    // The network reads the environment's observation and chooses among its actions.
    const auto& l = net_.layout();
    if (l.obs_dim != envs::chemotaxis::obs_dim || l.num_actions != envs::chemotaxis::num_actions)
      throw std::invalid_argument(
          "chemotaxis_rollout: the network has obs_dim " + std::to_string(l.obs_dim) +
          " and num_actions " + std::to_string(l.num_actions) + "; the chemotaxis environment needs " +
          std::to_string(envs::chemotaxis::obs_dim) + " and " +
          std::to_string(envs::chemotaxis::num_actions));
  }

  [[nodiscard]] const envs::chemotaxis& env() const { return env_; }
  [[nodiscard]] const agents::snn& network() const { return net_; }
  [[nodiscard]] const plasticity::eligibility_trace& rule() const { return rule_; }
  [[nodiscard]] const fitness_config& fitness() const { return fit_; }
  [[nodiscard]] const rollout_config& config() const { return cfg_; }
  [[nodiscard]] std::size_t genome_size() const { return net_.layout().size(); }
  [[nodiscard]] std::size_t horizon() const {
    return static_cast<std::size_t>(cfg_.steps >= 0 ? cfg_.steps : env_.config().max_steps);
  }
  /// A copy with other rollout settings (episodes, horizon, threads...), same env, network and
  /// rule.
  [[nodiscard]] chemotaxis_rollout with(rollout_config cfg) const {
    auto r = *this;
    r.cfg_ = cfg;
    return r;
  }
  [[nodiscard]] chemotaxis_rollout with(plasticity::eligibility_trace_config plast) const {
    auto r = *this;
    r.rule_ = plasticity::eligibility_trace(plast);
    return r;
  }

  /// Evaluates `members` genomes stored row-major in `population` (members × genome_size()).
  template <simd::lane_type F = simd::native>
  evaluation evaluate(std::span<const float> population, const rollout_keys& keys) const {
    const std::size_t d = genome_size();
    const std::size_t members =
        detail::members_in(population.size(), d, "chemotaxis_rollout::evaluate");
    return run<F>(
        members, keys, [&](std::size_t m) { return population.data() + m * d; },
        snn_controller{&net_, &rule_});
  }

  /// Runs a baseline policy for `members` × episodes lanes (members = independent repetitions).
  template <simd::lane_type F = simd::native>
  evaluation evaluate_baseline(agents::baseline kind, std::size_t members,
                               const rollout_keys& keys) const {
    auto none = [](std::size_t) -> const float* { return nullptr; };
    switch (kind) {
      case agents::baseline::greedy:
        return run<F>(members, keys, none, agents::greedy{});
      case agents::baseline::random:
        return run<F>(members, keys, none, agents::random_walk{});
      case agents::baseline::stay:
        break;
    }
    return run<F>(members, keys, none, agents::stay{});
  }

 private:
  template <simd::lane_type F, class RowOf, class Controller>
  evaluation run(std::size_t members, const rollout_keys& keys, RowOf row_of,
                 const Controller& ctl) const {
    constexpr std::size_t L = simd::lanes_v<F>;
    const std::size_t E = static_cast<std::size_t>(cfg_.episodes);
    const std::size_t lanes = members * E;
    const std::size_t blocks = (lanes + L - 1) / L;

    evaluation ev;
    ev.episodes.resize(lanes);
    ev.episodes_per_member = E;
    std::vector<std::uint64_t> steps_per_block(blocks, 0);
    detail::deal_blocks(blocks, L, cfg_, [&](std::size_t b) {
      steps_per_block[b] = run_block<F>(b * L, lanes, keys, row_of, ctl, ev.episodes);
    });

    ev.non_finite = detail::mean_per_member(members, E, ev.fitness,
                                            [&](std::size_t i) { return ev.episodes[i].fitness; });
    for (auto s : steps_per_block) ev.agent_steps += s;
    return ev;
  }

  // One block of L lanes starting at lane `first`; lanes past `lanes` are padding (copies of the
  // last lane) whose results are dropped. Returns the alive agent-steps of the real lanes.
  template <simd::lane_type F, class RowOf, class Controller>
  std::uint64_t run_block(std::size_t first, std::size_t lanes, const rollout_keys& keys,
                          RowOf& row_of, const Controller& ctl,
                          std::vector<lifetime_summary>& out) const {
    using uint = simd::uint_t<F>;
    constexpr std::size_t L = simd::lanes_v<F>;
    const std::size_t E = static_cast<std::size_t>(cfg_.episodes);
    const detail::block_words<F> words(first, lanes, E, keys, cfg_.random_numbers);
    const uint& member_word = words.member_word;
    const uint& episode_word = words.episode_word;
    const envs::episode_keys ek{keys.seed, keys.generation};

    constexpr bool is_snn = std::is_same_v<Controller, snn_controller>;
    // Block setup: lane words, interleaved parameters, initial states (in the thread's reused
    // containers: no allocation per block).
    auto& scratch = detail::thread_block_scratch<F>();
    agents::lane_params& params = scratch.params;
    agents::snn_state<F>& net_state = scratch.net;
    if constexpr (is_snn) {
      params.assign(genome_size(), L, [&](std::size_t l) { return row_of(words.member_of[l]); });
    }

    envs::chemotaxis_state<F>& es = scratch.env;
    std::array<F, 4> obs;
    env_.reset(es, ek, member_word, episode_word, obs.data());
    if constexpr (is_snn) ctl.net->reset(net_state, params);
    struct no_state {};
    using controller_state = typename std::conditional_t<is_snn, std::type_identity<no_state>,
                                                         controller_state_of<Controller, F>>::type;
    controller_state cs{};
    if constexpr (!is_snn) ctl.reset(cs);

    const F zero(0.0f);
    detail::lane_accumulators<F> acc;
    auto alive = zero == zero;
    // The drive (homeostatic error) feeds only the plasticity modulator.
    bool plastic = false;
    if constexpr (is_snn) plastic = ctl.rule->enabled();
    F drive_prev = plastic ? drive(es) : zero;
    const std::size_t H = horizon();
    // The episode loop: agent, environment, plasticity, statistics.
    for (std::size_t t = 0; t < H && simd::any(alive); ++t) {
      F action;
      if constexpr (is_snn) {
        action = ctl.net->act(net_state, params, obs.data());
      } else {
        const agents::act_context<F> ac{keys.seed, keys.generation, static_cast<std::uint32_t>(t),
                                        member_word, episode_word};
        action = ctl.act(cs, obs.data(), ac);
      }
      const auto tr = env_.step(es, action, ek, obs.data());
      const F drive_now = plastic ? drive(es) : zero;
      plasticity::plasticity_step<F> ps;
      if constexpr (is_snn) {
        if (plastic) {
          const plasticity::modulator_signals<F> sig{drive_prev, drive_now, tr.energy_gained,
                                                     tr.integrity_lost};
          ps = ctl.rule->update(net_state, *ctl.net, params, sig);
        }
      }
      drive_prev = drive_now;

      // Lifetime statistics of the lanes alive at this step.
      acc.t_alive = acc.t_alive + simd::to_unit<F>(alive);
      acc.energy = acc.energy + simd::keep(alive, tr.energy_gained);
      acc.bad = acc.bad + simd::keep(alive, tr.bad_arrivals);
      acc.lost = acc.lost + simd::keep(alive, tr.integrity_lost);
      acc.imin = simd::select(alive, simd::min(acc.imin, es.integrity), acc.imin);
      acc.success = simd::max(acc.success, simd::to_unit<F>(alive && tr.reached));
      for (std::size_t a = 0; a < 5; ++a)
        acc.counts[a] =
            acc.counts[a] + simd::to_unit<F>(alive && (action == F(static_cast<float>(a))));
      acc.dw = acc.dw + simd::keep(alive, ps.mean_abs_dw);
      acc.mod = acc.mod + simd::keep(alive, ps.abs_modulator);
      const auto event = alive && ((tr.energy_gained > zero) || (tr.integrity_lost > zero));
      acc.dw_event = acc.dw_event + simd::keep(event, ps.mean_abs_dw);
      acc.events = acc.events + simd::to_unit<F>(event);
      alive = alive && !tr.done;
    }

    std::uint64_t steps = 0;
    for (std::size_t l = 0; l < L && first + l < lanes; ++l) {
      auto g = [l](const F& v) { return simd::lane(v, l); };
      const std::array<float, 5> counts{g(acc.counts[0]), g(acc.counts[1]), g(acc.counts[2]),
                                        g(acc.counts[3]), g(acc.counts[4])};
      out[first + l] = detail::finish(fit_, g(acc.t_alive), g(acc.energy), g(acc.bad), g(acc.lost),
                                      g(acc.imin), g(acc.success), counts, g(acc.dw), g(acc.mod),
                                      g(acc.dw_event), g(acc.events));
      steps += static_cast<std::uint64_t>(g(acc.t_alive));
    }
    return steps;
  }

  template <simd::lane_type F>
  F drive(const envs::chemotaxis_state<F>& s) const {
    return envs::chemotaxis_drive{fit_.setpoint_energy, fit_.setpoint_integrity, fit_.drive_w_energy,
                                  fit_.drive_w_integrity}(s);
  }

  envs::chemotaxis env_;
  agents::snn net_;
  plasticity::eligibility_trace rule_;
  fitness_config fit_;
  rollout_config cfg_;
};

}  // namespace dphys::crucibles

DPHYS_ADAPT_STRUCT(dphys::crucibles::fitness_config, alpha, beta, success_bonus,
                   setpoint_energy, setpoint_integrity, drive_w_energy, drive_w_integrity);
