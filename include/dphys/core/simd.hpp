// dphys/core/simd.hpp — the lane abstraction: a kernel written once on a lane type F runs as
// `float` (the scalar reference), as `xsimd::batch<float, Arch>` (native SIMD) and as
// `dphys::simd::emulated<float, N>` (any width, element-wise scalar operations; xsimd 8.1 has no
// emulated architecture). Extension point: specialise `lane_traits` for a new lane type.
//
// Contract: every operation here is exactly rounded IEEE arithmetic or a bit manipulation, so lane
// i of a batch computes bit for bit what the float instantiation computes (given -ffp-contract=off,
// which the dphys::dphys target sets). Branches in kernels become `select`.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include <xsimd/xsimd.hpp>

/// Forces a kernel step function into its caller (the rollout's episode loop), where its batches
/// stay in registers across calls; compilers otherwise decide by size, and a change elsewhere in
/// the caller can move a hot step out of line.
#if defined(__GNUC__) || defined(__clang__)
#define DPHYS_KERNEL_INLINE [[gnu::always_inline]] inline
#else
#define DPHYS_KERNEL_INLINE inline
#endif

namespace dphys::simd {

// ---------------------------------------------------------------------------------------------------------
// emulated<T, N>: N lanes held in an array; each operator applies the scalar operation to every
// element.
template <std::size_t N>
struct emulated_mask {
  std::array<bool, N> v{};
  friend emulated_mask operator&&(emulated_mask a, emulated_mask b) {
    return zip(a, b, [](bool x, bool y) { return x && y; });
  }
  friend emulated_mask operator||(emulated_mask a, emulated_mask b) {
    return zip(a, b, [](bool x, bool y) { return x || y; });
  }
  friend emulated_mask operator!(emulated_mask a) {
    for (auto& x : a.v) x = !x;
    return a;
  }
  friend bool operator==(const emulated_mask&, const emulated_mask&) = default;

 private:
  template <class Op>
  static emulated_mask zip(emulated_mask a, emulated_mask b, Op op) {
    for (std::size_t i = 0; i < N; ++i) a.v[i] = op(a.v[i], b.v[i]);
    return a;
  }
};

template <class T, std::size_t N>
struct emulated {
  using value_type = T;
  static constexpr std::size_t size = N;
  std::array<T, N> v{};

  emulated() = default;
  emulated(T x) { v.fill(x); }  // NOLINT(google-explicit-constructor): broadcast, like xsimd::batch

  template <class Op>
  static emulated map(const emulated& a, Op op) {
    emulated r;
    for (std::size_t i = 0; i < N; ++i) r.v[i] = op(a.v[i]);
    return r;
  }
  template <class Op>
  static emulated zip(const emulated& a, const emulated& b, Op op) {
    emulated r;
    for (std::size_t i = 0; i < N; ++i) r.v[i] = op(a.v[i], b.v[i]);
    return r;
  }
  template <class Op>
  static emulated_mask<N> cmp(const emulated& a, const emulated& b, Op op) {
    emulated_mask<N> r;
    for (std::size_t i = 0; i < N; ++i) r.v[i] = op(a.v[i], b.v[i]);
    return r;
  }

