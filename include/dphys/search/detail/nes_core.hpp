// dphys/search/detail/nes_core.hpp — the state and plumbing SNES and xNES share (held as a member,
// not a base): m, λ (default 4 + ⌊3 ln d⌋), seed, generation counter, the es_population ask/tell
// bookkeeping, the shaped utilities of the members taking part, and the common checkpoint records.
// Internal (detail); no extension points.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <stdexcept>
#include <vector>

#include <dphys/core/error.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/search/bounds.hpp>
#include <dphys/search/detail/es_population.hpp>

namespace dphys::search::detail {

template <class T, class Shaping, class Bounds, class NonFinite>
struct nes_core {
  using population_t = es_population<T, Bounds, NonFinite>;
  using update_input = typename population_t::update_input;

  std::uint64_t seed = 0;
  Shaping shaping{};
  std::vector<T> mean;
  std::size_t n = 0, lambda = 0;
  std::uint32_t generation = 0;
  population_t pop;

  /// `population_size` 0 ⇒ 4 + ⌊3 ln d⌋. Throws config_error for an empty mean.
  void init(std::vector<T> m0, int population_size, std::uint64_t seed_, box<T> domain,
            Shaping shaping_, Bounds bounds, NonFinite non_finite, const char* who) {
    seed = seed_;
    shaping = shaping_;
    mean = std::move(m0);
    if (mean.empty())
      throw config_error("mean", "(empty)", "the initial mean has at least one coordinate");
    n = mean.size();
    lambda = population_size > 0
                 ? static_cast<std::size_t>(population_size)
                 : 4 + static_cast<std::size_t>(std::floor(3.0 * std::log(double(n))));
    pop = population_t(n, std::move(domain), bounds, non_finite, who);
    pop.resize(lambda);
  }

  /// sample(first, count, word) fills members [first, first + count) of the population.
  template <class Sample>
  std::span<const T> ask(Sample&& sample) {
    return pop.ask([&](std::size_t i, std::uint32_t word) { sample(i, 1, word); },
                   [&](std::uint32_t word) { sample(0, lambda, word); });
  }

  /// Replaces the mean (e.g. by an island-model migrant); the step sizes / shape and the counters
  /// are kept. std::logic_error between ask() and tell(); std::invalid_argument for a wrong size.
  void set_mean(std::span<const T> m, const char* who) {
    if (pop.asked()) throw std::logic_error(std::string(who) + "::set_mean between ask() and tell()");
    if (m.size() != n)
      throw std::invalid_argument(std::string(who) + "::set_mean: got " + std::to_string(m.size()) +
                                  " values for dimension " + std::to_string(n));
    mean.assign(m.begin(), m.end());
  }

  /// update(in) runs when the population is complete; then the generation advances.
  template <class Update>
  void tell(std::span<const T> fitness, Update&& update) {
    update_input in;
    if (!pop.tell(fitness, generation, in)) return;
    update(in);
    ++generation;
  }

  /// The members taking part (not excluded) and their shaped utilities; false if there are none.
  bool utilities(const update_input& in, std::vector<std::size_t>& idx, std::vector<T>& u) {
    idx.clear();
    std::vector<T> f;
    for (std::size_t i = 0; i < lambda; ++i)
      if (!in.excluded[i]) {
        idx.push_back(i);
        f.push_back(in.fitness[i]);
      }
    if (idx.empty()) return false;
    u.assign(idx.size(), T(0));
    shaping(std::span<const T>(f), std::span<T>(u));
    return true;
  }

  /// dimension, generation, mean (the first records of the strategy's scope).
  void save_head(state_writer& w) const {
    w.put("dimension", static_cast<std::uint64_t>(n));
    w.put("generation", generation);
    w.put("mean", mean);
  }
  void load_head(state_reader& r, const char* who) {
    if (r.get<std::uint64_t>("dimension") != n)
      throw state_error(r.source() + ": " + who + " checkpoint of another dimension");
    r.get("generation", generation);
    r.get("mean", mean, n);
  }
};

}  // namespace dphys::search::detail
