// Tests for dphys/core/config*.hpp and dphys/core/json.hpp: reflection, JSON round trip, text
// parsing, command-line overrides, validation rules and their messages, and the JSON value type.
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/hana/accessors.hpp>
#include <boost/hana/at.hpp>
#include <boost/hana/at_key.hpp>
#include <boost/hana/equal.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/members.hpp>
#include <boost/hana/string.hpp>
#include <doctest/doctest.h>

#include <dphys/core/config.hpp>
#include <dphys/core/json.hpp>
#include <dphys/core/reflect.hpp>

namespace cfgtest {

enum class source_kind { gradient, point, ring };
constexpr auto enum_names(source_kind) {
  return std::array{std::pair{source_kind::gradient, std::string_view{"gradient"}},
                    std::pair{source_kind::point, std::string_view{"point"}},
                    std::pair{source_kind::ring, std::string_view{"ring"}}};
}

enum class colour : std::uint8_t { red, green };  // named through dphys::enum_traits below

// --- the example of docs/reference/configuration.md (keep the two in sync) -----------------------
struct chemo_config {
  BOOST_HANA_DEFINE_STRUCT(chemo_config, (int, width), (int, num_sources), (int, num_bad_sources),
                           (float, gain), (source_kind, kind));

  void check(dphys::config_checker<chemo_config>& c) const {
    c(&chemo_config::width).at_least(1);
    c(&chemo_config::num_sources).in_range(1, 64);
    c(&chemo_config::num_bad_sources).at_least(0).at_most(&chemo_config::num_sources);
    c(&chemo_config::gain).in_range(0.0, 1.0);
    c.require(width % 2 == 0, "even", &chemo_config::width);
  }
};

struct es_config {
  BOOST_HANA_DEFINE_STRUCT(es_config, (int, pop_size), (double, sigma),
                           (std::vector<float>, weights), (bool, antithetic));

  void check(dphys::config_checker<es_config>& c) const {
    c(&es_config::pop_size).at_least(2).satisfies([](int n) { return n % 2 == 0; }, "even");
    c(&es_config::sigma).greater_than(0);
  }
};

struct experiment_config {
  BOOST_HANA_DEFINE_STRUCT(experiment_config, (chemo_config, env), (es_config, es),
                           (std::uint64_t, seed), (std::string, name));
};

inline experiment_config experiment_defaults() {
  return {.env = {.width = 16,
                  .num_sources = 4,
                  .num_bad_sources = 1,
                  .gain = 0.5f,
                  .kind = source_kind::point},
          .es = {.pop_size = 64, .sigma = 0.1, .weights = {1.0f, 0.5f}, .antithetic = true},
          .seed = 42,
          .name = "demo"};
}
// --- end of the documented example ---------------------------------------------------------------

// Adapted struct: default member initialisers, every kind of field.
struct kitchen_sink {
  bool flag = false;
  std::int8_t i8 = -8;
  std::uint8_t u8 = 8;
  std::int32_t i32 = -32;
  std::uint32_t u32 = 32;
  std::int64_t i64 = -64;
  std::uint64_t u64 = 64;
  float f = 0.1f;
  double d = 0.1;
  std::string s = "text";
  colour c = colour::green;
  std::vector<int> ints{1, 2, 3};
  std::vector<double> doubles{0.25};
  std::vector<std::string> strings{"a", "b"};
  std::vector<source_kind> kinds{source_kind::ring};
  std::vector<bool> bools{true, false};
};

// Rules beyond the documented example.
struct ruled {
  BOOST_HANA_DEFINE_STRUCT(ruled, (std::uint32_t, count), (std::int64_t, low), (std::int64_t, high),
                           (float, threshold), (double, rate), (std::vector<float>, gains),
                           (source_kind, kind), (std::string, label));

  void check(dphys::config_checker<ruled>& c) const {
    c(&ruled::count).at_least(1).at_most(1000);
    c(&ruled::low).less_than(&ruled::high);
    c(&ruled::threshold).allow_non_finite();
    c(&ruled::rate).finite().greater_than(0.0).less_than(1.0);
    c(&ruled::gains).at_least(0.0f).at_most(count, "count");  // the name-as-text form
    c(&ruled::kind).one_of({source_kind::gradient, source_kind::ring});
    c(&ruled::label).one_of({"x", "y"});
    c.require(high - low < 100, "high - low < 100", &ruled::high, &ruled::low);
  }
};

inline ruled ruled_defaults() {
  return {.count = 5,
          .low = 0,
          .high = 10,
          .threshold = 1.0f,
          .rate = 0.5,
          .gains = {1.0f},
          .kind = source_kind::ring,
          .label = "x"};
}

// An outer config whose rule reaches into its nested configs.
struct outer_config {
  BOOST_HANA_DEFINE_STRUCT(outer_config, (ruled, left), (ruled, right), (int, budget));

  void check(dphys::config_checker<outer_config>& c) const {
    c(&outer_config::budget).at_least(c(&outer_config::left, &ruled::count));
  }
};

// Numbers at the limits of their types.
struct extremes {
  BOOST_HANA_DEFINE_STRUCT(extremes, (std::int64_t, min64), (std::int64_t, max64),
                           (std::uint64_t, umax64), (std::int32_t, i32), (std::uint8_t, u8),
                           (std::vector<float>, floats), (double, tiny));
};

// Plain structs with defaults whose check() is compiled before their BOOST_HANA_ADAPT_STRUCT (at
// the end of this namespace), as a header adapting its configs at its end does.
struct late_inner {
  double rate = 0.5;
  void check(dphys::config_checker<late_inner>& c) const { c(&late_inner::rate).in_range(0, 1); }
};

struct late_config {
  int lo = 1;
  int hi = 2;
  late_inner inner;
  void check(dphys::config_checker<late_config>& c) const {
    c(&late_config::lo).less_than(&late_config::hi);
    c(&late_config::hi).greater_than(c(&late_config::inner, &late_inner::rate));
  }
};

// The same pair reflected with dphys's cheaper DPHYS_ADAPT_STRUCT: everything must behave alike.
struct twin_inner {
  double rate = 0.5;
  void check(dphys::config_checker<twin_inner>& c) const { c(&twin_inner::rate).in_range(0, 1); }
};

struct twin_config {
  int lo = 1;
  int hi = 2;
  twin_inner inner;
  void check(dphys::config_checker<twin_config>& c) const {
    c(&twin_config::lo).less_than(&twin_config::hi);
    c(&twin_config::hi).greater_than(c(&twin_config::inner, &twin_inner::rate));
  }
};

}  // namespace cfgtest

template <>
struct dphys::enum_traits<cfgtest::colour> {
  static constexpr std::array names{std::pair{cfgtest::colour::red, std::string_view{"red"}},
                                    std::pair{cfgtest::colour::green, std::string_view{"green"}}};
};

BOOST_HANA_ADAPT_STRUCT(cfgtest::kitchen_sink, flag, i8, u8, i32, u32, i64, u64, f, d, s, c, ints,
                        doubles, strings, kinds, bools);
BOOST_HANA_ADAPT_STRUCT(cfgtest::late_inner, rate);
BOOST_HANA_ADAPT_STRUCT(cfgtest::late_config, lo, hi, inner);
DPHYS_ADAPT_STRUCT(cfgtest::twin_inner, rate);
DPHYS_ADAPT_STRUCT(cfgtest::twin_config, lo, hi, inner);

