// dphys/envs/laws.hpp — the law checker for environments: runs a user environment (or a shipped
// one) on a lane type F and on float, lane by lane, with the same actions, and reports every place
// where the two laws of dphys::environment fail, bit for bit:
//   purity             — a second run from the same counter words gives the same observations,
//                        rewards and masks;
//   lane independence  — lane l of the F run equals the float run on lane l's words.
// A crucible's determinism across lane types, block sizes and thread counts rests on both, so check
// a new environment with it before evolving on it (docs/reference/episodic.md, the tutorial
// docs/tutorials/cart_pole.md). It does not check that the dynamics are right.
//
// The actions are drawn per (step, lane) from stream_id::baseline_action keyed by the lane's words,
// uniform over num_actions, so they do not depend on the state. Steps continue after a lane's
// `done` (as they do in a rollout block, where finished lanes are masked, not stopped).
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <dphys/core/concepts.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/simd.hpp>

namespace dphys::envs {

struct law_check_options {
  std::uint64_t seed = 1;
  std::uint32_t generation = 0;
  std::size_t steps = 64;            ///< steps per episode compared
  std::uint32_t member_offset = 0;   ///< lane l runs member word member_offset + l
  std::uint32_t episode_offset = 0;  ///< and episode word episode_offset + l % 3
  std::size_t max_messages = 8;      ///< violations described in `messages` (all are counted)
};

struct law_report {
  std::size_t lanes = 0, steps = 0;
  std::size_t comparisons = 0;  ///< values compared bit for bit
  std::size_t violations = 0;
  std::vector<std::string> messages;  ///< the first max_messages violations, in order found

  [[nodiscard]] bool ok() const { return violations == 0; }
  /// One line: "N violations in C comparisons (L lanes × S steps)", then the messages.
  [[nodiscard]] std::string summary() const {
    std::string s = fmt::format("{} violations in {} comparisons ({} lanes x {} steps)", violations,
                                comparisons, lanes, steps);
    for (const auto& m : messages) s += "\n  " + m;
    return s;
  }
};

namespace detail {

/// The values one step produces for one lane: the observation, then reward, done and reached
/// (as 1/0; reward and reached +0 when the environment has none).
template <class Env>
using step_values = std::array<float, static_cast<std::size_t>(Env::obs_dim) + 3>;

template <class Env, simd::lane_type F>
struct law_run {
  std::vector<std::array<step_values<Env>, simd::lanes_v<F>>> steps;  // [step][lane]
};

template <class Env, simd::lane_type F>
law_run<Env, F> run_for_laws(const Env& env, const law_check_options& opt,
                             const std::array<std::uint32_t, simd::lanes_v<F>>& member,
                             const std::array<std::uint32_t, simd::lanes_v<F>>& episode) {
  constexpr std::size_t L = simd::lanes_v<F>, D = static_cast<std::size_t>(Env::obs_dim);
  using uint = simd::uint_t<F>;
  auto words = [](const std::array<std::uint32_t, L>& w) { return simd::load_words<F>(w.data()); };
  const typename Env::keys_type keys{opt.seed, opt.generation};
  typename Env::template state_type<F> s{};
  std::array<F, D> obs{};
  env.reset(s, keys, words(member), words(episode), obs.data());
  law_run<Env, F> run;
  run.steps.resize(opt.steps + 1);
  auto record = [&](std::size_t t, const F& reward, const F& done, const F& reached) {
    for (std::size_t l = 0; l < L; ++l) {
      auto& v = run.steps[t][l];
      for (std::size_t j = 0; j < D; ++j) v[j] = simd::lane(obs[j], l);
      v[D] = simd::lane(reward, l);
      v[D + 1] = simd::lane(done, l);
      v[D + 2] = simd::lane(reached, l);
    }
  };
  const F zero(0.0f);
  record(0, zero, zero, zero);
  for (std::size_t t = 0; t < opt.steps; ++t) {
    const auto key = random_key::make(opt.seed, stream_id::baseline_action, opt.generation,
                                      static_cast<std::uint32_t>(t));
    const F action = randint<F>(key, words(member), words(episode), uint(0u),
                                static_cast<std::uint32_t>(Env::num_actions));
    const auto tr = env.step(s, action, keys, obs.data());
    F reward = zero, reached = zero;
    if constexpr (requires { F(tr.reward); }) reward = F(tr.reward);
    if constexpr (requires { tr.reached; }) reached = simd::to_unit<F>(tr.reached);
    record(t + 1, reward, simd::to_unit<F>(tr.done), reached);
  }
  return run;
}

inline std::string value_name(std::size_t j, std::size_t obs_dim) {
  if (j < obs_dim) return fmt::format("obs[{}]", j);
  return j == obs_dim ? "reward" : j == obs_dim + 1 ? "done" : "reached";
}

}  // namespace detail

/// Checks purity and lane independence of `env` on lane type F against float (see the file
/// comment). For F = float only purity is checked.
template <class Env, simd::lane_type F = simd::native>
  requires environment<Env, F> && environment<Env, float>
law_report check_laws(const Env& env, const law_check_options& opt = {}) {
  constexpr std::size_t L = simd::lanes_v<F>, D = static_cast<std::size_t>(Env::obs_dim);
  std::array<std::uint32_t, L> member{}, episode{};
  for (std::size_t l = 0; l < L; ++l) {
    member[l] = opt.member_offset + static_cast<std::uint32_t>(l);
    episode[l] = opt.episode_offset + static_cast<std::uint32_t>(l % 3);
  }
  law_report rep;
  rep.lanes = L;
  rep.steps = opt.steps;
  auto compare = [&](const char* law, std::size_t t, std::size_t l, std::size_t j, float expected,
                     float got, std::string_view expected_name, std::string_view got_name) {
    ++rep.comparisons;
    const auto a = std::bit_cast<std::uint32_t>(expected), b = std::bit_cast<std::uint32_t>(got);
    if (a == b) return;
    if (rep.violations++ < opt.max_messages)
      rep.messages.push_back(fmt::format(
          "{}: step {}, lane {} (member word {}, episode word {}): {} is {:#010x} ({}) for {} and "
          "{:#010x} ({}) for {}",
          law, t, l, member[l], episode[l], detail::value_name(j, D), a, expected, expected_name,
          b, got, got_name));
  };
  const auto first = detail::run_for_laws<Env, F>(env, opt, member, episode);
  const auto second = detail::run_for_laws<Env, F>(env, opt, member, episode);
  for (std::size_t t = 0; t <= opt.steps; ++t)
    for (std::size_t l = 0; l < L; ++l)
      for (std::size_t j = 0; j < D + 3; ++j)
        compare("purity", t, l, j, first.steps[t][l][j], second.steps[t][l][j], "the first run",
                "a second run");
  if constexpr (L > 1) {
    for (std::size_t l = 0; l < L; ++l) {
      const auto one = detail::run_for_laws<Env, float>(env, opt, {member[l]}, {episode[l]});
      for (std::size_t t = 0; t <= opt.steps; ++t)
        for (std::size_t j = 0; j < D + 3; ++j)
          compare("lane independence", t, l, j, one.steps[t][0][j], first.steps[t][l][j], "float",
                  simd::arch_name<F>());
    }
  }
  return rep;
}

}  // namespace dphys::envs
