// dphys_curriculum — surprise-driven curricula (surprise-weighted rungs + replay; curiosity
// selector + replay) vs uniform rung sampling over koki2's ladder, at equal compute (the same
// budget of alive agent-steps per run), over several seeds. Every (policy, seed) run writes a run directory (config.json, generations.jsonl with the curriculum
// record of each generation, replay.jsonl, catalog.jsonl, best_genome.npy = final ES mean,
// manifest.json); the comparison table is printed and written to <out>/comparison.json.
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <boost/hana/adapt_struct.hpp>
#include <fmt/format.h>

#include <dphys/core/config.hpp>
#include <dphys/curiosity/curriculum_crucible.hpp>
#include <dphys/genomes/direct.hpp>
#include <dphys/run/build_info.hpp>
#include <dphys/run/evolve.hpp>
#include <dphys/run/manifest.hpp>
#include <dphys/run/run_dir.hpp>
#include <dphys/search/openai_es.hpp>
#include <dphys/version.hpp>

namespace ex {

using namespace dphys;

struct curriculum_example_config {
  std::vector<std::uint64_t> seeds{0, 1, 2, 3, 4, 5, 6, 7};
  std::uint64_t budget = 12'000'000;  ///< alive agent-steps per run (every policy)
  int max_generations = 100000;       ///< safety cap
  int test_episodes = 128;            ///< held-out episodes per rung for the final score
  std::uint64_t test_seed = 777;
  /// Compared policies; the first is the baseline of the paired differences.
  std::vector<curiosity::scenario_policy> policies{curiosity::scenario_policy::uniform,
                                                   curiosity::scenario_policy::surprise_weighted,
                                                   curiosity::scenario_policy::curiosity};
  int threads = 1;
  std::string out = "runs/curriculum";
  curiosity::curriculum_crucible_config curriculum{};
  agents::snn_config agent{};
  plasticity::eligibility_trace_config plasticity{};
  crucibles::fitness_config fitness{};
  int steps = -1;  ///< horizon; < 0: the environment's max_steps
  search::openai_es_config es{};

  void check(config_checker<curriculum_example_config>& c) const {
    c(&curriculum_example_config::seeds)
        .satisfies([](const auto& s) { return !s.empty(); }, "must not be empty");
    c(&curriculum_example_config::budget).at_least(1);
    c(&curriculum_example_config::policies)
        .satisfies([](const auto& p) { return !p.empty(); }, "must not be empty");
    c(&curriculum_example_config::max_generations).at_least(1);
    c(&curriculum_example_config::test_episodes).at_least(1);
    c(&curriculum_example_config::threads).at_least(0);
    c(&curriculum_example_config::steps).at_least(-1);
  }
};

}  // namespace ex

BOOST_HANA_ADAPT_STRUCT(ex::curriculum_example_config, seeds, budget, max_generations,
                        test_episodes, test_seed, policies, threads, out, curriculum, agent, plasticity,
                        fitness, steps, es);

