// dphys/nbody/integrators.hpp — time steppers for particles<T> under a force_law: leapfrog_kdk
// (the reference, Galaxy's crucible), symplectic_euler (Galaxy's direct_nbody baseline) and
// explicit_euler, plus `integrate`. Extension point: any type satisfying `integrator`.
//
// Cost: every force pass adds N(N − 1) to workspace::count.pair_evaluations (the deterministic
//   cost unit of the surrogate crucible, spec §0.4) and 1 to count.force_passes.
// Determinism: a step is a fixed sequence of force passes (force.hpp) and element-wise IEEE
//   updates, so results are a pure function of (particles, force law, dt, build).
// Thread safety: policies are stateless values; a workspace belongs to one thread.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <vector>

#include <dphys/nbody/force.hpp>
#include <dphys/nbody/particles.hpp>

namespace dphys::nbody {

/// Deterministic cost of what an integrator (or a baseline) did.
struct force_counter {
  std::uint64_t pair_evaluations = 0;      ///< Σ over force passes of N(N − 1)
  std::uint64_t force_passes = 0;          ///< number of O(N²) acceleration passes
  std::uint64_t distance_evaluations = 0;  ///< r² computed only to select neighbours (k-NN)
  force_counter& operator+=(const force_counter& o) {
    pair_evaluations += o.pair_evaluations;
    force_passes += o.force_passes;
    distance_evaluations += o.distance_evaluations;
    return *this;
  }
  friend bool operator==(const force_counter&, const force_counter&) = default;
};

/// Scratch space of a stepper: accelerations and the running cost counter. Reusable across steps
/// and particle counts (arrays are resized as needed).
template <class T = double>
struct workspace {
  std::vector<T> ax, ay, az;
  force_counter count;
};

namespace detail {
template <class T, class Force>
void force_pass(const particles<T>& p, const Force& f, workspace<T>& w) {
  accelerations(p, f, w.ax, w.ay, w.az);
  w.count.pair_evaluations += pair_evaluations(p.size());
  w.count.force_passes += 1;
}
// v += a·h
template <class T>
void kick(particles<T>& p, const workspace<T>& w, T h) {
  for (std::size_t i = 0; i < p.size(); ++i) {
    p.vx[i] += w.ax[i] * h;
    p.vy[i] += w.ay[i] * h;
    p.vz[i] += w.az[i] * h;
  }
}
// x += v·h
template <class T>
void drift(particles<T>& p, T h) {
  for (std::size_t i = 0; i < p.size(); ++i) {
    p.x[i] += p.vx[i] * h;
    p.y[i] += p.vy[i] * h;
    p.z[i] += p.vz[i] * h;
  }
}
}  // namespace detail

/// Kick-drift-kick leapfrog (velocity Verlet): v += a(x)·dt/2; x += v·dt; v += a(x')·dt/2.
/// Second order, symplectic, time reversible. Two force passes per step (as in Galaxy; forces are
/// not carried over between steps, so the particles may be edited between steps).
struct leapfrog_kdk {
  static constexpr std::string_view name = "leapfrog_kdk";
  static constexpr int force_passes_per_step = 2;
  template <std::floating_point T, class Force>
  requires force_law<Force, T>
  void step(particles<T>& p, const Force& f, T dt, workspace<T>& w) const {
    const T h = dt / T(2);
    detail::force_pass(p, f, w);
    detail::kick(p, w, h);
    detail::drift(p, dt);
    detail::force_pass(p, f, w);
    detail::kick(p, w, h);
  }
};

/// Symplectic (semi-implicit) Euler, kick then drift: v' = v + a(x)·dt; x' = x + v'·dt.
/// First order, symplectic. One force pass per step. Galaxy's direct_nbody baseline.
struct symplectic_euler {
  static constexpr std::string_view name = "symplectic_euler";
  static constexpr int force_passes_per_step = 1;
  template <std::floating_point T, class Force>
  requires force_law<Force, T>
  void step(particles<T>& p, const Force& f, T dt, workspace<T>& w) const {
    detail::force_pass(p, f, w);
    detail::kick(p, w, dt);
    detail::drift(p, dt);
  }
};

/// Explicit (forward) Euler: x' = x + v·dt; v' = v + a(x)·dt. First order, not symplectic
/// (energy grows on bound orbits). One force pass per step.
struct explicit_euler {
  static constexpr std::string_view name = "explicit_euler";
  static constexpr int force_passes_per_step = 1;
  template <std::floating_point T, class Force>
  requires force_law<Force, T>
  void step(particles<T>& p, const Force& f, T dt, workspace<T>& w) const {
    detail::force_pass(p, f, w);
    detail::drift(p, dt);
    detail::kick(p, w, dt);
  }
};

/// integrator<I, T, Force> — advances particles<T> by one step of size dt.
/// Minimal complete definition: i.step(particles<T>&, const Force&, T dt, workspace<T>&).
/// Laws: (purity) the new state depends only on (state, force law, dt); masses are unchanged;
///   each force pass adds N(N − 1) to w.count.pair_evaluations.
template <class I, class T = double, class Force = softened_newton>
concept integrator = requires(const I& integ, particles<T>& p, const Force& f, T dt,
                              workspace<T>& w) {
  integ.step(p, f, dt, w);
};

/// Advances p by `steps` steps of size dt with Integrator; returns the cost of this call.
template <class Integrator, std::floating_point T, class Force>
requires integrator<Integrator, T, Force> force_counter integrate(particles<T>& p, const Force& f,
                                                                  std::type_identity_t<T> dt,
                                                                  int steps, workspace<T>& w,
                                                                  const Integrator& integ = {}) {
  const force_counter before = w.count;
  for (int s = 0; s < steps; ++s) integ.step(p, f, dt, w);
  return {w.count.pair_evaluations - before.pair_evaluations,
          w.count.force_passes - before.force_passes,
          w.count.distance_evaluations - before.distance_evaluations};
}

/// As above with a fresh workspace.
template <class Integrator, std::floating_point T, class Force>
requires integrator<Integrator, T, Force> force_counter integrate(particles<T>& p, const Force& f,
                                                                  std::type_identity_t<T> dt,
                                                                  int steps) {
  workspace<T> w;
  return integrate<Integrator>(p, f, dt, steps, w);
}

}  // namespace dphys::nbody