  friend emulated operator+(const emulated& a, const emulated& b) {
    return zip(a, b, std::plus<>{});
  }
  friend emulated operator-(const emulated& a, const emulated& b) {
    return zip(a, b, std::minus<>{});
  }
  friend emulated operator*(const emulated& a, const emulated& b) {
    return zip(a, b, std::multiplies<>{});
  }
  friend emulated operator/(const emulated& a, const emulated& b) {
    return zip(a, b, std::divides<>{});
  }
  friend emulated operator-(const emulated& a) {
    return map(a, [](T x) { return T(-x); });
  }
  friend emulated operator^(const emulated& a, const emulated& b) {
    return zip(a, b, std::bit_xor<>{});
  }
  friend emulated operator&(const emulated& a, const emulated& b) {
    return zip(a, b, std::bit_and<>{});
  }
  friend emulated operator|(const emulated& a, const emulated& b) {
    return zip(a, b, std::bit_or<>{});
  }
  friend emulated operator<<(const emulated& a, int s) {
    return map(a, [s](T x) { return T(x << s); });
  }
  friend emulated operator>>(const emulated& a, int s) {
    return map(a, [s](T x) { return T(x >> s); });
  }
  emulated& operator+=(const emulated& b) { return *this = *this + b; }
  emulated& operator-=(const emulated& b) { return *this = *this - b; }
  emulated& operator*=(const emulated& b) { return *this = *this * b; }
  emulated& operator/=(const emulated& b) { return *this = *this / b; }
  friend emulated_mask<N> operator<(const emulated& a, const emulated& b) {
    return cmp(a, b, std::less<>{});
  }
  friend emulated_mask<N> operator<=(const emulated& a, const emulated& b) {
    return cmp(a, b, std::less_equal<>{});
  }
  friend emulated_mask<N> operator>(const emulated& a, const emulated& b) {
    return cmp(a, b, std::greater<>{});
  }
  friend emulated_mask<N> operator>=(const emulated& a, const emulated& b) {
    return cmp(a, b, std::greater_equal<>{});
  }
  friend emulated_mask<N> operator==(const emulated& a, const emulated& b) {
    return cmp(a, b, std::equal_to<>{});
  }
  friend emulated_mask<N> operator!=(const emulated& a, const emulated& b) {
    return cmp(a, b, std::not_equal_to<>{});
  }
};

// ---------------------------------------------------------------------------------------------------------
// lane_traits<F>: the mask type, the matching 32-bit unsigned lane type and the lane count of F.
template <class F>
struct lane_traits;

template <>
struct lane_traits<float> {
  using value_type = float;
  using mask_type = bool;
  using uint_type = std::uint32_t;
  static constexpr std::size_t size = 1;
  static constexpr std::string_view name() { return "scalar"; }
};

template <class Arch>
struct lane_traits<xsimd::batch<float, Arch>> {
  using value_type = float;
  using mask_type = xsimd::batch_bool<float, Arch>;
  using uint_type = xsimd::batch<std::uint32_t, Arch>;
  static constexpr std::size_t size = xsimd::batch<float, Arch>::size;
  static constexpr std::string_view name() { return Arch::name(); }
};

template <std::size_t N>
struct lane_traits<emulated<float, N>> {
  using value_type = float;
  using mask_type = emulated_mask<N>;
  using uint_type = emulated<std::uint32_t, N>;
  static constexpr std::size_t size = N;
  static constexpr std::string_view name() { return "emulated"; }
};

template <class F>
using mask_t = typename lane_traits<F>::mask_type;
template <class F>
using uint_t = typename lane_traits<F>::uint_type;
template <class F>
inline constexpr std::size_t lanes_v = lane_traits<F>::size;
/// How a mask is kept in memory: the mask type itself, except float's bool, kept as one byte (so a
/// std::vector of masks is a plain array, not std::vector<bool>). Converts to mask_t<F> implicitly.
template <class F>
using mask_store_t =
    std::conditional_t<std::is_same_v<mask_t<F>, bool>, std::uint8_t, mask_t<F>>;

/// A lane type: float-valued lanes with a known width, mask and unsigned companion.
template <class F>
concept lane_type = requires {
  typename lane_traits<F>::mask_type;
  typename lane_traits<F>::uint_type;
}
&&std::same_as<typename lane_traits<F>::value_type, float>;

/// The widest float batch of the compile-time target (xsimd::default_arch), i.e. the native fast
/// path.
using native = xsimd::batch<float, xsimd::default_arch>;
/// true when the build has a real SIMD architecture (not the scalar fallback).
inline constexpr bool has_native_simd = xsimd::batch<float, xsimd::default_arch>::size > 1;

// ---------------------------------------------------------------------------------------------------------
// Scalar definitions. min/max follow the x86 SIMD convention (second operand when unordered).
inline float select(bool m, float a, float b) { return m ? a : b; }
inline std::uint32_t select(bool m, std::uint32_t a, std::uint32_t b) { return m ? a : b; }
inline float min(float a, float b) { return a < b ? a : b; }
inline float max(float a, float b) { return a > b ? a : b; }
inline float abs(float a) { return std::fabs(a); }
inline float floor(float a) { return std::floor(a); }
inline float nearbyint(float a) { return std::nearbyint(a); }  // default rounding: half to even
inline float sqrt(float a) { return std::sqrt(a); }
inline bool any(bool m) { return m; }
inline bool all(bool m) { return m; }
inline float as_float(std::uint32_t u) { return std::bit_cast<float>(u); }
inline std::uint32_t as_uint(float f) { return std::bit_cast<std::uint32_t>(f); }
/// float -> uint32, truncating; defined for 0 <= f < 2^31.
inline std::uint32_t to_uint(float f) {
  return static_cast<std::uint32_t>(static_cast<std::int32_t>(f));
}
/// uint32 -> float; exact for u < 2^24, correctly rounded below 2^31.
inline float to_float(std::uint32_t u) { return static_cast<float>(static_cast<std::int32_t>(u)); }
inline float load(const float* p, std::type_identity<float>) { return *p; }
inline void store(float* p, float v) { *p = v; }
inline float lane(float v, std::size_t) { return v; }

// ---------------------------------------------------------------------------------------------------------
// xsimd definitions.
template <class A>
using fbatch = xsimd::batch<float, A>;
template <class A>
using ubatch = xsimd::batch<std::uint32_t, A>;

template <class A>
fbatch<A> select(const xsimd::batch_bool<float, A>& m, const fbatch<A>& a, const fbatch<A>& b) {
  return xsimd::select(m, a, b);
}
template <class A>
ubatch<A> select(const xsimd::batch_bool<float, A>& m, const ubatch<A>& a, const ubatch<A>& b) {
  // a blend moves bits without arithmetic, so selecting on the float view is exact
  return xsimd::bitwise_cast<ubatch<A>>(
      xsimd::select(m, xsimd::bitwise_cast<fbatch<A>>(a), xsimd::bitwise_cast<fbatch<A>>(b)));
}
namespace detail {
// x86 MINPS/MAXPS return the second operand when the operands are unordered or both zero, i.e.
// exactly a < b ? a : b and a > b ? a : b: one instruction instead of a compare and a blend.
#if defined(__SSE__) || defined(__x86_64__)
inline __m128 x86_min(__m128 a, __m128 b) { return _mm_min_ps(a, b); }
inline __m128 x86_max(__m128 a, __m128 b) { return _mm_max_ps(a, b); }
#endif
#if defined(__AVX__)
inline __m256 x86_min(__m256 a, __m256 b) { return _mm256_min_ps(a, b); }
inline __m256 x86_max(__m256 a, __m256 b) { return _mm256_max_ps(a, b); }
#endif
// Only declared for the register types of the instruction sets enabled; the deleted catch-alls make
// `requires { detail::x86_floor(r); }` false, rather than ill-formed, for every other type.
template <class R>
R x86_floor(R) = delete;
template <class R>
R x86_nearbyint(R) = delete;
template <class M, class R>
R x86_and(M, R) = delete;
template <class M, class R>
R x86_andnot(M, R) = delete;
// SSE and AVX masks are registers of all-ones or all-zero lanes: a AND m keeps a where m holds and
// gives +0 elsewhere, (NOT m) AND a the converse. (xsimd's select is a BLENDV, which reads only the
// sign bits, so with a zero operand GCC 12 emits a compare that widens the sign before the AND.)
#if defined(__SSE__) || defined(__x86_64__)
inline __m128 x86_and(__m128 m, __m128 a) { return _mm_and_ps(m, a); }
inline __m128 x86_andnot(__m128 m, __m128 a) { return _mm_andnot_ps(m, a); }
#endif
#if defined(__AVX__)
inline __m256 x86_and(__m256 m, __m256 a) { return _mm256_and_ps(m, a); }
inline __m256 x86_andnot(__m256 m, __m256 a) { return _mm256_andnot_ps(m, a); }
#endif
// floor(u·v / 2^32) per unsigned 32-bit lane (random.hpp's mulhi32): VPMULUDQ multiplies the even
// lanes into 64-bit products; the odd lanes, shifted down, make the other four; their high halves
// are blended back into place.
template <class R>
R x86_mulhi32(R, R) = delete;
#if defined(__AVX2__)
inline __m256i x86_mulhi32(__m256i u, __m256i v) {
  const __m256i even = _mm256_mul_epu32(u, v);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(u, 32), _mm256_srli_epi64(v, 32));
  return _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}
#endif
#if defined(__AVX512F__)
// The masked forms with an all-ones mask are the same instruction; unlike _mm512_min_ps they take a
// defined pass-through operand instead of _mm512_undefined_ps(), which GCC 12 reports as
// "used uninitialized" in code that inlines them (GCC bug 105593).
inline __m512 x86_min(__m512 a, __m512 b) { return _mm512_mask_min_ps(a, __mmask16(0xFFFF), a, b); }
inline __m512 x86_max(__m512 a, __m512 b) { return _mm512_mask_max_ps(a, __mmask16(0xFFFF), a, b); }
// VRNDSCALEPS with the rounding xsimd uses (nearest-even; toward −∞), through the masked form for
// the same reason.
inline __m512 x86_nearbyint(__m512 a) {
  return _mm512_mask_roundscale_ps(a, __mmask16(0xFFFF), a, _MM_FROUND_TO_NEAREST_INT);
}
inline __m512 x86_floor(__m512 a) {
  return _mm512_mask_roundscale_ps(a, __mmask16(0xFFFF), a, _MM_FROUND_TO_NEG_INF);
}
#endif
}  // namespace detail

