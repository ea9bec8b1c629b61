// dphys/population/island_search.hpp — Genesis's steady-state island search assembled from the
// parts: propose (sample parent and context, choose patch type and bandit arm, make the child with
// the caller's operator, novelty rejection with resampling) and commit (archive, islands,
// migration, bandit update, one per-generation log record, S8). Extension points: the caller's
// operator `make(const proposal_request<Payload>&) -> offspring<Payload>` and the Similarity of
// novelty_filter. Use with run_steady_state (steady_state.hpp) for P evaluations in flight.
//
// Determinism: propose and commit must be called in birth order (run_steady_state does); then
//   the database, bandit and log depend only on seed, config, operator and evaluator.
// Thread safety: none; evaluate candidates elsewhere, propose/commit on one thread.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <dphys/core/json.hpp>

#include <dphys/core/config_check.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/population/bandit.hpp>
#include <dphys/population/config.hpp>
#include <dphys/population/database.hpp>
#include <dphys/population/novelty.hpp>
#include <dphys/population/selection.hpp>

namespace dphys::population {

/// What the caller's operator sees. parent is null for birth 0 (make the initial program).
template <class Payload>
struct proposal_request {
  std::uint64_t birth = 0;
  std::uint32_t attempt = 0;  ///< novelty resample number
  const program_database<Payload>* database = nullptr;
  const candidate<Payload>* parent = nullptr;
  const sample_result* context = nullptr;  ///< inspirations; null for birth 0
  patch_type type = patch_type::diff;
  std::size_t patch_index = 0;  ///< index into evolution_config::patch_types
  std::size_t arm = 0;          ///< bandit arm (0 without a bandit)
  std::uint64_t seed = 0;       ///< the search seed, for the operator's own counter-based draws
};

/// What the caller's operator returns.
template <class Payload>
struct offspring {
  Payload payload{};
  std::vector<double> descriptors;  ///< embedding for novelty; may be empty (never rejected)
  std::map<std::string, std::string> metadata;
};

/// What the evaluator returns.
struct evaluation {
  double combined_score = 0.0;
  bool correct = false;
  std::map<std::string, double> public_metrics;
  std::map<std::string, double> private_metrics;
  std::map<std::string, std::string> metadata;  ///< e.g. text feedback
};

/// A child ready to evaluate.
template <class Payload>
struct proposal {
  std::uint64_t birth = 0;
  sample_result context{};
  bool has_parent = false;
  std::size_t patch_index = 0;
  patch_type type = patch_type::diff;
  std::size_t arm = 0;
  std::uint32_t novelty_rejections = 0;
  double max_similarity = -1.0;
  offspring<Payload> child{};
};

template <class Payload, class Similarity = cosine_similarity>
class island_search {
 public:
  explicit island_search(island_search_config config, Similarity similarity = {})
      : cfg_(std::move(config)),
        db_((validate(cfg_), cfg_.database), cfg_.seed),
        bandit_(cfg_.bandit),
        novelty_{cfg_.evolution.similarity_threshold, std::move(similarity)} {}

  [[nodiscard]] const island_search_config& config() const noexcept { return cfg_; }
  [[nodiscard]] const program_database<Payload>& database() const noexcept { return db_; }
  [[nodiscard]] const operator_bandit& bandit() const noexcept { return bandit_; }
  [[nodiscard]] std::uint64_t committed() const noexcept { return committed_; }

  /// Proposes birth `birth` (call in birth order; birth 0 first, and committed before birth 1).
  /// Up to max_novelty_attempts attempts: sample, choose patch and arm, make, check novelty;
  /// the last attempt is kept even if rejected (soft rejection).
  template <class Make>
  proposal<Payload> propose(std::uint64_t birth, Make&& make) {
    proposal<Payload> p;
    p.birth = birth;
    if (birth == 0) {
      proposal_request<Payload> rq;
      rq.database = &db_;
      rq.seed = cfg_.seed;
      p.child = make(std::as_const(rq));
      return p;
    }
    if (db_.empty())
      throw std::logic_error("island_search::propose: birth " + std::to_string(birth) +
                             " asked before birth 0 was committed");
    p.has_parent = true;
    const std::uint32_t attempts = cfg_.evolution.max_novelty_attempts;
    for (std::uint32_t a = 0; a < attempts; ++a) {
      p.context = db_.sample(birth, a);
      p.patch_index = choose_patch(cfg_.evolution, cfg_.seed, birth, a);
      p.type = cfg_.evolution.patch_types[p.patch_index];
      p.arm = bandit_.choose(cfg_.seed, birth, a);
      proposal_request<Payload> rq;
      rq.birth = birth;
      rq.attempt = a;
      rq.database = &db_;
      rq.parent = &db_[p.context.parent_id];
      rq.context = &p.context;
      rq.type = p.type;
      rq.patch_index = p.patch_index;
      rq.arm = p.arm;
      rq.seed = cfg_.seed;
      p.child = make(std::as_const(rq));
      const auto v = novelty_(db_, p.context.island, birth, p.child.descriptors);
      p.max_similarity = v.max_similarity;
      if (v.accepted) break;
      if (a + 1 < attempts) ++p.novelty_rejections;
      else p.child.metadata["novelty"] = "soft_rejected";
    }
    return p;
  }

