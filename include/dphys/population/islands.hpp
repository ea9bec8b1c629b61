// dphys/population/islands.hpp — the island model as a search-strategy wrapper: island_model<S>
// runs I islands, each its own instance of any search_strategy S, as one search_strategy (ask()
// concatenates the islands' populations, tell() splits the fitness), and migrates copies of good
// members between islands every migration_interval generations (Genesis S2;
// docs/reference/islands.md). Extension point: the customization point accept_migrant(strategy,
// genome, fitness) (a member `s.accept_migrant(genome, fitness)` or a free function found by ADL);
// shipped for openai_es, the CMA-ES family, SNES and xNES (replace the mean) and for the GA and DE
// (replace the worst parent / target).
//
// Determinism: island i's strategy is built with seed island_seed(seed, i); migrant choice and
// destinations are counter-based draws of islands_stream keyed by (seed, generation, island,
// migrant); nothing depends on where an island runs (the MPI model in dphys/mpi/islands.hpp gives
// bitwise the same results) or on how the concatenated population is evaluated.
// Checkpoint: save/load between generations. Thread safety: none (ask/tell mutate).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <dphys/core/concepts.hpp>
#include <dphys/core/config.hpp>
#include <dphys/core/error.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/population/config.hpp>
#include <dphys/search/cma_es.hpp>
#include <dphys/search/de.hpp>
#include <dphys/search/ga.hpp>
#include <dphys/search/openai_es.hpp>
#include <dphys/search/snes.hpp>
#include <dphys/search/xnes.hpp>

namespace dphys::population {

/// Random stream of the island model (value 0x1501). Steps: 0 island seeds (member = island,
/// index 0/1 = low/high word), 1 migrant pick without elitism, 2 random destination (member =
/// source island, index = migrant number); generation = completed generations at the event.
inline constexpr stream_id islands_stream = static_cast<stream_id>(0x1501u);

/// Configuration of island_model (and mpi::mpi_island_model). Defaults follow Genesis (§3.1):
/// 4 islands, migration every 10 generations, rate 0.1, random destinations, elitism.
struct island_config {
  std::uint32_t num_islands = 4;
  /// Migrate after every `migration_interval` completed generations (10, 20, ...); 0 = never.
  std::uint32_t migration_interval = 10;
  /// Migrants per island and event: max(1, ⌊population_size·rate⌋) when rate > 0; 0 = none.
  double migration_rate = 0.1;
  /// > 0: exactly this many migrants per island and event (overrides migration_rate); must not
  /// exceed any island's population size.
  std::uint32_t migrants = 0;
  migration_topology topology = migration_topology::random;
  /// true: migrant 0 is the island's best-so-far, the others its best members of the last
  /// generation; false: members of the last generation drawn uniformly without replacement.
  bool elitism = true;

  void check(config_checker<island_config>& c) const {
    c(&island_config::num_islands).at_least(1u).at_most(65536u);
    c(&island_config::migration_rate).in_range(0.0, 1.0);
    c(&island_config::migrants).at_most(1u << 20);
  }

