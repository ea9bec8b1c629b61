// Tests of the run-directory I/O layer: atomic_file, sha256, npy, jsonl, manifest, run_dir.
#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dphys/core/state_io.hpp>
#include <dphys/run/atomic_file.hpp>
#include <dphys/run/jsonl.hpp>
#include <dphys/run/manifest.hpp>
#include <dphys/run/npy.hpp>
#include <dphys/run/npz.hpp>
#include <dphys/run/run_dir.hpp>
#include <dphys/run/sha256.hpp>

#include "support.hpp"

namespace fs = std::filesystem;
namespace rn = dphys::run;
using dphys::json;

namespace {

// Whether `text` has the shape of `pattern`: '9' stands for any decimal digit, every other character
// for itself. (Instead of std::regex: lighter to compile, and free of libstdc++ 12's
// -Wmaybe-uninitialized false positive in <regex> under -fsanitize=address.)
bool has_shape(std::string_view text, std::string_view pattern) {
  if (text.size() != pattern.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (pattern[i] == '9' ? !digit : text[i] != pattern[i]) return false;
  }
  return true;
}

using dphys_test::file_size_limit;
using dphys_test::message_of;
using dphys_test::temp_dir;

void put(const fs::path& p, const std::string& bytes) {  // plain (non-atomic) setup write
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

bool has_temp_files(const fs::path& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) return true;
  return false;
}

bool python_numpy_available() {
  static const bool ok = std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
  return ok;
}

// Runs a python script file with /usr/bin/python3; true if it exits with 0.
bool run_python(const fs::path& script) {
  const std::string cmd = "/usr/bin/python3 '" + script.string() + "'";
  const int rc = std::system(cmd.c_str());
  return rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

}  // namespace

// ----------------------------------------------------------------------------------------------
// atomic_file

TEST_CASE("write_file_atomic creates, replaces and leaves no temporary file") {
  temp_dir dir;
  const fs::path f = dir / "data.txt";
  rn::write_file_atomic(f, "first");
  CHECK(rn::read_file(f) == "first");
  rn::write_file_atomic(f, "second, longer content\n");
  CHECK(rn::read_file(f) == "second, longer content\n");
  rn::write_file_atomic(f, "");
  CHECK(rn::read_file(f).empty());
  CHECK(fs::file_size(f) == 0);
  const std::string binary("\0\x01\xff\n\0", 5);
  rn::write_file_atomic(f, binary);
  CHECK(rn::read_file(f) == binary);
  CHECK(entries(dir.path()) == std::vector<std::string>{"data.txt"});
}

TEST_CASE("write_file_atomic failures throw io_error and keep the previous file") {
  temp_dir dir;

  SUBCASE("parent is a regular file") {
    put(dir / "plain", "x");
    const fs::path target = dir / "plain" / "out.json";
    const std::string msg = message_of<rn::io_error>([&] { rn::write_file_atomic(target, "{}"); });
    CHECK_CONTAINS(msg, target.string());
    CHECK_CONTAINS(msg, "Not a directory");
    CHECK(rn::read_file(dir / "plain") == "x");
  }

  SUBCASE("rename fails: the target is a directory") {
    const fs::path target = dir / "occupied";
    fs::create_directory(target);
    put(target / "inside", "keep");
    const std::string msg = message_of<rn::io_error>([&] { rn::write_file_atomic(target, "new"); });
    CHECK_CONTAINS(msg, "'" + target.string() + "'");
    CHECK_CONTAINS(msg, "cannot rename");
    CHECK(fs::is_directory(target));
    CHECK(rn::read_file(target / "inside") == "keep");
    CHECK(entries(dir.path()) == std::vector<std::string>{"occupied"});
  }

  SUBCASE("short write (file size limit): previous content intact, temp file removed") {
    const fs::path target = dir / "genome.bin";
    rn::write_file_atomic(target, "previous content");
    const std::string big(100000, 'z');
    std::string msg;
    {
      file_size_limit limit(4096);
      msg = message_of<rn::io_error>([&] { rn::write_file_atomic(target, big); });
    }
    CHECK_CONTAINS(msg, "write_file_atomic '" + target.string() + "'");
    CHECK_CONTAINS(msg, "cannot write 100000 bytes");
    CHECK_CONTAINS(msg, "File too large");
    CHECK(rn::read_file(target) == "previous content");
    CHECK(entries(dir.path()) == std::vector<std::string>{"genome.bin"});
    rn::write_file_atomic(target, big);  // the limit is gone again
    CHECK(rn::read_file(target) == big);
  }

  SUBCASE("read-only directory") {
    const fs::path ro = dir / "ro";
    fs::create_directory(ro);
    rn::write_file_atomic(ro / "config.json", "old");
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                            fs::perms::group_exec | fs::perms::others_read |
                            fs::perms::others_exec);
    const fs::path probe = ro / "probe";
    const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
      ::close(fd);
      ::unlink(probe.c_str());
      MESSAGE(
          "skipped the read-only-directory check: this process ignores permissions (root); the "
          "short-write and rename-failure cases cover the same guarantees");
    } else {
      const std::string msg =
          message_of<rn::io_error>([&] { rn::write_file_atomic(ro / "config.json", "new"); });
      CHECK_CONTAINS(msg, (ro / "config.json").string());
      CHECK_CONTAINS(msg, "Permission denied");
      CHECK(rn::read_file(ro / "config.json") == "old");
      CHECK(entries(ro) == std::vector<std::string>{"config.json"});
    }
  }

  SUBCASE("the target names no file") {
    const std::string msg =
        message_of<rn::io_error>([&] { rn::write_file_atomic(dir.path() / "", "x"); });
    CHECK_CONTAINS(msg, "names no file");
  }
}

TEST_CASE("write_all reports ENOSPC from /dev/full") {
  rn::detail::unique_fd full(::open("/dev/full", O_WRONLY | O_CLOEXEC));
  if (!full) {
    MESSAGE("skipped: /dev/full is not available");
    return;
  }
  CHECK(rn::detail::write_all(full.get(), "some bytes") == ENOSPC);
  CHECK(std::string(rn::detail::os_error("op", "/dev/full", "cannot write", ENOSPC).what()) ==
        "op '/dev/full': cannot write: No space left on device");
}

TEST_CASE("read_file errors name the file and the reason") {
  temp_dir dir;
  const fs::path missing = dir / "missing.json";
  CHECK(message_of<rn::io_error>([&] { (void)rn::read_file(missing); }) ==
        "read_file '" + missing.string() + "': cannot open for reading: No such file or directory");
  CHECK(message_of<rn::io_error>([&] { (void)rn::read_file(dir.path()); }) ==
        "read_file '" + dir.path().string() + "': cannot read: Is a directory");
}

