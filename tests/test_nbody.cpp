// Tests of dphys/nbody: Galaxy's repo physics tests (spec AG1), the two-body figures of AG2, the
// Plummer sampler facts of AG3, integrator order, Kepler's third law, the figure-eight period,
// SIMD force pass == scalar reference, CSV round trip and errors, baselines and the benchmark
// suite.
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <numbers>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <dphys/core/config_check.hpp>
#include <dphys/nbody/baselines.hpp>
#include <dphys/nbody/benchmark.hpp>
#include <dphys/nbody/diagnostics.hpp>
#include <dphys/nbody/force.hpp>
#include <dphys/nbody/initial_conditions.hpp>
#include <dphys/nbody/integrators.hpp>
#include <dphys/nbody/particles.hpp>

using namespace dphys;
using namespace dphys::nbody;

namespace {

struct acc3 {
  std::vector<double> x, y, z;
};
acc3 accel(const particles<double>& p, const softened_newton& f = {}) {
  acc3 a;
  accelerations(p, f, a.x, a.y, a.z);
  return a;
}
double norm3(double x, double y, double z) { return std::sqrt(x * x + y * y + z * z); }

/// Galaxy's one-step accuracy: 1 / (1 + √(Σ_i |x_pred,i − x_true,i|²)).
double galaxy_accuracy(const particles<double>& pred, const particles<double>& truth) {
  double s = 0;
  for (std::size_t i = 0; i < pred.size(); ++i) {
    const double dx = pred.x[i] - truth.x[i], dy = pred.y[i] - truth.y[i],
                 dz = pred.z[i] - truth.z[i];
    s += dx * dx + dy * dy + dz * dz;
  }
  return 1.0 / (1.0 + std::sqrt(s));
}

/// Galaxy's test system: m = 1 each at x = ∓1, v = ±0.5 in y.
particles<double> galaxy_test_pair() {
  particles<double> p;
  p.push_back({-1, 0, 0, 0, 0.5, 0, 1});
  p.push_back({1, 0, 0, 0, -0.5, 0, 1});
  return p;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// AG1: Galaxy's physics tests, same particles and thresholds.

TEST_CASE("nbody AG1: two bodies get equal and opposite velocity changes") {
  particles<double> p;
  p.push_back({0, 0, 0, 0, 0, 0, 1});
  p.push_back({1, 0, 0, 0, 0, 0, 1});
  const auto before = p;
  workspace<double> w;
  leapfrog_kdk{}.step(p, softened_newton{}, 0.1, w);
  const double dv0 = p.vx[0] - before.vx[0], dv1 = p.vx[1] - before.vx[1];
  CHECK(dv0 > 0);
  CHECK(dv0 == -dv1);  // exactly: the pair is symmetric
  CHECK(p.vy[0] == 0);
  CHECK(p.vz[1] == 0);
  // Unequal masses: equal and opposite momentum changes.
  particles<double> q;
  q.push_back({0, 0, 0, 0, 0, 0, 1});
  q.push_back({0.3, 0.4, 0, 0, 0, 0, 3});
  leapfrog_kdk{}.step(q, softened_newton{}, 0.1, w);
  CHECK(q.m[0] * q.vx[0] == doctest::Approx(-q.m[1] * q.vx[1]).epsilon(1e-14));
  CHECK(q.m[0] * q.vy[0] == doctest::Approx(-q.m[1] * q.vy[1]).epsilon(1e-14));
  CHECK(q.vx[0] > 0);
}

TEST_CASE("nbody AG1: a lone particle does not move") {
  particles<double> p;
  p.push_back({3, -2, 5, 0, 0, 0, 2});
  const auto before = p;
  integrate<leapfrog_kdk>(p, softened_newton{}, 0.1, 10);
  CHECK(p == before);
  const auto a = accel(p);
  CHECK(a.x[0] == 0);
  CHECK(a.y[0] == 0);
  CHECK(a.z[0] == 0);
}

TEST_CASE("nbody AG1: inverse square law and linearity in the attracting mass (1 %)") {
  const auto pull = [](double d, double m) {
    particles<double> p;
    p.push_back({0, 0, 0, 0, 0, 0, 1});
    p.push_back({d, 0, 0, 0, 0, 0, m});
    return accel(p).x[0];
  };
  CHECK(pull(1, 1) / pull(2, 1) == doctest::Approx(4.0).epsilon(0.01));
  CHECK(pull(1, 2) / pull(1, 1) == doctest::Approx(2.0).epsilon(0.01));
  CHECK(pull(1, 1) > 0);  // attraction towards +x
}

TEST_CASE("nbody AG1: purely z-separated bodies get only vz") {
  particles<double> p;
  p.push_back({0, 0, 0, 0, 0, 0, 1});
  p.push_back({0, 0, 1, 0, 0, 0, 1});
  integrate<leapfrog_kdk>(p, softened_newton{}, 0.1, 1);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(p.vx[i] == 0);
    CHECK(p.vy[i] == 0);
  }
  CHECK(p.vz[0] > 0);
  CHECK(p.vz[1] < 0);
}

TEST_CASE("nbody AG1: two-body energy (50 steps) and angular momentum (100 steps) drifts") {
  const softened_newton f{};
  auto p = galaxy_test_pair();
  const double e0 = total_energy(p, f);
  const auto l0 = angular_momentum(p);
  integrate<leapfrog_kdk>(p, f, 0.1, 50);
  CHECK(relative_energy_drift(e0, total_energy(p, f)) < 0.10);
  integrate<leapfrog_kdk>(p, f, 0.1, 50);
  CHECK(angular_momentum_drift(l0, angular_momentum(p)) < 0.05);
}

TEST_CASE("nbody AG1: doubling N multiplies the cost by 2..8 (pair evaluations, not time)") {
  const softened_newton f{};
  auto small = random_box(50, 1);
  auto large = random_box(100, 1);
  const auto c1 = integrate<leapfrog_kdk>(small, f, 0.1, 3);
  const auto c2 = integrate<leapfrog_kdk>(large, f, 0.1, 3);
  CHECK(c1.pair_evaluations == 3u * 2u * 50u * 49u);
  CHECK(c1.force_passes == 6u);
  const double ratio =
      static_cast<double>(c2.pair_evaluations) / static_cast<double>(c1.pair_evaluations);
  CHECK(ratio >= 2.0);
  CHECK(ratio <= 8.0);
  CHECK(ratio == doctest::Approx(9900.0 / 2450.0));
}

// ---------------------------------------------------------------------------------------------
// AG2: two-body circular orbit, sep 1, M 2, ε 0.01, dt 0.1; unsoftened energy.

TEST_CASE("nbody AG2: 100-step energy drifts of leapfrog and symplectic Euler") {
  const softened_newton f{};  // G 1, ε 0.01
  auto lf = two_body();
  auto se = two_body();
  const double e0 = total_energy(lf, f, potential_kind::unsoftened);
  CHECK(e0 == doctest::Approx(-0.5));  // T = ½, U = −1
  integrate<leapfrog_kdk>(lf, f, 0.1, 100);
  integrate<symplectic_euler>(se, f, 0.1, 100);
  const double d_lf = relative_energy_drift(e0, total_energy(lf, f, potential_kind::unsoftened));
  const double d_se = relative_energy_drift(e0, total_energy(se, f, potential_kind::unsoftened));
  CHECK(d_lf == doctest::Approx(5.2e-5).epsilon(0.2e-5 / 5.2e-5));
  CHECK(d_se == doctest::Approx(1.17e-2).epsilon(0.05e-2 / 1.17e-2));
}

TEST_CASE("nbody AG2: one-step accuracy of the drift-only predictor and of symplectic Euler") {
  const softened_newton f{};
  auto truth = two_body();
  integrate<leapfrog_kdk>(truth, f, 0.1, 1);
  auto drift = two_body();
  workspace<double> w;
  null_model{}.step(drift, 0.1, w);
  auto se = two_body();
  integrate<symplectic_euler>(se, f, 0.1, 1);
  const double a_drift = galaxy_accuracy(drift, truth);
  CHECK(a_drift == doctest::Approx(0.99298).epsilon(1e-5 / 0.99298));
  CHECK(galaxy_accuracy(se, truth) == doctest::Approx(a_drift).epsilon(1e-12));
}

// ---------------------------------------------------------------------------------------------
// AG3: Galaxy's Plummer sampler.

TEST_CASE("nbody AG3: Plummer sampler mass, centre of mass, momentum and speeds") {
  int zero_speeds = 0;
  for (std::size_t n : {20u, 30u, 50u, 200u}) {
    for (std::uint64_t seed = 0; seed < 10; ++seed) {
      const auto s = plummer_galaxy_sample(n, 100.0, 1.0, 1.0, seed);
      REQUIRE(s.p.size() == n);
      CHECK(std::abs(total_mass(s.p) - 100.0) <= 1e-12);
      const auto c = centre_of_mass(s.p);
      const auto q = total_momentum(s.p);
      CHECK(norm3(c[0], c[1], c[2]) <= 1e-12);
      CHECK(norm3(q[0], q[1], q[2]) <= 1e-12);
      for (std::size_t i = 0; i < n; ++i) {
        CHECK((s.speed[i] < s.escape_speed[i] || s.speed[i] == 0.0));
        zero_speeds += s.speed[i] == 0.0;
      }
    }
  }
  CHECK(zero_speeds == 0);  // σ = √(GM/a)/3 is far below every escape speed of a bound radius
  // Deterministic in the seed, different across seeds.
  CHECK(plummer_galaxy(50, 100, 1, 1, 7) == plummer_galaxy(50, 100, 1, 1, 7));
  CHECK(!(plummer_galaxy(50, 100, 1, 1, 7) == plummer_galaxy(50, 100, 1, 1, 8)));
}

TEST_CASE("nbody: Galaxy's Plummer sampler is far from equilibrium, the AHW sampler is not") {
  const softened_newton newton{1.0, 0.0};
  double galaxy = 0;
  for (std::uint64_t seed = 0; seed < 20; ++seed)
    galaxy += virial_ratio(plummer_galaxy(50, 100, 1, 1, seed), newton) / 20;
  CHECK(galaxy > 0.2);
  CHECK(galaxy < 0.6);
  const auto eq = plummer_equilibrium(4000, 100, 1, 1, 3);
  CHECK(std::abs(total_mass(eq) - 100.0) <= 1e-11);
  CHECK(virial_ratio(eq, newton) == doctest::Approx(1.0).epsilon(0.06));
}

// ---------------------------------------------------------------------------------------------
// Integrators and physics.

TEST_CASE("nbody: leapfrog is second order (halving dt quarters the energy error)") {
  // Eccentric two-body orbit (e ≈ 0.51), ε = 0, one period; error = max |E − E0| over the run.
  const softened_newton f{1.0, 0.0};
  const auto max_error = [&](double dt) {
    auto p = two_body();
    p.vy[0] *= 0.7;
    p.vy[1] *= 0.7;
    const double e0 = total_energy(p, f);
    const int steps = static_cast<int>(std::lround(4.0 / dt));
    workspace<double> w;
    double err = 0;
    for (int s = 0; s < steps; ++s) {
      leapfrog_kdk{}.step(p, f, dt, w);
      err = std::max(err, std::abs(total_energy(p, f) - e0));
    }
    return err;
  };
  const double e1 = max_error(0.004), e2 = max_error(0.002);
  // The next term of the error is O(dt⁴), i.e. relative O(dt²) ≈ 1e-4 here, plus the sampling of
  // the maximum on a grid of spacing dt near pericentre (relative ~ (ω_peri·dt)² ≈ 1e-3): 2 %.
  CHECK(e1 / e2 == doctest::Approx(4.0).epsilon(0.02));
  // Symplectic Euler and explicit Euler are first order: halving dt halves their error.
  const auto first_order = [&](auto integ) {
    const auto run = [&](double dt) {
      auto p = two_body();
      p.vy[0] *= 0.7;
      p.vy[1] *= 0.7;
      const double e0 = total_energy(p, f);
      integrate<decltype(integ)>(p, f, dt, static_cast<int>(std::lround(0.5 / dt)));
      return std::abs(total_energy(p, f) - e0);
    };
    return run(0.0004) / run(0.0002);
  };
  CHECK(first_order(symplectic_euler{}) == doctest::Approx(2.0).epsilon(0.02));
  CHECK(first_order(explicit_euler{}) == doctest::Approx(2.0).epsilon(0.02));
}

TEST_CASE("nbody: float particles integrate like double ones, to float precision") {
  const softened_newton f{};
  const auto pd = two_body();
  particles<float> pf(2);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto r = pd.row(i);
    pf.set_row(i, {float(r[0]), float(r[1]), float(r[2]), float(r[3]), float(r[4]), float(r[5]),
                   float(r[6])});
  }
  auto qd = pd;
  const auto cf = integrate<leapfrog_kdk>(pf, f, 0.1, 100);
  integrate<leapfrog_kdk>(qd, f, 0.1, 100);
  CHECK(cf.pair_evaluations == 400u);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(pf.x[i] == doctest::Approx(qd.x[i]).epsilon(1e-4));
    CHECK(pf.y[i] == doctest::Approx(qd.y[i]).epsilon(1e-4));
  }
  CHECK(double(total_energy(pf, f)) == doctest::Approx(total_energy(qd, f)).epsilon(1e-5));
}

