// dphys/qd/cma_me.hpp — CMA-ME (Fontaine, Togelius, Nikolaidis & Hoover 2020, "Covariance Matrix
// Adaptation for the Rapid Illumination of Behavior Space", GECCO) as an ask/tell qd_strategy: a
// set of emitters, each a dphys CMA-ES (search/cma_es.hpp, clipped to the domain) whose
// candidates are ranked by what they did to a shared qd_archive. Extension point: the Archive
// parameter of basic_cma_me.
//
// Config: cma_me_config {emitters, random_direction_emitters, batch_size, sigma0, active,
//   cma_stop_criteria} (reflected). Generation g asks emitters × batch_size solutions, emitter e's
//   batch at rows [e·batch_size, (e+1)·batch_size).
// Ranking (tell): every member is inserted into the archive (emitter order, member order; a
//   non-finite objective or descriptor is counted in non_finite(), not inserted, ranked last).
//   Improvement emitters rank by (status, value): new cells first, by objective; then improved
//   cells, by the improvement Δ = objective − previous elite; then the rest, by objective − elite
//   (<= 0); ties by member index. Random-direction emitters (the last random_direction_emitters
//   ones) rank added members (new or improved) first, then by the projection of the descriptor
//   on the emitter's random direction (a standard normal vector per emitter run). The CMA-ES is
//   told fitness λ − rank (ranks 0..λ−1), so only the ranking matters. CMA-ES's μ is ⌊λ/2⌋ with
//   log weights (pyribs' selection_rule "mu"; the paper's "filter" rule, μ = number of added
//   members, would need a per-generation μ in cma_es).
// Restart: an emitter whose batch added nothing to the archive (no new cell, no improvement), or
//   whose CMA-ES reports stopped() (its stop criteria, if cma_stop_criteria), restarts: a fresh
//   CMA-ES with σ₀, mean = a uniformly chosen elite of the archive (the domain centre while the
//   archive is empty), a new seed, and (random direction) a new direction.
// σ₀ = sigma0 · (mean domain width), i.e. sigma0 is relative to the domain like map_elites' σ.
// Determinism: emitter e's k-th run (k = restarts so far) has CMA-ES seed = the 64-bit
//   random_key(seed, cma_me_stream 0x5104, generation k, step e) and direction normals from
//   (seed, cma_me_stream, k, step 2^16 + e); the restart elite is draw `below(filled)` of
//   (seed, cma_me_stream, generation g, step 2^17), member word e. Same seed ⇒ bitwise-identical
//   archives; save/load resumes bit for bit (also between ask and tell). Thread safety: none.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <dphys/core/config_check.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/qd/archive.hpp>
#include <dphys/qd/concepts.hpp>
#include <dphys/qd/detail/strategy_common.hpp>
#include <dphys/qd/grid_archive.hpp>
#include <dphys/search/bounds.hpp>
#include <dphys/search/cma_es.hpp>
#include <dphys/search/operators/draws.hpp>

namespace dphys::qd {

struct cma_me_config {
  int emitters = 5;                   ///< number of CMA-ES emitters
  int random_direction_emitters = 0;  ///< how many of them (the last ones) rank by a direction
  int batch_size = 36;                ///< λ of every emitter
  double sigma0 = 0.02;               ///< σ₀ relative to the mean domain width
  bool active = false;                ///< active CMA in the emitters (cma_es_config::active)
  bool cma_stop_criteria = true;      ///< CMA-ES stop criteria also restart an emitter

  void check(config_checker<cma_me_config>& c) const {
    c(&cma_me_config::emitters).at_least(1).at_most(1 << 16);
    c(&cma_me_config::random_direction_emitters).at_least(0).at_most(&cma_me_config::emitters);
    c(&cma_me_config::batch_size).at_least(2).at_most(1 << 20);
    c(&cma_me_config::sigma0).greater_than(0.0);
  }
};

}  // namespace dphys::qd

DPHYS_ADAPT_STRUCT(dphys::qd::cma_me_config, emitters, random_direction_emitters, batch_size,
                   sigma0, active, cma_stop_criteria);

namespace dphys::qd {

template <qd_archive Archive = grid_archive>
class basic_cma_me {
 public:
  using value_type = double;
  using archive_type = Archive;
  using emitter_es =
      search::basic_cma_es<double, search::full_covariance, search::no_restarts, search::clip>;

