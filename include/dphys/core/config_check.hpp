// dphys/core/config_check.hpp — declaring a config: the `reflected_config` concept,
// `config_checker` (the vocabulary a config states its rules in) and `validate`. Light: no JSON.
// Extension point: a config's member `void check(dphys::config_checker<Config>& c) const`, which
// states the config's rules.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/adapt_struct.hpp>
#include <boost/hana/define_struct.hpp>

#include <dphys/core/detail/config_text.hpp>
#include <dphys/core/detail/config_walk.hpp>
#include <dphys/core/enum_names.hpp>
#include <dphys/core/error.hpp>
#include <dphys/core/reflect.hpp>

namespace dphys {

/// A configuration: a class reflected with BOOST_HANA_DEFINE_STRUCT, BOOST_HANA_ADAPT_STRUCT or
/// DPHYS_ADAPT_STRUCT (dphys/core/reflect.hpp: the same result, cheaper to compile).
/// Its fields are bool, integers, float, double, std::string, named enums
/// (dphys/core/enum_names.hpp), std::vectors of those, or nested configs; the front doors
/// (validate, to_json, ...) check this with a static_assert.
template <class C>
concept reflected_config = detail::is_reflected<C>;

template <class Config>
class config_checker;

template <class Config, class T>
class field_check;

namespace detail {

// An address per type: tells leaves apart by type as well as by address.
template <class T>
inline constexpr char type_tag{};

// Whether `address` is a leaf of type `type` in cfg's tree; if so and `path` is given, its dotted
// path.
template <class C>
bool locate_leaf(const C& cfg, const void* address, const void* type, std::string_view prefix,
                 std::string* path) {
  bool found = false;
  for_each_field(cfg, [&](std::string_view name, const auto& field) {
    using F = std::remove_cvref_t<decltype(field)>;
    if (found) return;
    if constexpr (is_reflected<F>) {
      found =
          locate_leaf(field, address, type, path ? child_path(prefix, name) : std::string(), path);
    } else if (static_cast<const void*>(std::addressof(field)) == address &&
               static_cast<const void*>(&type_tag<F>) == type) {
      found = true;
      if (path) *path = child_path(prefix, name);
    }
  });
  return found;
}

struct check_state {
  std::vector<const void*> non_finite_allowed;  // fields whose rules called allow_non_finite()

  bool allows_non_finite(const void* field) const {
    for (const void* allowed : non_finite_allowed)
      if (allowed == field) return true;
    return false;
  }
};

// member_path<C, M1, M2, ...>: is `c.*m1.*m2...` a data member path from C, and its type. Purely
// type-level: a config's check() may run before the config's BOOST_HANA_ADAPT_STRUCT is seen.
struct invalid_member_path {};

template <class C, class... Members>
struct member_path {
  static constexpr bool valid = false;
  using type = invalid_member_path;
};
template <class C>
struct member_path<C> {
  static constexpr bool valid = true;
  using type = C;
};
template <class C, class M, class... Rest>
struct member_path<C, M C::*, Rest...> : member_path<M, Rest...> {
  static constexpr bool valid = !std::is_function_v<M> && member_path<M, Rest...>::valid;
};

template <class C>
const C& follow(const C& object) {
  return object;
}
// object.*m1.*m2...
template <class C, class M, class... Rest>
const auto& follow(const C& object, M C::*member, Rest... rest) {
  return follow(object.*member, rest...);
}

enum class order { at_least, at_most, greater_than, less_than };

inline std::string_view symbol(order op) {
  switch (op) {
    case order::at_least:
      return ">=";
    case order::at_most:
      return "<=";
    case order::greater_than:
      return ">";
    case order::less_than:
      return "<";
  }
  return "?";
}

// `a op b`, exact for integers of any signedness, false if either side is NaN.
template <class A, class B>
constexpr bool holds(order op, const A& a, const B& b) {
  if constexpr (std::integral<A> && std::integral<B>) {
    switch (op) {
      case order::at_least:
        return std::cmp_greater_equal(a, b);
      case order::at_most:
        return std::cmp_less_equal(a, b);
      case order::greater_than:
        return std::cmp_greater(a, b);
      case order::less_than:
        return std::cmp_less(a, b);
    }
  } else {
    using common = std::common_type_t<A, B, double>;
    const auto x = static_cast<common>(a);
    const auto y = static_cast<common>(b);
    switch (op) {
      case order::at_least:
        return x >= y;
      case order::at_most:
        return x <= y;
      case order::greater_than:
        return x > y;
      case order::less_than:
        return x < y;
    }
  }
  return false;
}

template <class T>
inline constexpr bool is_field_check = false;
template <class Config, class T>
inline constexpr bool is_field_check<field_check<Config, T>> = true;

template <class B>
concept bound_number = (std::integral<B> && !std::same_as<B, bool>) || std::floating_point<B>;

struct checker_access;

}  // namespace detail

/// The rules for one field, obtained from `c(&config::field)`. Each rule throws config_error naming
/// the field, its value and the rule on violation, and otherwise returns *this so rules chain. On a
/// list field, the comparison rules, one_of and finite apply to each element (the message names
/// "field[i]"); satisfies sees the whole value.
template <class Config, class T>
class field_check {
  using element = detail::element_t<T>;
  static constexpr std::size_t whole = static_cast<std::size_t>(-1);