namespace ex {

struct arm_result {
  std::vector<curiosity::rung_score> scores;
  std::uint64_t agent_steps = 0;
  std::uint32_t generations = 0;
  std::vector<std::uint64_t> rung_counts;
  [[nodiscard]] double mean_success() const {
    double s = 0;
    for (const auto& r : scores) s += r.success_rate;
    return s / static_cast<double>(scores.size());
  }
  [[nodiscard]] double mean_fitness() const {
    double s = 0;
    for (const auto& r : scores) s += r.mean_fitness;
    return s / static_cast<double>(scores.size());
  }
};

arm_result run_arm(const curriculum_example_config& cfg, curiosity::scenario_policy policy,
                   std::uint64_t seed, const std::filesystem::path& dir,
                   const std::vector<std::string>& argv) {
  const auto rungs = curiosity::koki2_ladder();
  const auto topo = agents::topology::make(cfg.agent, seed);
  agents::snn net(cfg.agent, topo, envs::chemotaxis::obs_dim, envs::chemotaxis::num_actions);
  crucibles::rollout_config rc;
  rc.steps = cfg.steps;
  rc.threads = cfg.threads;
  crucibles::chemotaxis_rollout prototype(rungs.front().env, net, cfg.plasticity, cfg.fitness, rc);
  auto ccfg = cfg.curriculum;
  ccfg.policy = policy;
  ccfg.seed = seed;
  curiosity::curriculum_crucible crucible(rungs, prototype, ccfg);

  genomes::direct_genome genome{net.layout()};
  std::vector<float> mean(genome.size());
  genome.init(seed, 0, mean);
  auto es_cfg = cfg.es;
  es_cfg.threads = cfg.threads;
  search::openai_es es(es_cfg, std::move(mean), seed);

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
  info.threads = cfg.threads == 0 ? hardware_threads() : cfg.threads;
  info.simd_arch = std::string(simd::arch_name<simd::native>());
  info.command_line = argv;
  info.build_flags = std::string(run::build_flags);
  info.git_describe = std::string(run::git_describe);
  info.extra = {{"experiment", "curriculum"}, {"policy", std::string(enum_name(policy))}};
  auto manifest = run::make_manifest(info);
  rd.write_manifest(manifest);

  arm_result res;
  while (res.agent_steps < cfg.budget &&
         es.generation() < static_cast<std::uint32_t>(cfg.max_generations)) {
    const std::uint32_t g = es.generation();
    const auto pop = es.ask();
    const auto ev = crucible.evaluate(pop, crucibles::rollout_keys{seed, g, 0, 0});
    es.tell(ev.fitness);
    res.agent_steps += ev.agent_steps;
    generation_record rec;
    rec.generation = g;
    fill_statistics(rec, ev.fitness);
    rec.agent_steps = ev.agent_steps;
    rec.best_so_far = es.best_fitness();
    auto j = rec.to_json();
    j.erase("timing");  // keeps the file a pure function of the seed
    j["curriculum"] = crucible.last_record();
    j["cumulative_agent_steps"] = res.agent_steps;
    rd.generations().append(j);
  }
  res.generations = es.generation();
  res.scores = crucible.test(es.mean(), cfg.test_episodes, cfg.test_seed);
  res.rung_counts.assign(crucible.rung_counts().begin(), crucible.rung_counts().end());
  crucible.replay().save_jsonl(rd.file("replay.jsonl"));
  rd.add_artifact("replay.jsonl");
  crucible.sampler().save_catalog_jsonl(rd.file("catalog.jsonl"));
  rd.add_artifact("catalog.jsonl");
  dphys::json test = dphys::json::array();
  for (const auto& s : res.scores)
    test.push_back({{"rung", s.rung}, {"success_rate", s.success_rate},
                    {"mean_fitness", s.mean_fitness}});
  run::write_file_atomic(rd.file("test.json"),
                         dphys::json{{"test_episodes", cfg.test_episodes},
                                        {"genome", "final ES mean"},
                                        {"rungs", test},
                                        {"agent_steps", res.agent_steps},
                                        {"generations", res.generations},
                                        {"metrics", curiosity::metrics_summary(
                                                        crucible.sampler().catalog(),
                                                        crucible.replay())}}
                                 .dump(2) + "\n");
  rd.add_artifact("test.json");
  rd.save_best_genome(es.mean(), {es.mean().size()});
  rd.finalize(manifest);
  return res;
}

struct mean_se {
  double mean = 0, se = 0;
};
mean_se summarize(const std::vector<double>& v) {
  const double n = static_cast<double>(v.size());
  double m = 0;
  for (double x : v) m += x;
  m /= n;
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return {m, v.size() > 1 ? std::sqrt(s / (n - 1) / n) : 0.0};
}

}  // namespace ex

