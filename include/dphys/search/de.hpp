// dphys/search/de.hpp — differential evolution (Storn & Price 1997, J. Global Optim. 11) as an
// ask/tell search_strategy: DE/rand/1/bin and DE/best/1/bin, and their exponential-crossover forms
// rand/1/exp and best/1/exp. Extension points: the Bounds (search/bounds.hpp) and NonFinite
// (search/non_finite.hpp) policies of basic_de; `de<T>` clips to the box.
//
// Config: de_config {pop_size, differential_weight F, crossover_rate CR, variant}. Generation 0
// asks the initial population (uniform in the domain box); every later ask is one trial vector per
// target x_i:
//   rand/1: v = x_r1 + F·(x_r2 − x_r3)    best/1: v = x_best + F·(x_r1 − x_r2)
// with r1, r2, r3 distinct, uniform, and different from i, x_best the best target (ties: lowest
// index); binomial crossover u_j = v_j if (U_j < CR or j = j_rand) else x_ij, j_rand uniform;
// exponential crossover: u takes v on L consecutive coordinates (cyclically) from a uniform start,
// L = 1 + the number of successive draws U < CR (at most n).
// Then the bounds policy repairs u. tell: u replaces x_i when f(u) >= f(x_i) (higher is better).
// Determinism: dphys's counter RNG keyed by (seed, de_stream, generation, step = purpose,
// member = i, episode = 0, or the retry/redraw word). Non-finite fitness: the NonFinite policy
// (non_finite.hpp) — worst_rank (default), quarantine or resample_non_finite; under every policy a
// non-finite trial never replaces its target, and a non-finite initial member ranks below every
// finite one (it stays a target: DE needs one per slot); counted in non_finite().
// Checkpoint: save/load, bitwise identical continuation. Thread safety: none (ask/tell mutate).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/core/concepts.hpp>
#include <dphys/core/config_check.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/search/bounds.hpp>
#include <dphys/search/detail/es_population.hpp>
#include <dphys/search/non_finite.hpp>
#include <dphys/search/operators/draws.hpp>

namespace dphys::search {

/// Random stream of DE (value 0x201). Steps: 0 initial population, 1 mutation and crossover
/// (member word = target; episode word 0, or the retry/redraw word for a re-sampled slot).
inline constexpr stream_id de_stream = static_cast<stream_id>(0x201u);

enum class de_variant { rand_1_bin, best_1_bin, rand_1_exp, best_1_exp };
constexpr auto enum_names(de_variant) {
  return std::array{std::pair{de_variant::rand_1_bin, std::string_view{"rand/1/bin"}},
                    std::pair{de_variant::best_1_bin, std::string_view{"best/1/bin"}},
                    std::pair{de_variant::rand_1_exp, std::string_view{"rand/1/exp"}},
                    std::pair{de_variant::best_1_exp, std::string_view{"best/1/exp"}}};
}

struct de_config {
  int pop_size = 40;
  double differential_weight = 0.8;  ///< F
  double crossover_rate = 0.9;       ///< CR (binomial: per coordinate; exponential: continuation)
  de_variant variant = de_variant::rand_1_bin;

  void check(config_checker<de_config>& c) const {
    c(&de_config::pop_size).at_least(4).at_most(1 << 20);
    c(&de_config::differential_weight).greater_than(0.0).at_most(2.0);
    c(&de_config::crossover_rate).in_range(0.0, 1.0);
  }
};

}  // namespace dphys::search

DPHYS_ADAPT_STRUCT(dphys::search::de_config, pop_size, differential_weight, crossover_rate,
                   variant);

namespace dphys::search {

template <class T = double, class Bounds = clip, class NonFinite = worst_rank>
class basic_de {
  static_assert(std::floating_point<T>,
                "basic_de<T, Bounds, NonFinite>: T must be float or double");
  static_assert(bound_handling<Bounds, T>,
                "basic_de<T, Bounds, NonFinite>: Bounds must model dphys::search::bound_handling "
                "(no_bounds, clip, reflect, resample, penalty)");
  static_assert(non_finite_handling<NonFinite>,
                "basic_de<T, Bounds, NonFinite>: NonFinite must model "
                "dphys::search::non_finite_handling (worst_rank, quarantine, resample_non_finite)");
  using population_t = detail::es_population<T, Bounds, NonFinite>;

 public:
  using value_type = T;

  /// `domain`: the box the initial population is drawn from and `Bounds` enforces (no_bounds: the
  /// box only seeds the search). Throws config_error for a bad config or box.
  basic_de(de_config cfg, box<T> domain, std::uint64_t seed, Bounds bounds = {},
           NonFinite non_finite = {})
      : cfg_(cfg), seed_(seed) {
    dphys::validate(cfg_);
    domain.validate();
    if (domain.empty()) throw config_error("box", "(empty)", "at least one variable");
    box_ = domain;
    pop_ = population_t(box_.size(), std::move(domain), bounds, non_finite, "basic_de");
    pop_.resize(population_size());
    finite_.assign(population_size(), 1);
  }

