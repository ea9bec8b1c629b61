// dphys/search/operators/selection.hpp — parent selection policies for the GA: tournament_selection
// (size k) and truncation_selection (uniform among the best fraction). Extension point: a selection
// policy is a value type with
//   template <class T> void operator()(std::span<const T> fitness, std::span<std::size_t> parents,
//                                      draws& d) const
// that writes one population index per slot of `parents`. Fitness: higher is better, no NaN (the
// strategy maps non-finite values to −∞ before selecting). Pure given `d`.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <span>
#include <vector>

#include <dphys/core/config_check.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/search/operators/draws.hpp>

namespace dphys::search {

/// k-tournament with replacement: each slot draws `size` members uniformly and takes the fittest
/// (ties: the first drawn). size 1 is uniform random selection; larger sizes select harder.
struct tournament_selection {
  int size = 2;

  void check(config_checker<tournament_selection>& c) const {
    c(&tournament_selection::size).at_least(1).at_most(1 << 20);
  }

  template <class T>
  void operator()(std::span<const T> fitness, std::span<std::size_t> parents, draws& d) const {
    const std::size_t n = fitness.size();
    for (auto& slot : parents) {
      std::size_t winner = d.below(n);
      for (int k = 1; k < size; ++k) {
        const std::size_t challenger = d.below(n);
        if (fitness[challenger] > fitness[winner]) winner = challenger;
      }
      slot = winner;
    }
  }
};

/// Truncation: each slot is drawn uniformly from the best max(1, round(fraction·n)) members (ranked
/// by fitness, ties by index).
struct truncation_selection {
  double fraction = 0.5;

  void check(config_checker<truncation_selection>& c) const {
    c(&truncation_selection::fraction).greater_than(0.0).at_most(1.0);
  }

  template <class T>
  void operator()(std::span<const T> fitness, std::span<std::size_t> parents, draws& d) const {
    const std::size_t n = fitness.size();
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return fitness[a] > fitness[b]; });
    const auto kept = std::clamp<std::size_t>(
        static_cast<std::size_t>(std::lround(fraction * static_cast<double>(n))), 1, n);
    for (auto& slot : parents) slot = order[d.below(kept)];
  }
};

}  // namespace dphys::search

DPHYS_ADAPT_STRUCT(dphys::search::tournament_selection, size);
DPHYS_ADAPT_STRUCT(dphys::search::truncation_selection, fraction);
