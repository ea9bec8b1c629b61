// dphys/mpi/islands.hpp — the island model over MPI: mpi_island_model<S> spreads the islands of
// population::island_model<S> over the ranks of a communicator (contiguous blocks, at least one
// island per rank) and migrates by message; with the same seed and config every rank sees bitwise
// the results of the in-process model (best(), migrations(), island_stats()). Needs MPI (link
// dphys::mpi); not part of the umbrella header. Extension point: accept_migrant (as in-process).
//
// Usage: every rank constructs the model (collectively), then per generation: pop = m.ask()
// (this rank's islands, concatenated), evaluate it with member ids starting at m.member_offset()
// (crucibles::rollout_keys::member_offset), m.tell(fitness) (collective). Thread safety: none; call
// from one thread per rank (MPI_THREAD_FUNNELED suffices; evaluation may use threads).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <mpi.h>

#include <dphys/core/concepts.hpp>
#include <dphys/core/config.hpp>
#include <dphys/core/error.hpp>
#include <dphys/population/islands.hpp>

namespace dphys::mpi {

/// An MPI call failed; the message names the call and MPI's error string.
class mpi_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

inline void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw mpi_error(std::string("dphys::mpi: ") + what + " failed: " + std::string(text, len));
}

// Every rank's bytes, concatenated in rank order, on every rank.
inline std::vector<char> allgather_bytes(MPI_Comm comm, const std::vector<char>& mine) {
  int size = 0;
  check(MPI_Comm_size(comm, &size), "MPI_Comm_size");
  const int n = static_cast<int>(mine.size());
  std::vector<int> counts(static_cast<std::size_t>(size)), displs(static_cast<std::size_t>(size));
  check(MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, comm), "MPI_Allgather");
  int total = 0;
  for (int r = 0; r < size; ++r) {
    displs[static_cast<std::size_t>(r)] = total;
    total += counts[static_cast<std::size_t>(r)];
  }
  std::vector<char> all(static_cast<std::size_t>(total));
  check(MPI_Allgatherv(mine.data(), n, MPI_BYTE, all.data(), counts.data(), displs.data(), MPI_BYTE,
                       comm),
        "MPI_Allgatherv");
  return all;
}

template <class T>
void append(std::vector<char>& buf, const T& v) {
  static_assert(std::is_trivially_copyable_v<T>);
  const auto* p = reinterpret_cast<const char*>(&v);
  buf.insert(buf.end(), p, p + sizeof(T));
}
template <class T>
T take(const std::vector<char>& buf, std::size_t& pos) {
  T v;
  std::memcpy(&v, buf.data() + pos, sizeof(T));
  pos += sizeof(T);
  return v;
}

}  // namespace detail

/// The first island of `rank` when `islands` islands are spread over `ranks` ranks in contiguous
/// blocks (rank r holds [first(r), first(r + 1))).
inline std::uint32_t first_island(std::uint32_t islands, int rank, int ranks) {
  return static_cast<std::uint32_t>(std::uint64_t{islands} * static_cast<std::uint64_t>(rank) /
                                    static_cast<std::uint64_t>(ranks));
}

/// population::island_model<Strategy> with its islands spread over the ranks of `comm`.
/// Collective: the constructor, tell(), and the first ask() after construction.
template <search_strategy Strategy>
class mpi_island_model {
 public:
  using value_type = typename Strategy::value_type;
  using strategy_type = Strategy;

  /// `make(island, island_seed)` is called for this rank's islands only. Throws config_error
  /// (on every rank) if config.num_islands < the number of ranks, or for a bad config.
  template <class Factory>
  requires std::invocable<Factory&, std::uint32_t, std::uint64_t> mpi_island_model(
      population::island_config cfg, std::uint64_t seed, MPI_Comm comm, Factory&& make)
      : cfg_(cfg), seed_(seed), comm_(comm) {
    dphys::validate(cfg_);
    population::detail::islands::check_migration_support<Strategy>(cfg_);
    detail::check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    detail::check(MPI_Comm_size(comm_, &ranks_), "MPI_Comm_size");
    if (cfg_.num_islands < static_cast<std::uint32_t>(ranks_))
      throw config_error("num_islands", std::to_string(cfg_.num_islands),
                         ">= the number of MPI ranks (" + std::to_string(ranks_) +
                             "): at least one island per rank");
    first_ = mpi::first_island(cfg_.num_islands, rank_, ranks_);
    const std::uint32_t last = mpi::first_island(cfg_.num_islands, rank_ + 1, ranks_);
    for (std::uint32_t i = first_; i < last; ++i)
      islands_.emplace_back(Strategy(make(i, population::island_seed(seed_, i))));
    dimension_ = islands_[0].strategy.dimension();
    population::detail::islands::check_islands(cfg_, islands_, first_, dimension_);
    // every rank must agree on the dimension (a factory that differs by rank is a bug)
    std::uint64_t d = dimension_, dmin = 0, dmax = 0;
    detail::check(MPI_Allreduce(&d, &dmin, 1, MPI_UINT64_T, MPI_MIN, comm_), "MPI_Allreduce");
    detail::check(MPI_Allreduce(&d, &dmax, 1, MPI_UINT64_T, MPI_MAX, comm_), "MPI_Allreduce");
    if (dmin != dmax)
      throw std::invalid_argument(
          "mpi_island_model: the ranks' islands have different "
          "dimensions (" +
          std::to_string(dmin) + " to " + std::to_string(dmax) + ")");
    generation_ = islands_[0].strategy.generation();
  }

