// dphys/search/snes.hpp — Separable Natural Evolution Strategy (Schaul, Glasmachers & Schmidhuber
// 2011; Wierstra et al. 2014, JMLR 15, Algorithm 6) as `basic_snes<T, Shaping, Bounds, NonFinite>`
// with the alias `snes<T>`. Extension points: Shaping (shaping.hpp; default nes_utilities),
// Bounds (bounds.hpp), NonFinite (non_finite.hpp).
//
// Config: snes_config (reflected). Defaults (Wierstra et al. 2014, Table 1): λ = 4 + ⌊3 ln d⌋,
//   η_μ = 1, η_σ = (3 + ln d)/(5√d). Fitness: HIGHER IS BETTER.
// Algorithm: s_k ~ N(0, I), x_k = μ + σ∘s_k; with utilities u_k (from Shaping over the members
//   taking part): ∇_μ = Σ u_k s_k, ∇_σ = Σ u_k (s_k² − 1); μ ← μ + η_μ σ∘∇_μ,
//   σ ← σ∘exp(η_σ/2 ∇_σ). O(λ·d) per generation. No stopping criteria: the caller decides.
// Determinism: s_k of generation g is dphys::normal keyed by (seed, snes_stream, g, 0), member k,
//   word (retry << 16 | bound-resample attempt), index j. save/load restores everything.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <boost/hana/adapt_struct.hpp>

#include <dphys/core/config_check.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/search/bounds.hpp>
#include <dphys/search/detail/es_population.hpp>
#include <dphys/search/non_finite.hpp>
#include <dphys/search/shaping.hpp>

namespace dphys::search {

inline constexpr stream_id snes_stream = static_cast<stream_id>(0x102);

struct snes_config {
  int population_size = 0;  ///< λ; 0 ⇒ 4 + ⌊3 ln d⌋
  double sigma0 = 1.0;      ///< initial σ in every coordinate
  double lr_mean = 1.0;     ///< η_μ
  double lr_sigma = 0.0;    ///< η_σ; 0 ⇒ (3 + ln d)/(5√d)

  void check(config_checker<snes_config>& c) const {
    c(&snes_config::population_size).at_least(0).at_most(1 << 24);
    if (population_size != 0) c(&snes_config::population_size).at_least(2);
    c(&snes_config::sigma0).greater_than(0.0);
    c(&snes_config::lr_mean).greater_than(0.0);
    c(&snes_config::lr_sigma).at_least(0.0);
  }
};

}  // namespace dphys::search

BOOST_HANA_ADAPT_STRUCT(dphys::search::snes_config, population_size, sigma0, lr_mean, lr_sigma);

namespace dphys::search {

template <class T = double, class Shaping = nes_utilities, class Bounds = no_bounds,
          class NonFinite = worst_rank>
class basic_snes {
  static_assert(std::is_floating_point_v<T>, "basic_snes: T must be float or double");
  static_assert(fitness_shaping<Shaping, T>, "basic_snes: Shaping must model fitness_shaping");
  static_assert(bound_handling<Bounds, T>, "basic_snes: Bounds must model bound_handling");
  static_assert(non_finite_handling<NonFinite>,
                "basic_snes: NonFinite must model non_finite_handling");
  using population_t = detail::es_population<T, Bounds, NonFinite>;

 public:
  using value_type = T;
  using config_type = snes_config;

  basic_snes(snes_config cfg, std::vector<T> mean, std::uint64_t seed, box<T> domain = {},
             Shaping shaping = {}, Bounds bounds = {}, NonFinite non_finite = {})
      : cfg_(cfg), seed_(seed), shaping_(shaping), mean_(std::move(mean)) {
    validate(cfg_);
    if (mean_.empty())
      throw config_error("mean", "(empty)", "the initial mean has at least one coordinate");
    n_ = mean_.size();
    const double d = double(n_);
    lambda_ = cfg_.population_size > 0
                  ? static_cast<std::size_t>(cfg_.population_size)
                  : 4 + static_cast<std::size_t>(std::floor(3.0 * std::log(d)));
    eta_mu_ = static_cast<T>(cfg_.lr_mean);
    eta_sigma_ = static_cast<T>(cfg_.lr_sigma > 0 ? cfg_.lr_sigma
                                                  : (3.0 + std::log(d)) / (5.0 * std::sqrt(d)));
    sigma_.assign(n_, static_cast<T>(cfg_.sigma0));
    s_.assign(lambda_ * n_, T(0));
    pop_ = population_t(n_, std::move(domain), bounds, non_finite, "snes");
    pop_.resize(lambda_);
  }

