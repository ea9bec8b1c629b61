// dphys/search/ga.hpp — a generational, real-valued genetic algorithm as an ask/tell
// search_strategy: parent selection, pairwise crossover (with probability p_c), mutation, elitism.
// Extension points: the Selection, Crossover, Mutation (search/operators/), Bounds
// (search/bounds.hpp) and NonFinite (search/non_finite.hpp) policies of basic_ga; `ga<T>` is the
// friendly default (tournament of 2, SBX η_c = 20, polynomial mutation η_m = 20 with p_m = 1/n,
// clip to the box).
//
// Config: ga_config {pop_size, elites, crossover_probability}; operator parameters live in the
// operator objects passed to the constructor. Generation 0 asks pop_size members uniform in the
// domain box; generation g > 0 asks the `elites` best members of generation g − 1 (re-evaluated:
// robust to noisy fitness, costs `elites` evaluations per generation) followed by offspring bred
// from generation g − 1 by selection → crossover → mutation → bounds repair.
// Higher fitness is better. Determinism: dphys's counter RNG keyed by (seed, ga_stream, generation,
// step = purpose, member = pair or child; retries and bound redraws: member = slot, episode = the
// counter word); ties broken by index. Non-finite fitness: the NonFinite policy (non_finite.hpp):
// worst_rank (default), quarantine (left out of the parent pool), resample_non_finite; counted in
// non_finite().
// Checkpoint: save/load, bitwise identical continuation. Thread safety: none (ask/tell mutate).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
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
#include <dphys/search/operators/crossover.hpp>
#include <dphys/search/operators/draws.hpp>
#include <dphys/search/operators/mutation.hpp>
#include <dphys/search/operators/selection.hpp>

namespace dphys::search {

/// Random stream of the GA (value 0x200). Steps: 0 initial population, 1 selection, 2 crossover,
/// 3 mutation; episode word 0, or for a re-sampled slot (non-finite retry, `resample` bounds
/// redraw) the retry/redraw word with member word = slot.
inline constexpr stream_id ga_stream = static_cast<stream_id>(0x200u);

struct ga_config {
  int pop_size = 100;                  ///< members asked per generation
  int elites = 1;                      ///< best members copied unchanged into the next generation
  double crossover_probability = 0.9;  ///< p_c: a parent pair is recombined, else copied

  void check(config_checker<ga_config>& c) const {
    c(&ga_config::pop_size).at_least(2).at_most(1 << 20);
    c(&ga_config::elites).at_least(0).less_than(&ga_config::pop_size);
    c(&ga_config::crossover_probability).in_range(0.0, 1.0);
  }
};

}  // namespace dphys::search

DPHYS_ADAPT_STRUCT(dphys::search::ga_config, pop_size, elites, crossover_probability);

namespace dphys::search {

template <class T = double, class Selection = tournament_selection, class Crossover = sbx,
          class Mutation = polynomial_mutation, class Bounds = clip, class NonFinite = worst_rank>
class basic_ga {
  static_assert(std::floating_point<T>, "basic_ga<T, ...>: T must be float or double");
  static_assert(bound_handling<Bounds, T>,
                "basic_ga<T, Selection, Crossover, Mutation, Bounds, NonFinite>: Bounds must model "
                "dphys::search::bound_handling (no_bounds, clip, reflect, resample, penalty)");
  static_assert(non_finite_handling<NonFinite>,
                "basic_ga<..., NonFinite>: NonFinite must model dphys::search::non_finite_handling "
                "(worst_rank, quarantine, resample_non_finite)");
  using population_t = detail::es_population<T, Bounds, NonFinite>;

 public:
  using value_type = T;

