// dphys_koki2_exchange — genomes across dphys and koki2 (spec K12). `--mode=export` writes koki2's
// artifacts of a dphys_koki2 run (config.json, manifest.json, best_genome.npz, edge_index.npy,
// generations.jsonl); `--mode=import` turns a koki2 run directory into a dphys run directory that
// dphys_koki2_eval evaluates. Notes on settings the other side cannot express go to stderr.
#include <exception>
#include <string>

#include <fmt/format.h>

#include <dphys/experiments/koki2_exchange.hpp>

namespace {

enum class direction { export_, import_ };
constexpr auto enum_names(direction) {
  return std::array{std::pair{direction::export_, std::string_view{"export"}},
                    std::pair{direction::import_, std::string_view{"import"}}};
}

struct exchange_config {
  direction mode = direction::export_;
  std::string from;   ///< the run directory to read (dphys for export, koki2 for import)
  std::string to;     ///< the new directory to write
  std::string edges;  ///< import: the koki2 edge list (.npy [E, 2] or "src dst" text)

  void check(dphys::config_checker<exchange_config>& c) const {
    const auto given = [](const std::string& s) { return !s.empty(); };
    c(&exchange_config::from).satisfies(given, "the run directory to read");
    c(&exchange_config::to).satisfies(given, "the new directory to write");
    c(&exchange_config::edges)
        .satisfies([this](const std::string& s) { return s.empty() || mode == direction::import_; },
                   "only with --mode=import");
  }
};

}  // namespace

DPHYS_ADAPT_STRUCT(exchange_config, mode, from, to, edges);

int main(int argc, char** argv) {
  using namespace dphys;
  try {
    exchange_config ec;
    if (dphys::wants_help(argc, argv)) {
      fmt::print(
          "usage: dphys_koki2_exchange --mode=export|import --from=DIR --to=DIR "
          "[--edges=FILE]\n{}",
          describe(ec));
      return 0;
    }
    apply_overrides(ec, argc - 1, argv + 1);
    validate(ec);
    const bool out = ec.mode == direction::export_;
    const auto report = out ? experiments::export_koki2_run(ec.from, ec.to)
                            : experiments::import_koki2_run(ec.from, ec.to, ec.edges);
    for (const auto& note : report.notes) fmt::print(stderr, "note: {}\n", note);
    if (out)
      fmt::print(
          "exported {} -> {}: best_genome.npz ({} parameters), edge_index.npy ({} edges), "
          "config.json, manifest.json, generations.jsonl ({} lines)\n",
          ec.from, ec.to, report.parameters, report.edges, report.generations);
    else
      fmt::print(
          "imported {} -> {}: best_genome.npy ({} parameters), edge_index.npy ({} edges), "
          "config.json, manifest.json; evaluate with dphys_koki2_eval --run={}\n",
          ec.from, ec.to, report.parameters, report.edges, ec.to);
    return 0;
  } catch (const std::exception& ex) {
    fmt::print(stderr, "dphys_koki2_exchange: error: {}\n", ex.what());
    return 2;
  }
}
