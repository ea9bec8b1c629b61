// dphys/curiosity/selector.hpp — which experiment next (spec N3, N7): the curiosity selector
// (ε-greedy over u + β·H with u = 1 − |2p − 1|, least-visited then uniform tie-break, forced
// actions), Nerion's adaptive ε with all six parameters, and the episode record of Nerion's log.
//
// Config: epsilon_config, curiosity_selector_config.
// Determinism: select() is a pure function of (seed, step, predictions, visit counts); its coins
//   are draws on curiosity_stream keyed by (seed, draw_purpose::selector, step).
// Thread safety: const members may run concurrently; update() needs exclusive access.
// Example:
//   curiosity_selector sel(3, cfg);
//   auto s = sel.select(p_success);          // p_success[a]: predicted success of action a
//   ... run action s.action, observe y, compute surprise ...
//   sel.update(s, surprise);                 // visit count, ε adaptation, next step
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
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
#include <dphys/curiosity/sampling.hpp>

namespace dphys::curiosity {

/// Nerion's ε and its adaptation. After each outcome (when adaptive): surprise < target ⇒
/// ε ← max(ε_min, ε·decay); otherwise, if step > 0, ε ← min(ε_max, ε + step).
struct epsilon_config {
  double epsilon = 0.1;       ///< starting ε
  double epsilon_min = 0.0;
  double epsilon_max = -1.0;  ///< < 0: max(epsilon, epsilon_min) (Nerion: ε cannot grow past its start)
  double decay = 1.0;
  double step = 0.0;
  double target = 0.0;  ///< surprise level below which ε decays
  bool adaptive = false;

  [[nodiscard]] double resolved_max() const {
    return epsilon_max >= 0.0 ? epsilon_max : std::max(epsilon, epsilon_min);
  }
  void check(config_checker<epsilon_config>& c) const {
    c(&epsilon_config::epsilon).in_range(0.0, 1.0);
    c(&epsilon_config::epsilon_min).in_range(0.0, 1.0);
    if (epsilon_max >= 0.0)
      c(&epsilon_config::epsilon_max).at_most(1.0).at_least(&epsilon_config::epsilon_min);
    c(&epsilon_config::decay).greater_than(0.0).at_most(1.0);
    c(&epsilon_config::step).at_least(0.0);
  }
};

struct curiosity_selector_config {
  epsilon_config epsilon{};
  double entropy_bonus = 0.0;    ///< β of the score u + β·H
  double tie_tolerance = 1e-9;   ///< scores within this of the maximum tie
  std::uint64_t seed = 0;

  void check(config_checker<curiosity_selector_config>& c) const {
    c(&curiosity_selector_config::entropy_bonus).finite();
    c(&curiosity_selector_config::tie_tolerance).at_least(0.0);
  }
};

}  // namespace dphys::curiosity

DPHYS_ADAPT_STRUCT(dphys::curiosity::epsilon_config, epsilon, epsilon_min, epsilon_max, decay, step,
                   target, adaptive);
DPHYS_ADAPT_STRUCT(dphys::curiosity::curiosity_selector_config, epsilon, entropy_bonus,
                   tie_tolerance, seed);

namespace dphys::curiosity {

class adaptive_epsilon {
 public:
  explicit adaptive_epsilon(epsilon_config cfg = {}) : cfg_(cfg), eps_(cfg.epsilon) {
    validate(cfg_);
  }
  [[nodiscard]] double value() const { return eps_; }
  [[nodiscard]] const epsilon_config& config() const { return cfg_; }

  /// Adapts ε to one outcome's surprise; returns the new ε. A no-op unless cfg.adaptive.
  double update(double surprise) {
    if (!cfg_.adaptive) return eps_;
    if (surprise < cfg_.target)
      eps_ = std::max(cfg_.epsilon_min, eps_ * cfg_.decay);
    else if (cfg_.step > 0.0)
      eps_ = std::min(cfg_.resolved_max(), eps_ + cfg_.step);
    return eps_;
  }

