// dphys/nbody/initial_conditions.hpp — initial conditions for particles<double> (spec G2):
// random_box, two_body, figure_eight (Chenciner–Montgomery) and its Galaxy compat variant,
// plummer_galaxy (Galaxy's approximate sampler) and plummer_equilibrium (Aarseth–Hénon–Wielen
// 1974), plus CSV load/save (csv.hpp). No extension points.
//
// Determinism: random generators draw from dphys's counter-based RNG (stream nbody::ic_stream):
//   every number is a pure function of (seed, generator, particle index, draw slot, attempt), so a
//   particle does not depend on n or on the other particles' rejection loops.
// Failure modes: invalid arguments (n < 1, M <= 0, ...) throw dphys::config_error naming the
//   argument, its value and the rule.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

#include <dphys/core/detail/config_text.hpp>
#include <dphys/core/error.hpp>
#include <dphys/core/random.hpp>
#include <dphys/nbody/csv.hpp>
#include <dphys/nbody/particles.hpp>

namespace dphys::nbody {

/// The RNG stream of every initial-condition draw. 0x4701 ("G" for Galaxy) lies between the
/// library's enumerators and stream_id::user; the lead may promote it to an enumerator.
inline constexpr stream_id ic_stream = static_cast<stream_id>(0x4701u);

namespace detail::ic {

enum generator : std::uint32_t { box = 1, plummer_galaxy = 2, plummer_equilibrium = 3 };

/// Uniform double on [0, 1) with 53 random bits, from two 32-bit draws of the counter
/// (particle, slot, 2·attempt) and (particle, slot, 2·attempt + 1).
inline double uniform(const random_key& key, std::size_t particle, std::uint32_t slot,
                      std::uint32_t attempt = 0) {
  const auto i = static_cast<std::uint32_t>(particle);
  const std::uint32_t a = random_bits<float>(key, i, slot, 2 * attempt);
  const std::uint32_t b = random_bits<float>(key, i, slot, 2 * attempt + 1);
  return (static_cast<double>(a >> 5) * 67108864.0 + static_cast<double>(b >> 6)) * 0x1p-53;
}

/// Standard normal by Box–Muller from slots (slot, slot + 1) at `attempt`.
inline double normal(const random_key& key, std::size_t particle, std::uint32_t slot,
                     std::uint32_t attempt) {
  const double u1 = 1.0 - uniform(key, particle, slot, attempt);  // (0, 1]
  const double u2 = uniform(key, particle, slot + 1, attempt);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

/// An isotropic unit vector from slots (slot, slot + 1): cos θ = 2u − 1, φ = 2πu'.
inline std::array<double, 3> direction(const random_key& key, std::size_t particle,
                                       std::uint32_t slot) {
  const double c = 2.0 * uniform(key, particle, slot) - 1.0;
  const double s = std::sqrt(std::max(0.0, 1.0 - c * c));
  const double phi = 2.0 * std::numbers::pi * uniform(key, particle, slot + 1);
  return {s * std::cos(phi), s * std::sin(phi), c};
}

inline void require(bool ok, const char* field, double value, const char* rule) {
  if (!ok) throw config_error(field, dphys::detail::number_text(value), rule);
}
inline void require_n(std::size_t n, const char* field) {
  if (n < 1) throw config_error(field, std::to_string(n), ">= 1");
  if (n > (std::size_t{1} << 31)) throw config_error(field, std::to_string(n), "<= 2^31");
}

}  // namespace detail::ic

/// Galaxy's default random crucible, seeded: positions U(0,100)³, velocities U(−1,1)³, masses
/// U(0.5, 2.0). Not shifted to the centre-of-mass frame.
inline particles<double> random_box(std::size_t n, std::uint64_t seed) {
  detail::ic::require_n(n, "random_box.n");
  const random_key key = random_key::make(seed, ic_stream, detail::ic::box, 0);
  particles<double> p;
  p.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto u = [&](std::uint32_t slot) { return detail::ic::uniform(key, i, slot); };
    p.push_back({100.0 * u(0), 100.0 * u(1), 100.0 * u(2), 2.0 * u(3) - 1.0, 2.0 * u(4) - 1.0,
                 2.0 * u(5) - 1.0, 0.5 + 1.5 * u(6)});
  }
  return p;
}

/// Two bodies of mass M/2 at (∓sep/2, 0, 0) with velocities (0, ±½√(GM/sep), 0) (the left body
/// moves +y): a circular orbit of period 2π√(sep³/(GM)), 2T/|U| = 1 (unsoftened).
inline particles<double> two_body(double sep = 1.0, double M = 2.0, double G = 1.0) {
  detail::ic::require(sep > 0 && std::isfinite(sep), "two_body.sep", sep, "> 0, finite");
  detail::ic::require(M > 0 && std::isfinite(M), "two_body.M", M, "> 0, finite");
  detail::ic::require(G > 0 && std::isfinite(G), "two_body.G", G, "> 0, finite");
  const double v = 0.5 * std::sqrt(G * M / sep);
  particles<double> p;
  p.push_back({-sep / 2, 0, 0, 0, v, 0, M / 2});
  p.push_back({sep / 2, 0, 0, 0, -v, 0, M / 2});
  return p;
}

/// Chenciner–Montgomery figure-eight choreography (Simó's data), G = 1, unit masses:
/// r₁ = −r₂ = (0.97000436, −0.24308753, 0), r₃ = 0, v₃ = (−0.93240737, −0.86473146, 0),
/// v₁ = v₂ = −v₃/2. E = −1.287142 (unsoftened), period T = 6.32591398.
inline particles<double> figure_eight() {
  constexpr double x1 = 0.97000436, y1 = -0.24308753;
  constexpr double v3x = -0.93240737, v3y = -0.86473146;
  particles<double> p;
  p.push_back({x1, y1, 0, -v3x / 2, -v3y / 2, 0, 1});
  p.push_back({-x1, -y1, 0, -v3x / 2, -v3y / 2, 0, 1});
  p.push_back({0, 0, 0, v3x, v3y, 0, 1});
  return p;
}
inline constexpr double figure_eight_period = 6.32591398;
inline constexpr double figure_eight_energy = -1.287142;

/// Compat: Galaxy's `figure_eight` as implemented (spec §0.2) — NOT the choreography: bodies at
/// (∓0.97000436, 0, 0) and 0, outer velocities both (−0.93240737, −0.86473146, 0), centre twice
/// the opposite. Unbound: E = +2.274 (unsoftened).
inline particles<double> figure_eight_galaxy_compat() {
  constexpr double x1 = 0.97000436;
  constexpr double vx = -0.93240737, vy = -0.86473146;
  particles<double> p;
  p.push_back({-x1, 0, 0, vx, vy, 0, 1});
  p.push_back({x1, 0, 0, vx, vy, 0, 1});
  p.push_back({0, 0, 0, -2 * vx, -2 * vy, 0, 1});
  return p;
}

/// plummer_galaxy's particles plus the per-particle speeds drawn before the momentum shift
/// (for checking spec AG3).
struct plummer_sample {
  particles<double> p;
  std::vector<double> speed;         ///< accepted speed, or exactly 0 after 100 rejections
  std::vector<double> escape_speed;  ///< √(2GM/√(r² + a²)) at the particle's sampled radius
};

/// Galaxy's Plummer sampler, with its per-particle draws (spec §2.1). Approximate: not an
/// equilibrium model (2T/|U| ≈ 0.3–0.5). Per particle: r = a/√(u^(−2/3) − 1), u = max(U, 1e−12);
/// isotropic position direction; speed |N(0, (√(GM/a)/3)²)| redrawn up to 100 times until below
/// the local escape speed, else 0; isotropic velocity direction; mass M/n. Then centre of mass and
/// total momentum are shifted to zero.
inline plummer_sample plummer_galaxy_sample(std::size_t n, double M = 100.0, double a = 1.0,
                                            double G = 1.0, std::uint64_t seed = 42) {
  detail::ic::require_n(n, "plummer_galaxy.n");
  detail::ic::require(M > 0 && std::isfinite(M), "plummer_galaxy.M", M, "> 0, finite");
  detail::ic::require(a > 0 && std::isfinite(a), "plummer_galaxy.a", a, "> 0, finite");
  detail::ic::require(G > 0 && std::isfinite(G), "plummer_galaxy.G", G, "> 0, finite");
  namespace ic = detail::ic;
  const random_key key = random_key::make(seed, ic_stream, ic::plummer_galaxy, 0);
  const double sigma = std::sqrt(G * M / a) / 3.0;
  plummer_sample s;
  s.p.reserve(n);
  s.speed.reserve(n);
  s.escape_speed.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double u = std::max(ic::uniform(key, i, 0), 1e-12);
    const double r = a / std::sqrt(std::pow(u, -2.0 / 3.0) - 1.0);
    const auto dir = ic::direction(key, i, 1);
    const double v_esc = std::sqrt(2.0 * G * M / std::sqrt(r * r + a * a));
    double speed = 0.0;
    for (std::uint32_t t = 0; t < 100; ++t) {
      const double trial = std::abs(sigma * ic::normal(key, i, 3, t));
      if (trial < v_esc) {
        speed = trial;
        break;
      }
    }
    const auto vdir = ic::direction(key, i, 5);
    s.p.push_back({r * dir[0], r * dir[1], r * dir[2], speed * vdir[0], speed * vdir[1],
                   speed * vdir[2], M / static_cast<double>(n)});
    s.speed.push_back(speed);
    s.escape_speed.push_back(v_esc);
  }
  shift_to_centre_of_mass_frame(s.p);
  return s;
}