namespace {

using namespace cfgtest;

// --- static tests: compiling is the test ---------------------------------------------------------
static_assert(dphys::reflected_config<experiment_config>);
static_assert(dphys::reflected_config<kitchen_sink>);
static_assert(!dphys::reflected_config<int>);
static_assert(!dphys::reflected_config<std::string>);
static_assert(!dphys::reflected_config<std::vector<int>>);
static_assert(dphys::named_enum<source_kind>);
static_assert(dphys::named_enum<colour>);
static_assert(!dphys::named_enum<int>);
enum class unnamed { a };
static_assert(!dphys::named_enum<unnamed>);
static_assert(dphys::enum_name(source_kind::ring) == "ring");
static_assert(dphys::enum_from_name<colour>("red") == colour::red);
static_assert(!dphys::enum_from_name<colour>("blue"));
static_assert(dphys::enum_name(static_cast<source_kind>(9)).empty());

struct unsupported {
  BOOST_HANA_DEFINE_STRUCT(unsupported, (int*, pointer), (unnamed, choice));
};
static_assert(dphys::reflected_config<unsupported>);  // reflected, but the front doors reject it:
static_assert(!dphys::detail::fields_supported<unsupported>());
static_assert(dphys::detail::fields_supported<experiment_config>());
// Compile-fail ideas (each must not compile; not built): dphys::validate(unsupported{});
// dphys::to_json(42); c(&other_config::x) inside chemo_config::check;
// c(&chemo_config::kind).at_least(1);  c.require(true, "r");

// The what() text of the config_error that `f` throws ("" if it throws none).
// what() of the E that f throws, or "" if it throws none.
template <class E = dphys::config_error, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

template <class F>
dphys::config_error caught(F&& f) {
  try {
    f();
  } catch (const dphys::config_error& e) {
    return e;
  }
  FAIL("no config_error thrown");
  return {"", "", ""};
}

bool same_bits(float a, float b) {
  return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
}

struct temp_file {
  std::filesystem::path path;
  temp_file(std::string_view name, std::string_view text)
      : path(std::filesystem::temp_directory_path() / ("dphys_test_config_" + std::string(name))) {
    std::ofstream(path) << text;
  }
  ~temp_file() { std::filesystem::remove(path); }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
};

}  // namespace

TEST_SUITE_BEGIN("config");
TEST_CASE("config_error: message format") {
  CHECK(std::string(dphys::config_error("env.width", "0", ">= 1").what()) ==
        "config error: env.width = 0: >= 1");
  CHECK(std::string(dphys::config_error("a", "1", "r", "x.json").what()) ==
        "config error: x.json: a = 1: r");
  CHECK(std::string(dphys::config_error("", "", "cannot open file", "x.json").what()) ==
        "config error: x.json: cannot open file");
  CHECK(std::string(dphys::config_error("", "[1]", "expected a JSON object").what()) ==
        "config error: (root) = [1]: expected a JSON object");
  const dphys::config_error e("f", "v", "r", "file");
  CHECK(e.field == "f");
  CHECK(e.value == "v");
  CHECK(e.rule == "r");
  CHECK(e.file == "file");
}

TEST_CASE("config_keys: every leaf, dotted, in declaration order") {
  CHECK(dphys::config_keys<experiment_config>() ==
        std::vector<std::string>{"env.width", "env.num_sources", "env.num_bad_sources", "env.gain",
                                 "env.kind", "es.pop_size", "es.sigma", "es.weights",
                                 "es.antithetic", "seed", "name"});
  CHECK(dphys::config_keys<kitchen_sink>().size() == 16);
}

TEST_CASE("to_json: nested objects, enums by name, lists as arrays") {
  const auto j = dphys::to_json(experiment_defaults());
  CHECK(
      j.dump() ==
      R"({"env":{"gain":0.5,"kind":"point","num_bad_sources":1,"num_sources":4,"width":16},)"
      R"("es":{"antithetic":true,"pop_size":64,"sigma":0.1,"weights":[1.0,0.5]},"name":"demo","seed":42})");
  const auto k = dphys::to_json(kitchen_sink{});
  CHECK(k["c"] == "green");
  CHECK(k["f"].dump() == "0.1");  // the shortest text of 0.1f, not 0.10000000149011612
  CHECK(k["kinds"].dump() == R"(["ring"])");
  CHECK(k["bools"].dump() == "[true,false]");
  CHECK(k["i8"] == -8);
  CHECK(k["u64"].is_number_unsigned());
}

TEST_CASE("JSON round trip: every field kind, floats bit for bit, 64-bit extremes") {
  kitchen_sink a;
  a.flag = true;
  a.i8 = std::numeric_limits<std::int8_t>::min();
  a.u8 = 255;
  a.i32 = std::numeric_limits<std::int32_t>::min();
  a.u32 = std::numeric_limits<std::uint32_t>::max();
  a.i64 = std::numeric_limits<std::int64_t>::min();
  a.u64 = std::numeric_limits<std::uint64_t>::max();
  a.f = 1.0f / 3.0f;
  a.d = 1.0 / 3.0;
  a.s = "with \"quotes\", commas and unicode \xc3\xa9";
  a.c = colour::red;
  a.ints = {-1, 0, std::numeric_limits<int>::max()};
  a.doubles = {};
  a.strings = {"", "x,y"};
  a.kinds = {source_kind::gradient, source_kind::point};
  a.bools = {false};

  kitchen_sink b;
  dphys::from_json(dphys::json::parse(dphys::to_json(a).dump()),
                   b);  // through text, as config.json is
  CHECK(b.flag == a.flag);
  CHECK(b.i8 == a.i8);
  CHECK(b.u8 == a.u8);
  CHECK(b.i32 == a.i32);
  CHECK(b.u32 == a.u32);
  CHECK(b.i64 == a.i64);
  CHECK(b.u64 == a.u64);
  CHECK(same_bits(b.f, a.f));
  CHECK(b.d == a.d);
  CHECK(b.s == a.s);
  CHECK(b.c == a.c);
  CHECK(b.ints == a.ints);
  CHECK(b.doubles == a.doubles);
  CHECK(b.strings == a.strings);
  CHECK(b.kinds == a.kinds);
  CHECK(b.bools == a.bools);
  CHECK(dphys::to_json(b) == dphys::to_json(a));
}

TEST_CASE("JSON round trip: floats bit for bit over a sweep of bit patterns") {
  // 7.038531e-26f is the one float whose shortest text, read as a double and rounded to float, is
  // not that float (found by an exhaustive search); to_json writes its exact value instead.
  extremes e{};
  e.floats = {0.1f,
              1.0f / 3.0f,
              -0.0f,
              7.03853069e-26f,
              std::numeric_limits<float>::min(),
              std::numeric_limits<float>::denorm_min(),
              std::numeric_limits<float>::max(),
              std::numeric_limits<float>::lowest()};
  for (std::uint32_t bits = 0x00000001u; bits < 0x7f800000u;
       bits += 0x0000f3a1u)  // ~35k positive floats
    e.floats.push_back(std::bit_cast<float>(bits));
  extremes r{};
  dphys::from_json(dphys::json::parse(dphys::to_json(e).dump()), r);
  REQUIRE(r.floats.size() == e.floats.size());
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < e.floats.size(); ++i)
    mismatches += same_bits(r.floats[i], e.floats[i]) ? 0 : 1;
  CHECK(mismatches == 0);
  CHECK(dphys::to_json(e)["floats"][3].dump() !=
        "7.038531e-26");  // the exact-value fallback was taken
}

TEST_CASE("from_json: partial objects keep the other values") {
  auto cfg = experiment_defaults();
  dphys::from_json(dphys::json::parse(R"({"es": {"pop_size": 8}, "seed": 7})"), cfg);
  CHECK(cfg.es.pop_size == 8);
  CHECK(cfg.seed == 7);
  CHECK(cfg.es.sigma == 0.1);
  CHECK(cfg.env.width == 16);
  CHECK(cfg.name == "demo");
  dphys::from_json(dphys::json::object(), cfg);
  CHECK(cfg.es.pop_size == 8);
}

