// dphys/surrogate/program.hpp — expression programs, the symbolic surrogates of N-body dynamics
// (spec §0.4): neighbour selection × pair kernel × update rule. The pair kernel is a flat postfix
// array of nodes returning a scalar s; the pair acceleration is s·(x_j − x_i). No extension points
// (the operator set is closed; see docs/reference/surrogate.md for the semantics of every op).
//
// Determinism: programs are plain values; equality is exact (doubles compared bit for bit, except
// parameters a rule does not use, which are ignored). Thread safety: const programs may be shared.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dphys::surrogate {

/// Node codes of a pair kernel. Leaves first (arity 0), then unary, then binary operators.
/// Pair terms: dx = x_j − x_i (likewise dy, dz), r2 = dx²+dy²+dz², r = √r2, m_i, m_j,
/// dvx = vx_j − vx_i (likewise dvy, dvz), dv2 = |dv|², rdotv = dx·dvx + dy·dvy + dz·dvz.
enum class op : std::uint8_t {
  dx, dy, dz, r2, r, m_i, m_j, dvx, dvy, dvz, dv2, rdotv,  // pair terms
  constant,  ///< a named, evolvable constant: program::constants[node::index]
  literal,   ///< a fixed number: node::value
  neg, abs, sqrt, exp, log,       // unary
  add, sub, mul, div, pow, min, max  // binary
};

inline constexpr std::size_t op_count = static_cast<std::size_t>(op::max) + 1;
inline constexpr std::size_t pair_term_count = static_cast<std::size_t>(op::rdotv) + 1;

/// Number of operands of `o`: 0 (leaves), 1 or 2.
constexpr int arity(op o) noexcept {
  if (o <= op::literal) return 0;
  if (o <= op::log) return 1;
  return 2;
}
constexpr bool is_pair_term(op o) noexcept { return o <= op::rdotv; }

/// The text name of `o`: the leaf name, the function name, or the operator symbol.
constexpr std::string_view op_name(op o) noexcept {
  constexpr std::array<std::string_view, op_count> names{
      "dx",  "dy",       "dz",      "r2",  "r",   "m_i", "m_j", "dvx", "dvy",
      "dvz", "dv2",      "rdotv",   "<constant>", "<literal>", "neg", "abs", "sqrt", "exp",
      "log", "+",        "-",       "*",   "/",   "pow", "min", "max"};
  return names[static_cast<std::size_t>(o)];
}

/// Names of node codes for reflected configs (lists of operators/terminals): the op_name texts.
constexpr auto enum_names(op) {
  std::array<std::pair<op, std::string_view>, op_count> t{};
  for (std::size_t i = 0; i < op_count; ++i) t[i] = {static_cast<op>(i), op_name(static_cast<op>(i))};
  return t;
}

/// One postfix node. `index` is used by op::constant, `value` by op::literal; both are zero
/// otherwise (the variation operators and the parser keep them so, which keeps == meaningful).
struct node {
  op code = op::literal;
  std::uint16_t index = 0;
  double value = 0.0;
  friend bool operator==(const node&, const node&) = default;
};

constexpr node make_leaf(op o) { return {o, 0, 0.0}; }
constexpr node make_literal(double v) { return {op::literal, 0, v}; }
constexpr node make_constant(std::uint16_t i) { return {op::constant, i, 0.0}; }
constexpr node make_op(op o) { return {o, 0, 0.0}; }

/// Which pairs the kernel sees for particle i.
enum class neighbour_kind : std::uint8_t {
  all,     ///< every j ≠ i
  cutoff,  ///< j ≠ i with r2 < radius² (strictly)
  knn      ///< the k nearest j ≠ i (ties by index; all of them when fewer than k)
};

/// Neighbour selection. With `far_field` (cutoff and knn only), the particles not selected (and
/// ≠ i) are aggregated into one pseudo-particle at their centre of mass, with their total mass and
/// mass-weighted mean velocity, and the kernel is evaluated once more on that pair.
struct neighbour_rule {
  neighbour_kind kind = neighbour_kind::all;
  double radius = 1.0;  ///< cutoff only; > 0
  int k = 8;            ///< knn only; >= 1
  bool far_field = false;

