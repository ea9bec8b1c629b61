// dphys_bench_rollout — agent-steps per second of the koki2 rollout crucible (spec K14), one JSON object
// per line. Same workload as ../shared/peers' chemo_rollout: `pop` genomes ~ N(0, 0.1²) × `episodes`
// episodes × `steps` steps. `l0` = koki2's CLI defaults; `ladder` = 4 sources, 2 bad (integrity loss 0.25),
// depletion with respawn delay 4, gradient dropout 0.5. Plasticity on = spike modulator, η 0.05, λ 0.9.
// --crucible=generic runs the same world, network and rule through crucibles::episodic_rollout
// (envs::chemotaxis_task; the same actions, fitness = the return): the generic path's speed.
#include <dphys/crucibles/episodic.hpp>
#include <dphys/envs/chemotaxis_task.hpp>
#include <dphys/experiments/koki2.hpp>

#include "bench_workload.hpp"

#include <fmt/format.h>
#include <dphys/core/json.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace {

using bench::bench_env;
using bench::on_off;

enum class crucible_kind { koki2, generic };
constexpr auto enum_names(crucible_kind) {
  return std::array{std::pair{crucible_kind::koki2, std::string_view{"koki2"}},
                    std::pair{crucible_kind::generic, std::string_view{"generic"}}};
}

struct bench_config {
  bench_env config = bench_env::l0;
  on_off plasticity = on_off::off;
  crucible_kind crucible = crucible_kind::koki2;  ///< koki2's chemotaxis_rollout or episodic_rollout
  dphys::experiments::lane_impl impl = dphys::experiments::lane_impl::simd;
  int threads = 1;
  int pop = 256;
  int episodes = 4;
  int steps = 128;
  int reps = 7;
  std::uint64_t seed = 0;
  int n_neurons = 32;  ///< network size (issue: efficiency at N = 64, k = 16)
  int k_edges = 8;
  bool fma_peak = true;  ///< also measure the core's FMA peak (fraction achieved) and the simd ÷ scalar add ceiling
  double warmup_s = 0.25;  ///< untimed evaluations for at least this long first (at least one; bench::warm_up)

  void check(dphys::config_checker<bench_config>& c) const {
    c(&bench_config::threads).at_least(1).at_most(1024);
    c(&bench_config::pop).at_least(1);
    c(&bench_config::episodes).at_least(1);
    c(&bench_config::steps).at_least(1);
    c(&bench_config::reps).at_least(1);
    c(&bench_config::n_neurons).at_least(1).at_most(4096);
    c(&bench_config::k_edges).at_least(0).at_most(4096);
    c(&bench_config::warmup_s).in_range(0.0, 600.0);
  }
};

}  // namespace

BOOST_HANA_ADAPT_STRUCT(bench_config, config, plasticity, crucible, impl, threads, pop, episodes, steps, reps, seed, n_neurons,
                        k_edges, fma_peak, warmup_s);

