// Tests of the population-structure core (spec §3.2 S1–S8): acceptance checks AS1–AS4, exact
// selection probabilities (formula vectors and χ² of empirical frequencies), archive replacement
// order, migration on hand-made islands, inspirations, bandit arithmetic, birth-order commit
// independence, JSONL and checkpoint round trips, config errors.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <dphys/core/random.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/population/bandit.hpp>
#include <dphys/population/config.hpp>
#include <dphys/population/database.hpp>
#include <dphys/population/island_search.hpp>
#include <dphys/population/novelty.hpp>
#include <dphys/population/selection.hpp>
#include <dphys/population/steady_state.hpp>
#include <dphys/run/jsonl.hpp>

using namespace dphys;
using namespace dphys::population;

namespace {

using program = std::vector<float>;

std::filesystem::path pop_scratch(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("dphys_test_population_" + name);
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// Pearson's χ² of counts against probabilities (all expected counts must be >= 5).
double chi_square(const std::vector<double>& counts, const std::vector<double>& p, double n) {
  double x2 = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double e = n * p[i];
    REQUIRE(e >= 5.0);
    x2 += (counts[i] - e) * (counts[i] - e) / e;
  }
  return x2;
}
// χ² quantiles at significance 0.001 (p > 0.001 ⇔ statistic below these), df = 1..5.
constexpr double chi2_crit_001[] = {0.0, 10.828, 13.816, 16.266, 18.467, 20.515};

candidate<program> make_candidate(double score, bool correct, std::uint64_t generation,
                                  std::uint32_t island = no_island, std::uint64_t parent = no_id) {
  candidate<program> c;
  c.payload = {static_cast<float>(score)};
  c.combined_score = score;
  c.correct = correct;
  c.generation = generation;
  c.island = island;
  c.parent_id = parent;
  return c;
}

database_config one_island() {
  database_config d;
  d.num_islands = 1;
  d.copy_initial_program = false;
  return d;
}

// Draws the parent for births 1..n and counts them by id.
std::map<std::uint64_t, double> parent_counts(program_database<program>& db, std::uint64_t n) {
  std::map<std::uint64_t, double> counts;
  for (std::uint64_t b = 1; b <= n; ++b) counts[db.sample(b).parent_id] += 1.0;
  return counts;
}

void check_against(const std::vector<std::pair<std::uint64_t, double>>& dist,
                   const std::map<std::uint64_t, double>& counts, double n) {
  std::vector<double> c, p;
  double seen = 0.0;
  for (const auto& [id, prob] : dist) {
    p.push_back(prob);
    const auto it = counts.find(id);
    c.push_back(it == counts.end() ? 0.0 : it->second);
    seen += c.back();
  }
  CHECK(seen == n);  // no draw outside the distribution's support
  const double x2 = chi_square(c, p, n);
  INFO("chi2 = " << x2 << " df = " << p.size() - 1);
  CHECK(x2 < chi2_crit_001[p.size() - 1]);
}

}  // namespace

TEST_CASE("population: AS1 power-law and weighted probability vectors") {
  const auto p = power_law_probabilities(3, 1.0);
  REQUIRE(p.size() == 3);
  CHECK(p[0] == doctest::Approx(6.0 / 11.0).epsilon(1e-15));
  CHECK(p[1] == doctest::Approx(3.0 / 11.0).epsilon(1e-15));
  CHECK(p[2] == doctest::Approx(2.0 / 11.0).epsilon(1e-15));
  for (double x : power_law_probabilities(4, 0.0)) CHECK(x == 0.25);
  // α = 100: hill climbing in effect
  CHECK(power_law_probabilities(3, 100.0)[0] > 0.999999);
  CHECK(power_law_probabilities(3, 100.0)[1] < 1e-29);

  // weighted with equal scores: ∝ 1/(1 + children)
  const std::vector<double> scores{2.0, 2.0, 2.0};
  const std::vector<std::uint64_t> children{0, 1, 3};
  const auto w = weighted_probabilities(scores, children, 10.0);
  const double z = 1.0 + 0.5 + 0.25;
  CHECK(w[0] == doctest::Approx(1.0 / z).epsilon(1e-15));
  CHECK(w[1] == doctest::Approx(0.5 / z).epsilon(1e-15));
  CHECK(w[2] == doctest::Approx(0.25 / z).epsilon(1e-15));

  // general case by the formula: median 2.5, MAD 1, s = sigmoid(λ(x − 2.5)/1), h = 1/(1+c)
  const std::vector<double> sc{1.0, 2.0, 3.0, 4.0};
  const std::vector<std::uint64_t> ch{0, 2, 0, 1};
  const auto q = weighted_probabilities(sc, ch, 1.0);
  std::vector<double> ref(4);
  double sum = 0.0;
  for (int i = 0; i < 4; ++i) {
    ref[i] = 1.0 / (1.0 + std::exp(-(sc[i] - 2.5))) / (1.0 + static_cast<double>(ch[i]));
    sum += ref[i];
  }
  for (int i = 0; i < 4; ++i) CHECK(q[i] == doctest::Approx(ref[i] / sum).epsilon(1e-14));
  CHECK(median(std::vector<double>{3.0, 1.0, 2.0}) == 2.0);
  CHECK(median(std::vector<double>{4.0, 1.0, 2.0, 3.0}) == 2.5);
}