TEST_CASE("from_json: errors name field, value and rule, the config is left unchanged") {
  auto cfg = experiment_defaults();
  const auto read = [&](const char* text) {
    return error_of([&] { dphys::from_json(dphys::json::parse(text), cfg); });
  };
  CHECK(read(R"({"es": {"pop_sise": 8}})") ==
        "config error: es.pop_sise = 8: unknown key; valid keys: pop_size, sigma, weights, "
        "antithetic");
  CHECK(read(R"({"bogus": true})") ==
        "config error: bogus = true: unknown key; valid keys: env, es, seed, name");
  CHECK(read(R"({"es": {"pop_size": "8"}})") ==
        R"(config error: es.pop_size = "8": expected int32)");
  CHECK(read(R"({"es": {"pop_size": 8.0}})") == "config error: es.pop_size = 8.0: expected int32");
  CHECK(read(R"({"es": {"pop_size": 2147483648}})") ==
        "config error: es.pop_size = 2147483648: out of range for int32 [-2147483648, 2147483647]");
  CHECK(read(R"({"seed": -1})") ==
        "config error: seed = -1: out of range for uint64 [0, 18446744073709551615]");
  CHECK(read(R"({"es": {"antithetic": 1}})") == "config error: es.antithetic = 1: expected bool");
  CHECK(
      read(R"({"es": {"weights": [1, "x"]}})") ==
      R"(config error: es.weights[1] = "x": expected float (a JSON number, or "inf", "-inf", "nan"))");
  CHECK(read(R"({"es": {"weights": 1}})") ==
        "config error: es.weights = 1: expected list of float (a JSON array)");
  CHECK(read(R"({"env": {"gain": 1e39}})") ==
        "config error: env.gain = 1e+39: out of range for float");
  CHECK(read(R"({"env": {"kind": "sideways"}})") ==
        R"(config error: env.kind = "sideways": unknown name; valid names: gradient, point, ring)");
  CHECK(read(R"({"env": {"kind": 1}})") ==
        "config error: env.kind = 1: expected gradient|point|ring");
  CHECK(read(R"({"env": 3})") == "config error: env = 3: expected a JSON object");
  CHECK(read(R"([1, 2])") == "config error: (root) = [1,2]: expected a JSON object");
  CHECK(read(R"({"name": 5})") == "config error: name = 5: expected string");
  // a failed read changes nothing, even when earlier keys were fine
  CHECK_FALSE(read(R"({"seed": 99, "es": {"pop_size": "x"}})").empty());
  CHECK(cfg.seed == 42);
  CHECK(cfg.es.pop_size == 64);
  // integers are JSON integers only; floats accept integers
  dphys::from_json(dphys::json::parse(R"({"es": {"sigma": 1}})"), cfg);
  CHECK(cfg.es.sigma == 1.0);
}

TEST_CASE("from_json: 64-bit extremes and non-finite floats as strings") {
  extremes e{};
  dphys::from_json(
      dphys::json::parse(
          R"({"min64": -9223372036854775808, "max64": 9223372036854775807, "umax64": 18446744073709551615,
                           "u8": 255, "floats": ["inf", "-inf", "nan"], "tiny": 5e-324})"),
      e);
  CHECK(e.min64 == std::numeric_limits<std::int64_t>::min());
  CHECK(e.max64 == std::numeric_limits<std::int64_t>::max());
  CHECK(e.umax64 == std::numeric_limits<std::uint64_t>::max());
  CHECK(e.u8 == 255);
  REQUIRE(e.floats.size() == 3);
  CHECK(e.floats[0] == std::numeric_limits<float>::infinity());
  CHECK(e.floats[1] == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(e.floats[2]));
  CHECK(e.tiny == std::numeric_limits<double>::denorm_min());
  CHECK(dphys::to_json(e)["floats"].dump() == R"(["inf","-inf","nan"])");
  CHECK(error_of([&] {
          dphys::from_json(dphys::json::parse(R"({"max64": 9223372036854775808})"), e);
        }) ==
        "config error: max64 = 9223372036854775808: out of range for int64 [-9223372036854775808, "
        "9223372036854775807]");
  // float range: a number rounding to FLT_MAX is in range, one rounding to infinity is not
  dphys::from_json(dphys::json::parse(R"({"floats": [3.4028235e38, -3.40282356e38]})"), e);
  CHECK(e.floats == std::vector<float>{std::numeric_limits<float>::max(),
                                       std::numeric_limits<float>::lowest()});
  CHECK(error_of([&] {
          dphys::from_json(dphys::json::parse(R"({"floats": [1, 3.4028236e38]})"), e);
        }) == "config error: floats[1] = 3.4028236e+38: out of range for float");
  CHECK(error_of([&] { dphys::from_json(dphys::json::parse(R"({"u8": 256})"), e); }) ==
        "config error: u8 = 256: out of range for uint8 [0, 255]");
  CHECK(
      error_of([&] { dphys::from_json(dphys::json::parse(R"({"tiny": "Infinity"})"), e); }) ==
      R"(config error: tiny = "Infinity": expected double (a JSON number, or "inf", "-inf", "nan"))");
}

TEST_CASE("from_json_file: reads files, errors name the file and the parse position") {
  const temp_file good(
      "good.json",
      "// comments are allowed\n{ \"es\": { \"pop_size\": 6 }, \"name\": \"from file\" }\n");
  auto cfg = experiment_defaults();
  dphys::from_json_file(good.path, cfg);
  CHECK(cfg.es.pop_size == 6);
  CHECK(cfg.name == "from file");
  CHECK(cfg.env.width == 16);
  const auto fresh = dphys::from_json_file<experiment_config>(
      good.path);  // starts from a value-initialised config
  CHECK(fresh.es.pop_size == 6);
  CHECK(fresh.env.width == 0);

  const std::string file = good.path.string();
  const temp_file bad_value("bad_value.json", R"({"es": {"sigma": "high"}})");
  CHECK(error_of([&] { dphys::from_json_file(bad_value.path, cfg); }) ==
        "config error: " + bad_value.path.string() +
            R"(: es.sigma = "high": expected double (a JSON number, or "inf", "-inf", "nan"))");
  const auto e = caught([&] { dphys::from_json_file(bad_value.path, cfg); });
  CHECK(e.file == bad_value.path.string());
  CHECK(e.field == "es.sigma");

  const temp_file bad_json("bad_json.json", "{\n  \"seed\": 1,\n  \"name\" \"x\"\n}\n");
  CHECK(error_of([&] { dphys::from_json_file(bad_json.path, cfg); }) ==
        "config error: " + bad_json.path.string() +
            ": invalid JSON: parse error at line 3, column 10: syntax error while parsing "
            "object separator - expected ':'");
  const auto missing = good.path.parent_path() / "dphys_test_config_missing.json";
  CHECK(error_of([&] { dphys::from_json_file(missing, cfg); }) ==
        "config error: " + missing.string() + ": cannot open file");
  CHECK(cfg.es.pop_size == 6);
  CHECK(cfg.name == "from file");
}

