// dphys_bench_es — wall time per OpenAI-ES generation on the koki2 chemotaxis task, one JSON
// object per line. Same workload as ../shared/peers' chemo_es_generation records: koki2's OpenAI-ES
// (σ 0.1, lr 0.05, centred ranks, SGD), `pop` members × `episodes` episodes × `steps` steps, run
// through dphys::evolve. --config=l0: koki2's CLI defaults; --config=ladder as in
// dphys_bench_rollout. Plasticity on = spike modulator, η 0.05, λ 0.9. Each generation is split
// into evaluation (the crucible) and ES (ask + tell + statistics).
#include <algorithm>
#include <array>
#include <chrono>
#include <exception>
#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <dphys/core/json.hpp>

#include <dphys/experiments/koki2.hpp>

#include "bench_workload.hpp"

namespace {

using bench::bench_env;
using bench::on_off;

struct bench_config {
  bench_env config = bench_env::l0;
  on_off plasticity = on_off::off;
  dphys::experiments::lane_impl impl = dphys::experiments::lane_impl::simd;
  int threads = 1;
  int pop = 256;
  int episodes = 4;
  int steps = 128;
  int generations = 8;
  std::uint64_t seed = 0;
  double warmup_s = 0.25;  ///< untimed rollouts of a population of this size first (bench::warm_up)

  void check(dphys::config_checker<bench_config>& c) const {
    c(&bench_config::threads).at_least(1).at_most(1024);
    c(&bench_config::pop).at_least(2);
    c(&bench_config::episodes).at_least(1);
    c(&bench_config::steps).at_least(1);
    c(&bench_config::generations).at_least(1);
    c(&bench_config::warmup_s).in_range(0.0, 600.0);
  }
};

using seconds = std::chrono::duration<double>;
using steady = std::chrono::steady_clock;

/// Forwards to a search strategy and records how long each ask() and tell() took.
template <class Strategy>
struct timed_strategy {
  using value_type = typename Strategy::value_type;
  Strategy inner;
  std::vector<double> ask_s, tell_s;

  std::span<const float> ask() {
    const auto t0 = steady::now();
    const auto p = inner.ask();
    ask_s.push_back(seconds(steady::now() - t0).count());
    return p;
  }
  void tell(std::span<const float> fitness) {
    const auto t0 = steady::now();
    inner.tell(fitness);
    tell_s.push_back(seconds(steady::now() - t0).count());
  }
  [[nodiscard]] std::size_t dimension() const { return inner.dimension(); }
  [[nodiscard]] std::size_t population_size() const { return inner.population_size(); }
  [[nodiscard]] std::uint32_t generation() const { return inner.generation(); }
  [[nodiscard]] std::span<const float> best() const { return inner.best(); }
  [[nodiscard]] float best_fitness() const { return inner.best_fitness(); }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

}  // namespace

BOOST_HANA_ADAPT_STRUCT(bench_config, config, plasticity, impl, threads, pop, episodes, steps,
                        generations, seed, warmup_s);

int main(int argc, char** argv) {
  using namespace dphys;
  try {
    bench_config bc;
    if (!bench::apply_bench_arguments(bc, argc, argv, "dphys_bench_es")) return 0;

    auto cfg = bench::workload(bc.config, bc.plasticity, bc.steps);
    cfg.seed = bc.seed;
    cfg.threads = bc.threads;
    cfg.impl = bc.impl;
    cfg.generations = bc.generations;
    cfg.rollout.episodes = bc.episodes;
    cfg.es.pop_size = bc.pop;  // σ, lr, SGD: koki2's defaults
    validate(cfg);

    auto pipeline = experiments::koki2_pipeline::make(cfg);
    std::vector<float> mean(pipeline.genome.size());
    pipeline.genome.init(cfg.seed, 0, mean);
    timed_strategy<search::openai_es> es{
        search::openai_es(experiments::es_config(cfg), std::move(mean), cfg.seed), {}, {}};
    experiments::dispatching_crucible<experiments::koki2_pipeline::crucible_type> crucible{
        &pipeline.crucible, cfg.impl};

    // Warm-up on a population of the same size (the strategy's state is not touched).
    const std::size_t d = pipeline.genome.size();
    std::vector<float> warm(static_cast<std::size_t>(bc.pop) * d);
    for (int m = 0; m < bc.pop; ++m)
      pipeline.genome.init(cfg.seed + 1, static_cast<std::uint32_t>(m),
                           std::span(warm).subspan(static_cast<std::size_t>(m) * d, d));
    const int warmup_evaluations = bench::warm_up(bc.warmup_s, [&] {
      static_cast<void>(experiments::evaluate_with(cfg.impl, pipeline.rollout(), warm,
                                                   crucibles::rollout_keys{cfg.seed, 0, 0, 0}));
    });

    std::vector<double> gen_s, eval_s, es_s;
    std::uint64_t agent_steps = 0;
    float last_mean = 0;
    auto record = [&](const generation_record& r, const timed_strategy<search::openai_es>&) {
      gen_s.push_back(r.generation_seconds);
      eval_s.push_back(r.eval_seconds);
      es_s.push_back(r.generation_seconds - r.eval_seconds);
      agent_steps += r.agent_steps;
      last_mean = r.mean_fitness;
    };
    evolve(es, crucible, evolve_options{static_cast<std::uint32_t>(cfg.generations), cfg.seed},
           record);

    const double med_gen = median(gen_s), med_eval = median(eval_s);
    const auto steps_per_gen = static_cast<double>(agent_steps) / static_cast<double>(gen_s.size());
    dphys::json j{
        {"bench", "es_generation"},
        {"algo", "openai_es(koki2)"},
        {"config", bc.config == bench_env::l0 ? "l0" : "ladder"},
        {"plasticity", bc.plasticity == on_off::on ? "on" : "off"},
        {"impl", bc.impl == experiments::lane_impl::simd ? "simd" : "scalar"},
        {"arch", bc.impl == experiments::lane_impl::simd
                     ? std::string(simd::arch_name<simd::native>())
                     : "scalar"},
        {"lanes", bc.impl == experiments::lane_impl::simd ? simd::lanes_v<simd::native> : 1},
        {"threads", bc.threads},
        {"pop", bc.pop},
        {"dim", pipeline.genome.size()},
        {"episodes", bc.episodes},
        {"steps", bc.steps},
        {"generations", bc.generations},
        {"warmup_evaluations", warmup_evaluations},
        {"s_per_gen_all", gen_s},
        {"median_s_per_gen", med_gen},
        {"median_eval_s_per_gen", med_eval},
        {"median_es_s_per_gen", median(es_s)},  // ask + tell + statistics, per generation
        {"median_ask_s_per_gen", median(es.ask_s)},
        {"median_tell_s_per_gen", median(es.tell_s)},
        {"agent_steps_per_gen", steps_per_gen},
        {"eval_agent_steps_per_s", med_eval > 0 ? steps_per_gen / med_eval : 0.0},
        {"best_fitness", es.best_fitness()},
        {"last_mean_fitness", last_mean},
        {"library_version", version_string}};
    std::cout << j.dump() << std::endl;
    return 0;
  } catch (const std::exception& ex) {
    std::cerr << "dphys_bench_es: error: " << ex.what() << '\n';
    return 2;
  }
}
