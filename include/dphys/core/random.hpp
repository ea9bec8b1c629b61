// dphys/core/random.hpp — counter-based random numbers: a draw is a pure function of (seed, stream,
// generation, step, member, episode, index), computed bit for bit alike in every lane type (float,
// xsimd, emulated). Extension point: stream_id — a new consumer takes a new stream (library: append
// an enumerator; user code: stream_id::user + k). Layout, guarantees and tests:
// docs/reference/random.md.
//
// Determinism: no generator state exists, so results do not depend on thread count, block size,
// SIMD width
//   or evaluation order. Changing any constant or operation here changes every run's results: the
//   golden values in tests/test_random_math.cpp are there to make such a change loud.
// SIMD: the per-lane hash uses only 32-bit add, multiply-low, xor and shifts (SSE2, AVX2, AVX-512
// all have
//   them); the lane-uniform part (random_key) is hashed once, in 64-bit scalar arithmetic.
// Thread safety: every function is pure.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include <dphys/core/math.hpp>
#include <dphys/core/simd.hpp>

namespace dphys {

/// Who draws. The numeric values are part of the reproducibility contract: never renumber or
/// reorder; append new library streams before `user`. Applications use
/// `stream_id(static_cast<std::uint32_t>(stream_id::user)
/// + k)`.
enum class stream_id : std::uint32_t {
  genome_init = 1,
  es_noise,
  source_cells,
  bad_assignment,
  deplete_coin,
  respawn_cells,
  dropout_coin,
  obs_noise,
  baseline_action,
  mvt,
  evaluation,
  topology,
  cart_pole_init,
  user = 0x10000
};

namespace detail::rng {

/// SplitMix64's finaliser (Stafford's variant 13): a bijection of 64-bit words with full avalanche.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace detail::rng

/// The lane-uniform part of a counter, (seed, stream, generation, step), hashed once into 64 bits.
struct random_key {
  std::uint32_t k0 = 0;  ///< low half of the hashed key: seeds chain A of the lane hash
  std::uint32_t k1 = 0;  ///< high half: seeds chain B

