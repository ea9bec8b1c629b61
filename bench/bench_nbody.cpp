// dphys_bench_nbody — N-body benchmarks, one JSON object per line.
//   --mode=force (default): pair interactions per second of the direct O(N²) force pass
//     (softened_newton, double), the xsimd pass `accelerations` against the plain scalar loop
//     `accelerations_scalar` in the same run, for each N of --n (default 64,256,1024,4096); also
//     checks that the two agree bit for bit. Times are thread CPU time (robust on a shared
//     machine), best of --reps alternating timings.
//   --mode=suite: Galaxy's benchmark suite (spec G7) — one record per (problem, N, baseline) and
//     one per scaling fit; options of dphys::nbody::benchmark_config as --suite.<key>=... .
// --help lists every option.
#include <algorithm>
#include <array>
#include <cstdint>
#include <ctime>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/hana/adapt_struct.hpp>
#include <dphys/core/json.hpp>

#include <dphys/core/config.hpp>
#include <dphys/nbody/benchmark.hpp>
#include <dphys/nbody/force.hpp>
#include <dphys/nbody/initial_conditions.hpp>

namespace {

enum class bench_mode { force, suite };
constexpr auto enum_names(bench_mode) {
  return std::array{std::pair{bench_mode::force, std::string_view{"force"}},
                    std::pair{bench_mode::suite, std::string_view{"suite"}}};
}

struct nbody_bench_config {
  bench_mode mode = bench_mode::force;
  std::vector<int> n{64, 256, 1024, 4096};  ///< force mode: particle counts
  double min_seconds = 0.2;  ///< force mode: each timing repeats the pass for at least this long
  int reps = 5;              ///< force mode: best of this many (alternating) timings
  std::uint64_t seed = 1;    ///< force mode: random_box seed
  dphys::nbody::benchmark_config suite;

  void check(dphys::config_checker<nbody_bench_config>& c) const {
    c(&nbody_bench_config::n).at_least(2).at_most(1 << 16);
    c(&nbody_bench_config::min_seconds).at_least(0.0);
    c(&nbody_bench_config::reps).at_least(1);
  }
};

/// CPU time of the calling thread (POSIX CLOCK_THREAD_CPUTIME_ID): time the thread was not
/// running (other jobs on a shared machine) does not count.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

/// Mean thread-CPU time of one call of f: runs of 1, 2, 4, ... calls (the clock is read only
/// around a run) until a run lasts at least min_seconds.
template <class F>
double time_per_call(F&& f, double min_seconds) {
  for (long calls = 1;; calls *= 2) {
    const double t0 = thread_cpu_seconds();
    for (long c = 0; c < calls; ++c) f();
    const double elapsed = thread_cpu_seconds() - t0;
    if (elapsed >= min_seconds || calls >= (1L << 40)) return elapsed / static_cast<double>(calls);
  }
}

void run_force(const nbody_bench_config& bc) {
  using namespace dphys::nbody;
  using B = xsimd::batch<double>;
  const softened_newton f{};
  for (int n : bc.n) {
    const auto p = random_box(static_cast<std::size_t>(n), bc.seed);
    std::vector<double> ax, ay, az, bx, by, bz;
    // SIMD and scalar timings alternate, best of `reps` each, so a load change on a shared
    // machine hits both alike.
    double t_simd = 1e300, t_scalar = 1e300;
    for (int r = 0; r < bc.reps; ++r) {
      t_simd =
          std::min(t_simd, time_per_call([&] { accelerations(p, f, ax, ay, az); }, bc.min_seconds));
      t_scalar = std::min(
          t_scalar, time_per_call([&] { accelerations_scalar(p, f, bx, by, bz); }, bc.min_seconds));
    }
    const bool identical = ax == bx && ay == by && az == bz;
    const auto pairs = static_cast<double>(pair_evaluations(p.size()));
    dphys::json j{{"bench", "nbody_force"},
                     {"n", n},
                     {"type", "double"},
                     {"arch", xsimd::default_arch::name()},
                     {"lanes", B::size},
                     {"simd_pairs_per_s", pairs / t_simd},
                     {"scalar_pairs_per_s", pairs / t_scalar},
                     {"ratio", t_scalar / t_simd},
                     {"simd_s_per_pass", t_simd},
                     {"scalar_s_per_pass", t_scalar},
                     {"clock", "thread_cpu"},
                     {"bit_identical", identical}};
    std::cout << j.dump() << std::endl;
  }
}

void run_suite(const nbody_bench_config& bc) {
  using namespace dphys::nbody;
  const auto result = run_benchmark(bc.suite);
  for (const auto& r : result.runs) {
    dphys::json j{{"bench", "nbody_suite"},
                     {"problem", r.problem},
                     {"n", r.n},
                     {"baseline", r.baseline},
                     {"reference", r.reference},
                     {"steps", r.steps},
                     {"dt", r.dt},
                     {"rmse", r.rmse},
                     {"accuracy_bench", r.accuracy_bench},
                     {"energy_drift", r.energy_drift},
                     {"angular_momentum_drift", r.angular_momentum_drift},
                     {"angular_momentum_change", r.angular_momentum_change},
                     {"virial_ratio_initial", r.virial_ratio_initial},
                     {"virial_ratio_final", r.virial_ratio_final},
                     {"pair_evaluations", r.pair_evaluations},
                     {"distance_evaluations", r.distance_evaluations},
                     {"cost", r.cost()},
                     {"seconds", r.seconds}};
    std::cout << j.dump() << std::endl;
  }
  for (const auto& s : result.scaling) {
    dphys::json j{{"bench", "nbody_scaling"},         {"problem", s.problem},
                     {"baseline", s.baseline},           {"n", s.n},
                     {"exponent_time", s.exponent_time}, {"exponent_cost", s.exponent_cost}};
    std::cout << j.dump() << std::endl;
  }
}

}  // namespace

BOOST_HANA_ADAPT_STRUCT(nbody_bench_config, mode, n, min_seconds, reps, seed, suite);

int main(int argc, char** argv) {
  try {
    nbody_bench_config bc;
    if (dphys::wants_help(argc, argv)) {
      std::cout << "dphys_bench_nbody [--key=value ...]\n" << dphys::describe(bc);
      return 0;
    }
    dphys::apply_overrides(bc, argc - 1, argv + 1);
    dphys::validate(bc);
    if (bc.mode == bench_mode::force)
      run_force(bc);
    else
      run_suite(bc);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "dphys_bench_nbody: " << e.what() << '\n';
    return 2;
  }
}
