// dphys/search/detail/linalg.hpp — the dense linear algebra of the CMA-ES/NES family, no external
// dependency: a symmetric eigensolver (below n = 400: Householder tridiagonalisation after
// EISPACK's tred2 as in JAMA, public domain, then implicit QL (tql2); from n = 400: a blocked
// LAPACK dsytrd-style tridiagonalisation, Cuppen's divide and conquer as in LAPACK dstedc and a
// blocked dormtr-style back-transformation), a row-major matrix product and a symmetric rank-k
// update. Internal (detail); no extension points.
//
// Determinism: every element is accumulated in a fixed order (the loop index order of the scalar
// definition); SIMD only spreads independent elements over lanes (xsimd, no reassociation, no FMA
// contraction under -ffp-contract=off), so results are bitwise independent of the SIMD width. The
// dot product uses 8 fixed partial sums, also width independent.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <xsimd/xsimd.hpp>

#include <dphys/core/parallel.hpp>

namespace dphys::search::detail::linalg {

// Complete unrolling of the small register-block loops (GCC does not at -O2 and then keeps the
// accumulators in memory).
#define DPHYS_LINALG_UNROLL _Pragma("GCC unroll 16")

template <class T>
using batch = xsimd::batch<T, xsimd::default_arch>;
template <class T>
inline constexpr std::size_t width = batch<T>::size;

// ---- threads ----------------------------------------------------------------------------------
// The kernels below take a thread count (dphys::parallel_for's: <= 0 all hardware threads, 1 the
// calling thread only, the pool untouched). They split their work by OUTPUT elements only (rows,
// row blocks or column strips of the result), and every element is computed by the same
// arithmetic in the same order whatever the split (gemm_rows's per-element contract, the
// per-element sums of the others), so results are bitwise independent of the thread count.

/// Work (multiply–adds) below which a kernel stays on the calling thread: a pool job costs a few
/// microseconds even when the workers are still polling, as much as ≈ 10⁵ multiply–adds.
inline constexpr double parallel_min_work = 1 << 19;

/// The number of threads for a job of `work` multiply–adds: 1 below parallel_min_work or when
/// called from inside a pool task (parallel_for would run serially anyway), else `threads`
/// resolved (<= 0: all hardware threads).
inline std::size_t threads_for(int threads, double work) {
  if (threads == 1 || work < parallel_min_work || thread_pool::inside_task()) return 1;
  return static_cast<std::size_t>(threads > 0 ? threads : hardware_threads());
}

/// fn(t) for t in [0, tasks): on the calling thread when threads == 1 (in order), else dealt by
/// dphys::parallel_for. Tasks write disjoint outputs.
template <class Fn>
void run_tasks(std::size_t tasks, std::size_t threads, Fn&& fn) {
  if (threads <= 1 || tasks <= 1) {
    for (std::size_t t = 0; t < tasks; ++t) fn(t);
    return;
  }
  parallel_for(tasks, static_cast<int>(threads), fn);
}

/// Strip t of `tasks` over [0, n): [lo, hi) with lo, hi multiples of `align` (hi = n for the last).
inline std::pair<std::size_t, std::size_t> strip(std::size_t n, std::size_t tasks, std::size_t t,
                                                 std::size_t align) {
  const std::size_t units = (n + align - 1) / align;
  const std::size_t lo = units * t / tasks * align, hi = units * (t + 1) / tasks * align;
  return {std::min(lo, n), std::min(hi, n)};
}

/// Column strips for `threads` threads over n columns: 2 per thread (some slack for a busy
/// machine), at least `align` columns each.
inline std::size_t strip_count(std::size_t n, std::size_t threads, std::size_t align) {
  if (threads <= 1) return 1;
  return std::max<std::size_t>(1, std::min(2 * threads, (n + align - 1) / align));
}

/// y[i] += a·x[i]
template <class T>
void axpy(std::size_t n, T a, const T* x, T* y) {
  std::size_t i = 0;
  if constexpr (width<T> > 1) {
    const batch<T> va(a);
    for (; i + width<T> <= n; i += width<T>) {
      const auto r = batch<T>::load_unaligned(y + i) + va * batch<T>::load_unaligned(x + i);
      r.store_unaligned(y + i);
    }
  }
  for (; i < n; ++i) y[i] += a * x[i];
}

/// Σ x[i]·y[i] with 8 partial sums s_l = Σ_{i ≡ l mod 8} (in index order), combined as
/// ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)); vectorised when the SIMD width divides 8, with the same
/// result.
template <class T>
T dot(std::size_t n, const T* x, const T* y) {
  constexpr std::size_t W = width<T>;
  T s[8] = {};
  std::size_t i = 0;
  if constexpr (W > 1 && 8 % W == 0) {
    constexpr std::size_t Q = 8 / W;
    batch<T> acc[Q];
    DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q) acc[q] = batch<T>(T(0));
    for (; i + 8 <= n; i += 8)
      DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q)
        acc[q] = acc[q] + batch<T>::load_unaligned(x + i + q * W) *
                              batch<T>::load_unaligned(y + i + q * W);
    DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q) acc[q].store_unaligned(s + q * W);
  } else {
    for (; i + 8 <= n; i += 8)
      for (std::size_t l = 0; l < 8; ++l) s[l] += x[i + l] * y[i + l];
  }
  for (std::size_t l = 0; i < n; ++i, ++l) s[l] += x[i] * y[i];
  return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

/// Fused pass over x: returns dot(n, x, d) (same order as dot) and does e[i] += f·x[i].
template <class T>
T dot_axpy(std::size_t n, const T* x, const T* d, T f, T* e) {
  constexpr std::size_t W = width<T>;
  T s[8] = {};
  std::size_t i = 0;
  if constexpr (W > 1 && 8 % W == 0) {
    constexpr std::size_t Q = 8 / W;
    batch<T> acc[Q];
    const batch<T> vf(f);
    DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q) acc[q] = batch<T>(T(0));
    for (; i + 8 <= n; i += 8)
      DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q) {
        const auto xv = batch<T>::load_unaligned(x + i + q * W);
        acc[q] = acc[q] + xv * batch<T>::load_unaligned(d + i + q * W);
        (batch<T>::load_unaligned(e + i + q * W) + vf * xv).store_unaligned(e + i + q * W);
      }
    DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q) acc[q].store_unaligned(s + q * W);
  } else {
    for (; i + 8 <= n; i += 8)
      for (std::size_t l = 0; l < 8; ++l) {
        s[l] += x[i + l] * d[i + l];
        e[i + l] += f * x[i + l];
      }
  }
  for (std::size_t l = 0; i < n; ++i, ++l) {
    s[l] += x[i] * d[i];
    e[i] += f * x[i];
  }
  return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

/// The first part of dot_axpy_rows<R> over a length that is a multiple of 8: the same e updates
/// and, instead of the dot products, their 8 partial sums s[c][0..8) so far (continued by
/// dot_rows_finish or dot_axpy_rows with resume). resume: s holds the partial sums of an earlier
/// stretch (a multiple of 8 long) and is continued instead of starting from zero.
template <std::size_t R, class T>
void dot_axpy_rows_head(std::size_t n8, const T* const* x, const T* d, const T* f, T* e,
                        T (*s)[8], bool resume = false) {
  constexpr std::size_t W = width<T>;
  constexpr std::size_t S = 8;
  if (!resume)
    for (std::size_t c = 0; c < R; ++c) std::fill(s[c], s[c] + S, T(0));
  if constexpr (W > 1 && S % W == 0) {
    constexpr std::size_t Q = S / W;
    batch<T> acc[R][Q], vf[R];
    DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c) {
      vf[c] = batch<T>(f[c]);
      DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q)
        acc[c][q] = batch<T>::load_unaligned(s[c] + q * W);
    }
    for (std::size_t i = 0; i + S <= n8; i += S)
      DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q) {
        const std::size_t o = i + q * W;
        const auto dv = batch<T>::load_unaligned(d + o);
        auto ev = batch<T>::load_unaligned(e + o);
        DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c) {
          const auto xv = batch<T>::load_unaligned(x[c] + o);
          acc[c][q] = acc[c][q] + xv * dv;
          ev = ev + vf[c] * xv;
        }
        ev.store_unaligned(e + o);
      }
    DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c)
      DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q)
        acc[c][q].store_unaligned(s[c] + q * W);
  } else {
    for (std::size_t i = 0; i < n8; ++i) {
      T ev = e[i];
      for (std::size_t c = 0; c < R; ++c) {
        s[c][i % S] += x[c][i] * d[i];
        ev = ev + f[c] * x[c][i];
      }
      e[i] = ev;
    }
  }
}

/// For R rows x[c] at once: out[c] = dot(n, x[c], d) (dot's order) and
/// e[i] = ((e[i] + f[0]·x[0][i]) + f[1]·x[1][i]) + ... — the symmetric matrix–vector product of
/// tridiagonalize_blocked, R rows per pass over e and d (R independent sums in flight). resume:
/// the dot products continue the partial sums of dot_axpy_rows_head over an earlier stretch.
template <std::size_t R, class T>
void dot_axpy_rows(std::size_t n, const T* const* xp, const T* d, const T* f, T* e, T* out,
                   T (*resume)[8] = nullptr) {
  constexpr std::size_t W = width<T>;
  constexpr std::size_t S = 8;
  const T* x[R];
  for (std::size_t c = 0; c < R; ++c) x[c] = xp[c];
  T own[R][S];
  T (*s)[S] = resume ? resume : own;
  std::size_t i = n - n % S;
  dot_axpy_rows_head<R>(i, x, d, f, e, s, resume != nullptr);
  if constexpr (W > 1 && S % W == 0) {
    for (; i + W <= n; i += W) {  // the rest by single batches into the same partial sums
      const auto dv = batch<T>::load_unaligned(d + i);
      auto ev = batch<T>::load_unaligned(e + i);
      DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c) {
        const auto xv = batch<T>::load_unaligned(x[c] + i);
        (batch<T>::load_unaligned(s[c] + i % S) + xv * dv).store_unaligned(s[c] + i % S);
        ev = ev + batch<T>(f[c]) * xv;
      }
      ev.store_unaligned(e + i);
    }
  }
  for (std::size_t l = i % S; i < n; ++i, l = (l + 1) % S) {
    T ev = e[i];
    for (std::size_t c = 0; c < R; ++c) {
      s[c][l] += x[c][i] * d[i];
      ev = ev + f[c] * x[c][i];
    }
    e[i] = ev;
  }
  for (std::size_t c = 0; c < R; ++c)
    out[c] = ((s[c][0] + s[c][4]) + (s[c][2] + s[c][6])) +
             ((s[c][1] + s[c][5]) + (s[c][3] + s[c][7]));
}

/// The R×R diagonal block of rows r..r+R of the symmetric product y += A·v (row-major A, n
/// columns), given sv[c] = row r+c's dot product over the columns right of the block: adds the
/// block's upper part to y's rows below the diagonal and row r+c's whole sum to y[r+c], in the
/// order of tridiagonalize_blocked's fused pass.
template <std::size_t R, class T>
void symv_diagonal_block(const T* a, std::size_t n, std::size_t r, const T* v, const T* sv,
                         T* yy) {
  for (std::size_t c = 0; c < R; ++c) {
    const T* row = a + (r + c) * n;
    T head = T(0);
    for (std::size_t c2 = c + 1; c2 < R; ++c2) {
      head = head + row[r + c2] * v[r + c2];
      yy[r + c2] = yy[r + c2] + v[r + c] * row[r + c2];
    }
    yy[r + c] = yy[r + c] + (row[r + c] * v[r + c] + (head + sv[c]));
  }
}

/// out[c] = dot(n, u, x[c]) for R vectors x[0..R) at once (u loaded once per chunk); each result
/// is bitwise dot's.
template <std::size_t R, class T>
void dot_multi(std::size_t n, const T* u, const T* const* x, T* out) {
  constexpr std::size_t W = width<T>;
  T s[R][8] = {};
  std::size_t i = 0;
  if constexpr (W > 1 && 8 % W == 0) {
    constexpr std::size_t Q = 8 / W;
    batch<T> acc[R][Q];
    DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c)
      DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q) acc[c][q] = batch<T>(T(0));
    for (; i + 8 <= n; i += 8)
      DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q) {
        const auto uv = batch<T>::load_unaligned(u + i + q * W);
        DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c)
          acc[c][q] = acc[c][q] + uv * batch<T>::load_unaligned(x[c] + i + q * W);
      }
    DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c)
      DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q)
        acc[c][q].store_unaligned(s[c] + q * W);
  } else {
    for (; i + 8 <= n; i += 8)
      DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c)
        for (std::size_t l = 0; l < 8; ++l) s[c][l] += u[i + l] * x[c][i + l];
  }
  DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c)
    for (std::size_t l = 0, k = i; k < n; ++k, ++l) s[c][l] += u[k] * x[c][k];
  DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c)
    out[c] = ((s[c][0] + s[c][4]) + (s[c][2] + s[c][6])) +
             ((s[c][1] + s[c][5]) + (s[c][3] + s[c][7]));
}

