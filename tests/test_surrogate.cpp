// Tests for dphys/surrogate/*: expression programs (text form round trip, parse errors and limits,
// simplification), the SIMD interpreter (bit equality with the scalar protected semantics, domain
// error counts, neighbour rules, update rules vs dphys::nbody), the validator (AG4), the crucible
// (AG2 null model, AG5 determinism, rejections, cost models), variation operators, Galaxy's
// parametric genome and GA (G6), the proposal hook (misbehaving external commands) and discovery
// (≥ 100× better than the null model for a fixed seed).
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <dphys/core/json.hpp>

#include <dphys/core/config.hpp>
#include <dphys/nbody/initial_conditions.hpp>
#include <dphys/nbody/integrators.hpp>
#include <dphys/surrogate/crucible.hpp>
#include <dphys/surrogate/discovery.hpp>
#include <dphys/surrogate/galaxy_ga.hpp>
#include <dphys/surrogate/interpreter.hpp>
#include <dphys/surrogate/parametric.hpp>
#include <dphys/surrogate/program.hpp>
#include <dphys/surrogate/proposer.hpp>
#include <dphys/surrogate/text.hpp>
#include <dphys/surrogate/validator.hpp>
#include <dphys/surrogate/variation.hpp>

namespace {

using namespace dphys::surrogate;
namespace nb = dphys::nbody;

// Scalar reference: the kernel on one pair's terms with apply_scalar.
double eval_scalar(const program& p, const std::array<double, pair_term_count>& t,
                   std::uint64_t* errors = nullptr) {
  std::vector<double> st;
  for (const node& n : p.kernel) {
    const int ar = arity(n.code);
    if (ar == 0) {
      st.push_back(n.code == op::literal    ? n.value
                   : n.code == op::constant ? p.constants[n.index].value
                                            : t[static_cast<std::size_t>(n.code)]);
      continue;
    }
    const double b = ar == 2 ? st.back() : 0.0;
    if (ar == 2) st.pop_back();
    bool err = false;
    st.back() = apply_scalar(n.code, st.back(), b, err);
    if (errors) *errors += err;
  }
  return st.back();
}

// Terms of a pair from its base values (derived terms computed as the interpreter does).
std::array<double, pair_term_count> pair_terms(double dx, double dy, double dz, double mi,
                                               double mj, double ux, double uy, double uz) {
  std::array<double, pair_term_count> t{};
  auto at = [&](op o) -> double& { return t[static_cast<std::size_t>(o)]; };
  at(op::dx) = dx;
  at(op::dy) = dy;
  at(op::dz) = dz;
  at(op::r2) = dx * dx + dy * dy + dz * dz;
  at(op::r) = std::sqrt(at(op::r2));
  at(op::m_i) = mi;
  at(op::m_j) = mj;
  at(op::dvx) = ux;
  at(op::dvy) = uy;
  at(op::dvz) = uz;
  at(op::dv2) = ux * ux + uy * uy + uz * uz;
  at(op::rdotv) = dx * ux + dy * uy + dz * uz;
  return t;
}

std::vector<program> random_programs(std::size_t n, std::uint64_t seed, const variation_config& vc = {}) {
  std::vector<program> out;
  for (std::size_t i = 0; i < n; ++i) {
    draw_stream d(seed, init_stream, 0, static_cast<std::uint32_t>(i));
    program p = random_program(vc, d);
    p.constants = {{"G", 1.25}, {"k2", -0.5}};
    for (int m = 0; m < 4; ++m) p = mutate(p, vc, d, m % 2 == 0);
    out.push_back(p);
  }
  return out;
}

double apply_scalar_pow(double a, double b) {
  bool err = false;
  return apply_scalar(op::pow, a, b, err);
}

}  // namespace

TEST_CASE("surrogate text: print/parse round trip and the reference program") {
  const program g = newtonian_program();
  CHECK(print_kernel(g.kernel, g.constants) == "G * m_j * pow(r2 + eps2, -1.5)");
  CHECK(parse_program(print_program(g)) == g);
  CHECK(g.size() == 9);
  CHECK(depth(g.kernel) == 4);

  // operator precedence, associativity, negative literals and negation survive printing
  for (const char* text :
       {"a_minus: dx - (dy - dz)", "dx - dy - dz", "dx / (dy * dz)", "dx / dy * dz", "-dx * dy",
        "-(dx * dy)", "--dx", "-(1.5)", "-1.5", "dx - -1.5", "-(-2)", "pow(-dx, -0.5) - -(3)",
        "min(dx, max(dy, -dz)) + abs(exp(log(sqrt(r))))", "1e-10 * m_j / (r2 * r)",
        "dx + (dy + dz)", "dx * (dy * dz)", "rdotv + dv2 * m_i"}) {
    std::string t = text;
    if (t.rfind("a_minus: ", 0) == 0) t = t.substr(9);
    const auto k = parse_kernel(t);
    CHECK_MESSAGE(parse_kernel(print_kernel(k)) == k, t);
  }
  CHECK(print_kernel(parse_kernel("dx - (dy - dz)")) == "dx - (dy - dz)");
  CHECK(print_kernel(parse_kernel("(dx - dy) - dz")) == "dx - dy - dz");
  CHECK(parse_kernel("-1.5") == std::vector<node>{make_literal(-1.5)});
  CHECK(parse_kernel("-(1.5)") == std::vector<node>{make_literal(1.5), make_op(op::neg)});

  // every program of a random sample round-trips, with all neighbour and update kinds
  auto progs = random_programs(300, 7);
  for (std::size_t i = 0; i < progs.size(); ++i) {
    program& p = progs[i];
    p.neighbours = i % 3 == 0   ? neighbour_rule{neighbour_kind::all, 1.0, 8, false}
                   : i % 3 == 1 ? neighbour_rule{neighbour_kind::cutoff, 2.5 + 1e-3 * i, 8, i % 2 == 0}
                                : neighbour_rule{neighbour_kind::knn, 1.0, 1 + static_cast<int>(i % 9), i % 2 == 1};
    p.update = update_rule{static_cast<update_kind>(i % 3), 1.0 + 1e-7 * i, 0.9, 0.45};
    const std::string text = print_program(p);
    REQUIRE_NOTHROW(parse_program(text));
    CHECK_MESSAGE(parse_program(text) == p, text);
  }

  // optional statements, comments and constants in any order
  const program q = parse_program(
      "# a comment\n  kernel: G * m_j / (r2 * r)  \n\nconst G = 2\nupdate: taylor(ca=0.25)\n");
  CHECK(q.constants.size() == 1);
  CHECK(q.constants[0].value == 2.0);
  CHECK(q.neighbours.kind == neighbour_kind::all);
  CHECK(q.update.kind == update_kind::taylor);
  CHECK(q.update.ca == 0.25);
  CHECK(q.update.cv == 1.0);
  CHECK(print_update(q.update) == "taylor(cv=1, ca=0.25, kick=1)");
  CHECK(print_neighbours({neighbour_kind::knn, 1.0, 8, true}) == "knn(k=8, far=com)");
}

