// dphys/search/operators/draws.hpp — `draws`, a cursor over one row of dphys's counter-based random
// numbers (core/random.hpp): the n-th draw is a pure function of (key, member, episode, n). The
// variation operators (selection, crossover, mutation) take their randomness from one.
//
// Determinism: a strategy makes one `draws` per (generation, purpose, member) and hands it to an
// operator; what the operator draws depends on nothing else, so results do not depend on thread
// count or on the order in which members are produced.
// SIMD: bits() hashes the next simd::lanes indices at once (random_bits on simd::native) and serves
// them from a buffer; random_bits is lane-identical, so the values equal the scalar ones bit for
// bit.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include <dphys/core/random.hpp>
#include <dphys/core/simd.hpp>

namespace dphys::search {

/// A counter row (key, member, episode) and the next index. Not thread-safe (it advances); copy it
/// to fork a row.
class draws {
 public:
  draws(const random_key& key, std::uint32_t member, std::uint32_t episode = 0,
        std::uint32_t first_index = 0) noexcept
      : key_(key), member_(member), episode_(episode), index_(first_index) {}

  /// 32 random bits: random_bits(key, member, episode, index), index = the next index.
  std::uint32_t bits() noexcept {
    if constexpr (simd::has_native_simd) {
      if (!filled_ || index_ - base_ >= lanes) refill();
      return buffer_[index_++ - base_];
    } else {
      return random_bits<float>(key_, member_, episode_, index_++);
    }
  }

  /// Uniform on the open interval (0, 1): (bits + 1/2)·2^-32, 32 random bits, never 0 or 1 (so
  /// operators that take powers or logarithms of u, or of 1 − u, need no special cases).
  double uniform() noexcept { return (static_cast<double>(bits()) + 0.5) * 0x1p-32; }

  /// An integer in [0, n) for n >= 1: floor(bits·n / 2^32) (exact; each value within n/2^32,
  /// relative, of probability 1/n).
  std::size_t below(std::size_t n) noexcept {
    return static_cast<std::size_t>((std::uint64_t{bits()} * static_cast<std::uint64_t>(n)) >> 32);
  }

  /// Standard normal (dphys::normal<float>: Box–Muller on 24-bit uniforms, |z| <= 5.77).
  double normal() noexcept {
    return static_cast<double>(dphys::normal<float>(key_, member_, episode_, index_++));
  }

  /// True with probability p (uniform() < p).
  bool bernoulli(double p) noexcept { return uniform() < p; }

  [[nodiscard]] std::uint32_t next_index() const noexcept { return index_; }

 private:
  static constexpr std::size_t lanes = simd::has_native_simd ? simd::lanes_v<simd::native> : 1;

  // buffer_[l] = random_bits(key, member, episode, index_ + l) (indices modulo 2^32).
  void refill() noexcept {
    if constexpr (simd::has_native_simd) {
      using U = simd::uint_t<simd::native>;
      alignas(64) std::array<std::uint32_t, lanes> offset{};
      for (std::size_t l = 0; l < lanes; ++l) offset[l] = static_cast<std::uint32_t>(l);
      const U index = U(index_) + U::load_aligned(offset.data());
      random_bits<simd::native>(key_, U(member_), U(episode_), index).store_aligned(buffer_.data());
      base_ = index_;
      filled_ = true;
    }
  }

  random_key key_;
  std::uint32_t member_;
  std::uint32_t episode_;
  std::uint32_t index_;
  std::uint32_t base_ = 0;
  bool filled_ = false;
  alignas(64) std::array<std::uint32_t, lanes> buffer_{};
};

}  // namespace dphys::search
