// dphys/agents/snn.hpp — koki2's leaky integrate-and-fire network (spec K3): every neuron receives
// the observation, recurrent input flows along a sparse edge list shared by the run, reset by
// subtraction, strict threshold, motor readout argmax (first index on ties).
//
// Config: snn_config. The edge list (`topology`) is built from a seed or loaded from a file.
// Determinism: summation orders are fixed — a neuron's input is its observation channels in order,
//   then its in-edges in source order (ties: list order; for the source-major lists that
//   topology::random builds, this is list order); motor scores sum the units in neuron order, then
//   the bias — so the float and the SIMD instantiations agree bit for bit.
// Sparsity: a silent neuron contributes nothing (not 0·w), so the recurrent and motor passes visit
//   only the sources that spiked in at least one lane of the block; skipped terms are exactly +0.
// SIMD: one lane per (member, episode); per-lane parameters are lane-interleaved (`lane_params`).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__AVX__)
#include <immintrin.h>
#endif

#include <dphys/core/config.hpp>
#include <dphys/core/numpy_random.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/simd.hpp>
#include <dphys/genomes/direct.hpp>
#include <dphys/run/npy.hpp>

namespace dphys::agents {

/// How topology::make draws the edges from the topology seed.
enum class topology_generator {
  counter,  ///< dphys's counter-based stream `topology` (topology::random)
  numpy     ///< NumPy's default_rng(seed).choice, as koki2 draws them (topology::numpy)
};
constexpr auto enum_names(topology_generator) {
  return std::array{std::pair{topology_generator::counter, std::string_view{"counter"}},
                    std::pair{topology_generator::numpy, std::string_view{"numpy"}}};
}

struct snn_config {
  int n_neurons = 32;
  int k_edges = 8;                  ///< outgoing edges per neuron (capped at n_neurons - 1)
  std::int64_t topology_seed = -1;  ///< < 0: run seed + 12345 (koki2)
  /// numpy: koki2's exact edges for the seed (NumPy PCG64); counter: dphys's own draw.
  topology_generator topology_rng = topology_generator::counter;
  std::string edge_file;  ///< non-empty: load the edge list from this file instead
  float theta = 1.0f;
  float tau_m = 10.0f;

  void check(config_checker<snn_config>& c) const {
    c(&snn_config::n_neurons).at_least(1).at_most(4096);
    c(&snn_config::k_edges).at_least(0).at_most(4096);
    c(&snn_config::theta).greater_than(0.0).finite();
    c(&snn_config::tau_m).greater_than(0.0).finite();
  }
};

/// A directed edge list (src[e] -> dst[e]); the order is the summation order of recurrent input.
struct topology {
  std::vector<std::uint32_t> src, dst;
  std::size_t n_neurons = 0;

  [[nodiscard]] std::size_t size() const { return src.size(); }
  bool operator==(const topology&) const = default;

  /// The rows (src, dst) of koki2's edge_index, flattened: what edge_index.npy holds (int32 [E, 2]).
  [[nodiscard]] std::vector<std::int32_t> edge_index() const {
    std::vector<std::int32_t> rows;
    rows.reserve(2 * size());
    for (std::size_t e = 0; e < size(); ++e) {
      rows.push_back(static_cast<std::int32_t>(src[e]));
      rows.push_back(static_cast<std::int32_t>(dst[e]));
    }
    return rows;
  }

  /// koki2's construction: neuron i gets min(k, N-1) distinct targets != i, drawn without
  /// replacement (here by a counter-based partial Fisher–Yates shuffle keyed by the seed, so not
  /// koki2's NumPy edges: use from_file for those). Edges are source-major.
  static topology random(std::size_t n, std::size_t k, std::uint64_t seed) {
    topology t;
    t.n_neurons = n;
    const std::size_t kk = std::min(k, n > 0 ? n - 1 : 0);
    const auto key = random_key::make(seed, stream_id::topology, 0, 0);
    std::vector<std::uint32_t> cand;
    for (std::uint32_t i = 0; i < n; ++i) {
      cand.clear();
      for (std::uint32_t j = 0; j < n; ++j)
        if (j != i) cand.push_back(j);
      for (std::uint32_t e = 0; e < kk; ++e) {
        const auto r = static_cast<std::uint32_t>(
            randint<float>(key, i, 0u, e, static_cast<std::uint32_t>(cand.size() - e)));
        std::swap(cand[e], cand[e + r]);
        t.src.push_back(i);
        t.dst.push_back(cand[e]);
      }
    }
    return t;
  }