TEST_CASE("surrogate text: structured parse errors with line, column and rule") {
  struct bad {
    const char* text;
    std::size_t line, column;
    parse_rule rule;
  };
  const bad cases[] = {
      {"kernel: m_j * (r2", 1, 18, parse_rule::syntax},
      {"kernel: foo + 1", 1, 9, parse_rule::unknown_identifier},
      {"const G = 1\nkernel: pow(r2)", 2, 9, parse_rule::arity},
      {"kernel: 1e999", 1, 9, parse_rule::number},
      {"kernel: 2dx", 1, 9, parse_rule::number},
      {"kernel: dx $ dy", 1, 12, parse_rule::syntax},
      {"kernel: dx\nkernel: dy", 2, 1, parse_rule::duplicate},
      {"const G = 1\nconst G = 2\nkernel: G", 2, 7, parse_rule::duplicate},
      {"const r = 1\nkernel: r", 1, 7, parse_rule::syntax},
      {"neighbours: all", 1, 1, parse_rule::missing_kernel},
      {"kernal: dx", 1, 1, parse_rule::unknown_statement},
      {"kernel: dx\nneighbours: knn(k=0)", 2, 17, parse_rule::bad_argument},
      {"kernel: dx\nneighbours: knn(radius=2)", 2, 17, parse_rule::bad_argument},
      {"kernel: dx\nneighbours: cutoff(radius=-1)", 2, 20, parse_rule::bad_argument},
      {"kernel: dx\nupdate: leapfrog(cv=1)", 2, 18, parse_rule::bad_argument},
      {"kernel: dx\nupdate: rk4", 2, 9, parse_rule::bad_argument},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    try {
      (void)parse_program(c.text);
      FAIL("no parse_error");
    } catch (const parse_error& e) {
      CHECK(e.rule == c.rule);
      CHECK(e.line == c.line);
      CHECK(e.column == c.column);
      CHECK(std::string(e.what()).find(std::string(parse_rule_name(c.rule))) != std::string::npos);
    }
  }

  // limits: size, depth (also deep parenthesis nesting, which must not recurse without bound),
  // text length, constants
  parse_limits lim;
  lim.max_size = 4;
  CHECK_THROWS_AS(parse_kernel("dx + dy + dz", {}, lim), parse_error);
  try {
    (void)parse_kernel("dx + dy + dz", {}, lim);
  } catch (const parse_error& e) {
    CHECK(e.rule == parse_rule::size_limit);
  }
  lim = {};
  lim.max_depth = 3;
  try {
    (void)parse_kernel("dx + (dy + (dz + r))", {}, lim);
    FAIL("no depth error");
  } catch (const parse_error& e) {
    CHECK(e.rule == parse_rule::depth_limit);
  }
  const std::string deep = std::string(100000, '(') + "dx" + std::string(100000, ')');
  try {
    (void)parse_kernel(deep, {}, parse_limits{300000, 2000, 48, 64});
    FAIL("no depth error");
  } catch (const parse_error& e) {
    CHECK(e.rule == parse_rule::depth_limit);
  }
  try {
    (void)parse_program(std::string(70000, ' ') + "kernel: dx");
    FAIL("no length error");
  } catch (const parse_error& e) {
    CHECK(e.rule == parse_rule::text_length_limit);
  }
  lim = {};
  lim.max_constants = 1;
  try {
    (void)parse_program("const a = 1\nconst b = 2\nkernel: a", lim);
    FAIL("no constants error");
  } catch (const parse_error& e) {
    CHECK(e.rule == parse_rule::constants_limit);
    CHECK(e.line == 2);
  }
}