  [[nodiscard]] int rank() const { return rank_; }
  [[nodiscard]] int ranks() const { return ranks_; }
  [[nodiscard]] std::uint32_t num_islands() const { return cfg_.num_islands; }
  /// This rank's islands are [first_island(), first_island() + local_islands()).
  [[nodiscard]] std::uint32_t first_island() const { return first_; }
  [[nodiscard]] std::uint32_t local_islands() const {
    return static_cast<std::uint32_t>(islands_.size());
  }
  [[nodiscard]] const Strategy& island(std::uint32_t i) const {
    return islands_.at(i - first_).strategy;
  }
  [[nodiscard]] std::size_t dimension() const { return dimension_; }
  /// Members asked on this rank.
  [[nodiscard]] std::size_t population_size() const {
    std::size_t n = 0;
    for (const auto& isl : islands_) n += isl.strategy.population_size();
    return n;
  }
  /// Global index of this rank's first member in the in-process model's concatenated population
  /// (valid after ask()); evaluate member m of ask() as member member_offset() + m.
  [[nodiscard]] std::size_t member_offset() const { return member_offset_; }
  [[nodiscard]] std::uint32_t generation() const { return generation_; }
  [[nodiscard]] const population::island_config& config() const { return cfg_; }

  /// The best sampled genome of all islands (identical on every rank; ties: the lowest island).
  [[nodiscard]] std::span<const value_type> best() const { return best_; }
  [[nodiscard]] value_type best_fitness() const { return best_fitness_; }
  [[nodiscard]] std::uint32_t best_island() const { return best_island_; }
  /// Every island's statistics of the last generation (identical on every rank).
  [[nodiscard]] const std::vector<population::island_statistics>& island_stats() const {
    return stats_;
  }
  /// The whole migration log (identical on every rank and to the in-process model's).
  [[nodiscard]] const std::vector<population::migration_entry>& migrations() const { return log_; }

  /// This rank's islands' populations, concatenated in island order. Collective.
  std::span<const value_type> ask() {
    population::detail::islands::ask_islands(islands_, dimension_, population_, sizes_,
                                             "mpi_island_model");
    // member offset: exclusive prefix sum of the ranks' population sizes
    std::uint64_t mine = sizes_total_(), before = 0;
    detail::check(MPI_Exscan(&mine, &before, 1, MPI_UINT64_T, MPI_SUM, comm_), "MPI_Exscan");
    member_offset_ = rank_ == 0 ? 0 : static_cast<std::size_t>(before);
    asked_ = true;
    return population_;
  }

  /// Fitness of this rank's last asked population. Collective: gathers the statistics and the best
  /// genome, and runs the migration event when one is due.
  void tell(std::span<const value_type> fitness) {
    if (!asked_) throw std::logic_error("mpi_island_model::tell called without a preceding ask");
    if (fitness.size() != sizes_total_())
      throw std::invalid_argument("mpi_island_model::tell: got " + std::to_string(fitness.size()) +
                                  " fitness values for a population of " +
                                  std::to_string(sizes_total_()));
    const std::size_t d = dimension_;
    std::size_t off = 0;
    for (std::size_t i = 0; i < islands_.size(); ++i) {
      const std::size_t n = sizes_[i];
      islands_[i].told(first_ + static_cast<std::uint32_t>(i), generation_,
                       std::span<const value_type>(population_).subspan(off * d, n * d),
                       fitness.subspan(off, n), d);
      off += n;
    }
    ++generation_;
    asked_ = false;
    gather_stats_and_best_();
    if (cfg_.migrates_after(generation_)) migrate_(fitness);
  }

 private:
  using island_t = population::detail::islands::island<Strategy>;
  using migrant_t = population::detail::islands::migrant<value_type>;

  [[nodiscard]] std::size_t sizes_total_() const {
    std::size_t n = 0;
    for (auto s : sizes_) n += s;
    return n;
  }