  /// koki2's edges for the seed, bit for bit: neuron i gets min(k, N-1) targets drawn by
  /// numpy.random.default_rng(seed).choice(<the other neurons>, size=k, replace=False), one call
  /// per neuron in order (core/numpy_random.hpp). Edges are source-major.
  static topology numpy(std::size_t n, std::size_t k, std::uint64_t seed) {
    topology t;
    t.n_neurons = n;
    const std::size_t kk = std::min(k, n > 0 ? n - 1 : 0);
    dphys::numpy::pcg64 rng(seed);
    for (std::size_t i = 0; i < n; ++i)
      for (const std::int64_t c : rng.choice_without_replacement(n - 1, kk)) {
        t.src.push_back(static_cast<std::uint32_t>(i));  // candidate c is neuron c, skipping i
        t.dst.push_back(static_cast<std::uint32_t>(static_cast<std::size_t>(c) < i ? c : c + 1));
      }
    return t;
  }

  /// Reads an edge list: a `.npy` file of int32 or int64 with shape [E, 2] (koki2's edge_index
  /// saved with numpy.save; every dphys run's edge_index.npy), or else text with "src dst" pairs,
  /// one edge per line ('#' starts a comment; numpy.savetxt(..., fmt="%d")). Errors name the file,
  /// the line or edge, and the rule.
  static topology from_file(const std::filesystem::path& path, std::size_t n_neurons) {
    if (path.extension() == ".npy") return from_npy(path, n_neurons);
    std::ifstream in(path);
    if (!in) throw std::runtime_error("edge file " + path.string() + ": cannot open");
    topology t;
    t.n_neurons = n_neurons;
    std::string line;
    for (std::size_t lineno = 1; std::getline(in, line); ++lineno) {
      if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
      std::istringstream ls(line);
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank line
      long long a = 0, b = 0;
      std::string rest;
      if (!(ls >> a) || !(ls >> b) || (ls >> rest))
        throw std::runtime_error("edge file " + path.string() + ":" + std::to_string(lineno) +
                                 ": expected two integers 'src dst', got '" + line + "'");
      t.add_checked(a, b, path.string() + ":" + std::to_string(lineno));
    }
    return t;
  }

  /// The edge list of a `.npy` file: int32 or int64, shape [E, 2], row e = (src, dst).
  static topology from_npy(const std::filesystem::path& path, std::size_t n_neurons) {
    const std::string bytes = run::read_file(path);
    std::vector<std::size_t> shape;
    std::vector<std::int64_t> flat;
    try {
      const auto a = run::decode_npy<std::int32_t>(bytes, path.string());
      shape = a.shape;
      flat.assign(a.data.begin(), a.data.end());
    } catch (const run::format_error& not_int32) {
      // Not an int32 array: an int64 one, or else the int32 reader's complaint (a truncated file)
      // unless that was only about the dtype (then the int64 reader's, naming the dtype found).
      if (std::string_view(not_int32.what()).find("wrong dtype") == std::string_view::npos)
        throw;
      auto a = run::decode_npy<std::int64_t>(bytes, path.string());
      shape = a.shape;
      flat = std::move(a.data);
    }
    if (shape.size() != 2 || shape[1] != 2)
      throw std::runtime_error("edge file " + path.string() +
                               ": an edge list has shape [E, 2], found " +
                               run::detail::shape_str(shape));
    topology t;
    t.n_neurons = n_neurons;
    for (std::size_t e = 0; e < shape[0]; ++e)
      t.add_checked(flat[2 * e], flat[2 * e + 1], path.string() + ": row " + std::to_string(e));
    return t;
  }

  /// Appends the edge a -> b; both ends must be neurons, else the error names `where` (the file and
  /// its line or row).
  void add_checked(long long a, long long b, const std::string& where) {
    if (a < 0 || b < 0 || static_cast<unsigned long long>(a) >= n_neurons ||
        static_cast<unsigned long long>(b) >= n_neurons)
      throw std::runtime_error("edge file " + where + ": edge " + std::to_string(a) + " -> " +
                               std::to_string(b) + " outside [0, " + std::to_string(n_neurons) +
                               ")");
    src.push_back(static_cast<std::uint32_t>(a));
    dst.push_back(static_cast<std::uint32_t>(b));
  }

