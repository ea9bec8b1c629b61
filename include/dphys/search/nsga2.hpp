// dphys/search/nsga2.hpp — NSGA-II (Deb, Pratap, Agarwal & Meyarivan 2002, IEEE TEC 6(2)) as an
// ask/tell multi-objective strategy modelling `multi_objective_strategy` (core/concepts.hpp).
// Extension points: the Crossover, Mutation (search/operators/), Bounds (search/bounds.hpp) and
// NonFinite (search/non_finite.hpp) policies of basic_nsga2; `nsga2<T>` is the paper's
// configuration (SBX η_c = 20, p_c = 0.9, polynomial mutation η_m = 20, p_m = 1/n).
//
// Config: nsga2_config {pop_size, crossover_probability}; operator parameters live in the operator
// objects (sbx, polynomial_mutation), passed to the constructor.
// Generation 0 asks the initial population (uniform in the box); every later ask is N offspring
// bred from the parents by binary tournaments on (rank, crowding), crossover and mutation; tell
// merges parents and offspring (2N), sorts them into fronts (O(M·N²)) and keeps the best N by
// (front, crowding distance). All objectives are MAXIMISED (negate minimisation objectives).
// Determinism: every draw is dphys's counter RNG keyed by (seed, nsga2_stream, generation, step =
// purpose, member = pair or child); ties are broken by index. Checkpoint: save/load, bitwise.
// Non-finite objectives (the NonFinite policy, non_finite.hpp): a member with any non-finite
// objective counts as −inf in every objective, so every finite member dominates it (worst_rank);
// quarantine records it and leaves an offspring out of the survivor selection; resample_non_finite
// re-samples the slot (pending_slots()) up to max_retries times; each non-finite value is counted
// in non_finite().
// Thread safety: none (ask/tell mutate); distinct objects are independent.
#pragma once

#include <algorithm>
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
#include <dphys/search/non_finite.hpp>
#include <dphys/search/operators/crossover.hpp>
#include <dphys/search/operators/draws.hpp>
#include <dphys/search/operators/mutation.hpp>
#include <dphys/search/pareto.hpp>

namespace dphys::search {

/// Random stream of NSGA-II (value 0x202; GA 0x200, DE 0x201). Steps: 0 initial population,
/// 1 tournaments, 2 crossover, 3 mutation; episode word 0, or for a re-sampled slot (non-finite
/// retry, `resample` bounds redraw) the retry/redraw word with member word = slot.
inline constexpr stream_id nsga2_stream = static_cast<stream_id>(0x202u);

struct nsga2_config {
  int pop_size = 100;                  ///< N: parents kept and offspring per generation (even)
  double crossover_probability = 0.9;  ///< p_c: a pair is recombined, else copied

  void check(config_checker<nsga2_config>& c) const {
    c(&nsga2_config::pop_size)
        .at_least(4)
        .at_most(1 << 20)
        .satisfies([](int n) { return n % 2 == 0; }, "even (offspring come in pairs)");
    c(&nsga2_config::crossover_probability).in_range(0.0, 1.0);
  }
};

}  // namespace dphys::search

DPHYS_ADAPT_STRUCT(dphys::search::nsga2_config, pop_size, crossover_probability);

namespace dphys::search {

template <class T = double, class Crossover = sbx, class Mutation = polynomial_mutation,
          class Bounds = clip, class NonFinite = worst_rank>
class basic_nsga2 {
  static_assert(std::floating_point<T>, "basic_nsga2<T, ...>: T must be float or double");
  static_assert(bound_handling<Bounds, T>,
                "basic_nsga2<T, Crossover, Mutation, Bounds, NonFinite>: Bounds must model "
                "dphys::search::bound_handling (no_bounds, clip, reflect, resample, penalty)");
  static_assert(non_finite_handling<NonFinite>,
                "basic_nsga2<..., NonFinite>: NonFinite must model "
                "dphys::search::non_finite_handling (worst_rank, quarantine, resample_non_finite)");

 public:
  using value_type = T;
  using crossover_type = Crossover;
  using mutation_type = Mutation;
  using bounds_type = Bounds;

