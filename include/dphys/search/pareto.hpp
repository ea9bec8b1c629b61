// dphys/search/pareto.hpp — Pareto tools for multi-objective search, every objective MAXIMISED
// (library convention; negate objectives to minimise): dominates, non_dominated_sort (Deb et al.
// 2002, O(M·N²)), crowding_distance, hypervolume (exact: a sweep for 2 objectives, recursive
// slicing over the last objective for M >= 3), and pareto_archive (a bounded non-dominated archive,
// checkpointable). Writing an archive to a run directory: search/pareto_io.hpp.
//
// Layout: a set of N points with M objectives is a row-major span of N·M values.
// Determinism: every function is pure; ties are broken by index, so results do not depend on the
// standard library's sort. Non-finite objective values: non_dominated_sort and crowding_distance
// treat NaN and ±inf as −inf (worst); hypervolume ignores points with a non-finite value; the
// archive refuses them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <dphys/core/state_io.hpp>

namespace dphys::search {

namespace detail::pareto {

template <class T>
double worst_if_non_finite(T v) {
  return std::isfinite(v) ? static_cast<double>(v) : -std::numeric_limits<double>::infinity();
}

inline void check_shape(std::size_t size, std::size_t m, const char* who) {
  if (m == 0) throw std::invalid_argument(std::string(who) + ": number of objectives is 0");
  if (size % m != 0)
    throw std::invalid_argument(std::string(who) + ": " + std::to_string(size) +
                                " values do not form rows of " + std::to_string(m) + " objectives");
}

}  // namespace detail::pareto

/// a dominates b (maximisation): a_i >= b_i for every objective and a_i > b_i for at least one.
/// Non-finite values compare as −inf.
template <class T>
bool dominates(std::span<const T> a, std::span<const T> b) {
  bool strictly = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = detail::pareto::worst_if_non_finite(a[i]);
    const double y = detail::pareto::worst_if_non_finite(b[i]);
    if (x < y) return false;
    if (x > y) strictly = true;
  }
  return strictly;
}

/// The fronts of a population: fronts[0] is the non-dominated set, fronts[k] is non-dominated once
/// fronts[0..k−1] are removed; rank[i] is the front of point i. Points inside a front are listed in
/// increasing index order.
struct non_dominated_fronts {
  std::vector<std::vector<std::size_t>> fronts;
  std::vector<std::size_t> rank;
};

/// Deb et al. 2002's fast non-dominated sort, O(M·N²) comparisons, O(N²) memory.
template <class T>
non_dominated_fronts non_dominated_sort(std::span<const T> objectives, std::size_t m) {
  detail::pareto::check_shape(objectives.size(), m, "non_dominated_sort");
  const std::size_t n = objectives.size() / m;
  const auto row = [&](std::size_t i) { return objectives.subspan(i * m, m); };
  std::vector<std::vector<std::size_t>> dominated(n);  // S_p
  std::vector<std::size_t> count(n, 0);                // n_p
  for (std::size_t p = 0; p < n; ++p)
    for (std::size_t q = p + 1; q < n; ++q) {
      if (dominates(row(p), row(q))) {
        dominated[p].push_back(q);
        ++count[q];
      } else if (dominates(row(q), row(p))) {
        dominated[q].push_back(p);
        ++count[p];
      }
    }
  non_dominated_fronts out;
  out.rank.assign(n, 0);
  std::vector<std::size_t> current;
  for (std::size_t p = 0; p < n; ++p)
    if (count[p] == 0) current.push_back(p);
  std::size_t k = 0;
  while (!current.empty()) {
    std::vector<std::size_t> next;
    for (std::size_t p : current) {
      out.rank[p] = k;
      for (std::size_t q : dominated[p])
        if (--count[q] == 0) next.push_back(q);
    }
    std::sort(next.begin(), next.end());
    out.fronts.push_back(std::move(current));
    current = std::move(next);
    ++k;
  }
  return out;
}

