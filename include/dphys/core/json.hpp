// dphys/core/json.hpp — dphys::json, the JSON value of configs, manifests, logs and checkpoint
// metadata: a small RFC 8259 value type with a strict parser and a serializer.
//
// Why not dphys::json: it was dphys's JSON type until 2026-12; including and instantiating it cost
// 5–7 s in every translation unit that read or wrote JSON; this header does the subset dphys needs
// at a fraction of that (docs/performance.md, *Compile cost*). The interface follows nlohmann's
// names (parse, dump, at, value, get<T>, items, is_*, exception types), so code written for one
// reads naturally for the other, and the text it writes is nlohmann's: the same escapes,
// indentation, key order (sorted) and number forms (docs/reference/json.md lists the differences).
//
// Contracts:
// - Values: null, boolean, number (signed 64-bit integer, unsigned 64-bit integer or double; a
//   parsed integer without '-' is unsigned, with '-' signed, and one out of 64-bit range a double),
//   string (UTF-8), array, object (keys sorted bytewise; a repeated key keeps its last value).
// - parse: whole-input, strict JSON (no trailing commas, no leading zeros, no NaN); optional // and
//   /* */ comments; strings must be valid UTF-8 without raw control characters; nesting deeper than
//   json::max_depth (512) is an error, never a stack overflow; a number beyond double's range is an
//   error. Errors throw json::parse_error whose what() is
//   "[json.exception.parse_error.101] parse error at line L, column C: <what>" (column in bytes,
//   from 1), or, with allow_exceptions = false, return a value for which is_discarded() is true.
// - dump: compact, or with `indent` spaces per level and ": " after keys; doubles in the shortest
//   form that reads back to the same double (std::to_chars), laid out as nlohmann does ("1.0",
//   "0.001", "1e-05", "1.5e+16"); non-finite doubles as null; invalid UTF-8 in a string throws
//   json::type_error (316), or with error_handler_t::replace becomes U+FFFD.
// - get<T>: bool from a boolean, arithmetic T from any number (static_cast, as nlohmann does),
//   std::string from a string, containers and ADL from_json(const json&, T&) recursively; a wrong
//   type throws json::type_error (302) "type must be number, but is string". at() throws
//   json::out_of_range (401 index, 403 key) or json::type_error (304) on a value of another type.
#pragma once

#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <istream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace dphys {

class json;

namespace detail::json_impl {

template <class T>
concept string_like = std::is_convertible_v<const T&, std::string_view>;
template <class T>
concept key_value_map = requires(const T& m) {
  typename T::key_type;
  typename T::mapped_type;
  requires string_like<typename T::key_type>;
  m.begin()->second;
};
template <class T>
concept sequence = !string_like<T> && !key_value_map<T> && requires(const T& r) {
  std::begin(r);
  std::end(r);
};
template <class T>
concept pair_like = requires(const T& p) {
  p.first;
  p.second;
  requires std::tuple_size<T>::value == 2;
};

// ADL hooks for user types: to_json(json&, const T&) and from_json(const json&, T&).
template <class T>
concept has_adl_to_json = requires(json& j, const T& v) { to_json(j, v); };
template <class T>
concept has_adl_from_json = requires(const json& j, T& v) { from_json(j, v); };

}  // namespace detail::json_impl

class json {
 public:
  using object_t = std::map<std::string, json, std::less<>>;
  using array_t = std::vector<json>;
  using string_t = std::string;
  using size_type = std::size_t;

  enum class value_t : std::uint8_t {
    null,
    object,
    array,
    string,
    boolean,
    number_integer,
    number_unsigned,
    number_float,
    discarded
  };
  enum class error_handler_t : std::uint8_t { strict, replace };

  /// Every error this header throws: what() is "[json.exception.<kind>.<id>] <message>".
  class exception : public std::runtime_error {
   public:
    const int id;

   protected:
    exception(int id_, const std::string& what) : std::runtime_error(what), id(id_) {}
  };
  class parse_error : public exception {
   public:
    const std::size_t byte;  ///< offset of the error in the input, from 1
    parse_error(int id_, std::size_t byte_, const std::string& msg)
        : exception(id_, "[json.exception.parse_error." + std::to_string(id_) + "] " + msg),
          byte(byte_) {}
  };
  class type_error : public exception {
   public:
    type_error(int id_, const std::string& msg)
        : exception(id_, "[json.exception.type_error." + std::to_string(id_) + "] " + msg) {}
  };
  class out_of_range : public exception {
   public:
    out_of_range(int id_, const std::string& msg)
        : exception(id_, "[json.exception.out_of_range." + std::to_string(id_) + "] " + msg) {}
  };

  static constexpr int max_depth = 512;

