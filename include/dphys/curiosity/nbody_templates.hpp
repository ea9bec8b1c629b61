// dphys/curiosity/nbody_templates.hpp — N-body initial conditions as curriculum templates (issue
// 8): nbody_scenario (the catalogued, checksummed parameters of one instance: kind, N, softening,
// mass spread, velocity scale, eccentricity, length scale, initial-condition seed),
// make_particles() (the particles it stands for), and nbody_template(id, ranges): an
// env_template<nbody_scenario> drawing the parameters from ranges, reproducibly from the instance
// seed. Extension point: any env_template<nbody_scenario> (or a user's generator of
// nbody_scenario).
//
// Determinism: a scenario is a pure function of (template ranges, seed): the parameters are
//   counter-based draws on stream nbody_template_stream, the particles come from the library's
//   seeded initial conditions (nbody::random_box, nbody::plummer_equilibrium) plus draws keyed by
//   the scenario's ic_seed. Same (template, seed): identical particles and checksum.
// Failure modes: ranges and scenarios are validated configs (config_error names the field, the
//   value and the rule).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/core/config.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/curiosity/curriculum.hpp>
#include <dphys/curiosity/sampling.hpp>
#include <dphys/nbody/initial_conditions.hpp>
#include <dphys/nbody/particles.hpp>

namespace dphys::curiosity {

/// The stream of the N-body templates' parameter and mass draws. 0x4E02 follows curiosity_stream
/// (0x4E01); the lead may promote it to an enumerator.
inline constexpr stream_id nbody_template_stream = static_cast<stream_id>(0x4E02u);

/// Which initial condition a scenario is.
enum class nbody_scenario_kind {
  random_box,   ///< Galaxy's random box, rescaled (positions U(0, size)³, velocities U(−v, v)³)
  plummer,      ///< Plummer sphere in equilibrium (Aarseth–Hénon–Wielen), scale radius = size
  kepler,       ///< two bodies on a Kepler ellipse of semi-major axis size, started at apocentre
  figure_eight  ///< the Chenciner–Montgomery figure eight, scaled (and perturbed by mass spread)
};
constexpr auto enum_names(nbody_scenario_kind) {
  return std::array{std::pair{nbody_scenario_kind::random_box, std::string_view{"random_box"}},
                    std::pair{nbody_scenario_kind::plummer, std::string_view{"plummer"}},
                    std::pair{nbody_scenario_kind::kepler, std::string_view{"kepler"}},
                    std::pair{nbody_scenario_kind::figure_eight, std::string_view{"figure_eight"}}};
}

/// One N-body scenario: everything make_particles needs, and what the catalog checksums. G = 1,
/// total mass ≈ 1 (random_box: mean mass 1 per particle).
struct nbody_scenario {
  nbody_scenario_kind kind = nbody_scenario_kind::plummer;
  int n = 16;                 ///< particles (kepler: 2, figure_eight: 3)
  std::uint64_t ic_seed = 0;  ///< seed of the particle draws
  double softening = 0.01;    ///< ε of the reference law (r² + ε²) for this scenario
  double mass_spread =
      0.0;  ///< s in [0, 1): masses × (1 + s·(2u − 1)); kepler: m₁/m₂ = (1+s)/(1−s)
  double velocity_scale =
      1.0;  ///< velocities × this (1: box U(−1,1), Plummer equilibrium, Kepler ellipse)
  double eccentricity = 0.0;  ///< kepler only, in [0, 1)
  double size = 1.0;  ///< box side, Plummer scale radius, semi-major axis, figure-eight scale

  void check(config_checker<nbody_scenario>& c) const {
    c(&nbody_scenario::n).in_range(2, 1 << 16);
    c.require(kind != nbody_scenario_kind::kepler || n == 2, "kepler scenarios have n = 2",
              &nbody_scenario::n, &nbody_scenario::kind);
    c.require(kind != nbody_scenario_kind::figure_eight || n == 3,
              "figure_eight scenarios have n = 3", &nbody_scenario::n, &nbody_scenario::kind);
    c(&nbody_scenario::softening).at_least(0.0).finite();
    c(&nbody_scenario::mass_spread).at_least(0.0).less_than(1.0);
    c(&nbody_scenario::velocity_scale).greater_than(0.0).finite();
    c(&nbody_scenario::eccentricity).at_least(0.0).less_than(1.0);
    c(&nbody_scenario::size).greater_than(0.0).finite();
  }
};

/// The ranges a template draws a scenario's parameters from (each uniform on [min, max]; n
/// uniform on the integers n_min..n_max). Kepler templates need n_min = n_max = 2, figure-eight
/// templates 3.
struct nbody_template_config {
  nbody_scenario_kind kind = nbody_scenario_kind::plummer;
  int n_min = 8;
  int n_max = 16;
  double softening_min = 0.01;
  double softening_max = 0.05;
  double mass_spread_min = 0.0;
  double mass_spread_max = 0.5;
  double velocity_scale_min = 0.8;
  double velocity_scale_max = 1.2;
  double eccentricity_min = 0.0;
  double eccentricity_max = 0.0;
  double size_min = 1.0;
  double size_max = 1.0;

