// dphys/search/detail/es_population.hpp — the ask/tell bookkeeping shared by the CMA-ES and NES
// strategies: the sampled points (genotypes), the evaluated points after bound handling
// (phenotypes) and their penalties, non-finite handling with retries and quarantine records,
// counters, the best point seen, and their checkpointing. Internal (detail); the semantics are
// documented in bounds.hpp and non_finite.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <dphys/core/error.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/search/bounds.hpp>
#include <dphys/search/non_finite.hpp>

namespace dphys::search::detail {

template <class T, class Bounds, class NonFinite>
class es_population {
 public:
  /// What tell() hands to the strategy's update: shaped-ready fitness (finite, penalised) and the
  /// members to leave out.
  struct update_input {
    std::vector<T> fitness;
    std::vector<std::uint8_t> excluded;
  };

  es_population() = default;
  es_population(std::size_t dim, box<T> domain, Bounds bounds, NonFinite nf, const char* who)
      : n_(dim), domain_(std::move(domain)), bounds_(bounds), nf_(nf), who_(who) {
    if (!domain_.empty() && domain_.size() != n_)
      throw config_error("box", "(" + std::to_string(domain_.size()) + " coordinates)",
                         "as many coordinates as the initial mean (" + std::to_string(n_) + ")");
    if constexpr (!std::is_same_v<Bounds, no_bounds>)
      if (domain_.empty())
        throw config_error("box", "(empty)", "a box is required by the bound-handling policy");
  }

  // Without bound handling the sample is the evaluated point: genotypes live in pop_ (x_ unused).
  static constexpr bool shared_ = std::is_same_v<Bounds, no_bounds>;

  void resize(std::size_t lambda) {
    lambda_ = lambda;
    if constexpr (!shared_) x_.assign(lambda * n_, T(0));
    pop_.assign(lambda * n_, T(0));
    penalty_.assign(lambda, T(0));
    f_.assign(lambda, T(0));
    pending_.clear();
    retries_ = 0;
    asked_ = false;
  }

  [[nodiscard]] std::size_t lambda() const { return lambda_; }
  [[nodiscard]] std::size_t dim() const { return n_; }
  [[nodiscard]] const box<T>& domain() const { return domain_; }
  [[nodiscard]] std::span<T> genotype(std::size_t i) { return {geno() + i * n_, n_}; }
  [[nodiscard]] std::span<const T> phenotype(std::size_t i) const { return {pop_.data() + i * n_, n_}; }
  [[nodiscard]] std::span<const T> population() const { return pop_; }
  /// Whether member i's update point differs from its sample (a Lamarckian repair moved it).
  [[nodiscard]] bool moved(std::size_t i) const {
    if constexpr (!Bounds::lamarckian || std::is_same_v<Bounds, no_bounds>) return false;
    else return !std::equal(x_.begin() + static_cast<std::ptrdiff_t>(i * n_),
                       x_.begin() + static_cast<std::ptrdiff_t>((i + 1) * n_),
                       pop_.begin() + static_cast<std::ptrdiff_t>(i * n_));
  }
  /// The point the strategy updates with for member i (see bound_handling::lamarckian).
  [[nodiscard]] std::span<const T> update_point(std::size_t i) const {
    if constexpr (Bounds::lamarckian) return phenotype(i);
    else return {geno() + i * n_, n_};
  }
  [[nodiscard]] std::uint32_t retry_word() const { return retries_ << 16; }
  [[nodiscard]] const std::vector<std::uint32_t>& pending() const { return pending_; }
  [[nodiscard]] bool asked() const { return asked_; }

  /// sample(i, word) must write member i's genotype (genotype(i)) from the counter word `word`
  /// (and keep whatever else the strategy needs per member). `sample_all(word)` samples every
  /// member with the same word (a blocked fast path).
  template <class SampleOne, class SampleAll>
  std::span<const T> ask(SampleOne&& sample, SampleAll&& sample_all) {
    if (!pending_.empty()) {
      for (std::uint32_t i : pending_) {
        sample(i, retry_word());
        finish_member(i, sample);
      }
    } else {
      sample_all(retry_word());
      for (std::size_t i = 0; i < lambda_; ++i) finish_member(i, sample);
    }
    asked_ = true;
    return pop_;
  }

