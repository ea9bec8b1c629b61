// SHA-256 (FIPS 180-4): a streaming sha256_hasher, sha256_hex(bytes) and sha256_file(path), used
// for the artifact checksums of run manifests. Output is lowercase hex, as printed by `sha256sum`.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <unistd.h>

#include "dphys/run/atomic_file.hpp"

namespace dphys::run {

class sha256_hasher {
 public:
  using digest_type = std::array<std::uint8_t, 32>;

  sha256_hasher& update(std::string_view bytes) noexcept {
    const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
    std::size_t n = bytes.size();
    length_ += n;
    if (buffered_ > 0) {
      const std::size_t take = n < 64 - buffered_ ? n : 64 - buffered_;
      std::memcpy(block_.data() + buffered_, p, take);
      buffered_ += take;
      p += take;
      n -= take;
      if (buffered_ < 64) return *this;
      compress(block_.data());
      buffered_ = 0;
    }
    for (; n >= 64; p += 64, n -= 64) compress(p);
    if (n > 0) std::memcpy(block_.data(), p, n);
    buffered_ = n;
    return *this;
  }

  // Pads, returns the digest and resets the hasher to the empty message.
  [[nodiscard]] digest_type finish() noexcept {
    const std::uint64_t bit_length = length_ * 8;
    block_[buffered_++] = 0x80;
    if (buffered_ > 56) {
      std::memset(block_.data() + buffered_, 0, 64 - buffered_);
      compress(block_.data());
      buffered_ = 0;
    }
    std::memset(block_.data() + buffered_, 0, 56 - buffered_);
    for (int i = 0; i < 8; ++i)
      block_[56 + i] = static_cast<std::uint8_t>(bit_length >> (56 - 8 * i));
    compress(block_.data());

    digest_type out{};
    for (std::size_t i = 0; i < 8; ++i)
      for (std::size_t b = 0; b < 4; ++b)
        out[4 * i + b] = static_cast<std::uint8_t>(h_[i] >> (24 - 8 * b));
    *this = sha256_hasher{};
    return out;
  }

  [[nodiscard]] std::string finish_hex() {
    static constexpr char digits[] = "0123456789abcdef";
    const digest_type d = finish();
    std::string hex(64, '0');
    for (std::size_t i = 0; i < d.size(); ++i) {
      hex[2 * i] = digits[d[i] >> 4];
      hex[2 * i + 1] = digits[d[i] & 0xf];
    }
    return hex;
  }

 private:
  static constexpr std::uint32_t rotr(std::uint32_t x, int n) noexcept {
    return (x >> n) | (x << (32 - n));
  }

  void compress(const std::uint8_t* p) noexcept {
    static constexpr std::array<std::uint32_t, 64> k = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2};
    std::array<std::uint32_t, 64> w{};
    for (std::size_t t = 0; t < 16; ++t)
      w[t] = std::uint32_t{p[4 * t]} << 24 | std::uint32_t{p[4 * t + 1]} << 16 |
             std::uint32_t{p[4 * t + 2]} << 8 | std::uint32_t{p[4 * t + 3]};
    for (std::size_t t = 16; t < 64; ++t) {
      const std::uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
      const std::uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6],
                  h = h_[7];
    for (std::size_t t = 0; t < 64; ++t) {
      const std::uint32_t t1 =
          h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[t] + w[t];
      const std::uint32_t t2 =
          (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
    h_[5] += f;
    h_[6] += g;
    h_[7] += h;
  }

  std::array<std::uint32_t, 8> h_ = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::array<std::uint8_t, 64> block_{};
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;
};

[[nodiscard]] inline std::string sha256_hex(std::string_view bytes) {
  return sha256_hasher{}.update(bytes).finish_hex();
}

// Hashes a file by streaming it; throws io_error naming the file if it cannot be opened or read.
[[nodiscard]] inline std::string sha256_file(const std::filesystem::path& file) {
  sha256_hasher hasher;
  detail::read_chunks(
      "sha256_file", file, [](std::size_t) {},
      [&](std::string_view chunk) { hasher.update(chunk); });
  return hasher.finish_hex();
}

}  // namespace dphys::run