TEST_CASE("population: AS1 empirical parent frequencies (χ², 10^5 draws, p > 0.001, seed 7)") {
  constexpr std::uint64_t draws = 100000;
  SUBCASE("power_law α = 1 over correct programs (exploitation_ratio 0)") {
    auto cfg = one_island();
    cfg.exploitation_ratio = 0.0;
    program_database<program> db(cfg, 7);
    db.add(make_candidate(1.0, true, 0));
    db.add(make_candidate(3.0, true, 1));
    db.add(make_candidate(2.0, true, 2));
    db.add(make_candidate(9.0, false, 3));  // incorrect: never a parent
    const auto dist = db.parent_distribution(0);
    REQUIRE(dist.size() == 3);
    CHECK(dist[0].first == 1);  // ranks by score: 3.0, 2.0, 1.0
    CHECK(dist[1].first == 2);
    CHECK(dist[2].first == 0);
    CHECK(dist[0].second == doctest::Approx(6.0 / 11.0).epsilon(1e-15));
    CHECK(dist[1].second == doctest::Approx(3.0 / 11.0).epsilon(1e-15));
    CHECK(dist[2].second == doctest::Approx(2.0 / 11.0).epsilon(1e-15));
    check_against(dist, parent_counts(db, draws), draws);
  }
  SUBCASE("power_law mixture: archive pool with probability exploitation_ratio") {
    auto cfg = one_island();
    cfg.exploitation_ratio = 0.5;
    cfg.archive_size = 2;  // archive = the best two of three
    program_database<program> db(cfg, 7);
    db.add(make_candidate(1.0, true, 0));
    db.add(make_candidate(3.0, true, 1));
    db.add(make_candidate(2.0, true, 2));
    REQUIRE(db.archive().size() == 2);
    const auto dist = db.parent_distribution(0);
    REQUIRE(dist.size() == 3);
    // archive pool (3.0, 2.0): 2/3, 1/3; correct pool (3.0, 2.0, 1.0): 6/11, 3/11, 2/11
    CHECK(dist[0].second == doctest::Approx(0.5 * 2.0 / 3.0 + 0.5 * 6.0 / 11.0).epsilon(1e-14));
    CHECK(dist[1].second == doctest::Approx(0.5 / 3.0 + 0.5 * 3.0 / 11.0).epsilon(1e-14));
    CHECK(dist[2].second == doctest::Approx(0.5 * 2.0 / 11.0).epsilon(1e-14));
    check_against(dist, parent_counts(db, draws), draws);
  }
  SUBCASE("weighted λ = 1 with children counts") {
    auto cfg = one_island();
    cfg.selection = parent_selection::weighted;
    cfg.parent_selection_lambda = 1.0;
    program_database<program> db(cfg, 7);
    db.add(make_candidate(1.0, true, 0));
    db.add(make_candidate(2.0, true, 1, no_island, 0));
    db.add(make_candidate(3.0, true, 2, no_island, 1));
    db.add(make_candidate(4.0, true, 3, no_island, 1));
    db.add(make_candidate(0.5, false, 4, no_island, 3));  // children: id0 1, id1 2, id3 1
    const auto dist = db.parent_distribution(0);
    REQUIRE(dist.size() == 4);
    const auto ref = weighted_probabilities(std::vector<double>{1.0, 2.0, 3.0, 4.0},
                                            std::vector<std::uint64_t>{1, 2, 0, 1}, 1.0);
    for (std::size_t i = 0; i < 4; ++i) {
      CHECK(dist[i].first == i);
      CHECK(dist[i].second == doctest::Approx(ref[i]).epsilon(1e-15));
    }
    check_against(dist, parent_counts(db, draws), draws);
  }
  SUBCASE("weighted with equal scores ∝ 1/(1 + children)") {
    auto cfg = one_island();
    cfg.selection = parent_selection::weighted;
    program_database<program> db(cfg, 7);
    db.add(make_candidate(1.0, true, 0));
    db.add(make_candidate(1.0, true, 1, no_island, 0));
    db.add(make_candidate(1.0, true, 2, no_island, 1));
    db.add(make_candidate(0.0, false, 3, no_island, 1));
    db.add(make_candidate(0.0, false, 4, no_island, 1));  // children: 1, 3, 0
    const auto dist = db.parent_distribution(0);
    const double z = 0.5 + 0.25 + 1.0;
    CHECK(dist[0].second == doctest::Approx(0.5 / z).epsilon(1e-14));
    CHECK(dist[1].second == doctest::Approx(0.25 / z).epsilon(1e-14));
    CHECK(dist[2].second == doctest::Approx(1.0 / z).epsilon(1e-14));
    check_against(dist, parent_counts(db, draws), draws);
  }
  SUBCASE("uniform and power_law α = 0") {
    auto cfg = one_island();
    cfg.selection = parent_selection::uniform;
    program_database<program> db(cfg, 7);
    for (int i = 0; i < 4; ++i) db.add(make_candidate(i, true, static_cast<std::uint64_t>(i)));
    const auto dist = db.parent_distribution(0);
    for (const auto& e : dist) CHECK(e.second == 0.25);
    check_against(dist, parent_counts(db, draws), draws);
  }
}

