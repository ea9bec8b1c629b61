// dphys_mpi_tests — mpi::mpi_island_model (dphys/mpi/islands.hpp) against the in-process
// population::island_model computed on rank 0 of the same program: every generation's whole
// population, the best genome, the per-island statistics and the migration log must agree bitwise,
// on every rank. Run with mpirun -np 2 and -np 4 (tests/mpi/CMakeLists.txt). Exit status 0 = pass.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <mpi.h>

#include <dphys/core/random.hpp>
#include <dphys/crucibles/rollout.hpp>
#include <dphys/mpi/islands.hpp>
#include <dphys/population/islands.hpp>
#include <dphys/problems/benchmark_functions.hpp>
#include <dphys/search/ga.hpp>
#include <dphys/search/openai_es.hpp>

namespace {

using namespace dphys;
using population::island_config;
using population::migration_topology;

int rank_ = 0, size_ = 1;
int failures = 0;

void fail(const std::string& what) {
  std::fprintf(stderr, "rank %d: FAIL: %s\n", rank_, what.c_str());
  ++failures;
}

// −rastrigin plus noise keyed by the global member id (so a wrong member_offset shows).
template <class T>
std::vector<T> evaluate(std::span<const T> pop, std::size_t d, std::uint64_t seed,
                        std::uint32_t generation, std::size_t offset) {
  const std::size_t n = pop.size() / d;
  std::vector<T> f(n);
  const auto key = random_key::make(seed, stream_id::evaluation, generation, 0);
  for (std::size_t m = 0; m < n; ++m)
    f[m] = -problems::rastrigin{}(pop.subspan(m * d, d)) +
           T(0.01f * uniform<float>(key, static_cast<std::uint32_t>(offset + m), 0u, 0u));
  return f;
}

template <class T>
void put(std::vector<char>& b, const T& v) {
  const auto* p = reinterpret_cast<const char*>(&v);
  b.insert(b.end(), p, p + sizeof v);
}

// Everything that must agree, as bytes.
template <class Model>
std::vector<char> fingerprint(const Model& m) {
  std::vector<char> b;
  for (auto x : m.best()) put(b, x);
  put(b, m.best_fitness());
  put(b, m.best_island());
  for (const auto& s : m.island_stats()) {
    put(b, s.island);
    put(b, s.generation);
    put(b, s.best);
    put(b, s.mean);
    put(b, s.median);
    put(b, s.best_so_far);
    put(b, s.non_finite);
  }
  for (const auto& e : m.migrations()) {
    put(b, e.generation);
    put(b, e.from);
    put(b, e.to);
    put(b, e.fitness);
    put(b, static_cast<char>(e.accepted));
  }
  return b;
}

std::vector<char> gather_to_root(const std::vector<char>& mine) {
  const int n = static_cast<int>(mine.size());
  std::vector<int> counts(static_cast<std::size_t>(size_)), displs(static_cast<std::size_t>(size_));
  MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  int total = 0;
  for (int r = 0; r < size_; ++r) {
    displs[static_cast<std::size_t>(r)] = total;
    total += counts[static_cast<std::size_t>(r)];
  }
  std::vector<char> all(static_cast<std::size_t>(rank_ == 0 ? total : 0));
  MPI_Gatherv(mine.data(), n, MPI_BYTE, all.data(), counts.data(), displs.data(), MPI_BYTE, 0,
              MPI_COMM_WORLD);
  return all;
}

template <class Strategy, class Factory>
void compare(const std::string& name, const island_config& cfg, std::uint64_t seed,
             std::uint32_t generations, Factory make) {
  using T = typename Strategy::value_type;
  mpi::mpi_island_model<Strategy> dist(cfg, seed, MPI_COMM_WORLD, make);
  std::optional<population::island_model<Strategy>> ref;
  if (rank_ == 0) ref.emplace(cfg, seed, make);
  const std::size_t d = dist.dimension();
  for (std::uint32_t g = 0; g < generations; ++g) {
    const auto pop = dist.ask();
    const auto f = evaluate<T>(pop, d, seed, g, dist.member_offset());
    std::vector<char> mine(reinterpret_cast<const char*>(pop.data()),
                           reinterpret_cast<const char*>(pop.data() + pop.size()));
    const auto all = gather_to_root(mine);
    dist.tell(f);
    if (rank_ == 0) {
      const auto rpop = ref->ask();
      if (all.size() != rpop.size_bytes() || std::memcmp(all.data(), rpop.data(), all.size()))
        fail(name + ": generation " + std::to_string(g) + ": the populations differ");
      ref->tell(evaluate<T>(rpop, d, seed, g, 0));
    }
    const auto fp = gather_to_root(fingerprint(dist));
    if (rank_ == 0) {
      const auto want = fingerprint(*ref);
      for (int r = 0; r < size_; ++r)
        if (fp.size() != want.size() * static_cast<std::size_t>(size_) ||
            std::memcmp(fp.data() + want.size() * static_cast<std::size_t>(r), want.data(),
                        want.size()))
          fail(name + ": generation " + std::to_string(g) + ": rank " + std::to_string(r) +
               " differs from the in-process model (best, statistics or migration log)");
    }
  }
  if (rank_ == 0) {
    if (ref->migrations().empty()) fail(name + ": no migration happened");
    std::printf(
        "%s: %u generations, %zu migrations, best %.6g on island %u: identical on %d "
        "ranks\n",
        name.c_str(), generations, ref->migrations().size(),
        static_cast<double>(ref->best_fitness()), ref->best_island(), size_);
  }
}

island_config config(std::uint32_t islands, std::uint32_t interval, std::uint32_t migrants,
                     migration_topology t, bool elitism) {
  island_config c;
  c.num_islands = std::max(islands, static_cast<std::uint32_t>(size_));  // >= 1 island per rank
  c.migration_interval = interval;
  c.migrants = migrants;
  c.topology = t;
  c.elitism = elitism;
  return c;
}

search::openai_es make_es(std::uint32_t i, std::uint64_t s) {
  search::openai_es_config ec;
  ec.pop_size = 8 + 2 * static_cast<int>(i % 3);  // islands of different sizes
  ec.sigma = 0.3f;
  std::vector<float> mean(6);
  fill_uniform(random_key::make(s, stream_id::genome_init, 0, 0), 0, 0, mean);
  for (auto& v : mean) v = 4.f * v - 2.f;
  return search::openai_es(ec, mean, s);
}

search::ga<double> make_ga(std::uint32_t, std::uint64_t s) {
  search::ga_config gc;
  gc.pop_size = 12;
  return search::ga<double>(gc, search::box<double>::uniform(5, -5.0, 5.0), s);
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  try {
    compare<search::openai_es>("openai_es, 5 islands, random, elitism",
                               config(5, 3, 2, migration_topology::random, true), 7, 20, make_es);
    compare<search::openai_es>("openai_es, 4 islands, ring, no elitism",
                               config(4, 2, 3, migration_topology::ring, false), 8, 12, make_es);
    compare<search::ga<double>>("ga, 6 islands, fully_connected, elitism",
                                config(6, 4, 3, migration_topology::fully_connected, true), 9, 16,
                                make_ga);
    if (size_ > 1) {  // fewer islands than ranks: refused on every rank
      bool refused = false;
      try {
        mpi::mpi_island_model<search::openai_es> m(
            [] {
              auto c = config(1, 0, 0, migration_topology::ring, true);
              c.num_islands = static_cast<std::uint32_t>(size_ - 1);
              return c;
            }(),
            1, MPI_COMM_WORLD, make_es);
      } catch (const config_error& e) {
        refused = std::string(e.what()).find("num_islands") != std::string::npos;
      }
      if (!refused) fail("num_islands < ranks was not refused with a config_error");
    }
  } catch (const std::exception& e) {
    fail(std::string("exception: ") + e.what());
  }
  int total = 0;
  MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank_ == 0)
    std::printf("dphys_mpi_tests on %d ranks: %s\n", size_, total ? "FAILED" : "passed");
  MPI_Finalize();
  return total ? 1 : 0;
}