int main(int argc, char** argv) {
  using namespace dphys;
  std::vector<std::string> command_line(argv, argv + argc);
  try {
    ex::curriculum_example_config cfg;
    if (dphys::wants_help(argc, argv)) {
      fmt::print("usage: dphys_curriculum [--key=value ...]   (defaults shown)\n{}",
                 describe(cfg));
      return 0;
    }
    apply_overrides(cfg, argc - 1, argv + 1);
    validate(cfg);
    const auto rungs = curiosity::koki2_ladder();
    fmt::print(
        "dphys {} — curriculum over koki2's ladder ({} rungs): {} policies, "
        "{} seeds, {} alive agent-steps per run, {} scenarios x {} episodes per generation, "
        "OpenAI-ES pop {}\n",
        version_string, rungs.size(), cfg.policies.size(), cfg.seeds.size(), cfg.budget,
        cfg.curriculum.scenarios,
        cfg.curriculum.episodes, cfg.es.pop_size);
    const std::filesystem::path out(cfg.out);
    const auto& policies = cfg.policies;
    const std::size_t P = policies.size();
    // results[p][seed index]
    std::vector<std::vector<ex::arm_result>> results(P);
    dphys::json per_seed = dphys::json::array();
    fmt::print("{:>6} {:>18} {:>9} {:>9} {:>6} {:>11}   {}\n", "seed", "policy", "success",
               "fitness", "gens", "agent-steps", "scenarios per rung");
    for (auto seed : cfg.seeds) {
      dphys::json row = {{"seed", seed}};
      for (std::size_t p = 0; p < P; ++p) {
        const std::string name(enum_name(policies[p]));
        auto r = ex::run_arm(cfg, policies[p], seed, out / name / fmt::format("seed{}", seed),
                             command_line);
        fmt::print("{:>6} {:>18} {:>9.4f} {:>9.3f} {:>6} {:>11}   {}\n", seed, name,
                   r.mean_success(), r.mean_fitness(), r.generations, r.agent_steps,
                   fmt::join(r.rung_counts, " "));
        std::fflush(stdout);
        row[name] = {{"success", r.mean_success()},
                     {"fitness", r.mean_fitness()},
                     {"agent_steps", r.agent_steps},
                     {"generations", r.generations},
                     {"rung_counts", r.rung_counts}};
        results[p].push_back(std::move(r));
      }
      per_seed.push_back(row);
    }
    fmt::print("\nheld-out score of the final ES mean ({} episodes per rung), mean ± SE over {} seeds:\n",
               cfg.test_episodes, cfg.seeds.size());
    fmt::print("{:>18} {:>17} {:>17} {:>21} {:>19}   {}\n", "policy", "success", "fitness",
               "Δsuccess vs " + std::string(enum_name(policies[0])), "Δfitness (paired)",
               "success per rung");
    dphys::json summary = dphys::json::object();
    for (std::size_t p = 0; p < P; ++p) {
      std::vector<double> su, fi, ds, df;
      std::vector<std::string> rung_text;
      dphys::json per_rung = dphys::json::array();
      for (std::size_t i = 0; i < cfg.seeds.size(); ++i) {
        su.push_back(results[p][i].mean_success());
        fi.push_back(results[p][i].mean_fitness());
        ds.push_back(results[p][i].mean_success() - results[0][i].mean_success());
        df.push_back(results[p][i].mean_fitness() - results[0][i].mean_fitness());
      }
      for (std::size_t r = 0; r < rungs.size(); ++r) {
        std::vector<double> v;
        for (const auto& res : results[p]) v.push_back(res.scores[r].success_rate);
        const auto m = ex::summarize(v);
        rung_text.push_back(fmt::format("{} {:.3f}", rungs[r].name, m.mean));
        per_rung.push_back({{"rung", rungs[r].name}, {"success", m.mean}, {"success_se", m.se}});
      }
      const auto a = ex::summarize(su), b = ex::summarize(fi), c = ex::summarize(ds),
                 d = ex::summarize(df);
      fmt::print("{:>18} {:>8.4f} ± {:.4f} {:>8.2f} ± {:>5.2f} {:>+12.4f} ± {:.4f} {:>+10.2f} ± {:.2f}   {}\n",
                 std::string(enum_name(policies[p])), a.mean, a.se, b.mean, b.se, c.mean, c.se,
                 d.mean, d.se, fmt::join(rung_text, "  "));
      summary[std::string(enum_name(policies[p]))] = {
          {"success", a.mean},          {"success_se", a.se},
          {"fitness", b.mean},          {"fitness_se", b.se},
          {"paired_success_difference", c.mean}, {"paired_success_difference_se", c.se},
          {"paired_fitness_difference", d.mean}, {"paired_fitness_difference_se", d.se},
          {"per_rung", per_rung}};
    }
    std::filesystem::create_directories(out);
    run::write_file_atomic(out / "comparison.json",
                           dphys::json{{"budget_agent_steps", cfg.budget},
                                          {"test_episodes", cfg.test_episodes},
                                          {"baseline", std::string(enum_name(policies[0]))},
                                          {"seeds", per_seed},
                                          {"policies", summary}}
                                   .dump(2) + "\n");
    fmt::print("comparison: {}\n", (out / "comparison.json").string());
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "dphys_curriculum: error: {}\n", e.what());
    return 2;
  }
}