TEST_CASE("set_field: strict text parsing") {
  kitchen_sink k;
  const auto set = [&](std::string_view key, std::string_view text) {
    return error_of([&] { dphys::set_field(k, key, text); });
  };
  CHECK(set("i32", "12") == "");
  CHECK(k.i32 == 12);
  CHECK(set("i32", "-7") == "");
  CHECK(k.i32 == -7);
  CHECK(set("i32", "12x") == "config error: i32 = 12x: expected int32");
  CHECK(set("i32", "1e3") == "config error: i32 = 1e3: expected int32");
  CHECK(set("i32", "1.0") == "config error: i32 = 1.0: expected int32");
  CHECK(set("i32", " 1") == "config error: i32 =  1: expected int32");
  CHECK(set("i32", "+1") == "config error: i32 = +1: expected int32");
  CHECK(set("i32", "") == "config error: i32 = : expected int32");
  CHECK(set("i32", "99999999999") ==
        "config error: i32 = 99999999999: out of range for int32 [-2147483648, 2147483647]");
  CHECK(set("u32", "-1") == "config error: u32 = -1: expected uint32");
  CHECK(set("i8", "-129") == "config error: i8 = -129: out of range for int8 [-128, 127]");
  CHECK(set("u64", "18446744073709551615") == "");
  CHECK(k.u64 == std::numeric_limits<std::uint64_t>::max());
  CHECK(set("i64", "-9223372036854775808") == "");
  CHECK(k.i64 == std::numeric_limits<std::int64_t>::min());
  CHECK(k.i32 == -7);  // failed parses left it alone

  CHECK(set("f", "1e3") == "");
  CHECK(k.f == 1000.0f);
  CHECK(set("f", "0.1") == "");
  CHECK(same_bits(k.f, 0.1f));
  CHECK(set("f", "1e39") == "config error: f = 1e39: out of range for float");
  CHECK(set("f", "0.5.") == "config error: f = 0.5.: expected float");
  CHECK(set("d", "inf") == "");  // parsed; validate() is the gate for non-finite values
  CHECK(std::isinf(k.d));

  for (const auto* yes : {"true", "1"}) {
    k.flag = false;
    CHECK(set("flag", yes) == "");
    CHECK(k.flag);
  }
  for (const auto* no : {"false", "0"}) {
    k.flag = true;
    CHECK(set("flag", no) == "");
    CHECK_FALSE(k.flag);
  }
  CHECK(set("flag", "yes") == "config error: flag = yes: expected bool (true, false, 1 or 0)");
  CHECK(set("flag", "True") == "config error: flag = True: expected bool (true, false, 1 or 0)");

  CHECK(set("c", "red") == "");
  CHECK(k.c == colour::red);
  CHECK(set("c", "blue") == "config error: c = blue: unknown name; valid names: red, green");
  CHECK(set("s", "") == "");
  CHECK(k.s.empty());

  CHECK(set("ints", "4,-5,6") == "");
  CHECK(k.ints == std::vector<int>{4, -5, 6});
  CHECK(set("ints", "") == "");
  CHECK(k.ints.empty());
  CHECK(set("ints", "1,x,3") == "config error: ints[1] = x: expected int32");
  CHECK(set("ints", "1,") == "config error: ints[1] = : expected int32");
  CHECK(set("strings", "a,,b") == "");
  CHECK(k.strings == std::vector<std::string>{"a", "", "b"});
  CHECK(set("kinds", "ring,gradient") == "");
  CHECK(k.kinds == std::vector<source_kind>{source_kind::ring, source_kind::gradient});
  CHECK(set("bools", "1,false") == "");
  CHECK(k.bools == std::vector<bool>{true, false});

  CHECK(set("nope", "1") ==
        "config error: nope = 1: unknown key; valid keys: flag, i8, u8, i32, u32, i64, u64, f, "
        "d, s, c, ints, doubles, strings, kinds, bools");

  experiment_config cfg = experiment_defaults();
  dphys::set_field(cfg, "env.kind", "ring");
  CHECK(cfg.env.kind == source_kind::ring);
  CHECK(error_of([&] { dphys::set_field(cfg, "pop_size", "4"); })
            .starts_with(
                "config error: pop_size = 4: unknown key; valid keys: env.width, "));  // set_field
                                                                                       // takes
                                                                                       // exact
                                                                                       // paths only
  CHECK(error_of([&] {
          dphys::set_field(cfg, "env", "4");
        }).starts_with("config error: env = 4: unknown key"));
}

TEST_CASE("apply_overrides: key forms, order, bool flags, --config files") {
  auto cfg = experiment_defaults();
  std::vector<std::string> set;
  const auto apply = [&](std::vector<const char*> args) {
    return error_of(
        [&] { set = dphys::apply_overrides(cfg, static_cast<int>(args.size()), args.data()); });
  };

  SUBCASE("exact paths, unique endings, space form") {
    CHECK(apply({"--es.pop_size=8", "--sigma", "0.25", "--env.width=20", "--kind=ring", "--name",
                 "-x-", "--weights=3,4", "--seed", "7"}) == "");
    CHECK(set == std::vector<std::string>{"es.pop_size", "es.sigma", "env.width", "env.kind",
                                          "name", "es.weights", "seed"});
    CHECK(cfg.es.pop_size == 8);
    CHECK(cfg.es.sigma == 0.25);
    CHECK(cfg.env.width == 20);
    CHECK(cfg.env.kind == source_kind::ring);
    CHECK(cfg.name == "-x-");
    CHECK(cfg.es.weights == std::vector<float>{3.0f, 4.0f});
    CHECK(cfg.seed == 7);
    CHECK(apply({}) == "");
    CHECK(set.empty());
  }

  SUBCASE("later arguments win") {
    CHECK(apply({"--pop_size=8", "--es.pop_size=10"}) == "");
    CHECK(cfg.es.pop_size == 10);
    CHECK(set == std::vector<std::string>{"es.pop_size", "es.pop_size"});
  }

  SUBCASE("bool flags") {
    CHECK(apply({"--antithetic=false"}) == "");
    CHECK_FALSE(cfg.es.antithetic);
    CHECK(apply({"--antithetic"}) == "");
    CHECK(cfg.es.antithetic);
    CHECK(apply({"--antithetic", "0", "--seed=1"}) == "");
    CHECK_FALSE(cfg.es.antithetic);
    CHECK(apply({"--antithetic", "--seed=2"}) == "");
    CHECK(cfg.es.antithetic);
    CHECK(cfg.seed == 2);
    CHECK(apply({"--antithetic", "yes"}) ==
          "config error: argument 2 = yes: expected --key=value, --key value or --flag");
    CHECK(apply({"--antithetic=yes"}) ==
          "config error: es.antithetic = yes: expected bool (true, false, 1 or 0)");
  }

  SUBCASE("errors leave the config unchanged") {
    CHECK(apply({"--pop_size=8", "--pop_sise=9"}) ==
          "config error: pop_sise = 9: unknown key; valid keys: env.width, env.num_sources, "
          "env.num_bad_sources, env.gain, env.kind, es.pop_size, es.sigma, es.weights, "
          "es.antithetic, seed, name");
    CHECK(cfg.es.pop_size == 64);
    CHECK(apply({"--es.pop_size=12x"}) == "config error: es.pop_size = 12x: expected int32");
    CHECK(apply({"--pop_size"}) ==
          "config error: es.pop_size = : missing value: --es.pop_size=<int32>");
    CHECK(apply({"--pop_size", "--seed=1"}) ==
          "config error: es.pop_size = : missing value: --es.pop_size=<int32>");
    CHECK(apply({"pop_size=8"}) ==
          "config error: argument 1 = pop_size=8: expected --key=value, --key value or --flag");
    CHECK(apply({"--seed=1", "--"}) ==
          "config error: argument 2 = --: expected --key=value, --key value or --flag");
    CHECK(apply({"--help"})
              .starts_with("config error: help = : unknown key; valid keys: env.width, "));
    CHECK(apply({"--env=1"}).starts_with("config error: env = 1: unknown key; valid keys: "));
    CHECK(apply({"./program", "--seed=1"}) ==  // arguments only: pass argc - 1, argv + 1
          "config error: argument 1 = ./program: expected --key=value, --key value or --flag");
    CHECK(cfg.es.pop_size == 64);
    CHECK(cfg.seed == 42);
  }

  SUBCASE("ambiguous endings list the candidates") {
    outer_config outer{.left = ruled_defaults(), .right = ruled_defaults(), .budget = 10};
    const char* argv[] = {"program", "--count=3"};  // as main() receives them: pass argv + 1
    CHECK(error_of([&] { dphys::apply_overrides(outer, 1, argv + 1); }) ==
          "config error: count = 3: ambiguous key; candidates: left.count, right.count");
    const char* argv2[] = {"--right.count=3", "--left.kind=gradient"};
    CHECK(dphys::apply_overrides(outer, 2, argv2) ==
          std::vector<std::string>{"right.count", "left.kind"});
    CHECK(outer.right.count == 3);
    CHECK(outer.left.count == 5);
    CHECK(outer.left.kind == source_kind::gradient);
  }

  SUBCASE("--config loads a file in order with the other arguments") {
    const temp_file file("overrides.json", R"({"es": {"pop_size": 6, "sigma": 0.5}, "seed": 3})");
    const std::string config_arg = "--config=" + file.path.string();
    CHECK(apply({"--pop_size=8", config_arg.c_str(), "--seed=4"}) == "");
    CHECK(cfg.es.pop_size == 6);  // the file came after --pop_size=8
    CHECK(cfg.es.sigma == 0.5);
    CHECK(cfg.seed == 4);  // --seed=4 came after the file
    CHECK(set ==
          std::vector<std::string>{"es.pop_size", "es.pop_size", "es.sigma", "seed", "seed"});
    CHECK(apply({"--config", file.path.string().c_str(), "--pop_size=2"}) == "");
    CHECK(cfg.es.pop_size == 2);
    CHECK(cfg.seed == 3);
    CHECK(apply({"--config"}) ==
          "config error: --config = : missing file name: --config=<file.json>");

    const temp_file bad("bad_overrides.json", R"({"es": {"pop_size": 2.5}})");
    const std::string bad_arg = "--config=" + bad.path.string();
    CHECK(apply({"--seed=5", bad_arg.c_str()}) ==
          "config error: " + bad.path.string() + ": es.pop_size = 2.5: expected int32");
    CHECK(cfg.seed == 3);
  }
}