  [[nodiscard]] std::size_t dimension() const { return box_.size(); }
  [[nodiscard]] std::size_t population_size() const {
    return static_cast<std::size_t>(cfg_.pop_size);
  }
  [[nodiscard]] std::uint32_t generation() const { return generation_; }
  [[nodiscard]] std::uint64_t evaluations() const { return pop_.evaluations(); }
  [[nodiscard]] const de_config& config() const { return cfg_; }
  [[nodiscard]] const box<T>& domain() const { return box_; }
  [[nodiscard]] const non_finite_stats& non_finite() const { return pop_.stats(); }
  [[nodiscard]] const std::vector<quarantine_record<T>>& quarantined() const {
    return pop_.quarantined();
  }
  /// Slots the next ask re-samples (resample_non_finite); empty otherwise.
  [[nodiscard]] const std::vector<std::uint32_t>& pending_slots() const { return pop_.pending(); }
  [[nodiscard]] std::span<const T> best() const { return pop_.best(); }
  [[nodiscard]] T best_fitness() const { return pop_.best_fitness(); }
  /// The current targets and their fitness (after the first completed generation).
  [[nodiscard]] std::span<const T> targets() const { return targets_; }
  [[nodiscard]] std::span<const T> target_fitness() const { return target_fitness_; }

  /// Replaces the worst target (lowest fitness, non-finite lowest; among equals the last) by `genome` with `fitness`
  /// if `fitness` is finite and strictly higher (e.g. an island-model migrant, population/islands.hpp);
  /// returns whether it did. False before the first completed generation (no targets yet).
  /// std::invalid_argument if `genome` does not have dimension() values.
  bool replace_worst(std::span<const T> genome, T fitness) {
    const std::size_t d = dimension();
    if (genome.size() != d)
      throw std::invalid_argument("basic_de::replace_worst: got " + std::to_string(genome.size()) +
                                  " values for dimension " + std::to_string(d));
    if (target_fitness_.empty()) return false;
    // Non-finite fitness ranks below every finite value (the strategies' rule).
    auto rank_key = [](T f) { return std::isfinite(f) ? f : -std::numeric_limits<T>::infinity(); };
    std::size_t worst = 0;
    for (std::size_t i = 1; i < target_fitness_.size(); ++i)
      if (!(rank_key(target_fitness_[i]) > rank_key(target_fitness_[worst]))) worst = i;
    if (!std::isfinite(fitness) || !(fitness > rank_key(target_fitness_[worst]))) return false;
    std::copy(genome.begin(), genome.end(), targets_.begin() + static_cast<std::ptrdiff_t>(worst * d));
    target_fitness_[worst] = fitness;
    return true;
  }

  /// Generation 0: the initial population; afterwards one trial vector per target. After a tell
  /// that asked for retries (resample_non_finite), the same with pending_slots() re-sampled.
  std::span<const T> ask() {
    return pop_.ask([this](std::size_t i, std::uint32_t word) { sample(i, word); },
                    [this](std::uint32_t word) {
                      for (std::size_t i = 0; i < population_size(); ++i) sample(i, word);
                    });
  }

  /// Fitness of the last asked population (higher is better); during a retry only the values at
  /// pending_slots() are read.
  void tell(std::span<const T> fitness) {
    const std::vector<std::uint32_t> read = pop_.pending();
    typename population_t::update_input in;
    const bool update = pop_.tell(fitness, generation_, in);
    if (read.empty()) {
      for (std::size_t i = 0; i < population_size(); ++i) finite_[i] = std::isfinite(fitness[i]);
    } else {
      for (std::uint32_t i : read) finite_[i] = std::isfinite(fitness[i]);
    }
    if (!update) return;  // resample_non_finite: retry those slots
    const std::size_t n = population_size(), d = dimension();
    if (generation_ == 0) {
      targets_.resize(n * d);
      for (std::size_t i = 0; i < n; ++i) {
        const auto x = pop_.update_point(i);
        std::copy(x.begin(), x.end(), targets_.begin() + static_cast<std::ptrdiff_t>(i * d));
      }
      target_fitness_ = std::move(in.fitness);
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        if (in.excluded[i] || !finite_[i] || !(in.fitness[i] >= target_fitness_[i])) continue;
        target_fitness_[i] = in.fitness[i];
        const auto x = pop_.update_point(i);
        std::copy(x.begin(), x.end(), targets_.begin() + static_cast<std::ptrdiff_t>(i * d));
      }
    }
    ++generation_;
  }