  // --- construction -----------------------------------------------------------------------------
  json() noexcept = default;
  json(std::nullptr_t) noexcept {}
  json(value_t t) : type_(t) {
    if (t == value_t::object) v_.object = new object_t();
    if (t == value_t::array) v_.array = new array_t();
    if (t == value_t::string) v_.string = new string_t();
  }
  template <class T>
    requires std::same_as<std::remove_cvref_t<T>, bool>
  json(T b) noexcept : type_(value_t::boolean) {
    v_.boolean = b;
  }
  template <class T>
    requires(std::is_integral_v<std::remove_cvref_t<T>> &&
             !std::same_as<std::remove_cvref_t<T>, bool> &&
             !std::same_as<std::remove_cvref_t<T>, char>)
  json(T i) noexcept {
    if constexpr (std::is_signed_v<T>) {
      type_ = value_t::number_integer;
      v_.integer = static_cast<std::int64_t>(i);
    } else {
      type_ = value_t::number_unsigned;
      v_.unsigned_ = static_cast<std::uint64_t>(i);
    }
  }
  template <std::floating_point T>
  json(T x) noexcept : type_(value_t::number_float) {
    v_.number = static_cast<double>(x);
  }
  json(std::string s) : type_(value_t::string) { v_.string = new string_t(std::move(s)); }
  json(std::string_view s) : json(std::string(s)) {}
  json(const char* s) : json(std::string(s)) {}
  json(array_t a) : type_(value_t::array) { v_.array = new array_t(std::move(a)); }
  json(object_t o) : type_(value_t::object) { v_.object = new object_t(std::move(o)); }
  /// Containers (arrays), maps with string keys (objects), pairs (two-element arrays), enums (their
  /// underlying integer, as nlohmann does), and types with an ADL to_json(json&, const T&).
  template <class T>
    requires(!std::same_as<std::remove_cvref_t<T>, json> &&
             !std::is_arithmetic_v<std::remove_cvref_t<T>> &&
             !detail::json_impl::string_like<std::remove_cvref_t<T>> &&
             !std::same_as<std::remove_cvref_t<T>, std::nullptr_t> &&
             !std::same_as<std::remove_cvref_t<T>, array_t> &&
             !std::same_as<std::remove_cvref_t<T>, object_t> &&
             !std::same_as<std::remove_cvref_t<T>, value_t> &&
             (detail::json_impl::has_adl_to_json<std::remove_cvref_t<T>> ||
              std::is_enum_v<std::remove_cvref_t<T>> ||
              detail::json_impl::key_value_map<std::remove_cvref_t<T>> ||
              detail::json_impl::pair_like<std::remove_cvref_t<T>> ||
              detail::json_impl::sequence<std::remove_cvref_t<T>>))
  json(const T& v) {
    using U = std::remove_cvref_t<T>;
    if constexpr (detail::json_impl::has_adl_to_json<U>) {
      to_json(*this, v);
    } else if constexpr (std::is_enum_v<U>) {
      *this = json(static_cast<std::underlying_type_t<U>>(v));
    } else if constexpr (detail::json_impl::key_value_map<U>) {
      *this = json(value_t::object);
      for (const auto& [k, x] : v)
        v_.object->insert_or_assign(std::string(std::string_view(k)), json(x));
    } else if constexpr (detail::json_impl::pair_like<U>) {
      *this = json(array_t{json(v.first), json(v.second)});
    } else {
      *this = json(value_t::array);
      for (const auto& x : v) v_.array->push_back(json(x));
    }
  }
  /// nlohmann's rule: a list of two-element lists whose first elements are all strings is an
  /// object, anything else an array (use json::array({...}) to force an array).
  json(std::initializer_list<json> init) {
    bool is_object = true;
    for (const json& e : init)
      if (!(e.is_array() && e.size() == 2 && (*e.v_.array)[0].is_string())) {
        is_object = false;
        break;
      }
    if (is_object) {
      *this = json(value_t::object);
      for (const json& e : init)
        v_.object->insert_or_assign(*(*e.v_.array)[0].v_.string, (*e.v_.array)[1]);
    } else {
      *this = json(array_t(init.begin(), init.end()));
    }
  }
  static json array(std::initializer_list<json> init = {}) {
    return json(array_t(init.begin(), init.end()));
  }
  static json object(std::initializer_list<json> init = {}) {
    json j(value_t::object);
    for (const json& e : init) {
      if (!(e.is_array() && e.size() == 2 && (*e.v_.array)[0].is_string()))
        throw type_error(301, "cannot create object from initializer list");
      j.v_.object->insert_or_assign(*(*e.v_.array)[0].v_.string, (*e.v_.array)[1]);
    }
    return j;
  }

  json(const json& o) : type_(o.type_) {
    switch (type_) {
      case value_t::object: v_.object = new object_t(*o.v_.object); break;
      case value_t::array: v_.array = new array_t(*o.v_.array); break;
      case value_t::string: v_.string = new string_t(*o.v_.string); break;
      default: v_ = o.v_;
    }
  }
  json(json&& o) noexcept : type_(o.type_), v_(o.v_) {
    o.type_ = value_t::null;
    o.v_ = {};
  }
  json& operator=(json o) noexcept {
    std::swap(type_, o.type_);
    std::swap(v_, o.v_);
    return *this;
  }
  ~json() { destroy(); }

  // --- type queries -----------------------------------------------------------------------------
  value_t type() const noexcept { return type_; }
  bool is_null() const noexcept { return type_ == value_t::null; }
  bool is_boolean() const noexcept { return type_ == value_t::boolean; }
  bool is_number() const noexcept { return is_number_integer() || is_number_float(); }
  bool is_number_integer() const noexcept {
    return type_ == value_t::number_integer || type_ == value_t::number_unsigned;
  }
  bool is_number_unsigned() const noexcept { return type_ == value_t::number_unsigned; }
  bool is_number_float() const noexcept { return type_ == value_t::number_float; }
  bool is_string() const noexcept { return type_ == value_t::string; }
  bool is_array() const noexcept { return type_ == value_t::array; }
  bool is_object() const noexcept { return type_ == value_t::object; }
  bool is_discarded() const noexcept { return type_ == value_t::discarded; }
  /// "null", "object", "array", "string", "boolean", "number" or "discarded".
  const char* type_name() const noexcept {
    switch (type_) {
      case value_t::null: return "null";
      case value_t::object: return "object";
      case value_t::array: return "array";
      case value_t::string: return "string";
      case value_t::boolean: return "boolean";
      case value_t::discarded: return "discarded";
      default: return "number";
    }
  }

