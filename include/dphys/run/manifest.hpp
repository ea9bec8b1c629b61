// Run manifests: manifest_info (what produced a run) -> make_manifest() JSON, plus compiler_id()
// and UTC ISO-8601 time stamps. run_directory::finalize() adds the artifact checksums.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include <dphys/core/json.hpp>

namespace dphys::run {

// Version of the manifest.json layout written by make_manifest (key "manifest_schema").
inline constexpr int manifest_schema_version = 1;

// The compiler that compiled the calling translation unit, e.g. "g++ 12.2.0" or "clang++ 14.0.6".
[[nodiscard]] inline std::string compiler_id() {
#if defined(__clang__)
  std::string v = __clang_version__;
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return "clang++ " + v;
#elif defined(__GNUC__)
  return std::string("g++ ") + __VERSION__;
#elif defined(_MSC_VER)
  return "msvc " + std::to_string(_MSC_FULL_VER);
#else
  return "unknown";
#endif
}

// "YYYY-MM-DDTHH:MM:SSZ" (UTC, whole seconds).
[[nodiscard]] inline std::string utc_iso8601(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);  // cannot fail: system_clock spans +-292 years
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

[[nodiscard]] inline std::string utc_now_iso8601() {
  return utc_iso8601(std::chrono::system_clock::now());
}

// What produced a run. Strings that are unknown stay empty and are written as empty strings, so the
// set of manifest keys never depends on the build.
struct manifest_info {
  std::string library_version;
  std::uint64_t seed = 0;
  int threads = 1;
  std::string simd_arch;                 // e.g. xsimd::default_arch::name()
  std::string compiler = compiler_id();  // of the translation unit that creates the manifest_info
  std::string build_flags;     // e.g. the CMAKE_CXX_FLAGS the example was built with, if known
  std::string git_describe;    // `git describe --always --dirty`, if known
  std::string start_time_utc;  // ISO-8601; empty = the time make_manifest() is called
  std::vector<std::string> command_line;            // argv
  dphys::json extra = dphys::json::object();  // anything else the experiment wants recorded
};

// The manifest.json object: {manifest_schema, library_version, seed, threads, simd_arch, compiler,
// build_flags, git_describe, start_time_utc, command_line, extra, artifacts: {}}. `artifacts` (file
// name -> sha256 hex) is filled by run_directory::finalize().
[[nodiscard]] inline dphys::json make_manifest(const manifest_info& info) {
  return dphys::json{
      {"manifest_schema", manifest_schema_version},
      {"library_version", info.library_version},
      {"seed", info.seed},
      {"threads", info.threads},
      {"simd_arch", info.simd_arch},
      {"compiler", info.compiler},
      {"build_flags", info.build_flags},
      {"git_describe", info.git_describe},
      {"start_time_utc", info.start_time_utc.empty() ? utc_now_iso8601() : info.start_time_utc},
      {"command_line", info.command_line},
      {"extra", info.extra},
      {"artifacts", dphys::json::object()},
  };
}

}  // namespace dphys::run