/// Crowding distance of each member of `front` (indices into `objectives`), Deb et al. 2002: per
/// objective, sort the front (ties by index); the two extremes get +inf; an interior point adds
/// (f[next] − f[prev]) / (f_max − f_min) (nothing when f_max == f_min or the range is not finite).
/// Result[k] belongs to front[k]. Fronts of 1 or 2 points are all +inf.
template <class T>
std::vector<double> crowding_distance(std::span<const T> objectives, std::size_t m,
                                      std::span<const std::size_t> front) {
  detail::pareto::check_shape(objectives.size(), m, "crowding_distance");
  const std::size_t s = front.size();
  constexpr double inf = std::numeric_limits<double>::infinity();
  std::vector<double> dist(s, 0.0);
  if (s <= 2) {
    std::fill(dist.begin(), dist.end(), inf);
    return dist;
  }
  std::vector<std::size_t> order(s);
  for (std::size_t obj = 0; obj < m; ++obj) {
    const auto f = [&](std::size_t k) {
      return detail::pareto::worst_if_non_finite(objectives[front[k] * m + obj]);
    };
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      const double fa = f(a), fb = f(b);
      return fa < fb || (fa == fb && front[a] < front[b]);
    });
    dist[order.front()] = inf;
    dist[order.back()] = inf;
    const double range = f(order.back()) - f(order.front());
    if (!(range > 0.0) || !std::isfinite(range)) continue;
    for (std::size_t k = 1; k + 1 < s; ++k)
      dist[order[k]] += (f(order[k + 1]) - f(order[k - 1])) / range;
  }
  return dist;
}

namespace detail::pareto {

// Points with every coordinate > ref (the others add no volume), as doubles.
template <class T>
std::vector<double> clip_to_reference(std::span<const T> points, std::size_t m,
                                      std::span<const T> reference) {
  std::vector<double> out;
  for (std::size_t i = 0; i < points.size() / m; ++i) {
    bool keep = true;
    for (std::size_t k = 0; k < m && keep; ++k) {
      const T v = points[i * m + k];
      keep = std::isfinite(v) && v > reference[k];
    }
    if (keep)
      for (std::size_t k = 0; k < m; ++k) out.push_back(static_cast<double>(points[i * m + k]));
  }
  return out;
}

// 2 objectives: sort by the first objective descending (ties: second descending), sweep the second.
inline double hv2(std::vector<double> pts, const double* ref) {
  const std::size_t n = pts.size() / 2;
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return pts[2 * a] > pts[2 * b] || (pts[2 * a] == pts[2 * b] && pts[2 * a + 1] > pts[2 * b + 1]);
  });
  double volume = 0.0, top = ref[1];
  for (std::size_t i : order) {
    const double x = pts[2 * i], y = pts[2 * i + 1];
    if (y > top) {
      volume += (x - ref[0]) * (y - top);
      top = y;
    }
  }
  return volume;
}

// Removes points weakly dominated by another (keeps the first of equal points).
inline std::vector<double> non_dominated_rows(const std::vector<double>& pts, std::size_t m) {
  const std::size_t n = pts.size() / m;
  std::vector<double> out;
  for (std::size_t i = 0; i < n; ++i) {
    bool covered = false;
    for (std::size_t j = 0; j < n && !covered; ++j) {
      if (j == i) continue;
      bool geq = true, gt = false;
      for (std::size_t k = 0; k < m; ++k) {
        geq = geq && pts[j * m + k] >= pts[i * m + k];
        gt = gt || pts[j * m + k] > pts[i * m + k];
      }
      covered = geq && (gt || j < i);
    }
    if (!covered) out.insert(out.end(), pts.begin() + i * m, pts.begin() + (i + 1) * m);
  }
  return out;
}

