// NumPy .npz archives: a ZIP file of .npy members, as numpy.savez writes and numpy.load reads.
// `npz_archive` holds named arrays (each a complete .npy file, run/npy.hpp); it encodes them as an
// uncompressed ("stored") ZIP with a fixed timestamp, so equal arrays give byte-identical archives,
// and decodes any stored archive, ZIP64 records included (numpy.savez writes those). Deflated
// members (numpy.savez_compressed) are refused with a message saying so: reading them would need
// zlib, which dphys does not depend on. Every malformed input throws format_error naming the
// archive, the member and the problem; nothing is read outside the given bytes.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dphys/run/atomic_file.hpp"
#include "dphys/run/npy.hpp"

namespace dphys::run {

namespace detail::zip {

// CRC-32 of ZIP (IEEE 802.3, reflected polynomial 0xEDB88320).
inline constexpr std::array<std::uint32_t, 256> crc_table = [] {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}();

[[nodiscard]] inline std::uint32_t crc32(std::string_view bytes) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (const char ch : bytes)
    c = crc_table[(c ^ static_cast<unsigned char>(ch)) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

inline constexpr std::uint32_t local_signature = 0x04034b50u;
inline constexpr std::uint32_t central_signature = 0x02014b50u;
inline constexpr std::uint32_t end_signature = 0x06054b50u;
inline constexpr std::uint32_t zip64_end_signature = 0x06064b50u;
inline constexpr std::uint32_t zip64_locator_signature = 0x07064b50u;
inline constexpr std::size_t local_size = 30, central_size = 46, end_size = 22;
inline constexpr std::size_t zip64_end_size = 56, zip64_locator_size = 20;
inline constexpr std::uint16_t dos_date_1980_01_01 = (1u << 5) | 1u;  // the fixed timestamp

inline void put(std::string& out, std::uint64_t v, int bytes) {  // little endian
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}

// Bounds-checked little-endian reads of a byte string; a read past the end throws.
class reader {
 public:
  reader(std::string_view bytes, std::string_view source) : bytes_(bytes), source_(source) {}

  [[nodiscard]] std::uint64_t get(std::size_t at, int n, std::string_view what) const {
    if (at > bytes_.size() || bytes_.size() - at < static_cast<std::size_t>(n))
      throw fail(std::string(what) + " at byte " + std::to_string(at) + " lies past the end (" +
                 std::to_string(bytes_.size()) + " bytes): truncated or not a ZIP file");
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= std::uint64_t{static_cast<unsigned char>(bytes_[at + i])} << (8 * i);
    return v;
  }
  [[nodiscard]] std::string_view slice(std::size_t at, std::uint64_t n,
                                       std::string_view what) const {
    if (at > bytes_.size() || bytes_.size() - at < n)
      throw fail(std::string(what) + " (" + std::to_string(n) + " bytes at byte " +
                 std::to_string(at) + ") lies past the end (" + std::to_string(bytes_.size()) +
                 " bytes): truncated archive");
    return bytes_.substr(at, static_cast<std::size_t>(n));
  }
  [[nodiscard]] format_error fail(const std::string& what) const {
    return format_error("npz '" + std::string(source_) + "': " + what);
  }
  [[nodiscard]] std::size_t size() const { return bytes_.size(); }

 private:
  std::string_view bytes_;
  std::string_view source_;
};

}  // namespace detail::zip

/// One member of an archive: its name (numpy's key, without ".npy") and the bytes of its .npy file.
struct npz_member {
  std::string name;
  std::string npy;
};

/// Named arrays, kept in insertion order (the order of the archive's members).
class npz_archive {
 public:
  /// Adds `data` (C order) with `shape` as member `name`. Throws format_error for an empty name, a
  /// name with '/', '\\' or a control character, a duplicate name, or a shape/size mismatch.
  template <npy_element T>
  void add(std::string name, std::span<const T> data, std::vector<std::size_t> shape) {
    check_new_name(name);
    auto npy = encode_npy<T>(data, shape, name);
    members_.push_back({std::move(name), std::move(npy)});
  }
  template <std::ranges::contiguous_range R>
  requires std::ranges::sized_range<R> && npy_element<std::ranges::range_value_t<R>>
  void add(std::string name, const R& data, std::vector<std::size_t> shape) {
    using T = std::ranges::range_value_t<R>;
    add<T>(std::move(name), std::span<const T>(std::ranges::data(data), std::ranges::size(data)),
           std::move(shape));
  }

