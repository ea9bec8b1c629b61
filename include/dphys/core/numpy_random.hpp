// dphys/core/numpy_random.hpp — NumPy's default generator, bit for bit, for the draws dphys must
// share with NumPy programs: numpy.random.default_rng(seed) (SeedSequence → PCG64 with the XSL-RR
// output) and Generator.choice(n, size, replace=False). koki2 draws its network topology this way,
// so agents::topology can rebuild koki2's exact edges from its topology_seed. Not a general-purpose
// generator: dphys's own streams are counter-based (core/random.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace dphys::numpy {

/// numpy.random.SeedSequence(seed).generate_state(n_words, np.uint64) for a seed below 2^64
/// (entropy of one or two 32-bit words, no spawn key, pool of 4 words).
[[nodiscard]] inline std::vector<std::uint64_t> seed_sequence_state(std::uint64_t seed,
                                                                    std::size_t n_words) {
  constexpr std::uint32_t init_a = 0x43b0d7e5u, mult_a = 0x931e8875u;
  constexpr std::uint32_t init_b = 0x8b51f9ddu, mult_b = 0x58f38dedu;
  constexpr std::uint32_t mix_mult_l = 0xca01f9ddu, mix_mult_r = 0x4973f715u;
  constexpr int xshift = 16;
  std::vector<std::uint32_t> entropy{static_cast<std::uint32_t>(seed)};
  if (seed >> 32) entropy.push_back(static_cast<std::uint32_t>(seed >> 32));

  std::uint32_t hash_const = init_a;
  const auto hashmix = [&](std::uint32_t value) {
    value ^= hash_const;
    hash_const *= mult_a;
    value *= hash_const;
    return value ^ (value >> xshift);
  };
  const auto mix = [](std::uint32_t x, std::uint32_t y) {
    std::uint32_t r = mix_mult_l * x - mix_mult_r * y;
    return r ^ (r >> xshift);
  };
  std::uint32_t pool[4];
  for (std::size_t i = 0; i < 4; ++i) pool[i] = hashmix(i < entropy.size() ? entropy[i] : 0u);
  for (std::size_t src = 0; src < 4; ++src)
    for (std::size_t dst = 0; dst < 4; ++dst)
      if (src != dst) pool[dst] = mix(pool[dst], hashmix(pool[src]));

  std::vector<std::uint64_t> out(n_words);
  std::uint32_t h = init_b;
  for (std::size_t w = 0; w < 2 * n_words; ++w) {
    std::uint32_t v = pool[w % 4];
    v ^= h;
    h *= mult_b;
    v *= h;
    v ^= v >> xshift;
    out[w / 2] |= std::uint64_t{v} << (32 * (w % 2));  // little-endian pairs of uint32
  }
  return out;
}

/// NumPy's PCG64 bit generator (128-bit LCG, XSL-RR output), seeded as default_rng(seed) seeds it,
/// with next_uint32's buffering of the upper half of a 64-bit output.
class pcg64 {
 public:
  explicit pcg64(std::uint64_t seed) {
    const auto s = seed_sequence_state(seed, 4);
    const u128 initstate = (u128{s[0]} << 64) | s[1];
    const u128 initseq = (u128{s[2]} << 64) | s[3];
    state_ = 0;
    inc_ = (initseq << 1) | 1u;
    step();
    state_ += initstate;
    step();
  }

  [[nodiscard]] std::uint64_t next_uint64() {
    step();
    const auto hi = static_cast<std::uint64_t>(state_ >> 64);
    const auto lo = static_cast<std::uint64_t>(state_);
    const std::uint64_t x = hi ^ lo;
    const unsigned rot = static_cast<unsigned>(hi >> 58);
    return (x >> rot) | (x << ((64u - rot) & 63u));
  }

  [[nodiscard]] std::uint32_t next_uint32() {
    if (has_uint32_) {
      has_uint32_ = false;
      return uinteger_;
    }
    const std::uint64_t next = next_uint64();
    has_uint32_ = true;
    uinteger_ = static_cast<std::uint32_t>(next >> 32);
    return static_cast<std::uint32_t>(next);
  }