  // --- element access ---------------------------------------------------------------------------
  /// Elements of an array, values of an object (key order), 1 for any other value but null (0).
  size_type size() const noexcept {
    if (is_array()) return v_.array->size();
    if (is_object()) return v_.object->size();
    return is_null() ? 0 : 1;
  }
  bool empty() const noexcept { return size() == 0; }

  json& operator[](std::string_view key) {
    if (is_null()) *this = json(value_t::object);
    if (!is_object())
      throw type_error(305, std::string("cannot use operator[] with a string argument with ") +
                                type_name());
    auto it = v_.object->find(key);
    if (it == v_.object->end()) it = v_.object->emplace(std::string(key), json()).first;
    return it->second;
  }
  json& operator[](const char* key) { return (*this)[std::string_view(key)]; }
  json& operator[](const std::string& key) { return (*this)[std::string_view(key)]; }
  const json& operator[](std::string_view key) const { return at(key); }
  const json& operator[](const char* key) const { return at(std::string_view(key)); }
  const json& operator[](const std::string& key) const { return at(std::string_view(key)); }
  template <std::integral I>
    requires(!std::same_as<I, bool>)
  json& operator[](I index) {
    const auto i = static_cast<size_type>(index);
    if (is_null()) *this = json(value_t::array);
    if (!is_array())
      throw type_error(305, std::string("cannot use operator[] with a numeric argument with ") +
                                type_name());
    if (i >= v_.array->size()) v_.array->resize(i + 1);
    return (*v_.array)[i];
  }
  template <std::integral I>
    requires(!std::same_as<I, bool>)
  const json& operator[](I index) const {
    return at(static_cast<size_type>(index));
  }

  json& at(std::string_view key) { return const_cast<json&>(std::as_const(*this).at(key)); }
  const json& at(std::string_view key) const {
    if (!is_object()) throw type_error(304, std::string("cannot use at() with ") + type_name());
    const auto it = v_.object->find(key);
    if (it == v_.object->end())
      throw out_of_range(403, "key '" + std::string(key) + "' not found");
    return it->second;
  }
  json& at(size_type i) { return const_cast<json&>(std::as_const(*this).at(i)); }
  const json& at(size_type i) const {
    if (!is_array()) throw type_error(304, std::string("cannot use at() with ") + type_name());
    if (i >= v_.array->size())
      throw out_of_range(401, "array index " + std::to_string(i) + " is out of range");
    return (*v_.array)[i];
  }
  bool contains(std::string_view key) const {
    return is_object() && v_.object->find(key) != v_.object->end();
  }
  size_type count(std::string_view key) const { return contains(key) ? 1 : 0; }
  /// at(key).get<T>() if the object has `key`, else `fallback`; throws type_error (306) for a
  /// value that is not an object.
  template <class T>
  T value(std::string_view key, const T& fallback) const {
    if (!is_object())
      throw type_error(306, std::string("cannot use value() with ") + type_name());
    const auto it = v_.object->find(key);
    return it == v_.object->end() ? fallback : it->second.template get<T>();
  }
  std::string value(std::string_view key, const char* fallback) const {
    return value<std::string>(key, std::string(fallback));
  }
  json& front() { return *begin(); }
  const json& front() const { return *begin(); }
  json& back() {
    if (is_array()) return v_.array->back();
    if (is_object()) return std::prev(v_.object->end())->second;
    return *this;
  }
  const json& back() const { return const_cast<json&>(*this).back(); }

  // --- modification -----------------------------------------------------------------------------
  void push_back(json v) {
    if (is_null()) *this = json(value_t::array);
    if (!is_array())
      throw type_error(308, std::string("cannot use push_back() with ") + type_name());
    v_.array->push_back(std::move(v));
  }
  template <class... Args>
  json& emplace_back(Args&&... args) {
    if (is_null()) *this = json(value_t::array);
    if (!is_array())
      throw type_error(311, std::string("cannot use emplace_back() with ") + type_name());
    return v_.array->emplace_back(std::forward<Args>(args)...);
  }
  /// Inserts (key, v) into an object unless the key is present; returns whether it inserted.
  bool emplace(std::string_view key, json v) {
    if (is_null()) *this = json(value_t::object);
    if (!is_object())
      throw type_error(311, std::string("cannot use emplace() with ") + type_name());
    return v_.object->emplace(std::string(key), std::move(v)).second;
  }
  size_type erase(std::string_view key) {
    if (!is_object()) throw type_error(307, std::string("cannot use erase() with ") + type_name());
    const auto it = v_.object->find(key);
    if (it == v_.object->end()) return 0;
    v_.object->erase(it);
    return 1;
  }
  void erase(size_type i) {
    if (!is_array()) throw type_error(307, std::string("cannot use erase() with ") + type_name());
    if (i >= v_.array->size())
      throw out_of_range(401, "array index " + std::to_string(i) + " is out of range");
    v_.array->erase(v_.array->begin() + static_cast<std::ptrdiff_t>(i));
  }
  /// Sets every key of the object `other` in this object (null becomes an object).
  void update(const json& other) {
    if (is_null()) *this = json(value_t::object);
    if (!is_object() || !other.is_object())
      throw type_error(312, std::string("cannot use update() with ") +
                                (is_object() ? other.type_name() : type_name()));
    for (const auto& [k, x] : *other.v_.object) (*v_.object)[k] = x;
  }
  void clear() noexcept {
    switch (type_) {
      case value_t::object: v_.object->clear(); break;
      case value_t::array: v_.array->clear(); break;
      case value_t::string: v_.string->clear(); break;
      case value_t::boolean: v_.boolean = false; break;
      case value_t::number_integer: v_.integer = 0; break;
      case value_t::number_unsigned: v_.unsigned_ = 0; break;
      case value_t::number_float: v_.number = 0.0; break;
      default: break;
    }
  }

