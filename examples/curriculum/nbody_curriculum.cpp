// dphys_nbody_curriculum — a surprise-driven curriculum over N-body initial conditions (box,
// Plummer, Kepler, figure eight) for surrogate evaluation: a (μ + λ) search over the constants
// of a softened-gravity program, scored each generation by surrogate_curriculum on scenarios
// drawn from the curriculum and replayed where the elite was most surprised, per policy and
// seed. Every (policy, seed) run writes a run directory (config.json, manifest.json,
// generations.jsonl with the curriculum record of each generation, replay.jsonl, catalog.jsonl,
// best_program.txt, best_genome.npy = the elite's constants); held-out skill per template of the
// final elite is printed and written to <out>/comparison.json.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include <boost/hana/adapt_struct.hpp>
#include <fmt/format.h>

#include <dphys/core/config.hpp>
#include <dphys/curiosity/surrogate_curriculum.hpp>
#include <dphys/run/build_info.hpp>
#include <dphys/run/manifest.hpp>
#include <dphys/run/run_dir.hpp>
#include <dphys/surrogate/text.hpp>
#include <dphys/surrogate/variation.hpp>
#include <dphys/version.hpp>

namespace ex {

using namespace dphys;

struct nbody_curriculum_example_config {
  std::vector<std::uint64_t> seeds{0, 1, 2, 3, 4, 5, 6, 7};
  int generations = 30;
  int parents = 2;    ///< μ: elites kept each generation
  int offspring = 6;  ///< λ: constant perturbations of the elites per generation
  /// The starting program (text, dphys/surrogate/text.hpp): deliberately wrong constants.
  std::string start = "const G = 0.6\nconst eps2 = 0.01\nkernel: G * m_j * pow(r2 + eps2, -1.5)";
  int test_scenarios = 4;  ///< held-out scenarios per template for the final score
  std::uint64_t test_seed = 777;
  std::vector<curiosity::scenario_policy> policies{curiosity::scenario_policy::uniform,
                                                   curiosity::scenario_policy::surprise_weighted,
                                                   curiosity::scenario_policy::curiosity};
  std::string out = "runs/nbody_curriculum";
  curiosity::surrogate_curriculum_config curriculum{};
  surrogate::crucible_config crucible = [] {
    surrogate::crucible_config c;
    c.mode = surrogate::crucible_mode::multi_step;
    c.dt = 0.02;
    c.steps = 20;
    c.fitness = surrogate::fitness_kind::skill;
    c.size_penalty = false;
    return c;
  }();
  double constant_sigma = 0.2;  ///< relative step of the constant perturbations

  void check(config_checker<nbody_curriculum_example_config>& c) const {
    using C = nbody_curriculum_example_config;
    c(&C::seeds).satisfies([](const auto& s) { return !s.empty(); }, "must not be empty");
    c(&C::generations).at_least(1);
    c(&C::parents).at_least(1);
    c(&C::offspring).at_least(1);
    c(&C::test_scenarios).at_least(1);
    c(&C::policies).satisfies([](const auto& p) { return !p.empty(); }, "must not be empty");
    c(&C::constant_sigma).greater_than(0.0).finite();
  }
};

}  // namespace ex

BOOST_HANA_ADAPT_STRUCT(ex::nbody_curriculum_example_config, seeds, generations, parents, offspring,
                        start, test_scenarios, test_seed, policies, out, curriculum, crucible,
                        constant_sigma);

