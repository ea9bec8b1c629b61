// dphys/qd/cvt_archive.hpp — cvt_archive: cells are the Voronoi regions of centroids in descriptor
// space (CVT-MAP-Elites, Vassiliades, Chatzilygeroudis & Mouret 2018; pyribs' CVTArchive), a model
// of qd::qd_archive. The centroids come from Lloyd's k-means on counter-based random samples
// (reproducible from the config's seed) or from the user.
//
// Config: cvt_archive_config {cells, lower, upper, samples, iterations, seed, qd_score_offset}.
// Centroids (computed): `samples` points uniform in the box, drawn with dphys's counter RNG keyed
//   (seed, cvt_stream, generation 0, step 0), member = sample index, draw k = dimension k:
//   x_k = lower_k + (upper_k − lower_k)·u. Initial centroids = the first `cells` samples; then up
//   to `iterations` Lloyd steps: assign every sample to its nearest centroid (squared Euclidean
//   distance, ties to the lower index), move each centroid to the mean of its samples (summed in
//   sample order; a centroid with no sample stays), stop early when no assignment changes. Same
//   config ⇒ bitwise-identical centroids.
// Cell of a descriptor: its nearest centroid (same distance and tie rule), by brute force,
//   O(cells · descriptor_dim) per add.
// Failure modes: config_error for a bad config or bad user centroids; state_error on load into an
//   archive with different centroids.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <dphys/core/json.hpp>

#include <dphys/core/config_check.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/qd/archive.hpp>
#include <dphys/search/operators/draws.hpp>

namespace dphys::qd {

/// Random stream of the CVT centroid samples (value 0x5102).
inline constexpr stream_id cvt_stream = static_cast<stream_id>(0x5102u);

struct cvt_archive_config {
  int cells = 1000;                     ///< number of centroids (cells)
  std::vector<double> lower{0.0, 0.0};  ///< descriptor box of the k-means samples, lower corner
  std::vector<double> upper{1.0, 1.0};  ///< upper corner
  int samples = 20000;                  ///< k-means samples (>= cells)
  int iterations = 20;                  ///< Lloyd iterations at most (0: centroids = first samples)
  std::uint64_t seed = 1;               ///< seed of the samples
  double qd_score_offset = 0.0;         ///< QD-score = Σ (objective − offset) (archive.hpp)

  void check(config_checker<cvt_archive_config>& c) const {
    c(&cvt_archive_config::cells).at_least(1).at_most(1 << 24);
    c(&cvt_archive_config::lower)
        .satisfies([](const auto& v) { return !v.empty(); }, "at least one dimension");
    c(&cvt_archive_config::upper)
        .satisfies([this](const auto& v) { return v.size() == lower.size(); },
                   "one value per entry of lower");
    for (std::size_t k = 0; k < lower.size(); ++k)
      if (!(lower[k] < upper[k]))
        throw config_error(
            "upper[" + std::to_string(k) + "]", std::to_string(upper[k]),
            "greater than lower[" + std::to_string(k) + "] (" + std::to_string(lower[k]) + ")");
    c(&cvt_archive_config::samples).at_least(&cvt_archive_config::cells).at_most(1 << 26);
    c(&cvt_archive_config::iterations).at_least(0).at_most(100000);
  }
};

}  // namespace dphys::qd

DPHYS_ADAPT_STRUCT(dphys::qd::cvt_archive_config, cells, lower, upper, samples, iterations, seed,
                   qd_score_offset);

namespace dphys::qd {

namespace detail {

/// Index of the nearest of `n` centroids (row-major, `d` values each) to x; ties to the lower.
inline std::size_t nearest_centroid(std::span<const double> centroids, std::size_t d,
                                    const double* x) {
  const std::size_t n = centroids.size() / d;
  std::size_t best = 0;
  double best_d2 = std::numeric_limits<double>::infinity();
  for (std::size_t c = 0; c < n; ++c) {
    const double* p = centroids.data() + c * d;
    double d2 = 0.0;
    for (std::size_t k = 0; k < d; ++k) {
      const double t = x[k] - p[k];
      d2 += t * t;
    }
    if (d2 < best_d2) {
      best_d2 = d2;
      best = c;
    }
  }
  return best;
}

}  // namespace detail

/// Lloyd's k-means on counter-based samples (the rule of the header comment); `cells` centroids of
/// lower.size() values each, row-major.
inline std::vector<double> cvt_centroids(const cvt_archive_config& cfg) {
  validate(cfg);
  const std::size_t d = cfg.lower.size(), n = static_cast<std::size_t>(cfg.cells),
                    m = static_cast<std::size_t>(cfg.samples);
  std::vector<double> x(m * d);
  const auto key = random_key::make(cfg.seed, cvt_stream, 0, 0);
  for (std::size_t i = 0; i < m; ++i) {
    search::draws rng(key, static_cast<std::uint32_t>(i));
    for (std::size_t k = 0; k < d; ++k)
      x[i * d + k] = cfg.lower[k] + (cfg.upper[k] - cfg.lower[k]) * rng.uniform();
  }
  std::vector<double> c(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n * d));
  std::vector<std::size_t> assign(m, n);  // n = unassigned
  std::vector<double> sum(n * d);
  std::vector<std::size_t> count(n);
  for (int it = 0; it < cfg.iterations; ++it) {
    bool changed = false;
    for (std::size_t i = 0; i < m; ++i) {
      const std::size_t a = detail::nearest_centroid(c, d, x.data() + i * d);
      changed = changed || a != assign[i];
      assign[i] = a;
    }
    if (!changed) break;
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(count.begin(), count.end(), std::size_t{0});
    for (std::size_t i = 0; i < m; ++i) {
      ++count[assign[i]];
      for (std::size_t k = 0; k < d; ++k) sum[assign[i] * d + k] += x[i * d + k];
    }
    for (std::size_t j = 0; j < n; ++j)
      if (count[j])
        for (std::size_t k = 0; k < d; ++k)
          c[j * d + k] = sum[j * d + k] / static_cast<double>(count[j]);
  }
  return c;
}

