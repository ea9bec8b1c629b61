// Tests of the chemotaxis environment, the LIF agent and the eligibility trace: koki2's own unit
// facts (spec AK1, AK6), each run for the float reference, the native SIMD batch and an emulated
// odd width; and of the generic episodic rollout with the cart-pole environment.
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include <doctest/doctest.h>
#include <fstream>

#include <dphys/agents/snn.hpp>
#include <dphys/crucibles/episodic.hpp>
#include <dphys/crucibles/rollout.hpp>
#include <dphys/crucibles/viability.hpp>
#include <dphys/envs/cart_pole.hpp>
#include <dphys/envs/chemotaxis.hpp>
#include <dphys/envs/chemotaxis_task.hpp>
#include <dphys/envs/laws.hpp>
#include <dphys/genomes/direct.hpp>
#include <dphys/plasticity/eligibility_trace.hpp>
#include <dphys/run/npy.hpp>

#include "support.hpp"

using namespace dphys;

namespace {

using emu3 = simd::emulated<float, 3>;

/// True when every lane of v equals x exactly.
template <class F>
bool lanes_equal(const F& v, float x) {
  for (std::size_t l = 0; l < simd::lanes_v<F>; ++l)
    if (!(simd::lane(v, l) == x)) return false;
  return true;
}
template <class F>
float lane0(const F& v) {
  return simd::lane(v, 0);
}

template <class F>
struct world {
  envs::chemotaxis env;
  envs::chemotaxis_state<F> s;
  std::array<F, 4> obs;
  envs::episode_keys keys{7, 0};

  explicit world(envs::chemotaxis_config c) : env(c) {
    env.reset(s, keys, simd::uint_t<F>(0u), simd::uint_t<F>(0u), obs.data());
  }
  /// Puts the agent at (x, y) and source i at (sx[i], 0) with the given badness, then re-observes.
  void place(float x, std::vector<float> sx, std::vector<float> bad = {}) {
    s.x = F(x);
    s.y = F(0.0f);
    for (std::size_t i = 0; i < sx.size(); ++i) {
      s.sx[i] = F(sx[i]);
      s.sy[i] = F(0.0f);
      s.active[i] = F(1.0f);
      s.bad[i] = F(i < bad.size() ? bad[i] : 0.0f);
    }
    env.observe(s, keys, s.t, obs.data(), env.phase(s.t));
  }
  envs::transition<F> step(float action) { return env.step(s, F(action), keys, obs.data()); }
};

envs::chemotaxis_config line(int width, int sources = 1) {
  envs::chemotaxis_config c;
  c.width = width;
  c.height = 1;
  c.num_sources = sources;
  return c;
}

}  // namespace

#define LANE_TYPES float, dphys::simd::native, emu3

TEST_CASE_TEMPLATE("chemotaxis: nearest source and the good-only cue (koki2 facts)", F,
                   LANE_TYPES) {
  auto c = line(10, 2);
  c.num_bad_sources = 1;
  world<F> w(c);
  w.place(0, {2, 9}, {1, 0});  // bad at 2, good at 9
  CHECK(lanes_equal(w.obs[0], 2.0f / 9.0f));
  c.good_only_gradient = true;
  world<F> cue(c);
  cue.place(0, {2, 9}, {1, 0});
  CHECK(lanes_equal(cue.obs[0], 9.0f / 9.0f));

  world<F> near(line(10, 2));
  near.place(0, {9, 3});
  CHECK(lanes_equal(near.obs[0], 3.0f / 9.0f));
  CHECK(lanes_equal(near.obs[1], 0.0f));
  CHECK(lanes_equal(near.obs[2], 1.0f));  // energy
  CHECK(lanes_equal(near.obs[3], 1.0f));  // integrity
}

TEST_CASE_TEMPLATE("chemotaxis: energy gain on arrival only, bad sources cost integrity", F,
                   LANE_TYPES) {
  auto c = line(10);
  c.energy_gain = 0.25f;
  c.energy_decay = 0.0f;
  world<F> w(c);
  w.place(4, {5});
  auto tr = w.step(4);  // right: arrive
  CHECK(lanes_equal(tr.energy_gained, 0.25f));
  CHECK(simd::all(tr.reached));
  tr = w.step(0);  // stay on it
  CHECK(lanes_equal(tr.energy_gained, 0.0f));
  CHECK(simd::all(tr.reached));

  auto b = line(10);
  b.num_bad_sources = 1;
  b.bad_source_integrity_loss = 0.25f;
  b.energy_decay = 0.0f;
  world<F> h(b);
  h.place(4, {5}, {1});
  tr = h.step(4);
  CHECK(lanes_equal(h.s.integrity, 0.75f));
  CHECK(lanes_equal(tr.energy_gained, 0.0f));
  CHECK(lanes_equal(tr.bad_arrivals, 1.0f));
  CHECK(!simd::any(tr.reached));
  CHECK(!simd::any(tr.done));

  b.bad_source_integrity_loss = 1.0f;
  world<F> d(b);
  d.place(4, {5}, {1});
  d.s.integrity = F(0.5f);
  tr = d.step(4);
  CHECK(lanes_equal(d.s.integrity, 0.0f));
  CHECK(simd::all(tr.done));
}

TEST_CASE_TEMPLATE("chemotaxis: greedy reaches the source on a 16-wide line and terminates", F,
                   LANE_TYPES) {
  auto c = line(16);
  c.terminate_on_reach = true;
  world<F> w(c);
  w.place(8, {2});
  agents::greedy g;
  agents::greedy::state<F> gs;
  int steps = 0;
  envs::transition<F> tr;
  do {
    tr = w.step(lane0(g.act(gs, w.obs.data(), agents::act_context<F>{})));
    ++steps;
  } while (!simd::all(tr.done) && steps < 100);
  CHECK(steps == 6);  // exactly the Manhattan distance
  CHECK(simd::all(tr.reached));
  CHECK(lanes_equal(w.s.x, 2.0f));
}

TEST_CASE_TEMPLATE("chemotaxis: depletion countdown, respawn and hazard persistence", F,
                   LANE_TYPES) {
  auto c = line(10);
  c.source_deplete = true;
  c.respawn_delay = 2;
  world<F> w(c);
  w.place(4, {5});
  w.step(4);  // arrive: depleted, countdown 2 (not decremented on this step)
  CHECK(lanes_equal(w.s.active[0], 0.0f));
  CHECK(lanes_equal(w.s.countdown[0], 2.0f));
  CHECK(lanes_equal(w.obs[0], 0.0f));  // no active source: zero gradient
  w.step(0);
  CHECK(lanes_equal(w.s.countdown[0], 1.0f));
  CHECK(lanes_equal(w.s.active[0], 0.0f));
  w.step(0);  // third step: respawn
  CHECK(lanes_equal(w.s.active[0], 1.0f));
  CHECK(lanes_equal(w.s.countdown[0], 0.0f));

  auto h = line(8);
  h.source_deplete = true;
  h.num_bad_sources = 1;
  h.bad_deplete_p = 0.0f;
  world<F> hz(h);
  hz.place(3, {4}, {1});
  hz.step(4);  // onto the hazard: stays active
  CHECK(lanes_equal(hz.s.active[0], 1.0f));
  hz.step(3);  // step away: gradient +1/7
  CHECK(lanes_equal(hz.obs[0], 1.0f / 7.0f));

  h.bad_deplete_p = 1.0f;
  h.bad_respawn_delay = 0;
  h.respawn_delay = 5;
  world<F> rl(h);
  rl.place(3, {4}, {1});
  rl.step(4);  // delay 0: relocated in the same step, still active
  CHECK(lanes_equal(rl.s.active[0], 1.0f));
  CHECK(lanes_equal(rl.s.countdown[0], 0.0f));
}