  void save(state_writer& w) const { w.put("epsilon", eps_); }
  void load(state_reader& r) { r.get("epsilon", eps_); }

 private:
  epsilon_config cfg_;
  double eps_;
};

/// How an action was chosen (Nerion's `mode`).
enum class selection_mode { epsilon, curiosity, scheduled };
constexpr auto enum_names(selection_mode) {
  return std::array{std::pair{selection_mode::epsilon, std::string_view{"epsilon"}},
                    std::pair{selection_mode::curiosity, std::string_view{"curiosity"}},
                    std::pair{selection_mode::scheduled, std::string_view{"scheduled"}}};
}

/// u = 1 − |p_pass − p_fail| = 1 − |2p − 1|.
inline double uncertainty(double p) { return 1.0 - std::abs(2.0 * p - 1.0); }
/// H = −Σ q ln q over q ∈ {p, 1 − p}, each q clamped at 1e−12 inside the log.
inline double binary_entropy(double p) {
  double h = 0.0;
  for (double q : {p, 1.0 - p}) h -= q * std::log(std::max(q, 1e-12));
  return h;
}

struct selection {
  std::size_t action = 0;
  selection_mode mode = selection_mode::curiosity;
  double epsilon_used = 0, p_success = 0, uncertainty = 0, entropy = 0, score = 0;
  std::uint64_t visit_count = 0;  ///< visits of `action` before this one
  std::uint64_t step = 0;
};

class curiosity_selector {
 public:
  curiosity_selector(std::size_t actions, curiosity_selector_config cfg = {})
      : cfg_(cfg), eps_(cfg.epsilon), visits_(actions, 0) {
    validate(cfg_);
    if (actions == 0)
      throw std::invalid_argument("curiosity_selector: actions = 0: need at least one action");
  }

  [[nodiscard]] std::size_t actions() const { return visits_.size(); }
  [[nodiscard]] double epsilon() const { return eps_.value(); }
  [[nodiscard]] std::uint64_t step() const { return step_; }
  [[nodiscard]] std::span<const std::uint64_t> visits() const { return visits_; }
  [[nodiscard]] const curiosity_selector_config& config() const { return cfg_; }

  /// Chooses an action given p_success[a] for every action. `forced` (mode "scheduled") overrides
  /// the choice; otherwise with probability ε a uniform action (mode "epsilon"), else the maximum
  /// of u + β·H, ties (within tie_tolerance) to the least visited, then uniformly ("curiosity").
  [[nodiscard]] selection select(std::span<const double> p_success,
                                 std::optional<std::size_t> forced = std::nullopt) const {
    const std::size_t n = actions();
    if (p_success.size() != n)
      throw std::invalid_argument("curiosity_selector::select: " +
                                  std::to_string(p_success.size()) +
                                  " predictions for " + std::to_string(n) + " actions");
    for (std::size_t a = 0; a < n; ++a)
      if (!(p_success[a] >= 0.0 && p_success[a] <= 1.0))
        throw std::invalid_argument("curiosity_selector::select: p_success[" + std::to_string(a) +
                                    "] = " + std::to_string(p_success[a]) + ": must be in [0, 1]");
    const auto key = make_key(cfg_.seed, draw_purpose::selector, static_cast<std::uint32_t>(step_));
    const auto hi = static_cast<std::uint32_t>(step_ >> 32);
    auto score = [&](std::size_t a) {
      return uncertainty(p_success[a]) + cfg_.entropy_bonus * binary_entropy(p_success[a]);
    };
    selection s;
    s.epsilon_used = eps_.value();
    s.step = step_;
    if (forced) {
      if (*forced >= n)
        throw std::out_of_range("curiosity_selector::select: forced action " +
                                std::to_string(*forced) + " is not in [0, " + std::to_string(n) +
                                ")");
      s.action = *forced;
      s.mode = selection_mode::scheduled;
    } else if (uniform01(key, hi, 0, 0) < eps_.value()) {
      s.action = uniform_index(key, hi, 0, 1, n);
      s.mode = selection_mode::epsilon;
    } else {
      double best = -std::numeric_limits<double>::infinity();
      for (std::size_t a = 0; a < n; ++a) best = std::max(best, score(a));
      std::vector<std::size_t> ties;
      std::uint64_t fewest = std::numeric_limits<std::uint64_t>::max();
      for (std::size_t a = 0; a < n; ++a)
        if (score(a) >= best - cfg_.tie_tolerance) fewest = std::min(fewest, visits_[a]);
      for (std::size_t a = 0; a < n; ++a)
        if (score(a) >= best - cfg_.tie_tolerance && visits_[a] == fewest) ties.push_back(a);
      s.action = ties.size() == 1 ? ties[0] : ties[uniform_index(key, hi, 0, 2, ties.size())];
      s.mode = selection_mode::curiosity;
    }
    s.p_success = p_success[s.action];
    s.uncertainty = uncertainty(s.p_success);
    s.entropy = binary_entropy(s.p_success);
    s.score = score(s.action);
    s.visit_count = visits_[s.action];
    return s;
  }

