// dphys/curiosity/replay.hpp — the prioritised replay buffer (spec N4): Nerion's experience store
// with priority clip(1 + surprise, 0.1, 10), its two sampling modes ("priority" with the
// dedupe-and-fill rule, "random" without replacement), standard proportional prioritisation
// (Schaul et al. 2016: P(i) ∝ p_i^α, importance weights (N·P(i))^−β / max), optional capacity with
// lowest-priority eviction, and JSONL persistence in the run directory. No extension points.
//
// Determinism: every sampler is a pure function of (buffer contents, k, key); draws are
//   dphys::random_bits at (key, 0, 0, i). Logical ticks, not wall-clock times, stamp entries.
// Thread safety: const members may run concurrently; mutation needs exclusive access.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/core/json.hpp>

#include <dphys/core/enum_names.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/curiosity/sampling.hpp>
#include <dphys/run/atomic_file.hpp>
#include <dphys/run/jsonl.hpp>

namespace dphys::curiosity {

/// Nerion's default priority: clip(1 + surprise, 0.1, 10); 1 when the surprise is unknown.
inline double nerion_priority(std::optional<double> surprise) {
  if (!surprise) return 1.0;
  if (std::isnan(*surprise)) return 1.0;
  return std::clamp(1.0 + *surprise, 0.1, 10.0);
}

enum class experience_status { pending, solved, failed };
constexpr auto enum_names(experience_status) {
  return std::array{std::pair{experience_status::pending, std::string_view{"pending"}},
                    std::pair{experience_status::solved, std::string_view{"solved"}},
                    std::pair{experience_status::failed, std::string_view{"failed"}}};
}

/// One stored experience (Nerion's replay record). `created`/`updated` are logical ticks (e.g.
/// generations), so a run's store is reproducible.
struct experience {
  std::uint64_t id = 0;
  std::string task_id, template_id;
  experience_status status = experience_status::pending;
  std::optional<double> surprise;
  double priority = 1.0;
  dphys::json metadata = dphys::json::object();
  std::uint64_t created = 0, updated = 0;

  /// Nerion's training label: solved → 0, failed and pending → 1.
  [[nodiscard]] int label() const { return status == experience_status::solved ? 0 : 1; }

  [[nodiscard]] dphys::json to_json() const {
    return {{"id", id},
            {"task_id", task_id},
            {"template_id", template_id},
            {"status", std::string(enum_name(status))},
            {"surprise", surprise ? dphys::json(*surprise) : dphys::json(nullptr)},
            {"priority", priority},
            {"metadata", metadata},
            {"created", created},
            {"updated", updated}};
  }
  /// Throws run::format_error naming the field when `j` is not a record written by to_json().
  static experience from_json(const dphys::json& j) {
    experience e;
    try {
      e.id = j.at("id").get<std::uint64_t>();
      e.task_id = j.at("task_id").get<std::string>();
      e.template_id = j.at("template_id").get<std::string>();
      const auto st = j.at("status").get<std::string>();
      const auto parsed = enum_from_name<experience_status>(st);
      if (!parsed)
        throw run::format_error("experience: status = \"" + st +
                                "\": must be one of pending, solved, failed");
      e.status = *parsed;
      if (!j.at("surprise").is_null()) e.surprise = j.at("surprise").get<double>();
      e.priority = j.at("priority").get<double>();
      e.metadata = j.value("metadata", dphys::json::object());
      e.created = j.at("created").get<std::uint64_t>();
      e.updated = j.at("updated").get<std::uint64_t>();
    } catch (const dphys::json::exception& ex) {
      throw run::format_error(std::string("experience: ") + ex.what());
    }
    if (!(e.priority >= 0.0) || !std::isfinite(e.priority))
      throw run::format_error("experience " + std::to_string(e.id) +
                              ": priority = " + std::to_string(e.priority) +
                              ": must be finite and >= 0");
    return e;
  }
};

/// A proportional sample: positions in the buffer and their normalised importance weights.
struct weighted_sample {
  std::vector<std::size_t> positions;
  std::vector<double> weights;
};

class replay_buffer {
 public:
  /// capacity 0: unbounded. Otherwise adding to a full buffer first evicts the entry of lowest
  /// priority (the oldest of equals).
  explicit replay_buffer(std::size_t capacity = 0) : capacity_(capacity) {}

  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  [[nodiscard]] bool empty() const { return entries_.empty(); }
  [[nodiscard]] std::size_t capacity() const { return capacity_; }
  [[nodiscard]] std::span<const experience> entries() const { return entries_; }
  [[nodiscard]] const experience& operator[](std::size_t pos) const { return entries_.at(pos); }