 public:
  /// Dotted path of the field, e.g. "env.num_sources".
  std::string path() const { return checker_->path_of_(value_); }
  const T& value() const noexcept { return *value_; }

  /// Comparison rules. `bound` is a number; or a member pointer of the config being checked (a
  /// cross-field rule: the message names that field and its value, "<= env.num_sources (4)"); or
  /// another field_check, `c(&config::inner, &inner_config::field)`, for a field of a nested
  /// config. The two-argument forms take a number and the name, in this config, of the field it
  /// came from (prefer the member pointer form: it cannot go stale).
  template <class B>
  const field_check& at_least(const B& bound) const {
    return compare_(detail::order::at_least, bound);
  }
  template <class B>
  const field_check& at_most(const B& bound) const {
    return compare_(detail::order::at_most, bound);
  }
  template <class B>
  const field_check& greater_than(const B& bound) const {
    return compare_(detail::order::greater_than, bound);
  }
  template <class B>
  const field_check& less_than(const B& bound) const {
    return compare_(detail::order::less_than, bound);
  }

  template <detail::bound_number B>
  const field_check& at_least(const B& bound, std::string_view other_field) const {
    return compare_to_(detail::order::at_least, bound,
                       [&] { return checker_->name_(other_field); });
  }
  template <detail::bound_number B>
  const field_check& at_most(const B& bound, std::string_view other_field) const {
    return compare_to_(detail::order::at_most, bound, [&] { return checker_->name_(other_field); });
  }
  template <detail::bound_number B>
  const field_check& greater_than(const B& bound, std::string_view other_field) const {
    return compare_to_(detail::order::greater_than, bound,
                       [&] { return checker_->name_(other_field); });
  }
  template <detail::bound_number B>
  const field_check& less_than(const B& bound, std::string_view other_field) const {
    return compare_to_(detail::order::less_than, bound,
                       [&] { return checker_->name_(other_field); });
  }

  /// low <= value <= high. Rule text: "in [low, high]".
  template <detail::bound_number L, detail::bound_number H>
  const field_check& in_range(const L& low, const H& high) const {
    static_assert(detail::config_number<element>, "in_range applies to numeric fields");
    for_each_element_([&](std::size_t index, const element& v) {
      if (!detail::holds(detail::order::at_least, v, low) ||
          !detail::holds(detail::order::at_most, v, high))
        fail_(index, v, "in [" + detail::number_text(low) + ", " + detail::number_text(high) + "]");
    });
    return *this;
  }

  /// value is one of `allowed`. Rule text: "one of {a, b, c}".
  const field_check& one_of(std::initializer_list<element> allowed) const {
    for_each_element_([&](std::size_t index, const element& v) {
      for (const auto& a : allowed)
        if (a == v) return;
      std::vector<std::string> names;
      for (const auto& a : allowed) names.push_back(detail::to_text(a));
      fail_(index, v, "one of {" + detail::join(names) + "}");
    });
    return *this;
  }

  /// value is finite (neither infinite nor NaN). Rule text: "finite". Non-finite floats are
  /// rejected by validate() anyway unless allowed; this states it explicitly.
  const field_check& finite() const {
    static_assert(detail::config_floating<element>, "finite() applies to float and double fields");
    for_each_element_([&](std::size_t index, const element& v) {
      if (!std::isfinite(v)) fail_(index, v, "finite");
    });
    return *this;
  }

  /// Lets this field hold inf or NaN, which validate() otherwise rejects. (Text "inf", "-inf",
  /// "nan" and the JSON strings "inf", "-inf", "nan" are always parsed; validate() is the gate.)
  const field_check& allow_non_finite() const {
    static_assert(detail::config_floating<element>,
                  "allow_non_finite() applies to float and double fields");
    checker_->state_->non_finite_allowed.push_back(value_);
    return *this;
  }

  /// pred(value) holds, for the whole value (a list too); `rule` is the rule text of the message,
  /// e.g. "a power of two".
  template <class Pred>
  const field_check& satisfies(Pred pred, std::string_view rule) const {
    if (!pred(*value_)) fail_(whole, *value_, std::string(rule));
    return *this;
  }