  void check(config_checker<nbody_template_config>& c) const {
    using C = nbody_template_config;
    c(&C::n_min).in_range(2, 1 << 16);
    c(&C::n_max).in_range(2, 1 << 16).at_least(&C::n_min);
    c.require(kind != nbody_scenario_kind::kepler || (n_min == 2 && n_max == 2),
              "kepler templates have n_min = n_max = 2", &C::n_min, &C::n_max, &C::kind);
    c.require(kind != nbody_scenario_kind::figure_eight || (n_min == 3 && n_max == 3),
              "figure_eight templates have n_min = n_max = 3", &C::n_min, &C::n_max, &C::kind);
    c(&C::softening_min).at_least(0.0).finite();
    c(&C::softening_max).finite().at_least(&C::softening_min);
    c(&C::mass_spread_min).at_least(0.0).less_than(1.0);
    c(&C::mass_spread_max).less_than(1.0).at_least(&C::mass_spread_min);
    c(&C::velocity_scale_min).greater_than(0.0).finite();
    c(&C::velocity_scale_max).finite().at_least(&C::velocity_scale_min);
    c(&C::eccentricity_min).at_least(0.0).less_than(1.0);
    c(&C::eccentricity_max).less_than(1.0).at_least(&C::eccentricity_min);
    c(&C::size_min).greater_than(0.0).finite();
    c(&C::size_max).finite().at_least(&C::size_min);
  }
};

}  // namespace dphys::curiosity

DPHYS_ADAPT_STRUCT(dphys::curiosity::nbody_scenario, kind, n, ic_seed, softening, mass_spread,
                   velocity_scale, eccentricity, size);
DPHYS_ADAPT_STRUCT(dphys::curiosity::nbody_template_config, kind, n_min, n_max, softening_min,
                   softening_max, mass_spread_min, mass_spread_max, velocity_scale_min,
                   velocity_scale_max, eccentricity_min, eccentricity_max, size_min, size_max);