/// x[c][i] += a[c]·u[i] for R vectors at once (each bitwise axpy(n, a[c], u, x[c])).
template <std::size_t R, class T>
void axpy_multi(std::size_t n, const T* a, const T* u, T* const* x) {
  std::size_t i = 0;
  if constexpr (width<T> > 1) {
    batch<T> va[R];
    DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c) va[c] = batch<T>(a[c]);
    for (; i + width<T> <= n; i += width<T>) {
      const auto uv = batch<T>::load_unaligned(u + i);
      DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c)
        (batch<T>::load_unaligned(x[c] + i) + va[c] * uv).store_unaligned(x[c] + i);
    }
  }
  for (; i < n; ++i)
    DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c) x[c][i] += a[c] * u[i];
}

/// For R vectors x[c] and k rows u_p = U + p·ld of lengths len0 + p:
/// x[c][i] += a[c·k + p]·u_p[i] for p = 0..k−1 in that order (bitwise k successive axpy calls),
/// with each x[c] chunk loaded and stored once for all k rows.
template <std::size_t R, class T>
void axpy_rows(std::size_t len0, std::size_t k, const T* a, const T* U, std::size_t ld,
               T* const* x) {
  std::size_t i = 0;
  if constexpr (width<T> > 1) {
    constexpr std::size_t W = width<T>;
    for (; i + W <= len0; i += W) {
      batch<T> xv[R];
      DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c)
        xv[c] = batch<T>::load_unaligned(x[c] + i);
      for (std::size_t p = 0; p < k; ++p) {
        const auto uv = batch<T>::load_unaligned(U + p * ld + i);
        DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c)
          xv[c] = xv[c] + batch<T>(a[c * k + p]) * uv;
      }
      DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c) xv[c].store_unaligned(x[c] + i);
    }
  }
  // the rest (i ≥ the vector part of len0): element i gets rows p with len0 + p > i
  const std::size_t end = k ? len0 + k - 1 : 0;
  for (; i < end; ++i) {
    const std::size_t p0 = i < len0 ? 0 : i - len0 + 1;
    for (std::size_t c = 0; c < R; ++c) {
      T v = x[c][i];
      for (std::size_t p = p0; p < k; ++p) v += a[c * k + p] * U[p * ld + i];
      x[c][i] = v;
    }
  }
}

/// Fused pass over x (the tridiagonalisation's two sweeps of one column in one): first
/// x[i] −= (fp·p[i] + gp·u[i]) (exactly as rank2_sub), then with the updated x the exact
/// dot_axpy(n, x, d, f, e): returns Σ x[i]·d[i] in dot's order and does e[i] += f·x[i].
template <class T>
T rank2_dot_axpy(std::size_t n, T fp, const T* p, T gp, const T* u, T* x, const T* d, T f, T* e) {
  constexpr std::size_t W = width<T>;
  T s[8] = {};
  std::size_t i = 0;
  if constexpr (W > 1 && 8 % W == 0) {
    constexpr std::size_t Q = 8 / W;
    batch<T> acc[Q];
    const batch<T> vf(f), vfp(fp), vgp(gp);
    DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q) acc[q] = batch<T>(T(0));
    for (; i + 8 <= n; i += 8)
      DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q) {
        const std::size_t o = i + q * W;
        const auto xv =
            batch<T>::load_unaligned(x + o) -
            (vfp * batch<T>::load_unaligned(p + o) + vgp * batch<T>::load_unaligned(u + o));
        xv.store_unaligned(x + o);
        acc[q] = acc[q] + xv * batch<T>::load_unaligned(d + o);
        (batch<T>::load_unaligned(e + o) + vf * xv).store_unaligned(e + o);
      }
    DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q) acc[q].store_unaligned(s + q * W);
  } else {
    for (; i + 8 <= n; i += 8)
      for (std::size_t l = 0; l < 8; ++l) {
        x[i + l] -= (fp * p[i + l] + gp * u[i + l]);
        s[l] += x[i + l] * d[i + l];
        e[i + l] += f * x[i + l];
      }
  }
  for (std::size_t l = 0; i < n; ++i, ++l) {
    x[i] -= (fp * p[i] + gp * u[i]);
    s[l] += x[i] * d[i];
    e[i] += f * x[i];
  }
  return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

/// v[i] −= (f·e[i] + g·d[i])
template <class T>
void rank2_sub(std::size_t n, T f, const T* e, T g, const T* d, T* v) {
  std::size_t i = 0;
  if constexpr (width<T> > 1) {
    const batch<T> vf(f), vg(g);
    for (; i + width<T> <= n; i += width<T>)
      (batch<T>::load_unaligned(v + i) - (vf * batch<T>::load_unaligned(e + i) +
                                          vg * batch<T>::load_unaligned(d + i)))
          .store_unaligned(v + i);
  }
  for (; i < n; ++i) v[i] -= (f * e[i] + g * d[i]);
}

/// acc[i] += (a·x[i])·x[i]
template <class T>
void add_scaled_square(std::size_t n, T a, const T* x, T* acc) {
  std::size_t i = 0;
  if constexpr (width<T> > 1) {
    const batch<T> va(a);
    for (; i + width<T> <= n; i += width<T>) {
      const auto xv = batch<T>::load_unaligned(x + i);
      (batch<T>::load_unaligned(acc + i) + (va * xv) * xv).store_unaligned(acc + i);
    }
  }
  for (; i < n; ++i) acc[i] += (a * x[i]) * x[i];
}

// g++ 12 at -O3 reports a bogus -Waggressive-loop-optimizations ("iteration 2305843009213693951
// invokes undefined behavior") for rotate_rows's scalar tail where it is inlined into
// tridiagonal_ql in some translation units (first seen in tests/test_strategies_es.cpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Waggressive-loop-optimizations"
#endif
/// Plane rotation of two rows: r1' = s·r0 + c·r1, r0' = c·r0 − s·r1.
template <class T>
void rotate_rows(std::size_t n, T c, T s, T* r0, T* r1) {
  std::size_t k = 0;
  if constexpr (width<T> > 1) {
    const batch<T> vc(c), vs(s);
    for (; k + width<T> <= n; k += width<T>) {
      const auto h = batch<T>::load_unaligned(r1 + k);
      const auto v = batch<T>::load_unaligned(r0 + k);
      (vs * v + vc * h).store_unaligned(r1 + k);
      (vc * v - vs * h).store_unaligned(r0 + k);
    }
  }
  for (; k < n; ++k) {
    const T h = r1[k];
    r1[k] = s * r0[k] + c * h;
    r0[k] = c * r0[k] - s * h;
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// C (m×n) = A (m×k) · B (k×n) with the rows given by accessors: arow(i), brow(p), crow(i) return
/// pointers to row i of A, row p of B, row i of C. Element (i, j) is
/// (((0 + A[i][0]B[0][j]) + A[i][1]B[1][j]) + ...), whatever path computes it; with Sub, C[i][j]
/// minus that sum (C −= A·B).
template <class T, bool Sub = false, class AR, class BR, class CR>
void gemm_rows(std::size_t m, std::size_t n, std::size_t k, AR arow, BR brow, CR crow) {
  constexpr std::size_t W = width<T>;
  // rows of C per register block: 6 × 4 batches where there are 32 vector registers (AVX-512;
  // 4 rows keep too few independent sums in flight there), 4 × 4 elsewhere
  constexpr std::size_t RB = W >= 8 ? 6 : 4;
  auto put = [](T* c, const batch<T>& acc) {
    if constexpr (Sub) (batch<T>::load_unaligned(c) - acc).store_unaligned(c);
    else acc.store_unaligned(c);
  };
  std::size_t j0 = 0;
  // rows [i0, i0 + R) × columns [j0, j0 + Q·W)
  auto block = [&]<std::size_t R, std::size_t Q>(std::size_t i0,
                                                 std::integral_constant<std::size_t, R>,
                                                 std::integral_constant<std::size_t, Q>) {
    batch<T> acc[R][Q];
    DPHYS_LINALG_UNROLL for (std::size_t r = 0; r < R; ++r)
      DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q) acc[r][q] = batch<T>(T(0));
    for (std::size_t p = 0; p < k; ++p) {
      batch<T> b[Q];
      DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q)
        b[q] = batch<T>::load_unaligned(brow(p) + j0 + q * W);
      DPHYS_LINALG_UNROLL for (std::size_t r = 0; r < R; ++r) {
        const batch<T> a(arow(i0 + r)[p]);
        DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q) acc[r][q] = acc[r][q] + a * b[q];
      }
    }
    DPHYS_LINALG_UNROLL for (std::size_t r = 0; r < R; ++r)
      DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q)
        put(crow(i0 + r) + j0 + q * W, acc[r][q]);
  };
  auto chunk = [&]<std::size_t Q>(std::integral_constant<std::size_t, Q> q) {
    std::size_t i0 = 0;
    for (; i0 + RB <= m; i0 += RB) block(i0, std::integral_constant<std::size_t, RB>{}, q);
    for (; i0 + 2 <= m; i0 += 2) block(i0, std::integral_constant<std::size_t, 2>{}, q);
    for (; i0 < m; ++i0) block(i0, std::integral_constant<std::size_t, 1>{}, q);
  };
  if constexpr (W > 1) {
    for (; j0 + 4 * W <= n; j0 += 4 * W) chunk(std::integral_constant<std::size_t, 4>{});
    for (; j0 + W <= n; j0 += W) chunk(std::integral_constant<std::size_t, 1>{});
  }
  if constexpr (W > 1) {
    // remaining columns (< W): B's copied to a zero-padded batch per row p, then the same sums as
    // above (the padding lanes are not stored), 4 rows of C at a time
    if (j0 < n) {
      const std::size_t rem = n - j0;
      constexpr std::size_t KS = 64;
      T stack[KS * W];
      std::vector<T> heap;
      T* bt = stack;
      if (k > KS) {
        heap.resize(k * W);
        bt = heap.data();
      }
      for (std::size_t p = 0; p < k; ++p) {
        const T* b = brow(p) + j0;
        for (std::size_t l = 0; l < W; ++l) bt[p * W + l] = l < rem ? b[l] : T(0);
      }
      auto tail = [&]<std::size_t R>(std::size_t i0, std::integral_constant<std::size_t, R>) {
        batch<T> acc[R];
        DPHYS_LINALG_UNROLL for (std::size_t r = 0; r < R; ++r) acc[r] = batch<T>(T(0));
        for (std::size_t p = 0; p < k; ++p) {
          const auto b = batch<T>::load_unaligned(bt + p * W);
          DPHYS_LINALG_UNROLL for (std::size_t r = 0; r < R; ++r)
            acc[r] = acc[r] + batch<T>(arow(i0 + r)[p]) * b;
        }
        DPHYS_LINALG_UNROLL for (std::size_t r = 0; r < R; ++r) {
          T o[W];
          acc[r].store_unaligned(o);
          T* c = crow(i0 + r) + j0;
          for (std::size_t l = 0; l < rem; ++l) c[l] = Sub ? c[l] - o[l] : o[l];
        }
      };
      std::size_t i0 = 0;
      for (; i0 + 4 <= m; i0 += 4) tail(i0, std::integral_constant<std::size_t, 4>{});
      for (; i0 < m; ++i0) tail(i0, std::integral_constant<std::size_t, 1>{});
      return;
    }
  }
  // remaining columns: scalar, same per-element order
  for (std::size_t i = 0; i < m && j0 < n; ++i) {
    T* c = crow(i);
    for (std::size_t j = j0; j < n; ++j) {
      T acc = T(0);
      for (std::size_t p = 0; p < k; ++p) acc = acc + arow(i)[p] * brow(p)[j];
      c[j] = Sub ? c[j] - acc : acc;
    }
  }
}

/// C (m×n) = A (m×k) · B (k×n), all row-major with leading dimensions lda, ldb, ldc. With threads
/// (see threads_for), in column strips of C (each thread reads its strip of B only).
template <class T>
void gemm_ld(std::size_t m, std::size_t n, std::size_t k, const T* A, std::size_t lda, const T* B,
             std::size_t ldb, T* C, std::size_t ldc, int threads = 1) {
  const std::size_t th = threads_for(threads, double(m) * double(n) * double(k));
  const std::size_t tasks = strip_count(n, th, 4 * width<T>);
  run_tasks(tasks, th, [&](std::size_t t) {
    const auto range = strip(n, tasks, t, 4 * width<T>);
    const std::size_t lo = range.first, hi = range.second;
    if (lo == hi) return;
    gemm_rows<T>(
        m, hi - lo, k, [=](std::size_t i) { return A + i * lda; },
        [=](std::size_t p) { return B + p * ldb + lo; },
        [=](std::size_t i) { return C + i * ldc + lo; });
  });
}

/// C (m×n) = A (m×k) · B (k×n), all row-major and contiguous (gemm_ld with lda = k, ldb = ldc = n).
template <class T>
void gemm(std::size_t m, std::size_t n, std::size_t k, const T* A, const T* B, T* C,
          int threads = 1) {
  gemm_ld(m, n, k, A, k, B, n, C, n, threads);
}

/// The upper triangle of the n×n row-major C from its lower triangle (C becomes exactly
/// symmetric), in 32×32 tiles (the upper triangle is written column-wise); with threads
/// (threads_for), tiles of columns as tasks.
template <class T>
void mirror_lower(std::size_t n, T* C, int threads = 1) {
  constexpr std::size_t TB = 32;
  // the upper triangle's columns [i0, i0 + TB) from the lower triangle's rows
  auto mirror = [=](std::size_t i0) {
    for (std::size_t j0 = 0; j0 <= i0; j0 += TB)
      for (std::size_t i = i0; i < std::min(i0 + TB, n); ++i)
        for (std::size_t j = j0; j < std::min(j0 + TB, i); ++j) C[j * n + i] = C[i * n + j];
  };
  const std::size_t tiles = (n + TB - 1) / TB;
  // a strided copy costs about as much as two multiply–adds
  run_tasks(tiles, threads_for(threads, double(n) * double(n)),
            [&](std::size_t t) { mirror((tiles - 1 - t) * TB); });
}

