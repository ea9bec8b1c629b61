// dphys/core/concepts.hpp — the five policy concepts a user composes: environment, genome,
// plasticity_rule, crucible, search_strategy (design.md §1). Each states its minimal complete
// definition and its laws; the law checkers live in tests/, and the minimal models in
// tests/test_concepts.cpp double as the "write your own" reference of
// docs/tutorials/write_your_own.md.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <dphys/core/simd.hpp>

namespace dphys {

/// environment<E, F> — a world stepped for lanes_v<F> independent episodes at once.
///
/// Minimal complete definition:
///   E::obs_dim, E::num_actions                       (compile-time sizes)
///   typename E::template state_type<F>               (SoA state of one block of lanes)
///   env.reset(state, keys, member_words, episode_words, obs*)   writes the initial observation
///   env.step(state, action, keys, obs*) -> transition-like       with members `done` and `reached`
///   masks
/// Laws: (purity) reset/step are functions of their arguments and the counter words only;
///   (lane independence) lane i of F equals the float instantiation on lane i's inputs, bit for
///   bit.
template <class E, class F>
concept environment = simd::lane_type<F> &&
    requires(const E& env, typename E::template state_type<F>& s, const typename E::keys_type& k,
             const simd::uint_t<F>& w, const F& action, F* obs) {
  { E::obs_dim } -> std::convertible_to<int>;
  { E::num_actions } -> std::convertible_to<int>;
  env.reset(s, k, w, w, obs);
  {env.step(s, action, k, obs).done};
};

/// genome<G> — how numbers become a phenotype's parameters.
/// Minimal complete definition: g.size() (parameter count) and g.init(seed, member, span<float>).
/// Laws: init is a pure function of (seed, member); size() is constant.
template <class G>
concept genome = requires(const G& g, std::span<float> out, std::uint64_t seed,
                          std::uint32_t member) {
  { g.size() } -> std::convertible_to<std::size_t>;
  g.init(seed, member, out);
};

/// plasticity_rule<P> — how a phenotype changes within its lifetime.
/// Minimal complete definition: p.enabled() and a lane-typed p.update(agent_state, ..., signals).
/// Laws: disabled ⇒ the agent state is untouched; zero modulator ⇒ no weight change; weights stay
/// bounded.
template <class P>
concept plasticity_rule = requires(const P& p) {
  { p.enabled() } -> std::convertible_to<bool>;
};

/// crucible<C, Keys> — how good is each candidate of a population?
/// Minimal complete definition: c.genome_size(); c.evaluate(population, keys) -> something with
///   `.fitness` (one value per member; higher is better).
/// Laws: (purity) the result is a function of (population, keys); (order independence) permuting
/// members
///   permutes the fitness vector when the keys do not depend on the member index (common random
///   numbers).
template <class C, class Keys>
concept crucible = requires(const C& c, std::span<const float> pop, const Keys& k) {
  { c.genome_size() } -> std::convertible_to<std::size_t>;
  { c.evaluate(pop, k).fitness[0] } -> std::convertible_to<double>;
};

/// search_strategy<S> — which candidates next?
/// Minimal complete definition: S::value_type (the floating-point type of genomes and fitness:
///   float for the SIMD rollouts, double for the CMA-ES family on numerical problems);
///   s.ask() -> span of population_size() × dimension() value_types (row-major);
///   s.tell(span<const value_type> fitness) (higher is better; negate to minimise);
///   s.dimension(); s.population_size(); s.generation(); s.best().
/// Laws: ask is a pure function of (state, seed, generation); same seed ⇒ same ask sequence given
///   the same tells; tell advances generation() by one.
template <class S>
concept search_strategy =
    std::floating_point<typename S::value_type> &&
    requires(S& s, std::span<const typename S::value_type> fitness) {
      { s.ask() } -> std::convertible_to<std::span<const typename S::value_type>>;
      s.tell(fitness);
      { s.dimension() } -> std::convertible_to<std::size_t>;
      { s.population_size() } -> std::convertible_to<std::size_t>;
      { s.generation() } -> std::convertible_to<std::uint32_t>;
      { s.best() } -> std::convertible_to<std::span<const typename S::value_type>>;
    };

/// multi_objective_strategy<S> — which candidates next, when fitness is a vector.
/// Minimal complete definition: S::value_type (floating point); s.ask() -> span of
///   population_size() × dimension() values (row-major); s.tell(span<const value_type>
///   objectives) with population_size() × num_objectives() values (row-major, every objective
///   maximised); s.dimension(); s.population_size(); s.num_objectives(); s.generation().
/// Laws: ask is a pure function of (state, seed, generation); same seed ⇒ same ask sequence given
///   the same tells; tell advances generation() by one.
template <class S>
concept multi_objective_strategy = std::floating_point<typename S::value_type> &&
    requires(S& s, std::span<const typename S::value_type> objectives) {
  { s.ask() } -> std::convertible_to<std::span<const typename S::value_type>>;
  s.tell(objectives);
  { s.dimension() } -> std::convertible_to<std::size_t>;
  { s.population_size() } -> std::convertible_to<std::size_t>;
  { s.num_objectives() } -> std::convertible_to<std::size_t>;
  { s.generation() } -> std::convertible_to<std::uint32_t>;
};

/// checkpointable<S> — state that can be saved into and restored from a dphys::state_writer /
/// state_reader archive (core/state_io.hpp). Law: save, load into a freshly constructed object
/// with the same configuration, and every later observable result is bitwise identical.
template <class S, class Writer, class Reader>
concept checkpointable = requires(const S& cs, S& s, Writer& w, Reader& r) {
  cs.save(w);
  s.load(r);
};

}  // namespace dphys
