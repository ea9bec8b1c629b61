// dphys/core/detail/config_text.hpp — internals: the text form of config leaf values (command line,
// describe(), messages) and the type names used in messages. Parsing is strict and throws
// config_error naming the field.
#pragma once

#include <charconv>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include <dphys/core/detail/config_walk.hpp>
#include <dphys/core/enum_names.hpp>
#include <dphys/core/error.hpp>

namespace dphys::detail {

inline std::string join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string text;
  for (const auto& item : items) {
    if (!text.empty()) text += separator;
    text += item;
  }
  return text;
}

template <named_enum E>
std::string enum_names_joined(std::string_view separator) {
  std::vector<std::string> names;
  for (const auto& entry : enum_name_table<E>()) names.emplace_back(entry.second);
  return join(names, separator);
}

template <class T>
std::string number_text(T value) {
  char buffer[64];
  const auto end =
      std::to_chars(buffer, buffer + sizeof buffer, value).ptr;  // floats: shortest round trip
  std::string text(buffer, end);
  if (text == "-nan") text = "nan";
  return text;
}

/// "int32", "uint64", "float", "string", "a|b|c" (an enum), "list of float", ...
template <class T>
std::string type_name() {
  if constexpr (config_bool<T>)
    return "bool";
  else if constexpr (config_integer<T>)
    return (std::is_signed_v<T> ? "int" : "uint") + std::to_string(8 * sizeof(T));
  else if constexpr (std::same_as<T, float>)
    return "float";
  else if constexpr (std::same_as<T, double>)
    return "double";
  else if constexpr (std::same_as<T, std::string>)
    return "string";
  else if constexpr (named_enum<T>)
    return enum_names_joined<T>("|");
  else
    return "list of " + type_name<typename T::value_type>();
}

/// "int32 [-2147483648, 2147483647]"
template <config_integer T>
std::string integer_range_text() {
  return type_name<T>() + " [" + number_text(std::numeric_limits<T>::min()) + ", " +
         number_text(std::numeric_limits<T>::max()) + "]";
}

template <named_enum E>
std::string unnamed_enum_rule() {
  return "a named value; valid names: " + enum_names_joined<E>(", ");
}

/// The text form of a leaf value: what --key=<text> takes and describe() shows. Lists are
/// comma-separated.
template <class T>
std::string to_text(const T& value) {
  if constexpr (config_bool<T>)
    return value ? "true" : "false";
  else if constexpr (config_number<T>)
    return number_text(value);
  else if constexpr (std::same_as<T, std::string>)
    return value;
  else if constexpr (named_enum<T>) {
    const std::string_view name = enum_name(value);
    return name.empty() ? number_text(static_cast<std::underlying_type_t<T>>(value))
                        : std::string(name);
  } else {
    std::string text;
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (i != 0) text += ',';
      text += to_text(static_cast<const typename T::value_type&>(value[i]));
    }
    return text;
  }
}

/// Parses the text form of a T into `out`; `out` is unchanged if this throws. Numbers use
/// std::from_chars and must span the whole text: no sign '+', no spaces, no trailing characters
/// ("12x", and "1e3" for integers, are rejected). Lists: comma-separated elements, the empty text
/// is the empty list.
template <class T>
void parse_text(std::string_view text, T& out, const std::string& path) {
  const auto fail = [&](std::string rule) {
    throw config_error(path, std::string(text), std::move(rule));
  };
  if constexpr (config_bool<T>) {
    if (text == "true" || text == "1")
      out = true;
    else if (text == "false" || text == "0")
      out = false;
    else
      fail("expected bool (true, false, 1 or 0)");
  } else if constexpr (config_number<T>) {
    T value{};
    const char* const last = text.data() + text.size();
    std::from_chars_result result{};
    if constexpr (config_integer<T>)
      result = std::from_chars(text.data(), last, value);
    else
      result = std::from_chars(text.data(), last, value, std::chars_format::general);
    if (result.ec == std::errc::invalid_argument || result.ptr != last)
      fail("expected " + type_name<T>());
    if (result.ec == std::errc::result_out_of_range) {
      if constexpr (config_integer<T>)
        fail("out of range for " + integer_range_text<T>());
      else
        fail("out of range for " + type_name<T>());
    }
    out = value;
  } else if constexpr (std::same_as<T, std::string>) {
    out = std::string(text);
  } else if constexpr (named_enum<T>) {
    if (const auto value = enum_from_name<T>(text))
      out = *value;
    else
      fail("unknown name; valid names: " + enum_names_joined<T>(", "));
  } else {
    T list;
    if (!text.empty()) {
      for (std::size_t index = 0, start = 0;; ++index) {
        const std::size_t comma = text.find(',', start);
        typename T::value_type element{};
        parse_text(text.substr(start, comma == std::string_view::npos ? comma : comma - start),
                   element, element_path(path, index));
        list.push_back(std::move(element));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
    }
    out = std::move(list);
  }
}

}  // namespace dphys::detail
