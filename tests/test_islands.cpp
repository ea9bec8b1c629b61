// Tests of the island model (population/islands.hpp): ask/tell splitting, the migration rules of
// every topology on hand-made fitness, the accept_migrant hooks of every shipped strategy,
// determinism, 1 vs 2 evaluation threads, checkpoint/continue, and config errors.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <dphys/core/parallel.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/population/islands.hpp>
#include <dphys/problems/benchmark_functions.hpp>
#include <dphys/run/evolve.hpp>
#include <dphys/search/cma_es.hpp>
#include <dphys/search/de.hpp>
#include <dphys/search/ga.hpp>
#include <dphys/search/openai_es.hpp>
#include <dphys/search/snes.hpp>
#include <dphys/search/xnes.hpp>

namespace {

using namespace dphys;
using dphys::population::island_config;
using dphys::population::island_model;
using dphys::population::migration_entry;
using dphys::population::migration_topology;

// A strategy whose population encodes (island, generation, member): x[m][j] = island·10000 +
// generation·100 + m + j/10; it records what it is told and the migrants it is offered.
template <bool Hook>
struct probe {
  using value_type = double;
  std::uint32_t island = 0;
  std::uint64_t seed = 0;
  std::size_t n = 4, d = 2;
  std::uint32_t gen = 0;
  std::vector<double> pop, told;
  struct arrival {
    std::vector<double> genome;
    double fitness;
  };
  std::vector<arrival> received;
  bool accept = true;

  [[nodiscard]] std::size_t dimension() const { return d; }
  [[nodiscard]] std::size_t population_size() const { return n; }
  [[nodiscard]] std::uint32_t generation() const { return gen; }
  [[nodiscard]] std::span<const double> best() const { return {}; }
  std::span<const double> ask() {
    pop.resize(n * d);
    for (std::size_t m = 0; m < n; ++m)
      for (std::size_t j = 0; j < d; ++j)
        pop[m * d + j] = island * 10000.0 + gen * 100.0 + static_cast<double>(m) + 0.1 * j;
    return pop;
  }
  void tell(std::span<const double> f) {
    told.assign(f.begin(), f.end());
    ++gen;
  }
  bool accept_migrant(std::span<const double> g, double f) requires Hook {
    received.push_back({std::vector<double>(g.begin(), g.end()), f});
    return accept;
  }
  void save(state_writer& w) const { w.put("gen", gen); }
  void load(state_reader& r) { r.get("gen", gen); }
};

static_assert(search_strategy<probe<true>> && population::migrant_receiver<probe<true>>);
static_assert(!population::migrant_receiver<probe<false>>);
static_assert(search_strategy<island_model<search::openai_es>>);
static_assert(search_strategy<island_model<search::ga<double>>>);
static_assert(population::migrant_receiver<search::openai_es> &&
              population::migrant_receiver<search::ga<float>>);

island_config config(std::uint32_t islands, std::uint32_t interval, std::uint32_t migrants,
                     migration_topology t, bool elitism) {
  island_config c;
  c.num_islands = islands;
  c.migration_interval = interval;
  c.migrants = migrants;
  c.topology = t;
  c.elitism = elitism;
  return c;
}

auto probe_factory(std::vector<std::size_t> sizes = {}) {
  return [sizes](std::uint32_t i, std::uint64_t s) {
    probe<true> p;
    p.island = i;
    p.seed = s;
    if (!sizes.empty()) p.n = sizes[i];
    return p;
  };
}

// Hand-made fitness: member m of island i gets table(i, m).
template <class Model, class F>
void tell_with(Model& model, F table) {
  const auto pop = model.ask();
  std::vector<double> f;
  for (std::uint32_t i = 0; i < model.num_islands(); ++i)
    for (std::size_t m = 0; m < model.island(i).population_size(); ++m) f.push_back(table(i, m));
  CHECK(f.size() * model.dimension() == pop.size());
  model.tell(f);
}

double genome_island(const std::vector<double>& g) { return std::floor(g[0] / 10000.0); }
double genome_member(const std::vector<double>& g) { return std::fmod(g[0], 100.0); }

}  // namespace

