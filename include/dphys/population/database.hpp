// dphys/population/database.hpp — program database (Genesis S1/S2/S4): candidate records, the
// capacity-bounded elite archive, islands with copy-initial assignment and migration, parent and
// inspiration sampling, lineage queries, JSONL persistence and state_io checkpoints.
// Extension point: payload_traits<Payload> (JSON and checkpoint form of a candidate's payload);
// shipped for std::string and std::vector of arithmetic types.
//
// Determinism: every random choice is a pure function of (seed, birth index, purpose, attempt,
//   index) on population_stream; the database is a plain value, so equal histories of add() give
//   equal databases. Thread safety: none (one owner; the steady-state driver calls it from one
//   thread).
#pragma once

#include <algorithm>
#include <concepts>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <dphys/core/json.hpp>

#include <dphys/core/config_check.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/population/config.hpp>
#include <dphys/population/selection.hpp>
#include <dphys/run/atomic_file.hpp>
#include <dphys/run/jsonl.hpp>

namespace dphys::population {

/// "No candidate" (a root's parent, an unset beam).
inline constexpr std::uint64_t no_id = std::numeric_limits<std::uint64_t>::max();
/// "Let the database choose the island".
inline constexpr std::uint32_t no_island = std::numeric_limits<std::uint32_t>::max();

/// JSON and checkpoint form of a payload. Specialise for your own payload type.
template <class Payload>
struct payload_traits;

template <class T>
  requires std::is_arithmetic_v<T>
struct payload_traits<std::vector<T>> {
  static dphys::json to_json(const std::vector<T>& p) { return p; }
  static std::vector<T> from_json(const dphys::json& j) {
    std::vector<T> v;
    v.reserve(j.size());
    for (const auto& x : j) v.push_back(x.is_null() ? std::numeric_limits<T>::quiet_NaN()
                                                    : x.template get<T>());
    return v;
  }
  static void save(state_writer& w, std::string_view name, const std::vector<T>& p) {
    w.put(name, p);
  }
  static void load(state_reader& r, std::string_view name, std::vector<T>& p) { r.get(name, p); }
};

template <>
struct payload_traits<std::string> {
  static dphys::json to_json(const std::string& p) { return p; }
  static std::string from_json(const dphys::json& j) { return j.get<std::string>(); }
  static void save(state_writer& w, std::string_view name, const std::string& p) {
    w.put(name, p);
  }
  static void load(state_reader& r, std::string_view name, std::string& p) { r.get(name, p); }
};

/// A payload the database can persist: payload_traits<P> provides to_json, from_json, save, load.
template <class P>
concept persistable_payload = std::regular<P> && requires(const P& p, P& q, const dphys::json& j,
                                                         state_writer& w, state_reader& r) {
  { payload_traits<P>::to_json(p) } -> std::convertible_to<dphys::json>;
  { payload_traits<P>::from_json(j) } -> std::convertible_to<P>;
  payload_traits<P>::save(w, std::string_view{}, p);
  payload_traits<P>::load(r, std::string_view{}, q);
};

/// One migration of a candidate: at the event triggered by birth `generation`.
struct migration_event {
  std::uint64_t generation = 0;
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  friend bool operator==(const migration_event&, const migration_event&) = default;
};

/// One candidate (Genesis "program"). The database owns id, children, island (when assigned),
/// migrations and in_archive; the rest is the caller's.
template <class Payload>
struct candidate {
  std::uint64_t id = no_id;
  std::uint64_t generation = 0;  ///< birth index; copies of the initial program keep 0
  Payload payload{};
  double combined_score = 0.0;
  std::map<std::string, double> public_metrics;
  std::map<std::string, double> private_metrics;
  bool correct = false;
  std::uint64_t parent_id = no_id;
  std::vector<std::uint64_t> archive_inspirations;
  std::vector<std::uint64_t> top_k_inspirations;
  std::uint64_t children = 0;
  std::uint32_t island = no_island;
  std::vector<migration_event> migrations;
  std::vector<double> descriptors;  ///< embedding / behaviour descriptor (novelty, QD)
  std::map<std::string, std::string> metadata;
  bool in_archive = false;
  bool is_copy = false;  ///< a copy of the initial program made for another island