/// C (n×n symmetric, row-major) ← alpha·C + Σ_r coef[r]·v_r v_rᵀ with V (rank×n, row-major).
/// Element (i, j) = (((alpha·C_ij + (coef_0 v_0i)·v_0j) + (coef_1 v_1i)·v_1j) + ...); the lower
/// triangle is computed (from C's lower triangle) and, with `mirror`, mirrored (mirror_lower), so
/// C stays exactly symmetric; without, the upper triangle is left as it was (a caller that reads
/// it later mirrors first). With threads (threads_for): row blocks of the lower triangle, then
/// tiles of the mirror, as tasks.
template <class T>
void symmetric_rank_update(std::size_t n, T alpha, std::size_t rank, const T* coef, const T* V,
                           T* C, int threads = 1, bool mirror = true) {
  constexpr std::size_t W = width<T>;
  // rows per block: their common columns (left of the block's first diagonal element) share each
  // load of V; 4 where there are 32 vector registers (AVX-512), else 1
  constexpr std::size_t RB = W >= 8 ? 4 : 1;
  // the lower triangle of rows [i0, i0 + RB), with `a` (rank·RB) as workspace
  auto row_block = [&](std::size_t i0, T* a) {
    const std::size_t rb = std::min(RB, n - i0);
    for (std::size_t rr = 0; rr < rb; ++rr)
      for (std::size_t r = 0; r < rank; ++r) a[rr * rank + r] = coef[r] * V[r * n + i0 + rr];
    std::size_t j0 = 0;  // columns [0, j0) of every row of the block are done
    if constexpr (W > 1 && RB > 1) {
      constexpr std::size_t Q = 4;
      const batch<T> va(alpha);
      if (rb == RB)
        for (; j0 + Q * W <= i0 + 1; j0 += Q * W) {
          batch<T> acc[RB][Q];
          DPHYS_LINALG_UNROLL for (std::size_t rr = 0; rr < RB; ++rr)
            DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q)
              acc[rr][q] = va * batch<T>::load_unaligned(C + (i0 + rr) * n + j0 + q * W);
          for (std::size_t r = 0; r < rank; ++r) {
            batch<T> v[Q];
            DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q)
              v[q] = batch<T>::load_unaligned(V + r * n + j0 + q * W);
            DPHYS_LINALG_UNROLL for (std::size_t rr = 0; rr < RB; ++rr) {
              const batch<T> ar(a[rr * rank + r]);
              DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q)
                acc[rr][q] = acc[rr][q] + ar * v[q];
            }
          }
          DPHYS_LINALG_UNROLL for (std::size_t rr = 0; rr < RB; ++rr)
            DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q)
              acc[rr][q].store_unaligned(C + (i0 + rr) * n + j0 + q * W);
        }
    }
    for (std::size_t rr = 0; rr < rb; ++rr) {  // the rest of each row, one row at a time
      const std::size_t i = i0 + rr, len = i + 1;
      const T* ai = a + rr * rank;
      T* c = C + i * n;
      std::size_t j = j0;
      if constexpr (W > 1) {
        constexpr std::size_t Q = 4;
        const batch<T> va(alpha);
        for (; j + Q * W <= len; j += Q * W) {
          batch<T> acc[Q];
          DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q)
            acc[q] = va * batch<T>::load_unaligned(c + j + q * W);
          for (std::size_t r = 0; r < rank; ++r) {
            const batch<T> ar(ai[r]);
            DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q)
              acc[q] = acc[q] + ar * batch<T>::load_unaligned(V + r * n + j + q * W);
          }
          DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q)
            acc[q].store_unaligned(c + j + q * W);
        }
        for (; j + W <= len; j += W) {
          batch<T> acc = va * batch<T>::load_unaligned(c + j);
          for (std::size_t r = 0; r < rank; ++r)
            acc = acc + batch<T>(ai[r]) * batch<T>::load_unaligned(V + r * n + j);
          acc.store_unaligned(c + j);
        }
      }
      for (; j < len; ++j) {
        T acc = alpha * c[j];
        for (std::size_t r = 0; r < rank; ++r) acc = acc + ai[r] * V[r * n + j];
        c[j] = acc;
      }
    }
  };
  const std::size_t blocks = (n + RB - 1) / RB;
  const std::size_t th = threads_for(threads, 0.5 * double(n) * double(n) * double(rank));
  if (th <= 1) {
    std::vector<T> a(rank * RB);
    for (std::size_t b = 0; b < blocks; ++b) row_block(b * RB, a.data());
    if (mirror) mirror_lower(n, C, 1);
    return;
  }
  // groups of 8 row blocks, the longest rows first (dynamic dealing then ends evenly)
  constexpr std::size_t G = 8;
  const std::size_t groups = (blocks + G - 1) / G;
  run_tasks(groups, th, [&](std::size_t t) {
    std::vector<T> a(rank * RB);
    const std::size_t g = groups - 1 - t;
    for (std::size_t b = g * G; b < std::min(blocks, (g + 1) * G); ++b) row_block(b * RB, a.data());
  });
  if (mirror) mirror_lower(n, C, threads);
}

/// √(a² + b²) without the cost of std::hypot: direct in the safe range, scaled outside it.
template <class T>
T hypot2(T a, T b) {
  a = std::abs(a);
  b = std::abs(b);
  if (a < b) std::swap(a, b);
  const T big = std::sqrt(std::numeric_limits<T>::max()) / T(4);
  const T tiny = std::sqrt(std::numeric_limits<T>::min()) * T(4);
  if (a < big && a > tiny) return std::sqrt(a * a + b * b);
  if (a == T(0) || !std::isfinite(a)) return a;
  const T r = b / a;
  return a * std::sqrt(T(1) + r * r);
}

/// Implicit QL (EISPACK tql2) for the symmetric tridiagonal matrix with diagonal d[0..n) and
/// off-diagonal e[0..n−1) (e[i] couples i and i+1; e[n−1] is workspace and must be 0): on return
/// d holds the eigenvalues ascending and the rows vt + k·ld (length n) are rotated along, so if
/// they held Q's columns on entry they hold those of Q·S (S the tridiagonal's eigenvectors).
/// Throws std::runtime_error after 30·n + 30 iterations for one eigenvalue (non-finite input).
template <class T>
void tridiagonal_ql(std::size_t n, T* d, T* e, T* vt, std::size_t ld) {
  T f = T(0), tst1 = T(0);
  const T eps = std::numeric_limits<T>::epsilon();
  for (std::size_t l = 0; l < n; ++l) {
    tst1 = std::max(tst1, std::abs(d[l]) + std::abs(e[l]));
    std::size_t m = l;
    while (m < n) {
      if (std::abs(e[m]) <= eps * tst1) break;
      ++m;
    }
    if (m == n) m = n - 1;
    if (m > l) {
      std::size_t iter = 0;
      do {
        if (++iter > 30 * n + 30)
          throw std::runtime_error("symmetric_eigen: QL iteration did not converge (non-finite "
                                   "matrix entries?)");
        T g = d[l];
        T p = (d[l + 1] - g) / (T(2) * e[l]);
        T r = hypot2(p, T(1));
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const T dl1 = d[l + 1];
        T h = g - d[l];
        for (std::size_t i = l + 2; i < n; ++i) d[i] -= h;
        f = f + h;
        p = d[m];
        T c = T(1), c2 = c, c3 = c;
        const T el1 = e[l + 1];
        T s = T(0), s2 = T(0);
        for (std::size_t ii = m; ii-- > l;) {
          const std::size_t i = ii;
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot2(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          // columns i, i+1 of V = rows i, i+1 of vt
          rotate_rows(n, c, s, vt + i * ld, vt + (i + 1) * ld);
        }
        p = -s * s2 * c3 * el1 * e[l] / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (std::abs(e[l]) > eps * tst1);
    }
    d[l] = d[l] + f;
    e[l] = T(0);
  }
  // sort ascending (selection sort as in JAMA: deterministic, O(n²) swaps of rows)
  for (std::size_t i = 0; i + 1 < n; ++i) {
    std::size_t k = i;
    T p = d[i];
    for (std::size_t j = i + 1; j < n; ++j)
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    if (k != i) {
      d[k] = d[i];
      d[i] = p;
      std::swap_ranges(vt + i * ld, vt + i * ld + n, vt + k * ld);
    }
  }
}

/// For t_i = z_i / ((D_i − D0) − x), i in [0, n): sum = Σ z_i·t_i and dsum = Σ t_i², each in 8
/// partial sums by i mod 8 combined as dot does (so every SIMD width gives the same bits).
template <class T>
void secular_sums(std::size_t n, const T* z, const T* D, T D0, T x, T& sum, T& dsum) {
  constexpr std::size_t W = width<T>;
  T s[8] = {}, ds[8] = {};
  std::size_t i = 0;
  if constexpr (W > 1 && 8 % W == 0) {
    constexpr std::size_t Q = 8 / W;
    batch<T> acc[Q], dacc[Q];
    const batch<T> vd0(D0), vx(x);
    DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q) acc[q] = dacc[q] = batch<T>(T(0));
    for (; i + 8 <= n; i += 8)
      DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q) {
        const auto zv = batch<T>::load_unaligned(z + i + q * W);
        const auto t = zv / ((batch<T>::load_unaligned(D + i + q * W) - vd0) - vx);
        acc[q] = acc[q] + zv * t;
        dacc[q] = dacc[q] + t * t;
      }
    DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q) {
      acc[q].store_unaligned(s + q * W);
      dacc[q].store_unaligned(ds + q * W);
    }
  } else {
    for (; i + 8 <= n; i += 8)
      for (std::size_t l = 0; l < 8; ++l) {
        const T t = z[i + l] / ((D[i + l] - D0) - x);
        s[l] += z[i + l] * t;
        ds[l] += t * t;
      }
  }
  for (std::size_t l = 0; i < n; ++i, ++l) {
    const T t = z[i] / ((D[i] - D0) - x);
    s[l] += z[i] * t;
    ds[l] += t * t;
  }
  sum = ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
  dsum = ((ds[0] + ds[4]) + (ds[2] + ds[6])) + ((ds[1] + ds[5]) + (ds[3] + ds[7]));
}

/// Roots of the secular equation 1/ρ + Σ_i z_i²/(D_i − λ) = 0 (ρ > 0, D strictly ascending, all
/// z_i ≠ 0), one in each (D_j, D_{j+1}) and the last in (D_{k−1}, D_{k−1} + ρ‖z‖²]. Root j is
/// λ_j = D[org[j]] + tau[j] (shifted to the nearer pole for accuracy) and delta[j·k + i] =
/// (D_i − D[org[j]]) − tau[j] = D_i − λ_j. Each step solves a two-pole rational model matched in
/// value and slope on both sides of the root (the "middle way"), safeguarded by bisection of a
/// sign-bracket; stops when |f| ≤ ε·(error bound of f) as dlaed4 does.
/// With threads (threads_for), the roots are found in groups as tasks (each root's iteration is
/// independent of the others).
template <class T>
void secular_roots(std::size_t k, const T* D, const T* z, T rho, std::size_t* org, T* tau,
                   T* delta, int threads = 1) {
  const T eps = std::numeric_limits<T>::epsilon();
  const T rinv = T(1) / rho;
  T zsq = T(0);
  for (std::size_t i = 0; i < k; ++i) zsq += z[i] * z[i];
  auto root = [&](std::size_t j) {
    T* dl = delta + j * k;
    std::size_t o = j, split = j;  // left group [0, split), right group [split, k)
    T lo = T(0), hi = rho * zsq;
    if (j + 1 < k) {
      const T mid = (D[j + 1] - D[j]) / T(2);
      T sm = T(0), unused = T(0);
      secular_sums(k, z, D, D[j], mid, sm, unused);
      const T f = rinv + sm;
      if (f >= T(0)) {
        hi = mid;
      } else {
        o = j + 1;
        lo = -mid;
        hi = T(0);
      }
      split = j + 1;
    }
    for (std::size_t i = 0; i < k; ++i) dl[i] = D[i] - D[o];
    const T a = split > 0 ? dl[split - 1] : lo - (hi - lo);  // poles next to the root
    const T b = dl[split];
    T x = lo + (hi - lo) / T(2);
    for (int it = 0; it < 300; ++it) {
      T psi = T(0), dpsi = T(0), phi = T(0), dphi = T(0);
      secular_sums(split, z, dl, T(0), x, psi, dpsi);
      secular_sums(k - split, z + split, dl + split, T(0), x, phi, dphi);
      const T f = rinv + psi + phi;
      const T err = T(8) * (std::abs(psi) + std::abs(phi)) + rinv + std::abs(x) * (dpsi + dphi);
      if (f == T(0) || std::abs(f) <= eps * err) break;
      if (f > T(0))
        hi = x;
      else
        lo = x;
      if (hi - lo <= T(2) * eps * std::max(std::abs(lo), std::abs(hi))) break;
      // model c + s/(a − y) + S/(b − y) = 0, i.e. c·y² − (c(a+b) + s + S)·y + (c·a·b + s·b + S·a) = 0
      const T s = (a - x) * (a - x) * dpsi, p = psi - (a - x) * dpsi;
      const T S = (b - x) * (b - x) * dphi, P = phi - (b - x) * dphi;
      const T c = rinv + p + P;
      const T qb = -(c * (a + b) + s + S), qc = c * a * b + s * b + S * a;
      T xn = lo + (hi - lo) / T(2);
      if (it < 60) {
        const T disc = qb * qb - T(4) * c * qc;
        bool found = false;
        if (disc >= T(0)) {
          const T q = -(qb + std::copysign(std::sqrt(disc), qb)) / T(2);
          if (q != T(0)) {
            const T r = qc / q;
            if (r > lo && r < hi) {
              xn = r;
              found = true;
            }
          }
          if (c != T(0)) {
            const T r = q / c;
            if (r > lo && r < hi && (!found || std::abs(r - x) < std::abs(xn - x))) xn = r;
          }
        }
      }
      if (xn == x) break;
      x = xn;
    }
    org[j] = o;
    tau[j] = x;
    for (std::size_t i = 0; i < k; ++i) dl[i] -= x;
  };
  // ≈ 10 iterations of 2k divisions per root
  const std::size_t th = threads_for(threads, 20.0 * double(k) * double(k));
  constexpr std::size_t G = 16;
  run_tasks((k + G - 1) / G, th, [&](std::size_t t) {
    for (std::size_t j = t * G; j < std::min(k, (t + 1) * G); ++j) root(j);
  });
}