  // --- iteration --------------------------------------------------------------------------------
  /// Over an array's elements or an object's values (in key order; key() names the current one);
  /// a primitive value iterates over itself, null over nothing.
  template <bool Const>
  class iter {
    using J = std::conditional_t<Const, const json, json>;
    using AI = std::conditional_t<Const, array_t::const_iterator, array_t::iterator>;
    using OI = std::conditional_t<Const, object_t::const_iterator, object_t::iterator>;

   public:
    using iterator_category = std::bidirectional_iterator_tag;
    using value_type = json;
    using difference_type = std::ptrdiff_t;
    using pointer = J*;
    using reference = J&;

    iter() = default;
    reference operator*() const {
      if (j_->is_array()) return *a_;
      if (j_->is_object()) return o_->second;
      return *j_;
    }
    pointer operator->() const { return &**this; }
    reference value() const { return **this; }
    const std::string& key() const {
      if (!j_->is_object())
        throw invalid_iterator(207, "cannot use key() for non-object iterators");
      return o_->first;
    }
    iter& operator++() {
      if (j_->is_array()) ++a_;
      else if (j_->is_object()) ++o_;
      else ++p_;
      return *this;
    }
    iter operator++(int) {
      iter t = *this;
      ++*this;
      return t;
    }
    iter& operator--() {
      if (j_->is_array()) --a_;
      else if (j_->is_object()) --o_;
      else --p_;
      return *this;
    }
    iter operator--(int) {
      iter t = *this;
      --*this;
      return t;
    }
    friend bool operator==(const iter& x, const iter& y) {
      if (x.j_ != y.j_) return false;
      if (x.j_ == nullptr) return true;
      if (x.j_->is_array()) return x.a_ == y.a_;
      if (x.j_->is_object()) return x.o_ == y.o_;
      return x.p_ == y.p_;
    }
    operator iter<true>() const requires(!Const) { return iter<true>(j_, a_, o_, p_); }

   private:
    friend class json;
    template <bool>
    friend class iter;
    iter(J* j, AI a, OI o, int p) : j_(j), a_(a), o_(o), p_(p) {}
    J* j_ = nullptr;
    AI a_{};
    OI o_{};
    int p_ = 0;
  };
  using iterator = iter<false>;
  using const_iterator = iter<true>;

  iterator begin() { return make_iter<false>(this, true); }
  iterator end() { return make_iter<false>(this, false); }
  const_iterator begin() const { return make_iter<true>(this, true); }
  const_iterator end() const { return make_iter<true>(this, false); }
  /// An object's (key, value) pairs, for `for (auto& [key, value] : j.items())`; throws
  /// type_error (311) for another type (arrays: iterate j itself).
  object_t& items() {
    if (!is_object()) throw type_error(311, std::string("cannot use items() with ") + type_name());
    return *v_.object;
  }
  const object_t& items() const { return const_cast<json&>(*this).items(); }
  iterator find(std::string_view key) {
    if (!is_object()) return end();
    const auto it = v_.object->find(key);
    return iterator(this, {}, it, 0);
  }
  const_iterator find(std::string_view key) const {
    if (!is_object()) return end();
    const auto it = v_.object->find(key);
    return const_iterator(this, {}, it, 0);
  }

