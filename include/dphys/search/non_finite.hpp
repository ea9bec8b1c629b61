// dphys/search/non_finite.hpp — what a strategy does with non-finite fitness (NaN, ±inf): policies
// `worst_rank`, `quarantine`, `resample_non_finite`, the counters `non_finite_stats` every strategy
// exposes as `non_finite()` (and saves in its checkpoints), and `sanitise`, which applies a policy
// to one generation's fitness. Extension point: the concept `non_finite_handling<P>` (a policy
// states `action`, one of non_finite_action).
//
// Semantics (identical in every dphys strategy):
//  - worst_rank: a non-finite value becomes a finite value below every finite one of the
//    generation (so it takes the worst ranks, ties by index) and the member takes part in the update.
//  - quarantine: the member is excluded from the update entirely (as if it had not been sampled);
//    its genome is recorded (the last `keep` records, strategy.quarantined()). If every member is
//    excluded the update is skipped, but the generation still advances.
//  - resample_non_finite: tell() does NOT update and does not advance the generation; the next ask()
//    returns the same population except the failed slots, which are re-sampled with a fresh draw
//    (counter word: retry number); strategy.pending_slots() lists them. In the following tell() only
//    the fitness values at those slots are read (the others keep their stored values). After
//    `max_retries` retries in one generation, the remaining non-finite values are treated as
//    worst_rank.
// Every non-finite value received by tell() is counted: total over the run and in the last
// generation (retries included).
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <dphys/core/state_io.hpp>

namespace dphys::search {

enum class non_finite_action { worst_rank, quarantine, resample };

/// Counts of non-finite fitness values seen by tell(): over the whole run, and in the most recent
/// generation (all of its tells, retries included).
struct non_finite_stats {
  std::uint64_t total = 0, last_generation = 0;

  void save(state_writer& w) const {
    w.put("non_finite_total", total);
    w.put("non_finite_last_generation", last_generation);
  }
  void load(state_reader& r) {
    r.get("non_finite_total", total);
    r.get("non_finite_last_generation", last_generation);
  }
  friend bool operator==(const non_finite_stats&, const non_finite_stats&) = default;
};

/// Non-finite → below every finite value (worst ranks, ties by index); member kept in the update.
struct worst_rank {
  static constexpr non_finite_action action = non_finite_action::worst_rank;
};

/// Non-finite → member excluded from the update; the strategy records its genome (last `keep`).
struct quarantine {
  static constexpr non_finite_action action = non_finite_action::quarantine;
  std::size_t keep = 64;
};

/// Non-finite → the slot is re-sampled and re-evaluated (see the header comment), at most
/// `max_retries` times per generation, then worst_rank.
struct resample_non_finite {
  static constexpr non_finite_action action = non_finite_action::resample;
  int max_retries = 10;
};

/// non_finite_handling<P> — minimal complete definition: `P::action` convertible to
/// non_finite_action.
template <class P>
concept non_finite_handling = requires {
  { P::action } -> std::convertible_to<non_finite_action>;
};

/// One quarantined member: when and what.
template <class T>
struct quarantine_record {
  std::uint32_t generation = 0;
  std::uint32_t member = 0;
  std::vector<T> genome;
};

/// Result of sanitise: finite fitness for shaping/ranking, and which members to leave out.
template <class T>
struct sanitised_fitness {
  std::vector<T> fitness;                ///< all finite; non-finite replaced (see sanitise)
  std::vector<std::uint8_t> excluded;    ///< 1 = leave this member out of the update
  std::vector<std::uint8_t> non_finite;  ///< 1 = the input value was non-finite
  std::size_t count = 0;                 ///< number of non-finite inputs
};

/// Applies a policy to one generation's fitness. Every non-finite value is replaced by
/// lo − (1 + (hi − lo)), where lo/hi are the lowest/highest finite values (0 if none are finite),
/// i.e. strictly below every finite value; equal replacements rank by index. worst_rank excludes
/// nobody; quarantine and resample_non_finite mark the non-finite members as excluded (the strategy
/// decides whether to retry; after the last retry it calls sanitise with worst_rank).
template <non_finite_handling Policy, std::floating_point T>
sanitised_fitness<T> sanitise(const Policy&, std::span<const T> fitness) {
  sanitised_fitness<T> out;
  const std::size_t n = fitness.size();
  out.fitness.assign(fitness.begin(), fitness.end());
  out.excluded.assign(n, 0);
  out.non_finite.assign(n, 0);
  T lo = std::numeric_limits<T>::infinity(), hi = -std::numeric_limits<T>::infinity();
  for (T f : fitness)
    if (std::isfinite(f)) {
      lo = std::min(lo, f);
      hi = std::max(hi, f);
    }
  if (!(lo <= hi)) lo = hi = T(0);
  const T worst = lo - (T(1) + (hi - lo));
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(fitness[i])) {
      out.fitness[i] = worst;
      out.non_finite[i] = 1;
      out.excluded[i] = Policy::action == non_finite_action::worst_rank ? 0 : 1;
      ++out.count;
    }
  return out;
}

}  // namespace dphys::search