TEST_CASE("surrogate text: simplification folds constants and removes identities") {
  auto s = [](const char* t) { return print_kernel(simplify(parse_kernel(t))); };
  CHECK(s("2 * 3 + m_j") == "6 + m_j");
  CHECK(s("m_j * 1 + 0") == "m_j");
  CHECK(s("1 * m_j - 0") == "m_j");
  CHECK(s("0 - r") == "-r");
  CHECK(s("--r") == "r");
  CHECK(s("r / 1") == "r");
  CHECK(s("pow(r, 1)") == "r");
  CHECK(s("dx * 0 + dy") == "dy");
  CHECK(s("-(2)") == "-2");
  CHECK(s("pow(4, 0.5) * r") == "2 * r");
  // protected cases are not folded: log(0), 1/0, sqrt(-1)
  CHECK(s("log(0) + r") == "log(0) + r");
  CHECK(s("1 / 0") == "1 / 0");
  CHECK(s("sqrt(-1)") == "sqrt(-1)");
  // named constants are evolvable: never folded; unused ones are dropped by simplify(program)
  const program p = parse_program("const G = 2\nconst unused = 3\nkernel: G * 1 * m_j");
  const program q = simplify(p);
  CHECK(print_kernel(q.kernel, q.constants) == "G * m_j");
  REQUIRE(q.constants.size() == 1);
  CHECK(q.constants[0].name == "G");

  // simplification never grows a kernel and keeps its value on generic pairs
  const auto t = pair_terms(0.3, -1.2, 0.7, 1.5, 0.25, 0.1, -0.2, 0.05);
  for (const program& r : random_programs(300, 11)) {
    program rs = r;
    rs.kernel = simplify(r.kernel);
    CHECK(rs.kernel.size() <= r.kernel.size());
    CHECK(well_formed(rs.kernel, rs.constants.size()));
    const double a = eval_scalar(r, t), b = eval_scalar(rs, t);
    if (std::isfinite(a)) CHECK(b == doctest::Approx(a).epsilon(1e-9));
  }
}

TEST_CASE("surrogate interpreter: SIMD chunk equals the scalar protected semantics bit for bit") {
  // every operator on inputs that hit every protected case
  const double vals[] = {0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 0.5, -1.5, 3.0, 701.0, -800.0, 1e-300};
  std::vector<std::array<double, pair_term_count>> terms;
  for (double a : vals)
    for (double b : vals) {
      auto t = pair_terms(a, b, 0.0, a, b, b, a, 0.0);
      t[static_cast<std::size_t>(op::dx)] = a;  // use raw values: dx = a, dy = b
      t[static_cast<std::size_t>(op::dy)] = b;
      terms.push_back(t);
    }
  for (op o : {op::neg, op::abs, op::sqrt, op::exp, op::log, op::add, op::sub, op::mul, op::div,
               op::pow, op::min, op::max}) {
    program p;
    p.kernel = arity(o) == 1 ? std::vector<node>{make_leaf(op::dx), make_op(o)}
                             : std::vector<node>{make_leaf(op::dx), make_leaf(op::dy), make_op(o)};
    interpreter in(p);
    REQUIRE(terms.size() <= interpreter::chunk);
    for (std::size_t q = 0; q < terms.size(); ++q)
      for (std::size_t k = 0; k < pair_term_count; ++k)
        in.terms()[k * interpreter::chunk + q] = terms[q][k];
    std::vector<double> out(terms.size());
    eval_counters c;
    in.evaluate_chunk(terms.size(), out.data(), c);
    std::uint64_t errs = 0;
    for (std::size_t q = 0; q < terms.size(); ++q) {
      const double ref = eval_scalar(p, terms[q], &errs);
      CAPTURE(op_name(o));
      CAPTURE(terms[q][0]);
      CAPTURE(terms[q][1]);
      if (std::isnan(ref))
        CHECK(std::isnan(out[q]));
      else
        CHECK(std::bit_cast<std::uint64_t>(out[q]) == std::bit_cast<std::uint64_t>(ref));
    }
    CHECK(c.domain_errors == errs);
    CHECK(c.kernel_evaluations == terms.size());
  }
  // pow with a uniform half-integer exponent takes the SIMD path: same bits, same error counts
  const double bases[] = {0.0, -0.0, 1e-3, 0.7, 2.0, -2.0, -0.5, 1e150, -1e150,
                          std::numeric_limits<double>::infinity(), std::nan("")};
  for (double e : {-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 7.5, -8.0, 8.5, 0.25}) {
    program p;
    p.kernel = {make_leaf(op::dx), make_literal(e), make_op(op::pow)};
    interpreter in(p);
    std::vector<std::array<double, pair_term_count>> ts;
    for (double b : bases) {
      std::array<double, pair_term_count> t{};
      t[0] = b;
      ts.push_back(t);
      in.terms()[ts.size() - 1] = b;
    }
    std::vector<double> out(ts.size());
    eval_counters c;
    in.evaluate_chunk(ts.size(), out.data(), c);
    std::uint64_t errs = 0;
    for (std::size_t q = 0; q < ts.size(); ++q) {
      const double ref = eval_scalar(p, ts[q], &errs);
      CAPTURE(e);
      CAPTURE(bases[q]);
      if (std::isnan(ref))
        CHECK(std::isnan(out[q]));
      else
        CHECK(std::bit_cast<std::uint64_t>(out[q]) == std::bit_cast<std::uint64_t>(ref));
    }
    CHECK(c.domain_errors == errs);
  }
  CHECK(pow_half_integer(4.0, -1.5) == 0.125);
  CHECK(apply_scalar_pow(-2.0, 3.0) == -8.0);

  // known protected counts: 1/0 twice (±0), sqrt of 5 negatives, log of zero/negatives
  program p = parse_program("kernel: 1 / dx");
  interpreter in(p);
  const double xs[] = {0.0, -0.0, 1.0, 2.0};
  for (std::size_t q = 0; q < 4; ++q) in.terms()[q] = xs[q];
  std::array<double, 4> out{};
  eval_counters c;
  in.evaluate_chunk(4, out.data(), c);
  CHECK(c.domain_errors == 2);
  CHECK(out[0] == 0.0);
  CHECK(out[3] == 0.5);

  // random kernels on random pairs, more than one chunk with a partial tail
  const auto progs = random_programs(60, 3);
  std::vector<std::array<double, pair_term_count>> pairs;
  draw_stream d(5, dphys::stream_id::user, 0, 0);
  for (int q = 0; q < 300; ++q)
    pairs.push_back(pair_terms(d.uniform(-2, 2), d.uniform(-2, 2), d.uniform(-2, 2),
                               d.uniform(0.1, 2), d.uniform(0.1, 2), d.uniform(-1, 1),
                               d.uniform(-1, 1), d.uniform(-1, 1)));
  for (const program& r : progs) {
    interpreter ri(r);
    std::uint64_t ref_errs = 0, got_errs = 0;
    for (std::size_t b = 0; b < pairs.size(); b += interpreter::chunk) {
      const std::size_t n = std::min(interpreter::chunk, pairs.size() - b);
      for (std::size_t q = 0; q < n; ++q)
        for (std::size_t k = 0; k < pair_term_count; ++k)
          ri.terms()[k * interpreter::chunk + q] = pairs[b + q][k];
      std::vector<double> o(n);
      eval_counters rc;
      ri.evaluate_chunk(n, o.data(), rc);
      got_errs += rc.domain_errors;
      for (std::size_t q = 0; q < n; ++q) {
        const double ref = eval_scalar(r, pairs[b + q], &ref_errs);
        if (std::isnan(ref))
          CHECK(std::isnan(o[q]));
        else
          CHECK(std::bit_cast<std::uint64_t>(o[q]) == std::bit_cast<std::uint64_t>(ref));
      }
    }
    CHECK(got_errs == ref_errs);
  }
}