TEST_CASE("nbody: Kepler's third law on circular two-body orbits (0.1 %)") {
  const softened_newton f{1.0, 0.0};
  for (double sep : {0.5, 1.0, 2.0}) {
    for (double mass : {2.0, 5.0}) {
      auto p = two_body(sep, mass, 1.0);
      const double expected = 2 * std::numbers::pi * std::sqrt(sep * sep * sep / mass);
      const double dt = expected / 2000;
      workspace<double> w;
      double angle = 0, prev = std::atan2(p.y[1] - p.y[0], p.x[1] - p.x[0]), t = 0, period = 0;
      for (int s = 0; s < 3000 && period == 0; ++s) {
        leapfrog_kdk{}.step(p, f, dt, w);
        const double a = std::atan2(p.y[1] - p.y[0], p.x[1] - p.x[0]);
        double d = a - prev;
        if (d > std::numbers::pi) d -= 2 * std::numbers::pi;
        if (d < -std::numbers::pi) d += 2 * std::numbers::pi;
        const double next = angle + std::abs(d);
        if (next >= 2 * std::numbers::pi)  // interpolate the crossing of one full turn
          period = t + dt * (2 * std::numbers::pi - angle) / (next - angle);
        angle = next;
        prev = a;
        t += dt;
      }
      CHECK(period == doctest::Approx(expected).epsilon(1e-3));
    }
  }
}

