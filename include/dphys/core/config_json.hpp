// dphys/core/config_json.hpp — JSON form of reflected configs (dphys::json): to_json, from_json
// (partial objects update a config in place) and from_json_file. Floats round-trip exactly; errors
// name field and value.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <dphys/core/json.hpp>

#include <dphys/core/config_check.hpp>
#include <dphys/core/detail/config_text.hpp>
#include <dphys/core/detail/config_walk.hpp>
#include <dphys/core/error.hpp>

namespace dphys {
namespace detail {

// A JSON value as it appears in a message, shortened if long.
inline std::string json_excerpt(const dphys::json& j) {
  std::string text = j.dump(-1, ' ', false, dphys::json::error_handler_t::replace);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

// A float as the JSON number with the shortest text that reads back as the same float: the shortest
// float text, read as a double. Where rounding decimal -> double -> float differs from decimal ->
// float (for one float only, 7.038531e-26f, by exhaustive search), the float's exact value is used.
inline dphys::json float_json(float value) {
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  double number = 0;
  std::from_chars(buffer, end, number);
  if (static_cast<float>(number) != value) number = static_cast<double>(value);
  return number;
}

template <class T>
dphys::json write_json(const T& value, std::string_view path) {
  if constexpr (is_reflected<T>) {
    auto object = dphys::json::object();
    for_each_field(value, [&](std::string_view name, const auto& field) {
      object[std::string(name)] = write_json(field, child_path(path, name));
    });
    return object;
  } else if constexpr (config_integer<T>) {
    if constexpr (std::is_signed_v<T>)
      return static_cast<std::int64_t>(value);
    else
      return static_cast<std::uint64_t>(value);
  } else if constexpr (config_floating<T>) {
    if (!std::isfinite(value))
      return to_text(value);  // "inf", "-inf", "nan": JSON has no such numbers
    if constexpr (std::same_as<T, float>)
      return float_json(value);
    else
      return value;
  } else if constexpr (named_enum<T>) {
    const std::string_view name = enum_name(value);
    if (name.empty()) throw config_error(std::string(path), to_text(value), unnamed_enum_rule<T>());
    return std::string(name);
  } else if constexpr (config_list<T>) {
    auto array = dphys::json::array();
    for (std::size_t i = 0; i < value.size(); ++i)
      array.push_back(
          write_json(static_cast<const typename T::value_type&>(value[i]), element_path(path, i)));
    return array;
  } else {
    return value;  // bool, std::string
  }
}

// Reads `j` into `out`; records the leaf paths it sets in `set_keys` (if given).
template <class T>
void read_json(const dphys::json& j, T& out, const std::string& path,
               std::vector<std::string>* set_keys) {
  const auto fail = [&](std::string rule) {
    throw config_error(path, json_excerpt(j), std::move(rule));
  };
  if constexpr (is_reflected<T>) {
    if (!j.is_object()) fail("expected a JSON object");
    for (auto item = j.begin(); item != j.end(); ++item) {
      const std::string& key = item.key();
      const dphys::json& value = item.value();
      bool known = false;
      for_each_field(out, [&](std::string_view name, auto& field) {
        if (name != key) return;
        known = true;
        read_json(value, field, child_path(path, name), set_keys);
      });
      if (!known)
        throw config_error(child_path(path, key), json_excerpt(value),
                           "unknown key; valid keys: " + join(field_names<T>()));
    }
    return;
  } else if constexpr (config_bool<T>) {
    if (!j.is_boolean()) fail("expected bool");
    out = j.get<bool>();
  } else if constexpr (config_integer<T>) {
    if (!j.is_number_integer()) fail("expected " + type_name<T>());
    if (j.is_number_unsigned()) {
      const auto v = j.get<std::uint64_t>();
      if (!std::in_range<T>(v)) fail("out of range for " + integer_range_text<T>());
      out = static_cast<T>(v);
    } else {
      const auto v = j.get<std::int64_t>();
      if (!std::in_range<T>(v)) fail("out of range for " + integer_range_text<T>());
      out = static_cast<T>(v);
    }
  } else if constexpr (config_floating<T>) {
    if (j.is_number()) {
      const double v = j.get<double>();
      if constexpr (std::same_as<T, float>) {
        constexpr double overflow =
            0x1.ffffffp127;  // halfway between FLT_MAX and 2^128: rounds to infinity
        if (std::isfinite(v) && std::fabs(v) >= overflow) fail("out of range for float");
      }
      out = static_cast<T>(v);
    } else if (j.is_string() && (j == "inf" || j == "-inf" || j == "nan")) {
      parse_text(j.get_ref<const std::string&>(), out, path);
    } else {
      fail("expected " + type_name<T>() + " (a JSON number, or \"inf\", \"-inf\", \"nan\")");
    }
  } else if constexpr (std::same_as<T, std::string>) {
    if (!j.is_string()) fail("expected string");
    out = j.get<std::string>();
  } else if constexpr (named_enum<T>) {
    if (!j.is_string()) fail("expected " + type_name<T>());
    const auto value = enum_from_name<T>(j.get_ref<const std::string&>());
    if (!value) fail("unknown name; valid names: " + enum_names_joined<T>(", "));
    out = *value;
  } else {
    if (!j.is_array()) fail("expected " + type_name<T>() + " (a JSON array)");
    T list;
    list.reserve(j.size());
    for (std::size_t i = 0; i < j.size(); ++i) {
      typename T::value_type element{};
      read_json(j[i], element, element_path(path, i), nullptr);
      list.push_back(std::move(element));
    }
    out = std::move(list);
  }
  if (set_keys) set_keys->push_back(path);
}

inline dphys::json read_json_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    throw config_error({}, {}, "is a directory, not a JSON file", file.string());
  std::ifstream in(file, std::ios::binary);
  if (!in) throw config_error({}, {}, "cannot open file", file.string());
  // Parsed from memory: one instantiation of the JSON parser (const char*) serves every reader.
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  try {
    return dphys::json::parse(std::string_view(text), nullptr, /*allow_exceptions=*/true,
                                 /*ignore_comments=*/true);
  } catch (const dphys::json::parse_error& e) {
    // e.what(): "[json.exception.parse_error.101] parse error at line 2, column 7: ..."
    std::string what = e.what();
    if (const auto end = what.find("] ");
        what.starts_with("[json.exception") && end != std::string::npos)
      what.erase(0, end + 2);
    throw config_error({}, {}, "invalid JSON: " + what, file.string());
  }
}

// Reads the JSON file onto a copy of `cfg`, then assigns it; errors carry the file name.
template <class C>
void read_json_file_onto(const std::filesystem::path& file, C& cfg,
                         std::vector<std::string>* set_keys) {
  const dphys::json j = read_json_file(file);
  C result = cfg;
  try {
    read_json(j, result, std::string{}, set_keys);
  } catch (const config_error& e) {
    throw config_error(e.field, e.value, e.rule, file.string());
  }
  cfg = std::move(result);
}

}  // namespace detail

/// The config as a JSON object: nested configs are nested objects, keys in the reflected names.
/// Integers are JSON integers; floats are the shortest numbers that read back bit for bit, and
/// non-finite floats the strings "inf", "-inf", "nan"; enums are their names; lists are arrays.
/// Throws config_error for an enum value without a name.
template <reflected_config C>
dphys::json to_json(const C& cfg) {
  detail::require_supported_config<C>();
  return detail::write_json(cfg, "");
}

/// Reads `j` into `cfg`. `j` may be partial: keys it lacks keep their current value in `cfg`.
/// Throws config_error, leaving `cfg` unchanged, on an unknown key (the rule lists the valid keys
/// at that level), a value of the wrong JSON type (names the expected type), or an integer out of
/// the field type's range. Does not validate: call validate() once the config is assembled.
template <reflected_config C>
void from_json(const dphys::json& j, C& cfg) {
  detail::require_supported_config<C>();
  C result = cfg;
  detail::read_json(j, result, std::string{}, nullptr);
  cfg = std::move(result);
}

/// Reads a JSON file (comments allowed) into `cfg`, as from_json does; errors name the file, and
/// for invalid JSON the line and column.
template <reflected_config C>
void from_json_file(const std::filesystem::path& file, C& cfg) {
  detail::require_supported_config<C>();
  detail::read_json_file_onto(file, cfg, nullptr);
}

/// A value-initialised C (its default member initialisers) updated from a JSON file.
template <reflected_config C>
C from_json_file(const std::filesystem::path& file) {
  C cfg{};
  from_json_file(file, cfg);
  return cfg;
}

}  // namespace dphys
