// dphys/plasticity/eligibility_trace.hpp — koki2's three-factor rule (spec K5): an eligibility
// trace per edge, e' = λe + s_pre(t−1)·s_post(t), gated by a scalar modulator m (spike readout,
// drive reduction or event signal), Δw = η·m·e', w ← clip(w + Δw, −3, 3). Disabled ⇒ weights and
// trace untouched.
//
// Config: eligibility_trace_config. Determinism/SIMD: written on the lane type F; fixed summation
// order. Diagnostics per step: mean |Δw applied| over edges and |m| (0 when disabled).
// Sparsity: after an episode's first update only the edges whose update is not exactly the identity
//   (nonzero trace, or −0 weight, in some lane) are visited; the bookkeeping lives in snn_state.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>

#include <dphys/agents/snn.hpp>
#include <dphys/core/config.hpp>
#include <dphys/core/math.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/simd.hpp>

namespace dphys::plasticity {

enum class modulator { spike = 0, drive = 1, event = 2 };
constexpr auto enum_names(modulator) {
  return std::array{std::pair{modulator::spike, std::string_view{"spike"}},
                    std::pair{modulator::drive, std::string_view{"drive"}},
                    std::pair{modulator::event, std::string_view{"event"}}};
}

struct eligibility_trace_config {
  bool enabled = false;
  float eta = 0.0f;
  float lambda = 0.9f;
  modulator kind = modulator::spike;
  float mod_drive_scale = 1.0f;  ///< c: scales both the drive and the event signal
  float w_clip = 3.0f;
  /// Evaluation probe (spec K15): when true, m is replaced by `clamped_value` (0 = causal
  /// ablation).
  bool clamp_modulator = false;
  float clamped_value = 0.0f;

  void check(config_checker<eligibility_trace_config>& c) const {
    c(&eligibility_trace_config::eta).finite();
    c(&eligibility_trace_config::lambda).in_range(0.0, 1.0);
    c(&eligibility_trace_config::mod_drive_scale).finite();
    c(&eligibility_trace_config::w_clip).greater_than(0.0).finite();
    c(&eligibility_trace_config::clamped_value).in_range(-1.0, 1.0);
  }
};

/// The neuromodulatory signals of one step, per lane.
template <simd::lane_type F>
struct modulator_signals {
  F drive_before = F(0.0f),
    drive_after = F(0.0f);  ///< homeostatic drive before/after the env transition
  F energy_gained = F(0.0f), integrity_lost = F(0.0f);
};

template <simd::lane_type F>
struct plasticity_step {
  F mean_abs_dw = F(0.0f);
  F abs_modulator = F(0.0f);
};

class eligibility_trace {
 public:
  eligibility_trace() = default;
  explicit eligibility_trace(const eligibility_trace_config& cfg) : cfg_(cfg) {}
  [[nodiscard]] const eligibility_trace_config& config() const { return cfg_; }
  [[nodiscard]] bool enabled() const { return cfg_.enabled; }

