// dphys/nbody/baselines.hpp — the reference surrogates of Galaxy's benchmark (spec G4/G7): the
// direct all-pairs model (Galaxy's direct_nbody), k-nearest-neighbour forces (Galaxy's kdtree
// baseline, here a deterministic selection) and the null model (drift x + v·dt).
// Extension point: the `baseline` concept (step(particles<T>&, T dt, workspace<T>&)).
//
// Cost: steps add to workspace::count — pair_evaluations (force-law evaluations actually made),
//   force_passes, distance_evaluations (r² computed only to rank neighbours).
// Determinism: every selection breaks ties by particle index; results are pure functions of
//   (state, dt, configuration, build).
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <dphys/nbody/force.hpp>
#include <dphys/nbody/integrators.hpp>
#include <dphys/nbody/particles.hpp>

namespace dphys::nbody {

/// Galaxy's baseline force law: G 1, ε 0.01, pairs with r² < 1e−10 skipped (by distance).
[[nodiscard]] inline softened_newton galaxy_direct_force(double G = 1.0, double eps = 0.01) {
  return {G, eps, pair_exclusion::by_distance, 1e-10};
}

/// Galaxy's direct_nbody: all pairs, by-distance skip rule, symplectic Euler (v' = v + a·dt,
/// x' = x + v'·dt). Note (spec §0.2): Galaxy scored this against itself; dphys's benchmark
/// scores it against leapfrog by default.
struct direct_baseline {
  static constexpr std::string_view name = "direct";
  softened_newton force = galaxy_direct_force();
  template <std::floating_point T>
  void step(particles<T>& p, std::type_identity_t<T> dt, workspace<T>& w) const {
    symplectic_euler{}.step(p, force, dt, w);
  }
};

/// k-nearest-neighbour forces: for each i, the k + 1 particles nearest to i (i itself included,
/// ranked by (r², index)) are its only sources, then the force law's exclusion rule applies (the
/// default by-distance rule drops i itself, as Galaxy's kdtree baseline does). Symplectic Euler.
/// Selection: all N distances per particle, std::nth_element, then a sort of the k + 1 selected:
/// O(N² + N k log k) expected time per step, O(N) memory — a deterministic stand-in for Galaxy's KD
/// tree (O(N log N) build + O(N k log N) queries); the pair-force cost is N·k.
struct knn_baseline {
  static constexpr std::string_view name = "knn";
  int k = 10;  ///< neighbours per particle (>= 1); k >= N − 1 means all pairs
  softened_newton force = galaxy_direct_force();

  template <std::floating_point T>
  void step(particles<T>& p, std::type_identity_t<T> dt, workspace<T>& w) const {
    knn_accelerations(p, w);
    for (std::size_t i = 0; i < p.size(); ++i) {
      p.vx[i] += w.ax[i] * dt;
      p.vy[i] += w.ay[i] * dt;
      p.vz[i] += w.az[i] * dt;
      p.x[i] += p.vx[i] * dt;
      p.y[i] += p.vy[i] * dt;
      p.z[i] += p.vz[i] * dt;
    }
  }

  /// The k-NN accelerations into w.ax, w.ay, w.az (sources summed in (r², index) order).
  template <std::floating_point T>
  void knn_accelerations(const particles<T>& p, workspace<T>& w) const {
    const std::size_t n = p.size();
    w.ax.assign(n, T(0));
    w.ay.assign(n, T(0));
    w.az.assign(n, T(0));
    const exclusion_rule rule = exclusion_of(force);
    const T skip = static_cast<T>(rule.skip_r2);
    const std::size_t take = std::min(n, static_cast<std::size_t>(std::max(k, 0)) + 1);
    std::vector<std::pair<T, std::size_t>> cand(n);
    std::uint64_t evaluated = 0;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        const T dx = p.x[j] - p.x[i], dy = p.y[j] - p.y[i], dz = p.z[j] - p.z[i];
        cand[j] = {dx * dx + dy * dy + dz * dz, j};
      }
      // (r², index) is a strict total order, so the selected set and its order are unique
      const auto mid = cand.begin() + static_cast<std::ptrdiff_t>(take);
      if (take < n) std::nth_element(cand.begin(), mid - 1, cand.end());
      std::sort(cand.begin(), mid);
      T sx(0), sy(0), sz(0);
      for (std::size_t c = 0; c < take; ++c) {
        const std::size_t j = cand[c].second;
        if (rule.kind == pair_exclusion::by_index && j == i) continue;
        const T dx = p.x[j] - p.x[i], dy = p.y[j] - p.y[i], dz = p.z[j] - p.z[i];
        const T r2 = cand[c].first;
        if (rule.kind == pair_exclusion::by_distance && r2 < skip) continue;
        const T s = p.m[j] * static_cast<T>(force.pair_factor(r2));
        sx += s * dx;
        sy += s * dy;
        sz += s * dz;
        ++evaluated;
      }
      w.ax[i] = sx;
      w.ay[i] = sy;
      w.az[i] = sz;
    }
    w.count.pair_evaluations += evaluated;
    w.count.distance_evaluations += pair_evaluations(n);
    w.count.force_passes += 1;
  }
};

/// The null model of spec G4: x' = x + v·dt, v' = v (no forces, zero cost).
struct null_model {
  static constexpr std::string_view name = "null";
  template <std::floating_point T>
  void step(particles<T>& p, std::type_identity_t<T> dt, workspace<T>&) const {
    for (std::size_t i = 0; i < p.size(); ++i) {
      p.x[i] += p.vx[i] * dt;
      p.y[i] += p.vy[i] * dt;
      p.z[i] += p.vz[i] * dt;
    }
  }
};

/// baseline<B, T> — a surrogate with its own dynamics. Minimal complete definition:
/// B::name (string_view), b.step(particles<T>&, T dt, workspace<T>&). Laws: masses unchanged;
/// the step is a pure function of (state, dt, b).
template <class B, class T = double>
concept baseline = requires(const B& b, particles<T>& p, T dt, workspace<T>& w) {
  { B::name } -> std::convertible_to<std::string_view>;
  b.step(p, dt, w);
};

}  // namespace dphys::nbody
