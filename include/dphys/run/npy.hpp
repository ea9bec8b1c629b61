// NumPy .npy files (C order, any rank) for float, double and the fixed-width integers: save_npy
// (atomic), load_npy, and the in-memory encode_npy/decode_npy. Extension point: npy_element<T>
// (which types have a dtype).
#pragma once

#include <bit>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "dphys/run/atomic_file.hpp"

namespace dphys::run {

namespace detail {

template <class T>
consteval std::string_view npy_descr_of() {
  if constexpr (std::is_same_v<T, float> && sizeof(T) == 4)
    return "<f4";
  else if constexpr (std::is_same_v<T, double> && sizeof(T) == 8)
    return "<f8";
  else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                     !std::is_same_v<T, char> && !std::is_same_v<T, wchar_t> &&
                     !std::is_same_v<T, char8_t> && !std::is_same_v<T, char16_t> &&
                     !std::is_same_v<T, char32_t>) {
    constexpr bool s = std::is_signed_v<T>;
    if constexpr (sizeof(T) == 1)
      return s ? "|i1" : "|u1";
    else if constexpr (sizeof(T) == 2)
      return s ? "<i2" : "<u2";
    else if constexpr (sizeof(T) == 4)
      return s ? "<i4" : "<u4";
    else if constexpr (sizeof(T) == 8)
      return s ? "<i8" : "<u8";
    else
      return {};
  } else
    return {};
}

}  // namespace detail

// Element types with a .npy dtype: float (<f4), double (<f8), signed/unsigned integers of 1, 2, 4,
// 8 bytes
// (|i1 |u1 <i2 <u2 <i4 <u4 <i8 <u8). bool and the character types are deliberately excluded.
template <class T>
concept npy_element = !detail::npy_descr_of<T>().empty();

// The numpy dtype string (`numpy.dtype(...).str`) of T.
template <npy_element T>
inline constexpr std::string_view npy_descr = detail::npy_descr_of<T>();

// A loaded array: `data` in C (row-major) order, `shape` as in numpy (empty shape = 0-d array, one
// element).
template <npy_element T>
struct npy_array {
  std::vector<T> data;
  std::vector<std::size_t> shape;
};

namespace detail {

inline std::string shape_str(const std::vector<std::size_t>& shape) {  // Python tuple repr
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ',';
  return s + ")";
}

// Number of elements, or nullopt on size_t overflow.
inline std::optional<std::size_t> element_count(const std::vector<std::size_t>& shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) {
    if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d) return std::nullopt;
    n *= d;
  }
  return n;
}

inline constexpr std::string_view npy_magic = "\x93NUMPY";

// Header dictionary + padding exactly as numpy >= 1.24 `np.save` writes it: keys sorted, 21 -
// digits(shape[0]) spare spaces for in-place growth, then spaces and '\n' so that the data starts
// at a multiple of 64 bytes. Version 1.0 unless the header needs more than 65535 bytes (then 2.0).
inline std::string npy_preamble(std::string_view descr, const std::vector<std::size_t>& shape) {
  std::string dict = "{'descr': '" + std::string(descr) +
                     "', 'fortran_order': False, 'shape': " + shape_str(shape) + ", }";
  if (!shape.empty()) {
    const std::size_t digits = std::to_string(shape[0]).size();
    if (digits < 21) dict.append(21 - digits, ' ');
  }
  const auto build = [&](unsigned major) {
    const std::size_t prefix = npy_magic.size() + 2 + (major == 1 ? 2 : 4);
    const std::size_t hlen = dict.size() + 1;  // + '\n'
    const std::size_t pad = 64 - (prefix + hlen) % 64;
    const std::size_t total = hlen + pad;
    std::string out(npy_magic);
    out += static_cast<char>(major);
    out += '\0';
    const int len_bytes = major == 1 ? 2 : 4;
    for (int i = 0; i < len_bytes; ++i) out += static_cast<char>((total >> (8 * i)) & 0xff);
    out += dict;
    out.append(pad, ' ');
    out += '\n';
    return out;
  };
  std::string v1 = build(1);
  if (v1.size() - 10 <= 0xffff) return v1;
  return build(2);
}

// Minimal parser for the Python-literal header dict of a .npy file.
struct npy_header {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::size_t> shape;
};

class npy_header_parser {
 public:
  npy_header_parser(std::string_view text, std::string_view source) : s_(text), source_(source) {}