// ----------------------------------------------------------------------------------------------
// sha256

TEST_CASE("sha256 FIPS 180-4 test vectors") {
  CHECK(rn::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(rn::sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(rn::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(rn::sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjkl"
                       "mnopqklmnopqrlmnopqrs"
                       "mnopqrstnopqrstu") ==
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  const std::string million(1000000, 'a');
  CHECK(rn::sha256_hex(million) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

  rn::sha256_hasher streamed;  // the same message fed in awkward pieces
  std::size_t pos = 0;
  for (std::size_t step : {1u, 55u, 56u, 63u, 64u, 65u, 127u, 1000u}) {
    streamed.update(std::string_view(million).substr(pos, step));
    pos += step;
  }
  streamed.update(std::string_view(million).substr(pos));
  CHECK(streamed.finish_hex() ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  CHECK(streamed.finish_hex() == rn::sha256_hex(""));  // finish() resets
}

TEST_CASE("sha256 padding boundaries agree with sha256sum") {
  if (std::system("command -v sha256sum >/dev/null 2>&1") != 0) {
    MESSAGE("skipped: sha256sum not available");
    return;
  }
  temp_dir dir;
  for (std::size_t len : {55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u, 200000u}) {
    std::string bytes(len, '\0');
    for (std::size_t i = 0; i < len; ++i) bytes[i] = static_cast<char>((i * 131 + 7) & 0xff);
    const fs::path f = dir / "blob.bin";
    put(f, bytes);
    const std::string cmd = "sha256sum '" + f.string() + "' > '" + (dir / "sum.txt").string() + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
    const std::string expected = rn::read_file(dir / "sum.txt").substr(0, 64);
    CAPTURE(len);
    CHECK(rn::sha256_file(f) == expected);
    CHECK(rn::sha256_hex(bytes) == expected);
  }
  const fs::path missing = dir / "nope";
  CHECK(message_of<rn::io_error>([&] { (void)rn::sha256_file(missing); }) ==
        "sha256_file '" + missing.string() +
            "': cannot open for reading: No such file or directory");
}

// ----------------------------------------------------------------------------------------------
// npy

namespace {

template <class T>
std::vector<T> sample_values(std::size_t n) {
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto k = static_cast<long long>(i);
    if constexpr (std::is_floating_point_v<T>)
      v[i] = static_cast<T>(0.25 * static_cast<double>(k) - 3.0);
    else if constexpr (std::is_signed_v<T>)
      v[i] = static_cast<T>(k % 2 == 0 ? k * 37 : -k * 37);
    else
      v[i] = static_cast<T>(k * 37 + 200);
  }
  if constexpr (std::is_integral_v<T>)
    if (n >= 2) {  // extremes
      v[0] = std::numeric_limits<T>::min();
      v[n - 1] = std::numeric_limits<T>::max();
    }
  return v;
}

// The last shape makes numpy's header end exactly on a 64-byte boundary, where np.save pads 64 more
// spaces.
const std::vector<std::size_t> aligned_header_shape = {2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 10, 10};
const std::vector<std::vector<std::size_t>> sample_shapes = {
    {}, {0}, {7}, {2, 3}, {2, 3, 4}, {3, 0, 2}, {1, 1, 1, 5}, aligned_header_shape};

std::size_t count(const std::vector<std::size_t>& shape) {
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

}  // namespace

TEST_CASE_TEMPLATE("npy round trip for every dtype and rank", T, float, double, std::int32_t,
                   std::int64_t, std::uint8_t, std::int8_t, std::int16_t, std::uint16_t,
                   std::uint32_t, std::uint64_t) {
  temp_dir dir;
  for (const auto& shape : sample_shapes) {
    CAPTURE(rn::detail::shape_str(shape));
    const std::vector<T> values = sample_values<T>(count(shape));
    const fs::path f = dir / "a.npy";
    rn::save_npy(f, values, shape);  // contiguous-range overload
    const std::string bytes = rn::read_file(f);
    const std::size_t header_end = bytes.size() - values.size() * sizeof(T);
    CHECK(header_end % 64 == 0);
    CHECK(bytes[header_end - 1] == '\n');
    CHECK(bytes[6] == '\x01');
    CHECK(bytes[7] == '\0');
    const rn::npy_array<T> back = rn::load_npy<T>(f);
    CHECK(back.shape == shape);
    CHECK(back.data == values);
  }
  CHECK(entries(dir.path()) == std::vector<std::string>{"a.npy"});
}

TEST_CASE("npy header bytes are exactly numpy's") {
  const std::vector<float> v = {1.f, 2.f, 3.f, 4.f, 5.f, 6.f};
  const std::string bytes = rn::encode_npy<float>(v, {2, 3});
  std::string expected_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  expected_dict.append(118 - 1 - expected_dict.size(), ' ');
  const std::string expected = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + expected_dict + "\n";
  CHECK(bytes.substr(0, 128) == expected);
  CHECK(bytes.size() == 128 + 24);
  CHECK(rn::encode_npy<std::uint8_t>(std::vector<std::uint8_t>{7}, {}).substr(10, 55) ==
        "{'descr': '|u1', 'fortran_order': False, 'shape': (), }");
  const std::string aligned = rn::encode_npy<float>(std::vector<float>(200), aligned_header_shape);
  CHECK(aligned.size() ==
        192 + 800);  // dictionary + growth spaces end at byte 127: 64 more spaces follow
  CHECK(aligned.substr(127 - 20, 20 + 64) == std::string(84, ' '));
  CHECK(aligned[191] == '\n');
  CHECK(rn::npy_descr<double> == "<f8");
  CHECK(rn::npy_descr<std::int64_t> == "<i8");
  static_assert(!rn::npy_element<bool> && !rn::npy_element<char> && !rn::npy_element<long double>);
}

TEST_CASE("npy reader accepts hand-built headers") {
  const auto file_with = [](std::string_view version, std::string header, std::string_view data) {
    std::string out = "\x93NUMPY";
    out += version;
    const std::size_t n = header.size();
    out += static_cast<char>(n & 0xff);
    out += static_cast<char>((n >> 8) & 0xff);
    if (version[0] == '\x02') {
      out += static_cast<char>((n >> 16) & 0xff);
      out += static_cast<char>((n >> 24) & 0xff);
    }
    return out + header + std::string(data);
  };
  const std::int32_t raw[6] = {1, -2, 3, -4, 5, -6};
  const std::string_view data(reinterpret_cast<const char*>(raw), sizeof raw);
  const std::vector<std::int32_t> expected(raw, raw + 6);

  SUBCASE("version 1.0, unpadded, reordered keys, double quotes, Python 2 longs") {
    const auto a = rn::decode_npy<std::int32_t>(
        file_with(std::string("\x01\x00", 2),
                  "{\"shape\": (3L, 2L), 'fortran_order':False,'descr':'<i4'}\n", data));
    CHECK(a.shape == std::vector<std::size_t>{3, 2});
    CHECK(a.data == expected);
  }
  SUBCASE("version 2.0") {
    const auto a = rn::decode_npy<std::int32_t>(
        file_with(std::string("\x02\x00", 2),
                  "{'descr': '<i4', 'fortran_order': False, 'shape': (6,), }  \n", data));
    CHECK(a.shape == std::vector<std::size_t>{6});
    CHECK(a.data == expected);
  }
  SUBCASE("one-byte types ignore the byte-order character") {
    const auto a = rn::decode_npy<std::uint8_t>(
        file_with(std::string("\x01\x00", 2),
                  "{'descr': '<u1', 'fortran_order': False, 'shape': (2,)}\n", "\x07\x09"));
    CHECK(a.data == std::vector<std::uint8_t>{7, 9});
  }
  SUBCASE("version 2.0 is written for huge headers") {  // rank-22000 shape of ones: header > 65535
                                                        // bytes
    const std::vector<std::size_t> shape(22000, 1);
    const std::string bytes = rn::encode_npy<float>(std::vector<float>{2.5f}, shape);
    CHECK(bytes[6] == '\x02');
    CHECK((bytes.size() - 4) % 64 == 0);
    const auto a = rn::decode_npy<float>(bytes);
    CHECK(a.shape == shape);
    CHECK(a.data == std::vector<float>{2.5f});
  }
}

TEST_CASE("npy reader errors name the file and the problem") {
  temp_dir dir;
  const fs::path f = dir / "g.npy";
  const std::string name = "npy '" + f.string() + "': ";
  const std::vector<float> v = {1, 2, 3, 4, 5, 6};
  rn::save_npy<float>(f, v, {2, 3});
  const std::string good = rn::read_file(f);
  const auto load_f4 = [&] { (void)rn::load_npy<float>(f); };

  CHECK(message_of<rn::format_error>([&] { (void)rn::load_npy<double>(f); }) ==
        name + "wrong dtype: expected <f8, found <f4");
  CHECK(message_of<rn::format_error>([&] { (void)rn::load_npy<std::int32_t>(f); }) ==
        name + "wrong dtype: expected <i4, found <f4");

  put(f, good.substr(0, good.size() - 3));
  CHECK(message_of<rn::format_error>(load_f4) ==
        name + "truncated: shape (2, 3) of <f4 needs 24 data bytes, the file has 21");
  put(f, good.substr(0, 50));
  CHECK(message_of<rn::format_error>(load_f4) ==
        name + "truncated: the header declares 118 bytes but only 40 follow the preamble");
  put(f, good.substr(0, 9));
  CHECK(message_of<rn::format_error>(load_f4) ==
        name + "truncated: the file ends inside the header-length field");
  put(f, good + "xx");
  CHECK(message_of<rn::format_error>(load_f4) ==
        name +
            "file size does not match the header: shape (2, 3) of <f4 needs 24 data bytes, the "
            "file has 26");
  put(f, "");
  CHECK(message_of<rn::format_error>(load_f4) ==
        name + "not a .npy file (bad magic: the file must start with \\x93NUMPY)");
  put(f, "PK\x03\x04 this is a zip");
  CHECK_CONTAINS(message_of<rn::format_error>(load_f4), "bad magic");
  std::string v3 = good;
  v3[6] = '\x03';
  put(f, v3);
  CHECK(message_of<rn::format_error>(load_f4) ==
        name + "unsupported .npy format version 3.0 (supported: 1.0, 2.0)");

  const auto with_dict = [&](std::string dict) {
    dict.resize(117, ' ');
    put(f, good.substr(0, 10) + dict + "\n" + good.substr(128));
    return message_of<rn::format_error>(load_f4);
  };
  CHECK(with_dict("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }") ==
        name + "fortran_order True is not supported (only C-order arrays)");
  CHECK(with_dict("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }") ==
        name + "wrong dtype: expected <f4, found >f4");
  CHECK(with_dict("{'descr': '<f4', 'shape': (2, 3), }") ==
        name + "header lacks the key 'fortran_order'");
  CHECK(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}") ==
        name + "unexpected key 'x' in header (allowed: descr, fortran_order, shape)");
  CHECK(with_dict("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }") ==
        name + "duplicate key 'descr' in header");
  CHECK(with_dict("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }") ==
        name +
            "structured or non-string 'descr' is not supported (only simple dtypes such as <f4)");
  CHECK(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (6), }") ==
        name + "'shape' (6) is not a tuple; a 1-d shape is written (6,)");
  CHECK(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }") ==
        name + "expected a non-negative integer in 'shape' at header offset 54, found '-'");
  CHECK(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } junk") ==
        name + "unexpected characters after the header dictionary");
  CHECK(with_dict(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }") ==
        name + "shape dimension out of range");
  CHECK(
      with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }") ==
      name + "shape (4294967296, 4294967296) is too large");
  CHECK(with_dict("{'descr': '<f4' 'fortran_order': False}") ==
        name + "expected ',' or '}' in header dictionary at header offset 16, found '''");

  const fs::path missing = dir / "missing.npy";
  CHECK_CONTAINS(message_of<rn::io_error>([&] { (void)rn::load_npy<float>(missing); }),
                 "No such file or directory");
}

