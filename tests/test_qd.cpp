// Tests of dphys::qd (archives, MAP-Elites, CMA-ME, novelty search) and problems::planar_arm.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <dphys/core/json.hpp>

#include <dphys/core/error.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/problems/planar_arm.hpp>
#include <dphys/qd/archive.hpp>
#include <dphys/qd/cma_me.hpp>
#include <dphys/qd/cvt_archive.hpp>
#include <dphys/qd/grid_archive.hpp>
#include <dphys/qd/map_elites.hpp>
#include <dphys/qd/novelty_search.hpp>
#include <dphys/run/atomic_file.hpp>
#include <dphys/search/ga.hpp>

namespace {

using dphys::qd::add_status;
using vec = std::vector<double>;
constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();

template <class S>
std::string state_bytes(const S& s) {
  dphys::state_writer w;
  s.save(w);
  return w.bytes();
}

template <class S>
void load_bytes(S& s, const std::string& bytes) {
  dphys::state_reader r(bytes, "test");
  s.load(r);
  r.expect_end();
}

// Runs `s` on the arm for `generations` generations.
template <class S>
void drive(S& s, const dphys::problems::planar_arm& arm, std::uint32_t generations) {
  vec f(s.population_size()), d(2 * s.population_size());
  for (std::uint32_t g = 0; g < generations; ++g) {
    const auto x = s.ask();
    arm.evaluate(x, f, d);
    s.tell(f, d);
  }
}

// Runs `s` on the arm while a whole further batch fits in `budget` evaluations.
template <class S>
void drive_budget(S& s, const dphys::problems::planar_arm& arm, std::uint64_t budget) {
  vec f(s.population_size()), d(2 * s.population_size());
  while (s.evaluations() + s.population_size() <= budget) {
    const auto x = s.ask();
    arm.evaluate(x, f, d);
    s.tell(f, d);
  }
}

dphys::qd::grid_archive arm_grid(const dphys::problems::planar_arm& arm, int cells = 50) {
  dphys::qd::grid_archive_config gc;
  gc.dims = {cells, cells};
  gc.qd_score_offset = arm.min_objective();
  return dphys::qd::grid_archive(gc, arm.dimension());
}

}  // namespace

