// dphys/qd/archive.hpp — what every quality-diversity archive shares: the elite store (one elite
// per cell: solution, objective, descriptors), the add/replace rule, counters, metrics (coverage,
// QD-score, best), save/load and JSONL/CSV export. Extension point: the `qd_archive` concept (a
// user's archive that models it works with map_elites and cma_me); grid_archive.hpp and
// cvt_archive.hpp are the shipped models.
//
// Add rule (every archive): a candidate with a non-finite objective, descriptor or solution
//   coordinate is rejected (status not_added, counted in counters().non_finite). Otherwise its cell
//   is found from the descriptors (archive-specific); an empty cell takes it (new_cell, value =
//   objective); an occupied cell takes it only if its objective is STRICTLY greater than the
//   elite's (improve_existing, value = objective − old objective); a tie or a worse objective
//   leaves the elite (not_added, value = objective − elite's objective, <= 0).
// QD-score = Σ over filled cells of (objective − qd_score_offset), summed in cell-index order.
//   Choose the offset <= every objective the problem can produce (e.g. planar_arm::min_objective())
//   so that the score is non-negative and never decreases; objectives below the offset are kept and
//   then contribute negatively.
// Determinism: no randomness; results depend only on the sequence of add calls. Thread safety:
// none (add mutates); const members may be called concurrently.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <dphys/core/json.hpp>

#include <dphys/core/error.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/run/atomic_file.hpp>

namespace dphys::qd {

/// Outcome of one archive insertion (the numeric values order the CMA-ME ranking: new first).
enum class add_status : std::uint8_t { not_added = 0, improve_existing = 1, new_cell = 2 };

struct add_result {
  add_status status = add_status::not_added;
  /// new_cell: the objective; improve_existing: objective − previous elite's objective (> 0);
  /// not_added: objective − the elite's objective (<= 0), or −inf when rejected as non-finite.
  double value = -std::numeric_limits<double>::infinity();
  std::size_t cell = 0;  ///< the candidate's cell (0 when rejected as non-finite)
  [[nodiscard]] bool added() const { return status != add_status::not_added; }
};

/// Insertion counters (monotone; saved and restored with the archive).
struct archive_counters {
  std::uint64_t insertions = 0;    ///< add() calls
  std::uint64_t new_cells = 0;     ///< added to an empty cell
  std::uint64_t improvements = 0;  ///< replaced a worse elite
  std::uint64_t non_finite = 0;    ///< rejected: non-finite objective, descriptor or solution
};

/// Metrics of an archive at one moment.
struct archive_stats {
  std::size_t cells = 0;
  std::size_t filled = 0;
  double coverage = 0.0;  ///< filled / cells
  double qd_score = 0.0;  ///< Σ (objective − qd_score_offset) over filled cells, cell order
  double normalized_qd_score = 0.0;                                  ///< qd_score / cells
  double best_objective = -std::numeric_limits<double>::infinity();  ///< −inf when empty
  double mean_objective = std::numeric_limits<double>::quiet_NaN();  ///< NaN when empty
};

/// One stored elite (views into the archive; invalidated by the next add or load).
struct elite_view {
  std::size_t cell = 0;
  std::span<const double> solution;
  double objective = 0.0;
  std::span<const double> descriptor;
};

/// The storage and rule shared by every archive; an archive owns one and adds the cell lookup.
class elite_store {
 public:
  elite_store() = default;
  elite_store(std::size_t cells, std::size_t solution_dim, std::size_t descriptor_dim,
              double qd_score_offset)
      : cells_(cells),
        solution_dim_(solution_dim),
        descriptor_dim_(descriptor_dim),
        offset_(qd_score_offset),
        occupied_(cells, 0),
        objective_(cells, 0.0),
        solution_(cells * solution_dim, 0.0),
        descriptor_(cells * descriptor_dim, 0.0) {}

