// dphys/qd/map_elites.hpp — MAP-Elites (Mouret & Clune 2015) as an ask/tell qd_strategy over any
// qd_archive (grid_archive: classic MAP-Elites; cvt_archive: CVT-MAP-Elites), with Iso+LineDD
// variation (Vassiliades & Mouret 2018, "Discovering the elite hypervolume by leveraging
// interspecies correlation", GECCO) or plain Gaussian mutation. Extension point: the Archive
// parameter of basic_map_elites.
//
// Config: map_elites_config {batch_size, initial_batches, variation, iso_sigma, line_sigma,
//   gaussian_sigma} (reflected). Generation g asks batch_size solutions:
//   - g < initial_batches, or the archive is still empty: uniform in the domain box;
//   - otherwise each member picks parents uniformly among the filled cells and varies them:
//     iso_line_dd: x' = x + iso_sigma·w⊙N(0, I) + line_sigma·(y − x)·N(0, 1) (x, y two parents
//       drawn independently, w = upper − lower of the domain, so iso_sigma is relative to the
//       domain width: the paper's σ_iso = 0.01, σ_line = 0.2 are for a [0, 1] genotype);
//     gaussian: x' = x + gaussian_sigma·w⊙N(0, I) (one parent);
//   then x' is clipped to the domain.
// tell(objectives, descriptors): members are inserted in member order with the archive's add rule
//   (archive.hpp: strictly better replaces); a member with a non-finite objective or descriptor is
//   counted in non_finite() and not inserted.
// Determinism: draws keyed (seed, map_elites_stream 0x5101, generation, step 0 = uniform / 1 =
//   variation), member word = member index; per member, parent indices first, then the normals.
//   Same seed ⇒ bitwise-identical archives. Checkpoint: save/load (bitwise resume, also between
//   ask and tell). Thread safety: none.
// Example:
//   dphys::qd::map_elites me({}, dphys::qd::grid_archive({}, arm.dimension()), arm.domain(), 1);
//   auto x = me.ask();  arm.evaluate(x, f, d);  me.tell(f, d);  me.archive().stats();
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/core/config_check.hpp>
#include <dphys/core/enum_names.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/qd/archive.hpp>
#include <dphys/qd/concepts.hpp>
#include <dphys/qd/detail/strategy_common.hpp>
#include <dphys/qd/grid_archive.hpp>
#include <dphys/search/bounds.hpp>
#include <dphys/search/operators/draws.hpp>

namespace dphys::qd {

/// Variation operator of map_elites.
enum class variation_operator { iso_line_dd, gaussian };
constexpr auto enum_names(variation_operator) {
  return std::array{std::pair{variation_operator::iso_line_dd, std::string_view{"iso_line_dd"}},
                    std::pair{variation_operator::gaussian, std::string_view{"gaussian"}}};
}

struct map_elites_config {
  int batch_size = 100;     ///< solutions asked per generation
  int initial_batches = 1;  ///< generations sampled uniformly in the domain before variation
  variation_operator variation = variation_operator::iso_line_dd;
  double iso_sigma = 0.01;       ///< Iso+LineDD isotropic σ, relative to the domain width
  double line_sigma = 0.2;       ///< Iso+LineDD directional σ
  double gaussian_sigma = 0.05;  ///< Gaussian mutation σ, relative to the domain width

  void check(config_checker<map_elites_config>& c) const {
    c(&map_elites_config::batch_size).at_least(1).at_most(1 << 24);
    c(&map_elites_config::initial_batches).at_least(0);
    c(&map_elites_config::iso_sigma).at_least(0.0);
    c(&map_elites_config::line_sigma).at_least(0.0);
    c(&map_elites_config::gaussian_sigma).at_least(0.0);
  }
};

}  // namespace dphys::qd

DPHYS_ADAPT_STRUCT(dphys::qd::map_elites_config, batch_size, initial_batches, variation, iso_sigma,
                   line_sigma, gaussian_sigma);

namespace dphys::qd {

template <qd_archive Archive = grid_archive>
class basic_map_elites {
 public:
  using value_type = double;
  using archive_type = Archive;

  /// `archive` must have solution_dim() == domain.size(). Throws config_error otherwise or for a
  /// bad config / empty domain.
  basic_map_elites(map_elites_config cfg, Archive archive, search::box<double> domain,
                   std::uint64_t seed)
      : cfg_(cfg), archive_(std::move(archive)), box_(std::move(domain)), seed_(seed) {
    validate(cfg_);
    box_.validate();
    if (box_.empty()) throw config_error("domain", "(empty)", "at least one variable");
    if (archive_.solution_dim() != box_.size())
      throw config_error("archive.solution_dim", std::to_string(archive_.solution_dim()),
                         "equal to the domain's dimension (" + std::to_string(box_.size()) + ")");
    population_.assign(population_size() * dimension(), 0.0);
  }

