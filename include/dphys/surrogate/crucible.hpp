// dphys/surrogate/crucible.hpp — the surrogate crucible (spec G4): scores expression programs (and
// external predict callables) against a leapfrog reference on a set of scenes, in one-step mode
// (Galaxy's accuracy 1/(1+√Σ|Δx|²)) or multi-step mode (RMSE, accuracy_bench = 1/(1+√RMSE),
// energy drift softened/unsoftened, angular-momentum drift, virial ratio), with deterministic cost
// (pair-kernel evaluations per step; node-weighted; wall-clock opt-in), fitness = accuracy /
// (cost + 1e−9) × size penalty, counted rejections, and the drift-only null model beside every
// result. No extension points beyond the config.
//
// Determinism: with a deterministic cost model an evaluation is a pure function of (program,
// scenes, config, build): repeated evaluations give identical fitness (AG5). Thread safety:
// evaluate() is const and allocates its own interpreter; one crucible may serve many threads.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/core/config_check.hpp>
#include <dphys/core/enum_names.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/nbody/diagnostics.hpp>
#include <dphys/nbody/force.hpp>
#include <dphys/nbody/integrators.hpp>
#include <dphys/nbody/particles.hpp>
#include <dphys/surrogate/interpreter.hpp>
#include <dphys/surrogate/program.hpp>
#include <dphys/surrogate/validator.hpp>

namespace dphys::surrogate {

enum class crucible_mode : std::uint8_t { one_step, multi_step };
constexpr auto enum_names(crucible_mode) {
  return std::array{std::pair{crucible_mode::one_step, std::string_view{"one_step"}},
                    std::pair{crucible_mode::multi_step, std::string_view{"multi_step"}}};
}

/// What "cost" counts. wall_clock is not reproducible and never the default (spec §0.4).
enum class cost_model : std::uint8_t {
  pair_evaluations,  ///< pair-kernel evaluations per step (direct summation: N(N−1) per pass)
  node_weighted,     ///< pair-kernel evaluations × kernel nodes, per step
  wall_clock         ///< seconds per step, measured (opt-in)
};
constexpr auto enum_names(cost_model) {
  return std::array{std::pair{cost_model::pair_evaluations, std::string_view{"pair_evaluations"}},
                    std::pair{cost_model::node_weighted, std::string_view{"node_weighted"}},
                    std::pair{cost_model::wall_clock, std::string_view{"wall_clock"}}};
}

/// What the fitness rewards (× the size penalty when enabled): Galaxy's accuracy/(cost + 1e−9);
/// accuracy alone; or skill = 1/(1 + relative_error), where relative_error is the mean over
/// scenes of the position error relative to the null model's (scale-free, so scenes with small
/// and large accelerations weigh alike; for discovery).
enum class fitness_kind : std::uint8_t { accuracy_per_cost, accuracy, skill };
constexpr auto enum_names(fitness_kind) {
  return std::array{
      std::pair{fitness_kind::accuracy_per_cost, std::string_view{"accuracy_per_cost"}},
      std::pair{fitness_kind::accuracy, std::string_view{"accuracy"}},
      std::pair{fitness_kind::skill, std::string_view{"skill"}}};
}

struct crucible_config {
  crucible_mode mode = crucible_mode::one_step;
  double dt = 0.1;             ///< step of the reference and of the surrogate
  int steps = 100;             ///< multi-step rollout length
  double G = 1.0;              ///< reference law: softened Newtonian gravity
  double eps = 0.01;           ///< reference softening (r² + ε²)
  nbody::potential_kind energy_potential = nbody::potential_kind::unsoftened;  ///< energy drift
  cost_model cost = cost_model::pair_evaluations;
  fitness_kind fitness = fitness_kind::accuracy_per_cost;
  bool size_penalty = true;      ///< Galaxy's code-length penalty on program size
  double size_threshold = 400;   ///< penalty starts above this many nodes
  double size_weight = 0.1;
  double size_floor = 0.1;
  double reject_cost = 999.9;    ///< cost reported for rejected candidates (Galaxy's 999.9)
  double explode_factor = 1e3;   ///< exploding: |x| > explode_factor·(1 + initial extent + vmax·T)
  bool reject_domain_errors = false;  ///< a protected-operator case makes a candidate invalid
  double parsimony = 0.0;  ///< fitness × max(0, 1 − parsimony·size): linear parsimony pressure
  parse_limits limits{};         ///< size/depth/constant limits of candidates

