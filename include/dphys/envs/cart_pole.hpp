// dphys/envs/cart_pole.hpp — pole balancing (Barto, Sutton & Anderson 1983), the classic
// neuroevolution benchmark, with the dynamics, limits and reward of Gymnasium's CartPole-v1: a pole
// hinged on a cart on a track; each step pushes the cart left or right with a fixed force; the
// episode ends when the pole leans past ±12° or the cart leaves ±2.4 m, or after max_steps
// (CartPole-v1: 500). Reward +1 for every step taken, so the return is the number of steps.
//
// Config: cart_pole_config (Gymnasium's constants by default). Observation: (x, ẋ, θ, θ̇), each
//   multiplied by its obs_scale; actions: 0 push left, 1 push right.
// Dynamics: Euler integration with step tau of the frictionless equations of Florian (2007) as
//   Gymnasium writes them; sin θ and cos θ from math::sincos_2pi(|θ| / 2π), so every lane type
//   computes the same bits.
// Determinism: the initial state, uniform on ±init_range per variable, is keyed by (seed,
//   stream_id::cart_pole_init, generation, member word, episode word); nothing else is random.
// Failure modes: none at run time; cart_pole_config::check rejects non-physical settings.
#pragma once

#include <cstdint>

#include <dphys/core/config.hpp>
#include <dphys/core/math.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/simd.hpp>
#include <dphys/envs/episode.hpp>

namespace dphys::envs {

struct cart_pole_config {
  int max_steps = 500;            ///< episode length cap (CartPole-v1)
  float gravity = 9.8f;           ///< m/s²
  float cart_mass = 1.0f;         ///< kg
  float pole_mass = 0.1f;         ///< kg
  float half_length = 0.5f;       ///< half the pole's length, m
  float force = 10.0f;            ///< push, N
  float tau = 0.02f;              ///< time step, s
  float x_limit = 2.4f;           ///< |x| beyond this ends the episode, m
  float theta_limit = 0.20943951f;  ///< |θ| beyond this ends the episode, rad (12°)
  float init_range = 0.05f;       ///< initial x, ẋ, θ, θ̇ uniform on [−init_range, init_range)
  /// Factors applied to (x, ẋ, θ, θ̇) in the observation. The network's input current is
  /// weight × observation, so these set the scale the genome's weights work at.
  float obs_scale_x = 1.0f, obs_scale_x_dot = 1.0f, obs_scale_theta = 10.0f,
        obs_scale_theta_dot = 1.0f;

  void check(config_checker<cart_pole_config>& c) const {
    c(&cart_pole_config::max_steps).at_least(1).at_most(1 << 24);
    c(&cart_pole_config::gravity).at_least(0.0).finite();
    c(&cart_pole_config::cart_mass).greater_than(0.0).finite();
    c(&cart_pole_config::pole_mass).greater_than(0.0).finite();
    c(&cart_pole_config::half_length).greater_than(0.0).finite();
    c(&cart_pole_config::force).at_least(0.0).finite();
    c(&cart_pole_config::tau).greater_than(0.0).finite();
    c(&cart_pole_config::x_limit).greater_than(0.0).finite();
    c(&cart_pole_config::theta_limit).greater_than(0.0).at_most(1.5707963);
    c(&cart_pole_config::init_range).at_least(0.0).finite();
    c(&cart_pole_config::obs_scale_x).finite();
    c(&cart_pole_config::obs_scale_x_dot).finite();
    c(&cart_pole_config::obs_scale_theta).finite();
    c(&cart_pole_config::obs_scale_theta_dot).finite();
  }
};

template <simd::lane_type F>
struct cart_pole_state {
  F x = F(0.0f), x_dot = F(0.0f), theta = F(0.0f), theta_dot = F(0.0f);
  std::uint32_t t = 0;  ///< steps taken (lane-uniform: all lanes step together)
};

template <simd::lane_type F>
struct cart_pole_transition {
  F reward = F(0.0f);           ///< 1 in every lane: the step was taken
  simd::mask_t<F> done{};       ///< fell, left the track, or reached max_steps
  simd::mask_t<F> reached{};    ///< reached max_steps without falling (the task solved)
};

class cart_pole {
 public:
  static constexpr int obs_dim = 4;
  static constexpr int num_actions = 2;
  template <simd::lane_type F>
  using state_type = cart_pole_state<F>;
  using keys_type = episode_keys;

