// dphys/qd/novelty_search.hpp — novelty search (Lehman & Stanley 2011, "Abandoning objectives:
// evolution through the search for novelty alone", Evol. Comput. 19(2)): `novelty_archive` (the
// archive of behaviours, k-nearest-neighbour novelty, the addition rule) and
// `novelty_search<Inner>`, a qd_strategy that asks an inner search_strategy (the GA by default) and
// tells it novelty as the fitness. Extension point: Inner, any dphys::search_strategy (ga,
// gaussian_ga, de, ...).
//
// Novelty of member i of a batch: the mean Euclidean distance to its k nearest neighbours among
//   the archive's behaviours (archive order) and the batch's other members with finite
//   descriptors (include_population; member i itself is left out, an identical behaviour of
//   another member counts as distance 0). With k' = min(k, neighbours) the k' smallest distances
//   are summed in ascending order and divided by k'; no neighbour at all ⇒ novelty 0. Distances are
//   √(Σ_c (a_c − b_c)²), summed over c in order.
// Archive addition (after the whole batch has been scored, members in order; a batch's novelty does
//   not see its own additions): archive_rule = threshold: added when novelty > threshold (the
//   fixed-threshold rule of Lehman & Stanley, no threshold adaptation); archive_rule = probability:
//   added when a Bernoulli(add_probability) draw succeeds (keyed (seed, novelty_stream 0x5103,
//   generation, step 0), member word i), whatever its novelty (Gomes et al. 2015's random archive).
//   max_archive_size > 0 caps the archive: further additions are dropped (counted in dropped()).
// Members with a non-finite descriptor get novelty NaN (the inner strategy's NonFinite policy
//   decides: the GA's worst_rank ranks them last), are counted in non_finite(), never added.
// Determinism: pure given (seed, tells); save/load resumes bit for bit when Inner is
//   checkpointable. Thread safety: none.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/core/concepts.hpp>
#include <dphys/core/config_check.hpp>
#include <dphys/core/enum_names.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/qd/concepts.hpp>
#include <dphys/qd/detail/strategy_common.hpp>
#include <dphys/search/ga.hpp>
#include <dphys/search/operators/draws.hpp>

namespace dphys::qd {

/// How behaviours enter the novelty archive.
enum class novelty_archive_rule { threshold, probability };
constexpr auto enum_names(novelty_archive_rule) {
  return std::array{std::pair{novelty_archive_rule::threshold, std::string_view{"threshold"}},
                    std::pair{novelty_archive_rule::probability, std::string_view{"probability"}}};
}

struct novelty_config {
  int k = 15;  ///< nearest neighbours averaged
  novelty_archive_rule archive_rule = novelty_archive_rule::threshold;
  double threshold = 0.05;         ///< threshold rule: added when novelty > threshold
  double add_probability = 0.05;   ///< probability rule: chance of being added
  bool include_population = true;  ///< the batch's other members are neighbours too
  int max_archive_size = 0;        ///< 0: unbounded; else additions beyond it are dropped

  void check(config_checker<novelty_config>& c) const {
    c(&novelty_config::k).at_least(1);
    c(&novelty_config::threshold).at_least(0.0);
    c(&novelty_config::add_probability).in_range(0.0, 1.0);
    c(&novelty_config::max_archive_size).at_least(0);
  }
};

}  // namespace dphys::qd

DPHYS_ADAPT_STRUCT(dphys::qd::novelty_config, k, archive_rule, threshold, add_probability,
                   include_population, max_archive_size);

namespace dphys::qd {

/// The archive of behaviours and the novelty computation (usable on its own, e.g. to score a GA's
/// population by hand).
class novelty_archive {
 public:
  novelty_archive(novelty_config cfg, std::size_t descriptor_dim)
      : cfg_(cfg), dim_(descriptor_dim) {
    validate(cfg_);
    if (dim_ == 0) throw config_error("descriptor_dim", "0", "at least 1");
  }

  [[nodiscard]] const novelty_config& config() const { return cfg_; }
  [[nodiscard]] std::size_t descriptor_dim() const { return dim_; }
  [[nodiscard]] std::size_t size() const { return behaviours_.size() / dim_; }
  /// The stored behaviours (size() × descriptor_dim(), row-major, in the order they were added).
  [[nodiscard]] std::span<const double> behaviours() const { return behaviours_; }
  [[nodiscard]] std::uint64_t dropped() const { return dropped_; }

