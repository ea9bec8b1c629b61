// dphys_koki2_islands — islands of OpenAI-ES on the koki2 chemotaxis task with migration
// (population/islands.hpp; docs/tutorials/islands.md). Each island is an openai_es whose seed and
// initial mean come from island_seed(seed, island); every island's members are evaluated together
// as one population, member ids in island order. The run directory holds config.json,
// manifest.json, generations.jsonl (whole-population statistics plus one entry per island),
// migrations.jsonl (one line per migrant), best_genome.npy.
//
// Built a second time as dphys_koki2_islands_mpi (DPHYS_KOKI2_ISLANDS_MPI, only with
// DPHYS_WITH_MPI): the islands are spread over the MPI ranks (mpi/islands.hpp), rank 0 writes the
// run directory, and best_genome.npy, migrations.jsonl and the non-timing fields of
// generations.jsonl are identical to the in-process run's.
//   mpirun -np 2 dphys_koki2_islands_mpi --koki2.out=runs/islands_mpi
//   srun --ntasks=4 dphys_koki2_islands_mpi --islands.num_islands=8
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/hana/adapt_struct.hpp>
#include <fmt/format.h>

#include <dphys/experiments/koki2.hpp>
#include <dphys/population/islands.hpp>
#include <dphys/run/jsonl.hpp>

#ifdef DPHYS_KOKI2_ISLANDS_MPI
#include <mpi.h>

#include <dphys/mpi/islands.hpp>
#endif

namespace {

struct islands_example_config {
  /// The task and the per-island OpenAI-ES (koki2.es.pop_size is each island's population).
  dphys::experiments::koki2_config koki2 = default_koki2();
  dphys::population::island_config islands = default_islands();

  static dphys::experiments::koki2_config default_koki2() {
    dphys::experiments::koki2_config k;
    k.out = "runs/koki2_islands";
    k.generations = 100;
    k.es.pop_size = 16;
    return k;
  }
  static dphys::population::island_config default_islands() {
    dphys::population::island_config c;
    c.num_islands = 4;
    c.migration_interval = 10;
    c.migration_rate = 0.1;  // 1 migrant per island of 16
    return c;
  }

  void check(dphys::config_checker<islands_example_config>& c) const {
    c(&islands_example_config::koki2, &dphys::experiments::koki2_config::seeds)
        .satisfies([](const auto& v) { return v.empty(); },
                   "empty: one seed per run here (use koki2.seed)");
    c(&islands_example_config::koki2, &dphys::experiments::koki2_config::sweep)
        .satisfies([](const auto& v) { return v.empty(); }, "empty: no sweeps in this example");
    c(&islands_example_config::koki2, &dphys::experiments::koki2_config::mean_eval,
      &dphys::experiments::mean_eval_config::every)
        .satisfies([](int k) { return k == 0; }, "0: this example does not evaluate the ES mean");
  }
};

}  // namespace

BOOST_HANA_ADAPT_STRUCT(islands_example_config, koki2, islands);

