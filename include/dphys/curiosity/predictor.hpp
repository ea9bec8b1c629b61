// dphys/curiosity/predictor.hpp — predictors of experiment outcomes (spec N1): the `predictor`
// concept, a tabular Beta–Bernoulli predictor (one arm per candidate) and a small MLP ensemble
// (mean and variance over K members). Extension point: any type modelling `predictor`.
//
// Determinism: beta_bernoulli draws nothing; mlp_ensemble's initial weights, bootstrap masks and
//   shuffles are counter-based draws on curiosity_stream keyed by (seed, observation count).
// Thread safety: const member functions may run concurrently; observe() needs exclusive access.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <dphys/core/config.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/curiosity/sampling.hpp>

namespace dphys::curiosity {

/// A predictive distribution of one outcome. Binary outcomes: `mean` is p(success). `variance` is
/// the predictor's uncertainty about that mean (posterior variance, or the variance over the K
/// ensemble members / MC-dropout passes); `passes` is K (0 for analytic predictors).
struct prediction {
  double mean = 0.5;
  double variance = 0.0;
  std::uint32_t passes = 0;

  [[nodiscard]] double stddev() const { return std::sqrt(std::max(variance, 0.0)); }
};

/// predictor<P, Candidate> — predicts the outcome of running a candidate experiment.
///
/// Minimal complete definition:
///   p.predict(candidate) -> prediction          (const)
///   p.observe(candidate, y)                     y: the observed outcome (binary: 0 or 1, a
///                                               fraction in [0, 1] is allowed)
/// Laws: (purity) predict is a function of the predictor's state and the candidate;
///   (learning) observe changes only the state, and only through (candidate, y) and the
///   predictor's own seed: two predictors given the same observations agree bit for bit.
template <class P, class Candidate>
concept predictor = requires(const P& cp, P& p, const Candidate& c, double y) {
  { cp.predict(c) } -> std::convertible_to<prediction>;
  p.observe(c, y);
};

namespace detail {
inline void require_outcome(double y, const char* who) {
  if (!(y >= 0.0 && y <= 1.0))
    throw std::invalid_argument(std::string(who) + ": outcome y = " + std::to_string(y) +
                                " must be in [0, 1]");
}
}  // namespace detail

struct beta_bernoulli_config {
  double prior_alpha = 1.0;  ///< pseudo-successes of the Beta prior
  double prior_beta = 1.0;   ///< pseudo-failures
  /// Forgetting for non-stationary outcomes: before an update, the arm's counts shrink towards the
  /// prior, α ← α₀ + discount·(α − α₀). 1 = stationary (plain conjugate update).
  double discount = 1.0;

  void check(config_checker<beta_bernoulli_config>& c) const {
    c(&beta_bernoulli_config::prior_alpha).greater_than(0.0);
    c(&beta_bernoulli_config::prior_beta).greater_than(0.0);
    c(&beta_bernoulli_config::discount).greater_than(0.0).at_most(1.0);
  }
};

struct mlp_ensemble_config {
  int members = 5;              ///< K networks; the prediction is their mean and variance
  int hidden = 16;              ///< tanh units of the one hidden layer
  double lr = 0.05;             ///< SGD step size
  int epochs = 10;              ///< passes over the stored samples after each observation
  double bootstrap_p = 0.8;     ///< probability that a member trains on a given sample
  int max_samples = 1024;       ///< stored samples (oldest dropped first)
  bool binary = true;           ///< sigmoid output + cross-entropy; false: linear + squared error
  std::uint64_t seed = 0;

  void check(config_checker<mlp_ensemble_config>& c) const {
    c(&mlp_ensemble_config::members).at_least(1).at_most(1024);
    c(&mlp_ensemble_config::hidden).at_least(1).at_most(4096);
    c(&mlp_ensemble_config::lr).greater_than(0.0);
    c(&mlp_ensemble_config::epochs).at_least(0).at_most(100000);
    c(&mlp_ensemble_config::bootstrap_p).greater_than(0.0).at_most(1.0);
    c(&mlp_ensemble_config::max_samples).at_least(1);
  }
};

}  // namespace dphys::curiosity

DPHYS_ADAPT_STRUCT(dphys::curiosity::beta_bernoulli_config, prior_alpha, prior_beta, discount);
DPHYS_ADAPT_STRUCT(dphys::curiosity::mlp_ensemble_config, members, hidden, lr, epochs, bootstrap_p,
                   max_samples, binary, seed);

namespace dphys::curiosity {

/// Tabular Beta–Bernoulli predictor over arms 0..arms-1: p(success) = α/(α+β), variance =
/// αβ/((α+β)²(α+β+1)). observe(arm, y) adds y to α and 1−y to β (after the discount).
class beta_bernoulli {
 public:
  explicit beta_bernoulli(std::size_t arms, beta_bernoulli_config cfg = {}) : cfg_(cfg) {
    validate(cfg_);
    if (arms == 0) throw std::invalid_argument("beta_bernoulli: arms = 0: need at least one arm");
    alpha_.assign(arms, cfg_.prior_alpha);
    beta_.assign(arms, cfg_.prior_beta);
  }