TEST_CASE("islands: ask concatenates the islands' populations, tell splits the fitness") {
  island_model<probe<true>> model(config(3, 0, 0, migration_topology::ring, true), 7,
                                  probe_factory({2, 3, 4}));
  CHECK(model.population_size() == 9);
  CHECK(model.dimension() == 2);
  CHECK(model.offset(0) == 0);
  CHECK(model.offset(1) == 2);
  CHECK(model.offset(2) == 5);
  for (std::uint32_t i = 0; i < 3; ++i) {
    CHECK(model.island(i).island == i);
    CHECK(model.island(i).seed == population::island_seed(7, i));
  }
  CHECK(population::island_seed(7, 0) != population::island_seed(7, 1));
  CHECK(population::island_seed(7, 0) != population::island_seed(8, 0));
  const auto pop = model.ask();
  REQUIRE(pop.size() == 18);
  CHECK(pop[0] == 0.0);
  CHECK(pop[1] == doctest::Approx(0.1));
  CHECK(pop[2 * 2] == 10000.0);  // island 1, member 0
  CHECK(pop[5 * 2] == 20000.0);  // island 2, member 0
  CHECK(pop[8 * 2] == 20003.0);  // island 2, member 3
  std::vector<double> f{0, 1, 2, 3, 4, 5, 6, 7, 8};
  model.tell(f);
  CHECK(model.generation() == 1);
  CHECK(model.island(0).told == std::vector<double>{0, 1});
  CHECK(model.island(1).told == std::vector<double>{2, 3, 4});
  CHECK(model.island(2).told == std::vector<double>{5, 6, 7, 8});
  CHECK(model.best_fitness() == 8.0);
  CHECK(model.best_island() == 2);
  CHECK(model.best()[0] == 20003.0);
  CHECK(model.island_best_fitness(1) == 4.0);
  const auto st = model.island_stats();
  REQUIRE(st.size() == 3);
  CHECK(st[1].best == 4.0);
  CHECK(st[1].mean == 3.0);
  CHECK(st[1].median == 3.0);
  CHECK(st[2].median == 6.5);
  CHECK(model.migrations().empty());
  CHECK_THROWS_AS(model.tell(f), std::logic_error);  // no ask
  (void)model.ask();
  CHECK_THROWS_AS(model.tell(std::vector<double>(8, 0.0)), std::invalid_argument);
}

TEST_CASE("islands: ring migration with elitism sends the best-so-far and the next best") {
  island_model<probe<true>> model(config(4, 2, 2, migration_topology::ring, true), 1,
                                  probe_factory());
  // generation 0: member 3 best everywhere (fitness 100 + i); generation 1: member 1 best (50)
  tell_with(model, [](std::uint32_t i, std::size_t m) { return m == 3 ? 100.0 + i : double(m); });
  CHECK(model.migrations().empty());  // interval 2: nothing after 1 generation
  tell_with(model, [](std::uint32_t, std::size_t m) {
    return m == 1 ? 50.0 : m == 2 ? 40.0 : m == 0 ? std::numeric_limits<double>::quiet_NaN() : 1.0;
  });
  const auto& log = model.migrations();
  REQUIRE(log.size() == 8);
  for (std::uint32_t i = 0; i < 4; ++i) {
    const auto& a = log[2 * i];
    const auto& b = log[2 * i + 1];
    CHECK(a == migration_entry{2, i, (i + 1) % 4, 100.0 + i, true});
    CHECK(b == migration_entry{2, i, (i + 1) % 4, 50.0, true});
    const auto& got = model.island((i + 1) % 4).received;
    REQUIRE(got.size() == 2);
    // the best-so-far is generation 0's member 3; the next is generation 1's member 1
    CHECK(got[0].genome == std::vector<double>{i * 10000.0 + 3, i * 10000.0 + 3.1});
    CHECK(got[1].genome == std::vector<double>{i * 10000.0 + 100 + 1, i * 10000.0 + 101.1});
    CHECK(got[1].fitness == 50.0);
  }
  tell_with(model, [](std::uint32_t, std::size_t m) { return double(m); });
  CHECK(model.migrations().size() == 8);
  tell_with(model, [](std::uint32_t, std::size_t m) { return double(m); });
  CHECK(model.migrations().size() == 16);
  CHECK(model.migrations().back().generation == 4);
}