  [[nodiscard]] std::size_t cells() const { return cells_; }
  [[nodiscard]] std::size_t solution_dim() const { return solution_dim_; }
  [[nodiscard]] std::size_t descriptor_dim() const { return descriptor_dim_; }
  [[nodiscard]] double qd_score_offset() const { return offset_; }
  [[nodiscard]] std::size_t filled() const { return filled_cells_.size(); }
  [[nodiscard]] bool empty() const { return filled_cells_.empty(); }
  [[nodiscard]] bool occupied(std::size_t cell) const { return occupied_.at(cell) != 0; }
  /// Filled cells in the order they were first filled (uniform parent selection indexes this).
  [[nodiscard]] std::span<const std::uint32_t> filled_cells() const { return filled_cells_; }
  [[nodiscard]] const archive_counters& counters() const { return counters_; }

  [[nodiscard]] elite_view elite(std::size_t cell) const {
    if (!occupied(cell))
      throw std::out_of_range("qd archive: cell " + std::to_string(cell) + " is empty");
    return {cell,
            {solution_.data() + cell * solution_dim_, solution_dim_},
            objective_[cell],
            {descriptor_.data() + cell * descriptor_dim_, descriptor_dim_}};
  }

  /// Checks sizes and finiteness; true when the candidate may be placed.
  bool admissible(std::span<const double> solution, double objective,
                  std::span<const double> descriptor, std::string_view who) {
    if (solution.size() != solution_dim_ || descriptor.size() != descriptor_dim_)
      throw std::invalid_argument(
          std::string(who) + "::add: solution of " + std::to_string(solution.size()) +
          " values and descriptor of " + std::to_string(descriptor.size()) + " values, expected " +
          std::to_string(solution_dim_) + " and " + std::to_string(descriptor_dim_));
    ++counters_.insertions;
    bool finite = std::isfinite(objective);
    for (double d : descriptor) finite = finite && std::isfinite(d);
    for (double x : solution) finite = finite && std::isfinite(x);
    if (!finite) ++counters_.non_finite;
    return finite;
  }

  /// The add/replace rule on a cell already found by the archive.
  add_result place(std::size_t cell, std::span<const double> solution, double objective,
                   std::span<const double> descriptor) {
    add_result r;
    r.cell = cell;
    if (occupied_[cell]) {
      const double old = objective_[cell];
      r.value = objective - old;
      if (!(objective > old)) return r;
      r.status = add_status::improve_existing;
      ++counters_.improvements;
    } else {
      r.status = add_status::new_cell;
      r.value = objective;
      occupied_[cell] = 1;
      filled_cells_.push_back(static_cast<std::uint32_t>(cell));
      ++counters_.new_cells;
    }
    objective_[cell] = objective;
    std::copy(solution.begin(), solution.end(),
              solution_.begin() + static_cast<std::ptrdiff_t>(cell * solution_dim_));
    std::copy(descriptor.begin(), descriptor.end(),
              descriptor_.begin() + static_cast<std::ptrdiff_t>(cell * descriptor_dim_));
    return r;
  }

  [[nodiscard]] archive_stats stats() const {
    archive_stats s;
    s.cells = cells_;
    s.filled = filled();
    s.coverage = cells_ ? static_cast<double>(s.filled) / static_cast<double>(cells_) : 0.0;
    double sum = 0.0;
    for (std::size_t c = 0; c < cells_; ++c) {
      if (!occupied_[c]) continue;
      s.qd_score += objective_[c] - offset_;
      sum += objective_[c];
      if (objective_[c] > s.best_objective) s.best_objective = objective_[c];
    }
    s.normalized_qd_score = cells_ ? s.qd_score / static_cast<double>(cells_) : 0.0;
    if (s.filled) s.mean_objective = sum / static_cast<double>(s.filled);
    return s;
  }

  /// Empties every cell; counters are kept unless reset_counters.
  void clear(bool reset_counters = false) {
    std::fill(occupied_.begin(), occupied_.end(), std::uint8_t{0});
    std::fill(objective_.begin(), objective_.end(), 0.0);
    std::fill(solution_.begin(), solution_.end(), 0.0);
    std::fill(descriptor_.begin(), descriptor_.end(), 0.0);
    filled_cells_.clear();
    if (reset_counters) counters_ = {};
  }