  /// Novelty of each row of `batch` (rows × descriptor_dim(), row-major) by the rule of the header
  /// comment; NaN for a row with a non-finite value.
  [[nodiscard]] std::vector<double> novelty(std::span<const double> batch) const {
    if (batch.size() % dim_ != 0)
      throw std::invalid_argument("novelty_archive::novelty: " + std::to_string(batch.size()) +
                                  " values is not a multiple of descriptor_dim " +
                                  std::to_string(dim_));
    const std::size_t rows = batch.size() / dim_, stored = size();
    std::vector<bool> finite(rows);
    for (std::size_t i = 0; i < rows; ++i) {
      bool ok = true;
      for (std::size_t c = 0; c < dim_; ++c) ok = ok && std::isfinite(batch[i * dim_ + c]);
      finite[i] = ok;
    }
    std::vector<double> out(rows), dist;
    for (std::size_t i = 0; i < rows; ++i) {
      if (!finite[i]) {
        out[i] = std::numeric_limits<double>::quiet_NaN();
        continue;
      }
      const double* a = batch.data() + i * dim_;
      dist.clear();
      for (std::size_t j = 0; j < stored; ++j)
        dist.push_back(distance(a, behaviours_.data() + j * dim_));
      if (cfg_.include_population)
        for (std::size_t j = 0; j < rows; ++j)
          if (j != i && finite[j]) dist.push_back(distance(a, batch.data() + j * dim_));
      const std::size_t k = std::min(static_cast<std::size_t>(cfg_.k), dist.size());
      if (k == 0) {
        out[i] = 0.0;
        continue;
      }
      std::partial_sort(dist.begin(), dist.begin() + static_cast<std::ptrdiff_t>(k), dist.end());
      double sum = 0.0;
      for (std::size_t j = 0; j < k; ++j) sum += dist[j];
      out[i] = sum / static_cast<double>(k);
    }
    return out;
  }

  /// Applies the addition rule to a scored batch; returns how many rows were added.
  std::size_t update(std::span<const double> batch, std::span<const double> novelty,
                     std::uint64_t seed, std::uint32_t generation) {
    const std::size_t rows = novelty.size();
    if (batch.size() != rows * dim_)
      throw std::invalid_argument("novelty_archive::update: batch of " +
                                  std::to_string(batch.size()) + " values for " +
                                  std::to_string(rows) + " novelty values");
    const auto key = random_key::make(seed, novelty_stream, generation, 0);
    std::size_t added = 0;
    for (std::size_t i = 0; i < rows; ++i) {
      if (!std::isfinite(novelty[i])) continue;
      bool take = false;
      if (cfg_.archive_rule == novelty_archive_rule::threshold) {
        take = novelty[i] > cfg_.threshold;
      } else {
        search::draws rng(key, static_cast<std::uint32_t>(i));
        take = rng.bernoulli(cfg_.add_probability);
      }
      if (!take) continue;
      if (cfg_.max_archive_size > 0 && size() >= static_cast<std::size_t>(cfg_.max_archive_size)) {
        ++dropped_;
        continue;
      }
      behaviours_.insert(behaviours_.end(), batch.begin() + static_cast<std::ptrdiff_t>(i * dim_),
                         batch.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim_));
      ++added;
    }
    return added;
  }

  void save(state_writer& w) const {
    auto s = w.scope("novelty_archive");
    w.put("descriptor_dim", static_cast<std::uint64_t>(dim_));
    w.put("behaviours", behaviours_);
    w.put("dropped", dropped_);
  }
  void load(state_reader& r) {
    auto s = r.scope("novelty_archive");
    if (r.get<std::uint64_t>("descriptor_dim") != dim_)
      throw state_error(r.source() + ": novelty archive checkpoint of another descriptor_dim");
    std::vector<double> b;
    r.get("behaviours", b);
    if (b.size() % dim_ != 0)
      throw state_error(r.source() +
                        ": record 'novelty_archive/behaviours' is not a whole "
                        "number of behaviours");
    const auto d = r.get<std::uint64_t>("dropped");
    behaviours_ = std::move(b);
    dropped_ = d;
  }

 private:
  double distance(const double* a, const double* b) const {
    double s = 0.0;
    for (std::size_t c = 0; c < dim_; ++c) {
      const double t = a[c] - b[c];
      s += t * t;
    }
    return std::sqrt(s);
  }

  novelty_config cfg_;
  std::size_t dim_;
  std::vector<double> behaviours_;
  std::uint64_t dropped_ = 0;
};