/// Workspace of eigen_dc (tridiagonal_dc and the blocked passes) for n ≤ cap (one per thread,
/// dc_workspace): the n² buffers are allocated uninitialised and reused by later calls.
template <class T>
struct dc_work {
  explicit dc_work(std::size_t n)
      : cap(n), Z(new T[n * n]), delta(new T[n * n]), G(new T[n * n]), out(new T[n * n]) {}
  std::size_t cap;
  std::unique_ptr<T[]> Z, delta, G, out;  // n×n each (delta also holds the merge vectors)
  std::vector<const T*> brow;
  std::vector<T> D, z, zk, Dk, tau, what, et;
  std::vector<std::size_t> perm, nd, org, ord;
  std::vector<int> type;
  std::vector<std::pair<T, std::size_t>> vals;
  std::vector<T> scratch;  // tridiagonalize_blocked's and back_transform_blocked's panels
  std::unique_ptr<dc_work> half;  // dc_solve's second half when the halves run as tasks
};

/// Merge step of Cuppen's divide and conquer (LAPACK dlaed1/2/3 without compressed storage): the
/// block [o, o+N) of the tridiagonal was torn at o+n1 with coupling beta, both halves are solved
/// (eigenvalues ascending in d, eigenvectors as the rows of Z's diagonal blocks, row stride ld);
/// on return the block's eigen-decomposition replaces them, eigenvalues ascending. With threads
/// (threads_for): the secular roots, the recomputed z, the merge vectors and the eigenvector
/// products (rows of the result) as tasks.
template <class T>
void dc_merge(std::size_t o, std::size_t n1, std::size_t N, T beta, T* d, T* Z, std::size_t ld,
              dc_work<T>& w, int threads = 1) {
  const T eps = std::numeric_limits<T>::epsilon();
  T* L = Z + o * ld + o;  // the block: row r = eigenvector r, columns [0, N)
  w.D.assign(d + o, d + o + N);
  w.z.resize(N);
  const T r2 = T(1) / std::sqrt(T(2));
  const T sg = beta < T(0) ? T(-1) : T(1);
  for (std::size_t i = 0; i < n1; ++i) w.z[i] = L[i * ld + n1 - 1] * r2;
  for (std::size_t i = n1; i < N; ++i) w.z[i] = (sg * L[i * ld + n1]) * r2;
  const T rho = T(2) * std::abs(beta);
  // ascending order of D (merge of the two sorted halves; the first half first on ties)
  w.perm.resize(N);
  std::iota(w.perm.begin(), w.perm.end(), std::size_t(0));
  std::stable_sort(w.perm.begin(), w.perm.end(),
                   [&](std::size_t x, std::size_t y) { return w.D[x] < w.D[y]; });
  w.type.assign(N, 3);
  for (std::size_t i = 0; i < n1; ++i) w.type[i] = 1;
  T dmax = T(0), zmax = T(0);
  for (std::size_t i = 0; i < N; ++i) {
    dmax = std::max(dmax, std::abs(w.D[i]));
    zmax = std::max(zmax, std::abs(w.z[i]));
  }
  const T tol = T(8) * eps * std::max(dmax, zmax);
  // deflation: negligible z_i, and (after a rotation of two rows) nearly equal D
  w.nd.clear();
  w.vals.clear();
  for (std::size_t q = 0; q < N; ++q) {
    const std::size_t i = w.perm[q];
    if (rho * std::abs(w.z[i]) <= tol) {
      w.vals.emplace_back(w.D[i], N + i);
      continue;
    }
    if (!w.nd.empty()) {
      const std::size_t j = w.nd.back();
      T s = w.z[j], c = w.z[i];
      const T t = hypot2(c, s), gap = w.D[i] - w.D[j];
      c /= t;
      s = -s / t;
      if (std::abs(gap * c * s) <= tol) {
        w.z[i] = t;
        w.z[j] = T(0);
        // row j' = c·row j + s·row i, row i' = c·row i − s·row j
        rotate_rows(N, c, s, L + i * ld, L + j * ld);
        if (w.type[i] != w.type[j]) w.type[i] = w.type[j] = 2;
        const T dj = w.D[j] * c * c + w.D[i] * s * s;
        w.D[i] = w.D[j] * s * s + w.D[i] * c * c;
        w.D[j] = dj;
        w.nd.pop_back();
        w.vals.emplace_back(w.D[j], N + j);
      }
    }
    w.nd.push_back(i);
  }
  const std::size_t k = w.nd.size();
  if (k > 0) {
    w.Dk.resize(k);
    w.zk.resize(k);
    for (std::size_t p = 0; p < k; ++p) {
      w.Dk[p] = w.D[w.nd[p]];
      w.zk[p] = w.z[w.nd[p]];
    }
    w.org.resize(k);
    w.tau.resize(k);
    secular_roots(k, w.Dk.data(), w.zk.data(), rho, w.org.data(), w.tau.data(), w.delta.get(),
                  threads);
    // tasks over groups of G indices for the O(k²) loops below
    constexpr std::size_t G = 16;
    const std::size_t groups = (k + G - 1) / G;
    const std::size_t th_k2 = threads_for(threads, 4.0 * double(k) * double(k));
    // Gu–Eisenstat: the z for which the computed roots are exact, so the vectors are orthogonal
    w.what.resize(k);
    // (W consecutive i at once, each with its own product over j in order: the same bits)
    run_tasks(groups, th_k2, [&](std::size_t t) {
      constexpr std::size_t W = width<T>;
      const T* const dlt = w.delta.get();
      const T* const Dk = w.Dk.data();
      const std::size_t i1 = std::min(k, (t + 1) * G);
      std::size_t i = t * G;
      if constexpr (W > 1) {
        for (; i + W <= i1; i += W) {
          T vv[W];
          for (std::size_t l = 0; l < W; ++l) vv[l] = dlt[(i + l) * k + i + l];
          auto v = batch<T>::load_unaligned(vv);
          const auto di = batch<T>::load_unaligned(Dk + i);
          auto factors = [&](std::size_t j0, std::size_t j1) {  // no lane's own index in [j0, j1)
            for (std::size_t j = j0; j < j1; ++j)
              v = v * (batch<T>::load_unaligned(dlt + j * k + i) / (di - batch<T>(Dk[j])));
          };
          factors(0, i);
          v.store_unaligned(vv);
          for (std::size_t j = i; j < i + W; ++j)
            for (std::size_t l = 0; l < W; ++l)
              if (i + l != j) vv[l] *= dlt[j * k + i + l] / (Dk[i + l] - Dk[j]);
          v = batch<T>::load_unaligned(vv);
          factors(i + W, k);
          v.store_unaligned(vv);
          for (std::size_t l = 0; l < W; ++l)
            w.what[i + l] = std::copysign(std::sqrt(std::max(T(0), -vv[l])), w.zk[i + l]);
        }
      }
      for (; i < i1; ++i) {
        T v = dlt[i * k + i];
        for (std::size_t j = 0; j < k; ++j)
          if (j != i) v *= dlt[j * k + i] / (Dk[i] - Dk[j]);
        w.what[i] = std::copysign(std::sqrt(std::max(T(0), -v)), w.zk[i]);
      }
    });
    // rows grouped by support: top half only (1), both (2), bottom half only (3)
    w.ord.clear();
    for (int ty = 1; ty <= 3; ++ty)
      for (std::size_t p = 0; p < k; ++p)
        if (w.type[w.nd[p]] == ty) w.ord.push_back(p);
    std::size_t k1 = 0, k3 = 0;
    for (std::size_t p = 0; p < k; ++p) {
      k1 += w.type[w.nd[p]] == 1;
      k3 += w.type[w.nd[p]] == 3;
    }
    // UT[j][q]: component of the merge eigenvector j on the (grouped) old row q, normalised
    run_tasks(groups, th_k2, [&](std::size_t t) {
      std::vector<T> et(k);
      for (std::size_t j = t * G; j < std::min(k, (t + 1) * G); ++j) {
        const T* dl = w.delta.get() + j * k;
        for (std::size_t i = 0; i < k; ++i) et[i] = w.what[i] / dl[i];
        const T nrm = std::sqrt(dot(k, et.data(), et.data()));
        T* ut = w.delta.get() + j * k;  // row j of delta is not needed any more
        for (std::size_t q = 0; q < k; ++q) ut[q] = et[w.ord[q]] / nrm;
      }
    });
    w.brow.resize(k);
    for (std::size_t q = 0; q < k; ++q) w.brow[q] = L + w.nd[w.ord[q]] * ld;
    const T* UT = w.delta.get();
    T* out = w.out.get();
    const T* const* br = w.brow.data();
    // rows [j0, j1) of the new eigenvectors (each row's elements as gemm_rows defines them)
    auto products = [=](std::size_t j0, std::size_t j1) {
      gemm_rows<T>(
          j1 - j0, n1, k - k3, [=](std::size_t j) { return UT + (j0 + j) * k; },
          [=](std::size_t q) { return br[q]; }, [=](std::size_t j) { return out + (j0 + j) * N; });
      gemm_rows<T>(
          j1 - j0, N - n1, k - k1, [=](std::size_t j) { return UT + (j0 + j) * k + k1; },
          [=](std::size_t q) { return br[k1 + q] + n1; },
          [=](std::size_t j) { return out + (j0 + j) * N + n1; });
    };
    const std::size_t th = threads_for(threads, double(k) * double(N) * double(k) / 2);
    const std::size_t row_tasks = th <= 1 ? 1 : std::min<std::size_t>(4 * th, (k + 5) / 6);
    run_tasks(row_tasks, th, [&](std::size_t t) {
      const auto range = strip(k, row_tasks, t, 6);
      const std::size_t j0 = range.first, j1 = range.second;
      if (j0 < j1) products(j0, j1);
    });
    for (std::size_t j = 0; j < k; ++j) w.vals.emplace_back(w.Dk[w.org[j]] + w.tau[j], j);
  }
  // all N eigenpairs ascending (ties: roots before deflated rows, then by index)
  std::sort(w.vals.begin(), w.vals.end());
  // deflated rows to G (free after the products), then every row to its place
  std::size_t nd = 0;
  for (auto& [val, src] : w.vals)
    if (src >= N) {
      std::copy(L + (src - N) * ld, L + (src - N) * ld + N, w.G.get() + nd * N);
      src = 2 * N + nd++;
    }
  for (std::size_t r = 0; r < N; ++r) d[o + r] = w.vals[r].first;
  constexpr std::size_t RG = 32;  // rows per task (the sources, out and G, are not L)
  run_tasks((N + RG - 1) / RG, threads_for(threads, double(N) * double(N)), [&](std::size_t t) {
    for (std::size_t r = t * RG; r < std::min(N, (t + 1) * RG); ++r) {
      const std::size_t src = w.vals[r].second;
      const T* row = src < N ? w.out.get() + src * N : w.G.get() + (src - 2 * N) * N;
      std::copy(row, row + N, L + r * ld);
    }
  });
}

/// Block sizes from which dc_solve (with threads) solves its two halves as two tasks.
inline constexpr std::size_t dc_task_min_n = 256;