TEST_CASE("population: hill_climbing, best_of_n and beam_search parents") {
  auto cfg = one_island();
  cfg.selection = parent_selection::hill_climbing;
  program_database<program> db(cfg, 1);
  db.add(make_candidate(1.0, true, 0));
  db.add(make_candidate(5.0, true, 1, no_island, 0));
  db.add(make_candidate(9.0, false, 2, no_island, 0));
  for (std::uint64_t b = 1; b < 50; ++b) CHECK(db.sample(b).parent_id == 1);

  cfg.selection = parent_selection::best_of_n;
  program_database<program> db2(cfg, 1);
  db2.add(make_candidate(1.0, true, 0));
  db2.add(make_candidate(5.0, true, 1, no_island, 0));
  for (std::uint64_t b = 1; b < 20; ++b) CHECK(db2.sample(b).parent_id == 0);

  cfg.selection = parent_selection::beam_search;
  cfg.num_beams = 2;
  program_database<program> db3(cfg, 1);
  db3.add(make_candidate(1.0, true, 0));
  CHECK(db3.sample(1).parent_id == 0);
  db3.add(make_candidate(4.0, true, 1, no_island, 0));   // better, but the beam stays on 0
  CHECK(db3.sample(2).parent_id == 0);
  db3.add(make_candidate(0.5, true, 2, no_island, 0));   // 0 now has 2 children
  CHECK(db3.sample(3).parent_id == 1);                   // switch to the then-best
  db3.add(make_candidate(9.0, true, 3, no_island, 1));
  CHECK(db3.sample(4).parent_id == 1);                   // 1 has 1 child < 2
}

TEST_CASE("population: archive replacement order and AS3 invariants") {
  auto cfg = one_island();
  cfg.archive_size = 3;
  program_database<program> db(cfg, 3);
  db.add(make_candidate(1.0, true, 0));                  // id 0
  db.add(make_candidate(2.0, true, 1));                  // id 1
  db.add(make_candidate(3.0, true, 2));                  // id 2
  auto r = db.add(make_candidate(100.0, false, 3));      // incorrect: never archived
  CHECK_FALSE(r.archived);
  CHECK(db.best_id() == 2);                              // correctness first
  r = db.add(make_candidate(0.5, true, 4));              // worse than the worst member
  CHECK_FALSE(r.archived);
  CHECK(db.archive() == std::vector<std::uint64_t>{0, 1, 2});
  r = db.add(make_candidate(1.5, true, 5));              // replaces the worst (id 0) in its slot
  CHECK(r.archived);
  CHECK(r.evicted == 0);
  CHECK(db.archive() == std::vector<std::uint64_t>{5, 1, 2});
  // equal score: the mean of public metrics decides
  auto c = make_candidate(1.5, true, 6);
  c.public_metrics = {{"a", 1.0}, {"b", 3.0}};
  r = db.add(c);                                         // beats id 5 (public mean 0 < 2)
  CHECK(r.evicted == 5);
  CHECK(db.archive() == std::vector<std::uint64_t>{6, 1, 2});
  // equal score and public mean: newer wins
  r = db.add(c);                                         // id 7 beats id 6
  CHECK(r.evicted == 6);
  CHECK(db.archive() == std::vector<std::uint64_t>{7, 1, 2});
  // a non-finite score is stored as incorrect
  r = db.add(make_candidate(std::nan(""), true, 8));
  CHECK_FALSE(db[r.id].correct);
  CHECK_FALSE(r.archived);
  r = db.add(make_candidate(3.0, true, 9));              // ties id 2 on score: newer wins best
  CHECK(db.best_id() == 9);
  CHECK(r.evicted == 7);
  for (auto id : db.archive()) CHECK(db[id].correct);
  CHECK(db.archive().size() == 3);
  CHECK(is_better(db[9], db[2]));
  CHECK_FALSE(is_better(db[2], db[9]));
}

TEST_CASE("population: island assignment (copy-initial, inherit, lazy, random)") {
  database_config cfg;
  cfg.num_islands = 3;
  program_database<program> db(cfg, 11);
  const auto r0 = db.add(make_candidate(1.0, true, 0));
  CHECK(r0.copies == std::vector<std::uint64_t>{1, 2});
  CHECK(db[1].island == 1);
  CHECK(db[2].island == 2);
  CHECK(db[1].is_copy);
  CHECK(db[1].generation == 0);
  CHECK(db.all_islands_initialised());
  const auto r = db.add(make_candidate(2.0, true, 1, no_island, 2));
  CHECK(db[r.id].island == 2);  // inherits
  CHECK(db[2].children == 1);

  // lazy initialisation: without copies, children fill the lowest island lacking a correct one
  cfg.copy_initial_program = false;
  program_database<program> lazy(cfg, 11);
  lazy.add(make_candidate(1.0, true, 0));
  CHECK_FALSE(lazy.all_islands_initialised());
  auto s = lazy.sample(1);
  CHECK(s.initial_phase);
  CHECK(s.parent_id == 0);
  CHECK(s.archive_inspirations.empty());
  CHECK(lazy[lazy.add(make_candidate(0.0, false, 1, no_island, 0)).id].island == 1);
  CHECK(lazy[lazy.add(make_candidate(2.0, true, 2, no_island, 0)).id].island == 1);
  CHECK(lazy[lazy.add(make_candidate(2.0, true, 3, no_island, 0)).id].island == 2);
  CHECK(lazy.all_islands_initialised());
  CHECK(lazy[lazy.add(make_candidate(2.0, true, 4, no_island, 3)).id].island == 2);
  // no parent after initialisation: a random island; all islands reachable
  std::set<std::uint32_t> seen;
  for (std::uint64_t g = 5; g < 40; ++g) {
    if (g % cfg.migration_interval == 0) continue;
    seen.insert(lazy[lazy.add(make_candidate(0.0, false, g)).id].island);
  }
  CHECK(seen.size() == 3);
}