  /// `domain`: the box the initial population is drawn from; box-aware operators (SBX, polynomial
  /// mutation) keep children inside it, and `Bounds` decides what happens to points outside it
  /// (no_bounds: the box only seeds the search). Throws config_error for a bad config or box.
  basic_ga(ga_config cfg, box<T> domain, std::uint64_t seed, Selection selection = {},
           Crossover crossover = {}, Mutation mutation = {}, Bounds bounds = {},
           NonFinite non_finite = {})
      : cfg_(cfg), seed_(seed), selection_(selection), crossover_(crossover), mutation_(mutation) {
    dphys::validate(cfg_);
    if constexpr (reflected_config<Selection>) dphys::validate(selection_);
    if constexpr (reflected_config<Crossover>) dphys::validate(crossover_);
    if constexpr (reflected_config<Mutation>) dphys::validate(mutation_);
    domain.validate();
    if (domain.empty()) throw config_error("box", "(empty)", "at least one variable");
    const std::size_t d = domain.size();
    box_ = domain;
    pop_ = population_t(d, std::move(domain), bounds, non_finite, "basic_ga");
    pop_.resize(population_size());
  }

  [[nodiscard]] std::size_t dimension() const { return box_.size(); }
  [[nodiscard]] std::size_t population_size() const {
    return static_cast<std::size_t>(cfg_.pop_size);
  }
  [[nodiscard]] std::uint32_t generation() const { return generation_; }
  [[nodiscard]] std::uint64_t evaluations() const { return pop_.evaluations(); }
  [[nodiscard]] const ga_config& config() const { return cfg_; }
  [[nodiscard]] const box<T>& domain() const { return box_; }
  [[nodiscard]] const non_finite_stats& non_finite() const { return pop_.stats(); }
  [[nodiscard]] const std::vector<quarantine_record<T>>& quarantined() const {
    return pop_.quarantined();
  }
  /// Slots the next ask re-samples (resample_non_finite); empty otherwise.
  [[nodiscard]] const std::vector<std::uint32_t>& pending_slots() const { return pop_.pending(); }
  /// Best evaluated point so far (empty before the first finite fitness) and its fitness.
  [[nodiscard]] std::span<const T> best() const { return pop_.best(); }
  [[nodiscard]] T best_fitness() const { return pop_.best_fitness(); }
  /// The parent pool: the last completed generation's members taking part in the update (all of
  /// them unless quarantined) and their (sanitised, penalised) fitness.
  [[nodiscard]] std::span<const T> parents() const { return parents_; }
  [[nodiscard]] std::span<const T> parent_fitness() const { return parent_fitness_; }

  /// Replaces the worst member of the parent pool (lowest fitness, non-finite lowest; among equals
  /// the last) by `genome` with `fitness` if `fitness` is finite and strictly higher (e.g. an
  /// island-model migrant, population/islands.hpp); returns whether it did. False while there is
  /// no parent pool.
  /// std::invalid_argument if `genome` does not have dimension() values.
  bool replace_worst(std::span<const T> genome, T fitness) {
    const std::size_t d = dimension();
    if (genome.size() != d)
      throw std::invalid_argument("basic_ga::replace_worst: got " + std::to_string(genome.size()) +
                                  " values for dimension " + std::to_string(d));
    if (parent_fitness_.empty()) return false;
    // Non-finite fitness ranks below every finite value (the strategies' rule).
    auto rank_key = [](T f) { return std::isfinite(f) ? f : -std::numeric_limits<T>::infinity(); };
    std::size_t worst = 0;
    for (std::size_t i = 1; i < parent_fitness_.size(); ++i)
      if (!(rank_key(parent_fitness_[i]) > rank_key(parent_fitness_[worst]))) worst = i;
    if (!std::isfinite(fitness) || !(fitness > rank_key(parent_fitness_[worst]))) return false;
    std::copy(genome.begin(), genome.end(),
              parents_.begin() + static_cast<std::ptrdiff_t>(worst * d));
    parent_fitness_[worst] = fitness;
    return true;
  }

  /// This generation's population (population_size() × dimension(), row-major). After a tell that
  /// asked for retries (resample_non_finite), the same population with pending_slots() re-sampled.
  std::span<const T> ask() {
    return pop_.ask([this](std::size_t i, std::uint32_t word) { sample_one(i, word); },
                    [this](std::uint32_t) { sample_all(); });
  }