class cvt_archive {
 public:
  using config_type = cvt_archive_config;

  /// Centroids by k-means from the config (may take a moment: samples · cells · iterations
  /// distance evaluations).
  cvt_archive(cvt_archive_config cfg, std::size_t solution_dim)
      : cvt_archive(cfg, solution_dim, cvt_centroids(cfg)) {}

  /// User centroids: row-major, lower.size() values each; cfg.cells must equal their number
  /// (samples, iterations and seed are then unused). Throws config_error if they do not fit.
  cvt_archive(cvt_archive_config cfg, std::size_t solution_dim, std::vector<double> centroids)
      : cfg_(std::move(cfg)), centroids_(std::move(centroids)) {
    validate(cfg_);
    if (solution_dim == 0) throw config_error("solution_dim", "0", "at least 1");
    const std::size_t d = cfg_.lower.size();
    if (centroids_.size() != static_cast<std::size_t>(cfg_.cells) * d)
      throw config_error("centroids", "(" + std::to_string(centroids_.size()) + " values)",
                         "cells × descriptor dimensions = " +
                             std::to_string(static_cast<std::size_t>(cfg_.cells) * d) + " values");
    for (std::size_t i = 0; i < centroids_.size(); ++i)
      if (!std::isfinite(centroids_[i]))
        throw config_error("centroids[" + std::to_string(i) + "]", std::to_string(centroids_[i]),
                           "finite");
    store_ =
        elite_store(static_cast<std::size_t>(cfg_.cells), solution_dim, d, cfg_.qd_score_offset);
  }

  [[nodiscard]] const cvt_archive_config& config() const { return cfg_; }
  [[nodiscard]] std::span<const double> centroids() const { return centroids_; }
  [[nodiscard]] std::size_t cells() const { return store_.cells(); }
  [[nodiscard]] std::size_t solution_dim() const { return store_.solution_dim(); }
  [[nodiscard]] std::size_t descriptor_dim() const { return store_.descriptor_dim(); }
  [[nodiscard]] const elite_store& store() const { return store_; }
  [[nodiscard]] archive_stats stats() const { return store_.stats(); }

  [[nodiscard]] std::size_t index_of(std::span<const double> descriptor) const {
    if (descriptor.size() != descriptor_dim())
      throw std::invalid_argument("cvt_archive::index_of: descriptor of " +
                                  std::to_string(descriptor.size()) + " values, expected " +
                                  std::to_string(descriptor_dim()));
    return detail::nearest_centroid(centroids_, descriptor_dim(), descriptor.data());
  }

  add_result add(std::span<const double> solution, double objective,
                 std::span<const double> descriptor) {
    if (!store_.admissible(solution, objective, descriptor, "cvt_archive")) return {};
    return store_.place(index_of(descriptor), solution, objective, descriptor);
  }

  void clear(bool reset_counters = false) { store_.clear(reset_counters); }

  [[nodiscard]] dphys::json header_json() const {
    return {{"kind", "cvt_archive"}, {"lower", cfg_.lower}, {"upper", cfg_.upper}};
  }
  void cell_json(std::size_t cell, dphys::json& j) const {
    const std::size_t d = descriptor_dim();
    j["centroid"] = detail::span_json(std::span<const double>(centroids_).subspan(cell * d, d));
  }

  void save(state_writer& w) const {
    auto s = w.scope("cvt_archive");
    w.put("centroids", centroids_);
    store_.save(w);
  }
  /// Restores an archive with bitwise-identical centroids (state_error otherwise).
  void load(state_reader& r) {
    auto s = r.scope("cvt_archive");
    std::vector<double> c;
    r.get("centroids", c);
    bool same = c.size() == centroids_.size();
    for (std::size_t i = 0; same && i < c.size(); ++i)
      same = std::bit_cast<std::uint64_t>(c[i]) == std::bit_cast<std::uint64_t>(centroids_[i]);
    if (!same) throw state_error(r.source() + ": cvt_archive checkpoint has different centroids");
    store_.load(r);
  }

 private:
  cvt_archive_config cfg_;
  std::vector<double> centroids_;
  elite_store store_;
};

static_assert(qd_archive<cvt_archive>);

}  // namespace dphys::qd