TEST_CASE("save_npy refuses a shape that does not match the data and writes nothing") {
  temp_dir dir;
  const fs::path f = dir / "best_genome.npy";
  rn::save_npy<float>(f, std::vector<float>{1, 2}, {2});
  const std::string before = rn::read_file(f);
  const std::vector<float> five(5, 1.f);
  CHECK(message_of<rn::format_error>([&] {
          rn::save_npy<float>(f, five, {2, 3});
        }) == "npy '" + f.string() + "': shape (2, 3) has 6 elements but 5 values were given");
  CHECK(rn::read_file(f) == before);
  CHECK_CONTAINS(message_of<rn::format_error>([&] {
                   rn::save_npy<float>(f, five, {std::size_t{1} << 40, std::size_t{1} << 40});
                 }),
                 "has too many elements");
  CHECK(entries(dir.path()) == std::vector<std::string>{"best_genome.npy"});
}

TEST_CASE("npy files interoperate with numpy") {
  if (!python_numpy_available()) {
    MESSAGE("skipped: /usr/bin/python3 with numpy is not available");
    return;
  }
  temp_dir dir;
  std::ostringstream py;
  py << "import numpy as np, sys\nok = True\n";
  int k = 0;
  const auto add = [&]<class T>(const std::vector<std::size_t>& shape, T) {
    const std::vector<T> values = sample_values<T>(count(shape));
    const std::string ours = (dir / ("ours" + std::to_string(k) + ".npy")).string();
    const std::string theirs = (dir / ("numpy" + std::to_string(k) + ".npy")).string();
    ++k;
    rn::save_npy<T>(ours, values, shape);
    py << "expected = [";
    for (const T& x : values) py << +x << ",";
    py << "]\nshape = " << rn::detail::shape_str(shape) << "\n"
       << "a = np.load('" << ours << "')\n"
       << "if a.dtype.str != '"
       << rn::npy_descr<T> << "' or a.shape != shape or a.ravel().tolist() != expected:\n"
       << "    print('numpy read mismatch in " << ours
       << "', a.dtype.str, a.shape, file=sys.stderr); ok = False\n"
       << "np.save('" << theirs << "', np.array(expected, dtype='"
       << rn::npy_descr<T> << "').reshape(shape))\n"
       << "if open('" << theirs << "', 'rb').read() != open('" << ours << "', 'rb').read():\n"
       << "    print('bytes differ from np.save:', '" << ours
       << "', file=sys.stderr); ok = False\n";
    return std::pair{theirs, values};
  };
  std::vector<std::pair<std::string, std::vector<float>>> f32;
  std::vector<std::pair<std::string, std::vector<double>>> f64;
  std::vector<std::pair<std::string, std::vector<std::int32_t>>> i32;
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> i64;
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> u8;
  std::vector<std::vector<std::size_t>> shapes;
  for (const auto& shape : sample_shapes) {
    shapes.push_back(shape);
    f32.push_back(add(shape, float{}));
    f64.push_back(add(shape, double{}));
    i32.push_back(add(shape, std::int32_t{}));
    i64.push_back(add(shape, std::int64_t{}));
    u8.push_back(add(shape, std::uint8_t{}));
  }
  py << "sys.exit(0 if ok else 1)\n";
  put(dir / "check.py", py.str());
  REQUIRE(run_python(dir / "check.py"));

  for (std::size_t i = 0; i < shapes.size(); ++i) {  // files written by np.save load back exactly
    CAPTURE(rn::detail::shape_str(shapes[i]));
    CHECK(rn::load_npy<float>(f32[i].first).data == f32[i].second);
    CHECK(rn::load_npy<double>(f64[i].first).data == f64[i].second);
    CHECK(rn::load_npy<std::int32_t>(i32[i].first).data == i32[i].second);
    CHECK(rn::load_npy<std::int64_t>(i64[i].first).data == i64[i].second);
    const auto a = rn::load_npy<std::uint8_t>(u8[i].first);
    CHECK(a.data == u8[i].second);
    CHECK(a.shape == shapes[i]);
  }
}

