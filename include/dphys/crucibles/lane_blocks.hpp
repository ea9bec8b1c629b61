// dphys/crucibles/lane_blocks.hpp — what every lane-vectorised rollout crucible shares: its config
// (rollout_config), its counter words (rollout_keys), the lane words of one block, and the dealing
// of blocks to threads.
//
// A rollout runs members × episodes *lanes*; lane i is episode i % E of member i / E. Lanes are cut
// into blocks of simd::lanes_v<F>; the last block is padded with copies of the last lane, whose
// results are dropped. A lane's counter words are its member word (member_offset + member, or 0
// with common random numbers) and its episode word (episode_offset + episode), so its result never
// depends on the block it falls in, the lane type or the thread that runs it.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <dphys/core/config.hpp>
#include <dphys/core/parallel.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/simd.hpp>
#include <dphys/envs/episode.hpp>

namespace dphys::crucibles {

struct rollout_config {
  int episodes = 4;  ///< episodes per member; fitness is their mean
  int steps = -1;    ///< horizon; < 0: the environment's max_steps
  envs::random_numbers random_numbers = envs::random_numbers::per_member;
  /// Rollout threads (<= 0: all hardware threads). Not a config key: results never depend on it, so
  /// the experiment sets it from its own top-level `threads` option.
  int threads = 1;
  int block_lanes = 64;  ///< most lanes a thread claims at once (rounded up to the SIMD width)

  void check(config_checker<rollout_config>& c) const {
    c(&rollout_config::episodes).at_least(1).at_most(1 << 20);
    c(&rollout_config::steps).at_least(-1);
    c(&rollout_config::block_lanes).at_least(1).at_most(1 << 16);
  }
};

/// Which counter words a rollout uses.
struct rollout_keys {
  std::uint64_t seed = 0;
  std::uint32_t generation = 0;
  std::uint32_t member_offset = 0;  ///< global id of member 0 (islands, batches)
  std::uint32_t episode_offset =
      0;  ///< first episode word (e.g. MVT episodes use a disjoint range)
};

namespace detail {

/// The counter words of the block of lanes [first, first + L) (L = lanes_v<F>) of a rollout of
/// `lanes` lanes with `episodes` episodes per member.
template <simd::lane_type F>
struct block_words {
  static constexpr std::size_t L = simd::lanes_v<F>;
  simd::uint_t<F> member_word, episode_word;
  std::array<std::size_t, L> member_of{};  ///< the member whose genome lane l runs

  block_words(std::size_t first, std::size_t lanes, std::size_t episodes, const rollout_keys& keys,
              envs::random_numbers mode) {
    std::array<std::uint32_t, L> mw{}, ew{};
    for (std::size_t l = 0; l < L; ++l) {
      const std::size_t lane = std::min(first + l, lanes - 1);
      member_of[l] = lane / episodes;
      ew[l] = keys.episode_offset + static_cast<std::uint32_t>(lane % episodes);
      mw[l] = mode == envs::random_numbers::common
                  ? 0u
                  : keys.member_offset + static_cast<std::uint32_t>(member_of[l]);
    }
    member_word = simd::load_words<F>(mw.data());
    episode_word = simd::load_words<F>(ew.data());
  }
};

/// Runs block(b) for every b in [0, blocks) on the rollout's threads (cfg.threads, <= 0: all
/// hardware threads), each block exactly once. Guided dealing: each thread claims runs of
/// min(per_task, remaining / (2·threads)) blocks (at least one), per_task = the blocks of
/// cfg.block_lanes lanes, so the threads finish within about one block of each other. Which thread
/// runs a block is not deterministic; block(b) must write only block b's results.
template <class Block>
void deal_blocks(std::size_t blocks, std::size_t lanes_per_block, const rollout_config& cfg,
                 Block&& block) {
  const std::size_t per_task = std::max<std::size_t>(
      1, (static_cast<std::size_t>(cfg.block_lanes) + lanes_per_block - 1) / lanes_per_block);
  const std::size_t threads = std::min<std::size_t>(
      blocks, static_cast<std::size_t>(cfg.threads > 0 ? cfg.threads : hardware_threads()));
  std::atomic<std::size_t> next{0};
  parallel_for(threads, cfg.threads, [&](std::size_t) {
    for (std::size_t b0 = next.load(std::memory_order_relaxed);;) {
      if (b0 >= blocks) return;
      const std::size_t run_length =
          std::clamp<std::size_t>((blocks - b0) / (2 * threads), 1, per_task);
      if (!next.compare_exchange_weak(b0, b0 + run_length, std::memory_order_relaxed)) continue;
      for (std::size_t b = b0; b < b0 + run_length; ++b) block(b);
      b0 = next.load(std::memory_order_relaxed);
    }
  });
}

/// The number of genomes of genome_size floats in `population`; std::invalid_argument naming
/// `who` when the size is not a multiple (or the genome is empty).
inline std::size_t members_in(std::size_t population_size, std::size_t genome_size,
                              const char* who) {
  if (genome_size == 0 || population_size % genome_size != 0)
    throw std::invalid_argument(std::string(who) + ": population size " +
                                std::to_string(population_size) +
                                " is not a multiple of the genome size " +
                                std::to_string(genome_size));
  return population_size / genome_size;
}

/// fitness[m] = the mean of episode_value(m·E + e) over e = 0..E−1, summed in episode order (a
/// fixed order); returns how many members' means are NaN or infinite.
template <class EpisodeValue>
std::size_t mean_per_member(std::size_t members, std::size_t episodes, std::vector<float>& fitness,
                            EpisodeValue&& episode_value) {
  std::size_t non_finite = 0;
  fitness.assign(members, 0.0f);
  for (std::size_t m = 0; m < members; ++m) {
    float sum = 0.0f;
    for (std::size_t e = 0; e < episodes; ++e) sum += episode_value(m * episodes + e);
    fitness[m] = sum / static_cast<float>(episodes);
    if (!std::isfinite(fitness[m])) ++non_finite;
  }
  return non_finite;
}

}  // namespace detail
}  // namespace dphys::crucibles

DPHYS_ADAPT_STRUCT(dphys::crucibles::rollout_config, episodes, steps, random_numbers,
                   block_lanes);