TEST_CASE("surrogate interpreter: reference program reproduces dphys::nbody integrators") {
  const auto ic = nb::plummer_equilibrium(13, 1.0, 1.0, 1.0, 5);
  const nb::softened_newton law{1.0, 0.01};
  for (auto kind : {update_kind::leapfrog, update_kind::symplectic_euler}) {
    program p = newtonian_program();
    p.update.kind = kind;
    auto a = ic, b = ic;
    interpreter in(p);
    eval_counters c;
    for (int s = 0; s < 10; ++s) in.step(a, 0.01, c);
    if (kind == update_kind::leapfrog)
      nb::integrate<nb::leapfrog_kdk>(b, law, 0.01, 10);
    else
      nb::integrate<nb::symplectic_euler>(b, law, 0.01, 10);
    for (std::size_t i = 0; i < ic.size(); ++i) {
      CHECK(a.x[i] == doctest::Approx(b.x[i]).epsilon(1e-12));
      CHECK(a.vy[i] == doctest::Approx(b.vy[i]).epsilon(1e-9));
      CHECK(a.m[i] == ic.m[i]);  // mass carried structurally
    }
    CHECK(c.kernel_evaluations == 10u * 13 * 12 * static_cast<unsigned>(p.update.passes()));
    CHECK(c.domain_errors == 0);
  }
  // taylor(cv=1, ca=0, kick=1) is explicit Euler
  {
    program p = parse_program("const G = 1\nconst eps2 = 0.0001\nkernel: G * m_j * pow(r2 + eps2, -1.5)\n"
                              "update: taylor(cv=1, ca=0, kick=1)");
    auto a = ic, b = ic;
    eval_counters c;
    interpreter(p).step(a, 0.01, c);
    nb::integrate<nb::explicit_euler>(b, law, 0.01, 1);
    for (std::size_t i = 0; i < ic.size(); ++i) {
      CHECK(a.x[i] == doctest::Approx(b.x[i]).epsilon(1e-13));
      CHECK(a.vz[i] == doctest::Approx(b.vz[i]).epsilon(1e-9));
    }
  }
}

