// dphys/surrogate/discovery.hpp — surrogate discovery from trajectories alone: reference leapfrog
// runs on several two-body, three-body and Plummer initial conditions are cut into snapshots; the
// Galaxy GA over expression programs (optionally fed by the proposal hook) searches pair kernels on
// the one-step skill; the best program is then rolled out for `rollout_steps` steps and compared
// with the drift-only null model. Used by examples/galaxy (dphys_galaxy_discover) and its tests.
// Extension point: discovery_config (Hana-reflected) and the proposer callable.
//
// Determinism: a pure function of (config, build) when no external proposer is used.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <dphys/core/config_check.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/nbody/initial_conditions.hpp>
#include <dphys/nbody/particles.hpp>
#include <dphys/surrogate/crucible.hpp>
#include <dphys/surrogate/galaxy_ga.hpp>
#include <dphys/surrogate/text.hpp>
#include <dphys/surrogate/variation.hpp>

namespace dphys::surrogate {

struct discovery_config {
  std::uint64_t seed = 1;
  int population = 200;
  int generations = 30;
  double elite_fraction = 0.2;
  int optimise_sweeps = 6;         ///< constant optimisation of elites (one-step loss)
  int optimise_evaluations = 150;
  int max_size = 24;               ///< offspring size limit (nodes)
  int init_depth = 3;
  bool velocity_terms = false;     ///< offer dvx, dvy, dvz, dv2, rdotv to the search
  bool position_components = false;  ///< offer dx, dy, dz to the search
  int snapshots = 3;               ///< per reference trajectory
  int snapshot_every = 7;          ///< steps between snapshots
  int rollout_steps = 100;         ///< multi-step check of the result
  double parsimony = 2e-6;         ///< skill × (1 − parsimony·size): prefer the shorter of near-equal laws
  double dt = 0.1;
  double G = 1.0;
  double eps = 0.01;

  void check(config_checker<discovery_config>& c) const {
    c(&discovery_config::population).in_range(2, 1 << 20);
    c(&discovery_config::generations).in_range(1, 1 << 20);
    c(&discovery_config::elite_fraction).in_range(0.0, 1.0);
    c(&discovery_config::optimise_sweeps).in_range(0, 1000);
    c(&discovery_config::optimise_evaluations).in_range(1, 1 << 20);
    c(&discovery_config::max_size).in_range(1, 2000);
    c(&discovery_config::init_depth).in_range(1, 16);
    c(&discovery_config::snapshots).in_range(1, 1000);
    c(&discovery_config::snapshot_every).in_range(1, 100000);
    c(&discovery_config::rollout_steps).in_range(1, 1000000);
    c(&discovery_config::parsimony).in_range(0.0, 0.01);
    c(&discovery_config::dt).greater_than(0.0).finite();
    c(&discovery_config::G).greater_than(0.0).finite();
    c(&discovery_config::eps).at_least(0.0).finite();
  }
};

}  // namespace dphys::surrogate

DPHYS_ADAPT_STRUCT(dphys::surrogate::discovery_config, seed, population, generations,
                   elite_fraction, optimise_sweeps, optimise_evaluations, max_size, init_depth,
                   velocity_terms, position_components, snapshots, snapshot_every, rollout_steps,
                   parsimony, dt, G, eps);