  friend bool operator==(const candidate&, const candidate&) = default;
};

/// A migration that happened, as logged: candidate `id` moved from → to at birth `generation`.
struct migration_record {
  std::uint64_t id = 0;
  std::uint64_t generation = 0;
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  friend bool operator==(const migration_record&, const migration_record&) = default;
};

/// What add() did.
struct add_result {
  std::uint64_t id = no_id;
  std::vector<std::uint64_t> copies;  ///< ids of the initial program's copies (first add only)
  bool archived = false;
  std::uint64_t evicted = no_id;  ///< the archive member it replaced, if any
  std::vector<migration_record> migrations;
};

/// What sample() chose for the next child.
struct sample_result {
  std::uint64_t parent_id = no_id;
  std::uint32_t island = 0;
  std::vector<std::uint64_t> archive_inspirations;
  std::vector<std::uint64_t> top_k_inspirations;
  bool initial_phase = false;  ///< some island still lacks a correct program
};

/// Genesis's order: correct first, then combined_score, then mean of public metrics (0 if none),
/// then newer (larger id). NaN compares as −∞. A strict total order on distinct ids.
template <class Payload>
bool is_better(const candidate<Payload>& a, const candidate<Payload>& b) {
  const auto key = [](double x) { return std::isnan(x) ? -std::numeric_limits<double>::infinity() : x; };
  const auto mean = [&](const std::map<std::string, double>& m) {
    if (m.empty()) return 0.0;
    double s = 0.0;
    for (const auto& [k, v] : m) s += v;
    return key(s / static_cast<double>(m.size()));
  };
  if (a.correct != b.correct) return a.correct;
  if (key(a.combined_score) != key(b.combined_score))
    return key(a.combined_score) > key(b.combined_score);
  const double ma = mean(a.public_metrics), mb = mean(b.public_metrics);
  if (ma != mb) return ma > mb;
  return a.id > b.id;
}

/// The program database. Payload: any regular type with payload_traits.
template <class Payload>
class program_database {
  static_assert(persistable_payload<Payload>,
                "program_database<Payload>: Payload must be a regular type with a "
                "dphys::population::payload_traits<Payload> specialisation providing to_json, "
                "from_json, save and load (shipped for std::string and std::vector<arithmetic>)");

 public:
  using record_type = candidate<Payload>;

  explicit program_database(database_config config = {}, std::uint64_t seed = 0)
      : cfg_(std::move(config)), seed_(seed), islands_(cfg_.num_islands) {
    validate(cfg_);
  }

  [[nodiscard]] const database_config& config() const noexcept { return cfg_; }
  [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }
  [[nodiscard]] std::size_t size() const noexcept { return records_.size(); }
  [[nodiscard]] bool empty() const noexcept { return records_.empty(); }
  [[nodiscard]] const record_type& operator[](std::uint64_t id) const { return at(id); }
  [[nodiscard]] const record_type& at(std::uint64_t id) const {
    if (id >= records_.size())
      throw std::out_of_range("program_database: no candidate with id " + std::to_string(id) +
                              " (size " + std::to_string(records_.size()) + ")");
    return records_[id];
  }
  [[nodiscard]] const std::vector<record_type>& records() const noexcept { return records_; }
  /// Archive member ids, in slot order (a replacement takes the evicted member's slot).
  [[nodiscard]] const std::vector<std::uint64_t>& archive() const noexcept { return archive_; }
  /// Ids on island i, ascending.
  [[nodiscard]] const std::vector<std::uint64_t>& island(std::uint32_t i) const {
    return islands_.at(i);
  }
  [[nodiscard]] std::uint32_t num_islands() const noexcept { return cfg_.num_islands; }
  /// The best candidate by is_better, or no_id when empty.
  [[nodiscard]] std::uint64_t best_id() const noexcept { return best_; }
  /// True once every island has held a correct program (a latch: Genesis's initial phase ends).
  [[nodiscard]] bool all_islands_initialised() const noexcept { return initialised_; }

  /// Adds a candidate and returns what happened. The database sets id (= size()), children (0),
  /// migrations (empty) and in_archive; a candidate whose combined_score is not finite is stored
  /// with correct = false. Island: the first candidate goes to island 0 (and, with
  /// copy_initial_program, copies with new ids go to islands 1..N−1); else c.island if it is not
  /// no_island; else, while some island lacks a correct program, the lowest such island; else the
  /// parent's island; else a uniformly random island. Then the archive is updated and, if
  /// c.generation > 0 and c.generation % migration_interval == 0, migration runs.
  add_result add(record_type c) {
    if (c.parent_id != no_id && c.parent_id >= records_.size())
      throw std::invalid_argument("program_database::add: parent_id " +
                                  std::to_string(c.parent_id) + " is not a stored candidate");
    if (c.island != no_island && c.island >= cfg_.num_islands)
      throw std::invalid_argument("program_database::add: island " + std::to_string(c.island) +
                                  " is not below num_islands = " +
                                  std::to_string(cfg_.num_islands));
    add_result res;
    const bool first = records_.empty();
    if (!std::isfinite(c.combined_score)) c.correct = false;
    c.id = records_.size();
    c.children = 0;
    c.migrations.clear();
    c.in_archive = false;
    if (first) {
      c.island = 0;
    } else if (c.island == no_island) {
      c.island = assign_island_(c);
    }
    if (c.parent_id != no_id) ++records_[c.parent_id].children;
    res.id = insert_(std::move(c), res);
    if (first && cfg_.copy_initial_program) {
      for (std::uint32_t i = 1; i < cfg_.num_islands; ++i) {
        record_type copy = records_[0];
        copy.id = records_.size();
        copy.island = i;
        copy.is_copy = true;
        copy.in_archive = false;
        copy.metadata["copy_of"] = "0";
        add_result ignored;
        res.copies.push_back(insert_(std::move(copy), ignored));
      }
    }
    const auto g = records_[res.id].generation;
    if (g > 0 && cfg_.migration_interval > 0 && cfg_.migration_rate > 0.0 &&
        cfg_.num_islands > 1 && g % cfg_.migration_interval == 0)
      res.migrations = migrate_(g);
    return res;
  }

