// run_directory: the files of one run (config.json, manifest.json, generations.jsonl,
// best_genome.npy, extra artifacts), written atomically or append-safely, with sha256 checksums
// recorded in the manifest by finalize().
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <dphys/core/json.hpp>

#include "dphys/run/atomic_file.hpp"
#include "dphys/run/jsonl.hpp"
#include "dphys/run/npy.hpp"
#include "dphys/run/sha256.hpp"

namespace dphys::run {

// Every generations.jsonl record carries {"schema": generations_schema_version}. Adding fields
// keeps the version; renaming, removing or changing the meaning of a field increments it.
inline constexpr int generations_schema_version = 1;

// One run's directory. Not thread-safe; move-only (moving invalidates references returned by
// generations()).
class run_directory {
 public:
  static constexpr std::string_view config_name = "config.json";
  static constexpr std::string_view manifest_name = "manifest.json";
  static constexpr std::string_view generations_name = "generations.jsonl";
  static constexpr std::string_view best_genome_name = "best_genome.npy";

  // Creates `dir` (and its parents). A directory that already holds a config.json is a previous
  // run: unless allow_existing (e.g. resuming from a checkpoint), that is an io_error and nothing
  // is touched.
  [[nodiscard]] static run_directory create(std::filesystem::path dir,
                                            bool allow_existing = false) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
      throw io_error("run_directory " + detail::quoted(dir) +
                     ": cannot create the directory: " + ec.message());
    if (!std::filesystem::is_directory(dir, ec))
      throw io_error("run_directory " + detail::quoted(dir) + ": exists and is not a directory");
    run_directory rd(std::move(dir), allow_existing);
    if (!allow_existing) rd.refuse_if_previous_run();
    return rd;
  }

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return dir_; }

  // Path of the file `name` inside the run directory. `name` is relative and may contain
  // sub-directories, but no "." or ".." components; otherwise io_error.
  [[nodiscard]] std::filesystem::path file(std::string_view name) const {
    const std::filesystem::path rel(name);
    bool ok = !name.empty() && rel.is_relative() && rel.has_filename();
    for (const auto& part : rel)
      if (part == "." || part == "..") ok = false;
    if (!ok)
      throw io_error("run_directory " + detail::quoted(dir_) + ": '" + std::string(name) +
                     "' is not a file name inside the run directory");
    return dir_ / rel;
  }

  // config.json: 2-space indent, keys sorted, trailing newline; atomic. `config` must be a JSON
  // object.
  void write_config(const dphys::json& config) {
    if (!config.is_object())
      throw format_error("run_directory " + detail::quoted(dir_) +
                         ": the config must be a JSON object, got " +
                         std::string(config.type_name()));
    if (!allow_existing_ && !config_written_)
      refuse_if_previous_run();  // another writer may have been here
    write_file_atomic(file(config_name), pretty(config, config_name));
    config_written_ = true;
  }

  // manifest.json, same formatting, atomic.
  void write_manifest(const dphys::json& manifest) {
    if (!manifest.is_object())
      throw format_error("run_directory " + detail::quoted(dir_) +
                         ": the manifest must be a JSON object, got " +
                         std::string(manifest.type_name()));
    write_file_atomic(file(manifest_name), pretty(manifest, manifest_name));
  }

  // generations.jsonl, opened on first use (a partial last line left by a crash is removed then;
  // see jsonl_appender). Records should carry "schema": generations_schema_version.
  [[nodiscard]] jsonl_appender& generations() {
    if (!generations_) generations_.emplace(file(generations_name));
    return *generations_;
  }

  // best_genome.npy (float32, C order, `shape` must multiply to genome.size()); atomic.
  void save_best_genome(std::span<const float> genome, std::vector<std::size_t> shape) {
    save_npy<float>(file(best_genome_name), genome, std::move(shape));
  }

  // Lists one more file (relative to the directory, e.g. "checkpoints/gen_100.bin") to be
  // checksummed by finalize(). It must exist as a regular file by then.
  void add_artifact(std::string_view name) {
    (void)file(name);
    if (name == manifest_name)
      throw io_error("run_directory " + detail::quoted(dir_) +
                     ": manifest.json cannot list its own checksum");
    if (std::find(extra_artifacts_.begin(), extra_artifacts_.end(), name) == extra_artifacts_.end())
      extra_artifacts_.emplace_back(name);
  }

  // Syncs generations.jsonl, sets manifest["artifacts"] = {file name: sha256 hex} for config.json,
  // generations.jsonl and best_genome.npy (those that exist) and every add_artifact() file (which
  // must exist), then writes manifest.json atomically. Call it last: files changed afterwards no
  // longer match.
  void finalize(dphys::json manifest) {
    if (!manifest.is_object())
      throw format_error("run_directory " + detail::quoted(dir_) +
                         ": the manifest must be a JSON object, got " +
                         std::string(manifest.type_name()));
    if (generations_) generations_->sync();
    dphys::json artifacts = dphys::json::object();
    std::error_code ec;
    for (std::string_view name : {config_name, generations_name, best_genome_name})
      if (std::filesystem::is_regular_file(file(name), ec))
        artifacts[std::string(name)] = sha256_file(file(name));
    for (const std::string& name : extra_artifacts_) {
      if (!std::filesystem::is_regular_file(file(name), ec))
        throw io_error("run_directory " + detail::quoted(dir_) + ": artifact '" + name +
                       "' (listed with add_artifact) is not a regular file in the run directory");
      artifacts[name] = sha256_file(file(name));
    }
    manifest["artifacts"] = std::move(artifacts);
    write_manifest(manifest);
  }

 private:
  run_directory(std::filesystem::path dir, bool allow_existing)
      : dir_(std::move(dir)), allow_existing_(allow_existing) {}

  void refuse_if_previous_run() const {
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::symlink_status(file(config_name), ec)))
      throw io_error(
          "run_directory " + detail::quoted(dir_) +
          ": refusing to overwrite an existing run (the directory already has a config.json); "
          "choose a new directory, or pass allow_existing=true to continue that run");
  }

  std::string pretty(const dphys::json& j, std::string_view name) const {
    try {
      return j.dump(2) + "\n";
    } catch (const dphys::json::exception& e) {
      throw format_error("run_directory " + detail::quoted(file(name)) +
                         ": cannot serialise: " + e.what());
    }
  }

  std::filesystem::path dir_;
  bool allow_existing_ = false;
  bool config_written_ = false;
  std::optional<jsonl_appender> generations_;
  std::vector<std::string> extra_artifacts_;
};

}  // namespace dphys::run