  /// Equal when the kinds are equal and so are the parameters the kind uses.
  friend bool operator==(const neighbour_rule& a, const neighbour_rule& b) {
    if (a.kind != b.kind) return false;
    switch (a.kind) {
      case neighbour_kind::all:
        return true;
      case neighbour_kind::cutoff:
        return a.radius == b.radius && a.far_field == b.far_field;
      case neighbour_kind::knn:
        return a.k == b.k && a.far_field == b.far_field;
    }
    return false;
  }
};

/// How accelerations become the next state (dt is the crucible's step).
enum class update_kind : std::uint8_t {
  leapfrog,          ///< v += kick·a(x)·dt/2; x += v·dt; v += kick·a(x')·dt/2 (two kernel passes)
  symplectic_euler,  ///< v' = v + kick·a·dt; x' = x + v'·dt
  taylor             ///< x' = x + cv·v·dt + ca·a·dt²; v' = v + kick·a·dt
};

struct update_rule {
  update_kind kind = update_kind::leapfrog;
  double kick = 1.0;
  double cv = 1.0;  ///< taylor only
  double ca = 0.5;  ///< taylor only

  /// Kernel passes (force evaluations) per step.
  [[nodiscard]] int passes() const noexcept { return kind == update_kind::leapfrog ? 2 : 1; }

  friend bool operator==(const update_rule& a, const update_rule& b) {
    if (a.kind != b.kind || a.kick != b.kick) return false;
    return a.kind != update_kind::taylor || (a.cv == b.cv && a.ca == b.ca);
  }
};

struct named_constant {
  std::string name;
  double value = 0.0;
  friend bool operator==(const named_constant&, const named_constant&) = default;
};

/// A surrogate: neighbour selection × pair kernel (postfix) × update rule, plus the named
/// constants the kernel refers to. Invariant (checked by well_formed): the kernel is a single
/// well-formed postfix expression and every constant index is in range.
struct program {
  neighbour_rule neighbours;
  std::vector<node> kernel;
  std::vector<named_constant> constants;
  update_rule update;

  /// Program size = number of kernel nodes (the size penalty's "tokens").
  [[nodiscard]] std::size_t size() const noexcept { return kernel.size(); }

  friend bool operator==(const program&, const program&) = default;
};

/// Position (0-based) of the first node of the subtree ending at `end` (inclusive) in postfix
/// array `k`. Precondition: k[0..end] is well formed.
inline std::size_t subtree_begin(const std::vector<node>& k, std::size_t end) {
  int need = 1;
  std::size_t i = end + 1;
  while (need > 0) {
    --i;
    need += arity(k[i].code) - 1;
  }
  return i;
}

/// Whether `k` is one well-formed postfix expression whose constant indices are < n_constants
/// and whose literals are finite.
inline bool well_formed(const std::vector<node>& k, std::size_t n_constants) {
  long depth = 0;
  for (const node& n : k) {
    if (static_cast<std::size_t>(n.code) >= op_count) return false;
    if (n.code == op::constant && n.index >= n_constants) return false;
    if (n.code == op::literal && !(n.value - n.value == 0.0)) return false;
    depth += 1 - arity(n.code);
    if (depth < 1) return false;
  }
  return depth == 1;
}

/// Depth of the kernel tree (a single leaf has depth 1; 0 for an empty kernel). Precondition:
/// well formed.
inline std::size_t depth(const std::vector<node>& k) {
  std::vector<std::size_t> st;
  st.reserve(k.size());
  for (const node& n : k) {
    std::size_t d = 0;
    for (int a = 0; a < arity(n.code); ++a) {
      d = std::max(d, st.back());
      st.pop_back();
    }
    st.push_back(d + 1);
  }
  return st.empty() ? 0 : st.back();
}

