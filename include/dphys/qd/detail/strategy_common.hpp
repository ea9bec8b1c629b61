// dphys/qd/detail/strategy_common.hpp — internals shared by the dphys::qd strategies: the tell
// argument checks, uniform sampling in a box, and clipping. Not part of the API.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include <dphys/search/bounds.hpp>
#include <dphys/search/operators/draws.hpp>

namespace dphys::qd::detail {

inline void check_tell(std::string_view who, bool asked, std::size_t n, std::size_t ddim,
                       std::size_t objectives, std::size_t descriptors) {
  if (!asked) throw std::logic_error(std::string(who) + "::tell: called without a preceding ask()");
  if (objectives != n || descriptors != n * ddim)
    throw std::invalid_argument(std::string(who) + "::tell: " + std::to_string(objectives) +
                                " objectives and " + std::to_string(descriptors) +
                                " descriptor values, expected " + std::to_string(n) + " and " +
                                std::to_string(n * ddim) + " (population_size × descriptor_dim)");
}

/// True when the objective and every descriptor value of a member are finite.
inline bool finite_member(double objective, std::span<const double> descriptor) {
  bool ok = std::isfinite(objective);
  for (double d : descriptor) ok = ok && std::isfinite(d);
  return ok;
}

/// x_j = lower_j + (upper_j − lower_j)·u_j, u_j the next uniforms of `rng`.
inline void uniform_in(const search::box<double>& b, std::span<double> x, search::draws& rng) {
  for (std::size_t j = 0; j < x.size(); ++j)
    x[j] = b.lower[j] + (b.upper[j] - b.lower[j]) * rng.uniform();
}

inline void clip_to(const search::box<double>& b, std::span<double> x) {
  for (std::size_t j = 0; j < x.size(); ++j) x[j] = std::clamp(x[j], b.lower[j], b.upper[j]);
}

}  // namespace dphys::qd::detail
