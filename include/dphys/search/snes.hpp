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

#include <dphys/core/config_check.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/search/bounds.hpp>
#include <dphys/search/detail/nes_core.hpp>
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

DPHYS_ADAPT_STRUCT(dphys::search::snes_config, population_size, sigma0, lr_mean, lr_sigma);

namespace dphys::search {

template <class T = double, class Shaping = nes_utilities, class Bounds = no_bounds,
          class NonFinite = worst_rank>
class basic_snes {
  static_assert(std::is_floating_point_v<T>, "basic_snes: T must be float or double");
  static_assert(fitness_shaping<Shaping, T>, "basic_snes: Shaping must model fitness_shaping");
  static_assert(bound_handling<Bounds, T>, "basic_snes: Bounds must model bound_handling");
  static_assert(non_finite_handling<NonFinite>,
                "basic_snes: NonFinite must model non_finite_handling");
  using core_t = detail::nes_core<T, Shaping, Bounds, NonFinite>;

 public:
  using value_type = T;
  using config_type = snes_config;

  basic_snes(snes_config cfg, std::vector<T> mean, std::uint64_t seed, box<T> domain = {},
             Shaping shaping = {}, Bounds bounds = {}, NonFinite non_finite = {})
      : cfg_(cfg) {
    validate(cfg_);
    c_.init(std::move(mean), cfg_.population_size, seed, std::move(domain), shaping, bounds,
            non_finite, "snes");
    const double d = double(c_.n);
    eta_mu_ = static_cast<T>(cfg_.lr_mean);
    eta_sigma_ = static_cast<T>(cfg_.lr_sigma > 0 ? cfg_.lr_sigma
                                                  : (3.0 + std::log(d)) / (5.0 * std::sqrt(d)));
    sigma_.assign(c_.n, static_cast<T>(cfg_.sigma0));
    s_.assign(c_.lambda * c_.n, T(0));
  }

  [[nodiscard]] std::size_t dimension() const { return c_.n; }
  [[nodiscard]] std::size_t population_size() const { return c_.lambda; }
  [[nodiscard]] std::uint32_t generation() const { return c_.generation; }
  [[nodiscard]] std::span<const T> best() const { return c_.pop.best(); }
  [[nodiscard]] T best_fitness() const { return c_.pop.best_fitness(); }
  [[nodiscard]] std::span<const T> mean() const { return c_.mean; }
  [[nodiscard]] std::span<const T> sigma() const { return sigma_; }
  [[nodiscard]] T learning_rate_sigma() const { return eta_sigma_; }
  [[nodiscard]] const snes_config& config() const { return cfg_; }
  [[nodiscard]] std::uint64_t evaluations() const { return c_.pop.evaluations(); }
  [[nodiscard]] const non_finite_stats& non_finite() const { return c_.pop.stats(); }
  [[nodiscard]] const std::vector<quarantine_record<T>>& quarantined() const {
    return c_.pop.quarantined();
  }
  [[nodiscard]] const std::vector<std::uint32_t>& pending_slots() const { return c_.pop.pending(); }

  /// Replaces the mean (e.g. by an island-model migrant, population/islands.hpp); σ (and xNES's
  /// shape matrix) and the counters are kept. Only between generations.
  void set_mean(std::span<const T> mean) { c_.set_mean(mean, "snes"); }

  std::span<const T> ask() {
    return c_.ask([this](std::size_t first, std::size_t count, std::uint32_t word) {
      sample(first, count, word);
    });
  }

  void tell(std::span<const T> fitness) {
    c_.tell(fitness, [this](const typename core_t::update_input& in) { update(in); });
  }

  void save(state_writer& w) const {
    auto s = w.scope("snes");
    c_.save_head(w);
    w.put("sigma", sigma_);
    w.put("s", s_);
    c_.pop.save(w);
  }
  void load(state_reader& r) {
    auto s = r.scope("snes");
    c_.load_head(r, "snes");
    r.get("sigma", sigma_, c_.n);
    r.get("s", s_, c_.lambda * c_.n);
    c_.pop.load(r);
  }

 private:
  void sample(std::size_t first, std::size_t count, std::uint32_t word) {
    const std::size_t n = c_.n;
    const auto key = random_key::make(c_.seed, snes_stream, c_.generation, 0);
    std::vector<float> buf(n);
    for (std::size_t i = first; i < first + count; ++i) {
      fill_normal(key, static_cast<std::uint32_t>(i), word, buf);
      T* s = s_.data() + i * n;
      auto x = c_.pop.genotype(i);
      for (std::size_t j = 0; j < n; ++j) {
        s[j] = static_cast<T>(buf[j]);
        x[j] = c_.mean[j] + sigma_[j] * s[j];
      }
    }
  }

  void update(const typename core_t::update_input& in) {
    const std::size_t n = c_.n;
    for (std::size_t i = 0; i < c_.lambda; ++i)
      if (c_.pop.moved(i)) {
        const auto p = c_.pop.update_point(i);
        for (std::size_t j = 0; j < n; ++j) s_[i * n + j] = (p[j] - c_.mean[j]) / sigma_[j];
      }
    std::vector<std::size_t> idx;
    std::vector<T> u;
    if (!c_.utilities(in, idx, u)) return;
    std::vector<T> g_mu(n, T(0)), g_sigma(n, T(0));
    for (std::size_t r = 0; r < idx.size(); ++r) {
      const T* s = s_.data() + idx[r] * n;
      for (std::size_t j = 0; j < n; ++j) {
        g_mu[j] += u[r] * s[j];
        g_sigma[j] += u[r] * (s[j] * s[j] - T(1));
      }
    }
    for (std::size_t j = 0; j < n; ++j) {
      c_.mean[j] += eta_mu_ * sigma_[j] * g_mu[j];
      sigma_[j] *= std::exp(eta_sigma_ / T(2) * g_sigma[j]);
    }
  }

  snes_config cfg_;
  core_t c_;
  std::vector<T> sigma_, s_;
  T eta_mu_ = 1, eta_sigma_ = 0;
};

/// SNES with the NES rank utilities.
template <class T = double, class Bounds = no_bounds, class NonFinite = worst_rank>
using snes = basic_snes<T, nes_utilities, Bounds, NonFinite>;

}  // namespace dphys::search
