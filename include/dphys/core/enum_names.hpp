// dphys/core/enum_names.hpp — names for the values of an enumeration, so configs can hold
// `enum class` choices, written and parsed by name. Extension point: `enum_names(E)` found by ADL
// in E's namespace, or a specialisation of `dphys::enum_traits<E>` with a static `names` member.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace dphys {

/// Second way to name an enum's values, for enums whose namespace you do not want to touch:
///
///     template <>
///     struct dphys::enum_traits<lib::colour> {
///       static constexpr std::array names{std::pair{lib::colour::red, std::string_view{"red"}},
///                                         std::pair{lib::colour::blue, std::string_view{"blue"}}};
///     };
///
/// A specialisation takes precedence over an ADL `enum_names`.
template <class E>
struct enum_traits {};

namespace detail {

void enum_names() = delete;  // only argument-dependent lookup may find the user's `enum_names`

template <class E>
concept enum_traits_names = requires {
  enum_traits<E>::names;
};

template <class E>
concept adl_enum_names = requires(E e) {
  enum_names(e);
};

template <class E>
constexpr auto raw_enum_names() {
  if constexpr (enum_traits_names<E>)
    return enum_traits<E>::names;
  else
    return enum_names(E{});
}

template <class E>
consteval auto make_enum_table() {
  constexpr auto raw = raw_enum_names<E>();
  constexpr std::size_t n = std::tuple_size_v<std::remove_cvref_t<decltype(raw)>>;
  std::array<std::pair<E, std::string_view>, n> table{};
  for (std::size_t i = 0; i < n; ++i)
    table[i] = {static_cast<E>(raw[i].first), std::string_view(raw[i].second)};
  return table;
}

template <class Table>
consteval bool well_formed_enum_table(const Table& table) {
  if (table.size() == 0) return false;
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (table[i].second.empty()) return false;
    for (std::size_t j = 0; j < i; ++j)
      if (table[i].first == table[j].first || table[i].second == table[j].second) return false;
  }
  return true;
}

template <class E>
inline constexpr auto enum_table = make_enum_table<E>();

}  // namespace detail

/// An enumeration whose values have names. Minimal complete definition, either of:
///   - `constexpr auto enum_names(E)` in E's namespace (found by ADL), returning a std::array of
///     `std::pair<E, std::string_view>`:
///         enum class mode { fast, exact };
///         constexpr auto enum_names(mode) {
///           return std::array{std::pair{mode::fast, std::string_view{"fast"}},
///                             std::pair{mode::exact, std::string_view{"exact"}}};
///         }
///   - a specialisation of `dphys::enum_traits<E>` with such an array as `static constexpr names`.
/// Laws (checked at compile time by enum_name_table): the table is a constant expression, not
/// empty, and its values and names are distinct and the names non-empty. Values missing from the
/// table are "unnamed".
template <class E>
concept named_enum = std::is_enum_v<E> &&
    (detail::enum_traits_names<E> || detail::adl_enum_names<E>);

/// The table of (value, name) pairs of E, in declaration order.
template <named_enum E>
constexpr const auto& enum_name_table() noexcept {
  static_assert(detail::well_formed_enum_table(detail::enum_table<E>),
                "enum_names(E) must list at least one value, with distinct values and distinct "
                "non-empty names");
  return detail::enum_table<E>;
}

/// The name of `value`, or an empty view if `value` is not in the table.
template <named_enum E>
constexpr std::string_view enum_name(E value) noexcept {
  for (const auto& [v, name] : enum_name_table<E>())
    if (v == value) return name;
  return {};
}

/// The value named `name` (exact, case-sensitive match), if any.
template <named_enum E>
constexpr std::optional<E> enum_from_name(std::string_view name) noexcept {
  for (const auto& [v, n] : enum_name_table<E>())
    if (n == name) return v;
  return std::nullopt;
}

}  // namespace dphys
