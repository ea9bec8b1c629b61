// dphys/experiments/koki2.hpp — koki2's experiment composed from dphys policies: chemotaxis ladder
// env, LIF network with a direct genome, eligibility-trace plasticity, episodic rollout crucible
// behind the viability filter, OpenAI-ES, and the run directory (spec §1.2 K1–K13). The example
// programs (examples/koki2/) are thin command-line front ends over this header.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <dphys/agents/snn.hpp>
#include <dphys/core/config.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/crucibles/rollout.hpp>
#include <dphys/crucibles/viability.hpp>
#include <dphys/envs/chemotaxis.hpp>
#include <dphys/genomes/direct.hpp>
#include <dphys/plasticity/eligibility_trace.hpp>
#include <dphys/run/build_info.hpp>
#include <dphys/run/checkpoint.hpp>
#include <dphys/run/evolve.hpp>
#include <dphys/run/manifest.hpp>
#include <dphys/run/npy.hpp>
#include <dphys/run/run_dir.hpp>
#include <dphys/search/openai_es.hpp>
#include <dphys/version.hpp>

namespace dphys::experiments {

/// Lane type used for rollouts: the native SIMD batch, or the float reference.
enum class lane_impl { simd, scalar };
constexpr auto enum_names(lane_impl) {
  return std::array{std::pair{lane_impl::simd, std::string_view{"simd"}},
                    std::pair{lane_impl::scalar, std::string_view{"scalar"}}};
}

/// Periodic evaluation of the ES mean μ (spec K9; off by default, as in koki2). After the update of
/// every `every`-th generation (generation + 1 a multiple of `every`), μ runs `episodes` episodes
/// with common random numbers from `seed`: the same episodes every time, so successive evaluations
/// differ only by μ. The summary goes into that generation's line of generations.jsonl as
/// `mean_eval`. It only evaluates: the run's other numbers are the same with it on or off.
struct mean_eval_config {
  int every = 0;  ///< 0: off
  int episodes = 64;
  /// The evaluation episodes' seed (dphys_koki2_eval's default eval seed).
  std::uint64_t seed = 424242;

  void check(config_checker<mean_eval_config>& c) const {
    c(&mean_eval_config::every).at_least(0).at_most(1 << 24);
    c(&mean_eval_config::episodes).at_least(1).at_most(1 << 20);
  }
};

}  // namespace dphys::experiments

DPHYS_ADAPT_STRUCT(dphys::experiments::mean_eval_config, every, episodes, seed);

namespace dphys::experiments {

/// The whole koki2 run configuration. Defaults: koki2's CLI defaults, except the environment, which
/// is the L0.2 rung (4 sources, 2 bad, integrity loss 0.25) of the quick start.
struct koki2_config {
  std::uint64_t seed = 0;
  int generations = 20;
  int threads = 1;  ///< rollout and ES sampling threads; 0: all hardware threads
  std::string out = "runs/koki2";
  int log_every = 1;  ///< progress line every N generations (all generations are logged to JSONL)
  lane_impl impl = lane_impl::simd;
  std::vector<std::uint64_t>
      seeds;  ///< non-empty: run every seed into out/seed<N> (koki2 batch-evo)
  /// Non-empty: a JSON file {"<condition>": {partial config}, ...}; every condition × seed runs
  /// into out/<condition>/seed<N> (koki2's multi-condition grids).
  std::string sweep;
  envs::chemotaxis_config env = l0_2();
  agents::snn_config agent{};
  plasticity::eligibility_trace_config plasticity{};
  crucibles::fitness_config fitness{};
  crucibles::rollout_config rollout{};
  search::openai_es_config es{};
  crucibles::viability_config mvt{};
  mean_eval_config mean_eval{};

  static envs::chemotaxis_config l0_2() {
    envs::chemotaxis_config e;
    e.num_sources = 4;
    e.num_bad_sources = 2;
    e.bad_source_integrity_loss = 0.25f;
    return e;
  }

  void check(config_checker<koki2_config>& c) const {
    c(&koki2_config::generations).at_least(0).at_most(1 << 24);
    c(&koki2_config::threads).at_least(0).at_most(1024);
    c(&koki2_config::log_every).at_least(1);
    c(&koki2_config::out)
        .satisfies([](const std::string& s) { return !s.empty(); }, "must not be empty");
  }
};

}  // namespace dphys::experiments

