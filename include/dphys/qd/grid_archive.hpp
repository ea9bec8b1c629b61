// dphys/qd/grid_archive.hpp — grid_archive: a regular grid over a box of descriptor space (the
// MAP-Elites archive of Mouret & Clune 2015; pyribs' GridArchive), a model of qd::qd_archive.
//
// Config: grid_archive_config {dims, lower, upper, qd_score_offset} (reflected). Cell of a
//   descriptor d: per dimension k, i_k = ⌊(d_k − lower_k) / (upper_k − lower_k) · dims_k⌋ clamped
//   to [0, dims_k − 1] (descriptors outside the box go to the border cells, as in pyribs); the cell
//   index is row-major with the first dimension most significant (numpy's ravel_multi_index):
//   cell = (…(i_0·dims_1 + i_1)·dims_2 + …). The add rule, metrics and export: archive.hpp.
// Determinism: none needed (no randomness). Failure modes: config_error for a bad config;
//   std::invalid_argument for wrong sizes; state_error on load of a different geometry.
// Example:
//   dphys::qd::grid_archive a({.dims = {50, 50}, .lower = {0, 0}, .upper = {1, 1}},
//   /*solution_dim=*/10); a.add(x, objective, descriptor);  a.stats().coverage;
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <dphys/core/json.hpp>

#include <dphys/core/config_check.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/qd/archive.hpp>

namespace dphys::qd {

struct grid_archive_config {
  std::vector<int> dims{50, 50};        ///< cells per descriptor dimension
  std::vector<double> lower{0.0, 0.0};  ///< descriptor box, lower corner
  std::vector<double> upper{1.0, 1.0};  ///< descriptor box, upper corner
  double qd_score_offset = 0.0;         ///< QD-score = Σ (objective − offset) (archive.hpp)

  void check(config_checker<grid_archive_config>& c) const {
    c(&grid_archive_config::dims)
        .at_least(1)
        .satisfies([](const auto& v) { return !v.empty(); }, "at least one dimension");
    c(&grid_archive_config::dims)
        .satisfies(
            [](const auto& v) {
              double cells = 1;
              for (int n : v) cells *= n;
              return cells <= double(1u << 30);
            },
            "product of dims (the number of cells) at most 2^30");
    c(&grid_archive_config::lower)
        .satisfies([this](const auto& v) { return v.size() == dims.size(); },
                   "one value per entry of dims");
    c(&grid_archive_config::upper)
        .satisfies([this](const auto& v) { return v.size() == dims.size(); },
                   "one value per entry of dims");
    for (std::size_t k = 0; k < lower.size(); ++k)
      if (!(lower[k] < upper[k]))
        throw config_error(
            "upper[" + std::to_string(k) + "]", std::to_string(upper[k]),
            "greater than lower[" + std::to_string(k) + "] (" + std::to_string(lower[k]) + ")");
  }
};

}  // namespace dphys::qd

DPHYS_ADAPT_STRUCT(dphys::qd::grid_archive_config, dims, lower, upper, qd_score_offset);

namespace dphys::qd {

class grid_archive {
 public:
  using config_type = grid_archive_config;

  /// Throws config_error for a bad config or solution_dim == 0.
  grid_archive(grid_archive_config cfg, std::size_t solution_dim) : cfg_(std::move(cfg)) {
    validate(cfg_);
    if (solution_dim == 0) throw config_error("solution_dim", "0", "at least 1");
    std::size_t cells = 1;
    for (int n : cfg_.dims) cells *= static_cast<std::size_t>(n);
    store_ = elite_store(cells, solution_dim, cfg_.dims.size(), cfg_.qd_score_offset);
  }

  [[nodiscard]] const grid_archive_config& config() const { return cfg_; }
  [[nodiscard]] std::size_t cells() const { return store_.cells(); }
  [[nodiscard]] std::size_t solution_dim() const { return store_.solution_dim(); }
  [[nodiscard]] std::size_t descriptor_dim() const { return store_.descriptor_dim(); }
  [[nodiscard]] const elite_store& store() const { return store_; }
  [[nodiscard]] archive_stats stats() const { return store_.stats(); }

  /// Grid coordinate of descriptor dimension k (see the header comment).
  [[nodiscard]] std::size_t grid_coordinate(std::size_t k, double d) const {
    const double t =
        (d - cfg_.lower[k]) / (cfg_.upper[k] - cfg_.lower[k]) * static_cast<double>(cfg_.dims[k]);
    if (!(t >= 0.0)) return 0;
    const double top = static_cast<double>(cfg_.dims[k] - 1);
    return static_cast<std::size_t>(std::min(std::floor(t), top));
  }

  /// Cell of a finite descriptor of descriptor_dim() values.
  [[nodiscard]] std::size_t index_of(std::span<const double> descriptor) const {
    if (descriptor.size() != descriptor_dim())
      throw std::invalid_argument("grid_archive::index_of: descriptor of " +
                                  std::to_string(descriptor.size()) + " values, expected " +
                                  std::to_string(descriptor_dim()));
    std::size_t cell = 0;
    for (std::size_t k = 0; k < descriptor.size(); ++k)
      cell = cell * static_cast<std::size_t>(cfg_.dims[k]) + grid_coordinate(k, descriptor[k]);
    return cell;
  }

  /// Per-dimension grid coordinates of a cell.
  [[nodiscard]] std::vector<std::size_t> grid_index(std::size_t cell) const {
    std::vector<std::size_t> g(cfg_.dims.size());
    for (std::size_t k = g.size(); k-- > 0;) {
      g[k] = cell % static_cast<std::size_t>(cfg_.dims[k]);
      cell /= static_cast<std::size_t>(cfg_.dims[k]);
    }
    return g;
  }

  /// The add rule of archive.hpp.
  add_result add(std::span<const double> solution, double objective,
                 std::span<const double> descriptor) {
    if (!store_.admissible(solution, objective, descriptor, "grid_archive")) return {};
    return store_.place(index_of(descriptor), solution, objective, descriptor);
  }

  void clear(bool reset_counters = false) { store_.clear(reset_counters); }

  [[nodiscard]] dphys::json header_json() const {
    return {{"kind", "grid_archive"},
            {"dims", cfg_.dims},
            {"lower", cfg_.lower},
            {"upper", cfg_.upper}};
  }
  void cell_json(std::size_t cell, dphys::json& j) const { j["grid"] = grid_index(cell); }

  void save(state_writer& w) const {
    auto s = w.scope("grid_archive");
    w.put("dims", cfg_.dims);
    w.put("lower", cfg_.lower);
    w.put("upper", cfg_.upper);
    store_.save(w);
  }
  /// Restores an archive of the same geometry (dims, bounds bit for bit, offset, solution_dim).
  void load(state_reader& r) {
    auto s = r.scope("grid_archive");
    std::vector<int> dims;
    std::vector<double> lo, hi;
    r.get("dims", dims);
    r.get("lower", lo);
    r.get("upper", hi);
    const auto same = [](const std::vector<double>& a, const std::vector<double>& b) {
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i)
        if (std::bit_cast<std::uint64_t>(a[i]) != std::bit_cast<std::uint64_t>(b[i])) return false;
      return true;
    };
    if (dims != cfg_.dims || !same(lo, cfg_.lower) || !same(hi, cfg_.upper))
      throw state_error(r.source() + ": grid_archive checkpoint has different dims or bounds");
    store_.load(r);
  }

 private:
  grid_archive_config cfg_;
  elite_store store_;
};

static_assert(qd_archive<grid_archive>);

}  // namespace dphys::qd
