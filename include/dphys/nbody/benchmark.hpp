// dphys/nbody/benchmark.hpp — Galaxy's benchmark suite (spec G7): problems × particle counts ×
// baselines, each run for `steps` steps and scored against a reference run: RMSE, accuracy_bench,
// energy drift (unsoftened), angular-momentum drift, virial ratios, deterministic cost and
// measured thread CPU time; plus least-squares scaling exponents. POSIX (clock_gettime). Config:
// benchmark_config (Hana-reflected). No extension points (the baselines are in baselines.hpp).
//
// Determinism: everything except `seconds` and `exponent_time` is a pure function of the config
//   and the build. Default reference = leapfrog with the crucible's law (by-index exclusion);
//   `reference = galaxy_direct` reproduces Galaxy's choice (direct_nbody scored against itself).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/core/config_check.hpp>
#include <dphys/core/enum_names.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/nbody/baselines.hpp>
#include <dphys/nbody/diagnostics.hpp>
#include <dphys/nbody/force.hpp>
#include <dphys/nbody/initial_conditions.hpp>
#include <dphys/nbody/integrators.hpp>
#include <dphys/nbody/particles.hpp>

namespace dphys::nbody {

enum class bench_problem { two_body, figure_eight, plummer };
constexpr auto enum_names(bench_problem) {
  return std::array{std::pair{bench_problem::two_body, std::string_view{"two_body"}},
                    std::pair{bench_problem::figure_eight, std::string_view{"figure_eight"}},
                    std::pair{bench_problem::plummer, std::string_view{"plummer"}}};
}

enum class bench_baseline { direct, knn, null };
constexpr auto enum_names(bench_baseline) {
  return std::array{std::pair{bench_baseline::direct, std::string_view{"direct"}},
                    std::pair{bench_baseline::knn, std::string_view{"knn"}},
                    std::pair{bench_baseline::null, std::string_view{"null"}}};
}

/// What the baselines are scored against.
enum class bench_reference {
  leapfrog,      ///< leapfrog KDK, softened_newton{G, eps}, by-index exclusion (dphys default)
  galaxy_direct  ///< compat: Galaxy's direct_nbody run (direct then scores 1 by construction)
};
constexpr auto enum_names(bench_reference) {
  return std::array{std::pair{bench_reference::leapfrog, std::string_view{"leapfrog"}},
                    std::pair{bench_reference::galaxy_direct, std::string_view{"galaxy_direct"}}};
}

struct benchmark_config {
  std::vector<bench_problem> problems{bench_problem::two_body, bench_problem::figure_eight,
                                      bench_problem::plummer};
  std::vector<int> particle_counts{10, 50, 100, 200};  ///< Plummer only (two_body 2, figure 3)
  std::vector<bench_baseline> baselines{bench_baseline::direct, bench_baseline::knn,
                                        bench_baseline::null};
  int steps = 100;                   ///< steps per run
  double dt = 0.1;                   ///< step size (Galaxy's crucible dt)
  double G = 1.0;                    ///< gravitational constant of every law and initial condition
  double eps = 0.01;                 ///< softening ε of every law
  int k = 10;                        ///< neighbours of the knn baseline
  double plummer_mass = 100.0;       ///< Plummer total mass M
  double plummer_radius = 1.0;       ///< Plummer scale radius a
  std::uint64_t seed = 42;           ///< Plummer seed
  bool plummer_equilibrium = false;  ///< true: AHW sampler instead of Galaxy's
  bool figure_eight_compat = false;  ///< true: Galaxy's (unbound) figure-eight data
  bench_reference reference = bench_reference::leapfrog;
  int timing_repeats = 3;  ///< run time = minimum over this many identical runs

  void check(config_checker<benchmark_config>& c) const {
    c(&benchmark_config::particle_counts).at_least(2).at_most(1 << 16);
    c(&benchmark_config::steps).at_least(1).at_most(1 << 24);
    c(&benchmark_config::dt).greater_than(0.0);
    c(&benchmark_config::G).greater_than(0.0);
    c(&benchmark_config::eps).at_least(0.0);
    c(&benchmark_config::k).at_least(1);
    c(&benchmark_config::plummer_mass).greater_than(0.0);
    c(&benchmark_config::plummer_radius).greater_than(0.0);
    c(&benchmark_config::timing_repeats).at_least(1).at_most(1000);
  }
};

}  // namespace dphys::nbody

