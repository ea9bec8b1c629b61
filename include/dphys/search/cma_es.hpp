// dphys/search/cma_es.hpp — CMA-ES (Hansen, "The CMA Evolution Strategy: A Tutorial", 2016,
// arXiv:1604.00772) as `basic_cma_es<T, Covariance, Restarts, Bounds, NonFinite>` with the aliases
// `cma_es`, `sep_cma_es`, `ipop_cma_es`, `bipop_cma_es`. Extension points: the Covariance
// (`full_covariance`, `diagonal_covariance` = sep-CMA, Ros & Hansen 2008), Restarts (`no_restarts`,
// `ipop_restarts`, `bipop_restarts`), Bounds (bounds.hpp) and NonFinite (non_finite.hpp) policies.
//
// Config: cma_es_config (reflected; defaults are the tutorial's: λ = 4+⌊3 ln n⌋, μ = ⌊λ/2⌋,
//   logarithmic weights, c_σ, d_σ, c_c, c_1, c_μ, optional active CMA with the tutorial's negative
//   weights). Fitness: HIGHER IS BETTER (pass −f to minimise).
// Algorithm: y_k = B·D·z_k, x_k = m + σ·y_k; the eigendecomposition C = B·D²·Bᵀ is recomputed
//   lazily, every ⌊1/(10·n·(c_1+c_μ))⌋ + 1 generations (the tutorial's rule counteval − eigeneval >
//   λ/(c_1+c_μ)/n/10; own solver, detail/linalg.hpp: Householder + QL below n = 400; from
//   n = 400 on a blocked tridiagonalisation C = Q·T·Qᵀ and divide and conquer T = S·D²·Sᵀ, with
//   B = Q·S kept as a product: y_k = Q·(S·D·z_k), Q applied to all samples at once in compact-WY
//   blocks, which costs ≈ n² multiply–adds per sample instead of the ≈ n³ of forming B at every
//   decomposition);
//   sampling is a blocked matrix product, the rank-μ update a blocked symmetric rank-k update. sep-CMA
//   keeps C diagonal, with c_1, c_μ scaled by (n+2)/3, O(n) per member.
// Stopping (reported by name, stop_reason()): TolFun, TolHistFun, TolX, NoEffectAxis, NoEffectCoord,
//   ConditionCov, Stagnation (Hansen 2009), and BudgetSmall (BIPOP's small-regime budget). With
//   restarts, a fired criterion starts the next run inside tell(); without, the strategy reports
//   stopped() and keeps going if asked.
// Determinism: z_k of generation g is dphys::normal keyed by (seed, cma_es_stream, g, restart),
//   member k, word (retry << 16 | bound-resample attempt), index j; restarts draw from
//   cma_restart_stream. Same seed ⇒ same asks; save/load restores everything (bitwise resume).
// Failure modes: config_error for bad configs / boxes; std::invalid_argument for a fitness vector
//   of the wrong size; std::logic_error for tell without ask.
//
// Example:
//   dphys::search::cma_es<> es({.sigma0 = 0.5}, std::vector<double>(10, 1.0), /*seed=*/1);
//   while (!es.stopped()) { auto pop = es.ask(); /* evaluate rows */ es.tell(fitness); }
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <dphys/core/config_check.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/search/bounds.hpp>
#include <dphys/search/detail/es_population.hpp>
#include <dphys/search/detail/linalg.hpp>
#include <dphys/search/non_finite.hpp>

namespace dphys::search {

/// Random streams of the CMA-ES family (outside the library's enumerators, below stream_id::user).
inline constexpr stream_id cma_es_stream = static_cast<stream_id>(0x100);
inline constexpr stream_id cma_restart_stream = static_cast<stream_id>(0x101);

/// Dimension from which cma_es_config::threads applies; below it every kernel runs on the calling
/// thread (a pool job costs microseconds, the kernels there take about as long).
inline constexpr std::size_t cma_parallel_min_n = 256;

/// Covariance policies.
struct full_covariance {};
struct diagonal_covariance {};  ///< sep-CMA-ES (Ros & Hansen 2008)

/// Restart policies.
struct no_restarts {};
struct ipop_restarts {};   ///< Auger & Hansen 2005: λ multiplied by restart_population_factor
struct bipop_restarts {};  ///< Hansen 2009: interleaved large/small population regimes

struct cma_es_config {
  int population_size = 0;        ///< λ; 0 ⇒ 4 + ⌊3 ln n⌋
  int parents = 0;                ///< μ; 0 ⇒ ⌊λ/2⌋
  double sigma0 = 0.3;            ///< initial step size (also each restart's σ₀)
  bool active = false;            ///< active CMA: negative weights for the worst members
  double tol_fun = 1e-12;         ///< TolFun
  double tol_hist_fun = 1e-12;    ///< TolHistFun
  double tol_x = 1e-12;           ///< TolX, relative to σ₀ (stops when σ·p_c and σ·√C_ii < tol_x·σ₀)
  double tol_condition = 1e14;    ///< ConditionCov
  bool stop_criteria = true;      ///< false: never stop (and so never restart)
  int max_restarts = 9;           ///< IPOP/BIPOP: restarts after the first run
  double restart_population_factor = 2.0;  ///< IPOP/BIPOP large regime: λ ← factor·λ
  /// Threads of the O(n²)–O(n³) kernels (eigendecomposition, sampling product, rank-μ update) from
  /// dimension cma_parallel_min_n on (dphys::parallel_for's pool); 0 ⇒ all hardware threads.
  /// Results are bitwise the same for every value; 1 never touches the pool.
  int threads = 1;