template <class A>
fbatch<A> min(const fbatch<A>& a, const fbatch<A>& b) {
  if constexpr (requires { detail::x86_min(a.data, b.data); })
    return fbatch<A>(detail::x86_min(a.data, b.data));
  else
    return xsimd::select(a < b, a, b);
}
template <class A>
fbatch<A> max(const fbatch<A>& a, const fbatch<A>& b) {
  if constexpr (requires { detail::x86_max(a.data, b.data); })
    return fbatch<A>(detail::x86_max(a.data, b.data));
  else
    return xsimd::select(a > b, a, b);
}
template <class A>
fbatch<A> abs(const fbatch<A>& a) {
  return xsimd::abs(a);
}
template <class A>
fbatch<A> floor(const fbatch<A>& a) {
  if constexpr (requires { detail::x86_floor(a.data); })
    return fbatch<A>(detail::x86_floor(a.data));
  else
    return xsimd::floor(a);
}
template <class A>
fbatch<A> nearbyint(const fbatch<A>& a) {
  if constexpr (requires { detail::x86_nearbyint(a.data); })
    return fbatch<A>(detail::x86_nearbyint(a.data));
  else
    return xsimd::nearbyint(a);
}
template <class A>
fbatch<A> sqrt(const fbatch<A>& a) {
  return xsimd::sqrt(a);
}
template <class A>
bool any(const xsimd::batch_bool<float, A>& m) {
  return xsimd::any(m);
}
template <class A>
bool all(const xsimd::batch_bool<float, A>& m) {
  return xsimd::all(m);
}
template <class A>
fbatch<A> as_float(const ubatch<A>& u) {
  return xsimd::bitwise_cast<fbatch<A>>(u);
}
template <class A>
ubatch<A> as_uint(const fbatch<A>& f) {
  return xsimd::bitwise_cast<ubatch<A>>(f);
}
template <class A>
ubatch<A> to_uint(const fbatch<A>& f) {
  return xsimd::bitwise_cast<ubatch<A>>(xsimd::batch_cast<std::int32_t>(f));
}
template <class A>
fbatch<A> to_float(const ubatch<A>& u) {
  return xsimd::batch_cast<float>(xsimd::bitwise_cast<xsimd::batch<std::int32_t, A>>(u));
}
template <class A>
fbatch<A> load(const float* p, std::type_identity<fbatch<A>>) {
  return fbatch<A>::load_unaligned(p);
}
template <class A>
void store(float* p, const fbatch<A>& v) {
  v.store_unaligned(p);
}
template <class A>
float lane(const fbatch<A>& v, std::size_t i) {
  alignas(64) std::array<float, fbatch<A>::size> tmp;
  v.store_aligned(tmp.data());
  return tmp[i];
}