/// Solves the block [o, o+N) of the tridiagonal (d, e) into d and Z's diagonal block: QL from the
/// identity up to `leaf` rows, else tearing in the middle, both halves (with threads, from
/// dc_task_min_n rows on, as two tasks), and dc_merge.
template <class T>
void dc_solve(std::size_t o, std::size_t N, T* d, T* e, T* Z, std::size_t ld, std::size_t leaf,
              dc_work<T>& w, int threads = 1) {
  if (N <= leaf) {
    for (std::size_t r = 0; r < N; ++r) Z[(o + r) * ld + o + r] = T(1);
    w.et.assign(e + o, e + o + N);
    w.et[N - 1] = T(0);
    tridiagonal_ql(N, d + o, w.et.data(), Z + o * ld + o, ld);
    return;
  }
  const std::size_t n1 = N / 2;
  const T beta = e[o + n1 - 1];
  d[o + n1 - 1] -= std::abs(beta);
  d[o + n1] -= std::abs(beta);
  // With threads, the two halves (disjoint parts of d and of Z's rows, each its own workspace) as
  // two tasks: their kernels then run on one thread each (nested tasks are serial), the same
  // per-element arithmetic as with any thread count.
  if (N >= dc_task_min_n && threads_for(threads, double(N) * double(N) * double(N) / 8) > 1) {
    if (!w.half || w.half->cap < N - n1) w.half = std::make_unique<dc_work<T>>(N - n1);
    dc_work<T>* ws[2] = {&w, w.half.get()};
    run_tasks(2, 2, [&](std::size_t t) {
      if (t == 0) dc_solve(o, n1, d, e, Z, ld, leaf, *ws[0], 1);
      else dc_solve(o + n1, N - n1, d, e, Z, ld, leaf, *ws[1], 1);
    });
  } else {
    dc_solve(o, n1, d, e, Z, ld, leaf, w, threads);
    dc_solve(o + n1, N - n1, d, e, Z, ld, leaf, w, threads);
  }
  dc_merge(o, n1, N, beta, d, Z, ld, w, threads);
}

/// The calling thread's workspace for n ≤ its capacity (grown on demand, kept for the next call:
/// the eigensolver runs every few generations and fresh n² buffers cost page faults each time).
template <class T>
dc_work<T>& dc_workspace(std::size_t n) {
  thread_local std::unique_ptr<dc_work<T>> w;
  if (!w || w->cap < n) w = std::make_unique<dc_work<T>>(n);
  return *w;
}

/// Cuppen's divide and conquer for the symmetric tridiagonal matrix (d, e) as in LAPACK dstedc:
/// rank-one tearing in the middle, QL (tridiagonal_ql) on blocks of ≤ leaf rows, merges by the
/// secular equation with deflation and Gu–Eisenstat's recomputed z, eigenvector updates as
/// matrix products (gemm_ld). On return d holds the eigenvalues ascending and row r of Z (n×n,
/// overwritten) the unit eigenvector of d[r]. e[i] couples i and i+1 (e[n−1] unused). The
/// matrix is scaled by a power of two (exact) so its largest entry is in [1, 2).
template <class T>
void tridiagonal_dc(std::size_t n, T* d, const T* e, T* Z, std::size_t leaf, dc_work<T>& w,
                    int threads = 1) {
  std::fill(Z, Z + n * n, T(0));
  std::vector<T> es(e, e + n);
  es[n - 1] = T(0);
  T amax = T(0);
  for (std::size_t i = 0; i < n; ++i) amax = std::max({amax, std::abs(d[i]), std::abs(es[i])});
  const int ex = amax > T(0) ? std::ilogb(amax) : 0;
  for (std::size_t i = 0; i < n; ++i) {
    d[i] = std::ldexp(d[i], -ex);
    es[i] = std::ldexp(es[i], -ex);
  }
  dc_solve(std::size_t(0), n, d, es.data(), Z, n, std::max<std::size_t>(leaf, 1), w, threads);
  for (std::size_t i = 0; i < n; ++i) d[i] = std::ldexp(d[i], ex);
}

/// Householder reflector of x (length m ≥ 1) as LAPACK dlarfg: returns β and sets τ and v (x is
/// overwritten by v, v[0] = 1) with (I − τ v vᵀ) x = β e₀; τ = 0 (the identity, β = x[0]) when
/// x[1..m) is zero. The norm is taken of x scaled by a power of two (exact), so squares neither
/// overflow nor underflow.
template <class T>
T householder(std::size_t m, T* x, T& tau) {
  T amax = T(0);
  for (std::size_t i = 1; i < m; ++i) amax = std::max(amax, std::abs(x[i]));
  if (amax == T(0)) {
    tau = T(0);
    const T beta = x[0];
    x[0] = T(1);
    return beta;
  }
  amax = std::max(amax, std::abs(x[0]));
  const int ex = std::ilogb(amax);
  using lim = std::numeric_limits<T>;
  if (ex > lim::min_exponent + 2 && ex < lim::max_exponent - 2) {  // 2^−ex is a normal number
    const T sc = std::ldexp(T(1), -ex);
    for (std::size_t i = 0; i < m; ++i) x[i] *= sc;
  } else {
    for (std::size_t i = 0; i < m; ++i) x[i] = std::ldexp(x[i], -ex);
  }
  const T alpha = x[0];
  const T nrm = std::sqrt(alpha * alpha + dot(m - 1, x + 1, x + 1));
  const T beta = alpha > T(0) ? -nrm : nrm;
  tau = (beta - alpha) / beta;
  const T f = T(1) / (alpha - beta);
  for (std::size_t i = 1; i < m; ++i) x[i] *= f;
  x[0] = T(1);
  return std::ldexp(beta, ex);
}

/// Continues the partial sums s of dot_axpy_rows_head over the next n elements (lanes from 0; the
/// head's length was a multiple of 8) and combines them as dot does: out[c] is bitwise
/// dot_axpy_rows<R>'s over the whole length.
template <std::size_t R, class T>
void dot_rows_finish(std::size_t n, const T* u, const T* const* x, T (*s)[8], T* out) {
  constexpr std::size_t W = width<T>;
  std::size_t i = 0;
  if constexpr (W > 1 && 8 % W == 0) {
    constexpr std::size_t Q = 8 / W;
    batch<T> acc[R][Q];
    DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c)
      DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q)
        acc[c][q] = batch<T>::load_unaligned(s[c] + q * W);
    for (; i + 8 <= n; i += 8)
      DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q) {
        const auto uv = batch<T>::load_unaligned(u + i + q * W);
        DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c)
          acc[c][q] = acc[c][q] + batch<T>::load_unaligned(x[c] + i + q * W) * uv;
      }
    DPHYS_LINALG_UNROLL for (std::size_t c = 0; c < R; ++c)
      DPHYS_LINALG_UNROLL for (std::size_t q = 0; q < Q; ++q)
        acc[c][q].store_unaligned(s[c] + q * W);
  } else {
    for (; i + 8 <= n; i += 8)
      for (std::size_t c = 0; c < R; ++c)
        for (std::size_t l = 0; l < 8; ++l) s[c][l] += x[c][i + l] * u[i + l];
  }
  for (std::size_t c = 0; c < R; ++c)
    for (std::size_t l = 0, k = i; k < n; ++k, ++l) s[c][l] += x[c][k] * u[k];
  for (std::size_t c = 0; c < R; ++c)
    out[c] = ((s[c][0] + s[c][4]) + (s[c][2] + s[c][6])) +
             ((s[c][1] + s[c][5]) + (s[c][3] + s[c][7]));
}

/// Trailing sizes from which tridiagonalize_blocked runs on threads (tridiagonalize_team).
inline constexpr std::size_t symv_parallel_min_m = 256;

/// Trailing sizes m from which the product y = A₂₂·v of column j is computed in two parts, on any
/// number of threads (so every thread count gives the same bits): rows [j+1, cut) and [cut, n).
inline constexpr std::size_t symv_split_min_m = 256;

/// The first row of the second part of column j's product (n when it is not split): the upper
/// triangle's rows from j+1 in two parts, the first of ≈ m/3 rows (a multiple of 8). Equal areas
/// would be (1 − 1/√2)·m ≈ 0.29·m, but the first part's long rows cost less per element than the
/// second's short ones (diagonal blocks, loop overhead): 0.33·m gave the shortest two-thread time
/// at n = 1000 (0.29 / 0.33 / 0.37 / 0.40: 28.8 / 28.2 / 28.5 / 29.6 ms).
inline std::size_t symv_cut(std::size_t n, std::size_t j) {
  const std::size_t m = n - j - 1;
  if (m < symv_split_min_m) return n;
  return j + 1 + (m * 3300 / 10000 + 4) / 8 * 8;
}

/// One part of tridiagonalize_blocked's product y = A₂₂·v for column j: the fused pass over the
/// upper triangle's rows [lo, hi) (lo − (j+1) a multiple of 8; hi = n or hi − lo a multiple of 8),
/// 8 rows at a time. Each row r adds its dot product over the columns > r to y_r and its column
/// contributions v_r·a_ri to y_i (i > r) — into yy for i < hi, into ex for i ≥ hi. yy[lo, hi) and
/// ex[hi, n) are set (from zero), nothing else is written, so the two parts of symv_cut run
/// concurrently; y_i = yy_i (i < cut), (yy_i + ex_i) (i ≥ cut). Unsplit (lo = j+1, hi = n) this is
/// the single fused pass.
template <class T>
void symv_part(std::size_t n, const T* a, const T* v, std::size_t lo, std::size_t hi, T* yy,
               T* ex) {
  constexpr std::size_t SR = 8;
  std::fill(yy + lo, yy + hi, T(0));
  if (hi < n) std::fill(ex + hi, ex + n, T(0));
  std::size_t r = lo;
  auto rows_at = [&]<std::size_t R>(std::integral_constant<std::size_t, R>) {
    const T* rows[R];
    T sv[R];
    for (std::size_t c = 0; c < R; ++c) rows[c] = a + (r + c) * n + r + R;
    if (hi == n) {
      dot_axpy_rows<R>(n - r - R, rows, v + r + R, v + r, yy + r + R, sv);
    } else {  // R = SR here, and hi − (r + R) is a multiple of 8
      T part[R][8];
      dot_axpy_rows_head<R>(hi - r - R, rows, v + r + R, v + r, yy + r + R, part);
      for (std::size_t c = 0; c < R; ++c) rows[c] = a + (r + c) * n + hi;
      dot_axpy_rows<R>(n - hi, rows, v + hi, v + r, ex + hi, sv, part);
    }
    symv_diagonal_block<R>(a, n, r, v, sv, yy);
    r += R;
  };
  while (r + SR <= hi) rows_at(std::integral_constant<std::size_t, SR>{});
  while (r < hi) rows_at(std::integral_constant<std::size_t, 1>{});  // hi = n: the last rows
}

/// A team of threads for the fine-grained jobs of one pool job (tridiagonalize_team: a few jobs
/// per column, too short for a pool job each). The thread that runs master() issues jobs with
/// run(tasks, fn); the others call help() and take part in them until stop(). Tasks are claimed
/// one at a time through one atomic word (job number, task count, tasks claimed), so the master
/// runs every task no helper has claimed and never waits for a helper that has not joined (a pool
/// worker may start late or not at all); it waits only for the claimed tasks to finish.
class spin_team {
 public:
  /// Runs fn(t) for t in [0, tasks) (tasks < 2¹⁶) with the helpers; returns when all are done.
  template <class Fn>
  void run(std::size_t tasks, Fn& fn) {
    if (tasks <= 1) {
      if (tasks == 1) fn(0);
      return;
    }
    call_ = [](void* f, std::size_t t) { (*static_cast<Fn*>(f))(t); };
    fn_ = &fn;
    ++seq_;
    done_.store(0, std::memory_order_relaxed);
    job_.store(((seq_ & 0xffffffffu) << 32) | (std::uint64_t(tasks) << 16),
               std::memory_order_release);
    std::size_t t = 0;
    while (claim(seq_ & 0xffffffffu, t)) {
      fn(t);
      done_.fetch_add(1, std::memory_order_release);
    }
    while (done_.load(std::memory_order_acquire) != tasks) pause();
  }
  /// Ends help() (the master calls it when it has issued its last job).
  void stop() { stop_.store(true, std::memory_order_release); }
  /// Takes part in the master's jobs until stop().
  void help() {
    std::uint64_t last = 0;
    for (unsigned spins = 1;; ++spins) {
      if (stop_.load(std::memory_order_acquire)) return;
      const std::uint64_t seq = job_.load(std::memory_order_acquire) >> 32;
      if (seq == last) {
        pause();
        if (spins % 4096 == 0) std::this_thread::yield();  // a long serial stretch, or preempted
        continue;
      }
      std::size_t t = 0;
      while (claim(seq, t)) {
        call_(fn_, t);
        done_.fetch_add(1, std::memory_order_release);
      }
      last = seq;
      spins = 1;
    }
  }

 private:
  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  bool claim(std::uint64_t seq, std::size_t& t) {
    std::uint64_t s = job_.load(std::memory_order_acquire);
    do {
      if ((s >> 32) != seq || (s & 0xffff) >= ((s >> 16) & 0xffff)) return false;
    } while (!job_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel,
                                         std::memory_order_acquire));
    t = static_cast<std::size_t>(s & 0xffff);
    return true;
  }
  // the current job (written by the master before it publishes the job, read by a helper only
  // between a successful claim and its done_ increment)
  void (*call_)(void*, std::size_t) = nullptr;
  void* fn_ = nullptr;
  std::uint64_t seq_ = 0;
  std::atomic<std::uint64_t> job_{0};
  std::atomic<std::size_t> done_{0};
  std::atomic<bool> stop_{false};
};

/// Column j (position p of its panel) of tridiagonalize_blocked once it has its panel updates:
/// d[j], the reflector (e[j], τ_j; v_j[j+2..n) stays in the column) and the panel's v_p (zero up to
/// j, then 1 and the reflector) in V's row p. Shared by the serial and the team column loops.
template <class T>
void reduce_column(std::size_t n, T* a, T* d, T* e, T* tau, T* V, std::size_t j, std::size_t p) {
  T* col = a + j * n;
  d[j] = col[j];
  e[j] = householder(n - j - 1, col + j + 1, tau[j]);
  T* v = &V[p * n];
  std::fill(v, v + j + 1, T(0));
  std::copy(col + j + 1, col + n, v + j + 1);
}