  /// Returns true with `out` filled when the strategy should update; false when the generation is
  /// retried (resample_non_finite). Counts evaluations, non-finite values, tracks the best point.
  bool tell(std::span<const T> fitness, std::uint32_t generation, update_input& out) {
    if (!asked_) throw std::logic_error(std::string(who_) + "::tell called without a preceding ask");
    if (fitness.size() != lambda_)
      throw std::invalid_argument(std::string(who_) + "::tell: got " +
                                  std::to_string(fitness.size()) +
                                  " fitness values for a population of " + std::to_string(lambda_));
    const bool retry = !pending_.empty();
    if (!retry) stats_.last_generation = 0;
    std::vector<std::uint32_t> read;
    if (retry) read = pending_;
    else
      for (std::size_t i = 0; i < lambda_; ++i) read.push_back(static_cast<std::uint32_t>(i));
    std::vector<std::uint32_t> bad;
    for (std::uint32_t i : read) {
      f_[i] = fitness[i];
      ++evaluations_;
      if (!std::isfinite(fitness[i])) {
        bad.push_back(i);
        continue;
      }
      if (!has_best_ || fitness[i] > best_fitness_) {
        has_best_ = true;
        best_fitness_ = fitness[i];
        best_.assign(pop_.begin() + static_cast<std::ptrdiff_t>(i * n_),
                     pop_.begin() + static_cast<std::ptrdiff_t>((i + 1) * n_));
      }
    }
    stats_.total += bad.size();
    stats_.last_generation += bad.size();
    asked_ = false;
    if constexpr (NonFinite::action == non_finite_action::resample) {
      if (!bad.empty() && static_cast<int>(retries_) < nf_.max_retries) {
        pending_ = std::move(bad);
        ++retries_;
        return false;
      }
    }
    pending_.clear();
    retries_ = 0;
    std::vector<T> penalised(lambda_);
    for (std::size_t i = 0; i < lambda_; ++i) penalised[i] = f_[i] - penalty_[i];
    sanitised_fitness<T> s;
    if constexpr (NonFinite::action == non_finite_action::resample)
      s = sanitise(worst_rank{}, std::span<const T>(penalised));
    else
      s = sanitise(nf_, std::span<const T>(penalised));
    if constexpr (NonFinite::action == non_finite_action::quarantine) {
      for (std::size_t i = 0; i < lambda_; ++i)
        if (s.excluded[i]) {
          quarantine_record<T> rec;
          rec.generation = generation;
          rec.member = static_cast<std::uint32_t>(i);
          rec.genome.assign(pop_.begin() + static_cast<std::ptrdiff_t>(i * n_),
                            pop_.begin() + static_cast<std::ptrdiff_t>((i + 1) * n_));
          quarantined_.push_back(std::move(rec));
        }
      if (quarantined_.size() > nf_.keep)
        quarantined_.erase(quarantined_.begin(),
                           quarantined_.begin() +
                               static_cast<std::ptrdiff_t>(quarantined_.size() - nf_.keep));
    }
    out.fitness = std::move(s.fitness);
    out.excluded = std::move(s.excluded);
    return true;
  }

  [[nodiscard]] std::span<const T> best() const { return best_; }
  [[nodiscard]] T best_fitness() const {
    return has_best_ ? best_fitness_ : -std::numeric_limits<T>::infinity();
  }
  [[nodiscard]] const non_finite_stats& stats() const { return stats_; }
  [[nodiscard]] const std::vector<quarantine_record<T>>& quarantined() const {
    return quarantined_;
  }
  [[nodiscard]] std::uint64_t evaluations() const { return evaluations_; }