// Exact volume dominated by `pts` (every row > ref) above `ref`, m objectives: slices between the
// distinct values of the last objective, each slice an (m−1)-objective problem.
inline double hv_slices(std::vector<double> pts, std::size_t m, const double* ref) {
  const std::size_t n = pts.size() / m;
  if (n == 0) return 0.0;
  if (m == 1) {
    double best = ref[0];
    for (double v : pts) best = std::max(best, v);
    return best - ref[0];
  }
  if (m == 2) return hv2(std::move(pts), ref);
  pts = non_dominated_rows(pts, m);
  const std::size_t r = pts.size() / m;
  std::vector<std::size_t> order(r);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return pts[a * m + m - 1] > pts[b * m + m - 1]; });
  double volume = 0.0;
  std::vector<double> slice;
  for (std::size_t k = 0; k < r; ++k) {
    const std::size_t i = order[k];
    slice.insert(slice.end(), pts.begin() + i * m, pts.begin() + i * m + (m - 1));
    const double level = pts[i * m + m - 1];
    const double next = k + 1 < r ? pts[order[k + 1] * m + m - 1] : ref[m - 1];
    if (level > next) volume += (level - next) * hv_slices(slice, m - 1, ref);
  }
  return volume;
}

}  // namespace detail::pareto

/// The hypervolume of `points` (N·m values, row-major, maximisation) w.r.t. `reference`: the
/// Lebesgue measure of {y : reference <= y <= p for some point p}. Points not strictly better than
/// the reference in every objective, or with a non-finite value, add nothing. Exact up to
/// floating-point rounding: m = 2 by a sort-and-sweep (O(N log N)); m >= 3 by slicing along the
/// last objective (HSO-style, O(N^(m−1)) — meant for small m, say m <= 4 and N in the hundreds).
template <class T>
double hypervolume(std::span<const T> points, std::size_t m, std::span<const T> reference) {
  detail::pareto::check_shape(points.size(), m, "hypervolume");
  if (reference.size() != m)
    throw std::invalid_argument("hypervolume: the reference point has " +
                                std::to_string(reference.size()) + " values for " +
                                std::to_string(m) + " objectives");
  std::vector<double> ref(reference.begin(), reference.end());
  for (double v : ref)
    if (!std::isfinite(v))
      throw std::invalid_argument("hypervolume: the reference point must be finite");
  return detail::pareto::hv_slices(detail::pareto::clip_to_reference(points, m, reference), m,
                                   ref.data());
}

/// A non-dominated archive (maximisation) of (decision vector, objective vector) pairs.
/// add() keeps the archive mutually non-dominated: a candidate dominated by, or equal in objective
/// space to, a member is refused; members it dominates are removed. With a capacity, the archive
/// is pruned after each insertion by repeatedly dropping the member with the smallest crowding
/// distance (ties: the newest), so extremes always stay. Members are kept in insertion order.
/// Thread safety: none (a plain value type).
template <class T = double>
class pareto_archive {
 public:
  using value_type = T;

  /// `capacity` 0 = unbounded.
  pareto_archive(std::size_t num_objectives, std::size_t dimension, std::size_t capacity = 0)
      : m_(num_objectives), d_(dimension), capacity_(capacity) {
    if (m_ == 0) throw std::invalid_argument("pareto_archive: number of objectives is 0");
    if (capacity_ == 1)
      throw std::invalid_argument(
          "pareto_archive: capacity 1 cannot keep both extremes; use 0 "
          "(unbounded) or >= 2");
  }

  /// Offers one candidate; returns whether it entered the archive (it may still be pruned later).
  bool add(std::span<const T> x, std::span<const T> f) {
    if (x.size() != d_ || f.size() != m_)
      throw std::invalid_argument("pareto_archive::add: expected " + std::to_string(d_) +
                                  " decision values and " + std::to_string(m_) +
                                  " objectives, got " + std::to_string(x.size()) + " and " +
                                  std::to_string(f.size()));
    for (const T v : f)
      if (!std::isfinite(v)) return false;
    for (std::size_t i = 0; i < size(); ++i) {
      const auto g = objectives(i);
      if (dominates(g, f) || std::equal(g.begin(), g.end(), f.begin())) return false;
    }
    std::size_t w = 0;
    for (std::size_t i = 0; i < size(); ++i) {
      if (dominates(f, objectives(i))) continue;
      if (w != i) {
        std::copy_n(objectives_.begin() + i * m_, m_, objectives_.begin() + w * m_);
        std::copy_n(decisions_.begin() + i * d_, d_, decisions_.begin() + w * d_);
      }
      ++w;
    }
    objectives_.resize(w * m_);
    decisions_.resize(w * d_);
    objectives_.insert(objectives_.end(), f.begin(), f.end());
    decisions_.insert(decisions_.end(), x.begin(), x.end());
    if (capacity_ != 0) prune(capacity_);
    return true;
  }

