// dphys/nbody/force.hpp — pairwise force laws and the direct O(N²) acceleration pass: the
// `force_law` concept, the default `softened_newton` (Galaxy's crucible law, spec §2.1/G1), the
// SIMD pass `accelerations` and the plain reference `accelerations_scalar`.
// Extension point: any type satisfying `force_law` (pair_factor + pair_potential).
//
// Config: softened_newton {G, eps, exclusion, skip_r2} (Hana-reflected, check()).
// Determinism: `accelerations` vectorises over target particles i (lane l of a batch is particle
//   i0 + l; sources j are broadcast in index order), so every lane performs exactly the IEEE
//   operations of `accelerations_scalar`, in the same order. With -ffp-contract=off the two agree
//   bit for bit (except possibly the sign of an exactly-zero component), whatever the SIMD width.
// SIMD: xsimd::batch<T> of the compile-time architecture; a partial last batch is padded.
// Failure modes: none thrown by the pass; coincident distinct particles with eps = 0 give inf/NaN
//   (data, not a crash). softened_newton::check rejects G, eps < 0, non-finite values.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include <xsimd/xsimd.hpp>

#include <dphys/core/config_check.hpp>
#include <dphys/core/enum_names.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/nbody/particles.hpp>

namespace dphys::nbody {

/// Which pairs (i, j) a force pass leaves out.
enum class pair_exclusion {
  by_index,    ///< j == i only (the crucible's rule; the default)
  by_distance  ///< every pair with unsoftened r² < skip_r2, self included (Galaxy direct_nbody)
};
constexpr auto enum_names(pair_exclusion) {
  return std::array{std::pair{pair_exclusion::by_index, std::string_view{"by_index"}},
                    std::pair{pair_exclusion::by_distance, std::string_view{"by_distance"}}};
}

/// √v for T (std::sqrt) and xsimd::batch<T> — correctly rounded in both, so lane-identical. Use it
/// in your own force laws: on AVX-512 it avoids a false GCC 12 -Wmaybe-uninitialized that
/// xsimd::sqrt draws (the same workaround as dphys/core/simd.hpp).
template <std::floating_point T>
[[nodiscard]] inline T lane_sqrt(T v) {
  return std::sqrt(v);
}
template <class T, class A>
[[nodiscard]] inline xsimd::batch<T, A> lane_sqrt(const xsimd::batch<T, A>& v) {
#if XSIMD_WITH_AVX512F
  if constexpr (std::derived_from<A, xsimd::avx512f>) {
    if constexpr (std::same_as<T, double>)
      return _mm512_maskz_sqrt_pd(__mmask8(0xff), v);
    else if constexpr (std::same_as<T, float>)
      return _mm512_maskz_sqrt_ps(__mmask16(0xffff), v);
    else
      return xsimd::sqrt(v);
  } else {
    return xsimd::sqrt(v);
  }
#else
  return xsimd::sqrt(v);
#endif
}

namespace detail {
template <class V>
struct scalar_of_impl {
  using type = V;
};
template <class U, class A>
struct scalar_of_impl<xsimd::batch<U, A>> {
  using type = U;
};
/// The element type of a lane type: T for T, T for xsimd::batch<T, A>.
template <class V>
using scalar_of = typename scalar_of_impl<V>::type;
}  // namespace detail

/// Newtonian gravity with Plummer softening: a_i = Σ_j G m_j Δr_ij / (|Δr_ij|² + ε²)^{3/2},
/// Δr_ij = r_j − r_i; pair potential φ(r²) = −G / √(r² + ε²). ε = 0 is allowed (pure Newton).
/// Units are the caller's (G = 1 is the Galaxy/N-body convention).
struct softened_newton {
  double G = 1.0;                                       ///< gravitational constant, >= 0
  double eps = 0.01;                                    ///< softening length ε, >= 0
  pair_exclusion exclusion = pair_exclusion::by_index;  ///< compat: by_distance (Galaxy baseline)
  double skip_r2 = 1e-10;  ///< threshold of by_distance (Galaxy's 1e-10); unused by by_index

