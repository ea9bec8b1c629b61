// dphys/search/bounds.hpp — the search domain `box<T>` and bound-handling policies: what a strategy
// does with a sampled point outside the box. Extension point: the concept `bound_handling<P, T>`;
// shipped models `no_bounds`, `clip`, `reflect`, `resample`, `penalty`.
//
// Contract: `p.repair(x, box, redraw)` rewrites x in place into the point that will be evaluated and
// returns the penalty to SUBTRACT from that member's fitness (0 for every shipped policy except
// `penalty`). `redraw(std::span<T> x, int attempt)` (attempt = 1, 2, ...) overwrites x with a fresh
// sample of the same member; only `resample` calls it. `P::lamarckian` says which point a strategy
// updates its search distribution with: true ⇒ the repaired x (clip, reflect, resample), false ⇒
// the sample as drawn, with the penalised fitness (penalty; no_bounds leaves x unchanged anyway).
// Determinism: repairs are pure functions of (x, box, redraw's draws). Thread-safe (const).
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <dphys/core/error.hpp>

namespace dphys::search {

/// An axis-aligned box lower <= x <= upper. Constructing one validates it: same sizes, finite
/// bounds, lower[i] < upper[i] for every i (config_error naming "box.lower[i]" and the rule
/// otherwise). A default-constructed box is empty: "no box".
template <class T>
struct box {
  std::vector<T> lower, upper;

  box() = default;
  box(std::vector<T> lo, std::vector<T> hi) : lower(std::move(lo)), upper(std::move(hi)) {
    validate();
  }
  /// The same interval [lo, hi] in each of n coordinates.
  static box uniform(std::size_t n, T lo, T hi) {
    return box(std::vector<T>(n, lo), std::vector<T>(n, hi));
  }

  [[nodiscard]] std::size_t size() const { return lower.size(); }
  [[nodiscard]] bool empty() const { return lower.empty(); }
  [[nodiscard]] bool contains(std::span<const T> x) const {
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!(x[i] >= lower[i] && x[i] <= upper[i])) return false;
    return true;
  }

  /// Throws config_error unless the box is well formed (see the class comment).
  void validate() const {
    if (lower.size() != upper.size())
      throw config_error("box.upper", "(" + std::to_string(upper.size()) + " values)",
                         "as many values as box.lower (" + std::to_string(lower.size()) + ")");
    for (std::size_t i = 0; i < lower.size(); ++i) {
      std::string at(1, '[');  // appended piecewise: GCC 12 -O3 warns (-Wrestrict) on "[" + str
      at += std::to_string(i);
      at += ']';
      if (!std::isfinite(lower[i]))
        throw config_error("box.lower" + at, number(lower[i]), "finite");
      if (!std::isfinite(upper[i]))
        throw config_error("box.upper" + at, number(upper[i]), "finite");
      if (!(lower[i] < upper[i])) {
        std::string rule = "< box.upper";  // appended piecewise (GCC 12 -Wrestrict, see above)
        rule += at;
        rule += " (";
        rule += number(upper[i]);
        rule += ')';
        throw config_error("box.lower" + at, number(lower[i]), rule);
      }
    }
  }

 private:
  static std::string number(T v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    std::string s = std::to_string(static_cast<double>(v));
    return s;
  }
};

namespace detail::bounds {

/// A redraw callable that must not be called (for policies that never redraw, and concept checks).
struct no_redraw {
  template <class T>
  void operator()(std::span<T>, int) const {}
};

template <class T>
void check_sizes(std::span<T> x, const box<std::remove_const_t<T>>& b, const char* who) {
  if (b.size() != x.size())
    throw std::invalid_argument(std::string(who) + ": a point of dimension " +
                                std::to_string(x.size()) + " and a box of dimension " +
                                std::to_string(b.size()));
}

template <class T>
void clip(std::span<T> x, const box<T>& b) {
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::clamp(x[i], b.lower[i], b.upper[i]);
}

}  // namespace detail::bounds