  /// Member `name` decoded as T (decode_npy's checks: dtype, shape, size). Throws format_error
  /// naming the members present when there is no such member.
  template <npy_element T>
  [[nodiscard]] npy_array<T> get(std::string_view name) const {
    for (const auto& m : members_)
      if (m.name == name) return decode_npy<T>(m.npy, source_ + ":" + m.name + ".npy");
    std::string have;
    for (const auto& m : members_) have += (have.empty() ? "" : ", ") + m.name;
    throw format_error("npz '" + source_ + "': no array '" + std::string(name) +
                       "' (members: " + (have.empty() ? "none" : have) + ")");
  }

  [[nodiscard]] bool contains(std::string_view name) const {
    for (const auto& m : members_)
      if (m.name == name) return true;
    return false;
  }
  [[nodiscard]] const std::vector<npz_member>& members() const { return members_; }

  /// The archive as bytes: a stored (uncompressed) ZIP, members "<name>.npy" in insertion order,
  /// timestamps 1980-01-01 00:00, no extra fields. Throws format_error beyond the classic ZIP
  /// limits (65,535 members, 4 GiB), which this writer does not extend with ZIP64 records.
  [[nodiscard]] std::string encode() const {
    namespace z = detail::zip;
    if (members_.size() >= 0xFFFFu)
      throw format_error("npz: " + std::to_string(members_.size()) +
                         " members; the writer supports at most 65,534");
    std::string out, central;
    for (const auto& m : members_) {
      const std::string file = m.name + ".npy";
      const std::uint64_t offset = out.size();
      if (offset + z::local_size + file.size() + m.npy.size() >= 0xFFFFFFFFu)
        throw format_error("npz: the archive would exceed 4 GiB at member '" + m.name +
                           "'; the writer supports classic ZIP only");
      const std::uint32_t crc = z::crc32(m.npy);
      const bool utf8 = std::ranges::any_of(file, [](char c) { return (c & 0x80) != 0; });
      const std::uint16_t flags = utf8 ? 0x0800u : 0u;  // bit 11: the name is UTF-8
      auto header = [&](std::string& h, bool is_central) {
        z::put(h, is_central ? z::central_signature : z::local_signature, 4);
        if (is_central) z::put(h, 20, 2);  // version made by: 2.0, MS-DOS attributes
        z::put(h, 20, 2);                  // version needed to extract: 2.0
        z::put(h, flags, 2);
        z::put(h, 0, 2);  // method 0: stored
        z::put(h, 0, 2);  // time 00:00:00
        z::put(h, z::dos_date_1980_01_01, 2);
        z::put(h, crc, 4);
        z::put(h, m.npy.size(), 4);  // compressed size
        z::put(h, m.npy.size(), 4);  // uncompressed size
        z::put(h, file.size(), 2);
        z::put(h, 0, 2);  // extra field length
        if (is_central) {
          z::put(h, 0, 2);  // comment length
          z::put(h, 0, 2);  // disk number
          z::put(h, 0, 2);  // internal attributes
          z::put(h, 0, 4);  // external attributes
          z::put(h, offset, 4);
        }
        h += file;
      };
      header(out, false);
      out += m.npy;
      header(central, true);
    }
    const std::uint64_t central_offset = out.size();
    if (central_offset + central.size() + z::end_size >= 0xFFFFFFFFu)
      throw format_error(
          "npz: the archive would exceed 4 GiB; the writer supports classic ZIP only");
    out += central;
    z::put(out, z::end_signature, 4);
    z::put(out, 0, 2);  // this disk
    z::put(out, 0, 2);  // disk of the central directory
    z::put(out, members_.size(), 2);
    z::put(out, members_.size(), 2);
    z::put(out, central.size(), 4);
    z::put(out, central_offset, 4);
    z::put(out, 0, 2);  // comment length
    return out;
  }