  /// Adds an experience with Nerion's priority of `surprise`; returns its id.
  std::uint64_t add(std::string task_id, std::string template_id, experience_status status,
                    std::optional<double> surprise, std::uint64_t tick,
                    dphys::json metadata = dphys::json::object()) {
    experience e;
    e.id = next_id_++;
    e.task_id = std::move(task_id);
    e.template_id = std::move(template_id);
    e.status = status;
    e.surprise = surprise;
    e.priority = nerion_priority(surprise);
    e.metadata = std::move(metadata);
    e.created = e.updated = tick;
    if (capacity_ != 0 && entries_.size() >= capacity_) evict_one();
    entries_.push_back(std::move(e));
    return entries_.back().id;
  }

  /// Position of the entry with this id, if present.
  [[nodiscard]] std::optional<std::size_t> find(std::uint64_t id) const {
    for (std::size_t i = 0; i < entries_.size(); ++i)
      if (entries_[i].id == id) return i;
    return std::nullopt;
  }

  /// New outcome of an entry: status, surprise and Nerion's priority of it.
  void update(std::uint64_t id, experience_status status, std::optional<double> surprise,
              std::uint64_t tick) {
    auto& e = at_id(id);
    e.status = status;
    e.surprise = surprise;
    e.priority = nerion_priority(surprise);
    e.updated = tick;
  }
  /// Sets a priority directly (e.g. |TD error| + ε for proportional replay).
  void set_priority(std::uint64_t id, double priority, std::uint64_t tick) {
    if (!(priority >= 0.0) || !std::isfinite(priority))
      throw std::invalid_argument("replay_buffer::set_priority: priority = " +
                                  std::to_string(priority) + ": must be finite and >= 0");
    auto& e = at_id(id);
    e.priority = priority;
    e.updated = tick;
  }

  /// Nerion's "priority" mode: k draws with replacement, weights max(priority, 0.001); duplicates
  /// dropped keeping first-draw order; a shortfall filled with the earliest not-yet-chosen entries
  /// in file order. Returns min(k, size()) distinct positions.
  [[nodiscard]] std::vector<std::size_t> sample_priority(std::size_t k,
                                                         const random_key& key) const {
    const std::size_t n = entries_.size();
    k = std::min(k, n);
    if (k == 0) return {};
    std::vector<double> w(n);
    for (std::size_t i = 0; i < n; ++i) w[i] = std::max(entries_[i].priority, 0.001);
    const auto c = cumulative_weights(w, "replay_buffer::sample_priority");
    std::vector<std::size_t> out;
    std::vector<char> chosen(n, 0);
    for (std::size_t j = 0; j < k; ++j) {
      const std::size_t i = categorical(c, uniform01(key, 0, 0, static_cast<std::uint32_t>(j)));
      if (!chosen[i]) {
        chosen[i] = 1;
        out.push_back(i);
      }
    }
    for (std::size_t i = 0; i < n && out.size() < k; ++i)
      if (!chosen[i]) {
        chosen[i] = 1;
        out.push_back(i);
      }
    return out;
  }

  /// Nerion's "random" mode: min(k, size()) positions uniformly without replacement.
  [[nodiscard]] std::vector<std::size_t> sample_random(std::size_t k, const random_key& key) const {
    return sample_without_replacement(key, 0, 1, entries_.size(), k);
  }

