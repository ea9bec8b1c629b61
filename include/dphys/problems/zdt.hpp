// dphys/problems/zdt.hpp — the ZDT bi-objective test problems (Zitzler, Deb & Thiele 2000, Evol.
// Comput. 8(2)): ZDT1, ZDT2, ZDT3, ZDT4, ZDT6, their true Pareto fronts (sampled) and the exact
// hypervolume of each true front w.r.t. the reference point (1.1, 1.1).
//
// Convention: the problems are stated as in the paper, both objectives MINIMISED
// (`objectives(x, f)`); dphys strategies maximise, so feed them `fitness(x, out)` = −objectives.
// The hypervolumes are those of the minimisation problem (the same number as the hypervolume of
// the negated front w.r.t. (−1.1, −1.1) in dphys's maximisation convention). Pure, thread-safe.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/core/config_check.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/search/bounds.hpp>

namespace dphys::problems {

enum class zdt_function { zdt1, zdt2, zdt3, zdt4, zdt6 };
constexpr auto enum_names(zdt_function) {
  return std::array{std::pair{zdt_function::zdt1, std::string_view{"zdt1"}},
                    std::pair{zdt_function::zdt2, std::string_view{"zdt2"}},
                    std::pair{zdt_function::zdt3, std::string_view{"zdt3"}},
                    std::pair{zdt_function::zdt4, std::string_view{"zdt4"}},
                    std::pair{zdt_function::zdt6, std::string_view{"zdt6"}}};
}

/// Exact hypervolumes of the true fronts w.r.t. (1.1, 1.1) (minimisation). With g = 1 the front is
/// f2 = φ(f1); the dominated area is ∫_0^1.1 (1.1 − m(t)) dt with m the running minimum of the
/// front (m(t) = min f2 over front points with f1 <= t, and m = min f2 for t beyond the front):
///   ZDT1, ZDT4: φ = 1 − √f1 on [0, 1]:  0.1 + 2/3 + 0.1·1.1 = 263/300
///   ZDT2:       φ = 1 − f1² on [0, 1]:   0.1 + 1/3 + 0.11    = 163/300
///   ZDT3:       φ = 1 − √f1 − f1·sin(10π f1), the non-dominated parts of it (five pieces, see
///               zdt3_pareto_set): integrated with 40-digit arithmetic (mpmath)
///               = 1.3317629086570...
///   ZDT6:       φ = 1 − f1² on [a, 1], a = 1 − e^(−4x*)·sin⁶(6πx*), x* = atan(9π)/(6π) (where
///               e^(−4x)sin⁶(6πx) peaks, tan(6πx) = 9π), a = 0.28077531881536970...:
///               0.1·(1 − a) + (1 − a³)/3 + 0.11 = 0.5078775146545906...
inline constexpr double zdt1_hypervolume = 263.0 / 300.0;
inline constexpr double zdt2_hypervolume = 163.0 / 300.0;
inline constexpr double zdt3_hypervolume = 1.3317629086570201219;
inline constexpr double zdt4_hypervolume = 263.0 / 300.0;
inline constexpr double zdt6_hypervolume = 0.50787751465459068881;
/// Smallest f1 on ZDT6's front.
inline constexpr double zdt6_f1_min = 0.28077531881536970311;
/// ZDT3's Pareto-optimal x1 (with x2..n = 0): five intervals (the first starts at 0).
inline constexpr std::array<std::pair<double, double>, 5> zdt3_pareto_set{{
    {0.0, 0.083001534926911632733},
    {0.18222872802939977982, 0.25776236338783022157},
    {0.4093136748086568417, 0.45388210408883016579},
    {0.61839679443926579295, 0.65251170380466251904},
    {0.82333179832663273807, 0.85183286543641389585},
}};

/// One ZDT problem: `function` and the number of variables (the paper uses 30 for ZDT1–3 and 10 for
/// ZDT4 and ZDT6; see zdt::paper). Domain: [0, 1]^n, except ZDT4: x1 in [0, 1], x2..n in [−5, 5].
struct zdt {
  zdt_function function = zdt_function::zdt1;
  int dimension = 30;

  static constexpr std::size_t num_objectives = 2;

  void check(config_checker<zdt>& c) const { c(&zdt::dimension).at_least(2).at_most(1 << 20); }

  /// The paper's setting of `f`: 30 variables for ZDT1–3, 10 for ZDT4 and ZDT6.
  static zdt paper(zdt_function f) {
    return {f, f == zdt_function::zdt4 || f == zdt_function::zdt6 ? 10 : 30};
  }

  [[nodiscard]] std::string_view name() const {
    for (const auto& [v, n] : enum_names(function))
      if (v == function) return n;
    return "?";
  }

  template <class T = double>
  [[nodiscard]] search::box<T> bounds() const {
    const auto n = static_cast<std::size_t>(dimension);
    std::vector<T> lo(n, T(0)), hi(n, T(1));
    if (function == zdt_function::zdt4)
      for (std::size_t i = 1; i < n; ++i) {
        lo[i] = T(-5);
        hi[i] = T(5);
      }
    return search::box<T>(std::move(lo), std::move(hi));
  }

