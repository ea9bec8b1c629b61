// Tests for dphys/core/math.hpp and dphys/core/random.hpp: lane-type bit equality, accuracy against
// double, statistics, independence, avalanche and golden values.
//
// The statistical tests draw fixed numbers, so each is deterministic; the thresholds are set so
// that a generator producing truly independent uniform bits would fail a given check with
// probability below ~1e-6 (stated at each check). A failure therefore means a defect, not bad luck.
#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numbers>
#include <numeric>
#include <random>
#include <set>
#include <span>
#include <stdexcept>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>

#include <dphys/core/math.hpp>
#include <dphys/core/numpy_random.hpp>
#include <dphys/core/parallel.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/simd.hpp>

namespace {

using namespace dphys;

// ---------------------------------------------------------------------------------------------------------
// helpers

/// SplitMix64, only to pick test inputs.
struct test_rng {
  std::uint64_t s;
  std::uint64_t next() { return detail::rng::mix64(s += 0x9e3779b97f4a7c15ull); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(next() >> 32); }
  double unit() { return static_cast<double>(next() >> 11) * 0x1p-53; }
  float in(float lo, float hi) { return static_cast<float>(lo + (hi - lo) * unit()); }
};

std::uint32_t bits(float f) { return std::bit_cast<std::uint32_t>(f); }

template <simd::lane_type F>
std::uint32_t lane_bits(const F& v, std::size_t i) {
  return bits(simd::lane(v, i));
}
template <simd::lane_type F>
std::uint32_t lane_ubits(const simd::uint_t<F>& v, std::size_t i) {
  return bits(simd::lane(simd::as_float(v), i));
}
/// Loads lanes_v<F> 32-bit words (moved as float bit patterns: loads and stores never touch the
/// bits).
template <simd::lane_type F>
simd::uint_t<F> load_u(const std::uint32_t* p) {
  std::array<float, simd::lanes_v<F>> tmp{};
  std::memcpy(tmp.data(), p, sizeof tmp);
  return simd::as_uint(simd::load<F>(tmp.data()));
}

/// Pads v to a multiple of 48 lanes (covers widths 1, 3, 4, 8, 16) by repeating its head.
template <class T>
void pad48(std::vector<T>& v) {
  for (std::size_t i = 0; v.size() % 48 != 0; ++i) v.push_back(v[i]);
}

/// Error of r in units of the float ulp at the exact result ref (subnormal spacing below FLT_MIN).
double ulp_error(float r, double ref) {
  if (std::isnan(ref) || std::isnan(r)) return std::isnan(ref) && std::isnan(r) ? 0.0 : 1e30;
  if (std::isinf(ref) || std::isinf(r)) return static_cast<double>(r) == ref ? 0.0 : 1e30;
  int e = 0;
  std::frexp(ref, &e);
  const double ulp = std::ldexp(1.0, std::max(e - 24, -149));
  return std::fabs(static_cast<double>(r) - ref) / ulp;
}

/// sin and cos of 2πu in double with the quarter-turn reduction done exactly.
std::pair<double, double> sincos_2pi_ref(float u) {
  const double q = std::nearbyint(4.0 * u);
  const double t = 2.0 * std::numbers::pi * (static_cast<double>(u) - q / 4.0);
  const double s = std::sin(t), c = std::cos(t);
  switch (static_cast<int>(q) & 3) {
    case 0:
      return {s, c};
    case 1:
      return {c, -s};
    case 2:
      return {-s, -c};
    default:
      return {-c, s};
  }
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) mx += x[i], my += y[i];
  mx /= n, my /= n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

double chi_square(const std::vector<std::uint64_t>& counts, double expected) {
  double chi2 = 0;
  for (auto c : counts)
    chi2 += (static_cast<double>(c) - expected) * (static_cast<double>(c) - expected) / expected;
  return chi2;
}

using lane_list = std::tuple<simd::native,
#if XSIMD_WITH_AVX2
                             xsimd::batch<float, xsimd::avx2>,
#endif
#if XSIMD_WITH_SSE2
                             xsimd::batch<float, xsimd::sse2>,
#endif
                             simd::emulated<float, 3>, simd::emulated<float, 16>>;

constexpr float flt_min = std::numeric_limits<float>::min();
constexpr float flt_max = std::numeric_limits<float>::max();
constexpr float flt_den = std::numeric_limits<float>::denorm_min();
constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();

std::vector<float> math_inputs() {
  std::vector<float> v = {0.0f,
                          -0.0f,
                          flt_den,
                          -flt_den,
                          0x1.fffffcp-127f,
                          -0x1.fffffcp-127f,
                          flt_min,
                          -flt_min,
                          flt_max,
                          -flt_max,
                          inf,
                          -inf,
                          qnan,
                          -qnan,
                          std::numeric_limits<float>::signaling_NaN(),
                          std::bit_cast<float>(0x7fc12345u),
                          std::bit_cast<float>(0xffa00001u),
                          1.0f,
                          -1.0f,
                          0.5f,
                          0.25f,
                          0.75f,
                          0.125f,
                          0.875f,
                          0x1.fffffep-1f,
                          2.0f,
                          1e-30f,
                          1e30f,
                          88.72283172607422f,
                          88.72283935546875f,
                          88.8f,
                          89.0f,
                          -87.33654022216797f,
                          -87.33655548095703f,
                          -88.0f,
                          -103.0f,
                          -104.0f,
                          0.625f,
                          -0.625f,
                          0x1.3ffffep-1f,
                          9.01091385f,
                          -9.01091385f,
                          9.0109129f,
                          20.0f,
                          44.0f,
                          100.0f,
                          1e10f,
                          -1e10f,
                          4194304.0f,
                          8388608.0f,
                          16777216.0f,
                          -0.125f,
                          1.0f - 0x1p-24f,
                          0x1p-25f};
  test_rng rng{1};
  for (int i = 0; i < 4096; ++i)
    v.push_back(std::bit_cast<float>(rng.u32()));  // everything, NaNs included
  for (int i = 0; i < 4096; ++i) v.push_back(rng.in(-100.0f, 100.0f));
  for (int i = 0; i < 2048; ++i) v.push_back(rng.in(0.0f, 1.0f));
  for (int i = 0; i < 2048; ++i) v.push_back(std::exp2(rng.in(-140.0f, 127.0f)));
  for (int i = 0; i < 1024; ++i) v.push_back(rng.in(-1.0f, 1.0f) * 0x1p-20f);
  pad48(v);
  return v;
}

/// Records a lane mismatch (reported for the first few only, counted always).
struct mismatch_log {
  std::size_t count = 0;
  void operator()(const char* what, std::uint32_t in, std::uint32_t got, std::uint32_t want) {
    if (got == want) return;
    if (++count > 5) return;
    char msg[128];
    std::snprintf(msg, sizeof msg, "%s: input 0x%08x, lane 0x%08x, scalar 0x%08x", what, in, got,
                  want);
    FAIL_CHECK(msg);
  }
};

// ---------------------------------------------------------------------------------------------------------
// math: bitwise identity across lane types

TEST_CASE_TEMPLATE_DEFINE("math: every lane type equals the scalar function bit for bit", F,
                          math_lanes) {
  constexpr std::size_t L = simd::lanes_v<F>;
  const auto in = math_inputs();
  mismatch_log log;
  for (std::size_t o = 0; o < in.size(); o += L) {
    const F x = simd::load<F>(in.data() + o);
    const F e = math::exp(x), lg = math::log(x), th = math::tanh(x);
    F s, c;
    math::sincos_2pi(x, s, c);
    for (std::size_t l = 0; l < L; ++l) {
      const float xs = in[o + l];
      float ss = 0, cs = 0;
      math::sincos_2pi(xs, ss, cs);
      log("exp", bits(xs), lane_bits(e, l), bits(math::exp(xs)));
      log("log", bits(xs), lane_bits(lg, l), bits(math::log(xs)));
      log("tanh", bits(xs), lane_bits(th, l), bits(math::tanh(xs)));
      log("sin_2pi", bits(xs), lane_bits(s, l), bits(ss));
      log("cos_2pi", bits(xs), lane_bits(c, l), bits(cs));
    }
  }
  CHECK(log.count == 0);
}
TEST_CASE_TEMPLATE_APPLY(math_lanes, lane_list);

// ---------------------------------------------------------------------------------------------------------
// math: accuracy and special values (scalar; the lanes equal it)

TEST_CASE("math: accuracy within 2 ulp of the correctly rounded result") {
  // Sampled here; an exhaustive scan of every float in these ranges gave max 0.99 (exp), 0.83
  // (log), 1.33 (tanh), 1.08 (sin/cos 2π, normal results) ulp.
  test_rng rng{7};
  constexpr int n = 200000;
  double worst_exp = 0, worst_log = 0, worst_tanh = 0, worst_sin = 0, worst_cos = 0;
  for (int i = 0; i < n; ++i) {
    const float x = rng.in(-87.0f, 88.0f);
    worst_exp = std::max(worst_exp, ulp_error(math::exp(x), std::exp(static_cast<double>(x))));
    const float y = std::exp2(rng.in(-99.66f, 99.66f));  // (1e-30, 1e30)
    worst_log = std::max(worst_log, ulp_error(math::log(y), std::log(static_cast<double>(y))));
    const float t = rng.in(-20.0f, 20.0f);
    worst_tanh = std::max(worst_tanh, ulp_error(math::tanh(t), std::tanh(static_cast<double>(t))));
    const float u = i % 2 == 0 ? rng.in(0.0f, 1.0f) : std::exp2(rng.in(-126.0f, -1.0f));
    if (u >= 1.0f) continue;
    float s = 0, c = 0;
    math::sincos_2pi(u, s, c);
    const auto [rs, rc] = sincos_2pi_ref(u);
    worst_sin = std::max(worst_sin, ulp_error(s, rs));
    worst_cos = std::max(worst_cos, ulp_error(c, rc));
  }
  // every float of the tanh polynomial/exponential seam and of the smallest log arguments
  for (float x = 0.6f; x < 0.66f; x = std::nextafter(x, 1.0f))
    worst_tanh = std::max(worst_tanh, ulp_error(math::tanh(x), std::tanh(static_cast<double>(x))));
  for (float x = flt_den; x < 1e-37f; x = std::max(x * 1.001f, std::nextafter(x, 1.0f)))
    worst_log = std::max(worst_log, ulp_error(math::log(x), std::log(static_cast<double>(x))));
  MESSAGE("max ulp: exp " << worst_exp << ", log " << worst_log << ", tanh " << worst_tanh
                          << ", sin_2pi " << worst_sin << ", cos_2pi " << worst_cos);
  CHECK(worst_exp <= 2.0);
  CHECK(worst_log <= 2.0);
  CHECK(worst_tanh <= 2.0);
  CHECK(worst_sin <= 2.0);
  CHECK(worst_cos <= 2.0);
}

TEST_CASE("math: exp special values, overflow and flush to zero") {
  CHECK(math::exp(0.0f) == 1.0f);
  CHECK(math::exp(-0.0f) == 1.0f);
  CHECK(math::exp(inf) == inf);
  CHECK(bits(math::exp(-inf)) == bits(0.0f));
  CHECK(std::isnan(math::exp(qnan)));
  CHECK(bits(math::exp(std::bit_cast<float>(0x7fc12345u))) ==
        0x7fc12345u);  // NaN returned unchanged
  CHECK(math::exp(88.72283172607422f) ==
        doctest::Approx(3.40279e38f).epsilon(1e-5));  // largest finite
  CHECK(math::exp(88.72283935546875f) == inf);
  CHECK(math::exp(1000.0f) == inf);
  CHECK(math::exp(-87.33654022216797f) >= flt_min);  // last input with a normal result
  CHECK(bits(math::exp(-87.33655548095703f)) == bits(0.0f));
  CHECK(bits(math::exp(-1000.0f)) == bits(0.0f));
  // never subnormal, never negative: every float in [-104, -80]
  bool ok = true;
  for (float x = -104.0f; x < -80.0f; x = std::nextafter(x, 0.0f)) {
    const float y = math::exp(x);
    ok = ok && (y == 0.0f ? bits(y) == 0u : y >= flt_min);
  }
  CHECK(ok);
  // monotone on a dense sample
  float prev = 0.0f;
  bool mono = true;
  for (float x = -87.3f; x < 88.7f; x += 0.001f) {
    const float y = math::exp(x);
    mono = mono && y >= prev;
    prev = y;
  }
  CHECK(mono);
}

TEST_CASE("math: log special values") {
  CHECK(bits(math::log(1.0f)) == bits(0.0f));
  CHECK(math::log(0.0f) == -inf);
  CHECK(math::log(-0.0f) == -inf);
  CHECK(math::log(inf) == inf);
  CHECK(std::isnan(math::log(-1.0f)));
  CHECK(std::isnan(math::log(-flt_den)));
  CHECK(std::isnan(math::log(-inf)));
  CHECK(std::isnan(math::log(qnan)));
  CHECK(bits(math::log(std::bit_cast<float>(0x7fc12345u))) == 0x7fc12345u);
  CHECK(ulp_error(math::log(flt_den), std::log(static_cast<double>(flt_den))) <= 1.0);
  CHECK(ulp_error(math::log(flt_max), std::log(static_cast<double>(flt_max))) <= 1.0);
  CHECK(std::isfinite(math::log(0x1p-24f)));  // Box–Muller's smallest u1
}

TEST_CASE("math: tanh symmetry, zero and saturation") {
  CHECK(bits(math::tanh(0.0f)) == bits(0.0f));
  CHECK(bits(math::tanh(-0.0f)) == bits(-0.0f));
  CHECK(math::tanh(inf) == 1.0f);
  CHECK(math::tanh(-inf) == -1.0f);
  CHECK(std::isnan(math::tanh(qnan)));
  CHECK(math::tanh(9.01091385f) == 1.0f);
  CHECK(math::tanh(std::nextafter(9.01091385f, 0.0f)) < 1.0f);
  CHECK(math::tanh(-100.0f) == -1.0f);
  CHECK(math::tanh(flt_den) == flt_den);
  bool odd = true, bounded = true, sat = true;
  test_rng rng{3};
  for (int i = 0; i < 100000; ++i) {
    const float x = i % 2 ? rng.in(-30.0f, 30.0f) : std::bit_cast<float>(rng.u32() & 0x7fffffffu);
    if (std::isnan(x)) continue;
    odd = odd && bits(math::tanh(-x)) == (bits(math::tanh(x)) ^ 0x80000000u);
    bounded = bounded && std::fabs(math::tanh(x)) <= 1.0f;
    if (std::fabs(x) >= 9.01091385f) sat = sat && std::fabs(math::tanh(x)) == 1.0f;
  }
  CHECK(odd);
  CHECK(bounded);
  CHECK(sat);
}

TEST_CASE("math: sincos_2pi quarter turns are exact") {
  float s = 0, c = 0;
  math::sincos_2pi(0.0f, s, c);
  CHECK((bits(s) == bits(0.0f) && c == 1.0f));
  math::sincos_2pi(0.25f, s, c);
  CHECK((s == 1.0f && bits(c) == bits(-0.0f)));
  math::sincos_2pi(0.5f, s, c);
  CHECK((bits(s) == bits(-0.0f) && c == -1.0f));
  math::sincos_2pi(0.75f, s, c);
  CHECK((s == -1.0f && bits(c) == bits(0.0f)));
  math::sincos_2pi(0.125f, s, c);
  CHECK(s == doctest::Approx(std::numbers::sqrt2_v<float> / 2).epsilon(1e-7));
  CHECK(c == doctest::Approx(std::numbers::sqrt2_v<float> / 2).epsilon(1e-7));
  bool unit = true;
  for (float u = 0.0f; u < 1.0f; u += 0x1p-14f) {
    math::sincos_2pi(u, s, c);
    unit = unit && std::fabs(static_cast<double>(s) * s + static_cast<double>(c) * c - 1.0) < 3e-7;
  }
  CHECK(unit);
}

// ---------------------------------------------------------------------------------------------------------
// random: bitwise identity across lane types, bulk helpers

const std::array<random_key, 4> test_keys = {
    random_key::make(0, stream_id::genome_init, 0, 0),
    random_key::make(0xdeadbeefcafef00dull, stream_id::obs_noise, 123, 456),
    random_key::make(~0ull, stream_id::user, ~0u, ~0u),
    random_key::make(42, stream_id::es_noise, 7, 0)};

struct counters {
  std::vector<std::uint32_t> member, episode, index;
};
counters test_counters() {
  counters c;
  const std::uint32_t edge[] = {0u, 1u, 2u, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu};
  for (auto m : edge)
    for (auto e : edge)
      for (auto i : edge) c.member.push_back(m), c.episode.push_back(e), c.index.push_back(i);
  test_rng rng{11};
  for (int j = 0; j < 3000; ++j) {
    c.member.push_back(j % 3 ? rng.u32() : static_cast<std::uint32_t>(j));
    c.episode.push_back(j % 5 ? rng.u32() : 0u);
    c.index.push_back(j % 2 ? rng.u32() : static_cast<std::uint32_t>(j));
  }
  pad48(c.member), pad48(c.episode), pad48(c.index);
  return c;
}

TEST_CASE_TEMPLATE_DEFINE("random: every lane type equals the scalar draw bit for bit", F,
                          random_lanes) {
  using U = simd::uint_t<F>;
  constexpr std::size_t L = simd::lanes_v<F>;
  const auto ct = test_counters();
  mismatch_log log;
  for (const auto& key : test_keys) {
    for (std::size_t o = 0; o < ct.member.size(); o += L) {
      const U m = load_u<F>(ct.member.data() + o), e = load_u<F>(ct.episode.data() + o),
              i = load_u<F>(ct.index.data() + o);
      const U rb = random_bits<F>(key, m, e, i);
      const F un = uniform<F>(key, m, e, i), nr = normal<F>(key, m, e, i);
      const F b0 = simd::to_unit<F>(bernoulli<F>(key, m, e, i, 0.0f));
      const F b3 = simd::to_unit<F>(bernoulli<F>(key, m, e, i, 0.3f));
      const F b1 = simd::to_unit<F>(bernoulli<F>(key, m, e, i, 1.0f));
      const F r1 = randint<F>(key, m, e, i, 1), r5 = randint<F>(key, m, e, i, 5),
              r1000 = randint<F>(key, m, e, i, 1000), rmax = randint<F>(key, m, e, i, 1u << 24);
      for (std::size_t l = 0; l < L; ++l) {
        const std::uint32_t ms = ct.member[o + l], es = ct.episode[o + l], is = ct.index[o + l];
        log("random_bits", is, lane_ubits<F>(rb, l), random_bits<float>(key, ms, es, is));
        log("uniform", is, lane_bits(un, l), bits(uniform<float>(key, ms, es, is)));
        log("normal", is, lane_bits(nr, l), bits(normal<float>(key, ms, es, is)));
        log("bernoulli(0)", is, lane_bits(b0, l),
            bits(bernoulli<float>(key, ms, es, is, 0.0f) ? 1.0f : 0.0f));
        log("bernoulli(.3)", is, lane_bits(b3, l),
            bits(bernoulli<float>(key, ms, es, is, 0.3f) ? 1.0f : 0.0f));
        log("bernoulli(1)", is, lane_bits(b1, l),
            bits(bernoulli<float>(key, ms, es, is, 1.0f) ? 1.0f : 0.0f));
        log("randint(1)", is, lane_bits(r1, l), bits(randint<float>(key, ms, es, is, 1)));
        log("randint(5)", is, lane_bits(r5, l), bits(randint<float>(key, ms, es, is, 5)));
        log("randint(1000)", is, lane_bits(r1000, l), bits(randint<float>(key, ms, es, is, 1000)));
        log("randint(2^24)", is, lane_bits(rmax, l),
            bits(randint<float>(key, ms, es, is, 1u << 24)));
      }
    }
  }
  CHECK(log.count == 0);
}
TEST_CASE_TEMPLATE_APPLY(random_lanes, lane_list);

TEST_CASE(
    "random: fill_normal and fill_uniform equal the scalar loop for every length and offset") {
  const auto key = test_keys[1];
  for (std::size_t n : {0u, 1u, 3u, 15u, 16u, 17u, 33u, 100u, 1000u}) {
    for (std::uint32_t first : {0u, 5u, 0xfffffff9u}) {  // the last wraps past 2^32
      std::vector<float> a(n), b(n);
      fill_normal(key, 9, 2, a, first);
      fill_uniform(key, 9, 2, b, first);
      bool same = true;
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t idx = first + static_cast<std::uint32_t>(i);
        same = same && bits(a[i]) == bits(normal<float>(key, 9, 2, idx)) &&
               bits(b[i]) == bits(uniform<float>(key, 9, 2, idx));
      }
      CHECK_MESSAGE(same, "n = " << n << ", first_index = " << first);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// random: exact properties

TEST_CASE("random: ranges and exact definitions") {
  const auto key = test_keys[3];
  bool ok_uniform = true, ok_normal = true, ok_bern = true, ok_randint = true;
  for (std::uint32_t j = 0; j < 200000; ++j) {
    const std::uint32_t rb = random_bits<float>(key, j, 1, 2);
    const float u = uniform<float>(key, j, 1, 2);
    ok_uniform = ok_uniform && u >= 0.0f && u < 1.0f && u == static_cast<float>(rb >> 8) * 0x1p-24f;
    const float z = normal<float>(key, j, 1, 2);
    ok_normal = ok_normal && std::isfinite(z) && std::fabs(z) <= 5.7686f;
    ok_bern = ok_bern && bernoulli<float>(key, j, 1, 2, 0.3f) == (u < 0.3f) &&
              !bernoulli<float>(key, j, 1, 2, 0.0f) && bernoulli<float>(key, j, 1, 2, 1.0f) &&
              !bernoulli<float>(key, j, 1, 2, -1.0f);
    for (std::uint32_t n : {1u, 2u, 5u, 1000u, 12345u, (1u << 24) - 1, 1u << 24}) {
      const float r = randint<float>(key, j, 1, 2, n);
      const auto want = static_cast<std::uint32_t>((std::uint64_t{rb} * n) >> 32);
      ok_randint =
          ok_randint && r == static_cast<float>(want) && r < static_cast<float>(n) && r >= 0.0f;
    }
  }
  CHECK(ok_uniform);
  CHECK(ok_normal);
  CHECK(ok_bern);
  CHECK(ok_randint);
  // mulhi32 at its extremes
  CHECK(detail::rng::mulhi32<std::uint32_t>(0xffffffffu, 0xffffffffu) == 0xfffffffeu);
  CHECK(detail::rng::mulhi32<std::uint32_t>(0xffffffffu, 1u << 24) == 0xffffffu);
  CHECK(detail::rng::mulhi32<std::uint32_t>(0x80000000u, 3u) == 1u);
}

TEST_CASE_TEMPLATE("random: mulhi32 of every lane type is the high half of the 64-bit product", U,
                   xsimd::batch<std::uint32_t, xsimd::sse2>,  // 16-bit halves
                   xsimd::batch<std::uint32_t, xsimd::avx2>,  // even and odd VPMULUDQ
                   dphys::simd::uint_t<dphys::simd::native>,
                   dphys::simd::emulated<std::uint32_t, 5>) {
  constexpr std::size_t L = U::size;
  std::mt19937 gen(7);
  const std::array<std::uint32_t, 6> edge{0u, 1u, 0xffffu, 0x10000u, 0x80000000u, 0xffffffffu};
  std::size_t wrong = 0;
  for (int round = 0; round < 4000; ++round) {
    std::array<std::uint32_t, L> u{}, v{};  // lane-varying on both sides, edges mixed in
    for (std::size_t l = 0; l < L; ++l) {
      u[l] = round % 3 == 0 ? edge[(round + l) % edge.size()] : static_cast<std::uint32_t>(gen());
      v[l] = round % 5 == 0 ? edge[(round / 5 + 2 * l) % edge.size()]
                            : static_cast<std::uint32_t>(gen());
    }
    const auto make = [](const std::array<std::uint32_t, L>& a) {
      if constexpr (requires { U::load_unaligned(a.data()); }) {
        return U::load_unaligned(a.data());
      } else {
        U r;
        r.v = a;
        return r;
      }
    };
    const U hi = detail::rng::mulhi32(make(u), make(v));
    std::array<std::uint32_t, L> got{};
    if constexpr (requires { hi.store_unaligned(got.data()); })
      hi.store_unaligned(got.data());
    else
      got = hi.v;
    for (std::size_t l = 0; l < L; ++l) {
      const auto want = static_cast<std::uint32_t>((std::uint64_t{u[l]} * v[l]) >> 32);
      wrong += static_cast<std::size_t>(got[l] != want ||
                                        detail::rng::mulhi32<std::uint32_t>(u[l], v[l]) != want);
    }
  }
  CHECK(wrong == 0);
}

TEST_CASE(
    "random: golden values (a change of generator must fail here, see docs/reference/random.md)") {
  static_assert(random_key::make(0, stream_id::genome_init, 0, 0) ==
                random_key{0x0f4c7b56u, 0x748c7ed6u});
  static_assert(random_key::make(0xdeadbeefcafef00dull, stream_id::obs_noise, 123, 456) ==
                random_key{0x63a911ecu, 0xe64247a0u});
  const auto k1 = random_key::make(0, stream_id::genome_init, 0, 0);
  const auto k2 = random_key::make(0xdeadbeefcafef00dull, stream_id::obs_noise, 123, 456);
  const auto k3 = random_key::make(42, stream_id::user, 1000, 99);
  CHECK(random_bits<float>(k1, 0, 0, 0) == 0xaceb4359u);
  CHECK(random_bits<float>(k2, 17, 3, 1000000) == 0xd083a458u);
  CHECK(random_bits<float>(k3, 0xffffffffu, 0x80000000u, 5) == 0x66e691e4u);
  CHECK(bits(uniform<float>(k2, 17, 3, 1000000)) == 0x3f5083a4u);
  CHECK(bits(normal<float>(k1, 0, 0, 0)) == 0xbee2bbf2u);
  CHECK(bits(normal<float>(k2, 17, 3, 1000000)) == 0x3f56279cu);
  CHECK(bits(normal<float>(k3, 0xffffffffu, 0x80000000u, 5)) == 0xbeb0edb2u);
  CHECK(bits(randint<float>(k3, 0xffffffffu, 0x80000000u, 5, 1000)) == 0x43c88000u);
  // determinism: recomputation gives the same bits
  CHECK(random_bits<float>(k2, 17, 3, 1000000) == random_bits<float>(k2, 17, 3, 1000000));
  CHECK(bits(normal<float>(k2, 17, 3, 1000000)) == bits(normal<float>(k2, 17, 3, 1000000)));
}

// ---------------------------------------------------------------------------------------------------------
// random: statistics. n = 10^6 draws each.

constexpr std::size_t n_stat = 1000000;

TEST_CASE("random: uniform chi-square over 256 bins") {
  // χ²(255 df) lies in [161.65, 377.08] with probability 1 − 2·10^-6 (exact quantiles, Boost.Math);
  // too small a χ² (too even a spread) is as suspicious as too large.
  const auto key = random_key::make(2024, stream_id::evaluation, 3, 4);
  std::vector<float> u(n_stat);
  fill_uniform(key, 3, 1, u);  // index-varying
  std::vector<std::uint64_t> counts(256);
  for (float x : u) ++counts[static_cast<std::size_t>(x * 256.0f)];
  const double chi_index = chi_square(counts, n_stat / 256.0);
  std::fill(counts.begin(), counts.end(), 0);
  for (std::uint32_t j = 0; j < n_stat; ++j)
    ++counts[static_cast<std::size_t>(uniform<float>(key, j, 0, 0) * 256.0f)];
  const double chi_member = chi_square(counts, n_stat / 256.0);
  // pairs of successive draws along the index, 16 × 16 bins (the same 255-df bounds)
  std::fill(counts.begin(), counts.end(), 0);
  for (std::size_t j = 0; j + 1 < n_stat; j += 2)
    ++counts[static_cast<std::size_t>(u[j] * 16.0f) * 16 +
             static_cast<std::size_t>(u[j + 1] * 16.0f)];
  const double chi_pairs = chi_square(counts, (n_stat / 2) / 256.0);
  MESSAGE("chi2 (255 df): index-varying " << chi_index << ", member-varying " << chi_member
                                          << ", index pairs " << chi_pairs);
  CHECK(chi_pairs > 161.65);
  CHECK(chi_pairs < 377.08);
  CHECK(chi_index > 161.65);
  CHECK(chi_index < 377.08);
  CHECK(chi_member > 161.65);
  CHECK(chi_member < 377.08);
}

TEST_CASE("random: normal moments and Kolmogorov–Smirnov distance") {
  const auto key = random_key::make(77, stream_id::es_noise, 1, 0);
  std::vector<float> z(n_stat);
  fill_normal(key, 5, 0, z);
  double m1 = 0;
  for (float x : z) m1 += x;
  m1 /= n_stat;
  double m2 = 0, m3 = 0, m4 = 0;
  for (float x : z) {
    const double d = x - m1;
    m2 += d * d, m3 += d * d * d, m4 += d * d * d * d;
  }
  m2 /= n_stat, m3 /= n_stat, m4 /= n_stat;
  const double skew = m3 / std::pow(m2, 1.5), kurt = m4 / (m2 * m2) - 3.0;
  const double n = n_stat;
  MESSAGE("mean " << m1 << ", var " << m2 << ", skew " << skew << ", excess kurtosis " << kurt);
  // Standard errors of a normal sample: sqrt(1/n), sqrt(2/n), sqrt(6/n), sqrt(24/n). Each check is
  // at 5 SE: two-sided probability 5.7e-7 for a true normal (the Box–Muller truncation at 5.77σ
  // moves the kurtosis by ~1e-5, far below its SE of 4.9e-3).
  CHECK(std::fabs(m1) < 5 * std::sqrt(1 / n));
  CHECK(std::fabs(m2 - 1) < 5 * std::sqrt(2 / n));
  CHECK(std::fabs(skew) < 5 * std::sqrt(6 / n));
  CHECK(std::fabs(kurt) < 5 * std::sqrt(24 / n));
  // KS: by the Dvoretzky–Kiefer–Wolfowitz inequality (Massart's constant) P(D > λ/√n) <=
  // 2·exp(−2λ²) = 1e-6 for λ = 2.6934; 1e-5 is added for the 24-bit quantisation of the draws and
  // the 8e-9 truncated tail.
  std::sort(z.begin(), z.end());
  double d = 0;
  for (std::size_t i = 0; i < n_stat; ++i) {
    const double phi = 0.5 * std::erfc(-static_cast<double>(z[i]) / std::numbers::sqrt2);
    d = std::max({d, (i + 1) / n - phi, phi - i / n});
  }
  MESSAGE("KS distance " << d);
  CHECK(d < 2.6934 / std::sqrt(n) + 1e-5);
}

TEST_CASE("random: bernoulli frequency") {
  const auto key = random_key::make(5, stream_id::dropout_coin, 0, 9);
  for (float p : {0.3f, 0.5f, 0.01f}) {
    std::uint64_t hits = 0;
    for (std::uint32_t j = 0; j < n_stat; ++j)
      hits += bernoulli<float>(key, j % 1000, j / 1000, 7, p);
    const double q =
        std::ceil(static_cast<double>(p) * 0x1p24) * 0x1p-24;  // the exact success probability
    const double se = std::sqrt(n_stat * q * (1 - q));
    // 5 SE: two-sided false-failure probability 5.7e-7
    CHECK_MESSAGE(std::fabs(static_cast<double>(hits) - n_stat * q) < 5 * se,
                  "p = " << p << ", hits = " << hits);
  }
}

TEST_CASE("random: randint covers 0..n-1 and never returns n") {
  const auto key = random_key::make(6, stream_id::source_cells, 2, 0);
  for (std::uint32_t n : {1u, 5u, 64u, 1000u}) {
    // 50000 draws: P(some value of [0, 1000) missing) <= 1000·(1 − 1/1000)^50000 < 2e-19
    std::vector<std::uint64_t> counts(n);
    bool in_range = true;
    for (std::uint32_t j = 0; j < 50000; ++j) {
      const float r = randint<float>(key, j, 0, n, n);
      in_range = in_range && r >= 0.0f && r < static_cast<float>(n) && r == std::floor(r);
      if (in_range) ++counts[static_cast<std::size_t>(r)];
    }
    CHECK_MESSAGE(in_range, "n = " << n);
    CHECK_MESSAGE(std::count(counts.begin(), counts.end(), 0u) == 0, "n = " << n);
  }
  // frequencies for n = 1000: χ²(999 df) within [800.73, 1226.05], probability 1 − 2·10^-6
  std::vector<std::uint64_t> counts(1000);
  for (std::uint32_t j = 0; j < n_stat; ++j)
    ++counts[static_cast<std::size_t>(randint<float>(key, 1, j, 3, 1000))];
  const double chi = chi_square(counts, n_stat / 1000.0);
  MESSAGE("randint(1000) chi2 (999 df) " << chi);
  CHECK(chi > 800.73);
  CHECK(chi < 1226.05);
}

TEST_CASE("random: draws at adjacent counters are uncorrelated") {
  // For independent draws r ≈ N(0, 1/n); |r| < 5/√n fails with probability 5.7e-7 per check.
  constexpr std::uint32_t n = 100000;
  const double bound = 5.0 / std::sqrt(static_cast<double>(n));
  const std::uint64_t seed = 0x0123456789abcdefull;
  const auto k = random_key::make(seed, stream_id::obs_noise, 10, 20);
  struct pair_case {
    const char* what;
    random_key ka, kb;
    int word;   // counter word that walks: 0 member, 1 episode, 2 index
    bool step;  // the second draw has that word + 1 (else the same counter under key kb)
  };
  const pair_case cases[] = {
      {"adjacent members", k, k, 0, true},
      {"adjacent episodes", k, k, 1, true},
      {"adjacent indices", k, k, 2, true},
      {"adjacent generations", k, random_key::make(seed, stream_id::obs_noise, 11, 20), 0, false},
      {"adjacent steps", k, random_key::make(seed, stream_id::obs_noise, 10, 21), 0, false},
      {"adjacent streams", k, random_key::make(seed, stream_id::baseline_action, 10, 20), 0, false},
      {"adjacent user streams", random_key::make(seed, stream_id::user, 10, 20),
       random_key::make(seed, stream_id(static_cast<std::uint32_t>(stream_id::user) + 1), 10, 20),
       0, false},
      {"adjacent seeds", k, random_key::make(seed + 1, stream_id::obs_noise, 10, 20), 0, false},
  };
  for (const auto& c : cases) {
    std::vector<double> ua(n), ub(n), za(n), zb(n);
    for (std::uint32_t j = 0; j < n; ++j) {
      std::array<std::uint32_t, 3> a{3, 1, 7};
      a[c.word] = j;
      auto b = a;
      if (c.step) ++b[c.word];
      ua[j] = uniform<float>(c.ka, a[0], a[1], a[2]);
      ub[j] = uniform<float>(c.kb, b[0], b[1], b[2]);
      za[j] = normal<float>(c.ka, a[0], a[1], a[2]);
      zb[j] = normal<float>(c.kb, b[0], b[1], b[2]);
    }
    const double ru = pearson(ua, ub), rz = pearson(za, zb);
    CHECK_MESSAGE(std::fabs(ru) < bound, c.what << ": uniform r = " << ru);
    CHECK_MESSAGE(std::fabs(rz) < bound, c.what << ": normal r = " << rz);
  }
  // the three sub-counters at one counter (uniform vs the two uniforms inside normal), and the
  // square of a normal against the uniform at the same counter (a nonlinear dependence the linear r
  // would miss)
  std::vector<double> s0(n), s1(n), s2(n), u(n), z2(n);
  for (std::uint32_t j = 0; j < n; ++j) {
    const auto st = detail::rng::absorb<std::uint32_t>(k, j, 2, 3);
    s0[j] = detail::rng::squeeze(st, 0) * 0x1p-32;
    s1[j] = detail::rng::squeeze(st, 1) * 0x1p-32;
    s2[j] = detail::rng::squeeze(st, 2) * 0x1p-32;
    u[j] = uniform<float>(k, j, 2, 3);
    const double zz = normal<float>(k, j, 2, 3);
    z2[j] = zz * zz;
  }
  CHECK(std::fabs(pearson(s0, s1)) < bound);
  CHECK(std::fabs(pearson(s0, s2)) < bound);
  CHECK(std::fabs(pearson(s1, s2)) < bound);
  CHECK(std::fabs(pearson(u, z2)) < bound);
}

TEST_CASE(
    "random: avalanche — one flipped input bit flips each output bit with frequency in "
    "0.45..0.55") {
  // Inputs: seed (64 bits), stream, generation, step, member, episode, index (32 bits each) = 256
  // bits. Outputs: the 32 bits of each sub-counter 0, 1, 2 = 96 bits. T = 5000 trials per input
  // bit: the frequency has SE 0.00707, so [0.45, 0.55] is ±7.07 SE, false-failure
  // probability 1.5e-12 per cell, < 4e-8 over all 24576 cells.
  constexpr int trials = 5000;
  struct input {
    std::uint64_t seed;
    std::uint32_t w[6];  // stream, generation, step, member, episode, index
  };
  auto outputs = [](const input& in) {
    const auto key = random_key::make(in.seed, stream_id(in.w[0]), in.w[1], in.w[2]);
    const auto st = detail::rng::absorb<std::uint32_t>(key, in.w[3], in.w[4], in.w[5]);
    return std::array<std::uint32_t, 3>{detail::rng::squeeze(st, 0), detail::rng::squeeze(st, 1),
                                        detail::rng::squeeze(st, 2)};
  };
  std::vector<std::array<std::uint32_t, 96>> flips(256);
  test_rng rng{99};
  for (int t = 0; t < trials; ++t) {
    input base{rng.next(), {rng.u32(), rng.u32(), rng.u32(), rng.u32(), rng.u32(), rng.u32()}};
    const auto out0 = outputs(base);
    for (int b = 0; b < 256; ++b) {
      input in = base;
      if (b < 64)
        in.seed ^= std::uint64_t{1} << b;
      else
        in.w[(b - 64) / 32] ^= 1u << ((b - 64) % 32);
      const auto out1 = outputs(in);
      for (int o = 0; o < 96; ++o) flips[b][o] += ((out0[o / 32] ^ out1[o / 32]) >> (o % 32)) & 1u;
    }
  }
  double lo = 1, hi = 0;
  for (const auto& row : flips)
    for (auto f : row) {
      const double p = static_cast<double>(f) / trials;
      lo = std::min(lo, p), hi = std::max(hi, p);
    }
  MESSAGE("flip frequencies in [" << lo << ", " << hi << "]");
  CHECK(lo >= 0.45);
  CHECK(hi <= 0.55);
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// core/parallel.hpp: every index runs exactly once for any thread count, exceptions propagate,
// nested calls run serially, and the pool survives many jobs.

TEST_CASE("parallel_for: each index exactly once, any thread count, pool reused") {
  for (int threads : {1, 2, 3, 8}) {
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{1000}}) {
      std::vector<std::atomic<int>> hits(n);
      dphys::parallel_for(n, threads, [&](std::size_t i) { hits[i].fetch_add(1); });
      for (std::size_t i = 0; i < n; ++i) CHECK(hits[i].load() == 1);
    }
  }
  std::atomic<long> sum{0};
  for (int job = 0; job < 200; ++job)
    dphys::parallel_for(4, 2, [&](std::size_t i) { sum += static_cast<long>(i); });
  CHECK(sum.load() == 200 * 6);
}

TEST_CASE("parallel_for: the first exception is rethrown after all threads finish") {
  std::atomic<int> ran{0};
  CHECK_THROWS_WITH_AS(dphys::parallel_for(64, 2,
                                           [&](std::size_t i) {
                                             ran.fetch_add(1);
                                             if (i == 5) throw std::runtime_error("task 5 failed");
                                           }),
                       "task 5 failed", std::runtime_error);
  CHECK(ran.load() >= 6);
  CHECK(ran.load() <= 64);
  // The pool is still usable afterwards.
  std::atomic<int> after{0};
  dphys::parallel_for(10, 2, [&](std::size_t) { after.fetch_add(1); });
  CHECK(after.load() == 10);
}

// Jobs shorter than a worker's wake-up: workers join some late or not at all (a worker that has
// not started when the caller runs out of tasks skips the job); every task still runs exactly once.
TEST_CASE("parallel_for: back-to-back tiny jobs, workers joining late or not at all") {
  std::atomic<long> sum{0};
  for (int job = 0; job < 20000; ++job)
    dphys::parallel_for(3, 3, [&](std::size_t i) { sum += static_cast<long>(i) + 1; });
  CHECK(sum.load() == 20000L * 6);
}

TEST_CASE("parallel_for: nested calls run serially inside a task") {
  std::vector<std::atomic<int>> hits(16 * 16);
  dphys::parallel_for(16, 2, [&](std::size_t i) {
    dphys::parallel_for(16, 2, [&](std::size_t j) { hits[i * 16 + j].fetch_add(1); });
  });
  for (auto& h : hits) CHECK(h.load() == 1);
}

// ------------------------------------------------------------------------------------------------
// simd::min / max: every lane type follows the scalar convention (a < b ? a : b, a > b ? a : b:
// the second operand when unordered or both zero), bit for bit, on special values.

TEST_CASE_TEMPLATE("simd min/max/clamp match the scalar convention on NaN, signed zeros, infinities",
                   B, xsimd::batch<float, xsimd::sse2>, xsimd::batch<float, xsimd::avx2>,
                   dphys::simd::native, dphys::simd::emulated<float, 5>) {
  const float nan = std::numeric_limits<float>::quiet_NaN(),
              inf = std::numeric_limits<float>::infinity();
  const std::vector<float> v{nan, -inf, -1.5f, -0.0f, 0.0f, 1e-40f, 2.0f, inf};
  constexpr std::size_t L = dphys::simd::lanes_v<B>;
  for (float x : v)
    for (float y : v) {
      std::array<float, L> xs{}, ys{};
      for (std::size_t l = 0; l < L; ++l) {
        xs[l] = l % 2 ? y : x;  // both operand orders in one batch
        ys[l] = l % 2 ? x : y;
      }
      const B a = dphys::simd::load<B>(xs.data()), b = dphys::simd::load<B>(ys.data());
      const B mn = dphys::simd::min(a, b), mx = dphys::simd::max(a, b),
              cl = dphys::simd::clamp(a, B(-1.0f), B(1.0f));
      for (std::size_t l = 0; l < L; ++l) {
        CHECK(std::bit_cast<std::uint32_t>(dphys::simd::lane(mn, l)) ==
              std::bit_cast<std::uint32_t>(dphys::simd::min(xs[l], ys[l])));
        CHECK(std::bit_cast<std::uint32_t>(dphys::simd::lane(mx, l)) ==
              std::bit_cast<std::uint32_t>(dphys::simd::max(xs[l], ys[l])));
        CHECK(std::bit_cast<std::uint32_t>(dphys::simd::lane(cl, l)) ==
              std::bit_cast<std::uint32_t>(dphys::simd::clamp(xs[l], -1.0f, 1.0f)));
      }
    }
}

// simd::keep / clear / to_unit: the one-instruction forms equal select with a +0 operand bit for
// bit (signed zeros and NaN payloads included), for masks from comparisons and their logic.
TEST_CASE_TEMPLATE("simd keep/clear/to_unit equal select with +0, bit for bit", B, float,
                   xsimd::batch<float, xsimd::sse2>, xsimd::batch<float, xsimd::avx2>,
                   dphys::simd::native, dphys::simd::emulated<float, 5>) {
  namespace simd = dphys::simd;
  const float nan = std::numeric_limits<float>::quiet_NaN(),
              inf = std::numeric_limits<float>::infinity();
  const std::vector<float> v{nan, -nan, -inf, -1.5f, -0.0f, 0.0f, 1e-40f, 2.0f, inf};
  constexpr std::size_t L = simd::lanes_v<B>;
  const auto bits = [](float f) { return std::bit_cast<std::uint32_t>(f); };
  std::size_t kept = 0, cleared = 0;
  for (std::size_t start = 0; start < v.size(); ++start) {
    std::array<float, L> xs{}, ys{};
    for (std::size_t l = 0; l < L; ++l) {
      xs[l] = v[(start + l) % v.size()];
      ys[l] = v[(start + 3 * l + 1) % v.size()];
    }
    const B a = simd::load<B>(xs.data()), b = simd::load<B>(ys.data());
    for (int form = 0; form < 3; ++form) {
      const simd::mask_t<B> m = form == 0   ? a < b
                                : form == 1 ? !(a >= b)
                                            : (a == a) && (b > B(0.0f));
      const B k = simd::keep(m, a), c = simd::clear(m, a), u = simd::to_unit<B>(m),
              sk = simd::select(m, a, B(0.0f)), sc = simd::select(m, B(0.0f), a);
      for (std::size_t l = 0; l < L; ++l) {
        CHECK(bits(simd::lane(k, l)) == bits(simd::lane(sk, l)));
        CHECK(bits(simd::lane(c, l)) == bits(simd::lane(sc, l)));
        const bool on = bits(simd::lane(sk, l)) == bits(xs[l]) && bits(xs[l]) != 0u;
        kept += on;
        cleared += bits(simd::lane(c, l)) == 0u;
        CHECK(bits(simd::lane(u, l)) == bits(simd::lane(simd::select(m, B(1.0f), B(0.0f)), l)));
      }
    }
  }
  CHECK(kept > 0);  // both outcomes occurred
  CHECK(cleared > 0);
}

// ---- NumPy's default generator (core/numpy_random.hpp) ------------------------------------------
// Expected values printed by NumPy 1.24.2 (Debian 12's python3-numpy), e.g. for seed 12345:
//   g = np.random.default_rng(12345); g.bit_generator.random_raw();
//   g.integers(0, 2**32, dtype=np.uint32) (twice); g.integers(0, 31)

TEST_CASE("numpy pcg64: default_rng seeding, raw outputs, bounded draws and choice match NumPy") {
  CHECK(numpy::seed_sequence_state(12345, 4) ==
        std::vector<std::uint64_t>{13091511679009522556ull, 13538552136045918767ull,
                                   7269824232120749972ull, 4520223790601600371ull});
  struct golden {
    std::uint64_t seed, raw;
    std::uint32_t u1, u2;
    std::uint64_t below31;
  };
  for (const golden& g : {golden{12345, 4193609425186963869ull, 3387213022u, 1360466709u, 6},
                          golden{0, 11749869230777074271ull, 2195314465u, 1158725112u, 9},
                          golden{12346, 8734024592511967559ull, 3623151625u, 165597654u, 14},
                          golden{(1ull << 40) + 7, 15307346044642009514ull, 2617800309u,
                                 1096527305u, 0}}) {
    CAPTURE(g.seed);
    numpy::pcg64 rng(g.seed);
    CHECK(rng.next_uint64() == g.raw);
    CHECK(rng.next_uint32() == g.u1);  // the low half of a fresh 64-bit output
    CHECK(rng.next_uint32() == g.u2);  // then its buffered high half
    CHECK(rng.bounded(30) == g.below31);
  }
  numpy::pcg64 wide(12345);  // g.integers(0, 2**40): the 64-bit Lemire path
  CHECK(wide.bounded((1ull << 40) - 1) == 249958600114ull);
  CHECK(wide.bounded((1ull << 40) - 1) == 348279477705ull);
  CHECK(wide.bounded((1ull << 40) - 1) == 876712591924ull);

  const auto sum = [](const std::vector<std::int64_t>& v) {
    return std::accumulate(v.begin(), v.end(), std::int64_t{0});
  };
  // default_rng(7).choice(20000, 100, replace=False): Floyd's algorithm, then a shuffle.
  const auto floyd = numpy::pcg64(7).choice_without_replacement(20000, 100);
  REQUIRE(floyd.size() == 100);
  CHECK(std::vector<std::int64_t>(floyd.begin(), floyd.begin() + 5) ==
        std::vector<std::int64_t>{13617, 235, 19359, 1829, 19997});
  CHECK(sum(floyd) == 1076903);
  // default_rng(7).choice(20000, 500, replace=False): the tail-shuffle branch (500 > 20000 / 50).
  const auto tail = numpy::pcg64(7).choice_without_replacement(20000, 500);
  CHECK(std::vector<std::int64_t>(tail.begin(), tail.begin() + 5) ==
        std::vector<std::int64_t>{7349, 10231, 16198, 13269, 12921});
  CHECK(sum(tail) == 5185373);
  CHECK(std::set<std::int64_t>(tail.begin(), tail.end()).size() == 500);
  CHECK(numpy::pcg64(1).choice_without_replacement(5, 0).empty());
  CHECK_THROWS_AS((void)numpy::pcg64(1).choice_without_replacement(3, 4), std::invalid_argument);
}
