// dphys/surrogate/text.hpp — the text form of expression programs: parse_kernel / parse_program
// (structured parse_error with line, column and rule; size, depth and text-length limits),
// print_kernel / print_program (round trip: parse(print(p)) == p) and simplify (constant folding
// and algebraic identities). The grammar is in docs/reference/surrogate.md. No extension points.
//
// Failure modes: every malformed input throws parse_error, never crashes or recurses without bound.
// Thread safety: all functions are pure.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <dphys/core/config_check.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/surrogate/program.hpp>

namespace dphys::surrogate {

/// Limits applied by the parser (and by the validator and the variation operators).
struct parse_limits {
  int max_text_length = 65536;  ///< characters of program text
  int max_size = 2000;          ///< kernel nodes
  int max_depth = 48;           ///< kernel tree depth (a leaf has depth 1)
  int max_constants = 64;       ///< named constants

  void check(config_checker<parse_limits>& c) const {
    c(&parse_limits::max_text_length).in_range(16, 1 << 24);
    c(&parse_limits::max_size).in_range(1, 65535);
    c(&parse_limits::max_depth).in_range(1, 4096);
    c(&parse_limits::max_constants).in_range(0, 65535);
  }
};

/// What a parse error is about (stable names; docs/reference/surrogate.md lists them).
enum class parse_rule : std::uint8_t {
  syntax,               ///< unexpected character or token
  number,               ///< malformed or non-finite number
  unknown_identifier,   ///< not a pair term, function or declared constant
  unknown_statement,    ///< a line that is not const/neighbours/kernel/update/comment
  duplicate,            ///< a statement or constant declared twice
  missing_kernel,       ///< no kernel line
  bad_argument,         ///< unknown, repeated or out-of-range argument of neighbours/update
  arity,                ///< wrong number of function arguments
  text_length_limit,    ///< text longer than max_text_length
  size_limit,           ///< kernel larger than max_size nodes
  depth_limit,          ///< kernel deeper than max_depth
  constants_limit       ///< more than max_constants constants
};

constexpr std::string_view parse_rule_name(parse_rule r) noexcept {
  constexpr std::array<std::string_view, 12> names{
      "syntax",       "number",        "unknown_identifier", "unknown_statement",
      "duplicate",    "missing_kernel", "bad_argument",      "arity",
      "text_length_limit", "size_limit", "depth_limit",      "constants_limit"};
  return names[static_cast<std::size_t>(r)];
}

/// A malformed program text. line and column are 1-based (column counts bytes); `detail` says
/// what was expected or found. what(): "program text:<line>:<column>: <rule>: <detail>".
struct parse_error : std::runtime_error {
  std::size_t line = 0;
  std::size_t column = 0;
  parse_rule rule = parse_rule::syntax;
  std::string detail;

  parse_error(std::size_t l, std::size_t c, parse_rule r, std::string d)
      : std::runtime_error("program text:" + std::to_string(l) + ":" + std::to_string(c) + ": " +
                           std::string(parse_rule_name(r)) + ": " + d),
        line(l),
        column(c),
        rule(r),
        detail(std::move(d)) {}
};

namespace detail {

/// Shortest text that reads back as exactly `v` (std::to_chars), e.g. "1", "0.0001", "1e-10".
inline std::string number_text(double v) {
  std::array<char, 64> buf{};
  const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return std::string(buf.data(), res.ptr);
}

inline bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
inline bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

inline std::optional<op> pair_term_named(std::string_view s) {
  for (std::size_t i = 0; i < pair_term_count; ++i)
    if (op_name(static_cast<op>(i)) == s) return static_cast<op>(i);
  return std::nullopt;
}
inline std::optional<op> function_named(std::string_view s) {
  for (op o : {op::abs, op::sqrt, op::exp, op::log, op::pow, op::min, op::max})
    if (op_name(o) == s) return o;
  return std::nullopt;
}
/// Words that cannot name a constant.
inline bool reserved_word(std::string_view s) {
  return pair_term_named(s) || function_named(s) || s == "const" || s == "neg" || s == "inf" ||
         s == "nan" || s == "infinity";
}

// Recursive-descent parser of one line's kernel expression, emitting postfix.
class expr_parser {
 public:
  expr_parser(std::string_view text, std::size_t line, std::size_t col0,
              const std::vector<named_constant>& constants, const parse_limits& lim)
      : s_(text), line_(line), col0_(col0), constants_(constants), lim_(lim) {}