TEST_CASE("planar_arm: objective and normalised end effector on hand-made poses") {
  dphys::problems::planar_arm arm({.joints = 4, .link_length = 1.0, .joint_limit = 3.0});
  vec d(2);
  // Straight arm along +x: variance 0, effector (4, 0) -> (1, 0.5).
  CHECK(arm.evaluate(vec{0, 0, 0, 0}, d) == 0.0);
  CHECK(d[0] == 1.0);
  CHECK(d[1] == 0.5);
  // θ = (π/2, 0, 0, 0): straight up, (0, 4) -> (0.5, 1); variance of (a,0,0,0) = 3a²/16.
  const double a = std::numbers::pi / 2;
  const double f = arm.evaluate(vec{a, 0, 0, 0}, d);
  CHECK(f == doctest::Approx(-3 * a * a / 16).epsilon(1e-15));
  CHECK(d[0] == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(d[1] == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(arm.min_objective() == -9.0);
  CHECK(arm.evaluate(vec{-3, 3, -3, 3}, d) == -9.0);  // the extreme variance a² is attained
  CHECK_THROWS_AS(arm.evaluate(vec{0, 0}, d), std::invalid_argument);
  CHECK_THROWS_AS(dphys::problems::planar_arm({.joints = 0}), dphys::config_error);
}

TEST_CASE("grid_archive: cell index, add and replace rules, counters") {
  dphys::qd::grid_archive a({.dims = {4, 2}, .lower = {0, 0}, .upper = {1, 1}}, 1);
  CHECK(a.cells() == 8);
  CHECK(a.index_of(vec{0.3, 0.6}) == 3);   // (⌊1.2⌋, ⌊1.2⌋) = (1, 1) -> 1·2 + 1
  CHECK(a.index_of(vec{0.25, 0.0}) == 2);  // 0.25·4 = 1 exactly -> column 1
  CHECK(a.index_of(vec{1.0, 1.0}) == 7);   // the upper bound belongs to the last cell
  CHECK(a.index_of(vec{-5.0, 9.0}) == 1);  // outside: clamped to the border cells
  CHECK(a.grid_index(7) == std::vector<std::size_t>{3, 1});

  auto r = a.add(vec{10}, 0.5, vec{0.3, 0.6});
  CHECK(r.status == add_status::new_cell);
  CHECK(r.value == 0.5);
  CHECK(r.cell == 3);
  r = a.add(vec{11}, 0.5, vec{0.26, 0.51});  // same cell, equal objective: the elite stays
  CHECK(r.status == add_status::not_added);
  CHECK(r.value == 0.0);
  r = a.add(vec{12}, 0.25, vec{0.3, 0.6});  // worse
  CHECK(r.status == add_status::not_added);
  CHECK(r.value == -0.25);
  CHECK(a.store().elite(3).solution[0] == 10.0);
  r = a.add(vec{13}, 1.5, vec{0.49, 0.99});  // better: replaces solution, objective, descriptor
  CHECK(r.status == add_status::improve_existing);
  CHECK(r.value == 1.0);
  const auto e = a.store().elite(3);
  CHECK(e.solution[0] == 13.0);
  CHECK(e.objective == 1.5);
  CHECK(e.descriptor[0] == 0.49);
  CHECK(e.descriptor[1] == 0.99);
  // Non-finite objective, descriptor or solution: rejected and counted.
  CHECK(a.add(vec{1}, nan_v, vec{0.1, 0.1}).status == add_status::not_added);
  CHECK(a.add(vec{1}, 1.0, vec{nan_v, 0.1}).status == add_status::not_added);
  CHECK(a.add(vec{nan_v}, 1.0, vec{0.1, 0.1}).status == add_status::not_added);
  CHECK(a.add(vec{1}, std::numeric_limits<double>::infinity(), vec{0.1, 0.1}).status ==
        add_status::not_added);
  CHECK(a.store().filled() == 1);
  const auto& c = a.store().counters();
  CHECK(c.insertions == 8);
  CHECK(c.new_cells == 1);
  CHECK(c.improvements == 1);
  CHECK(c.non_finite == 4);
  CHECK_THROWS_AS(a.add(vec{1, 2}, 1.0, vec{0.1, 0.1}), std::invalid_argument);
  CHECK_THROWS_AS((void)a.store().elite(0), std::out_of_range);
}

TEST_CASE("grid_archive: coverage, QD-score with offset, best objective") {
  dphys::qd::grid_archive a(
      {.dims = {2, 2}, .lower = {0, 0}, .upper = {1, 1}, .qd_score_offset = -1.0}, 1);
  auto s = a.stats();
  CHECK(s.filled == 0);
  CHECK(s.coverage == 0.0);
  CHECK(s.qd_score == 0.0);
  CHECK(s.best_objective == -std::numeric_limits<double>::infinity());
  a.add(vec{0}, 0.5, vec{0.1, 0.1});
  a.add(vec{0}, 2.0, vec{0.9, 0.9});
  a.add(vec{0}, -0.75, vec{0.1, 0.9});
  s = a.stats();
  CHECK(s.filled == 3);
  CHECK(s.coverage == 0.75);
  CHECK(s.qd_score == 1.5 + 3.0 + 0.25);
  CHECK(s.normalized_qd_score == (1.5 + 3.0 + 0.25) / 4);
  CHECK(s.best_objective == 2.0);
  CHECK(s.mean_objective == (0.5 + 2.0 - 0.75) / 3);
}

TEST_CASE("grid_archive: config errors name the field, the value and the rule") {
  using cfg = dphys::qd::grid_archive_config;
  const auto message = [](cfg c) {
    try {
      dphys::qd::grid_archive a(c, 2);
    } catch (const dphys::config_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(message({.dims = {0, 3}, .lower = {0, 0}, .upper = {1, 1}}).find("dims[0]") !=
        std::string::npos);
  CHECK(message({.dims = {3, 3}, .lower = {0}, .upper = {1, 1}}).find("lower") !=
        std::string::npos);
  const auto m = message({.dims = {3, 3}, .lower = {0, 1}, .upper = {1, 1}});
  CHECK(m.find("upper[1]") != std::string::npos);
  CHECK(m.find("greater than lower[1]") != std::string::npos);
  CHECK_THROWS_AS(dphys::qd::grid_archive(cfg{}, 0), dphys::config_error);
}

TEST_CASE("cvt_archive: centroids are reproducible, inside the box, and improved by Lloyd") {
  dphys::qd::cvt_archive_config c{
      .cells = 50, .lower = {-1, 0}, .upper = {1, 2}, .samples = 2000, .iterations = 10, .seed = 7};
  const auto a = dphys::qd::cvt_centroids(c);
  const auto b = dphys::qd::cvt_centroids(c);
  REQUIRE(a.size() == 100);
  for (std::size_t i = 0; i < a.size(); ++i)
    REQUIRE(std::bit_cast<std::uint64_t>(a[i]) == std::bit_cast<std::uint64_t>(b[i]));
  for (std::size_t i = 0; i < 50; ++i) {
    CHECK(a[2 * i] >= -1.0);
    CHECK(a[2 * i] <= 1.0);
    CHECK(a[2 * i + 1] >= 0.0);
    CHECK(a[2 * i + 1] <= 2.0);
  }
  auto other = c;
  other.seed = 8;
  CHECK(dphys::qd::cvt_centroids(other) != a);
  // Lloyd's iterations lower the quantisation error of a fresh set of points.
  auto none = c;
  none.iterations = 0;
  const auto raw = dphys::qd::cvt_centroids(none);
  const auto error = [](const vec& centroids) {
    double sum = 0;
    for (int i = 0; i < 40; ++i)
      for (int j = 0; j < 40; ++j) {
        const double x[2] = {-1 + (i + 0.5) / 20.0, (j + 0.5) / 20.0};
        const auto k = dphys::qd::detail::nearest_centroid(centroids, 2, x);
        sum += std::hypot(x[0] - centroids[2 * k], x[1] - centroids[2 * k + 1]);
      }
    return sum;
  };
  CHECK(error(a) < error(raw));

  dphys::qd::cvt_archive arch(c, 3);
  CHECK(arch.cells() == 50);
  CHECK(std::equal(arch.centroids().begin(), arch.centroids().end(), a.begin(), a.end()));
}

TEST_CASE("cvt_archive: user centroids, nearest-centroid cells, ties to the lower index") {
  dphys::qd::cvt_archive_config c{.cells = 3, .lower = {0, 0}, .upper = {1, 1}};
  dphys::qd::cvt_archive a(c, 1, vec{0.0, 0.0, 1.0, 0.0, 0.5, 1.0});
  CHECK(a.index_of(vec{0.1, 0.1}) == 0);
  CHECK(a.index_of(vec{0.9, 0.2}) == 1);
  CHECK(a.index_of(vec{0.5, 0.8}) == 2);
  CHECK(a.index_of(vec{0.5, 0.0}) == 0);  // equidistant from 0 and 1
  CHECK(a.add(vec{1}, 1.0, vec{0.9, 0.2}).status == add_status::new_cell);
  CHECK(a.add(vec{2}, 2.0, vec{0.8, 0.1}).status == add_status::improve_existing);
  CHECK(a.stats().coverage == doctest::Approx(1.0 / 3).epsilon(1e-15));
  CHECK_THROWS_AS(dphys::qd::cvt_archive(c, 1, vec{0.0, 0.0}), dphys::config_error);
  CHECK_THROWS_AS(dphys::qd::cvt_archive(c, 1, vec{0, 0, 1, 0, 0.5, nan_v}), dphys::config_error);
  // Loading into an archive with other centroids is refused.
  dphys::qd::cvt_archive b(c, 1, vec{0.0, 0.0, 1.0, 0.0, 0.5, 0.9});
  CHECK_THROWS_AS(load_bytes(b, state_bytes(a)), dphys::state_error);
  dphys::qd::cvt_archive same(c, 1, vec{0.0, 0.0, 1.0, 0.0, 0.5, 1.0});
  load_bytes(same, state_bytes(a));
  CHECK(state_bytes(same) == state_bytes(a));
}

TEST_CASE("archive save/load is bit for bit, geometry mismatches are refused") {
  dphys::qd::grid_archive a({.dims = {3, 3}, .lower = {0, 0}, .upper = {1, 1}}, 2);
  a.add(vec{1, -0.0}, 0.1, vec{0.5, 0.5});
  a.add(vec{2, 3}, -1e-300, vec{0.9, 0.1});
  a.add(vec{4, 5}, 1.0 / 3, vec{0.5, 0.5});
  a.add(vec{4, 5}, nan_v, vec{0.5, 0.5});
  const auto bytes = state_bytes(a);
  dphys::qd::grid_archive b({.dims = {3, 3}, .lower = {0, 0}, .upper = {1, 1}}, 2);
  load_bytes(b, bytes);
  CHECK(state_bytes(b) == bytes);
  CHECK(std::signbit(b.store().elite(b.index_of(vec{0.5, 0.5})).solution[1]) == false);
  CHECK(b.store().counters().non_finite == 1);
  CHECK(b.store().filled_cells().size() == 2);
  dphys::qd::grid_archive other({.dims = {3, 4}, .lower = {0, 0}, .upper = {1, 1}}, 2);
  CHECK_THROWS_AS(load_bytes(other, bytes), dphys::state_error);
  dphys::qd::grid_archive offset(
      {.dims = {3, 3}, .lower = {0, 0}, .upper = {1, 1}, .qd_score_offset = -1}, 2);
  CHECK_THROWS_AS(load_bytes(offset, bytes), dphys::state_error);
}

TEST_CASE("archive export: JSONL and CSV, written atomically") {
  const auto dir = std::filesystem::temp_directory_path() / "dphys_test_qd_export";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  dphys::qd::grid_archive a(
      {.dims = {2, 3}, .lower = {0, 0}, .upper = {1, 1}, .qd_score_offset = -2}, 2);
  a.add(vec{0.25, -1}, -0.5, vec{0.9, 0.1});
  a.add(vec{3, 4}, 0.1, vec{0.1, 0.9});
  dphys::qd::write_archive_jsonl(a, dir / "archive.jsonl");
  dphys::qd::write_archive_csv(a, dir / "archive.csv");
  std::ifstream in(dir / "archive.jsonl");
  std::vector<dphys::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(dphys::json::parse(line));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["record"] == "archive");
  CHECK(lines[0]["kind"] == "grid_archive");
  CHECK(lines[0]["dims"] == dphys::json({2, 3}));
  CHECK(lines[0]["filled"] == 2);
  CHECK(lines[0]["qd_score"].get<double>() == 1.5 + 2.1);
  CHECK(lines[1]["cell"] == 2);  // (0, 2)
  CHECK(lines[1]["grid"] == dphys::json({0, 2}));
  CHECK(lines[1]["objective"].get<double>() == 0.1);
  CHECK(lines[2]["cell"] == 3);  // (1, 0)
  CHECK(lines[2]["solution"] == dphys::json({0.25, -1.0}));
  const std::string csv = dphys::run::read_file(dir / "archive.csv");
  CHECK(csv ==
        "cell,objective,descriptor_0,descriptor_1,solution_0,solution_1\n"
        "2,0.10000000000000001,0.10000000000000001,0.90000000000000002,3,4\n"
        "3,-0.5,0.90000000000000002,0.10000000000000001,0.25,-1\n");
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& f : std::filesystem::directory_iterator(dir)) ++files;
  CHECK(files == 2);  // no temporary left behind
  std::filesystem::remove_all(dir);
}

TEST_CASE("concepts: the shipped strategies and archives model them, a plain strategy does not") {
  static_assert(dphys::qd::qd_archive<dphys::qd::grid_archive>);
  static_assert(dphys::qd::qd_archive<dphys::qd::cvt_archive>);
  static_assert(dphys::qd::qd_strategy<dphys::qd::map_elites>);
  static_assert(dphys::qd::qd_strategy<dphys::qd::basic_map_elites<dphys::qd::cvt_archive>>);
  static_assert(dphys::qd::qd_strategy<dphys::qd::cma_me>);
  static_assert(dphys::qd::qd_strategy<dphys::qd::novelty_search<dphys::search::ga<float>>>);
  static_assert(!dphys::qd::qd_strategy<dphys::search::ga<double>>);  // tell takes one span
  static_assert(!dphys::qd::qd_archive<dphys::qd::elite_store>);      // no cell lookup
  CHECK(true);
}

TEST_CASE("cvt_archive export names each elite's centroid") {
  const auto file = std::filesystem::temp_directory_path() / "dphys_test_qd_cvt.jsonl";
  dphys::qd::cvt_archive a({.cells = 2, .lower = {0, 0}, .upper = {1, 1}}, 1,
                           vec{0.25, 0.5, 0.75, 0.5});
  a.add(vec{7}, 1.0, vec{0.9, 0.9});
  dphys::qd::write_archive_jsonl(a, file);
  std::ifstream in(file);
  std::string head, elite, rest;
  std::getline(in, head);
  std::getline(in, elite);
  CHECK_FALSE(std::getline(in, rest));
  CHECK(dphys::json::parse(head)["kind"] == "cvt_archive");
  const auto e = dphys::json::parse(elite);
  CHECK(e["cell"] == 1);
  CHECK(e["centroid"] == dphys::json({0.75, 0.5}));
  std::filesystem::remove(file);
}

TEST_CASE("map_elites: same seed => identical archive, save/load (also between ask and tell)") {
  const dphys::problems::planar_arm arm;
  const dphys::qd::map_elites_config mc{.batch_size = 50};
  dphys::qd::map_elites a(mc, arm_grid(arm, 20), arm.domain(), 3);
  dphys::qd::map_elites b(mc, arm_grid(arm, 20), arm.domain(), 3);
  dphys::qd::map_elites c(mc, arm_grid(arm, 20), arm.domain(), 4);
  drive(a, arm, 20);
  drive(b, arm, 20);
  drive(c, arm, 20);
  CHECK(state_bytes(a) == state_bytes(b));
  CHECK(state_bytes(a.archive()) != state_bytes(c.archive()));
  CHECK(a.evaluations() == 1000);
  CHECK(a.generation() == 20);

  // Continue a for 10 generations; a fresh strategy loaded from the checkpoint must match.
  const auto ckpt = state_bytes(a);
  drive(a, arm, 10);
  dphys::qd::map_elites r(mc, arm_grid(arm, 20), arm.domain(), 3);
  load_bytes(r, ckpt);
  drive(r, arm, 10);
  CHECK(state_bytes(r) == state_bytes(a));

  // Between ask and tell.
  vec f(50), d(100);
  const auto x = a.ask();
  std::vector<double> asked(x.begin(), x.end());
  const auto mid = state_bytes(a);
  dphys::qd::map_elites m(mc, arm_grid(arm, 20), arm.domain(), 3);
  load_bytes(m, mid);
  arm.evaluate(asked, f, d);
  a.tell(f, d);
  m.tell(f, d);
  CHECK(state_bytes(m) == state_bytes(a));

  // Mismatched seed or shape is refused.
  dphys::qd::map_elites wrong(mc, arm_grid(arm, 20), arm.domain(), 99);
  CHECK_THROWS_AS(load_bytes(wrong, ckpt), dphys::state_error);
}

TEST_CASE("map_elites: non-finite members are counted and not inserted, misuse throws") {
  const dphys::problems::planar_arm arm;
  dphys::qd::map_elites me({.batch_size = 4}, arm_grid(arm, 10), arm.domain(), 1);
  CHECK_THROWS_AS(me.tell(vec(4), vec(8)), std::logic_error);
  const auto x = me.ask();
  vec f(4), d(8);
  arm.evaluate(x, f, d);
  f[1] = nan_v;
  d[5] = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(me.tell(vec(3), vec(8)), std::invalid_argument);
  me.tell(f, d);
  CHECK(me.non_finite() == 2);
  CHECK(me.last_results()[1].status == add_status::not_added);
  CHECK(me.last_results()[2].status == add_status::not_added);
  CHECK(me.archive().store().counters().insertions == 2);
  CHECK(me.archive().store().filled() >= 1);
  // The gaussian operator and the CVT archive work through the same interface.
  dphys::qd::basic_map_elites<dphys::qd::cvt_archive> cvt(
      {.batch_size = 20, .variation = dphys::qd::variation_operator::gaussian},
      dphys::qd::cvt_archive({.cells = 30, .samples = 300, .iterations = 5}, arm.dimension()),
      arm.domain(), 2);
  drive(cvt, arm, 10);
  CHECK(cvt.archive().store().filled() > 5);
  for (double v : cvt.best()) {
    CHECK(v >= -std::numbers::pi);
    CHECK(v <= std::numbers::pi);
  }
}

// Measured (tools: this test's drive_budget, Release, g++ 12, seeds 1..5, 20 000 evaluations =
// 200 batches of 100, 50×50 grid, defaults iso_sigma 0.01, line_sigma 0.2): coverage 0.7368,
// 0.7548, 0.7416, 0.7540, 0.7384 (min 0.7368); QD-score (offset −π²) 17973.7, 18429.5, 18087.8,
// 18351.8, 18022.0 (min 17973.7). Thresholds 0.72 and 17500 sit ~2.3 % and ~2.6 % below the
// minima (the spread of 30 seeds is 0.718..0.770 / 17520..18769). Uniform random sampling with the
// same budget reaches only coverage ≈ 0.39 and QD ≈ 8200, and the reachable disc covers at most
// ≈ π/4 ≈ 0.785 of the square (plus border cells), so the bounds cannot be met by a broken
// variation operator, nor are they loose.
TEST_CASE("map_elites on the 10-joint arm: coverage and QD-score thresholds (seeds 1..5)") {
  const dphys::problems::planar_arm arm;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    dphys::qd::map_elites me({}, arm_grid(arm), arm.domain(), seed);
    drive_budget(me, arm, 20000);
    REQUIRE(me.evaluations() == 20000);
    const auto s = me.archive().stats();
    INFO("seed " << seed << " coverage " << s.coverage << " qd " << s.qd_score);
    CHECK(s.coverage >= 0.72);
    CHECK(s.qd_score >= 17500.0);
    CHECK(s.best_objective <= 0.0);
  }
}

// Measured at equal budget (CMA-ME 5 emitters × 36 = 180 per batch, 111 batches = 19 980 <= 20 000
// evaluations): QD-score CMA-ME / MAP-Elites per seed 1..5 = 1.072, 1.035, 1.038, 1.013, 1.045;
// over seeds 1..30 CMA-ME is ahead on 28 and behind on 2 (seed 9: 0.935, seed 11: 0.991). So only
// the sum over seeds 1..5 is asserted (measured ratio 1.041), plus the best objective, where
// CMA-ME is better on every seed 1..5 (−0.0007..−0.0018 vs −0.0043..−0.0068).
TEST_CASE("cma_me vs map_elites on the arm at equal budget") {
  const dphys::problems::planar_arm arm;
  double me_sum = 0, cma_sum = 0;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    dphys::qd::map_elites me({}, arm_grid(arm), arm.domain(), seed);
    dphys::qd::cma_me cm({}, arm_grid(arm), arm.domain(), seed);
    drive_budget(me, arm, 20000);
    drive_budget(cm, arm, 20000);
    REQUIRE(cm.evaluations() <= me.evaluations());
    const auto a = me.archive().stats(), b = cm.archive().stats();
    INFO("seed " << seed << " map_elites qd " << a.qd_score << " cma_me qd " << b.qd_score);
    me_sum += a.qd_score;
    cma_sum += b.qd_score;
    CHECK(b.best_objective > a.best_objective);
    CHECK(b.coverage >= 0.72);
  }
  CHECK(cma_sum >= me_sum);
}