  void save(state_writer& w) const {
    auto s = w.scope("population");
    w.put("lambda", static_cast<std::uint64_t>(lambda_));
    w.put("genotypes", x_);
    w.put("phenotypes", pop_);
    w.put("penalties", penalty_);
    w.put("fitness", f_);
    w.put("pending", pending_);
    w.put("retries", retries_);
    w.put("asked", asked_);
    stats_.save(w);
    w.put("evaluations", evaluations_);
    w.put("has_best", has_best_);
    w.put("best", best_);
    w.put("best_fitness", best_fitness_);
    w.put("quarantined", static_cast<std::uint64_t>(quarantined_.size()));
    std::vector<std::uint32_t> gm;
    std::vector<T> genomes;
    for (const auto& q : quarantined_) {
      gm.push_back(q.generation);
      gm.push_back(q.member);
      genomes.insert(genomes.end(), q.genome.begin(), q.genome.end());
    }
    w.put("quarantine_index", gm);
    w.put("quarantine_genomes", genomes);
  }
  void load(state_reader& r) {
    auto s = r.scope("population");
    const auto lambda = r.get<std::uint64_t>("lambda");
    resize(static_cast<std::size_t>(lambda));
    r.get("genotypes", x_, shared_ ? 0 : lambda_ * n_);
    r.get("phenotypes", pop_, lambda_ * n_);
    r.get("penalties", penalty_, lambda_);
    r.get("fitness", f_, lambda_);
    r.get("pending", pending_);
    r.get("retries", retries_);
    r.get("asked", asked_);
    stats_.load(r);
    r.get("evaluations", evaluations_);
    r.get("has_best", has_best_);
    r.get("best", best_);
    r.get("best_fitness", best_fitness_);
    const auto nq = r.get<std::uint64_t>("quarantined");
    std::vector<std::uint32_t> gm;
    std::vector<T> genomes;
    r.get("quarantine_index", gm, static_cast<std::size_t>(2 * nq));
    r.get("quarantine_genomes", genomes, static_cast<std::size_t>(nq * n_));
    quarantined_.clear();
    for (std::size_t q = 0; q < nq; ++q) {
      quarantine_record<T> rec;
      rec.generation = gm[2 * q];
      rec.member = gm[2 * q + 1];
      rec.genome.assign(genomes.begin() + static_cast<std::ptrdiff_t>(q * n_),
                        genomes.begin() + static_cast<std::ptrdiff_t>((q + 1) * n_));
      quarantined_.push_back(std::move(rec));
    }
  }

 private:
  T* geno() {
    if constexpr (shared_) return pop_.data();
    else return x_.data();
  }
  const T* geno() const {
    if constexpr (shared_) return pop_.data();
    else return x_.data();
  }

  template <class SampleOne>
  void finish_member(std::size_t i, SampleOne& sample) {
    if constexpr (shared_) {
      penalty_[i] = T(0);
    } else {
      T* xi = x_.data() + i * n_;
      T* pi = pop_.data() + i * n_;
      std::copy(xi, xi + n_, pi);
      auto redraw = [&](std::span<T> x, int attempt) {
        sample(i, retry_word() | static_cast<std::uint32_t>(attempt));
        std::copy(xi, xi + n_, x.begin());
      };
      penalty_[i] = bounds_.repair(std::span<T>(pi, n_), domain_, redraw);
    }
  }

  std::size_t n_ = 0, lambda_ = 0;
  box<T> domain_;
  Bounds bounds_{};
  NonFinite nf_{};
  const char* who_ = "strategy";
  std::vector<T> x_, pop_, penalty_, f_;
  std::vector<std::uint32_t> pending_;
  std::uint32_t retries_ = 0;
  bool asked_ = false;
  non_finite_stats stats_;
  std::uint64_t evaluations_ = 0;
  bool has_best_ = false;
  std::vector<T> best_;
  T best_fitness_ = T(0);
  std::vector<quarantine_record<T>> quarantined_;
};

}  // namespace dphys::search::detail