  /// Fitness of the last asked population (higher is better); during a retry only the values at
  /// pending_slots() are read.
  void tell(std::span<const T> fitness) {
    typename population_t::update_input in;
    if (!pop_.tell(fitness, generation_, in)) return;  // resample_non_finite: retry those slots
    const std::size_t n = population_size();
    std::vector<T> pool, pool_fitness;
    for (std::size_t i = 0; i < n; ++i) {
      if (in.excluded[i]) continue;
      const auto x = pop_.update_point(i);
      pool.insert(pool.end(), x.begin(), x.end());
      pool_fitness.push_back(in.fitness[i]);
    }
    if (!pool_fitness.empty()) {  // everybody quarantined: keep the previous pool
      parents_ = std::move(pool);
      parent_fitness_ = std::move(pool_fitness);
    }
    ++generation_;
  }

  void save(state_writer& w) const {
    auto scope = w.scope("ga");
    w.put("dimension", static_cast<std::uint64_t>(dimension()));
    w.put("pop_size", cfg_.pop_size);
    w.put("seed", seed_);
    w.put("generation", generation_);
    w.put("parents", parents_);
    w.put("parent_fitness", parent_fitness_);
    pop_.save(w);
  }

  /// Restores a state saved by a GA of the same dimension, pop_size and seed (state_error
  /// otherwise).
  void load(state_reader& r) {
    auto scope = r.scope("ga");
    const std::size_t d = dimension();
    if (r.get<std::uint64_t>("dimension") != d || r.get<int>("pop_size") != cfg_.pop_size ||
        r.get<std::uint64_t>("seed") != seed_)
      throw state_error(r.source() +
                        ": ga checkpoint was written by a strategy with a different dimension, "
                        "pop_size or seed");
    basic_ga s(*this);
    r.get("generation", s.generation_);
    r.get("parents", s.parents_);
    r.get("parent_fitness", s.parent_fitness_);
    if (s.parents_.size() != s.parent_fitness_.size() * d)
      throw state_error(r.source() + ": records 'ga/parents' and 'ga/parent_fitness' disagree");
    s.pop_.load(r);
    *this = std::move(s);
  }

 private:
  void uniform_member(T* x, const random_key& key, std::size_t i, std::uint32_t episode) const {
    draws rng(key, static_cast<std::uint32_t>(i), episode);
    for (std::size_t j = 0; j < dimension(); ++j)
      x[j] = static_cast<T>(box_.lower[j] +
                            (box_.upper[j] - box_.lower[j]) * static_cast<T>(rng.uniform()));
  }

  // Every member of a new generation: uniform in the box when there is no parent pool yet,
  // otherwise elites then offspring.
  void sample_all() {
    const std::size_t n = population_size();
    if (parent_fitness_.empty()) {
      const auto key = random_key::make(seed_, ga_stream, generation_, 0);
      for (std::size_t i = 0; i < n; ++i) uniform_member(pop_.genotype(i).data(), key, i, 0);
    } else {
      breed();
    }
  }

  // One member from the counter word `word` != 0 (a retry or a bounds redraw): uniform in the box
  // without a parent pool, else a fresh child of two selected parents (its first child).
  void sample_one(std::size_t i, std::uint32_t word) {
    const std::size_t d = dimension();
    if (parent_fitness_.empty()) {
      uniform_member(pop_.genotype(i).data(), random_key::make(seed_, ga_stream, generation_, 0), i,
                     word);
      return;
    }
    std::array<std::size_t, 2> mates{};
    draws sel(random_key::make(seed_, ga_stream, generation_, 1), static_cast<std::uint32_t>(i),
              word);
    selection_(std::span<const T>(parent_fitness_), std::span<std::size_t>(mates), sel);
    std::vector<T> c2(d);
    const auto out = pop_.genotype(i);
    draws cx(random_key::make(seed_, ga_stream, generation_, 2), static_cast<std::uint32_t>(i),
             word);
    vary(mates[0], mates[1], out, std::span<T>(c2), cx);
    draws mut(random_key::make(seed_, ga_stream, generation_, 3), static_cast<std::uint32_t>(i),
              word);
    mutation_(out, std::span<const T>(box_.lower), std::span<const T>(box_.upper), mut);
  }