  /// Commits an evaluated proposal (in birth order) and returns its per-generation log record.
  dphys::json commit(proposal<Payload>&& p, evaluation&& e) {
    if (p.birth != committed_)
      throw std::logic_error("island_search::commit: birth " + std::to_string(p.birth) +
                             " committed out of order (expected " + std::to_string(committed_) +
                             ")");
    candidate<Payload> c;
    c.generation = p.birth;
    c.payload = std::move(p.child.payload);
    c.descriptors = std::move(p.child.descriptors);
    c.metadata = std::move(p.child.metadata);
    for (auto& [k, v] : e.metadata) c.metadata[k] = v;
    c.combined_score = e.combined_score;
    c.correct = e.correct;
    c.public_metrics = std::move(e.public_metrics);
    c.private_metrics = std::move(e.private_metrics);
    double parent_score = 0.0;
    if (p.has_parent) {
      c.parent_id = p.context.parent_id;
      c.archive_inspirations = p.context.archive_inspirations;
      c.top_k_inspirations = p.context.top_k_inspirations;
      c.island = p.context.initial_phase ? no_island : p.context.island;
      c.metadata["patch_type"] = std::string(enum_name(p.type));
      c.metadata["arm"] = std::to_string(p.arm);
      parent_score = db_[p.context.parent_id].combined_score;
    }
    const auto res = db_.add(std::move(c));
    const auto& child = db_[res.id];
    if (p.birth == 0) baseline_ = child.correct ? child.combined_score : 0.0;
    if (p.has_parent && cfg_.bandit.kind != bandit_kind::none)
      bandit_.update(p.arm, bandit_reward(child.combined_score, child.correct, parent_score,
                                          baseline_));
    ++committed_;
    return log_record_(p, res);
  }

  void save(state_writer& w) const {
    auto s = w.scope("island_search");
    w.put("committed", committed_);
    w.put("baseline", baseline_);
    db_.save(w);
    bandit_.save(w);
  }
  void load(state_reader& r) {
    auto s = r.scope("island_search");
    r.get("committed", committed_);
    r.get("baseline", baseline_);
    db_.load(r);
    bandit_.load(r);
  }

 private:
  dphys::json log_record_(const proposal<Payload>& p, const add_result& res) const {
    const auto& c = db_[res.id];
    std::vector<double> scores;
    for (auto id : db_.archive()) scores.push_back(db_[id].combined_score);
    double mean = 0.0;
    for (double s : scores) mean += s;
    if (!scores.empty()) mean /= static_cast<double>(scores.size());
    const auto num = [](double x) {
      return std::isfinite(x) ? dphys::json(x) : dphys::json(nullptr);
    };
    dphys::json j;
    j["schema"] = "dphys.population.generation/1";
    j["birth"] = p.birth;
    j["id"] = res.id;
    j["parent"] = p.has_parent ? dphys::json(p.context.parent_id) : dphys::json(nullptr);
    j["island"] = c.island;
    j["score"] = num(c.combined_score);
    j["correct"] = c.correct;
    j["patch_type"] = p.has_parent ? dphys::json(std::string(enum_name(p.type)))
                                   : dphys::json(nullptr);
    j["arm"] = p.arm;
    j["best_score"] = db_.best_id() == no_id ? dphys::json(nullptr)
                                             : num(db_[db_.best_id()].combined_score);
    j["best_id"] = db_.best_id();
    j["archive_mean_score"] = scores.empty() ? dphys::json(nullptr) : num(mean);
    j["archive_median_score"] = scores.empty() ? dphys::json(nullptr) : num(median(scores));
    j["archive_size"] = db_.archive().size();
    std::vector<std::size_t> pops;
    for (std::uint32_t i = 0; i < db_.num_islands(); ++i) pops.push_back(db_.island(i).size());
    j["island_sizes"] = pops;
    dphys::json mig = dphys::json::array();
    for (const auto& m : res.migrations)
      mig.push_back({{"id", m.id}, {"from", m.from}, {"to", m.to}});
    j["migrations"] = mig;
    j["novelty_rejections"] = p.novelty_rejections;
    j["max_similarity"] = num(p.max_similarity);
    j["archived"] = res.archived;
    j["bandit"] = bandit_.posterior();
    return j;
  }

  island_search_config cfg_;
  program_database<Payload> db_;
  operator_bandit bandit_;
  novelty_filter<Similarity> novelty_;
  std::uint64_t committed_ = 0;
  double baseline_ = 0.0;
};

}  // namespace dphys::population