TEST_CASE_TEMPLATE("chemotaxis: dropout, quantisation and nursing gain", F, LANE_TYPES) {
  auto c = line(10);
  c.grad_dropout_p = 1.0f;
  world<F> drop(c);
  drop.place(0, {5});
  CHECK(lanes_equal(drop.obs[0], 0.0f));
  CHECK(lanes_equal(drop.obs[1], 0.0f));
  c.grad_dropout_p = 0.0f;
  world<F> keep(c);
  keep.place(0, {5});
  CHECK(lanes_equal(keep.obs[0], 5.0f / 9.0f));

  auto q = line(16);
  q.grad_bins = {1.0f, 1.0f, 0.0f, 0.0f};
  world<F> b1(q);
  b1.place(0, {5});
  CHECK(lanes_equal(b1.obs[0], 0.0f));  // round(5/15) = 0
  q.grad_bins = {10.0f, 10.0f, 0.0f, 0.0f};
  world<F> b10(q);
  b10.place(0, {5});
  CHECK(lanes_equal(b10.obs[0], 3.0f / 10.0f));

  auto g = line(10);
  g.grad_gain = {0.0f, 1.0f, 0.5f, 1.0f};
  CHECK(g.grad_gain.at(0.0f) == 0.0f);
  CHECK(g.grad_gain.at(1.0f) == 1.0f);
  world<F> n(g);
  n.place(0, {5});  // φ = 0
  CHECK(lanes_equal(n.obs[0], 0.0f));
  n.s.t = static_cast<std::uint32_t>(g.max_steps - 1);
  n.env.observe(n.s, n.keys, n.s.t, n.obs.data(), n.env.phase(n.s.t));  // φ = 1
  CHECK(lanes_equal(n.obs[0], 5.0f / 9.0f));
}

TEST_CASE_TEMPLATE("chemotaxis: source placement and bad assignment are exact and lane independent",
                   F, LANE_TYPES) {
  auto c = line(64, 5);
  c.height = 7;
  c.num_bad_sources = 2;
  envs::chemotaxis env(c);
  constexpr std::size_t L = simd::lanes_v<F>;
  std::array<std::uint32_t, L> ep{};
  for (std::size_t l = 0; l < L; ++l) ep[l] = static_cast<std::uint32_t>(10 + l);
  simd::uint_t<F> ew;
  if constexpr (L == 1)
    ew = ep[0];
  else if constexpr (requires { simd::uint_t<F>::load_unaligned(ep.data()); })
    ew = simd::uint_t<F>::load_unaligned(ep.data());
  else
    for (std::size_t l = 0; l < L; ++l) ew.v[l] = ep[l];
  envs::chemotaxis_state<F> s;
  std::array<F, 4> obs;
  env.reset(s, {3, 1}, simd::uint_t<F>(2u), ew, obs.data());
  for (std::size_t l = 0; l < L; ++l) {
    envs::chemotaxis_state<float> r;
    std::array<float, 4> ro;
    env.reset(r, {3, 1}, 2u, ep[l], ro.data());
    float bad = 0;
    for (std::size_t i = 0; i < 5; ++i) {
      CHECK(simd::lane(s.sx[i], l) == r.sx[i]);
      CHECK(simd::lane(s.sy[i], l) == r.sy[i]);
      CHECK(simd::lane(s.bad[i], l) == r.bad[i]);
      CHECK(r.sx[i] >= 0.0f);
      CHECK(r.sx[i] < 64.0f);
      CHECK(r.sy[i] < 7.0f);
      bad += r.bad[i];
    }
    CHECK(bad == 2.0f);
    for (std::size_t k = 0; k < 4; ++k) CHECK(simd::lane(obs[k], l) == ro[k]);
  }
}

namespace {
/// koki2's transition written out plainly for one lane (booleans and ints, one pass per rule, the
/// arrival test recomputed from the position before the move): the reference the environment's
/// fused, lane-vectorised step is compared with.
struct reference_lane {
  const envs::chemotaxis_config& c;
  std::uint32_t member, episode;
  float x = 0, y = 0, energy = 0, integrity = 0;
  std::vector<float> sx, sy;
  std::vector<bool> active, bad;
  std::vector<int> countdown;
  std::size_t respawns = 0;

  /// Lane l of a freshly reset vectorised state (countdowns 0).
  template <class F>
  reference_lane(const envs::chemotaxis_config& cfg, std::uint32_t member_word,
                 std::uint32_t episode_word, const envs::chemotaxis_state<F>& s, std::size_t l)
      : c(cfg),
        member(member_word),
        episode(episode_word),
        x(simd::lane(s.x, l)),
        y(simd::lane(s.y, l)),
        energy(simd::lane(s.energy, l)),
        integrity(simd::lane(s.integrity, l)),
        countdown(s.sx.size(), 0) {
    for (std::size_t i = 0; i < s.sx.size(); ++i) {
      sx.push_back(simd::lane(s.sx[i], l));
      sy.push_back(simd::lane(s.sy[i], l));
      active.push_back(simd::lane(s.active[i], l) == 1.0f);
      bad.push_back(simd::lane(s.bad[i], l) == 1.0f);
    }
  }