  /// Migrants per island and event for an island of `population` members (0: no migration).
  [[nodiscard]] std::size_t migrants_for(std::size_t population) const {
    if (migrants > 0) return migrants;
    if (!(migration_rate > 0.0)) return 0;
    return std::max<std::size_t>(
        1, static_cast<std::size_t>(std::floor(static_cast<double>(population) * migration_rate)));
  }
  /// True when a migration event follows the tell that completed `completed` generations.
  [[nodiscard]] bool migrates_after(std::uint32_t completed) const {
    return migration_interval > 0 && num_islands > 1 && completed > 0 &&
           completed % migration_interval == 0 && (migrants > 0 || migration_rate > 0.0);
  }
};

/// The seed of island i's strategy: 64 counter-based bits of (seed, islands_stream, island i).
inline std::uint64_t island_seed(std::uint64_t seed, std::uint32_t island) {
  const auto key = random_key::make(seed, islands_stream, 0, 0);
  const std::uint64_t lo = random_bits<float>(key, island, 0u, 0u);
  const std::uint64_t hi = random_bits<float>(key, island, 0u, 1u);
  return (hi << 32) | lo;
}

/// One migration as logged: at the event after `generation` completed generations, a copy of a
/// member of island `from` with fitness `fitness` was offered to island `to`, which `accepted` it
/// or not (accept_migrant's answer).
struct migration_entry {
  std::uint32_t generation = 0;
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  double fitness = 0;  ///< the migrant's fitness, exactly (value_type widened to double)
  bool accepted = false;
  friend bool operator==(const migration_entry&, const migration_entry&) = default;
};

/// Fitness statistics of one island in the last completed generation (mean and median over
/// finite values, NaN if none; median of an even count: mean of the two middle values).
struct island_statistics {
  std::uint32_t island = 0;
  std::uint32_t generation = 0;  ///< the generation these values describe (0-based)
  double best = 0, mean = 0, median = 0;
  double best_so_far = 0;        ///< the island's best sampled fitness so far (−inf if none)
  std::uint64_t non_finite = 0;  ///< members with NaN/inf fitness
  friend bool operator==(const island_statistics&, const island_statistics&) = default;
};

// --- the migration hook --------------------------------------------------------------------------

namespace detail::migrant_cpo {

void accept_migrant() = delete;  // unqualified lookup stops here; ADL finds the strategy's own

template <class S>
concept has_member = requires(S& s, std::span<const typename S::value_type> g,
                              typename S::value_type f) {
  { s.accept_migrant(g, f) } -> std::convertible_to<bool>;
};
template <class S>
concept has_adl = requires(S& s, std::span<const typename S::value_type> g,
                           typename S::value_type f) {
  { accept_migrant(s, g, f) } -> std::convertible_to<bool>;
};

struct fn {
  template <class S>
  requires has_member<S> || has_adl<S>
  bool operator()(S& s, std::span<const typename S::value_type> genome,
                  typename S::value_type fitness) const {
    if constexpr (has_member<S>)
      return static_cast<bool>(s.accept_migrant(genome, fitness));
    else
      return static_cast<bool>(accept_migrant(s, genome, fitness));
  }
};

}  // namespace detail::migrant_cpo

/// accept_migrant(strategy, genome, fitness) -> bool: offers a strategy a copy of another island's
/// member. Contract: called between generations (after tell, before ask), with dimension() values;
/// deterministic (a function of the strategy's state and the arguments); returns whether the
/// strategy changed. Model it with a member `bool accept_migrant(span<const value_type>,
/// value_type)` or a free function `bool accept_migrant(S&, span<const value_type>, value_type)`
/// in S's namespace.
inline constexpr detail::migrant_cpo::fn accept_migrant{};

/// A strategy that can receive migrants.
template <class S>
concept migrant_receiver = search_strategy<S> &&
    requires(S& s, std::span<const typename S::value_type> g, typename S::value_type f) {
  { population::accept_migrant(s, g, f) } -> std::convertible_to<bool>;
};

}  // namespace dphys::population

DPHYS_ADAPT_STRUCT(dphys::population::island_config, num_islands, migration_interval,
                   migration_rate, migrants, topology, elitism);

