// dphys/problems/benchmark_functions.hpp — classic continuous test functions for minimisation,
// defined exactly as in the peer benchmarks (../shared/peers/pagmo/pagmo_bench.cpp and
// deap/deap_cma_bench.py) so evaluation counts are comparable: sphere, ellipsoid (condition 1e6),
// rosenbrock, rastrigin, each with the peers' initial range. f* = 0 for all four.
// Extension point: none (plain function objects: `f(std::span<const T>) -> T`, `f.name`,
// `f.initial_lower`, `f.initial_upper`). Pure and thread-safe.
//
// Strategies maximise: evaluate −f (e.g. `fitness[k] = -sphere{}(row)`).
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dphys::problems {

/// f(x) = Σ x_i²; initial range [−5, 5]ⁿ.
struct sphere {
  static constexpr std::string_view name = "sphere";
  static constexpr double initial_lower = -5.0, initial_upper = 5.0;
  template <class T>
  T operator()(std::span<const T> x) const {
    T s = T(0);
    for (T v : x) s += v * v;
    return s;
  }
};

/// f(x) = Σ 10^(6(i−1)/(n−1)) x_i² (condition number 1e6; n = 1: x²); initial range [−5, 5]ⁿ.
/// The coefficient is computed as pow(1e6, (i−1)/(n−1)), as pagmo_bench does.
struct ellipsoid {
  static constexpr std::string_view name = "ellipsoid";
  static constexpr double initial_lower = -5.0, initial_upper = 5.0;
  template <class T>
  T operator()(std::span<const T> x) const {
    const std::size_t n = x.size();
    T s = T(0);
    for (std::size_t i = 0; i < n; ++i)
      s += static_cast<T>(std::pow(1e6, n > 1 ? double(i) / double(n - 1) : 0.0)) * x[i] * x[i];
    return s;
  }
};

/// f(x) = Σ_{i<n} 100(x_{i+1} − x_i²)² + (1 − x_i)²; initial range [−5, 10]ⁿ; x* = (1, ..., 1).
struct rosenbrock {
  static constexpr std::string_view name = "rosenbrock";
  static constexpr double initial_lower = -5.0, initial_upper = 10.0;
  template <class T>
  T operator()(std::span<const T> x) const {
    T s = T(0);
    for (std::size_t i = 0; i + 1 < x.size(); ++i) {
      const T a = x[i + 1] - x[i] * x[i], b = T(1) - x[i];
      s += T(100) * a * a + b * b;
    }
    return s;
  }
};

/// f(x) = 10n + Σ (x_i² − 10 cos(2π x_i)); initial range [−5.12, 5.12]ⁿ.
struct rastrigin {
  static constexpr std::string_view name = "rastrigin";
  static constexpr double initial_lower = -5.12, initial_upper = 5.12;
  template <class T>
  T operator()(std::span<const T> x) const {
    T s = T(10) * static_cast<T>(x.size());
    for (T v : x) s += v * v - T(10) * std::cos(T(2) * std::numbers::pi_v<T> * v);
    return s;
  }
};

/// Calls f(name) with the function object named `name` ("sphere", "ellipsoid", "rosenbrock",
/// "rastrigin"); std::invalid_argument naming the valid names otherwise.
template <class F>
decltype(auto) with_benchmark_function(std::string_view name, F&& f) {
  if (name == sphere::name) return f(sphere{});
  if (name == ellipsoid::name) return f(ellipsoid{});
  if (name == rosenbrock::name) return f(rosenbrock{});
  if (name == rastrigin::name) return f(rastrigin{});
  throw std::invalid_argument("unknown benchmark function '" + std::string(name) +
                              "'; valid: sphere, ellipsoid, rosenbrock, rastrigin");
}

}  // namespace dphys::problems