  npy_header parse() {
    npy_header h;
    bool seen_descr = false, seen_fortran = false, seen_shape = false;
    skip_ws();
    expect('{');
    for (;;) {
      skip_ws();
      if (peek() == '}') break;
      const std::string key = parse_string("a dictionary key");
      skip_ws();
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (seen_descr) fail("duplicate key 'descr' in header");
        if (peek() != '\'' && peek() != '"')
          fail(
              "structured or non-string 'descr' is not supported (only simple dtypes such as <f4)");
        h.descr = parse_string("the 'descr' value");
        seen_descr = true;
      } else if (key == "fortran_order") {
        if (seen_fortran) fail("duplicate key 'fortran_order' in header");
        h.fortran_order = parse_bool();
        seen_fortran = true;
      } else if (key == "shape") {
        if (seen_shape) fail("duplicate key 'shape' in header");
        h.shape = parse_shape();
        seen_shape = true;
      } else {
        fail("unexpected key '" + key + "' in header (allowed: descr, fortran_order, shape)");
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') break;
      fail(found("',' or '}' in header dictionary"));
    }
    ++pos_;  // '}'
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected characters after the header dictionary");
    if (!seen_descr) fail("header lacks the key 'descr'");
    if (!seen_fortran) fail("header lacks the key 'fortran_order'");
    if (!seen_shape) fail("header lacks the key 'shape'");
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw format_error("npy '" + std::string(source_) + "': " + what);
  }
  std::string found(std::string_view expected) const {
    if (pos_ >= s_.size()) return "header ended where " + std::string(expected) + " was expected";
    return "expected " + std::string(expected) + " at header offset " + std::to_string(pos_) +
           ", found '" + std::string(1, s_[pos_]) + "'";
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  void expect(char c) {
    if (peek() != c) fail(found(std::string("'") + c + "'"));
    ++pos_;
  }
  std::string parse_string(std::string_view what) {
    const char q = peek();
    if (q != '\'' && q != '"') fail(found(std::string("a quoted string for ") + std::string(what)));
    const std::size_t end = s_.find(q, pos_ + 1);
    if (end == std::string_view::npos) fail("unterminated string in header");
    std::string out(s_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return out;
  }
  bool parse_bool() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail(found("True or False for 'fortran_order'"));
  }
  std::vector<std::size_t> parse_shape() {
    expect('(');
    std::vector<std::size_t> shape;
    bool trailing_comma = false;
    for (;;) {
      skip_ws();
      if (peek() == ')') break;
      std::size_t v = 0;
      const char* first = s_.data() + pos_;
      const auto [ptr, ec] = std::from_chars(first, s_.data() + s_.size(), v);
      if (ec == std::errc::result_out_of_range) fail("shape dimension out of range");
      if (ec != std::errc{} || ptr == first) fail(found("a non-negative integer in 'shape'"));
      pos_ += static_cast<std::size_t>(ptr - first);
      if (peek() == 'L') ++pos_;  // Python 2 long literal, written by old numpy
      shape.push_back(v);
      skip_ws();
      trailing_comma = false;
      if (peek() == ',') {
        ++pos_;
        trailing_comma = true;
        continue;
      }
      if (peek() != ')') fail(found("',' or ')' in 'shape'"));
    }
    ++pos_;  // ')'
    if (shape.size() == 1 && !trailing_comma)
      fail("'shape' (" + std::to_string(shape[0]) + ") is not a tuple; a 1-d shape is written (" +
           std::to_string(shape[0]) + ",)");
    return shape;
  }

  std::string_view s_;
  std::string_view source_;
  std::size_t pos_ = 0;
};

inline bool npy_descr_matches(std::string_view found, std::string_view expected) {
  if (found == expected) return true;
  // Byte order is meaningless for one-byte types: accept '<', '>', '=' as well as numpy's '|'.
  return expected.size() == 3 && expected[0] == '|' && found.size() == 3 &&
         (found[0] == '<' || found[0] == '>' || found[0] == '=') &&
         found.substr(1) == expected.substr(1);
}

}  // namespace detail

// The complete .npy file (version 1.0, or 2.0 for huge headers) for `data` with `shape` (C order).
// Throws format_error if the shape's element count differs from data.size().
template <npy_element T>
[[nodiscard]] std::string encode_npy(std::span<const T> data, const std::vector<std::size_t>& shape,
                                     std::string_view source = "<memory>") {
  static_assert(std::endian::native == std::endian::little,
                "dphys .npy I/O assumes a little-endian host");
  const auto n = detail::element_count(shape);
  if (!n || *n != data.size())
    throw format_error("npy '" + std::string(source) + "': shape " + detail::shape_str(shape) +
                       " has " + (n ? std::to_string(*n) : std::string("too many")) +
                       " elements but " + std::to_string(data.size()) + " values were given");
  std::string out = detail::npy_preamble(npy_descr<T>, shape);
  const std::size_t header = out.size();
  out.resize(header + data.size_bytes());
  if (!data.empty()) std::memcpy(out.data() + header, data.data(), data.size_bytes());
  return out;
}