TEST_CASE("cma_me: determinism, restarts, save/load and random-direction emitters") {
  const dphys::problems::planar_arm arm;
  const dphys::qd::cma_me_config cfg{
      .emitters = 3, .random_direction_emitters = 1, .batch_size = 12};
  dphys::qd::cma_me a(cfg, arm_grid(arm, 20), arm.domain(), 5);
  dphys::qd::cma_me b(cfg, arm_grid(arm, 20), arm.domain(), 5);
  drive(a, arm, 30);
  drive(b, arm, 30);
  CHECK(state_bytes(a) == state_bytes(b));
  CHECK(a.random_direction(2));
  CHECK_FALSE(a.random_direction(1));
  const auto ckpt = state_bytes(a);
  drive(a, arm, 40);
  std::uint32_t restarts = 0;
  for (auto r : a.restarts()) restarts += r;
  CHECK(restarts > 0);  // 20×20 cells fill up: emitters stop adding and restart
  dphys::qd::cma_me r(cfg, arm_grid(arm, 20), arm.domain(), 5);
  load_bytes(r, ckpt);
  drive(r, arm, 40);
  CHECK(state_bytes(r) == state_bytes(a));
  dphys::qd::cma_me other(cfg, arm_grid(arm, 20), arm.domain(), 6);
  drive(other, arm, 30);
  CHECK(state_bytes(other.archive()) != state_bytes(b.archive()));
  // Ranking: new cells first, then improvements, then the rest.
  dphys::qd::cma_me one({.emitters = 1, .batch_size = 4}, arm_grid(arm, 10), arm.domain(), 1);
  const auto x = one.ask();
  vec f(4), d(8);
  arm.evaluate(x, f, d);
  f[3] = nan_v;
  one.tell(f, d);
  CHECK(one.non_finite() == 1);
  CHECK(one.emitter(0).generation() == 1);
  CHECK_THROWS_AS(dphys::qd::cma_me({.emitters = 2, .random_direction_emitters = 3}, arm_grid(arm),
                                    arm.domain(), 1),
                  dphys::config_error);
}

