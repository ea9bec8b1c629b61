// dphys/run/checkpoint.hpp — periodic checkpoints of a run directory and exact resume:
// checkpoint_writer (an evolve observer writing checkpoints/gen_<NNNNNN>.ckpt atomically, keeping
// the last K), find_resume_point / check_resume_config / truncate_generations / restore_checkpoint.
// Extension point: the strategy and any extra object with save(state_writer&) / load(state_reader&)
// (observers' accumulators, curricula, archives) are stored; see docs/reference/checkpoints.md.
//
// Archive (core/state_io.hpp records, in order): format (u32) · config (the run's resolved config
// JSON text) · config_sha256 · generation (completed generations) · generations_jsonl/bytes ·
// generations_jsonl/sha256 (of the log's first `bytes` bytes) · strategy/... · extra<i>/... .
// A resumed run is bitwise identical to an uninterrupted one: generations.jsonl (except each
// record's wall-clock "timing" object) and best_genome.npy.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <dphys/core/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "dphys/core/state_io.hpp"
#include "dphys/run/atomic_file.hpp"
#include "dphys/run/run_dir.hpp"
#include "dphys/run/sha256.hpp"

namespace dphys::run {

/// Bumped whenever the records written by checkpoint_writer change (not the strategy's records:
/// a strategy's load() checks its own).
inline constexpr std::uint32_t checkpoint_format_version = 1;
inline constexpr std::string_view checkpoint_dir_name = "checkpoints";

/// Resume was refused: the configuration differs from the checkpoint's, no checkpoint is usable,
/// or the run directory does not hold what the checkpoint says. The message says what differs and
/// how to proceed.
class resume_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct checkpoint_options {
  std::uint32_t every = 0;  ///< write a checkpoint every N completed generations; 0: never
  std::uint32_t keep = 3;   ///< keep the newest K checkpoints (>= 1); older ones are deleted
};

/// "gen_000042.ckpt": the checkpoint taken after `generation` completed generations.
[[nodiscard]] inline std::string checkpoint_file_name(std::uint32_t generation) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "gen_%06u.ckpt", generation);
  return buf;
}

/// The generation encoded in a checkpoint file name, or nullopt if `name` is not one.
[[nodiscard]] inline std::optional<std::uint32_t> parse_checkpoint_file_name(
    std::string_view name) {
  constexpr std::string_view prefix = "gen_", suffix = ".ckpt";
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) ||
      !name.ends_with(suffix))
    return std::nullopt;
  const std::string_view digits =
      name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.size() < 6 || digits.size() > 10) return std::nullopt;
  std::uint32_t g = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), g);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return g;
}

/// One differing configuration value: its dotted key and both values (null where absent).
struct config_difference {
  std::string key;
  dphys::json before, after;
};

/// Leaf-by-leaf differences of two JSON configs (objects recursed, arrays and scalars compared
/// whole), sorted by key.
[[nodiscard]] inline std::vector<config_difference> config_diff(const dphys::json& before,
                                                                const dphys::json& after,
                                                                const std::string& prefix = {}) {
  std::vector<config_difference> out;
  if (before.is_object() && after.is_object()) {
    std::set<std::string> keys;
    for (const auto& [k, v] : before.items()) keys.insert(k);
    for (const auto& [k, v] : after.items()) keys.insert(k);
    for (const std::string& k : keys) {
      const std::string path = prefix.empty() ? k : prefix + "." + k;
      const auto b = before.find(k), a = after.find(k);
      const dphys::json nb = b != before.end() ? *b : dphys::json(nullptr);
      const dphys::json na = a != after.end() ? *a : dphys::json(nullptr);
      auto sub = config_diff(nb, na, path);
      out.insert(out.end(), std::make_move_iterator(sub.begin()),
                 std::make_move_iterator(sub.end()));
    }
  } else if (before != after) {
    out.push_back({prefix.empty() ? std::string("(root)") : prefix, before, after});
  }
  return out;
}

/// What resume needs from a checkpoint, read and validated by find_resume_point.
struct resume_point {
  std::filesystem::path file;
  std::uint32_t generation = 0;
  std::uint64_t log_bytes = 0;  ///< generations.jsonl prefix the checkpoint belongs to
  std::string log_sha256;
  std::string config_text;  ///< the run's config JSON when the checkpoint was taken
  std::string archive;      ///< the whole checkpoint (restore_checkpoint reads the rest)
};