  std::vector<node> parse_all() {
    expr_();
    skip_ws_();
    if (pos_ < s_.size()) fail_(parse_rule::syntax, "unexpected '" + std::string(1, s_[pos_]) +
                                                        "' after a complete expression");
    return std::move(out_);
  }

  [[noreturn]] void fail_(parse_rule r, std::string what) const {
    throw parse_error(line_, col0_ + pos_ + 1, r, std::move(what));
  }

 private:
  void skip_ws_() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\r')) ++pos_;
  }
  bool eat_(char c) {
    skip_ws_();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect_(char c, std::string_view context) {
    if (!eat_(c)) {
      std::string found = pos_ < s_.size() ? "'" + std::string(1, s_[pos_]) + "'" : "end of line";
      fail_(parse_rule::syntax,
            "expected '" + std::string(1, c) + "' " + std::string(context) + ", found " + found);
    }
  }
  // depth of each value on the emission stack, to enforce max_depth as nodes are emitted
  void emit_(node n) {
    if (out_.size() >= static_cast<std::size_t>(lim_.max_size))
      fail_(parse_rule::size_limit,
            "kernel exceeds " + std::to_string(lim_.max_size) + " nodes");
    std::size_t d = 0;
    for (int a = 0; a < arity(n.code); ++a) {
      d = std::max(d, depths_.back());
      depths_.pop_back();
    }
    depths_.push_back(d + 1);
    if (d + 1 > static_cast<std::size_t>(lim_.max_depth))
      fail_(parse_rule::depth_limit,
            "kernel tree deeper than " + std::to_string(lim_.max_depth));
    out_.push_back(n);
  }
  struct guard {
    expr_parser& p;
    explicit guard(expr_parser& q) : p(q) {
      if (++p.nesting_ > 2 * static_cast<std::size_t>(p.lim_.max_depth) + 8)
        p.fail_(parse_rule::depth_limit, "nesting deeper than the depth limit allows");
    }
    ~guard() { --p.nesting_; }
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;
  };

  void expr_() {
    guard g(*this);
    term_();
    for (;;) {
      skip_ws_();
      if (eat_('+')) {
        term_();
        emit_(make_op(op::add));
      } else if (eat_('-')) {
        term_();
        emit_(make_op(op::sub));
      } else {
        return;
      }
    }
  }
  void term_() {
    unary_();
    for (;;) {
      if (eat_('*')) {
        unary_();
        emit_(make_op(op::mul));
      } else if (eat_('/')) {
        unary_();
        emit_(make_op(op::div));
      } else {
        return;
      }
    }
  }
  void unary_() {
    guard g(*this);
    skip_ws_();
    if (pos_ < s_.size() && s_[pos_] == '-') {
      ++pos_;
      // '-' immediately followed by a number is a negative literal
      if (pos_ < s_.size() && (is_digit(s_[pos_]) || s_[pos_] == '.')) {
        emit_(make_literal(-number_()));
        return;
      }
      unary_();
      emit_(make_op(op::neg));
      return;
    }
    primary_();
  }
  double number_() {
    const std::size_t start = pos_;
    while (pos_ < s_.size() && (is_digit(s_[pos_]) || s_[pos_] == '.')) ++pos_;
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
    }
    double v = 0;
    const auto res = std::from_chars(s_.data() + start, s_.data() + pos_, v);
    if (res.ec != std::errc() || res.ptr != s_.data() + pos_ || !std::isfinite(v)) {
      pos_ = start;
      fail_(parse_rule::number, "malformed or out-of-range number '" +
                                    std::string(s_.substr(start, std::min<std::size_t>(
                                                                     32, res.ptr - s_.data() + 1 - start))) +
                                    "'");
    }
    if (pos_ < s_.size() && is_ident_char(s_[pos_])) {
      pos_ = start;
      fail_(parse_rule::number, "a number must not run into a name");
    }
    return v;
  }
  void primary_() {
    skip_ws_();
    if (pos_ >= s_.size()) fail_(parse_rule::syntax, "expected an expression, found end of line");
    const char c = s_[pos_];
    if (is_digit(c) || c == '.') {
      emit_(make_literal(number_()));
      return;
    }
    if (c == '(') {
      ++pos_;
      expr_();
      expect_(')', "to close '('");
      return;
    }
    if (!is_ident_start(c))
      fail_(parse_rule::syntax, "expected an expression, found '" + std::string(1, c) + "'");
    const std::size_t start = pos_;
    while (pos_ < s_.size() && is_ident_char(s_[pos_])) ++pos_;
    const std::string_view name = s_.substr(start, pos_ - start);
    if (auto t = pair_term_named(name)) {
      emit_(make_leaf(*t));
      return;
    }
    if (auto f = function_named(name)) {
      const std::size_t fpos = start;
      expect_('(', "after function name");
      expr_();
      int args = 1;
      while (eat_(',')) {
        expr_();
        ++args;
      }
      expect_(')', "to close the argument list");
      if (args != arity(*f)) {
        pos_ = fpos;
        fail_(parse_rule::arity, std::string(name) + " takes " + std::to_string(arity(*f)) +
                                     " argument(s), got " + std::to_string(args));
      }
      emit_(make_op(*f));
      return;
    }
    for (std::size_t i = 0; i < constants_.size(); ++i)
      if (constants_[i].name == name) {
        emit_(make_constant(static_cast<std::uint16_t>(i)));
        return;
      }
    pos_ = start;
    fail_(parse_rule::unknown_identifier,
          "'" + std::string(name) + "' is not a pair term, a function or a declared constant");
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::size_t line_, col0_;
  const std::vector<named_constant>& constants_;
  const parse_limits& lim_;
  std::vector<node> out_;
  std::vector<std::size_t> depths_;
  std::size_t nesting_ = 0;
};

// "name(key=value, ...)" argument lists of neighbours/update statements.
struct call_text {
  std::string name;
  std::vector<std::pair<std::string, std::string>> args;  // key, value
  std::vector<std::size_t> arg_columns;                   // 1-based column of each key
};

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

inline call_text parse_call(std::string_view s, std::size_t line, std::size_t col0) {
  call_text out;
  std::size_t pos = 0;
  auto fail = [&](std::string what) -> void {
    throw parse_error(line, col0 + pos + 1, parse_rule::syntax, std::move(what));
  };
  auto ws = [&] {
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\r')) ++pos;
  };
  ws();
  const std::size_t start = pos;
  while (pos < s.size() && is_ident_char(s[pos])) ++pos;
  out.name = std::string(s.substr(start, pos - start));
  if (out.name.empty()) fail("expected a name");
  ws();
  if (pos == s.size()) return out;
  if (s[pos] != '(') fail("expected '(' or end of line after '" + out.name + "'");
  ++pos;
  ws();
  if (pos < s.size() && s[pos] == ')') {
    ++pos;
  } else {
    for (;;) {
      ws();
      const std::size_t kcol = pos;
      const std::size_t k0 = pos;
      while (pos < s.size() && is_ident_char(s[pos])) ++pos;
      std::string key(s.substr(k0, pos - k0));
      if (key.empty()) fail("expected an argument name");
      ws();
      if (pos >= s.size() || s[pos] != '=') fail("expected '=' after '" + key + "'");
      ++pos;
      ws();
      const std::size_t v0 = pos;
      while (pos < s.size() && s[pos] != ',' && s[pos] != ')' && s[pos] != ' ' && s[pos] != '\t')
        ++pos;
      std::string value(s.substr(v0, pos - v0));
      if (value.empty()) fail("expected a value for '" + key + "'");
      out.args.emplace_back(std::move(key), std::move(value));
      out.arg_columns.push_back(col0 + kcol + 1);
      ws();
      if (pos < s.size() && s[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos < s.size() && s[pos] == ')') {
        ++pos;
        break;
      }
      fail("expected ',' or ')' in the argument list");
    }
  }
  ws();
  if (pos != s.size()) fail("unexpected text after ')'");
  return out;
}

inline double arg_number(const std::string& v, std::size_t line, std::size_t col,
                         const std::string& key) {
  double x = 0;
  const auto res = std::from_chars(v.data(), v.data() + v.size(), x);
  if (res.ec != std::errc() || res.ptr != v.data() + v.size() || !std::isfinite(x))
    throw parse_error(line, col, parse_rule::number,
                      "argument '" + key + "' = '" + v + "' is not a finite number");
  return x;
}

}  // namespace detail

/// Parses a kernel expression, e.g. `G * m_j * pow(r2 + eps2, -1.5)`; identifiers other than pair
/// terms and functions must name one of `constants`. Errors report line `line`.
inline std::vector<node> parse_kernel(std::string_view text,
                                      const std::vector<named_constant>& constants = {},
                                      const parse_limits& limits = {}, std::size_t line = 1,
                                      std::size_t column_offset = 0) {
  if (text.size() > static_cast<std::size_t>(limits.max_text_length))
    throw parse_error(line, 1, parse_rule::text_length_limit,
                      "text of " + std::to_string(text.size()) + " characters exceeds " +
                          std::to_string(limits.max_text_length));
  detail::expr_parser p(text, line, column_offset, constants, limits);
  return p.parse_all();
}

/// Parses the whole-program text form (grammar: docs/reference/surrogate.md):
///
///     # softened Newtonian gravity
///     const G = 1
///     const eps2 = 0.0001
///     neighbours: all
///     kernel: G * m_j * pow(r2 + eps2, -1.5)
///     update: leapfrog(kick=1)
///
/// `kernel:` is required; `neighbours:` defaults to all and `update:` to leapfrog(kick=1). Const
/// lines may appear anywhere; constants are numbered in declaration order.
inline program parse_program(std::string_view text, const parse_limits& limits = {}) {
  if (text.size() > static_cast<std::size_t>(limits.max_text_length))
    throw parse_error(1, 1, parse_rule::text_length_limit,
                      "text of " + std::to_string(text.size()) + " characters exceeds " +
                          std::to_string(limits.max_text_length));
  program p;
  struct stmt {
    std::string_view body;
    std::size_t line, col;
  };
  std::optional<stmt> kernel_s, neigh_s, update_s;
  std::size_t line_no = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view raw = text.substr(start, end - start);
    ++line_no;
    std::size_t lead = 0;
    while (lead < raw.size() && (raw[lead] == ' ' || raw[lead] == '\t')) ++lead;
    const std::string_view s = detail::trim(raw);
    if (!s.empty() && s.front() != '#') {
      std::size_t w = 0;
      while (w < s.size() && detail::is_ident_char(s[w])) ++w;
      const std::string_view word = s.substr(0, w);
      if (word == "const") {
        std::size_t pos = w;
        auto ws = [&] {
          while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
        };
        ws();
        const std::size_t n0 = pos;
        while (pos < s.size() && detail::is_ident_char(s[pos])) ++pos;
        const std::string name(s.substr(n0, pos - n0));
        if (name.empty() || !detail::is_ident_start(name[0]))
          throw parse_error(line_no, lead + n0 + 1, parse_rule::syntax,
                            "expected a constant name after 'const'");
        if (detail::reserved_word(name))
          throw parse_error(line_no, lead + n0 + 1, parse_rule::syntax,
                            "'" + name + "' is reserved and cannot name a constant");
        for (const auto& c : p.constants)
          if (c.name == name)
            throw parse_error(line_no, lead + n0 + 1, parse_rule::duplicate,
                              "constant '" + name + "' declared twice");
        if (p.constants.size() >= static_cast<std::size_t>(limits.max_constants))
          throw parse_error(line_no, lead + n0 + 1, parse_rule::constants_limit,
                            "more than " + std::to_string(limits.max_constants) + " constants");
        ws();
        if (pos >= s.size() || s[pos] != '=')
          throw parse_error(line_no, lead + pos + 1, parse_rule::syntax,
                            "expected '=' after constant name");
        ++pos;
        ws();
        const std::string value(s.substr(pos));
        p.constants.push_back({name, detail::arg_number(value, line_no, lead + pos + 1, name)});
      } else if (word == "neighbours" || word == "kernel" || word == "update") {
        std::size_t pos = w;
        while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
        if (pos >= s.size() || s[pos] != ':')
          throw parse_error(line_no, lead + pos + 1, parse_rule::syntax,
                            "expected ':' after '" + std::string(word) + "'");
        ++pos;
        auto& slot = word == "kernel" ? kernel_s : word == "update" ? update_s : neigh_s;
        if (slot)
          throw parse_error(line_no, lead + 1, parse_rule::duplicate,
                            "'" + std::string(word) + "' given twice (first on line " +
                                std::to_string(slot->line) + ")");
        slot = stmt{s.substr(pos), line_no, lead + pos};
      } else {
        throw parse_error(line_no, lead + 1, parse_rule::unknown_statement,
                          "expected 'const', 'neighbours:', 'kernel:', 'update:' or '#', found '" +
                              std::string(s.substr(0, std::min<std::size_t>(s.size(), 24))) +
                              "'");
      }
    }
    if (end == text.size()) break;
    start = end + 1;
  }
  if (!kernel_s) throw parse_error(line_no, 1, parse_rule::missing_kernel, "no 'kernel:' line");
  p.kernel = parse_kernel(kernel_s->body, p.constants, limits, kernel_s->line, kernel_s->col);