  static constexpr random_key make(std::uint64_t seed, stream_id s, std::uint32_t generation,
                                   std::uint32_t step) {
    using detail::rng::mix64;
    std::uint64_t h = mix64(seed + 0x9e3779b97f4a7c15ull);
    h = mix64(h ^ ((std::uint64_t{static_cast<std::uint32_t>(s)} << 32) | generation));
    h = mix64(h ^ (0x5851f42d00000000ull | step));
    return {static_cast<std::uint32_t>(h), static_cast<std::uint32_t>(h >> 32)};
  }
  friend constexpr bool operator==(const random_key&, const random_key&) = default;
};

namespace detail::rng {

// The per-lane hash. Two 32-bit chains, A (xor-absorb, mixer a) and B (add-absorb, mixer b), each
// absorb member, episode, index in that order; every mixer is a bijection with full avalanche (C.
// Wellons' hash prospector: [16 21f0aaad 15 735a2d97 15] and lowbias32 [16 7feb352d 15 846ca68b
// 16]). The 64-bit state makes whole-stream coincidences of two (member, episode) pairs a 2^-64
// event. The output for sub-counter `sub` is triple32(a ^ b ^ sub·0x9e3779b9) (triple32 = [17
// ed5ad4bb 11 ac4c1b51 15 31848bab 14]).
template <class U>
U mix_a(U x) {
  x = x ^ simd::shift_right<16>(x);
  x = x * U(0x21f0aaadu);
  x = x ^ simd::shift_right<15>(x);
  x = x * U(0x735a2d97u);
  x = x ^ simd::shift_right<15>(x);
  return x;
}
template <class U>
U mix_b(U x) {
  x = x ^ simd::shift_right<16>(x);
  x = x * U(0x7feb352du);
  x = x ^ simd::shift_right<15>(x);
  x = x * U(0x846ca68bu);
  x = x ^ simd::shift_right<16>(x);
  return x;
}
template <class U>
U triple32(U x) {
  x = x ^ simd::shift_right<17>(x);
  x = x * U(0xed5ad4bbu);
  x = x ^ simd::shift_right<11>(x);
  x = x * U(0xac4c1b51u);
  x = x ^ simd::shift_right<15>(x);
  x = x * U(0x31848babu);
  x = x ^ simd::shift_right<14>(x);
  return x;
}

template <class U>
struct state {
  U a, b;
};

/// The state after member and episode. A fill draws many indices at one (member, episode), so it
/// absorbs this prefix once, in scalar arithmetic, and only the index per draw.
template <class U>
DPHYS_KERNEL_INLINE state<U> absorb_prefix(const random_key& key, const U& member,
                                           const U& episode) {
  const U a = mix_a(U(key.k0) ^ member);
  const U b = mix_b(U(key.k1) + member);
  return {mix_a(a ^ episode), mix_b(b + episode)};
}

/// absorb(key, member, episode, index) == absorb_index(absorb_prefix(key, member, episode), index).
template <class U>
DPHYS_KERNEL_INLINE state<U> absorb_index(const state<U>& prefix, const U& index) {
  return {mix_a(prefix.a ^ index), mix_b(prefix.b + index)};
}

template <class U>
DPHYS_KERNEL_INLINE state<U> absorb(const random_key& key, const U& member, const U& episode,
                                    const U& index) {
  return absorb_index(absorb_prefix(key, member, episode), index);
}

/// Sub-counter 0: random_bits/uniform/bernoulli/randint; 1 and 2: the two uniforms of normal.
template <class U>
U squeeze(const state<U>& s, std::uint32_t sub) {
  return triple32(s.a ^ s.b ^ U(sub * 0x9e3779b9u));
}

/// floor(u·v / 2^32) for 32-bit lanes, exactly: one 64-bit product for a scalar, the even and odd
/// lanes' 64-bit products on AVX2, and elsewhere from 16-bit halves (no 64-bit lane arithmetic).
template <class U>
U mulhi32(const U& u, const U& v) {
  if constexpr (std::is_same_v<U, std::uint32_t>) {
    return static_cast<std::uint32_t>((std::uint64_t{u} * v) >> 32);
  } else if constexpr (requires { simd::detail::x86_mulhi32(u.data, v.data); }) {
    return U(simd::detail::x86_mulhi32(u.data, v.data));
  } else {
    const U lo16(0xffffu);
    const U u0 = u & lo16, u1 = simd::shift_right<16>(u), v0 = v & lo16,
            v1 = simd::shift_right<16>(v);
    const U w0 = u0 * v0;
    const U t = u1 * v0 + simd::shift_right<16>(w0);
    const U w1 = u0 * v1 + (t & lo16);
    return u1 * v1 + simd::shift_right<16>(t) + simd::shift_right<16>(w1);
  }
}

/// The top 24 bits of `bits` as k·2^-24 in [0, 1).
template <simd::lane_type F>
F unit24(const simd::uint_t<F>& bits) {
  return simd::to_float(simd::shift_right<8>(bits)) * F(0x1p-24f);
}

/// normal()'s transform of an absorbed counter state (sub-counters 1 and 2).
template <simd::lane_type F>
F box_muller(const state<simd::uint_t<F>>& st) {
  const F u1 = (simd::to_float(simd::shift_right<8>(squeeze(st, 1))) + F(1.0f)) * F(0x1p-24f);
  const F u2 = unit24<F>(squeeze(st, 2));
  const F r = simd::sqrt(F(0.0f) - F(2.0f) * math::log(u1));  // 0 − … keeps r = +0 when u1 = 1
  F s, c;
  math::sincos_2pi(u2, s, c);
  return r * c;
}

}  // namespace detail::rng

/// 32 random bits for the counter (key, member, episode, index), sub-counter 0.
template <simd::lane_type F>
DPHYS_KERNEL_INLINE simd::uint_t<F> random_bits(const random_key& key,
                                                const simd::uint_t<F>& member,
                                                const simd::uint_t<F>& episode,
                                                const simd::uint_t<F>& index) {
  return detail::rng::squeeze(detail::rng::absorb(key, member, episode, index), 0);
}

/// Uniform on [0, 1): k·2^-24 with k the top 24 bits of random_bits (so uniform < 1 always).
template <simd::lane_type F>
DPHYS_KERNEL_INLINE F uniform(const random_key& key, const simd::uint_t<F>& member,
                              const simd::uint_t<F>& episode, const simd::uint_t<F>& index) {
  return detail::rng::unit24<F>(random_bits<F>(key, member, episode, index));
}

/// Standard normal by Box–Muller, z = sqrt(−2 ln u1)·cos(2π u2), with u1 = (k1 + 1)·2^-24 in (0, 1]
/// and u2 = k2·2^-24 in [0, 1) from sub-counters 1 and 2 of the same counter — independent of
/// uniform, bernoulli and randint at that counter. |z| <= sqrt(48 ln 2) ≈ 5.77 (the tail beyond has
/// mass 8e-9).
template <simd::lane_type F>
F normal(const random_key& key, const simd::uint_t<F>& member, const simd::uint_t<F>& episode,
         const simd::uint_t<F>& index) {
  return detail::rng::box_muller<F>(detail::rng::absorb(key, member, episode, index));
}

/// uniform(...) < p: true with probability ⌈p·2^24⌉/2^24 for p in [0, 1]; never for p <= 0, always
/// for p >= 1.
template <simd::lane_type F>
DPHYS_KERNEL_INLINE simd::mask_t<F> bernoulli(const random_key& key, const simd::uint_t<F>& member,
                                              const simd::uint_t<F>& episode,
                                              const simd::uint_t<F>& index, float p) {
  return uniform<F>(key, member, episode, index) < F(p);
}

/// An integer in [0, n) as a float, for 1 <= n <= 2^24: floor(bits·n / 2^32) on the 32 random_bits,
/// computed exactly. Every value is reachable, n never occurs, and each value's probability is
/// within n/2^32 (relative) of 1/n. It is a non-decreasing function of random_bits, hence not
/// independent of uniform/bernoulli at the same counter.
template <simd::lane_type F>
F randint(const random_key& key, const simd::uint_t<F>& member, const simd::uint_t<F>& episode,
          const simd::uint_t<F>& index, std::uint32_t n) {
  using U = simd::uint_t<F>;
  return simd::to_float(detail::rng::mulhi32(random_bits<F>(key, member, episode, index), U(n)));
}

namespace detail::rng {

/// Writes draw(state) for the counters (key, member, episode, first_index + i), i < out.size():
/// whole native batches, then scalars. The (member, episode) part of the state is absorbed once,
/// in scalar arithmetic; per draw only the index is. Equal bit for bit to the scalar loop because
/// every draw is lane-identical.
template <class Draw>
void fill(std::span<float> out, const random_key& key, std::uint32_t member, std::uint32_t episode,
          std::uint32_t first_index, Draw draw) {
  const state<std::uint32_t> prefix = absorb_prefix(key, member, episode);
  std::size_t i = 0;
  if constexpr (simd::has_native_simd) {
    using F = simd::native;
    using U = simd::uint_t<F>;
    constexpr std::size_t L = simd::lanes_v<F>;
    alignas(64) std::array<std::uint32_t, L> iota{};
    for (std::size_t l = 0; l < L; ++l) iota[l] = static_cast<std::uint32_t>(l);
    const U lane_offset = U::load_aligned(iota.data());
    const state<U> lanes_prefix{U(prefix.a), U(prefix.b)};
    for (; i + L <= out.size(); i += L) {
      const U index = U(first_index + static_cast<std::uint32_t>(i)) + lane_offset;
      simd::store(out.data() + i, draw(F{}, absorb_index(lanes_prefix, index)));
    }
  }
  for (; i < out.size(); ++i)
    out[i] = draw(float{}, absorb_index(prefix, first_index + static_cast<std::uint32_t>(i)));
}

}  // namespace detail::rng

/// out[i] = normal<float>(key, member, episode, first_index + i) (indices wrap modulo 2^32),
/// vectorised.
inline void fill_normal(const random_key& key, std::uint32_t member, std::uint32_t episode,
                        std::span<float> out, std::uint32_t first_index = 0) {
  detail::rng::fill(out, key, member, episode, first_index,
                    []<class F>(F, const auto& st) { return detail::rng::box_muller<F>(st); });
}

/// out[i] = uniform<float>(key, member, episode, first_index + i) (indices wrap modulo 2^32),
/// vectorised.
inline void fill_uniform(const random_key& key, std::uint32_t member, std::uint32_t episode,
                         std::span<float> out, std::uint32_t first_index = 0) {
  detail::rng::fill(out, key, member, episode, first_index, []<class F>(F, const auto& st) {
    return detail::rng::unit24<F>(detail::rng::squeeze(st, 0));
  });
}

}  // namespace dphys