namespace dphys::search {

/// OpenAI-ES receives a migrant by moving its centre: μ ← migrant iff the migrant's fitness is
/// strictly higher than the island's best sampled fitness so far (es.best_fitness()); the Adam
/// moments, the best-so-far and the counters are kept.
inline bool accept_migrant(openai_es& es, std::span<const float> genome, float fitness) {
  if (!(fitness > es.best_fitness())) return false;
  es.set_mean(genome);
  return true;
}

/// The GA receives a migrant into its parent pool: it replaces the worst parent (lowest fitness,
/// among equals the last) iff the migrant's fitness is strictly higher (basic_ga::replace_worst).
template <class T, class Selection, class Crossover, class Mutation, class Bounds, class NonFinite>
bool accept_migrant(basic_ga<T, Selection, Crossover, Mutation, Bounds, NonFinite>& ga,
                    std::span<const T> genome, T fitness) {
  return ga.replace_worst(genome, fitness);
}

/// The CMA-ES family receives a migrant like OpenAI-ES: m ← migrant iff its fitness is strictly
/// higher than the island's best sampled fitness so far; σ, C and the evolution paths are kept
/// (a restart strategy's later restart starts from its own rule, not from the migrant).
template <class T, class Covariance, class Restarts, class Bounds, class NonFinite>
bool accept_migrant(basic_cma_es<T, Covariance, Restarts, Bounds, NonFinite>& es,
                    std::span<const T> genome, T fitness) {
  if (!(fitness > es.best_fitness())) return false;
  es.set_mean(genome);
  return true;
}

/// SNES and xNES: μ ← migrant iff its fitness beats the island's best-so-far; σ / the shape kept.
template <class T, class Shaping, class Bounds, class NonFinite>
bool accept_migrant(basic_snes<T, Shaping, Bounds, NonFinite>& es, std::span<const T> genome,
                    T fitness) {
  if (!(fitness > es.best_fitness())) return false;
  es.set_mean(genome);
  return true;
}
template <class T, class Shaping, class Bounds, class NonFinite>
bool accept_migrant(basic_xnes<T, Shaping, Bounds, NonFinite>& es, std::span<const T> genome,
                    T fitness) {
  if (!(fitness > es.best_fitness())) return false;
  es.set_mean(genome);
  return true;
}

/// DE receives a migrant into its target set: it replaces the worst target iff the migrant's
/// fitness is strictly higher (basic_de::replace_worst).
template <class T, class Bounds, class NonFinite>
bool accept_migrant(basic_de<T, Bounds, NonFinite>& de, std::span<const T> genome, T fitness) {
  return de.replace_worst(genome, fitness);
}

}  // namespace dphys::search

namespace dphys::population {

namespace detail::islands {

/// A migrant on its way: a copy of a member of island `from` (its `k`-th migrant of the event).
template <class T>
struct migrant {
  std::uint32_t from = 0, k = 0, to = 0;
  T fitness{};
  std::vector<T> genome;
};

inline std::uint32_t below(std::uint32_t n, std::uint32_t bits) {  // floor(bits·n / 2^32)
  return static_cast<std::uint32_t>((std::uint64_t{bits} * n) >> 32);
}

inline std::uint32_t destination(const island_config& cfg, std::uint64_t seed,
                                 std::uint32_t generation, std::uint32_t from, std::uint32_t k) {
  const std::uint32_t n = cfg.num_islands;
  switch (cfg.topology) {
    case migration_topology::ring:
      return (from + 1) % n;
    case migration_topology::fully_connected:
      return (from + 1 + k % (n - 1)) % n;
    case migration_topology::random:
    default: {
      const auto key = random_key::make(seed, islands_stream, generation, 2);
      const std::uint32_t r = below(n - 1, random_bits<float>(key, from, 0u, k));
      return r < from ? r : r + 1;
    }
  }
}

/// One island: its strategy and what the wrapper tracks about it.
template <class Strategy>
struct island {
  using T = typename Strategy::value_type;
  explicit island(Strategy s) : strategy(std::move(s)) {}
  Strategy strategy;
  std::vector<T> best;  ///< best sampled genome so far (empty: none finite yet)
  T best_fitness = -std::numeric_limits<T>::infinity();
  std::size_t best_member = static_cast<std::size_t>(-1);  ///< in the last generation, if there
  island_statistics stats{};

