// dphys/search/openai_es.hpp — OpenAI-ES (Salimans et al. 2017) in koki2's setting by default (spec
// K9): θ_i = μ + σε_i with plain Gaussian ε, centred ranks r_i = rank_i/(n−1) − 0.5 (ties by
// index), gradient ĝ = Σ r_i ε_i / (nσ), SGD μ += lr·ĝ; the best genome is the best *sampled*
// individual over the run. Options (off in koki2 mode): antithetic pairs, Adam, weight decay,
// common noise across islands.
//
// search_strategy model: ask() -> population (members × dim, row-major), tell(fitness).
// Determinism: ε_i of generation g is dphys::normal keyed by (seed, es_noise, g, member i, index
// j). Non-finite fitness ranks below every finite value (counted by the caller), never propagates
// into μ. Checkpointable (save/load, between generations): a restored strategy continues bit for
// bit.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/core/config.hpp>
#include <dphys/core/parallel.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/state_io.hpp>

namespace dphys::search {

enum class es_optimizer { sgd, adam };
constexpr auto enum_names(es_optimizer) {
  return std::array{std::pair{es_optimizer::sgd, std::string_view{"sgd"}},
                    std::pair{es_optimizer::adam, std::string_view{"adam"}}};
}

struct openai_es_config {
  int pop_size = 64;
  float sigma = 0.1f;
  float lr = 0.05f;
  bool antithetic = false;
  es_optimizer optimizer = es_optimizer::sgd;
  float adam_beta1 = 0.9f;
  float adam_beta2 = 0.999f;
  float adam_eps = 1e-8f;
  float weight_decay = 0.0f;  ///< L2 coefficient: ĝ ← ĝ − weight_decay·μ
  /// Threads that sample the population in ask() (<= 0: all hardware threads). Not a config key:
  /// every member's noise is a pure function of (seed, generation, member), so results never
  /// depend on it; an experiment sets it from its own top-level `threads` option.
  int threads = 1;

  void check(config_checker<openai_es_config>& c) const {
    c(&openai_es_config::pop_size).at_least(2).at_most(1 << 20);
    if (antithetic)
      c(&openai_es_config::pop_size)
          .satisfies([](int n) { return n % 2 == 0; }, "even when antithetic");
    c(&openai_es_config::sigma).greater_than(0.0).finite();
    c(&openai_es_config::lr).greater_than(0.0).finite();
    c(&openai_es_config::adam_beta1).in_range(0.0, 0.999999);
    c(&openai_es_config::adam_beta2).in_range(0.0, 0.999999);
    c(&openai_es_config::adam_eps).greater_than(0.0);
    c(&openai_es_config::weight_decay).at_least(0.0).finite();
  }
};

/// Centred ranks in [−0.5, 0.5]: rank 0 = lowest fitness, ties by index, non-finite values lowest.
inline std::vector<float> centred_ranks(std::span<const float> f) {
  const std::size_t n = f.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  auto key = [&](std::size_t i) {
    return std::isfinite(f[i]) ? f[i] : -std::numeric_limits<float>::infinity();
  };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const float ka = key(a), kb = key(b);
    if (std::isfinite(f[a]) != std::isfinite(f[b])) return !std::isfinite(f[a]);
    return ka < kb;
  });
  std::vector<float> r(n, 0.0f);
  if (n < 2) return r;
  for (std::size_t k = 0; k < n; ++k)
    r[order[k]] = static_cast<float>(k) / static_cast<float>(n - 1) - 0.5f;
  return r;
}

class openai_es {
 public:
  using value_type = float;

  /// `mean` is μ₀ (koki2: the genome initialiser's draw for member 0).
  openai_es(openai_es_config cfg, std::vector<float> mean, std::uint64_t seed)
      : cfg_(cfg), mean_(std::move(mean)), seed_(seed) {
    if (mean_.empty()) throw std::invalid_argument("openai_es: the initial mean is empty");
    const std::size_t n = static_cast<std::size_t>(cfg_.pop_size), d = mean_.size();
    noise_.resize(n * d);
    population_.resize(n * d);
    if (cfg_.optimizer == es_optimizer::adam) {
      adam_m_.assign(d, 0.0f);
      adam_v_.assign(d, 0.0f);
    }
  }

