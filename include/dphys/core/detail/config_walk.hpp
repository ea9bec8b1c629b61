// dphys/core/detail/config_walk.hpp — internals of config reflection: which field types a config
// may hold, and traversal of a reflected struct's fields and leaves, by object or by type, with
// dotted paths.
#pragma once

#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/accessors.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/pair.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/unpack.hpp>

#include <dphys/core/enum_names.hpp>

namespace dphys::detail {

template <class T>
inline constexpr bool is_reflected = std::is_class_v<T>&& boost::hana::Struct<T>::value;

// --- field kinds ---------------------------------------------------------------------------------
template <class T>
concept character = std::same_as<T, char> || std::same_as<T, wchar_t> || std::same_as<T, char8_t> ||
    std::same_as<T, char16_t> || std::same_as<T, char32_t>;

template <class T>
concept config_bool = std::same_as<T, bool>;

template <class T>
concept config_integer = std::integral<T> && !config_bool<T> && !character<T>;

template <class T>
concept config_floating = std::same_as<T, float> || std::same_as<T, double>;

template <class T>
concept config_number = config_integer<T> || config_floating<T>;

template <class T>
concept config_scalar =
    config_bool<T> || config_number<T> || std::same_as<T, std::string> || named_enum<T>;

template <class T>
inline constexpr bool is_std_vector = false;
template <class T>
inline constexpr bool is_std_vector<std::vector<T>> = true;

template <class T>
concept config_list = is_std_vector<T> && config_scalar<typename T::value_type>;

template <class T>
concept config_leaf = config_scalar<T> || config_list<T>;

template <class T>
struct element {
  using type = T;
};
template <config_list T>
struct element<T> {
  using type = typename T::value_type;
};
/// The type rules apply to: T itself, or the element type of a list.
template <class T>
using element_t = typename element<T>::type;

// --- reflection ----------------------------------------------------------------------------------
// A config's fields come from hana::accessors<C>(): a hana::tuple of hana::pair<name, accessor>.
// When the names are hana::strings and the accessors are stateless (what BOOST_HANA_DEFINE_STRUCT,
// BOOST_HANA_ADAPT_STRUCT and DPHYS_ADAPT_STRUCT produce), the walks below work on the tuple's
// type: one fold expression per walk and config type, instead of hana::for_each's per-field
// instantiations (compile time). Other accessor sequences go through hana::for_each.
template <char... Chars>
inline constexpr char name_chars[] = {Chars..., '\0'};

template <class Key>
struct static_name {
  static constexpr bool known = false;
};
template <char... Chars>
struct static_name<boost::hana::string<Chars...>> {
  static constexpr bool known = true;
  static constexpr std::string_view value{name_chars<Chars...>, sizeof...(Chars)};
};

// The type of the field `Accessor` reads from a C.
template <class C, class Accessor>
using accessed_t = std::remove_cvref_t<decltype(Accessor{}(std::declval<C&>()))>;

template <class Accessors>
struct field_list {
  static constexpr bool is_static = false;
};
template <class... Key, class... Accessor>
struct field_list<boost::hana::tuple<boost::hana::pair<Key, Accessor>...>> {
  static constexpr bool is_static =
      (static_name<Key>::known && ...) && (std::is_empty_v<Accessor> && ...) &&
      (std::is_default_constructible_v<Accessor> && ...);