namespace dphys::surrogate {

/// Two bodies of masses m1, m2 on a circular orbit of separation d in the x–y plane (centre of
/// mass at rest at the origin).
inline nbody::particles<double> circular_binary(double m1, double m2, double d, double G = 1.0) {
  const double M = m1 + m2, v = std::sqrt(G * M / d);
  nbody::particles<double> p;
  p.push_back({-d * m2 / M, 0, 0, 0, -v * m2 / M, 0, m1});
  p.push_back({d * m1 / M, 0, 0, 0, v * m1 / M, 0, m2});
  return p;
}

/// The reference initial conditions of discovery: equal- and unequal-mass binaries, a hierarchical
/// unequal-mass triple, the figure-eight orbit and (last) a small equilibrium Plummer sphere. All
/// five provide training snapshots; the multi-step check uses the first four, because the Plummer
/// sphere is chaotic with close encounters over 100 steps: any law not bit-identical to the
/// reference (even 1.0001 × the exact one) diverges there, so its rollout measures chaos, not the
/// law. The example reports it separately.
inline std::vector<nbody::particles<double>> discovery_initial_conditions(double G = 1.0) {
  std::vector<nbody::particles<double>> ics;
  ics.push_back(nbody::two_body(1.0, 2.0, G));
  ics.push_back(circular_binary(1.5, 0.3, 2.0, G));
  nbody::particles<double> triple;  // central mass 3, inner 0.2 at r=1, outer 0.6 at r=2.5 (tilted)
  triple.push_back({0, 0, 0, 0, 0, 0, 3.0});
  triple.push_back({1.0, 0, 0, 0, std::sqrt(G * 3.0 / 1.0), 0, 0.2});
  const double vo = std::sqrt(G * 3.2 / 2.5);
  triple.push_back({-2.5, 0, 0, 0, -0.8 * vo, 0.6 * vo, 0.6});
  nbody::shift_to_centre_of_mass_frame(triple);
  ics.push_back(std::move(triple));
  ics.push_back(nbody::figure_eight());
  ics.push_back(nbody::plummer_equilibrium(6, 1.0, 1.0, G, 7));
  return ics;
}

struct discovery_result {
  program best;                 ///< simplified best program
  std::string law;              ///< its kernel with constants inlined, e.g. m_j * pow(r2, -1.5)
  evaluation one_step;          ///< on the snapshots (skill fitness)
  evaluation rollout;           ///< multi-step, on the initial conditions
  evaluation null_rollout;      ///< the drift-only null model, multi-step
  double improvement = 0;       ///< null RMSE / best RMSE (multi-step)
  ga_result<program> search;
};

/// Runs discovery. `proposer` (optional, see ga_proposal_source) adds external candidates each
/// generation; `on_generation` sees every generation record.
inline discovery_result discover(
    const discovery_config& cfg,
    std::function<std::vector<program>(int, const std::vector<const member<program>*>&)>
        proposer = {},
    std::function<void(const generation_record&)> on_generation = {}) {
  validate(cfg);
  const auto ics = discovery_initial_conditions(cfg.G);
  std::vector<nbody::particles<double>> snaps;
  for (const auto& ic : ics)
    for (auto& s : trajectory_snapshots(ic, cfg.snapshots, cfg.snapshot_every, cfg.dt, cfg.G, cfg.eps))
      snaps.push_back(std::move(s));

  crucible_config one;
  one.mode = crucible_mode::one_step;
  one.fitness = fitness_kind::skill;
  one.dt = cfg.dt;
  one.G = cfg.G;
  one.eps = cfg.eps;
  one.reject_domain_errors = true;  // laws that lean on protected semantics are not physics
  one.parsimony = cfg.parsimony;
  const surrogate_crucible train(one, snaps);

  program_ops ops;
  ops.crucible = &train;
  ops.variation.terminals = {op::r2, op::r, op::m_i, op::m_j};
  if (cfg.position_components)
    ops.variation.terminals.insert(ops.variation.terminals.end(), {op::dx, op::dy, op::dz});
  if (cfg.velocity_terms)
    ops.variation.terminals.insert(ops.variation.terminals.end(),
                                   {op::dvx, op::dvy, op::dvz, op::dv2, op::rdotv});
  ops.variation.max_size = cfg.max_size;
  ops.variation.init_depth = cfg.init_depth;
  ops.variation.w_structure = 0;  // neighbours: all, update: leapfrog (the reference's structure)
  ops.optimise_sweeps = cfg.optimise_sweeps;
  ops.optimise_evaluations = cfg.optimise_evaluations;
  ops.proposer = std::move(proposer);

  galaxy_ga_config gc;
  gc.population = cfg.population;
  gc.generations = cfg.generations;
  gc.elite_fraction = cfg.elite_fraction;
  gc.seed = cfg.seed;
  galaxy_ga<program_ops> ga(gc, std::move(ops));
  discovery_result r;
  r.search = ga.run([&](const generation_record& g) {
    if (on_generation) on_generation(g);
  });
  r.best = simplify(r.search.best.genome);
  r.law = print_kernel(simplify(inline_constants(r.best.kernel, r.best.constants)));
  r.one_step = train.evaluate(r.best);

  crucible_config multi = one;
  multi.mode = crucible_mode::multi_step;
  multi.steps = cfg.rollout_steps;
  multi.reject_domain_errors = false;
  multi.parsimony = 0;
  const surrogate_crucible test(multi, {ics.begin(), ics.end() - 1});
  r.rollout = test.evaluate(r.best);
  r.null_rollout = test.null_result();
  r.improvement = r.rollout.rejected() ? 0.0 : r.null_rollout.rollout.rmse / r.rollout.rollout.rmse;
  return r;
}

}  // namespace dphys::surrogate