namespace detail {

struct checkpoint_header {
  std::uint32_t generation = 0;
  std::uint64_t log_bytes = 0;
  std::string log_sha256, config_text;
};

inline void write_checkpoint_header(state_writer& w, const checkpoint_header& h) {
  w.put("format", checkpoint_format_version);
  w.put("config", h.config_text);
  w.put("config_sha256", sha256_hex(h.config_text));
  w.put("generation", h.generation);
  auto log = w.scope("generations_jsonl");
  w.put("bytes", h.log_bytes);
  w.put("sha256", h.log_sha256);
}

inline checkpoint_header read_checkpoint_header(state_reader& r) {
  checkpoint_header h;
  const auto format = r.get<std::uint32_t>("format");
  if (format != checkpoint_format_version)
    throw state_error(r.source() + ": checkpoint format " + std::to_string(format) +
                      ", this build reads format " + std::to_string(checkpoint_format_version));
  r.get("config", h.config_text);
  std::string config_sha;
  r.get("config_sha256", config_sha);
  if (config_sha != sha256_hex(h.config_text))
    throw state_error(r.source() + ": record 'config' does not match its sha256");
  r.get("generation", h.generation);
  auto log = r.scope("generations_jsonl");
  r.get("bytes", h.log_bytes);
  r.get("sha256", h.log_sha256);
  return h;
}

// sha256 of the first `bytes` bytes of `file`; nullopt if the file is shorter (or missing).
inline std::optional<std::string> sha256_prefix(const std::filesystem::path& file,
                                                std::uint64_t bytes) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return bytes == 0 ? std::optional<std::string>(sha256_hex("")) : std::nullopt;
  if (size < bytes) return std::nullopt;
  sha256_hasher h;
  std::uint64_t left = bytes;
  read_chunks(
      "sha256", file, [](std::size_t) {},
      [&](std::string_view chunk) {
        const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size()));
        h.update(chunk.substr(0, take));
        left -= take;
      });
  if (left != 0) return std::nullopt;
  return h.finish_hex();
}

template <class T>
void save_scoped(state_writer& w, std::string_view name, const T& object) {
  auto s = w.scope(name);
  object.save(w);
}
template <class T>
void load_scoped(state_reader& r, std::string_view name, T& object) {
  auto s = r.scope(name);
  object.load(r);
}

}  // namespace detail

/// Writes checkpoints of one run into <run dir>/checkpoints/. Call it as an evolve observer
/// *after* the observer that appends to generations.jsonl (it records the log's length and hash),
/// or call write() directly. Not thread-safe.
class checkpoint_writer {
 public:
  /// `config_text`: the run's resolved config as JSON text (stored, and compared on resume).
  /// `final_generation`: a checkpoint is also written when the run reaches it.
  checkpoint_writer(run_directory& rd, checkpoint_options opt, std::string config_text,
                    std::uint32_t final_generation)
      : rd_(&rd), opt_(opt), config_text_(std::move(config_text)), final_(final_generation) {
    if (opt_.keep == 0)
      throw std::invalid_argument("checkpoint_writer: keep = 0: at least one checkpoint is kept");
  }

  /// Resuming: the log's first `log_bytes` bytes are the ones the restored checkpoint recorded.
  void resume_from(std::uint64_t log_bytes) {
    hasher_ = sha256_hasher{};
    hashed_ = 0;
    hash_log_to(log_bytes);
  }

  [[nodiscard]] bool due(std::uint32_t completed) const {
    return opt_.every > 0 && completed > 0 && (completed % opt_.every == 0 || completed == final_);
  }

  /// Observer form: writes a checkpoint when due after generation rec.generation.
  template <class Record, class Strategy>
  void operator()(const Record& rec, const Strategy& strategy) {
    if (due(rec.generation + 1)) write(strategy);
  }

  /// Observer form that also stores `extra...` (observers' accumulators, a curriculum...) as
  /// records extra0, extra1, ...; restore them with restore_checkpoint(point, strategy, extra...).
  /// The extras are held by reference and must outlive the returned observer.
  template <class... Extra>
  [[nodiscard]] auto observer(const Extra&... extra) {
    return [this, &extra...](const auto& rec, const auto& strategy) {
      if (due(rec.generation + 1)) write(strategy, extra...);
    };
  }