  basic_cma_me(cma_me_config cfg, Archive archive, search::box<double> domain, std::uint64_t seed)
      : cfg_(cfg), archive_(std::move(archive)), box_(std::move(domain)), seed_(seed) {
    validate(cfg_);
    box_.validate();
    if (box_.empty()) throw config_error("domain", "(empty)", "at least one variable");
    if (archive_.solution_dim() != box_.size())
      throw config_error("archive.solution_dim", std::to_string(archive_.solution_dim()),
                         "equal to the domain's dimension (" + std::to_string(box_.size()) + ")");
    double w = 0.0;
    for (std::size_t j = 0; j < box_.size(); ++j) w += box_.upper[j] - box_.lower[j];
    sigma0_ = cfg_.sigma0 * w / static_cast<double>(box_.size());
    centre_.resize(box_.size());
    for (std::size_t j = 0; j < box_.size(); ++j)
      centre_[j] = box_.lower[j] + (box_.upper[j] - box_.lower[j]) / 2.0;
    const std::size_t m = static_cast<std::size_t>(cfg_.emitters);
    restarts_.assign(m, 0);
    direction_.assign(m * descriptor_dim(), 0.0);
    for (std::size_t e = 0; e < m; ++e) {
      es_.push_back(make_es(e, centre_));
      new_direction(e);
    }
    population_.assign(population_size() * dimension(), 0.0);
  }

  [[nodiscard]] std::size_t dimension() const { return box_.size(); }
  [[nodiscard]] std::size_t descriptor_dim() const { return archive_.descriptor_dim(); }
  [[nodiscard]] std::size_t population_size() const {
    return static_cast<std::size_t>(cfg_.emitters) * static_cast<std::size_t>(cfg_.batch_size);
  }
  [[nodiscard]] std::uint32_t generation() const { return generation_; }
  [[nodiscard]] std::uint64_t evaluations() const { return evaluations_; }
  [[nodiscard]] std::uint64_t non_finite() const { return non_finite_; }
  [[nodiscard]] const cma_me_config& config() const { return cfg_; }
  [[nodiscard]] const search::box<double>& domain() const { return box_; }
  [[nodiscard]] const Archive& archive() const { return archive_; }
  [[nodiscard]] std::span<const add_result> last_results() const { return results_; }
  /// Restarts of each emitter so far.
  [[nodiscard]] std::span<const std::uint32_t> restarts() const { return restarts_; }
  [[nodiscard]] const emitter_es& emitter(std::size_t e) const { return es_.at(e); }
  [[nodiscard]] bool random_direction(std::size_t e) const {
    return e >= static_cast<std::size_t>(cfg_.emitters - cfg_.random_direction_emitters);
  }

  std::span<const double> ask() {
    const std::size_t lam = static_cast<std::size_t>(cfg_.batch_size), d = dimension();
    for (std::size_t e = 0; e < es_.size(); ++e) {
      const auto x = es_[e].ask();
      std::copy(x.begin(), x.end(), population_.begin() + static_cast<std::ptrdiff_t>(e * lam * d));
    }
    asked_ = true;
    return population_;
  }

