// dphys/core/reflect.hpp — DPHYS_ADAPT_STRUCT(type, field...): reflects an aggregate for dphys's
// config machinery (and for Boost.Hana: the type becomes a hana::Struct, as with
// BOOST_HANA_ADAPT_STRUCT, whose results it has), at a fraction of the compile cost.
#pragma once

#include <cstddef>
#include <utility>

#include <boost/hana/accessors.hpp>
#include <boost/hana/pair.hpp>
#include <boost/hana/string.hpp>
#include <boost/hana/tuple.hpp>

namespace dphys::detail {

// A field name as a template argument.
template <std::size_t N>
struct name_literal {
  char chars[N];
  constexpr name_literal(const char (&text)[N]) {  // NOLINT: implicit on purpose
    for (std::size_t i = 0; i < N; ++i) chars[i] = text[i];
  }
};

template <name_literal Name, std::size_t... I>
boost::hana::string<Name.chars[I]...> hana_string_of(std::index_sequence<I...>);

/// hana::string<'w', 'i', 'd', 't', 'h'> for "width": one instantiation per name (Hana's macro
/// rebuilds the tuple of all names once per character).
template <name_literal Name>
using hana_name =
    decltype(hana_string_of<Name>(std::make_index_sequence<sizeof(Name.chars) - 1>{}));

/// Reads the member `Member` of an object, keeping its constness and value category.
template <class MemberPointer, MemberPointer Member>
struct member_accessor {
  template <class T>
  constexpr decltype(auto) operator()(T&& object) const {
    return static_cast<T&&>(object).*Member;
  }
};

}  // namespace dphys::detail

// Preprocessor plumbing: count the fields, apply a macro to each (generated lists).
// clang-format off
#define DPHYS_DETAIL_PP_NARG(...) \
  DPHYS_DETAIL_PP_NARG_I(__VA_ARGS__, 64, 63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, )
#define DPHYS_DETAIL_PP_NARG_I(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19, a20, a21, a22, a23, a24, a25, a26, a27, a28, a29, a30, a31, a32, a33, a34, a35, a36, a37, a38, a39, a40, a41, a42, a43, a44, a45, a46, a47, a48, a49, a50, a51, a52, a53, a54, a55, a56, a57, a58, a59, a60, a61, a62, a63, a64, n, ...) n
#define DPHYS_DETAIL_PP_CAT(a, b) DPHYS_DETAIL_PP_CAT_I(a, b)
#define DPHYS_DETAIL_PP_CAT_I(a, b) a##b
#define DPHYS_DETAIL_PP_MAP_1(f, t, x) f(t, x)
#define DPHYS_DETAIL_PP_MAP_2(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_1(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_3(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_2(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_4(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_3(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_5(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_4(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_6(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_5(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_7(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_6(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_8(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_7(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_9(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_8(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_10(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_9(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_11(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_10(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_12(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_11(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_13(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_12(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_14(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_13(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_15(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_14(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_16(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_15(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_17(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_16(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_18(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_17(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_19(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_18(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_20(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_19(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_21(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_20(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_22(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_21(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_23(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_22(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_24(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_23(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_25(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_24(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_26(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_25(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_27(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_26(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_28(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_27(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_29(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_28(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_30(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_29(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_31(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_30(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_32(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_31(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_33(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_32(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_34(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_33(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_35(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_34(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_36(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_35(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_37(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_36(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_38(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_37(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_39(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_38(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_40(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_39(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_41(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_40(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_42(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_41(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_43(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_42(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_44(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_43(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_45(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_44(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_46(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_45(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_47(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_46(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_48(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_47(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_49(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_48(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_50(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_49(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_51(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_50(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_52(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_51(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_53(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_52(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_54(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_53(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_55(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_54(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_56(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_55(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_57(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_56(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_58(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_57(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_59(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_58(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_60(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_59(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_61(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_60(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_62(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_61(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_63(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_62(f, t, __VA_ARGS__)
#define DPHYS_DETAIL_PP_MAP_64(f, t, x, ...) f(t, x), DPHYS_DETAIL_PP_MAP_63(f, t, __VA_ARGS__)
// clang-format on

#define DPHYS_DETAIL_REFLECT_FIELD(TYPE, m)                   \
  ::boost::hana::pair<::dphys::detail::hana_name<#m>,         \
                      ::dphys::detail::member_accessor<decltype(&TYPE::m), &TYPE::m>>

/// Reflects the aggregate TYPE (a fully qualified name, at global scope) with its fields, in
/// declaration order, up to 64 fields: `DPHYS_ADAPT_STRUCT(my::config, width, height);`. The same
/// as BOOST_HANA_ADAPT_STRUCT for dphys and for Hana (a hana::Struct whose accessors are pairs of a
/// hana::string name and an accessor function), cheaper to compile: dphys reads the fields from the
/// type `dphys_fields` without instantiating Hana's tuple, which only Hana's own algorithms build.
#define DPHYS_ADAPT_STRUCT(TYPE, ...)                                                       \
  namespace boost::hana {                                                                  \
  template <>                                                                              \
  struct accessors_impl<TYPE> {                                                            \
    using dphys_fields = ::boost::hana::tuple<DPHYS_DETAIL_PP_CAT(                         \
        DPHYS_DETAIL_PP_MAP_, DPHYS_DETAIL_PP_NARG(__VA_ARGS__))(DPHYS_DETAIL_REFLECT_FIELD, \
                                                                  TYPE, __VA_ARGS__)>;     \
    template <class Fields = dphys_fields>                                                 \
    static constexpr Fields apply() {                                                      \
      return Fields{};                                                                     \
    }                                                                                      \
  };                                                                                       \
  }                                                                                        \
  static_assert(true, "DPHYS_ADAPT_STRUCT: ends with a semicolon")
