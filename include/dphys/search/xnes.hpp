// dphys/search/xnes.hpp — Exponential Natural Evolution Strategy (Glasmachers et al. 2010;
// Wierstra et al. 2014, JMLR 15, Algorithm 5) as `basic_xnes<T, Shaping, Bounds, NonFinite>` with
// the alias `xnes<T>`. Extension points: Shaping (default nes_utilities), Bounds, NonFinite.
//
// Config: xnes_config (reflected). Defaults (Wierstra et al. 2014, Table 1): λ = 4 + ⌊3 ln d⌋,
//   η_μ = 1, η_σ = η_B = (9 + 3 ln d)/(5 d √d). Fitness: HIGHER IS BETTER.
// Algorithm: A = σ·B with det B = 1; s_k ~ N(0, I), x_k = μ + σ·B·s_k; G_δ = Σ u_k s_k,
//   G_M = Σ u_k (s_k s_kᵀ − I), G_σ = tr(G_M)/d, G_B = G_M − G_σ I; μ ← μ + η_μ σ B G_δ,
//   σ ← σ exp(η_σ/2 G_σ), B ← B exp(η_B/2 G_B). The matrix exponential of the symmetric G_B is
//   taken through the eigensolver of detail/linalg.hpp (exp(M) = V diag(e^λ) Vᵀ); B⁻¹ is kept
//   alongside (B⁻¹ ← exp(−η_B/2 G_B) B⁻¹) to map repaired points back. O(d³) per generation.
//   No stopping criteria: the caller decides.
// Determinism: s_k of generation g is dphys::normal keyed by (seed, xnes_stream, g, 0), member k,
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
#include <dphys/search/detail/linalg.hpp>
#include <dphys/search/detail/nes_core.hpp>
#include <dphys/search/non_finite.hpp>
#include <dphys/search/shaping.hpp>

namespace dphys::search {

inline constexpr stream_id xnes_stream = static_cast<stream_id>(0x103);

struct xnes_config {
  int population_size = 0;  ///< λ; 0 ⇒ 4 + ⌊3 ln d⌋
  double sigma0 = 1.0;      ///< initial σ (B₀ = I)
  double lr_mean = 1.0;     ///< η_μ
  double lr_sigma = 0.0;    ///< η_σ; 0 ⇒ (9 + 3 ln d)/(5 d √d)
  double lr_shape = 0.0;    ///< η_B; 0 ⇒ (9 + 3 ln d)/(5 d √d)

  void check(config_checker<xnes_config>& c) const {
    c(&xnes_config::population_size).at_least(0).at_most(1 << 24);
    if (population_size != 0) c(&xnes_config::population_size).at_least(2);
    c(&xnes_config::sigma0).greater_than(0.0);
    c(&xnes_config::lr_mean).greater_than(0.0);
    c(&xnes_config::lr_sigma).at_least(0.0);
    c(&xnes_config::lr_shape).at_least(0.0);
  }
};

}  // namespace dphys::search

DPHYS_ADAPT_STRUCT(dphys::search::xnes_config, population_size, sigma0, lr_mean, lr_sigma,
                   lr_shape);

namespace dphys::search {

template <class T = double, class Shaping = nes_utilities, class Bounds = no_bounds,
          class NonFinite = worst_rank>
class basic_xnes {
  static_assert(std::is_floating_point_v<T>, "basic_xnes: T must be float or double");
  static_assert(fitness_shaping<Shaping, T>, "basic_xnes: Shaping must model fitness_shaping");
  static_assert(bound_handling<Bounds, T>, "basic_xnes: Bounds must model bound_handling");
  static_assert(non_finite_handling<NonFinite>,
                "basic_xnes: NonFinite must model non_finite_handling");
  using core_t = detail::nes_core<T, Shaping, Bounds, NonFinite>;

 public:
  using value_type = T;
  using config_type = xnes_config;