TEST_CASE("surrogate interpreter: neighbour selection") {
  const auto ic = nb::plummer_equilibrium(20, 1.0, 1.0, 1.0, 9);
  auto acc = [&](const char* neigh, eval_counters& c) {
    program p = parse_program(std::string("neighbours: ") + neigh + "\nkernel: m_j * pow(r2 + 0.0001, -1.5)");
    std::vector<double> ax, ay, az;
    interpreter(p).accelerations(ic, ax, ay, az, c);
    return ax;
  };
  eval_counters call, cbig, ck, ck1, cc;
  const auto all = acc("all", call);
  CHECK(call.kernel_evaluations == 20u * 19);
  const auto big = acc("cutoff(radius=1e6)", cbig);
  CHECK(big == all);  // same pairs, same order
  const auto k19 = acc("knn(k=19)", ck);
  CHECK(ck.kernel_evaluations == 20u * 19);
  for (std::size_t i = 0; i < 20; ++i) CHECK(k19[i] == doctest::Approx(all[i]).epsilon(1e-10));
  // k nearest + far-field centre of mass: 1 + 1 evaluations per particle, and for a 3-body system
  // the far pseudo-particle is the remaining body itself
  (void)acc("knn(k=1, far=com)", ck1);
  CHECK(ck1.kernel_evaluations == 20u * 2);
  const auto snap = validation_snapshot();
  std::vector<double> ax1, ay1, az1, ax2, ay2, az2;
  eval_counters c3;
  interpreter(parse_program("neighbours: knn(k=1, far=com)\nkernel: m_j * pow(r2, -1.5)"))
      .accelerations(snap, ax1, ay1, az1, c3);
  interpreter(parse_program("kernel: m_j * pow(r2, -1.5)")).accelerations(snap, ax2, ay2, az2, c3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(ay1[i] == doctest::Approx(ay2[i]).epsilon(1e-12));
  // cutoff: only pairs with r2 < radius²
  (void)acc("cutoff(radius=0.5)", cc);
  std::uint64_t expect = 0;
  for (std::size_t i = 0; i < 20; ++i)
    for (std::size_t j = 0; j < 20; ++j) {
      const double dx = ic.x[j] - ic.x[i], dy = ic.y[j] - ic.y[i], dz = ic.z[j] - ic.z[i];
      expect += i != j && dx * dx + dy * dy + dz * dz < 0.25;
    }
  CHECK(cc.kernel_evaluations == expect);
}

TEST_CASE("surrogate validator (AG4): NaN, arity, mass change, limits and the size penalty") {
  CHECK(validate_program(newtonian_program()).ok());
  // NaN: inf − inf
  const auto v1 = validate_text("kernel: exp(700) * exp(700) * m_j - exp(700) * exp(700) * m_j");
  CHECK(v1.reason == rejection::non_finite);
  CHECK(validate_text("kernel: m_j * (r2").reason == rejection::parse_error);
  CHECK(validate_text("kernel: m_j * (r2").message.find("1:18") != std::string::npos);
  parse_limits lim;
  lim.max_size = 4;
  CHECK(validate_text("kernel: m_j * r2 * r", lim).reason == rejection::size_limit);
  program bad;
  bad.kernel = {make_leaf(op::dx), make_op(op::add)};
  CHECK(validate_program(bad).reason == rejection::malformed);

  // externally supplied predict outputs
  const auto snap = validation_snapshot();
  std::vector<std::vector<double>> rows;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto r = snap.row(i);
    rows.emplace_back(r.begin(), r.end());
  }
  CHECK(validate_outputs(snap, rows).ok());
  auto r2 = rows;
  r2[2][6] += 1e-8;
  CHECK(validate_outputs(snap, r2).reason == rejection::mass_changed);
  r2 = rows;
  r2[2][6] += 1e-10;
  CHECK(validate_outputs(snap, r2).ok());
  r2 = rows;
  r2[1].pop_back();
  CHECK(validate_outputs(snap, r2).reason == rejection::wrong_arity);
  r2 = rows;
  r2[0][1] = std::nan("");
  CHECK(validate_outputs(snap, r2).reason == rejection::non_finite);
  r2 = rows;
  r2.pop_back();
  CHECK(validate_outputs(snap, r2).reason == rejection::wrong_count);

  CHECK(size_penalty_factor(400) == 1.0);
  CHECK(size_penalty_factor(600) == doctest::Approx(0.95).epsilon(1e-15));
  CHECK(size_penalty_factor(10000) == 0.1);
  CHECK(size_penalty_factor(1) == 1.0);
}

TEST_CASE("surrogate crucible: null model (AG2), cost models, rejections, determinism (AG5)") {
  crucible_config cfg;
  surrogate_crucible one(cfg, {nb::two_body()});
  // AG2: one-step accuracy of the drift-only predictor on the circular two-body orbit
  CHECK(one.null_result().accuracy == doctest::Approx(0.99298).epsilon(1e-5 / 0.99298));
  const auto ref = one.evaluate(newtonian_program());
  CHECK_FALSE(ref.rejected());
  CHECK(ref.accuracy > 1.0 - 1e-12);
  CHECK(ref.cost == 4.0);  // leapfrog: 2 passes × N(N−1) = 2 × 2
  CHECK(ref.fitness == doctest::Approx(ref.accuracy / (4.0 + 1e-9)));
  // symplectic Euler has the drift predictor's accuracy by symmetry (AG2)
  program se = newtonian_program();
  se.update.kind = update_kind::symplectic_euler;
  CHECK(one.evaluate(se).accuracy == doctest::Approx(one.null_result().accuracy).epsilon(1e-5));

  crucible_config nw = cfg;
  nw.cost = cost_model::node_weighted;
  CHECK(surrogate_crucible(nw, {nb::two_body()}).evaluate(newtonian_program()).cost == 36.0);

  // rejections: accuracy 0, cost = penalty value, reason
  for (const char* t : {"kernel: 1e9 * m_j", "kernel: exp(700) * exp(700) - exp(700) * exp(700)"}) {
    const auto e = one.evaluate(parse_program(t));
    CHECK(e.rejected());
    CHECK(e.accuracy == 0.0);
    CHECK(e.cost == 999.9);
    CHECK(e.fitness == 0.0);
  }
  CHECK(one.evaluate(parse_program("kernel: 1e9 * m_j")).reason == rejection::exploding);
  CHECK(one.rejections()[static_cast<std::size_t>(rejection::exploding)] == 2);
  CHECK(one.rejections()[static_cast<std::size_t>(rejection::non_finite)] == 1);
  program broken;
  broken.kernel = {make_op(op::add)};
  CHECK(one.evaluate(broken).reason == rejection::malformed);
  // external predict with wrong arity
  const auto wa = one.evaluate_predict(
      [](const nb::particles<double>& p) { return std::vector<std::vector<double>>(p.size(), {1, 2}); },
      2.0);
  CHECK(wa.reason == rejection::wrong_arity);
  CHECK(wa.cost == 999.9);

  // multi-step mode: diagnostics and the null model beside
  crucible_config mc;
  mc.mode = crucible_mode::multi_step;
  mc.steps = 100;
  surrogate_crucible multi(mc, {nb::two_body(), nb::figure_eight()});
  const auto m = multi.evaluate(newtonian_program());
  CHECK(m.rollout.rmse < 1e-10);
  CHECK(m.accuracy == doctest::Approx(1.0 / (1.0 + std::sqrt(m.rollout.rmse))));
  CHECK(multi.null_result().rollout.rmse > 1.0);
  CHECK(m.rollout.virial_ratio > 0.0);
  // AG2 via the crucible: two-body leapfrog energy drift after 100 steps, unsoftened energy
  surrogate_crucible tb(mc, {nb::two_body()});
  CHECK(tb.evaluate(newtonian_program()).rollout.energy_drift == doctest::Approx(5.2e-5).epsilon(0.2 / 5.2));

  // objective vector for NSGA-II
  const auto ob = objective_vector(ref);
  CHECK(ob.accuracy == ref.accuracy);
  CHECK(ob.cost == 4.0);
  CHECK(ob.size == 9.0);
  CHECK(ob.minimise()[0] == 1.0 - ref.accuracy);

  // AG5: 10 repeated evaluations of one population give identical fitness and ranking
  const auto pop = random_programs(16, 21);
  surrogate_crucible c3(cfg, {nb::figure_eight(), nb::plummer_equilibrium(8, 1.0, 1.0, 1.0, 2)});
  std::vector<double> first;
  std::vector<std::size_t> first_rank;
  for (int rep = 0; rep < 10; ++rep) {
    std::vector<double> f;
    for (const auto& p : pop) f.push_back(c3.evaluate(p).fitness);
    std::vector<std::size_t> rank(f.size());
    std::iota(rank.begin(), rank.end(), 0);
    std::stable_sort(rank.begin(), rank.end(), [&](auto a, auto b) { return f[a] > f[b]; });
    if (rep == 0) {
      first = f;
      first_rank = rank;
    }
    for (std::size_t i = 0; i < f.size(); ++i)
      CHECK(std::bit_cast<std::uint64_t>(f[i]) == std::bit_cast<std::uint64_t>(first[i]));
    CHECK(rank == first_rank);
  }

  // config errors name the field
  crucible_config badc;
  badc.dt = 0;
  CHECK_THROWS_AS(surrogate_crucible(badc, {nb::two_body()}), dphys::config_error);
  CHECK_THROWS_AS(surrogate_crucible(cfg, {}), std::invalid_argument);
}