TEST_CASE("population: AS2 migration on hand-made islands") {
  for (auto topo : {migration_topology::random, migration_topology::ring,
                    migration_topology::fully_connected}) {
    CAPTURE(static_cast<int>(topo));
    database_config cfg;
    cfg.num_islands = 4;
    cfg.migration_interval = 10;
    cfg.migration_rate = 0.3;
    cfg.archive_size = 1000;
    cfg.topology = topo;
    program_database<program> db(cfg, 5);
    db.add(make_candidate(0.0, true, 0));
    for (std::uint64_t g = 1; g <= 45; ++g) {
      // island 3 gets few programs (at most one eligible at a time); some incorrect ones
      const auto isl = static_cast<std::uint32_t>(g % 7 == 0 ? 3 : g % 3);
      auto c = make_candidate(static_cast<double>((g * 37) % 11), g % 5 != 0, g, isl);
      std::vector<std::size_t> sizes;
      std::vector<std::uint64_t> best;
      for (std::uint32_t i = 0; i < 4; ++i) sizes.push_back(db.island(i).size());
      const auto before = db;
      const auto res = db.add(c);
      const bool trigger = g % 10 == 0;
      if (!trigger) {
        CHECK(res.migrations.empty());
        continue;
      }
      CHECK_FALSE(res.migrations.empty());
      // replay the event island by island, checking every rule
      std::vector<std::vector<std::uint64_t>> isl_members;
      for (std::uint32_t i = 0; i < 4; ++i) isl_members.push_back(before.island(i));
      isl_members[c.island].push_back(res.id);  // the trigger is added before migrating
      std::set<std::uint64_t> moved;
      std::size_t k = 0;
      for (std::uint32_t i = 0; i < 4; ++i) {
        const std::size_t size = isl_members[i].size();
        std::uint64_t island_best = no_id;
        std::size_t eligible = 0;
        for (auto id : isl_members[i])
          if (island_best == no_id || is_better(db[id], db[island_best])) island_best = id;
        for (auto id : isl_members[i])
          if (db[id].correct && db[id].generation > 0 && id != island_best && !moved.count(id))
            ++eligible;
        std::size_t sent = 0;
        for (; k < res.migrations.size() && res.migrations[k].from == i; ++k, ++sent) {
          const auto& m = res.migrations[k];
          CHECK(m.to != m.from);
          CHECK(m.generation == g);
          CHECK(db[m.id].generation > 0);
          CHECK(db[m.id].correct);
          CHECK(m.id != island_best);
          CHECK(moved.insert(m.id).second);  // at most once per event
          if (topo == migration_topology::ring) CHECK(m.to == (i + 1) % 4);
          if (topo == migration_topology::fully_connected) CHECK(m.to == (i + 1 + sent % 3) % 4);
          isl_members[m.to].push_back(m.id);
          std::erase(isl_members[i], m.id);
          CHECK(db[m.id].migrations.back() == migration_event{g, i, m.to});
        }
        if (size > 1)
          CHECK(sent == std::min<std::size_t>(
                            std::max<std::size_t>(1, static_cast<std::size_t>(size * 0.3)),
                            eligible));
        else
          CHECK(sent == 0);
      }
      CHECK(k == res.migrations.size());
      for (std::uint32_t i = 0; i < 4; ++i) {
        std::sort(isl_members[i].begin(), isl_members[i].end());
        CHECK(isl_members[i] == db.island(i));
      }
    }
    // gen-0 programs never moved
    for (const auto& c : db.records())
      if (c.generation == 0) CHECK(c.migrations.empty());
  }
}

TEST_CASE("population: inspirations (elite rule, random fill, top-k, separation)") {
  database_config cfg;
  cfg.num_islands = 2;
  cfg.num_archive_inspirations = 4;
  cfg.elite_selection_ratio = 0.5;  // floor(4·0.5) = 2 elites
  cfg.num_top_k_inspirations = 2;
  cfg.migration_interval = 0;
  cfg.selection = parent_selection::uniform;
  program_database<program> db(cfg, 9);
  db.add(make_candidate(0.0, true, 0));  // ids 0 (island 0), 1 (island 1)
  for (std::uint64_t g = 1; g <= 12; ++g)
    db.add(make_candidate(static_cast<double>(g), true, g, static_cast<std::uint32_t>(g % 2)));
  // island 0: ids 0 and 2k (scores 0, 2, 4, ..., 12, the global best 12 is id 13)
  for (std::uint64_t b = 100; b < 400; ++b) {
    const auto s = db.sample(b);
    std::vector<std::uint64_t> isl_sorted;
    for (auto id : db.island(s.island)) isl_sorted.push_back(id);
    std::sort(isl_sorted.begin(), isl_sorted.end(),
              [&](auto a, auto c) { return is_better(db[a], db[c]); });
    std::set<std::uint64_t> all(s.archive_inspirations.begin(), s.archive_inspirations.end());
    CHECK(all.size() == s.archive_inspirations.size());
    CHECK(s.archive_inspirations.size() == 4);
    CHECK_FALSE(all.count(s.parent_id));
    for (auto id : s.archive_inspirations) CHECK(db[id].island == s.island);
    // expected elite prefix: global best if on the island, then 2 top members
    std::vector<std::uint64_t> expect;
    const auto best = db.best_id();
    if (db[best].island == s.island && best != s.parent_id) expect.push_back(best);
    for (auto id : isl_sorted) {
      if (expect.size() >= (db[best].island == s.island && best != s.parent_id ? 3u : 2u)) break;
      if (id != s.parent_id && id != best) expect.push_back(id);
    }
    CHECK(std::vector<std::uint64_t>(s.archive_inspirations.begin(),
                                     s.archive_inspirations.begin() +
                                         static_cast<std::ptrdiff_t>(expect.size())) == expect);
    // top-k: the best remaining members
    std::vector<std::uint64_t> topk;
    for (auto id : isl_sorted)
      if (topk.size() < 2 && id != s.parent_id && !all.count(id)) topk.push_back(id);
    CHECK(s.top_k_inspirations == topk);
  }
  // without separation, inspirations may come from the other island when the island runs out
  cfg.enforce_island_separation = false;
  cfg.num_archive_inspirations = 10;
  program_database<program> open(cfg, 9);
  open.add(make_candidate(0.0, true, 0));
  for (std::uint64_t g = 1; g <= 6; ++g)
    open.add(make_candidate(static_cast<double>(g), true, g, static_cast<std::uint32_t>(g % 2)));
  const auto s = open.sample(50);
  CHECK(s.archive_inspirations.size() == 7);  // all 8 archive members except the parent
}

