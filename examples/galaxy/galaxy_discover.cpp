// dphys_galaxy_discover — discovers a surrogate for gravity from trajectories alone: reference
// leapfrog runs on two-body, three-body and Plummer initial conditions are cut into snapshots, the
// Galaxy GA over expression programs searches pair kernels (optionally with candidates from an
// external proposer, --proposer=CMD, or the built-in mock, --proposer=mock), and the law found is
// printed and rolled out for 100 steps against the drift-only null model.
//
//   dphys_galaxy_discover                         # default budget (a few seconds on one core)
//   dphys_galaxy_discover --population=40 --generations=4 --history=h.jsonl
//   dphys_galaxy_discover --proposer='python3 my_llm_proposer.py' --proposer_timeout=60
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/hana/adapt_struct.hpp>
#include <fmt/core.h>

#include <dphys/core/config.hpp>
#include <dphys/surrogate/discovery.hpp>
#include <dphys/surrogate/proposer.hpp>

namespace example {

struct galaxy_discover_config {
  dphys::surrogate::discovery_config discovery{};
  std::string proposer;             ///< "" none, "mock" built-in, else a shell command
  double proposer_timeout = 30.0;   ///< seconds per proposer call
  int proposals = 4;                ///< programs asked for per generation
  std::string history;              ///< write the GA history (JSONL) here when not empty
  double require_improvement = 0;   ///< exit status 2 when null RMSE / RMSE is below this

  void check(dphys::config_checker<galaxy_discover_config>& c) const {
    c(&galaxy_discover_config::proposer_timeout).greater_than(0.0).finite();
    c(&galaxy_discover_config::proposals).in_range(0, 10000);
    c(&galaxy_discover_config::require_improvement).at_least(0.0).finite();
  }
};

}  // namespace example

BOOST_HANA_ADAPT_STRUCT(example::galaxy_discover_config, discovery, proposer, proposer_timeout,
                        proposals, history, require_improvement);

int main(int argc, char** argv) {
  using namespace dphys;
  using namespace dphys::surrogate;
  try {
    example::galaxy_discover_config cfg;
    if (dphys::wants_help(argc, argv)) {
      fmt::print("usage: dphys_galaxy_discover [--key=value ...]   (defaults shown)\n{}",
                 describe(cfg));
      return 0;
    }
    apply_overrides(cfg, argc - 1, argv + 1);
    validate(cfg);
    const auto& d = cfg.discovery;
    fmt::print("dphys_galaxy_discover: GA population {} x {} generations, seed {}, dt {}, "
               "reference leapfrog with G={} eps={}; proposer: {}\n",
               d.population, d.generations, d.seed, d.dt, d.G, d.eps,
               cfg.proposer.empty() ? "none" : cfg.proposer);

    // proposal hook: built-in mock or an external command
    mock_proposer mock;
    std::unique_ptr<process_proposer> proc;
    std::function<std::vector<program>(int, const std::vector<const member<program>*>&)> source;
    auto log = [](const proposal_outcome& o) {
      fmt::print("  proposer: {} ({} valid, {} rejected){}{}\n", enum_name(o.status),
                 o.programs.size(), o.rejected.size(), o.message.empty() ? "" : ": ",
                 o.message);
    };
    if (cfg.proposer == "mock") {
      source = ga_proposal_source(mock, cfg.proposals, d.seed, log);
    } else if (!cfg.proposer.empty()) {
      proposer_config pc;
      pc.command = cfg.proposer;
      pc.timeout_seconds = cfg.proposer_timeout;
      proc = std::make_unique<process_proposer>(pc);
      source = ga_proposal_source(*proc, cfg.proposals, d.seed, log);
    }

    const auto t0 = std::chrono::steady_clock::now();
    const auto r = discover(d, source, [](const surrogate::generation_record& g) {
      fmt::print("generation {:3d}  best skill {:.9f}  average {:.6f}\n", g.generation, g.best,
                 g.average);
      std::fflush(stdout);
    });
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    if (!cfg.history.empty())
      write_history_jsonl(cfg.history, r.search.history,
                          {{"test_problem", "discovery"},
                           {"num_particles", nullptr},
                           {"seed", d.seed}});

    fmt::print("\ndiscovered law (pair acceleration = s * (x_j - x_i)):\n  s = {}\n", r.law);
    fmt::print("program:\n{}", print_program(r.best));
    fmt::print("one-step (snapshots): accuracy {:.9f}, error relative to null {:.3g}\n",
               r.one_step.accuracy, r.one_step.relative_error);
    fmt::print("{}-step rollout (4 few-body systems): RMSE {:.4g} vs null model {:.4g}  -> {:.4g}x "
               "better; energy drift {:.3g} (null {:.3g})\n",
               d.rollout_steps, r.rollout.rollout.rmse, r.null_rollout.rollout.rmse,
               r.improvement, r.rollout.rollout.energy_drift,
               r.null_rollout.rollout.energy_drift);
    {
      // the chaotic control: a Plummer sphere with close encounters
      crucible_config mc;
      mc.mode = crucible_mode::multi_step;
      mc.steps = d.rollout_steps;
      mc.dt = d.dt;
      mc.G = d.G;
      mc.eps = d.eps;
      const surrogate_crucible plummer(mc, {discovery_initial_conditions(d.G).back()});
      const auto e = plummer.evaluate(r.best);
      fmt::print("chaotic control (Plummer N=6, not used for the ratio): RMSE {:.4g} vs null {:.4g}\n",
                 e.rollout.rmse, plummer.null_result().rollout.rmse);
    }
    fmt::print("search: {} program evaluations (plus constant optimisation) in {:.2f} s; rejections:",
               r.search.evaluations, secs);
    for (std::size_t k = 1; k < rejection_count; ++k)
      if (r.search.rejections[k] > 0)
        fmt::print(" {}={}", enum_name(static_cast<rejection>(k)), r.search.rejections[k]);
    fmt::print("\n");
    if (r.improvement < cfg.require_improvement) {
      fmt::print(stderr, "dphys_galaxy_discover: improvement {:.4g} is below the required {:.4g}\n",
                 r.improvement, cfg.require_improvement);
      return 2;
    }
    return 0;
  } catch (const std::exception& ex) {
    fmt::print(stderr, "dphys_galaxy_discover: error: {}\n", ex.what());
    return 1;
  }
}
