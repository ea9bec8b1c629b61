// tests/docs/config_defaults.cpp — prints every reflected config of include/dphys/ with its code
// defaults, as one JSON document, for tests/docs/check_config_docs.py (the ctest test config_docs),
// which compares them with the field tables of docs/reference/.
//
// The list below is explicit; check_config_docs.py fails when a DPHYS_ADAPT_STRUCT (or
// BOOST_HANA_ADAPT_STRUCT) in include/dphys/ names a type that is missing here, so a new config
// cannot be skipped silently. Every default comes from the library itself: a value-initialised
// config, written by to_json (values) and describe (type names, text forms).
#include <iostream>
#include <string>
#include <string_view>
#include <type_traits>

#include <dphys/core/json.hpp>

#include <dphys/dphys.hpp>

// clang-format off
#define DPHYS_DOC_CONFIGS(X)                          \
  X(dphys::agents::snn_config)                        \
  X(dphys::crucibles::fitness_config)                 \
  X(dphys::crucibles::rollout_config)                 \
  X(dphys::crucibles::viability_config)               \
  X(dphys::curiosity::beta_bernoulli_config)          \
  X(dphys::curiosity::curiosity_selector_config)      \
  X(dphys::curiosity::curriculum_config)              \
  X(dphys::curiosity::curriculum_crucible_config)     \
  X(dphys::curiosity::epsilon_config)                 \
  X(dphys::curiosity::ewc_config)                     \
  X(dphys::curiosity::ladder_instance)                \
  X(dphys::curiosity::mlp_ensemble_config)            \
  X(dphys::curiosity::nbody_scenario)                 \
  X(dphys::curiosity::nbody_template_config)          \
  X(dphys::curiosity::surprise_weighting_config)      \
  X(dphys::curiosity::surrogate_curriculum_config)    \
  X(dphys::envs::cart_pole_config)                    \
  X(dphys::envs::chemotaxis_config)                   \
  X(dphys::envs::nursing_schedule)                    \
  X(dphys::experiments::koki2_config)                 \
  X(dphys::experiments::mean_eval_config)             \
  X(dphys::nbody::benchmark_config)                   \
  X(dphys::nbody::softened_newton)                    \
  X(dphys::plasticity::eligibility_trace_config)      \
  X(dphys::population::bandit_config)                 \
  X(dphys::population::database_config)               \
  X(dphys::population::evolution_config)              \
  X(dphys::population::island_config)                 \
  X(dphys::population::island_search_config)          \
  X(dphys::problems::planar_arm_config)               \
  X(dphys::problems::zdt)                             \
  X(dphys::qd::cma_me_config)                         \
  X(dphys::qd::cvt_archive_config)                    \
  X(dphys::qd::grid_archive_config)                   \
  X(dphys::qd::map_elites_config)                     \
  X(dphys::qd::novelty_config)                        \
  X(dphys::search::blx_alpha)                         \
  X(dphys::search::cma_es_config)                     \
  X(dphys::search::de_config)                         \
  X(dphys::search::ga_config)                         \
  X(dphys::search::gaussian_crossover)                \
  X(dphys::search::gaussian_mutation)                 \
  X(dphys::search::nsga2_config)                      \
  X(dphys::search::openai_es_config)                  \
  X(dphys::search::polynomial_mutation)               \
  X(dphys::search::sbx)                               \
  X(dphys::search::snes_config)                       \
  X(dphys::search::tournament_selection)              \
  X(dphys::search::truncation_selection)              \
  X(dphys::search::uniform_crossover)                 \
  X(dphys::search::xnes_config)                       \
  X(dphys::surrogate::crucible_config)                \
  X(dphys::surrogate::discovery_config)               \
  X(dphys::surrogate::galaxy_ga_config)               \
  X(dphys::surrogate::parse_limits)                   \
  X(dphys::surrogate::proposer_config)                \
  X(dphys::surrogate::variation_config)
// clang-format on

namespace {

// The listed name of a config type; empty for a type not in the list.
template <class T>
constexpr std::string_view doc_name = {};
#define DPHYS_DOC_NAME(T) \
  template <>             \
  constexpr std::string_view doc_name<T> = #T;
DPHYS_DOC_CONFIGS(DPHYS_DOC_NAME)
#undef DPHYS_DOC_NAME

// {"<dotted path>": "<listed type>"} for every nested config of C (at any depth).
template <class C>
void nested_types(const std::string& prefix, dphys::json& out) {
  dphys::detail::for_each_field_type<C>([&](std::string_view name, auto type) {
    using member = typename decltype(type)::type;
    if constexpr (dphys::reflected_config<member>) {
      const std::string path = dphys::detail::child_path(prefix, name);
      out[path] = std::string(doc_name<member>);  // "" if unlisted: the checker reports it
      nested_types<member>(path, out);
    }
  });
}

template <class C>
dphys::json entry(std::string_view name) {
  const C defaults{};
  dphys::json nested = dphys::json::object();
  nested_types<C>("", nested);
  return {{"type", std::string(name)},
          {"keys", dphys::config_keys<C>()},
          {"defaults", dphys::to_json(defaults)},
          {"describe", dphys::describe(defaults)},
          {"nested", nested}};
}

}  // namespace

int main() {
  dphys::json configs = dphys::json::array();
#define DPHYS_DOC_ENTRY(T) configs.push_back(entry<T>(#T));
  DPHYS_DOC_CONFIGS(DPHYS_DOC_ENTRY)
#undef DPHYS_DOC_ENTRY
  std::cout << configs.dump(1) << '\n';
  return 0;
}