// ---------------------------------------------------------------------------------------------------------
// emulated definitions: element-wise application of the scalar definitions above.
template <std::size_t N>
using femu = emulated<float, N>;
template <std::size_t N>
using uemu = emulated<std::uint32_t, N>;

template <class T, std::size_t N>
emulated<T, N> select(const emulated_mask<N>& m, const emulated<T, N>& a, const emulated<T, N>& b) {
  emulated<T, N> r;
  for (std::size_t i = 0; i < N; ++i) r.v[i] = m.v[i] ? a.v[i] : b.v[i];
  return r;
}
template <std::size_t N>
femu<N> min(const femu<N>& a, const femu<N>& b) {
  return femu<N>::zip(a, b, [](float x, float y) { return simd::min(x, y); });
}
template <std::size_t N>
femu<N> max(const femu<N>& a, const femu<N>& b) {
  return femu<N>::zip(a, b, [](float x, float y) { return simd::max(x, y); });
}
template <std::size_t N>
femu<N> abs(const femu<N>& a) {
  return femu<N>::map(a, [](float x) { return simd::abs(x); });
}
template <std::size_t N>
femu<N> floor(const femu<N>& a) {
  return femu<N>::map(a, [](float x) { return simd::floor(x); });
}
template <std::size_t N>
femu<N> nearbyint(const femu<N>& a) {
  return femu<N>::map(a, [](float x) { return simd::nearbyint(x); });
}
template <std::size_t N>
femu<N> sqrt(const femu<N>& a) {
  return femu<N>::map(a, [](float x) { return simd::sqrt(x); });
}
template <std::size_t N>
bool any(const emulated_mask<N>& m) {
  for (bool b : m.v)
    if (b) return true;
  return false;
}
template <std::size_t N>
bool all(const emulated_mask<N>& m) {
  for (bool b : m.v)
    if (!b) return false;
  return true;
}
template <std::size_t N>
femu<N> as_float(const uemu<N>& u) {
  femu<N> r;
  for (std::size_t i = 0; i < N; ++i) r.v[i] = simd::as_float(u.v[i]);
  return r;
}
template <std::size_t N>
uemu<N> as_uint(const femu<N>& f) {
  uemu<N> r;
  for (std::size_t i = 0; i < N; ++i) r.v[i] = simd::as_uint(f.v[i]);
  return r;
}
template <std::size_t N>
uemu<N> to_uint(const femu<N>& f) {
  uemu<N> r;
  for (std::size_t i = 0; i < N; ++i) r.v[i] = simd::to_uint(f.v[i]);
  return r;
}
template <std::size_t N>
femu<N> to_float(const uemu<N>& u) {
  femu<N> r;
  for (std::size_t i = 0; i < N; ++i) r.v[i] = simd::to_float(u.v[i]);
  return r;
}
template <std::size_t N>
femu<N> load(const float* p, std::type_identity<femu<N>>) {
  femu<N> r;
  for (std::size_t i = 0; i < N; ++i) r.v[i] = p[i];
  return r;
}
template <std::size_t N>
void store(float* p, const femu<N>& v) {
  for (std::size_t i = 0; i < N; ++i) p[i] = v.v[i];
}
template <std::size_t N>
float lane(const femu<N>& v, std::size_t i) {
  return v.v[i];
}