DPHYS_ADAPT_STRUCT(dphys::experiments::koki2_config, seed, generations, threads, out, log_every,
                   impl, seeds, sweep, env, agent, plasticity, fitness, rollout, es, mvt,
                   mean_eval);

namespace dphys::experiments {

/// The run's ES settings: cfg.es, sampling on the run's `threads` (like the rollout; results do not
/// depend on it).
inline search::openai_es_config es_config(const koki2_config& cfg) {
  auto es = cfg.es;
  es.threads = cfg.threads;
  return es;
}

/// The composed pipeline of one run.
struct koki2_pipeline {
  using crucible_type = crucibles::viability_filter<crucibles::chemotaxis_rollout>;
  crucible_type crucible;
  genomes::direct_genome genome;

  static koki2_pipeline make(const koki2_config& cfg) {
    const auto topo = agents::topology::make(cfg.agent, cfg.seed);
    agents::snn net(cfg.agent, topo, envs::chemotaxis::obs_dim, envs::chemotaxis::num_actions);
    auto rollout_cfg = cfg.rollout;
    rollout_cfg.threads = cfg.threads;
    crucibles::chemotaxis_rollout rollout(cfg.env, net, cfg.plasticity, cfg.fitness, rollout_cfg);
    genomes::direct_genome genome{net.layout()};
    return {crucible_type(std::move(rollout), cfg.mvt), genome};
  }
  [[nodiscard]] const crucibles::chemotaxis_rollout& rollout() const { return crucible.inner(); }
};

/// Evaluates with the configured lane implementation.
template <class Crucible>
auto evaluate_with(lane_impl impl, const Crucible& c, std::span<const float> pop,
                   const crucibles::rollout_keys& k) {
  return impl == lane_impl::simd ? c.template evaluate<simd::native>(pop, k)
                                 : c.template evaluate<float>(pop, k);
}

/// A crucible adapter that dispatches on lane_impl at run time (for dphys::evolve).
template <class Crucible>
struct dispatching_crucible {
  const Crucible* inner;
  lane_impl impl;
  [[nodiscard]] std::size_t genome_size() const { return inner->genome_size(); }
  auto evaluate(std::span<const float> pop, const crucibles::rollout_keys& k) const {
    return evaluate_with(impl, *inner, pop, k);
  }
};

/// Episode means with koki2's eval-run field names (spec K11), plus the standard error of the
/// fitness.
inline dphys::json summarize_episodes(std::span<const crucibles::lifetime_summary> eps) {
  const double n = static_cast<double>(eps.size());
  auto mean = [&](auto field) {
    double s = 0;
    for (const auto& e : eps) s += static_cast<double>(field(e));
    return n > 0 ? s / n : 0.0;
  };
  using ls = crucibles::lifetime_summary;
  const double mf = mean([](const ls& e) { return e.fitness; });
  double var = 0;
  for (const auto& e : eps) var += (e.fitness - mf) * (e.fitness - mf);
  const double se = n > 1 ? std::sqrt(var / (n - 1) / n) : 0.0;
  return {{"episodes", eps.size()},
          {"mean_fitness", mf},
          {"se_fitness", se},
          {"success_rate", mean([](const ls& e) { return e.success; })},
          {"mean_t_alive", mean([](const ls& e) { return e.t_alive; })},
          {"mean_energy_gained", mean([](const ls& e) { return e.energy_gained_total; })},
          {"mean_bad_arrivals", mean([](const ls& e) { return e.bad_arrivals_total; })},
          {"mean_integrity_lost", mean([](const ls& e) { return e.integrity_lost_total; })},
          {"mean_integrity_min", mean([](const ls& e) { return e.integrity_min; })},
          {"mean_action_entropy", mean([](const ls& e) { return e.action_entropy; })},
          {"mean_action_mode_frac", mean([](const ls& e) { return e.action_mode_frac; })},
          {"mean_abs_dw_mean", mean([](const ls& e) { return e.mean_abs_dw_mean; })},
          {"mean_abs_modulator_mean", mean([](const ls& e) { return e.mean_abs_modulator_mean; })},
          {"mean_abs_dw_on_event", mean([](const ls& e) { return e.mean_abs_dw_on_event; })},
          {"event_step_frac", mean([](const ls& e) { return e.event_step_frac; })}};
}

/// The rollout that evaluates μ for cfg.mean_eval: the run's rollout with mean_eval.episodes
/// episodes of common random numbers on the run's threads.
inline crucibles::chemotaxis_rollout mean_eval_rollout(const koki2_config& cfg,
                                                       const koki2_pipeline& pipeline) {
  auto rc = cfg.rollout;
  rc.episodes = cfg.mean_eval.episodes;
  rc.random_numbers = envs::random_numbers::common;
  rc.threads = cfg.threads;
  return pipeline.rollout().with(rc);
}

/// generations.jsonl's `mean_eval`: summarize_episodes of `mean` on the episodes of
/// cfg.mean_eval.seed (rollout from mean_eval_rollout), plus that seed.
inline dphys::json evaluate_mean(const koki2_config& cfg,
                                 const crucibles::chemotaxis_rollout& rollout,
                                 std::span<const float> mean) {
  const crucibles::rollout_keys keys{cfg.mean_eval.seed, 0, 0, 0};
  auto j = summarize_episodes(evaluate_with(cfg.impl, rollout, mean, keys).episodes);
  j["seed"] = cfg.mean_eval.seed;
  return j;
}

/// What a finished run reports.
struct koki2_result {
  std::filesystem::path dir;
  float best_fitness = 0;
  std::vector<float> best_genome;
  std::uint32_t generations = 0;
};

/// config.json of a run: the config with every derived value resolved (energy decay, topology
/// seed).
inline dphys::json resolved_config_json(const koki2_config& cfg,
                                           const std::filesystem::path& dir) {
  auto c = cfg;
  c.out = dir.string();  // this run's own directory (a batch's runs each record theirs)
  if (c.threads == 0) c.threads = hardware_threads();
  c.env.energy_decay = cfg.env.decay();
  if (c.agent.topology_seed < 0 && c.agent.edge_file.empty())
    c.agent.topology_seed = static_cast<std::int64_t>(cfg.seed + 12345u);
  c.seeds.clear();
  c.sweep.clear();
  return to_json(c);
}

/// Checkpointing and resume of one run (not part of the config: they do not change the numbers).
struct koki2_run_control {
  run::checkpoint_options checkpoint{};  ///< every = 0: no checkpoints
  /// Continue the run in `dir` from its newest usable checkpoint (from generation 0 if it has
  /// none; a fresh run if `dir` holds no run).
  bool resume = false;
  bool allow_config_change = false;  ///< resume even if the config differs from the checkpoint's
  std::function<void(const std::string&)>
      warn;  ///< warnings (skipped checkpoints...); may be empty
};

/// Config keys that may differ on resume: they do not change any result (generations only says
/// where to stop; threads and impl are bitwise neutral by design; out, log_every are cosmetic).
inline const std::vector<std::string>& koki2_resume_neutral_keys() {
  static const std::vector<std::string> keys{"generations", "threads", "out", "log_every", "impl"};
  return keys;
}

/// A stored config text (a checkpoint's, a run's config.json) with the keys this version has and
/// an older one did not at their defaults (from_json reads a partial config), written as this
/// version writes it, so that a resume does not take a key added since as a change. Text that does
/// not read as a koki2_config (invalid JSON, an unknown key, a wrong type) is returned unchanged:
/// the comparison then names the differences.
inline std::string with_current_keys(const std::string& text) {
  const auto stored = dphys::json::parse(std::string_view(text), nullptr, false);
  if (stored.is_discarded()) return text;
  koki2_config cfg;
  try {
    from_json(stored, cfg);
  } catch (const config_error&) {
    return text;
  }
  return to_json(cfg).dump();
}

/// With ctl.resume, a run that already finished: `dir` holds a finalized run (manifest.json lists
/// the artifacts' checksums, and config.json, generations.jsonl and best_genome.npy still match
/// them) with `cfg.generations` records and the same config up to the resume-neutral keys. Its
/// result, read from the directory; std::nullopt if the run is not complete (a resume then
/// continues it). A different config throws run::resume_error naming the keys, as any resume does,
/// unless ctl.allow_config_change (then the run is not taken as complete). This is what lets
/// `--resume` skip the finished runs of a batch or sweep, with or without checkpoints.
inline std::optional<koki2_result> finished_run(const koki2_config& cfg,
                                                const std::filesystem::path& dir,
                                                const dphys::json& config_json,
                                                const koki2_run_control& ctl) {
  using rd = run::run_directory;
  std::error_code ec;
  const auto manifest_file = dir / std::string(rd::manifest_name);
  if (cfg.generations == 0 || !std::filesystem::is_regular_file(manifest_file, ec)) return {};
  const auto manifest = dphys::json::parse(run::read_file(manifest_file), nullptr, false);
  if (!manifest.is_object() || !manifest.contains("artifacts") ||
      !manifest["artifacts"].is_object())
    return {};  // not finalized
  for (auto name : {rd::config_name, rd::generations_name, rd::best_genome_name}) {
    const auto file = dir / std::string(name);
    const auto listed = manifest["artifacts"].find(std::string(name));
    if (listed == manifest["artifacts"].end() || !std::filesystem::is_regular_file(file, ec) ||
        *listed != run::sha256_file(file))
      return {};
  }
  const auto records = run::read_jsonl(dir / std::string(rd::generations_name));
  if (records.size() != static_cast<std::size_t>(cfg.generations) ||
      !records.back().contains("best_so_far"))
    return {};
  const auto config_file = dir / std::string(rd::config_name);
  try {
    run::check_resume_config(with_current_keys(run::read_file(config_file)), config_json,
                             koki2_resume_neutral_keys(), /*allow_change=*/false, {},
                             config_file.string());
  } catch (const run::resume_error&) {
    if (ctl.allow_config_change) return {};
    throw;
  }
  koki2_result res;
  res.dir = dir;
  res.generations = static_cast<std::uint32_t>(cfg.generations);
  const auto& best = records.back().at("best_so_far");
  res.best_fitness = best.is_number() ? best.get<float>() : -std::numeric_limits<float>::infinity();
  res.best_genome = run::load_npy<float>(dir / std::string(rd::best_genome_name)).data;
  return res;
}

/// Runs one seed into `dir`: config.json, generations.jsonl, best_genome.npy, edge_index.npy,
/// manifest.json (and checkpoints/ when ctl.checkpoint.every > 0). `progress` receives one
/// human-readable line per log_every generations (may be empty). With ctl.resume, continues the
/// run in `dir` bit for bit (see docs/reference/checkpoints.md); throws run::resume_error if the
/// config differs from the checkpoint's (unless ctl.allow_config_change).
inline koki2_result run_koki2(const koki2_config& cfg, const std::filesystem::path& dir,
                              const std::vector<std::string>& command_line = {},
                              const std::function<void(const std::string&)>& progress = {},
                              const koki2_run_control& ctl = {}) {
  validate(cfg);
  auto pipeline = koki2_pipeline::make(cfg);
  const auto& net = pipeline.rollout().network();
  std::vector<float> mean(pipeline.genome.size());
  pipeline.genome.init(cfg.seed, 0, mean);
  search::openai_es es(es_config(cfg), std::move(mean), cfg.seed);
  const dphys::json config_json = resolved_config_json(cfg, dir);
  const std::string config_text = config_json.dump();
  std::optional<run::resume_point> resume_at;
  std::error_code ec;
  const bool previous_run =
      std::filesystem::exists(dir / std::string(run::run_directory::config_name), ec);
  if (previous_run && !ctl.resume)
    throw run::io_error("run directory " + dir.string() +
                        " already holds a run (config.json): pass --resume to continue it, or "
                        "choose another --out");
  if (previous_run)
    if (auto done = finished_run(cfg, dir, config_json, ctl)) {
      if (progress)
        progress(fmt::format("resume {}: finished ({} generations), nothing to do", dir.string(),
                             cfg.generations));
      return *done;
    }
  if (previous_run) {
    resume_at = run::find_resume_point(dir, ctl.warn);
    const std::string before = with_current_keys(
        resume_at ? resume_at->config_text
                  : run::read_file(dir / std::string(run::run_directory::config_name)));
    // Without a checkpoint (killed before the first one) the run starts over, but only with the
    // configuration of its config.json.
    run::check_resume_config(
        before, config_json, koki2_resume_neutral_keys(), ctl.allow_config_change, ctl.warn,
        resume_at ? resume_at->file.string()
                  : (dir / std::string(run::run_directory::config_name)).string());
    if (!resume_at && ctl.warn)
      ctl.warn("resume " + dir.string() + ": no checkpoint yet, starting at generation 0");
    if (resume_at && resume_at->generation > static_cast<std::uint32_t>(cfg.generations))
      throw run::resume_error(
          "resume " + dir.string() + ": the newest checkpoint is after " +
          std::to_string(resume_at->generation) +
          " generations, beyond generations = " + std::to_string(cfg.generations));
    // Restore before touching the directory: a checkpoint that does not fit leaves it as it was.
    if (resume_at) run::restore_checkpoint(*resume_at, es);
    run::truncate_generations(dir, resume_at ? resume_at->log_bytes : 0);
    run::remove_stale_temporaries(dir);
  }
  auto rd = run::run_directory::create(dir, /*allow_existing=*/previous_run);
  rd.write_config(config_json);
  {
    const auto& topo = net.edges();
    run::save_npy(rd.file("edge_index.npy"), topo.edge_index(), {topo.size(), 2});
    rd.add_artifact("edge_index.npy");
  }
  run::manifest_info info;
  info.library_version = std::string(version_string);
  info.seed = cfg.seed;
  info.threads = cfg.threads == 0 ? hardware_threads() : cfg.threads;
  info.simd_arch =
      cfg.impl == lane_impl::simd ? std::string(simd::arch_name<simd::native>()) : "scalar";
  info.command_line = command_line;
  info.build_flags = std::string(run::build_flags);
  info.git_describe = std::string(run::git_describe);
  info.extra = {{"experiment", "koki2"},
                {"lanes", cfg.impl == lane_impl::simd ? simd::lanes_v<simd::native> : 1},
                {"genome_size", pipeline.genome.size()},
                {"n_edges", net.edges().size()}};
  if (resume_at)
    info.extra["resumed_from"] = {{"checkpoint", resume_at->file.filename().string()},
                                  {"generation", resume_at->generation}};
  auto manifest = run::make_manifest(info);
  rd.write_manifest(manifest);

  dispatching_crucible<koki2_pipeline::crucible_type> crucible{&pipeline.crucible, cfg.impl};

  // μ's periodic evaluation (cfg.mean_eval), after every `every`-th generation. Not also after the
  // last one: the log must not depend on `generations`, which a resumed run may change.
  std::optional<crucibles::chemotaxis_rollout> mean_rollout;
  if (cfg.mean_eval.every > 0) mean_rollout.emplace(mean_eval_rollout(cfg, pipeline));
  std::optional<double> mean_eval_fitness;  // this generation's, for the progress line
  auto log_jsonl = [&](const generation_record& r, const search::openai_es& s) {
    auto line = r.to_json();
    mean_eval_fitness.reset();
    if (mean_rollout && (r.generation + 1) % static_cast<std::uint32_t>(cfg.mean_eval.every) == 0) {
      auto eval = evaluate_mean(cfg, *mean_rollout, s.mean());
      mean_eval_fitness = eval.at("mean_fitness").get<double>();
      line["mean_eval"] = std::move(eval);
    }
    rd.generations().append(line);
  };
  auto show = [&](const generation_record& r, const search::openai_es&) {
    if (!progress ||
        ((r.generation + 1) % static_cast<std::uint32_t>(cfg.log_every) != 0 && r.generation != 0 &&
         r.generation + 1 != static_cast<std::uint32_t>(cfg.generations)))
      return;
    const double rate =
        r.eval_seconds > 0 ? static_cast<double>(r.evaluations) / r.eval_seconds : 0.0;
    std::string line = fmt::format(
        "gen {:4d}/{}  best {:9.3f}  mean {:9.3f}  median {:9.3f}  best-so-far {:9.3f}  "
        "{:8.0f} evals/s  {:6.2f} M agent-steps/s",
        r.generation + 1, cfg.generations, r.best_fitness, r.mean_fitness, r.median_fitness,
        r.best_so_far, rate,
        r.eval_seconds > 0 ? static_cast<double>(r.agent_steps) / r.eval_seconds / 1e6 : 0.0);
    if (r.mvt_pass_rate) line += fmt::format("  mvt pass {:.2f}", *r.mvt_pass_rate);
    if (mean_eval_fitness) line += fmt::format("  mu-eval {:9.3f}", *mean_eval_fitness);
    if (r.non_finite) line += fmt::format("  non-finite {}", r.non_finite);
    progress(line);
  };
  run::checkpoint_writer checkpoints(rd, ctl.checkpoint, config_text,
                                     static_cast<std::uint32_t>(cfg.generations));
  if (resume_at) checkpoints.resume_from(resume_at->log_bytes);
  evolve(es, crucible, evolve_options{static_cast<std::uint32_t>(cfg.generations), cfg.seed},
         log_jsonl, show, checkpoints);

  koki2_result res;
  res.dir = dir;
  res.generations = es.generation();
  res.best_fitness = es.best_fitness();
  res.best_genome.assign(es.best().begin(), es.best().end());
  if (!res.best_genome.empty()) rd.save_best_genome(res.best_genome, {res.best_genome.size()});
  rd.finalize(manifest);
  return res;
}

}  // namespace dphys::experiments