  [[nodiscard]] std::size_t arms() const { return alpha_.size(); }
  [[nodiscard]] const beta_bernoulli_config& config() const { return cfg_; }
  [[nodiscard]] double alpha(std::size_t arm) const { return alpha_.at(arm); }
  [[nodiscard]] double beta(std::size_t arm) const { return beta_.at(arm); }

  [[nodiscard]] prediction predict(std::size_t arm) const {
    check_arm(arm);
    const double a = alpha_[arm], b = beta_[arm], n = a + b;
    return {a / n, a * b / (n * n * (n + 1.0)), 0};
  }

  void observe(std::size_t arm, double y) {
    check_arm(arm);
    detail::require_outcome(y, "beta_bernoulli::observe");
    alpha_[arm] = cfg_.prior_alpha + cfg_.discount * (alpha_[arm] - cfg_.prior_alpha) + y;
    beta_[arm] = cfg_.prior_beta + cfg_.discount * (beta_[arm] - cfg_.prior_beta) + (1.0 - y);
  }

  void save(state_writer& w) const {
    w.put("alpha", alpha_);
    w.put("beta", beta_);
  }
  void load(state_reader& r) {
    std::vector<double> a, b;
    r.get("alpha", a, arms());
    r.get("beta", b, arms());
    alpha_ = std::move(a);
    beta_ = std::move(b);
  }

 private:
  void check_arm(std::size_t arm) const {
    if (arm >= alpha_.size())
      throw std::out_of_range("beta_bernoulli: arm " + std::to_string(arm) + " is not in [0, " +
                              std::to_string(alpha_.size()) + ")");
  }
  beta_bernoulli_config cfg_;
  std::vector<double> alpha_, beta_;
};

/// K one-hidden-layer MLPs on a feature vector (candidate = span of input_dim floats). Members
/// differ by their initial weights and their bootstrap masks (member m trains on a sample with
/// probability bootstrap_p, decided once per (member, sample)). observe(x, y) stores (x, y) and
/// runs `epochs` shuffled SGD passes over the stored samples. Variance: over members, 1/K.
class mlp_ensemble {
 public:
  mlp_ensemble(std::size_t input_dim, mlp_ensemble_config cfg = {}) : cfg_(cfg), d_(input_dim) {
    validate(cfg_);
    if (d_ == 0) throw std::invalid_argument("mlp_ensemble: input_dim = 0: need at least 1");
    const std::size_t K = members(), H = hidden();
    params_.assign(K * stride(), 0.0);
    const auto key = make_key(cfg_.seed, draw_purpose::mlp_init, 0);
    for (std::size_t k = 0; k < K; ++k) {
      double* p = params_.data() + k * stride();
      const double s1 = 1.0 / std::sqrt(static_cast<double>(d_)),
                   s2 = 1.0 / std::sqrt(static_cast<double>(H));
      for (std::size_t i = 0; i < H * d_; ++i)
        p[i] = s1 * normal<float>(key, static_cast<std::uint32_t>(k), 0, static_cast<std::uint32_t>(i));
      for (std::size_t j = 0; j < H; ++j)
        p[H * d_ + H + j] =
            s2 * normal<float>(key, static_cast<std::uint32_t>(k), 1, static_cast<std::uint32_t>(j));
    }
  }

  [[nodiscard]] std::size_t input_dim() const { return d_; }
  [[nodiscard]] std::size_t members() const { return static_cast<std::size_t>(cfg_.members); }
  [[nodiscard]] std::size_t hidden() const { return static_cast<std::size_t>(cfg_.hidden); }
  [[nodiscard]] std::size_t samples() const { return ys_.size(); }
  [[nodiscard]] const mlp_ensemble_config& config() const { return cfg_; }

  /// Output of member k (probability when binary).
  [[nodiscard]] double member_output(std::size_t k, std::span<const float> x) const {
    check_input(x);
    std::vector<double> h(hidden());
    return output(params_.data() + k * stride(), x, h);
  }

  [[nodiscard]] prediction predict(std::span<const float> x) const {
    check_input(x);
    const std::size_t K = members();
    std::vector<double> h(hidden()), out(K);
    double mean = 0.0;
    for (std::size_t k = 0; k < K; ++k) mean += out[k] = output(params_.data() + k * stride(), x, h);
    mean /= static_cast<double>(K);
    double var = 0.0;
    for (double o : out) var += (o - mean) * (o - mean);
    return {mean, var / static_cast<double>(K), static_cast<std::uint32_t>(K)};
  }

