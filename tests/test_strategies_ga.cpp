// GA, DE and NSGA-II (search/ga.hpp, de.hpp, nsga2.hpp), their operators (search/operators/), the
// Pareto tools (search/pareto.hpp, pareto_io.hpp) and the ZDT problems (problems/zdt.hpp): exact
// non-dominated sorting, crowding and hypervolume on hand-made sets, ZDT fronts, convergence on
// fixed seeds, DE variant semantics, checkpoint identity, determinism and config errors.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <dphys/core/state_io.hpp>
#include <dphys/problems/zdt.hpp>
#include <dphys/run/npy.hpp>
#include <dphys/search/de.hpp>
#include <dphys/search/ga.hpp>
#include <dphys/search/nsga2.hpp>
#include <dphys/search/pareto.hpp>
#include <dphys/search/pareto_io.hpp>

using namespace dphys;
using search::box;

static_assert(search_strategy<search::ga<double>> && search_strategy<search::gaussian_ga<float>>);
static_assert(search_strategy<search::de<double>> && search_strategy<search::de<float>>);
static_assert(multi_objective_strategy<search::nsga2<double>>);
static_assert(!search_strategy<search::nsga2<double>>);  // no scalar best(): it is multi-objective
static_assert(checkpointable<search::ga<double>, state_writer, state_reader>);
static_assert(checkpointable<search::de<double>, state_writer, state_reader>);
static_assert(checkpointable<search::nsga2<double>, state_writer, state_reader>);
static_assert(checkpointable<search::pareto_archive<double>, state_writer, state_reader>);

namespace {

template <class T>
std::span<const T> cspan(const std::vector<T>& v) {
  return std::span<const T>(v);
}

double sphere(std::span<const double> x) {
  double s = 0.0;
  for (double v : x) s += v * v;
  return s;
}

// Runs `generations` ask/tell rounds on the negated sphere; returns every asked value in order.
template <class S>
std::vector<typename S::value_type> drive(S& s, int generations) {
  using T = typename S::value_type;
  std::vector<T> asked, fit(s.population_size());
  for (int g = 0; g < generations; ++g) {
    const auto pop = s.ask();
    asked.insert(asked.end(), pop.begin(), pop.end());
    for (std::size_t i = 0; i < s.population_size(); ++i) {
      T f = 0;
      for (std::size_t j = 0; j < s.dimension(); ++j)
        f += pop[i * s.dimension() + j] * pop[i * s.dimension() + j];
      fit[i] = -f;
    }
    s.tell(fit);
  }
  return asked;
}

// Same for a bi-objective problem (ZDT1 on the strategy's dimension).
template <class S>
std::vector<typename S::value_type> drive_mo(S& s, int generations) {
  using T = typename S::value_type;
  const problems::zdt prob{problems::zdt_function::zdt1, static_cast<int>(s.dimension())};
  std::vector<T> asked, obj(2 * s.population_size());
  for (int g = 0; g < generations; ++g) {
    const auto pop = s.ask();
    asked.insert(asked.end(), pop.begin(), pop.end());
    for (std::size_t i = 0; i < s.population_size(); ++i)
      prob.fitness(pop.subspan(i * s.dimension(), s.dimension()),
                   std::span<T>(obj).subspan(2 * i, 2));
    s.tell(obj);
  }
  return asked;
}

template <class S>
std::string snapshot(const S& s) {
  state_writer w;
  s.save(w);
  return w.bytes();
}

// Checkpoint at generation 10, restore into `fresh`, continue both for 10 generations: identical.
template <class S, class Drive>
void check_checkpoint_identity(S original, S fresh, Drive drive_fn) {
  drive_fn(original, 10);
  REQUIRE(original.generation() == 10);
  state_reader r(snapshot(original), "test checkpoint");
  fresh.load(r);
  r.expect_end();
  CHECK(fresh.generation() == 10);
  CHECK(snapshot(fresh) == snapshot(original));
  const auto a = drive_fn(original, 10);
  const auto b = drive_fn(fresh, 10);
  REQUIRE(a.size() == b.size());
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])) == 0);
  CHECK(snapshot(fresh) == snapshot(original));
}

