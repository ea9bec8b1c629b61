// dphys/genomes/direct.hpp — koki2's direct encoding of an LIF network (spec K4): one flat float
// vector holding obs_w [N×obs], rec_w [E], motor_w [N×A], motor_b [A], mod_w [N], in that order,
// row-major.
//
// Extension point: any genome is a layout (`size()`) plus an initialiser; phenotypes read named
// views. Determinism: init draws N(0, init_std²) from stream genome_init keyed by (seed, member).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include <dphys/core/random.hpp>

namespace dphys::genomes {

/// Offsets of the five koki2 arrays in a flat genome.
struct direct_layout {
  std::size_t n_neurons = 32, n_edges = 256, obs_dim = 4, num_actions = 5;

  [[nodiscard]] constexpr std::size_t obs_w() const { return 0; }
  [[nodiscard]] constexpr std::size_t rec_w() const { return obs_w() + n_neurons * obs_dim; }
  [[nodiscard]] constexpr std::size_t motor_w() const { return rec_w() + n_edges; }
  [[nodiscard]] constexpr std::size_t motor_b() const {
    return motor_w() + n_neurons * num_actions;
  }
  [[nodiscard]] constexpr std::size_t mod_w() const { return motor_b() + num_actions; }
  [[nodiscard]] constexpr std::size_t size() const { return mod_w() + n_neurons; }
};

/// Named views of one genome (non-owning).
template <class T>
struct direct_views {
  std::span<T> obs_w, rec_w, motor_w, motor_b, mod_w;
};

/// The direct genome: a layout and koki2's N(0, 0.1²) initialisation.
struct direct_genome {
  direct_layout layout{};
  float init_std = 0.1f;

  [[nodiscard]] std::size_t size() const { return layout.size(); }

  template <class T>
  [[nodiscard]] direct_views<T> views(std::span<T> g) const {
    if (g.size() != size())
      throw std::invalid_argument("direct_genome: genome has " + std::to_string(g.size()) +
                                  " parameters, the layout needs " + std::to_string(size()));
    const auto& l = layout;
    return {g.subspan(l.obs_w(), l.n_neurons * l.obs_dim), g.subspan(l.rec_w(), l.n_edges),
            g.subspan(l.motor_w(), l.n_neurons * l.num_actions),
            g.subspan(l.motor_b(), l.num_actions), g.subspan(l.mod_w(), l.n_neurons)};
  }

  /// Writes the initial genome of `member` (koki2: the ES mean is member 0 of generation 0).
  void init(std::uint64_t seed, std::uint32_t member, std::span<float> out) const {
    const auto key = random_key::make(seed, stream_id::genome_init, 0, 0);
    fill_normal(key, member, 0, out);
    for (auto& v : out) v *= init_std;
  }
};

}  // namespace dphys::genomes