 private:
  friend class config_checker<Config>;

  field_check(const config_checker<Config>& checker, const T& value)
      : checker_(&checker), value_(&value) {}

  template <class V>
  [[noreturn]] void fail_(std::size_t index, const V& value, std::string rule) const {
    const std::string field = path();
    throw config_error(index == whole ? field : detail::element_path(field, index),
                       detail::to_text(value), std::move(rule));
  }

  // f(index, element) for each element of a list, or f(whole, value).
  template <class F>
  void for_each_element_(F&& f) const {
    if constexpr (detail::config_list<T>) {
      for (std::size_t i = 0; i < value_->size(); ++i) f(i, (*value_)[i]);
    } else {
      f(whole, *value_);
    }
  }

  template <class B>
  const field_check& compare_(detail::order op, const B& bound) const {
    if constexpr (std::is_member_object_pointer_v<B>) {
      const auto other = (*checker_)(bound);
      return compare_to_(op, other.value(), [&] { return other.path(); });
    } else if constexpr (detail::is_field_check<B>) {
      return compare_to_(op, bound.value(), [&] { return bound.path(); });
    } else {
      return compare_to_(op, bound, [] { return std::string(); });
    }
  }

  // `bound_name()` names the field the bound came from ("" for a plain number); called on failure.
  template <class B, class Name>
  const field_check& compare_to_(detail::order op, const B& bound, const Name& bound_name) const {
    static_assert(detail::config_number<element>,
                  "at_least/at_most/greater_than/less_than apply to numeric fields");
    static_assert(detail::bound_number<B>, "a bound must be a number, or name a numeric field");
    for_each_element_([&](std::size_t index, const element& v) {
      if (detail::holds(op, v, bound)) return;
      std::string rule(detail::symbol(op));
      const std::string name = bound_name();
      rule += ' ';
      rule += name.empty() ? detail::number_text(bound)
                           : name + " (" + detail::number_text(bound) + ")";
      fail_(index, v, std::move(rule));
    });
    return *this;
  }

  const config_checker<Config>* checker_;
  const T* value_;
};

/// Passed to a config's `check` member by validate(); names fields by member pointer, so names are
/// never repeated as strings:
///
///     void check(dphys::config_checker<chemo_config>& c) const {
///       c(&chemo_config::width).at_least(1);
///       c(&chemo_config::num_bad_sources).at_least(0).at_most(&chemo_config::num_sources);
///       c(&chemo_config::gain).in_range(0.0, 1.0);
///       c.require(width % 2 == 0, "even", &chemo_config::width);
///     }
///
/// Paths in messages carry the prefix of the config's place in the outer config ("env.width").
/// Nothing here needs the config's reflection when check() is compiled (names are looked up when
/// validate() runs), so check() may be defined inside a struct adapted later by
/// BOOST_HANA_ADAPT_STRUCT.
template <class Config>
class config_checker {
 public:
  config_checker(const config_checker&) = delete;
  config_checker& operator=(const config_checker&) = delete;

  /// The rules of one field: `c(&config::field)`, or for a field of a nested config a path of
  /// member pointers, one per level: `c(&config::inner, &inner_config::field)`. Throws
  /// std::logic_error if the member is not reflected (not in the config's Hana declaration).
  template <class... Members>
  [[nodiscard]] field_check<Config, typename detail::member_path<Config, Members...>::type>
  operator()(Members... members) const {
    static_assert(
        sizeof...(Members) > 0 && detail::member_path<Config, Members...>::valid,
        "config_checker: name a field with member pointers of the config being checked, e.g. "
        "c(&my_config::width), or c(&my_config::inner, &inner_config::width) for a nested field");
    using T = typename detail::member_path<Config, Members...>::type;
    static_assert(detail::config_leaf<T>,
                  "config_checker: rules apply to leaf fields; a nested config states "
                  "its own rules in its own check()");
    const T& field = detail::follow(*config_, members...);
    if (!locate_(*config_, std::addressof(field), &detail::type_tag<T>, {}, nullptr))
      throw std::logic_error(
          "dphys::config_checker: a member pointer names a member that is not reflected "
          "(missing from the config's BOOST_HANA_DEFINE_STRUCT / BOOST_HANA_ADAPT_STRUCT)");
    return field_check<Config, T>(*this, field);
  }