  /// Parses a ZIP archive held in memory (numpy.savez's output, encode()'s, any stored ZIP): the
  /// end record (ZIP64 too), then every central-directory entry and its local header. Refuses, with
  /// the member's name: compression other than "stored", encryption, a CRC-32 mismatch, a member
  /// whose local header disagrees with the directory, duplicate names, directories. A member's name
  /// loses its ".npy" suffix (numpy's key).
  [[nodiscard]] static npz_archive decode(std::string_view bytes,
                                          std::string_view source = "<memory>") {
    namespace z = detail::zip;
    const z::reader r(bytes, source);
    // The end-of-central-directory record: the last signature whose comment reaches the end.
    if (bytes.size() < z::end_size)
      throw r.fail("not a ZIP archive (" + std::to_string(bytes.size()) +
                   " bytes, shorter than its end record)");
    std::size_t end = std::string_view::npos;
    const std::size_t lowest =
        bytes.size() > z::end_size + 0xFFFFu ? bytes.size() - z::end_size - 0xFFFFu : 0;
    for (std::size_t at = bytes.size() - z::end_size + 1; at-- > lowest;)
      if (r.get(at, 4, "end record") == z::end_signature &&
          at + z::end_size + r.get(at + 20, 2, "comment length") == bytes.size()) {
        end = at;
        break;
      }
    if (end == std::string_view::npos)
      throw r.fail("not a ZIP archive (no end-of-central-directory record)");
    if (r.get(end + 4, 2, "disk number") != 0 || r.get(end + 6, 2, "directory disk") != 0)
      throw r.fail("multi-disk archives are not supported");
    std::uint64_t count = r.get(end + 10, 2, "member count");
    std::uint64_t dir_size = r.get(end + 12, 4, "directory size");
    std::uint64_t dir_offset = r.get(end + 16, 4, "directory offset");
    if (count == 0xFFFFu || dir_size == 0xFFFFFFFFu || dir_offset == 0xFFFFFFFFu) {
      if (end < z::zip64_locator_size ||
          r.get(end - z::zip64_locator_size, 4, "ZIP64 locator") != z::zip64_locator_signature)
        throw r.fail("the end record defers to ZIP64 but there is no ZIP64 locator");
      const std::uint64_t at64 = r.get(end - z::zip64_locator_size + 8, 8, "ZIP64 end offset");
      if (at64 > bytes.size() ||
          r.get(static_cast<std::size_t>(at64), 4, "ZIP64 end record") != z::zip64_end_signature)
        throw r.fail("the ZIP64 locator points to no ZIP64 end record");
      const auto a = static_cast<std::size_t>(at64);
      count = r.get(a + 32, 8, "ZIP64 member count");
      dir_size = r.get(a + 40, 8, "ZIP64 directory size");
      dir_offset = r.get(a + 48, 8, "ZIP64 directory offset");
    }
    if (dir_offset > bytes.size() || dir_size > bytes.size() - dir_offset)
      throw r.fail("the central directory (" + std::to_string(dir_size) + " bytes at byte " +
                   std::to_string(dir_offset) + ") lies outside the " +
                   std::to_string(bytes.size()) + "-byte archive");
    if (count > dir_size / z::central_size)
      throw r.fail(std::to_string(count) + " members cannot fit a " + std::to_string(dir_size) +
                   "-byte central directory");

    npz_archive out;
    out.source_ = std::string(source);
    auto at = static_cast<std::size_t>(dir_offset);
    for (std::uint64_t i = 0; i < count; ++i) {
      if (r.get(at, 4, "directory entry") != z::central_signature)
        throw r.fail("central-directory entry " + std::to_string(i) + " has a bad signature");
      const auto flags = r.get(at + 8, 2, "flags");
      const auto method = r.get(at + 10, 2, "method");
      const auto crc = static_cast<std::uint32_t>(r.get(at + 16, 4, "CRC-32"));
      std::uint64_t csize = r.get(at + 20, 4, "compressed size");
      std::uint64_t usize = r.get(at + 24, 4, "uncompressed size");
      const auto name_len = r.get(at + 28, 2, "name length");
      const auto extra_len = r.get(at + 30, 2, "extra length");
      const auto comment_len = r.get(at + 32, 2, "comment length");
      std::uint64_t offset = r.get(at + 42, 4, "local header offset");
      const std::string file(r.slice(at + z::central_size, name_len, "member name"));
      const std::string_view extra =
          r.slice(at + z::central_size + name_len, extra_len, "extra field");
      at += z::central_size + name_len + extra_len + comment_len;
      const auto member_fail = [&](const std::string& what) {
        return r.fail("member '" + file + "': " + what);
      };
      // ZIP64 extended information: 8-byte values for the fields saturated above, in this order.
      if (usize == 0xFFFFFFFFu || csize == 0xFFFFFFFFu || offset == 0xFFFFFFFFu) {
        const z::reader x(extra, source);
        std::size_t e = 0;
        bool found = false;
        while (!found && e + 4 <= extra.size()) {
          const auto id = x.get(e, 2, "extra id");
          const auto len = x.get(e + 2, 2, "extra length");
          if (id == 0x0001u) {
            found = true;
            std::size_t v = e + 4;
            const std::size_t stop = e + 4 + static_cast<std::size_t>(len);
            for (std::uint64_t* field : {&usize, &csize, &offset})
              if (*field == 0xFFFFFFFFu) {
                if (v + 8 > stop) throw member_fail("ZIP64 extra field too short");
                *field = x.get(v, 8, "ZIP64 value");
                v += 8;
              }
          }
          e += 4 + static_cast<std::size_t>(len);
        }
        if (!found) throw member_fail("saturated sizes but no ZIP64 extra field");
      }
      if (flags & 0x1u) throw member_fail("encrypted members are not supported");
      if (method != 0)
        throw member_fail(
            "compression method " + std::to_string(method) +
            (method == 8 ? " (deflate, as numpy.savez_compressed writes)" : std::string()) +
            "; dphys reads uncompressed archives only (numpy.savez)");
      if (csize != usize)
        throw member_fail("stored member with compressed size " + std::to_string(csize) +
                          " != uncompressed size " + std::to_string(usize));
      if (file.empty() || file.back() == '/') throw member_fail("directories are not arrays");
      const auto local = static_cast<std::size_t>(std::min<std::uint64_t>(offset, bytes.size()));
      if (offset > bytes.size() || r.get(local, 4, "local header") != z::local_signature)
        throw member_fail("no local header at byte " + std::to_string(offset));
      const auto local_name_len = r.get(local + 26, 2, "local name length");
      const auto local_extra_len = r.get(local + 28, 2, "local extra length");
      if (r.slice(local + z::local_size, local_name_len, "local name") != file)
        throw member_fail(
            "the local header names '" +
            std::string(r.slice(local + z::local_size, local_name_len, "local name")) + "'");
      const std::string_view data =
          r.slice(local + z::local_size + local_name_len + local_extra_len, csize, "member data");
      if (z::crc32(data) != crc) throw member_fail("CRC-32 mismatch: the data is corrupted");
      std::string name = file.ends_with(".npy") ? file.substr(0, file.size() - 4) : file;
      if (out.contains(name)) throw member_fail("a second member with key '" + name + "'");
      out.members_.push_back({std::move(name), std::string(data)});
    }
    return out;
  }

  /// Writes the archive atomically (write_file_atomic). Throws io_error on I/O failure.
  void save(const std::filesystem::path& file) const { write_file_atomic(file, encode()); }

  /// Reads an archive. Throws io_error (cannot read) or format_error (see decode).
  [[nodiscard]] static npz_archive load(const std::filesystem::path& file) {
    return decode(read_file(file), file.string());
  }

 private:
  void check_new_name(const std::string& name) const {
    const auto bad = [](char c) {
      return c == '/' || c == '\\' || (static_cast<unsigned char>(c) < 0x20) || c == 0x7F;
    };
    if (name.empty() || std::ranges::any_of(name, bad))
      throw format_error("npz: member name '" + name +
                         "' must be non-empty, without '/', '\\' or control characters");
    if (contains(name)) throw format_error("npz: a second member named '" + name + "'");
  }

  std::vector<npz_member> members_;
  std::string source_ = "<memory>";
};

}  // namespace dphys::run