TEST_CASE("nbody: figure-eight data, energy, and return after one period at dt = 0.005") {
  const softened_newton newton{1.0, 0.0};
  auto p = figure_eight();
  CHECK(total_energy(p, newton) == doctest::Approx(figure_eight_energy).epsilon(1e-6));
  CHECK(total_energy(figure_eight_galaxy_compat(), newton) == doctest::Approx(2.274).epsilon(1e-3));
  const auto start = p;
  const double dt = 0.005;
  const int steps = static_cast<int>(figure_eight_period / dt);  // 1265 full steps
  workspace<double> w;
  integrate<leapfrog_kdk>(p, newton, dt, steps, w);
  leapfrog_kdk{}.step(p, newton, figure_eight_period - steps * dt, w);  // the rest of the period
  double worst = 0;
  for (std::size_t i = 0; i < 3; ++i)
    worst = std::max(worst, norm3(p.x[i] - start.x[i], p.y[i] - start.y[i], p.z[i] - start.z[i]));
  CHECK(worst < 1e-3);
  const auto q = total_momentum(p);
  CHECK(norm3(q[0], q[1], q[2]) < 1e-12);
}

// ---------------------------------------------------------------------------------------------
// SIMD pass == scalar reference.

TEST_CASE_TEMPLATE("nbody: SIMD force pass equals the scalar reference bit for bit", T, double,
                   float) {
  for (std::size_t n : {1u, 2u, 3u, 7u, 8u, 9u, 16u, 17u, 37u, 100u}) {
    for (auto exclusion : {pair_exclusion::by_index, pair_exclusion::by_distance}) {
      const auto src = plummer_galaxy(n, 100, 1, 1, n);
      particles<T> p(n);
      for (std::size_t i = 0; i < n; ++i) {
        const auto r = src.row(i);
        std::array<T, 7> rt{};
        for (std::size_t k = 0; k < 7; ++k) rt[k] = static_cast<T>(r[k]);
        p.set_row(i, rt);
      }
      if (n >= 3) p.set_row(2, p.row(1));  // a coincident pair: excluded by distance, NaN-free
      softened_newton f;
      f.exclusion = exclusion;
      std::vector<T> ax, ay, az, bx, by, bz;
      accelerations(p, f, ax, ay, az);
      accelerations_scalar(p, f, bx, by, bz);
      REQUIRE(ax.size() == n);
      bool same = true;
      for (std::size_t i = 0; i < n; ++i)
        same = same && ax[i] == bx[i] && ay[i] == by[i] && az[i] == bz[i];
      CHECK_MESSAGE(same, "n = ", n, ", exclusion = ", enum_name(exclusion));
    }
  }
}