  void check(config_checker<cma_es_config>& c) const {
    c(&cma_es_config::population_size).at_least(0).at_most(1 << 24);
    if (population_size != 0) c(&cma_es_config::population_size).at_least(2);
    c(&cma_es_config::parents).at_least(0);
    if (parents != 0 && population_size != 0)
      c(&cma_es_config::parents).at_most(&cma_es_config::population_size);
    c(&cma_es_config::sigma0).greater_than(0.0).finite();
    c(&cma_es_config::tol_fun).at_least(0.0);
    c(&cma_es_config::tol_hist_fun).at_least(0.0);
    c(&cma_es_config::tol_x).at_least(0.0);
    c(&cma_es_config::tol_condition).greater_than(1.0);
    c(&cma_es_config::max_restarts).at_least(0);
    c(&cma_es_config::restart_population_factor).at_least(1.0).at_most(100.0);
    c(&cma_es_config::threads).at_least(0);
  }
};

}  // namespace dphys::search

DPHYS_ADAPT_STRUCT(dphys::search::cma_es_config, population_size, parents, sigma0, active,
                   tol_fun, tol_hist_fun, tol_x, tol_condition, stop_criteria, max_restarts,
                   restart_population_factor, threads);

namespace dphys::search {

namespace detail::cma {

inline constexpr std::array<std::string_view, 9> stop_names = {
    "",       "TolFun",        "TolHistFun",   "TolX",       "NoEffectAxis",
    "NoEffectCoord", "ConditionCov", "Stagnation", "BudgetSmall"};
enum class stop : std::uint8_t {
  none,
  tol_fun,
  tol_hist_fun,
  tol_x,
  no_effect_axis,
  no_effect_coord,
  condition_cov,
  stagnation,
  budget_small
};

template <class T>
T median_of(std::vector<T> v) {
  if (v.empty()) return T(0);
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : (v[h - 1] + v[h]) / T(2);
}

}  // namespace detail::cma

/// One entry per finished run (IPOP/BIPOP restarts included).
struct cma_run_record {
  std::uint32_t restart = 0;
  std::uint32_t population_size = 0;
  std::uint64_t evaluations = 0;  ///< evaluations of this run
  bool small_regime = false;      ///< BIPOP small-population regime
  std::string_view stop_reason;
};

template <class T = double, class Covariance = full_covariance, class Restarts = no_restarts,
          class Bounds = no_bounds, class NonFinite = worst_rank>
class basic_cma_es {
  static_assert(std::is_floating_point_v<T>, "basic_cma_es: T must be float or double");
  static_assert(std::is_same_v<Covariance, full_covariance> ||
                    std::is_same_v<Covariance, diagonal_covariance>,
                "basic_cma_es: Covariance must be full_covariance or diagonal_covariance");
  static_assert(std::is_same_v<Restarts, no_restarts> || std::is_same_v<Restarts, ipop_restarts> ||
                    std::is_same_v<Restarts, bipop_restarts>,
                "basic_cma_es: Restarts must be no_restarts, ipop_restarts or bipop_restarts");
  static_assert(bound_handling<Bounds, T>, "basic_cma_es: Bounds must model bound_handling");
  static_assert(non_finite_handling<NonFinite>,
                "basic_cma_es: NonFinite must model non_finite_handling");
  static constexpr bool sep = std::is_same_v<Covariance, diagonal_covariance>;
  using population_t = detail::es_population<T, Bounds, NonFinite>;
  using stop = detail::cma::stop;

 public:
  using value_type = T;
  using config_type = cma_es_config;

  /// `mean` is m₀; `domain` (optional) is the box used by the Bounds policy and, when given, the
  /// region restarts draw their new m₀ from (uniformly); without it restarts reuse m₀.
  basic_cma_es(cma_es_config cfg, std::vector<T> mean, std::uint64_t seed, box<T> domain = {},
               Bounds bounds = {}, NonFinite non_finite = {})
      : cfg_(cfg), seed_(seed), mean0_(std::move(mean)) {
    validate(cfg_);
    if (mean0_.empty())
      throw config_error("mean", "(empty)", "the initial mean has at least one coordinate");
    for (std::size_t j = 0; j < mean0_.size(); ++j)
      if (!std::isfinite(mean0_[j]))
        throw config_error("mean[" + std::to_string(j) + "]", std::to_string(mean0_[j]), "finite");
    n_ = mean0_.size();
    threads_ = n_ >= cma_parallel_min_n && !sep ? cfg_.threads : 1;
    factored_ = !sep && n_ >= detail::linalg::eigen_dc_min_n;
    pop_ = population_t(n_, std::move(domain), bounds, non_finite, "cma_es");
    lambda_def_ = cfg_.population_size > 0
                      ? static_cast<std::size_t>(cfg_.population_size)
                      : 4 + static_cast<std::size_t>(std::floor(3.0 * std::log(double(n_))));
    large_lambda_ = lambda_def_;
    start_run(lambda_def_, static_cast<T>(cfg_.sigma0), mean0_, false);
  }

  // --- search_strategy ---------------------------------------------------------------------------
  [[nodiscard]] std::size_t dimension() const { return n_; }
  [[nodiscard]] std::size_t population_size() const { return lambda_; }
  [[nodiscard]] std::uint32_t generation() const { return generation_; }
  [[nodiscard]] std::span<const T> best() const { return pop_.best(); }
  [[nodiscard]] T best_fitness() const { return pop_.best_fitness(); }

  /// The population to evaluate (population_size() × dimension(), row-major), bound-repaired.
  std::span<const T> ask() {
    return pop_.ask([this](std::size_t i, std::uint32_t word) { sample_members(i, 1, word); },
                    [this](std::uint32_t word) { sample_members(0, lambda_, word); });
  }

  /// Replaces the mean m (e.g. by an island-model migrant, population/islands.hpp); σ, C, the
  /// evolution paths and the counters are kept. Only between generations: std::logic_error between
  /// ask() and tell(); std::invalid_argument if `mean` does not have dimension() values.
  void set_mean(std::span<const T> mean) {
    if (pop_.asked()) throw std::logic_error("cma_es::set_mean between ask() and tell()");
    if (mean.size() != n_)
      throw std::invalid_argument("cma_es::set_mean: got " + std::to_string(mean.size()) +
                                  " values for dimension " + std::to_string(n_));
    mean_.assign(mean.begin(), mean.end());
  }