  // --- conversion -------------------------------------------------------------------------------
  template <class T>
  T get() const {
    using namespace detail::json_impl;
    if constexpr (std::same_as<T, json>) {
      return *this;
    } else if constexpr (std::same_as<T, bool>) {
      if (!is_boolean()) throw type_mismatch("boolean");
      return v_.boolean;
    } else if constexpr (std::is_arithmetic_v<T>) {
      switch (type_) {
        case value_t::number_integer: return static_cast<T>(v_.integer);
        case value_t::number_unsigned: return static_cast<T>(v_.unsigned_);
        case value_t::number_float: return static_cast<T>(v_.number);
        default: throw type_mismatch("number");
      }
    } else if constexpr (std::same_as<T, std::string>) {
      if (!is_string()) throw type_mismatch("string");
      return *v_.string;
    } else if constexpr (has_adl_from_json<T>) {
      T out{};
      from_json(*this, out);
      return out;
    } else if constexpr (std::is_enum_v<T>) {
      return static_cast<T>(get<std::underlying_type_t<T>>());
    } else if constexpr (key_value_map<T>) {
      if (!is_object()) throw type_mismatch("object");
      T out;
      for (const auto& [k, x] : *v_.object)
        out.emplace(k, x.template get<typename T::mapped_type>());
      return out;
    } else if constexpr (pair_like<T>) {
      if (!is_array()) throw type_mismatch("array");
      return T{at(0).template get<typename T::first_type>(),
               at(1).template get<typename T::second_type>()};
    } else {
      static_assert(sequence<T>, "json::get<T>: unsupported type");
      if (!is_array()) throw type_mismatch("array");
      T out{};
      if constexpr (requires { out.push_back(std::declval<typename T::value_type>()); }) {
        if constexpr (requires { out.reserve(std::size_t{}); }) out.reserve(v_.array->size());
        for (const json& x : *v_.array) out.push_back(x.template get<typename T::value_type>());
      } else if constexpr (requires { out.insert(std::declval<typename T::value_type>()); }) {
        for (const json& x : *v_.array) out.insert(x.template get<typename T::value_type>());
      } else {  // fixed size (std::array)
        if (v_.array->size() != std::size(out))
          throw type_error(302, "array size must be " + std::to_string(std::size(out)) +
                                    ", but is " + std::to_string(v_.array->size()));
        std::size_t i = 0;
        for (auto& e : out)
          e = (*v_.array)[i++].template get<std::remove_cvref_t<decltype(e)>>();
      }
      return out;
    }
  }
  /// A reference to the stored string (the only stored type dphys needs by reference): T is
  /// `const std::string&` or `std::string&`; throws type_error (302) for another type.
  template <class T>
    requires std::same_as<std::remove_cvref_t<T>, std::string> && std::is_reference_v<T>
  T get_ref() const {
    if (!is_string()) throw type_mismatch("string");
    return *v_.string;
  }

  // --- comparison -------------------------------------------------------------------------------
  /// nlohmann's equality: numbers compare by value across integer, unsigned and double (integers
  /// as doubles against a double); arrays element by element; objects key by key.
  friend bool operator==(const json& a, const json& b) {
    if (a.is_number() && b.is_number()) {
      if (a.type_ == b.type_) {
        if (a.type_ == value_t::number_integer) return a.v_.integer == b.v_.integer;
        if (a.type_ == value_t::number_unsigned) return a.v_.unsigned_ == b.v_.unsigned_;
        return a.v_.number == b.v_.number;
      }
      if (a.is_number_float() || b.is_number_float()) return a.as_double() == b.as_double();
      // one signed, one unsigned
      const json& s = a.type_ == value_t::number_integer ? a : b;
      const json& u = a.type_ == value_t::number_integer ? b : a;
      return s.v_.integer >= 0 && static_cast<std::uint64_t>(s.v_.integer) == u.v_.unsigned_;
    }
    if (a.type_ != b.type_) return false;
    switch (a.type_) {
      case value_t::object: return *a.v_.object == *b.v_.object;
      case value_t::array: return *a.v_.array == *b.v_.array;
      case value_t::string: return *a.v_.string == *b.v_.string;
      case value_t::boolean: return a.v_.boolean == b.v_.boolean;
      case value_t::discarded: return false;
      default: return true;  // null
    }
  }

  // --- text -------------------------------------------------------------------------------------
  /// Compact with indent < 0; otherwise `indent` copies of `indent_char` per level. UTF-8 is
  /// written as is, or with ensure_ascii as \uXXXX escapes (surrogate pairs above U+FFFF).
  std::string dump(int indent = -1, char indent_char = ' ', bool ensure_ascii = false,
                   error_handler_t handler = error_handler_t::strict) const {
    std::string out;
    dump_to(out, {indent, indent_char, ensure_ascii, handler}, 0);
    return out;
  }

  /// Parses a whole JSON text. With allow_exceptions = false, returns a discarded value on error.
  static json parse(std::string_view text, std::nullptr_t = nullptr, bool allow_exceptions = true,
                    bool ignore_comments = false);
  /// Parses the rest of the stream (read whole first).
  static json parse(std::istream& in, std::nullptr_t = nullptr, bool allow_exceptions = true,
                    bool ignore_comments = false) {
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    return parse(std::string_view(text), nullptr, allow_exceptions, ignore_comments);
  }
  template <class It>
    requires std::contiguous_iterator<It>
  static json parse(It first, It last, std::nullptr_t = nullptr, bool allow_exceptions = true,
                    bool ignore_comments = false) {
    return parse(std::string_view(std::to_address(first), static_cast<std::size_t>(last - first)),
                 nullptr, allow_exceptions, ignore_comments);
  }

 private:
  class invalid_iterator : public exception {
   public:
    invalid_iterator(int id_, const std::string& msg)
        : exception(id_, "[json.exception.invalid_iterator." + std::to_string(id_) + "] " + msg) {}
  };
  class parser;

  union payload {
    bool boolean;
    std::int64_t integer;
    std::uint64_t unsigned_;
    double number;
    string_t* string;
    array_t* array;
    object_t* object;
  };

  template <bool Const, class J>
  static iter<Const> make_iter(J* j, bool first) {
    if (j->is_array())
      return iter<Const>(j, first ? j->v_.array->begin() : j->v_.array->end(), {}, 0);
    if (j->is_object())
      return iter<Const>(j, {}, first ? j->v_.object->begin() : j->v_.object->end(), 0);
    return iter<Const>(j, {}, {}, (first || j->is_null()) ? 0 : 1);
  }

