// dphys/surrogate/variation.hpp — variation of expression programs: random trees (grow), subtree
// mutation, point mutation, constant perturbation, hoist, shrink, structure mutation (neighbour
// selection / update rule), subtree crossover, and deterministic constant optimisation (coordinate
// pattern search on a loss, e.g. the crucible's one-step loss). No extension points.
//
// Determinism: every draw comes from dphys's counter-based generator through `draw_stream`, keyed
// by (seed, stream, generation, member); the same key gives the same offspring on any machine
// thread count. Offspring that would break the size/depth limits are retried (3 times) and
// otherwise replaced by a copy of the parent, so every result is well formed.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/core/config_check.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/surrogate/program.hpp>

namespace dphys::surrogate {

/// Random-number streams of this area (stream_id values outside the library's enumerators).
inline constexpr std::uint32_t stream_base = 0x5300u;
inline constexpr stream_id variation_stream = static_cast<stream_id>(stream_base + 1);
inline constexpr stream_id selection_stream = static_cast<stream_id>(stream_base + 2);
inline constexpr stream_id init_stream = static_cast<stream_id>(stream_base + 3);
inline constexpr stream_id proposal_stream = static_cast<stream_id>(stream_base + 4);

/// A sequence of draws at counter (key, member, episode, index = 0, 1, 2, ...). Cheap to create;
/// two streams with the same key, member and episode yield the same sequence.
class draw_stream {
 public:
  draw_stream(std::uint64_t seed, stream_id stream, std::uint32_t generation, std::uint32_t member,
              std::uint32_t episode = 0)
      : key_(random_key::make(seed, stream, generation, 0)), member_(member), episode_(episode) {}

  /// 32 random bits.
  std::uint32_t bits() { return random_bits<float>(key_, member_, episode_, index_++); }
  /// Uniform on [0, 1) with 53 random bits.
  double uniform() {
    const std::uint64_t a = bits() >> 5, b = bits() >> 6;
    return (static_cast<double>(a) * 67108864.0 + static_cast<double>(b)) * 0x1p-53;
  }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Standard normal (Box–Muller on two uniforms).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  /// Integer in [0, n); 0 when n = 0.
  std::size_t below(std::size_t n) {
    if (n == 0) return 0;
    return static_cast<std::size_t>(uniform() * static_cast<double>(n)) % n;
  }
  bool chance(double p) { return uniform() < p; }

 private:
  random_key key_;
  std::uint32_t member_, episode_;
  std::uint32_t index_ = 0;
};

struct variation_config {
  std::vector<op> terminals{op::dx,  op::dy,  op::dz,  op::r2,  op::r,  op::m_i,
                            op::m_j, op::dvx, op::dvy, op::dvz, op::dv2, op::rdotv};
  std::vector<op> operators{op::neg, op::abs, op::sqrt, op::exp, op::log, op::add,
                            op::sub, op::mul, op::div,  op::pow, op::min, op::max};
  std::vector<double> literal_values{-3, -2, -1.5, -1, -0.5, 0.5, 1, 2, 3};  ///< literal leaves
  double literal_probability = 0.25;  ///< a new leaf is a literal (else a terminal)
  int init_depth = 4;                 ///< max depth of random trees (initial and new subtrees)
  int max_depth = 12;                 ///< offspring deeper than this are retried
  int max_size = 64;                  ///< offspring larger than this are retried
  double constant_sigma = 0.1;        ///< perturbation: v += σ·max(|v|, 0.1)·N(0,1)
  // operator weights (normalised)
  double w_subtree = 0.3;
  double w_point = 0.2;
  double w_constant = 0.3;
  double w_hoist = 0.05;
  double w_shrink = 0.1;
  double w_structure = 0.05;  ///< neighbour selection / update rule change (0 keeps them fixed)

  void check(config_checker<variation_config>& c) const {
    c(&variation_config::terminals)
        .satisfies([](const std::vector<op>& v) {
          return !v.empty() && std::all_of(v.begin(), v.end(), is_pair_term);
        }, "a non-empty list of pair terms (dx ... rdotv)");
    c(&variation_config::operators)
        .satisfies([](const std::vector<op>& v) {
          return !v.empty() && std::all_of(v.begin(), v.end(), [](op o) { return arity(o) > 0; });
        }, "a non-empty list of operators");
    c(&variation_config::literal_values).finite();
    c(&variation_config::literal_probability).in_range(0.0, 1.0);
    c(&variation_config::init_depth).in_range(1, 32);
    c(&variation_config::max_depth).in_range(1, 4096);
    c(&variation_config::max_size).in_range(1, 65535);
    c(&variation_config::constant_sigma).at_least(0.0).finite();
    for (auto w : {&variation_config::w_subtree, &variation_config::w_point,
                   &variation_config::w_constant, &variation_config::w_hoist,
                   &variation_config::w_shrink, &variation_config::w_structure})
      c(w).at_least(0.0).finite();
    c.require(w_subtree + w_point + w_constant + w_hoist + w_shrink + w_structure > 0,
              "operator weights must not all be 0", &variation_config::w_subtree);
  }
};

}  // namespace dphys::surrogate