  void check(config_checker<crucible_config>& c) const {
    c(&crucible_config::dt).greater_than(0.0).finite();
    c(&crucible_config::steps).in_range(1, 1000000);
    c(&crucible_config::G).at_least(0.0).finite();
    c(&crucible_config::eps).at_least(0.0).finite();
    c(&crucible_config::size_threshold).greater_than(0.0).finite();
    c(&crucible_config::size_weight).at_least(0.0).finite();
    c(&crucible_config::size_floor).in_range(0.0, 1.0);
    c(&crucible_config::reject_cost).at_least(0.0).finite();
    c(&crucible_config::explode_factor).greater_than(1.0).finite();
    c(&crucible_config::parsimony).in_range(0.0, 1.0);
  }
};

}  // namespace dphys::surrogate

DPHYS_ADAPT_STRUCT(dphys::surrogate::crucible_config, mode, dt, steps, G, eps, energy_potential,
                   cost, fitness, size_penalty, size_threshold, size_weight, size_floor,
                   reject_cost, explode_factor, reject_domain_errors, parsimony, limits);

namespace dphys::surrogate {

/// Multi-step diagnostics of one rollout (means over scenes in an evaluation).
struct rollout_metrics {
  double rmse = 0;                    ///< √(mean_i |x_i − x_i,true|²) after `steps`
  double accuracy_bench = 0;          ///< 1/(1 + √rmse)
  double energy_drift = 0;            ///< |E_T − E_0|/|E_0| (crucible_config::energy_potential)
  double angular_momentum_drift = 0;  ///< |L_T − L_0|/|L_0|
  double virial_ratio = 0;            ///< 2T/|U| at the end
};

/// The score of one candidate. Rejected candidates have accuracy 0, cost = reject_cost, fitness 0.
struct evaluation {
  double fitness = 0;
  double accuracy = 0;      ///< one_step: mean over scenes of 1/(1+√Σ|Δx|²); multi: accuracy_bench
  double cost = 0;          ///< per the cost model, per step and scene (mean)
  std::size_t size = 0;     ///< program size (kernel nodes)
  double size_factor = 1;   ///< the penalty factor applied (1 when disabled)
  double position_error = 0;  ///< one_step: mean over scenes of √Σ|Δx|²
  double relative_error = 0;  ///< mean over scenes of √(Σ|Δx|² / Σ|Δx_null|²) (null model: 1)
  rollout_metrics rollout;    ///< multi_step only
  std::uint64_t kernel_evaluations = 0;
  std::uint64_t domain_errors = 0;  ///< protected-operator cases hit (counted, not fatal)
  rejection reason = rejection::none;
  std::string message;  ///< why rejected; empty otherwise
  [[nodiscard]] bool rejected() const noexcept { return reason != rejection::none; }
};

/// The objective vector for multi-objective search (NSGA-II): maximise accuracy, minimise cost,
/// minimise size.
struct objectives {
  double accuracy;
  double cost;
  double size;
  /// All three as minimisation objectives: (1 − accuracy, cost, size).
  [[nodiscard]] std::array<double, 3> minimise() const { return {1.0 - accuracy, cost, size}; }
};
inline objectives objective_vector(const evaluation& e) {
  return {e.accuracy, e.cost, static_cast<double>(e.size)};
}

/// Counts of rejections by reason (index = rejection value).
using rejection_counts = std::array<std::uint64_t, rejection_count>;

/// Snapshots of a reference trajectory: the state of `initial` after 0, every, 2·every, ... steps
/// (count snapshots) of leapfrog KDK under softened Newtonian gravity (G, eps), step dt. The
/// crucible's scenes when learning "from trajectories alone".
inline std::vector<nbody::particles<double>> trajectory_snapshots(
    const nbody::particles<double>& initial, int count, int every, double dt, double G = 1.0,
    double eps = 0.01) {
  const nbody::softened_newton law{G, eps};
  std::vector<nbody::particles<double>> out;
  auto p = initial;
  for (int k = 0; k < count; ++k) {
    if (k > 0) nbody::integrate<nbody::leapfrog_kdk>(p, law, dt, every);
    out.push_back(p);
  }
  return out;
}

class surrogate_crucible {
 public:
  /// Scenes are initial conditions; the reference (leapfrog KDK under softened Newtonian gravity,
  /// G and eps from cfg) is integrated once here. Throws config_error for a bad config and
  /// std::invalid_argument for no scenes or a scene with fewer than 2 particles.
  surrogate_crucible(crucible_config cfg, std::vector<nbody::particles<double>> scenes)
      : cfg_(std::move(cfg)), scenes_(std::move(scenes)) {
    validate(cfg_);
    if (scenes_.empty()) throw std::invalid_argument("surrogate_crucible: no scenes");
    const nbody::softened_newton law{cfg_.G, cfg_.eps};
    const int steps = cfg_.mode == crucible_mode::one_step ? 1 : cfg_.steps;
    for (const auto& s : scenes_) {
      if (s.size() < 2)
        throw std::invalid_argument("surrogate_crucible: a scene needs >= 2 particles");
      auto t = s;
      nbody::integrate<nbody::leapfrog_kdk>(t, law, cfg_.dt, steps);
      truth_.push_back(std::move(t));
      double extent = 0, vmax = 0;
      for (std::size_t i = 0; i < s.size(); ++i) {
        extent = std::max({extent, std::fabs(s.x[i]), std::fabs(s.y[i]), std::fabs(s.z[i])});
        vmax = std::max(vmax, std::sqrt(s.vx[i] * s.vx[i] + s.vy[i] * s.vy[i] + s.vz[i] * s.vz[i]));
      }
      bound_.push_back(cfg_.explode_factor * (1.0 + extent + vmax * cfg_.dt * steps));
    }
    for (const auto& s : scenes_) {
      auto t = s;
      nbody::integrate<nbody::leapfrog_kdk>(t, law, cfg_.dt, 1);
      one_step_truth_.push_back(std::move(t));
      auto q = s;
      drift_(q, 1);
      const double e = sq_error_(q, one_step_truth_.back());
      one_step_null_.push_back(e > 0 ? e : 1.0);
    }
    null_se_.assign(scenes_.size(), 1.0);
    null_ = null_model_();
    for (std::size_t s = 0; s < scenes_.size(); ++s) null_se_[s] = null_final_se_[s] > 0 ? null_final_se_[s] : 1.0;
    null_ = null_model_();
  }