  /// f = (f1, f2), both minimised, computed in double.
  template <class T>
  void objectives(std::span<const T> x, std::span<T> f) const {
    const std::size_t n = x.size();
    if (n != static_cast<std::size_t>(dimension) || f.size() != 2)
      throw std::invalid_argument("zdt::objectives: expected " + std::to_string(dimension) +
                                  " variables and 2 objectives, got " + std::to_string(n) +
                                  " and " + std::to_string(f.size()));
    constexpr double pi = std::numbers::pi;
    const double x1 = static_cast<double>(x[0]);
    double sum = 0.0;
    for (std::size_t i = 1; i < n; ++i) {
      const double xi = static_cast<double>(x[i]);
      sum += function == zdt_function::zdt4 ? xi * xi - 10.0 * std::cos(4.0 * pi * xi) : xi;
    }
    const double m1 = static_cast<double>(n - 1);
    double f1 = x1, g = 0.0, h = 0.0;
    switch (function) {
      case zdt_function::zdt1:
        g = 1.0 + 9.0 * sum / m1;
        h = 1.0 - std::sqrt(f1 / g);
        break;
      case zdt_function::zdt2:
        g = 1.0 + 9.0 * sum / m1;
        h = 1.0 - (f1 / g) * (f1 / g);
        break;
      case zdt_function::zdt3:
        g = 1.0 + 9.0 * sum / m1;
        h = 1.0 - std::sqrt(f1 / g) - (f1 / g) * std::sin(10.0 * pi * f1);
        break;
      case zdt_function::zdt4:
        g = 1.0 + 10.0 * m1 + sum;
        h = 1.0 - std::sqrt(f1 / g);
        break;
      case zdt_function::zdt6: {
        const double s = std::sin(6.0 * pi * x1);
        f1 = 1.0 - std::exp(-4.0 * x1) * s * s * s * s * s * s;
        g = 1.0 + 9.0 * std::pow(sum / m1, 0.25);
        h = 1.0 - (f1 / g) * (f1 / g);
        break;
      }
    }
    f[0] = static_cast<T>(f1);
    f[1] = static_cast<T>(g * h);
  }

  /// The maximisation form dphys strategies take: out = −objectives(x).
  template <class T>
  void fitness(std::span<const T> x, std::span<T> out) const {
    objectives(x, out);
    out[0] = -out[0];
    out[1] = -out[1];
  }

  /// Exact hypervolume of the true front w.r.t. (1.1, 1.1) (minimisation).
  [[nodiscard]] double true_hypervolume() const {
    switch (function) {
      case zdt_function::zdt1:
        return zdt1_hypervolume;
      case zdt_function::zdt2:
        return zdt2_hypervolume;
      case zdt_function::zdt3:
        return zdt3_hypervolume;
      case zdt_function::zdt4:
        return zdt4_hypervolume;
      case zdt_function::zdt6:
        return zdt6_hypervolume;
    }
    return 0.0;
  }

  /// `points` points of the true front (minimisation; 2·points values, (f1, f2) rows), spread
  /// evenly in x1 over the Pareto-optimal set (x2..n at their optimum, g = 1). points >= 2.
  [[nodiscard]] std::vector<double> true_front(std::size_t points) const {
    if (points < 2) throw std::invalid_argument("zdt::true_front: points must be >= 2");
    std::vector<double> out;
    out.reserve(2 * points);
    const auto at = [&](double x1) {
      std::vector<double> x(static_cast<std::size_t>(dimension), 0.0);
      x[0] = x1;
      std::array<double, 2> f{};
      objectives(std::span<const double>(x), std::span<double>(f));
      out.push_back(f[0]);
      out.push_back(f[1]);
    };
    if (function == zdt_function::zdt3) {
      double total = 0.0;
      for (const auto& [a, b] : zdt3_pareto_set) total += b - a;
      // position t in [0, total] along the concatenated intervals
      for (std::size_t k = 0; k < points; ++k) {
        double t = total * static_cast<double>(k) / static_cast<double>(points - 1);
        for (std::size_t s = 0; s < zdt3_pareto_set.size(); ++s) {
          const auto [a, b] = zdt3_pareto_set[s];
          if (t <= b - a || s + 1 == zdt3_pareto_set.size()) {
            at(std::min(a + t, b));
            break;
          }
          t -= b - a;
        }
      }
    } else if (function == zdt_function::zdt6) {
      // x1 in [0, x*] maps f1 monotonically from 1 down to its minimum.
      const double xs = std::atan(9.0 * std::numbers::pi) / (6.0 * std::numbers::pi);
      for (std::size_t k = 0; k < points; ++k)
        at(xs * static_cast<double>(k) / static_cast<double>(points - 1));
    } else {
      for (std::size_t k = 0; k < points; ++k)
        at(static_cast<double>(k) / static_cast<double>(points - 1));
    }
    return out;
  }
};

}  // namespace dphys::problems

DPHYS_ADAPT_STRUCT(dphys::problems::zdt, function, dimension);