// ----------------------------------------------------------------------------------------------
// npz

namespace {
std::string error_of(const auto& f) {
  try {
    f();
  } catch (const rn::format_error& e) {
    return e.what();
  }
  return "(no format_error)";
}
std::uint32_t le32(const std::string& b, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t{static_cast<unsigned char>(b[at + i])} << (8 * i);
  return v;
}
rn::npz_archive sample_archive() {
  rn::npz_archive a;
  a.add("obs_w", std::vector<float>{0.5f, -1.25f, 3.0f, 1e-30f, -0.0f, 7.0f}, {2, 3});
  a.add("edge_index", std::vector<std::int32_t>{0, 1, 1, 2, 2, 0}, {3, 2});
  a.add("scalar", std::vector<double>{2.5}, {});
  return a;
}
}  // namespace

TEST_CASE("npz: CRC-32 check value and byte-identical archives") {
  CHECK(rn::detail::zip::crc32("123456789") == 0xCBF43926u);  // the CRC-32/ISO-HDLC check value
  CHECK(rn::detail::zip::crc32("") == 0u);
  const std::string bytes = sample_archive().encode();
  CHECK(bytes == sample_archive().encode());
  // Layout: local header of the first member at 0, end record in the last 22 bytes naming three
  // members and the directory right after the last member's data.
  CHECK(le32(bytes, 0) == 0x04034b50u);
  REQUIRE(bytes.size() > 22);
  const std::size_t end = bytes.size() - 22;
  CHECK(le32(bytes, end) == 0x06054b50u);
  CHECK((le32(bytes, end + 8) & 0xFFFFu) == 3u);
  CHECK(le32(bytes, end + 16) + le32(bytes, end + 12) == end);
}

TEST_CASE("npz: round trip keeps names, order, dtypes, shapes and values") {
  const auto a = rn::npz_archive::decode(sample_archive().encode(), "mem");
  REQUIRE(a.members().size() == 3);
  CHECK(a.members()[0].name == "obs_w");
  CHECK(a.members()[1].name == "edge_index");
  CHECK(a.members()[2].name == "scalar");
  const auto w = a.get<float>("obs_w");
  CHECK(w.shape == std::vector<std::size_t>{2, 3});
  CHECK(w.data == std::vector<float>{0.5f, -1.25f, 3.0f, 1e-30f, -0.0f, 7.0f});
  CHECK(std::signbit(w.data[4]));
  CHECK(a.get<std::int32_t>("edge_index").data == std::vector<std::int32_t>{0, 1, 1, 2, 2, 0});
  CHECK(a.get<double>("scalar").shape.empty());
  CHECK(a.get<double>("scalar").data == std::vector<double>{2.5});
  CHECK(error_of([&] { (void)a.get<float>("nope"); }) ==
        "npz 'mem': no array 'nope' (members: obs_w, edge_index, scalar)");
  CHECK(error_of([&] { (void)a.get<double>("obs_w"); }) ==
        "npy 'mem:obs_w.npy': wrong dtype: expected <f8, found <f4");
  CHECK(rn::npz_archive::decode(rn::npz_archive{}.encode()).members().empty());

  temp_dir dir;
  sample_archive().save(dir / "a.npz");
  CHECK(rn::read_file(dir / "a.npz") == sample_archive().encode());
  CHECK(rn::npz_archive::load(dir / "a.npz").get<float>("obs_w").data == w.data);
}

TEST_CASE("npz: the writer refuses bad names and duplicates") {
  rn::npz_archive a;
  const std::vector<float> v{1.0f};
  a.add("x", v, {1});
  CHECK(error_of([&] { a.add("x", v, {1}); }) == "npz: a second member named 'x'");
  CHECK(error_of([&] { a.add("", v, {1}); }).find("must be non-empty") != std::string::npos);
  CHECK(error_of([&] { a.add("a/b", v, {1}); }).find("without '/'") != std::string::npos);
  CHECK(error_of([&] { a.add("y", v, {2}); }).find("shape (2,) has 2 elements") !=
        std::string::npos);
  CHECK(a.members().size() == 1);
}