namespace ex {

struct arm_result {
  std::vector<double> skill;  ///< held-out skill per template
  std::vector<std::uint64_t> counts;
  std::string best;
  [[nodiscard]] double mean_skill() const {
    return std::accumulate(skill.begin(), skill.end(), 0.0) / static_cast<double>(skill.size());
  }
};

/// Held-out skill 1/(1 + relative_error) of `p` per template, averaged over test scenarios that
/// no training draw uses (seeds keyed by the test seed).
std::vector<double> held_out(const curiosity::surrogate_curriculum& c, const surrogate::program& p,
                             int scenarios, std::uint64_t test_seed) {
  std::vector<double> out;
  for (std::size_t t = 0; t < c.sampler().size(); ++t) {
    double s = 0.0;
    for (int i = 0; i < scenarios; ++i) {
      const auto e =
          c.crucible_of(c.scenario_of(t, curiosity::instance_seed(test_seed, "held-out", t,
                                                                  static_cast<std::uint64_t>(i))))
              .evaluate(p);
      s += e.rejected() ? 0.0 : 1.0 / (1.0 + e.relative_error);
    }
    out.push_back(s / scenarios);
  }
  return out;
}

arm_result run_arm(const nbody_curriculum_example_config& cfg, curiosity::scenario_policy policy,
                   std::uint64_t seed, const std::filesystem::path& dir,
                   const std::vector<std::string>& argv) {
  auto ccfg = cfg.curriculum;
  ccfg.policy = policy;
  ccfg.seed = seed;
  curiosity::surrogate_curriculum curriculum(curiosity::default_nbody_templates(), cfg.crucible,
                                             ccfg);
  surrogate::variation_config vc;
  vc.constant_sigma = cfg.constant_sigma;

  auto rd = run::run_directory::create(dir);
  auto conf = to_json(cfg);
  conf["seeds"] = {seed};
  conf["curriculum"]["policy"] = std::string(enum_name(policy));
  conf["curriculum"]["seed"] = seed;
  conf["out"] = dir.string();
  rd.write_config(conf);
  run::manifest_info info;
  info.library_version = std::string(version_string);
  info.seed = seed;
  info.threads = 1;
  info.simd_arch = std::string(simd::arch_name<simd::native>());
  info.command_line = argv;
  info.build_flags = std::string(run::build_flags);
  info.git_describe = std::string(run::git_describe);
  info.extra = {{"experiment", "nbody_curriculum"}, {"policy", std::string(enum_name(policy))}};
  auto manifest = run::make_manifest(info);
  rd.write_manifest(manifest);

  std::vector<surrogate::program> parents(static_cast<std::size_t>(cfg.parents),
                                          surrogate::parse_program(cfg.start));
  for (int g = 0; g < cfg.generations; ++g) {
    std::vector<surrogate::program> pop = parents;
    for (int k = 0; k < cfg.offspring; ++k) {
      surrogate::draw_stream d(seed, surrogate::variation_stream, static_cast<std::uint32_t>(g),
                               static_cast<std::uint32_t>(k));
      pop.push_back(surrogate::constant_perturbation(
          parents[static_cast<std::size_t>(k) % parents.size()], vc, d));
    }
    const auto ev = curriculum.evaluate(pop, static_cast<std::uint32_t>(g));
    std::vector<std::size_t> order(pop.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return ev[a].fitness > ev[b].fitness; });
    for (std::size_t i = 0; i < parents.size(); ++i) parents[i] = pop[order[i]];
    double mean = 0.0;
    for (const auto& e : ev) mean += e.fitness / static_cast<double>(ev.size());
    rd.generations().append({{"generation", g},
                             {"best_fitness", ev[order[0]].fitness},
                             {"mean_fitness", mean},
                             {"best_program", surrogate::print_program(parents[0])},
                             {"curriculum", curriculum.last_record()}});
  }
  arm_result res;
  res.skill = held_out(curriculum, parents[0], cfg.test_scenarios, cfg.test_seed);
  res.counts.assign(curriculum.template_counts().begin(), curriculum.template_counts().end());
  res.best = surrogate::print_program(parents[0]);
  curriculum.replay().save_jsonl(rd.file("replay.jsonl"));
  rd.add_artifact("replay.jsonl");
  curriculum.sampler().save_catalog_jsonl(rd.file("catalog.jsonl"));
  rd.add_artifact("catalog.jsonl");
  run::write_file_atomic(rd.file("best_program.txt"), res.best + "\n");
  rd.add_artifact("best_program.txt");
  std::vector<float> constants;
  for (const auto& c : parents[0].constants) constants.push_back(static_cast<float>(c.value));
  if (constants.empty()) constants.push_back(0.0f);
  rd.save_best_genome(constants, {constants.size()});
  rd.finalize(manifest);
  return res;
}

}  // namespace ex

