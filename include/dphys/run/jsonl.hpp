// JSON Lines logs: jsonl_appender (one JSON object per line, crash-safe append) and read_jsonl.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <dphys/core/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "dphys/run/atomic_file.hpp"

namespace dphys::run {

// Appends one JSON object per line to a file.
// Contract:
// - Opening creates the file if needed. If the file ends with a partial line (a writer died
// mid-record), the
//   partial line is truncated away, back to just after the last '\n' (to empty if there is none);
//   the number of bytes removed is truncated_bytes(). Complete lines are never touched.
// - append() serialises the record compactly (keys sorted, non-finite numbers become null, no
// newline inside)
//   and writes the whole line with one write() (O_APPEND). Should the kernel accept only part of
//   it, the rest is retried; if that fails the file is truncated back to its previous end and
//   io_error is thrown, so the file never keeps a partial line written by this object.
// - With fsync_each_record, every append() ends with fsync(); otherwise call sync() when durability
// matters.
// - One appender per file: two writers (threads or processes) on one file are not supported.
// Not thread-safe; move-only.
class jsonl_appender {
 public:
  explicit jsonl_appender(std::filesystem::path file, bool fsync_each_record = false)
      : path_(std::move(file)), fsync_each_(fsync_each_record) {
    fd_ = detail::unique_fd(::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666));
    if (!fd_) throw error("cannot open for appending", errno);
    struct ::stat st {};
    if (::fstat(fd_.get(), &st) != 0) throw error("cannot stat", errno);
    if (!S_ISREG(st.st_mode))
      throw io_error("jsonl_appender " + detail::quoted(path_) + ": not a regular file");
    const auto size = static_cast<std::uint64_t>(st.st_size);
    size_ = end_of_last_line(size);
    if (size_ < size) {
      if (::ftruncate(fd_.get(), static_cast<::off_t>(size_)) != 0)
        throw error("cannot truncate the partial last line", errno);
      if (const int err = detail::fsync_fd(fd_.get())) throw error("cannot fsync", err);
      truncated_ = size - size_;
    }
  }

  jsonl_appender(jsonl_appender&&) noexcept = default;
  jsonl_appender& operator=(jsonl_appender&&) noexcept = default;
  jsonl_appender(const jsonl_appender&) = delete;
  jsonl_appender& operator=(const jsonl_appender&) = delete;
  ~jsonl_appender() = default;

  // Appends `record` (must be a JSON object) as one line. Throws format_error for a non-object or a
  // string that is not valid UTF-8 (nothing is written), io_error if the write or fsync fails.
  void append(const dphys::json& record) {
    if (!record.is_object())
      throw format_error("jsonl_appender " + detail::quoted(path_) +
                         ": a record must be a JSON object, got " +
                         std::string(record.type_name()));
    std::string line;
    try {
      line = record.dump();
    } catch (const dphys::json::exception& e) {
      throw format_error("jsonl_appender " + detail::quoted(path_) +
                         ": record cannot be serialised: " + e.what());
    }
    line += '\n';
    if (const int err = detail::write_all(fd_.get(), line)) {
      const bool rolled_back = ::ftruncate(fd_.get(), static_cast<::off_t>(size_)) == 0;
      throw error(
          rolled_back
              ? "cannot append a record (the file was truncated back to its last complete line)"
              : "cannot append a record, and truncating the partial line failed",
          err);
    }
    size_ += line.size();
    if (fsync_each_) sync();
  }

  // Flushes appended records to stable storage.
  void sync() {
    if (const int err = detail::fsync_fd(fd_.get())) throw error("cannot fsync", err);
  }

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  // Bytes of a partial last line removed when the file was opened (0 if the file was clean).
  [[nodiscard]] std::uint64_t truncated_bytes() const noexcept { return truncated_; }

 private:
  [[nodiscard]] io_error error(std::string_view what, int err) const {
    return detail::os_error("jsonl_appender", path_, what, err);
  }

  // Offset just after the last '\n' in the first `size` bytes (0 if there is none).
  std::uint64_t end_of_last_line(std::uint64_t size) const {
    char buf[4096];
    std::uint64_t end = size;
    while (end > 0) {
      const std::uint64_t begin = end > sizeof buf ? end - sizeof buf : 0;
      const auto want = static_cast<std::size_t>(end - begin);
      std::size_t got = 0;
      while (got < want) {
        const ::ssize_t n =
            ::pread(fd_.get(), buf + got, want - got, static_cast<::off_t>(begin + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw error("cannot read", errno);
        if (n == 0)
          throw io_error("jsonl_appender " + detail::quoted(path_) + ": file shrank while opening");
        got += static_cast<std::size_t>(n);
      }
      for (std::size_t i = want; i > 0; --i)
        if (buf[i - 1] == '\n') return begin + i;
      end = begin;
    }
    return 0;
  }

  std::filesystem::path path_;
  detail::unique_fd fd_;
  bool fsync_each_ = false;
  std::uint64_t size_ = 0;
  std::uint64_t truncated_ = 0;
};

// Reads every record of a JSON Lines file. Each line must hold exactly one JSON object; empty lines
// are errors. Throws io_error if the file cannot be read, format_error("read_jsonl '<file>' line
// <n>: ...") otherwise. A last line without '\n' is accepted when it parses; when it does not, the
// message says the writer probably stopped mid-record (opening the file with jsonl_appender removes
// such a line).
[[nodiscard]] inline std::vector<dphys::json> read_jsonl(const std::filesystem::path& file) {
  const std::string text = read_file(file);
  std::vector<dphys::json> records;
  std::size_t pos = 0;
  for (std::size_t line_no = 1; pos < text.size(); ++line_no) {
    const std::size_t nl = text.find('\n', pos);
    const bool terminated = nl != std::string::npos;
    const std::string_view line(text.data() + pos, (terminated ? nl : text.size()) - pos);
    pos = terminated ? nl + 1 : text.size();
    const auto fail = [&](const std::string& what) {
      return format_error("read_jsonl " + detail::quoted(file) + " line " +
                          std::to_string(line_no) + ": " + what);
    };
    if (line.empty()) throw fail("empty line (every line must hold one JSON object)");
    dphys::json record;
    try {
      record = dphys::json::parse(line.begin(), line.end());
    } catch (const dphys::json::parse_error& e) {
      throw fail(std::string(e.what()) +
                 (terminated
                      ? ""
                      : " (the last line has no trailing newline: the writer probably stopped "
                        "mid-record; opening the file with jsonl_appender truncates it)"));
    }
    if (!record.is_object())
      throw fail("expected a JSON object, found " + std::string(record.type_name()));
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace dphys::run