  if (neigh_s) {
    const auto call = detail::parse_call(neigh_s->body, neigh_s->line, neigh_s->col);
    auto& nr = p.neighbours;
    if (call.name == "all")
      nr.kind = neighbour_kind::all;
    else if (call.name == "cutoff")
      nr.kind = neighbour_kind::cutoff;
    else if (call.name == "knn")
      nr.kind = neighbour_kind::knn;
    else
      throw parse_error(neigh_s->line, neigh_s->col + 2, parse_rule::bad_argument,
                        "neighbour selection must be all, cutoff(radius=R) or knn(k=K), found '" +
                            call.name + "'");
    bool have_radius = false, have_k = false, have_far = false;
    for (std::size_t a = 0; a < call.args.size(); ++a) {
      const auto& [key, value] = call.args[a];
      const std::size_t col = call.arg_columns[a];
      auto bad = [&](const std::string& why) {
        throw parse_error(neigh_s->line, col, parse_rule::bad_argument, why);
      };
      if (key == "radius" && nr.kind == neighbour_kind::cutoff && !have_radius) {
        nr.radius = detail::arg_number(value, neigh_s->line, col, key);
        if (!(nr.radius > 0)) bad("radius must be > 0, got " + value);
        have_radius = true;
      } else if (key == "k" && nr.kind == neighbour_kind::knn && !have_k) {
        const double k = detail::arg_number(value, neigh_s->line, col, key);
        if (!(k >= 1 && k <= 1e6 && std::floor(k) == k))
          bad("k must be an integer in [1, 1000000], got " + value);
        nr.k = static_cast<int>(k);
        have_k = true;
      } else if (key == "far" && nr.kind != neighbour_kind::all && !have_far) {
        if (value != "com" && value != "none") bad("far must be com or none, got " + value);
        nr.far_field = value == "com";
        have_far = true;
      } else {
        bad("argument '" + key + "' is unknown or repeated for " + call.name);
      }
    }
    if ((nr.kind == neighbour_kind::cutoff && !have_radius) ||
        (nr.kind == neighbour_kind::knn && !have_k))
      throw parse_error(neigh_s->line, neigh_s->col + 2, parse_rule::bad_argument,
                        call.name + " needs its " +
                            (nr.kind == neighbour_kind::knn ? "k" : "radius") + " argument");
  }
  if (update_s) {
    const auto call = detail::parse_call(update_s->body, update_s->line, update_s->col);
    auto& ur = p.update;
    if (call.name == "leapfrog")
      ur.kind = update_kind::leapfrog;
    else if (call.name == "symplectic_euler")
      ur.kind = update_kind::symplectic_euler;
    else if (call.name == "taylor")
      ur.kind = update_kind::taylor;
    else
      throw parse_error(update_s->line, update_s->col + 2, parse_rule::bad_argument,
                        "update rule must be leapfrog, symplectic_euler or taylor, found '" +
                            call.name + "'");
    std::array<bool, 3> seen{};
    for (std::size_t a = 0; a < call.args.size(); ++a) {
      const auto& [key, value] = call.args[a];
      const std::size_t col = call.arg_columns[a];
      const int slot = key == "kick" ? 0 : key == "cv" ? 1 : key == "ca" ? 2 : -1;
      if (slot < 0 || seen[static_cast<std::size_t>(slot)] ||
          (slot > 0 && ur.kind != update_kind::taylor))
        throw parse_error(update_s->line, col, parse_rule::bad_argument,
                          "argument '" + key + "' is unknown or repeated for " + call.name);
      seen[static_cast<std::size_t>(slot)] = true;
      const double v = detail::arg_number(value, update_s->line, col, key);
      (slot == 0 ? ur.kick : slot == 1 ? ur.cv : ur.ca) = v;
    }
  }
  return p;
}

namespace detail {

struct printed {
  std::string text;
  int prec;  // 1 additive, 2 multiplicative, 3 unary minus, 4 atom
};

// A positive or negative number literal: "-" + it would read back as a literal, so neg keeps
// parentheses around it.
inline bool starts_number(const std::string& t) {
  if (t.empty()) return false;
  if (is_digit(t[0]) || t[0] == '.') return true;
  return t[0] == '-' && t.size() > 1 && (is_digit(t[1]) || t[1] == '.');
}

inline int binary_prec(op o) { return o == op::add || o == op::sub ? 1 : 2; }

}  // namespace detail

/// Infix text of a kernel; names constants from `constants` (or c0, c1, ... when absent).
/// parse_kernel(print_kernel(k, cs), cs) == k for every well-formed k.
inline std::string print_kernel(const std::vector<node>& k,
                                const std::vector<named_constant>& constants = {}) {
  using detail::printed;
  std::vector<printed> st;
  for (const node& n : k) {
    switch (arity(n.code)) {
      case 0:
        if (n.code == op::literal)
          st.push_back({detail::number_text(n.value), 4});
        else if (n.code == op::constant)
          st.push_back({n.index < constants.size() ? constants[n.index].name
                                                   : "c" + std::to_string(n.index),
                        4});
        else
          st.push_back({std::string(op_name(n.code)), 4});
        break;
      case 1: {
        printed a = std::move(st.back());
        st.pop_back();
        if (n.code == op::neg) {
          // a literal operand keeps its parentheses: "-1.5" reads back as a negative literal
          const bool paren = a.prec < 3 || detail::starts_number(a.text);
          st.push_back({paren ? "-(" + a.text + ")" : "-" + a.text, 3});
        } else {
          st.push_back({std::string(op_name(n.code)) + "(" + a.text + ")", 4});
        }
        break;
      }
      default: {
        printed b = std::move(st.back());
        st.pop_back();
        printed a = std::move(st.back());
        st.pop_back();
        if (n.code == op::pow || n.code == op::min || n.code == op::max) {
          st.push_back({std::string(op_name(n.code)) + "(" + a.text + ", " + b.text + ")", 4});
        } else {
          const int p = detail::binary_prec(n.code);
          std::string left = a.prec < p ? "(" + a.text + ")" : a.text;
          std::string right = b.prec <= p ? "(" + b.text + ")" : b.text;
          st.push_back({left + " " + std::string(op_name(n.code)) + " " + right, p});
        }
      }
    }
  }
  return st.empty() ? std::string() : st.back().text;
}

/// Text of the neighbour rule, e.g. "knn(k=8, far=com)".
inline std::string print_neighbours(const neighbour_rule& n) {
  switch (n.kind) {
    case neighbour_kind::all:
      return "all";
    case neighbour_kind::cutoff:
      return "cutoff(radius=" + detail::number_text(n.radius) + (n.far_field ? ", far=com)" : ")");
    case neighbour_kind::knn:
      return "knn(k=" + std::to_string(n.k) + (n.far_field ? ", far=com)" : ")");
  }
  return "all";
}

/// Text of the update rule, e.g. "taylor(cv=1, ca=0.5, kick=1)".
inline std::string print_update(const update_rule& u) {
  switch (u.kind) {
    case update_kind::leapfrog:
      return "leapfrog(kick=" + detail::number_text(u.kick) + ")";
    case update_kind::symplectic_euler:
      return "symplectic_euler(kick=" + detail::number_text(u.kick) + ")";
    case update_kind::taylor:
      return "taylor(cv=" + detail::number_text(u.cv) + ", ca=" + detail::number_text(u.ca) +
             ", kick=" + detail::number_text(u.kick) + ")";
  }
  return "leapfrog";
}

/// Whole-program text: const lines, then neighbours, kernel, update; one statement per line.
/// parse_program(print_program(p)) == p for every program with a well-formed kernel, finite
/// values and valid constant names.
inline std::string print_program(const program& p) {
  std::string s;
  for (const auto& c : p.constants) s += "const " + c.name + " = " + detail::number_text(c.value) + "\n";
  s += "neighbours: " + print_neighbours(p.neighbours) + "\n";
  s += "kernel: " + print_kernel(p.kernel, p.constants) + "\n";
  s += "update: " + print_update(p.update) + "\n";
  return s;
}

/// The kernel with every named constant replaced by its value as a literal (for display: the
/// "law" a program found, e.g. `m_j * pow(r2 + 0.0001, -1.5)`).
inline std::vector<node> inline_constants(const std::vector<node>& k,
                                          const std::vector<named_constant>& constants) {
  std::vector<node> out = k;
  for (node& n : out)
    if (n.code == op::constant && n.index < constants.size()) n = make_literal(constants[n.index].value);
  return out;
}

namespace detail {

inline bool is_lit(const std::vector<node>& k, std::size_t b, std::size_t e, double v) {
  return e - b == 1 && k[b].code == op::literal && k[b].value == v;
}

// Simplifies the subtree k[b, e) (postfix) into `out`.
inline void simplify_into(const std::vector<node>& k, std::size_t b, std::size_t e,
                          std::vector<node>& out) {
  const node& root = k[e - 1];
  const int ar = arity(root.code);
  if (ar == 0) {
    out.push_back(root);
    return;
  }
  // operands simplified separately
  std::vector<node> a, c;
  if (ar == 1) {
    simplify_into(k, b, e - 1, a);
  } else {
    const std::size_t mid = subtree_begin(k, e - 2);
    simplify_into(k, b, mid, a);
    simplify_into(k, mid, e - 1, c);
  }
  const bool a_lit = a.size() == 1 && a[0].code == op::literal;
  const bool c_lit = c.size() == 1 && c[0].code == op::literal;
  // constant folding (only when the protected op is not in a protected case and stays finite)
  if (a_lit && (ar == 1 || c_lit)) {
    bool err = false;
    const double v = apply_scalar(root.code, a[0].value, ar == 2 ? c[0].value : 0.0, err);
    if (!err && std::isfinite(v)) {
      out.push_back(make_literal(v));
      return;
    }
  }
  auto lit = [](const std::vector<node>& x, double v) { return is_lit(x, 0, x.size(), v); };
  auto emit = [&](const std::vector<node>& x) { out.insert(out.end(), x.begin(), x.end()); };
  switch (root.code) {
    case op::neg:
      if (a.back().code == op::neg) {  // --x -> x
        out.insert(out.end(), a.begin(), a.end() - 1);
        return;
      }
      break;
    case op::add:
      if (lit(c, 0.0)) return emit(a);
      if (lit(a, 0.0)) return emit(c);
      break;
    case op::sub:
      if (lit(c, 0.0)) return emit(a);
      if (lit(a, 0.0)) {
        emit(c);
        out.push_back(make_op(op::neg));
        return;
      }
      break;
    case op::mul:
      if (lit(c, 1.0)) return emit(a);
      if (lit(a, 1.0)) return emit(c);
      if (lit(a, 0.0) || lit(c, 0.0)) {
        out.push_back(make_literal(0.0));
        return;
      }
      break;
    case op::div:
      if (lit(c, 1.0)) return emit(a);
      break;
    case op::pow:
      if (lit(c, 1.0)) return emit(a);
      break;
    default:
      break;
  }
  emit(a);
  emit(c);
  out.push_back(root);
}

}  // namespace detail

/// Simplified kernel: literal-only subtrees folded (when the result is finite and no protected case
/// applies), x+0, 0+x, x−0, x·1, 1·x, x/1, pow(x,1) → x; 0−x → −x; x·0, 0·x → 0; −(−x) → x.
/// Named constants are never folded (they are evolvable). Applied bottom-up in one pass; the
/// result is never larger than the input. For finite pair terms it computes the same function
/// (x·0 → 0 differs only for non-finite x, which the crucible rejects anyway).
inline std::vector<node> simplify(const std::vector<node>& k) {
  if (k.empty()) return k;
  std::vector<node> out;
  out.reserve(k.size());
  detail::simplify_into(k, 0, k.size(), out);
  return out;
}

/// The program with its kernel simplified and unused constants dropped (indices renumbered).
inline program simplify(const program& p) {
  program q = p;
  q.kernel = simplify(p.kernel);
  std::vector<int> remap(p.constants.size(), -1);
  q.constants.clear();
  for (node& n : q.kernel)
    if (n.code == op::constant) {
      if (remap[n.index] < 0) {
        remap[n.index] = static_cast<int>(q.constants.size());
        q.constants.push_back(p.constants[n.index]);
      }
      n.index = static_cast<std::uint16_t>(remap[n.index]);
    }
  return q;
}

}  // namespace dphys::surrogate

DPHYS_ADAPT_STRUCT(dphys::surrogate::parse_limits, max_text_length, max_size, max_depth,
                   max_constants);