// Parses a complete .npy file held in memory. Validates magic, version (1.0 or 2.0), the header
// dictionary (exact keys; descr equal to npy_descr<T>; fortran_order False) and that the data size
// equals the shape's. Every problem throws format_error("npy '<source>': <what>").
template <npy_element T>
[[nodiscard]] npy_array<T> decode_npy(std::string_view bytes,
                                      std::string_view source = "<memory>") {
  static_assert(std::endian::native == std::endian::little,
                "dphys .npy I/O assumes a little-endian host");
  const auto fail = [&](const std::string& what) {
    return format_error("npy '" + std::string(source) + "': " + what);
  };
  if (bytes.size() < detail::npy_magic.size() ||
      bytes.substr(0, detail::npy_magic.size()) != detail::npy_magic)
    throw fail("not a .npy file (bad magic: the file must start with \\x93NUMPY)");
  if (bytes.size() < 8) throw fail("truncated: the file ends inside the version field");
  const auto major = static_cast<unsigned char>(bytes[6]);
  const auto minor = static_cast<unsigned char>(bytes[7]);
  if ((major != 1 && major != 2) || minor != 0)
    throw fail("unsupported .npy format version " + std::to_string(major) + "." +
               std::to_string(minor) + " (supported: 1.0, 2.0)");
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  const std::size_t prefix = 8 + len_bytes;
  if (bytes.size() < prefix) throw fail("truncated: the file ends inside the header-length field");
  std::size_t header_len = 0;
  for (std::size_t i = 0; i < len_bytes; ++i)
    header_len |= std::size_t{static_cast<unsigned char>(bytes[8 + i])} << (8 * i);
  if (bytes.size() - prefix < header_len)
    throw fail("truncated: the header declares " + std::to_string(header_len) + " bytes but only " +
               std::to_string(bytes.size() - prefix) + " follow the preamble");

  const detail::npy_header h =
      detail::npy_header_parser(bytes.substr(prefix, header_len), source).parse();
  if (!detail::npy_descr_matches(h.descr, npy_descr<T>))
    throw fail("wrong dtype: expected " + std::string(npy_descr<T>) + ", found " + h.descr);
  if (h.fortran_order) throw fail("fortran_order True is not supported (only C-order arrays)");
  const auto n = detail::element_count(h.shape);
  if (!n || *n > std::numeric_limits<std::size_t>::max() / sizeof(T))
    throw fail("shape " + detail::shape_str(h.shape) + " is too large");
  const std::size_t need = *n * sizeof(T);
  const std::size_t have = bytes.size() - prefix - header_len;
  if (have < need)
    throw fail("truncated: shape " + detail::shape_str(h.shape) + " of " +
               std::string(npy_descr<T>) + " needs " + std::to_string(need) +
               " data bytes, the file has " + std::to_string(have));
  if (have > need)
    throw fail("file size does not match the header: shape " + detail::shape_str(h.shape) + " of " +
               std::string(npy_descr<T>) + " needs " + std::to_string(need) +
               " data bytes, the file has " + std::to_string(have));

  npy_array<T> out;
  out.shape = h.shape;
  out.data.resize(*n);
  if (need > 0) std::memcpy(out.data.data(), bytes.data() + prefix + header_len, need);
  return out;
}

// Writes `data` (C order) with `shape` as a .npy file, atomically (write_file_atomic).
// Throws format_error on a shape/size mismatch (nothing is written), io_error on I/O failure.
template <npy_element T>
void save_npy(const std::filesystem::path& file, std::span<const T> data,
              std::vector<std::size_t> shape) {
  write_file_atomic(file, encode_npy<T>(data, shape, file.string()));
}

// Convenience overload for any contiguous range (std::vector, std::array, std::span<T>...).
template <std::ranges::contiguous_range R>
requires std::ranges::sized_range<R> && npy_element<std::ranges::range_value_t<R>>
void save_npy(const std::filesystem::path& file, const R& data, std::vector<std::size_t> shape) {
  using T = std::ranges::range_value_t<R>;
  save_npy<T>(file, std::span<const T>(std::ranges::data(data), std::ranges::size(data)),
              std::move(shape));
}

// Reads a .npy file written by numpy or save_npy. Throws io_error (cannot read) or format_error
// (see decode_npy).
template <npy_element T>
[[nodiscard]] npy_array<T> load_npy(const std::filesystem::path& file) {
  return decode_npy<T>(read_file(file), file.string());
}

}  // namespace dphys::run