  type_error type_mismatch(const char* expected) const {
    return type_error(302, std::string("type must be ") + expected + ", but is " + type_name());
  }
  double as_double() const {
    if (type_ == value_t::number_integer) return static_cast<double>(v_.integer);
    if (type_ == value_t::number_unsigned) return static_cast<double>(v_.unsigned_);
    return v_.number;
  }
  void destroy() noexcept {
    switch (type_) {
      case value_t::object: delete v_.object; break;
      case value_t::array: delete v_.array; break;
      case value_t::string: delete v_.string; break;
      default: break;
    }
    type_ = value_t::null;
  }

  template <class I>
  static void append_integer(std::string& out, I value) {
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
  }
  struct dump_options {
    int indent;
    char indent_char;
    bool ensure_ascii;
    error_handler_t handler;
  };
  static void dump_string(std::string& out, std::string_view s, const dump_options& opt);
  static void dump_double(std::string& out, double x);
  void dump_to(std::string& out, const dump_options& opt, int level) const;

  value_t type_ = value_t::null;
  payload v_{};
};

namespace detail::json_impl {

/// Length of the UTF-8 sequence at s[i] (1–4) if it is well formed (no overlongs, no surrogates,
/// at most U+10FFFF), else 0; `cp` receives the code point.
inline int utf8_sequence(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned c = byte(i);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  int n;
  std::uint32_t min;
  if ((c & 0xe0) == 0xc0) {
    n = 2, cp = c & 0x1f, min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3, cp = c & 0x0f, min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + static_cast<std::size_t>(n) > s.size()) return 0;
  for (int k = 1; k < n; ++k) {
    const unsigned b = byte(i + static_cast<std::size_t>(k));
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

// The two-character escapes, both ways: a character and the letter after its backslash.
inline constexpr std::pair<char, char> short_escapes[] = {
    {'"', '"'}, {'\\', '\\'}, {'\b', 'b'}, {'\f', 'f'}, {'\n', 'n'}, {'\r', 'r'}, {'\t', 't'}};

/// The letter after the backslash of c's two-character escape, or 0 if it has none.
constexpr char escape_letter(char c) {
  for (const auto& [ch, letter] : short_escapes)
    if (ch == c) return letter;
  return 0;
}

/// The character a two-character escape stands for ('/' included, which is never written), or 0.
constexpr char unescaped(char letter) {
  if (letter == '/') return '/';
  for (const auto& [ch, l] : short_escapes)
    if (l == letter) return ch;
  return 0;
}

inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

}  // namespace detail::json_impl

inline void json::dump_string(std::string& out, std::string_view s, const dump_options& opt) {
  const auto escape_u = [&](std::uint32_t unit) {  // \uxxxx, lowercase hex as nlohmann writes it
    static constexpr char hex[] = "0123456789abcdef";
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += hex[(unit >> shift) & 15];
  };
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    std::size_t plain = i;  // a run of printable ASCII without '"' and '\' is copied as is
    while (plain < s.size()) {
      const auto u = static_cast<unsigned char>(s[plain]);
      if (u < 0x20 || u >= 0x80 || u == '"' || u == '\\') break;
      ++plain;
    }
    out.append(s.substr(i, plain - i));
    if ((i = plain) == s.size()) break;
    const auto u = static_cast<unsigned char>(s[i]);
    if (u >= 0x80) {
      std::uint32_t cp;
      const int n = detail::json_impl::utf8_sequence(s, i, cp);
      if (n == 0) {
        if (opt.handler == error_handler_t::strict) {
          static constexpr char upper[] = "0123456789ABCDEF";
          throw type_error(316, "invalid UTF-8 byte at index " + std::to_string(i) + ": 0x" +
                                    upper[u >> 4] + upper[u & 15]);
        }
        if (opt.ensure_ascii)
          escape_u(0xfffd);
        else
          out += "\xef\xbf\xbd";  // U+FFFD
        ++i;
        continue;
      }
      if (!opt.ensure_ascii) {
        out.append(s.substr(i, static_cast<std::size_t>(n)));
      } else if (cp < 0x10000) {
        escape_u(cp);
      } else {
        escape_u(0xd800 + ((cp - 0x10000) >> 10));
        escape_u(0xdc00 + ((cp - 0x10000) & 0x3ff));
      }
      i += static_cast<std::size_t>(n);
      continue;
    }
    if (const char letter = detail::json_impl::escape_letter(s[i])) {
      out += '\\';
      out += letter;
    } else {  // another control character
      escape_u(u);
    }
    ++i;
  }
  out += '"';
}

inline void json::dump_double(std::string& out, double x) {
  if (!std::isfinite(x)) {
    out += "null";
    return;
  }
  if (std::signbit(x)) {
    out += '-';
    x = -x;
  }
  if (x == 0) {
    out += "0.0";
    return;
  }
  // Shortest round-trip digits d1.d2...dk e E, then nlohmann's layout (its format_buffer): with
  // n = E + 1 the position of the decimal point, fixed notation for -4 < n <= 15, else d.ddde±XX.
  char sci[32];
  const char* const end =
      std::to_chars(sci, sci + sizeof sci, x, std::chars_format::scientific).ptr;
  const char* e_pos = sci;  // scientific form always has an 'e'
  while (*e_pos != 'e') ++e_pos;
  char digits[24];
  std::size_t k = 0;
  for (const char* c = sci; c != e_pos; ++c)
    if (*c != '.') digits[k++] = *c;
  const std::string_view d(digits, k);
  int exponent = 0;
  std::from_chars(e_pos + (e_pos[1] == '+' ? 2 : 1), end, exponent);
  const int n = exponent + 1;
  const int ki = static_cast<int>(k);
  if (ki <= n && n <= 15) {
    out += d;
    out.append(static_cast<std::size_t>(n - ki), '0');
    out += ".0";
  } else if (0 < n && n <= 15) {
    out += d.substr(0, static_cast<std::size_t>(n));
    out += '.';
    out += d.substr(static_cast<std::size_t>(n));
  } else if (-4 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += d;
  } else {
    out += d[0];
    if (k > 1) {
      out += '.';
      out += d.substr(1);
    }
    const int e = n - 1;
    out += e < 0 ? "e-" : "e+";
    if (e > -10 && e < 10) out += '0';
    append_integer(out, e < 0 ? -e : e);
  }
}

inline void json::dump_to(std::string& out, const dump_options& opt, int level) const {
  const bool pretty = opt.indent >= 0;
  const auto newline = [&](int l) {
    out += '\n';
    out.append(static_cast<std::size_t>(opt.indent) * static_cast<std::size_t>(l), opt.indent_char);
  };
  // An object's or array's elements between `open` and `close`, one per line when pretty.
  const auto container = [&](char open, char close, const auto& elements, const auto& element) {
    out += open;
    bool first = true;
    for (const auto& e : elements) {
      if (!first) out += ',';
      first = false;
      if (pretty) newline(level + 1);
      element(e);
    }
    if (pretty && !first) newline(level);
    out += close;
  };
  switch (type_) {
    case value_t::object:
      container('{', '}', *v_.object, [&](const auto& member) {
        dump_string(out, member.first, opt);
        out += pretty ? ": " : ":";
        member.second.dump_to(out, opt, level + 1);
      });
      return;
    case value_t::array:
      container('[', ']', *v_.array, [&](const json& x) {
        x.dump_to(out, opt, level + 1);
      });
      return;
    case value_t::string: dump_string(out, *v_.string, opt); return;
    case value_t::boolean: out += v_.boolean ? "true" : "false"; return;
    case value_t::number_integer: append_integer(out, v_.integer); return;
    case value_t::number_unsigned: append_integer(out, v_.unsigned_); return;
    case value_t::number_float: dump_double(out, v_.number); return;
    case value_t::discarded: out += "<discarded>"; return;
    default: out += "null"; return;
  }
}

/// Recursive descent over a string_view; the depth limit bounds the recursion.
class json::parser {
 public:
  parser(std::string_view s, bool comments) : s_(s), comments_(comments) {}

