// dphys/curiosity/memory.hpp — episodic memory (spec N5): entries with Nerion's priority
// 0.4·surprise + 0.3·impact + 0.3·rarity, a capacity with lowest-priority eviction, recall of the
// k most similar entries, JSONL persistence. Extension point: the Similarity policy (any
// `memory_similarity`); the default is Nerion's 0.2·[same type] + 0.3·J(tags) + 0.25·J(task
// words) + 0.25·J(code tokens), J = Jaccard index.
//
// Determinism: no random draws; recall ties break by priority (higher first), then id (lower).
// Thread safety: const members may run concurrently; add/load need exclusive access.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <dphys/core/json.hpp>

#include <dphys/curiosity/replay.hpp>

namespace dphys::curiosity {

struct memory_entry {
  std::uint64_t id = 0;  ///< assigned by episodic_memory::add
  std::string type;
  std::vector<std::string> tags, task_words, code_tokens;
  double surprise = 0, impact = 0, rarity = 0;
  dphys::json payload = dphys::json::object();
  std::uint64_t created = 0;  ///< logical tick

  /// Nerion's priority 0.4·surprise + 0.3·impact + 0.3·rarity.
  [[nodiscard]] double priority() const { return 0.4 * surprise + 0.3 * impact + 0.3 * rarity; }

  [[nodiscard]] dphys::json to_json() const {
    return {{"id", id},         {"type", type},         {"tags", tags},
            {"task_words", task_words}, {"code_tokens", code_tokens}, {"surprise", surprise},
            {"impact", impact}, {"rarity", rarity},     {"payload", payload},
            {"created", created}, {"priority", priority()}};
  }
  static memory_entry from_json(const dphys::json& j) {
    memory_entry e;
    try {
      e.id = j.at("id").get<std::uint64_t>();
      e.type = j.at("type").get<std::string>();
      e.tags = j.at("tags").get<std::vector<std::string>>();
      e.task_words = j.at("task_words").get<std::vector<std::string>>();
      e.code_tokens = j.at("code_tokens").get<std::vector<std::string>>();
      e.surprise = j.at("surprise").get<double>();
      e.impact = j.at("impact").get<double>();
      e.rarity = j.at("rarity").get<double>();
      e.payload = j.value("payload", dphys::json::object());
      e.created = j.at("created").get<std::uint64_t>();
    } catch (const dphys::json::exception& ex) {
      throw run::format_error(std::string("memory_entry: ") + ex.what());
    }
    return e;
  }
};

/// |A ∩ B| / |A ∪ B| of the two token sets (duplicates ignored); 0 when both are empty.
inline double jaccard(std::span<const std::string> a, std::span<const std::string> b) {
  const std::set<std::string> sa(a.begin(), a.end()), sb(b.begin(), b.end());
  if (sa.empty() && sb.empty()) return 0.0;
  std::size_t common = 0;
  for (const auto& x : sa) common += sb.count(x);
  return static_cast<double>(common) / static_cast<double>(sa.size() + sb.size() - common);
}

/// memory_similarity<S> — how alike two entries are. Minimal complete definition:
/// s(const memory_entry&, const memory_entry&) -> double (const). Laws: pure, symmetric.
template <class S>
concept memory_similarity = requires(const S& s, const memory_entry& a) {
  { s(a, a) } -> std::convertible_to<double>;
};

/// Nerion's similarity: 0.2·[same type] + 0.3·J(tags) + 0.25·J(task words) + 0.25·J(code tokens).
struct nerion_similarity {
  double operator()(const memory_entry& a, const memory_entry& b) const {
    return (a.type == b.type ? 0.2 : 0.0) + 0.3 * jaccard(a.tags, b.tags) +
           0.25 * jaccard(a.task_words, b.task_words) +
           0.25 * jaccard(a.code_tokens, b.code_tokens);
  }
};

struct recalled {
  std::uint64_t id = 0;
  double similarity = 0;
};

template <memory_similarity Similarity = nerion_similarity>
class episodic_memory {
 public:
  static constexpr std::size_t default_capacity = 10000;  ///< Nerion's

  explicit episodic_memory(std::size_t capacity = default_capacity, Similarity sim = {})
      : capacity_(capacity), sim_(std::move(sim)) {
    if (capacity_ == 0)
      throw std::invalid_argument("episodic_memory: capacity = 0: must be at least 1");
  }

  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  [[nodiscard]] std::size_t capacity() const { return capacity_; }
  [[nodiscard]] std::span<const memory_entry> entries() const { return entries_; }

  /// Stores `e` with a fresh id (returned). A full memory first evicts its lowest-priority entry
  /// (the oldest of equals) — unless `e` itself has a lower priority than all stored entries, in
  /// which case `e` is not stored and nullopt is returned.
  std::optional<std::uint64_t> add(memory_entry e) {
    if (entries_.size() >= capacity_) {
      std::size_t worst = 0;
      for (std::size_t i = 1; i < entries_.size(); ++i)
        if (entries_[i].priority() < entries_[worst].priority()) worst = i;
      if (e.priority() < entries_[worst].priority()) return std::nullopt;
      entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(worst));
    }
    e.id = next_id_++;
    entries_.push_back(std::move(e));
    return entries_.back().id;
  }

  [[nodiscard]] const memory_entry* find(std::uint64_t id) const {
    for (const auto& e : entries_)
      if (e.id == id) return &e;
    return nullptr;
  }

  /// The k entries most similar to `probe` (similarity descending; ties: priority descending, then
  /// id ascending).
  [[nodiscard]] std::vector<recalled> recall(const memory_entry& probe, std::size_t k) const {
    std::vector<std::pair<recalled, double>> all;
    all.reserve(entries_.size());
    for (const auto& e : entries_) all.push_back({{e.id, sim_(probe, e)}, e.priority()});
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      if (a.first.similarity != b.first.similarity) return a.first.similarity > b.first.similarity;
      if (a.second != b.second) return a.second > b.second;
      return a.first.id < b.first.id;
    });
    std::vector<recalled> out;
    for (std::size_t i = 0; i < std::min(k, all.size()); ++i) out.push_back(all[i].first);
    return out;
  }

  void save_jsonl(const std::filesystem::path& file) const {
    std::string text;
    for (const auto& e : entries_) text += e.to_json().dump() + "\n";
    run::write_file_atomic(file, text);
  }
  void load_jsonl(const std::filesystem::path& file) {
    std::vector<memory_entry> es;
    for (const auto& j : run::read_jsonl(file)) es.push_back(memory_entry::from_json(j));
    if (es.size() > capacity_)
      throw run::format_error("episodic_memory " + run::detail::quoted(file) + ": holds " +
                              std::to_string(es.size()) + " entries, more than the capacity " +
                              std::to_string(capacity_));
    entries_ = std::move(es);
    next_id_ = 0;
    for (const auto& e : entries_) next_id_ = std::max(next_id_, e.id + 1);
  }

 private:
  std::size_t capacity_;
  Similarity sim_;
  std::vector<memory_entry> entries_;
  std::uint64_t next_id_ = 0;
};

}  // namespace dphys::curiosity