  /// After acting: counts the visit, adapts ε to the surprise, advances the step. Returns ε after.
  /// Equal to visit(s.action) followed by adapt(surprise).
  double update(const selection& s, double surprise) {
    visit(s.action);
    return adapt(surprise);
  }
  /// The first half of update(): counts a visit and advances the step (so the next select() draws
  /// new coins). For batches: select/visit several actions, run them, then adapt() in order.
  void visit(std::size_t action) {
    if (action >= actions())
      throw std::out_of_range("curiosity_selector::visit: action " + std::to_string(action) +
                              " is not in [0, " + std::to_string(actions()) + ")");
    ++visits_[action];
    ++step_;
  }
  /// The second half of update(): adapts ε to one outcome's surprise. Returns ε after.
  double adapt(double surprise) { return eps_.update(surprise); }

  void save(state_writer& w) const {
    eps_.save(w);
    w.put("visits", visits_);
    w.put("step", step_);
  }
  void load(state_reader& r) {
    eps_.load(r);
    r.get("visits", visits_, visits_.size());
    r.get("step", step_);
  }

 private:
  curiosity_selector_config cfg_;
  adaptive_epsilon eps_;
  std::vector<std::uint64_t> visits_;
  std::uint64_t step_ = 0;
};

/// One step of a curiosity loop, with the fields of Nerion's episode log (spec §4.1, N7).
struct episode_record {
  std::string action;
  double predicted_pass = 0, predicted_fail = 0;
  bool success = false;
  double surprise = 0;
  std::size_t memory_size = 0;
  selection_mode mode = selection_mode::curiosity;
  double epsilon_used = 0, uncertainty = 0, entropy = 0, entropy_bonus = 0;
  std::uint64_t visit_count = 0;
  double epsilon_after = 0;
  std::vector<std::string> action_tags;
  dphys::json metadata = dphys::json::object();

  /// Fills the selector's fields from a selection.
  static episode_record from(const selection& s, std::string action_name, double entropy_bonus) {
    episode_record r;
    r.action = std::move(action_name);
    r.predicted_pass = s.p_success;
    r.predicted_fail = 1.0 - s.p_success;
    r.mode = s.mode;
    r.epsilon_used = s.epsilon_used;
    r.uncertainty = s.uncertainty;
    r.entropy = s.entropy;
    r.entropy_bonus = entropy_bonus;
    r.visit_count = s.visit_count;
    return r;
  }

  [[nodiscard]] dphys::json to_json() const {
    return {{"action", action},
            {"predicted_pass", predicted_pass},
            {"predicted_fail", predicted_fail},
            {"success", success},
            {"surprise", surprise},
            {"memory_size", memory_size},
            {"mode", std::string(enum_name(mode))},
            {"epsilon_used", epsilon_used},
            {"uncertainty", uncertainty},
            {"entropy", entropy},
            {"entropy_bonus", entropy_bonus},
            {"visit_count", visit_count},
            {"epsilon_after", epsilon_after},
            {"action_tags", action_tags},
            {"metadata", metadata}};
  }
};

}  // namespace dphys::curiosity
