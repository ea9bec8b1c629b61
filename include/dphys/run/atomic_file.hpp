// Whole-file I/O for run directories: write_file_atomic (temp file + fsync + rename + directory
// fsync) and read_file, plus the two exceptions of the dphys::run I/O layer (io_error,
// format_error). POSIX only.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dphys::run {

// An operating-system call on a run-directory file failed. The message names the file and the OS
// reason.
class io_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A file was read but its content is not what the format requires (bad .npy header, invalid JSONL
// line...), or data handed to a writer cannot be represented. The message names the file and what
// is wrong.
class format_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

inline std::string quoted(const std::filesystem::path& p) {
  std::string s;  // built by appends: GCC 12 -O3 warns falsely (-Wrestrict) on "'" + std::string&&
  s.reserve(p.native().size() + 2);
  s += '\'';
  s += p.native();
  s += '\'';
  return s;
}

inline std::string os_reason(int err) { return std::generic_category().message(err); }

// "<op> '<path>': <what>: <strerror(err)>"
[[nodiscard]] inline io_error os_error(std::string_view op, const std::filesystem::path& p,
                                       std::string_view what, int err) {
  std::string msg(op);
  msg += ' ';
  msg += quoted(p);
  msg += ": ";
  msg += what;
  msg += ": ";
  msg += os_reason(err);
  return io_error(msg);
}

// Owning POSIX file descriptor (move-only; closes on destruction, ignoring errors there).
class unique_fd {
 public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] explicit operator bool() const noexcept { return fd_ >= 0; }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Closes and reports close()'s errno (0 on success), for callers that must know the data reached
  // the kernel.
  [[nodiscard]] int close_checked() noexcept {
    if (fd_ < 0) return 0;
    const int rc = ::close(std::exchange(fd_, -1));
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_ = -1;
};

// Writes all bytes, retrying on EINTR and after short writes. Returns 0 or the errno of the failing
// call (ENOSPC when write() makes no progress without setting errno).
[[nodiscard]] inline int write_all(int fd, std::string_view bytes) noexcept {
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ::ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return ENOSPC;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return 0;
}

// fsync that treats "this file system cannot sync" (EINVAL, ENOTSUP) as success. Returns 0 or
// errno.
[[nodiscard]] inline int fsync_fd(int fd) noexcept {
  while (::fsync(fd) != 0) {
    if (errno == EINTR) continue;
    if (errno == EINVAL || errno == ENOTSUP) return 0;
    return errno;
  }
  return 0;
}

// Best effort: makes a rename in `dir` durable. Errors are ignored (some file systems refuse to
// sync directories).
inline void fsync_directory(const std::filesystem::path& dir) noexcept {
  unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd) (void)fsync_fd(fd.get());
}

inline std::atomic<std::uint64_t> temp_file_counter{0};

}  // namespace detail

// Replaces `target` with exactly `bytes`, atomically: readers see either the old file or the
// complete new one, never a mix, and after return the new content is on stable storage. Steps:
// create `.<name>.tmp.<pid>.<n>` next to the target (O_EXCL), write, fsync, close, rename over the
// target, fsync the directory (best effort). On any failure (create, write incl. short
// writes/ENOSPC/EFBIG, fsync, close, rename) throws io_error naming the target and the OS reason,
// removes the temporary file and leaves a previous target untouched. A symlink at `target` is
// replaced by a regular file (the link's pointee is not written). New files get mode 0666 & ~umask.
// Thread-safe for distinct targets; concurrent writers of one target: last wins.
inline void write_file_atomic(const std::filesystem::path& target, std::string_view bytes) {
  constexpr std::string_view op = "write_file_atomic";
  if (!target.has_filename())
    throw io_error(std::string(op) + " " + detail::quoted(target) + ": the path names no file");
  const std::filesystem::path dir =
      target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  const std::filesystem::path tmp =
      dir / ("." + target.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
             std::to_string(detail::temp_file_counter.fetch_add(1, std::memory_order_relaxed)));

  detail::unique_fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  if (!fd)
    throw detail::os_error(op, target, "cannot create temporary file " + detail::quoted(tmp),
                           errno);

  const auto fail = [&](std::string_view what, int err) {
    fd.reset();
    ::unlink(tmp.c_str());
    return detail::os_error(op, target, what, err);
  };
  if (const int err = detail::write_all(fd.get(), bytes))
    throw fail("cannot write " + std::to_string(bytes.size()) + " bytes to " + detail::quoted(tmp),
               err);
  if (const int err = detail::fsync_fd(fd.get()))
    throw fail("cannot fsync " + detail::quoted(tmp), err);
  if (const int err = fd.close_checked()) throw fail("cannot close " + detail::quoted(tmp), err);
  if (::rename(tmp.c_str(), target.c_str()) != 0)
    throw fail("cannot rename " + detail::quoted(tmp) + " over it", errno);
  detail::fsync_directory(dir);
}

namespace detail {
// Streams a file in 64 KiB chunks to sink(std::string_view); `reserve(size)` is called first with
// the file's size when it is a regular file. Throws io_error naming `op`, the file and the OS
// reason.
template <class Reserve, class Sink>
void read_chunks(std::string_view op, const std::filesystem::path& file, Reserve&& reserve,
                 Sink&& sink) {
  unique_fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw os_error(op, file, "cannot open for reading", errno);
  struct ::stat st {};
  if (::fstat(fd.get(), &st) != 0) throw os_error(op, file, "cannot stat", errno);
  if (S_ISDIR(st.st_mode)) throw os_error(op, file, "cannot read", EISDIR);
  if (S_ISREG(st.st_mode) && st.st_size > 0) reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    const ::ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw os_error(op, file, "cannot read", errno);
    }
    if (n == 0) break;
    sink(std::string_view(buf, static_cast<std::size_t>(n)));
  }
}
}  // namespace detail

// Reads a whole regular file. Throws io_error naming the file and the OS reason.
[[nodiscard]] inline std::string read_file(const std::filesystem::path& file) {
  std::string out;
  detail::read_chunks(
      "read_file", file, [&](std::size_t size) { out.reserve(size); },
      [&](std::string_view chunk) { out.append(chunk); });
  return out;
}

}  // namespace dphys::run