DPHYS_ADAPT_STRUCT(dphys::nbody::benchmark_config, problems, particle_counts, baselines, steps, dt,
                   G, eps, k, plummer_mass, plummer_radius, seed, plummer_equilibrium,
                   figure_eight_compat, reference, timing_repeats);

namespace dphys::nbody {

/// One (problem, N, baseline) run.
struct benchmark_record {
  std::string problem, baseline, reference;
  std::size_t n = 0;
  int steps = 0;
  double dt = 0;
  double rmse = 0;                     ///< √(mean_i |x_i − x_ref,i|²) after `steps` steps
  double accuracy_bench = 0;           ///< 1 / (1 + √rmse) (Galaxy's formula)
  double energy_drift = 0;             ///< |E_f − E_0| / |E_0|, unsoftened potential
  double angular_momentum_drift = 0;   ///< |L_f − L_0| / |L_0| (NaN when L_0 = 0: figure-eight)
  double angular_momentum_change = 0;  ///< |L_f − L_0| (absolute)
  double virial_ratio_initial = 0;     ///< 2T/|U| (unsoftened) of the initial state
  double virial_ratio_final = 0;       ///< 2T/|U| (unsoftened) of the baseline's final state
  std::uint64_t pair_evaluations = 0;  ///< force-law evaluations of the run
  std::uint64_t distance_evaluations = 0;  ///< neighbour-ranking distances of the run
  double seconds = 0;  ///< thread CPU time of the `steps`-step run (min over repeats; measured,
                       ///< not reproducible)

  /// Deterministic cost: pair_evaluations + distance_evaluations.
  [[nodiscard]] double cost() const {
    return static_cast<double>(pair_evaluations) + static_cast<double>(distance_evaluations);
  }
};

/// Least-squares slopes over the particle counts of one (problem, baseline).
struct scaling_record {
  std::string problem, baseline;
  std::vector<std::size_t> n;
  double exponent_time = 0;  ///< slope of log(seconds) vs log(N)
  double exponent_cost = 0;  ///< slope of log(cost) vs log(N); NaN if some cost is 0
};

struct benchmark_result {
  std::vector<benchmark_record> runs;
  std::vector<scaling_record> scaling;
};

/// Slope of the least-squares line through (log x_i, log y_i); NaN with < 2 distinct x or any
/// non-positive value.
[[nodiscard]] inline double log_log_slope(const std::vector<double>& x,
                                          const std::vector<double>& y) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (x.size() != y.size() || x.size() < 2) return nan;
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!(x[i] > 0) || !(y[i] > 0)) return nan;
    mx += std::log(x[i]);
    my += std::log(y[i]);
  }
  mx /= static_cast<double>(x.size());
  my /= static_cast<double>(x.size());
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double dx = std::log(x[i]) - mx;
    sxy += dx * (std::log(y[i]) - my);
    sxx += dx * dx;
  }
  return sxx > 0 ? sxy / sxx : nan;
}