TEST_CASE("wants_help: --help or -h anywhere, exact arguments only") {
  const auto ask = [](std::vector<const char*> args) {
    args.insert(args.begin(), "prog");
    return dphys::wants_help(static_cast<int>(args.size()), args.data());
  };
  CHECK(ask({"--help"}));
  CHECK(ask({"--seed=3", "-h"}));
  CHECK_FALSE(ask({}));
  CHECK_FALSE(ask({"--out=--help", "--h", "-help", "help"}));
  const char* only_program[] = {"--help"};  // argv[0] is the program, never a request
  CHECK_FALSE(dphys::wants_help(1, only_program));
}

TEST_CASE("describe: one line per key with type and default") {
  const std::string help = dphys::describe(experiment_defaults());
  CHECK(help ==
        "  --config=<file.json>              "
        "read a JSON config file (options after it override it)\n"
        "  --env.width=<int32>               default: 16\n"
        "  --env.num_sources=<int32>         default: 4\n"
        "  --env.num_bad_sources=<int32>     default: 1\n"
        "  --env.gain=<float>                default: 0.5\n"
        "  --env.kind=<gradient|point|ring>  default: point\n"
        "  --es.pop_size=<int32>             default: 64\n"
        "  --es.sigma=<double>               default: 0.1\n"
        "  --es.weights=<list of float>      default: 1,0.5\n"
        "  --es.antithetic=<bool>            default: true\n"
        "  --seed=<uint64>                   default: 42\n"
        "  --name=<string>                   default: demo\n");
  const std::string sink = dphys::describe(kitchen_sink{});
  for (const auto& key : dphys::config_keys<kitchen_sink>())
    CHECK(sink.find("--" + key + "=<") != std::string::npos);
  CHECK(sink.find("--c=<red|green>") != std::string::npos);
  CHECK(sink.find("--doubles=<list of double>") != std::string::npos);
  CHECK(sink.find("default: 0.25\n") != std::string::npos);
  CHECK(sink.find("default: \"\"\n") == std::string::npos);
  kitchen_sink empty;
  empty.s.clear();
  CHECK(dphys::describe(empty).find("--s=<string>") != std::string::npos);
  CHECK(dphys::describe(empty).find("default: \"\"\n") != std::string::npos);
}

TEST_CASE("validate: the documented example") {
  auto cfg = experiment_defaults();
  CHECK_NOTHROW(dphys::validate(cfg));
  const auto invalid = [&](auto change) {
    auto copy = experiment_defaults();
    change(copy);
    return error_of([&] { dphys::validate(copy); });
  };
  CHECK(invalid([](auto& c) { c.env.width = 0; }) == "config error: env.width = 0: >= 1");
  CHECK(invalid([](auto& c) { c.env.num_sources = 65; }) ==
        "config error: env.num_sources = 65: in [1, 64]");
  CHECK(invalid([](auto& c) { c.env.num_bad_sources = 5; }) ==
        "config error: env.num_bad_sources = 5: <= env.num_sources (4)");
  CHECK(invalid([](auto& c) { c.env.num_bad_sources = -1; }) ==
        "config error: env.num_bad_sources = -1: >= 0");
  CHECK(invalid([](auto& c) { c.env.gain = 1.5f; }) == "config error: env.gain = 1.5: in [0, 1]");
  CHECK(invalid([](auto& c) { c.env.gain = std::nanf(""); }) ==
        "config error: env.gain = nan: in [0, 1]");
  CHECK(invalid([](auto& c) { c.env.width = 17; }) == "config error: env.width = 17: even");
  CHECK(invalid([](auto& c) { c.es.pop_size = 1; }) == "config error: es.pop_size = 1: >= 2");
  CHECK(invalid([](auto& c) { c.es.pop_size = 7; }) == "config error: es.pop_size = 7: even");
  CHECK(invalid([](auto& c) { c.es.sigma = 0; }) == "config error: es.sigma = 0: > 0");
  CHECK(invalid([](auto& c) { c.es.sigma = std::numeric_limits<double>::infinity(); }) ==
        "config error: es.sigma = inf: finite");  // passes > 0; non-finite floats need
                                                  // allow_non_finite()
  CHECK(invalid([](auto& c) {
          c.es.weights = {1.0f, -std::numeric_limits<float>::infinity()};
        }) == "config error: es.weights[1] = -inf: finite");
  CHECK(invalid([](auto& c) { c.env.kind = static_cast<source_kind>(7); }) ==
        "config error: env.kind = 7: a named value; valid names: gradient, point, ring");
  // nested configs are checked before the outer one; the first violation in declaration order is
  // reported
  CHECK(invalid([](auto& c) {
          c.env.width = 0;
          c.es.pop_size = 0;
        }) == "config error: env.width = 0: >= 1");
}

