// dphys/population/bandit.hpp — operator bandits (Genesis S7): Genesis's asymmetric UCB with
// ε-exploration and forgetting, and plain UCB1. Both expose their exact arm probabilities and are
// checkpointable. Extension point: none (the arms are the caller's operators or providers).
//
// Determinism: choose() draws from probabilities() with the population stream's counter
// (seed, birth, purpose bandit); state changes only in update(). Thread safety: none.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <dphys/core/json.hpp>

#include <dphys/core/config_check.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/population/config.hpp>
#include <dphys/population/selection.hpp>

namespace dphys::population {

/// Genesis's reward: child − max(parent, baseline), clipped at 0; an incorrect (or non-finite)
/// child earns 0.
inline double bandit_reward(double child_score, bool child_correct, double parent_score,
                            double baseline) {
  if (!child_correct || !std::isfinite(child_score)) return 0.0;
  const double ref = std::max(std::isfinite(parent_score) ? parent_score : -INFINITY, baseline);
  return std::max(0.0, child_score - ref);
}

/// The operator bandit. kind asymmetric_ucb (Genesis):
///   z = e^r − 1 for reward r >= 0, accumulated per arm in log space: L_a = log Σ w·z;
///   n_a = discounted count; after every update every n_a and Σ w·z is multiplied by `discount`;
///   normalised mean m_a = (Σ w·z / n_a) / z_max with z_max the largest z ever observed (m_a = 0
///   while z_max = 0); score_a = m_a + c·sqrt(2 ln T / n_a), T = max(1, Σ n_a);
///   arms never updated are chosen first (uniformly among them); otherwise the arms with the top
///   score share 1 − ε and the others share ε (all arms share 1 if all are top).
/// kind ucb1: rewards r as given, no discount; mean_a = Σr/n_a, score = mean_a + c·sqrt(2 ln T /
///   n_a) with T = total pulls; untried arms first; the top-score arms share probability 1.
/// kind none: uniform over the arms.
class operator_bandit {
 public:
  explicit operator_bandit(bandit_config config = {}) : cfg_(config) {
    validate(cfg_);
    count_.assign(cfg_.num_arms, 0.0);
    log_sum_.assign(cfg_.num_arms, -std::numeric_limits<double>::infinity());
    sum_.assign(cfg_.num_arms, 0.0);
    pulls_.assign(cfg_.num_arms, 0);
  }

  [[nodiscard]] const bandit_config& config() const noexcept { return cfg_; }
  [[nodiscard]] std::size_t num_arms() const noexcept { return cfg_.num_arms; }

  /// Records reward r (>= 0 for asymmetric_ucb; negative rewards are clipped to 0 there) for arm.
  void update(std::size_t arm, double reward) {
    if (arm >= cfg_.num_arms)
      throw std::out_of_range("operator_bandit::update: arm " + std::to_string(arm) +
                              " >= num_arms = " + std::to_string(cfg_.num_arms));
    if (!std::isfinite(reward)) reward = 0.0;
    ++pulls_[arm];
    if (cfg_.kind == bandit_kind::asymmetric_ucb) {
      const double r = std::max(0.0, reward);
      const double log_z = std::log(std::expm1(r));  // −inf for r = 0
      log_sum_[arm] = log_add_(log_sum_[arm], log_z);
      count_[arm] += 1.0;
      log_z_max_ = std::max(log_z_max_, log_z);
      const double log_d = std::log(cfg_.discount);
      for (std::size_t a = 0; a < cfg_.num_arms; ++a) {
        count_[a] *= cfg_.discount;
        log_sum_[a] += log_d;
      }
    } else {
      count_[arm] += 1.0;
      sum_[arm] += reward;
    }
  }

  /// The score of every arm (+inf for untried arms); asymmetric_ucb and ucb1 only.
  [[nodiscard]] std::vector<double> scores() const {
    std::vector<double> s(cfg_.num_arms, 0.0);
    double total = 0.0;
    for (double n : count_) total += n;
    const double log_t = std::log(std::max(1.0, total));
    for (std::size_t a = 0; a < cfg_.num_arms; ++a) {
      if (pulls_[a] == 0) {
        s[a] = std::numeric_limits<double>::infinity();
        continue;
      }
      double mean;
      if (cfg_.kind == bandit_kind::asymmetric_ucb)
        mean = std::isinf(log_z_max_) ? 0.0 : std::exp(log_sum_[a] - std::log(count_[a]) - log_z_max_);
      else
        mean = sum_[a] / count_[a];
      s[a] = mean + cfg_.exploration * std::sqrt(2.0 * log_t / count_[a]);
    }
    return s;
  }

