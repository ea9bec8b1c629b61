// dphys/run/build_info.hpp — provenance of the program that writes a run: the build flags and
// `git describe` of the sources, if the build defines DPHYS_BUILD_FLAGS / DPHYS_GIT_DESCRIBE
// (dphys's own CMake does for its examples; a user's build may too). Empty strings otherwise.
#pragma once

#include <string_view>

// Internal linkage (no `inline`): translation units built with different definitions do not clash.
namespace dphys::run {

#ifdef DPHYS_BUILD_FLAGS
constexpr std::string_view build_flags = DPHYS_BUILD_FLAGS;
#else
constexpr std::string_view build_flags = "";
#endif

#ifdef DPHYS_GIT_DESCRIBE
constexpr std::string_view git_describe = DPHYS_GIT_DESCRIBE;
#else
constexpr std::string_view git_describe = "";
#endif

}  // namespace dphys::run