TEST_CASE("validate: rule vocabulary, lists, cross-field and nested paths") {
  const auto invalid = [](auto change) {
    auto copy = ruled_defaults();
    change(copy);
    return error_of([&] { dphys::validate(copy); });
  };
  CHECK(error_of([] { dphys::validate(ruled_defaults()); }) == "");
  CHECK(invalid([](auto& c) { c.count = 0; }) == "config error: count = 0: >= 1");
  CHECK(invalid([](auto& c) { c.count = 1001; }) == "config error: count = 1001: <= 1000");
  CHECK(invalid([](auto& c) { c.low = 10; }) == "config error: low = 10: < high (10)");
  CHECK(invalid([](auto& c) { c.rate = 1.0; }) == "config error: rate = 1: < 1");
  CHECK(invalid([](auto& c) { c.rate = std::nan(""); }) == "config error: rate = nan: finite");
  CHECK(invalid([](auto& c) { c.threshold = std::numeric_limits<float>::infinity(); }) ==
        "");  // allowed
  CHECK(invalid([](auto& c) { c.threshold = std::nanf(""); }) == "");
  CHECK(invalid([](auto& c) {
          c.gains = {0.5f, -0.25f};
        }) == "config error: gains[1] = -0.25: >= 0");
  CHECK(invalid([](auto& c) { c.gains = {6.0f}; }) == "config error: gains[0] = 6: <= count (5)");
  CHECK(invalid([](auto& c) { c.gains = {}; }) == "");
  CHECK(invalid([](auto& c) { c.kind = source_kind::point; }) ==
        "config error: kind = point: one of {gradient, ring}");
  CHECK(invalid([](auto& c) { c.label = "z"; }) == "config error: label = z: one of {x, y}");
  CHECK(invalid([](auto& c) {
          c.low = -100;
          c.high = 50;
        }) == "config error: high = 50: high - low < 100 (low = -100)");

  outer_config outer{.left = ruled_defaults(), .right = ruled_defaults(), .budget = 5};
  CHECK(error_of([&] { dphys::validate(outer); }) == "");
  outer.right.count = 0;
  CHECK(error_of([&] { dphys::validate(outer); }) == "config error: right.count = 0: >= 1");
  outer.right.count = 5;
  outer.left.gains = {7.0f};
  CHECK(error_of([&] { dphys::validate(outer); }) ==
        "config error: left.gains[0] = 7: <= left.count (5)");
  outer.left.gains = {};
  outer.right.threshold =
      std::numeric_limits<float>::infinity();  // allowed by the nested rule, nested path
  CHECK(error_of([&] { dphys::validate(outer); }) == "");
  outer.budget = 4;
  CHECK(error_of([&] { dphys::validate(outer); }) == "config error: budget = 4: >= left.count (5)");

  outer.right.count = 0;  // nested configs are checked before the outer one
  CHECK(error_of([&] { dphys::validate(outer); }) == "config error: right.count = 0: >= 1");
  outer.right.count = 5;

  const auto e = caught([&] { dphys::validate(outer); });
  CHECK(e.field == "budget");
  CHECK(e.value == "4");
  CHECK(e.rule == ">= left.count (5)");
  CHECK(e.file.empty());
}

TEST_CASE("validate: configs adapted after their check() was compiled") {
  late_config cfg;
  CHECK(error_of([&] { dphys::validate(cfg); }) == "");
  cfg.lo = 3;
  CHECK(error_of([&] { dphys::validate(cfg); }) == "config error: lo = 3: < hi (2)");
  cfg.lo = 1;
  cfg.inner.rate = 1.5;
  CHECK(error_of([&] { dphys::validate(cfg); }) == "config error: inner.rate = 1.5: in [0, 1]");
  cfg.inner.rate = 0.5;
  cfg.lo = -1;
  cfg.hi = 0;
  CHECK(error_of([&] { dphys::validate(cfg); }) == "config error: hi = 0: > inner.rate (0.5)");
  CHECK(dphys::to_json(late_config{}).dump() == R"({"hi":2,"inner":{"rate":0.5},"lo":1})");
}

TEST_CASE("DPHYS_ADAPT_STRUCT: the same keys, rules, errors and JSON as BOOST_HANA_ADAPT_STRUCT") {
  static_assert(dphys::reflected_config<twin_config>);
  static_assert(boost::hana::Struct<twin_config>::value);
  CHECK(dphys::config_keys<twin_config>() == dphys::config_keys<late_config>());
  CHECK(dphys::config_keys<twin_config>() ==
        std::vector<std::string>{"lo", "hi", "inner.rate"});
  late_config late;
  twin_config twin;
  const auto both_fail_alike = [&] {
    const std::string a = error_of([&] { dphys::validate(late); });
    const std::string b = error_of([&] { dphys::validate(twin); });
    CHECK(a == b);
    return b;
  };
  CHECK(both_fail_alike() == "");
  late.lo = twin.lo = 3;
  CHECK(both_fail_alike() == "config error: lo = 3: < hi (2)");
  late.lo = twin.lo = 1;
  late.inner.rate = twin.inner.rate = 1.5;
  CHECK(both_fail_alike() == "config error: inner.rate = 1.5: in [0, 1]");
  late.inner.rate = twin.inner.rate = 0.5;
  CHECK(dphys::to_json(twin).dump() == dphys::to_json(late).dump());
  dphys::from_json(dphys::json::parse(R"({"hi": 9, "inner": {"rate": 0.25}})"), twin);
  CHECK(twin.lo == 1);
  CHECK(twin.hi == 9);
  CHECK(twin.inner.rate == 0.25);
  // Hana's own algorithms see a hana::Struct with the field names and values, in order.
  namespace hana = boost::hana;
  CHECK(hana::to<const char*>(hana::first(hana::at_c<1>(hana::accessors<twin_config>()))) ==
        std::string_view{"hi"});
  CHECK(hana::at_key(twin, BOOST_HANA_STRING("hi")) == 9);
  CHECK(hana::at_c<0>(hana::members(twin)) == 1);
  CHECK(hana::at_c<2>(hana::members(twin)).rate == 0.25);
  CHECK(hana::equal(twin, twin));
  twin_config other = twin;
  other.inner.rate = 0.75;
  CHECK(!hana::equal(twin, other));
}

TEST_CASE("validate: floats are finite by default everywhere") {
  kitchen_sink k;  // no rules at all
  CHECK_NOTHROW(dphys::validate(k));
  k.doubles = {1.0, std::numeric_limits<double>::quiet_NaN()};
  CHECK(error_of([&] { dphys::validate(k); }) == "config error: doubles[1] = nan: finite");
  k.doubles = {};
  k.f = -std::numeric_limits<float>::infinity();
  CHECK(error_of([&] { dphys::validate(k); }) == "config error: f = -inf: finite");
}

TEST_CASE("config_checker: a member pointer not in the reflection is a logic error") {
  // A DEFINE_STRUCT config with an extra, unreflected member; its check names that member.
  struct with_extra {
    BOOST_HANA_DEFINE_STRUCT(with_extra, (int, shown));
    int extra = 0;
    void check(dphys::config_checker<with_extra>& c) const { c(&with_extra::extra).at_least(0); }
  };
  CHECK_THROWS_AS(dphys::validate(with_extra{}), std::logic_error);
}

TEST_SUITE_END();

// --- dphys::json (core/json.hpp) ------------------------------------------------------------------
TEST_SUITE_BEGIN("json");