TEST_CASE("islands: elitism skips the best-so-far when it was sampled this generation") {
  island_model<probe<true>> model(config(2, 1, 3, migration_topology::ring, true), 1,
                                  probe_factory());
  tell_with(model, [](std::uint32_t, std::size_t m) { return double(10 - m); });  // member 0 best
  const auto& got = model.island(1).received;
  REQUIRE(got.size() == 3);
  CHECK(genome_member(got[0].genome) == 0.0);
  CHECK(genome_member(got[1].genome) == 1.0);
  CHECK(genome_member(got[2].genome) == 2.0);
}

TEST_CASE("islands: fully_connected sends migrant k of island i to island i + 1 + k mod (I - 1)") {
  island_model<probe<true>> model(config(4, 1, 4, migration_topology::fully_connected, true), 3,
                                  probe_factory());
  tell_with(model, [](std::uint32_t, std::size_t m) { return double(m); });
  const auto& log = model.migrations();
  REQUIRE(log.size() == 16);
  for (std::uint32_t i = 0; i < 4; ++i)
    for (std::uint32_t k = 0; k < 4; ++k) {
      CHECK(log[4 * i + k].from == i);
      CHECK(log[4 * i + k].to == (i + 1 + k % 3) % 4);
    }
  for (std::uint32_t i = 0; i < 4; ++i) {
    const auto& got = model.island(i).received;
    REQUIRE(got.size() == 4);  // one from each other island, two from island i − 1
    for (const auto& a : got) CHECK(genome_island(a.genome) != double(i));
  }
}

TEST_CASE("islands: random destinations are other islands, uniform, and seed-determined") {
  auto run = [](std::uint64_t seed) {
    island_model<probe<true>> model(config(5, 1, 2, migration_topology::random, true), seed,
                                    probe_factory());
    for (int g = 0; g < 200; ++g)
      tell_with(model, [](std::uint32_t, std::size_t m) { return double(m); });
    return model.migrations();
  };
  const auto a = run(11), b = run(11), c = run(12);
  CHECK(a == b);
  CHECK(a != c);
  REQUIRE(a.size() == 200 * 5 * 2);
  std::vector<std::vector<int>> counts(5, std::vector<int>(5, 0));
  for (const auto& e : a) {
    CHECK(e.from != e.to);
    CHECK(e.to < 5);
    ++counts[e.from][e.to];
  }
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j)
      if (i != j) {  // 400 migrants over 4 destinations: 100 each expected, σ ≈ 8.7
        CHECK(counts[i][j] > 60);
        CHECK(counts[i][j] < 140);
      }
}

TEST_CASE("islands: without elitism migrants are distinct finite members drawn at random") {
  island_model<probe<true>> model(config(2, 1, 3, migration_topology::ring, false), 5,
                                  probe_factory({6, 6}));
  std::set<double> seen_first;
  for (int g = 0; g < 40; ++g) {
    const std::size_t before = model.island(1).received.size();
    tell_with(model, [](std::uint32_t, std::size_t m) {
      return m == 2 ? std::numeric_limits<double>::infinity() : double(m);
    });
    const auto& got = model.island(1).received;
    REQUIRE(got.size() == before + 3);
    std::set<double> members;
    for (std::size_t k = before; k < got.size(); ++k) {
      const double m = genome_member(got[k].genome);
      CHECK(m != 2.0);  // non-finite fitness never migrates
      CHECK(got[k].fitness == m);
      members.insert(m);
    }
    CHECK(members.size() == 3);
    seen_first.insert(genome_member(got[before].genome));
  }
  CHECK(seen_first.size() >= 4);  // not always the same pick
}