  cart_pole() = default;
  explicit cart_pole(const cart_pole_config& cfg) : cfg_(cfg) {}
  [[nodiscard]] const cart_pole_config& config() const { return cfg_; }
  [[nodiscard]] std::size_t max_steps() const { return static_cast<std::size_t>(cfg_.max_steps); }

  template <simd::lane_type F>
  void reset(cart_pole_state<F>& s, const episode_keys& k, const simd::uint_t<F>& member_word,
             const simd::uint_t<F>& episode_word, F* obs) const {
    const auto key = random_key::make(k.seed, stream_id::cart_pole_init, k.generation, 0);
    auto draw = [&](std::uint32_t i) {
      const F u = uniform<F>(key, member_word, episode_word, simd::uint_t<F>(i));
      return F(cfg_.init_range) * (F(2.0f) * u - F(1.0f));
    };
    s.x = draw(0);
    s.x_dot = draw(1);
    s.theta = draw(2);
    s.theta_dot = draw(3);
    s.t = 0;
    observe(s, obs);
  }

  /// Pushes the cart (action 1: right, anything else: left) for one step of tau.
  template <simd::lane_type F>
  cart_pole_transition<F> step(cart_pole_state<F>& s, const F& action, const episode_keys&,
                               F* obs) const {
    const float total_mass = cfg_.cart_mass + cfg_.pole_mass;
    const float pole_mass_length = cfg_.pole_mass * cfg_.half_length;
    const F force = simd::select(action == F(1.0f), F(cfg_.force), F(-cfg_.force));
    // sin and cos of |θ| / 2π turns (sincos_2pi is accurate on [0, 1)), sin's sign restored.
    F sin_t, cos_t;
    math::sincos_2pi(simd::abs(s.theta) * F(0.15915494f), sin_t, cos_t);
    sin_t = simd::select(s.theta < F(0.0f), simd::neg(sin_t), sin_t);
    const F temp =
        (force + F(pole_mass_length) * (s.theta_dot * s.theta_dot) * sin_t) / F(total_mass);
    const F theta_acc =
        (F(cfg_.gravity) * sin_t - cos_t * temp) /
        (F(cfg_.half_length) *
         (F(4.0f / 3.0f) - F(cfg_.pole_mass) * (cos_t * cos_t) / F(total_mass)));
    const F x_acc = temp - F(pole_mass_length) * theta_acc * cos_t / F(total_mass);
    const F tau(cfg_.tau);
    s.x = s.x + tau * s.x_dot;
    s.x_dot = s.x_dot + tau * x_acc;
    s.theta = s.theta + tau * s.theta_dot;
    s.theta_dot = s.theta_dot + tau * theta_acc;
    s.t += 1;

    cart_pole_transition<F> tr;
    tr.reward = F(1.0f);
    // !(|x| <= limit) rather than |x| > limit, so a NaN state ends the episode too.
    const auto fell = !(simd::abs(s.x) <= F(cfg_.x_limit)) ||
                      !(simd::abs(s.theta) <= F(cfg_.theta_limit));
    const bool out_of_time = s.t >= static_cast<std::uint32_t>(cfg_.max_steps);
    const auto timeout = F(out_of_time ? 1.0f : 0.0f) == F(1.0f);
    tr.done = fell || timeout;
    tr.reached = timeout && !fell;
    observe(s, obs);
    return tr;
  }

 private:
  template <simd::lane_type F>
  void observe(const cart_pole_state<F>& s, F* obs) const {
    obs[0] = F(cfg_.obs_scale_x) * s.x;
    obs[1] = F(cfg_.obs_scale_x_dot) * s.x_dot;
    obs[2] = F(cfg_.obs_scale_theta) * s.theta;
    obs[3] = F(cfg_.obs_scale_theta_dot) * s.theta_dot;
  }

  cart_pole_config cfg_;
};

}  // namespace dphys::envs

DPHYS_ADAPT_STRUCT(dphys::envs::cart_pole_config, max_steps, gravity, cart_mass, pole_mass,
                   half_length, force, tau, x_limit, theta_limit, init_range, obs_scale_x,
                   obs_scale_x_dot, obs_scale_theta, obs_scale_theta_dot);