  template <class C, class F>
  static void visit(C& cfg, F& f) {
    (f(static_name<Key>::value, Accessor{}(cfg)), ...);
  }
  template <class C, class F>
  static void visit_types(F& f) {
    (f(static_name<Key>::value, std::type_identity<accessed_t<C, Accessor>>{}), ...);
  }
};

// The type of hana::accessors<C>(); for DPHYS_ADAPT_STRUCT, read without building the tuple.
template <class C>
struct field_accessors {
  using type = decltype(boost::hana::accessors<C>());
};
template <class C>
  requires requires { typename boost::hana::accessors_impl<C>::dphys_fields; }
struct field_accessors<C> {
  using type = typename boost::hana::accessors_impl<C>::dphys_fields;
};
template <class C>
using field_accessors_t = typename field_accessors<C>::type;

template <class C>
inline constexpr bool static_fields = field_list<field_accessors_t<C>>::is_static;

template <class Accessor>
constexpr std::string_view field_name(const Accessor& accessor) {
  return boost::hana::to<char const*>(boost::hana::first(accessor));
}

template <class C, class Accessor>
using member_t = std::remove_cvref_t<decltype(boost::hana::second(std::declval<Accessor>())(
    std::declval<C&>()))>;

/// Calls f(name, std::type_identity<Member>{}) for each field of C in declaration order.
template <class C, class F>
void for_each_field_type(F&& f) {
  if constexpr (static_fields<C>) {
    field_list<field_accessors_t<C>>::template visit_types<C>(f);
  } else {
    boost::hana::for_each(boost::hana::accessors<C>(), [&](auto accessor) {
      f(field_name(accessor), std::type_identity<member_t<C, decltype(accessor)>>{});
    });
  }
}

template <class C>
constexpr bool fields_supported();

template <class T>
constexpr bool field_supported() {
  if constexpr (config_leaf<T>)
    return true;
  else if constexpr (is_reflected<T>)
    return fields_supported<T>();
  else
    return false;
}

template <class Accessors>
struct fields_supported_impl;
template <class... Key, class... Accessor>
struct fields_supported_impl<boost::hana::tuple<boost::hana::pair<Key, Accessor>...>> {
  template <class C>
  static constexpr bool apply() {
    return (field_supported<accessed_t<C, Accessor>>() && ...);
  }
};

template <class C>
constexpr bool fields_supported() {
  if constexpr (static_fields<C>) {
    return fields_supported_impl<field_accessors_t<C>>::template apply<C>();
  } else {
    return boost::hana::unpack(boost::hana::accessors<C>(), [](auto... accessor) {
      return (field_supported<member_t<C, decltype(accessor)>>() && ...);
    });
  }
}

/// Front doors call this: one readable sentence instead of a failed instantiation deep inside.
template <class C>
constexpr void require_supported_config() {
  static_assert(fields_supported<C>(),
                "dphys config: every field must be bool, an integer type, float, double, "
                "std::string, a named enum (see dphys/core/enum_names.hpp), a std::vector of one "
                "of those, or a nested reflected config");
}

inline std::string child_path(std::string_view parent, std::string_view name) {
  std::string path(parent);
  if (!path.empty()) path += '.';
  path += name;
  return path;
}

inline std::string element_path(std::string_view list, std::size_t index) {
  return std::string(list) + '[' + std::to_string(index) + ']';
}

/// Calls f(name, member) for each field of cfg in declaration order (member is const if cfg is).
template <class C, class F>
void for_each_field(C& cfg, F&& f) {
  using plain = std::remove_const_t<C>;
  if constexpr (static_fields<plain>) {
    field_list<field_accessors_t<plain>>::visit(cfg, f);
  } else {
    boost::hana::for_each(boost::hana::accessors<plain>(), [&](auto accessor) {
      f(field_name(accessor), boost::hana::second(accessor)(cfg));
    });
  }
}

/// Calls f(path, leaf) for every leaf (a field that is not itself a config), depth first, in
/// declaration order.
template <class C, class F>
void for_each_leaf(C& cfg, std::string_view path, F&& f) {
  for_each_field(cfg, [&](std::string_view name, auto& member) {
    if constexpr (is_reflected<std::remove_cvref_t<decltype(member)>>)
      for_each_leaf(member, child_path(path, name), f);
    else
      f(child_path(path, name), member);
  });
}

/// Calls f(path, std::type_identity<Leaf>{}) for every leaf of C, without an object.
template <class C, class F>
void for_each_leaf_type(std::string_view path, F&& f) {
  for_each_field_type<C>([&](std::string_view name, auto type) {
    using member = typename decltype(type)::type;
    if constexpr (is_reflected<member>)
      for_each_leaf_type<member>(child_path(path, name), f);
    else
      f(child_path(path, name), type);
  });
}

/// Names of C's direct fields, in declaration order.
template <class C>
std::vector<std::string> field_names() {
  std::vector<std::string> names;
  for_each_field_type<C>([&](std::string_view name, auto) { names.emplace_back(name); });
  return names;
}

}  // namespace dphys::detail