  static topology make(const snn_config& cfg, std::uint64_t run_seed) {
    const auto n = static_cast<std::size_t>(cfg.n_neurons);
    if (!cfg.edge_file.empty()) return from_file(cfg.edge_file, n);
    const auto seed =
        cfg.topology_seed >= 0 ? static_cast<std::uint64_t>(cfg.topology_seed) : run_seed + 12345u;
    const auto k = static_cast<std::size_t>(cfg.k_edges);
    return cfg.topology_rng == topology_generator::numpy ? numpy(n, k, seed) : random(n, k, seed);
  }
};

namespace detail {
#if defined(__AVX512F__)
/// Interleaves parameters [0, 16·⌊n/16⌋) of 16 rows into out (out[p·16 + l] = row l's p) by
/// 16×16 register transposes (the scalar loop stores one float per 64-byte line); returns how
/// many parameters it did.
template <class RowOf>
std::size_t interleave16(std::size_t n_params, float* out, RowOf& row_of) {
  std::array<const float*, 16> rows;
  for (std::size_t l = 0; l < 16; ++l) rows[l] = row_of(l);
  std::size_t p = 0;
  for (; p + 16 <= n_params; p += 16) {
    // The masked forms with an all-ones mask are the same instructions; unlike the plain ones they
    // take a defined pass-through operand (GCC 12 warns about _mm512_undefined_ps otherwise).
    const __mmask16 all = 0xFFFF;
    __m512 r[16], t[16];
    for (int l = 0; l < 16; ++l) r[l] = _mm512_loadu_ps(rows[l] + p);
    for (int i = 0; i < 8; ++i) {
      const __m512 a = r[2 * i], b = r[2 * i + 1];
      t[2 * i] = _mm512_mask_unpacklo_ps(a, all, a, b);
      t[2 * i + 1] = _mm512_mask_unpackhi_ps(a, all, a, b);
    }
    for (int i = 0; i < 4; ++i) {
      const __m512 a0 = t[4 * i], a1 = t[4 * i + 1], b0 = t[4 * i + 2], b1 = t[4 * i + 3];
      r[4 * i + 0] = _mm512_mask_shuffle_ps(a0, all, a0, b0, 0x44);
      r[4 * i + 1] = _mm512_mask_shuffle_ps(a0, all, a0, b0, 0xEE);
      r[4 * i + 2] = _mm512_mask_shuffle_ps(a1, all, a1, b1, 0x44);
      r[4 * i + 3] = _mm512_mask_shuffle_ps(a1, all, a1, b1, 0xEE);
    }
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 4; ++j) {
        const __m512 a = r[8 * i + j], b = r[8 * i + 4 + j];
        t[8 * i + j] = _mm512_mask_shuffle_f32x4(a, all, a, b, 0x88);
        t[8 * i + 4 + j] = _mm512_mask_shuffle_f32x4(a, all, a, b, 0xDD);
      }
    for (int j = 0; j < 8; ++j) {
      const __m512 a = t[j], b = t[8 + j];
      r[j] = _mm512_mask_shuffle_f32x4(a, all, a, b, 0x88);
      r[8 + j] = _mm512_mask_shuffle_f32x4(a, all, a, b, 0xDD);
    }
    for (int i = 0; i < 16; ++i)
      _mm512_storeu_ps(out + (p + static_cast<std::size_t>(i)) * 16, r[i]);
  }
  return p;
}
#endif
#if defined(__AVX__)
/// Interleaves parameters [0, 8·⌊n/8⌋) of 8 rows into out (out[p·8 + l] = row l's p) by 8×8
/// register transposes; returns how many parameters it did.
template <class RowOf>
std::size_t interleave8(std::size_t n_params, float* out, RowOf& row_of) {
  std::array<const float*, 8> rows;
  for (std::size_t l = 0; l < 8; ++l) rows[l] = row_of(l);
  std::size_t p = 0;
  for (; p + 8 <= n_params; p += 8) {
    __m256 r[8], t[8];
    for (int l = 0; l < 8; ++l) r[l] = _mm256_loadu_ps(rows[l] + p);
    for (int i = 0; i < 4; ++i) {  // pairs of rows: (r0 p0, r1 p0, r0 p1, r1 p1 | … p4, p5) etc.
      t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; ++i) {  // quadruples of rows: one parameter per 128-bit half
      const __m256 a0 = t[4 * i], a1 = t[4 * i + 1], b0 = t[4 * i + 2], b1 = t[4 * i + 3];
      r[4 * i + 0] = _mm256_shuffle_ps(a0, b0, 0x44);
      r[4 * i + 1] = _mm256_shuffle_ps(a0, b0, 0xEE);
      r[4 * i + 2] = _mm256_shuffle_ps(a1, b1, 0x44);
      r[4 * i + 3] = _mm256_shuffle_ps(a1, b1, 0xEE);
    }
    for (int j = 0; j < 4; ++j) {  // rows 0–3 and 4–7 joined: parameter j (low halves), j + 4
      _mm256_storeu_ps(out + (p + static_cast<std::size_t>(j)) * 8,
                       _mm256_permute2f128_ps(r[j], r[4 + j], 0x20));
      _mm256_storeu_ps(out + (p + static_cast<std::size_t>(j) + 4) * 8,
                       _mm256_permute2f128_ps(r[j], r[4 + j], 0x31));
    }
  }
  return p;
}
#endif
}  // namespace detail