TEST_CASE("population: patch choice frequencies and novelty filter") {
  const auto e = budget_medium();
  constexpr std::uint64_t n = 100000;
  std::vector<double> counts(3, 0.0);
  for (std::uint64_t b = 0; b < n; ++b) counts[choose_patch(e, 42, b)] += 1.0;
  CHECK(chi_square(counts, e.patch_type_probs, n) < chi2_crit_001[2]);

  const cosine_similarity cos;
  CHECK(cos(std::vector<double>{1, 0}, std::vector<double>{0, 1}) == 0.0);
  CHECK(cos(std::vector<double>{1, 1}, std::vector<double>{2, 2}) == doctest::Approx(1.0));
  for (double x = 0.05; x < 3.0; x += 0.17)  // never above 1, so threshold 1.0 never rejects
    CHECK(cos(std::vector<double>{x, 0.3, x * x}, std::vector<double>{x, 0.3, x * x}) <= 1.0);
  CHECK(cos(std::vector<double>{0, 0}, std::vector<double>{2, 2}) == 0.0);

  database_config cfg = one_island();
  program_database<program> db(cfg, 1);
  auto c = make_candidate(1.0, true, 0);
  c.descriptors = {1.0, 0.0};
  db.add(c);
  c.descriptors = {0.6, 0.8};
  db.add(c);
  novelty_filter<> f{0.8};
  const std::vector<double> d{1.0, 0.0};
  CHECK_FALSE(f(db, 0, 1, d).accepted);
  CHECK(f(db, 0, 1, d).max_similarity == 1.0);
  CHECK(f(db, 0, 1, d).most_similar == 0);
  CHECK(f(db, 0, 0, d).accepted);  // birth 0 is never checked
  const std::vector<double> d2{0.0, 1.0};  // max similarity 0.8 == threshold: accepted
  CHECK(f(db, 0, 1, d2).max_similarity == doctest::Approx(0.8).epsilon(1e-15));
  novelty_filter<> exact{cos(d2, std::vector<double>{0.6, 0.8})};
  CHECK(exact(db, 0, 1, d2).accepted);
  novelty_filter<> off{1.0};
  CHECK(off(db, 0, 1, d).accepted);
}

TEST_CASE("population: asymmetric UCB arithmetic on a hand-made reward sequence") {
  bandit_config cfg;
  cfg.kind = bandit_kind::asymmetric_ucb;
  cfg.num_arms = 3;
  cfg.exploration = 1.0;
  cfg.epsilon = 0.2;
  cfg.discount = 0.95;
  operator_bandit b(cfg);
  for (double p : b.probabilities()) CHECK(p == doctest::Approx(1.0 / 3.0));
  // reference in linear space
  std::vector<double> n(3, 0.0), s(3, 0.0);
  std::vector<int> tried(3, 0);
  double zmax = 0.0;
  const std::vector<std::pair<std::size_t, double>> seq{
      {0, 0.5}, {1, 0.0}, {2, 1.2}, {0, 0.1}, {2, -0.3}, {1, 2.0}, {0, 0.0}, {2, 0.7}};
  for (const auto& [arm, r] : seq) {
    b.update(arm, r);
    const double z = std::expm1(std::max(0.0, r));
    s[arm] += z;
    n[arm] += 1.0;
    tried[arm] = 1;
    zmax = std::max(zmax, z);
    for (int a = 0; a < 3; ++a) {
      n[a] *= 0.95;
      s[a] *= 0.95;
    }
    const auto p = b.probabilities();
    if (tried[0] + tried[1] + tried[2] < 3) {
      for (int a = 0; a < 3; ++a)
        CHECK(p[a] == doctest::Approx(tried[a] ? 0.0 : 1.0 / (3 - tried[0] - tried[1] - tried[2])));
      continue;
    }
    const double T = std::max(1.0, n[0] + n[1] + n[2]);
    std::vector<double> score(3);
    for (int a = 0; a < 3; ++a)
      score[a] = (zmax > 0 ? s[a] / n[a] / zmax : 0.0) + std::sqrt(2.0 * std::log(T) / n[a]);
    const auto got = b.scores();
    for (int a = 0; a < 3; ++a) CHECK(got[a] == doctest::Approx(score[a]).epsilon(1e-12));
    const auto top = static_cast<std::size_t>(std::max_element(score.begin(), score.end()) - score.begin());
    for (std::size_t a = 0; a < 3; ++a) CHECK(p[a] == doctest::Approx(a == top ? 0.8 : 0.1));
  }
  // Genesis's reward: child − max(parent, baseline), clipped at 0; incorrect child → 0
  CHECK(bandit_reward(5.0, true, 3.0, 4.0) == 1.0);
  CHECK(bandit_reward(5.0, true, 4.5, 1.0) == 0.5);
  CHECK(bandit_reward(2.0, true, 3.0, 1.0) == 0.0);
  CHECK(bandit_reward(9.0, false, 3.0, 1.0) == 0.0);

  // choose() follows probabilities(): χ² over 10^5 births
  std::vector<double> counts(3, 0.0);
  for (std::uint64_t birth = 0; birth < 100000; ++birth) counts[b.choose(3, birth)] += 1.0;
  CHECK(chi_square(counts, b.probabilities(), 100000) < chi2_crit_001[2]);

  // checkpoint round trip
  state_writer w;
  b.save(w);
  operator_bandit b2(cfg);
  state_reader r(w.bytes());
  b2.load(r);
  r.expect_end();
  CHECK(b2 == b);
  CHECK(b2.probabilities() == b.probabilities());
}

