// dphys/population/selection.hpp — the exact selection formulas of Genesis (power-law ranks,
// median/MAD sigmoid weights with a children factor) as pure functions returning probability
// vectors, and the counter-based draws every dphys::population component uses.
// Extension point: none. Thread safety: every function is pure.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

#include <dphys/core/random.hpp>
#include <dphys/population/config.hpp>

namespace dphys::population {

/// P(rank i) = (i+1)^(−α) / Σ_j (j+1)^(−α), i = 0 (best) … n−1. n = 3, α = 1 gives
/// (6/11, 3/11, 2/11); α = 0 is uniform.
inline std::vector<double> power_law_probabilities(std::size_t n, double alpha) {
  std::vector<double> p(n);
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += p[i] = std::pow(static_cast<double>(i + 1), -alpha);
  for (double& x : p) x /= sum;
  return p;
}

/// Median of a copy of `v` (mean of the two middle values for even sizes); 0 for an empty span.
inline double median(std::span<const double> v) {
  if (v.empty()) return 0.0;
  std::vector<double> s(v.begin(), v.end());
  std::sort(s.begin(), s.end());
  const std::size_t m = s.size() / 2;
  return s.size() % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

/// Genesis weighted selection: α₀ = median(score), scale = max(MAD, 1e−6) with MAD = median
/// |score − α₀|, s_i = sigmoid(λ(score_i − α₀)/scale), h_i = 1/(1 + children_i), P ∝ s_i·h_i;
/// uniform when every s_i·h_i is 0.
inline std::vector<double> weighted_probabilities(std::span<const double> scores,
                                                  std::span<const std::uint64_t> children,
                                                  double lambda) {
  if (scores.size() != children.size())
    throw std::invalid_argument("weighted_probabilities: scores and children differ in size");
  const std::size_t n = scores.size();
  std::vector<double> p(n);
  if (n == 0) return p;
  const double a0 = median(scores);
  std::vector<double> dev(n);
  for (std::size_t i = 0; i < n; ++i) dev[i] = std::abs(scores[i] - a0);
  const double scale = std::max(median(dev), 1e-6);
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double s = 1.0 / (1.0 + std::exp(-lambda * (scores[i] - a0) / scale));
    const double h = 1.0 / (1.0 + static_cast<double>(children[i]));
    sum += p[i] = s * h;
  }
  if (!(sum > 0.0) || !std::isfinite(sum)) {
    std::fill(p.begin(), p.end(), 1.0 / static_cast<double>(n));
    return p;
  }
  for (double& x : p) x /= sum;
  return p;
}

namespace detail {

/// What a draw is for: the `step` of its random_key. Values are part of the reproducibility
/// contract.
enum class purpose : std::uint32_t {
  island_assignment = 1,
  island_choice,
  parent_pool,
  parent,
  inspirations,
  migration_pick,
  migration_destination,
  patch,
  bandit,
  user_operator
};

/// A uniform double in [0, 1) with 53 random bits, a pure function of (seed, birth, purpose,
/// attempt, index). Births are taken modulo 2^32.
inline double unit_double(std::uint64_t seed, std::uint64_t birth, purpose p,
                          std::uint32_t attempt, std::uint32_t index) {
  const auto key = random_key::make(seed, population_stream, static_cast<std::uint32_t>(birth),
                                    static_cast<std::uint32_t>(p));
  const std::uint64_t hi = random_bits<float>(key, attempt, 0u, 2u * index) >> 5;
  const std::uint64_t lo = random_bits<float>(key, attempt, 0u, 2u * index + 1u) >> 6;
  return static_cast<double>((hi << 26) | lo) * 0x1p-53;
}

/// Index drawn from unnormalised non-negative weights by inverse CDF on u in [0, 1).
inline std::size_t pick(std::span<const double> weights, double u) {
  double total = 0.0;
  for (double w : weights) total += w;
  const double target = u * total;
  double cum = 0.0;
  std::size_t last_positive = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] > 0.0) last_positive = i;
    cum += weights[i];
    if (target < cum) return i;
  }
  return last_positive;  // rounding: u·total == total
}

/// floor(u·n) clamped to n − 1.
inline std::size_t below(std::size_t n, double u) {
  return std::min(n - 1, static_cast<std::size_t>(u * static_cast<double>(n)));
}

}  // namespace detail

}  // namespace dphys::population
