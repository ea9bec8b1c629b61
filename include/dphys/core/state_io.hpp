// Checkpointable state: state_writer / state_reader, a binary archive of named, typed records with a
// checksum. Extension point: a stateful policy provides `void save(state_writer&) const` and
// `void load(state_reader&)`, reading its records back in the order it wrote them.
//
// Format (little-endian; version 1):
//   "DPHYSST1"                                    8-byte magic
//   records: u8 kind (0 scalar, 1 array, 2 string) · u8 element type · u16 name length · name ·
//            u64 element count · payload (count × element size bytes)
//   "END!" · u64 FNV-1a-64 of every byte before "END!"
// Floating-point values are stored as their bit patterns, so a restore is exact (NaN payloads and
// signed zeros included). Readers check the magic and the checksum before anything else, so a
// truncated or corrupted checkpoint is refused with state_error, never half-loaded.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace dphys {

static_assert(std::endian::native == std::endian::little,
              "dphys checkpoints are written little-endian; big-endian hosts are not supported");

/// A checkpoint cannot be read back: wrong magic, checksum mismatch, truncation, or a record whose
/// name, kind, type or size differs from what the loader expects. The message names the source,
/// the record and the rule.
class state_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail::state_io {

inline constexpr std::string_view magic = "DPHYSST1";
inline constexpr std::string_view footer = "END!";

enum class kind : std::uint8_t { scalar = 0, array = 1, string = 2 };

// Element type codes (stable: they are part of the file format).
template <class T>
constexpr std::uint8_t type_code() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, bool>) return 1;
  else if constexpr (std::is_same_v<U, std::int8_t>) return 2;
  else if constexpr (std::is_same_v<U, std::uint8_t>) return 3;
  else if constexpr (std::is_same_v<U, std::int16_t>) return 4;
  else if constexpr (std::is_same_v<U, std::uint16_t>) return 5;
  else if constexpr (std::is_same_v<U, std::int32_t>) return 6;
  else if constexpr (std::is_same_v<U, std::uint32_t>) return 7;
  else if constexpr (std::is_same_v<U, std::int64_t>) return 8;
  else if constexpr (std::is_same_v<U, std::uint64_t>) return 9;
  else if constexpr (std::is_same_v<U, float>) return 10;
  else if constexpr (std::is_same_v<U, double>) return 11;
  else if constexpr (std::is_same_v<U, char>) return 12;
  else return 0;
}

inline constexpr std::string_view type_name(std::uint8_t code) {
  constexpr std::string_view names[] = {"?",     "bool",   "int8",   "uint8", "int16",
                                        "uint16", "int32", "uint32", "int64", "uint64",
                                        "float32", "float64", "char"};
  return code < std::size(names) ? names[code] : "?";
}

// Storable element types: fixed-width integers, bool, float, double (and enums via their
// underlying type, handled by the writer/reader).
template <class T>
concept storable = type_code<T>() != 0;

inline std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// long/long long and unsigned long/unsigned long long are distinct types of the same width; map
// whichever std::size_t and friends are onto the fixed-width code of the same size and signedness.
// Enums are stored as their underlying type.
template <std::size_t Bytes, bool Signed>
struct fixed_int;
template <> struct fixed_int<1, true> { using type = std::int8_t; };
template <> struct fixed_int<2, true> { using type = std::int16_t; };
template <> struct fixed_int<4, true> { using type = std::int32_t; };
template <> struct fixed_int<8, true> { using type = std::int64_t; };
template <> struct fixed_int<1, false> { using type = std::uint8_t; };
template <> struct fixed_int<2, false> { using type = std::uint16_t; };
template <> struct fixed_int<4, false> { using type = std::uint32_t; };
template <> struct fixed_int<8, false> { using type = std::uint64_t; };

template <class T, class = void>
struct canonical {
  using type = T;
};
template <class T>
  requires(std::is_enum_v<T>)
struct canonical<T> : canonical<std::underlying_type_t<T>> {};
template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>)
struct canonical<T> : fixed_int<sizeof(T), std::is_signed_v<T>> {};

template <class T>
using canonical_t = typename canonical<std::remove_cv_t<T>>::type;

}  // namespace detail::state_io

/// Collects records in memory; bytes() returns the finished archive (write it with
/// run::write_file_atomic). Names are prefixed by the open scopes ("island2/cma/mean").
class state_writer {
 public:
  state_writer() { buf_.append(detail::state_io::magic); }