/// bound_handling<P, T> — minimal complete definition: `P::lamarckian` (bool constant) and
/// `p.repair(span<T> x, const box<T>&, Redraw&&) -> T` (the penalty). Laws: after repair, x is in
/// the box (no_bounds: x unchanged); a point inside the box is left unchanged with penalty 0.
template <class P, class T>
concept bound_handling =
    std::floating_point<T> &&
    requires(const P& p, std::span<T> x, const box<T>& b, detail::bounds::no_redraw r) {
      { P::lamarckian } -> std::convertible_to<bool>;
      { p.repair(x, b, r) } -> std::convertible_to<T>;
    };

/// Ignore the box: x is evaluated as sampled (the box, if any, only seeds restarts).
struct no_bounds {
  static constexpr bool lamarckian = true;
  template <class T, class Redraw>
  T repair(std::span<T>, const box<T>&, Redraw&&) const {
    return T(0);
  }
};

/// x_i ← min(max(x_i, lower_i), upper_i).
struct clip {
  static constexpr bool lamarckian = true;
  template <class T, class Redraw>
  T repair(std::span<T> x, const box<T>& b, Redraw&&) const {
    detail::bounds::check_sizes(x, b, "clip::repair");
    detail::bounds::clip(x, b);
    return T(0);
  }
};

/// Mirror at the violated bound, repeatedly (period 2·(upper − lower)): with w = upper − lower and
/// t = (x − lower) mod 2w in [0, 2w), x ← lower + (t <= w ? t : 2w − t). So upper + d ↦ upper − d
/// and lower − d ↦ lower + d for d <= w.
struct reflect {
  static constexpr bool lamarckian = true;
  template <class T, class Redraw>
  T repair(std::span<T> x, const box<T>& b, Redraw&&) const {
    detail::bounds::check_sizes(x, b, "reflect::repair");
    for (std::size_t i = 0; i < x.size(); ++i) {
      const T lo = b.lower[i], hi = b.upper[i];
      if (x[i] >= lo && x[i] <= hi) continue;
      if (!std::isfinite(x[i])) {
        x[i] = std::clamp(x[i], lo, hi);  // ±inf: nearest bound (NaN stays NaN)
        continue;
      }
      const T w = hi - lo;
      T t = std::fmod(x[i] - lo, T(2) * w);
      if (t < T(0)) t += T(2) * w;
      x[i] = t <= w ? lo + t : lo + (T(2) * w - t);
      x[i] = std::clamp(x[i], lo, hi);  // rounding safety
    }
    return T(0);
  }
};

/// Redraw the whole member (redraw(x, attempt), attempt = 1..max_tries) until it lies in the box;
/// if it still does not after max_tries redraws, clip it.
struct resample {
  static constexpr bool lamarckian = true;
  int max_tries = 100;

  template <class T, class Redraw>
  T repair(std::span<T> x, const box<T>& b, Redraw&& redraw) const {
    detail::bounds::check_sizes(x, b, "resample::repair");
    for (int attempt = 1; attempt <= max_tries && !b.contains(x); ++attempt) redraw(x, attempt);
    if (!b.contains(x)) detail::bounds::clip(x, b);
    return T(0);
  }
};

/// Evaluate the clipped point and subtract weight·‖x − clip(x)‖² from its fitness; the strategy
/// updates with the unclipped sample (lamarckian = false), so the penalty pulls it back inside.
struct penalty {
  static constexpr bool lamarckian = false;
  double weight = 1e3;

  template <class T, class Redraw>
  T repair(std::span<T> x, const box<T>& b, Redraw&&) const {
    detail::bounds::check_sizes(x, b, "penalty::repair");
    T d2 = T(0);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const T c = std::clamp(x[i], b.lower[i], b.upper[i]);
      d2 += (x[i] - c) * (x[i] - c);
      x[i] = c;
    }
    return static_cast<T>(weight) * d2;
  }
};

static_assert(bound_handling<no_bounds, double> && bound_handling<clip, double> &&
              bound_handling<reflect, float> && bound_handling<resample, double> &&
              bound_handling<penalty, double>);

}  // namespace dphys::search
