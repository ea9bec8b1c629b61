// dphys/envs/episode.hpp — what every lane-vectorised environment shares with the rollouts that
// step it: the lane-uniform counter words of an episode (episode_keys) and the choice of which
// per-lane words key its random streams (random_numbers, spec K7).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>

namespace dphys::envs {

/// Which counter words key the environment's random streams (spec K7).
enum class random_numbers {
  per_member,  ///< koki2 mode: environment draws keyed by (member, episode)
  common  ///< common random numbers: keyed by episode only, identical for every member and policy
};
constexpr auto enum_names(random_numbers) {
  return std::array{std::pair{random_numbers::per_member, std::string_view{"per_member"}},
                    std::pair{random_numbers::common, std::string_view{"common"}}};
}

/// Lane-uniform part of the random counter of one rollout: seed and generation.
struct episode_keys {
  std::uint64_t seed = 0;
  std::uint32_t generation = 0;
};

}  // namespace dphys::envs