  basic_xnes(xnes_config cfg, std::vector<T> mean, std::uint64_t seed, box<T> domain = {},
             Shaping shaping = {}, Bounds bounds = {}, NonFinite non_finite = {})
      : cfg_(cfg) {
    validate(cfg_);
    c_.init(std::move(mean), cfg_.population_size, seed, std::move(domain), shaping, bounds,
            non_finite, "xnes");
    n_ = c_.n;
    const double d = double(n_);
    const double eta_default = (9.0 + 3.0 * std::log(d)) / (5.0 * d * std::sqrt(d));
    eta_mu_ = static_cast<T>(cfg_.lr_mean);
    eta_sigma_ = static_cast<T>(cfg_.lr_sigma > 0 ? cfg_.lr_sigma : eta_default);
    eta_b_ = static_cast<T>(cfg_.lr_shape > 0 ? cfg_.lr_shape : eta_default);
    sigma_ = static_cast<T>(cfg_.sigma0);
    Bt_.assign(n_ * n_, T(0));
    Binv_.assign(n_ * n_, T(0));
    for (std::size_t i = 0; i < n_; ++i) Bt_[i * n_ + i] = Binv_[i * n_ + i] = T(1);
    s_.assign(c_.lambda * n_, T(0));
    y_.assign(c_.lambda * n_, T(0));
  }

  [[nodiscard]] std::size_t dimension() const { return n_; }
  [[nodiscard]] std::size_t population_size() const { return c_.lambda; }
  [[nodiscard]] std::uint32_t generation() const { return c_.generation; }
  [[nodiscard]] std::span<const T> best() const { return c_.pop.best(); }
  [[nodiscard]] T best_fitness() const { return c_.pop.best_fitness(); }
  [[nodiscard]] std::span<const T> mean() const { return c_.mean; }
  [[nodiscard]] T sigma() const { return sigma_; }
  /// Bᵀ (d×d row-major): row i is column i of B.
  [[nodiscard]] std::span<const T> shape_transposed() const { return Bt_; }
  [[nodiscard]] T learning_rate_sigma() const { return eta_sigma_; }
  [[nodiscard]] T learning_rate_shape() const { return eta_b_; }
  [[nodiscard]] const xnes_config& config() const { return cfg_; }
  [[nodiscard]] std::uint64_t evaluations() const { return c_.pop.evaluations(); }
  [[nodiscard]] const non_finite_stats& non_finite() const { return c_.pop.stats(); }
  [[nodiscard]] const std::vector<quarantine_record<T>>& quarantined() const {
    return c_.pop.quarantined();
  }
  [[nodiscard]] const std::vector<std::uint32_t>& pending_slots() const { return c_.pop.pending(); }

  /// Replaces the mean (e.g. by an island-model migrant, population/islands.hpp); σ (and xNES's
  /// shape matrix) and the counters are kept. Only between generations.
  void set_mean(std::span<const T> mean) { c_.set_mean(mean, "xnes"); }

  std::span<const T> ask() {
    return c_.ask([this](std::size_t first, std::size_t count, std::uint32_t word) {
      sample(first, count, word);
    });
  }

  void tell(std::span<const T> fitness) {
    c_.tell(fitness, [this](const typename core_t::update_input& in) { update(in); });
  }

  void save(state_writer& w) const {
    auto s = w.scope("xnes");
    c_.save_head(w);
    w.put("sigma", sigma_);
    w.put("Bt", Bt_);
    w.put("Binv", Binv_);
    w.put("s", s_);
    w.put("y", y_);
    c_.pop.save(w);
  }
  void load(state_reader& r) {
    auto s = r.scope("xnes");
    c_.load_head(r, "xnes");
    r.get("sigma", sigma_);
    r.get("Bt", Bt_, n_ * n_);
    r.get("Binv", Binv_, n_ * n_);
    r.get("s", s_, c_.lambda * n_);
    r.get("y", y_, c_.lambda * n_);
    c_.pop.load(r);
  }

 private:
  void sample(std::size_t first, std::size_t count, std::uint32_t word) {
    const auto key = random_key::make(c_.seed, xnes_stream, c_.generation, 0);
    std::vector<float> buf(n_);
    for (std::size_t i = first; i < first + count; ++i) {
      fill_normal(key, static_cast<std::uint32_t>(i), word, buf);
      for (std::size_t j = 0; j < n_; ++j) s_[i * n_ + j] = static_cast<T>(buf[j]);
    }
    // y_k = B s_k, i.e. row k of Y = Σ_j s_kj · (row j of Bᵀ)
    detail::linalg::gemm(count, n_, n_, s_.data() + first * n_, Bt_.data(), y_.data() + first * n_);
    for (std::size_t i = first; i < first + count; ++i) {
      auto x = c_.pop.genotype(i);
      for (std::size_t j = 0; j < n_; ++j) x[j] = c_.mean[j] + sigma_ * y_[i * n_ + j];
    }
  }

