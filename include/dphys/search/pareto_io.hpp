// dphys/search/pareto_io.hpp — writing a pareto_archive into a run directory: the front and the set
// as .npy (atomic, via run/npy.hpp) and one JSON Lines record per generation (run/jsonl.hpp).
// Split from pareto.hpp because it pulls in dphys::json and the POSIX run layer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include <dphys/core/json.hpp>

#include <dphys/run/jsonl.hpp>
#include <dphys/run/npy.hpp>
#include <dphys/search/pareto.hpp>

namespace dphys::search {

/// Writes `<dir>/<stem>_front.npy` (size × M objectives, maximisation convention as stored) and
/// `<dir>/<stem>_set.npy` (size × dimension decision vectors), each atomically (a reader never
/// sees a partial file). Load with numpy.load.
template <class T>
void write_pareto_npy(const std::filesystem::path& dir, const pareto_archive<T>& archive,
                      const std::string& stem = "pareto") {
  run::save_npy<T>(dir / (stem + "_front.npy"), archive.objectives(),
                   {archive.size(), archive.num_objectives()});
  run::save_npy<T>(dir / (stem + "_set.npy"), archive.decisions(),
                   {archive.size(), archive.dimension()});
}

/// {"generation", "evaluations", "size", "hypervolume", "reference"}: one line of pareto.jsonl.
template <class T>
dphys::json pareto_record(std::uint64_t generation, std::uint64_t evaluations,
                             const pareto_archive<T>& archive, std::span<const T> reference) {
  dphys::json ref = dphys::json::array();
  for (const T v : reference) ref.push_back(static_cast<double>(v));
  return {{"generation", generation},
          {"evaluations", evaluations},
          {"size", archive.size()},
          {"hypervolume", archive.hypervolume(reference)},
          {"reference", std::move(ref)}};
}

/// Appends pareto_record(...) to a JSON Lines log (e.g. `<run dir>/pareto.jsonl`).
template <class T>
void append_pareto_record(run::jsonl_appender& log, std::uint64_t generation,
                          std::uint64_t evaluations, const pareto_archive<T>& archive,
                          std::span<const T> reference) {
  log.append(pareto_record(generation, evaluations, archive, reference));
}

}  // namespace dphys::search