  /// NumPy's random_bounded_uint64(off = 0, rng = max, use_masked = false): uniform on [0, max] by
  /// Lemire's multiply-and-reject, on 32-bit draws when max < 2^32.
  [[nodiscard]] std::uint64_t bounded(std::uint64_t max) {
    if (max == 0) return 0;
    if (max < 0xFFFFFFFFu) {
      const auto excl = static_cast<std::uint32_t>(max + 1);
      std::uint64_t m = std::uint64_t{next_uint32()} * excl;
      if (static_cast<std::uint32_t>(m) < excl) {
        const std::uint32_t threshold = (0xFFFFFFFFu - static_cast<std::uint32_t>(max)) % excl;
        while (static_cast<std::uint32_t>(m) < threshold) m = std::uint64_t{next_uint32()} * excl;
      }
      return m >> 32;
    }
    if (max == 0xFFFFFFFFu) return next_uint32();
    if (max == ~std::uint64_t{0}) return next_uint64();
    const u128 excl = u128{max} + 1;
    u128 m = u128{next_uint64()} * excl;
    if (static_cast<std::uint64_t>(m) < static_cast<std::uint64_t>(excl)) {
      const std::uint64_t threshold = (~std::uint64_t{0} - max) % static_cast<std::uint64_t>(excl);
      while (static_cast<std::uint64_t>(m) < threshold) m = u128{next_uint64()} * excl;
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  /// Generator.choice(pop_size, size, replace=False) (shuffle=True): `size` distinct indices of
  /// [0, pop_size) in NumPy's order. NumPy samples with Floyd's algorithm and then shuffles,
  /// except for populations above 10,000 with size > pop_size / 50, where it shuffles the tail of
  /// arange(pop_size).
  [[nodiscard]] std::vector<std::int64_t> choice_without_replacement(std::size_t pop_size,
                                                                     std::size_t size) {
    if (size > pop_size)
      throw std::invalid_argument("numpy::pcg64::choice: size " + std::to_string(size) +
                                  " > population " + std::to_string(pop_size));
    std::vector<std::int64_t> idx;
    if (pop_size > 10000 && size > pop_size / 50) {
      idx.resize(pop_size);
      for (std::size_t i = 0; i < pop_size; ++i) idx[i] = static_cast<std::int64_t>(i);
      shuffle(idx, std::max<std::size_t>(pop_size - size, 1));
      idx.erase(idx.begin(), idx.end() - static_cast<std::ptrdiff_t>(size));
      return idx;
    }
    std::set<std::uint64_t> taken;  // membership only, as NumPy's hash set
    for (std::size_t j = pop_size - size; j < pop_size; ++j) {
      const std::uint64_t v = bounded(j);
      const std::uint64_t pick = taken.insert(v).second ? v : j;
      if (pick == j) taken.insert(j);
      idx.push_back(static_cast<std::int64_t>(pick));
    }
    shuffle(idx, 1);
    return idx;
  }

 private:
  // NumPy's _shuffle_int: swaps position i (from the end down to `first`) with bounded(i).
  void shuffle(std::vector<std::int64_t>& data, std::size_t first) {
    for (std::size_t i = data.size(); i-- > first;)
      std::swap(data[i], data[static_cast<std::size_t>(bounded(i))]);
  }

  // GCC's and Clang's 128-bit integer (__extension__: no -Wpedantic warning).
  __extension__ typedef unsigned __int128 u128;
  static constexpr u128 multiplier =
      (u128{0x2360ed051fc65da4ull} << 64) | u128{0x4385df649fccf645ull};
  void step() { state_ = state_ * multiplier + inc_; }

  u128 state_ = 0, inc_ = 0;
  bool has_uint32_ = false;
  std::uint32_t uinteger_ = 0;
};

}  // namespace dphys::numpy