TEST_CASE("population: UCB1 arithmetic") {
  bandit_config cfg;
  cfg.kind = bandit_kind::ucb1;
  cfg.num_arms = 2;
  cfg.exploration = 0.5;
  operator_bandit b(cfg);
  b.update(0, 1.0);
  CHECK(b.probabilities() == std::vector<double>{0.0, 1.0});
  b.update(1, 0.2);
  b.update(0, 0.0);
  // arm0: mean 0.5, n 2; arm1: mean 0.2, n 1; T = 3
  const auto s = b.scores();
  CHECK(s[0] == doctest::Approx(0.5 + 0.5 * std::sqrt(2.0 * std::log(3.0) / 2.0)).epsilon(1e-14));
  CHECK(s[1] == doctest::Approx(0.2 + 0.5 * std::sqrt(2.0 * std::log(3.0) / 1.0)).epsilon(1e-14));
  const auto p = b.probabilities();
  CHECK(p == (s[0] > s[1] ? std::vector<double>{1.0, 0.0} : std::vector<double>{0.0, 1.0}));
  bandit_config none;
  CHECK(operator_bandit(none).probabilities() == std::vector<double>{1.0});
}

namespace {

// A toy program-evolution problem: genomes of 4 floats, score −Σ(x − 0.5)², correct if > −2.
island_search_config toy_config() {
  auto c = circle_packing(3);
  c.seed = 2024;
  c.database.num_islands = 4;
  c.database.archive_size = 12;
  c.database.migration_interval = 10;
  c.database.selection = parent_selection::power_law;
  c.evolution = budget_large();
  c.evolution.num_generations = 160;
  c.evolution.max_parallel_jobs = 8;
  c.evolution.similarity_threshold = 0.999;
  return c;
}

offspring<program> toy_make(const proposal_request<program>& rq) {
  offspring<program> o;
  const auto key = random_key::make(rq.seed, static_cast<stream_id>(static_cast<std::uint32_t>(stream_id::user) + 1),
                                    static_cast<std::uint32_t>(rq.birth), rq.attempt);
  if (!rq.parent) {
    o.payload = {2.0f, -1.0f, 0.0f, 1.5f};
  } else {
    o.payload = rq.parent->payload;
    const float step = rq.type == patch_type::full ? 1.0f : 0.2f * static_cast<float>(rq.arm + 1);
    for (std::uint32_t i = 0; i < o.payload.size(); ++i)
      o.payload[i] += step * normal<float>(key, 0u, 0u, i);
    if (rq.type == patch_type::cross && !rq.context->archive_inspirations.empty()) {
      const auto& other = (*rq.database)[rq.context->archive_inspirations.front()].payload;
      for (std::size_t i = 0; i < o.payload.size(); ++i)
        o.payload[i] = 0.5f * (o.payload[i] + other[i]);
    }
  }
  o.descriptors.assign(o.payload.begin(), o.payload.end());
  return o;
}

evaluation toy_evaluate(const proposal<program>& p) {
  evaluation e;
  double s = 0.0;
  for (float x : p.child.payload) s += (x - 0.5) * (x - 0.5);
  e.combined_score = -s;
  e.correct = -s > -6.0;
  e.public_metrics["l1"] = -std::abs(p.child.payload[0]);
  return e;
}

struct toy_run {
  island_search<program> search;
  std::vector<dphys::json> log;
};

template <class Executor>
toy_run run_toy(Executor& ex, const island_search_config& cfg = toy_config()) {
  toy_run t{island_search<program>(cfg), {}};
  run_steady_state(
      cfg.evolution.num_generations, cfg.evolution.max_parallel_jobs,
      [&](std::uint64_t b) { return t.search.propose(b, toy_make); },
      [](const proposal<program>& p) { return std::make_pair(p, toy_evaluate(p)); },
      [&](std::uint64_t, proposal<program>&&, std::pair<proposal<program>, evaluation>&& r) {
        t.log.push_back(t.search.commit(std::move(r.first), std::move(r.second)));
        // AS3 after every commit
        const auto& db = t.search.database();
        REQUIRE(db.archive().size() <= db.config().archive_size);
        for (auto id : db.archive()) REQUIRE(db[id].correct);
        if (db[db.best_id()].correct)
          REQUIRE(std::find(db.archive().begin(), db.archive().end(), db.best_id()) !=
                  db.archive().end());
      },
      ex);
  return t;
}

}  // namespace

