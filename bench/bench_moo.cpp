// dphys_bench_moo — quality benchmarks of the evolutionary strategies, one JSON object per line:
//   "moo_nsga2": NSGA-II on ZDT1/2/3/4/6 (the paper's dimensions) × seeds: hypervolume of the final
//       population's front and of an unbounded archive of every evaluated point vs the exact true
//       front's (reference (1.1, 1.1)), evaluations, wall time.
//   "moo_conv": GA and DE (rand/1/bin, best/1/bin) on sphere and Rastrigin, dims 10/40, with the
//       fields of ../shared/peers' pagmo_conv records (algo, func, dim, seed, pop, target, budget,
//       hit, evals_to_target, best_f, evals_used, stop, wall_s).
//   "moo_peer_ratio": when the peers' pagmo_conv.jsonl is found (--peers=<file>), per
//       (algo, func, dim) our median evaluations to 1e-8 and median best f against pagmo2's sga
//       (for ga) or de (for every DE variant; pagmo's `de` there is rand/1/exp, F 0.8, CR 0.9,
//       pop 40 — the same algorithm as our de_rand1exp with the same settings).
// Options: --key=value (see --help). Domains as the peers': sphere [−5, 5]^n, Rastrigin
// [−5.12, 5.12]^n; target f < 1e-8; budget budget_per_dim·n evaluations; a run also stops at
// wall_cap seconds (stop "wall_cap"). Fitness = −f (dphys maximises).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <numbers>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <dphys/core/json.hpp>

#include <dphys/core/config.hpp>
#include <dphys/problems/zdt.hpp>
#include <dphys/run/jsonl.hpp>
#include <dphys/search/de.hpp>
#include <dphys/search/ga.hpp>
#include <dphys/search/nsga2.hpp>
#include <dphys/search/pareto.hpp>

namespace {

using namespace dphys;
using clk = std::chrono::steady_clock;

struct bench_config {
  int seeds = 5;  ///< seeds 1..seeds
  std::vector<std::string> zdt{"zdt1", "zdt2", "zdt3", "zdt4", "zdt6"};
  int moo_pop = 100;
  int moo_generations = 250;
  std::vector<std::string> algos{"ga", "de_rand1bin", "de_best1bin", "de_rand1exp"};
  std::vector<std::string> funcs{"sphere", "rastrigin"};
  std::vector<int> dims{10, 40};
  int budget_per_dim = 100000;
  double target = 1e-8;
  double wall_cap = 60.0;  ///< seconds per single-objective run (the peers' --wall-cap)
  std::string peers = "../shared/peers/results/pagmo_conv.jsonl";

  void check(config_checker<bench_config>& c) const {
    c(&bench_config::seeds).at_least(1);
    c(&bench_config::moo_pop).at_least(4).satisfies([](int n) { return n % 2 == 0; }, "even");
    c(&bench_config::moo_generations).at_least(1);
    c(&bench_config::dims).at_least(2);
    c(&bench_config::budget_per_dim).at_least(1);
    c(&bench_config::target).greater_than(0.0);
    c(&bench_config::wall_cap).greater_than(0.0);
    c(&bench_config::zdt)
        .satisfies(
            [](const std::vector<std::string>& v) {
              return std::all_of(v.begin(), v.end(), [](const std::string& s) {
                return s == "zdt1" || s == "zdt2" || s == "zdt3" || s == "zdt4" || s == "zdt6";
              });
            },
            "each one of zdt1, zdt2, zdt3, zdt4, zdt6");
    c(&bench_config::algos)
        .satisfies(
            [](const std::vector<std::string>& v) {
              return std::all_of(v.begin(), v.end(), [](const std::string& s) {
                return s == "ga" || s == "de_rand1bin" || s == "de_best1bin" ||
                       s == "de_rand1exp" || s == "de_best1exp";
              });
            },
            "each one of ga, de_rand1bin, de_best1bin, de_rand1exp, de_best1exp");
    c(&bench_config::funcs)
        .satisfies(
            [](const std::vector<std::string>& v) {
              return std::all_of(v.begin(), v.end(), [](const std::string& s) {
                return s == "sphere" || s == "rastrigin";
              });
            },
            "each one of sphere, rastrigin");
  }
};

}  // namespace

