// The five concepts: every shipped policy models its concept, misuse is rejected at compile time,
// and a minimal user-written strategy and crucible (the "write your own" reference) run through
// dphys::evolve and obey the search_strategy laws (same seed => same ask sequence; tell advances
// the generation).
#include <cstdint>
#include <span>
#include <vector>

#include <doctest/doctest.h>

#include <dphys/dphys.hpp>

using namespace dphys;

// Shipped models.
static_assert(environment<envs::chemotaxis, float>);
static_assert(environment<envs::chemotaxis, simd::native>);
static_assert(environment<envs::chemotaxis, simd::emulated<float, 3>>);
static_assert(genome<genomes::direct_genome>);
static_assert(plasticity_rule<plasticity::eligibility_trace>);
static_assert(crucible<crucibles::chemotaxis_rollout, crucibles::rollout_keys>);
static_assert(crucible<experiments::koki2_pipeline::crucible_type, crucibles::rollout_keys>);
static_assert(search_strategy<search::openai_es>);
// Misuse: a strategy where a crucible goes and vice versa; a plain number is no lane type.
static_assert(!crucible<search::openai_es, crucibles::rollout_keys>);
static_assert(!search_strategy<crucibles::chemotaxis_rollout>);
static_assert(!environment<envs::chemotaxis, double>);
static_assert(!simd::lane_type<int>);

namespace {

/// Minimal crucible: negated sphere function (maximised at 0).
struct sphere {
  std::size_t dim = 3;
  struct result {
    std::vector<float> fitness;
  };
  [[nodiscard]] std::size_t genome_size() const { return dim; }
  [[nodiscard]] result evaluate(std::span<const float> pop, const crucibles::rollout_keys&) const {
    result r;
    for (std::size_t i = 0; i < pop.size() / dim; ++i) {
      float s = 0;
      for (std::size_t j = 0; j < dim; ++j) s += pop[i * dim + j] * pop[i * dim + j];
      r.fitness.push_back(-s);
    }
    return r;
  }
};

/// Minimal strategy: (1, λ) random search around the best so far.
struct random_search {
  using value_type = float;
  explicit random_search(std::vector<float> start) : centre(std::move(start)) {}
  std::vector<float> centre, pop, best_;
  std::size_t lambda = 8;
  std::uint64_t seed = 1;
  std::uint32_t gen = 0;
  std::span<const float> ask() {
    pop.resize(lambda * centre.size());
    const auto key = random_key::make(seed, stream_id::user, gen, 0);
    for (std::size_t i = 0; i < lambda; ++i)
      for (std::size_t j = 0; j < centre.size(); ++j)
        pop[i * centre.size() + j] =
            centre[j] + 0.3f * normal<float>(key, static_cast<std::uint32_t>(i), 0u,
                                             static_cast<std::uint32_t>(j));
    return pop;
  }
  void tell(std::span<const float> f) {
    std::size_t b = 0;
    for (std::size_t i = 1; i < f.size(); ++i)
      if (f[i] > f[b]) b = i;
    centre.assign(pop.begin() + static_cast<std::ptrdiff_t>(b * centre.size()),
                  pop.begin() + static_cast<std::ptrdiff_t>((b + 1) * centre.size()));
    best_ = centre;
    ++gen;
  }
  [[nodiscard]] std::size_t dimension() const { return centre.size(); }
  [[nodiscard]] std::size_t population_size() const { return lambda; }
  [[nodiscard]] std::uint32_t generation() const { return gen; }
  [[nodiscard]] std::span<const float> best() const { return best_; }
};
static_assert(search_strategy<random_search>);
static_assert(crucible<sphere, crucibles::rollout_keys>);

}  // namespace

TEST_CASE("concepts: a user-written strategy and crucible run through evolve and obey the laws") {
  random_search a({2.0f, -1.0f, 0.5f});
  random_search b({2.0f, -1.0f, 0.5f});
  std::vector<float> best;
  evolve(a, sphere{}, evolve_options{30, 1},
         [&](const generation_record& r, const random_search&) { best.push_back(r.best_fitness); });
  CHECK(a.generation() == 30);
  CHECK(best.size() == 30);
  CHECK(best.back() > -0.05f);  // from −5.25 at the start
  CHECK(best.back() >= best.front());
  evolve(b, sphere{}, evolve_options{30, 1});
  CHECK(a.centre == b.centre);  // same seed, same tells: same ask sequence
  // evolve refuses a strategy whose dimension differs from the crucible's genome size.
  random_search c({1.0f, 2.0f});
  CHECK_THROWS_WITH(evolve(c, sphere{}, evolve_options{1, 1}), doctest::Contains("dimension (2)"));
}

TEST_CASE("concepts: openai_es laws — same seed, same asks, tell advances the generation") {
  search::openai_es_config cfg;
  cfg.pop_size = 6;
  search::openai_es x(cfg, {0.1f, 0.2f, 0.3f}, 9), y(cfg, {0.1f, 0.2f, 0.3f}, 9);
  for (int g = 0; g < 3; ++g) {
    const auto px = x.ask();
    const auto py = y.ask();
    CHECK(std::vector<float>(px.begin(), px.end()) == std::vector<float>(py.begin(), py.end()));
    std::vector<float> f(6);
    for (std::size_t i = 0; i < 6; ++i) f[i] = px[i * 3];
    x.tell(f);
    y.tell(f);
    CHECK(x.generation() == static_cast<std::uint32_t>(g + 1));
  }
  std::vector<float> wrong(5);
  x.ask();
  CHECK_THROWS_WITH(x.tell(wrong), doctest::Contains("5 fitness values for a population of 6"));
}