namespace {

// Brute force: every distance, fully sorted, the k smallest summed in ascending order.
vec brute_novelty(const vec& archive, const vec& batch, std::size_t dim, std::size_t k,
                  bool with_population) {
  const std::size_t rows = batch.size() / dim;
  vec out;
  for (std::size_t i = 0; i < rows; ++i) {
    vec dist;
    const auto dist_to = [&](const double* b) {
      double s = 0;
      for (std::size_t c = 0; c < dim; ++c)
        s += (batch[i * dim + c] - b[c]) * (batch[i * dim + c] - b[c]);
      return std::sqrt(s);
    };
    for (std::size_t j = 0; j < archive.size() / dim; ++j)
      dist.push_back(dist_to(&archive[j * dim]));
    if (with_population)
      for (std::size_t j = 0; j < rows; ++j)
        if (j != i) dist.push_back(dist_to(&batch[j * dim]));
    std::sort(dist.begin(), dist.end());
    const std::size_t kk = std::min(k, dist.size());
    double s = 0;
    for (std::size_t j = 0; j < kk; ++j) s += dist[j];
    out.push_back(kk ? s / static_cast<double>(kk) : 0.0);
  }
  return out;
}

}  // namespace

TEST_CASE("novelty_archive: kNN novelty equals brute force exactly, the addition rules") {
  dphys::qd::novelty_archive a({.k = 3, .threshold = 0.9}, 2);
  const vec batch{0, 0, 1, 0, 0, 1, 3, 3, 0, 0};  // includes a duplicate of member 0
  auto nov = a.novelty(batch);
  CHECK(nov == brute_novelty({}, batch, 2, 3, true));
  CHECK(nov[0] == (0.0 + 1.0 + 1.0) / 3);  // duplicate at distance 0, then two at distance 1
  CHECK(nov[1] == (1.0 + 1.0 + std::sqrt(2.0)) / 3);
  // threshold 0.9: members 0 and 4 (novelty 2/3) stay out, 1, 2 and 3 enter, in member order
  CHECK(a.update(batch, nov, 1, 0) == 3);
  CHECK(vec(a.behaviours().begin(), a.behaviours().end()) == vec{1, 0, 0, 1, 3, 3});
  const vec next{0.5, 0.5, 2, 2, 9, 9};
  const vec stored(a.behaviours().begin(), a.behaviours().end());
  CHECK(a.novelty(next) == brute_novelty(stored, next, 2, 3, true));
  // Without the population, fewer neighbours than k: the mean over those there are.
  dphys::qd::novelty_archive lone({.k = 10, .include_population = false}, 2);
  CHECK(lone.novelty(next) == vec{0, 0, 0});
  // Non-finite rows: NaN novelty, not neighbours of the others, never added.
  const vec bad{0, 0, nan_v, 1, 2, 0};
  const auto nb = a.novelty(bad);
  CHECK(std::isnan(nb[1]));
  CHECK(nb[0] == brute_novelty(stored, vec{0, 0, 2, 0}, 2, 3, true)[0]);
  // Probability rule: deterministic per (seed, generation, member); p = 1 adds all, p = 0 none.
  dphys::qd::novelty_archive p1(
      {.archive_rule = dphys::qd::novelty_archive_rule::probability, .add_probability = 1.0}, 2);
  CHECK(p1.update(batch, p1.novelty(batch), 1, 0) == 5);
  dphys::qd::novelty_archive p0({.archive_rule = dphys::qd::novelty_archive_rule::probability,
                                 .add_probability = 0.0,
                                 .max_archive_size = 3},
                                2);
  CHECK(p0.update(batch, p0.novelty(batch), 1, 0) == 0);
  dphys::qd::novelty_archive capped({.threshold = 0.0, .max_archive_size = 3}, 2);
  CHECK(capped.update(batch, capped.novelty(batch), 1, 0) == 3);
  CHECK(capped.dropped() == 2);  // all 5 rows have novelty > 0; the 4th and 5th are dropped
}