TEST_CASE("surrogate variation: determinism, well-formedness, limits, constant optimisation") {
  variation_config vc;
  vc.max_size = 30;
  vc.max_depth = 8;
  const auto parents = random_programs(40, 5, vc);
  for (std::size_t i = 0; i < parents.size(); ++i) {
    for (std::uint32_t m = 0; m < 20; ++m) {
      draw_stream d1(9, variation_stream, 3, m), d2(9, variation_stream, 3, m);
      const program a = mutate(parents[i], vc, d1, m % 2 == 0);
      const program b = mutate(parents[i], vc, d2, m % 2 == 0);
      CHECK(a == b);
      CHECK(well_formed(a.kernel, a.constants.size()));
      CHECK(depth(a.kernel) <= 8);
      CHECK(a.size() <= 30);
      draw_stream d3(9, variation_stream, 4, m);
      const program c = subtree_crossover(parents[i], parents[(i + 1) % parents.size()], vc, d3);
      CHECK(well_formed(c.kernel, c.constants.size()));
      CHECK(c.size() <= 30);
      CHECK(parse_program(print_program(c)) == c);
    }
  }
  // malformed or empty parents come back unchanged (no out-of-range reads)
  {
    program empty, broken;
    broken.kernel = {make_op(op::add), make_leaf(op::dx)};
    draw_stream d0(1, variation_stream, 0, 0);
    for (int m = 0; m < 20; ++m) {
      CHECK(mutate(empty, vc, d0) == empty);
      CHECK(mutate(broken, vc, d0).kernel == broken.kernel);
      CHECK(subtree_crossover(broken, parents[0], vc, d0) == broken);
      CHECK(subtree_crossover(parents[0], empty, vc, d0) == parents[0]);
    }
  }
  // hoist makes a subtree the whole kernel; shrink replaces an operator subtree by a leaf
  draw_stream d(1, variation_stream, 0, 0);
  const program g = newtonian_program();
  const program h = hoist_mutation(g, d);
  CHECK(h.size() < g.size());
  CHECK(well_formed(h.kernel, h.constants.size()));
  const program s = shrink_mutation(g, vc, d);
  CHECK(s.size() < g.size());
  // constant perturbation changes exactly one number
  const program cp = constant_perturbation(g, vc, d);
  int changed = (cp.constants[0].value != g.constants[0].value) +
                (cp.constants[1].value != g.constants[1].value) +
                (cp.kernel[6].value != g.kernel[6].value);
  CHECK(changed == 1);

  // constant optimisation on the one-step loss recovers the exponent, deterministically
  crucible_config cfg;
  surrogate_crucible cru(cfg, {nb::two_body(1.0, 2.0), nb::two_body(2.5, 1.0)});
  const program start = parse_program("kernel: m_j * pow(r2 + 0.0001, -1.3)");
  auto loss = [&](const program& p) { return cru.one_step_loss(p); };
  double l1 = 0, l2 = 0;
  const program o1 = optimise_constants(start, loss, 30, 600, false, 0.2, &l1);
  const program o2 = optimise_constants(start, loss, 30, 600, false, 0.2, &l2);
  CHECK(o1 == o2);
  CHECK(l1 < loss(start) * 1e-4);
  CHECK(o1.kernel[4].value == doctest::Approx(-1.5).epsilon(1e-3));
}

