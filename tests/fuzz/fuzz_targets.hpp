// Fuzz target bodies (issue 7), shared by the libFuzzer programs (tests/fuzz/fuzz_<name>.cpp,
// clang -fsanitize=fuzzer) and by the doctest replay of every committed corpus and regression
// file (tests/test_reliability.cpp, any compiler). Each body feeds arbitrary bytes to one reader
// of untrusted input and checks its contract: only the documented exception type may escape, and
// whatever is accepted round-trips. A broken contract calls fuzz_fail (abort under libFuzzer, a
// test failure under doctest). Adding a target: a body here, an entry in fuzz_registry(), a
// wrapper fuzz_<name>.cpp and a seed corpus tests/fuzz/corpus/<name>/ (docs/errors.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/core/json.hpp>

#include <dphys/core/config.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/experiments/koki2.hpp>
#include <dphys/run/checkpoint.hpp>
#include <dphys/run/npy.hpp>
#include <dphys/run/npz.hpp>
#include <dphys/search/openai_es.hpp>
#include <dphys/surrogate/text.hpp>

namespace dphys_fuzz {

// Set by the doctest replay to turn a broken contract into a test failure; default: abort.
inline std::function<void(const std::string&)>& fuzz_fail_handler() {
  static std::function<void(const std::string&)> h;
  return h;
}
inline void fuzz_fail(const std::string& what) {
  if (fuzz_fail_handler()) {
    fuzz_fail_handler()(what);
    return;
  }
  std::fprintf(stderr, "fuzz contract broken: %s\n", what.c_str());
  std::abort();
}

// Config JSON reader: parse, from_json onto koki2_config, validate. Only config_error may escape
// from_json/validate; an accepted config round-trips through to_json/from_json unchanged, and any
// accepted JSON text through dump/parse.
inline int config_json(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto j = dphys::json::parse(text, nullptr, /*allow_exceptions=*/false,
                                       /*ignore_comments=*/true);
  if (j.is_discarded()) return 0;
  // dphys::json itself: any accepted text dumps (strings are valid UTF-8 once parsed) to a text
  // that parses back to an equal value and dumps to the same text, compact and indented; the
  // ASCII-only text parses back to an equal value too.
  try {
    const std::string compact = j.dump(), pretty = j.dump(2);
    const auto again = dphys::json::parse(compact);
    if (again != j || again.dump() != compact || dphys::json::parse(pretty).dump(2) != pretty ||
        dphys::json::parse(j.dump(-1, ' ', /*ensure_ascii=*/true)) != j)
      fuzz_fail("json: parse(dump(j)) differs from j");
  } catch (const std::exception& e) {
    fuzz_fail(std::string("json: an accepted text does not round-trip: ") + e.what());
  }
  dphys::experiments::koki2_config cfg;
  try {
    dphys::from_json(j, cfg);
    dphys::validate(cfg);
  } catch (const dphys::config_error&) {
    return 0;
  } catch (const std::exception& e) {
    fuzz_fail(std::string("config JSON: exception other than config_error: ") + e.what());
    return 0;
  }
  try {
    const auto once = dphys::to_json(cfg);
    dphys::experiments::koki2_config back;
    dphys::from_json(once, back);
    if (dphys::to_json(back) != once)
      fuzz_fail("config JSON: to_json/from_json round trip differs");
  } catch (const std::exception& e) {
    fuzz_fail(std::string("config JSON: an accepted config does not round-trip: ") + e.what());
  }
  return 0;
}

// --key=value parser: the input's lines are the arguments (lines starting with "--config" are
// dropped: they would read files). Only config_error may escape apply_overrides/validate.
inline int cli_args(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args;
  std::size_t pos = 0;
  while (pos <= text.size() && args.size() < 64) {
    const std::size_t nl = text.find('\n', pos);
    std::string arg = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (arg.find("config") == std::string::npos) args.push_back(std::move(arg));
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  dphys::experiments::koki2_config cfg;
  try {
    dphys::apply_overrides(cfg, static_cast<int>(argv.size()), argv.data());
    dphys::validate(cfg);
  } catch (const dphys::config_error&) {
  } catch (const std::exception& e) {
    fuzz_fail(std::string("--key=value: exception other than config_error: ") + e.what());
  }
  return 0;
}

// Checkpoint reader: state_reader, the checkpoint header, openai_es::load (dimension 4). Only
// state_error may escape; a loaded strategy saves back to the same records. Each input is tried
// as is and with its footer recomputed ("END!" + checksum of the rest), so mutations reach the
// record parser instead of stopping at the checksum.
inline void checkpoint_one(const std::string& bytes) {
  dphys::search::openai_es es(dphys::search::openai_es_config{}, std::vector<float>(4, 0.0f), 0);
  try {
    dphys::state_reader r(bytes, "fuzz");
    (void)dphys::run::detail::read_checkpoint_header(r);
    {
      auto s = r.scope("strategy");
      es.load(r);
    }
    r.expect_end();
  } catch (const dphys::state_error&) {
    return;
  } catch (const std::exception& e) {
    fuzz_fail(std::string("checkpoint: exception other than state_error: ") + e.what());
    return;
  }
  dphys::state_writer w;
  es.save(w);
  dphys::state_reader again(w.bytes(), "fuzz round trip");
  dphys::search::openai_es es2(dphys::search::openai_es_config{}, std::vector<float>(4, 0.0f), 0);
  es2.load(again);
  dphys::state_writer w2;
  es2.save(w2);
  if (w.bytes() != w2.bytes()) fuzz_fail("checkpoint: openai_es save/load/save differs");
}
inline int checkpoint(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  checkpoint_one(bytes);
  if (bytes.size() >= 12) {
    const std::size_t body = bytes.size() - 12;
    const std::uint64_t h =
        dphys::detail::state_io::fnv1a64(std::string_view(bytes).substr(0, body));
    bytes.replace(body, 4, "END!");
    std::memcpy(bytes.data() + body + 4, &h, 8);
    checkpoint_one(bytes);
  }
  return 0;
}

// .npy reader: decode_npy for float32, float64, int32. Only format_error may escape; an accepted
// array encodes back to an array that decodes to the same shape and bytes.
template <class T>
void npy_one(std::string_view bytes) {
  dphys::run::npy_array<T> a;
  try {
    a = dphys::run::decode_npy<T>(bytes, "fuzz");
  } catch (const dphys::run::format_error&) {
    return;
  } catch (const std::exception& e) {
    fuzz_fail(std::string("npy: exception other than format_error: ") + e.what());
    return;
  }
  try {
    const auto again = dphys::run::decode_npy<T>(
        dphys::run::encode_npy<T>(std::span<const T>(a.data), a.shape), "fuzz round trip");
    if (again.shape != a.shape || again.data.size() != a.data.size() ||
        (!a.data.empty() &&
         std::memcmp(again.data.data(), a.data.data(), a.data.size() * sizeof(T)) != 0))
      fuzz_fail("npy: decode/encode/decode differs");
  } catch (const std::exception& e) {
    fuzz_fail(std::string("npy: an accepted array does not round-trip: ") + e.what());
  }
}
inline int npy(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  npy_one<float>(bytes);
  npy_one<double>(bytes);
  npy_one<std::int32_t>(bytes);
  return 0;
}

// .npz reader (ZIP of .npy members): only format_error may escape decode and get<T>; an accepted
// archive encodes to bytes that decode to the same members, names and .npy bytes in order.
inline int npz(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  dphys::run::npz_archive a;
  try {
    a = dphys::run::npz_archive::decode(bytes, "fuzz");
    for (const auto& m : a.members()) {
      try {
        (void)a.get<float>(m.name);
      } catch (const dphys::run::format_error&) {
      }
    }
  } catch (const dphys::run::format_error&) {
    return 0;
  } catch (const std::exception& e) {
    fuzz_fail(std::string("npz: exception other than format_error: ") + e.what());
    return 0;
  }
  try {
    const auto again = dphys::run::npz_archive::decode(a.encode(), "fuzz round trip");
    bool same = again.members().size() == a.members().size();
    for (std::size_t i = 0; same && i < a.members().size(); ++i)
      same = again.members()[i].name == a.members()[i].name &&
             again.members()[i].npy == a.members()[i].npy;
    if (!same) fuzz_fail("npz: decode/encode/decode differs");
  } catch (const std::exception& e) {
    fuzz_fail(std::string("npz: an accepted archive does not round-trip: ") + e.what());
  }
  return 0;
}

// Expression-program text (surrogate/text.hpp): only parse_error may escape parse_program; an
// accepted program prints to text that parses back to the same program, and its simplified form
// prints and parses too.
inline int program_text(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  dphys::surrogate::program p;
  try {
    p = dphys::surrogate::parse_program(text);
  } catch (const dphys::surrogate::parse_error&) {
    return 0;
  } catch (const std::exception& e) {
    fuzz_fail(std::string("program text: exception other than parse_error: ") + e.what());
    return 0;
  }
  try {
    const std::string printed = dphys::surrogate::print_program(p);
    if (!(dphys::surrogate::parse_program(printed) == p))
      fuzz_fail("program text: parse(print(p)) != p for an accepted program");
    const auto simple = dphys::surrogate::simplify(p);
    (void)dphys::surrogate::parse_program(dphys::surrogate::print_program(simple));
  } catch (const std::exception& e) {
    fuzz_fail(std::string("program text: an accepted program does not round-trip: ") + e.what());
  }
  return 0;
}

// name (= corpus folder tests/fuzz/corpus/<name>/, regressions tests/fuzz/regressions/<name>/)
// and body of every target.
inline std::vector<std::pair<std::string, int (*)(const std::uint8_t*, std::size_t)>>
fuzz_registry() {
  return {{"config_json", &config_json},
          {"cli_args", &cli_args},
          {"checkpoint", &checkpoint},
          {"npy", &npy},
          {"npz", &npz},
          {"program_text", &program_text}};
}

}  // namespace dphys_fuzz