  /// RAII scope: records written while it lives are named "<prefix><name>/...".
  class scope_guard {
   public:
    scope_guard(state_writer& w, std::string_view name) : w_(w), old_size_(w.prefix_.size()) {
      w_.prefix_.append(name);
      w_.prefix_ += '/';
    }
    ~scope_guard() { w_.prefix_.resize(old_size_); }
    scope_guard(const scope_guard&) = delete;
    scope_guard& operator=(const scope_guard&) = delete;

   private:
    state_writer& w_;
    std::size_t old_size_;
  };
  [[nodiscard]] scope_guard scope(std::string_view name) { return scope_guard(*this, name); }

  /// One scalar (integer, bool, float, double, enum).
  template <class T>
    requires detail::state_io::storable<detail::state_io::canonical_t<T>>
  void put(std::string_view name, const T& value) {
    using C = detail::state_io::canonical_t<T>;
    const C v = static_cast<C>(value);
    header(name, detail::state_io::kind::scalar, detail::state_io::type_code<C>(), 1);
    raw(&v, sizeof v);
  }

  /// A contiguous array of scalars (any length, including 0).
  template <class T>
    requires detail::state_io::storable<detail::state_io::canonical_t<T>>
  void put(std::string_view name, std::span<const T> values) {
    using C = detail::state_io::canonical_t<T>;
    header(name, detail::state_io::kind::array, detail::state_io::type_code<C>(), values.size());
    if constexpr (std::is_same_v<C, T>) {
      raw(values.data(), values.size_bytes());
    } else {
      for (const T& x : values) {
        const C v = static_cast<C>(x);
        raw(&v, sizeof v);
      }
    }
  }
  template <class T, class A>
  void put(std::string_view name, const std::vector<T, A>& values) {
    put(name, std::span<const T>(values));
  }

  void put(std::string_view name, std::string_view text) {
    header(name, detail::state_io::kind::string, detail::state_io::type_code<char>(), text.size());
    buf_.append(text);
  }
  void put(std::string_view name, const std::string& text) { put(name, std::string_view(text)); }
  void put(std::string_view name, const char* text) { put(name, std::string_view(text)); }

  /// The finished archive (magic, records, footer with checksum). The writer stays usable.
  [[nodiscard]] std::string bytes() const {
    std::string out = buf_;
    const std::uint64_t h = detail::state_io::fnv1a64(out);
    out.append(detail::state_io::footer);
    out.append(reinterpret_cast<const char*>(&h), sizeof h);
    return out;
  }

 private:
  void raw(const void* p, std::size_t n) { buf_.append(static_cast<const char*>(p), n); }
  void header(std::string_view name, detail::state_io::kind k, std::uint8_t type,
              std::uint64_t count) {
    const std::size_t len = prefix_.size() + name.size();
    if (name.empty() || len > 0xffff)
      throw std::invalid_argument("state_writer: record name '" + prefix_ + std::string(name) +
                                  "' must be non-empty and at most 65535 bytes");
    const auto kb = static_cast<std::uint8_t>(k);
    const auto n16 = static_cast<std::uint16_t>(len);
    raw(&kb, 1);
    raw(&type, 1);
    raw(&n16, 2);
    buf_.append(prefix_);
    buf_.append(name);
    raw(&count, 8);
  }

  std::string buf_;
  std::string prefix_;
};

/// Reads an archive written by state_writer, record by record, in the order they were written.
/// The constructor validates magic and checksum; every get names the record it expects and fails
/// with state_error (naming the source, the expected and the found record) on any mismatch.
class state_reader {
 public:
  /// `source` names the data in messages (usually the checkpoint's path).
  explicit state_reader(std::string bytes, std::string source = "checkpoint")
      : buf_(std::move(bytes)), source_(std::move(source)) {
    namespace s = detail::state_io;
    const std::size_t min = s::magic.size() + s::footer.size() + 8;
    if (buf_.size() < min || std::string_view(buf_).substr(0, s::magic.size()) != s::magic)
      fail("is not a dphys checkpoint (missing the \"DPHYSST1\" header)");
    const std::size_t body = buf_.size() - s::footer.size() - 8;
    if (std::string_view(buf_).substr(body, s::footer.size()) != s::footer)
      fail("is truncated (no end marker)");
    std::uint64_t stored = 0;
    std::memcpy(&stored, buf_.data() + body + s::footer.size(), 8);
    if (stored != s::fnv1a64(std::string_view(buf_).substr(0, body)))
      fail("is corrupt (checksum mismatch)");
    end_ = body;
    pos_ = s::magic.size();
  }