  json run() {
    skip_space();
    json v = value(0);
    skip_space();
    if (i_ < s_.size())
      fail("syntax error while parsing value - unexpected content after the value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    std::size_t line = 1, col = 1;
    for (std::size_t k = 0; k < i_ && k < s_.size(); ++k) {
      if (s_[k] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw parse_error(101, i_ + 1,
                      "parse error at line " + std::to_string(line) + ", column " +
                          std::to_string(col) + ": " + what);
  }
  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[i_]; }

  void skip_space() {
    while (!at_end()) {
      const char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i_;
      } else if (comments_ && c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '/') {
        while (!at_end() && s_[i_] != '\n') ++i_;
      } else if (comments_ && c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '*') {
        const std::size_t end = s_.find("*/", i_ + 2);
        if (end == std::string_view::npos) fail("syntax error - unterminated comment");
        i_ = end + 2;
      } else {
        return;
      }
    }
  }

  json value(int depth) {
    if (depth >= max_depth)
      fail("syntax error - nesting deeper than " + std::to_string(max_depth) + " levels");
    switch (peek()) {
      case '{': return object(depth);
      case '[': return array(depth);
      case '"': return json(string());
      case 't': literal("true"); return json(true);
      case 'f': literal("false"); return json(false);
      case 'n': literal("null"); return json();
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return number();
        if (at_end()) fail("syntax error while parsing value - unexpected end of input");
        fail("syntax error while parsing value - invalid literal");
    }
  }

  void literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word)
      fail("syntax error while parsing value - invalid literal");
    i_ += word.size();
  }

  // The elements of the object or array opening at i_, up to `close`, comma-separated, each read
  // by `element` (which starts on the element's first character).
  template <class Element>
  void elements(char close, const char* what, Element element) {
    ++i_;  // '{' or '['
    skip_space();
    if (peek() == close) {
      ++i_;
      return;
    }
    while (true) {
      skip_space();
      element();
      skip_space();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      if (peek() == close) {
        ++i_;
        return;
      }
      fail(std::string("syntax error while parsing ") + what + " - expected ',' or '" + close +
           "'");
    }
  }

  json object(int depth) {
    json out(value_t::object);
    elements('}', "object", [&] {
      if (peek() != '"') fail("syntax error while parsing object key - expected string literal");
      std::string key = string();
      skip_space();
      if (peek() != ':') fail("syntax error while parsing object separator - expected ':'");
      ++i_;
      skip_space();
      (*out.v_.object)[std::move(key)] = value(depth + 1);
    });
    return out;
  }