/// Parameters of L lanes, interleaved: value p of lane l at data[p * L + l], so one load brings
/// parameter p of every lane of a block.
struct lane_params {
  std::vector<float> data;
  std::size_t lanes = 1;

  template <simd::lane_type F>
  [[nodiscard]] F get(std::size_t p) const {
    return simd::load<F>(data.data() + p * lanes);
  }

  /// Interleaves `lanes` genomes (genome l = rows[l]).
  template <class RowOf>
  void assign(std::size_t n_params, std::size_t n_lanes, RowOf&& row_of) {
    lanes = n_lanes;
    data.resize(n_params * n_lanes);
    std::size_t done = 0;
#if defined(__AVX512F__)
    if (n_lanes == 16) done = detail::interleave16(n_params, data.data(), row_of);
#endif
#if defined(__AVX__)
    if (n_lanes == 8) done = detail::interleave8(n_params, data.data(), row_of);
#endif
    for (std::size_t l = 0; l < n_lanes; ++l) {
      const float* r = row_of(l);
      for (std::size_t p = done; p < n_params; ++p) data[p * n_lanes + l] = r[p];
    }
  }
};

/// Per-lane dynamic state of the network. Edge arrays (w, trace) are in the network's internal
/// edge order (snn::edge_order()).
template <simd::lane_type F>
struct snn_state {
  std::vector<F> v, w, trace;
  /// The lanes in which neuron i spiked at this step (spike[i]) and at the previous one
  /// (spike_prev[i]), as masks: a spike's value is 1 in those lanes and +0 elsewhere
  /// (simd::to_unit), and a mask is a 2-byte load where the value would be a 64-byte one.
  std::vector<simd::mask_store_t<F>> spike, spike_prev;
  /// The neurons that spiked in at least one lane, ascending: fired[0..n_fired) (and likewise for
  /// the previous step), so the sparse passes loop over a list instead of branching on every
  /// neuron.
  std::vector<std::uint32_t> fired, fired_prev;
  std::uint32_t n_fired = 0, n_fired_prev = 0;
  std::vector<F> input;  ///< scratch: this step's input current per neuron
  /// Kept by the plasticity rule (eligibility_trace): edge_dead[k] is 1 while internal edge k is
  /// known to have a +0 trace and a clamped weight, not −0, in every lane, and 0 once it may not
  /// (sticky); live_edges[0..n_live) lists the latter, ascending; plastic_ready says whether the
  /// rule has run since reset(), which resets all of them. Code that writes w or trace between
  /// updates must call reset() or set plastic_ready = false.
  std::vector<float> edge_dead;
  std::vector<std::uint32_t> live_edges, fresh;  ///< fresh: scratch of the rule
  std::uint32_t n_live = 0;
  bool plastic_ready = false;
  float plastic_clip = 0.0f;  ///< the weight clip the dead edges were judged for
};

class snn {
 public:
  snn(const snn_config& cfg, topology topo, std::size_t obs_dim, std::size_t num_actions)
      : cfg_(cfg),
        topo_(std::move(topo)),
        layout_{static_cast<std::size_t>(cfg.n_neurons), topo_.size(), obs_dim, num_actions},
        decay_(std::exp(-1.0f / cfg.tau_m)) {
    index_edges();
  }

