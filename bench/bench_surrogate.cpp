// dphys_bench_surrogate — candidate programs evaluated per second by the surrogate crucible (issue 5),
// one JSON object per line: for each particle count and program, the crucible's evaluate() repeated
// for at least --min_seconds of thread CPU time. Scenes: Galaxy's Plummer sampler (seed 42) with N
// particles, one scene per evaluation; modes one_step (Galaxy's evolution fitness) and multi_step
// (--steps leapfrog-vs-surrogate steps). Programs: Newtonian gravity as the interpreter runs it, a
// softened variant, a k-nearest and a cutoff neighbour rule (the shapes evolution produces).
#include <dphys/core/config.hpp>
#include <dphys/nbody/initial_conditions.hpp>
#include <dphys/surrogate/crucible.hpp>
#include <dphys/surrogate/text.hpp>

#include <dphys/core/json.hpp>

#include <ctime>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace {

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct bench_config {
  std::vector<std::uint64_t> n{10, 50, 200};  ///< particle counts
  int steps = 100;                             ///< multi_step rollout length
  double min_seconds = 0.3;                    ///< CPU time per measurement
  bool multi_step = true;                      ///< also measure multi_step mode

  void check(dphys::config_checker<bench_config>& c) const {
    c(&bench_config::steps).in_range(1, 100000);
    c(&bench_config::min_seconds).at_least(0.0).finite();
  }
};

const std::vector<std::pair<std::string, std::string>> programs = {
    {"newton", "const G = 1\nconst eps2 = 1e-04\nneighbours: all\nkernel: G * m_j * pow(r2 + eps2, -1.5)\n"
               "update: leapfrog(kick=1)\n"},
    {"newton_discovered", "neighbours: all\nkernel: m_j / (r2 * r)\nupdate: leapfrog(kick=1)\n"},
    {"knn8", "neighbours: knn(k=8)\nkernel: m_j * pow(r2 + 0.01, -1.5)\nupdate: leapfrog(kick=1)\n"},
    {"cutoff", "neighbours: cutoff(radius=2)\nkernel: m_j * pow(r2 + 0.01, -1.5)\n"
               "update: symplectic_euler\n"},
};

}  // namespace

BOOST_HANA_ADAPT_STRUCT(bench_config, n, steps, min_seconds, multi_step);

int main(int argc, char** argv) {
  using namespace dphys;
  try {
    bench_config bc;
    if (dphys::wants_help(argc, argv)) {
      std::cout << "usage: dphys_bench_surrogate [--key=value ...]\n" << describe(bc);
      return 0;
    }
    apply_overrides(bc, argc - 1, argv + 1);
    validate(bc);
    std::vector<surrogate::crucible_mode> modes{surrogate::crucible_mode::one_step};
    if (bc.multi_step) modes.push_back(surrogate::crucible_mode::multi_step);
    for (const auto mode : modes)
      for (const std::uint64_t n : bc.n) {
        surrogate::crucible_config cc;
        cc.mode = mode;
        cc.steps = bc.steps;
        const surrogate::surrogate_crucible crucible(
            cc, {nbody::plummer_galaxy(static_cast<std::size_t>(n))});
        for (const auto& [name, text] : programs) {
          const auto p = surrogate::parse_program(text);
          std::uint64_t evaluations = 0, kernel_evaluations = 0;
          surrogate::evaluation last;
          const double t0 = thread_cpu_seconds();
          double t = 0;
          do {
            last = crucible.evaluate(p);
            ++evaluations;
            kernel_evaluations += last.kernel_evaluations;
            t = thread_cpu_seconds() - t0;
          } while (t < bc.min_seconds);
          dphys::json j{{"bench", "surrogate_crucible"},
                           {"mode", mode == surrogate::crucible_mode::one_step ? "one_step" : "multi_step"},
                           {"n", n},
                           {"steps", mode == surrogate::crucible_mode::one_step ? 1 : bc.steps},
                           {"program", name},
                           {"size", last.size},
                           {"evaluations", evaluations},
                           {"cpu_s", t},
                           {"programs_per_s", static_cast<double>(evaluations) / t},
                           {"kernel_evaluations_per_s", static_cast<double>(kernel_evaluations) / t},
                           {"accuracy", last.accuracy},
                           {"cost", last.cost},
                           {"rejected", last.rejected()}};
          std::cout << j.dump() << std::endl;
        }
      }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "dphys_bench_surrogate: error: " << e.what() << '\n';
    return 2;
  }
}
