// dphys/population/config.hpp — configuration of the population-structure core (program database,
// islands, parent selection, operators, novelty, operator bandit) with Genesis's (d9968a4)
// defaults and its presets as named factory functions. Extension point: none (plain configs).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/core/config_check.hpp>
#include <dphys/core/enum_names.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/reflect.hpp>

namespace dphys::population {

/// The random stream of everything in dphys::population (island choice, parent and inspiration
/// sampling, operator choice, migration, bandit ties). Counters: generation = birth index,
/// step = purpose (detail::purpose), member = attempt, index = draw number.
inline constexpr stream_id population_stream = static_cast<stream_id>(0x300);

/// Parent selection within an island (genesis.md §3.1 "Sampling").
enum class parent_selection { power_law, weighted, beam_search, best_of_n, uniform, hill_climbing };
constexpr auto enum_names(parent_selection) {
  return std::array{std::pair{parent_selection::power_law, std::string_view{"power_law"}},
                    std::pair{parent_selection::weighted, std::string_view{"weighted"}},
                    std::pair{parent_selection::beam_search, std::string_view{"beam_search"}},
                    std::pair{parent_selection::best_of_n, std::string_view{"best_of_n"}},
                    std::pair{parent_selection::uniform, std::string_view{"uniform"}},
                    std::pair{parent_selection::hill_climbing, std::string_view{"hill_climbing"}}};
}

/// Where a migrant goes: random = a uniformly random other island (Genesis); ring = island
/// (i + 1) mod N; fully_connected = the k-th migrant of island i goes to the k-th island of the
/// cyclic order i+1, i+2, ... (skipping i), so every other island receives in turn.
enum class migration_topology { random, ring, fully_connected };
constexpr auto enum_names(migration_topology) {
  return std::array{
      std::pair{migration_topology::random, std::string_view{"random"}},
      std::pair{migration_topology::ring, std::string_view{"ring"}},
      std::pair{migration_topology::fully_connected, std::string_view{"fully_connected"}}};
}

/// Abstract operator kinds (Genesis patch types); the caller maps them to its own operators.
enum class patch_type { diff, full, cross };
constexpr auto enum_names(patch_type) {
  return std::array{std::pair{patch_type::diff, std::string_view{"diff"}},
                    std::pair{patch_type::full, std::string_view{"full"}},
                    std::pair{patch_type::cross, std::string_view{"cross"}}};
}

/// Operator bandit: none, Genesis's asymmetric UCB ("ucb1" in Genesis configs), or plain UCB1.
enum class bandit_kind { none, asymmetric_ucb, ucb1 };
constexpr auto enum_names(bandit_kind) {
  return std::array{std::pair{bandit_kind::none, std::string_view{"none"}},
                    std::pair{bandit_kind::asymmetric_ucb, std::string_view{"asymmetric_ucb"}},
                    std::pair{bandit_kind::ucb1, std::string_view{"ucb1"}}};
}

/// Genesis DatabaseConfig (defaults from its code).
struct database_config {
  std::uint32_t num_islands = 4;
  std::uint32_t archive_size = 100;
  double elite_selection_ratio = 0.3;
  std::uint32_t num_archive_inspirations = 5;
  std::uint32_t num_top_k_inspirations = 2;
  std::uint32_t migration_interval = 10;  ///< 0 = never migrate
  double migration_rate = 0.1;            ///< 0 = never migrate (see docs)
  bool island_elitism = true;
  bool enforce_island_separation = true;
  bool copy_initial_program = true;  ///< the first program is copied to every island
  migration_topology topology = migration_topology::random;
  parent_selection selection = parent_selection::power_law;
  double exploitation_alpha = 1.0;
  double exploitation_ratio = 0.2;
  double parent_selection_lambda = 10.0;
  std::uint32_t num_beams = 5;

  void check(config_checker<database_config>& c) const {
    c(&database_config::num_islands).at_least(1u).at_most(65536u);
    c(&database_config::archive_size).at_least(1u);
    c(&database_config::elite_selection_ratio).in_range(0.0, 1.0);
    c(&database_config::migration_rate).in_range(0.0, 1.0);
    c(&database_config::exploitation_alpha).at_least(0.0);
    c(&database_config::exploitation_ratio).in_range(0.0, 1.0);
    c(&database_config::parent_selection_lambda).greater_than(0.0);
    c(&database_config::num_beams).at_least(1u);
  }
};

/// Genesis EvolutionConfig, the parts that are not about LLM prompting.
struct evolution_config {
  std::vector<patch_type> patch_types{patch_type::diff};
  std::vector<double> patch_type_probs{1.0};
  std::uint32_t num_generations = 10;     ///< births, including generation 0
  std::uint32_t max_parallel_jobs = 2;    ///< P: evaluations in flight
  std::uint32_t max_novelty_attempts = 3;
  double similarity_threshold = 1.0;      ///< Genesis code_embed_sim_threshold; 1.0 never rejects