/// Trailing sizes from which tridiagonalize_team splits a column's work into strips.
inline constexpr std::size_t team_min_m = 128;

/// tridiagonalize_blocked's multi-thread path (th ≥ 2 threads), in one pool job: the calling
/// thread (or the worker that starts first) runs the column loop as the team's master, the other
/// threads help. Each column of ≥ team_min_m trailing rows is three jobs: (A) the two parts of the
/// matrix–vector product (symv_cut, symv_part; one task when it is not split) and shares of the
/// panel's dot products Wᵀv, Vᵀv; then over th row strips of the trailing rows (multiples of 8 rows
/// from j+1): (B) the strip's y = yy + ex (second part), y −= V(Wᵀv) + W(Vᵀv) and w = τy; (C) after
/// the serial dot for α, the strip's w += αv
/// and the next column's panel updates (the scalar w[j+1] it needs computed ahead by the master,
/// as the same operation). The trailing update's 6-row chunks are a job too, in ≈ 8·th tasks of
/// consecutive chunks (one claim per task: a claim crosses cores). Every element gets
/// the serial path's operations in its order, so the results are bitwise the same.
template <class T>
void tridiagonalize_team(std::size_t n, T* a, T* d, T* e, T* tau, T* V, T* W, T* P, T* yy,
                         T* ex, std::size_t th) {
  constexpr std::size_t NB = 32;
  spin_team team;
  auto master = [&] {
    T t1[NB], t2[NB];
    const T* brow[2 * NB];
    bool ready = false;  // the column got its panel updates in the previous column's job C
    for (std::size_t k0 = 0; k0 + 1 < n; k0 += NB) {
      const std::size_t k1 = std::min(k0 + NB, n - 1), np = k1 - k0;
      for (std::size_t p = 0; p < np; ++p) {
        const std::size_t j = k0 + p, m = n - j - 1;
        T* col = a + j * n;
        if (!ready)
          for (std::size_t q = 0; q < p; ++q)
            rank2_sub(n - j, W[q * n + j], &V[q * n + j], V[q * n + j], &W[q * n + j], col + j);
        ready = false;
        reduce_column(n, a, d, e, tau, V, j, p);
        T* v = &V[p * n];
        T* w = &W[p * n];
        std::fill(w, w + j + 1, T(0));  // w[j+1..n) is written by job B
        if (tau[j] == T(0)) {
          std::fill(w + j + 1, w + n, T(0));
          continue;
        }
        const std::size_t tasks = m >= team_min_m ? th : 1;
        auto rows = [&](std::size_t t) {
          const auto r = strip(m, tasks, t, 8);
          return std::pair<std::size_t, std::size_t>(j + 1 + r.first, j + 1 + r.second);
        };
        const std::size_t cut = symv_cut(n, j), tasks_a = cut < n ? 2 : 1;
        auto job_a = [&](std::size_t t) {
          if (t == 0) symv_part(n, a, v, j + 1, cut, yy, ex);
          else symv_part(n, a, v, cut, n, yy, ex);
          for (std::size_t q = p * t / tasks_a; q < p * (t + 1) / tasks_a; ++q) {
            t1[q] = dot(m, &W[q * n + j + 1], v + j + 1);
            t2[q] = dot(m, &V[q * n + j + 1], v + j + 1);
          }
        };
        team.run(tasks_a, job_a);
        const T tj = tau[j];
        auto job_b = [&](std::size_t t) {
          const auto [lo, hi] = rows(t);
          for (std::size_t i = std::max(lo, cut); i < hi; ++i) yy[i] = yy[i] + ex[i];
          for (std::size_t q = 0; q < p; ++q)
            rank2_sub(hi - lo, t1[q], &V[q * n + lo], t2[q], &W[q * n + lo], yy + lo);
          for (std::size_t i = lo; i < hi; ++i) w[i] = tj * yy[i];
        };
        team.run(tasks, job_b);
        const T alpha = -(T(0.5) * tau[j]) * dot(m, w + j + 1, v + j + 1);
        const bool next = p + 1 < np;
        const T wn = w[j + 1] + alpha * v[j + 1];  // w[j+1] after axpy
        T* const c1 = a + (j + 1) * n;
        auto job_c = [&](std::size_t t) {
          const auto [lo, hi] = rows(t);
          axpy(hi - lo, alpha, v + lo, w + lo);
          if (next)
            for (std::size_t q = 0; q <= p; ++q)
              rank2_sub(hi - lo, q < p ? W[q * n + j + 1] : wn, &V[q * n + lo], V[q * n + j + 1],
                        &W[q * n + lo], c1 + lo);
        };
        team.run(tasks, job_c);
        ready = next;
      }
      // trailing update a[c][r] −= Σ_q (w_q[c] v_q[r] + v_q[c] w_q[r]), r ≥ c ≥ k1
      const std::size_t kk = 2 * np;
      for (std::size_t q = 0; q < np; ++q) {
        brow[2 * q] = &V[q * n];
        brow[2 * q + 1] = &W[q * n];
      }
      T* const Pd = P;
      const T* const* br = brow;
      const std::size_t chunks = (n - k1 + 5) / 6, per = std::max<std::size_t>(1, chunks / (8 * th));
      auto trailing = [=](std::size_t t) {  // chunks [t·per, (t+1)·per): rows from c0, 6 a chunk
        for (std::size_t ch = t * per; ch < std::min(chunks, (t + 1) * per); ++ch) {
          const std::size_t c0 = k1 + 6 * ch;
          for (std::size_t c = c0; c < std::min(c0 + 6, n); ++c)  // the chunk's rows of P
            for (std::size_t q = 0; q < np; ++q) {
              Pd[c * kk + 2 * q] = W[q * n + c];
              Pd[c * kk + 2 * q + 1] = V[q * n + c];
            }
          gemm_rows<T, true>(
              std::min<std::size_t>(6, n - c0), n - c0, kk,
              [=](std::size_t i) { return Pd + (c0 + i) * kk; },
              [=](std::size_t q) { return br[q] + c0; },
              [=](std::size_t i) { return a + (c0 + i) * n + c0; });
        }
      };
      team.run((chunks + per - 1) / per, trailing);
    }
    d[n - 1] = a[(n - 1) * n + n - 1];
  };
  parallel_for(th, static_cast<int>(th), [&](std::size_t t) {
    if (t > 0) {
      team.help();
      return;
    }
    struct stopper {
      spin_team& s;
      ~stopper() { s.stop(); }
    } guard{team};
    master();
  });
}

/// Blocked Householder tridiagonalisation (LAPACK dsytrd/dlatrd, lower triangle in column-major
/// terms): the symmetric A (n×n row-major; only its upper triangle is read and written: row j from
/// the diagonal on is column j of the lower) is reduced to Qᵀ A Q = the tridiagonal with diagonal
/// d and off-diagonal e (e[j] couples j and j+1, e[n−1] = 0), Q = H_0 H_1 ⋯ H_{n−2},
/// H_j = I − τ_j v_j v_jᵀ, v_j zero before j+1, v_j[j+1] = 1 and v_j[j+2..n) stored in
/// a[j·n + j+2 .. n). Panels of NB columns: a column gets the panel's earlier rank-2 updates when
/// its turn comes (V Wᵀ + W Vᵀ), the matrix–vector product reads the trailing matrix as it was at
/// the panel's start (read only), and after the panel the trailing matrix gets the rank-2·NB
/// update as one matrix product (gemm_rows, 6 rows at a time from the diagonal on; the few
/// elements left of the diagonal it also writes are never read). With threads (threads_for) and
/// n ≥ symv_parallel_min_m: tridiagonalize_team (the columns' strips and the trailing update's
/// 6-row chunks as jobs of one team, bitwise the same results).
template <class T>
void tridiagonalize_blocked(std::size_t n, T* a, T* d, T* e, T* tau, std::vector<T>& scratch,
                            int threads = 1) {
  constexpr std::size_t NB = 32;
  if (scratch.size() < 4 * NB * n + 2 * n) scratch.resize(4 * NB * n + 2 * n);
  T* const V = scratch.data();   // the panel's v_q, rows of n
  T* const W = V + NB * n;       // and its w_q
  T* const P = W + NB * n;       // row c: (w_0[c], v_0[c], w_1[c], ...) for the trailing update
  T* const yy = P + 2 * NB * n;  // A₂₂·v
  T* const ex = yy + n;          // its second part's contributions from the first (symv_part)
  // the resolved thread count for the matrix–vector products (their size rule: symv_parallel_min_m)
  const std::size_t th_symv = threads_for(threads, parallel_min_work);
  // the team's helpers poll between jobs: no more of them than there are hardware threads
  const std::size_t th_team = std::min<std::size_t>(th_symv, std::size_t(hardware_threads()));
  if (th_team > 1 && n >= symv_parallel_min_m) {
    e[n - 1] = T(0);
    tau[n - 1] = T(0);
    tridiagonalize_team(n, a, d, e, tau, V, W, P, yy, ex, th_team);
    return;
  }
  T t1[NB], t2[NB];
  const T* brow[2 * NB];
  e[n - 1] = T(0);
  tau[n - 1] = T(0);
  for (std::size_t k0 = 0; k0 + 1 < n; k0 += NB) {
    const std::size_t k1 = std::min(k0 + NB, n - 1), np = k1 - k0;
    for (std::size_t p = 0; p < np; ++p) {
      const std::size_t j = k0 + p, m = n - j - 1;
      T* col = a + j * n;
      for (std::size_t q = 0; q < p; ++q)
        rank2_sub(n - j, W[q * n + j], &V[q * n + j], V[q * n + j], &W[q * n + j], col + j);
      reduce_column(n, a, d, e, tau, V, j, p);
      T* v = &V[p * n];
      T* w = &W[p * n];
      std::fill(w, w + n, T(0));
      if (tau[j] == T(0)) continue;
      // y = A₂₂ v over the trailing rows r > j (upper triangle: row r's dot and column axpy),
      // in the two parts of symv_cut from symv_split_min_m rows on (as two tasks with threads)
      const std::size_t cut = symv_cut(n, j);
      if (cut < n) {
        run_tasks(2, th_symv, [&](std::size_t t) {
          if (t == 0) symv_part(n, a, v, j + 1, cut, yy, ex);
          else symv_part(n, a, v, cut, n, yy, ex);
        });
        for (std::size_t i = cut; i < n; ++i) yy[i] = yy[i] + ex[i];
      } else {
        symv_part(n, a, v, j + 1, n, yy, ex);
      }
      // the panel's earlier updates: y −= V(Wᵀv) + W(Vᵀv)
      for (std::size_t q = 0; q < p; ++q) {
        t1[q] = dot(m, &W[q * n + j + 1], v + j + 1);
        t2[q] = dot(m, &V[q * n + j + 1], v + j + 1);
      }
      for (std::size_t q = 0; q < p; ++q)
        rank2_sub(m, t1[q], &V[q * n + j + 1], t2[q], &W[q * n + j + 1], yy + j + 1);
      // w = τy − ½τ(τyᵀv)v
      for (std::size_t i = j + 1; i < n; ++i) w[i] = tau[j] * yy[i];
      const T alpha = -(T(0.5) * tau[j]) * dot(m, w + j + 1, v + j + 1);
      axpy(m, alpha, v + j + 1, w + j + 1);
    }
    // trailing update a[c][r] −= Σ_q (w_q[c] v_q[r] + v_q[c] w_q[r]), r ≥ c ≥ k1
    const std::size_t kk = 2 * np;
    for (std::size_t q = 0; q < np; ++q) {
      brow[2 * q] = &V[q * n];
      brow[2 * q + 1] = &W[q * n];
    }
    for (std::size_t c = k1; c < n; ++c)
      for (std::size_t q = 0; q < np; ++q) {
        P[c * kk + 2 * q] = W[q * n + c];
        P[c * kk + 2 * q + 1] = V[q * n + c];
      }
    const T* Pd = P;
    const T* const* br = brow;
    const std::size_t chunks = (n - k1 + 5) / 6;
    const std::size_t th =
        threads_for(threads, 0.5 * double(n - k1) * double(n - k1) * double(kk));
    run_tasks(chunks, th, [=](std::size_t t) {  // chunk t: rows [c0, c0 + 6)
      const std::size_t c0 = k1 + 6 * t;
      gemm_rows<T, true>(
          std::min<std::size_t>(6, n - c0), n - c0, kk,
          [=](std::size_t i) { return Pd + (c0 + i) * kk; },
          [=](std::size_t q) { return br[q] + c0; },
          [=](std::size_t i) { return a + (c0 + i) * n + c0; });
    });
  }
  d[n - 1] = a[(n - 1) * n + n - 1];
}

/// out[c·n + r] = X[rs[r]·n + cs[c]] for the n×n X (rs, cs: row and column permutations, the
/// identity when null), in 32×32 tiles; with threads, rows of tiles as tasks.
template <class T>
void transpose(std::size_t n, const T* X, T* out, const std::size_t* rs, const std::size_t* cs,
               int threads = 1) {
  constexpr std::size_t TB = 32;
  run_tasks((n + TB - 1) / TB, threads_for(threads, 2.0 * double(n) * double(n)),
            [=](std::size_t t) {
              const std::size_t r0 = t * TB;
              for (std::size_t c0 = 0; c0 < n; c0 += TB)
                for (std::size_t c = c0; c < std::min(c0 + TB, n); ++c) {
                  T* o = out + c * n;
                  const std::size_t cc = cs ? cs[c] : c;
                  for (std::size_t r = r0; r < std::min(r0 + TB, n); ++r)
                    o[r] = X[(rs ? rs[r] : r) * n + cc];
                }
            });
}

