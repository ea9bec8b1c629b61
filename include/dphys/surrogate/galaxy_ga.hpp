// dphys/surrogate/galaxy_ga.hpp — Galaxy's generational GA (spec G6): population 10, 5 generations,
// elites = top max(1, ⌊pop·0.2⌋), children by crossover of two distinct elites with probability
// 0.5 (when ≥ 2 elites can cross) or mutation of a uniform elite, explore/exploit switch at
// generation 3, survivor elitism on (off in compat mode), and a per-generation history (every
// member's fitness, accuracy, cost, size, parents; best/average/worst) written as JSONL with
// NaN/inf → null.
//
// Extension point: the genome operations `Ops` (concept galaxy_genome_ops): initial, mutate,
// evaluate, describe; optional crossover + can_crossover, improve (e.g. constant optimisation of
// elites) and propose (external candidates, e.g. the proposal hook). program_ops and
// parametric_ops are the shipped models.
// Determinism: draws are keyed by (seed, stream, generation, child index); evaluation order is
// fixed, so a run is a pure function of (config, ops) with a deterministic cost model.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <dphys/core/json.hpp>

#include <dphys/core/config_check.hpp>
#include <dphys/core/enum_names.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/run/atomic_file.hpp>
#include <dphys/surrogate/crucible.hpp>
#include <dphys/surrogate/parametric.hpp>
#include <dphys/surrogate/text.hpp>
#include <dphys/surrogate/variation.hpp>

namespace dphys::surrogate {

struct galaxy_ga_config {
  int population = 10;
  int generations = 5;  ///< evaluated populations (generation 0 .. generations−1)
  double elite_fraction = 0.2;
  bool crossover = true;
  double crossover_probability = 0.5;
  int explore_generations = 3;  ///< generations < this explore, the rest exploit
  bool survivor_elitism = true;  ///< elites are copied into the next population
  bool compat = false;  ///< Galaxy's behaviour: survivor elitism off (best-so-far can be lost)
  std::uint64_t seed = 0;

  void check(config_checker<galaxy_ga_config>& c) const {
    c(&galaxy_ga_config::population).in_range(1, 1 << 20);
    c(&galaxy_ga_config::generations).in_range(1, 1 << 20);
    c(&galaxy_ga_config::elite_fraction).in_range(0.0, 1.0);
    c(&galaxy_ga_config::crossover_probability).in_range(0.0, 1.0);
    c(&galaxy_ga_config::explore_generations).at_least(0);
  }
  [[nodiscard]] int elite_count() const {
    return std::max(1, static_cast<int>(std::floor(population * elite_fraction)));
  }
  [[nodiscard]] bool keeps_elites() const { return survivor_elitism && !compat; }
};

}  // namespace dphys::surrogate

DPHYS_ADAPT_STRUCT(dphys::surrogate::galaxy_ga_config, population, generations, elite_fraction,
                   crossover, crossover_probability, explore_generations, survivor_elitism, compat,
                   seed);