// ---------------------------------------------------------------------------------------------------------
// Logical shifts of unsigned lanes by a constant K in [0, 31] (uint_t<F> for every lane type F).
template <int K>
std::uint32_t shift_left(std::uint32_t u) {
  return u << K;
}
template <int K>
std::uint32_t shift_right(std::uint32_t u) {
  return u >> K;
}
template <int K, class A>
ubatch<A> shift_left(const ubatch<A>& u) {
  return u << K;
}
template <int K, class A>
ubatch<A> shift_right(const ubatch<A>& u) {
  return u >> K;
}
template <int K, std::size_t N>
uemu<N> shift_left(const uemu<N>& u) {
  return u << K;
}
template <int K, std::size_t N>
uemu<N> shift_right(const uemu<N>& u) {
  return u >> K;
}

#if XSIMD_WITH_AVX512F
// AVX-512: GCC 12's avx512fintrin.h implements the unmasked _mm512_srli_epi32, _mm512_slli_epi32,
// _mm512_cvtepi32_ps, _mm512_cvttps_epi32 and _mm512_sqrt_ps (which xsimd 8.1 uses for uint32
// `>>`/`<<`, batch_cast int32<->float and sqrt) with an _mm512_undefined_* pass-through operand,
// which draws a false -Wuninitialized/-Wmaybe-uninitialized once inlined. The zero-masking forms
// with a full mask are the same instructions with the same results and no undefined operand; these
// more constrained overloads use them.
template <class A>
concept avx512_arch = std::derived_from<A, xsimd::avx512f>;
inline constexpr __mmask16 avx512_all_lanes = 0xffff;