  // After the generation `g` was evaluated: statistics and best-so-far from (population, fitness),
  // then the strategy's tell, which must advance it to generation g + 1.
  void told(std::uint32_t index, std::uint32_t g, std::span<const T> population,
            std::span<const T> fitness, std::size_t d) {
    const std::size_t n = fitness.size();
    best_member = static_cast<std::size_t>(-1);
    std::vector<double> finite;
    finite.reserve(n);
    for (std::size_t m = 0; m < n; ++m) {
      if (!std::isfinite(fitness[m])) continue;
      finite.push_back(static_cast<double>(fitness[m]));
      if (best.empty() || fitness[m] > best_fitness) {
        best_fitness = fitness[m];
        best.assign(population.begin() + static_cast<std::ptrdiff_t>(m * d),
                    population.begin() + static_cast<std::ptrdiff_t>((m + 1) * d));
        best_member = m;
      }
    }
    stats = {};
    stats.island = index;
    stats.generation = g;
    stats.non_finite = n - finite.size();
    stats.best_so_far = static_cast<double>(best_fitness);
    if (finite.empty()) {
      stats.best = stats.mean = stats.median = std::numeric_limits<double>::quiet_NaN();
    } else {
      double sum = 0;
      for (double f : finite) sum += f;
      stats.mean = sum / static_cast<double>(finite.size());
      std::sort(finite.begin(), finite.end());
      const std::size_t k = finite.size();
      stats.best = finite.back();
      stats.median = k % 2 ? finite[k / 2] : 0.5 * (finite[k / 2 - 1] + finite[k / 2]);
    }
    strategy.tell(fitness);
    if (strategy.generation() != g + 1)
      throw std::logic_error(
          "island_model: island " + std::to_string(index) + "'s strategy is at generation " +
          std::to_string(strategy.generation()) + " after its tell, expected " +
          std::to_string(g + 1) +
          " (island strategies must advance one generation per tell; resample_non_finite is not "
          "supported inside an island model)");
  }

  // The migrants of island `index` at the event after `generation` completed generations, chosen
  // from the last generation (population, fitness) and the best-so-far (see island_config).
  std::vector<migrant<T>> emigrants(const island_config& cfg, std::uint64_t seed,
                                    std::uint32_t generation, std::uint32_t index,
                                    std::span<const T> population, std::span<const T> fitness,
                                    std::size_t d) const {
    std::vector<migrant<T>> out;
    const std::size_t n = fitness.size(), want = cfg.migrants_for(n);
    std::vector<std::size_t> finite;
    for (std::size_t m = 0; m < n; ++m)
      if (std::isfinite(fitness[m])) finite.push_back(m);
    auto add = [&](std::span<const T> genome, T f) {
      migrant<T> mg;
      mg.from = index;
      mg.k = static_cast<std::uint32_t>(out.size());
      mg.to = destination(cfg, seed, generation, index, mg.k);
      mg.fitness = f;
      mg.genome.assign(genome.begin(), genome.end());
      out.push_back(std::move(mg));
    };
    auto member = [&](std::size_t m) { return population.subspan(m * d, d); };
    if (cfg.elitism) {
      if (!best.empty() && want > 0) add(best, best_fitness);
      std::stable_sort(finite.begin(), finite.end(),
                       [&](std::size_t a, std::size_t b) { return fitness[a] > fitness[b]; });
      for (std::size_t m : finite) {
        if (out.size() >= want) break;
        if (m == best_member) continue;  // already sent as the best-so-far
        add(member(m), fitness[m]);
      }
    } else {
      const auto key = random_key::make(seed, islands_stream, generation, 1);
      for (std::uint32_t k = 0; out.size() < want && !finite.empty(); ++k) {
        const auto j =
            below(static_cast<std::uint32_t>(finite.size()), random_bits<float>(key, index, 0u, k));
        const std::size_t m = finite[j];
        finite.erase(finite.begin() + static_cast<std::ptrdiff_t>(j));
        add(member(m), fitness[m]);
      }
    }
    return out;
  }