  /// The probability of choosing each arm next (sums to 1).
  [[nodiscard]] std::vector<double> probabilities() const {
    const std::size_t K = cfg_.num_arms;
    std::vector<double> p(K, 0.0);
    if (cfg_.kind == bandit_kind::none) {
      std::fill(p.begin(), p.end(), 1.0 / static_cast<double>(K));
      return p;
    }
    std::size_t untried = 0;
    for (auto n : pulls_) untried += n == 0;
    if (untried > 0) {
      for (std::size_t a = 0; a < K; ++a)
        if (pulls_[a] == 0) p[a] = 1.0 / static_cast<double>(untried);
      return p;
    }
    const auto s = scores();
    const double top = *std::max_element(s.begin(), s.end());
    std::size_t n_top = 0;
    for (double x : s) n_top += x == top;
    const double eps = cfg_.kind == bandit_kind::asymmetric_ucb && n_top < K ? cfg_.epsilon : 0.0;
    for (std::size_t a = 0; a < K; ++a)
      p[a] = s[a] == top ? (1.0 - eps) / static_cast<double>(n_top)
                         : eps / static_cast<double>(K - n_top);
    return p;
  }

  /// An arm drawn from probabilities() with the counter (seed, birth, purpose bandit).
  [[nodiscard]] std::size_t choose(std::uint64_t seed, std::uint64_t birth,
                                   std::uint32_t attempt = 0) const {
    const auto p = probabilities();
    return detail::pick(p, detail::unit_double(seed, birth, detail::purpose::bandit, attempt, 0));
  }

  /// The posterior as logged per generation: probabilities, discounted counts, normalised means
  /// (asymmetric UCB) or means (UCB1), raw pulls.
  [[nodiscard]] dphys::json posterior() const {
    dphys::json j;
    j["kind"] = std::string(enum_name(cfg_.kind));
    j["probabilities"] = probabilities();
    j["counts"] = count_;
    j["pulls"] = pulls_;
    std::vector<double> means(cfg_.num_arms, 0.0);
    for (std::size_t a = 0; a < cfg_.num_arms; ++a) {
      if (count_[a] <= 0.0) continue;
      if (cfg_.kind == bandit_kind::asymmetric_ucb)
        means[a] = std::isinf(log_z_max_) ? 0.0 : std::exp(log_sum_[a] - std::log(count_[a]) - log_z_max_);
      else
        means[a] = sum_[a] / count_[a];
    }
    j["means"] = means;
    return j;
  }

  void save(state_writer& w) const {
    auto s = w.scope("operator_bandit");
    w.put("num_arms", cfg_.num_arms);
    w.put("count", count_);
    w.put("log_sum", log_sum_);
    w.put("sum", sum_);
    w.put("pulls", pulls_);
    w.put("log_z_max", log_z_max_);
  }
  void load(state_reader& r) {
    auto s = r.scope("operator_bandit");
    const auto k = r.get<std::uint32_t>("num_arms");
    if (k != cfg_.num_arms)
      throw state_error(r.source() + ": operator_bandit/num_arms = " + std::to_string(k) +
                        " differs from the config's " + std::to_string(cfg_.num_arms));
    r.get("count", count_, k);
    r.get("log_sum", log_sum_, k);
    r.get("sum", sum_, k);
    r.get("pulls", pulls_, k);
    r.get("log_z_max", log_z_max_);
  }

  friend bool operator==(const operator_bandit& a, const operator_bandit& b) {
    return a.count_ == b.count_ && a.log_sum_ == b.log_sum_ && a.sum_ == b.sum_ &&
           a.pulls_ == b.pulls_ && a.log_z_max_ == b.log_z_max_;
  }

 private:
  static double log_add_(double a, double b) {
    if (std::isinf(a) && a < 0) return b;
    if (std::isinf(b) && b < 0) return a;
    const double m = std::max(a, b);
    return m + std::log1p(std::exp(-std::abs(a - b)));
  }

  bandit_config cfg_;
  std::vector<double> count_;    // discounted counts (asymmetric) / pulls as double (ucb1)
  std::vector<double> log_sum_;  // asymmetric: log Σ w·(e^r − 1)
  std::vector<double> sum_;      // ucb1: Σ r
  std::vector<std::uint64_t> pulls_;
  double log_z_max_ = -std::numeric_limits<double>::infinity();
};

}  // namespace dphys::population