namespace detail {

/// CPU time of the calling thread (POSIX CLOCK_THREAD_CPUTIME_ID, ns resolution): unlike wall
/// clock, it does not count time the thread waited for a core on a shared machine.
inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

inline particles<double> bench_initial(const benchmark_config& c, bench_problem problem,
                                       std::size_t n) {
  switch (problem) {
    case bench_problem::two_body:
      return two_body(1.0, 2.0, c.G);
    case bench_problem::figure_eight:
      return c.figure_eight_compat ? figure_eight_galaxy_compat() : figure_eight();
    case bench_problem::plummer:
      return c.plummer_equilibrium
                 ? plummer_equilibrium(n, c.plummer_mass, c.plummer_radius, c.G, c.seed)
                 : plummer_galaxy(n, c.plummer_mass, c.plummer_radius, c.G, c.seed);
  }
  return {};
}

template <class B>
void run_steps(const B& b, particles<double>& p, double dt, int steps, workspace<double>& w) {
  for (int s = 0; s < steps; ++s) b.step(p, dt, w);
}

template <class B>
benchmark_record bench_one(const benchmark_config& c, const B& b, const particles<double>& ic,
                           const particles<double>& ref) {
  const softened_newton unsoftened{c.G, 0.0};
  benchmark_record r;
  r.baseline = std::string(B::name);
  r.n = ic.size();
  r.steps = c.steps;
  r.dt = c.dt;
  particles<double> p;
  double best = std::numeric_limits<double>::infinity();
  workspace<double> w;
  for (int rep = 0; rep < c.timing_repeats; ++rep) {
    p = ic;
    w.count = {};
    const double t0 = thread_cpu_seconds();
    run_steps(b, p, c.dt, c.steps, w);
    best = std::min(best, thread_cpu_seconds() - t0);
  }
  r.seconds = best;
  r.pair_evaluations = w.count.pair_evaluations;
  r.distance_evaluations = w.count.distance_evaluations;
  double s = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double dx = p.x[i] - ref.x[i], dy = p.y[i] - ref.y[i], dz = p.z[i] - ref.z[i];
    s += dx * dx + dy * dy + dz * dz;
  }
  r.rmse = std::sqrt(s / static_cast<double>(p.size()));
  r.accuracy_bench = 1.0 / (1.0 + std::sqrt(r.rmse));
  r.energy_drift = relative_energy_drift(total_energy(ic, unsoftened), total_energy(p, unsoftened));
  const auto l0 = angular_momentum(ic), l1 = angular_momentum(p);
  r.angular_momentum_drift = angular_momentum_drift(l0, l1);
  r.angular_momentum_change = std::hypot(l1[0] - l0[0], l1[1] - l0[1], l1[2] - l0[2]);
  r.virial_ratio_initial = virial_ratio(ic, unsoftened);
  r.virial_ratio_final = virial_ratio(p, unsoftened);
  return r;
}

}  // namespace detail

/// Runs the suite. Records come in the order problems × counts × baselines (config order);
/// scaling records for every (problem, baseline) with at least two particle counts.
/// Throws config_error if the config is invalid.
inline benchmark_result run_benchmark(const benchmark_config& c) {
  validate(c);
  benchmark_result out;
  const softened_newton crucible{c.G, c.eps};
  const direct_baseline direct{galaxy_direct_force(c.G, c.eps)};
  const knn_baseline knn{c.k, galaxy_direct_force(c.G, c.eps)};
  for (const bench_problem problem : c.problems) {
    std::vector<std::size_t> counts;
    if (problem == bench_problem::plummer) {
      for (int n : c.particle_counts) counts.push_back(static_cast<std::size_t>(n));
    } else {
      counts.push_back(problem == bench_problem::two_body ? 2 : 3);
    }
    const std::size_t first = out.runs.size();
    for (const std::size_t n : counts) {
      const particles<double> ic = detail::bench_initial(c, problem, n);
      particles<double> ref = ic;
      workspace<double> wr;
      if (c.reference == bench_reference::leapfrog)
        integrate<leapfrog_kdk>(ref, crucible, c.dt, c.steps, wr);
      else
        detail::run_steps(direct, ref, c.dt, c.steps, wr);
      for (const bench_baseline kind : c.baselines) {
        benchmark_record r;
        switch (kind) {
          case bench_baseline::direct:
            r = detail::bench_one(c, direct, ic, ref);
            break;
          case bench_baseline::knn:
            r = detail::bench_one(c, knn, ic, ref);
            break;
          case bench_baseline::null:
            r = detail::bench_one(c, null_model{}, ic, ref);
            break;
        }
        r.problem = std::string(enum_name(problem));
        r.reference = std::string(enum_name(c.reference));
        out.runs.push_back(std::move(r));
      }
    }
    if (counts.size() < 2) continue;
    for (const bench_baseline kind : c.baselines) {
      scaling_record s;
      s.problem = std::string(enum_name(problem));
      s.baseline = std::string(enum_name(kind));
      std::vector<double> n, t, cost;
      for (std::size_t i = first; i < out.runs.size(); ++i) {
        const auto& r = out.runs[i];
        if (r.baseline != s.baseline) continue;
        s.n.push_back(r.n);
        n.push_back(static_cast<double>(r.n));
        t.push_back(r.seconds);
        cost.push_back(r.cost());
      }
      s.exponent_time = log_log_slope(n, t);
      s.exponent_cost = log_log_slope(n, cost);
      out.scaling.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace dphys::nbody