/// Galaxy's Plummer sampler (see plummer_galaxy_sample), particles only.
inline particles<double> plummer_galaxy(std::size_t n, double M = 100.0, double a = 1.0,
                                        double G = 1.0, std::uint64_t seed = 42) {
  return plummer_galaxy_sample(n, M, a, G, seed).p;
}

/// Plummer sphere in equilibrium (Aarseth, Hénon & Wielen 1974, A&A 37, 183): r = a/√(u^(−2/3) − 1)
/// (no radial cut-off); speed v = q·√2·√(GM)·(r² + a²)^(−1/4) with q drawn by von Neumann
/// rejection from g(q) ∝ q²(1 − q²)^(7/2) (envelope 0.1); isotropic directions; mass M/n; then
/// zero centre of mass and total momentum. Virial ratio 2T/|U| → 1 as n grows (fluctuations
/// ~ 1/√n).
inline particles<double> plummer_equilibrium(std::size_t n, double M = 100.0, double a = 1.0,
                                             double G = 1.0, std::uint64_t seed = 42) {
  detail::ic::require_n(n, "plummer_equilibrium.n");
  detail::ic::require(M > 0 && std::isfinite(M), "plummer_equilibrium.M", M, "> 0, finite");
  detail::ic::require(a > 0 && std::isfinite(a), "plummer_equilibrium.a", a, "> 0, finite");
  detail::ic::require(G > 0 && std::isfinite(G), "plummer_equilibrium.G", G, "> 0, finite");
  namespace ic = detail::ic;
  const random_key key = random_key::make(seed, ic_stream, ic::plummer_equilibrium, 0);
  particles<double> p;
  p.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    double u = ic::uniform(key, i, 0);
    for (std::uint32_t t = 1; u == 0.0; ++t) u = ic::uniform(key, i, 0, t);  // r = 0 is fine,
    // but u = 0 would give 0^(−2/3) = inf; redraw (probability 2^-53)
    const double r = a / std::sqrt(std::pow(u, -2.0 / 3.0) - 1.0);
    const auto dir = ic::direction(key, i, 1);
    double q = 0.0;
    for (std::uint32_t t = 0; t < 4096; ++t) {  // acceptance ≈ 0.49 per try
      q = ic::uniform(key, i, 3, t);
      const double g = 0.1 * ic::uniform(key, i, 4, t);
      const double w = 1.0 - q * q;
      if (g < q * q * w * w * w * std::sqrt(w)) break;
    }
    const double v = q * std::sqrt(2.0 * G * M) * std::pow(r * r + a * a, -0.25);
    const auto vdir = ic::direction(key, i, 5);
    p.push_back({r * dir[0], r * dir[1], r * dir[2], v * vdir[0], v * vdir[1], v * vdir[2],
                 M / static_cast<double>(n)});
  }
  shift_to_centre_of_mass_frame(p);
  return p;
}

}  // namespace dphys::nbody
