// dphys/problems/planar_arm.hpp — the n-joint planar robotic arm, the standard quality-diversity
// test problem (Cully et al. 2015; Vassiliades & Mouret 2018; Fontaine et al. 2020 (CMA-ME); the
// pyribs "arm repertoire" tutorial). Pure, thread-safe.
//
// Solution: joint angles θ_1..θ_n in [−joint_limit, joint_limit] (domain()). Link k has length
//   link_length; the end effector is at (x, y) = Σ_k link_length·(cos φ_k, sin φ_k) with
//   φ_k = θ_1 + … + θ_k (cumulative, summed in joint order).
// Objective (maximised): −Var(θ) = −(1/n)·Σ (θ_k − θ̄)², θ̄ = (1/n)·Σ θ_k: arms with even joint
//   angles are "smooth" and better. In the domain it lies in [min_objective(), 0] with
//   min_objective() = −joint_limit² (the variance of values in [−a, a] is at most a²), the natural
//   qd_score_offset.
// Descriptors: the end effector normalised to [0, 1]²: ((x/L + 1)/2, (y/L + 1)/2), L =
// n·link_length
//   (the reach), so the disc of reachable points maps into the unit square.
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <dphys/core/config_check.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/search/bounds.hpp>

namespace dphys::problems {

struct planar_arm_config {
  int joints = 10;                        ///< n, the number of joints (solution dimension)
  double link_length = 1.0;               ///< length of every link
  double joint_limit = std::numbers::pi;  ///< θ_k in [−joint_limit, joint_limit]

  void check(config_checker<planar_arm_config>& c) const {
    c(&planar_arm_config::joints).at_least(1).at_most(1 << 20);
    c(&planar_arm_config::link_length).greater_than(0.0);
    c(&planar_arm_config::joint_limit).greater_than(0.0);
  }
};

}  // namespace dphys::problems

DPHYS_ADAPT_STRUCT(dphys::problems::planar_arm_config, joints, link_length, joint_limit);

namespace dphys::problems {

class planar_arm {
 public:
  static constexpr std::size_t descriptor_dim = 2;

  explicit planar_arm(planar_arm_config cfg = {}) : cfg_(cfg) { validate(cfg_); }

  [[nodiscard]] const planar_arm_config& config() const { return cfg_; }
  [[nodiscard]] std::size_t dimension() const { return static_cast<std::size_t>(cfg_.joints); }
  /// The box of joint angles, [−joint_limit, joint_limit]^n.
  [[nodiscard]] search::box<double> domain() const {
    return {std::vector<double>(dimension(), -cfg_.joint_limit),
            std::vector<double>(dimension(), cfg_.joint_limit)};
  }
  /// −joint_limit²: no solution in the domain scores lower (use it as qd_score_offset).
  [[nodiscard]] double min_objective() const { return -cfg_.joint_limit * cfg_.joint_limit; }
  /// The arm's reach, joints · link_length.
  [[nodiscard]] double reach() const { return static_cast<double>(cfg_.joints) * cfg_.link_length; }

  /// Objective −Var(θ) and the normalised end effector of one solution of dimension() angles.
  double evaluate(std::span<const double> theta, std::span<double> descriptor) const {
    if (theta.size() != dimension() || descriptor.size() != descriptor_dim)
      throw std::invalid_argument("planar_arm::evaluate: " + std::to_string(theta.size()) +
                                  " angles and " + std::to_string(descriptor.size()) +
                                  " descriptor slots, expected " + std::to_string(dimension()) +
                                  " and 2");
    const double n = static_cast<double>(theta.size());
    double sum = 0.0, phi = 0.0, x = 0.0, y = 0.0;
    for (double t : theta) {
      sum += t;
      phi += t;
      x += cfg_.link_length * std::cos(phi);
      y += cfg_.link_length * std::sin(phi);
    }
    const double mean = sum / n;
    double ss = 0.0;
    for (double t : theta) ss += (t - mean) * (t - mean);
    const double L = reach();
    descriptor[0] = (x / L + 1.0) / 2.0;
    descriptor[1] = (y / L + 1.0) / 2.0;
    return -(ss / n);
  }

  /// A batch: `solutions` rows of dimension() (row-major) → one objective per row and two
  /// descriptors per row (row-major).
  void evaluate(std::span<const double> solutions, std::span<double> objectives,
                std::span<double> descriptors) const {
    const std::size_t d = dimension(), rows = objectives.size();
    if (solutions.size() != rows * d || descriptors.size() != rows * descriptor_dim)
      throw std::invalid_argument("planar_arm::evaluate: batch sizes do not match (" +
                                  std::to_string(solutions.size()) + " angles, " +
                                  std::to_string(rows) + " objectives, " +
                                  std::to_string(descriptors.size()) + " descriptors)");
    for (std::size_t i = 0; i < rows; ++i)
      objectives[i] = evaluate(solutions.subspan(i * d, d), descriptors.subspan(i * 2, 2));
  }

 private:
  planar_arm_config cfg_;
};

}  // namespace dphys::problems
