// tests/support.hpp — small fixtures shared by the test TUs: a scratch directory removed at scope
// exit, the message of an expected exception, CHECK_CONTAINS, and a soft file-size limit that turns
// writes past a size into EFBIG (a "full disk" that works without root). Test-only; not installed.
#pragma once

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <system_error>

#include <doctest/doctest.h>
#include <sys/resource.h>
#include <unistd.h>

namespace dphys_test {

namespace fs = std::filesystem;

/// True in a build with AddressSanitizer (the CI preset "asan", which adds UBSan). There, loops over
/// large matrices run about 40x slower than in Release; a test may leave out its largest sizes when
/// smaller ones take the same code paths, and the Release run still checks every size.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool sanitized_build = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool sanitized_build = true;
#else
inline constexpr bool sanitized_build = false;
#endif
#else
inline constexpr bool sanitized_build = false;
#endif

/// A fresh directory under the system temp dir (name starts with `prefix`), removed at scope exit
/// after making every directory below it writable again (tests make some read-only).
class temp_dir {
 public:
  explicit temp_dir(const std::string& prefix = "dphys_test") {
    std::string tmpl = (fs::temp_directory_path() / (prefix + "_XXXXXX")).string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    for (auto it = fs::recursive_directory_iterator(path_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_directory(ec))
        fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

/// The message of the exception E thrown by f; fails the test if f throws nothing or another type.
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("threw an exception of another type: " << e.what());
    return {};
  }
  FAIL("no exception was thrown");
  return {};
}

/// Soft RLIMIT_FSIZE for its lifetime (SIGXFSZ ignored): writes past `bytes` fail with EFBIG, a
/// real short-write failure that works for root too.
class file_size_limit {
 public:
  explicit file_size_limit(rlim_t bytes) {
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_) == 0);
    rlimit lim = old_;
    lim.rlim_cur =
        old_.rlim_max == RLIM_INFINITY ? bytes : std::min<rlim_t>(bytes, old_.rlim_max);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &lim) == 0);
  }
  file_size_limit(const file_size_limit&) = delete;
  file_size_limit& operator=(const file_size_limit&) = delete;
  ~file_size_limit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  void (*old_handler_)(int) = SIG_DFL;
};

}  // namespace dphys_test

#define CHECK_CONTAINS(text, part) \
  CHECK_MESSAGE((text).find(part) != std::string::npos, "text: " << (text))