  // Crossover (with probability p_c, else copies) of parents a and b into c1, c2.
  void vary(std::size_t a, std::size_t b, std::span<T> c1, std::span<T> c2, draws& cx) const {
    const std::size_t d = dimension();
    const std::span<const T> pa(parents_.data() + a * d, d), pb(parents_.data() + b * d, d);
    if (cx.bernoulli(cfg_.crossover_probability)) {
      crossover_(pa, pb, c1, c2, std::span<const T>(box_.lower), std::span<const T>(box_.upper),
                 cx);
    } else {
      std::copy(pa.begin(), pa.end(), c1.begin());
      std::copy(pb.begin(), pb.end(), c2.begin());
    }
  }

  void breed() {
    const std::size_t n = population_size(), d = dimension(), pool = parent_fitness_.size();
    const std::size_t e = std::min(static_cast<std::size_t>(cfg_.elites), pool);
    const std::span<const T> f(parent_fitness_);
    // elites: the best e of the pool, ties by index
    std::vector<std::size_t> order(pool);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return f[a] > f[b]; });
    for (std::size_t k = 0; k < e; ++k)
      std::copy_n(parents_.begin() + static_cast<std::ptrdiff_t>(order[k] * d), d,
                  pop_.genotype(k).begin());
    const std::size_t children = n - e, pairs = (children + 1) / 2;
    std::vector<std::size_t> mates(2 * pairs);
    draws sel(random_key::make(seed_, ga_stream, generation_, 1), 0);
    selection_(f, std::span<std::size_t>(mates), sel);
    const auto cx_key = random_key::make(seed_, ga_stream, generation_, 2);
    const auto mut_key = random_key::make(seed_, ga_stream, generation_, 3);
    std::vector<T> c1(d), c2(d);
    for (std::size_t p = 0; p < pairs; ++p) {
      draws cx(cx_key, static_cast<std::uint32_t>(p));
      vary(mates[2 * p], mates[2 * p + 1], std::span<T>(c1), std::span<T>(c2), cx);
      for (std::size_t k = 0; k < 2; ++k) {
        const std::size_t child = 2 * p + k;
        if (child >= children) break;  // odd number of children: the second of the last pair
        const auto out = pop_.genotype(e + child);
        const std::vector<T>& src = k == 0 ? c1 : c2;
        std::copy(src.begin(), src.end(), out.begin());
        draws mut(mut_key, static_cast<std::uint32_t>(child));
        mutation_(out, std::span<const T>(box_.lower), std::span<const T>(box_.upper), mut);
      }
    }
  }

  ga_config cfg_;
  box<T> box_;
  std::uint64_t seed_;
  Selection selection_;
  Crossover crossover_;
  Mutation mutation_;
  population_t pop_;
  std::uint32_t generation_ = 0;
  std::vector<T> parents_, parent_fitness_;
};

/// The default GA: binary tournament, SBX (η_c = 20), polynomial mutation (η_m = 20, p_m = 1/n),
/// clip to the box.
template <class T = double>
using ga = basic_ga<T, tournament_selection, sbx, polynomial_mutation, clip>;

/// A classic real-coded GA with Gaussian mutation and uniform crossover (the box only seeds the
/// search unless you choose another Bounds policy).
template <class T = double>
using gaussian_ga =
    basic_ga<T, tournament_selection, uniform_crossover, gaussian_mutation, no_bounds>;

static_assert(search_strategy<ga<double>> && search_strategy<ga<float>>);

}  // namespace dphys::search