  /// A free-form rule: throws config_error unless `holds`. `fields` (member pointers of the config,
  /// or field_checks) name what the rule is about: the message reports the first field and its
  /// value, and the others with their values after the rule text: "lo = 5: lo < hi (hi = 3)".
  template <class... Fields>
  void require(bool holds, std::string_view rule, const Fields&... fields) const {
    static_assert(sizeof...(Fields) > 0,
                  "config_checker::require: name the field(s) the rule is about, e.g. "
                  "c.require(lo < hi, \"lo < hi\", &my_config::lo, &my_config::hi)");
    if (holds) return;
    const std::vector<std::pair<std::string, std::string>> named{named_value_(fields)...};
    std::string text(rule);
    for (std::size_t i = 1; i < named.size(); ++i)
      text += (i == 1 ? " (" : ", ") + named[i].first + " = " + named[i].second +
              (i + 1 == named.size() ? ")" : "");
    throw config_error(named[0].first, named[0].second, std::move(text));
  }

  const Config& config() const noexcept { return *config_; }
  /// Dotted path of this config in the outer config ("" at the top, "env" for a field `env`).
  const std::string& path() const noexcept { return prefix_; }

 private:
  friend struct detail::checker_access;
  template <class, class>
  friend class field_check;

  using locate_function = bool (*)(const Config&, const void*, const void*, std::string_view,
                                   std::string*);

  config_checker(const Config& config, std::string prefix, detail::check_state& state,
                 locate_function locate)
      : config_(&config), prefix_(std::move(prefix)), state_(&state), locate_(locate) {}

  std::string name_(std::string_view field) const { return detail::child_path(prefix_, field); }

  template <class T>
  std::string path_of_(const T* field) const {
    std::string path;
    locate_(*config_, field, &detail::type_tag<T>, prefix_, &path);
    return path;
  }

  template <class F>
  std::pair<std::string, std::string> named_value_(const F& field) const {
    if constexpr (detail::is_field_check<F>) {
      return {field.path(), detail::to_text(field.value())};
    } else {
      const auto check = (*this)(field);
      return {check.path(), detail::to_text(check.value())};
    }
  }

  const Config* config_;
  std::string prefix_;
  detail::check_state* state_;
  locate_function locate_;
};

namespace detail {

template <class C>
concept has_check_member = requires {
  &C::check;
};

template <class C>
concept checkable = requires(const C& cfg, config_checker<C>& checker) {
  cfg.check(checker);
};

struct checker_access {
  template <class C>
  static void check(const C& cfg, std::string path, check_state& state) {
    config_checker<C> checker(cfg, std::move(path), state, &locate_leaf<C>);
    cfg.check(checker);
  }
};

// Runs check() of every config in the tree: nested configs first (in declaration order), then the
// outer one.
template <class C>
void run_checks(const C& cfg, std::string_view path, check_state& state) {
  for_each_field(cfg, [&](std::string_view name, const auto& field) {
    if constexpr (is_reflected<std::remove_cvref_t<decltype(field)>>)
      run_checks(field, child_path(path, name), state);
  });
  if constexpr (has_check_member<C>) {
    static_assert(checkable<C>,
                  "a config's check member must be callable as "
                  "`void check(dphys::config_checker<Config>&) const`");
    checker_access::check(cfg, std::string(path), state);
  }
}

// Rules every config obeys: floats are finite unless a rule allows otherwise; enums are named.
template <class C>
void check_leaf_values(const C& cfg, const check_state& state) {
  for_each_leaf(cfg, "", [&](const std::string& path, const auto& leaf) {
    using T = std::remove_cvref_t<decltype(leaf)>;
    using E = element_t<T>;
    if constexpr (config_floating<E> || named_enum<E>) {
      const auto check = [&](const std::string& where, const E& v) {
        if constexpr (config_floating<E>) {
          if (!std::isfinite(v) && !state.allows_non_finite(std::addressof(leaf)))
            throw config_error(where, to_text(v), "finite");
        } else {
          if (enum_name(v).empty()) throw config_error(where, to_text(v), unnamed_enum_rule<E>());
        }
      };
      if constexpr (config_list<T>) {
        for (std::size_t i = 0; i < leaf.size(); ++i) check(element_path(path, i), leaf[i]);
      } else {
        check(path, leaf);
      }
    }
  });
}

}  // namespace detail

/// Checks every rule of `cfg`: runs the `check` member of each config in the tree that has one —
/// nested configs before the config holding them (so an outer rule may rely on its parts being
/// valid), fields in declaration order — then rejects non-finite floats not allowed by a rule and
/// enum values without a name. Throws config_error for the first violation. Not called by from_json
/// or apply_overrides: call it once the config is assembled.
template <reflected_config C>
void validate(const C& cfg) {
  detail::require_supported_config<C>();
  detail::check_state state;
  detail::run_checks(cfg, "", state);
  detail::check_leaf_values(cfg, state);
}

}  // namespace dphys