namespace {

using namespace dphys;

// Where this process sits: rank 0 of 1 without MPI.
struct place {
  int rank = 0, ranks = 1;
};

std::vector<float> gather_fitness(const place& where, std::span<const float> mine) {
#ifdef DPHYS_KOKI2_ISLANDS_MPI
  if (where.ranks > 1) {
    const int n = static_cast<int>(mine.size());
    std::vector<int> counts(static_cast<std::size_t>(where.ranks)),
        displs(static_cast<std::size_t>(where.ranks));
    MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
    int total = 0;
    for (int r = 0; r < where.ranks; ++r) {
      displs[static_cast<std::size_t>(r)] = total;
      total += counts[static_cast<std::size_t>(r)];
    }
    std::vector<float> all(static_cast<std::size_t>(where.rank == 0 ? total : 0));
    MPI_Gatherv(mine.data(), n, MPI_FLOAT, all.data(), counts.data(), displs.data(), MPI_FLOAT, 0,
                MPI_COMM_WORLD);
    return all;
  }
#endif
  (void)where;
  return {mine.begin(), mine.end()};
}

std::uint64_t sum_to_root(const place& where, std::uint64_t mine) {
#ifdef DPHYS_KOKI2_ISLANDS_MPI
  if (where.ranks > 1) {
    std::uint64_t total = 0;
    MPI_Reduce(&mine, &total, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    return total;
  }
#endif
  (void)where;
  return mine;
}

dphys::json stats_json(const population::island_statistics& s) {
  auto num = [](double v) {
    return std::isfinite(v) ? dphys::json(v) : dphys::json(nullptr);
  };
  return {{"island", s.island},
          {"best_fitness", num(s.best)},
          {"mean_fitness", num(s.mean)},
          {"median_fitness", num(s.median)},
          {"best_so_far", num(s.best_so_far)},
          {"non_finite", s.non_finite}};
}

// The evolution loop, the same for island_model and mpi_island_model; rank 0 writes the run.
template <class Model>
void run(const islands_example_config& cfg, Model& model,
         const experiments::koki2_pipeline& pipeline, const place& where,
         const std::vector<std::string>& command_line) {
  const auto& k = cfg.koki2;
  const bool root = where.rank == 0;
  std::optional<run::run_directory> rd;
  std::optional<run::jsonl_appender> migrations_log;
  dphys::json manifest;
  const std::filesystem::path dir(k.out);
  if (root) {
    rd.emplace(run::run_directory::create(dir));
    auto config_json = to_json(cfg);
    config_json["koki2"] = experiments::resolved_config_json(k, dir);
    rd->write_config(config_json);
    run::manifest_info info;
    info.library_version = std::string(version_string);
    info.seed = k.seed;
    info.threads = k.threads == 0 ? hardware_threads() : k.threads;
    info.simd_arch = k.impl == experiments::lane_impl::simd
                         ? std::string(simd::arch_name<simd::native>())
                         : "scalar";
    info.command_line = command_line;
    info.build_flags = std::string(run::build_flags);
    info.git_describe = std::string(run::git_describe);
    info.extra = {{"experiment", "koki2_islands"},
                  {"mpi_ranks", where.ranks},
                  {"num_islands", cfg.islands.num_islands},
                  {"genome_size", pipeline.genome.size()}};
    manifest = run::make_manifest(info);
    rd->write_manifest(manifest);
    migrations_log.emplace(rd->file("migrations.jsonl"));
  }
  const experiments::dispatching_crucible<experiments::koki2_pipeline::crucible_type> crucible{
      &pipeline.crucible, k.impl};
  const auto generations = static_cast<std::uint32_t>(k.generations);
  std::size_t logged = 0;
  using clock = std::chrono::steady_clock;
  while (model.generation() < generations) {
    const auto t0 = clock::now();
    const std::uint32_t g = model.generation();
    const auto pop = model.ask();
    std::uint32_t offset = 0;
    if constexpr (requires { model.member_offset(); })
      offset = static_cast<std::uint32_t>(model.member_offset());
    const auto t1 = clock::now();
    const auto ev = crucible.evaluate(pop, crucibles::rollout_keys{k.seed, g, offset, 0});
    const auto t2 = clock::now();
    model.tell(ev.fitness);
    // whole-population record on rank 0 (statistics from every member's fitness, in id order)
    const auto all = gather_fitness(where, ev.fitness);
    const std::uint64_t local_pass =
        ev.pass_rate ? static_cast<std::uint64_t>(std::llround(
                           *ev.pass_rate * static_cast<double>(pop.size() / model.dimension())))
                     : 0;
    const std::uint64_t pass = sum_to_root(where, local_pass);
    const std::uint64_t steps = sum_to_root(where, ev.agent_steps);
    if (!root) continue;
    generation_record rec;
    rec.generation = g;
    fill_statistics(rec, all);
    if (ev.pass_rate)
      rec.mvt_pass_rate = static_cast<double>(pass) / static_cast<double>(all.size());
    rec.agent_steps = steps;
    rec.best_so_far = static_cast<float>(model.best_fitness());
    rec.eval_seconds = std::chrono::duration<double>(t2 - t1).count();
    rec.generation_seconds = std::chrono::duration<double>(clock::now() - t0).count();
    auto j = rec.to_json();
    j["islands"] = dphys::json::array();
    for (const auto& s : model.island_stats()) j["islands"].push_back(stats_json(s));
    const auto& mig = model.migrations();
    j["migrations"] = mig.size() - logged;
    rd->generations().append(j);
    for (; logged < mig.size(); ++logged) {
      const auto& m = mig[logged];
      migrations_log->append({{"generation", m.generation},
                              {"from", m.from},
                              {"to", m.to},
                              {"fitness", m.fitness},
                              {"accepted", m.accepted}});
    }
    const bool show =
        (g + 1) % static_cast<std::uint32_t>(k.log_every) == 0 || g == 0 || g + 1 == generations;
    if (show) {
      for (const auto& s : model.island_stats())
        fmt::print(
            "gen {:4d}/{}  island {:2d}  best {:9.3f}  mean {:9.3f}  median {:9.3f}  "
            "best-so-far {:9.3f}\n",
            g + 1, generations, s.island, s.best, s.mean, s.median, s.best_so_far);
      std::size_t accepted = 0, event = 0;
      for (const auto& m : mig)
        if (m.generation == g + 1) {
          ++event;
          accepted += m.accepted ? 1 : 0;
        }
      if (event)
        fmt::print("gen {:4d}/{}  migration: {} migrants, {} accepted\n", g + 1, generations, event,
                   accepted);
      fmt::print(
          "gen {:4d}/{}  all islands: best {:9.3f}  best-so-far {:9.3f} (island {})  "
          "{:.2f} s\n",
          g + 1, generations, rec.best_fitness, rec.best_so_far, model.best_island(),
          rec.generation_seconds);
      std::fflush(stdout);
    }
  }
  if (!root) return;
  migrations_log->sync();
  rd->add_artifact("migrations.jsonl");
  const auto best = model.best();
  if (!best.empty()) rd->save_best_genome(best, {best.size()});
  rd->finalize(manifest);
  fmt::print("run directory: {}\nbest fitness (best sampled individual, island {}): {:.4f}\n",
             dir.string(), model.best_island(), static_cast<double>(model.best_fitness()));
}

// Island i: OpenAI-ES from the genome initialiser's draw for its own seed.
auto island_factory(const islands_example_config& cfg, const experiments::koki2_pipeline& p) {
  return [&cfg, &p](std::uint32_t, std::uint64_t island_seed) {
    std::vector<float> mean(p.genome.size());
    p.genome.init(island_seed, 0, mean);
    return search::openai_es(experiments::es_config(cfg.koki2), std::move(mean), island_seed);
  };
}

// Parses, validates and runs; `started` turns true once the ranks work together (collectives).
void run_main(islands_example_config& cfg, int argc, char** argv, const place& where,
              bool& started) {
  apply_overrides(cfg, argc - 1, argv + 1);
  validate(cfg);
  const auto& k = cfg.koki2;
  if (where.rank == 0)
    fmt::print(
        "dphys {} — koki2 islands: {} islands of OpenAI-ES (pop {} each), migration every "
        "{} generations ({}, {}), {} generations; {} MPI rank(s), {} thread(s) each\n",
        version_string, cfg.islands.num_islands, k.es.pop_size, cfg.islands.migration_interval,
        enum_name(cfg.islands.topology), cfg.islands.elitism ? "elitism" : "random migrants",
        k.generations, where.ranks, k.threads <= 0 ? hardware_threads() : k.threads);
  const auto pipeline = experiments::koki2_pipeline::make(k);
  const std::vector<std::string> command_line(argv, argv + argc);
  // Refuse an existing run directory (on every rank, before any of them starts).
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::path(k.out) / "config.json", ec))
    throw run::io_error("run directory " + k.out +
                        " already holds a run (config.json): choose another --koki2.out");
  // The model's own config errors name fields of island_config: say where they live here.
  auto build = [&]<class Model>(auto&&... args) {
    try {
      return Model(cfg.islands, k.seed, args..., island_factory(cfg, pipeline));
    } catch (const config_error& e) {
      throw config_error("islands." + e.field, e.value, e.rule);
    }
  };
#ifdef DPHYS_KOKI2_ISLANDS_MPI
  MPI_Barrier(MPI_COMM_WORLD);
  auto model = build.template operator()<mpi::mpi_island_model<search::openai_es>>(MPI_COMM_WORLD);
#else
  auto model = build.template operator()<population::island_model<search::openai_es>>();
#endif
  started = true;
  run(cfg, model, pipeline, where, command_line);
}

}  // namespace

