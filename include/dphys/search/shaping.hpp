// dphys/search/shaping.hpp — fitness-shaping policies: how a strategy turns one generation's fitness
// values into the utilities its update weights members by. Extension point: the concept
// `fitness_shaping<P, T>`; shipped models `centered_ranks`, `nes_utilities`, `z_score`,
// `raw_fitness`.
//
// Contract (every model): `p(fitness, utilities)` writes one utility per member; higher fitness ⇒
// utility at least as high (monotone); equal fitness values at different indices are ordered by
// index where a model uses ranks (lower index ranks lower), so the result is deterministic. The
// fitness values are finite: non-finite values are handled by the caller before shaping
// (dphys/search/non_finite.hpp). Pure, thread-safe, no allocation beyond a rank permutation.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace dphys::search {

/// fitness_shaping<P, T> — minimal complete definition:
///   `p(std::span<const T> fitness, std::span<T> utilities)` (const), sizes equal.
/// Laws: monotone (f_i > f_j ⇒ u_i >= u_j); a function of (fitness) only.
template <class P, class T>
concept fitness_shaping =
    std::floating_point<T> && requires(const P& p, std::span<const T> f, std::span<T> u) {
      p(f, u);
    };

namespace detail::shaping {

inline void check_sizes(std::size_t nf, std::size_t nu, const char* who) {
  if (nf != nu)
    throw std::invalid_argument(std::string(who) + ": " + std::to_string(nf) +
                                " fitness values but " + std::to_string(nu) + " utility slots");
}

/// order[k] = index of the member with the k-th LOWEST fitness (ties: lower index first).
template <class T>
std::vector<std::size_t> ascending_order(std::span<const T> f) {
  std::vector<std::size_t> order(f.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return f[a] < f[b]; });
  return order;
}

}  // namespace detail::shaping

/// Centred ranks in [−0.5, 0.5] (Salimans et al. 2017): u_i = rank_i/(n−1) − 0.5, rank 0 = lowest
/// fitness, ties by index. n = 1 gives 0.
struct centered_ranks {
  template <class T>
  void operator()(std::span<const T> fitness, std::span<T> utilities) const {
    detail::shaping::check_sizes(fitness.size(), utilities.size(), "centered_ranks");
    const std::size_t n = fitness.size();
    if (n == 0) return;
    if (n == 1) {
      utilities[0] = T(0);
      return;
    }
    const auto order = detail::shaping::ascending_order(fitness);
    for (std::size_t k = 0; k < n; ++k)
      utilities[order[k]] = static_cast<T>(k) / static_cast<T>(n - 1) - T(0.5);
  }
};

/// The rank-based utilities of Natural Evolution Strategies (Wierstra et al. 2014, JMLR 15, eq. in
/// §3.1): for the member ranked k = 1..n from the BEST, u = max(0, ln(n/2+1) − ln k) / Σ_j max(0,
/// ln(n/2+1) − ln j) − 1/n. Utilities sum to 0; ties by index (lower index ranks lower).
struct nes_utilities {
  template <class T>
  void operator()(std::span<const T> fitness, std::span<T> utilities) const {
    detail::shaping::check_sizes(fitness.size(), utilities.size(), "nes_utilities");
    const std::size_t n = fitness.size();
    if (n == 0) return;
    const auto order = detail::shaping::ascending_order(fitness);
    const T top = std::log(static_cast<T>(n) / T(2) + T(1));
    T sum = T(0);
    for (std::size_t k = 1; k <= n; ++k) sum += std::max(T(0), top - std::log(static_cast<T>(k)));
    for (std::size_t k = 1; k <= n; ++k) {
      const T raw = std::max(T(0), top - std::log(static_cast<T>(k)));
      utilities[order[n - k]] = raw / sum - T(1) / static_cast<T>(n);
    }
  }
};

/// Standardised fitness: u_i = (f_i − mean)/std (population std, divisor n); all zeros when the
/// std is 0 (or n < 2).
struct z_score {
  template <class T>
  void operator()(std::span<const T> fitness, std::span<T> utilities) const {
    detail::shaping::check_sizes(fitness.size(), utilities.size(), "z_score");
    const std::size_t n = fitness.size();
    if (n == 0) return;
    T mean = T(0);
    for (T f : fitness) mean += f;
    mean /= static_cast<T>(n);
    T var = T(0);
    for (T f : fitness) var += (f - mean) * (f - mean);
    var /= static_cast<T>(n);
    const T sd = std::sqrt(var);
    for (std::size_t i = 0; i < n; ++i)
      utilities[i] = sd > T(0) ? (fitness[i] - mean) / sd : T(0);
  }
};

/// The fitness itself: u_i = f_i.
struct raw_fitness {
  template <class T>
  void operator()(std::span<const T> fitness, std::span<T> utilities) const {
    detail::shaping::check_sizes(fitness.size(), utilities.size(), "raw_fitness");
    std::copy(fitness.begin(), fitness.end(), utilities.begin());
  }
};

static_assert(fitness_shaping<centered_ranks, double> && fitness_shaping<nes_utilities, float> &&
              fitness_shaping<z_score, double> && fitness_shaping<raw_fitness, float>);

}  // namespace dphys::search