  /// Offers every row of a population (N·dimension decisions, N·M objectives).
  std::size_t add_all(std::span<const T> xs, std::span<const T> fs) {
    const std::size_t n = fs.size() / m_;
    if (fs.size() != n * m_ || xs.size() != n * d_)
      throw std::invalid_argument("pareto_archive::add_all: sizes do not match");
    std::size_t added = 0;
    for (std::size_t i = 0; i < n; ++i)
      added += add(xs.subspan(i * d_, d_), fs.subspan(i * m_, m_)) ? 1 : 0;
    return added;
  }

  /// Drops the most crowded members until at most `max_size` remain (max_size >= 2).
  void prune(std::size_t max_size) {
    if (max_size < 2) throw std::invalid_argument("pareto_archive::prune: max_size must be >= 2");
    while (size() > max_size) {
      std::vector<std::size_t> all(size());
      std::iota(all.begin(), all.end(), std::size_t{0});
      const auto cd =
          crowding_distance(std::span<const T>(objectives_), m_, std::span<const std::size_t>(all));
      std::size_t victim = 0;
      for (std::size_t i = 1; i < cd.size(); ++i)
        if (cd[i] <= cd[victim]) victim = i;
      objectives_.erase(objectives_.begin() + victim * m_, objectives_.begin() + (victim + 1) * m_);
      decisions_.erase(decisions_.begin() + victim * d_, decisions_.begin() + (victim + 1) * d_);
    }
  }

  void clear() {
    objectives_.clear();
    decisions_.clear();
  }

  [[nodiscard]] std::size_t size() const { return objectives_.size() / m_; }
  [[nodiscard]] bool empty() const { return objectives_.empty(); }
  [[nodiscard]] std::size_t num_objectives() const { return m_; }
  [[nodiscard]] std::size_t dimension() const { return d_; }
  [[nodiscard]] std::size_t capacity() const { return capacity_; }
  /// All objective vectors (size()·M, row-major) / decision vectors (size()·dimension).
  [[nodiscard]] std::span<const T> objectives() const { return objectives_; }
  [[nodiscard]] std::span<const T> decisions() const { return decisions_; }
  [[nodiscard]] std::span<const T> objectives(std::size_t i) const {
    return std::span<const T>(objectives_).subspan(i * m_, m_);
  }
  [[nodiscard]] std::span<const T> decisions(std::size_t i) const {
    return std::span<const T>(decisions_).subspan(i * d_, d_);
  }

  [[nodiscard]] double hypervolume(std::span<const T> reference) const {
    return search::hypervolume(std::span<const T>(objectives_), m_, reference);
  }

  void save(state_writer& w) const {
    auto scope = w.scope("pareto_archive");
    w.put("num_objectives", static_cast<std::uint64_t>(m_));
    w.put("dimension", static_cast<std::uint64_t>(d_));
    w.put("objectives", objectives_);
    w.put("decisions", decisions_);
  }
  void load(state_reader& r) {
    auto scope = r.scope("pareto_archive");
    if (r.get<std::uint64_t>("num_objectives") != m_ || r.get<std::uint64_t>("dimension") != d_)
      throw state_error(r.source() + ": pareto_archive shape differs from this archive's");
    std::vector<T> f, x;
    r.get("objectives", f);
    r.get("decisions", x);
    if (f.size() % m_ != 0 || x.size() != f.size() / m_ * d_)
      throw state_error(r.source() + ": pareto_archive records have inconsistent sizes");
    objectives_ = std::move(f);
    decisions_ = std::move(x);
  }

 private:
  std::size_t m_, d_, capacity_;
  std::vector<T> objectives_, decisions_;
};

}  // namespace dphys::search