template <int K, avx512_arch A>
ubatch<A> shift_left(const ubatch<A>& u) {
  return _mm512_maskz_slli_epi32(avx512_all_lanes, u, K);
}
template <int K, avx512_arch A>
ubatch<A> shift_right(const ubatch<A>& u) {
  return _mm512_maskz_srli_epi32(avx512_all_lanes, u, K);
}
template <avx512_arch A>
fbatch<A> sqrt(const fbatch<A>& a) {
  return _mm512_maskz_sqrt_ps(avx512_all_lanes, a);
}
template <avx512_arch A>
ubatch<A> to_uint(const fbatch<A>& f) {
  return _mm512_maskz_cvttps_epi32(avx512_all_lanes, f);
}
template <avx512_arch A>
fbatch<A> to_float(const ubatch<A>& u) {
  return _mm512_maskz_cvtepi32_ps(avx512_all_lanes, u);
}
#endif

// ---------------------------------------------------------------------------------------------------------
// Uniform front doors.

/// Loads lanes_v<F> consecutive floats.
template <lane_type F>
F load(const float* p) {
  return load(p, std::type_identity<F>{});
}

/// Loads lanes_v<F> consecutive 32-bit words (counter words, masks) as a uint_t<F>, bit for bit.
template <lane_type F>
uint_t<F> load_words(const std::uint32_t* p) {
  if constexpr (lanes_v<F> == 1) {
    return p[0];
  } else if constexpr (requires { uint_t<F>::load_unaligned(p); }) {
    return uint_t<F>::load_unaligned(p);
  } else {
    uint_t<F> r;
    for (std::size_t l = 0; l < lanes_v<F>; ++l) r.v[l] = p[l];
    return r;
  }
}

/// IEEE negation: flips the sign bit, of ±0 and NaN too. Prefer it to unary minus on xsimd batches
/// when the sign of a zero or NaN matters: xsimd 8.1 computes −x on AVX-512 batches as 0 − x, so
/// −(+0) = +0 there while the scalar −(+0) = −0.
template <lane_type F>
F neg(const F& x) {
  return as_float(as_uint(x) ^ uint_t<F>(0x80000000u));
}

/// a in the lanes where m holds, +0 elsewhere: select(m, a, F(0.0f)) bit for bit, in one AND on
/// SSE and AVX.
template <lane_type F>
F keep(const mask_t<F>& m, const F& a) {
  if constexpr (requires { detail::x86_and(m.data, a.data); })
    return F(detail::x86_and(m.data, a.data));
  else
    return select(m, a, F(0.0f));
}

/// +0 in the lanes where m holds, a elsewhere: select(m, F(0.0f), a) bit for bit, in one AND-NOT
/// on SSE and AVX.
template <lane_type F>
F clear(const mask_t<F>& m, const F& a) {
  if constexpr (requires { detail::x86_andnot(m.data, a.data); })
    return F(detail::x86_andnot(m.data, a.data));
  else
    return select(m, F(0.0f), a);
}

/// 1.0f in lanes where m holds, 0.0f elsewhere.
template <lane_type F>
F to_unit(const mask_t<F>& m) {
  return keep(m, F(1.0f));
}

/// Clamps x to [lo, hi] (lo <= hi).
template <lane_type F>
F clamp(const F& x, const F& lo, const F& hi) {
  return min(max(x, lo), hi);
}

/// The lane count and a printable name of F, for manifests and benchmark records.
template <lane_type F>
constexpr std::string_view arch_name() {
  return lane_traits<F>::name();
}

}  // namespace dphys::simd