TEST_CASE("population: AS4 and S3 — outcome independent of completion order and threads") {
  deferred_executor<> fifo;
  const auto ref = run_toy(fifo);
  const auto& db = ref.search.database();
  REQUIRE(db.size() == 160 + 3);  // + copies of the initial program
  // the run exercised what it should
  std::size_t migrations = 0, rejections = 0, archived = 0;
  for (const auto& r : ref.log) {
    migrations += r["migrations"].size();
    rejections += r["novelty_rejections"].get<std::size_t>();
    archived += r["archived"].get<bool>();
  }
  CHECK(migrations > 0);
  CHECK(rejections > 0);
  CHECK(archived > 12);
  CHECK(ref.log.back()["bandit"]["pulls"].size() == 3);
  CHECK(db[db.best_lineage().back()].generation == 0);
  CHECK(db[db.best_lineage().back()].parent_id == no_id);
  for (std::size_t k = 1; k < db.best_lineage().size(); ++k)
    CHECK(db[db.best_lineage()[k - 1]].parent_id == db.best_lineage()[k]);

  SUBCASE("shuffled and reversed completion") {
    std::uint64_t calls = 0;
    auto shuffled_pick = [&](const std::vector<std::uint64_t>& births) {
      const auto key = random_key::make(99, stream_id::user, 0, 0);
      return static_cast<std::size_t>(randint<float>(key, static_cast<std::uint32_t>(calls++), 0u, 0u,
                                                     static_cast<std::uint32_t>(births.size())));
    };
    deferred_executor shuffled(shuffled_pick);
    const auto a = run_toy(shuffled);
    CHECK(a.search.database() == db);
    CHECK(a.log == ref.log);
    CHECK(a.search.database().to_jsonl() == db.to_jsonl());
    auto last = [](const std::vector<std::uint64_t>& births) { return births.size() - 1; };
    deferred_executor lifo(last);
    const auto c = run_toy(lifo);
    CHECK(c.search.database() == db);
    CHECK(c.log == ref.log);
  }
  SUBCASE("1 and 16 threads, 8 in flight") {
    for (unsigned threads : {1u, 16u}) {
      thread_pool_executor pool(threads);
      const auto t = run_toy(pool);
      CHECK(t.search.database() == db);
      CHECK(t.log == ref.log);
    }
  }
  SUBCASE("different seed, different run") {
    auto cfg = toy_config();
    cfg.seed = 2025;
    deferred_executor<> f2;
    CHECK_FALSE(run_toy(f2, cfg).search.database() == db);
  }
}

TEST_CASE("population: steady-state ask/commit schedule") {
  CHECK(commits_before_ask(0, 4) == 0);
  CHECK(commits_before_ask(1, 4) == 1);
  CHECK(commits_before_ask(4, 4) == 1);
  CHECK(commits_before_ask(5, 4) == 2);
  CHECK(commits_before_ask(7, 1) == 7);
  CHECK(commits_before_ask(1, 4, schedule::generational) == 1);
  CHECK(commits_before_ask(4, 4, schedule::generational) == 1);
  CHECK(commits_before_ask(5, 4, schedule::generational) == 5);
  CHECK(commits_before_ask(9, 4, schedule::generational) == 9);
  // ask sees exactly commits_before_ask commits; at most P in flight; commits in birth order
  std::uint64_t committed = 0, asked = 0;
  std::vector<std::uint64_t> order;
  auto rev = [](const std::vector<std::uint64_t>& b) { return b.size() - 1; };
  deferred_executor ex(rev);
  run_steady_state(
      30, 5,
      [&](std::uint64_t b) {
        CHECK(committed == commits_before_ask(b, 5));
        CHECK(asked - committed < 5);
        ++asked;
        return b;
      },
      [](const std::uint64_t& b) { return b * b; },
      [&](std::uint64_t b, std::uint64_t&& job, std::uint64_t&& res) {
        CHECK(b == committed);
        CHECK(job == b);
        CHECK(res == b * b);
        order.push_back(b);
        ++committed;
      },
      ex);
  CHECK(order.size() == 30);
  // generational: batches of P asked together, each after the previous batch is committed
  committed = 0;
  deferred_executor gex(rev);
  run_steady_state(
      13, 4,
      [&](std::uint64_t b) {
        CHECK(committed == commits_before_ask(b, 4, schedule::generational));
        return b;
      },
      [](const std::uint64_t& b) { return b; },
      [&](std::uint64_t b, std::uint64_t&&, std::uint64_t&&) { CHECK(b == committed++); }, gex,
      schedule::generational);
  CHECK(committed == 13);
  // an evaluation error propagates after the outstanding work is drained
  thread_pool_executor pool(2);
  CHECK_THROWS_AS(run_steady_state(
                      20, 4, [](std::uint64_t b) { return b; },
                      [](const std::uint64_t& b) -> int {
                        if (b == 7) throw std::runtime_error("bad candidate");
                        return 0;
                      },
                      [](std::uint64_t, std::uint64_t&&, int&&) {}, pool),
                  std::runtime_error);
}