int main(int argc, char** argv) {
  using namespace dphys;
  try {
    bench_config bc;
    if (!bench::apply_bench_arguments(bc, argc, argv, "dphys_bench_rollout")) return 0;

    auto cfg = bench::workload(bc.config, bc.plasticity, bc.steps);
    cfg.seed = bc.seed;
    cfg.threads = bc.threads;
    cfg.rollout.episodes = bc.episodes;
    cfg.agent.n_neurons = bc.n_neurons;
    cfg.agent.k_edges = bc.k_edges;
    validate(cfg);
    const auto pipeline = experiments::koki2_pipeline::make(cfg);
    const auto& rollout = pipeline.rollout();
    const std::size_t d = pipeline.genome.size();
    std::vector<float> pop(static_cast<std::size_t>(bc.pop) * d);
    for (int m = 0; m < bc.pop; ++m)
      pipeline.genome.init(bc.seed, static_cast<std::uint32_t>(m), std::span(pop).subspan(static_cast<std::size_t>(m) * d, d));

    std::vector<double> times, cpu_times;
    cfg.impl = bc.impl;
    const envs::chemotaxis_drive drive{cfg.fitness.setpoint_energy, cfg.fitness.setpoint_integrity,
                                       cfg.fitness.drive_w_energy, cfg.fitness.drive_w_integrity};
    const crucibles::episodic_rollout<envs::chemotaxis_task> generic(
        envs::chemotaxis_task(rollout.env().config(), drive), rollout.network(),
        rollout.rule().config(), rollout.config());
    struct {
      std::vector<float> fitness;
      std::uint64_t agent_steps = 0;
    } ev;
    auto evaluate = [&] {
      const crucibles::rollout_keys keys{bc.seed, 0, 0, 0};
      const bool native = cfg.impl == experiments::lane_impl::simd;
      if (bc.crucible == crucible_kind::generic) {
        auto g = native ? generic.evaluate<simd::native>(pop, keys) : generic.evaluate<float>(pop, keys);
        ev.fitness = std::move(g.fitness);
        ev.agent_steps = g.agent_steps;
      } else {
        auto k = experiments::evaluate_with(cfg.impl, rollout, pop, keys);
        ev.fitness = std::move(k.fitness);
        ev.agent_steps = k.agent_steps;
      }
    };
    const int warmup_evaluations = bench::warm_up(bc.warmup_s, evaluate);  // caches, threads spread
    for (int r = 0; r < bc.reps; ++r) {
      // The CPU clocks are read outside the wall-clock window (a reading takes ≈ 8 µs).
      const double c0 = bench::process_cpu_seconds();
      const auto t0 = std::chrono::steady_clock::now();
      evaluate();
      const auto t1 = std::chrono::steady_clock::now();
      const double c1 = bench::process_cpu_seconds();
      times.push_back(std::chrono::duration<double>(t1 - t0).count());
      cpu_times.push_back(c1 - c0);
    }
    const double median = bench::median(times), cpu_median = bench::median(cpu_times);
    const auto& net = rollout.network();
    const std::size_t n_edges = net.edges().size();
    const double flops_per_step =
        bench::kernel_flops_per_agent_step(cfg, n_edges, net.layout().obs_dim, net.layout().num_actions);
    const double steps_per_s = static_cast<double>(ev.agent_steps) / median;
    const double peak = bc.fma_peak ? bench::fma_peak_flops() : 0.0;
    const auto [vec_adds, scalar_adds] = bc.fma_peak ? bench::add_lane_rates() : std::pair{0.0, 0.0};
    const double kernel_flops = flops_per_step * steps_per_s;
    double mean_fitness = 0;
    for (float f : ev.fitness) mean_fitness += f;
    mean_fitness /= static_cast<double>(ev.fitness.size());
    dphys::json j{{"bench", "rollout"},
                     {"config", bc.config == bench_env::l0 ? "l0" : "ladder"},
                     {"plasticity", bc.plasticity == on_off::on ? "on" : "off"},
                     {"crucible", std::string(enum_name(bc.crucible))},
                     {"impl", bc.impl == experiments::lane_impl::simd ? "simd" : "scalar"},
                     {"arch", bc.impl == experiments::lane_impl::simd ? std::string(simd::arch_name<simd::native>()) : "scalar"},
                     {"lanes", bc.impl == experiments::lane_impl::simd ? simd::lanes_v<simd::native> : 1},
                     {"threads", bc.threads},
                     {"pop", bc.pop},
                     {"episodes", bc.episodes},
                     {"steps", bc.steps},
                     {"agent_steps", ev.agent_steps},
                     {"warmup_evaluations", warmup_evaluations},
                     {"times_s", times},
                     {"median_s", median},
                     {"agent_steps_per_s", static_cast<double>(ev.agent_steps) / median},
                     {"cpu_times_s", cpu_times},
                     {"agent_steps_per_cpu_s", static_cast<double>(ev.agent_steps) / cpu_median},
                     {"load_average_1min", bench::load_average()},
                     {"n_neurons", bc.n_neurons},
                     {"n_edges", n_edges},
                     {"edge_updates_per_s", steps_per_s * static_cast<double>(n_edges)},
                     {"kernel_flops_per_agent_step", flops_per_step},
                     {"kernel_gflops", kernel_flops * 1e-9},
                     {"fma_peak_gflops_per_core", peak * 1e-9},
                     // the arithmetic ceiling of simd ÷ scalar on this core (bench::add_lane_rates)
                     {"simd_scalar_add_ceiling", scalar_adds > 0 ? vec_adds / scalar_adds : 0.0},
                     {"fma_peak_fraction", peak > 0 ? kernel_flops / (peak * bc.threads) : 0.0},
                     // the fastest evaluation: the host's slow phases only ever add time
                     {"fma_peak_fraction_best",
                      peak > 0 ? flops_per_step * static_cast<double>(ev.agent_steps) /
                                     *std::min_element(times.begin(), times.end()) / (peak * bc.threads)
                               : 0.0},
                     {"fma_peak_fraction_cpu_time",
                      peak > 0 ? flops_per_step * static_cast<double>(ev.agent_steps) / cpu_median / peak : 0.0},
                     {"mean_fitness", mean_fitness},
                     {"library_version", version_string}};
    std::cout << j.dump() << std::endl;
    return 0;
  } catch (const std::exception& ex) {
    std::cerr << "dphys_bench_rollout: error: " << ex.what() << '\n';
    return 2;
  }
}