  /// `domain`: the box the initial population is drawn from, that bounded operators (SBX,
  /// polynomial mutation) respect and that `Bounds` enforces. Throws config_error for a bad config
  /// or box, std::invalid_argument for num_objectives < 1.
  basic_nsga2(nsga2_config cfg, std::size_t num_objectives, box<T> domain, std::uint64_t seed,
              Crossover crossover = {}, Mutation mutation = {}, Bounds bounds = {},
              NonFinite non_finite = {})
      : cfg_(cfg),
        m_(num_objectives),
        box_(std::move(domain)),
        seed_(seed),
        crossover_(crossover),
        mutation_(mutation),
        bounds_(bounds),
        nf_(non_finite) {
    dphys::validate(cfg_);
    if constexpr (reflected_config<Crossover>) dphys::validate(crossover_);
    if constexpr (reflected_config<Mutation>) dphys::validate(mutation_);
    box_.validate();
    if (box_.empty()) throw config_error("box", "(empty)", "at least one variable");
    if (m_ == 0) throw std::invalid_argument("basic_nsga2: num_objectives must be >= 1");
    const std::size_t n = population_size(), d = dimension();
    population_.resize(n * d);
    genomes_.resize(n * d);
    penalty_.assign(n, T(0));
    told_.assign(n * m_, T(0));
  }

  [[nodiscard]] std::size_t dimension() const { return box_.size(); }
  [[nodiscard]] std::size_t population_size() const {
    return static_cast<std::size_t>(cfg_.pop_size);
  }
  [[nodiscard]] std::size_t num_objectives() const { return m_; }
  [[nodiscard]] std::uint32_t generation() const { return generation_; }
  [[nodiscard]] std::uint64_t evaluations() const { return evaluations_; }
  [[nodiscard]] const nsga2_config& config() const { return cfg_; }
  [[nodiscard]] const box<T>& domain() const { return box_; }
  [[nodiscard]] const non_finite_stats& non_finite() const { return non_finite_; }
  [[nodiscard]] const std::vector<quarantine_record<T>>& quarantined() const {
    return quarantined_;
  }
  /// Slots the next ask re-samples (resample_non_finite); empty otherwise.
  [[nodiscard]] const std::vector<std::uint32_t>& pending_slots() const { return pending_; }

  /// The current parents (after the first tell): decision vectors, objectives (non-finite rows
  /// stored as −inf), front ranks (0 = non-dominated) and crowding distances.
  [[nodiscard]] std::span<const T> parents() const { return parents_; }
  [[nodiscard]] std::span<const T> parent_objectives() const { return parent_obj_; }
  [[nodiscard]] std::span<const std::size_t> ranks() const { return rank_; }
  [[nodiscard]] std::span<const double> crowding() const { return crowd_; }

  /// The non-dominated parents (rank 0): decision vectors and objectives, row-major.
  [[nodiscard]] std::vector<T> pareto_set() const { return rows_of_rank0(parents_, dimension()); }
  [[nodiscard]] std::vector<T> pareto_front() const { return rows_of_rank0(parent_obj_, m_); }

  /// This generation's candidates (population_size() × dimension(), row-major): the initial
  /// population at generation 0, offspring afterwards. A pure function of the state.
  std::span<const T> ask() {
    const std::size_t n = population_size();
    const std::uint32_t word = retries_ << 16;
    if (!pending_.empty()) {
      for (std::uint32_t i : pending_) {
        sample_one(i, word);
        finish_member(i, word);
      }
    } else {
      if (generation_ == 0) {
        for (std::size_t i = 0; i < n; ++i) uniform_member(i, 0);
      } else {
        breed();
      }
      for (std::size_t i = 0; i < n; ++i) finish_member(i, word);
    }
    asked_ = true;
    return population_;
  }