  float step(float action, const envs::episode_keys& k, std::uint32_t t, float& gained, float& lost,
             bool& reached) {
    const std::size_t K = sx.size();
    std::vector<bool> before(K), arrived(K, false);
    for (std::size_t i = 0; i < K; ++i) before[i] = active[i] && sx[i] == x && sy[i] == y;
    const float dx = action == 4 ? 1.0f : action == 3 ? -1.0f : 0.0f;
    const float dy = action == 2 ? 1.0f : action == 1 ? -1.0f : 0.0f;
    x = std::clamp(x + dx, 0.0f, static_cast<float>(c.width - 1));
    y = std::clamp(y + dy, 0.0f, static_cast<float>(c.height - 1));
    float n_good = 0, n_bad = 0;
    reached = false;
    for (std::size_t i = 0; i < K; ++i) {
      const bool now = active[i] && sx[i] == x && sy[i] == y;
      reached = reached || (now && !bad[i]);
      arrived[i] = now && !before[i];
      if (arrived[i]) (bad[i] ? n_bad : n_good) += 1.0f;
    }
    if (c.source_deplete) {
      const auto coin_key = random_key::make(k.seed, stream_id::deplete_coin, k.generation, t);
      const auto cell_key = random_key::make(k.seed, stream_id::respawn_cells, k.generation, t);
      for (std::size_t i = 0; i < K; ++i) {
        bool deplete = arrived[i];
        if (deplete && bad[i] && c.bad_deplete_p < 1.0f)
          deplete = bernoulli<float>(coin_key, member, episode, static_cast<std::uint32_t>(i),
                                     c.bad_deplete_p);
        if (deplete) {
          active[i] = false;
          countdown[i] = bad[i] ? c.bad_delay() : c.respawn_delay;
        } else if (!active[i]) {
          countdown[i] = std::max(countdown[i] - 1, 0);
        }
        if (!active[i] && countdown[i] == 0) {
          sx[i] = randint<float>(cell_key, member, episode, static_cast<std::uint32_t>(2 * i),
                                 static_cast<std::uint32_t>(c.width));
          sy[i] = randint<float>(cell_key, member, episode, static_cast<std::uint32_t>(2 * i + 1),
                                 static_cast<std::uint32_t>(c.height));
          active[i] = true;
          ++respawns;
        }
      }
    }
    gained = c.energy_gain * n_good;
    lost = c.bad_source_integrity_loss * n_bad;
    energy = std::clamp(energy - c.decay() + gained, 0.0f, 1.0f);
    integrity = std::clamp(integrity - lost, 0.0f, 1.0f);
    return n_bad;
  }
};
}  // namespace

TEST_CASE(
    "chemotaxis: the vectorised step follows the plain transition lane by lane (depletion, "
    "respawn, coins, dropout)") {
  using F = simd::native;
  constexpr std::size_t L = simd::lanes_v<F>;
  for (int variant = 0; variant < 4; ++variant) {
    envs::chemotaxis_config c;
    c.width = 9;
    c.height = variant == 3 ? 1 : 4;  // small worlds: many arrivals, respawns onto the agent
    c.max_steps = 60;
    c.num_sources = 5;
    c.num_bad_sources = 2;
    c.bad_source_integrity_loss = 0.125f;
    c.source_deplete = true;
    c.respawn_delay = variant == 1 ? 0 : 3;
    c.bad_respawn_delay = variant == 2 ? 0 : -1;
    c.bad_deplete_p = variant >= 2 ? 0.5f : 1.0f;
    c.grad_dropout_p = variant == 0 ? 0.0f : 0.5f;
    c.good_only_gradient = variant == 2;
    const envs::chemotaxis env(c);
    envs::chemotaxis_state<F> s;  // reused across episodes and generations, as a thread does
    std::size_t arrivals = 0, respawns = 0, coins = 0, dropped = 0;
    for (std::uint32_t gen = 0; gen < 3; ++gen) {
      const envs::episode_keys k{11, gen};
      std::array<std::uint32_t, L> mw{}, ew{};
      for (std::size_t l = 0; l < L; ++l) {
        mw[l] = static_cast<std::uint32_t>(l % 3);
        ew[l] = static_cast<std::uint32_t>(l);
      }
      simd::uint_t<F> member, episode;
      if constexpr (L == 1) {
        member = mw[0];
        episode = ew[0];
      } else {
        member = simd::uint_t<F>::load_unaligned(mw.data());
        episode = simd::uint_t<F>::load_unaligned(ew.data());
      }
      std::array<F, 4> obs, seen;
      env.reset(s, k, member, episode, obs.data());
      std::vector<reference_lane> ref;
      for (std::size_t l = 0; l < L; ++l) ref.emplace_back(c, mw[l], ew[l], s, l);
      for (std::uint32_t t = 0; t < static_cast<std::uint32_t>(c.max_steps); ++t) {
        std::array<float, L> a{};
        for (std::size_t l = 0; l < L; ++l)  // actions from the counter: every move, and staying
          a[l] = randint<float>(random_key::make(5, stream_id::user, gen, t), mw[l], ew[l],
                                static_cast<std::uint32_t>(l), 5);
        F action;
        if constexpr (L == 1)
          action = a[0];
        else
          action = F::load_unaligned(a.data());
        const auto tr = env.step(s, action, k, obs.data());
        env.observe(s, k, s.t, seen.data(), env.phase(t));  // the unfused observation
        for (std::size_t l = 0; l < L; ++l) {
          float gained = 0, lost = 0;
          bool reached = false;
          const float n_bad = ref[l].step(a[l], k, t, gained, lost, reached);
          REQUIRE(simd::lane(s.x, l) == ref[l].x);
          REQUIRE(simd::lane(s.y, l) == ref[l].y);
          CHECK(simd::lane(tr.energy_gained, l) == gained);
          CHECK(simd::lane(tr.integrity_lost, l) == lost);
          CHECK(simd::lane(tr.bad_arrivals, l) == n_bad);
          CHECK(simd::lane(simd::to_unit<F>(tr.reached), l) == (reached ? 1.0f : 0.0f));
          CHECK(simd::lane(s.energy, l) == ref[l].energy);
          CHECK(simd::lane(s.integrity, l) == ref[l].integrity);
          arrivals += static_cast<std::size_t>(gained > 0 || n_bad > 0);
          for (std::size_t i = 0; i < s.sx.size(); ++i) {
            REQUIRE(simd::lane(s.sx[i], l) == ref[l].sx[i]);
            REQUIRE(simd::lane(s.sy[i], l) == ref[l].sy[i]);
            CHECK(simd::lane(s.active[i], l) == (ref[l].active[i] ? 1.0f : 0.0f));
            CHECK(simd::lane(s.countdown[i], l) == static_cast<float>(ref[l].countdown[i]));
          }
          for (std::size_t ch = 0; ch < 4; ++ch)
            CHECK(std::bit_cast<std::uint32_t>(simd::lane(obs[ch], l)) ==
                  std::bit_cast<std::uint32_t>(simd::lane(seen[ch], l)));
          coins += static_cast<std::size_t>(c.grad_dropout_p > 0);
          if (c.grad_dropout_p > 0 &&  // the coin, drawn directly: heads zeroes the gradient
              bernoulli<float>(random_key::make(k.seed, stream_id::dropout_coin, gen, t + 1), mw[l],
                               ew[l], 0u, c.grad_dropout_p)) {
            ++dropped;
            CHECK(simd::lane(obs[0], l) == 0.0f);
            CHECK(simd::lane(obs[1], l) == 0.0f);
          }
        }
      }
      for (const auto& r : ref) respawns += r.respawns;
    }
    // The comparison covered arrivals and respawns (with these keys and 16 lanes: 124–247 arrivals
    // and 119–247 respawns per variant, of 3 × 60 × 16 = 2,880 lane-steps in a 36- or 9-cell world
    // with 5 sources) and dropped observations: 1,467 heads of 2,880 coins with p = 0.5, within 4σ
    // (± 107) of 1,440. One coin per lane-step: 3 × 60 × L for any SIMD width.
    CHECK(arrivals > 50);
    CHECK(respawns > 50);
    if (c.grad_dropout_p > 0) {
      const double p = c.grad_dropout_p, mean = p * static_cast<double>(coins);
      REQUIRE(coins == 3 * static_cast<std::size_t>(c.max_steps) * L);
      CHECK(std::abs(static_cast<double>(dropped) - mean) < 4.0 * std::sqrt(mean * (1.0 - p)));
    }
  }
}