TEST_CASE("surrogate parametric genome: Galaxy's bounds, jitter, two-phase mutation, predict") {
  CHECK(parametric_mutation_scale(0) == 0.12);
  CHECK(parametric_mutation_scale(2) == 0.12);
  CHECK(parametric_mutation_scale(3) == 0.06);
  for (std::uint32_t m = 0; m < 200; ++m) {
    draw_stream d(3, init_stream, 0, m);
    const auto t = parametric_initial(d);
    for (std::size_t k = 0; k < 6; ++k) {
      const double span = parametric_upper[k] - parametric_lower[k];
      CHECK(t[k] >= parametric_lower[k]);
      CHECK(t[k] <= parametric_upper[k]);
      CHECK(std::fabs(t[k] - std::clamp(parametric_base[k], parametric_lower[k], parametric_upper[k])) <= 0.05 * span + 1e-12);
    }
    const auto q = parametric_mutate(t, 4, d);
    for (std::size_t k = 0; k < 6; ++k) {
      CHECK(q[k] >= parametric_lower[k]);
      CHECK(q[k] <= parametric_upper[k]);
    }
  }
  // mutation scale: the sample std of the g component (span 10) is 1.2 early and 0.6 late
  for (int gen : {0, 5}) {
    double s2 = 0;
    const int n = 4000;
    for (int m = 0; m < n; ++m) {
      draw_stream d(8, variation_stream, static_cast<std::uint32_t>(gen), static_cast<std::uint32_t>(m));
      const double x = parametric_mutate(parametric_base, gen, d)[0] - 10.0;
      s2 += x * x;
    }
    // g = 10 ± 1.2 is far from the bounds 5, 15: clamping is negligible (≥ 4σ); std within 5 %
    CHECK(std::sqrt(s2 / n) == doctest::Approx(10.0 * parametric_mutation_scale(gen)).epsilon(0.05));
  }
  // predict on the validation snapshot, by hand for particle 0
  const auto snap = validation_snapshot();
  const auto rows = parametric_predict(parametric_base, snap);
  CHECK(validate_outputs(snap, rows).ok());
  const double dx = 40.0 - 10.0, dy = 50.0 - 20.0, dz = 60.0 - 30.0;
  const double den = std::max(std::pow(dx * dx + dy * dy + dz * dz + 0.01, 1.5), 1e-6);
  const double ax = 10.0 * dx / den;
  CHECK(rows[0][0] == doctest::Approx(10.0 + (0.1 + 0.05 * ax) * 0.1));
  CHECK(rows[0][3] == doctest::Approx(0.98 * 0.1 + ax * 0.1));
  CHECK(rows[0][6] == 1.0);
}

TEST_CASE("surrogate Galaxy GA (G6): defaults, elitism, compat mode, history JSONL") {
  galaxy_ga_config gc;
  CHECK(gc.population == 10);
  CHECK(gc.generations == 5);
  CHECK(gc.elite_count() == 2);
  crucible_config cfg;
  surrogate_crucible cru(cfg, {nb::two_body(), nb::figure_eight()});
  parametric_ops pops;
  pops.crucible = &cru;
  galaxy_ga<parametric_ops> ga(gc, pops);
  const auto r = ga.run();
  REQUIRE(r.history.size() == 5);
  double prev = -1;
  for (const auto& g : r.history) {
    CHECK(g.members.size() == 10);
    CHECK(g.best >= prev);  // survivor elitism: best never lost
    prev = g.best;
    for (const auto& m : g.members)
      if (g.generation > 0) CHECK((m.origin == "elite" || m.origin == "mutation"));  // no crossover for parametric
  }
  CHECK(r.evaluations == 10u + 4 * 8);
  // the same seed reproduces the run
  galaxy_ga<parametric_ops> ga2(gc, pops);
  CHECK(history_jsonl(ga2.run().history) == history_jsonl(r.history));

  // compat: no elites copied; programs: crossover appears when >= 2 elites
  galaxy_ga_config compat = gc;
  compat.compat = true;
  program_ops ops;
  ops.crucible = &cru;
  galaxy_ga<program_ops> pga(compat, ops);
  const auto pr = pga.run();
  std::set<std::string> origins;
  for (const auto& g : pr.history)
    for (const auto& m : g.members)
      if (g.generation > 0) origins.insert(m.origin);
  CHECK(origins.count("elite") == 0);
  CHECK(origins.count("crossover") == 1);
  CHECK(origins.count("mutation") == 1);
  galaxy_ga_config one_elite = gc;
  one_elite.elite_fraction = 0.1;  // ⌊10·0.1⌋ = 1 elite: mutation only
  galaxy_ga<program_ops> oga(one_elite, ops);
  for (const auto& g : oga.run().history)
    for (const auto& m : g.members) CHECK(m.origin != "crossover");

  // JSONL: one object per generation, NaN/inf become null
  std::vector<generation_record> h(1);
  h[0].best = std::numeric_limits<double>::infinity();
  h[0].average = std::nan("");
  h[0].members.push_back({0, std::nan(""), 0.5, 1.0, 3, {}, "initial", "kernel: r", "none"});
  const std::string text = history_jsonl(h, {{"test_problem", "two_body"}, {"num_particles", 2}});
  const auto j = dphys::json::parse(text);
  CHECK(j["best"].is_null());
  CHECK(j["average"].is_null());
  CHECK(j["members"][0]["fitness"].is_null());
  CHECK(j["metadata"]["num_particles"] == 2);
  const auto file = std::filesystem::temp_directory_path() / "dphys_surrogate_history_test.jsonl";
  write_history_jsonl(file, r.history);
  std::ifstream in(file);
  int lines = 0;
  for (std::string line; std::getline(in, line);) {
    CHECK(dphys::json::parse(line)["members"].size() == 10);
    ++lines;
  }
  CHECK(lines == 5);
  std::filesystem::remove(file);
}