  /// Proportional prioritisation: k draws with replacement, P(i) = p_i^α / Σ_j p_j^α; importance
  /// weight w_i = (N·P(i))^−β divided by the largest weight over the whole buffer, (N·P_min)^−β,
  /// so weights are in (0, 1]. Entries of priority 0 are never drawn (and do not set P_min).
  [[nodiscard]] weighted_sample sample_proportional(std::size_t k, double alpha, double beta,
                                                    const random_key& key) const {
    if (!(alpha >= 0.0) || !(beta >= 0.0) || !std::isfinite(alpha) || !std::isfinite(beta))
      throw std::invalid_argument("replay_buffer::sample_proportional: alpha = " +
                                  std::to_string(alpha) + ", beta = " + std::to_string(beta) +
                                  ": both must be finite and >= 0");
    weighted_sample s;
    const std::size_t n = entries_.size();
    if (k == 0 || n == 0) return s;
    std::vector<double> w(n);
    for (std::size_t i = 0; i < n; ++i)
      w[i] = entries_[i].priority > 0.0 ? std::pow(entries_[i].priority, alpha) : 0.0;
    const auto c = cumulative_weights(w, "replay_buffer::sample_proportional");
    const double total = c.back();
    double p_min = 1.0;
    for (double x : w)
      if (x > 0.0) p_min = std::min(p_min, x / total);
    const double nd = static_cast<double>(n);
    const double w_max = std::pow(nd * p_min, -beta);
    for (std::size_t j = 0; j < k; ++j) {
      const std::size_t i = categorical(c, uniform01(key, 0, 2, static_cast<std::uint32_t>(j)));
      s.positions.push_back(i);
      s.weights.push_back(std::pow(nd * w[i] / total, -beta) / w_max);
    }
    return s;
  }

  /// The whole store as JSONL (one experience per line, file order), written atomically.
  void save_jsonl(const std::filesystem::path& file) const {
    run::write_file_atomic(file, to_jsonl());
  }
  /// Replaces the contents with a store read from JSONL; ids continue after the largest one.
  void load_jsonl(const std::filesystem::path& file) {
    std::vector<experience> es;
    std::size_t line = 0;
    for (const auto& j : run::read_jsonl(file)) {
      ++line;
      try {
        es.push_back(experience::from_json(j));
      } catch (const run::format_error& e) {
        throw run::format_error("replay_buffer " + run::detail::quoted(file) + " line " +
                                std::to_string(line) + ": " + e.what());
      }
    }
    assign(std::move(es));
  }

  [[nodiscard]] std::string to_jsonl() const {
    std::string text;
    for (const auto& e : entries_) text += e.to_json().dump() + "\n";
    return text;
  }

  void save(state_writer& w) const {
    w.put("next_id", next_id_);
    w.put("jsonl", to_jsonl());
  }
  void load(state_reader& r) {
    std::uint64_t next = 0;
    std::string text;
    r.get("next_id", next);
    r.get("jsonl", text);
    std::vector<experience> es;
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t nl = text.find('\n', pos);
      const std::string_view line = std::string_view(text).substr(pos, nl - pos);
      es.push_back(experience::from_json(dphys::json::parse(line)));
      pos = nl == std::string::npos ? text.size() : nl + 1;
    }
    assign(std::move(es));
    next_id_ = std::max(next_id_, next);
  }

 private:
  void assign(std::vector<experience> es) {
    entries_ = std::move(es);
    next_id_ = 0;
    for (const auto& e : entries_) next_id_ = std::max(next_id_, e.id + 1);
  }
  experience& at_id(std::uint64_t id) {
    const auto pos = find(id);
    if (!pos) throw std::out_of_range("replay_buffer: no experience with id " + std::to_string(id));
    return entries_[*pos];
  }
  void evict_one() {
    std::size_t worst = 0;
    for (std::size_t i = 1; i < entries_.size(); ++i)
      if (entries_[i].priority < entries_[worst].priority) worst = i;
    entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(worst));
  }

  std::size_t capacity_;
  std::vector<experience> entries_;
  std::uint64_t next_id_ = 0;
};

}  // namespace dphys::curiosity