namespace {
using dphys::json;

std::string parse_error_of(std::string_view text, bool comments = false) {
  try {
    (void)json::parse(text, nullptr, true, comments);
  } catch (const json::parse_error& e) {
    CHECK(json::parse(text, nullptr, false, comments).is_discarded());
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("json: numbers are written as nlohmann writes them") {
  const std::pair<double, const char*> cases[] = {
      {0.0, "0.0"},           {-0.0, "-0.0"},          {1.0, "1.0"},
      {-3.0, "-3.0"},         {0.1, "0.1"},            {100.0, "100.0"},
      {0.5, "0.5"},           {0.001, "0.001"},        {0.0001, "0.0001"},
      {1e-05, "1e-05"},       {1.5e-07, "1.5e-07"},    {123456789012345.0, "123456789012345.0"},
      {1e14, "100000000000000.0"}, {1e15, "1e+15"},   {1.5e16, "1.5e+16"},
      {1.2345678901234568e22, "1.2345678901234568e+22"}, {1e100, "1e+100"},
      {5e-324, "5e-324"},     {1.7976931348623157e308, "1.7976931348623157e+308"},
      {static_cast<double>(0.1f), "0.10000000149011612"}};
  for (const auto& [x, text] : cases) {
    CAPTURE(text);
    CHECK(json(x).dump() == text);
  }
  CHECK(json(std::numeric_limits<double>::quiet_NaN()).dump() == "null");
  CHECK(json(-std::numeric_limits<double>::infinity()).dump() == "null");
  CHECK(json(std::numeric_limits<std::int64_t>::min()).dump() == "-9223372036854775808");
  CHECK(json(std::numeric_limits<std::uint64_t>::max()).dump() == "18446744073709551615");
  CHECK(json(-7).type() == json::value_t::number_integer);
  CHECK(json(7u).type() == json::value_t::number_unsigned);
}

TEST_CASE("json: every finite double reads back bit for bit from its text") {
  std::uint64_t state = 0x243f6a8885a308d3ull;  // splitmix64
  int checked = 0;
  for (int i = 0; i < 200000; ++i) {
    state += 0x9e3779b97f4a7c15ull;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    const double x = std::bit_cast<double>(z);
    if (!std::isfinite(x)) continue;
    const std::string text = json(x).dump();
    const json back = json::parse(text);
    REQUIRE(back.is_number_float());
    if (std::bit_cast<std::uint64_t>(back.get<double>()) != z) FAIL_CHECK(text);
    ++checked;
  }
  CHECK(checked > 199000);
}

TEST_CASE("json: parsed number types and ranges") {
  CHECK(json::parse("1").type() == json::value_t::number_unsigned);
  CHECK(json::parse("-1").type() == json::value_t::number_integer);
  CHECK(json::parse("-0").type() == json::value_t::number_integer);
  CHECK(json::parse("1.0").type() == json::value_t::number_float);
  CHECK(json::parse("1e2").get<double>() == 100.0);
  CHECK(json::parse("18446744073709551615").get<std::uint64_t>() == 18446744073709551615ull);
  CHECK(json::parse("18446744073709551616").is_number_float());
  CHECK(json::parse("-9223372036854775808").get<std::int64_t>() ==
        std::numeric_limits<std::int64_t>::min());
  CHECK(json::parse("-9223372036854775809").is_number_float());
  CHECK(std::bit_cast<std::uint64_t>(json::parse("1e-400").get<double>()) == 0u);
  CHECK(std::bit_cast<std::uint64_t>(json::parse("-1e-400").get<double>()) ==
        std::bit_cast<std::uint64_t>(-0.0));
  CHECK(json::parse("4.9406564584124654e-324").get<double>() == 5e-324);
  CHECK(parse_error_of("[1e400]") ==
        "[json.exception.parse_error.101] parse error at line 1, column 2: number overflow "
        "parsing '1e400'");
  CHECK(parse_error_of("-12e99999999999999999999").find("number overflow") != std::string::npos);
}

TEST_CASE("json: strings, escapes and UTF-8") {
  const json j = json::parse(R"(["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u20ac\ud83d\ude00", "\u0000x"])");
  CHECK(j[0].get<std::string>() == "a\"b\\c/d\b\f\n\r\t");
  CHECK(j[1].get<std::string>() == "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  CHECK(j[2].get<std::string>() == std::string("\0x", 2));
  CHECK(j.dump() == "[\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\",\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
                    "\"\\u0000x\"]");
  CHECK(json(std::string("\x01\x1f")).dump() == "\"\\u0001\\u001f\"");
  // Invalid UTF-8 is refused when parsing and when writing, unless replaced.
  CHECK(parse_error_of("\"a\xff\"").find("invalid UTF-8") != std::string::npos);
  CHECK(parse_error_of("\"\xc0\xaf\"").find("invalid UTF-8") != std::string::npos);    // overlong
  // a UTF-8-encoded surrogate:
  CHECK(parse_error_of("\"\xed\xa0\x80\"").find("invalid UTF-8") != std::string::npos);
  CHECK(error_of<json::exception>([] { (void)json(std::string("a\xff")).dump(); }) ==
        "[json.exception.type_error.316] invalid UTF-8 byte at index 1: 0xFF");
  CHECK(json(std::string("a\xff")).dump(-1, ' ', false, json::error_handler_t::replace) ==
        "\"a\xef\xbf\xbd\"");
  CHECK(parse_error_of("\"a\nb\"").find("control character") != std::string::npos);
  CHECK(parse_error_of(R"("\ud83d")").find("surrogate") != std::string::npos);
  CHECK(parse_error_of(R"("\ude00")").find("surrogate") != std::string::npos);
  CHECK(parse_error_of(R"("\u12g4")").find("4 hex digits") != std::string::npos);
  CHECK(parse_error_of(R"("\x")").find("invalid escape") != std::string::npos);
}

TEST_CASE("json: malformed texts are parse errors with line and column") {
  CHECK(parse_error_of("{\n  \"a\": 1,\n  \"b\" 2\n}") ==
        "[json.exception.parse_error.101] parse error at line 3, column 7: syntax error while "
        "parsing object separator - expected ':'");
  for (const char* text : {"", "  ", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "-", "1e",
                           "tru", "nul", "NaN", "Infinity", "[1] x", "[1", "{\"a\"", "{1:2}",
                           "\"open", "[1 2]", "{\"a\":1 \"b\":2}", "/* c */ 1", "1 // c"}) {
    CAPTURE(text);
    CHECK(parse_error_of(text).starts_with(
        "[json.exception.parse_error.101] parse error at line "));
  }
}

TEST_CASE("json: comments only when asked for, nesting bounded") {
  CHECK(json::parse("// head\n{\"a\": /* inline */ 1} // tail", nullptr, true, true) ==
        json{{"a", 1}});
  CHECK(parse_error_of("/* open", true).find("unterminated comment") != std::string::npos);
  const auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  CHECK(json::parse(nested(json::max_depth)).size() == 1);
  CHECK(parse_error_of(nested(json::max_depth + 1)).find("nesting deeper than 512") !=
        std::string::npos);
  CHECK(parse_error_of(std::string(1'000'000, '[')).find("nesting") != std::string::npos);
}

TEST_CASE("json: objects, arrays and the text layout") {
  json j = json::parse(R"({"b": [1, {"y": null, "x": true}], "a": {}, "c": [], "a": "last"})");
  CHECK(j.dump() == R"({"a":"last","b":[1,{"x":true,"y":null}],"c":[]})");
  CHECK(j.dump(2) == "{\n  \"a\": \"last\",\n  \"b\": [\n    1,\n    {\n      \"x\": true,\n"
                     "      \"y\": null\n    }\n  ],\n  \"c\": []\n}");
  CHECK(j.dump(1, '\t') == "{\n\t\"a\": \"last\",\n\t\"b\": [\n\t\t1,\n\t\t{\n\t\t\t\"x\": true,\n"
                           "\t\t\t\"y\": null\n\t\t}\n\t],\n\t\"c\": []\n}");
  // Initializer lists: pairs with string keys make an object, anything else an array.
  CHECK(json{{"k", 1}, {"v", {1, 2}}}.dump() == R"({"k":1,"v":[1,2]})");
  CHECK(json{{"k", 1}, {2, 3}}.dump() == R"([["k",1],[2,3]])");
  CHECK(json::array({{"k", 1}}).dump() == R"([["k",1]])");
  CHECK(json::object().dump() == "{}");
  CHECK(error_of<json::exception>([] { (void)json::object({1, 2}); })
            .starts_with("[json.exception.type_error.301]"));
  // Containers and maps convert; get<T> converts back.
  const std::vector<float> v{0.5f, -2.0f};
  const std::map<std::string, int> m{{"x", 1}, {"y", -2}};
  const json jv = v, jm = m;
  CHECK(jv.dump() == "[0.5,-2.0]");
  CHECK(jm.dump() == R"({"x":1,"y":-2})");
  CHECK(jv.get<std::vector<float>>() == v);
  CHECK(jm.get<std::map<std::string, int>>() == m);
  CHECK(json::parse("[1,2,3]").get<std::array<int, 3>>() == std::array{1, 2, 3});
  CHECK(error_of<json::exception>([] { (void)json::parse("[1,2]").get<std::array<int, 3>>(); }) ==
        "[json.exception.type_error.302] array size must be 3, but is 2");
}

TEST_CASE("json: access, modification and their errors") {
  json j;
  CHECK(j.is_null());
  CHECK(j.empty());
  j["a"]["b"] = 2.5;  // null becomes an object on operator[]
  j["list"].push_back(1);  // and an array on push_back
  j["list"].push_back("two");
  CHECK(j.dump() == R"({"a":{"b":2.5},"list":[1,"two"]})");
  CHECK(j.size() == 2);
  CHECK(j.contains("a"));
  CHECK(!j.contains("b"));
  CHECK(!j["list"].contains("a"));
  CHECK(j.at("a").at("b").get<double>() == 2.5);
  CHECK(j.value("missing", 7) == 7);
  CHECK(j.value("missing", "x") == "x");
  CHECK(j["a"].value("b", 0.0) == 2.5);
  CHECK(error_of<json::exception>([&] { (void)j.at("missing"); }) ==
        "[json.exception.out_of_range.403] key 'missing' not found");
  CHECK(error_of<json::exception>([&] { (void)j.at("list").at(2); }) ==
        "[json.exception.out_of_range.401] array index 2 is out of range");
  CHECK(error_of<json::exception>([&] { (void)j.at("list").at("k"); }) ==
        "[json.exception.type_error.304] cannot use at() with array");
  CHECK(error_of<json::exception>([&] { (void)j.at("list")[1].get<int>(); }) ==
        "[json.exception.type_error.302] type must be number, but is string");
  CHECK(error_of<json::exception>([&] { (void)j.at("a").get<bool>(); }) ==
        "[json.exception.type_error.302] type must be boolean, but is object");
  CHECK(error_of<json::exception>([&] { j["list"]["k"] = 1; }) ==
        "[json.exception.type_error.305] cannot use operator[] with a string argument with array");
  CHECK(error_of<json::exception>([&] { (void)json(1).value("k", 0); }) ==
        "[json.exception.type_error.306] cannot use value() with number");
  CHECK(json::parse("2.9").get<int>() == 2);  // numbers convert by static_cast, as in nlohmann
  CHECK(j.erase("a") == 1);
  CHECK(j.erase("a") == 0);
  j.update(json{{"z", nullptr}, {"list", 3}});
  CHECK(j.dump() == R"({"list":3,"z":null})");
  // Copies are deep; moves leave null behind.
  json copy = j;
  copy["z"] = 1;
  CHECK(j["z"].is_null());
  json moved = std::move(copy);
  CHECK(moved["z"] == 1);
  // Iteration: an object's values in key order with key(), items() as pairs.
  std::string keys;
  for (auto it = moved.begin(); it != moved.end(); ++it) keys += it.key() + "=" + it->dump() + ";";
  CHECK(keys == "list=3;z=1;");
  int sum = 0;
  for (const auto& [k, x] : moved.items()) sum += x.get<int>() + static_cast<int>(k.size());
  CHECK(sum == 4 + 4 + 1);
  int n = 0;
  for (const json& x : json::parse("[1, 2, 3]")) n += x.get<int>();
  CHECK(n == 6);
}

TEST_CASE("json: ensure_ascii, lookups, element edits, primitives as ranges") {
  // ensure_ascii writes every non-ASCII code point as \uXXXX (surrogate pairs above U+FFFF), as
  // nlohmann does; a replaced invalid byte becomes \ufffd.
  const json text(std::string("\xc3\xa9\xf0\x9f\x98\x80\x01" "a"));
  CHECK(text.dump(-1, ' ', true) == "\"\\u00e9\\ud83d\\ude00\\u0001a\"");
  CHECK(json(std::string("a\xff")).dump(-1, ' ', true, json::error_handler_t::replace) ==
        "\"a\\ufffd\"");
  CHECK(json::parse(text.dump(-1, ' ', true)) == text);
  CHECK(error_of<json::exception>([] { (void)json(std::string("\xff")).dump(-1, ' ', true); })
            .starts_with("[json.exception.type_error.316]"));

  json j = json::parse(R"({"a": 1, "b": [10, 20, 30]})");
  CHECK(j.find("b").key() == "b");
  CHECK(*j.find("b") == json{10, 20, 30});
  CHECK(j.find("z") == j.end());
  const json one(1);
  CHECK(one.find("a") == one.end());  // a non-object finds nothing
  CHECK(j.count("a") == 1);
  CHECK(j.count("z") == 0);
  CHECK(j.emplace("c", 3));
  CHECK(!j.emplace("c", 4));  // present: left as it is
  CHECK(j["c"] == 3);
  j["b"].emplace_back(40);
  j["b"].erase(std::size_t{0});
  CHECK(j["b"].dump() == "[20,30,40]");
  CHECK(j["b"].front() == 20);
  CHECK(j["b"].back() == 40);
  CHECK(j.front() == 1);  // an object's values in key order
  CHECK(j.back() == 3);
  CHECK(error_of<json::exception>([&] { j["b"].erase(std::size_t{3}); }) ==
        "[json.exception.out_of_range.401] array index 3 is out of range");
  CHECK(error_of<json::exception>([&] { (void)j["a"].erase("k"); }) ==
        "[json.exception.type_error.307] cannot use erase() with number");
  CHECK(error_of<json::exception>([&] { j["a"].push_back(1); }) ==
        "[json.exception.type_error.308] cannot use push_back() with number");
  CHECK(error_of<json::exception>([&] { (void)j["a"].emplace("k", 1); }) ==
        "[json.exception.type_error.311] cannot use emplace() with number");
  CHECK(error_of<json::exception>([&] { (void)j["a"].items(); }) ==
        "[json.exception.type_error.311] cannot use items() with number");
  CHECK(error_of<json::exception>([&] { j.update(json(1)); }) ==
        "[json.exception.type_error.312] cannot use update() with number");
  const json& cj = j;
  CHECK(error_of<json::exception>([&] { (void)cj["missing"]; }) ==
        "[json.exception.out_of_range.403] key 'missing' not found");  // const [] never inserts
  CHECK(!cj.contains("missing"));
  j["b"].clear();
  CHECK(j["b"].dump() == "[]");
  j["s"] = "text";
  CHECK(j["s"].get_ref<const std::string&>() == "text");
  CHECK(error_of<json::exception>([&] { (void)j["a"].get_ref<const std::string&>(); }) ==
        "[json.exception.type_error.302] type must be string, but is number");
  CHECK(std::string(json().type_name()) == "null");
  CHECK(std::string(json::parse("x", nullptr, false).type_name()) == "discarded");
  CHECK(std::string(json(true).type_name()) == "boolean");
  // A primitive iterates over itself, null over nothing; size and empty agree.
  int seen = 0;
  for (const json& x : json(5)) seen += x.get<int>();
  for (const json& x : json()) seen += 100 + x.get<int>();
  CHECK(seen == 5);
  CHECK(json(5).size() == 1);
  CHECK(json().size() == 0);
  CHECK(!json("").empty());
  // Sets and pairs convert both ways.
  const std::set<int> set{3, 1, 2};
  CHECK(json(set).dump() == "[1,2,3]");
  CHECK(json(set).get<std::set<int>>() == set);
  const std::pair<std::string, double> pair{"x", 0.5};
  CHECK(json(pair).dump() == R"(["x",0.5])");
  CHECK((json(pair).get<std::pair<std::string, double>>()) == pair);
  // The parse error's byte offset (from 1) points at the unexpected character.
  try {
    (void)json::parse("[1, x]");
    FAIL("no parse error");
  } catch (const json::parse_error& e) {
    CHECK(e.byte == 5);
    CHECK(e.id == 101);
  }
}

TEST_CASE("json: equality compares numbers by value") {
  CHECK(json(1) == json(1u));
  CHECK(json(1) == json(1.0));
  CHECK(json(-1) != json(std::numeric_limits<std::uint64_t>::max()));
  CHECK(json(0.1) != json(0.1f));
  CHECK(json::parse(R"({"a":[1,2.0]})") == json{{"a", {1u, 2}}});
  CHECK(json::parse("[]") != json::parse("{}"));
  CHECK(json() != json::parse("false"));
  CHECK(json::parse("x", nullptr, false) != json::parse("x", nullptr, false));  // discarded
}

TEST_SUITE_END();