/// The block reflector of k Householder vectors (rows of U, length m, row p zero before p):
/// H_0 ⋯ H_{k−1} = I − Uᵀ·Tm·U with Tm (k×k, row-major) upper triangular (LAPACK dlarft,
/// forward): Tm_pp = τ_p, Tm[0:p, p] = −τ_p·Tm[0:p, 0:p]·(U[0:p]·u_p).
template <class T>
void block_reflector(std::size_t k, std::size_t m, const T* U, const T* tau, T* Tm) {
  T tq[64];
  std::fill(Tm, Tm + k * k, T(0));
  for (std::size_t p = 0; p < k; ++p) {
    Tm[p * k + p] = tau[p];
    if (tau[p] == T(0)) continue;
    for (std::size_t q = 0; q < p; ++q) tq[q] = dot(m - p, U + q * m + p, U + p * m + p);
    for (std::size_t r = 0; r < p; ++r) {
      T acc = T(0);
      for (std::size_t q = r; q < p; ++q) acc += Tm[r * k + q] * tq[q];
      Tm[r * k + p] = -tau[p] * acc;
    }
  }
}

/// Rows u_p (p < k, length m) of the block of reflectors k0 .. k0+k−1 of tridiagonalize_blocked
/// (reflector j acts on entries j+1 .. n, m = n − k0 − 1): zero before p, 1 at p, then
/// v_j[j+2 .. n) read from tail(j) (m − p − 1 entries); UT (m rows of k) is their transpose.
template <class T, class Tail>
void reflector_block(std::size_t k0, std::size_t k, std::size_t m, Tail tail, T* U, T* UT) {
  for (std::size_t p = 0; p < k; ++p) {
    T* u = U + p * m;
    const T* v = tail(k0 + p);
    std::fill(u, u + p, T(0));
    u[p] = T(1);
    std::copy(v, v + (m - p - 1), u + p + 1);
  }
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t p = 0; p < k; ++p) UT[i * k + p] = U[p * m + i];
}

/// Q = H_0 H_1 ⋯ H_{n−2} of tridiagonalize_blocked kept as a product, for applying Q or Qᵀ to
/// vectors without forming Q (CMA-ES from eigen_dc_min_n on: B = Q·S is never formed, which saves
/// the back-transformation's ≈ n³ multiply–adds per decomposition for ≈ n² per sample).
/// Built from the packed reflectors (v_j[j+2 .. n) of reflector j = 0 .. n−2, one after the other:
/// packed_size(n) values) and τ_0 .. τ_{n−2}; held as compact-WY blocks of `block` reflectors,
/// H_{k0} ⋯ H_{k0+k−1} = I − Uᵀ·Tm·U (block_reflector), U and Uᵀ stored for both products.
template <class T>
class householder_product {
 public:
  static constexpr std::size_t block = 32;
  static std::size_t packed_size(std::size_t n) { return n >= 2 ? (n - 1) * (n - 2) / 2 : 0; }
  /// The packed reflectors of tridiagonalize_blocked's a (n×n, reflector j in a[j·n + j+2 .. n)).
  static void pack(std::size_t n, const T* a, T* packed) {
    for (std::size_t j = 0; j + 2 < n; ++j) packed = std::copy(a + j * n + j + 2, a + j * n + n, packed);
  }
  /// Q of n×n from packed_size(n) packed reflector entries and n − 1 values τ (n ≥ 1). All τ = 0:
  /// Q = I, and apply() leaves its input unchanged. With threads (threads_for), the blocks are
  /// built as tasks.
  void assign(std::size_t n, const T* packed, const T* tau, int threads = 1) {
    n_ = n;
    identity_ = std::all_of(tau, tau + (n >= 1 ? n - 1 : 0), [](T t) { return t == T(0); });
    const std::size_t nb = blocks();
    off_.assign(nb + 1, 0);
    std::vector<std::size_t> start(n >= 2 ? n - 1 : 0);
    for (std::size_t j = 0, o = 0; j + 1 < n; ++j) {
      start[j] = o;
      o += n - 2 - j;
    }
    for (std::size_t b = 0; b < nb; ++b) off_[b + 1] = off_[b] + rows(b) * len(b);
    U_.resize(off_[nb]);
    UT_.resize(off_[nb]);
    Tm_.assign(nb * block * block, T(0));
    TmT_.assign(nb * block * block, T(0));
    // block b's Tm costs ≈ block²/2 dot products of length m: as much as its U and Uᵀ copies ×8
    run_tasks(nb, threads_for(threads, 10.0 * double(n) * double(n)), [&](std::size_t b) {
      const std::size_t k = rows(b), m = len(b);
      T* U = U_.data() + off_[b];
      reflector_block(b * block, k, m, [&](std::size_t j) { return packed + start[j]; }, U,
                      UT_.data() + off_[b]);
      T* Tm = Tm_.data() + b * block * block;
      block_reflector(k, m, U, tau + b * block, Tm);
      T* TmT = TmT_.data() + b * block * block;
      for (std::size_t p = 0; p < k; ++p)
        for (std::size_t q = 0; q < k; ++q) TmT[q * k + p] = Tm[p * k + q];
    });
  }
  [[nodiscard]] std::size_t size() const { return n_; }
  [[nodiscard]] bool identity() const { return identity_; }
  /// y ← Q·y (transpose: Qᵀ·y) for the `count` vectors y_c = Y + c·ldy (length n): block by block
  /// (Q: the last first), y ← y − Uᵀ·(Tm·(U·y)) (Qᵀ: Tmᵀ) as three matrix products (gemm_rows)
  /// over all vectors at once. Each vector's result depends on it alone, so with threads
  /// (threads_for) the vectors are split among tasks and the results are bitwise the same.
  void apply(std::size_t count, T* Y, std::size_t ldy, bool transpose, int threads = 1) const {
    if (identity_ || count == 0 || n_ < 2) return;
    const std::size_t nb = blocks();
    const std::size_t th = threads_for(threads, 2.0 * double(count) * double(n_) * double(n_));
    const std::size_t tasks = std::min(th, count);
    run_tasks(tasks, th, [&](std::size_t t) {
      const auto range = strip(count, tasks, t, 1);
      const std::size_t R = range.second - range.first;
      if (R == 0) return;
      T* const Yr = Y + range.first * ldy;
      std::vector<T> W1(R * block), W2(R * block);
      T *w1 = W1.data(), *w2 = W2.data();
      for (std::size_t s = 0; s < nb; ++s) {
        const std::size_t b = transpose ? s : nb - 1 - s;
        const std::size_t k = rows(b), m = len(b), o = b * block + 1;
        const T* U = U_.data() + off_[b];
        const T* UT = UT_.data() + off_[b];
        const T* Tb = (transpose ? Tm_ : TmT_).data() + b * block * block;
        gemm_rows<T>(
            R, k, m, [=](std::size_t c) { return Yr + c * ldy + o; },
            [=](std::size_t i) { return UT + i * k; }, [=](std::size_t c) { return w1 + c * k; });
        gemm_rows<T>(
            R, k, k, [=](std::size_t c) { return w1 + c * k; },
            [=](std::size_t q) { return Tb + q * k; }, [=](std::size_t c) { return w2 + c * k; });
        gemm_rows<T, true>(
            R, m, k, [=](std::size_t c) { return w2 + c * k; },
            [=](std::size_t p) { return U + p * m; }, [=](std::size_t c) { return Yr + c * ldy + o; });
      }
    });
  }

 private:
  [[nodiscard]] std::size_t blocks() const { return n_ >= 2 ? (n_ - 2) / block + 1 : 0; }
  [[nodiscard]] std::size_t rows(std::size_t b) const {
    return std::min(block, n_ - 1 - b * block);
  }
  [[nodiscard]] std::size_t len(std::size_t b) const { return n_ - b * block - 1; }

  std::size_t n_ = 0;
  bool identity_ = true;
  std::vector<T> U_, UT_, Tm_, TmT_;  // per block: U (k rows of m), Uᵀ, Tm and Tmᵀ (k×k)
  std::vector<std::size_t> off_;       // block b's U and Uᵀ start at off_[b]
};

/// Q·s_r for Q = H_0 ⋯ H_{n−2} of tridiagonalize_blocked (reflectors in a, τ in tau) and the rows
/// s_r of Z: writes Q·s_r to row r of out (out may be a). Works on X = Sᵀ (X's columns ordered by
/// where the s_r's last non-zero entry is, descending) in the workspace X, applying the blocks of
/// KB reflectors from the last to the first as X ← X − Uᵀ·(Tm·(U·X)) (compact WY, three matrix
/// products); a block acting on entries ≥ k0+1 skips the columns still zero there (deflated
/// vectors of the divide and conquer). With threads (threads_for), each block's three products
/// are done in column strips of X as tasks (the columns are independent).
template <class T>
void back_transform_blocked(std::size_t n, const T* a, const T* tau, const T* Z, T* X, T* out,
                            std::vector<T>& scratch, int threads = 1) {
  constexpr std::size_t KB = 32;
  std::vector<std::size_t> hi(n), ord(n), pos(n);
  for (std::size_t r = 0; r < n; ++r) {
    std::size_t h = n;
    while (h > 0 && Z[r * n + h - 1] == T(0)) --h;
    hi[r] = h;
  }
  std::iota(ord.begin(), ord.end(), std::size_t(0));
  std::stable_sort(ord.begin(), ord.end(),
                   [&](std::size_t x, std::size_t y) { return hi[x] > hi[y]; });
  for (std::size_t c = 0; c < n; ++c) pos[ord[c]] = c;
  transpose(n, Z, X, ord.data(), nullptr, threads);  // X[i][c] = Z[ord[c]][i]
  if (scratch.size() < 4 * KB * n + KB * KB) scratch.resize(4 * KB * n + KB * KB);
  T* const U = scratch.data();  // k rows of m: the block's reflectors
  T* const UT = U + KB * n;     // m rows of k: their transpose
  T* const W1 = UT + KB * n;    // k rows of n: U·X, then Tm·(U·X)
  T* const W2 = W1 + KB * n;
  T* const Tm = W2 + KB * n;
  std::size_t active = 0;  // columns with an entry ≥ k0+1 (a prefix of the ordered columns)
  for (std::size_t b = n >= 2 ? (n - 2) / KB + 1 : 0; b-- > 0;) {
    const std::size_t k0 = b * KB, k1 = std::min(k0 + KB, n - 1), k = k1 - k0, m = n - k0 - 1;
    while (active < n && hi[ord[active]] > k0 + 1) ++active;
    if (active == 0) continue;
    reflector_block(k0, k, m, [=](std::size_t j) { return a + j * n + j + 2; }, U, UT);
    block_reflector(k, m, U, tau + k0, Tm);
    T* Xb = X + (k0 + 1) * n;
    const T *Ud = U, *UTd = UT, *Td = Tm;
    T *W1d = W1, *W2d = W2;
    // columns [lo, hi) of X: X ← X − Uᵀ·(Tm·(U·X))
    auto apply = [=](std::size_t lo, std::size_t hi) {
      gemm_rows<T>(
          k, hi - lo, m, [=](std::size_t p) { return Ud + p * m; },
          [=](std::size_t i) { return Xb + i * n + lo; },
          [=](std::size_t p) { return W1d + p * n + lo; });
      gemm_rows<T>(
          k, hi - lo, k, [=](std::size_t p) { return Td + p * k; },
          [=](std::size_t q) { return W1d + q * n + lo; },
          [=](std::size_t p) { return W2d + p * n + lo; });
      gemm_rows<T, true>(
          m, hi - lo, k, [=](std::size_t i) { return UTd + i * k; },
          [=](std::size_t p) { return W2d + p * n + lo; },
          [=](std::size_t i) { return Xb + i * n + lo; });
    };
    const std::size_t th = threads_for(threads, 2.0 * double(k) * double(m) * double(active));
    const std::size_t tasks = strip_count(active, th, 4 * width<T>);
    run_tasks(tasks, th, [&](std::size_t t) {
      const auto range = strip(active, tasks, t, 4 * width<T>);
      const std::size_t lo = range.first, hi = range.second;
      if (lo < hi) apply(lo, hi);
    });
  }
  transpose(n, X, out, nullptr, pos.data(), threads);  // out[r][i] = X[i][pos[r]]
}

/// The divide-and-conquer path of symmetric_eigen: tridiagonalize_blocked, tridiagonal_dc with
/// leaves of `leaf` rows, back_transform_blocked.
template <class T>
void eigen_dc(std::size_t n, std::span<const T> A, std::span<T> w, std::span<T> vt,
              std::size_t leaf, int threads = 1) {
  for (std::size_t i = 0; i < n * n; ++i)
    if (!std::isfinite(A[i]))
      throw std::runtime_error("symmetric_eigen: non-finite matrix entry at (" +
                               std::to_string(i / n) + ", " + std::to_string(i % n) + ")");
  dc_work<T>& dw = dc_workspace<T>(n);
  std::copy(A.begin(), A.end(), vt.begin());
  std::vector<T> e(n), tau(n);
  tridiagonalize_blocked(n, vt.data(), w.data(), e.data(), tau.data(), dw.scratch, threads);
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(w[i]) || !std::isfinite(e[i]))
      throw std::runtime_error("symmetric_eigen: non-finite tridiagonal entry at index " +
                               std::to_string(i) + " (matrix entries too large?)");
  tridiagonal_dc(n, w.data(), e.data(), dw.Z.get(), leaf, dw, threads);
  back_transform_blocked(n, vt.data(), tau.data(), dw.Z.get(), dw.G.get(), vt.data(), dw.scratch,
                         threads);
}