  void save(state_writer& w) const {
    auto scope = w.scope("de");
    w.put("dimension", static_cast<std::uint64_t>(dimension()));
    w.put("pop_size", cfg_.pop_size);
    w.put("seed", seed_);
    w.put("generation", generation_);
    w.put("targets", targets_);
    w.put("target_fitness", target_fitness_);
    w.put("finite", finite_);
    pop_.save(w);
  }

  /// Restores a state saved by a DE of the same dimension, pop_size and seed (state_error
  /// otherwise).
  void load(state_reader& r) {
    auto scope = r.scope("de");
    const std::size_t n = population_size(), d = dimension();
    if (r.get<std::uint64_t>("dimension") != d || r.get<int>("pop_size") != cfg_.pop_size ||
        r.get<std::uint64_t>("seed") != seed_)
      throw state_error(r.source() +
                        ": de checkpoint was written by a strategy with a different dimension, "
                        "pop_size or seed");
    basic_de s(*this);
    r.get("generation", s.generation_);
    const std::size_t nt = s.generation_ > 0 ? n : 0;
    r.get("targets", s.targets_, nt * d);
    r.get("target_fitness", s.target_fitness_, nt);
    r.get("finite", s.finite_, n);
    s.pop_.load(r);
    *this = std::move(s);
  }

 private:
  // Member i from the counter word `word` (0 for a generation's first sample, the retry/redraw word
  // otherwise): uniform in the box in generation 0, else the trial vector of target i.
  void sample(std::size_t i, std::uint32_t word) {
    const std::size_t n = population_size(), d = dimension();
    T* u = pop_.genotype(i).data();
    if (targets_.empty()) {
      draws rng(random_key::make(seed_, de_stream, 0, 0), static_cast<std::uint32_t>(i), word);
      for (std::size_t j = 0; j < d; ++j)
        u[j] = static_cast<T>(box_.lower[j] +
                              (box_.upper[j] - box_.lower[j]) * static_cast<T>(rng.uniform()));
      return;
    }
    std::size_t ibest = 0;
    for (std::size_t k = 1; k < n; ++k)
      if (target_fitness_[k] > target_fitness_[ibest]) ibest = k;
    const T f = static_cast<T>(cfg_.differential_weight);
    draws rng(random_key::make(seed_, de_stream, generation_, 1), static_cast<std::uint32_t>(i),
              word);
    // distinct indices, all different from i, by rejection
    std::array<std::size_t, 3> r{};
    const bool from_rand =
        cfg_.variant == de_variant::rand_1_bin || cfg_.variant == de_variant::rand_1_exp;
    const bool binomial =
        cfg_.variant == de_variant::rand_1_bin || cfg_.variant == de_variant::best_1_bin;
    const std::size_t needed = from_rand ? 3 : 2;
    for (std::size_t k = 0; k < needed; ++k) {
      std::size_t c;
      do {
        c = rng.below(n);
      } while (c == i || std::find(r.begin(), r.begin() + static_cast<std::ptrdiff_t>(k), c) !=
                             r.begin() + static_cast<std::ptrdiff_t>(k));
      r[k] = c;
    }
    const T* base = from_rand ? row(r[0]) : row(ibest);
    const T* a = from_rand ? row(r[1]) : row(r[0]);
    const T* b = from_rand ? row(r[2]) : row(r[1]);
    const T* x = row(i);
    const auto mutant = [&](std::size_t j) { return base[j] + f * (a[j] - b[j]); };
    if (binomial) {
      const std::size_t j_rand = rng.below(d);
      for (std::size_t j = 0; j < d; ++j) {
        const bool from_mutant = rng.uniform() < cfg_.crossover_rate || j == j_rand;
        u[j] = from_mutant ? mutant(j) : x[j];
      }
    } else {
      std::copy(x, x + d, u);
      const std::size_t start = rng.below(d);
      std::size_t length = 1;
      while (length < d && rng.uniform() < cfg_.crossover_rate) ++length;
      for (std::size_t k = 0; k < length; ++k) u[(start + k) % d] = mutant((start + k) % d);
    }
  }

  const T* row(std::size_t i) const { return targets_.data() + i * dimension(); }

  de_config cfg_;
  box<T> box_;
  std::uint64_t seed_;
  population_t pop_;
  std::uint32_t generation_ = 0;
  std::vector<T> targets_, target_fitness_;
  std::vector<std::uint8_t> finite_;  // whether each slot's last told fitness was finite
};

/// DE with the box enforced by clipping; choose rand/1/bin, best/1/bin, rand/1/exp or best/1/exp in
/// de_config::variant.
template <class T = double>
using de = basic_de<T, clip>;

static_assert(search_strategy<de<double>> && search_strategy<de<float>>);

}  // namespace dphys::search
