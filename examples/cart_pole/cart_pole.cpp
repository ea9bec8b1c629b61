// dphys_cart_pole — a spiking network evolved by OpenAI-ES to balance a pole (Gymnasium's
// CartPole-v1 dynamics), through the generic episodic rollout: envs::cart_pole +
// crucibles::episodic_rollout + search::openai_es + dphys::evolve, the composition a user repeats
// with an environment of their own (docs/tutorials/cart_pole.md). Every config field is a
// --key=value option (see --help). Writes a run directory: config.json, manifest.json,
// generations.jsonl, best_genome.npy (the best sampled genome), es_mean.npy (the final ES mean),
// evaluation.json (both on `eval_episodes` fresh episodes) and fitness_per_generation.png
// (tools/plot_fitness.py; skipped with a warning when python3 or matplotlib is missing, or with
// --plot=false).
//
//   dphys_cart_pole                                   # 60 generations, 64 members × 4 episodes
//   dphys_cart_pole --plasticity.enabled=true --plasticity.eta=0.01 --out=runs/cart_pole_plastic
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include <dphys/agents/snn.hpp>
#include <dphys/core/config.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/simd.hpp>
#include <dphys/crucibles/episodic.hpp>
#include <dphys/envs/cart_pole.hpp>
#include <dphys/genomes/direct.hpp>
#include <dphys/plasticity/eligibility_trace.hpp>
#include <dphys/run/atomic_file.hpp>
#include <dphys/run/build_info.hpp>
#include <dphys/run/evolve.hpp>
#include <dphys/run/manifest.hpp>
#include <dphys/run/npy.hpp>
#include <dphys/run/run_dir.hpp>
#include <dphys/search/openai_es.hpp>
#include <dphys/version.hpp>

#include "../common/plot_script.hpp"

#ifndef DPHYS_PLOT_FITNESS_SCRIPT
#define DPHYS_PLOT_FITNESS_SCRIPT ""
#endif

namespace example {

struct cart_pole_experiment {
  std::uint64_t seed = 0;
  int generations = 60;
  /// Rollout and sampling threads (<= 0: all hardware threads); never changes results.
  int threads = 0;
  int eval_episodes = 100;  ///< fresh episodes for the best genome after the run (0: none)
  int log_every = 1;        ///< progress line every N generations (0: none)
  std::string out = "runs/cart_pole";
  bool plot = true;  ///< draw fitness_per_generation.png with tools/plot_fitness.py
  std::string python = "/usr/bin/python3";
  dphys::envs::cart_pole_config env{};
  dphys::agents::snn_config agent{};
  dphys::plasticity::eligibility_trace_config plasticity{};
  dphys::search::openai_es_config es{};
  dphys::crucibles::rollout_config rollout{};

  cart_pole_experiment() { es.pop_size = 64; }

  void check(dphys::config_checker<cart_pole_experiment>& c) const {
    c(&cart_pole_experiment::generations).at_least(1);
    c(&cart_pole_experiment::eval_episodes).at_least(0).at_most(1 << 20);
    c(&cart_pole_experiment::log_every).at_least(0);
    c(&cart_pole_experiment::out)
        .satisfies([](const std::string& s) { return !s.empty(); }, "a directory name");
  }
};

}  // namespace example

DPHYS_ADAPT_STRUCT(example::cart_pole_experiment, seed, generations, threads, eval_episodes,
                   log_every, out, plot, python, env, agent, plasticity, es, rollout);