BOOST_HANA_ADAPT_STRUCT(bench_config, seeds, zdt, moo_pop, moo_generations, algos, funcs, dims,
                        budget_per_dim, target, wall_cap, peers);

namespace {

double seconds_since(clk::time_point t0) {
  return std::chrono::duration<double>(clk::now() - t0).count();
}

double objective(const std::string& func, std::span<const double> x) {
  double s = 0.0;
  if (func == "sphere") {
    for (double v : x) s += v * v;
  } else {
    s = 10.0 * static_cast<double>(x.size());
    for (double v : x) s += v * v - 10.0 * std::cos(2.0 * std::numbers::pi * v);
  }
  return s;
}

problems::zdt_function zdt_of(const std::string& name) {
  for (const auto& [v, n] : enum_names(problems::zdt_function{}))
    if (n == name) return v;
  return problems::zdt_function::zdt1;
}

dphys::json run_nsga2(const bench_config& bc, const std::string& name, std::uint64_t seed) {
  const auto prob = problems::zdt::paper(zdt_of(name));
  const auto d = static_cast<std::size_t>(prob.dimension);
  const auto n = static_cast<std::size_t>(bc.moo_pop);
  const auto t0 = clk::now();
  search::nsga2<double> s({.pop_size = bc.moo_pop}, 2, prob.bounds(), seed);
  search::pareto_archive<double> archive(2, d);
  std::vector<double> obj(2 * n);
  for (int g = 0; g < bc.moo_generations; ++g) {
    const auto pop = s.ask();
    for (std::size_t i = 0; i < n; ++i)
      prob.fitness(pop.subspan(i * d, d), std::span<double>(obj).subspan(2 * i, 2));
    archive.add_all(pop, std::span<const double>(obj));
    s.tell(obj);
  }
  const double wall = seconds_since(t0);
  const std::vector<double> ref{-1.1, -1.1};
  const auto front = s.pareto_front();
  const double hv_pop =
      search::hypervolume(std::span<const double>(front), 2, std::span<const double>(ref));
  const double hv_arc = archive.hypervolume(std::span<const double>(ref));
  const double truth = prob.true_hypervolume();
  return {{"bench", "moo_nsga2"},
          {"algo", "nsga2"},
          {"func", name},
          {"dim", d},
          {"seed", seed},
          {"pop", n},
          {"generations", bc.moo_generations},
          {"evaluations", s.evaluations()},
          {"hv_population", hv_pop},
          {"hv_archive", hv_arc},
          {"hv_true", truth},
          {"hv_ratio_population", hv_pop / truth},
          {"hv_ratio_archive", hv_arc / truth},
          {"front_size", front.size() / 2},
          {"archive_size", archive.size()},
          {"non_finite", s.non_finite().total},
          {"wall_s", wall}};
}

template <class Strategy>
dphys::json run_single(const bench_config& bc, Strategy s, const std::string& algo,
                          const std::string& func, std::size_t dim, std::uint64_t seed) {
  const std::uint64_t budget = static_cast<std::uint64_t>(bc.budget_per_dim) * dim;
  const auto t0 = clk::now();
  std::vector<double> fit(s.population_size());
  std::uint64_t evals = 0, hit = 0;
  double best = std::numeric_limits<double>::infinity();
  std::string stop = "budget";
  while (evals < budget) {
    const auto pop = s.ask();
    for (std::size_t i = 0; i < s.population_size(); ++i) {
      const double f = objective(func, pop.subspan(i * dim, dim));
      fit[i] = -f;
      ++evals;
      best = std::min(best, f);
      if (hit == 0 && f < bc.target) hit = evals;
    }
    s.tell(fit);
    if (hit != 0) {
      stop = "target";
      break;
    }
    if (seconds_since(t0) > bc.wall_cap) {
      stop = "wall_cap";
      break;
    }
  }
  dphys::json rec{{"bench", "moo_conv"},
                     {"algo", algo},
                     {"func", func},
                     {"dim", dim},
                     {"seed", seed},
                     {"pop", s.population_size()},
                     {"target", bc.target},
                     {"budget", budget},
                     {"hit", hit != 0},
                     {"best_f", best},
                     {"evals_used", evals},
                     {"stop", stop},
                     {"wall_s", seconds_since(t0)}};
  rec["evals_to_target"] = hit != 0 ? dphys::json(hit) : dphys::json(nullptr);
  return rec;
}

dphys::json run_algo(const bench_config& bc, const std::string& algo, const std::string& func,
                        std::size_t dim, std::uint64_t seed) {
  const double hi = func == "rastrigin" ? 5.12 : 5.0;
  const auto b = search::box<double>::uniform(dim, -hi, hi);
  if (algo == "ga") return run_single(bc, search::ga<double>({}, b, seed), algo, func, dim, seed);
  const auto variant = algo == "de_best1bin"   ? search::de_variant::best_1_bin
                       : algo == "de_rand1exp" ? search::de_variant::rand_1_exp
                       : algo == "de_best1exp" ? search::de_variant::best_1_exp
                                               : search::de_variant::rand_1_bin;
  return run_single(bc, search::de<double>({.variant = variant}, b, seed), algo, func, dim, seed);
}

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct summary {
  int runs = 0, hits = 0;
  std::vector<double> evals_to_target, best_f;
};

void add(summary& s, const dphys::json& rec) {
  ++s.runs;
  s.best_f.push_back(rec.at("best_f").is_number() ? rec.at("best_f").get<double>() : std::nan(""));
  if (rec.at("hit").get<bool>()) {
    ++s.hits;
    s.evals_to_target.push_back(rec.at("evals_to_target").get<double>());
  }
}

dphys::json number_or_null(double v) {
  return std::isfinite(v) ? dphys::json(v) : dphys::json(nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bench_config bc;
    if (dphys::wants_help(argc, argv)) {
      std::cout << "usage: dphys_bench_moo [--key=value ...]\n" << describe(bc);
      return 0;
    }
    apply_overrides(bc, argc - 1, argv + 1);
    validate(bc);

    for (const auto& name : bc.zdt)
      for (int seed = 1; seed <= bc.seeds; ++seed)
        std::cout << run_nsga2(bc, name, static_cast<std::uint64_t>(seed)).dump() << std::endl;

    std::map<std::tuple<std::string, std::string, int>, summary> ours;
    for (const auto& func : bc.funcs)
      for (int dim : bc.dims)
        for (const auto& algo : bc.algos)
          for (int seed = 1; seed <= bc.seeds; ++seed) {
            const auto rec = run_algo(bc, algo, func, static_cast<std::size_t>(dim),
                                      static_cast<std::uint64_t>(seed));
            std::cout << rec.dump() << std::endl;
            add(ours[{algo, func, dim}], rec);
          }

    if (!std::filesystem::exists(bc.peers)) {
      std::cerr << "dphys_bench_moo: peer results '" << bc.peers
                << "' not found; no moo_peer_ratio records (pass --peers=<pagmo_conv.jsonl>)\n";
      return 0;
    }
    std::map<std::tuple<std::string, std::string, int>, summary> peer;
    for (const auto& rec : run::read_jsonl(bc.peers))
      if (rec.value("bench", "") == "pagmo_conv")
        add(peer[{rec.at("algo").get<std::string>(), rec.at("func").get<std::string>(),
                  rec.at("dim").get<int>()}],
            rec);
    for (const auto& [key, s] : ours) {
      const auto& [algo, func, dim] = key;
      const std::string peer_algo = algo == "ga" ? "sga" : "de";
      const auto it = peer.find({peer_algo, func, dim});
      if (it == peer.end()) continue;
      const summary& p = it->second;
      const double e = median(s.evals_to_target), pe = median(p.evals_to_target);
      const double bf = median(s.best_f), pbf = median(p.best_f);
      std::cout << dphys::json{{"bench", "moo_peer_ratio"},
                                  {"algo", algo},
                                  {"peer_algo", "pagmo2 " + peer_algo},
                                  {"func", func},
                                  {"dim", dim},
                                  {"runs", s.runs},
                                  {"hits", s.hits},
                                  {"peer_runs", p.runs},
                                  {"peer_hits", p.hits},
                                  {"median_evals_to_target", number_or_null(e)},
                                  {"peer_median_evals_to_target", number_or_null(pe)},
                                  {"evals_ratio", number_or_null(e / pe)},
                                  {"median_best_f", number_or_null(bf)},
                                  {"peer_median_best_f", number_or_null(pbf)},
                                  {"best_f_ratio", number_or_null(bf / pbf)}}
                       .dump()
                << std::endl;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "dphys_bench_moo: " << e.what() << '\n';
    return 1;
  }
}