  json array(int depth) {
    json out(value_t::array);
    elements(']', "array", [&] { out.v_.array->push_back(value(depth + 1)); });
    return out;
  }

  std::uint32_t hex4() {
    if (i_ + 4 > s_.size())
      fail("syntax error while parsing value - '\\u' must be followed by 4 hex digits");
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
      else {
        --i_;
        fail("syntax error while parsing value - '\\u' must be followed by 4 hex digits");
      }
    }
    return v;
  }

  std::string string() {
    ++i_;  // '"'
    std::string out;
    while (true) {
      if (at_end()) fail("syntax error while parsing value - missing closing quote");
      const char c = s_[i_];
      const auto u = static_cast<unsigned char>(c);
      if (c == '"') {
        ++i_;
        return out;
      }
      if (u < 0x20) fail("syntax error while parsing value - control character must be escaped");
      if (u >= 0x80) {
        std::uint32_t cp;
        const int n = detail::json_impl::utf8_sequence(s_, i_, cp);
        if (n == 0) fail("syntax error while parsing value - invalid UTF-8 byte");
        out.append(s_.substr(i_, static_cast<std::size_t>(n)));
        i_ += static_cast<std::size_t>(n);
        continue;
      }
      ++i_;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_end()) fail("syntax error while parsing value - missing closing quote");
      const char e = s_[i_++];
      if (const char ch = detail::json_impl::unescaped(e)) {
        out += ch;
        continue;
      }
      if (e != 'u') {
        --i_;
        fail("syntax error while parsing value - invalid escape");
      }
      std::uint32_t cp = hex4();
      if (cp >= 0xdc00 && cp <= 0xdfff)
        fail("syntax error while parsing value - lone low surrogate in '\\u' escape");
      if (cp >= 0xd800 && cp <= 0xdbff) {
        if (s_.substr(i_, 2) != "\\u")
          fail("syntax error while parsing value - high surrogate not followed by a low one");
        i_ += 2;
        const std::uint32_t lo = hex4();
        if (lo < 0xdc00 || lo > 0xdfff)
          fail("syntax error while parsing value - high surrogate not followed by a low one");
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      }
      detail::json_impl::append_utf8(out, cp);
    }
  }

  json number() {
    const std::size_t start = i_;
    const auto digit = [&] { return !at_end() && s_[i_] >= '0' && s_[i_] <= '9'; };
    const bool negative = peek() == '-';
    if (negative) ++i_;
    if (!digit())
      fail("syntax error while parsing value - invalid number; expected digit after '-'");
    if (s_[i_] == '0') {
      ++i_;
      if (digit()) fail("syntax error while parsing value - invalid number; leading zero");
    } else {
      while (digit()) ++i_;
    }
    bool integer = true;
    if (peek() == '.') {
      integer = false;
      ++i_;
      if (!digit())
        fail("syntax error while parsing value - invalid number; expected digit after '.'");
      while (digit()) ++i_;
    }
    if (peek() == 'e' || peek() == 'E') {
      integer = false;
      ++i_;
      if (peek() == '+' || peek() == '-') ++i_;
      if (!digit())
        fail("syntax error while parsing value - invalid number; expected digit in exponent");
      while (digit()) ++i_;
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + i_;
    if (integer) {
      if (negative) {
        std::int64_t v = 0;
        if (std::from_chars(first, last, v).ec == std::errc{}) return json(v);
      } else {
        std::uint64_t v = 0;
        if (std::from_chars(first, last, v).ec == std::errc{}) return json(v);
      }
    }
    double d = 0;
    const auto r = std::from_chars(first, last, d);
    if (r.ec == std::errc::result_out_of_range) {
      // Out of double's range: overflow (an error, as in nlohmann) or underflow to zero. The
      // magnitude is 10^(position of the first nonzero digit + exponent).
      const std::string_view t(first, static_cast<std::size_t>(last - first));
      const std::size_t e_pos = t.find_first_of("eE");
      long long e = 0;
      if (e_pos != std::string_view::npos) {
        std::string_view es = t.substr(e_pos + 1);
        if (!es.empty() && es[0] == '+') es.remove_prefix(1);
        if (std::from_chars(es.data(), es.data() + es.size(), e).ec != std::errc{})
          e = es.starts_with('-') ? -100000 : 100000;
      }
      const std::string_view mant = t.substr(0, e_pos);
      const std::size_t dot = mant.find('.');
      const std::size_t int_end = dot == std::string_view::npos ? mant.size() : dot;
      const std::size_t nz = mant.find_first_of("123456789");
      const long long first_digit_pos =
          nz < int_end ? static_cast<long long>(int_end - nz) - 1
                       : -static_cast<long long>(nz - int_end);
      if (first_digit_pos + e > 0) {
        i_ = start;
        fail("number overflow parsing '" + std::string(t) + "'");
      }
      d = negative ? -0.0 : 0.0;
    } else if (r.ec != std::errc{}) {
      i_ = start;
      fail("syntax error while parsing value - invalid number");
    }
    return json(d);
  }

  std::string_view s_;
  bool comments_;
  std::size_t i_ = 0;
};

inline json json::parse(std::string_view text, std::nullptr_t, bool allow_exceptions,
                        bool ignore_comments) {
  if (allow_exceptions) return parser(text, ignore_comments).run();
  try {
    return parser(text, ignore_comments).run();
  } catch (const parse_error&) {
    return json(value_t::discarded);
  }
}

}  // namespace dphys