TEST_CASE("population: JSONL round trip (vector and program-text payloads)") {
  deferred_executor<> fifo;
  const auto t = run_toy(fifo);
  const auto& db = t.search.database();
  const auto dir = pop_scratch("jsonl");
  db.save_jsonl(dir / "programs.jsonl");
  const auto back = program_database<program>::load_jsonl(dir / "programs.jsonl", db.config());
  CHECK(back == db);
  CHECK(run::read_jsonl(dir / "programs.jsonl").size() == db.size() + 1);
  {  // the per-generation log (S8) appended record by record
    run::jsonl_appender log(dir / "generations.jsonl", true);
    for (const auto& r : t.log) log.append(r);
  }
  const auto logged = run::read_jsonl(dir / "generations.jsonl");
  REQUIRE(logged.size() == t.log.size());
  CHECK(logged[17] == t.log[17]);
  for (const char* key : {"best_score", "archive_mean_score", "archive_median_score", "archive_size",
                          "island_sizes", "migrations", "novelty_rejections", "bandit"})
    CHECK(logged.back().contains(key));

  // program text payloads, metadata, NaN descriptors
  program_database<std::string> texts(one_island(), 3);
  candidate<std::string> c;
  c.payload = "G * m_j * pow(r2 + eps2, -1.5)";
  c.combined_score = 1.25;
  c.correct = true;
  c.metadata = {{"patch_type", "full"}, {"feedback", "line\nbreak \"quoted\""}};
  c.private_metrics = {{"hidden", -0.5}};
  texts.add(c);
  c.parent_id = 0;
  c.generation = 1;
  c.descriptors = {0.1, std::nan("")};
  texts.add(c);
  texts.save_jsonl(dir / "texts.jsonl");
  const auto tb = program_database<std::string>::load_jsonl(dir / "texts.jsonl", one_island());
  CHECK(tb.to_jsonl() == texts.to_jsonl());
  CHECK(tb[0] == texts[0]);
  CHECK(std::isnan(tb[1].descriptors[1]));

  // errors name the file and the rule
  auto wrong = db.config();
  wrong.num_islands = 3;
  CHECK_THROWS_AS((void)program_database<program>::load_jsonl(dir / "programs.jsonl", wrong),
                  run::format_error);
  {
    auto text = texts.to_jsonl();
    const auto pos = text.find("\"payload\"");
    text.replace(pos, 9, "\"paylaod\"");
    run::write_file_atomic(dir / "broken.jsonl", text);
    CHECK_THROWS_WITH_AS(
        (void)program_database<std::string>::load_jsonl(dir / "broken.jsonl", one_island()),
        doctest::Contains("line 2: malformed record"), run::format_error);
  }
  run::write_file_atomic(dir / "bad.jsonl", "{\"kind\":\"something\"}\n");
  CHECK_THROWS_WITH_AS((void)program_database<program>::load_jsonl(dir / "bad.jsonl", db.config()),
                       doctest::Contains("bad.jsonl"), run::format_error);
}

TEST_CASE("population: checkpoint round trip and bitwise resume") {
  auto cfg = toy_config();
  cfg.evolution.num_generations = 60;
  deferred_executor<> fifo;
  auto t = run_toy(fifo, cfg);
  state_writer w;
  t.search.save(w);
  island_search<program> resumed(cfg);
  state_reader r(w.bytes(), "mem");
  resumed.load(r);
  r.expect_end();
  CHECK(resumed.database() == t.search.database());
  CHECK(resumed.bandit() == t.search.bandit());
  // continue both sequentially: identical records and logs
  for (std::uint64_t b = 60; b < 90; ++b) {
    auto p1 = t.search.propose(b, toy_make);
    auto p2 = resumed.propose(b, toy_make);
    auto e1 = toy_evaluate(p1), e2 = toy_evaluate(p2);
    CHECK(t.search.commit(std::move(p1), std::move(e1)) == resumed.commit(std::move(p2), std::move(e2)));
  }
  CHECK(resumed.database() == t.search.database());
  // a database checkpoint with the wrong island count is refused
  auto other = cfg;
  other.database.num_islands = 2;
  island_search<program> wrong(other);
  state_reader r2(w.bytes(), "mem");
  CHECK_THROWS_AS(wrong.load(r2), state_error);
}

TEST_CASE("population: config errors name field, value and rule") {
  database_config d;
  d.num_islands = 0;
  CHECK_THROWS_WITH_AS(validate(d), doctest::Contains("num_islands = 0"), config_error);
  d = {};
  d.migration_rate = 1.5;
  CHECK_THROWS_WITH_AS(validate(d), doctest::Contains("migration_rate"), config_error);
  island_search_config c;
  c.evolution.patch_types = {patch_type::diff, patch_type::full};
  c.evolution.patch_type_probs = {0.5, 0.4};
  try {
    validate(c);
    FAIL("expected config_error");
  } catch (const config_error& e) {
    CHECK(e.field == "evolution.patch_type_probs");
    CHECK(e.rule.find("sum to 1") != std::string::npos);
  }
  c.evolution.patch_type_probs = {1.0};
  CHECK_THROWS_WITH_AS(validate(c), doctest::Contains("one probability per entry"), config_error);
  c = {};
  c.bandit.epsilon = -0.1;
  CHECK_THROWS_WITH_AS(validate(c), doctest::Contains("bandit.epsilon"), config_error);
  CHECK_THROWS_AS((void)program_database<program>(d), config_error);
  // presets are valid
  validate(genesis_defaults());
  validate(circle_packing(6));
  validate(island_small());
  validate(island_medium());
  validate(island_large());
  validate(budget_small());
  validate(budget_medium());
  validate(budget_large());
  validate(bandit_medium());
  CHECK(island_medium().migration_rate == 0.0);
  CHECK(island_large().num_islands == 5);
  // bad calls
  program_database<program> db(one_island(), 0);
  CHECK_THROWS_AS((void)db.sample(1), std::logic_error);
  db.add(make_candidate(1.0, true, 0));
  CHECK_THROWS_AS(db.add(make_candidate(1.0, true, 1, 3)), std::invalid_argument);
  CHECK_THROWS_AS(db.add(make_candidate(1.0, true, 1, no_island, 5)), std::invalid_argument);
}