TEST_CASE("islands: migration_rate gives max(1, floor(pop * rate)) migrants, 0 never migrates") {
  island_config c = config(2, 1, 0, migration_topology::ring, true);
  c.migration_rate = 0.3;
  island_model<probe<true>> model(c, 1, probe_factory({10, 3}));
  tell_with(model, [](std::uint32_t, std::size_t m) { return double(m); });
  CHECK(model.island(1).received.size() == 3);  // ⌊10·0.3⌋
  CHECK(model.island(0).received.size() == 1);  // max(1, ⌊3·0.3⌋)
  c.migration_rate = 0.0;
  island_model<probe<true>> none(c, 1, probe_factory());
  tell_with(none, [](std::uint32_t, std::size_t m) { return double(m); });
  CHECK(none.migrations().empty());
  // rejected migrants are logged as such
  c.migration_rate = 0.1;
  island_model<probe<true>> refuse(c, 1, probe_factory());
  refuse.island(1).accept = false;
  tell_with(refuse, [](std::uint32_t, std::size_t m) { return double(m); });
  REQUIRE(refuse.migrations().size() == 2);
  CHECK(refuse.migrations()[0].accepted == false);
  CHECK(refuse.migrations()[1].accepted == true);
}

TEST_CASE("islands: openai_es and GA migration hooks") {
  search::openai_es_config ec;
  ec.pop_size = 4;
  search::openai_es es(ec, std::vector<float>{0.f, 0.f}, 1);
  const std::vector<float> g{1.f, 2.f};
  CHECK(population::accept_migrant(es, std::span<const float>(g), -5.f));  // best so far: −inf
  CHECK(std::vector<float>(es.mean().begin(), es.mean().end()) == g);
  (void)es.ask();
  CHECK_THROWS_AS(es.set_mean(g), std::logic_error);
  es.tell(std::vector<float>{1.f, 3.f, 2.f, 0.f});
  const std::vector<float> mean(es.mean().begin(), es.mean().end());
  const std::vector<float> h{9.f, 9.f};
  CHECK_FALSE(population::accept_migrant(es, std::span<const float>(h), 3.f));  // not > 3
  CHECK(std::vector<float>(es.mean().begin(), es.mean().end()) == mean);
  CHECK(population::accept_migrant(es, std::span<const float>(h), 3.5f));
  CHECK(std::vector<float>(es.mean().begin(), es.mean().end()) == h);
  CHECK_THROWS_AS(es.set_mean(std::vector<float>{1.f}), std::invalid_argument);

  search::ga_config gc;
  gc.pop_size = 4;
  search::ga<double> ga(gc, search::box<double>{{-1, -1}, {1, 1}}, 3);
  const std::vector<double> x{0.5, 0.5};
  CHECK_FALSE(population::accept_migrant(ga, std::span<const double>(x), 1.0));  // no pool yet
  (void)ga.ask();
  ga.tell(std::vector<double>{4, 1, 1, 3});
  CHECK_FALSE(population::accept_migrant(ga, std::span<const double>(x), 1.0));  // not > 1
  CHECK(population::accept_migrant(ga, std::span<const double>(x), 2.0));
  // the worst (fitness 1, the last among equals: member 2) was replaced
  CHECK(ga.parent_fitness()[2] == 2.0);
  CHECK(ga.parent_fitness()[1] == 1.0);
  CHECK(ga.parents()[4] == 0.5);
  CHECK(ga.parents()[5] == 0.5);
}