  /// Writes gen_<strategy.generation()>.ckpt now (syncing generations.jsonl first, so the log is
  /// durable whenever the checkpoint is), then deletes all but the newest `keep`. Returns the
  /// file written. Throws io_error (the previous checkpoints stay intact).
  template <class Strategy, class... Extra>
  std::filesystem::path write(const Strategy& strategy, const Extra&... extra) {
    rd_->generations().sync();
    const auto log = rd_->file(run_directory::generations_name);
    std::error_code ec;
    const auto size = static_cast<std::uint64_t>(std::filesystem::file_size(log, ec));
    if (ec) throw io_error("checkpoint " + detail::quoted(log) + ": cannot stat: " + ec.message());
    hash_log_to(size);
    detail::checkpoint_header h;
    h.generation = strategy.generation();
    h.log_bytes = size;
    h.log_sha256 = sha256_hasher(hasher_).finish_hex();
    h.config_text = config_text_;
    state_writer w;
    detail::write_checkpoint_header(w, h);
    detail::save_scoped(w, "strategy", strategy);
    std::size_t i = 0;
    (detail::save_scoped(w, "extra" + std::to_string(i++), extra), ...);
    const auto dir = rd_->file(checkpoint_dir_name);
    std::filesystem::create_directories(dir, ec);
    if (ec)
      throw io_error("checkpoint " + detail::quoted(dir) +
                     ": cannot create the directory: " + ec.message());
    const auto file = dir / checkpoint_file_name(h.generation);
    write_file_atomic(file, w.bytes());
    prune(dir);
    return file;
  }

 private:
  void hash_log_to(std::uint64_t size) {
    if (size < hashed_)
      throw io_error("checkpoint: " + detail::quoted(rd_->file(run_directory::generations_name)) +
                     " shrank from " + std::to_string(hashed_) + " to " + std::to_string(size) +
                     " bytes while the run was writing it");
    if (size == hashed_) return;
    const auto log = rd_->file(run_directory::generations_name);
    detail::unique_fd fd(::open(log.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw detail::os_error("checkpoint", log, "cannot open for reading", errno);
    char buf[1 << 16];
    while (hashed_ < size) {
      const auto want =
          static_cast<std::size_t>(std::min<std::uint64_t>(sizeof buf, size - hashed_));
      const ::ssize_t n = ::pread(fd.get(), buf, want, static_cast<::off_t>(hashed_));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw detail::os_error("checkpoint", log, "cannot read", errno);
      if (n == 0)
        throw io_error("checkpoint " + detail::quoted(log) + ": file shrank while hashing");
      hasher_.update(std::string_view(buf, static_cast<std::size_t>(n)));
      hashed_ += static_cast<std::uint64_t>(n);
    }
  }

  void prune(const std::filesystem::path& dir) {
    std::vector<std::pair<std::uint32_t, std::filesystem::path>> found;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (const auto g = parse_checkpoint_file_name(e.path().filename().string()))
        found.emplace_back(*g, e.path());
    if (found.size() <= opt_.keep) return;
    std::sort(found.begin(), found.end());
    for (std::size_t i = 0; i + opt_.keep < found.size(); ++i)
      std::filesystem::remove(found[i].second, ec);  // best effort: a leftover is harmless
  }

  run_directory* rd_;
  checkpoint_options opt_;
  std::string config_text_;
  std::uint32_t final_;
  sha256_hasher hasher_;
  std::uint64_t hashed_ = 0;
};

/// The newest checkpoint of `run_dir` that is intact (magic, checksum, format, config hash) and
/// whose generations.jsonl prefix is unchanged; nullopt when the directory has no checkpoint at
/// all. Each unusable checkpoint is reported to `warn` and skipped; if checkpoints exist but none
/// is usable, throws resume_error listing why (nothing is modified).
[[nodiscard]] inline std::optional<resume_point> find_resume_point(
    const std::filesystem::path& run_dir,
    const std::function<void(const std::string&)>& warn = {}) {
  const auto dir = run_dir / checkpoint_dir_name;
  std::vector<std::pair<std::uint32_t, std::filesystem::path>> found;
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec))
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (const auto g = parse_checkpoint_file_name(e.path().filename().string()))
        found.emplace_back(*g, e.path());
  if (found.empty()) return std::nullopt;
  std::sort(found.begin(), found.end(), std::greater<>{});
  std::string reasons;
  const auto log = run_dir / run_directory::generations_name;
  for (const auto& [g, file] : found) {
    try {
      resume_point p;
      p.file = file;
      p.archive = read_file(file);
      state_reader r(p.archive, file.string());
      const auto h = detail::read_checkpoint_header(r);
      if (h.generation != g)
        throw state_error(file.string() + ": holds generation " + std::to_string(h.generation) +
                          ", its name says " + std::to_string(g));
      const auto sha = detail::sha256_prefix(log, h.log_bytes);
      if (!sha)
        throw state_error(file.string() + ": " + log.string() + " is shorter than the " +
                          std::to_string(h.log_bytes) + " bytes the checkpoint recorded");
      if (*sha != h.log_sha256)
        throw state_error(file.string() + ": the first " + std::to_string(h.log_bytes) +
                          " bytes of " + log.string() +
                          " differ from those the checkpoint recorded (the log was edited?)");
      p.generation = h.generation;
      p.log_bytes = h.log_bytes;
      p.log_sha256 = h.log_sha256;
      p.config_text = h.config_text;
      return p;
    } catch (const std::exception& e) {  // state_error, io_error
      if (warn) warn(std::string("skipping unusable checkpoint: ") + e.what());
      reasons += "\n  ";
      reasons += e.what();
    }
  }
  throw resume_error("resume " + detail::quoted(run_dir) + ": no usable checkpoint in " +
                     detail::quoted(dir) + ":" + reasons +
                     "\n(delete that directory and generations.jsonl to start the run over)");
}