int main(int argc, char** argv) {
#ifdef DPHYS_KOKI2_ISLANDS_MPI
  constexpr const char* name = "dphys_koki2_islands_mpi";
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
#else
  constexpr const char* name = "dphys_koki2_islands";
#endif
  place where;
#ifdef DPHYS_KOKI2_ISLANDS_MPI
  MPI_Comm_rank(MPI_COMM_WORLD, &where.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &where.ranks);
#endif
  int status = 0;
  bool started = false;
  try {
    islands_example_config cfg;
    if (dphys::wants_help(argc, argv)) {
      if (where.rank == 0)
        fmt::print("usage: {} [--key=value ...]   (defaults shown)\n{}", name, describe(cfg));
    } else {
      run_main(cfg, argc, argv, where, started);
    }
  } catch (const std::exception& e) {
    // Before the start every rank fails alike: rank 0 speaks for all.
    if (started || where.rank == 0)
      fmt::print(stderr, "{}: error{}: {}\n", name,
                 started && where.ranks > 1 ? fmt::format(" (rank {})", where.rank) : std::string(),
                 e.what());
    status = 2;
#ifdef DPHYS_KOKI2_ISLANDS_MPI
    // A failure after the ranks started together would leave the others waiting in a collective.
    if (started && where.ranks > 1) MPI_Abort(MPI_COMM_WORLD, 2);
#endif
  }
  (void)started;
#ifdef DPHYS_KOKI2_ISLANDS_MPI
  MPI_Finalize();
#endif
  return status;
}