  /// Updates from the fitness of the last asked population (higher is better).
  void tell(std::span<const T> fitness) {
    typename population_t::update_input in;
    if (!pop_.tell(fitness, generation_, in)) return;  // resample_non_finite: retry the slots
    run_evals_ += lambda_;  // retries are counted by evaluations(), the run counts generations·λ
    update(in);
    ++generation_;
    ++run_generation_;
    check_stop();
  }

  // --- state -------------------------------------------------------------------------------------
  [[nodiscard]] const cma_es_config& config() const { return cfg_; }
  [[nodiscard]] std::span<const T> mean() const { return mean_; }
  [[nodiscard]] T sigma() const { return sigma_; }
  /// C (n×n row-major, symmetric; sep: its diagonal, n values). The generations' rank-μ updates
  /// write C's lower triangle only; this (like save() and the decomposition) first mirrors it
  /// into the upper one, so do not call it concurrently with other calls on this object.
  [[nodiscard]] std::span<const T> covariance() const {
    sync_covariance();
    return C_;
  }
  /// √eigenvalues of C at the last decomposition (sep: √C_ii).
  [[nodiscard]] std::span<const T> axis_lengths() const { return D_; }
  /// The unit eigenvectors b_k of C at the last decomposition as the rows of an n×n row-major
  /// matrix, row k belonging to axis_lengths()[k] (so that C was Σ_k d_k² b_k b_kᵀ then, up to
  /// rounding); sep: the identity. From n = eigen_dc_min_n on B = Q·S is kept as a product and
  /// this forms it (O(n³), on `threads` threads); below, a copy.
  [[nodiscard]] std::vector<T> eigenvectors() const {
    std::vector<T> b(n_ * n_, T(0));
    if constexpr (sep) {
      for (std::size_t k = 0; k < n_; ++k) b[k * n_ + k] = T(1);
    } else {
      b = Bt_;
      if (factored_) q_.apply(n_, b.data(), n_, false, threads_);  // rows: Q·s_k
    }
    return b;
  }
  [[nodiscard]] std::size_t eigen_interval() const { return eigen_interval_; }
  [[nodiscard]] std::uint64_t evaluations() const { return pop_.evaluations(); }
  [[nodiscard]] const non_finite_stats& non_finite() const { return pop_.stats(); }
  [[nodiscard]] const std::vector<quarantine_record<T>>& quarantined() const {
    return pop_.quarantined();
  }
  /// resample_non_finite: the slots the next ask() re-samples (empty otherwise).
  [[nodiscard]] const std::vector<std::uint32_t>& pending_slots() const { return pop_.pending(); }
  [[nodiscard]] const box<T>& domain() const { return pop_.domain(); }
  /// Runs started after the first (IPOP/BIPOP).
  [[nodiscard]] std::uint32_t restarts() const { return restart_; }
  /// Name of the criterion that ended the most recent run ("" while none has fired).
  [[nodiscard]] std::string_view stop_reason() const {
    return detail::cma::stop_names[static_cast<std::size_t>(last_stop_)];
  }
  /// True when no further run will start: a criterion fired and no restart is left.
  [[nodiscard]] bool stopped() const { return stopped_; }
  [[nodiscard]] const std::vector<cma_run_record>& runs() const { return runs_; }
  [[nodiscard]] std::uint32_t run_generation() const { return run_generation_; }
  [[nodiscard]] bool small_regime() const { return small_; }
  [[nodiscard]] std::span<const T> weights() const { return weights_; }
  [[nodiscard]] T mu_eff() const { return mueff_; }
  [[nodiscard]] std::size_t parents() const { return mu_; }
  [[nodiscard]] T c_sigma() const { return cs_; }
  [[nodiscard]] T d_sigma() const { return ds_; }
  [[nodiscard]] T c_c() const { return cc_; }
  [[nodiscard]] T c_1() const { return c1_; }
  [[nodiscard]] T c_mu() const { return cmu_; }

  void save(state_writer& w) const {
    sync_covariance();
    auto s = w.scope("cma_es");
    w.put("dimension", static_cast<std::uint64_t>(n_));
    visit_state_(*this, [&](std::string_view name, const auto& v) { w.put(name, v); });
    std::vector<std::uint32_t> rr, rl, rs, rsm;
    std::vector<std::uint64_t> re;
    for (const auto& r : runs_) {
      rr.push_back(r.restart);
      rl.push_back(r.population_size);
      re.push_back(r.evaluations);
      rsm.push_back(r.small_regime ? 1 : 0);
      rs.push_back(stop_index(r.stop_reason));
    }
    w.put("runs_restart", rr);
    w.put("runs_lambda", rl);
    w.put("runs_evals", re);
    w.put("runs_small", rsm);
    w.put("runs_stop", rs);
    pop_.save(w);
  }
  void load(state_reader& r) {
    auto s = r.scope("cma_es");
    const auto n = r.get<std::uint64_t>("dimension");
    if (n != n_)
      throw state_error(r.source() + ": cma_es checkpoint of dimension " + std::to_string(n) +
                        " loaded into a strategy of dimension " + std::to_string(n_));
    visit_state_(*this, [&](std::string_view name, auto& v) { r.get(name, v); });
    c_upper_stale_ = false;  // save() wrote C whole
    std::vector<std::uint32_t> rr, rl, rs, rsm;
    std::vector<std::uint64_t> re;
    r.get("runs_restart", rr);
    r.get("runs_lambda", rl, rr.size());
    r.get("runs_evals", re, rr.size());
    r.get("runs_small", rsm, rr.size());
    r.get("runs_stop", rs, rr.size());
    runs_.clear();
    for (std::size_t k = 0; k < rr.size(); ++k)
      runs_.push_back({rr[k], rl[k], re[k], rsm[k] != 0,
                       detail::cma::stop_names[std::min<std::size_t>(rs[k], 8)]});
    std::vector<T> z = std::move(z_), y = std::move(y_);
    set_parameters(lambda_);
    if (z.size() != z_.size() || y.size() != y_.size())
      throw state_error(r.source() + ": cma_es checkpoint holds samples of the wrong size");
    z_ = std::move(z);
    y_ = std::move(y);
    if (factored_) {
      if (refl_.size() != detail::linalg::householder_product<T>::packed_size(n_) ||
          tau_.size() != n_ - 1 || Bt_.size() != n_ * n_)
        throw state_error(r.source() + ": cma_es checkpoint holds Q or S of the wrong size");
      q_.assign(n_, refl_.data(), tau_.data());
    }
    pop_.load(r);
  }