  void gather_stats_and_best_() {
    // statistics of every island, in island order (= rank order of the blocks)
    std::vector<char> buf;
    for (const auto& isl : islands_) detail::append(buf, isl.stats);
    const auto all = detail::allgather_bytes(comm_, buf);
    stats_.clear();
    for (std::size_t pos = 0; pos < all.size();)
      stats_.push_back(detail::take<population::island_statistics>(all, pos));
    // the best island of all: what island_model::best_island() computes, over every island's
    // (has best, best fitness)
    buf.clear();
    for (const auto& isl : islands_) {
      detail::append(buf, static_cast<std::uint8_t>(isl.best.empty() ? 0 : 1));
      detail::append(buf, isl.best_fitness);
    }
    const auto bests = detail::allgather_bytes(comm_, buf);
    std::uint32_t b = 0;
    bool b_has = false;
    value_type b_fit{};
    std::size_t pos = 0;
    for (std::uint32_t i = 0; i < cfg_.num_islands; ++i) {
      const bool has = detail::take<std::uint8_t>(bests, pos) != 0;
      const auto f = detail::take<value_type>(bests, pos);
      if (i == 0 || (has && (!b_has || f > b_fit))) {
        b = i;
        b_has = has;
        b_fit = f;
      }
    }
    best_island_ = b;
    best_fitness_ = b_fit;
    // its genome, from the rank that holds it
    int owner = 0;
    while (owner + 1 < ranks_ && mpi::first_island(cfg_.num_islands, owner + 1, ranks_) <= b)
      ++owner;
    if (!b_has) {
      best_.clear();
      return;
    }
    best_.resize(dimension_);
    if (owner == rank_) {
      const auto& g = islands_[b - first_].best;
      std::copy(g.begin(), g.end(), best_.begin());
    }
    detail::check(MPI_Bcast(best_.data(), static_cast<int>(dimension_ * sizeof(value_type)),
                            MPI_BYTE, owner, comm_),
                  "MPI_Bcast");
  }

  void migrate_(std::span<const value_type> fitness) {
    const std::size_t d = dimension_;
    // 1. this rank's emigrants, serialised: from, k, to, fitness, genome
    std::vector<char> buf;
    std::size_t off = 0;
    for (std::size_t i = 0; i < islands_.size(); ++i) {
      const std::size_t n = sizes_[i];
      const auto out =
          islands_[i].emigrants(cfg_, seed_, generation_, first_ + static_cast<std::uint32_t>(i),
                                std::span<const value_type>(population_).subspan(off * d, n * d),
                                fitness.subspan(off, n), d);
      for (const auto& m : out) {
        detail::append(buf, m.from);
        detail::append(buf, m.k);
        detail::append(buf, m.to);
        detail::append(buf, m.fitness);
        for (const auto& x : m.genome) detail::append(buf, x);
      }
      off += n;
    }
    // 2. everybody's, in rank order = (source island, k) order
    const auto all = detail::allgather_bytes(comm_, buf);
    std::vector<migrant_t> migrants;
    for (std::size_t pos = 0; pos < all.size();) {
      migrant_t m;
      m.from = detail::take<std::uint32_t>(all, pos);
      m.k = detail::take<std::uint32_t>(all, pos);
      m.to = detail::take<std::uint32_t>(all, pos);
      m.fitness = detail::take<value_type>(all, pos);
      m.genome.resize(d);
      for (auto& x : m.genome) x = detail::take<value_type>(all, pos);
      migrants.push_back(std::move(m));
    }
    // 3. deliver ours in that order; share who accepted
    std::vector<std::uint8_t> accepted(migrants.size(), 0), all_accepted(migrants.size(), 0);
    if constexpr (population::migrant_receiver<Strategy>) {
      for (std::size_t j = 0; j < migrants.size(); ++j) {
        const auto& m = migrants[j];
        if (m.to < first_ || m.to >= first_ + islands_.size()) continue;
        accepted[j] = population::accept_migrant(islands_[m.to - first_].strategy,
                                                 std::span<const value_type>(m.genome), m.fitness)
                          ? 1
                          : 0;
      }
    }
    if (!migrants.empty())
      detail::check(MPI_Allreduce(accepted.data(), all_accepted.data(),
                                  static_cast<int>(accepted.size()), MPI_UINT8_T, MPI_MAX, comm_),
                    "MPI_Allreduce");
    for (std::size_t j = 0; j < migrants.size(); ++j)
      log_.push_back({generation_, migrants[j].from, migrants[j].to,
                      static_cast<double>(migrants[j].fitness), all_accepted[j] != 0});
  }

  population::island_config cfg_;
  std::uint64_t seed_;
  MPI_Comm comm_;
  int rank_ = 0, ranks_ = 1;
  std::uint32_t first_ = 0;
  std::vector<island_t> islands_;
  std::size_t dimension_ = 0;
  std::size_t member_offset_ = 0;
  std::uint32_t generation_ = 0;
  std::vector<value_type> population_;
  std::vector<std::size_t> sizes_;
  std::vector<value_type> best_;
  value_type best_fitness_ = -std::numeric_limits<value_type>::infinity();
  std::uint32_t best_island_ = 0;
  std::vector<population::island_statistics> stats_;
  std::vector<population::migration_entry> log_;
  bool asked_ = false;
};

}  // namespace dphys::mpi
