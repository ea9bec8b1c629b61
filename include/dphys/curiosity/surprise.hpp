// dphys/curiosity/surprise.hpp — surprise functions as policies (spec N2): classification
// 1 − p(observed), Nerion HEAD's |μ − y|/(σ² + 1e−6) (compat), the recommended |μ − y|/(σ + 1e−6),
// and the production-style confidence mismatch with severity multipliers; plus `any_surprise`, a
// run-time choice among them for configs. Extension point: any type modelling `surprise_function`.
//
// Every function here is pure and thread-safe.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <optional>
#include <string_view>
#include <utility>

#include <dphys/curiosity/predictor.hpp>

namespace dphys::curiosity {

/// surprise_function<S> — how surprising outcome y is under prediction p.
/// Minimal complete definition: s(prediction, y) -> double (const).
/// Laws: pure; non-negative; 0 when the prediction is certain and right (classification,
///   severity) or exact (error-based kinds).
template <class S>
concept surprise_function = requires(const S& s, const prediction& p, double y) {
  { s(p, y) } -> std::convertible_to<double>;
};

/// 1 − p(observed), clipped to [0, 1] (Nerion AgentV2 at 7a4d2a8). For a fractional y the
/// probability of the observation is y·p + (1 − y)·(1 − p).
struct classification_surprise {
  static double of_observed(double p_observed) { return std::clamp(1.0 - p_observed, 0.0, 1.0); }
  double operator()(const prediction& p, double y) const {
    return of_observed(y * p.mean + (1.0 - y) * (1.0 - p.mean));
  }
};

/// Nerion HEAD (compat): |μ − y| / (σ² + 1e−6). Divides by the variance, so it is unbounded and
/// not scale-invariant (spec §4.1); kept to reproduce HEAD's numbers.
struct nerion_head_surprise {
  double operator()(const prediction& p, double y) const {
    return std::abs(p.mean - y) / (std::max(p.variance, 0.0) + 1e-6);
  }
};

/// Recommended: the error in units of the predictive standard deviation, |μ − y| / (σ + 1e−6).
struct normalized_error_surprise {
  double operator()(const prediction& p, double y) const {
    return std::abs(p.mean - y) / (p.stddev() + 1e-6);
  }
};

enum class severity { critical, high, medium, low };
constexpr auto enum_names(severity) {
  return std::array{std::pair{severity::critical, std::string_view{"critical"}},
                    std::pair{severity::high, std::string_view{"high"}},
                    std::pair{severity::medium, std::string_view{"medium"}},
                    std::pair{severity::low, std::string_view{"low"}}};
}
/// Nerion's multipliers: critical 1.3, high 1.2, medium 1.0, low 0.8.
constexpr double severity_multiplier(severity s) {
  switch (s) {
    case severity::critical:
      return 1.3;
    case severity::high:
      return 1.2;
    case severity::medium:
      return 1.0;
    case severity::low:
      return 0.8;
  }
  return 1.0;
}

/// Production-style (Nerion's bug collector): the predicted label is μ >= 0.5 with confidence
/// max(μ, 1 − μ); surprise = confidence if the label was wrong (y >= 0.5 is the true label), else
/// 1 − confidence; times the severity multiplier; capped at 1. No prediction: 0.5.
struct severity_surprise {
  severity level = severity::medium;

  double operator()(const prediction& p, double y) const {
    const bool predicted = p.mean >= 0.5, actual = y >= 0.5;
    const double confidence = std::max(p.mean, 1.0 - p.mean);
    const double base = predicted != actual ? confidence : 1.0 - confidence;
    return std::min(1.0, base * severity_multiplier(level));
  }
  double operator()(const std::optional<prediction>& p, double y) const {
    return p ? (*this)(*p, y) : 0.5;
  }
};

/// Nerion's "high surprise": strictly above 0.5.
constexpr bool is_high_surprise(double s) { return s > 0.5; }

/// Nerion's learning-cycle trigger: at least `min_collected` cases, or at least `min_high_surprise`
/// high-surprise cases, or `max_hours` since the last collection.
struct learning_trigger {
  int min_collected = 50;
  int min_high_surprise = 10;
  double max_hours = 24.0;
  [[nodiscard]] bool due(int collected, int high_surprise, double hours_since_last) const {
    return collected >= min_collected || high_surprise >= min_high_surprise ||
           hours_since_last >= max_hours;
  }
};

/// Which surprise function a config selects.
enum class surprise_kind { classification, nerion_head, normalized_error, severity };
constexpr auto enum_names(surprise_kind) {
  return std::array{
      std::pair{surprise_kind::classification, std::string_view{"classification"}},
      std::pair{surprise_kind::nerion_head, std::string_view{"nerion_head"}},
      std::pair{surprise_kind::normalized_error, std::string_view{"normalized_error"}},
      std::pair{surprise_kind::severity, std::string_view{"severity"}}};
}

/// A surprise function chosen at run time (from a config); models surprise_function.
struct any_surprise {
  surprise_kind kind = surprise_kind::normalized_error;
  severity level = severity::medium;

  double operator()(const prediction& p, double y) const {
    switch (kind) {
      case surprise_kind::classification:
        return classification_surprise{}(p, y);
      case surprise_kind::nerion_head:
        return nerion_head_surprise{}(p, y);
      case surprise_kind::normalized_error:
        return normalized_error_surprise{}(p, y);
      case surprise_kind::severity:
        return severity_surprise{level}(p, y);
    }
    return 0.0;
  }
};

}  // namespace dphys::curiosity