  void save(state_writer& w) const {
    strategy.save(w);
    w.put("best", best);
    w.put("best_fitness", best_fitness);
  }
  void load(state_reader& r, std::size_t d) {
    strategy.load(r);
    r.get("best", best);
    if (!best.empty() && best.size() != d)
      throw state_error(r.source() + ": an island's record 'best' holds " +
                        std::to_string(best.size()) + " values, expected 0 or " +
                        std::to_string(d));
    r.get("best_fitness", best_fitness);
    best_member = static_cast<std::size_t>(-1);
    stats = {};
  }
};

/// Asks every island in order and concatenates their populations into `population` (sizes[i] =
/// island i's population size); `who` names the caller in the error for a wrongly sized ask().
template <class Strategy>
void ask_islands(std::vector<island<Strategy>>& islands, std::size_t d,
                 std::vector<typename Strategy::value_type>& population,
                 std::vector<std::size_t>& sizes, const char* who) {
  population.clear();
  sizes.clear();
  for (auto& isl : islands) {
    const auto p = isl.strategy.ask();
    if (p.size() != isl.strategy.population_size() * d)
      throw std::logic_error(std::string(who) + ": an island's ask() returned " +
                             std::to_string(p.size()) +
                             " values, expected population_size() × dimension()");
    population.insert(population.end(), p.begin(), p.end());
    sizes.push_back(isl.strategy.population_size());
  }
}

inline void save_log(state_writer& w, const std::vector<migration_entry>& log) {
  std::vector<std::uint32_t> g, from, to;
  std::vector<double> f;
  std::vector<std::uint8_t> acc;
  for (const auto& e : log) {
    g.push_back(e.generation);
    from.push_back(e.from);
    to.push_back(e.to);
    f.push_back(e.fitness);
    acc.push_back(e.accepted ? 1 : 0);
  }
  w.put("migration_generation", g);
  w.put("migration_from", from);
  w.put("migration_to", to);
  w.put("migration_fitness", f);
  w.put("migration_accepted", acc);
}

inline std::vector<migration_entry> load_log(state_reader& r) {
  std::vector<std::uint32_t> g, from, to;
  std::vector<double> f;
  std::vector<std::uint8_t> acc;
  r.get("migration_generation", g);
  r.get("migration_from", from, g.size());
  r.get("migration_to", to, g.size());
  r.get("migration_fitness", f, g.size());
  r.get("migration_accepted", acc, g.size());
  std::vector<migration_entry> log(g.size());
  for (std::size_t i = 0; i < g.size(); ++i) log[i] = {g[i], from[i], to[i], f[i], acc[i] != 0};
  return log;
}

/// Checks that a strategy type can take part in migration when the config asks for it.
template <class Strategy>
void check_migration_support(const island_config& cfg) {
  if constexpr (!migrant_receiver<Strategy>) {
    if (cfg.migration_interval > 0 && cfg.num_islands > 1 &&
        (cfg.migrants > 0 || cfg.migration_rate > 0.0))
      throw config_error("migration_interval", std::to_string(cfg.migration_interval),
                         "0 (or migration_rate = 0 and migrants = 0): this strategy type has no "
                         "accept_migrant hook (see docs/reference/islands.md), so its islands "
                         "cannot receive migrants");
  }
}

/// Checks the islands built by a factory: same dimension, migrants <= population size.
template <class Strategy>
void check_islands(const island_config& cfg, const std::vector<island<Strategy>>& isl,
                   std::uint32_t first, std::size_t d) {
  for (std::size_t i = 0; i < isl.size(); ++i) {
    const auto index = std::to_string(first + i);
    if (isl[i].strategy.dimension() != d)
      throw std::invalid_argument("island_model: island " + index + " has dimension " +
                                  std::to_string(isl[i].strategy.dimension()) + ", island " +
                                  std::to_string(first) + " has " + std::to_string(d) +
                                  " (every island must search the same space)");
    if (cfg.migrants > isl[i].strategy.population_size())
      throw config_error("migrants", std::to_string(cfg.migrants),
                         "<= the population size of every island (island " + index + " has " +
                             std::to_string(isl[i].strategy.population_size()) + ")");
    if (isl[i].strategy.generation() != isl[0].strategy.generation())
      throw std::invalid_argument(
          "island_model: the islands' strategies start at different "
          "generations");
  }
}

}  // namespace detail::islands

/// The island model over any search_strategy: num_islands islands, island i built by
/// `make(i, island_seed(seed, i))`. ask() returns the islands' populations concatenated in island
/// order (island i's members at [offset(i), offset(i) + island(i).population_size())); tell()
/// hands each island its slice, tracks each island's best-so-far and statistics, and after every
/// migration_interval-th generation runs a migration event:
///   1. every island (in order) chooses its migrants from the generation just told (before any
///      island receives): elitism: its best-so-far, then its best members of that generation;
///      otherwise uniformly without replacement; non-finite fitness never migrates;
///   2. migrant k of island i goes to: random: a uniformly random other island; ring: i + 1;
///      fully_connected: i + 1 + (k mod (I − 1)) (mod I);
///   3. migrants are delivered in (source island, k) order through accept_migrant and logged.
/// best() is the best sampled genome of all islands (ties: the lowest island).
template <search_strategy Strategy>
class island_model {
 public:
  using value_type = typename Strategy::value_type;
  using strategy_type = Strategy;