 private:
  // ---- state visiting (save/load): f(name, field) for every field, Self const or not ---------
  template <class Self, class F>
  static void visit_state_(Self& self, F&& f) {
    f("lambda", self.lambda_);
    f("large_lambda", self.large_lambda_);
    f("generation", self.generation_);
    f("run_generation", self.run_generation_);
    f("restart", self.restart_);
    f("large_restarts", self.large_restarts_);
    f("small", self.small_);
    f("stopped", self.stopped_);
    f("last_stop", self.last_stop_);
    f("evals_large", self.evals_large_);
    f("evals_small", self.evals_small_);
    f("last_large_evals", self.last_large_evals_);
    f("run_evals", self.run_evals_);
    f("sigma", self.sigma_);
    f("sigma0_run", self.sigma0_run_);
    f("gens_since_eigen", self.gens_since_eigen_);
    f("mean", self.mean_);
    f("ps", self.ps_);
    f("pc", self.pc_);
    f("C", self.C_);
    f("eigenvectors", self.Bt_);
    f("Q_reflectors", self.refl_);
    f("Q_tau", self.tau_);
    f("D", self.D_);
    f("z", self.z_);
    f("y", self.y_);
    f("best_hist", self.best_hist_);
    f("median_hist", self.median_hist_);
    f("fun_hist", self.fun_hist_);
  }
  static std::uint32_t stop_index(std::string_view s) {
    for (std::size_t k = 0; k < detail::cma::stop_names.size(); ++k)
      if (detail::cma::stop_names[k] == s) return static_cast<std::uint32_t>(k);
    return 0;
  }

  // ---- parameters (tutorial, Table 1 and eqs. 49–53) ------------------------------------------
  void set_parameters(std::size_t lambda) {
    lambda_ = lambda;
    const T n = static_cast<T>(n_);
    const T lam = static_cast<T>(lambda);
    mu_ = cfg_.parents > 0 ? std::min<std::size_t>(static_cast<std::size_t>(cfg_.parents), lambda)
                           : lambda / 2;
    if (mu_ < 1) mu_ = 1;
    std::vector<T> wp(lambda);
    for (std::size_t i = 0; i < lambda; ++i)
      wp[i] = std::log((lam + T(1)) / T(2)) - std::log(static_cast<T>(i + 1));
    if (cfg_.parents > 0)  // explicit μ: log weights over the μ best, shifted to stay positive
      for (std::size_t i = 0; i < lambda; ++i)
        wp[i] = std::log(static_cast<T>(mu_) + T(0.5)) - std::log(static_cast<T>(i + 1));
    T spos = 0, spos2 = 0, sneg = 0, sneg2 = 0;
    for (std::size_t i = 0; i < mu_; ++i) {
      spos += wp[i];
      spos2 += wp[i] * wp[i];
    }
    for (std::size_t i = mu_; i < lambda; ++i)
      if (wp[i] < 0) {
        sneg += -wp[i];
        sneg2 += wp[i] * wp[i];
      }
    mueff_ = spos * spos / spos2;
    const T mueff_neg = sneg2 > 0 ? sneg * sneg / sneg2 : T(0);
    cc_ = (T(4) + mueff_ / n) / (n + T(4) + T(2) * mueff_ / n);
    cs_ = (mueff_ + T(2)) / (n + mueff_ + T(5));
    const T alpha_cov = T(2);
    c1_ = alpha_cov / ((n + T(1.3)) * (n + T(1.3)) + mueff_);
    cmu_ = std::min(T(1) - c1_, alpha_cov * (mueff_ - T(2) + T(1) / mueff_) /
                                    ((n + T(2)) * (n + T(2)) + alpha_cov * mueff_ / T(2)));
    if constexpr (sep) {  // Ros & Hansen 2008: learning rates × (n+2)/3
      c1_ = std::min(T(1), c1_ * (n + T(2)) / T(3));
      cmu_ = std::min(T(1) - c1_, cmu_ * (n + T(2)) / T(3));
    }
    ds_ = T(1) + T(2) * std::max(T(0), std::sqrt((mueff_ - T(1)) / (n + T(1))) - T(1)) + cs_;
    chin_ = std::sqrt(n) * (T(1) - T(1) / (T(4) * n) + T(1) / (T(21) * n * n));
    weights_.assign(lambda, T(0));
    for (std::size_t i = 0; i < mu_; ++i) weights_[i] = wp[i] / spos;
    if (cfg_.active && sneg > 0) {
      const T a_mu = T(1) + c1_ / cmu_;
      const T a_mueff = T(1) + T(2) * mueff_neg / (mueff_ + T(2));
      const T a_posdef = (T(1) - c1_ - cmu_) / (n * cmu_);
      const T a = std::min({a_mu, a_mueff, a_posdef});
      for (std::size_t i = mu_; i < lambda; ++i)
        if (wp[i] < 0) weights_[i] = a * wp[i] / sneg;
    }
    if constexpr (sep) {
      eigen_interval_ = 1;
    } else {
      // tutorial (purecmaes.m): decompose when counteval − eigeneval > λ/(c₁+c_μ)/n/10, i.e. after
      // the smallest number of generations g with g·λ > λ/(10 n (c₁+c_μ))
      const double every = 1.0 / (10.0 * double(n_) * double(c1_ + cmu_));
      eigen_interval_ = static_cast<std::size_t>(std::floor(every)) + 1;
    }
    z_.assign(lambda * n_, T(0));
    if constexpr (!sep) zd_.assign(lambda * n_, T(0));
    y_.assign(lambda * n_, T(0));
  }