  [[nodiscard]] const crucible_config& config() const noexcept { return cfg_; }
  [[nodiscard]] const std::vector<nbody::particles<double>>& scenes() const noexcept {
    return scenes_;
  }
  /// The reference state after one step (one_step) or `steps` steps (multi_step), per scene.
  [[nodiscard]] const std::vector<nbody::particles<double>>& truth() const noexcept {
    return truth_;
  }
  /// The drift-only null model x' = x + v·dt, scored like any candidate (cost 0, size 1).
  [[nodiscard]] const evaluation& null_result() const noexcept { return null_; }

  /// Rejections so far by reason (index = rejection value), over evaluate/evaluate_predict calls.
  [[nodiscard]] rejection_counts rejections() const noexcept {
    rejection_counts c{};
    for (std::size_t k = 0; k < c.size(); ++k) c[k] = rejected_[k].load(std::memory_order_relaxed);
    return c;
  }

  /// Scores one program. Never throws for a bad program: it is rejected with a reason.
  [[nodiscard]] evaluation evaluate(const program& p) const {
    evaluation e;
    e.size = p.size();
    if (validation v = validate_program(p, cfg_.limits, cfg_.dt); !v.ok())
      return reject_(std::move(e), v.reason, std::move(v.message));
    interpreter in(p);
    const int steps = cfg_.mode == crucible_mode::one_step ? 1 : cfg_.steps;
    const auto t0 = std::chrono::steady_clock::now();
    eval_counters c;
    std::vector<nbody::particles<double>> finals;
    finals.reserve(scenes_.size());
    for (std::size_t s = 0; s < scenes_.size(); ++s) {
      auto q = scenes_[s];
      for (int k = 0; k < steps; ++k) {
        in.step(q, cfg_.dt, c);
        if (auto r = check_state_(q, bound_[s]); r != rejection::none)
          return reject_(std::move(e), r,
                         std::string(r == rejection::non_finite ? "non-finite state"
                                                                : "exploding state") +
                             " in scene " + std::to_string(s) + " at step " + std::to_string(k + 1));
      }
      finals.push_back(std::move(q));
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    e.kernel_evaluations = c.kernel_evaluations;
    e.domain_errors = c.domain_errors;
    if (cfg_.reject_domain_errors && c.domain_errors > 0)
      return reject_(std::move(e), rejection::domain_error,
                     std::to_string(c.domain_errors) + " protected-operator cases");
    const double per = static_cast<double>(scenes_.size()) * steps;
    switch (cfg_.cost) {
      case cost_model::pair_evaluations:
        e.cost = static_cast<double>(c.kernel_evaluations) / per;
        break;
      case cost_model::node_weighted:
        e.cost = static_cast<double>(c.node_evaluations) / per;
        break;
      case cost_model::wall_clock:
        e.cost = seconds / per;
        break;
    }
    score_(e, finals);
    return e;
  }

  /// Scores an external surrogate `predict(snapshot) -> rows` (rows: a range of 7-number rows,
  /// e.g. std::vector<std::vector<double>>), Jacobi semantics, with a declared cost per step.
  /// Wrong count/arity, non-finite outputs and mass changes are rejections.
  template <class Predict>
  [[nodiscard]] evaluation evaluate_predict(Predict&& predict, double declared_cost_per_step,
                                            std::size_t size = 1) const {
    evaluation e;
    e.size = size;
    const int steps = cfg_.mode == crucible_mode::one_step ? 1 : cfg_.steps;
    std::vector<nbody::particles<double>> finals;
    for (std::size_t s = 0; s < scenes_.size(); ++s) {
      auto q = scenes_[s];
      for (int k = 0; k < steps; ++k) {
        const auto rows = predict(static_cast<const nbody::particles<double>&>(q));
        if (validation v = validate_outputs(q, rows); !v.ok())
          return reject_(std::move(e), v.reason, std::move(v.message));
        nbody::particles<double> next;
        next.reserve(q.size());
        for (std::size_t i = 0; i < q.size(); ++i) {
          std::array<double, 7> r{};
          std::copy(std::begin(rows[i]), std::end(rows[i]), r.begin());
          r[6] = q.m[i];  // mass carried structurally
          next.push_back(r);
        }
        q = std::move(next);
        if (auto r = check_state_(q, bound_[s]); r != rejection::none)
          return reject_(std::move(e), r, "exploding state");
      }
      finals.push_back(std::move(q));
    }
    e.cost = declared_cost_per_step;
    score_(e, finals);
    return e;
  }

  /// Σ over scenes of Σ_i |x_pred − x_true|² / Σ_i |x_null − x_true|² after one step (whatever
  /// the mode; scenes where the null model is exact count unnormalised), or +inf when the program
  /// is invalid, produces non-finite positions or (with reject_domain_errors) hits a protected
  /// case: the loss of constant optimisation.
  [[nodiscard]] double one_step_loss(const program& p) const {
    if (p.kernel.empty() || !well_formed(p.kernel, p.constants.size()))
      return std::numeric_limits<double>::infinity();
    interpreter in(p);
    eval_counters c;
    double loss = 0;
    for (std::size_t s = 0; s < scenes_.size(); ++s) {
      auto q = scenes_[s];
      in.step(q, cfg_.dt, c);
      loss += sq_error_(q, one_step_truth_[s]) / one_step_null_[s];
    }
    if (cfg_.reject_domain_errors && c.domain_errors > 0)
      return std::numeric_limits<double>::infinity();
    return std::isfinite(loss) ? loss : std::numeric_limits<double>::infinity();
  }

  /// Fitness from accuracy, cost and size under this config.
  [[nodiscard]] double fitness_of(double accuracy, double cost, std::size_t size,
                                  double relative_error = 0.0) const {
    double f = cfg_.fitness == fitness_kind::accuracy    ? accuracy
               : cfg_.fitness == fitness_kind::skill ? 1.0 / (1.0 + relative_error)
                                                       : accuracy / (cost + 1e-9);
    if (cfg_.size_penalty)
      f *= size_penalty_factor(size, cfg_.size_threshold, cfg_.size_weight, cfg_.size_floor);
    if (cfg_.parsimony > 0)
      f *= std::max(0.0, 1.0 - cfg_.parsimony * static_cast<double>(size));
    return f;
  }

 private:
  static double sq_error_(const nbody::particles<double>& a, const nbody::particles<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const double dx = a.x[i] - b.x[i], dy = a.y[i] - b.y[i], dz = a.z[i] - b.z[i];
      s += dx * dx + dy * dy + dz * dz;
    }
    return s;
  }