template <class Fn>
std::string config_error_field(Fn&& fn) {
  try {
    fn();
  } catch (const config_error& e) {
    return e.field;
  }
  return "(no config_error)";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Pareto tools
// ---------------------------------------------------------------------------------------------

TEST_CASE("dominates: maximisation, weak in all and strict in one, non-finite is worst") {
  const std::vector<double> a{2, 2}, b{1, 2}, c{2, 2}, nan{std::nan(""), 5};
  CHECK(search::dominates(cspan(a), cspan(b)));
  CHECK_FALSE(search::dominates(cspan(b), cspan(a)));
  CHECK_FALSE(search::dominates(cspan(a), cspan(c)));  // equal: neither
  CHECK(search::dominates(cspan(std::vector<double>{0, 5}), cspan(nan)));
}

TEST_CASE("non_dominated_sort: fronts and ranks of a hand-made set") {
  // maximise both. Points:        0       1       2       3       4       5       6
  const std::vector<double> f{4, 1, 3, 3, 1, 4, 2, 2, 3, 1, 1, 1, 3, 3};
  // 0,1,2 non-dominated; 6 duplicates 1 (equal, so also front 0); 3 (2,2) dominated by 1;
  // 4 (3,1) dominated by 0 and 1; 5 (1,1) dominated by 3 and 4.
  const auto s = search::non_dominated_sort(cspan(f), 2);
  REQUIRE(s.fronts.size() == 3);
  CHECK(s.fronts[0] == std::vector<std::size_t>{0, 1, 2, 6});
  CHECK(s.fronts[1] == std::vector<std::size_t>{3, 4});
  CHECK(s.fronts[2] == std::vector<std::size_t>{5});
  CHECK(s.rank == std::vector<std::size_t>{0, 0, 0, 1, 1, 2, 0});
  CHECK_THROWS_AS(search::non_dominated_sort(cspan(f), 3), std::invalid_argument);
}

TEST_CASE("non_dominated_sort: non-finite values compare as -inf, coordinate by coordinate") {
  // (1,1), (nan,9), (0,0), (9,-inf): (nan,9) and (9,-inf) are each best in one objective
  const std::vector<double> f{1, 1, std::nan(""), 9, 0, 0, 9, -INFINITY};
  const auto s = search::non_dominated_sort(cspan(f), 2);
  CHECK(s.rank == std::vector<std::size_t>{0, 0, 1, 0});
}

TEST_CASE("crowding_distance: exact values on a hand-made front") {
  // front of 5 points on a line f2 = 10 − f1, f1 = 0, 1, 3, 6, 10 (given in shuffled order)
  const std::vector<double> f{3, 7, 0, 10, 10, 0, 1, 9, 6, 4};
  const std::vector<std::size_t> front{0, 1, 2, 3, 4};
  const auto cd = search::crowding_distance(cspan(f), 2, std::span<const std::size_t>(front));
  // sorted by f1: idx1(0), idx3(1), idx0(3), idx4(6), idx2(10); range 10 in both objectives
  CHECK(std::isinf(cd[1]));
  CHECK(std::isinf(cd[2]));
  CHECK(cd[3] == doctest::Approx(2 * (3.0 - 0.0) / 10.0).epsilon(1e-15));
  CHECK(cd[0] == doctest::Approx(2 * (6.0 - 1.0) / 10.0).epsilon(1e-15));
  CHECK(cd[4] == doctest::Approx(2 * (10.0 - 3.0) / 10.0).epsilon(1e-15));
  // fronts of <= 2 points are all +inf; a constant objective adds nothing
  const std::vector<std::size_t> two{0, 1};
  for (double d : search::crowding_distance(cspan(f), 2, std::span<const std::size_t>(two)))
    CHECK(std::isinf(d));
  const std::vector<double> flat{1, 5, 2, 5, 4, 5};
  const std::vector<std::size_t> three{0, 1, 2};
  const auto cf = search::crowding_distance(cspan(flat), 2, std::span<const std::size_t>(three));
  CHECK(cf[1] == 1.0);  // (4 − 1)/(4 − 1) from f1, 0 from the constant f2
}

TEST_CASE("hypervolume: exact on hand-made sets (1, 2 and 3 objectives)") {
  const std::vector<double> r2{0, 0};
  // 2-D staircase: (1,3), (2,2), (3,1): 3 + 2·… = union area 6
  CHECK(search::hypervolume(cspan(std::vector<double>{1, 3, 2, 2, 3, 1}), 2, cspan(r2)) == 6.0);
  // dominated and duplicate points add nothing; points not above the reference add nothing
  CHECK(search::hypervolume(cspan(std::vector<double>{1, 3, 2, 2, 3, 1, 1, 1, 2, 2, -1, 5, 4, 0}),
                            2, cspan(r2)) == 6.0);
  CHECK(search::hypervolume(cspan(std::vector<double>{}), 2, cspan(r2)) == 0.0);
  // shifted reference
  CHECK(search::hypervolume(cspan(std::vector<double>{1, 3, 2, 2, 3, 1}), 2,
                            cspan(std::vector<double>{0.5, 0.5})) == 3.25);
  // 1-D
  CHECK(search::hypervolume(cspan(std::vector<double>{2, 5, 3}), 1,
                            cspan(std::vector<double>{1})) == 4.0);
  // 3-D by inclusion–exclusion: boxes 1·2·3, 3·2·1, 2·3·2 → 6 + 6 + 12 − 2 − 4 − 4 + 2 = 16
  CHECK(search::hypervolume(cspan(std::vector<double>{1, 2, 3, 3, 2, 1, 2, 3, 2}), 3,
                            cspan(std::vector<double>{0, 0, 0})) == 16.0);
  CHECK_THROWS_AS(
      search::hypervolume(cspan(std::vector<double>{1, 2}), 2, cspan(std::vector<double>{0})),
      std::invalid_argument);
  CHECK_THROWS_AS(
      search::hypervolume(cspan(std::vector<double>{1, 2}), 2, cspan(std::vector<double>{0, NAN})),
      std::invalid_argument);
}

TEST_CASE("hypervolume: equals unit-cell counting on random integer sets (3 and 4 objectives)") {
  for (std::size_t m : {3u, 4u}) {
    for (std::uint32_t trial = 0; trial < 6; ++trial) {
      search::draws rng(random_key::make(7, stream_id::user, trial, static_cast<std::uint32_t>(m)),
                        0);
      const std::size_t n = 3 + rng.below(10);
      std::vector<double> pts(n * m);
      for (auto& v : pts) v = static_cast<double>(1 + rng.below(6));  // 1..6, reference 0
      // count unit cells [c, c+1)^m, c in 0..5, whose upper corner is dominated by some point
      std::size_t cells = 0;
      std::vector<int> c(m, 0);
      const std::size_t total = static_cast<std::size_t>(std::pow(6.0, static_cast<double>(m)));
      for (std::size_t id = 0; id < total; ++id) {
        std::size_t rest = id;
        for (std::size_t k = 0; k < m; ++k) {
          c[k] = static_cast<int>(rest % 6);
          rest /= 6;
        }
        for (std::size_t i = 0; i < n; ++i) {
          bool in = true;
          for (std::size_t k = 0; k < m && in; ++k) in = c[k] + 1 <= pts[i * m + k];
          if (in) {
            ++cells;
            break;
          }
        }
      }
      const std::vector<double> ref(m, 0.0);
      CHECK(search::hypervolume(cspan(pts), m, cspan(ref)) == static_cast<double>(cells));
    }
  }
}

TEST_CASE("pareto_archive: add keeps a non-dominated set, prune drops the most crowded") {
  search::pareto_archive<double> ar(2, 1);
  const auto add = [&](double x, double f1, double f2) {
    return ar.add(cspan(std::vector<double>{x}), cspan(std::vector<double>{f1, f2}));
  };
  CHECK(add(0, 1, 1));
  CHECK(add(1, 0, 3));
  CHECK_FALSE(add(2, 0.5, 0.5));  // dominated by (1,1)
  CHECK_FALSE(add(3, 1, 1));      // equal to a member
  CHECK_FALSE(add(4, NAN, 9));    // non-finite refused
  CHECK(add(5, 2, 2));            // dominates (1,1): it leaves
  CHECK(ar.size() == 2);
  CHECK(ar.decisions()[0] == 1.0);
  CHECK(ar.decisions()[1] == 5.0);
  CHECK(add(6, 3, 0));
  CHECK(add(7, 2.9, 0.5));  // crowded next to (3, 0)
  CHECK(add(8, 1, 2.5));
  REQUIRE(ar.size() == 5);
  ar.prune(4);
  CHECK(ar.size() == 4);
  const auto d = ar.decisions();
  CHECK(std::find(d.begin(), d.end(), 1.0) != d.end());  // extremes stay
  CHECK(std::find(d.begin(), d.end(), 6.0) != d.end());
  CHECK(ar.hypervolume(cspan(std::vector<double>{0, 0})) > 0.0);

  state_writer w;
  ar.save(w);
  search::pareto_archive<double> back(2, 1);
  state_reader r(w.bytes());
  back.load(r);
  CHECK(std::ranges::equal(back.objectives(), ar.objectives()));
  CHECK(std::ranges::equal(back.decisions(), ar.decisions()));
  search::pareto_archive<double> wrong(3, 1);
  state_reader r2(w.bytes());
  CHECK_THROWS_AS(wrong.load(r2), state_error);

  search::pareto_archive<double> bounded(2, 1, 3);
  for (int k = 0; k <= 10; ++k)
    bounded.add(cspan(std::vector<double>{double(k)}),
                cspan(std::vector<double>{double(k), double(10 - k)}));
  CHECK(bounded.size() == 3);
  CHECK(bounded.decisions()[0] == 0.0);
}

TEST_CASE("pareto_io: the archive is written as .npy (front and set) and a JSONL record") {
  const auto dir = std::filesystem::temp_directory_path() / "dphys_test_pareto_io";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  search::pareto_archive<double> ar(2, 3);
  ar.add(cspan(std::vector<double>{1, 2, 3}), cspan(std::vector<double>{1, 0}));
  ar.add(cspan(std::vector<double>{4, 5, 6}), cspan(std::vector<double>{0, 1}));
  search::write_pareto_npy(dir, ar);
  const auto front = run::load_npy<double>(dir / "pareto_front.npy");
  const auto set = run::load_npy<double>(dir / "pareto_set.npy");
  CHECK(front.shape == std::vector<std::size_t>{2, 2});
  CHECK(set.shape == std::vector<std::size_t>{2, 3});
  CHECK(set.data == std::vector<double>{1, 2, 3, 4, 5, 6});
  {
    run::jsonl_appender log(dir / "pareto.jsonl");
    search::append_pareto_record(log, 7, 700, ar, cspan(std::vector<double>{-1, -1}));
  }
  const auto recs = run::read_jsonl(dir / "pareto.jsonl");
  REQUIRE(recs.size() == 1);
  CHECK(recs[0]["generation"] == 7);
  CHECK(recs[0]["size"] == 2);
  CHECK(recs[0]["hypervolume"].get<double>() == 3.0);  // (1,0)&(0,1) over (−1,−1): 2·1 + 1·… = 3
  std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------------------------------------
// ZDT problems
// ---------------------------------------------------------------------------------------------

TEST_CASE("zdt: objective values at known points, domains, paper dimensions") {
  using problems::zdt;
  using problems::zdt_function;
  std::array<double, 2> f{};
  std::vector<double> x(30, 0.0);
  x[0] = 0.25;
  zdt{zdt_function::zdt1, 30}.objectives(cspan(x), std::span<double>(f));
  CHECK(f[0] == 0.25);
  CHECK(f[1] == 0.5);  // g = 1, 1 − √0.25
  zdt{zdt_function::zdt2, 30}.objectives(cspan(x), std::span<double>(f));
  CHECK(f[1] == 1.0 - 0.0625);
  std::fill(x.begin() + 1, x.end(), 1.0);  // g = 10
  zdt{zdt_function::zdt1, 30}.objectives(cspan(x), std::span<double>(f));
  CHECK(f[1] == doctest::Approx(10.0 * (1.0 - std::sqrt(0.025))).epsilon(1e-14));
  zdt{zdt_function::zdt1, 30}.fitness(cspan(x), std::span<double>(f));
  CHECK(f[0] == -0.25);
  CHECK(zdt::paper(zdt_function::zdt4).dimension == 10);
  CHECK(zdt::paper(zdt_function::zdt3).dimension == 30);
  const auto b4 = zdt::paper(zdt_function::zdt4).bounds();
  CHECK(b4.lower[0] == 0.0);
  CHECK(b4.lower[1] == -5.0);
  CHECK(b4.upper[9] == 5.0);
  CHECK_THROWS_AS(zdt{}.objectives(cspan(std::vector<double>(3)), std::span<double>(f)),
                  std::invalid_argument);
  CHECK(config_error_field([] { validate(zdt{zdt_function::zdt1, 1}); }) == "dimension");
}

TEST_CASE("zdt: the true fronts' hypervolumes are exact (dense samples approach them from below)") {
  using problems::zdt_function;
  CHECK(problems::zdt1_hypervolume == doctest::Approx(0.1 + 2.0 / 3.0 + 0.11).epsilon(1e-16));
  CHECK(problems::zdt2_hypervolume == doctest::Approx(0.1 + 1.0 / 3.0 + 0.11).epsilon(1e-16));
  const double a = problems::zdt6_f1_min;
  CHECK(problems::zdt6_hypervolume ==
        doctest::Approx(0.1 * (1 - a) + (1 - a * a * a) / 3 + 0.11).epsilon(1e-15));
  const std::vector<double> ref{-1.1, -1.1};
  for (auto fn : {zdt_function::zdt1, zdt_function::zdt2, zdt_function::zdt3, zdt_function::zdt4,
                  zdt_function::zdt6}) {
    const auto prob = problems::zdt::paper(fn);
    CAPTURE(prob.name());
    auto front = prob.true_front(20001);
    for (auto& v : front) v = -v;
    const double hv = search::hypervolume(cspan(front), 2, cspan(ref));
    // a staircase through N front points misses O(1/N) of the area: here < 5e-5
    CHECK(hv <= prob.true_hypervolume());
    CHECK(hv > prob.true_hypervolume() - 5e-5);
  }
}

// ---------------------------------------------------------------------------------------------
// Operators
// ---------------------------------------------------------------------------------------------

TEST_CASE("draws: the buffered (SIMD) bits equal random_bits at consecutive indices, across 2^32") {
  const auto key = random_key::make(42, stream_id::user, 3, 4);
  search::draws d(key, 7, 9, 0xfffffff0u);
  for (std::uint32_t k = 0; k < 100; ++k) {
    const std::uint32_t index = 0xfffffff0u + k;  // wraps modulo 2^32
    if (k % 7 == 3) {
      CHECK(d.normal() == static_cast<double>(normal<float>(key, 7u, 9u, index)));
    } else {
      CHECK(d.bits() == random_bits<float>(key, 7u, 9u, index));
    }
  }
  search::draws e(key, 1);
  for (int k = 0; k < 1000; ++k) {
    const std::size_t v = e.below(6);
    CHECK(v < 6);
    const double u = e.uniform();
    CHECK(u > 0.0);
    CHECK(u < 1.0);
  }
}

TEST_CASE(
    "operators: SBX and polynomial mutation keep children in the box, uniform crossover "
    "swaps, Gaussian crossover is antithetic") {
  const std::vector<double> lo(5, -1.0), hi(5, 2.0);
  const std::vector<double> p1{-1, 0, 0.5, 1.9, 2}, p2{2, 0.1, 0.5, -0.9, -1};
  std::vector<double> c1(5), c2(5);
  bool moved = false;
  for (std::uint32_t k = 0; k < 200; ++k) {
    search::draws d(random_key::make(1, stream_id::user, 0, 0), k);
    const search::sbx cross{.eta = 2.0, .variable_probability = 1.0};
    cross(cspan(p1), cspan(p2), std::span<double>(c1), std::span<double>(c2), cspan(lo), cspan(hi),
          d);
    for (std::size_t j = 0; j < 5; ++j) {
      CHECK(c1[j] >= lo[j]);
      CHECK(c1[j] <= hi[j]);
      CHECK(c2[j] >= lo[j]);
      CHECK(c2[j] <= hi[j]);
    }
    CHECK(c1[2] == 0.5);  // equal parents: copied
    moved = moved || c1[0] != p1[0];
    // unbounded SBX: the children are symmetric around the parents' midpoint
    cross(cspan(p1), cspan(p2), std::span<double>(c1), std::span<double>(c2), {}, {}, d);
    for (std::size_t j = 0; j < 5; ++j)
      CHECK(c1[j] + c2[j] == doctest::Approx(p1[j] + p2[j]).epsilon(1e-12));
    std::vector<double> x = p1;
    search::polynomial_mutation{.eta = 1.0, .mutations_per_child = 5.0}(std::span<double>(x),
                                                                        cspan(lo), cspan(hi), d);
    for (std::size_t j = 0; j < 5; ++j) {
      CHECK(x[j] >= lo[j]);
      CHECK(x[j] <= hi[j]);
    }
    search::uniform_crossover{}(cspan(p1), cspan(p2), std::span<double>(c1), std::span<double>(c2),
                                cspan(lo), cspan(hi), d);
    for (std::size_t j = 0; j < 5; ++j)
      CHECK(((c1[j] == p1[j] && c2[j] == p2[j]) || (c1[j] == p2[j] && c2[j] == p1[j])));
    search::gaussian_crossover{}(cspan(p1), cspan(p2), std::span<double>(c1), std::span<double>(c2),
                                 cspan(lo), cspan(hi), d);
    for (std::size_t j = 0; j < 5; ++j)
      CHECK(c1[j] + c2[j] == doctest::Approx(p1[j] + p2[j]).epsilon(1e-12));
  }
  CHECK(moved);
}

TEST_CASE("operators: selection policies") {
  const std::vector<double> f{1, 5, 3, -INFINITY, 4, 2};
  std::vector<std::size_t> parents(64);
  search::draws d(random_key::make(3, stream_id::user, 0, 0), 0);
  search::tournament_selection{.size = 1000}(cspan(f), std::span<std::size_t>(parents), d);
  for (auto p : parents) CHECK(p == 1);  // a huge tournament always finds the best
  search::truncation_selection{.fraction = 0.34}(cspan(f), std::span<std::size_t>(parents), d);
  for (auto p : parents) CHECK((p == 1 || p == 4));  // round(0.34·6) = 2 best
  search::tournament_selection{.size = 1}(cspan(f), std::span<std::size_t>(parents), d);
  std::sort(parents.begin(), parents.end());
  CHECK(std::unique(parents.begin(), parents.end()) - parents.begin() == 6);  // uniform: all seen
}

// ---------------------------------------------------------------------------------------------
// NSGA-II
// ---------------------------------------------------------------------------------------------

TEST_CASE("nsga2: ZDT1 and ZDT2 (30 variables), pop 100, 250 generations = 25 000 evaluations") {
  // The all-evaluations archive reaches 99% of the true front's hypervolume (reference (1.1,1.1)).
  // The final population (100 points) is bounded by how well 100 points can cover the front: 100
  // evenly spaced exact ZDT2 front points reach only 99.07%, so the population is held to 98.5% on
  // ZDT2 (99% on ZDT1, where evenly spaced points reach 99.4%).
  const std::vector<double> ref{-1.1, -1.1};
  for (auto fn : {problems::zdt_function::zdt1, problems::zdt_function::zdt2}) {
    for (std::uint64_t seed : {1u, 2u}) {
      const auto prob = problems::zdt::paper(fn);
      CAPTURE(prob.name());
      CAPTURE(seed);
      search::nsga2<double> s({}, 2, prob.bounds(), seed);
      search::pareto_archive<double> archive(2, 30);
      std::vector<double> obj(200);
      for (int g = 0; g < 250; ++g) {
        const auto pop = s.ask();
        for (std::size_t i = 0; i < 100; ++i)
          prob.fitness(pop.subspan(i * 30, 30), std::span<double>(obj).subspan(2 * i, 2));
        archive.add_all(pop, cspan(obj));
        s.tell(obj);
      }
      CHECK(s.evaluations() == 25000);
      const auto front = s.pareto_front();
      const double hv_pop = search::hypervolume(cspan(front), 2, cspan(ref));
      const double hv_archive = archive.hypervolume(cspan(ref));
      const double truth = prob.true_hypervolume();
      CHECK(hv_archive <= truth);
      CHECK(hv_archive >= 0.99 * truth);
      CHECK(hv_pop >= (fn == problems::zdt_function::zdt1 ? 0.99 : 0.985) * truth);
    }
  }
}

TEST_CASE("nsga2: survivors are the best fronts, the last one cut by crowding distance") {
  search::nsga2<double> s({.pop_size = 8}, 2, box<double>::uniform(3, 0.0, 1.0), 5);
  drive_mo(s, 3);
  const auto ranks = s.ranks();
  CHECK(std::is_sorted(ranks.begin(), ranks.end()));
  // the stored ranks and crowding are those of the merged population: rank 0 members are mutually
  // non-dominated
  const auto f = s.parent_objectives();
  for (std::size_t i = 0; i < 8; ++i)
    for (std::size_t j = 0; j < 8; ++j)
      if (ranks[i] == 0 && ranks[j] == 0)
        CHECK_FALSE(search::dominates(f.subspan(2 * i, 2), f.subspan(2 * j, 2)));
  CHECK(s.pareto_front().size() / 2 ==
        static_cast<std::size_t>(std::count(ranks.begin(), ranks.end(), std::size_t{0})));
}

TEST_CASE("nsga2: non-finite objectives are counted and rank last") {
  search::nsga2<double> s({.pop_size = 4}, 2, box<double>::uniform(2, 0.0, 1.0), 1);
  s.ask();
  s.tell(cspan(std::vector<double>{NAN, 10, -1, -1, -2, -2, -INFINITY, -INFINITY}));
  CHECK(s.non_finite().total == 3);
  CHECK(s.non_finite().last_generation == 3);
  const auto r = s.ranks();
  CHECK(r[0] == 0);  // the parents are sorted by front: the finite (−1,−1) first
  CHECK(s.parent_objectives()[0] == -1.0);
  CHECK(std::isinf(s.parent_objectives()[4]));
  CHECK_THROWS_AS(s.tell(cspan(std::vector<double>(8))), std::logic_error);  // no ask
  s.ask();
  CHECK_THROWS_AS(s.tell(cspan(std::vector<double>(7))), std::invalid_argument);
}

TEST_CASE("nsga2: quarantine and resample_non_finite") {
  const auto b = box<double>::uniform(3, 0.0, 1.0);
  {
    search::basic_nsga2<double, search::sbx, search::polynomial_mutation, search::clip,
                        search::resample_non_finite>
        s({.pop_size = 4}, 2, b, 1);
    const auto p0 = s.ask();
    const std::vector<double> x(p0.begin(), p0.end());
    s.tell(cspan(std::vector<double>{-1, -1, NAN, -2, -2, -2, -3, -1}));
    CHECK(s.generation() == 0);
    CHECK(s.pending_slots() == std::vector<std::uint32_t>{1});
    auto copy = s;
    state_reader r(snapshot(s));
    copy.load(r);
    const auto p1 = s.ask();
    CHECK(std::ranges::equal(copy.ask(), p1));
    for (std::size_t i : {0u, 2u, 3u})
      CHECK(std::ranges::equal(p1.subspan(3 * i, 3), cspan(x).subspan(3 * i, 3)));
    CHECK_FALSE(std::ranges::equal(p1.subspan(3, 3), cspan(x).subspan(3, 3)));
    s.tell(
        cspan(std::vector<double>{NAN, NAN, -0.5, -0.5, NAN, NAN, NAN, NAN}));  // only slot 1 read
    CHECK(s.generation() == 1);
    CHECK(s.evaluations() == 5);
    CHECK(s.non_finite().total == 1);
    CHECK(s.parent_objectives()[0] == -0.5);  // the re-sampled member is now the best
  }
  {
    search::basic_nsga2<double, search::sbx, search::polynomial_mutation, search::clip,
                        search::quarantine>
        s({.pop_size = 4}, 2, b, 2);
    s.ask();
    s.tell(cspan(std::vector<double>{-1, -4, -2, -3, -3, -2, -4, -1}));
    const auto kids = s.ask();
    const std::vector<double> bad(kids.begin(), kids.begin() + 3);
    s.tell(cspan(std::vector<double>{NAN, 0, -9, -9, -9, -9, -9, -9}));
    REQUIRE(s.quarantined().size() == 1);
    CHECK(s.quarantined()[0].generation == 1);
    CHECK(s.quarantined()[0].member == 0);
    CHECK(std::ranges::equal(s.quarantined()[0].genome, cspan(bad)));
    for (std::size_t i = 0; i < 4; ++i) CHECK(std::isfinite(s.parent_objectives()[2 * i]));
  }
}

// ---------------------------------------------------------------------------------------------
// GA and DE
// ---------------------------------------------------------------------------------------------

TEST_CASE("ga: solves sphere-10 to f < 1e-3 within 50 000 evaluations on 5 seeds") {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    search::ga<double> s({}, box<double>::uniform(10, -5.12, 5.12), seed);
    std::vector<double> fit(100);
    double best = 1e300;
    while (s.evaluations() < 50000) {
      const auto pop = s.ask();
      for (std::size_t i = 0; i < 100; ++i) {
        fit[i] = -sphere(pop.subspan(i * 10, 10));
        best = std::min(best, -fit[i]);
      }
      s.tell(fit);
    }
    CAPTURE(seed);
    CHECK(best < 1e-3);
    CHECK(-s.best_fitness() == best);
    CHECK(sphere(s.best()) == best);
  }
}

TEST_CASE(
    "de: rand/1/bin and best/1/bin solve sphere-10 to f < 1e-8 within 40 000 evaluations on "
    "5 seeds") {
  for (auto variant : {search::de_variant::rand_1_bin, search::de_variant::best_1_bin}) {
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      search::de<double> s({.variant = variant}, box<double>::uniform(10, -5.12, 5.12), seed);
      std::vector<double> fit(40);
      while (s.evaluations() < 40000 && -s.best_fitness() >= 1e-8) {
        const auto pop = s.ask();
        for (std::size_t i = 0; i < 40; ++i) fit[i] = -sphere(pop.subspan(i * 10, 10));
        s.tell(fit);
      }
      CAPTURE(seed);
      CHECK(-s.best_fitness() < 1e-8);
    }
  }
}