  [[nodiscard]] const genomes::direct_layout& layout() const { return layout_; }
  /// The edge list as given (genome order of rec_w; exported as edge_index.npy).
  [[nodiscard]] const topology& edges() const { return topo_; }
  [[nodiscard]] const snn_config& config() const { return cfg_; }
  [[nodiscard]] float membrane_decay() const { return decay_; }

  /// Internal edge order: edges stably sorted by source. Internal edge k is list edge
  /// edge_order()[k]; the out-edges of neuron j are internal edges [out_begin()[j],
  /// out_begin()[j+1]) and internal edge k ends at edge_dst()[k].
  [[nodiscard]] std::span<const std::uint32_t> edge_order() const { return order_; }
  [[nodiscard]] std::span<const std::uint32_t> out_begin() const { return out_begin_; }
  [[nodiscard]] std::span<const std::uint32_t> edge_dst() const { return dst_; }
  /// Internal edge k starts at edge_src()[k] (ascending).
  [[nodiscard]] std::span<const std::uint32_t> edge_src() const { return src_; }

  template <simd::lane_type F>
  void reset(snn_state<F>& s, const lane_params& p) const {
    const std::size_t n = layout_.n_neurons, e = layout_.n_edges;
    const simd::mask_store_t<F> silent = F(0.0f) != F(0.0f);
    s.v.assign(n, F(0.0f));
    s.spike.assign(n, silent);
    s.spike_prev.assign(n, silent);
    s.fired.assign(n, 0);
    s.fired_prev.assign(n, 0);
    s.n_fired = s.n_fired_prev = 0;
    s.input.assign(n, F(0.0f));
    s.trace.assign(e, F(0.0f));
    s.edge_dead.assign(e, 1.0f);
    s.live_edges.assign(e, 0);
    s.fresh.assign(e, 0);
    s.n_live = 0;
    s.plastic_ready = false;
    s.w.resize(e);
    for (std::size_t k = 0; k < e; ++k) s.w[k] = p.get<F>(layout_.rec_w() + order_[k]);
  }