/// Refuses to resume with a configuration other than the checkpoint's: throws resume_error
/// naming every differing key with both values, unless `allow_change` (then each difference goes
/// to `warn`). Keys in `neutral` (dotted; e.g. "generations", "threads": they do not change the
/// numbers) are ignored. `before_text` is the checkpoint's config JSON text.
inline void check_resume_config(const std::string& before_text, const dphys::json& after,
                                const std::vector<std::string>& neutral, bool allow_change,
                                const std::function<void(const std::string&)>& warn = {},
                                const std::string& source = "checkpoint") {
  const auto before = dphys::json::parse(std::string_view(before_text), nullptr, false);
  if (before.is_discarded())
    throw resume_error("resume: the config stored in " + source + " is not valid JSON");
  std::string list;
  std::size_t n = 0;
  for (const auto& d : config_diff(before, after)) {
    if (std::find(neutral.begin(), neutral.end(), d.key) != neutral.end()) continue;
    ++n;
    list +=
        "\n  " + d.key + ": " + d.before.dump() + " in the checkpoint, " + d.after.dump() + " now";
  }
  if (n == 0) return;
  const std::string what = "the configuration differs from the one " + source +
                           " was written with in " + std::to_string(n) +
                           (n == 1 ? " key:" : " keys:") + list;
  if (!allow_change)
    throw resume_error("resume refused: " + what +
                       "\n(resume with the original values, or override explicitly, e.g. "
                       "dphys_koki2 --allow-config-change: the result is then no longer the "
                       "uninterrupted run's)");
  if (warn) warn("resuming with a changed configuration (--allow-config-change): " + what);
}

/// Cuts generations.jsonl back to its first `bytes` bytes (the records up to the checkpoint),
/// atomically: a crash leaves either the old or the cut file. A missing log with bytes == 0 is
/// created empty.
inline void truncate_generations(const std::filesystem::path& run_dir, std::uint64_t bytes) {
  const auto log = run_dir / run_directory::generations_name;
  std::error_code ec;
  std::string text;
  if (std::filesystem::exists(log, ec)) text = read_file(log);
  if (text.size() < bytes)
    throw resume_error("resume: " + log.string() + " holds " + std::to_string(text.size()) +
                       " bytes, fewer than the " + std::to_string(bytes) +
                       " the checkpoint recorded");
  if (text.size() == bytes && std::filesystem::exists(log, ec)) return;
  text.resize(static_cast<std::size_t>(bytes));
  write_file_atomic(log, text);
}

/// Deletes temporary files left by write_file_atomic in a process that was killed
/// (".<name>.tmp.<pid>.<n>") in `dir` and its checkpoints/ folder. Returns how many.
inline std::size_t remove_stale_temporaries(const std::filesystem::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& d : {dir, dir / checkpoint_dir_name}) {
    if (!std::filesystem::is_directory(d, ec)) continue;
    std::vector<std::filesystem::path> stale;
    for (const auto& e : std::filesystem::directory_iterator(d, ec)) {
      const std::string name = e.path().filename().string();
      if (name.size() > 1 && name[0] == '.' && name.find(".tmp.") != std::string::npos &&
          e.is_regular_file(ec))
        stale.push_back(e.path());
    }
    for (const auto& p : stale) n += std::filesystem::remove(p, ec) ? 1 : 0;
  }
  return n;
}

/// Loads the strategy (and the extras, in the order they were written) from a resume point.
/// Throws state_error naming the record on any mismatch.
template <class Strategy, class... Extra>
void restore_checkpoint(const resume_point& p, Strategy& strategy, Extra&... extra) {
  state_reader r(p.archive, p.file.string());
  (void)detail::read_checkpoint_header(r);
  detail::load_scoped(r, "strategy", strategy);
  std::size_t i = 0;
  (detail::load_scoped(r, "extra" + std::to_string(i++), extra), ...);
  r.expect_end();
  if (strategy.generation() != p.generation)
    throw state_error(p.file.string() + ": the restored strategy is at generation " +
                      std::to_string(strategy.generation()) + ", the checkpoint at " +
                      std::to_string(p.generation));
}

}  // namespace dphys::run