  class scope_guard {
   public:
    scope_guard(state_reader& r, std::string_view name) : r_(r), old_size_(r.prefix_.size()) {
      r_.prefix_.append(name);
      r_.prefix_ += '/';
    }
    ~scope_guard() { r_.prefix_.resize(old_size_); }
    scope_guard(const scope_guard&) = delete;
    scope_guard& operator=(const scope_guard&) = delete;

   private:
    state_reader& r_;
    std::size_t old_size_;
  };
  [[nodiscard]] scope_guard scope(std::string_view name) { return scope_guard(*this, name); }

  template <class T>
    requires detail::state_io::storable<detail::state_io::canonical_t<T>>
  void get(std::string_view name, T& out) {
    using C = detail::state_io::canonical_t<T>;
    const std::uint64_t n =
        header(name, detail::state_io::kind::scalar, detail::state_io::type_code<C>());
    if (n != 1) fail_record(name, "holds " + std::to_string(n) + " values, expected 1");
    C v{};
    raw(&v, sizeof v, name);
    out = static_cast<T>(v);
  }
  template <class T>
  [[nodiscard]] T get(std::string_view name) {
    T v{};
    get(name, v);
    return v;
  }

  /// An array of any length; `expected_size` (if given) must match.
  template <class T, class A>
    requires detail::state_io::storable<detail::state_io::canonical_t<T>>
  void get(std::string_view name, std::vector<T, A>& out,
           std::size_t expected_size = static_cast<std::size_t>(-1)) {
    using C = detail::state_io::canonical_t<T>;
    const std::uint64_t n =
        header(name, detail::state_io::kind::array, detail::state_io::type_code<C>());
    if (expected_size != static_cast<std::size_t>(-1) && n != expected_size)
      fail_record(name, "holds " + std::to_string(n) + " values, expected " +
                            std::to_string(expected_size));
    if (n > (end_ - pos_) / sizeof(C)) fail_record(name, "is longer than the archive");
    out.resize(static_cast<std::size_t>(n));
    for (auto& x : out) {
      C v{};
      raw(&v, sizeof v, name);
      x = static_cast<T>(v);
    }
  }

  void get(std::string_view name, std::string& out) {
    const std::uint64_t n =
        header(name, detail::state_io::kind::string, detail::state_io::type_code<char>());
    if (n > end_ - pos_) fail_record(name, "is longer than the archive");
    out.assign(buf_.data() + pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
  }

  /// True when every record has been read.
  [[nodiscard]] bool at_end() const { return pos_ == end_; }
  /// Fails unless every record has been read (a loader that stops early has a version mismatch).
  void expect_end() const {
    if (!at_end()) fail("has unread records after the last one the loader expects");
  }
  [[nodiscard]] const std::string& source() const { return source_; }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw state_error(source_ + " " + what);
  }
  [[noreturn]] void fail_record(std::string_view name, const std::string& what) const {
    throw state_error(source_ + ": record '" + prefix_ + std::string(name) + "' " + what);
  }

  void raw(void* p, std::size_t n, std::string_view name) {
    if (n > end_ - pos_) fail_record(name, "is truncated");
    std::memcpy(p, buf_.data() + pos_, n);
    pos_ += n;
  }

  std::uint64_t header(std::string_view name, detail::state_io::kind k, std::uint8_t type) {
    namespace s = detail::state_io;
    if (pos_ == end_) fail_record(name, "is missing (end of checkpoint reached)");
    std::uint8_t kb = 0, tb = 0;
    std::uint16_t len = 0;
    raw(&kb, 1, name);
    raw(&tb, 1, name);
    raw(&len, 2, name);
    if (len > end_ - pos_) fail_record(name, "has a truncated name");
    const std::string_view found(buf_.data() + pos_, len);
    pos_ += len;
    const std::string expected = prefix_ + std::string(name);
    if (found != expected)
      throw state_error(source_ + ": expected record '" + expected + "' but found '" +
                        std::string(found) + "' (checkpoint written by a different version?)");
    if (kb != static_cast<std::uint8_t>(k))
      fail_record(name, "has the wrong kind (scalar/array/string)");
    if (tb != type)
      fail_record(name, "has type " + std::string(s::type_name(tb)) + ", expected " +
                            std::string(s::type_name(type)));
    std::uint64_t count = 0;
    raw(&count, 8, name);
    return count;
  }

  std::string buf_;
  std::string source_;
  std::string prefix_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
};

}  // namespace dphys