int main(int argc, char** argv) {
  using namespace dphys;
  try {
    example::cart_pole_experiment cfg;
    if (dphys::wants_help(argc, argv)) {
      fmt::print("usage: dphys_cart_pole [--key=value ...]   (defaults shown)\n{}",
                 describe(cfg));
      return 0;
    }
    apply_overrides(cfg, argc - 1, argv + 1);
    validate(cfg);
    cfg.es.threads = cfg.rollout.threads = cfg.threads;

    // The composition: environment, network (+ rule), crucible, strategy. The crucible's
    // constructor refuses a network that does not fit the environment or a rule it cannot feed.
    const envs::cart_pole env(cfg.env);
    agents::snn net(cfg.agent, agents::topology::make(cfg.agent, cfg.seed),
                    envs::cart_pole::obs_dim, envs::cart_pole::num_actions);
    const crucibles::episodic_rollout<envs::cart_pole> crucible(env, net, cfg.plasticity,
                                                                cfg.rollout);
    std::vector<float> mean0(crucible.genome_size());
    genomes::direct_genome{net.layout()}.init(cfg.seed, 0, mean0);
    search::openai_es es(cfg.es, mean0, cfg.seed);

    fmt::print(
        "dphys {} — cart-pole (CartPole-v1 dynamics, horizon {}), SNN {} neurons / {} edges "
        "({} parameters), plasticity {}; OpenAI-ES pop {} × {} episodes, {} generations, seed {}, "
        "lanes {} ({})\n",
        version_string, crucible.horizon(), cfg.agent.n_neurons, net.layout().n_edges,
        crucible.genome_size(), cfg.plasticity.enabled ? "on" : "off", cfg.es.pop_size,
        cfg.rollout.episodes, cfg.generations, cfg.seed, simd::lanes_v<simd::native>,
        simd::arch_name<simd::native>());

    auto rd = run::run_directory::create(cfg.out);
    rd.write_config(to_json(cfg));
    run::manifest_info info;
    info.library_version = std::string(version_string);
    info.seed = cfg.seed;
    info.threads = cfg.threads;
    info.simd_arch = std::string(simd::arch_name<simd::native>());
    info.command_line.assign(argv, argv + argc);
    info.build_flags = std::string(run::build_flags);
    info.git_describe = std::string(run::git_describe);
    info.extra = {{"experiment", "cart_pole"}};
    auto manifest = run::make_manifest(info);
    rd.write_manifest(manifest);

    const auto log_every = static_cast<std::uint32_t>(cfg.log_every);
    evolve(es, crucible,
           evolve_options{static_cast<std::uint32_t>(cfg.generations), cfg.seed},
           [&](const generation_record& r, const auto&) {
             rd.generations().append(r.to_json());
             if (log_every > 0 && (r.generation + 1) % log_every == 0) {
               fmt::print(
                   "gen {:4d}  best {:6.1f}  mean {:6.1f}  median {:6.1f}  best-so-far {:6.1f}  "
                   "{:5.1f} M agent-steps/s\n",
                   r.generation, r.best_fitness, r.mean_fitness, r.median_fitness, r.best_so_far,
                   r.eval_seconds > 0 ? 1e-6 * static_cast<double>(r.agent_steps) / r.eval_seconds
                                      : 0.0);
               std::fflush(stdout);
             }
           });
    rd.save_best_genome(es.best(), {es.best().size()});
    run::save_npy<float>(rd.file("es_mean.npy"), es.mean(), {es.mean().size()});
    rd.add_artifact("es_mean.npy");

    // The best sampled genome and the final ES mean μ on fresh episodes: episode words from 2^30,
    // a range no generation uses; the same episodes for both (common random numbers).
    if (cfg.eval_episodes > 0) {
      auto eval_cfg = cfg.rollout;
      eval_cfg.episodes = cfg.eval_episodes;
      eval_cfg.random_numbers = envs::random_numbers::common;
      const auto judge = crucible.with(eval_cfg);
      const crucibles::rollout_keys eval_keys{cfg.seed, 0, 0, 1u << 30};
      json ej = {{"episodes", cfg.eval_episodes}, {"episode_word_offset", 1u << 30}};
      auto report = [&](std::string_view name, std::span<const float> genome) {
        const auto ev = judge.evaluate(genome, eval_keys);
        float solved = 0.0f;
        for (float s : ev.success) solved += s;
        const float rate = solved / static_cast<float>(cfg.eval_episodes);
        ej[std::string(name)] = {
            {"mean_return", ev.fitness[0]}, {"success_rate", rate}, {"returns", ev.returns}};
        manifest["extra"]["eval_" + std::string(name)] = ev.fitness[0];
        // Gymnasium's criterion for CartPole-v1: mean return >= 475 over 100 episodes.
        const bool v1_solved = cfg.eval_episodes >= 100 && ev.fitness[0] >= 475.0f &&
                               cfg.env.max_steps == 500;
        fmt::print("{} on {} fresh episodes: mean return {:.1f}, {:.0f} % reached step {}{}\n",
                   name, cfg.eval_episodes, ev.fitness[0], 100.0f * rate, crucible.horizon(),
                   v1_solved ? " (CartPole-v1 solved)" : "");
      };
      report("best_sampled", es.best());
      report("es_mean", es.mean());
      run::write_file_atomic(rd.file("evaluation.json"), ej.dump(2) + "\n");
      rd.add_artifact("evaluation.json");
    }
    if (cfg.plot) {
      const auto png = rd.file("fitness_per_generation.png");
      const std::string why = example::run_plot_script(
          cfg.python, DPHYS_PLOT_FITNESS_SCRIPT, {rd.path().string(), "--out", png.string()});
      if (why.empty()) {
        rd.add_artifact("fitness_per_generation.png");
        fmt::print("plot: {}\n", png.string());
      } else {
        fmt::print(stderr, "dphys_cart_pole: warning: plot skipped: {}\n", why);
      }
    }
    manifest["extra"]["best_so_far"] = es.best_fitness();
    rd.finalize(manifest);
    fmt::print("run directory: {}\n", rd.path().string());
    return 0;
  } catch (const std::exception& ex) {
    fmt::print(stderr, "dphys_cart_pole: error: {}\n", ex.what());
    return 2;
  }
}
