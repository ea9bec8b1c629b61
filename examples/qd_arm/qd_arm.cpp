// dphys_qd_arm — quality diversity on the n-joint planar arm: MAP-Elites (Iso+LineDD) or CMA-ME
// (--algorithm=cma_me) fill a grid of end-effector positions with the smoothest arm that reaches
// each. Every config field is a --key=value option (see --help). Writes a run directory:
// config.json, manifest.json, generations.jsonl (coverage, QD-score, best/mean objective per
// generation), archive.jsonl and archive.csv (the final archive), archive.state (the strategy's
// checkpoint), best_genome.npy and archive_heatmap.png (tools/plot_archive.py; skipped with a
// warning when python3 or matplotlib is missing, or with --plot=false).
//
//   dphys_qd_arm                                   # MAP-Elites, 20 000 evaluations, 50×50 grid
//   dphys_qd_arm --algorithm=cma_me --seed=3 --out=runs/arm_cma_me_3
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/hana/adapt_struct.hpp>
#include <fmt/core.h>

#include <dphys/core/config.hpp>
#include <dphys/core/simd.hpp>
#include <dphys/problems/planar_arm.hpp>
#include <dphys/qd/cma_me.hpp>
#include <dphys/qd/map_elites.hpp>
#include <dphys/run/build_info.hpp>
#include <dphys/run/manifest.hpp>
#include <dphys/run/run_dir.hpp>
#include <dphys/version.hpp>

#include "../common/plot_script.hpp"

#ifndef DPHYS_QD_PLOT_SCRIPT
#define DPHYS_QD_PLOT_SCRIPT ""
#endif

namespace example {

enum class qd_algorithm { map_elites, cma_me };
constexpr auto enum_names(qd_algorithm) {
  return std::array{std::pair{qd_algorithm::map_elites, std::string_view{"map_elites"}},
                    std::pair{qd_algorithm::cma_me, std::string_view{"cma_me"}}};
}

struct qd_arm_config {
  qd_algorithm algorithm = qd_algorithm::map_elites;
  std::uint64_t seed = 1;
  int evaluations = 20000;  ///< budget: whole batches while they fit
  int cells = 50;           ///< grid cells per descriptor dimension
  dphys::problems::planar_arm_config arm{};
  dphys::qd::map_elites_config map_elites{};
  dphys::qd::cma_me_config cma_me{};
  int log_every = 20;  ///< progress line every N generations (0: none)
  std::string out = "runs/qd_arm";
  bool plot = true;  ///< draw archive_heatmap.png with tools/plot_archive.py
  std::string python = "/usr/bin/python3";

  void check(dphys::config_checker<qd_arm_config>& c) const {
    c(&qd_arm_config::evaluations).at_least(1);
    c(&qd_arm_config::cells).at_least(1).at_most(4096);
    c(&qd_arm_config::log_every).at_least(0);
    c(&qd_arm_config::out)
        .satisfies([](const std::string& s) { return !s.empty(); }, "a directory name");
  }
};

}  // namespace example

BOOST_HANA_ADAPT_STRUCT(example::qd_arm_config, algorithm, seed, evaluations, cells, arm,
                        map_elites, cma_me, log_every, out, plot, python);