  /// One forward step on observation obs[0..obs_dim); returns the chosen action (as a float
  /// 0..A-1). Afterwards s.spike holds this step's spikes and s.spike_prev the previous step's
  /// (likewise s.fired / s.fired_prev). Precondition: p holds lanes_v<F> lanes (p.lanes).
  template <simd::lane_type F>
  DPHYS_KERNEL_INLINE F act(snn_state<F>& s, const lane_params& p, const F* obs) const {
    const std::size_t n = layout_.n_neurons, od = layout_.obs_dim, na = layout_.num_actions;
    const F zero(0.0f);
    // Raw pointers: the mask stores below (bytes for float) may alias the vectors' own members, so
    // the compiler would otherwise reload them on every iteration.
    F* input = s.input.data();
    F* v_mem = s.v.data();
    const std::uint32_t* out_begin = out_begin_.data();
    const std::uint32_t* edge_dst = dst_.data();
    // Observation drive, channels in order. koki2's four channels get a path whose observations
    // stay in registers (a runtime channel count costs a loop per neuron).
    auto drive = [&](auto count) {
      const std::size_t m = count;
      for (std::size_t i = 0; i < n; ++i) {
        F acc = p.get<F>(layout_.obs_w() + i * m) * obs[0];
        for (std::size_t j = 1; j < m; ++j)
          acc = acc + p.get<F>(layout_.obs_w() + i * m + j) * obs[j];
        input[i] = acc;
      }
    };
    if (od == 4)
      drive(std::integral_constant<std::size_t, 4>{});
    else
      drive(od);
    // Recurrent input, scattered from the sources that spiked in some lane, in source order: each
    // destination receives its in-edges in source order. Lanes where the source is silent add +0.
    {
      const auto* spike = s.spike.data();
      const F* w = s.w.data();
      const std::uint32_t* fired = s.fired.data();
      const std::uint32_t n_fired = s.n_fired;
      for (std::uint32_t q = 0; q < n_fired; ++q) {
        const std::uint32_t j = fired[q];
        const simd::mask_t<F> on = spike[j];
        for (std::uint32_t k = out_begin[j]; k < out_begin[j + 1]; ++k) {
          F& in = input[edge_dst[k]];
          in = in + simd::keep(on, w[k]);
        }
      }
    }
    // Leaky integrate-and-fire; new spikes go to spike_prev's buffer (no longer needed), then the
    // buffers swap.
    {
      const F theta(cfg_.theta), decay(decay_);
      auto* spike_next = s.spike_prev.data();
      std::uint32_t* fired_next = s.fired_prev.data();
      std::uint32_t count = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const F v = v_mem[i] * decay + input[i];
        const auto fire = v > theta;
        spike_next[i] = fire;
        fired_next[count] = static_cast<std::uint32_t>(i);  // branch-free append
        count += static_cast<std::uint32_t>(simd::any(fire));  // no branch
        v_mem[i] = v - simd::keep(fire, theta);
      }
      s.n_fired_prev = count;
    }
    s.spike_prev.swap(s.spike);
    s.fired_prev.swap(s.fired);
    std::swap(s.n_fired_prev, s.n_fired);
    // Motor readout: scores over the spiking units in neuron order (silent units add +0, and a
    // score starting at +0 never becomes −0, so skipping them is exact), then the bias, then the
    // argmax (first index on ties). koki2's five actions get a path whose scores stay in registers
    // from the readout through the argmax.
    constexpr std::size_t L = simd::lanes_v<F>;
    auto readout = [&](auto count) {
      const std::size_t m = count;
      if (m == 0) return zero;
      std::array<F, max_actions> score;
      const float* motor_w = p.data.data() + layout_.motor_w() * L;
      const float* motor_b = p.data.data() + layout_.motor_b() * L;
      for (std::size_t a = 0; a < m; ++a) score[a] = zero;
      const auto* spike = s.spike.data();
      const std::uint32_t* fired = s.fired.data();
      const std::uint32_t n_fired = s.n_fired;
      for (std::uint32_t q = 0; q < n_fired; ++q) {
        const std::uint32_t i = fired[q];
        const simd::mask_t<F> on = spike[i];
        for (std::size_t a = 0; a < m; ++a)
          score[a] = score[a] + simd::keep(on, simd::load<F>(motor_w + (i * m + a) * L));
      }
      F best = score[0] + simd::load<F>(motor_b), action(0.0f);
      for (std::size_t a = 1; a < m; ++a) {
        const F sc = score[a] + simd::load<F>(motor_b + a * L);
        const auto better = sc > best;  // strict: first index wins ties
        best = simd::select(better, sc, best);
        action = simd::select(better, F(static_cast<float>(a)), action);
      }
      return action;
    };
    if (na == 5) return readout(std::integral_constant<std::size_t, 5>{});
    return readout(na);
  }

  /// Largest number of motor actions (the readout keeps one score per action).
  static constexpr std::size_t max_actions = 16;

 private:
  snn_config cfg_;
  topology topo_;
  genomes::direct_layout layout_;
  float decay_;
  std::vector<std::uint32_t> order_, out_begin_, dst_, src_;

  void index_edges() {  // counting sort of the edges by source, stable (list order kept per source)
    const std::size_t n = layout_.n_neurons;
    if (layout_.num_actions > max_actions)
      throw std::invalid_argument("snn: " + std::to_string(layout_.num_actions) +
                                  " motor actions, at most " + std::to_string(max_actions));
    for (std::size_t e = 0; e < topo_.size(); ++e)
      if (topo_.src[e] >= n || topo_.dst[e] >= n)
        throw std::invalid_argument("snn: edge " + std::to_string(e) + " (" +
                                    std::to_string(topo_.src[e]) + " -> " +
                                    std::to_string(topo_.dst[e]) + ") leaves the " +
                                    std::to_string(n) + " neurons");
    out_begin_.assign(n + 1, 0);
    for (auto src : topo_.src) ++out_begin_[src + 1];
    for (std::size_t i = 0; i < n; ++i) out_begin_[i + 1] += out_begin_[i];
    std::vector<std::uint32_t> next(out_begin_.begin(), out_begin_.end() - 1);
    order_.assign(topo_.size(), 0);
    dst_.assign(topo_.size(), 0);
    src_.assign(topo_.size(), 0);
    for (std::size_t e = 0; e < topo_.size(); ++e) {
      const std::uint32_t k = next[topo_.src[e]]++;
      order_[k] = static_cast<std::uint32_t>(e);
      dst_[k] = topo_.dst[e];
      src_[k] = topo_.src[e];
    }
  }
};

}  // namespace dphys::agents

DPHYS_ADAPT_STRUCT(dphys::agents::snn_config, n_neurons, k_edges, topology_seed, topology_rng,
                   edge_file, theta, tau_m);