namespace {

// A crucible for dphys::evolve: −rastrigin plus a little noise keyed by the global member id,
// evaluated on `threads` threads.
struct noisy_rastrigin {
  std::size_t d;
  int threads;
  struct result {
    std::vector<float> fitness;
  };
  [[nodiscard]] std::size_t genome_size() const { return d; }
  [[nodiscard]] result evaluate(std::span<const float> pop,
                                const crucibles::rollout_keys& k) const {
    const std::size_t n = pop.size() / d;
    result r{std::vector<float>(n)};
    const auto key = random_key::make(k.seed, stream_id::evaluation, k.generation, 0);
    parallel_for(n, threads, [&](std::size_t m) {
      const auto x = pop.subspan(m * d, d);
      const auto id = k.member_offset + static_cast<std::uint32_t>(m);
      r.fitness[m] = -problems::rastrigin{}(x) + 0.01f * uniform<float>(key, id, 0u, 0u);
    });
    return r;
  }
};

template <class T>
std::vector<unsigned char> bytes_of(std::span<const T> v) {
  std::vector<unsigned char> b(v.size_bytes());
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

island_model<search::openai_es> es_islands(const island_config& c, std::uint64_t seed,
                                           std::size_t d = 6) {
  return island_model<search::openai_es>(c, seed, [d](std::uint32_t i, std::uint64_t s) {
    search::openai_es_config ec;
    ec.pop_size = 8 + 2 * static_cast<int>(i % 2);
    ec.sigma = 0.3f;
    std::vector<float> mean(d);
    fill_uniform(random_key::make(s, stream_id::genome_init, 0, 0), 0, 0, mean);
    for (auto& v : mean) v = 4.f * v - 2.f;
    return search::openai_es(ec, mean, s);
  });
}

struct trace {
  std::vector<std::vector<unsigned char>> best;
  std::vector<migration_entry> log;
  std::vector<population::island_statistics> stats;
  bool operator==(const trace&) const = default;
};

trace run_es(int threads, std::uint64_t seed, migration_topology t, bool elitism) {
  auto model = es_islands(config(4, 3, 2, t, elitism), seed);
  trace tr;
  evolve(model, noisy_rastrigin{6, threads}, evolve_options{24, seed},
         [&](const generation_record&, const island_model<search::openai_es>& m) {
           tr.best.push_back(bytes_of(m.best()));
           for (const auto& s : m.island_stats()) tr.stats.push_back(s);
         });
  tr.log = model.migrations();
  return tr;
}

}  // namespace

TEST_CASE("islands: deterministic, and bitwise identical for 1 and 2 evaluation threads") {
  for (auto t : {migration_topology::random, migration_topology::ring,
                 migration_topology::fully_connected}) {
    CAPTURE(static_cast<int>(t));
    const auto a = run_es(1, 42, t, t != migration_topology::ring);
    const auto b = run_es(2, 42, t, t != migration_topology::ring);
    const auto c = run_es(1, 42, t, t != migration_topology::ring);
    CHECK(a.log.size() == 8 * 4 * 2);
    CHECK(a == b);
    CHECK(a == c);
    bool some_accepted = false;
    for (const auto& e : a.log) some_accepted = some_accepted || e.accepted;
    if (t != migration_topology::ring) CHECK(some_accepted);  // elitist migrants
  }
  CHECK(run_es(1, 1, migration_topology::random, true).log !=
        run_es(1, 2, migration_topology::random, true).log);
}

TEST_CASE("islands: checkpoint at generation 10 then continue equals an uninterrupted run") {
  const auto cfg = config(3, 4, 2, migration_topology::random, true);
  const noisy_rastrigin crucible{6, 1};
  auto full = es_islands(cfg, 9);
  evolve(full, crucible, evolve_options{25, 9});
  auto first = es_islands(cfg, 9);
  evolve(first, crucible, evolve_options{10, 9});
  state_writer w;
  first.save(w);
  auto resumed = es_islands(cfg, 9);
  state_reader r(w.bytes(), "islands.ckpt");
  resumed.load(r);
  r.expect_end();
  CHECK(resumed.generation() == 10);
  evolve(resumed, crucible, evolve_options{25, 9});
  CHECK(bytes_of(resumed.best()) == bytes_of(full.best()));
  CHECK(resumed.migrations() == full.migrations());
  for (std::uint32_t i = 0; i < 3; ++i) {
    CHECK(bytes_of(resumed.island(i).mean()) == bytes_of(full.island(i).mean()));
    CHECK(bytes_of(resumed.island_best(i)) == bytes_of(full.island_best(i)));
  }
  // GA islands too (their own nested scopes)
  auto make_ga = [](std::uint32_t, std::uint64_t s) {
    search::ga_config gc;
    gc.pop_size = 10;
    return search::ga<float>(
        gc, search::box<float>{std::vector<float>(5, -5.f), std::vector<float>(5, 5.f)}, s);
  };
  const auto gcfg = config(2, 3, 1, migration_topology::ring, true);
  island_model<search::ga<float>> gfull(gcfg, 4, make_ga), gfirst(gcfg, 4, make_ga),
      gres(gcfg, 4, make_ga);
  const noisy_rastrigin crucible5{5, 1};
  evolve(gfull, crucible5, evolve_options{20, 4});
  evolve(gfirst, crucible5, evolve_options{10, 4});
  state_writer gw;
  gfirst.save(gw);
  state_reader gr(gw.bytes());
  gres.load(gr);
  evolve(gres, crucible5, evolve_options{20, 4});
  CHECK(bytes_of(gres.best()) == bytes_of(gfull.best()));
  CHECK(gres.migrations() == gfull.migrations());
  CHECK(!gfull.migrations().empty());
  // a checkpoint of another configuration is refused, the model unchanged
  auto other = es_islands(config(2, 4, 2, migration_topology::random, true), 9);
  state_reader r2(w.bytes(), "islands.ckpt");
  CHECK_THROWS_AS(other.load(r2), state_error);
  CHECK(other.generation() == 0);
}

TEST_CASE("islands: bad configurations are refused with the field named") {
  auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  };
  auto c = config(0, 1, 1, migration_topology::ring, true);
  CHECK(message([&] {
          island_model<probe<true>> m(c, 1, probe_factory());
        }).find("num_islands = 0") != std::string::npos);
  c = config(2, 1, 0, migration_topology::ring, true);
  c.migration_rate = 1.5;
  CHECK(message([&] {
          island_model<probe<true>> m(c, 1, probe_factory());
        }).find("migration_rate = 1.5") != std::string::npos);
  c.migration_rate = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS((island_model<probe<true>>(c, 1, probe_factory())), config_error);
  c = config(2, 1, 5, migration_topology::ring, true);
  CHECK(message([&] { island_model<probe<true>> m(c, 1, probe_factory()); }).find("migrants = 5") !=
        std::string::npos);
  // a strategy without accept_migrant: islands without migration are fine, migration is refused
  c = config(2, 1, 1, migration_topology::ring, true);
  CHECK(message([&] {
          island_model<probe<false>> m(c, 1,
                                       [](std::uint32_t, std::uint64_t) { return probe<false>{}; });
        }).find("accept_migrant") != std::string::npos);
  c.migration_interval = 0;
  island_model<probe<false>> independent(
      c, 1, [](std::uint32_t, std::uint64_t) { return probe<false>{}; });
  tell_with(independent, [](std::uint32_t, std::size_t m) { return double(m); });
  CHECK(independent.generation() == 1);
  // islands must share the dimension
  CHECK_THROWS_AS((island_model<probe<true>>(config(2, 0, 0, migration_topology::ring, true), 1,
                                             [](std::uint32_t i, std::uint64_t) {
                                               probe<true> p;
                                               p.d = 2 + i;
                                               return p;
                                             })),
                  std::invalid_argument);
  // CMA-ES islands without migration
  island_model<search::cma_es<double>> cma(
      config(2, 0, 0, migration_topology::ring, true), 1, [](std::uint32_t, std::uint64_t s) {
        return search::cma_es<double>(search::cma_es_config{}, std::vector<double>(3, 1.0), s);
      });
  CHECK(cma.population_size() == 2 * cma.island(0).population_size());
}