TEST_CASE("de: trial vectors follow rand/1 and best/1 with binomial and exponential crossover") {
  const std::size_t n = 6, d = 4;
  const auto b = box<double>::uniform(d, -100.0, 100.0);
  for (auto variant : {search::de_variant::rand_1_bin, search::de_variant::best_1_bin,
                       search::de_variant::rand_1_exp, search::de_variant::best_1_exp}) {
    const bool from_rand =
        variant == search::de_variant::rand_1_bin || variant == search::de_variant::rand_1_exp;
    for (double cr : {1.0, 0.0}) {
      search::basic_de<double, search::no_bounds> s({.pop_size = static_cast<int>(n),
                                                     .differential_weight = 0.5,
                                                     .crossover_rate = cr,
                                                     .variant = variant},
                                                    b, 11);
      const auto init = s.ask();
      const std::vector<double> x(init.begin(), init.end());
      std::vector<double> fit(n);
      for (std::size_t i = 0; i < n; ++i) fit[i] = -sphere(cspan(x).subspan(i * d, d));
      s.tell(fit);
      const std::size_t best =
          static_cast<std::size_t>(std::max_element(fit.begin(), fit.end()) - fit.begin());
      const auto trials = s.ask();
      for (std::size_t i = 0; i < n; ++i) {
        const auto u = trials.subspan(i * d, d);
        const auto row = [&](std::size_t k) { return cspan(x).subspan(k * d, d); };
        if (cr == 0.0) {
          // exactly one coordinate (j_rand, or the start of the exponential run) is the mutant's
          std::size_t changed = 0;
          for (std::size_t j = 0; j < d; ++j) changed += u[j] != row(i)[j] ? 1 : 0;
          CHECK(changed == 1);
          continue;
        }
        // CR = 1: u is the mutant; find indices that reproduce it bit for bit
        bool found = false;
        for (std::size_t r1 = 0; r1 < n && !found; ++r1)
          for (std::size_t r2 = 0; r2 < n && !found; ++r2)
            for (std::size_t r3 = 0; r3 < n && !found; ++r3) {
              const bool distinct = r1 != i && r2 != i && r1 != r2 &&
                                    (!from_rand || (r3 != i && r3 != r1 && r3 != r2));
              if (!distinct) continue;
              bool same = true;
              for (std::size_t j = 0; j < d && same; ++j) {
                const double v = from_rand ? row(r1)[j] + 0.5 * (row(r2)[j] - row(r3)[j])
                                           : row(best)[j] + 0.5 * (row(r1)[j] - row(r2)[j]);
                same = u[j] == v;
              }
              found = same;
            }
        CAPTURE(i);
        CHECK(found);
      }
      // selection: a trial replaces its target iff its fitness is at least the target's
      std::vector<double> tf(n);
      for (std::size_t i = 0; i < n; ++i)
        tf[i] = i % 2 == 0 ? fit[i] + 1 : (i == 1 ? NAN : fit[i] - 1);
      const std::vector<double> tv(trials.begin(), trials.end());
      s.tell(tf);
      for (std::size_t i = 0; i < n; ++i) {
        const auto kept = s.targets().subspan(i * d, d);
        const auto expected = i % 2 == 0 ? cspan(tv).subspan(i * d, d) : cspan(x).subspan(i * d, d);
        CHECK(std::ranges::equal(kept, expected));
      }
      CHECK(s.non_finite().total == 1);
    }
  }
}