  /// `make(std::uint32_t island, std::uint64_t island_seed) -> Strategy`. Throws config_error for
  /// a bad config (and when migration is configured but Strategy has no accept_migrant hook),
  /// std::invalid_argument for islands of different dimensions.
  template <class Factory>
  requires std::invocable<Factory&, std::uint32_t, std::uint64_t> island_model(island_config cfg,
                                                                               std::uint64_t seed,
                                                                               Factory&& make)
      : cfg_(cfg), seed_(seed) {
    dphys::validate(cfg_);
    detail::islands::check_migration_support<Strategy>(cfg_);
    islands_.reserve(cfg_.num_islands);
    for (std::uint32_t i = 0; i < cfg_.num_islands; ++i)
      islands_.emplace_back(Strategy(make(i, island_seed(seed_, i))));
    dimension_ = islands_[0].strategy.dimension();
    detail::islands::check_islands(cfg_, islands_, 0, dimension_);
    generation_ = islands_[0].strategy.generation();
  }

  [[nodiscard]] std::size_t dimension() const { return dimension_; }
  [[nodiscard]] std::size_t population_size() const {
    std::size_t n = 0;
    for (const auto& isl : islands_) n += isl.strategy.population_size();
    return n;
  }
  [[nodiscard]] std::uint32_t generation() const { return generation_; }
  [[nodiscard]] const island_config& config() const { return cfg_; }
  [[nodiscard]] std::uint64_t seed() const { return seed_; }
  [[nodiscard]] std::uint32_t num_islands() const { return cfg_.num_islands; }

  [[nodiscard]] const Strategy& island(std::uint32_t i) const { return islands_.at(i).strategy; }
  [[nodiscard]] Strategy& island(std::uint32_t i) { return islands_.at(i).strategy; }
  /// Index of island i's first member in the concatenated population.
  [[nodiscard]] std::size_t offset(std::uint32_t i) const {
    std::size_t n = 0;
    for (std::uint32_t j = 0; j < i; ++j) n += islands_.at(j).strategy.population_size();
    return n;
  }
  [[nodiscard]] std::span<const value_type> island_best(std::uint32_t i) const {
    return islands_.at(i).best;
  }
  [[nodiscard]] value_type island_best_fitness(std::uint32_t i) const {
    return islands_.at(i).best_fitness;
  }
  /// Statistics of every island in the last told generation (empty before the first tell and
  /// after load).
  [[nodiscard]] std::vector<island_statistics> island_stats() const {
    std::vector<island_statistics> s;
    if (!told_) return s;
    for (const auto& isl : islands_) s.push_back(isl.stats);
    return s;
  }
  /// Every migration so far, in event order and, within an event, in (source, k) order.
  [[nodiscard]] const std::vector<migration_entry>& migrations() const { return log_; }

  /// Best sampled genome of all islands (empty before the first finite fitness).
  [[nodiscard]] std::span<const value_type> best() const { return islands_[best_island()].best; }
  [[nodiscard]] value_type best_fitness() const { return islands_[best_island()].best_fitness; }
  /// The island holding best() (the lowest one among equals).
  [[nodiscard]] std::uint32_t best_island() const {
    std::uint32_t b = 0;
    for (std::uint32_t i = 1; i < islands_.size(); ++i)
      if (!islands_[i].best.empty() &&
          (islands_[b].best.empty() || islands_[i].best_fitness > islands_[b].best_fitness))
        b = i;
    return b;
  }

  /// The islands' populations, concatenated in island order (population_size() × dimension()).
  std::span<const value_type> ask() {
    detail::islands::ask_islands(islands_, dimension_, population_, sizes_, "island_model");
    asked_ = true;
    return population_;
  }