  /// Ancestors of `id` by parent links, nearest first (parent, grandparent, ...).
  [[nodiscard]] std::vector<std::uint64_t> ancestors(std::uint64_t id) const {
    std::vector<std::uint64_t> out;
    for (std::uint64_t p = at(id).parent_id; p != no_id; p = records_[p].parent_id)
      out.push_back(p);
    return out;
  }
  /// The lineage of the best candidate: best, parent, ..., root (empty when the database is).
  [[nodiscard]] std::vector<std::uint64_t> best_lineage() const {
    if (best_ == no_id) return {};
    std::vector<std::uint64_t> out{best_};
    const auto a = ancestors(best_);
    out.insert(out.end(), a.begin(), a.end());
    return out;
  }

  /// The best candidate on island i (correct ones first), or no_id if the island is empty.
  [[nodiscard]] std::uint64_t island_best(std::uint32_t i) const {
    std::uint64_t b = no_id;
    for (auto id : islands_.at(i))
      if (b == no_id || is_better(records_[id], records_[b])) b = id;
    return b;
  }

  /// The parent distribution of the configured strategy on island i, as (id, probability) with
  /// probabilities that sum to 1 (exactly the mixture sample() draws from; beam_search and
  /// best_of_n give one id with probability 1). Empty when the strategy's pool is empty (sample()
  /// then uses the fallback: island best, global best, first program).
  [[nodiscard]] std::vector<std::pair<std::uint64_t, double>> parent_distribution(
      std::uint32_t i) const {
    std::vector<std::pair<std::uint64_t, double>> out;
    const auto add_pool = [&](const std::vector<std::uint64_t>& pool,
                              const std::vector<double>& p, double mass) {
      for (std::size_t k = 0; k < pool.size(); ++k) {
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const auto& e) { return e.first == pool[k]; });
        if (it == out.end()) out.emplace_back(pool[k], mass * p[k]);
        else it->second += mass * p[k];
      }
    };
    switch (cfg_.selection) {
      case parent_selection::power_law: {
        const auto arch = sorted_(island_archive_(i)), corr = sorted_(island_correct_(i));
        const double r = cfg_.exploitation_ratio;
        if (arch.empty() && corr.empty()) return out;
        // An empty pool hands its mass to the other one (its draw falls back to that pool).
        const double ra = arch.empty() ? 0.0 : corr.empty() ? 1.0 : r;
        if (ra > 0.0) add_pool(arch, power_law_probabilities(arch.size(), cfg_.exploitation_alpha), ra);
        if (ra < 1.0) add_pool(corr, power_law_probabilities(corr.size(), cfg_.exploitation_alpha), 1.0 - ra);
        return out;
      }
      case parent_selection::weighted: {
        const auto pool = island_archive_(i);
        std::vector<double> s;
        std::vector<std::uint64_t> ch;
        for (auto id : pool) {
          s.push_back(records_[id].combined_score);
          ch.push_back(records_[id].children);
        }
        add_pool(pool, weighted_probabilities(s, ch, cfg_.parent_selection_lambda), 1.0);
        return out;
      }
      case parent_selection::uniform: {
        const auto pool = island_correct_(i);
        add_pool(pool, std::vector<double>(pool.size(), 1.0 / static_cast<double>(pool.size())), 1.0);
        return out;
      }
      case parent_selection::hill_climbing: {
        const auto pool = sorted_(island_correct_(i));
        if (!pool.empty()) out.emplace_back(pool.front(), 1.0);
        return out;
      }
      case parent_selection::beam_search: {
        const auto b = beam_parent_();
        if (b != no_id) out.emplace_back(b, 1.0);
        return out;
      }
      case parent_selection::best_of_n: {
        for (auto id : islands_.at(i))
          if (records_[id].generation == 0) {
            out.emplace_back(id, 1.0);
            return out;
          }
        if (!records_.empty()) out.emplace_back(0, 1.0);
        return out;
      }
    }
    return out;
  }

  /// Parent and context for birth `birth`, resample `attempt` (0 for the first try). Until every
  /// island holds a correct program: parent = the first program, no inspirations. Otherwise an
  /// island uniformly among those holding a correct program, a parent by the configured strategy
  /// on it, then archive and top-k inspirations (docs/reference/population.md gives the rules).
  /// beam_search updates the beam (state), hence non-const.
  sample_result sample(std::uint64_t birth, std::uint32_t attempt = 0) {
    if (records_.empty())
      throw std::logic_error("program_database::sample: the database is empty (add generation 0)");
    sample_result s;
    if (!initialised_) {
      s.parent_id = 0;
      s.island = records_[0].island;
      s.initial_phase = true;
      return s;
    }
    std::vector<std::uint32_t> live;
    for (std::uint32_t i = 0; i < cfg_.num_islands; ++i)
      if (!island_correct_(i).empty()) live.push_back(i);
    if (live.empty())
      for (std::uint32_t i = 0; i < cfg_.num_islands; ++i)
        if (!islands_[i].empty()) live.push_back(i);
    const auto draw = [&](detail::purpose p, std::uint32_t k) {
      return detail::unit_double(seed_, birth, p, attempt, k);
    };
    const std::uint32_t isl =
        live[detail::below(live.size(), draw(detail::purpose::island_choice, 0))];
    s.parent_id = choose_parent_(isl, birth, attempt);
    s.island = records_[s.parent_id].island;
    inspirations_(s, birth, attempt);
    return s;
  }

  // --- persistence -------------------------------------------------------------------------

  /// One candidate as a JSON object (non-finite numbers become null; no_id becomes null).
  [[nodiscard]] static dphys::json to_json(const record_type& c) {
    const auto id_json = [](std::uint64_t id) {
      return id == no_id ? dphys::json(nullptr) : dphys::json(id);
    };
    const auto num = [](double x) {
      return std::isfinite(x) ? dphys::json(x) : dphys::json(nullptr);
    };
    dphys::json j;
    j["kind"] = "candidate";
    j["id"] = c.id;
    j["generation"] = c.generation;
    j["payload"] = payload_traits<Payload>::to_json(c.payload);
    j["combined_score"] = num(c.combined_score);
    dphys::json pm = dphys::json::object(), vm = dphys::json::object(),
                   md = dphys::json::object();
    for (const auto& [k, v] : c.public_metrics) pm[k] = num(v);
    for (const auto& [k, v] : c.private_metrics) vm[k] = num(v);
    for (const auto& [k, v] : c.metadata) md[k] = v;
    j["public_metrics"] = pm;
    j["private_metrics"] = vm;
    j["correct"] = c.correct;
    j["parent_id"] = id_json(c.parent_id);
    j["archive_inspirations"] = c.archive_inspirations;
    j["top_k_inspirations"] = c.top_k_inspirations;
    j["children"] = c.children;
    j["island"] = c.island;
    dphys::json mh = dphys::json::array();
    for (const auto& m : c.migrations)
      mh.push_back({{"generation", m.generation}, {"from", m.from}, {"to", m.to}});
    j["migration_history"] = mh;
    dphys::json d = dphys::json::array();
    for (double x : c.descriptors) d.push_back(num(x));
    j["descriptors"] = d;
    j["metadata"] = md;
    j["in_archive"] = c.in_archive;
    j["is_copy"] = c.is_copy;
    return j;
  }

  /// The whole database as JSON Lines: a header line {"kind":"population_database", ...} then one
  /// line per candidate in id order.
  [[nodiscard]] std::string to_jsonl() const {
    dphys::json h;
    h["kind"] = "population_database";
    h["schema"] = 1;
    h["num_islands"] = cfg_.num_islands;
    h["seed"] = seed_;
    h["size"] = records_.size();
    h["best"] = best_ == no_id ? dphys::json(nullptr) : dphys::json(best_);
    h["beam"] = beam_ == no_id ? dphys::json(nullptr) : dphys::json(beam_);
    h["archive"] = archive_;
    h["initialised"] = initialised_;
    std::string out = h.dump() + '\n';
    for (const auto& c : records_) out += to_json(c).dump() + '\n';
    return out;
  }

  /// Writes to_jsonl() atomically (temporary file, fsync, rename).
  void save_jsonl(const std::filesystem::path& file) const {
    run::write_file_atomic(file, to_jsonl());
  }

  /// Restores a database written by save_jsonl with this config (num_islands must match).
  /// Throws run::format_error naming the file, the line and the problem.
  [[nodiscard]] static program_database load_jsonl(const std::filesystem::path& file,
                                                   database_config config) {
    const auto lines = run::read_jsonl(file);
    const auto fail = [&](std::size_t line, const std::string& what) {
      return run::format_error("program_database::load_jsonl '" + file.string() + "' line " +
                               std::to_string(line) + ": " + what);
    };
    if (lines.empty() || lines[0].value("kind", "") != "population_database")
      throw fail(1, "expected a header {\"kind\":\"population_database\", ...}");
    const auto& h = lines[0];
    std::size_t line = 1;
    program_database db(std::move(config), 0);
    try {
      db.seed_ = h.at("seed").get<std::uint64_t>();
      if (h.at("num_islands").get<std::uint32_t>() != db.cfg_.num_islands)
        throw fail(1, "num_islands = " + h.at("num_islands").dump() +
                          " differs from the config's " + std::to_string(db.cfg_.num_islands));
      const auto n = h.at("size").get<std::size_t>();
      if (lines.size() != n + 1)
        throw fail(lines.size(), "header says " + std::to_string(n) + " candidates, file has " +
                                     std::to_string(lines.size() - 1));
      const auto opt_id = [](const dphys::json& j) {
        return j.is_null() ? no_id : j.get<std::uint64_t>();
      };
      const auto num = [](const dphys::json& j) {
        return j.is_null() ? std::numeric_limits<double>::quiet_NaN() : j.get<double>();
      };
      for (std::size_t k = 1; k < lines.size(); ++k) {
        line = k + 1;
        const auto& j = lines[k];
        record_type c;
        c.id = j.at("id").get<std::uint64_t>();
        if (c.id != k - 1) throw fail(k + 1, "id " + std::to_string(c.id) + " out of order");
        c.generation = j.at("generation").get<std::uint64_t>();
        c.payload = payload_traits<Payload>::from_json(j.at("payload"));
        c.combined_score = num(j.at("combined_score"));
        for (const auto& [key, v] : j.at("public_metrics").items()) c.public_metrics[key] = num(v);
        for (const auto& [key, v] : j.at("private_metrics").items()) c.private_metrics[key] = num(v);
        for (const auto& [key, v] : j.at("metadata").items()) c.metadata[key] = v.template get<std::string>();
        c.correct = j.at("correct").get<bool>();
        c.parent_id = opt_id(j.at("parent_id"));
        c.archive_inspirations = j.at("archive_inspirations").get<std::vector<std::uint64_t>>();
        c.top_k_inspirations = j.at("top_k_inspirations").get<std::vector<std::uint64_t>>();
        c.children = j.at("children").get<std::uint64_t>();
        c.island = j.at("island").get<std::uint32_t>();
        if (c.island >= db.cfg_.num_islands) throw fail(k + 1, "island out of range");
        for (const auto& m : j.at("migration_history"))
          c.migrations.push_back({m.at("generation").get<std::uint64_t>(),
                                  m.at("from").get<std::uint32_t>(), m.at("to").get<std::uint32_t>()});
        for (const auto& x : j.at("descriptors")) c.descriptors.push_back(num(x));
        c.in_archive = j.at("in_archive").get<bool>();
        c.is_copy = j.at("is_copy").get<bool>();
        db.islands_[c.island].push_back(c.id);
        db.records_.push_back(std::move(c));
      }
      line = 1;
      db.best_ = opt_id(h.at("best"));
      db.beam_ = opt_id(h.at("beam"));
      db.archive_ = h.at("archive").get<std::vector<std::uint64_t>>();
      db.initialised_ = h.at("initialised").get<bool>();
      db.check_consistency_(file.string());
    } catch (const dphys::json::exception& e) {
      throw fail(line, std::string("malformed record: ") + e.what());
    }
    return db;
  }

  /// Checkpoint: every record and the sampling state, bit for bit.
  void save(state_writer& w) const {
    auto scope = w.scope("population_database");
    w.put("num_islands", cfg_.num_islands);
    w.put("seed", seed_);
    w.put("best", best_);
    w.put("beam", beam_);
    w.put("initialised", initialised_);
    w.put("archive", archive_);
    w.put("size", static_cast<std::uint64_t>(records_.size()));
    for (const auto& c : records_) {
      auto rs = w.scope("c" + std::to_string(c.id));
      w.put("generation", c.generation);
      payload_traits<Payload>::save(w, "payload", c.payload);
      w.put("combined_score", c.combined_score);
      put_map_(w, "public", c.public_metrics);
      put_map_(w, "private", c.private_metrics);
      w.put("correct", c.correct);
      w.put("parent_id", c.parent_id);
      w.put("archive_inspirations", c.archive_inspirations);
      w.put("top_k_inspirations", c.top_k_inspirations);
      w.put("children", c.children);
      w.put("island", c.island);
      std::vector<std::uint64_t> mg;
      std::vector<std::uint32_t> mf, mt;
      for (const auto& m : c.migrations) {
        mg.push_back(m.generation);
        mf.push_back(m.from);
        mt.push_back(m.to);
      }
      w.put("migration_generation", mg);
      w.put("migration_from", mf);
      w.put("migration_to", mt);
      w.put("descriptors", c.descriptors);
      w.put("metadata_count", static_cast<std::uint64_t>(c.metadata.size()));
      std::size_t k = 0;
      for (const auto& [key, v] : c.metadata) {
        w.put("mk" + std::to_string(k), key);
        w.put("mv" + std::to_string(k++), v);
      }
      w.put("in_archive", c.in_archive);
      w.put("is_copy", c.is_copy);
    }
  }

  /// Restores what save() wrote; the config (num_islands) must match.
  void load(state_reader& r) {
    auto scope = r.scope("population_database");
    const auto n_isl = r.get<std::uint32_t>("num_islands");
    if (n_isl != cfg_.num_islands)
      throw state_error(r.source() + ": population_database/num_islands = " +
                        std::to_string(n_isl) + " differs from the config's " +
                        std::to_string(cfg_.num_islands));
    program_database db(cfg_, 0);
    r.get("seed", db.seed_);
    r.get("best", db.best_);
    r.get("beam", db.beam_);
    r.get("initialised", db.initialised_);
    r.get("archive", db.archive_);
    const auto n = r.get<std::uint64_t>("size");
    for (std::uint64_t id = 0; id < n; ++id) {
      auto rs = r.scope("c" + std::to_string(id));
      record_type c;
      c.id = id;
      r.get("generation", c.generation);
      payload_traits<Payload>::load(r, "payload", c.payload);
      r.get("combined_score", c.combined_score);
      get_map_(r, "public", c.public_metrics);
      get_map_(r, "private", c.private_metrics);
      r.get("correct", c.correct);
      r.get("parent_id", c.parent_id);
      r.get("archive_inspirations", c.archive_inspirations);
      r.get("top_k_inspirations", c.top_k_inspirations);
      r.get("children", c.children);
      r.get("island", c.island);
      std::vector<std::uint64_t> mg;
      std::vector<std::uint32_t> mf, mt;
      r.get("migration_generation", mg);
      r.get("migration_from", mf, mg.size());
      r.get("migration_to", mt, mg.size());
      for (std::size_t k = 0; k < mg.size(); ++k) c.migrations.push_back({mg[k], mf[k], mt[k]});
      r.get("descriptors", c.descriptors);
      const auto nm = r.get<std::uint64_t>("metadata_count");
      for (std::uint64_t k = 0; k < nm; ++k) {
        std::string key, v;
        r.get("mk" + std::to_string(k), key);
        r.get("mv" + std::to_string(k), v);
        c.metadata.emplace(std::move(key), std::move(v));
      }
      r.get("in_archive", c.in_archive);
      r.get("is_copy", c.is_copy);
      if (c.island >= cfg_.num_islands)
        throw state_error(r.source() + ": population_database candidate " + std::to_string(id) +
                          " has island " + std::to_string(c.island) + " >= num_islands");
      db.islands_[c.island].push_back(id);
      db.records_.push_back(std::move(c));
    }
    db.check_consistency_(r.source());
    *this = std::move(db);
  }

  friend bool operator==(const program_database& a, const program_database& b) {
    return a.seed_ == b.seed_ && a.records_ == b.records_ && a.archive_ == b.archive_ &&
           a.islands_ == b.islands_ && a.best_ == b.best_ && a.beam_ == b.beam_ &&
           a.initialised_ == b.initialised_;
  }

 private:
  static void put_map_(state_writer& w, const std::string& name,
                       const std::map<std::string, double>& m) {
    w.put(name + "_count", static_cast<std::uint64_t>(m.size()));
    std::vector<double> v;
    std::size_t k = 0;
    for (const auto& [key, x] : m) {
      w.put(name + "_k" + std::to_string(k++), key);
      v.push_back(x);
    }
    w.put(name + "_values", v);
  }
  static void get_map_(state_reader& r, const std::string& name, std::map<std::string, double>& m) {
    const auto n = r.get<std::uint64_t>(name + "_count");
    std::vector<std::string> keys(n);
    for (std::uint64_t k = 0; k < n; ++k) r.get(name + "_k" + std::to_string(k), keys[k]);
    std::vector<double> v;
    r.get(name + "_values", v, n);
    for (std::uint64_t k = 0; k < n; ++k) m.emplace(keys[k], v[k]);
  }

  void check_consistency_(const std::string& source) const {
    const auto bad = [&](const std::string& what) {
      throw run::format_error("program_database from '" + source + "': " + what);
    };
    if (best_ != no_id && best_ >= records_.size()) bad("best id out of range");
    if (beam_ != no_id && beam_ >= records_.size()) bad("beam id out of range");
    if (archive_.size() > cfg_.archive_size) bad("archive larger than archive_size");
    for (auto id : archive_)
      if (id >= records_.size() || !records_[id].in_archive || !records_[id].correct)
        bad("archive member " + std::to_string(id) + " is not a stored correct candidate");
    std::size_t flagged = 0;
    for (const auto& c : records_) flagged += c.in_archive;
    if (flagged != archive_.size()) bad("in_archive flags disagree with the archive list");
    for (const auto& c : records_)
      if (c.parent_id != no_id && c.parent_id >= c.id)
        bad("candidate " + std::to_string(c.id) + " has a parent that is not older");
  }

  // Lowest island without a correct program while some lacks one; else parent's; else random.
  std::uint32_t assign_island_(const record_type& c) const {
    if (!initialised_)
      for (std::uint32_t i = 0; i < cfg_.num_islands; ++i)
        if (island_correct_(i).empty()) return i;
    if (c.parent_id != no_id) return records_[c.parent_id].island;
    const double u =
        detail::unit_double(seed_, c.generation, detail::purpose::island_assignment, 0, 0);
    return static_cast<std::uint32_t>(detail::below(cfg_.num_islands, u));
  }

  std::uint64_t insert_(record_type c, add_result& res) {
    const std::uint64_t id = c.id;
    const std::uint32_t isl = c.island;
    records_.push_back(std::move(c));
    auto& members = islands_[isl];
    members.insert(std::upper_bound(members.begin(), members.end(), id), id);
    const auto& r = records_[id];
    if (best_ == no_id || is_better(r, records_[best_])) best_ = id;
    if (r.correct) {
      if (archive_.size() < cfg_.archive_size) {
        archive_.push_back(id);
        records_[id].in_archive = res.archived = true;
      } else {
        std::size_t worst = 0;
        for (std::size_t k = 1; k < archive_.size(); ++k)
          if (is_better(records_[archive_[worst]], records_[archive_[k]])) worst = k;
        if (is_better(r, records_[archive_[worst]])) {
          res.evicted = archive_[worst];
          records_[archive_[worst]].in_archive = false;
          archive_[worst] = id;
          records_[id].in_archive = res.archived = true;
        }
      }
    }
    if (!initialised_) {
      bool all = true;
      for (std::uint32_t i = 0; i < cfg_.num_islands && all; ++i) all = !island_correct_(i).empty();
      initialised_ = all;
    }
    return id;
  }

  std::vector<std::uint64_t> island_correct_(std::uint32_t i) const {
    std::vector<std::uint64_t> out;
    for (auto id : islands_[i])
      if (records_[id].correct) out.push_back(id);
    return out;
  }
  std::vector<std::uint64_t> island_archive_(std::uint32_t i) const {
    std::vector<std::uint64_t> out;
    for (auto id : islands_[i])
      if (records_[id].in_archive) out.push_back(id);
    return out;
  }
  // Best first.
  std::vector<std::uint64_t> sorted_(std::vector<std::uint64_t> ids) const {
    std::sort(ids.begin(), ids.end(),
              [&](auto a, auto b) { return is_better(records_[a], records_[b]); });
    return ids;
  }

  std::uint64_t beam_parent_() const {
    if (beam_ != no_id && records_[beam_].children < cfg_.num_beams) return beam_;
    return best_;
  }

  std::uint64_t fallback_(std::uint32_t i) const {
    if (auto b = island_best(i); b != no_id) return b;
    if (best_ != no_id) return best_;
    return 0;
  }

  std::uint64_t choose_parent_(std::uint32_t isl, std::uint64_t birth, std::uint32_t attempt) {
    const auto draw = [&](detail::purpose p, std::uint32_t k) {
      return detail::unit_double(seed_, birth, p, attempt, k);
    };
    switch (cfg_.selection) {
      case parent_selection::power_law: {
        // Pool first (archive with probability exploitation_ratio), then a rank by the power law;
        // an empty pool falls back to the other one, then to fallback_.
        const bool use_archive = draw(detail::purpose::parent_pool, 0) < cfg_.exploitation_ratio;
        auto pool = sorted_(use_archive ? island_archive_(isl) : island_correct_(isl));
        if (pool.empty()) pool = sorted_(use_archive ? island_correct_(isl) : island_archive_(isl));
        if (pool.empty()) return fallback_(isl);
        const auto p = power_law_probabilities(pool.size(), cfg_.exploitation_alpha);
        return pool[detail::pick(p, draw(detail::purpose::parent, 0))];
      }
      case parent_selection::beam_search: {
        beam_ = beam_parent_();
        return beam_ == no_id ? fallback_(isl) : beam_;
      }
      default: {
        const auto dist = parent_distribution(isl);
        if (dist.empty()) return fallback_(isl);
        std::vector<double> p;
        for (const auto& e : dist) p.push_back(e.second);
        return dist[detail::pick(p, draw(detail::purpose::parent, 0))].first;
      }
    }
  }

  void inspirations_(sample_result& s, std::uint64_t birth, std::uint32_t attempt) const {
    const std::size_t n = cfg_.num_archive_inspirations;
    auto& out = s.archive_inspirations;
    const auto taken = [&](std::uint64_t id) {
      return id == s.parent_id || std::find(out.begin(), out.end(), id) != out.end();
    };
    const auto isl_arch = island_archive_(s.island);
    // 1. the global best, if on the parent's island
    if (n > 0 && best_ != no_id && records_[best_].in_archive && records_[best_].island == s.island &&
        !taken(best_))
      out.push_back(best_);
    // 2. up to floor(n·elite_selection_ratio) top-scoring archive members of the island
    const auto n_elite = static_cast<std::size_t>(std::floor(
        static_cast<double>(n) * cfg_.elite_selection_ratio));
    std::size_t elites = 0;
    for (auto id : sorted_(isl_arch)) {
      if (elites >= n_elite || out.size() >= n) break;
      if (taken(id)) continue;
      out.push_back(id);
      ++elites;
    }
    // 3. random archive members of the island, 4. global ones if separation is not enforced
    std::uint32_t k = 0;
    const auto fill_random = [&](std::vector<std::uint64_t> pool) {
      std::erase_if(pool, taken);
      while (out.size() < n && !pool.empty()) {
        const auto j = detail::below(pool.size(),
                                     detail::unit_double(seed_, birth, detail::purpose::inspirations,
                                                         attempt, k++));
        out.push_back(pool[j]);
        pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(j));
      }
    };
    fill_random(isl_arch);
    if (!cfg_.enforce_island_separation) {
      std::vector<std::uint64_t> global(archive_);
      std::sort(global.begin(), global.end());
      fill_random(global);
    }
    // top-k: best archive members of the island, excluding parent and archive inspirations
    for (auto id : sorted_(isl_arch)) {
      if (s.top_k_inspirations.size() >= cfg_.num_top_k_inspirations) break;
      if (!taken(id)) s.top_k_inspirations.push_back(id);
    }
  }

  std::vector<migration_record> migrate_(std::uint64_t g) {
    std::vector<migration_record> log;
    std::vector<bool> moved(records_.size(), false);
    const std::uint32_t N = cfg_.num_islands;
    for (std::uint32_t i = 0; i < N; ++i) {
      const auto& members = islands_[i];
      if (members.size() <= 1) continue;
      const auto want = std::max<std::size_t>(
          1, static_cast<std::size_t>(std::floor(static_cast<double>(members.size()) *
                                                 cfg_.migration_rate)));
      const std::uint64_t keep = cfg_.island_elitism ? island_best(i) : no_id;
      std::vector<std::uint64_t> eligible;
      for (auto id : members) {
        const auto& c = records_[id];
        if (c.correct && c.generation > 0 && id != keep && !moved[id]) eligible.push_back(id);
      }
      const std::size_t n = std::min(want, eligible.size());
      for (std::size_t k = 0; k < n; ++k) {
        const auto j = detail::below(
            eligible.size(), detail::unit_double(seed_, g, detail::purpose::migration_pick, i,
                                                 static_cast<std::uint32_t>(k)));
        const auto id = eligible[j];
        eligible.erase(eligible.begin() + static_cast<std::ptrdiff_t>(j));
        std::uint32_t to = 0;
        switch (cfg_.topology) {
          case migration_topology::random: {
            const auto r = static_cast<std::uint32_t>(detail::below(
                N - 1, detail::unit_double(seed_, g, detail::purpose::migration_destination, i,
                                           static_cast<std::uint32_t>(k))));
            to = r < i ? r : r + 1;
            break;
          }
          case migration_topology::ring: to = (i + 1) % N; break;
          case migration_topology::fully_connected:
            to = static_cast<std::uint32_t>((i + 1 + k % (N - 1)) % N);
            break;
        }
        auto& from_m = islands_[i];
        from_m.erase(std::find(from_m.begin(), from_m.end(), id));
        auto& to_m = islands_[to];
        to_m.insert(std::upper_bound(to_m.begin(), to_m.end(), id), id);
        records_[id].island = to;
        records_[id].migrations.push_back({g, i, to});
        moved[id] = true;
        log.push_back({id, g, i, to});
      }
    }
    return log;
  }

  database_config cfg_;
  std::uint64_t seed_ = 0;
  std::vector<record_type> records_;
  std::vector<std::uint64_t> archive_;
  std::vector<std::vector<std::uint64_t>> islands_;
  std::uint64_t best_ = no_id;
  std::uint64_t beam_ = no_id;
  bool initialised_ = false;
};

}  // namespace dphys::population
