// dphys/search/operators/mutation.hpp — mutation policies for real-valued genomes:
// gaussian_mutation, polynomial_mutation (bounded form of Deb's NSGA-II code) and no_mutation.
// Extension point: a mutation policy is a value type with
//   template <class T> void operator()(std::span<T> x, std::span<const T> lower,
//                                      std::span<const T> upper, draws& d) const
// and `static constexpr bool requires_bounds` (strategies refuse to build an unbounded search with
// a policy that requires a box). Each variable mutates with probability
// min(1, mutations_per_child / n), n = x.size() (1 per child on average: Deb's p_m = 1/n).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>

#include <dphys/core/config_check.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/search/operators/draws.hpp>

namespace dphys::search {

namespace detail {
inline double per_variable_rate(double mutations_per_child, std::size_t n) {
  return n == 0 ? 0.0 : std::min(1.0, mutations_per_child / static_cast<double>(n));
}
}  // namespace detail

struct no_mutation {
  static constexpr bool requires_bounds = false;
  template <class T>
  void operator()(std::span<T>, std::span<const T>, std::span<const T>, draws&) const {}
};

/// x_j += sigma·z for each mutated variable (z standard normal; absolute step, not scaled by the
/// box; bounds are the strategy's bounds policy's business).
struct gaussian_mutation {
  static constexpr bool requires_bounds = false;
  double sigma = 0.1;
  double mutations_per_child = 1.0;

  void check(config_checker<gaussian_mutation>& c) const {
    c(&gaussian_mutation::sigma).greater_than(0.0);
    c(&gaussian_mutation::mutations_per_child).at_least(0.0);
  }

  template <class T>
  void operator()(std::span<T> x, std::span<const T>, std::span<const T>, draws& d) const {
    const double p = detail::per_variable_rate(mutations_per_child, x.size());
    for (auto& v : x) {
      if (!d.bernoulli(p)) continue;
      v = static_cast<T>(static_cast<double>(v) + sigma * d.normal());
    }
  }
};

/// Polynomial mutation (Deb & Goyal 1996), the bounded ("highly disruptive") form of Deb's NSGA-II
/// code (nsga2-v1.1.6, real_mutate_ind): with δ1 = (x − l)/(u − l), δ2 = (u − x)/(u − l), r
/// uniform,
///   r <= 1/2: δq = (2r + (1 − 2r)(1 − δ1)^(η+1))^(1/(η+1)) − 1
///   r >  1/2: δq = 1 − (2(1 − r) + 2(r − 1/2)(1 − δ2)^(η+1))^(1/(η+1))
/// x += δq·(u − l), clipped to [l, u]. `eta` is η_m (larger: smaller steps). Requires a box.
struct polynomial_mutation {
  static constexpr bool requires_bounds = true;
  double eta = 20.0;
  double mutations_per_child = 1.0;

  void check(config_checker<polynomial_mutation>& c) const {
    c(&polynomial_mutation::eta).at_least(0.0).at_most(1000.0);
    c(&polynomial_mutation::mutations_per_child).at_least(0.0);
  }

  template <class T>
  void operator()(std::span<T> x, std::span<const T> lower, std::span<const T> upper,
                  draws& d) const {
    const double p = detail::per_variable_rate(mutations_per_child, x.size());
    const double e1 = eta + 1.0, inv = 1.0 / e1;
    for (std::size_t j = 0; j < x.size(); ++j) {
      if (!d.bernoulli(p)) continue;
      const double y = x[j], yl = lower[j], yu = upper[j], w = yu - yl;
      if (!(w > 0.0)) continue;
      const double d1 = (y - yl) / w, d2 = (yu - y) / w;
      const double r = d.uniform();
      double dq;
      if (r <= 0.5) {
        const double val = 2.0 * r + (1.0 - 2.0 * r) * std::pow(1.0 - d1, e1);
        dq = std::pow(val, inv) - 1.0;
      } else {
        const double val = 2.0 * (1.0 - r) + 2.0 * (r - 0.5) * std::pow(1.0 - d2, e1);
        dq = 1.0 - std::pow(val, inv);
      }
      x[j] = static_cast<T>(std::clamp(y + dq * w, yl, yu));
    }
  }
};

}  // namespace dphys::search

DPHYS_ADAPT_STRUCT(dphys::search::gaussian_mutation, sigma, mutations_per_child);
DPHYS_ADAPT_STRUCT(dphys::search::polynomial_mutation, eta, mutations_per_child);