namespace dphys::curiosity {

namespace detail::nbody_tpl {
enum purpose : std::uint32_t { parameters = 1, masses = 2, orientation = 3 };
inline random_key key(std::uint64_t seed, purpose p) {
  return random_key::make(seed, nbody_template_stream, 0, p);
}
inline double lerp(double lo, double hi, double u) { return lo + (hi - lo) * u; }
}  // namespace detail::nbody_tpl

/// The particles of a scenario (validated first). Every kind ends in the centre-of-mass frame
/// (zero centre of mass and total momentum).
///   random_box:   nbody::random_box(n, ic_seed) with positions × size/100, velocities ×
///                 velocity_scale, masses mapped from Galaxy's U(0.5, 2) to 1 + s·(2u − 1).
///   plummer:      nbody::plummer_equilibrium(n, M = 1, a = size, G = 1, ic_seed), velocities ×
///                 velocity_scale (1: virial equilibrium), masses × (1 + s·(2u − 1)).
///   kepler:       masses (1 ± s)/2, separation a(1 + e) at apocentre, relative speed
///                 velocity_scale·√((1 − e)/(a(1 + e))) (G·M = 1); the orbit's orientation in the
///                 xy plane is drawn from ic_seed.
///   figure_eight: nbody::figure_eight() with positions × size, velocities × velocity_scale/√size
///                 (so velocity_scale 1 keeps the choreography), masses × (1 + s·(2u − 1)).
inline nbody::particles<double> make_particles(const nbody_scenario& s) {
  validate(s);
  namespace t = detail::nbody_tpl;
  const auto n = static_cast<std::size_t>(s.n);
  const auto mkey = t::key(s.ic_seed, t::masses);
  const auto spread = [&](std::size_t i) {
    return 1.0 + s.mass_spread * (2.0 * uniform01(mkey, static_cast<std::uint32_t>(i), 0, 0) - 1.0);
  };
  nbody::particles<double> p;
  switch (s.kind) {
    case nbody_scenario_kind::random_box: {
      p = nbody::random_box(n, s.ic_seed);
      for (std::size_t i = 0; i < n; ++i) {
        p.x[i] *= s.size / 100.0;
        p.y[i] *= s.size / 100.0;
        p.z[i] *= s.size / 100.0;
        p.vx[i] *= s.velocity_scale;
        p.vy[i] *= s.velocity_scale;
        p.vz[i] *= s.velocity_scale;
        const double u = (p.m[i] - 0.5) / 1.5;  // Galaxy's masses are U(0.5, 2)
        p.m[i] = 1.0 + s.mass_spread * (2.0 * u - 1.0);
      }
      break;
    }
    case nbody_scenario_kind::plummer: {
      p = nbody::plummer_equilibrium(n, 1.0, s.size, 1.0, s.ic_seed);
      for (std::size_t i = 0; i < n; ++i) {
        p.vx[i] *= s.velocity_scale;
        p.vy[i] *= s.velocity_scale;
        p.vz[i] *= s.velocity_scale;
        p.m[i] *= spread(i);
      }
      break;
    }
    case nbody_scenario_kind::kepler: {
      const double m1 = 0.5 * (1.0 + s.mass_spread), m2 = 0.5 * (1.0 - s.mass_spread);
      const double r = s.size * (1.0 + s.eccentricity);
      const double v =
          s.velocity_scale * std::sqrt((1.0 - s.eccentricity) / (s.size * (1.0 + s.eccentricity)));
      const double phi =
          2.0 * std::numbers::pi * uniform01(t::key(s.ic_seed, t::orientation), 0, 0, 0);
      const double ux = std::cos(phi), uy = std::sin(phi);  // separation direction
      p.push_back({-m2 * r * ux, -m2 * r * uy, 0, m2 * v * uy, -m2 * v * ux, 0, m1});
      p.push_back({m1 * r * ux, m1 * r * uy, 0, -m1 * v * uy, m1 * v * ux, 0, m2});
      break;
    }
    case nbody_scenario_kind::figure_eight: {
      p = nbody::figure_eight();
      const double vs = s.velocity_scale / std::sqrt(s.size);
      for (std::size_t i = 0; i < n; ++i) {
        p.x[i] *= s.size;
        p.y[i] *= s.size;
        p.z[i] *= s.size;
        p.vx[i] *= vs;
        p.vy[i] *= vs;
        p.vz[i] *= vs;
        p.m[i] *= spread(i);
      }
      break;
    }
  }
  nbody::shift_to_centre_of_mass_frame(p);
  return p;
}

/// The scenario a template with these ranges generates for `seed` (ranges validated first): n,
/// softening, mass spread, velocity scale, eccentricity and size from draws 0–5 of the
/// parameters key, ic_seed = a hash of the seed.
inline nbody_scenario draw_scenario(const nbody_template_config& r, std::uint64_t seed) {
  namespace t = detail::nbody_tpl;
  const auto key = t::key(seed, t::parameters);
  const auto u = [&](std::uint32_t k) { return uniform01(key, 0, 0, k); };
  nbody_scenario s;
  s.kind = r.kind;
  s.n = r.n_min + static_cast<int>(
                      uniform_index(key, 0, 0, 0, static_cast<std::size_t>(r.n_max - r.n_min + 1)));
  s.softening = t::lerp(r.softening_min, r.softening_max, u(1));
  s.mass_spread = t::lerp(r.mass_spread_min, r.mass_spread_max, u(2));
  s.velocity_scale = t::lerp(r.velocity_scale_min, r.velocity_scale_max, u(3));
  s.eccentricity = t::lerp(r.eccentricity_min, r.eccentricity_max, u(4));
  s.size = t::lerp(r.size_min, r.size_max, u(5));
  s.ic_seed = dphys::detail::rng::mix64(seed ^ 0x4e42u);
  return s;
}

/// A curriculum template over N-body scenarios: validates the ranges now, then generate(seed) =
/// draw_scenario(ranges, seed).
inline env_template<nbody_scenario> nbody_template(std::string id, nbody_template_config ranges,
                                                   double weight = 1.0) {
  validate(ranges);
  return {std::move(id), [ranges](std::uint64_t seed) { return draw_scenario(ranges, seed); },
          weight};
}

/// The four shipped templates with moderate ranges (dt ≈ 0.01–0.05 integrates them well):
/// "box" (n 6–12, side 2–4, velocity 0.1–0.3), "plummer" (n 8–16, a 0.5–1.5, mass spread 0–0.5,
/// velocity 0.8–1.2), "kepler" (e 0–0.7, a 0.5–1.5, mass spread 0–0.6), "figure_eight" (mass
/// spread 0–0.1, velocity 0.95–1.05); softening 0.01–0.05 everywhere.
inline std::vector<env_template<nbody_scenario>> default_nbody_templates() {
  nbody_template_config box;
  box.kind = nbody_scenario_kind::random_box;
  box.n_min = 6;
  box.n_max = 12;
  box.velocity_scale_min = 0.1;
  box.velocity_scale_max = 0.3;
  box.size_min = 2.0;
  box.size_max = 4.0;
  nbody_template_config plummer;
  plummer.size_min = 0.5;
  plummer.size_max = 1.5;
  nbody_template_config kepler;
  kepler.kind = nbody_scenario_kind::kepler;
  kepler.n_min = kepler.n_max = 2;
  kepler.mass_spread_max = 0.6;
  kepler.velocity_scale_min = kepler.velocity_scale_max = 1.0;
  kepler.eccentricity_max = 0.7;
  kepler.size_min = 0.5;
  kepler.size_max = 1.5;
  nbody_template_config eight;
  eight.kind = nbody_scenario_kind::figure_eight;
  eight.n_min = eight.n_max = 3;
  eight.mass_spread_max = 0.1;
  eight.velocity_scale_min = 0.95;
  eight.velocity_scale_max = 1.05;
  return {nbody_template("box", box), nbody_template("plummer", plummer),
          nbody_template("kepler", kepler), nbody_template("figure_eight", eight)};
}

}  // namespace dphys::curiosity