namespace dphys::surrogate {

/// Genome operations of the Galaxy GA. Minimal complete definition: a `genome_type`;
/// `initial(draw_stream&)`, `mutate(const genome&, int generation, draw_stream&)`,
/// `evaluate(const genome&) -> evaluation`, `describe(const genome&) -> std::string`.
/// Optional: `can_crossover(const genome&) -> bool` with `crossover(a, b, draw_stream&)`;
/// `improve(const genome&) -> genome` (applied to elites, kept only if fitness improves);
/// `propose(int generation, const std::vector<const member<genome>*>& elites) ->
/// std::vector<genome>` (candidates that take children's places before mutation/crossover).
/// Laws: evaluate is pure (same genome, same evaluation) under a deterministic cost model.
template <class Ops>
concept galaxy_genome_ops = requires(Ops& ops, const typename Ops::genome_type& g, draw_stream& d) {
  { ops.initial(d) } -> std::convertible_to<typename Ops::genome_type>;
  { ops.mutate(g, 0, d) } -> std::convertible_to<typename Ops::genome_type>;
  { ops.evaluate(g) } -> std::convertible_to<evaluation>;
  { ops.describe(g) } -> std::convertible_to<std::string>;
};

/// One evaluated population member.
template <class Genome>
struct member {
  Genome genome;
  evaluation eval;
  int id = 0;                ///< unique within a run, in birth order
  std::vector<int> parents;  ///< ids
  std::string origin;        ///< initial, elite, mutation, crossover, proposal, improved
};

struct member_record {
  int id = 0;
  double fitness = 0, accuracy = 0, cost = 0;
  std::size_t size = 0;
  std::vector<int> parents;
  std::string origin;
  std::string description;
  std::string rejection;  ///< "none" or the reason
};

struct generation_record {
  int generation = 0;
  std::vector<member_record> members;
  double best = 0, average = 0, worst = 0;
};

template <class Genome>
struct ga_result {
  member<Genome> best;                  ///< best evaluated member of the whole run
  std::vector<generation_record> history;
  rejection_counts rejections{};        ///< over all evaluations
  std::uint64_t evaluations = 0;
};

/// NaN-safe "a is fitter than b" (NaN ranks last; ties by lower id).
template <class Genome>
bool fitter(const member<Genome>& a, const member<Genome>& b) {
  const double fa = std::isnan(a.eval.fitness) ? -std::numeric_limits<double>::infinity() : a.eval.fitness;
  const double fb = std::isnan(b.eval.fitness) ? -std::numeric_limits<double>::infinity() : b.eval.fitness;
  if (fa != fb) return fa > fb;
  return a.id < b.id;
}

template <galaxy_genome_ops Ops>
class galaxy_ga {
 public:
  using genome = typename Ops::genome_type;

  galaxy_ga(galaxy_ga_config cfg, Ops ops) : cfg_(std::move(cfg)), ops_(std::move(ops)) {
    validate(cfg_);
  }

  [[nodiscard]] Ops& ops() noexcept { return ops_; }