  /// Objectives of the last asked population: population_size() × num_objectives() values,
  /// row-major, every objective maximised.
  void tell(std::span<const T> objectives) {
    const std::size_t n = population_size(), d = dimension();
    if (!asked_) throw std::logic_error("basic_nsga2::tell called without a preceding ask");
    if (objectives.size() != n * m_)
      throw std::invalid_argument("basic_nsga2::tell: got " + std::to_string(objectives.size()) +
                                  " objective values, expected population_size() × "
                                  "num_objectives() = " +
                                  std::to_string(n * m_));
    std::vector<std::uint32_t> read = pending_;
    if (read.empty()) {
      non_finite_.last_generation = 0;
      for (std::size_t i = 0; i < n; ++i) read.push_back(static_cast<std::uint32_t>(i));
    }
    std::vector<std::uint32_t> bad_rows;
    for (std::uint32_t i : read) {
      std::size_t bad = 0;
      for (std::size_t k = 0; k < m_; ++k) {
        told_[i * m_ + k] = objectives[i * m_ + k];
        bad += std::isfinite(objectives[i * m_ + k]) ? 0 : 1;
      }
      non_finite_.last_generation += bad;
      non_finite_.total += bad;
      if (bad > 0) bad_rows.push_back(i);
    }
    evaluations_ += read.size();
    asked_ = false;
    if constexpr (NonFinite::action == non_finite_action::resample) {
      if (!bad_rows.empty() && static_cast<int>(retries_) < nf_.max_retries) {
        pending_ = std::move(bad_rows);
        ++retries_;
        return;
      }
    }
    pending_.clear();
    retries_ = 0;
    // A row with a non-finite value: −inf in every objective (worst); under quarantine, offspring
    // rows are left out of R entirely (initial members stay, as worst: N parents are needed).
    std::vector<T> obj(told_);
    std::vector<std::uint8_t> excluded(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      bool finite = true;
      for (std::size_t k = 0; k < m_; ++k) finite = finite && std::isfinite(obj[i * m_ + k]);
      if (!finite) {
        for (std::size_t k = 0; k < m_; ++k) obj[i * m_ + k] = -std::numeric_limits<T>::infinity();
        if constexpr (NonFinite::action == non_finite_action::quarantine) {
          quarantine_record<T> rec;
          rec.generation = generation_;
          rec.member = static_cast<std::uint32_t>(i);
          rec.genome.assign(population_.begin() + static_cast<std::ptrdiff_t>(i * d),
                            population_.begin() + static_cast<std::ptrdiff_t>((i + 1) * d));
          quarantined_.push_back(std::move(rec));
          excluded[i] = generation_ > 0 ? 1 : 0;
        }
      } else if (penalty_[i] != T(0)) {
        for (std::size_t k = 0; k < m_; ++k) obj[i * m_ + k] -= penalty_[i];
      }
    }
    if constexpr (NonFinite::action == non_finite_action::quarantine)
      if (quarantined_.size() > nf_.keep)
        quarantined_.erase(
            quarantined_.begin(),
            quarantined_.begin() + static_cast<std::ptrdiff_t>(quarantined_.size() - nf_.keep));

    // R = parents ∪ offspring (generation 0: the initial population alone).
    std::vector<T> rx, rf;
    for (std::size_t i = 0; i < n; ++i) {
      if (excluded[i]) continue;
      rx.insert(rx.end(), genomes_.begin() + static_cast<std::ptrdiff_t>(i * d),
                genomes_.begin() + static_cast<std::ptrdiff_t>((i + 1) * d));
      rf.insert(rf.end(), obj.begin() + static_cast<std::ptrdiff_t>(i * m_),
                obj.begin() + static_cast<std::ptrdiff_t>((i + 1) * m_));
    }
    if (generation_ > 0) {
      rx.insert(rx.begin(), parents_.begin(), parents_.end());
      rf.insert(rf.begin(), parent_obj_.begin(), parent_obj_.end());
    }
    const auto sorted = non_dominated_sort(std::span<const T>(rf), m_);
    std::vector<std::size_t> keep, keep_rank;
    std::vector<double> keep_crowd;
    for (const auto& front : sorted.fronts) {
      if (keep.size() >= n) break;
      auto cd = crowding_distance(std::span<const T>(rf), m_, std::span<const std::size_t>(front));
      std::vector<std::size_t> order(front.size());
      std::iota(order.begin(), order.end(), std::size_t{0});
      if (keep.size() + front.size() > n)  // the last front: most isolated first, ties by index
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) { return cd[a] > cd[b]; });
      for (std::size_t k = 0; k < order.size() && keep.size() < n; ++k) {
        keep.push_back(front[order[k]]);
        keep_rank.push_back(sorted.rank[front[order[k]]]);
        keep_crowd.push_back(cd[order[k]]);
      }
    }
    parents_.resize(n * d);
    parent_obj_.resize(n * m_);
    for (std::size_t k = 0; k < n; ++k) {
      std::copy_n(rx.begin() + static_cast<std::ptrdiff_t>(keep[k] * d), d,
                  parents_.begin() + static_cast<std::ptrdiff_t>(k * d));
      std::copy_n(rf.begin() + static_cast<std::ptrdiff_t>(keep[k] * m_), m_,
                  parent_obj_.begin() + static_cast<std::ptrdiff_t>(k * m_));
    }
    rank_ = std::move(keep_rank);
    crowd_ = std::move(keep_crowd);
    ++generation_;
  }

  void save(state_writer& w) const {
    auto scope = w.scope("nsga2");
    w.put("dimension", static_cast<std::uint64_t>(dimension()));
    w.put("num_objectives", static_cast<std::uint64_t>(m_));
    w.put("pop_size", cfg_.pop_size);
    w.put("seed", seed_);
    w.put("generation", generation_);
    w.put("evaluations", evaluations_);
    w.put("asked", asked_);
    w.put("population", population_);
    w.put("genomes", genomes_);
    w.put("penalty", penalty_);
    w.put("parents", parents_);
    w.put("parent_objectives", parent_obj_);
    std::vector<std::uint64_t> rank(rank_.begin(), rank_.end());
    w.put("ranks", rank);
    w.put("crowding", crowd_);
    w.put("told", told_);
    w.put("pending", pending_);
    w.put("retries", retries_);
    non_finite_.save(w);
    std::vector<std::uint32_t> index;
    std::vector<T> genomes;
    for (const auto& q : quarantined_) {
      index.push_back(q.generation);
      index.push_back(q.member);
      genomes.insert(genomes.end(), q.genome.begin(), q.genome.end());
    }
    w.put("quarantine_index", index);
    w.put("quarantine_genomes", genomes);
  }

  /// Restores a state saved by an object of the same configuration (dimension, objectives,
  /// population size, seed); throws state_error otherwise.
  void load(state_reader& r) {
    auto scope = r.scope("nsga2");
    const std::size_t n = population_size(), d = dimension();
    if (r.get<std::uint64_t>("dimension") != d || r.get<std::uint64_t>("num_objectives") != m_ ||
        r.get<int>("pop_size") != cfg_.pop_size || r.get<std::uint64_t>("seed") != seed_)
      throw state_error(r.source() +
                        ": nsga2 checkpoint was written by a strategy with a different dimension, "
                        "number of objectives, pop_size or seed");
    basic_nsga2 s(*this);
    r.get("generation", s.generation_);
    r.get("evaluations", s.evaluations_);
    r.get("asked", s.asked_);
    r.get("population", s.population_, n * d);
    r.get("genomes", s.genomes_, n * d);
    r.get("penalty", s.penalty_, n);
    const std::size_t np = s.generation_ > 0 ? n : 0;
    r.get("parents", s.parents_, np * d);
    r.get("parent_objectives", s.parent_obj_, np * m_);
    std::vector<std::uint64_t> rank;
    r.get("ranks", rank, np);
    s.rank_.assign(rank.begin(), rank.end());
    r.get("crowding", s.crowd_, np);
    r.get("told", s.told_, n * m_);
    r.get("pending", s.pending_);
    for (std::uint32_t i : s.pending_)
      if (i >= n)
        throw state_error(r.source() + ": record 'nsga2/pending' names slot " + std::to_string(i) +
                          " of a population of " + std::to_string(n));
    r.get("retries", s.retries_);
    s.non_finite_.load(r);
    std::vector<std::uint32_t> index;
    std::vector<T> genomes;
    r.get("quarantine_index", index);
    if (index.size() % 2 != 0) throw state_error(r.source() + ": bad 'nsga2/quarantine_index'");
    r.get("quarantine_genomes", genomes, index.size() / 2 * d);
    s.quarantined_.clear();
    for (std::size_t q = 0; q < index.size() / 2; ++q) {
      quarantine_record<T> rec;
      rec.generation = index[2 * q];
      rec.member = index[2 * q + 1];
      rec.genome.assign(genomes.begin() + static_cast<std::ptrdiff_t>(q * d),
                        genomes.begin() + static_cast<std::ptrdiff_t>((q + 1) * d));
      s.quarantined_.push_back(std::move(rec));
    }
    *this = std::move(s);
  }

 private:
  // Crowded-comparison tournament (Deb et al. 2002): lower rank wins, then larger crowding
  // distance, then the first drawn.
  std::size_t tournament(draws& rng) const {
    const std::size_t n = population_size();
    const std::size_t a = rng.below(n), b = rng.below(n);
    if (rank_[b] < rank_[a] || (rank_[b] == rank_[a] && crowd_[b] > crowd_[a])) return b;
    return a;
  }

  // Crossover of parents a and b with probability p_c (else copies) into c1, c2.
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
    const std::size_t n = population_size(), d = dimension();
    const auto sel_key = random_key::make(seed_, nsga2_stream, generation_, 1);
    const auto cx_key = random_key::make(seed_, nsga2_stream, generation_, 2);
    const auto mut_key = random_key::make(seed_, nsga2_stream, generation_, 3);
    const std::span<const T> lo(box_.lower), hi(box_.upper);
    for (std::size_t p = 0; p < n / 2; ++p) {
      draws sel(sel_key, static_cast<std::uint32_t>(p));
      const std::size_t a = tournament(sel), b = tournament(sel);
      const std::span<T> c1(genomes_.data() + 2 * p * d, d),
          c2(genomes_.data() + (2 * p + 1) * d, d);
      draws cx(cx_key, static_cast<std::uint32_t>(p));
      vary(a, b, c1, c2, cx);
      for (std::size_t c = 2 * p; c < 2 * p + 2; ++c) {
        draws mut(mut_key, static_cast<std::uint32_t>(c));
        mutation_(std::span<T>(genomes_.data() + c * d, d), lo, hi, mut);
      }
    }
  }

  // Member i uniform in the box; episode word 0 for the initial population, else the retry/redraw
  // word.
  void uniform_member(std::size_t i, std::uint32_t word) {
    const std::size_t d = dimension();
    draws rng(random_key::make(seed_, nsga2_stream, 0, 0), static_cast<std::uint32_t>(i), word);
    for (std::size_t j = 0; j < d; ++j)
      genomes_[i * d + j] = static_cast<T>(box_.lower[j] + (box_.upper[j] - box_.lower[j]) *
                                                               static_cast<T>(rng.uniform()));
  }

  // A re-sampled slot (non-finite retry or bounds redraw; word != 0): uniform in generation 0, else
  // the first child of two fresh tournaments, crossover and mutation keyed by (slot, word).
  void sample_one(std::size_t i, std::uint32_t word) {
    if (generation_ == 0) {
      uniform_member(i, word);
      return;
    }
    const std::size_t d = dimension();
    const auto m = static_cast<std::uint32_t>(i);
    draws sel(random_key::make(seed_, nsga2_stream, generation_, 1), m, word);
    const std::size_t a = tournament(sel), b = tournament(sel);
    std::vector<T> c2(d);
    const std::span<T> c1(genomes_.data() + i * d, d);
    draws cx(random_key::make(seed_, nsga2_stream, generation_, 2), m, word);
    vary(a, b, c1, std::span<T>(c2), cx);
    draws mut(random_key::make(seed_, nsga2_stream, generation_, 3), m, word);
    mutation_(c1, std::span<const T>(box_.lower), std::span<const T>(box_.upper), mut);
  }

  // population_[i] = bounds-repaired genomes_[i]; a `resample` redraw re-samples the slot.
  void finish_member(std::size_t i, std::uint32_t word) {
    const std::size_t d = dimension();
    const auto gi = genomes_.begin() + static_cast<std::ptrdiff_t>(i * d);
    const std::span<T> x(population_.data() + i * d, d);
    std::copy(gi, gi + static_cast<std::ptrdiff_t>(d), x.begin());
    penalty_[i] = bounds_.repair(x, box_, [&](std::span<T> y, int attempt) {
      sample_one(i, word | static_cast<std::uint32_t>(attempt));
      std::copy(gi, gi + static_cast<std::ptrdiff_t>(d), y.begin());
    });
    if constexpr (Bounds::lamarckian) std::copy(x.begin(), x.end(), gi);
  }

  std::vector<T> rows_of_rank0(const std::vector<T>& rows, std::size_t width) const {
    std::vector<T> out;
    for (std::size_t i = 0; i < rank_.size(); ++i)
      if (rank_[i] == 0)
        out.insert(out.end(), rows.begin() + static_cast<std::ptrdiff_t>(i * width),
                   rows.begin() + static_cast<std::ptrdiff_t>((i + 1) * width));
    return out;
  }

  nsga2_config cfg_;
  std::size_t m_;
  box<T> box_;
  std::uint64_t seed_;
  Crossover crossover_;
  Mutation mutation_;
  Bounds bounds_;
  NonFinite nf_;
  std::uint32_t generation_ = 0;
  std::uint64_t evaluations_ = 0;
  bool asked_ = false;
  std::vector<T> population_;  // asked (repaired) points
  std::vector<T> genomes_;     // the same before repair when Bounds is not lamarckian
  std::vector<T> penalty_;
  std::vector<T> parents_, parent_obj_;
  std::vector<std::size_t> rank_;
  std::vector<double> crowd_;
  std::vector<T> told_;  // objectives as told (rows of retried slots overwritten by the retry)
  std::vector<std::uint32_t> pending_;
  std::uint32_t retries_ = 0;
  non_finite_stats non_finite_;
  std::vector<quarantine_record<T>> quarantined_;
};

/// NSGA-II as in Deb et al. 2002: SBX (η_c = 20, p_c = 0.9, each variable with probability 1/2),
/// polynomial mutation (η_m = 20, p_m = 1/n), solutions kept in the box.
template <class T = double>
using nsga2 = basic_nsga2<T, sbx, polynomial_mutation, clip>;

static_assert(multi_objective_strategy<nsga2<double>> && multi_objective_strategy<nsga2<float>>);

}  // namespace dphys::search