DPHYS_ADAPT_STRUCT(dphys::surrogate::variation_config, terminals, operators, literal_values,
                   literal_probability, init_depth, max_depth, max_size, constant_sigma, w_subtree,
                   w_point, w_constant, w_hoist, w_shrink, w_structure);

namespace dphys::surrogate {

/// Which operator produced an offspring (for history records).
enum class variation_kind : std::uint8_t {
  subtree, point, constant, hoist, shrink, structure, crossover, copy
};
constexpr auto enum_names(variation_kind) {
  using V = variation_kind;
  return std::array{std::pair{V::subtree, std::string_view{"subtree"}},
                    std::pair{V::point, std::string_view{"point"}},
                    std::pair{V::constant, std::string_view{"constant"}},
                    std::pair{V::hoist, std::string_view{"hoist"}},
                    std::pair{V::shrink, std::string_view{"shrink"}},
                    std::pair{V::structure, std::string_view{"structure"}},
                    std::pair{V::crossover, std::string_view{"crossover"}},
                    std::pair{V::copy, std::string_view{"copy"}}};
}

namespace detail {

inline node random_leaf(const variation_config& vc, std::size_t n_constants, draw_stream& d) {
  if (d.chance(vc.literal_probability) || vc.terminals.empty()) {
    if (n_constants > 0 && d.chance(0.3)) return make_constant(static_cast<std::uint16_t>(d.below(n_constants)));
    if (vc.literal_values.empty()) return make_literal(1.0);
    return make_literal(vc.literal_values[d.below(vc.literal_values.size())]);
  }
  return make_leaf(vc.terminals[d.below(vc.terminals.size())]);
}

// "grow": a leaf with probability 0.3 below the root (always at depth limit), else an operator.
inline void grow(const variation_config& vc, std::size_t n_constants, int depth, bool root,
                 draw_stream& d, std::vector<node>& out) {
  if (depth <= 1 || vc.operators.empty() || (!root && d.chance(0.3))) {
    out.push_back(random_leaf(vc, n_constants, d));
    return;
  }
  const op o = vc.operators[d.below(vc.operators.size())];
  for (int a = 0; a < arity(o); ++a) grow(vc, n_constants, depth - 1, false, d, out);
  out.push_back(make_op(o));
}

// Variation needs a non-empty, well-formed kernel; other programs are returned unchanged.
inline bool mutable_kernel(const program& p) {
  return !p.kernel.empty() && well_formed(p.kernel, p.constants.size());
}

inline bool within(const std::vector<node>& k, const variation_config& vc) {
  return !k.empty() && k.size() <= static_cast<std::size_t>(vc.max_size) &&
         depth(k) <= static_cast<std::size_t>(vc.max_depth);
}

// k with its subtree [b, e] replaced by `sub`.
inline std::vector<node> splice(const std::vector<node>& k, std::size_t b, std::size_t e,
                                const std::vector<node>& sub) {
  std::vector<node> out;
  out.reserve(k.size() - (e - b + 1) + sub.size());
  out.insert(out.end(), k.begin(), k.begin() + static_cast<std::ptrdiff_t>(b));
  out.insert(out.end(), sub.begin(), sub.end());
  out.insert(out.end(), k.begin() + static_cast<std::ptrdiff_t>(e) + 1, k.end());
  return out;
}

inline std::vector<double*> numeric_slots(program& p, bool include_rule_coefficients) {
  std::vector<double*> s;
  for (node& n : p.kernel)
    if (n.code == op::literal) s.push_back(&n.value);
  for (auto& c : p.constants) s.push_back(&c.value);
  if (include_rule_coefficients) {
    s.push_back(&p.update.kick);
    if (p.update.kind == update_kind::taylor) {
      s.push_back(&p.update.cv);
      s.push_back(&p.update.ca);
    }
  }
  return s;
}

}  // namespace detail

/// A random kernel ("grow" up to vc.init_depth) with the given constants available.
inline std::vector<node> random_kernel(const variation_config& vc, std::size_t n_constants,
                                       draw_stream& d) {
  std::vector<node> k;
  detail::grow(vc, n_constants, vc.init_depth, true, d, k);
  return k;
}

/// A random program: random kernel, the given neighbour selection and update rule.
inline program random_program(const variation_config& vc, draw_stream& d,
                              neighbour_rule neighbours = {}, update_rule update = {}) {
  program p;
  p.neighbours = neighbours;
  p.update = update;
  p.kernel = random_kernel(vc, 0, d);
  return p;
}

/// Replaces a random subtree by a random tree.
inline program subtree_mutation(const program& p, const variation_config& vc, draw_stream& d) {
  if (!detail::mutable_kernel(p)) return p;
  for (int attempt = 0; attempt < 3; ++attempt) {
    program q = p;
    const std::size_t e = d.below(p.kernel.size());
    const std::size_t b = subtree_begin(p.kernel, e);
    std::vector<node> sub;
    detail::grow(vc, p.constants.size(), std::max(1, vc.init_depth - 1), false, d, sub);
    q.kernel = detail::splice(p.kernel, b, e, sub);
    if (detail::within(q.kernel, vc)) return q;
  }
  return p;
}

/// Replaces one node by another of the same arity (leaf by leaf, unary by unary, ...).
inline program point_mutation(const program& p, const variation_config& vc, draw_stream& d) {
  if (!detail::mutable_kernel(p)) return p;
  program q = p;
  const std::size_t i = d.below(p.kernel.size());
  const int ar = arity(p.kernel[i].code);
  if (ar == 0) {
    q.kernel[i] = detail::random_leaf(vc, p.constants.size(), d);
    return q;
  }
  std::vector<op> same;
  for (op o : vc.operators)
    if (arity(o) == ar) same.push_back(o);
  if (!same.empty()) q.kernel[i] = make_op(same[d.below(same.size())]);
  return q;
}

/// Perturbs one literal or named constant: v += σ·max(|v|, 0.1)·N(0,1) (σ = vc.constant_sigma ×
/// `scale`). Falls back to point mutation when the program has no numbers.
inline program constant_perturbation(const program& p, const variation_config& vc, draw_stream& d,
                                     double scale = 1.0) {
  program q = p;
  auto slots = detail::numeric_slots(q, false);
  if (slots.empty()) return point_mutation(p, vc, d);
  double& v = *slots[d.below(slots.size())];
  const double nv = v + vc.constant_sigma * scale * std::max(std::fabs(v), 0.1) * d.normal();
  if (std::isfinite(nv)) v = nv;
  return q;
}

/// The kernel becomes one of its own subtrees (chosen among non-root nodes when there are any).
inline program hoist_mutation(const program& p, draw_stream& d) {
  if (p.kernel.size() < 2 || !detail::mutable_kernel(p)) return p;
  program q = p;
  const std::size_t e = d.below(p.kernel.size() - 1);
  const std::size_t b = subtree_begin(p.kernel, e);
  q.kernel.assign(p.kernel.begin() + static_cast<std::ptrdiff_t>(b),
                  p.kernel.begin() + static_cast<std::ptrdiff_t>(e) + 1);
  return q;
}

/// Replaces a random operator subtree by a random leaf.
inline program shrink_mutation(const program& p, const variation_config& vc, draw_stream& d) {
  if (!detail::mutable_kernel(p)) return p;
  std::vector<std::size_t> ops;
  for (std::size_t i = 0; i < p.kernel.size(); ++i)
    if (arity(p.kernel[i].code) > 0) ops.push_back(i);
  if (ops.empty()) return p;
  program q = p;
  const std::size_t e = ops[d.below(ops.size())];
  q.kernel = detail::splice(p.kernel, subtree_begin(p.kernel, e), e,
                            {detail::random_leaf(vc, p.constants.size(), d)});
  return q;
}

/// Changes the neighbour selection or the update rule (kind or parameter).
inline program structure_mutation(const program& p, draw_stream& d) {
  program q = p;
  if (d.chance(0.5)) {
    auto& u = q.update;
    if (d.chance(0.5)) {
      u.kind = static_cast<update_kind>(d.below(3));
    } else {
      u.kick *= std::exp(0.1 * d.normal());
      if (u.kind == update_kind::taylor) {
        u.cv *= std::exp(0.1 * d.normal());
        u.ca *= std::exp(0.1 * d.normal());
      }
    }
  } else {
    auto& n = q.neighbours;
    switch (d.below(4)) {
      case 0:
        n.kind = static_cast<neighbour_kind>(d.below(3));
        break;
      case 1:
        n.radius *= std::exp(0.3 * d.normal());
        break;
      case 2:
        n.k = std::max(1, n.k + (d.chance(0.5) ? 1 : -1) * static_cast<int>(1 + d.below(3)));
        break;
      default:
        n.far_field = !n.far_field;
    }
  }
  return q;
}

/// Subtree crossover: a random subtree of `a` replaced by a random subtree of `b`. Constants of
/// `b` used by the donated subtree are matched by name in `a` (appended when absent).
inline program subtree_crossover(const program& a, const program& b, const variation_config& vc,
                                 draw_stream& d) {
  if (!detail::mutable_kernel(a) || !detail::mutable_kernel(b)) return a;
  for (int attempt = 0; attempt < 3; ++attempt) {
    program q = a;
    const std::size_t ea = d.below(a.kernel.size());
    const std::size_t ba = subtree_begin(a.kernel, ea);
    const std::size_t eb = d.below(b.kernel.size());
    const std::size_t bb = subtree_begin(b.kernel, eb);
    std::vector<node> sub(b.kernel.begin() + static_cast<std::ptrdiff_t>(bb),
                          b.kernel.begin() + static_cast<std::ptrdiff_t>(eb) + 1);
    for (node& n : sub)
      if (n.code == op::constant) {
        const auto& nc = b.constants[n.index];
        std::size_t k = 0;
        while (k < q.constants.size() && q.constants[k].name != nc.name) ++k;
        if (k == q.constants.size()) q.constants.push_back(nc);
        n.index = static_cast<std::uint16_t>(k);
      }
    q.kernel = detail::splice(a.kernel, ba, ea, sub);
    if (detail::within(q.kernel, vc)) return q;
  }
  return a;
}

/// One mutation, chosen by the operator weights of vc; `explore` (Galaxy's generations < 3) uses
/// the weights as given, exploit halves the subtree/hoist/structure weights and doubles the
/// constant weight, and `sigma_scale` scales the constant perturbation.
inline program mutate(const program& p, const variation_config& vc, draw_stream& d,
                      bool explore = true, variation_kind* kind = nullptr) {
  std::array<double, 6> w{vc.w_subtree, vc.w_point, vc.w_constant,
                          vc.w_hoist,   vc.w_shrink, vc.w_structure};
  if (!explore) {
    w[0] *= 0.5;
    w[3] *= 0.5;
    w[5] *= 0.5;
    w[2] *= 2.0;
  }
  double total = 0;
  for (double x : w) total += x;
  double u = d.uniform() * total;
  std::size_t pick = 0;
  while (pick + 1 < w.size() && u >= w[pick]) u -= w[pick++];
  if (kind) *kind = static_cast<variation_kind>(pick);
  switch (pick) {
    case 0:
      return subtree_mutation(p, vc, d);
    case 1:
      return point_mutation(p, vc, d);
    case 2:
      return constant_perturbation(p, vc, d, explore ? 1.0 : 0.5);
    case 3:
      return hoist_mutation(p, d);
    case 4:
      return shrink_mutation(p, vc, d);
    default:
      return structure_mutation(p, d);
  }
}

/// Deterministic constant optimisation: coordinate pattern search over the program's literals and
/// named constants (and the update rule's coefficients when `rule_coefficients`): each sweep tries
/// v·(1 ± step_k) (±step_k when v = 0) for every number k and keeps the first improvement; a
/// number's step halves when neither direction improves. Stops after `sweeps` sweeps or `max_evaluations` loss calls.
/// Returns the best program found (never worse than p under `loss`; non-finite losses lose).
inline program optimise_constants(const program& p, const std::function<double(const program&)>& loss,
                                  int sweeps = 8, int max_evaluations = 400,
                                  bool rule_coefficients = false, double initial_step = 0.2,
                                  double* best_loss = nullptr) {
  program best = p;
  double fbest = loss(best);
  if (!std::isfinite(fbest)) fbest = std::numeric_limits<double>::infinity();
  int evals = 1;
  const std::size_t n = detail::numeric_slots(best, rule_coefficients).size();
  std::vector<double> step(n, initial_step);  // per number: halves when neither direction helps
  for (int s = 0; s < sweeps && evals < max_evaluations && n > 0; ++s) {
    for (std::size_t k = 0; k < n && evals < max_evaluations; ++k) {
      bool improved = false;
      for (int sign : {+1, -1}) {
        program q = best;
        double& v = *detail::numeric_slots(q, rule_coefficients)[k];
        v = v == 0.0 ? sign * step[k] : v * (1.0 + sign * step[k]);
        const double f = loss(q);
        ++evals;
        if (f < fbest) {
          fbest = f;
          best = std::move(q);
          improved = true;
          break;
        }
        if (evals >= max_evaluations) break;
      }
      if (!improved) step[k] *= 0.5;
    }
  }
  if (best_loss) *best_loss = fbest;
  return best;
}

}  // namespace dphys::surrogate