  [[nodiscard]] std::size_t dimension() const { return n_; }
  [[nodiscard]] std::size_t population_size() const { return lambda_; }
  [[nodiscard]] std::uint32_t generation() const { return generation_; }
  [[nodiscard]] std::span<const T> best() const { return pop_.best(); }
  [[nodiscard]] T best_fitness() const { return pop_.best_fitness(); }
  [[nodiscard]] std::span<const T> mean() const { return mean_; }
  [[nodiscard]] std::span<const T> sigma() const { return sigma_; }
  [[nodiscard]] T learning_rate_sigma() const { return eta_sigma_; }
  [[nodiscard]] const snes_config& config() const { return cfg_; }
  [[nodiscard]] std::uint64_t evaluations() const { return pop_.evaluations(); }
  [[nodiscard]] const non_finite_stats& non_finite() const { return pop_.stats(); }
  [[nodiscard]] const std::vector<quarantine_record<T>>& quarantined() const {
    return pop_.quarantined();
  }
  [[nodiscard]] const std::vector<std::uint32_t>& pending_slots() const { return pop_.pending(); }

  std::span<const T> ask() {
    return pop_.ask([this](std::size_t i, std::uint32_t word) { sample(i, 1, word); },
                    [this](std::uint32_t word) { sample(0, lambda_, word); });
  }

  void tell(std::span<const T> fitness) {
    typename population_t::update_input in;
    if (!pop_.tell(fitness, generation_, in)) return;
    update(in);
    ++generation_;
  }

  void save(state_writer& w) const {
    auto s = w.scope("snes");
    w.put("dimension", static_cast<std::uint64_t>(n_));
    w.put("generation", generation_);
    w.put("mean", mean_);
    w.put("sigma", sigma_);
    w.put("s", s_);
    pop_.save(w);
  }
  void load(state_reader& r) {
    auto s = r.scope("snes");
    if (r.get<std::uint64_t>("dimension") != n_)
      throw state_error(r.source() + ": snes checkpoint of another dimension");
    r.get("generation", generation_);
    r.get("mean", mean_, n_);
    r.get("sigma", sigma_, n_);
    r.get("s", s_, lambda_ * n_);
    pop_.load(r);
  }

 private:
  void sample(std::size_t first, std::size_t count, std::uint32_t word) {
    const auto key = random_key::make(seed_, snes_stream, generation_, 0);
    std::vector<float> buf(n_);
    for (std::size_t i = first; i < first + count; ++i) {
      fill_normal(key, static_cast<std::uint32_t>(i), word, buf);
      T* s = s_.data() + i * n_;
      auto x = pop_.genotype(i);
      for (std::size_t j = 0; j < n_; ++j) {
        s[j] = static_cast<T>(buf[j]);
        x[j] = mean_[j] + sigma_[j] * s[j];
      }
    }
  }

  void update(const typename population_t::update_input& in) {
    for (std::size_t i = 0; i < lambda_; ++i)
      if (pop_.moved(i)) {
        const auto p = pop_.update_point(i);
        for (std::size_t j = 0; j < n_; ++j) s_[i * n_ + j] = (p[j] - mean_[j]) / sigma_[j];
      }
    std::vector<std::size_t> idx;
    std::vector<T> f;
    for (std::size_t i = 0; i < lambda_; ++i)
      if (!in.excluded[i]) {
        idx.push_back(i);
        f.push_back(in.fitness[i]);
      }
    if (idx.empty()) return;
    std::vector<T> u(idx.size());
    shaping_(std::span<const T>(f), std::span<T>(u));
    std::vector<T> g_mu(n_, T(0)), g_sigma(n_, T(0));
    for (std::size_t r = 0; r < idx.size(); ++r) {
      const T* s = s_.data() + idx[r] * n_;
      for (std::size_t j = 0; j < n_; ++j) {
        g_mu[j] += u[r] * s[j];
        g_sigma[j] += u[r] * (s[j] * s[j] - T(1));
      }
    }
    for (std::size_t j = 0; j < n_; ++j) {
      mean_[j] += eta_mu_ * sigma_[j] * g_mu[j];
      sigma_[j] *= std::exp(eta_sigma_ / T(2) * g_sigma[j]);
    }
  }

  snes_config cfg_;
  std::uint64_t seed_ = 0;
  Shaping shaping_{};
  std::vector<T> mean_, sigma_, s_;
  std::size_t n_ = 0, lambda_ = 0;
  T eta_mu_ = 1, eta_sigma_ = 0;
  std::uint32_t generation_ = 0;
  population_t pop_;
};

/// SNES with the NES rank utilities.
template <class T = double, class Bounds = no_bounds, class NonFinite = worst_rank>
using snes = basic_snes<T, nes_utilities, Bounds, NonFinite>;

}  // namespace dphys::search