  static rejection check_state_(const nbody::particles<double>& q, double bound) {
    for (std::size_t i = 0; i < q.size(); ++i) {
      const double v[6] = {q.x[i], q.y[i], q.z[i], q.vx[i], q.vy[i], q.vz[i]};
      for (double x : v)
        if (!std::isfinite(x)) return rejection::non_finite;
      if (std::fabs(q.x[i]) > bound || std::fabs(q.y[i]) > bound || std::fabs(q.z[i]) > bound)
        return rejection::exploding;
    }
    return rejection::none;
  }

  evaluation reject_(evaluation e, rejection r, std::string msg) const {
    rejected_[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
    e.reason = r;
    e.message = std::move(msg);
    e.accuracy = 0;
    e.cost = cfg_.reject_cost;
    e.fitness = 0;
    e.size_factor = cfg_.size_penalty ? size_penalty_factor(e.size, cfg_.size_threshold,
                                                            cfg_.size_weight, cfg_.size_floor)
                                      : 1.0;
    return e;
  }

  // accuracy, diagnostics and fitness of finished rollouts
  void score_(evaluation& e, const std::vector<nbody::particles<double>>& finals) const {
    const double ns = static_cast<double>(scenes_.size());
    const nbody::softened_newton law{cfg_.G, cfg_.eps};
    double acc = 0, perr = 0, rel = 0;
    rollout_metrics m;
    for (std::size_t s = 0; s < scenes_.size(); ++s) {
      const double se = sq_error_(finals[s], truth_[s]);
      rel += std::sqrt(se / null_se_[s]);
      if (cfg_.mode == crucible_mode::one_step) {
        acc += 1.0 / (1.0 + std::sqrt(se));
        perr += std::sqrt(se);
      } else {
        const double rmse = std::sqrt(se / static_cast<double>(finals[s].size()));
        const double ab = 1.0 / (1.0 + std::sqrt(rmse));
        acc += ab;
        m.rmse += rmse / ns;
        m.accuracy_bench += ab / ns;
        const double e0 = nbody::total_energy(scenes_[s], law, cfg_.energy_potential);
        const double e1 = nbody::total_energy(finals[s], law, cfg_.energy_potential);
        m.energy_drift += nbody::relative_energy_drift(e0, e1) / ns;
        m.angular_momentum_drift += nbody::angular_momentum_drift(
                                        nbody::angular_momentum(scenes_[s]),
                                        nbody::angular_momentum(finals[s])) /
                                    ns;
        m.virial_ratio += nbody::virial_ratio(finals[s], law, cfg_.energy_potential) / ns;
      }
    }
    e.accuracy = acc / ns;
    e.position_error = perr / ns;
    e.relative_error = rel / ns;
    e.rollout = m;
    e.size_factor = cfg_.size_penalty ? size_penalty_factor(e.size, cfg_.size_threshold,
                                                            cfg_.size_weight, cfg_.size_floor)
                                      : 1.0;
    e.fitness = fitness_of(e.accuracy, e.cost, e.size, e.relative_error);
  }

  void drift_(nbody::particles<double>& q, int steps) const {
    for (int k = 0; k < steps; ++k)
      for (std::size_t i = 0; i < q.size(); ++i) {
        q.x[i] += q.vx[i] * cfg_.dt;
        q.y[i] += q.vy[i] * cfg_.dt;
        q.z[i] += q.vz[i] * cfg_.dt;
      }
  }

  evaluation null_model_() {
    evaluation e;
    e.size = 1;
    const int steps = cfg_.mode == crucible_mode::one_step ? 1 : cfg_.steps;
    std::vector<nbody::particles<double>> finals;
    null_final_se_.clear();
    for (std::size_t s = 0; s < scenes_.size(); ++s) {
      auto q = scenes_[s];
      drift_(q, steps);
      null_final_se_.push_back(sq_error_(q, truth_[s]));
      finals.push_back(std::move(q));
    }
    e.cost = 0;
    score_(e, finals);
    return e;
  }

  crucible_config cfg_;
  std::vector<nbody::particles<double>> scenes_, truth_, one_step_truth_;
  std::vector<double> one_step_null_, null_se_, null_final_se_;
  std::vector<double> bound_;
  evaluation null_;
  mutable std::array<std::atomic<std::uint64_t>, rejection_count> rejected_{};
};

}  // namespace dphys::surrogate