  [[nodiscard]] std::size_t dimension() const { return mean_.size(); }
  [[nodiscard]] std::size_t population_size() const {
    return static_cast<std::size_t>(cfg_.pop_size);
  }
  [[nodiscard]] std::uint32_t generation() const { return generation_; }
  [[nodiscard]] const openai_es_config& config() const { return cfg_; }
  [[nodiscard]] std::span<const float> mean() const { return mean_; }
  [[nodiscard]] std::span<const float> best() const { return best_; }
  [[nodiscard]] float best_fitness() const { return best_fitness_; }

  /// Replaces μ (e.g. by an island-model migrant, population/islands.hpp); the Adam moments, the
  /// best-so-far and the counters are kept. Only between generations: std::logic_error between
  /// ask() and tell(); std::invalid_argument if `mean` does not have dimension() values.
  void set_mean(std::span<const float> mean) {
    if (asked_) throw std::logic_error("openai_es::set_mean between ask() and tell()");
    if (mean.size() != mean_.size())
      throw std::invalid_argument("openai_es::set_mean: got " + std::to_string(mean.size()) +
                                  " values for dimension " + std::to_string(mean_.size()));
    mean_.assign(mean.begin(), mean.end());
  }

  /// Samples generation g's population (members × dimension, row-major).
  std::span<const float> ask() {
    const std::size_t n = population_size(), d = dimension();
    const auto key = random_key::make(seed_, stream_id::es_noise, generation_, 0);
    // One task per member (per mirrored pair when antithetic), each writing its own rows. A normal
    // costs ≈ 3 ns, so members of fewer than ask_task_min_values values are grouped into one task.
    const std::size_t per_unit = cfg_.antithetic ? 2 : 1, units = (n + per_unit - 1) / per_unit;
    const std::size_t grain = (ask_task_min_values + d * per_unit - 1) / (d * per_unit);
    const std::size_t tasks = (units + grain - 1) / grain;
    parallel_for(tasks, cfg_.threads, [&](std::size_t t) {  // one task: no thread involved
      for (std::size_t u = t * grain; u < std::min(units, (t + 1) * grain); ++u)
        for (std::size_t i = u * per_unit; i < std::min(n, (u + 1) * per_unit); ++i) {
          std::span<float> eps(noise_.data() + i * d, d);
          if (cfg_.antithetic && i % 2 == 1) {
            for (std::size_t j = 0; j < d; ++j) eps[j] = -noise_[(i - 1) * d + j];
          } else {
            const auto word = static_cast<std::uint32_t>(cfg_.antithetic ? i / 2 : i);
            fill_normal(key, word, 0, eps);
          }
          for (std::size_t j = 0; j < d; ++j)
            population_[i * d + j] = mean_[j] + cfg_.sigma * eps[j];
        }
    });
    asked_ = true;
    return population_;
  }

  /// Fewest noise values one task of ask() draws (a few microseconds of work, more than handing a
  /// task to a worker costs).
  static constexpr std::size_t ask_task_min_values = 2048;

  /// Updates μ from the fitness of the last asked population (higher is better).
  void tell(std::span<const float> fitness) {
    const std::size_t n = population_size(), d = dimension();
    if (!asked_) throw std::logic_error("openai_es::tell called without a preceding ask");
    if (fitness.size() != n)
      throw std::invalid_argument("openai_es::tell: got " + std::to_string(fitness.size()) +
                                  " fitness values for a population of " + std::to_string(n));
    for (std::size_t i = 0; i < n; ++i)
      if (std::isfinite(fitness[i]) && (best_.empty() || fitness[i] > best_fitness_)) {
        best_fitness_ = fitness[i];
        best_.assign(population_.begin() + static_cast<std::ptrdiff_t>(i * d),
                     population_.begin() + static_cast<std::ptrdiff_t>((i + 1) * d));
      }
    const auto r = centred_ranks(fitness);
    std::vector<double> g(d, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const double ri = r[i];
      const float* eps = noise_.data() + i * d;
      for (std::size_t j = 0; j < d; ++j) g[j] += ri * static_cast<double>(eps[j]);
    }
    const double scale = 1.0 / (static_cast<double>(n) * static_cast<double>(cfg_.sigma));
    ++step_;
    // Adam's bias corrections, once per step (the same values the per-coordinate calls gave).
    const float bias1 = 1.0f - std::pow(cfg_.adam_beta1, static_cast<float>(step_));
    const float bias2 = 1.0f - std::pow(cfg_.adam_beta2, static_cast<float>(step_));
    for (std::size_t j = 0; j < d; ++j) {
      float gj = static_cast<float>(g[j] * scale) - cfg_.weight_decay * mean_[j];
      if (cfg_.optimizer == es_optimizer::adam) {
        adam_m_[j] = cfg_.adam_beta1 * adam_m_[j] + (1.0f - cfg_.adam_beta1) * gj;
        adam_v_[j] = cfg_.adam_beta2 * adam_v_[j] + (1.0f - cfg_.adam_beta2) * gj * gj;
        const float mhat = adam_m_[j] / bias1;
        const float vhat = adam_v_[j] / bias2;
        gj = mhat / (std::sqrt(vhat) + cfg_.adam_eps);
      }
      mean_[j] += cfg_.lr * gj;
    }
    ++generation_;
    asked_ = false;
  }