TEST_CASE("islands: CMA-ES, SNES, xNES and DE migration hooks") {
  static_assert(population::migrant_receiver<search::cma_es<double>> &&
                population::migrant_receiver<search::sep_cma_es<double>> &&
                population::migrant_receiver<search::bipop_cma_es<double>> &&
                population::migrant_receiver<search::snes<double>> &&
                population::migrant_receiver<search::xnes<double>> &&
                population::migrant_receiver<search::de<double>>);
  const std::vector<double> g{1.0, 2.0, 3.0};
  // Mean-moving strategies: accept iff strictly better than the best-so-far; σ is kept.
  auto check_mean_hook = [&](auto es) {
    const auto asked = es.ask();
    std::vector<double> f(es.population_size());
    for (std::size_t i = 0; i < f.size(); ++i) f[i] = -asked[i * 3] * asked[i * 3];
    es.tell(f);
    const double best = es.best_fitness();
    const std::vector<double> before(es.mean().begin(), es.mean().end());
    CHECK_FALSE(population::accept_migrant(es, std::span<const double>(g), best));  // not > best
    CHECK(std::vector<double>(es.mean().begin(), es.mean().end()) == before);
    CHECK(population::accept_migrant(es, std::span<const double>(g), best + 1.0));
    CHECK(std::vector<double>(es.mean().begin(), es.mean().end()) == g);
    (void)es.ask();
    CHECK_THROWS_AS(es.set_mean(g), std::logic_error);  // between ask and tell
    CHECK_THROWS_AS(population::accept_migrant(es, std::span<const double>(g), best + 2.0),
                    std::logic_error);
  };
  check_mean_hook(search::cma_es<double>(search::cma_es_config{}, std::vector<double>(3, 0.5), 7));
  check_mean_hook(
      search::sep_cma_es<double>(search::cma_es_config{}, std::vector<double>(3, 0.5), 7));
  check_mean_hook(search::snes<double>(search::snes_config{}, std::vector<double>(3, 0.5), 7));
  check_mean_hook(search::xnes<double>(search::xnes_config{}, std::vector<double>(3, 0.5), 7));
  search::cma_es<double> wrong(search::cma_es_config{}, std::vector<double>(3, 0.5), 7);
  CHECK_THROWS_AS(wrong.set_mean(std::vector<double>{1.0}), std::invalid_argument);

  // DE: the worst target (among equals the last) is replaced.
  search::de_config dc;
  dc.pop_size = 4;
  search::de<double> de(dc, search::box<double>{{-1, -1, -1}, {1, 1, 1}}, 3);
  CHECK_FALSE(population::accept_migrant(de, std::span<const double>(g), 1.0));  // no targets
  (void)de.ask();
  de.tell(std::vector<double>{4, std::numeric_limits<double>::quiet_NaN(), 1, 1});
  REQUIRE(de.target_fitness()[1] < 1.0);  // worst_rank stored the NaN below every finite value
  CHECK(population::accept_migrant(de, std::span<const double>(g), 0.0));
  CHECK(de.target_fitness()[1] == 0.0);
  CHECK(de.targets()[3] == 1.0);
  CHECK(de.targets()[5] == 3.0);
  CHECK_FALSE(population::accept_migrant(de, std::span<const double>(g), 0.0));  // not > 0
  CHECK(population::accept_migrant(de, std::span<const double>(g), 2.0));
  CHECK(de.target_fitness()[1] == 2.0);  // 0 was the worst
  CHECK(population::accept_migrant(de, std::span<const double>(g), 2.0));
  CHECK(de.target_fitness()[3] == 2.0);  // then fitness 1: the last among equals (member 3)
  CHECK_FALSE(population::accept_migrant(de, std::span<const double>(g),
                                         std::numeric_limits<double>::infinity()));

  // CMA-ES islands with ring migration on the sphere: migrants are accepted, runs repeat exactly.
  auto run = [] {
    island_model<search::cma_es<double>> m(
        config(3, 2, 1, migration_topology::ring, true), 5, [](std::uint32_t, std::uint64_t s) {
          return search::cma_es<double>(search::cma_es_config{}, std::vector<double>(4, 2.0), s);
        });
    for (int gen = 0; gen < 8; ++gen) {
      const auto x = m.ask();
      std::vector<double> f(m.population_size());
      for (std::size_t i = 0; i < f.size(); ++i) {
        double s2 = 0;
        for (std::size_t j = 0; j < 4; ++j) s2 += x[i * 4 + j] * x[i * 4 + j];
        f[i] = -s2;
      }
      m.tell(f);
    }
    return m;
  };
  const auto a = run(), b = run();
  CHECK(a.migrations().size() == 12);  // 4 events (generations 2, 4, 6, 8) × 3 islands × 1
  CHECK(a.migrations() == b.migrations());
  std::size_t accepted = 0;
  for (const auto& e : a.migrations()) accepted += e.accepted ? 1 : 0;
  CHECK(accepted >= 1);
  CHECK(std::vector<double>(a.best().begin(), a.best().end()) ==
        std::vector<double>(b.best().begin(), b.best().end()));
}