TEST_CASE("npz: numpy.savez archives decode (ZIP64 local headers), savez_compressed is refused") {
  const fs::path corpus = fs::path(DPHYS_FUZZ_DIR) / "corpus" / "npz";
  // Written by numpy 1.24's np.savez: obs_w = arange(12)/8 as float32 [3, 4], edge_index int32
  // [[0,1],[1,2],[2,0]], scalar float64 2.5; every local header carries a ZIP64 extra field.
  const auto a = rn::npz_archive::load(corpus / "numpy_savez.npz");
  REQUIRE(a.members().size() == 3);
  const auto w = a.get<float>("obs_w");
  CHECK(w.shape == std::vector<std::size_t>{3, 4});
  for (std::size_t i = 0; i < 12; ++i) CHECK(w.data[i] == static_cast<float>(i) / 8.0f);
  CHECK(a.get<std::int32_t>("edge_index").data == std::vector<std::int32_t>{0, 1, 1, 2, 2, 0});
  CHECK(a.get<double>("scalar").data == std::vector<double>{2.5});
  CHECK(rn::npz_archive::load(corpus / "numpy_empty.npz").members().empty());
  const std::string file = (corpus / "numpy_savez_compressed.npz").string();
  CHECK(error_of([&] { (void)rn::npz_archive::load(file); }) ==
        "npz '" + file +
            "': member 'x.npy': compression method 8 (deflate, as numpy.savez_compressed "
            "writes); dphys reads uncompressed archives only (numpy.savez)");
}

TEST_CASE("npz: ZIP64 end records are followed") {
  // The sample archive with its end record saturated and a ZIP64 end record + locator in front.
  const std::string plain = sample_archive().encode();
  const std::size_t end = plain.size() - 22;
  const std::uint64_t dir_size = le32(plain, end + 12), dir_offset = le32(plain, end + 16);
  std::string z = plain.substr(0, end);
  const std::uint64_t z64_at = z.size();
  rn::detail::zip::put(z, 0x06064b50u, 4);
  rn::detail::zip::put(z, 44, 8);  // size of the rest of the record
  rn::detail::zip::put(z, 45, 2);
  rn::detail::zip::put(z, 45, 2);
  rn::detail::zip::put(z, 0, 4);
  rn::detail::zip::put(z, 0, 4);
  rn::detail::zip::put(z, 3, 8);
  rn::detail::zip::put(z, 3, 8);
  rn::detail::zip::put(z, dir_size, 8);
  rn::detail::zip::put(z, dir_offset, 8);
  rn::detail::zip::put(z, 0x07064b50u, 4);
  rn::detail::zip::put(z, 0, 4);
  rn::detail::zip::put(z, z64_at, 8);
  rn::detail::zip::put(z, 1, 4);
  rn::detail::zip::put(z, 0x06054b50u, 4);
  rn::detail::zip::put(z, 0, 4);
  rn::detail::zip::put(z, 0xFFFFu, 2);
  rn::detail::zip::put(z, 0xFFFFu, 2);
  rn::detail::zip::put(z, 0xFFFFFFFFu, 4);
  rn::detail::zip::put(z, 0xFFFFFFFFu, 4);
  rn::detail::zip::put(z, 0, 2);
  const auto a = rn::npz_archive::decode(z, "zip64");
  REQUIRE(a.members().size() == 3);
  CHECK(a.get<std::int32_t>("edge_index").data == std::vector<std::int32_t>{0, 1, 1, 2, 2, 0});
  // Without the locator the saturated end record cannot be followed.
  std::string no_locator = z;
  no_locator[static_cast<std::size_t>(z64_at) + 56] = 'X';
  CHECK(error_of([&] { (void)rn::npz_archive::decode(no_locator, "z"); }) ==
        "npz 'z': the end record defers to ZIP64 but there is no ZIP64 locator");
}

TEST_CASE("npz: damaged archives are refused by name, never read out of bounds") {
  const std::string good = sample_archive().encode();
  const auto err = [](std::string bytes) {
    return error_of([&] { (void)rn::npz_archive::decode(bytes, "bad.npz"); });
  };
  CHECK(err("") == "npz 'bad.npz': not a ZIP archive (0 bytes, shorter than its end record)");
  CHECK(err(std::string(100, 'x')) ==
        "npz 'bad.npz': not a ZIP archive (no end-of-central-directory record)");
  std::string flipped = good;
  flipped[40] ^= 0x01;  // a data byte of obs_w.npy's header
  CHECK(err(flipped) ==
        "npz 'bad.npz': member 'obs_w.npy': CRC-32 mismatch: the data is corrupted");
  std::string deflated = good;
  deflated[le32(good, good.size() - 6) + 10] = 8;  // first directory entry: method 8
  CHECK(err(deflated).find("member 'obs_w.npy': compression method 8 (deflate") !=
        std::string::npos);
  std::string encrypted = good;
  encrypted[le32(good, good.size() - 6) + 8] = 1;
  CHECK(err(encrypted) == "npz 'bad.npz': member 'obs_w.npy': encrypted members are not supported");
  // Every truncation of the archive is refused with a format_error (or decodes fewer bytes? never:
  // the end record is at the end).
  for (std::size_t n = 0; n < good.size(); ++n) {
    CAPTURE(n);
    CHECK(err(good.substr(0, n)).starts_with("npz 'bad.npz': "));
  }
}

TEST_CASE("npz archives interoperate with numpy") {
  if (!python_numpy_available()) {
    MESSAGE("skipped: /usr/bin/python3 with numpy is not available");
    return;
  }
  temp_dir dir;
  sample_archive().save(dir / "ours.npz");
  const std::string ours = (dir / "ours.npz").string(), theirs = (dir / "numpy.npz").string();
  put(dir / "check.py",
      "import numpy as np, sys, zipfile\n"
      "z = np.load('" + ours + "')\n"
      "ok = list(z.files) == ['obs_w', 'edge_index', 'scalar']\n"
      "ok = ok and z['obs_w'].dtype.str == '<f4' and z['obs_w'].shape == (2, 3)\n"
      "ok = ok and z['obs_w'].ravel().tolist() == [0.5, -1.25, 3.0, np.float32(1e-30), 0.0, 7.0]\n"
      "ok = ok and z['edge_index'].tolist() == [[0, 1], [1, 2], [2, 0]]\n"
      "ok = ok and z['scalar'].shape == () and z['scalar'] == 2.5\n"
      "ok = ok and zipfile.ZipFile('" + ours + "').testzip() is None\n"
      "np.savez('" + theirs + "', b=np.arange(5, dtype=np.int32), a=np.eye(2, dtype=np.float32))\n"
      "sys.exit(0 if ok else 1)\n");
  REQUIRE(run_python(dir / "check.py"));
  const auto a = rn::npz_archive::load(theirs);
  REQUIRE(a.members().size() == 2);
  CHECK(a.members()[0].name == "b");
  CHECK(a.get<std::int32_t>("b").data == std::vector<std::int32_t>{0, 1, 2, 3, 4});
  CHECK(a.get<float>("a").data == std::vector<float>{1, 0, 0, 1});
}