  /// Writes the state that evolves (μ, best, Adam moments, counters) plus the seed and dimension
  /// for checking. Only between generations (after tell, before ask): throws std::logic_error
  /// otherwise. The sampled noise is not saved: ask() redraws it from (seed, generation).
  void save(state_writer& w) const {
    if (asked_)
      throw std::logic_error(
          "openai_es::save between ask() and tell(): checkpoint between "
          "generations");
    w.put("kind", std::string_view("openai_es"));
    w.put("seed", seed_);
    w.put("dimension", static_cast<std::uint64_t>(mean_.size()));
    w.put("generation", generation_);
    w.put("step", step_);
    w.put("mean", mean_);
    w.put("best", best_);
    w.put("best_fitness", best_fitness_);
    w.put("adam_m", adam_m_);
    w.put("adam_v", adam_v_);
  }

  /// Restores what save() wrote into a strategy constructed with the same dimension. The seed
  /// and configuration are this object's (the run's config decides them; resume checks that they
  /// match the checkpoint's unless told otherwise). Throws state_error naming the record on any
  /// mismatch; the strategy is unchanged then.
  void load(state_reader& r) {
    std::string kind;
    r.get("kind", kind);
    if (kind != "openai_es")
      throw state_error(r.source() + ": holds the state of a '" + kind +
                        "' strategy, not of openai_es");
    (void)r.get<std::uint64_t>("seed");
    const auto d = r.get<std::uint64_t>("dimension");
    if (d != mean_.size())
      throw state_error(r.source() + ": record 'dimension' is " + std::to_string(d) +
                        ", this openai_es has dimension " + std::to_string(mean_.size()));
    const auto generation = r.get<std::uint32_t>("generation");
    const auto step = r.get<std::uint64_t>("step");
    std::vector<float> mean, best, m, v;
    r.get("mean", mean, mean_.size());
    r.get("best", best);
    if (!best.empty() && best.size() != mean_.size())
      throw state_error(r.source() + ": record 'best' holds " + std::to_string(best.size()) +
                        " values, expected 0 or " + std::to_string(mean_.size()));
    const auto best_fitness = r.get<float>("best_fitness");
    r.get("adam_m", m);
    r.get("adam_v", v);
    if (m.size() != v.size() || (!m.empty() && m.size() != mean_.size()))
      throw state_error(r.source() + ": records 'adam_m'/'adam_v' hold " +
                        std::to_string(m.size()) + "/" + std::to_string(v.size()) +
                        " values, expected 0 or " + std::to_string(mean_.size()) + " each");
    if (cfg_.optimizer == es_optimizer::adam && m.empty()) {  // switched to Adam on resume
      m.assign(mean_.size(), 0.0f);
      v.assign(mean_.size(), 0.0f);
    }
    if (cfg_.optimizer != es_optimizer::adam) {
      m.clear();
      v.clear();
    }
    generation_ = generation;
    step_ = step;
    mean_ = std::move(mean);
    best_ = std::move(best);
    best_fitness_ = best_fitness;
    adam_m_ = std::move(m);
    adam_v_ = std::move(v);
    asked_ = false;
  }

 private:
  openai_es_config cfg_;
  std::vector<float> mean_, noise_, population_, best_, adam_m_, adam_v_;
  float best_fitness_ = -std::numeric_limits<float>::infinity();
  std::uint64_t seed_;
  std::uint32_t generation_ = 0;
  std::uint64_t step_ = 0;
  bool asked_ = false;
};

}  // namespace dphys::search

DPHYS_ADAPT_STRUCT(dphys::search::openai_es_config, pop_size, sigma, lr, antithetic, optimizer,
                   adam_beta1, adam_beta2, adam_eps, weight_decay);