  /// The scalar s(r²) with pair acceleration a_ij = m_j · s · Δr_ij: G / (d·√d), d = r² + ε².
  /// V is T or xsimd::batch<T>; the operations are + × ÷ √, all correctly rounded.
  template <class V>
  [[nodiscard]] V pair_factor(const V& r2) const {
    using S = detail::scalar_of<V>;
    const V d = r2 + V(static_cast<S>(eps * eps));
    return V(static_cast<S>(G)) / (d * lane_sqrt(d));
  }
  /// Pair potential per unit mass product, φ(r²) = −G / √(r² + ε²); U = Σ_{i<j} m_i m_j φ.
  template <class V>
  [[nodiscard]] V pair_potential(const V& r2) const {
    using S = detail::scalar_of<V>;
    return V(static_cast<S>(-G)) / lane_sqrt(r2 + V(static_cast<S>(eps * eps)));
  }
  /// The same law with ε = 0: Galaxy's "unsoftened" energy diagnostics use it.
  [[nodiscard]] softened_newton unsoftened() const {
    softened_newton u = *this;
    u.eps = 0.0;
    return u;
  }

  void check(config_checker<softened_newton>& c) const {
    c(&softened_newton::G).at_least(0.0).finite();
    c(&softened_newton::eps).at_least(0.0).finite();
    c(&softened_newton::skip_r2).at_least(0.0).finite();
  }
};

/// force_law<F, T> — a pairwise central force, evaluated on particle data of type T.
///
/// Minimal complete definition:
///   f.pair_factor(r2) for r2 of type T and xsimd::batch<T>: the scalar s with pair acceleration
///     a_ij = m_j · s(r²) · (r_j − r_i), r² = |r_j − r_i|² (unsoftened);
///   f.pair_potential(r2) for r2 of type T: pair potential per unit mass product.
/// Optional: members `exclusion` (pair_exclusion) and `skip_r2` (see pair_exclusion); without
///   them a law excludes by index.
/// Laws: (purity) both functions depend on r² only; (lane identity) lane l of the batch
///   pair_factor equals the scalar pair_factor of lane l's r², bit for bit — needed for the SIMD
///   pass to equal the scalar reference.
template <class F, class T = double>
concept force_law = std::floating_point<T> &&
    requires(const F& f, const T& r2, const xsimd::batch<T>& b) {
  { f.pair_factor(r2) } -> std::convertible_to<T>;
  { f.pair_factor(b) } -> std::convertible_to<xsimd::batch<T>>;
  { f.pair_potential(r2) } -> std::convertible_to<T>;
};

/// The exclusion rule of f: its `exclusion` and `skip_r2` members if it has them, else by_index.
struct exclusion_rule {
  pair_exclusion kind = pair_exclusion::by_index;
  double skip_r2 = 0.0;
};
template <class F>
[[nodiscard]] exclusion_rule exclusion_of(const F& f) {
  if constexpr (requires {
                  { f.exclusion } -> std::convertible_to<pair_exclusion>;
                  { f.skip_r2 } -> std::convertible_to<double>;
                })
    return {f.exclusion, static_cast<double>(f.skip_r2)};
  else
    return {};
}

/// Pair-force evaluations of one direct pass over n particles, N(N − 1) — the deterministic cost
/// unit of the surrogate crucible (spec §0.4), whatever the exclusion rule.
[[nodiscard]] constexpr std::uint64_t pair_evaluations(std::size_t n) noexcept {
  return n < 2 ? 0 : static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(n - 1);
}

/// Reference: a plain double loop, a_i = Σ_{j not excluded} m_j · f.pair_factor(r²_ij) · Δr_ij,
/// j in index order. Resizes ax, ay, az to p.size().
template <std::floating_point T, class Force>
requires force_law<Force, T>
void accelerations_scalar(const particles<T>& p, const Force& f, std::vector<T>& ax,
                          std::vector<T>& ay, std::vector<T>& az) {
  const std::size_t n = p.size();
  ax.assign(n, T(0));
  ay.assign(n, T(0));
  az.assign(n, T(0));
  const exclusion_rule rule = exclusion_of(f);
  const T skip = static_cast<T>(rule.skip_r2);
  for (std::size_t i = 0; i < n; ++i) {
    T sx(0), sy(0), sz(0);
    for (std::size_t j = 0; j < n; ++j) {
      if (rule.kind == pair_exclusion::by_index && j == i) continue;
      const T dx = p.x[j] - p.x[i];
      const T dy = p.y[j] - p.y[i];
      const T dz = p.z[j] - p.z[i];
      const T r2 = dx * dx + dy * dy + dz * dz;
      if (rule.kind == pair_exclusion::by_distance && r2 < skip) continue;
      const T c = p.m[j] * static_cast<T>(f.pair_factor(r2));
      sx += c * dx;
      sy += c * dy;
      sz += c * dz;
    }
    ax[i] = sx;
    ay[i] = sy;
    az[i] = sz;
  }
}

namespace detail {

/// Sources j in [j0, j1) acting on a tile of U batches of targets (tile u covers particles
/// i0 + u·L ... i0 + u·L + L − 1, positions xi[u], yi[u], zi[u]). Mode: 0 = no exclusion in this
/// range, 1 = by_index (lane l of batch u skips j == i0 + u·L + l), 2 = by_distance (skip r² <
/// skip). Every lane performs the operation sequence of accelerations_scalar.
template <int Mode, std::size_t U, class B, class T, class Force>
inline void accumulate_tile(const particles<T>& p, const Force& f, const std::array<B, U>& xi,
                            const std::array<B, U>& yi, const std::array<B, U>& zi, std::size_t j0,
                            std::size_t j1, std::size_t i0, const B& lane_index, T skip,
                            std::array<B, U>& sx, std::array<B, U>& sy, std::array<B, U>& sz) {
  constexpr std::size_t L = B::size;
  const T* px = p.x.data();
  const T* py = p.y.data();
  const T* pz = p.z.data();
  const T* pm = p.m.data();
  for (std::size_t j = j0; j < j1; ++j) {
    const B xj(px[j]), yj(py[j]), zj(pz[j]), mj(pm[j]);
    for (std::size_t u = 0; u < U; ++u) {
      const B dx = xj - xi[u];
      const B dy = yj - yi[u];
      const B dz = zj - zi[u];
      const B r2 = dx * dx + dy * dy + dz * dz;
      B c = mj * B(f.pair_factor(r2));
      if constexpr (Mode == 1) {
        // j − (i0 + u·L), exact (|·| < U·L in this range); lanes never match outside [0, L)
        const T rel = static_cast<T>(static_cast<std::ptrdiff_t>(j) -
                                     static_cast<std::ptrdiff_t>(i0 + u * L));
        c = xsimd::select(lane_index == B(rel), B(T(0)), c);
      } else if constexpr (Mode == 2) {
        c = xsimd::select(r2 < B(skip), B(T(0)), c);
      }
      sx[u] += c * dx;
      sy[u] += c * dy;
      sz[u] += c * dz;
    }
  }
  (void)lane_index;
  (void)i0;
  (void)skip;
}

/// Targets [i0, i0 + U·L) ∩ [0, n): loads (padding a partial tile), accumulates, stores.
template <std::size_t U, class B, class T, class Force>
inline void accelerations_tile(const particles<T>& p, const Force& f, std::size_t i0,
                               const exclusion_rule& rule, const B& lane_index, T* ax, T* ay,
                               T* az) {
  constexpr std::size_t L = B::size;
  const std::size_t n = p.size();
  const std::size_t live = std::min(U * L, n - i0);
  std::array<B, U> xi, yi, zi, sx, sy, sz;
  if (live == U * L) {
    for (std::size_t u = 0; u < U; ++u) {
      xi[u] = B::load_unaligned(p.x.data() + i0 + u * L);
      yi[u] = B::load_unaligned(p.y.data() + i0 + u * L);
      zi[u] = B::load_unaligned(p.z.data() + i0 + u * L);
    }
  } else {  // padded tail: the extra lanes compute values that are never stored
    alignas(64) std::array<T, U * L> bx{}, by{}, bz{};
    std::copy_n(p.x.data() + i0, live, bx.data());
    std::copy_n(p.y.data() + i0, live, by.data());
    std::copy_n(p.z.data() + i0, live, bz.data());
    for (std::size_t u = 0; u < U; ++u) {
      xi[u] = B::load_aligned(bx.data() + u * L);
      yi[u] = B::load_aligned(by.data() + u * L);
      zi[u] = B::load_aligned(bz.data() + u * L);
    }
  }
  for (std::size_t u = 0; u < U; ++u) sx[u] = sy[u] = sz[u] = B(T(0));
  const T skip = static_cast<T>(rule.skip_r2);
  if (rule.kind == pair_exclusion::by_index) {
    const std::size_t d1 = std::min(i0 + U * L, n);
    accumulate_tile<0>(p, f, xi, yi, zi, 0, i0, i0, lane_index, skip, sx, sy, sz);
    accumulate_tile<1>(p, f, xi, yi, zi, i0, d1, i0, lane_index, skip, sx, sy, sz);
    accumulate_tile<0>(p, f, xi, yi, zi, d1, n, i0, lane_index, skip, sx, sy, sz);
  } else {
    accumulate_tile<2>(p, f, xi, yi, zi, 0, n, i0, lane_index, skip, sx, sy, sz);
  }
  if (live == U * L) {
    for (std::size_t u = 0; u < U; ++u) {
      sx[u].store_unaligned(ax + i0 + u * L);
      sy[u].store_unaligned(ay + i0 + u * L);
      sz[u].store_unaligned(az + i0 + u * L);
    }
  } else {
    alignas(64) std::array<T, U * L> bx{}, by{}, bz{};
    for (std::size_t u = 0; u < U; ++u) {
      sx[u].store_aligned(bx.data() + u * L);
      sy[u].store_aligned(by.data() + u * L);
      sz[u].store_aligned(bz.data() + u * L);
    }
    std::copy_n(bx.data(), live, ax + i0);
    std::copy_n(by.data(), live, ay + i0);
    std::copy_n(bz.data(), live, az + i0);
  }
}

#ifndef DPHYS_NBODY_TILE
#define DPHYS_NBODY_TILE 1
#endif
/// Batches of targets per tile of the SIMD pass (each source is loaded once per tile).
inline constexpr std::size_t force_tile = DPHYS_NBODY_TILE;

}  // namespace detail

/// The direct O(N²) pass, vectorised over target particles with xsimd::batch<T> (tiles of
/// detail::force_tile batches, sources broadcast in index order). Resizes ax, ay, az to
/// p.size(). Result: equal to accelerations_scalar bit for bit, up to the sign of zeros (see the
/// header comment); deterministic for a given build.
template <std::floating_point T, class Force>
requires force_law<Force, T>
void accelerations(const particles<T>& p, const Force& f, std::vector<T>& ax, std::vector<T>& ay,
                   std::vector<T>& az) {
  using B = xsimd::batch<T>;
  constexpr std::size_t L = B::size;
  constexpr std::size_t U = detail::force_tile;
  const std::size_t n = p.size();
  ax.resize(n);
  ay.resize(n);
  az.resize(n);
  const exclusion_rule rule = exclusion_of(f);
  alignas(64) std::array<T, L> iota{};
  for (std::size_t l = 0; l < L; ++l) iota[l] = static_cast<T>(l);
  const B lane_index = B::load_aligned(iota.data());
  std::size_t i0 = 0;
  for (; i0 + U * L <= n; i0 += U * L)
    detail::accelerations_tile<U>(p, f, i0, rule, lane_index, ax.data(), ay.data(), az.data());
  for (; i0 < n; i0 += L)  // the rest one batch at a time, the last one padded
    detail::accelerations_tile<1>(p, f, i0, rule, lane_index, ax.data(), ay.data(), az.data());
}

}  // namespace dphys::nbody

DPHYS_ADAPT_STRUCT(dphys::nbody::softened_newton, G, eps, exclusion, skip_r2);