  void save(state_writer& w) const {
    auto s = w.scope("elites");
    w.put("cells", static_cast<std::uint64_t>(cells_));
    w.put("solution_dim", static_cast<std::uint64_t>(solution_dim_));
    w.put("descriptor_dim", static_cast<std::uint64_t>(descriptor_dim_));
    w.put("qd_score_offset", offset_);
    w.put("filled_cells", filled_cells_);
    w.put("objective", objective_);
    w.put("solution", solution_);
    w.put("descriptor", descriptor_);
    w.put("insertions", counters_.insertions);
    w.put("new_cells", counters_.new_cells);
    w.put("improvements", counters_.improvements);
    w.put("non_finite", counters_.non_finite);
  }

  /// Restores a store of the same shape and offset (state_error otherwise); all or nothing.
  void load(state_reader& r) {
    auto s = r.scope("elites");
    if (r.get<std::uint64_t>("cells") != cells_ ||
        r.get<std::uint64_t>("solution_dim") != solution_dim_ ||
        r.get<std::uint64_t>("descriptor_dim") != descriptor_dim_)
      throw state_error(r.source() +
                        ": qd archive checkpoint has a different number of cells, solution_dim "
                        "or descriptor_dim");
    const double off = r.get<double>("qd_score_offset");
    if (std::bit_cast<std::uint64_t>(off) != std::bit_cast<std::uint64_t>(offset_))
      throw state_error(r.source() + ": qd archive checkpoint has qd_score_offset " +
                        std::to_string(off) + ", this archive " + std::to_string(offset_));
    elite_store n(*this);
    r.get("filled_cells", n.filled_cells_);
    r.get("objective", n.objective_, cells_);
    r.get("solution", n.solution_, cells_ * solution_dim_);
    r.get("descriptor", n.descriptor_, cells_ * descriptor_dim_);
    r.get("insertions", n.counters_.insertions);
    r.get("new_cells", n.counters_.new_cells);
    r.get("improvements", n.counters_.improvements);
    r.get("non_finite", n.counters_.non_finite);
    std::fill(n.occupied_.begin(), n.occupied_.end(), std::uint8_t{0});
    for (std::uint32_t c : n.filled_cells_) {
      if (c >= cells_ || n.occupied_[c])
        throw state_error(r.source() +
                          ": record 'elites/filled_cells' holds an invalid or "
                          "repeated cell " +
                          std::to_string(c));
      n.occupied_[c] = 1;
    }
    *this = std::move(n);
  }

