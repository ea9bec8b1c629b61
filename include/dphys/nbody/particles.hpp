// dphys/nbody/particles.hpp — the N-body state: `particles<T>`, structure of arrays (x, y, z, vx,
// vy, vz, m, each a contiguous std::vector<T>), and its conserved sums (total_mass, centre_of_mass,
// total_momentum), checkpointable through dphys::state_writer/state_reader. No extension points.
//
// A row is Galaxy's 7-vector [x, y, z, vx, vy, vz, m]. T is double by default (spec §0.4); float
// works too. Thread safety: a const particles<T> may be read from any number of threads.
#pragma once

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/core/state_io.hpp>

namespace dphys::nbody {

/// N particles as seven parallel arrays. Invariant: all seven vectors have size() elements.
/// Mutate the arrays freely but keep their sizes equal (resize/push_back do).
template <class T = double>
struct particles {
  using value_type = T;

  std::vector<T> x, y, z;     ///< positions
  std::vector<T> vx, vy, vz;  ///< velocities
  std::vector<T> m;           ///< masses

  particles() = default;
  /// n particles at rest at the origin with zero mass.
  explicit particles(std::size_t n) { resize(n); }

  [[nodiscard]] std::size_t size() const noexcept { return m.size(); }
  [[nodiscard]] bool empty() const noexcept { return m.empty(); }

  /// Resizes all seven arrays; new particles are zero in every component.
  void resize(std::size_t n) {
    for (auto* a : arrays_()) a->resize(n, T(0));
  }
  void reserve(std::size_t n) {
    for (auto* a : arrays_()) a->reserve(n);
  }
  /// Appends one row [x, y, z, vx, vy, vz, m].
  void push_back(const std::array<T, 7>& r) {
    const auto a = arrays_();
    for (std::size_t k = 0; k < 7; ++k) a[k]->push_back(r[k]);
  }
  /// Row i as [x, y, z, vx, vy, vz, m]. Throws std::out_of_range for i >= size().
  [[nodiscard]] std::array<T, 7> row(std::size_t i) const {
    if (i >= size())
      throw std::out_of_range("dphys::nbody::particles::row: index " + std::to_string(i) +
                              " >= size() " + std::to_string(size()));
    return {x[i], y[i], z[i], vx[i], vy[i], vz[i], m[i]};
  }
  /// Overwrites row i with [x, y, z, vx, vy, vz, m]. Throws std::out_of_range for i >= size().
  void set_row(std::size_t i, const std::array<T, 7>& r) {
    if (i >= size())
      throw std::out_of_range("dphys::nbody::particles::set_row: index " + std::to_string(i) +
                              " >= size() " + std::to_string(size()));
    const auto a = arrays_();
    for (std::size_t k = 0; k < 7; ++k) (*a[k])[i] = r[k];
  }

  friend bool operator==(const particles&, const particles&) = default;

  /// Checkpoint: records "x", "y", "z", "vx", "vy", "vz", "m" (exact bit patterns) in the current
  /// scope of w.
  void save(state_writer& w) const {
    const auto a = arrays_();
    for (std::size_t k = 0; k < 7; ++k) w.put(record_names[k], *a[k]);
  }
  /// Restores what save() wrote; throws state_error if a record is missing or the seven arrays
  /// differ in length (then *this is unchanged).
  void load(state_reader& r) {
    particles tmp;
    const auto a = tmp.arrays_();
    r.get(record_names[0], *a[0]);
    for (std::size_t k = 1; k < 7; ++k) r.get(record_names[k], *a[k], a[0]->size());
    *this = std::move(tmp);
  }

 private:
  std::array<std::vector<T>*, 7> arrays_() { return {&x, &y, &z, &vx, &vy, &vz, &m}; }
  std::array<const std::vector<T>*, 7> arrays_() const { return {&x, &y, &z, &vx, &vy, &vz, &m}; }
  static constexpr std::array<std::string_view, 7> record_names{"x",  "y",  "z", "vx",
                                                                "vy", "vz", "m"};
};

/// Σ m_i (summed in index order).
template <class T>
[[nodiscard]] T total_mass(const particles<T>& p) {
  T s(0);
  for (std::size_t i = 0; i < p.size(); ++i) s += p.m[i];
  return s;
}

/// Σ m_i r_i / Σ m_i; zero vector when the total mass is zero.
template <class T>
[[nodiscard]] std::array<T, 3> centre_of_mass(const particles<T>& p) {
  T mx(0), my(0), mz(0), mt(0);
  for (std::size_t i = 0; i < p.size(); ++i) {
    mx += p.m[i] * p.x[i];
    my += p.m[i] * p.y[i];
    mz += p.m[i] * p.z[i];
    mt += p.m[i];
  }
  if (mt == T(0)) return {T(0), T(0), T(0)};
  return {mx / mt, my / mt, mz / mt};
}

/// Σ m_i v_i.
template <class T>
[[nodiscard]] std::array<T, 3> total_momentum(const particles<T>& p) {
  T px(0), py(0), pz(0);
  for (std::size_t i = 0; i < p.size(); ++i) {
    px += p.m[i] * p.vx[i];
    py += p.m[i] * p.vy[i];
    pz += p.m[i] * p.vz[i];
  }
  return {px, py, pz};
}

/// Shifts positions and velocities so that the centre of mass and the total momentum are zero
/// (up to rounding). No-op when the total mass is zero.
template <class T>
void shift_to_centre_of_mass_frame(particles<T>& p) {
  const T mt = total_mass(p);
  if (mt == T(0)) return;
  const auto c = centre_of_mass(p);
  const auto q = total_momentum(p);
  const std::array<T, 3> v{q[0] / mt, q[1] / mt, q[2] / mt};
  for (std::size_t i = 0; i < p.size(); ++i) {
    p.x[i] -= c[0];
    p.y[i] -= c[1];
    p.z[i] -= c[2];
    p.vx[i] -= v[0];
    p.vy[i] -= v[1];
    p.vz[i] -= v[2];
  }
}

}  // namespace dphys::nbody