  void tell(std::span<const double> objectives, std::span<const double> descriptors) {
    const std::size_t n = population_size(), dd = descriptor_dim(), d = dimension();
    const std::size_t lam = static_cast<std::size_t>(cfg_.batch_size);
    detail::check_tell("cma_me", asked_, n, dd, objectives.size(), descriptors.size());
    results_.assign(n, add_result{});
    std::vector<bool> finite(n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto desc = descriptors.subspan(i * dd, dd);
      finite[i] = detail::finite_member(objectives[i], desc);
      if (!finite[i]) {
        ++non_finite_;
        continue;
      }
      results_[i] =
          archive_.add(std::span<const double>(population_).subspan(i * d, d), objectives[i], desc);
    }
    // Rank and update each emitter; restarts draw their elite from the archive after all inserts.
    std::vector<std::size_t> order(lam);
    std::vector<double> fitness(lam), primary(lam), secondary(lam);
    const auto restart_key = random_key::make(seed_, cma_me_stream, generation_, 1u << 17);
    for (std::size_t e = 0; e < es_.size(); ++e) {
      bool any_added = false;
      const bool rd = random_direction(e);
      for (std::size_t k = 0; k < lam; ++k) {
        const std::size_t i = e * lam + k;
        const add_result& r = results_[i];
        any_added = any_added || r.added();
        if (!finite[i]) {
          primary[k] = -1.0;
          secondary[k] = 0.0;
        } else if (rd) {
          primary[k] = r.added() ? 1.0 : 0.0;
          double p = 0.0;
          for (std::size_t c = 0; c < dd; ++c)
            p += descriptors[i * dd + c] * direction_[e * dd + c];
          secondary[k] = p;
        } else {
          primary[k] = static_cast<double>(static_cast<int>(r.status));
          secondary[k] = r.value;
        }
      }
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (primary[a] != primary[b]) return primary[a] > primary[b];
        return secondary[a] > secondary[b];
      });
      for (std::size_t rank = 0; rank < lam; ++rank)
        fitness[order[rank]] = static_cast<double>(lam - rank);
      es_[e].tell(fitness);
      if (!any_added || es_[e].stopped()) {
        std::vector<double> mean = centre_;
        const auto& st = archive_.store();
        if (!st.empty()) {
          search::draws rng(restart_key, static_cast<std::uint32_t>(e));
          const auto x = st.elite(st.filled_cells()[rng.below(st.filled())]).solution;
          mean.assign(x.begin(), x.end());
        }
        ++restarts_[e];
        es_[e] = make_es(e, mean);
        new_direction(e);
      }
    }
    evaluations_ += n;
    ++generation_;
    asked_ = false;
  }

  void save(state_writer& w) const {
    auto s = w.scope("cma_me");
    w.put("dimension", static_cast<std::uint64_t>(dimension()));
    w.put("emitters", cfg_.emitters);
    w.put("batch_size", cfg_.batch_size);
    w.put("seed", seed_);
    w.put("generation", generation_);
    w.put("evaluations", evaluations_);
    w.put("non_finite", non_finite_);
    w.put("asked", asked_);
    w.put("population", population_);
    w.put("restarts", restarts_);
    w.put("direction", direction_);
    for (std::size_t e = 0; e < es_.size(); ++e) {
      auto es_scope = w.scope("emitter" + std::to_string(e));
      es_[e].save(w);
    }
    archive_.save(w);
  }

  /// Restores a state saved by a strategy with the same dimension, emitters, batch_size and seed
  /// (state_error otherwise). All or nothing.
  void load(state_reader& r) {
    auto s = r.scope("cma_me");
    if (r.get<std::uint64_t>("dimension") != dimension() ||
        r.get<int>("emitters") != cfg_.emitters || r.get<int>("batch_size") != cfg_.batch_size ||
        r.get<std::uint64_t>("seed") != seed_)
      throw state_error(r.source() +
                        ": cma_me checkpoint was written by a strategy with a "
                        "different dimension, emitters, batch_size or seed");
    basic_cma_me t(*this);
    r.get("generation", t.generation_);
    r.get("evaluations", t.evaluations_);
    r.get("non_finite", t.non_finite_);
    r.get("asked", t.asked_);
    r.get("population", t.population_, population_.size());
    r.get("restarts", t.restarts_, restarts_.size());
    r.get("direction", t.direction_, direction_.size());
    for (std::size_t e = 0; e < t.es_.size(); ++e) {
      auto es_scope = r.scope("emitter" + std::to_string(e));
      t.es_[e] = t.make_es(e, centre_);  // the seed follows from restarts_; the rest is loaded
      t.es_[e].load(r);
    }
    t.archive_.load(r);
    t.results_.clear();
    *this = std::move(t);
  }

 private:
  emitter_es make_es(std::size_t e, const std::vector<double>& mean) const {
    search::cma_es_config c;
    c.population_size = cfg_.batch_size;
    c.sigma0 = sigma0_;
    c.active = cfg_.active;
    c.stop_criteria = cfg_.cma_stop_criteria;
    c.max_restarts = 0;
    const auto key =
        random_key::make(seed_, cma_me_stream, restarts_[e], static_cast<std::uint32_t>(e));
    const std::uint64_t es_seed = (std::uint64_t{key.k1} << 32) | key.k0;
    return emitter_es(c, mean, es_seed, box_);
  }

  void new_direction(std::size_t e) {
    const std::size_t dd = descriptor_dim();
    search::draws rng(random_key::make(seed_, cma_me_stream, restarts_[e],
                                       (1u << 16) + static_cast<std::uint32_t>(e)),
                      0);
    for (std::size_t c = 0; c < dd; ++c) direction_[e * dd + c] = rng.normal();
  }

  cma_me_config cfg_;
  Archive archive_;
  search::box<double> box_;
  std::uint64_t seed_;
  double sigma0_ = 0.0;
  std::vector<double> centre_;
  std::vector<emitter_es> es_;
  std::vector<std::uint32_t> restarts_;
  std::vector<double> direction_;
  std::uint32_t generation_ = 0;
  std::uint64_t evaluations_ = 0, non_finite_ = 0;
  bool asked_ = false;
  std::vector<double> population_;
  std::vector<add_result> results_;
};

/// CMA-ME on a grid archive.
using cma_me = basic_cma_me<grid_archive>;

static_assert(qd_strategy<cma_me>);

}  // namespace dphys::qd