// ------------------------------------------------------------------------------------------------------
// Plasticity (AK1, AK6)

namespace {
/// Two neurons, one edge 0 -> 1, both spiking: the trace becomes 1 after one update.
inline agents::snn two_neuron_net() {
  agents::snn_config sc;
  sc.n_neurons = 2;
  return agents::snn(sc, agents::topology{{0}, {1}, 2}, 1, 1);
}

template <class F>
struct two_neurons {
  agents::snn net = two_neuron_net();
  agents::lane_params params;
  agents::snn_state<F> s;
  two_neurons() {
    // mod_w = (0.5, 0.5) so that mod_w · s = 1 with both neurons firing; every other parameter 0.
    std::vector<float> genome(net.layout().size(), 0.0f);
    genome[net.layout().mod_w()] = 0.5f;
    genome[net.layout().mod_w() + 1] = 0.5f;
    params.assign(genome.size(), simd::lanes_v<F>, [&](std::size_t) { return genome.data(); });
    net.reset(s, params);
    const simd::mask_store_t<F> fired_all = F(0.0f) == F(0.0f);
    s.spike.assign(2, fired_all);
    s.spike_prev.assign(2, fired_all);
    s.fired = {0, 1};
    s.fired_prev = {0, 1};
    s.n_fired = s.n_fired_prev = 2;
  }
};
}  // namespace

TEST_CASE_TEMPLATE("eligibility trace: koki2's constructed two-neuron cases", F, LANE_TYPES) {
  plasticity::eligibility_trace_config c;
  c.enabled = true;
  c.eta = 0.5f;
  c.lambda = 0.9f;
  {
    two_neurons<F> t;
    plasticity::eligibility_trace rule(c);
    const auto out = rule.update(t.s, t.net, t.params, plasticity::modulator_signals<F>{});
    CHECK(lanes_equal(t.s.trace[0], 1.0f));
    CHECK(lanes_equal(t.s.w[0], 0.5f * math::tanh(1.0f)));
    CHECK(std::fabs(lane0(t.s.w[0]) - 0.5f * std::tanh(1.0f)) < 1e-6f);
    CHECK(lanes_equal(out.abs_modulator, math::tanh(1.0f)));
  }
  {
    c.kind = plasticity::modulator::drive;
    two_neurons<F> t;
    plasticity::eligibility_trace rule(c);
    plasticity::modulator_signals<F> sig;
    sig.drive_before = F(0.75f);
    sig.drive_after = F(0.25f);  // drive reduced by 0.5
    rule.update(t.s, t.net, t.params, sig);
    CHECK(lanes_equal(t.s.w[0], 0.5f * math::tanh(0.5f)));
  }
  {
    c.kind = plasticity::modulator::event;
    c.mod_drive_scale = 2.0f;
    two_neurons<F> t;
    plasticity::eligibility_trace rule(c);
    plasticity::modulator_signals<F> sig;
    sig.energy_gained = F(0.5f);
    sig.integrity_lost = F(0.25f);
    rule.update(t.s, t.net, t.params, sig);
    CHECK(lanes_equal(t.s.w[0], 0.5f * math::tanh(2.0f * 0.25f)));
  }
  {
    c.enabled = false;
    two_neurons<F> t;
    plasticity::eligibility_trace rule(c);
    const auto out = rule.update(t.s, t.net, t.params, plasticity::modulator_signals<F>{});
    CHECK(lanes_equal(t.s.w[0], 0.0f));
    CHECK(lanes_equal(t.s.trace[0], 0.0f));
    CHECK(lanes_equal(out.mean_abs_dw, 0.0f));
  }
}

TEST_CASE_TEMPLATE("eligibility trace: zero modulator never moves weights, clip at ±3", F,
                   LANE_TYPES) {
  plasticity::eligibility_trace_config c;
  c.enabled = true;
  c.eta = 5.0f;
  c.clamp_modulator = true;
  c.clamped_value = 0.0f;
  two_neurons<F> t;
  t.s.w[0] = F(0.3f);
  plasticity::eligibility_trace rule(c);
  for (int i = 0; i < 100; ++i)
    rule.update(t.s, t.net, t.params, plasticity::modulator_signals<F>{});
  CHECK(lanes_equal(t.s.w[0], 0.3f));
  c.clamped_value = 1.0f;
  plasticity::eligibility_trace up(c);
  for (int i = 0; i < 100; ++i)
    up.update(t.s, t.net, t.params, plasticity::modulator_signals<F>{});
  CHECK(lanes_equal(t.s.w[0], 3.0f));
  c.clamped_value = -1.0f;
  plasticity::eligibility_trace down(c);
  for (int i = 0; i < 100; ++i)
    down.update(t.s, t.net, t.params, plasticity::modulator_signals<F>{});
  CHECK(lanes_equal(t.s.w[0], -3.0f));
}