namespace {
/// A minimal user force law (the "write your own" model of force_law): springs between all pairs,
/// a_i = κ Σ_j m_j (r_j − r_i), φ(r²) = κ r²/2. No exclusion members: excludes by index.
struct springs {
  double kappa = 1.0;
  template <class V>
  V pair_factor(const V& r2) const {
    return V(kappa) + r2 * V(0.0);
  }
  template <class V>
  V pair_potential(const V& r2) const {
    return V(0.5 * kappa) * r2;
  }
};
}  // namespace

TEST_CASE("nbody: a user force law runs through the SIMD pass, integrators and diagnostics") {
  static_assert(force_law<springs>);
  auto p = random_box(19, 3);
  std::vector<double> ax, ay, az, bx, by, bz;
  accelerations(p, springs{}, ax, ay, az);
  accelerations_scalar(p, springs{}, bx, by, bz);
  CHECK(ax == bx);
  CHECK(az == bz);
  const double e0 = total_energy(p, springs{});
  shift_to_centre_of_mass_frame(p);
  const double e1 = total_energy(p, springs{});
  CHECK(e1 < e0);             // the centre-of-mass motion carried kinetic energy
  const springs weak{0.001};  // ω = √(κ Σm) ≈ 0.15: 200 steps of 0.01 ≈ 0.05 periods
  const double before = total_energy(p, weak);
  const auto l0 = angular_momentum(p);
  integrate<leapfrog_kdk>(p, weak, 0.01, 200);
  CHECK(relative_energy_drift(before, total_energy(p, weak)) < 1e-6);
  CHECK(angular_momentum_drift(l0, angular_momentum(p)) < 1e-12);  // central forces
  CHECK_THROWS_AS((void)total_energy(p, weak, potential_kind::unsoftened), config_error);
}