  void start_run(std::size_t lambda, T sigma0, const std::vector<T>& mean, bool small) {
    set_parameters(lambda);
    small_ = small;
    sigma_ = sigma0;
    sigma0_run_ = sigma0;
    mean_ = mean;
    ps_.assign(n_, T(0));
    pc_.assign(n_, T(0));
    if constexpr (sep) {
      C_.assign(n_, T(1));
      Bt_.clear();
    } else {
      C_.assign(n_ * n_, T(0));
      Bt_.assign(n_ * n_, T(0));
      for (std::size_t i = 0; i < n_; ++i) C_[i * n_ + i] = Bt_[i * n_ + i] = T(1);
      if (factored_) {  // Q = I
        refl_.assign(detail::linalg::householder_product<T>::packed_size(n_), T(0));
        tau_.assign(n_ - 1, T(0));
        q_.assign(n_, refl_.data(), tau_.data());
      }
    }
    D_.assign(n_, T(1));
    c_upper_stale_ = false;
    gens_since_eigen_ = 0;
    run_generation_ = 0;
    run_evals_ = 0;
    best_hist_.clear();
    median_hist_.clear();
    fun_hist_.clear();
    pop_.resize(lambda);
  }

  // ---- sampling -----------------------------------------------------------------------------
  void sample_members(std::size_t first, std::size_t count, std::uint32_t word) {
    const auto key =
        random_key::make(seed_, cma_es_stream, generation_, static_cast<std::uint32_t>(restart_));
    // z_i of member i, then sep: y_i = D·z_i and x_i; full: zd_i = D·z_i (buf: workspace)
    auto draw = [&](std::size_t i, std::vector<float>& buf) {
      fill_normal(key, static_cast<std::uint32_t>(i), word, buf);
      T* z = z_.data() + i * n_;
      if constexpr (sep) {
        T* y = y_.data() + i * n_;
        T* x = pop_.genotype(i).data();
        for (std::size_t j = 0; j < n_; ++j) {
          z[j] = static_cast<T>(buf[j]);
          y[j] = D_[j] * z[j];
          x[j] = mean_[j] + sigma_ * y[j];
        }
      } else {
        T* zd = zd_.data() + i * n_;
        for (std::size_t j = 0; j < n_; ++j) {
          z[j] = static_cast<T>(buf[j]);
          zd[j] = D_[j] * z[j];
        }
      }
    };
    // members as tasks with threads (a normal costs ≈ 30 multiply–adds; sep-CMA: threads_ = 1)
    namespace la = detail::linalg;
    const std::size_t th = la::threads_for(threads_, 30.0 * double(count) * double(n_));
    if (th <= 1) {
      std::vector<float> buf(n_);
      for (std::size_t i = first; i < first + count; ++i) draw(i, buf);
    } else {
      la::run_tasks(count, th, [&](std::size_t t) {
        std::vector<float> buf(n_);
        draw(first + t, buf);
      });
    }
    if constexpr (!sep) product_members(first, count);
  }

  /// y_k and x_k of members [first, first + count) from their zd_k = D·z_k.
  void product_members(std::size_t first, std::size_t count) {
    // Y = (Z∘D)·Bᵀᵀ: row k of Y = Σ_j (D_j z_kj) · (row j of Bt); factored: the same with S's
    // rows, then y_k ← Q·y_k
    detail::linalg::gemm(count, n_, n_, zd_.data() + first * n_, Bt_.data(),
                         y_.data() + first * n_, threads_);
    if (factored_) q_.apply(count, y_.data() + first * n_, n_, false, threads_);
    for (std::size_t i = first; i < first + count; ++i) {
      auto x = pop_.genotype(i);
      const T* y = y_.data() + i * n_;
      for (std::size_t j = 0; j < n_; ++j) x[j] = mean_[j] + sigma_ * y[j];
    }
  }

