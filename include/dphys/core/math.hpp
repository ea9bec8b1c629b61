// dphys/core/math.hpp — exp, log, tanh and sincos_2pi written once on the lane type F (float, xsimd
// batches, simd::emulated), so a lane of a batch returns bit for bit what the float instantiation
// returns. No extension points.
//
// Contract: each function uses only IEEE-exact operations (+ − × ÷, compares, selects, bit casts,
// small-integer conversions), never std::exp or xsimd::exp (whose scalar and SIMD results differ).
// Bitwise equality across lane types requires -ffp-contract=off (a fused multiply-add would round
// differently); the dphys::dphys target sets it. Algorithms: Cephes-style (S. L. Moshier) range
// reduction and polynomials; accuracy, measured against the correctly rounded double result, is
// stated at each function and checked by tests/test_random_math.cpp.
#pragma once

#include <cstdint>
#include <limits>

#include <dphys/core/simd.hpp>

namespace dphys::math {

namespace detail {

/// Round to nearest integer, ties to even, for |x| < 2^22, by the 1.5·2^23 trick (exact IEEE
/// arithmetic, so identical in every lane type; unlike a rounding instruction it needs nothing from
/// the architecture).
template <simd::lane_type F>
F round_small(const F& x) {
  const F magic(12582912.0f);  // 1.5 · 2^23
  return (x + magic) - magic;
}

/// 2^k for integer-valued k in [-126, 127], built from the exponent bits.
template <simd::lane_type F>
F pow2i(const F& k) {
  return simd::as_float(simd::shift_left<23>(simd::to_uint(k + F(127.0f))));
}

/// The IEEE sign bit of x as an unsigned lane value.
template <simd::lane_type F>
simd::uint_t<F> sign_bit(const F& x) {
  using U = simd::uint_t<F>;
  return simd::as_uint(x) & U(0x80000000u);
}

}  // namespace detail

/// e^x. Accuracy: < 1 ulp (exhaustive check: max 0.99 ulp) on [-87.33, 88.72].
/// Overflow: x > 88.7228317 (the largest float whose exponential is finite) gives +inf; +inf gives
/// +inf. Underflow is flushed, never subnormal: x < -87.3365402 (just above ln FLT_MIN) and -inf
/// give +0, so every finite result is 0 or >= FLT_MIN and no subnormal arithmetic is ever
/// performed. NaN returns x unchanged.
template <simd::lane_type F>
F exp(const F& x) {
  constexpr float lo = -87.33654022216797f;  // smallest float with e^x >= FLT_MIN (to 37 ulp)
  constexpr float hi = 88.8f;  // above ln FLT_MAX: the scaling below then overflows to +inf
  // NaN compares false, so max(NaN, lo) = lo keeps the arithmetic tame; the NaN is restored at the
  // end.
  const F xc = simd::min(simd::max(x, F(lo)), F(hi));
  const F n = detail::round_small(xc * F(1.44269504088896341f));
  // x - n·ln2 in two pieces; n·0.693359375 is exact (9 × 8 significant bits) and so is the
  // subtraction.
  F r = xc - n * F(0.693359375f);
  r = r - n * F(-2.12194440e-4f);
  const F z = r * r;
  F p = F(1.9875691500e-4f);
  p = p * r + F(1.3981999507e-3f);
  p = p * r + F(8.3334519073e-3f);
  p = p * r + F(4.1665795894e-2f);
  p = p * r + F(1.6666665459e-1f);
  p = p * r + F(5.0000001201e-1f);
  p = p * z + r + F(1.0f);
  // 2^n = 2^a · 2^(n-a) with both factors normal (n is in [-126, 128]); only the last product
  // rounds.
  const F a = detail::round_small(n * F(0.5f));
  F y = (p * detail::pow2i(a)) * detail::pow2i(n - a);
  y = simd::clear(x < F(lo), y);
  return simd::select(x == x, y, x);
}

/// Natural logarithm. Accuracy: < 1 ulp (exhaustive check: max 0.83 ulp) for every positive finite
/// x, subnormals included. Special values: log(±0) = -inf, log(+inf) = +inf, log(x < 0) = NaN,
/// log(NaN) returns x unchanged.
template <simd::lane_type F>
F log(const F& x) {
  using U = simd::uint_t<F>;
  constexpr float inf = std::numeric_limits<float>::infinity();
  constexpr float nan = std::numeric_limits<float>::quiet_NaN();
  // Subnormals are scaled by 2^25 into the normal range first.
  const auto sub = x < F(std::numeric_limits<float>::min());
  const F xs = simd::select(sub, x * F(33554432.0f), x);
  const U bits = simd::as_uint(xs);
  // xs = m · 2^e with m in [0.5, 1)
  F e = simd::to_float(simd::shift_right<23>(bits)) - F(126.0f) -
        simd::keep(sub, F(25.0f));
  const F m = simd::as_float((bits & U(0x007fffffu)) | U(0x3f000000u));
  // fold m into [sqrt(1/2), sqrt(2)): t = m − 1 or 2m − 1, both exact
  const auto small = m < F(0.707106781186547524f);
  e = e - simd::to_unit<F>(small);
  const F t = simd::select(small, (m + m) - F(1.0f), m - F(1.0f));
  const F z = t * t;
  F p = F(7.0376836292e-2f);
  p = p * t + F(-1.1514610310e-1f);
  p = p * t + F(1.1676998740e-1f);
  p = p * t + F(-1.2420140846e-1f);
  p = p * t + F(1.4249322787e-1f);
  p = p * t + F(-1.6668057665e-1f);
  p = p * t + F(2.0000714765e-1f);
  p = p * t + F(-2.4999993993e-1f);
  p = p * t + F(3.3333331174e-1f);
  F y = p * t * z;
  y = y + e * F(-2.12194440e-4f);
  y = y - F(0.5f) * z;
  F r = t + y;
  r = r + e * F(0.693359375f);  // exact product: |e| <= 150
  r = simd::select(x == F(inf), x, r);
  r = simd::select(x == F(0.0f), F(-inf), r);
  r = simd::select(x < F(0.0f), F(nan), r);
  return simd::select(x == x, r, x);
}

/// Hyperbolic tangent. Accuracy: ≤ 2 ulp (exhaustive check on [-20, 20]: max 1.33 ulp, near |x| =
/// 0.63). Exactly odd (tanh(−x) = −tanh(x) bit for bit), tanh(±0) = ±0, and |tanh(x)| = 1 exactly
/// for |x| >= 9.01091385, the same threshold as the correctly rounded tanh. NaN propagates.
template <simd::lane_type F>
F tanh(const F& x) {
  const F ax = simd::abs(x);
  // |x| < 0.625: odd minimax polynomial
  const F z = ax * ax;
  F p = F(-5.70498872745e-3f);
  p = p * z + F(2.06390887954e-2f);
  p = p * z + F(-5.37397155531e-2f);
  p = p * z + F(1.33314422036e-1f);
  p = p * z + F(-3.33332819422e-1f);
  const F near0 = p * z * ax + ax;
  // otherwise 1 − 2/(e^{2|x|} + 1); e^{2|x|} = +inf for large |x| gives exactly 1
  const F far = F(1.0f) - F(2.0f) / (math::exp(ax + ax) + F(1.0f));
  const F r = simd::select(ax < F(0.625f), near0, far);
  return simd::as_float(simd::as_uint(r) | detail::sign_bit(x));
}

/// s = sin(2πu), c = cos(2πu), for u in [0, 1) (defined and lane-identical for every input,
/// accurate on [0, 1)). Accuracy: ≤ 2 ulp (exhaustive check on [0, 1): max 1.08 ulp for normal
/// results, 1.5 subnormal ulp for subnormal u), and exact at the quarter turns: (0, 1), (1, −0),
/// (−0, −1), (−1, 0) for u = 0, 1/4, 1/2, 3/4. The reduction u − q/4 is exact, so there is no loss
/// near the zeros.
template <simd::lane_type F>
void sincos_2pi(const F& u, F& s, F& c) {
  const F q = detail::round_small(u * F(4.0f));  // quadrant 0..4
  const F f = u - q * F(0.25f);                  // exact, in [-1/8, 1/8]
  // t = 2πf as t_hi + t_lo: Veltkamp split of f into 12-bit halves times a 12-bit 2π_hi, so t_hi is
  // exact
  const F g = f * F(4097.0f);
  const F f_hi = g - (g - f);
  const F f_lo = f - f_hi;
  const F t_hi = f_hi * F(6.283203125f);                           // 2π_hi = 3217/512
  const F t_lo = f_lo * F(6.283203125f) + f * F(-1.78178204e-5f);  // 2π − 2π_hi
  const F t = t_hi + t_lo;                                         // |t| <= π/4
  const F z = t * t;
  F ps = F(-1.9515295891e-4f);
  ps = ps * z + F(8.3321608736e-3f);
  ps = ps * z + F(-1.6666654611e-1f);
  const F sin_t = t_hi + (t_lo + ps * z * t);
  F pc = F(2.443315711809948e-5f);
  pc = pc * z + F(-1.388731625493765e-3f);
  pc = pc * z + F(4.166664568298827e-2f);
  const F hz = F(0.5f) * z;
  const F w = F(1.0f) - hz;
  const F cos_t =
      w + (((F(1.0f) - w) - hz) + pc * z * z);  // 1 − hz with its rounding error restored
  // quadrant q: (s, c) = (S, C), (C, −S), (−S, −C), (−C, S), (S, C) for q = 0..4
  const auto swap = simd::abs(q - F(2.0f)) == F(1.0f);
  const F s0 = simd::select(swap, cos_t, sin_t);
  const F c0 = simd::select(swap, sin_t, cos_t);
  s = simd::select(simd::abs(q - F(2.5f)) < F(1.0f), simd::neg(s0), s0);
  c = simd::select(simd::abs(q - F(1.5f)) < F(1.0f), simd::neg(c0), c0);
}

}  // namespace dphys::math