TEST_CASE("nbody: exclusion rules and force-law config validation") {
  particles<double> p;  // two particles 1e-6 apart: r² = 1e-12 < 1e-10
  p.push_back({0, 0, 0, 0, 0, 0, 1});
  p.push_back({1e-6, 0, 0, 0, 0, 0, 1});
  softened_newton galaxy;
  galaxy.exclusion = pair_exclusion::by_distance;
  CHECK(accel(p, galaxy).x[0] == 0);
  CHECK(accel(p).x[0] > 0);
  softened_newton bad;
  bad.eps = -1;
  CHECK_THROWS_AS(validate(bad), config_error);
  CHECK_NOTHROW(validate(softened_newton{}));
  static_assert(force_law<softened_newton>);
  static_assert(force_law<softened_newton, float>);
  static_assert(integrator<leapfrog_kdk>);
  static_assert(!force_law<int>);
}

// ---------------------------------------------------------------------------------------------
// Initial conditions and CSV.

TEST_CASE("nbody: random box ranges and determinism") {
  const auto p = random_box(500, 11);
  for (std::size_t i = 0; i < p.size(); ++i) {
    CHECK((p.x[i] >= 0 && p.x[i] < 100 && p.y[i] >= 0 && p.z[i] < 100));
    CHECK((p.vx[i] >= -1 && p.vx[i] < 1 && p.vz[i] >= -1 && p.vz[i] < 1));
    CHECK((p.m[i] >= 0.5 && p.m[i] < 2.0));
  }
  CHECK(random_box(500, 11) == p);
  CHECK(random_box(20, 11).row(7) == p.row(7));  // a particle does not depend on n
  CHECK(!(random_box(500, 12) == p));
  CHECK_THROWS_AS(random_box(0, 1), config_error);
  CHECK_THROWS_AS(two_body(-1.0), config_error);
}