  /// Fitness of the last asked population (population_size() values, higher is better); runs a
  /// migration event when one is due.
  void tell(std::span<const value_type> fitness) {
    if (!asked_) throw std::logic_error("island_model::tell called without a preceding ask");
    std::size_t total = 0;
    for (auto s : sizes_) total += s;
    if (fitness.size() != total)
      throw std::invalid_argument("island_model::tell: got " + std::to_string(fitness.size()) +
                                  " fitness values for a population of " + std::to_string(total));
    const std::size_t d = dimension_;
    std::size_t off = 0;
    for (std::uint32_t i = 0; i < islands_.size(); ++i) {
      const std::size_t n = sizes_[i];
      islands_[i].told(i, generation_,
                       std::span<const value_type>(population_).subspan(off * d, n * d),
                       fitness.subspan(off, n), d);
      off += n;
    }
    ++generation_;
    asked_ = false;
    told_ = true;
    if (cfg_.migrates_after(generation_)) migrate_(fitness);
  }

  /// Writes the whole model (config check values, counters, every island's strategy and
  /// best-so-far, the migration log). Only between generations.
  void save(state_writer& w) const {
    if (asked_)
      throw std::logic_error(
          "island_model::save between ask() and tell(): checkpoint between "
          "generations");
    auto scope = w.scope("island_model");
    w.put("num_islands", cfg_.num_islands);
    w.put("seed", seed_);
    w.put("dimension", static_cast<std::uint64_t>(dimension_));
    w.put("generation", generation_);
    for (std::uint32_t i = 0; i < islands_.size(); ++i) {
      auto s = w.scope("island" + std::to_string(i));
      islands_[i].save(w);
    }
    detail::islands::save_log(w, log_);
  }

  /// Restores what save() wrote into a model built with the same config, seed and factory
  /// (state_error otherwise; the model is unchanged then).
  void load(state_reader& r) {
    auto scope = r.scope("island_model");
    const auto n = r.get<std::uint32_t>("num_islands");
    const auto seed = r.get<std::uint64_t>("seed");
    const auto d = r.get<std::uint64_t>("dimension");
    if (n != cfg_.num_islands || seed != seed_ || d != dimension_)
      throw state_error(r.source() + ": the island_model checkpoint has " + std::to_string(n) +
                        " islands, seed " + std::to_string(seed) + ", dimension " +
                        std::to_string(d) + "; this model has " + std::to_string(cfg_.num_islands) +
                        ", " + std::to_string(seed_) + ", " + std::to_string(dimension_));
    island_model m(*this);
    r.get("generation", m.generation_);
    for (std::uint32_t i = 0; i < m.islands_.size(); ++i) {
      auto s = r.scope("island" + std::to_string(i));
      m.islands_[i].load(r, dimension_);
    }
    m.log_ = detail::islands::load_log(r);
    m.asked_ = m.told_ = false;
    *this = std::move(m);
  }

 private:
  void migrate_(std::span<const value_type> fitness) {
    const std::size_t d = dimension_;
    std::vector<detail::islands::migrant<value_type>> out;
    std::size_t off = 0;
    for (std::uint32_t i = 0; i < islands_.size(); ++i) {
      const std::size_t n = sizes_[i];
      auto m =
          islands_[i].emigrants(cfg_, seed_, generation_, i,
                                std::span<const value_type>(population_).subspan(off * d, n * d),
                                fitness.subspan(off, n), d);
      for (auto& x : m) out.push_back(std::move(x));
      off += n;
    }
    if constexpr (migrant_receiver<Strategy>) {
      for (const auto& m : out) {
        const bool ok = population::accept_migrant(
            islands_[m.to].strategy, std::span<const value_type>(m.genome), m.fitness);
        log_.push_back({generation_, m.from, m.to, static_cast<double>(m.fitness), ok});
      }
    }
  }

  island_config cfg_;
  std::uint64_t seed_;
  std::vector<detail::islands::island<Strategy>> islands_;
  std::size_t dimension_ = 0;
  std::uint32_t generation_ = 0;
  std::vector<value_type> population_;
  std::vector<std::size_t> sizes_;
  std::vector<migration_entry> log_;
  bool asked_ = false, told_ = false;
};

}  // namespace dphys::population