  /// exp(scale·M) and exp(−scale·M) for symmetric M (n×n), from one eigendecomposition.
  void expm_sym(const std::vector<T>& M, T scale, std::vector<T>& pos, std::vector<T>& neg) const {
    std::vector<T> w(n_), vt(n_ * n_), ep(n_), en(n_);
    detail::linalg::symmetric_eigen<T>(n_, M, w, vt);
    for (std::size_t k = 0; k < n_; ++k) {
      ep[k] = std::exp(scale * w[k]);
      en[k] = std::exp(-scale * w[k]);
    }
    pos.assign(n_ * n_, T(0));
    neg.assign(n_ * n_, T(0));
    detail::linalg::symmetric_rank_update(n_, T(0), n_, ep.data(), vt.data(), pos.data());
    detail::linalg::symmetric_rank_update(n_, T(0), n_, en.data(), vt.data(), neg.data());
  }

  void update(const typename core_t::update_input& in) {
    const std::size_t n = n_;
    for (std::size_t i = 0; i < c_.lambda; ++i)
      if (c_.pop.moved(i)) {  // s = B⁻¹ (x − μ)/σ
        const auto p = c_.pop.update_point(i);
        std::vector<T> d(n);
        for (std::size_t j = 0; j < n; ++j) d[j] = (p[j] - c_.mean[j]) / sigma_;
        for (std::size_t r = 0; r < n; ++r)
          s_[i * n + r] = detail::linalg::dot(n, &Binv_[r * n], d.data());
      }
    std::vector<std::size_t> idx;
    std::vector<T> u;
    if (!c_.utilities(in, idx, u)) return;
    T usum = 0;
    for (T x : u) usum += x;
    std::vector<T> g_delta(n, T(0));
    std::vector<T> vecs(idx.size() * n);
    for (std::size_t r = 0; r < idx.size(); ++r) {
      detail::linalg::axpy(n, u[r], &s_[idx[r] * n], g_delta.data());
      std::copy(&s_[idx[r] * n], &s_[idx[r] * n] + n,
                vecs.begin() + static_cast<std::ptrdiff_t>(r * n));
    }
    // G_M = Σ u_k s_k s_kᵀ − (Σ u_k) I
    std::vector<T> gm(n * n, T(0));
    detail::linalg::symmetric_rank_update(n, T(0), idx.size(), u.data(), vecs.data(), gm.data());
    for (std::size_t i = 0; i < n; ++i) gm[i * n + i] -= usum;
    T trace = 0;
    for (std::size_t i = 0; i < n; ++i) trace += gm[i * n + i];
    const T g_sigma = trace / static_cast<T>(n);
    for (std::size_t i = 0; i < n; ++i) gm[i * n + i] -= g_sigma;  // G_B
    // μ ← μ + η_μ σ B G_δ, with (B G_δ)_i = Σ_j Bᵀ[j][i] G_δ[j]
    std::vector<T> bg(n, T(0));
    for (std::size_t j = 0; j < n; ++j) detail::linalg::axpy(n, g_delta[j], &Bt_[j * n], bg.data());
    for (std::size_t i = 0; i < n; ++i) c_.mean[i] += eta_mu_ * sigma_ * bg[i];
    sigma_ *= std::exp(eta_sigma_ / T(2) * g_sigma);
    // Bᵀ ← exp(η_B/2 G_B) Bᵀ (the exponential is symmetric); B⁻¹ ← exp(−η_B/2 G_B) B⁻¹
    std::vector<T> e_pos, e_neg;
    expm_sym(gm, eta_b_ / T(2), e_pos, e_neg);
    std::vector<T> tmp(n * n);
    detail::linalg::gemm(n, n, n, e_pos.data(), Bt_.data(), tmp.data());
    Bt_.swap(tmp);
    detail::linalg::gemm(n, n, n, e_neg.data(), Binv_.data(), tmp.data());
    Binv_.swap(tmp);
  }

  xnes_config cfg_;
  core_t c_;
  T sigma_ = 1;
  std::vector<T> Bt_, Binv_, s_, y_;
  std::size_t n_ = 0;
  T eta_mu_ = 1, eta_sigma_ = 0, eta_b_ = 0;
};

/// xNES with the NES rank utilities.
template <class T = double, class Bounds = no_bounds, class NonFinite = worst_rank>
using xnes = basic_xnes<T, nes_utilities, Bounds, NonFinite>;

}  // namespace dphys::search