TEST_CASE("nbody: random_box golden values (the RNG layout is part of reproducibility)") {
  // Exact IEEE arithmetic only (no libm), so these hold on every platform; a change to the
  // counter layout, the stream id or the 53-bit construction makes this test fail loudly.
  const auto p = random_box(2, 42);
  CHECK(p.row(0) == std::array<double, 7>{0x1.7846f38ddbdbfp+6, 0x1.07b603793d3fcp+2,
                                          0x1.253c301f79d5fp+4, -0x1.10bec55ce6098p-1,
                                          0x1.6b251b404afa8p-2, 0x1.87b5768555d9cp-2,
                                          0x1.92d285a12721ep+0});
  CHECK(p.row(1) == std::array<double, 7>{0x1.823e98126510ap+0, 0x1.559bad50484c7p+6,
                                          0x1.865e3e7b1c3b8p+4, -0x1.8f3e1668c183p-2,
                                          -0x1.f147ac8590334p-2, -0x1.4758c64857598p-2,
                                          0x1.40f3988c814f8p-1});
}

TEST_CASE("nbody: CSV round trip is bit-exact") {
  auto p = plummer_galaxy(40, 100, 1, 1, 5);
  p.x[0] = 0.1;
  p.y[0] = -1e-300;
  p.z[0] = 1.0 / 3.0;
  p.vx[0] = 6.02214076e23;
  const auto text = to_csv(p);
  CHECK(text.rfind("x,y,z,vx,vy,vz,mass\n", 0) == 0);
  CHECK(parse_csv(text) == p);
  const auto dir = std::filesystem::temp_directory_path() / "dphys_test_nbody_csv";
  std::filesystem::create_directories(dir);
  const auto file = dir / "particles.csv";
  save_csv(p, file);
  CHECK(load_csv(file) == p);
  std::filesystem::remove_all(dir);
}

TEST_CASE("nbody: particles checkpoint round trip is bit-exact, a bad archive is refused") {
  auto p = plummer_galaxy(23, 100, 1, 1, 9);
  p.vz[4] = -0.0;
  state_writer w;
  {
    auto scope = w.scope("sim");
    p.save(w);
  }
  state_reader r(w.bytes());
  particles<double> q;
  {
    auto scope = r.scope("sim");
    q.load(r);
  }
  r.expect_end();
  CHECK(q == p);
  CHECK(std::signbit(q.vz[4]));
  state_writer bad;
  bad.put("x", std::vector<double>{1, 2});
  bad.put("y", std::vector<double>{1});
  state_reader rb(bad.bytes());
  particles<double> keep = p;
  CHECK_THROWS_AS(keep.load(rb), state_error);
  CHECK(keep == p);
}