TEST_CASE("surrogate proposal hook: hanging, crashing, flooding, garbage and valid proposers") {
  auto run = [](const std::string& cmd, double timeout = 1.0) {
    proposer_config c;
    c.command = cmd;
    c.timeout_seconds = timeout;
    process_proposer p(c);
    return std::pair{p(proposal_request{}), p.feedback()};
  };
  {
    const auto [o, fb] = run("sleep 100");
    CHECK(o.status == proposal_status::timeout);
    REQUIRE(fb.size() == 1);
    CHECK(fb[0].find("timeout") == 0);
  }
  CHECK(run("exit 3").first.status == proposal_status::exit_failure);
  CHECK(run("exit 3").first.exit_code == 3);
  CHECK(run("kill -9 $$").first.status == proposal_status::signalled);
  CHECK(run("yes | head -c 10M", 10.0).first.status == proposal_status::output_limit);
  CHECK(run("echo garbage").first.status == proposal_status::malformed_output);
  CHECK(run("echo '{\"progs\": []}'").first.status == proposal_status::malformed_output);
  CHECK(run("echo garbage >&2; exit 1").first.stderr_excerpt == "garbage\n");
  {
    const auto [o, fb] = run(
        "cat >/dev/null; printf '%s\\n' '{\"programs\": [\"kernel: m_j * pow(r2 + 0.0001, -1.5)\", "
        "{\"program\": \"neighbours: knn(k=2)\\nkernel: m_j / (r2 * r)\"}, \"kernel: foo(\", 3]}'");
    CHECK(o.status == proposal_status::ok);
    REQUIRE(o.programs.size() == 2);
    CHECK(o.programs[1].neighbours.kind == neighbour_kind::knn);
    REQUIRE(o.rejected.size() == 2);
    CHECK(o.rejected[0].reason == rejection::parse_error);
    CHECK(fb.size() == 2);
  }
  // feedback of one call travels with the next request
  const auto file = std::filesystem::temp_directory_path() / "dphys_surrogate_proposer_req.json";
  proposer_config c;
  c.command = "cat > '" + file.string() + "'; echo garbage";
  c.timeout_seconds = 5;
  process_proposer p(c);
  proposal_request req;
  req.parents.push_back({"kernel: r", 0.5, 0.9, 2.0, 1});
  (void)p(req);
  (void)p(req);
  std::ifstream in(file);
  const auto sent = dphys::json::parse(in);
  CHECK(sent["schema"] == "dphys.surrogate.proposal_request/1");
  CHECK(sent["parents"][0]["program"] == "kernel: r");
  REQUIRE(sent["previous_errors"].size() == 1);
  CHECK(sent["previous_errors"][0].get<std::string>().find("malformed_output") == 0);
  std::filesystem::remove(file);

  // the mock proposer: deterministic, valid, and speaks the JSON contract
  mock_proposer mock;
  proposal_request mr;
  mr.parents.push_back({print_program(newtonian_program()), 1, 1, 4, 9});
  mr.want = 5;
  mr.seed = 3;
  const auto m1 = mock(mr), m2 = mock(mr);
  CHECK(m1.programs.size() == 5);
  CHECK(m1.programs == m2.programs);
  CHECK(dphys::json::parse(mock.respond(to_json(mr).dump()))["programs"].size() == 5);
  CHECK(mock(proposal_request{}).programs.size() == 4);
}

TEST_CASE("surrogate discovery: the law found beats the null model by >= 100x (fixed seed)") {
  discovery_config cfg;
  cfg.seed = 1;
  cfg.population = 200;
  cfg.generations = 30;
  const auto r = discover(cfg);
  INFO("law: " << r.law << "  improvement " << r.improvement);
  CHECK_FALSE(r.rollout.rejected());
  CHECK(r.improvement >= 100.0);
  CHECK(r.rollout.rollout.rmse * 100.0 <= r.null_rollout.rollout.rmse);
  CHECK(r.search.history.size() == 30);
  // deterministic
  CHECK(print_program(discover(cfg).best) == print_program(r.best));
}

TEST_CASE("surrogate configs: reflected, validated, JSON round trip, errors name the field") {
  auto round_trip = [](auto cfg) {
    dphys::validate(cfg);
    auto copy = cfg;
    dphys::from_json(dphys::to_json(cfg), copy);
    CHECK(dphys::to_json(copy) == dphys::to_json(cfg));
  };
  round_trip(parse_limits{});
  round_trip(crucible_config{});
  round_trip(variation_config{});
  round_trip(galaxy_ga_config{});
  round_trip(proposer_config{"true", 1.0, 1024, 4, 2, {}});
  round_trip(discovery_config{});
  CHECK(dphys::to_json(variation_config{})["operators"][5] == "+");

  crucible_config c;
  dphys::set_field(c, "mode", "multi_step");
  dphys::set_field(c, "cost", "node_weighted");
  CHECK(c.mode == crucible_mode::multi_step);
  CHECK(c.cost == cost_model::node_weighted);
  c.steps = 0;
  try {
    dphys::validate(c);
    FAIL("no error");
  } catch (const dphys::config_error& e) {
    CHECK(e.field == "steps");
  }
  variation_config v;
  v.operators = {op::dx};
  CHECK_THROWS_AS(dphys::validate(v), dphys::config_error);
  galaxy_ga_config g;
  g.elite_fraction = 1.5;
  CHECK_THROWS_AS(dphys::validate(g), dphys::config_error);
}