int main(int argc, char** argv) {
  using namespace dphys;
  std::vector<std::string> command_line(argv, argv + argc);
  try {
    ex::nbody_curriculum_example_config cfg;
    if (dphys::wants_help(argc, argv)) {
      fmt::print("usage: dphys_nbody_curriculum [--key=value ...]   (defaults shown)\n{}",
                 describe(cfg));
      return 0;
    }
    apply_overrides(cfg, argc - 1, argv + 1);
    validate(cfg);
    const auto names = [] {
      std::vector<std::string> v;
      for (const auto& t : curiosity::default_nbody_templates()) v.push_back(t.id);
      return v;
    }();
    fmt::print(
        "dphys {} — N-body curriculum for surrogate evaluation: templates {}; {} policies, "
        "{} seeds, {} generations of {} + {} programs, {} scenarios per generation\n",
        version_string, fmt::join(names, ", "), cfg.policies.size(), cfg.seeds.size(),
        cfg.generations, cfg.parents, cfg.offspring, cfg.curriculum.scenarios);
    const std::filesystem::path out(cfg.out);
    fmt::print("{:>5} {:>18} {:>10}   {:<48} {:<18} {}\n", "seed", "policy", "held-out",
               "held-out skill per template", "scenarios/template", "elite");
    dphys::json rows = dphys::json::array();
    std::vector<std::vector<double>> mean_skill(cfg.policies.size());
    for (auto seed : cfg.seeds)
      for (std::size_t p = 0; p < cfg.policies.size(); ++p) {
        const std::string name(enum_name(cfg.policies[p]));
        const auto r = ex::run_arm(cfg, cfg.policies[p], seed,
                                   out / name / fmt::format("seed{}", seed), command_line);
        std::vector<std::string> per;
        for (std::size_t t = 0; t < names.size(); ++t)
          per.push_back(fmt::format("{} {:.3f}", names[t], r.skill[t]));
        std::string elite = r.best;
        std::replace(elite.begin(), elite.end(), '\n', ' ');
        fmt::print("{:>5} {:>18} {:>10.4f}   {:<48} {:<18} {}\n", seed, name, r.mean_skill(),
                   fmt::format("{}", fmt::join(per, " ")),
                   fmt::format("{}", fmt::join(r.counts, " ")), elite);
        std::fflush(stdout);
        mean_skill[p].push_back(r.mean_skill());
        rows.push_back({{"seed", seed},
                        {"policy", name},
                        {"held_out_skill", r.mean_skill()},
                        {"skill_per_template", r.skill},
                        {"scenarios_per_template", r.counts},
                        {"elite", r.best}});
      }
    dphys::json summary = dphys::json::object();
    fmt::print("\nmean held-out skill over {} seeds:", cfg.seeds.size());
    for (std::size_t p = 0; p < cfg.policies.size(); ++p) {
      const double m = std::accumulate(mean_skill[p].begin(), mean_skill[p].end(), 0.0) /
                       static_cast<double>(mean_skill[p].size());
      summary[std::string(enum_name(cfg.policies[p]))] = m;
      fmt::print("  {} {:.4f}", enum_name(cfg.policies[p]), m);
    }
    fmt::print("\n");
    std::filesystem::create_directories(out);
    run::write_file_atomic(out / "comparison.json",
                           dphys::json{{"templates", names},
                                          {"test_scenarios", cfg.test_scenarios},
                                          {"runs", rows},
                                          {"mean_held_out_skill", summary}}
                                   .dump(2) +
                               "\n");
    fmt::print("comparison: {}\n", (out / "comparison.json").string());
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "dphys_nbody_curriculum: error: {}\n", e.what());
    return 2;
  }
}
