// dphys/curiosity/ewc.hpp — online elastic weight consolidation (spec N8; Schwarz et al. 2018,
// "Progress & Compress", online EWC) for the continually learning mlp_ensemble predictor: a
// diagonal Fisher estimate from squared gradients, consolidation after each task
// (F ← γ·F + F_task, θ* ← θ) and the penalty (λ/2)·Σ_i F_i·(θ_i − θ*_i)² in the ensemble's
// training. Defaults are Nerion's numbers: λ = 1000, γ = 0.9, 200 Fisher samples. No extension
// points.
//
// Determinism: the Fisher samples are a counter-based draw (curiosity_stream, purpose ewc) keyed by
//   (seed, consolidation count); all the stored samples when there are at most fisher_samples.
// Thread safety: const members may run concurrently; consolidate/load need exclusive access.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/core/config.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/curiosity/predictor.hpp>
#include <dphys/curiosity/sampling.hpp>

namespace dphys::curiosity {

/// Which diagonal Fisher estimate.
enum class fisher_estimate {
  /// E_x E_{y~model}[(∂ log p(y|x)/∂θ)²]: v(x)·(∂z/∂θ)², v = p(1 − p) for binary outputs, 1 for
  /// the unit-variance Gaussian of squared error (the Fisher information proper; does not vanish
  /// when the training error does).
  expected,
  /// E_x[(∂ℓ(x, y)/∂θ)²] at the stored outcomes y: (output − y)²·(∂z/∂θ)² ("empirical Fisher").
  empirical
};
constexpr auto enum_names(fisher_estimate) {
  return std::array{std::pair{fisher_estimate::expected, std::string_view{"expected"}},
                    std::pair{fisher_estimate::empirical, std::string_view{"empirical"}}};
}

struct ewc_config {
  double lambda = 1000.0;    ///< λ of the penalty (λ/2)·Σ F_i (θ_i − θ*_i)²; 0 disables it
  double gamma = 0.9;        ///< decay of the previous Fisher at each consolidation
  int fisher_samples = 200;  ///< stored samples the Fisher is averaged over (at most)
  fisher_estimate fisher = fisher_estimate::expected;
  std::uint64_t seed = 0;  ///< of the Fisher-sample draw

  void check(config_checker<ewc_config>& c) const {
    c(&ewc_config::lambda).at_least(0.0).finite();
    c(&ewc_config::gamma).in_range(0.0, 1.0);
    c(&ewc_config::fisher_samples).at_least(1);
  }
};

}  // namespace dphys::curiosity

DPHYS_ADAPT_STRUCT(dphys::curiosity::ewc_config, lambda, gamma, fisher_samples, fisher, seed);

namespace dphys::curiosity {

/// Diagonal Fisher of every ensemble member at its current parameters (same layout as
/// mlp_ensemble::parameters()), averaged over the given stored-sample positions (member k over
/// all of them, whatever its bootstrap mask).
inline std::vector<double> diagonal_fisher(const mlp_ensemble& net,
                                           std::span<const std::size_t> samples,
                                           fisher_estimate kind = fisher_estimate::expected) {
  const std::size_t P = net.parameters_per_member(), K = net.members();
  std::vector<double> F(K * P, 0.0), dz(P);
  if (samples.empty()) return F;
  const double inv = 1.0 / static_cast<double>(samples.size());
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t s : samples) {
      const double out = net.output_gradient(k, net.sample_x(s), dz);
      const double r = out - net.sample_y(s);
      const double v = kind == fisher_estimate::empirical ? r * r
                       : net.config().binary              ? out * (1.0 - out)
                                                          : 1.0;
      for (std::size_t i = 0; i < P; ++i) F[k * P + i] += v * dz[i] * dz[i] * inv;
    }
  return F;
}

class online_ewc {
 public:
  explicit online_ewc(ewc_config cfg = {}) : cfg_(cfg) { validate(cfg_); }

  [[nodiscard]] const ewc_config& config() const { return cfg_; }
  /// The accumulated Fisher and the anchor θ* (empty before the first consolidation).
  [[nodiscard]] std::span<const double> fisher() const { return fisher_; }
  [[nodiscard]] std::span<const double> anchor() const { return anchor_; }
  [[nodiscard]] std::uint64_t consolidations() const { return consolidations_; }

  /// The stored-sample positions the next consolidation averages over: all of them (in order)
  /// when samples() <= fisher_samples, else fisher_samples drawn without replacement.
  [[nodiscard]] std::vector<std::size_t> fisher_positions(const mlp_ensemble& net) const {
    const std::size_t n = net.samples(), k = static_cast<std::size_t>(cfg_.fisher_samples);
    if (n <= k) {
      std::vector<std::size_t> all(n);
      for (std::size_t i = 0; i < n; ++i) all[i] = i;
      return all;
    }
    return sample_without_replacement(
        make_key(cfg_.seed, draw_purpose::ewc, static_cast<std::uint32_t>(consolidations_)), 0, 0,
        n, k);
  }

  /// End of a task: F ← γ·F + F_task (F_task: diagonal_fisher on fisher_positions), θ* ← θ, and
  /// the penalty is installed in `net`.
  void consolidate(mlp_ensemble& net) {
    const auto pos = fisher_positions(net);
    auto f = diagonal_fisher(net, pos, cfg_.fisher);
    if (fisher_.size() == f.size())
      for (std::size_t i = 0; i < f.size(); ++i) f[i] += cfg_.gamma * fisher_[i];
    fisher_ = std::move(f);
    anchor_.assign(net.parameters().begin(), net.parameters().end());
    ++consolidations_;
    install(net);
  }

  /// Installs the current penalty in `net` (after load(), or in a copy of the ensemble). Nothing
  /// to install before the first consolidation or with λ = 0: the penalty is cleared.
  void install(mlp_ensemble& net) const {
    if (fisher_.empty() || cfg_.lambda == 0.0) {
      net.clear_penalty();
      return;
    }
    net.set_penalty(cfg_.lambda, fisher_, anchor_);
  }

  /// (λ/2)·Σ F_i (θ_i − θ*_i)² at net's parameters (0 before the first consolidation).
  [[nodiscard]] double penalty(const mlp_ensemble& net) const {
    if (fisher_.empty()) return 0.0;
    const auto th = net.parameters();
    if (th.size() != fisher_.size())
      throw std::invalid_argument("online_ewc::penalty: the network has " +
                                  std::to_string(th.size()) + " parameters, the Fisher " +
                                  std::to_string(fisher_.size()));
    double s = 0.0;
    for (std::size_t i = 0; i < th.size(); ++i)
      s += fisher_[i] * (th[i] - anchor_[i]) * (th[i] - anchor_[i]);
    return 0.5 * cfg_.lambda * s;
  }

  void save(state_writer& w) const {
    w.put("fisher", fisher_);
    w.put("anchor", anchor_);
    w.put("consolidations", consolidations_);
  }
  void load(state_reader& r) {
    std::vector<double> f, a;
    std::uint64_t c = 0;
    r.get("fisher", f);
    r.get("anchor", a, f.size());
    r.get("consolidations", c);
    fisher_ = std::move(f);
    anchor_ = std::move(a);
    consolidations_ = c;
  }

 private:
  ewc_config cfg_;
  std::vector<double> fisher_, anchor_;
  std::uint64_t consolidations_ = 0;
};

}  // namespace dphys::curiosity
