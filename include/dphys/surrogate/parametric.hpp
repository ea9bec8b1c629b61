// dphys/surrogate/parametric.hpp — Galaxy's 6-parameter parametric ("mock") surrogate genome
// (spec §2.1, G5(a)): θ = [g, ε_p, dt_v, dt_x, c_v, damping] with Galaxy's bounds, base vector,
// initial jitter U(−0.05, 0.05)·span (clamped) and two-phase Gaussian mutation (s = 0.12 before
// generation 3, else 0.06, clamped), and its batch predict. No extension points.
//
// Determinism: draws come from draw_stream (counter-based). Thread safety: pure functions.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <vector>

#include <dphys/nbody/particles.hpp>
#include <dphys/surrogate/variation.hpp>

namespace dphys::surrogate {

/// θ = [g, eps_p, dt_v, dt_x, c_v, damping].
using parametric_genome = std::array<double, 6>;

inline constexpr parametric_genome parametric_lower{5.0, 1e-6, 0.05, 0.05, 0.0, 0.0};
inline constexpr parametric_genome parametric_upper{15.0, 5.0, 0.2, 0.2, 0.5, 0.3};
inline constexpr parametric_genome parametric_base{10.0, 0.01, 0.1, 0.1, 0.05, 0.02};

inline parametric_genome parametric_clamp(parametric_genome t) {
  for (std::size_t k = 0; k < 6; ++k) t[k] = std::clamp(t[k], parametric_lower[k], parametric_upper[k]);
  return t;
}

/// base + U(−0.05, 0.05)·span, clamped.
inline parametric_genome parametric_initial(draw_stream& d) {
  parametric_genome t = parametric_base;
  for (std::size_t k = 0; k < 6; ++k)
    t[k] += d.uniform(-0.05, 0.05) * (parametric_upper[k] - parametric_lower[k]);
  return parametric_clamp(t);
}

/// Galaxy's mutation scale: 0.12 for generation < 3, else 0.06.
constexpr double parametric_mutation_scale(int generation) { return generation < 3 ? 0.12 : 0.06; }

/// θ + N(0, (span·s)²) per component, s = parametric_mutation_scale(generation), clamped.
inline parametric_genome parametric_mutate(const parametric_genome& t, int generation,
                                           draw_stream& d) {
  const double s = parametric_mutation_scale(generation);
  parametric_genome q = t;
  for (std::size_t k = 0; k < 6; ++k)
    q[k] += d.normal() * (parametric_upper[k] - parametric_lower[k]) * s;
  return parametric_clamp(q);
}

/// Galaxy's parametric model, batch form (Jacobi): attractor at the unweighted mean position of all
/// particles (self included); d = attractor − x; a = g·d / max((|d|² + ε_p)^{3/2}, 1e−6);
/// v' = (1 − damping)·v + a·dt_v; x' = x + (v + c_v·a)·dt_x (old v); mass unchanged.
/// Returns one 7-number row per particle.
inline std::vector<std::array<double, 7>> parametric_predict(const parametric_genome& t,
                                                             const nbody::particles<double>& p) {
  const auto [g, eps_p, dt_v, dt_x, c_v, damping] = t;
  const std::size_t n = p.size();
  double mx = 0, my = 0, mz = 0;
  for (std::size_t i = 0; i < n; ++i) {
    mx += p.x[i];
    my += p.y[i];
    mz += p.z[i];
  }
  if (n > 0) {
    mx /= static_cast<double>(n);
    my /= static_cast<double>(n);
    mz /= static_cast<double>(n);
  }
  std::vector<std::array<double, 7>> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double dx = mx - p.x[i], dy = my - p.y[i], dz = mz - p.z[i];
    const double den = std::max(std::pow(dx * dx + dy * dy + dz * dz + eps_p, 1.5), 1e-6);
    const double ax = g * dx / den, ay = g * dy / den, az = g * dz / den;
    out[i] = {p.x[i] + (p.vx[i] + c_v * ax) * dt_x,
              p.y[i] + (p.vy[i] + c_v * ay) * dt_x,
              p.z[i] + (p.vz[i] + c_v * az) * dt_x,
              (1.0 - damping) * p.vx[i] + ax * dt_v,
              (1.0 - damping) * p.vy[i] + ay * dt_v,
              (1.0 - damping) * p.vz[i] + az * dt_v,
              p.m[i]};
  }
  return out;
}

}  // namespace dphys::surrogate