TEST_CASE("ga: elites survive unchanged, tell/ask misuse is refused") {
  search::ga<double> s({.pop_size = 10, .elites = 2}, box<double>::uniform(3, -1.0, 1.0), 3);
  const auto p0 = s.ask();
  const std::vector<double> x(p0.begin(), p0.end());
  std::vector<double> fit(10);
  for (std::size_t i = 0; i < 10; ++i)
    fit[i] = static_cast<double>(i % 4);  // best: 3, 7 (ties by index)
  fit[5] = NAN;
  s.tell(fit);
  CHECK(s.non_finite().last_generation == 1);
  const auto p1 = s.ask();
  CHECK(std::ranges::equal(p1.subspan(0, 3), cspan(x).subspan(3 * 3, 3)));
  CHECK(std::ranges::equal(p1.subspan(3, 3), cspan(x).subspan(7 * 3, 3)));
  CHECK_THROWS_AS(s.tell(cspan(std::vector<double>(9))), std::invalid_argument);
  s.tell(fit);
  CHECK_THROWS_AS(s.tell(fit), std::logic_error);
}

TEST_CASE("ga: other operator and bounds policies compose") {
  using search::basic_ga;
  basic_ga<double, search::truncation_selection, search::blx_alpha, search::gaussian_mutation,
           search::reflect>
      a({}, box<double>::uniform(4, -1.0, 1.0), 1, {.fraction = 0.3}, {.alpha = 0.3},
        {.sigma = 0.3, .mutations_per_child = 4});
  drive(a, 5);
  for (double v : a.ask()) {
    CHECK(v >= -1.0);
    CHECK(v <= 1.0);
  }
  basic_ga<float, search::tournament_selection, search::gaussian_crossover,
           search::gaussian_mutation, search::penalty>
      b({}, box<float>::uniform(4, -1.0f, 1.0f), 1, {.size = 3}, {}, {.sigma = 2.0f});
  drive(b, 5);
  basic_ga<double, search::tournament_selection, search::sbx, search::polynomial_mutation,
           search::resample>
      c({}, box<double>::uniform(4, -1.0, 1.0), 1);
  drive(c, 5);
  search::gaussian_ga<double> g({}, box<double>::uniform(4, -1.0, 1.0), 1);
  drive(g, 5);
  CHECK(g.generation() == 5);
}