// ----------------------------------------------------------------------------------------------
// jsonl

TEST_CASE("jsonl_appender writes one sorted compact object per line") {
  temp_dir dir;
  const fs::path f = dir / "generations.jsonl";
  {
    rn::jsonl_appender log(f, /*fsync_each_record=*/true);
    CHECK(log.truncated_bytes() == 0);
    log.append({{"schema", 1}, {"generation", 0}, {"best_fitness", 1.5}, {"note", "a\nb"}});
    log.append({{"generation", 1}, {"best_fitness", std::numeric_limits<double>::quiet_NaN()}});
    CHECK(message_of<rn::format_error>([&] {
            log.append(json::array({1, 2}));
          }) == "jsonl_appender '" + f.string() + "': a record must be a JSON object, got array");
    CHECK_CONTAINS(message_of<rn::format_error>([&] {
                     log.append({{"bad", "\xff\xfe"}});
                   }),
                   "cannot be serialised");
  }
  CHECK(rn::read_file(f) ==
        "{\"best_fitness\":1.5,\"generation\":0,\"note\":\"a\\nb\",\"schema\":1}\n"
        "{\"best_fitness\":null,\"generation\":1}\n");
  {
    rn::jsonl_appender again(f);  // appends after existing records
    again.append({{"generation", 2}});
    again.sync();
  }
  const auto records = rn::read_jsonl(f);
  REQUIRE(records.size() == 3);
  CHECK(records[0]["note"] == "a\nb");
  CHECK(records[1]["best_fitness"].is_null());
  CHECK(records[2] == json{{"generation", 2}});
}

TEST_CASE("jsonl_appender truncates a partial last line on open") {
  temp_dir dir;
  const fs::path f = dir / "generations.jsonl";
  const std::string complete = "{\"generation\":0}\n{\"generation\":1}\n";

  SUBCASE("partial record after complete ones") {
    const std::string partial = "{\"generation\":2,\"best_fi";
    put(f, complete + partial);
    rn::jsonl_appender log(f);
    CHECK(log.truncated_bytes() == partial.size());
    CHECK(rn::read_file(f) == complete);
    log.append({{"generation", 2}});
    CHECK(rn::read_file(f) == complete + "{\"generation\":2}\n");
  }
  SUBCASE("no newline at all") {
    put(f, "{\"generation\":0");
    rn::jsonl_appender log(f);
    CHECK(log.truncated_bytes() == 15);
    CHECK(fs::file_size(f) == 0);
  }
  SUBCASE("partial line longer than the 4 KiB scan block") {
    const std::string partial = "{\"x\":\"" + std::string(10000, 'y');
    put(f, complete + partial);
    rn::jsonl_appender log(f);
    CHECK(log.truncated_bytes() == partial.size());
    CHECK(rn::read_file(f) == complete);
  }
  SUBCASE("a clean file is untouched") {
    put(f, complete);
    rn::jsonl_appender log(f);
    CHECK(log.truncated_bytes() == 0);
    CHECK(rn::read_file(f) == complete);
  }
  SUBCASE("a missing file is created empty") {
    rn::jsonl_appender log(f);
    CHECK(log.truncated_bytes() == 0);
    CHECK(fs::exists(f));
    CHECK(fs::file_size(f) == 0);
  }
}

TEST_CASE("jsonl_appender rolls back a record it could not write completely") {
  temp_dir dir;
  const fs::path f = dir / "generations.jsonl";
  rn::jsonl_appender log(f);
  log.append({{"generation", 0}});
  const std::string before = rn::read_file(f);
  std::string msg;
  {
    file_size_limit limit(before.size() + 10);  // the next line gets only 10 bytes in
    msg = message_of<rn::io_error>([&] {
      log.append({{"generation", 1}, {"padding", std::string(200, 'p')}});
    });
  }
  CHECK_CONTAINS(msg, "jsonl_appender '" + f.string() +
                          "': cannot append a record (the file was truncated back");
  CHECK_CONTAINS(msg, "File too large");
  CHECK(rn::read_file(f) == before);
  log.append({{"generation", 1}});  // still usable afterwards
  CHECK(rn::read_jsonl(f).size() == 2);
}

TEST_CASE("read_jsonl reports the line number of bad lines") {
  temp_dir dir;
  const fs::path f = dir / "g.jsonl";
  const std::string where = "read_jsonl '" + f.string() + "' line ";

  put(f, "{\"a\":1}\n{\"a\":2}");  // a complete last line without newline is accepted
  CHECK(rn::read_jsonl(f).size() == 2);
  put(f, "");
  CHECK(rn::read_jsonl(f).empty());

  put(f, "{\"a\":1}\n{\"a\":}\n{\"a\":3}\n");
  CHECK_CONTAINS(message_of<rn::format_error>([&] { (void)rn::read_jsonl(f); }),
                 where + "2: [json.exception.parse_error");
  put(f, "{\"a\":1}\n{\"a\":2,\"b");
  const std::string partial = message_of<rn::format_error>([&] { (void)rn::read_jsonl(f); });
  CHECK_CONTAINS(partial, where + "2: ");
  CHECK_CONTAINS(partial, "the last line has no trailing newline");
  put(f, "{\"a\":1}\n\n{\"a\":3}\n");
  CHECK(message_of<rn::format_error>([&] { (void)rn::read_jsonl(f); }) ==
        where + "2: empty line (every line must hold one JSON object)");
  put(f, "{\"a\":1}\n{\"a\":2}\n[3]\n");
  CHECK(message_of<rn::format_error>([&] { (void)rn::read_jsonl(f); }) ==
        where + "3: expected a JSON object, found array");
  CHECK_CONTAINS(message_of<rn::io_error>([&] { (void)rn::read_jsonl(dir / "none.jsonl"); }),
                 "No such file");
}

// ----------------------------------------------------------------------------------------------
// manifest