  /// Applies one update after the agent's forward pass and the env transition (s.spike = this
  /// step's spikes = post, s.spike_prev = the previous step's = pre). Edges are visited in the
  /// network's internal (source) order, which fixes the summation order of mean |Δw|.
  template <simd::lane_type F>
  plasticity_step<F> update(agents::snn_state<F>& s, const agents::snn& net,
                            const agents::lane_params& p, const modulator_signals<F>& sig) const {
    plasticity_step<F> out;
    if (!cfg_.enabled) return out;
    const F zero(0.0f);
    F m(0.0f);
    if (cfg_.clamp_modulator) {
      m = F(cfg_.clamped_value);
    } else if (cfg_.kind == modulator::spike) {
      // Readout over the spiking units in neuron order; silent units add exactly +0 (skipped).
      const std::size_t mod_w = net.layout().mod_w();
      F acc(0.0f);
      for (std::uint32_t q = 0; q < s.n_fired; ++q) {
        const std::uint32_t i = s.fired[q];
        acc = acc + simd::keep(simd::mask_t<F>(s.spike[i]), p.get<F>(mod_w + i));
      }
      m = math::tanh(acc);
    } else {
      const F c(cfg_.mod_drive_scale);
      const F raw = cfg_.kind == modulator::drive ? sig.drive_before - sig.drive_after
                                                  : sig.energy_gained - sig.integrity_lost;
      m = math::tanh(c * raw);
    }
    // Trace and weight update of every edge, in internal (source) order. An edge is *dead* while
    // its trace is +0 and its weight in [lo, hi], not NaN, not −0, in every lane, and its source
    // did not fire together with its target (pre·post = +0): with a finite gate its update is then
    // exactly e' = λ·(+0) + (+0) = +0, w' = clamp(w + gate·(+0)) = w, adding |w' − w| = +0 to a sum
    // that is never −0, so only the other (live) edges are visited, in the same order.
    const F lambda(cfg_.lambda), gate = F(cfg_.eta) * m, lo(-cfg_.w_clip), hi(cfg_.w_clip);
    const auto out_begin = net.out_begin();
    const auto dst = net.edge_dst();
    const std::size_t n = s.spike.size(), e = s.trace.size();
    if (s.plastic_clip != cfg_.w_clip) s.plastic_ready = false;  // dead was judged for another clip
    F sum_abs(0.0f);
    auto apply = [&](std::uint32_t k, const F& tr) {
      s.trace[k] = tr;
      const F w_new = simd::clamp(s.w[k] + gate * tr, lo, hi);
      sum_abs = sum_abs + simd::abs(w_new - s.w[k]);
      s.w[k] = w_new;
    };
    // Edges that come alive: pre and post nonzero in a common lane (sticky), appended to s.fresh
    // in ascending order. A source's dead edges are first examined all at once (the lane-wise max
    // over its targets of `dead` where the target spiked is nonzero where a dead edge's target
    // fired), one by one only when one of them comes alive.
    // (Raw pointers: the byte stores may alias the vectors' own members.)
    // Once most edges are live the episode stays on the dense pass (edges never die again), which
    // needs no live list, so nothing is marked any more.
    const bool dense_for_good = s.plastic_ready && 2 * std::size_t{s.n_live} > e;
    std::uint32_t n_fresh = 0;
    if (!dense_for_good) {
      const auto* spike = s.spike.data();
      const auto* spike_prev = s.spike_prev.data();
      const std::uint32_t* fired_prev = s.fired_prev.data();
      float* dead = s.edge_dead.data();
      std::uint32_t* fresh = s.fresh.data();
      const std::uint32_t n_fired_prev = s.n_fired_prev;
      for (std::uint32_t q = 0; q < n_fired_prev; ++q) {
        const std::uint32_t j = fired_prev[q];
        const simd::mask_t<F> pre = spike_prev[j];
        const std::uint32_t k0 = out_begin[j], k1 = out_begin[j + 1];
        F post(0.0f);
        for (std::uint32_t k = k0; k < k1; ++k)
          post = simd::max(post, simd::keep(simd::mask_t<F>(spike[dst[k]]), F(dead[k])));
        if (!simd::any(pre && post != zero)) continue;
        for (std::uint32_t k = k0; k < k1; ++k)
          if (dead[k] != 0.0f && simd::any(pre && simd::mask_t<F>(spike[dst[k]]))) {
            dead[k] = 0.0f;
            fresh[n_fresh++] = k;
          }
      }
    }
    // Every edge on the first update, with a non-finite gate, or when most edges are live.
    const bool every_edge = !s.plastic_ready || !simd::all(gate - gate == zero) || dense_for_good;
    if (every_edge) {
      for (std::size_t j = 0; j < n; ++j) {
        const simd::mask_t<F> pre = s.spike_prev[j];
        if (simd::any(pre)) {
          for (std::uint32_t k = out_begin[j]; k < out_begin[j + 1]; ++k)
            apply(k, lambda * s.trace[k] +
                         simd::to_unit<F>(pre && simd::mask_t<F>(s.spike[dst[k]])));
        } else {
          // pre = 0 in every lane: e' = λe + (+0) = λe exactly (traces are never −0).
          for (std::uint32_t k = out_begin[j]; k < out_begin[j + 1]; ++k)
            apply(k, lambda * s.trace[k]);
        }
      }
      if (!s.plastic_ready) {
        // Dead: +0 trace and a weight that is not −0 in every lane (the sign bit or-ed into 1
        // makes −1 of a negative zero); the weights are clamped now.
        const F one(1.0f);
        auto signed_zero = [&](const F& x) {
          return x == zero && simd::as_float(simd::as_uint(x) | simd::as_uint(one)) < zero;
        };
        std::uint32_t c = 0;
        for (std::uint32_t k = 0; k < e; ++k) {
          const bool dead = simd::all(s.trace[k] == zero && !signed_zero(s.trace[k])) &&
                            !simd::any(signed_zero(s.w[k]));
          s.edge_dead[k] = dead ? 1.0f : 0.0f;
          s.live_edges[c] = k;  // branch-free append, ascending
          c += dead ? 0u : 1u;
        }
        s.n_live = c;
        s.plastic_ready = true;
        s.plastic_clip = cfg_.w_clip;
        n_fresh = 0;  // already in the list
      }
    }
    if (n_fresh > 0) {  // merge the fresh edges into the live list from the back
      std::uint32_t i = s.n_live, f = n_fresh, out = s.n_live + n_fresh;
      while (f > 0) {
        if (i > 0 && s.live_edges[i - 1] > s.fresh[f - 1])
          s.live_edges[--out] = s.live_edges[--i];
        else
          s.live_edges[--out] = s.fresh[--f];
      }
      s.n_live += n_fresh;
    }
    if (!every_edge) {
      // Only the live edges. pre·post (spike values 0 or 1, so the unit of pre && post) is exactly
      // +0 for a source silent in every lane, so λe + pre·post = λe as in the per-source form.
      const auto src = net.edge_src();
      const auto* spike = s.spike.data();
      const auto* spike_prev = s.spike_prev.data();
      F* trace = s.trace.data();
      F* w = s.w.data();
      const std::uint32_t* live = s.live_edges.data();
      const std::uint32_t n_live = s.n_live;
      for (std::uint32_t q = 0; q < n_live; ++q) {
        const std::uint32_t k = live[q];
        const F tr = lambda * trace[k] + simd::to_unit<F>(simd::mask_t<F>(spike_prev[src[k]]) &&
                                                          simd::mask_t<F>(spike[dst[k]]));
        trace[k] = tr;
        const F w_new = simd::clamp(w[k] + gate * tr, lo, hi);
        sum_abs = sum_abs + simd::abs(w_new - w[k]);
        w[k] = w_new;
      }
    }
    out.mean_abs_dw = e ? sum_abs / F(static_cast<float>(e)) : F(0.0f);
    out.abs_modulator = simd::abs(m);
    return out;
  }

 private:
  eligibility_trace_config cfg_{};
};

}  // namespace dphys::plasticity

DPHYS_ADAPT_STRUCT(dphys::plasticity::eligibility_trace_config, enabled, eta, lambda, kind,
                   mod_drive_scale, w_clip, clamp_modulator, clamped_value);