TEST_CASE("nbody: malformed CSV is rejected with file, line, column and rule") {
  const auto error_of = [](const std::string& text) -> csv_error {
    try {
      (void)parse_csv(text, "ic.csv");
    } catch (const csv_error& e) {
      return e;
    }
    FAIL("no csv_error for: " << text);
    return {"", 0, 0, ""};
  };
  const std::string h = "x,y,z,vx,vy,vz,mass\n";
  auto e = error_of("x,y,z,vx,vy,vz,m\n1,2,3,4,5,6,7\n");
  CHECK(e.line == 1);
  CHECK(e.column == 7);
  CHECK(std::string(e.what()).find("ic.csv:1:7:") == 0);
  e = error_of(h + "1,2,3,4,5,6,7\n1,abc,3,4,5,6,7\n");
  CHECK(e.line == 3);
  CHECK(e.column == 2);
  CHECK(e.rule.find("y: 'abc' is not a number") != std::string::npos);
  e = error_of(h + "1,2,3,4,5,6\n");
  CHECK(e.line == 2);
  CHECK(e.rule.find("6 fields; expected 7") != std::string::npos);
  e = error_of(h + "1,2,3,4,5,6,7,8\n");
  CHECK(e.column == 8);
  e = error_of(h + "1,2,3,4,5,6,-1\n");
  CHECK(e.column == 7);
  CHECK(e.rule.find("negative") != std::string::npos);
  e = error_of(h + "1,2,inf,4,5,6,1\n");
  CHECK(e.rule.find("not finite") != std::string::npos);
  e = error_of(h + "1,2,1e999,4,5,6,1\n");
  CHECK(e.column == 3);
  e = error_of(h + "1,2,,4,5,6,1\n");
  CHECK(e.rule.find("empty field") != std::string::npos);
  e = error_of(h);
  CHECK(e.rule.find("no particles") != std::string::npos);
  e = error_of("");
  CHECK(e.rule.find("empty file") != std::string::npos);
  // Accepted variations: CRLF, spaces around fields, blank lines.
  const auto ok = parse_csv("x, y, z, vx, vy, vz, mass\r\n 1 ,2,3,4,5,6,7\r\n\r\n");
  REQUIRE(ok.size() == 1);
  CHECK(ok.row(0) == std::array<double, 7>{1, 2, 3, 4, 5, 6, 7});
  CHECK_THROWS_AS((void)load_csv("/nonexistent/dphys/particles.csv"), run::io_error);
}

// ---------------------------------------------------------------------------------------------
// Baselines and the benchmark suite (deterministic fields only).

TEST_CASE("nbody: baselines — direct is Galaxy's symplectic Euler, k-NN with k >= N-1 is direct") {
  const auto ic = plummer_galaxy(12, 100, 1, 1, 4);
  auto a = ic, b = ic, c = ic;
  workspace<double> wa, wb, wc;
  direct_baseline{}.step(a, 0.01, wa);
  integrate<symplectic_euler>(b, galaxy_direct_force(), 0.01, 1, wb);
  CHECK(a == b);
  knn_baseline{11}.step(c, 0.01, wc);
  for (std::size_t i = 0; i < ic.size(); ++i)
    CHECK(c.x[i] == doctest::Approx(a.x[i]).epsilon(1e-12));
  CHECK(wc.count.pair_evaluations == 12u * 11u);
  CHECK(wc.count.distance_evaluations == 12u * 11u);
  auto d = ic;
  workspace<double> wd;
  knn_baseline{3}.step(d, 0.01, wd);
  CHECK(wd.count.pair_evaluations == 12u * 3u);
  auto e = ic;
  null_model{}.step(e, 0.5, wd);
  CHECK(e.x[3] == ic.x[3] + ic.vx[3] * 0.5);
  CHECK(e.vx[3] == ic.vx[3]);
  static_assert(baseline<direct_baseline> && baseline<knn_baseline> && baseline<null_model>);
}

TEST_CASE("nbody: benchmark suite records, compat reference and cost scaling") {
  benchmark_config c;
  c.particle_counts = {10, 20};
  c.steps = 5;
  c.timing_repeats = 1;
  auto res = run_benchmark(c);
  REQUIRE(res.runs.size() == (1 + 1 + 2) * 3);
  CHECK(res.runs[0].problem == "two_body");
  CHECK(res.runs[0].baseline == "direct");
  CHECK(res.runs[0].accuracy_bench < 1.0);
  CHECK(res.runs[0].virial_ratio_initial == doctest::Approx(1.0));
  REQUIRE(res.scaling.size() == 3);
  CHECK(res.scaling[0].baseline == "direct");
  CHECK(res.scaling[0].exponent_cost == doctest::Approx(std::log(380.0 / 90.0) / std::log(2.0)));
  CHECK(std::isnan(res.scaling[2].exponent_cost));  // the null model costs nothing
  c.reference = bench_reference::galaxy_direct;
  res = run_benchmark(c);
  for (const auto& r : res.runs)
    if (r.baseline == "direct") {
      CHECK(r.rmse == 0.0);
      CHECK(r.accuracy_bench == 1.0);
    }
  c.steps = 0;
  CHECK_THROWS_AS(run_benchmark(c), config_error);
}
