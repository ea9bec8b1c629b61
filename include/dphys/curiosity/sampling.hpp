// dphys/curiosity/sampling.hpp — the curiosity layer's random draws on dphys's counter-based RNG:
// its stream id, 32-bit uniforms in [0, 1), categorical draws from weights and partial shuffles.
// No extension points. Every function is pure: a draw is a function of (key, a, b, index).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <dphys/core/random.hpp>

namespace dphys::curiosity {

/// The stream of every curiosity-layer draw (selector coins, replay and curriculum sampling, MLP
/// initialisation). 0x4E01 ("N" for Nerion) lies between the library's enumerators and
/// stream_id::user, so it cannot collide with either; the lead may promote it to an enumerator.
inline constexpr stream_id curiosity_stream = static_cast<stream_id>(0x4E01u);

/// What a draw is for: the `step` word of the random_key, so the purposes never share numbers.
enum class draw_purpose : std::uint32_t {
  selector = 1,
  replay = 2,
  curriculum = 3,
  mlp_init = 4,
  mlp_train = 5,
  crucible = 6,
  memory = 7,
  ewc = 8
};

/// The key of one purpose at one tick (tick: a generation, a selection step, a sampling call...).
constexpr random_key make_key(std::uint64_t seed, draw_purpose purpose, std::uint32_t tick) {
  return random_key::make(seed, curiosity_stream, tick, static_cast<std::uint32_t>(purpose));
}

/// Uniform on [0, 1) with 32-bit resolution: random_bits(key, a, b, index) · 2^-32.
inline double uniform01(const random_key& key, std::uint32_t a, std::uint32_t b,
                        std::uint32_t index) {
  return static_cast<double>(random_bits<float>(key, a, b, index)) * 0x1p-32;
}

/// An integer in [0, n), n >= 1: floor(uniform01 · n).
inline std::size_t uniform_index(const random_key& key, std::uint32_t a, std::uint32_t b,
                                 std::uint32_t index, std::size_t n) {
  const auto i = static_cast<std::size_t>(uniform01(key, a, b, index) * static_cast<double>(n));
  return i < n ? i : n - 1;
}

/// Cumulative sums of non-negative finite weights, for categorical draws. Throws
/// std::invalid_argument naming `what` when a weight is negative or not finite or all are zero.
inline std::vector<double> cumulative_weights(std::span<const double> w, const char* what) {
  std::vector<double> c(w.size());
  double s = 0.0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (!(w[i] >= 0.0) || !std::isfinite(w[i]))
      throw std::invalid_argument(std::string(what) + ": weight[" + std::to_string(i) + "] = " +
                                  std::to_string(w[i]) + ": must be finite and >= 0");
    s += w[i];
    c[i] = s;
  }
  if (!(s > 0.0))
    throw std::invalid_argument(std::string(what) + ": the weights sum to 0 (need one > 0)");
  return c;
}

/// The index i with c[i-1] <= u·total < c[i] (c: cumulative_weights), skipping zero weights.
inline std::size_t categorical(std::span<const double> cumulative, double u) {
  const double x = u * cumulative.back();
  std::size_t lo = 0, hi = cumulative.size() - 1;
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    if (cumulative[mid] > x)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

/// k distinct indices of [0, n), uniformly without replacement, in draw order (partial
/// Fisher–Yates on draws index 0..k-1). k is capped at n.
inline std::vector<std::size_t> sample_without_replacement(const random_key& key, std::uint32_t a,
                                                           std::uint32_t b, std::size_t n,
                                                           std::size_t k) {
  std::vector<std::size_t> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = i;
  if (k > n) k = n;
  for (std::size_t i = 0; i < k; ++i) {
    const std::size_t j = i + uniform_index(key, a, b, static_cast<std::uint32_t>(i), n - i);
    std::swap(p[i], p[j]);
  }
  p.resize(k);
  return p;
}

}  // namespace dphys::curiosity
