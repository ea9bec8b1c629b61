// dphys/search/operators/crossover.hpp — recombination policies for real-valued genomes:
// uniform_crossover, blx_alpha, gaussian_crossover, sbx (simulated binary crossover, bounded form
// of Deb's NSGA-II code) and no_crossover. Extension point: a crossover policy is a value type with
//   template <class T> void operator()(std::span<const T> p1, std::span<const T> p2,
//       std::span<T> c1, std::span<T> c2, std::span<const T> lower, std::span<const T> upper,
//       draws& d) const
// writing two children from two parents. `lower`/`upper` are the box (both empty when unbounded);
// policies that do not use it leave bounds to the strategy's bounds policy. Pure given `d`.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>

#include <dphys/core/config_check.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/search/operators/draws.hpp>

namespace dphys::search {

/// Children are copies of the parents.
struct no_crossover {
  template <class T>
  void operator()(std::span<const T> p1, std::span<const T> p2, std::span<T> c1, std::span<T> c2,
                  std::span<const T>, std::span<const T>, draws&) const {
    std::copy(p1.begin(), p1.end(), c1.begin());
    std::copy(p2.begin(), p2.end(), c2.begin());
  }
};

/// Uniform crossover: each coordinate is swapped between the children with probability
/// `swap_probability` (c1 takes p2's value and c2 takes p1's).
struct uniform_crossover {
  double swap_probability = 0.5;

  void check(config_checker<uniform_crossover>& c) const {
    c(&uniform_crossover::swap_probability).in_range(0.0, 1.0);
  }

  template <class T>
  void operator()(std::span<const T> p1, std::span<const T> p2, std::span<T> c1, std::span<T> c2,
                  std::span<const T>, std::span<const T>, draws& d) const {
    for (std::size_t j = 0; j < p1.size(); ++j) {
      const bool swap = d.bernoulli(swap_probability);
      c1[j] = swap ? p2[j] : p1[j];
      c2[j] = swap ? p1[j] : p2[j];
    }
  }
};

/// BLX-α (Eshelman & Schaffer 1993): each child coordinate is uniform on
/// [min − α·d, max + α·d], d = |p1 − p2|, drawn independently for the two children.
struct blx_alpha {
  double alpha = 0.5;

  void check(config_checker<blx_alpha>& c) const {
    c(&blx_alpha::alpha).at_least(0.0).at_most(10.0);
  }

  template <class T>
  void operator()(std::span<const T> p1, std::span<const T> p2, std::span<T> c1, std::span<T> c2,
                  std::span<const T>, std::span<const T>, draws& d) const {
    for (std::size_t j = 0; j < p1.size(); ++j) {
      const double lo = std::min<double>(p1[j], p2[j]), hi = std::max<double>(p1[j], p2[j]);
      const double w = hi - lo, a = lo - alpha * w, span = w * (1.0 + 2.0 * alpha);
      c1[j] = static_cast<T>(a + span * d.uniform());
      c2[j] = static_cast<T>(a + span * d.uniform());
    }
  }
};

/// Gaussian crossover: c1 = m + σ·|p1 − p2|·z, c2 = m − σ·|p1 − p2|·z per coordinate, m the
/// midpoint and z standard normal (antithetic children: their mean is the parents' mean).
/// Coordinates where the parents agree are inherited unchanged.
struct gaussian_crossover {
  double sigma = 0.5;

  void check(config_checker<gaussian_crossover>& c) const {
    c(&gaussian_crossover::sigma).at_least(0.0).at_most(10.0);
  }

  template <class T>
  void operator()(std::span<const T> p1, std::span<const T> p2, std::span<T> c1, std::span<T> c2,
                  std::span<const T>, std::span<const T>, draws& d) const {
    for (std::size_t j = 0; j < p1.size(); ++j) {
      const double m = 0.5 * (static_cast<double>(p1[j]) + static_cast<double>(p2[j]));
      const double s = sigma * std::abs(static_cast<double>(p1[j]) - static_cast<double>(p2[j]));
      const double z = d.normal();
      c1[j] = static_cast<T>(m + s * z);
      c2[j] = static_cast<T>(m - s * z);
    }
  }
};

/// Simulated binary crossover (Deb & Agrawal 1995), in the bounded form of Deb's NSGA-II code
/// (nsga2-v1.1.6, realcross): each coordinate is crossed with probability `variable_probability`
/// when the parents differ by more than 1e-14; the spread factor's distribution is truncated so the
/// children stay in [lower, upper] (then clipped against rounding), and the two children swap with
/// probability 1/2. Unbounded (empty box): the original, untruncated spread distribution.
/// `eta` is the distribution index η_c (larger: children closer to the parents); the default 20 is
/// Deb et al. 2002's (pymoo uses 15).
struct sbx {
  double eta = 20.0;
  double variable_probability = 0.5;

  void check(config_checker<sbx>& c) const {
    c(&sbx::eta).at_least(0.0).at_most(1000.0);
    c(&sbx::variable_probability).in_range(0.0, 1.0);
  }

  template <class T>
  void operator()(std::span<const T> p1, std::span<const T> p2, std::span<T> c1, std::span<T> c2,
                  std::span<const T> lower, std::span<const T> upper, draws& d) const {
    const bool bounded = !lower.empty();
    const double e1 = eta + 1.0, inv = 1.0 / e1;
    for (std::size_t j = 0; j < p1.size(); ++j) {
      const double x1 = p1[j], x2 = p2[j];
      if (!d.bernoulli(variable_probability) || !(std::abs(x1 - x2) > 1e-14)) {
        c1[j] = p1[j];
        c2[j] = p2[j];
        continue;
      }
      const double y1 = std::min(x1, x2), y2 = std::max(x1, x2), dy = y2 - y1;
      const double u = d.uniform();
      double a, b;
      if (bounded) {
        const double yl = lower[j], yu = upper[j];
        const auto betaq = [&](double beta) {
          const double alpha = 2.0 - std::pow(beta, -e1);
          return u <= 1.0 / alpha ? std::pow(u * alpha, inv)
                                  : std::pow(1.0 / (2.0 - u * alpha), inv);
        };
        a = 0.5 * ((y1 + y2) - betaq(1.0 + 2.0 * (y1 - yl) / dy) * dy);
        b = 0.5 * ((y1 + y2) + betaq(1.0 + 2.0 * (yu - y2) / dy) * dy);
        a = std::clamp(a, yl, yu);
        b = std::clamp(b, yl, yu);
      } else {
        const double bq =
            u <= 0.5 ? std::pow(2.0 * u, inv) : std::pow(1.0 / (2.0 * (1.0 - u)), inv);
        a = 0.5 * ((y1 + y2) - bq * dy);
        b = 0.5 * ((y1 + y2) + bq * dy);
      }
      if (d.bernoulli(0.5)) std::swap(a, b);
      c1[j] = static_cast<T>(a);
      c2[j] = static_cast<T>(b);
    }
  }
};

}  // namespace dphys::search

DPHYS_ADAPT_STRUCT(dphys::search::uniform_crossover, swap_probability);
DPHYS_ADAPT_STRUCT(dphys::search::blx_alpha, alpha);
DPHYS_ADAPT_STRUCT(dphys::search::gaussian_crossover, sigma);
DPHYS_ADAPT_STRUCT(dphys::search::sbx, eta, variable_probability);