/// Novelty search driving an inner search_strategy: ask() is the inner ask; tell(objectives,
/// descriptors) scores the batch by novelty, updates the archive, tells the inner strategy the
/// novelty (as its value_type) and keeps the best-objective solution seen (objectives are only
/// recorded, never optimised).
template <search_strategy Inner = search::ga<double>>
class novelty_search {
 public:
  using value_type = typename Inner::value_type;
  using inner_type = Inner;

  novelty_search(novelty_config cfg, std::size_t descriptor_dim, Inner inner, std::uint64_t seed)
      : archive_(cfg, descriptor_dim), inner_(std::move(inner)), seed_(seed) {}

  [[nodiscard]] std::size_t dimension() const { return inner_.dimension(); }
  [[nodiscard]] std::size_t descriptor_dim() const { return archive_.descriptor_dim(); }
  [[nodiscard]] std::size_t population_size() const { return inner_.population_size(); }
  [[nodiscard]] std::uint32_t generation() const { return generation_; }
  [[nodiscard]] std::uint64_t non_finite() const { return non_finite_; }
  [[nodiscard]] const novelty_archive& archive() const { return archive_; }
  [[nodiscard]] const Inner& inner() const { return inner_; }
  /// The selection score the inner strategy was told for each member of the last batch.
  [[nodiscard]] std::span<const double> last_novelty() const { return novelty_; }
  /// Best solution by objective among everything told (empty before the first finite one).
  [[nodiscard]] std::span<const value_type> best() const { return best_; }
  [[nodiscard]] double best_objective() const { return best_objective_; }

  std::span<const value_type> ask() {
    const auto x = inner_.ask();
    last_ask_.assign(x.begin(), x.end());
    asked_ = true;
    return x;
  }

  void tell(std::span<const value_type> objectives, std::span<const value_type> descriptors) {
    const std::size_t n = population_size(), dd = descriptor_dim(), d = dimension();
    detail::check_tell("novelty_search", asked_, n, dd, objectives.size(), descriptors.size());
    std::vector<double> desc(descriptors.begin(), descriptors.end());
    novelty_ = archive_.novelty(desc);
    for (std::size_t i = 0; i < n; ++i) {
      const double f = static_cast<double>(objectives[i]);
      if (!detail::finite_member(f, std::span<const double>(desc).subspan(i * dd, dd))) {
        ++non_finite_;
        continue;
      }
      if (best_.empty() || f > best_objective_) {
        best_objective_ = f;
        best_.assign(last_ask_.begin() + static_cast<std::ptrdiff_t>(i * d),
                     last_ask_.begin() + static_cast<std::ptrdiff_t>((i + 1) * d));
      }
    }
    archive_.update(desc, novelty_, seed_, generation_);
    std::vector<value_type> score(n);
    for (std::size_t i = 0; i < n; ++i) score[i] = static_cast<value_type>(novelty_[i]);
    inner_.tell(std::span<const value_type>(score));
    ++generation_;
    asked_ = false;
  }

  void save(state_writer& w) const requires checkpointable<Inner, state_writer, state_reader> {
    auto s = w.scope("novelty_search");
    w.put("seed", seed_);
    w.put("generation", generation_);
    w.put("non_finite", non_finite_);
    w.put("best", best_);
    w.put("best_objective", best_objective_);
    archive_.save(w);
    inner_.save(w);
  }
  /// Restores a state of a strategy with the same seed, saved after a tell (between ask and tell
  /// the inner strategy's own checkpoint decides). state_error on mismatch.
  void load(state_reader& r) requires checkpointable<Inner, state_writer, state_reader> {
    auto s = r.scope("novelty_search");
    if (r.get<std::uint64_t>("seed") != seed_)
      throw state_error(r.source() + ": novelty_search checkpoint written with another seed");
    novelty_search t(*this);
    r.get("generation", t.generation_);
    r.get("non_finite", t.non_finite_);
    r.get("best", t.best_);
    r.get("best_objective", t.best_objective_);
    t.archive_.load(r);
    t.inner_.load(r);
    t.asked_ = false;
    t.novelty_.clear();
    t.last_ask_.clear();
    *this = std::move(t);
  }

 private:
  novelty_archive archive_;
  Inner inner_;
  std::uint64_t seed_;
  std::uint32_t generation_ = 0;
  std::uint64_t non_finite_ = 0;
  bool asked_ = false;
  std::vector<value_type> last_ask_;
  std::vector<double> novelty_;
  std::vector<value_type> best_;
  double best_objective_ = -std::numeric_limits<double>::infinity();
};

static_assert(qd_strategy<novelty_search<>>);

}  // namespace dphys::qd