TEST_CASE("make_manifest records what produced the run") {
  rn::manifest_info info;
  info.library_version = "0.1.0";
  info.seed = std::numeric_limits<std::uint64_t>::max();
  info.threads = 2;
  info.simd_arch = "avx512bw";
  info.build_flags = "-O2 -march=native";
  info.git_describe = "v0.1-3-gabcdef";
  info.start_time_utc = "2024-01-02T03:04:05Z";
  info.command_line = {"koki2_evolve", "--seed=7"};
  info.extra = {{"tag", "l0"}};
  const json m = make_manifest(info);
  CHECK(m == json{{"manifest_schema", 1},
                  {"library_version", "0.1.0"},
                  {"seed", std::numeric_limits<std::uint64_t>::max()},
                  {"threads", 2},
                  {"simd_arch", "avx512bw"},
                  {"compiler", rn::compiler_id()},
                  {"build_flags", "-O2 -march=native"},
                  {"git_describe", "v0.1-3-gabcdef"},
                  {"start_time_utc", "2024-01-02T03:04:05Z"},
                  {"command_line", {"koki2_evolve", "--seed=7"}},
                  {"extra", {{"tag", "l0"}}},
                  {"artifacts", json::object()}});
  CHECK(json::parse(m.dump())["seed"].get<std::uint64_t>() ==
        std::numeric_limits<std::uint64_t>::max());

  const json now = make_manifest(rn::manifest_info{});
  constexpr std::string_view utc_shape = "9999-99-99T99:99:99Z";
  CHECK(has_shape(now["start_time_utc"].get<std::string>(), utc_shape));
  CHECK_FALSE(has_shape("2024-1-02T03:04:05Z", utc_shape));
  CHECK_FALSE(has_shape("2024-01-02 03:04:05Z", utc_shape));
  CHECK_FALSE(has_shape("2024-01-02T03:04:0xZ", utc_shape));
  CHECK(rn::utc_iso8601(std::chrono::system_clock::time_point(std::chrono::seconds(1000000000))) ==
        "2001-09-09T01:46:40Z");
#if defined(__clang__)
  CHECK(rn::compiler_id().rfind("clang++ ", 0) == 0);
#elif defined(__GNUC__)
  CHECK(rn::compiler_id() == std::string("g++ ") + __VERSION__);
#endif
  CHECK(rn::compiler_id().back() != ' ');
}

// ----------------------------------------------------------------------------------------------
// run_dir

TEST_CASE("run_directory creates its directory and validates file names") {
  temp_dir tmp;
  const fs::path d = tmp / "runs" / "2024_l0_seed1";
  auto run = rn::run_directory::create(d);
  CHECK(fs::is_directory(d));
  CHECK(run.path() == d);
  CHECK(run.file("config.json") == d / "config.json");
  CHECK(run.file("checkpoints/gen_10.bin") == d / "checkpoints" / "gen_10.bin");
  for (std::string_view bad : {"", "../escape.json", "/etc/passwd", "a/./b", "a/..", "dir/"})
    CHECK_CONTAINS(message_of<rn::io_error>([&] { (void)run.file(bad); }),
                   "is not a file name inside the run directory");

  put(tmp / "plainfile", "x");
  CHECK_CONTAINS(
      message_of<rn::io_error>([&] { (void)rn::run_directory::create(tmp / "plainfile"); }),
      "run_directory '" + (tmp / "plainfile").string() + "'");
}

TEST_CASE("run_directory writes config.json with sorted keys and 2-space indent") {
  temp_dir tmp;
  auto run = rn::run_directory::create(tmp / "r");
  run.write_config({{"seed", 7}, {"es_cfg", {{"sigma", 0.1}, {"lr", 0.05}}}, {"tags", {"a", "b"}}});
  CHECK(rn::read_file(tmp / "r" / "config.json") ==
        "{\n  \"es_cfg\": {\n    \"lr\": 0.05,\n    \"sigma\": 0.1\n  },\n  \"seed\": 7,\n  "
        "\"tags\": [\n    \"a\",\n"
        "    \"b\"\n  ]\n}\n");
  CHECK(message_of<rn::format_error>([&] { run.write_config(json::array()); }) ==
        "run_directory '" + (tmp / "r").string() +
            "': the config must be a JSON object, got array");
  run.write_config({{"seed", 8}});  // the same run may rewrite its own config
  CHECK(rn::read_file(tmp / "r" / "config.json") == "{\n  \"seed\": 8\n}\n");
}

TEST_CASE("run_directory never clobbers a previous run") {
  temp_dir tmp;
  const fs::path d = tmp / "run";
  {
    auto first = rn::run_directory::create(d);
    first.write_config({{"seed", 1}});
    first.generations().append({{"schema", 1}, {"generation", 0}});
  }
  const std::string config_before = rn::read_file(d / "config.json");
  const std::string msg = message_of<rn::io_error>([&] { (void)rn::run_directory::create(d); });
  CHECK(msg == "run_directory '" + d.string() +
                   "': refusing to overwrite an existing run (the directory already has a "
                   "config.json); choose a "
                   "new directory, or pass allow_existing=true to continue that run");
  CHECK(rn::read_file(d / "config.json") == config_before);

  auto resumed = rn::run_directory::create(d, /*allow_existing=*/true);
  resumed.generations().append({{"schema", 1}, {"generation", 1}});
  CHECK(rn::read_jsonl(d / "generations.jsonl").size() == 2);

  SUBCASE("two objects racing for one fresh directory") {
    auto a = rn::run_directory::create(tmp / "fresh");
    auto b = rn::run_directory::create(tmp / "fresh");
    a.write_config({{"who", "a"}});
    CHECK_CONTAINS(message_of<rn::io_error>([&] {
                     b.write_config({{"who", "b"}});
                   }),
                   "refusing to overwrite");
    CHECK(rn::read_file(tmp / "fresh" / "config.json") == "{\n  \"who\": \"a\"\n}\n");
  }
  SUBCASE("an existing directory without config.json is fine") {
    fs::create_directory(tmp / "empty");
    auto e = rn::run_directory::create(tmp / "empty");
    e.write_config({{"seed", 3}});
    CHECK(fs::exists(tmp / "empty" / "config.json"));
  }
}