TEST_CASE("chemotaxis rollout: a network sized for another environment is rejected") {
  agents::snn_config c;
  c.n_neurons = 4;
  c.k_edges = 1;
  const auto topo = agents::topology::make(c, 1);
  auto make = [&](std::size_t obs_dim, std::size_t actions) {
    return crucibles::chemotaxis_rollout({}, agents::snn(c, topo, obs_dim, actions), {}, {}, {});
  };
  CHECK_NOTHROW(make(envs::chemotaxis::obs_dim, envs::chemotaxis::num_actions));
  CHECK_THROWS_WITH_AS(make(6, envs::chemotaxis::num_actions),
                       doctest::Contains("obs_dim 6 and num_actions 5; the chemotaxis environment "
                                         "needs 4 and 5"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(make(envs::chemotaxis::obs_dim, 3), doctest::Contains("num_actions 3"),
                       std::invalid_argument);
}

TEST_CASE("lane parameters: value p of lane l at p · lanes + l, for every width and tail") {
  // 8 and 16 lanes take the register-transpose paths (AVX, AVX-512) for whole groups of 8 or 16
  // parameters and the plain loop for the rest; 581 is koki2's genome size.
  for (const std::size_t n_lanes : {1u, 3u, 8u, 16u})
    for (const std::size_t n_params : {0u, 5u, 8u, 16u, 23u, 581u}) {
      std::vector<float> rows(n_lanes * n_params);
      for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<float>(i) + 0.5f;
      agents::lane_params p;
      p.data.assign(3, -1.0f);  // stale contents are overwritten
      p.assign(n_params, n_lanes, [&](std::size_t l) { return rows.data() + l * n_params; });
      REQUIRE(p.lanes == n_lanes);
      REQUIRE(p.data.size() == n_params * n_lanes);
      std::size_t wrong = 0;
      for (std::size_t l = 0; l < n_lanes; ++l)
        for (std::size_t q = 0; q < n_params; ++q)
          wrong += static_cast<std::size_t>(p.data[q * n_lanes + l] != rows[l * n_params + q]);
      CHECK_MESSAGE(wrong == 0, n_lanes, " lanes, ", n_params, " parameters");
    }
}

TEST_CASE("LIF network: reset by subtraction, strict threshold, argmax-first readout") {
  agents::snn_config c;
  c.n_neurons = 2;
  c.k_edges = 0;
  agents::snn net(c, agents::topology{{}, {}, 2}, 4, 5);
  const auto& l = net.layout();
  std::vector<float> g(l.size(), 0.0f);
  g[l.obs_w() + 0] = 1.0f;  // neuron 0 receives exactly θ from obs[0] = 1: no spike (strict)
  g[l.obs_w() + 4] = 1.5f;  // neuron 1 receives 1.5: spikes, v -> 0.5
  g[l.motor_w() + 1 * 5 + 3] = 1.0f;  // neuron 1 votes for action 3
  agents::lane_params p;
  p.assign(l.size(), 1, [&](std::size_t) { return g.data(); });
  agents::snn_state<float> s;
  net.reset(s, p);
  const float obs[4] = {1.0f, 0.0f, 0.0f, 0.0f};
  CHECK(net.act(s, p, obs) == 3.0f);
  CHECK(!s.spike[0]);
  CHECK(s.spike[1]);
  CHECK(s.v[1] == 0.5f);
  CHECK(s.v[0] == 1.0f);
  // Silent network: argmax of the bias, first index on ties.
  std::vector<float> z(l.size(), 0.0f);
  z[l.motor_b() + 2] = 0.5f;
  z[l.motor_b() + 4] = 0.5f;
  p.assign(l.size(), 1, [&](std::size_t) { return z.data(); });
  net.reset(s, p);
  CHECK(net.act(s, p, obs) == 2.0f);
}

TEST_CASE(
    "topology: k distinct non-self targets per neuron, source-major, seed-determined, file "
    "errors") {
  const auto t = agents::topology::random(32, 8, 12345);
  REQUIRE(t.size() == 256);
  for (std::uint32_t i = 0; i < 32; ++i) {
    std::vector<bool> seen(32, false);
    for (std::size_t e = i * 8; e < (i + 1) * 8; ++e) {
      CHECK(t.src[e] == i);
      CHECK(t.dst[e] != i);
      CHECK(!seen[t.dst[e]]);
      seen[t.dst[e]] = true;
    }
  }
  CHECK(agents::topology::random(32, 8, 12345).dst == t.dst);
  CHECK(agents::topology::random(32, 8, 12346).dst != t.dst);
  CHECK(agents::topology::random(4, 8, 1).size() == 12);  // k capped at N-1
  CHECK_THROWS_WITH(agents::topology::from_file("/nonexistent/edges.txt", 4),
                    doctest::Contains("cannot open"));
}

TEST_CASE("topology::numpy is koki2's draw (NumPy's default_rng(seed).choice per neuron)") {
  // koki2's edges for n = 32, k = 8, seed 12345, as NumPy 1.24.2 draws them (the peers' port of
  // koki2's make_dev_config: rng = default_rng(seed); for each i: rng.choice(others, k, False)).
  const std::vector<std::uint32_t> koki2_dst{
      9,  17, 28, 20, 6,  24, 21, 31, 6,  18, 17, 8,  5,  27, 21, 29, 13, 19, 10, 31, 1,  6,
      23, 4,  13, 16, 27, 8,  17, 25, 9,  12, 27, 20, 22, 17, 23, 10, 30, 28, 13, 23, 18, 8,
      9,  14, 30, 19, 27, 1,  0,  11, 9,  17, 24, 7,  4,  15, 9,  14, 11, 21, 28, 0,  13, 29,
      28, 3,  6,  31, 9,  21, 2,  5,  13, 26, 31, 28, 22, 16, 8,  19, 9,  2,  20, 21, 6,  13,
      2,  5,  18, 27, 25, 22, 15, 23, 7,  31, 6,  24, 0,  27, 5,  26, 10, 29, 31, 24, 1,  5,
      11, 3,  29, 1,  13, 4,  23, 6,  8,  9,  29, 31, 26, 3,  25, 28, 0,  22, 17, 20, 25, 8,
      21, 29, 13, 10, 12, 24, 21, 11, 2,  13, 30, 8,  26, 8,  10, 31, 0,  20, 5,  21, 18, 1,
      15, 26, 2,  21, 9,  30, 19, 13, 5,  16, 8,  17, 27, 24, 19, 10, 3,  31, 30, 27, 6,  20,
      26, 24, 4,  5,  18, 9,  30, 21, 17, 3,  16, 22, 6,  9,  1,  18, 29, 2,  10, 18, 28, 15,
      3,  4,  8,  20, 23, 17, 27, 10, 7,  13, 10, 23, 12, 14, 3,  5,  19, 1,  29, 28, 3,  25,
      26, 5,  1,  23, 12, 17, 0,  30, 8,  26, 20, 5,  31, 28, 27, 18, 13, 26, 11, 20, 27, 20,
      15, 21, 8,  24, 2,  25, 19, 10, 3,  27, 16, 13, 7,  2};
  const auto t = agents::topology::numpy(32, 8, 12345);
  CHECK(t.dst == koki2_dst);
  for (std::size_t e = 0; e < t.size(); ++e) CHECK(t.src[e] == e / 8);
  // n = 64, k = 16, seed 12350: the first row and a weighted sum of all 1,024 targets.
  const auto big = agents::topology::numpy(64, 16, 12350);
  CHECK(std::vector<std::uint32_t>(big.dst.begin(), big.dst.begin() + 16) ==
        std::vector<std::uint32_t>{49, 39, 37, 20, 57, 56, 55, 14, 50, 3, 36, 25, 10, 35, 46, 45});
  std::uint64_t weighted = 0;
  for (std::size_t e = 0; e < big.size(); ++e) weighted += (e + 1) * big.dst[e];
  CHECK(weighted == 16455158u);
  // The config switch selects it; k is capped at N - 1 as in koki2.
  agents::snn_config c;
  c.topology_rng = agents::topology_generator::numpy;
  CHECK(agents::topology::make(c, 12345 - 12345).dst == koki2_dst);  // seed + 12345
  CHECK(agents::topology::numpy(4, 8, 1).size() == 12);
}

TEST_CASE("topology files: text lines and .npy arrays give the same edges, errors name the place") {
  dphys_test::temp_dir dir;
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  const auto t =
      agents::topology::from_file(write("e.txt", "# koki2 edges\n0 1\n\n 1 2 # c\n2 0\n"), 3);
  CHECK(t.src == std::vector<std::uint32_t>{0, 1, 2});
  CHECK(t.dst == std::vector<std::uint32_t>{1, 2, 0});
  const auto bad = write("bad.txt", "0 1\nabc def\n");
  CHECK_THROWS_WITH(agents::topology::from_file(bad, 3),
                    ("edge file " + bad + ":2: expected two integers 'src dst', got 'abc def'")
                        .c_str());
  CHECK_THROWS_WITH(agents::topology::from_file(write("far.txt", "0 3\n"), 3),
                    doctest::Contains(":1: edge 0 -> 3 outside [0, 3)"));
  const std::vector<std::int32_t> e32{0, 1, 1, 2, 2, 0};
  run::save_npy(dir / "e32.npy", e32, {3, 2});
  const std::vector<std::int64_t> e64{0, 1, 1, 2, 2, 0};
  run::save_npy(dir / "e64.npy", e64, {3, 2});
  for (const char* name : {"e32.npy", "e64.npy"}) {
    const auto u = agents::topology::from_file(dir / name, 3);
    CHECK(u.src == t.src);
    CHECK(u.dst == t.dst);
  }
  run::save_npy(dir / "flat.npy", e32, {6});
  CHECK_THROWS_WITH(agents::topology::from_file(dir / "flat.npy", 3),
                    doctest::Contains("an edge list has shape [E, 2], found (6,)"));
  CHECK_THROWS_WITH(agents::topology::from_file(dir / "e32.npy", 2),
                    doctest::Contains("e32.npy: row 1: edge 1 -> 2 outside [0, 2)"));
  {
    const std::string whole = run::read_file(dir / "e32.npy");  // a truncated int32 file
    std::ofstream(dir / "cut.npy", std::ios::binary) << whole.substr(0, whole.size() - 4);
  }
  CHECK_THROWS_WITH(agents::topology::from_file(dir / "cut.npy", 3),
                    doctest::Contains("truncated: shape (3, 2) of <i4 needs 24 data bytes"));
  run::save_npy(dir / "f.npy", std::vector<float>{0, 1}, {1, 2});
  CHECK_THROWS_WITH(agents::topology::from_file(dir / "f.npy", 3),
                    doctest::Contains("wrong dtype: expected <i8, found <f4"));
}

// ---- the generic episodic rollout (crucibles/episodic.hpp) and the cart-pole environment ----------

namespace {

/// A ladder rung with every random feature on: bad sources, depletion with respawns, gradient
/// dropout, observation noise.
envs::chemotaxis_config full_ladder_rung() {
  envs::chemotaxis_config c;
  c.num_sources = 4;
  c.num_bad_sources = 2;
  c.source_deplete = true;
  c.respawn_delay = 4;
  c.grad_dropout_p = 0.5f;
  c.obs_noise = 0.05f;
  return c;
}

/// A one-step world whose reward is NaN for odd member words and 1 otherwise; no max_steps().
struct nan_world {
  static constexpr int obs_dim = 1;
  static constexpr int num_actions = 2;
  template <simd::lane_type F>
  struct state_type {
    simd::uint_t<F> member{};
  };
  using keys_type = envs::episode_keys;
  template <simd::lane_type F>
  struct transition {
    simd::mask_t<F> done;
    F reward;
  };
  template <simd::lane_type F>
  void reset(state_type<F>& s, const keys_type&, const simd::uint_t<F>& m, const simd::uint_t<F>&,
             F* obs) const {
    s.member = m;
    obs[0] = F(0.0f);
  }
  template <simd::lane_type F>
  transition<F> step(state_type<F>& s, const F&, const keys_type&, F* obs) const {
    obs[0] = F(0.0f);
    const F odd = simd::to_float(s.member & simd::uint_t<F>(1u));
    const F nan(std::numeric_limits<float>::quiet_NaN());
    return {F(0.0f) == F(0.0f), simd::select(odd == F(1.0f), nan, F(1.0f))};
  }
};

static_assert(crucibles::rewarding_environment<envs::cart_pole, float>);
static_assert(crucibles::rewarding_environment<envs::cart_pole, simd::native>);
static_assert(crucibles::rewarding_environment<envs::chemotaxis_task, emu3>);
static_assert(!crucibles::rewarding_environment<envs::chemotaxis, float>);  // no reward
static_assert(dphys::crucible<crucibles::episodic_rollout<envs::cart_pole>, crucibles::rollout_keys>);

template <class Env>
crucibles::episodic_rollout<Env> make_episodic(Env env, int obs, int actions,
                                               plasticity::eligibility_trace_config pc,
                                               crucibles::rollout_config rc) {
  agents::snn_config nc;
  agents::snn net(nc, agents::topology::random(32, 8, 5), static_cast<std::size_t>(obs),
                  static_cast<std::size_t>(actions));
  return crucibles::episodic_rollout<Env>(std::move(env), std::move(net), pc, rc);
}

std::vector<float> random_population(std::size_t members, std::size_t d, float scale) {
  std::vector<float> pop(members * d);
  for (std::size_t m = 0; m < members; ++m) {
    fill_normal(random_key::make(3, stream_id::genome_init, 0, 0), static_cast<std::uint32_t>(m), 0,
                std::span<float>(pop.data() + m * d, d));
  }
  for (float& v : pop) v *= scale;
  return pop;
}

plasticity::eligibility_trace_config rule(plasticity::modulator kind) {
  plasticity::eligibility_trace_config pc;
  pc.enabled = true;
  pc.eta = 0.05f;
  pc.kind = kind;
  return pc;
}

}  // namespace

TEST_CASE("cart_pole: one step from rest matches the equations, limits end the episode") {
  envs::cart_pole_config cfg;
  cfg.init_range = 0.0f;  // start at rest: x = ẋ = θ = θ̇ = 0
  const envs::cart_pole env(cfg);
  envs::cart_pole_state<float> s;
  float obs[4];
  env.reset(s, {1, 0}, 0u, 0u, obs);
  CHECK(obs[0] == 0.0f);
  CHECK(obs[2] == 0.0f);
  // Push right from rest (sin θ = 0, cos θ = 1): temp = F/M, θ̈ = −temp / (l (4/3 − m/M)),
  // ẍ = temp − m l θ̈ / M; Euler: positions first from the old velocities.
  const double M = 1.1, m = 0.1, l = 0.5, F = 10.0, tau = 0.02;
  const double temp = F / M, th_acc = -temp / (l * (4.0 / 3.0 - m / M)),
               x_acc = temp - m * l * th_acc / M;
  const auto tr = env.step(s, 1.0f, {1, 0}, obs);
  CHECK(s.x == 0.0f);
  CHECK(s.theta == 0.0f);
  CHECK(s.x_dot == doctest::Approx(tau * x_acc).epsilon(1e-6));
  CHECK(s.theta_dot == doctest::Approx(tau * th_acc).epsilon(1e-6));
  CHECK(obs[1] == s.x_dot);
  CHECK(obs[3] == s.theta_dot);
  CHECK(tr.reward == 1.0f);
  CHECK_FALSE(tr.done);
  // Leaning left and turning right, pushed left: the same equations with sin θ, cos θ ≠ 0, 1.
  {
    envs::cart_pole_state<float> w;
    w.theta = -0.15f;
    w.theta_dot = 0.3f;
    w.x_dot = -0.2f;
    const double th = -0.15, thd = 0.3, f = -10.0;
    const double tmp = (f + m * l * thd * thd * std::sin(th)) / M;
    const double tha = (9.8 * std::sin(th) - std::cos(th) * tmp) /
                       (l * (4.0 / 3.0 - m * std::cos(th) * std::cos(th) / M));
    const double xa = tmp - m * l * tha * std::cos(th) / M;
    env.step(w, 0.0f, {1, 0}, obs);
    CHECK(w.x == doctest::Approx(tau * -0.2).epsilon(1e-6));
    CHECK(w.theta == doctest::Approx(th + tau * thd).epsilon(1e-6));
    CHECK(w.x_dot == doctest::Approx(-0.2 + tau * xa).epsilon(1e-6));
    CHECK(w.theta_dot == doctest::Approx(thd + tau * tha).epsilon(1e-6));
  }
  // Leaning past 12° ends the episode (not solved); so does leaving the track or a NaN state.
  s.theta = 0.25f;
  CHECK(env.step(s, 0.0f, {1, 0}, obs).done);
  CHECK_FALSE(env.step(s, 0.0f, {1, 0}, obs).reached);
  s = {};
  s.x = 2.5f;
  CHECK(env.step(s, 0.0f, {1, 0}, obs).done);
  s = {};
  s.theta_dot = std::numeric_limits<float>::quiet_NaN();
  CHECK(env.step(s, 0.0f, {1, 0}, obs).done);
  // Upright at max_steps: done and reached.
  envs::cart_pole_config short_cfg = cfg;
  short_cfg.max_steps = 3;
  const envs::cart_pole short_env(short_cfg);
  envs::cart_pole_state<float> u;
  short_env.reset(u, {1, 0}, 0u, 0u, obs);
  CHECK_FALSE(short_env.step(u, 1.0f, {1, 0}, obs).done);
  CHECK_FALSE(short_env.step(u, 0.0f, {1, 0}, obs).done);
  const auto last = short_env.step(u, 1.0f, {1, 0}, obs);
  CHECK(last.done);
  CHECK(last.reached);
  // The initial state is uniform on ±init_range, keyed by (member, episode).
  const envs::cart_pole dflt;
  envs::cart_pole_state<float> a, b;
  dflt.reset(a, {1, 0}, 0u, 0u, obs);
  dflt.reset(b, {1, 0}, 1u, 0u, obs);
  CHECK(std::fabs(a.theta) < 0.05f);
  CHECK(a.theta != b.theta);
  envs::cart_pole_config bad;
  bad.tau = 0.0f;
  CHECK_THROWS_WITH_AS(validate(bad), doctest::Contains("tau"), config_error);
}

TEST_CASE("episodic_rollout: a lane's result does not depend on lane type, threads or blocks") {
  for (auto pc : {plasticity::eligibility_trace_config{}, rule(plasticity::modulator::spike),
                  rule(plasticity::modulator::event)}) {
    CAPTURE(static_cast<int>(pc.kind));
    CAPTURE(pc.enabled);
    crucibles::rollout_config rc;
    rc.episodes = 3;
    rc.steps = 200;
    const auto base = make_episodic(envs::cart_pole{}, 4, 2, pc, rc);
    const auto pop = random_population(11, base.genome_size(), 0.5f);
    const crucibles::rollout_keys keys{9, 2, 0, 0};
    const auto ref = base.evaluate<float>(pop, keys);
    REQUIRE(ref.fitness.size() == 11);
    REQUIRE(ref.returns.size() == 33);
    CHECK(ref.agent_steps > 33);  // not everything falls at the first step
    auto same = [&](const crucibles::episodic_evaluation& ev) {
      CHECK(ev.returns == ref.returns);
      CHECK(ev.lengths == ref.lengths);
      CHECK(ev.success == ref.success);
      CHECK(ev.fitness == ref.fitness);
      CHECK(ev.agent_steps == ref.agent_steps);
    };
    same(base.evaluate<simd::native>(pop, keys));
    same(base.evaluate<emu3>(pop, keys));
    auto rc2 = rc;
    rc2.threads = 2;
    rc2.block_lanes = 1;
    same(base.with(rc2).evaluate<simd::native>(pop, keys));
    // The member's own rows: evaluating member 4 alone (member word 4) gives its episodes.
    const std::size_t d = base.genome_size();
    const auto one = base.evaluate<simd::native>(
        std::span<const float>(pop.data() + 4 * d, d), crucibles::rollout_keys{9, 2, 4, 0});
    CHECK(one.returns == std::vector<float>(ref.returns.begin() + 12, ref.returns.begin() + 15));
    // cart_pole's reward is 1 per step taken: a return is the episode's length.
    CHECK(ref.returns == ref.lengths);
  }
}

TEST_CASE("episodic_rollout: a zero genome pushes left at every step, like a hand-written loop") {
  // With every weight and bias +0 the network never spikes and its readout ties at 0: argmax
  // takes the first action, 0 (push left).
  crucibles::rollout_config rc;
  rc.episodes = 5;
  const auto cr = make_episodic(envs::cart_pole{}, 4, 2, {}, rc);
  const std::vector<float> zero(2 * cr.genome_size(), 0.0f);
  const auto ev = cr.evaluate<simd::native>(zero, {4, 0, 0, 0});
  for (std::uint32_t m = 0; m < 2; ++m)
    for (std::uint32_t e = 0; e < 5; ++e) {
      envs::cart_pole_state<float> s;
      float obs[4];
      cr.env().reset(s, {4, 0}, m, e, obs);
      float steps = 0.0f;
      for (bool done = false; !done && steps < 500.0f; steps += 1.0f)
        done = static_cast<bool>(cr.env().step(s, 0.0f, {4, 0}, obs).done);
      CHECK(ev.lengths[m * 5 + e] == steps);
      CHECK(ev.returns[m * 5 + e] == steps);
      CHECK(ev.success[m * 5 + e] == 0.0f);
    }
}

TEST_CASE("episodic_rollout on chemotaxis behaves like chemotaxis_rollout, plasticity included") {
  // The generic loop and koki2's crucible take the same actions when the rule gets the same
  // signals: every episode lasts as long (t_alive), for each modulator and without plasticity.
  crucibles::rollout_config rc;
  rc.episodes = 2;
  rc.steps = 120;
  // koki2's L0 and a ladder rung with every random feature on.
  for (const auto& world : {envs::chemotaxis_config{}, full_ladder_rung()})
  for (auto pc : {plasticity::eligibility_trace_config{}, rule(plasticity::modulator::spike),
                  rule(plasticity::modulator::event), rule(plasticity::modulator::drive)}) {
    CAPTURE(world.num_sources);
    CAPTURE(static_cast<int>(pc.kind));
    CAPTURE(pc.enabled);
    const auto generic = make_episodic(envs::chemotaxis_task(world), 4, 5, pc, rc);
    const crucibles::chemotaxis_rollout koki2(world, generic.network(), pc,
                                              crucibles::fitness_config{}, rc);
    const auto pop = random_population(9, generic.genome_size(), 0.3f);
    const crucibles::rollout_keys keys{21, 1, 0, 0};
    const auto a = generic.evaluate<simd::native>(pop, keys);
    const auto b = koki2.evaluate<simd::native>(pop, keys);
    REQUIRE(a.lengths.size() == b.episodes.size());
    for (std::size_t i = 0; i < a.lengths.size(); ++i) {
      CHECK(a.lengths[i] == b.episodes[i].t_alive);
      CHECK(a.success[i] == b.episodes[i].success);
      CHECK(a.returns[i] == doctest::Approx(b.episodes[i].energy_gained_total -
                                            b.episodes[i].integrity_lost_total)
                                .epsilon(1e-5));
    }
    CHECK(a.agent_steps == b.agent_steps);
  }
}

TEST_CASE("episodic_rollout: refusals name the setting, non-finite returns are counted") {
  crucibles::rollout_config rc;
  CHECK_THROWS_WITH_AS(make_episodic(envs::cart_pole{}, 4, 5, {}, rc),
                       "episodic_rollout: the network has obs_dim 4 and num_actions 5; the "
                       "environment needs 4 and 2",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(make_episodic(envs::cart_pole{}, 4, 2, rule(plasticity::modulator::drive),
                                     rc),
                       doctest::Contains("plasticity.kind: 'drive' needs the environment's drive"),
                       std::invalid_argument);
  // The configs' own rules: a config_error naming the field.
  auto no_episodes = rc;
  no_episodes.episodes = -1;
  CHECK_THROWS_WITH_AS(make_episodic(envs::cart_pole{}, 4, 2, {}, no_episodes),
                       doctest::Contains("episodes = -1: >= 1"), config_error);
  auto bad_lambda = rule(plasticity::modulator::spike);
  bad_lambda.lambda = 2.0f;
  CHECK_THROWS_WITH_AS(make_episodic(envs::cart_pole{}, 4, 2, bad_lambda, rc),
                       doctest::Contains("lambda = 2"), config_error);
  // nan_world has no max_steps(): steps = -1 is refused, here and through with().
  CHECK_THROWS_WITH_AS(make_episodic(nan_world{}, 1, 2, {}, rc),
                       doctest::Contains("rollout.steps: -1"), std::invalid_argument);
  auto rc1 = rc;
  rc1.steps = 1;
  const auto cr = make_episodic(nan_world{}, 1, 2, {}, rc1);
  CHECK_THROWS_WITH_AS((void)cr.with(rc), doctest::Contains("rollout.steps: -1"),
                       std::invalid_argument);
  const std::vector<float> pop(6 * cr.genome_size(), 0.0f);
  CHECK_THROWS_WITH_AS(cr.evaluate<float>(std::span<const float>(pop.data(), 5), {}),
                       doctest::Contains("is not a multiple of the genome size"),
                       std::invalid_argument);
  // Odd member words get NaN rewards: members 1, 3, 5 are counted, never thrown.
  const auto ev = cr.evaluate<simd::native>(pop, {0, 0, 0, 0});
  CHECK(ev.non_finite == 3);
  CHECK(ev.fitness[0] == 1.0f);
  CHECK(std::isnan(ev.fitness[1]));
  CHECK(ev.agent_steps == 6 * 4);
}

// ---- the law checker (envs/laws.hpp) --------------------------------------------------------------

namespace {

/// Lane-coupled on purpose: every lane moves by lane 0's position, so a batch differs from float.
struct coupled_world {
  static constexpr int obs_dim = 1;
  static constexpr int num_actions = 2;
  template <simd::lane_type F>
  struct state_type {
    F x = F(0.0f);
  };
  using keys_type = envs::episode_keys;
  template <simd::lane_type F>
  struct transition {
    simd::mask_t<F> done;
  };
  template <simd::lane_type F>
  void reset(state_type<F>& s, const keys_type&, const simd::uint_t<F>& m, const simd::uint_t<F>&,
             F* obs) const {
    s.x = simd::to_float(m);
    obs[0] = s.x;
  }
  template <simd::lane_type F>
  transition<F> step(state_type<F>& s, const F& action, const keys_type&, F* obs) const {
    s.x = s.x + action + F(0.5f * simd::lane(s.x, 0));
    obs[0] = s.x;
    return {s.x > F(100.0f)};
  }
};

/// Impure on purpose: its reward counts the calls of step() ever made.
struct impure_world {
  static constexpr int obs_dim = 1;
  static constexpr int num_actions = 3;
  template <simd::lane_type F>
  using state_type = int;
  using keys_type = envs::episode_keys;
  template <simd::lane_type F>
  struct transition {
    simd::mask_t<F> done;
    F reward;
  };
  inline static int calls = 0;
  template <simd::lane_type F>
  void reset(int&, const keys_type&, const simd::uint_t<F>&, const simd::uint_t<F>&, F* obs) const {
    obs[0] = F(0.0f);
  }
  template <simd::lane_type F>
  transition<F> step(int&, const F& action, const keys_type&, F* obs) const {
    obs[0] = action;
    return {F(0.0f) != F(0.0f), F(static_cast<float>(++calls))};
  }
};

}  // namespace

TEST_CASE("check_laws: the shipped environments keep both laws, broken ones are reported") {
  envs::law_check_options opt;
  opt.steps = 150;
  // cart_pole: 150 steps outlast most random-action episodes (the dead lanes step on too).
  const auto cp = envs::check_laws<envs::cart_pole>(envs::cart_pole{}, opt);
  CHECK_MESSAGE(cp.ok(), cp.summary());
  CHECK(cp.lanes == simd::lanes_v<simd::native>);
  CHECK(cp.comparisons == 2 * cp.lanes * (opt.steps + 1) * 7);  // purity + lane independence
  CHECK(envs::check_laws<envs::cart_pole, emu3>(envs::cart_pole{}, opt).ok());
  // chemotaxis, on a ladder rung with every random feature on.
  const envs::chemotaxis ladder(full_ladder_rung());
  const auto ch = envs::check_laws<envs::chemotaxis, emu3>(ladder, opt);
  CHECK_MESSAGE(ch.ok(), ch.summary());
  CHECK(envs::check_laws<envs::chemotaxis>(ladder, opt).ok());

  const auto coupled = envs::check_laws<coupled_world, emu3>(coupled_world{}, opt);
  CHECK_FALSE(coupled.ok());
  REQUIRE(!coupled.messages.empty());
  // Lane 0 is its own reference; lane 1 (member word 1) differs from the first step on.
  CHECK(coupled.messages[0].find("lane independence: step 1, lane 1 (member word 1") == 0);
  CHECK(coupled.messages.size() == opt.max_messages);
  CHECK(coupled.violations > opt.max_messages);

  const auto impure = envs::check_laws<impure_world, float>(impure_world{}, opt);
  CHECK_FALSE(impure.ok());
  CHECK(impure.violations == opt.steps);  // every step's reward
  CHECK(impure.messages[0].find("purity: step 1, lane 0") == 0);
  CHECK(impure.summary().find(std::to_string(opt.steps) + " violations in ") == 0);
}