  void observe(std::span<const float> x, double y) {
    check_input(x);
    if (cfg_.binary) detail::require_outcome(y, "mlp_ensemble::observe");
    if (!std::isfinite(y))
      throw std::invalid_argument("mlp_ensemble::observe: outcome y is not finite");
    xs_.insert(xs_.end(), x.begin(), x.end());
    ys_.push_back(y);
    ids_.push_back(observed_++);
    if (ys_.size() > static_cast<std::size_t>(cfg_.max_samples)) {
      xs_.erase(xs_.begin(), xs_.begin() + static_cast<std::ptrdiff_t>(d_));
      ys_.erase(ys_.begin());
      ids_.erase(ids_.begin());
    }
    train();
  }

  /// All parameters, member after member; member k's block (parameters_per_member() values) is
  /// W1[H][d], b1[H], w2[H], b2.
  [[nodiscard]] std::span<const double> parameters() const { return params_; }
  [[nodiscard]] std::size_t parameters_per_member() const { return stride(); }
  /// Replaces all parameters (same size as parameters()).
  void set_parameters(std::span<const double> p) {
    if (p.size() != params_.size())
      throw std::invalid_argument("mlp_ensemble::set_parameters: " + std::to_string(p.size()) +
                                  " values, expected " + std::to_string(params_.size()));
    params_.assign(p.begin(), p.end());
  }
  /// Stored sample i (oldest first): its features and outcome.
  [[nodiscard]] std::span<const float> sample_x(std::size_t i) const {
    if (i >= ys_.size())
      throw std::out_of_range("mlp_ensemble::sample_x: " + std::to_string(i) + " >= samples() " +
                              std::to_string(ys_.size()));
    return {xs_.data() + i * d_, d_};
  }
  [[nodiscard]] double sample_y(std::size_t i) const { return ys_.at(i); }

  /// Output of member k at x (probability when binary) and, in `dz` (parameters_per_member()
  /// values), the gradient of its pre-activation output z with respect to member k's parameters.
  /// The per-sample loss gradient of training is (output − y)·dz for both losses.
  double output_gradient(std::size_t k, std::span<const float> x, std::span<double> dz) const {
    check_input(x);
    if (k >= members() || dz.size() != stride())
      throw std::invalid_argument("mlp_ensemble::output_gradient: member " + std::to_string(k) +
                                  " or gradient size " + std::to_string(dz.size()) +
                                  " out of range (members " + std::to_string(members()) +
                                  ", parameters_per_member " + std::to_string(stride()) + ")");
    const std::size_t H = hidden();
    const double* p = params_.data() + k * stride();
    std::vector<double> h(H);
    const double out = output(p, x, h);
    for (std::size_t j = 0; j < H; ++j) {
      const double w2 = p[H * d_ + H + j], ga = w2 * (1.0 - h[j] * h[j]);
      dz[H * d_ + H + j] = h[j];
      dz[H * d_ + j] = ga;
      for (std::size_t i = 0; i < d_; ++i) dz[j * d_ + i] = ga * static_cast<double>(x[i]);
    }
    dz[2 * H + H * d_] = 1.0;
    return out;
  }

  /// A diagonal quadratic penalty (λ/2)·Σ_i F_i·(θ_i − θ*_i)² added to training (online EWC,
  /// ewc.hpp, installs it). After each SGD step of member k its parameters take the exact
  /// proximal step of the penalty, θ_i ← (θ_i + a_i·θ*_i)/(1 + a_i) with a_i = lr·λ·F_i, which is
  /// stable for any λ (an explicit gradient step diverges once lr·λ·F_i > 2). λ = 0 or
  /// clear_penalty(): training is exactly the plain one. Not part of save()/load() (its owner
  /// saves it and installs it again).
  void set_penalty(double lambda, std::vector<double> fisher, std::vector<double> anchor) {
    if (!(lambda >= 0.0) || !std::isfinite(lambda))
      throw std::invalid_argument("mlp_ensemble::set_penalty: lambda = " + std::to_string(lambda) +
                                  ": must be finite and >= 0");
    if (fisher.size() != params_.size() || anchor.size() != params_.size())
      throw std::invalid_argument(
          "mlp_ensemble::set_penalty: fisher/anchor sizes " + std::to_string(fisher.size()) + "/" +
          std::to_string(anchor.size()) + ", expected " + std::to_string(params_.size()));
    for (double f : fisher)
      if (!(f >= 0.0) || !std::isfinite(f))
        throw std::invalid_argument(
            "mlp_ensemble::set_penalty: a Fisher value is negative or "
            "not finite");
    penalty_lambda_ = lambda;
    fisher_ = std::move(fisher);
    anchor_ = std::move(anchor);
  }
  void clear_penalty() {
    penalty_lambda_ = 0.0;
    fisher_.clear();
    anchor_.clear();
  }
  /// The penalty's value at the current parameters (0 without one).
  [[nodiscard]] double penalty() const {
    if (fisher_.empty()) return 0.0;
    double s = 0.0;
    for (std::size_t i = 0; i < params_.size(); ++i)
      s += fisher_[i] * (params_[i] - anchor_[i]) * (params_[i] - anchor_[i]);
    return 0.5 * penalty_lambda_ * s;
  }