  // ---- update (tutorial, "Summary of the update equations") -----------------------------------
  void update(const typename population_t::update_input& in) {
    const std::size_t n = n_, lambda = lambda_;
    // update points: y = (x − m)/σ and z = D⁻¹Bᵀy for members a Lamarckian repair moved
    for (std::size_t i = 0; i < lambda; ++i) {
      if (!pop_.moved(i)) continue;
      const auto p = pop_.update_point(i);
      T* y = y_.data() + i * n;
      T* z = z_.data() + i * n;
      for (std::size_t j = 0; j < n; ++j) y[j] = (p[j] - mean_[j]) / sigma_;
      if constexpr (sep) {
        for (std::size_t j = 0; j < n; ++j) z[j] = y[j] / D_[j];
      } else {
        std::vector<T> qy(y, y + n);  // factored: Bᵀy = Sᵀ·(Qᵀy)
        if (factored_) q_.apply(1, qy.data(), n, true);
        for (std::size_t k = 0; k < n; ++k)
          z[k] = detail::linalg::dot(n, &Bt_[k * n], qy.data()) / D_[k];
      }
    }
    // ranking of the members taking part (best first, ties by index)
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < lambda; ++i)
      if (!in.excluded[i]) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return in.fitness[a] > in.fitness[b];
    });
    const std::size_t v = order.size();
    record_history(in, order);
    if (v == 0) return;
    std::vector<T> w(v);
    T wsum_pos = 0;
    for (std::size_t r = 0; r < v; ++r) {
      w[r] = weights_[r];
      if (w[r] > 0) wsum_pos += w[r];
    }
    if (v < mu_ && wsum_pos > 0)
      for (auto& x : w)
        if (x > 0) x /= wsum_pos;
    // weighted means of y and z over the positive weights
    std::vector<T> yw(n, T(0)), zw(n, T(0));
    for (std::size_t r = 0; r < v && w[r] > 0; ++r) {
      detail::linalg::axpy(n, w[r], &y_[order[r] * n], yw.data());
      detail::linalg::axpy(n, w[r], &z_[order[r] * n], zw.data());
    }
    for (std::size_t j = 0; j < n; ++j) mean_[j] += sigma_ * yw[j];  // c_m = 1
    // σ path: p_σ ← (1−c_σ)p_σ + √(c_σ(2−c_σ)μ_eff)·C^{−1/2}⟨y⟩_w, with C^{−1/2}⟨y⟩_w = B⟨z⟩_w
    const T csn = std::sqrt(cs_ * (T(2) - cs_) * mueff_);
    std::vector<T> bz(n, T(0));
    if constexpr (sep) {
      bz = zw;
    } else {
      bz_product(zw, bz);
    }
    for (std::size_t j = 0; j < n; ++j) ps_[j] = (T(1) - cs_) * ps_[j] + csn * bz[j];
    const T psn = std::sqrt(detail::linalg::dot(n, ps_.data(), ps_.data()));
    const T g1 = static_cast<T>(run_generation_ + 1);
    const bool hsig = psn / std::sqrt(T(1) - std::pow(T(1) - cs_, T(2) * g1)) <
                      (T(1.4) + T(2) / (static_cast<T>(n) + T(1))) * chin_;
    const T ccn = std::sqrt(cc_ * (T(2) - cc_) * mueff_);
    for (std::size_t j = 0; j < n; ++j)
      pc_[j] = (T(1) - cc_) * pc_[j] + (hsig ? ccn * yw[j] : T(0));
    // C ← (1 + c₁δ(h_σ) − c₁ − c_μΣw_j)C + c₁p_c p_cᵀ + c_μ Σ w°_i y_i y_iᵀ
    std::size_t used = 0;
    T wsum = 0;
    for (std::size_t r = 0; r < v; ++r)
      if (w[r] != T(0)) {
        ++used;
        wsum += w[r];
      }
    const T delta = hsig ? T(0) : cc_ * (T(2) - cc_);
    const T alpha = T(1) + c1_ * delta - c1_ - cmu_ * wsum;
    std::vector<T> coef(used + 1);
    std::vector<const T*> rows(used + 1);
    coef[0] = c1_;
    rows[0] = pc_.data();
    for (std::size_t r = 0, u = 0; r < v; ++r) {
      if (w[r] == T(0)) continue;
      ++u;
      const std::size_t i = order[r];
      T wo = w[r];
      if (wo < 0) {
        const T zz = detail::linalg::dot(n, &z_[i * n], &z_[i * n]);
        wo *= static_cast<T>(n) / std::max(zz, std::numeric_limits<T>::min());
      }
      coef[u] = cmu_ * wo;
      rows[u] = &y_[i * n];
    }
    if constexpr (sep) {
      // C_jj ← α C_jj + c₁ p_cj² + Σ c_μ w°_i y_ij², terms added in this order
      for (std::size_t j = 0; j < n; ++j) C_[j] *= alpha;
      for (std::size_t u = 0; u <= used; ++u)
        detail::linalg::add_scaled_square(n, coef[u], rows[u], C_.data());
      for (std::size_t j = 0; j < n; ++j)
        D_[j] = std::sqrt(std::max(C_[j], std::numeric_limits<T>::min()));
    } else {
      std::vector<T> vecs((used + 1) * n);
      for (std::size_t u = 0; u <= used; ++u)
        std::copy(rows[u], rows[u] + n, vecs.begin() + static_cast<std::ptrdiff_t>(u * n));
      detail::linalg::symmetric_rank_update(n, alpha, used + 1, coef.data(), vecs.data(),
                                            C_.data(), threads_, /*mirror=*/false);
      c_upper_stale_ = true;
    }
    sigma_ *= std::exp((cs_ / ds_) * (psn / chin_ - T(1)));
    if constexpr (!sep) {
      if (++gens_since_eigen_ >= eigen_interval_) {
        gens_since_eigen_ = 0;
        decompose();
      }
    }
  }

  /// bz = B·zw = Σ_k zw_k·(row k of Bt), each element summed over k in order (with threads: in
  /// column strips, the same sums).
  void bz_product(const std::vector<T>& zw, std::vector<T>& bz) const {
    namespace la = detail::linalg;
    const std::size_t n = n_;
    const std::size_t th = la::threads_for(threads_, double(n) * double(n));
    const std::size_t tasks = la::strip_count(n, th, 4 * la::width<T>);
    la::run_tasks(tasks, th, [&](std::size_t t) {
      const auto range = la::strip(n, tasks, t, 4 * la::width<T>);
      const std::size_t lo = range.first, hi = range.second;
      for (std::size_t k = 0; k < n; ++k) la::axpy(hi - lo, zw[k], &Bt_[k * n + lo], &bz[lo]);
    });
    if (factored_) q_.apply(1, bz.data(), n, false);  // B = Q·S
  }

  void decompose() {
    namespace la = detail::linalg;
    std::vector<T> ev(n_);
    sync_covariance();
    if (factored_) {
      la::eigen_dc_factored<T>(n_, C_, ev, Bt_, refl_, tau_, la::eigen_dc_leaf, threads_);
      q_.assign(n_, refl_.data(), tau_.data(), threads_);
    } else {
      la::symmetric_eigen<T>(n_, C_, ev, Bt_, la::eigen_auto, threads_);
    }
    const T top = std::max(ev[n_ - 1], std::numeric_limits<T>::min());
    for (std::size_t k = 0; k < n_; ++k)
      D_[k] = std::sqrt(std::max(ev[k], top * std::numeric_limits<T>::epsilon() *
                                            std::numeric_limits<T>::epsilon()));
  }

  // ---- stopping (tutorial appendix B.3, Hansen 2009) ----------------------------------------
  void record_history(const typename population_t::update_input& in,
                      const std::vector<std::size_t>& order) {
    if (order.empty()) return;
    // minimisation view f = −fitness
    best_hist_.push_back(-in.fitness[order.front()]);
    std::vector<T> f;
    for (std::size_t i : order) f.push_back(-in.fitness[i]);
    median_hist_.push_back(detail::cma::median_of(f));
    fun_hist_.assign(2, T(0));
    fun_hist_[0] = f.front();
    fun_hist_[1] = f.back();  // range of this generation's values
    constexpr std::size_t cap = 20000;
    if (best_hist_.size() > cap) {
      best_hist_.erase(best_hist_.begin());
      median_hist_.erase(median_hist_.begin());
    }
  }

  /// C's upper triangle from its lower one after rank-μ updates (mirror_lower; full C only).
  void sync_covariance() const {
    if (!c_upper_stale_) return;
    detail::linalg::mirror_lower(n_, C_.data(), threads_);
    c_upper_stale_ = false;
  }

  /// NoEffectAxis for axis i: m_j == m_j + 0.1σ·d_i·b_ij for every j. The unit vector b_i has an
  /// entry |b_ij| ≥ 1/√n, whose step exceeds half an ulp of every |m_j| when
  /// 0.1σ·d_i/√n > 2·max(ε·max|m_j|, smallest normal): then the answer is false without forming
  /// b_i (O(n²) in the factored form).
  bool no_effect_axis(std::size_t i) const {
    const std::size_t n = n_;
    const T s = T(0.1) * sigma_ * D_[i];
    T mmax = T(0);
    for (std::size_t j = 0; j < n; ++j) mmax = std::max(mmax, std::abs(mean_[j]));
    if (std::abs(s) / std::sqrt(static_cast<T>(n)) >
        T(2) * std::max(std::numeric_limits<T>::epsilon() * mmax, std::numeric_limits<T>::min()))
      return false;
    std::vector<T> b(n);
    if constexpr (sep) {
      b[i] = T(1);
    } else {
      std::copy(&Bt_[i * n], &Bt_[i * n] + n, b.begin());
      if (factored_) q_.apply(1, b.data(), n, false);
    }
    for (std::size_t j = 0; j < n; ++j)
      if (mean_[j] != mean_[j] + s * b[j]) return false;
    return true;
  }

  stop first_stop() const {
    const std::size_t n = n_;
    const T nT = static_cast<T>(n);
    const std::size_t hist =
        10 + static_cast<std::size_t>(std::ceil(30.0 * double(n) / double(lambda_)));
    if (best_hist_.size() >= hist) {
      const auto first = best_hist_.end() - static_cast<std::ptrdiff_t>(hist);
      const auto [lo, hi] = std::minmax_element(first, best_hist_.end());
      const T range_hist = *hi - *lo;
      T all_lo = *lo, all_hi = *hi;
      if (fun_hist_.size() == 2) {
        all_lo = std::min(all_lo, fun_hist_[0]);
        all_hi = std::max(all_hi, fun_hist_[1]);
      }
      if (all_hi - all_lo < static_cast<T>(cfg_.tol_fun)) return stop::tol_fun;
      if (range_hist < static_cast<T>(cfg_.tol_hist_fun)) return stop::tol_hist_fun;
    }
    const T tolx = static_cast<T>(cfg_.tol_x) * sigma0_run_;
    bool small_x = true;
    for (std::size_t j = 0; j < n && small_x; ++j)
      small_x = sigma_ * std::abs(pc_[j]) < tolx && sigma_ * std::sqrt(diag(j)) < tolx;
    if (small_x) return stop::tol_x;
    // NoEffectAxis: m unchanged by 0.1σ·d_i·b_i, i = g mod n
    if (no_effect_axis(run_generation_ % n)) return stop::no_effect_axis;
    for (std::size_t j = 0; j < n; ++j)
      if (mean_[j] == mean_[j] + T(0.2) * sigma_ * std::sqrt(diag(j))) return stop::no_effect_coord;
    {
      const auto [lo, hi] = std::minmax_element(D_.begin(), D_.end());
      if ((*hi / *lo) * (*hi / *lo) > static_cast<T>(cfg_.tol_condition)) return stop::condition_cov;
    }
    // Stagnation: over the last 20% of generations (at least 120 + 30n/λ, at most 20000), the median
    // of the most recent 30% of best and median values is not better than the first 30%'s.
    {
      const std::size_t g = best_hist_.size();
      const std::size_t lo_len = 120 + static_cast<std::size_t>(30.0 * double(n) / double(lambda_));
      if (g > lo_len) {
        const std::size_t len =
            std::min<std::size_t>(std::max<std::size_t>(lo_len, run_generation_ / 5), g);
        const std::size_t part = std::max<std::size_t>(1, static_cast<std::size_t>(0.3 * double(len)));
        auto window_medians = [&](const std::vector<T>& h) {
          const auto b = h.end() - static_cast<std::ptrdiff_t>(len);
          const T first = detail::cma::median_of(std::vector<T>(b, b + static_cast<std::ptrdiff_t>(part)));
          const T last = detail::cma::median_of(
              std::vector<T>(h.end() - static_cast<std::ptrdiff_t>(part), h.end()));
          return last >= first;
        };
        if (window_medians(best_hist_) && window_medians(median_hist_)) return stop::stagnation;
      }
    }
    if constexpr (std::is_same_v<Restarts, bipop_restarts>)
      if (small_ && run_evals_ > last_large_evals_ / 2) return stop::budget_small;
    (void)nT;
    return stop::none;
  }

  T diag(std::size_t j) const {
    if constexpr (sep) return C_[j];
    else return C_[j * n_ + j];
  }

  void check_stop() {
    if (!cfg_.stop_criteria || stopped_) return;
    const stop s = first_stop();
    if (s == stop::none) return;
    last_stop_ = s;
    runs_.push_back({restart_, static_cast<std::uint32_t>(lambda_), run_evals_, small_,
                     detail::cma::stop_names[static_cast<std::size_t>(s)]});
    if (small_) evals_small_ += run_evals_;
    else {
      evals_large_ += run_evals_;
      last_large_evals_ = run_evals_;
    }
    if constexpr (std::is_same_v<Restarts, no_restarts>) {
      stopped_ = true;
    } else {
      if (restart_ >= static_cast<std::uint32_t>(cfg_.max_restarts)) {
        stopped_ = true;
        return;
      }
      restart();
    }
  }

  void restart() {
    ++restart_;
    const auto key = random_key::make(seed_, cma_restart_stream, restart_, 0);
    std::vector<T> m0 = mean0_;
    const auto& dom = pop_.domain();
    if (!dom.empty())
      for (std::size_t j = 0; j < n_; ++j) {
        const T u = static_cast<T>(uniform<float>(key, 0, 0, static_cast<std::uint32_t>(j)));
        m0[j] = dom.lower[j] + u * (dom.upper[j] - dom.lower[j]);
      }
    const T s0 = static_cast<T>(cfg_.sigma0);
    const T factor = static_cast<T>(cfg_.restart_population_factor);
    if constexpr (std::is_same_v<Restarts, ipop_restarts>) {
      large_lambda_ = static_cast<std::size_t>(std::round(static_cast<T>(large_lambda_) * factor));
      start_run(large_lambda_, s0, m0, false);
    } else {
      // BIPOP: the regime that has used fewer evaluations runs next (large first).
      if (evals_small_ < evals_large_ && large_restarts_ > 0) {
        const T u1 = static_cast<T>(uniform<float>(key, 1, 0, 0));
        const T u2 = static_cast<T>(uniform<float>(key, 1, 0, 1));
        const T ratio = T(0.5) * static_cast<T>(large_lambda_) / static_cast<T>(lambda_def_);
        const auto lam = static_cast<std::size_t>(
            std::floor(static_cast<T>(lambda_def_) * std::pow(ratio, u1 * u1)));
        start_run(std::max<std::size_t>(lam, 2), s0 * std::pow(T(10), T(-2) * u2), m0, true);
      } else {
        ++large_restarts_;
        large_lambda_ = static_cast<std::size_t>(
            std::round(static_cast<T>(lambda_def_) * std::pow(factor, static_cast<T>(large_restarts_))));
        start_run(large_lambda_, s0, m0, false);
      }
    }
  }

  cma_es_config cfg_;
  int threads_ = 1;  // cfg_.threads from cma_parallel_min_n on (full covariance), else 1
  std::uint64_t seed_ = 0;
  std::vector<T> mean0_;
  std::size_t n_ = 0;
  population_t pop_;
  // run parameters
  std::size_t lambda_ = 0, mu_ = 0, lambda_def_ = 0, large_lambda_ = 0, eigen_interval_ = 1;
  std::vector<T> weights_;
  T mueff_ = 0, cc_ = 0, cs_ = 0, c1_ = 0, cmu_ = 0, ds_ = 0, chin_ = 0;
  // run state
  T sigma_ = 0, sigma0_run_ = 0;
  // Bt_: rows = eigenvectors; of C (B's columns) below eigen_dc_min_n, of the tridiagonal
  // T = QᵀCQ from there on (factored_: B = Q·S, Q from the packed reflectors refl_ and τ tau_)
  std::vector<T> mean_, ps_, pc_, Bt_, D_, refl_, tau_;
  // C (sep: its diagonal); mutable: sync_covariance() mirrors the lower triangle the rank-μ
  // updates write (c_upper_stale_) into the upper one when a reader needs the whole matrix
  mutable std::vector<T> C_;
  mutable bool c_upper_stale_ = false;
  detail::linalg::householder_product<T> q_;
  bool factored_ = false;
  std::vector<T> z_, zd_, y_;
  std::uint64_t gens_since_eigen_ = 0;
  std::uint32_t generation_ = 0, run_generation_ = 0, restart_ = 0, large_restarts_ = 0;
  bool small_ = false, stopped_ = false;
  stop last_stop_ = stop::none;
  std::uint64_t evals_large_ = 0, evals_small_ = 0, last_large_evals_ = 0, run_evals_ = 0;
  std::vector<T> best_hist_, median_hist_, fun_hist_;
  std::vector<cma_run_record> runs_;
};

/// Full-covariance CMA-ES.
template <class T = double, class Bounds = no_bounds, class NonFinite = worst_rank>
using cma_es = basic_cma_es<T, full_covariance, no_restarts, Bounds, NonFinite>;
/// Separable (diagonal) CMA-ES, O(n) per sample: large dimensions.
template <class T = double, class Bounds = no_bounds, class NonFinite = worst_rank>
using sep_cma_es = basic_cma_es<T, diagonal_covariance, no_restarts, Bounds, NonFinite>;
/// IPOP-CMA-ES: restarts with λ doubled.
template <class T = double, class Bounds = no_bounds, class NonFinite = worst_rank>
using ipop_cma_es = basic_cma_es<T, full_covariance, ipop_restarts, Bounds, NonFinite>;
/// BIPOP-CMA-ES: large and small population regimes.
template <class T = double, class Bounds = no_bounds, class NonFinite = worst_rank>
using bipop_cma_es = basic_cma_es<T, full_covariance, bipop_restarts, Bounds, NonFinite>;

}  // namespace dphys::search