/// symmetric_eigen's choice of the solver: from n = eigen_dc_min_n on (measured break-even ≈ 300
/// on CMA-ES-like matrices) the blocked path (eigen_dc: tridiagonalize_blocked, divide and conquer
/// with leaves of eigen_dc_leaf rows, back_transform_blocked), below it tred2 + QL (so small
/// problems keep QL's exact results).
inline constexpr std::size_t eigen_auto = static_cast<std::size_t>(-1);
inline constexpr std::size_t eigen_dc_min_n = 400;
inline constexpr std::size_t eigen_dc_leaf = 32;

/// eigen_dc without the back-transformation: A = Q·S·diag(w)·Sᵀ·Qᵀ with w ascending, the rows
/// of st the eigenvectors of the tridiagonal (row k belongs to w[k]) and Q = H_0 ⋯ H_{n−2}
/// returned as packed reflectors (householder_product::packed_size(n) values) and τ (n − 1
/// values); apply Q with householder_product. w and st are bitwise eigen_dc's before its
/// back-transformation (Q·s_k equals eigen_dc's eigenvector k up to rounding). Same errors as
/// eigen_dc; n ≥ 2.
template <class T>
void eigen_dc_factored(std::size_t n, std::span<const T> A, std::span<T> w, std::span<T> st,
                       std::span<T> packed, std::span<T> tau, std::size_t leaf = eigen_dc_leaf,
                       int threads = 1) {
  if (n < 2 || A.size() != n * n || w.size() != n || st.size() != n * n ||
      packed.size() != householder_product<T>::packed_size(n) || tau.size() != n - 1)
    throw std::invalid_argument("eigen_dc_factored: sizes do not match n = " + std::to_string(n));
  for (std::size_t i = 0; i < n * n; ++i)
    if (!std::isfinite(A[i]))
      throw std::runtime_error("symmetric_eigen: non-finite matrix entry at (" +
                               std::to_string(i / n) + ", " + std::to_string(i % n) + ")");
  dc_work<T>& dw = dc_workspace<T>(n);
  T* const a = dw.Z.get();  // the reduction's matrix (tridiagonal_dc writes its vectors to st)
  std::copy(A.begin(), A.end(), a);
  std::vector<T> e(n), t(n);
  tridiagonalize_blocked(n, a, w.data(), e.data(), t.data(), dw.scratch, threads);
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(w[i]) || !std::isfinite(e[i]))
      throw std::runtime_error("symmetric_eigen: non-finite tridiagonal entry at index " +
                               std::to_string(i) + " (matrix entries too large?)");
  householder_product<T>::pack(n, a, packed.data());
  std::copy(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(n - 1), tau.begin());
  tridiagonal_dc(n, w.data(), e.data(), st.data(), leaf, dw, threads);
}

/// Eigen-decomposition of a symmetric n×n matrix A (row-major; only symmetry is assumed):
/// A = Vᵀ diag(w) V with w ascending and the ROWS of vt the orthonormal eigenvectors
/// (vt[k·n .. k·n+n) belongs to w[k]). dc_leaf = 0 or n ≤ dc_leaf: Householder reduction to
/// tridiagonal form (EISPACK tred2, as in JAMA), its reflectors accumulated, then the implicit QL
/// algorithm with Wilkinson-type shifts (tql2). Otherwise eigen_dc: the blocked tridiagonalisation,
/// Cuppen's divide and conquer with QL leaves of ≤ dc_leaf rows and the reflectors applied to its
/// eigenvectors in blocks. The default eigen_auto picks the latter from n = eigen_dc_min_n on. The
/// eigenvector matrix is stored transposed so every inner loop runs over contiguous memory. Both
/// paths are deterministic (fixed orders, same bits on every SIMD width); they differ from each
/// other in the last bits. Throws std::runtime_error for non-finite input (QL: no convergence in
/// 30·n iterations; D&C: a non-finite entry). `threads` (dphys::parallel_for's count; 1: the
/// calling thread only) parallelises the D&C path's kernels; the results are bitwise the same for
/// every thread count. The QL path is serial.
template <class T>
void symmetric_eigen(std::size_t n, std::span<const T> A, std::span<T> w, std::span<T> vt,
                     std::size_t dc_leaf = eigen_auto, int threads = 1) {
  if (dc_leaf == eigen_auto) dc_leaf = n >= eigen_dc_min_n ? eigen_dc_leaf : 0;
  if (A.size() != n * n || w.size() != n || vt.size() != n * n)
    throw std::invalid_argument("symmetric_eigen: sizes do not match n = " + std::to_string(n));
  if (n == 0) return;
  if (dc_leaf != 0 && n > dc_leaf) {
    eigen_dc(n, A, w, vt, dc_leaf, threads);
    return;
  }
  // V[r][c] of JAMA is vt[c*n + r].
  auto V = [&](std::size_t r, std::size_t c) -> T& { return vt[c * n + r]; };
  std::copy(A.begin(), A.end(), vt.begin());  // A symmetric: Aᵀ = A
  std::vector<T> e(n, T(0));
  std::span<T> d = w;

  // --- tred2 ---
  // Step i's rank-2 update A ← A − u pᵀ − p uᵀ is deferred ("pending") and fused with step i−1's
  // matrix-vector product, so each column is swept once per step instead of twice. Every element
  // sees exactly the operations, in the order, of JAMA's tred2 (bitwise the same result).
  std::vector<T> pu(n), pp(n);  // pending step's u (= d) and p (= e)
  std::size_t pending = 0;      // the pending step's i (0: none)
  // applies the pending update to rows [j, last) of every column j < pending − 1 (row pending−1
  // and the zeroing of row `pending` were done eagerly)
  auto flush = [&](std::size_t last) {
    for (std::size_t j = 0; j + 1 < pending && j < last; ++j)
      rank2_sub(last - j, pu[j], pp.data() + j, pp[j], pu.data() + j, &vt[j * n + j]);
    pending = 0;
  };
  for (std::size_t j = 0; j < n; ++j) d[j] = V(n - 1, j);
  for (std::size_t i = n - 1; i > 0; --i) {
    T scale = T(0), h = T(0);
    for (std::size_t k = 0; k < i; ++k) scale += std::abs(d[k]);
    if (scale == T(0)) {
      if (pending) flush(i);
      e[i] = d[i - 1];
      for (std::size_t j = 0; j < i; ++j) {
        d[j] = V(i - 1, j);
        V(i, j) = T(0);
        V(j, i) = T(0);
      }
    } else {
      for (std::size_t k = 0; k < i; ++k) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      T f = d[i - 1];
      T g = std::sqrt(h);
      if (f > T(0)) g = -g;
      e[i] = scale * g;
      h = h - f * g;
      d[i - 1] = f - g;
      for (std::size_t j = 0; j < i; ++j) e[j] = T(0);
      for (std::size_t j = 0; j < i; ++j) {
        f = d[j];
        V(j, i) = f;
        // column j of V below the diagonal is row j of vt: contiguous in k
        T* colj = &vt[j * n];
        const std::size_t len = i - (j + 1);
        if (j + 1 < i) __builtin_prefetch(&vt[(j + 1) * n + j + 1]);  // the next column's start
        if (pending) {  // pending = i + 1: its rows j..i−1 of column j are still to be updated
          colj[j] -= (pu[j] * pp[j] + pp[j] * pu[j]);
          g = e[j] + colj[j] * f;
          g += rank2_dot_axpy(len, pu[j], pp.data() + j + 1, pp[j], pu.data() + j + 1, colj + j + 1,
                              d.data() + j + 1, f, e.data() + j + 1);
        } else {
          g = e[j] + colj[j] * f;
          g += dot_axpy(len, colj + j + 1, d.data() + j + 1, f, e.data() + j + 1);
        }
        e[j] = g;
      }
      pending = 0;
      f = T(0);
      for (std::size_t j = 0; j < i; ++j) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const T hh = f / (h + h);
      for (std::size_t j = 0; j < i; ++j) e[j] -= hh * d[j];
      // the rank-2 update of row i−1 (it is the next step's Householder vector) now; the rest later
      std::copy(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(i), pu.begin());
      std::copy(e.begin(), e.begin() + static_cast<std::ptrdiff_t>(i), pp.begin());
      for (std::size_t j = 0; j < i; ++j) {
        T& a = vt[j * n + (i - 1)];
        a -= (pu[j] * pp[i - 1] + pp[j] * pu[i - 1]);
        d[j] = a;
        V(i, j) = T(0);
      }
      pending = i;
    }
    d[i] = h;
  }
  if (pending) flush(0);
  // Accumulate the transformations: X ← P_i·(X ⊕ 1), P_i = I − u_i u_iᵀ/h_i, u_i = V[0..i][i+1],
  // h_i = d[i+1], for i = 0..n−2 — in blocks of KB reflectors (compact WY: P_{i1−1}⋯P_{i0} =
  // I − U·Tᵀ·Uᵀ), so each column of X is loaded once per block instead of twice per reflector.
  constexpr std::size_t KB = 16;
  std::vector<T> U, Tm, tau, wv(4 * KB), sv(4 * KB), tq(KB);
  U.reserve(KB * n);  // one allocation for all blocks
  for (std::size_t i0 = 0; i0 + 1 < n; i0 += KB) {
    const std::size_t i1 = std::min(i0 + KB, n - 1), k = i1 - i0, m = i1;
    U.resize(k * m);  // row p is read only over its length i0 + p + 1 (the rest is never read)
    tau.assign(k, T(0));
    for (std::size_t p = 0; p < k; ++p) {
      const std::size_t i = i0 + p;
      V(n - 1, i) = V(i, i);
      const T h = d[i + 1];
      tau[p] = h != T(0) ? T(1) / h : T(0);
      const T* col = &vt[(i + 1) * n];
      std::copy(col, col + i + 1, &U[p * m]);
    }
    for (std::size_t p = 0; p < k; ++p) {
      T* coli = &vt[(i0 + p) * n];
      std::fill(coli, coli + i0 + p, T(0));
      coli[i0 + p] = T(1);
    }
    std::fill(&vt[i1 * n], &vt[i1 * n] + i1, T(0));
    // T upper triangular: T_pp = τ_p, T[0:p, p] = −τ_p·T[0:p, 0:p]·(U[:, 0:p]ᵀ u_p)
    Tm.assign(k * k, T(0));
    for (std::size_t p = 0; p < k; ++p) {
      Tm[p * k + p] = tau[p];
      if (tau[p] == T(0)) continue;
      for (std::size_t q = 0; q < p; ++q) tq[q] = dot(i0 + q + 1, &U[q * m], &U[p * m]);
      for (std::size_t r = 0; r < p; ++r) {
        T acc = T(0);
        for (std::size_t q = r; q < p; ++q) acc += Tm[r * k + q] * tq[q];
        Tm[r * k + p] = -tau[p] * acc;
      }
    }
    // X ← X − U·(Tᵀ·(Uᵀ X)), CB columns of X (rows of vt) at a time so each reflector is loaded
    // once per CB columns; every column gets dot's and axpy's exact operations.
    constexpr std::size_t CB = 4;
    std::size_t j = 0;
    auto apply = [&]<std::size_t R>(std::integral_constant<std::size_t, R>) {
      T* x[R];
      for (std::size_t c = 0; c < R; ++c) x[c] = &vt[(j + c) * n];
      T wc[R], a[R * KB];
      for (std::size_t p = 0; p < k; ++p) {
        dot_multi<R>(i0 + p + 1, &U[p * m], x, wc);
        for (std::size_t c = 0; c < R; ++c) wv[c * KB + p] = wc[c];
      }
      for (std::size_t c = 0; c < R; ++c)
        for (std::size_t q = 0; q < k; ++q) {
          T acc = T(0);
          for (std::size_t r = 0; r <= q; ++r) acc += Tm[r * k + q] * wv[c * KB + r];
          sv[c * KB + q] = acc;
        }
      for (std::size_t c = 0; c < R; ++c)
        for (std::size_t p = 0; p < k; ++p) a[c * k + p] = -sv[c * KB + p];
      axpy_rows<R>(i0 + 1, k, a, U.data(), m, x);
    };
    for (; j + CB <= m; j += CB) apply(std::integral_constant<std::size_t, CB>{});
    for (; j < m; ++j) apply(std::integral_constant<std::size_t, 1>{});
  }
  for (std::size_t j = 0; j < n; ++j) {
    d[j] = V(n - 1, j);
    V(n - 1, j) = T(0);
  }
  V(n - 1, n - 1) = T(1);
  e[0] = T(0);

  for (std::size_t i = 1; i < n; ++i) e[i - 1] = e[i];
  e[n - 1] = T(0);
  tridiagonal_ql(n, d.data(), e.data(), vt.data(), n);
}

}  // namespace dphys::search::detail::linalg

#undef DPHYS_LINALG_UNROLL
