// dphys/surrogate/validator.hpp — the gate every candidate passes before the crucible (spec G5(c),
// AG4): parse, size/depth/constant limits, finite outputs and preserved mass on Galaxy's
// three-particle validation snapshot — for expression programs and for externally supplied
// "predict" outputs alike — and Galaxy's size penalty. No extension points.
//
// Failure modes: nothing here throws on bad candidates; a rejection is a validation value with a
// reason and a message. Thread safety: pure functions.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/nbody/particles.hpp>
#include <dphys/surrogate/interpreter.hpp>
#include <dphys/surrogate/program.hpp>
#include <dphys/surrogate/text.hpp>

namespace dphys::surrogate {

/// Why a candidate was rejected (stable names, used in logs and proposal feedback).
enum class rejection : std::uint8_t {
  none,
  parse_error,      ///< the text does not parse (message has line:column: rule)
  malformed,        ///< the kernel is not a well-formed postfix expression
  size_limit,       ///< more nodes than parse_limits::max_size
  depth_limit,      ///< deeper than parse_limits::max_depth
  constants_limit,  ///< more constants than parse_limits::max_constants
  wrong_count,      ///< predict returned a different number of particles
  wrong_arity,      ///< a predicted row does not have 7 numbers
  non_finite,       ///< a NaN or infinite output
  mass_changed,     ///< |m_out − m_in| > 1e−9
  exploding,        ///< positions left the explosion bound during a rollout (crucible)
  domain_error      ///< a protected operator hit its domain (only with reject_domain_errors)
};
constexpr auto enum_names(rejection) {
  using R = rejection;
  return std::array{std::pair{R::none, std::string_view{"none"}},
                    std::pair{R::parse_error, std::string_view{"parse_error"}},
                    std::pair{R::malformed, std::string_view{"malformed"}},
                    std::pair{R::size_limit, std::string_view{"size_limit"}},
                    std::pair{R::depth_limit, std::string_view{"depth_limit"}},
                    std::pair{R::constants_limit, std::string_view{"constants_limit"}},
                    std::pair{R::wrong_count, std::string_view{"wrong_count"}},
                    std::pair{R::wrong_arity, std::string_view{"wrong_arity"}},
                    std::pair{R::non_finite, std::string_view{"non_finite"}},
                    std::pair{R::mass_changed, std::string_view{"mass_changed"}},
                    std::pair{R::exploding, std::string_view{"exploding"}},
                    std::pair{R::domain_error, std::string_view{"domain_error"}}};
}
inline constexpr std::size_t rejection_count = 12;

/// Result of validation: ok() or a reason with a human-readable message.
struct validation {
  rejection reason = rejection::none;
  std::string message;
  [[nodiscard]] bool ok() const noexcept { return reason == rejection::none; }
};

/// Galaxy's validation snapshot: [[10,20,30,.1,.2,.3,1],[40,50,60,−.1,−.2,−.3,1.5],[70,80,90,0,0,0,2]].
inline nbody::particles<double> validation_snapshot() {
  nbody::particles<double> p;
  p.push_back({10, 20, 30, 0.1, 0.2, 0.3, 1.0});
  p.push_back({40, 50, 60, -0.1, -0.2, -0.3, 1.5});
  p.push_back({70, 80, 90, 0, 0, 0, 2.0});
  return p;
}

/// Mass tolerance of the validator (Galaxy: |m_out − m_in| <= 1e−9).
inline constexpr double mass_tolerance = 1e-9;

/// Checks externally supplied predict outputs for `input` (one row per particle): count, arity 7,
/// finiteness, mass preserved within mass_tolerance.
template <class Rows>
validation validate_outputs(const nbody::particles<double>& input, const Rows& rows) {
  if (rows.size() != input.size())
    return {rejection::wrong_count, "predict returned " + std::to_string(rows.size()) +
                                        " rows for " + std::to_string(input.size()) + " particles"};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (std::size(r) != 7)
      return {rejection::wrong_arity, "row " + std::to_string(i) + " has " +
                                          std::to_string(std::size(r)) + " numbers, expected 7"};
    std::size_t k = 0;
    for (double v : r) {
      if (!std::isfinite(v))
        return {rejection::non_finite,
                "row " + std::to_string(i) + " component " + std::to_string(k) + " is not finite"};
      ++k;
    }
    const double m_out = *(std::begin(r) + 6);
    if (!(std::fabs(m_out - input.m[i]) <= mass_tolerance))
      return {rejection::mass_changed, "row " + std::to_string(i) + " mass " +
                                           detail::number_text(m_out) + " != input mass " +
                                           detail::number_text(input.m[i])};
  }
  return {};
}

/// Checks a parsed program: well formed, within limits, and finite with mass preserved on the
/// validation snapshot (one step of length dt).
inline validation validate_program(const program& p, const parse_limits& limits = {},
                                   double dt = 0.1) {
  if (p.kernel.empty() || !well_formed(p.kernel, p.constants.size()))
    return {rejection::malformed, "the kernel is not one well-formed expression"};
  if (p.kernel.size() > static_cast<std::size_t>(limits.max_size))
    return {rejection::size_limit, "kernel has " + std::to_string(p.kernel.size()) +
                                       " nodes, limit " + std::to_string(limits.max_size)};
  if (depth(p.kernel) > static_cast<std::size_t>(limits.max_depth))
    return {rejection::depth_limit, "kernel depth " + std::to_string(depth(p.kernel)) +
                                        " exceeds " + std::to_string(limits.max_depth)};
  if (p.constants.size() > static_cast<std::size_t>(limits.max_constants))
    return {rejection::constants_limit, std::to_string(p.constants.size()) + " constants, limit " +
                                            std::to_string(limits.max_constants)};
  for (const auto& c : p.constants)
    if (!std::isfinite(c.value))
      return {rejection::non_finite, "constant " + c.name + " is not finite"};
  const auto snap = validation_snapshot();
  const auto out = predict(p, snap, dt);
  std::vector<std::array<double, 7>> rows;
  for (std::size_t i = 0; i < out.size(); ++i) rows.push_back(out.row(i));
  return validate_outputs(snap, rows);
}

/// Parses and validates program text; on success `parsed` holds the program.
inline validation validate_text(std::string_view text, const parse_limits& limits = {},
                                program* parsed = nullptr, double dt = 0.1) {
  program p;
  try {
    p = parse_program(text, limits);
  } catch (const parse_error& e) {
    rejection r = rejection::parse_error;
    if (e.rule == parse_rule::size_limit) r = rejection::size_limit;
    if (e.rule == parse_rule::depth_limit) r = rejection::depth_limit;
    if (e.rule == parse_rule::constants_limit) r = rejection::constants_limit;
    return {r, e.what()};
  }
  validation v = validate_program(p, limits, dt);
  if (v.ok() && parsed) *parsed = std::move(p);
  return v;
}

/// Galaxy's code-length penalty with tokens replaced by program size: excess = max(0, size −
/// threshold); factor = max(floor, 1 − weight·excess/threshold). Defaults: 1.0 at 400, 0.95 at
/// 600, never below 0.1.
inline double size_penalty_factor(std::size_t size, double threshold = 400.0, double weight = 0.1,
                                  double floor = 0.1) {
  const double excess = std::max(0.0, static_cast<double>(size) - threshold);
  return std::max(floor, 1.0 - weight * excess / threshold);
}

}  // namespace dphys::surrogate