  /// Runs the GA; `on_generation(const generation_record&)` is called after each generation.
  template <class Observer>
  ga_result<genome> run(Observer&& on_generation) {
    ga_result<genome> res;
    int next_id = 0;
    std::vector<member<genome>> pop;
    for (int m = 0; m < cfg_.population; ++m) {
      draw_stream d(cfg_.seed, init_stream, 0, static_cast<std::uint32_t>(m));
      pop.push_back(make_(ops_.initial(d), next_id++, {}, "initial", res));
    }
    res.best = pop.front();
    for (int g = 0;; ++g) {
      for (const auto& mb : pop)
        if (fitter(mb, res.best)) res.best = mb;
      res.history.push_back(record_(g, pop));
      on_generation(res.history.back());
      if (g + 1 >= cfg_.generations) break;

      std::vector<member<genome>> sorted = pop;
      std::stable_sort(sorted.begin(), sorted.end(), fitter<genome>);
      const std::size_t ne = std::min<std::size_t>(static_cast<std::size_t>(cfg_.elite_count()),
                                                   sorted.size());
      std::vector<member<genome>> elites(sorted.begin(),
                                         sorted.begin() + static_cast<std::ptrdiff_t>(ne));
      if constexpr (requires { ops_.improve(elites[0].genome); }) {
        for (auto& e : elites) {
          genome candidate = ops_.improve(e.genome);
          if constexpr (std::equality_comparable<genome>)
            if (candidate == e.genome) continue;
          auto better = make_(std::move(candidate), next_id, {e.id}, "improved", res);
          if (fitter(better, e) && better.eval.fitness > e.eval.fitness) {
            ++next_id;
            e = std::move(better);
            if (fitter(e, res.best)) res.best = e;
          }
        }
      }
      std::vector<member<genome>> next;
      if (cfg_.keeps_elites())
        for (const auto& e : elites) {
          next.push_back(e);
          next.back().origin = "elite";
        }
      if constexpr (requires { ops_.propose(g, std::vector<const member<genome>*>{}); }) {
        std::vector<const member<genome>*> ep;
        for (const auto& e : elites) ep.push_back(&e);
        std::vector<int> pids;
        for (const auto& e : elites) pids.push_back(e.id);
        for (auto& cand : ops_.propose(g, ep)) {
          if (next.size() >= static_cast<std::size_t>(cfg_.population)) break;
          next.push_back(make_(std::move(cand), next_id++, pids, "proposal", res));
        }
      }
      std::vector<std::size_t> can;
      if constexpr (requires(genome x) { ops_.can_crossover(x); }) {
        for (std::size_t i = 0; i < elites.size(); ++i)
          if (ops_.can_crossover(elites[i].genome)) can.push_back(i);
      }
      while (next.size() < static_cast<std::size_t>(cfg_.population)) {
        draw_stream d(cfg_.seed, variation_stream, static_cast<std::uint32_t>(g),
                      static_cast<std::uint32_t>(next.size()));
        bool crossed = false;
        if constexpr (requires(genome x) { ops_.crossover(x, x, d); }) {
          if (cfg_.crossover && can.size() >= 2 && d.chance(cfg_.crossover_probability)) {
            const std::size_t a = d.below(can.size());
            std::size_t b = d.below(can.size() - 1);
            if (b >= a) ++b;  // two distinct elites
            const std::size_t i = can[a], j = can[b];
            next.push_back(make_(ops_.crossover(elites[i].genome, elites[j].genome, d), next_id++,
                                 {elites[i].id, elites[j].id}, "crossover", res));
            crossed = true;
          }
        }
        if (!crossed) {
          const auto& e = elites[d.below(elites.size())];
          next.push_back(make_(ops_.mutate(e.genome, g, d), next_id++, {e.id}, "mutation", res));
        }
      }
      pop = std::move(next);
    }
    return res;
  }

  ga_result<genome> run() {
    return run([](const generation_record&) {});
  }

 private:
  member<genome> make_(genome gnm, int id, std::vector<int> parents, std::string origin,
                       ga_result<genome>& res) {
    member<genome> m{std::move(gnm), {}, id, std::move(parents), std::move(origin)};
    m.eval = ops_.evaluate(m.genome);
    ++res.evaluations;
    ++res.rejections[static_cast<std::size_t>(m.eval.reason)];
    return m;
  }

  generation_record record_(int g, const std::vector<member<genome>>& pop) {
    generation_record r;
    r.generation = g;
    double sum = 0;
    r.best = -std::numeric_limits<double>::infinity();
    r.worst = std::numeric_limits<double>::infinity();
    for (const auto& m : pop) {
      r.members.push_back({m.id, m.eval.fitness, m.eval.accuracy, m.eval.cost, m.eval.size,
                           m.parents, m.origin, ops_.describe(m.genome),
                           std::string(enum_name(m.eval.reason))});
      sum += m.eval.fitness;
      r.best = std::max(r.best, m.eval.fitness);
      r.worst = std::min(r.worst, m.eval.fitness);
    }
    r.average = pop.empty() ? 0.0 : sum / static_cast<double>(pop.size());
    return r;
  }

