// dphys/nbody/diagnostics.hpp — conserved quantities and their drifts for particles<T>: kinetic,
// potential (softened or unsoftened) and total energy, angular momentum, virial ratio 2T/|U|,
// relative energy drift and angular-momentum drift (Galaxy's benchmark metrics, spec §2.1/G4).
// No extension points (the potential comes from the force law's pair_potential).
//
// Determinism: plain double loops in index order (pairs i < j, j inner), pure functions.
#pragma once

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <string_view>
#include <utility>

#include <dphys/core/enum_names.hpp>
#include <dphys/core/error.hpp>
#include <dphys/nbody/force.hpp>
#include <dphys/nbody/particles.hpp>

namespace dphys::nbody {

/// Which potential an energy diagnostic uses.
enum class potential_kind {
  softened,   ///< the force law's own pair_potential (consistent with its forces)
  unsoftened  ///< the law's `unsoftened()` variant (ε = 0): Galaxy's benchmark energy
};
constexpr auto enum_names(potential_kind) {
  return std::array{std::pair{potential_kind::softened, std::string_view{"softened"}},
                    std::pair{potential_kind::unsoftened, std::string_view{"unsoftened"}}};
}

/// T = Σ ½ m_i |v_i|².
template <class T>
[[nodiscard]] T kinetic_energy(const particles<T>& p) {
  T k(0);
  for (std::size_t i = 0; i < p.size(); ++i)
    k += T(0.5) * p.m[i] * (p.vx[i] * p.vx[i] + p.vy[i] * p.vy[i] + p.vz[i] * p.vz[i]);
  return k;
}

/// U = Σ_{i<j} m_i m_j φ(r²_ij) with φ = f.pair_potential, pairs excluded as the law's forces
/// exclude them (by_distance: r² < skip_r2). With ε = 0, coincident particles give −inf.
template <class T, class Force>
requires force_law<Force, T>
[[nodiscard]] T potential_energy(const particles<T>& p, const Force& f) {
  const exclusion_rule rule = exclusion_of(f);
  const T skip = static_cast<T>(rule.skip_r2);
  T u(0);
  for (std::size_t i = 0; i < p.size(); ++i) {
    T ui(0);
    for (std::size_t j = i + 1; j < p.size(); ++j) {
      const T dx = p.x[j] - p.x[i];
      const T dy = p.y[j] - p.y[i];
      const T dz = p.z[j] - p.z[i];
      const T r2 = dx * dx + dy * dy + dz * dz;
      if (rule.kind == pair_exclusion::by_distance && r2 < skip) continue;
      ui += p.m[j] * static_cast<T>(f.pair_potential(r2));
    }
    u += p.m[i] * ui;
  }
  return u;
}

/// As above with the chosen potential. `unsoftened` needs f.unsoftened() (softened_newton has it);
/// for a law without one it throws dphys::config_error.
template <class T, class Force>
requires force_law<Force, T>
[[nodiscard]] T potential_energy(const particles<T>& p, const Force& f, potential_kind kind) {
  if (kind == potential_kind::softened) return potential_energy(p, f);
  if constexpr (requires { f.unsoftened(); }) {
    return potential_energy(p, f.unsoftened());
  } else {
    throw config_error("potential_kind", "unsoftened",
                       "needs a force law with an unsoftened() member; this law has none");
  }
}

/// E = T + U.
template <class T, class Force>
requires force_law<Force, T>
[[nodiscard]] T total_energy(const particles<T>& p, const Force& f,
                             potential_kind kind = potential_kind::softened) {
  return kinetic_energy(p) + potential_energy(p, f, kind);
}

/// L = Σ m_i r_i × v_i (about the origin).
template <class T>
[[nodiscard]] std::array<T, 3> angular_momentum(const particles<T>& p) {
  T lx(0), ly(0), lz(0);
  for (std::size_t i = 0; i < p.size(); ++i) {
    lx += p.m[i] * (p.y[i] * p.vz[i] - p.z[i] * p.vy[i]);
    ly += p.m[i] * (p.z[i] * p.vx[i] - p.x[i] * p.vz[i]);
    lz += p.m[i] * (p.x[i] * p.vy[i] - p.y[i] * p.vx[i]);
  }
  return {lx, ly, lz};
}

/// 2T/|U|: 1 in virial equilibrium. +inf when U = 0 and T > 0; NaN when both are 0.
template <class T, class Force>
requires force_law<Force, T>
[[nodiscard]] T virial_ratio(const particles<T>& p, const Force& f,
                             potential_kind kind = potential_kind::softened) {
  return T(2) * kinetic_energy(p) / std::abs(potential_energy(p, f, kind));
}

/// |E1 − E0| / |E0| (inf or NaN when E0 = 0).
template <std::floating_point T>
[[nodiscard]] T relative_energy_drift(T e0, T e1) {
  return std::abs(e1 - e0) / std::abs(e0);
}

/// |L1 − L0| / |L0| (Euclidean norms; inf or NaN when L0 = 0).
template <std::floating_point T>
[[nodiscard]] T angular_momentum_drift(const std::array<T, 3>& l0, const std::array<T, 3>& l1) {
  const T dx = l1[0] - l0[0], dy = l1[1] - l0[1], dz = l1[2] - l0[2];
  return std::sqrt(dx * dx + dy * dy + dz * dz) /
         std::sqrt(l0[0] * l0[0] + l0[1] * l0[1] + l0[2] * l0[2]);
}

}  // namespace dphys::nbody
