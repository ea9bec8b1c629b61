// dphys/qd/concepts.hpp — `qd_strategy`, the ask/tell contract of quality-diversity strategies
// (map_elites, cma_me, novelty_search): like dphys::search_strategy, but tell takes the objectives
// AND the descriptors of the asked population. Also the random stream ids of dphys::qd.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

#include <dphys/core/random.hpp>

namespace dphys::qd {

/// Random streams of dphys::qd (docs/reference/random.md): 0x5101 map_elites, 0x5102 cvt_archive
/// centroids, 0x5103 novelty_search (probabilistic archive addition), 0x5104 cma_me (emitter seeds,
/// restart elites, random directions).
inline constexpr stream_id map_elites_stream = static_cast<stream_id>(0x5101u);
inline constexpr stream_id novelty_stream = static_cast<stream_id>(0x5103u);
inline constexpr stream_id cma_me_stream = static_cast<stream_id>(0x5104u);

/// qd_strategy<S> — which candidates next, when each candidate yields an objective and a
/// descriptor vector.
/// Minimal complete definition: S::value_type (floating point); s.ask() -> span of
///   population_size() × dimension() values (row-major); s.tell(objectives, descriptors) with
///   population_size() objectives (higher is better) and population_size() × descriptor_dim()
///   descriptors (row-major); s.dimension(); s.descriptor_dim(); s.population_size();
///   s.generation().
/// Laws: ask is a pure function of (state, seed, generation); same seed and same tells ⇒ same ask
///   sequence and bitwise-identical state; tell advances generation() by one; tell without a
///   preceding ask throws std::logic_error; wrong sizes throw std::invalid_argument; non-finite
///   objectives or descriptors are counted (non_finite()) and never stored in an archive.
template <class S>
concept qd_strategy = std::floating_point<typename S::value_type> &&
    requires(S& s, const S& cs, std::span<const typename S::value_type> v) {
  { s.ask() } -> std::convertible_to<std::span<const typename S::value_type>>;
  s.tell(v, v);
  { cs.dimension() } -> std::convertible_to<std::size_t>;
  { cs.descriptor_dim() } -> std::convertible_to<std::size_t>;
  { cs.population_size() } -> std::convertible_to<std::size_t>;
  { cs.generation() } -> std::convertible_to<std::uint32_t>;
  { cs.non_finite() } -> std::convertible_to<std::uint64_t>;
};

}  // namespace dphys::qd
