// dphys/core/config_cli.hpp — command-line side of reflected configs: config_keys, set_field (a
// value as text), apply_overrides (`--key=value` arguments and `--config=file.json`) and describe
// (help text).
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <dphys/core/config_check.hpp>
#include <dphys/core/config_json.hpp>
#include <dphys/core/detail/config_text.hpp>
#include <dphys/core/detail/config_walk.hpp>
#include <dphys/core/error.hpp>

namespace dphys {

/// True if a program's arguments ask for its help text ("--help" or "-h"; the programs print
/// `describe(cfg)` then). Exact matches only: "--out=--help" is a value, not a request.
inline bool wants_help(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") return true;
  return false;
}

/// Dotted paths of all leaves of C ("env.width", "es.pop_size", ...), depth first, in declaration
/// order.
template <reflected_config C>
std::vector<std::string> config_keys() {
  detail::require_supported_config<C>();
  std::vector<std::string> keys;
  detail::for_each_leaf_type<C>("",
                                [&](std::string path, auto) { keys.push_back(std::move(path)); });
  return keys;
}

namespace detail {

[[noreturn]] inline void throw_unknown_key(std::string_view key, std::string_view value,
                                           const std::vector<std::string>& keys) {
  throw config_error(std::string(key), std::string(value),
                     "unknown key; valid keys: " + join(keys));
}

// The key `key` names: an exact dotted path, or else the one key that ends in "." + key (a bare
// leaf name such as "pop_size", or a shortened path such as "inner.width").
inline std::string resolve_key(std::string_view key, std::string_view value,
                               const std::vector<std::string>& keys) {
  std::vector<std::string> candidates;
  for (const auto& k : keys) {
    if (k == key) return k;
    if (k.size() > key.size() && k.ends_with(key) && k[k.size() - key.size() - 1] == '.')
      candidates.push_back(k);
  }
  if (candidates.empty()) throw_unknown_key(key, value, keys);
  if (candidates.size() > 1)
    throw config_error(std::string(key), std::string(value),
                       "ambiguous key; candidates: " + join(candidates));
  return candidates.front();
}

// f(std::type_identity<Leaf>{}) for the leaf of C at `path`.
template <class C, class F>
void with_leaf_type(std::string_view path, F&& f) {
  for_each_leaf_type<C>("", [&](const std::string& p, auto type) {
    if (p == path) f(type);
  });
}

inline bool is_bool_text(std::string_view text) {
  return text == "true" || text == "false" || text == "1" || text == "0";
}

}  // namespace detail

/// Sets the leaf at `dotted_key` (an exact dotted path) from its text form: integers in decimal,
/// strictly (no trailing characters, range-checked); floats as std::from_chars reads them ("inf",
/// "nan" included: validate() rejects them unless the field's rule allows them); bools true, false,
/// 1, 0; enums by name; lists comma-separated ("1,2,3"; "" is the empty list). Throws config_error,
/// leaving `cfg` unchanged, for an unknown key (listing the valid keys) or a malformed value.
template <reflected_config C>
void set_field(C& cfg, std::string_view dotted_key, std::string_view text) {
  detail::require_supported_config<C>();
  bool found = false;
  detail::for_each_leaf(cfg, "", [&](const std::string& path, auto& leaf) {
    if (path != dotted_key) return;
    found = true;
    detail::parse_text(text, leaf, path);
  });
  if (!found) detail::throw_unknown_key(dotted_key, text, config_keys<C>());
}

/// Applies the arguments args[0..count) to `cfg`, in order. They are the arguments only: from main,
/// pass `argc - 1, argv + 1` (the program name is not an option and would be rejected).
///   --key=value          sets a leaf from its text form (see set_field)
///   --key value          the same, if the next argument does not start with "--"
///   --flag               for a bool key: sets it to true ("--flag false", "--flag=0" also work)
///   --config=file.json   reads a JSON file onto the config (see from_json_file); also with a space
/// A key is an exact dotted path ("es.pop_size") or any unique ending of one after a dot
/// ("pop_size"); an ambiguous ending is an error listing the candidates, an unknown key an error
/// listing the valid keys. Every argument must be one of these forms; "--help" is not handled here
/// (check for it first, print describe()). Returns the keys set, in the order applied (keys read
/// from a file included). Throws config_error, leaving `cfg` unchanged. Does not validate: call
/// validate() afterwards.
template <reflected_config C>
std::vector<std::string> apply_overrides(C& cfg, int count, const char* const* args) {
  detail::require_supported_config<C>();
  const std::vector<std::string> keys = config_keys<C>();
  C result = cfg;
  std::vector<std::string> set;
  for (int i = 0; i < count; ++i) {
    const std::string_view arg = args[i] ? args[i] : "";
    if (arg.size() <= 2 || !arg.starts_with("--"))
      throw config_error("argument " + std::to_string(i + 1), std::string(arg),
                         "expected --key=value, --key value or --flag");
    const std::string_view body = arg.substr(2);
    const std::size_t equals = body.find('=');
    const std::string_view key = body.substr(0, equals);
    std::optional<std::string_view> value;
    if (equals != std::string_view::npos) value = body.substr(equals + 1);
    const auto take_next = [&](auto accept) -> std::optional<std::string_view> {
      if (i + 1 < count && args[i + 1] && accept(std::string_view(args[i + 1]))) return args[++i];
      return std::nullopt;
    };
    const auto not_an_option = [](std::string_view next) { return !next.starts_with("--"); };

    if (key == "config") {
      if (!value) value = take_next(not_an_option);
      if (!value) throw config_error("--config", "", "missing file name: --config=<file.json>");
      detail::read_json_file_onto(std::filesystem::path(*value), result, &set);
      continue;
    }
    const std::string path = detail::resolve_key(key, value.value_or(""), keys);
    if (!value) {
      detail::with_leaf_type<C>(path, [&](auto type) {
        using leaf = typename decltype(type)::type;
        if constexpr (detail::config_bool<leaf>)
          value = take_next(detail::is_bool_text).value_or("true");
        else if (!(value = take_next(not_an_option)))
          throw config_error(path, "",
                             "missing value: --" + path + "=<" + detail::type_name<leaf>() + ">");
      });
    }
    set_field(result, path, *value);
    set.push_back(path);
  }
  cfg = std::move(result);
  return set;
}

/// Help text, one line per key: "  --key=<type>  default: <value as text>", preceded by a line for
/// --config. Types read "int32", "uint64", "float", "double", "bool", "string", "a|b|c" (an enum's
/// names), "list of float" (comma-separated).
template <reflected_config C>
std::string describe(const C& defaults) {
  detail::require_supported_config<C>();
  std::vector<std::pair<std::string, std::string>> rows{
      {"--config=<file.json>", "read a JSON config file (options after it override it)"}};
  detail::for_each_leaf(defaults, "", [&](const std::string& path, const auto& leaf) {
    const std::string text = detail::to_text(leaf);
    rows.emplace_back(
        "--" + path + "=<" + detail::type_name<std::remove_cvref_t<decltype(leaf)>>() + ">",
        "default: " + (text.empty() ? std::string("\"\"") : text));
  });
  std::size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  std::string help;
  for (const auto& [option, text] : rows)
    help += "  " + option + std::string(width + 2 - option.size(), ' ') + text + '\n';
  return help;
}

}  // namespace dphys