  void save(state_writer& w) const {
    w.put("params", params_);
    w.put("xs", xs_);
    w.put("ys", ys_);
    w.put("ids", ids_);
    w.put("observed", observed_);
  }
  void load(state_reader& r) {
    std::vector<double> p, ys;
    std::vector<float> xs;
    std::vector<std::uint64_t> ids;
    std::uint64_t obs = 0;
    r.get("params", p, params_.size());
    r.get("xs", xs);
    r.get("ys", ys);
    r.get("ids", ids, ys.size());
    r.get("observed", obs);
    if (xs.size() != ys.size() * d_)
      throw state_error(r.source() + ": mlp_ensemble samples do not match input_dim " +
                        std::to_string(d_));
    params_ = std::move(p);
    xs_ = std::move(xs);
    ys_ = std::move(ys);
    ids_ = std::move(ids);
    observed_ = obs;
  }

 private:
  // Layout of one member: W1[H][d], b1[H], w2[H], b2.
  [[nodiscard]] std::size_t stride() const { return hidden() * d_ + 2 * hidden() + 1; }

  void check_input(std::span<const float> x) const {
    if (x.size() != d_)
      throw std::invalid_argument("mlp_ensemble: candidate has " + std::to_string(x.size()) +
                                  " features, expected input_dim = " + std::to_string(d_));
  }

  double output(const double* p, std::span<const float> x, std::vector<double>& h) const {
    const std::size_t H = hidden();
    double z = p[2 * H + H * d_];
    for (std::size_t j = 0; j < H; ++j) {
      double a = p[H * d_ + j];
      for (std::size_t i = 0; i < d_; ++i) a += p[j * d_ + i] * static_cast<double>(x[i]);
      h[j] = std::tanh(a);
      z += p[H * d_ + H + j] * h[j];
    }
    return cfg_.binary ? 1.0 / (1.0 + std::exp(-z)) : z;
  }

  void train() {
    const std::size_t K = members(), H = hidden(), n = ys_.size();
    const auto tick = static_cast<std::uint32_t>(observed_);
    const auto shuffle_key = make_key(cfg_.seed, draw_purpose::mlp_train, tick);
    const auto mask_key = make_key(cfg_.seed, draw_purpose::mlp_init, 1);  // init uses tick 0
    std::vector<double> h(H);
    for (std::size_t k = 0; k < K; ++k) {
      double* p = params_.data() + k * stride();
      for (int e = 0; e < cfg_.epochs; ++e) {
        const auto order = sample_without_replacement(shuffle_key, static_cast<std::uint32_t>(k),
                                                      static_cast<std::uint32_t>(e), n, n);
        for (std::size_t s : order) {
          const auto id = ids_[s];
          if (uniform01(mask_key, static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(id >> 32),
                        static_cast<std::uint32_t>(id)) >= cfg_.bootstrap_p)
            continue;
          const std::span<const float> x(xs_.data() + s * d_, d_);
          const double g = output(p, x, h) - ys_[s];  // dL/dz for both losses
          for (std::size_t j = 0; j < H; ++j) {
            const double w2 = p[H * d_ + H + j];
            p[H * d_ + H + j] -= cfg_.lr * g * h[j];
            const double ga = g * w2 * (1.0 - h[j] * h[j]);
            p[H * d_ + j] -= cfg_.lr * ga;
            for (std::size_t i = 0; i < d_; ++i)
              p[j * d_ + i] -= cfg_.lr * ga * static_cast<double>(x[i]);
          }
          p[2 * H + H * d_] -= cfg_.lr * g;
          if (penalty_lambda_ > 0.0 && !fisher_.empty()) {
            const double* f = fisher_.data() + k * stride();
            const double* a = anchor_.data() + k * stride();
            for (std::size_t i = 0; i < stride(); ++i) {
              const double c = cfg_.lr * penalty_lambda_ * f[i];
              p[i] = (p[i] + c * a[i]) / (1.0 + c);
            }
          }
        }
      }
    }
  }

  mlp_ensemble_config cfg_;
  std::size_t d_;
  std::vector<double> params_;
  std::vector<float> xs_;
  std::vector<double> ys_;
  std::vector<std::uint64_t> ids_;
  std::uint64_t observed_ = 0;
  double penalty_lambda_ = 0.0;
  std::vector<double> fisher_, anchor_;
};

}  // namespace dphys::curiosity