  void check(config_checker<evolution_config>& c) const {
    c(&evolution_config::patch_types)
        .satisfies([](const auto& v) { return !v.empty(); }, "at least one patch type");
    c(&evolution_config::patch_type_probs)
        .at_least(0.0)
        .satisfies([this](const auto& v) { return v.size() == patch_types.size(); },
                   "one probability per entry of patch_types");
    c(&evolution_config::patch_type_probs)
        .satisfies(
            [](const auto& v) {
              double s = 0;
              for (double p : v) s += p;
              return std::abs(s - 1.0) <= 1e-9;
            },
            "probabilities sum to 1 (within 1e-9)");
    c(&evolution_config::num_generations).at_least(1u);
    c(&evolution_config::max_parallel_jobs).at_least(1u);
    c(&evolution_config::max_novelty_attempts).at_least(1u);
    c(&evolution_config::similarity_threshold).in_range(-1.0, 1.0);
  }
};

/// Operator bandit: arms are the caller's operators or proposal providers.
struct bandit_config {
  bandit_kind kind = bandit_kind::none;
  std::uint32_t num_arms = 1;
  double exploration = 1.0;  ///< c
  double epsilon = 0.2;      ///< asymmetric UCB only: mass shared by the non-top arms
  double discount = 0.95;    ///< asymmetric UCB only: forgetting factor after every update

  void check(config_checker<bandit_config>& c) const {
    c(&bandit_config::num_arms).at_least(1u);
    c(&bandit_config::exploration).at_least(0.0);
    c(&bandit_config::epsilon).in_range(0.0, 1.0);
    c(&bandit_config::discount).greater_than(0.0).at_most(1.0);
  }
};

/// Everything an island_search needs.
struct island_search_config {
  std::uint64_t seed = 0;
  database_config database{};
  evolution_config evolution{};
  bandit_config bandit{};
};

/// Genesis's defaults (DatabaseConfig/EvolutionConfig in its code).
inline island_search_config genesis_defaults() { return {}; }

/// Genesis preset island_small: 2 islands, archive 20.
inline database_config island_small() {
  database_config d;
  d.num_islands = 2;
  d.archive_size = 20;
  return d;
}
/// Genesis preset island_medium: 2 islands, archive 40, migration_rate 0, weighted λ = 10.
inline database_config island_medium() {
  database_config d;
  d.num_islands = 2;
  d.archive_size = 40;
  d.migration_rate = 0.0;
  d.selection = parent_selection::weighted;
  d.parent_selection_lambda = 10.0;
  return d;
}
/// Genesis preset island_large: 5 islands, archive 40, migration_rate 0.1, weighted λ = 10.
inline database_config island_large() {
  database_config d;
  d.num_islands = 5;
  d.archive_size = 40;
  d.migration_rate = 0.1;
  d.selection = parent_selection::weighted;
  d.parent_selection_lambda = 10.0;
  return d;
}
/// Genesis budget small: diff/full 0.5/0.5, 20 generations.
inline evolution_config budget_small() {
  evolution_config e;
  e.patch_types = {patch_type::diff, patch_type::full};
  e.patch_type_probs = {0.5, 0.5};
  e.num_generations = 20;
  return e;
}
/// Genesis budget medium: diff/full/cross 0.6/0.3/0.1, 100 generations, 10 parallel (its UCB over
/// 6 LLMs is bandit_medium()).
inline evolution_config budget_medium() {
  evolution_config e;
  e.patch_types = {patch_type::diff, patch_type::full, patch_type::cross};
  e.patch_type_probs = {0.6, 0.3, 0.1};
  e.num_generations = 100;
  e.max_parallel_jobs = 10;
  return e;
}
/// Genesis budget large: diff/full/cross 0.4/0.4/0.2, 300 generations.
inline evolution_config budget_large() {
  evolution_config e;
  e.patch_types = {patch_type::diff, patch_type::full, patch_type::cross};
  e.patch_type_probs = {0.4, 0.4, 0.2};
  e.num_generations = 300;
  return e;
}
/// Genesis budget medium's operator bandit: asymmetric UCB over 6 arms, c = 1, ε = 0.2.
inline bandit_config bandit_medium() {
  bandit_config b;
  b.kind = bandit_kind::asymmetric_ucb;
  b.num_arms = 6;
  return b;
}
/// Genesis circle-packing example: 2 islands, archive 40, 4+2 inspirations, weighted λ = 10, 400
/// generations, 5 parallel, similarity threshold 0.995, asymmetric UCB with c = 1 over `arms`.
inline island_search_config circle_packing(std::uint32_t arms = 1) {
  island_search_config c;
  c.database.num_islands = 2;
  c.database.archive_size = 40;
  c.database.num_archive_inspirations = 4;
  c.database.num_top_k_inspirations = 2;
  c.database.selection = parent_selection::weighted;
  c.database.parent_selection_lambda = 10.0;
  c.evolution.num_generations = 400;
  c.evolution.max_parallel_jobs = 5;
  c.evolution.similarity_threshold = 0.995;
  c.bandit.kind = bandit_kind::asymmetric_ucb;
  c.bandit.num_arms = arms;
  c.bandit.exploration = 1.0;
  return c;
}

}  // namespace dphys::population

DPHYS_ADAPT_STRUCT(dphys::population::database_config, num_islands, archive_size,
                   elite_selection_ratio, num_archive_inspirations, num_top_k_inspirations,
                   migration_interval, migration_rate, island_elitism, enforce_island_separation,
                   copy_initial_program, topology, selection, exploitation_alpha,
                   exploitation_ratio, parent_selection_lambda, num_beams);
DPHYS_ADAPT_STRUCT(dphys::population::evolution_config, patch_types, patch_type_probs,
                   num_generations, max_parallel_jobs, max_novelty_attempts, similarity_threshold);
DPHYS_ADAPT_STRUCT(dphys::population::bandit_config, kind, num_arms, exploration, epsilon,
                   discount);
DPHYS_ADAPT_STRUCT(dphys::population::island_search_config, seed, database, evolution, bandit);