  galaxy_ga_config cfg_;
  Ops ops_;
};

/// History as JSON Lines (one generation per line; NaN and ±inf become null). `metadata` (e.g.
/// {"test_problem": ..., "num_particles": ...}) is attached to every line.
inline std::string history_jsonl(const std::vector<generation_record>& history,
                                 const dphys::json& metadata = dphys::json::object()) {
  std::string out;
  for (const auto& g : history) {
    dphys::json j;
    j["schema"] = "dphys.surrogate.galaxy_history/1";
    j["generation"] = g.generation;
    j["best"] = g.best;
    j["average"] = g.average;
    j["worst"] = g.worst;
    j["metadata"] = metadata;
    auto members = dphys::json::array();
    for (const auto& m : g.members)
      members.push_back({{"id", m.id},
                         {"fitness", m.fitness},
                         {"accuracy", m.accuracy},
                         {"cost", m.cost},
                         {"size", m.size},
                         {"parents", m.parents},
                         {"origin", m.origin},
                         {"description", m.description},
                         {"rejection", m.rejection}});
    j["members"] = std::move(members);
    out += j.dump(-1, ' ', false, dphys::json::error_handler_t::replace);
    out += '\n';
  }
  return out;
}

/// Writes history_jsonl atomically (temporary file, then rename).
inline void write_history_jsonl(const std::filesystem::path& file,
                                const std::vector<generation_record>& history,
                                const dphys::json& metadata = dphys::json::object()) {
  run::write_file_atomic(file, history_jsonl(history, metadata));
}

/// Genome operations for expression programs, scored by a surrogate_crucible.
struct program_ops {
  using genome_type = program;
  const surrogate_crucible* crucible = nullptr;
  variation_config variation{};
  neighbour_rule neighbours{};        ///< of random initial programs
  update_rule update{};               ///< of random initial programs
  std::vector<program> seeds{};       ///< initial members taken from here first (in order)
  int optimise_sweeps = 0;            ///< > 0: constant optimisation of elites (one-step loss)
  int optimise_evaluations = 200;
  int explore_generations = 3;
  /// External candidates per generation (e.g. ga_proposal_source of proposer.hpp); empty: none.
  std::function<std::vector<program>(int generation, const std::vector<const member<program>*>& elites)>
      proposer{};

  program initial(draw_stream& d) {
    const std::size_t m = seeds_used_++;
    if (m < seeds.size()) return seeds[m];
    return random_program(variation, d, neighbours, update);
  }
  program mutate(const program& p, int generation, draw_stream& d) const {
    return surrogate::mutate(p, variation, d, generation < explore_generations);
  }
  bool can_crossover(const program&) const { return true; }
  program crossover(const program& a, const program& b, draw_stream& d) const {
    return subtree_crossover(a, b, variation, d);
  }
  evaluation evaluate(const program& p) const { return crucible->evaluate(p); }
  std::string describe(const program& p) const { return print_program(p); }
  std::vector<program> propose(int generation,
                               const std::vector<const member<program>*>& elites) const {
    return proposer ? proposer(generation, elites) : std::vector<program>{};
  }
  program improve(const program& p) const {
    if (optimise_sweeps <= 0) return p;
    const surrogate_crucible* c = crucible;
    return simplify(optimise_constants(
        simplify(p), [c](const program& q) { return c->one_step_loss(q); }, optimise_sweeps,
        optimise_evaluations));
  }

 private:
  std::size_t seeds_used_ = 0;
};

/// Genome operations for Galaxy's parametric model (no crossover, as in Galaxy: crossover needs
/// program elites). Cost declared: N per step (one attractor interaction per particle).
struct parametric_ops {
  using genome_type = parametric_genome;
  const surrogate_crucible* crucible = nullptr;

  parametric_genome initial(draw_stream& d) const { return parametric_initial(d); }
  parametric_genome mutate(const parametric_genome& t, int generation, draw_stream& d) const {
    return parametric_mutate(t, generation, d);
  }
  evaluation evaluate(const parametric_genome& t) const {
    const double n = crucible->scenes().empty() ? 0.0 : static_cast<double>(crucible->scenes()[0].size());
    return crucible->evaluate_predict(
        [&t](const nbody::particles<double>& p) { return parametric_predict(t, p); }, n, 6);
  }
  std::string describe(const parametric_genome& t) const {
    std::string s = "parametric[";
    for (std::size_t k = 0; k < 6; ++k) s += (k ? ", " : "") + detail::number_text(t[k]);
    return s + "]";
  }
};

}  // namespace dphys::surrogate