 private:
  std::size_t cells_ = 0, solution_dim_ = 0, descriptor_dim_ = 0;
  double offset_ = 0.0;
  std::vector<std::uint8_t> occupied_;
  std::vector<double> objective_, solution_, descriptor_;
  std::vector<std::uint32_t> filled_cells_;
  archive_counters counters_;
};

/// qd_archive<A> — a set of cells, each holding at most one elite.
/// Minimal complete definition: a.cells(), a.solution_dim(), a.descriptor_dim();
///   a.index_of(span<const double> descriptor) -> cell (descriptor finite);
///   a.add(solution, objective, descriptor) -> add_result; a.store() -> const elite_store&;
///   a.stats() -> archive_stats; a.save(state_writer&), a.load(state_reader&); a.header_json()
///   (what the JSONL export's first line says about the archive's geometry); a.cell_json(cell,
///   json&) (per-cell extras of the export, may add nothing).
/// Laws: add follows the rule of this header (strictly better replaces); index_of is a pure
///   function of the descriptor; same add sequence ⇒ bitwise-identical store; save then load ⇒
///   every later result bitwise identical.
template <class A>
concept qd_archive = requires(A& a, const A& ca, std::span<const double> x, double f,
                              state_writer& w, state_reader& r, dphys::json& j) {
  { ca.cells() } -> std::convertible_to<std::size_t>;
  { ca.solution_dim() } -> std::convertible_to<std::size_t>;
  { ca.descriptor_dim() } -> std::convertible_to<std::size_t>;
  { ca.index_of(x) } -> std::convertible_to<std::size_t>;
  { a.add(x, f, x) } -> std::same_as<add_result>;
  { ca.store() } -> std::convertible_to<const elite_store&>;
  { ca.stats() } -> std::same_as<archive_stats>;
  { ca.header_json() } -> std::convertible_to<dphys::json>;
  ca.cell_json(std::size_t{}, j);
  ca.save(w);
  a.load(r);
};

namespace detail {

inline dphys::json span_json(std::span<const double> v) {
  dphys::json a = dphys::json::array();
  for (double x : v) a.push_back(x);
  return a;
}

}  // namespace detail

/// The archive as JSON Lines: first line {"record": "archive", "schema": 1, ...header_json(),
/// "cells", "filled", "coverage", "qd_score", "qd_score_offset", "best_objective", counters},
/// then one {"record": "elite", "cell", "objective", "descriptor": [...], "solution": [...]} per
/// filled cell in cell order (plus what the archive adds per cell, e.g. "grid": [i, j]). Numbers
/// are written with 17 significant digits (round trip). Written to a temporary file then renamed
/// (run::write_file_atomic): a reader never sees a partial file.
template <qd_archive A>
void write_archive_jsonl(const A& archive, const std::filesystem::path& file) {
  const elite_store& st = archive.store();
  const archive_stats s = archive.stats();
  dphys::json head = archive.header_json();
  head["record"] = "archive";
  head["schema"] = 1;
  head["cells"] = s.cells;
  head["filled"] = s.filled;
  head["coverage"] = s.coverage;
  head["qd_score"] = s.qd_score;
  head["qd_score_offset"] = st.qd_score_offset();
  head["best_objective"] = s.filled ? dphys::json(s.best_objective) : dphys::json(nullptr);
  head["solution_dim"] = st.solution_dim();
  head["descriptor_dim"] = st.descriptor_dim();
  head["insertions"] = st.counters().insertions;
  head["new_cells"] = st.counters().new_cells;
  head["improvements"] = st.counters().improvements;
  head["non_finite"] = st.counters().non_finite;
  std::string out = head.dump() + "\n";
  for (std::size_t c = 0; c < st.cells(); ++c) {
    if (!st.occupied(c)) continue;
    const auto e = st.elite(c);
    dphys::json j = {{"record", "elite"}, {"cell", c}};
    archive.cell_json(c, j);
    j["objective"] = e.objective;
    j["descriptor"] = detail::span_json(e.descriptor);
    j["solution"] = detail::span_json(e.solution);
    out += j.dump();
    out += '\n';
  }
  run::write_file_atomic(file, out);
}

/// The archive as CSV: header `cell,objective,descriptor_0..,solution_0..`, one row per filled cell
/// in cell order, numbers with 17 significant digits; atomic like write_archive_jsonl.
template <qd_archive A>
void write_archive_csv(const A& archive, const std::filesystem::path& file) {
  const elite_store& st = archive.store();
  std::string out = "cell,objective";
  for (std::size_t k = 0; k < st.descriptor_dim(); ++k) out += ",descriptor_" + std::to_string(k);
  for (std::size_t k = 0; k < st.solution_dim(); ++k) out += ",solution_" + std::to_string(k);
  out += '\n';
  char buf[40];
  const auto num = [&](double x) {
    std::snprintf(buf, sizeof buf, "%.17g", x);
    out += buf;
  };
  for (std::size_t c = 0; c < st.cells(); ++c) {
    if (!st.occupied(c)) continue;
    const auto e = st.elite(c);
    out += std::to_string(c);
    out += ',';
    num(e.objective);
    for (double d : e.descriptor) {
      out += ',';
      num(d);
    }
    for (double x : e.solution) {
      out += ',';
      num(x);
    }
    out += '\n';
  }
  run::write_file_atomic(file, out);
}

}  // namespace dphys::qd