TEST_CASE("ga and de: non-finite policies (quarantine, resample_non_finite)") {
  const auto b = box<double>::uniform(3, -1.0, 1.0);
  std::vector<double> fit{1, 2, NAN, 4, 5, 6};
  {  // quarantine: the member is recorded and left out of the parent pool
    search::basic_ga<double, search::tournament_selection, search::sbx, search::polynomial_mutation,
                     search::clip, search::quarantine>
        s({.pop_size = 6, .elites = 0}, b, 1);
    const auto p0 = s.ask();
    const std::vector<double> x(p0.begin(), p0.end());
    s.tell(fit);
    CHECK(s.generation() == 1);
    REQUIRE(s.quarantined().size() == 1);
    CHECK(s.quarantined()[0].member == 2);
    CHECK(std::ranges::equal(s.quarantined()[0].genome, cspan(x).subspan(6, 3)));
    CHECK(s.parent_fitness().size() == 5);
    CHECK(s.non_finite().total == 1);
  }
  const auto check_resample = [&](auto s) {
    const auto p0 = s.ask();
    const std::vector<double> x(p0.begin(), p0.end());
    std::vector<double> f{1, NAN, 3, INFINITY, 5, 6};
    s.tell(f);
    CHECK(s.generation() == 0);  // not advanced: slots 1 and 3 are re-sampled
    CHECK(s.pending_slots() == std::vector<std::uint32_t>{1, 3});
    // a checkpoint in the middle of a retry resumes too
    auto copy = s;
    state_reader r(snapshot(s));
    copy.load(r);
    const auto p1 = s.ask();
    CHECK(std::ranges::equal(copy.ask(), p1));
    for (std::size_t i : {0u, 2u, 4u, 5u})
      CHECK(std::ranges::equal(p1.subspan(3 * i, 3), cspan(x).subspan(3 * i, 3)));
    CHECK_FALSE(std::ranges::equal(p1.subspan(3, 3), cspan(x).subspan(3, 3)));
    std::vector<double> g{NAN, 2, NAN, 4, NAN, NAN};  // only slots 1 and 3 are read
    s.tell(g);
    CHECK(s.generation() == 1);
    CHECK(s.pending_slots().empty());
    CHECK(s.non_finite().total == 2);
    CHECK(s.non_finite().last_generation == 2);
    CHECK(s.evaluations() == 8);
  };
  check_resample(
      search::basic_ga<double, search::tournament_selection, search::sbx,
                       search::polynomial_mutation, search::clip, search::resample_non_finite>(
          {.pop_size = 6}, b, 2));
  check_resample(
      search::basic_de<double, search::clip, search::resample_non_finite>({.pop_size = 6}, b, 2));
  {  // DE quarantine: a non-finite trial is recorded and never replaces its target
    search::basic_de<double, search::clip, search::quarantine> s({.pop_size = 6}, b, 3);
    s.ask();
    s.tell(cspan(std::vector<double>{1, 2, 3, 4, 5, 6}));
    const std::vector<double> targets(s.targets().begin(), s.targets().end());
    s.ask();
    s.tell(cspan(std::vector<double>{NAN, 0, 0, 0, 0, 0}));  // all worse or excluded
    CHECK(std::ranges::equal(s.targets(), cspan(targets)));
    CHECK(s.quarantined().size() == 1);
    CHECK(s.quarantined()[0].generation == 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Every strategy: checkpoint identity, determinism, config errors
// ---------------------------------------------------------------------------------------------

TEST_CASE("checkpoint at generation 10, restore into a fresh object, continue: bitwise identical") {
  const auto b = box<double>::uniform(6, -2.0, 2.0);
  check_checkpoint_identity(search::ga<double>({.pop_size = 12}, b, 9),
                            search::ga<double>({.pop_size = 12}, b, 9),
                            [](auto& s, int g) { return drive(s, g); });
  check_checkpoint_identity(search::gaussian_ga<float>({.pop_size = 11, .elites = 3},
                                                       box<float>::uniform(6, -2.0f, 2.0f), 9),
                            search::gaussian_ga<float>({.pop_size = 11, .elites = 3},
                                                       box<float>::uniform(6, -2.0f, 2.0f), 9),
                            [](auto& s, int g) { return drive(s, g); });
  for (auto v : {search::de_variant::rand_1_bin, search::de_variant::best_1_bin,
                 search::de_variant::rand_1_exp})
    check_checkpoint_identity(search::de<double>({.pop_size = 10, .variant = v}, b, 9),
                              search::de<double>({.pop_size = 10, .variant = v}, b, 9),
                              [](auto& s, int g) { return drive(s, g); });
  check_checkpoint_identity(search::basic_de<double, search::resample>(
                                {.pop_size = 10, .differential_weight = 1.5}, b, 9),
                            search::basic_de<double, search::resample>(
                                {.pop_size = 10, .differential_weight = 1.5}, b, 9),
                            [](auto& s, int g) { return drive(s, g); });
  check_checkpoint_identity(search::nsga2<double>({.pop_size = 12}, 2, b, 9),
                            search::nsga2<double>({.pop_size = 12}, 2, b, 9),
                            [](auto& s, int g) { return drive_mo(s, g); });
  check_checkpoint_identity(
      search::basic_nsga2<double, search::sbx, search::gaussian_mutation, search::reflect>(
          {.pop_size = 12}, 2, box<double>::uniform(6, 0.0, 1.0), 9, {}, {.sigma = 0.5}),
      search::basic_nsga2<double, search::sbx, search::gaussian_mutation, search::reflect>(
          {.pop_size = 12}, 2, box<double>::uniform(6, 0.0, 1.0), 9, {}, {.sigma = 0.5}),
      [](auto& s, int g) { return drive_mo(s, g); });
  check_checkpoint_identity(
      search::nsga2<float>({.pop_size = 12}, 2, box<float>::uniform(6, 0.0f, 1.0f), 9),
      search::nsga2<float>({.pop_size = 12}, 2, box<float>::uniform(6, 0.0f, 1.0f), 9),
      [](auto& s, int g) { return drive_mo(s, g); });
  // a checkpoint between ask and tell resumes too
  search::ga<double> mid({.pop_size = 8}, b, 4), fresh({.pop_size = 8}, b, 4);
  drive(mid, 3);
  const auto asked = mid.ask();
  const std::vector<double> before(asked.begin(), asked.end());
  state_reader r(snapshot(mid));
  fresh.load(r);
  CHECK(std::ranges::equal(fresh.ask(), cspan(before)));
  // a checkpoint of another configuration is refused
  search::ga<double> other({.pop_size = 8}, b, 5);
  state_reader r2(snapshot(mid));
  CHECK_THROWS_AS(other.load(r2), state_error);
}

TEST_CASE("same seed, same asks, another seed, other asks") {
  const auto b = box<double>::uniform(5, -1.0, 1.0);
  auto same = [&](auto make, auto drive_fn) {
    auto s1 = make(1), s2 = make(1), s3 = make(2);
    const auto a1 = drive_fn(s1, 6), a2 = drive_fn(s2, 6), a3 = drive_fn(s3, 6);
    CHECK(a1 == a2);
    CHECK(a1 != a3);
  };
  same([&](std::uint64_t seed) { return search::ga<double>({.pop_size = 10}, b, seed); },
       [](auto& s, int g) { return drive(s, g); });
  same([&](std::uint64_t seed) { return search::de<double>({.pop_size = 10}, b, seed); },
       [](auto& s, int g) { return drive(s, g); });
  same([&](std::uint64_t seed) { return search::nsga2<double>({.pop_size = 10}, 2, b, seed); },
       [](auto& s, int g) { return drive_mo(s, g); });
}

TEST_CASE("config errors name the field, the value and the rule") {
  const auto b = box<double>::uniform(3, 0.0, 1.0);
  CHECK(config_error_field([&] { search::ga<double>({.pop_size = 4, .elites = 4}, b, 1); }) ==
        "elites");
  CHECK(config_error_field([&] { search::ga<double>({.pop_size = 1}, b, 1); }) == "pop_size");
  CHECK(config_error_field([&] { search::ga<double>({.crossover_probability = 1.5}, b, 1); }) ==
        "crossover_probability");
  CHECK(config_error_field([&] { search::ga<double>({}, b, 1, {.size = 0}); }) == "size");
  CHECK(config_error_field([&] { search::ga<double>({}, b, 1, {}, {.eta = -1.0}); }) == "eta");
  CHECK(config_error_field([&] {
          search::ga<double>({}, b, 1, {}, {}, {.eta = 20, .mutations_per_child = -1});
        }) == "mutations_per_child");
  CHECK(config_error_field([&] { search::de<double>({.pop_size = 3}, b, 1); }) == "pop_size");
  CHECK(config_error_field([&] { search::de<double>({.differential_weight = 0.0}, b, 1); }) ==
        "differential_weight");
  CHECK(config_error_field([&] { search::de<double>({.crossover_rate = -0.1}, b, 1); }) ==
        "crossover_rate");
  CHECK(config_error_field([&] { search::nsga2<double>({.pop_size = 101}, 2, b, 1); }) ==
        "pop_size");
  CHECK(config_error_field([&] { search::nsga2<double>({}, 2, box<double>{}, 1); }) == "box");
  CHECK(config_error_field([&] {
          search::nsga2<double>({}, 2, box<double>({0.0, 1.0}, {1.0, 1.0}), 1);
        }) == "box.lower[1]");
  try {
    search::de<double>({.crossover_rate = 2.0}, b, 1);
    FAIL("no config_error");
  } catch (const config_error& e) {
    CHECK(std::string(e.what()) == "config error: crossover_rate = 2: in [0, 1]");
  }
  CHECK_THROWS_AS(search::nsga2<double>({}, 0, b, 1), std::invalid_argument);
}