TEST_CASE("run_directory::finalize records checksums that match sha256_file") {
  temp_dir tmp;
  const fs::path d = tmp / "run";
  auto run = rn::run_directory::create(d);
  run.write_config({{"seed", 42}});
  for (int g = 0; g < 3; ++g)
    run.generations().append({{"schema", rn::generations_schema_version},
                              {"generation", g},
                              {"best_fitness", 10.0 * g},
                              {"mean_fitness", 5.0 * g},
                              {"median_fitness", 4.0 * g}});
  const std::vector<float> genome = {0.5f, -1.25f, 3.f, 0.f, 2.f, -0.75f};
  run.save_best_genome(genome, {2, 3});
  fs::create_directory(d / "checkpoints");
  put(d / "checkpoints" / "gen_3.bin", std::string("\x01\x02\x03", 3));
  run.add_artifact("checkpoints/gen_3.bin");
  run.add_artifact("checkpoints/gen_3.bin");  // listed once
  CHECK_CONTAINS(message_of<rn::io_error>([&] { run.add_artifact("manifest.json"); }),
                 "cannot list its own checksum");

  rn::manifest_info info;
  info.library_version = "0.1.0";
  info.seed = 42;
  run.finalize(make_manifest(info));

  const json m = json::parse(rn::read_file(d / "manifest.json"));
  CHECK(m["seed"] == 42);
  CHECK(m["library_version"] == "0.1.0");
  CHECK(m["artifacts"] ==
        json{{"config.json", rn::sha256_file(d / "config.json")},
             {"generations.jsonl", rn::sha256_file(d / "generations.jsonl")},
             {"best_genome.npy", rn::sha256_file(d / "best_genome.npy")},
             {"checkpoints/gen_3.bin", rn::sha256_hex(std::string("\x01\x02\x03", 3))}});
  CHECK(rn::read_file(d / "manifest.json").back() == '\n');

  const auto best = rn::load_npy<float>(d / "best_genome.npy");
  CHECK(best.shape == std::vector<std::size_t>{2, 3});
  CHECK(best.data == genome);
  CHECK(rn::read_jsonl(d / "generations.jsonl").size() == 3);
  CHECK(entries(d) == std::vector<std::string>{"best_genome.npy", "checkpoints", "config.json",
                                               "generations.jsonl", "manifest.json"});
  CHECK_FALSE(has_temp_files(d));
}

TEST_CASE(
    "run_directory::finalize skips absent standard files and rejects missing listed artifacts") {
  temp_dir tmp;
  auto run = rn::run_directory::create(tmp / "run");
  run.write_config({{"seed", 1}});
  run.finalize(json{{"note", "no generations yet"}});
  const json m = json::parse(rn::read_file(tmp / "run" / "manifest.json"));
  CHECK(m["note"] == "no generations yet");
  CHECK(m["artifacts"] == json{{"config.json", rn::sha256_file(tmp / "run" / "config.json")}});

  run.add_artifact("missing.bin");
  const std::string before = rn::read_file(tmp / "run" / "manifest.json");
  CHECK(message_of<rn::io_error>([&] { run.finalize(json::object()); }) ==
        "run_directory '" + (tmp / "run").string() +
            "': artifact 'missing.bin' (listed with add_artifact) is not a regular file in the run "
            "directory");
  CHECK(rn::read_file(tmp / "run" / "manifest.json") == before);
  CHECK_CONTAINS(message_of<rn::format_error>([&] { run.finalize(json::array()); }),
                 "the manifest must be a JSON object");
}

// ------------------------------------------------------------------------------------------------
// core/state_io.hpp: checkpoint records round-trip exactly; any damage is refused by name.

namespace {
enum class io_colour : std::uint8_t { red = 3, blue = 7 };

std::string sample_state() {
  dphys::state_writer w;
  w.put("generation", std::uint32_t{12});
  w.put("sigma", -0.0f);
  w.put("nan", std::numeric_limits<double>::quiet_NaN());
  w.put("count", std::size_t{1} << 40);
  w.put("colour", io_colour::blue);
  {
    auto s = w.scope("es");
    w.put("mean", std::vector<float>{1.5f, -2.25f, 1e-30f});
    w.put("label", std::string("ok"));
  }
  w.put("empty", std::vector<double>{});
  return w.bytes();
}
}  // namespace

TEST_CASE("state_io: records round-trip bit for bit in order, scopes prefix names") {
  dphys::state_reader r(sample_state(), "ckpt.bin");
  CHECK(r.get<std::uint32_t>("generation") == 12u);
  const float s = r.get<float>("sigma");
  CHECK(std::signbit(s));
  CHECK(std::isnan(r.get<double>("nan")));
  CHECK(r.get<std::size_t>("count") == (std::size_t{1} << 40));
  CHECK(r.get<io_colour>("colour") == io_colour::blue);
  {
    auto sc = r.scope("es");
    std::vector<float> mean;
    r.get("mean", mean, 3);
    CHECK(mean == std::vector<float>{1.5f, -2.25f, 1e-30f});
    std::string label;
    r.get("label", label);
    CHECK(label == "ok");
  }
  std::vector<double> empty{1.0};
  r.get("empty", empty);
  CHECK(empty.empty());
  CHECK(r.at_end());
  r.expect_end();
}

TEST_CASE("state_io: wrong name, type, size, truncation and corruption are refused by name") {
  const std::string bytes = sample_state();
  {
    dphys::state_reader r(bytes, "ckpt.bin");
    CHECK_THROWS_WITH_AS((void)r.get<std::uint32_t>("gen"),
                         "ckpt.bin: expected record 'gen' but found 'generation' (checkpoint "
                         "written by a different version?)",
                         dphys::state_error);
  }
  {
    dphys::state_reader r(bytes, "ckpt.bin");
    CHECK_THROWS_WITH_AS((void)r.get<std::int32_t>("generation"),
                         "ckpt.bin: record 'generation' has type uint32, expected int32",
                         dphys::state_error);
  }
  {
    dphys::state_reader r(bytes, "ckpt.bin");
    (void)r.get<std::uint32_t>("generation");
    (void)r.get<float>("sigma");
    (void)r.get<double>("nan");
    (void)r.get<std::size_t>("count");
    (void)r.get<io_colour>("colour");
    auto sc = r.scope("es");
    std::vector<float> mean;
    CHECK_THROWS_WITH_AS(r.get("mean", mean, 4),
                         "ckpt.bin: record 'es/mean' holds 3 values, expected 4",
                         dphys::state_error);
  }
  {
    dphys::state_reader r(bytes, "ckpt.bin");
    (void)r.get<std::uint32_t>("generation");
    CHECK_THROWS_AS(r.expect_end(), dphys::state_error);
  }
  CHECK_THROWS_WITH_AS(dphys::state_reader(bytes.substr(0, bytes.size() - 5), "ckpt.bin"),
                       "ckpt.bin is truncated (no end marker)", dphys::state_error);
  std::string flipped = bytes;
  flipped[20] = static_cast<char>(flipped[20] ^ 0x10);
  CHECK_THROWS_WITH_AS(dphys::state_reader(flipped, "ckpt.bin"),
                       "ckpt.bin is corrupt (checksum mismatch)", dphys::state_error);
  CHECK_THROWS_WITH_AS(dphys::state_reader("{\"json\": true}", "ckpt.bin"),
                       "ckpt.bin is not a dphys checkpoint (missing the \"DPHYSST1\" header)",
                       dphys::state_error);
  // Every strict prefix of a valid archive is refused (no partial load).
  for (std::size_t n = 0; n < bytes.size(); ++n)
    CHECK_THROWS_AS(dphys::state_reader(bytes.substr(0, n)), dphys::state_error);
}