namespace {

// Runs the plot script; returns "" on success, else why the heatmap was skipped.
std::string plot_heatmap(const example::qd_arm_config& cfg, const std::filesystem::path& archive,
                         const std::filesystem::path& png) {
  return example::run_plot_script(cfg.python, DPHYS_QD_PLOT_SCRIPT,
                                  {archive.string(), "--out", png.string()});
}

template <class Strategy>
dphys::json generation_json(const Strategy& s) {
  const auto st = s.archive().stats();
  const auto& c = s.archive().store().counters();
  return {{"schema", dphys::run::generations_schema_version},
          {"generation", s.generation() - 1},
          {"evaluations", s.evaluations()},
          {"coverage", st.coverage},
          {"qd_score", st.qd_score},
          {"filled", st.filled},
          {"best_fitness", st.filled ? dphys::json(st.best_objective) : dphys::json()},
          {"mean_fitness", st.filled ? dphys::json(st.mean_objective) : dphys::json()},
          {"new_cells", c.new_cells},
          {"improvements", c.improvements},
          {"non_finite", s.non_finite()}};
}

template <class Strategy>
int run_strategy(Strategy& s, const example::qd_arm_config& cfg,
                 const dphys::problems::planar_arm& arm, dphys::run::run_directory& rd,
                 dphys::json manifest) {
  using namespace dphys;
  std::vector<double> f(s.population_size()), d(2 * s.population_size());
  const auto t0 = std::chrono::steady_clock::now();
  while (s.evaluations() + s.population_size() <= static_cast<std::uint64_t>(cfg.evaluations)) {
    const auto x = s.ask();
    arm.evaluate(x, f, d);
    s.tell(f, d);
    rd.generations().append(generation_json(s));
    if (cfg.log_every > 0 && s.generation() % static_cast<std::uint32_t>(cfg.log_every) == 0) {
      const auto st = s.archive().stats();
      fmt::print("gen {:5d}  evals {:7d}  coverage {:.4f}  QD-score {:10.2f}  best {:.6f}\n",
                 s.generation(), s.evaluations(), st.coverage, st.qd_score, st.best_objective);
      std::fflush(stdout);
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  qd::write_archive_jsonl(s.archive(), rd.file("archive.jsonl"));
  rd.add_artifact("archive.jsonl");
  qd::write_archive_csv(s.archive(), rd.file("archive.csv"));
  rd.add_artifact("archive.csv");
  {
    state_writer w;
    s.save(w);
    run::write_file_atomic(rd.file("archive.state"), w.bytes());
    rd.add_artifact("archive.state");
  }
  // best elite
  const auto& store = s.archive().store();
  std::size_t best = store.filled_cells()[0];
  for (std::uint32_t c : store.filled_cells())
    if (store.elite(c).objective > store.elite(best).objective) best = c;
  const auto e = store.elite(best);
  std::vector<float> genome(e.solution.begin(), e.solution.end());
  rd.save_best_genome(genome, {genome.size()});
  const auto st = s.archive().stats();
  fmt::print(
      "done: {} evaluations in {:.2f} s; coverage {:.4f} ({} of {} cells), QD-score {:.2f} "
      "(offset {}), best objective {:.6f} at descriptor ({:.4f}, {:.4f})\n",
      s.evaluations(), secs, st.coverage, st.filled, st.cells, st.qd_score, store.qd_score_offset(),
      st.best_objective, e.descriptor[0], e.descriptor[1]);
  if (cfg.plot) {
    const std::string why =
        plot_heatmap(cfg, rd.file("archive.jsonl"), rd.file("archive_heatmap.png"));
    if (why.empty()) {
      rd.add_artifact("archive_heatmap.png");
      fmt::print("heatmap: {}\n", rd.file("archive_heatmap.png").string());
    } else {
      fmt::print(stderr, "dphys_qd_arm: warning: heatmap skipped: {}\n", why);
    }
  }
  manifest["extra"]["coverage"] = st.coverage;
  manifest["extra"]["qd_score"] = st.qd_score;
  manifest["extra"]["evaluations"] = s.evaluations();
  rd.finalize(manifest);
  fmt::print("run directory: {}\n", rd.path().string());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace dphys;
  try {
    example::qd_arm_config cfg;
    if (dphys::wants_help(argc, argv)) {
      fmt::print("usage: dphys_qd_arm [--key=value ...]   (defaults shown)\n{}", describe(cfg));
      return 0;
    }
    apply_overrides(cfg, argc - 1, argv + 1);
    validate(cfg);
    const problems::planar_arm arm(cfg.arm);
    const bool me = cfg.algorithm == example::qd_algorithm::map_elites;
    const long batch = me ? cfg.map_elites.batch_size
                          : static_cast<long>(cfg.cma_me.emitters) * cfg.cma_me.batch_size;
    if (cfg.evaluations < batch)  // checked before the run directory is created
      throw config_error("evaluations", std::to_string(cfg.evaluations),
                         ">= one batch of the chosen algorithm (" + std::to_string(batch) + ")");
    fmt::print("dphys {} — planar arm, {} joints; {} on a {}x{} grid; {} evaluations; seed {}\n",
               version_string, cfg.arm.joints, enum_name(cfg.algorithm), cfg.cells, cfg.cells,
               cfg.evaluations, cfg.seed);
    if (me)
      fmt::print(
          "map_elites: batch {}, {} initial batch(es), {} (iso_sigma {}, line_sigma {}, "
          "gaussian_sigma {})\n",
          cfg.map_elites.batch_size, cfg.map_elites.initial_batches,
          enum_name(cfg.map_elites.variation), cfg.map_elites.iso_sigma, cfg.map_elites.line_sigma,
          cfg.map_elites.gaussian_sigma);
    else
      fmt::print("cma_me: {} emitters ({} random-direction) x batch {}, sigma0 {} (relative)\n",
                 cfg.cma_me.emitters, cfg.cma_me.random_direction_emitters, cfg.cma_me.batch_size,
                 cfg.cma_me.sigma0);

    qd::grid_archive_config gc;
    gc.dims = {cfg.cells, cfg.cells};
    gc.qd_score_offset = arm.min_objective();
    qd::grid_archive archive(gc, arm.dimension());

    auto rd = run::run_directory::create(cfg.out);
    rd.write_config(to_json(cfg));
    run::manifest_info info;
    info.library_version = std::string(version_string);
    info.seed = cfg.seed;
    info.threads = 1;
    info.simd_arch = std::string(simd::arch_name<simd::native>());
    info.command_line.assign(argv, argv + argc);
    info.build_flags = std::string(run::build_flags);
    info.git_describe = std::string(run::git_describe);
    info.extra = {{"experiment", "qd_arm"}, {"algorithm", enum_name(cfg.algorithm)}};
    auto manifest = run::make_manifest(info);
    rd.write_manifest(manifest);

    if (me) {
      qd::map_elites s(cfg.map_elites, std::move(archive), arm.domain(), cfg.seed);
      return run_strategy(s, cfg, arm, rd, manifest);
    }
    qd::cma_me s(cfg.cma_me, std::move(archive), arm.domain(), cfg.seed);
    return run_strategy(s, cfg, arm, rd, manifest);
  } catch (const std::exception& ex) {
    fmt::print(stderr, "dphys_qd_arm: error: {}\n", ex.what());
    return 2;
  }
}