/// Maximum evaluation-stack height of a well-formed postfix kernel.
inline std::size_t stack_height(const std::vector<node>& k) {
  long h = 0, best = 0;
  for (const node& n : k) {
    h += 1 - arity(n.code);
    best = std::max(best, h);
  }
  return static_cast<std::size_t>(best);
}

/// Exponents with an exact short form: b = k/2 for an integer k, |b| <= 8.
inline bool small_half_integer(double b) {
  const double t = 2.0 * b;
  return std::fabs(b) <= 8.0 && std::floor(t) == t;
}

/// x^b for x >= 0 (or NaN/inf) and small_half_integer(b), by exact IEEE operations in a fixed
/// order: p = x·x·…·x (⌊|b|⌋ factors, starting from 1), times √x when |b| is not an integer, and
/// 1/p when b < 0. E.g. x^−1.5 = 1/(x·√x). The interpreter computes the same operations on
/// batches, so both agree bit for bit.
inline double pow_half_integer(double x, double b) {
  const double e = std::fabs(b);
  const int whole = static_cast<int>(e);
  double p = 1.0;
  for (int k = 0; k < whole; ++k) p *= x;
  if (e != whole) p *= std::sqrt(x);
  return b < 0 ? 1.0 / p : p;
}

/// Protected semantics of one operator on scalars (the interpreter's SIMD code computes the same
/// cases; exp/log/pow may differ from <cmath> in the last bits). `domain_error` is set when a
/// protected case applies:
///   a / 0 = 0;  sqrt(a<0) = sqrt(|a|);  log(0) = 0, log(a<0) = log(|a|);  exp(a>700) = exp(700);
///   pow(a<0, non-integer b) = pow(|a|, b);  pow(0, b<0) = 0.
/// Integer exponents of negative bases are not errors: pow(-2, 3) = -8. pow with a half-integer
/// exponent |b| <= 8 uses pow_half_integer (exact operations), other exponents std::pow. NaN and
/// ±inf operands propagate (the crucible rejects non-finite outputs).
inline double apply_scalar(op o, double a, double b, bool& domain_error) {
  switch (o) {
    case op::neg:
      return -a;
    case op::abs:
      return std::fabs(a);
    case op::sqrt:
      if (a < 0) domain_error = true;
      return std::sqrt(std::fabs(a));
    case op::exp:
      if (a > 700.0) domain_error = true;
      return std::exp(std::min(a, 700.0));
    case op::log:
      if (a <= 0) domain_error = true;
      return a == 0 ? 0.0 : std::log(std::fabs(a));
    case op::add:
      return a + b;
    case op::sub:
      return a - b;
    case op::mul:
      return a * b;
    case op::div:
      if (b == 0) {
        domain_error = true;
        return 0.0;
      }
      return a / b;
    case op::pow: {
      const bool integral = std::floor(b) == b;
      if (a == 0 && b < 0) {
        domain_error = true;
        return 0.0;
      }
      if (a < 0 && !integral) domain_error = true;
      const double z = small_half_integer(b) ? pow_half_integer(std::fabs(a), b)
                                             : std::pow(std::fabs(a), b);
      const bool odd = integral && std::floor(b * 0.5) * 2.0 != b;
      return a < 0 && odd ? -z : z;
    }
    case op::min:
      return b < a ? b : a;
    case op::max:
      return a < b ? b : a;
    default:
      return a;
  }
}

/// The reference program: softened Newtonian gravity with leapfrog, i.e. exactly the spec's
/// reference dynamics, `G * m_j * pow(r2 + eps2, -1.5)` with const G, eps2 = eps².
inline program newtonian_program(double G = 1.0, double eps = 0.01) {
  program p;
  p.constants = {{"G", G}, {"eps2", eps * eps}};
  p.kernel = {make_constant(0), make_leaf(op::m_j),  make_op(op::mul),   make_leaf(op::r2),
              make_constant(1), make_op(op::add),    make_literal(-1.5), make_op(op::pow),
              make_op(op::mul)};
  return p;
}

}  // namespace dphys::surrogate