  [[nodiscard]] std::size_t dimension() const { return box_.size(); }
  [[nodiscard]] std::size_t descriptor_dim() const { return archive_.descriptor_dim(); }
  [[nodiscard]] std::size_t population_size() const {
    return static_cast<std::size_t>(cfg_.batch_size);
  }
  [[nodiscard]] std::uint32_t generation() const { return generation_; }
  [[nodiscard]] std::uint64_t evaluations() const { return evaluations_; }
  /// Members told with a non-finite objective or descriptor (never inserted).
  [[nodiscard]] std::uint64_t non_finite() const { return non_finite_; }
  [[nodiscard]] const map_elites_config& config() const { return cfg_; }
  [[nodiscard]] const search::box<double>& domain() const { return box_; }
  [[nodiscard]] const Archive& archive() const { return archive_; }
  /// Outcome of each member of the last tell (status not_added for non-finite members).
  [[nodiscard]] std::span<const add_result> last_results() const { return results_; }
  /// The best elite's solution (empty while the archive is empty).
  [[nodiscard]] std::span<const double> best() const {
    const auto& st = archive_.store();
    if (st.empty()) return {};
    std::size_t best = st.filled_cells()[0];
    for (std::uint32_t c : st.filled_cells())
      if (st.elite(c).objective > st.elite(best).objective ||
          (st.elite(c).objective == st.elite(best).objective && c < best))
        best = c;
    return st.elite(best).solution;
  }

  /// This generation's batch (population_size() × dimension(), row-major).
  std::span<const double> ask() {
    const std::size_t n = population_size(), d = dimension();
    const auto& st = archive_.store();
    if (generation_ < static_cast<std::uint32_t>(cfg_.initial_batches) || st.empty()) {
      const auto key = random_key::make(seed_, map_elites_stream, generation_, 0);
      for (std::size_t i = 0; i < n; ++i) {
        search::draws rng(key, static_cast<std::uint32_t>(i));
        detail::uniform_in(box_, member(i), rng);
      }
    } else {
      const auto key = random_key::make(seed_, map_elites_stream, generation_, 1);
      const auto filled = st.filled_cells();
      for (std::size_t i = 0; i < n; ++i) {
        search::draws rng(key, static_cast<std::uint32_t>(i));
        const auto out = member(i);
        const auto x = st.elite(filled[rng.below(filled.size())]).solution;
        if (cfg_.variation == variation_operator::iso_line_dd) {
          const auto y = st.elite(filled[rng.below(filled.size())]).solution;
          for (std::size_t j = 0; j < d; ++j)
            out[j] = x[j] + cfg_.iso_sigma * (box_.upper[j] - box_.lower[j]) * rng.normal();
          const double line = cfg_.line_sigma * rng.normal();
          for (std::size_t j = 0; j < d; ++j) out[j] += line * (y[j] - x[j]);
        } else {
          for (std::size_t j = 0; j < d; ++j)
            out[j] = x[j] + cfg_.gaussian_sigma * (box_.upper[j] - box_.lower[j]) * rng.normal();
        }
        detail::clip_to(box_, out);
      }
    }
    asked_ = true;
    return population_;
  }

  /// Objectives (population_size()) and descriptors (population_size() × descriptor_dim(),
  /// row-major) of the last asked batch.
  void tell(std::span<const double> objectives, std::span<const double> descriptors) {
    const std::size_t n = population_size(), dd = descriptor_dim(), d = dimension();
    detail::check_tell("map_elites", asked_, n, dd, objectives.size(), descriptors.size());
    results_.assign(n, add_result{});
    for (std::size_t i = 0; i < n; ++i) {
      const auto desc = descriptors.subspan(i * dd, dd);
      if (!detail::finite_member(objectives[i], desc)) {
        ++non_finite_;
        continue;
      }
      results_[i] =
          archive_.add(std::span<const double>(population_).subspan(i * d, d), objectives[i], desc);
    }
    evaluations_ += n;
    ++generation_;
    asked_ = false;
  }

  void save(state_writer& w) const {
    auto s = w.scope("map_elites");
    w.put("dimension", static_cast<std::uint64_t>(dimension()));
    w.put("batch_size", cfg_.batch_size);
    w.put("seed", seed_);
    w.put("generation", generation_);
    w.put("evaluations", evaluations_);
    w.put("non_finite", non_finite_);
    w.put("asked", asked_);
    w.put("population", population_);
    archive_.save(w);
  }
  /// Restores a state saved by a strategy with the same dimension, batch_size and seed (and an
  /// archive of the same geometry); state_error otherwise. All or nothing.
  void load(state_reader& r) {
    auto s = r.scope("map_elites");
    if (r.get<std::uint64_t>("dimension") != dimension() ||
        r.get<int>("batch_size") != cfg_.batch_size || r.get<std::uint64_t>("seed") != seed_)
      throw state_error(r.source() +
                        ": map_elites checkpoint was written by a strategy with a "
                        "different dimension, batch_size or seed");
    basic_map_elites t(*this);
    r.get("generation", t.generation_);
    r.get("evaluations", t.evaluations_);
    r.get("non_finite", t.non_finite_);
    r.get("asked", t.asked_);
    r.get("population", t.population_, population_.size());
    t.archive_.load(r);
    t.results_.clear();
    *this = std::move(t);
  }

 private:
  std::span<double> member(std::size_t i) {
    return std::span<double>(population_).subspan(i * dimension(), dimension());
  }

  map_elites_config cfg_;
  Archive archive_;
  search::box<double> box_;
  std::uint64_t seed_;
  std::uint32_t generation_ = 0;
  std::uint64_t evaluations_ = 0, non_finite_ = 0;
  bool asked_ = false;
  std::vector<double> population_;
  std::vector<add_result> results_;
};

/// MAP-Elites on a grid (the classic algorithm).
using map_elites = basic_map_elites<grid_archive>;

static_assert(qd_strategy<map_elites>);

}  // namespace dphys::qd