TEST_CASE("novelty_search with the GA on the arm: archive grows, novelty is the score, resume") {
  const dphys::problems::planar_arm arm;
  using ns_t = dphys::qd::novelty_search<dphys::search::ga<double>>;
  const auto make = [&] {
    return ns_t({.k = 10, .threshold = 0.03}, 2,
                dphys::search::ga<double>({.pop_size = 40}, arm.domain(), 11), 11);
  };
  ns_t ns = make();
  vec f(40), d(80);
  std::size_t last_size = 0;
  for (int g = 0; g < 15; ++g) {
    const auto x = ns.ask();
    arm.evaluate(x, f, d);
    const vec before(ns.archive().behaviours().begin(), ns.archive().behaviours().end());
    ns.tell(f, d);
    const vec expected = brute_novelty(before, d, 2, 10, true);
    REQUIRE(ns.last_novelty().size() == 40);
    CHECK(std::equal(expected.begin(), expected.end(), ns.last_novelty().begin()));
    CHECK(ns.archive().size() >= last_size);
    last_size = ns.archive().size();
  }
  CHECK(last_size > 20);
  CHECK(ns.best().size() == 10);
  CHECK(ns.best_objective() <= 0.0);
  const auto ckpt = state_bytes(ns);
  drive(ns, arm, 5);
  ns_t r = make();
  load_bytes(r, ckpt);
  drive(r, arm, 5);
  CHECK(state_bytes(r) == state_bytes(ns));
}
